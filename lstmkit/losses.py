"""Loss functions: MATLAB's dlarray losses, trainnet's loss names, and loss functions for trainnet.

Two uses, one definition of each loss:

* On numbers, as MATLAB's dlarray functions: ``crossentropy(Y, T)``,
  ``l2loss(Y, T)``, ``l1loss``, ``huber``, ``mse`` with ``DataFormat`` (or
  lstmkit's default, channels last), class weights (``WeightsFormat="C"``),
  observation weights (``"B"``) or weights of every element, and MATLAB's
  ``NormalizationFactor``.  They return a float.
* As trainnet's ``lossFcn``: a name (``"crossentropy"``, ``"mse"``, ...) or a
  Python function of the network output and the targets,
  ``lambda Y, T: crossentropy(Y, T, w, WeightsFormat="C")``.  trainnet calls
  such a function once, with symbols for Y and T; what it returns, a sum of
  the loss functions above with constant factors, is a :class:`LossExpression`
  that trainnet evaluates on every mini-batch with its exact gradient.  Any
  other operation on Y or T is an error that says what is supported.

trainnet's names normalize as MATLAB documents for trainnet (unverified
against MATLAB itself, see the README): "crossentropy" and
"index-crossentropy" divide by the number of non-channel elements of the
output (observations, or their time steps for sequence output);
"binary-crossentropy", "mse"/"mean-squared-error"/"l2loss",
"mae"/"mean-absolute-error"/"l1loss" and "huber" by the number of elements
of the output.  The functions' default ``NormalizationFactor`` is
"batch-size" (the number of observations), as MATLAB's dlarray functions.
Padded time steps never exist in lstmkit, so they never enter a loss and
never count in a normalization.
"""

from __future__ import annotations

import difflib
import numbers
from typing import Any, Literal

import numpy as np

from ._validation import _show, check_choice, check_real, fail, name_value_function, size_text
from ._typing import ArrayLike

#: trainnet's loss names -> (kind, normalization)
LOSS_NAMES = {
    "crossentropy": ("crossentropy", "non-channel"),
    "index-crossentropy": ("crossentropy", "non-channel"),
    "binary-crossentropy": ("binary-crossentropy", "all-elements"),
    "mse": ("l2", "all-elements"),
    "mean-squared-error": ("l2", "all-elements"),
    "l2loss": ("l2", "all-elements"),
    "mae": ("l1", "all-elements"),
    "mean-absolute-error": ("l1", "all-elements"),
    "l1loss": ("l1", "all-elements"),
    "huber": ("huber", "all-elements"),
}

CLASSIFICATION_KINDS = ("crossentropy", "binary-crossentropy")
NORMALIZATIONS = ("batch-size", "all-elements", "mask-included", "none")


class NotDifferentiable(TypeError):
    """A loss function did something trainnet cannot differentiate (the message says what)."""


# -- the terms ---------------------------------------------------------------------------------
class LossTerm:
    """One loss of (Y, T): its kind, options and the constant it is multiplied by."""

    def __init__(self, kind, normalization, weights=None, weights_format=None, delta=1.0,
                 coefficient=1.0, label="", output=0):
        self.kind = kind                        # crossentropy, binary-crossentropy, l2, l1, huber, mse
        self.normalization = normalization      # batch-size, all-elements, non-channel, none
        self.weights = weights                  # None or a 1-D array
        self.weights_format = weights_format    # None or 'C'
        self.delta = delta
        self.coefficient = coefficient
        self.label = label
        self.output = output                    # which network output (Y1, Y2, ...) it reads

    def scaled(self, factor):
        return LossTerm(self.kind, self.normalization, self.weights, self.weights_format,
                        self.delta, self.coefficient * factor, self.label, self.output)

    # evaluation on rows (M, K): y the output, t float targets or int class indices
    def divisor(self, n_obs, rows, K):
        norm = self.normalization
        if norm == "batch-size":
            return float(n_obs)
        if norm in ("all-elements", "mask-included"):
            return float(rows * K)
        if norm == "non-channel":
            return float(rows)
        return 1.0

    def value_and_grad(self, y, t, n_obs, rows=None, need_grad=True):
        """``(loss, dy)`` of this term (its coefficient included); ``rows`` normalizes.

        ``y`` is (M, K); ``t`` float targets of the same size or int class
        indices (M,).
        """
        M, K = y.shape
        rows = M if rows is None else rows
        scale = self.coefficient / self.divisor(n_obs, rows, K)
        if t.ndim == 1:          # class indices -> one-hot
            onehot = np.zeros_like(y)
            onehot[np.arange(M), t] = 1
            t = onehot
        t = t.astype(y.dtype, copy=False)
        elem, grad = elements(self.kind, y, t, self.delta, need_grad)
        if self.weights is not None:
            w = self.weights.astype(y.dtype, copy=False).reshape(1, K)
            elem = elem * w
            if need_grad:
                grad = grad * w
        loss = float(np.sum(elem, dtype=np.float64)) * scale
        if need_grad:
            grad *= scale
        return loss, grad


def elements(kind, y, t, delta=1.0, need_grad=False):
    """Every element's loss (unreduced, unnormalized) and, if asked, its derivative in y."""
    if kind in ("crossentropy", "binary-crossentropy"):
        tiny = np.finfo(y.dtype).tiny
        p = np.maximum(y, tiny)
        if kind == "crossentropy":
            return -t * np.log(p), (-t / p if need_grad else None)
        q = np.maximum(1 - y, tiny)
        return (-(t * np.log(p) + (1 - t) * np.log(q)),
                (-t / p + (1 - t) / q) if need_grad else None)
    e = y - t
    if kind == "l2":
        return e * e, (2 * e if need_grad else None)
    if kind == "mse":
        return 0.5 * e * e, (e if need_grad else None)
    if kind == "l1":
        return np.abs(e), (np.sign(e) if need_grad else None)
    a = np.abs(e)           # huber
    return (np.where(a <= delta, 0.5 * e * e, delta * (a - 0.5 * delta)),
            np.clip(e, -delta, delta) if need_grad else None)


class LossExpression:
    """A sum of loss terms with constant factors: what a trainnet loss function returns.

    Supports ``+``, ``-``, multiplication and division by real constants and
    ``sum([...])``.  Evaluate it with :meth:`value_and_grad`.
    """

    def __init__(self, terms):
        self.terms = list(terms)

    def _combine(self, other, sign):
        if isinstance(other, LossExpression):
            return LossExpression(self.terms + [t.scaled(sign) for t in other.terms])
        if isinstance(other, numbers.Real) and other == 0:
            return self          # sum() starts from 0
        raise NotDifferentiable(f"a loss function may add only losses of (Y, T) "
                        f"(crossentropy, mse, l1loss, l2loss, huber); received a "
                        f"{type(other).__name__} ({_show(other)}). A constant does not change "
                        f"the gradient: leave it out.")

    def __add__(self, other):
        return self._combine(other, 1.0)

    __radd__ = __add__

    def __sub__(self, other):
        return self._combine(other, -1.0)

    def __rsub__(self, other):
        return LossExpression([t.scaled(-1.0) for t in self.terms])._combine(other, 1.0)

    def __neg__(self):
        return LossExpression([t.scaled(-1.0) for t in self.terms])

    def _factor(self, other, op):
        if isinstance(other, (bool, np.bool_)) or not isinstance(other, numbers.Real) or \
                not np.isfinite(other):
            raise NotDifferentiable(f"a loss may be {op} a finite real constant only; received "
                            f"{_show(other)}.")
        return float(other)

    def __mul__(self, other):
        f = self._factor(other, "multiplied by")
        return LossExpression([t.scaled(f) for t in self.terms])

    __rmul__ = __mul__

    def __truediv__(self, other):
        f = self._factor(other, "divided by")
        if f == 0:
            raise NotDifferentiable("the loss function divides a loss by zero.")
        return LossExpression([t.scaled(1.0 / f) for t in self.terms])

    def __float__(self):
        raise NotDifferentiable("the loss of the network output is only known during "
                        "training; a loss function must return the loss expression itself, "
                        "not a number made from it.")

    def __bool__(self):
        raise NotDifferentiable("a loss function cannot branch on the value of a loss "
                        "(no `if` on it): return a sum of losses with constant factors.")

    def __repr__(self):
        return " + ".join(f"{t.coefficient:g}*{t.label}" for t in self.terms)

    @property
    def kinds(self):
        return {t.kind for t in self.terms}

    def outputs_used(self):
        """The network outputs the loss reads (indices)."""
        return sorted({t.output for t in self.terms})

    def value_and_grad_outputs(self, ys, ts, n_obs, rows, need_grad=True):
        """Loss of a network with several outputs, and its gradient for each.

        ``ys``, ``ts`` and ``rows`` are lists (one item per output); an
        output no term reads gets the gradient None.
        """
        total = 0.0
        grads = [None] * len(ys)
        for term in self.terms:
            o = term.output
            value, g = term.value_and_grad(ys[o], ts[o], n_obs, rows[o], need_grad)
            total += value
            if need_grad:
                grads[o] = g if grads[o] is None else grads[o] + g
        return total, grads

    def value_and_grad(self, y, t, n_obs, rows=None, need_grad=True):
        """Loss and its gradient with respect to ``y`` (rows by channels)."""
        total = 0.0
        grad = np.zeros_like(y) if need_grad else None
        for term in self.terms:
            value, g = term.value_and_grad(y, t, n_obs, rows, need_grad)
            total += value
            if need_grad:
                grad += g
        return total, grad


class Symbol:
    """Stands for a network output (Y) or its targets (T) while trainnet reads a loss function."""

    def __init__(self, role, index=0, count=1):
        self.role = role          # 'output' or 'targets'
        self.index = index        # which network output
        self.count = count        # how many outputs the network has

    def _refuse(self, *args, **kwargs):
        raise NotDifferentiable(
            f"it computes with the {self.role} (Y or T) directly; lstmkit "
            f"differentiates loss functions built from crossentropy, mse, l1loss, l2loss and "
            f"huber of (Y, T), combined by +, - and constant factors, such as "
            f"lambda Y, T: crossentropy(Y, T, w, WeightsFormat='C') + 0.1 * l1loss(Y, T). "
            f"Arithmetic on Y or T themselves arrives with dlarray (custom training loops).")

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _refuse
    __truediv__ = __rtruediv__ = __pow__ = __rpow__ = __neg__ = __abs__ = _refuse
    __matmul__ = __rmatmul__ = __getitem__ = __array__ = __float__ = __len__ = _refuse
    __lt__ = __le__ = __gt__ = __ge__ = _refuse
    __array_ufunc__ = None            # numpy functions on a Symbol give TypeError

    def __array_function__(self, func, types, args, kwargs):
        self._refuse()

    def __repr__(self):
        letter = "Y" if self.role == "output" else "T"
        return f"<trainnet {self.role} {letter}{self.index + 1 if self.count > 1 else ''}>"


# -- numeric evaluation (MATLAB's dlarray functions on numbers) --------------------------------
def _row_order(fmt):
    """Axis order that puts B first, C last and the rest between."""
    c = fmt.index("C")
    b = [fmt.index("B")] if "B" in fmt else []
    return b + [d for d in range(len(fmt)) if d != c and d not in b] + [c]


def _as_rows(func, Y, targets, fmt):
    """Y and targets as (M, C) rows: ``(y, t, N, row_obs, fmt, shape)``."""
    try:
        y = np.asarray(Y, dtype=np.float64)
    except (TypeError, ValueError):
        fail(func, f"`Y` must be a numeric array. Received: {_show(Y)}.", TypeError)
    if y.ndim == 0:
        y = y.reshape(1)
    if fmt is None:
        fmt = {1: "C", 2: "CB"}.get(y.ndim)
        if fmt is None:
            fail(func, f"`Y` has {y.ndim} dimensions: give DataFormat (such as 'CBT' or 'TCB') "
                       f"to say which holds the channels.")
    if not isinstance(fmt, str):
        fail(func, f"`DataFormat` must be a str such as 'CB'. Received: {_show(fmt)}.", TypeError)
    fmt = fmt.upper()
    if set(fmt) - set("SCBTU") or "C" not in fmt or len(set(fmt)) != len(fmt) or \
            len(fmt) < y.ndim:
        fail(func, f"`DataFormat` must hold a C and letters from S, B, T, U, each once, one per "
                   f"dimension of Y (size {size_text(y.shape)}). Received: DataFormat={fmt!r}.")
    y = y.reshape(y.shape + (1,) * (len(fmt) - y.ndim))   # trailing singleton dimensions
    try:
        t = np.asarray(targets, dtype=np.float64)
    except (TypeError, ValueError):
        fail(func, f"`targets` must be a numeric array the size of Y. Received: {_show(targets)}.",
             TypeError)
    if np.squeeze(t).shape != np.squeeze(y).shape:       # a transposed target is an error
        fail(func, f"`targets` must have the size of Y ({size_text(y.shape)}). Received: size "
                   f"{size_text(t.shape)}.")
    if not (np.isfinite(y).all() and np.isfinite(t).all()):
        fail(func, "`Y` and `targets` must be finite.")
    order = _row_order(fmt)
    C = y.shape[fmt.index("C")]
    N = y.shape[fmt.index("B")] if "B" in fmt else 1
    yb = np.transpose(y, order).reshape(-1, C)
    tb = np.transpose(t.reshape(y.shape), order).reshape(-1, C)
    row_obs = np.repeat(np.arange(N), yb.shape[0] // max(N, 1))
    return yb, tb, N, row_obs, fmt, y.shape


def _weights_rows(func, weights, weights_format, fmt, shape, C, N, row_obs, M):
    """Weights broadcastable to (M, C): per channel ('C'), per observation ('B'), or per element."""
    try:
        w = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError):
        fail(func, f"`weights` must be numeric. Received: {_show(weights)}.", TypeError)
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        fail(func, "`weights` must be finite and non-negative.")
    wf = weights_format.upper() if isinstance(weights_format, str) else None
    if wf is None:
        if w.size == C and w.size != N:
            wf = "C"
        elif w.size == N and w.size != C:
            wf = "B"
        elif w.size == int(np.prod(shape)) and w.size not in (C, N):
            wf = fmt
        else:
            fail(func, f"the layout of `weights` (size {size_text(w.shape)}) is ambiguous for Y "
                       f"of size {size_text(shape)}; give WeightsFormat ('C' for one weight per "
                       f"class, 'B' per observation).")
    if wf == "C":
        if w.size != C:
            fail(func, f"with WeightsFormat='C', `weights` must have one value per channel "
                       f"({C}). Received: {w.size} values.")
        return w.reshape(1, C)
    if wf == "B":
        if w.size != N:
            fail(func, f"with WeightsFormat='B', `weights` must have one value per observation "
                       f"({N}). Received: {w.size} values.")
        return w.reshape(-1)[row_obs].reshape(M, 1)
    if w.size == int(np.prod(shape)) and sorted(wf) == sorted(fmt):
        full = np.transpose(w.reshape([shape[fmt.index(c)] for c in wf]),
                            [wf.index(c) for c in fmt])
        return np.transpose(full, _row_order(fmt)).reshape(M, C)
    fail(func, f"`weights` of size {size_text(w.shape)} with WeightsFormat={weights_format!r} "
               f"do not fit Y of size {size_text(shape)} (format {fmt!r}).")


def _evaluate(func, kind, Y, targets, weights, DataFormat, WeightsFormat, normalization,
              delta=1.0):
    """A loss on numbers, as MATLAB's dlarray function (Reduction 'sum')."""
    y, t, N, row_obs, fmt, shape = _as_rows(func, Y, targets, DataFormat)
    M, C = y.shape
    elem, _ = elements(kind, y, t, delta)
    if weights is not None:
        elem = elem * _weights_rows(func, weights, WeightsFormat, fmt, shape, C, N, row_obs, M)
    return float(np.sum(elem)) / LossTerm(kind, normalization).divisor(N, M, C)


def _symbolic(func, kind, Y, targets, weights, DataFormat, WeightsFormat, normalization,
              delta=1.0):
    """The term a trainnet loss function builds from the output and target symbols."""
    if not (isinstance(Y, Symbol) and Y.role == "output" and isinstance(targets, Symbol)
            and targets.role == "targets"):
        fail(func, "inside a trainnet loss function, call it as " + func + "(Y, T, ...) with "
                   "the network output first and the targets second.", TypeError)
    if Y.index != targets.index:
        fail(func, f"inside a trainnet loss function, {func} takes an output and its own targets "
                   f"(Y{Y.index + 1} with T{Y.index + 1}); received Y{Y.index + 1} with "
                   f"T{targets.index + 1}.")
    if DataFormat is not None:
        fail(func, "inside a trainnet loss function the data formats are known; leave out "
                   "DataFormat.")
    w = None
    if weights is not None:
        if WeightsFormat is None or str(WeightsFormat).upper() != "C":
            fail(func, "inside a trainnet loss function lstmkit supports one weight per channel "
                       "(class): give WeightsFormat='C'. Received: "
                       f"WeightsFormat={WeightsFormat!r}.")
        try:
            w = np.asarray(weights, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            fail(func, f"`weights` must be numeric. Received: {_show(weights)}.", TypeError)
        if w.size == 0 or not np.all(np.isfinite(w)) or np.any(w < 0):
            fail(func, "`weights` must be finite and non-negative.")
    return LossExpression([LossTerm(kind, normalization, w, "C" if w is not None else None,
                                    delta, label=func, output=Y.index)])


def _traced(func, kind, Y, targets, weights, DataFormat, WeightsFormat, normalization,
            delta=1.0):
    """A loss of a dlarray Y: a scalar dlarray, recorded inside dlfeval (see :mod:`.dlarrays`)."""
    from .dlarrays import DLArray, _result
    fmt = DataFormat if DataFormat is not None else (Y._fmt or None)
    T = targets._data if isinstance(targets, DLArray) else targets
    y, t, N, row_obs, fmt, shape = _as_rows(func, Y._data, T, fmt)
    M, C = y.shape
    elem, grad = elements(kind, y, t, delta, need_grad=True)
    if weights is not None:
        w = weights._data if isinstance(weights, DLArray) else weights
        w = _weights_rows(func, w, WeightsFormat, fmt, shape, C, N, row_obs, M)
        elem, grad = elem * w, grad * w
    divisor = LossTerm(kind, normalization).divisor(N, M, C)
    order = _row_order(fmt)
    inverse = [order.index(d) for d in range(len(order))]
    dtype = Y.dtype

    def vjp(g):
        rows = grad * (float(np.sum(g)) / divisor)
        full = rows.reshape([shape[i] for i in order]).transpose(inverse)
        return full.reshape(Y.shape).astype(dtype, copy=False)
    def constant(name):
        def vjp_constant(g):
            fail("dlgradient", f"{func}: the gradient with respect to the loss's {name} is not "
                               f"supported (they are constants of the loss); differentiate with "
                               f"respect to Y's inputs.", TypeError)
        return vjp_constant
    parents = [(Y, vjp), (targets, constant("targets")), (weights, constant("weights"))]
    return _result(np.asarray(np.sum(elem) / divisor, dtype=dtype), "", parents)


def _loss_function(func, kind, Y, targets, weights, DataFormat, WeightsFormat,
                   NormalizationFactor, delta=1.0):
    norm = check_choice(func, "NormalizationFactor", NormalizationFactor, NORMALIZATIONS)
    from .dlarrays import DLArray
    if isinstance(Y, DLArray):
        run = _traced
    else:
        run = _symbolic if isinstance(Y, Symbol) or isinstance(targets, Symbol) else _evaluate
    return run(func, kind, Y, targets, weights, DataFormat, WeightsFormat, norm, delta)


# -- the public functions --------------------------------------------------------------------
@name_value_function()
def crossentropy(
    Y: ArrayLike, targets: ArrayLike, weights: ArrayLike | None = None, *name_value: Any,
    DataFormat: str | None = None,
    WeightsFormat: str | None = None,
    ClassificationMode: Literal["single-label", "multilabel"] = "single-label",
    NormalizationFactor: Literal["batch-size", "all-elements", "mask-included",
                                 "none"] = "batch-size",
) -> Any:
    r"""Cross-entropy loss, as MATLAB's dlarray ``crossentropy``.

    Parameters
    ----------
    Y : array_like or trainnet's output symbol
        Predicted probabilities (a softmax output for "single-label", a
        sigmoid or softmax output for "multilabel").
    targets : array_like or trainnet's target symbol
        One-hot (or probability) targets of the size of Y.
    weights : array_like, optional
        One weight per class (``WeightsFormat="C"``), per observation
        (``"B"``) or per element of Y.
    DataFormat : str, optional
        The layout of numeric Y (such as 'CB', 'CBT'); by default 'C' for a
        vector and 'CB' (channels by observations) for a matrix.
    WeightsFormat : str, optional
        The layout of the weights; inferred from their size when clear.
    ClassificationMode : {'single-label', 'multilabel'}, default 'single-label'
        'single-label': :math:`-\sum T \ln Y`; 'multilabel':
        :math:`-\sum T \ln Y + (1 - T) \ln(1 - Y)`.
    NormalizationFactor : {'batch-size', 'all-elements', 'mask-included', 'none'}
        Divide the sum by the number of observations (default), of elements,
        of unmasked elements (the same: lstmkit never pads), or not at all.

    Returns
    -------
    float, or a LossExpression inside a trainnet loss function

    Examples
    --------
    >>> import numpy as np
    >>> from lstmkit import crossentropy
    >>> Y = np.array([[0.7, 0.2], [0.3, 0.8]])        # 2 classes by 2 observations ('CB')
    >>> T = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> round(crossentropy(Y, T), 4)                  # -(ln 0.7 + ln 0.8) / 2
    0.2899
    >>> lossFcn = lambda Y, T: crossentropy(Y, T, [1, 3], WeightsFormat="C")  # for trainnet
    """
    func = "crossentropy"
    mode = check_choice(func, "ClassificationMode", ClassificationMode,
                        ("single-label", "multilabel"))
    kind = "crossentropy" if mode == "single-label" else "binary-crossentropy"
    return _loss_function(func, kind, Y, targets, weights, DataFormat, WeightsFormat,
                          NormalizationFactor)


def _regression_doc(name, formula, extra=""):
    return f"""{name}, as MATLAB's dlarray ``{{func}}``: :math:`{formula}` summed, then normalized.

    Parameters
    ----------
    Y : array_like or trainnet's output symbol
        Predictions.
    targets : array_like or trainnet's target symbol
        Targets of the size of Y.
    weights : array_like, optional
        One weight per channel (``WeightsFormat="C"``), per observation
        (``"B"``) or per element.{extra}
    DataFormat : str, optional
        The layout of numeric Y; by default 'C' for a vector, 'CB' (channels
        by observations) for a matrix.
    WeightsFormat : str, optional
    NormalizationFactor : {{'batch-size', 'all-elements', 'mask-included', 'none'}}
        Divide the sum by the number of observations (default), of elements,
        of unmasked elements (the same: lstmkit never pads), or not at all.

    Returns
    -------
    float, or a LossExpression inside a trainnet loss function
    """


@name_value_function()
def l2loss(
    Y: ArrayLike, targets: ArrayLike, weights: ArrayLike | None = None, *name_value: Any,
    DataFormat: str | None = None,
    WeightsFormat: str | None = None,
    NormalizationFactor: Literal["batch-size", "all-elements", "mask-included",
                                 "none"] = "batch-size",
) -> Any:
    return _loss_function("l2loss", "l2", Y, targets, weights, DataFormat, WeightsFormat,
                          NormalizationFactor)


@name_value_function()
def l1loss(
    Y: ArrayLike, targets: ArrayLike, weights: ArrayLike | None = None, *name_value: Any,
    DataFormat: str | None = None,
    WeightsFormat: str | None = None,
    NormalizationFactor: Literal["batch-size", "all-elements", "mask-included",
                                 "none"] = "batch-size",
) -> Any:
    return _loss_function("l1loss", "l1", Y, targets, weights, DataFormat, WeightsFormat,
                          NormalizationFactor)


@name_value_function()
def huber(
    Y: ArrayLike, targets: ArrayLike, weights: ArrayLike | None = None, *name_value: Any,
    DataFormat: str | None = None,
    WeightsFormat: str | None = None,
    TransitionPoint: float = 1.0,
    NormalizationFactor: Literal["batch-size", "all-elements", "mask-included",
                                 "none"] = "batch-size",
) -> Any:
    delta = check_real("huber", "TransitionPoint", TransitionPoint, low=0.0, low_open=True)
    return _loss_function("huber", "huber", Y, targets, weights, DataFormat, WeightsFormat,
                          NormalizationFactor, delta)


@name_value_function()
def mse(Y: ArrayLike, targets: ArrayLike, *name_value: Any,
        DataFormat: str | None = None) -> Any:
    r"""Half mean squared error, as MATLAB's dlarray ``mse``: :math:`\frac{1}{2N}\sum (Y - T)^2`.

    N is the number of observations.  (trainnet's loss name "mse" is the
    mean over all elements instead, without the half: see
    :mod:`lstmkit.losses`.)

    Parameters
    ----------
    Y : array_like or trainnet's output symbol
    targets : array_like or trainnet's target symbol
    DataFormat : str, optional
        The layout of numeric Y; by default 'C' for a vector, 'CB' for a matrix.

    Returns
    -------
    float, or a LossExpression inside a trainnet loss function

    Examples
    --------
    >>> import numpy as np
    >>> from lstmkit import mse
    >>> mse(np.array([[1.0, 2.0]]), np.array([[0.0, 0.0]]))   # 1 channel, 2 observations
    1.25
    """
    return _loss_function("mse", "mse", Y, targets, None, DataFormat, None, "batch-size")


l2loss.__doc__ = _regression_doc("L2 loss (sum of squared errors)", "(Y - T)^2").replace(
    "{func}", "l2loss") + """
    Examples
    --------
    >>> import numpy as np
    >>> from lstmkit import l2loss
    >>> l2loss(np.array([[1.0, 2.0]]), np.zeros((1, 2)))      # (1 + 4) / 2 observations
    2.5
    >>> l2loss(np.array([[1.0, 2.0]]), np.zeros((1, 2)), NormalizationFactor="none")
    5.0
"""
l1loss.__doc__ = _regression_doc("L1 loss (sum of absolute errors)", "|Y - T|").replace(
    "{func}", "l1loss") + """
    Examples
    --------
    >>> import numpy as np
    >>> from lstmkit import l1loss
    >>> l1loss(np.array([[1.0, -2.0]]), np.zeros((1, 2)))
    1.5
"""
huber.__doc__ = _regression_doc(
    "Huber loss", "\\tfrac12 e^2 \\text{ if } |e| \\le \\delta \\text{ else } "
    "\\delta (|e| - \\tfrac12 \\delta)",
    "\n    TransitionPoint : float, default 1\n        :math:`\\delta`, where the loss turns "
    "from quadratic to linear.").replace("{func}", "huber") + """
    Examples
    --------
    >>> import numpy as np
    >>> from lstmkit import huber
    >>> huber(np.array([[0.5, 3.0]]), np.zeros((1, 2)))       # (0.125 + 2.5) / 2
    1.3125
"""


# -- trainnet's lossFcn ----------------------------------------------------------------------
def make_loss(func, lossFcn, num_outputs=1):
    """trainnet's ``lossFcn`` as ``(LossExpression, name)``: a loss name or a loss function.

    A network with several outputs takes a function of all of them and their
    targets, ``f(Y1, ..., Yn, T1, ..., Tn)``, as MATLAB's trainnet does.
    """
    if isinstance(lossFcn, str) and num_outputs > 1:
        fail(func, f"the network has {num_outputs} outputs, so `lossFcn` must be a function of "
                   f"the outputs and their targets, such as lambda Y1, Y2, T1, T2: "
                   f"crossentropy(Y1, T1) + mse(Y2, T2). Received: lossFcn={lossFcn!r}.")
    if isinstance(lossFcn, str):
        key = lossFcn.lower()
        if key not in LOSS_NAMES:
            close = difflib.get_close_matches(key, LOSS_NAMES, n=1)
            fail(func, f"`lossFcn` must be one of {', '.join(repr(n) for n in LOSS_NAMES)} or a "
                       f"function of (Y, T). Received: lossFcn={lossFcn!r}."
                       + (f" Did you mean {close[0]!r}?" if close else ""))
        kind, norm = LOSS_NAMES[key]
        return LossExpression([LossTerm(kind, norm, label=key)]), key
    if isinstance(lossFcn, LossExpression):
        fail(func, "`lossFcn` must be a loss name or a function of (Y, T); received a loss "
                   "expression: pass `lambda Y, T: ...` instead.", TypeError)
    if not callable(lossFcn):
        fail(func, f"`lossFcn` must be a loss name such as 'crossentropy' or 'mse', or a function "
                   f"of (Y, T). Received: {_show(lossFcn)}.", TypeError)
    symbols = ([Symbol("output", i, num_outputs) for i in range(num_outputs)] +
               [Symbol("targets", i, num_outputs) for i in range(num_outputs)])
    try:
        expression = lossFcn(*symbols)
    except NotDifferentiable as err:
        raise TypeError(f"{func}: the loss function cannot be differentiated: {err}") from None
    except (TypeError, ValueError) as err:
        if str(err).split(":")[0] in ("crossentropy", "l2loss", "l1loss", "huber", "mse"):
            raise
        form = "f(Y, T)" if num_outputs == 1 else \
            f"f(Y1, ..., Y{num_outputs}, T1, ..., T{num_outputs})"
        raise TypeError(f"{func}: calling the loss function as {form} failed: {err}. lstmkit "
                        f"supports functions of the network output and the targets built from "
                        f"crossentropy, mse, l1loss, l2loss and huber.") from None
    except Exception as err:
        raise ValueError(f"{func}: the loss function raised {type(err).__name__}: {err}") \
            from err
    if not isinstance(expression, LossExpression):
        fail(func, f"the loss function must return a loss built from crossentropy, mse, l1loss, "
                   f"l2loss and huber of (Y, T). It returned {_show(expression)}.", TypeError)
    return expression, getattr(lossFcn, "__name__", "custom")
