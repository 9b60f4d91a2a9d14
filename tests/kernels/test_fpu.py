"""Flush-to-zero inside the recurrent kernels, and the caller's FPU state restored."""

import platform

import numpy as np
import pytest
from numba import njit
from numba.core import config

from lstmkit._packing import PackedBatch
from lstmkit.kernels._fpu import _read_mxcsr
from lstmkit.kernels.lstm import lstm_forward_train

pytestmark = pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"),
                                reason="MXCSR is x86")


@njit
def mxcsr():
    return _read_mxcsr()


def decaying_run(dtype):
    """Forget gates ~1e-3 and closed input gates: the cell state decays 1000x per step."""
    H, T = 4, 40
    b = np.concatenate([np.full(H, -30.0), np.full(H, -6.9), np.zeros(2 * H)]).astype(dtype)
    x = np.zeros((T, 1), dtype)
    batch = PackedBatch([T])
    h, c = np.zeros((1, H), dtype), np.ones((1, H), dtype)
    cell = np.empty((T, H), dtype)
    lstm_forward_train(x, np.zeros((4 * H, 1), dtype), np.zeros((4 * H, H), dtype), b,
                       np.empty(0, dtype), h, c, batch.batch_sizes, 0, 0, False,
                       np.empty((T, 4 * H), dtype), cell, np.empty((T, H), dtype),
                       batch.chunks(2))
    return cell


@pytest.mark.skipif(config.DISABLE_JIT, reason="FTZ/DAZ is set by compiled kernels only")
def test_no_subnormals_and_state_restored():
    before = mxcsr() & 0xFFC0   # control bits only (the low six are sticky exception flags)
    cell = decaying_run(np.float32)
    tiny = np.finfo(np.float32).tiny
    assert not np.any((cell != 0) & (np.abs(cell) < tiny))   # flushed, never subnormal
    assert np.all(cell[-1] == 0) and np.all(cell[0] > 0)
    assert mxcsr() & 0xFFC0 == before
    # and Python's own arithmetic still sees subnormals afterwards
    assert np.float32(1e-30) * np.float32(1e-10) != 0


def test_blas_thread_count_restored_after_kernels():
    """The kernels make BLAS single-threaded while they run, then put it back."""
    from lstmkit.kernels import _threads
    if not _threads.HAVE_LOCAL_BLAS_THREADS:
        pytest.skip("scipy's BLAS has no thread-count setter")
    from lstmkit.kernels.blas import par_dot

    @njit
    def current():
        before = _threads.blas_threads_local(1)
        _threads.blas_threads_local(before)
        return before

    before = current()
    par_dot(np.ones((50, 4)), np.ones((4, 3)), np.empty((50, 3)), 2)
    decaying_run(np.float32)
    assert current() == before
