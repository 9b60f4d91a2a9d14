"""The per-step recurrent product as a register-blocked microkernel on packed weights.

At every time step a recurrent layer multiplies the few active rows of its
hidden state by the same weights: ``(n x K) @ (K x M)`` with ``n`` a few to a
few dozen rows.  BLAS packs ``B`` into its own layout at every such call, and
for small ``n`` that packing and the call overhead cost more than the
arithmetic.  Here ``B`` is packed once per call of a layer's kernel, into
*panels* of ``PW`` columns (two SIMD vectors), each panel stored k-major so
that one step of the inner loop reads ``PW`` contiguous values:
``Bp[(p * K + k) * PW + j] = B[k, p * PW + j]`` (zero beyond ``M``).

The microkernel computes an ``MR``-row by ``NP``-panel tile of ``C``.  Plain
Numba loops cannot do this well: LLVM keeps a tile's accumulators in memory
when it cannot prove the arrays distinct, and Numba leaves LLVM's SLP
vectorizer off.  So the tile is written directly in LLVM IR (a Numba
``intrinsic``): ``2 * MR * NP`` accumulators of ``<VW x float>`` (promoted to
registers by LLVM's mem2reg), for every ``k`` one broadcast of ``A[r, k]`` per
row and one multiply-add per accumulator.  The multiply and the add carry
LLVM's ``contract`` flag, so on a CPU with FMA they become one fused
instruction and elsewhere they stay two (no library call).  The vector width
is 32 bytes (AVX2: 8 floats or 4 doubles); narrower CPUs split each vector in
two, wider ones still get correct code.

Every element of ``C`` is accumulated in the same order whatever the tile
shape, the number of rows or the thread that computes it:
``acc = C (or 0) + bias; for k in 0..K-1: acc += A[r, k] * B[k, j]``, so
results do not depend on how rows are split over threads or on the batch.

The functions take the full arrays and element offsets, never views, and do no
validation (the callers pass contiguous rows).
"""

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from ._config import JIT

#: Bytes per SIMD vector the tiles are written for (AVX2).
VECTOR_BYTES = 32
#: Bytes per panel row: two vectors.
PANEL_BYTES = 2 * VECTOR_BYTES
_FLAGS = ("contract",)


def _make_tile(MR, NP):
    """An intrinsic computing an ``MR`` x ``NP``-panel tile of ``C (+)= bias + A @ B``.

    Arguments (element offsets into the arrays' data): ``C, ci, ldc`` (tile
    origin and row stride), ``A, ai, lda``, ``Bp, bi`` (first panel), ``K``,
    ``bias, bj`` (the first panel's bias), ``load_c``: with it false the tile
    starts from ``bias`` alone and ``C`` is only written (a branch before the
    loop, not a second copy of the tile: that halved the compile time).
    """

    @intrinsic
    def tile(typingctx, C, ci, ldc, A, ai, lda, Bp, bi, K, bias, bj, load_c):
        sig = types.void(C, ci, ldc, A, ai, lda, Bp, bi, K, bias, bj, load_c)

        def codegen(context, builder, signature, args):
            c_arr, ci_, ldc_, a_arr, ai_, lda_, b_arr, bi_, k_, s_arr, bj_, load_ = args
            ety = context.get_value_type(signature.args[0].dtype)
            size = context.get_abi_sizeof(ety)
            vw = VECTOR_BYTES // size
            pw = 2 * vw
            vty = ir.VectorType(ety, vw)
            vptr = vty.as_pointer()
            i64 = ir.IntType(64)

            def const(v):
                return ir.Constant(i64, v)

            def data(index, value):
                return context.make_array(signature.args[index])(context, builder, value).data

            cp, ap, bp, sp = data(0, c_arr), data(3, a_arr), data(6, b_arr), data(9, s_arr)

            def vector_at(base, offset):
                return builder.bitcast(builder.gep(base, [offset]), vptr)

            rows = [builder.add(ci_, builder.mul(ldc_, const(r))) for r in range(MR)]
            accumulators = [cgutils.alloca_once(builder, vty) for _ in range(2 * MR * NP)]
            flag = context.cast(builder, load_, signature.args[11], types.boolean)
            with builder.if_else(flag) as (add_to_c, overwrite):
                for load_c in (True, False):
                    with (add_to_c if load_c else overwrite):
                        i = 0
                        for r in range(MR):
                            for q in range(2 * NP):
                                column = const(q * vw)
                                start = builder.load(vector_at(sp, builder.add(bj_, column)),
                                                     align=size)
                                if load_c:
                                    current = builder.load(
                                        vector_at(cp, builder.add(rows[r], column)), align=size)
                                    start = builder.fadd(current, start, flags=_FLAGS)
                                builder.store(start, accumulators[i])
                                i += 1
            undef = ir.Constant(vty, ir.Undefined)
            splat = ir.Constant(ir.VectorType(ir.IntType(32), vw), [0] * vw)
            zero32 = ir.Constant(ir.IntType(32), 0)
            panel = builder.mul(k_, const(pw))
            a_rows = [builder.add(ai_, builder.mul(lda_, const(r))) for r in range(MR)]
            with cgutils.for_range(builder, k_) as loop:
                k = loop.index
                b = []
                for p in range(NP):
                    base = builder.add(builder.add(bi_, builder.mul(panel, const(p))),
                                       builder.mul(k, const(pw)))
                    for v in range(2):
                        b.append(builder.load(vector_at(bp, builder.add(base, const(v * vw))),
                                              align=size))
                i = 0
                for r in range(MR):
                    scalar = builder.load(builder.gep(ap, [builder.add(a_rows[r], k)]))
                    broadcast = builder.shuffle_vector(
                        builder.insert_element(undef, scalar, zero32), undef, splat)
                    for q in range(2 * NP):
                        slot = accumulators[i]
                        product = builder.fmul(broadcast, b[q], flags=_FLAGS)
                        builder.store(builder.fadd(builder.load(slot), product, flags=_FLAGS),
                                      slot)
                        i += 1
            i = 0
            for r in range(MR):
                for q in range(2 * NP):
                    builder.store(builder.load(accumulators[i]),
                                  vector_at(cp, builder.add(rows[r], const(q * vw))), align=size)
                    i += 1
            return context.get_dummy_value()

        return sig, codegen

    return tile


# Tiles: MR rows by NP panels, at most 12 accumulators (AVX2 has 16 registers).
# Measured on AVX2 (Zen), float32, K = 100: 6 x 1 panel 67 GF/s, 4 x 1 58,
# 3 x 1 50, 2 x 1 37, 1 x 4 31, 1 x 1 18; tiles of 2 or 3 rows over several
# panels were no faster than over one (35-38), so only single rows use them.
_T61 = _make_tile(6, 1)
_T41 = _make_tile(4, 1)
_T31 = _make_tile(3, 1)
_T21 = _make_tile(2, 1)
_T14 = _make_tile(1, 4)
_T11 = _make_tile(1, 1)


@njit(**JIT)
def panel_width(dtype_example):
    """Columns per panel for arrays of ``dtype_example``'s dtype (16 float32, 8 float64)."""
    return PANEL_BYTES // dtype_example.itemsize


@njit(**JIT)
def packed_size(K, M, like):
    """Length of :func:`pack_panels`' result for a K x M matrix of ``like``'s dtype."""
    pw = panel_width(like)
    return (M + pw - 1) // pw * pw * K


@njit(**JIT)
def pack_panels(B):
    """``B`` (K x M, any strides) packed into panels (1-D, zero-padded to whole panels)."""
    K, M = B.shape
    pw = panel_width(B)
    npanels = (M + pw - 1) // pw
    out = np.zeros(packed_size(K, M, B), B.dtype)
    for p in range(npanels):
        j1 = min(pw, M - p * pw)
        for k in range(K):
            row = out[(p * K + k) * pw:(p * K + k) * pw + j1]
            for j in range(j1):
                row[j] = B[k, p * pw + j]
    return out


@njit(**JIT)
def pad_bias(b):
    """``b`` (M,) zero-padded to whole panels, as :func:`multiply_rows` reads it."""
    out = np.zeros(packed_size(1, b.shape[0], b), b.dtype)
    out[:b.shape[0]] = b
    return out


@njit(**JIT)
def _tile(C, ci, ldc, A, ai, lda, Bp, bi, K, bias, bj, mr, panels, load_c):
    """Dispatch to the tile of ``mr`` rows and ``panels`` panels (4 or 1, for one row)."""
    if mr == 6:
        _T61(C, ci, ldc, A, ai, lda, Bp, bi, K, bias, bj, load_c)
    elif mr == 4:
        _T41(C, ci, ldc, A, ai, lda, Bp, bi, K, bias, bj, load_c)
    elif mr == 3:
        _T31(C, ci, ldc, A, ai, lda, Bp, bi, K, bias, bj, load_c)
    elif mr == 2:
        _T21(C, ci, ldc, A, ai, lda, Bp, bi, K, bias, bj, load_c)
    elif panels == 4:
        _T14(C, ci, ldc, A, ai, lda, Bp, bi, K, bias, bj, load_c)
    else:
        _T11(C, ci, ldc, A, ai, lda, Bp, bi, K, bias, bj, load_c)


@njit(**JIT)
def _row_block(C, c0, A, a0, mr, Bp, bias, load_c, scratch):
    """Rows ``c0:c0 + mr`` of ``C``: whole panels in place, the last partial one via ``scratch``."""
    K = A.shape[1]
    M = C.shape[1]
    ldc = C.strides[0] // C.itemsize
    lda = A.strides[0] // A.itemsize
    pw = panel_width(C)
    full = M // pw
    group = 4 if mr == 1 else 1
    ci = c0 * ldc
    ai = a0 * lda
    p = 0
    while p + group <= full:
        _tile(C, ci + p * pw, ldc, A, ai, lda, Bp, p * K * pw, K, bias, p * pw, mr, group, load_c)
        p += group
    while p < full:
        _tile(C, ci + p * pw, ldc, A, ai, lda, Bp, p * K * pw, K, bias, p * pw, mr, 1, load_c)
        p += 1
    rest = M - full * pw
    if rest > 0:
        j0 = full * pw
        if load_c:
            for r in range(mr):
                row = C[c0 + r]
                for j in range(rest):
                    scratch[r * pw + j] = row[j0 + j]
        _tile(scratch, 0, pw, A, ai, lda, Bp, full * K * pw, K, bias, j0, mr, 1, load_c)
        for r in range(mr):
            row = C[c0 + r]
            for j in range(rest):
                row[j0 + j] = scratch[r * pw + j]


@njit(**JIT)
def multiply_rows(C, c0, A, a0, n, Bp, bias, load_c):
    """``C[c0 + r] = (C[c0 + r] if load_c else 0) + bias + A[a0 + r] @ B`` for ``r < n``.

    Parameters
    ----------
    C : ndarray of shape (., M)
        Output rows (unit column stride).
    c0 : int
        First row of ``C``.
    A : ndarray of shape (., K)
        Input rows (unit column stride).
    a0 : int
        First row of ``A``.
    n : int
        Number of rows.
    Bp : ndarray
        ``B`` (K x M) packed by :func:`pack_panels`.
    bias : ndarray
        Bias padded by :func:`pad_bias` (zeros for none).
    load_c : bool
        Add to ``C`` (true) or overwrite it.
    """
    pw = panel_width(C)
    scratch = np.zeros(6 * pw, C.dtype)
    r = 0
    while r < n:
        m = n - r
        # 8 rows as 4 + 4 and 5 as 4 + 1 beat 6 + 2 and 3 + 2 (see the rates above)
        mr = 6 if (m >= 6 and m != 8) else (4 if m >= 4 else m)
        _row_block(C, c0 + r, A, a0 + r, mr, Bp, bias, load_c, scratch)
        r += mr
