"""Central finite differences in float64 (umap/chainer style)."""

import numpy as np


def numerical_gradient(f, x, eps=1e-6):
    """Central-difference gradient of the scalar function ``f()`` w.r.t. array ``x``.

    ``x`` is perturbed in place and restored; ``f`` reads it.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    flat = x.reshape(-1)
    gflat = grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        fp = f()
        flat[i] = old - eps
        fm = f()
        flat[i] = old
        gflat[i] = (fp - fm) / (2.0 * eps)
    return grad


def assert_gradient_close(analytic, numeric, rtol=1e-6, atol=1e-8, name=""):
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    assert analytic.shape == numeric.shape, f"{name}: shape {analytic.shape} != {numeric.shape}"
    err = np.abs(analytic - numeric)
    tol = atol + rtol * np.abs(numeric)
    worst = np.argmax(err - tol) if err.size else 0
    assert np.all(err <= tol), (
        f"{name}: max error {err.max():.3e} at {np.unravel_index(worst, err.shape)}; "
        f"analytic {analytic.flat[worst]:.10e} numeric {numeric.flat[worst]:.10e}"
    )
