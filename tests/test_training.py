"""trainNetwork, classify, predict and assembleNetwork end to end on small problems."""

import copy
import io
import re
import contextlib

import numpy as np
import pytest
import scipy.io

from lstmkit import (assembleNetwork, classificationLayer, classify, fullyConnectedLayer,
                     lstmLayer, predict, regressionLayer, rng, sequenceInputLayer, softmaxLayer,
                     trainingOptions, trainNetwork)
from lstmkit.training.trainer import prepare_training


def sine_classes(n=60, seed=0):
    """Sequence-to-label: the frequency class of a noisy 2-channel sine (learnable)."""
    r = np.random.default_rng(seed)
    X, Y = [], []
    for i in range(n):
        k = i % 3
        T = int(r.integers(8, 20))
        t = np.arange(T)
        x = np.stack([np.sin(0.3 * (k + 1) * t + r.uniform(0, 6)), np.cos(0.3 * (k + 1) * t)])
        X.append(x + 0.05 * r.standard_normal(x.shape))
        Y.append(["low", "mid", "high"][k])
    return X, np.array(Y)


def classifier(C=2, K=3, mode="last", H=16):
    return [sequenceInputLayer(C), lstmLayer(H, OutputMode=mode), fullyConnectedLayer(K),
            softmaxLayer(), classificationLayer()]


QUIET = dict(Verbose=False)


def test_sequence_to_label_learns_and_predicts_shapes():
    X, Y = sine_classes()
    opts = trainingOptions("adam", MaxEpochs=30, MiniBatchSize=10, InitialLearnRate=0.01, **QUIET)
    net = trainNetwork(X, Y, classifier(), opts)
    info = net.TrainingInfo
    assert info.TrainingLoss.shape == (30 * 6,)
    assert info.TrainingLoss[-10:].mean() < 0.5 * info.TrainingLoss[:5].mean()
    assert set(np.unique(classify(net, X))) <= {"high", "low", "mid"}
    assert np.mean(classify(net, X) == Y) > 0.9
    scores = predict(net, X)
    assert scores.shape == (60, 3) and scores.dtype == np.float32
    np.testing.assert_allclose(scores.sum(axis=1), 1, rtol=1e-5)
    assert list(net.Classes) == ["high", "low", "mid"]  # sorted, as MATLAB's categories
    assert predict(net, X[0]).shape == (1, 3)           # one C-by-T observation
    assert classify(net, X[0]).shape == (1,)


def test_sequence_to_sequence_classification():
    r = np.random.default_rng(1)
    X = [r.standard_normal((1, int(T))) for T in r.integers(5, 15, 40)]
    Y = [np.where(x[0] > 0, "up", "down") for x in X]   # per-time-step labels
    opts = trainingOptions("adam", MaxEpochs=40, MiniBatchSize=8, InitialLearnRate=0.02, **QUIET)
    net = trainNetwork(X, Y, classifier(C=1, K=2, mode="sequence", H=8), opts)
    labels = classify(net, X)
    assert isinstance(labels, list) and [l.shape for l in labels] == [y.shape for y in Y]
    assert np.mean(np.concatenate(labels) == np.concatenate(Y)) > 0.95
    scores = predict(net, X)
    assert all(s.shape == (2, x.shape[1]) for s, x in zip(scores, X))
    one = classify(net, X[3])
    assert isinstance(one, np.ndarray) and one.shape == (X[3].shape[1],)


def test_sequence_to_one_regression():
    r = np.random.default_rng(2)
    X = [r.standard_normal((3, int(T))) for T in r.integers(4, 12, 50)]
    Y = np.array([[x[0].mean(), x[1].sum() / 10] for x in X])
    layers = [sequenceInputLayer(3), lstmLayer(16, OutputMode="last"), fullyConnectedLayer(2),
              regressionLayer()]
    opts = trainingOptions("adam", MaxEpochs=60, MiniBatchSize=10, InitialLearnRate=0.01, **QUIET)
    net = trainNetwork(X, Y, layers, opts)
    rmse = net.TrainingInfo.TrainingRMSE
    assert rmse[-5:].mean() < 0.5 * rmse[:5].mean()
    out = predict(net, X)
    assert out.shape == (50, 2)
    with pytest.raises(ValueError, match="classify: the network is a regression network"):
        classify(net, X)


def test_sequence_to_sequence_regression_one_series():
    """MATLAB's forecasting recipe: one R-by-T series, Y = X shifted by one step."""
    t = np.arange(300)
    series = np.sin(0.1 * t)[None, :]
    X, Y = series[:, :-1], series[:, 1:]
    layers = [sequenceInputLayer(1), lstmLayer(20), fullyConnectedLayer(1), regressionLayer()]
    opts = trainingOptions("adam", MaxEpochs=80, InitialLearnRate=0.02, **QUIET)
    net = trainNetwork(X, Y, layers, opts)
    assert net.TrainingInfo.TrainingLoss.size == 80   # one observation: mini-batch = all of it
    pred = predict(net, X)
    assert pred.shape == (1, 299)
    assert np.sqrt(np.mean((pred - Y) ** 2)) < 0.1


@pytest.mark.parametrize("solver", ["sgdm", "adam", "rmsprop"])
def test_every_solver_reduces_the_loss(solver):
    X, Y = sine_classes(30)
    opts = trainingOptions(solver, MaxEpochs=20, MiniBatchSize=10, **QUIET)
    info = trainNetwork(X, Y, classifier(), opts).TrainingInfo
    assert info.TrainingLoss[-3:].mean() < info.TrainingLoss[:3].mean()
    np.testing.assert_array_equal(info.BaseLearnRate, opts.InitialLearnRate)


@pytest.mark.parametrize("N,M,expected", [(10, 3, 3), (10, 5, 2), (4, 128, 1), (7, 7, 1)])
def test_last_partial_minibatch_dropped(N, M, expected):
    X, Y = sine_classes(N)
    Y[:3] = ["low", "mid", "high"]
    opts = trainingOptions("adam", MaxEpochs=2, MiniBatchSize=M, **QUIET)
    net = trainNetwork(X, Y, classifier(), opts)
    assert net.TrainingInfo.TrainingLoss.size == 2 * expected


def test_integer_sequence_length_gives_extra_iterations():
    X = [np.ones((2, T)) for T in (10, 4, 7, 3)]
    Y = np.array(["a", "b", "a", "b"])
    opts = trainingOptions("adam", MaxEpochs=1, MiniBatchSize=2, SequenceLength=3,
                           Shuffle="never", **QUIET)
    net = trainNetwork(X, Y, classifier(K=2), opts)
    # batch 1 lengths 10, 4 -> 4 chunks; batch 2 lengths 7, 3 -> 3 chunks
    assert net.TrainingInfo.TrainingLoss.size == 7


def test_shortest_truncates_by_direction():
    x = np.arange(10.0)[None, :]
    layers = [sequenceInputLayer(1), lstmLayer(2, InputWeights=np.ones((8, 1)),
                                               RecurrentWeights=np.zeros((8, 2)),
                                               Bias=np.zeros(8)),
              fullyConnectedLayer(1, Weights=np.ones((1, 2)), Bias=[0]), regressionLayer()]
    net = assembleNetwork(layers, dtype="float64")
    X = [x, x[:, :4]]
    right = predict(net, X, SequenceLength="shortest")
    left = predict(net, X, SequenceLength="shortest", SequencePaddingDirection="left")
    assert right[0].shape == (1, 4) and left[0].shape == (1, 4)
    np.testing.assert_allclose(right[0], predict(net, x[:, :4]))
    np.testing.assert_allclose(left[0], predict(net, x[:, 6:]))


def test_data_forms_are_equivalent():
    X, Y = sine_classes(12)
    X = [x[:, :8] for x in X]                       # equal lengths for the 3-D form
    opts = trainingOptions("adam", MaxEpochs=3, MiniBatchSize=4, Shuffle="never", **QUIET)
    rng(3)
    ref = predict(trainNetwork(X, Y, classifier(), opts), X)
    cell = np.empty((12, 1), dtype=object)
    for i, x in enumerate(X):
        cell[i, 0] = x
    buf = io.BytesIO()
    scipy.io.savemat(buf, {"X": cell})
    loaded = scipy.io.loadmat(io.BytesIO(buf.getvalue()))["X"]
    forms = [tuple(X), cell, loaded, np.stack(X), [x.astype(np.float32) for x in X]]
    for form in forms:
        rng(3)
        net = trainNetwork(form, list(Y), classifier(), opts)
        np.testing.assert_allclose(predict(net, form), ref, rtol=1e-5, atol=1e-6)


def test_integer_labels_come_back_as_integers():
    X, Y = sine_classes(12)
    Yi = np.searchsorted(["high", "low", "mid"], Y) + 1
    opts = trainingOptions("adam", MaxEpochs=2, MiniBatchSize=4, **QUIET)
    net = trainNetwork(X, Yi, classifier(), opts)
    out = classify(net, X)
    assert out.dtype.kind == "i" and set(out) <= {1, 2, 3}


def test_callers_data_and_layers_are_not_modified():
    X, Y = sine_classes(12)
    layers = [sequenceInputLayer(2, Normalization="zscore"), lstmLayer(4, OutputMode="last"),
              fullyConnectedLayer(3), softmaxLayer(), classificationLayer()]
    X0, Y0, L0 = copy.deepcopy(X), Y.copy(), copy.deepcopy(layers)
    opts = trainingOptions("adam", MaxEpochs=2, MiniBatchSize=4, **QUIET)
    net = trainNetwork(X, Y, layers, opts)
    predict(net, X)
    classify(net, X, MiniBatchSize=5)
    for a, b in zip(X, X0):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(Y, Y0)
    for a, b in zip(layers, L0):
        assert a.Name == b.Name == "" and repr(a) == repr(b)
    assert layers[1].InputWeights is None and layers[0].Mean is None
    assert net.Layers[1].Name == "lstm" and net.Layers[0].Mean.shape == (2, 1)


def test_automatic_layer_names_like_matlab():
    X, Y = sine_classes(9)
    layers = [sequenceInputLayer(2), lstmLayer(4), lstmLayer(4, OutputMode="last"),
              fullyConnectedLayer(3), softmaxLayer(), classificationLayer()]
    net = trainNetwork(X, Y, layers, trainingOptions("adam", MaxEpochs=1, **QUIET))
    assert [l.Name for l in net.Layers] == ["sequenceinput", "lstm", "lstm_1", "fc", "softmax",
                                            "classoutput"]
    text = repr(net.Layers)
    assert "6×1 Layer array with layers:" in text
    assert re.search(r"2\s+'lstm'\s+LSTM\s+LSTM with 4 hidden units", text)
    assert "crossentropyex with 'high' and 2 other classes" in text


def test_given_weights_are_initial_values_and_zero_factors_freeze():
    X, Y = sine_classes(12)
    W = np.full((16, 2), 0.1)
    layers = [sequenceInputLayer(2),
              lstmLayer(4, OutputMode="last", InputWeights=W, InputWeightsLearnRateFactor=0,
                        BiasLearnRateFactor=[1, 0, 1, 1]),
              fullyConnectedLayer(3), softmaxLayer(), classificationLayer()]
    opts = trainingOptions("sgdm", MaxEpochs=3, MiniBatchSize=4, L2Regularization=0, **QUIET)
    net = trainNetwork(X, Y, layers, opts)
    lstm = net.Layers[1]
    np.testing.assert_array_equal(lstm.InputWeights, W.astype(np.float32))
    np.testing.assert_array_equal(lstm.Bias[4:8], 1.0)        # forget block frozen (unit-forget)
    assert not np.all(lstm.Bias[:4] == 0)                      # the others learned
    assert lstm.InputWeights.dtype == np.float32


def test_l2_regularization_uses_factors():
    """With zero learning signal (lr factor 0 on everything but the FC weights), L2 shrinks them."""
    X, Y = sine_classes(12)
    Wfc = np.full((3, 4), 0.5)
    layers = [sequenceInputLayer(2), lstmLayer(4, OutputMode="last", InputWeightsLearnRateFactor=0,
                                               RecurrentWeightsLearnRateFactor=0,
                                               BiasLearnRateFactor=0),
              fullyConnectedLayer(3, Weights=Wfc, BiasLearnRateFactor=0, WeightL2Factor=2),
              softmaxLayer(), classificationLayer()]
    opts = trainingOptions("sgdm", MaxEpochs=1, MiniBatchSize=12, Momentum=0, L2Regularization=0.1,
                           InitialLearnRate=0.01, **QUIET)
    rng(0)
    with_l2 = trainNetwork(X, Y, layers, opts).Layers[2].Weights
    opts0 = trainingOptions("sgdm", MaxEpochs=1, MiniBatchSize=12, Momentum=0, L2Regularization=0,
                            InitialLearnRate=0.01, **QUIET)
    rng(0)
    without = trainNetwork(X, Y, layers, opts0).Layers[2].Weights
    # the difference is exactly the L2 step lr * lambda * factor * W
    np.testing.assert_allclose(without - with_l2, 0.01 * 0.1 * 2 * Wfc, rtol=1e-4)


def test_hidden_and_cell_state_are_used():
    x = np.zeros((1, 1))
    base = dict(InputWeights=np.zeros((4, 1)), RecurrentWeights=np.zeros((4, 1)), Bias=np.zeros(4))
    fc = dict(Weights=np.ones((1, 1)), Bias=[0.0])
    plain = assembleNetwork([sequenceInputLayer(1), lstmLayer(1, **base), fullyConnectedLayer(1, **fc),
                             regressionLayer()], dtype="float64")
    warm = assembleNetwork([sequenceInputLayer(1), lstmLayer(1, CellState=[2.0], **base),
                            fullyConnectedLayer(1, **fc), regressionLayer()], dtype="float64")
    assert predict(plain, x)[0, 0] == 0.0
    np.testing.assert_allclose(predict(warm, x)[0, 0], 0.5 * np.tanh(0.5 * 2.0 + 0.5 * 0.0))


def test_golden_values_with_constant_weights():
    """Every weight 0.1, bias 0: all units equal, so a scalar recurrence gives the output."""
    C, H, T = 2, 3, 4
    const = lambda v: (lambda shape: np.full(shape, v))
    layers = [sequenceInputLayer(C),
              lstmLayer(H, InputWeightsInitializer=const(0.1), RecurrentWeightsInitializer=const(0.1),
                        BiasInitializer="zeros"),
              fullyConnectedLayer(1, WeightsInitializer=const(0.1)), regressionLayer()]
    x = np.tile(np.arange(1.0, T + 1), (C, 1)) / T
    # the layers as trainNetwork initializes them, before any update
    setup = prepare_training("t", x, np.zeros((1, T)), layers, trainingOptions("adam", **QUIET),
                             "float64")
    net = assembleNetwork(setup.layers, dtype="float64")
    h = c = 0.0
    expected = []
    for t in range(T):
        z = 0.1 * C * x[0, t] + 0.1 * H * h
        s = 1 / (1 + np.exp(-z))
        c = s * c + s * np.tanh(z)
        h = s * np.tanh(c)
        expected.append(0.1 * H * h)
    got = predict(net, x)[0]
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    np.testing.assert_allclose(got, [0.003935663872221245, 0.010703116141360235, 0.019788919989350985,
                                     0.03093721467130032], rtol=1e-12)


def test_float64_training():
    X, Y = sine_classes(12)
    net = trainNetwork(X, Y, classifier(), trainingOptions("adam", MaxEpochs=2, **QUIET),
                       dtype="float64")
    assert net.Layers[1].InputWeights.dtype == np.float64
    assert predict(net, X).dtype == np.float64


def test_same_seed_same_network():
    X, Y = sine_classes(12)
    opts = trainingOptions("adam", MaxEpochs=2, MiniBatchSize=4, Shuffle="every-epoch", **QUIET)
    rng(7)
    a = trainNetwork(X, Y, classifier(), opts)
    rng(7)
    b = trainNetwork(X, Y, classifier(), opts)
    np.testing.assert_array_equal(a.Layers[1].InputWeights, b.Layers[1].InputWeights)
    np.testing.assert_array_equal(predict(a, X), predict(b, X))


def test_normalization_statistics_like_matlab():
    X = [np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 4.0]]), np.array([[5.0], [8.0]])]
    Y = np.array([[0.0], [1.0]])
    expected = {"zerocenter": {"Mean": [[2.75], [3.0]]},
                "zscore": {"Mean": [[2.75], [3.0]],
                           "StandardDeviation": [[np.std([1, 2, 3, 5])], [np.std([0, 0, 4, 8])]]},
                "rescale-zero-one": {"Min": [[1], [0]], "Max": [[5], [8]]}}
    for mode, stats in expected.items():
        layers = [sequenceInputLayer(2, Normalization=mode), lstmLayer(2, OutputMode="last"),
                  fullyConnectedLayer(1), regressionLayer()]
        net = trainNetwork(X, Y, layers, trainingOptions("adam", MaxEpochs=1, **QUIET))
        for name, value in stats.items():
            np.testing.assert_allclose(getattr(net.Layers[0], name), value)


def test_reset_input_normalization_false_keeps_given_statistics():
    X, Y = sine_classes(9)
    layers = [sequenceInputLayer(2, Normalization="zerocenter", Mean=[[10.0], [20.0]]),
              lstmLayer(4, OutputMode="last"), fullyConnectedLayer(3), softmaxLayer(),
              classificationLayer()]
    keep = trainingOptions("adam", MaxEpochs=1, ResetInputNormalization=False, **QUIET)
    net = trainNetwork(X, Y, layers, keep)
    np.testing.assert_array_equal(net.Layers[0].Mean, [[10.0], [20.0]])
    reset = trainNetwork(X, Y, layers, trainingOptions("adam", MaxEpochs=1, **QUIET))
    assert abs(reset.Layers[0].Mean[0, 0]) < 1


def test_class_weights_change_the_loss():
    X, Y = sine_classes(12)
    opts = trainingOptions("adam", MaxEpochs=1, MiniBatchSize=12, **QUIET)
    losses = []
    for w in ([1, 1, 1], [2, 2, 2]):
        rng(0)
        layers = classifier()
        layers[-1] = classificationLayer(Classes=["high", "low", "mid"], ClassWeights=w)
        losses.append(trainNetwork(X, Y, layers, opts).TrainingInfo.TrainingLoss[0])
    np.testing.assert_allclose(losses[1], 2 * losses[0], rtol=1e-5)


def test_given_classes_order_the_scores():
    X, Y = sine_classes(12)
    layers = classifier()
    layers[-1] = classificationLayer(Classes=["mid", "low", "high"])
    net = trainNetwork(X, Y, layers, trainingOptions("adam", MaxEpochs=2, **QUIET))
    assert list(net.Classes) == ["mid", "low", "high"]
    scores = predict(net, X)
    np.testing.assert_array_equal(classify(net, X), np.array(["mid", "low", "high"])[scores.argmax(1)])


def test_verbose_table_like_matlab():
    X, Y = sine_classes(12)
    opts = trainingOptions("adam", MaxEpochs=5, MiniBatchSize=4, VerboseFrequency=4)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        trainNetwork(X, Y, classifier(), opts)
    lines = out.getvalue().splitlines()
    assert lines[0] == "Training on single CPU."
    rule = "|" + "=" * 88 + "|"
    assert lines[1] == rule and lines[4] == rule and lines[-2] == rule
    assert lines[2] == ("|  Epoch  |  Iteration  |  Time Elapsed  |  Mini-batch  |  Mini-batch  "
                        "|  Base Learning  |")
    assert lines[3] == ("|         |             |   (hh:mm:ss)   |   Accuracy   |     Loss     "
                        "|      Rate       |")
    rows = lines[5:-2]
    iterations = [int(r.split("|")[2]) for r in rows]
    assert iterations == [1, 4, 8, 12, 15]        # first, every 4th, last
    assert re.fullmatch(r"\|\s{7}1 \|\s{11}1 \|\s{7}00:00:\d\d \|\s+\d+\.\d\d% \|\s+\d\.\d{4} "
                        r"\|\s{10}0\.0010 \|", rows[0])
    assert lines[-1] == "Training finished: Max epochs completed."


def test_verbose_regression_columns_and_normalization_line():
    X = [np.random.default_rng(0).standard_normal((2, 5)) for _ in range(4)]
    Y = np.ones((4, 1))
    layers = [sequenceInputLayer(2, Normalization="zscore"), lstmLayer(3, OutputMode="last"),
              fullyConnectedLayer(1), regressionLayer()]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        trainNetwork(X, Y, layers, trainingOptions("sgdm", MaxEpochs=1, InitialLearnRate=1e-4))
    text = out.getvalue()
    assert "Initializing input data normalization." in text
    assert "|   Accuracy   |" not in text and "|     RMSE     |" in text
    assert "1.0000e-04 |" in text


def test_assemble_network_round_trip_and_errors():
    X, Y = sine_classes(12)
    net = trainNetwork(X, Y, classifier(), trainingOptions("adam", MaxEpochs=2, **QUIET))
    again = assembleNetwork(list(net.Layers))
    np.testing.assert_array_equal(predict(again, X), predict(net, X))
    with pytest.raises(ValueError, match="layer 'lstm' \\(LSTM\\) has no InputWeights, "
                                         "RecurrentWeights, Bias"):
        assembleNetwork(classifier())
    layers = [sequenceInputLayer(1), lstmLayer(1, InputWeights=np.ones((4, 1)),
                                               RecurrentWeights=np.ones((4, 1)), Bias=np.ones(4)),
              fullyConnectedLayer(2, Weights=np.ones((2, 1)), Bias=np.ones(2)), softmaxLayer(),
              classificationLayer()]
    assert list(assembleNetwork(layers).Classes) == ["1", "2"]
    norm = [sequenceInputLayer(1, Normalization="zscore")] + layers[1:]
    with pytest.raises(ValueError, match="has no Mean, StandardDeviation"):
        assembleNetwork(norm)


def test_non_finite_training_stops_and_keeps_last_finite_network():
    X, Y = sine_classes(12)
    opts = trainingOptions("sgdm", MaxEpochs=50, MiniBatchSize=4, InitialLearnRate=1e30,
                           Momentum=0, **QUIET)
    with pytest.warns(RuntimeWarning, match="not finite at iteration"):
        net = trainNetwork(X, Y, classifier(), opts)
    info = net.TrainingInfo
    assert "not finite" in info.StopReason
    assert info.TrainingLoss.size < 150 and np.all(np.isfinite(info.TrainingLoss))
    for layer in net.Layers[1:3]:
        for name in ("Weights", "InputWeights", "RecurrentWeights", "Bias"):
            if hasattr(layer, name):
                assert np.all(np.isfinite(getattr(layer, name)))


@pytest.mark.parametrize("solver", ["sgdm", "adam", "rmsprop"])
def test_overflowing_update_is_not_applied(solver):
    """A finite gradient whose update overflows float32 stops training before the update."""
    X, Y = sine_classes(12)
    r = np.random.default_rng(0)
    W, R, b = r.standard_normal((64, 2)), r.standard_normal((64, 16)), np.zeros(64)
    layers = [sequenceInputLayer(2),
              lstmLayer(16, OutputMode="last", InputWeights=W, RecurrentWeights=R, Bias=b,
                        InputWeightsLearnRateFactor=1e30),
              fullyConnectedLayer(3), softmaxLayer(), classificationLayer()]
    opts = trainingOptions(solver, MaxEpochs=5, MiniBatchSize=4, InitialLearnRate=1e30, **QUIET)
    with pytest.warns(RuntimeWarning, match=r"trainNetwork: The update of the learnable "
                                            r"parameters is not finite at iteration 1; the "
                                            r"network of iteration 0 was kept\."):
        net = trainNetwork(X, Y, layers, opts)
    assert net.TrainingInfo.StopReason.startswith("The update of the learnable parameters")
    assert net.TrainingInfo.TrainingLoss.size == 0
    lstm = net.Layers[1]
    np.testing.assert_array_equal(lstm.InputWeights, W.astype(np.float32))
    np.testing.assert_array_equal(lstm.RecurrentWeights, R.astype(np.float32))
    assert np.all(np.isfinite(net.Layers[2].Weights))
    np.testing.assert_array_equal(layers[1].InputWeights, W)        # the caller's layer as given


def test_non_contiguous_and_fortran_inputs():
    X, Y = sine_classes(12)
    net = trainNetwork(X, Y, classifier(), trainingOptions("adam", MaxEpochs=1, **QUIET))
    wide = [np.repeat(x, 2, axis=1) for x in X]
    strided = [w[:, ::2] for w in wide]               # views with a step
    fortran = [np.asfortranarray(x) for x in X]
    ref = predict(net, X)
    assert not strided[0].flags.c_contiguous
    np.testing.assert_array_equal(predict(net, strided), ref)
    np.testing.assert_array_equal(predict(net, fortran), ref)
    rng(1)
    a = trainNetwork(strided, Y, classifier(), trainingOptions("adam", MaxEpochs=1, **QUIET))
    rng(1)
    b = trainNetwork(X, Y, classifier(), trainingOptions("adam", MaxEpochs=1, **QUIET))
    np.testing.assert_array_equal(a.Layers[1].InputWeights, b.Layers[1].InputWeights)


def test_piecewise_learn_rate_schedule():
    X, Y = sine_classes(12)
    opts = trainingOptions("sgdm", MaxEpochs=7, MiniBatchSize=6, LearnRateSchedule="piecewise",
                           LearnRateDropFactor=0.5, LearnRateDropPeriod=3, **QUIET)
    rates = trainNetwork(X, Y, classifier(), opts).TrainingInfo.BaseLearnRate
    expected = np.repeat(0.01 * 0.5 ** np.array([0, 0, 0, 1, 1, 1, 2]), 2)
    np.testing.assert_allclose(rates, expected)
