"""Numba kernels of the word embedding layer: a gather of weight columns and its scatter-add."""

from numba import njit

from ._config import JIT


@njit(**JIT)
def embedding_forward(index, W, y):
    """``y[r] = W[:, index[r]]`` (MATLAB's D-by-NumWords weights, 0-based column indices).

    Parameters
    ----------
    index : ndarray of int64, shape (M,)
        The column of every row.
    W : ndarray of shape (D, V)
        Embedding vectors as columns.
    y : ndarray of shape (M, D)
        Output.
    """
    M, D = y.shape
    for r in range(M):
        j = index[r]
        for d in range(D):
            y[r, d] = W[d, j]


@njit(**JIT)
def embedding_backward(index, dy, dW):
    """``dW[:, index[r]] += dy[r]`` for every row (after zeroing ``dW``)."""
    D, V = dW.shape
    for d in range(D):
        for j in range(V):
            dW[d, j] = 0
    M = dy.shape[0]
    for r in range(M):
        j = index[r]
        for d in range(D):
            dW[d, j] += dy[r, d]
