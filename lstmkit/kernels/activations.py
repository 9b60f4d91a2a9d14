"""Scalar activation functions and their derivatives for the recurrent kernels.

Every function keeps the dtype of its argument: constants are built with
``type(x)(...)`` so that a float32 loop stays in float32 (a bare Python float
literal would promote the arithmetic to float64).

The derivatives are written in terms of the activation's *output* ``y``, which
is what the forward pass stores, so the backward pass never re-evaluates an
exponential for a gate.
"""

import numpy as np
from numba import njit

from ._config import CACHE, FASTMATH, GATE_SIGMOID, STATE_TANH


@njit(cache=CACHE, fastmath=FASTMATH, inline="always")
def sigmoid(x):
    """Logistic function :math:`1 / (1 + e^{-x})`, overflow-free for large ``|x|``."""
    one = type(x)(1.0)
    if x >= 0:
        return one / (one + np.exp(-x))
    e = np.exp(x)
    return e / (one + e)


@njit(cache=CACHE, fastmath=FASTMATH, inline="always")
def hard_sigmoid(x):
    """MATLAB's hard sigmoid :math:`\\min(\\max(0.2x + 0.5, 0), 1)`."""
    y = type(x)(0.2) * x + type(x)(0.5)
    if y < 0:
        return type(x)(0.0)
    if y > 1:
        return type(x)(1.0)
    return y


@njit(cache=CACHE, fastmath=FASTMATH, inline="always")
def softsign(x):
    """Softsign :math:`x / (1 + |x|)`."""
    return x / (type(x)(1.0) + abs(x))


@njit(cache=CACHE, fastmath=FASTMATH, inline="always")
def gate(x, kind):
    """Gate activation selected by ``kind`` (0 sigmoid, 1 hard sigmoid)."""
    if kind == GATE_SIGMOID:
        return sigmoid(x)
    return hard_sigmoid(x)


@njit(cache=CACHE, fastmath=FASTMATH, inline="always")
def gate_grad(y, kind):
    """Derivative of the gate activation, given its output ``y``.

    For the hard sigmoid the derivative is 0.2 strictly inside the linear
    region and 0 where the output is clipped.
    """
    if kind == GATE_SIGMOID:
        return y * (type(y)(1.0) - y)
    if y > 0 and y < 1:
        return type(y)(0.2)
    return type(y)(0.0)


@njit(cache=CACHE, fastmath=FASTMATH, inline="always")
def state(x, kind):
    """State activation selected by ``kind`` (0 tanh, 1 softsign)."""
    if kind == STATE_TANH:
        return np.tanh(x)
    return softsign(x)


@njit(cache=CACHE, fastmath=FASTMATH, inline="always")
def state_grad(y, kind):
    """Derivative of the state activation, given its output ``y``.

    tanh: :math:`1 - y^2`; softsign: :math:`(1 - |y|)^2`.
    """
    one = type(y)(1.0)
    if kind == STATE_TANH:
        return one - y * y
    a = one - abs(y)
    return a * a
