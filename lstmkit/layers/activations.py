"""Elementwise activation layers: reluLayer, leakyReluLayer, clippedReluLayer, eluLayer,
tanhLayer, sigmoidLayer, swishLayer, geluLayer.

Each applies its function to every element, at every time step of a sequence,
so padding cannot change a result.  The kernels are in
:mod:`lstmkit.kernels.elementwise`.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from .._validation import check_choice, check_name, check_real, name_value_function
from ..kernels import elementwise as kernels
from .base import Layer


class ActivationLayer(Layer):
    """An elementwise activation (create one with :func:`reluLayer` and the like)."""

    code = kernels.RELU
    #: whether the output is a probability (sigmoid: binary cross-entropy may follow)
    outputs_probabilities = False

    def _param(self):
        return 0.0

    def _forward(self, x, batch, state, training, dtype):
        y = np.empty_like(x)
        kernels.activation_forward(self._kernel_code(), x, y, self._param())
        return y, ((x, y) if training else None), None

    def _backward(self, dy, cache, grads, need_dx):
        if not need_dx:
            return None
        x, y = cache
        dx = np.empty_like(dy)
        kernels.activation_backward(self._kernel_code(), x, y, np.ascontiguousarray(dy), dx,
                                    self._param())
        return dx

    def _kernel_code(self):
        return self.code


class ReLULayer(ActivationLayer):
    """ReLU layer, ``max(x, 0)`` (create it with :func:`reluLayer`)."""

    type_name = "ReLU"
    default_name = "relu"

    @property
    def Description(self):
        return "ReLU"


class LeakyReLULayer(ActivationLayer):
    """Leaky ReLU layer, ``x`` for ``x >= 0`` else ``Scale * x`` (create it with :func:`leakyReluLayer`)."""

    type_name = "Leaky ReLU"
    default_name = "leakyrelu"
    code = kernels.LEAKY_RELU

    @property
    def Description(self):
        return f"Leaky ReLU with scale {self.Scale:g}"

    def _display_properties(self):
        return ["Name", "Scale"]

    def _param(self):
        return self.Scale


class ClippedReLULayer(ActivationLayer):
    """Clipped ReLU layer, ``min(max(x, 0), Ceiling)`` (create it with :func:`clippedReluLayer`)."""

    type_name = "Clipped ReLU"
    default_name = "clippedrelu"
    code = kernels.CLIPPED_RELU

    @property
    def Description(self):
        return f"Clipped ReLU with ceiling {self.Ceiling:g}"

    def _display_properties(self):
        return ["Name", "Ceiling"]

    def _param(self):
        return self.Ceiling


class ELULayer(ActivationLayer):
    """ELU layer, ``x`` for ``x >= 0`` else ``Alpha * (exp(x) - 1)`` (create it with :func:`eluLayer`)."""

    type_name = "ELU"
    default_name = "elu"
    code = kernels.ELU

    @property
    def Description(self):
        return f"ELU with Alpha {self.Alpha:g}"

    def _display_properties(self):
        return ["Name", "Alpha"]

    def _param(self):
        return self.Alpha


class TanhLayer(ActivationLayer):
    """Hyperbolic tangent layer (create it with :func:`tanhLayer`)."""

    type_name = "Tanh"
    default_name = "tanh"
    code = kernels.TANH

    @property
    def Description(self):
        return "Hyperbolic tangent"


class SigmoidLayer(ActivationLayer):
    """Sigmoid layer, ``1 / (1 + exp(-x))`` (create it with :func:`sigmoidLayer`)."""

    type_name = "Sigmoid"
    default_name = "sigmoid"
    code = kernels.SIGMOID
    outputs_probabilities = True

    @property
    def Description(self):
        return "sigmoid"


class SwishLayer(ActivationLayer):
    """Swish layer, ``x * sigmoid(x)`` (create it with :func:`swishLayer`)."""

    type_name = "Swish"
    default_name = "swish"
    code = kernels.SWISH

    @property
    def Description(self):
        return "swish"


class GELULayer(ActivationLayer):
    """GELU layer (create it with :func:`geluLayer`)."""

    type_name = "GELU"
    default_name = "gelu"

    @property
    def Description(self):
        return "GELU"

    def _display_properties(self):
        return ["Name", "Approximation"]

    def _kernel_code(self):
        return kernels.GELU_ERF if self.Approximation == "none" else kernels.GELU_TANH


def _make(cls, func, Name, **props):
    layer = cls(check_name(func, Name))
    for key, value in props.items():
        setattr(layer, key, value)
    return layer


@name_value_function()
def reluLayer(*name_value: Any, Name: str = "") -> ReLULayer:
    """ReLU layer, as MATLAB's ``reluLayer``: ``max(x, 0)``.

    Parameters
    ----------
    Name : str, default ''

    Returns
    -------
    ReLULayer

    Examples
    --------
    >>> from lstmkit import *
    >>> layers = [sequenceInputLayer(3), lstmLayer(8), reluLayer(), fullyConnectedLayer(1)]
    >>> reluLayer().Description
    'ReLU'
    """
    return _make(ReLULayer, "reluLayer", Name)


@name_value_function()
def leakyReluLayer(scale: float = 0.01, *name_value: Any, Name: str = "") -> LeakyReLULayer:
    """Leaky ReLU layer, as MATLAB's ``leakyReluLayer``: ``x`` if ``x >= 0`` else ``scale * x``.

    Parameters
    ----------
    scale : float, default 0.01
        The slope for negative inputs (MATLAB's ``Scale`` property), given
        first without its name, as in MATLAB.
    Name : str, default ''

    Returns
    -------
    LeakyReLULayer

    Examples
    --------
    >>> from lstmkit import leakyReluLayer
    >>> leakyReluLayer(0.2).Scale
    0.2
    """
    func = "leakyReluLayer"
    return _make(LeakyReLULayer, func, Name, Scale=check_real(func, "scale", scale))


@name_value_function()
def clippedReluLayer(ceiling: float, *name_value: Any, Name: str = "") -> ClippedReLULayer:
    """Clipped ReLU layer, as MATLAB's ``clippedReluLayer``: ``min(max(x, 0), ceiling)``.

    Parameters
    ----------
    ceiling : float
        Positive: the largest output (MATLAB's ``Ceiling`` property).
    Name : str, default ''

    Returns
    -------
    ClippedReLULayer

    Examples
    --------
    >>> from lstmkit import clippedReluLayer
    >>> clippedReluLayer(10).Ceiling
    10.0
    """
    func = "clippedReluLayer"
    return _make(ClippedReLULayer, func, Name,
                 Ceiling=check_real(func, "ceiling", ceiling, low=0.0, low_open=True))


@name_value_function()
def eluLayer(alpha: float = 1.0, *name_value: Any, Name: str = "") -> ELULayer:
    """ELU layer, as MATLAB's ``eluLayer``: ``x`` if ``x >= 0`` else ``alpha (exp(x) - 1)``.

    Parameters
    ----------
    alpha : float, default 1
        Positive (MATLAB's ``Alpha`` property).
    Name : str, default ''

    Returns
    -------
    ELULayer

    Examples
    --------
    >>> from lstmkit import eluLayer
    >>> eluLayer().Alpha
    1.0
    """
    func = "eluLayer"
    return _make(ELULayer, func, Name, Alpha=check_real(func, "alpha", alpha, low=0.0,
                                                        low_open=True))


@name_value_function()
def tanhLayer(*name_value: Any, Name: str = "") -> TanhLayer:
    """Hyperbolic tangent layer, as MATLAB's ``tanhLayer``.

    Parameters
    ----------
    Name : str, default ''

    Returns
    -------
    TanhLayer

    Examples
    --------
    >>> from lstmkit import tanhLayer
    >>> tanhLayer(Name="t").Name
    't'
    """
    return _make(TanhLayer, "tanhLayer", Name)


@name_value_function()
def sigmoidLayer(*name_value: Any, Name: str = "") -> SigmoidLayer:
    """Sigmoid layer, as MATLAB's ``sigmoidLayer`` (the output for "binary-crossentropy").

    Parameters
    ----------
    Name : str, default ''

    Returns
    -------
    SigmoidLayer

    Examples
    --------
    >>> from lstmkit import sigmoidLayer
    >>> sigmoidLayer().Description
    'sigmoid'
    """
    return _make(SigmoidLayer, "sigmoidLayer", Name)


@name_value_function()
def swishLayer(*name_value: Any, Name: str = "") -> SwishLayer:
    """Swish layer, as MATLAB's ``swishLayer``: ``x * sigmoid(x)``.

    Parameters
    ----------
    Name : str, default ''

    Returns
    -------
    SwishLayer

    Examples
    --------
    >>> from lstmkit import swishLayer
    >>> swishLayer().Description
    'swish'
    """
    return _make(SwishLayer, "swishLayer", Name)


@name_value_function()
def geluLayer(*name_value: Any, Name: str = "",
              Approximation: Literal["none", "tanh"] = "none") -> GELULayer:
    """GELU layer, as MATLAB's ``geluLayer``.

    Parameters
    ----------
    Name : str, default ''
    Approximation : {'none', 'tanh'}, default 'none'
        'none': ``x * Phi(x)`` with the normal CDF (erf); 'tanh': the
        tanh approximation ``x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``.

    Returns
    -------
    GELULayer

    Examples
    --------
    >>> from lstmkit import geluLayer
    >>> geluLayer(Approximation="tanh").Approximation
    'tanh'
    """
    func = "geluLayer"
    return _make(GELULayer, func, Name,
                 Approximation=check_choice(func, "Approximation", Approximation,
                                            ("none", "tanh")))
