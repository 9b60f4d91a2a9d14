"""Whole-network gradients against finite differences, and padding invariance."""

import numpy as np
import pytest

from gradcheck import assert_gradient_close, numerical_gradient
from lstmkit import (assembleNetwork, bilstmLayer, classificationLayer, dropoutLayer,
                     fullyConnectedLayer, gruLayer, lstmLayer, predict, regressionLayer,
                     sequenceInputLayer, softmaxLayer, trainingOptions, trainNetwork)
from lstmkit.network import truncate_states
from lstmkit.training.trainer import forward_backward
from netutil import NetworkProblem

C, H, K, R = 3, 3, 3, 2


def data(rng, lengths, task):
    X = [rng.standard_normal((C, T)) for T in lengths]
    if task == "label":
        Y = np.array(["a", "b", "c"])[rng.integers(0, K, len(lengths))]
        Y[:K] = ["a", "b", "c"]
    elif task == "label-sequence":
        Y = [np.array(["a", "b", "c"])[rng.integers(0, K, T)] for T in lengths]
        Y[0][:K] = ["a", "b", "c"]
    elif task == "response":
        Y = rng.standard_normal((len(lengths), R))
    else:
        Y = [rng.standard_normal((R, T)) for T in lengths]
    return X, Y


KINDS = {
    "lstm": lambda mode, **kw: lstmLayer(H, OutputMode=mode, **kw),
    "lstm-peepholes": lambda mode, **kw: lstmLayer(H, OutputMode=mode, HasPeepholes=True,
                                                   PeepholeWeightsInitializer="narrow-normal", **kw),
    "lstm-coupled": lambda mode, **kw: lstmLayer(H, OutputMode=mode, CoupledInputForget=True, **kw),
    "lstm-peepholes-coupled": lambda mode, **kw: lstmLayer(
        H, OutputMode=mode, HasPeepholes=True, CoupledInputForget=True,
        PeepholeWeights=0.3 * np.arange(1, 3 * H + 1) / H, **kw),
    "bilstm": lambda mode, **kw: bilstmLayer(H, OutputMode=mode, **kw),
    "gru-after": lambda mode, **kw: gruLayer(H, OutputMode=mode, **kw),
    "gru-before": lambda mode, **kw: gruLayer(H, OutputMode=mode,
                                              ResetGateMode="before-multiplication", **kw),
    "gru-recurrent-bias": lambda mode, **kw: gruLayer(
        H, OutputMode=mode, ResetGateMode="recurrent-bias-after-multiplication", **kw),
}


def network(task, stacked=False, normalization="zscore", gate="sigmoid", state="tanh",
            kind="lstm", dropout=0.0):
    mode = "last" if task in ("label", "response") else "sequence"
    acts = dict(GateActivationFunction=gate, StateActivationFunction=state)
    layers = [sequenceInputLayer(C, Normalization=normalization)]
    if stacked:
        layers.append(KINDS[kind]("sequence", **acts))
        if dropout:
            layers.append(dropoutLayer(dropout))
    layers.append(KINDS[kind](mode, BiasInitializer="narrow-normal", **acts))
    if dropout:
        layers.append(dropoutLayer(dropout))
    if task.startswith("label"):
        layers += [fullyConnectedLayer(K), softmaxLayer(), classificationLayer()]
    else:
        layers += [fullyConnectedLayer(4), fullyConnectedLayer(R), regressionLayer()]
    return layers


TASKS = ["label", "label-sequence", "response", "response-sequence"]


@pytest.mark.parametrize("stacked", [False, True])
@pytest.mark.parametrize("task", TASKS)
def test_network_gradient_matches_finite_differences(rng, task, stacked):
    X, Y = data(rng, [5, 2, 7, 1, 4], task)
    problem = NetworkProblem(network(task, stacked), X, Y)
    _, grad = problem.loss_and_gradient()
    assert_gradient_close(grad, numerical_gradient(problem.loss, problem.theta), rtol=1e-6,
                          atol=1e-9, name=task)


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "lstm"])
@pytest.mark.parametrize("task", TASKS)
def test_every_recurrent_kind_gradient(rng, kind, task):
    X, Y = data(rng, [5, 2, 7, 1], task)
    problem = NetworkProblem(network(task, kind=kind), X, Y)
    _, grad = problem.loss_and_gradient()
    assert_gradient_close(grad, numerical_gradient(problem.loss, problem.theta), rtol=1e-6,
                          atol=1e-9, name=f"{kind} {task}")


@pytest.mark.parametrize("kind", ["lstm", "bilstm", "gru-before"])
def test_stack_with_dropout_gradient(rng, kind):
    """Dropout masks come from lstmkit's generator, re-seeded for every evaluation."""
    X, Y = data(rng, [6, 3, 4], "response-sequence")
    problem = NetworkProblem(network("response-sequence", stacked=True, kind=kind, dropout=0.3),
                             X, Y)
    _, grad = problem.loss_and_gradient()
    assert_gradient_close(grad, numerical_gradient(problem.loss, problem.theta), rtol=1e-6,
                          atol=1e-9)


@pytest.mark.parametrize("gate,state", [("hard-sigmoid", "softsign"), ("sigmoid", "softsign")])
def test_network_gradient_other_activations(rng, gate, state):
    X, Y = data(rng, [4, 6, 2], "label")
    problem = NetworkProblem(network("label", gate=gate, state=state), X, Y)
    _, grad = problem.loss_and_gradient()
    assert_gradient_close(grad, numerical_gradient(problem.loss, problem.theta), rtol=1e-6,
                          atol=1e-9)


@pytest.mark.parametrize("task", ["label", "response-sequence"])
def test_chunked_gradient_is_truncated_bptt(rng, task):
    """SequenceLength=int: a chunk's gradient treats the carried-in state as a constant."""
    X, Y = data(rng, [7, 3, 5], task)
    problem = NetworkProblem(network(task), X, Y, SequenceLength=3)
    assert [c.n for c in problem.chunks] == [3, 2, 1]
    params = problem.setup.params
    states = {}
    for chunk in problem.chunks:
        frozen = {k: tuple(a.copy() for a in s) for k, s in truncate_states(states, chunk.n).items()}

        def chunk_loss(chunk=chunk, frozen=frozen):
            return forward_backward(problem.setup.net, chunk, frozen, params.grads,
                                    problem.dtype)[0]
        _, _, states = forward_backward(problem.setup.net, chunk, frozen, params.grads,
                                        problem.dtype)
        analytic = params.grad.copy()
        assert_gradient_close(analytic, numerical_gradient(chunk_loss, params.theta), rtol=1e-6,
                              atol=1e-9)


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("task", TASKS)
def test_batch_gradient_is_mean_of_single_sequence_gradients(rng, task, kind):
    """Neighbours and padding never change a sequence's gradient."""
    lengths = [6, 1, 9, 3, 3]
    X, Y = data(rng, lengths, task)
    layers = network(task, normalization="none", kind=kind, stacked=kind == "bilstm")
    batch = NetworkProblem(layers, X, Y)
    theta0 = batch.theta.copy()
    _, grad_batch = batch.loss_and_gradient()
    singles = []
    for i in range(len(X)):
        yi = Y[i:i + 1] if not isinstance(Y, list) else [Y[i]]
        one = NetworkProblem(layers_with_weights(batch), X[i:i + 1], yi)
        np.testing.assert_array_equal(one.theta, theta0)
        singles.append(one.loss_and_gradient()[1])
    np.testing.assert_allclose(grad_batch, np.mean(singles, axis=0), rtol=1e-10, atol=1e-13)


def layers_with_weights(problem):
    """The problem's layers (with their initial weights) and fixed classes, for reuse."""
    return [layer.copy() for layer in problem.setup.layers]


@pytest.mark.parametrize("kind", ["lstm", "bilstm", "gru-after", "lstm-peepholes-coupled"])
@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_predictions_independent_of_batching_and_padding(rng, task, dtype, kind):
    lengths = [6, 1, 9, 3, 3, 12, 2]
    X, Y = data(rng, lengths, task)
    opts = trainingOptions("adam", MaxEpochs=2, MiniBatchSize=7, Verbose=False)
    net = trainNetwork(X, Y, network(task, kind=kind, dropout=0.2), opts, dtype=dtype)
    reference = predict(net, X, MiniBatchSize=1)
    tol = dict(rtol=1e-12, atol=1e-14) if dtype == "float64" else dict(rtol=2e-6, atol=1e-7)
    for mb in (2, 3, 128):
        for direction in ("right", "left"):
            for padding_value in (0, 1e6):
                got = predict(net, X, MiniBatchSize=mb, SequencePaddingDirection=direction,
                              SequencePaddingValue=padding_value)
                if isinstance(got, list):
                    for a, b in zip(got, reference):
                        np.testing.assert_allclose(a, b, **tol)
                else:
                    np.testing.assert_allclose(got, reference, **tol)
    # a sequence's output does not depend on its neighbours' lengths
    alone = predict(net, X[2:3], MiniBatchSize=1)
    with_short = predict(net, [X[1], X[2]], MiniBatchSize=2)
    first = (lambda out, i: out[i]) if isinstance(alone, list) else (lambda out, i: out[i])
    np.testing.assert_allclose(first(with_short, 1), first(alone, 0), **tol)


@pytest.mark.parametrize("task", ["label", "response-sequence"])
def test_chunked_prediction_equals_whole_sequence(rng, task):
    X, Y = data(rng, [13, 4, 9, 1], task)
    opts = trainingOptions("adam", MaxEpochs=1, Verbose=False)
    net = trainNetwork(X, Y, network(task), opts, dtype="float64")
    whole = predict(net, X)
    for L in (1, 2, 5, 100):
        got = predict(net, X, SequenceLength=L)
        if isinstance(got, list):
            for a, b in zip(got, whole):
                np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
        else:
            np.testing.assert_allclose(got, whole, rtol=1e-12, atol=1e-14)


def test_loss_values_follow_matlab_definitions(rng):
    """crossentropyex / half-MSE normalisations, computed from the network's own outputs."""
    lengths = [5, 2, 7]
    classes = np.array(["a", "b", "c"])
    weights = np.array([0.5, 1.0, 2.0])
    for task in TASKS:
        X, Y = data(rng, lengths, task)
        layers = network(task, normalization="none")
        if task.startswith("label"):
            layers[-1] = classificationLayer(Classes=classes, ClassWeights=weights)
        problem = NetworkProblem(layers, X, Y)
        net = assembleNetwork(problem.setup.layers, dtype="float64")
        out = predict(net, X)
        N = len(X)
        if task == "label":
            idx = np.searchsorted(classes, Y)
            expected = -np.sum(weights[idx] * np.log(out[np.arange(N), idx])) / N
        elif task == "label-sequence":
            expected = -sum(np.sum(weights[np.searchsorted(classes, y)]
                                   * np.log(o[np.searchsorted(classes, y), np.arange(len(y))]))
                            for o, y in zip(out, Y)) / N
        elif task == "response":
            expected = np.sum(0.5 * (out - Y) ** 2) / N
        else:
            expected = sum(np.sum(0.5 * (o - y) ** 2) / y.shape[1] for o, y in zip(out, Y)) / N
        np.testing.assert_allclose(problem.loss(), expected, rtol=1e-12, err_msg=task)
