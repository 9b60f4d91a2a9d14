"""Bad input to trainNetwork, predict and classify: a clear error before any work."""

import numpy as np
import pytest

from lstmkit import (classificationLayer, convolution1dLayer, classify, fullyConnectedLayer, lstmLayer, predict,
                     regressionLayer, sequenceInputLayer, softmaxLayer, trainingOptions,
                     trainNetwork)

OPTS = trainingOptions("adam", MaxEpochs=1, Verbose=False)
rng = np.random.default_rng(0)
X = [rng.standard_normal((3, T)) for T in (5, 7, 4, 6)]
LABELS = np.array(["a", "b", "a", "b"])


def clf(mode="last", K=2, C=3):
    return [sequenceInputLayer(C), lstmLayer(4, OutputMode=mode), fullyConnectedLayer(K),
            softmaxLayer(), classificationLayer()]


def reg(mode="last", R=1):
    return [sequenceInputLayer(3), lstmLayer(4, OutputMode=mode), fullyConnectedLayer(R),
            regressionLayer()]


CASES = [
    # predictors
    (lambda: trainNetwork({"x": 1}, LABELS, clf(), OPTS), TypeError, "`X` must be a list of C-by-T"),
    (lambda: trainNetwork([], LABELS, clf(), OPTS), ValueError, "`X` is empty"),
    (lambda: trainNetwork([np.ones((3, 2, 2))] * 4, LABELS, clf(), OPTS), ValueError,
     "`X[0]` has size 3-by-2-by-2"),
    (lambda: trainNetwork([np.ones((3, 0))] * 4, LABELS, clf(), OPTS), ValueError, "is empty"),
    (lambda: trainNetwork([x.astype(complex) for x in X], LABELS, clf(), OPTS), TypeError,
     "complex"),
    (lambda: trainNetwork([np.array([["a"]])] * 4, LABELS, clf(), OPTS), TypeError, "numeric"),
    (lambda: trainNetwork([x.T for x in X], LABELS, clf(), OPTS), ValueError,
     "look transposed (T-by-C)"),
    (lambda: trainNetwork(X, LABELS, clf(C=5), OPTS), ValueError,
     "are of feature dimension 3 but the input layer expects sequences of feature dimension 5"),
    (lambda: trainNetwork([X[0], X[1][:2]], LABELS[:2], clf(), OPTS), ValueError,
     "feature dimension 2 3"),
    (lambda: trainNetwork([np.where(np.arange(5) == 2, np.nan, 1.0)[None].repeat(3, 0)] + X[1:],
                          LABELS, clf(), OPTS), ValueError, "`X[0]` contains NaN or Inf"),
    (lambda: trainNetwork(X, LABELS, [sequenceInputLayer(3, MinLength=6)] + clf()[1:], OPTS),
     ValueError, "fewer than the input layer's MinLength 6"),
    (lambda: trainNetwork(np.empty((2, 2), dtype=object), LABELS, clf(), OPTS), ValueError,
     "as a cell array must be N-by-1"),
    # labels and responses
    (lambda: trainNetwork(X, LABELS[:3], clf(), OPTS), ValueError, "3 labels but X has 4"),
    (lambda: trainNetwork(X, [0.5, 1.5, 2.5, 3.5], clf(), OPTS), TypeError,
     "non-integer numbers"),
    (lambda: trainNetwork(X, [1, "a", 2, "b"], clf(), OPTS), TypeError, "all str or all int"),
    (lambda: trainNetwork(X, (None, np.ones((2, 0))), clf(), OPTS), TypeError,
     "must be a 1-D list or array of labels"),   # found by the property tests
    (lambda: trainNetwork(X, np.array(["a", "b", "c", "a"]), clf(), OPTS), ValueError,
     "3 classes but the layer before the softmax outputs 2 values"),
    (lambda: trainNetwork(X, LABELS, clf()[:-1] + [classificationLayer(Classes=["a", "c"])], OPTS),
     ValueError, "labels ['b'] that are not in the classificationLayer's Classes"),
    (lambda: trainNetwork(X, [1, 2, 1, 2], clf()[:-1] + [classificationLayer(Classes=["a", "b"])],
                          OPTS), TypeError, "the labels in `Y` are int but"),
    (lambda: trainNetwork(X, LABELS, clf("sequence"), OPTS), ValueError,
     "is a single label, but the network outputs a sequence"),
    (lambda: trainNetwork(X, [np.array(["a"] * 3)] * 4, clf("sequence"), OPTS), ValueError,
     "`Y[0]` has 3 time steps but X[0] has 5"),
    (lambda: trainNetwork(X, [np.array(["a"] * x.shape[1]) for x in X[:3]], clf("sequence"), OPTS),
     ValueError, "3 label sequences but X has 4"),
    (lambda: trainNetwork(X, np.ones((3, 1)), reg(), OPTS), ValueError, "3 rows but X has 4"),
    (lambda: trainNetwork(X, np.ones((1, 4)) if False else np.ones((2, 4)), reg(R=2), OPTS),
     ValueError, "pass its transpose"),
    (lambda: trainNetwork(X, np.ones((4, 2)), reg(R=1), OPTS), ValueError,
     "the responses have 2 channels but the layer before the regressionLayer outputs 1"),
    (lambda: trainNetwork(X, np.full((4, 1), np.inf), reg(), OPTS), ValueError, "NaN or Inf"),
    (lambda: trainNetwork(X, [np.ones((1, x.shape[1] + 1)) for x in X], reg("sequence"), OPTS),
     ValueError, "must have the same length as their inputs"),
    (lambda: trainNetwork(X, [np.ones((x.shape[1], 1)) for x in X], reg("sequence"), OPTS),
     ValueError, "It looks transposed (T-by-R)"),
    (lambda: trainNetwork(X, "labels", reg("sequence"), OPTS), TypeError,
     "must be a list of R-by-T response sequences"),
    # layers and options
    (lambda: trainNetwork(X, LABELS, clf()[1:], OPTS), ValueError,
     "the first layer must be a sequenceInputLayer"),
    (lambda: trainNetwork(X, LABELS, clf()[:-1], OPTS), ValueError,
     "the last layer must be an output layer"),
    (lambda: trainNetwork(X, LABELS, clf()[:2] + [regressionLayer()] + clf()[2:], OPTS),
     ValueError, "must be the last layer"),
    (lambda: trainNetwork(X, LABELS, clf()[:3] + [classificationLayer()], OPTS), ValueError,
     "must follow a softmaxLayer"),
    (lambda: trainNetwork(X, LABELS, [sequenceInputLayer(3), lstmLayer(4, OutputMode="last"),
                                      convolution1dLayer(2, 4)] + clf()[2:], OPTS),
     ValueError, "slides over time steps"),
    (lambda: trainNetwork(X, LABELS, [sequenceInputLayer(3), lstmLayer(2, InputWeights=np.ones((8, 5)))]
                          + clf()[1:], OPTS), ValueError, "expects input of size 5"),
    (lambda: trainNetwork(X, LABELS, clf()[:2] + [fullyConnectedLayer(2, Weights=np.ones((2, 3)))]
                          + clf()[3:], OPTS), ValueError, "(Fully Connected) expects input of size 3 (Weights is 2-by-3)"),
    (lambda: trainNetwork(X, LABELS, [sequenceInputLayer(3, Name="x"), lstmLayer(4, Name="x")]
                          + clf()[2:], OPTS), ValueError, "'x' is used more than once"),
    (lambda: trainNetwork(X, LABELS, clf() + ["softmax"], OPTS), TypeError, "`layers[5]` is not a layer"),
    (lambda: trainNetwork(X, LABELS, [], OPTS), TypeError, "`layers` must be a non-empty list"),
    (lambda: trainNetwork(X, LABELS, clf(), {"MaxEpochs": 1}), TypeError,
     "`options` must come from trainingOptions"),
    (lambda: trainNetwork(X, LABELS, clf(), OPTS, dtype="float16"), ValueError,
     "`dtype` must be 'float32'"),
    (lambda: trainNetwork(X, LABELS, clf()[:-1] + [classificationLayer(Classes=["a", "b", "c"])],
                          OPTS), ValueError, "has 3 classes but the layer before it outputs 2"),
]


@pytest.mark.parametrize("call,exc,words", CASES)
def test_train_network_errors(call, exc, words):
    snapshot = [x.copy() for x in X], LABELS.copy()
    with pytest.raises(exc) as info:
        call()
    assert str(info.value).startswith("trainNetwork: ")
    assert words in str(info.value)
    for a, b in zip(X, snapshot[0]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(LABELS, snapshot[1])


@pytest.fixture(scope="module")
def net():
    return trainNetwork(X, LABELS, clf(), OPTS)


@pytest.mark.parametrize("call,exc,words", [
    (lambda net: predict("net", X), TypeError, "predict: `net` must be a network"),
    (lambda net: predict(net, X, MiniBatchSize=0), ValueError, "`MiniBatchSize` must be a positive"),
    (lambda net: predict(net, X, MiniBatchSze=4), TypeError, "Did you mean 'MiniBatchSize'?"),
    (lambda net: predict(net, X, ExecutionEnvironment="gpu1"), ValueError,
     "`ExecutionEnvironment` must be one of 'auto', 'cpu', 'gpu'"),
    (lambda net: predict(net, X, SequenceLength="all"), ValueError, "`SequenceLength`"),
    (lambda net: predict(net, [x.T for x in X]), ValueError, "look transposed"),
    (lambda net: classify(net, [x[:2] for x in X]), ValueError, "feature dimension 2"),
    (lambda net: classify(net, X, "MiniBatchSize"), TypeError, "must come in pairs"),
    (lambda net: predict(net, [np.full((3, 2), np.nan)]), ValueError, "contains NaN or Inf"),
])
def test_predict_errors(net, call, exc, words):
    with pytest.raises(exc) as info:
        call(net)
    assert words in str(info.value)
