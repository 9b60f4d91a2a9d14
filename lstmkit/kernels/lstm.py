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
"""

import numpy as np
from numba import njit

from ._config import JIT
from .activations import gate, gate_grad, state, state_grad


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


@njit(**JIT, inline="always")
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
def lstm_forward_train(x, W, R, b, P, h, c, batch_sizes, gate_kind, state_kind, coupled, gates,
                       cell, hidden):
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

    Notes
    -----
    The input projection of all time steps is one GEMM into ``gates``; each
    step then runs one GEMM ``h[:n] @ R.T`` on the active rows and the fused
    gate math.  No memory is allocated inside the time loop.
    """
    H = R.shape[1]
    N = h.shape[0]
    T = batch_sizes.shape[0]
    G = 4 * H
    np.dot(x, W.T, gates)
    rec = np.empty((N, G), gates.dtype)
    off = 0
    for t in range(T):
        n = batch_sizes[t]
        np.dot(h[:n], R.T, rec[:n])
        for k in range(n):
            a = gates[off + k]
            z = rec[k]
            for m in range(G):
                a[m] += z[m] + b[m]
            ck = c[k]
            hk = h[k]
            _lstm_cell(a, ck, hk, P, H, gate_kind, state_kind, coupled)
            cell[off + k] = ck
            hidden[off + k] = hk
        off += n


@njit(**JIT)
def lstm_forward_predict(x, W, R, b, P, h, c, batch_sizes, gate_kind, state_kind, coupled, hidden,
                         block):
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
        Number of time steps whose input projection is computed in one GEMM;
        memory is O(block * N * 4H) whatever the sequence length.
    """
    H = R.shape[1]
    N = h.shape[0]
    T = batch_sizes.shape[0]
    G = 4 * H
    store = hidden.shape[0] > 0
    offsets = packed_offsets(batch_sizes)
    rows_max = 0
    for t0 in range(0, T, block):
        t1 = min(t0 + block, T)
        rows_max = max(rows_max, offsets[t1] - offsets[t0])
    proj = np.empty((rows_max, G), h.dtype)
    rec = np.empty((N, G), h.dtype)
    for t0 in range(0, T, block):
        t1 = min(t0 + block, T)
        base = offsets[t0]
        np.dot(x[base:offsets[t1]], W.T, proj[: offsets[t1] - base])
        for t in range(t0, t1):
            n = batch_sizes[t]
            np.dot(h[:n], R.T, rec[:n])
            for k in range(n):
                z = rec[k]
                p = proj[offsets[t] - base + k]
                for m in range(G):
                    z[m] += p[m] + b[m]
                hk = h[k]
                _lstm_cell(z, c[k], hk, P, H, gate_kind, state_kind, coupled)
                if store:
                    hidden[offsets[t] + k] = hk


@njit(**JIT)
def lstm_backward(x, W, R, P, h0, c0, batch_sizes, gate_kind, state_kind, coupled, gates, cell,
                  hidden, dhidden, dh, dc, dW, dR, db, dP, dx):
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
        What :func:`lstm_forward_train` stored.
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

    Notes
    -----
    The reverse loop does the elementwise gate math and one GEMM per step
    (``dh[:n] = dG_t @ R``).  The weight gradients and ``dx`` are then big GEMMs
    over all ``S`` packed rows: ``dW = dG.T @ x``, ``dR = dG.T @ h_prev``,
    ``dx = dG @ W``.
    """
    H = R.shape[1]
    T = batch_sizes.shape[0]
    S = x.shape[0]
    G = 4 * H
    peep = P.shape[0] > 0
    has_dhidden = dhidden.shape[0] > 0
    offsets = packed_offsets(batch_sizes)
    dgates = np.empty((S, G), gates.dtype)
    hprev = np.empty((S, H), gates.dtype)
    gh = np.empty(H, gates.dtype)
    sc = np.empty(H, gates.dtype)
    dP[:] = 0
    zero = gates.dtype.type(0.0)
    for t in range(T - 1, -1, -1):
        n = batch_sizes[t]
        off = offsets[t]
        for k in range(n):
            r = off + k
            if t > 0:
                cp = cell[offsets[t - 1] + k]
                hprev[r] = hidden[offsets[t - 1] + k]
            else:
                cp = c0[k]
                hprev[r] = h0[k]
            gh[:] = dh[k]
            if has_dhidden:
                dy = dhidden[r]
                for j in range(H):
                    gh[j] += dy[j]
            ct = cell[r]
            for j in range(H):
                sc[j] = state(ct[j], state_kind)
            a = gates[r]
            ai = a[:H]
            af = a[H:2 * H]
            ag = a[2 * H:3 * H]
            ao = a[3 * H:]
            d = dgates[r]
            di = d[:H]
            df = d[H:2 * H]
            dg = d[2 * H:3 * H]
            do = d[3 * H:]
            dck = dc[k]
            for j in range(H):
                do[j] = gh[j] * sc[j] * gate_grad(ao[j], gate_kind)
                dck[j] += gh[j] * ao[j] * state_grad(sc[j], state_kind)
            if peep:
                po = P[2 * H:]
                for j in range(H):
                    dck[j] += do[j] * po[j]
            if coupled:
                for j in range(H):
                    di[j] = zero
                    df[j] = dck[j] * (cp[j] - ag[j]) * gate_grad(af[j], gate_kind)
            else:
                for j in range(H):
                    di[j] = dck[j] * ag[j] * gate_grad(ai[j], gate_kind)
                    df[j] = dck[j] * cp[j] * gate_grad(af[j], gate_kind)
            for j in range(H):
                dg[j] = dck[j] * ai[j] * state_grad(ag[j], state_kind)
                dck[j] *= af[j]
            if peep:
                pi = P[:H]
                pf = P[H:2 * H]
                dpi = dP[:H]
                dpf = dP[H:2 * H]
                dpo = dP[2 * H:]
                for j in range(H):
                    dck[j] += di[j] * pi[j] + df[j] * pf[j]
                    dpi[j] += di[j] * cp[j]
                    dpf[j] += df[j] * cp[j]
                    dpo[j] += do[j] * ct[j]
        np.dot(dgates[off:off + n], R, dh[:n])
    np.dot(dgates.T, x, dW)
    np.dot(dgates.T, hprev, dR)
    db[:] = 0
    for r in range(S):
        d = dgates[r]
        for m in range(G):
            db[m] += d[m]
    if dx.shape[0] > 0:
        np.dot(dgates, W, dx)
