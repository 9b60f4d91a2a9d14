"""selfAttentionLayer and positionEmbeddingLayer.

Self-attention is computed per sequence over its own time steps (a causal
mask limits each step to itself and the earlier ones), so the padding of a
mini-batch cannot change a result; MATLAB needs a padding mask input for
that, lstmkit never pads.  The projections are GEMMs over all packed rows;
the attention core is in :mod:`lstmkit.kernels.attention`.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from .._random import global_rng
from .._typing import ArrayLike, Initializer
from .._validation import (as_float_array, check_bool, check_choice, check_name, check_positive_int,
                           check_real, fail, name_value_function, size_text)
from ..kernels.attention import attention_backward, attention_bases, attention_forward
from ..kernels.dense import fc_backward, fc_forward
from ..kernels._threads import kernel_parts
from . import initializers
from .base import Layer, Learnable, kernel_array, set_factors

_PROJECTIONS = ("Query", "Key", "Value", "Output")


def _threads(rows):
    return max(1, min(kernel_parts(), rows // 64))


class SelfAttentionLayer(Layer):
    """Multi-head self-attention over time (create it with :func:`selfAttentionLayer`)."""

    type_name = "Self-Attention"
    default_name = "selfattention"
    factory = "selfAttentionLayer"
    learnables = tuple(
        item for p in _PROJECTIONS for item in (
            Learnable(f"{p}Weights", "WeightsInitializer", "WeightLearnRateFactor",
                      "WeightL2Factor"),
            Learnable(f"{p}Bias", "BiasInitializer", "BiasLearnRateFactor", "BiasL2Factor",
                      l2_default=0.0)))

    @property
    def Description(self):
        return f"Self-attention with {self.NumHeads} heads and {self.NumKeyChannels} key and " \
               f"query channels"

    @property
    def NumInputChannels(self):
        return self.InputSize

    def _display_properties(self):
        return ["Name", "NumHeads", "NumKeyChannels", "NumValueChannels", "OutputSize",
                "AttentionMask", "DropoutProbability", "HasPaddingMaskInput", "QueryWeights",
                "KeyWeights", "ValueWeights", "OutputWeights", "QueryBias", "KeyBias",
                "ValueBias", "OutputBias", "WeightsInitializer", "BiasInitializer"]

    def _value_channels(self):
        return self.NumKeyChannels if self.NumValueChannels == "auto" else self.NumValueChannels

    def _out_size(self, input_size):
        return input_size if self.OutputSize == "auto" else self.OutputSize

    def _output_size(self, input_size):
        return self._out_size(input_size)

    def _check_input(self, func, input_size, input_is_sequence):
        if not input_is_sequence:
            fail(func, f"layer '{self.Name}' ({self.type_name}) attends over time steps, but the "
                       f"layer before it outputs one vector per observation.")
        if self.InputSize != "auto" and self.InputSize != input_size:
            fail(func, f"layer '{self.Name}' ({self.type_name}) expects input of size "
                       f"{self.InputSize} (QueryWeights is "
                       f"{size_text(np.shape(self.QueryWeights))}) but receives input of size "
                       f"{input_size}.")

    def _learnable_shape(self, name, input_size):
        dk, dv, out = self.NumKeyChannels, self._value_channels(), self._out_size(input_size)
        rows, cols = {"Query": (dk, input_size), "Key": (dk, input_size),
                      "Value": (dv, input_size), "Output": (out, dv)}[
            name.replace("Weights", "").replace("Bias", "")]
        if name.endswith("Bias"):
            return (rows, 1), 1, rows
        return (rows, cols), cols, rows

    def _project(self, x, name, dtype):
        W = kernel_array(getattr(self, f"{name}Weights"), dtype)
        b = kernel_array(getattr(self, f"{name}Bias"), dtype, (W.shape[0],))
        y = np.empty((x.shape[0], W.shape[0]), dtype)
        fc_forward(x, W, b, y, _threads(x.shape[0]))
        return y

    def _forward(self, x, batch, state, training, dtype):
        Q, K, V = (self._project(x, p, dtype) for p in ("Query", "Key", "Value"))
        base = attention_bases(batch.lengths, self.NumHeads)
        P = np.empty(int(base[-1]), dtype)
        keep = np.empty(0, dtype)
        p = self.DropoutProbability
        if training and p > 0:
            keep = ((global_rng().random(P.size) >= p) / (1.0 - p)).astype(dtype)
        A = np.empty((x.shape[0], V.shape[1]), dtype)
        attention_forward(Q, K, V, batch.offsets, batch.lengths, self.NumHeads,
                          self.AttentionMask == "causal", keep, base, P, A)
        y = self._project(A, "Output", dtype)
        cache = (x, Q, K, V, A, P, keep, base, batch) if training else None
        return y, cache, None

    def _backward(self, dy, cache, grads, need_dx):
        x, Q, K, V, A, P, keep, base, batch = cache
        dtype = x.dtype
        threads = _threads(x.shape[0])
        dy = np.ascontiguousarray(dy)
        Wo = kernel_array(self.OutputWeights, dtype)
        dA = np.empty_like(A)
        fc_backward(A, Wo, dy, grads["OutputWeights"], grads["OutputBias"].reshape(-1), dA,
                    threads)
        dQ, dK, dV = np.empty_like(Q), np.empty_like(K), np.empty_like(V)
        attention_backward(dA, Q, K, V, batch.offsets, batch.lengths, self.NumHeads,
                           self.AttentionMask == "causal", keep, base, P, dQ, dK, dV)
        dx = np.zeros_like(x) if need_dx else None
        for name, d in (("Query", dQ), ("Key", dK), ("Value", dV)):
            W = kernel_array(getattr(self, f"{name}Weights"), dtype)
            part = np.empty((x.shape[0] if need_dx else 0, x.shape[1]), dtype)
            fc_backward(x, W, d, grads[f"{name}Weights"], grads[f"{name}Bias"].reshape(-1), part,
                        threads)
            if need_dx:
                dx += part
        return dx


class PositionEmbeddingLayer(Layer):
    """Learned position embedding (create it with :func:`positionEmbeddingLayer`)."""

    type_name = "Position Embedding"
    default_name = "pos-emb"
    factory = "positionEmbeddingLayer"
    learnables = (Learnable("Weights", "WeightsInitializer", "WeightLearnRateFactor",
                            "WeightL2Factor"),)
    PositionDimension = "auto"

    @property
    def Description(self):
        return f"Position embedding with output size {self.OutputSize}"

    def _display_properties(self):
        return ["Name", "OutputSize", "MaxPosition", "PositionDimension", "Weights",
                "WeightsInitializer", "WeightLearnRateFactor", "WeightL2Factor"]

    def _output_size(self, input_size):
        return self.OutputSize

    def _check_input(self, func, input_size, input_is_sequence):
        if not input_is_sequence:
            fail(func, f"layer '{self.Name}' ({self.type_name}) embeds time steps, but the layer "
                       f"before it outputs one vector per observation.")

    def _initialize(self, input_size, rng):
        super()._initialize(input_size, rng)
        self.InputSize = input_size

    def _learnable_shape(self, name, input_size):
        return (self.OutputSize, self.MaxPosition), self.MaxPosition, self.OutputSize

    def _forward(self, x, batch, state, training, dtype):
        T = int(batch.lengths[0])
        if T > self.MaxPosition:
            fail("positionEmbeddingLayer", f"layer '{self.Name}' embeds at most MaxPosition="
                                           f"{self.MaxPosition} time steps; a sequence has {T}.")
        W = kernel_array(self.Weights, dtype)
        y = np.ascontiguousarray(W.T[batch.row_step])
        return y, ((batch.row_step, x.shape) if training else None), None

    def _backward(self, dy, cache, grads, need_dx):
        steps, shape = cache
        dW = grads["Weights"]
        dW[...] = 0
        np.add.at(dW.T, steps, dy)
        return np.zeros(shape, dy.dtype) if need_dx else None


@name_value_function()
def selfAttentionLayer(
    numHeads: int,
    numKeyChannels: int,
    *name_value: Any,
    Name: str = "",
    NumValueChannels: int | str = "auto",
    OutputSize: int | str = "auto",
    AttentionMask: Literal["none", "causal"] = "none",
    DropoutProbability: float = 0.0,
    HasPaddingMaskInput: bool = False,
    QueryWeights: ArrayLike | None = None,
    KeyWeights: ArrayLike | None = None,
    ValueWeights: ArrayLike | None = None,
    OutputWeights: ArrayLike | None = None,
    QueryBias: ArrayLike | None = None,
    KeyBias: ArrayLike | None = None,
    ValueBias: ArrayLike | None = None,
    OutputBias: ArrayLike | None = None,
    WeightsInitializer: Initializer = "glorot",
    BiasInitializer: Initializer = "zeros",
    WeightLearnRateFactor: float = 1.0,
    BiasLearnRateFactor: float = 1.0,
    WeightL2Factor: float = 1.0,
    BiasL2Factor: float = 0.0,
) -> SelfAttentionLayer:
    """Multi-head self-attention, as MATLAB's ``selfAttentionLayer`` (R2023a).

    Parameters
    ----------
    numHeads : int
        Number of heads; it must divide numKeyChannels and NumValueChannels.
    numKeyChannels : int
        Channels of the queries and keys (all heads together).
    NumValueChannels : int or 'auto', default 'auto'
        Channels of the values ('auto': numKeyChannels).
    OutputSize : int or 'auto', default 'auto'
        Output channels ('auto': the input's).
    AttentionMask : {'none', 'causal'}, default 'none'
        'causal': each time step attends to itself and the earlier ones.
    DropoutProbability : float in [0, 1), default 0
        Dropout of the attention weights in training.
    HasPaddingMaskInput : bool, default False
        Only False: lstmkit never pads, so no padding mask is needed.
    QueryWeights, KeyWeights, ValueWeights, OutputWeights : array_like, optional
        numKeyChannels-by-C, numKeyChannels-by-C, NumValueChannels-by-C and
        OutputSize-by-NumValueChannels.
    QueryBias, KeyBias, ValueBias, OutputBias : array_like, optional
        Column vectors of the matching sizes.
    WeightsInitializer : str or callable, default 'glorot'
    BiasInitializer : str or callable, default 'zeros'
    WeightLearnRateFactor, BiasLearnRateFactor : float, default 1
    WeightL2Factor : float, default 1
    BiasL2Factor : float, default 0
    Name : str, default ''

    Returns
    -------
    SelfAttentionLayer

    Examples
    --------
    >>> from lstmkit import *
    >>> net = dlnetwork([sequenceInputLayer(6), selfAttentionLayer(2, 8),
    ...                  globalAveragePooling1dLayer(), fullyConnectedLayer(3)])
    >>> net.Layers[1].QueryWeights.shape, net.Layers[1].OutputWeights.shape
    ((8, 6), (6, 8))
    """
    func = "selfAttentionLayer"
    opts = dict(locals())
    layer = SelfAttentionLayer(check_name(func, Name))
    layer.NumHeads = check_positive_int(func, "numHeads", numHeads)
    layer.NumKeyChannels = check_positive_int(func, "numKeyChannels", numKeyChannels)
    for prop, value in (("NumValueChannels", NumValueChannels), ("OutputSize", OutputSize)):
        setattr(layer, prop, "auto" if isinstance(value, str) and value.lower() == "auto"
                else check_positive_int(func, prop, value))
    for prop, size in (("numKeyChannels", layer.NumKeyChannels),
                       ("NumValueChannels", layer._value_channels())):
        if size % layer.NumHeads:
            fail(func, f"`{prop}` ({size}) must be a multiple of numHeads ({layer.NumHeads}).")
    layer.AttentionMask = check_choice(func, "AttentionMask", AttentionMask, ("none", "causal"))
    layer.DropoutProbability = check_real(func, "DropoutProbability", DropoutProbability,
                                          low=0.0, high=1.0, high_open=True)
    if check_bool(func, "HasPaddingMaskInput", HasPaddingMaskInput):
        fail(func, "HasPaddingMaskInput=true is not needed in lstmkit (it never pads: each "
                   "sequence attends only to its own time steps); leave it false.")
    layer.HasPaddingMaskInput = False
    layer.WeightsInitializer = initializers.check_initializer(
        func, "WeightsInitializer", WeightsInitializer, initializers.WEIGHT_INITIALIZERS)
    layer.BiasInitializer = initializers.check_initializer(
        func, "BiasInitializer", BiasInitializer, initializers.BIAS_INITIALIZERS)
    layer.InputSize = "auto"
    given = {"QueryWeights": QueryWeights, "KeyWeights": KeyWeights,
             "ValueWeights": ValueWeights, "OutputWeights": OutputWeights,
             "QueryBias": QueryBias, "KeyBias": KeyBias, "ValueBias": ValueBias,
             "OutputBias": OutputBias}
    for prop, value in given.items():
        arr = None if value is None else as_float_array(func, prop, value)
        if arr is not None and (arr.ndim not in (1, 2) if prop.endswith("Bias") else arr.ndim != 2):
            fail(func, f"`{prop}` must be a {'vector' if prop.endswith('Bias') else 'matrix'}. "
                       f"Received: {prop} of size {size_text(arr.shape)}.")
        if arr is not None and prop.endswith("Bias"):
            arr = arr.reshape(-1, 1)
        setattr(layer, prop, arr)
    if layer.QueryWeights is not None:
        layer.InputSize = layer.QueryWeights.shape[1]
    if any(v is not None for v in given.values()):
        C = layer.InputSize
        for prop in given:
            arr = getattr(layer, prop)
            if arr is None or C == "auto":
                continue
            want = layer._learnable_shape(prop, C)[0]
            if arr.shape != want:
                fail(func, f"`{prop}` must be {size_text(want)}. Received: "
                           f"{size_text(arr.shape)}.")
    set_factors(func, layer, opts)
    return layer


@name_value_function()
def positionEmbeddingLayer(
    outputSize: int,
    maxPosition: int,
    *name_value: Any,
    Name: str = "",
    Weights: ArrayLike | None = None,
    WeightsInitializer: Initializer = "narrow-normal",
    WeightLearnRateFactor: float = 1.0,
    WeightL2Factor: float = 1.0,
) -> PositionEmbeddingLayer:
    """Learned position embedding, as MATLAB's ``positionEmbeddingLayer`` (R2023b).

    Outputs, at time step t of every sequence, the t-th column of Weights
    (its own time steps: padding never shifts a position); add it to the
    data with :func:`additionLayer`.

    Parameters
    ----------
    outputSize : int
        Channels of each embedding (those of the data it is added to).
    maxPosition : int
        The longest sequence it can embed.
    Weights : array_like, optional
        OutputSize-by-MaxPosition.
    WeightsInitializer : str or callable, default 'narrow-normal'
    WeightLearnRateFactor, WeightL2Factor : float, default 1
    Name : str, default ''

    Returns
    -------
    PositionEmbeddingLayer

    Examples
    --------
    >>> from lstmkit import *
    >>> positionEmbeddingLayer(16, 100).Description
    'Position embedding with output size 16'
    """
    func = "positionEmbeddingLayer"
    opts = dict(locals())
    layer = PositionEmbeddingLayer(check_name(func, Name))
    layer.OutputSize = check_positive_int(func, "outputSize", outputSize)
    layer.MaxPosition = check_positive_int(func, "maxPosition", maxPosition)
    layer.WeightsInitializer = initializers.check_initializer(
        func, "WeightsInitializer", WeightsInitializer, initializers.WEIGHT_INITIALIZERS)
    layer.Weights = None
    if Weights is not None:
        W = as_float_array(func, "Weights", Weights)
        if W is None or W.shape != (layer.OutputSize, layer.MaxPosition):
            fail(func, f"`Weights` must be OutputSize-by-MaxPosition ({layer.OutputSize}-by-"
                       f"{layer.MaxPosition}). Received: size {size_text(np.shape(Weights))}.")
        layer.Weights = W
    layer.InputSize = "auto"
    set_factors(func, layer, opts)
    return layer
