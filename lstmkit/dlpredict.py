"""Running a dlnetwork: minibatchpredict, predict with its state, forward, resetState.

The trainnet era's layout: sequences are T-by-C (time steps by channels), a
list of them or a numeric T-by-C-by-N array, other layouts named by
``InputDataFormats`` (:mod:`lstmkit._formats`).  Outputs come back in the
same era's layout: N-by-K for one vector per observation, T-by-K per sequence
for sequence output.  The forward pass is the engine's
(:func:`lstmkit.network.predict_batches`, the graph of :mod:`lstmkit.graph`),
the same that runs SeriesNetwork.

lstmkit never pads (deliberate difference): each sequence's output has its own
length.  With ``UniformOutput=True`` outputs of sequences of different lengths
are stacked into a T-by-K-by-N array padded with ``SequencePaddingValue`` on
the ``SequencePaddingDirection`` side, as a numeric array must be; the values
at real time steps never depend on the padding.
"""

from __future__ import annotations

from typing import Any, Literal, Sequence

import numpy as np

from ._formats import check_format, read_inputs
from ._predict_options import check_predict_options
from ._validation import _show, check_bool, check_nargout, fail, name_value_function, select_outputs
from .dlnetwork import DLNetwork, check_runnable
from .layers.recurrent import RecurrentLayer
from .network import (check_carried_state, check_data_lengths, check_state_columns, infer_sizes,
                      predict_batches)
from .table import Table


def _state_table(net, final):
    """MATLAB's state output: Layer, Parameter, Value (H-by-N, single) per recurrent state."""
    layers, params, values = [], [], []
    for k, layer in enumerate(net._graph.layers):
        for i, prop in enumerate(layer.state_properties):
            layers.append(layer.Name)
            params.append(prop)
            if isinstance(layer, RecurrentLayer):
                values.append(np.ascontiguousarray(final[k][i].T))
            else:                        # a state prediction does not change (batch statistics)
                values.append(np.array(layer._state_value(prop), copy=True))
    return Table({"Layer": layers, "Parameter": params, "Value": values})


def _run(func, net, X, fmt, mini_batch_size=128, sequence_length="longest", direction="right",
         keep_states=False, training=False, out_nodes=None):
    check_runnable(func, net)
    input_layer = net._graph.layers[0]
    seqs, single = read_inputs(func, input_layer, X, fmt)
    short = [i for i, s in enumerate(seqs) if s.shape[1] < input_layer.MinLength]
    if short:
        fail(func, f"sequence {short[0]} has {seqs[short[0]].shape[1]} time steps, fewer than the "
                   f"input layer's MinLength {input_layer.MinLength}.")
    for i, s in enumerate(seqs):
        if not np.all(np.isfinite(s)):
            fail(func, f"sequence {i} of `X` contains NaN or Inf values.")
    check_state_columns(func, net._graph.layers, len(seqs))
    if isinstance(sequence_length, int) or keep_states:
        check_carried_state(func, net._graph.layers,
                            "stateful prediction" if keep_states else "SequenceLength chunks")
    check_data_lengths(func, net._graph, seqs, sequence_length)
    out, final = predict_batches(net, seqs, mini_batch_size, sequence_length, direction,
                                 keep_states, training, out_nodes)
    return out, single, final


def _uniform(outputs, value, direction):
    """T-by-K outputs stacked as a T-by-K-by-N array, padded to the longest."""
    T = max(y.shape[0] for y in outputs)
    stacked = np.full((T, outputs[0].shape[1], len(outputs)), value, dtype=outputs[0].dtype)
    for n, y in enumerate(outputs):
        if direction == "right":
            stacked[:y.shape[0], :, n] = y
        else:
            stacked[T - y.shape[0]:, :, n] = y
    return stacked


def _format_output(func, y, fmt, default):
    """Permute a numeric output from its default format to ``fmt``."""
    if fmt == "auto" or fmt == default:
        return y
    if sorted(fmt) != sorted(default):
        fail(func, f"`OutputDataFormats` must hold the letters of {default!r} (in any order) for "
                   f"this output. Received: OutputDataFormats={fmt!r}.")
    return np.transpose(y, [default.index(c) for c in fmt])


@name_value_function()
def minibatchpredict(
    net: DLNetwork,
    X: Any,
    *name_value: Any,
    MiniBatchSize: int = 128,
    SequenceLength: str | int = "longest",
    SequencePaddingDirection: Literal["right", "left"] = "right",
    SequencePaddingValue: float = 0.0,
    UniformOutput: bool = True,
    InputDataFormats: str = "auto",
    OutputDataFormats: str = "auto",
    ExecutionEnvironment: Literal["auto", "cpu"] = "auto",
    Acceleration: Literal["auto", "mex", "none"] = "auto",
    Outputs: str | Sequence[str] | None = None,
    nargout: int = 1,
) -> np.ndarray | list[np.ndarray] | tuple:
    """Predict in mini-batches with a dlnetwork, as MATLAB's ``minibatchpredict`` (R2024a).

    Parameters
    ----------
    net : DLNetwork
        An initialized network with one input and one output.
    X : list of arrays or numeric array
        Sequences as T-by-C arrays (a list: MATLAB's cell array), a numeric
        T-by-C-by-N array, or another layout named by ``InputDataFormats``.
    MiniBatchSize : int, default 128
        Observations per forward pass; it changes speed and memory, never a
        result.
    SequenceLength : 'longest', 'shortest' or int, default 'longest'
        'shortest' truncates each mini-batch to its shortest sequence; an
        integer processes long sequences in chunks (same result, less memory).
    SequencePaddingDirection : {'right', 'left'}, default 'right'
        Which end 'shortest' truncates, and where ``UniformOutput`` pads.
    SequencePaddingValue : float, default 0
        The value that pads a uniform output of sequences of unequal lengths.
    UniformOutput : bool, default True
        Sequence output: one T-by-K-by-N array (True) or a list of T-by-K
        arrays, each of its sequence's own length (False).
    InputDataFormats : str, default 'auto'
        The layout of X: 'auto' (a list of T-by-C, or T-by-C-by-N) or letters
        such as 'CTB' or 'BTC'.  An ambiguous numeric layout is an error that
        asks for it.
    OutputDataFormats : str, default 'auto'
        The layout of a numeric output: 'auto' ('BC' for N-by-K, 'TCB' for
        sequences) or a permutation of those letters.
    ExecutionEnvironment : {'auto', 'cpu'}, default 'auto'
        lstmkit runs on the CPU.
    Acceleration : {'auto', 'mex', 'none'}, default 'auto'
        Accepted for compatibility; the kernels are always compiled.
    Outputs : str or list of str, optional
        Layers whose outputs to return instead of the network's (MATLAB's
        replacement of ``activations``), by name (``"lstm"`` or
        ``"lstm/out"``), one output each, in the same layouts.
    nargout : int, default 1
        MATLAB's ``[Y1, ..., YM] = minibatchpredict(...)``: with several
        ``Outputs``, ``nargout=M`` returns the first M as a tuple.

    Returns
    -------
    ndarray or list of ndarray
        N-by-K scores or responses for sequence-to-one networks; for
        sequence output, T-by-K-by-N (``UniformOutput=True``) or a list of
        T-by-K arrays.

    Examples
    --------
    >>> import numpy as np
    >>> from lstmkit import *
    >>> net = dlnetwork([sequenceInputLayer(3), lstmLayer(8, OutputMode="last"),
    ...                  fullyConnectedLayer(4), softmaxLayer()])
    >>> X = [np.random.default_rng(k).standard_normal((T, 3)) for k, T in enumerate((5, 9, 7))]
    >>> scores = minibatchpredict(net, X)          # T-by-C sequences, as trainnet-era MATLAB
    >>> scores.shape
    (3, 4)
    >>> scores2label(scores, ["a", "b", "c", "d"]).shape
    (3,)
    """
    func = "minibatchpredict"
    checked = check_predict_options(func, dict(locals()))
    direction = checked["SequencePaddingDirection"]
    uniform = check_bool(func, "UniformOutput", UniformOutput)
    in_fmt = check_format(func, "InputDataFormats", InputDataFormats)
    out_fmt = check_format(func, "OutputDataFormats", OutputDataFormats)
    check_runnable(func, net)
    nodes = _output_nodes(func, net, Outputs)
    nargout = check_nargout(func, nargout, max(len(nodes), 1))
    outs, _, _ = _run(func, net, X, in_fmt, checked["MiniBatchSize"], checked["SequenceLength"],
                      direction, out_nodes=nodes or None)
    if not nodes:
        outs, seqs = [outs], [net._output_is_sequence]
    else:
        sizes = infer_sizes(func, net._graph)
        seqs = [sizes.output_is_sequence[k] for k in nodes]
    results = []
    for out, seq in zip(outs, seqs):
        if not seq:
            results.append(_format_output(func, out, out_fmt, "BC"))
            continue
        outputs = [y.T for y in out]                        # T-by-K each
        if not uniform:
            if out_fmt not in ("auto", "TC", "CT"):
                fail(func, f"with UniformOutput=False each output is one sequence: "
                           f"OutputDataFormats must be 'TC' or 'CT'. Received: "
                           f"OutputDataFormats={OutputDataFormats!r}.")
            results.append([y.T for y in outputs] if out_fmt == "CT" else outputs)
            continue
        results.append(_format_output(func, _uniform(outputs, checked["SequencePaddingValue"],
                                                     direction), out_fmt, "TCB"))
    return select_outputs(tuple(results), nargout)


def _output_nodes(func, net, names):
    """Graph nodes of the layers named by minibatchpredict's ``Outputs`` (empty: the output)."""
    if names is None:
        return []
    items = [names] if isinstance(names, str) else names
    if not isinstance(items, (list, tuple)) or not items or \
            not all(isinstance(n, str) for n in items):
        fail(func, f"`Outputs` must be a layer name or a list of layer names. Received: "
                   f"{_show(names)}.", TypeError)
    layers = {layer.Name: k for k, layer in enumerate(net._graph.layers)}
    nodes = []
    for name in items:
        base = name[:-4] if name.endswith("/out") else name
        if base not in layers:
            fail(func, f"`Outputs` names layer {name!r}, which is not in the network; its layers "
                       f"are {', '.join(repr(n) for n in layers)}.")
        if net._graph.layers[layers[base]].is_input:
            fail(func, f"`Outputs` names the input layer {name!r}; name a layer after it.")
        nodes.append(layers[base])
    return nodes


def _single_pass(func, net, X, fmt, nargout, training, **batching):
    """predict and forward on a dlnetwork: outputs in X's layout, and the new state."""
    nargout = check_nargout(func, nargout, 2)
    in_fmt = check_format(func, "InputDataFormats", fmt)
    out, single, final = _run(func, net, X, in_fmt, keep_states=True, training=training,
                              **batching)
    if net._output_is_sequence:
        outputs = [y.T for y in out]
        if single:
            y = outputs[0]
        elif isinstance(X, np.ndarray) and X.dtype != object:
            y = _uniform(outputs, 0.0, "right")        # equal lengths: a numeric T-by-K-by-N
        else:
            y = outputs
    else:
        y = out
    return select_outputs((y, _state_table(net, final)), nargout)


def predict_dlnetwork(net, X, InputDataFormats, nargout, mini_batch_size, sequence_length,
                      direction):
    """predict on a dlnetwork (see :func:`lstmkit.predict`; options already checked)."""
    return _single_pass("predict", net, X, InputDataFormats, nargout, False,
                        mini_batch_size=mini_batch_size, sequence_length=sequence_length,
                        direction=direction)


@name_value_function()
def forward(net: DLNetwork, X: Any, *name_value: Any, InputDataFormats: str = "auto",
            nargout: int = 1) -> Any:
    """The network's output in training mode, as MATLAB's ``forward`` (dropout on).

    Parameters
    ----------
    net : DLNetwork
        An initialized network.
    X : array or list of arrays
        As for :func:`minibatchpredict`.
    InputDataFormats : str, default 'auto'
        The layout of X.
    nargout : {1, 2}, default 1
        2 also returns the state table, as MATLAB's ``[Y, state] = forward(...)``.

    Returns
    -------
    Y : ndarray or list of ndarray
        The output: T-by-K for one T-by-C sequence, 1-by-K for one sequence
        of a sequence-to-one network, N-by-K or T-by-K-by-N for N.
    state : Table
        With ``nargout=2``: Layer, Parameter, Value (H-by-N) of every state;
        batch normalization's TrainedMean and TrainedVariance updated with
        this mini-batch (``net.State = state`` applies them; ``net`` itself is
        not changed).

    Examples
    --------
    >>> import numpy as np
    >>> from lstmkit import *
    >>> net = dlnetwork([sequenceInputLayer(2), lstmLayer(4), dropoutLayer(0.5),
    ...                  fullyConnectedLayer(1)])
    >>> Y, state = forward(net, np.ones((6, 2)), nargout=2)
    >>> Y.shape, state.Parameter
    ((6, 1), ['HiddenState', 'CellState'])
    """
    if isinstance(net, DLNetwork):
        net = net._copy(func="forward")   # batch normalization's moving statistics go to the
    return _single_pass("forward", net, X, InputDataFormats, nargout, True)   # state output


def reset_dlnetwork(net):
    """resetState on a dlnetwork: a copy with the states the layers were created with."""
    out = net._copy(func="resetState")
    for layer in out._graph.layers:
        if isinstance(layer, RecurrentLayer):
            layer._restore_initial_states()
    return out
