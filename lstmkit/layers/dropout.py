"""dropoutLayer: inverted dropout in training, identity in prediction."""

from __future__ import annotations

from typing import Any

from .._random import global_rng
from .._validation import check_name, check_real, name_value_function
from .base import Layer


class DropoutLayer(Layer):
    """Dropout layer (create it with :func:`dropoutLayer`).

    In training each element is zeroed with probability ``Probability`` and the
    others are scaled by ``1 / (1 - Probability)`` (inverted dropout), so
    prediction is the identity.  On sequences the mask is drawn independently
    for every time step and channel.  The mask comes from lstmkit's random
    generator (:func:`lstmkit.rng`), so training is reproducible.
    """

    type_name = "Dropout"
    default_name = "dropout"

    @property
    def Description(self):
        return f"{100 * self.Probability:g}% dropout"

    def _display_properties(self):
        return ["Name", "Probability"]

    def _forward(self, x, batch, state, training, dtype):
        if not training or self.Probability == 0:
            return x, None, None
        keep = global_rng().random(x.shape) >= self.Probability
        mask = keep.astype(dtype) * dtype.type(1.0 / (1.0 - self.Probability))
        return x * mask, mask, None

    def _backward(self, dy, cache, grads, need_dx):
        return dy if cache is None else dy * cache


@name_value_function()
def dropoutLayer(Probability: float = 0.5, *name_value: Any, Name: str = "") -> DropoutLayer:
    """Dropout layer, as MATLAB's ``dropoutLayer``.

    Parameters
    ----------
    Probability : float in [0, 1), default 0.5
        Probability of dropping an element; given first without its name, as
        in MATLAB's ``dropoutLayer(0.2)``, or by name.
    Name : str, default ''
        Layer name.

    Returns
    -------
    DropoutLayer

    Examples
    --------
    >>> from lstmkit import dropoutLayer
    >>> dropoutLayer(0.2).Probability
    0.2
    >>> dropoutLayer("Name", "drop1").Probability    # MATLAB: dropoutLayer('Name','drop1')
    0.5
    """
    func = "dropoutLayer"
    layer = DropoutLayer(check_name(func, Name))
    layer.Probability = check_real(func, "Probability", Probability, low=0.0, high=1.0,
                                   high_open=True)
    return layer
