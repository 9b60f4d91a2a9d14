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
from ..kernels._threads import single_threaded_blas

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


#: Cholesky QR is used for matrices at least this much taller than wide (their
#: condition number is then small: see :func:`cholesky_qr`)
CHOLESKY_QR_ASPECT = 2
#: ... and kept only if diag(R) spreads less than this (else Householder QR)
CHOLESKY_QR_SPREAD = 1e3
#: m n^2 from which it runs on scipy's BLAS threads (below: in the calling thread only)
CHOLESKY_QR_THREADED = 2 ** 30


def cholesky_qr(Z):
    """``Q`` and ``diag(R)`` of ``Z = Q R`` for a tall float64 ``Z`` of full column rank.

    ``G = Z^T Z = R^T R`` (dsyrk, dpotrf), ``Q = Z R^{-1}`` (dtrtri, dtrmm):
    half the multiply-adds of two general products, all in level-3 BLAS.
    numpy's Householder QR took 4.2 to 4.8 s on 8000-by-2000 (the recurrent
    weights of an LSTM with 2000 hidden units; this: about 1 s), and left
    numpy's OpenBLAS thread pool spinning on the cores the first training
    iterations needed (measured: the first ten iterations of a small network
    3 to 4 times slower): small matrices run in this thread alone, large ones
    (where seconds of work dwarf that) on scipy's BLAS threads.  For a Gaussian
    m-by-n matrix with m >= 2n the condition number is below about 6 with
    overwhelming probability, so Q is orthonormal to machine precision (the
    loss of orthogonality is of order cond(Z)^2 eps); R has a positive
    diagonal by construction, so Q is the sign-fixed Householder Q up to
    rounding.  Returns ``(None, None)`` when ``Z^T Z`` is not positive definite.
    """
    from contextlib import nullcontext

    from scipy.linalg import blas, lapack
    m, n = Z.shape
    big = m * n * n >= CHOLESKY_QR_THREADED
    with nullcontext() if big else single_threaded_blas():
        ZT = Z.T                                   # n-by-m, Fortran order: no copy
        G = blas.dsyrk(1.0, ZT, trans=0, lower=0)  # Z^T Z, upper triangle
        R, info = lapack.dpotrf(G, lower=0, clean=1, overwrite_a=1)
        if info != 0:
            return None, None
        Rinv, info = lapack.dtrtri(R, lower=0)
        if info != 0:
            return None, None
        # Q^T = R^{-T} Z^T, in place of a copy of Z^T (Q = Z R^{-1}, C order)
        QT = blas.dtrmm(1.0, Rinv, np.array(ZT, order="F"), side=0, lower=0, trans_a=1,
                        overwrite_b=1)
    return np.ascontiguousarray(QT.T), np.diag(R).copy()


def orthogonal(shape, rng):
    """MATLAB's 'orthogonal' initializer for a 2-D shape.

    Q of the QR decomposition of a N(0, 1) matrix, with the signs that make
    diag(R) positive.  Tall matrices (an LSTM's 4H-by-H recurrent weights) use
    Cholesky QR on the kernels' threads; others, or an ill-conditioned draw,
    numpy's Householder QR.  Both give the same Q up to rounding.
    """
    rows, cols = shape
    Z = rng.standard_normal((max(rows, cols), min(rows, cols)))
    Q = None
    if Z.shape[0] >= CHOLESKY_QR_ASPECT * Z.shape[1] and Z.shape[1] > 0:
        Q, d = cholesky_qr(Z)
        if Q is not None and not (np.all(d > 0) and d.max() < CHOLESKY_QR_SPREAD * d.min()):
            Q = None
    if Q is None:
        Q, Rm = np.linalg.qr(Z)
        Q = Q * np.where(np.diag(Rm) < 0, -1.0, 1.0)
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
