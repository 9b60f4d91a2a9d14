"""wordEmbeddingLayer: word indices to embedding vectors, for text classifiers.

Its input is a sequence of word indices (one channel: ``sequenceInputLayer(1)``),
as :func:`lstmkit.doc2sequence` makes them: 1 to NumWords for words of the
vocabulary.  Any other value (0, the padding of doc2sequence, or a word
outside the vocabulary) takes the last embedding vector with OOVMode
'map-to-last' (MATLAB's default) and is an error with 'error'.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from .._typing import ArrayLike, Initializer
from .._validation import (as_float_array, check_choice, check_name, check_positive_int, fail,
                           name_value_function, size_text)
from ..kernels.embedding import embedding_backward, embedding_forward
from . import initializers
from .base import Layer, Learnable, kernel_array, set_factors


class WordEmbeddingLayer(Layer):
    """Word embedding layer (create it with :func:`wordEmbeddingLayer`)."""

    type_name = "Word Embedding Layer"
    default_name = "word-embedding"
    factory = "wordEmbeddingLayer"
    learnables = (Learnable("Weights", "WeightsInitializer", "WeightLearnRateFactor",
                            "WeightL2Factor"),)

    @property
    def Description(self):
        return f"Word embedding layer with {self.Dimension} dimensions and {self.NumWords} " \
               f"unique words"

    def _display_properties(self):
        return ["Name", "Dimension", "NumWords", "OOVMode", "Weights", "WeightsInitializer",
                "WeightLearnRateFactor", "WeightL2Factor"]

    def _output_size(self, input_size):
        return self.Dimension

    def _check_input(self, func, input_size, input_is_sequence):
        if input_size != 1:
            fail(func, f"layer '{self.Name}' ({self.type_name}) takes one channel of word "
                       f"indices (sequenceInputLayer(1)); it receives {input_size} channels.")

    def _initialize(self, input_size, rng):
        super()._initialize(input_size, rng)
        self.InputSize = 1

    def _learnable_shape(self, name, input_size):
        return (self.Dimension, self.NumWords), self.NumWords, self.Dimension

    def _indices(self, x):
        values = x[:, 0]
        whole = np.isnan(values) | (values == np.rint(values))
        if not np.all(whole):
            fail("wordEmbeddingLayer", f"layer '{self.Name}' received index "
                                       f"{values[~whole][0]:g}: word indices are whole numbers "
                                       f"(1..{self.NumWords}; 0 and others take the "
                                       f"out-of-vocabulary vector). Is the input normalized?")
        index = np.where(np.isnan(values), 0, np.rint(values)).astype(np.int64) - 1
        bad = (index < 0) | (index >= self.NumWords)
        if np.any(bad):
            if self.OOVMode == "error":
                fail("wordEmbeddingLayer", f"layer '{self.Name}' received index "
                                           f"{values[bad][0]:g}, outside 1..{self.NumWords} "
                                           f"(OOVMode='error').")
            index[bad] = self.NumWords - 1
        return index

    def _forward(self, x, batch, state, training, dtype):
        index = self._indices(x)
        y = np.empty((x.shape[0], self.Dimension), dtype)
        embedding_forward(index, kernel_array(self.Weights, dtype), y)
        return y, ((index, x.shape) if training else None), None

    def _backward(self, dy, cache, grads, need_dx):
        index, shape = cache
        embedding_backward(index, np.ascontiguousarray(dy), grads["Weights"])
        return np.zeros(shape, dy.dtype) if need_dx else None


@name_value_function()
def wordEmbeddingLayer(
    dimension: int,
    numWords: int,
    *name_value: Any,
    Name: str = "",
    OOVMode: Literal["map-to-last", "error"] = "map-to-last",
    Weights: ArrayLike | None = None,
    WeightsInitializer: Initializer = "narrow-normal",
    WeightLearnRateFactor: float = 1.0,
    WeightL2Factor: float = 1.0,
) -> WordEmbeddingLayer:
    """Word embedding layer, as MATLAB's ``wordEmbeddingLayer`` (Text Analytics Toolbox).

    Parameters
    ----------
    dimension : int
        Length of each embedding vector.
    numWords : int
        Number of words (columns of Weights); ``enc.NumWords`` of a
        :func:`wordEncoding`, plus one for out-of-vocabulary words if wanted.
    OOVMode : {'map-to-last', 'error'}, default 'map-to-last'
        What an index outside 1..numWords (padding, unknown words) gets: the
        last embedding vector, or an error.
    Weights : array_like, optional
        Dimension-by-NumWords embedding vectors (pretrained ones, for
        example).
    WeightsInitializer : str or callable, default 'narrow-normal'
    WeightLearnRateFactor, WeightL2Factor : float, default 1
    Name : str, default ''

    Returns
    -------
    WordEmbeddingLayer

    Examples
    --------
    >>> from lstmkit import *
    >>> layers = [sequenceInputLayer(1), wordEmbeddingLayer(50, 1000),
    ...           lstmLayer(80, OutputMode="last"), fullyConnectedLayer(3), softmaxLayer()]
    >>> dlnetwork(layers).Layers[1].Weights.shape
    (50, 1000)
    """
    func = "wordEmbeddingLayer"
    opts = dict(locals())
    layer = WordEmbeddingLayer(check_name(func, Name))
    layer.Dimension = check_positive_int(func, "dimension", dimension)
    layer.NumWords = check_positive_int(func, "numWords", numWords)
    layer.OOVMode = check_choice(func, "OOVMode", OOVMode, ("map-to-last", "error"))
    layer.WeightsInitializer = initializers.check_initializer(
        func, "WeightsInitializer", WeightsInitializer, initializers.WEIGHT_INITIALIZERS)
    layer.Weights = None
    if Weights is not None:
        W = as_float_array(func, "Weights", Weights)
        if W is None or W.shape != (layer.Dimension, layer.NumWords):
            fail(func, f"`Weights` must be Dimension-by-NumWords ({layer.Dimension}-by-"
                       f"{layer.NumWords}). Received: size {size_text(np.shape(Weights))}.")
        layer.Weights = W
    layer.InputSize = "auto"
    set_factors(func, layer, opts)
    return layer
