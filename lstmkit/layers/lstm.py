"""lstmLayer: long short-term memory layer (with the peephole and coupled-gate variants)."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from .._typing import ArrayLike, Factor, Initializer
from .._validation import (changed_options, check_bool, fail, name_value_function)
from ..kernels._threads import kernel_parts
from ..kernels.lstm import (lstm_backward, lstm_backward_units, lstm_forward_predict,
                             lstm_forward_predict_units, lstm_forward_train,
                             lstm_forward_train_units, unit_parts)
from . import initializers
from .base import Learnable, check_column, kernel_array
from .recurrent import (PREDICT_BLOCK, ProjectedWeights, RecurrentLayer, finish_recurrent,
                        make_projected, set_recurrent_options)


#: recurrent weights of at least this many bytes, in a batch of at most COLUMN_SPLIT_ROWS rows
#: per thread, are split over the threads by hidden units, not by rows: split by rows, every
#: thread streams all of them at every step, and few rows per thread make each GEMM
#: memory-bound (measured, 2 threads: 16 sequences of a BiLSTM with 2000 units (61 MiB per
#: direction) 1.5x faster split by units, 16 of 512 units 1.36x; 128 of 512 units 0.88x)
COLUMN_SPLIT_BYTES = 2 ** 21
COLUMN_SPLIT_ROWS = 32
_NO_PARTS = np.empty(0, np.int64)


def recurrent_parts(R, N):
    """Parts of the hidden units for the LSTM kernels (none: split the N rows instead)."""
    n = kernel_parts()
    if n < 2 or R.nbytes < COLUMN_SPLIT_BYTES or N > COLUMN_SPLIT_ROWS * n:
        return _NO_PARTS
    return unit_parts(R.shape[1], n)


class LSTMDirection:
    """Forward and backward pass of one LSTM direction on packed rows.

    ``reverse`` runs the direction from each sequence's last time step to its
    first (the backward half of a BiLSTM) by permuting the packed rows: the
    reversed layout has the same batch sizes, so the same kernels serve.
    """

    @staticmethod
    def forward(x, batch, W, R, b, P, h, c, codes, coupled, training, sequence, reverse):
        gk, sk = codes
        H, S = R.shape[1], x.shape[0]
        dtype = x.dtype
        if reverse:
            x = x[batch.reverse_rows]
        chunks = batch.chunks(kernel_parts())
        parts = recurrent_parts(R, h.shape[0])
        if training:
            h0, c0 = h.copy(), c.copy()
            gates = np.empty((S, 4 * H), dtype)
            cell = np.empty((S, H), dtype)
            hidden = np.empty((S, H), dtype)
            if len(parts):
                lstm_forward_train_units(x, W, R, b, P, h, c, batch.batch_sizes, gk, sk, coupled,
                                         gates, cell, hidden, chunks, parts)
            else:
                lstm_forward_train(x, W, R, b, P, h, c, batch.batch_sizes, gk, sk, coupled, gates,
                                   cell, hidden, chunks)
            cache = (x, h0, c0, gates, cell, hidden, chunks, parts)
        else:
            hidden = np.empty((S if sequence else 0, H), dtype)
            if len(parts):
                lstm_forward_predict_units(x, W, R, b, P, h, c, batch.batch_sizes, gk, sk,
                                           coupled, hidden, PREDICT_BLOCK, chunks, parts)
            else:
                lstm_forward_predict(x, W, R, b, P, h, c, batch.batch_sizes, gk, sk, coupled,
                                     hidden, PREDICT_BLOCK, chunks)
            cache = None
        if sequence:
            y = hidden[batch.reverse_rows] if reverse else hidden
        else:
            y = h.copy()
        return y, cache

    @staticmethod
    def backward(dy, cache, batch, W, R, P, codes, coupled, sequence, reverse, dW, dR, db, dP,
                 need_dx):
        x, h0, c0, gates, cell, hidden, chunks, parts = cache
        dtype = x.dtype
        H = R.shape[1]
        if sequence:
            dhidden = np.ascontiguousarray(dy[batch.reverse_rows] if reverse else dy, dtype)
            dh = np.zeros_like(h0)
        else:
            dhidden, dh = np.empty((0, H), dtype), np.array(dy, dtype=dtype, order="C")
        dc = np.zeros_like(c0)
        dx = np.empty((x.shape[0] if need_dx else 0, x.shape[1]), dtype)
        args = (x, W, R, P, h0, c0, batch.batch_sizes, codes[0], codes[1], coupled, gates, cell,
                hidden, dhidden, dh, dc, dW, dR, db, dP, dx, chunks)
        if len(parts):
            lstm_backward_units(*args, parts)
        else:
            lstm_backward(*args)
        if not need_dx:
            return None
        return dx[batch.reverse_rows] if reverse else dx


class LSTMLayer(RecurrentLayer):
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

    lstmkit extensions: ``HasPeepholes`` adds ``p_i c_{t-1}``, ``p_f c_{t-1}``
    and ``p_o c_t`` to the gate preactivations (``PeepholeWeights`` 3H-by-1,
    rows p_i, p_f, p_o; the ONNX LSTM's ``P`` in the order i, o, f); and
    ``CoupledInputForget`` sets ``i_t = 1 - f_t`` (ONNX ``input_forget``).
    """

    type_name = "LSTM"
    default_name = "lstm"
    factory = "lstmLayer"
    state_properties = ("HiddenState", "CellState")
    gate_rows = 4
    peephole_learnable = Learnable("PeepholeWeights", "PeepholeWeightsInitializer",
                                   "PeepholeWeightsLearnRateFactor", "PeepholeWeightsL2Factor", 3)

    @property
    def learnables(self):
        base = RecurrentLayer.learnables.fget(self)
        return base + (self.peephole_learnable,) if self.HasPeepholes else base

    @property
    def Description(self):
        extras = [name for flag, name in ((self.HasPeepholes, "peepholes"),
                                          (self.CoupledInputForget, "coupled input-forget gates"))
                  if flag]
        text = f"LSTM with {self.NumHiddenUnits} hidden units"
        return text + (" and " + " and ".join(extras) if extras else "")

    def _display_properties(self):
        props = ["Name", "InputNames", "OutputNames", "NumInputs", "NumOutputs", "HasStateInputs",
                 "HasStateOutputs", "InputSize", "NumHiddenUnits", "OutputMode",
                 "StateActivationFunction", "GateActivationFunction", "InputWeights",
                 "RecurrentWeights", "Bias", "HiddenState", "CellState",
                 "InputWeightsInitializer", "RecurrentWeightsInitializer", "BiasInitializer",
                 "InputWeightsLearnRateFactor", "RecurrentWeightsLearnRateFactor",
                 "BiasLearnRateFactor", "InputWeightsL2Factor", "RecurrentWeightsL2Factor",
                 "BiasL2Factor"]
        if self.HasPeepholes:
            props += ["HasPeepholes", "PeepholeWeights", "PeepholeWeightsInitializer",
                      "PeepholeWeightsLearnRateFactor", "PeepholeWeightsL2Factor"]
        if self.CoupledInputForget:
            props.append("CoupledInputForget")
        return props

    def _weights(self, dtype):
        H = self.NumHiddenUnits
        P = (kernel_array(self.PeepholeWeights, dtype, (3 * H,)) if self.HasPeepholes
             else np.empty(0, dtype))
        return (kernel_array(self.InputWeights, dtype), kernel_array(self.RecurrentWeights, dtype),
                kernel_array(self.Bias, dtype, (4 * H,)), P)

    def _forward(self, x, batch, state, training, dtype):
        batch = self._sequence_batch(x, batch)
        W, R, b, P = self._weights(dtype)
        if state is None:
            h, c = self._initial_state(batch.num_observations, None, dtype)
        else:
            h, c = state[0].copy(), state[1].copy()
        sequence = self.OutputMode == "sequence"
        y, cache = LSTMDirection.forward(x, batch, W, R, b, P, h, c, self._codes(),
                                         self.CoupledInputForget, training, sequence, False)
        return y, (None if cache is None else (cache, batch)), (h, c)

    def _backward(self, dy, cache, grads, need_dx):
        cache, batch = cache
        W, R, _, P = self._weights(cache[0].dtype)
        H = self.NumHiddenUnits
        dP = grads["PeepholeWeights"].reshape(3 * H) if self.HasPeepholes else np.empty(0, W.dtype)
        return LSTMDirection.backward(
            dy, cache, batch, W, R, P, self._codes(), self.CoupledInputForget,
            self.OutputMode == "sequence", False, grads["InputWeights"],
            grads["RecurrentWeights"], grads["Bias"].reshape(4 * H), dP, need_dx)


_PEEPHOLE_OPTIONS = ("PeepholeWeights", "PeepholeWeightsInitializer",
                     "PeepholeWeightsLearnRateFactor", "PeepholeWeightsL2Factor")


@name_value_function()
def lstmLayer(
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
    HasPeepholes: bool = False,
    PeepholeWeights: ArrayLike | None = None,
    PeepholeWeightsInitializer: Initializer = "zeros",
    PeepholeWeightsLearnRateFactor: Factor = 1.0,
    PeepholeWeightsL2Factor: Factor = 1.0,
    CoupledInputForget: bool = False,
) -> LSTMLayer:
    """Long short-term memory (LSTM) layer, as MATLAB's ``lstmLayer``.

    Parameters
    ----------
    numHiddenUnits : int
        Number of hidden units H.
    OutputMode : {'sequence', 'last'}, default 'sequence'
        Output every time step, or only each sequence's last one.
    StateActivationFunction : {'tanh', 'softsign'}, default 'tanh'
        Activation of the cell candidate and of the cell state.
    GateActivationFunction : {'sigmoid', 'hard-sigmoid'}, default 'sigmoid'
        Activation of the gates; 'hard-sigmoid' is ``min(max(0.2*x + 0.5, 0), 1)``.
    HasStateInputs, HasStateOutputs : bool, default False
        MATLAB's state ports for layer graphs; only false is supported.
    InputWeights : array_like (4H-by-C), optional
        Initial input weights (gate blocks i, f, g, o); C is then the input size.
    RecurrentWeights : array_like (4H-by-H), optional
        Initial recurrent weights.
    Bias : array_like (4H-by-1), optional
        Initial bias.
    HiddenState, CellState : array_like (H-by-1), optional
        Initial states (zeros when empty).
    InputWeightsInitializer : str or callable, default 'glorot'
        'glorot', 'he', 'orthogonal', 'narrow-normal', 'zeros', 'ones' or
        ``f(shape)``.
    RecurrentWeightsInitializer : str or callable, default 'orthogonal'
        The same choices.
    BiasInitializer : str or callable, default 'unit-forget-gate'
        'unit-forget-gate', 'narrow-normal', 'ones', 'zeros' or ``f(shape)``.
    InputWeightsLearnRateFactor, RecurrentWeightsLearnRateFactor, BiasLearnRateFactor : float or 4-vector, default 1
        Multipliers of the learning rate, for the whole array or per gate.
    InputWeightsL2Factor, RecurrentWeightsL2Factor : float or 4-vector, default 1
        Multipliers of the L2 regularization.
    BiasL2Factor : float or 4-vector, default 0
        Multiplier of the L2 regularization of the bias.
    Name : str, default ''
        Layer name; trainNetwork names unnamed layers 'lstm', 'lstm_1', ...
    HasPeepholes : bool, default False
        lstmkit extension: peephole connections (Gers & Schmidhuber 2000).  The
        gates see the cell state: i and f see c_{t-1}, o sees c_t, each through
        a diagonal weight (``PeepholeWeights``, 3H-by-1, rows i, f, o).  They
        help where precise timing matters (counting, spike intervals); on most
        sequence-classification data they change little (Greff et al. 2017).
    PeepholeWeights : array_like (3H-by-1), optional
        Initial peephole weights (needs ``HasPeepholes=True``).
    PeepholeWeightsInitializer : str or callable, default 'zeros'
        Initializer of the peephole weights.
    PeepholeWeightsLearnRateFactor, PeepholeWeightsL2Factor : float or 3-vector, default 1
        Factors of the peephole weights.
    CoupledInputForget : bool, default False
        lstmkit extension: couple the input and forget gates, ``i = 1 - f``
        (ONNX's ``input_forget``; the "CIFG" variant of Greff et al. 2017).  The
        cell then interpolates between its old value and the candidate, with
        one gate fewer to learn: about as accurate as the full LSTM on most
        tasks, and a quarter of the gate parameters unused.  The input-gate rows
        of the weights are kept (MATLAB's 4H layout) but unused.  ONNX Runtime
        couples the other way round (f = 1 - i); exportONNXNetwork writes the
        equivalent weights, so exported models give the same results.

    Returns
    -------
    LSTMLayer

    Notes
    -----
    Name=Value options may also be given as MATLAB's positional pairs,
    ``lstmLayer(100, "OutputMode", "last")``; names are case-insensitive.

    Examples
    --------
    >>> from lstmkit import lstmLayer
    >>> layer = lstmLayer(100, OutputMode="last")
    >>> layer.NumHiddenUnits, layer.OutputMode
    (100, 'last')
    >>> lstmLayer(100, "OutputMode", "last").OutputMode    # MATLAB's positional pairs
    'last'
    """
    opts = dict(locals())
    func = "lstmLayer"
    layer = LSTMLayer("")
    set_recurrent_options(func, layer, opts)
    H = layer.NumHiddenUnits
    layer.BiasInitializer = initializers.check_initializer(
        func, "BiasInitializer", BiasInitializer,
        ("unit-forget-gate",) + initializers.BIAS_INITIALIZERS)
    layer.HasPeepholes = check_bool(func, "HasPeepholes", HasPeepholes)
    layer.CoupledInputForget = check_bool(func, "CoupledInputForget", CoupledInputForget)
    peephole_opts = changed_options(lstmLayer, opts, _PEEPHOLE_OPTIONS)
    if peephole_opts and not layer.HasPeepholes:
        fail(func, f"`{peephole_opts[0]}` needs HasPeepholes=true.")
    if layer.HasPeepholes:
        layer.PeepholeWeights = check_column(func, "PeepholeWeights", PeepholeWeights, 3 * H)
        layer.PeepholeWeightsInitializer = initializers.check_initializer(
            func, "PeepholeWeightsInitializer", PeepholeWeightsInitializer,
            initializers.BIAS_INITIALIZERS)
    else:
        layer.PeepholeWeights = None
    return finish_recurrent(func, layer, opts)


class LSTMProjectedLayer(ProjectedWeights, LSTMLayer):
    """LSTM with projected (low-rank) input and recurrent weights (create it with
    :func:`lstmProjectedLayer`).

    The gates see ``InputWeights @ InputProjector.T`` (4H-by-C, of rank at most
    InputProjectorSize) times the input and ``RecurrentWeights @
    OutputProjector.T`` (4H-by-H, of rank at most OutputProjectorSize) times
    the hidden state; everything else is lstmLayer's, so the hidden state and
    the output have NumHiddenUnits channels.
    """

    type_name = "LSTM Projected"
    default_name = "lstmp"
    factory = "lstmProjectedLayer"
    HasPeepholes = False
    CoupledInputForget = False

    @property
    def Description(self):
        return (f"LSTM projected layer with {self.NumHiddenUnits} hidden units, output "
                f"projector size {self.OutputProjectorSize} and input projector size "
                f"{self.InputProjectorSize}")

    def _display_properties(self):
        return ["Name", "InputSize", "NumHiddenUnits", "OutputProjectorSize",
                "InputProjectorSize", "OutputMode", "StateActivationFunction",
                "GateActivationFunction", "InputWeights", "RecurrentWeights", "Bias",
                "InputProjector", "OutputProjector", "HiddenState", "CellState"]

    def _weights(self, dtype):
        W, R = self._effective(dtype)
        return W, R, kernel_array(self.Bias, dtype, (4 * self.NumHiddenUnits,)), \
            np.empty(0, dtype)

    def _backward(self, dy, cache, grads, need_dx):
        cache, batch = cache
        dtype = cache[0].dtype
        W, R, _, P = self._weights(dtype)
        dW, dR = np.empty_like(W), np.empty_like(R)
        dx = LSTMDirection.backward(
            dy, cache, batch, W, R, P, self._codes(), False, self.OutputMode == "sequence",
            False, dW, dR, grads["Bias"].reshape(-1), np.empty(0, dtype), need_dx)
        self._factor_gradients(dW, dR, grads, dtype)
        return dx


@name_value_function()
def lstmProjectedLayer(
    numHiddenUnits: int,
    outputProjectorSize: int,
    inputProjectorSize: int,
    *name_value: Any,
    Name: str = "",
    OutputMode: Literal["sequence", "last"] = "sequence",
    StateActivationFunction: Literal["tanh", "softsign"] = "tanh",
    GateActivationFunction: Literal["sigmoid", "hard-sigmoid"] = "sigmoid",
    InputWeights: ArrayLike | None = None,
    RecurrentWeights: ArrayLike | None = None,
    Bias: ArrayLike | None = None,
    InputProjector: ArrayLike | None = None,
    OutputProjector: ArrayLike | None = None,
    HiddenState: ArrayLike | None = None,
    CellState: ArrayLike | None = None,
    InputWeightsInitializer: Initializer = "glorot",
    RecurrentWeightsInitializer: Initializer = "orthogonal",
    BiasInitializer: Initializer = "unit-forget-gate",
    InputProjectorInitializer: Initializer = "orthogonal",
    OutputProjectorInitializer: Initializer = "orthogonal",
    InputWeightsLearnRateFactor: Factor = 1.0,
    RecurrentWeightsLearnRateFactor: Factor = 1.0,
    BiasLearnRateFactor: Factor = 1.0,
    InputProjectorLearnRateFactor: float = 1.0,
    OutputProjectorLearnRateFactor: float = 1.0,
    InputWeightsL2Factor: Factor = 1.0,
    RecurrentWeightsL2Factor: Factor = 1.0,
    BiasL2Factor: Factor = 0.0,
    InputProjectorL2Factor: float = 1.0,
    OutputProjectorL2Factor: float = 1.0,
) -> LSTMProjectedLayer:
    """LSTM layer with projected learnables, as MATLAB's ``lstmProjectedLayer`` (R2022b).

    Parameters
    ----------
    numHiddenUnits : int
        Hidden units H (the output's channels).
    outputProjectorSize : int
        P: the recurrent weights are ``RecurrentWeights`` (4H-by-P) times
        ``OutputProjector.T`` (P-by-H).
    inputProjectorSize : int
        Q: the input weights are ``InputWeights`` (4H-by-Q) times
        ``InputProjector.T`` (Q-by-C).
    OutputMode, StateActivationFunction, GateActivationFunction
        As for :func:`lstmLayer`.
    InputWeights, RecurrentWeights, Bias : array_like, optional
        4H-by-Q, 4H-by-P and 4H-by-1 (gate blocks i, f, g, o).
    InputProjector, OutputProjector : array_like, optional
        C-by-Q and H-by-P.
    HiddenState, CellState : array_like (H-by-1), optional
    InputWeightsInitializer, RecurrentWeightsInitializer, BiasInitializer
        As for :func:`lstmLayer`.
    InputProjectorInitializer, OutputProjectorInitializer : str or callable, default 'orthogonal'
    *LearnRateFactor, *L2Factor : float
        As for :func:`lstmLayer`; the projectors' are scalars.
    Name : str, default ''

    Returns
    -------
    LSTMProjectedLayer

    Examples
    --------
    >>> from lstmkit import *
    >>> net = dlnetwork([sequenceInputLayer(12), lstmProjectedLayer(100, 30, 8,
    ...                                                            OutputMode="last")])
    >>> [v.shape for v in net.Learnables.Value]
    [(400, 8), (400, 30), (400, 1), (12, 8), (100, 30)]
    """
    opts = dict(locals())
    func = "lstmProjectedLayer"
    return make_projected(func, LSTMProjectedLayer, lstmLayer, opts)
