"""load: MATLAB's ``load`` for MAT-files of every version, with MATLAB's data types decoded.

``scipy.io.loadmat`` reads MAT-files v4 to v7 but not v7.3 (HDF5), and it
returns MATLAB's ``categorical``, ``string`` and ``table`` variables as opaque
objects.  lstmkit reads every version through **mat-io** (PyPI ``mat-io``,
import name ``matio``), a maintained reader that decodes MATLAB's class
system (strings, categoricals, tables, datetimes, containers.Map) in v7 and
v7.3 files, then turns what MATLAB scripts hold into what lstmkit takes:

=================================  ===========================================
MATLAB                             Python
=================================  ===========================================
numeric or logical array           ndarray of MATLAB's shape (1-by-1: a scalar)
char row vector, string scalar     str
char matrix, string array          ndarray of str (a vector becomes 1-D)
categorical array                  ndarray of str (a vector becomes 1-D);
                                   ``<undefined>`` becomes ``''``
cell array of char (cellstr)       ndarray of str (a vector becomes 1-D)
cell array                         list (a matrix becomes a list of rows),
                                   its elements converted by these rules
struct (1-by-1)                    :class:`MatStruct` (a dict with attributes)
struct array                       list of MatStruct
table, timetable                   pandas DataFrame (as mat-io gives it)
=================================  ===========================================

So ``S = load("JapaneseVowels.mat"); XTrain = S.XTrain`` gives a list of
C-by-T arrays and ``S.YTrain`` a label array, ready for trainNetwork.
"""

from __future__ import annotations

import numbers
import os
import warnings
from typing import Any

import numpy as np

from ._files import check_mat_size
from ._validation import checked_call, _show, fail

FUNC = "load"


class MatStruct(dict):
    """A MATLAB struct: a dict whose fields are also attributes (``S.XTrain``).

    Returned by :func:`load` for the file's variables and for 1-by-1 structs
    inside it.
    """

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"struct has no field '{name}'; fields: "
                                 f"{', '.join(self) or '(none)'}") from None

    def __dir__(self):
        return list(self) + list(super().__dir__())

    def __repr__(self):
        if not self:
            return "  struct with no fields."
        width = max(len(k) for k in self)
        lines = ["  struct with fields:", ""]
        lines += [f"    {k:>{width}}: {_describe(v)}" for k, v in self.items()]
        return "\n".join(lines)


def _describe(value):
    if isinstance(value, np.ndarray):
        kind = {"U": "string", "b": "logical"}.get(value.dtype.kind, str(value.dtype))
        return f"[{'×'.join(map(str, value.shape))} {kind}]"
    if isinstance(value, list):
        if value and all(isinstance(row, list) for row in value):
            return f"{{{len(value)}×{len(value[0])} cell}}"
        return f"{{{len(value)}×1 cell}}"
    if isinstance(value, MatStruct):
        return "[1×1 struct]"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    if isinstance(value, (numbers.Number, np.number)):
        return f"{value:g}" if isinstance(value, (float, np.floating)) else str(value)
    return type(value).__name__


def _need_matio():
    try:
        with warnings.catch_warnings():
            # mat-io sets a pandas option that pandas 3 deprecates, at import: not the user's
            warnings.filterwarnings("ignore", message=".*future.infer_string.*")
            import matio
    except ImportError:
        fail(FUNC, "reading MAT-files needs the mat-io package, which is not installed: "
                   "pip install \"lstmkit[mat]\" (or pip install mat-io).", ImportError)
    return matio


@checked_call
def load(filename: str | os.PathLike, *variables: str) -> MatStruct:
    """Load variables from a MAT-file, as MATLAB's ``S = load(filename)``.

    Reads MAT-files of every version MATLAB writes (v4, v6, v7 and the HDF5
    based v7.3) and decodes MATLAB's data types into what lstmkit takes: cell
    arrays of sequences into lists of arrays, and categorical, string and
    cellstr variables into label arrays (the table in the module docstring).
    Needs the ``mat`` extra (``pip install "lstmkit[mat]"``).

    Parameters
    ----------
    filename : str or path
        The MAT-file; ``.mat`` is appended when the name has no extension and
        the file does not exist without it, as MATLAB does.
    *variables : str
        Names of the variables to load (MATLAB's ``load(filename, "XTrain",
        "YTrain")``); all of them by default.

    Returns
    -------
    MatStruct
        The variables by name, readable as ``S["XTrain"]`` or ``S.XTrain``.

    Raises
    ------
    FileNotFoundError
        When the file does not exist.
    ValueError
        When the file is not a MAT-file, a requested variable is missing, or a
        variable holds a MATLAB type lstmkit cannot decode (a function handle,
        an object of a user class): the message names the variable, so that
        the others can be loaded by name.
    ImportError
        When mat-io is not installed.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import scipy.io
    >>> from lstmkit import load
    >>> cells = np.empty((2, 1), dtype=object)
    >>> cells[0, 0], cells[1, 0] = np.ones((3, 5)), np.zeros((3, 7))
    >>> path = os.path.join(tempfile.mkdtemp(), "data.mat")
    >>> scipy.io.savemat(path, {"XTrain": cells, "YTrain": np.array(["a", "b"], dtype=object)})
    >>> S = load(path)
    >>> [x.shape for x in S.XTrain], S.YTrain
    ([(3, 5), (3, 7)], array(['a', 'b'], dtype='<U1'))
    """
    if not isinstance(filename, (str, os.PathLike)):
        fail(FUNC, f"`filename` must be a str or path. Received: {_show(filename)}.", TypeError)
    for i, name in enumerate(variables):
        if not isinstance(name, str):
            fail(FUNC, f"variable names must be str. Received: variables[{i}]={_show(name)}.",
                 TypeError)
    path = os.fspath(filename)
    if not os.path.exists(path) and not os.path.splitext(path)[1]:
        path += ".mat"
    if not os.path.isfile(path):
        fail(FUNC, f"file '{path}' does not exist.", FileNotFoundError)
    matio = _need_matio()
    check_mat_size(FUNC, path)
    try:
        raw = matio.load_from_mat(path, variable_names=list(variables) or None)
    except Exception as err:  # the reader raises many kinds for files that are not MAT-files
        fail(FUNC, f"'{path}' is not a readable MAT-file (truncated, corrupted or another "
                   f"format?): {type(err).__name__}: {err}")
    missing = [v for v in variables if v not in raw]
    if missing:
        fail(FUNC, f"'{path}' has no variable '{missing[0]}'.")
    out = MatStruct()
    for name, value in raw.items():
        if name.startswith("__"):   # __header__, __version__, __globals__, __function_workspace__
            continue
        out[name] = convert(value, name, path)
    return out


def convert(value: Any, where: str = "value", path: str = "") -> Any:
    """One value as mat-io returns it, in the Python form :func:`load` documents."""
    kind = type(value).__name__
    if kind == "EmptyMatStruct":
        return MatStruct()
    if kind == "MatlabContainerMap":                            # containers.Map
        return {k: convert(v, f"{where}({k!r})", path) for k, v in value.items()}
    if kind == "MatlabCanonicalEmpty":
        return np.zeros((0, 0))
    if kind.startswith("Matlab"):
        classname = getattr(value, "classname", None) or kind.replace("Matlab", "").lower()
        fail(FUNC, f"variable '{where}' of '{path}' holds a MATLAB {classname}, which lstmkit "
                   f"cannot decode; load the other variables by name: "
                   f"load(filename, 'name1', 'name2', ...).")
    if _is_categorical(value):
        codes = np.asarray(value.codes)
        names = np.asarray(value.categories, dtype=str)
        labels = np.where(codes >= 0, names[np.maximum(codes, 0)] if names.size else "", "")
        return _vector(labels.astype(str))
    if isinstance(value, np.ndarray):
        if value.dtype.names is not None:                      # struct
            structs = [MatStruct((f, convert(item[f], f"{where}.{f}", path))
                                 for f in value.dtype.names)
                       for item in value.reshape(-1, order="F")]
            return structs[0] if value.size == 1 else _cell(structs, value.shape)
        if value.dtype == object:                               # cell
            items = [convert(item, f"{where}{{{k + 1}}}", path)
                     for k, item in enumerate(value.reshape(-1, order="F"))]
            if items and all(isinstance(item, str) for item in items):   # cellstr
                return _vector(np.array(items, dtype=str).reshape(value.shape, order="F"))
            return _cell(items, value.shape)
        if value.dtype.kind in "US":                            # char, string
            text = value.astype(str)
            return str(text.reshape(-1)[0]) if text.size == 1 else _vector(text)
        if value.size == 1 and value.ndim == 2:
            return value.reshape(()).item() if value.dtype.kind == "b" else value.reshape(())[()]
        return value
    return value


def _is_categorical(value):
    return type(value).__name__ == "Categorical" and hasattr(value, "categories")


def _vector(arr):
    """A row or column vector as a 1-D array; other shapes unchanged."""
    return arr.reshape(-1) if arr.ndim == 2 and 1 in arr.shape else arr


def _cell(items, shape):
    """A cell's converted items (column-major) as a list, or a list of rows for a matrix."""
    if len(shape) == 2 and 1 not in shape:
        rows, cols = shape
        return [[items[r + c * rows] for c in range(cols)] for r in range(rows)]
    return items

