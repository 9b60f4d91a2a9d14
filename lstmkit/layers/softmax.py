"""softmaxLayer: softmax over channels, at every time step."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_name, name_value_function
from ..kernels.dense import softmax_backward, softmax_forward
from .base import Layer


class SoftmaxLayer(Layer):
    """Softmax layer (create it with :func:`softmaxLayer`)."""

    type_name = "Softmax"
    default_name = "softmax"

    @property
    def Description(self):
        return "softmax"

    def _forward(self, x, batch, state, training, dtype):
        y = np.empty_like(x)
        softmax_forward(x, y)
        return y, (y if training else None), None

    def _backward(self, dy, cache, grads, need_dx):
        y = cache
        dz = np.empty_like(y)
        softmax_backward(y, dy, dz)
        return dz


@name_value_function()
def softmaxLayer(*name_value: Any, Name: str = "") -> SoftmaxLayer:
    """Softmax layer, as MATLAB's ``softmaxLayer``: softmax over the channels, at every time step.

    Parameters
    ----------
    Name : str, default ''
        Layer name.

    Returns
    -------
    SoftmaxLayer

    Examples
    --------
    >>> from lstmkit import softmaxLayer
    >>> softmaxLayer(Name="sm").Name
    'sm'
    """
    return SoftmaxLayer(check_name("softmaxLayer", Name))
