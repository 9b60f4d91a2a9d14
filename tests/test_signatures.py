"""Public signatures show MATLAB's options with their defaults; MATLAB's calling forms still work."""

import inspect
import pydoc
import re
import sys
import typing

import numpy as np
import pytest

import lstmkit
from lstmkit import (bilstmLayer, classificationLayer, dropoutLayer, fullyConnectedLayer,
                     gruLayer, lstmLayer, regressionLayer, sequenceInputLayer, softmaxLayer,
                     trainingOptions)
from lstmkit.training.options import SolverDefault

LAYER_FACTORIES = {
    sequenceInputLayer: (12,), lstmLayer: (8,), bilstmLayer: (8,), gruLayer: (8,),
    fullyConnectedLayer: (3,), dropoutLayer: (), softmaxLayer: (), classificationLayer: (),
    regressionLayer: (),
}

#: option values a layer stores in another form than the one given
STORED = {"ClassWeights": "none", "Classes": None, "ResponseNames": []}


def options(func):
    return {name: p.default for name, p in inspect.signature(func).parameters.items()
            if p.kind is p.KEYWORD_ONLY}


def public_functions():
    return [getattr(lstmkit, name) for name in lstmkit.__all__
            if inspect.isfunction(getattr(lstmkit, name))]


@pytest.mark.parametrize("factory", list(LAYER_FACTORIES), ids=lambda f: f.__name__)
def test_layer_defaults_in_the_signature_are_the_defaults(factory):
    layer = factory(*LAYER_FACTORIES[factory])
    declared = options(factory)
    assert declared, "no option is visible in the signature"
    checked = 0
    for name, default in declared.items():
        if not hasattr(layer, name):
            continue  # options that are not stored (HasStateInputs, SplitComplexInputs, ...)
        value = getattr(layer, name)
        expected = STORED.get(name, default) if name in STORED and default in ("auto", "none", ()) \
            else default
        if isinstance(expected, float) or isinstance(value, (float, np.floating)):
            assert float(value) == float(expected), name
        else:
            assert value == expected or (value is None and expected is None), name
        checked += 1
    assert checked >= len(declared) // 2


@pytest.mark.parametrize("solver", ["sgdm", "adam", "rmsprop"])
def test_training_option_defaults_in_the_signature_are_the_defaults(solver):
    opts = trainingOptions(solver)
    for name, default in options(trainingOptions).items():
        if isinstance(default, SolverDefault):
            if solver in default.by_solver:
                assert getattr(opts, name) == default.by_solver[solver], name
            else:
                with pytest.raises(AttributeError):
                    getattr(opts, name)
        elif isinstance(default, float) and np.isinf(default):
            assert np.isinf(getattr(opts, name)), name
        else:
            assert getattr(opts, name) == default, name


def test_solver_dependent_defaults_are_shown():
    params = inspect.signature(trainingOptions).parameters
    assert repr(params["InitialLearnRate"].default) == "0.01 (sgdm), 0.001 (adam, rmsprop)"
    assert repr(params["Momentum"].default) == "0.9 (sgdm only)"
    assert "Momentum" in str(inspect.signature(trainingOptions))


@pytest.mark.parametrize("func", public_functions(), ids=lambda f: f.__name__)
def test_every_public_function_is_typed_and_documented(func):
    sig = inspect.signature(func)
    assert sig.return_annotation is not inspect.Signature.empty, func.__name__
    for name, p in sig.parameters.items():
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            assert p.annotation is not inspect.Parameter.empty, f"{func.__name__}({name})"
    if sys.version_info >= (3, 10):   # `X | None` in annotations evaluates from 3.10
        typing.get_type_hints(func)
    text = pydoc.render_doc(func, renderer=pydoc.plaintext)
    for name, p in sig.parameters.items():
        if p.kind is p.KEYWORD_ONLY:
            assert name in text, f"help({func.__name__}) does not show {name}"
    assert "Parameters" in (func.__doc__ or "") or not sig.parameters
    assert re.search(r"Examples\n\s*-+\n[^\n]*(\n[^\n]*)*?\n\s*>>> ", func.__doc__ or ""), \
        f"{func.__name__} has no runnable example"


def test_matlab_calling_forms_still_work():
    # positional pairs, names in any case, and keywords, for a factory and trainingOptions
    for layer in (lstmLayer(10, "OutputMode", "last"), lstmLayer(10, outputmode="last"),
                  lstmLayer(10, "OUTPUTMODE", "last", Name="x")):
        assert layer.OutputMode == "last"
    assert trainingOptions("adam", "maxepochs", 7, MiniBatchSize=3).MaxEpochs == 7
    assert dropoutLayer("Name", "d1").Name == "d1" and dropoutLayer("Name", "d1").Probability == 0.5
    assert dropoutLayer(0.2, "Name", "d2").Probability == 0.2
    assert dropoutLayer(Probability=0.3).Probability == 0.3
    assert dropoutLayer("Probability", 0.4).Probability == 0.4
    assert fullyConnectedLayer(outputSize=4).OutputSize == 4


def test_calling_form_errors():
    with pytest.raises(TypeError, match=r"lstmLayer: missing the required argument "
                                        r"`numHiddenUnits`\."):
        lstmLayer(OutputMode="last")
    with pytest.raises(TypeError, match=r"lstmLayer: option 'OutputMode' is given more than once"):
        lstmLayer(10, "OutputMode", "last", outputMode="sequence")
    with pytest.raises(TypeError, match=r"dropoutLayer: `Probability` is given more than once"):
        dropoutLayer(0.2, Probability=0.3)
    with pytest.raises(TypeError, match=r"lstmLayer: Name=Value arguments must come in pairs"):
        lstmLayer(10, "OutputMode")
    with pytest.raises(TypeError, match=r"'OutputMod' is not a valid option\. Did you mean "
                                        r"'OutputMode'\?"):
        lstmLayer(10, OutputMod="last")
    # the valid options listed are the solver's own
    with pytest.raises(TypeError) as info:
        trainingOptions("adam", Foo=1)
    assert "Momentum" not in str(info.value) and "GradientDecayFactor" in str(info.value)
    with pytest.raises(TypeError, match="'Momentum' is not an option for solver 'adam'"):
        trainingOptions("adam", Momentum=0.9)


def test_layer_factories_show_options_to_completion():
    # what an IDE or IPython's completer reads: the parameters of the signature
    params = inspect.signature(lstmLayer).parameters
    for name in ("OutputMode", "InputWeights", "BiasInitializer", "HasPeepholes"):
        assert params[name].kind is inspect.Parameter.KEYWORD_ONLY
    assert params["OutputMode"].default == "sequence"
    params = inspect.signature(trainingOptions).parameters
    assert params["MaxEpochs"].default == 30 and params["MiniBatchSize"].default == 128


def test_matlab_outputs_follow_the_nargout_rule():
    import numpy as np
    from lstmkit import (classify, classifyAndUpdateState, confusionmat, predict,
                         predictAndUpdateState, trainNetwork)
    from lstmkit.network import SeriesNetwork
    rs = np.random.default_rng(0)
    X = [rs.standard_normal((2, 6)) for _ in range(6)]
    Y = np.array(["a", "b"] * 3)
    layers = [sequenceInputLayer(2), lstmLayer(3, OutputMode="last"), fullyConnectedLayer(2),
              softmaxLayer(), classificationLayer()]
    opts = trainingOptions("adam", MaxEpochs=1, MiniBatchSize=3, Verbose=False)
    net = trainNetwork(X, Y, layers, opts, seed=1)
    assert isinstance(net, SeriesNetwork)
    net2, info = trainNetwork(X, Y, layers, opts, seed=1, nargout=2)
    assert info is net2.TrainingInfo
    labels = classify(net, X)
    labels2, scores = classify(net, X, nargout=2)
    np.testing.assert_array_equal(labels, labels2)
    np.testing.assert_array_equal(scores, predict(net, X))
    # one output is the network, as MATLAB's net = predictAndUpdateState(net, X)
    assert isinstance(predictAndUpdateState(net, X[0]), SeriesNetwork)
    updated, y = predictAndUpdateState(net, X[0], nargout=2)
    np.testing.assert_array_equal(y, predict(net, X[0]))
    assert isinstance(classifyAndUpdateState(net, X[0]), SeriesNetwork)
    _, lab = classifyAndUpdateState(net, X[0], nargout=2)
    _, lab3, sc3 = classifyAndUpdateState(net, X[0], nargout=3)
    np.testing.assert_array_equal(lab, lab3)
    assert sc3.shape == (1, 2)
    assert confusionmat(["a"], ["a"]).shape == (1, 1)
    for call, maximum in ((lambda k: classify(net, X, nargout=k), 2),
                          (lambda k: predictAndUpdateState(net, X[0], nargout=k), 2),
                          (lambda k: classifyAndUpdateState(net, X[0], nargout=k), 3),
                          (lambda k: trainNetwork(X, Y, layers, opts, nargout=k), 2)):
        for bad in (0, maximum + 1, 1.5, True, "2"):
            with pytest.raises(ValueError, match=r"`nargout` must be 1 or 2"):
                call(bad)
