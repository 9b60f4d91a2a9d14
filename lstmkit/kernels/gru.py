"""Numba kernels for the GRU layer, forward and backward, in MATLAB's three reset modes.

Same packed, time-major layout as :mod:`lstmkit.kernels.lstm`.  Gate blocks
are MATLAB's order: reset r, update z, candidate h~ (rows ``0:H``, ``H:2H``,
``2H:3H``).  ``b`` is the input-side bias (3H) and ``bR`` the recurrent-side
bias (3H; zero except in 'recurrent-bias-after-multiplication').

.. math::

    r_t &= \\sigma_g(W_r x_t + R_r h_{t-1} + b_r + b^R_r) \\\\
    z_t &= \\sigma_g(W_z x_t + R_z h_{t-1} + b_z + b^R_z) \\\\
    \\tilde h_t &= \\sigma_s(W_h x_t + b_h + r_t \\odot (R_h h_{t-1} + b^R_h))
        \\quad \\text{(after multiplication)} \\\\
    \\tilde h_t &= \\sigma_s(W_h x_t + b_h + R_h (r_t \\odot h_{t-1}))
        \\quad \\text{(before multiplication)} \\\\
    h_t &= (1 - z_t) \\odot \\tilde h_t + z_t \\odot h_{t-1}
"""

import numpy as np
from numba import njit, prange

from ._config import JIT, JIT_PARALLEL
from ._fpu import flush_denormals, restore_fpu
from ._threads import blas_threads_local
from .activations import gate, gate_grad, state, state_grad
from .blas import par_dot, par_tdot
from .lstm import block_rows, packed_offsets, row_output_grad
from .microkernel import multiply_rows, pack_panels, pad_bias

AFTER = 0   # 'after-multiplication' and 'recurrent-bias-after-multiplication'
BEFORE = 1  # 'before-multiplication'


@njit(**JIT)
def gru_update(pn, z, hp, state_kind):
    """The candidate and the new state of one unit of one row (the GPU kernels').

    ``pn`` is the candidate's whole preactivation (``W_h x + b_h`` plus
    ``r (R_h h_{t-1} + b^R_h)`` after multiplication or ``R_h (r h_{t-1})``
    before), ``z`` the activated update gate, ``hp`` the previous state.
    Returns ``(n, h)``.  The CPU kernel computes the same in passes.
    """
    n = state(pn, state_kind)
    return n, (type(z)(1.0) - z) * n + z * hp


@njit(**JIT)
def gru_unit_backward(gh, z, n, hp, gate_kind, state_kind):
    """Gradients of one unit through the update ``h = (1 - z) n + z h_prev`` (CPU and GPU).

    Returns the candidate's and the update gate's preactivation gradients and
    the direct part of the previous state's gradient.
    """
    dn = gh * (type(z)(1.0) - z) * state_grad(n, state_kind)
    dz = gh * (hp - n) * gate_grad(z, gate_kind)
    return dn, dz, gh * z


@njit(**JIT)
def _update(a, h, H):
    """``h = (1 - z) * n + z * h`` in place from activated gates ``a``."""
    az = a[H:2 * H]
    an = a[2 * H:]
    one = a.dtype.type(1.0)
    for j in range(H):
        h[j] = (one - az[j]) * an[j] + az[j] * h[j]


@njit(**JIT)
def gru_forward(x, W, R, b, bR, h, batch_sizes, gate_kind, state_kind, mode, gates, aux, hidden,
                block, chunks):
    """GRU forward pass.

    Parameters
    ----------
    x : ndarray of shape (S, C)
        Packed input.
    W : ndarray of shape (3H, C)
        Input weights r, z, h~.
    R : ndarray of shape (3H, H)
        Recurrent weights.
    b, bR : ndarray of shape (3H,)
        Input-side and recurrent-side biases.
    h : ndarray of shape (N, H)
        Initial hidden state on entry, each sequence's final state on exit.
    batch_sizes : ndarray of int64, shape (T,)
        Active sequences per time step.
    gate_kind, state_kind : int
        Activation codes.
    mode : int
        ``AFTER`` or ``BEFORE``.
    gates : ndarray of shape (S, 3H) or (0, 3H)
        Output: activated r, z, h~ of every packed row (training), or empty
        (prediction: a per-step buffer is used instead).
    aux : ndarray of shape (S, H) or (0, H)
        Output (training): ``R_h h_{t-1} + b^R_h`` (after) or ``r * h_{t-1}``
        (before) of every row.
    hidden : ndarray of shape (S, H) or (0, H)
        Output: hidden state of every row, or empty when only the final state
        is wanted.
    block : int
        In prediction, the number of time steps whose input projection is one
        GEMM (bounds memory); training projects all steps at once.
    chunks : ndarray of int64
        Row boundaries of the batch chunks, one per thread (as for the LSTM
        kernels: each thread runs the whole time loop for its rows).
    """
    fpu = flush_denormals()
    blas = blas_threads_local(1)  # BLAS stays single-threaded inside our threads
    H = R.shape[1]
    N = h.shape[0]
    T = batch_sizes.shape[0]
    G = 3 * H
    nch = chunks.shape[0] - 1
    train = gates.shape[0] > 0
    offsets = packed_offsets(batch_sizes)
    if train:
        par_dot(x, W.T, gates, nch)
        buf = gates
        block = T
    else:
        buf = np.empty((block_rows(offsets, block), G), h.dtype)
    work = (np.empty((N, G), h.dtype), np.empty((N, 2 * H), h.dtype), np.empty((N, H), h.dtype),
            np.empty((N, H), h.dtype))
    # R_rz.T and R_h.T packed for the per-step products (see .microkernel)
    packed = (pack_panels(R[:2 * H].T), pack_panels(R[2 * H:].T),
              pad_bias(np.zeros(2 * H, h.dtype)))
    for t0 in range(0, T, block):
        t1 = min(t0 + block, T)
        base = 0 if train else offsets[t0]
        if not train:
            par_dot(x[offsets[t0]:offsets[t1]], W.T, buf[:offsets[t1] - base], nch)
        _forward_chunks(buf, base, packed, b, bR, h, batch_sizes, offsets, t0, t1, gate_kind,
                        state_kind, mode, train, aux, hidden, work, chunks)
    blas_threads_local(blas)
    restore_fpu(fpu)


@njit(**JIT_PARALLEL)
def _forward_chunks(buf, base, packed, b, bR, h, batch_sizes, offsets, t0, t1, gate_kind,
                    state_kind, mode, train, aux, hidden, work, chunks):
    """Run :func:`_forward_rows` for every chunk of rows, one chunk per thread."""
    for q in prange(chunks.shape[0] - 1):
        fq = flush_denormals()
        _forward_rows(buf, base, packed, b, bR, h, batch_sizes, offsets, t0, t1, chunks[q],
                      chunks[q + 1], gate_kind, state_kind, mode, train, aux, hidden, work)
        restore_fpu(fq)


@njit(**JIT)
def _forward_rows(buf, base, packed, b, bR, h, batch_sizes, offsets, t0, t1, k0, k1, gate_kind,
                  state_kind, mode, train, aux, hidden, work):
    """Steps ``t0:t1`` of rows ``k0:k1``: the recurrent products and the gate math.

    ``packed`` holds ``R_rz.T`` and ``R_h.T`` packed for the microkernel and a
    zero bias.
    """
    H = h.shape[1]
    store = hidden.shape[0] > 0
    rec, rec_rz, rec_n, rh = work
    Prz, Pn, zeros = packed
    for t in range(t0, t1):
        ke = min(k1, batch_sizes[t])
        if ke <= k0:
            break  # sorted by length: these rows have ended
        off = offsets[t]
        if mode == AFTER:
            multiply_rows(rec[:, :2 * H], k0, h, k0, ke - k0, Prz, zeros, False)
            multiply_rows(rec[:, 2 * H:], k0, h, k0, ke - k0, Pn, zeros, False)
        else:
            multiply_rows(rec_rz, k0, h, k0, ke - k0, Prz, zeros, False)
        for k in range(k0, ke):
            a = buf[off - base + k]
            z = rec[k] if mode == AFTER else rec_rz[k]
            arz = a[:2 * H]
            for m in range(2 * H):
                arz[m] = gate(arz[m] + z[m] + b[m] + bR[m], gate_kind)
            if mode == BEFORE:
                ar = a[:H]
                hk = h[k]
                rk = rh[k]
                for j in range(H):
                    rk[j] = ar[j] * hk[j]
        if mode == BEFORE:
            multiply_rows(rec_n, k0, rh, k0, ke - k0, Pn, zeros, False)
        for k in range(k0, ke):
            a = buf[off - base + k]
            ar = a[:H]
            an = a[2 * H:]
            bn = b[2 * H:]
            if mode == AFTER:
                zn = rec[k, 2 * H:]
                bRn = bR[2 * H:]
                s = rec_n[k]
                for j in range(H):
                    s[j] = zn[j] + bRn[j]
                for j in range(H):
                    an[j] = state(an[j] + bn[j] + ar[j] * s[j], state_kind)
                if train:
                    aux[off + k] = s
            else:
                zn = rec_n[k]
                for j in range(H):
                    an[j] = state(an[j] + bn[j] + zn[j], state_kind)
                if train:
                    aux[off + k] = rh[k]
            hk = h[k]
            _update(a, hk, H)
            if store:
                hidden[off + k] = hk


@njit(**JIT)
def gru_backward(x, W, R, bR, h0, batch_sizes, gate_kind, state_kind, mode, gates, aux, hidden,
                 dhidden, dh, dW, dR, db, dbR, dx, chunks):
    """Backward pass through time of :func:`gru_forward` (training mode).

    Parameters
    ----------
    x, W, R, bR, h0, batch_sizes, gate_kind, state_kind, mode
        As in the forward pass (``h0`` the initial state).
    gates, aux, hidden : ndarray
        What the forward pass stored.
    dhidden : ndarray of shape (S, H) or (0, H)
        Gradient with respect to every packed output, or empty.
    dh : ndarray of shape (N, H)
        On entry the gradient with respect to each sequence's final state; on
        exit the gradient with respect to ``h0``.
    dW, dR : ndarray
        Output: weight gradients.
    db, dbR : ndarray of shape (3H,)
        Output: input-side and recurrent-side bias gradients.
    dx : ndarray of shape (S, C) or (0, C)
        Output: input gradient, skipped when empty.
    chunks : ndarray of int64
        Row boundaries of the batch chunks, one per thread.
    """
    fpu = flush_denormals()
    blas = blas_threads_local(1)  # BLAS stays single-threaded inside our threads
    H = R.shape[1]
    S = x.shape[0]
    N = dh.shape[0]
    nch = chunks.shape[0] - 1
    offsets = packed_offsets(batch_sizes)
    drz = np.empty((S, 2 * H), gates.dtype)   # reset/update preactivation gradients
    dn = np.empty((S, H), gates.dtype)        # candidate preactivation gradient
    dnr = np.empty((S, H), gates.dtype)       # gradient reaching R_h's output (after mode)
    hprev = np.empty((S, H), gates.dtype)
    work = (np.empty((N, H), gates.dtype), np.empty((N, H), gates.dtype))
    packed = (pack_panels(R[:2 * H]), pack_panels(R[2 * H:]), pad_bias(np.zeros(H, R.dtype)))
    _backward_chunks(packed, h0, batch_sizes, offsets, gate_kind, state_kind, mode, gates, aux,
                     hidden, dhidden, dh, drz, dn, dnr, hprev, work, chunks)
    par_tdot(drz, x, dW[:2 * H], nch)
    par_tdot(dn, x, dW[2 * H:], nch)
    par_tdot(drz, hprev, dR[:2 * H], nch)
    if mode == AFTER:
        par_tdot(dnr, hprev, dR[2 * H:], nch)
    else:
        par_tdot(dn, aux, dR[2 * H:], nch)
    db[:] = 0
    dbR[:] = 0
    for r in range(S):
        for m in range(2 * H):
            db[m] += drz[r, m]
        for j in range(H):
            db[2 * H + j] += dn[r, j]
    dbR[:2 * H] = db[:2 * H]
    if mode == AFTER:
        for r in range(S):
            for j in range(H):
                dbR[2 * H + j] += dnr[r, j]
    if dx.shape[0] > 0:
        par_dot(drz, W[:2 * H], dx, nch)
        part = np.empty_like(dx)
        par_dot(dn, W[2 * H:], part, nch)
        for r in range(S):
            for c in range(dx.shape[1]):
                dx[r, c] += part[r, c]
    blas_threads_local(blas)
    restore_fpu(fpu)


@njit(**JIT_PARALLEL)
def _backward_chunks(packed, h0, batch_sizes, offsets, gate_kind, state_kind, mode, gates, aux,
                     hidden, dhidden, dh, drz, dn, dnr, hprev, work, chunks):
    """Run :func:`_backward_rows` for every chunk of rows, one chunk per thread."""
    for q in prange(chunks.shape[0] - 1):
        fq = flush_denormals()
        _backward_rows(packed, h0, batch_sizes, offsets, chunks[q], chunks[q + 1], gate_kind,
                       state_kind, mode, gates, aux, hidden, dhidden, dh, drz, dn, dnr, hprev,
                       work)
        restore_fpu(fq)


@njit(**JIT)
def _backward_rows(packed, h0, batch_sizes, offsets, k0, k1, gate_kind, state_kind, mode, gates,
                   aux, hidden, dhidden, dh, drz, dn, dnr, hprev, work):
    """The reverse time loop for rows ``k0:k1``.

    ``packed`` holds ``R_rz`` and ``R_h`` packed for the microkernel and a zero bias.
    """
    H = dh.shape[1]
    T = batch_sizes.shape[0]
    drh, tmp = work
    gh = np.empty(H, gates.dtype)
    Prz, Pn, zeros = packed
    for t in range(T - 1, -1, -1):
        ke = min(k1, batch_sizes[t])
        if ke <= k0:
            continue  # these rows start later (in reverse time)
        off = offsets[t]
        for k in range(k0, ke):
            r = off + k
            if t > 0:
                hprev[r] = hidden[offsets[t - 1] + k]
            else:
                hprev[r] = h0[k]
            hp = hprev[r]
            row_output_grad(gh, dh[k], dhidden, r)
            a = gates[r]
            ar = a[:H]
            az = a[H:2 * H]
            an = a[2 * H:]
            dr = drz[r, :H]
            dz = drz[r, H:]
            dnk = dn[r]
            dhk = dh[k]
            for j in range(H):
                dnk[j], dz[j], dhk[j] = gru_unit_backward(gh[j], az[j], an[j], hp[j], gate_kind,
                                                          state_kind)
            if mode == AFTER:
                s = aux[r]
                dnrk = dnr[r]
                for j in range(H):
                    dr[j] = dnk[j] * s[j] * gate_grad(ar[j], gate_kind)
                    dnrk[j] = dnk[j] * ar[j]
        if mode == AFTER:
            multiply_rows(tmp, k0, dnr, off + k0, ke - k0, Pn, zeros, False)
        else:
            # the reset gate acts before R_h: its gradient needs dn @ R_h first
            multiply_rows(tmp, k0, dn, off + k0, ke - k0, Pn, zeros, False)
            for k in range(k0, ke):
                r = off + k
                ar = gates[r, :H]
                hp = hprev[r]
                dr = drz[r, :H]
                tk = tmp[k]
                for j in range(H):
                    dr[j] = tk[j] * hp[j] * gate_grad(ar[j], gate_kind)
                    tk[j] *= ar[j]
        multiply_rows(drh, k0, drz, off + k0, ke - k0, Prz, zeros, False)
        for k in range(k0, ke):
            dhk = dh[k]
            tk = tmp[k]
            dk = drh[k]
            for j in range(H):
                dhk[j] += tk[j] + dk[j]
