"""Training and prediction with ExecutionEnvironment 'gpu': the layers with kernels on the device.

One engine: the graph, the packing, the losses, the metrics, L2, clipping
and the solver are the CPU run's.  :class:`DeviceRunner` is the graph's
runner (:class:`lstmkit.graph.HostRunner`'s three methods) that runs every
layer of :data:`lstmkit.layers.device.DEVICE_LAYERS` on the device, from a
device copy of the learnables, and every other layer on the host, copying its
input and gradient across.  Per iteration the learnables go to the device
once and the device layers' gradients come back once (each one vector of
their size); the loss and its gradient are computed on the host from the
network output (small next to the recurrent states), so trainNetwork's and
trainnet's losses are the same code in both runs.

First version (issue 17): the device layers are lstmLayer (with its
peephole and coupled-gate variants), bilstmLayer, gruLayer (three reset
modes), the projected LSTM and GRU layers and fullyConnectedLayer; the
products are plain numba-cuda kernels, not yet cuBLAS, and nothing of this
has been timed on a GPU.
"""

from __future__ import annotations

import numpy as np

from .._validation import fail
from ..graph import HOST


class DeviceLost(RuntimeError):
    """The GPU failed during training (the run stops with the last complete network).

    ``network`` holds that network (the failed iteration's update never ran).
    """

    def __init__(self, func, exc):
        super().__init__(f"{func}: the GPU failed during training ({type(exc).__name__}: "
                         f"{exc}); the network of the last complete iteration is kept "
                         f"(this error's .network).")
        self.network = None


def is_device_error(exc):
    """Whether ``exc`` comes from the CUDA driver or runtime (a lost or failing device)."""
    module = type(exc).__module__ or ""
    return module.startswith(("numba.cuda", "numba_cuda", "cuda.")) or \
        type(exc).__name__ in ("CudaAPIError", "CudaDriverError", "CudaSupportError")


class DeviceRunner:
    """The graph's runner for the GPU (see the module's description)."""

    def __init__(self, layers, params=None, dtype=None):
        """``params``: the training's ParameterVector (weights loaded each iteration,
        gradients stored); without it, prediction: the layers' learnables in ``dtype``,
        copied to the device once."""
        from numba import cuda
        from ..layers.base import kernel_array
        from ..layers.device import DEVICE_LAYERS, to_device
        self.impl = {k: DEVICE_LAYERS.get(type(layer)) for k, layer in enumerate(layers)}
        self.params = params
        self.weights = [{} for _ in layers]
        if params is None:
            for k, layer in enumerate(layers):
                if self.impl[k] is not None:
                    self.weights[k] = {lb.name: to_device(kernel_array(getattr(layer, lb.name),
                                                                       dtype))
                                       for lb in layer.learnables}
            return
        P = params.theta.size
        self.theta = cuda.device_array(P, params.theta.dtype)
        self.grad = cuda.device_array(P, params.theta.dtype)
        self.grads = [{} for _ in layers]
        self.segments = [[] for _ in layers]
        for (k, lb, shape), lo, hi in zip(params._entries, params.segments[:-1],
                                          params.segments[1:]):
            if self.impl[k] is None:
                continue
            lo, hi = int(lo), int(hi)
            self.weights[k][lb.name] = self.theta[lo:hi].reshape(shape)
            self.grads[k][lb.name] = self.grad[lo:hi].reshape(shape)
            self.segments[k].append((lo, hi))

    def check_memory(self, func, layers, rows, observations):
        """A clear error, before training, when a mini-batch cannot fit in the GPU's free memory.

        ``rows`` is the most packed rows (time steps) a mini-batch can have and
        ``observations`` its sequences (see :func:`check_device_memory`).
        """
        check_device_memory(func, "training", layers, self.device_nodes, rows, observations,
                            self.params.theta.dtype.itemsize,
                            2 * self.params.theta.size * self.params.theta.dtype.itemsize)

    @property
    def device_nodes(self):
        return [k for k, impl in self.impl.items() if impl is not None]

    def load_weights(self):
        """The host learnables to the device (once per iteration, before the forward pass)."""
        self.theta.copy_to_device(self.params.theta)

    def store_gradients(self):
        """The device layers' gradients into the host gradient (after the backward pass)."""
        grad = self.grad.copy_to_host()
        for k in self.device_nodes:
            for lo, hi in self.segments[k]:
                self.params.grad[lo:hi] = grad[lo:hi]

    # -- the runner's three methods --------------------------------------------------------
    def forward(self, node, layer, x, batch, state, training, dtype):
        from ..layers.device import to_device, to_host
        impl = self.impl[node]
        if impl is None:
            x = [to_host(v) for v in x] if isinstance(x, list) else to_host(x)
            return HOST.forward(node, layer, x, batch, state, training, dtype)
        y, cache, new_state = impl.forward(layer, to_device(x), batch, state, training, dtype,
                                           self.weights[node])
        if new_state is not None:
            new_state = tuple(to_host(s) for s in new_state)
        return y, cache, new_state

    def backward(self, node, layer, dy, cache, grads, need_dx):
        from ..layers.device import to_device, to_host
        impl = self.impl[node]
        if impl is None:
            return HOST.backward(node, layer, to_host(dy), cache, grads, need_dx)
        return impl.backward(layer, to_device(dy), cache, self.weights[node], self.grads[node],
                             need_dx)

    @staticmethod
    def add(a, b):
        from ..layers.device import to_host
        return to_host(a) + to_host(b)

    @staticmethod
    def host(a):
        """A layer's output on the host."""
        from ..layers.device import to_host
        return to_host(a)


def check_device_memory(func, what, layers, nodes, rows, observations, itemsize, fixed):
    """A MemoryError with the sizes when ``what`` ('training', 'prediction') of mini-batches of
    up to ``rows`` packed rows (time steps) and ``observations`` sequences would not fit in the
    GPU's free memory.

    The estimate counts ``fixed`` bytes (learnables, and their gradient in training) and, for
    every device layer ``nodes``, its work arrays per row (training: what the backward pass
    keeps) and per sequence (states).  A device that does not report its memory (the
    simulator) is not checked.
    """
    try:
        from numba import cuda
        free, total = cuda.current_context().get_memory_info()
    except Exception:
        return
    need = fixed
    for k in nodes:
        layer = layers[k]
        H = int(getattr(layer, "NumHiddenUnits", 0) or getattr(layer, "OutputSize", 0))
        C = getattr(layer, "InputSize", 0)
        C = int(C) if isinstance(C, (int, np.integer)) else 0
        per_row = (4 * H + 6 * H + 2 * C) if what == "training" else (5 * H + 2 * C)
        need += (rows * per_row + 6 * observations * H) * itemsize
    if need > free:
        gib = 2 ** 30
        fail(func, f"{what} on the GPU needs about {need / gib:.2f} GiB of its memory for "
                   f"a mini-batch of up to {rows} time steps ({observations} sequences), "
                   f"and the GPU has {free / gib:.2f} GiB free of {total / gib:.2f} GiB. "
                   f"Use a smaller MiniBatchSize, an integer SequenceLength, or "
                   f"ExecutionEnvironment='cpu'.", MemoryError)


def largest_batch(lengths, mini_batch_size, sequence_length):
    """``(rows, observations)`` of the largest mini-batch prediction packs: consecutive runs of
    ``mini_batch_size`` sequences, cut to the shortest (``'shortest'``) or processed in windows
    of ``sequence_length`` steps (an integer)."""
    lengths = np.asarray(lengths, np.int64)
    rows, observations = 0, 0
    for lo in range(0, lengths.size, mini_batch_size):
        part = lengths[lo:lo + mini_batch_size]
        if sequence_length == "shortest":
            part = np.full(part.size, part.min())
        elif isinstance(sequence_length, (int, np.integer)):
            part = np.minimum(part, sequence_length)
        rows = max(rows, int(part.sum()))
        observations = max(observations, int(part.size))
    return rows, observations


def prediction_runner(func, net, rows, observations):
    """The device runner for predicting with ``net`` (its learnables copied to the device), after
    checking that mini-batches of up to ``rows`` packed rows and ``observations`` sequences fit
    in the GPU's memory."""
    from ..layers.device import DEVICE_LAYERS
    layers = net._graph.layers
    nodes = [k for k, layer in enumerate(layers) if type(layer) in DEVICE_LAYERS]
    itemsize = np.dtype(net._dtype).itemsize
    fixed = sum(int(np.size(getattr(layers[k], lb.name))) for k in nodes
                for lb in layers[k].learnables) * itemsize
    check_device_memory(func, "prediction", layers, nodes, rows, observations, itemsize, fixed)
    return DeviceRunner(layers, dtype=net._dtype)


def host_output(y):
    """The network output on the host (for the loss and the metrics)."""
    from ..layers.device import to_host
    return [to_host(v) for v in y] if isinstance(y, list) else to_host(y)


def device_forward_backward(runner, net, chunk, states, grads, dtype, totals=None):
    """:func:`lstmkit.training.trainer.forward_backward` with the device runner.

    Returns ``(loss, y, new_states)`` on the host; the gradient is in
    ``runner.params.grad`` (host layers write there directly).
    """
    runner.load_weights()
    y, caches, states = net.forward(chunk.x, chunk.batch, states, True, dtype, runner)
    y = host_output(y)
    loss, dy = net.loss(y, chunk, totals)
    net.graph.backward(net.seeds(dy), caches, grads, net.backward_nodes, runner)
    runner.store_gradients()
    return loss, y, states

