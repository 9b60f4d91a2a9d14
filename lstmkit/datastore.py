"""In-memory datastores, as MATLAB's: arrayDatastore, combine, transform, and reading them.

MATLAB feeds networks with several inputs or outputs through a datastore
whose ``read`` returns one cell per input, then one per target, in the order
of the network's InputNames and OutputNames::

    dsX1 = arrayDatastore(XSequences, OutputType="same")
    dsX2 = arrayDatastore(XFeatures)
    dsT = arrayDatastore(TLabels)
    dsTrain = combine(dsX1, dsX2, dsT)
    net = trainnet(dsTrain, net, lossFcn, options)

lstmkit takes the same calls.  A MATLAB cell array is a Python list, so a
read returns a list: ``read(arrayDatastore(X))`` the list of its ReadSize
observations (MATLAB's ReadSize-by-1 cell), ``read(combine(...))`` the list
of one observation's items, one per combined datastore (MATLAB's 1-by-M
cell), or with ReadSize R > 1 a list of R such rows (R-by-M).

An observation of a numeric array is its slice along ``IterationDimension``
(1-based, as MATLAB's): the slice keeps its place as a singleton dimension
(row n of an N-by-C array is 1-by-C), except along the last dimension, which
MATLAB's trailing singletons make invisible (observation n of a T-by-C-by-N
array is T-by-C, element n of a vector a scalar).
"""

from __future__ import annotations

import numbers
from typing import Any, Callable, Literal

import numpy as np

from ._data import categorical_parts
from ._random import global_rng
from ._validation import checked_call, _show, check_bool, check_choice, check_positive_int, fail
from ._validation import name_value_function


class Datastore:
    """What every datastore shares: reading position, read, readall, hasdata, reset.

    Subclasses give ``_count()`` (observations, None if unknown) and
    ``_rows_from(start, count)`` (observation rows, each a list of items, one
    per column), or override :meth:`_all_rows`.
    """

    ReadSize = 1

    def __init__(self):
        self._position = 0

    # -- what subclasses provide ------------------------------------------------------------
    def _count(self):
        raise NotImplementedError

    def _rows_from(self, start, count):
        raise NotImplementedError

    def _num_columns(self):
        return 1

    def _column_categories(self):
        """Per column: the categories of categorical data (fixing the class order), or None."""
        return [None] * self._num_columns()

    def _all_rows(self):
        """Every observation's row, from the start (the reading position is not changed)."""
        return self._rows_from(0, self._count())

    # -- MATLAB's functions ----------------------------------------------------------------
    def hasdata(self):
        return self._position < self._count()

    def reset(self):
        self._position = 0

    def read(self):
        if not self.hasdata():
            fail("read", "no more data to read; call reset(ds) to read from the start.")
        count = min(self.ReadSize, self._count() - self._position)
        rows = self._rows_from(self._position, count)
        self._position += count
        return self._as_read(rows)

    def readall(self):
        return self._as_read(self._all_rows(), every=True)

    def preview(self):
        rows = self._rows_from(0, min(8, self._count()))
        return self._as_read(rows, every=True)

    def _as_read(self, rows, every=False):
        """MATLAB's cell of the rows, as lists (see the module's description)."""
        if self._num_columns() == 1:
            return [row[0] for row in rows]
        if len(rows) == 1 and not every:
            return list(rows[0])
        return [list(row) for row in rows]

    def __len__(self):
        return self._count()


class ArrayDatastore(Datastore):
    """A datastore over an array or a list (create it with :func:`arrayDatastore`).

    Attributes
    ----------
    IterationDimension : int
        The dimension (1-based) along which observations are read.
    ReadSize : int
        Observations per read.
    OutputType : {'cell', 'same'}
    """

    def __init__(self, data, iteration_dimension, read_size, output_type, categories):
        super().__init__()
        self._data = data
        self._categories = categories
        self.IterationDimension = iteration_dimension
        self.ReadSize = read_size
        self.OutputType = output_type

    def _count(self):
        if isinstance(self._data, list):
            return len(self._data)
        return self._data.shape[self.IterationDimension - 1]

    def _item(self, i):
        data = self._data
        if isinstance(data, list):
            return data[i]
        axis = self.IterationDimension - 1
        if axis == data.ndim - 1:
            item = np.take(data, i, axis=axis)
            return item.item() if item.ndim == 0 and data.dtype.kind != "O" else item
        return np.take(data, [i], axis=axis)

    def _rows_from(self, start, count):
        return [[self._item(i)] for i in range(start, start + count)]

    def _column_categories(self):
        return [self._categories]

    def read(self):
        if self.OutputType == "same" and not isinstance(self._data, list):
            if not self.hasdata():
                fail("read", "no more data to read; call reset(ds) to read from the start.")
            count = min(self.ReadSize, self._count() - self._position)
            out = np.take(self._data, range(self._position, self._position + count),
                          axis=self.IterationDimension - 1)
            self._position += count
            return out
        return super().read()

    def __repr__(self):
        return (f"  ArrayDatastore with properties:\n\n"
                f"              ReadSize: {self.ReadSize}\n"
                f"    IterationDimension: {self.IterationDimension}\n"
                f"            OutputType: \"{self.OutputType}\"")


class CombinedDatastore(Datastore):
    """Datastores read side by side (create it with :func:`combine`).

    Attributes
    ----------
    UnderlyingDatastores : list of Datastore
    """

    def __init__(self, stores):
        super().__init__()
        self.UnderlyingDatastores = list(stores)
        self.ReadSize = 1

    def _count(self):
        return min(store._count() for store in self.UnderlyingDatastores)

    def _num_columns(self):
        return sum(store._num_columns() for store in self.UnderlyingDatastores)

    def _column_categories(self):
        return [c for store in self.UnderlyingDatastores for c in store._column_categories()]

    def _rows_from(self, start, count):
        parts = [store._rows_from(start, count) for store in self.UnderlyingDatastores]
        return [[item for part in row for item in part] for row in zip(*parts)]

    def _all_rows(self):
        parts = [store._all_rows() for store in self.UnderlyingDatastores]
        return [[item for part in row for item in part] for row in zip(*parts)]

    def reset(self):
        super().reset()
        for store in self.UnderlyingDatastores:
            store.reset()

    def __repr__(self):
        return (f"  CombinedDatastore with properties:\n\n"
                f"    UnderlyingDatastores: {{1×{len(self.UnderlyingDatastores)} cell}}")


class TransformedDatastore(Datastore):
    """A datastore whose reads pass through a function (create it with :func:`transform`).

    Attributes
    ----------
    UnderlyingDatastores : list of Datastore
    Transforms : list of callable
    """

    def __init__(self, store, fcn):
        super().__init__()
        self.UnderlyingDatastores = [store]
        self.Transforms = [fcn]
        self._rows = None

    def _rows_of(self, data):
        """The rows of what the function returned for one read of the underlying datastore."""
        if isinstance(data, (list, tuple)) and data and all(
                isinstance(row, (list, tuple)) for row in data):
            rows = [list(row) for row in data]
        elif isinstance(data, (list, tuple)):
            rows = [list(data)]
        else:
            rows = [[data]]
        if len({len(row) for row in rows}) > 1:
            fail("transform", "the transform function returned rows of different lengths.")
        return rows

    def _all_rows(self):
        if self._rows is None:
            store = self.UnderlyingDatastores[0]
            rows = []
            for start in range(0, store._count(), store.ReadSize):
                got = store._as_read(store._rows_from(start, min(store.ReadSize,
                                                                 store._count() - start)))
                try:
                    out = self.Transforms[0](got)
                except Exception as err:
                    raise type(err)(f"transform: the transform function failed on the "
                                    f"observations from {start + 1}: {err}") from err
                rows.extend(self._rows_of(out))
            self._rows = rows
        return self._rows

    def _count(self):
        return len(self._all_rows())

    def _num_columns(self):
        rows = self._all_rows()
        return len(rows[0]) if rows else 1

    def _rows_from(self, start, count):
        return self._all_rows()[start:start + count]

    def __repr__(self):
        return "  TransformedDatastore with properties:\n\n    Transforms: {1×1 cell}"


@name_value_function()
def arrayDatastore(
    A: Any,
    *name_value: Any,
    IterationDimension: int = 1,
    ReadSize: int = 1,
    OutputType: Literal["cell", "same"] = "cell",
) -> ArrayDatastore:
    """Datastore over in-memory data, as MATLAB's ``arrayDatastore`` (R2020b).

    Parameters
    ----------
    A : array or list
        A numeric, string or logical array (observations along
        ``IterationDimension``), a list (MATLAB's cell array: one observation
        per element, such as T-by-C sequences) or a pandas Categorical (labels,
        whose categories fix the class order).  The data is not copied: do
        not change it while the datastore is in use.
    IterationDimension : int, default 1
        The dimension (1-based, as MATLAB's) along which to read; a list has
        one.
    ReadSize : int, default 1
        Observations per read.
    OutputType : {'cell', 'same'}, default 'cell'
        'cell': a read is a list of observations; 'same': a read of an array
        is the array of the observations read (concatenated along
        IterationDimension).  Combined datastores use the observations either
        way.

    Returns
    -------
    ArrayDatastore

    Examples
    --------
    >>> import numpy as np
    >>> from lstmkit import *
    >>> ds = arrayDatastore(np.arange(6.0).reshape(3, 2))
    >>> read(ds)                                    # row 1, as a 1-by-2 array in a list
    [array([[0., 1.]])]
    >>> ds = combine(arrayDatastore(np.ones((3, 2))), arrayDatastore(np.array(["a", "b", "c"])))
    >>> read(ds)[1]
    'a'
    """
    func = "arrayDatastore"
    dim = check_positive_int(func, "IterationDimension", IterationDimension)
    size = check_positive_int(func, "ReadSize", ReadSize)
    out_type = check_choice(func, "OutputType", OutputType, ("cell", "same"))
    labels, categories, problem = categorical_parts(A)
    if problem:
        fail(func, "the categorical data has missing (undefined) values.")
    values = A if labels is None else labels
    if isinstance(values, (list, tuple)):
        data = list(values)
        if dim != 1:
            fail(func, f"a list (MATLAB's cell array) has one dimension to iterate over: "
                       f"IterationDimension must be 1. Received: IterationDimension={dim}.")
    elif isinstance(values, Datastore):
        fail(func, "`A` is already a datastore; use transform or combine on it.", TypeError)
    else:
        try:
            data = np.asarray(values)
        except (TypeError, ValueError) as err:
            fail(func, f"`A` must be an array or a list. Received: {_show(A)} ({err}).",
                 TypeError)
        if data.dtype.kind not in "biufUSbO":
            fail(func, f"`A` must hold numbers, strings or logical values. Received an array of "
                       f"{data.dtype}.", TypeError)
        if data.dtype.kind == "O":         # a cell array: arrays, numbers and strings only
            bad = next((v for v in data.reshape(-1) if not isinstance(
                v, (np.ndarray, str, numbers.Number, list, tuple))), data)
            if bad is not data or data.size == 0:
                fail(func, f"`A` must hold numbers, strings or logical values (or arrays of "
                           f"them). Received: {_show(A)}.", TypeError)
        if data.ndim == 0:
            data = data.reshape(1)
        if dim > max(data.ndim, 2):
            fail(func, f"`IterationDimension` is {dim} but `A` has {data.ndim} dimensions.")
        if dim > data.ndim:     # MATLAB's trailing singleton: one observation
            data = data.reshape(data.shape + (1,) * (dim - data.ndim))
    return ArrayDatastore(data, dim, size, out_type, categories)


def _is_queue(value):
    """A minibatchqueue (hasdata, reset and shuffle take one too, as in MATLAB)."""
    from .minibatchqueue import MinibatchQueue
    return isinstance(value, MinibatchQueue)


def _check_store(func, ds, name="ds"):
    if not isinstance(ds, Datastore):
        fail(func, f"`{name}` must be a datastore (arrayDatastore, combine, transform). "
                   f"Received: {_show(ds)}.", TypeError)
    return ds


@checked_call
def combine(*datastores: Datastore) -> CombinedDatastore:
    """Read datastores side by side, as MATLAB's ``combine``.

    Each read returns one observation of every datastore: for networks with
    several inputs and outputs, the inputs in the order of the network's
    InputNames, then the targets in the order of its OutputNames.

    Parameters
    ----------
    *datastores : Datastore
        Two or more datastores with the same number of observations (a
        shorter one ends the reads, as in MATLAB).

    Returns
    -------
    CombinedDatastore

    Examples
    --------
    >>> import numpy as np
    >>> from lstmkit import *
    >>> ds = combine(arrayDatastore([np.ones((4, 2)), np.ones((6, 2))]),
    ...              arrayDatastore(np.array([1, 2])))
    >>> [x.shape if hasattr(x, "shape") else x for x in read(ds)]
    [(4, 2), 1]
    """
    func = "combine"
    if not datastores:
        fail(func, "give at least one datastore.", TypeError)
    for i, ds in enumerate(datastores):
        _check_store(func, ds, f"datastores[{i}]")
    return CombinedDatastore(datastores)


@name_value_function()
def transform(ds: Datastore, fcn: Callable, *name_value: Any,
              IncludeInfo: bool = False) -> TransformedDatastore:
    """A datastore that passes each read through ``fcn``, as MATLAB's ``transform``.

    Parameters
    ----------
    ds : Datastore
    fcn : callable
        ``data = fcn(data)`` on what ``read(ds)`` returns; it may return one
        row (a list of items) or several (a list of lists).  lstmkit applies it
        once, when the transformed datastore is first read, and keeps the
        result (in-memory data: deterministic functions only).
    IncludeInfo : bool, default False
        Only false is supported (lstmkit's datastores have no read info).

    Returns
    -------
    TransformedDatastore

    Examples
    --------
    >>> import numpy as np
    >>> from lstmkit import *
    >>> ds = transform(arrayDatastore(np.arange(3.0)), lambda data: [2 * data[0]])
    >>> readall(ds)
    [0.0, 2.0, 4.0]
    """
    func = "transform"
    _check_store(func, ds)
    if not callable(fcn):
        fail(func, f"`fcn` must be a function. Received: {_show(fcn)}.", TypeError)
    if check_bool(func, "IncludeInfo", IncludeInfo):
        fail(func, "IncludeInfo=true is not supported: lstmkit's datastores have no read "
                   "information.")
    return TransformedDatastore(ds, fcn)


@checked_call
def read(ds: Datastore) -> Any:
    """The next ReadSize observations of a datastore, as MATLAB's ``read(ds)``.

    Parameters
    ----------
    ds : Datastore
        Its reading position moves on (MATLAB's datastores are handles).

    Returns
    -------
    list or ndarray
        A list of the observations (of one observation's items for a
        combined datastore; see the module's description), or an array for
        ``OutputType="same"``.  Reading past the end is an error: check with
        :func:`hasdata`.

    Examples
    --------
    >>> import numpy as np
    >>> from lstmkit import *
    >>> ds = arrayDatastore(np.array([10, 20, 30]), ReadSize=2)
    >>> read(ds), read(ds), hasdata(ds)
    ([10, 20], [30], False)
    """
    return _check_store("read", ds).read()


@checked_call
def readall(ds: Datastore) -> list:
    """Every observation of a datastore, as MATLAB's ``readall(ds)``.

    Parameters
    ----------
    ds : Datastore
        Its reading position is not changed.

    Returns
    -------
    list
        The observations (rows of items for a combined datastore).

    Examples
    --------
    >>> import numpy as np
    >>> from lstmkit import *
    >>> readall(combine(arrayDatastore(np.array([1, 2])), arrayDatastore(np.array(["a", "b"]))))
    [[1, 'a'], [2, 'b']]
    """
    return _check_store("readall", ds).readall()


@checked_call
def hasdata(ds: Datastore) -> bool:
    """Whether a datastore has observations left to read, as MATLAB's ``hasdata(ds)``.

    Parameters
    ----------
    ds : Datastore

    Returns
    -------
    bool

    Examples
    --------
    >>> import numpy as np
    >>> from lstmkit import *
    >>> ds = arrayDatastore(np.ones((2, 3)))
    >>> while hasdata(ds):
    ...     print(read(ds)[0].shape)
    (1, 3)
    (1, 3)
    """
    if _is_queue(ds):
        return ds.hasdata()
    return _check_store("hasdata", ds).hasdata()


@checked_call
def reset(ds: Datastore) -> None:
    """Read a datastore from its start again, as MATLAB's ``reset(ds)``.

    Parameters
    ----------
    ds : Datastore
        Changed in place: MATLAB's datastores are handles, and lstmkit's
        behave the same.

    Returns
    -------
    None

    Examples
    --------
    >>> import numpy as np
    >>> from lstmkit import *
    >>> ds = arrayDatastore(np.array([1, 2]))
    >>> read(ds), read(ds), hasdata(ds)
    ([1], [2], False)
    >>> reset(ds)
    >>> read(ds)
    [1]
    """
    if _is_queue(ds):
        return ds.reset()
    _check_store("reset", ds).reset()


@checked_call
def preview(ds: Datastore) -> list:
    """The first observations of a datastore (up to 8), as MATLAB's ``preview(ds)``.

    Parameters
    ----------
    ds : Datastore
        Its reading position is not changed.

    Returns
    -------
    list

    Examples
    --------
    >>> import numpy as np
    >>> from lstmkit import *
    >>> preview(arrayDatastore(np.arange(20)))
    [0, 1, 2, 3, 4, 5, 6, 7]
    """
    return _check_store("preview", ds).preview()


@checked_call
def shuffle(ds: Datastore) -> Datastore:
    """A datastore with the observations in random order, as MATLAB's ``shuffle(ds)``.

    Parameters
    ----------
    ds : Datastore
        Not changed.

    Returns
    -------
    Datastore
        A new datastore over the same observations (their columns kept
        together), drawn with lstmkit's global generator (:func:`lstmkit.rng`).

    Examples
    --------
    >>> import numpy as np
    >>> from lstmkit import *
    >>> _ = rng(0)
    >>> sorted(readall(shuffle(arrayDatastore(np.array([3, 1, 2])))))
    [1, 2, 3]
    """
    func = "shuffle"
    if _is_queue(ds):                  # a minibatchqueue is a handle: shuffled in place, reset
        ds.shuffle()
        return ds
    _check_store(func, ds)
    order = global_rng().permutation(ds._count())
    rows = ds._all_rows()
    categories = ds._column_categories()
    columns = [arrayDatastore([rows[i][j] for i in order]) for j in range(ds._num_columns())]
    for column, cats in zip(columns, categories):
        column._categories = cats
    return columns[0] if len(columns) == 1 else CombinedDatastore(columns)


def datastore_columns(func, ds, name="ds"):
    """A datastore's observations as columns: ``(columns, categories)``, lists of M items.

    ``columns[j]`` lists column j's item of every observation.
    """
    _check_store(func, ds, name)
    rows = ds._all_rows()
    if not rows:
        fail(func, f"the datastore `{name}` has no observations.")
    M = len(rows[0])
    return [[row[j] for row in rows] for j in range(M)], ds._column_categories()


def _input_column(items, layer):
    """One input's observations as the data argument of that input (features: N-by-C)."""
    if not layer._outputs_sequence(True):
        try:
            return np.stack([np.asarray(item, dtype=np.float64).reshape(-1) for item in items])
        except (TypeError, ValueError):
            return list(items)      # read_inputs says what is wrong with them
    return list(items)


class _Categorical:
    """Labels with their categories (what trainnet reads from a pandas Categorical)."""

    def __init__(self, labels, categories):
        self.categories = categories
        position = {c: i for i, c in enumerate(categories.tolist())}
        self.codes = np.array([position.get(v, -1) for v in labels.tolist()], dtype=np.int64)


def _target_column(items, categories):
    """One output's targets as the targets argument (labels, N-by-R responses or sequences)."""
    scalars = all(isinstance(item, (str, bytes, numbers.Number)) or np.ndim(item) == 0
                  or np.size(item) == 1 and np.asarray(item).dtype.kind in "USO"
                  for item in items)
    if scalars:
        labels = np.array([np.asarray(item).reshape(-1)[0] if np.ndim(item) else item
                           for item in items])
        return labels if categories is None else _Categorical(labels, categories)
    shapes = {np.shape(item) for item in items}
    if len(shapes) == 1 and len(next(iter(shapes))) == 2 and next(iter(shapes))[0] == 1 and \
            np.asarray(items[0]).dtype.kind in "biuf":
        return np.concatenate([np.asarray(item, dtype=np.float64) for item in items])  # N-by-R
    return list(items)


def datastore_data(func, ds, graph, input_nodes, num_outputs, name="ds"):
    """A datastore's columns as the data of a network: ``(Xs, Ts)``.

    The first columns feed the input layers (``input_nodes``, in InputNames
    order), the next ``num_outputs`` are the targets of the outputs, as
    MATLAB's trainnet, testnet and minibatchpredict read them; ``num_outputs``
    0 reads predictors only (extra columns are ignored).
    """
    columns, categories = datastore_columns(func, ds, name)
    M, need = len(input_nodes), len(input_nodes) + num_outputs
    if len(columns) < need or (num_outputs and len(columns) != need):
        what = f"{M} input{'s' * (M > 1)}" + (f" and {num_outputs} output"
                                             f"{'s' * (num_outputs > 1)}" if num_outputs else "")
        fail(func, f"the network has {what}, so a read of the datastore `{name}` must return "
                   f"{need} columns (the predictors in the order of InputNames"
                   + (", then the targets in the order of OutputNames" if num_outputs else "")
                   + f"); it returns {len(columns)}.")
    Xs = [_input_column(columns[i], graph.layers[k]) for i, k in enumerate(input_nodes)]
    Ts = [_target_column(columns[M + j], categories[M + j]) for j in range(num_outputs)]
    return Xs, Ts
