"""Running a dlnetwork: minibatchpredict, predict with state, forward, resetState."""

import numpy as np
import pytest

from lstmkit import (assembleNetwork, dlnetwork, dropoutLayer, forward, fullyConnectedLayer,
                     initialize, lstmLayer, minibatchpredict, predict, regressionLayer,
                     resetState, sequenceInputLayer, gruLayer)


def weights(rng, C=3, H=5, K=4):
    return dict(InputWeights=rng.standard_normal((4 * H, C)) * 0.5,
                RecurrentWeights=rng.standard_normal((4 * H, H)) * 0.5,
                Bias=rng.standard_normal(4 * H)), dict(Weights=rng.standard_normal((K, H)),
                                                      Bias=rng.standard_normal(K))


def pair(rng, mode="last"):
    """The same weights as a dlnetwork (T-by-C era) and a SeriesNetwork (C-by-T era)."""
    lw, fw = weights(rng)
    dl = dlnetwork([sequenceInputLayer(3), lstmLayer(5, OutputMode=mode, **lw),
                    fullyConnectedLayer(4, **fw)])
    series = assembleNetwork([sequenceInputLayer(3), lstmLayer(5, OutputMode=mode, **lw),
                              fullyConnectedLayer(4, **fw), regressionLayer()])
    return dl, series


def test_time_by_channel_gives_what_channel_by_time_gives(rng):
    dl, series = pair(rng)
    X = [rng.standard_normal((T, 3)) for T in (4, 9, 6, 1)]
    expected = predict(series, [x.T for x in X])
    np.testing.assert_allclose(minibatchpredict(dl, X), expected, rtol=1e-6)
    np.testing.assert_allclose(minibatchpredict(dl, [x.T for x in X], InputDataFormats="CTB"),
                               expected, rtol=1e-6)
    np.testing.assert_allclose(predict(dl, X), expected, rtol=1e-6)
    # mini-batch size and neighbours never change a result (beyond float32 GEMM rounding)
    np.testing.assert_allclose(minibatchpredict(dl, X, MiniBatchSize=1),
                               minibatchpredict(dl, X, MiniBatchSize=3), rtol=1e-5, atol=1e-6)
    # OutputDataFormats permutes the numeric output
    np.testing.assert_array_equal(minibatchpredict(dl, X, OutputDataFormats="CB"),
                                  minibatchpredict(dl, X).T)


def test_sequence_output_uniform_and_not(rng):
    dl, series = pair(rng, "sequence")
    X = [rng.standard_normal((T, 3)) for T in (5, 2, 4)]
    each = minibatchpredict(dl, X, UniformOutput=False)
    assert [y.shape for y in each] == [(5, 4), (2, 4), (4, 4)]
    for y, ref in zip(each, predict(series, [x.T for x in X])):
        np.testing.assert_allclose(y, ref.T, rtol=1e-6)
    right = minibatchpredict(dl, X, SequencePaddingValue=-7)
    assert right.shape == (5, 4, 3)
    np.testing.assert_array_equal(right[:2, :, 1], each[1])
    assert np.all(right[2:, :, 1] == -7)
    left = minibatchpredict(dl, X, SequencePaddingDirection="left")
    np.testing.assert_array_equal(left[3:, :, 1], each[1])
    np.testing.assert_array_equal(minibatchpredict(dl, X, OutputDataFormats="CTB"),
                                  np.transpose(minibatchpredict(dl, X), (1, 0, 2)))
    np.testing.assert_array_equal(minibatchpredict(dl, X, UniformOutput=False,
                                                   OutputDataFormats="CT")[0], each[0].T)


def test_step_by_step_with_state_equals_the_whole_sequence(rng):
    dl, _ = pair(rng, "sequence")
    x = rng.standard_normal((12, 3))
    whole = predict(dl, x)
    net = resetState(dl)
    steps = []
    for t in range(12):
        y, state = predict(net, x[t:t + 1], nargout=2)
        net.State = state
        steps.append(y)
    np.testing.assert_allclose(np.vstack(steps), whole, rtol=1e-5, atol=1e-6)
    # resetState returns the network to its initial state (zeros here)
    again = resetState(net)
    np.testing.assert_allclose(predict(again, x), whole, rtol=1e-6)
    assert state.Parameter == ["HiddenState", "CellState"] and state.Value[0].shape == (5, 1)


def test_forward_runs_dropout_predict_does_not(rng):
    net = dlnetwork([sequenceInputLayer(2), gruLayer(6), dropoutLayer(0.5), fullyConnectedLayer(2)])
    x = rng.standard_normal((8, 2))
    a, b = predict(net, x), predict(net, x)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(forward(net, x), a)
    quiet = dlnetwork([sequenceInputLayer(2), gruLayer(6), dropoutLayer(0.0),
                       fullyConnectedLayer(2)])
    np.testing.assert_allclose(forward(quiet, x), predict(quiet, x), rtol=1e-6)


def test_errors(rng):
    dl, series = pair(rng)
    raw = dlnetwork([sequenceInputLayer(3), lstmLayer(4)], Initialize=False)
    with pytest.raises(ValueError, match=r"minibatchpredict: the dlnetwork is not initialized; "
                                         r"call net = initialize\(net\) first"):
        minibatchpredict(raw, [np.zeros((3, 3))])
    assert minibatchpredict(initialize(raw), [np.zeros((3, 3))]).shape == (3, 4, 1)
    with pytest.raises(TypeError, match=r"minibatchpredict: `net` must be a dlnetwork"):
        minibatchpredict(series, [np.zeros((3, 3))])
    with pytest.raises(ValueError, match=r"predict: `InputDataFormats` is for a dlnetwork"):
        predict(series, [np.zeros((3, 3))], InputDataFormats="CTB")
    with pytest.raises(ValueError, match=r"`nargout` must be 1"):
        predict(series, [np.zeros((3, 3))], nargout=2)
    with pytest.raises(ValueError, match=r"It looks C-by-T"):
        minibatchpredict(dl, [np.zeros((3, 7))])
    with pytest.raises(ValueError, match=r"ambiguous"):
        minibatchpredict(dl, np.zeros((3, 3, 5)))
    with pytest.raises(ValueError, match=r"`Outputs` names layer 'lsmt', which is not in the"):
        minibatchpredict(dl, [np.zeros((3, 3))], Outputs="lsmt")
    with pytest.raises(ValueError, match=r"`nargout` must be 1"):
        minibatchpredict(dl, [np.zeros((3, 3))], Outputs="lstm", nargout=2)
    with pytest.raises(ValueError, match=r"contains NaN"):
        minibatchpredict(dl, [np.full((3, 3), np.nan)])
    with pytest.raises(TypeError, match=r"the state must be a table"):
        dl.State = [1, 2]
    before = dl.State.Value[0].copy()
    with pytest.raises(ValueError, match=r"must be 5-by-N"):
        from lstmkit.table import Table
        dl.State = Table({"Layer": ["lstm", "lstm"], "Parameter": ["HiddenState", "CellState"],
                          "Value": [np.ones((5, 1)), np.ones((4, 1))]})
    np.testing.assert_array_equal(dl.State.Value[0], before)   # nothing half-written


def test_outputs_gives_the_activations_of_named_layers(rng):
    dl, _ = pair(rng, mode="sequence")
    X = [rng.standard_normal((T, 3)) for T in (4, 9, 6)]
    h, y = minibatchpredict(dl, X, Outputs=["lstm", "fc/out"], UniformOutput=False, nargout=2)
    W, b = dl.Learnables.Value[3], dl.Learnables.Value[4]
    for hn, yn, x in zip(h, y, X):
        assert hn.shape == (x.shape[0], 5)
        np.testing.assert_allclose(yn, hn @ W.T + b.reshape(1, -1), rtol=1e-5, atol=1e-5)
    for a, b_ in zip(y, minibatchpredict(dl, X, UniformOutput=False)):
        np.testing.assert_array_equal(a, b_)
