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

from ._formats import check_format, check_input_formats
from ._inputs import read_network_inputs
from ._predict_options import PARALLEL, check_predict_options
from ._validation import _show, check_bool, check_nargout, fail, name_value_function, select_outputs
from .datastore import Datastore, datastore_data
from .dlnetwork import DLNetwork, check_runnable, output_nodes
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


def _inputs(func, net, X, more_inputs):
    """The data arguments of a dlnetwork's inputs: X and more, or a datastore's predictors."""
    check_runnable(func, net, several=True)
    if isinstance(X, Datastore):
        if more_inputs:
            fail(func, "give the data as one datastore, or as arrays (one per input); not both.",
                 TypeError)
        inputs = [k for k, layer in enumerate(net._graph.layers) if layer.is_input]
        return datastore_data(func, X, net._graph, inputs, 0, name="X")[0]
    return [X, *more_inputs]


def _run(func, net, Xs, fmt, mini_batch_size=128, sequence_length="longest", direction="right",
         keep_states=False, training=False, out_nodes=None, environment="cpu"):
    """Outputs of ``out_nodes`` (default: the network's outputs) for the inputs ``Xs``.

    Returns ``(outputs, single, final)``: a list of outputs, one per node.
    ``environment``: where it runs, 'cpu', 'gpu' (the device runner) or a
    parallel value (the observations split over the pool's workers).
    """
    check_runnable(func, net, several=True)
    names = ["X"] if len(Xs) == 1 else None
    data, single = read_network_inputs(func, net._graph, Xs, fmt, names, net._dtype)
    check_state_columns(func, net._graph.layers, len(data))
    if isinstance(sequence_length, int) or keep_states:
        check_carried_state(func, net._graph.layers,
                            "stateful prediction" if keep_states else "SequenceLength chunks")
    check_data_lengths(func, net._graph, data.sequences, sequence_length)
    out_nodes = out_nodes or output_nodes(net)
    if environment in PARALLEL:
        from .parallel import predict_on_pool
        out, final = predict_on_pool(func, net, data, mini_batch_size, sequence_length, direction,
                                     keep_states, out_nodes)
    else:
        runner = None
        if environment == "gpu":
            from .training.device import largest_batch, prediction_runner
            runner = prediction_runner(func, net, *largest_batch(data.lengths, mini_batch_size,
                                                                 sequence_length))
        out, final = predict_batches(net, data, mini_batch_size, sequence_length, direction,
                                     keep_states, training, out_nodes, runner)
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


@name_value_function(variadic=True)
def minibatchpredict(
    net: DLNetwork,
    X: Any,
    *more_inputs: Any,
    MiniBatchSize: int = 128,
    SequenceLength: str | int = "longest",
    SequencePaddingDirection: Literal["right", "left"] = "right",
    SequencePaddingValue: float = 0.0,
    UniformOutput: bool = True,
    InputDataFormats: str = "auto",
    OutputDataFormats: str = "auto",
    ExecutionEnvironment: Literal["auto", "cpu", "gpu", "multi-gpu", "parallel",
                                  "parallel-cpu", "parallel-auto"] = "auto",
    Acceleration: Literal["auto", "mex", "none"] = "auto",
    Outputs: str | Sequence[str] | None = None,
    nargout: int = 1,
) -> np.ndarray | list[np.ndarray] | tuple:
    """Predict in mini-batches with a dlnetwork, as MATLAB's ``minibatchpredict`` (R2024a).

    Parameters
    ----------
    net : DLNetwork
        An initialized network.
    X : list of arrays, numeric array or datastore
        Sequences as T-by-C arrays (a list: MATLAB's cell array), a numeric
        T-by-C-by-N array, or another layout named by ``InputDataFormats``;
        N-by-C features for a featureInputLayer; or a datastore whose reads
        give one item per input (:func:`combine`).
    *more_inputs
        For a network with several inputs, MATLAB's
        ``minibatchpredict(net, X1, ..., XM)``: the data of the other inputs,
        in the order of ``net.InputNames`` (every observation's sequences of
        the same length in every sequence input).
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
    ExecutionEnvironment : {'auto', 'cpu', 'gpu', 'multi-gpu', 'parallel', 'parallel-cpu', 'parallel-auto'}, default 'auto'
        'auto' and 'cpu' run in this process.  'parallel' (and its aliases;
        an lstmkit extension) splits the observations over the parallel
        pool's workers (:func:`lstmkit.parpool`; :func:`lstmkit.gcp` starts
        one): the same results (bit for bit from the recurrent kernels; BLAS
        may round a dense product in the last bit).
    Acceleration : {'auto', 'mex', 'none'}, default 'auto'
        Accepted for compatibility; the kernels are always compiled.
    Outputs : str or list of str, optional
        Layers whose outputs to return instead of the network's (MATLAB's
        replacement of ``activations``), by name (``"lstm"`` or
        ``"lstm/out"``), one output each, in the same layouts.
    nargout : int, default 1
        MATLAB's ``[Y1, ..., YM] = minibatchpredict(...)``: for a network with
        several outputs (or several ``Outputs``), ``nargout=M`` returns the
        first M, in the order of ``net.OutputNames``, as a tuple.

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
    checked = check_predict_options(func, dict(locals()), parallel=True)
    direction = checked["SequencePaddingDirection"]
    uniform = check_bool(func, "UniformOutput", UniformOutput)
    in_fmt = check_format(func, "InputDataFormats", InputDataFormats)
    out_fmt = check_format(func, "OutputDataFormats", OutputDataFormats)
    Xs = _inputs(func, net, X, more_inputs)
    nodes = _output_nodes(func, net, Outputs) or output_nodes(net)
    nargout = check_nargout(func, nargout, len(nodes))
    outs, _, _ = _run(func, net, Xs, in_fmt, checked["MiniBatchSize"], checked["SequenceLength"],
                      direction, out_nodes=nodes[:nargout],
                      environment=checked["ExecutionEnvironment"])
    sizes = infer_sizes(func, net._graph)
    seqs = [sizes.output_is_sequence[k] for k in nodes[:nargout]]
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


def _single_pass(func, net, X, more_inputs, fmt, nargout, training, **batching):
    """predict and forward on a dlnetwork: the outputs in X's layout, then the new state."""
    Xs = _inputs(func, net, X, more_inputs)
    nodes = output_nodes(net)
    nargout = check_nargout(func, nargout, len(nodes) + 1)
    in_fmt = check_input_formats(func, fmt)
    outs, single, final = _run(func, net, Xs, in_fmt, keep_states=True, training=training,
                               out_nodes=nodes, **batching)
    sizes = infer_sizes(func, net._graph)
    results = []
    for out, k in zip(outs, nodes):
        if sizes.output_is_sequence[k]:
            outputs = [y.T for y in out]
            if single:
                y = outputs[0]
            elif isinstance(X, np.ndarray) and X.dtype != object:
                y = _uniform(outputs, 0.0, "right")        # equal lengths: a numeric T-by-K-by-N
            else:
                y = outputs
        else:
            y = out
        results.append(y)
    if nargout <= len(nodes):
        return select_outputs(tuple(results), nargout)
    return tuple(results) + (_state_table(net, final),)


def predict_dlnetwork(net, X, more_inputs, InputDataFormats, nargout, mini_batch_size,
                      sequence_length, direction, environment="cpu"):
    """predict on a dlnetwork (see :func:`lstmkit.predict`; options already checked)."""
    return _single_pass("predict", net, X, more_inputs, InputDataFormats, nargout, False,
                        mini_batch_size=mini_batch_size, sequence_length=sequence_length,
                        direction=direction, environment=environment)


@name_value_function(variadic=True)
def forward(net: DLNetwork, X: Any, *more_inputs: Any, InputDataFormats: str = "auto",
            nargout: int = 1) -> Any:
    """The network's output in training mode, as MATLAB's ``forward`` (dropout on).

    Parameters
    ----------
    net : DLNetwork
        An initialized network.
    X : array or list of arrays
        As for :func:`minibatchpredict`.
    *more_inputs
        The other inputs' data, for a network with several inputs.
    InputDataFormats : str, default 'auto'
        The layout of X.
    nargout : int, default 1
        2 also returns the state table, as MATLAB's ``[Y, state] = forward(...)``;
        for a network with n outputs, ``nargout`` up to n returns the first
        outputs and n + 1 the outputs and the state.

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
    from .dlarrays import DLArray
    if isinstance(net, DLNetwork) and isinstance(X, DLArray) and not more_inputs:
        from .dlforward import traced_forward
        check_runnable("forward", net)
        return traced_forward("forward", net, X, check_nargout("forward", nargout, 2))
    if isinstance(net, DLNetwork):
        net = net._copy(func="forward")   # batch normalization's moving statistics go to the
    return _single_pass("forward", net, X, more_inputs, InputDataFormats, nargout,
                        True)                            # state output


def reset_dlnetwork(net):
    """resetState on a dlnetwork: a copy with the states the layers were created with."""
    out = net._copy(func="resetState")
    for layer in out._graph.layers:
        if isinstance(layer, RecurrentLayer):
            layer._restore_initial_states()
    return out
