"""MATLAB's Japanese Vowels example end to end, and the shipped copy of the data."""

import os
import subprocess
import sys

import numpy as np
import pytest

from lstmkit import japaneseVowelsTestData, japaneseVowelsTrainData
from lstmkit.datasets import read_ts

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "..", "shared", "data", "japanese_vowels")


def test_data_shapes_and_labels():
    X, Y = japaneseVowelsTrainData()
    assert len(X) == 270 and Y.shape == (270,)
    assert all(x.shape[0] == 12 and 7 <= x.shape[1] <= 26 for x in X)
    assert sorted(set(Y)) == [str(k) for k in range(1, 10)]
    assert np.all(np.unique(Y, return_counts=True)[1] == 30)
    XT, YT = japaneseVowelsTestData()
    assert len(XT) == 370 and max(x.shape[1] for x in XT) == 29
    assert list(np.unique(YT, return_counts=True)[1]) == [31, 35, 88, 44, 29, 24, 40, 50, 29]


@pytest.mark.skipif(not os.path.isdir(SHARED), reason="../shared data not present")
def test_shipped_copy_equals_uci_files():
    for split, loader in (("TRAIN", japaneseVowelsTrainData), ("TEST", japaneseVowelsTestData)):
        X0, Y0 = read_ts(os.path.join(SHARED, f"JapaneseVowels_{split}.ts"))
        X, Y = loader()
        np.testing.assert_array_equal(Y, Y0)
        for a, b in zip(X, X0):
            np.testing.assert_array_equal(a, b)


def sorted_training_data():
    """The training data sorted by length with MATLAB's (stable) sort, as the example does."""
    XTrain, YTrain = japaneseVowelsTrainData()
    order = np.argsort([x.shape[1] for x in XTrain], kind="stable")
    return [XTrain[i] for i in order], YTrain[order]


def example_layers():
    from lstmkit import (classificationLayer, fullyConnectedLayer, lstmLayer, sequenceInputLayer,
                         softmaxLayer)
    return [sequenceInputLayer(12), lstmLayer(100, OutputMode="last"),
            fullyConnectedLayer(9), softmaxLayer(), classificationLayer()]


@pytest.mark.slow
def test_example_accuracy_is_in_matlabs_range():
    """The README's first command runs this script.

    With the default generator (MATLAB's: 'twister', seed 0) it gives 0.9486 here.  One run is
    one draw: the recipe's accuracy varies from seed to seed (next test), and another CPU or
    thread count changes the float32 rounding and with it the draw.  So this bound catches a
    broken trainer; it is not the issue's 0.94 goal.
    """
    out = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "japanese_vowels.py")],
                         capture_output=True, text=True, check=True, timeout=600)
    accuracy = float(out.stdout.split("Test accuracy:")[1].split()[0])
    assert accuracy >= 0.92, out.stdout


@pytest.mark.slow
def test_example_mean_accuracy_over_seeds():
    """The example's recipe over 12 seeds (rng(0) ... rng(11)).

    Measured here: mean 0.937 (0.927 to 0.949); over 60 seeds the mean is 0.940, standard
    deviation 0.008, the same as PyTorch trained with the identical recipe (0.941 over 60 seeds;
    benchmarks/accuracy.py).
    A trainer that lost a point of accuracy would fall under 0.93 (3 standard errors below).
    """
    from lstmkit import classify, rng, trainingOptions, trainNetwork
    XTrain, YTrain = sorted_training_data()
    XTest, YTest = japaneseVowelsTestData()
    options = trainingOptions("adam", ExecutionEnvironment="cpu", GradientThreshold=1,
                              MaxEpochs=100, MiniBatchSize=27, SequenceLength="longest",
                              Shuffle="never", Verbose=0)
    saved = rng()
    accuracies = []
    try:
        for seed in range(12):
            rng(seed)
            net = trainNetwork(XTrain, YTrain, example_layers(), options)
            accuracies.append(np.mean(classify(net, XTest, MiniBatchSize=27) == YTest))
    finally:
        rng(saved)
    assert np.mean(accuracies) >= 0.93, accuracies
    assert min(accuracies) >= 0.9, accuracies


def test_example_with_validation_plot_and_checkpoints(tmp_path):
    """The example's script, changing only its options (shortened to 3 epochs)."""
    pytest.importorskip("matplotlib")
    from lstmkit import classify, loadNetwork, trainingOptions, trainNetwork
    XTrain, YTrain = sorted_training_data()
    XTest, YTest = japaneseVowelsTestData()
    layers = example_layers()
    options = trainingOptions("adam", ExecutionEnvironment="cpu", GradientThreshold=1,
                              MaxEpochs=3, MiniBatchSize=27, SequenceLength="longest",
                              Shuffle="never", Verbose=0,
                              ValidationData=(XTest, YTest), ValidationFrequency=10,
                              Plots="training-progress",
                              ProgressPlotFile=str(tmp_path / "progress.png"),
                              CheckpointPath=str(tmp_path))
    net = trainNetwork(XTrain, YTrain, layers, options)
    info = net.TrainingInfo
    assert np.sum(~np.isnan(info.ValidationLoss)) == 4        # iterations 1, 10, 20, 30
    assert (tmp_path / "progress.png").stat().st_size > 20000
    checkpoints = sorted(tmp_path.glob("net_checkpoint__*.mat"))
    assert len(checkpoints) == 3
    again = loadNetwork(checkpoints[-1])
    YPred = classify(net, XTest, MiniBatchSize=27)
    assert np.mean(YPred == YTest) * 100 == pytest.approx(info.FinalValidationAccuracy)
    assert again.Layers[1].InputWeights.shape == (400, 12)
