"""The GRU's CUDA kernels against the float64 CPU kernels, in the three reset modes (simulator)."""

import numpy as np
import pytest

pytest.importorskip("numba_cuda")

from numba import cuda  # noqa: E402

if not cuda.is_available():
    pytest.skip("neither the CUDA simulator nor a CUDA device is available",
                allow_module_level=True)

from lstmkit._packing import PackedBatch  # noqa: E402
from lstmkit.kernels.cuda import gru as gpu  # noqa: E402
from kernels.test_gru_kernel import GATE, MODES, STATE, problem, run  # noqa: E402

CASES = [(3, 4, [5, 3, 1]), (1, 1, [1]), (2, 3, [1, 1]), (2, 1, [3, 4, 1])]
MODE_CASES = [("after", False), ("after", True), ("before", False)]


def device_run(xs, W, R, b, bR, h0, mode, gate, state, dYs, dhT):
    batch = PackedBatch([x.shape[1] for x in xs])
    H = R.shape[1]
    dtype = W.dtype
    x = cuda.to_device(batch.pack(xs, dtype))
    h_init = np.ascontiguousarray(batch.to_sorted_order(h0.T), dtype)
    h = cuda.to_device(h_init)
    S = batch.num_rows
    gates = cuda.device_array((S, 3 * H), dtype)
    aux = cuda.device_array((S, H), dtype)
    hidden = cuda.device_array((S, H), dtype)
    dW_, dR_, db_, dbR_ = (cuda.to_device(v) for v in (W, R, b, bR))
    gpu.gru_forward(x, dW_, dR_, db_, dbR_, h, batch.batch_sizes, GATE[gate], STATE[state],
                    MODES[mode], gates, aux, hidden)
    out = dict(Y=batch.unpack(hidden.copy_to_host()),
               hT=batch.to_caller_order(h.copy_to_host()).T)
    dh = cuda.to_device(np.ascontiguousarray(batch.to_sorted_order(dhT.T), dtype))
    grads = dict(W=cuda.device_array_like(W), R=cuda.device_array_like(R),
                 b=cuda.device_array_like(b), bR=cuda.device_array_like(bR),
                 x=cuda.device_array((S, x.shape[1]), dtype))
    gpu.gru_backward(x, dW_, dR_, dbR_, cuda.to_device(h_init), batch.batch_sizes, GATE[gate],
                     STATE[state], MODES[mode], gates, aux, hidden,
                     cuda.to_device(batch.pack(dYs, dtype)), dh, grads["W"], grads["R"],
                     grads["b"], grads["bR"], grads["x"])
    grads = {k: v.copy_to_host() for k, v in grads.items()}
    grads["xs"] = batch.unpack(grads.pop("x"))
    grads["h0"] = batch.to_caller_order(dh.copy_to_host()).T
    out["grads"] = grads
    return out


@pytest.mark.parametrize("gate,state", [("sigmoid", "tanh"), ("hard-sigmoid", "softsign")])
@pytest.mark.parametrize("mode,rbias", MODE_CASES)
@pytest.mark.parametrize("C,H,lengths", CASES)
def test_forward_and_backward_equal_the_cpu_kernels(rng, C, H, lengths, mode, rbias, gate,
                                                    state):
    xs, W, R, b, bR, h0 = problem(rng, C, H, lengths, rbias)
    dYs = [rng.standard_normal((H, x.shape[1])) for x in xs]
    dhT = rng.standard_normal((H, len(lengths)))
    cpu = run(xs, W, R, b, bR, h0, mode, gate, state, dYs, dhT)
    dev = device_run(xs, W, R, b, bR, h0, mode, gate, state, dYs, dhT)
    for y, e in zip(dev["Y"], cpu["Y"]):
        np.testing.assert_allclose(y, e, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dev["hT"], cpu["hT"], rtol=1e-12, atol=1e-14)
    for name in ("W", "R", "b", "bR", "h0"):
        np.testing.assert_allclose(dev["grads"][name], cpu["grads"][name], rtol=1e-11,
                                   atol=1e-13, err_msg=name)
    for a, e in zip(dev["grads"]["xs"], cpu["grads"]["xs"]):
        np.testing.assert_allclose(a, e, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("mode,rbias", MODE_CASES)
def test_saturated_and_float32(rng, mode, rbias):
    xs, W, R, b, bR, h0 = problem(rng, 3, 4, [4, 2], rbias, scale=40.0)
    ones = ([np.ones((4, x.shape[1])) for x in xs], np.ones((4, 2)))
    dev = device_run(xs, W, R, b, bR, h0, mode, "sigmoid", "tanh", *ones)
    cpu = run(xs, W, R, b, bR, h0, mode, "sigmoid", "tanh", *ones)
    assert all(np.all(np.isfinite(v)) for k, v in dev["grads"].items() if k != "xs")
    np.testing.assert_allclose(dev["hT"], cpu["hT"], rtol=1e-12, atol=1e-14)
    f32 = [np.float32]
    dev32 = device_run([x.astype(f32[0]) for x in xs], *(a.astype(np.float32) for a in
                                                           (W, R, b, bR, h0)),
                       mode, "sigmoid", "tanh", *ones)
    assert dev32["hT"].dtype == np.float32
    np.testing.assert_allclose(dev32["hT"], cpu["hT"], rtol=1e-4, atol=1e-5)
