"""Hostile option values, layer arguments and weights: every one a clear error, before any work."""

import numpy as np
import pytest

from helpers import clear_error
from lstmkit import (assembleNetwork, bilstmLayer, convolution1dLayer, dropoutLayer,
                     fullyConnectedLayer, gruLayer, lstmLayer, regressionLayer,
                     selfAttentionLayer, sequenceInputLayer, trainingOptions, wordEmbeddingLayer)

NAN, INF = float("nan"), float("inf")

# option -> values that are not valid for it
BAD_OPTIONS = {
    "InitialLearnRate": [NAN, -1, 0, INF, "0.01", True, None, [0.1, 0.2]],
    "MaxEpochs": [0, -3, 1.5, NAN, "10", True, None, INF],
    "MiniBatchSize": [0, -1, 2.5, NAN, "27", False, None],
    "L2Regularization": [-1e-4, NAN, INF, "x", None],
    "GradientThreshold": [0, -1, NAN, "1"],
    "Momentum": [-0.1, 1.0, 1.5, NAN, "0.9"],
    "ValidationFrequency": [0, -1, 2.5, NAN],
    "ValidationPatience": [0, -1, 2.5, NAN, "5"],
    "VerboseFrequency": [0, -1, 1.5],
    "LearnRateDropFactor": [-0.1, 1.5, NAN],
    "LearnRateDropPeriod": [0, -2, 1.5],
    "SequenceLength": [0, -5, 2.5, "long", NAN],
    "SequencePaddingDirection": ["up", 1, None],
    "Shuffle": ["sometimes", 1, None],
    "Verbose": ["yes", 2, None],
    "Plots": ["all", 1],
    "ExecutionEnvironment": ["tpu", 1],
    "GradientThresholdMethod": ["l3norm", 1],
    "OutputNetwork": ["best", 2],
    "CheckpointFrequency": [0, -1, 1.5],
    "CheckpointFrequencyUnit": ["hour"],
    "CheckpointPath": [1, "/definitely/not/a/folder"],
    "OutputFcn": [1, "stop"],
    "ValidationData": [1, [1]],
    "ResetInputNormalization": ["yes", 3],
}
OPTION_CASES = [(name, value) for name, values in BAD_OPTIONS.items() for value in values]


@pytest.mark.parametrize("name, value", OPTION_CASES,
                         ids=[f"{n}={v!r}" for n, v in OPTION_CASES])
def test_bad_training_option(name, value):
    solver = "sgdm" if name == "Momentum" else "adam"
    clear_error(lambda: trainingOptions(solver, **{name: value}), "trainingOptions", name)


def test_solver_specific_options():
    clear_error(lambda: trainingOptions("adam", Momentum=0.9), "trainingOptions", "Momentum")
    clear_error(lambda: trainingOptions("adamw"), "trainingOptions", "solver|adam")
    clear_error(lambda: trainingOptions("adam", GradientDecayFactor=1.0), "trainingOptions",
                "GradientDecayFactor")
    clear_error(lambda: trainingOptions("adam", InitalLearnRate=0.1), "trainingOptions",
                "InitialLearnRate")


BAD_LAYERS = [
    ("lstmLayer", lambda: lstmLayer(0), "NumHiddenUnits|numHiddenUnits"),
    ("lstmLayer", lambda: lstmLayer(-3), "numHiddenUnits"),
    ("lstmLayer", lambda: lstmLayer(2.5), "numHiddenUnits"),
    ("lstmLayer", lambda: lstmLayer(True), "numHiddenUnits"),
    ("lstmLayer", lambda: lstmLayer("10"), "numHiddenUnits"),
    ("lstmLayer", lambda: lstmLayer(NAN), "numHiddenUnits"),
    ("lstmLayer", lambda: lstmLayer(None), "numHiddenUnits"),
    ("lstmLayer", lambda: lstmLayer(4, OutputMode="all"), "OutputMode"),
    ("lstmLayer", lambda: lstmLayer(4, StateActivationFunction="relu"),
     "StateActivationFunction"),
    ("lstmLayer", lambda: lstmLayer(4, InputWeights=np.ones((15, 3))), "InputWeights"),
    ("lstmLayer", lambda: lstmLayer(4, Bias=np.ones(3)), "Bias"),
    ("lstmLayer", lambda: lstmLayer(4, InputWeights=np.full((16, 3), NAN)), "finite|NaN"),
    ("lstmLayer", lambda: lstmLayer(4, InputWeights=np.ones((16, 3)) * 1j), "real"),
    ("lstmLayer", lambda: lstmLayer(4, HiddenState=np.ones(3)), "HiddenState"),
    ("lstmLayer", lambda: lstmLayer(4, InputWeightsLearnRateFactor=-1), "LearnRateFactor"),
    ("lstmLayer", lambda: lstmLayer(4, InputWeightsInitializer="magic"), "Initializer"),
    ("lstmLayer", lambda: lstmLayer(4, Name=3), "Name"),
    ("lstmLayer", lambda: lstmLayer(4, Nmae="x"), "Name"),
    ("bilstmLayer", lambda: bilstmLayer(0), "numHiddenUnits"),
    ("gruLayer", lambda: gruLayer(4, ResetGateMode="sometimes"), "ResetGateMode"),
    ("gruLayer", lambda: gruLayer(-1), "numHiddenUnits"),
    ("fullyConnectedLayer", lambda: fullyConnectedLayer(0), "outputSize"),
    ("fullyConnectedLayer", lambda: fullyConnectedLayer(3, Weights=np.ones((2, 4))), "Weights"),
    ("fullyConnectedLayer", lambda: fullyConnectedLayer(3, Bias=[1.0, np.inf, 0]), "finite"),
    ("fullyConnectedLayer", lambda: fullyConnectedLayer(3, Weights="w"), "numeric"),
    ("dropoutLayer", lambda: dropoutLayer(1.0), "probability|Probability"),
    ("dropoutLayer", lambda: dropoutLayer(-0.1), "probability|Probability"),
    ("dropoutLayer", lambda: dropoutLayer(NAN), "probability|Probability"),
    ("dropoutLayer", lambda: dropoutLayer("half"), "probability|Probability"),
    ("sequenceInputLayer", lambda: sequenceInputLayer(0), "inputSize"),
    ("sequenceInputLayer", lambda: sequenceInputLayer(3, Normalization="l2"), "Normalization"),
    ("sequenceInputLayer", lambda: sequenceInputLayer(3, Normalization="zscore",
                                                      StandardDeviation=-np.ones(3)),
     "StandardDeviation"),
    ("sequenceInputLayer", lambda: sequenceInputLayer(
        2, Normalization="rescale-zero-one", Min=[1.0, 0.0], Max=[0.0, 1.0]), "Min"),
    ("sequenceInputLayer", lambda: sequenceInputLayer(3, Mean=[NAN, 0, 0]), "finite"),
    ("sequenceInputLayer", lambda: sequenceInputLayer(3, MinLength=0), "MinLength"),
    ("convolution1dLayer", lambda: convolution1dLayer(0, 4), "filterSize"),
    ("convolution1dLayer", lambda: convolution1dLayer(3, 4, Padding="valid"), "Padding"),
    ("convolution1dLayer", lambda: convolution1dLayer(3, 4, Stride=0), "Stride"),
    ("convolution1dLayer", lambda: convolution1dLayer(3, 4, DilationFactor=-1),
     "DilationFactor"),
    ("selfAttentionLayer", lambda: selfAttentionLayer(3, 4), "divide|NumHeads|numHeads"),
    ("selfAttentionLayer", lambda: selfAttentionLayer(2, 4, DropoutProbability=1.0),
     "DropoutProbability"),
    ("wordEmbeddingLayer", lambda: wordEmbeddingLayer(0, 10), "dimension"),
    ("wordEmbeddingLayer", lambda: wordEmbeddingLayer(4, 10, OOVMode="ignore"), "OOVMode"),
]


@pytest.mark.parametrize("func, call, fragment", BAD_LAYERS,
                         ids=[f"{f}-{i}" for i, (f, _, _) in enumerate(BAD_LAYERS)])
def test_bad_layer_arguments(func, call, fragment):
    clear_error(call, func, fragment)


def test_hidden_size_beyond_memory_is_refused_before_allocation(jv, quick):
    from lstmkit import (classificationLayer, dlnetwork, softmaxLayer, trainNetwork)
    X, Y = jv
    big = [sequenceInputLayer(12), lstmLayer(10 ** 6, OutputMode="last"),
           fullyConnectedLayer(9), softmaxLayer(), classificationLayer()]
    clear_error(lambda: trainNetwork(X, Y, big, quick), "trainNetwork", "GiB", exc=MemoryError)
    clear_error(lambda: dlnetwork(big[:-1]), "dlnetwork", "learnable parameters",
                exc=MemoryError)


# weights set after training, through every door
@pytest.mark.parametrize("name, value, fragment", [
    ("Weights", np.full((9, 6), np.nan), "finite"),
    ("Weights", np.full((9, 6), np.inf), "finite"),
    ("Weights", np.ones((3, 3)), "9-by-6"),
    ("Weights", np.ones((9, 6)) * 1j, "real"),
    ("Weights", "weights", "numeric"),
    ("Bias", np.ones(8), "9-by-1"),
    ("Bias", [np.nan] * 9, "finite"),
])
def test_weights_set_after_training(series_net, name, value, fragment):
    from lstmkit import classify
    layer = series_net.Layers[2].copy()
    clear_error(lambda: setattr(layer, name, value), f"FullyConnectedLayer.{name}", fragment)
    assert np.all(np.isfinite(series_net.Layers[2].Weights))
    classify(series_net, [np.ones((12, 4))])          # the network itself is unchanged


@pytest.mark.parametrize("name, value, fragment", [
    ("InputWeights", np.ones((24, 11)), "24-by-12"),
    ("RecurrentWeights", np.full((24, 6), np.nan), "finite"),
    ("Bias", np.ones((24, 2)), "24-by-1"),
    ("HiddenState", np.ones(5), "HiddenState"),
])
def test_recurrent_weights_set_after_training(series_net, name, value, fragment):
    layer = series_net.Layers[1].copy()
    func = "State" if name == "HiddenState" else f"LSTMLayer.{name}"
    clear_error(lambda: setattr(layer, name, value), func, fragment)


@pytest.mark.parametrize("weights, bias, fragment", [
    (np.ones((1, 3)), [np.nan], "finite"),
    (np.ones((1, 2)), [0.0], "size|input"),
    (np.ones((2, 3)) * (1 + 1j), [0.0, 0.0], "real"),
])
def test_assemble_network_refuses_bad_weights(weights, bias, fragment):
    def call():
        assembleNetwork([sequenceInputLayer(3), fullyConnectedLayer(
            np.shape(weights)[0], Weights=weights, Bias=bias), regressionLayer()])
    msg_func = "fullyConnectedLayer" if fragment in ("finite", "real") else "assembleNetwork"
    clear_error(call, msg_func, fragment)


@pytest.mark.parametrize("dtype", ["foo", "float16", "int32", None, 5, True, np.int64, "f4x"])
def test_precision_must_be_single_or_double(dtype):
    clear_error(lambda: assembleNetwork([sequenceInputLayer(2), fullyConnectedLayer(
        1, Weights=[[1.0, 2.0]], Bias=[0.0]), regressionLayer()], dtype=dtype),
        "assembleNetwork", "dtype")


@pytest.mark.parametrize("door", ["factory", "property"])
def test_weights_beyond_single_precision(door):
    if door == "factory":
        clear_error(lambda: fullyConnectedLayer(1, Weights=[[1e39, 2.0]], Bias=[0.0]),
                    "fullyConnectedLayer", "single precision")
    else:
        layer = fullyConnectedLayer(1, Weights=[[1.0, 2.0]], Bias=[0.0])
        clear_error(lambda: setattr(layer, "Weights", np.array([[1e39, 2.0]])),
                    "FullyConnectedLayer.Weights", "single precision")


def test_zscore_statistics_of_huge_values_are_not_zeroed(jv):
    from lstmkit import predict, trainNetwork
    from helpers import classifier_layers
    X, Y = jv
    big = [x * 1e200 for x in X]
    layers = classifier_layers()
    layers[0] = sequenceInputLayer(12, Normalization="zscore")
    opts = trainingOptions("adam", MaxEpochs=1, MiniBatchSize=10, Verbose=False)
    net = trainNetwork(big, Y, layers, opts, seed=0)
    std = net.Layers[0].StandardDeviation
    assert np.all(np.isfinite(std)) and np.all(std > 1e190)
    ref = trainNetwork(X, Y, layers, opts, seed=0)
    np.testing.assert_allclose(std / 1e200, ref.Layers[0].StandardDeviation, rtol=1e-10)
    np.testing.assert_allclose(predict(net, big), predict(ref, X), rtol=1e-4, atol=1e-5)
