"""Compilation settings shared by every Numba kernel (STUMPY ``config`` style).

All ``@njit`` decorators in :mod:`lstmkit.kernels` take their flags from here, so
the fast-math policy is set in one place.  ``nnan`` and ``ninf`` are deliberately
left out: the training loop relies on non-finite values surviving the kernels so
that it can detect them.  ``reassoc`` is left out too: it let LLVM associate
sums differently in a vectorized loop body and its scalar remainder, whose
boundary depends on the arrays' alignment, so the same training gave different
float32 results in a fresh process and in one that loaded cached kernels.
Without it the results are bit-identical run to run, at the same speed
(the loops vectorize without it; only reductions would need it).
"""

FASTMATH = {"nsz", "arcp", "contract"}
CACHE = True

#: Options of every kernel.  ``error_model="numpy"`` drops Python's
#: division-by-zero check, whose branch stops LLVM from vectorizing loops.
JIT = {"cache": CACHE, "fastmath": FASTMATH, "error_model": "numpy"}

#: Options of the kernels that split their rows over Numba's threads
#: (see :mod:`lstmkit.kernels._threads`).
JIT_PARALLEL = dict(JIT, parallel=True)

#: Activation codes understood by the recurrent kernels.
GATE_SIGMOID = 0
GATE_HARD_SIGMOID = 1
STATE_TANH = 0
STATE_SOFTSIGN = 1
