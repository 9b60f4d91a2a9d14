"""Custom layers and custom output layers, as MATLAB porters write them."""

import numpy as np
import pytest

from lstmkit import (CustomLayer, CustomRegressionLayer, CustomClassificationLayer,
                     assembleNetwork, classificationLayer, dlnetwork, fullyConnectedLayer,
                     getLearnRateFactor, loadNetwork, lstmLayer, minibatchpredict, predict,
                     regressionLayer, saveNetwork, sequenceInputLayer, setLearnRateFactor,
                     softmaxLayer, trainingOptions, trainnet, trainNetwork)
from netutil import trainnet_gradient_check


class PReLULayer(CustomLayer):
    """MATLAB's documentation example, in Python."""

    LearnableProperties = ("Alpha",)

    def __init__(self, numChannels=None, Name=""):
        super().__init__(Name=Name, Description="PReLU")
        if numChannels is not None:
            self.Alpha = np.full((numChannels, 1), 0.25)

    def initialize(self, numChannels):
        self.Alpha = np.full((numChannels, 1), 0.25)

    def predict(self, X):
        return np.maximum(X, 0) + self.Alpha * np.minimum(0, X)

    def backward(self, X, Z, dLdZ, memory):
        dLdX = np.where(X > 0, 1.0, self.Alpha) * dLdZ
        dLdAlpha = np.sum(np.minimum(0, X) * dLdZ, axis=1, keepdims=True)
        return dLdX, dLdAlpha


class NoBackward(CustomLayer):
    def predict(self, X):
        return 2 * X


class HalfMSE(CustomRegressionLayer):
    """MATLAB's regression loss, written as a custom layer: sum((Y-T).^2)/(2N)."""

    def forwardLoss(self, Y, T):
        return float(np.sum((Y - T) ** 2) / (2 * Y.shape[1]))

    def backwardLoss(self, Y, T):
        return (Y - T) / Y.shape[1]


class MAE(CustomRegressionLayer):
    def forwardLoss(self, Y, T):
        return float(np.sum(np.abs(Y - T)) / Y.shape[1])

    def backwardLoss(self, Y, T):
        return np.sign(Y - T) / Y.shape[1]


class WeightedCE(CustomClassificationLayer):
    def forwardLoss(self, Y, T):
        return float(-np.sum(T * np.log(Y)) / Y.shape[1])

    def backwardLoss(self, Y, T):
        return -T / Y / Y.shape[1]


def test_custom_layer_gradients_flow_through_the_network(rng):
    X = [rng.standard_normal((T, 3)) for T in (4, 6, 3)]
    T = [rng.standard_normal((x.shape[0], 2)) for x in X]
    layers = [sequenceInputLayer(3), lstmLayer(4), PReLULayer(Name="prelu"),
              fullyConnectedLayer(2)]
    trainnet_gradient_check(X, T, layers, "mse")
    net = dlnetwork(layers)                       # initialize() sets Alpha from the input size
    assert net.Learnables.Parameter[3] == "Alpha" and net.Learnables.Value[3].shape == (4, 1)


def test_custom_layer_trains_saves_and_loads(rng, tmp_path):
    X = [rng.standard_normal((3, T)) for T in rng.integers(3, 7, 16)]
    Y = np.array([x.sum() for x in X])[:, None]
    layers = [sequenceInputLayer(3), lstmLayer(6, OutputMode="last"), PReLULayer(6),
              fullyConnectedLayer(1), regressionLayer()]
    net = trainNetwork(X, Y, layers, trainingOptions("adam", MaxEpochs=5, Verbose=False),
                       seed=0)
    alpha = net.Layers[2].Alpha
    assert not np.allclose(alpha, 0.25)           # Alpha was trained
    frozen = setLearnRateFactor(PReLULayer(6), "Alpha", 0)
    assert getLearnRateFactor(frozen, "Alpha") == 0
    net0 = trainNetwork(X, Y, layers[:2] + [frozen] + layers[3:],
                        trainingOptions("adam", MaxEpochs=2, Verbose=False,
                                        L2Regularization=0), seed=0)
    np.testing.assert_array_equal(net0.Layers[2].Alpha, np.full((6, 1), 0.25))
    path = saveNetwork(net, tmp_path / "custom.mat")
    with pytest.raises(ValueError, match=r"CustomLayers=\[PReLULayer\]"):
        loadNetwork(path)
    back = loadNetwork(path, CustomLayers=[PReLULayer])
    np.testing.assert_array_equal(predict(back, X), predict(net, X))


def test_custom_output_layer_defines_the_loss_trained(rng):
    X = [rng.standard_normal((3, T)) for T in rng.integers(3, 7, 12)]
    Y = np.array([[x.mean(), x.std()] for x in X])
    H = 5
    given = dict(InputWeights=rng.standard_normal((4 * H, 3)) * 0.3,
                 RecurrentWeights=rng.standard_normal((4 * H, H)) * 0.3, Bias=np.zeros(4 * H))
    fc = dict(Weights=rng.standard_normal((2, H)), Bias=np.zeros(2))

    def layers(out):
        return [sequenceInputLayer(3), lstmLayer(H, OutputMode="last", **given),
                fullyConnectedLayer(2, **fc), out]

    opts = trainingOptions("sgdm", MaxEpochs=3, MiniBatchSize=12, Verbose=False,
                           L2Regularization=0)
    mae = trainNetwork(X, Y, layers(MAE()), opts, dtype="float64")
    Y0 = predict(assembleNetwork(layers(regressionLayer()), dtype="float64"), X)
    assert mae.TrainingInfo.TrainingLoss[0] == pytest.approx(np.abs(Y0 - Y).sum() / 12, rel=1e-10)
    # MATLAB's half-MSE written as a custom layer trains the same network as regressionLayer
    a = trainNetwork(X, Y, layers(HalfMSE()), opts, dtype="float64")
    b = trainNetwork(X, Y, layers(regressionLayer()), opts, dtype="float64")
    for la, lb in zip(a.Layers[1:3], b.Layers[1:3]):
        for learnable in la.learnables:
            np.testing.assert_allclose(getattr(la, learnable.name), getattr(lb, learnable.name),
                                       rtol=1e-10)
    np.testing.assert_allclose(a.TrainingInfo.TrainingLoss, b.TrainingInfo.TrainingLoss,
                               rtol=1e-10)


def test_custom_classification_layer_is_not_fused_with_softmax(rng):
    X = [rng.standard_normal((3, T)) for T in rng.integers(3, 7, 12)]
    Y = np.array(["a", "b", "c"] * 4)
    layers = [sequenceInputLayer(3), lstmLayer(5, OutputMode="last"), fullyConnectedLayer(3),
              softmaxLayer()]
    opts = trainingOptions("adam", MaxEpochs=3, MiniBatchSize=12, Verbose=False)
    a = trainNetwork(X, Y, layers + [WeightedCE()], opts, seed=0, dtype="float64")
    b = trainNetwork(X, Y, layers + [classificationLayer()], opts, seed=0, dtype="float64")
    np.testing.assert_allclose(a.TrainingInfo.TrainingLoss, b.TrainingInfo.TrainingLoss,
                               rtol=1e-8)
    assert a.Classes.tolist() == ["a", "b", "c"]


def test_custom_layer_errors_before_training(rng):
    X = [rng.standard_normal((T, 3)) for T in (4, 5)]
    layers = [sequenceInputLayer(3), NoBackward(), fullyConnectedLayer(1)]
    net = dlnetwork(layers)
    assert minibatchpredict(net, X).shape == (5, 1, 2)        # prediction works without backward
    trained = trainnet(X, [np.zeros((x.shape[0], 1)) for x in X], layers, "mse",
                       trainingOptions("adam", MaxEpochs=2, Verbose=False))   # derived backward
    assert np.all(np.isfinite(trained.Learnables.Value[0]))
    with pytest.raises(ValueError, match="custom layer 'layer'"):
        dlnetwork([sequenceInputLayer(3), PReLULayer(2)])   # Alpha is 2-by-1, input has 3


class PReLUWithoutBackward(CustomLayer):
    """MATLAB's PReLU example without its backward method: lstmkit derives it."""

    LearnableProperties = ("Alpha",)

    def __init__(self, numChannels, Name=""):
        super().__init__(Name=Name, Description="PReLU")
        self.Alpha = np.full((numChannels, 1), 0.25)

    def predict(self, X):
        return np.maximum(X, 0) + self.Alpha * np.minimum(0, X)


class Unsupported(CustomLayer):
    def predict(self, X):
        return np.cumsum(X, axis=0)


def test_a_custom_layer_without_backward_trains_with_the_derived_gradient(rng):
    """The derived backward equals the hand-written one (float64, same seed and data)."""
    X = [rng.standard_normal((3, int(T))) for T in (4, 6, 5)]
    Y = [rng.standard_normal((1, x.shape[1])) for x in X]

    def train(layer):
        layers = [sequenceInputLayer(3), lstmLayer(3), layer, fullyConnectedLayer(1),
                  regressionLayer()]
        return trainNetwork(X, Y, layers, trainingOptions("adam", MaxEpochs=3, MiniBatchSize=2,
                                                          Verbose=False, Shuffle="never"),
                            dtype="float64", seed=1)
    hand = train(PReLULayer(3, Name="p"))
    derived = train(PReLUWithoutBackward(3, Name="p"))
    for a, b in zip(hand.Layers, derived.Layers):
        for lb in a.learnables:
            np.testing.assert_allclose(getattr(b, lb.name), getattr(a, lb.name), rtol=1e-12,
                                       atol=1e-14)
    with pytest.raises(TypeError, match=r"custom layer 'u' \(Unsupported\).predict, run to "
                                        r"derive its backward: dlgradient: np.cumsum is not "
                                        r"differentiable"):
        train(Unsupported(Name="u"))


class HalfMSEWithoutBackward(CustomRegressionLayer):
    def forwardLoss(self, Y, T):
        return np.sum((Y - T) ** 2) / (2 * Y.shape[1])


def test_a_custom_output_layer_without_backward_loss_derives_it(rng):
    X = [rng.standard_normal((3, int(T))) for T in (4, 6, 5)]
    Y = [rng.standard_normal((1, x.shape[1])) for x in X]

    def train(out):
        layers = [sequenceInputLayer(3), lstmLayer(3), fullyConnectedLayer(1), out]
        return trainNetwork(X, Y, layers, trainingOptions("sgdm", MaxEpochs=2, MiniBatchSize=3,
                                                          Verbose=False, Shuffle="never"),
                            dtype="float64", seed=2)
    hand, derived = train(HalfMSE(Name="o")), train(HalfMSEWithoutBackward(Name="o"))
    for a, b in zip(hand.Layers, derived.Layers):
        for lb in a.learnables:
            np.testing.assert_allclose(getattr(b, lb.name), getattr(a, lb.name), rtol=1e-12,
                                       atol=1e-14)
