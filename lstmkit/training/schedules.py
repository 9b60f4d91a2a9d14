"""Learning-rate schedules: MATLAB's 'piecewise' and the R2024b schedule objects.

A schedule gives a *factor* of ``InitialLearnRate`` for each step, where a
step is an epoch or an iteration (``FrequencyUnit``), counted from 0.  A list
of schedules runs them one after another: each for its ``NumSteps`` steps,
the last one until training ends (MATLAB's cell array of schedules, e.g.
``[warmupLearnRate(), cosineLearnRate()]``).

The formulas and default values follow MATLAB R2024b's documentation of
``piecewiseLearnRate``, ``warmupLearnRate``, ``polynomialLearnRate``,
``exponentialLearnRate``, ``cosineLearnRate`` and ``cyclicalLearnRate`` as we
recalled it; they could not be checked against a MATLAB installation, so
compare the rates in ``net.TrainingInfo.BaseLearnRate`` with MATLAB's when
porting a script that relies on them.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from .._validation import check_choice, check_real, fail, name_value_function


class LearnRateSchedule:
    """Base class: subclasses define ``_factor(step)`` and their parameters.

    ``parameters`` lists ``(name, bounds)``; the defaults are those of the
    public factory's signature (:func:`cosineLearnRate` and the like), which
    passes every value in.
    """

    name = ""
    parameters = ()  # (name, checker kwargs)

    def __init__(self, func, values):
        for pname, bounds in self.parameters:
            setattr(self, pname, check_real(func, pname, values[pname], allow_inf=True, **bounds))
        self.FrequencyUnit = check_choice(func, "FrequencyUnit", values["FrequencyUnit"],
                                          ("epoch", "iteration"))
        steps = values["NumSteps"]
        self.NumSteps = check_real(func, "NumSteps", steps, low=1, allow_inf=True)
        if math.isfinite(self.NumSteps) and not float(self.NumSteps).is_integer():
            fail(func, f"`NumSteps` must be a positive integer or Inf. Received: NumSteps={steps!r}.")

    def factor(self, step):
        """Multiplier of InitialLearnRate at ``step`` (0-based, in FrequencyUnit)."""
        return self._factor(step)

    def __repr__(self):
        fields = [f"{p[0]}={getattr(self, p[0])!r}" for p in self.parameters]
        fields += [f"FrequencyUnit={self.FrequencyUnit!r}", f"NumSteps={self.NumSteps!r}"]
        return f"{type(self).__name__}({', '.join(fields)})"

    def __eq__(self, other):
        return type(self) is type(other) and repr(self) == repr(other)


_POSITIVE = {"low": 0.0, "low_open": True}
_NONNEG = {"low": 0.0}
_UNIT = {"low": 0.0, "high": 1.0}


class PiecewiseLearnRate(LearnRateSchedule):
    """``DropFactor ** floor(step / Period)``."""

    name = "piecewise"
    parameters = (("DropFactor", _UNIT), ("Period", _POSITIVE))

    def _factor(self, step):
        return self.DropFactor ** math.floor(step / self.Period)


class WarmupLearnRate(LearnRateSchedule):
    """Linear ramp from ``InitialFactor`` to ``FinalFactor`` over ``NumSteps`` steps."""

    name = "warmup"
    parameters = (("InitialFactor", _NONNEG), ("FinalFactor", _NONNEG))

    def _factor(self, step):
        if step >= self.NumSteps:
            return self.FinalFactor
        return self.InitialFactor + (self.FinalFactor - self.InitialFactor) * step / self.NumSteps


class PolynomialLearnRate(LearnRateSchedule):
    """``Final + (Initial - Final) * (1 - step / NumSteps) ** Power`` (then Final)."""

    name = "polynomial"
    parameters = (("InitialFactor", _NONNEG), ("FinalFactor", _NONNEG),
                  ("Power", _POSITIVE))

    def _factor(self, step):
        frac = min(step / self.NumSteps, 1.0)
        return self.FinalFactor + (self.InitialFactor - self.FinalFactor) * (1 - frac) ** self.Power


class ExponentialLearnRate(LearnRateSchedule):
    """``DropFactor ** (step / Period)``."""

    name = "exponential"
    parameters = (("DropFactor", _UNIT), ("Period", _POSITIVE))

    def _factor(self, step):
        return self.DropFactor ** (step / self.Period)


class CosineLearnRate(LearnRateSchedule):
    """Cosine annealing with restarts (SGDR).

    Within a cycle of length ``P``: ``Min + (Max - Min) * (1 + cos(pi * s / P)) / 2``;
    each cycle is ``PeriodGrowth`` times longer than the one before.
    """

    name = "cosine"
    parameters = (("MinFactor", _NONNEG), ("MaxFactor", _NONNEG),
                  ("Period", _POSITIVE), ("PeriodGrowth", {"low": 1.0}))

    def _factor(self, step):
        period, s = float(self.Period), float(step)
        while s >= period:
            s -= period
            period *= self.PeriodGrowth
        return self.MinFactor + (self.MaxFactor - self.MinFactor) * (
            1 + math.cos(math.pi * s / period)) / 2


class CyclicalLearnRate(LearnRateSchedule):
    """Triangular cycles between 1 and ``MaxFactor``.

    Each cycle of ``Period`` steps rises linearly for ``StepRatio * Period``
    steps, then falls back.
    """

    name = "cyclical"
    parameters = (("MaxFactor", _POSITIVE), ("Period", _POSITIVE),
                  ("StepRatio", {"low": 0.0, "high": 1.0, "low_open": True,
                                      "high_open": True}))

    def _factor(self, step):
        pos = (step % self.Period) / self.Period
        if pos < self.StepRatio:
            frac = pos / self.StepRatio
        else:
            frac = (1 - pos) / (1 - self.StepRatio)
        return 1 + (self.MaxFactor - 1) * frac


SCHEDULES = {cls.name: cls for cls in (PiecewiseLearnRate, WarmupLearnRate, PolynomialLearnRate,
                                       ExponentialLearnRate, CosineLearnRate, CyclicalLearnRate)}


@name_value_function()
def piecewiseLearnRate(*name_value: Any, DropFactor: float = 0.1, Period: int = 10,
                       FrequencyUnit: Literal["epoch", "iteration"] = "epoch",
                       NumSteps: float = math.inf) -> PiecewiseLearnRate:
    """Piecewise schedule, as MATLAB's ``piecewiseLearnRate``: ``DropFactor ** floor(step / Period)``.

    Parameters
    ----------
    DropFactor : float in [0, 1], default 0.1
        Factor applied every ``Period`` steps.
    Period : int, default 10
        Steps between drops.
    FrequencyUnit : {'epoch', 'iteration'}, default 'epoch'
        What a step is.
    NumSteps : int or Inf, default Inf
        Steps the schedule runs for (in a list of schedules, the next one
        starts after them).

    Returns
    -------
    PiecewiseLearnRate

    Examples
    --------
    >>> from lstmkit import piecewiseLearnRate, trainingOptions
    >>> options = trainingOptions("adam", LearnRateSchedule=piecewiseLearnRate(DropFactor=0.5, Period=5), Verbose=False)
    """
    return PiecewiseLearnRate("piecewiseLearnRate", locals())


@name_value_function()
def warmupLearnRate(*name_value: Any, InitialFactor: float = 0.0, FinalFactor: float = 1.0,
                    FrequencyUnit: Literal["epoch", "iteration"] = "epoch",
                    NumSteps: float = 5) -> WarmupLearnRate:
    """Warm-up schedule, as MATLAB's ``warmupLearnRate``: a linear ramp over ``NumSteps`` steps.

    Parameters
    ----------
    InitialFactor : float, default 0
        Factor at the first step.
    FinalFactor : float, default 1
        Factor reached after ``NumSteps`` steps.
    FrequencyUnit : {'epoch', 'iteration'}, default 'epoch'
        What a step is.
    NumSteps : int or Inf, default 5
        Steps the schedule runs for (in a list of schedules, the next one
        starts after them).

    Returns
    -------
    WarmupLearnRate

    Examples
    --------
    >>> from lstmkit import warmupLearnRate, trainingOptions
    >>> options = trainingOptions("adam", LearnRateSchedule=warmupLearnRate(NumSteps=3), Verbose=False)
    """
    return WarmupLearnRate("warmupLearnRate", locals())


@name_value_function()
def polynomialLearnRate(*name_value: Any, InitialFactor: float = 1.0, FinalFactor: float = 0.0,
                        Power: float = 1.0, FrequencyUnit: Literal["epoch", "iteration"] = "epoch",
                        NumSteps: float = 10) -> PolynomialLearnRate:
    """Polynomial decay, as MATLAB's ``polynomialLearnRate``.

    ``FinalFactor + (InitialFactor - FinalFactor) * (1 - step / NumSteps) ** Power``,
    then ``FinalFactor``.

    Parameters
    ----------
    InitialFactor : float, default 1
        Factor at the first step.
    FinalFactor : float, default 0
        Factor after ``NumSteps`` steps.
    Power : float, default 1
        Exponent of the decay.
    FrequencyUnit : {'epoch', 'iteration'}, default 'epoch'
        What a step is.
    NumSteps : int or Inf, default 10
        Steps the schedule runs for (in a list of schedules, the next one
        starts after them).

    Returns
    -------
    PolynomialLearnRate

    Examples
    --------
    >>> from lstmkit import polynomialLearnRate, trainingOptions
    >>> options = trainingOptions("adam", LearnRateSchedule=polynomialLearnRate(Power=2), Verbose=False)
    """
    return PolynomialLearnRate("polynomialLearnRate", locals())


@name_value_function()
def exponentialLearnRate(*name_value: Any, DropFactor: float = 0.1, Period: float = 1,
                         FrequencyUnit: Literal["epoch", "iteration"] = "epoch",
                         NumSteps: float = math.inf) -> ExponentialLearnRate:
    """Exponential decay, as MATLAB's ``exponentialLearnRate``: ``DropFactor ** (step / Period)``.

    Parameters
    ----------
    DropFactor : float in [0, 1], default 0.1
        Factor per ``Period`` steps.
    Period : float, default 1
        Steps per ``DropFactor``.
    FrequencyUnit : {'epoch', 'iteration'}, default 'epoch'
        What a step is.
    NumSteps : int or Inf, default Inf
        Steps the schedule runs for (in a list of schedules, the next one
        starts after them).

    Returns
    -------
    ExponentialLearnRate

    Examples
    --------
    >>> from lstmkit import exponentialLearnRate, trainingOptions
    >>> options = trainingOptions("adam", LearnRateSchedule=exponentialLearnRate(DropFactor=0.9), Verbose=False)
    """
    return ExponentialLearnRate("exponentialLearnRate", locals())


@name_value_function()
def cosineLearnRate(*name_value: Any, MinFactor: float = 0.0, MaxFactor: float = 1.0,
                    Period: float = 10, PeriodGrowth: float = 1.0,
                    FrequencyUnit: Literal["epoch", "iteration"] = "epoch",
                    NumSteps: float = math.inf) -> CosineLearnRate:
    """Cosine annealing with restarts, as MATLAB's ``cosineLearnRate``.

    Within a cycle of length P: ``MinFactor + (MaxFactor - MinFactor) * (1 + cos(pi * s / P)) / 2``;
    each cycle is ``PeriodGrowth`` times longer than the one before.

    Parameters
    ----------
    MinFactor : float, default 0
        Smallest factor.
    MaxFactor : float, default 1
        Largest factor (at the start of a cycle).
    Period : float, default 10
        Steps of the first cycle.
    PeriodGrowth : float >= 1, default 1
        Growth of the cycle length.
    FrequencyUnit : {'epoch', 'iteration'}, default 'epoch'
        What a step is.
    NumSteps : int or Inf, default Inf
        Steps the schedule runs for (in a list of schedules, the next one
        starts after them).

    Returns
    -------
    CosineLearnRate

    Examples
    --------
    >>> from lstmkit import cosineLearnRate, trainingOptions, warmupLearnRate
    >>> options = trainingOptions("adam", Verbose=False,
    ...                           LearnRateSchedule=[warmupLearnRate(), cosineLearnRate(Period=20)])
    """
    return CosineLearnRate("cosineLearnRate", locals())


@name_value_function()
def cyclicalLearnRate(*name_value: Any, MaxFactor: float = 10.0, Period: float = 10,
                      StepRatio: float = 0.5,
                      FrequencyUnit: Literal["epoch", "iteration"] = "epoch",
                      NumSteps: float = math.inf) -> CyclicalLearnRate:
    """Triangular cycles between 1 and ``MaxFactor``, as MATLAB's ``cyclicalLearnRate``.

    Each cycle of ``Period`` steps rises linearly for ``StepRatio * Period``
    steps, then falls back.

    Parameters
    ----------
    MaxFactor : float, default 10
        Peak factor.
    Period : float, default 10
        Steps per cycle.
    StepRatio : float in (0, 1), default 0.5
        Fraction of the cycle spent rising.
    FrequencyUnit : {'epoch', 'iteration'}, default 'epoch'
        What a step is.
    NumSteps : int or Inf, default Inf
        Steps the schedule runs for (in a list of schedules, the next one
        starts after them).

    Returns
    -------
    CyclicalLearnRate

    Examples
    --------
    >>> from lstmkit import cyclicalLearnRate, trainingOptions
    >>> options = trainingOptions("adam", LearnRateSchedule=cyclicalLearnRate(MaxFactor=5), Verbose=False)
    """
    return CyclicalLearnRate("cyclicalLearnRate", locals())


#: the public factory of each schedule name
FACTORIES = {"piecewise": piecewiseLearnRate, "warmup": warmupLearnRate,
             "polynomial": polynomialLearnRate, "exponential": exponentialLearnRate,
             "cosine": cosineLearnRate, "cyclical": cyclicalLearnRate}


def check_schedule(func, value, drop_factor=None, drop_period=None):
    """Normalize a LearnRateSchedule option to 'none' or a list of schedule objects.

    'piecewise' as a string uses LearnRateDropFactor and LearnRateDropPeriod
    (epochs), as MATLAB's trainingOptions does.
    """
    if isinstance(value, str):
        name = check_choice(func, "LearnRateSchedule", value, ("none",) + tuple(SCHEDULES))
        if name == "none":
            return "none"
        if name == "piecewise":
            kw = {}
            if drop_factor is not None:
                kw["DropFactor"] = drop_factor
            if drop_period is not None:
                kw["Period"] = drop_period
            return [piecewiseLearnRate(**kw)]
        return [FACTORIES[name]()]
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    if not items or not all(isinstance(s, LearnRateSchedule) for s in items):
        fail(func, f"`LearnRateSchedule` must be 'none', one of {', '.join(map(repr, SCHEDULES))}, "
                   f"a schedule object (e.g. cosineLearnRate()) or a list of them. "
                   f"Received: LearnRateSchedule={value!r}.")
    return items


class ScheduleRunner:
    """Runs a normalized schedule ('none' or a list) as training advances.

    ``factor(epoch, iteration)`` must be called with non-decreasing values
    (both 1-based).  When a schedule of a list has run its ``NumSteps`` steps,
    the next starts at that epoch and iteration.
    """

    def __init__(self, schedule):
        self.items = None if schedule == "none" else list(schedule)
        self.k = 0
        self.start_epoch = 1
        self.start_iteration = 1

    def factor(self, epoch, iteration):
        """Multiplier of InitialLearnRate at this epoch and iteration."""
        if self.items is None:
            return 1.0
        while True:
            item = self.items[self.k]
            if item.FrequencyUnit == "epoch":
                step = epoch - self.start_epoch
            else:
                step = iteration - self.start_iteration
            if self.k == len(self.items) - 1 or step < item.NumSteps:
                return item.factor(step)
            self.k += 1
            self.start_epoch, self.start_iteration = epoch, iteration
