"""A mini-batch's gradient equals the sum of its shares' (the data-parallel split)."""

import numpy as np
import pytest

import lstmkit as L
from lstmkit.training.data import prepare_minibatch
from lstmkit.training.shards import (prepare_shares, share_sizes, sharded_forward_backward,
                                     split_shares)
from lstmkit.training.trainer import forward_backward, prepare_training
from lstmkit.training.trainnet import prepare_trainnet


@pytest.mark.parametrize("n, load, expected", [
    (10, [1, 1], [5, 5]),
    (11, [1, 1], [6, 5]),                  # ties of the remainder go to the first
    (10, [3, 1, 0, 2], [5, 2, 0, 3]),
    (3, [1, 1, 1, 1, 1], [1, 1, 1, 0, 0]),  # more workers than observations
    (7, [0, 2], [0, 7]),
    (1, [0.1, 0.9], [0, 1]),
])
def test_share_sizes(n, load, expected):
    sizes = share_sizes(n, load)
    assert sizes.tolist() == expected and sizes.sum() == n


def test_split_shares_keeps_the_order():
    shares = split_shares(np.array([7, 3, 9, 1, 4]), [2, 1, 2])
    assert [s.tolist() for s in shares] == [[7, 3], [9], [1, 4]]


def ragged(rng, n, C, low=2, high=9):
    return [rng.standard_normal((C, int(T))) for T in rng.integers(low, high + 1, n)]


NETWORKS = {
    "lstm-last-classification": lambda C: [
        L.sequenceInputLayer(C), L.lstmLayer(5, OutputMode="last"),
        L.fullyConnectedLayer(3), L.softmaxLayer(), L.classificationLayer()],
    "bilstm-gru-sequence-regression": lambda C: [
        L.sequenceInputLayer(C), L.bilstmLayer(4), L.gruLayer(3),
        L.fullyConnectedLayer(2), L.regressionLayer()],
    "conv-norm-attention-sequence-classification": lambda C: [
        L.sequenceInputLayer(C), L.convolution1dLayer(3, 4, Padding="causal"),
        L.layerNormalizationLayer(), L.selfAttentionLayer(2, 4), L.lstmLayer(4),
        L.fullyConnectedLayer(3), L.softmaxLayer(), L.classificationLayer()],
    "projected-last-regression": lambda C: [
        L.sequenceInputLayer(C), L.lstmProjectedLayer(6, 3, 2, OutputMode="last"),
        L.fullyConnectedLayer(2), L.regressionLayer()],
}


def targets_for(name, rng, X):
    if name.endswith("last-classification"):
        return np.array(["a", "b", "c"] * 4)[:len(X)]
    if name.endswith("sequence-classification"):
        return [np.array(["a", "b", "c"])[rng.integers(0, 3, x.shape[1])] for x in X]
    if name.endswith("sequence-regression"):
        return [rng.standard_normal((2, x.shape[1])) for x in X]
    return rng.standard_normal((len(X), 2))


def serial_and_shares(setup, indices, load, totals_for_serial=False, sequence_length="longest",
                      direction="right"):
    dtype = setup.params.theta.dtype
    (chunk,) = prepare_minibatch(indices, setup.data, setup.targets, sequence_length, direction,
                                 dtype)
    loss, _, _ = forward_backward(setup.net, chunk, {}, setup.params.grads, dtype)
    serial = setup.params.grad.copy()
    setup.params.grad[:] = np.nan                      # the shares must overwrite it all
    chunks, totals = prepare_shares(indices, load, setup.data, setup.targets, sequence_length,
                                    direction, dtype)
    share_loss, outputs = sharded_forward_backward(forward_backward, setup.net, chunks, totals,
                                                   setup.params, dtype)
    assert len(outputs) == sum(c is not None for c in chunks)
    return loss, serial, share_loss, setup.params.grad


@pytest.mark.parametrize("name", list(NETWORKS))
@pytest.mark.parametrize("load", [[1, 1], [3, 1, 0, 2], [1] * 14])
def test_trainnetwork_shares_sum_to_the_serial_gradient(rng, name, load):
    """float64: every layer kind above, ragged lengths, uneven and zero loads, empty shares."""
    X = ragged(rng, 12, 3)
    Y = targets_for(name, rng, X)
    L.rng(0)
    setup = prepare_training("trainNetwork", X, Y, NETWORKS[name](3),
                             L.trainingOptions("adam", Verbose=False), "float64")
    indices = rng.permutation(12)[:10]
    loss, serial, share_loss, summed = serial_and_shares(setup, indices, load)
    assert abs(share_loss - loss) <= 1e-12 * max(1.0, abs(loss))
    np.testing.assert_allclose(summed, serial, rtol=1e-9, atol=1e-12)
    assert np.any(serial != 0)


@pytest.mark.parametrize("name", list(NETWORKS))
@pytest.mark.parametrize("direction", ["right", "left"])
def test_shortest_cuts_every_share_to_the_whole_minibatchs_shortest(rng, name, direction):
    """SequenceLength 'shortest': each share is cut to the mini-batch's shortest sequence, not
    its own, so the sum of the shares is still the serial gradient."""
    X = ragged(rng, 12, 3)
    Y = targets_for(name, rng, X)
    L.rng(0)
    setup = prepare_training("trainNetwork", X, Y, NETWORKS[name](3),
                             L.trainingOptions("adam", Verbose=False), "float64")
    indices = rng.permutation(12)[:10]
    loss, serial, share_loss, summed = serial_and_shares(
        setup, indices, [3, 1, 0, 2], sequence_length="shortest", direction=direction)
    assert abs(share_loss - loss) <= 1e-12 * max(1.0, abs(loss))
    np.testing.assert_allclose(summed, serial, rtol=1e-9, atol=1e-12)
    (longest,) = prepare_minibatch(indices, setup.data, setup.targets, "longest", direction,
                                   np.float64)
    forward_backward(setup.net, longest, {}, setup.params.grads, np.float64)
    assert not np.allclose(setup.params.grad, serial)       # the cut did change the gradient


@pytest.mark.parametrize("loss_name", ["crossentropy", "mse", "huber", "l1loss"])
def test_trainnet_losses_are_normalized_by_the_whole_minibatch(rng, loss_name):
    X = [x.T for x in ragged(rng, 9, 2)]                         # T-by-C, trainnet's layout
    classify = loss_name == "crossentropy"
    if classify:
        T = [np.array(["x", "y"])[rng.integers(0, 2, x.shape[0])] for x in X]
        head = [L.fullyConnectedLayer(2), L.softmaxLayer()]
    else:
        T = [rng.standard_normal((x.shape[0], 2)) for x in X]
        head = [L.fullyConnectedLayer(2)]
    L.rng(1)
    setup = prepare_trainnet("trainnet", [X], [T], [L.sequenceInputLayer(2), L.lstmLayer(4)] +
                             head, loss_name, L.trainingOptions("adam", Verbose=False),
                             "float64")
    loss, serial, share_loss, summed = serial_and_shares(setup, np.arange(9), [2, 0, 1, 1])
    assert abs(share_loss - loss) <= 1e-12 * max(1.0, abs(loss))
    np.testing.assert_allclose(summed, serial, rtol=1e-9, atol=1e-12)
