"""Numba kernels of 1-D convolution and pooling over time, on packed sequences.

Every sequence is convolved (pooled) over its own time steps: the kernels read
an index table ``src`` built by :func:`window_index`, one row per output time
step and one column per filter tap, holding the packed input row the tap
reads, or -1 for a padded position.  Nothing of a neighbouring sequence or of
a mini-batch's padding can enter a result.  Convolution is im2col plus one
GEMM (and two GEMMs back), split by rows over Numba's threads.
"""

import numpy as np
from numba import njit

from ._config import JIT
from .blas import par_dot, par_tdot

PAD_CONSTANT, PAD_REPLICATE, PAD_SYMMETRIC_INCLUDE, PAD_SYMMETRIC_EXCLUDE = range(4)


@njit(**JIT)
def _reflect(src, L, mode):
    if mode == PAD_REPLICATE or (mode == PAD_SYMMETRIC_EXCLUDE and L < 2):
        return min(max(src, 0), L - 1)
    if mode == PAD_SYMMETRIC_INCLUDE:
        period = 2 * L
        s = src % period
        return s if s < L else period - 1 - s
    period = 2 * (L - 1)
    s = src % period
    return s if s < L else period - s


@njit(**JIT)
def window_index(in_offsets, out_offsets, out_batch_sizes, in_lengths, taps, stride, dilation,
                 pad_left, mode, src):
    """The packed input row of every (output row, tap).

    Parameters
    ----------
    in_offsets, out_offsets : ndarray of int64
        First packed row of each time step of the input and the output batch
        (both in the same sorted order of sequences).
    out_batch_sizes : ndarray of int64
        Sequences at each output time step.
    in_lengths : ndarray of int64
        Input length of each sorted sequence.
    taps, stride, dilation : int
        Window size, step and spacing of the taps.
    pad_left : ndarray of int64
        Padding before the first time step of each sorted sequence.
    mode : int
        PAD_CONSTANT (padded taps get -1), PAD_REPLICATE,
        PAD_SYMMETRIC_INCLUDE or PAD_SYMMETRIC_EXCLUDE (padded taps read a
        mirrored or repeated time step of the same sequence).
    src : ndarray of int64, shape (S_out, taps)
        Output.
    """
    T_out = out_batch_sizes.shape[0]
    for t in range(T_out):
        for k in range(out_batch_sizes[t]):
            r = out_offsets[t] + k
            L = in_lengths[k]
            for f in range(taps):
                s = t * stride + f * dilation - pad_left[k]
                if s < 0 or s >= L:
                    if mode == PAD_CONSTANT:
                        src[r, f] = -1
                        continue
                    s = _reflect(s, L, mode)
                src[r, f] = in_offsets[s] + k


@njit(**JIT)
def _gather(x, src, pad_value, cols):
    S, F = src.shape
    C = x.shape[1]
    for r in range(S):
        for f in range(F):
            s = src[r, f]
            if s < 0:
                for c in range(C):
                    cols[r, f * C + c] = pad_value
            else:
                for c in range(C):
                    cols[r, f * C + c] = x[s, c]


@njit(**JIT)
def conv_forward(x, src, W, b, pad_value, cols, y, nthreads):
    """``y = im2col(x) @ W + b``.

    Parameters
    ----------
    x : ndarray of shape (S_in, C)
        Packed input.
    src : ndarray of int64, shape (S_out, F)
        From :func:`window_index`.
    W : ndarray of shape (F * C, K)
        Weights (MATLAB's FilterSize-by-C-by-NumFilters, reshaped).
    b : ndarray of shape (K,)
        Bias.
    pad_value : float
        Value of constant padding.
    cols : ndarray of shape (S_out, F * C)
        Output: the gathered windows (kept for the backward pass).
    y : ndarray of shape (S_out, K)
        Output.
    nthreads : int
        Row blocks for the GEMM.
    """
    _gather(x, src, x.dtype.type(pad_value), cols)
    par_dot(cols, W, y, nthreads)
    S, K = y.shape
    for r in range(S):
        for k in range(K):
            y[r, k] += b[k]


@njit(**JIT)
def conv_backward(cols, src, W, dy, dW, db, dcols, dx, nthreads):
    """Backward pass of :func:`conv_forward`.

    Parameters
    ----------
    cols : ndarray of shape (S_out, F * C)
        From the forward pass.
    src : ndarray of int64, shape (S_out, F)
        From :func:`window_index`.
    W : ndarray of shape (F * C, K)
        Weights.
    dy : ndarray of shape (S_out, K)
        Gradient with respect to the output.
    dW : ndarray of shape (F * C, K)
        Output: ``cols.T @ dy``.
    db : ndarray of shape (K,)
        Output: column sums of ``dy``.
    dcols : ndarray of shape (S_out, F * C) or (0, F * C)
        Work space for ``dy @ W.T``; empty skips the input gradient.
    dx : ndarray of shape (S_in, C)
        Output: the input gradient (scatter-added; padded taps add nothing).
    nthreads : int
        Row blocks for the GEMMs.
    """
    par_tdot(cols, dy, dW, nthreads)
    S, K = dy.shape
    for k in range(K):
        db[k] = 0
    for r in range(S):
        for k in range(K):
            db[k] += dy[r, k]
    if dcols.shape[0] == 0:
        return
    par_dot(dy, W.T, dcols, nthreads)
    C = dx.shape[1]
    F = src.shape[1]
    for r in range(dx.shape[0]):
        for c in range(C):
            dx[r, c] = 0
    for r in range(S):
        for f in range(F):
            s = src[r, f]
            if s >= 0:
                for c in range(C):
                    dx[s, c] += dcols[r, f * C + c]


@njit(**JIT)
def max_pool_forward(x, src, y, arg):
    """Maximum over each window's taps (padded taps ignored); ``arg`` keeps the row chosen."""
    S, F = src.shape
    C = x.shape[1]
    for r in range(S):
        for c in range(C):
            best = -np.inf
            where = -1
            for f in range(F):
                s = src[r, f]
                if s >= 0 and (where < 0 or x[s, c] > best):
                    best = x[s, c]
                    where = s
            y[r, c] = best if where >= 0 else 0.0
            arg[r, c] = where


@njit(**JIT)
def max_pool_backward(dy, arg, dx):
    """Route each output gradient to the input element that was the maximum."""
    for r in range(dx.shape[0]):
        for c in range(dx.shape[1]):
            dx[r, c] = 0
    S, C = dy.shape
    for r in range(S):
        for c in range(C):
            s = arg[r, c]
            if s >= 0:
                dx[s, c] += dy[r, c]


@njit(**JIT)
def average_pool_forward(x, src, count_padding, y):
    """Mean over each window: over all its taps (padded taps count as zeros) with
    ``count_padding``, else over the taps inside the sequence."""
    S, F = src.shape
    C = x.shape[1]
    for r in range(S):
        n = 0
        for f in range(F):
            if src[r, f] >= 0:
                n += 1
        div = F if count_padding else max(n, 1)
        for c in range(C):
            total = 0.0
            for f in range(F):
                s = src[r, f]
                if s >= 0:
                    total += x[s, c]
            y[r, c] = total / div


@njit(**JIT)
def average_pool_backward(dy, src, count_padding, dx):
    """Backward pass of :func:`average_pool_forward`."""
    for r in range(dx.shape[0]):
        for c in range(dx.shape[1]):
            dx[r, c] = 0
    S, F = src.shape
    C = dy.shape[1]
    for r in range(S):
        n = 0
        for f in range(F):
            if src[r, f] >= 0:
                n += 1
        div = F if count_padding else max(n, 1)
        for f in range(F):
            s = src[r, f]
            if s >= 0:
                for c in range(C):
                    dx[s, c] += dy[r, c] / div


@njit(**JIT)
def global_pool_forward(x, row_sequence, lengths, is_max, y, arg):
    """Mean (or maximum) over each sequence's own time steps: (S, C) -> (N, C) sorted rows."""
    N, C = y.shape
    for k in range(N):
        for c in range(C):
            y[k, c] = -np.inf if is_max else 0.0
            arg[k, c] = -1
    for r in range(x.shape[0]):
        k = row_sequence[r]
        for c in range(C):
            if is_max:
                if arg[k, c] < 0 or x[r, c] > y[k, c]:
                    y[k, c] = x[r, c]
                    arg[k, c] = r
            else:
                y[k, c] += x[r, c]
    if not is_max:
        for k in range(N):
            for c in range(C):
                y[k, c] /= lengths[k]


@njit(**JIT)
def global_pool_backward(dy, row_sequence, lengths, is_max, arg, dx):
    """Backward pass of :func:`global_pool_forward`."""
    S, C = dx.shape
    if is_max:
        for r in range(S):
            for c in range(C):
                dx[r, c] = 0
        N = dy.shape[0]
        for k in range(N):
            for c in range(C):
                dx[arg[k, c], c] += dy[k, c]
    else:
        for r in range(S):
            k = row_sequence[r]
            for c in range(C):
                dx[r, c] = dy[k, c] / lengths[k]
