"""The thread plan: one pool (Numba's), BLAS single-threaded inside it.

On a small machine two thread pools that take turns (OpenBLAS's and Numba's
OpenMP workers, each spinning for a while after its work) slow each other
down badly; measured here, alternating them every time step made an LSTM
forward pass 5 to 170 times slower.  So the kernels never let BLAS start its
own threads: each Numba worker sets the calling thread's OpenBLAS thread count
to 1 (``openblas_set_num_threads_local``, thread-local, restored on exit) and
calls BLAS on its own slice of rows.  Splitting the rows ourselves also beat
OpenBLAS's threading on the LSTM's GEMM shapes (27-by-100-by-400 to
128-by-512-by-2048: 1.2 to 1.7 times faster on 2 cores).

The setter is reached through the symbol ``lstmkit_blas_threads_local``,
registered with LLVM at import, so that cached kernels stay cacheable.  Where
scipy's BLAS is not an OpenBLAS that has the thread-local setter, the symbol
is a no-op and BLAS keeps its own threading.
"""

import ctypes
import glob
import os

import llvmlite.binding as llvm
from numba import cfunc, types
from numba.core import config

SYMBOL = "lstmkit_blas_threads_local"


def _find_setter():
    """Address of scipy's ``openblas_set_num_threads_local``, or None."""
    try:
        import scipy
    except ImportError:
        return None
    base = os.path.dirname(os.path.dirname(scipy.__file__))
    for pattern in ("scipy.libs/libscipy_openblas*", "scipy/.dylibs/libscipy_openblas*",
                    "scipy.libs/libopenblas*"):
        for path in glob.glob(os.path.join(base, pattern)):
            try:
                lib = ctypes.CDLL(path)
                return ctypes.cast(lib.openblas_set_num_threads_local, ctypes.c_void_p).value
            except (OSError, AttributeError):
                continue
    return None


@cfunc(types.int32(types.int32))
def _no_setter(n):
    return 1


_ADDRESS = _find_setter()
HAVE_LOCAL_BLAS_THREADS = _ADDRESS is not None
llvm.add_symbol(SYMBOL, _ADDRESS if HAVE_LOCAL_BLAS_THREADS else _no_setter.address)

if config.DISABLE_JIT:  # pure-Python runs: nothing to set
    def blas_threads_local(n):
        """Set this thread's BLAS thread count; return the previous one."""
        return 1
else:
    #: ``blas_threads_local(n) -> previous``: callable from kernels.
    blas_threads_local = types.ExternalFunction(SYMBOL, types.int32(types.int32))


_setter = (ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)(_ADDRESS)
           if HAVE_LOCAL_BLAS_THREADS else None)


class single_threaded_blas:
    """Context manager: scipy's BLAS and LAPACK run in the calling thread only.

    For set-up work called from Python (``scipy.linalg.lapack``): without it
    OpenBLAS wakes its own thread pool, whose workers keep spinning for a while
    after the call, on the cores the kernels' threads need next.
    """

    def __enter__(self):
        self.previous = _setter(1) if _setter is not None else None
        return self

    def __exit__(self, *exc):
        if self.previous is not None:
            _setter(self.previous)


def kernel_parts():
    """How many row chunks the kernels split their work into: this machine's thread count.

    The process's largest Numba thread count (``NUMBA_NUM_THREADS``, fixed when
    Numba starts), not the number of threads in use now: the parts fix how
    rows are grouped into BLAS calls and how partial sums are added, so
    results do not depend on how many threads run them (the thread tuner of
    :mod:`lstmkit._tuning` may use fewer while a call runs, and a user may
    call ``numba.set_num_threads``).  1 when BLAS cannot be made
    single-threaded per thread: BLAS then does the threading and the kernels
    stay serial.
    """
    if not HAVE_LOCAL_BLAS_THREADS:
        return 1
    return config.NUMBA_NUM_THREADS
