"""Where a call runs: the GPU values of ExecutionEnvironment, and MATLAB's canUseGPU.

MATLAB scripts ask for a GPU as a matter of course (``ExecutionEnvironment
"gpu"`` in trainingOptions, predict and minibatchpredict).  lstmkit's choice,
so that such scripts port unchanged: where a GPU is asked for and lstmkit
cannot use one, the call runs on the CPU and warns once per process, naming
what is missing: the ``gpu`` extra (numba-cuda) or a CUDA driver and device
(Numba's CUDA simulator is not a GPU).  The warning comes when the option is
given (trainingOptions, a prediction call), never after a training.

With a usable GPU, ``"gpu"`` runs the layers lstmkit has device kernels for
on it (:mod:`lstmkit.training.device`), ``"multi-gpu"`` uses one GPU, and
``"parallel-gpu"`` CPU workers of the parallel pool (each with a warning).
``"auto"`` stays on the CPU until the GPU path has been timed on a GPU
(:data:`AUTO_USES_GPU`); MATLAB's ``"auto"`` uses a GPU where there is one.
Without a GPU, ``"multi-gpu"`` falls back to the CPU of this machine and
``"parallel-gpu"`` to CPU workers of the parallel pool (``"parallel-cpu"``).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import warnings

from ._validation import checked_call

#: ExecutionEnvironment values that ask for GPUs, and what each runs as without one
GPU_FALLBACK = {"gpu": "cpu", "multi-gpu": "cpu", "parallel-gpu": "parallel-cpu"}

#: whether 'auto' picks the GPU where one can be used.  Not yet: lstmkit's GPU path has not
#: been timed on a GPU (issue 17), so 'auto' stays on the measured CPU path; 'gpu' uses it.
AUTO_USES_GPU = False


class GPUUnavailableWarning(UserWarning):
    """A GPU was asked for and lstmkit runs the call on the CPU instead."""


_warned: set[str] = set()


@functools.lru_cache(maxsize=None)
def _cuda_devices():
    """``(count, problem)``: visible CUDA devices, and why none can be used (None if some can).

    Only looked at when numba-cuda is installed; the driver is asked once per
    process.
    """
    if os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0"):
        return 0, ("Numba's CUDA simulator is on (NUMBA_ENABLE_CUDASIM): it runs kernels as "
                   "Python to test them and is not a GPU")
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
    return _cuda_devices()[1]


def resolve_environment(func, value, warn=True):
    """The environment a call runs in for an ExecutionEnvironment value (checked already).

    'auto' -> 'cpu' (see :data:`AUTO_USES_GPU`); a GPU value
    without a usable GPU -> its CPU fallback (:data:`GPU_FALLBACK`), with a
    :class:`GPUUnavailableWarning` once per process and value; anything else
    unchanged.
    """
    if value == "auto":
        return "gpu" if AUTO_USES_GPU and gpu_problem() is None else "cpu"
    if value not in GPU_FALLBACK:
        return value
    problem = gpu_problem()
    if problem is None:
        if value == "gpu":
            return "gpu"
        fallback = "gpu" if value == "multi-gpu" else "parallel-cpu"
        problem = ("lstmkit uses one GPU" if value == "multi-gpu" else
                   "the parallel pool's workers run lstmkit on their CPUs")
    else:
        fallback = GPU_FALLBACK[value]
    if warn and value not in _warned:
        _warned.add(value)
        where = {"cpu": "the CPU", "gpu": "one GPU",
                 "parallel-cpu": "the CPU workers of the parallel pool"}[fallback]
        warnings.warn(
            f"{func}: ExecutionEnvironment='{value}' runs on {where}: {problem}. Results are "
            f"the same; set ExecutionEnvironment='{fallback}' to silence this.",
            GPUUnavailableWarning, stacklevel=_caller_level())
    return fallback


def _caller_level():
    """The ``stacklevel`` that points a warning at the first frame outside lstmkit."""
    import sys
    package = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    return level


@checked_call
def canUseGPU() -> bool:
    """Whether lstmkit runs on a GPU here, as MATLAB's ``canUseGPU``.

    True when the ``gpu`` extra is installed and a CUDA device is visible
    (Numba's CUDA simulator is not one): ``ExecutionEnvironment="gpu"`` then
    runs on it, and scripts that branch on it (``if canUseGPU(): ...``) take
    the branch that will really run.

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


@checked_call
def gpuDeviceCount() -> int:
    """Number of CUDA devices visible to lstmkit, as MATLAB's ``gpuDeviceCount``.

    0 without the ``gpu`` extra, without a CUDA driver and device, or on
    Numba's CUDA simulator.

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
