"""lstmLayer: long short-term memory layer."""

import numpy as np

from .._validation import (as_float_array, check_bool, check_choice, check_name,
                           check_positive_int, fail, parse_name_value)
from ..kernels import _config
from ..kernels.lstm import lstm_backward, lstm_forward_predict, lstm_forward_train
from . import initializers
from .base import Layer, Learnable, check_column, kernel_array, set_factors

_GATE_CODES = {"sigmoid": _config.GATE_SIGMOID, "hard-sigmoid": _config.GATE_HARD_SIGMOID}
_STATE_CODES = {"tanh": _config.STATE_TANH, "softsign": _config.STATE_SOFTSIGN}

#: time steps whose input projection is one GEMM in prediction (bounds memory)
PREDICT_BLOCK = 64


class LSTMLayer(Layer):
    """Long short-term memory layer (create it with :func:`lstmLayer`).

    Notes
    -----
    Gate blocks of ``InputWeights`` (4H-by-C), ``RecurrentWeights`` (4H-by-H)
    and ``Bias`` (4H-by-1) are in MATLAB's order: input gate i, forget gate f,
    cell candidate g, output gate o.

    .. math::

        i_t = \\sigma_g(W_i x_t + R_i h_{t-1} + b_i),\\quad
        f_t = \\sigma_g(W_f x_t + R_f h_{t-1} + b_f),\\\\
        g_t = \\sigma_s(W_g x_t + R_g h_{t-1} + b_g),\\quad
        o_t = \\sigma_g(W_o x_t + R_o h_{t-1} + b_o),\\\\
        c_t = f_t \\odot c_{t-1} + i_t \\odot g_t,\\quad
        h_t = o_t \\odot \\sigma_s(c_t).

    With ``OutputMode='last'`` each sequence's output is taken at its own last
    time step, whatever the padding of MATLAB would have been.
    """

    type_name = "LSTM"
    default_name = "lstm"
    factory = "lstmLayer"
    learnables = (
        Learnable("InputWeights", "InputWeightsInitializer", "InputWeightsLearnRateFactor",
                  "InputWeightsL2Factor", 4),
        Learnable("RecurrentWeights", "RecurrentWeightsInitializer",
                  "RecurrentWeightsLearnRateFactor", "RecurrentWeightsL2Factor", 4),
        Learnable("Bias", "BiasInitializer", "BiasLearnRateFactor", "BiasL2Factor", 4,
                  l2_default=0.0),
    )

    @property
    def Description(self):
        return f"LSTM with {self.NumHiddenUnits} hidden units"

    def _display_properties(self):
        return ["Name", "InputNames", "OutputNames", "NumInputs", "NumOutputs", "HasStateInputs",
                "HasStateOutputs", "InputSize", "NumHiddenUnits", "OutputMode",
                "StateActivationFunction", "GateActivationFunction", "InputWeights",
                "RecurrentWeights", "Bias", "HiddenState", "CellState", "InputWeightsInitializer",
                "RecurrentWeightsInitializer", "BiasInitializer", "InputWeightsLearnRateFactor",
                "RecurrentWeightsLearnRateFactor", "BiasLearnRateFactor", "InputWeightsL2Factor",
                "RecurrentWeightsL2Factor", "BiasL2Factor"]

    InputNames = ("in",)
    OutputNames = ("out",)
    NumInputs = 1
    NumOutputs = 1
    HasStateInputs = False
    HasStateOutputs = False

    # -- construction -----------------------------------------------------------
    def _output_size(self, input_size):
        return self.NumHiddenUnits

    def _outputs_sequence(self, input_is_sequence):
        return self.OutputMode == "sequence"

    def _check_input(self, func, input_size, input_is_sequence):
        if not input_is_sequence:
            fail(func, f"layer '{self.Name}' (LSTM) needs sequence input, but the layer before it "
                       f"outputs one vector per observation (an LSTM with OutputMode 'last'?). "
                       f"Set OutputMode='sequence' on the earlier recurrent layer.")
        self._check_input_size(func, input_size)

    def _learnable_shape(self, name, input_size):
        H = self.NumHiddenUnits
        if name == "InputWeights":
            return (4 * H, input_size), input_size, 4 * H
        if name == "RecurrentWeights":
            return (4 * H, H), H, 4 * H
        return (4 * H, 1), 1, 4 * H

    # -- computation --------------------------------------------------------------
    def _initial_state(self, batch, dtype):
        N, H = batch.num_observations, self.NumHiddenUnits
        h = np.zeros((N, H), dtype)
        c = np.zeros((N, H), dtype)
        if self.HiddenState is not None:
            h[:] = np.asarray(self.HiddenState, dtype).reshape(1, H)
        if self.CellState is not None:
            c[:] = np.asarray(self.CellState, dtype).reshape(1, H)
        return h, c

    def _weights(self, dtype):
        H = self.NumHiddenUnits
        return (kernel_array(self.InputWeights, dtype), kernel_array(self.RecurrentWeights, dtype),
                kernel_array(self.Bias, dtype, (4 * H,)))

    def _forward(self, x, batch, state, training, dtype):
        W, R, b = self._weights(dtype)
        if state is None:
            h, c = self._initial_state(batch, dtype)
        else:
            h, c = state[0].copy(), state[1].copy()
        g, s = _GATE_CODES[self.GateActivationFunction], _STATE_CODES[self.StateActivationFunction]
        sequence = self.OutputMode == "sequence"
        H, S = self.NumHiddenUnits, x.shape[0]
        if training:
            h0, c0 = h.copy(), c.copy()
            gates = np.empty((S, 4 * H), dtype)
            cell = np.empty((S, H), dtype)
            hidden = np.empty((S, H), dtype)
            lstm_forward_train(x, W, R, b, h, c, batch.batch_sizes, g, s, gates, cell, hidden)
            cache = (x, h0, c0, batch, gates, cell, hidden, sequence)
            y = hidden if sequence else h.copy()
        else:
            hidden = np.empty((S if sequence else 0, H), dtype)
            lstm_forward_predict(x, W, R, b, h, c, batch.batch_sizes, g, s, hidden, PREDICT_BLOCK)
            cache = None
            y = hidden if sequence else h.copy()
        return y, cache, (h, c)

    def _backward(self, dy, cache, grads, need_dx):
        x, h0, c0, batch, gates, cell, hidden, sequence = cache
        dtype = x.dtype
        W, R, _ = self._weights(dtype)
        H = self.NumHiddenUnits
        if sequence:
            dhidden, dh = dy, np.zeros_like(h0)
        else:
            dhidden, dh = np.empty((0, H), dtype), np.array(dy, dtype=dtype, order="C")
        dc = np.zeros_like(c0)
        dx = np.empty((x.shape[0] if need_dx else 0, x.shape[1]), dtype)
        lstm_backward(x, W, R, h0, c0, batch.batch_sizes,
                      _GATE_CODES[self.GateActivationFunction],
                      _STATE_CODES[self.StateActivationFunction], gates, cell, hidden, dhidden, dh,
                      dc, grads["InputWeights"], grads["RecurrentWeights"],
                      grads["Bias"].reshape(4 * H), dx)
        return dx if need_dx else None


_LSTM_OPTIONS = (
    "Name", "OutputMode", "StateActivationFunction", "GateActivationFunction", "HasStateInputs",
    "HasStateOutputs", "InputWeights", "RecurrentWeights", "Bias", "HiddenState", "CellState",
    "InputWeightsInitializer", "RecurrentWeightsInitializer", "BiasInitializer",
    "InputWeightsLearnRateFactor", "RecurrentWeightsLearnRateFactor", "BiasLearnRateFactor",
    "InputWeightsL2Factor", "RecurrentWeightsL2Factor", "BiasL2Factor",
)


def lstmLayer(numHiddenUnits, *args, **kwargs):
    """Long short-term memory (LSTM) layer, as MATLAB's ``lstmLayer``.

    Parameters
    ----------
    numHiddenUnits : int
        Number of hidden units H.
    OutputMode : {'sequence', 'last'}, default 'sequence'
        Output every time step, or only each sequence's last one.
    StateActivationFunction : {'tanh', 'softsign'}, default 'tanh'
    GateActivationFunction : {'sigmoid', 'hard-sigmoid'}, default 'sigmoid'
        'hard-sigmoid' is ``min(max(0.2*x + 0.5, 0), 1)``.
    InputWeights : array (4H-by-C), optional
        Initial input weights (gate blocks i, f, g, o); C is then the input size.
    RecurrentWeights : array (4H-by-H), optional
    Bias : array (4H-by-1), optional
    HiddenState, CellState : array (H-by-1), optional
        Initial states (zeros when empty).
    InputWeightsInitializer : str or callable, default 'glorot'
        'glorot', 'he', 'orthogonal', 'narrow-normal', 'zeros', 'ones' or
        ``f(shape)``.
    RecurrentWeightsInitializer : str or callable, default 'orthogonal'
    BiasInitializer : str or callable, default 'unit-forget-gate'
        'unit-forget-gate', 'narrow-normal', 'ones', 'zeros' or ``f(shape)``.
    InputWeightsLearnRateFactor, RecurrentWeightsLearnRateFactor, BiasLearnRateFactor : float or 4-vector, default 1
    InputWeightsL2Factor, RecurrentWeightsL2Factor : float or 4-vector, default 1
    BiasL2Factor : float or 4-vector, default 0
    Name : str, default ''

    Name=Value options may also be given as MATLAB's positional pairs,
    ``lstmLayer(100, "OutputMode", "last")``; names are case-insensitive.

    Returns
    -------
    LSTMLayer
    """
    func = "lstmLayer"
    H = check_positive_int(func, "numHiddenUnits", numHiddenUnits)
    opts = parse_name_value(func, args, kwargs, _LSTM_OPTIONS)
    layer = LSTMLayer(check_name(func, opts.get("Name", "")))
    layer.NumHiddenUnits = H
    layer.InputSize = "auto"
    layer.OutputMode = check_choice(func, "OutputMode", opts.get("OutputMode", "sequence"),
                                    ("sequence", "last"))
    layer.StateActivationFunction = check_choice(
        func, "StateActivationFunction", opts.get("StateActivationFunction", "tanh"),
        ("tanh", "softsign"))
    layer.GateActivationFunction = check_choice(
        func, "GateActivationFunction", opts.get("GateActivationFunction", "sigmoid"),
        ("sigmoid", "hard-sigmoid"))
    for flag in ("HasStateInputs", "HasStateOutputs"):
        if flag in opts and check_bool(func, flag, opts[flag]):
            fail(func, f"`{flag}`=true (extra state inputs/outputs for layer graphs) is not "
                       f"supported by lstmkit; use HiddenState/CellState, or "
                       f"predictAndUpdateState for stateful prediction.")
    W = as_float_array(func, "InputWeights", opts.get("InputWeights"), shape=(4 * H, None))
    if W is not None:
        if W.shape[1] == 0:
            fail(func, "`InputWeights` must have at least one column.")
        layer.InputSize = W.shape[1]
    layer.InputWeights = W
    layer.RecurrentWeights = as_float_array(func, "RecurrentWeights",
                                            opts.get("RecurrentWeights"), shape=(4 * H, H))
    layer.Bias = check_column(func, "Bias", opts.get("Bias"), 4 * H)
    layer.HiddenState = check_column(func, "HiddenState", opts.get("HiddenState"), H)
    layer.CellState = check_column(func, "CellState", opts.get("CellState"), H)
    layer.InputWeightsInitializer = initializers.check_initializer(
        func, "InputWeightsInitializer", opts.get("InputWeightsInitializer", "glorot"),
        initializers.WEIGHT_INITIALIZERS)
    layer.RecurrentWeightsInitializer = initializers.check_initializer(
        func, "RecurrentWeightsInitializer", opts.get("RecurrentWeightsInitializer", "orthogonal"),
        initializers.WEIGHT_INITIALIZERS)
    layer.BiasInitializer = initializers.check_initializer(
        func, "BiasInitializer", opts.get("BiasInitializer", "unit-forget-gate"),
        ("unit-forget-gate",) + initializers.BIAS_INITIALIZERS)
    set_factors(func, layer, opts)
    return layer

