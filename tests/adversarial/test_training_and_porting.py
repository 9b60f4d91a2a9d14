"""Training that meets NaN, odd callbacks and threads; networks as values; porting traps; labels."""

import threading

import numpy as np
import pytest

from helpers import classifier_layers, clear_error, unchanged
from lstmkit import (classify, predict, predictAndUpdateState, resetState, rng, trainingOptions,
                     trainNetwork)


@pytest.mark.parametrize("value", ["no", "stop", float("nan"), [True], {"stop": True}, 2, -1,
                                   np.array([1, 0]), object()])
def test_outputfcn_must_return_a_truth_value(jv, value):
    X, Y = jv
    opts = trainingOptions("adam", MaxEpochs=1, MiniBatchSize=10, Verbose=False,
                           OutputFcn=lambda info: value)
    clear_error(lambda: trainNetwork(X, Y, classifier_layers(), opts), "trainNetwork",
                "OutputFcn must return true")


@pytest.mark.parametrize("value, stops", [(True, True), (1, True), (np.True_, True),
                                          (False, False), (0, False), (None, False),
                                          (np.array(True), True), (0.0, False)])
def test_outputfcn_truth_values(jv, value, stops):
    X, Y = jv
    opts = trainingOptions("adam", MaxEpochs=2, MiniBatchSize=10, Verbose=False,
                           OutputFcn=lambda info: value if info.State == "iteration" else False)
    net = trainNetwork(X, Y, classifier_layers(), opts, seed=0)
    assert (net.TrainingInfo.StopReason == "Stopped by OutputFcn") == stops


def test_nan_validation_never_selects_a_network(jv):
    X, Y = jv
    Xv = [x.copy() for x in X[:5]]
    opts = trainingOptions("adam", MaxEpochs=3, MiniBatchSize=10, Verbose=False,
                           ValidationData=(Xv, Y[:5]), ValidationFrequency=1,
                           OutputNetwork="best-validation-loss")
    import lstmkit.training.trainer as trainer
    original = trainer.evaluate
    trainer.evaluate = lambda *a, **k: (float("nan"), original(*a, **k)[1])
    try:
        net = trainNetwork(X, Y, classifier_layers(), opts, seed=0)
    finally:
        trainer.evaluate = original
    assert net.TrainingInfo.OutputNetworkIteration == len(net.TrainingInfo.TrainingLoss)


def test_seeded_calls_in_threads_are_independent(jv):
    X, Y = jv
    opts = trainingOptions("adam", MaxEpochs=2, MiniBatchSize=10, Verbose=False)
    alone = trainNetwork(X, Y, classifier_layers(), opts, seed=5).Layers[1].InputWeights
    rng(1)
    state = rng()
    results = {}

    def work(k):
        results[k] = trainNetwork(X, Y, classifier_layers(), opts, seed=5).Layers[1].InputWeights
    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for w in results.values():
        np.testing.assert_array_equal(w, alone)
    assert rng() == state                       # the global generator untouched


@pytest.mark.parametrize("make", ["predictAndUpdateState", "resetState"])
def test_returned_networks_own_their_arrays(series_net, make):
    X = [np.ones((12, 3))]
    out = predictAndUpdateState(series_net, X) if make == "predictAndUpdateState" else \
        resetState(series_net)
    for a, b in zip(out.Layers, series_net.Layers):
        for name, value in vars(a).items():
            if isinstance(value, np.ndarray):
                assert not np.shares_memory(value, vars(b).get(name, np.zeros(1))), name


# -- porting traps ---------------------------------------------------------------------------
def test_a_column_vector_is_one_time_step(series_net):
    x = np.random.default_rng(0).standard_normal(12)
    np.testing.assert_allclose(predict(series_net, x), predict(series_net, x.reshape(12, 1)))


def test_a_univariate_series_as_a_vector(regression_net):
    from lstmkit import assembleNetwork, fullyConnectedLayer, lstmLayer, regressionLayer
    from lstmkit import sequenceInputLayer
    r = np.random.default_rng(1)
    net = assembleNetwork([sequenceInputLayer(1), lstmLayer(
        3, OutputMode="last", InputWeights=r.standard_normal((12, 1)),
        RecurrentWeights=r.standard_normal((12, 3)), Bias=np.zeros(12)), fullyConnectedLayer(
        1, Weights=np.ones((1, 3)), Bias=[0.0]), regressionLayer()])
    series = r.standard_normal(20)
    np.testing.assert_allclose(predict(net, series), predict(net, series.reshape(1, -1)))


def test_labels_given_as_a_column_come_back_as_a_column(jv, quick):
    X, Y = jv
    column = Y.reshape(-1, 1)
    net = trainNetwork(X, column, classifier_layers(), quick, seed=0)
    pred = classify(net, X)
    assert pred.shape == column.shape
    accuracy = np.mean(pred == column)          # what a porter writes: element by element
    assert 0.0 <= accuracy <= 1.0 and (pred == column).shape == column.shape
    from lstmkit import loadNetwork, saveNetwork
    import tempfile
    import os
    path = saveNetwork(net, os.path.join(tempfile.mkdtemp(), "n.mat"))
    assert classify(loadNetwork(path), X).shape == column.shape


def test_float_labels_come_back_as_floats(jv, quick):
    X, _ = jv
    Y = np.where(np.arange(len(X)) % 2 == 0, 1.0, 2.0)
    from lstmkit import (classificationLayer, fullyConnectedLayer, lstmLayer,
                         sequenceInputLayer, softmaxLayer)
    net = trainNetwork(X, Y, [sequenceInputLayer(12), lstmLayer(4, OutputMode="last"),
                              fullyConnectedLayer(2), softmaxLayer(), classificationLayer()],
                       quick, seed=0)
    pred = classify(net, X)
    assert pred.dtype == np.float64 and set(np.unique(pred)) <= {1.0, 2.0}


def test_documented_names_are_exported():
    import lstmkit
    for name in ("RegressionOutputLayer", "ClassificationOutputLayer", "LayerArray",
                 "SeriesNetwork", "DAGNetwork", "DLNetwork", "TrainingInfo", "LayerGraph",
                 "arrayDatastore", "combine"):
        assert name in lstmkit.__all__, name
        assert hasattr(lstmkit, name)


def test_each_training_run_writes_its_own_progress_plot(jv, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    X, Y = jv
    opts = trainingOptions("adam", MaxEpochs=1, MiniBatchSize=10, Verbose=False,
                           Plots="training-progress")
    for _ in range(3):                     # three folds of a cross-validation, within a second
        trainNetwork(X, Y, classifier_layers(), opts, seed=0)
    assert len([n for n in __import__("os").listdir(tmp_path) if n.endswith(".png")]) == 3


# -- labels ---------------------------------------------------------------------------------
LABELS = [
    ("too few", lambda Y: Y[:-1], "labels but X has"),
    ("too many", lambda Y: np.concatenate([Y, Y[:1]]), "labels but X has"),
    ("None entries", lambda Y: np.array(list(Y[:-1]) + [None], dtype=object), "label"),
    ("NaN entries", lambda Y: np.where(np.arange(len(Y)) == 0, np.nan, 1.0), "NaN|label"),
    ("non-integer numbers", lambda Y: np.linspace(0.1, 0.9, len(Y)), "non-integer"),
    ("a dict", lambda Y: {"labels": Y}, "label"),
    ("two columns", lambda Y: np.stack([Y, Y], axis=1), "label"),
    ("one string", lambda Y: "1", "labels but X has"),
    ("empty", lambda Y: np.array([], dtype=str), "labels but X has"),
    ("complex", lambda Y: np.ones(len(Y)) * 1j, "label|complex|real"),
    ("mixed types", lambda Y: np.array([1, "a"] * (len(Y) // 2), dtype=object), "label"),
]


@pytest.mark.parametrize("case, make, fragment", LABELS, ids=[c[0] for c in LABELS])
def test_bad_labels(jv, quick, case, make, fragment):
    X, Y = jv
    bad = make(Y)
    clear_error(lambda: trainNetwork(X, bad, classifier_layers(), quick), "trainNetwork",
                fragment, args=(bad,))


@pytest.mark.parametrize("case, make, fragment", LABELS, ids=[c[0] for c in LABELS])
def test_bad_targets_for_trainnet(jv, quick, case, make, fragment):
    from lstmkit import fullyConnectedLayer, lstmLayer, sequenceInputLayer, softmaxLayer, trainnet
    X, Y = jv
    bad = make(Y)
    layers = [sequenceInputLayer(12), lstmLayer(4, OutputMode="last"), fullyConnectedLayer(9),
              softmaxLayer()]
    clear_error(lambda: trainnet([x.T for x in X], bad, layers, "crossentropy", quick),
                "trainnet", fragment.replace("labels but X has", "labels but X has|observations")
                + "|targets|classes|label", args=(bad,))


def test_regression_targets_beyond_float32(regression_net):
    from lstmkit import fullyConnectedLayer, lstmLayer, regressionLayer, sequenceInputLayer
    _, X, Y = regression_net
    bad = Y.copy()
    bad[0] = 1e39
    opts = trainingOptions("adam", MaxEpochs=1, MiniBatchSize=10, Verbose=False)
    layers = [sequenceInputLayer(3), lstmLayer(4, OutputMode="last"), fullyConnectedLayer(1),
              regressionLayer()]
    clear_error(lambda: trainNetwork(X, bad, layers, opts), "trainNetwork",
                "single precision|finite|float32", args=(bad,))


def test_caller_data_is_never_modified_by_training(jv, quick):
    X, Y = jv
    unchanged(lambda: trainNetwork(X, Y, classifier_layers(), quick, seed=0), X, Y)


# -- Ctrl-C at every stage of a run -------------------------------------------------------------
@pytest.mark.parametrize("stage", ["start", "iteration 3", "validation", "checkpoint write",
                                   "done"])
def test_ctrl_c_keeps_the_last_good_network_and_files(jv, tmp_path, monkeypatch, stage):
    import os
    import lstmkit._files as files
    import lstmkit.training.trainer as trainer
    from lstmkit import loadNetwork
    X, Y = jv
    calls = {"n": 0}

    def outputfcn(info):
        if stage == "start" and info.State == "start":
            raise KeyboardInterrupt
        if stage == "iteration 3" and info.Iteration == 3 and info.State == "iteration":
            raise KeyboardInterrupt
        if stage == "done" and info.State == "done":
            raise KeyboardInterrupt
        return False
    if stage == "validation":
        original = trainer.evaluate

        def interrupted(*a, **k):
            calls["n"] += 1
            if calls["n"] == 2:
                raise KeyboardInterrupt
            return original(*a, **k)
        monkeypatch.setattr(trainer, "evaluate", interrupted)
    if stage == "checkpoint write":
        original_write = files.write_atomically

        def interrupted_write(filename, write, func=None):
            calls["n"] += 1
            if calls["n"] == 2:                      # the second checkpoint, half written
                def half(f):
                    f.write(b"half")
                    raise KeyboardInterrupt
                return original_write(filename, half, func)
            return original_write(filename, write, func)
        monkeypatch.setattr("lstmkit.io.write_atomically", interrupted_write)
    opts = trainingOptions("adam", MaxEpochs=3, MiniBatchSize=10, Verbose=False,
                           OutputFcn=outputfcn, ValidationData=(X[:6], Y[:6]),
                           ValidationFrequency=2, CheckpointPath=str(tmp_path),
                           CheckpointFrequency=1, CheckpointFrequencyUnit="iteration")
    net = trainNetwork(X, Y, classifier_layers(), opts, seed=0)
    assert net.TrainingInfo.StopReason == "Stopped manually"
    assert all(np.all(np.isfinite(getattr(layer, name))) for layer in net.Layers
               for name in ("InputWeights", "Weights") if getattr(layer, name, None) is not None)
    names = os.listdir(tmp_path)
    assert not [n for n in names if n.endswith(".part")], names
    for n in names:                                   # every checkpoint left is whole
        loadNetwork(os.path.join(tmp_path, n))
    assert np.asarray(classify(net, X)).shape[0] == len(X)
