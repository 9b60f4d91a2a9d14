"""Activation and merge layers: kernels against float64 numpy references and central
differences, MATLAB's defaults, branching networks, padding invariance and errors."""

import numpy as np
import pytest
from scipy.special import erf

from gradcheck import assert_gradient_close, numerical_gradient
from lstmkit import (additionLayer, addLayers, clippedReluLayer, concatenationLayer,
                     connectLayers, dlnetwork, eluLayer, fullyConnectedLayer, geluLayer,
                     initialize, leakyReluLayer, loadNetwork, lstmLayer, minibatchpredict,
                     multiplicationLayer, regressionLayer, reluLayer, saveNetwork,
                     sequenceInputLayer, sigmoidLayer, softmaxLayer, swishLayer, tanhLayer,
                     trainingOptions, trainnet, trainNetwork, classificationLayer, predict,
                     analyzeNetwork)
from lstmkit.kernels import elementwise as K
from netutil import trainnet_gradient_check

REFERENCES = {
    "relu": (reluLayer(), lambda x: np.maximum(x, 0)),
    "leaky": (leakyReluLayer(0.2), lambda x: np.where(x >= 0, x, 0.2 * x)),
    "clipped": (clippedReluLayer(1.5), lambda x: np.clip(x, 0, 1.5)),
    "elu": (eluLayer(0.7), lambda x: np.where(x >= 0, x, 0.7 * np.expm1(x))),
    "tanh": (tanhLayer(), np.tanh),
    "sigmoid": (sigmoidLayer(), lambda x: 1 / (1 + np.exp(-x))),
    "swish": (swishLayer(), lambda x: x / (1 + np.exp(-x))),
    "gelu": (geluLayer(), lambda x: 0.5 * x * (1 + erf(x / np.sqrt(2)))),
    "gelu-tanh": (geluLayer(Approximation="tanh"), lambda x: 0.5 * x * (1 + np.tanh(
        np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))),
}


def away_from_kinks(rng, shape):
    x = rng.standard_normal(shape) * 2
    for kink in (0.0, 1.5):
        near = np.abs(x - kink) < 1e-3
        x[near] += 0.01
    return x


@pytest.mark.parametrize("name", list(REFERENCES))
def test_activation_forward_matches_numpy_reference(rng, name):
    layer, ref = REFERENCES[name]
    x = away_from_kinks(rng, (7, 5))
    x[0, :3] = [-40.0, 40.0, 0.0]                  # saturated and exactly zero
    y, _, _ = layer._forward(x, None, None, False, np.dtype(np.float64))
    np.testing.assert_allclose(y, ref(x), rtol=1e-13, atol=1e-15)
    y32, _, _ = layer._forward(x.astype(np.float32), None, None, False, np.dtype(np.float32))
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32, ref(x), rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize("name", list(REFERENCES))
@pytest.mark.parametrize("shape", [(6, 4), (1, 1)])
def test_activation_gradient_matches_central_differences(rng, name, shape):
    layer, _ = REFERENCES[name]
    x = away_from_kinks(rng, shape)
    w = rng.standard_normal(shape)

    def loss():
        return float(np.sum(w * layer._forward(x, None, None, False, np.dtype(np.float64))[0]))

    _, cache, _ = layer._forward(x, None, None, True, np.dtype(np.float64))
    dx = layer._backward(w.copy(), cache, {}, True)
    assert_gradient_close(dx, numerical_gradient(loss, x), rtol=1e-6, atol=1e-8, name=name)


def test_activation_factories_follow_matlab():
    assert leakyReluLayer().Scale == 0.01 and eluLayer().Alpha == 1.0
    assert geluLayer().Approximation == "none"
    assert reluLayer().Name == "" and reluLayer(Name="r").Name == "r"
    assert clippedReluLayer(6, "Name", "c").Name == "c"                 # MATLAB's pairs
    assert leakyReluLayer(0.3).Description == "Leaky ReLU with scale 0.3"
    with pytest.raises(ValueError, match="clippedReluLayer: `ceiling`"):
        clippedReluLayer(0)
    with pytest.raises(ValueError, match="geluLayer: `Approximation`"):
        geluLayer(Approximation="erf")
    with pytest.raises(TypeError, match="Did you mean"):
        reluLayer(Nmae="x")


def test_relu_in_a_trainnetwork_chain_and_save_load(tmp_path, rng):
    # the real scripts' form: an LSTM, a ReLU, fully connected layers, classificationLayer
    X = [rng.standard_normal((3, T)) for T in rng.integers(4, 9, 24)]
    Y = np.array(["a", "b"] * 12)
    layers = [sequenceInputLayer(3), lstmLayer(6, OutputMode="last"), reluLayer(),
              fullyConnectedLayer(5), leakyReluLayer(), fullyConnectedLayer(2), softmaxLayer(),
              classificationLayer()]
    net = trainNetwork(X, Y, layers, trainingOptions("adam", MaxEpochs=2, Verbose=False), seed=0)
    back = loadNetwork(saveNetwork(net, tmp_path / "net.mat"))
    np.testing.assert_array_equal(predict(net, X), predict(back, X))
    assert [type(layer).__name__ for layer in back.Layers][2] == "ReLULayer"


def branching_net():
    """in -> fc1 -> relu -> add/in1; in -> fc2 -> tanh -> add/in2; add -> concat with in's
    lstm -> out."""
    net = dlnetwork([sequenceInputLayer(3, Name="in"), fullyConnectedLayer(4, Name="fc1"),
                     reluLayer(Name="relu"), additionLayer(2, Name="add"),
                     concatenationLayer(1, 2, Name="cat"), fullyConnectedLayer(2, Name="out")],
                    Initialize=False)
    net = addLayers(net, [fullyConnectedLayer(4, Name="fc2"), tanhLayer(Name="t")])
    net = addLayers(net, lstmLayer(3, Name="lstm"))
    for s, d in (("in", "fc2"), ("t", "add/in2"), ("in", "lstm"), ("lstm", "cat/in2")):
        net = connectLayers(net, s, d)
    return initialize(net)


def test_branching_network_equals_its_branches_computed_apart(rng):
    net = branching_net()
    X = [rng.standard_normal((T, 3)) for T in (5, 2, 8)]
    Y = minibatchpredict(net, X, UniformOutput=False)
    L = {layer.Name: layer for layer in net.Layers}
    for x, y in zip(X, Y):
        a = np.maximum(x @ L["fc1"].Weights.T + L["fc1"].Bias.T, 0)
        b = np.tanh(x @ L["fc2"].Weights.T + L["fc2"].Bias.T)
        h = minibatchpredict(net, [x], Outputs="lstm", UniformOutput=False)[0]
        ref = np.concatenate([a + b, h], axis=1) @ L["out"].Weights.T + L["out"].Bias.T
        np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)
    # padding never changes a result: each sequence alone gives the same output
    for x, y in zip(X, Y):
        np.testing.assert_allclose(minibatchpredict(net, [x], UniformOutput=False)[0], y,
                                   rtol=1e-6, atol=1e-6)
    report = analyzeNetwork(net, Print=False)
    assert report.NumErrors == 0 and len(report.LayerInfo) == 9


def test_gradients_through_merges_match_central_differences(rng):
    X = [rng.standard_normal((T, 3)) for T in (4, 6, 2)]
    T = [rng.standard_normal((x.shape[0], 2)) for x in X]
    trainnet_gradient_check(X, T, branching_net(), "mse", samples=60)
    net = dlnetwork([sequenceInputLayer(3, Name="in"), fullyConnectedLayer(2, Name="a"),
                     sigmoidLayer(), multiplicationLayer(2, Name="mul"), swishLayer(),
                     fullyConnectedLayer(2, Name="out")], Initialize=False)
    net = addLayers(net, [fullyConnectedLayer(2, Name="b"), eluLayer(Name="e")])
    net = initialize(connectLayers(connectLayers(net, "in", "b"), "e", "mul/in2"))
    trainnet_gradient_check(X, T, net, "huber", samples=40)


def test_merge_errors_name_the_layer():
    with pytest.raises(ValueError, match="concatenationLayer: lstmkit concatenates along the "
                                         "channels"):
        concatenationLayer(3, 2)
    with pytest.raises(ValueError, match="numInputs"):
        additionLayer(0)
    with pytest.raises(ValueError, match="at least 2"):
        additionLayer(1)
    net = dlnetwork([sequenceInputLayer(3, Name="in"), fullyConnectedLayer(4, Name="fc1"),
                     additionLayer(2, Name="add")], Initialize=False)
    with pytest.raises(ValueError, match=r"unconnected input \(add, input 2\)"):
        initialize(net)
    wide = connectLayers(addLayers(net, fullyConnectedLayer(5, Name="fc2")), "in", "fc2")
    wide = connectLayers(wide, "fc2", "add/in2")
    with pytest.raises(ValueError, match=r"layer 'add' \(Addition\) needs inputs of the same "
                                         r"size; received in1: 4, in2: 5"):
        initialize(wide)
    mixed = dlnetwork([sequenceInputLayer(3, Name="in"), lstmLayer(4, OutputMode="last"),
                       additionLayer(2, Name="add")], Initialize=False)
    mixed = connectLayers(addLayers(mixed, fullyConnectedLayer(4, Name="fc")), "in", "fc")
    mixed = connectLayers(mixed, "fc", "add/in2")
    with pytest.raises(ValueError, match="merges a sequence with one vector per observation"):
        initialize(mixed)


def test_binary_crossentropy_with_a_sigmoid_output(rng):
    X = [rng.standard_normal((T, 3)) for T in (4, 6, 5, 3)]
    T = [rng.integers(0, 2, (x.shape[0], 2)).astype(float) for x in X]
    trainnet_gradient_check(X, T, [sequenceInputLayer(3), lstmLayer(4), fullyConnectedLayer(2),
                                   sigmoidLayer()], "binary-crossentropy")
    with pytest.raises(ValueError, match="needs probabilities"):
        trainnet(X, T, [sequenceInputLayer(3), lstmLayer(4), fullyConnectedLayer(2),
                        reluLayer()], "binary-crossentropy",
                 trainingOptions("adam", Verbose=False))


def test_kernel_codes_are_distinct():
    codes = [K.RELU, K.LEAKY_RELU, K.CLIPPED_RELU, K.ELU, K.TANH, K.SIGMOID, K.SWISH,
             K.GELU_ERF, K.GELU_TANH]
    assert len(set(codes)) == len(codes)


def test_regression_chain_with_activations_trains(rng):
    X = [rng.standard_normal((2, T)) for T in rng.integers(3, 7, 16)]
    Y = np.array([x.sum() for x in X])[:, None]
    net = trainNetwork(X, Y, [sequenceInputLayer(2), lstmLayer(8, OutputMode="last"),
                              geluLayer(), fullyConnectedLayer(1), regressionLayer()],
                       trainingOptions("adam", MaxEpochs=20, Verbose=False), seed=0)
    assert net.TrainingInfo.TrainingLoss[-1] < net.TrainingInfo.TrainingLoss[0]
