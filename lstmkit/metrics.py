"""Metrics of trainnet and testnet: MATLAB's metric names and metric objects.

A metric accumulates over the mini-batches it sees (training: one mini-batch;
validation and testnet: the whole data set) and then gives one value:

* ``accuracy`` (:func:`accuracyMetric`), in percent: the share of
  observations (time steps, for sequence output) whose largest score is at
  the target class; "multilabel": the share of elements whose score is on the
  target's side of 0.5.
* ``precision``, ``recall``, ``fscore`` (:func:`precisionMetric`,
  :func:`recallMetric`, :func:`fScoreMetric`), between 0 and 1, from the
  confusion counts; AverageType "micro" pools the classes' counts, "macro"
  averages the per-class values, "weighted" weighs them by each class's
  number of targets.
* ``auc`` (:func:`aucMetric`): area under the one-versus-rest ROC curve, by
  the rank statistic (ties count half); "micro" pools every (score, target)
  pair, "macro"/"weighted" average the classes.
* ``rmse`` (:func:`rmseMetric`): square root of the mean squared error over
  all elements; ``mape`` (:func:`mapeMetric`): mean absolute percentage error
  in percent; ``rsquared`` (:func:`rSquaredMetric`): 1 - SSE / SST with each
  channel's own mean.
* a function ``f(Y, T)`` returning a number: called on each mini-batch with
  the output rows and the targets (one-hot for classification); its value is
  the mean over mini-batches, weighted by their rows.

The definitions follow MATLAB's documentation of these metrics where it is
explicit; where it is not (the averaging of accuracy over classes), the
docstring says what lstmkit computes.
"""

from __future__ import annotations

import copy
import difflib
from typing import Any, Literal

import numpy as np

from ._validation import _show, check_choice, check_name, check_real, fail, name_value_function

AVERAGE_TYPES = ("micro", "macro", "weighted")


class Metric:
    """A metric (create it with :func:`accuracyMetric`, :func:`rmseMetric`, ...).

    Attributes
    ----------
    Name : str
        The column name in the verbose table and the training history.
    NetworkOutput : str or None
        Which output of the network it measures (one output: None).
    Maximize : bool
        Whether larger is better (for ObjectiveMetricName).
    """

    task = "classification"
    Maximize = True
    percent = False

    def __init__(self, Name, NetworkOutput=None):
        self.Name = Name
        self.NetworkOutput = NetworkOutput
        self._reset()

    def _reset(self):
        raise NotImplementedError

    def _update(self, y, t, num_classes):
        raise NotImplementedError

    def _value(self):
        raise NotImplementedError

    def _options(self):
        return {}

    def __repr__(self):
        opts = ", ".join(f"{k}={v!r}" for k, v in {"Name": self.Name, **self._options()}.items())
        return f"{type(self).__name__}({opts})"


def _onehot(t, K, dtype=np.float64):
    if t.ndim == 2:
        return t
    out = np.zeros((t.size, K), dtype)
    out[np.arange(t.size), t] = 1
    return out


def _class_index(t):
    return t if t.ndim == 1 else np.argmax(t, axis=1)


class _Confusion(Metric):
    """Metrics from the counts of true and false positives and negatives per class."""

    def __init__(self, Name, NetworkOutput, AverageType, ClassificationMode):
        self.AverageType = AverageType
        self.ClassificationMode = ClassificationMode
        super().__init__(Name, NetworkOutput)

    def _options(self):
        return {"AverageType": self.AverageType, "ClassificationMode": self.ClassificationMode}

    def _reset(self):
        self.tp = self.fp = self.fn = self.tn = None

    def _update(self, y, t, K):
        if self.ClassificationMode == "multilabel":
            pred = y >= 0.5
            truth = _onehot(t, K) >= 0.5
        else:
            pred = np.zeros(y.shape, bool)
            pred[np.arange(y.shape[0]), np.argmax(y, axis=1)] = True
            truth = _onehot(t, K) >= 0.5
        counts = [np.sum(pred & truth, axis=0), np.sum(pred & ~truth, axis=0),
                  np.sum(~pred & truth, axis=0), np.sum(~pred & ~truth, axis=0)]
        if self.tp is None:
            self.tp, self.fp, self.fn, self.tn = [c.astype(np.float64) for c in counts]
        else:
            for acc, c in zip((self.tp, self.fp, self.fn, self.tn), counts):
                acc += c

    def _per_class(self, tp, fp, fn, tn):
        raise NotImplementedError

    def _value(self):
        if self.tp is None:
            return np.nan
        if self.AverageType == "micro":
            return float(self._per_class(self.tp.sum(), self.fp.sum(), self.fn.sum(),
                                         self.tn.sum()))
        values = self._per_class(self.tp, self.fp, self.fn, self.tn)
        if self.AverageType == "macro":
            return float(np.mean(values))
        support = self.tp + self.fn
        return float(np.sum(values * support) / support.sum()) if support.sum() else np.nan


def _ratio(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return np.divide(a, b, out=np.zeros_like(a), where=b > 0)


class AccuracyMetric(_Confusion):
    """Accuracy in percent (create it with :func:`accuracyMetric`)."""

    percent = True

    def _per_class(self, tp, fp, fn, tn):
        if self.ClassificationMode == "multilabel":
            return 100 * _ratio(tp + tn, tp + fp + fn + tn)
        return 100 * _ratio(tp, tp + fn)        # pooled ("micro"): correct / all


class PrecisionMetric(_Confusion):
    """Precision (create it with :func:`precisionMetric`)."""

    def _per_class(self, tp, fp, fn, tn):
        return _ratio(tp, tp + fp)


class RecallMetric(_Confusion):
    """Recall (create it with :func:`recallMetric`)."""

    def _per_class(self, tp, fp, fn, tn):
        return _ratio(tp, tp + fn)


class FScoreMetric(_Confusion):
    """F-score (create it with :func:`fScoreMetric`)."""

    def __init__(self, Name, NetworkOutput, AverageType, ClassificationMode, Beta):
        self.Beta = Beta
        super().__init__(Name, NetworkOutput, AverageType, ClassificationMode)

    def _options(self):
        return {"Beta": self.Beta, **super()._options()}

    def _per_class(self, tp, fp, fn, tn):
        b2 = self.Beta ** 2
        return _ratio((1 + b2) * tp, (1 + b2) * tp + b2 * fn + fp)


def auc_binary(scores, truth):
    """Area under the ROC curve of one class: P(score of a positive > score of a negative)."""
    pos = truth.sum()
    neg = truth.size - pos
    if pos == 0 or neg == 0:
        return np.nan
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(scores.size, float)
    sorted_scores = scores[order]
    # average ranks over ties
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    avg = first + (counts - 1) / 2.0 + 1
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[truth].sum() - pos * (pos + 1) / 2) / (pos * neg))


class AUCMetric(Metric):
    """Area under the ROC curve (create it with :func:`aucMetric`)."""

    def __init__(self, Name, NetworkOutput, AverageType):
        self.AverageType = AverageType
        super().__init__(Name, NetworkOutput)

    def _options(self):
        return {"AverageType": self.AverageType}

    def _reset(self):
        self.scores, self.truth = [], []

    def _update(self, y, t, K):
        self.scores.append(np.asarray(y, np.float64))
        self.truth.append(_onehot(t, K) >= 0.5)

    def _value(self):
        if not self.scores:
            return np.nan
        s, t = np.concatenate(self.scores), np.concatenate(self.truth)
        if self.AverageType == "micro":
            return auc_binary(s.reshape(-1), t.reshape(-1))
        values = np.array([auc_binary(s[:, k], t[:, k]) for k in range(s.shape[1])])
        ok = ~np.isnan(values)
        if not ok.any():
            return np.nan
        if self.AverageType == "macro":
            return float(values[ok].mean())
        support = t.sum(axis=0)[ok]
        return float(np.sum(values[ok] * support) / support.sum())


class RMSEMetric(Metric):
    """Root-mean-squared error (create it with :func:`rmseMetric`)."""

    task = "regression"
    Maximize = False

    def _reset(self):
        self.sse, self.count = 0.0, 0

    def _update(self, y, t, K):
        e = np.asarray(y, np.float64) - t
        self.sse += float(np.sum(e * e))
        self.count += e.size

    def _value(self):
        return float(np.sqrt(self.sse / self.count)) if self.count else np.nan


class MAPEMetric(Metric):
    """Mean absolute percentage error (create it with :func:`mapeMetric`)."""

    task = "regression"
    Maximize = False
    percent = True

    def _reset(self):
        self.total, self.count = 0.0, 0

    def _update(self, y, t, K):
        with np.errstate(divide="ignore", invalid="ignore"):
            self.total += float(np.sum(np.abs((t - np.asarray(y, np.float64)) / t)))
        self.count += t.size

    def _value(self):
        return 100.0 * self.total / self.count if self.count else np.nan


class RSquaredMetric(Metric):
    """Coefficient of determination (create it with :func:`rSquaredMetric`)."""

    task = "regression"

    def _reset(self):
        self.n = 0
        self.sum_t = self.sum_t2 = self.sse = None

    def _update(self, y, t, K):
        t = np.asarray(t, np.float64)
        e = np.asarray(y, np.float64) - t
        parts = (t.sum(axis=0), (t * t).sum(axis=0), (e * e).sum(axis=0))
        if self.sum_t is None:
            self.sum_t, self.sum_t2, self.sse = [p.copy() for p in parts]
        else:
            self.sum_t += parts[0]
            self.sum_t2 += parts[1]
            self.sse += parts[2]
        self.n += t.shape[0]

    def _value(self):
        if not self.n:
            return np.nan
        sst = float(np.sum(self.sum_t2 - self.sum_t ** 2 / self.n))
        return float(1.0 - np.sum(self.sse) / sst) if sst > 0 else np.nan


class FunctionMetric(Metric):
    """A metric function ``f(Y, T)`` (rows by channels; targets one-hot for classification)."""

    task = None
    Maximize = None

    def __init__(self, fcn):
        self.fcn = fcn
        super().__init__(getattr(fcn, "__name__", "metric"))

    def _reset(self):
        self.total, self.rows = 0.0, 0

    def _update(self, y, t, K):
        value = self.fcn(np.array(y), _onehot(t, K, y.dtype) if t.ndim == 1 else np.array(t))
        try:
            value = float(np.asarray(value).reshape(()))
        except (TypeError, ValueError):
            raise TypeError(f"trainnet: the metric function {self.Name!r} must return one number; "
                            f"it returned {_show(value)}.") from None
        self.total += value * y.shape[0]
        self.rows += y.shape[0]

    def _value(self):
        return self.total / self.rows if self.rows else np.nan


# -- factories ---------------------------------------------------------------------------------
def _common(func, Name, NetworkOutput, default):
    name = default if Name is None else check_name(func, Name)
    if not name:
        fail(func, "`Name` must not be empty.")
    if NetworkOutput is not None and not isinstance(NetworkOutput, str):
        fail(func, f"`NetworkOutput` must be a layer name (str). Received: {_show(NetworkOutput)}.",
             TypeError)
    return name, NetworkOutput


def _modes(func, AverageType, ClassificationMode):
    return (check_choice(func, "AverageType", AverageType, AVERAGE_TYPES),
            check_choice(func, "ClassificationMode", ClassificationMode,
                         ("single-label", "multilabel")))


@name_value_function()
def accuracyMetric(*name_value: Any, Name: str = "Accuracy", NetworkOutput: str | None = None,
                   AverageType: Literal["micro", "macro", "weighted"] = "micro",
                   ClassificationMode: Literal["single-label", "multilabel"] = "single-label"
                   ) -> AccuracyMetric:
    """Accuracy metric in percent, as MATLAB's ``accuracyMetric`` (for trainnet and testnet).

    Parameters
    ----------
    Name : str, default 'Accuracy'
    NetworkOutput : str, optional
        The output layer it measures (networks with one output: leave it out).
    AverageType : {'micro', 'macro', 'weighted'}, default 'micro'
        'micro': correct / all.  'macro' and 'weighted' (lstmkit's reading):
        the mean of the per-class accuracies (each class's share of its
        targets predicted right), unweighted or weighted by class size.
    ClassificationMode : {'single-label', 'multilabel'}, default 'single-label'
        'multilabel': each score is a yes/no at 0.5, counted per element.

    Returns
    -------
    AccuracyMetric

    Examples
    --------
    >>> from lstmkit import accuracyMetric
    >>> accuracyMetric(AverageType="macro")
    AccuracyMetric(Name='Accuracy', AverageType='macro', ClassificationMode='single-label')
    """
    func = "accuracyMetric"
    name, out = _common(func, Name, NetworkOutput, "Accuracy")
    return AccuracyMetric(name, out, *_modes(func, AverageType, ClassificationMode))


@name_value_function()
def precisionMetric(*name_value: Any, Name: str = "Precision", NetworkOutput: str | None = None,
                    AverageType: Literal["micro", "macro", "weighted"] = "micro",
                    ClassificationMode: Literal["single-label", "multilabel"] = "single-label"
                    ) -> PrecisionMetric:
    """Precision metric, TP / (TP + FP), as MATLAB's ``precisionMetric``.

    Parameters
    ----------
    Name : str, default 'Precision'
    NetworkOutput : str, optional
    AverageType : {'micro', 'macro', 'weighted'}, default 'micro'
    ClassificationMode : {'single-label', 'multilabel'}, default 'single-label'

    Returns
    -------
    PrecisionMetric

    Examples
    --------
    >>> from lstmkit import precisionMetric
    >>> precisionMetric(AverageType="macro").AverageType
    'macro'
    """
    func = "precisionMetric"
    name, out = _common(func, Name, NetworkOutput, "Precision")
    return PrecisionMetric(name, out, *_modes(func, AverageType, ClassificationMode))


@name_value_function()
def recallMetric(*name_value: Any, Name: str = "Recall", NetworkOutput: str | None = None,
                 AverageType: Literal["micro", "macro", "weighted"] = "micro",
                 ClassificationMode: Literal["single-label", "multilabel"] = "single-label"
                 ) -> RecallMetric:
    """Recall metric, TP / (TP + FN), as MATLAB's ``recallMetric``.

    Parameters
    ----------
    Name : str, default 'Recall'
    NetworkOutput : str, optional
    AverageType : {'micro', 'macro', 'weighted'}, default 'micro'
    ClassificationMode : {'single-label', 'multilabel'}, default 'single-label'

    Returns
    -------
    RecallMetric

    Examples
    --------
    >>> from lstmkit import recallMetric
    >>> recallMetric().Name
    'Recall'
    """
    func = "recallMetric"
    name, out = _common(func, Name, NetworkOutput, "Recall")
    return RecallMetric(name, out, *_modes(func, AverageType, ClassificationMode))


@name_value_function()
def fScoreMetric(*name_value: Any, Name: str = "FScore", NetworkOutput: str | None = None,
                 Beta: float = 1.0,
                 AverageType: Literal["micro", "macro", "weighted"] = "micro",
                 ClassificationMode: Literal["single-label", "multilabel"] = "single-label"
                 ) -> FScoreMetric:
    """F-score metric, as MATLAB's ``fScoreMetric``.

    :math:`(1+\\beta^2) TP / ((1+\\beta^2) TP + \\beta^2 FN + FP)`.

    Parameters
    ----------
    Name : str, default 'FScore'
    NetworkOutput : str, optional
    Beta : float, default 1
        Positive: how much more recall counts than precision.
    AverageType : {'micro', 'macro', 'weighted'}, default 'micro'
    ClassificationMode : {'single-label', 'multilabel'}, default 'single-label'

    Returns
    -------
    FScoreMetric

    Examples
    --------
    >>> from lstmkit import fScoreMetric
    >>> fScoreMetric(Beta=2).Beta
    2.0
    """
    func = "fScoreMetric"
    name, out = _common(func, Name, NetworkOutput, "FScore")
    beta = check_real(func, "Beta", Beta, low=0.0, low_open=True)
    return FScoreMetric(name, out, *_modes(func, AverageType, ClassificationMode), beta)


@name_value_function()
def aucMetric(*name_value: Any, Name: str = "AUC", NetworkOutput: str | None = None,
              AverageType: Literal["micro", "macro", "weighted"] = "micro") -> AUCMetric:
    """Area under the ROC curve, one class versus the rest, as MATLAB's ``aucMetric``.

    Parameters
    ----------
    Name : str, default 'AUC'
    NetworkOutput : str, optional
    AverageType : {'micro', 'macro', 'weighted'}, default 'micro'

    Returns
    -------
    AUCMetric

    Examples
    --------
    >>> from lstmkit import aucMetric
    >>> aucMetric().Name
    'AUC'
    """
    func = "aucMetric"
    name, out = _common(func, Name, NetworkOutput, "AUC")
    return AUCMetric(name, out, check_choice(func, "AverageType", AverageType, AVERAGE_TYPES))


@name_value_function()
def rmseMetric(*name_value: Any, Name: str = "RMSE",
               NetworkOutput: str | None = None) -> RMSEMetric:
    """Root-mean-squared-error metric, as MATLAB's ``rmseMetric``.

    Parameters
    ----------
    Name : str, default 'RMSE'
    NetworkOutput : str, optional

    Returns
    -------
    RMSEMetric

    Examples
    --------
    >>> from lstmkit import rmseMetric
    >>> rmseMetric(Name="err").Name
    'err'
    """
    return RMSEMetric(*_common("rmseMetric", Name, NetworkOutput, "RMSE"))


@name_value_function()
def mapeMetric(*name_value: Any, Name: str = "MAPE",
               NetworkOutput: str | None = None) -> MAPEMetric:
    """Mean-absolute-percentage-error metric (percent), as MATLAB's ``mapeMetric``.

    Parameters
    ----------
    Name : str, default 'MAPE'
    NetworkOutput : str, optional

    Returns
    -------
    MAPEMetric

    Examples
    --------
    >>> from lstmkit import mapeMetric
    >>> mapeMetric().Maximize
    False
    """
    return MAPEMetric(*_common("mapeMetric", Name, NetworkOutput, "MAPE"))


@name_value_function()
def rSquaredMetric(*name_value: Any, Name: str = "RSquared",
                   NetworkOutput: str | None = None) -> RSquaredMetric:
    """Coefficient-of-determination metric, as MATLAB's ``rSquaredMetric`` (R2025a).

    Parameters
    ----------
    Name : str, default 'RSquared'
    NetworkOutput : str, optional

    Returns
    -------
    RSquaredMetric

    Examples
    --------
    >>> from lstmkit import rSquaredMetric
    >>> rSquaredMetric().Maximize
    True
    """
    return RSquaredMetric(*_common("rSquaredMetric", Name, NetworkOutput, "RSquared"))


#: MATLAB's metric names -> their default metric objects
METRIC_NAMES = {
    "accuracy": accuracyMetric, "precision": precisionMetric, "recall": recallMetric,
    "fscore": fScoreMetric, "auc": aucMetric, "rmse": rmseMetric, "mape": mapeMetric,
    "rsquared": rSquaredMetric,
}


def make_metric(func, value, name="Metrics"):
    """One metric from a name, a metric object or a function (a fresh copy each time)."""
    if isinstance(value, str):
        key = value.lower()
        if key not in METRIC_NAMES:
            close = difflib.get_close_matches(key, list(METRIC_NAMES), n=1)
            fail(func, f"`{name}` must hold metric names ({', '.join(map(repr, METRIC_NAMES))}), "
                       f"metric objects or functions. Received: {value!r}."
                       + (f" Did you mean {close[0]!r}?" if close else ""))
        return METRIC_NAMES[key]()
    if isinstance(value, Metric):
        metric = copy.copy(value)
        metric._reset()
        return metric
    if callable(value):
        return FunctionMetric(value)
    fail(func, f"`{name}` must hold metric names, metric objects (accuracyMetric(), ...) or "
               f"functions f(Y, T). Received: {_show(value)}.", TypeError)


def metric_list(func, value, name="Metrics"):
    """A list of fresh metrics from MATLAB's Metrics value (a name, an object, or a list)."""
    if value is None:
        return []
    if isinstance(value, (str, Metric)) or callable(value):
        items = [value]
    elif isinstance(value, np.ndarray) and value.ndim == 0:
        items = [value.item()]
    elif isinstance(value, (list, tuple, np.ndarray)):
        items = list(value)
    else:
        fail(func, f"`{name}` must be a metric name, a metric object, a function f(Y, T), or a "
                   f"list of them. Received: {_show(value)}.", TypeError)
    metrics = [make_metric(func, v, name) for v in items
               if not (isinstance(v, str) and v.lower() == "loss")]
    names = [m.Name for m in metrics]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate is not None:
        fail(func, f"`{name}` has two metrics named {duplicate!r}; give one of them another Name.")
    return metrics


def check_metrics_option(func, value):
    """trainingOptions' Metrics: checked now, fresh copies made for each training."""
    metric_list(func, value)
    if isinstance(value, (list, tuple)):
        return list(value)
    return value

