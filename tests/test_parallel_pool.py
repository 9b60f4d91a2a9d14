"""parpool / gcp: the pool's lifetime on Dask distributed."""

import os
import sys
import time

import pytest

import lstmkit
from lstmkit import gcp, parpool
from lstmkit import parallel

distributed = pytest.importorskip("distributed")


@pytest.fixture(autouse=True)
def no_pool_left():
    """Every test starts and ends without an open pool."""
    assert gcp("nocreate") is None
    yield
    pool = gcp("nocreate")
    if pool is not None:
        pool.delete()


@pytest.fixture
def thread_cluster():
    """A Dask cluster in this process (cheap): the caller's, to hand to parpool."""
    cluster = distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=None)
    yield cluster
    cluster.close()


def test_local_pool_lifetime():
    """parpool("Processes", 2): two single-threaded worker processes; gcp returns the pool;
    a second parpool is an error as in MATLAB; delete closes it and gcp starts none."""
    pool = parpool("Processes", 2)
    assert pool.NumWorkers == 2 and pool.Connected and gcp() is pool
    assert pool.Cluster.startswith("tcp://")
    pids = pool.Client.run(os.getpid)
    assert len(set(pids.values())) == 2 and os.getpid() not in pids.values()
    assert set(pool.Client.run(lambda: os.environ.get("NUMBA_NUM_THREADS")).values()) == {"1"}
    with pytest.raises(RuntimeError, match=r"parpool: a parallel pool is already open.*delete"):
        parpool(2)
    assert "2 workers" in repr(pool)
    cluster = pool._cluster
    pool.delete()
    assert not pool.Connected and pool.NumWorkers == 0 and gcp("nocreate") is None
    assert cluster.status.name == "closed"
    pool.delete()                                      # twice: nothing
    assert repr(pool) == "<ParallelPool (deleted)>"


def test_a_cluster_handed_in_stays_up(thread_cluster):
    pool = parpool(thread_cluster)
    assert pool.NumWorkers == 1 and gcp("nocreate") is pool
    pool.delete()
    assert thread_cluster.status.name == "running"
    with distributed.Client(thread_cluster) as client:   # still usable
        assert client.submit(sum, [1, 2]).result() == 3


def test_a_client_handed_in_or_open_is_reused_and_left_open(thread_cluster):
    with distributed.Client(thread_cluster) as client:
        pool = parpool()                               # the program's open client
        assert pool.Client is client
        pool.delete()
        assert client.status == "running"
        with parpool(client) as pool2:                 # a context manager deletes on exit
            assert pool2.Client is client and gcp() is pool2
        assert gcp("nocreate") is None and client.status == "running"


def test_pool_by_address(thread_cluster):
    with parpool(thread_cluster.scheduler_address) as pool:
        assert pool.NumWorkers == 1
    assert thread_cluster.status.name == "running"


def test_unreachable_address_is_a_clear_error_within_the_timeout(monkeypatch):
    monkeypatch.setattr(parallel, "CONNECT_TIMEOUT", 2)
    start = time.monotonic()
    with pytest.raises(ConnectionError, match=r"parpool: could not connect to a Dask scheduler "
                                              r"at 'tcp://127.0.0.1:9' within 2 s"):
        parpool("tcp://127.0.0.1:9")
    assert time.monotonic() - start < 20
    assert gcp("nocreate") is None


def test_without_dask_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ImportError, match=r'parpool: .*pip install "lstmkit\[parallel\]"'):
        parpool()
    with pytest.raises(ImportError, match=r"lstmkit\[parallel\]"):
        gcp()


@pytest.mark.parametrize("args, kwargs, match", [
    ((True,), {}, "`resources` must be"),
    ((2.5,), {}, "`resources` must be"),
    (([1, 2],), {}, "`resources` must be"),
    ((0,), {}, "poolsize"),
    ((-3,), {}, "poolsize"),
    (("Processes", 0), {}, "poolsize"),
    (("Processes", 2.5), {}, "poolsize"),
    ((3, 4), {}, "given twice"),
    (("tcp://127.0.0.1:9", 2), {}, "applies to a local pool"),
    ((), {"PoolSize": 2}, "not a valid argument"),
])
def test_bad_arguments(args, kwargs, match):
    with pytest.raises((TypeError, ValueError), match="parpool: .*" + match):
        parpool(*args, **kwargs)
    assert gcp("nocreate") is None


def test_gcp_option():
    with pytest.raises(ValueError, match="gcp: `option` must be 'nocreate'"):
        gcp("create")
    assert lstmkit.gcp("NoCreate") is None
