"""softmaxLayer: softmax over channels, at every time step."""

import numpy as np

from .._validation import check_name, parse_name_value
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


def softmaxLayer(*args, **kwargs):
    """Softmax layer, as MATLAB's ``softmaxLayer``.

    Parameters
    ----------
    Name : str, default ''

    Returns
    -------
    SoftmaxLayer
    """
    opts = parse_name_value("softmaxLayer", args, kwargs, ("Name",))
    return SoftmaxLayer(check_name("softmaxLayer", opts.get("Name", "")))
