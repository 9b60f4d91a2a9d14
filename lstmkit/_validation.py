"""Argument checking and MATLAB-style Name=Value parsing.

Every public function and factory validates through these helpers, so that all
messages share one form: they name the function, the argument, what was
expected and what was received (Keras style), and add the likely fix where
there is one (STUMPY style)::

    lstmLayer: `OutputMode` must be one of 'sequence', 'last'. Received: OutputMode='all'.
"""

import difflib
import functools
import inspect
import numbers

import numpy as np


def _show(value):
    """Short representation of a received value for error messages."""
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    if "\n" in text:                 # a network or a table: its class says what it is
        return f"a {type(value).__name__}"
    return text if len(text) <= 60 else text[:57] + "..."


def size_text(shape):
    """MATLAB's way of writing a size: ``(3, 4)`` -> ``'3-by-4'`` (``'scalar'`` for ``()``)."""
    return "-by-".join(map(str, shape)) or "scalar"


def fail(func, message, exc=ValueError):
    """Raise ``exc`` with ``"<func>: <message>"``."""
    raise exc(f"{func}: {message}")


def closest_hint(name, names):
    """" Did you mean 'X'?" for the valid name closest to ``name`` (case-insensitive), or ""."""
    lookup = {n.lower(): n for n in names}
    close = difflib.get_close_matches(name.lower(), list(lookup), n=1, cutoff=0.6)
    return f" Did you mean '{lookup[close[0]]}'?" if close else ""


def parse_name_value(func, args, kwargs, names, unavailable=None, shown=None):
    """Merge MATLAB positional Name,Value pairs and keyword arguments.

    Parameters
    ----------
    func : str
        Name of the public function, for messages.
    args : tuple
        Positional arguments after the required ones: ``"Name1", value1, ...``.
    kwargs : dict
        Keyword arguments.
    names : iterable of str
        Valid names in their canonical (MATLAB) spelling.
    unavailable : dict, optional
        Names that are known but cannot be used here (a MATLAB option lstmkit
        does not implement yet, an option of another solver), mapped to the
        message to give instead of "not a valid option".
    shown : list of str, optional
        The names an unknown-name error lists (default: ``names``).

    Returns
    -------
    dict
        Canonical name -> value, for the names that were given.

    Notes
    -----
    Names are case-insensitive, as in MATLAB.  An unknown name is a
    ``TypeError`` that lists the valid names and suggests the closest; a name
    given twice is a ``TypeError``.
    """
    names = list(names)
    lookup = {n.lower(): n for n in names}
    unavailable = {k.lower(): msg for k, msg in (unavailable or {}).items()}
    if len(args) % 2:
        fail(func, f"Name=Value arguments must come in pairs; received {len(args)} positional "
                   f"values after the required arguments ({_show(args[-1])} has no value).",
             TypeError)
    pairs = [(args[i], args[i + 1]) for i in range(0, len(args), 2)] + list(kwargs.items())
    out = {}
    for name, value in pairs:
        if not isinstance(name, str):
            fail(func, f"expected an option name (a str) in the Name,Value list. "
                       f"Received: {_show(name)}.", TypeError)
        key = name.lower()
        if key not in lookup:
            if key in unavailable:
                fail(func, unavailable[key], TypeError)
            hint = closest_hint(name, names)
            fail(func, f"'{name}' is not a valid option.{hint} "
                       f"Valid options: {', '.join(shown or names)}.", TypeError)
        canonical = lookup[key]
        if canonical in out:
            fail(func, f"option '{canonical}' is given more than once.", TypeError)
        out[canonical] = value
    return out


def name_value_function(unavailable=None, shown=None, leading=None, variadic=False):
    """Decorator: MATLAB's argument conventions for a public function.

    The function declares its positional arguments, then ``*name_value`` (where
    MATLAB's positional ``"Name", value`` pairs go), then every Name=Value option
    as a keyword-only parameter with its MATLAB default::

        @name_value_function()
        def dropoutLayer(probability: float = 0.5, *name_value: Any,
                         Name: str = "") -> DropoutLayer:
            ...

    so that ``inspect.signature``, ``help()`` and IDEs show the options.  The
    wrapper accepts each option as a keyword or as a positional pair, its name
    in any case (as MATLAB does); it rejects unknown names (listing the valid
    ones and suggesting the closest), names given twice and pairs without a
    value, and calls the function with the canonical names.  An optional
    positional argument may be left out before the pairs, as in MATLAB's
    ``dropoutLayer("Name", "drop1")``.

    Parameters
    ----------
    unavailable : dict, optional
        MATLAB options that are known but not accepted, mapped to the message
        to give instead of "not a valid option".
    shown : callable, optional
        ``shown(bound)`` gives the option names an unknown-name error lists,
        from the positional arguments (by name); default: every option.
    leading : (str, callable), optional
        MATLAB's ``f(parent, ___)`` form: a first positional argument for which
        ``leading[1](arg)`` is true is taken as the option ``leading[0]``.
    variadic : bool, default False
        MATLAB's ``f(net, X1, ..., XM, Name=Value)``: positional arguments
        after the declared ones, up to the first string, are more data
        arguments; the function receives them in its ``*args`` parameter
        (every declared positional argument must then be given).
    """
    def decorate(func):
        sig = inspect.signature(func)
        params = list(sig.parameters.values())
        positional = [p for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]
        options = [p.name for p in params if p.kind is p.KEYWORD_ONLY]
        # an optional positional argument may also be named in the pairs (MATLAB's property)
        optional = [p.name for p in positional if p.default is not p.empty]
        lowered = {name.lower() for name in options + optional}
        fname = func.__name__

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            bound = {}
            rest = list(args)
            if leading and rest and leading[1](rest[0]):
                if leading[0] in kwargs:
                    fail(fname, f"`{leading[0]}` is given more than once.", TypeError)
                kwargs[leading[0]] = rest.pop(0)
            for p in positional:
                if not rest:
                    break
                value = rest[0]
                if (p.default is not p.empty and isinstance(value, str)
                        and value.lower() in lowered):
                    break  # MATLAB's pairs begin where an optional argument was left out
                bound[p.name] = rest.pop(0)
            for p in positional:
                if p.name in kwargs and p.name not in bound and p.default is p.empty:
                    bound[p.name] = kwargs.pop(p.name)
            missing = [p.name for p in positional if p.default is p.empty and p.name not in bound]
            if missing:
                fail(fname, f"missing the required argument `{missing[0]}`.", TypeError)
            extras = []
            if variadic:
                while rest and not isinstance(rest[0], str):
                    extras.append(rest.pop(0))
            given = parse_name_value(fname, tuple(rest), kwargs, options + optional, unavailable,
                                     shown(bound) if shown else None)
            for name in optional:
                if name in given:
                    if name in bound:
                        fail(fname, f"`{name}` is given more than once.", TypeError)
                    bound[name] = given.pop(name)
            if extras:
                args = [bound.pop(p.name, p.default) for p in positional]
                return func(*args, *extras, **bound, **given)
            return func(**bound, **given)

        return wrapper
    return decorate


def checked_call(func):
    """Decorator: a call that does not fit a public function's signature is a clear error.

    Python's own binding errors ("f() got an unexpected keyword argument")
    become ``TypeError("f: ...")`` naming the argument, the closest valid name
    (case-insensitively, as MATLAB users type ``MiniBatchsize``) and the valid
    ones.  Nothing is checked on a call that binds: the wrapper only looks at
    the arguments when the call has already failed to bind, so it costs
    nothing on the normal path.
    """
    sig = inspect.signature(func)
    fname = func.__name__
    names = [p.name for p in sig.parameters.values()
             if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except TypeError:
            try:
                sig.bind(*args, **kwargs)
            except TypeError as binding:        # the body never ran
                problem = str(binding)
            else:
                raise
        for key in kwargs:
            if key not in sig.parameters:
                hint = closest_hint(key, names)
                valid = ", ".join(names) if names else "none"
                fail(fname, f"'{key}' is not a valid argument.{hint} Valid arguments: {valid}.",
                     TypeError)
        positional = [p.name for p in sig.parameters.values() if p.kind is p.POSITIONAL_OR_KEYWORD]
        if "too many positional" in problem:
            fail(fname, f"takes at most {len(positional)} positional arguments "
                        f"({', '.join(positional) or 'none'}); received {len(args)}.", TypeError)
        fail(fname, f"{problem[0].lower()}{problem[1:]}.".replace("..", "."), TypeError)

    return wrapper


def changed_options(factory, opts, names):
    """The options among ``names`` whose value in ``opts`` is not the factory's declared default."""
    params = inspect.signature(factory).parameters
    out = []
    for name in names:
        value, default = opts[name], params[name].default
        if value is default:
            continue
        try:
            same = (value is not None and default is not None
                    and np.shape(value) == np.shape(default)
                    and bool(np.all(np.asarray(value) == np.asarray(default))))
        except (TypeError, ValueError):
            same = False
        if not same:
            out.append(name)
    return out


def check_nargout(func, nargout, maximum):
    """MATLAB's number of outputs: an integer from 1 to ``maximum``."""
    if isinstance(nargout, (bool, np.bool_)) or not isinstance(nargout, numbers.Integral) \
            or not 1 <= nargout <= maximum:
        choices = " or ".join(map(str, range(1, maximum + 1)))
        fail(func, f"`nargout` must be {choices} (the number of MATLAB outputs wanted). "
                   f"Received: nargout={_show(nargout)}.")
    return int(nargout)


def select_outputs(outputs, nargout):
    """MATLAB's outputs for Python: the first by default, a tuple of the first ``nargout``."""
    return outputs[0] if nargout == 1 else tuple(outputs[:nargout])


def check_choice(func, name, value, choices):
    """Case-insensitive string choice; returns the canonical spelling."""
    if isinstance(value, str):
        for c in choices:
            if value.lower() == c.lower():
                return c
    options = ", ".join(repr(c) for c in choices)
    fail(func, f"`{name}` must be one of {options}. Received: {name}={_show(value)}.")


def check_positive_int(func, name, value):
    """A positive integer (a float with an integer value is accepted, as MATLAB's doubles)."""
    if isinstance(value, (bool, np.bool_)):
        fail(func, f"`{name}` must be a positive integer. Received: {name}={_show(value)}.")
    if isinstance(value, numbers.Real) and float(value).is_integer() and value >= 1:
        if value >= 2 ** 63:
            fail(func, f"`{name}` must be below 2^63. Received: {name}={_show(value)}.")
        return int(value)
    if isinstance(value, np.ndarray) and value.size == 1:
        return check_positive_int(func, name, value.reshape(()).item())
    fail(func, f"`{name}` must be a positive integer. Received: {name}={_show(value)}.")


def check_real(func, name, value, low=None, high=None, low_open=False, high_open=False,
               allow_inf=False):
    """A finite (or, with ``allow_inf``, +Inf) real scalar within bounds."""
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(()).item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        fail(func, f"`{name}` must be a real scalar. Received: {name}={_show(value)}.",
             TypeError)
    v = float(value)
    if np.isnan(v) or (np.isinf(v) and not (allow_inf and v > 0)):
        fail(func, f"`{name}` must be finite{' or Inf' if allow_inf else ''}. "
                   f"Received: {name}={value!r}.")
    lo_bad = low is not None and (v <= low if low_open else v < low)
    hi_bad = high is not None and (v >= high if high_open else v > high)
    if lo_bad or hi_bad:
        lo = "" if low is None else ("(" if low_open else "[") + f"{low:g}"
        hi = "" if high is None else f"{high:g}" + (")" if high_open else "]")
        rng = f"in {lo or '(-Inf'}, {hi or 'Inf)'}"
        fail(func, f"`{name}` must be {rng}. Received: {name}={value!r}.")
    return v


def check_bool(func, name, value):
    """true/false, also 0/1 as MATLAB's logical."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral) and value in (0, 1):
        return bool(value)
    fail(func, f"`{name}` must be true or false. Received: {name}={_show(value)}.", TypeError)


def check_name(func, value):
    if not isinstance(value, str):
        fail(func, f"`Name` must be a str. Received: Name={_show(value)}.", TypeError)
    return value


def array_or_none(value):
    """``np.asarray(value)``, or None where numpy cannot make an array of it (ragged lists)."""
    try:
        return np.asarray(value)
    except (ValueError, TypeError):
        return None


def as_float_array(func, name, value, shape=None, allow_empty=True, single=True):
    """A finite real array (a copy, float64) of an optional exact shape.

    ``shape`` may contain None for "any size".  Returns None for an empty
    value (MATLAB's ``[]``) when ``allow_empty``.
    ``single``: values must also fit single precision (weights; not input
    statistics, which are applied in float64).
    """
    if value is None:
        return None
    try:
        if np.iscomplexobj(value):
            fail(func, f"`{name}` must be real. Received a complex array.", TypeError)
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        if str(exc).startswith(f"{func}:"):
            raise
        fail(func, f"`{name}` must be a numeric array. Received: {name}={_show(value)}.",
             TypeError)
    if arr.size == 0 and allow_empty:
        return None
    if shape is not None:
        ok = arr.ndim == len(shape) and all(s is None or s == a for s, a in zip(shape, arr.shape))
        if not ok:
            want = "-by-".join("any" if s is None else str(s) for s in shape)
            fail(func, f"`{name}` must be {want}. Received: {name} of size "
                       f"{size_text(arr.shape)}.")
    if not np.all(np.isfinite(arr)):
        fail(func, f"`{name}` must contain only finite values; it contains NaN or Inf.")
    if single:
        check_single_range(func, f"`{name}`", arr)
    return arr


#: the largest float32 value: networks run in single precision, as MATLAB's
SINGLE_MAX = float(np.finfo(np.float32).max)


def check_single_range(func, what, arr, verb="run", advice=""):
    """Values (already finite) must fit single precision; ``what`` names them in the error."""
    big = float(np.max(np.abs(arr))) if np.size(arr) else 0.0
    if not big <= SINGLE_MAX:
        fail(func, f"{what} has values beyond single precision (up to {big:g}); networks {verb} "
                   f"in float32, whose largest value is about 3.4e38.{advice}")
