"""LSTM kernels: float64 reference, finite differences, awkward cases."""

import numpy as np
import pytest

from gradcheck import assert_gradient_close, numerical_gradient
from lstmkit._packing import PackedBatch
from lstmkit.kernels import _config
from lstmkit.kernels.lstm import (lstm_backward, lstm_backward_units, lstm_forward_predict,
                                  lstm_forward_predict_units, lstm_forward_train,
                                  lstm_forward_train_units, unit_parts)
import reference

GATE_CODES = {"sigmoid": _config.GATE_SIGMOID, "hard-sigmoid": _config.GATE_HARD_SIGMOID}
STATE_CODES = {"tanh": _config.STATE_TANH, "softsign": _config.STATE_SOFTSIGN}

CASES = [  # (C, H, lengths)
    (3, 4, [5, 3, 1]),
    (1, 1, [1]),
    (2, 3, [1, 1]),
    (4, 2, [7]),
    (3, 5, [4, 4, 2, 6]),
    (2, 1, [3, 8, 1, 5]),
]
ACTIVATIONS = [("sigmoid", "tanh"), ("hard-sigmoid", "tanh"), ("sigmoid", "softsign"),
               ("hard-sigmoid", "softsign")]


def make_problem(rng, C, H, lengths, scale=0.5, dtype=np.float64):
    xs = [rng.standard_normal((C, T)).astype(dtype) for T in lengths]
    W = (scale * rng.standard_normal((4 * H, C))).astype(dtype)
    R = (scale * rng.standard_normal((4 * H, H))).astype(dtype)
    b = (scale * rng.standard_normal(4 * H)).astype(dtype)
    h0 = (0.5 * rng.standard_normal((H, len(lengths)))).astype(dtype)
    c0 = (0.5 * rng.standard_normal((H, len(lengths)))).astype(dtype)
    return xs, W, R, b, h0, c0


def unit_split(H, split):
    """No split (rows over threads), or the hidden units in ``split`` parts."""
    return np.empty(0, np.int64) if split is None else unit_parts(H, split)


def kernel_forward(xs, W, R, b, h0, c0, gate, state, P=None, coupled=False, nthreads=2,
                   split=None):
    dtype = W.dtype
    P = np.empty(0, dtype) if P is None else P
    batch = PackedBatch([x.shape[1] for x in xs])
    H = R.shape[1]
    x = batch.pack(xs, dtype)
    h = np.ascontiguousarray(batch.to_sorted_order(h0.T), dtype)
    c = np.ascontiguousarray(batch.to_sorted_order(c0.T), dtype)
    S = batch.num_rows
    gates = np.empty((S, 4 * H), dtype)
    cell = np.empty((S, H), dtype)
    hidden = np.empty((S, H), dtype)
    chunks = batch.chunks(nthreads)
    parts = unit_split(H, split)
    saved = dict(batch=batch, x=x, h0=h.copy(), c0=c.copy(), gates=gates, cell=cell, hidden=hidden,
                 P=P, coupled=coupled, chunks=chunks, parts=parts)
    args = (x, W, R, b, P, h, c, batch.batch_sizes, GATE_CODES[gate], STATE_CODES[state],
            coupled, gates, cell, hidden, chunks)
    if split is None:
        lstm_forward_train(*args)
    else:
        lstm_forward_train_units(*args, parts)
    Ys = batch.unpack(hidden)
    return Ys, batch.to_caller_order(h).T, batch.to_caller_order(c).T, saved


def kernel_backward(saved, W, R, gate, state, dYs, dhT, dcT):
    batch = saved["batch"]
    dtype = W.dtype
    dhidden = batch.pack(dYs, dtype)
    dh = np.ascontiguousarray(batch.to_sorted_order(dhT.T), dtype)
    dc = np.ascontiguousarray(batch.to_sorted_order(dcT.T), dtype)
    dW, dR, db = np.empty_like(W), np.empty_like(R), np.empty(R.shape[0], dtype)
    dx = np.empty_like(saved["x"])
    dP = np.empty_like(saved["P"])
    args = (saved["x"], W, R, saved["P"], saved["h0"], saved["c0"], batch.batch_sizes,
            GATE_CODES[gate], STATE_CODES[state], saved["coupled"], saved["gates"].copy(),
            saved["cell"], saved["hidden"], dhidden, dh, dc, dW, dR, db, dP, dx, saved["chunks"])
    if len(saved["parts"]):
        lstm_backward_units(*args, saved["parts"])
    else:
        lstm_backward(*args)
    return dict(W=dW, R=dR, b=db, P=dP, xs=batch.unpack(dx), h0=batch.to_caller_order(dh).T,
                c0=batch.to_caller_order(dc).T)


def reference_forward(xs, W, R, b, h0, c0, gate, state, P=None, coupled=False):
    outs = [reference.lstm_sequence(x, W, R, b, h0[:, n], c0[:, n], gate, state, P, coupled)
            for n, x in enumerate(xs)]
    return [o[0] for o in outs], np.stack([o[1] for o in outs], 1), np.stack([o[2] for o in outs], 1)


@pytest.mark.parametrize("split", [None, 2, 3])
@pytest.mark.parametrize("gate,state", ACTIVATIONS)
@pytest.mark.parametrize("C,H,lengths", CASES)
def test_forward_matches_reference(rng, C, H, lengths, gate, state, split):
    problem = make_problem(rng, C, H, lengths)
    Ys, hT, cT, _ = kernel_forward(*problem, gate, state, split=split)
    Yr, hr, cr = reference_forward(*problem, gate, state)
    for y, yr in zip(Ys, Yr):
        np.testing.assert_allclose(y, yr, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(hT, hr, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(cT, cr, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("split", [None, 2])
@pytest.mark.parametrize("gate,state", ACTIVATIONS)
@pytest.mark.parametrize("C,H,lengths", CASES)
def test_backward_matches_finite_differences(rng, C, H, lengths, gate, state, split):
    xs, W, R, b, h0, c0 = make_problem(rng, C, H, lengths)
    dYs = [rng.standard_normal(x.shape[:0] + (H, x.shape[1])) for x in xs]
    dhT = rng.standard_normal((H, len(lengths)))
    dcT = rng.standard_normal((H, len(lengths)))

    def loss():
        Yr, hr, cr = reference_forward(xs, W, R, b, h0, c0, gate, state)
        return sum(np.sum(y * d) for y, d in zip(Yr, dYs)) + np.sum(hr * dhT) + np.sum(cr * dcT)

    _, _, _, saved = kernel_forward(xs, W, R, b, h0, c0, gate, state, split=split)
    grads = kernel_backward(saved, W, R, gate, state, dYs, dhT, dcT)
    for name, arr in [("W", W), ("R", R), ("b", b), ("h0", h0), ("c0", c0)]:
        assert_gradient_close(grads[name], numerical_gradient(loss, arr), rtol=1e-6, atol=1e-8,
                              name=name)
    for n, x in enumerate(xs):
        assert_gradient_close(grads["xs"][n], numerical_gradient(loss, x), rtol=1e-6, atol=1e-8,
                              name=f"x[{n}]")


@pytest.mark.parametrize("split", [None, 3])
@pytest.mark.parametrize("nthreads", [1, 2, 3, 5])
@pytest.mark.parametrize("block", [1, 2, 3, 1000])
@pytest.mark.parametrize("store", [True, False])
def test_predict_kernel_matches_train_kernel(rng, block, store, nthreads, split):
    xs, W, R, b, h0, c0 = make_problem(rng, 3, 4, [6, 2, 9, 1, 9])
    Ys, hT, cT, saved = kernel_forward(xs, W, R, b, h0, c0, "sigmoid", "tanh", nthreads=1)
    batch = saved["batch"]
    h, c = saved["h0"].copy(), saved["c0"].copy()
    hidden = np.empty((batch.num_rows if store else 0, 4), np.float64)
    args = (saved["x"], W, R, b, np.empty(0), h, c, batch.batch_sizes, 0, 0, False, hidden, block,
            batch.chunks(nthreads))
    if split is None:
        lstm_forward_predict(*args)
    else:
        lstm_forward_predict_units(*args, unit_split(4, split))
    tight = dict(rtol=1e-13, atol=1e-15)  # blocked input projection: same math, other GEMM sizes
    np.testing.assert_allclose(batch.to_caller_order(h).T, hT, **tight)
    np.testing.assert_allclose(batch.to_caller_order(c).T, cT, **tight)
    if store:
        for y, yr in zip(batch.unpack(hidden), Ys):
            np.testing.assert_allclose(y, yr, **tight)


@pytest.mark.parametrize("gate,state", ACTIVATIONS)
def test_float32_kernel_close_to_float64_reference(rng, gate, state):
    problem64 = make_problem(rng, 5, 8, [12, 7, 3])
    problem32 = [[x.astype(np.float32) for x in problem64[0]]] + [
        a.astype(np.float32) for a in problem64[1:]]
    Ys, hT, cT, saved = kernel_forward(*problem32, gate, state)
    assert all(y.dtype == np.float32 for y in Ys)
    Yr, hr, cr = reference_forward(*problem64, gate, state)
    for y, yr in zip(Ys, Yr):
        np.testing.assert_allclose(y, yr, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(cT, cr, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("gate,state", ACTIVATIONS)
def test_saturated_gates_stay_finite_and_exact(rng, gate, state):
    """Preactivations around +-100: outputs and gradients finite and correct."""
    xs, W, R, b, h0, c0 = make_problem(rng, 3, 4, [6, 3], scale=40.0)
    Ys, hT, cT, saved = kernel_forward(xs, W, R, b, h0, c0, gate, state)
    Yr, hr, cr = reference_forward(xs, W, R, b, h0, c0, gate, state)
    for y, yr in zip(Ys, Yr):
        np.testing.assert_allclose(y, yr, rtol=1e-12, atol=1e-14)
    dYs = [np.ones((4, x.shape[1])) for x in xs]
    grads = kernel_backward(saved, W, R, gate, state, dYs, np.ones((4, 2)), np.ones((4, 2)))
    for g in [grads["W"], grads["R"], grads["b"], *grads["xs"]]:
        assert np.all(np.isfinite(g))
    # float32 too: no overflow in exp for large negative preactivations
    p32 = [[x.astype(np.float32) for x in xs]] + [a.astype(np.float32) for a in (W, R, b, h0, c0)]
    Y32, _, _, _ = kernel_forward(*p32, gate, state)
    assert all(np.all(np.isfinite(y)) for y in Y32)


def test_zero_weights_golden_values():
    """With zero weights and bias every gate is 0.5 and g = 0: c halves each step."""
    H, C = 3, 2
    W = np.zeros((4 * H, C)); R = np.zeros((4 * H, H)); b = np.zeros(4 * H)
    h0 = np.zeros((H, 1)); c0 = np.full((H, 1), 8.0)
    Ys, hT, cT, _ = kernel_forward([np.ones((C, 3))], W, R, b, h0, c0, "sigmoid", "tanh")
    np.testing.assert_allclose(cT[:, 0], 1.0)
    np.testing.assert_allclose(Ys[0], 0.5 * np.tanh(np.array([[4.0, 2.0, 1.0]] * H)))


VARIANTS = [(True, False), (False, True), (True, True)]  # (peepholes, coupled)


@pytest.mark.parametrize("split", [None, 2])
@pytest.mark.parametrize("gate,state", [("sigmoid", "tanh"), ("hard-sigmoid", "softsign")])
@pytest.mark.parametrize("peep,coupled", VARIANTS)
@pytest.mark.parametrize("C,H,lengths", [(3, 4, [5, 3, 1]), (1, 1, [1]), (2, 3, [3, 8, 1, 5])])
def test_variants_forward_and_finite_differences(rng, C, H, lengths, peep, coupled, gate, state,
                                                 split):
    xs, W, R, b, h0, c0 = make_problem(rng, C, H, lengths)
    P = 0.5 * rng.standard_normal(3 * H) if peep else None
    Ys, hT, cT, saved = kernel_forward(xs, W, R, b, h0, c0, gate, state, P, coupled,
                                       split=split)
    Yr, hr, cr = reference_forward(xs, W, R, b, h0, c0, gate, state, P, coupled)
    for y, yr in zip(Ys, Yr):
        np.testing.assert_allclose(y, yr, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(cT, cr, rtol=1e-12, atol=1e-14)
    dYs = [rng.standard_normal((H, x.shape[1])) for x in xs]
    dhT, dcT = rng.standard_normal((H, len(lengths))), rng.standard_normal((H, len(lengths)))

    def loss():
        Yr, hr, cr = reference_forward(xs, W, R, b, h0, c0, gate, state, P, coupled)
        return sum(np.sum(y * d) for y, d in zip(Yr, dYs)) + np.sum(hr * dhT) + np.sum(cr * dcT)

    grads = kernel_backward(saved, W, R, gate, state, dYs, dhT, dcT)
    params = [("W", W), ("R", R), ("b", b), ("h0", h0), ("c0", c0)] + ([("P", P)] if peep else [])
    for name, arr in params:
        assert_gradient_close(grads[name], numerical_gradient(loss, arr), rtol=1e-6, atol=1e-8,
                              name=name)
    for n, x in enumerate(xs):
        assert_gradient_close(grads["xs"][n], numerical_gradient(loss, x), rtol=1e-6, atol=1e-8,
                              name=f"x[{n}]")
    if coupled:  # the input-gate rows are unused
        assert np.all(grads["W"][:H] == 0) and np.all(grads["b"][:H] == 0)


@pytest.mark.parametrize("lengths", [[5, 3, 1, 7, 7, 2], [4] * 6, [1]])
def test_thread_chunks_give_the_same_result(rng, lengths):
    """Splitting the batch over threads changes nothing: the forward pass is bit-identical
    (every row is summed in one order, see the microkernel); the weight gradients sum
    per-thread partials, so they agree up to rounding."""
    xs, W, R, b, h0, c0 = make_problem(rng, 3, 4, lengths)
    dYs = [rng.standard_normal((4, x.shape[1])) for x in xs]
    dhT, dcT = rng.standard_normal((4, len(lengths))), rng.standard_normal((4, len(lengths)))
    results = []
    for nthreads in (1, 2, 3, 8):
        Ys, hT, cT, saved = kernel_forward(xs, W, R, b, h0, c0, "sigmoid", "tanh",
                                           nthreads=nthreads)
        grads = kernel_backward(saved, W, R, "sigmoid", "tanh", dYs, dhT, dcT)
        results.append((Ys, hT, cT, grads))
    Y1, h1, c1, g1 = results[0]
    for Ys, hT, cT, grads in results[1:]:
        for y, y1 in zip(Ys, Y1):
            np.testing.assert_array_equal(y, y1)
        np.testing.assert_array_equal(hT, h1)
        np.testing.assert_array_equal(cT, c1)
        np.testing.assert_array_equal(grads["h0"], g1["h0"])
        np.testing.assert_array_equal(grads["c0"], g1["c0"])
        for name in ("W", "R", "b"):
            np.testing.assert_allclose(grads[name], g1[name], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("split", [2, 3, 7])
def test_unit_split_matches_row_chunks_and_leaves_inputs_alone(rng, split):
    """Splitting the units over threads: bit-identical states, gates and outputs to splitting
    rows (each value is summed in the same order)."""
    xs, W, R, b, h0, c0 = make_problem(rng, 3, 7, [6, 2, 9, 1, 9])
    P = 0.5 * rng.standard_normal(21)
    R_before, b_before, P_before = R.copy(), b.copy(), P.copy()
    rows = kernel_forward(xs, W, R, b, h0, c0, "sigmoid", "tanh", P, nthreads=3)
    units = kernel_forward(xs, W, R, b, h0, c0, "sigmoid", "tanh", P, nthreads=3, split=split)
    for y, yr in zip(units[0], rows[0]):
        np.testing.assert_array_equal(y, yr)
    for got, want in [(units[1], rows[1]), (units[2], rows[2]),
                      (units[3]["gates"], rows[3]["gates"]), (units[3]["cell"], rows[3]["cell"])]:
        np.testing.assert_array_equal(got, want)
    assert np.array_equal(R, R_before) and np.array_equal(b, b_before) and \
        np.array_equal(P, P_before)


def test_unit_parts_cover_every_unit_once():
    for H in (1, 2, 7, 100, 2000):
        for n in (1, 2, 3, 16):
            parts = unit_parts(H, n)
            assert parts[0] == 0 and parts[-1] == H
            assert np.all(np.diff(parts) >= 1) and len(parts) == min(n, H) + 1
