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
def _activate(z, H, gate_kind, state_kind):
    """Apply the gate/state activations in place to one row of 4H preactivations."""
    zi = z[:2 * H]  # input and forget gates are adjacent
    for j in range(2 * H):
        zi[j] = gate(zi[j], gate_kind)
    zg = z[2 * H:3 * H]
    for j in range(H):
        zg[j] = state(zg[j], state_kind)
    zo = z[3 * H:]
    for j in range(H):
        zo[j] = gate(zo[j], gate_kind)


@njit(**JIT, inline="always")
def _cell_update(a, c, h, H, state_kind):
    """``c = f*c + i*g`` and ``h = o*state(c)`` in place, from activated gates ``a``."""
    ai = a[:H]
    af = a[H:2 * H]
    ag = a[2 * H:3 * H]
    ao = a[3 * H:]
    for j in range(H):
        c[j] = af[j] * c[j] + ai[j] * ag[j]
    for j in range(H):
        h[j] = ao[j] * state(c[j], state_kind)


@njit(**JIT)
def lstm_forward_train(x, W, R, b, h, c, batch_sizes, gate_kind, state_kind, gates, cell, hidden):
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
    h, c : ndarray of shape (N, H)
        On entry the initial hidden and cell states (sorted like the batch);
        on exit each sequence's state after its own last time step.
    batch_sizes : ndarray of int64, shape (T,)
        Active sequences per time step.
    gate_kind, state_kind : int
        Activation codes from :mod:`lstmkit.kernels._config`.
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
            _activate(a, H, gate_kind, state_kind)
            ck = c[k]
            hk = h[k]
            _cell_update(a, ck, hk, H, state_kind)
            cell[off + k] = ck
            hidden[off + k] = hk
        off += n


@njit(**JIT)
def lstm_forward_predict(x, W, R, b, h, c, batch_sizes, gate_kind, state_kind, hidden, block):
    """LSTM forward pass for prediction: no gate storage, bounded memory.

    Parameters
    ----------
    x : ndarray of shape (S, C)
        Packed input.
    W, R, b : ndarray
        Weights as in :func:`lstm_forward_train`.
    h, c : ndarray of shape (N, H)
        Initial states on entry, final states (after each sequence's own last
        step) on exit.
    batch_sizes : ndarray of int64, shape (T,)
        Active sequences per time step.
    gate_kind, state_kind : int
        Activation codes.
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
                _activate(z, H, gate_kind, state_kind)
                hk = h[k]
                _cell_update(z, c[k], hk, H, state_kind)
                if store:
                    hidden[offsets[t] + k] = hk


@njit(**JIT)
def lstm_backward(x, W, R, h0, c0, batch_sizes, gate_kind, state_kind, gates, cell, hidden,
                  dhidden, dh, dc, dW, dR, db, dx):
    """Backward pass through time of :func:`lstm_forward_train`.

    Parameters
    ----------
    x : ndarray of shape (S, C)
        Packed input of the forward pass.
    W, R : ndarray
        Input and recurrent weights.
    h0, c0 : ndarray of shape (N, H)
        Initial states of the forward pass.
    batch_sizes : ndarray of int64, shape (T,)
        Active sequences per time step.
    gate_kind, state_kind : int
        Activation codes.
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
    has_dhidden = dhidden.shape[0] > 0
    offsets = packed_offsets(batch_sizes)
    dgates = np.empty((S, G), gates.dtype)
    hprev = np.empty((S, H), gates.dtype)
    gh = np.empty(H, gates.dtype)
    sc = np.empty(H, gates.dtype)
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
            for j in range(H):
                di[j] = dck[j] * ag[j] * gate_grad(ai[j], gate_kind)
                df[j] = dck[j] * cp[j] * gate_grad(af[j], gate_kind)
                dg[j] = dck[j] * ai[j] * state_grad(ag[j], state_kind)
                dck[j] *= af[j]
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
