"""The layers' passes on a CUDA device (ExecutionEnvironment 'gpu'), for the layers that have them.

Each entry of :data:`DEVICE_LAYERS` is a class with the layer's ``forward``
and ``backward`` on device arrays, taking the layer's learnables and their
gradients as device arrays (``w`` and ``g``: name -> array, the layer's
shapes) and calling :mod:`lstmkit.kernels.cuda`.  They compute what the
layer's own ``_forward`` / ``_backward`` compute, on the same packed rows;
a layer without an entry runs its own passes on the host, its inputs and
gradients copied across (:class:`lstmkit.training.device.DeviceRunner`).

Imported only where numba-cuda is installed.
"""

import numpy as np
from numba import cuda

from ..kernels.cuda import gru as gru_kernels
from ..kernels.cuda import lstm as lstm_kernels
from ..kernels.cuda.dense import add_into, column_sums, copy_into, gather_rows, matmul
from .bilstm import BiLSTMLayer
from .fully_connected import FullyConnectedLayer
from .gru import GRULayer, GRUProjectedLayer, RESET_GATE_MODES
from .lstm import LSTMLayer, LSTMProjectedLayer


def is_device(a):
    """Whether ``a`` is a CUDA device array (or the simulator's)."""
    return hasattr(a, "copy_to_host") and not isinstance(a, np.ndarray)


def to_device(a):
    return a if is_device(a) else cuda.to_device(np.ascontiguousarray(a))


def to_host(a):
    return a.copy_to_host() if is_device(a) else a


def zeros(shape, dtype):
    return cuda.to_device(np.zeros(shape, dtype))


def _empty(shape, dtype):
    return cuda.device_array(shape, dtype)


def _start_states(layer, batch, state, dtype):
    """A recurrent layer's states to start from, on the host: the carried ones or its own."""
    if state is None:
        return layer._initial_state(batch.num_observations, None, dtype)
    return tuple(to_host(s) for s in state)


class DeviceLSTM:
    """:class:`~lstmkit.layers.lstm.LSTMLayer` on the device."""

    @staticmethod
    def forward(layer, x, batch, state, training, dtype, w):
        batch = layer._sequence_batch(x, batch)
        H = layer.NumHiddenUnits
        S = x.shape[0]
        h, c = _start_states(layer, batch, state, dtype)
        h0, c0 = to_device(h), to_device(c)
        h, c = to_device(h.copy()), to_device(c.copy())
        P = w["PeepholeWeights"].reshape(3 * H) if layer.HasPeepholes else _empty(0, dtype)
        gates, cell, hidden = _empty((S, 4 * H), dtype), _empty((S, H), dtype), \
            _empty((S, H), dtype)
        gk, sk = layer._codes()
        lstm_kernels.lstm_forward_train(x, w["InputWeights"], w["RecurrentWeights"],
                                        w["Bias"].reshape(4 * H), P, h, c, batch.batch_sizes, gk,
                                        sk, layer.CoupledInputForget, gates, cell, hidden)
        sequence = layer.OutputMode == "sequence"
        y = hidden if sequence else h
        cache = (x, h0, c0, gates, cell, hidden, batch, P, sequence) if training else None
        return y, cache, (h, c)

    @staticmethod
    def backward(layer, dy, cache, w, g, need_dx):
        x, h0, c0, gates, cell, hidden, batch, P, sequence = cache
        H = layer.NumHiddenUnits
        dtype = gates.dtype
        if sequence:
            dhidden, dh = dy, zeros(h0.shape, dtype)
        else:
            dhidden, dh = _empty((0, H), dtype), to_device(to_host(dy).copy())
        dc = zeros(c0.shape, dtype)
        dx = _empty((x.shape[0] if need_dx else 0, x.shape[1]), dtype)
        dP = g["PeepholeWeights"].reshape(3 * H) if layer.HasPeepholes else _empty(0, dtype)
        gk, sk = layer._codes()
        lstm_kernels.lstm_backward(x, w["InputWeights"], w["RecurrentWeights"], P, h0, c0,
                                   batch.batch_sizes, gk, sk, layer.CoupledInputForget, gates,
                                   cell, hidden, dhidden, dh, dc, g["InputWeights"],
                                   g["RecurrentWeights"], g["Bias"].reshape(4 * H), dP, dx)
        return dx if need_dx else None


class DeviceBiLSTM:
    """:class:`~lstmkit.layers.bilstm.BiLSTMLayer` on the device: two LSTM directions, the
    backward one on the packed rows reversed in time (the CPU layer's permutation)."""

    @staticmethod
    def _reversed(a, index):
        out = _empty(a.shape, a.dtype)
        gather_rows(a, a, index, out)
        return out

    @staticmethod
    def forward(layer, x, batch, state, training, dtype, w):
        batch = layer._sequence_batch(x, batch)
        H = layer.NumHiddenUnits
        S = x.shape[0]
        h, c = _start_states(layer, batch, state, dtype)
        sequence = layer.OutputMode == "sequence"
        gk, sk = layer._codes()
        index = cuda.to_device(np.asarray(batch.reverse_rows, np.int64))
        y = _empty((S if sequence else h.shape[0], 2 * H), dtype)
        finals, caches = [], []
        for d in range(2):
            blk = slice(4 * H * d, 4 * H * (d + 1))
            xd = DeviceBiLSTM._reversed(x, index) if d == 1 else x
            h0 = to_device(np.ascontiguousarray(h[:, d * H:(d + 1) * H]))
            c0 = to_device(np.ascontiguousarray(c[:, d * H:(d + 1) * H]))
            hd, cd = to_device(h0.copy_to_host()), to_device(c0.copy_to_host())
            gates, cell, hidden = _empty((S, 4 * H), dtype), _empty((S, H), dtype), \
                _empty((S, H), dtype)
            lstm_kernels.lstm_forward_train(
                xd, w["InputWeights"][blk], w["RecurrentWeights"][blk],
                w["Bias"].reshape(8 * H)[blk], _empty(0, dtype), hd, cd, batch.batch_sizes, gk,
                sk, False, gates, cell, hidden)
            out = (DeviceBiLSTM._reversed(hidden, index) if d == 1 else hidden) if sequence \
                else hd
            copy_into(out, y, 0, d * H)
            finals.append((hd.copy_to_host(), cd.copy_to_host()))
            caches.append((xd, h0, c0, gates, cell, hidden))
        new_state = (np.concatenate([f[0] for f in finals], axis=1),
                     np.concatenate([f[1] for f in finals], axis=1))
        cache = (caches, batch, index, sequence) if training else None
        return y, cache, new_state

    @staticmethod
    def backward(layer, dy, cache, w, g, need_dx):
        caches, batch, index, sequence = cache
        H = layer.NumHiddenUnits
        dtype = dy.dtype
        gk, sk = layer._codes()
        dx = None
        for d, (xd, h0, c0, gates, cell, hidden) in enumerate(caches):
            blk = slice(4 * H * d, 4 * H * (d + 1))
            dyd = _empty((dy.shape[0], H), dtype)
            copy_into(dy[:, d * H:(d + 1) * H], dyd)
            if sequence:
                dhidden = DeviceBiLSTM._reversed(dyd, index) if d == 1 else dyd
                dh = zeros(h0.shape, dtype)
            else:
                dhidden, dh = _empty((0, H), dtype), dyd
            dc = zeros(c0.shape, dtype)
            dxd = _empty((xd.shape[0] if need_dx else 0, xd.shape[1]), dtype)
            lstm_kernels.lstm_backward(
                xd, w["InputWeights"][blk], w["RecurrentWeights"][blk], _empty(0, dtype), h0,
                c0, batch.batch_sizes, gk, sk, False, gates, cell, hidden, dhidden, dh, dc,
                g["InputWeights"][blk], g["RecurrentWeights"][blk],
                g["Bias"].reshape(8 * H)[blk], _empty(0, dtype), dxd)
            if need_dx:
                dxd = DeviceBiLSTM._reversed(dxd, index) if d == 1 else dxd
                if dx is None:
                    dx = dxd
                else:
                    add_into(dx, dxd)
        return dx


class DeviceGRU:
    """:class:`~lstmkit.layers.gru.GRULayer` on the device, in its three reset modes."""

    @staticmethod
    def _biases(layer, arr, dtype):
        H = layer.NumHiddenUnits
        bias = arr.reshape(layer._bias_rows())
        if layer.ResetGateMode == RESET_GATE_MODES[2]:
            return bias[:3 * H], bias[3 * H:]
        return bias[:3 * H], None

    @staticmethod
    def forward(layer, x, batch, state, training, dtype, w):
        batch = layer._sequence_batch(x, batch)
        H = layer.NumHiddenUnits
        S = x.shape[0]
        (h,) = _start_states(layer, batch, state, dtype)
        h0 = to_device(h)
        h = to_device(h.copy())
        b, bR = DeviceGRU._biases(layer, w["Bias"], dtype)
        bR = zeros(3 * H, dtype) if bR is None else bR
        gates, aux, hidden = _empty((S, 3 * H), dtype), _empty((S, H), dtype), \
            _empty((S, H), dtype)
        gk, sk = layer._codes()
        gru_kernels.gru_forward(x, w["InputWeights"], w["RecurrentWeights"], b, bR, h,
                                batch.batch_sizes, gk, sk, layer._mode(), gates, aux, hidden)
        sequence = layer.OutputMode == "sequence"
        y = hidden if sequence else h
        cache = (x, h0, batch, gates, aux, hidden, sequence, bR) if training else None
        return y, cache, (h,)

    @staticmethod
    def backward(layer, dy, cache, w, g, need_dx):
        x, h0, batch, gates, aux, hidden, sequence, bR = cache
        H = layer.NumHiddenUnits
        dtype = gates.dtype
        if sequence:
            dhidden, dh = dy, zeros(h0.shape, dtype)
        else:
            dhidden, dh = _empty((0, H), dtype), to_device(to_host(dy).copy())
        db, dbR = DeviceGRU._biases(layer, g["Bias"], dtype)
        dbR = _empty(3 * H, dtype) if dbR is None else dbR
        dx = _empty((x.shape[0] if need_dx else 0, x.shape[1]), dtype)
        gk, sk = layer._codes()
        gru_kernels.gru_backward(x, w["InputWeights"], w["RecurrentWeights"], bR, h0,
                                 batch.batch_sizes, gk, sk, layer._mode(), gates, aux, hidden,
                                 dhidden, dh, g["InputWeights"], g["RecurrentWeights"], db, dbR,
                                 dx)
        return dx if need_dx else None


class DeviceFullyConnected:
    """:class:`~lstmkit.layers.fully_connected.FullyConnectedLayer` on the device."""

    @staticmethod
    def forward(layer, x, batch, state, training, dtype, w):
        K = layer.OutputSize
        y = _empty((x.shape[0], K), dtype)
        matmul(x, w["Weights"].T, y, bias=w["Bias"].reshape(K))
        return y, (x if training else None), None

    @staticmethod
    def backward(layer, dy, cache, w, g, need_dx):
        x = cache
        K = layer.OutputSize
        matmul(dy.T, x, g["Weights"])
        column_sums(dy, g["Bias"].reshape(K))
        if not need_dx:
            return None
        dx = _empty(x.shape, x.dtype)
        matmul(dy, w["Weights"], dx)
        return dx


class DeviceProjected:
    """A projected layer (lstmProjectedLayer, gruProjectedLayer) on the device: the plain
    layer's passes with the effective matrices ``InputWeights @ InputProjector.T`` and
    ``RecurrentWeights @ OutputProjector.T``, whose gradients are then factored (the CPU
    layers' :class:`~lstmkit.layers.recurrent.ProjectedWeights`)."""

    def __init__(self, plain):
        self.plain = plain

    @staticmethod
    def _effective(w):
        Wi, Qi = w["InputWeights"], w["InputProjector"]
        Wr, Qo = w["RecurrentWeights"], w["OutputProjector"]
        W = _empty((Wi.shape[0], Qi.shape[0]), Wi.dtype)
        R = _empty((Wr.shape[0], Qo.shape[0]), Wr.dtype)
        matmul(Wi, Qi.T, W)
        matmul(Wr, Qo.T, R)
        return dict(w, InputWeights=W, RecurrentWeights=R)

    def forward(self, layer, x, batch, state, training, dtype, w):
        eff = self._effective(w)
        y, cache, new_state = self.plain.forward(layer, x, batch, state, training, dtype, eff)
        return y, (None if cache is None else (cache, eff)), new_state

    def backward(self, layer, dy, cache, w, g, need_dx):
        cache, eff = cache
        dW = _empty(eff["InputWeights"].shape, dy.dtype)
        dR = _empty(eff["RecurrentWeights"].shape, dy.dtype)
        dx = self.plain.backward(layer, dy, cache, eff,
                                 dict(g, InputWeights=dW, RecurrentWeights=dR), need_dx)
        matmul(dW, w["InputProjector"], g["InputWeights"])
        matmul(dW.T, w["InputWeights"], g["InputProjector"])
        matmul(dR, w["OutputProjector"], g["RecurrentWeights"])
        matmul(dR.T, w["RecurrentWeights"], g["OutputProjector"])
        return dx


#: the layer classes with device passes (exact classes: a subclass may compute otherwise)
DEVICE_LAYERS = {LSTMLayer: DeviceLSTM, BiLSTMLayer: DeviceBiLSTM, GRULayer: DeviceGRU,
                 LSTMProjectedLayer: DeviceProjected(DeviceLSTM),
                 GRUProjectedLayer: DeviceProjected(DeviceGRU),
                 FullyConnectedLayer: DeviceFullyConnected}
