"""The whole public surface: calls that do not fit a signature, and values numpy cannot read.

Found by sweeping every public function and layer factory with hostile values
(None, NaN, Inf, 10**30, ragged lists, 0-d and empty arrays, complex arrays,
functions, sets): each case below was a raw numpy/Python error, or an error
that did not name the function, before it was fixed.
"""

import inspect

import numpy as np
import pytest

import lstmkit as L
from helpers import clear_error, unchanged

PUBLIC_FUNCTIONS = sorted(n for n in L.__all__
                          if callable(getattr(L, n)) and not inspect.isclass(getattr(L, n)))


@pytest.mark.parametrize("name", PUBLIC_FUNCTIONS)
def test_an_unknown_keyword_is_a_clear_error_naming_the_function(name):
    # (a function with required arguments may say first that they are missing)
    clear_error(lambda: getattr(L, name)(Bogus=1), name, "'Bogus'|missing .*required argument")


@pytest.mark.parametrize("name, call, hint", [
    ("trainnet", lambda: L.trainnet([], [], [], "mse", None, Seed=0), "Did you mean 'seed'"),
    ("scores2label", lambda: L.scores2label([[1, 2]], ["a", "b"], nargut=2), "nargout"),
    ("trainNetwork", lambda: L.trainNetwork(), "missing a required argument: 'X'"),
    ("read", lambda: L.read(1, 2), "at most 1 positional argument.*received 2"),
    ("japaneseVowelsTrainData", lambda: L.japaneseVowelsTrainData("train"),
     "at most 0 positional"),
])
def test_calls_that_do_not_bind_say_what_was_wrong(name, call, hint):
    clear_error(call, name, hint)


def test_a_type_error_raised_inside_a_function_is_not_rewritten(dl_net):
    # the wrapper only rewords binding errors; the function's own message is kept
    clear_error(lambda: L.resetState("net"), "resetState", "network")


# values numpy cannot turn into an array (ragged lists) or turns into the wrong thing
RAGGED = [[1.0, 2.0], [3.0]]


@pytest.mark.parametrize("factory, kwargs, fragment", [
    (L.lstmLayer, dict(numHiddenUnits=3, InputWeights=RAGGED), "InputWeights"),
    (L.gruLayer, dict(numHiddenUnits=3, Bias=RAGGED), "Bias"),
    (L.fullyConnectedLayer, dict(outputSize=3, WeightL2Factor=RAGGED), "WeightL2Factor"),
    (L.bilstmLayer, dict(numHiddenUnits=3, RecurrentWeightsLearnRateFactor=RAGGED),
     "RecurrentWeightsLearnRateFactor"),
    (L.convolution1dLayer, dict(filterSize=3, numFilters=4, Padding=RAGGED), "Padding"),
    (L.averagePooling1dLayer, dict(poolSize=2, Padding=RAGGED), "Padding"),
    (L.classificationLayer, dict(Classes=[["a", "b"], ["c"]]), "Classes"),
    (L.featureInputLayer, dict(numFeatures=3, Mean="abc"), "Mean"),
    (L.sequenceInputLayer, dict(inputSize=3, StandardDeviation={1: 2}), "StandardDeviation"),
    (L.sequenceInputLayer, dict(inputSize=3, Min=lambda: 0), "Min"),
    (L.sequenceInputLayer, dict(inputSize=RAGGED), "inputSize"),
    (L.featureInputLayer, dict(numFeatures=3, SplitComplexInputs=np.zeros(3)), "SplitComplexInputs"),
    (L.selfAttentionLayer, dict(numHeads=1, numKeyChannels=4, HasPaddingMaskInput=np.ones(2)),
     "HasPaddingMaskInput"),
    (L.selfAttentionLayer, dict(numHeads=1, numKeyChannels=4, QueryWeights=2.5), "QueryWeights"),
    (L.selfAttentionLayer, dict(numHeads=1, numKeyChannels=4, QueryWeights=(1, 2)),
     "QueryWeights"),
    (L.batchNormalizationLayer, dict(Offset=[]), "Offset"),
    (L.batchNormalizationLayer, dict(Scale=RAGGED), "Scale"),
    (L.batchNormalizationLayer, dict(TrainedMean=np.array(["a", "b"])), "TrainedMean"),
    (L.regressionLayer, dict(ResponseNames=None), "ResponseNames"),
    (L.regressionLayer, dict(ResponseNames=3), "ResponseNames"),
])
def test_layer_options_numpy_cannot_read_are_clear_errors(factory, kwargs, fragment):
    clear_error(lambda: factory(**kwargs), factory.__name__, fragment)


def test_layer_vectors_that_are_valid_still_work():
    assert L.batchNormalizationLayer(Offset=[1.0, 2.0]).Offset.shape == (2, 1)
    assert L.batchNormalizationLayer(Offset=[[1.0], [2.0]]).NumChannels == 2
    layer = L.selfAttentionLayer(1, 4, QueryWeights=np.ones((4, 3)), QueryBias=np.zeros(4))
    assert layer.InputSize == 3 and layer.QueryBias.shape == (4, 1)
    assert L.regressionLayer(ResponseNames=np.array(["a", "b"])).ResponseNames == ["a", "b"]
    layer = L.lstmLayer(3, InputWeightsLearnRateFactor=[1, 2, 3, 4])
    assert np.array_equal(layer.InputWeightsLearnRateFactor, [1, 2, 3, 4])


@pytest.mark.parametrize("call, func, fragment", [
    (lambda: L.removeLayers(L.dlnetwork([L.sequenceInputLayer(2), L.lstmLayer(2)]), None),
     "removeLayers", "layerNames"),
    (lambda: L.removeLayers(L.dlnetwork([L.sequenceInputLayer(2), L.lstmLayer(2)]), 3),
     "removeLayers", "layerNames"),
    (lambda: L.removeLayers(L.dlnetwork([L.sequenceInputLayer(2), L.lstmLayer(2)]), []),
     "removeLayers", "non-empty"),
    (lambda: L.disconnectLayers(L.dlnetwork([L.sequenceInputLayer(2), L.lstmLayer(2)]),
                                np.zeros(3), "lstm"), "disconnectLayers", "`s`"),
    (lambda: L.disconnectLayers(L.dlnetwork([L.sequenceInputLayer(2), L.lstmLayer(2)]),
                                "sequenceinput", ["lstm"]), "disconnectLayers", "`d`"),
    (lambda: L.word2ind(L.wordEncoding([["a"]]), 3), "word2ind", "words"),
    (lambda: L.word2ind(L.wordEncoding([["a"]]), [1, 2]), "word2ind", "words"),
    (lambda: L.ind2word(L.wordEncoding([["a"]]), RAGGED), "ind2word", "idx"),
    (lambda: L.wordEncoding(np.array(3.0)), "wordEncoding", "documents"),
    (lambda: L.doc2sequence(L.wordEncoding([["a"]]), np.array(3.0)), "doc2sequence",
     "documents"),
    (lambda: L.doc2sequence(L.wordEncoding([["a"]]), [["a"]], Length=10 ** 30),
     "doc2sequence", "memory"),
    (lambda: L.analyzeNetwork([[1, 2], [3]], Print=False), "analyzeNetwork", r"layers\[0\]"),
    (lambda: L.trainingOptions("adam", ValidationPatience=10 ** 30), "trainingOptions",
     "ValidationPatience"),
    (lambda: L.trainingOptions("adam", MaxEpochs=10 ** 30), "trainingOptions", "2\\^63"),
])
def test_other_hostile_arguments_are_clear_errors(call, func, fragment):
    clear_error(call, func, fragment)


def test_onnx_batch_size_beyond_int64_is_refused_before_writing(series_net, tmp_path):
    path = tmp_path / "n.onnx"
    clear_error(lambda: L.exportONNXNetwork(series_net, str(path), BatchSize=10 ** 30),
                "exportONNXNetwork", "BatchSize")
    assert not path.exists()


def test_text_edge_cases_have_results():
    enc = L.wordEncoding([["a", "b"]], MaxNumWords=10 ** 30)
    assert enc.NumWords == 2
    assert L.doc2sequence(enc, []) == []
    assert L.word2ind(enc, np.array(["b", "z"])).tolist()[0] == 2.0


@pytest.mark.parametrize("metrics", [None, np.array(3.0), [None], []])
def test_testnet_metrics_that_are_not_metrics(dl_net, jv, metrics):
    X, Y = jv
    Xt = [x.T for x in X]
    clear_error(lambda: L.testnet(dl_net, Xt, Y, metrics), "testnet", "metric", args=(Xt, Y))


@pytest.mark.parametrize("targets, fragment", [
    (10 ** 30, "64-bit|label"),
    ([[1, 2], [3]], "label"),
])
def test_testnet_targets_numpy_cannot_read(dl_net, jv, targets, fragment):
    X, _ = jv
    Xt = [x.T for x in X]
    clear_error(lambda: L.testnet(dl_net, Xt, targets, "accuracy"), "testnet", fragment)


def test_testnet_metric_given_as_a_0d_string_array(dl_net, jv):
    X, Y = jv
    Xt = [x.T for x in X]
    value = unchanged(lambda: L.testnet(dl_net, Xt, Y, np.array("accuracy")), Xt)
    assert value == L.testnet(dl_net, Xt, Y, "accuracy")
