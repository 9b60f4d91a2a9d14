"""What lstmLayer, bilstmLayer and gruLayer share: options, states, direction helpers."""

import functools
import inspect

import numpy as np

from .._validation import (as_float_array, check_bool, check_choice, check_name,
                           check_positive_int, check_real, fail, size_text)
from ..kernels import _config
from . import initializers
from .base import Layer, Learnable, check_column, checked_array, set_factors

GATE_CODES = {"sigmoid": _config.GATE_SIGMOID, "hard-sigmoid": _config.GATE_HARD_SIGMOID}
STATE_CODES = {"tanh": _config.STATE_TANH, "softsign": _config.STATE_SOFTSIGN}

#: time steps whose input projection is one GEMM in prediction (bounds memory)
PREDICT_BLOCK = 64


@functools.lru_cache(maxsize=None)
def _recurrent_learnables(gates, repeats, bias_repeats):
    """The three learnables' descriptions (made once per gate layout: they are read, never
    changed, and a training or custom loop asks for them at every step)."""
    return (
        Learnable("InputWeights", "InputWeightsInitializer", "InputWeightsLearnRateFactor",
                  "InputWeightsL2Factor", gates, repeats=repeats),
        Learnable("RecurrentWeights", "RecurrentWeightsInitializer",
                  "RecurrentWeightsLearnRateFactor", "RecurrentWeightsL2Factor", gates,
                  repeats=repeats),
        Learnable("Bias", "BiasInitializer", "BiasLearnRateFactor", "BiasL2Factor",
                  gates, l2_default=0.0, repeats=bias_repeats),
    )


class RecurrentLayer(Layer):
    """Base of the recurrent layers.

    Subclasses set ``state_properties`` (``("HiddenState", "CellState")`` for
    an LSTM), ``gate_rows`` (rows of the weights per hidden unit: 4, 8 or 3)
    and implement ``_state_size``.
    """

    state_properties = ("HiddenState",)
    gate_rows = 4       # rows of the weights per hidden unit (all directions)
    gates = 4           # gates per direction (a 4-element factor addresses these)
    InputNames = ("in",)
    OutputNames = ("out",)
    NumInputs = 1
    NumOutputs = 1
    HasStateInputs = False
    HasStateOutputs = False

    def _state_size(self):
        return self.NumHiddenUnits

    def _state_value(self, name):
        """The stored state, or the zeros the layer starts from."""
        value = getattr(self, name)
        return np.zeros((self._state_size(), 1)) if value is None else value

    def __setattr__(self, name, value):
        """A state set on a made layer is checked as the State table checks it (H-by-N, finite)."""
        if value is not None and name in self.state_properties and \
                "_initial_states" in self.__dict__:
            value = self._checked_state(name, value)
        super().__setattr__(name, value)

    def _checked_state(self, name, value):
        arr = checked_array("State", self, name, value, None)
        size = self._state_size()
        if arr.ndim == 1:
            arr = arr.reshape(-1, 1)
        if arr.ndim != 2 or arr.shape[0] != size:
            fail("State", f"the new value of {self.Name}.{name} must be {size}-by-N. "
                          f"Received: {size_text(arr.shape)}.")
        return arr

    def _bias_rows(self):
        return self.gate_rows * self.NumHiddenUnits

    @property
    def learnables(self):
        """InputWeights, RecurrentWeights and Bias; per-gate factors repeat per direction."""
        return _recurrent_learnables(self.gates, self.gate_rows // self.gates,
                                     self._bias_rows() // (self.gates * self.NumHiddenUnits))

    def _learnable_shape(self, name, input_size):
        """Shapes; fan-out is one direction's gate rows (each direction is its own matrix)."""
        H = self.NumHiddenUnits
        fan_out = self.gates * H
        if name == "InputWeights":
            return (self.gate_rows * H, input_size), input_size, fan_out
        if name == "RecurrentWeights":
            return (self.gate_rows * H, H), H, fan_out
        if name == "PeepholeWeights":
            return (3 * H, 1), 1, 3 * H
        return (self._bias_rows(), 1), 1, fan_out

    def _output_size(self, input_size):
        return self._state_size()

    def _outputs_sequence(self, input_is_sequence):
        return input_is_sequence and self.OutputMode == "sequence"

    def _check_input(self, func, input_size, input_is_sequence):
        # One vector per observation (after OutputMode 'last', a feature input or global
        # pooling) is read as a sequence of one time step, as MATLAB does.
        self._check_input_size(func, input_size)

    def _sequence_batch(self, x, batch):
        """The packing of the input: one time step per observation when it is not a sequence."""
        if x.shape[0] != batch.num_rows:
            return batch.with_lengths(np.ones(batch.num_observations, np.int64))
        return batch

    def _codes(self):
        return GATE_CODES[self.GateActivationFunction], STATE_CODES[self.StateActivationFunction]

    # -- states ------------------------------------------------------------------
    def _state_columns(self):
        """Number of observations the stored state holds (1 = one state for all)."""
        cols = {np.shape(getattr(self, p))[1] for p in self.state_properties
                if getattr(self, p) is not None}
        return max(cols) if cols else 1

    def _restore_initial_states(self):
        """Set HiddenState (and CellState) back to the values the layer was created with."""
        for prop in self.state_properties:
            setattr(self, prop, self._initial_states.get(prop))

    def _initial_state(self, n, columns, dtype):
        """Initial states of ``n`` sorted observations from the stored properties.

        ``columns`` gives each sorted row's column in a stored H-by-N state (None
        when the stored state has one column, which every observation uses).
        """
        size = self._state_size()
        out = []
        for prop in self.state_properties:
            value = getattr(self, prop)
            arr = np.zeros((n, size), dtype)
            if value is not None:
                arr[:] = value[:, 0] if value.shape[1] == 1 else value[:, columns].T
            out.append(arr)
        return tuple(out)


def set_recurrent_options(func, layer, opts, set_bias=True):
    """Check the options shared by the recurrent factories and set them on ``layer``.

    ``opts`` maps every option of the factory to its value (its default when
    not given).  ``set_bias=False`` leaves ``Bias`` to the caller (its size
    depends on another option).
    """
    H = check_positive_int(func, "numHiddenUnits", opts["numHiddenUnits"])
    layer.Name = check_name(func, opts["Name"])
    layer.NumHiddenUnits = H
    layer.InputSize = "auto"
    layer.OutputMode = check_choice(func, "OutputMode", opts["OutputMode"], ("sequence", "last"))
    layer.StateActivationFunction = check_choice(
        func, "StateActivationFunction", opts["StateActivationFunction"], ("tanh", "softsign"))
    layer.GateActivationFunction = check_choice(
        func, "GateActivationFunction", opts["GateActivationFunction"],
        ("sigmoid", "hard-sigmoid"))
    for flag in ("HasStateInputs", "HasStateOutputs"):
        if check_bool(func, flag, opts[flag]):
            fail(func, f"`{flag}`=true (extra state inputs/outputs for layer graphs) is not "
                       f"supported by lstmkit; use HiddenState/CellState, or "
                       f"predictAndUpdateState for stateful prediction.")
    rows = layer.gate_rows * H
    W = as_float_array(func, "InputWeights", opts["InputWeights"], shape=(rows, None))
    if W is not None:
        if W.shape[1] == 0:
            fail(func, "`InputWeights` must have at least one column.")
        layer.InputSize = W.shape[1]
    layer.InputWeights = W
    layer.RecurrentWeights = as_float_array(func, "RecurrentWeights", opts["RecurrentWeights"],
                                            shape=(rows, H))
    if set_bias:
        layer.Bias = check_column(func, "Bias", opts["Bias"], rows)
    size = layer._state_size()
    for prop in layer.state_properties:
        setattr(layer, prop, check_column(func, prop, opts[prop], size))
    layer.InputWeightsInitializer = initializers.check_initializer(
        func, "InputWeightsInitializer", opts["InputWeightsInitializer"],
        initializers.WEIGHT_INITIALIZERS)
    layer.RecurrentWeightsInitializer = initializers.check_initializer(
        func, "RecurrentWeightsInitializer", opts["RecurrentWeightsInitializer"],
        initializers.WEIGHT_INITIALIZERS)


def finish_recurrent(func, layer, opts):
    """Set the factors and remember the initial states (for resetState)."""
    set_factors(func, layer, opts)
    layer._initial_states = {p: getattr(layer, p) for p in layer.state_properties}
    return layer


class ProjectedWeights:
    """Factored input and recurrent weights (MATLAB's projected recurrent layers).

    Mixed into a recurrent layer class: the gates see ``InputWeights @
    InputProjector.T`` and ``RecurrentWeights @ OutputProjector.T`` (the
    effective matrices the kernels run with); the factors' gradients are the
    effective matrices' gradients times the other factor.
    """

    @property
    def learnables(self):
        return RecurrentLayer.learnables.fget(self) + (
            Learnable("InputProjector", "InputProjectorInitializer",
                      "InputProjectorLearnRateFactor", "InputProjectorL2Factor"),
            Learnable("OutputProjector", "OutputProjectorInitializer",
                      "OutputProjectorLearnRateFactor", "OutputProjectorL2Factor"))

    def _learnable_shape(self, name, input_size):
        H, Q, P = self.NumHiddenUnits, self.InputProjectorSize, self.OutputProjectorSize
        rows = self.gate_rows * H
        if name == "InputWeights":
            return (rows, Q), Q, rows
        if name == "RecurrentWeights":
            return (rows, P), P, rows
        if name == "InputProjector":
            return (input_size, Q), input_size, Q
        if name == "OutputProjector":
            return (H, P), H, P
        return super()._learnable_shape(name, input_size)

    def _check_input_size(self, func, input_size):
        if self.InputSize != "auto" and self.InputSize != input_size:
            fail(func, f"layer '{self.Name}' ({self.type_name}) expects input of size "
                       f"{self.InputSize} (InputProjector is "
                       f"{size_text(np.shape(self.InputProjector))}) but receives input of size "
                       f"{input_size}.")

    def _effective(self, dtype):
        W = np.asarray(self.InputWeights, dtype) @ np.asarray(self.InputProjector, dtype).T
        R = np.asarray(self.RecurrentWeights, dtype) @ np.asarray(self.OutputProjector, dtype).T
        return np.ascontiguousarray(W), np.ascontiguousarray(R)

    def _factor_gradients(self, dW, dR, grads, dtype):
        Wi, Qi = np.asarray(self.InputWeights, dtype), np.asarray(self.InputProjector, dtype)
        Wr, Qo = np.asarray(self.RecurrentWeights, dtype), np.asarray(self.OutputProjector, dtype)
        grads["InputWeights"][...] = dW @ Qi
        grads["InputProjector"][...] = dW.T @ Wi
        grads["RecurrentWeights"][...] = dR @ Qo
        grads["OutputProjector"][...] = dR.T @ Wr


def make_projected(func, cls, plain_factory, opts):
    """A projected layer of ``cls``: the options it shares with ``plain_factory`` (lstmLayer,
    gruLayer) are checked by that factory, then the projectors are added."""
    params = inspect.signature(plain_factory).parameters
    shared = {k: v for k, v in opts.items() if k in params and
              params[k].kind is params[k].KEYWORD_ONLY and
              k not in ("InputWeights", "RecurrentWeights")}       # their shapes differ here
    try:
        plain = plain_factory(opts["numHiddenUnits"], **shared)
    except (ValueError, TypeError) as err:
        raise type(err)(str(err).replace(f"{plain_factory.__name__}:", f"{func}:", 1)) from None
    layer = cls.__new__(cls)
    layer.__dict__.update(plain.__dict__)
    H = layer.NumHiddenUnits
    layer.OutputProjectorSize = check_positive_int(func, "outputProjectorSize",
                                                   opts["outputProjectorSize"])
    layer.InputProjectorSize = check_positive_int(func, "inputProjectorSize",
                                                  opts["inputProjectorSize"])
    Q, P, rows = layer.InputProjectorSize, layer.OutputProjectorSize, layer.gate_rows * H
    layer.InputWeights = as_float_array(func, "InputWeights", opts["InputWeights"],
                                        shape=(rows, Q))
    layer.RecurrentWeights = as_float_array(func, "RecurrentWeights", opts["RecurrentWeights"],
                                            shape=(rows, P))
    layer.InputProjector = as_float_array(func, "InputProjector", opts["InputProjector"],
                                          shape=(None, Q))
    layer.OutputProjector = as_float_array(func, "OutputProjector", opts["OutputProjector"],
                                           shape=(H, P))
    layer.InputSize = "auto" if layer.InputProjector is None else layer.InputProjector.shape[0]
    for prop in ("InputProjectorInitializer", "OutputProjectorInitializer"):
        setattr(layer, prop, initializers.check_initializer(func, prop, opts[prop],
                                                            initializers.WEIGHT_INITIALIZERS))
    for prop in ("InputProjectorLearnRateFactor", "OutputProjectorLearnRateFactor",
                 "InputProjectorL2Factor", "OutputProjectorL2Factor"):
        setattr(layer, prop, check_real(func, prop, opts[prop], low=0.0))
    return layer
