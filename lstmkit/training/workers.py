"""Data-parallel training on a pool: the workers' side and the client's.

Each worker of the pool (:func:`lstmkit.parpool`) holds a :class:`ShareWorker`,
a Dask actor made once per training: it rebuilds the training set-up from the
same arguments the client checked (the data reach each worker once, never per
iteration) and then, at every iteration, takes the current weights as one
flat array and returns the loss, the gradient and the network output of its
share of the mini-batch (:mod:`lstmkit.training.shards`).  The client sums
the shares and runs the same L2, clipping and solver step as a serial run,
and keeps everything a user sees (table, plots, OutputFcn, validation,
checkpoints).

Why the weights go out and not the summed gradient (replicas that each run
the solver, as scale-out.md proposed): the traffic is the same (one vector
of the network's size each way per iteration), and a worker can never drift
from the client, whatever its machine's threads or BLAS round differently, so
a worker that joins, dies or is replaced needs nothing but the next call.
The network's structure reaches the workers as lstmkit's layer objects
(their classes by name, their properties as arrays), its weights as a plain
float array.
"""

from __future__ import annotations

import numpy as np

from .._validation import fail
from .data import prepare_minibatch
from .options import TrainingOptions
from .shards import split_shares

#: options a worker's rebuilt set-up does without: they act on the client only
CLIENT_ONLY = {"OutputFcn": None, "Plots": "none", "ValidationData": None, "CheckpointPath": "",
               "Verbose": False, "ExecutionEnvironment": "cpu", "WorkerLoad": None}


def worker_options(options):
    """The options a worker rebuilds its set-up with (no validation, plots, callbacks)."""
    values = dict(options._values)
    values.update({k: v for k, v in CLIENT_ONLY.items() if k in values})
    return TrainingOptions(options.SolverName, values)


class ShareWorker:
    """A pool worker's copy of one training (a Dask actor)."""

    def __init__(self, func, args, dtype):
        import numba
        numba.set_num_threads(1)              # one worker per core: single-threaded kernels
        if func == "trainnet":
            from .trainnet import prepare_trainnet
            self.setup = prepare_trainnet(func, *args, dtype)
        else:
            from .trainer import prepare_training
            self.setup = prepare_training(func, *args, dtype)
        self.dtype = self.setup.params.theta.dtype

    def size(self):
        """Number of learnable values (checked against the client's)."""
        return int(self.setup.params.theta.size)

    def gradient(self, theta, indices, num_total, totals, direction, shortest=None):
        """Loss, gradient and output of the observations ``indices`` at weights ``theta``.

        ``shortest``: the length the whole mini-batch is cut to (SequenceLength
        'shortest'), else None.
        """
        from .trainer import forward_backward
        params = self.setup.params
        params.theta[:] = theta
        (chunk,) = prepare_minibatch(np.asarray(indices), self.setup.data, self.setup.targets,
                                     "longest" if shortest is None else "shortest", direction,
                                     self.dtype, num_total=num_total, shortest=shortest)
        loss, y, _ = forward_backward(self.setup.net, chunk, {}, params.grads, self.dtype, totals)
        return float(loss), params.grad.copy(), y


class PoolGradients:
    """The client's side: one ShareWorker per worker, shares sent out, gradients summed."""

    def __init__(self, func, args, options, params, pool=None):
        from ..parallel import gcp, require_dask
        require_dask(func)
        self.func = func
        self.pool = pool or gcp()
        client = self.pool.Client
        workers = self.pool.workers()
        if not workers:
            fail(func, "the parallel pool has no workers.", RuntimeError)
        load = options.WorkerLoad
        if load is None:
            load = np.ones(len(workers))
        elif len(load) != len(workers):
            fail(func, f"`WorkerLoad` has {len(load)} values but the parallel pool has "
                       f"{len(workers)} workers: give one value per worker.")
        self.load = np.asarray(load, dtype=np.float64)
        self.direction = options.SequencePaddingDirection
        wargs = tuple(args) + (worker_options(options),)
        dtype = str(params.theta.dtype)
        try:
            futures = [client.submit(ShareWorker, func, wargs, dtype, actor=True, workers=[w],
                                     pure=False) for w in workers]
            self._futures = futures                 # the actors live as long as these
            self.actors = [f.result() for f in futures]
            sizes = [a.size().result() for a in self.actors]
        except Exception as exc:
            fail(func, f"the parallel pool's workers could not set up the training "
                       f"({type(exc).__name__}: {exc}).", RuntimeError)
        if any(s != params.theta.size for s in sizes):
            fail(func, "the workers built a network of another size than this process "
                       f"({sizes} against {params.theta.size} learnables).", RuntimeError)
        self.workers = workers

    def close(self):
        """Release the workers' copies of the training (their data and network)."""
        for future in self._futures:
            future.release()
        self._futures = []
        self.actors = []

    def __call__(self, theta, indices, totals, shortest, grad):
        """Sum the shares' gradients into ``grad``; return the loss and the outputs by share.

        ``shortest``: the length the mini-batch is cut to (SequenceLength
        'shortest'), else None.
        """
        shares = split_shares(indices, self.load)
        n = len(indices)
        calls = [(k, actor.gradient(theta, share, n, totals, self.direction, shortest))
                 for k, (actor, share) in enumerate(zip(self.actors, shares)) if share.size]
        loss = 0.0
        grad[:] = 0
        outputs = []
        for k, call in calls:
            try:
                part, g, y = call.result()
            except Exception as exc:
                raise WorkerLost(self.func, self.workers[k], exc) from exc
            loss += part
            grad += g
            outputs.append((shares[k], y))
        return loss, outputs


class WorkerLost(RuntimeError):
    """A pool worker failed during training (the run stops with the last complete network)."""

    def __init__(self, func, worker, exc):
        super().__init__(f"{func}: the parallel pool's worker {worker} failed during training "
                         f"({type(exc).__name__}: {exc}).")
