"""Validation, output network, schedules, verbose table, plot, OutputFcn, Ctrl-C, checkpoints."""

import contextlib
import glob
import io
import os
import re
import signal

import numpy as np
import pytest

from lstmkit import (analyzeNetwork, classificationLayer, cosineLearnRate, cyclicalLearnRate,
                     exponentialLearnRate, fullyConnectedLayer, loadNetwork, lstmLayer,
                     piecewiseLearnRate, polynomialLearnRate, predict, regressionLayer, rng,
                     sequenceInputLayer, softmaxLayer, trainingOptions, trainNetwork,
                     warmupLearnRate)

QUIET = dict(Verbose=False)


def noisy_classes(n, seed, noise=1.0):
    """Two classes told apart by the mean of channel 0, buried in noise: easy to overfit."""
    r = np.random.default_rng(seed)
    X, Y = [], []
    for i in range(n):
        k = i % 2
        x = noise * r.standard_normal((2, int(r.integers(6, 12))))
        x[0] += 0.4 * (2 * k - 1)
        X.append(x)
        Y.append("ab"[k])
    return X, np.array(Y)


def classifier(H=24):
    return [sequenceInputLayer(2), lstmLayer(H, OutputMode="last"), fullyConnectedLayer(2),
            softmaxLayer(), classificationLayer()]


# -- validation and the output network ---------------------------------------------------

def test_training_info_without_validation():
    X, Y = noisy_classes(20, 0)
    info = trainNetwork(X, Y, classifier(), trainingOptions("adam", MaxEpochs=2, MiniBatchSize=5,
                                                            **QUIET)).TrainingInfo
    assert info.keys() == ["TrainingLoss", "TrainingAccuracy", "ValidationLoss",
                           "ValidationAccuracy", "BaseLearnRate", "FinalValidationLoss",
                           "FinalValidationAccuracy", "OutputNetworkIteration", "StopReason"]
    assert info.TrainingLoss.size == 8 and np.all(np.isnan(info.ValidationLoss))
    assert np.isnan(info.FinalValidationLoss) and info.OutputNetworkIteration == 8
    assert info.StopReason == "Max epochs completed"


def test_validation_frequency_and_values():
    X, Y = noisy_classes(24, 1)
    XV, YV = noisy_classes(10, 2)
    opts = trainingOptions("adam", MaxEpochs=5, MiniBatchSize=6, ValidationData=(XV, YV),
                           ValidationFrequency=3, OutputNetwork="last-iteration", **QUIET)
    net = trainNetwork(X, Y, classifier(), opts)
    info = net.TrainingInfo
    validated = np.flatnonzero(~np.isnan(info.ValidationLoss)) + 1
    assert list(validated) == [1, 3, 6, 9, 12, 15, 18, 20]   # first, every 3rd, last
    # the final validation values are those of the returned (last) network
    scores = predict(net, XV)
    expected_loss = -np.mean(np.log(scores[np.arange(10), (YV == "b").astype(int)]))
    np.testing.assert_allclose(info.FinalValidationLoss, expected_loss, rtol=1e-5)
    acc = 100 * np.mean(np.array(["a", "b"])[scores.argmax(1)] == YV)
    np.testing.assert_allclose(info.FinalValidationAccuracy, acc)
    assert info.OutputNetworkIteration == 20


def test_patience_stops_and_best_network_is_returned():
    X, Y = noisy_classes(16, 3, noise=2.0)
    XV, YV = noisy_classes(60, 4, noise=2.0)
    opts = trainingOptions("adam", MaxEpochs=200, MiniBatchSize=16, InitialLearnRate=0.02,
                           ValidationData=(XV, YV), ValidationFrequency=2, ValidationPatience=5,
                           **QUIET)
    rng(0)
    net = trainNetwork(X, Y, classifier(48), opts)
    info = net.TrainingInfo
    assert info.StopReason == "Met validation criterion"
    assert info.TrainingLoss.size < 200
    vl = info.ValidationLoss
    best = int(np.nanargmin(vl)) + 1
    assert info.OutputNetworkIteration == best             # 'auto' -> best with validation
    np.testing.assert_allclose(info.FinalValidationLoss, np.nanmin(vl))
    # the five validations after the best one were no better
    after = vl[best:][~np.isnan(vl[best:])]
    assert len(after) == 5 and np.all(after >= np.nanmin(vl))
    # the returned network really is the best one
    scores = predict(net, XV)
    loss = -np.mean(np.log(scores[np.arange(60), (YV == "b").astype(int)]))
    np.testing.assert_allclose(loss, info.FinalValidationLoss, rtol=1e-5)


def test_regression_validation_rmse():
    r = np.random.default_rng(0)
    X = [r.standard_normal((2, 8)) for _ in range(12)]
    Y = np.array([[x[0].sum()] for x in X])
    opts = trainingOptions("adam", MaxEpochs=3, MiniBatchSize=4, ValidationData=(X[:4], Y[:4]),
                           **QUIET)
    info = trainNetwork(X, Y, [sequenceInputLayer(2), lstmLayer(4, OutputMode="last"),
                               fullyConnectedLayer(1), regressionLayer()], opts).TrainingInfo
    assert "ValidationRMSE" in info.keys() and "FinalValidationRMSE" in info.keys()
    assert np.isfinite(info.FinalValidationRMSE)


def test_validation_data_errors():
    X, Y = noisy_classes(8, 0)
    with pytest.raises(ValueError, match="`YValidation` contains labels \\['z'\\]"):
        trainNetwork(X, Y, classifier(), trainingOptions("adam", ValidationData=(X[:2], ["a", "z"]),
                                                         **QUIET))
    with pytest.raises(ValueError, match="`XValidation`"):
        trainNetwork(X, Y, classifier(), trainingOptions(
            "adam", ValidationData=([x[:1] for x in X[:2]], Y[:2]), **QUIET))


# -- schedules ---------------------------------------------------------------------------

def rates(schedule, epochs=12, batches=2, **extra):
    X, Y = noisy_classes(8, 0)
    opts = trainingOptions("sgdm", MaxEpochs=epochs, MiniBatchSize=4, LearnRateSchedule=schedule,
                           **extra, **QUIET)
    return trainNetwork(X, Y, classifier(4), opts).TrainingInfo.BaseLearnRate[::batches] / 0.01


@pytest.mark.parametrize("schedule,expected", [
    ("none", [1] * 12),
    ("piecewise", [1] * 10 + [0.1] * 2),
    (piecewiseLearnRate(DropFactor=0.5, Period=3), 0.5 ** (np.arange(12) // 3)),
    ("warmup", [0, 0.2, 0.4, 0.6, 0.8] + [1] * 7),
    (warmupLearnRate(InitialFactor=0.5, NumSteps=2), [0.5, 0.75] + [1] * 10),
    ("polynomial", list(1 - np.arange(10) / 10) + [0, 0]),
    (polynomialLearnRate(Power=2, NumSteps=4), [1, 0.5625, 0.25, 0.0625] + [0] * 8),
    ("exponential", 0.1 ** np.arange(12.0)),
    (exponentialLearnRate(DropFactor=0.5, Period=2), 0.5 ** (np.arange(12) / 2)),
    ("cosine", list((1 + np.cos(np.pi * np.arange(10) / 10)) / 2) + [1, (1 + np.cos(np.pi / 10)) / 2]),
    (cosineLearnRate(Period=4, PeriodGrowth=2, MinFactor=0.1),
     [0.1 + 0.9 * (1 + np.cos(np.pi * s / p)) / 2 for s, p in
      [(0, 4), (1, 4), (2, 4), (3, 4), (0, 8), (1, 8), (2, 8), (3, 8), (4, 8), (5, 8), (6, 8),
       (7, 8)]]),
    ("cyclical", [1, 2.8, 4.6, 6.4, 8.2, 10, 8.2, 6.4, 4.6, 2.8, 1, 2.8]),
    (cyclicalLearnRate(MaxFactor=3, Period=4, StepRatio=0.25), [1, 3, 2 + 1 / 3, 1 + 2 / 3] * 3),
    ([warmupLearnRate(NumSteps=2), piecewiseLearnRate(DropFactor=0.5, Period=4)],
     [0, 0.5, 1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25]),
])
def test_schedule_rate_sequences(schedule, expected):
    np.testing.assert_allclose(rates(schedule), expected, atol=1e-12)


def test_iteration_unit_schedule():
    got = rates(exponentialLearnRate(DropFactor=0.5, FrequencyUnit="iteration"), epochs=3,
                batches=1)
    np.testing.assert_allclose(got, 0.5 ** np.arange(6))


def test_piecewise_string_uses_drop_options():
    np.testing.assert_allclose(rates("piecewise", LearnRateDropFactor=0.5, LearnRateDropPeriod=5),
                               0.5 ** (np.arange(12) // 5))


def test_schedule_object_errors():
    with pytest.raises(ValueError, match="cosineLearnRate: `Period`"):
        cosineLearnRate(Period=0)
    with pytest.raises(TypeError, match="Did you mean 'DropFactor'"):
        piecewiseLearnRate(Dropfactr=0.5)
    with pytest.raises(ValueError, match="`FrequencyUnit` must be one of 'epoch', 'iteration'"):
        warmupLearnRate(FrequencyUnit="batch")


# -- the verbose table -------------------------------------------------------------------

def test_verbose_table_with_validation_matches_matlab_layout():
    X, Y = noisy_classes(12, 5)
    opts = trainingOptions("sgdm", MaxEpochs=4, MiniBatchSize=4, ValidationData=(X[:4], Y[:4]),
                           ValidationFrequency=5, VerboseFrequency=4)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        trainNetwork(X, Y, classifier(), opts)
    lines = [re.sub(r"\d\d:\d\d:\d\d", "hh:mm:ss", line) for line in out.getvalue().splitlines()]
    rule = "|" + "=" * 118 + "|"
    assert lines[:5] == [
        "Training on single CPU.",
        rule,
        "|  Epoch  |  Iteration  |  Time Elapsed  |  Mini-batch  |  Validation  |  Mini-batch  "
        "|  Validation  |  Base Learning  |",
        "|         |             |   (hh:mm:ss)   |   Accuracy   |   Accuracy   |     Loss     "
        "|     Loss     |      Rate       |",
        rule]
    rows = lines[5:-2]
    assert [int(r.split("|")[2]) for r in rows] == [1, 4, 5, 8, 10, 12]
    assert len(rows[0]) == 120 and all(len(r) == 120 for r in rows)
    # a row without validation has blank validation cells
    four = rows[1].split("|")
    assert four[5].strip() == "" and four[7].strip() == "" and four[4].strip().endswith("%")
    assert rows[0].split("|")[5].strip().endswith("%")
    assert re.fullmatch(r"\|\s+1 \|\s+1 \|\s+hh:mm:ss \|\s+\d+\.\d\d% \|\s+\d+\.\d\d% \|"
                        r"\s+\d\.\d{4} \|\s+\d\.\d{4} \|\s+0\.0100 \|", rows[0])
    assert lines[-2] == rule and lines[-1] == "Training finished: Max epochs completed."


def test_verbose_stop_reasons():
    X, Y = noisy_classes(8, 0)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        trainNetwork(X, Y, classifier(), trainingOptions("adam", MaxEpochs=5,
                                                         OutputFcn=lambda info: True))
    assert out.getvalue().splitlines()[-1] == "Training finished: Stopped by OutputFcn."


# -- OutputFcn and Ctrl-C ------------------------------------------------------------------

def test_output_fcn_receives_matlab_info_and_can_stop():
    X, Y = noisy_classes(12, 0)
    seen = []

    def record(info):
        seen.append(dict(info))
        return info.State == "iteration" and info.Iteration == 4

    net = trainNetwork(X, Y, classifier(), trainingOptions(
        "adam", MaxEpochs=10, MiniBatchSize=4, OutputFcn=[record, lambda info: False],
        ValidationData=(X[:4], Y[:4]), ValidationFrequency=2, **QUIET))
    states = [s["State"] for s in seen]
    assert states == ["start", "iteration", "iteration", "iteration", "iteration", "done"]
    first = seen[1]
    assert set(first) == {"Epoch", "Iteration", "TimeSinceStart", "TrainingLoss",
                          "ValidationLoss", "BaseLearnRate", "TrainingAccuracy", "TrainingRMSE",
                          "ValidationAccuracy", "ValidationRMSE", "State"}
    assert first["Iteration"] == 1 and first["Epoch"] == 1 and first["TrainingRMSE"] is None
    assert first["ValidationLoss"] is not None and seen[3]["ValidationLoss"] is None
    assert seen[0]["TrainingLoss"] is None
    assert net.TrainingInfo.StopReason == "Stopped by OutputFcn"
    assert net.TrainingInfo.TrainingLoss.size == 4


@pytest.mark.parametrize("how", ["raise", "signal"])
def test_ctrl_c_stops_cleanly(how):
    X, Y = noisy_classes(12, 0)

    def interrupt(info):
        if info.State == "iteration" and info.Iteration == 3:
            if how == "raise":
                raise KeyboardInterrupt
            os.kill(os.getpid(), signal.SIGINT)

    # Python's own SIGINT handler, as in a terminal: a test run started in the background
    # (SIGINT ignored) would otherwise never see the signal
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        net = trainNetwork(X, Y, classifier(), trainingOptions(
            "adam", MaxEpochs=10, MiniBatchSize=4, OutputFcn=interrupt, **QUIET))
    finally:
        signal.signal(signal.SIGINT, previous)
    info = net.TrainingInfo
    assert info.StopReason == "Stopped manually"
    assert 3 <= info.TrainingLoss.size <= 4
    assert all(np.all(np.isfinite(getattr(net.Layers[1], n)))
               for n in ("InputWeights", "RecurrentWeights", "Bias"))
    predict(net, X)


# -- the training-progress plot ----------------------------------------------------------

def test_progress_plot_written_headless(tmp_path):
    pytest.importorskip("matplotlib")
    X, Y = noisy_classes(12, 0)
    path = tmp_path / "progress.png"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        trainNetwork(X, Y, classifier(), trainingOptions(
            "adam", MaxEpochs=3, MiniBatchSize=4, Plots="training-progress",
            ProgressPlotFile=str(path), ValidationData=(X[:4], Y[:4]), ValidationFrequency=2,
            **QUIET))
    assert f"Training progress plot written to {path}" in out.getvalue()
    assert path.stat().st_size > 20000
    import matplotlib.image
    pixels = matplotlib.image.imread(str(path))
    assert pixels.shape[0] > 400 and pixels.std() > 0.05     # not a blank image


def test_progress_plot_regression(tmp_path):
    pytest.importorskip("matplotlib")
    X = [np.random.default_rng(0).standard_normal((2, 6)) for _ in range(8)]
    path = tmp_path / "reg.png"
    with contextlib.redirect_stdout(io.StringIO()):
        trainNetwork(X, np.ones((8, 1)), [sequenceInputLayer(2), lstmLayer(3, OutputMode="last"),
                                          fullyConnectedLayer(1), regressionLayer()],
                     trainingOptions("adam", MaxEpochs=2, Plots="training-progress",
                                     ProgressPlotFile=str(path), **QUIET))
    assert path.stat().st_size > 10000


def test_plots_without_matplotlib_is_a_clear_error(monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(ImportError, match="Plots='training-progress' needs matplotlib"):
        trainingOptions("adam", Plots="training-progress")


# -- checkpoints ---------------------------------------------------------------------------

@pytest.mark.parametrize("unit,frequency,expected", [("epoch", 1, [3, 6, 9]),
                                                     ("epoch", 2, [6]),
                                                     ("iteration", 4, [4, 8])])
def test_checkpoints_named_like_matlab(tmp_path, unit, frequency, expected):
    X, Y = noisy_classes(12, 0)
    trainNetwork(X, Y, classifier(), trainingOptions(
        "adam", MaxEpochs=3, MiniBatchSize=4, CheckpointPath=str(tmp_path),
        CheckpointFrequency=frequency, CheckpointFrequencyUnit=unit, **QUIET))
    names = sorted(os.listdir(tmp_path), key=lambda n: int(n.split("__")[1]))
    assert [int(n.split("__")[1]) for n in names] == expected
    for n in names:
        assert re.fullmatch(r"net_checkpoint__\d+__\d{4}_\d\d_\d\d__\d\d_\d\d_\d\d\.mat", n)
    assert not glob.glob(str(tmp_path / ".lstmkit-*"))   # no temporary files left


def test_resume_from_checkpoint_continues_the_loss_curve(tmp_path):
    X, Y = noisy_classes(24, 0, noise=0.5)
    opts = dict(MiniBatchSize=8, InitialLearnRate=0.01, Shuffle="never", **QUIET)
    rng(0)
    first = trainNetwork(X, Y, classifier(), trainingOptions(
        "adam", MaxEpochs=15, CheckpointPath=str(tmp_path), **opts))
    latest = max(glob.glob(str(tmp_path / "*.mat")), key=lambda n: int(n.split("__")[1]))
    assert int(latest.split("__")[1]) == 45
    checkpoint = loadNetwork(latest)
    np.testing.assert_array_equal(checkpoint.Layers[1].InputWeights, first.Layers[1].InputWeights)
    resumed = trainNetwork(X, Y, checkpoint.Layers, trainingOptions("adam", MaxEpochs=2, **opts))
    start = resumed.TrainingInfo.TrainingLoss[:3].mean()
    curve = first.TrainingInfo.TrainingLoss
    assert start < 0.8 * curve[:3].mean()              # not back at the beginning
    assert abs(start - curve[-3:].mean()) < 0.3 * curve[:3].mean()


# -- analyzeNetwork ------------------------------------------------------------------------

def test_analyze_network_report():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = analyzeNetwork(classifier(100))
    text = out.getvalue()
    assert result.Issues == [] and result.TotalLearnables == 4 * 100 * (2 + 100 + 1) + 2 * 101
    assert "InputWeights 400×2, RecurrentWeights 400×100, Bias 400×1" in text
    assert "2(C) × 1(B) × 1(T)" in text and "100(C) × 1(B)" in text
    assert result.LayerInfo[1]["NumLearnables"] == 41200


def test_analyze_network_finds_errors_before_training():
    bad = [sequenceInputLayer(3), lstmLayer(4, InputWeights=np.ones((16, 5))),
           fullyConnectedLayer(2), classificationLayer()]
    result = analyzeNetwork(bad, Print=False)
    assert len(result.Issues) == 2
    assert any("must follow a softmaxLayer" in i for i in result.Issues)
    assert any("expects input of size 5" in i for i in result.Issues)
    assert "2 errors" in repr(result)
    missing = analyzeNetwork([sequenceInputLayer(3), lstmLayer(4)], TargetUsage="trainNetwork",
                             Print=False)
    assert any("the last layer must be an output layer" in i for i in missing.Issues)
    # without an output layer the default analyzes the layers as a dlnetwork (trainnet's)
    assert analyzeNetwork([sequenceInputLayer(3), lstmLayer(4)], Print=False).NumErrors == 0
