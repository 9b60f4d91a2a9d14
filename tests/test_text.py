"""wordEmbeddingLayer, wordEncoding, doc2sequence, word2ind, ind2word."""

import numpy as np
import pytest

from gradcheck import assert_gradient_close, numerical_gradient
from lstmkit import (dlnetwork, doc2sequence, fullyConnectedLayer, ind2word, lstmLayer,
                     minibatchpredict, sequenceInputLayer, word2ind, wordEmbeddingLayer,
                     wordEncoding)
from netutil import trainnet_gradient_check

DOCS = [["the", "cat", "sat"], ["the", "dog", "ran", "the"], ["a", "cat"]]


def test_word_encoding_orders_and_limits():
    enc = wordEncoding(DOCS)
    assert enc.Vocabulary.tolist() == ["the", "cat", "sat", "dog", "ran", "a"]   # frequency
    first = wordEncoding(DOCS, Order="first-occurrence")
    assert first.Vocabulary.tolist() == ["the", "cat", "sat", "dog", "ran", "a"]
    assert wordEncoding(DOCS, MaxNumWords=2).Vocabulary.tolist() == ["the", "cat"]
    assert word2ind(enc, ["cat", "zebra"]).tolist()[0] == 2.0
    assert np.isnan(word2ind(enc, ["zebra"])[0])
    assert ind2word(enc, [4]).tolist() == ["dog"]
    with pytest.raises(TypeError, match="list of tokens"):
        wordEncoding(["the cat sat"])
    with pytest.raises(ValueError, match="from 1 to 6"):
        ind2word(enc, [0])


def test_doc2sequence_pads_and_truncates_as_matlab():
    enc = wordEncoding(DOCS)
    left = doc2sequence(enc, DOCS)
    assert [s.tolist()[0] for s in left] == [[0, 1, 2, 3], [1, 4, 5, 1], [0, 0, 6, 2]]
    right = doc2sequence(enc, DOCS, PaddingDirection="right", Length=3, PaddingValue=-1)
    assert [s.tolist()[0] for s in right] == [[1, 2, 3], [1, 4, 5], [6, 2, -1]]
    unknown = doc2sequence(enc, [["cat", "zebra"]], PaddingDirection="none", UnknownWord="nan")
    assert unknown[0].shape == (1, 2) and np.isnan(unknown[0][0, 1])
    assert doc2sequence(enc, [["cat", "zebra"]], PaddingDirection="none")[0].tolist() == [[2.0]]


def test_embedding_forward_backward_and_out_of_vocabulary(rng):
    W = rng.standard_normal((3, 5))
    layer = wordEmbeddingLayer(3, 5, Weights=W)
    x = np.array([[1.0], [5.0], [0.0], [7.0], [2.0]])          # 0 and 7: out of vocabulary
    y, cache, _ = layer._forward(x, None, None, True, np.dtype(np.float64))
    np.testing.assert_array_equal(y, W[:, [0, 4, 4, 4, 1]].T)
    w = rng.standard_normal(y.shape)
    grads = {"Weights": np.zeros((3, 5))}
    layer._backward(w, cache, grads, False)
    numeric = numerical_gradient(lambda: float(np.sum(w * layer._forward(
        x, None, None, False, np.dtype(np.float64))[0])), layer.Weights)
    assert_gradient_close(grads["Weights"], numeric)
    strict = wordEmbeddingLayer(3, 5, Weights=W, OOVMode="error")
    with pytest.raises(ValueError, match="outside 1..5"):
        strict._forward(x, None, None, False, np.dtype(np.float64))


def test_text_network_gradients_and_padding(rng):
    enc = wordEncoding(DOCS)
    X = doc2sequence(enc, DOCS, PaddingDirection="none")
    layers = [sequenceInputLayer(1), wordEmbeddingLayer(4, enc.NumWords),
              lstmLayer(3, OutputMode="last"), fullyConnectedLayer(2)]
    net = dlnetwork(layers)
    alone = [minibatchpredict(net, [x], InputDataFormats="CTB")[0] for x in X]
    np.testing.assert_allclose(minibatchpredict(net, X, InputDataFormats="CTB"), alone,
                               rtol=1e-5, atol=1e-8)
    trainnet_gradient_check(X, rng.standard_normal((3, 2)), layers, "mse",
                            InputDataFormats="CTB")
    with pytest.raises(ValueError, match="takes one channel of word indices"):
        dlnetwork([sequenceInputLayer(2), wordEmbeddingLayer(4, 10)])
    assert wordEmbeddingLayer(4, 10).WeightsInitializer == "narrow-normal"


def test_non_integer_word_indices_are_an_error():
    net = dlnetwork([sequenceInputLayer(1), wordEmbeddingLayer(2, 3)])
    with pytest.raises(ValueError, match="word indices are whole numbers"):
        minibatchpredict(net, [np.array([[1.5], [2.0]])])
