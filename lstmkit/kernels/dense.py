"""Numba kernels for the fully connected and softmax layers.

Both act row by row, so the same kernel serves a matrix of N observations and a
packed sequence of S time-step rows (a fully connected layer is applied
independently at every time step, as in MATLAB).
"""

import numpy as np
from numba import njit

from ._config import JIT
from .blas import par_dot, par_tdot


@njit(**JIT)
def fc_forward(x, W, b, y, nthreads):
    """Fully connected forward pass ``y = x @ W.T + b``.

    Parameters
    ----------
    x : ndarray of shape (M, C)
        Input rows.
    W : ndarray of shape (K, C)
        Weights.
    b : ndarray of shape (K,)
        Bias.
    y : ndarray of shape (M, K)
        Output.
    nthreads : int
        Row blocks for the GEMM.
    """
    par_dot(x, W.T, y, nthreads)
    M, K = y.shape
    for r in range(M):
        for k in range(K):
            y[r, k] += b[k]


@njit(**JIT)
def fc_backward(x, W, dy, dW, db, dx, nthreads):
    """Fully connected backward pass.

    Parameters
    ----------
    x : ndarray of shape (M, C)
        Input of the forward pass.
    W : ndarray of shape (K, C)
        Weights.
    dy : ndarray of shape (M, K)
        Gradient with respect to the output.
    dW : ndarray of shape (K, C)
        Output: ``dy.T @ x``.
    db : ndarray of shape (K,)
        Output: column sums of ``dy``.
    dx : ndarray of shape (M, C) or (0, C)
        Output: ``dy @ W``, skipped when empty.
    nthreads : int
        Row blocks for the GEMMs.
    """
    par_tdot(dy, x, dW, nthreads)
    M, K = dy.shape
    for k in range(K):
        db[k] = 0
    for r in range(M):
        for k in range(K):
            db[k] += dy[r, k]
    if dx.shape[0] > 0:
        par_dot(dy, W, dx, nthreads)


@njit(**JIT)
def softmax_forward(z, y):
    """Row-wise softmax, shifted by the row maximum for stability.

    Parameters
    ----------
    z : ndarray of shape (M, K)
        Scores.
    y : ndarray of shape (M, K)
        Output probabilities (may be ``z`` itself).
    """
    M, K = z.shape
    for r in range(M):
        zmax = z[r, 0]
        for k in range(1, K):
            if z[r, k] > zmax:
                zmax = z[r, k]
        total = z[r, 0] - z[r, 0]
        for k in range(K):
            e = np.exp(z[r, k] - zmax)
            y[r, k] = e
            total += e
        inv = type(total)(1.0) / total
        for k in range(K):
            y[r, k] *= inv


@njit(**JIT)
def softmax_backward(y, dy, dz):
    """Backward pass of the row-wise softmax: ``dz = y * (dy - sum(dy * y))``.

    Parameters
    ----------
    y : ndarray of shape (M, K)
        Softmax output.
    dy : ndarray of shape (M, K)
        Gradient with respect to ``y``.
    dz : ndarray of shape (M, K)
        Output: gradient with respect to the scores.
    """
    M, K = y.shape
    for r in range(M):
        s = y[r, 0] - y[r, 0]
        for k in range(K):
            s += dy[r, k] * y[r, k]
        for k in range(K):
            dz[r, k] = y[r, k] * (dy[r, k] - s)
