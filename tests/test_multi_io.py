"""Networks with several inputs and outputs (trainnet, minibatchpredict, predict, testnet) and
the datastores that feed them (arrayDatastore, combine, transform)."""

import numpy as np
import pytest

from netutil import trainnet_gradient_check
from lstmkit import (accuracyMetric, addLayers, additionLayer, arrayDatastore, combine,
                     concatenationLayer, connectLayers, crossentropy, dlnetwork,
                     featureInputLayer, forward, fullyConnectedLayer, hasdata, l1loss, lstmLayer,
                     minibatchpredict, mse, predict, preview, read, readall, reset, rmseMetric,
                     sequenceInputLayer, shuffle, softmaxLayer, testnet, trainingOptions,
                     trainnet, transform, gruLayer)


def two_input_two_output(H=5, C=3, F=4, K=3, seed=0):
    """sequence -> LSTM(last) -+-> concat -> fc(K) -> softmax      (output 1: classes)
       features ---------------+            `-> fc(1)             (output 2: a response)"""
    net = dlnetwork([sequenceInputLayer(C, Name="seq"), lstmLayer(H, OutputMode="last",
                                                                  Name="lstm"),
                     concatenationLayer(1, 2, Name="cat"), fullyConnectedLayer(K, Name="fc1"),
                     softmaxLayer(Name="sm")], Initialize=False)
    net = addLayers(net, featureInputLayer(F, Name="feat"))
    net = addLayers(net, fullyConnectedLayer(1, Name="fc2"))
    net = connectLayers(net, "feat", "cat/in2")
    net = connectLayers(net, "cat", "fc2")
    from lstmkit import initialize, rng
    rng(seed)
    return initialize(net)


def data(n=12, C=3, F=4, seed=1):
    r = np.random.default_rng(seed)
    X = [r.standard_normal((int(T), C)) for T in r.integers(2, 9, n)]      # T-by-C
    Fx = r.standard_normal((n, F))
    return X, Fx


def test_io_names_and_two_input_output_equals_branches_computed_apart():
    net = two_input_two_output()
    assert net.InputNames == ["seq", "feat"] and net.OutputNames == ["sm", "fc2"]
    X, Fx = data()
    scores, response = minibatchpredict(net, X, Fx, nargout=2)
    assert scores.shape == (12, 3) and response.shape == (12, 1)
    assert np.array_equal(minibatchpredict(net, X, Fx), scores)     # first output by default
    h = minibatchpredict(net, X, Fx, Outputs="lstm")
    layers = {layer.Name: layer for layer in net.Layers}
    z = np.concatenate([h, Fx.astype(np.float32)], axis=1).astype(np.float64)
    fc1, fc2 = layers["fc1"], layers["fc2"]
    logits = z @ np.asarray(fc1.Weights, np.float64).T + np.asarray(fc1.Bias).reshape(1, -1)
    ref = np.exp(logits - logits.max(1, keepdims=True))
    ref /= ref.sum(1, keepdims=True)
    np.testing.assert_allclose(scores, ref, rtol=1e-5, atol=1e-6)
    ref2 = z @ np.asarray(fc2.Weights, np.float64).T + np.asarray(fc2.Bias).reshape(1, -1)
    np.testing.assert_allclose(response, ref2, rtol=1e-5, atol=1e-5)
    # padding and mini-batching never change a result: one observation at a time
    for i in (0, 5, 11):
        one = minibatchpredict(net, [X[i]], Fx[i:i + 1], nargout=2)
        np.testing.assert_allclose(one[0][0], scores[i], rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(one[1][0], response[i], rtol=1e-6, atol=1e-6)
    small = minibatchpredict(net, X, Fx, MiniBatchSize=5, nargout=2)
    np.testing.assert_allclose(small[1], response, rtol=1e-6, atol=1e-6)
    # predict and forward: the outputs, then the state
    y1, y2, state = predict(net, X, Fx, nargout=3)
    np.testing.assert_allclose(y2, response, rtol=1e-6, atol=1e-6)
    assert list(state.Parameter) == ["HiddenState", "CellState"]
    assert forward(net, X, Fx, nargout=2)[1].shape == (12, 1)
    # a datastore of the predictors gives the same
    ds = combine(arrayDatastore(X, OutputType="same"), arrayDatastore(Fx))
    np.testing.assert_allclose(minibatchpredict(net, ds, nargout=2)[1], response, rtol=1e-6)


def test_two_outputs_loss_gradient_matches_central_differences():
    net = two_input_two_output()
    X, Fx = data()
    labels = np.array(list("abc") * 4)
    resp = np.random.default_rng(3).standard_normal((12, 1))
    trainnet_gradient_check([X, Fx], [labels, resp], net,
                            lambda Y1, Y2, T1, T2: crossentropy(Y1, T1) + 0.5 * mse(Y2, T2),
                            several=True)
    # an output the loss does not read contributes nothing
    trainnet_gradient_check([X, Fx], [labels, resp], net,
                            lambda Y1, Y2, T1, T2: l1loss(Y2, T2), several=True)


def test_two_sequence_inputs_sequence_output_gradients_and_padding():
    r = np.random.default_rng(4)
    lengths = r.integers(2, 7, 9)
    A = [r.standard_normal((int(T), 2)) for T in lengths]
    B = [r.standard_normal((int(T), 3)) for T in lengths]
    net = dlnetwork([sequenceInputLayer(2, Name="a"), lstmLayer(4, Name="la"),
                     additionLayer(2, Name="add"), fullyConnectedLayer(2, Name="fc")],
                    Initialize=False)
    net = addLayers(net, [sequenceInputLayer(3, Name="b"), gruLayer(4, Name="gb")])
    net = connectLayers(net, "gb", "add/in2")
    from lstmkit import initialize
    net = initialize(net)
    Y = minibatchpredict(net, A, B, UniformOutput=False)
    for i in range(9):
        np.testing.assert_allclose(minibatchpredict(net, [A[i]], [B[i]], UniformOutput=False)[0],
                                   Y[i], rtol=1e-5, atol=1e-6)
    T = [r.standard_normal((int(L), 2)) for L in lengths]
    trainnet_gradient_check([A, B], [T], net, "mse", several=True)
    with pytest.raises(ValueError, match="same length in every sequence input"):
        minibatchpredict(net, A, B[::-1])
    with pytest.raises(ValueError, match="2 inputs .* 1 were given"):
        minibatchpredict(net, A)


def make_task(n=240, seed=0):
    """Labels from the features' sign pattern; the response is the sequence's mean."""
    r = np.random.default_rng(seed)
    X = [r.standard_normal((int(T), 3)) for T in r.integers(5, 15, n)]
    Fx = r.standard_normal((n, 4))
    labels = np.where(Fx[:, 0] > 0, "up", np.where(Fx[:, 1] > 0, "left", "right"))
    resp = np.array([[x[:, 0].mean()] for x in X])
    return X, Fx, labels, resp


def test_trainnet_from_a_datastore_learns_both_outputs_with_validation_and_metrics():
    X, Fx, labels, resp = make_task()
    ds = combine(arrayDatastore(X[:200], OutputType="same"), arrayDatastore(Fx[:200]),
                 arrayDatastore(labels[:200]), arrayDatastore(resp[:200]))
    val = combine(arrayDatastore(X[200:], OutputType="same"), arrayDatastore(Fx[200:]),
                  arrayDatastore(labels[200:]), arrayDatastore(resp[200:]))
    opts = trainingOptions("adam", MaxEpochs=40, MiniBatchSize=50, InitialLearnRate=0.02,
                           ValidationData=val, ValidationFrequency=8, Verbose=False,
                           Metrics=[accuracyMetric(NetworkOutput="sm"),
                                    rmseMetric(NetworkOutput="fc2")])
    loss = lambda Y1, Y2, T1, T2: crossentropy(Y1, T1) + mse(Y2, T2)      # noqa: E731
    net, info = trainnet(ds, two_input_two_output(H=12), loss, opts, seed=0, nargout=2)
    assert info.TrainingHistory.VariableNames == ["Iteration", "Epoch", "LearnRate", "Loss",
                                                  "Accuracy", "RMSE"]
    acc, rmse = testnet(net, val, [accuracyMetric(NetworkOutput="sm"),
                                   rmseMetric(NetworkOutput="fc2")])
    assert acc >= 90.0, acc
    assert rmse < 0.5 * resp[200:].std(), (rmse, resp[200:].std())
    scores, y = minibatchpredict(net, X[200:], Fx[200:], nargout=2)
    classes = np.array(["left", "right", "up"])                   # sorted, as MATLAB's
    assert np.mean(classes[scores.argmax(1)] == labels[200:]) * 100 == pytest.approx(acc)
    assert np.sqrt(np.mean((y - resp[200:]) ** 2)) == pytest.approx(rmse, rel=1e-4)
    # the same data as ValidationData given as arrays (X1, X2, T1, T2)
    opts2 = trainingOptions("adam", MaxEpochs=1, MiniBatchSize=50, Verbose=False,
                            ValidationData=(X[200:], Fx[200:], labels[200:], resp[200:]))
    trainnet(ds, two_input_two_output(), loss, opts2, seed=0)


def test_multi_io_errors_are_clear_and_early():
    X, Fx, labels, resp = make_task(n=20)
    net = two_input_two_output()
    ds = combine(arrayDatastore(X, OutputType="same"), arrayDatastore(Fx),
                 arrayDatastore(labels), arrayDatastore(resp))
    opts = trainingOptions("adam", MaxEpochs=1, Verbose=False)
    with pytest.raises(ValueError, match="must be a function of the outputs"):
        trainnet(ds, net, "crossentropy", opts)
    with pytest.raises(ValueError, match=r"Y1 with T1\); received Y1 with T2"):
        trainnet(ds, net, lambda Y1, Y2, T1, T2: mse(Y1, T2), opts)
    with pytest.raises(ValueError, match="must return 4 columns"):
        trainnet(combine(arrayDatastore(X, OutputType="same"), arrayDatastore(Fx),
                         arrayDatastore(labels)), net,
                 lambda Y1, Y2, T1, T2: crossentropy(Y1, T1), opts)
    bad = trainingOptions("adam", MaxEpochs=1, Verbose=False, Metrics="accuracy")
    with pytest.raises(ValueError, match="NetworkOutput must be one of"):
        trainnet(ds, net, lambda Y1, Y2, T1, T2: crossentropy(Y1, T1), bad)
    with pytest.raises(ValueError, match="regression metric"):
        trainnet(ds, net, lambda Y1, Y2, T1, T2: crossentropy(Y1, T1),
                 trainingOptions("adam", MaxEpochs=1, Verbose=False,
                                 Metrics=rmseMetric(NetworkOutput="sm")))
    with pytest.raises(TypeError, match="give its data as a datastore"):
        testnet(net, X, labels, "accuracy")
    with pytest.raises(ValueError, match="ambiguous for a network with several outputs"):
        testnet(net, ds, "crossentropy")
    with pytest.raises(TypeError, match="the first must be a datastore"):
        trainnet(X, net, "crossentropy", opts)
    with pytest.raises(ValueError, match="different numbers of observations"):
        minibatchpredict(net, X, Fx[:5])
    with pytest.raises(TypeError, match="one input; received 2 data arguments"):
        from lstmkit import assembleNetwork, regressionLayer
        series = assembleNetwork([sequenceInputLayer(3), fullyConnectedLayer(
            1, Weights=np.ones((1, 3)), Bias=[0.0]), regressionLayer()])
        predict(series, [x.T for x in X], [x.T for x in X])


def test_array_datastore_reads_as_matlab():
    A = np.arange(12.0).reshape(4, 3)
    ds = arrayDatastore(A)
    assert hasdata(ds)
    first = read(ds)
    assert len(first) == 1 and first[0].shape == (1, 3)            # row 1 as 1-by-3
    assert [r.tolist() for r in readall(ds)][1] == [[3.0, 4.0, 5.0]]
    read(ds), read(ds), read(ds)
    assert not hasdata(ds)
    with pytest.raises(ValueError, match="no more data"):
        read(ds)
    reset(ds)
    assert hasdata(ds)
    same = arrayDatastore(A, ReadSize=3, OutputType="same")
    np.testing.assert_array_equal(read(same), A[:3])
    np.testing.assert_array_equal(read(same), A[3:])
    seqs = np.random.default_rng(0).standard_normal((7, 2, 5))     # T-by-C-by-N
    ds3 = arrayDatastore(seqs, IterationDimension=3)
    np.testing.assert_array_equal(read(ds3)[0], seqs[:, :, 0])       # T-by-C
    assert len(preview(ds3)) == 5
    labels = np.array(["a", "b", "c"])
    assert readall(arrayDatastore(labels)) == ["a", "b", "c"]
    comb = combine(arrayDatastore(A[:3]), arrayDatastore(labels))
    row = read(comb)
    assert row[1] == "a" and row[0].shape == (1, 3)
    assert len(readall(comb)) == 3
    tr = transform(arrayDatastore(labels), lambda d: [d[0].upper()])
    assert readall(tr) == ["A", "B", "C"]
    from lstmkit import rng
    rng(0)
    assert sorted(readall(shuffle(arrayDatastore(labels)))) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="IterationDimension must be 1"):
        arrayDatastore([1, 2], IterationDimension=2)
    with pytest.raises(TypeError, match="must be a datastore"):
        read(A)
    with pytest.raises(ValueError, match="IncludeInfo=true is not supported"):
        transform(ds, lambda d: d, IncludeInfo=True)
    with pytest.raises(ValueError, match="IterationDimension` is 4"):
        arrayDatastore(A, IterationDimension=4)


def test_single_input_trainnet_from_a_datastore_equals_arrays_and_keeps_categories():
    pd = pytest.importorskip("pandas")
    X, Fx, labels, resp = make_task(n=60)
    layers = [sequenceInputLayer(3), lstmLayer(6, OutputMode="last"), fullyConnectedLayer(3),
              softmaxLayer()]
    opts = trainingOptions("adam", MaxEpochs=2, MiniBatchSize=20, Verbose=False)
    cat = pd.Categorical(labels, categories=["up", "left", "right"])     # not sorted
    a = trainnet(X, cat, layers, "crossentropy", opts, seed=1)
    b = trainnet(combine(arrayDatastore(X, OutputType="same"), arrayDatastore(cat)), layers,
                 "crossentropy", opts, seed=1)
    for u, v in zip(a.Learnables.Value, b.Learnables.Value):
        np.testing.assert_array_equal(u, v)
    assert testnet(b, combine(arrayDatastore(X, OutputType="same"), arrayDatastore(cat)),
                   "accuracy") == testnet(a, X, cat, "accuracy")
