"""bilstmLayer: bidirectional LSTM layer."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from .._typing import ArrayLike, Factor, Initializer
from .._validation import name_value_function

from . import initializers
from .base import kernel_array
from .lstm import LSTMDirection
from .recurrent import RecurrentLayer, finish_recurrent, set_recurrent_options


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
        batch = self._sequence_batch(x, batch)
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


@name_value_function(unavailable={
    n: f"`{n}` is an lstmLayer option (lstmkit extension); bilstmLayer does not support it."
    for n in ("HasPeepholes", "CoupledInputForget", "PeepholeWeights")})
def bilstmLayer(
    numHiddenUnits: int,
    *name_value: Any,
    Name: str = "",
    OutputMode: Literal["sequence", "last"] = "sequence",
    StateActivationFunction: Literal["tanh", "softsign"] = "tanh",
    GateActivationFunction: Literal["sigmoid", "hard-sigmoid"] = "sigmoid",
    HasStateInputs: bool = False,
    HasStateOutputs: bool = False,
    InputWeights: ArrayLike | None = None,
    RecurrentWeights: ArrayLike | None = None,
    Bias: ArrayLike | None = None,
    HiddenState: ArrayLike | None = None,
    CellState: ArrayLike | None = None,
    InputWeightsInitializer: Initializer = "glorot",
    RecurrentWeightsInitializer: Initializer = "orthogonal",
    BiasInitializer: Initializer = "unit-forget-gate",
    InputWeightsLearnRateFactor: Factor = 1.0,
    RecurrentWeightsLearnRateFactor: Factor = 1.0,
    BiasLearnRateFactor: Factor = 1.0,
    InputWeightsL2Factor: Factor = 1.0,
    RecurrentWeightsL2Factor: Factor = 1.0,
    BiasL2Factor: Factor = 0.0,
) -> BiLSTMLayer:
    """Bidirectional LSTM layer, as MATLAB's ``bilstmLayer``.

    Takes the options of :func:`lstmLayer` (not the lstmkit extensions
    HasPeepholes and CoupledInputForget) with 8H rows instead of 4H:
    ``InputWeights`` 8H-by-C, ``RecurrentWeights`` 8H-by-H, ``Bias`` 8H-by-1
    (forward i, f, g, o, then backward i, f, g, o) and 2H-by-1 states.  A
    4-element learn-rate or L2 factor applies per gate to both directions.

    Parameters
    ----------
    numHiddenUnits : int
        Number of hidden units H of each direction (the output has 2H channels).
    OutputMode : {'sequence', 'last'}, default 'sequence'
        With 'last', the forward direction's state after each sequence's last
        step and the backward direction's state after its first step.
    StateActivationFunction, GateActivationFunction, HasStateInputs, HasStateOutputs
        As for :func:`lstmLayer`.
    InputWeights, RecurrentWeights, Bias : array_like, optional
        8H-by-C, 8H-by-H and 8H-by-1.
    HiddenState, CellState : array_like (2H-by-1), optional
        Initial states, forward direction first.
    InputWeightsInitializer, RecurrentWeightsInitializer, BiasInitializer
        As for :func:`lstmLayer`.
    InputWeightsLearnRateFactor, RecurrentWeightsLearnRateFactor, BiasLearnRateFactor : float or 4-vector, default 1
        Learn-rate factors, per gate for both directions.
    InputWeightsL2Factor, RecurrentWeightsL2Factor : float or 4-vector, default 1
        L2 factors.
    BiasL2Factor : float or 4-vector, default 0
        L2 factor of the bias.
    Name : str, default ''
        Layer name.

    Returns
    -------
    BiLSTMLayer

    Examples
    --------
    >>> from lstmkit import bilstmLayer
    >>> bilstmLayer(100, OutputMode="last").Description
    'BiLSTM with 100 hidden units'
    """
    opts = dict(locals())
    func = "bilstmLayer"
    layer = BiLSTMLayer("")
    set_recurrent_options(func, layer, opts)
    layer.BiasInitializer = initializers.check_initializer(
        func, "BiasInitializer", BiasInitializer,
        ("unit-forget-gate",) + initializers.BIAS_INITIALIZERS)
    return finish_recurrent(func, layer, opts)
