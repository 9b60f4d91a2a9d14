"""Numba kernels for the solvers, L2 regularisation and gradient thresholding.

All learnable parameters of a network live in one flat vector ``theta`` (each
layer's weight arrays are views into it) and their gradients in a flat vector
``grad`` of the same layout, so one kernel call updates the whole network.
``segments`` gives the flat bounds of each learnable array, which
'l2norm' thresholding treats separately.

Order of operations, as in MATLAB's trainer: L2 regularisation is added to the
gradient, the gradient is thresholded, then the solver step is taken.
"""

import numpy as np
from numba import njit

from ._config import JIT

SGDM = 0
ADAM = 1
RMSPROP = 2

THRESHOLD_NONE = 0
THRESHOLD_L2NORM = 1
THRESHOLD_GLOBAL_L2NORM = 2
THRESHOLD_ABSOLUTE_VALUE = 3


@njit(**JIT)
def _sum_squares(g, lo, hi):
    s = 0.0
    for i in range(lo, hi):
        s += float(g[i]) * float(g[i])
    return s


@njit(**JIT)
def regularize_and_threshold(theta, grad, l2_factor, l2, segments, method, threshold):
    """Add L2 regularisation to ``grad`` and threshold it, in place.

    Parameters
    ----------
    theta : ndarray of shape (P,)
        Parameters.
    grad : ndarray of shape (P,)
        Gradient of the loss; on exit the regularised, thresholded gradient.
    l2_factor : ndarray of shape (P,)
        Per-element L2 factor (layer's L2Factor for that parameter).
    l2 : float
        Global L2Regularization; the gradient gains ``l2 * l2_factor * theta``.
    segments : ndarray of int64, shape (L + 1,)
        Flat bounds of the L learnable arrays.
    method : int
        ``THRESHOLD_*`` code.
    threshold : float
        GradientThreshold.

    Returns
    -------
    norm : float
        Global L2 norm of the regularised gradient before thresholding (NaN or
        Inf when the gradient is not finite).
    """
    dt = theta.dtype.type
    lam = dt(l2)
    P = theta.shape[0]
    if l2 != 0.0:
        for i in range(P):
            grad[i] += lam * l2_factor[i] * theta[i]
    total = _sum_squares(grad, np.int64(0), P)  # not a literal 0: one specialization
    if method == THRESHOLD_L2NORM:
        for s in range(segments.shape[0] - 1):
            lo = segments[s]
            hi = segments[s + 1]
            nrm = np.sqrt(_sum_squares(grad, lo, hi))
            if nrm > threshold:
                scale = dt(threshold / nrm)
                for i in range(lo, hi):
                    grad[i] *= scale
    elif method == THRESHOLD_GLOBAL_L2NORM:
        nrm = np.sqrt(total)
        if nrm > threshold:
            scale = dt(threshold / nrm)
            for i in range(P):
                grad[i] *= scale
    elif method == THRESHOLD_ABSOLUTE_VALUE:
        thr = dt(threshold)
        for i in range(P):
            if grad[i] > thr:
                grad[i] = thr
            elif grad[i] < -thr:
                grad[i] = -thr
    return np.sqrt(total)


@njit(**JIT)
def _updated(solver, theta, g, s1, s2, lr_factor, lr, c1, c2, one, eps):
    """One element's new (theta, state1, state2); the constants are in theta's type."""
    if solver == SGDM:
        v = c1 * s1 - lr * lr_factor * g
        return theta + v, v, s2
    if solver == ADAM:
        m = c1 * s1 + (one - c1) * g
        v = c2 * s2 + (one - c2) * g * g
        return theta - lr * lr_factor * m / (np.sqrt(v) + eps), m, v
    v = c2 * s2 + (one - c2) * g * g
    return theta - lr * lr_factor * g / (np.sqrt(v) + eps), s1, v


@njit(**JIT)
def solver_step(solver, theta, grad, state1, state2, learn_rate, lr_factor, hyper1, hyper2,
                epsilon, iteration):
    """One solver update of ``theta``, in place, or none if it would not be finite.

    Parameters
    ----------
    solver : int
        ``SGDM``, ``ADAM`` or ``RMSPROP``.
    theta : ndarray of shape (P,)
        Parameters, updated in place.
    grad : ndarray of shape (P,)
        Gradient (already regularised and thresholded).
    state1, state2 : ndarray of shape (P,)
        Solver state: SGDM velocity / unused; Adam first and second moments;
        RMSProp unused / squared-gradient average.  Updated in place.
    learn_rate : float
        Global learning rate.
    lr_factor : ndarray of shape (P,)
        Per-element learn-rate factor.
    hyper1, hyper2 : float
        SGDM: Momentum, unused.  Adam: GradientDecayFactor,
        SquaredGradientDecayFactor.  RMSProp: unused, SquaredGradientDecayFactor.
    epsilon : float
        Denominator offset (Adam, RMSProp).
    iteration : int
        1-based update count (Adam's bias correction).

    Returns
    -------
    bool
        True if the update was applied.  False if some updated parameter or
        state would overflow or be NaN: then nothing is written, so the caller
        keeps the parameters and solver state of the last finite update.

    Notes
    -----
    SGDM: :math:`v \\leftarrow \\gamma v - \\alpha g,\\ \\theta \\leftarrow \\theta + v`.
    Adam (MATLAB's ``adamupdate``): :math:`m \\leftarrow \\beta_1 m + (1-\\beta_1) g`,
    :math:`v \\leftarrow \\beta_2 v + (1-\\beta_2) g^2`,
    :math:`\\theta \\leftarrow \\theta - \\alpha \\frac{\\sqrt{1-\\beta_2^t}}{1-\\beta_1^t}
    \\frac{m}{\\sqrt v + \\epsilon}`.
    RMSProp: :math:`v \\leftarrow \\beta_2 v + (1-\\beta_2) g^2,\\
    \\theta \\leftarrow \\theta - \\alpha g / (\\sqrt v + \\epsilon)`.

    The update is computed twice, once to check that every result is finite
    and once to write it: no copy of the parameters is needed to undo it.
    """
    dt = theta.dtype.type
    P = theta.shape[0]
    one = dt(1.0)
    zero = dt(0.0)
    eps = dt(epsilon)
    c1 = dt(hyper1)
    c2 = dt(hyper2)
    if solver == ADAM:
        lr = dt(learn_rate * np.sqrt(1.0 - hyper2 ** iteration) / (1.0 - hyper1 ** iteration))
    else:
        lr = dt(learn_rate)
    bad = 0
    for i in range(P):  # x - x is 0 for finite x, NaN for Inf and NaN
        t, a, b = _updated(solver, theta[i], grad[i], state1[i], state2[i], lr_factor[i], lr,
                           c1, c2, one, eps)
        bad |= (t - t + a - a + b - b) != zero
    if bad:
        return False
    for i in range(P):
        theta[i], state1[i], state2[i] = _updated(solver, theta[i], grad[i], state1[i],
                                                  state2[i], lr_factor[i], lr, c1, c2, one, eps)
    return True
