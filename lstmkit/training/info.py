"""TrainingInfo: MATLAB's second output of trainNetwork, as an attribute struct."""

import numpy as np


class TrainingInfo:
    """Per-iteration training history, as MATLAB's ``info`` struct.

    Attributes
    ----------
    TrainingLoss : ndarray
        Mini-batch loss of every iteration.
    TrainingAccuracy : ndarray
        Mini-batch accuracy in percent (classification networks).
    TrainingRMSE : ndarray
        Mini-batch root-mean-squared error (regression networks).
    BaseLearnRate : ndarray
        Learning rate of every iteration.
    StopReason : str
        Why training stopped ("Max epochs completed", ...).

    Fields are also readable as ``info["TrainingLoss"]``.
    """

    def __init__(self, **fields):
        self._fields = list(fields)
        for key, value in fields.items():
            setattr(self, key, value)

    def __getitem__(self, key):
        if key not in self._fields:
            raise KeyError(key)
        return getattr(self, key)

    def keys(self):
        return list(self._fields)

    def __repr__(self):
        width = max(len(k) for k in self._fields)
        lines = []
        for key in self._fields:
            value = getattr(self, key)
            if isinstance(value, np.ndarray):
                text = f"[1×{value.size} double]"
            elif isinstance(value, str):
                text = f'"{value}"'
            else:
                text = str(value)
            lines.append(f"    {key:>{width}}: {text}")
        return "\n".join(lines)
