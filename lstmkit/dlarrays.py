"""dlarray: MATLAB's deep learning array, with automatic differentiation (custom training loops).

``dlarray(X, fmt)`` holds a float array and its format: one label per
dimension, from S (spatial), C (channel), B (batch), T (time) and U
(unspecified).  As in MATLAB, a formatted dlarray stores its dimensions in the
order S, C, B, T, U (``dlarray(X, "TCB")`` has ``dims`` 'CBT'), trailing
labels of size 1 included.

Inside :func:`dlfeval`, the dlarray arguments are *traced*: every operation
on them is recorded, and :func:`dlgradient` returns exact gradients of a real
scalar with respect to any traced value.  The operations are numpy's (``X +
Y``, ``X * Y`` elementwise as MATLAB's ``.*``, ``X @ W`` as MATLAB's ``*``,
``X ** 2``, ``np.exp(X)``, ``np.sum(X, axis=0)``, ``X[0, 1:]``,
``np.concatenate``, ``X.reshape``, ``X.T``, ...; numpy's 0-based axes) and
MATLAB's functions (:func:`sigmoid`, :func:`relu`, :func:`softmax`, the
losses).  An operation without a recorded derivative on a traced value is a
TypeError that names it.

Deliberate differences from MATLAB: numpy's operators and functions keep
numpy's semantics (0-based axes; ``np.sum`` drops the summed axis, MATLAB's
``sum`` keeps it); the result of an operation keeps its operand's format
where the dimensions are unchanged and is unformatted otherwise.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from . import autodiff
from ._validation import _show, checked_call, fail
from .table import Table

LABELS = "SCBTU"
_RANK = {c: i for i, c in enumerate(LABELS)}


class DLArray:
    """A deep learning array (create it with :func:`dlarray`)."""

    __array_priority__ = 1000
    __slots__ = ("_data", "_fmt", "_node")

    def __init__(self, data, fmt="", node=None):
        self._data = data
        self._fmt = fmt
        self._node = node

    # -- what it is -----------------------------------------------------------------------
    @property
    def shape(self):
        return self._data.shape

    @property
    def ndim(self):
        return self._data.ndim

    @property
    def size(self):
        return self._data.size

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def T(self):
        return np.transpose(self)

    def __len__(self):
        return len(self._data)

    def __array__(self, dtype=None, copy=None):
        """The data, for numpy functions that do not trace (a copy: the dlarray is unchanged).

        A traced dlarray refuses: its gradient would be lost without a word
        (MATLAB leaves a trace only with extractdata).
        """
        if self._node is not None and self._node.tape.active:
            fail("dlarray", "a traced dlarray (inside dlfeval) was converted to a numpy array "
                            "(np.asarray, np.array or a numpy function lstmkit does not "
                            "record), which would lose its gradient. Use extractdata(X) to "
                            "leave the trace on purpose.", TypeError)
        return np.array(self._data, dtype=dtype, copy=True)

    def __repr__(self):
        fmt = f"'{self._fmt}'" if self._fmt else "unformatted"
        traced = ", traced" if self._node is not None else ""
        return f"dlarray({self._data!r}, {fmt}{traced})"

    def __float__(self):
        return float(self._data)

    def __bool__(self):
        return bool(self._data)

    # -- operators: numpy's ufuncs ----------------------------------------------------------
    def __add__(self, o): return np.add(self, o)            # noqa: E704
    def __radd__(self, o): return np.add(o, self)           # noqa: E704
    def __sub__(self, o): return np.subtract(self, o)       # noqa: E704
    def __rsub__(self, o): return np.subtract(o, self)      # noqa: E704
    def __mul__(self, o): return np.multiply(self, o)       # noqa: E704
    def __rmul__(self, o): return np.multiply(o, self)      # noqa: E704
    def __truediv__(self, o): return np.divide(self, o)     # noqa: E704
    def __rtruediv__(self, o): return np.divide(o, self)    # noqa: E704
    def __pow__(self, o): return np.power(self, o)          # noqa: E704
    def __rpow__(self, o): return np.power(o, self)         # noqa: E704
    def __matmul__(self, o): return np.matmul(self, o)      # noqa: E704
    def __rmatmul__(self, o): return np.matmul(o, self)     # noqa: E704
    def __neg__(self): return np.negative(self)             # noqa: E704
    def __pos__(self): return self                          # noqa: E704
    def __abs__(self): return np.abs(self)                  # noqa: E704
    def __lt__(self, o): return np.less(self, o)            # noqa: E704
    def __le__(self, o): return np.less_equal(self, o)      # noqa: E704
    def __gt__(self, o): return np.greater(self, o)         # noqa: E704
    def __ge__(self, o): return np.greater_equal(self, o)   # noqa: E704

    def __eq__(self, o):
        return np.equal(self, o)

    def __ne__(self, o):
        return np.not_equal(self, o)

    __hash__ = None

    def __getitem__(self, index):
        index = _plain_index(index)
        data = self._data[index]
        fmt = self._fmt if data.ndim == self.ndim else ""

        def vjp(g):
            out = np.zeros(self.shape, g.dtype)
            np.add.at(out, index, g)
            return out
        return _result(data, fmt, [(self, vjp)])

    def __setitem__(self, index, value):
        fail("dlarray", "a dlarray cannot be assigned into (its operations are recorded); "
                        "build a new one, e.g. with np.concatenate or np.where.", TypeError)

    def reshape(self, *shape):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return np.reshape(self, shape)

    def sum(self, axis=None, keepdims=False):
        return np.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        return np.mean(self, axis=axis, keepdims=keepdims)

    # -- numpy's protocols ----------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__" or kwargs.get("out") is not None:
            return _untraced_or_fail(f"np.{ufunc.__name__}.{method}", inputs,
                                     lambda: getattr(ufunc, method)(*_raw(inputs), **kwargs))
        rule = _UFUNCS.get(ufunc)
        if rule is None:
            return _untraced_or_fail(f"np.{ufunc.__name__}", inputs,
                                     lambda: ufunc(*_raw(inputs), **kwargs))
        return rule(*inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        rule = _FUNCTIONS.get(func)
        if rule is None:
            return _untraced_or_fail(f"np.{func.__name__}", args,
                                     lambda: func(*_raw(args), **_raw_kwargs(kwargs)))
        return rule(*args, **kwargs)


# -- building blocks ------------------------------------------------------------------------
def _raw(values):
    out = []
    for v in values:
        if isinstance(v, DLArray):
            out.append(v._data)
        elif isinstance(v, (list, tuple)):
            out.append(type(v)(_raw(v)))
        else:
            out.append(v)
    return out


def _raw_kwargs(kwargs):
    return {k: (v._data if isinstance(v, DLArray) else v) for k, v in kwargs.items()}


def _traced(values):
    for v in values:
        if isinstance(v, DLArray) and v._node is not None and v._node.tape.active:
            return True
        if isinstance(v, (list, tuple)) and _traced(v):
            return True
    return False


def _untraced_or_fail(name, inputs, compute):
    """An operation lstmkit cannot differentiate: an error on traced values, else its value."""
    if _traced(inputs):
        fail("dlgradient", f"{name} is not differentiable by lstmkit, and it was applied to a "
                           f"traced dlarray (inside dlfeval). Use the operations listed in "
                           f"lstmkit.dlarrays' documentation, or extractdata to leave the "
                           f"trace on purpose.", TypeError)
    out = compute()
    return _wrap(out) if isinstance(out, np.ndarray) and out.dtype.kind == "f" else out


def _wrap(data, fmt=""):
    return DLArray(np.asarray(data), fmt, None)


def _result(data, fmt, parents):
    """A new dlarray; recorded when any parent is traced on the active tape."""
    data = np.asarray(data)
    tape = autodiff.current_tape()
    links = []
    if tape is not None:
        for parent, vjp in parents:
            if isinstance(parent, DLArray) and parent._node is not None and \
                    parent._node.tape is tape:
                links.append((parent._node, vjp))
    node = autodiff.Node(tape, links) if links else None
    return DLArray(data, fmt if len(fmt) == data.ndim else "", node)


def _data(x):
    return x._data if isinstance(x, DLArray) else np.asarray(x)


def _fmt_of(*values):
    """The format a result keeps: the first formatted operand's."""
    for v in values:
        if isinstance(v, DLArray) and v._fmt:
            return v._fmt
    return ""


def _plain_index(index):
    if isinstance(index, DLArray):
        return index._data
    if isinstance(index, tuple):
        return tuple(i._data if isinstance(i, DLArray) else i for i in index)
    return index


def _float_dtype(*arrays):
    return np.result_type(*[a.dtype if a.dtype.kind == "f" else np.float64 for a in arrays])


# -- the ufuncs with derivatives ----------------------------------------------------------------
def _binary(fn, da, db):
    def rule(a, b, **kwargs):
        x, y = _data(a), _data(b)
        out = fn(x, y)
        parents = []
        if isinstance(a, DLArray):
            parents.append((a, lambda g: autodiff.unbroadcast(da(g, x, y, out), x.shape)))
        if isinstance(b, DLArray):
            parents.append((b, lambda g: autodiff.unbroadcast(db(g, x, y, out), y.shape)))
        return _result(out, _fmt_of(a, b) if out.ndim == max(np.ndim(x), np.ndim(y)) else "",
                       parents)
    return rule


def _unary(fn, d):
    def rule(a, **kwargs):
        x = _data(a)
        out = fn(x)
        return _result(out, _fmt_of(a), [(a, lambda g: d(g, x, out))])
    return rule


def _power_rule(a, b, **kwargs):
    x, y = _data(a), _data(b)
    out = np.power(x, y)
    parents = []
    if isinstance(a, DLArray):
        parents.append((a, lambda g: autodiff.unbroadcast(
            g * y * np.power(x, y - 1) if np.ndim(y) or y != 0 else np.zeros_like(g), x.shape)))
    if isinstance(b, DLArray):
        parents.append((b, lambda g: autodiff.unbroadcast(
            g * out * np.log(np.where(x > 0, x, 1)), np.shape(y))))
    return _result(out, _fmt_of(a, b), parents)


def _matmul_rule(a, b, **kwargs):
    x, y = _data(a), _data(b)
    out = np.matmul(x, y)
    parents = []
    if isinstance(a, DLArray):
        parents.append((a, lambda g: autodiff.unbroadcast(
            np.matmul(g, np.swapaxes(y, -1, -2)) if y.ndim > 1 else np.multiply.outer(g, y),
            x.shape)))
    if isinstance(b, DLArray):
        parents.append((b, lambda g: autodiff.unbroadcast(
            np.matmul(np.swapaxes(x, -1, -2), g) if x.ndim > 1 else np.multiply.outer(x, g),
            y.shape)))
    return _result(out, "", parents)


def _compare(fn):
    def rule(a, b, **kwargs):
        return fn(_data(a), _data(b))        # a logical array: no gradient, not a dlarray
    return rule


def _minmax(fn, pick_first):
    def rule(a, b, **kwargs):
        x, y = _data(a), _data(b)
        out = fn(x, y)
        first = pick_first(x, y)
        parents = []
        if isinstance(a, DLArray):
            parents.append((a, lambda g: autodiff.unbroadcast(np.where(first, g, 0), x.shape)))
        if isinstance(b, DLArray):
            parents.append((b, lambda g: autodiff.unbroadcast(np.where(first, 0, g), y.shape)))
        return _result(out, _fmt_of(a, b), parents)
    return rule


_UFUNCS = {
    np.add: _binary(np.add, lambda g, x, y, o: g, lambda g, x, y, o: g),
    np.subtract: _binary(np.subtract, lambda g, x, y, o: g, lambda g, x, y, o: -g),
    np.multiply: _binary(np.multiply, lambda g, x, y, o: g * y, lambda g, x, y, o: g * x),
    np.divide: _binary(np.divide, lambda g, x, y, o: g / y, lambda g, x, y, o: -g * x / (y * y)),
    np.power: _power_rule,
    np.matmul: _matmul_rule,
    np.maximum: _minmax(np.maximum, lambda x, y: x >= y),
    np.minimum: _minmax(np.minimum, lambda x, y: x <= y),
    np.negative: _unary(np.negative, lambda g, x, o: -g),
    np.positive: _unary(np.positive, lambda g, x, o: g),
    np.exp: _unary(np.exp, lambda g, x, o: g * o),
    np.expm1: _unary(np.expm1, lambda g, x, o: g * (o + 1)),
    np.log: _unary(np.log, lambda g, x, o: g / x),
    np.log1p: _unary(np.log1p, lambda g, x, o: g / (1 + x)),
    np.sqrt: _unary(np.sqrt, lambda g, x, o: g / (2 * o)),
    np.square: _unary(np.square, lambda g, x, o: 2 * g * x),
    np.absolute: _unary(np.absolute, lambda g, x, o: g * np.sign(x)),
    np.tanh: _unary(np.tanh, lambda g, x, o: g * (1 - o * o)),
    np.sin: _unary(np.sin, lambda g, x, o: g * np.cos(x)),
    np.cos: _unary(np.cos, lambda g, x, o: -g * np.sin(x)),
    np.sign: _unary(np.sign, lambda g, x, o: None),
    np.less: _compare(np.less), np.less_equal: _compare(np.less_equal),
    np.greater: _compare(np.greater), np.greater_equal: _compare(np.greater_equal),
    np.equal: _compare(np.equal), np.not_equal: _compare(np.not_equal),
}


# -- the array functions with derivatives -----------------------------------------------------
def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, tuple) else (axis,)
    return tuple(a % ndim for a in axes)


def _reduced_fmt(a, axes, keepdims):
    fmt = _fmt_of(a)
    if not fmt or keepdims:
        return fmt
    return "".join(c for i, c in enumerate(fmt) if i not in axes)


def _sum(a, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
    x = _data(a)
    axes = _axes(axis, x.ndim)
    data = np.sum(x, axis=axes, keepdims=keepdims)

    def vjp(g):
        g = np.asarray(g)
        if not keepdims:
            g = np.expand_dims(g, axes)
        return np.broadcast_to(g, x.shape).copy()
    return _result(data, _reduced_fmt(a, axes, keepdims), [(a, vjp)])


def _mean(a, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
    x = _data(a)
    axes = _axes(axis, x.ndim)
    n = int(np.prod([x.shape[i] for i in axes])) if axes else 1
    return _sum(a, axis=axis, keepdims=keepdims) / n


def _reshape(a, shape, *args, **kwargs):
    x = _data(a)
    return _result(np.reshape(x, shape), "", [(a, lambda g: np.reshape(g, x.shape))])


def _transpose(a, axes=None):
    x = _data(a)
    axes = tuple(range(x.ndim))[::-1] if axes is None else tuple(a_ % x.ndim for a_ in axes)
    inverse = np.argsort(axes)
    fmt = _fmt_of(a)
    return _result(np.transpose(x, axes), "".join(fmt[i] for i in axes) if fmt else "",
                   [(a, lambda g: np.transpose(g, inverse))])


def _squeeze(a, axis=None):
    x = _data(a)
    return _result(np.squeeze(x, axis=axis), "", [(a, lambda g: np.reshape(g, x.shape))])


def _concatenate(arrays, axis=0, **kwargs):
    datas = [_data(v) for v in arrays]
    out = np.concatenate(datas, axis=axis)
    bounds = np.cumsum([0] + [d.shape[axis] for d in datas])
    parents = []
    for v, lo, hi in zip(arrays, bounds[:-1], bounds[1:]):
        if isinstance(v, DLArray):
            parents.append((v, lambda g, lo=lo, hi=hi: np.take(g, np.arange(lo, hi), axis=axis)))
    return _result(out, _fmt_of(*arrays), parents)


def _stack(arrays, axis=0, **kwargs):
    expanded = [np.expand_dims(v, axis) if isinstance(v, DLArray) else
                np.expand_dims(np.asarray(v), axis) for v in arrays]
    return _concatenate(expanded, axis=axis)


def _expand_dims(a, axis):
    x = _data(a)
    return _result(np.expand_dims(x, axis), "", [(a, lambda g: np.reshape(g, x.shape))])


def _where(condition, a, b):
    c = _data(condition).astype(bool)
    x, y = _data(a), _data(b)
    out = np.where(c, x, y)
    parents = []
    if isinstance(a, DLArray):
        parents.append((a, lambda g: autodiff.unbroadcast(np.where(c, g, 0), x.shape)))
    if isinstance(b, DLArray):
        parents.append((b, lambda g: autodiff.unbroadcast(np.where(c, 0, g), y.shape)))
    return _result(out, _fmt_of(a, b), parents)


def _clip(a, a_min, a_max, **kwargs):
    x = _data(a)
    lo = -np.inf if a_min is None else _data(a_min)
    hi = np.inf if a_max is None else _data(a_max)
    inside = (x >= lo) & (x <= hi)
    return _result(np.clip(x, lo, hi), _fmt_of(a), [(a, lambda g: np.where(inside, g, 0))])


_FUNCTIONS = {
    np.sum: _sum, np.mean: _mean, np.reshape: _reshape, np.transpose: _transpose,
    np.squeeze: _squeeze, np.concatenate: _concatenate, np.stack: _stack,
    np.expand_dims: _expand_dims, np.where: _where, np.clip: _clip,
    np.shape: lambda a: _data(a).shape, np.ndim: lambda a: _data(a).ndim,
    np.size: lambda a, axis=None: np.size(_data(a), axis),
}


# -- MATLAB's functions -------------------------------------------------------------------------
def _canonical(func, data, fmt):
    """Data permuted to MATLAB's stored order of a format (S, C, B, T, U), and that format."""
    if not isinstance(fmt, str):
        fail(func, f"`fmt` must be a str of dimension labels such as 'CBT'. Received: "
                   f"{_show(fmt)}.", TypeError)
    fmt = fmt.upper()
    bad = set(fmt) - set(LABELS)
    once = [c for c in "CBT" if fmt.count(c) > 1]
    if bad or once:
        fail(func, f"`fmt` must hold labels from S, C, B, T, U (C, B and T at most once). "
                   f"Received: fmt={fmt!r}.")
    if len(fmt) < data.ndim:
        fail(func, f"`fmt` {fmt!r} labels {len(fmt)} dimensions but the data has {data.ndim} "
                   f"(size {'x'.join(map(str, data.shape))}).")
    data = data.reshape(data.shape + (1,) * (len(fmt) - data.ndim))
    order = sorted(range(len(fmt)), key=lambda i: (_RANK[fmt[i]], i))
    return np.transpose(data, order), "".join(fmt[i] for i in order)


@checked_call
def dlarray(X: Any, fmt: str = "") -> DLArray:
    """A deep learning array, as MATLAB's ``dlarray(X)`` and ``dlarray(X, fmt)``.

    Parameters
    ----------
    X : array_like or DLArray
        Real numbers (float32 and float64 kept; other numbers become
        float64).  A dlarray is relabelled (its data kept).
    fmt : str, optional
        One label per dimension of X, from 'S', 'C', 'B', 'T', 'U' (such as
        'CBT' or 'TCB'); trailing labels may stand for dimensions of size 1.
        The data are stored in the order S, C, B, T, U, as MATLAB stores
        them.  Omitted: an unformatted dlarray.

    Returns
    -------
    DLArray

    Examples
    --------
    >>> import numpy as np
    >>> from lstmkit import dlarray, dims
    >>> X = dlarray(np.zeros((5, 3, 2)), "TCB")       # time by channels by observations
    >>> dims(X), X.shape
    ('CBT', (3, 2, 5))
    """
    func = "dlarray"
    if isinstance(X, DLArray):
        data = X._data
    else:
        try:
            data = np.asarray(X)
        except (TypeError, ValueError):
            data = None
        if data is None or data.dtype.kind not in "biuf":
            fail(func, f"`X` must be a real numeric array. Received: {_show(X)}.", TypeError)
        data = np.array(data, dtype=data.dtype if data.dtype.kind == "f" else np.float64)
    if fmt == "" or fmt is None:
        return DLArray(data, "", X._node if isinstance(X, DLArray) else None)
    out, canon = _canonical(func, data, fmt)
    if isinstance(X, DLArray) and X._node is not None:
        order = sorted(range(len(fmt)), key=lambda i: (_RANK[fmt.upper()[i]], i))
        inverse = np.argsort(order)
        return _result(out, canon, [(X, lambda g: np.reshape(np.transpose(g, inverse),
                                                             data.shape))])
    return DLArray(out, canon, None)


def _check_dlarray(func, X, name="X"):
    if not isinstance(X, DLArray):
        fail(func, f"`{name}` must be a dlarray. Received: {_show(X)}.", TypeError)


@checked_call
def dims(X: DLArray) -> str:
    """The format of a dlarray, as MATLAB's ``dims`` ('' when unformatted).

    Parameters
    ----------
    X : DLArray

    Returns
    -------
    str

    Examples
    --------
    >>> from lstmkit import dlarray, dims
    >>> dims(dlarray([[1.0, 2.0]], "CB"))
    'CB'
    """
    _check_dlarray("dims", X)
    return X._fmt


@checked_call
def extractdata(X: Any) -> np.ndarray:
    """The numbers of a dlarray, as MATLAB's ``extractdata`` (a copy, outside any trace).

    Parameters
    ----------
    X : DLArray
        (A numeric array is returned as a copy too.)

    Returns
    -------
    ndarray

    Examples
    --------
    >>> from lstmkit import dlarray, extractdata
    >>> extractdata(dlarray([1.0, 2.0]))
    array([1., 2.])
    """
    if isinstance(X, DLArray):
        return np.array(X._data, copy=True)
    if isinstance(X, np.ndarray) or isinstance(X, numbers.Real):
        return np.array(X, copy=True)
    fail("extractdata", f"`X` must be a dlarray. Received: {_show(X)}.", TypeError)


@checked_call
def stripdims(X: DLArray) -> DLArray:
    """The dlarray without its format, as MATLAB's ``stripdims`` (traced as before).

    Parameters
    ----------
    X : DLArray

    Returns
    -------
    DLArray

    Examples
    --------
    >>> from lstmkit import dlarray, dims, stripdims
    >>> dims(stripdims(dlarray([[1.0, 2.0]], "CB")))
    ''
    """
    _check_dlarray("stripdims", X)
    return _result(X._data, "", [(X, lambda g: g)]) if X._node is not None else \
        DLArray(X._data, "", None)


@checked_call
def finddim(X: DLArray, label: str) -> np.ndarray:
    """The dimensions of a dlarray with a label, as MATLAB's ``finddim`` (1-based, as MATLAB).

    Parameters
    ----------
    X : DLArray
    label : {'S', 'C', 'B', 'T', 'U'}

    Returns
    -------
    ndarray of int64
        The 1-based dimension numbers (empty when none has the label).

    Examples
    --------
    >>> from lstmkit import dlarray, finddim
    >>> finddim(dlarray([[1.0, 2.0]], "CB"), "B")
    array([2])
    """
    _check_dlarray("finddim", X)
    if not isinstance(label, str) or len(label) != 1 or label.upper() not in LABELS:
        fail("finddim", f"`label` must be one of 'S', 'C', 'B', 'T', 'U'. Received: "
                        f"{_show(label)}.")
    return np.array([i + 1 for i, c in enumerate(X._fmt) if c == label.upper()], np.int64)


@checked_call
def sigmoid(X: Any) -> Any:
    """The logistic function, as MATLAB's ``sigmoid`` (traced on dlarrays).

    Parameters
    ----------
    X : DLArray or array_like

    Returns
    -------
    DLArray

    Examples
    --------
    >>> from lstmkit import dlarray, extractdata, sigmoid
    >>> extractdata(sigmoid(dlarray([0.0])))
    array([0.5])
    """
    x = _data(X).astype(_float_dtype(_data(X)), copy=False)
    out = 0.5 * np.tanh(0.5 * x) + 0.5
    return _result(out, _fmt_of(X), [(X, lambda g: g * out * (1 - out))])


@checked_call
def relu(X: Any) -> Any:
    """max(X, 0), as MATLAB's ``relu`` (traced on dlarrays; the derivative at 0 is 0).

    Parameters
    ----------
    X : DLArray or array_like

    Returns
    -------
    DLArray

    Examples
    --------
    >>> from lstmkit import dlarray, extractdata, relu
    >>> extractdata(relu(dlarray([-1.0, 2.0])))
    array([0., 2.])
    """
    x = _data(X)
    return _result(np.maximum(x, 0), _fmt_of(X), [(X, lambda g: np.where(x > 0, g, 0))])


@checked_call
def softmax(X: Any, *, DataFormat: str | None = None) -> Any:
    """Softmax over the channel dimension, as MATLAB's ``softmax`` (traced on dlarrays).

    Parameters
    ----------
    X : DLArray or array
        Formatted with a 'C' dimension, or give ``DataFormat``.
    DataFormat : str, optional
        The format of unformatted data.

    Returns
    -------
    DLArray
        Each channel vector's softmax.

    Examples
    --------
    >>> import numpy as np
    >>> from lstmkit import dlarray, extractdata, softmax
    >>> extractdata(softmax(dlarray(np.zeros((2, 3)), "CB")))[:, 0]
    array([0.5, 0.5])
    """
    func = "softmax"
    fmt = _fmt_of(X) or (DataFormat.upper() if isinstance(DataFormat, str) else "")
    if "C" not in fmt or len(fmt) != _data(X).ndim:
        fail(func, f"`X` needs a format with a 'C' dimension (a formatted dlarray, or "
                   f"DataFormat). Received: format {fmt!r} for {np.ndim(_data(X))} dimensions.")
    axis = fmt.index("C")
    x = _data(X)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    out = e / np.sum(e, axis=axis, keepdims=True)

    def vjp(g):
        return out * (g - np.sum(g * out, axis=axis, keepdims=True))
    return _result(out, _fmt_of(X), [(X, vjp)])


# -- dlfeval and dlgradient ---------------------------------------------------------------------
def _map_structure(value, fn, tables=False):
    """``fn`` applied to every item of nested lists, tuples and dicts (and, with ``tables``,
    the Value column of Learnables-layout tables), the structure kept."""
    if isinstance(value, list):
        return [_map_structure(v, fn, tables) for v in value]
    if isinstance(value, tuple):
        return tuple(_map_structure(v, fn, tables) for v in value)
    if isinstance(value, dict):
        return {k: _map_structure(v, fn, tables) for k, v in value.items()}
    if tables:
        if isinstance(value, Table) and "Value" in value.VariableNames:
            from .dlforward import gradient_table
            return gradient_table(value, [_map_structure(v, fn, tables) for v in value.Value])
    return fn(value)


def _trace_args(value, tape, networks):
    from .dlnetwork import DLNetwork

    def trace(item):
        if isinstance(item, DLNetwork):
            from .dlforward import trace_network
            trace_network(item, tape)
            networks.append(item)
        elif isinstance(item, DLArray):
            return DLArray(item._data, item._fmt, autodiff.leaf(tape))
        return item
    return _map_structure(value, trace)


def _untrace(value):
    return _map_structure(value, lambda item: DLArray(item._data, item._fmt, None)
                          if isinstance(item, DLArray) else item, tables=True)


@checked_call
def dlfeval(fcn: Any, *args: Any) -> Any:
    """Evaluate a function with automatic differentiation, as MATLAB's ``dlfeval``.

    The dlarray arguments (also inside lists, tuples and dicts) are traced
    while ``fcn`` runs, so :func:`dlgradient` can be called inside it.

    Parameters
    ----------
    fcn : callable
        The function (a model-loss function).
    *args
        Its arguments; dlarrays among them are traced.

    Returns
    -------
    object
        What ``fcn`` returns (MATLAB's ``[a, b] = dlfeval(@f, ...)`` is
        ``a, b = dlfeval(f, ...)`` for a function returning a tuple), its
        dlarrays no longer traced.

    Examples
    --------
    >>> import numpy as np
    >>> from lstmkit import dlarray, dlfeval, dlgradient, extractdata
    >>> def f(x):
    ...     y = np.sum(x ** 2)
    ...     return y, dlgradient(y, x)
    >>> y, g = dlfeval(f, dlarray([1.0, 2.0]))
    >>> float(y), extractdata(g)
    (5.0, array([2., 4.]))
    """
    if not callable(fcn):
        fail("dlfeval", f"`fcn` must be a function. Received: {_show(fcn)}.", TypeError)
    networks = []
    try:
        with autodiff.recording() as tape:
            out = fcn(*_trace_args(list(args), tape, networks))
    finally:
        from .dlforward import untrace_network
        for net in networks:
            untrace_network(net)
    return _untrace(out)


def _collect_traced(func, tape, x, where, leaves):
    """Append the traced dlarrays of ``x`` (nested lists, tuples, dicts, Learnables tables)
    to ``leaves``; anything else, or a dlarray not traced on ``tape``, is an error naming
    ``where``.  (A module function: a recursive closure would be a reference cycle holding
    the whole trace, with the network's forward caches, until the garbage collector ran.)"""
    if isinstance(x, DLArray):
        if x._node is None or x._node.tape is not tape:
            fail(func, f"{where} is not traced: it must be a dlfeval argument or computed "
                       f"from one.", ValueError)
        leaves.append(x)
    elif isinstance(x, (list, tuple)):
        for i, v in enumerate(x):
            _collect_traced(func, tape, v, f"{where}[{i}]", leaves)
    elif isinstance(x, dict):
        for k, v in x.items():
            _collect_traced(func, tape, v, f"{where}[{k!r}]", leaves)
    elif isinstance(x, Table) and "Value" in x.VariableNames:
        for i, v in enumerate(x.Value):
            _collect_traced(func, tape, v, f"{where}.Value[{i}]", leaves)
    else:
        fail(func, f"{where} must be a traced dlarray (or a list, tuple or dict of them). "
                   f"Received: {_show(x)}.", TypeError)


@checked_call
def dlgradient(y: DLArray, *xs: Any, RetainData: bool = False,
               EnableHigherDerivatives: bool = False) -> Any:
    """Gradients of a traced real scalar, as MATLAB's ``dlgradient`` (inside :func:`dlfeval`).

    Parameters
    ----------
    y : DLArray
        A traced scalar computed from the dlfeval arguments.
    *xs : DLArray, or lists, tuples or dicts of them
        Traced values; each gradient has the shape, format and structure of
        its x.  A value y does not depend on gets a zero gradient.
    RetainData : bool, default False
        Keep the trace for another dlgradient call; without it, a second call
        in the same dlfeval is an error.
    EnableHigherDerivatives : bool, default False
        Not supported: lstmkit computes first derivatives.

    Returns
    -------
    DLArray, or a tuple of them for several xs (MATLAB's ``[g1, g2] = dlgradient(y, x1, x2)``)

    Examples
    --------
    >>> import numpy as np
    >>> from lstmkit import dlarray, dlfeval, dlgradient, extractdata
    >>> g = dlfeval(lambda x: dlgradient(np.sum(np.exp(x)), x), dlarray([0.0, 1.0]))
    >>> np.round(extractdata(g), 4)
    array([1.    , 2.7183])
    """
    func = "dlgradient"
    tape = autodiff.current_tape()
    if tape is None:
        fail(func, "call dlgradient inside a function evaluated by dlfeval, such as "
                   "dlfeval(modelLoss, net, X, T).", RuntimeError)
    if EnableHigherDerivatives:
        fail(func, "EnableHigherDerivatives=True is not supported: lstmkit computes first "
                   "derivatives.")
    if not isinstance(RetainData, (bool, np.bool_)):
        fail(func, f"`RetainData` must be True or False. Received: {_show(RetainData)}.",
             TypeError)
    if not isinstance(y, DLArray):
        fail(func, f"`y` must be a traced dlarray (a value computed inside dlfeval from its "
                   f"dlarray arguments). Received: {_show(y)}.", TypeError)
    if np.iscomplexobj(y._data) or y.size != 1:
        fail(func, f"`y` must be a real scalar. Received: a "
                   f"{'complex ' if np.iscomplexobj(y._data) else ''}dlarray of size "
                   f"{'x'.join(map(str, y.shape)) or '1'}.")
    if not xs:
        fail(func, "give the values to differentiate with respect to: dlgradient(y, x1, ...).",
             TypeError)
    if tape.freed:
        fail(func, "the trace was freed by an earlier dlgradient call in this dlfeval; pass "
                   "RetainData=True to that call to take more gradients.", RuntimeError)
    leaves = []
    for i, x in enumerate(xs):
        _collect_traced(func, tape, x, f"x{i + 1}" if len(xs) > 1 else "x", leaves)
    if y._node is None or y._node.tape is not tape:
        grads = [None] * len(leaves)
    else:
        grads = autodiff.backward(y._node, np.ones_like(y._data), [x._node for x in leaves])
    if not RetainData:
        tape.freed = True
    results = iter(DLArray(np.zeros_like(x._data) if g is None else
                           np.asarray(g, dtype=x.dtype).reshape(x.shape), x._fmt, None)
                   for x, g in zip(leaves, grads))
    out = tuple(_map_structure(x, lambda _: next(results), tables=True) for x in xs)
    return out[0] if len(out) == 1 else out
