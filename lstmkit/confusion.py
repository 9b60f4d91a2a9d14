"""confusionmat and confusionchart: the last lines of MATLAB's classification scripts.

``confusionmat`` counts, ``confusionchart`` draws MATLAB's chart with matplotlib:
true classes in rows, predicted classes in columns, diagonal cells shaded in
MATLAB's blue and off-diagonal cells in its orange-red, by their value, with
optional row and column summaries (per-class recall and precision).
"""

from __future__ import annotations

import numbers
from typing import Any, Literal, Sequence

import numpy as np

from ._validation import (_show, check_choice, check_nargout, fail, name_value_function,
                          select_outputs, size_text)

_DIAGONAL = (0.0, 0.4470, 0.7410)
_OFF_DIAGONAL = (0.8500, 0.3250, 0.0980)
_NORMALIZATIONS = ("absolute", "row-normalized", "column-normalized", "total-normalized")
_ROW_SUMMARIES = ("off", "absolute", "row-normalized", "total-normalized")
_COLUMN_SUMMARIES = ("off", "absolute", "column-normalized", "total-normalized")


def _labels(func, name, value):
    """A 1-D array of labels (str or numbers); missing values marked by a mask."""
    if isinstance(value, (list, tuple)) and value and all(np.ndim(v) >= 1 for v in value):
        fail(func, f"`{name}` holds {len(value)} label sequences; confusion matrices count "
                   f"single labels. Concatenate them first: np.concatenate({name}).", TypeError)
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):
        fail(func, f"`{name}` must be a 1-D array of labels. Received: {_show(value)}.",
             TypeError)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        fail(func, f"`{name}` must be a vector of labels. Received: size {size_text(arr.shape)}.")
    if arr.dtype.kind == "O":
        if all(isinstance(v, str) or v is None for v in arr):
            missing = np.array([v is None or v == "" for v in arr], dtype=bool)
            return np.array(["" if v is None else v for v in arr], dtype=str), missing
        if all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in arr):
            arr = arr.astype(np.float64)
        else:
            fail(func, f"`{name}` must hold labels that are all str or all numbers. "
                       f"Received: {_show(list(arr[:5]))}.", TypeError)
    if arr.dtype.kind == "S":
        arr = arr.astype(str)
    if arr.dtype.kind == "U":
        return arr, arr == ""
    if arr.dtype.kind in "iub":
        return arr, np.zeros(arr.shape, dtype=bool)
    if arr.dtype.kind == "f":
        return arr, np.isnan(arr)
    fail(func, f"`{name}` must hold class labels (str or numbers). Received: {_show(arr)}.",
         TypeError)


def _count(func, true, predicted, order):
    t, t_missing = _labels(func, "group", true)
    p, p_missing = _labels(func, "grouphat", predicted)
    if t.size != p.size:
        fail(func, f"`group` and `grouphat` must have the same number of labels. Received: "
                   f"{t.size} and {p.size}.")
    if (t.dtype.kind == "U") != (p.dtype.kind == "U"):
        fail(func, "`group` and `grouphat` must both hold str labels or both numbers.", TypeError)
    keep = ~(t_missing | p_missing)
    t, p = t[keep], p[keep]
    present = np.unique(np.concatenate([t, p]))
    if order is None:
        classes = present
    else:
        classes, _ = _labels(func, "Order", order)
        if (classes.dtype.kind == "U") != (present.dtype.kind == "U") and present.size:
            fail(func, "`Order` must hold labels of the same kind (str or numbers) as the groups.",
                 TypeError)
        if np.unique(classes).size != classes.size:
            fail(func, "`Order` must not repeat a label.")
        absent = np.setdiff1d(present, classes)
        if absent.size:
            fail(func, f"`Order` must contain every label of the groups; it lacks "
                       f"{', '.join(map(repr, absent[:5].tolist()))}.")
    index = {c: k for k, c in enumerate(classes.tolist())}
    C = np.zeros((len(classes), len(classes)), dtype=np.int64)
    np.add.at(C, ([index[v] for v in t.tolist()], [index[v] for v in p.tolist()]), 1)
    return C, classes


@name_value_function()
def confusionmat(group: Any, grouphat: Any, *name_value: Any, Order: Any = None,
                 nargout: int = 1) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Confusion matrix, as MATLAB's ``confusionmat``.

    Parameters
    ----------
    group : array_like of labels
        True labels (str or numbers), as trainNetwork's ``Y`` or ``YTest``.
    grouphat : array_like of labels
        Predicted labels, as :func:`classify` returns them.
    Order : array_like of labels, optional
        The order of the rows and columns; it must contain every label that
        occurs.  Default: the sorted labels of both groups.
    nargout : {1, 2}, default 1
        MATLAB's number of outputs: 2 also returns the order.

    Returns
    -------
    C : ndarray of int64, shape (K, K)
        ``C[i, j]`` counts observations of true class i predicted as class j.
    order : ndarray, shape (K,)
        The class of each row and column (with ``nargout=2``).

    Notes
    -----
    As in MATLAB, missing labels (NaN, an empty string, None) in either group
    are left out.

    Examples
    --------
    >>> from lstmkit import confusionmat
    >>> confusionmat(["a", "b", "b", "c"], ["a", "b", "c", "c"])
    array([[1, 0, 0],
           [0, 1, 1],
           [0, 0, 1]])
    >>> C, order = confusionmat([1, 2, 2], [2, 2, 2], nargout=2)
    >>> order
    array([1, 2])
    """
    func = "confusionmat"
    nargout = check_nargout(func, nargout, 2)
    return select_outputs(_count(func, group, grouphat, Order), nargout)


class ConfusionMatrixChart:
    """The chart :func:`confusionchart` returns (MATLAB's ``ConfusionMatrixChart``).

    Setting ``Normalization``, ``RowSummary``, ``ColumnSummary``, ``Title``,
    ``XLabel``, ``YLabel``, ``DiagonalColor``, ``OffDiagonalColor`` or
    ``FontSize`` redraws it, as in MATLAB (``cm.RowSummary =
    "row-normalized"``).

    Attributes
    ----------
    NormalizedValues : ndarray of shape (K, K)
        The counts (read-only; MATLAB's name).
    ClassLabels : ndarray of shape (K,)
        The class of each row and column.
    Parent : matplotlib.axes.Axes
        The axes the chart is drawn in.
    """

    _REDRAW = ("Normalization", "RowSummary", "ColumnSummary", "Title", "XLabel", "YLabel",
               "DiagonalColor", "OffDiagonalColor", "FontSize")

    def __init__(self, counts, labels, axes, props):
        object.__setattr__(self, "_counts", counts)
        object.__setattr__(self, "ClassLabels", labels)
        object.__setattr__(self, "Parent", axes)
        for key, value in props.items():
            object.__setattr__(self, key, value)
        self._draw()

    @property
    def NormalizedValues(self):
        return self._counts.copy()

    @property
    def Figure(self):
        """The matplotlib figure holding the chart."""
        return self.Parent.figure

    def __setattr__(self, name, value):
        if name not in self._REDRAW:
            raise AttributeError(f"ConfusionMatrixChart has no settable property '{name}'; "
                                 f"settable: {', '.join(self._REDRAW)}.")
        checked = _check_chart_options("ConfusionMatrixChart", {**self._props(), name: value})
        object.__setattr__(self, name, checked[name])
        self._draw()

    def _props(self):
        return {k: getattr(self, k) for k in self._REDRAW}

    def sortClasses(self, order: str | Sequence = "auto") -> None:
        """Reorder the classes, as MATLAB's ``sortClasses(cm, order)``.

        Parameters
        ----------
        order : str or array_like
            'auto' (sorted labels), 'ascending-diagonal', 'descending-diagonal'
            (by the diagonal's values), or the labels in the order wanted.
        """
        func = "sortClasses"
        if isinstance(order, str):
            order = check_choice(func, "order", order,
                                 ("auto", "ascending-diagonal", "descending-diagonal", "cluster"))
            if order == "cluster":
                fail(func, "order 'cluster' is not supported by lstmkit; use 'auto', "
                           "'ascending-diagonal', 'descending-diagonal' or a list of labels.")
            diag = np.diag(self._counts)
            if order == "auto":
                perm = np.argsort(self.ClassLabels, kind="stable")
            elif order == "ascending-diagonal":
                perm = np.argsort(diag, kind="stable")
            else:
                perm = np.argsort(-diag, kind="stable")
        else:
            wanted, _ = _labels(func, "order", order)
            current = self.ClassLabels.tolist()
            if sorted(map(str, wanted.tolist())) != sorted(map(str, current)):
                fail(func, f"`order` must list every class exactly once: "
                           f"{', '.join(map(repr, current))}.")
            position = {str(c): k for k, c in enumerate(current)}
            perm = np.array([position[str(c)] for c in wanted.tolist()])
        object.__setattr__(self, "_counts", self._counts[np.ix_(perm, perm)])
        object.__setattr__(self, "ClassLabels", self.ClassLabels[perm])
        self._draw()

    # -- drawing -------------------------------------------------------------------------
    def _values(self):
        C = self._counts.astype(np.float64)
        mode = self.Normalization
        with np.errstate(invalid="ignore", divide="ignore"):
            if mode == "row-normalized":
                return np.nan_to_num(C / C.sum(axis=1, keepdims=True))
            if mode == "column-normalized":
                return np.nan_to_num(C / C.sum(axis=0, keepdims=True))
            if mode == "total-normalized":
                return C / max(C.sum(), 1.0)
        return C

    def _draw(self):
        from matplotlib.colors import to_rgb
        ax = self.Parent
        ax.clear()
        K = len(self.ClassLabels)
        values = self._values()
        percent = self.Normalization != "absolute"
        top = values.max() if values.size and values.max() > 0 else 1.0
        diag, off = np.array(to_rgb(self.DiagonalColor)), np.array(to_rgb(self.OffDiagonalColor))
        size = self.FontSize
        for i in range(K):
            for j in range(K):
                v = values[i, j]
                self._cell(ax, j, i, v / top, diag if i == j else off,
                           _format(v, percent) if self._counts[i, j] else "", size)
        C = self._counts.astype(np.float64)
        extra_cols = extra_rows = 0
        if self.RowSummary != "off":   # two wide columns to the right: correct, incorrect
            extra_cols = 2 * _SUMMARY_WIDTH
            correct, total = np.diag(C), C.sum(axis=1)
            x0 = K - 0.5 + 0.25 + _SUMMARY_WIDTH / 2
            self._summary(ax, correct, total - correct, C.sum(), self.RowSummary, diag, off,
                          [(x0, i) for i in range(K)],
                          [(x0 + _SUMMARY_WIDTH, i) for i in range(K)], _SUMMARY_WIDTH)
        if self.ColumnSummary != "off":   # two rows below: correct, incorrect
            extra_rows = 2
            correct, total = np.diag(C), C.sum(axis=0)
            self._summary(ax, correct, total - correct, C.sum(), self.ColumnSummary, diag, off,
                          [(j, K + 0.25) for j in range(K)], [(j, K + 1.25) for j in range(K)],
                          1.0)
        ax.set_xlim(-0.5, K - 0.5 + (extra_cols + 0.25 if extra_cols else 0))
        ax.set_ylim(K - 0.5 + (extra_rows + 0.25 if extra_rows else 0), -0.5)
        labels = [str(c) for c in self.ClassLabels]
        ax.set_xticks(range(K), labels, rotation=90 if max(map(len, labels), default=0) > 3
                      else 0, fontsize=size)
        ax.set_yticks(range(K), labels, fontsize=size)
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_xlabel(self.XLabel, fontsize=size)
        ax.set_ylabel(self.YLabel, fontsize=size)
        ax.set_title(self.Title, fontsize=None if size is None else size + 1)
        ax.set_aspect("equal")

    @staticmethod
    def _cell(ax, x, y, strength, rgb, text, size, width=1.0):
        from matplotlib.patches import Rectangle
        strength = float(np.clip(strength, 0.0, 1.0))
        color = 1.0 - strength * (1.0 - rgb) if strength > 0 else np.ones(3)
        ax.add_patch(Rectangle((x - width / 2, y - 0.5), width, 1, facecolor=color,
                               edgecolor="0.85", linewidth=0.8))
        if text:
            dark = strength > 0.55
            ax.text(x, y, text, ha="center", va="center", fontsize=size,
                    color="white" if dark else "black")

    def _summary(self, ax, correct, wrong, grand, mode, diag, off, good_xy, bad_xy, width):
        total = correct + wrong
        with np.errstate(invalid="ignore", divide="ignore"):
            if mode in ("row-normalized", "column-normalized"):
                good, bad, percent = correct / total, wrong / total, True
            elif mode == "total-normalized":
                good, bad, percent = correct / max(grand, 1.0), wrong / max(grand, 1.0), True
            else:
                good, bad, percent = correct, wrong, False
        top = max(np.nanmax(np.concatenate([good, bad])), 1e-12) if good.size else 1.0
        size = 0.8 * (self.FontSize or _default_font_size())
        for k, ((gx, gy), (bx, by)) in enumerate(zip(good_xy, bad_xy)):
            if total[k] == 0:
                continue
            self._cell(ax, gx, gy, good[k] / top if not percent else good[k], diag,
                       _format(good[k], percent), size, width)
            self._cell(ax, bx, by, bad[k] / top if not percent else bad[k], off,
                       _format(bad[k], percent), size, width)


#: width of a row-summary column, in cells
_SUMMARY_WIDTH = 1.6


def _default_font_size():
    import matplotlib
    return matplotlib.rcParams["font.size"]


def _format(value, percent):
    if percent:
        return f"{100 * value:.1f}%"
    return f"{int(round(value))}" if float(value).is_integer() else f"{value:.3g}"


def _check_chart_options(func, opts):
    from matplotlib.colors import is_color_like
    out = dict(opts)
    out["Normalization"] = check_choice(func, "Normalization", opts["Normalization"],
                                        _NORMALIZATIONS)
    out["RowSummary"] = check_choice(func, "RowSummary", opts["RowSummary"], _ROW_SUMMARIES)
    out["ColumnSummary"] = check_choice(func, "ColumnSummary", opts["ColumnSummary"],
                                        _COLUMN_SUMMARIES)
    for key in ("Title", "XLabel", "YLabel"):
        if not isinstance(opts[key], str):
            fail(func, f"`{key}` must be a str. Received: {key}={_show(opts[key])}.", TypeError)
    for key in ("DiagonalColor", "OffDiagonalColor"):
        if not is_color_like(opts[key]):
            fail(func, f"`{key}` must be a color (an RGB triplet in [0, 1] or a color name). "
                       f"Received: {key}={_show(opts[key])}.")
        out[key] = tuple(np.ravel(opts[key])) if not isinstance(opts[key], str) else opts[key]
    size = opts["FontSize"]
    if size is not None and (isinstance(size, bool) or not isinstance(size, numbers.Real)
                             or not size > 0):
        fail(func, f"`FontSize` must be a positive number. Received: FontSize={_show(size)}.")
    return out


@name_value_function(leading=("Parent", lambda arg: _is_axes_or_figure(arg)))
def confusionchart(
    trueLabels: Any,
    predictedLabels: Any = None,
    *name_value: Any,
    Title: str = "",
    Normalization: Literal["absolute", "row-normalized", "column-normalized",
                           "total-normalized"] = "absolute",
    RowSummary: Literal["off", "absolute", "row-normalized", "total-normalized"] = "off",
    ColumnSummary: Literal["off", "absolute", "column-normalized", "total-normalized"] = "off",
    XLabel: str = "Predicted Class",
    YLabel: str = "True Class",
    DiagonalColor: Any = _DIAGONAL,
    OffDiagonalColor: Any = _OFF_DIAGONAL,
    FontSize: float | None = None,
    ClassLabels: Sequence | None = None,
    Parent: Any = None,
) -> ConfusionMatrixChart:
    """Confusion matrix chart, as MATLAB's ``confusionchart``.

    ``confusionchart(trueLabels, predictedLabels)`` counts the labels (as
    :func:`confusionmat`); ``confusionchart(m)`` and ``confusionchart(m,
    classLabels)`` draw a K-by-K matrix of counts.  Rows are true classes,
    columns predicted classes.  Needs matplotlib (the ``plot`` extra).

    Parameters
    ----------
    trueLabels : array_like
        True labels, or a K-by-K matrix of counts.
    predictedLabels : array_like, optional
        Predicted labels; with a matrix of counts, its class labels.
    Title : str, default ''
        Chart title.
    Normalization : str, default 'absolute'
        What the cells show: counts ('absolute') or percentages of each row,
        column or of the total ('row-normalized', 'column-normalized',
        'total-normalized').
    RowSummary : str, default 'off'
        A summary of each true class to the right: 'row-normalized' gives the
        percentages correctly and incorrectly classified (recall), 'absolute'
        the counts, 'total-normalized' the fractions of all observations.
    ColumnSummary : str, default 'off'
        The same below the chart for each predicted class ('column-normalized'
        gives the precision).
    XLabel, YLabel : str, default 'Predicted Class', 'True Class'
        Axis labels.
    DiagonalColor, OffDiagonalColor : color
        MATLAB's blue [0 0.4470 0.7410] and orange-red [0.8500 0.3250 0.0980];
        cells are shaded by their value.
    FontSize : float, optional
        Font size of the chart's text (matplotlib's default otherwise).
    ClassLabels : array_like, optional
        Class labels of a matrix of counts (instead of the second argument).
    Parent : matplotlib Axes or Figure, optional
        Where to draw; as in MATLAB it may also come first,
        ``confusionchart(ax, trueLabels, predictedLabels)``.  A new figure by
        default.

    Returns
    -------
    ConfusionMatrixChart
        Its properties can be set afterwards (``cm.Normalization = ...``) and
        ``cm.sortClasses(...)`` reorders the classes, as in MATLAB.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from lstmkit import confusionchart
    >>> cm = confusionchart(["a", "b", "b", "c"], ["a", "b", "c", "c"],
    ...                     RowSummary="row-normalized", ColumnSummary="column-normalized",
    ...                     Title="Test data")
    >>> cm.NormalizedValues
    array([[1, 0, 0],
           [0, 1, 1],
           [0, 0, 1]])
    >>> cm.Figure.savefig("confusion.png")                     # doctest: +SKIP
    """
    func = "confusionchart"
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        fail(func, "confusionchart needs matplotlib, which is not installed: pip install "
                   "matplotlib (or pip install \"lstmkit[plot]\").", ImportError)
    props = _check_chart_options(func, dict(
        Title=Title, Normalization=Normalization, RowSummary=RowSummary,
        ColumnSummary=ColumnSummary, XLabel=XLabel, YLabel=YLabel, DiagonalColor=DiagonalColor,
        OffDiagonalColor=OffDiagonalColor, FontSize=FontSize))
    first = np.asarray(trueLabels) if not isinstance(trueLabels, (list, tuple)) else None
    is_matrix = (first is not None and first.ndim == 2 and first.shape[0] == first.shape[1]
                 and first.shape[0] > 1 and first.dtype.kind in "iuf")
    if is_matrix:
        if predictedLabels is not None and ClassLabels is not None:
            fail(func, "give the class labels of a matrix once: as the second argument or as "
                       "ClassLabels.", TypeError)
        counts = first
        if not np.all(np.isfinite(counts)) or np.any(counts < 0):
            fail(func, "a confusion matrix must hold finite, non-negative counts.")
        labels = ClassLabels if ClassLabels is not None else predictedLabels
        K = counts.shape[0]
        if labels is None:
            classes = np.array([str(k) for k in range(1, K + 1)])
        else:
            classes, _ = _labels(func, "classLabels", labels)
            if classes.size != K:
                fail(func, f"`classLabels` must have {K} labels, one per row of the matrix. "
                           f"Received: {classes.size}.")
    else:
        if predictedLabels is None:
            fail(func, f"give the predicted labels as well: confusionchart(trueLabels, "
                       f"predictedLabels), or a K-by-K matrix of counts. Received one argument: "
                       f"{_show(trueLabels)}.", TypeError)
        if ClassLabels is not None:
            fail(func, "`ClassLabels` is for a matrix of counts; with labels, the classes are "
                       "the labels that occur.", TypeError)
        counts, classes = _count(func, trueLabels, predictedLabels, None)
    if Parent is None:   # a pyplot figure: shown by plt.show(), inline in a notebook
        import matplotlib.pyplot as plt
        K = len(classes)
        wide = 3.2 if RowSummary != "off" else 0.0
        tall = 1.2 if ColumnSummary != "off" else 0.0
        axes = plt.figure(figsize=(max(5.0, 0.62 * K + 2.2 + wide),
                                   max(4.0, 0.55 * K + 1.8 + tall))).add_subplot()
    elif _is_axes_or_figure(Parent) and hasattr(Parent, "add_subplot"):
        axes = Parent.add_subplot()
    elif _is_axes_or_figure(Parent):
        axes = Parent
    else:
        fail(func, f"`Parent` must be a matplotlib Axes or Figure. Received: {_show(Parent)}.",
             TypeError)
    return ConfusionMatrixChart(np.asarray(counts), np.asarray(classes), axes, props)


def _is_axes_or_figure(value):
    try:
        from matplotlib.axes import Axes
        from matplotlib.figure import FigureBase
    except ImportError:
        return False
    return isinstance(value, (Axes, FigureBase))

