"""sequenceInputLayer: the input of every network, with data normalization."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from .._typing import ArrayLike
from .._validation import (SINGLE_MAX, _show, array_or_none, check_choice, check_name, check_positive_int,
                           as_float_array, check_bool, fail, name_value_function)
from .._data import channel_range
from .base import Layer, check_column

NORMALIZATIONS = ("none", "zerocenter", "zscore", "rescale-symmetric", "rescale-zero-one")
_STATISTICS = {
    "none": (),
    "zerocenter": ("Mean",),
    "zscore": ("Mean", "StandardDeviation"),
    "rescale-symmetric": ("Min", "Max"),
    "rescale-zero-one": ("Min", "Max"),
}


class SequenceInputLayer(Layer):
    """Sequence input layer (create it with :func:`sequenceInputLayer`).

    Normalization is channel-wise, with statistics over every time step of
    every training sequence (MATLAB's 'auto' = 'channel' for vector sequences):

    =====================  ==================================================
    'zerocenter'           x - Mean
    'zscore'               (x - Mean) / StandardDeviation
    'rescale-symmetric'    2 (x - Min) / (Max - Min) - 1
    'rescale-zero-one'     (x - Min) / (Max - Min)
    =====================  ==================================================

    StandardDeviation is the population standard deviation.  A channel with
    zero deviation (or Max == Min) is divided by 1 instead, so constant input
    gives finite values.
    """

    _array_properties = ("Mean", "StandardDeviation", "Min", "Max")

    type_name = "Sequence Input"
    default_name = "sequenceinput"
    is_input = True

    @property
    def Description(self):
        text = f"Sequence input with {self.InputSize} dimensions"
        if self.Normalization != "none":
            text += f" and '{self.Normalization}' normalization"
        return text

    def _display_properties(self):
        return ["Name", "InputSize", "MinLength", "Normalization", "NormalizationDimension",
                "Mean", "StandardDeviation", "Min", "Max"]

    def _output_size(self, input_size):
        return self.InputSize

    def _statistics_needed(self):
        return _STATISTICS[self.Normalization]

    def _missing_statistics(self):
        return [s for s in self._statistics_needed() if getattr(self, s) is None]

    def _compute_statistics(self, sequences):
        """Set the statistics of ``Normalization`` from a list of C-by-T arrays."""
        if self.Normalization == "none":
            return
        data = np.concatenate([np.asarray(s, dtype=np.float64) for s in sequences], axis=1)
        # computed on each channel scaled by its largest magnitude, so that values near the
        # float64 limit (whose squares or sums overflow) still give their true statistics
        scale = np.max(np.abs(data), axis=1, keepdims=True)
        scale[scale == 0] = 1.0
        scaled = data / scale
        if "Mean" in self._statistics_needed():
            self.Mean = scaled.mean(axis=1, keepdims=True) * scale
        if "StandardDeviation" in self._statistics_needed():
            self.StandardDeviation = scaled.std(axis=1, keepdims=True) * scale
        if "Min" in self._statistics_needed():
            self.Min = data.min(axis=1, keepdims=True)
            self.Max = data.max(axis=1, keepdims=True)

    def _input_scale(self):
        """The per-channel factor of the (affine) normalization: d(normalized)/d(input)."""
        mode = self.Normalization
        if mode in ("none", "zerocenter"):
            return np.ones(self._size_for_scale())
        if mode == "zscore":
            return 1.0 / _safe(self.StandardDeviation).reshape(-1)
        scale = 1.0 / _safe(self.Max - self.Min).reshape(-1)
        return 2.0 * scale if mode == "rescale-symmetric" else scale

    def _size_for_scale(self):
        size = self.InputSize
        return int(np.prod(size)) if not isinstance(size, (int, np.integer)) else int(size)

    def _normalize(self, x, dtype):
        """Normalize packed rows x (S, C); returns a new array of ``dtype``."""
        mode = self.Normalization
        if mode == "none":
            return np.ascontiguousarray(x, dtype=dtype)
        if mode in ("zerocenter", "zscore"):
            y = x - self.Mean.reshape(1, -1)
            if mode == "zscore":
                y /= _safe(self.StandardDeviation).reshape(1, -1)
        else:
            y = (x - self.Min.reshape(1, -1)) / _safe(self.Max - self.Min).reshape(1, -1)
            if mode == "rescale-symmetric":
                y = 2.0 * y - 1.0
        return np.ascontiguousarray(y, dtype=dtype)

    def _check_range(self, func, sequences, dtype, name="X", span=None):
        """The data, normalized, must fit ``dtype``: float64 values beyond float32's range
        (about 3.4e38) would become Inf in single precision and give NaN results.

        ``span``: the sequences' per-channel (min, max) when already known (from
        :func:`lstmkit._data.check_sequences`)."""
        if np.dtype(dtype) != np.float32 or not sequences or self._missing_statistics():
            return
        limit = SINGLE_MAX
        lo, hi = span if span is not None else channel_range(sequences)
        with np.errstate(over="ignore", invalid="ignore"):
            ends = self._normalize(np.stack([lo, hi]), np.float64)   # affine per channel
        bad = ~(np.abs(ends) <= limit)
        if np.any(bad):
            channel = int(np.flatnonzero(bad.any(axis=0))[0])
            fail(func, f"`{name}` has values beyond single precision in channel {channel + 1} "
                       f"(from {lo[channel]:g} to {hi[channel]:g}"
                       + (", after normalization" if self.Normalization != "none" else "")
                       + "); networks run in float32, whose largest value is about 3.4e38. "
                         "Rescale the data, or use Normalization='zscore'.")

    def _pack(self, batch, sequences, dtype):
        """Pack C-by-T sequences and normalize them: the network's input rows, of ``dtype``.

        Normalization is done in float64 before the cast; without it the sequences
        are packed straight into ``dtype`` (one copy, not two).
        """
        if self.Normalization == "none":
            return batch.pack(sequences, dtype)
        return self._normalize(batch.pack(sequences, np.float64), dtype)

    def _forward(self, x, batch, state, training, dtype):
        return self._normalize(x, dtype), None, None


def _safe(scale):
    scale = np.array(scale, dtype=np.float64)
    scale[scale == 0] = 1.0
    return scale


@name_value_function()
def sequenceInputLayer(
    inputSize: int,
    *name_value: Any,
    Name: str = "",
    Normalization: Literal["none", "zerocenter", "zscore", "rescale-symmetric",
                           "rescale-zero-one"] = "none",
    NormalizationDimension: Literal["auto", "channel"] = "auto",
    Mean: ArrayLike | None = None,
    StandardDeviation: ArrayLike | None = None,
    Min: ArrayLike | None = None,
    Max: ArrayLike | None = None,
    MinLength: int = 1,
    SplitComplexInputs: bool = False,
) -> SequenceInputLayer:
    """Sequence input layer, as MATLAB's ``sequenceInputLayer``.

    Parameters
    ----------
    inputSize : int
        Number of channels C of each C-by-T sequence.
    Normalization : str, default 'none'
        'none', 'zerocenter', 'zscore', 'rescale-symmetric', 'rescale-zero-one'.
        Statistics are computed from the training data by trainNetwork (unless
        ``ResetInputNormalization=False`` in trainingOptions and they are given).
    NormalizationDimension : {'auto', 'channel'}, default 'auto'
        Only channel-wise statistics are supported for vector sequences.
    Mean, StandardDeviation, Min, Max : array_like (C-by-1) or scalar, optional
        Normalization statistics.
    MinLength : int, default 1
        Sequences shorter than this are an error.
    SplitComplexInputs : bool, default False
        Only false is supported (lstmkit works with real data).
    Name : str, default ''
        Layer name.

    Returns
    -------
    SequenceInputLayer

    Examples
    --------
    >>> from lstmkit import sequenceInputLayer
    >>> sequenceInputLayer(12, Normalization="zscore").Description
    "Sequence input with 12 dimensions and 'zscore' normalization"
    """
    func = "sequenceInputLayer"
    given = array_or_none(inputSize)
    if given is not None and given.ndim == 1 and given.size > 1:
        fail(func, f"image-sequence input (InputSize={list(np.ravel(inputSize))}) is not supported "
                   f"by lstmkit; flatten each frame into a C-by-T vector sequence.")
    layer = _input_layer(SequenceInputLayer, func, "inputSize", inputSize, Name, Normalization,
                         NormalizationDimension, Mean, StandardDeviation, Min, Max,
                         SplitComplexInputs)
    layer.MinLength = check_positive_int(func, "MinLength", MinLength)
    return layer


def _input_layer(cls, func, size_name, inputSize, Name, Normalization, NormalizationDimension,
                 Mean, StandardDeviation, Min, Max, SplitComplexInputs):
    """An input layer of ``cls`` with its size and normalization checked."""
    C = check_positive_int(func, size_name, inputSize)
    layer = cls(check_name(func, Name))
    layer.InputSize = C
    if callable(Normalization):
        fail(func, "a function handle as `Normalization` is not supported by lstmkit; "
                   "normalize the data before training instead.")
    layer.Normalization = check_choice(func, "Normalization", Normalization, NORMALIZATIONS)
    layer.NormalizationDimension = check_choice(
        func, "NormalizationDimension", NormalizationDimension, ("auto", "channel"))
    for stat, value in (("Mean", Mean), ("StandardDeviation", StandardDeviation), ("Min", Min),
                        ("Max", Max)):
        value = as_float_array(func, stat, value, single=False)
        if value is not None and value.size == 1:
            value = np.full((C, 1), value.item())
        setattr(layer, stat, check_column(func, stat, value, C, single=False))
    if layer.StandardDeviation is not None and np.any(layer.StandardDeviation < 0):
        fail(func, "`StandardDeviation` must be non-negative.")
    if layer.Min is not None and layer.Max is not None and np.any(layer.Min > layer.Max):
        bad = int(np.flatnonzero(layer.Min > layer.Max)[0])
        fail(func, f"`Min` must not exceed `Max`; channel {bad + 1} has Min "
                   f"{float(layer.Min[bad, 0]):g} and Max {float(layer.Max[bad, 0]):g}.")
    if check_bool(func, "SplitComplexInputs", SplitComplexInputs):
        fail(func, f"`SplitComplexInputs`=true is not supported by lstmkit. "
                   f"Received: SplitComplexInputs={_show(SplitComplexInputs)}.")
    return layer


class FeatureInputLayer(SequenceInputLayer):
    """Feature input layer (create it with :func:`featureInputLayer`).

    Its data is one vector of features per observation (an N-by-C array), not
    a sequence: the layers after it see one row per observation, as after a
    recurrent layer with OutputMode 'last'.  Normalization is per feature,
    over the observations.
    """

    type_name = "Feature Input"
    default_name = "input"
    MinLength = 1

    @property
    def Description(self):
        text = f"{self.InputSize} features"
        if self.Normalization != "none":
            text += f" with '{self.Normalization}' normalization"
        return text

    def _display_properties(self):
        return ["Name", "InputSize", "Normalization", "NormalizationDimension", "Mean",
                "StandardDeviation", "Min", "Max"]

    def _outputs_sequence(self, input_is_sequence):
        return False


@name_value_function()
def featureInputLayer(
    numFeatures: int,
    *name_value: Any,
    Name: str = "",
    Normalization: Literal["none", "zerocenter", "zscore", "rescale-symmetric",
                           "rescale-zero-one"] = "none",
    NormalizationDimension: Literal["auto", "channel"] = "auto",
    Mean: ArrayLike | None = None,
    StandardDeviation: ArrayLike | None = None,
    Min: ArrayLike | None = None,
    Max: ArrayLike | None = None,
    SplitComplexInputs: bool = False,
) -> FeatureInputLayer:
    """Feature input layer, as MATLAB's ``featureInputLayer``: N-by-C feature data.

    Parameters
    ----------
    numFeatures : int
        Number of features C of each observation.
    Normalization : str, default 'none'
        As for :func:`sequenceInputLayer`, with statistics over the
        observations.
    NormalizationDimension : {'auto', 'channel'}, default 'auto'
    Mean, StandardDeviation, Min, Max : array_like (C-by-1) or scalar, optional
    SplitComplexInputs : bool, default False
        Only false is supported.
    Name : str, default ''

    Returns
    -------
    FeatureInputLayer

    Examples
    --------
    >>> import numpy as np
    >>> from lstmkit import *
    >>> net = dlnetwork([featureInputLayer(4), fullyConnectedLayer(8), reluLayer(),
    ...                  fullyConnectedLayer(2)])
    >>> minibatchpredict(net, np.ones((5, 4))).shape       # N-by-C features in, N-by-K out
    (5, 2)
    """
    return _input_layer(FeatureInputLayer, "featureInputLayer", "numFeatures", numFeatures, Name,
                        Normalization, NormalizationDimension, Mean, StandardDeviation, Min, Max,
                        SplitComplexInputs)
