"""Parallel pools: MATLAB's ``parpool`` and ``gcp`` on Dask distributed.

A pool is a Dask ``Client`` and the cluster behind it.  ``parpool()`` starts
one worker process per physical core on this machine, each single-threaded
(Numba and BLAS), as MATLAB's local "Processes" profile does; it reuses the
Dask client the program already has open, and it connects to any Dask
cluster by the scheduler's address or by the cluster or client object
(SSH, SLURM/PBS through dask-jobqueue, Kubernetes: whatever Dask runs on).
``pool.delete()`` closes what lstmkit started, never a cluster or client it
was handed.

The local workers are separate programs (Dask's ``SubprocessCluster`` on
Linux and macOS), not children of the user's script made by
``multiprocessing``: a script ported from MATLAB has no
``if __name__ == "__main__":`` guard, and a spawned child would run it again.
On Windows Dask has no such cluster, and the script needs the guard.

Dask is an optional extra: ``pip install "lstmkit[parallel]"``.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import Any, Sequence

from ._validation import _show, check_positive_int, checked_call, fail

#: seconds parpool waits for a scheduler given by address, and for local workers to start
CONNECT_TIMEOUT = 30
#: MATLAB's names for the local pool (the profile argument of parpool)
LOCAL_PROFILES = ("processes", "local")

_lock = threading.RLock()
_current: ParallelPool | None = None


def require_dask(func):
    """``distributed``, or a clear error naming the extra."""
    try:
        import distributed
    except ImportError:
        fail(func, "a parallel pool needs Dask distributed, which is not installed. "
                   "Install lstmkit's parallel extra: pip install \"lstmkit[parallel]\".",
             ImportError)
    return distributed


def physical_cores():
    """Physical cores of this machine (MATLAB's default pool size), at least 1."""
    try:
        import psutil
        count = psutil.cpu_count(logical=False)
    except ImportError:       # psutil comes with distributed; be safe without it
        count = None
    return max(1, count or os.cpu_count() or 1)


class ParallelPool:
    """An open pool of workers (MATLAB's ``parallel.ProcessPool`` / ``ClusterPool``).

    Made by :func:`parpool` (or :func:`gcp`), never directly.

    Attributes
    ----------
    NumWorkers : int
        Workers connected now.
    Connected : bool
        Whether the pool is open.
    Cluster : str
        The scheduler's address.
    Client : distributed.Client
        The Dask client (an lstmkit extension: submit your own work to it).
    """

    def __init__(self, client, cluster, owns_client, owns_cluster):
        self.Client = client
        self._cluster = cluster
        self._owns_client = owns_client
        self._owns_cluster = owns_cluster
        self._deleted = False

    @property
    def NumWorkers(self):
        if not self.Connected:
            return 0
        return len(self.Client.scheduler_info(n_workers=-1).get("workers", {}))

    @property
    def Connected(self):
        return not self._deleted and self.Client.status == "running"

    @property
    def Cluster(self):
        return self.Client.scheduler.address if self.Client.scheduler else ""

    def workers(self):
        """Addresses of the connected workers, sorted."""
        return sorted(self.Client.scheduler_info(n_workers=-1).get("workers", {}))

    def delete(self):
        """Close the pool: the client and the cluster lstmkit started (MATLAB's ``delete(pool)``).

        A cluster or client handed to :func:`parpool` stays up: it is the
        caller's.  Deleting a pool twice does nothing.
        """
        global _current
        with _lock:
            if self._deleted:
                return
            self._deleted = True
            if _current is self:
                _current = None
        if self._owns_client:
            self.Client.close()
        if self._owns_cluster and self._cluster is not None:
            self._cluster.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.delete()

    def __repr__(self):
        if self._deleted:
            return "<ParallelPool (deleted)>"
        return f"<ParallelPool: {self.NumWorkers} workers at {self.Cluster}>"


def _client_path():
    """This program's module path (MATLAB's AutoAddClientPath): existing folders, in order."""
    entries = [os.path.abspath(p or os.curdir) for p in sys.path]
    return list(dict.fromkeys(p for p in entries if os.path.isdir(p)))


def _local_cluster(distributed, n):
    """A cluster of ``n`` single-threaded worker processes on this machine."""
    env = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1"}
    if sys.platform != "win32":
        from distributed.deploy.subprocess import SubprocessCluster
        return SubprocessCluster(n_workers=n, threads_per_worker=1, dashboard_address=None,
                                 worker_kwargs={"env": env})
    return distributed.LocalCluster(n_workers=n, threads_per_worker=1, dashboard_address=None,
                                    env=env)


def _open(func, resources, size):
    distributed = require_dask(func)
    Client = distributed.Client
    if isinstance(resources, Client):
        return ParallelPool(resources, None, False, False)
    if resources is not None and not isinstance(resources, str) and \
            hasattr(resources, "scheduler_address"):           # a Dask cluster object
        client = Client(resources, timeout=CONNECT_TIMEOUT)
        return ParallelPool(client, resources, True, False)
    if isinstance(resources, str) and resources.lower() not in LOCAL_PROFILES:
        try:
            client = Client(resources, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as exc:
            fail(func, f"could not connect to a Dask scheduler at '{resources}' within "
                       f"{CONNECT_TIMEOUT} s ({type(exc).__name__}: {exc}). Start one with "
                       f"`dask scheduler` and workers with `dask worker {resources}`, or give "
                       f"'Processes' for a pool on this machine.", ConnectionError)
        return ParallelPool(client, None, True, False)
    if resources is None and size is None:
        try:                                           # the program's own open client
            return ParallelPool(distributed.get_client(), None, False, False)
        except ValueError:
            pass
    n = physical_cores() if size is None else size
    try:
        cluster = _local_cluster(distributed, n)
    except Exception as exc:
        fail(func, f"could not start {n} local workers ({type(exc).__name__}: {exc}).",
             RuntimeError)
    client = Client(cluster, timeout=CONNECT_TIMEOUT)
    try:
        client.wait_for_workers(n, timeout=CONNECT_TIMEOUT)
    except (TimeoutError, OSError) as exc:
        client.close()
        cluster.close()
        fail(func, f"the {n} local workers did not all start within {CONNECT_TIMEOUT} s "
                   f"({type(exc).__name__}: {exc}).", RuntimeError)
    from ._pool_plugin import ClientPath
    client.register_plugin(ClientPath(_client_path()))
    return ParallelPool(client, cluster, True, True)


@checked_call
def parpool(resources: Any = None, poolsize: int | None = None) -> ParallelPool:
    """Start a parallel pool of workers (MATLAB's ``parpool``), on Dask distributed.

    Parameters
    ----------
    resources : str, int, distributed.Client or Dask cluster, optional
        ``"Processes"`` (or ``"local"``): workers on this machine, one per
        physical core by default.  A scheduler address such as
        ``"tcp://10.0.0.5:8786"``: the Dask cluster there.  A Dask cluster
        object (``LocalCluster``, dask-jobqueue's ``SLURMCluster``, ...) or a
        ``Client``: that cluster, left running by :meth:`ParallelPool.delete`.
        An int is the pool size (MATLAB's ``parpool(n)``).  Omitted: the Dask
        client the program has open, else a local pool.
    poolsize : int, optional
        Number of local workers (``parpool("Processes", n)``).  For a cluster
        given by address or object, its workers are what it has.

    Returns
    -------
    ParallelPool
        The pool, also returned by :func:`gcp` until it is deleted.

    Raises
    ------
    RuntimeError
        If a pool is already open (as in MATLAB: delete it first with
        ``gcp("nocreate").delete()``).
    ImportError
        Without Dask distributed (``pip install "lstmkit[parallel]"``).
    ConnectionError
        If no scheduler answers at the address within 30 s.

    Examples
    --------
    >>> from lstmkit import parpool, gcp
    >>> pool = parpool("Processes", 2)                         # doctest: +SKIP
    >>> pool.NumWorkers                                        # doctest: +SKIP
    2
    >>> gcp() is pool                                          # doctest: +SKIP
    True
    >>> pool.delete()                                          # doctest: +SKIP
    """
    global _current
    func = "parpool"
    distributed = require_dask(func)
    if isinstance(resources, bool) or (resources is not None and not isinstance(
            resources, (str, int, distributed.Client))
            and not hasattr(resources, "scheduler_address")):
        fail(func, f"`resources` must be 'Processes', a scheduler address, a Dask cluster or "
                   f"Client, or the pool size. Received: {_show(resources)}.", TypeError)
    if isinstance(resources, int):
        if poolsize is not None:
            fail(func, "the pool size is given twice (as `resources` and `poolsize`).", TypeError)
        resources, poolsize = None, resources
    if poolsize is not None:
        poolsize = check_positive_int(func, "poolsize", poolsize)
        if resources is not None and not (isinstance(resources, str)
                                          and resources.lower() in LOCAL_PROFILES):
            fail(func, "`poolsize` applies to a local pool ('Processes'); a cluster given by "
                       "address or object has the workers it has.")
    with _lock:
        if _current is not None and _current.Connected:
            fail(func, "a parallel pool is already open. You cannot have two pools open at "
                       "once; close it first with gcp('nocreate').delete().", RuntimeError)
        _current = _open(func, resources, poolsize)
        return _current


@checked_call
def gcp(option: str | None = None) -> ParallelPool | None:
    """The current parallel pool (MATLAB's ``gcp``), started if there is none.

    Parameters
    ----------
    option : {'nocreate'}, optional
        Return None instead of starting a pool when none is open.

    Returns
    -------
    ParallelPool or None

    Examples
    --------
    >>> from lstmkit import gcp
    >>> gcp("nocreate") is None                                # no pool open
    True
    """
    if option is not None and not (isinstance(option, str) and option.lower() == "nocreate"):
        fail("gcp", f"`option` must be 'nocreate'. Received: {_show(option)}.")
    with _lock:
        if _current is not None and _current.Connected:
            return _current
        if option is not None:
            return None
        return parpool()


@atexit.register
def _close_at_exit():
    """Close the pool lstmkit started before the interpreter goes (no stray workers)."""
    pool = _current
    if pool is not None:
        try:
            pool.delete()
        except Exception:       # the event loop may already be gone: the cluster cleans up
            pass


# -- parfeval: functions run on the pool (sweeps, one model per series) -----------------------

_NETWORK_TAG = "__lstmkit_network__"


def _custom_classes(func, net):
    """The custom layer classes of ``net`` as (module, qualified name): they travel by name.

    A worker imports them (the network's bytes hold only their properties); a
    class defined in the running script or inside a function cannot be
    imported there: a clear error before anything is sent.
    """
    from .io import LAYER_CLASSES
    refs = []
    for layer in net._graph.layers:
        cls = type(layer)
        if LAYER_CLASSES.get(cls.__name__) is cls:
            continue
        if cls.__module__ == "__main__" or "<locals>" in cls.__qualname__:
            fail(func, f"layer '{layer.Name}' is of class {cls.__qualname__}, defined in "
                       f"{'the running script' if cls.__module__ == '__main__' else 'a function'}"
                       f": the parallel pool's workers can only import custom layer classes "
                       f"from a module. Move the class to a module on the workers' path "
                       f"(or run on 'cpu').")
        refs.append((cls.__module__, cls.__qualname__))
    return tuple(sorted(set(refs)))


def _import_classes(refs):
    import importlib
    classes = []
    for module, qualname in refs:
        obj = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
        classes.append(obj)
    return classes


def _network_wire(func, net):
    """A network as saveNetwork's bytes and the names of its custom layer classes."""
    from .io import network_to_bytes
    return (_NETWORK_TAG, network_to_bytes(net), _custom_classes(func, net))


def _network_unwire(value, func="parfeval"):
    from .io import network_from_bytes
    return network_from_bytes(value[1], _import_classes(value[2]), func=func)


def _to_wire(value, func="parfeval"):
    """Networks (top level or in a tuple/list) as saveNetwork's bytes; anything else as is."""
    from .network import SeriesNetwork
    from .dlnetwork import DLNetwork
    if isinstance(value, (SeriesNetwork, DLNetwork)):
        return _network_wire(func, value)
    if isinstance(value, (tuple, list)):
        return type(value)(_to_wire(v, func) for v in value)
    return value


def _from_wire(value):
    if isinstance(value, tuple) and len(value) == 3 and value[0] == _NETWORK_TAG:
        return _network_unwire(value)
    if isinstance(value, (tuple, list)):
        return type(value)(_from_wire(v) for v in value)
    return value


def _remote_call(fcn, numout, args):
    """What a worker runs for :func:`parfeval`: networks in and out as plain arrays."""
    import inspect
    args = [_from_wire(a) for a in args]
    try:
        takes_nargout = "nargout" in inspect.signature(fcn).parameters
    except (TypeError, ValueError):
        takes_nargout = False
    if numout > 1 and takes_nargout:                   # lstmkit's MATLAB-style functions
        out = fcn(*args, nargout=numout)
    else:
        out = fcn(*args)
    if numout == 0:
        return None
    if numout > 1 and not (isinstance(out, tuple) and len(out) == numout):
        raise ValueError(f"parfeval: the function was asked for {numout} outputs but returned "
                         f"{type(out).__name__}" + (f" of {len(out)}" if isinstance(out, tuple)
                                                    else "") + ".")
    return _to_wire(out)


class FevalFuture:
    """A function running on the pool (MATLAB's ``parallel.FevalFuture``).

    Attributes
    ----------
    State : str
        'queued' or 'running' (Dask does not tell them apart: 'running'),
        'finished', 'failed' or 'cancelled'.
    Error : BaseException or None
        What the function raised, once it failed.
    NumOutputArguments : int
    """

    def __init__(self, future, numout, fcn):
        self._future = future
        self.NumOutputArguments = numout
        self.Function = fcn
        self._outputs = None
        self._fetched = False

    @property
    def State(self):
        status = self._future.status
        return {"pending": "running", "finished": "finished", "error": "failed",
                "cancelled": "cancelled", "lost": "failed"}.get(status, status)

    @property
    def Error(self):
        return self._future.exception() if self._future.status == "error" else None

    @property
    def Read(self):
        """Whether fetchNext has returned this future's outputs."""
        return self._fetched

    def wait(self, timeout=None):
        """Block until the function has finished (or failed); False on timeout."""
        from distributed import wait
        try:
            wait(self._future, timeout=timeout)
        except TimeoutError:
            return False
        return True

    def cancel(self):
        """Stop the function if it has not finished."""
        self._future.cancel()

    def _result(self, func):
        if self._outputs is None:
            try:
                value = self._future.result()
            except Exception as exc:
                fail(func, f"the function {_name(self.Function)} failed on the pool: "
                           f"{type(exc).__name__}: {exc}", RuntimeError)
            self._outputs = (_from_wire(value),)
        return self._outputs[0]

    def __repr__(self):
        return f"<FevalFuture {_name(self.Function)}: {self.State}>"


def _name(fcn):
    return getattr(fcn, "__name__", type(fcn).__name__)


@checked_call
def parfeval(*args: Any) -> FevalFuture:
    """Run a function on the parallel pool, without waiting (MATLAB's ``parfeval``).

    ``parfeval(fcn, numout, X1, ..., Xm)`` on the current pool (:func:`gcp`
    starts one if none is open), or ``parfeval(pool, fcn, numout, ...)``.
    Networks among the arguments and outputs travel as saveNetwork's plain
    arrays, never as pickled objects.  For hyperparameter sweeps and one
    model per series: start every training, then collect them with
    :func:`fetchOutputs` or, as they finish, :func:`fetchNext`.

    Parameters
    ----------
    *args
        ``[pool,] fcn, numout, X1, ..., Xm``: the function, how many outputs
        to keep (0, 1, or k: an lstmkit function then gets ``nargout=k``, any
        other function must return a k-tuple), and its arguments.

    Returns
    -------
    FevalFuture

    Examples
    --------
    >>> from lstmkit import parfeval, fetchOutputs, trainNetwork
    >>> F = [parfeval(trainNetwork, 1, X, Y, layers, opts) for opts in sweep]  # doctest: +SKIP
    >>> nets = fetchOutputs(F)                                                # doctest: +SKIP
    >>> callable(parfeval)
    True
    """
    func = "parfeval"
    rest = list(args)
    pool = rest.pop(0) if rest and isinstance(rest[0], ParallelPool) else None
    if len(rest) < 2:
        fail(func, "call it as parfeval(fcn, numout, X1, ...) or parfeval(pool, fcn, numout, "
                   "...).", TypeError)
    fcn, numout, fargs = rest[0], rest[1], rest[2:]
    if not callable(fcn):
        fail(func, f"`fcn` must be a function. Received: {_show(fcn)}.", TypeError)
    if isinstance(numout, bool) or not isinstance(numout, int) or numout < 0:
        fail(func, f"`numout` must be a non-negative integer (how many outputs to keep). "
                   f"Received: {_show(numout)}.")
    if pool is None:
        pool = gcp()
    elif not pool.Connected:
        fail(func, "the pool given is not connected (it was deleted).", RuntimeError)
    future = pool.Client.submit(_remote_call, fcn, numout, [_to_wire(a) for a in fargs],
                                pure=False)
    return FevalFuture(future, numout, fcn)


def _futures(func, F):
    items = [F] if isinstance(F, FevalFuture) else list(F) if isinstance(F, (list, tuple)) \
        else None
    if not items or not all(isinstance(f, FevalFuture) for f in items):
        fail(func, f"`F` must be a future from parfeval or a list of them. Received: "
                   f"{_show(F)}.", TypeError)
    return items


@checked_call
def fetchOutputs(F: FevalFuture | Sequence[FevalFuture]) -> Any:
    """Wait for parfeval futures and return their outputs (MATLAB's ``fetchOutputs``).

    Parameters
    ----------
    F : FevalFuture or list of FevalFuture

    Returns
    -------
    object or list
        For one future its output (a tuple for ``numout`` > 1, None for 0);
        for a list, the list of those, in the order of ``F``.

    Raises
    ------
    RuntimeError
        If a function failed: the message names it and its error.

    Examples
    --------
    >>> from lstmkit import fetchOutputs
    >>> fetchOutputs([])
    Traceback (most recent call last):
    ...
    TypeError: fetchOutputs: `F` must be a future from parfeval or a list of them. Received: [].
    """
    items = _futures("fetchOutputs", F)
    outputs = [f._result("fetchOutputs") for f in items]
    return outputs[0] if isinstance(F, FevalFuture) else outputs


@checked_call
def fetchNext(F: Sequence[FevalFuture], timeout: float | None = None) -> tuple:
    """The next finished future's index and output (MATLAB's ``[idx, out] = fetchNext(F)``).

    Parameters
    ----------
    F : list of FevalFuture
    timeout : float, optional
        Seconds to wait; on timeout ``(None, None)``, as MATLAB returns empty.

    Returns
    -------
    (int, object)
        The position in ``F`` (from 0) of a finished future not fetched
        before, and its output.

    Examples
    --------
    >>> from lstmkit import fetchNext
    >>> fetchNext("F")
    Traceback (most recent call last):
    ...
    TypeError: fetchNext: `F` must be a future from parfeval or a list of them. Received: 'F'.
    """
    items = _futures("fetchNext", F)
    unread = [f for f in items if not f._fetched]
    if not unread:
        fail("fetchNext", "every future in `F` has already been read.", RuntimeError)
    from distributed import wait
    try:
        done = wait([f._future for f in unread], timeout=timeout, return_when="FIRST_COMPLETED")
    except TimeoutError:
        return None, None
    first = next(f for f in unread if f._future in done.done)
    first._fetched = True
    return items.index(first), first._result("fetchNext")


# -- prediction over the pool (an lstmkit extension of predict and classify) ------------------

def _predict_part(wire, data, mini_batch_size, sequence_length, direction, keep_states,
                  out_nodes):
    """What a worker runs: :func:`lstmkit.network.predict_batches` on its part."""
    from .network import predict_batches
    net = _network_unwire(wire, func="predict")
    return predict_batches(net, data, mini_batch_size, sequence_length, direction, keep_states,
                           out_nodes=out_nodes)


def _part_bounds(lengths, parts, mini_batch_size, sequence_length):
    """Contiguous parts of about equal work, one per worker (fewer for few observations).

    With SequenceLength 'shortest' a mini-batch's members change its result
    (it is cut to its shortest sequence), so parts then start at multiples of
    the MiniBatchSize: every mini-batch is the one this process would form.
    """
    import numpy as np
    from ._packing import equal_work_bounds
    lengths = np.asarray(lengths, np.int64)
    if sequence_length != "shortest":
        return equal_work_bounds(lengths, parts).tolist()
    starts = np.arange(0, lengths.size, mini_batch_size)
    blocks = np.add.reduceat(lengths, starts)
    bounds = equal_work_bounds(blocks, parts)
    return [min(int(b) * mini_batch_size, lengths.size) for b in bounds]


def predict_on_pool(func, net, data, mini_batch_size, sequence_length, direction,
                    keep_states=False, out_nodes=None):
    """:func:`lstmkit.network.predict_batches` with the observations split over the pool.

    Contiguous parts of about equal total length, one per worker (nothing is
    padded, so the split changes no sequence's result; see
    :func:`_part_bounds` for 'shortest'); the network goes out once as
    saveNetwork's bytes.  Returns what ``predict_batches`` returns: the
    outputs in the caller's order and, with ``keep_states``, the final states.
    """
    import numpy as np
    from ._inputs import InputData
    from .layers.recurrent import RecurrentLayer
    for layer in net._graph.layers:
        if isinstance(layer, RecurrentLayer) and layer._state_columns() > 1:
            fail(func, f"layer '{layer.Name}' holds the states of several observations "
                       f"(from stateful prediction): predict them in this process "
                       f"(ExecutionEnvironment 'cpu') or call resetState first.")
    wire = _network_wire(func, net)
    pool = gcp()
    workers = pool.workers()
    if not workers:
        fail(func, "the parallel pool has no workers.", RuntimeError)
    if not isinstance(data, InputData):
        data = InputData.of_graph(net._graph, [data])
    bounds = _part_bounds(data.lengths, len(workers), mini_batch_size, sequence_length)
    client = pool.Client
    # a fresh key each call: a key shared with the last call (same network) could be in the
    # middle of its release there, and the parts would then lose their dependency
    [remote] = client.scatter([wire], broadcast=True, hash=False)
    futures = []
    for w, a, b in zip(workers, bounds[:-1], bounds[1:]):
        if b > a:          # each part's data straight to its worker (not inside the task graph)
            [part] = client.scatter([data.take(range(a, b))], workers=[w], hash=False)
            futures.append(client.submit(_predict_part, remote, part, mini_batch_size,
                                         sequence_length, direction, keep_states, out_nodes,
                                         workers=[w], pure=False))
    try:
        parts = client.gather(futures)
    except Exception as exc:
        fail(func, f"prediction on the parallel pool failed ({type(exc).__name__}: {exc}).",
             RuntimeError)

    def joined(outs, is_sequence):
        return [y for out in outs for y in out] if is_sequence else np.concatenate(outs, axis=0)

    if out_nodes is None:
        outputs = joined([out for out, _ in parts], net._output_is_sequence)
    else:
        outputs = [joined([out[w] for out, _ in parts], isinstance(parts[0][0][w], list))
                   for w in range(len(out_nodes))]
    final = None
    if keep_states:
        final = {node: tuple(np.concatenate([f[node][i] for _, f in parts], axis=0)
                             for i in range(len(states)))
                 for node, states in parts[0][1].items()}
    return outputs, final
