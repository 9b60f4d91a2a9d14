"""The layer contract shared by every lstmkit layer.

A layer object holds its configuration and learnables under MATLAB's property
names (``InputWeights``, ``NumHiddenUnits``, ...).  Computation never stores
anything on the layer: ``_forward`` returns a cache that ``_backward`` takes
back, so layers are reentrant.

Data between layers is either a *packed sequence* (an ``(S, C)`` array plus a
:class:`lstmkit._packing.PackedBatch`) or a matrix of ``N`` observations
``(N, C)``, rows in the batch's sorted order.
"""

import copy

import numpy as np

from .._validation import (_show, array_or_none, as_float_array, check_real, check_single_range, fail,
                           size_text)
from . import initializers


class Learnable:
    """Description of one learnable property of a layer.

    Parameters
    ----------
    name : str
        Property holding the array (``"InputWeights"``).
    initializer : str
        Property holding its initializer (``"InputWeightsInitializer"``).
    lr_factor, l2_factor : str
        Properties holding its learn-rate and L2 factors.
    blocks : int
        Number of gates a vector factor addresses (4 for an LSTM: i, f, g, o);
        1 means only scalar factors are valid.
    repeats : int
        How many times the gate blocks repeat along the rows (2 for a BiLSTM:
        one set per direction, sharing the per-gate factor).
    l2_default : float
        Default L2 factor (MATLAB: 1 for weights, 0 for biases).
    """

    __slots__ = ("name", "initializer", "lr_factor", "l2_factor", "blocks", "repeats",
                 "l2_default")

    def __init__(self, name, initializer, lr_factor, l2_factor, blocks=1, l2_default=1.0,
                 repeats=1):
        self.name, self.initializer = name, initializer
        self.lr_factor, self.l2_factor = lr_factor, l2_factor
        self.blocks, self.repeats, self.l2_default = blocks, repeats, l2_default


def set_factors(func, layer, opts):
    """Validate and set the learn-rate and L2 factors of every learnable of ``layer``."""
    for lb in layer.learnables:
        setattr(layer, lb.lr_factor,
                check_factor(func, lb.lr_factor, opts.get(lb.lr_factor, 1.0), lb.blocks))
        setattr(layer, lb.l2_factor,
                check_factor(func, lb.l2_factor, opts.get(lb.l2_factor, lb.l2_default), lb.blocks))


def check_factor(func, name, value, blocks):
    """A learn-rate or L2 factor: a non-negative scalar, or one per gate block."""
    given = array_or_none(value)
    if blocks > 1 and given is not None and given.ndim == 1 and given.size == blocks:
        arr = as_float_array(func, name, value, shape=(blocks,))
        if np.any(arr < 0):
            fail(func, f"`{name}` must be non-negative. Received: {name}={arr.tolist()}.")
        return arr
    if given is None or given.ndim != 0:
        want = f"a scalar or a {blocks}-element vector (one per gate)" if blocks > 1 else "a scalar"
        fail(func, f"`{name}` must be {want}. Received: {name}={_show(value)}.")
    return check_real(func, name, value, low=0.0)


def check_column(func, name, value, size, single=True):
    """A size-by-1 column vector (a 1-D array of that length is accepted); None if empty."""
    arr = as_float_array(func, name, value, single=single)
    if arr is None:
        return None
    if arr.size != size or not (arr.ndim == 1 or (arr.ndim == 2 and arr.shape[1] == 1)):
        fail(func, f"`{name}` must be {size}-by-1. Received: {name} of size "
                   f"{size_text(arr.shape)}.")
    return arr.reshape(size, 1)


def expand_factor(value, shape, blocks, repeats=1):
    """Per-element factor array of ``shape`` from a scalar or per-gate factor.

    A per-gate factor (one value per gate block) is repeated over the rows of
    each block, and the block pattern ``repeats`` times (BiLSTM directions).
    """
    if np.ndim(value) == 0:
        return np.full(shape, float(value))
    rows = shape[0] // (blocks * repeats)
    per_row = np.tile(np.repeat(np.asarray(value, dtype=np.float64), rows), repeats)
    return np.broadcast_to(per_row.reshape((shape[0],) + (1,) * (len(shape) - 1)), shape).copy()


#: the learnable properties of lstmkit's layers (custom layers add their LearnableProperties)
LEARNABLE_NAMES = frozenset(
    ["InputWeights", "RecurrentWeights", "Bias", "Weights", "PeepholeWeights", "InputProjector",
     "OutputProjector", "Offset", "Scale"] +
    [f"{p}{kind}" for p in ("Query", "Key", "Value", "Output") for kind in ("Weights", "Bias")])


def _learnable_names(cls):
    """Names of the learnables of a layer class (those that may be, for a class whose set
    depends on its options)."""
    names = cls.__dict__.get("_learnable_name_cache")
    if names is None:
        declared = cls.learnables
        if isinstance(declared, tuple):
            names = frozenset(lb.name for lb in declared)
        else:                           # a property (recurrent layers, custom layers)
            names = LEARNABLE_NAMES | frozenset(getattr(cls, "LearnableProperties", ()))
        cls._learnable_name_cache = names
    return names


class Layer:
    """Base class of all layers.

    Subclasses set ``type_name`` (MATLAB's display type), ``default_name``
    (the name trainNetwork gives an unnamed layer) and ``learnables``.
    """

    type_name = ""
    default_name = ""
    factory = ""
    learnables = ()
    #: properties MATLAB lists in a dlnetwork's State table
    state_properties = ()
    is_output = False
    is_input = False

    #: array properties that are not learnables but are checked the same way when set
    _array_properties = ()

    def __init__(self, Name=""):
        self.Name = Name

    def __setattr__(self, name, value):
        """Learnables (and statistics) are checked whenever they are set, not only by factories.

        A weight set on a trained network's layer (``net.Layers[2].Weights =
        w``) must be real, finite and of the size the layer has; a float32 or
        float64 array that passes is kept as it is (not copied: training sets
        views of its parameter vector this way).
        """
        if value is not None and (name in _learnable_names(type(self)) or
                                  name in self._array_properties):
            value = checked_property(self, name, value, name not in self._array_properties)
        object.__setattr__(self, name, value)

    # -- description ------------------------------------------------------------
    @property
    def Description(self):
        """One-line description, as in MATLAB's layer array display."""
        return self.type_name

    def __str__(self):
        """MATLAB's display of one layer: its properties (``print(layer)``)."""
        lines = [f"  {type(self).__name__} with properties:", ""]
        props = self._display_properties()
        width = max(len(k) for k in props) if props else 0
        for key in props:
            lines.append(f"    {key:>{width}}: {_format_property(getattr(self, key))}")
        return "\n".join(lines)

    def __repr__(self):
        """One line, so that a list of layers prints one line per layer's worth."""
        name = f" '{self.Name}'" if self.Name else ""
        return f"<{type(self).__name__}{name}: {self.Description}>"

    def _repr_pretty_(self, printer, cycle):
        """IPython/Jupyter: the property display at top level, one line inside a container."""
        nested = getattr(printer, "indentation", 0) > 0 or getattr(printer, "output_width", 0) > 0
        printer.text(repr(self) if nested or cycle else str(self))

    def _display_properties(self):
        return ["Name"]

    def copy(self):
        """Deep copy (layers behave as MATLAB value objects)."""
        return copy.deepcopy(self)

    # -- network construction ------------------------------------------------------
    def _output_size(self, input_size):
        """Number of output channels given ``input_size`` input channels."""
        return input_size

    def _outputs_sequence(self, input_is_sequence):
        """Whether the output is a sequence given the kind of input."""
        return input_is_sequence

    def _check_input(self, func, input_size, input_is_sequence):
        """Raise if this layer cannot take the given input (sizes set at construction)."""

    def _output_length(self, length):
        """Time steps of the output for a sequence of ``length`` steps (same by default)."""
        return length

    def _output_batch(self, batch):
        """The packed structure of the output (the input's, unless lengths change)."""
        if batch is None or not self._changes_length():
            return batch
        return batch.with_lengths([self._output_length(int(L)) for L in batch.lengths])

    def _changes_length(self):
        return False

    def _initialize(self, input_size, rng):
        """Set sizes inferred from the input and create the missing learnables."""
        if not self.learnables:
            return
        self.InputSize = input_size
        for lb in self.learnables:
            if getattr(self, lb.name) is None:
                shape, num_in, num_out = self._learnable_shape(lb.name, input_size)
                setattr(self, lb.name, initializers.initialize(
                    self.factory, lb.initializer, getattr(self, lb.initializer), shape, num_in,
                    num_out, rng, gate_blocks=lb.blocks * lb.repeats))

    def _learnable_shape(self, name, input_size):
        """``(shape, fan_in, fan_out)`` of learnable ``name`` for ``input_size`` inputs."""
        raise NotImplementedError

    def _check_input_size(self, func, input_size):
        """Raise if weights given at construction fix another input size."""
        if self.InputSize != "auto" and self.InputSize != input_size:
            first = self.learnables[0].name
            rows, cols = np.shape(getattr(self, first))
            fail(func, f"layer '{self.Name}' ({self.type_name}) expects input of size "
                       f"{self.InputSize} ({first} is {rows}-by-{cols}) but receives input of "
                       f"size {input_size}.")

    def _state_value(self, name):
        """A state as MATLAB's State table shows it."""
        return getattr(self, name)

    def _checked_state(self, name, value):
        """A new value of state ``name``, checked (``net.State = ...``)."""
        raise NotImplementedError

    def _missing_learnables(self):
        """Names of learnables that are still empty."""
        return [lb.name for lb in self.learnables if getattr(self, lb.name) is None]

    # -- computation ---------------------------------------------------------------
    def _forward(self, x, batch, state, training, dtype):
        """Return ``(y, cache, new_state)``."""
        raise NotImplementedError

    def _backward(self, dy, cache, grads, need_dx):
        """Fill ``grads`` (learnable name -> array to write) and return ``dx``."""
        raise NotImplementedError


def checked_property(layer, name, value, single=True):
    """A learnable or statistic set on a layer: real, finite, of the size it has (if it has one)."""
    func = f"{type(layer).__name__}.{name}"
    current = layer.__dict__.get(name)
    if isinstance(value, np.ndarray) and value.dtype in (np.float32, np.float64):
        arr = value
    else:
        if np.iscomplexobj(value):
            fail(func, f"`{name}` of layer '{layer.Name}' must be real. Received a complex "
                       f"array.", TypeError)
        try:
            arr = np.array(value, dtype=np.float64)
        except (TypeError, ValueError):
            fail(func, f"`{name}` of layer '{layer.Name}' must be a numeric array. Received: "
                       f"{_show(value)}.", TypeError)
    if current is not None and np.shape(current) != arr.shape:
        if np.size(current) == arr.size and arr.size and \
                [d for d in np.shape(current) if d != 1] == [d for d in arr.shape if d != 1]:
            arr = arr.reshape(np.shape(current))       # a 1-D vector for a column, and so on
        else:
            fail(func, f"`{name}` of layer '{layer.Name}' must be "
                       f"{size_text(np.shape(current))}, the size it has. Received: "
                       f"{size_text(arr.shape)}.")
    if not np.all(np.isfinite(arr)):
        fail(func, f"`{name}` of layer '{layer.Name}' must be finite; it contains NaN or Inf.")
    if single:
        check_single_range(func, f"`{name}` of layer '{layer.Name}'", arr)
    return arr


def checked_array(func, layer, name, value, shape):
    """A new value of a learnable or state: numeric, finite, of ``shape`` (None: any)."""
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        fail(func, f"the new value of {layer.Name}.{name} must be a numeric array. "
                   f"Received: {_show(value)}.", TypeError)
    if shape is not None and arr.shape != tuple(shape):
        fail(func, f"the new value of {layer.Name}.{name} must be {size_text(shape)}. "
                   f"Received: {size_text(arr.shape)}.")
    if not np.all(np.isfinite(arr)):
        fail(func, f"the new value of {layer.Name}.{name} contains NaN or Inf.")
    return arr


def _format_property(value):
    if value is None:
        return "[]"
    if isinstance(value, np.ndarray):
        if value.size == 0:
            return "[]"
        if value.size == 1:
            return f"{value.reshape(()).item():.4g}"
        return f"[{'×'.join(map(str, value.shape))} {_dtype_word(value.dtype)}]"
    if isinstance(value, str):
        return repr(value)
    if callable(value):
        return getattr(value, "__name__", "function")
    if isinstance(value, (list, tuple)):
        return "{" + ", ".join(repr(v) for v in value) + "}" if len(value) < 10 else (
            f"{{{len(value)}×1 cell}}")
    return str(value)


def _dtype_word(dtype):
    return {"float32": "single", "float64": "double"}.get(str(dtype), str(dtype))


def kernel_array(arr, dtype, shape=None):
    """Contiguous array of ``dtype`` (no copy when it already is one)."""
    out = np.ascontiguousarray(arr, dtype=dtype)
    return out if shape is None else out.reshape(shape)
