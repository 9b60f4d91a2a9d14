"""The LSTM's CUDA kernels against the float64 CPU kernels (Numba's CUDA simulator in CI).

The simulator runs every CUDA thread as a Python thread, so the sizes are
tiny; test_cuda_compile.py compiles the kernels for a real GPU.
"""

import numpy as np
import pytest

pytest.importorskip("numba_cuda")

from numba import cuda  # noqa: E402

if not cuda.is_available():
    pytest.skip("neither the CUDA simulator nor a CUDA device is available",
                allow_module_level=True)

from lstmkit.kernels.cuda import lstm as gpu  # noqa: E402
from lstmkit.kernels.cuda.dense import column_sums, matmul  # noqa: E402
from kernels.test_lstm_kernel import (GATE_CODES, STATE_CODES, kernel_backward,  # noqa: E402
                                      kernel_forward, make_problem)

CASES = [  # (C, H, lengths): ragged, T=1, N=1, H=1
    (3, 4, [5, 3, 1]),
    (1, 1, [1]),
    (2, 3, [1, 1]),
    (2, 1, [3, 4, 1]),
]
VARIANTS = [  # (gate, state, peepholes, coupled)
    ("sigmoid", "tanh", False, False),
    ("hard-sigmoid", "softsign", True, False),
    ("sigmoid", "tanh", True, True),
]


def device_forward(xs, W, R, b, h0, c0, gate, state, P, coupled):
    """The CUDA kernels on the same packing as the CPU helper (``saved`` from it)."""
    _, _, _, saved = kernel_forward(xs, W, R, b, h0, c0, gate, state, P, coupled)
    batch = saved["batch"]
    dtype = W.dtype
    S, H = saved["hidden"].shape
    d = {k: cuda.to_device(v) for k, v in
         dict(x=saved["x"], W=W, R=R, b=b, P=saved["P"], h=saved["h0"], c=saved["c0"]).items()}
    gates = cuda.device_array((S, 4 * H), dtype)
    cell = cuda.device_array((S, H), dtype)
    hidden = cuda.device_array((S, H), dtype)
    gpu.lstm_forward_train(d["x"], d["W"], d["R"], d["b"], d["P"], d["h"], d["c"],
                           batch.batch_sizes, GATE_CODES[gate], STATE_CODES[state], coupled,
                           gates, cell, hidden)
    return dict(gates=gates.copy_to_host(), cell=cell.copy_to_host(),
                hidden=hidden.copy_to_host(), h=d["h"].copy_to_host(), c=d["c"].copy_to_host(),
                device=d, dgates=gates, dcell=cell, dhidden=hidden), saved


def problem(rng, C, H, lengths, peep, dtype=np.float64):
    xs, W, R, b, h0, c0 = make_problem(rng, C, H, lengths, dtype=dtype)
    P = (0.5 * rng.standard_normal(3 * H)).astype(dtype) if peep else None
    return xs, W, R, b, h0, c0, P


@pytest.mark.parametrize("gate,state,peep,coupled", VARIANTS)
@pytest.mark.parametrize("C,H,lengths", CASES)
def test_forward_and_backward_equal_the_cpu_kernels(rng, C, H, lengths, gate, state, peep,
                                                    coupled):
    xs, W, R, b, h0, c0, P = problem(rng, C, H, lengths, peep)
    out, saved = device_forward(xs, W, R, b, h0, c0, gate, state, P, coupled)
    for name in ("gates", "cell", "hidden"):
        np.testing.assert_allclose(out[name], saved[name], rtol=1e-12, atol=1e-14)
    _, hT, cT, _ = kernel_forward(xs, W, R, b, h0, c0, gate, state, P, coupled)
    batch = saved["batch"]
    np.testing.assert_allclose(batch.to_caller_order(out["h"]).T, hT, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(batch.to_caller_order(out["c"]).T, cT, rtol=1e-12, atol=1e-14)
    # backward: sequence-output gradient and final-state gradients, against the CPU's
    dYs = [rng.standard_normal((H, x.shape[1])) for x in xs]
    dhT, dcT = rng.standard_normal((H, len(xs))), rng.standard_normal((H, len(xs)))
    cpu = kernel_backward(saved, W, R, gate, state, dYs, dhT, dcT)
    S = saved["hidden"].shape[0]
    dW, dR, db = (cuda.device_array_like(W), cuda.device_array_like(R),
                  cuda.device_array(4 * H, W.dtype))
    dP = cuda.device_array(saved["P"].shape[0], W.dtype)
    dx = cuda.device_array((S, C), W.dtype)
    dh = cuda.to_device(np.ascontiguousarray(batch.to_sorted_order(dhT.T)))
    dc = cuda.to_device(np.ascontiguousarray(batch.to_sorted_order(dcT.T)))
    d = out["device"]
    gpu.lstm_backward(d["x"], d["W"], d["R"], d["P"], cuda.to_device(saved["h0"]),
                      cuda.to_device(saved["c0"]), batch.batch_sizes, GATE_CODES[gate],
                      STATE_CODES[state], coupled, out["dgates"], out["dcell"],
                      out["dhidden"], cuda.to_device(batch.pack(dYs, W.dtype)), dh, dc, dW, dR,
                      db, dP, dx)
    got = dict(W=dW.copy_to_host(), R=dR.copy_to_host(), b=db.copy_to_host(),
               P=dP.copy_to_host(), xs=batch.unpack(dx.copy_to_host()),
               h0=batch.to_caller_order(dh.copy_to_host()).T,
               c0=batch.to_caller_order(dc.copy_to_host()).T)
    for name in ("W", "R", "b", "P", "h0", "c0"):
        np.testing.assert_allclose(got[name], cpu[name], rtol=1e-11, atol=1e-13, err_msg=name)
    for a, e in zip(got["xs"], cpu["xs"]):
        np.testing.assert_allclose(a, e, rtol=1e-11, atol=1e-13)


def test_float32_close_to_the_float64_cpu_kernels(rng):
    xs, W, R, b, h0, c0, P = problem(rng, 3, 5, [4, 2, 2], True)
    out32, _ = device_forward([x.astype(np.float32) for x in xs], W.astype(np.float32),
                              R.astype(np.float32), b.astype(np.float32), h0.astype(np.float32),
                              c0.astype(np.float32), "sigmoid", "tanh", P.astype(np.float32),
                              False)
    out64, _ = device_forward(xs, W, R, b, h0, c0, "sigmoid", "tanh", P, False)
    assert out32["hidden"].dtype == np.float32
    np.testing.assert_allclose(out32["hidden"], out64["hidden"], rtol=1e-5, atol=1e-6)


def test_saturated_gates_stay_finite(rng):
    xs, W, R, b, h0, c0, P = problem(rng, 2, 3, [3, 1], False)
    out, saved = device_forward(xs, 60 * W, 60 * R, 60 * b, h0, c0, "sigmoid", "tanh", None,
                                False)
    assert np.all(np.isfinite(out["hidden"]))
    np.testing.assert_allclose(out["hidden"], saved["hidden"], rtol=1e-12, atol=1e-14)


def test_dense_kernels_on_views(rng):
    """Products of transposed views (W.T), with a bias and accumulating; ordered column sums."""
    A = rng.standard_normal((5, 3))
    B = rng.standard_normal((4, 3))
    bias = rng.standard_normal(4)
    C = cuda.device_array((5, 4))
    matmul(cuda.to_device(A), cuda.to_device(B).T, C, bias=cuda.to_device(bias))
    np.testing.assert_allclose(C.copy_to_host(), A @ B.T + bias, rtol=1e-13)
    matmul(cuda.to_device(A), cuda.to_device(B).T, C, accumulate=True)
    np.testing.assert_allclose(C.copy_to_host(), 2 * (A @ B.T) + bias, rtol=1e-13)
    out = cuda.device_array(4)
    column_sums(C, out)
    np.testing.assert_allclose(out.copy_to_host(), C.copy_to_host().sum(axis=0), rtol=1e-13)
