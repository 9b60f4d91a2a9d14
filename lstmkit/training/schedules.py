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

import math

from .._validation import check_choice, check_real, fail, parse_name_value


class LearnRateSchedule:
    """Base class: subclasses define ``_factor(step)`` and their parameters."""

    name = ""
    parameters = ()  # (name, default, checker kwargs)

    def __init__(self, func, args, kwargs):
        names = [p[0] for p in self.parameters] + ["FrequencyUnit", "NumSteps"]
        opts = parse_name_value(func, args, kwargs, names)
        for pname, default, bounds in self.parameters:
            value = opts.get(pname, default)
            setattr(self, pname, check_real(func, pname, value, allow_inf=True, **bounds))
        self.FrequencyUnit = check_choice(func, "FrequencyUnit",
                                          opts.get("FrequencyUnit", "epoch"),
                                          ("epoch", "iteration"))
        steps = opts.get("NumSteps", self.default_steps)
        self.NumSteps = check_real(func, "NumSteps", steps, low=1, allow_inf=True)
        if math.isfinite(self.NumSteps) and not float(self.NumSteps).is_integer():
            fail(func, f"`NumSteps` must be a positive integer or Inf. Received: NumSteps={steps!r}.")

    default_steps = math.inf

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
    parameters = (("DropFactor", 0.1, _UNIT), ("Period", 10, _POSITIVE))

    def _factor(self, step):
        return self.DropFactor ** math.floor(step / self.Period)


class WarmupLearnRate(LearnRateSchedule):
    """Linear ramp from ``InitialFactor`` to ``FinalFactor`` over ``NumSteps`` steps."""

    name = "warmup"
    parameters = (("InitialFactor", 0.0, _NONNEG), ("FinalFactor", 1.0, _NONNEG))
    default_steps = 5

    def _factor(self, step):
        if step >= self.NumSteps:
            return self.FinalFactor
        return self.InitialFactor + (self.FinalFactor - self.InitialFactor) * step / self.NumSteps


class PolynomialLearnRate(LearnRateSchedule):
    """``Final + (Initial - Final) * (1 - step / NumSteps) ** Power`` (then Final)."""

    name = "polynomial"
    parameters = (("InitialFactor", 1.0, _NONNEG), ("FinalFactor", 0.0, _NONNEG),
                  ("Power", 1.0, _POSITIVE))
    default_steps = 10

    def _factor(self, step):
        frac = min(step / self.NumSteps, 1.0)
        return self.FinalFactor + (self.InitialFactor - self.FinalFactor) * (1 - frac) ** self.Power


class ExponentialLearnRate(LearnRateSchedule):
    """``DropFactor ** (step / Period)``."""

    name = "exponential"
    parameters = (("DropFactor", 0.1, _UNIT), ("Period", 1, _POSITIVE))

    def _factor(self, step):
        return self.DropFactor ** (step / self.Period)


class CosineLearnRate(LearnRateSchedule):
    """Cosine annealing with restarts (SGDR).

    Within a cycle of length ``P``: ``Min + (Max - Min) * (1 + cos(pi * s / P)) / 2``;
    each cycle is ``PeriodGrowth`` times longer than the one before.
    """

    name = "cosine"
    parameters = (("MinFactor", 0.0, _NONNEG), ("MaxFactor", 1.0, _NONNEG),
                  ("Period", 10, _POSITIVE), ("PeriodGrowth", 1.0, {"low": 1.0}))

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
    parameters = (("MaxFactor", 10.0, _POSITIVE), ("Period", 10, _POSITIVE),
                  ("StepRatio", 0.5, {"low": 0.0, "high": 1.0, "low_open": True,
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


def piecewiseLearnRate(*args, **kwargs):
    """Piecewise schedule: ``DropFactor`` (0.1) every ``Period`` (10) steps."""
    return PiecewiseLearnRate("piecewiseLearnRate", args, kwargs)


def warmupLearnRate(*args, **kwargs):
    """Warm-up: from ``InitialFactor`` (0) to ``FinalFactor`` (1) over ``NumSteps`` (5) steps."""
    return WarmupLearnRate("warmupLearnRate", args, kwargs)


def polynomialLearnRate(*args, **kwargs):
    """Polynomial decay from ``InitialFactor`` (1) to ``FinalFactor`` (0), ``Power`` 1, 10 steps."""
    return PolynomialLearnRate("polynomialLearnRate", args, kwargs)


def exponentialLearnRate(*args, **kwargs):
    """Exponential decay: ``DropFactor`` (0.1) per ``Period`` (1) steps."""
    return ExponentialLearnRate("exponentialLearnRate", args, kwargs)


def cosineLearnRate(*args, **kwargs):
    """Cosine annealing between ``MinFactor`` (0) and ``MaxFactor`` (1), ``Period`` 10."""
    return CosineLearnRate("cosineLearnRate", args, kwargs)


def cyclicalLearnRate(*args, **kwargs):
    """Triangular cycles up to ``MaxFactor`` (10), ``Period`` 10, ``StepRatio`` 0.5."""
    return CyclicalLearnRate("cyclicalLearnRate", args, kwargs)


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
            return [PiecewiseLearnRate(func, (), kw)]
        return [SCHEDULES[name](func, (), {})]
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
