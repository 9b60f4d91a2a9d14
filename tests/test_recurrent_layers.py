"""bilstmLayer, gruLayer, dropoutLayer, stacks, the LSTM variants and stateful prediction."""

import numpy as np
import pytest

from lstmkit import (assembleNetwork, bilstmLayer, classificationLayer, classify,
                     classifyAndUpdateState, dropoutLayer, fullyConnectedLayer, gruLayer,
                     lstmLayer, predict, predictAndUpdateState, regressionLayer, resetState, rng,
                     sequenceInputLayer, softmaxLayer, trainingOptions, trainNetwork)
import reference

QUIET = dict(Verbose=False)


def weights(rng_, rows, C, H, bias_rows=None):
    return dict(InputWeights=0.5 * rng_.standard_normal((rows, C)),
                RecurrentWeights=0.5 * rng_.standard_normal((rows, H)),
                Bias=0.5 * rng_.standard_normal(bias_rows or rows))


def identity_head(H2, layers):
    """Append an identity fully connected layer and a regression output."""
    return layers + [fullyConnectedLayer(H2, Weights=np.eye(H2), Bias=np.zeros(H2)),
                     regressionLayer()]


@pytest.mark.parametrize("mode", ["sequence", "last"])
def test_bilstm_is_two_directions(rng, mode):
    C, H = 3, 4
    w = weights(rng, 8 * H, C, H)
    net = assembleNetwork(identity_head(2 * H, [sequenceInputLayer(C),
                                                bilstmLayer(H, OutputMode=mode, **w)]),
                          dtype="float64")
    X = [rng.standard_normal((C, T)) for T in (5, 1, 8)]
    out = predict(net, X, MiniBatchSize=2)
    W, R, b = w["InputWeights"], w["RecurrentWeights"], w["Bias"]
    z = np.zeros(H)
    for n, x in enumerate(X):
        fwd, hf, _ = reference.lstm_sequence(x, W[:4 * H], R[:4 * H], b[:4 * H], z, z)
        bwd, hb, _ = reference.lstm_sequence(x[:, ::-1], W[4 * H:], R[4 * H:], b[4 * H:], z, z)
        if mode == "sequence":
            np.testing.assert_allclose(out[n], np.vstack([fwd, bwd[:, ::-1]]), rtol=1e-12)
        else:
            # forward state at the last step; backward output at the first step
            np.testing.assert_allclose(out[n], np.concatenate([hf, bwd[:, -1]]), rtol=1e-12)
            np.testing.assert_allclose(hb, bwd[:, -1])


def test_bilstm_properties_and_defaults():
    layer = bilstmLayer(5, OutputMode="last")
    assert layer.Description == "BiLSTM with 5 hidden units"
    assert layer.BiasInitializer == "unit-forget-gate"
    with pytest.raises(ValueError, match="`InputWeights` must be 40-by-any"):
        bilstmLayer(5, InputWeights=np.ones((20, 3)))
    with pytest.raises(ValueError, match="`HiddenState` must be 10-by-1"):
        bilstmLayer(5, HiddenState=np.ones(5))
    with pytest.raises(TypeError, match="lstmLayer option"):
        bilstmLayer(5, HasPeepholes=True)
    X = [np.random.default_rng(0).standard_normal((2, 6)) for _ in range(6)]
    net = trainNetwork(X, np.ones((6, 1)), [sequenceInputLayer(2), layer, fullyConnectedLayer(1),
                                            regressionLayer()],
                       trainingOptions("adam", MaxEpochs=1, **QUIET))
    R = net.Layers[1].RecurrentWeights
    assert net.Layers[1].InputWeights.shape == (40, 2) and R.shape == (40, 5)


def test_bilstm_unit_forget_gate_and_orthogonal_blocks():
    layer = bilstmLayer(3)
    layer._initialize(2, np.random.default_rng(0))
    b = layer.Bias[:, 0]
    np.testing.assert_array_equal(b, [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0] * 2)
    for d in range(2):
        block = layer.RecurrentWeights[12 * d:12 * (d + 1)]
        np.testing.assert_allclose(block.T @ block, np.eye(3), atol=1e-12)


@pytest.mark.parametrize("mode", ["after-multiplication", "before-multiplication",
                                  "recurrent-bias-after-multiplication"])
def test_gru_layer_matches_reference(rng, mode):
    C, H = 3, 4
    rb = mode.startswith("recurrent")
    w = weights(rng, 3 * H, C, H, 6 * H if rb else None)
    h0 = rng.standard_normal(H)
    net = assembleNetwork(identity_head(H, [sequenceInputLayer(C),
                                            gruLayer(H, ResetGateMode=mode, HiddenState=h0, **w)]),
                          dtype="float64")
    X = [rng.standard_normal((C, T)) for T in (5, 2)]
    out = predict(net, X)
    b = w["Bias"]
    bR = b[3 * H:] if rb else np.zeros(3 * H)
    for x, y in zip(X, out):
        Y, _ = reference.gru_sequence(x, w["InputWeights"], w["RecurrentWeights"], b[:3 * H], bR,
                                      h0, "before" if mode.startswith("before") else "after")
        np.testing.assert_allclose(y, Y, rtol=1e-12)


def test_gru_defaults_and_errors():
    layer = gruLayer(7)
    assert layer.ResetGateMode == "after-multiplication"
    assert layer.InputWeightsInitializer == "glorot"
    assert layer.RecurrentWeightsInitializer == "orthogonal"
    assert layer.BiasInitializer == "zeros" and layer.BiasL2Factor == 0
    assert layer.OutputMode == "sequence" and layer.Description == "GRU with 7 hidden units"
    assert not hasattr(layer, "CellState")
    rb = gruLayer(2, "ResetGateMode", "recurrent-bias-after-multiplication", Bias=np.ones(12))
    assert rb.Bias.shape == (12, 1)
    with pytest.raises(ValueError, match="`Bias` must be 6-by-1"):
        gruLayer(2, Bias=np.ones(12))
    with pytest.raises(ValueError, match="'after-multiplication', 'before-multiplication'"):
        gruLayer(2, ResetGateMode="reset-after")
    with pytest.raises(TypeError, match="a GRU has no cell state"):
        gruLayer(2, CellState=np.ones(2))
    with pytest.raises(ValueError, match="`InputWeights` must be 6-by-any"):
        gruLayer(2, InputWeights=np.ones((8, 2)))
    with pytest.raises(ValueError, match="`BiasInitializer`"):
        gruLayer(2, BiasInitializer="unit-forget-gate")


def test_gru_per_gate_factor_on_6h_bias():
    X = [np.random.default_rng(0).standard_normal((2, 5)) for _ in range(4)]
    layer = gruLayer(3, ResetGateMode="recurrent-bias-after-multiplication",
                     BiasLearnRateFactor=[0, 1, 0], OutputMode="last")
    net = trainNetwork(X, np.ones((4, 1)), [sequenceInputLayer(2), layer, fullyConnectedLayer(1),
                                            regressionLayer()],
                       trainingOptions("sgdm", MaxEpochs=2, **QUIET))
    b = net.Layers[1].Bias[:, 0]
    assert np.all(b[0:3] == 0) and np.all(b[6:9] == 0) and np.all(b[9:12] == 0)
    assert np.all(b[3:6] != 0) and np.all(b[12:15] != 0)


def test_dropout_layer(rng):
    layer = dropoutLayer(0.25, Name="drop")
    assert layer.Probability == 0.25 and layer.Description == "25% dropout"
    assert dropoutLayer().Probability == 0.5
    assert dropoutLayer(Probability=0.1).Probability == 0.1
    x = np.ones((4000, 5), np.float32)
    y, mask, _ = layer._forward(x, None, None, True, np.dtype(np.float32))
    kept = y != 0
    assert abs(1 - kept.mean() - 0.25) < 0.02
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)
    np.testing.assert_array_equal(layer._backward(np.full_like(x, 2), mask, {}, True), 2 * y)
    same, _, _ = layer._forward(x, None, None, False, np.dtype(np.float32))
    assert same is x
    for bad in (1.0, -0.1, "half"):
        with pytest.raises((ValueError, TypeError), match="dropoutLayer: `Probability`"):
            dropoutLayer(Probability=bad)


def test_prediction_ignores_dropout(rng):
    X = [rng.standard_normal((2, 6)) for _ in range(8)]
    layers = [sequenceInputLayer(2), lstmLayer(5), dropoutLayer(0.9), fullyConnectedLayer(1),
              regressionLayer()]
    net = trainNetwork(X, [x[:1] for x in X], layers, trainingOptions("adam", MaxEpochs=2, **QUIET))
    np.testing.assert_array_equal(predict(net, X)[0], predict(net, X)[0])


def test_deep_stack_trains():
    r = np.random.default_rng(5)
    X = [r.standard_normal((2, int(T))) for T in r.integers(5, 15, 48)]
    Y = np.array(["pos" if x[0].sum() > 0 else "neg" for x in X])
    layers = [sequenceInputLayer(2), lstmLayer(12), dropoutLayer(0.1), gruLayer(12),
              fullyConnectedLayer(12), dropoutLayer(0.1), bilstmLayer(8), lstmLayer(8, OutputMode="last"),
              fullyConnectedLayer(8), fullyConnectedLayer(2), softmaxLayer(), classificationLayer()]
    net = trainNetwork(X, Y, layers, trainingOptions("adam", MaxEpochs=25, MiniBatchSize=12,
                                                     InitialLearnRate=0.01, **QUIET))
    loss = net.TrainingInfo.TrainingLoss
    assert loss[-4:].mean() < 0.6 * loss[:4].mean()
    assert np.mean(classify(net, X) == Y) > 0.85
    names = [l.Name for l in net.Layers]
    assert names[1:8] == ["lstm", "dropout", "gru", "fc", "dropout_1", "bilstm", "lstm_1"]


@pytest.mark.parametrize("variant", [dict(HasPeepholes=True), dict(CoupledInputForget=True),
                                     dict(HasPeepholes=True, CoupledInputForget=True)])
def test_lstm_variants_train_and_display(variant):
    r = np.random.default_rng(6)
    X = [r.standard_normal((1, int(T))) for T in r.integers(5, 20, 40)]
    Y = np.array([[np.cumsum(x[0])[-1]] for x in X])
    layer = lstmLayer(10, OutputMode="last", **variant)
    net = trainNetwork(X, Y, [sequenceInputLayer(1), layer, fullyConnectedLayer(1),
                              regressionLayer()],
                       trainingOptions("adam", MaxEpochs=30, MiniBatchSize=8,
                                       InitialLearnRate=0.01, **QUIET))
    rmse = net.TrainingInfo.TrainingRMSE
    assert rmse[-5:].mean() < 0.7 * rmse[:5].mean()
    lstm = net.Layers[1]
    if variant.get("HasPeepholes"):
        assert lstm.PeepholeWeights.shape == (30, 1) and np.any(lstm.PeepholeWeights != 0)
        assert "peepholes" in lstm.Description
    if variant.get("CoupledInputForget"):
        # the input-gate rows get no gradient (only L2 decay shrinks them)
        assert "coupled" in lstm.Description


def test_variant_option_errors():
    with pytest.raises(ValueError, match="`PeepholeWeights` needs HasPeepholes=true"):
        lstmLayer(3, PeepholeWeights=np.ones(9))
    with pytest.raises(ValueError, match="`PeepholeWeights` must be 9-by-1"):
        lstmLayer(3, HasPeepholes=True, PeepholeWeights=np.ones(12))
    with pytest.raises(TypeError, match="`CoupledInputForget` must be true or false"):
        lstmLayer(3, CoupledInputForget="yes")
    assert lstmLayer(3).HasPeepholes is False and lstmLayer(3).CoupledInputForget is False


# -- stateful prediction ------------------------------------------------------------------


@pytest.fixture(scope="module")
def forecaster():
    t = np.arange(200)
    series = np.vstack([np.sin(0.2 * t), np.cos(0.13 * t)])
    layers = [sequenceInputLayer(2), lstmLayer(16), fullyConnectedLayer(2), regressionLayer()]
    rng(0)
    net = trainNetwork(series[:, :-1], series[:, 1:], layers,
                       trainingOptions("adam", MaxEpochs=5, **QUIET))
    return net, series


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_step_by_step_equals_whole_sequence(kind, forecaster):
    _, series = forecaster
    rec = lstmLayer(6) if kind == "lstm" else gruLayer(6)
    net = trainNetwork(series[:, :-1], series[:, 1:], [sequenceInputLayer(2), rec,
                                                       fullyConnectedLayer(2), regressionLayer()],
                       trainingOptions("adam", MaxEpochs=2, **QUIET), dtype="float64")
    whole = predict(net, series[:, :50])
    state = net
    steps = []
    for t in range(50):
        state, y = predictAndUpdateState(state, series[:, t:t + 1], nargout=2)
        steps.append(y)
    np.testing.assert_allclose(np.hstack(steps), whole, rtol=1e-12, atol=1e-14)
    # and in two calls
    half, a = predictAndUpdateState(net, series[:, :20], nargout=2)
    _, b = predictAndUpdateState(half, series[:, 20:50], nargout=2)
    np.testing.assert_allclose(np.hstack([a, b]), whole, rtol=1e-12, atol=1e-14)


def test_states_are_visible_and_predict_does_not_change_them(forecaster):
    net, series = forecaster
    assert net.Layers[1].HiddenState is None
    net2, _ = predictAndUpdateState(net, series[:, :30], nargout=2)
    h, c = net2.Layers[1].HiddenState, net2.Layers[1].CellState
    assert h.shape == (16, 1) and c.shape == (16, 1) and np.any(h != 0)
    assert net.Layers[1].HiddenState is None             # the network passed in is unchanged
    before = h.copy()
    p1 = predict(net2, series[:, 30:40])
    np.testing.assert_array_equal(net2.Layers[1].HiddenState, before)
    p2 = predict(net2, series[:, 30:40])
    np.testing.assert_array_equal(p1, p2)
    assert not np.allclose(p1, predict(net, series[:, 30:40]))   # the stored state is used
    fresh = resetState(net2)
    assert fresh.Layers[1].HiddenState is None and fresh.Layers[1].CellState is None
    np.testing.assert_array_equal(predict(fresh, series[:, 30:40]), predict(net, series[:, 30:40]))


def test_reset_restores_the_initial_state_given_at_creation():
    layers = [sequenceInputLayer(1), lstmLayer(2, InputWeights=np.ones((8, 1)),
                                               RecurrentWeights=np.zeros((8, 2)),
                                               Bias=np.zeros(8), CellState=[1.0, -1.0]),
              fullyConnectedLayer(1, Weights=np.ones((1, 2)), Bias=[0.0]), regressionLayer()]
    net = assembleNetwork(layers)
    net2, _ = predictAndUpdateState(net, np.ones((1, 3)), nargout=2)
    assert not np.allclose(net2.Layers[1].CellState[:, 0], [1, -1])
    np.testing.assert_array_equal(resetState(net2).Layers[1].CellState, [[1.0], [-1.0]])


def test_state_of_several_observations(forecaster):
    net, series = forecaster
    X = [series[:, :10], series[:, 5:25], series[:, 40:47]]
    net3, _ = predictAndUpdateState(net, X, MiniBatchSize=2, nargout=2)
    H = net3.Layers[1].HiddenState
    assert H.shape == (16, 3)
    for i, x in enumerate(X):   # column i is observation i's own final state
        one, _ = predictAndUpdateState(net, x, nargout=2)
        np.testing.assert_allclose(H[:, i], one.Layers[1].HiddenState[:, 0], rtol=1e-5, atol=1e-6)
    nxt = [series[:, 10:12], series[:, 25:26], series[:, 47:50]]
    _, y = predictAndUpdateState(net3, nxt, nargout=2)
    for i in range(3):
        _, whole = predictAndUpdateState(net, np.hstack([X[i], nxt[i]]), nargout=2)
        np.testing.assert_allclose(y[i], whole[:, -nxt[i].shape[1]:], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="holds the states of 3 observations .* call net = "
                                         "resetState\\(net\\)"):
        predictAndUpdateState(net3, series[:, :5])
    with pytest.raises(ValueError, match="resetState"):
        predict(net3, [series[:, :5]] * 2)
    with pytest.raises(ValueError, match="Call resetState\\(net\\) first"):
        trainNetwork(series[:, :-1], series[:, 1:], net3.Layers,
                     trainingOptions("adam", MaxEpochs=1, **QUIET))
    predict(resetState(net3), series[:, :5])  # fine after a reset


def test_closed_loop_forecast_runs(forecaster):
    net, series = forecaster
    net, y = predictAndUpdateState(net, series[:, :150], nargout=2)
    x = y[:, -1:]
    out = []
    for _ in range(20):
        net, x = predictAndUpdateState(net, x, nargout=2)
        out.append(x)
    assert np.hstack(out).shape == (2, 20) and np.all(np.isfinite(out))


def test_classify_and_update_state():
    r = np.random.default_rng(2)
    X = [r.standard_normal((1, 12)) for _ in range(16)]
    Y = [np.where(np.cumsum(x[0]) > 0, "up", "down") for x in X]
    layers = [sequenceInputLayer(1), lstmLayer(8), fullyConnectedLayer(2), softmaxLayer(),
              classificationLayer()]
    net = trainNetwork(X, Y, layers, trainingOptions("adam", MaxEpochs=5, **QUIET))
    net2, labels, scores = classifyAndUpdateState(net, X[0][:, :6], nargout=3)
    _, labels2, scores2 = classifyAndUpdateState(net2, X[0][:, 6:], nargout=3)
    np.testing.assert_array_equal(np.concatenate([labels, labels2]), classify(net, X[0]))
    np.testing.assert_allclose(np.hstack([scores, scores2]), predict(net, X[0]), rtol=1e-5)
    with pytest.raises(ValueError, match="classifyAndUpdateState: the network is a regression"):
        classifyAndUpdateState(trainNetwork(X, [x for x in X], [sequenceInputLayer(1), lstmLayer(2),
                                                                fullyConnectedLayer(1),
                                                                regressionLayer()],
                                            trainingOptions("adam", MaxEpochs=1, **QUIET)), X[0])


def test_stateful_errors(rng):
    X = [rng.standard_normal((2, 6)) for _ in range(4)]
    ff = trainNetwork(X, [x[:1] for x in X], [sequenceInputLayer(2), fullyConnectedLayer(1),
                                              regressionLayer()],
                      trainingOptions("adam", MaxEpochs=1, **QUIET))
    with pytest.raises(ValueError, match="no recurrent layer"):
        predictAndUpdateState(ff, X)
    bi = trainNetwork(X, [x[:1] for x in X], [sequenceInputLayer(2), bilstmLayer(2),
                                              fullyConnectedLayer(1), regressionLayer()],
                      trainingOptions("adam", MaxEpochs=1, **QUIET))
    with pytest.raises(ValueError, match="not possible with bilstmLayer"):
        predictAndUpdateState(bi, X)
    with pytest.raises(ValueError, match="not possible with bilstmLayer"):
        predict(bi, X, SequenceLength=2)
    with pytest.raises(ValueError, match="not possible with bilstmLayer"):
        trainNetwork(X, [x[:1] for x in X], bi.Layers,
                     trainingOptions("adam", MaxEpochs=1, SequenceLength=3, **QUIET))
    with pytest.raises(TypeError, match="predictAndUpdateState: `net` must be a network"):
        predictAndUpdateState(None, X)


def test_recurrent_layer_after_output_mode_last_reads_one_time_step(rng):
    # MATLAB accepts an LSTM after one with OutputMode 'last' (a real script relies on it):
    # the vector per observation is a sequence of one time step
    from lstmkit import dlnetwork, fullyConnectedLayer, gruLayer, minibatchpredict
    X = [rng.standard_normal((T, 3)) for T in (5, 2, 7)]
    first = dlnetwork([sequenceInputLayer(3), lstmLayer(4, OutputMode="last")])
    for second in (lstmLayer(5), gruLayer(5, OutputMode="last"), bilstmLayer(2)):
        net = dlnetwork([sequenceInputLayer(3), lstmLayer(4, OutputMode="last"), second,
                         fullyConnectedLayer(2)])
        for name in ("InputWeights", "RecurrentWeights", "Bias"):
            setattr(first.Layers[1], name, getattr(net.Layers[1], name))
        h = minibatchpredict(first, X)                       # N-by-4
        alone = dlnetwork([sequenceInputLayer(4), net.Layers[2], net.Layers[3]])
        expected = minibatchpredict(alone, [row.reshape(1, 4) for row in h],
                                    UniformOutput=False)
        expected = np.array([np.asarray(e).reshape(-1) for e in expected])
        got = minibatchpredict(net, X)
        assert got.shape == (3, 2)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
