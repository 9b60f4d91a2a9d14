"""MATLAB's verbose training table."""

import sys


def hms(seconds):
    """hh:mm:ss, as MATLAB's Time Elapsed column."""
    s = int(seconds)
    return f"{s // 3600:02d}:{(s % 3600) // 60:02d}:{s % 60:02d}"


def format_learn_rate(value):
    """'0.0100' for ordinary rates, '1.0000e-04' for small ones, as MATLAB prints them."""
    return f"{value:.4f}" if value == 0 or value >= 1e-3 else f"{value:.4e}"


class VerboseTable:
    """Prints the table of trainNetwork's ``Verbose`` option.

    Parameters
    ----------
    task : {'classification', 'regression'}
        Selects the Accuracy (percent) or RMSE columns.
    validation : bool
        Adds MATLAB's Validation Accuracy/RMSE and Validation Loss columns
        (the table is then 120 characters wide).
    stream : file-like, optional
        Where to print (default ``sys.stdout``).
    """

    def __init__(self, task, validation=False, stream=None):
        self.task = task
        self.validation = validation
        self.stream = stream or sys.stdout
        self.widths = (9, 13, 16, 14, 14, 14, 14, 17) if validation else (9, 13, 16, 14, 14, 17)
        self.rule = "|" + "=" * (sum(self.widths) + len(self.widths) - 1) + "|"

    def _line(self, cells, center=False):
        parts = []
        for cell, w in zip(cells, self.widths):
            if center:  # odd padding goes right, as MATLAB's table has it
                left = (w - len(cell)) // 2
                parts.append(" " * left + cell + " " * (w - len(cell) - left))
            else:
                parts.append(cell.rjust(w - 1) + " " if cell else " " * w)
        return "|" + "|".join(parts) + "|"

    def _print(self, text):
        print(text, file=self.stream, flush=True)

    def start(self, normalizing):
        metric = "Accuracy" if self.task == "classification" else "RMSE"
        self._print("Training on single CPU.")
        if normalizing:
            self._print("Initializing input data normalization.")
        self._print(self.rule)
        if self.validation:
            top = ["Epoch", "Iteration", "Time Elapsed", "Mini-batch", "Validation", "Mini-batch",
                   "Validation", "Base Learning"]
            bottom = ["", "", "(hh:mm:ss)", metric, metric, "Loss", "Loss", "Rate"]
        else:
            top = ["Epoch", "Iteration", "Time Elapsed", "Mini-batch", "Mini-batch",
                   "Base Learning"]
            bottom = ["", "", "(hh:mm:ss)", metric, "Loss", "Rate"]
        self._print(self._line(top, center=True))
        self._print(self._line(bottom, center=True))
        self._print(self.rule)

    def _metric(self, value):
        if value is None:
            return ""
        return f"{value:.2f}%" if self.task == "classification" else f"{value:.2f}"

    def row(self, epoch, iteration, elapsed, learn_rate, loss, metrics, val_loss=None,
            val_metrics=None):
        """One row; ``metrics`` and ``val_metrics`` hold the one Accuracy or RMSE value."""
        metric = metrics[0] if metrics else None
        val_metric = val_metrics[0] if val_metrics else None
        cells = [str(epoch), str(iteration), hms(elapsed), self._metric(metric)]
        if self.validation:
            cells += [self._metric(val_metric), f"{loss:.4f}",
                      "" if val_loss is None else f"{val_loss:.4f}"]
        else:
            cells.append(f"{loss:.4f}")
        cells.append(format_learn_rate(learn_rate))
        self._print(self._line(cells))

    def finish(self, reason):
        self._print(self.rule)
        self._print(f"Training finished: {reason}.")
