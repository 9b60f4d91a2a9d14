"""Weight initializers with MATLAB's names and definitions.

==================  ==========================================================
'glorot'            U(-a, a), a = sqrt(6 / (numIn + numOut))
'he'                N(0, 2 / numIn)
'orthogonal'        Q of the QR decomposition of a N(0, 1) matrix, signs fixed
                    so that diag(R) > 0 (Saxe et al. 2013)
'narrow-normal'     N(0, 0.01^2)
'zeros', 'ones'     constants
'unit-forget-gate'  (LSTM bias) zeros, with the forget-gate block set to 1
callable            ``f(shape) -> array of that shape`` (MATLAB's function handle)
==================  ==========================================================
"""

import numpy as np

from .._validation import _show, fail, size_text

WEIGHT_INITIALIZERS = ("glorot", "he", "orthogonal", "narrow-normal", "zeros", "ones")
BIAS_INITIALIZERS = ("zeros", "ones", "narrow-normal")


def check_initializer(func, name, value, choices):
    """Validate an initializer option: a name from ``choices`` or a callable."""
    if callable(value):
        return value
    if isinstance(value, str):
        for c in choices:
            if value.lower() == c.lower():
                return c
    options = ", ".join(repr(c) for c in choices)
    fail(func, f"`{name}` must be one of {options} or a callable f(shape). "
               f"Received: {name}={_show(value)}.")


def orthogonal(shape, rng):
    """MATLAB's 'orthogonal' initializer for a 2-D shape."""
    rows, cols = shape
    Z = rng.standard_normal((max(rows, cols), min(rows, cols)))
    Q, Rm = np.linalg.qr(Z)
    Q = Q * np.sign(np.diag(Rm))
    return Q if rows >= cols else Q.T


def initialize(func, name, spec, shape, num_in, num_out, rng, gate_blocks=1):
    """Create an initial learnable array of ``shape`` (float64).

    Parameters
    ----------
    func, name : str
        Layer factory and option name, for messages from callables.
    spec : str or callable
        A validated initializer.
    shape : tuple of int
        Shape of the array.
    num_in, num_out : int
        Fan-in and fan-out (Glorot, He).
    rng : numpy.random.Generator
        Source of randomness.
    gate_blocks : int
        Number of H-row gate blocks stacked along the rows (4 for an LSTM, 8
        for a BiLSTM: i, f, g, o of each direction); only 'unit-forget-gate'
        uses it, setting every forget block (index 1 of each group of 4) to 1.
    """
    if callable(spec):
        try:
            value = spec(tuple(shape))
        except Exception as err:  # the user's function failed: say whose it was
            fail(func, f"the {name} function raised {type(err).__name__}: {err}")
        arr = np.array(value, dtype=np.float64)
        if arr.size == int(np.prod(shape)) and arr.shape != tuple(shape) and arr.ndim <= 2 and 1 in shape:
            arr = arr.reshape(shape)
        if arr.shape != tuple(shape):
            fail(func, f"the {name} function must return an array of size "
                       f"{size_text(shape)}. Received: size "
                       f"{size_text(arr.shape)}.")
        if not np.all(np.isfinite(arr)):
            fail(func, f"the {name} function returned NaN or Inf values.")
        return arr
    if spec == "glorot":
        a = np.sqrt(6.0 / (num_in + num_out))
        return rng.uniform(-a, a, size=shape)
    if spec == "he":
        return rng.standard_normal(shape) * np.sqrt(2.0 / num_in)
    if spec == "orthogonal":
        return orthogonal(shape, rng)
    if spec == "narrow-normal":
        return rng.standard_normal(shape) * 0.01
    if spec == "zeros":
        return np.zeros(shape)
    if spec == "ones":
        return np.ones(shape)
    if spec == "unit-forget-gate":
        b = np.zeros(shape)
        H = shape[0] // gate_blocks
        for block in range(1, gate_blocks, 4):
            b[block * H:(block + 1) * H] = 1.0
        return b
    raise AssertionError(f"unhandled initializer {spec!r}")  # validated before
