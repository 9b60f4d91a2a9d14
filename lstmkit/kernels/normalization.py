"""Numba kernels of the normalization layers (layer normalization over groups of rows)."""

import math

import numpy as np
from numba import njit, prange

from ._config import JIT, JIT_PARALLEL


@njit(**JIT)
def group_norm_forward(x, groups, num_groups, scale, offset, eps, y, xhat, inv_std):
    """Normalize each group of rows over its rows and all channels, then scale and shift.

    Parameters
    ----------
    x : ndarray of shape (M, C)
        Input rows.
    groups : ndarray of int64, shape (M,)
        Group of each row (each row its own group: normalization over the
        channels at each time step; the rows of one sequence: over its
        channels and its own time steps).
    num_groups : int
        Number of groups G.
    scale, offset : ndarray of shape (C,)
        Per-channel scale and offset.
    eps : float
        Added to the variance.
    y, xhat : ndarray of shape (M, C)
        Output and the normalized input (kept for the backward pass).
    inv_std : ndarray of shape (G,)
        Output: ``1 / sqrt(var + eps)`` of each group.
    """
    M, C = x.shape
    total = np.zeros(num_groups)
    count = np.zeros(num_groups)
    for r in range(M):
        g = groups[r]
        s = 0.0
        for c in range(C):
            s += x[r, c]
        total[g] += s
        count[g] += C
    mean = total / count
    sq = np.zeros(num_groups)
    for r in range(M):
        g = groups[r]
        m = mean[g]
        s = 0.0
        for c in range(C):
            d = x[r, c] - m
            s += d * d
        sq[g] += s
    for g in range(num_groups):
        inv_std[g] = 1.0 / math.sqrt(sq[g] / count[g] + eps)
    for r in range(M):
        g = groups[r]
        m = mean[g]
        k = inv_std[g]
        for c in range(C):
            h = (x[r, c] - m) * k
            xhat[r, c] = h
            y[r, c] = scale[c] * h + offset[c]


@njit(**JIT)
def group_norm_backward(dy, xhat, inv_std, groups, num_groups, scale, dx, dscale, doffset):
    """Backward pass of :func:`group_norm_forward`.

    Parameters
    ----------
    dy : ndarray of shape (M, C)
        Gradient with respect to the output.
    xhat : ndarray of shape (M, C)
        Normalized input of the forward pass.
    inv_std : ndarray of shape (G,)
        From the forward pass.
    groups, num_groups, scale
        As in the forward pass.
    dx : ndarray of shape (M, C) or (0, C)
        Output: gradient with respect to the input, skipped when empty.
    dscale, doffset : ndarray of shape (C,)
        Output: gradients of the scale and the offset.
    """
    M, C = dy.shape
    for c in range(C):
        dscale[c] = 0
        doffset[c] = 0
    s1 = np.zeros(num_groups)
    s2 = np.zeros(num_groups)
    count = np.zeros(num_groups)
    for r in range(M):
        g = groups[r]
        a = 0.0
        b = 0.0
        for c in range(C):
            dscale[c] += dy[r, c] * xhat[r, c]
            doffset[c] += dy[r, c]
            d = dy[r, c] * scale[c]
            a += d
            b += d * xhat[r, c]
        s1[g] += a
        s2[g] += b
        count[g] += C
    if dx.shape[0] == 0:
        return
    for r in range(M):
        g = groups[r]
        m1 = s1[g] / count[g]
        m2 = s2[g] / count[g]
        k = inv_std[g]
        for c in range(C):
            dx[r, c] = k * (dy[r, c] * scale[c] - m1 - xhat[r, c] * m2)


@njit(**JIT)
def channel_statistics(x, mean, var):
    """Mean and population variance of every channel over all rows of ``x`` (M, C)."""
    M, C = x.shape
    for c in range(C):
        mean[c] = 0.0
        var[c] = 0.0
    for r in range(M):
        for c in range(C):
            mean[c] += x[r, c]
    for c in range(C):
        mean[c] /= M
    for r in range(M):
        for c in range(C):
            d = x[r, c] - mean[c]
            var[c] += d * d
    for c in range(C):
        var[c] /= M


@njit(**JIT_PARALLEL)
def batch_norm_apply(x, mean, var, scale, offset, eps, y, xhat):
    """``xhat = (x - mean) / sqrt(var + eps)``, ``y = scale * xhat + offset``, per channel."""
    M, C = x.shape
    k = np.empty(C, x.dtype)
    for c in range(C):
        k[c] = 1.0 / math.sqrt(var[c] + eps)
    for r in prange(M):
        for c in range(C):
            h = (x[r, c] - mean[c]) * k[c]
            xhat[r, c] = h
            y[r, c] = scale[c] * h + offset[c]


@njit(**JIT_PARALLEL)
def batch_norm_backward(dy, xhat, var, scale, eps, dx, dscale, doffset):
    """Backward pass of batch normalization with the statistics of the batch itself.

    Parameters
    ----------
    dy, xhat : ndarray of shape (M, C)
        Output gradient and the normalized input.
    var : ndarray of shape (C,)
        The batch variance used in the forward pass.
    scale : ndarray of shape (C,)
    eps : float
    dx : ndarray of shape (M, C) or (0, C)
        Output: the input gradient, skipped when empty.
    dscale, doffset : ndarray of shape (C,)
        Output: gradients of the scale and the offset.
    """
    M, C = dy.shape
    scale_offset_gradients(dy, xhat, dscale, doffset)
    if dx.shape[0] == 0:
        return
    k = np.empty(C, dy.dtype)
    a = np.empty(C, dy.dtype)
    b = np.empty(C, dy.dtype)
    for c in range(C):
        k[c] = scale[c] / math.sqrt(var[c] + eps)
        a[c] = doffset[c] / M
        b[c] = dscale[c] / M
    for r in prange(M):
        for c in range(C):
            dx[r, c] = k[c] * (dy[r, c] - a[c] - xhat[r, c] * b[c])


@njit(**JIT_PARALLEL)
def row_norm_forward(x, scale, offset, eps, y, xhat, inv_std):
    """Layer normalization of every row over its channels (rows in parallel).

    The special case of :func:`group_norm_forward` with each row its own group.
    """
    M, C = x.shape
    for r in prange(M):
        s = 0.0
        for c in range(C):
            s += x[r, c]
        m = s / C
        q = 0.0
        for c in range(C):
            d = x[r, c] - m
            q += d * d
        k = 1.0 / math.sqrt(q / C + eps)
        inv_std[r] = k
        for c in range(C):
            h = (x[r, c] - m) * k
            xhat[r, c] = h
            y[r, c] = scale[c] * h + offset[c]


@njit(**JIT_PARALLEL)
def row_norm_backward(dy, xhat, inv_std, scale, dx):
    """Input gradient of :func:`row_norm_forward` (rows in parallel; ``dx`` may be empty)."""
    M, C = dy.shape
    if dx.shape[0] == 0:
        return
    for r in prange(M):
        a = 0.0
        b = 0.0
        for c in range(C):
            d = dy[r, c] * scale[c]
            a += d
            b += d * xhat[r, c]
        a /= C
        b /= C
        k = inv_std[r]
        for c in range(C):
            dx[r, c] = k * (dy[r, c] * scale[c] - a - xhat[r, c] * b)


@njit(**JIT)
def scale_offset_gradients(dy, xhat, dscale, doffset):
    """``dscale = sum_rows(dy * xhat)``, ``doffset = sum_rows(dy)``, row-major passes."""
    M, C = dy.shape
    for c in range(C):
        dscale[c] = 0
        doffset[c] = 0
    for r in range(M):
        for c in range(C):
            dscale[c] += dy[r, c] * xhat[r, c]
            doffset[c] += dy[r, c]
