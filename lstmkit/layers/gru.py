"""gruLayer: gated recurrent unit layer, in MATLAB's three reset-gate modes."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from .._typing import ArrayLike, Factor, Initializer
from .._validation import check_choice, name_value_function
from ..kernels._threads import kernel_parts
from ..kernels.gru import AFTER, BEFORE, gru_backward, gru_forward
from . import initializers
from .base import check_column, kernel_array
from .recurrent import (PREDICT_BLOCK, ProjectedWeights, RecurrentLayer, finish_recurrent,
                        make_projected, set_recurrent_options)

RESET_GATE_MODES = ("after-multiplication", "before-multiplication",
                    "recurrent-bias-after-multiplication")


class GRULayer(RecurrentLayer):
    """Gated recurrent unit layer (create it with :func:`gruLayer`).

    Gate blocks of ``InputWeights`` (3H-by-C), ``RecurrentWeights`` (3H-by-H)
    and ``Bias`` are in MATLAB's order reset r, update z, candidate h~:

    .. math::

        r_t = \\sigma_g(W_r x_t + R_r h_{t-1} + b_r),\\quad
        z_t = \\sigma_g(W_z x_t + R_z h_{t-1} + b_z),\\\\
        h_t = (1 - z_t) \\odot \\tilde h_t + z_t \\odot h_{t-1},

    with the candidate, by ``ResetGateMode``:

    * 'after-multiplication' (default, cuDNN's form):
      :math:`\\tilde h_t = \\sigma_s(W_h x_t + b_h + r_t \\odot (R_h h_{t-1}))`;
    * 'before-multiplication':
      :math:`\\tilde h_t = \\sigma_s(W_h x_t + b_h + R_h (r_t \\odot h_{t-1}))`;
    * 'recurrent-bias-after-multiplication' (PyTorch's ``nn.GRU``): ``Bias`` is
      6H-by-1, input-side biases then recurrent-side biases ``b^R``, and
      :math:`\\tilde h_t = \\sigma_s(W_h x_t + b_h + r_t \\odot (R_h h_{t-1} + b^R_h))`
      (r and z add ``b^R`` too).
    """

    type_name = "GRU"
    default_name = "gru"
    factory = "gruLayer"
    state_properties = ("HiddenState",)
    gate_rows = 3
    gates = 3

    @property
    def Description(self):
        return f"GRU with {self.NumHiddenUnits} hidden units"

    def _display_properties(self):
        return ["Name", "InputNames", "OutputNames", "NumInputs", "NumOutputs", "HasStateInputs",
                "HasStateOutputs", "InputSize", "NumHiddenUnits", "OutputMode", "ResetGateMode",
                "StateActivationFunction", "GateActivationFunction", "InputWeights",
                "RecurrentWeights", "Bias", "HiddenState", "InputWeightsInitializer",
                "RecurrentWeightsInitializer", "BiasInitializer", "InputWeightsLearnRateFactor",
                "RecurrentWeightsLearnRateFactor", "BiasLearnRateFactor", "InputWeightsL2Factor",
                "RecurrentWeightsL2Factor", "BiasL2Factor"]

    def _bias_rows(self):
        return 6 * self.NumHiddenUnits if self.ResetGateMode == RESET_GATE_MODES[2] else \
            3 * self.NumHiddenUnits

    def _weights(self, dtype):
        H = self.NumHiddenUnits
        bias = kernel_array(self.Bias, dtype, (self._bias_rows(),))
        bR = bias[3 * H:] if bias.size == 6 * H else np.zeros(3 * H, dtype)
        return (kernel_array(self.InputWeights, dtype), kernel_array(self.RecurrentWeights, dtype),
                bias[:3 * H], bR)

    def _mode(self):
        return BEFORE if self.ResetGateMode == "before-multiplication" else AFTER

    def _forward(self, x, batch, state, training, dtype):
        batch = self._sequence_batch(x, batch)
        W, R, b, bR = self._weights(dtype)
        h = self._initial_state(batch.num_observations, None, dtype)[0] if state is None \
            else state[0].copy()
        H, S = self.NumHiddenUnits, x.shape[0]
        sequence = self.OutputMode == "sequence"
        gk, sk = self._codes()
        rows = S if training else 0
        gates, aux = np.empty((rows, 3 * H), dtype), np.empty((rows, H), dtype)
        hidden = np.empty((S if (training or sequence) else 0, H), dtype)
        h0 = h.copy() if training else None
        chunks = batch.chunks(kernel_parts())
        gru_forward(x, W, R, b, bR, h, batch.batch_sizes, gk, sk, self._mode(), gates, aux, hidden,
                    PREDICT_BLOCK, chunks)
        y = hidden if sequence else h.copy()
        cache = (x, h0, batch, gates, aux, hidden, sequence, chunks) if training else None
        return y, cache, (h,)

    def _backward(self, dy, cache, grads, need_dx):
        x, h0, batch, gates, aux, hidden, sequence, chunks = cache
        dtype = x.dtype
        W, R, _, bR = self._weights(dtype)
        H = self.NumHiddenUnits
        if sequence:
            dhidden, dh = dy, np.zeros_like(h0)
        else:
            dhidden, dh = np.empty((0, H), dtype), np.array(dy, dtype=dtype, order="C")
        dbias = grads["Bias"].reshape(-1)
        db = dbias[:3 * H]
        dbR = dbias[3 * H:] if dbias.size == 6 * H else np.empty(3 * H, dtype)
        dx = np.empty((x.shape[0] if need_dx else 0, x.shape[1]), dtype)
        gk, sk = self._codes()
        gru_backward(x, W, R, bR, h0, batch.batch_sizes, gk, sk, self._mode(), gates, aux, hidden,
                     dhidden, dh, grads["InputWeights"], grads["RecurrentWeights"], db, dbR, dx,
                     chunks)
        return dx if need_dx else None


@name_value_function(unavailable={
    "CellState": "`CellState` is not an option of gruLayer (a GRU has no cell state)."})
def gruLayer(
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
    ResetGateMode: Literal["after-multiplication", "before-multiplication",
                           "recurrent-bias-after-multiplication"] = "after-multiplication",
    InputWeightsInitializer: Initializer = "glorot",
    RecurrentWeightsInitializer: Initializer = "orthogonal",
    BiasInitializer: Initializer = "zeros",
    InputWeightsLearnRateFactor: Factor = 1.0,
    RecurrentWeightsLearnRateFactor: Factor = 1.0,
    BiasLearnRateFactor: Factor = 1.0,
    InputWeightsL2Factor: Factor = 1.0,
    RecurrentWeightsL2Factor: Factor = 1.0,
    BiasL2Factor: Factor = 0.0,
) -> GRULayer:
    """Gated recurrent unit (GRU) layer, as MATLAB's ``gruLayer``.

    Parameters
    ----------
    numHiddenUnits : int
        Number of hidden units H.
    ResetGateMode : str, default 'after-multiplication'
        'after-multiplication', 'before-multiplication' or
        'recurrent-bias-after-multiplication' (see :class:`GRULayer`).
    OutputMode : {'sequence', 'last'}, default 'sequence'
        Output every time step, or only each sequence's last one.
    StateActivationFunction : {'tanh', 'softsign'}, default 'tanh'
        Activation of the candidate state.
    GateActivationFunction : {'sigmoid', 'hard-sigmoid'}, default 'sigmoid'
        Activation of the reset and update gates.
    HasStateInputs, HasStateOutputs : bool, default False
        MATLAB's state ports for layer graphs; only false is supported.
    InputWeights : array_like (3H-by-C), optional
        Initial input weights (gate blocks r, z, h~).
    RecurrentWeights : array_like (3H-by-H), optional
        Initial recurrent weights.
    Bias : array_like, optional
        3H-by-1, or 6H-by-1 for 'recurrent-bias-after-multiplication'.
    HiddenState : array_like (H-by-1), optional
        Initial hidden state.
    InputWeightsInitializer : str or callable, default 'glorot'
        As for :func:`lstmLayer`.
    RecurrentWeightsInitializer : str or callable, default 'orthogonal'
        As for :func:`lstmLayer`.
    BiasInitializer : str or callable, default 'zeros'
        'zeros', 'narrow-normal', 'ones' or ``f(shape)``.
    InputWeightsLearnRateFactor, RecurrentWeightsLearnRateFactor, BiasLearnRateFactor : float or 3-vector, default 1
        Learn-rate factors, for the whole array or per gate.
    InputWeightsL2Factor, RecurrentWeightsL2Factor : float or 3-vector, default 1
        L2 factors.
    BiasL2Factor : float or 3-vector, default 0
        L2 factor of the bias.
    Name : str, default ''
        Layer name.

    Returns
    -------
    GRULayer

    Examples
    --------
    >>> from lstmkit import gruLayer
    >>> gruLayer(64, ResetGateMode="recurrent-bias-after-multiplication").Description
    'GRU with 64 hidden units'
    """
    opts = dict(locals())
    func = "gruLayer"
    layer = GRULayer("")
    # ResetGateMode fixes the Bias size
    layer.ResetGateMode = check_choice(func, "ResetGateMode", ResetGateMode, RESET_GATE_MODES)
    set_recurrent_options(func, layer, opts, set_bias=False)
    layer.Bias = check_column(func, "Bias", Bias, layer._bias_rows())
    layer.BiasInitializer = initializers.check_initializer(
        func, "BiasInitializer", BiasInitializer, initializers.BIAS_INITIALIZERS)
    return finish_recurrent(func, layer, opts)


class GRUProjectedLayer(ProjectedWeights, GRULayer):
    """GRU with projected (low-rank) input and recurrent weights (create it with
    :func:`gruProjectedLayer`): the gates see ``InputWeights @ InputProjector.T``
    and ``RecurrentWeights @ OutputProjector.T``; everything else is gruLayer's."""

    type_name = "GRU Projected"
    default_name = "grup"
    factory = "gruProjectedLayer"

    @property
    def Description(self):
        return (f"GRU projected layer with {self.NumHiddenUnits} hidden units, output projector "
                f"size {self.OutputProjectorSize} and input projector size "
                f"{self.InputProjectorSize}")

    def _display_properties(self):
        return ["Name", "InputSize", "NumHiddenUnits", "OutputProjectorSize",
                "InputProjectorSize", "OutputMode", "ResetGateMode", "StateActivationFunction",
                "GateActivationFunction", "InputWeights", "RecurrentWeights", "Bias",
                "InputProjector", "OutputProjector", "HiddenState"]

    def _weights(self, dtype):
        H = self.NumHiddenUnits
        bias = kernel_array(self.Bias, dtype, (self._bias_rows(),))
        bR = bias[3 * H:] if bias.size == 6 * H else np.zeros(3 * H, dtype)
        W, R = self._effective(dtype)
        return W, R, bias[:3 * H], bR

    def _backward(self, dy, cache, grads, need_dx):
        W, R, _, _ = self._weights(cache[0].dtype)
        effective = dict(grads, InputWeights=np.empty_like(W), RecurrentWeights=np.empty_like(R))
        dx = GRULayer._backward(self, dy, cache, effective, need_dx)
        self._factor_gradients(effective["InputWeights"], effective["RecurrentWeights"], grads,
                               W.dtype)
        return dx


@name_value_function()
def gruProjectedLayer(
    numHiddenUnits: int,
    outputProjectorSize: int,
    inputProjectorSize: int,
    *name_value: Any,
    Name: str = "",
    OutputMode: Literal["sequence", "last"] = "sequence",
    StateActivationFunction: Literal["tanh", "softsign"] = "tanh",
    GateActivationFunction: Literal["sigmoid", "hard-sigmoid"] = "sigmoid",
    ResetGateMode: Literal["after-multiplication", "before-multiplication",
                           "recurrent-bias-after-multiplication"] = "after-multiplication",
    InputWeights: ArrayLike | None = None,
    RecurrentWeights: ArrayLike | None = None,
    Bias: ArrayLike | None = None,
    InputProjector: ArrayLike | None = None,
    OutputProjector: ArrayLike | None = None,
    HiddenState: ArrayLike | None = None,
    InputWeightsInitializer: Initializer = "glorot",
    RecurrentWeightsInitializer: Initializer = "orthogonal",
    BiasInitializer: Initializer = "zeros",
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
) -> GRUProjectedLayer:
    """GRU layer with projected learnables, as MATLAB's ``gruProjectedLayer`` (R2023b).

    Parameters
    ----------
    numHiddenUnits : int
        Hidden units H (the output's channels).
    outputProjectorSize : int
        P: the recurrent weights are ``RecurrentWeights`` (3H-by-P) times
        ``OutputProjector.T`` (P-by-H).
    inputProjectorSize : int
        Q: the input weights are ``InputWeights`` (3H-by-Q) times
        ``InputProjector.T`` (Q-by-C).
    OutputMode, StateActivationFunction, GateActivationFunction, ResetGateMode
        As for :func:`gruLayer`.
    InputWeights, RecurrentWeights, Bias : array_like, optional
        3H-by-Q, 3H-by-P, and 3H-by-1 (6H-by-1 with a recurrent bias).
    InputProjector, OutputProjector : array_like, optional
        C-by-Q and H-by-P.
    HiddenState : array_like (H-by-1), optional
    InputWeightsInitializer, RecurrentWeightsInitializer, BiasInitializer
        As for :func:`gruLayer`.
    InputProjectorInitializer, OutputProjectorInitializer : str or callable, default 'orthogonal'
    *LearnRateFactor, *L2Factor : float
        As for :func:`gruLayer`; the projectors' are scalars.
    Name : str, default ''

    Returns
    -------
    GRUProjectedLayer

    Examples
    --------
    >>> from lstmkit import *
    >>> net = dlnetwork([sequenceInputLayer(12), gruProjectedLayer(50, 10, 6)])
    >>> [v.shape for v in net.Learnables.Value]
    [(150, 6), (150, 10), (150, 1), (12, 6), (50, 10)]
    """
    opts = dict(locals())
    func = "gruProjectedLayer"
    return make_projected(func, GRUProjectedLayer, gruLayer, opts)
