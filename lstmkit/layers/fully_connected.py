"""fullyConnectedLayer: affine map applied at every time step."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._typing import ArrayLike, Initializer
from .._validation import (as_float_array, check_name, check_positive_int, fail,
                           name_value_function)
from ..kernels._threads import kernel_parts
from ..kernels.dense import fc_backward, fc_forward
from . import initializers
from .base import Layer, Learnable, check_column, kernel_array, set_factors


class FullyConnectedLayer(Layer):
    """Fully connected layer (create it with :func:`fullyConnectedLayer`).

    ``y = W x + b`` with ``Weights`` OutputSize-by-InputSize and ``Bias``
    OutputSize-by-1.  On sequence input it is applied independently at every
    time step.
    """

    type_name = "Fully Connected"
    default_name = "fc"
    factory = "fullyConnectedLayer"
    learnables = (
        Learnable("Weights", "WeightsInitializer", "WeightLearnRateFactor", "WeightL2Factor"),
        Learnable("Bias", "BiasInitializer", "BiasLearnRateFactor", "BiasL2Factor",
                  l2_default=0.0),
    )

    @property
    def Description(self):
        return f"{self.OutputSize} fully connected layer"

    def _display_properties(self):
        return ["Name", "InputSize", "OutputSize", "Weights", "Bias", "WeightsInitializer",
                "BiasInitializer", "WeightLearnRateFactor", "WeightL2Factor",
                "BiasLearnRateFactor", "BiasL2Factor"]

    def _output_size(self, input_size):
        return self.OutputSize

    def _check_input(self, func, input_size, input_is_sequence):
        self._check_input_size(func, input_size)

    def _learnable_shape(self, name, input_size):
        K = self.OutputSize
        if name == "Weights":
            return (K, input_size), input_size, K
        return (K, 1), 1, K

    def _forward(self, x, batch, state, training, dtype):
        W = kernel_array(self.Weights, dtype)
        b = kernel_array(self.Bias, dtype, (self.OutputSize,))
        y = np.empty((x.shape[0], self.OutputSize), dtype)
        fc_forward(x, W, b, y, _threads_for(x.shape[0]))
        return y, (x if training else None), None

    def _backward(self, dy, cache, grads, need_dx):
        x = cache
        W = kernel_array(self.Weights, x.dtype)
        dx = np.empty((x.shape[0] if need_dx else 0, x.shape[1]), x.dtype)
        fc_backward(x, W, dy, grads["Weights"], grads["Bias"].reshape(self.OutputSize), dx,
                    _threads_for(x.shape[0]))
        return dx if need_dx else None


def _threads_for(rows):
    """Row blocks for a fully connected GEMM: one per thread, at least 64 rows each."""
    return max(1, min(kernel_parts(), rows // 64))


@name_value_function()
def fullyConnectedLayer(
    outputSize: int,
    *name_value: Any,
    Name: str = "",
    Weights: ArrayLike | None = None,
    Bias: ArrayLike | None = None,
    WeightsInitializer: Initializer = "glorot",
    BiasInitializer: Initializer = "zeros",
    WeightLearnRateFactor: float = 1.0,
    BiasLearnRateFactor: float = 1.0,
    WeightL2Factor: float = 1.0,
    BiasL2Factor: float = 0.0,
) -> FullyConnectedLayer:
    """Fully connected layer, as MATLAB's ``fullyConnectedLayer``.

    Parameters
    ----------
    outputSize : int
        Number of outputs K.
    Weights : array_like (K-by-C), optional
        Initial weights; C is then the input size.
    Bias : array_like (K-by-1), optional
        Initial bias.
    WeightsInitializer : str or callable, default 'glorot'
        'glorot', 'he', 'orthogonal', 'narrow-normal', 'zeros', 'ones' or ``f(shape)``.
    BiasInitializer : str or callable, default 'zeros'
        'zeros', 'ones', 'narrow-normal' or ``f(shape)``.
    WeightLearnRateFactor, BiasLearnRateFactor : float, default 1
        Multipliers of the learning rate.
    WeightL2Factor : float, default 1
        Multiplier of the L2 regularization of the weights.
    BiasL2Factor : float, default 0
        Multiplier of the L2 regularization of the bias.
    Name : str, default ''
        Layer name.

    Returns
    -------
    FullyConnectedLayer

    Examples
    --------
    >>> from lstmkit import fullyConnectedLayer
    >>> fullyConnectedLayer(9).Description
    '9 fully connected layer'
    """
    opts = dict(locals())
    func = "fullyConnectedLayer"
    K = check_positive_int(func, "outputSize", outputSize)
    layer = FullyConnectedLayer(check_name(func, Name))
    layer.OutputSize = K
    layer.InputSize = "auto"
    W = as_float_array(func, "Weights", Weights, shape=(K, None))
    if W is not None:
        if W.shape[1] == 0:
            fail(func, "`Weights` must have at least one column.")
        layer.InputSize = W.shape[1]
    layer.Weights = W
    layer.Bias = check_column(func, "Bias", Bias, K)
    layer.WeightsInitializer = initializers.check_initializer(
        func, "WeightsInitializer", WeightsInitializer, initializers.WEIGHT_INITIALIZERS)
    layer.BiasInitializer = initializers.check_initializer(
        func, "BiasInitializer", BiasInitializer, initializers.BIAS_INITIALIZERS)
    set_factors(func, layer, opts)
    return layer
