"""MATLAB's verbose training table."""

import sys


def _hms(seconds):
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
        Selects the Accuracy (percent) or RMSE column.
    stream : file-like, optional
        Where to print (default ``sys.stdout``).
    """

    WIDTHS = (9, 13, 16, 14, 14, 17)

    def __init__(self, task, stream=None):
        self.task = task
        self.stream = stream or sys.stdout

    def _line(self, cells, align="right"):
        parts = []
        for cell, w in zip(cells, self.WIDTHS):
            if align == "center":  # odd padding goes right, as MATLAB's table has it
                left = (w - len(cell)) // 2
                parts.append(" " * left + cell + " " * (w - len(cell) - left))
            else:
                parts.append(cell.rjust(w - 1) + " ")
        return "|" + "|".join(parts) + "|"

    def _print(self, text):
        print(text, file=self.stream, flush=True)

    def start(self, normalizing):
        rule = "|" + "=" * (sum(self.WIDTHS) + len(self.WIDTHS) - 1) + "|"
        metric = "Accuracy" if self.task == "classification" else "RMSE"
        self._print("Training on single CPU.")
        if normalizing:
            self._print("Initializing input data normalization.")
        self._print(rule)
        self._print(self._line(["Epoch", "Iteration", "Time Elapsed", "Mini-batch", "Mini-batch",
                                "Base Learning"], "center"))
        self._print(self._line(["", "", "(hh:mm:ss)", metric, "Loss", "Rate"], "center"))
        self._print(rule)
        self.rule = rule

    def row(self, epoch, iteration, elapsed, metric, loss, learn_rate):
        shown = f"{metric:.2f}%" if self.task == "classification" else f"{metric:.2f}"
        self._print(self._line([str(epoch), str(iteration), _hms(elapsed), shown, f"{loss:.4f}",
                                format_learn_rate(learn_rate)]))

    def finish(self, reason):
        self._print(self.rule)
        self._print(f"Training finished: {reason}.")
