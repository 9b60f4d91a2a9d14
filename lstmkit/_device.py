"""Where a call runs: the GPU values of ExecutionEnvironment, and MATLAB's canUseGPU.

MATLAB scripts ask for a GPU as a matter of course (``ExecutionEnvironment
"gpu"`` in trainingOptions, predict and minibatchpredict).  lstmkit's choice,
so that such scripts port unchanged: where a GPU is asked for and lstmkit
cannot use one, the call runs on the CPU and warns once per process, naming
what is missing: the ``gpu`` extra (numba-cuda), a CUDA driver and device, or
lstmkit's GPU engine for whole networks (issue 17: the kernels are being
built; until they run whole networks, every call runs on the CPU).  The
warning comes when the option is given (trainingOptions, a prediction call),
never after a training.

``"auto"`` runs on the GPU where lstmkit can use one, else on the CPU,
silently, as MATLAB does.  ``"multi-gpu"`` falls back to the CPU of this
machine and ``"parallel-gpu"`` to CPU workers of the parallel pool
(``"parallel-cpu"``).
"""

from __future__ import annotations

import functools
import importlib.util
import warnings

#: ExecutionEnvironment values that ask for GPUs, and what each runs as without one
GPU_FALLBACK = {"gpu": "cpu", "multi-gpu": "cpu", "parallel-gpu": "parallel-cpu"}

#: whether lstmkit's GPU engine runs whole networks (issue 17 builds it; False until then)
GPU_ENGINE = False


class GPUUnavailableWarning(UserWarning):
    """A GPU was asked for and lstmkit runs the call on the CPU instead."""


_warned: set[str] = set()


@functools.lru_cache(maxsize=None)
def _cuda_devices():
    """``(count, problem)``: visible CUDA devices, and why none can be used (None if some can).

    Only looked at when numba-cuda is installed; the driver is asked once per
    process.
    """
    if importlib.util.find_spec("numba_cuda") is None:
        return 0, ('lstmkit\'s GPU extra is not installed (pip install "lstmkit[gpu]" '
                   'installs numba-cuda)')
    try:
        from numba import cuda
        if not cuda.is_available():
            return 0, "no CUDA driver or device is visible (numba.cuda.is_available() is False)"
        return len(cuda.gpus), None
    except Exception as exc:          # a driver that fails to load or initialize
        return 0, f"the CUDA driver could not be used ({type(exc).__name__}: {exc})"


def gpu_problem():
    """Why lstmkit runs a GPU request on the CPU (a sentence), or None when it can use a GPU."""
    count, problem = _cuda_devices()
    if problem is not None:
        return problem
    if not GPU_ENGINE:
        return (f"{count} CUDA device{'s are' if count != 1 else ' is'} visible, but lstmkit's "
                f"GPU engine does not run whole networks yet")
    return None


def resolve_environment(func, value, warn=True):
    """The environment a call runs in for an ExecutionEnvironment value (checked already).

    'auto' -> 'gpu' where lstmkit can use a GPU, else 'cpu'; a GPU value
    without a usable GPU -> its CPU fallback (:data:`GPU_FALLBACK`), with a
    :class:`GPUUnavailableWarning` once per process and value; anything else
    unchanged.
    """
    if value == "auto":
        return "gpu" if gpu_problem() is None else "cpu"
    if value not in GPU_FALLBACK:
        return value
    problem = gpu_problem()
    if problem is None:
        return value
    fallback = GPU_FALLBACK[value]
    if warn and value not in _warned:
        _warned.add(value)
        warnings.warn(
            f"{func}: ExecutionEnvironment='{value}' runs on the CPU"
            f"{' workers of the parallel pool' if fallback.startswith('parallel') else ''}: "
            f"{problem}. Results are the same; set ExecutionEnvironment='{fallback}' to "
            f"silence this.", GPUUnavailableWarning, stacklevel=_caller_level())
    return fallback


def _caller_level():
    """The ``stacklevel`` that points a warning at the first frame outside lstmkit."""
    import os
    import sys
    package = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    return level


def canUseGPU() -> bool:
    """Whether lstmkit runs on a GPU here, as MATLAB's ``canUseGPU``.

    True when the ``gpu`` extra is installed, a CUDA device is visible and
    lstmkit's GPU engine can run networks on it; scripts that branch on it
    (``if canUseGPU(): ...``) then take the branch that will really run.

    Returns
    -------
    bool

    Examples
    --------
    >>> from lstmkit import canUseGPU
    >>> canUseGPU() in (True, False)
    True
    """
    return gpu_problem() is None


def gpuDeviceCount() -> int:
    """Number of CUDA devices visible to lstmkit, as MATLAB's ``gpuDeviceCount``.

    0 without the ``gpu`` extra or without a CUDA driver and device.  A
    visible device is not yet one lstmkit can train on: see
    :func:`canUseGPU`.

    Returns
    -------
    int

    Examples
    --------
    >>> from lstmkit import gpuDeviceCount
    >>> gpuDeviceCount() >= 0
    True
    """
    return _cuda_devices()[0]
