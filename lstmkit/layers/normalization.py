"""layerNormalizationLayer and batchNormalizationLayer.

layerNormalizationLayer: normalization over the channels (and, optionally, time).

``y = Scale * (x - mean) / sqrt(var + Epsilon) + Offset``, with the mean and
the (population) variance taken over

* 'channel-only' (and 'auto', MATLAB's default for vector sequences and
  features): the channels of each observation at each time step;
* 'batch-excluded': the channels and all time steps of each sequence, its own
  time steps only, so padding cannot change a result.

The kernels are in :mod:`lstmkit.kernels.normalization`.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from .._typing import ArrayLike, Initializer
from .._validation import (as_float_array, check_choice, check_name, check_real, fail, name_value_function,
                           size_text)
from ..kernels.normalization import (batch_norm_apply, batch_norm_backward, channel_statistics,
                                     group_norm_backward, group_norm_forward, row_norm_backward,
                                     row_norm_forward, scale_offset_gradients)
from . import initializers
from .base import Layer, Learnable, check_column, checked_array, kernel_array, set_factors


class LayerNormalizationLayer(Layer):
    """Layer normalization (create it with :func:`layerNormalizationLayer`)."""

    type_name = "Layer Normalization"
    default_name = "layernorm"
    factory = "layerNormalizationLayer"
    learnables = (
        Learnable("Offset", "OffsetInitializer", "OffsetLearnRateFactor", "OffsetL2Factor"),
        Learnable("Scale", "ScaleInitializer", "ScaleLearnRateFactor", "ScaleL2Factor"),
    )

    @property
    def Description(self):
        C = "" if self.NumChannels == "auto" else f"{self.NumChannels} channels"
        return "Layer normalization" + (f" with {C}" if C else "")

    @property
    def NumChannels(self):
        return self.InputSize

    def _display_properties(self):
        return ["Name", "NumChannels", "Epsilon", "OperationDimension", "Offset", "Scale",
                "OffsetInitializer", "ScaleInitializer", "OffsetLearnRateFactor",
                "OffsetL2Factor", "ScaleLearnRateFactor", "ScaleL2Factor"]

    def _check_input(self, func, input_size, input_is_sequence):
        self._check_input_size(func, input_size)

    def _learnable_shape(self, name, input_size):
        return (input_size, 1), input_size, input_size

    def _groups(self, x, batch):
        M = x.shape[0]
        if self.OperationDimension == "batch-excluded" and batch is not None and \
                M == batch.num_rows:
            return batch.row_sequence, batch.num_observations
        return None, M                 # each row its own group

    def _forward(self, x, batch, state, training, dtype):
        C = x.shape[1]
        groups, G = self._groups(x, batch)
        y = np.empty_like(x)
        xhat = np.empty_like(x)
        inv_std = np.empty(G, dtype)
        scale = kernel_array(self.Scale, dtype, (C,))
        offset = kernel_array(self.Offset, dtype, (C,))
        if groups is None:
            row_norm_forward(x, scale, offset, self.Epsilon, y, xhat, inv_std)
        else:
            group_norm_forward(x, groups, G, scale, offset, self.Epsilon, y, xhat, inv_std)
        return y, ((xhat, inv_std, groups, G, scale) if training else None), None

    def _backward(self, dy, cache, grads, need_dx):
        xhat, inv_std, groups, G, scale = cache
        C = xhat.shape[1]
        dy = np.ascontiguousarray(dy)
        dx = np.empty((xhat.shape[0] if need_dx else 0, C), xhat.dtype)
        if groups is None:
            scale_offset_gradients(dy, xhat, grads["Scale"].reshape(C), grads["Offset"].reshape(C))
            row_norm_backward(dy, xhat, inv_std, scale, dx)
        else:
            group_norm_backward(dy, xhat, inv_std, groups, G, scale, dx,
                                grads["Scale"].reshape(C), grads["Offset"].reshape(C))
        return dx if need_dx else None


@name_value_function()
def layerNormalizationLayer(
    *name_value: Any,
    Name: str = "",
    Epsilon: float = 1e-5,
    OperationDimension: Literal["auto", "channel-only", "batch-excluded"] = "auto",
    Offset: ArrayLike | None = None,
    Scale: ArrayLike | None = None,
    OffsetInitializer: Initializer = "zeros",
    ScaleInitializer: Initializer = "ones",
    OffsetLearnRateFactor: float = 1.0,
    ScaleLearnRateFactor: float = 1.0,
    OffsetL2Factor: float = 1.0,
    ScaleL2Factor: float = 1.0,
) -> LayerNormalizationLayer:
    """Layer normalization layer, as MATLAB's ``layerNormalizationLayer``.

    Parameters
    ----------
    Name : str, default ''
    Epsilon : float, default 1e-5
        Added to the variance (at least 1e-5 in MATLAB; lstmkit takes any
        positive value).
    OperationDimension : {'auto', 'channel-only', 'batch-excluded'}, default 'auto'
        'auto' and 'channel-only': over the channels at each time step;
        'batch-excluded': over the channels and each sequence's own time steps.
    Offset, Scale : array_like, optional
        NumChannels-by-1 learnables (initialized when the network is).
    OffsetInitializer : 'zeros', 'ones', 'narrow-normal' or callable, default 'zeros'
    ScaleInitializer : 'ones', 'zeros', 'narrow-normal' or callable, default 'ones'
    OffsetLearnRateFactor, ScaleLearnRateFactor : float, default 1
    OffsetL2Factor, ScaleL2Factor : float, default 1

    Returns
    -------
    LayerNormalizationLayer

    Examples
    --------
    >>> from lstmkit import *
    >>> net = dlnetwork([sequenceInputLayer(3), lstmLayer(16), layerNormalizationLayer()])
    >>> net.Layers[2].Scale.shape, net.Layers[2].Epsilon
    ((16, 1), 1e-05)
    """
    func = "layerNormalizationLayer"
    opts = dict(locals())
    layer = LayerNormalizationLayer(check_name(func, Name))
    layer.Epsilon = check_real(func, "Epsilon", Epsilon, low=0.0, low_open=True)
    layer.OperationDimension = check_choice(func, "OperationDimension", OperationDimension,
                                            ("auto", "channel-only", "batch-excluded"))
    layer.OffsetInitializer = initializers.check_initializer(
        func, "OffsetInitializer", OffsetInitializer, initializers.BIAS_INITIALIZERS)
    layer.ScaleInitializer = initializers.check_initializer(
        func, "ScaleInitializer", ScaleInitializer, initializers.BIAS_INITIALIZERS)
    layer.InputSize = _channel_vectors(func, layer, {"Offset": Offset, "Scale": Scale})
    set_factors(func, layer, opts)
    return layer


def _channel_vectors(func, layer, values):
    """Set NumChannels-by-1 properties given at construction; return their common size or 'auto'."""
    sizes = set()
    for prop, value in values.items():
        arr = None
        if value is not None:
            arr = as_float_array(func, prop, value, allow_empty=False)
            if arr.ndim == 0 or arr.ndim > 2 or (arr.ndim == 2 and 1 not in arr.shape) or \
                    arr.size == 0:
                fail(func, f"`{prop}` must be a NumChannels-by-1 vector. Received: "
                           f"{prop} of size {size_text(arr.shape)}.")
            arr = check_column(func, prop, arr, arr.size)
            sizes.add(arr.shape[0])
        setattr(layer, prop, arr)
    if len(sizes) > 1:
        names = ", ".join(f"`{p}`" for p in values)
        fail(func, f"{names} must have the same number of channels. Received: "
                   f"{sorted(sizes)}.")
    return sizes.pop() if sizes else "auto"


class BatchNormalizationLayer(Layer):
    """Batch normalization (create it with :func:`batchNormalizationLayer`).

    In training each channel is normalized with the mean and (population)
    variance of the mini-batch: all its observations and each sequence's own
    time steps (never padding), and the moving statistics are updated,
    ``TrainedMean = MeanDecay * mean + (1 - MeanDecay) * TrainedMean`` (the
    same for the variance).  In prediction the trained statistics are used.
    trainingOptions' BatchNormalizationStatistics 'population' (the default)
    replaces them after training by the statistics of the whole training data.
    """

    _array_properties = ("TrainedMean", "TrainedVariance")

    type_name = "Batch Normalization"
    default_name = "batchnorm"
    factory = "batchNormalizationLayer"
    learnables = (
        Learnable("Offset", "OffsetInitializer", "OffsetLearnRateFactor", "OffsetL2Factor"),
        Learnable("Scale", "ScaleInitializer", "ScaleLearnRateFactor", "ScaleL2Factor"),
    )
    state_properties = ("TrainedMean", "TrainedVariance")

    @property
    def Description(self):
        C = "" if self.NumChannels == "auto" else f" with {self.NumChannels} channels"
        return "Batch normalization" + C

    @property
    def NumChannels(self):
        return self.InputSize

    def _display_properties(self):
        return ["Name", "NumChannels", "TrainedMean", "TrainedVariance", "MeanDecay",
                "VarianceDecay", "Epsilon", "Offset", "Scale", "OffsetInitializer",
                "ScaleInitializer", "OffsetLearnRateFactor", "OffsetL2Factor",
                "ScaleLearnRateFactor", "ScaleL2Factor"]

    def _check_input(self, func, input_size, input_is_sequence):
        self._check_input_size(func, input_size)

    def _learnable_shape(self, name, input_size):
        return (input_size, 1), input_size, input_size

    def _initialize(self, input_size, rng):
        super()._initialize(input_size, rng)
        if self.TrainedMean is None:
            self.TrainedMean = np.zeros((input_size, 1))
        if self.TrainedVariance is None:
            self.TrainedVariance = np.ones((input_size, 1))

    def _state_value(self, name):
        value = getattr(self, name)
        if value is None and self.InputSize != "auto":
            return (np.zeros if name == "TrainedMean" else np.ones)((self.InputSize, 1))
        return value

    def _checked_state(self, name, value):
        arr = checked_array("State", self, name, value, None).reshape(-1, 1)
        if self.InputSize != "auto" and arr.shape[0] != self.InputSize:
            fail("State", f"the new value of {self.Name}.{name} must be {self.InputSize}-by-1. "
                          f"Received: {size_text(np.shape(value))}.")
        if name == "TrainedVariance" and np.any(arr < 0):
            fail("State", f"{self.Name}.TrainedVariance must be non-negative.")
        return arr

    def _forward(self, x, batch, state, training, dtype):
        C = x.shape[1]
        scale = kernel_array(self.Scale, dtype, (C,))
        offset = kernel_array(self.Offset, dtype, (C,))
        y = np.empty_like(x)
        xhat = np.empty_like(x)
        if training:
            mean, var = np.empty(C, np.float64), np.empty(C, np.float64)
            channel_statistics(x, mean, var)
            self.TrainedMean = (self.MeanDecay * mean.reshape(C, 1) +
                                (1 - self.MeanDecay) * np.asarray(self.TrainedMean, np.float64))
            self.TrainedVariance = (self.VarianceDecay * var.reshape(C, 1) + (
                1 - self.VarianceDecay) * np.asarray(self.TrainedVariance, np.float64))
        else:
            mean = np.asarray(self.TrainedMean, np.float64).reshape(C)
            var = np.asarray(self.TrainedVariance, np.float64).reshape(C)
        batch_norm_apply(x, mean.astype(dtype), var.astype(dtype), scale, offset, self.Epsilon, y,
                         xhat)
        return y, ((xhat, var.astype(dtype), scale) if training else None), None

    def _backward(self, dy, cache, grads, need_dx):
        xhat, var, scale = cache
        C = xhat.shape[1]
        dx = np.empty((xhat.shape[0] if need_dx else 0, C), xhat.dtype)
        batch_norm_backward(np.ascontiguousarray(dy), xhat, var, scale, self.Epsilon, dx,
                            grads["Scale"].reshape(C), grads["Offset"].reshape(C))
        return dx if need_dx else None


@name_value_function()
def batchNormalizationLayer(
    *name_value: Any,
    Name: str = "",
    Epsilon: float = 1e-5,
    MeanDecay: float = 0.1,
    VarianceDecay: float = 0.1,
    TrainedMean: ArrayLike | None = None,
    TrainedVariance: ArrayLike | None = None,
    Offset: ArrayLike | None = None,
    Scale: ArrayLike | None = None,
    OffsetInitializer: Initializer = "zeros",
    ScaleInitializer: Initializer = "ones",
    OffsetLearnRateFactor: float = 1.0,
    ScaleLearnRateFactor: float = 1.0,
    OffsetL2Factor: float = 1.0,
    ScaleL2Factor: float = 1.0,
) -> BatchNormalizationLayer:
    """Batch normalization layer, as MATLAB's ``batchNormalizationLayer``.

    Parameters
    ----------
    Name : str, default ''
    Epsilon : float, default 1e-5
    MeanDecay, VarianceDecay : float in [0, 1], default 0.1
        Weights of the mini-batch statistics in the moving statistics.
    TrainedMean, TrainedVariance : array_like (NumChannels-by-1), optional
        The statistics prediction uses (zeros and ones when the network is
        initialized).
    Offset, Scale : array_like (NumChannels-by-1), optional
    OffsetInitializer : str or callable, default 'zeros'
    ScaleInitializer : str or callable, default 'ones'
    OffsetLearnRateFactor, ScaleLearnRateFactor : float, default 1
    OffsetL2Factor, ScaleL2Factor : float, default 1

    Returns
    -------
    BatchNormalizationLayer

    Examples
    --------
    >>> from lstmkit import *
    >>> net = dlnetwork([sequenceInputLayer(3), convolution1dLayer(3, 8, Padding="same"),
    ...                  batchNormalizationLayer(), reluLayer()])
    >>> net.State.Parameter
    ['TrainedMean', 'TrainedVariance']
    """
    func = "batchNormalizationLayer"
    opts = dict(locals())
    layer = BatchNormalizationLayer(check_name(func, Name))
    layer.Epsilon = check_real(func, "Epsilon", Epsilon, low=0.0, low_open=True)
    layer.MeanDecay = check_real(func, "MeanDecay", MeanDecay, low=0.0, high=1.0)
    layer.VarianceDecay = check_real(func, "VarianceDecay", VarianceDecay, low=0.0, high=1.0)
    layer.OffsetInitializer = initializers.check_initializer(
        func, "OffsetInitializer", OffsetInitializer, initializers.BIAS_INITIALIZERS)
    layer.ScaleInitializer = initializers.check_initializer(
        func, "ScaleInitializer", ScaleInitializer, initializers.BIAS_INITIALIZERS)
    layer.InputSize = _channel_vectors(func, layer, {
        "Offset": Offset, "Scale": Scale, "TrainedMean": TrainedMean,
        "TrainedVariance": TrainedVariance})
    if layer.TrainedVariance is not None and np.any(layer.TrainedVariance < 0):
        fail(func, "`TrainedVariance` must be non-negative.")
    set_factors(func, layer, opts)
    return layer
