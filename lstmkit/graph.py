"""The network engine: layers connected as a directed acyclic graph, run in topological order.

Every network lstmkit runs is a :class:`Graph`: a ``SeriesNetwork`` is the
chain of its layers, and networks with branches are built from connections
(MATLAB's ``connectLayers(net, "a", "b/in2")``).  One forward pass and one
backward pass serve training and prediction:

* :meth:`Graph.forward` runs a set of nodes in topological order; a node
  receives its sources' outputs (one array, or a list for a layer with several
  inputs) and the mini-batch structure, and returns its output, a cache for
  the backward pass and its new state (recurrent layers);
* :meth:`Graph.backward` runs the same nodes in reverse order from the
  gradients of some nodes' outputs (the seeds), sums the gradients of an
  output that feeds several consumers, and writes each layer's parameter
  gradients where the solver reads them.

Layers see packed data (:mod:`lstmkit._packing`): nodes before a recurrent
layer with ``OutputMode='last'`` carry S rows (every time step), nodes after it
N rows (one per sequence); a layer's ``_outputs_sequence`` says which.
"""

from __future__ import annotations

from ._validation import fail


class HostRunner:
    """How the graph runs a layer: its own forward and backward passes, on host arrays.

    The GPU's runner (:class:`lstmkit.training.device.DeviceRunner`) has the
    same three methods and runs the layers it has kernels for on the device.
    """

    @staticmethod
    def forward(node, layer, x, batch, state, training, dtype):
        return layer._forward(x, batch, state, training, dtype)

    @staticmethod
    def backward(node, layer, dy, cache, grads, need_dx):
        return layer._backward(dy, cache, grads, need_dx)

    @staticmethod
    def add(a, b):
        """Two gradients reaching one node's output (fan-out)."""
        return a + b

    @staticmethod
    def host(a):
        """A layer's output as a host array (it is one)."""
        return a


HOST = HostRunner()


def split_port(destination):
    """``"name/in2"`` -> ``("name", "in2")``; ``"name"`` -> ``("name", None)``.

    The port is what follows the last ``/``, so layer names may hold ``/``
    (ONNX node names do); a destination that is a layer's whole name has no port.
    """
    name, slash, port = str(destination).rpartition("/")
    return (name, port or None) if slash else (str(destination), None)


class Graph:
    """Layers and the connections between them, in topological order.

    Parameters
    ----------
    layers : list of Layer
        Named layers (names unique).
    connections : list of (str, str), optional
        ``(source, destination)`` pairs of layer names; a destination may name
        an input port, ``"layer/in2"`` (a layer's ports are its ``InputNames``).
        None connects the layers as a chain, in list order.
    func : str
        The public function, for error messages.

    Attributes
    ----------
    layers : list of Layer
        The layers in a topological order (the list order when it is one).
    sources : list of list of int
        ``sources[k]``: the nodes feeding node k, in the order of its input
        ports.
    consumers : list of list of (int, int)
        ``consumers[k]``: ``(node, port)`` of every input node k feeds.
    """

    def __init__(self, layers, connections=None, func="network"):
        names = [layer.Name for layer in layers]
        index = {name: k for k, name in enumerate(names)}
        if len(index) != len(names):
            fail(func, "layer names must be unique.")
        wired = [[None] * _num_inputs(layer) for layer in layers]
        if connections is None:   # a chain: wired by position (names may hold any character)
            for k in range(1, len(layers)):
                if wired[k]:      # an input layer inside an array takes nothing (its checks say so)
                    wired[k][0] = k - 1
            connections = ()
        for source, destination in connections:
            dst_name, port = ((destination, None) if destination in index
                              else split_port(destination))
            for name in (source, dst_name):
                if name not in index:
                    fail(func, f"the connection {source!r} -> {destination!r} names no layer "
                               f"{name!r}.")
            s, d = index[source], index[dst_name]
            ports = list(getattr(layers[d], "InputNames", ("in",)))
            if port is None:
                free = [p for p in range(len(wired[d])) if wired[d][p] is None]
                if not free:
                    fail(func, f"layer {dst_name!r} has no free input for {source!r}.")
                p = free[0]
            elif port in ports:
                p = ports.index(port)
            else:
                fail(func, f"layer {dst_name!r} has no input {port!r}; its inputs: "
                           f"{', '.join(ports)}.")
            if wired[d][p] is not None:
                fail(func, f"input {dst_name}/{ports[p]} is connected twice.")
            wired[d][p] = s
        order = _topological_order(func, names, wired)
        position = {old: new for new, old in enumerate(order)}
        self.layers = [layers[k] for k in order]
        self.sources = [[position[s] for s in wired[k] if s is not None] for k in order]
        self.unconnected = [(layers[k].Name, p) for k in order
                            for p, s in enumerate(wired[k]) if s is None]
        self.consumers = [[] for _ in self.layers]
        for k, srcs in enumerate(self.sources):
            for p, s in enumerate(srcs):
                self.consumers[s].append((k, p))

    def __len__(self):
        return len(self.layers)

    def index(self, name):
        """Node index of the layer called ``name``."""
        for k, layer in enumerate(self.layers):
            if layer.Name == name:
                return k
        raise KeyError(name)

    # -- computation -----------------------------------------------------------------------
    def forward(self, values, batch, states, training, dtype, nodes, batches=None,
                runner=None):
        """Run ``nodes`` (node indices, in topological order).

        ``values`` maps node -> output for the nodes already computed (the
        input layers' packed data) and receives every new output; ``states``
        maps node -> state to start from (absent: the layer's initial state).
        ``batch`` is the input's :class:`~lstmkit._packing.PackedBatch`; a
        layer that changes sequence lengths gives the layers after it its own
        (``layer._output_batch``), and ``batches`` (a dict, optional) receives
        every node's.  ``runner`` runs each layer (default :data:`HOST`, the
        layers' own passes; the GPU's puts some layers on the device).
        Returns ``(caches, new_states)``, dicts keyed by node.
        """
        runner = runner or HOST
        caches, new_states = {}, {}
        if batches is None:
            batches = {}
        for k in nodes:
            srcs = self.sources[k]
            x = values[srcs[0]] if len(srcs) == 1 else [values[s] for s in srcs]
            in_batch = batches.get(srcs[0], batch) if srcs else batch
            layer = self.layers[k]
            y, cache, state = runner.forward(k, layer, x, in_batch, states.get(k), training,
                                             dtype)
            values[k] = y
            caches[k] = cache
            new_states[k] = state
            out_batch = layer._output_batch(in_batch)
            if out_batch is not batch:
                batches[k] = out_batch
        return caches, new_states

    def backward(self, seeds, caches, grads, nodes, runner=None, input_grads=False):
        """Backpropagate through ``nodes`` (the forward pass's, in topological order).

        ``seeds`` maps node -> gradient of that node's output (a node after the
        last one backpropagated, e.g. the input of a fused softmax loss, or a
        node in ``nodes``); ``grads[k]`` (a list or dict by node) maps
        learnable name -> the array the layer writes its gradient into.  Gradients are not computed for the
        inputs of nodes outside ``nodes`` (the input layers), unless ``input_grads``: then
        the gradients of the input layers' (normalized) outputs are returned, a dict by
        input node.
        """
        runner = runner or HOST
        inside = set(nodes)
        if input_grads:
            inside |= {k for k, layer in enumerate(self.layers) if getattr(layer, "is_input", False)}
        pending = dict(seeds)
        for k in reversed(nodes):
            dy = pending.pop(k, None)
            if dy is None:
                continue   # this node does not reach the loss
            srcs = self.sources[k]
            need = [s in inside for s in srcs]
            dx = runner.backward(k, self.layers[k], dy, caches[k], grads[k], any(need))
            if not any(need):
                continue
            parts = [dx] if len(srcs) == 1 else dx
            for s, part, wanted in zip(srcs, parts, need):
                if wanted and part is not None:
                    pending[s] = part if s not in pending else runner.add(pending[s], part)
        return {k: g for k, g in pending.items() if getattr(self.layers[k], "is_input", False)}


def _num_inputs(layer):
    return int(getattr(layer, "NumInputs", 1)) if not getattr(layer, "is_input", False) else 0


def _topological_order(func, names, wired):
    """Kahn's algorithm, stable: ties keep the list order.  A cycle is an error."""
    n = len(names)
    indegree = [sum(s is not None for s in wired[k]) for k in range(n)]
    children = [[] for _ in range(n)]
    for k in range(n):
        for s in wired[k]:
            if s is not None:
                children[s].append(k)
    ready = [k for k in range(n) if indegree[k] == 0]
    order = []
    while ready:
        k = min(ready)
        ready.remove(k)
        order.append(k)
        for c in children[k]:
            indegree[c] -= 1
            if indegree[c] == 0:
                ready.append(c)
    if len(order) != n:
        stuck = [names[k] for k in range(n) if k not in set(order)]
        fail(func, f"the connections form a cycle through {', '.join(map(repr, stuck[:5]))}; a "
                   f"network must be a directed acyclic graph.")
    return order
