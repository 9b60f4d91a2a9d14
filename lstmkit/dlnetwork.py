"""dlnetwork: MATLAB's network object of the trainnet era, on lstmkit's graph engine.

A dlnetwork holds layers and the connections between them (a directed
acyclic graph, :mod:`lstmkit.graph`), ends without an output layer (the loss
is trainnet's argument), and exposes its learnable parameters and its state
as MATLAB tables: ``net.Learnables`` (Layer, Parameter, Value) and
``net.State`` (the recurrent layers' HiddenState and CellState).  As in
MATLAB, the functions that change a network return a new one
(``net = addLayers(net, layers)``); the network passed in is not modified.
"""

from __future__ import annotations

import copy
import types
from typing import Any, Literal, Sequence

import numpy as np

from ._random import global_rng
from ._validation import checked_call, _show, check_bool, check_choice, fail, name_value_function
from .graph import Graph, split_port
from .layers.base import Layer, checked_array
from .network import LayerArray, SeriesNetwork, check_memory_budget, infer_sizes, name_layers
from .table import LiveColumn, Table


def _as_layer_list(func, layers, name="layers"):
    """A list of layers from a Layer, a list, a LayerArray or a SeriesNetwork."""
    if isinstance(layers, SeriesNetwork):
        layers = list(layers.Layers)
    if isinstance(layers, Layer):
        layers = [layers]
    if not isinstance(layers, (list, tuple)):
        fail(func, f"`{name}` must be a layer or a list of layers. Received: {_show(layers)}.",
             TypeError)
    for i, layer in enumerate(layers):
        if not isinstance(layer, Layer):
            fail(func, f"`{name}[{i}]` is not a layer. Received: {_show(layer)}.", TypeError)
    return [layer.copy() for layer in layers]


class _GraphOfLayers:
    """Layers and their connections (what dlnetwork and layerGraph share)."""

    #: precision of prediction and training (MATLAB's single)
    _dtype = np.dtype(np.float32)

    def __init__(self, layers, connections, func="dlnetwork"):
        self._layers = list(layers)
        self._connections = list(connections)
        self._graph = Graph(self._layers, self._connections, func=func)

    @property
    def _output_is_sequence(self):
        out = self.OutputNames
        k = self._graph.index(out[0])
        return infer_sizes("dlnetwork", self._graph).output_is_sequence[k]

    # -- properties ------------------------------------------------------------------------
    @property
    def Layers(self):
        return LayerArray(self._graph.layers)

    @property
    def InputNames(self):
        return [layer.Name for layer in self._graph.layers if layer.is_input]

    @property
    def OutputNames(self):
        return [layer.Name for k, layer in enumerate(self._graph.layers)
                if not self._graph.consumers[k] and not layer.is_input]

    @property
    def Connections(self):
        g = self._graph
        sources, destinations = [], []
        for k, layer in enumerate(g.layers):
            ports = list(getattr(layer, "InputNames", ("in",)))
            for p, s in enumerate(g.sources[k]):
                sources.append(g.layers[s].Name)
                destinations.append(layer.Name if len(ports) == 1 else f"{layer.Name}/{ports[p]}")
        return Table({"Source": sources, "Destination": destinations})

    def _copy(self, layers=None, connections=None, func="dlnetwork"):
        """A new network (layers deep-copied): MATLAB networks are values."""
        layers = [layer.copy() for layer in (self._layers if layers is None else layers)]
        out = type(self)(layers, self._connections if connections is None else connections, func)
        out._dtype = self._dtype
        return out

    def _with_learnables(self, arrays):
        """A new network whose learnables (in ``Learnables`` order) are ``arrays``.

        The arrays are taken as they are (fresh, checked by the caller); every
        other attribute of a layer is copied, so the two networks share
        nothing that either can change: a shallow copy of the layer whose
        arrays, lists and dicts are copied too when those are all it holds
        besides immutable scalars and functions, else a deep copy.  Much
        cheaper than copying the whole network, which is what a custom loop's
        update did at every iteration.
        """
        arrays = iter(arrays)
        mapping = {}
        for layer in self._graph.layers:
            new = {lb.name: next(arrays) for lb in layer.learnables}
            mapping[id(layer)] = _layer_with(layer, new)
        out = copy.copy(self)
        out.__dict__.pop("_trace", None)          # dlfeval's tracing belongs to the old one
        out._layers = [mapping[id(layer)] for layer in self._layers]
        out._graph = copy.copy(self._graph)
        out._graph.layers = [mapping[id(layer)] for layer in self._graph.layers]
        return out

    def _endpoint(self, destination):
        """``(layer name, port index or None)`` of a destination ``"name"`` or ``"name/port"``."""
        names = {layer.Name: layer for layer in self._layers}
        name, port = (destination, None) if destination in names else split_port(destination)
        if name not in names or port is None:
            return name, None
        ports = list(getattr(names[name], "InputNames", ("in",)))
        return name, (ports.index(port) if port in ports else port)



class DLNetwork(_GraphOfLayers):
    """A network for trainnet, minibatchpredict and custom loops (MATLAB's ``dlnetwork``).

    Create it with :func:`dlnetwork`; change it with :func:`addLayers`,
    :func:`connectLayers`, :func:`disconnectLayers`, :func:`removeLayers` and
    :func:`initialize`, each of which returns a new network.

    Attributes
    ----------
    Layers : LayerArray
        The layers, in a topological order.
    Connections : Table
        Source and Destination of every connection (``"layer/in2"`` for a
        layer with several inputs).
    Learnables : Table
        Layer, Parameter, Value of every learnable parameter; ``Value[i] = w``
        sets it (same size, finite).
    State : Table
        Layer, Parameter, Value of every state (HiddenState, CellState).
    InputNames, OutputNames : list of str
        The input layers, and the layers whose output is a network output.
    Initialized : bool
        Whether every learnable has a value.
    """

    @property
    def Initialized(self):
        return all(not layer._missing_learnables() for layer in self._graph.layers)

    @property
    def Learnables(self):
        from .dlforward import traced_learnables
        traced = traced_learnables(self)      # inside dlfeval: traced dlarrays
        if traced is not None:
            return traced
        rows = [(layer, lb.name) for layer in self._graph.layers for lb in layer.learnables]
        return _parameter_table(rows, _set_learnable)

    @property
    def State(self):
        rows = [(layer, prop) for layer in self._graph.layers for prop in layer.state_properties]
        return _parameter_table(rows, _set_state, _state_value)

    @State.setter
    def State(self, state):
        """``net.State = state``: the state table ``predict(..., nargout=2)`` returned."""
        if not isinstance(state, Table) or state.VariableNames[:3] != ["Layer", "Parameter",
                                                                      "Value"]:
            fail("State", f"the state must be a table with Layer, Parameter and Value (as "
                          f"predict(net, X, nargout=2) returns it). Received: {_show(state)}.",
                 TypeError)
        layers = {layer.Name: layer for layer in self._graph.layers}
        updates = []
        for row in state.rows():
            layer = layers.get(row["Layer"])
            if layer is None or row["Parameter"] not in layer.state_properties:
                fail("State", f"the network has no state {row['Layer']}.{row['Parameter']}.")
            updates.append((layer, row["Parameter"],
                            layer._checked_state(row["Parameter"], row["Value"])))
        for layer, name, arr in updates:      # all checked first: nothing half-written
            setattr(layer, name, arr)

    def __repr__(self):
        n_conn = sum(len(srcs) for srcs in self._graph.sources)
        learn = sum(len(layer.learnables) for layer in self._graph.layers)
        state = sum(len(layer.state_properties) for layer in self._graph.layers)
        return (f"  dlnetwork with properties:\n\n"
                f"         Layers: [{len(self._graph)}×1 Layer]\n"
                f"    Connections: [{n_conn}×2 table]\n"
                f"     Learnables: [{learn}×3 table]\n"
                f"          State: [{state}×3 table]\n"
                f"     InputNames: {_cell_names(self.InputNames)}\n"
                f"    OutputNames: {_cell_names(self.OutputNames)}\n"
                f"    Initialized: {int(self.Initialized)}")


_IMMUTABLE = (str, bytes, int, float, complex, bool, type(None), np.generic, np.dtype)
_FUNCTIONS = (types.FunctionType, types.BuiltinFunctionType)
_SHARED_TYPES = frozenset(_IMMUTABLE + _FUNCTIONS)      # exact types held as they are


def _plain(cls):
    """Whether copy.copy of a ``cls`` object is a new object with the same ``__dict__``."""
    return (getattr(cls, "__copy__", None) is None and cls.__reduce_ex__ is object.__reduce_ex__
            and cls.__reduce__ is object.__reduce__
            and getattr(cls, "__getstate__", None) is getattr(object, "__getstate__", None)
            and getattr(cls, "__setstate__", None) is None)


def _layer_with(layer, arrays):
    """A copy of ``layer`` holding ``arrays`` (name -> array, used as given)."""
    attrs = vars(layer)
    copied = {}
    for name, value in attrs.items():
        kind = type(value)
        if kind in _SHARED_TYPES or name in arrays:
            continue
        if kind is np.ndarray:
            copied[name] = value.copy()
        elif kind in (list, tuple, dict):
            items = value.values() if kind is dict else value
            if not all(isinstance(v, _IMMUTABLE) for v in items):
                break
            copied[name] = kind(value.items() if kind is dict else value)
        elif not isinstance(value, _IMMUTABLE + _FUNCTIONS):
            break
    else:
        cls = type(layer)
        if _plain(cls):
            out = cls.__new__(cls)             # what copy.copy does for a plain object
            vars(out).update(attrs)
        else:
            out = copy.copy(layer)
        vars(out).update(copied)
        vars(out).update(arrays)
        return out
    memo = {id(attrs[name]): arr for name, arr in arrays.items() if attrs.get(name) is not None}
    out = copy.deepcopy(layer, memo)
    vars(out).update(arrays)
    return out


def _cell_names(items):
    """Names as MATLAB displays a cell array of them: {'a', 'b'}."""
    return "{" + ", ".join(f"'{n}'" for n in items) + "}"


def _state_value(layer, name):
    return layer._state_value(name)


def _parameter_table(rows, setter, getter=getattr):
    getters = [lambda layer=layer, name=name: getter(layer, name) for layer, name in rows]
    setters = [lambda value, layer=layer, name=name: setter(layer, name, value)
               for layer, name in rows]
    return Table({"Layer": [layer.Name for layer, _ in rows],
                  "Parameter": [name for _, name in rows],
                  "Value": LiveColumn(getters, setters)})


def _set_learnable(layer, name, value):
    current = getattr(layer, name)
    shape = None if current is None else np.shape(current)
    setattr(layer, name, checked_array("Learnables", layer, name, value, shape))


def _set_state(layer, name, value):
    setattr(layer, name, layer._checked_state(name, value))


def check_runnable(func, net, several=False):
    """An initialized dlnetwork with every input connected.

    ``several``: the function runs networks with several inputs and outputs;
    otherwise the network must have one of each.
    """
    if not isinstance(net, DLNetwork):
        fail(func, f"`net` must be a dlnetwork. Received: {_show(net)}.", TypeError)
    if not net.Initialized:
        fail(func, "the dlnetwork is not initialized; call net = initialize(net) first.")
    inputs, outputs = net.InputNames, net.OutputNames
    if not inputs or not outputs:
        fail(func, f"the network must have an input layer and an output; it has inputs {inputs} "
                   f"and outputs {outputs}.")
    if not several and (len(inputs) != 1 or len(outputs) != 1):
        fail(func, f"lstmkit's {func} takes dlnetworks with one input and one output so far; "
                   f"this one has "
                   f"inputs {inputs} and outputs {outputs}.")
    if net._graph.unconnected:
        name, port = net._graph.unconnected[0]
        fail(func, f"the network has an unconnected input ({name}, input {port + 1}).")


def output_nodes(net):
    """Graph nodes of a network's outputs, in the order of its OutputNames."""
    index = {layer.Name: k for k, layer in enumerate(net._graph.layers)}
    return [index[name] for name in net.OutputNames]


def _check_layers(func, layers):
    for layer in layers:
        if layer.is_output:
            fail(func, f"dlnetwork does not take output layers; remove '{layer.Name}' "
                       f"({layer.type_name}) and give the loss to trainnet instead "
                       f"(\"crossentropy\" for classificationLayer, \"mse\" for regressionLayer).")


def _initialize_layers(func, graph):
    """Create every missing learnable from the sizes its inputs give (MATLAB's initialize),
    in single precision as MATLAB's (the initializers draw in float64, then round)."""
    if graph.unconnected:
        name, port = graph.unconnected[0]
        fail(func, f"the network has an unconnected input ({name}, input {port + 1}); connect "
                   f"it with connectLayers, or create the network with Initialize=False.")
    sizes = infer_sizes(func, graph)
    check_memory_budget(func, graph.layers, sizes.input_sizes, 1)
    rng = global_rng()
    for k, layer in enumerate(graph.layers):
        if layer.learnables:
            size = sizes.input_sizes[k]
            if size is None:
                fail(func, f"the input size of layer '{layer.Name}' is unknown, so its learnables "
                           f"cannot be initialized.")
            missing = [lb.name for lb in layer.learnables if getattr(layer, lb.name) is None]
            layer._initialize(size, rng)
            for name in missing:              # MATLAB initializes a dlnetwork in single
                value = getattr(layer, name)
                if isinstance(value, np.ndarray) and value.dtype == np.float64:
                    setattr(layer, name, value.astype(_GraphOfLayers._dtype))


@name_value_function()
def dlnetwork(layers: Sequence[Layer] | Layer | SeriesNetwork | None = None, *name_value: Any,
              Initialize: bool = True) -> DLNetwork:
    """Network for custom training and trainnet, as MATLAB's ``dlnetwork``.

    Parameters
    ----------
    layers : list of layers, optional
        Connected in order (MATLAB's layer array); branches are added with
        :func:`addLayers` and :func:`connectLayers`.  Without layers: an empty
        network (MATLAB R2024a's ``dlnetwork``).  Output layers
        (classificationLayer, regressionLayer) are an error: the loss is
        trainnet's argument.
    Initialize : bool, default True
        Initialize the learnables that are not set yet (weights given on the
        layers are kept).  ``False`` leaves them empty, for networks built in
        steps; call :func:`initialize` then.

    Returns
    -------
    DLNetwork

    Examples
    --------
    >>> from lstmkit import *
    >>> net = dlnetwork([sequenceInputLayer(12), lstmLayer(100, OutputMode="last"),
    ...                  fullyConnectedLayer(9), softmaxLayer()])
    >>> net.Initialized, net.InputNames, net.OutputNames
    (True, ['sequenceinput'], ['softmax'])
    >>> net.Learnables.Parameter[:3]
    ['InputWeights', 'RecurrentWeights', 'Bias']
    >>> net.Learnables.Value[0].shape
    (400, 12)
    """
    func = "dlnetwork"
    init = check_bool(func, "Initialize", Initialize)
    items = [] if layers is None else _as_layer_list(func, layers)
    name_layers(items, {layer.Name for layer in items if layer.Name})
    _check_layers(func, items)
    names = [layer.Name for layer in items]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate is not None:
        fail(func, f"layer names must be unique; '{duplicate}' is used more than once.")
    connections = []
    for a, b in zip(items[:-1], items[1:]):
        if b.is_input:
            continue
        connections.append((a.Name, b.Name))
    net = DLNetwork(items, connections)
    if init:
        _initialize_layers(func, net._graph)
    return net


def _check_network(func, net):
    if not isinstance(net, (DLNetwork, LayerGraph)):
        fail(func, f"`net` must be a dlnetwork or a layerGraph. Received: {_show(net)}.",
             TypeError)


@checked_call
def addLayers(net: DLNetwork, layers: Sequence[Layer] | Layer) -> DLNetwork:
    """Add layers to a network, as MATLAB's ``addLayers``.

    The new layers are connected to each other in order and to nothing else;
    connect them with :func:`connectLayers`.  Unnamed layers get MATLAB's
    automatic names.

    Parameters
    ----------
    net : DLNetwork
        The network (not modified).
    layers : layer or list of layers
        The layers to add.

    Returns
    -------
    DLNetwork

    Examples
    --------
    >>> from lstmkit import *
    >>> net = dlnetwork(Initialize=False)
    >>> net = addLayers(net, [sequenceInputLayer(3), lstmLayer(8, Name="lstm")])
    >>> net = addLayers(net, fullyConnectedLayer(2, Name="fc"))
    >>> net = connectLayers(net, "lstm", "fc")
    >>> net.Connections.Destination
    ['lstm', 'fc']
    """
    func = "addLayers"
    _check_network(func, net)
    new = _as_layer_list(func, layers)
    existing = [layer.Name for layer in net._layers]
    name_layers(new, set(existing) | {layer.Name for layer in new if layer.Name})
    if isinstance(net, DLNetwork):
        _check_layers(func, new)
    for layer in new:
        if layer.Name in existing:
            fail(func, f"the network already has a layer named '{layer.Name}'.")
    connections = list(net._connections)
    for a, b in zip(new[:-1], new[1:]):
        if not b.is_input:
            connections.append((a.Name, b.Name))
    return net._copy(list(net._layers) + new, connections, func)


def _check_layer_names(func, pairs):
    for arg, value in pairs:
        if not isinstance(value, str):
            fail(func, f"`{arg}` must be a layer name (str). Received: {_show(value)}.",
                 TypeError)


@checked_call
def connectLayers(net: DLNetwork, s: str, d: str) -> DLNetwork:
    """Connect the output of layer ``s`` to the input ``d`` (``"layer"`` or ``"layer/in2"``).

    Parameters
    ----------
    net : DLNetwork
        The network (not modified).
    s : str
        The source layer's name.
    d : str
        The destination: a layer name, or ``"name/port"`` for a layer with
        several inputs.

    Returns
    -------
    DLNetwork

    Examples
    --------
    >>> from lstmkit import *
    >>> net = dlnetwork([sequenceInputLayer(3, Name="in")], Initialize=False)
    >>> net = connectLayers(addLayers(net, lstmLayer(4, Name="lstm")), "in", "lstm")
    >>> net.Connections.Source
    ['in']
    """
    func = "connectLayers"
    _check_network(func, net)
    _check_layer_names(func, (("s", s), ("d", d)))
    return net._copy(connections=list(net._connections) + [(s, d)], func=func)


@checked_call
def disconnectLayers(net: DLNetwork, s: str, d: str) -> DLNetwork:
    """Remove the connection from ``s`` to ``d``, as MATLAB's ``disconnectLayers``.

    Parameters
    ----------
    net : DLNetwork
        The network (not modified).
    s, d : str
        Source and destination as in :func:`connectLayers`.

    Returns
    -------
    DLNetwork

    Examples
    --------
    >>> from lstmkit import *
    >>> net = dlnetwork([sequenceInputLayer(3, Name="in"), lstmLayer(4, Name="lstm")])
    >>> disconnectLayers(net, "in", "lstm").Connections.height
    0
    """
    func = "disconnectLayers"
    _check_network(func, net)
    _check_layer_names(func, (("s", s), ("d", d)))
    name, port = net._endpoint(d)

    def matches(a, b):
        b_name, b_port = net._endpoint(b)
        return a == s and b_name == name and (port is None or b_port is None or b_port == port)
    kept = [(a, b) for a, b in net._connections if not matches(a, b)]
    if len(kept) == len(net._connections):
        fail(func, f"the network has no connection from '{s}' to '{d}'.")
    return net._copy(connections=kept, func=func)


@checked_call
def removeLayers(net: DLNetwork, layerNames: str | Sequence[str]) -> DLNetwork:
    """Remove layers and their connections, as MATLAB's ``removeLayers``.

    Parameters
    ----------
    net : DLNetwork
        The network (not modified).
    layerNames : str or list of str
        The layers to remove.

    Returns
    -------
    DLNetwork

    Examples
    --------
    >>> from lstmkit import *
    >>> net = dlnetwork([sequenceInputLayer(3), lstmLayer(4), dropoutLayer(0.2)])
    >>> [layer.Name for layer in removeLayers(net, "dropout").Layers]
    ['sequenceinput', 'lstm']
    """
    func = "removeLayers"
    _check_network(func, net)
    if isinstance(layerNames, np.ndarray) and layerNames.ndim == 1:
        layerNames = layerNames.tolist()
    names = [layerNames] if isinstance(layerNames, str) else layerNames
    if not isinstance(names, (list, tuple)) or not names:
        fail(func, f"`layerNames` must be a layer name or a non-empty list of names (str). "
                   f"Received: {_show(layerNames)}.", TypeError)
    _check_layer_names(func, ((f"layerNames[{i}]", n) for i, n in enumerate(names)))
    present = {layer.Name for layer in net._layers}
    for name in names:
        if not isinstance(name, str) or name not in present:
            fail(func, f"the network has no layer {name!r}.")
    gone = set(names)

    layers = [layer for layer in net._layers if layer.Name not in gone]
    connections = [(a, b) for a, b in net._connections
                   if a not in gone and net._endpoint(b)[0] not in gone]
    return net._copy(layers, connections, func)


@checked_call
def initialize(net: DLNetwork) -> DLNetwork:
    """Initialize the learnables that are not set, as MATLAB's ``initialize``.

    Parameters
    ----------
    net : DLNetwork
        A network whose inputs are all connected (not modified).

    Returns
    -------
    DLNetwork
        The network with every learnable set; values already set are kept.

    Examples
    --------
    >>> from lstmkit import *
    >>> net = dlnetwork([sequenceInputLayer(3), gruLayer(5)], Initialize=False)
    >>> net.Initialized, initialize(net).Initialized
    (False, True)
    """
    func = "initialize"
    _check_network(func, net)
    out = net._copy(func=func)
    _initialize_layers(func, out._graph)
    return out


class LayerGraph(_GraphOfLayers):
    """A graph of layers for trainNetwork (MATLAB's ``layerGraph``; create it with :func:`layerGraph`).

    The same editing functions as a dlnetwork (:func:`addLayers`,
    :func:`connectLayers`, :func:`disconnectLayers`, :func:`removeLayers`,
    :func:`replaceLayer`) work on it, and it may hold an output layer:
    ``trainNetwork(X, Y, lgraph, options)`` trains it into a DAGNetwork.
    Its layers are not initialized until then.

    Attributes
    ----------
    Layers : LayerArray
    Connections : Table
    InputNames, OutputNames : list of str
    """

    @property
    def OutputNames(self):
        outputs = [layer.Name for layer in self._graph.layers if layer.is_output]
        return outputs or super().OutputNames

    def __repr__(self):
        n_conn = sum(len(srcs) for srcs in self._graph.sources)
        return (f"  LayerGraph with properties:\n\n"
                f"         Layers: [{len(self._graph)}×1 Layer]\n"
                f"    Connections: [{n_conn}×2 table]\n"
                f"     InputNames: {_cell_names(self.InputNames)}\n"
                f"    OutputNames: {_cell_names(self.OutputNames)}")


@checked_call
def layerGraph(layers: Sequence[Layer] | Layer | SeriesNetwork | None = None) -> LayerGraph:
    """A graph of layers, as MATLAB's ``layerGraph`` (connected in order).

    Parameters
    ----------
    layers : list of layers or SeriesNetwork, optional
        Connected one after another; without layers, an empty graph to fill
        with :func:`addLayers` and :func:`connectLayers`.

    Returns
    -------
    LayerGraph

    Examples
    --------
    >>> from lstmkit import *
    >>> lgraph = layerGraph([sequenceInputLayer(3, Name="in"), lstmLayer(8, Name="lstm"),
    ...                      additionLayer(2, Name="add"), fullyConnectedLayer(2),
    ...                      regressionLayer()])
    >>> lgraph = connectLayers(addLayers(lgraph, fullyConnectedLayer(8, Name="skip")),
    ...                        "in", "skip")
    >>> lgraph = connectLayers(lgraph, "skip", "add/in2")
    >>> lgraph.OutputNames
    ['regressionoutput']
    """
    func = "layerGraph"
    items = [] if layers is None else _as_layer_list(func, layers)
    name_layers(items, {layer.Name for layer in items if layer.Name})
    names = [layer.Name for layer in items]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate is not None:
        fail(func, f"layer names must be unique; '{duplicate}' is used more than once.")
    connections = [(a.Name, b.Name) for a, b in zip(items[:-1], items[1:]) if not b.is_input]
    return LayerGraph(items, connections, func)


@name_value_function()
def replaceLayer(net: DLNetwork | LayerGraph, layerName: str, larray: Sequence[Layer] | Layer,
                 *name_value: Any, ReconnectBy: Literal["name", "order"] = "name"
                 ) -> DLNetwork | LayerGraph:
    """Replace a layer by a layer or a chain of layers, as MATLAB's ``replaceLayer``.

    Parameters
    ----------
    net : DLNetwork or LayerGraph
        Not modified.
    layerName : str
        The layer to replace.
    larray : layer or list of layers
        Connected in order; the replaced layer's inputs go to the first, its
        outputs come from the last.
    ReconnectBy : {'name', 'order'}, default 'name'
        How the replaced layer's input ports map to the first new layer's:
        by port name, or by position.

    Returns
    -------
    DLNetwork or LayerGraph

    Examples
    --------
    >>> from lstmkit import *
    >>> net = dlnetwork([sequenceInputLayer(3), lstmLayer(8), reluLayer(), fullyConnectedLayer(2)])
    >>> net = replaceLayer(net, "relu", geluLayer())
    >>> [layer.Name for layer in net.Layers]
    ['sequenceinput', 'lstm', 'gelu', 'fc']
    """
    func = "replaceLayer"
    _check_network(func, net)
    by = check_choice(func, "ReconnectBy", ReconnectBy, ("name", "order"))
    names = {layer.Name: layer for layer in net._layers}
    if not isinstance(layerName, str) or layerName not in names:
        fail(func, f"the network has no layer {layerName!r}.")
    new = _as_layer_list(func, larray, name="larray")
    taken = (set(names) - {layerName}) | {layer.Name for layer in new if layer.Name}
    name_layers(new, taken)
    if isinstance(net, DLNetwork):
        _check_layers(func, new)
    for layer in new:
        if layer.Name in set(names) - {layerName}:
            fail(func, f"the network already has a layer named '{layer.Name}'.")
    old = names[layerName]
    old_ports = list(getattr(old, "InputNames", ("in",)))
    new_ports = list(getattr(new[0], "InputNames", ("in",)))
    connections = []
    for a, b in net._connections:
        b_name, port = net._endpoint(b)
        if a == layerName:
            a = new[-1].Name
        if b_name == layerName:
            index = 0 if port is None else port if isinstance(port, int) else \
                old_ports.index(port) if port in old_ports else 0
            if by == "name":
                port_name = old_ports[index]
                target = port_name if port_name in new_ports else None
            else:
                target = new_ports[index] if index < len(new_ports) else None
            if target is None:
                fail(func, f"layer '{new[0].Name}' has no input for the connection {a!r} -> "
                           f"{b!r} (its inputs: {', '.join(new_ports)}).")
            b = new[0].Name if len(new_ports) == 1 else f"{new[0].Name}/{target}"
        connections.append((a, b))
    connections += [(x.Name, y.Name) for x, y in zip(new[:-1], new[1:]) if not y.is_input]
    layers = []
    for layer in net._layers:
        layers.extend(new if layer.Name == layerName else [layer])
    return net._copy(layers, connections, func)
