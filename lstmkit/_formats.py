"""MATLAB's data formats ("TCB", "CTB", ...) and the trainnet era's time-by-channel sequences.

Since R2024a, MATLAB's trainnet, minibatchpredict, testnet and predict on a
dlnetwork take sequences as T-by-C (time steps by channels): a cell array of
T-by-C matrices, or a numeric T-by-C-by-N array.  Any other layout is named
by ``InputDataFormats`` (MATLAB's format letters: S spatial, C channel, B
batch/observation, T time, U unspecified).  The trainNetwork era keeps C-by-T
(:mod:`lstmkit._data`).  Internally every sequence becomes C-by-T, the layout
the packing code takes, without copying the caller's data.

A numeric array is never read in a guessed layout: with the default format,
when another of its dimensions has the size of the channels too, the call is
an error that asks for ``InputDataFormats``, and when the channels are
elsewhere than the default says, the error names the format that would read
the data as it is.
"""

from __future__ import annotations

import numpy as np

from ._data import _numeric
from ._validation import _show, fail, size_text

LETTERS = "SCBTU"


def check_format(func, name, fmt, allowed=None):
    """A MATLAB data format: 'auto' or letters from SCBTU, each at most once (upper-cased)."""
    if not isinstance(fmt, str):
        fail(func, f"`{name}` must be 'auto' or a format such as 'TCB' (letters S, C, B, T, U). "
                   f"Received: {name}={_show(fmt)}.", TypeError)
    if fmt.lower() == "auto":
        return "auto"
    text = fmt.upper()
    bad = [c for c in text if c not in LETTERS]
    if not text or bad or len(set(text)) != len(text) and "U" not in text:
        fail(func, f"`{name}` must be 'auto' or letters from S, C, B, T, U, each once (U may "
                   f"repeat). Received: {name}={fmt!r}.")
    if allowed is not None and sorted(text) not in [sorted(a) for a in allowed]:
        options = ", ".join(repr(a) for a in allowed)
        fail(func, f"`{name}` must describe the data's dimensions: one of {options} (any order "
                   f"of their letters). Received: {name}={fmt!r}.")
    return text


def check_input_formats(func, fmt):
    """InputDataFormats: one format (checked), or a list of one per network input (each checked)."""
    if isinstance(fmt, (list, tuple)):
        return [check_format(func, "InputDataFormats", f) for f in fmt]
    return check_format(func, "InputDataFormats", fmt)


def _layout_hint(shape, C, default):
    """A format naming the dimension of size C as the channels, for error messages."""
    dims = [d for d, n in enumerate(shape) if n == C]
    if not dims:
        return ""
    letters = list(default)
    c_now = letters.index("C")
    d = dims[0]
    letters[c_now], letters[d] = letters[d], letters[c_now]
    return "".join(letters)


def sequences_tc(func, X, input_size, fmt="auto", name="X", targets=False):
    """Sequences in the trainnet era's layout, as a list of C-by-T arrays (views where possible).

    Parameters
    ----------
    X : list of arrays, object array, or numeric array
        A list (MATLAB's cell array) of T-by-C arrays by default, or a numeric
        T-by-C-by-N array, or one T-by-C sequence.
    input_size : int
        The input layer's channels C.
    fmt : str
        ``InputDataFormats``: 'auto' or letters such as 'CTB' ('CTB' for a
        list of C-by-T arrays: the B says the observations are the list).
    targets : bool
        The sequences are trainnet's targets (messages name the network's
        outputs and ``TargetDataFormats``).

    Returns
    -------
    seqs : list of ndarray
        C-by-T arrays.
    single : bool
        Whether X was one sequence.
    """
    option = "TargetDataFormats" if targets else "InputDataFormats"
    fmt = check_format(func, option, fmt, allowed=("TCB", "TC"))
    C = int(input_size)
    expects = "the network outputs" if targets else "the input layer expects"
    if isinstance(X, np.ndarray) and X.dtype == object:
        X = list(X.reshape(-1))
    if isinstance(X, (list, tuple)):
        if not X:
            fail(func, f"`{name}` is empty: it must hold at least one sequence.")
        element = "TC" if fmt == "auto" else fmt.replace("B", "")
        return [_one_sequence(func, x, C, element, f"{name}[{i}]", fmt == "auto", option, expects)
                for i, x in enumerate(X)], False
    arr = _numeric(func, name, X, f"`{name}`")
    if arr.ndim == 3:
        layout = "TCB" if fmt == "auto" else fmt
        if len(layout) != 3:
            fail(func, f"`{option}`={fmt!r} has {len(layout)} dimensions but `{name}` "
                       f"has 3 (size {size_text(arr.shape)}).")
        c_axis = layout.index("C")
        if fmt == "auto":
            others = [d for d in range(3) if d != c_axis and arr.shape[d] == C]
            if arr.shape[c_axis] == C and others:
                fail(func, f"`{name}` is {size_text(arr.shape)}: dimensions "
                           f"{' and '.join(str(d + 1) for d in sorted([c_axis] + others))} could "
                           f"each be the {C} channels, so its layout is ambiguous; give "
                           f"{option} (MATLAB's default here is 'TCB': time steps by "
                           f"channels by observations).")
            if arr.shape[c_axis] != C:
                hint = _layout_hint(arr.shape, C, layout)
                fail(func, f"`{name}` is {size_text(arr.shape)}, read as time steps by channels "
                           f"by observations ('TCB'), but {expects} {C} channels."
                           + (f" If dimension {hint.index('C') + 1} holds the channels, give "
                              f"{option}={hint!r}." if hint else ""))
        elif arr.shape[c_axis] != C:
            fail(func, f"`{name}` is {size_text(arr.shape)}; with {option}={fmt!r} it "
                       f"has {arr.shape[c_axis]} channels, but {expects} {C}.")
        data = np.moveaxis(arr, [layout.index("B"), c_axis, layout.index("T")], [0, 1, 2])
        if data.shape[0] == 0 or data.shape[2] == 0:
            fail(func, f"`{name}` is empty (size {size_text(arr.shape)}).")
        return list(data), False
    if arr.ndim in (1, 2):
        element = "TC" if fmt == "auto" else fmt.replace("B", "")
        return [_one_sequence(func, arr, C, element, name, fmt == "auto", option, expects)], True
    fail(func, f"`{name}` must be a list of T-by-C sequences, a T-by-C-by-N array or one T-by-C "
               f"sequence. Received: a {arr.ndim}-D array of size {size_text(arr.shape)}.")


def _one_sequence(func, x, C, element, where, auto, option="InputDataFormats",
                  expects="the input layer expects"):
    arr = _numeric(func, where, x, f"`{where}`")
    if arr.ndim == 1:              # MATLAB's vectors have a direction; the input size tells it
        if C == 1:
            arr = arr.reshape(-1, 1) if element == "TC" else arr.reshape(1, -1)
        elif arr.size == C:        # one time step of C channels
            arr = arr.reshape(1, -1) if element == "TC" else arr.reshape(-1, 1)
        else:
            fail(func, f"`{where}` is a 1-D array of {arr.size} values, which is neither one "
                       f"time step of the input layer's {C} channels nor a sequence of one "
                       f"channel; give it as a T-by-C matrix (x.reshape(-1, {C}) if its values "
                       f"run time step by time step).")
    if arr.ndim != 2 or len(element) != 2 or set(element) != {"T", "C"}:
        fail(func, f"each sequence must be a T-by-C matrix; `{where}` has size "
                   f"{size_text(arr.shape)}.")
    c_axis = element.index("C")
    if arr.shape[c_axis] != C:
        other = 1 - c_axis
        hint = ""
        if arr.shape[other] == C:
            flipped = element[::-1]
            hint = (f" It looks {flipped[0]}-by-{flipped[1]}: pass the transposes, or give "
                    f"{option}={flipped + 'B'!r}" +
                    (" (the trainNetwork era's layout)." if flipped == "CT" else "."))
        layout = "T-by-C (time steps by channels)" if element == "TC" else \
            "C-by-T (channels by time steps)"
        fail(func, f"`{where}` is {size_text(arr.shape)}, read as {layout}, but {expects} {C} "
                   f"channels.{hint}")
    if arr.shape[1 - c_axis] == 0:
        fail(func, f"`{where}` has no time steps.")
    return arr.T if element == "TC" else arr


def to_tc(y):
    """A C-by-T output back in the trainnet era's T-by-C layout (a view)."""
    return y.T


def features_bc(func, X, num_features, fmt="auto", name="X"):
    """Feature data (N-by-C, or C-by-N with fmt 'CB') as a list of C-by-1 arrays."""
    fmt = check_format(func, "InputDataFormats", fmt, allowed=("BC",))
    C = int(num_features)
    arr = _numeric(func, name, X, f"`{name}`")
    if arr.ndim == 1:
        arr = arr.reshape(1, -1) if fmt in ("auto", "BC") else arr.reshape(-1, 1)
    if arr.ndim != 2:
        fail(func, f"`{name}` must be an N-by-C array of features (observations by features) "
                   f"for a featureInputLayer. Received: size {size_text(arr.shape)}.")
    if fmt == "CB":
        arr = arr.T
    if arr.shape[1] != C:
        hint = " It looks transposed: pass its transpose, or give InputDataFormats='CB'." \
            if arr.shape[0] == C else ""
        fail(func, f"`{name}` is {size_text(arr.shape)}, read as observations by features, but "
                   f"the featureInputLayer expects {C} features.{hint}")
    if arr.shape[0] == 0:
        fail(func, f"`{name}` has no observations.")
    return [row.reshape(C, 1) for row in arr], False


def read_inputs(func, input_layer, X, fmt="auto", name="X"):
    """The network's input data as C-by-T arrays: sequences, or features (C-by-1 each)."""
    if not input_layer._outputs_sequence(True):
        return features_bc(func, X, input_layer.InputSize, fmt, name)
    return sequences_tc(func, X, input_layer.InputSize, fmt, name)
