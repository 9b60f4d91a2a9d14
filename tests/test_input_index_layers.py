"""featureInputLayer, indexing1dLayer and flattenLayer."""

import numpy as np
import pytest

from gradcheck import assert_gradient_close, numerical_gradient
from lstmkit import (classificationLayer, convolution1dLayer, classify, dlnetwork, featureInputLayer, flattenLayer,
                     fullyConnectedLayer, indexing1dLayer, loadNetwork, lstmLayer,
                     minibatchpredict, reluLayer, saveNetwork, sequenceInputLayer, softmaxLayer,
                     testnet, trainingOptions, trainnet, trainNetwork)
from lstmkit._packing import PackedBatch
from netutil import trainnet_gradient_check


def separable(rng, n=200):
    X = rng.standard_normal((n, 4))
    return X, np.where(X[:, 0] + X[:, 1] > 0, "pos", "neg")


def mlp(norm="none"):
    return [featureInputLayer(4, Normalization=norm), fullyConnectedLayer(8), reluLayer(),
            fullyConnectedLayer(2), softmaxLayer()]


def test_feature_networks_train_with_both_apis(rng, tmp_path):
    X, Y = separable(rng)
    opts = trainingOptions("adam", MaxEpochs=60, MiniBatchSize=20, InitialLearnRate=0.01,
                           Verbose=False)
    series = trainNetwork(X, Y, mlp("zscore") + [classificationLayer()], opts, seed=0)
    assert np.mean(classify(series, X) == Y) > 0.95
    np.testing.assert_allclose(series.Layers[0].Mean.ravel(), X.mean(axis=0))
    dl = trainnet(X, Y, mlp(), "crossentropy", opts, seed=0)
    assert testnet(dl, X, Y, "accuracy") > 95
    # features may come C-by-N with InputDataFormats='CB'
    np.testing.assert_array_equal(minibatchpredict(dl, X[:5]),
                                  minibatchpredict(dl, X[:5].T, InputDataFormats="CB"))
    back = loadNetwork(saveNetwork(dl, tmp_path / "mlp.mat"))
    np.testing.assert_array_equal(minibatchpredict(back, X), minibatchpredict(dl, X))


def test_feature_gradients_and_errors(rng):
    X, Y = separable(rng, 12)
    trainnet_gradient_check(X, Y, mlp(), "crossentropy")
    with pytest.raises(ValueError, match="expects 4 features. It looks transposed"):
        trainnet(X.T, Y, mlp(), "crossentropy", trainingOptions("adam", Verbose=False))
    with pytest.raises(ValueError, match="slides over time steps"):
        dlnetwork([featureInputLayer(4), convolution1dLayer(2, 3)])
    with pytest.raises(ValueError, match="featureInputLayer: `numFeatures`"):
        featureInputLayer(0)


@pytest.mark.parametrize("index", ["first", "last"])
def test_indexing_takes_each_sequences_own_step(rng, index):
    layer = indexing1dLayer(index)
    seqs = [rng.standard_normal((T, 3)) for T in (5, 2, 7)]
    batch = PackedBatch([s.shape[0] for s in seqs])
    x = batch.pack([s.T for s in seqs], np.float64)
    y, cache, _ = layer._forward(x, batch, None, True, np.dtype(np.float64))
    expected = [s[0] if index == "first" else s[-1] for s in seqs]
    np.testing.assert_array_equal(batch.to_caller_order(y), np.array(expected))
    w = rng.standard_normal(y.shape)
    dx = layer._backward(w, cache, {}, True)
    numeric = numerical_gradient(lambda: float(np.sum(w * layer._forward(
        x, batch, None, False, np.dtype(np.float64))[0])), x)
    assert_gradient_close(dx, numeric)
    # sequence-to-label after a layer that keeps time: the same as OutputMode 'last'
    a = dlnetwork([sequenceInputLayer(3), lstmLayer(4), indexing1dLayer("last"),
                   fullyConnectedLayer(2)])
    b = dlnetwork([sequenceInputLayer(3), lstmLayer(4, OutputMode="last"),
                   fullyConnectedLayer(2)])
    for name in ("InputWeights", "RecurrentWeights", "Bias"):
        setattr(b.Layers[1], name, getattr(a.Layers[1], name))
    b.Layers[2].Weights, b.Layers[2].Bias = a.Layers[3].Weights, a.Layers[3].Bias
    np.testing.assert_allclose(minibatchpredict(a, seqs), minibatchpredict(b, seqs), rtol=1e-6)


def test_flatten_passes_vector_data_on(rng):
    net = dlnetwork([sequenceInputLayer(3), flattenLayer(), lstmLayer(4, OutputMode="last"),
                     fullyConnectedLayer(2)])
    X = [rng.standard_normal((T, 3)) for T in (3, 6)]
    assert minibatchpredict(net, X).shape == (2, 2)
    with pytest.raises(ValueError, match="indexing1dLayer: `index`"):
        indexing1dLayer("middle")
