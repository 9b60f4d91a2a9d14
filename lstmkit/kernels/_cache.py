"""Where the compiled kernels are cached, and the notice when they are compiled.

Numba's default cache sits beside the source (``lstmkit/kernels/__pycache__``),
which puts files that pip does not track inside the installed package: a
later ``pip install -e`` or ``pip uninstall`` then leaves a folder
``site-packages/lstmkit`` behind that Python imports as an empty namespace
package.  lstmkit's kernels are therefore cached in a user cache folder that
follows the platform's conventions (``platformdirs.user_cache_dir``:
``~/.cache/lstmkit`` on Linux, ``~/Library/Caches/lstmkit`` on macOS,
``%LOCALAPPDATA%\\lstmkit\\Cache`` on Windows), or where the user says:

* ``LSTMKIT_CACHE_DIR`` sets lstmkit's folder;
* ``NUMBA_CACHE_DIR`` (Numba's own setting) is respected as Numba respects it.

Each installation gets its own subfolder (Numba keys it by the source path), so
several virtual environments never share entries.  The freshness stamp of a
kernel covers every source file of :mod:`lstmkit.kernels`, not only the one
that defines it: a change to an inlined helper (``activations.py``,
``_config.py``) invalidates every cached kernel instead of leaving stale ones.

The first time a kernel is compiled in a process (a cache miss, not a cache
load), one line on stderr says why the call is slow; ``LSTMKIT_QUIET=1``
silences it.  Numba's compile events (:mod:`numba.core.event`) tell a real
compilation from a load.

**Kernels cached by different processes.**  Numba names the function it
generates for each parallel loop (``prange``) after the loop object's
``hash``, its memory address: ``__numba_parfor_gufunc_0x7f45c0fcc190``.  The
name is global in the process that loads the cached code, and fresh processes
allocate alike, so two processes that compile *different* loops (one compiled
``fc_forward``, another a GRU kernel, a third ``par_dot`` for a convolution's
layouts) can give them the same name; a process that later loads both entries
from the cache runs one loop's code for the other, a segmentation fault or,
worse, wrong numbers (seen: a custom loop crashing in ``fc_forward`` after
weeks of test runs, Dask workers and benchmarks had filled the cache; Numba
issues #4807 and #10128 report the family).  :func:`salt_parallel_loop_names`
makes the names unique to the process that compiles them (the address and a
random 64-bit salt), and :data:`CACHE_FORMAT` in every kernel's freshness stamp
retires entries cached with the unsalted names.
"""

import functools
import hashlib
import os
import sys
import tempfile
import time

from numba.core import caching, config, event

_KERNELS_DIR = os.path.dirname(os.path.abspath(__file__))


def cache_dir():
    """The folder lstmkit caches its compiled kernels in (it may not exist yet)."""
    if config.CACHE_DIR:
        return config.CACHE_DIR
    custom = os.environ.get("LSTMKIT_CACHE_DIR")
    if custom:
        return os.path.abspath(os.path.expanduser(custom))
    import platformdirs
    return platformdirs.user_cache_dir("lstmkit", appauthor=False)


#: Part of every kernel's freshness stamp: raising it retires every cached kernel (2: the
#: parallel loops' names salted per compiling process, see the module's description).
CACHE_FORMAT = 2


@functools.lru_cache(maxsize=8)
def _sources_digest(stamps):
    digest = hashlib.sha256()
    digest.update(f"lstmkit kernel cache format {CACHE_FORMAT}".encode())
    for path, _, _ in stamps:
        digest.update(os.path.basename(path).encode())
        with open(path, "rb") as handle:
            digest.update(handle.read())
    return digest.hexdigest()


def sources_stamp():
    """Content hash of every ``.py`` file of the kernels package (but this one: no kernel code)."""
    paths = sorted(os.path.join(_KERNELS_DIR, name) for name in os.listdir(_KERNELS_DIR)
                   if name.endswith(".py") and name != os.path.basename(__file__))
    stamps = tuple((p, os.stat(p).st_mtime_ns, os.stat(p).st_size) for p in paths)
    return _sources_digest(stamps)


class KernelCacheLocator(caching._CacheLocator):
    """Numba cache locator for the functions defined in :mod:`lstmkit.kernels`."""

    def __init__(self, py_func, py_file, root):
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno
        self._cache_path = os.path.join(root, "kernels", self.get_suitable_cache_subpath(py_file))

    def get_cache_path(self):
        return self._cache_path

    def get_source_stamp(self):
        return sources_stamp()

    def get_disambiguator(self):
        return str(self._lineno)

    @classmethod
    def from_function(cls, py_func, py_file):
        if config.CACHE_DIR:   # the user chose Numba's folder: Numba's own locator serves
            return None
        if os.path.dirname(os.path.abspath(py_file)) != _KERNELS_DIR:
            return None
        # never fall back to Numba's in-tree locator (it writes into the package)
        for root in (cache_dir(), os.path.join(tempfile.gettempdir(), f"lstmkit-cache-{_user()}")):
            self = cls(py_func, py_file, root)
            try:
                self.ensure_cache_path()
            except OSError:
                continue
            return self
        return None


def _user():
    try:
        return str(os.getuid())
    except AttributeError:  # Windows
        return os.environ.get("USERNAME", "user")


#: This process's salt for the names of the parallel loops it compiles.
_SALT = int.from_bytes(os.urandom(8), "little")


def _salted_hash(parfor):
    return hash((id(parfor), _SALT))


def salt_parallel_loop_names():
    """Make the names Numba gives the parallel loops this process compiles its own (idempotent).

    Numba names each loop's generated function ``__numba_parfor_gufunc_<hash(loop)>``
    and a loop's hash is its address, equal in two processes far more often than
    chance (see the module's description).  Hashing the address with a per-process
    random salt keeps the names distinct within a process, as before, and makes
    them distinct between processes.  A loop object's hash serves nothing else
    that outlives the compilation.
    """
    from numba.parfors.parfor import Parfor
    if Parfor.__hash__ is not _salted_hash:
        Parfor.__hash__ = _salted_hash


def install_locator():
    """Put :class:`KernelCacheLocator` first in Numba's list (idempotent)."""
    impl = getattr(caching, "CacheImpl", None) or caching._CacheImpl  # Numba < 0.60
    classes = impl._locator_classes
    if KernelCacheLocator not in classes:
        classes.insert(0, KernelCacheLocator)


class CompileNotice(event.Listener):
    """Prints one line the first time a kernel of lstmkit is compiled in this process.

    Loading a kernel from the cache is not a compilation and prints nothing.
    """

    def __init__(self, stream=None):
        self.stream = stream
        self.shown = False
        self.seconds = 0.0
        self._depth = 0
        self._started = 0.0

    @staticmethod
    def _ours(ev):
        dispatcher = (ev.data or {}).get("dispatcher")
        module = getattr(getattr(dispatcher, "py_func", None), "__module__", "") or ""
        return module.startswith(__package__ + ".")

    def on_start(self, ev):
        if not self._ours(ev):
            return
        if self._depth == 0:
            self._started = time.perf_counter()
            if not self.shown and not os.environ.get("LSTMKIT_QUIET"):
                self.shown = True
                stream = self.stream or sys.stderr
                print(f"lstmkit: compiling the Numba kernels this network needs (first use of "
                      f"this installation: about half a minute, once; cached in {cache_dir()})",
                      file=stream, flush=True)
        self._depth += 1

    def on_end(self, ev):
        if not self._ours(ev):
            return
        self._depth -= 1
        if self._depth == 0:
            self.seconds += time.perf_counter() - self._started


#: The process's notice; ``NOTICE.seconds`` is the time spent compiling lstmkit's kernels.
NOTICE = CompileNotice()


def install_notice():
    """Register :data:`NOTICE` for Numba's compile events (idempotent)."""
    if NOTICE not in event._registered.get("numba:compile", ()):
        event.register("numba:compile", NOTICE)
