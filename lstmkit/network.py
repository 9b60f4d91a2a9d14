"""SeriesNetwork, layer-array checks, and the forward pass shared by training and prediction."""

import numpy as np

from ._files import machine_memory
from ._inputs import InputData
from ._tuning import ThreadTuner
from ._validation import _show, fail
from .graph import Graph
from .layers.base import Layer
from .layers.bilstm import BiLSTMLayer
from .layers.output import ClassificationOutputLayer
from .layers.recurrent import RecurrentLayer
from .layers.sequence_input import SequenceInputLayer
from .layers.softmax import SoftmaxLayer


class LayerArray(tuple):
    """A tuple of layers that prints as MATLAB's ``N×1 Layer array``.

    ``net.Layers`` is one; wrap a list to see the table:
    ``print(LayerArray(layers))``.  In IPython and Jupyter a plain list of
    layers is displayed as this table too (see :func:`register_ipython_display`).
    """

    def __repr__(self):
        if not self:
            return "  0×1 empty Layer array."
        names = [f"'{layer.Name}'" for layer in self]
        types = [layer.type_name for layer in self]
        wn, wt = max(map(len, names)), max(map(len, types))
        wi = len(str(len(self)))
        lines = [f"  {len(self)}×1 Layer array with layers:", ""]
        for i, layer in enumerate(self, 1):
            lines.append(f"    {i:>{wi}}   {names[i - 1]:<{wn}}   {types[i - 1]:<{wt}}   "
                         f"{layer.Description}")
        return "\n".join(lines)

    __str__ = __repr__

    def _repr_pretty_(self, printer, cycle):
        printer.text(repr(self))


def _layer_list_printer(default):
    """IPython pretty-printer for lists: MATLAB's layer table when every item is a layer."""
    def printer(obj, p, cycle):
        if obj and not cycle and all(isinstance(item, Layer) for item in obj):
            p.text(repr(LayerArray(obj)))
        else:
            default(obj, p, cycle)
    printer.lstmkit = True
    return printer


def register_ipython_display():
    """Show lists of layers as MATLAB's layer table in a running IPython or Jupyter session.

    Only lists whose items are all layers are affected; other lists print as
    IPython prints them.  Does nothing outside IPython (IPython is not imported).
    """
    import sys
    if "IPython" not in sys.modules:
        return False
    try:
        from IPython import get_ipython
        from IPython.lib import pretty
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    formatter = shell.display_formatter.formatters["text/plain"]
    current = formatter.type_printers.get(list)
    if getattr(current, "lstmkit", False):
        return True
    default = current or pretty._type_pprinters.get(list) or pretty._seq_pprinter_factory("[", "]")
    formatter.for_type(list, _layer_list_printer(default))
    return True


class Plan:
    """What :func:`check_layers` learns about a layer array.

    Attributes
    ----------
    input_sizes : list of int
        Input channels of every layer (the input layer's own size first).
    sequence_in : list of bool
        Whether each layer receives a sequence.
    output_is_sequence : bool
        Whether the network outputs a sequence (sequence-to-sequence task).
    task : {'classification', 'regression'}
    num_outputs : int
        Number of classes or responses.
    """

    def __init__(self, input_sizes, sequence_in, output_is_sequence, task, num_outputs):
        self.input_sizes = input_sizes
        self.sequence_in = sequence_in
        self.output_is_sequence = output_is_sequence
        self.task = task
        self.num_outputs = num_outputs


def copy_and_name_layers(func, layers):
    """Deep copies of ``layers`` with MATLAB's automatic names for unnamed layers.

    The caller's layer objects are never modified (MATLAB layers are values).
    """
    if isinstance(layers, SeriesNetwork):
        layers = layers.Layers
    if isinstance(layers, Layer):
        layers = [layers]
    if not isinstance(layers, (list, tuple)) or not layers:
        fail(func, f"`layers` must be a non-empty list of layers (sequenceInputLayer(...), "
                   f"lstmLayer(...), ...). Received: {_show(layers)}.", TypeError)
    for i, layer in enumerate(layers):
        if not isinstance(layer, Layer):
            fail(func, f"`layers[{i}]` is not a layer. Received: {_show(layer)}.", TypeError)
    out = [layer.copy() for layer in layers]
    name_layers(out, {layer.Name for layer in out if layer.Name})
    seen = set()
    for layer in out:
        if layer.Name in seen:
            fail(func, f"layer names must be unique; '{layer.Name}' is used more than once.")
        seen.add(layer.Name)
    return out


def layers_and_connections(func, layers):
    """Copied, named layers and their connections (None for a layer array: a chain).

    A layerGraph (anything with ``_layers`` and ``_connections``, or a
    DAGNetwork) gives its connections; the layers are then in its graph's
    topological order.
    """
    if hasattr(layers, "_connections") and hasattr(layers, "_layers"):
        graph = Graph([layer.copy() for layer in layers._layers], layers._connections, func=func)
        return list(graph.layers), list(layers._connections)
    if isinstance(layers, DAGNetwork):
        return [layer.copy() for layer in layers.Layers], list(layers._connections)
    return copy_and_name_layers(func, layers), None


def name_layers(layers, taken):
    """MATLAB's automatic names ('lstm', 'lstm_1', ...) for unnamed layers, avoiding ``taken``."""
    for layer in layers:
        if layer.Name:
            continue
        name, k = layer.default_name, 0
        while name in taken:
            k += 1
            name = f"{layer.default_name}_{k}"
        layer.Name = name
        taken.add(name)


def check_layers(func, layers, issues=None, connections=None):
    """Check the order and sizes of a named layer array; return a :class:`Plan`.

    With ``connections`` the layers are a graph (in topological order, as
    :func:`layers_and_connections` gives them): one input layer, one output
    layer that nothing consumes, every input connected.

    The first problem is raised as a ``ValueError``; with a list ``issues``,
    every problem found is appended to it instead (analyzeNetwork) and the
    plan is still built as far as possible.
    """
    def report(message):
        if issues is None:
            fail(func, message)
        issues.append(message)

    if connections is not None:
        return _check_graph(func, layers, connections, report)
    if not isinstance(layers[0], SequenceInputLayer):
        report(f"the first layer must be a sequenceInputLayer. Received: layer "
               f"'{layers[0].Name}' ({layers[0].type_name}).")
    for i, layer in enumerate(layers[1:], 1):
        if isinstance(layer, SequenceInputLayer):
            report(f"only the first layer may be an input layer; layer {i + 1} "
                   f"('{layer.Name}') is a sequenceInputLayer too.")
    if not layers[-1].is_output:
        report(f"the last layer must be an output layer (classificationLayer or "
               f"regressionLayer). Received: layer '{layers[-1].Name}' "
               f"({layers[-1].type_name}); add classificationLayer() or regressionLayer().")
    for layer in layers[:-1]:
        if layer.is_output:
            report(f"the output layer '{layer.Name}' must be the last layer.")
    out_layer = layers[-1]
    if isinstance(out_layer, ClassificationOutputLayer) and (
            len(layers) < 2 or not isinstance(layers[-2], SoftmaxLayer)):
        report(f"classificationLayer '{out_layer.Name}' must follow a softmaxLayer "
               f"(cross-entropy needs probabilities); insert softmaxLayer() before it.")
    sizes = infer_sizes(func, Graph(list(layers), func=func), report)
    input_sizes, sequence_in = sizes.input_sizes, sizes.input_is_sequence
    task = "classification" if isinstance(out_layer, ClassificationOutputLayer) else "regression"
    return Plan(input_sizes, sequence_in, sequence_in[-1], task, input_sizes[-1])


def _check_graph(func, layers, connections, report):
    graph = Graph(layers, connections, func=func)
    for name, port in graph.unconnected:
        report(f"input {port + 1} of layer '{name}' is not connected.")
    inputs = [layer for layer in graph.layers if layer.is_input]
    outputs = [k for k, layer in enumerate(graph.layers) if layer.is_output]
    if len(inputs) != 1 or not isinstance(graph.layers[0], SequenceInputLayer):
        report(f"lstmkit trains layer graphs with one sequenceInputLayer or featureInputLayer; "
               f"this one has input layers {[layer.Name for layer in inputs]}.")
    if len(outputs) != 1:
        report(f"the layer graph must have one output layer (classificationLayer or "
               f"regressionLayer); it has {len(outputs)}.")
    for k, layer in enumerate(graph.layers):
        if not graph.consumers[k] and not layer.is_output and not layer.is_input:
            report(f"the output of layer '{layer.Name}' goes nowhere; connect it, remove it, "
                   f"or end it in the output layer.")
        if layer.is_output and graph.consumers[k]:
            report(f"the output layer '{layer.Name}' must not feed another layer.")
    sizes = infer_sizes(func, graph, report)
    if not outputs:
        return Plan(sizes.input_sizes, sizes.input_is_sequence, True, "regression", None)
    k = outputs[0]
    out_layer = graph.layers[k]
    src = graph.sources[k][0] if graph.sources[k] else None
    if isinstance(out_layer, ClassificationOutputLayer) and (
            src is None or not isinstance(graph.layers[src], SoftmaxLayer)):
        report(f"classificationLayer '{out_layer.Name}' must follow a softmaxLayer "
               f"(cross-entropy needs probabilities); insert softmaxLayer() before it.")
    task = "classification" if isinstance(out_layer, ClassificationOutputLayer) else "regression"
    return Plan(sizes.input_sizes, sizes.input_is_sequence, sizes.input_is_sequence[k], task,
                sizes.input_sizes[k])


class Sizes:
    """What :func:`infer_sizes` finds for every node of a graph (lists by node)."""

    def __init__(self, n):
        self.input_sizes = [None] * n          # int, a list for a layer with several inputs, None
        self.input_is_sequence = [True] * n
        self.output_sizes = [None] * n
        self.output_is_sequence = [True] * n


def check_memory_budget(func, layers, input_sizes, copies, memory=None):
    """Refuse a network whose parameters cannot fit in memory, before allocating any of them.

    ``copies`` float64-sized arrays of every parameter are what the call needs
    (initialization 1; training holds the parameters, their gradient, the
    solver's two states and the factors).  Learnables not created yet are
    counted from the shapes the layers would give them.
    """
    memory = machine_memory() if memory is None else memory
    if memory is None:
        return
    total, largest = 0, (0, None)
    for layer, size in zip(layers, input_sizes):
        for lb in layer.learnables:
            value = getattr(layer, lb.name, None)
            if value is not None:
                count = int(np.size(value))
            else:
                try:
                    shape = layer._learnable_shape(lb.name, size)[0]
                except (NotImplementedError, AttributeError, TypeError, ValueError):
                    continue
                count = int(np.prod([int(d) for d in shape], dtype=object))
            total += count
            if count > largest[0]:
                largest = (count, layer)
    need = total * 8 * copies
    if need > memory:
        count, layer = largest
        fail(func, f"the network has {total:,} learnable parameters (the largest layer, "
                   f"'{layer.Name}' ({layer.type_name}), {count:,}); this needs about "
                   f"{need / 2**30:,.1f} GiB, more than this machine's {memory / 2**30:,.1f} GiB. "
                   f"Use fewer hidden units or channels.", MemoryError)


def check_learnable_shapes(func, layer, input_size):
    """Learnables that are set must have the sizes the layer's input gives them.

    Factories check the weights given to them, but weights also arrive from
    files (loadNetwork, importers) and from layers edited by hand; a weight of
    the right number of elements in the wrong shape would otherwise reach the
    kernels.
    """
    for lb in layer.learnables:
        value = getattr(layer, lb.name, None)
        if value is None:
            continue
        try:
            shape = tuple(int(d) for d in layer._learnable_shape(lb.name, input_size)[0])
        except (NotImplementedError, AttributeError, TypeError, ValueError, KeyError):
            continue
        if tuple(np.shape(value)) != shape:
            fail(func, f"layer '{layer.Name}' ({layer.type_name}) has {lb.name} of size "
                       f"{'-by-'.join(map(str, np.shape(value)))}; its input of size "
                       f"{input_size} needs {'-by-'.join(map(str, shape))}.")


def infer_sizes(func, graph, report=None):
    """Channels and sequence-ness of every node's input and output, checking each layer.

    Runs in topological order: an input layer's output is its InputSize, a
    sequence; every other layer checks what its sources give it
    (``_check_input``: sizes fixed by given weights, a recurrent layer after
    one that ended the sequence, ...) and says what it outputs.  ``report``
    collects the problems instead of raising (analyzeNetwork).  Unknown sizes
    (after an input layer without one) are None and skip the checks.
    """
    out = Sizes(len(graph))
    for k, layer in enumerate(graph.layers):
        srcs = graph.sources[k]
        if layer.is_input or not srcs:
            size = getattr(layer, "InputSize", None) if layer.is_input else None
            out.input_sizes[k] = size
            out.output_sizes[k] = size
            out.output_is_sequence[k] = layer._outputs_sequence(True)
            continue
        sizes = [out.output_sizes[s] for s in srcs]
        seqs = [out.output_is_sequence[s] for s in srcs]
        size, is_seq = (sizes[0], seqs[0]) if len(srcs) == 1 else (sizes, seqs)
        known = all(s is not None for s in sizes)
        if known:
            try:
                layer._check_input(func, size, is_seq)
                check_learnable_shapes(func, layer, size)
            except ValueError as err:
                if report is None:
                    raise
                report(str(err).split(": ", 1)[1])
        out.input_sizes[k] = size
        out.input_is_sequence[k] = is_seq
        out.output_sizes[k] = layer._output_size(size) if known else None
        out.output_is_sequence[k] = layer._outputs_sequence(is_seq)
    return out


class SeriesNetwork:
    """A trained or assembled network (MATLAB's ``SeriesNetwork``).

    Attributes
    ----------
    Layers : LayerArray
        The layers with their learned weights.
    InputNames, OutputNames : list of str
    TrainingInfo : TrainingInfo or None
        MATLAB's second output of trainNetwork.
    """

    _connections = None

    def __init__(self, layers, plan, dtype, training_info=None):
        self.Layers = LayerArray(layers)
        self.TrainingInfo = training_info
        self._plan = plan
        self._dtype = np.dtype(dtype)

    @property
    def _graph(self):
        """The network as the engine runs it: the chain of its layers (or its graph)."""
        return Graph(list(self.Layers), self._connections)

    @property
    def _output_is_sequence(self):
        return self._plan.output_is_sequence

    @property
    def InputNames(self):
        return [self.Layers[0].Name]

    @property
    def OutputNames(self):
        return [self.Layers[-1].Name]

    @property
    def Classes(self):
        """Class names of a classification network (None for regression)."""
        out = self.Layers[-1]
        return out.Classes if isinstance(out, ClassificationOutputLayer) else None

    def __repr__(self):
        return (f"  {type(self).__name__} with properties:\n\n"
                f"         Layers: [{len(self.Layers)}×1 Layer]\n"
                f"     InputNames: {{'{self.InputNames[0]}'}}\n"
                f"    OutputNames: {{'{self.OutputNames[0]}'}}")


class DAGNetwork(SeriesNetwork):
    """A trained or assembled network whose layers form a graph (MATLAB's ``DAGNetwork``).

    What trainNetwork and assembleNetwork return for a layerGraph; it predicts
    and classifies as a SeriesNetwork does.

    Attributes
    ----------
    Layers : LayerArray
        In a topological order.
    Connections : Table
        Source and Destination of every connection.
    """

    def __init__(self, layers, plan, dtype, training_info=None, connections=()):
        super().__init__(layers, plan, dtype, training_info)
        self._connections = list(connections)

    @property
    def OutputNames(self):
        return [layer.Name for layer in self.Layers if layer.is_output]

    @property
    def Classes(self):
        out = [layer for layer in self.Layers if layer.is_output][0]
        return out.Classes if isinstance(out, ClassificationOutputLayer) else None

    @property
    def Connections(self):
        from .table import Table
        return Table({"Source": [a for a, _ in self._connections],
                      "Destination": [b for _, b in self._connections]})


def make_network(layers, plan, dtype, info=None, connections=None):
    """A SeriesNetwork, or a DAGNetwork when the layers have connections."""
    if connections is None:
        return SeriesNetwork(layers, plan, dtype, info)
    return DAGNetwork(layers, plan, dtype, info, connections)


# --------------------------------------------------------------------------------------------
# forward pass and chunking shared by training and prediction


def compute_nodes(graph):
    """The nodes a forward pass runs: all but the input layers and the output (loss) layers."""
    return [k for k, layer in enumerate(graph.layers)
            if not getattr(layer, "is_input", False) and not layer.is_output]


def network_output(graph):
    """The node whose output is the network's output: the one feeding the output layer."""
    out = [k for k, layer in enumerate(graph.layers) if layer.is_output]
    return graph.sources[out[0]][0] if out else len(graph) - 1


def check_sequence_lengths(func, graph, min_length, output_is_sequence=False):
    """Every layer gets at least one time step from sequences of ``min_length`` steps.

    Layers that change lengths (convolution without padding, strides,
    pooling) say what they output (``_output_length``); a layer left with no
    time step is an error naming it, as MATLAB's MinLength rule.  With
    sequence output (sequence-to-sequence training) no layer may change the
    length: the targets would not align with the output.
    """
    lengths = {}
    for k, layer in enumerate(graph.layers):
        srcs = graph.sources[k]
        L = min_length if not srcs else min(lengths[s] for s in srcs)
        if layer._changes_length():
            out = layer._output_length(L)
            if out < 1:
                fail(func, f"layer '{layer.Name}' ({layer.type_name}) has no output for a "
                           f"sequence of {L} time steps (the shortest reaching it); pad it "
                           f"(Padding='same' or 'causal'), shorten FilterSize or PoolSize, or "
                           f"set the input layer's MinLength and give longer sequences.")
            if output_is_sequence:
                fail(func, f"layer '{layer.Name}' ({layer.type_name}) changes the sequence "
                           f"length, so the network's output sequences cannot align with the "
                           f"target sequences; use Padding='same' or 'causal' and Stride 1.")
            L = out
        lengths[k] = L
    return lengths


def check_data_lengths(func, graph, seqs, sequence_length="longest", output_is_sequence=False):
    """:func:`check_sequence_lengths` for the sequences ``seqs`` (C-by-T arrays) as batched."""
    changing = [layer for layer in graph.layers if layer._changes_length()]
    if changing and isinstance(sequence_length, int):
        fail(func, f"SequenceLength as an integer splits sequences into chunks, which layer "
                   f"'{changing[0].Name}' ({changing[0].type_name}) would shorten chunk by "
                   f"chunk; use SequenceLength='longest'.")
    if seqs:
        check_sequence_lengths(func, graph, min(s.shape[1] for s in seqs), output_is_sequence)


def check_carried_state(func, layers, what):
    """A BiLSTM's backward direction needs the whole sequence: it cannot carry state."""
    for layer in layers:
        if isinstance(layer, BiLSTMLayer):
            fail(func, f"{what} is not possible with bilstmLayer '{layer.Name}': its backward "
                       f"direction needs the whole sequence at once.")


def check_state_columns(func, layers, n):
    """Stored states of several observations (from stateful prediction) must match X's count."""
    for layer in layers:
        if isinstance(layer, RecurrentLayer):
            cols = layer._state_columns()
            if cols > 1 and cols != n:
                fail(func, f"layer '{layer.Name}' holds the states of {cols} observations (from "
                           f"earlier stateful prediction) but X has {n}; call net = "
                           f"resetState(net) first, or pass {cols} observations.")


def truncate_states(states, n):
    """Keep the first ``n`` (sorted) rows of every node's carried state (a dict node -> state)."""
    return {k: tuple(a[:n] for a in s) for k, s in states.items() if s is not None}


def chunk_bounds(sorted_lengths, chunk):
    """Time-step windows of SequenceLength chunks.

    Yields ``(start, stop, n)``: steps ``start:stop`` of the first ``n`` sorted
    sequences (those longer than ``start``).  ``chunk`` None is one window.
    """
    T = int(sorted_lengths[0])
    step = T if chunk is None else chunk
    for start in range(0, T, step):
        n = int(np.count_nonzero(sorted_lengths > start))
        yield start, min(start + step, T), n


def initial_states(graph, columns, dtype):
    """Initial states of the recurrent nodes for sorted rows drawn from stored columns.

    ``columns[k]`` is the caller's observation index of sorted row ``k``; it
    selects the column of a stored H-by-N state (an H-by-1 state serves all).
    Returns a dict node -> state.
    """
    return {k: layer._initial_state(len(columns), columns, dtype)
            for k, layer in enumerate(graph.layers) if isinstance(layer, RecurrentLayer)}


def predict_batches(net, data, mini_batch_size, sequence_length, direction, keep_states=False,
                    training=False, out_nodes=None, runner=None):
    """Network outputs for every observation, in the caller's order.

    ``net`` is a SeriesNetwork or a dlnetwork (anything with ``_graph``,
    ``_dtype`` and ``_output_is_sequence``).  ``data`` is the
    :class:`~lstmkit._inputs.InputData` of the network's inputs, or for a
    network with one input a list of its C-by-T arrays.  Every recurrent
    layer starts from its stored state (HiddenState, CellState).
    ``training=True`` runs the layers as in training (dropout on), without
    keeping what a backward pass would need.  ``out_nodes`` (a list of graph
    nodes) asks for those nodes' outputs instead of the network's output.
    Returns ``(outputs, final)``: a list of K-by-T arrays (sequence output) or
    an N-by-K array (a list of those, one per node, with ``out_nodes``), and,
    with ``keep_states``, a dict node -> the recurrent layer's final states as
    arrays of shape (N, size) in the caller's order.  ``runner`` runs the
    layers (:meth:`lstmkit.graph.Graph.forward`; the GPU's puts some on the
    device).
    """
    dtype = net._dtype
    graph = net._graph
    if not isinstance(data, InputData):
        data = InputData.of_graph(graph, [data])
    nodes = compute_nodes(graph)
    if out_nodes is None:
        wanted, is_sequence = [network_output(graph)], [net._output_is_sequence]
    else:
        sizes = infer_sizes("predict", graph)
        wanted, is_sequence = list(out_nodes), [sizes.output_is_sequence[k] for k in out_nodes]
    N = len(data)
    outputs = [[None] * N for _ in wanted]
    final = {k: tuple(np.zeros((N, layer._state_size()), dtype) for _ in layer.state_properties)
             for k, layer in enumerate(graph.layers)
             if isinstance(layer, RecurrentLayer)} if keep_states else None
    with ThreadTuner() as tuner:
        for lo in range(0, N, mini_batch_size):
            part = data.take(range(lo, min(lo + mini_batch_size, N)))
            if sequence_length == "shortest":
                part, _ = part.shortest(direction)
            chunk = sequence_length if isinstance(sequence_length, int) else None
            full = part.sorted_batch()
            callers = lo + full.order
            states = initial_states(graph, callers, dtype)
            pieces = [[[] for _ in range(len(part))] for _ in wanted]
            for start, stop, n in chunk_bounds(full.lengths, chunk):
                batch, values = part.pack_window(full, start, stop, n, dtype)
                states = truncate_states(states, n)
                node_batches = {}
                tuner.begin()
                _, states = graph.forward(values, batch, states, training, dtype, nodes,
                                          node_batches, runner)
                tuner.end(getattr(batch, "num_rows", 1))
                ending = np.flatnonzero(full.lengths[:n] <= stop)  # sequences ending in this chunk
                for w, (node, seq) in enumerate(zip(wanted, is_sequence)):
                    y = values[node] if runner is None else runner.host(values[node])
                    if seq:
                        for k, piece in enumerate(node_batches.get(node, batch).unpack(y)):
                            pieces[w][k].append(piece)
                    else:
                        for k in ending:
                            pieces[w][k] = y[k]
                if keep_states:
                    for node, node_final in final.items():
                        for target, arr in zip(node_final, states[node]):
                            target[callers[ending]] = arr[ending]
            for w, seq in enumerate(is_sequence):
                for k, i in enumerate(full.order):
                    got = pieces[w][k]
                    outputs[w][lo + i] = (np.concatenate(got, axis=1) if len(got) > 1 else got[0]) \
                        if seq else got
    outputs = [out if seq else np.stack(out) for out, seq in zip(outputs, is_sequence)]
    return (outputs[0] if out_nodes is None else outputs), final
