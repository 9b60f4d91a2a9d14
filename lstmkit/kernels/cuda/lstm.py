"""The LSTM layer on a CUDA device: forward and backward on lstmkit's packed layout.

The same layout, arguments and results as :mod:`lstmkit.kernels.lstm` (rows
sorted longest first, time-major, no padding; gate blocks i, f, g, o), so a
layer gives the CPU's result on the GPU.  The structure is cuDNN's standard
algorithm:

* forward: one product for the input projection of all packed rows
  (``gates = x W^T + b``), then per time step a product of the active rows'
  hidden state with ``R^T`` added to their rows and one fused kernel for the
  gate math and the state update (one thread per row and hidden unit, the
  math :func:`lstmkit.kernels.lstm.lstm_unit`);
* backward: per step in reverse, one fused kernel for the gate gradients
  (:func:`lstmkit.kernels.lstm.lstm_unit_backward`) and one product for the
  hidden state's gradient (``dh = dG R``); then the weight gradients as
  products over all rows (``dW = dG^T x``, ``dR = dG^T h_prev``,
  ``dx = dG W``) and column sums (``db``, the peepholes' ``dP``; per-row
  peephole terms are summed in row order, so every launch gives the same
  bits).

Every array argument is a device array (``batch_sizes`` stays on the host:
it drives the launches); nothing is checked here.
"""

import numpy as np
from numba import cuda

from ..activations import state
from ..lstm import lstm_unit, lstm_unit_backward
from .dense import column_sums, gather_rows, grid_1d, matmul, row_unit


@cuda.jit(device=True)
def _peepholes(P, j, H, zero):
    """Unit ``j``'s peephole weights p_i, p_f, p_o (zeros without peepholes)."""
    if P.shape[0] > 0:
        return P[j], P[H + j], P[2 * H + j]
    return zero, zero, zero


@cuda.jit
def _gates_forward(a, cell, hidden, h, c, P, row0, n, gate_kind, state_kind, coupled):
    k = cuda.grid(1)
    H = h.shape[1]
    if k >= n * H:
        return
    r, j, row = row_unit(k, H, row0)
    peep = P.shape[0] > 0
    pi, pf, po = _peepholes(P, j, H, a.dtype.type(0))
    i, f, g, o, cn, hn = lstm_unit(a[row, j], a[row, H + j], a[row, 2 * H + j],
                                   a[row, 3 * H + j], c[r, j], pi, pf, po, peep, coupled,
                                   gate_kind, state_kind)
    a[row, j] = i
    a[row, H + j] = f
    a[row, 2 * H + j] = g
    a[row, 3 * H + j] = o
    cell[row, j] = cn
    hidden[row, j] = hn
    c[r, j] = cn
    h[r, j] = hn


def packed_offsets(batch_sizes):
    """First packed row of every time step (host)."""
    offsets = np.zeros(len(batch_sizes), np.int64)
    np.cumsum(batch_sizes[:-1], out=offsets[1:])
    return offsets


def lstm_forward_train(x, W, R, b, P, h, c, batch_sizes, gate_kind, state_kind, coupled, gates,
                       cell, hidden):
    """:func:`lstmkit.kernels.lstm.lstm_forward_train` on the device (no ``chunks``).

    ``x`` (S, C), ``W`` (4H, C), ``R`` (4H, H), ``b`` (4H,), ``P`` (3H,) or
    (0,); ``h``, ``c`` (N, H) initial states on entry, final on exit;
    outputs ``gates`` (S, 4H, activated), ``cell`` and ``hidden`` (S, H).
    """
    offsets = packed_offsets(batch_sizes)
    matmul(x, W.T, gates, bias=b)
    for t in range(len(batch_sizes)):
        n = int(batch_sizes[t])
        row0 = int(offsets[t])
        rows = gates[row0:row0 + n]
        matmul(h[:n], R.T, rows, accumulate=True)
        blocks, threads = grid_1d(n * h.shape[1])
        _gates_forward[blocks, threads](gates, cell, hidden, h, c, P, row0, n, gate_kind,
                                        state_kind, coupled)


@cuda.jit
def _gates_backward(a, cell, c0, dhidden, dh, dc, P, dprows, row0, prev0, n, gate_kind,
                    state_kind, coupled):
    k = cuda.grid(1)
    H = dh.shape[1]
    if k >= n * H:
        return
    r, j, row = row_unit(k, H, row0)
    peep = P.shape[0] > 0
    pi, pf, po = _peepholes(P, j, H, a.dtype.type(0))
    gh = dh[r, j]
    if dhidden.shape[0] > 0:
        gh += dhidden[row, j]
    cp = cell[prev0 + r, j] if prev0 >= 0 else c0[r, j]
    ct = cell[row, j]
    sc = state(ct, state_kind)
    di, df, dg, do, dnext = lstm_unit_backward(a[row, j], a[row, H + j], a[row, 2 * H + j],
                                               a[row, 3 * H + j], gh, sc, cp, dc[r, j], pi,
                                               pf, po, peep, coupled, gate_kind, state_kind)
    a[row, j] = di
    a[row, H + j] = df
    a[row, 2 * H + j] = dg
    a[row, 3 * H + j] = do
    dc[r, j] = dnext
    if peep:
        dprows[row, j] = di * cp
        dprows[row, H + j] = df * cp
        dprows[row, 2 * H + j] = do * ct


def previous_rows(batch_sizes):
    """For every packed row, the row of its sequence's previous step, or ``-1 - k`` at step 0
    (row ``k`` of the initial state)."""
    offsets = packed_offsets(batch_sizes)
    S = int(np.sum(batch_sizes))
    index = np.empty(S, np.int64)
    N = int(batch_sizes[0]) if len(batch_sizes) else 0
    index[:N] = -1 - np.arange(N)
    for t in range(1, len(batch_sizes)):
        n = int(batch_sizes[t])
        index[offsets[t]:offsets[t] + n] = offsets[t - 1] + np.arange(n)
    return index


def lstm_backward(x, W, R, P, h0, c0, batch_sizes, gate_kind, state_kind, coupled, gates, cell,
                  hidden, dhidden, dh, dc, dW, dR, db, dP, dx):
    """:func:`lstmkit.kernels.lstm.lstm_backward` on the device (no ``chunks``).

    ``gates`` is overwritten with the gate gradients; ``dhidden`` is (S, H)
    or (0, H); ``dh``, ``dc`` hold the final states' gradients on entry and
    the initial states' on exit; ``dx`` may be (0, C).
    """
    offsets = packed_offsets(batch_sizes)
    S, H = hidden.shape
    dtype = gates.dtype
    peep = P.shape[0] > 0
    dprows = cuda.device_array((S if peep else 0, 3 * H), dtype)
    for t in range(len(batch_sizes) - 1, -1, -1):
        n = int(batch_sizes[t])
        row0 = int(offsets[t])
        prev0 = int(offsets[t - 1]) if t > 0 else -1
        blocks, threads = grid_1d(n * H)
        _gates_backward[blocks, threads](gates, cell, c0, dhidden, dh, dc, P, dprows, row0,
                                         prev0, n, gate_kind, state_kind, coupled)
        matmul(gates[row0:row0 + n], R, dh[:n])
    hprev = cuda.device_array((S, H), dtype)
    gather_rows(hidden, h0, cuda.to_device(previous_rows(batch_sizes)), hprev)
    matmul(gates.T, x, dW)
    matmul(gates.T, hprev, dR)
    column_sums(gates, db)
    if peep:
        column_sums(dprows, dP)
    if dx.shape[0] > 0:
        matmul(gates, W, dx)

