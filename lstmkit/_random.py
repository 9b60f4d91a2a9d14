"""The global random number generator, as MATLAB's ``rng``.

Weight initialization, shuffling and dropout draw from one generator.  As in
MATLAB, a fresh session starts from ``rng("default")``: the Mersenne Twister
('twister') with seed 0, so a script gives the same result every time it runs
in a new process.

The 'twister' generator is seeded as MATLAB seeds it (MT19937 ``init_genrand``;
MATLAB's seed 0 is the generator's standard seed 5489), and its uniform draws
are the same 53-bit doubles as MATLAB's ``rand``: after ``rng(1)`` the first
uniform draws are MATLAB's 0.4170, 0.7203, 0.0001, ...  Normal draws are
numpy's (MATLAB's ziggurat is not reproduced), so initial weights are not
MATLAB's bit for bit.
"""

from __future__ import annotations

import contextlib
import secrets
import threading

import numpy as np

from ._validation import checked_call, _show, fail

_GENERATORS = ("twister", "philox")
_DEFAULT_TYPE = "twister"
_DEFAULT_SEED = 0
_MAX_SEED = 2**32 - 1
_MT_STANDARD_SEED = 5489  # MT19937's reference seed; MATLAB's twister seed 0 uses it


class RandomSettings:
    """The generator settings MATLAB's ``rng`` returns: Type, Seed and State.

    ``s = rng()`` captures the current settings and ``rng(s)`` restores them,
    State included, so the draws after the restore repeat the draws after the
    capture.

    Attributes
    ----------
    Type : str
        'twister' or 'philox'.
    Seed : int
        The seed the generator was last seeded with ('shuffle' records the
        seed it drew).
    State : dict
        The generator's internal state (numpy's ``bit_generator.state``).
    """

    __slots__ = ("Type", "Seed", "State")

    def __init__(self, Type, Seed, State):
        self.Type = Type
        self.Seed = Seed
        self.State = State

    def __repr__(self):
        return f"RandomSettings(Type={self.Type!r}, Seed={self.Seed}, State=<{self.Type} state>)"

    def __eq__(self, other):
        if not isinstance(other, RandomSettings):
            return NotImplemented
        return (self.Type, self.Seed) == (other.Type, other.Seed) and _same_state(
            self.State, other.State)

    __hash__ = None


def _same_state(a, b):
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_state(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(a, b)
    return a == b


def _bit_generator(kind, seed):
    if kind == "twister":
        # RandomState's integer seeding is MT19937's init_genrand, as MATLAB's.
        legacy = np.random.RandomState(_MT_STANDARD_SEED if seed == 0 else seed)
        bits = np.random.MT19937()
        bits.state = legacy.get_state(legacy=False)
        return bits
    return np.random.Philox(key=seed)


def _make(kind, seed):
    return np.random.Generator(_bit_generator(kind, seed))


_state = {"type": _DEFAULT_TYPE, "seed": _DEFAULT_SEED,
          "generator": _make(_DEFAULT_TYPE, _DEFAULT_SEED)}


def _settings():
    g = _state["generator"]
    return RandomSettings(_state["type"], _state["seed"], g.bit_generator.state)


def _check_type(generator):
    if isinstance(generator, str) and generator.lower() in _GENERATORS:
        return generator.lower()
    fail("rng", f"`generator` must be one of {list(_GENERATORS)}. "
                f"Received: generator={_show(generator)}.")


def _is_seed(value):
    return (isinstance(value, (int, np.integer)) and not isinstance(value, bool)
            and 0 <= value <= _MAX_SEED)


def _check_seed_value(seed):
    if _is_seed(seed):
        return int(seed)
    fail("rng", f"`seed` must be an integer from 0 to 2^32-1, 'default', 'shuffle' or "
                f"the settings that rng() returned. Received: seed={_show(seed)}.")


def _restore(settings):
    kind = _check_type(getattr(settings, "Type", None))
    seed = _check_seed_value(getattr(settings, "Seed", None))
    generator = _make(kind, seed)
    try:
        generator.bit_generator.state = settings.State
    except (TypeError, ValueError, KeyError) as err:
        fail("rng", f"the settings' State is not a {kind} generator state ({err}).")
    _state.update(type=kind, seed=seed, generator=generator)


@checked_call
def rng(seed: int | str | RandomSettings | None = None,
        generator: str | None = None) -> RandomSettings:
    """Control lstmkit's random number generator, as MATLAB's ``rng``.

    ``rng(seed)``, ``rng(seed, generator)``, ``rng("default")``,
    ``rng("shuffle")``, ``rng("shuffle", generator)``, ``rng(s)`` and
    ``s = rng()``.

    Parameters
    ----------
    seed : int, 'default', 'shuffle' or RandomSettings, optional
        An integer from 0 to 2^32-1; 'default' (the state of a fresh session:
        'twister' with seed 0); 'shuffle' (a seed drawn from the operating
        system's entropy, recorded in the settings' Seed); or settings that
        ``rng()`` returned, which restores that exact state.  Without
        arguments nothing changes.
    generator : {'twister', 'philox'}, optional
        The generator type.  Without it an integer seed or 'shuffle' keeps the
        current type, as in MATLAB.  'twister' is MATLAB's Mersenne Twister,
        seeded as MATLAB seeds it; 'philox' is numpy's Philox-4x64 (MATLAB's
        'philox' is the 4x32 variant: a different stream).

    Returns
    -------
    RandomSettings
        The settings before the call (``rng()`` returns the current ones), as
        MATLAB's ``s = rng(...)``.

    Examples
    --------
    >>> from lstmkit import rng
    >>> previous = rng(0)                  # MATLAB: rng(0)
    >>> s = rng()                          # MATLAB: s = rng;
    >>> s.Type, s.Seed
    ('twister', 0)
    >>> _ = rng(s)                         # restores that exact state
    """
    previous = _settings()
    if seed is None:
        if generator is not None:
            fail("rng", "`generator` needs a seed: rng(seed, generator) or "
                        f"rng('shuffle', generator). Received: generator={_show(generator)} "
                        "without a seed.")
        return previous
    if isinstance(seed, RandomSettings) or (hasattr(seed, "Type") and hasattr(seed, "State")):
        if generator is not None:
            fail("rng", "rng(s) takes no generator: the settings carry their own Type.")
        _restore(seed)
        return previous
    kind = _state["type"] if generator is None else _check_type(generator)
    if isinstance(seed, str) and seed.lower() == "default":
        if generator is not None:
            fail("rng", "rng('default') takes no generator: it always means 'twister' "
                        "with seed 0.")
        kind, value = _DEFAULT_TYPE, _DEFAULT_SEED
    elif isinstance(seed, str) and seed.lower() == "shuffle":
        value = secrets.randbelow(_MAX_SEED + 1)
    else:
        value = _check_seed_value(seed)
    _state.update(type=kind, seed=value, generator=_make(kind, value))
    return previous


#: per-thread generators of seeded calls (a seeded call in one thread never touches another's)
_local = threading.local()


def global_rng():
    """The generator that initialization, shuffling and dropout draw from.

    Inside :func:`seeded` (a call with ``seed=``) the call's own generator, in
    its own thread only; otherwise the global one of :func:`rng`.
    """
    stack = getattr(_local, "stack", None)
    return stack[-1] if stack else _state["generator"]


def check_seed(func, seed):
    """A per-call seed: None (use the global generator) or an integer from 0 to 2^32-1."""
    if seed is None:
        return None
    if _is_seed(seed):
        return int(seed)
    fail(func, f"`seed` must be None or an integer from 0 to 2^32-1. "
               f"Received: seed={_show(seed)}.", TypeError)


@contextlib.contextmanager
def seeded(seed):
    """Within the block, draw from a generator seeded with ``seed`` (None: no change).

    The generator is of the current type.  The global generator is put back
    afterwards, untouched, so a seeded call does not shift the random stream
    of the calls around it.
    """
    if seed is None:
        yield global_rng()
        return
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    stack.append(_make(_state["type"], seed))
    try:
        yield stack[-1]
    finally:
        stack.pop()
