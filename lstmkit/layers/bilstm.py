"""bilstmLayer: bidirectional LSTM layer."""

import numpy as np

from . import initializers
from .base import kernel_array
from .lstm import LSTMDirection
from .recurrent import RecurrentLayer, finish_recurrent, parse_recurrent_options


class BiLSTMLayer(RecurrentLayer):
    """Bidirectional LSTM layer (create it with :func:`bilstmLayer`).

    ``InputWeights`` (8H-by-C), ``RecurrentWeights`` (8H-by-H) and ``Bias``
    (8H-by-1) hold the forward direction's blocks i, f, g, o, then the
    backward direction's.  The output has 2H channels: the forward
    direction's hidden state, then the backward direction's.

    The backward direction reads each sequence from its own last time step to
    its first, so padding never reaches it.  With ``OutputMode='last'`` the
    forward half is the forward state after the sequence's last step and the
    backward half is the backward direction's output at the first step (its
    state after reading the whole sequence), as cuDNN and PyTorch return.

    ``HiddenState`` and ``CellState`` are 2H-by-1 (forward half first).
    """

    type_name = "BiLSTM"
    default_name = "bilstm"
    factory = "bilstmLayer"
    state_properties = ("HiddenState", "CellState")
    gate_rows = 8
    @property
    def Description(self):
        return f"BiLSTM with {self.NumHiddenUnits} hidden units"

    def _display_properties(self):
        return ["Name", "InputNames", "OutputNames", "NumInputs", "NumOutputs", "HasStateInputs",
                "HasStateOutputs", "InputSize", "NumHiddenUnits", "OutputMode",
                "StateActivationFunction", "GateActivationFunction", "InputWeights",
                "RecurrentWeights", "Bias", "HiddenState", "CellState", "InputWeightsInitializer",
                "RecurrentWeightsInitializer", "BiasInitializer", "InputWeightsLearnRateFactor",
                "RecurrentWeightsLearnRateFactor", "BiasLearnRateFactor", "InputWeightsL2Factor",
                "RecurrentWeightsL2Factor", "BiasL2Factor"]

    def _state_size(self):
        return 2 * self.NumHiddenUnits

    def _initialize(self, input_size, rng):
        # orthogonal recurrent weights are drawn per direction (each 4H-by-H block
        # has orthonormal columns, as two lstmLayers would)
        if self.RecurrentWeights is None and self.RecurrentWeightsInitializer == "orthogonal":
            H = self.NumHiddenUnits
            self.RecurrentWeights = np.vstack([initializers.orthogonal((4 * H, H), rng)
                                               for _ in range(2)])
        super()._initialize(input_size, rng)

    def _directions(self, dtype):
        H = self.NumHiddenUnits
        W = kernel_array(self.InputWeights, dtype)
        R = kernel_array(self.RecurrentWeights, dtype)
        b = kernel_array(self.Bias, dtype, (8 * H,))
        none = np.empty(0, dtype)
        return [(W[:4 * H], R[:4 * H], b[:4 * H], none), (W[4 * H:], R[4 * H:], b[4 * H:], none)]

    def _forward(self, x, batch, state, training, dtype):
        H = self.NumHiddenUnits
        if state is None:
            h, c = self._initial_state(batch.num_observations, None, dtype)
        else:
            h, c = state[0].copy(), state[1].copy()
        sequence = self.OutputMode == "sequence"
        outs, caches = [], []
        for d, (W, R, b, P) in enumerate(self._directions(dtype)):
            hd = np.ascontiguousarray(h[:, d * H:(d + 1) * H])
            cd = np.ascontiguousarray(c[:, d * H:(d + 1) * H])
            y, cache = LSTMDirection.forward(x, batch, W, R, b, P, hd, cd, self._codes(), False,
                                             training, sequence, d == 1)
            h[:, d * H:(d + 1) * H] = hd
            c[:, d * H:(d + 1) * H] = cd
            outs.append(y)
            caches.append(cache)
        y = np.concatenate(outs, axis=1)
        return y, (None if not training else (caches, batch)), (h, c)

    def _backward(self, dy, cache, grads, need_dx):
        caches, batch = cache
        H = self.NumHiddenUnits
        dtype = dy.dtype
        dW, dR = grads["InputWeights"], grads["RecurrentWeights"]
        db = grads["Bias"].reshape(8 * H)
        sequence = self.OutputMode == "sequence"
        dx = None
        for d, (W, R, _, P) in enumerate(self._directions(dtype)):
            dyd = np.ascontiguousarray(dy[:, d * H:(d + 1) * H])
            part = LSTMDirection.backward(
                dyd, caches[d], batch, W, R, P, self._codes(), False, sequence, d == 1,
                dW[d * 4 * H:(d + 1) * 4 * H], dR[d * 4 * H:(d + 1) * 4 * H],
                db[d * 4 * H:(d + 1) * 4 * H], np.empty(0, dtype), need_dx)
            dx = part if dx is None else dx + part
        return dx


def bilstmLayer(numHiddenUnits, *args, **kwargs):
    """Bidirectional LSTM layer, as MATLAB's ``bilstmLayer``.

    Takes the options of :func:`lstmLayer` (not the lstmkit extensions
    HasPeepholes and CoupledInputForget) with 8H rows instead of 4H:
    ``InputWeights`` 8H-by-C, ``RecurrentWeights`` 8H-by-H, ``Bias`` 8H-by-1
    (forward i, f, g, o, then backward i, f, g, o) and 2H-by-1 states.  A
    4-element learn-rate or L2 factor applies per gate to both directions.

    Returns
    -------
    BiLSTMLayer
    """
    func = "bilstmLayer"
    layer = BiLSTMLayer("")
    unavailable = {n: f"`{n}` is an lstmLayer option (lstmkit extension); bilstmLayer does not "
                      f"support it." for n in ("HasPeepholes", "CoupledInputForget",
                                               "PeepholeWeights")}
    opts = parse_recurrent_options(func, layer, numHiddenUnits, args, kwargs, extra=("CellState",),
                                   unavailable=unavailable)
    layer.BiasInitializer = initializers.check_initializer(
        func, "BiasInitializer", opts.get("BiasInitializer", "unit-forget-gate"),
        ("unit-forget-gate",) + initializers.BIAS_INITIALIZERS)
    return finish_recurrent(func, layer, opts)
