"""A small MATLAB-style table: named columns of equal length, displayed as MATLAB displays them.

dlnetwork's ``Learnables``, ``State`` and ``Connections`` are MATLAB tables;
this class gives them MATLAB's reading forms: ``T.Value``, ``T["Value"]``,
``T.Value[i]`` (0-based, as Python indexes), ``T.height``, ``len(T)``,
iteration over rows, and MATLAB's display.  A column may be a *live* column
(see :class:`LiveColumn`) whose items read and write through to their owner,
so ``net.Learnables.Value[i] = new_weights`` sets the layer's weights.
"""

from __future__ import annotations

import numpy as np


class LiveColumn:
    """A table column whose items are read from and written to their owners.

    Parameters
    ----------
    getters : list of callables
        ``getters[i]()`` returns item i.
    setters : list of callables
        ``setters[i](value)`` stores item i (checking it).
    """

    def __init__(self, getters, setters):
        self._getters, self._setters = getters, setters

    def __len__(self):
        return len(self._getters)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [get() for get in self._getters[i]]
        return self._getters[i]()

    def __setitem__(self, i, value):
        self._setters[i](value)

    def __iter__(self):
        return (get() for get in self._getters)

    def __repr__(self):
        return repr(list(self))


class Table:
    """Columns of equal length, by name (MATLAB's ``table``).

    Parameters
    ----------
    columns : dict of str to list or LiveColumn
        The columns, in display order.
    """

    def __init__(self, columns):
        lengths = {len(col) for col in columns.values()}
        if len(lengths) > 1:
            raise ValueError("table columns must have the same length")
        object.__setattr__(self, "_columns", dict(columns))

    @property
    def VariableNames(self):
        """The column names (MATLAB's ``T.Properties.VariableNames``)."""
        return list(self._columns)

    @property
    def height(self):
        """Number of rows (MATLAB's ``height(T)``)."""
        return len(next(iter(self._columns.values()))) if self._columns else 0

    def __len__(self):
        return self.height

    def __getitem__(self, key):
        if isinstance(key, str):
            return self._columns[key]
        raise TypeError("index a table by column name (T['Value'] or T.Value), then by row")

    def __getattr__(self, name):
        columns = object.__getattribute__(self, "_columns")
        if name in columns:
            return columns[name]
        raise AttributeError(f"table has no variable '{name}'; variables: "
                             f"{', '.join(columns) or '(none)'}")

    def __setattr__(self, name, value):
        raise AttributeError("set a table's values by row: T.Value[i] = new_value")

    def rows(self):
        """The rows, as dicts column -> value."""
        return [{k: col[i] for k, col in self._columns.items()} for i in range(self.height)]

    def __iter__(self):
        return iter(self.rows())

    def __repr__(self):
        n = self.height
        if not self._columns:
            return "  0×0 empty table"
        if n == 0:
            return f"  0×{len(self._columns)} empty table ({', '.join(self._columns)})"
        cells = {k: [_cell(col[i]) for i in range(n)] for k, col in self._columns.items()}
        widths = {k: max(len(k), *(len(c) for c in cells[k])) for k in cells}
        head = "    ".join(f"{k:^{widths[k]}}" for k in cells)
        rule = "    ".join("_" * widths[k] for k in cells)
        lines = [f"  {n}×{len(self._columns)} table", "", "    " + head, "    " + rule, ""]
        for i in range(n):
            lines.append("    " + "    ".join(f"{cells[k][i]:<{widths[k]}}" for k in cells))
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle):
        printer.text(repr(self))


def _cell(value):
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, np.ndarray):
        kind = {"float32": "single", "float64": "double"}.get(str(value.dtype), str(value.dtype))
        return f"{{{'×'.join(map(str, value.shape))} {kind}}}"
    if value is None:
        return "{0×0 double}"
    if isinstance(value, (float, np.floating)):
        return f"{value:.5g}"           # MATLAB's short display
    return str(value)
