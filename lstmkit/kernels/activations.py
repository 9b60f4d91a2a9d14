"""Scalar activation functions and their derivatives for the recurrent kernels.

float32 and float64 get different implementations, chosen when Numba types
the call (``numba.extending.overload``):

* float64 uses the exact library functions, so the float64 kernels agree with
  the numpy reference to rounding;
* float32 uses a branch-free rational approximation of tanh (the 13/6
  minimax form of Eigen's ``ptanh_float``; maximum error 3.6e-7, about 3 ulp,
  and ``|tanh| <= 1`` exactly), with ``sigmoid(x) = 0.5 tanh(x/2) + 0.5``.
  Libm's ``expf``/``tanhf`` are scalar calls that LLVM cannot vectorize; this
  form is plain multiply-adds, min/max and one division, so the fused gate
  loops vectorize.

Every constant is built in the argument's own type, so float32 arithmetic
stays float32.  The derivatives are written in terms of the activation's
*output* ``y``, which the forward pass stores.
"""

import math

import numpy as np
from numba import njit, types
from numba.extending import overload

from ._config import GATE_SIGMOID, JIT, STATE_TANH

# Eigen's ptanh_float coefficients: odd numerator, even denominator.
_TANH_CLAMP = 7.90531110763549805
_ALPHA = (4.89352455891786e-03, 6.37261928875436e-04, 1.48572235717979e-05,
          5.12229709037114e-08, -8.60467152213735e-11, 2.00018790482477e-13,
          -2.76076847742355e-16)
_BETA = (4.89352518554385e-03, 2.26843463243900e-03, 1.18534705686654e-04,
         1.19825839466702e-06)
_A1, _A3, _A5, _A7, _A9, _A11, _A13 = (np.float32(a) for a in _ALPHA)
_B0, _B2, _B4, _B6 = (np.float32(b) for b in _BETA)
_CLAMP32 = np.float32(_TANH_CLAMP)


def tanh(x):
    """tanh; rational approximation in float32 kernels (see module docstring)."""
    return np.tanh(x)


def sigmoid(x):
    """Logistic function :math:`1 / (1 + e^{-x})`."""
    return 1.0 / (1.0 + np.exp(-x))


@overload(tanh)
def _tanh_impl(x):
    if isinstance(x, types.Float) and x.bitwidth == 32:
        def impl(x):
            z = min(max(x, -_CLAMP32), _CLAMP32)
            z2 = z * z
            p = z2 * _A13 + _A11
            p = z2 * p + _A9
            p = z2 * p + _A7
            p = z2 * p + _A5
            p = z2 * p + _A3
            p = z2 * p + _A1
            q = z2 * _B6 + _B4
            q = z2 * q + _B2
            q = z2 * q + _B0
            return z * p / q
        return impl

    def impl(x):
        return math.tanh(x)            # math, not numpy: also compiles for CUDA
    return impl


@overload(sigmoid)
def _sigmoid_impl(x):
    if isinstance(x, types.Float) and x.bitwidth == 32:
        half = np.float32(0.5)

        def impl(x):
            return half * tanh(half * x) + half
        return impl

    def impl(x):
        # exp overflows to inf for x < -709 and gives exactly 0: no NaN
        return 1.0 / (1.0 + math.exp(-x))
    return impl


@njit(**JIT)
def hard_sigmoid(x):
    """MATLAB's hard sigmoid :math:`\\min(\\max(0.2x + 0.5, 0), 1)`."""
    y = type(x)(0.2) * x + type(x)(0.5)
    return min(max(y, type(x)(0.0)), type(x)(1.0))


@njit(**JIT)
def softsign(x):
    """Softsign :math:`x / (1 + |x|)`."""
    return x / (type(x)(1.0) + abs(x))


@njit(**JIT)
def gate(x, kind):
    """Gate activation selected by ``kind`` (0 sigmoid, 1 hard sigmoid)."""
    if kind == GATE_SIGMOID:
        return sigmoid(x)
    return hard_sigmoid(x)


@njit(**JIT)
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


@njit(**JIT)
def state(x, kind):
    """State activation selected by ``kind`` (0 tanh, 1 softsign)."""
    if kind == STATE_TANH:
        return tanh(x)
    return softsign(x)


@njit(**JIT)
def state_grad(y, kind):
    """Derivative of the state activation, given its output ``y``.

    tanh: :math:`1 - y^2`; softsign: :math:`(1 - |y|)^2`.
    """
    one = type(y)(1.0)
    if kind == STATE_TANH:
        return one - y * y
    a = one - abs(y)
    return a * a
