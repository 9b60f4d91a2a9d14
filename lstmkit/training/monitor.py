"""trainingProgressMonitor: MATLAB's progress window for custom training loops (R2022b).

A custom loop creates the monitor, names its metrics and information fields,
and then, at every iteration, records metric values (``recordMetrics``),
updates the information (``updateInfo``) and sets ``Progress``; the monitor
plots every metric against the step (metrics grouped with ``groupSubPlot``
share a subplot; ``yscale`` sets a subplot's scale) and shows the
information, the status, the progress and the elapsed time.

The figure goes where trainNetwork's progress plot goes
(:class:`lstmkit.training.progress.LiveFigure`): a window with an interactive
matplotlib backend, the cell's output in a notebook, else a PNG file (its
path printed once) written now and then (drawing takes at most a few percent
of the loop's time), whenever ``Status`` is set, and once more with the last
values when the monitor is dropped or the process exits.  ``Visible=False`` draws nothing.  There is no Stop button:
``Stop`` stays False (a Ctrl+C stops a Python script), so MATLAB's ``while
... && ~monitor.Stop`` loops run to their end.
"""

from __future__ import annotations

import functools
import numbers
import time
import types
import warnings
import weakref
from typing import Any, Sequence

import numpy as np

from .._validation import _show, check_bool, checked_call, fail, name_value_function


def _names(func, name, value):
    """A list of field names (MATLAB's string array): valid identifiers, each once."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple, np.ndarray)) or \
            not all(isinstance(v, (str, np.str_)) for v in items):
        fail(func, f"`{name}` must be a str or a list of str. Received: {_show(value)}.",
             TypeError)
    items = [str(v) for v in items]
    for v in items:
        if not v.isidentifier():
            fail(func, f"`{name}` names must begin with a letter and hold letters, digits and "
                       f"underscores. Received: {v!r}.")
    if len(set(items)) != len(items):
        fail(func, f"`{name}` must name each field once. Received: {items}.")
    return items


class TrainingProgressMonitor:
    """The monitor of a custom training loop (create it with :func:`trainingProgressMonitor`).

    Attributes
    ----------
    Metrics, Info : list of str
        The metric names (each plotted against the step) and the information
        names (shown as text).
    XLabel : str
        The horizontal axis label.
    Progress : float
        Percentage, 0 to 100.
    Status : str
    Visible : bool
        Whether the figure is drawn.
    Stop : bool
        Read-only; always False (no Stop button).
    MetricData : dict of str -> ndarray
        Per metric, an n-by-2 array of (step, value) rows, as recorded.
    InfoData : dict of str -> list
        Per information field, every value given, in order.
    """

    _FIELDS = ("Metrics", "Info", "XLabel", "Progress", "Status", "Visible")

    def __init__(self):
        object.__setattr__(self, "_state", {
            "Metrics": [], "Info": [], "XLabel": "Iteration", "Progress": 0.0,
            "Status": "Running", "Visible": True})
        now = time.perf_counter()
        object.__setattr__(self, "_times", {"start": now, "last": now})  # last: latest update
        # per metric [rows, n]: a (capacity, 2) array of which the first n rows are recorded,
        # doubled when full (a record appends in amortized constant time)
        object.__setattr__(self, "_metric_rows", {})
        object.__setattr__(self, "InfoData", {})
        object.__setattr__(self, "_groups", {})       # group name -> metric names
        object.__setattr__(self, "_scales", {})       # metric -> 'linear' / 'log'
        object.__setattr__(self, "_figure", None)
        object.__setattr__(self, "_announced", False)

    @property
    def MetricData(self):
        """Per metric, the n-by-2 (step, value) rows recorded (read-only views)."""
        return _recorded(self._metric_rows)

    # -- properties, checked as MATLAB checks them ---------------------------------------------
    def __getattr__(self, name):
        state = self.__dict__.get("_state", {})
        if name in state:
            value = state[name]
            return list(value) if isinstance(value, list) else value
        if name == "Stop":
            return False
        raise AttributeError(f"'TrainingProgressMonitor' object has no attribute {name!r}")

    def __setattr__(self, name, value):
        func = "trainingProgressMonitor"
        if name in ("Stop", "MetricData", "InfoData"):
            fail(func, f"`{name}` is read-only.", AttributeError)
        if name not in self._FIELDS:
            fail(func, f"a TrainingProgressMonitor has no property {name!r}; its properties: "
                       f"{', '.join(self._FIELDS)}, Stop, MetricData, InfoData.", AttributeError)
        if name in ("Metrics", "Info"):
            value = _names(func, name, value)
            if name == "Metrics":
                lost = [m for m in self._metric_rows if m not in value]
                if lost:
                    fail(func, f"`Metrics` must keep the metrics already recorded: {lost}.")
        elif name in ("XLabel", "Status"):
            if not isinstance(value, (str, np.str_)):
                fail(func, f"`{name}` must be a str. Received: {_show(value)}.", TypeError)
            value = str(value)
        elif name == "Progress":
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or \
                    not 0 <= value <= 100:
                fail(func, f"`Progress` must be a number from 0 to 100. Received: "
                           f"{_show(value)}.")
            value = float(value)
        else:
            value = check_bool(func, name, value)
        self._state[name] = value
        if name == "Status":                      # rare, and worth showing at once
            self._refresh(force=True)
        elif name == "Progress":                  # set at every iteration: throttled
            self._refresh()

    def __repr__(self):
        return ("  TrainingProgressMonitor with properties:\n\n"
                f"       Metrics: {self._state['Metrics']}\n"
                f"          Info: {self._state['Info']}\n"
                f"        XLabel: {self._state['XLabel']!r}\n"
                f"          Stop: 0\n"
                f"      Progress: {self._state['Progress']:g}\n"
                f"        Status: {self._state['Status']!r}\n"
                f"       Visible: {int(self._state['Visible'])}\n"
                f"    MetricData: [1×1 struct]\n"
                f"      InfoData: [1×1 struct]")

    # -- the figure -------------------------------------------------------------------------------
    def _refresh(self, force=False):
        self._times["last"] = time.perf_counter()
        if not self._state["Visible"] or not self._metric_rows and not self.InfoData:
            return
        if self._figure is None:
            try:
                import matplotlib  # noqa: F401
            except ImportError:
                warnings.warn("trainingProgressMonitor: the plot needs matplotlib (pip install "
                              "\"lstmkit[plot]\"); the monitor keeps its data but draws nothing.",
                              RuntimeWarning, stacklevel=3)
                self._state["Visible"] = False
                return
            # the figure sees the monitor's data, not the monitor: no reference cycle, so in
            # file mode the last values are written when the monitor goes (or at exit)
            view = types.SimpleNamespace(state=self._state, metric_rows=self._metric_rows,
                                         info_data=self.InfoData, groups=self._groups,
                                         scales=self._scales, times=self._times)
            object.__setattr__(self, "_figure", _monitor_figure_class()(view))
            if self._figure.mode == "file":
                weakref.finalize(self, self._figure.refresh, force=True)
        figure = self._figure
        figure.refresh(force=force)
        if figure.mode == "file" and figure.written and not self._announced:
            object.__setattr__(self, "_announced", True)
            print(f"Training progress plot written to {figure.path}")

    def _subplots(self):
        return _subplots(self._state, self._groups)


def _recorded(metric_rows):
    """``{metric: its recorded (step, value) rows}``, read-only views of the buffers."""
    out = {}
    for name, (buffer, n) in metric_rows.items():
        view = buffer[:n]
        view.flags.writeable = False
        out[name] = view
    return out


def _subplots(state, groups):
    """``(label, metric names)`` per subplot: groups, then each ungrouped metric."""
    grouped = {m for names in groups.values() for m in names}
    plots = [(g, names) for g, names in groups.items()]
    plots += [(m, [m]) for m in state["Metrics"] if m not in grouped]
    return plots


@functools.lru_cache(maxsize=None)
def _monitor_figure_class():
    """The monitor's figure class (made on first use: matplotlib is an optional extra)."""
    from .progress import LiveFigure

    class MonitorFigure(LiveFigure):
        def __init__(self, view):
            super().__init__(None, func="trainingProgressMonitor")
            self.view = view

        def _draw(self):
            from .verbose import hms
            v = self.view
            self.fig.clear()
            plots = _subplots(v.state, v.groups)
            metric_data = _recorded(v.metric_rows)
            axes = self.fig.subplots(max(len(plots), 1), 1, sharex=True, squeeze=False)[:, 0]
            for ax, (label, names) in zip(axes, plots):
                for name in names:
                    data = metric_data.get(name)
                    if data is not None and len(data):
                        ax.plot(data[:, 0], data[:, 1], lw=1.2, label=name)
                ax.set_ylabel(label)
                ax.set_yscale(v.scales.get(names[0], "linear"))
                ax.grid(True, alpha=0.3)
                if len(names) > 1:
                    ax.legend(loc="best", fontsize=8)
            axes[-1].set_xlabel(v.state["XLabel"])
            info = ", ".join(f"{k}: {vals[-1]}" for k, vals in v.info_data.items() if vals)
            self.fig.suptitle(
                f"{v.state['Status']}   |   progress {v.state['Progress']:.0f}%   |   "
                f"elapsed {hms(v.times['last'] - v.times['start'])}"
                + (f"\n{info}" if info else ""), fontsize=10)

    return MonitorFigure


def _check_monitor(func, monitor):
    if not isinstance(monitor, TrainingProgressMonitor):
        fail(func, f"`monitor` must be a TrainingProgressMonitor (from trainingProgressMonitor()). "
                   f"Received: {_show(monitor)}.", TypeError)


def _values(func, monitor, structure, pairs, kind):
    """The name -> value pairs of a call (a dict, MATLAB's structure, and/or Name=Value)."""
    if structure is not None and not isinstance(structure, dict):
        fail(func, f"the {kind} must be given as Name=Value or as a dict (MATLAB's structure). "
                   f"Received: {_show(structure)}.", TypeError)
    values = dict(structure or {})
    values.update(pairs)
    if not values:
        fail(func, f"give at least one {kind} value, such as {func}(monitor, "
                   f"{'step, ' if kind == 'metric' else ''}Name=value).", TypeError)
    known = monitor._state["Metrics" if kind == "metric" else "Info"]
    for name in values:
        if name not in known:
            fail(func, f"{name!r} is not one of the monitor's "
                       f"{'Metrics' if kind == 'metric' else 'Info'} ({known}); set "
                       f"monitor.{'Metrics' if kind == 'metric' else 'Info'} first.")
    return values


def _scalar(func, name, value):
    from ..dlarrays import DLArray
    if isinstance(value, DLArray):
        value = value._data
    arr = np.asarray(value)
    if arr.size != 1 or arr.dtype.kind not in "fiub" or not np.isrealobj(arr):
        fail(func, f"`{name}` must be a real numeric scalar. Received: {_show(value)}.")
    return float(arr.reshape(()))


# -- the public functions ------------------------------------------------------------------------
@name_value_function()
def trainingProgressMonitor(*name_value: Any, Metrics: str | Sequence[str] = (),
                            Info: str | Sequence[str] = (), Visible: bool = True,
                            Progress: float = 0.0, Status: str = "Running",
                            XLabel: str = "Iteration") -> TrainingProgressMonitor:
    """A progress monitor for a custom training loop, as MATLAB's ``trainingProgressMonitor``.

    Parameters
    ----------
    Metrics : str or list of str
        The metrics to plot (each in its own subplot unless grouped).
    Info : str or list of str
        The information fields to show.
    Visible : bool, default True
        False draws nothing (the data are still kept).
    Progress : float, default 0
        Percentage, 0 to 100.
    Status : str, default 'Running'
    XLabel : str, default 'Iteration'

    Returns
    -------
    TrainingProgressMonitor
        Its elapsed time starts now.

    Examples
    --------
    >>> from lstmkit import *
    >>> monitor = trainingProgressMonitor(Metrics="Loss", Info="Epoch", Visible=False)
    >>> for iteration in range(1, 4):
    ...     recordMetrics(monitor, iteration, Loss=1.0 / iteration)
    ...     updateInfo(monitor, Epoch=1)
    ...     monitor.Progress = 100 * iteration / 3
    >>> monitor.MetricData["Loss"][:, 1].round(3).tolist(), monitor.Stop
    ([1.0, 0.5, 0.333], False)
    """
    monitor = TrainingProgressMonitor()
    monitor.Visible = Visible
    monitor.Metrics = Metrics
    monitor.Info = Info
    monitor.XLabel = XLabel
    monitor.Status = Status
    monitor.Progress = Progress
    return monitor


@checked_call
def recordMetrics(monitor: TrainingProgressMonitor, step: float, metrics: dict | None = None,
                  **values: Any) -> None:
    """Record metric values at a step, as MATLAB's ``recordMetrics``.

    Parameters
    ----------
    monitor : TrainingProgressMonitor
    step : float
        The horizontal coordinate (the iteration).
    metrics : dict, optional
        MATLAB's ``recordMetrics(monitor, step, metricStructure)``.
    **values
        ``Name=value`` for metrics of ``monitor.Metrics`` (real scalars or
        scalar dlarrays).

    Examples
    --------
    >>> from lstmkit import *
    >>> monitor = trainingProgressMonitor(Metrics=["TrainingLoss", "ValidationLoss"],
    ...                                   Visible=False)
    >>> recordMetrics(monitor, 1, TrainingLoss=0.9, ValidationLoss=1.1)
    >>> recordMetrics(monitor, 2, {"TrainingLoss": 0.7})
    >>> monitor.MetricData["TrainingLoss"].tolist()
    [[1.0, 0.9], [2.0, 0.7]]
    """
    func = "recordMetrics"
    _check_monitor(func, monitor)
    step = _scalar(func, "step", step)
    values = _values(func, monitor, metrics, values, "metric")
    rows = {name: _scalar(func, name, v) for name, v in values.items()}  # all checked first
    for name, value in rows.items():
        entry = monitor._metric_rows.setdefault(name, [np.empty((16, 2)), 0])
        buffer, n = entry
        if n == len(buffer):
            entry[0] = buffer = np.concatenate([buffer, np.empty_like(buffer)])
        buffer[n] = step, value
        entry[1] = n + 1
    monitor._refresh()


@checked_call
def updateInfo(monitor: TrainingProgressMonitor, info: dict | None = None,
               **values: Any) -> None:
    """Update information fields, as MATLAB's ``updateInfo``.

    Parameters
    ----------
    monitor : TrainingProgressMonitor
    info : dict, optional
        MATLAB's ``updateInfo(monitor, infoStructure)``.
    **values
        ``Name=value`` for fields of ``monitor.Info`` (numbers or text).

    Examples
    --------
    >>> from lstmkit import *
    >>> monitor = trainingProgressMonitor(Info=["Epoch", "LearnRate"], Visible=False)
    >>> updateInfo(monitor, Epoch=1, LearnRate=0.01)
    >>> updateInfo(monitor, Epoch="2 of 5")
    >>> monitor.InfoData["Epoch"]
    [1, '2 of 5']
    """
    func = "updateInfo"
    _check_monitor(func, monitor)
    values = _values(func, monitor, info, values, "information")
    for name, value in values.items():
        if not isinstance(value, (str, numbers.Number, np.generic)):
            fail(func, f"`{name}` must be a number or text. Received: {_show(value)}.",
                 TypeError)
    for name, value in values.items():
        monitor.InfoData.setdefault(name, []).append(value.item() if isinstance(
            value, np.generic) else value)
    monitor._refresh()


@checked_call
def groupSubPlot(monitor: TrainingProgressMonitor, groupName: str,
                 metricNames: str | Sequence[str]) -> None:
    """Plot several metrics in one subplot, as MATLAB's ``groupSubPlot``.

    Parameters
    ----------
    monitor : TrainingProgressMonitor
    groupName : str
        The subplot's y-axis label.
    metricNames : str or list of str
        Metrics of ``monitor.Metrics``, of one y-axis scale.

    Examples
    --------
    >>> from lstmkit import *
    >>> monitor = trainingProgressMonitor(Metrics=["TrainingLoss", "ValidationLoss"],
    ...                                   Visible=False)
    >>> groupSubPlot(monitor, "Loss", ["TrainingLoss", "ValidationLoss"])
    """
    func = "groupSubPlot"
    _check_monitor(func, monitor)
    if not isinstance(groupName, (str, np.str_)) or not str(groupName):
        fail(func, f"`groupName` must be a non-empty str. Received: {_show(groupName)}.",
             TypeError)
    names = _names(func, "metricNames", metricNames)
    unknown = [m for m in names if m not in monitor._state["Metrics"]]
    if unknown:
        fail(func, f"{unknown} are not among the monitor's Metrics ({monitor.Metrics}).")
    if len({monitor._scales.get(m, "linear") for m in names}) > 1:
        fail(func, "the metrics of a group must have the same y-axis scale (see yscale).")
    for group, members in list(monitor._groups.items()):   # a metric is in one group
        monitor._groups[group] = [m for m in members if m not in names]
        if not monitor._groups[group]:
            del monitor._groups[group]
    monitor._groups[str(groupName)] = names


@checked_call
def yscale(monitor: TrainingProgressMonitor, metricNames: str | Sequence[str],
           scale: str) -> None:
    """Set the y-axis scale of metrics' subplots, as MATLAB's ``yscale(monitor, ...)``.

    Parameters
    ----------
    monitor : TrainingProgressMonitor
    metricNames : str or list of str
        Metrics, or the names of groups (all their metrics).
    scale : {'linear', 'log'}

    Examples
    --------
    >>> from lstmkit import *
    >>> monitor = trainingProgressMonitor(Metrics="Loss", Visible=False)
    >>> yscale(monitor, "Loss", "log")
    """
    func = "yscale"
    _check_monitor(func, monitor)
    if not isinstance(scale, str) or scale.lower() not in ("linear", "log"):
        fail(func, f"`scale` must be 'linear' or 'log'. Received: {_show(scale)}.")
    names = []
    for name in _names(func, "metricNames", metricNames):
        if name in monitor._groups:
            names += monitor._groups[name]
        elif name in monitor._state["Metrics"]:
            names.append(name)
        else:
            fail(func, f"{name!r} is neither a metric ({monitor.Metrics}) nor a group "
                       f"({list(monitor._groups)}) of the monitor.")
    for name in names:
        monitor._scales[name] = scale.lower()
