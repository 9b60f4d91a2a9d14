"""Plots='training-progress': a matplotlib figure like MATLAB's training-progress plot.

Two panels against the iteration: accuracy (classification) or RMSE
(regression) on top, loss below; the raw mini-batch values, a smoothed curve,
the validation points, alternating bands for the epochs, and the final values
with the stop reason.  Where it appears:

* ``'window'``: an interactive matplotlib backend (a desktop session,
  ``%matplotlib qt`` or ``widget``): a window updated live;
* ``'notebook'``: a Jupyter (or VS Code) notebook with the default inline
  backend: an image in the cell's output, replaced in place as training runs
  (IPython's display handles);
* ``'file'``: no display: a PNG file, written at the end of every epoch and of
  training (atomically), its path printed.  Unless ``ProgressPlotFile`` names
  one, every run writes its own ``training-progress-<date>-<time>.png``.
"""

import datetime
import io
import os
import time
import warnings

import numpy as np

from .verbose import hms

_NON_INTERACTIVE = {"agg", "pdf", "ps", "svg", "pgf", "cairo", "template",
                    "module://matplotlib_inline.backend_inline", "inline"}

#: least seconds between redraws of a live figure (a redraw costs tens of milliseconds)
REDRAW_SECONDS = {"window": 0.5, "notebook": 1.0, "file": 2.0}
#: the most of the training time that drawing may take: after a draw that took
#: d seconds, the next waits at least d / PLOT_BUDGET (a file written at every
#: epoch end doubled the run time of scripts with many short epochs)
PLOT_BUDGET = 0.03


def in_notebook():
    """Whether this process is a Jupyter kernel (IPython's ZMQ shell)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def choose_mode():
    """'window', 'notebook' or 'file' for the current matplotlib backend and session."""
    import matplotlib
    if matplotlib.get_backend().lower() not in _NON_INTERACTIVE:
        return "window"
    return "notebook" if in_notebook() else "file"


def run_file_name(folder="."):
    """``training-progress-<yyyymmdd>-<hhmmss>.png`` in ``folder``, not yet taken."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = os.path.join(folder, f"training-progress-{stamp}.png")
    k = 1
    while os.path.exists(path):
        path = os.path.join(folder, f"training-progress-{stamp}-{k}.png")
        k += 1
    return path


def smooth(values, weight=0.6):
    """Exponential moving average with bias correction (the curve MATLAB draws darker)."""
    out = np.empty(len(values))
    avg, norm = 0.0, 0.0
    for i, v in enumerate(values):
        avg = weight * avg + (1 - weight) * v
        norm = weight * norm + (1 - weight)
        out[i] = avg / norm
    return out


class LiveFigure:
    """A matplotlib figure shown where the session can show it, redrawn sparingly.

    ``'window'`` (an interactive backend: a window updated live), ``'notebook'`` (an
    image in the cell's output, replaced in place) or ``'file'`` (a PNG written
    atomically; a write that fails is one warning).  Redraws are throttled so that
    drawing takes at most :data:`PLOT_BUDGET` of the time.  Subclasses draw in
    :meth:`_draw`.  Shared by trainNetwork's progress plot and
    :class:`lstmkit.training.monitor.TrainingProgressMonitor`.
    """

    def __init__(self, path, mode=None, func="trainNetwork", figsize=(10, 7)):
        self.func = func
        self._write_failed = False
        self.mode = mode or choose_mode()
        self.path = None
        if self.mode == "file":
            self.path = os.fspath(path) if path is not None else run_file_name()
        if self.mode == "window":
            import matplotlib.pyplot as plt
            self._plt = plt
            plt.ion()
            self.fig = plt.figure(figsize=figsize)
        else:
            from matplotlib.figure import Figure
            self.fig = Figure(figsize=figsize)
        self._next_draw = 0.0
        self._handle = None
        self.written = False

    def _due(self, force):
        return force or time.perf_counter() >= self._next_draw

    def _drawn(self, began):
        """Schedule the next draw after one that began at ``began`` (see PLOT_BUDGET)."""
        now = time.perf_counter()
        self._next_draw = now + max(REDRAW_SECONDS[self.mode], (now - began) / PLOT_BUDGET)

    def refresh(self, *args, force=False):
        """Redraw with ``_draw(*args)`` where the figure is shown (a file: written), unless
        the last draw was too recent (see PLOT_BUDGET) and ``force`` is False."""
        if not self._due(force):
            return
        began = time.perf_counter()
        self._draw(*args)
        if self.mode == "file":
            self.written = self._write() or self.written
        else:
            self._show()
        self._drawn(began)

    def _show(self):
        if self.mode == "window":
            self.fig.canvas.draw_idle()
            self._plt.pause(0.001)
            return
        from IPython.display import Image, display
        buffer = io.BytesIO()
        self.fig.savefig(buffer, format="png", dpi=80)
        image = Image(data=buffer.getvalue(), format="png")
        if self._handle is None:
            self._handle = display(image, display_id=True)
        else:
            self._handle.update(image)

    def _write(self):
        """Write the file; a failure (a full disk) is a warning, once: training goes on."""
        from .._files import write_atomically
        try:
            write_atomically(self.path, lambda f: self.fig.savefig(f, dpi=90, format="png"),
                             func=self.func)
        except OSError as err:
            if not self._write_failed:
                warnings.warn(f"{err.strerror or err}; the training progress plot is not saved (training goes "
                              f"on, and the file's previous contents, if any, are kept).",
                              RuntimeWarning, stacklevel=2)
            self._write_failed = True
            return False
        return True

    def _draw(self, *args):
        raise NotImplementedError


class ProgressPlot(LiveFigure):
    """The training-progress figure.

    Parameters
    ----------
    task : {'classification', 'regression'}
    validation : bool
        Whether validation points will be drawn.
    path : str or None
        PNG written in 'file' mode; None names one per run.
    mode : {'window', 'notebook', 'file'}, optional
        Where the figure goes (default: :func:`choose_mode`).
    """

    def __init__(self, task, validation, path, mode=None, metric_label=None, func="trainNetwork"):
        super().__init__(path, mode, func)
        self.task, self.validation = task, validation
        self.metric_label = metric_label
        self.ax_metric, self.ax_loss = self.fig.subplots(2, 1, sharex=True)
        self.epoch_starts = [1]

    def new_epoch(self, iteration):
        """Mark that the epoch starting at ``iteration`` (1-based) begins."""
        if iteration != self.epoch_starts[-1]:
            self.epoch_starts.append(iteration)

    def update(self, history, force=False):
        """Redraw a live figure from ``history`` (throttled: see PLOT_BUDGET) unless forced."""
        if self.mode != "file":
            self.refresh(history, None, None, force=force)

    def checkpoint(self, history, force=False):
        """At an epoch end without a display: write the file so far (throttled likewise)."""
        if self.mode == "file":
            self.refresh(history, None, None, force=force)

    def finish(self, history, reason, elapsed):
        """Final drawing with the stop reason; writes the file when there is no display."""
        self._draw(history, reason, elapsed)
        if self.mode == "file":
            self.written = self._write()
            if self.written:
                print(f"Training progress plot written to {self.path}")
        else:
            self._show()
            if self.mode == "window":
                self._plt.ioff()

    def _draw(self, h, reason, elapsed):
        metric_name = "Accuracy (%)" if self.task == "classification" else "RMSE"
        if self.metric_label is not None:
            metric_name = self.metric_label + (" (%)" if self.task == "classification" else "")
        it = np.arange(1, len(h["loss"]) + 1)
        for ax, key, val_key, label in ((self.ax_metric, "metric", "val_metric", metric_name),
                                        (self.ax_loss, "loss", "val_loss", "Loss")):
            ax.clear()
            last = len(it)
            for k, start in enumerate(self.epoch_starts):
                stop = self.epoch_starts[k + 1] if k + 1 < len(self.epoch_starts) else last + 1
                if k % 2 == 1:
                    ax.axvspan(start - 0.5, stop - 0.5, color="0.93", zorder=0)
            if last:
                raw = np.asarray(h[key], dtype=float)
                ax.plot(it, raw, color="#8fb8de" if key == "metric" else "#f4b183", lw=0.8,
                        label="Training")
                ax.plot(it, smooth(raw), color="#1f5f9f" if key == "metric" else "#c55a11",
                        lw=1.6, label="Training (smoothed)")
            vit = np.asarray(h["val_iteration"], dtype=float)
            if len(vit):
                ax.plot(vit, h[val_key], "k--o", ms=4, lw=1, label="Validation")
            ax.set_ylabel(label)
            ax.grid(True, alpha=0.3)
            if key == "metric" and self.task == "classification":
                ax.set_ylim(0, 100)
            ax.legend(loc="best", fontsize=8)
        self.ax_loss.set_xlabel("Iteration")
        title = "Training progress"
        if reason is not None:
            final = []
            if h["metric"]:
                final.append(f"training {self._fmt(h['metric'][-1])}")
            if h["val_metric"]:
                final.append(f"validation {self._fmt(h['final_val_metric'])}")
            title = (f"Training finished: {reason}   |   elapsed {hms(elapsed)}   |   "
                     f"{len(it)} iterations, {len(self.epoch_starts)} epochs\n"
                     f"Final {self.metric_label or self._default_label()}: "
                     + (", ".join(final) if final else "n/a"))
        self.fig.suptitle(title, fontsize=10)

    def _fmt(self, value):
        return f"{value:.2f}%" if self.task == "classification" else f"{value:.4g}"

    def _default_label(self):
        return "accuracy" if self.task == "classification" else "RMSE"
