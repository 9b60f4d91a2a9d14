"""How many threads a long call uses: all of them, or one, whichever is faster now.

On a machine that is doing something else (a laptop with a browser open, a
second job), one of the kernels' threads shares its core: every parallel
region then waits for it, and two threads ran the Japanese Vowels example
2 times slower than one (PyTorch's default: 3.3 times).  On an idle machine
small networks gain little from a second thread and large ones gain 1.5 to
1.7 times.  Neither a fixed count nor a guess from the system's load is right
for both, so a long call measures: while it runs, :class:`ThreadTuner`
alternates a few work units (training iterations, prediction mini-batches)
with all threads and with one, keeps the faster (all threads unless one is
clearly faster), and measures again every so often, since the load changes.

The results do not depend on the choice: the kernels split their rows into
the same parts whatever the number of threads that run them (see
:func:`lstmkit.kernels._threads.kernel_parts`), so a tuned call gives the
same numbers, bit for bit, as an untuned one.
"""

from __future__ import annotations

import statistics
import time

import numba

from .kernels._threads import HAVE_LOCAL_BLAS_THREADS, kernel_parts

#: the first round of measurements starts after this many seconds of the call (a shorter call
#: is not worth measuring: half of a round's units run with the slower choice)
FIRST_ROUND_SECONDS = 0.5
#: work units measured with each choice in a round of measurements
ROUND_UNITS = 6
#: one thread is kept only if it is at least this much faster
MARGIN = 0.9
#: a new round after at least this many seconds ...
PERIOD_SECONDS = 2.0
#: ... and at least this many times the last round's duration (rounds stay a few percent)
PERIOD_ROUNDS = 40


class ThreadTuner:
    """Chooses the thread count of each work unit of one call (a context manager).

    Usage::

        with ThreadTuner() as tuner:
            for unit in work:
                tuner.begin()
                ...                      # the kernels run with the chosen count
                tuner.end(size)          # size: the unit's work (rows), to compare units

    Units run with every thread for the first FIRST_ROUND_SECONDS of the call
    (the first may compile or fill caches; a short call is not worth
    measuring).  On exit Numba's thread count is restored.
    """

    def __init__(self, enabled=True):
        self.full = numba.get_num_threads()
        self.enabled = (enabled and self.full > 1 and HAVE_LOCAL_BLAS_THREADS
                        and kernel_parts() > 1)
        self.choice = self.full
        self.plan = []
        self.samples = {}
        self.units = 0
        self.next_round = 0.0
        self.round_start = None
        self.started = None
        self.rounds = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.restore()

    def restore(self):
        """Numba's thread count as it was when the tuner was made."""
        if self.enabled and numba.get_num_threads() != self.full:
            numba.set_num_threads(self.full)

    def begin(self):
        """Set the thread count for the next work unit."""
        if not self.enabled:
            return
        now = time.perf_counter()
        if self.units == 0 and self.started is None:
            self.next_round = now + FIRST_ROUND_SECONDS
        if not self.plan and self.units >= 1 and now >= self.next_round:
            self.plan = [1, self.full] * ROUND_UNITS      # interleaved: drift cancels
            self.samples = {1: [], self.full: []}
            self.round_start = now
        threads = self.plan[0] if self.plan else self.choice
        if numba.get_num_threads() != threads:
            numba.set_num_threads(threads)
        self.started = now

    def end(self, size=1):
        """Record the unit that just ran (``size``: its amount of work)."""
        if not self.enabled or self.started is None:
            return
        now = time.perf_counter()
        self.units += 1
        if self.plan:
            self.samples[self.plan.pop(0)].append((now - self.started) / max(size, 1))
            if not self.plan:
                self._decide(now)
        self.started = None

    def _decide(self, now):
        one = statistics.median(self.samples[1])
        full = statistics.median(self.samples[self.full])
        self.choice = 1 if one < MARGIN * full else self.full
        self.rounds += 1
        took = now - self.round_start
        self.next_round = now + max(PERIOD_SECONDS, PERIOD_ROUNDS * took)
