"""Numba kernels of self-attention over each sequence's own time steps (packed layout).

Row ``offsets[t] + k`` of a packed array is time step t of sorted sequence k;
each sequence attends only to its own time steps (to the earlier ones with a
causal mask), so nothing of another sequence or of padding enters a result.
The attention weights of sequence k, head h are stored at
``P[base[k] + h*L*L : ...]`` as an L-by-L block (L its length).
"""

import math

import numpy as np
from numba import njit, prange

from ._config import JIT, JIT_PARALLEL
from ._threads import blas_threads_local


@njit(**JIT)
def attention_bases(lengths, num_heads):
    """Start of each sequence's block in the weights array, and the total size."""
    N = lengths.shape[0]
    base = np.zeros(N + 1, np.int64)
    for k in range(N):
        base[k + 1] = base[k] + num_heads * lengths[k] * lengths[k]
    return base


@njit(**JIT)
def _gather(A, offsets, k, L, lo, hi):
    """Rows of sequence k (time order), columns lo:hi, as a contiguous L-by-(hi-lo) array."""
    out = np.empty((L, hi - lo), A.dtype)
    for t in range(L):
        r = offsets[t] + k
        for d in range(hi - lo):
            out[t, d] = A[r, lo + d]
    return out


@njit(**JIT)
def _scatter_add(A, block, offsets, k, lo):
    L, D = block.shape
    for t in range(L):
        r = offsets[t] + k
        for d in range(D):
            A[r, lo + d] += block[t, d]


@njit(**JIT_PARALLEL)
def attention_forward(Q, K, V, offsets, lengths, num_heads, causal, keep, base, P, out):
    """Scaled dot-product attention per sequence and head.

    Each (sequence, head) block is gathered into contiguous arrays and
    multiplied by single-threaded BLAS inside Numba's threads.

    Parameters
    ----------
    Q, K : ndarray of shape (S, Dk)
        Queries and keys of every packed row (heads side by side).
    V : ndarray of shape (S, Dv)
        Values.
    offsets, lengths : ndarray of int64
        Packed batch: first row of each time step; length of each sorted sequence.
    num_heads : int
    causal : bool
        Each step attends only to itself and earlier steps.
    keep : ndarray of shape (base[-1],) or (0,)
        Dropout multipliers of the attention weights (0 or 1/(1-p)); empty: none.
    base : ndarray of int64
        From :func:`attention_bases`.
    P : ndarray of shape (base[-1],)
        Output: the attention weights (before dropout).
    out : ndarray of shape (S, Dv)
        Output.
    """
    N = lengths.shape[0]
    dk = Q.shape[1] // num_heads
    dv = V.shape[1] // num_heads
    scale = 1.0 / math.sqrt(dk)
    old = blas_threads_local(1)
    for k in prange(N):
        L = lengths[k]
        for h in range(num_heads):
            blk = base[k] + h * L * L
            Qh = _gather(Q, offsets, k, L, h * dk, (h + 1) * dk)
            Kh = _gather(K, offsets, k, L, h * dk, (h + 1) * dk)
            Vh = _gather(V, offsets, k, L, h * dv, (h + 1) * dv)
            Sc = np.dot(Qh, Kh.T)
            Pk = P[blk:blk + L * L].reshape((L, L))
            for i in range(L):
                top = i + 1 if causal else L
                m = -np.inf
                for j in range(top):
                    if Sc[i, j] > m:
                        m = Sc[i, j]
                total = 0.0
                for j in range(top):
                    e = math.exp((Sc[i, j] - m) * scale)
                    Pk[i, j] = e
                    total += e
                for j in range(top):
                    Pk[i, j] /= total
                for j in range(top, L):
                    Pk[i, j] = 0.0
            if keep.shape[0] > 0:
                Pd = Pk * keep[blk:blk + L * L].reshape((L, L))
            else:
                Pd = Pk.copy()
            Oh = np.dot(Pd, Vh)
            for t in range(L):
                r = offsets[t] + k
                for d in range(dv):
                    out[r, h * dv + d] = Oh[t, d]
    blas_threads_local(old)


@njit(**JIT_PARALLEL)
def attention_backward(dout, Q, K, V, offsets, lengths, num_heads, causal, keep, base, P,
                       dQ, dK, dV):
    """Backward pass of :func:`attention_forward`: dQ, dK, dV (all rows written)."""
    N = lengths.shape[0]
    dk = Q.shape[1] // num_heads
    dv = V.shape[1] // num_heads
    scale = 1.0 / math.sqrt(dk)
    old = blas_threads_local(1)
    for k in prange(N):
        L = lengths[k]
        for t in range(L):
            r = offsets[t] + k
            for d in range(Q.shape[1]):
                dQ[r, d] = 0.0
                dK[r, d] = 0.0
            for d in range(V.shape[1]):
                dV[r, d] = 0.0
        for h in range(num_heads):
            blk = base[k] + h * L * L
            Qh = _gather(Q, offsets, k, L, h * dk, (h + 1) * dk)
            Kh = _gather(K, offsets, k, L, h * dk, (h + 1) * dk)
            Vh = _gather(V, offsets, k, L, h * dv, (h + 1) * dv)
            dOh = _gather(dout, offsets, k, L, h * dv, (h + 1) * dv)
            Pk = P[blk:blk + L * L].reshape((L, L))
            if keep.shape[0] > 0:
                Kp = keep[blk:blk + L * L].reshape((L, L))
                Pd = Pk * Kp
            else:
                Kp = np.ones((1, 1), P.dtype)
                Pd = Pk.copy()
            _scatter_add(dV, np.dot(Pd.T, dOh), offsets, k, h * dv)
            dP = np.dot(dOh, Vh.T)
            if keep.shape[0] > 0:
                dP *= Kp
            dS = np.empty((L, L), P.dtype)
            for i in range(L):
                acc = 0.0
                for j in range(L):
                    acc += Pk[i, j] * dP[i, j]
                for j in range(L):
                    dS[i, j] = Pk[i, j] * (dP[i, j] - acc) * scale
            _scatter_add(dQ, np.dot(dS, Kh), offsets, k, h * dk)
            _scatter_add(dK, np.dot(dS.T, Qh), offsets, k, h * dk)
    blas_threads_local(old)
