"""Numba kernels for the output layers' losses.

A loss is a weighted sum over rows: row ``r`` (an observation, or a time step of
a packed sequence) carries a scale ``row_scale[r]`` that the caller sets so the
total matches MATLAB's normalisation (``1/N`` per observation; for
sequence-to-sequence regression ``1/(N*S_n)`` per time step of observation n).
"""

import numpy as np
from numba import njit

from ._config import JIT


@njit(**JIT)
def softmax_cross_entropy(probs, target, class_weights, row_scale, dz):
    """Cross-entropy of softmax probabilities and its gradient w.r.t. the scores.

    Parameters
    ----------
    probs : ndarray of shape (M, K)
        Softmax output.
    target : ndarray of int64, shape (M,)
        Class index of every row.
    class_weights : ndarray of shape (K,)
        Weight of each class (ones for 'none').
    row_scale : ndarray of shape (M,)
        Scale of each row's term.
    dz : ndarray of shape (M, K)
        Output: gradient of the loss with respect to the softmax *input*,
        ``row_scale * w_t * (p - onehot(t))``.

    Returns
    -------
    loss : float
        :math:`-\\sum_r s_r w_{t_r} \\ln p_{r, t_r}` (probabilities bounded away
        from zero, as MATLAB does).
    correct : int
        Number of rows whose largest probability is at the target class.
    """
    M, K = probs.shape
    tiny = np.finfo(probs.dtype).tiny
    loss = 0.0
    correct = 0
    for r in range(M):
        t = target[r]
        scale = row_scale[r] * class_weights[t]
        best = 0
        for k in range(K):
            dz[r, k] = scale * probs[r, k]
            if probs[r, k] > probs[r, best]:
                best = k
        dz[r, t] -= scale
        loss -= scale * np.log(max(probs[r, t], tiny))
        if best == t:
            correct += 1
    return loss, correct


@njit(**JIT)
def half_mse(y, target, row_scale, dy):
    """Half squared error summed over responses, and its gradient.

    Parameters
    ----------
    y : ndarray of shape (M, R)
        Predicted responses.
    target : ndarray of shape (M, R)
        True responses.
    row_scale : ndarray of shape (M,)
        Scale of each row's term.
    dy : ndarray of shape (M, R)
        Output: ``row_scale * (y - target)``.

    Returns
    -------
    loss : float
        :math:`\\sum_r s_r \\tfrac12 \\sum_i (y_{ri} - t_{ri})^2`.
    sse : float
        Unscaled sum of squared errors (for the RMSE).
    """
    M, R = y.shape
    loss = 0.0
    sse = 0.0
    for r in range(M):
        part = 0.0
        for i in range(R):
            e = y[r, i] - target[r, i]
            dy[r, i] = row_scale[r] * e
            part += e * e
        sse += part
        loss += 0.5 * row_scale[r] * part
    return loss, sse
