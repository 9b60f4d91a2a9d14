"""trainingOptions: MATLAB's training options for 'sgdm', 'adam' and 'rmsprop'."""

from __future__ import annotations

import inspect
import math
import numbers
import os
from typing import Any, Callable, Literal, Sequence

import numpy as np

from .._device import resolve_environment
from .._files import check_writable_folder
from .._validation import (_show, changed_options, check_bool, check_choice, check_positive_int,
                           as_float_array, check_real, fail, name_value_function)
from .schedules import SCHEDULES, check_schedule

SOLVERS = ("sgdm", "adam", "rmsprop")

SOLVER_ONLY = ("Momentum", "GradientDecayFactor", "SquaredGradientDecayFactor", "Epsilon")


class SolverDefault:
    """The default of an option that depends on the solver, as MATLAB documents it.

    Shown in ``trainingOptions``'s signature as, e.g., ``0.01 (sgdm), 0.001
    (adam, rmsprop)``; an option left at a SolverDefault takes its solver's
    value, and one whose solver is not listed does not apply to that solver.
    """

    def __init__(self, **by_solver):
        self.by_solver = by_solver

    def __repr__(self):
        groups = {}
        for solver, value in self.by_solver.items():
            groups.setdefault(value, []).append(solver)
        missing = [solver for solver in SOLVERS if solver not in self.by_solver]
        if len(groups) == 1 and missing:
            (value, solvers), = groups.items()
            return f"{value!r} ({', '.join(solvers)} only)"
        text = ", ".join(f"{value!r} ({', '.join(solvers)})" for value, solvers in groups.items())
        return text + (f"; not for {', '.join(missing)}" if missing else "")


#: MATLAB options that lstmkit recognises but does not implement yet.
NOT_YET = ("DispatchInBackground", "Acceleration")
#: the ExecutionEnvironment values that run on a parallel pool (lstmkit.parpool): training,
#: and predict/classify
PARALLEL = ("parallel", "parallel-cpu", "parallel-auto")

_CLASS_NAMES = {"sgdm": "TrainingOptionsSGDM", "adam": "TrainingOptionsADAM",
                "rmsprop": "TrainingOptionsRMSProp"}


class TrainingOptions:
    """Options for :func:`lstmkit.trainNetwork` (create them with :func:`trainingOptions`).

    Every option is an attribute under its MATLAB name (``options.MaxEpochs``).
    The object is read-only: make a new one with :func:`trainingOptions`.
    """

    def __init__(self, solver, values):
        object.__setattr__(self, "SolverName", solver)
        object.__setattr__(self, "_values", dict(values))

    def __getattr__(self, name):
        values = self.__dict__.get("_values", {})
        if name in values:
            return values[name]
        solver = self.__dict__.get("SolverName", "?")   # never recurse (pickle probes dunders)
        raise AttributeError(f"'{type(self).__name__}' for solver '{solver}' has no "
                             f"option '{name}'")

    def __reduce__(self):
        """Pickled as the solver and the values (options travel to parallel workers)."""
        return (TrainingOptions, (self.SolverName, self._values))

    def __setattr__(self, name, value):
        raise AttributeError("training options are read-only; call trainingOptions(...) again "
                             "with the new value")

    def __dir__(self):
        return list(self._values) + ["SolverName"]

    def __eq__(self, other):
        if not isinstance(other, TrainingOptions) or self.SolverName != other.SolverName:
            return NotImplemented
        return all(_same(self._values[k], other._values[k]) for k in self._values)

    def __repr__(self):
        width = max(len(k) for k in self._values)
        lines = [f"  {_CLASS_NAMES[self.SolverName]} with properties:", ""]
        for key, value in self._values.items():
            lines.append(f"    {key:>{width}}: {format_value(value)}")
        return "\n".join(lines)


def _same(a, b):
    if a is b:
        return True
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (np.isnan(a) and np.isnan(b))
    try:
        return bool(a == b)
    except (ValueError, TypeError):  # arrays inside ValidationData
        return False


def format_value(value):
    """MATLAB 'format short' display of an option value."""
    if value is None:
        return "[]"
    if isinstance(value, tuple):
        return f"{{1×{len(value)} cell}}"
    if isinstance(value, list):
        return "{" + ", ".join(format_value(v) for v in value) + "}"
    if callable(value):
        return "@" + getattr(value, "__name__", type(value).__name__)
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, numbers.Real):
        v = float(value)
        if np.isinf(v):
            return "Inf" if v > 0 else "-Inf"
        if v.is_integer() and abs(v) < 1e9:
            return str(int(v))
        if abs(v) <= 1e-3 or abs(v) >= 1e5:
            return f"{v:.4e}"
        return f"{v:.4f}"
    return str(value)


def _solver_options(bound):
    """The options of the solver named in ``bound`` (all of them if it is not a solver name)."""
    solver = str(bound.get("solverName", "")).lower()
    names = _option_names()
    if solver not in SOLVERS:
        return names
    return [n for n in names if not isinstance(_DEFAULTS[n], SolverDefault)
            or solver in _DEFAULTS[n].by_solver]


@name_value_function(unavailable={
    n: f"option '{n}' of MATLAB is not supported by lstmkit yet." for n in NOT_YET},
    shown=_solver_options)
def trainingOptions(
    solverName: Literal["sgdm", "adam", "rmsprop"],
    *name_value: Any,
    Momentum: float = SolverDefault(sgdm=0.9),
    GradientDecayFactor: float = SolverDefault(adam=0.9),
    SquaredGradientDecayFactor: float = SolverDefault(adam=0.999, rmsprop=0.9),
    Epsilon: float = SolverDefault(adam=1e-8, rmsprop=1e-8),
    InitialLearnRate: float = SolverDefault(sgdm=0.01, adam=0.001, rmsprop=0.001),
    LearnRateSchedule: str | Any = "none",
    LearnRateDropFactor: float = 0.1,
    LearnRateDropPeriod: int = 10,
    L2Regularization: float = 1e-4,
    GradientThresholdMethod: Literal["l2norm", "global-l2norm", "absolute-value"] = "l2norm",
    GradientThreshold: float = np.inf,
    MaxEpochs: int = 30,
    MiniBatchSize: int = 128,
    Verbose: bool = True,
    VerboseFrequency: int = 50,
    ValidationData: tuple | None = None,
    ValidationFrequency: int = 50,
    ValidationPatience: int | float = np.inf,
    Shuffle: Literal["once", "never", "every-epoch"] = "once",
    CheckpointPath: str = "",
    CheckpointFrequency: int = 1,
    CheckpointFrequencyUnit: Literal["epoch", "iteration"] = "epoch",
    ExecutionEnvironment: Literal["auto", "cpu", "gpu", "multi-gpu", "parallel", "parallel-cpu",
                                  "parallel-gpu", "parallel-auto"] = "auto",
    WorkerLoad: Sequence[float] | None = None,
    OutputFcn: Callable | Sequence[Callable] | None = None,
    Plots: Literal["none", "training-progress"] = "none",
    ProgressPlotFile: str | None = None,
    SequenceLength: str | int = "longest",
    SequencePaddingValue: float = 0.0,
    SequencePaddingDirection: Literal["right", "left"] = "right",
    ResetInputNormalization: bool = True,
    OutputNetwork: Literal["auto", "last-iteration", "best-validation-loss"] = "auto",
    Metrics: Any = None,
    ObjectiveMetricName: str = "loss",
    InputDataFormats: str = "auto",
    TargetDataFormats: str = "auto",
    PreprocessingEnvironment: Literal["serial"] = "serial",
    BatchNormalizationStatistics: Literal["population", "moving"] = "population",
) -> TrainingOptions:
    """Options for training a network, as MATLAB's ``trainingOptions``.

    Parameters
    ----------
    solverName : {'sgdm', 'adam', 'rmsprop'}
        The solver.
    InitialLearnRate : float
        0.01 for 'sgdm', 0.001 for 'adam' and 'rmsprop'.
    LearnRateSchedule : str, schedule object or list, default 'none'
        'piecewise' multiplies the learning rate by LearnRateDropFactor every
        LearnRateDropPeriod epochs.  MATLAB R2024b's 'warmup', 'polynomial',
        'exponential', 'cosine', 'cyclical' use their default parameters; for
        others pass ``cosineLearnRate(Period=20)`` and the like, or a list that
        runs one after another (see :mod:`lstmkit.training.schedules`).
    LearnRateDropFactor : float in [0, 1], default 0.1
    LearnRateDropPeriod : int, default 10
    Momentum : float, default 0.9
        'sgdm' only.
    GradientDecayFactor : float, default 0.9
        'adam' only.
    SquaredGradientDecayFactor : float
        0.999 for 'adam', 0.9 for 'rmsprop'.
    Epsilon : float, default 1e-8
        'adam' and 'rmsprop'.
    L2Regularization : float, default 1e-4
        Multiplied by each learnable's L2 factor (biases: 0 by default).
    GradientThresholdMethod : {'l2norm', 'global-l2norm', 'absolute-value'}, default 'l2norm'
    GradientThreshold : float, default Inf
    MaxEpochs : int, default 30
    MiniBatchSize : int, default 128
        In training the last partial mini-batch of an epoch is dropped; with
        fewer observations than MiniBatchSize the mini-batch is all of them.
    Shuffle : {'once', 'never', 'every-epoch'}, default 'once'
    SequenceLength : 'longest', 'shortest' or int, default 'longest'
        'shortest' truncates each mini-batch to its shortest sequence; an
        integer splits sequences into chunks of that many time steps, each a
        training iteration, with the state carried across chunks.
    SequencePaddingValue : float, default 0
        Accepted for compatibility: lstmkit never pads, so it has no effect.
    SequencePaddingDirection : {'right', 'left'}, default 'right'
        With SequenceLength='shortest', 'right' truncates the end of the longer
        sequences and 'left' their beginning.  Padding itself never changes a
        result in lstmkit.
    Verbose : bool, default True
    VerboseFrequency : int, default 50
    ValidationData : (XValidation, YValidation) or datastore, optional
        Data to validate on during training (MATLAB's ``{XVal, YVal}``), in
        the forms trainNetwork takes; for trainnet with a network of several
        inputs or outputs, ``(X1, ..., XM, T1, ..., TN)`` or a datastore such
        as ``combine(arrayDatastore(X1), arrayDatastore(X2), arrayDatastore(T))``.
    ValidationFrequency : int, default 50
        Validate every this many iterations (and at the first and last).
    ValidationPatience : int or Inf, default Inf
        Stop when the validation loss has not improved on its best this many
        validations in a row ("Met validation criterion").
    OutputNetwork : {'auto', 'last-iteration', 'best-validation-loss'}, default 'auto'
        'auto' returns the network with the best validation loss when there
        is ValidationData, else the last one.  'best-validation' is accepted
        as a synonym of 'best-validation-loss'.
    Plots : {'none', 'training-progress'}, default 'none'
        A matplotlib figure like MATLAB's training-progress plot, updated live
        in an interactive matplotlib window or inline in a Jupyter notebook;
        elsewhere (no display) it is written to a PNG file whose path is
        printed.  Needs matplotlib.
    ProgressPlotFile : str, optional
        lstmkit extension: where the plot is written when there is no
        display.  By default each run writes its own file in the current
        folder, ``training-progress-<date>-<time>.png``; a given name is
        overwritten by every run that uses it.
    OutputFcn : callable or list of callables, optional
        Called as ``f(info)`` before training, after every iteration and at
        the end; returning True stops training ("Stopped by OutputFcn").
    CheckpointPath : str, default ''
        An existing folder: a checkpoint network is saved there (MATLAB's
        ``net_checkpoint__<iteration>__<date>.mat``) every
        ``CheckpointFrequency`` ``CheckpointFrequencyUnit``.
    CheckpointFrequency : int, default 1
    CheckpointFrequencyUnit : {'epoch', 'iteration'}, default 'epoch'
    ExecutionEnvironment : {'auto', 'cpu', 'gpu', 'multi-gpu', 'parallel', 'parallel-cpu', 'parallel-gpu', 'parallel-auto'}, default 'auto'
        'auto' and 'cpu' train in this process.  'parallel', 'parallel-cpu'
        and 'parallel-auto' train on the parallel pool (:func:`lstmkit.parpool`;
        :func:`lstmkit.gcp` starts one if none is open): every mini-batch is
        split over the workers, each computes its share's gradient, and the
        sum is the mini-batch's (see :mod:`lstmkit.training.shards`).
        'gpu' and 'multi-gpu' run on the CPU of this machine, and
        'parallel-gpu' on CPU workers, where lstmkit cannot use a GPU, with
        a :class:`~lstmkit.GPUUnavailableWarning` (once per process) that
        names what is missing (see :func:`lstmkit.canUseGPU`): scripts
        written for a GPU run unchanged.
    WorkerLoad : sequence of float, optional
        With a parallel ExecutionEnvironment: the relative share of each
        worker in every mini-batch (one non-negative number per worker, not
        all zero; 0 idles a worker).  Default: equal shares.
    ResetInputNormalization : bool, default True
        Recompute the input layer's normalization statistics from the
        training data; False keeps statistics already on the layer.
    Metrics : str, metric object, function or list of them, optional
        trainnet: metrics to compute and show beside the loss ('accuracy',
        'fscore', 'precision', 'recall', 'auc', 'rmse', 'mape', 'rsquared',
        objects such as ``accuracyMetric(AverageType="macro")``, functions
        ``f(Y, T)``; see :mod:`lstmkit.metrics`).  trainNetwork shows its
        accuracy or RMSE either way.
    ObjectiveMetricName : str, default 'loss'
        trainnet: the validation value that ValidationPatience and
        OutputNetwork 'best-validation' follow: 'loss' or a metric's Name.
    InputDataFormats : str, default 'auto'
        trainnet: the layout of the predictors ('auto': T-by-C sequences;
        'CTB' for a list of C-by-T arrays, ...).
    TargetDataFormats : str, default 'auto'
        trainnet: the layout of numeric targets ('auto': N-by-R, or T-by-R
        sequences).
    PreprocessingEnvironment : {'serial'}, default 'serial'
        'background' and 'parallel' are errors until lstmkit has them.
    BatchNormalizationStatistics : {'population', 'moving'}, default 'population'
        The statistics batchNormalizationLayer keeps for prediction: those of
        the whole training data, computed after training ('population'), or
        the moving averages of training ('moving').

    Returns
    -------
    TrainingOptions

    Notes
    -----
    Name=Value options may also be given as MATLAB's positional pairs; names
    are case-insensitive.  An option that does not apply to the solver is an
    error, as in MATLAB.  Solver-dependent defaults are shown in the signature
    as ``value (solvers)``.

    Examples
    --------
    >>> from lstmkit import trainingOptions
    >>> options = trainingOptions("adam", MaxEpochs=100, MiniBatchSize=27,
    ...                           GradientThreshold=1, Verbose=False)
    >>> options.InitialLearnRate, options.MaxEpochs
    (0.001, 100)
    >>> trainingOptions("sgdm", "InitialLearnRate", 0.05).InitialLearnRate   # MATLAB's pairs
    0.05
    """
    opts = dict(locals())
    func = "trainingOptions"
    solver = check_choice(func, "solverName", solverName, SOLVERS)
    names = _option_names()
    for name in changed_options(trainingOptions, opts, SOLVER_ONLY):
        if solver not in _DEFAULTS[name].by_solver:
            fail(func, f"'{name}' is not an option for solver '{solver}'.", TypeError)
    given = changed_options(trainingOptions, opts, names)
    if LearnRateSchedule is not None and not isinstance(LearnRateSchedule, str):
        opts["LearnRateSchedule"] = check_schedule(func, LearnRateSchedule)
    values = {}
    for name in names:
        default = _DEFAULTS[name]
        if isinstance(default, SolverDefault):
            if solver not in default.by_solver:
                continue
            if name not in given:
                values[name] = default.by_solver[solver]
                continue
        values[name] = _check_option(func, name, opts[name]) if name in given else opts[name]
    if values["ObjectiveMetricName"].lower() != "loss" and values["Metrics"] is not None:
        from ..metrics import metric_list
        named = [m.Name for m in metric_list(func, values["Metrics"])]
        if values["ObjectiveMetricName"] not in named:
            fail(func, f"`ObjectiveMetricName` must be 'loss' or the Name of one of the Metrics "
                       f"({', '.join(repr(n) for n in named)}). Received: "
                       f"ObjectiveMetricName={values['ObjectiveMetricName']!r}.")
    if values["OutputNetwork"] in ("best-validation-loss", "best-validation") and \
            values["ValidationData"] is None:
        fail(func, f"OutputNetwork='{values['OutputNetwork']}' needs ValidationData.")
    return TrainingOptions(solver, values)


def _check_option(func, name, value):
    if name == "InitialLearnRate":
        return check_real(func, name, value, low=0.0, low_open=True)
    if name in ("Momentum", "GradientDecayFactor", "SquaredGradientDecayFactor"):
        return check_real(func, name, value, low=0.0, high=1.0, high_open=True)
    if name == "Epsilon":
        return check_real(func, name, value, low=0.0, low_open=True)
    if name == "LearnRateSchedule":
        if isinstance(value, str):
            check_schedule(func, value)
            return check_choice(func, name, value, ("none",) + tuple(SCHEDULES))
        return value  # schedule objects, checked in trainingOptions
    if name == "ValidationData":
        if value is None:
            return None
        from ..datastore import Datastore
        if isinstance(value, Datastore):
            return value
        if not isinstance(value, (tuple, list)) or len(value) < 2:
            fail(func, f"`ValidationData` must be a pair (XValidation, YValidation), like MATLAB's "
                       f"{{XValidation, YValidation}} (for a network with several inputs or "
                       f"outputs: (X1, ..., XM, T1, ..., TN), or a datastore). Received: "
                       f"{_show(value)}.", TypeError)
        return tuple(value)
    if name == "ValidationFrequency":
        return check_positive_int(func, name, value)
    if name == "ValidationPatience":
        if isinstance(value, numbers.Real) and math.isinf(value) and value > 0:
            return np.inf
        return check_positive_int(func, name, value)
    if name == "OutputNetwork":
        return check_choice(func, name, value, ("auto", "last-iteration", "best-validation-loss",
                                                 "best-validation"))
    if name == "Plots":
        choice = check_choice(func, name, value, ("none", "training-progress"))
        if choice == "training-progress":
            try:
                import matplotlib  # noqa: F401
            except ImportError:
                fail(func, "Plots='training-progress' needs matplotlib, which is not installed: "
                           "pip install matplotlib (or pip install \"lstmkit[plot]\").",
                     ImportError)
        return choice
    if name == "ProgressPlotFile":
        if value is None:
            return None
        if not isinstance(value, (str, os.PathLike)) or not os.fspath(value):
            fail(func, f"`ProgressPlotFile` must be a file name (str). Received: {_show(value)}.",
                 TypeError)
        folder = os.path.dirname(os.path.abspath(os.fspath(value)))
        if not os.path.isdir(folder):
            fail(func, f"the folder of `ProgressPlotFile` must exist. Received: "
                       f"ProgressPlotFile={os.fspath(value)!r}; {folder!r} does not exist.")
        check_writable_folder(func, "ProgressPlotFile", folder)
        return os.fspath(value)
    if name == "OutputFcn":
        funcs = value if isinstance(value, (list, tuple)) else [value]
        if value is None or not all(callable(f) for f in funcs):
            fail(func, f"`OutputFcn` must be a function f(info) or a list of them. "
                       f"Received: {_show(value)}.", TypeError)
        return value
    if name == "CheckpointPath":
        if not isinstance(value, str):
            fail(func, f"`CheckpointPath` must be a folder name (str). Received: {_show(value)}.",
                 TypeError)
        if value and not os.path.isdir(value):
            fail(func, f"`CheckpointPath` must be an existing folder. Received: "
                       f"CheckpointPath={value!r}, which does not exist.")
        if value:
            check_writable_folder(func, "CheckpointPath", value)
        return value
    if name == "CheckpointFrequency":
        return check_positive_int(func, name, value)
    if name == "CheckpointFrequencyUnit":
        return check_choice(func, name, value, ("epoch", "iteration"))
    if name == "LearnRateDropFactor":
        return check_real(func, name, value, low=0.0, high=1.0)
    if name == "LearnRateDropPeriod":
        return check_positive_int(func, name, value)
    if name == "L2Regularization":
        return check_real(func, name, value, low=0.0)
    if name == "GradientThresholdMethod":
        return check_choice(func, name, value, ("l2norm", "global-l2norm", "absolute-value"))
    if name == "GradientThreshold":
        return check_real(func, name, value, low=0.0, low_open=True, allow_inf=True)
    if name in ("MaxEpochs", "MiniBatchSize", "VerboseFrequency"):
        return check_positive_int(func, name, value)
    if name == "Verbose":
        return check_bool(func, name, value)
    if name == "Shuffle":
        return check_choice(func, name, value, ("once", "never", "every-epoch"))
    if name == "ExecutionEnvironment":
        value = check_choice(func, name, value,
                             ("auto", "cpu", "gpu", "multi-gpu") + PARALLEL + ("parallel-gpu",))
        resolve_environment(func, value)     # a GPU that cannot be used: warned now, not later
        return value
    if name == "WorkerLoad":
        return check_worker_load(func, value)
    if name == "SequenceLength":
        return check_sequence_length(func, value)
    if name == "SequencePaddingValue":
        return check_real(func, name, value)
    if name == "SequencePaddingDirection":
        return check_choice(func, name, value, ("right", "left"))
    if name == "ResetInputNormalization":
        return check_bool(func, name, value)
    if name == "Metrics":
        from ..metrics import check_metrics_option
        return check_metrics_option(func, value)
    if name == "ObjectiveMetricName":
        if not isinstance(value, str) or not value:
            fail(func, f"`ObjectiveMetricName` must be 'loss' or a metric name (str). "
                       f"Received: {_show(value)}.", TypeError)
        return "loss" if value.lower() == "loss" else value
    if name in ("InputDataFormats", "TargetDataFormats"):
        from .._formats import check_format
        return check_format(func, name, value)
    if name == "BatchNormalizationStatistics":
        return check_choice(func, name, value, ("population", "moving"))
    if name == "PreprocessingEnvironment":
        if isinstance(value, str) and value.lower() in ("background", "parallel"):
            fail(func, f"PreprocessingEnvironment='{value}' is not supported by lstmkit yet: "
                       f"data is prepared in the training process ('serial').")
        return check_choice(func, name, value, ("serial",))
    raise AssertionError(name)


def check_worker_load(func, value):
    """None, or a vector of non-negative finite numbers, not all zero."""
    if value is None:
        return None
    arr = as_float_array(func, "WorkerLoad", value)
    if arr.ndim != 1 or arr.size == 0:
        fail(func, f"`WorkerLoad` must be a vector with one number per worker. Received: "
                   f"{_show(value)}.")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or not np.any(arr > 0):
        fail(func, f"`WorkerLoad` must hold non-negative finite numbers, not all zero (0 idles a "
                   f"worker). Received: {_show(value)}.")
    return arr


def check_sequence_length(func, value):
    """'longest', 'shortest' or a positive integer."""
    if isinstance(value, str):
        return check_choice(func, "SequenceLength", value, ("longest", "shortest"))
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and float(value).is_integer() \
            and value >= 1:
        return int(value)
    fail(func, f"`SequenceLength` must be 'longest', 'shortest' or a positive integer. "
               f"Received: SequenceLength={_show(value)}.")


def _option_names():
    """trainingOptions' option names in MATLAB's display order."""
    return [n for n, p in inspect.signature(trainingOptions).parameters.items()
            if p.kind is p.KEYWORD_ONLY]


_DEFAULTS = {n: p.default for n, p in inspect.signature(trainingOptions).parameters.items()}
