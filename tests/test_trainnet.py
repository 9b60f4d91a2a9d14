"""trainnet and testnet: same engine as trainNetwork, MATLAB's layouts, losses, metrics, info."""

import os

import numpy as np
import pytest

from netutil import trainnet_gradient_check as loss_and_gradient_check
from lstmkit import (classificationLayer, crossentropy, dlnetwork, fullyConnectedLayer,
                     huber, initialize, japaneseVowelsTrainData, l1loss, loadNetwork,
                     lstmLayer, minibatchpredict, saveNetwork,
                     sequenceInputLayer, softmaxLayer, testnet, trainingOptions, trainnet,
                     trainNetwork, accuracyMetric, gruLayer)


@pytest.fixture(scope="module")
def jv():
    X, Y = japaneseVowelsTrainData()
    return X[::3], Y[::3]


def classifier(H=16, mode="last"):
    return [sequenceInputLayer(12), lstmLayer(H, OutputMode=mode), fullyConnectedLayer(9),
            softmaxLayer()]


def test_crossentropy_equals_trainnetwork_with_classification_layer(jv):
    X, Y = jv
    opts = trainingOptions("adam", MaxEpochs=2, MiniBatchSize=30, GradientThreshold=1,
                           Verbose=False)
    series = trainNetwork(X, Y, classifier() + [classificationLayer()], opts, seed=3)
    dl = trainnet([x.T for x in X], Y, classifier(), "crossentropy", opts, seed=3)
    ref = [getattr(layer, lb.name) for layer in series.Layers for lb in layer.learnables]
    assert len(ref) == len(dl.Learnables.Value)
    for a, b in zip(dl.Learnables.Value, ref):
        np.testing.assert_array_equal(a, b)
    # and the same function written as a loss of (Y, T) gives the same network up to rounding
    dl2 = trainnet([x.T for x in X], Y, classifier(), lambda Y, T: crossentropy(Y, T), opts,
                   seed=3)
    for a, b in zip(dl.Learnables.Value, dl2.Learnables.Value):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_time_by_channel_and_formats_give_the_same_network(jv):
    X, Y = jv
    opts = dict(MaxEpochs=1, MiniBatchSize=30, Verbose=False)
    a = trainnet([x.T for x in X], Y, classifier(), "crossentropy",
                 trainingOptions("sgdm", **opts), seed=1)
    b = trainnet(list(X), Y, classifier(), "crossentropy",
                 trainingOptions("sgdm", InputDataFormats="CTB", **opts), seed=1)
    for u, v in zip(a.Learnables.Value, b.Learnables.Value):
        np.testing.assert_array_equal(u, v)


def regression_data(rng, N=12, C=2):
    X = [rng.standard_normal((T, C)) for T in rng.integers(3, 9, N)]
    T = [np.cumsum(x, axis=0) * 0.3 for x in X]
    return X, T


def test_mse_normalization_and_validation_at_iteration_zero(rng):
    X, T = regression_data(rng)
    layers = [sequenceInputLayer(2), lstmLayer(5), fullyConnectedLayer(2)]
    opts = trainingOptions("adam", MaxEpochs=1, MiniBatchSize=4, ValidationData=(X, T),
                           Metrics=["rmse", "rsquared"], Verbose=False)
    net0 = dlnetwork(layers)
    net, info = trainnet(X, T, net0, "mse", opts, nargout=2, dtype="float64")
    Y0 = minibatchpredict(net0, X, UniformOutput=False)
    err = np.concatenate([(y - t).ravel() for y, t in zip(Y0, T)])
    v = info.ValidationHistory
    assert v.Iteration[0] == 0 and v.Epoch[0] == 0
    assert v.Loss[0] == pytest.approx(np.mean(err ** 2), rel=1e-5)     # mean over all elements
    assert v.RMSE[0] == pytest.approx(np.sqrt(np.mean(err ** 2)), rel=1e-5)
    assert info.TrainingHistory.VariableNames == ["Iteration", "Epoch", "LearnRate", "Loss",
                                                  "RMSE", "RSquared"]
    assert info.TrainingHistory.height == 3 and info.OutputNetworkIteration in (0, 1, 2, 3)
    assert testnet(net, X, T, "mse") == pytest.approx(
        np.mean(np.concatenate([(y - t).ravel() for y, t in zip(
            minibatchpredict(net, X, UniformOutput=False), T)]) ** 2), rel=1e-6)


@pytest.mark.parametrize("lossFcn", ["mse", "mae", "huber",
                                     lambda Y, T: 0.5 * l1loss(Y, T) + huber(Y, T, TransitionPoint=0.5)])
def test_regression_loss_gradients(rng, lossFcn):
    X, T = regression_data(rng, N=5)
    loss_and_gradient_check(X, T, [sequenceInputLayer(2), gruLayer(4), fullyConnectedLayer(2)],
                            lossFcn)


@pytest.mark.parametrize("lossFcn", ["crossentropy", "index-crossentropy",
                                     lambda Y, T: crossentropy(Y, T, [1, 3, 0.5],
                                                               WeightsFormat="C")])
def test_classification_loss_gradients(rng, lossFcn):
    X = [rng.standard_normal((T, 2)) for T in (4, 6, 3, 5, 2)]
    T = [rng.integers(1, 4, x.shape[0]) for x in X]          # per-step labels 1..3
    T[0][:3] = [1, 2, 3]
    loss_and_gradient_check(X, T, [sequenceInputLayer(2), lstmLayer(4), fullyConnectedLayer(3),
                                   softmaxLayer()], lossFcn)


def test_class_weights_change_training_and_categorical_order(jv):
    X, Y = jv
    XT = [x.T for x in X]
    opts = trainingOptions("adam", MaxEpochs=1, MiniBatchSize=30, Verbose=False)
    plain = trainnet(XT, Y, classifier(), "crossentropy", opts, seed=0)
    weighted = trainnet(XT, Y, classifier(), lambda Y, T: crossentropy(
        Y, T, np.arange(1, 10), WeightsFormat="C"), opts, seed=0)
    assert not np.allclose(plain.Learnables.Value[-1], weighted.Learnables.Value[-1])

    class Categorical:               # what pandas.Categorical offers
        def __init__(self, labels, categories):
            self.categories = np.asarray(categories)
            self.codes = np.array([list(categories).index(v) for v in labels])

    order = sorted(set(Y), reverse=True)
    rev = trainnet(XT, Categorical(Y, order), classifier(), "crossentropy", opts, seed=0)
    # the reversed class order reverses the output channels' roles: not the same network
    assert not np.allclose(rev.Learnables.Value[-1], plain.Learnables.Value[-1])
    assert testnet(rev, XT, Categorical(Y, order), "accuracy") == pytest.approx(
        testnet(rev, XT, Y, "accuracy", ClassNames=order))


def test_objective_metric_selects_the_best_network(jv):
    X, Y = jv
    XT = [x.T for x in X]
    opts = trainingOptions("adam", MaxEpochs=4, MiniBatchSize=30, Verbose=False,
                           ValidationData=(XT[:45], Y[:45]), ValidationFrequency=1,
                           Metrics=accuracyMetric(Name="acc"), ObjectiveMetricName="acc",
                           OutputNetwork="best-validation")
    net, info = trainnet(XT, Y, classifier(), "crossentropy", opts, seed=2, nargout=2)
    v = info.ValidationHistory
    best = v.Iteration[int(np.argmax(v.acc))]
    assert info.OutputNetworkIteration == best
    assert testnet(net, XT[:45], Y[:45], "accuracy", ClassNames=np.unique(Y)) == \
        pytest.approx(np.max(v.acc))


def test_outputfcn_verbose_and_checkpoints(jv, tmp_path, capsys):
    X, Y = jv
    seen = []
    opts = trainingOptions("adam", MaxEpochs=2, MiniBatchSize=30, Metrics="accuracy",
                           ValidationData=([x.T for x in X[:30]], Y[:30]),
                           OutputFcn=lambda info: seen.append(dict(info)) or
                           info.Iteration >= 5, CheckpointPath=str(tmp_path),
                           CheckpointFrequency=2, CheckpointFrequencyUnit="iteration")
    net, info = trainnet([x.T for x in X], Y, classifier(), "crossentropy", opts, seed=0,
                         nargout=2)
    out = capsys.readouterr().out
    assert "TrainingLoss    ValidationLoss    TrainingAccuracy    ValidationAccuracy" in out
    assert "Training stopped: Stopped by OutputFcn" in out
    assert info.StopReason == "Stopped by OutputFcn" and info.TrainingHistory.height == 5
    assert [s["State"] for s in seen][:2] == ["start", "iteration"] and seen[-1]["State"] == "done"
    assert "TrainingAccuracy" in seen[1] and "ValidationAccuracy" in seen[1]
    files = sorted(os.listdir(tmp_path))
    assert len(files) == 2
    ckpt = loadNetwork(os.path.join(tmp_path, files[-1]))
    assert type(ckpt).__name__ == "DLNetwork"


def test_saved_trainnet_network_predicts_the_same(jv, tmp_path):
    X, Y = jv
    XT = [x.T for x in X]
    net = trainnet(XT, Y, classifier(), "crossentropy",
                   trainingOptions("adam", MaxEpochs=1, MiniBatchSize=30, Verbose=False),
                   seed=0)
    back = loadNetwork(saveNetwork(net, tmp_path / "net.mat"))
    np.testing.assert_array_equal(minibatchpredict(net, XT), minibatchpredict(back, XT))


def test_caller_network_and_data_are_not_changed(jv):
    X, Y = jv
    XT = [x.T.copy() for x in X]
    before = [x.copy() for x in XT]
    net0 = dlnetwork(classifier())
    w0 = [v.copy() for v in net0.Learnables.Value]
    trainnet(XT, Y, net0, "crossentropy",
             trainingOptions("adam", MaxEpochs=1, MiniBatchSize=30, Verbose=False))
    for a, b in zip(net0.Learnables.Value, w0):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(XT, before):
        np.testing.assert_array_equal(a, b)


def test_uninitialized_network_is_initialized(jv):
    X, Y = jv
    net0 = dlnetwork(classifier(), Initialize=False)
    net = trainnet([x.T for x in X], Y, net0, "crossentropy",
                   trainingOptions("adam", MaxEpochs=1, MiniBatchSize=30, Verbose=False))
    assert net.Initialized and not net0.Initialized
    assert initialize(net0).Initialized


def test_bad_input_is_a_clear_error_before_training(jv, rng):
    X, Y = jv
    XT = [x.T for x in X]
    opts = trainingOptions("adam", MaxEpochs=1, Verbose=False)
    with pytest.raises(ValueError, match="trainnet: `lossFcn` must be one of.*Did you mean"):
        trainnet(XT, Y, classifier(), "crossentropyy", opts)
    with pytest.raises(ValueError, match="needs probabilities.*softmaxLayer"):
        trainnet(XT, Y, classifier()[:-1], "crossentropy", opts)
    with pytest.raises(TypeError, match="regression loss but the targets are labels|are labels"):
        trainnet(XT, Y, classifier(), "mse", opts)
    with pytest.raises(ValueError, match="9 channels|classes"):
        trainnet(XT[:10], Y[:10], classifier(), "crossentropy", opts)
    with pytest.raises(ValueError, match="without an output layer.*classificationLayer"):
        trainnet(XT, Y, classifier() + [classificationLayer()], "crossentropy", opts)
    with pytest.raises(TypeError, match="datastore"):
        trainnet(XT, classifier(), "crossentropy", opts)
    with pytest.raises(ValueError, match="C-by-T|transposes|InputDataFormats"):
        trainnet(X, Y, classifier(), "crossentropy", opts)          # C-by-T without a format
    Xr, Tr = regression_data(rng)
    with pytest.raises(ValueError, match="classification metric.*regression task"):
        trainnet(Xr, Tr, [sequenceInputLayer(2), lstmLayer(3), fullyConnectedLayer(2)], "mse",
                 trainingOptions("adam", Metrics="accuracy", Verbose=False))
    with pytest.raises(ValueError, match="ObjectiveMetricName"):
        trainingOptions("adam", Metrics="rmse", ObjectiveMetricName="accuracy")
    with pytest.raises(ValueError, match="Did you mean 'accuracy'"):
        trainingOptions("adam", Metrics="acuracy")
    with pytest.raises(ValueError, match="PreprocessingEnvironment"):
        trainingOptions("adam", PreprocessingEnvironment="parallel")
    with pytest.raises(ValueError, match="nargout"):
        trainnet(XT, Y, classifier(), "crossentropy", opts, nargout=3)
    series = trainNetwork(X[::10], Y[::10], [sequenceInputLayer(12), lstmLayer(3, OutputMode="last"),
                                         fullyConnectedLayer(9), softmaxLayer(),
                                         classificationLayer()],
                          trainingOptions("adam", MaxEpochs=1, Verbose=False))
    with pytest.raises(TypeError, match="SeriesNetwork"):
        trainnet(XT, Y, series, "crossentropy", opts)


def test_metrics_option_is_accepted_by_trainnetwork(jv):
    X, Y = jv
    opts = trainingOptions("adam", MaxEpochs=1, MiniBatchSize=30, Metrics=["accuracy", "fscore"],
                           Verbose=False)
    net = trainNetwork(X, Y, classifier() + [classificationLayer()], opts, seed=0)
    assert net.TrainingInfo.TrainingAccuracy.size == 3


def test_seeded_runs_are_bit_identical_and_padding_changes_nothing(rng):
    X, T = regression_data(rng)
    layers = [sequenceInputLayer(2), lstmLayer(5), fullyConnectedLayer(2)]

    def run(**kw):
        return trainnet(X, T, layers, "mse",
                        trainingOptions("adam", MaxEpochs=2, MiniBatchSize=4, Verbose=False,
                                        **kw), seed=7)

    a, b = run(), run()
    c = run(SequencePaddingDirection="left", SequencePaddingValue=5)
    for u, v, w in zip(a.Learnables.Value, b.Learnables.Value, c.Learnables.Value):
        np.testing.assert_array_equal(u, v)
        np.testing.assert_array_equal(u, w)


def test_dlnetwork_onnx_round_trip_and_analysis(tmp_path, rng):
    pytest.importorskip("onnx")
    from lstmkit import (analyzeNetwork, exportONNXNetwork, globalAveragePooling1dLayer,
                         importNetworkFromONNX, predict)
    net = dlnetwork([sequenceInputLayer(3), gruLayer(4), fullyConnectedLayer(2)])
    back = importNetworkFromONNX(exportONNXNetwork(net, str(tmp_path / "net.onnx")))
    X = [rng.standard_normal((T, 3)) for T in (5, 2, 7)]
    for y, z in zip(minibatchpredict(back, X, UniformOutput=False),
                    minibatchpredict(net, X, UniformOutput=False)):
        np.testing.assert_allclose(y, z, atol=1e-5)
    assert predict(back, X[0]).shape == (5, 2)
    report = analyzeNetwork(net, Print=False)
    assert report.NumErrors == 0 and report.LayerInfo[1]["NumLearnables"] == 3 * 4 * (3 + 4 + 1)
    bad = analyzeNetwork([sequenceInputLayer(3), lstmLayer(4, OutputMode="last"),
                          globalAveragePooling1dLayer()], Print=False)
    assert bad.NumErrors == 1 and "pools over time steps" in bad.Issues[0]


def test_ctrl_c_returns_the_network_so_far_and_progress_plot(rng, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    X, T = regression_data(rng)

    def stop(info):
        if info.Iteration == 3 and info.State == "iteration":
            raise KeyboardInterrupt          # as Ctrl-C during the fourth iteration

    path = tmp_path / "progress.png"
    net, info = trainnet(X, T, [sequenceInputLayer(2), lstmLayer(4), fullyConnectedLayer(2)],
                         "mse", trainingOptions("adam", MaxEpochs=5, MiniBatchSize=4,
                                                Verbose=False, OutputFcn=stop,
                                                Metrics="rmse", ValidationData=(X, T),
                                                Plots="training-progress",
                                                ProgressPlotFile=str(path)),
                         seed=0, nargout=2)
    assert info.StopReason == "Stopped manually" and info.TrainingHistory.height == 3
    assert net.Initialized and path.stat().st_size > 10000
    assert f"Training progress plot written to {path}" in capsys.readouterr().out


def test_schedules_and_index_targets(jv):
    X, Y = jv
    XT = [x.T for x in X]
    index = np.array([int(y) for y in Y])                   # class indices 1..9
    opts = trainingOptions("sgdm", MaxEpochs=3, MiniBatchSize=30, Verbose=False,
                           LearnRateSchedule="piecewise", LearnRateDropPeriod=2,
                           LearnRateDropFactor=0.5)
    net, info = trainnet(XT, index, classifier(), "index-crossentropy", opts, seed=0, nargout=2)
    np.testing.assert_allclose(info.TrainingHistory.LearnRate, [0.01] * 6 + [0.005] * 3)
    same = trainnet(XT, Y, classifier(), "crossentropy", opts, seed=0)
    for a, b in zip(net.Learnables.Value, same.Learnables.Value):
        np.testing.assert_array_equal(a, b)       # labels "1".."9" sort as indices 1..9
    with pytest.raises(ValueError, match="index-crossentropy takes class indices 1 to K"):
        trainnet(XT, index + 1, classifier(), "index-crossentropy", opts)


def test_sequence_to_one_regression_with_numeric_array(rng):
    # the Sequence-to-One Regression example's shapes: a T-by-C-by-N array, N-by-R targets
    X = rng.standard_normal((20, 3, 16))
    T = np.stack([X[:, 0, n].mean() + X[:, 1, n].std() for n in range(16)])[:, None]
    layers = [sequenceInputLayer(3, Normalization="zscore"), lstmLayer(8, OutputMode="last"),
              fullyConnectedLayer(1)]
    net, info = trainnet(X, T, layers, "mse",
                         trainingOptions("adam", MaxEpochs=30, MiniBatchSize=8, Verbose=False,
                                         Metrics="rmse"), seed=0, nargout=2)
    Y = minibatchpredict(net, X)
    assert Y.shape == (16, 1)
    assert info.TrainingHistory.Loss[-1] < info.TrainingHistory.Loss[0]
    assert testnet(net, X, T, "rmse") == pytest.approx(np.sqrt(np.mean((Y - T) ** 2)), rel=1e-5)
    with pytest.raises(ValueError, match="channels|responses|rows"):
        trainnet(X, np.ones((16, 2)), layers, "mse", trainingOptions("adam", Verbose=False))


def test_target_data_formats(rng):
    X, T = regression_data(rng)
    layers = [sequenceInputLayer(2), lstmLayer(4), fullyConnectedLayer(2)]
    base = dict(MaxEpochs=1, MiniBatchSize=4, Verbose=False)
    a = trainnet(X, T, layers, "mse", trainingOptions("adam", **base), seed=0)
    b = trainnet(X, [t.T for t in T], layers, "mse",
                 trainingOptions("adam", TargetDataFormats="CTB", **base), seed=0)
    for u, v in zip(a.Learnables.Value, b.Learnables.Value):
        np.testing.assert_array_equal(u, v)
    with pytest.raises(ValueError, match="TargetDataFormats|C-by-T|transposes"):
        trainnet(X, [t.T for t in T], layers, "mse", trainingOptions("adam", **base))
