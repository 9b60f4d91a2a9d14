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


@njit(**JIT)
def attention_bases(lengths, num_heads):
    """Start of each sequence's block in the weights array, and the total size."""
    N = lengths.shape[0]
    base = np.zeros(N + 1, np.int64)
    for k in range(N):
        base[k + 1] = base[k] + num_heads * lengths[k] * lengths[k]
    return base


@njit(**JIT_PARALLEL)
def attention_forward(Q, K, V, offsets, lengths, num_heads, causal, keep, base, P, out):
    """Scaled dot-product attention per sequence and head.

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
    for k in prange(N):
        L = lengths[k]
        for h in range(num_heads):
            blk = base[k] + h * L * L
            for i in range(L):
                ri = offsets[i] + k
                top = i + 1 if causal else L
                m = -np.inf
                for j in range(top):
                    rj = offsets[j] + k
                    s = 0.0
                    for d in range(dk):
                        s += Q[ri, h * dk + d] * K[rj, h * dk + d]
                    s *= scale
                    P[blk + i * L + j] = s
                    if s > m:
                        m = s
                total = 0.0
                for j in range(top):
                    e = math.exp(P[blk + i * L + j] - m)
                    P[blk + i * L + j] = e
                    total += e
                for j in range(top):
                    P[blk + i * L + j] /= total
                for j in range(top, L):
                    P[blk + i * L + j] = 0.0
                for d in range(dv):
                    out[ri, h * dv + d] = 0.0
                for j in range(top):
                    p = P[blk + i * L + j]
                    if keep.shape[0] > 0:
                        p *= keep[blk + i * L + j]
                    rj = offsets[j] + k
                    for d in range(dv):
                        out[ri, h * dv + d] += p * V[rj, h * dv + d]


@njit(**JIT_PARALLEL)
def attention_backward(dout, Q, K, V, offsets, lengths, num_heads, causal, keep, base, P,
                       dQ, dK, dV):
    """Backward pass of :func:`attention_forward`: dQ, dK, dV (all rows written)."""
    N = lengths.shape[0]
    dk = Q.shape[1] // num_heads
    dv = V.shape[1] // num_heads
    scale = 1.0 / math.sqrt(dk)
    for k in prange(N):
        L = lengths[k]
        for t in range(L):
            r = offsets[t] + k
            for d in range(Q.shape[1]):
                dQ[r, d] = 0.0
                dK[r, d] = 0.0
            for d in range(V.shape[1]):
                dV[r, d] = 0.0
        dp = np.empty(L)
        for h in range(num_heads):
            blk = base[k] + h * L * L
            for i in range(L):
                ri = offsets[i] + k
                top = i + 1 if causal else L
                acc = 0.0
                for j in range(top):
                    rj = offsets[j] + k
                    g = 0.0
                    for d in range(dv):
                        g += dout[ri, h * dv + d] * V[rj, h * dv + d]
                    p = P[blk + i * L + j]
                    if keep.shape[0] > 0:
                        g *= keep[blk + i * L + j]
                        pd = p * keep[blk + i * L + j]
                    else:
                        pd = p
                    for d in range(dv):
                        dV[rj, h * dv + d] += pd * dout[ri, h * dv + d]
                    dp[j] = g
                    acc += p * g
                for j in range(top):
                    rj = offsets[j] + k
                    ds = P[blk + i * L + j] * (dp[j] - acc) * scale
                    for d in range(dk):
                        dQ[ri, h * dk + d] += ds * K[rj, h * dk + d]
                        dK[rj, h * dk + d] += ds * Q[ri, h * dk + d]
