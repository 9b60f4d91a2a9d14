"""exportONNXNetwork of the layers beside the recurrent ones, checked in ONNX Runtime on
variable-length batches (the sequence_lengths input keeps padding out of every result)."""

import numpy as np
import pytest

from lstmkit import (additionLayer, addLayers, batchNormalizationLayer, clippedReluLayer,
                     concatenationLayer, connectLayers, convolution1dLayer, dlnetwork, eluLayer,
                     exportONNXNetwork, featureInputLayer, fullyConnectedLayer, geluLayer,
                     globalAveragePooling1dLayer, globalMaxPooling1dLayer, initialize,
                     layerNormalizationLayer, leakyReluLayer, lstmLayer, maxPooling1dLayer,
                     minibatchpredict, multiplicationLayer, reluLayer, sequenceInputLayer,
                     sigmoidLayer, softmaxLayer, swishLayer, tanhLayer)

ort = pytest.importorskip("onnxruntime")


def run_onnx(path, X):
    T = max(x.shape[0] for x in X)
    padded = np.zeros((T, len(X), X[0].shape[1]), np.float32)
    for n, x in enumerate(X):
        padded[:x.shape[0], n] = x
    lengths = np.array([x.shape[0] for x in X], np.int32)
    return ort.InferenceSession(path).run(None, {"input": padded,
                                                 "sequence_lengths": lengths})[0]


@pytest.mark.parametrize("opset", [17, 18])
def test_convolution_block_with_normalizations(rng, tmp_path, opset):
    layers = [sequenceInputLayer(3), convolution1dLayer(3, 8, Padding="causal"), reluLayer(),
              layerNormalizationLayer(), convolution1dLayer(3, 6, Padding="same",
                                                            DilationFactor=2), geluLayer(),
              batchNormalizationLayer(TrainedMean=rng.standard_normal(6),
                                      TrainedVariance=rng.uniform(0.5, 2, 6)),
              globalAveragePooling1dLayer(), fullyConnectedLayer(4), softmaxLayer()]
    net = dlnetwork(layers)
    X = [rng.standard_normal((T, 3)).astype(np.float32) for T in (7, 4, 9, 1)]
    path = exportONNXNetwork(net, str(tmp_path / "conv.onnx"), OpsetVersion=opset)
    np.testing.assert_allclose(run_onnx(path, X), minibatchpredict(net, X), atol=1e-5)


def test_every_activation_and_global_max_pooling(rng, tmp_path):
    acts = [reluLayer(), leakyReluLayer(0.2), clippedReluLayer(0.8), eluLayer(0.5), tanhLayer(),
            sigmoidLayer(), swishLayer(), geluLayer(), geluLayer(Approximation="tanh")]
    layers = [sequenceInputLayer(3), fullyConnectedLayer(5)]
    for act in acts:
        layers += [act, fullyConnectedLayer(5)]
    net = dlnetwork(layers + [globalMaxPooling1dLayer(), fullyConnectedLayer(2)])
    X = [rng.standard_normal((T, 3)).astype(np.float32) for T in (5, 2, 6)]
    path = exportONNXNetwork(net, str(tmp_path / "acts.onnx"))
    np.testing.assert_allclose(run_onnx(path, X), minibatchpredict(net, X), atol=1e-5)


def test_branching_network_exports(rng, tmp_path):
    net = dlnetwork([sequenceInputLayer(3, Name="in"), lstmLayer(4, Name="lstm"),
                     additionLayer(2, Name="add"), multiplicationLayer(2, Name="mul"),
                     concatenationLayer(1, 2, Name="cat"), fullyConnectedLayer(2)],
                    Initialize=False)
    net = addLayers(net, fullyConnectedLayer(4, Name="skip"))
    for s, d in (("in", "skip"), ("skip", "add/in2"), ("lstm", "mul/in2"), ("in", "cat/in2")):
        net = connectLayers(net, s, d)
    net = initialize(net)
    X = [rng.standard_normal((T, 3)).astype(np.float32) for T in (5, 3)]
    path = exportONNXNetwork(net, str(tmp_path / "dag.onnx"))
    out = run_onnx(path, X)
    for n, (x, y) in enumerate(zip(X, minibatchpredict(net, X, UniformOutput=False))):
        np.testing.assert_allclose(out[:x.shape[0], n], y, atol=1e-5)


def test_feature_network_and_errors(rng, tmp_path):
    net = dlnetwork([featureInputLayer(4), fullyConnectedLayer(6), reluLayer(),
                     batchNormalizationLayer(), fullyConnectedLayer(2), softmaxLayer()])
    X = rng.standard_normal((5, 4)).astype(np.float32)
    path = exportONNXNetwork(net, str(tmp_path / "mlp.onnx"))
    out = ort.InferenceSession(path).run(None, {"input": X})[0]
    np.testing.assert_allclose(out, minibatchpredict(net, X), atol=1e-5)
    with pytest.raises(ValueError, match="cannot be exported to ONNX by lstmkit yet"):
        exportONNXNetwork(dlnetwork([sequenceInputLayer(3), maxPooling1dLayer(2)]),
                          str(tmp_path / "x.onnx"))
    with pytest.raises(ValueError, match="OpsetVersion 17 or later"):
        exportONNXNetwork(dlnetwork([sequenceInputLayer(3), layerNormalizationLayer()]),
                          str(tmp_path / "y.onnx"), OpsetVersion=14)
