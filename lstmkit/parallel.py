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
from typing import Any

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
