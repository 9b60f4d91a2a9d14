"""Helpers for network-level tests: loss and gradient of a whole network."""

import numpy as np

from lstmkit import (dropoutLayer, fullyConnectedLayer, gruLayer, lstmLayer, regressionLayer,
                     rng, sequenceInputLayer, trainingOptions)
from lstmkit.network import truncate_states
from lstmkit.training.data import prepare_minibatch
from lstmkit import DLNetwork, dlnetwork
from lstmkit.training.trainer import forward_backward, prepare_training
from lstmkit.training.trainnet import prepare_trainnet

from gradcheck import assert_gradient_close


class NetworkProblem:
    """A network set up as trainNetwork would, with the whole data as one mini-batch."""

    def __init__(self, layers, X, Y, dtype=np.float64, **option_values):
        options = trainingOptions("sgdm", MiniBatchSize=10 ** 6, L2Regularization=0,
                                  **option_values)
        self.setup = prepare_training("test", X, Y, layers, options, dtype)
        self.options = options
        self.dtype = np.dtype(dtype)
        s = self.setup
        self.chunks = prepare_minibatch(np.arange(len(s.data)), s.data, s.targets,
                                        options.SequenceLength, options.SequencePaddingDirection,
                                        self.dtype)

    @property
    def theta(self):
        return self.setup.params.theta

    def loss_and_gradient(self):
        """Sum of the chunks' losses and of their gradients (flat).

        lstmkit's generator is re-seeded first, so dropout masks are the same in
        every evaluation (finite differences need a deterministic function).
        """
        rng(2024)
        params = self.setup.params
        states = {}
        total, grad = 0.0, np.zeros_like(params.theta)
        for chunk in self.chunks:
            states = truncate_states(states, chunk.n)
            loss, _, states = forward_backward(self.setup.net, chunk, states, params.grads,
                                               self.dtype)
            total += loss
            grad += params.grad
        return total, grad

    def loss(self):
        return self.loss_and_gradient()[0]


QUIET = dict(Verbose=False)


def regression_data(n=16, seed=0):
    """n random 2-by-T sequences (T from 3 to 8) and their first channel's mean."""
    r = np.random.default_rng(seed)
    X = [r.standard_normal((2, int(T))) for T in r.integers(3, 9, n)]
    return X, np.array([[x[0].mean()] for x in X])


def stack():
    """A small stack that draws from the generator in every way: init, dropout."""
    return [sequenceInputLayer(2), lstmLayer(6), dropoutLayer(0.3), gruLayer(5, OutputMode="last"),
            fullyConnectedLayer(1), regressionLayer()]


def weights(net):
    """Copies of a network's learnable arrays."""
    return [np.asarray(getattr(layer, name)).copy() for layer in net.Layers
            for name in ("InputWeights", "RecurrentWeights", "Bias", "Weights")
            if getattr(layer, name, None) is not None]


def trainnet_gradient_check(X, T, layers, lossFcn, samples=40, several=False, **extra):
    """trainnet's loss gradient on one mini-batch against central differences (float64).

    ``several``: X and T are lists with one item per network input and output.
    """
    Xs, Ts = (X, T) if several else ([X], [T])
    N = len(Xs[0])
    opts = trainingOptions("sgdm", MiniBatchSize=N, Verbose=False, **extra)
    net = layers if isinstance(layers, DLNetwork) else dlnetwork(layers)
    setup = prepare_trainnet("trainnet", Xs, Ts, net, lossFcn, opts, "float64")
    chunk = prepare_minibatch(np.arange(N), setup.data, setup.targets,
                              "longest", "right", np.float64)[0]
    p = setup.params
    p.grad[:] = 0
    forward_backward(setup.net, chunk, truncate_states({}, chunk.n), p.grads, np.float64)
    analytic = p.grad.copy()

    def loss():
        y, _, _ = setup.net.forward(chunk.x, chunk.batch, {}, True, np.float64)
        return setup.net.loss(y, chunk, need_grad=False)[0]

    idx = np.random.default_rng(0).choice(p.theta.size, min(samples, p.theta.size), replace=False)
    numeric = np.empty(idx.size)
    for j, i in enumerate(idx):
        old = p.theta[i]
        p.theta[i] = old + 1e-6
        fp = loss()
        p.theta[i] = old - 1e-6
        fm = loss()
        p.theta[i] = old
        numeric[j] = (fp - fm) / 2e-6
    assert_gradient_close(analytic[idx], numeric, rtol=1e-5, atol=1e-8)
