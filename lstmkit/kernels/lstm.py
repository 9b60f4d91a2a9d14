"""Numba kernels for the LSTM layer, forward and backward.

Layout
------
All sequence data are *packed* and time-major, as in PyTorch's
``PackedSequence``: the N sequences of a mini-batch are sorted by length,
longest first, and the rows of time step ``t`` are the first
``batch_sizes[t]`` sequences.  The rows of all time steps are stacked, so a
packed array has ``S = sum(lengths)`` rows, and the rows of step ``t`` start at
``offsets[t] = batch_sizes[:t].sum()``.  Padding never exists: a sequence that
has ended simply drops out of the active prefix and its state stays frozen, so
its output and gradient cannot depend on its neighbours.

Gate blocks follow MATLAB's order input ``i``, forget ``f``, cell candidate
``g``, output ``o``: rows ``0:H``, ``H:2H``, ``2H:3H``, ``3H:4H`` of the weights.

.. math::

    i_t &= \\sigma_g(W_i x_t + R_i h_{t-1} + b_i) \\\\
    f_t &= \\sigma_g(W_f x_t + R_f h_{t-1} + b_f) \\\\
    g_t &= \\sigma_s(W_g x_t + R_g h_{t-1} + b_g) \\\\
    o_t &= \\sigma_g(W_o x_t + R_o h_{t-1} + b_o) \\\\
    c_t &= f_t \\odot c_{t-1} + i_t \\odot g_t \\\\
    h_t &= o_t \\odot \\sigma_s(c_t)

Two classic variants are options of the same kernels (lstmkit extensions,
as in the ONNX LSTM operator): *peepholes* add ``p_i * c_{t-1}`` and
``p_f * c_{t-1}`` to the input and forget preactivations and ``p_o * c_t`` to
the output gate's (``P`` holds the diagonal weights p_i, p_f, p_o; an empty
``P`` means none), and *coupled input and forget gates* set ``i_t = 1 - f_t``
(the input-gate rows of W, R and b are then unused and get zero gradient).

The kernels take contiguous arrays of one dtype (float32 or float64) and do no
validation; :mod:`lstmkit.layers.lstm` is the checked entry point.

Vectorization: the per-row gate math is written as short passes over 1-D
slices indexed from zero (``zi = z[:H]; for j in range(H): zi[j] = ...``).
LLVM vectorizes these; a single loop touching ``z[H + j]``, ``z[2 * H + j]``
and five other arrays it cannot prove distinct stays scalar (measured 4-5x
slower on the gate math).

Threads: the batch rows are split into contiguous chunks (``chunks``, row
boundaries in the sorted batch); each Numba thread runs the whole time loop
for its rows, with its own single-threaded BLAS calls, so there is one
parallel region per call and no barrier per time step (sequences are
independent).  The big GEMMs over all packed rows are split by rows the same
way (see :mod:`lstmkit.kernels._threads`).
"""

import numpy as np
from numba import njit, prange

from ._config import JIT, JIT_PARALLEL
from ._fpu import flush_denormals, restore_fpu
from ._threads import blas_threads_local
from .activations import gate, gate_grad, state, state_grad
from .blas import par_dot, par_tdot
from .microkernel import multiply_rows, pack_panels, packed_size, pad_bias


@njit(**JIT)
def packed_offsets(batch_sizes):
    """Row offset of every time step in a packed array.

    Parameters
    ----------
    batch_sizes : ndarray of int64, shape (T,)
        Number of active sequences at each time step (non-increasing).

    Returns
    -------
    offsets : ndarray of int64, shape (T + 1,)
        ``offsets[t]`` is the first packed row of step ``t``; ``offsets[T]`` is
        the total number of rows.
    """
    T = batch_sizes.shape[0]
    offsets = np.empty(T + 1, np.int64)
    offsets[0] = 0
    for t in range(T):
        offsets[t + 1] = offsets[t] + batch_sizes[t]
    return offsets


@njit(**JIT)
def block_rows(offsets, block):
    """Most packed rows in any run of ``block`` time steps (the projection buffer's size)."""
    T = offsets.shape[0] - 1
    rows = 0
    for t0 in range(0, T, block):
        rows = max(rows, offsets[min(t0 + block, T)] - offsets[t0])
    return rows


@njit(**JIT)
def lstm_unit(ai, af, ag, ao, cp, pi, pf, po, peep, coupled, gate_kind, state_kind):
    """The gate math of one hidden unit of one row: the GPU kernels' forward, from preactivations.

    Returns the activated gates ``(i, f, g, o)``, the new cell state and the
    hidden output, given the unit's four preactivations, its previous cell
    state ``cp`` and peephole weights (used when ``peep``).  The CPU kernel
    (:func:`_lstm_cell`) computes the same in passes over whole rows, which
    LLVM vectorizes; the kernel tests check the two against one reference.
    """
    if peep:
        ai += pi * cp
        af += pf * cp
    f = gate(af, gate_kind)
    i = type(af)(1.0) - f if coupled else gate(ai, gate_kind)
    g = state(ag, state_kind)
    c = f * cp + i * g
    if peep:
        ao += po * c
    o = gate(ao, gate_kind)
    return i, f, g, o, c, o * state(c, state_kind)


@njit(**JIT)
def lstm_unit_backward(i, f, g, o, gh, sc, cp, dc, pi, pf, po, peep, coupled, gate_kind,
                       state_kind):
    """Gradients of one unit of one row through :func:`lstm_unit` (CPU and GPU kernels).

    From the activated gates, the gradient ``gh`` of the hidden output, the
    activated cell state ``sc = state(c)``, the previous cell state ``cp`` and
    the gradient ``dc`` of the cell state: returns the gradients of the four
    preactivations and of the previous cell state.  (The peephole weights'
    gradients are ``di cp``, ``df cp`` and ``do c``.)
    """
    do_ = gh * sc * gate_grad(o, gate_kind)
    dct = dc + gh * o * state_grad(sc, state_kind)
    if peep:
        dct += do_ * po
    if coupled:
        di_ = type(i)(0.0)
        df_ = dct * (cp - g) * gate_grad(f, gate_kind)
    else:
        di_ = dct * g * gate_grad(i, gate_kind)
        df_ = dct * cp * gate_grad(f, gate_kind)
    dg_ = dct * i * state_grad(g, state_kind)
    dnext = dct * f
    if peep:
        dnext += di_ * pi + df_ * pf
    return di_, df_, dg_, do_, dnext


@njit(**JIT)
def _lstm_cell(a, c, h, P, H, gate_kind, state_kind, coupled):
    """One row of LSTM gate math, in place.

    ``a`` holds the 4H preactivations on entry and the activated gates on exit;
    ``c`` the previous cell state on entry and the new one on exit; ``h``
    receives the new hidden state.  ``P`` (3H or empty) are peephole weights.
    """
    peep = P.shape[0] > 0
    ai = a[:H]
    af = a[H:2 * H]
    ag = a[2 * H:3 * H]
    ao = a[3 * H:]
    if peep:
        pi = P[:H]
        pf = P[H:2 * H]
        for j in range(H):
            ai[j] += pi[j] * c[j]
        for j in range(H):
            af[j] += pf[j] * c[j]
    if coupled:
        one = a.dtype.type(1.0)
        for j in range(H):
            af[j] = gate(af[j], gate_kind)
        for j in range(H):
            ai[j] = one - af[j]
    else:
        aif = a[:2 * H]  # input and forget gates are adjacent
        for j in range(2 * H):
            aif[j] = gate(aif[j], gate_kind)
    for j in range(H):
        ag[j] = state(ag[j], state_kind)
    for j in range(H):
        c[j] = af[j] * c[j] + ai[j] * ag[j]
    if peep:
        po = P[2 * H:]
        for j in range(H):
            ao[j] += po[j] * c[j]
    for j in range(H):
        ao[j] = gate(ao[j], gate_kind)
    for j in range(H):
        h[j] = ao[j] * state(c[j], state_kind)


@njit(**JIT)
def _recurrence(proj, base, Rpan, bpan, P, h, c, batch_sizes, offsets, t0, t1, k0, k1, gate_kind,
                state_kind, coupled, cell, hidden):
    """Steps ``t0:t1`` of rows ``k0:k1``: one product and the gate math per step.

    ``proj`` holds the input projections (row ``offsets[t] + k - base``); the
    product adds the bias and ``h @ R.T`` to them (``Rpan``, ``bpan``: R.T and
    b packed by :func:`~.microkernel.pack_panels` and :func:`~.microkernel.pad_bias`)
    and the activated gates then replace them.  ``cell``/``hidden`` (or empty)
    receive every row's states.
    """
    H = h.shape[1]
    store_cell = cell.shape[0] > 0
    store_hidden = hidden.shape[0] > 0
    for t in range(t0, t1):
        ke = min(k1, batch_sizes[t])
        if ke <= k0:
            break  # sorted by length: these rows have ended
        off = offsets[t]
        multiply_rows(proj, off + k0 - base, h, k0, ke - k0, Rpan, bpan, True)
        for k in range(k0, ke):
            a = proj[off + k - base]
            ck = c[k]
            hk = h[k]
            _lstm_cell(a, ck, hk, P, H, gate_kind, state_kind, coupled)
            if store_cell:
                cell[off + k] = ck
            if store_hidden:
                hidden[off + k] = hk


@njit(**JIT_PARALLEL)
def _forward_chunks(proj, base, Rpan, bpan, P, h, c, batch_sizes, offsets, t0, t1, gate_kind,
                    state_kind, coupled, cell, hidden, chunks):
    """Run :func:`_recurrence` for every chunk of rows, one chunk per thread."""
    for q in prange(chunks.shape[0] - 1):
        fq = flush_denormals()
        _recurrence(proj, base, Rpan, bpan, P, h, c, batch_sizes, offsets, t0, t1, chunks[q],
                    chunks[q + 1], gate_kind, state_kind, coupled, cell, hidden)
        restore_fpu(fq)


@njit(**JIT)
def unit_parts(H, nparts):
    """Boundaries splitting the H hidden units into ``nparts`` contiguous parts (int64)."""
    n = max(1, min(nparts, H))
    out = np.empty(n + 1, np.int64)
    for q in range(n + 1):
        out[q] = q * H // n
    return out


@njit(**JIT)
def pack_unit_parts(R, b, P, parts):
    """The weights of each part of hidden units, part by part: ``(Rp, bp, Pp)``.

    Part ``q`` (units ``u0:u1``, ``Hq`` of them) owns rows ``4 * u0`` to
    ``4 * u1`` of ``Rp`` and ``bp``: its gate blocks i, f, g, o one after the
    other (``Hq`` rows each), so that one GEMM gives the part all four gates
    of its units; ``Pp`` likewise holds p_i, p_f, p_o of each part (3Hq).
    """
    H = R.shape[1]
    Rp = np.empty_like(R)
    bp = np.empty_like(b)
    Pp = np.empty_like(P)
    for q in range(parts.shape[0] - 1):
        u0 = parts[q]
        Hq = parts[q + 1] - u0
        for g in range(4):
            for j in range(Hq):
                Rp[4 * u0 + g * Hq + j] = R[g * H + u0 + j]
                bp[4 * u0 + g * Hq + j] = b[g * H + u0 + j]
        if P.shape[0] > 0:
            for g in range(3):
                for j in range(Hq):
                    Pp[3 * u0 + g * Hq + j] = P[g * H + u0 + j]
    return Rp, bp, Pp


@njit(**JIT)
def pack_part_panels(R, b, P, parts):
    """Each part's weights packed for the microkernel: ``(Rpan, bpan, wstart, bstart, Pp)``.

    Part ``q`` multiplies by ``B_q = Rp[4 * u0:4 * u1].T`` (its rows of
    :func:`pack_unit_parts`' ``Rp``, ``Pp`` its peepholes); its panels are
    ``Rpan[wstart[q]:wstart[q + 1]]`` and its padded bias
    ``bpan[bstart[q]:bstart[q + 1]]``.
    """
    Rp, bp, Pp = pack_unit_parts(R, b, P, parts)
    H = Rp.shape[1]
    n = parts.shape[0] - 1
    wstart = np.zeros(n + 1, np.int64)
    bstart = np.zeros(n + 1, np.int64)
    for q in range(n):
        columns = 4 * (parts[q + 1] - parts[q])
        wstart[q + 1] = wstart[q] + packed_size(H, columns, Rp)
        bstart[q + 1] = bstart[q] + packed_size(1, columns, Rp)
    Rpan = np.empty(wstart[n], Rp.dtype)
    bpan = np.empty(bstart[n], Rp.dtype)
    for q in range(n):
        u0 = parts[q]
        u1 = parts[q + 1]
        Rpan[wstart[q]:wstart[q + 1]] = pack_panels(Rp[4 * u0:4 * u1].T)
        bpan[bstart[q]:bstart[q + 1]] = pad_bias(bp[4 * u0:4 * u1])
    return Rpan, bpan, wstart, bstart, Pp


@njit(**JIT_PARALLEL)
def _columns_step(proj, first, Rpan, bpan, wstart, bstart, Pp, h, c, hnew, ke, parts, gate_kind,
                  state_kind, coupled, rec, cell, hidden, out):
    """One time step of the first ``ke`` rows, the hidden units split over threads.

    Each part gathers its units' input projections, adds the bias and its
    rows' product with its own slice of the recurrent weights
    (:func:`pack_part_panels`), runs the gate math of its units and puts the
    activated gates back into ``proj[first + k]``; the new hidden states go to
    ``hnew`` (the old ones, ``h``, are read by every part).  Every value is
    summed in the same order as in :func:`_recurrence`, so splitting by units
    does not change the results.
    """
    H = h.shape[1]
    N = h.shape[0]
    store_cell = cell.shape[0] > 0
    store_hidden = hidden.shape[0] > 0
    for q in prange(parts.shape[0] - 1):
        fq = flush_denormals()
        u0 = parts[q]
        u1 = parts[q + 1]
        Hq = u1 - u0
        rq = rec[N * 4 * u0:N * 4 * u0 + ke * 4 * Hq].reshape((ke, 4 * Hq))
        for k in range(ke):
            a = rq[k]
            row = proj[first + k]
            for g in range(4):
                a[g * Hq:(g + 1) * Hq] = row[g * H + u0:g * H + u1]
        multiply_rows(rq, 0, h, 0, ke, Rpan[wstart[q]:wstart[q + 1]],
                      bpan[bstart[q]:bstart[q + 1]], True)
        Pq = Pp[3 * u0:3 * u1] if Pp.shape[0] > 0 else Pp
        for k in range(ke):
            a = rq[k]
            row = proj[first + k]
            ck = c[k, u0:u1]
            hk = hnew[k, u0:u1]
            _lstm_cell(a, ck, hk, Pq, Hq, gate_kind, state_kind, coupled)
            for g in range(4):
                row[g * H + u0:g * H + u1] = a[g * Hq:(g + 1) * Hq]
            if store_cell:
                cell[out + k, u0:u1] = ck
            if store_hidden:
                hidden[out + k, u0:u1] = hk
        restore_fpu(fq)


@njit(**JIT)
def _recurrence_columns(proj, base, packed, h, c, batch_sizes, offsets, t0, t1, parts,
                        gate_kind, state_kind, coupled, cell, hidden):
    """Steps ``t0:t1`` with the hidden units split over threads (one region per step).

    For large recurrent weights (megabytes): split by rows, every thread would
    stream all of them from memory at every step; split by units, they are
    read once per step in all, and a part's slice may stay in its core's cache.
    ``packed`` is :func:`pack_part_panels`' result and the parts' peepholes.
    """
    N, H = h.shape
    Rpan, bpan, wstart, bstart, Pp = packed
    rec = np.empty(N * 4 * H, h.dtype)
    hnew = np.empty_like(h)
    for t in range(t0, t1):
        ke = batch_sizes[t]
        off = offsets[t]
        _columns_step(proj, off - base, Rpan, bpan, wstart, bstart, Pp, h, c, hnew, ke, parts,
                      gate_kind, state_kind, coupled, rec, cell, hidden, off)
        h[:ke] = hnew[:ke]


@njit(**JIT)
def lstm_forward_train(x, W, R, b, P, h, c, batch_sizes, gate_kind, state_kind, coupled, gates,
                       cell, hidden, chunks):
    """LSTM forward pass that keeps what the backward pass needs.

    Parameters
    ----------
    x : ndarray of shape (S, C)
        Packed input.
    W : ndarray of shape (4H, C)
        Input weights, gate blocks i, f, g, o.
    R : ndarray of shape (4H, H)
        Recurrent weights.
    b : ndarray of shape (4H,)
        Bias.
    P : ndarray of shape (3H,) or (0,)
        Peephole weights p_i, p_f, p_o, or empty for a plain LSTM.
    h, c : ndarray of shape (N, H)
        On entry the initial hidden and cell states (sorted like the batch);
        on exit each sequence's state after its own last time step.
    batch_sizes : ndarray of int64, shape (T,)
        Active sequences per time step.
    gate_kind, state_kind : int
        Activation codes from :mod:`lstmkit.kernels._config`.
    coupled : bool
        Couple the input and forget gates (``i = 1 - f``).
    gates : ndarray of shape (S, 4H)
        Output: activated gates i, f, g, o of every packed row.
    cell : ndarray of shape (S, H)
        Output: cell state :math:`c_t` of every packed row.
    hidden : ndarray of shape (S, H)
        Output: hidden state :math:`h_t` of every packed row.
    chunks : ndarray of int64
        Row boundaries of the batch chunks, one per thread (``[0, ..., N]``).

    Notes
    -----
    The input projection of all time steps is one GEMM into ``gates`` (split
    by rows over the threads); each thread then runs, for its chunk, one GEMM
    ``h @ R.T`` per step and the fused gate math.  No memory is allocated
    inside the time loop.  :func:`lstm_forward_train_units` splits each step by
    hidden units instead (a separate entry point: it compiles only when used).
    """
    fpu = flush_denormals()
    blas = blas_threads_local(1)  # BLAS stays single-threaded inside our threads
    T = batch_sizes.shape[0]
    nch = chunks.shape[0] - 1
    par_dot(x, W.T, gates, nch)
    offsets = packed_offsets(batch_sizes)
    zero = np.int64(0)  # a literal 0 would compile a second specialization of the loop
    _forward_chunks(gates, zero, pack_panels(R.T), pad_bias(b), P, h, c, batch_sizes, offsets,
                    zero, T, gate_kind, state_kind, coupled, cell, hidden, chunks)
    blas_threads_local(blas)
    restore_fpu(fpu)


@njit(**JIT)
def lstm_forward_train_units(x, W, R, b, P, h, c, batch_sizes, gate_kind, state_kind, coupled,
                             gates, cell, hidden, chunks, parts):
    """:func:`lstm_forward_train` with every step split by hidden units over the threads.

    ``parts`` (:func:`unit_parts`) are the boundaries of the parts of the
    hidden units; the other arguments and the results are those of
    :func:`lstm_forward_train`.  For large recurrent weights with few rows per
    thread (see :func:`_recurrence_columns`).
    """
    fpu = flush_denormals()
    blas = blas_threads_local(1)
    T = batch_sizes.shape[0]
    par_dot(x, W.T, gates, chunks.shape[0] - 1)
    offsets = packed_offsets(batch_sizes)
    zero = np.int64(0)
    _recurrence_columns(gates, zero, pack_part_panels(R, b, P, parts), h, c, batch_sizes,
                        offsets, zero, T, parts, gate_kind, state_kind, coupled, cell, hidden)
    blas_threads_local(blas)
    restore_fpu(fpu)


@njit(**JIT)
def lstm_forward_predict(x, W, R, b, P, h, c, batch_sizes, gate_kind, state_kind, coupled, hidden,
                         block, chunks):
    """LSTM forward pass for prediction: no gate storage, bounded memory.

    Parameters
    ----------
    x : ndarray of shape (S, C)
        Packed input.
    W, R, b, P : ndarray
        Weights as in :func:`lstm_forward_train`.
    h, c : ndarray of shape (N, H)
        Initial states on entry, final states (after each sequence's own last
        step) on exit.
    batch_sizes : ndarray of int64, shape (T,)
        Active sequences per time step.
    gate_kind, state_kind : int
        Activation codes.
    coupled : bool
        Couple the input and forget gates.
    hidden : ndarray of shape (S, H) or (0, H)
        Output: the hidden state of every packed row, or an empty array when
        only the final state is wanted (OutputMode 'last').
    block : int
        Number of time steps whose input projection is computed at once;
        memory is O(block * N * 4H) whatever the sequence length.
    chunks : ndarray of int64
        Row boundaries of the batch chunks, one per thread.
    """
    fpu = flush_denormals()
    blas = blas_threads_local(1)  # BLAS stays single-threaded inside our threads
    H = R.shape[1]
    T = batch_sizes.shape[0]
    nch = chunks.shape[0] - 1
    offsets = packed_offsets(batch_sizes)
    proj = np.empty((block_rows(offsets, block), 4 * H), h.dtype)
    nocell = np.empty((0, H), h.dtype)
    Rpan = pack_panels(R.T)
    bpan = pad_bias(b)
    for t0 in range(0, T, block):
        t1 = min(t0 + block, T)
        base = offsets[t0]
        par_dot(x[base:offsets[t1]], W.T, proj[:offsets[t1] - base], nch)
        _forward_chunks(proj, base, Rpan, bpan, P, h, c, batch_sizes, offsets, t0, t1, gate_kind,
                        state_kind, coupled, nocell, hidden, chunks)
    blas_threads_local(blas)
    restore_fpu(fpu)


@njit(**JIT)
def lstm_forward_predict_units(x, W, R, b, P, h, c, batch_sizes, gate_kind, state_kind, coupled,
                               hidden, block, chunks, parts):
    """:func:`lstm_forward_predict` with every step split by hidden units (``parts``)."""
    fpu = flush_denormals()
    blas = blas_threads_local(1)
    H = R.shape[1]
    T = batch_sizes.shape[0]
    nch = chunks.shape[0] - 1
    offsets = packed_offsets(batch_sizes)
    proj = np.empty((block_rows(offsets, block), 4 * H), h.dtype)
    nocell = np.empty((0, H), h.dtype)
    packed = pack_part_panels(R, b, P, parts)
    for t0 in range(0, T, block):
        t1 = min(t0 + block, T)
        base = offsets[t0]
        par_dot(x[base:offsets[t1]], W.T, proj[:offsets[t1] - base], nch)
        _recurrence_columns(proj, base, packed, h, c, batch_sizes, offsets, t0, t1, parts,
                            gate_kind, state_kind, coupled, nocell, hidden)
    blas_threads_local(blas)
    restore_fpu(fpu)


@njit(**JIT)
def row_output_grad(gh, dh_row, dhidden, r):
    """``gh = dh_row + dhidden[r]``: the recurrent and (sequence output) direct gradient."""
    gh[:] = dh_row
    if dhidden.shape[0] > 0:
        dy = dhidden[r]
        for j in range(gh.shape[0]):
            gh[j] += dy[j]


@njit(**JIT)
def _cell_backward(a, gh, sc, cp, ct, dck, P, dP, H, j0, j1, gate_kind, state_kind, coupled):
    """Gate gradients of one packed row for the hidden units ``j0:j1``, in place.

    ``a`` (4H) holds the row's activated gates on entry and their gradients on
    exit; ``gh`` (H) the gradient of its hidden output, ``dck`` (H) of its
    cell state on entry and of the previous cell state on exit; ``cp``/``ct``
    the previous and this step's cell states; ``sc`` (H) a work buffer.
    Peephole partials are added to ``dP`` (3H, or empty).
    """
    peep = P.shape[0] > 0
    n = j1 - j0
    ai = a[j0:j1]
    af = a[H + j0:H + j1]
    ag = a[2 * H + j0:2 * H + j1]
    ao = a[3 * H + j0:3 * H + j1]
    gq = gh[j0:j1]
    sq = sc[j0:j1]
    cpq = cp[j0:j1]
    ctq = ct[j0:j1]
    dq = dck[j0:j1]
    for j in range(n):
        sq[j] = state(ctq[j], state_kind)
    if peep:
        pi = P[j0:j1]
        pf = P[H + j0:H + j1]
        po = P[2 * H + j0:2 * H + j1]
        dpi = dP[j0:j1]
        dpf = dP[H + j0:H + j1]
        dpo = dP[2 * H + j0:2 * H + j1]
    zero = a.dtype.type(0.0)
    for j in range(n):
        pij, pfj, poj = (pi[j], pf[j], po[j]) if peep else (zero, zero, zero)
        di_, df_, dg_, do_, dnext = lstm_unit_backward(
            ai[j], af[j], ag[j], ao[j], gq[j], sq[j], cpq[j], dq[j], pij, pfj, poj, peep,
            coupled, gate_kind, state_kind)
        if peep:
            dpi[j] += di_ * cpq[j]
            dpf[j] += df_ * cpq[j]
            dpo[j] += do_ * ctq[j]
        ai[j] = di_
        af[j] = df_
        ag[j] = dg_
        ao[j] = do_
        dq[j] = dnext


@njit(**JIT)
def _backward_rows(Rpan, zeros, P, c0, batch_sizes, offsets, k0, k1, gate_kind, state_kind,
                   coupled, gates, cell, dhidden, dh, dc, dP):
    """The reverse time loop for rows ``k0:k1`` (gate gradients replace the gates).

    ``Rpan`` is R packed by :func:`~.microkernel.pack_panels` for ``dh = dG_t @ R``,
    ``zeros`` a zero bias padded to whole panels.
    """
    H = dh.shape[1]
    T = batch_sizes.shape[0]
    gh = np.empty(H, gates.dtype)
    sc = np.empty(H, gates.dtype)
    for t in range(T - 1, -1, -1):
        ke = min(k1, batch_sizes[t])
        if ke <= k0:
            continue  # these rows start later (in reverse time)
        off = offsets[t]
        for k in range(k0, ke):
            r = off + k
            cp = cell[offsets[t - 1] + k] if t > 0 else c0[k]
            row_output_grad(gh, dh[k], dhidden, r)
            _cell_backward(gates[r], gh, sc, cp, cell[r], dc[k], P, dP, H, 0, H, gate_kind,
                           state_kind, coupled)
        multiply_rows(dh, k0, gates, off + k0, ke - k0, Rpan, zeros, False)


@njit(**JIT_PARALLEL)
def _backward_units_step(Rpan, wstart, zeros, P, c0, batch_sizes, offsets, t, parts, gate_kind,
                         state_kind, coupled, gates, cell, dhidden, dh, dc, dP):
    """Step ``t`` of the reverse loop with the hidden units split over threads.

    Each part first takes its columns of ``dh`` from the gradients of step
    ``t + 1`` (``dG_{t+1} @ R[:, units]``, with each part's columns of R
    packed in ``Rpan[wstart[q]:wstart[q + 1]]``), then the gate gradients of step ``t`` for its
    units (``t = -1``: only the first, giving the gradient of ``h0``).
    """
    H = dh.shape[1]
    T = batch_sizes.shape[0]
    for q in prange(parts.shape[0] - 1):
        fq = flush_denormals()
        u0 = parts[q]
        u1 = parts[q + 1]
        Hq = u1 - u0
        if t + 1 < T:
            multiply_rows(dh[:, u0:u1], 0, gates, offsets[t + 1], batch_sizes[t + 1],
                          Rpan[wstart[q]:wstart[q + 1]], zeros, False)
        if t >= 0:
            gh = np.empty(H, gates.dtype)
            sc = np.empty(H, gates.dtype)
            off = offsets[t]
            for k in range(batch_sizes[t]):
                r = off + k
                cp = cell[offsets[t - 1] + k] if t > 0 else c0[k]
                dk = dh[k]
                ghq = gh[u0:u1]
                for j in range(Hq):
                    ghq[j] = dk[u0 + j]
                if dhidden.shape[0] > 0:
                    dy = dhidden[r]
                    for j in range(Hq):
                        ghq[j] += dy[u0 + j]
                _cell_backward(gates[r], gh, sc, cp, cell[r], dc[k], P, dP, H, u0, u1,
                               gate_kind, state_kind, coupled)
        restore_fpu(fq)


@njit(**JIT)
def _backward_units(R, P, c0, batch_sizes, offsets, parts, gate_kind, state_kind, coupled, gates,
                    cell, dhidden, dh, dc, dP):
    """The reverse loop with the hidden units split over threads (one region per step).

    The counterpart of :func:`_recurrence_columns`: large recurrent weights are
    read once per step in all, not once per thread.
    """
    H = R.shape[1]
    n = parts.shape[0] - 1
    wstart = np.zeros(n + 1, np.int64)
    for q in range(n):
        wstart[q + 1] = wstart[q] + packed_size(4 * H, parts[q + 1] - parts[q], R)
    Rpan = np.empty(wstart[n], R.dtype)      # each part's columns of R, packed
    for q in range(n):
        Rpan[wstart[q]:wstart[q + 1]] = pack_panels(R[:, parts[q]:parts[q + 1]])
    zeros = pad_bias(np.zeros(H, R.dtype))
    for t in range(batch_sizes.shape[0] - 1, -2, -1):
        _backward_units_step(Rpan, wstart, zeros, P, c0, batch_sizes, offsets, t, parts,
                             gate_kind, state_kind, coupled, gates, cell, dhidden, dh, dc, dP)


@njit(**JIT_PARALLEL)
def _backward_chunks(Rpan, zeros, P, c0, batch_sizes, offsets, gate_kind, state_kind, coupled,
                     gates, cell, dhidden, dh, dc, dPs, chunks):
    """Run :func:`_backward_rows` for every chunk of rows, one chunk per thread."""
    for q in prange(chunks.shape[0] - 1):
        fq = flush_denormals()
        _backward_rows(Rpan, zeros, P, c0, batch_sizes, offsets, chunks[q], chunks[q + 1],
                       gate_kind, state_kind, coupled, gates, cell, dhidden, dh, dc, dPs[q])
        restore_fpu(fq)


@njit(**JIT)
def lstm_backward(x, W, R, P, h0, c0, batch_sizes, gate_kind, state_kind, coupled, gates, cell,
                  hidden, dhidden, dh, dc, dW, dR, db, dP, dx, chunks):
    """Backward pass through time of :func:`lstm_forward_train`.

    Parameters
    ----------
    x : ndarray of shape (S, C)
        Packed input of the forward pass.
    W, R, P : ndarray
        Input, recurrent and peephole weights (``P`` may be empty).
    h0, c0 : ndarray of shape (N, H)
        Initial states of the forward pass.
    batch_sizes : ndarray of int64, shape (T,)
        Active sequences per time step.
    gate_kind, state_kind : int
        Activation codes.
    coupled : bool
        Input and forget gates coupled.
    gates, cell, hidden : ndarray
        What :func:`lstm_forward_train` stored.  ``gates`` is overwritten with
        the gate gradients (no second S-by-4H buffer).
    dhidden : ndarray of shape (S, H) or (0, H)
        Gradient of the loss with respect to every packed hidden output
        (OutputMode 'sequence'), or empty.
    dh, dc : ndarray of shape (N, H)
        On entry the gradient with respect to each sequence's final hidden and
        cell state (OutputMode 'last' puts its gradient in ``dh``); on exit the
        gradient with respect to the initial states ``h0`` and ``c0``.
    dW : ndarray of shape (4H, C)
        Output: gradient of the input weights.
    dR : ndarray of shape (4H, H)
        Output: gradient of the recurrent weights.
    db : ndarray of shape (4H,)
        Output: gradient of the bias.
    dP : ndarray of shape (3H,) or (0,)
        Output: gradient of the peephole weights.
    dx : ndarray of shape (S, C) or (0, C)
        Output: gradient of the input, or an empty array when not needed.
    chunks : ndarray of int64
        Row boundaries of the batch chunks, one per thread.

    Notes
    -----
    Each thread runs the reverse loop for its chunk of sequences: elementwise
    gate math and one GEMM per step (``dh = dG_t @ R``).  The weight gradients
    and ``dx`` are then GEMMs over all ``S`` packed rows, split by rows over
    the threads: ``dW = dG.T @ x``, ``dR = dG.T @ h_prev``, ``dx = dG @ W``.
    :func:`lstm_backward_units` splits the reverse loop by hidden units instead.
    """
    fpu = flush_denormals()
    blas = blas_threads_local(1)  # BLAS stays single-threaded inside our threads
    nch = chunks.shape[0] - 1
    offsets = packed_offsets(batch_sizes)
    dPs = np.zeros((nch, P.shape[0]), gates.dtype)  # per-thread peephole partials
    _backward_chunks(pack_panels(R), pad_bias(np.zeros(R.shape[1], R.dtype)), P, c0,
                     batch_sizes, offsets, gate_kind, state_kind, coupled, gates, cell, dhidden,
                     dh, dc, dPs, chunks)
    dP[:] = 0
    for q in range(nch):
        dP += dPs[q]
    _weight_gradients(x, W, h0, batch_sizes, offsets, gates, hidden, dW, dR, db, dx, nch)
    blas_threads_local(blas)
    restore_fpu(fpu)


@njit(**JIT)
def lstm_backward_units(x, W, R, P, h0, c0, batch_sizes, gate_kind, state_kind, coupled, gates,
                        cell, hidden, dhidden, dh, dc, dW, dR, db, dP, dx, chunks, parts):
    """:func:`lstm_backward` with the reverse loop split by hidden units (``parts``).

    The counterpart of :func:`lstm_forward_train_units`, with the same
    arguments and results as :func:`lstm_backward`.
    """
    fpu = flush_denormals()
    blas = blas_threads_local(1)
    offsets = packed_offsets(batch_sizes)
    dP[:] = 0                                    # parts own disjoint units of dP
    _backward_units(R, P, c0, batch_sizes, offsets, parts, gate_kind, state_kind, coupled,
                    gates, cell, dhidden, dh, dc, dP)
    _weight_gradients(x, W, h0, batch_sizes, offsets, gates, hidden, dW, dR, db, dx,
                      chunks.shape[0] - 1)
    blas_threads_local(blas)
    restore_fpu(fpu)


@njit(**JIT)
def _weight_gradients(x, W, h0, batch_sizes, offsets, gates, hidden, dW, dR, db, dx, nch):
    """``dR``, ``dW``, ``db`` and ``dx`` from the gate gradients (which replace ``gates``)."""
    H = h0.shape[1]
    T = batch_sizes.shape[0]
    S = x.shape[0]
    G = 4 * H
    N = batch_sizes[0]
    dgates = gates
    if batch_sizes[T - 1] == N:
        # equal lengths: the previous hidden state of row r is row r - N (h0 for step 0)
        par_tdot(dgates[N:], hidden[:S - N], dR, nch)
        part = np.empty_like(dR)
        np.dot(dgates[:N].T, h0, part)
        dR += part
    else:
        hprev = np.empty((S, H), gates.dtype)
        hprev[:N] = h0
        for t in range(1, T):
            n = batch_sizes[t]
            hprev[offsets[t]:offsets[t] + n] = hidden[offsets[t - 1]:offsets[t - 1] + n]
        par_tdot(dgates, hprev, dR, nch)
    par_tdot(dgates, x, dW, nch)
    db[:] = 0
    for r in range(S):
        d = dgates[r]
        for m in range(G):
            db[m] += d[m]
    if dx.shape[0] > 0:
        par_dot(dgates, W, dx, nch)
