"""GRU kernels in all reset modes: float64 reference, finite differences, awkward cases."""

import numpy as np
import pytest

from gradcheck import assert_gradient_close, numerical_gradient
from lstmkit._packing import PackedBatch
from lstmkit.kernels.gru import AFTER, BEFORE, gru_backward, gru_forward
import reference

GATE = {"sigmoid": 0, "hard-sigmoid": 1}
STATE = {"tanh": 0, "softsign": 1}
MODES = {"after": AFTER, "before": BEFORE}


def problem(rng, C, H, lengths, recurrent_bias, scale=0.5):
    xs = [rng.standard_normal((C, T)) for T in lengths]
    W = scale * rng.standard_normal((3 * H, C))
    R = scale * rng.standard_normal((3 * H, H))
    b = scale * rng.standard_normal(3 * H)
    bR = scale * rng.standard_normal(3 * H) if recurrent_bias else np.zeros(3 * H)
    h0 = 0.5 * rng.standard_normal((H, len(lengths)))
    return xs, W, R, b, bR, h0


def run(xs, W, R, b, bR, h0, mode, gate, state, dYs=None, dhT=None, train=True, block=64,
        nthreads=2):
    batch = PackedBatch([x.shape[1] for x in xs])
    H = R.shape[1]
    x = batch.pack(xs, W.dtype)
    h = np.ascontiguousarray(batch.to_sorted_order(h0.T))
    h_init = h.copy()
    S = batch.num_rows
    gates = np.empty((S if train else 0, 3 * H))
    aux = np.empty((S if train else 0, H))
    hidden = np.empty((S, H))
    chunks = batch.chunks(nthreads)
    gru_forward(x, W, R, b, bR, h, batch.batch_sizes, GATE[gate], STATE[state], MODES[mode],
                gates, aux, hidden, block, chunks)
    out = dict(Y=batch.unpack(hidden), hT=batch.to_caller_order(h).T)
    if dYs is not None:
        dh = np.ascontiguousarray(batch.to_sorted_order(dhT.T))
        grads = dict(W=np.empty_like(W), R=np.empty_like(R), b=np.empty_like(b),
                     bR=np.empty_like(bR), x=np.empty_like(x))
        gru_backward(x, W, R, bR, h_init, batch.batch_sizes, GATE[gate], STATE[state],
                     MODES[mode], gates, aux, hidden, batch.pack(dYs, W.dtype), dh, grads["W"],
                     grads["R"], grads["b"], grads["bR"], grads["x"], chunks)
        grads["xs"] = batch.unpack(grads.pop("x"))
        grads["h0"] = batch.to_caller_order(dh).T
        out["grads"] = grads
    return out


def ref(xs, W, R, b, bR, h0, mode, gate, state):
    outs = [reference.gru_sequence(x, W, R, b, bR, h0[:, n], mode, gate, state)
            for n, x in enumerate(xs)]
    return [o[0] for o in outs], np.stack([o[1] for o in outs], 1)


CASES = [(3, 4, [5, 3, 1]), (1, 1, [1]), (2, 3, [3, 8, 1, 5]), (4, 2, [6])]
MODE_CASES = [("after", False), ("after", True), ("before", False)]


@pytest.mark.parametrize("gate,state", [("sigmoid", "tanh"), ("hard-sigmoid", "softsign")])
@pytest.mark.parametrize("mode,rbias", MODE_CASES)
@pytest.mark.parametrize("C,H,lengths", CASES)
def test_forward_and_gradients(rng, C, H, lengths, mode, rbias, gate, state):
    xs, W, R, b, bR, h0 = problem(rng, C, H, lengths, rbias)
    dYs = [rng.standard_normal((H, x.shape[1])) for x in xs]
    dhT = rng.standard_normal((H, len(lengths)))
    out = run(xs, W, R, b, bR, h0, mode, gate, state, dYs, dhT)
    Yr, hr = ref(xs, W, R, b, bR, h0, mode, gate, state)
    for y, yr in zip(out["Y"], Yr):
        np.testing.assert_allclose(y, yr, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(out["hT"], hr, rtol=1e-12, atol=1e-14)

    def loss():
        Y, hT = ref(xs, W, R, b, bR, h0, mode, gate, state)
        return sum(np.sum(y * d) for y, d in zip(Y, dYs)) + np.sum(hT * dhT)

    g = out["grads"]
    params = [("W", W), ("R", R), ("b", b), ("h0", h0)] + ([("bR", bR)] if rbias else [])
    for name, arr in params:
        assert_gradient_close(g[name], numerical_gradient(loss, arr), name=name)
    for n, x in enumerate(xs):
        assert_gradient_close(g["xs"][n], numerical_gradient(loss, x), name=f"x[{n}]")


@pytest.mark.parametrize("mode,rbias", MODE_CASES)
@pytest.mark.parametrize("block", [1, 3, 64])
def test_prediction_mode_matches_training_mode(rng, mode, rbias, block):
    args = problem(rng, 3, 4, [9, 2, 6, 6], rbias)
    a = run(*args, mode, "sigmoid", "tanh", nthreads=1)
    b = run(*args, mode, "sigmoid", "tanh", train=False, block=block, nthreads=3)
    # the same arithmetic, but the input projection is one GEMM or several
    np.testing.assert_allclose(a["hT"], b["hT"], rtol=1e-13, atol=1e-15)
    for y, z in zip(a["Y"], b["Y"]):
        np.testing.assert_allclose(y, z, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("mode,rbias", MODE_CASES)
def test_saturated_and_float32(rng, mode, rbias):
    xs, W, R, b, bR, h0 = problem(rng, 3, 4, [6, 3], rbias, scale=40.0)
    out = run(xs, W, R, b, bR, h0, mode, "sigmoid", "tanh",
              [np.ones((4, x.shape[1])) for x in xs], np.ones((4, 2)))
    Yr, _ = ref(xs, W, R, b, bR, h0, mode, "sigmoid", "tanh")
    for y, yr in zip(out["Y"], Yr):
        np.testing.assert_allclose(y, yr, rtol=1e-12, atol=1e-14)
    assert all(np.all(np.isfinite(v)) for k, v in out["grads"].items() if k != "xs")
    xs32 = [x.astype(np.float32) for x in xs]
    batch = PackedBatch([x.shape[1] for x in xs32])
    h = np.zeros((2, 4), np.float32)
    hidden = np.empty((batch.num_rows, 4), np.float32)
    gru_forward(batch.pack(xs32, np.float32), W.astype(np.float32), R.astype(np.float32),
                b.astype(np.float32), bR.astype(np.float32), h, batch.batch_sizes, 0, 0,
                MODES[mode], np.empty((0, 12), np.float32), np.empty((0, 4), np.float32), hidden, 8,
                batch.chunks(2))
    assert np.all(np.isfinite(hidden))
