"""classificationLayer and regressionLayer: the output layers and their losses.

Losses are MATLAB's:

* ``crossentropyex``: :math:`-\\frac1N \\sum_n \\sum_i w_i T_{ni} \\ln Y_{ni}`; for
  sequence output the sum also runs over each sequence's time steps (still
  divided by N).
* ``mean-squared-error`` (half MSE, not normalised by the number of responses
  R): :math:`\\frac1N \\sum_n \\frac12 \\sum_i (Y_{ni} - T_{ni})^2`; for sequence
  output each observation's term is averaged over its own S_n time steps.

Padded time steps never exist in lstmkit (see :mod:`lstmkit._packing`), so they
can never enter a loss.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .._typing import ArrayLike
from .._validation import _show, array_or_none, as_float_array, check_name, fail, name_value_function
from ..kernels.loss import half_mse, softmax_cross_entropy
from .base import Layer


class ClassificationOutputLayer(Layer):
    """Classification output layer (create it with :func:`classificationLayer`)."""

    type_name = "Classification Output"
    default_name = "classoutput"
    is_output = True
    LossFunction = "crossentropyex"

    @property
    def Description(self):
        if self.Classes is None:
            return "crossentropyex"
        K = len(self.Classes)
        first = f"'{self.Classes[0]}'"
        if K == 1:
            return f"crossentropyex with {first}"
        if K == 2:
            return f"crossentropyex with classes {first} and '{self.Classes[1]}'"
        return f"crossentropyex with {first} and {K - 1} other classes"

    @property
    def OutputSize(self):
        return "auto" if self.Classes is None else len(self.Classes)

    def _display_properties(self):
        return ["Name", "Classes", "ClassWeights", "OutputSize", "LossFunction"]

    def _check_input(self, func, input_size, input_is_sequence):
        if self.Classes is not None and len(self.Classes) != input_size:
            fail(func, f"layer '{self.Name}' (classification) has {len(self.Classes)} classes but "
                       f"the layer before it outputs {input_size} values; set the last "
                       f"fullyConnectedLayer's OutputSize to {len(self.Classes)}.")

    def _class_weight_vector(self, dtype):
        K = len(self.Classes)
        if isinstance(self.ClassWeights, str):
            return np.ones(K, dtype)
        return np.asarray(self.ClassWeights, dtype).reshape(K)

    def _loss(self, probs, target, row_scale, dtype):
        """Return ``(loss, dz, correct)``: dz is the gradient w.r.t. the softmax input."""
        dz = np.empty_like(probs)
        loss, correct = softmax_cross_entropy(probs, target, self._class_weight_vector(dtype),
                                              row_scale.astype(dtype, copy=False), dz)
        return loss, dz, correct


class RegressionOutputLayer(Layer):
    """Regression output layer (create it with :func:`regressionLayer`)."""

    type_name = "Regression Output"
    default_name = "regressionoutput"
    is_output = True
    LossFunction = "mean-squared-error"

    @property
    def Description(self):
        return "mean-squared-error" + (
            f" with response{'s' if len(self.ResponseNames) > 1 else ''} "
            + ", ".join(f"'{n}'" for n in self.ResponseNames) if self.ResponseNames else "")

    def _display_properties(self):
        return ["Name", "ResponseNames", "LossFunction"]

    def _check_input(self, func, input_size, input_is_sequence):
        if self.ResponseNames and len(self.ResponseNames) != input_size:
            fail(func, f"layer '{self.Name}' (regression) has {len(self.ResponseNames)} "
                       f"ResponseNames but the layer before it outputs {input_size} values.")

    def _loss(self, y, target, row_scale, dtype):
        """Return ``(loss, dy, sse)``."""
        dy = np.empty_like(y)
        loss, sse = half_mse(y, target, row_scale.astype(dtype, copy=False), dy)
        return loss, dy, sse


@name_value_function()
def classificationLayer(
    *name_value: Any,
    Name: str = "",
    Classes: str | Sequence[str | int] = "auto",
    ClassWeights: str | ArrayLike = "none",
) -> ClassificationOutputLayer:
    """Classification output layer (cross-entropy), as MATLAB's ``classificationLayer``.

    Parameters
    ----------
    Classes : 'auto' or sequence of str/int, default 'auto'
        Class names; 'auto' takes them from the training labels (sorted).
        The order of given classes is the order of the score columns.
    ClassWeights : 'none' or array_like of K positive weights, default 'none'
        Weights of the cross-entropy terms; a vector needs ``Classes``.
    Name : str, default ''
        Layer name.

    Returns
    -------
    ClassificationOutputLayer

    Examples
    --------
    >>> from lstmkit import classificationLayer
    >>> layer = classificationLayer(Classes=["a", "b"], ClassWeights=[1, 3])
    >>> layer.ClassWeights.tolist()
    [1.0, 3.0]
    """
    func = "classificationLayer"
    layer = ClassificationOutputLayer(check_name(func, Name))
    classes = Classes
    if isinstance(classes, str) and classes.lower() == "auto":
        layer.Classes = None
    else:
        layer.Classes = check_classes(func, classes)
    weights = ClassWeights
    if isinstance(weights, str) and weights.lower() == "none":
        layer.ClassWeights = "none"
    else:
        if layer.Classes is None:
            fail(func, "a vector of `ClassWeights` needs `Classes` to say which class each weight "
                       "belongs to; give Classes=[...] as well.")
        w = as_float_array(func, "ClassWeights", weights, allow_empty=False).reshape(-1)
        if w.size != len(layer.Classes) or np.any(w <= 0):
            fail(func, f"`ClassWeights` must be {len(layer.Classes)} positive values, one per class. "
                       f"Received: {_show(np.asarray(weights))}.")
        layer.ClassWeights = w
    return layer


def check_classes(func, classes):
    """Class names: a non-empty 1-D sequence of distinct str or int values."""
    arr = array_or_none(classes)
    if arr is None or arr.ndim != 1 or arr.size == 0 or arr.dtype.kind not in "UiuSO":
        fail(func, f"`Classes` must be 'auto' or a 1-D list of class names (str or int). "
                   f"Received: Classes={_show(classes)}.")
    if arr.dtype.kind == "O":
        if all(isinstance(c, str) for c in arr):
            arr = arr.astype(str)
        else:
            fail(func, f"`Classes` must hold only str or only int values. Received: {_show(classes)}.")
    if len(np.unique(arr)) != arr.size:
        fail(func, "`Classes` must not contain duplicates.")
    return arr


@name_value_function()
def regressionLayer(
    *name_value: Any,
    Name: str = "",
    ResponseNames: Sequence[str] = (),
) -> RegressionOutputLayer:
    """Regression output layer (half mean squared error), as MATLAB's ``regressionLayer``.

    Parameters
    ----------
    ResponseNames : list of str, default []
        Names of the responses (for display).
    Name : str, default ''
        Layer name.

    Returns
    -------
    RegressionOutputLayer

    Examples
    --------
    >>> from lstmkit import regressionLayer
    >>> regressionLayer().LossFunction
    'mean-squared-error'
    """
    func = "regressionLayer"
    layer = RegressionOutputLayer(check_name(func, Name))
    names = ResponseNames
    if isinstance(names, str):
        names = [names]
    if isinstance(names, np.ndarray) and names.ndim == 1:
        names = names.tolist()
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        fail(func, f"`ResponseNames` must be a list of str. Received: {_show(names)}.", TypeError)
    layer.ResponseNames = list(names)
    return layer
