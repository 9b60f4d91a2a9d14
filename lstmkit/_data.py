"""Coercion of predictors and responses from every form a MATLAB porter has.

Predictors (MATLAB: an N-by-1 cell array of C-by-T matrices):

* a list or tuple of C-by-T arrays;
* the object array that ``scipy.io.loadmat`` returns for a cell array
  (shape (N, 1), (1, N) or (N,));
* a single C-by-T array (one observation), or a 1-D array (one observation
  with one channel, 1-by-T);
* an N-by-C-by-T numeric array.

Nothing here copies or modifies the caller's arrays beyond what numpy needs to
read them; the returned sequences may be views and are never written to.
"""

import numbers

import numpy as np

from ._validation import _show, fail, size_text


def _numeric(func, name, value, what):
    """A real numeric ndarray view of ``value`` (no copy when possible)."""
    try:
        arr = np.asarray(value)
    except Exception:  # ragged nested lists and the like
        fail(func, f"{what} must be a numeric array. Received: {_show(value)}.", TypeError)
    if arr.dtype.kind == "c":
        fail(func, f"{what} is complex; lstmkit works with real data. Split real and imaginary "
                   f"parts into separate channels.", TypeError)
    if arr.dtype.kind not in "fiub":
        fail(func, f"{what} must be numeric. Received: {_show(arr)}.", TypeError)
    if arr.dtype.kind == "b":
        arr = arr.astype(np.float64)
    return arr


def _vector_sequence(func, arr, channels, where):
    """A 1-D array as a C-by-T sequence: the input size says which MATLAB meant.

    MATLAB's vectors have two dimensions: a C-by-1 column is one time step of C
    channels, a 1-by-T row T steps of one channel.  numpy's 1-D arrays have no
    such direction, so the network's InputSize decides; where it cannot (an
    input size that is neither 1 nor the length), the error says how to reshape.
    """
    if channels is None or channels == 1:
        return arr.reshape(1, -1)
    if arr.size == channels:
        return arr.reshape(-1, 1)
    fail(func, f"{where} is a 1-D array of {arr.size} values, which is neither one time step of "
               f"the input layer's {channels} channels nor a sequence of one channel; give it as "
               f"a C-by-T matrix (x.reshape({channels}, -1) if its values run channel by "
               f"channel).")


def as_sequences(func, X, name="X", channels=None):
    """Return ``(sequences, single)``: a list of C-by-T arrays and whether X was one observation.

    ``channels`` (the input layer's InputSize) reads 1-D arrays (see
    :func:`_vector_sequence`).
    """
    if isinstance(X, np.ndarray) and X.dtype == object:
        if X.ndim == 2 and 1 in X.shape or X.ndim == 1:
            items = list(X.reshape(-1))
        else:
            fail(func, f"`{name}` as a cell array must be N-by-1. Received: a cell array of size "
                       f"{size_text(X.shape)}.")
        single = False
    elif isinstance(X, (list, tuple)):
        items, single = list(X), False
    elif isinstance(X, np.ndarray) or hasattr(X, "__array__"):
        arr = _numeric(func, name, X, f"`{name}`")
        if arr.ndim == 1:
            items, single = [_vector_sequence(func, arr, channels, f"`{name}`")], True
        elif arr.ndim == 2:
            items, single = [arr], True
        elif arr.ndim == 3:
            items, single = list(arr), False
        else:
            fail(func, f"`{name}` must be a list of C-by-T sequences, one C-by-T sequence or an "
                       f"N-by-C-by-T array. Received: a {arr.ndim}-D array of size "
                       f"{size_text(arr.shape)}.")
    else:
        fail(func, f"`{name}` must be a list of C-by-T arrays (MATLAB's N-by-1 cell array), one "
                   f"C-by-T array or an N-by-C-by-T array. Received: {_show(X)}.", TypeError)
    if not items:
        fail(func, f"`{name}` is empty: it must hold at least one sequence.")
    seqs = []
    for i, item in enumerate(items):
        arr = _numeric(func, name, item, f"`{name}[{i}]`")
        if arr.ndim == 1:
            arr = _vector_sequence(func, arr, channels, f"`{name}[{i}]`")
        if arr.ndim != 2:
            fail(func, f"each sequence must be a C-by-T matrix; `{name}[{i}]` has size "
                       f"{size_text(arr.shape)}.")
        if arr.shape[0] == 0 or arr.shape[1] == 0:
            fail(func, f"`{name}[{i}]` is empty (size {size_text(arr.shape)}); every sequence needs at "
                       f"least one channel and one time step.")
        seqs.append(arr)
    return seqs, single


def read_era_inputs(func, input_layer, X, name="X"):
    """trainNetwork-era input data: C-by-T sequences, or N-by-C features for a featureInputLayer."""
    if not input_layer._outputs_sequence(True):
        from ._formats import features_bc
        return features_bc(func, X, input_layer.InputSize, name=name)
    return as_sequences(func, X, name=name, channels=input_layer.InputSize)


def check_sequences(func, seqs, input_size, min_length=1, name="X", check_finite=True):
    """Check channel count, length and finiteness against the input layer."""
    sizes = sorted({s.shape[0] for s in seqs})
    if sizes != [input_size]:
        hint = ""
        if all(s.shape[1] == input_size for s in seqs):
            hint = (f" The sequences look transposed (T-by-C): lstmkit, like MATLAB's "
                    f"trainNetwork, expects each sequence as C-by-T (channels by time steps); "
                    f"pass [x.T for x in {name}].")
        fail(func, f"the sequences in `{name}` are of feature dimension "
                   f"{' '.join(map(str, sizes))} but the input layer expects sequences of feature "
                   f"dimension {input_size}.{hint}")
    short = [i for i, s in enumerate(seqs) if s.shape[1] < min_length]
    if short:
        fail(func, f"sequence {short[0]} of `{name}` has {seqs[short[0]].shape[1]} time steps, fewer "
                   f"than the input layer's MinLength {min_length}.")
    span = channel_range(seqs)
    if check_finite and not (np.all(np.isfinite(span[0])) and np.all(np.isfinite(span[1]))):
        for i, s in enumerate(seqs):
            if not np.all(np.isfinite(s)):
                fail(func, f"`{name}[{i}]` contains NaN or Inf values; remove or fill them before "
                           f"training (e.g. fillmissing-style interpolation).")
    return span


#: elements per block when the sequences' range is taken (bounds the temporary copy)
RANGE_BLOCK = 1 << 18


def channel_range(seqs):
    """Each channel's smallest and largest value over all C-by-T sequences, in float64.

    NaN anywhere gives NaN for its channel (and Inf gives an infinite end), so
    the range also tells whether every value is finite.  The sequences are
    reduced in blocks of a few hundred thousand values: a few numpy calls per
    block instead of several per sequence (thousands of short sequences cost
    milliseconds otherwise), with a bounded temporary copy.
    """
    C = seqs[0].shape[0]
    lo = np.full(C, np.inf)
    hi = np.full(C, -np.inf)
    group, size = [], 0
    for k, s in enumerate(seqs):
        group.append(s)
        size += s.size
        if size >= RANGE_BLOCK or k == len(seqs) - 1:
            block = group[0] if len(group) == 1 else np.concatenate(group, axis=1)
            np.minimum(lo, block.min(axis=1), out=lo)
            np.maximum(hi, block.max(axis=1), out=hi)
            group, size = [], 0
    return lo, hi


def _ndim(value):
    """``np.ndim`` that treats ragged or odd containers as 1-D instead of raising."""
    try:
        return np.ndim(value)
    except (ValueError, TypeError):
        return 1


def _label_array(func, name, value):
    """1-D array of str or int labels from a list/array."""
    if isinstance(value, (list, tuple)):
        is_str = [isinstance(v, (str, np.str_)) for v in value]
        if any(is_str) and not all(is_str):
            fail(func, f"`{name}` must hold labels that are all str or all int. "
                       f"Received: {_show(list(value[:5]))}.", TypeError)
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):  # ragged nested containers
        fail(func, f"`{name}` must be a 1-D list or array of labels (str or int). "
                   f"Received: {_show(value)}.", TypeError)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        fail(func, f"`{name}` must be a 1-D list or array of labels. Received: size "
                   f"{size_text(arr.shape)}.")
    if arr.dtype.kind == "O":
        if all(isinstance(v, str) for v in arr):
            arr = arr.astype(str)
        elif all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in arr):
            if any(not -2 ** 63 <= v < 2 ** 63 for v in arr):
                fail(func, f"`{name}` holds an integer label outside the 64-bit range. Received: "
                           f"{_show(next(v for v in arr if not -2 ** 63 <= v < 2 ** 63))}.")
            arr = arr.astype(np.int64)
        else:
            fail(func, f"`{name}` must hold labels that are all str or all int. "
                       f"Received: {_show(list(arr[:5]))}.", TypeError)
    if arr.dtype.kind == "f":
        if np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            fail(func, f"`{name}` holds non-integer numbers, but a classification network needs "
                       f"class labels (str or int). For numeric responses use regressionLayer.",
                 TypeError)
    if arr.dtype.kind not in "USiu":
        fail(func, f"`{name}` must hold class labels (str or int). Received: {_show(arr)}.",
             TypeError)
    if arr.dtype.kind == "S":
        arr = arr.astype(str)
    return arr


def as_labels(func, Y, n, name="Y"):
    """Labels of a sequence-to-label task: a 1-D array of N labels."""
    if isinstance(Y, (str, bytes)) or _ndim(Y) == 0:
        Y = [Y]
    arr = _label_array(func, name, Y)
    if arr.size != n:
        fail(func, f"`{name}` has {arr.size} labels but X has {n} sequences; give one label per "
                   f"sequence.")
    return arr


def as_label_sequences(func, Y, seqs, single, name="Y"):
    """Labels of a sequence-to-sequence task: one 1-D label array per sequence."""
    if single and not (isinstance(Y, (list, tuple)) and len(Y) == 1 and _ndim(Y[0]) >= 1):
        items = [Y]
    elif isinstance(Y, np.ndarray) and (Y.dtype == object or Y.ndim == 1):
        items = list(Y.reshape(-1))
    elif isinstance(Y, (list, tuple)):
        items = list(Y)
    else:
        fail(func, f"`{name}` must be a list of label sequences (1-by-T each) for a "
                   f"sequence-to-sequence classification network. Received: {_show(Y)}.",
             TypeError)
    if len(items) != len(seqs):
        fail(func, f"`{name}` has {len(items)} label sequences but X has {len(seqs)} sequences.")
    out = []
    for i, (item, x) in enumerate(zip(items, seqs)):
        if _ndim(item) == 0:
            fail(func, f"`{name}[{i}]` is a single label, but the network outputs a sequence "
                       f"(an LSTM with OutputMode 'sequence'); give one label per time step, or "
                       f"set OutputMode='last' for sequence-to-label classification.")
        arr = _label_array(func, f"{name}[{i}]", item)
        if arr.size != x.shape[1]:
            fail(func, f"`{name}[{i}]` has {arr.size} time steps but X[{i}] has {x.shape[1]}; "
                       f"the label sequence must match its input sequence.")
        out.append(arr)
    kinds = {a.dtype.kind for a in out}
    if len(kinds - {"i", "u"}) and len(kinds) > 1:
        fail(func, f"`{name}` mixes str and int labels.", TypeError)
    return out


def as_responses(func, Y, n, name="Y"):
    """Responses of a sequence-to-one regression: an N-by-R float array."""
    arr = _numeric(func, name, Y, f"`{name}`")
    if arr.ndim == 0:
        arr = arr.reshape(1, 1)
    elif arr.ndim == 1:
        arr = arr.reshape(-1, 1) if n > 1 or arr.size == 1 else arr.reshape(1, -1)
    if arr.ndim != 2:
        fail(func, f"`{name}` must be an N-by-R matrix of responses. Received: size "
                   f"{size_text(arr.shape)}.")
    if arr.shape[0] != n:
        if arr.shape[1] == n:
            fail(func, f"`{name}` is {size_text(arr.shape)} but must be N-by-R with N = {n} "
                       f"observations; pass its transpose.")
        fail(func, f"`{name}` has {arr.shape[0]} rows but X has {n} sequences; give one row of "
                   f"responses per sequence.")
    if not np.all(np.isfinite(arr)):
        fail(func, f"`{name}` contains NaN or Inf values.")
    return arr


def as_response_sequences(func, Y, seqs, single, name="Y"):
    """Responses of a sequence-to-sequence regression: one R-by-T array per sequence."""
    if single and not isinstance(Y, (list, tuple)):
        items = [Y]
    elif isinstance(Y, np.ndarray) and Y.dtype == object:
        items = list(Y.reshape(-1))
    elif isinstance(Y, (list, tuple)):
        items = list(Y)
    elif isinstance(Y, np.ndarray) and Y.ndim == 3:
        items = list(Y)
    else:
        fail(func, f"`{name}` must be a list of R-by-T response sequences for a "
                   f"sequence-to-sequence regression network. Received: {_show(Y)}.", TypeError)
    if len(items) != len(seqs):
        fail(func, f"`{name}` has {len(items)} response sequences but X has {len(seqs)} sequences.")
    out = []
    for i, (item, x) in enumerate(zip(items, seqs)):
        arr = _numeric(func, name, item, f"`{name}[{i}]`")
        if arr.ndim == 1:
            arr = arr.reshape(1, -1)
        if arr.ndim != 2:
            fail(func, f"`{name}[{i}]` must be an R-by-T matrix. Received: size {size_text(arr.shape)}.")
        if arr.shape[1] != x.shape[1]:
            hint = " It looks transposed (T-by-R)." if arr.shape[0] == x.shape[1] else ""
            fail(func, f"`{name}[{i}]` has {arr.shape[1]} time steps but X[{i}] has {x.shape[1]}; "
                       f"sequence-to-sequence responses must have the same length as their "
                       f"inputs.{hint}")
        if not np.all(np.isfinite(arr)):
            fail(func, f"`{name}[{i}]` contains NaN or Inf values.")
        out.append(arr)
    if len({a.shape[0] for a in out}) > 1:
        fail(func, f"the response sequences in `{name}` have different numbers of responses "
                   f"({sorted({a.shape[0] for a in out})}).")
    return out


def categorical_parts(T):
    """``(labels, categories, problem)`` of a pandas-like categorical (``.categories``, ``.codes``).

    Labels are the categories of the codes; a string category kept as an object
    (as pandas does) becomes a str.  Not a categorical: ``(None, None, None)``;
    missing (undefined) labels: ``problem`` says so.
    """
    cat = getattr(T, "cat", None)
    source = cat if cat is not None and hasattr(cat, "categories") else T
    if hasattr(source, "categories") and hasattr(source, "codes"):
        categories = np.asarray(source.categories)
        if categories.dtype.kind == "O" and all(isinstance(c, str) for c in categories):
            categories = categories.astype(str)      # pandas keeps strings as objects
        codes = np.asarray(source.codes)
        if np.any(codes < 0):
            return None, None, "missing (undefined) labels"
        return categories[codes], categories, None
    return None, None, None
