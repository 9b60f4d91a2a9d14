"""The data of a network's input layers, packed together for the graph engine.

A network may have several input layers (a sequence input and a feature
input, two sequence inputs): :class:`InputData` holds one list of
observations per input layer and packs a mini-batch of all of them into the
rows the graph's input nodes start from.  Every input is packed in the same
sorted order, so an observation's rows line up in every branch of the
network:

* sequence inputs (C-by-T arrays) share one :class:`~lstmkit._packing.PackedBatch`:
  an observation's sequences must have the same number of time steps in every
  sequence input (checked when the data is read, :func:`make_input_data`);
* feature inputs (C-by-1 arrays) give one row per observation, in that order,
  as the output of a recurrent layer with OutputMode 'last' does.
"""

from __future__ import annotations

import numpy as np

from ._packing import PackedBatch
from ._validation import fail


class InputData:
    """Observations of each input layer of a network (see the module's description).

    Parameters
    ----------
    nodes : list of int
        Graph nodes of the input layers, in the order of the network's
        InputNames.
    layers : list of Layer
        Those input layers.
    arrays : list of list of ndarray
        ``arrays[i][n]``: observation n of input i, C-by-T (features C-by-1).

    Attributes
    ----------
    lengths : ndarray of int64, shape (N,)
        Time steps of every observation (1 for a network of feature inputs).
    """

    def __init__(self, nodes, layers, arrays):
        self.nodes = list(nodes)
        self.layers = list(layers)
        self.arrays = [list(a) for a in arrays]
        self.is_sequence = [layer._outputs_sequence(True) for layer in self.layers]
        sequence_inputs = [i for i, s in enumerate(self.is_sequence) if s]
        self.main = sequence_inputs[0] if sequence_inputs else 0
        N = len(self.arrays[0])
        self.lengths = (np.fromiter((a.shape[1] for a in self.arrays[self.main]), np.int64, N)
                        if sequence_inputs else np.ones(N, np.int64))

    @classmethod
    def of_graph(cls, graph, arrays):
        """The data of a graph's input layers (in graph order), ``arrays`` one list per input."""
        nodes = [k for k, layer in enumerate(graph.layers) if layer.is_input]
        return cls(nodes, [graph.layers[k] for k in nodes], arrays)

    def __len__(self):
        return self.lengths.size

    @property
    def sequences(self):
        """The observations of the first sequence input (of the only input, for one)."""
        return self.arrays[self.main]

    def take(self, indices):
        """The observations ``indices`` (in that order)."""
        return InputData(self.nodes, self.layers,
                         [[a[i] for i in indices] for a in self.arrays])

    def shortest(self, direction, length=None):
        """Every sequence cut to the shortest one's length (MATLAB's SequenceLength='shortest').

        Returns ``(data, L)``; ``direction`` 'right' keeps the first L steps,
        'left' the last L.  ``length``: cut to that length instead (a share of
        a mini-batch is cut to the whole mini-batch's shortest).
        """
        L = int(self.lengths.min()) if length is None else int(length)
        arrays = []
        for a, seq in zip(self.arrays, self.is_sequence):
            if not seq:
                arrays.append(a)
            elif direction == "right":
                arrays.append([s[:, :L] for s in a])
            else:
                arrays.append([s[:, s.shape[1] - L:] for s in a])
        return InputData(self.nodes, self.layers, arrays), L

    def sorted_batch(self):
        """The :class:`PackedBatch` of all these observations (sorted, longest first)."""
        return PackedBatch(self.lengths)

    def pack_window(self, full, start, stop, n, dtype):
        """Steps ``start:stop`` of the first ``n`` sorted observations of ``full``, packed.

        Returns ``(batch, x)``: the window's PackedBatch and a dict graph node
        -> packed rows of that input (each input layer normalizes its own).
        """
        order = full.order[:n]
        lengths = np.minimum(full.lengths[:n], stop) - start
        batch = PackedBatch(lengths)          # already sorted: the order is kept
        features = None
        x = {}
        for node, layer, arrays, seq in zip(self.nodes, self.layers, self.arrays,
                                            self.is_sequence):
            ordered = [arrays[i] for i in order]
            if seq:
                x[node] = layer._pack(batch, [s[:, start:stop] for s in ordered], dtype)
            else:
                if features is None:
                    features = PackedBatch(np.ones(n, np.int64))
                x[node] = layer._pack(features, ordered, dtype)
        return batch, x


def make_input_data(func, graph, arrays, names=None):
    """:class:`InputData` of a graph from one list of C-by-T arrays per input, checked.

    Every input must have the same number of observations, and an
    observation's sequences the same number of time steps in every sequence
    input (MATLAB would pad them to different lengths and combine padding
    with data; lstmkit never pads).  ``names`` are the inputs' argument names
    for the messages (default ``X1``, ``X2``, ...).
    """
    data = InputData.of_graph(graph, arrays)
    names = names or [f"X{i + 1}" for i in range(len(arrays))]
    if len(arrays) != len(data.nodes):
        fail(func, f"the network has {len(data.nodes)} inputs "
                   f"({', '.join(repr(layer.Name) for layer in data.layers)}) but "
                   f"{len(arrays)} were given.")
    counts = [len(a) for a in arrays]
    if len(set(counts)) > 1:
        fail(func, f"the inputs have different numbers of observations: "
                   f"{', '.join(f'{n} has {c}' for n, c in zip(names, counts))}.")
    main = data.main
    for i, (a, seq) in enumerate(zip(arrays, data.is_sequence)):
        if not seq or i == main:
            continue
        for n, (s, ref) in enumerate(zip(a, arrays[main])):
            if s.shape[1] != ref.shape[1]:
                fail(func, f"observation {n} has {ref.shape[1]} time steps in {names[main]} "
                           f"(input '{data.layers[main].Name}') but {s.shape[1]} in "
                           f"{names[i]} (input '{data.layers[i].Name}'); the sequences of one "
                           f"observation must have the same length in every sequence input.")
    return data


def read_network_inputs(func, graph, Xs, fmt="auto", names=None, dtype=None):
    """Read the data of every input layer of a graph (the trainnet era's layouts), checked.

    ``Xs`` holds one data argument per input layer (in the graph's input
    order); ``fmt`` is one InputDataFormats for all, or a list of one per
    input.  Returns ``(data, single)``: the :class:`InputData`, and whether
    the first input was one observation given alone (a T-by-C array).
    """
    from ._data import check_sequences
    from ._formats import check_input_formats, read_inputs
    nodes = [k for k, layer in enumerate(graph.layers) if layer.is_input]
    names = names or (["X"] if len(nodes) == 1 else [f"X{i + 1}" for i in range(len(nodes))])
    if len(Xs) != len(nodes):
        fail(func, f"the network has {len(nodes)} inputs "
                   f"({', '.join(repr(graph.layers[k].Name) for k in nodes)}) but "
                   f"{len(Xs)} were given.")
    fmt = check_input_formats(func, fmt)
    if isinstance(fmt, list):
        if len(fmt) != len(nodes):
            fail(func, f"`InputDataFormats` must be one format, or one per input "
                       f"({len(nodes)}). Received: {len(fmt)} formats.")
        fmts = fmt
    else:
        fmts = [fmt] * len(nodes)
    arrays, single = [], False
    for i, (k, X, f, name) in enumerate(zip(nodes, Xs, fmts, names)):
        layer = graph.layers[k]
        seqs, one = read_inputs(func, layer, X, f, name)
        span = check_sequences(func, seqs, layer.InputSize, layer.MinLength, name=name)
        if dtype is not None:
            layer._check_range(func, seqs, dtype, name, span=span)
        arrays.append(seqs)
        single = single or (i == 0 and one)
    return make_input_data(func, graph, arrays, names), single
