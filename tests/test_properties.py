"""Property-based tests: any shapes, lengths, labels, batch sizes and padding options either
work or raise the documented error, never anything else (issue 6)."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstmkit import (bilstmLayer, classificationLayer, classify, fullyConnectedLayer, gruLayer,
                     lstmLayer, predict, regressionLayer, sequenceInputLayer, softmaxLayer,
                     trainingOptions, trainNetwork)

# examples per test and randomness come from the profile (tests/conftest.py): CI replays a fixed
# set ('ci'); HYPOTHESIS_PROFILE=thorough explores many more, randomly
SETTINGS = settings(deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
DOCUMENTED = (ValueError, TypeError)


@st.composite
def problems(draw):
    C = draw(st.integers(1, 3))
    N = draw(st.integers(1, 7))
    lengths = draw(st.lists(st.integers(1, 8), min_size=N, max_size=N))
    task = draw(st.sampled_from(["label", "label-sequence", "response", "response-sequence"]))
    kind = draw(st.sampled_from(["lstm", "gru", "bilstm"]))
    K = draw(st.integers(1, 3))
    label_type = draw(st.sampled_from(["str", "int"]))
    seed = draw(st.integers(0, 2 ** 16))
    r = np.random.default_rng(seed)
    X = [r.standard_normal((C, L)).astype(draw(st.sampled_from([np.float32, np.float64])))
         for L in lengths]
    names = np.array(["a", "b", "c"])[:K] if label_type == "str" else np.array([3, 1, 2])[:K]
    if task == "label":
        Y = names[r.integers(0, K, N)]
    elif task == "label-sequence":
        Y = [names[r.integers(0, K, L)] for L in lengths]
    elif task == "response":
        Y = r.standard_normal((N, K))
    else:
        Y = [r.standard_normal((K, L)) for L in lengths]
    classes = len(np.unique(np.concatenate([np.ravel(y) for y in Y]))) if task.startswith("label") \
        else K
    mode = "last" if task in ("label", "response") else "sequence"
    H = draw(st.integers(1, 4))
    rec = {"lstm": lstmLayer, "gru": gruLayer, "bilstm": bilstmLayer}[kind](H, OutputMode=mode)
    head = ([fullyConnectedLayer(classes), softmaxLayer(), classificationLayer()]
            if task.startswith("label") else [fullyConnectedLayer(K), regressionLayer()])
    options = dict(
        MiniBatchSize=draw(st.integers(1, 9)),
        SequenceLength=draw(st.sampled_from(["longest", "shortest", 1, 2, 5])),
        SequencePaddingDirection=draw(st.sampled_from(["right", "left"])),
        Shuffle=draw(st.sampled_from(["once", "never", "every-epoch"])),
    )
    return X, Y, [sequenceInputLayer(C)] + [rec] + head, options, task


@SETTINGS
@given(problems(), st.integers(1, 9))
def test_training_and_prediction_work_or_raise_the_documented_error(problem, predict_batch):
    X, Y, layers, options, task = problem
    opts = trainingOptions("adam", MaxEpochs=2, Verbose=False, **options)
    try:
        net = trainNetwork(X, Y, layers, opts)
    except DOCUMENTED as err:
        assert str(err).startswith("trainNetwork: "), err
        # the one documented refusal these inputs can meet
        assert "bilstmLayer" in str(err) and isinstance(options["SequenceLength"], int), err
        return
    assert np.all(np.isfinite(net.TrainingInfo.TrainingLoss))
    out = predict(net, X, MiniBatchSize=predict_batch)
    ref = predict(net, X, MiniBatchSize=1)
    if isinstance(out, list):
        assert [o.shape[1] for o in out] == [x.shape[1] for x in X]
        for a, b in zip(out, ref):
            np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-6)
    else:
        assert out.shape[0] == len(X)
        np.testing.assert_allclose(out, ref, rtol=2e-5, atol=1e-6)
    if task.startswith("label"):
        labels = classify(net, X)
        assert len(labels) == len(X)


junk = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=True),
              st.text(max_size=3), st.just(np.ones((2, 0))), st.just(np.full((1, 3), np.nan))),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.tuples(inner, inner),
                            st.dictionaries(st.text(max_size=2), inner, max_size=2)),
    max_leaves=8)


@SETTINGS
@given(junk, junk)
def test_garbage_input_gets_a_documented_error(X, Y):
    layers = [sequenceInputLayer(1), lstmLayer(2, OutputMode="last"), fullyConnectedLayer(2),
              softmaxLayer(), classificationLayer()]
    try:
        trainNetwork(X, Y, layers, trainingOptions("adam", MaxEpochs=1, Verbose=False))
    except DOCUMENTED as err:
        assert str(err).startswith("trainNetwork: "), err
    # (some garbage happens to be valid, e.g. X=[[1.0]], Y=[0]: then training just works)


@SETTINGS
@given(st.dictionaries(st.sampled_from(["MaxEpochs", "MiniBatchSize", "InitialLearnRate",
                                        "GradientThreshold", "Shuffle", "SequenceLength",
                                        "ValidationFrequency", "L2Regularization", "Verbose",
                                        "maxepochs", "MaxEpoch"]),
                       st.one_of(st.integers(-2, 5), st.floats(allow_nan=True), st.text(max_size=4),
                                 st.none(), st.booleans()), max_size=4))
def test_training_options_never_fail_strangely(opts):
    try:
        trainingOptions("sgdm", **opts)
    except DOCUMENTED as err:
        assert str(err).startswith("trainingOptions: "), err
