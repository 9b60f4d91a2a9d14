"""Layer factories: MATLAB's names, defaults, Name=Value forms, initializers, errors."""

import numpy as np
import pytest

from lstmkit import (classificationLayer, fullyConnectedLayer, lstmLayer, regressionLayer,
                     sequenceInputLayer, softmaxLayer)
from lstmkit.layers import initializers


def test_lstm_defaults_are_matlabs():
    layer = lstmLayer(100)
    assert layer.NumHiddenUnits == 100
    assert layer.OutputMode == "sequence"
    assert layer.StateActivationFunction == "tanh"
    assert layer.GateActivationFunction == "sigmoid"
    assert layer.InputSize == "auto"
    assert layer.InputWeights is None and layer.RecurrentWeights is None and layer.Bias is None
    assert layer.HiddenState is None and layer.CellState is None
    assert layer.InputWeightsInitializer == "glorot"
    assert layer.RecurrentWeightsInitializer == "orthogonal"
    assert layer.BiasInitializer == "unit-forget-gate"
    for name in ("InputWeightsLearnRateFactor", "RecurrentWeightsLearnRateFactor",
                 "BiasLearnRateFactor", "InputWeightsL2Factor", "RecurrentWeightsL2Factor"):
        assert getattr(layer, name) == 1.0
    assert layer.BiasL2Factor == 0.0
    assert layer.Name == ""
    assert layer.HasStateInputs is False and layer.HasStateOutputs is False


def test_fc_and_output_defaults_are_matlabs():
    fc = fullyConnectedLayer(9)
    assert fc.OutputSize == 9 and fc.InputSize == "auto"
    assert fc.WeightsInitializer == "glorot" and fc.BiasInitializer == "zeros"
    assert fc.WeightLearnRateFactor == 1 and fc.BiasLearnRateFactor == 1
    assert fc.WeightL2Factor == 1 and fc.BiasL2Factor == 0
    cl = classificationLayer()
    assert cl.Classes is None and cl.ClassWeights == "none" and cl.OutputSize == "auto"
    assert cl.LossFunction == "crossentropyex"
    rl = regressionLayer()
    assert rl.ResponseNames == [] and rl.LossFunction == "mean-squared-error"
    si = sequenceInputLayer(12)
    assert si.InputSize == 12 and si.Normalization == "none" and si.MinLength == 1
    assert si.NormalizationDimension == "auto"
    assert si.Mean is None and si.StandardDeviation is None and si.Min is None and si.Max is None
    assert softmaxLayer().Name == ""


def test_name_value_forms_are_equivalent():
    a = lstmLayer(10, OutputMode="last", Name="enc")
    b = lstmLayer(10, "OutputMode", "last", "Name", "enc")
    c = lstmLayer(10, "outputmode", "LAST", name="enc")
    for layer in (b, c):
        assert layer.OutputMode == a.OutputMode == "last" and layer.Name == "enc"


def test_explicit_weights_set_sizes_and_shapes():
    W = np.ones((8, 3))
    layer = lstmLayer(2, InputWeights=W, RecurrentWeights=np.zeros((8, 2)), Bias=np.zeros(8),
                      HiddenState=[1, 2], CellState=np.zeros((2, 1)))
    assert layer.InputSize == 3
    assert layer.Bias.shape == (8, 1) and layer.HiddenState.shape == (2, 1)
    W[0, 0] = 5  # the layer holds its own copy
    assert layer.InputWeights[0, 0] == 1
    fc = fullyConnectedLayer(4, Weights=np.ones((4, 6)), Bias=np.ones(4))
    assert fc.InputSize == 6 and fc.Bias.shape == (4, 1)


def test_per_gate_factors():
    layer = lstmLayer(3, BiasLearnRateFactor=[1, 0, 1, 1], InputWeightsL2Factor=[0, 1, 1, 1])
    np.testing.assert_array_equal(layer.BiasLearnRateFactor, [1, 0, 1, 1])
    with pytest.raises(ValueError, match="lstmLayer: `BiasLearnRateFactor` must be a scalar or a 4"):
        lstmLayer(3, BiasLearnRateFactor=[1, 2])
    with pytest.raises(ValueError, match="`WeightLearnRateFactor` must be a scalar"):
        fullyConnectedLayer(3, WeightLearnRateFactor=[1, 2, 3, 4])


@pytest.mark.parametrize("call,exc,words", [
    (lambda: lstmLayer(0), ValueError, "lstmLayer: `numHiddenUnits` must be a positive integer"),
    (lambda: lstmLayer(2.5), ValueError, "Received: numHiddenUnits=2.5"),
    (lambda: lstmLayer(True), ValueError, "positive integer"),
    (lambda: lstmLayer(10, OutputMode="all"), ValueError,
     "`OutputMode` must be one of 'sequence', 'last'. Received: OutputMode='all'"),
    (lambda: lstmLayer(10, OutptMode="last"), TypeError, "Did you mean 'OutputMode'?"),
    (lambda: lstmLayer(10, "OutputMode"), TypeError, "must come in pairs"),
    (lambda: lstmLayer(10, 5, "last"), TypeError, "expected an option name"),
    (lambda: lstmLayer(10, OutputMode="last", outputmode="sequence"), TypeError, "more than once"),
    (lambda: lstmLayer(10, StateActivationFunction="relu"), ValueError, "'tanh', 'softsign'"),
    (lambda: lstmLayer(10, GateActivationFunction="tanh"), ValueError, "'sigmoid', 'hard-sigmoid'"),
    (lambda: lstmLayer(2, InputWeights=np.ones((7, 3))), ValueError,
     "`InputWeights` must be 8-by-any. Received: InputWeights of size 7-by-3"),
    (lambda: lstmLayer(2, RecurrentWeights=np.ones((8, 3))), ValueError, "must be 8-by-2"),
    (lambda: lstmLayer(2, Bias=np.ones(7)), ValueError, "`Bias` must be 8-by-1"),
    (lambda: lstmLayer(2, Bias=[1, 2, np.nan, 4, 5, 6, 7, 8]), ValueError, "NaN or Inf"),
    (lambda: lstmLayer(2, HiddenState=np.ones(3)), ValueError, "`HiddenState` must be 2-by-1"),
    (lambda: lstmLayer(2, InputWeightsInitializer="xavier"), ValueError,
     "`InputWeightsInitializer` must be one of 'glorot', 'he'"),
    (lambda: lstmLayer(2, BiasInitializer="glorot"), ValueError, "'unit-forget-gate'"),
    (lambda: lstmLayer(2, HasStateInputs=True), ValueError, "not supported"),
    (lambda: lstmLayer(2, InputWeightsL2Factor=-1), ValueError, "must be in [0"),
    (lambda: lstmLayer(2, Name=3), TypeError, "`Name` must be a str"),
    (lambda: fullyConnectedLayer(-1), ValueError, "fullyConnectedLayer: `outputSize`"),
    (lambda: fullyConnectedLayer(3, Weights=np.ones((2, 3))), ValueError, "must be 3-by-any"),
    (lambda: fullyConnectedLayer(3, Size=3), TypeError, "Valid options: Name, Weights"),
    (lambda: sequenceInputLayer(0), ValueError, "sequenceInputLayer: `inputSize`"),
    (lambda: sequenceInputLayer([28, 28, 1]), ValueError, "image-sequence input"),
    (lambda: sequenceInputLayer(3, Normalization="minmax"), ValueError, "'zscore'"),
    (lambda: sequenceInputLayer(3, Mean=np.ones(2)), ValueError, "`Mean` must be 3-by-1"),
    (lambda: sequenceInputLayer(3, StandardDeviation=-np.ones(3)), ValueError, "non-negative"),
    (lambda: sequenceInputLayer(3, Normalization=np.tanh), ValueError, "function handle"),
    (lambda: sequenceInputLayer(3, MinLength=0), ValueError, "`MinLength`"),
    (lambda: classificationLayer(ClassWeights=[1, 2]), ValueError, "needs `Classes`"),
    (lambda: classificationLayer(Classes=["a", "b"], ClassWeights=[1, 2, 3]), ValueError,
     "2 positive values"),
    (lambda: classificationLayer(Classes=["a", "a"]), ValueError, "duplicates"),
    (lambda: classificationLayer(Classes=[[1, 2]]), ValueError, "1-D list of class names"),
    (lambda: regressionLayer(ResponseNames=[1]), TypeError, "list of str"),
    (lambda: softmaxLayer(Name="s", Dim=1), TypeError, "'Dim' is not a valid option"),
])
def test_factory_errors(call, exc, words):
    with pytest.raises(exc) as info:
        call()
    assert words in str(info.value)


def test_scalar_statistics_broadcast():
    layer = sequenceInputLayer(3, Normalization="zscore", Mean=0.5, StandardDeviation=2)
    np.testing.assert_array_equal(layer.Mean, np.full((3, 1), 0.5))
    np.testing.assert_array_equal(layer.StandardDeviation, np.full((3, 1), 2.0))


def test_glorot_he_narrow_normal_statistics():
    rng = np.random.default_rng(0)
    W = initializers.initialize("f", "W", "glorot", (400, 100), 100, 400, rng)
    a = np.sqrt(6 / 500)
    assert W.shape == (400, 100) and np.abs(W).max() <= a and np.abs(W).max() > 0.99 * a
    np.testing.assert_allclose(W.var(), a * a / 3, rtol=0.05)
    He = initializers.initialize("f", "W", "he", (400, 100), 100, 400, rng)
    np.testing.assert_allclose(He.std(), np.sqrt(2 / 100), rtol=0.05)
    nn = initializers.initialize("f", "W", "narrow-normal", (400, 100), 100, 400, rng)
    np.testing.assert_allclose(nn.std(), 0.01, rtol=0.05)


@pytest.mark.parametrize("shape", [(12, 3), (3, 12), (5, 5)])
def test_orthogonal_initializer(shape):
    Q = initializers.initialize("f", "W", "orthogonal", shape, shape[1], shape[0],
                                np.random.default_rng(1))
    small = min(shape)
    gram = Q.T @ Q if shape[0] >= shape[1] else Q @ Q.T
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-12)


@pytest.mark.parametrize("shape", [(400, 100), (12, 3), (4, 1), (100, 400), (9, 4)])
def test_orthogonal_is_the_sign_fixed_householder_q(shape):
    """Cholesky QR (tall shapes) and Householder QR give the same Q up to rounding."""
    Q = initializers.orthogonal(shape, np.random.default_rng(3))
    Z = np.random.default_rng(3).standard_normal((max(shape), min(shape)))
    Qh, Rh = np.linalg.qr(Z)
    Qh = Qh * np.sign(np.diag(Rh))
    np.testing.assert_allclose(Q, Qh if shape[0] >= shape[1] else Qh.T, rtol=0, atol=1e-13)


def test_cholesky_qr_refuses_rank_deficient_and_does_not_depend_on_threads():
    import numba
    Z = np.random.default_rng(0).standard_normal((40, 6))
    Z[:, 3] = Z[:, 1]
    Q, d = initializers.cholesky_qr(Z)           # singular Gram: refused, or told by diag(R)
    assert Q is None or d.max() > initializers.CHOLESKY_QR_SPREAD * d.min()
    Z = np.random.default_rng(1).standard_normal((403, 100))
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = initializers.cholesky_qr(Z)[0]
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(one, initializers.cholesky_qr(Z)[0])


def test_unit_forget_gate_and_constants():
    b = initializers.initialize("f", "B", "unit-forget-gate", (12, 1), 1, 12, None, gate_blocks=4)
    np.testing.assert_array_equal(b[:, 0], [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    assert np.all(initializers.initialize("f", "B", "ones", (3, 2), 2, 3, None) == 1)
    assert np.all(initializers.initialize("f", "B", "zeros", (3, 2), 2, 3, None) == 0)


def test_callable_initializer_gets_shape_and_is_checked():
    seen = []

    def init(shape):
        seen.append(shape)
        return np.full(shape, 0.25)
    W = initializers.initialize("lstmLayer", "InputWeightsInitializer", init, (8, 3), 3, 8, None)
    assert seen == [(8, 3)] and np.all(W == 0.25)
    with pytest.raises(ValueError, match="must return an array of size 8-by-3"):
        initializers.initialize("lstmLayer", "InputWeightsInitializer", lambda s: np.ones((3, 8)),
                                (8, 3), 3, 8, None)
    with pytest.raises(ValueError, match="raised ZeroDivisionError"):
        initializers.initialize("lstmLayer", "InputWeightsInitializer", lambda s: 1 / 0,
                                (8, 3), 3, 8, None)


def test_layer_display():
    layer = lstmLayer(100, OutputMode="last", Name="lstm1")
    text = str(layer)
    assert "LSTMLayer with properties:" in text and "OutputMode: 'last'" in text
    # one line in containers: print(layers) on a list is one short line per layer
    assert repr(layer) == "<LSTMLayer 'lstm1': LSTM with 100 hidden units>"
    assert len(str([sequenceInputLayer(12), layer, fullyConnectedLayer(9)]).splitlines()) == 1
    assert lstmLayer(100).Description == "LSTM with 100 hidden units"
    assert fullyConnectedLayer(9).Description == "9 fully connected layer"
    assert sequenceInputLayer(12).Description == "Sequence input with 12 dimensions"
    assert classificationLayer(Classes=list("123456789")).Description == \
        "crossentropyex with '1' and 8 other classes"


def test_layer_display_in_ipython():
    pytest.importorskip("IPython")
    from IPython.core.interactiveshell import InteractiveShell
    from lstmkit.network import register_ipython_display
    shell = InteractiveShell.instance()
    try:
        assert register_ipython_display() and register_ipython_display()   # idempotent
        fmt = shell.display_formatter.formatters["text/plain"]
        layers = [sequenceInputLayer(12), lstmLayer(100, OutputMode="last"),
                  fullyConnectedLayer(9), softmaxLayer(), classificationLayer()]
        table = fmt(layers)
        assert table.startswith("  5×1 Layer array with layers:")
        assert "LSTM with 100 hidden units" in table and len(table.splitlines()) == 7
        assert fmt([1, 2, 3]) == "[1, 2, 3]"                     # other lists untouched
        single = fmt(lstmLayer(10))
        assert "LSTMLayer with properties:" in single             # one layer: its properties
        assert fmt({"a": lstmLayer(10)}) == "{'a': <LSTMLayer: LSTM with 10 hidden units>}"
    finally:
        InteractiveShell.clear_instance()
