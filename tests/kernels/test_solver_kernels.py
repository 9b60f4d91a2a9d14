"""Solver, L2 and gradient-threshold kernels against plain numpy."""

import numpy as np
import pytest

from lstmkit.kernels import solvers as sk


def reference_threshold(theta, grad, l2f, lam, segments, method, thr):
    g = grad + lam * l2f * theta
    total = np.sqrt(np.sum(g ** 2))
    if method == "l2norm":
        for lo, hi in zip(segments[:-1], segments[1:]):
            n = np.linalg.norm(g[lo:hi])
            if n > thr:
                g[lo:hi] *= thr / n
    elif method == "global-l2norm":
        if total > thr:
            g *= thr / total
    elif method == "absolute-value":
        g = np.clip(g, -thr, thr)
    return g, total


CODES = {"none": sk.THRESHOLD_NONE, "l2norm": sk.THRESHOLD_L2NORM,
         "global-l2norm": sk.THRESHOLD_GLOBAL_L2NORM, "absolute-value": sk.THRESHOLD_ABSOLUTE_VALUE}


@pytest.mark.parametrize("method", list(CODES))
def test_regularize_and_threshold(rng, method):
    P = 20
    theta, grad = rng.standard_normal(P), 3 * rng.standard_normal(P)
    l2f = rng.choice([0.0, 1.0, 2.0], P)
    segments = np.array([0, 5, 12, 20])
    expected, total = reference_threshold(theta, grad.copy(), l2f, 0.01, segments, method, 1.5)
    norm = sk.regularize_and_threshold(theta, grad, l2f, 0.01, segments, CODES[method], 1.5)
    np.testing.assert_allclose(grad, expected, rtol=1e-13)
    np.testing.assert_allclose(norm, total, rtol=1e-13)


def test_threshold_not_applied_below_threshold(rng):
    grad = np.array([0.1, -0.2, 0.05])
    before = grad.copy()
    sk.regularize_and_threshold(np.zeros(3), grad, np.ones(3), 0.0, np.array([0, 3]),
                                sk.THRESHOLD_L2NORM, 1.0)
    np.testing.assert_array_equal(grad, before)


def test_nonfinite_gradient_reported():
    grad = np.array([1.0, np.nan])
    norm = sk.regularize_and_threshold(np.zeros(2), grad, np.ones(2), 0.0, np.array([0, 2]),
                                       sk.THRESHOLD_NONE, np.inf)
    assert not np.isfinite(norm)


def test_sgdm_matches_matlab_rule(rng):
    P = 7
    theta, v = rng.standard_normal(P), rng.standard_normal(P)
    lrf = rng.uniform(0.5, 2, P)
    theta0, v0 = theta.copy(), v.copy()
    for it in range(1, 4):
        g = rng.standard_normal(P)
        v0 = 0.9 * v0 - 0.01 * lrf * g
        prev = theta0.copy()
        theta0 = theta0 + v0
        sk.solver_step(sk.SGDM, theta, g, v, np.zeros(P), 0.01, lrf, 0.9, 0.0, 0.0, it)
        np.testing.assert_allclose(theta, theta0, rtol=1e-13)
        # MATLAB's form: theta - lr*g + momentum*(theta - theta_prev)
        assert np.all(np.isfinite(prev))


def test_adam_matches_matlab_adamupdate(rng):
    P = 5
    theta = rng.standard_normal(P)
    ref = theta.copy()
    m, v = np.zeros(P), np.zeros(P)
    mr, vr = np.zeros(P), np.zeros(P)
    lrf = np.ones(P)
    b1, b2, eps, lr = 0.9, 0.999, 1e-8, 0.001
    for t in range(1, 6):
        g = rng.standard_normal(P)
        mr = b1 * mr + (1 - b1) * g
        vr = b2 * vr + (1 - b2) * g * g
        ref = ref - lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t) * mr / (np.sqrt(vr) + eps)
        sk.solver_step(sk.ADAM, theta, g, m, v, lr, lrf, b1, b2, eps, t)
        np.testing.assert_allclose(theta, ref, rtol=1e-12)


def test_rmsprop(rng):
    P = 4
    theta = rng.standard_normal(P)
    ref = theta.copy()
    v, vr = np.zeros(P), np.zeros(P)
    lrf = np.full(P, 2.0)
    for t in range(1, 4):
        g = rng.standard_normal(P)
        vr = 0.9 * vr + 0.1 * g * g
        ref = ref - 0.001 * 2.0 * g / (np.sqrt(vr) + 1e-8)
        sk.solver_step(sk.RMSPROP, theta, g, np.zeros(P), v, 0.001, lrf, 0.0, 0.9, 1e-8, t)
        np.testing.assert_allclose(theta, ref, rtol=1e-12)


def test_float32_update_stays_float32(rng):
    theta = rng.standard_normal(6).astype(np.float32)
    g = rng.standard_normal(6).astype(np.float32)
    m, v = np.zeros(6, np.float32), np.zeros(6, np.float32)
    sk.solver_step(sk.ADAM, theta, g, m, v, 0.001, np.ones(6, np.float32), 0.9, 0.999, 1e-8, 1)
    assert theta.dtype == np.float32 and np.all(np.isfinite(theta))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("solver, lr, hyper1, hyper2, theta4, factor4", [
    (sk.SGDM, 1.0, 0.9, 0.0, 0.5, 1.0),          # the velocity overflows
    (sk.ADAM, 10.0, 0.9, 0.999, 0.5, 1.0),       # the step overflows
    (sk.RMSPROP, 1.0, 0.0, 0.9, -0.9999, 0.01),  # theta near -max: theta + step overflows
])
def test_update_that_would_overflow_changes_nothing(dtype, solver, lr, hyper1, hyper2, theta4,
                                                    factor4):
    P = 9
    big = np.finfo(dtype).max
    theta = np.full(P, 0.5, dtype)
    theta[4] = dtype(theta4 * big) if theta4 < 0 else dtype(theta4)
    g = np.ones(P, dtype)
    g[4] = 4                             # pushes theta[4] down
    s1, s2 = np.full(P, 0.5, dtype), np.full(P, 0.5, dtype)
    lrf = np.ones(P, dtype)
    lrf[4] = dtype(factor4 * big)
    before = [a.copy() for a in (theta, g, s1, s2)]
    assert not sk.solver_step(solver, theta, g, s1, s2, lr, lrf, hyper1, hyper2, 1e-8, 1)
    for a, b in zip((theta, g, s1, s2), before):
        np.testing.assert_array_equal(a, b)
    # with a sane learn-rate factor the same update is applied
    lrf[4] = 1
    assert sk.solver_step(solver, theta, g, s1, s2, 1e-3, lrf, hyper1, hyper2, 1e-8, 1)
    assert not np.array_equal(theta, before[0]) and np.all(np.isfinite(theta))


def test_nan_in_state_is_refused(rng):
    P = 4
    theta, g = rng.standard_normal(P), rng.standard_normal(P)
    m, v = np.zeros(P), np.zeros(P)
    v[2] = np.nan
    assert not sk.solver_step(sk.ADAM, theta, g, m, v, 1e-3, np.ones(P), 0.9, 0.999, 1e-8, 1)
    assert np.all(m == 0)
