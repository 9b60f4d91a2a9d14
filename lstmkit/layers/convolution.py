"""Convolution and pooling over time: convolution1dLayer, maxPooling1dLayer,
averagePooling1dLayer, globalAveragePooling1dLayer, globalMaxPooling1dLayer.

Each sequence is convolved and pooled over its own time steps (its own
padding, 'same' and 'causal' included), so the padding of a mini-batch never
changes a result.  A layer without padding or with a stride shortens the
sequences: the layers after it get the shorter packed batch; a sequence too
short to give one output step is an error naming the layer, before any work.
The kernels are in :mod:`lstmkit.kernels.convolution`.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Literal

import numpy as np

from .._typing import ArrayLike, Initializer
from .._validation import (_show, array_or_none, as_float_array, check_choice, check_name, check_positive_int,
                           check_real, fail, name_value_function, size_text)
from ..kernels import convolution as kernels
from ..kernels._threads import kernel_parts
from . import initializers
from .base import Layer, Learnable, kernel_array, set_factors

_PAD_MODES = {"symmetric-include-edge": kernels.PAD_SYMMETRIC_INCLUDE,
              "symmetric-exclude-edge": kernels.PAD_SYMMETRIC_EXCLUDE,
              "replicate": kernels.PAD_REPLICATE}


def check_padding(func, value):
    """MATLAB's Padding: 0, a scalar or [left right] of sizes, 'same' or 'causal'."""
    if isinstance(value, str):
        mode = check_choice(func, "Padding", value, ("same", "causal"))
        return mode, (0, 0)
    arr = array_or_none(value) if not isinstance(value, (bool, np.bool_)) else None
    if arr is not None and arr.dtype.kind in "iuf" and arr.ndim <= 1 and arr.size in (1, 2) \
            and np.all(arr >= 0) and np.all(arr == np.round(arr)):
        pads = arr.reshape(-1).astype(int)
        return "manual", (int(pads[0]), int(pads[-1]))
    fail(func, f"`Padding` must be 'same', 'causal', a non-negative integer or [left right]. "
               f"Received: Padding={_show(value)}.")


class WindowLayer(Layer):
    """A layer that slides a window over each sequence's time steps (convolution, pooling)."""

    DilationFactor = 1

    def _taps(self):
        raise NotImplementedError

    def _span(self):
        return (self._taps() - 1) * self.DilationFactor + 1

    def _pads(self, length):
        """(left, right) padding of a sequence of ``length`` time steps."""
        if self.PaddingMode == "manual":
            return self.PaddingSize
        if self.PaddingMode == "causal":
            return self._span() - 1, 0
        total = max((math.ceil(length / self.Stride) - 1) * self.Stride + self._span() - length,
                    0)
        return total // 2, total - total // 2

    def _output_length(self, length):
        left, right = self._pads(length)
        return (length + left + right - self._span()) // self.Stride + 1

    def _changes_length(self):
        return not (self.PaddingMode in ("same", "causal") and self.Stride == 1)

    def _outputs_sequence(self, input_is_sequence):
        return True

    def _check_sequence_input(self, func, input_is_sequence):
        if not input_is_sequence:
            fail(func, f"layer '{self.Name}' ({self.type_name}) slides over time steps, but the "
                       f"layer before it outputs one vector per observation (a recurrent layer "
                       f"with OutputMode 'last', or a global pooling layer?).")

    def _index(self, batch, out_batch, mode):
        lengths = batch.lengths
        pad_left = np.array([self._pads(int(L))[0] for L in lengths], np.int64)
        src = np.empty((out_batch.num_rows, self._taps()), np.int64)
        kernels.window_index(batch.offsets, out_batch.offsets, out_batch.batch_sizes, lengths,
                             self._taps(), self.Stride, self.DilationFactor, pad_left, mode, src)
        return src

    def _padding_display(self):
        return self.PaddingMode if self.PaddingMode != "manual" else list(self.PaddingSize)


class Convolution1DLayer(WindowLayer):
    """1-D convolution over time (create it with :func:`convolution1dLayer`)."""

    type_name = "1-D Convolution"
    default_name = "conv1d"
    factory = "convolution1dLayer"
    learnables = (
        Learnable("Weights", "WeightsInitializer", "WeightLearnRateFactor", "WeightL2Factor"),
        Learnable("Bias", "BiasInitializer", "BiasLearnRateFactor", "BiasL2Factor",
                  l2_default=0.0),
    )

    @property
    def Description(self):
        C = "" if self.NumChannels == "auto" else f"×{self.NumChannels}"
        return (f"{self.NumFilters} {self.FilterSize}{C} convolutions with stride {self.Stride} "
                f"and padding {self._padding_display()!r}")

    @property
    def NumChannels(self):
        return self.InputSize

    def _display_properties(self):
        return ["Name", "FilterSize", "NumChannels", "NumFilters", "Stride", "DilationFactor",
                "PaddingMode", "PaddingSize", "PaddingValue", "Weights", "Bias",
                "WeightsInitializer", "BiasInitializer", "WeightLearnRateFactor",
                "WeightL2Factor", "BiasLearnRateFactor", "BiasL2Factor"]

    def _taps(self):
        return self.FilterSize

    def _output_size(self, input_size):
        return self.NumFilters

    def _check_input(self, func, input_size, input_is_sequence):
        self._check_sequence_input(func, input_is_sequence)
        if self.InputSize != "auto" and self.InputSize != input_size:
            fail(func, f"layer '{self.Name}' ({self.type_name}) expects input of size "
                       f"{self.InputSize} (Weights is {size_text(np.shape(self.Weights))}) but "
                       f"receives input of size {input_size}.")

    def _learnable_shape(self, name, input_size):
        F, K = self.FilterSize, self.NumFilters
        if name == "Weights":
            return (F, input_size, K), F * input_size, F * K
        return (1, K), 1, K

    def _forward(self, x, batch, state, training, dtype):
        out_batch = self._output_batch(batch)
        C = x.shape[1]
        F, K = self.FilterSize, self.NumFilters
        if isinstance(self.PaddingValue, str):
            mode, value = _PAD_MODES[self.PaddingValue], 0.0
        else:
            mode, value = kernels.PAD_CONSTANT, self.PaddingValue
        src = self._index(batch, out_batch, mode)
        W = kernel_array(self.Weights, dtype, (F * C, K))
        cols = np.empty((src.shape[0], F * C), dtype)
        y = np.empty((src.shape[0], K), dtype)
        kernels.conv_forward(x, src, W, kernel_array(self.Bias, dtype, (K,)), value, cols, y,
                             _threads(src.shape[0]))
        return y, ((cols, src, W, x.shape[0]) if training else None), None

    def _backward(self, dy, cache, grads, need_dx):
        cols, src, W, rows_in = cache
        K = self.NumFilters
        C = cols.shape[1] // self.FilterSize
        dcols = np.empty((src.shape[0] if need_dx else 0, cols.shape[1]), cols.dtype)
        dx = np.empty((rows_in if need_dx else 0, C), cols.dtype)
        kernels.conv_backward(cols, src, W, np.ascontiguousarray(dy),
                              grads["Weights"].reshape(W.shape), grads["Bias"].reshape(K), dcols,
                              dx, _threads(src.shape[0]))
        return dx if need_dx else None


def _threads(rows):
    return max(1, min(kernel_parts(), rows // 64))


class _Pooling1DLayer(WindowLayer):
    """Max or average pooling over windows of time steps."""

    def _taps(self):
        return self.PoolSize

    def _check_input(self, func, input_size, input_is_sequence):
        self._check_sequence_input(func, input_is_sequence)


class MaxPooling1DLayer(_Pooling1DLayer):
    """1-D max pooling over time (create it with :func:`maxPooling1dLayer`)."""

    type_name = "1-D Max Pooling"
    default_name = "maxpool1d"

    @property
    def Description(self):
        return (f"{self.PoolSize} max pooling with stride {self.Stride} and padding "
                f"{self._padding_display()!r}")

    def _display_properties(self):
        return ["Name", "PoolSize", "Stride", "PaddingMode", "PaddingSize"]

    def _forward(self, x, batch, state, training, dtype):
        out_batch = self._output_batch(batch)
        src = self._index(batch, out_batch, kernels.PAD_CONSTANT)
        y = np.empty((src.shape[0], x.shape[1]), dtype)
        arg = np.empty(y.shape, np.int64)
        kernels.max_pool_forward(x, src, y, arg)
        return y, ((arg, x.shape[0]) if training else None), None

    def _backward(self, dy, cache, grads, need_dx):
        if not need_dx:
            return None
        arg, rows_in = cache
        dx = np.empty((rows_in, dy.shape[1]), dy.dtype)
        kernels.max_pool_backward(np.ascontiguousarray(dy), arg, dx)
        return dx


class AveragePooling1DLayer(_Pooling1DLayer):
    """1-D average pooling over time (create it with :func:`averagePooling1dLayer`)."""

    type_name = "1-D Average Pooling"
    default_name = "avgpool1d"

    @property
    def Description(self):
        return (f"{self.PoolSize} average pooling with stride {self.Stride} and padding "
                f"{self._padding_display()!r}")

    def _display_properties(self):
        return ["Name", "PoolSize", "Stride", "PaddingMode", "PaddingSize", "PaddingValue"]

    def _forward(self, x, batch, state, training, dtype):
        out_batch = self._output_batch(batch)
        src = self._index(batch, out_batch, kernels.PAD_CONSTANT)
        y = np.empty((src.shape[0], x.shape[1]), dtype)
        count = self.PaddingValue == 0
        kernels.average_pool_forward(x, src, count, y)
        return y, ((src, x.shape[0], count) if training else None), None

    def _backward(self, dy, cache, grads, need_dx):
        if not need_dx:
            return None
        src, rows_in, count = cache
        dx = np.empty((rows_in, dy.shape[1]), dy.dtype)
        kernels.average_pool_backward(np.ascontiguousarray(dy), src, count, dx)
        return dx


class _GlobalPooling1DLayer(Layer):
    """Mean or maximum over each sequence's own time steps: one vector per observation."""

    is_max = False

    def _outputs_sequence(self, input_is_sequence):
        return False

    def _check_input(self, func, input_size, input_is_sequence):
        if not input_is_sequence:
            fail(func, f"layer '{self.Name}' ({self.type_name}) pools over time steps, but the "
                       f"layer before it outputs one vector per observation.")

    def _forward(self, x, batch, state, training, dtype):
        N = batch.num_observations
        y = np.empty((N, x.shape[1]), dtype)
        arg = np.empty(y.shape, np.int64)
        kernels.global_pool_forward(x, batch.row_sequence, batch.lengths, self.is_max, y, arg)
        return y, ((batch, arg, x.shape[0]) if training else None), None

    def _backward(self, dy, cache, grads, need_dx):
        if not need_dx:
            return None
        batch, arg, rows_in = cache
        dx = np.empty((rows_in, dy.shape[1]), dy.dtype)
        kernels.global_pool_backward(np.ascontiguousarray(dy), batch.row_sequence,
                                     batch.lengths, self.is_max, arg, dx)
        return dx


class GlobalAveragePooling1DLayer(_GlobalPooling1DLayer):
    """1-D global average pooling (create it with :func:`globalAveragePooling1dLayer`)."""

    type_name = "1-D Global Average Pooling"
    default_name = "gapool1d"

    @property
    def Description(self):
        return "1-D global average pooling"


class GlobalMaxPooling1DLayer(_GlobalPooling1DLayer):
    """1-D global max pooling (create it with :func:`globalMaxPooling1dLayer`)."""

    type_name = "1-D Global Max Pooling"
    default_name = "gmpool1d"
    is_max = True

    @property
    def Description(self):
        return "1-D global max pooling"


def _size(func, name, value):
    return check_positive_int(func, name, value)


@name_value_function()
def convolution1dLayer(
    filterSize: int,
    numFilters: int,
    *name_value: Any,
    Name: str = "",
    Stride: int = 1,
    DilationFactor: int = 1,
    Padding: Any = 0,
    PaddingValue: float | str = 0.0,
    NumChannels: int | str = "auto",
    Weights: ArrayLike | None = None,
    Bias: ArrayLike | None = None,
    WeightsInitializer: Initializer = "glorot",
    BiasInitializer: Initializer = "zeros",
    WeightLearnRateFactor: float = 1.0,
    BiasLearnRateFactor: float = 1.0,
    WeightL2Factor: float = 1.0,
    BiasL2Factor: float = 0.0,
) -> Convolution1DLayer:
    """1-D convolution over time, as MATLAB's ``convolution1dLayer``.

    Parameters
    ----------
    filterSize : int
        Time steps each filter spans (before dilation).
    numFilters : int
        Number of filters: the output channels.
    Stride : int, default 1
    DilationFactor : int, default 1
        Spacing of the filter's taps.
    Padding : 0, int, [left, right], 'same' or 'causal', default 0
        'same' keeps ``ceil(T / Stride)`` time steps; 'causal' pads only the
        start, so the output at step t sees steps up to t.  With padding 0 a
        sequence shorter than the filter span is an error (MATLAB's MinLength
        rule).
    PaddingValue : float or {'symmetric-include-edge', 'symmetric-exclude-edge', 'replicate'}, default 0
    NumChannels : int or 'auto', default 'auto'
        Input channels (set from the input when the network is initialized).
    Weights : array_like, optional
        FilterSize-by-NumChannels-by-NumFilters, as MATLAB's.
    Bias : array_like, optional
        1-by-NumFilters.
    WeightsInitializer : 'glorot', 'he', 'narrow-normal', 'zeros', 'ones' or callable, default 'glorot'
        Glorot and He take fan-in FilterSize*NumChannels and fan-out
        FilterSize*NumFilters, as MATLAB.
    BiasInitializer : 'zeros', 'ones', 'narrow-normal' or callable, default 'zeros'
    WeightLearnRateFactor, BiasLearnRateFactor : float, default 1
    WeightL2Factor : float, default 1
    BiasL2Factor : float, default 0
    Name : str, default ''

    Returns
    -------
    Convolution1DLayer

    Examples
    --------
    MATLAB's "Sequence Classification Using 1-D Convolutions" block:

    >>> from lstmkit import *
    >>> layers = [sequenceInputLayer(3),
    ...           convolution1dLayer(5, 32, Padding="causal"), reluLayer(),
    ...           layerNormalizationLayer(),
    ...           convolution1dLayer(5, 64, Padding="causal"), reluLayer(),
    ...           layerNormalizationLayer(),
    ...           globalAveragePooling1dLayer(), fullyConnectedLayer(4), softmaxLayer()]
    >>> net = dlnetwork(layers)
    >>> net.Layers[1].Weights.shape, net.Layers[1].Bias.shape
    ((5, 3, 32), (1, 32))
    """
    func = "convolution1dLayer"
    opts = dict(locals())
    layer = Convolution1DLayer(check_name(func, Name))
    layer.FilterSize = _size(func, "filterSize", filterSize)
    layer.NumFilters = _size(func, "numFilters", numFilters)
    layer.Stride = _size(func, "Stride", Stride)
    layer.DilationFactor = _size(func, "DilationFactor", DilationFactor)
    layer.PaddingMode, layer.PaddingSize = check_padding(func, Padding)
    if isinstance(PaddingValue, str):
        layer.PaddingValue = check_choice(func, "PaddingValue", PaddingValue, tuple(_PAD_MODES))
    else:
        layer.PaddingValue = check_real(func, "PaddingValue", PaddingValue)
    layer.WeightsInitializer = initializers.check_initializer(
        func, "WeightsInitializer", WeightsInitializer, initializers.WEIGHT_INITIALIZERS)
    layer.BiasInitializer = initializers.check_initializer(
        func, "BiasInitializer", BiasInitializer, initializers.BIAS_INITIALIZERS)
    C = "auto"
    if not (isinstance(NumChannels, str) and NumChannels.lower() == "auto"):
        C = _size(func, "NumChannels", NumChannels)
    layer.Weights = None
    if Weights is not None:
        W = as_float_array(func, "Weights", Weights)
        if W is not None and W.ndim == 2 and layer.NumFilters == 1:
            W = W[:, :, None]        # MATLAB drops the trailing singleton NumFilters
        if W is None or W.ndim != 3 or W.shape[0] != layer.FilterSize or \
                W.shape[2] != layer.NumFilters:
            fail(func, f"`Weights` must be FilterSize-by-NumChannels-by-NumFilters "
                       f"({layer.FilterSize}-by-C-by-{layer.NumFilters}). Received: size "
                       f"{size_text(np.shape(Weights))}.")
        if C != "auto" and W.shape[1] != C:
            fail(func, f"`Weights` has {W.shape[1]} channels but NumChannels is {C}.")
        C = W.shape[1]
        layer.Weights = W
    layer.Bias = None
    if Bias is not None:
        b = as_float_array(func, "Bias", Bias)
        if b is None or b.size != layer.NumFilters:
            fail(func, f"`Bias` must be 1-by-NumFilters (1-by-{layer.NumFilters}). Received: "
                       f"size {size_text(np.shape(Bias))}.")
        layer.Bias = b.reshape(1, layer.NumFilters)
    layer.InputSize = C
    set_factors(func, layer, opts)
    return layer


def _pooling(cls, func, poolSize, Name, Stride, Padding):
    layer = cls(check_name(func, Name))
    layer.PoolSize = _size(func, "poolSize", poolSize)
    layer.Stride = _size(func, "Stride", Stride)
    layer.PaddingMode, layer.PaddingSize = check_padding(func, Padding)
    if layer.PaddingMode == "causal":
        fail(func, "`Padding` of a pooling layer must be 'same', an integer or [left right].")
    return layer


@name_value_function()
def maxPooling1dLayer(poolSize: int, *name_value: Any, Name: str = "", Stride: int = 1,
                      Padding: Any = 0) -> MaxPooling1DLayer:
    """1-D max pooling over time, as MATLAB's ``maxPooling1dLayer``.

    Parameters
    ----------
    poolSize : int
        Time steps of each window.
    Stride : int, default 1
    Padding : 0, int, [left, right] or 'same', default 0
        Padded positions never win the maximum.
    Name : str, default ''

    Returns
    -------
    MaxPooling1DLayer

    Examples
    --------
    >>> from lstmkit import maxPooling1dLayer
    >>> maxPooling1dLayer(2, Stride=2).Description
    '2 max pooling with stride 2 and padding [0, 0]'
    """
    return _pooling(MaxPooling1DLayer, "maxPooling1dLayer", poolSize, Name, Stride, Padding)


@name_value_function()
def averagePooling1dLayer(poolSize: int, *name_value: Any, Name: str = "", Stride: int = 1,
                          Padding: Any = 0,
                          PaddingValue: float | Literal["mean"] = 0.0) -> AveragePooling1DLayer:
    """1-D average pooling over time, as MATLAB's ``averagePooling1dLayer``.

    Parameters
    ----------
    poolSize : int
        Time steps of each window.
    Stride : int, default 1
    Padding : 0, int, [left, right] or 'same', default 0
    PaddingValue : 0 or 'mean', default 0
        0: padded positions count as zeros in the mean; 'mean': the mean of
        the time steps inside the sequence only.
    Name : str, default ''

    Returns
    -------
    AveragePooling1DLayer

    Examples
    --------
    >>> from lstmkit import averagePooling1dLayer
    >>> averagePooling1dLayer(3, Padding="same", PaddingValue="mean").PaddingValue
    'mean'
    """
    func = "averagePooling1dLayer"
    layer = _pooling(AveragePooling1DLayer, func, poolSize, Name, Stride, Padding)
    if isinstance(PaddingValue, str):
        layer.PaddingValue = check_choice(func, "PaddingValue", PaddingValue, ("mean",))
    elif isinstance(PaddingValue, numbers.Real) and PaddingValue == 0:
        layer.PaddingValue = 0
    else:
        fail(func, f"`PaddingValue` must be 0 or 'mean'. Received: {_show(PaddingValue)}.")
    return layer


@name_value_function()
def globalAveragePooling1dLayer(*name_value: Any, Name: str = "") -> GlobalAveragePooling1DLayer:
    """1-D global average pooling, as MATLAB's ``globalAveragePooling1dLayer``.

    The mean over each sequence's own time steps: one vector per observation
    (sequence-to-label after a convolution block).

    Parameters
    ----------
    Name : str, default ''

    Returns
    -------
    GlobalAveragePooling1DLayer

    Examples
    --------
    >>> from lstmkit import globalAveragePooling1dLayer
    >>> globalAveragePooling1dLayer().Description
    '1-D global average pooling'
    """
    return GlobalAveragePooling1DLayer(check_name("globalAveragePooling1dLayer", Name))


@name_value_function()
def globalMaxPooling1dLayer(*name_value: Any, Name: str = "") -> GlobalMaxPooling1DLayer:
    """1-D global max pooling, as MATLAB's ``globalMaxPooling1dLayer``.

    The maximum over each sequence's own time steps, per channel.

    Parameters
    ----------
    Name : str, default ''

    Returns
    -------
    GlobalMaxPooling1DLayer

    Examples
    --------
    >>> from lstmkit import globalMaxPooling1dLayer
    >>> globalMaxPooling1dLayer(Name="g").Name
    'g'
    """
    return GlobalMaxPooling1DLayer(check_name("globalMaxPooling1dLayer", Name))


class Indexing1DLayer(Layer):
    """1-D indexing: the first or last time step of each sequence (create it with
    :func:`indexing1dLayer`)."""

    type_name = "1-D Indexing"
    default_name = "index1d"
    HasPaddingMaskInput = False

    @property
    def Description(self):
        return f"1-D indexing of the {self.Index} time step"

    def _display_properties(self):
        return ["Name", "Index", "HasPaddingMaskInput"]

    def _outputs_sequence(self, input_is_sequence):
        return False

    def _check_input(self, func, input_size, input_is_sequence):
        if not input_is_sequence:
            fail(func, f"layer '{self.Name}' ({self.type_name}) takes a time step of a sequence, "
                       f"but the layer before it outputs one vector per observation.")

    def _forward(self, x, batch, state, training, dtype):
        rows = batch.last_rows if self.Index == "last" else \
            np.arange(batch.num_observations, dtype=np.int64)     # step 0: the first N rows
        return np.ascontiguousarray(x[rows]), ((rows, x.shape[0]) if training else None), None

    def _backward(self, dy, cache, grads, need_dx):
        if not need_dx:
            return None
        rows, rows_in = cache
        dx = np.zeros((rows_in, dy.shape[1]), dy.dtype)
        dx[rows] = dy
        return dx


class FlattenLayer(Layer):
    """Flatten layer (create it with :func:`flattenLayer`): folds spatial dimensions into the
    channels; vector sequences and features have none, so it passes them on unchanged."""

    type_name = "Flatten"
    default_name = "flatten"

    @property
    def Description(self):
        return "Flatten"

    def _forward(self, x, batch, state, training, dtype):
        return x, None, None

    def _backward(self, dy, cache, grads, need_dx):
        return dy if need_dx else None


@name_value_function()
def indexing1dLayer(index: Literal["first", "last"] = "first", *name_value: Any,
                    Name: str = "") -> Indexing1DLayer:
    """1-D indexing layer, as MATLAB's ``indexing1dLayer`` (R2023b).

    Takes the first or the last time step of each sequence (its own last
    step: lstmkit never pads), giving one vector per observation.

    Parameters
    ----------
    index : {'first', 'last'}, default 'first'
        MATLAB's ``Index`` property.
    Name : str, default ''

    Returns
    -------
    Indexing1DLayer

    Examples
    --------
    >>> import numpy as np
    >>> from lstmkit import *
    >>> net = dlnetwork([sequenceInputLayer(2), indexing1dLayer("last")])
    >>> minibatchpredict(net, [np.arange(6.0).reshape(3, 2)]).tolist()
    [[4.0, 5.0]]
    """
    func = "indexing1dLayer"
    layer = Indexing1DLayer(check_name(func, Name))
    layer.Index = check_choice(func, "index", index, ("first", "last"))
    return layer


@name_value_function()
def flattenLayer(*name_value: Any, Name: str = "") -> FlattenLayer:
    """Flatten layer, as MATLAB's ``flattenLayer``.

    Folds spatial dimensions into the channels.  lstmkit's data (vector
    sequences and features) has no spatial dimension, so the layer passes its
    input on unchanged; it is accepted so that scripts that put it before a
    recurrent layer port unchanged.

    Parameters
    ----------
    Name : str, default ''

    Returns
    -------
    FlattenLayer

    Examples
    --------
    >>> from lstmkit import flattenLayer
    >>> flattenLayer().Description
    'Flatten'
    """
    return FlattenLayer(check_name("flattenLayer", Name))
