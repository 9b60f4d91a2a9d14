"""MATLAB's update functions for custom training loops: adamupdate, sgdmupdate, rmspropupdate, dlupdate.

The parameters (a dlnetwork, a Learnables-layout table, a dlarray, or a
list, tuple or dict of dlarrays), their gradients and the solver state are
updated, parameter by parameter, by trainNetwork's own solver kernel
(:func:`lstmkit.kernels.solvers.solver_step`: one engine), so one update
equals a trainnet iteration with the same gradient.  For a dlnetwork the
layers' learn-rate factors apply, as in MATLAB.  An update that would make a
parameter or state NaN or infinite is an error that changes nothing.

MATLAB's values are values: the functions return a new network (or table,
or array) and new states; the arguments are never changed.  The states come
back in the layout of the gradient (a table for a network), and MATLAB's
empty initial state (``[]``) is ``None`` or ``[]``.
"""

from __future__ import annotations

import numbers
from typing import Any, Callable

import numpy as np

from ._validation import _show, check_nargout, checked_call, fail, select_outputs
from .dlarrays import DLArray
from .dlnetwork import DLNetwork
from .kernels import solvers as solver_kernels
from .layers.base import expand_factor
from .table import Table


# -- parameters as a list of arrays, and back ---------------------------------------------------
def _leaves(func, value, name):
    """``(arrays, rebuild)``: the numeric leaves of a parameter structure and its rebuilder.

    ``rebuild(new)`` makes the structure again around ``new``, arrays it owns
    from then on (the callers pass fresh ones: nothing is copied twice).
    """
    if isinstance(value, DLNetwork):
        entries = [(layer, lb) for layer in value._graph.layers for lb in layer.learnables]
        arrays = [np.asarray(getattr(layer, lb.name)) for layer, lb in entries]

        def rebuild(new):
            # a new network in which each learnable is its new array, in the old one's dtype
            # and shape (the solver made them: neither copied nor checked again)
            return value._with_learnables(
                [np.ascontiguousarray(arr, dtype=old.dtype).reshape(old.shape)
                 for arr, old in zip(new, arrays)])
        return arrays, rebuild
    if isinstance(value, Table):
        if "Value" not in value.VariableNames:
            fail(func, f"`{name}` must be a Learnables-layout table (Layer, Parameter, Value). "
                       f"Received a table with {value.VariableNames}.", TypeError)
        arrays = [_numeric(func, v, f"{name}.Value[{i}]") for i, v in enumerate(value.Value)]
        kinds = [isinstance(v, DLArray) for v in value.Value]

        def rebuild(new):
            return Table({"Layer": list(value.Layer), "Parameter": list(value.Parameter),
                          "Value": [_like(k, a) for k, a in zip(kinds, new)]})
        return arrays, rebuild
    if isinstance(value, (DLArray, np.ndarray)):
        return [_numeric(func, value, name)], lambda new: _like(isinstance(value, DLArray),
                                                                new[0], value)
    if isinstance(value, (list, tuple)):
        parts = [_leaves(func, v, f"{name}[{i}]") for i, v in enumerate(value)]
        return _join(parts, lambda rebuilt: type(value)(rebuilt))
    if isinstance(value, dict):
        keys = list(value)
        parts = [_leaves(func, value[k], f"{name}[{k!r}]") for k in keys]
        return _join(parts, lambda rebuilt: dict(zip(keys, rebuilt)))
    fail(func, f"`{name}` must be a dlnetwork, a Learnables table, a dlarray, or a list, "
               f"tuple or dict of dlarrays. Received: {_show(value)}.", TypeError)


def _join(parts, make):
    arrays = [a for arrs, _ in parts for a in arrs]
    sizes = [len(arrs) for arrs, _ in parts]

    def rebuild(new):
        out, at = [], 0
        for (_, sub), n in zip(parts, sizes):
            out.append(sub(new[at:at + n]))
            at += n
        return make(out)
    return arrays, rebuild


def _numeric(func, v, name):
    data = v._data if isinstance(v, DLArray) else v
    arr = np.asarray(data) if isinstance(data, (np.ndarray, numbers.Real)) else None
    if arr is None or arr.dtype.kind not in "fiu":
        fail(func, f"`{name}` must be numeric (a dlarray). Received: {_show(v)}.", TypeError)
    return arr


def _like(as_dlarray, arr, template=None):
    """``arr`` (owned) as a dlarray, in the template's format, or as an array."""
    if as_dlarray:
        fmt = template._fmt if isinstance(template, DLArray) else ""
        return DLArray(arr, fmt, None)
    return arr


def _lr_factors(params, arrays):
    """Per-element learn-rate factors (flat, in each parameter's dtype): the layers' for a
    dlnetwork, else 1 (a shared read-only vector of ones)."""
    dtypes = [_solver_dtype(a) for a in arrays]
    if not isinstance(params, DLNetwork) or all(
            np.ndim(getattr(layer, lb.lr_factor)) == 0 and getattr(layer, lb.lr_factor) == 1
            for layer in params._graph.layers for lb in layer.learnables):
        return [_ones(a.size, dt) for a, dt in zip(arrays, dtypes)]
    return [np.ravel(expand_factor(getattr(layer, lb.lr_factor),
                                   np.shape(getattr(layer, lb.name)), lb.blocks,
                                   lb.repeats)).astype(dt)
            for (layer, lb), dt in zip(((layer, lb) for layer in params._graph.layers
                                        for lb in layer.learnables), dtypes)]


_ONES = {}


def _ones(n, dtype):
    """A read-only vector of n ones (one buffer per dtype, grown as needed)."""
    buf = _ONES.get(dtype)
    if buf is None or buf.size < n:
        buf = np.ones(max(n, 1024), dtype)
        buf.flags.writeable = False
        _ONES[dtype] = buf
    return buf[:n]


def _solver_dtype(a):
    return a.dtype if a.dtype.kind == "f" else np.dtype(np.float64)


def _state(func, state, arrays, name):
    """A solver state (None for MATLAB's empty ``[]``: zeros), checked against the
    parameters."""
    if state is None or (isinstance(state, (list, np.ndarray)) and len(state) == 0):
        return None
    values, _ = _leaves(func, state, name)
    _check_match(func, values, arrays, name)
    return values


def _check_match(func, values, arrays, name):
    if len(values) != len(arrays):
        fail(func, f"`{name}` holds {len(values)} arrays but the parameters hold "
                   f"{len(arrays)}: they must have the same layout.")
    for i, (v, a) in enumerate(zip(values, arrays)):
        if np.shape(v) != np.shape(a):
            fail(func, f"`{name}`'s array {i} is {'x'.join(map(str, np.shape(v)))} but the "
                       f"parameter it updates is {'x'.join(map(str, np.shape(a)))}.")


def _scalar(func, name, value, low=None, high=None, positive=False):
    if isinstance(value, DLArray):
        value = float(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or \
            not np.isfinite(value) or (low is not None and value < low) or \
            (high is not None and value >= high) or (positive and value <= 0):
        fail(func, f"`{name}` must be a finite real scalar"
                   + (f" in [{low}, {high})" if low is not None and high is not None else
                      " above 0" if positive else "") + f". Received: {_show(value)}.")
    return float(value)


def _update(func, kind, params, grad, states, lr, hyper1, hyper2, eps, iteration):
    """One solver step; ``states`` are the solver's two states as ``(value, name)`` (checked
    against the parameters) or None for one the solver does not use.

    Each parameter is updated on its own (in its own float dtype) by the solver kernel, on
    copies, so an update that fails leaves every argument as it was.
    """
    arrays, rebuild = _leaves(func, params, "net")
    grads, rebuild_state = _leaves(func, grad, "grad")
    _check_match(func, grads, arrays, "grad")
    olds = [None if st is None else _state(func, st[0], arrays, st[1]) for st in states]
    factors = _lr_factors(params, arrays)
    thetas, s1s, s2s = [], [], []
    for i, (a, factor) in enumerate(zip(arrays, factors)):
        dt = factor.dtype
        theta = np.array(a, dtype=dt, order="C")
        g = np.ascontiguousarray(grads[i], dtype=dt)
        s1, s2 = (np.zeros(a.shape, dt) if old is None else np.array(old[i], dtype=dt, order="C")
                  for old in olds)
        if not solver_kernels.solver_step(kind, theta.reshape(-1), g.reshape(-1),
                                          s1.reshape(-1), s2.reshape(-1), lr, factor, hyper1,
                                          hyper2, eps, iteration):
            fail(func, "the update would make a parameter or the solver's state NaN or "
                       "infinite (is the gradient finite?); nothing was changed.",
                 FloatingPointError)
        thetas.append(theta)
        s1s.append(s1)
        s2s.append(s2)
    return rebuild(thetas), rebuild_state(s1s), rebuild_state(s2s)


# -- the public functions ---------------------------------------------------------------------------
@checked_call
def adamupdate(net: Any, grad: Any, averageGrad: Any, averageSqGrad: Any, iteration: int,
               learnRate: float = 0.001, gradDecay: float = 0.9, sqGradDecay: float = 0.999,
               epsilon: float = 1e-8, *, nargout: int = 1) -> Any:
    """Adam update of the learnables, as MATLAB's ``adamupdate``.

    ``net, averageGrad, averageSqGrad = adamupdate(net, grad, averageGrad,
    averageSqGrad, iteration, nargout=3)`` (MATLAB's ``[net, averageGrad,
    averageSqGrad] = adamupdate(...)``).

    Parameters
    ----------
    net : dlnetwork, Learnables table, dlarray, or list/tuple/dict of dlarrays
        The parameters.
    grad : same layout as net's learnables
        Their gradient (as :func:`lstmkit.dlgradient` returns it).
    averageGrad, averageSqGrad : same layout, or None / [] at the first iteration
        The moving averages of the gradient and of its square.
    iteration : int
        The 1-based iteration (Adam's bias correction).
    learnRate, gradDecay, sqGradDecay, epsilon : float
        MATLAB's defaults 0.001, 0.9, 0.999, 1e-8.
    nargout : {1, 2, 3}, default 1

    Returns
    -------
    net, averageGrad, averageSqGrad
        New values (the arguments are not changed); the averages in the
        layout of ``grad``.

    Examples
    --------
    >>> import numpy as np
    >>> from lstmkit import adamupdate, dlarray, extractdata
    >>> w, avg, avgSq = adamupdate(dlarray([1.0]), dlarray([0.5]), None, None, 1, nargout=3)
    >>> np.round(extractdata(w), 6)            # one step of the learning rate against the sign
    array([0.999])
    """
    func = "adamupdate"
    nargout = check_nargout(func, nargout, 3)
    if isinstance(iteration, (bool, np.bool_)) or not isinstance(iteration, numbers.Integral) \
            or iteration < 1:
        fail(func, f"`iteration` must be a positive integer (the 1-based iteration). "
                   f"Received: {_show(iteration)}.")
    lr = _scalar(func, "learnRate", learnRate, positive=True)
    b1 = _scalar(func, "gradDecay", gradDecay, 0.0, 1.0)
    b2 = _scalar(func, "sqGradDecay", sqGradDecay, 0.0, 1.0)
    eps = _scalar(func, "epsilon", epsilon, positive=True)
    states = ((averageGrad, "averageGrad"), (averageSqGrad, "averageSqGrad"))
    out = _update(func, solver_kernels.ADAM, net, grad, states, lr, b1, b2, eps, int(iteration))
    return select_outputs(out, nargout)


@checked_call
def sgdmupdate(net: Any, grad: Any, vel: Any, learnRate: float = 0.01, momentum: float = 0.9,
               *, nargout: int = 1) -> Any:
    """Stochastic gradient descent with momentum, as MATLAB's ``sgdmupdate``.

    ``net, vel = sgdmupdate(net, grad, vel, nargout=2)``.

    Parameters
    ----------
    net : dlnetwork, Learnables table, dlarray, or list/tuple/dict of dlarrays
    grad : same layout
    vel : same layout, or None / [] at the first iteration
        The velocity.
    learnRate, momentum : float
        MATLAB's defaults 0.01, 0.9.
    nargout : {1, 2}, default 1

    Returns
    -------
    net, vel

    Examples
    --------
    >>> import numpy as np
    >>> from lstmkit import dlarray, extractdata, sgdmupdate
    >>> w, vel = sgdmupdate(dlarray([1.0]), dlarray([2.0]), None, nargout=2)
    >>> extractdata(w), extractdata(vel)
    (array([0.98]), array([-0.02]))
    """
    func = "sgdmupdate"
    nargout = check_nargout(func, nargout, 2)
    lr = _scalar(func, "learnRate", learnRate, positive=True)
    mom = _scalar(func, "momentum", momentum, 0.0, 1.0)
    new, v, _ = _update(func, solver_kernels.SGDM, net, grad, ((vel, "vel"), None), lr, mom,
                        0.0, 0.0, 1)
    return select_outputs((new, v), nargout)


@checked_call
def rmspropupdate(net: Any, grad: Any, averageSqGrad: Any, learnRate: float = 0.001,
                  sqGradDecay: float = 0.9, epsilon: float = 1e-8, *,
                  nargout: int = 1) -> Any:
    """RMSProp update, as MATLAB's ``rmspropupdate``.

    ``net, averageSqGrad = rmspropupdate(net, grad, averageSqGrad, nargout=2)``.

    Parameters
    ----------
    net : dlnetwork, Learnables table, dlarray, or list/tuple/dict of dlarrays
    grad : same layout
    averageSqGrad : same layout, or None / [] at the first iteration
    learnRate, sqGradDecay, epsilon : float
        MATLAB's defaults 0.001, 0.9, 1e-8.
    nargout : {1, 2}, default 1

    Returns
    -------
    net, averageSqGrad

    Examples
    --------
    >>> import numpy as np
    >>> from lstmkit import dlarray, extractdata, rmspropupdate
    >>> w = rmspropupdate(dlarray([1.0]), dlarray([1.0]), None)
    >>> np.round(extractdata(w), 5)
    array([0.99684])
    """
    func = "rmspropupdate"
    nargout = check_nargout(func, nargout, 2)
    lr = _scalar(func, "learnRate", learnRate, positive=True)
    b2 = _scalar(func, "sqGradDecay", sqGradDecay, 0.0, 1.0)
    eps = _scalar(func, "epsilon", epsilon, positive=True)
    new, _, sq = _update(func, solver_kernels.RMSPROP, net, grad,
                         (None, (averageSqGrad, "averageSqGrad")), lr, 0.0, b2, eps, 1)
    return select_outputs((new, sq), nargout)


@checked_call
def dlupdate(fun: Callable, net: Any, *more: Any, nargout: int = 1) -> Any:
    """Apply a function to every learnable, as MATLAB's ``dlupdate``.

    ``net = dlupdate(lambda w, g: w - 0.01 * g, net, grad)``: ``fun`` gets
    each parameter (a dlarray) and the matching arrays of ``more``, and
    returns the new parameter (or, with ``nargout=k``, a tuple of k values,
    the others gathered in the layout of ``net``'s learnables).

    Parameters
    ----------
    fun : callable
    net : dlnetwork, Learnables table, dlarray, or list/tuple/dict of dlarrays
    *more : same layout
    nargout : int, default 1

    Returns
    -------
    The updated parameters (a new network for a network), and the other outputs.

    Examples
    --------
    >>> from lstmkit import dlarray, dlupdate, extractdata
    >>> extractdata(dlupdate(lambda w, g: w - 0.5 * g, dlarray([1.0]), dlarray([2.0])))
    array([0.])
    """
    func = "dlupdate"
    if not callable(fun):
        fail(func, f"`fun` must be a function. Received: {_show(fun)}.", TypeError)
    if isinstance(nargout, (bool, np.bool_)) or not isinstance(nargout, numbers.Integral) or \
            nargout < 1:
        fail(func, f"`nargout` must be a positive integer. Received: {_show(nargout)}.")
    arrays, rebuild = _leaves(func, net, "net")
    extra = []
    for i, m in enumerate(more):
        values, _ = _leaves(func, m, f"more[{i}]")
        _check_match(func, values, arrays, f"more[{i}]")
        extra.append(values)
    results = []
    for j, a in enumerate(arrays):
        out = fun(DLArray(np.array(a), "", None), *[DLArray(np.asarray(e[j]), "", None)
                                                    for e in extra])
        out = out if isinstance(out, tuple) else (out,)
        if len(out) < nargout:
            fail(func, f"`fun` returned {len(out)} values; nargout={nargout} needs {nargout}.")
        # copies: what fun returns may be one of its arguments (the caller's gradient)
        results.append([np.array(o._data if isinstance(o, DLArray) else o) for o in out])
    first = rebuild([r[0] for r in results])
    if nargout == 1:
        return first
    _, rebuild_like = _leaves(func, more[0] if more else net, "net")
    return (first,) + tuple(rebuild_like([r[k] for r in results]) for k in range(1, nargout))
