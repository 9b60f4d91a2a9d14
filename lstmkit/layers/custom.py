"""Custom layers, as MATLAB porters write them: a class with ``predict`` and ``backward``.

MATLAB's ``classdef myLayer < nnet.layer.Layer`` becomes a subclass of
:class:`CustomLayer`::

    class PReLULayer(CustomLayer):
        LearnableProperties = ("Alpha",)       # MATLAB's properties (Learnable)

        def __init__(self, numChannels, Name=""):
            super().__init__(Name=Name, Description="PReLU")
            self.Alpha = np.full((numChannels, 1), 0.25)

        def predict(self, X):                   # X: C-by-M
            return np.maximum(X, 0) + self.Alpha * np.minimum(0, X)

        def backward(self, X, Z, dLdZ, memory):
            dLdX = np.where(X > 0, 1.0, self.Alpha) * dLdZ
            dLdAlpha = np.sum(np.minimum(0, X) * dLdZ, axis=1, keepdims=True)
            return dLdX, dLdAlpha

``X`` is channels by columns, one column per observation (and per time step
of a sequence: MATLAB's C-by-B-by-T with B and T folded, and never padded), so
a learnable of size C-by-1 broadcasts as in MATLAB.  The layer must act on
each column on its own (per time step); layers that mix time steps are
convolution, pooling and attention, built in.  ``backward`` returns the
input's gradient and one gradient per learnable, in LearnableProperties'
order.  A layer without ``backward`` trains too, as in MATLAB: in training
its ``forward`` (or ``predict``) runs on dlarrays whose operations are
recorded (:mod:`lstmkit.dlarrays`), and its backward is derived from the
record; an operation lstmkit cannot differentiate is an error that names it.

Custom output layers (MATLAB's ``nnet.layer.ClassificationLayer`` and
``nnet.layer.RegressionLayer``) subclass :class:`CustomClassificationLayer` or
:class:`CustomRegressionLayer` and define ``forwardLoss(self, Y, T)`` (the
mini-batch's loss) and ``backwardLoss(self, Y, T)`` (its gradient with
respect to Y), with Y and T channels by columns (T one-hot for
classification).  The loss they define is the one trained and reported.
"""

from __future__ import annotations

import numbers

import numpy as np

from .._validation import checked_call, _show, check_name, check_real, fail
from .base import Layer, Learnable
from .output import ClassificationOutputLayer, RegressionOutputLayer


def _factor_names(name):
    return f"_{name}LearnRateFactor", f"_{name}L2Factor"


class CustomLayer(Layer):
    """Base class of custom layers (MATLAB's ``nnet.layer.Layer``).

    Subclasses set ``LearnableProperties`` (names of array attributes the
    solvers train) and define ``predict(self, X)``, and ``backward(self, X,
    Z, dLdZ, memory)`` to be trainable; ``forward(self, X)`` (returning
    ``Z`` or ``(Z, memory)``) when training differs from prediction; and
    ``initialize(self, numChannels)`` to create learnables from the input
    size.
    """

    type_name = "Custom Layer"
    default_name = "layer"
    LearnableProperties = ()

    def __init__(self, Name="", Description=""):
        super().__init__(check_name(type(self).__name__, Name))
        self._description = Description or type(self).__name__

    @property
    def Description(self):
        return self._description

    @property
    def learnables(self):
        out = []
        for name in self.LearnableProperties:
            lr, l2 = _factor_names(name)
            out.append(Learnable(name, "", lr, l2))
        return tuple(out)

    def __getattr__(self, name):
        if name.startswith("_") and name.endswith(("LearnRateFactor", "L2Factor")):
            return 1.0
        if name in type(self).LearnableProperties:
            return None                  # a learnable not set yet
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _display_properties(self):
        return ["Name", "Description"] + list(self.LearnableProperties)

    def _has_backward(self):
        return callable(getattr(type(self), "backward", None))

    def _ensure_initialized(self, input_size):
        if self._missing_learnables() and callable(getattr(self, "initialize", None)):
            self.initialize(int(input_size))

    def _initialize(self, input_size, rng):
        self._ensure_initialized(input_size)
        missing = self._missing_learnables()
        if missing:
            fail("initialize", f"custom layer '{self.Name}' has no value for its learnables "
                               f"{missing}; set them in __init__ or define initialize(self, "
                               f"numChannels).")

    def _output_size(self, input_size):
        self._ensure_initialized(input_size)
        if self._missing_learnables():
            return None
        probe = self._call("predict", np.zeros((int(input_size), 1)))
        return int(probe.shape[0])

    def _call(self, method, X):
        try:
            out = getattr(self, method)(X)
        except Exception as err:
            raise type(err)(f"custom layer '{self.Name}' ({type(self).__name__}).{method}: "
                            f"{err}") from err
        memory = None
        if isinstance(out, tuple):
            out, memory = out[0], (out[1] if len(out) > 1 else None)
        Z = np.asarray(out)
        if Z.ndim != 2 or Z.shape[1] != X.shape[1]:
            fail(type(self).__name__, f"custom layer '{self.Name}'.{method} must return a "
                                      f"C-by-{X.shape[1]} array for a C-by-{X.shape[1]} input "
                                      f"(one column per observation and time step). Returned: "
                                      f"{_show(out)}.")
        return (Z, memory) if method == "forward" else Z

    def _forward(self, x, batch, state, training, dtype):
        X = np.ascontiguousarray(x.T)
        if training and not self._has_backward():
            return self._recorded_forward(X, dtype)
        if training and callable(getattr(self, "forward", None)):
            Z, memory = self._call("forward", X)
        else:
            Z, memory = self._call("predict", X), None
        y = np.ascontiguousarray(Z.T, dtype=dtype)
        return y, ((X, Z, memory) if training else None), None

    def _recorded_forward(self, X, dtype):
        """forward (or predict) run on traced dlarrays: its backward comes from the record.

        X (C-by-M) and the learnables are given to the method as unformatted
        dlarrays while a tape records what it does (:mod:`lstmkit.autodiff`);
        an operation without a derivative is a clear error there.
        """
        from .. import autodiff
        from ..dlarrays import DLArray
        names = list(self.LearnableProperties)
        saved = {n: getattr(self, n) for n in names}
        method = "forward" if callable(getattr(self, "forward", None)) else "predict"
        with autodiff.recording() as tape:
            Xd = DLArray(X.astype(dtype), "", autodiff.leaf(tape))
            leaves = {n: DLArray(np.asarray(saved[n], dtype), "", autodiff.leaf(tape))
                      for n in names}
            try:
                for n in names:
                    object.__setattr__(self, n, leaves[n])      # the method reads them traced
                try:
                    out = getattr(self, method)(Xd)
                except Exception as err:
                    raise type(err)(f"custom layer '{self.Name}' ({type(self).__name__})."
                                    f"{method}, run to derive its backward: {err}") from err
            finally:
                for n in names:
                    object.__setattr__(self, n, saved[n])
        Z = out[0] if isinstance(out, tuple) else out
        data = Z._data if isinstance(Z, DLArray) else np.asarray(Z)
        if data.ndim != 2 or data.shape[1] != X.shape[1]:
            fail(type(self).__name__, f"custom layer '{self.Name}'.{method} must return a "
                                      f"C-by-{X.shape[1]} array for a C-by-{X.shape[1]} input. "
                                      f"Returned: {_show(data)}.")
        y = np.ascontiguousarray(data.T, dtype=dtype)
        return y, ("recorded", Xd, leaves, Z), None

    def _recorded_backward(self, dy, cache, grads, need_dx):
        from .. import autodiff
        from ..dlarrays import DLArray
        _, Xd, leaves, Z = cache
        names = list(self.LearnableProperties)
        targets = [Xd] + [leaves[n] for n in names]
        if isinstance(Z, DLArray) and Z._node is not None:
            seed = np.ascontiguousarray(dy.T, dtype=Z.dtype)
            found = autodiff.backward(Z._node, seed, [t._node for t in targets])
        else:
            found = [None] * len(targets)             # the output depends on nothing traced
        for name, g in zip(names, found[1:]):
            grads[name][...] = 0 if g is None else np.reshape(g, grads[name].shape)
        if not need_dx:
            return None
        dX = np.zeros(Xd.shape, dy.dtype) if found[0] is None else found[0]
        return np.ascontiguousarray(np.asarray(dX).T, dtype=dy.dtype)

    def _backward(self, dy, cache, grads, need_dx):
        if isinstance(cache[0], str) and cache[0] == "recorded":
            return self._recorded_backward(dy, cache, grads, need_dx)
        X, Z, memory = cache
        out = self.backward(X, Z, np.ascontiguousarray(dy.T), memory)
        out = out if isinstance(out, tuple) else (out,)
        names = list(self.LearnableProperties)
        if len(out) != 1 + len(names):
            fail(type(self).__name__, f"custom layer '{self.Name}'.backward must return "
                                      f"dLdX and one gradient per learnable ({names}); it "
                                      f"returned {len(out)} values.")
        for name, g in zip(names, out[1:]):
            target = grads[name]
            g = np.asarray(g, dtype=np.float64)
            if g.size != target.size:
                fail(type(self).__name__, f"custom layer '{self.Name}'.backward returned a "
                                          f"gradient of {name} with {g.size} values; {name} "
                                          f"has {target.size}.")
            target[...] = g.reshape(target.shape)
        dX = np.asarray(out[0])
        if dX.shape != X.shape:
            fail(type(self).__name__, f"custom layer '{self.Name}'.backward must return dLdX "
                                      f"of the input's size {X.shape}; it returned {dX.shape}.")
        return np.ascontiguousarray(dX.T, dtype=dy.dtype) if need_dx else None


class _CustomLoss:
    """The loss of a custom output layer: forwardLoss and backwardLoss on C-by-M arrays."""

    def _loss(self, y, target, row_scale, dtype):
        Y = np.ascontiguousarray(y.T)
        if target.ndim == 1:                  # class indices -> one-hot, C-by-M
            T = np.zeros_like(Y)
            T[target, np.arange(target.size)] = 1
        else:
            T = np.ascontiguousarray(target.T, dtype=Y.dtype)
        try:
            if callable(getattr(self, "backwardLoss", None)):
                loss = self.forwardLoss(Y, T)
                dLdY = self.backwardLoss(Y, T)
            else:
                loss, dLdY = self._recorded_loss(Y, T)
        except Exception as err:
            raise type(err)(f"custom output layer '{self.Name}': {err}") from err
        if not isinstance(loss, numbers.Real) and np.size(loss) != 1:
            fail(type(self).__name__, f"forwardLoss of '{self.Name}' must return one number. "
                                      f"Returned: {_show(loss)}.")
        dLdY = np.asarray(dLdY)
        if dLdY.shape != Y.shape:
            fail(type(self).__name__, f"backwardLoss of '{self.Name}' must return an array of "
                                      f"Y's size {Y.shape}. Returned: {dLdY.shape}.")
        return float(np.asarray(loss).reshape(())), np.ascontiguousarray(dLdY.T, dtype=dtype), 0


    def _recorded_loss(self, Y, T):
        """forwardLoss on a traced dlarray Y: the loss and its gradient from the record
        (MATLAB derives backwardLoss when a custom output layer has none)."""
        from .. import autodiff
        from ..dlarrays import DLArray
        with autodiff.recording() as tape:
            Yd = DLArray(Y, "", autodiff.leaf(tape))
            loss = self.forwardLoss(Yd, T)
        if not isinstance(loss, DLArray) or loss.size != 1:
            fail(type(self).__name__, f"forwardLoss of '{self.Name}' must return one number "
                                      f"computed from Y. Returned: {_show(loss)}.")
        if loss._node is None:
            return float(loss._data), np.zeros_like(Y)
        (g,) = autodiff.backward(loss._node, np.ones_like(loss._data), [Yd._node])
        return float(loss._data), (np.zeros_like(Y) if g is None else np.asarray(g))


class CustomClassificationLayer(_CustomLoss, ClassificationOutputLayer):
    """Base class of custom classification output layers (MATLAB's ``nnet.layer.ClassificationLayer``).

    Define ``forwardLoss(self, Y, T)`` and ``backwardLoss(self, Y, T)``; Y
    holds the scores (softmax output), T the one-hot targets, both classes by
    columns.  ``Classes`` are taken from the labels, as classificationLayer's.
    """

    type_name = "Classification Output"
    custom_loss = True

    def __init__(self, Name="", Description=""):
        super().__init__(check_name(type(self).__name__, Name))
        self.Classes = None
        self.ClassWeights = "none"
        self._description = Description or type(self).__name__

    @property
    def Description(self):
        return self._description


class CustomRegressionLayer(_CustomLoss, RegressionOutputLayer):
    """Base class of custom regression output layers (MATLAB's ``nnet.layer.RegressionLayer``).

    Define ``forwardLoss(self, Y, T)`` and ``backwardLoss(self, Y, T)``; Y and
    T are responses by columns.
    """

    type_name = "Regression Output"
    custom_loss = True

    def __init__(self, Name="", Description=""):
        super().__init__(check_name(type(self).__name__, Name))
        self.ResponseNames = []
        self._description = Description or type(self).__name__

    @property
    def Description(self):
        return self._description


def _check_learnable(func, layer, name):
    if not isinstance(layer, CustomLayer) or name not in layer.LearnableProperties:
        fail(func, f"`parameterName` must be a learnable of a custom layer "
                   f"({list(getattr(layer, 'LearnableProperties', ()))}). Received: "
                   f"{_show(name)}.")


def _set_factor(func, which, layer, name, factor):
    _check_learnable(func, layer, name)
    out = layer.copy()
    setattr(out, _factor_names(name)[which], check_real(func, "factor", factor, low=0.0))
    return out


@checked_call
def setLearnRateFactor(layer: CustomLayer, parameterName: str, factor: float) -> CustomLayer:
    """Set a custom layer learnable's learn-rate factor, as MATLAB's ``setLearnRateFactor``.

    Parameters
    ----------
    layer : CustomLayer
    parameterName : str
    factor : float
        Non-negative.

    Returns
    -------
    CustomLayer
        A copy with the factor set (MATLAB layers are values).

    Examples
    --------
    >>> import numpy as np
    >>> from lstmkit import CustomLayer, getLearnRateFactor, setLearnRateFactor
    >>> class Scale(CustomLayer):
    ...     LearnableProperties = ("S",)
    ...     def __init__(self):
    ...         super().__init__(); self.S = np.ones((1, 1))
    ...     def predict(self, X):
    ...         return self.S * X
    >>> getLearnRateFactor(setLearnRateFactor(Scale(), "S", 2), "S")
    2.0
    """
    return _set_factor("setLearnRateFactor", 0, layer, parameterName, factor)


@checked_call
def setL2Factor(layer: CustomLayer, parameterName: str, factor: float) -> CustomLayer:
    """Set a custom layer learnable's L2 factor, as MATLAB's ``setL2Factor``.

    Parameters
    ----------
    layer : CustomLayer
    parameterName : str
    factor : float
        Non-negative.

    Returns
    -------
    CustomLayer
        A copy with the factor set.

    Examples
    --------
    >>> import numpy as np
    >>> from lstmkit import CustomLayer, getL2Factor, setL2Factor
    >>> class Scale(CustomLayer):
    ...     LearnableProperties = ("S",)
    ...     def __init__(self):
    ...         super().__init__(); self.S = np.ones((1, 1))
    ...     def predict(self, X):
    ...         return self.S * X
    >>> getL2Factor(setL2Factor(Scale(), "S", 0), "S")
    0.0
    """
    return _set_factor("setL2Factor", 1, layer, parameterName, factor)


@checked_call
def getLearnRateFactor(layer: CustomLayer, parameterName: str) -> float:
    """A custom layer learnable's learn-rate factor, as MATLAB's ``getLearnRateFactor``.

    Parameters
    ----------
    layer : CustomLayer
    parameterName : str

    Returns
    -------
    float

    Examples
    --------
    >>> from lstmkit import CustomLayer, getLearnRateFactor
    >>> class Scale(CustomLayer):
    ...     LearnableProperties = ("S",)
    >>> getLearnRateFactor(Scale(), "S")
    1.0
    """
    _check_learnable("getLearnRateFactor", layer, parameterName)
    return float(getattr(layer, _factor_names(parameterName)[0]))


@checked_call
def getL2Factor(layer: CustomLayer, parameterName: str) -> float:
    """A custom layer learnable's L2 factor, as MATLAB's ``getL2Factor``.

    Parameters
    ----------
    layer : CustomLayer
    parameterName : str

    Returns
    -------
    float

    Examples
    --------
    >>> from lstmkit import CustomLayer, getL2Factor
    >>> class Scale(CustomLayer):
    ...     LearnableProperties = ("S",)
    >>> getL2Factor(Scale(), "S")
    1.0
    """
    _check_learnable("getL2Factor", layer, parameterName)
    return float(getattr(layer, _factor_names(parameterName)[1]))


def check_trainable(func, layers):
    """A custom output layer needs forwardLoss: say so before any work.

    (A custom layer without backward trains: its backward is derived from the
    record of its forward or predict, see ``CustomLayer._recorded_forward``.)
    """
    for layer in layers:
        if getattr(layer, "custom_loss", False) and \
                not callable(getattr(layer, "forwardLoss", None)):
            fail(func, f"custom output layer '{layer.Name}' must define forwardLoss(self, Y, T) "
                       f"(and may define backwardLoss(self, Y, T); without it the gradient is "
                       f"derived from forwardLoss).")
