"""The global random number generator, in the spirit of MATLAB's ``rng``.

Weight initialization and shuffling draw from one generator.  As in MATLAB,
a fresh session starts from the same seed (0), so a script gives the same
result every time it runs in a new process; ``rng(seed)`` re-seeds it.
"""

import contextlib

import numpy as np

from ._validation import _show, fail

_DEFAULT_SEED = 0
_state = {"generator": np.random.default_rng(_DEFAULT_SEED), "seed": _DEFAULT_SEED}


def rng(seed="default"):
    """Seed lstmkit's random number generator, as MATLAB's ``rng``.

    Parameters
    ----------
    seed : int, 'default' or 'shuffle'
        A non-negative integer seed; 'default' is seed 0 (the state of a fresh
        session); 'shuffle' seeds from the operating system's entropy.

    Returns
    -------
    int or None
        The previous seed (None if it was 'shuffle').
    """
    previous = _state["seed"]
    if isinstance(seed, str) and seed.lower() == "default":
        value = _DEFAULT_SEED
    elif isinstance(seed, str) and seed.lower() == "shuffle":
        value = None
    elif isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0:
        value = int(seed)
    else:
        fail("rng", f"`seed` must be a non-negative integer, 'default' or 'shuffle'. "
                    f"Received: seed={_show(seed)}.")
    _state["generator"] = np.random.default_rng(value)
    _state["seed"] = value
    return previous


def global_rng():
    """The generator that initialization and shuffling draw from."""
    return _state["generator"]


def check_seed(func, seed):
    """A per-call seed: None (use the global generator) or a non-negative integer."""
    if seed is None:
        return None
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0:
        return int(seed)
    fail(func, f"`seed` must be None or a non-negative integer. Received: seed={_show(seed)}.",
         TypeError)


@contextlib.contextmanager
def seeded(seed):
    """Within the block, draw from a generator seeded with ``seed`` (None: no change).

    The global generator is put back afterwards, untouched, so a seeded call
    does not shift the random stream of the calls around it.
    """
    if seed is None:
        yield global_rng()
        return
    saved = _state["generator"]
    _state["generator"] = np.random.default_rng(seed)
    try:
        yield _state["generator"]
    finally:
        _state["generator"] = saved
