"""Numba kernels of the elementwise activation layers.

Every kernel takes contiguous 2-D arrays of rows (observations or packed time
steps) by channels and writes its output in place; the activation is chosen
by an integer code outside the element loop, so each loop is a plain
vectorizable pass.
"""

import math

from numba import njit

from ._config import JIT

RELU, LEAKY_RELU, CLIPPED_RELU, ELU, TANH, SIGMOID, SWISH, GELU_ERF, GELU_TANH = range(9)

_SQRT_2_OVER_PI = 0.7978845608028654
_INV_SQRT_2 = 0.7071067811865476
_INV_SQRT_2PI = 0.3989422804014327


@njit(**JIT)
def _sigmoid(v):
    if v >= 0:
        return 1.0 / (1.0 + math.exp(-v))
    e = math.exp(v)
    return e / (1.0 + e)


@njit(**JIT)
def activation_forward(code, x, y, param):
    """``y = f(x)`` elementwise.

    Parameters
    ----------
    code : int
        RELU, LEAKY_RELU (``param`` the scale), CLIPPED_RELU (``param`` the
        ceiling), ELU (``param`` alpha), TANH, SIGMOID, SWISH, GELU_ERF or
        GELU_TANH.
    x, y : ndarray of shape (M, C)
        Input and output (``y`` may be ``x``).
    param : float
        The activation's parameter (ignored by those without one).
    """
    M, C = x.shape
    p = x.dtype.type(param)
    zero = x.dtype.type(0.0)
    if code == RELU:
        for r in range(M):
            for c in range(C):
                y[r, c] = max(x[r, c], zero)
    elif code == LEAKY_RELU:
        for r in range(M):
            for c in range(C):
                v = x[r, c]
                y[r, c] = v if v >= zero else p * v
    elif code == CLIPPED_RELU:
        for r in range(M):
            for c in range(C):
                y[r, c] = min(max(x[r, c], zero), p)
    elif code == ELU:
        for r in range(M):
            for c in range(C):
                v = x[r, c]
                y[r, c] = v if v >= zero else p * math.expm1(v)
    elif code == TANH:
        for r in range(M):
            for c in range(C):
                y[r, c] = math.tanh(x[r, c])
    elif code == SIGMOID:
        for r in range(M):
            for c in range(C):
                y[r, c] = _sigmoid(x[r, c])
    elif code == SWISH:
        for r in range(M):
            for c in range(C):
                v = x[r, c]
                y[r, c] = v * _sigmoid(v)
    elif code == GELU_ERF:
        for r in range(M):
            for c in range(C):
                v = x[r, c]
                y[r, c] = 0.5 * v * (1.0 + math.erf(v * _INV_SQRT_2))
    else:
        for r in range(M):
            for c in range(C):
                v = x[r, c]
                y[r, c] = 0.5 * v * (1.0 + math.tanh(_SQRT_2_OVER_PI * (v + 0.044715 * v ** 3)))


@njit(**JIT)
def activation_backward(code, x, y, dy, dx, param):
    """``dx = f'(x) * dy`` elementwise, from the forward pass's input ``x`` and output ``y``.

    Parameters
    ----------
    code : int
        As in :func:`activation_forward`.
    x, y : ndarray of shape (M, C)
        The forward pass's input and output.
    dy : ndarray of shape (M, C)
        Gradient with respect to ``y``.
    dx : ndarray of shape (M, C)
        Output: gradient with respect to ``x`` (may be ``dy``).
    param : float
        The activation's parameter.
    """
    M, C = x.shape
    p = x.dtype.type(param)
    zero = x.dtype.type(0.0)
    if code == RELU:
        for r in range(M):
            for c in range(C):
                dx[r, c] = dy[r, c] if x[r, c] > zero else zero
    elif code == LEAKY_RELU:
        for r in range(M):
            for c in range(C):
                dx[r, c] = dy[r, c] if x[r, c] >= zero else p * dy[r, c]
    elif code == CLIPPED_RELU:
        for r in range(M):
            for c in range(C):
                v = x[r, c]
                dx[r, c] = dy[r, c] if zero < v < p else zero
    elif code == ELU:
        for r in range(M):
            for c in range(C):
                dx[r, c] = dy[r, c] if x[r, c] >= zero else dy[r, c] * (y[r, c] + p)
    elif code == TANH:
        for r in range(M):
            for c in range(C):
                dx[r, c] = dy[r, c] * (1.0 - y[r, c] * y[r, c])
    elif code == SIGMOID:
        for r in range(M):
            for c in range(C):
                dx[r, c] = dy[r, c] * y[r, c] * (1.0 - y[r, c])
    elif code == SWISH:
        for r in range(M):
            for c in range(C):
                s = _sigmoid(x[r, c])
                dx[r, c] = dy[r, c] * (s + x[r, c] * s * (1.0 - s))
    elif code == GELU_ERF:
        for r in range(M):
            for c in range(C):
                v = x[r, c]
                cdf = 0.5 * (1.0 + math.erf(v * _INV_SQRT_2))
                pdf = _INV_SQRT_2PI * math.exp(-0.5 * v * v)
                dx[r, c] = dy[r, c] * (cdf + v * pdf)
    else:
        for r in range(M):
            for c in range(C):
                v = x[r, c]
                u = _SQRT_2_OVER_PI * (v + 0.044715 * v ** 3)
                t = math.tanh(u)
                du = _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * v * v)
                dx[r, c] = dy[r, c] * (0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * du)
