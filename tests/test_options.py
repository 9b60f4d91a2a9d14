"""trainingOptions: MATLAB's defaults per solver, Name=Value forms, validation, display."""

import numpy as np
import pytest

from lstmkit import trainingOptions

COMMON = {"LearnRateSchedule": "none", "LearnRateDropFactor": 0.1, "LearnRateDropPeriod": 10,
          "ValidationData": None, "ValidationFrequency": 50, "ValidationPatience": np.inf,
          "OutputNetwork": "auto", "Plots": "none", "OutputFcn": None, "CheckpointPath": "",
          "CheckpointFrequency": 1, "CheckpointFrequencyUnit": "epoch",
          "L2Regularization": 1e-4, "GradientThresholdMethod": "l2norm",
          "GradientThreshold": np.inf, "MaxEpochs": 30, "MiniBatchSize": 128, "Verbose": True,
          "VerboseFrequency": 50, "Shuffle": "once", "ExecutionEnvironment": "auto",
          "SequenceLength": "longest", "SequencePaddingValue": 0,
          "SequencePaddingDirection": "right", "ResetInputNormalization": True}


@pytest.mark.parametrize("solver,specific", [
    ("sgdm", {"Momentum": 0.9, "InitialLearnRate": 0.01}),
    ("adam", {"GradientDecayFactor": 0.9, "SquaredGradientDecayFactor": 0.999, "Epsilon": 1e-8,
              "InitialLearnRate": 0.001}),
    ("rmsprop", {"SquaredGradientDecayFactor": 0.9, "Epsilon": 1e-8, "InitialLearnRate": 0.001}),
])
def test_defaults_are_matlabs(solver, specific):
    opts = trainingOptions(solver)
    assert opts.SolverName == solver
    for name, value in {**specific, **COMMON}.items():
        assert getattr(opts, name) == value, name


def test_positional_pairs_keywords_and_case():
    a = trainingOptions("adam", MaxEpochs=20, MiniBatchSize=27, Shuffle="never")
    b = trainingOptions("ADAM", "maxepochs", 20, "MiniBatchSize", 27, shuffle="NEVER")
    assert a == b and b.MaxEpochs == 20 and b.Shuffle == "never"


@pytest.mark.parametrize("args,kwargs,exc,words", [
    (("adam",), {"Momentum": 0.5}, TypeError, "'Momentum' is not an option for solver 'adam'"),
    (("sgdm",), {"Epsilon": 1e-6}, TypeError, "'Epsilon' is not an option for solver 'sgdm'"),
    (("rmsprop",), {"GradientDecayFactor": 0.9}, TypeError, "not an option for solver 'rmsprop'"),
    (("sgdm",), {"InitalLearnRate": 0.1}, TypeError, "Did you mean 'InitialLearnRate'?"),
    (("adam", "MaxEpoch", 3), {}, TypeError, "Did you mean 'MaxEpochs'?"),
    (("adam",), {"DispatchInBackground": True}, TypeError, "not supported by lstmkit yet"),
    (("adam",), {"WorkerLoad": [1, -1]}, ValueError, "`WorkerLoad` must hold non-negative"),
    (("adam",), {"WorkerLoad": [0, 0]}, ValueError, "not all zero"),
    (("adam",), {"WorkerLoad": [[1, 2]]}, ValueError, "one number per worker"),
    (("adam",), {"WorkerLoad": "equal"}, TypeError, "`WorkerLoad`"),
    (("adam",), {"ExecutionEnvironment": "gpus"}, ValueError, "'gpu', 'multi-gpu', 'parallel'"),
    (("adam",), {"ValidationData": [1]}, TypeError, "must be a pair (XValidation"),
    (("adam",), {"ValidationFrequency": 0}, ValueError, "`ValidationFrequency`"),
    (("adam",), {"ValidationPatience": -1}, ValueError, "`ValidationPatience`"),
    (("adam",), {"OutputNetwork": "best"}, ValueError, "'best-validation-loss'"),
    (("adam",), {"OutputNetwork": "best-validation-loss"}, ValueError, "needs ValidationData"),
    (("adam",), {"Plots": "progress"}, ValueError, "'training-progress'"),
    (("adam",), {"OutputFcn": 3}, TypeError, "`OutputFcn` must be a function"),
    (("adam",), {"CheckpointPath": "/no/such/folder"}, ValueError, "must be an existing folder"),
    (("adam",), {"CheckpointFrequencyUnit": "second"}, ValueError, "'epoch', 'iteration'"),
    (("adam",), {"LearnRateSchedule": "step"}, ValueError, "'none', 'piecewise', 'warmup'"),
    (("adam",), {"LearnRateSchedule": [1]}, ValueError, "a schedule object"),
    (("adam",), {"LearnRateDropFactor": 2}, ValueError, "`LearnRateDropFactor` must be in [0, 1]"),
    (("adam",), {"LearnRateDropPeriod": 0}, ValueError, "`LearnRateDropPeriod`"),
    (("adagrad",), {}, ValueError, "`solverName` must be one of 'sgdm', 'adam', 'rmsprop'"),
    (("adam",), {"MaxEpochs": 0}, ValueError, "`MaxEpochs` must be a positive integer"),
    (("adam",), {"MiniBatchSize": 2.5}, ValueError, "`MiniBatchSize` must be a positive integer"),
    (("adam",), {"InitialLearnRate": 0}, ValueError, "`InitialLearnRate` must be in (0"),
    (("adam",), {"InitialLearnRate": np.nan}, ValueError, "must be finite"),
    (("adam",), {"InitialLearnRate": "fast"}, TypeError, "must be a real scalar"),
    (("sgdm",), {"Momentum": 1}, ValueError, "`Momentum` must be in [0, 1)"),
    (("adam",), {"GradientThreshold": -1}, ValueError, "`GradientThreshold`"),
    (("adam",), {"GradientThresholdMethod": "l1norm"}, ValueError, "'global-l2norm'"),
    (("adam",), {"Shuffle": "always"}, ValueError, "'every-epoch'"),
    (("adam",), {"SequenceLength": 0}, ValueError, "'longest', 'shortest' or a positive integer"),
    (("adam",), {"SequencePaddingDirection": "up"}, ValueError, "'right', 'left'"),
    (("adam",), {"Verbose": "yes"}, TypeError, "`Verbose` must be true or false"),
    (("adam",), {"L2Regularization": -1e-4}, ValueError, "`L2Regularization`"),
])
def test_option_errors(args, kwargs, exc, words):
    with pytest.raises(exc) as info:
        trainingOptions(*args, **kwargs)
    assert words in str(info.value)
    assert str(info.value).startswith("trainingOptions: ")


def test_unknown_option_lists_valid_names():
    with pytest.raises(TypeError) as info:
        trainingOptions("adam", Foo=1)
    assert "Valid options: GradientDecayFactor, SquaredGradientDecayFactor, Epsilon" in str(info.value)
    assert "Momentum" not in str(info.value)


def test_options_are_read_only():
    opts = trainingOptions("adam")
    with pytest.raises(AttributeError, match="read-only"):
        opts.MaxEpochs = 3


def test_display_like_matlab():
    text = repr(trainingOptions("adam", MaxEpochs=100))
    assert text.startswith("  TrainingOptionsADAM with properties:")
    assert "      InitialLearnRate: 1.0000e-03" in text
    assert "    SquaredGradientDecayFactor: 0.9990" in text
    assert "             MaxEpochs: 100" in text
    assert "     GradientThreshold: Inf" in text
    assert "               Shuffle: 'once'" in text
    assert "TrainingOptionsSGDM" in repr(trainingOptions("sgdm"))
    assert "TrainingOptionsRMSProp" in repr(trainingOptions("rmsprop"))
