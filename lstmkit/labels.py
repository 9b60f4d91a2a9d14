"""scores2label: from prediction scores to class labels, as MATLAB's (R2024a)."""

from __future__ import annotations

import numbers
from typing import Any, Sequence

import numpy as np

from ._validation import checked_call, _show, check_nargout, fail, select_outputs, size_text

FUNC = "scores2label"


def _class_names(names):
    try:
        arr = np.asarray(names)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.ndim != 1 and not (arr.ndim == 2 and 1 in arr.shape) or arr.size == 0:
        fail(FUNC, f"`classNames` must be a non-empty vector of class names (str or int). "
                   f"Received: {_show(names)}.", TypeError)
    arr = arr.reshape(-1)
    if arr.dtype.kind == "O":
        if all(isinstance(c, str) for c in arr):
            arr = arr.astype(str)
        else:
            fail(FUNC, f"`classNames` must hold only str or only int names. "
                       f"Received: {_show(list(arr[:5]))}.", TypeError)
    if arr.dtype.kind not in "USiu":
        fail(FUNC, f"`classNames` must hold class names (str or int). Received: {_show(arr)}.",
             TypeError)
    return arr.astype(str) if arr.dtype.kind == "S" else arr


def _axis(scores, K, dim):
    """0-based class axis of ``scores`` from MATLAB's 1-based ``dim`` (or found by size)."""
    if dim is not None:
        if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, numbers.Integral) \
                or not 1 <= dim <= max(scores.ndim, 1):
            fail(FUNC, f"`dim` must be a dimension of the scores, from 1 to {max(scores.ndim, 1)} "
                       f"(MATLAB counts from 1). Received: dim={_show(dim)}.")
        axis = int(dim) - 1
        if scores.shape[axis] != K:
            fail(FUNC, f"dimension {dim} of the scores has size {scores.shape[axis]}, but there "
                       f"are {K} classNames.")
        return axis
    matches = [a for a, n in enumerate(scores.shape) if n == K]
    if not matches:
        fail(FUNC, f"no dimension of the scores (size {size_text(scores.shape)}) has one entry "
                   f"per class ({K} classNames).")
    if len(matches) > 1:
        fail(FUNC, f"the scores (size {size_text(scores.shape)}) have {K} entries along "
                   f"dimensions {' and '.join(str(a + 1) for a in matches)}, so the class "
                   f"dimension is ambiguous; give it: scores2label(scores, classNames, dim) "
                   f"(MATLAB's dim, counted from 1).")
    return matches[0]


def _one(scores, names, dim, where):
    try:
        arr = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError):
        fail(FUNC, f"`scores{where}` must be a numeric array. Received: {_show(scores)}.",
             TypeError)
    if arr.ndim == 0:
        fail(FUNC, f"`scores{where}` must have a class dimension. Received: a scalar.")
    axis = _axis(arr, names.size, dim)
    if np.isnan(arr).any():
        fail(FUNC, f"`scores{where}` contains NaN values.")
    index = np.argmax(arr, axis=axis)
    return names[index], np.take_along_axis(arr, np.expand_dims(index, axis), axis).squeeze(axis)


@checked_call
def scores2label(scores: Any, classNames: Sequence, dim: int | None = None, *,
                 nargout: int = 1) -> Any:
    """Labels of the highest scores, as MATLAB's ``scores2label`` (R2024a).

    Parameters
    ----------
    scores : array_like, or a list of arrays
        Prediction scores, one entry per class along the class dimension:
        N-by-K for N observations (as ``minibatchpredict``, ``predict`` and
        trainnet-era code give them), T-by-K or K-by-T for the time steps of
        one sequence, or K for one observation.  A list (MATLAB's cell array,
        e.g. ``minibatchpredict(..., UniformOutput=False)``) of numpy arrays
        is converted element by element; nested lists of numbers are one array.
    classNames : sequence of str or int
        The class names, in the order of the scores' class dimension (for a
        network trained by lstmkit: ``net.Classes``).
    dim : int, optional
        MATLAB's class dimension, **counted from 1** (``dim=2`` is numpy's
        ``axis=1``).  By default the dimension whose size is the number of
        classes; when several dimensions have that size the call is an error
        that asks for ``dim`` (a layout is never guessed).
    nargout : {1, 2}, default 1
        MATLAB's number of outputs: 2 also returns the top scores.

    Returns
    -------
    labels : ndarray or list of ndarray
        The class name of the highest score; the class dimension is removed
        (N-by-K scores give N labels), ties go to the first class.
    topScores : ndarray or list of ndarray
        With ``nargout=2``: the highest scores, of the same shape.

    Examples
    --------
    >>> import numpy as np
    >>> from lstmkit import scores2label
    >>> scores = np.array([[0.1, 0.7, 0.2], [0.6, 0.3, 0.1]])     # 2 observations, 3 classes
    >>> scores2label(scores, ["cat", "dog", "bird"])
    array(['dog', 'cat'], dtype='<U4')
    >>> labels, top = scores2label(scores, ["cat", "dog", "bird"], nargout=2)
    >>> top
    array([0.7, 0.6])
    >>> scores2label(np.eye(3), ["a", "b", "c"], 2)     # square scores: say which dimension
    array(['a', 'b', 'c'], dtype='<U1')
    """
    nargout = check_nargout(FUNC, nargout, 2)
    names = _class_names(classNames)
    if isinstance(scores, (list, tuple)) and scores and all(isinstance(s, np.ndarray)
                                                           for s in scores):
        pairs = [_one(s, names, dim, f"[{i}]") for i, s in enumerate(scores)]   # a cell array
        return select_outputs(([p[0] for p in pairs], [p[1] for p in pairs]), nargout)
    return select_outputs(_one(scores, names, dim, ""), nargout)
