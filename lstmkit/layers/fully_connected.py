"""fullyConnectedLayer: affine map applied at every time step."""

import numpy as np

from .._validation import as_float_array, check_name, check_positive_int, fail, parse_name_value
from ..kernels._threads import kernel_threads
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
    return max(1, min(kernel_threads(), rows // 64))


_FC_OPTIONS = ("Name", "Weights", "Bias", "WeightsInitializer", "BiasInitializer",
               "WeightLearnRateFactor", "BiasLearnRateFactor", "WeightL2Factor", "BiasL2Factor")


def fullyConnectedLayer(outputSize, *args, **kwargs):
    """Fully connected layer, as MATLAB's ``fullyConnectedLayer``.

    Parameters
    ----------
    outputSize : int
        Number of outputs K.
    Weights : array (K-by-C), optional
        Initial weights; C is then the input size.
    Bias : array (K-by-1), optional
    WeightsInitializer : str or callable, default 'glorot'
        'glorot', 'he', 'orthogonal', 'narrow-normal', 'zeros', 'ones' or ``f(shape)``.
    BiasInitializer : str or callable, default 'zeros'
        'zeros', 'ones', 'narrow-normal' or ``f(shape)``.
    WeightLearnRateFactor, BiasLearnRateFactor : float, default 1
    WeightL2Factor : float, default 1
    BiasL2Factor : float, default 0
    Name : str, default ''

    Returns
    -------
    FullyConnectedLayer
    """
    func = "fullyConnectedLayer"
    K = check_positive_int(func, "outputSize", outputSize)
    opts = parse_name_value(func, args, kwargs, _FC_OPTIONS)
    layer = FullyConnectedLayer(check_name(func, opts.get("Name", "")))
    layer.OutputSize = K
    layer.InputSize = "auto"
    W = as_float_array(func, "Weights", opts.get("Weights"), shape=(K, None))
    if W is not None:
        if W.shape[1] == 0:
            fail(func, "`Weights` must have at least one column.")
        layer.InputSize = W.shape[1]
    layer.Weights = W
    layer.Bias = check_column(func, "Bias", opts.get("Bias"), K)
    layer.WeightsInitializer = initializers.check_initializer(
        func, "WeightsInitializer", opts.get("WeightsInitializer", "glorot"),
        initializers.WEIGHT_INITIALIZERS)
    layer.BiasInitializer = initializers.check_initializer(
        func, "BiasInitializer", opts.get("BiasInitializer", "zeros"), initializers.BIAS_INITIALIZERS)
    set_factors(func, layer, opts)
    return layer
