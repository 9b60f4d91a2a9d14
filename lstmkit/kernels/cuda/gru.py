"""The GRU layer on a CUDA device, in MATLAB's three reset modes, on the packed layout.

The counterpart of :mod:`lstmkit.kernels.gru` (same arguments and results,
gate blocks r, z, h~; ``b`` the input-side and ``bR`` the recurrent-side
bias).  Per time step: the products of the active rows' state with the
recurrent weights, and fused kernels for the gate math
(:func:`lstmkit.kernels.gru.gru_update`, the activations); 'before
multiplication' needs the reset gate before its product, so it takes two
kernels and two products per step.  Backward mirrors it
(:func:`lstmkit.kernels.gru.gru_unit_backward`), then the weight gradients
are products over all rows and ordered column sums.

Every array argument is a device array (``batch_sizes`` stays on the host).
"""

from numba import cuda

from ..activations import gate, gate_grad
from ..gru import AFTER, gru_unit_backward, gru_update
from .dense import column_sums, gather_rows, grid_1d, matmul, row_unit
from .lstm import packed_offsets, previous_rows


@cuda.jit
def _after_forward(a, rec, b, bR, h, aux, hidden, row0, n, gate_kind, state_kind):
    k = cuda.grid(1)
    H = h.shape[1]
    if k >= n * H:
        return
    r_, j, row = row_unit(k, H, row0)
    r = gate(a[row, j] + rec[r_, j] + b[j] + bR[j], gate_kind)
    z = gate(a[row, H + j] + rec[r_, H + j] + b[H + j] + bR[H + j], gate_kind)
    s = rec[r_, 2 * H + j] + bR[2 * H + j]
    nn, hn = gru_update(a[row, 2 * H + j] + b[2 * H + j] + r * s, z, h[r_, j], state_kind)
    a[row, j] = r
    a[row, H + j] = z
    a[row, 2 * H + j] = nn
    aux[row, j] = s
    if hidden.shape[0] > 0:
        hidden[row, j] = hn
    h[r_, j] = hn


@cuda.jit
def _before_gates(a, rec, b, bR, h, aux, row0, n, gate_kind):
    k = cuda.grid(1)
    H = h.shape[1]
    if k >= n * H:
        return
    r_, j, row = row_unit(k, H, row0)
    r = gate(a[row, j] + rec[r_, j] + b[j] + bR[j], gate_kind)
    a[row, j] = r
    a[row, H + j] = gate(a[row, H + j] + rec[r_, H + j] + b[H + j] + bR[H + j], gate_kind)
    aux[row, j] = r * h[r_, j]


@cuda.jit
def _before_update(a, recn, b, h, hidden, row0, n, state_kind):
    k = cuda.grid(1)
    H = h.shape[1]
    if k >= n * H:
        return
    r_, j, row = row_unit(k, H, row0)
    nn, hn = gru_update(a[row, 2 * H + j] + b[2 * H + j] + recn[r_, j], a[row, H + j],
                        h[r_, j], state_kind)
    a[row, 2 * H + j] = nn
    if hidden.shape[0] > 0:
        hidden[row, j] = hn
    h[r_, j] = hn


def gru_forward(x, W, R, b, bR, h, batch_sizes, gate_kind, state_kind, mode, gates, aux,
                hidden):
    """:func:`lstmkit.kernels.gru.gru_forward` on the device, training mode.

    ``gates`` (S, 3H) and ``aux`` (S, H) are always filled (prediction uses
    them as work space); ``hidden`` (S, H), or (0, H) for the final state only.
    """
    offsets = packed_offsets(batch_sizes)
    N, H = h.shape
    matmul(x, W.T, gates)
    rec = cuda.device_array((N, 3 * H), gates.dtype)
    for t in range(len(batch_sizes)):
        n = int(batch_sizes[t])
        row0 = int(offsets[t])
        blocks, threads = grid_1d(n * H)
        if mode == AFTER:
            matmul(h[:n], R.T, rec[:n])
            _after_forward[blocks, threads](gates, rec, b, bR, h, aux, hidden, row0, n,
                                            gate_kind, state_kind)
        else:
            matmul(h[:n], R[:2 * H].T, rec[:n, :2 * H])
            _before_gates[blocks, threads](gates, rec, b, bR, h, aux, row0, n, gate_kind)
            matmul(aux[row0:row0 + n], R[2 * H:].T, rec[:n, 2 * H:])
            _before_update[blocks, threads](gates, rec[:, 2 * H:], b, h, hidden, row0, n,
                                            state_kind)


@cuda.jit
def _unit_backward(a, aux, hprev, dhidden, dh, drz, dn, dnr, row0, n, mode, gate_kind,
                   state_kind):
    k = cuda.grid(1)
    H = dh.shape[1]
    if k >= n * H:
        return
    r_, j, row = row_unit(k, H, row0)
    gh = dh[r_, j]
    if dhidden.shape[0] > 0:
        gh += dhidden[row, j]
    d_n, d_z, d_h = gru_unit_backward(gh, a[row, H + j], a[row, 2 * H + j], hprev[row, j],
                                      gate_kind, state_kind)
    dn[row, j] = d_n
    drz[row, H + j] = d_z
    dh[r_, j] = d_h
    if mode == AFTER:
        r = a[row, j]
        drz[row, j] = d_n * aux[row, j] * gate_grad(r, gate_kind)
        dnr[row, j] = d_n * r


@cuda.jit
def _before_reset_backward(a, hprev, tmp, drz, row0, n, gate_kind):
    k = cuda.grid(1)
    H = tmp.shape[1]
    if k >= n * H:
        return
    r_, j, row = row_unit(k, H, row0)
    r = a[row, j]
    drz[row, j] = tmp[r_, j] * hprev[row, j] * gate_grad(r, gate_kind)
    tmp[r_, j] *= r


@cuda.jit
def _add_two(dh, tmp, drh, n):
    k = cuda.grid(1)
    H = dh.shape[1]
    if k >= n * H:
        return
    r_, j, _ = row_unit(k, H, 0)
    dh[r_, j] += tmp[r_, j] + drh[r_, j]


def gru_backward(x, W, R, bR, h0, batch_sizes, gate_kind, state_kind, mode, gates, aux, hidden,
                 dhidden, dh, dW, dR, db, dbR, dx):
    """:func:`lstmkit.kernels.gru.gru_backward` on the device (no ``chunks``)."""
    offsets = packed_offsets(batch_sizes)
    S, H = hidden.shape
    N = dh.shape[0]
    dtype = gates.dtype
    drz = cuda.device_array((S, 2 * H), dtype)
    dn = cuda.device_array((S, H), dtype)
    dnr = cuda.device_array((S, H), dtype)
    hprev = cuda.device_array((S, H), dtype)
    gather_rows(hidden, h0, cuda.to_device(previous_rows(batch_sizes)), hprev)
    tmp = cuda.device_array((N, H), dtype)
    drh = cuda.device_array((N, H), dtype)
    for t in range(len(batch_sizes) - 1, -1, -1):
        n = int(batch_sizes[t])
        row0 = int(offsets[t])
        blocks, threads = grid_1d(n * H)
        _unit_backward[blocks, threads](gates, aux, hprev, dhidden, dh, drz, dn, dnr, row0, n,
                                        mode, gate_kind, state_kind)
        if mode == AFTER:
            matmul(dnr[row0:row0 + n], R[2 * H:], tmp[:n])
        else:
            matmul(dn[row0:row0 + n], R[2 * H:], tmp[:n])
            _before_reset_backward[blocks, threads](gates, hprev, tmp, drz, row0, n, gate_kind)
        matmul(drz[row0:row0 + n], R[:2 * H], drh[:n])
        _add_two[blocks, threads](dh, tmp, drh, n)
    matmul(drz.T, x, dW[:2 * H])
    matmul(dn.T, x, dW[2 * H:])
    matmul(drz.T, hprev, dR[:2 * H])
    matmul(dnr.T if mode == AFTER else dn.T, hprev if mode == AFTER else aux, dR[2 * H:])
    column_sums(drz, db[:2 * H])
    column_sums(dn, db[2 * H:])
    column_sums(drz, dbR[:2 * H])
    if mode == AFTER:
        column_sums(dnr, dbR[2 * H:])
    else:
        _zero[grid_1d(H)](dbR[2 * H:])
    if dx.shape[0] > 0:
        matmul(drz, W[:2 * H], dx)
        matmul(dn, W[2 * H:], dx, accumulate=True)


@cuda.jit
def _zero(a):
    k = cuda.grid(1)
    if k < a.shape[0]:
        a[k] = a.dtype.type(0)
