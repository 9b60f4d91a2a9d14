"""Plots='training-progress': a matplotlib figure like MATLAB's training-progress plot.

Two panels against the iteration: accuracy (classification) or RMSE
(regression) on top, loss below; the raw mini-batch values, a smoothed curve,
the validation points, alternating bands for the epochs, and the final values
with the stop reason.  In an interactive matplotlib session the figure is
updated live; without a display (matplotlib's backend is non-interactive) it
is written to a PNG file at the end of every epoch and of training, and its
path is printed.
"""

import time

import numpy as np

from .verbose import hms

_NON_INTERACTIVE = {"agg", "pdf", "ps", "svg", "pgf", "cairo", "template",
                    "module://matplotlib_inline.backend_inline", "inline"}


def smooth(values, weight=0.6):
    """Exponential moving average with bias correction (the curve MATLAB draws darker)."""
    out = np.empty(len(values))
    avg, norm = 0.0, 0.0
    for i, v in enumerate(values):
        avg = weight * avg + (1 - weight) * v
        norm = weight * norm + (1 - weight)
        out[i] = avg / norm
    return out


class ProgressPlot:
    """The training-progress figure.

    Parameters
    ----------
    task : {'classification', 'regression'}
    validation : bool
        Whether validation points will be drawn.
    path : str
        PNG written when there is no display.
    interactive : bool, optional
        Force live updating on or off (default: from matplotlib's backend).
    """

    def __init__(self, task, validation, path, interactive=None):
        import matplotlib
        self.task, self.validation, self.path = task, validation, path
        backend = matplotlib.get_backend().lower()
        self.live = (backend not in _NON_INTERACTIVE) if interactive is None else interactive
        if self.live:
            import matplotlib.pyplot as plt
            self._plt = plt
            plt.ion()
            self.fig = plt.figure(figsize=(10, 7))
        else:
            from matplotlib.figure import Figure
            self.fig = Figure(figsize=(10, 7))
        self.ax_metric, self.ax_loss = self.fig.subplots(2, 1, sharex=True)
        self.epoch_starts = [1]
        self._last_draw = 0.0
        self.written = False

    def new_epoch(self, iteration):
        """Mark that the epoch starting at ``iteration`` (1-based) begins."""
        if iteration != self.epoch_starts[-1]:
            self.epoch_starts.append(iteration)

    def update(self, history, force=False):
        """Redraw from ``history`` (live: at most twice a second unless forced)."""
        now = time.perf_counter()
        if not self.live or (not force and now - self._last_draw < 0.5):
            return
        self._draw(history, None, None)
        self.fig.canvas.draw_idle()
        self._plt.pause(0.001)
        self._last_draw = now

    def checkpoint(self, history):
        """At an epoch end without a display: write the file so far."""
        if not self.live:
            self._draw(history, None, None)
            self.fig.savefig(self.path, dpi=90)

    def finish(self, history, reason, elapsed):
        """Final drawing with the stop reason; writes the file when there is no display."""
        self._draw(history, reason, elapsed)
        if self.live:
            self.fig.canvas.draw_idle()
            self._plt.pause(0.001)
            self._plt.ioff()
        else:
            self.fig.savefig(self.path, dpi=90)
            self.written = True
            print(f"Training progress plot written to {self.path}")

    def _draw(self, h, reason, elapsed):
        metric_name = "Accuracy (%)" if self.task == "classification" else "RMSE"
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
                     f"Final {'accuracy' if self.task == 'classification' else 'RMSE'}: "
                     + (", ".join(final) if final else "n/a"))
        self.fig.suptitle(title, fontsize=10)

    def _fmt(self, value):
        return f"{value:.2f}%" if self.task == "classification" else f"{value:.4g}"
