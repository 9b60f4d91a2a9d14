"""What every adversarial case asserts: an exact outcome.

A case either gives a *clear error* -- ValueError or TypeError (an OSError
or MemoryError where the cause is the file system or the machine), whose
message begins with the public function's name, says what was expected and
names no temporary file -- or a *correct result*, checked by the case.  The
caller's arguments are never modified, whatever the outcome.
"""

import copy
import os
import re

import numpy as np
import pytest

CLEAR = (ValueError, TypeError)


def snapshot(value):
    """A deep copy to compare the caller's data with after a call."""
    try:
        return copy.deepcopy(value)
    except Exception:           # objects that cannot be copied are not compared
        return None


def same(a, b):
    """Whether two (nested) values are equal, arrays element by element (NaN equal to NaN)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        if a.dtype == object:
            return all(same(x, y) for x, y in zip(a.reshape(-1), b.reshape(-1)))
        if a.dtype.kind in "fc":
            return bool(np.array_equal(a, b, equal_nan=True))
        return bool(np.array_equal(a, b))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    try:
        return bool(a == b) or (a != a and b != b)
    except Exception:
        return True


def clear_error(call, func, *fragments, exc=CLEAR, args=()):
    """``call()`` raises ``exc`` with a message ``"<func>: ..."`` holding every fragment.

    ``args`` are the caller's values, checked unmodified afterwards.
    """
    before = [snapshot(a) for a in args]
    if os.environ.get("ADVERSARIAL_LOG"):      # tally of the cases whose outcome is an error
        with open(os.environ["ADVERSARIAL_LOG"], "a") as log:
            log.write(os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0] + "\n")
    with pytest.raises(exc) as info:
        call()
    message = str(info.value)
    assert message.startswith(f"{func}:") or f"{func}:" in message.split("\n")[0], message
    for fragment in fragments:
        assert re.search(fragment, message, re.IGNORECASE), (fragment, message)
    assert ".part" not in message and "lstmkit-" not in message, message
    for a, b in zip(args, before):
        if b is not None:
            assert same(a, b), "the caller's argument was modified"
    return message


def unchanged(call, *args):
    """``call()`` returns; the caller's ``args`` are unmodified.  Returns the result."""
    before = [snapshot(a) for a in args]
    result = call()
    for a, b in zip(args, before):
        if b is not None:
            assert same(a, b), "the caller's argument was modified"
    return result


def classifier_layers(H=6):
    """A small Japanese Vowels classifier (12 channels, 9 classes)."""
    from lstmkit import (classificationLayer, fullyConnectedLayer, lstmLayer,
                         sequenceInputLayer, softmaxLayer)
    return [sequenceInputLayer(12), lstmLayer(H, OutputMode="last"), fullyConnectedLayer(9),
            softmaxLayer(), classificationLayer()]
