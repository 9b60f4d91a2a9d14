"""GEMMs split by rows over Numba's threads, each thread with single-threaded BLAS.

See :mod:`lstmkit.kernels._threads` for why the kernels never let BLAS start
its own threads.
"""

import numpy as np
from numba import njit, prange

from ._config import JIT, JIT_PARALLEL
from ._threads import blas_threads_local


@njit(**JIT_PARALLEL)
def par_dot(A, B, out, nthreads):
    """``out = A @ B`` with the rows of ``A`` and ``out`` split over threads.

    Parameters
    ----------
    A : ndarray of shape (M, K)
    B : ndarray of shape (K, P)
        May be a transposed view (BLAS handles it without a copy).
    out : ndarray of shape (M, P)
        Output (C-contiguous).
    nthreads : int
        Number of row blocks.
    """
    M = A.shape[0]
    old = blas_threads_local(1)
    for q in prange(nthreads):
        a = q * M // nthreads
        b = (q + 1) * M // nthreads
        if b > a:
            np.dot(A[a:b], B, out[a:b])
    blas_threads_local(old)


@njit(**JIT_PARALLEL)
def par_tdot(A, B, out, nthreads):
    """``out = A.T @ B`` summed over row blocks computed by separate threads.

    Parameters
    ----------
    A : ndarray of shape (M, P)
    B : ndarray of shape (M, K)
    out : ndarray of shape (P, K)
        Output.
    nthreads : int
        Number of row blocks (each adds a P-by-K partial).
    """
    M = A.shape[0]
    P, K = out.shape
    parts = np.empty((nthreads, P, K), out.dtype)
    old = blas_threads_local(1)
    for q in prange(nthreads):
        _block_tdot(A, B, parts[q], q * M // nthreads, (q + 1) * M // nthreads)
    blas_threads_local(old)
    _sum_parts(parts, out)


@njit(**JIT)
def _block_tdot(A, B, out, a, b):
    """``out = A[a:b].T @ B[a:b]`` (zeros for an empty block)."""
    if b > a:
        np.dot(A[a:b].T, B[a:b], out)
    else:
        out[:] = 0


@njit(**JIT)
def _sum_parts(parts, out):
    """``out = parts.sum(axis=0)`` with plain loops (kept out of the parallel function)."""
    n, P, K = parts.shape
    for i in range(P):
        for j in range(K):
            acc = parts[0, i, j]
            for q in range(1, n):
                acc += parts[q, i, j]
            out[i, j] = acc


