"""Dense device kernels: matrix products, column sums, row gathers.

The products are plain numba-cuda kernels, one thread per output element
summing ``k = 0..K-1`` in order (the same on every launch: deterministic).
They are correct everywhere numba-cuda runs, the simulator included; cuBLAS
replaces them for the large products once it is measured on a device (the
GEMM shim keeps every caller unchanged).
"""

import math

from numba import cuda


def grid_1d(n, block=128):
    """``(blocks, threads)`` covering ``n`` threads (small blocks for small work)."""
    threads = max(1, min(block, 32 * math.ceil(n / 32)))
    return max(1, math.ceil(n / threads)), threads


def grid_2d(m, n, block=(8, 32)):
    """``(blocks, threads)`` covering an ``m``-by-``n`` output."""
    tm = max(1, min(block[0], m))
    tn = max(1, min(block[1], n))
    return (max(1, math.ceil(m / tm)), max(1, math.ceil(n / tn))), (tm, tn)


@cuda.jit(device=True)
def row_unit(k, H, row0):
    """Thread ``k`` of a (rows x H) launch: its row among the step's, its unit, its packed row."""
    r = k // H
    return r, k - r * H, row0 + r


@cuda.jit
def _matmul(A, B, C, bias, accumulate):
    i, j = cuda.grid(2)
    if i < C.shape[0] and j < C.shape[1]:
        if accumulate:
            acc = C[i, j]
        elif bias.shape[0] > 0:
            acc = bias[j]
        else:
            acc = C.dtype.type(0)
        for q in range(A.shape[1]):
            acc += A[i, q] * B[q, j]
        C[i, j] = acc


def matmul(A, B, C, bias=None, accumulate=False):
    """``C = A @ B (+ bias per column)``, or ``C += A @ B``; any strides (``W.T`` views)."""
    if C.shape[0] == 0 or C.shape[1] == 0:
        return
    if bias is None:
        bias = C[0, :0]
    blocks, threads = grid_2d(C.shape[0], C.shape[1])
    _matmul[blocks, threads](A, B, C, bias, accumulate)


@cuda.jit
def _column_sums(A, out):
    j = cuda.grid(1)
    if j < A.shape[1]:
        acc = A.dtype.type(0)
        for r in range(A.shape[0]):
            acc += A[r, j]
        out[j] = acc


def column_sums(A, out):
    """``out = A.sum(axis=0)``, each column summed in row order."""
    if out.shape[0] == 0:
        return
    blocks, threads = grid_1d(A.shape[1])
    _column_sums[blocks, threads](A, out)


@cuda.jit
def _gather_rows(src, first, index, out):
    k = cuda.grid(1)
    H = out.shape[1]
    if k < out.shape[0] * H:
        r = k // H
        j = k - r * H
        q = index[r]
        out[r, j] = src[q, j] if q >= 0 else first[-1 - q, j]


def gather_rows(src, first, index, out):
    """``out[r] = src[index[r]]``, or ``first[-1 - index[r]]`` where ``index[r] < 0``."""
    if out.shape[0] == 0 or out.shape[1] == 0:
        return
    blocks, threads = grid_1d(out.shape[0] * out.shape[1])
    _gather_rows[blocks, threads](src, first, index, out)


@cuda.jit
def _copy_block(src, dst, r0, c0):
    k = cuda.grid(1)
    W = src.shape[1]
    if k < src.shape[0] * W:
        i = k // W
        j = k - i * W
        dst[r0 + i, c0 + j] = src[i, j]


def copy_into(src, dst, r0=0, c0=0):
    """``dst[r0:r0 + m, c0:c0 + n] = src`` (any strides: column blocks of a wider array)."""
    if src.shape[0] == 0 or src.shape[1] == 0:
        return
    blocks, threads = grid_1d(src.shape[0] * src.shape[1])
    _copy_block[blocks, threads](src, dst, r0, c0)


@cuda.jit
def _add_into(dst, src):
    k = cuda.grid(1)
    W = dst.shape[1]
    if k < dst.shape[0] * W:
        i = k // W
        j = k - i * W
        dst[i, j] += src[i, j]


def add_into(dst, src):
    """``dst += src`` (same shape)."""
    if dst.shape[0] == 0 or dst.shape[1] == 0:
        return
    blocks, threads = grid_1d(dst.shape[0] * dst.shape[1])
    _add_into[blocks, threads](dst, src)
