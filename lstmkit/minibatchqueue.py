"""Data for custom training loops: padsequences, minibatchqueue, onehotencode, onehotdecode.

MATLAB's custom loops read mini-batches from a ``minibatchqueue`` over a
datastore; its ``MiniBatchFcn`` pads the sequences with ``padsequences`` and
one-hot encodes the labels with ``onehotencode``, and the queue returns
dlarrays in ``MiniBatchFormat``.  Here the queue is a Python iterator:
MATLAB's ``[X, T] = next(mbq)`` is ``X, T = next(mbq)`` (Python's own
``next``), and ``hasdata(mbq)``, ``reset(mbq)`` and ``shuffle(mbq)`` are
lstmkit's functions, as for datastores.  Dimensions given as numbers
(``paddingDim``, ``featureDim``) are MATLAB's, 1-based.
"""

from __future__ import annotations

import numbers
from typing import Any, Callable, Literal, Sequence

import numpy as np

from ._random import global_rng
from ._validation import (_show, check_bool, check_choice, check_nargout, check_positive_int,
                          checked_call, fail, name_value_function, select_outputs)
from .datastore import Datastore
from .dlarrays import DLArray, _canonical


def _sequence_list(func, X):
    if isinstance(X, np.ndarray) and X.dtype != object:
        fail(func, "`X` must be a list of arrays (MATLAB's cell array of sequences).", TypeError)
    if not isinstance(X, (list, tuple, np.ndarray)) or len(X) == 0:
        fail(func, f"`X` must be a non-empty list of arrays. Received: {_show(X)}.", TypeError)
    out = []
    for i, x in enumerate(X):
        arr = np.asarray(x._data if isinstance(x, DLArray) else x)
        if arr.dtype.kind not in "biuf":
            fail(func, f"`X[{i}]` must be numeric. Received: {_show(x)}.", TypeError)
        out.append(arr)
    return out


@name_value_function()
def padsequences(
    X: Sequence[Any],
    paddingDim: int,
    *name_value: Any,
    Length: str | int = "longest",
    Direction: Literal["right", "left"] = "right",
    PaddingValue: float = 0.0,
    UniformOutput: bool = True,
    nargout: int = 1,
) -> Any:
    """Pad or truncate sequences to one length, as MATLAB's ``padsequences`` (R2021a).

    Parameters
    ----------
    X : list of arrays
        The sequences (MATLAB's cell array), of equal size in every
        dimension but ``paddingDim``.
    paddingDim : int
        The dimension to pad (1-based, as MATLAB: 2 for C-by-T sequences, 1
        for T-by-C).
    Length : 'longest', 'shortest' or int, default 'longest'
        The length to pad or truncate to.
    Direction : {'right', 'left'}, default 'right'
        Pad (and truncate) at the end or at the start.
    PaddingValue : float, default 0
    UniformOutput : bool, default True
        True: the sequences concatenated along a new last dimension (after
        the sequences' own, MATLAB's ``ndims + 1``); False: a list.
    nargout : {1, 2}, default 1
        2 also returns the mask: True where the data are the sequences'.

    Returns
    -------
    XPad : ndarray or list of ndarray
    mask : ndarray or list of ndarray of bool
        With ``nargout=2``.

    Examples
    --------
    >>> import numpy as np
    >>> from lstmkit import padsequences
    >>> XPad, mask = padsequences([np.ones((2, 3)), np.ones((2, 1))], 2, nargout=2)
    >>> XPad.shape, mask[0, :, 1].tolist()
    ((2, 3, 2), [True, False, False])
    """
    func = "padsequences"
    nargout = check_nargout(func, nargout, 2)
    seqs = _sequence_list(func, X)
    dim = check_positive_int(func, "paddingDim", paddingDim) - 1
    nd = max(max(s.ndim for s in seqs), dim + 1, 2)
    seqs = [s.reshape(s.shape + (1,) * (nd - s.ndim)) for s in seqs]
    other = {s.shape[:dim] + s.shape[dim + 1:] for s in seqs}
    if len(other) != 1:
        fail(func, f"the sequences must have the same size in every dimension but paddingDim="
                   f"{dim + 1}. Received sizes {sorted({s.shape for s in seqs})}.")
    lengths = [s.shape[dim] for s in seqs]
    if isinstance(Length, str):
        choice = check_choice(func, "Length", Length, ("longest", "shortest"))
        L = max(lengths) if choice == "longest" else min(lengths)
    else:
        L = check_positive_int(func, "Length", Length)
    direction = check_choice(func, "Direction", Direction, ("right", "left"))
    if isinstance(PaddingValue, (bool, np.bool_)) or not isinstance(PaddingValue, numbers.Real):
        fail(func, f"`PaddingValue` must be a real number. Received: {_show(PaddingValue)}.",
             TypeError)
    uniform = check_bool(func, "UniformOutput", UniformOutput)
    dtype = np.result_type(*[s.dtype for s in seqs], np.asarray(PaddingValue).dtype) \
        if not float(PaddingValue).is_integer() else np.result_type(*[s.dtype for s in seqs])
    shape = list(seqs[0].shape)
    shape[dim] = L
    if uniform:       # one array, the sequences along a new last dimension, written in place
        out_all = np.full(tuple(shape) + (len(seqs),), PaddingValue, dtype)
        mask_all = np.zeros(out_all.shape, bool)
    padded, masks = [], []
    for k, seq in enumerate(seqs):
        n = min(seq.shape[dim], L)
        src = [slice(None)] * nd
        dst = [slice(None)] * nd
        if direction == "right":
            src[dim], dst[dim] = slice(0, n), slice(0, n)
        else:
            src[dim], dst[dim] = slice(seq.shape[dim] - n, seq.shape[dim]), slice(L - n, L)
        out = out_all[..., k] if uniform else np.full(shape, PaddingValue, dtype)
        mask = mask_all[..., k] if uniform else np.zeros(shape, bool)
        out[tuple(dst)] = seq[tuple(src)]
        mask[tuple(dst)] = True
        padded.append(out)
        masks.append(mask)
    result = (out_all, mask_all) if uniform else (padded, masks)
    return select_outputs(result, nargout)


@checked_call
def onehotencode(A: Any, featureDim: int, *, ClassNames: Sequence | None = None,
                 DataType: Literal["single", "double"] = "single") -> np.ndarray:
    """One-hot encode labels, as MATLAB's ``onehotencode(A, featureDim)``.

    Parameters
    ----------
    A : array_like of labels
        Labels (str or numbers), or a pandas Categorical; one label per
        position.
    featureDim : int
        The dimension (1-based) that receives the classes: A must have size 1
        there (a 1-by-N row of labels and featureDim 1 gives K-by-N).
    ClassNames : sequence, optional
        The classes in order; default the sorted distinct labels (a pandas
        Categorical's categories).
    DataType : {'single', 'double'}, default 'single'

    Returns
    -------
    ndarray
        One at each label's class, zeros elsewhere (a label outside the
        classes is all NaN, as MATLAB's undefined).

    Examples
    --------
    >>> from lstmkit import onehotencode
    >>> onehotencode([["a", "b", "a"]], 1).tolist()
    [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    """
    func = "onehotencode"
    categories = getattr(A, "categories", None)
    labels = np.asarray(A, dtype=object)
    if labels.ndim == 0:
        labels = labels.reshape(1, 1)
    if labels.ndim == 1:
        labels = labels.reshape(-1, 1)
    dim = check_positive_int(func, "featureDim", featureDim) - 1
    if dim >= labels.ndim:
        labels = labels.reshape(labels.shape + (1,) * (dim + 1 - labels.ndim))
    if labels.shape[dim] != 1:
        fail(func, f"`A` must have size 1 in dimension featureDim={dim + 1} (it receives the "
                   f"classes). Received size {'x'.join(map(str, labels.shape))}.")
    if ClassNames is not None:
        classes = list(np.asarray(ClassNames, dtype=object).reshape(-1))
    elif categories is not None:
        classes = list(categories)
    else:
        classes = sorted(set(labels.reshape(-1).tolist()), key=lambda v: (str(type(v)), v))
    if len(set(classes)) != len(classes):
        fail(func, "`ClassNames` must name each class once.")
    dtype = np.float32 if check_choice(func, "DataType", DataType,
                                       ("single", "double")) == "single" else np.float64
    index = {c: k for k, c in enumerate(classes)}
    shape = list(labels.shape)
    shape[dim] = len(classes)
    out = np.zeros(shape, dtype)
    flat = np.moveaxis(labels, dim, -1).reshape(-1)
    target = np.moveaxis(out, dim, -1).reshape(-1, len(classes))
    for i, label in enumerate(flat):
        k = index.get(label)
        if k is None:
            target[i] = np.nan
        else:
            target[i, k] = 1
    return np.moveaxis(target.reshape(np.moveaxis(out, dim, -1).shape), -1, dim)


@checked_call
def onehotdecode(B: Any, classes: Sequence, featureDim: int) -> np.ndarray:
    """Labels of one-hot (or score) arrays, as MATLAB's ``onehotdecode(B, classes, featureDim)``.

    Parameters
    ----------
    B : array_like or DLArray
        Scores or one-hot vectors along ``featureDim``.
    classes : sequence
        The class of each position along featureDim.
    featureDim : int
        1-based.

    Returns
    -------
    ndarray
        The class of the largest value of each vector; size 1 along featureDim.

    Examples
    --------
    >>> from lstmkit import onehotdecode
    >>> onehotdecode([[0.9, 0.2], [0.1, 0.8]], ["a", "b"], 1).tolist()
    [['a', 'b']]
    """
    func = "onehotdecode"
    data = np.asarray(B._data if isinstance(B, DLArray) else B, dtype=np.float64)
    dim = check_positive_int(func, "featureDim", featureDim) - 1
    if dim >= data.ndim:
        fail(func, f"`featureDim` is {dim + 1} but B has {data.ndim} dimensions.")
    names = np.asarray(classes).reshape(-1)
    if names.size != data.shape[dim]:
        fail(func, f"`classes` must name the {data.shape[dim]} positions along featureDim. "
                   f"Received {names.size}.")
    return np.expand_dims(names[np.argmax(data, axis=dim)], dim)


class MinibatchQueue:
    """Mini-batches of a datastore for custom training loops (create it with :func:`minibatchqueue`).

    An iterator: ``X, T = next(mbq)`` (MATLAB's ``[X, T] = next(mbq)``);
    ``for X, T in mbq`` reads to the end.  ``hasdata(mbq)``, ``reset(mbq)``
    and ``shuffle(mbq)`` as MATLAB's.

    Attributes
    ----------
    MiniBatchSize : int
    NumOutputs : int
    MiniBatchFormat : list of str
    PartialMiniBatch : str
    """

    def __init__(self, ds, num_outputs, size, fcn, formats, partial, as_dlarray, cast):
        self._ds = ds
        self.NumOutputs = num_outputs
        self.MiniBatchSize = size
        self.MiniBatchFcn = fcn
        self.MiniBatchFormat = formats
        self.PartialMiniBatch = partial
        self.OutputAsDlarray = as_dlarray
        self.OutputCast = cast
        self._rows = ds._all_rows()
        self._order = np.arange(len(self._rows))
        self._position = 0

    def _available(self):
        left = len(self._rows) - self._position
        return left >= self.MiniBatchSize or (left > 0 and self.PartialMiniBatch == "return")

    def hasdata(self):
        return self._available()

    def reset(self):
        self._position = 0

    def shuffle(self):
        self._order = global_rng().permutation(len(self._rows))
        self._position = 0

    def __iter__(self):
        return self

    def __next__(self):
        if not self._available():
            raise StopIteration
        idx = self._order[self._position:self._position + self.MiniBatchSize]
        self._position += len(idx)
        rows = [self._rows[i] for i in idx]
        columns = [[row[j] for row in rows] for j in range(len(rows[0]))]
        if self.MiniBatchFcn is None:
            outputs = tuple(_concatenate(col) for col in columns)
        else:
            out = self.MiniBatchFcn(*columns)
            outputs = out if isinstance(out, tuple) else (out,)
        if len(outputs) < self.NumOutputs:
            fail("minibatchqueue", f"MiniBatchFcn returned {len(outputs)} outputs; the queue "
                                   f"has {self.NumOutputs}.")
        result = tuple(self._finish(k, v) for k, v in enumerate(outputs[:self.NumOutputs]))
        return result[0] if len(result) == 1 else result

    def _finish(self, k, value):
        if isinstance(value, DLArray):
            return value
        arr = np.asarray(value)
        if arr.dtype.kind in "biuf":
            arr = arr.astype(np.float32 if self.OutputCast[k] == "single" else np.float64)
        if not self.OutputAsDlarray[k] or arr.dtype.kind != "f":
            return arr
        fmt = self.MiniBatchFormat[k]
        if not fmt:
            return DLArray(arr, "", None)
        data, canon = _canonical("minibatchqueue", arr, fmt)
        return DLArray(np.ascontiguousarray(data), canon, None)

    def __repr__(self):
        return (f"  minibatchqueue with {self.NumOutputs} outputs and properties:\n\n"
                f"     MiniBatchSize: {self.MiniBatchSize}\n"
                f"  PartialMiniBatch: \"{self.PartialMiniBatch}\"\n"
                f"   MiniBatchFormat: {self.MiniBatchFormat}")


def _concatenate(items):
    """MATLAB's default mini-batch ('collate'): the observations along a new last dimension.

    An observation read as a row (a leading dimension of size 1, as arrayDatastore reads a
    matrix's rows) counts as the vector it holds: scalars give 1-by-N, vectors C-by-N.
    """
    arrays = [np.asarray(i) for i in items]
    while arrays and arrays[0].ndim >= 2 and all(a.shape[0] == 1 for a in arrays):
        arrays = [a[0] for a in arrays]
    if all(a.dtype.kind in "biuf" for a in arrays) and len({a.shape for a in arrays}) == 1:
        first = arrays[0]
        if first.ndim == 0:
            return np.stack(arrays).reshape(1, -1)             # scalars: 1-by-N
        return np.stack(arrays, axis=max(first.ndim, 1))      # vectors: C-by-N; else last
    fail("minibatchqueue", "without a MiniBatchFcn the observations of a mini-batch must be "
                           "numeric arrays of one size; give a MiniBatchFcn (for example one "
                           "that calls padsequences).")


def _per_output(func, name, value, n, check):
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            fail(func, f"`{name}` must have one value per output ({n}). Received "
                       f"{len(value)}.")
        return [check(v) for v in value]
    return [check(value)] * n


@name_value_function()
def minibatchqueue(
    ds: Datastore,
    numOutputs: int | None = None,
    *name_value: Any,
    MiniBatchSize: int = 128,
    MiniBatchFcn: Callable | None = None,
    MiniBatchFormat: str | Sequence[str] = "",
    PartialMiniBatch: Literal["return", "discard"] = "return",
    OutputAsDlarray: bool | Sequence[bool] = True,
    OutputCast: str | Sequence[str] = "single",
    OutputEnvironment: str | Sequence[str] = "auto",
    DispatchInBackground: bool = False,
) -> MinibatchQueue:
    """Mini-batches of a datastore for custom loops, as MATLAB's ``minibatchqueue`` (R2020b).

    Parameters
    ----------
    ds : Datastore
        arrayDatastore, combine, transform.
    numOutputs : int, optional
        The number of outputs (default: the datastore's columns, or what
        MiniBatchFcn returns).
    MiniBatchSize : int, default 128
    MiniBatchFcn : callable, optional
        Called with one list per datastore column (the mini-batch's
        observations, MATLAB's cell arrays); returns the outputs (a tuple
        for several).  Default (MATLAB's 'collate'): each column's
        observations concatenated along a new last dimension (an
        observation read as a 1-by-C row counts as a vector: C-by-N).
    MiniBatchFormat : str or list of str, default ''
        The dlarray format of each output (such as 'CTB', 'CB').
    PartialMiniBatch : {'return', 'discard'}, default 'return'
        The last, smaller mini-batch.
    OutputAsDlarray : bool or list of bool, default True
    OutputCast : {'single', 'double'} or list, default 'single'
    OutputEnvironment : {'auto', 'cpu', 'gpu'} or list, default 'auto'
        Checked; the data stay in host memory (the GPU path moves each
        mini-batch itself).
    DispatchInBackground : bool, default False
        Only False: lstmkit prepares mini-batches as they are asked for.

    Returns
    -------
    MinibatchQueue

    Examples
    --------
    >>> import numpy as np
    >>> from lstmkit import *
    >>> X = [np.ones((2, T)) for T in (3, 5, 4)]              # C-by-T sequences
    >>> ds = combine(arrayDatastore(X, OutputType="same"), arrayDatastore(np.arange(3.0)))
    >>> mbq = minibatchqueue(ds, 2, MiniBatchSize=2, MiniBatchFormat=["CTB", "B"],
    ...                      MiniBatchFcn=lambda x, t: (padsequences(x, 2), np.array(t)))
    >>> X1, T1 = next(mbq)
    >>> dims(X1), X1.shape, hasdata(mbq)
    ('CBT', (2, 2, 5), True)
    """
    func = "minibatchqueue"
    if not isinstance(ds, Datastore):
        fail(func, f"`ds` must be a datastore (arrayDatastore, combine, transform). Received: "
                   f"{_show(ds)}.", TypeError)
    size = check_positive_int(func, "MiniBatchSize", MiniBatchSize)
    if MiniBatchFcn is not None and not callable(MiniBatchFcn):
        fail(func, f"`MiniBatchFcn` must be a function. Received: {_show(MiniBatchFcn)}.",
             TypeError)
    if numOutputs is None:
        n = len(MiniBatchFormat) if isinstance(MiniBatchFormat, (list, tuple)) else \
            ds._num_columns()
    else:
        n = check_positive_int(func, "numOutputs", numOutputs)
    if MiniBatchFcn is None and n > ds._num_columns():
        fail(func, f"the datastore has {ds._num_columns()} columns but numOutputs is {n}: give "
                   f"a MiniBatchFcn that returns {n} outputs.")

    def fmt_check(v):
        if not isinstance(v, str) or set(v.upper()) - set("SCBTU"):
            fail(func, f"`MiniBatchFormat` must hold format strings such as 'CTB'. Received: "
                       f"{_show(v)}.")
        return v.upper()
    formats = _per_output(func, "MiniBatchFormat", MiniBatchFormat, n, fmt_check)
    partial = check_choice(func, "PartialMiniBatch", PartialMiniBatch, ("return", "discard"))
    as_dl = _per_output(func, "OutputAsDlarray", OutputAsDlarray, n,
                        lambda v: check_bool(func, "OutputAsDlarray", v))
    cast = _per_output(func, "OutputCast", OutputCast, n,
                       lambda v: check_choice(func, "OutputCast", v, ("single", "double")))
    _per_output(func, "OutputEnvironment", OutputEnvironment, n,
                lambda v: check_choice(func, "OutputEnvironment", v, ("auto", "cpu", "gpu")))
    if check_bool(func, "DispatchInBackground", DispatchInBackground):
        fail(func, "DispatchInBackground=True is not supported: lstmkit prepares each "
                   "mini-batch when next(mbq) asks for it.")
    return MinibatchQueue(ds, n, size, MiniBatchFcn, formats, partial, as_dl, cast)
