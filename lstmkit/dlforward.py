"""``forward(net, X)`` on dlarrays inside dlfeval: one recorded operation, the network's own passes.

The network runs forward in training mode on the dlarray's observations (all
of one length, as a padded MATLAB batch: the padding is data to the network,
as in MATLAB), keeping what its backward pass needs; the output is a
dlarray ('CBT' for sequence output, 'CB' otherwise) recorded with the
network's learnables as parents.  Its vector-Jacobian product is one run of
the network's backward pass (:meth:`lstmkit.graph.Graph.backward`, the
layers' own kernels: no second implementation of any layer), shared by all
the learnables (and X, whose gradient is the input layers' gradient times
the normalization's factor).  Inside dlfeval, ``net.Learnables`` is a table of traced
dlarrays, so ``dlgradient(loss, net.Learnables)`` returns the gradients as a
table of the same layout, as MATLAB does.
"""

from __future__ import annotations

import numpy as np

from . import autodiff
from ._packing import uniform_batch
from ._validation import fail
from .dlarrays import DLArray, _result
from .network import compute_nodes, infer_sizes, initial_states, network_output
from .table import Table


def trace_network(net, tape):
    """Make ``net``'s learnables traced leaves on ``tape`` (dlfeval's argument)."""
    leaves = []
    for layer in net._graph.layers:
        for lb in layer.learnables:
            value = np.asarray(getattr(layer, lb.name), dtype=net._dtype)
            leaves.append((layer, lb.name, DLArray(value.copy(), "", autodiff.leaf(tape))))
    net._trace = (tape, leaves)


def untrace_network(net):
    net.__dict__.pop("_trace", None)


def traced_learnables(net):
    """The Learnables table of a traced network (None when not traced by the running dlfeval)."""
    trace = net.__dict__.get("_trace")
    if trace is None or trace[0] is not autodiff.current_tape():
        return None
    leaves = trace[1]
    return Table({"Layer": [layer.Name for layer, _, _ in leaves],
                  "Parameter": [name for _, name, _ in leaves],
                  "Value": [leaf for _, _, leaf in leaves]})


def _observations(func, X):
    """The dlarray's data as a C-by-N-by-T array (T = 1 without a time dimension), and
    whether it has a time dimension."""
    fmt = X._fmt
    if not fmt:
        fail(func, "X must be a formatted dlarray (such as dlarray(X, 'CBT')) inside dlfeval.")
    if set(fmt) - set("CBT"):
        fail(func, f"forward takes dlarrays of formats 'CB', 'CBT', 'CT' here. Received: "
                   f"{fmt!r}.")
    x = X._data                                   # stored in C, B, T order
    if "B" not in fmt:
        x = np.expand_dims(x, 1)
    if "T" not in fmt:
        x = np.expand_dims(x, 2)
    return x, "T" in fmt


def traced_forward(func, net, X, nargout, training=True):
    """forward(net, X) (or predict, ``training=False``) with X a formatted dlarray.

    Returns Y (and, with ``nargout=2``, the state table).  predict's output is
    recorded too, but a gradient through it is an error (MATLAB differentiates
    predict; lstmkit's layers keep what a backward pass needs only in forward).
    The dlarray's observations all have its T steps: they are packed as one
    array (:func:`lstmkit._packing.uniform_batch`), not one by one.
    """
    from .dlpredict import _state_table
    from .layers.recurrent import RecurrentLayer
    graph = net._graph
    dtype = net._dtype
    inputs = [k for k, layer in enumerate(graph.layers) if layer.is_input]
    if len(inputs) != 1:
        fail(func, "forward on dlarrays inside dlfeval takes networks with one input here.")
    x, timed = _observations(func, X)
    layer_in = graph.layers[inputs[0]]
    if timed != bool(layer_in._outputs_sequence(True)):
        fail(func, f"X has format {X._fmt!r} but the input layer '{layer_in.Name}' takes "
                   f"{'sequences (a T dimension)' if not timed else 'features (no T dimension)'}.")
    C, N, T = x.shape
    expected = getattr(layer_in, "InputSize", None)
    if isinstance(expected, (int, np.integer)) and C != expected:
        fail(func, f"X has {C} channels (its 'C' dimension, format {X._fmt!r}, size "
                   f"{'x'.join(map(str, X.shape))}) but the input layer '{layer_in.Name}' takes "
                   f"{expected}.")
    if N == 0 or T == 0:
        fail(func, f"X has no {'observations' if N == 0 else 'time steps'} (format "
                   f"{X._fmt!r}, size {'x'.join(map(str, X.shape))}).")
    batch = uniform_batch(N, T)
    values = {inputs[0]: layer_in._pack(batch, x, dtype)}
    states = initial_states(graph, batch.order, dtype)
    nodes = compute_nodes(graph)
    node_batches = {}
    caches, new_states = graph.forward(values, batch, states, training, dtype, nodes,
                                       node_batches)
    out = network_output(graph)
    y = values[out]
    out_batch = node_batches.get(out, batch)
    sequence = bool(infer_sizes(func, graph).output_is_sequence[out])
    order = batch.order
    if sequence:                      # one length in, one length out (strides keep it so)
        Y = out_batch.unpack_uniform(y)
        fmt = "CBT"
    else:
        Y = np.empty((y.shape[1], N), dtype)
        Y[:, order] = y.T
        fmt = "CB"
    trace = net.__dict__.get("_trace")
    leaves = trace[1] if trace is not None and trace[0] is autodiff.current_tape() else []
    shared = {}

    def run_backward(g):
        if "grads" not in shared:
            g = np.asarray(g, dtype)
            if sequence:
                dy = out_batch.pack(g, dtype)
            else:
                dy = np.ascontiguousarray(g[:, order].T)
            grads = [{lb.name: np.zeros(np.shape(getattr(layer, lb.name)), dtype)
                      for lb in layer.learnables} for layer in graph.layers]
            at_inputs = graph.backward({out: dy}, caches, grads, nodes,
                                       input_grads=shared.get("need_dx", X._node is not None))
            shared["grads"] = grads
            shared["dx"] = at_inputs.get(inputs[0])
        return shared["grads"]

    def input_vjp(g):
        run_backward(g)
        dx = shared["dx"]                              # packed rows, sorted, normalized space
        if dx is None:
            return np.zeros(X.shape, X.dtype)
        dx = np.asarray(dx, np.float64) * layer_in._input_scale().reshape(1, -1)
        return _to_format(batch.unpack_uniform(dx), timed, X)

    index = {id(layer): k for k, layer in enumerate(graph.layers)}
    if training:
        parents = [(leaf, _learnable_vjp(run_backward, index[id(layer)], name))
                   for layer, name, leaf in leaves]
    else:
        parents = [(leaf, _no_predict_gradient) for _, _, leaf in leaves]
    if X._node is not None:
        parents.append((X, input_vjp if training else _no_predict_gradient))
    result = _result(Y, fmt, parents)
    if result._node is not None and X._node is not None:
        # X's gradient only when a target lies behind it (dlgradient(loss, net.Learnables)
        # does not ask for it: the backward pass then skips the input layers' products)
        # (X is the last parent; the hook must not refer to the result: no reference cycle)
        result._node.plan = lambda needed: shared.__setitem__("need_dx", needed[-1])
    if nargout < 2:
        return result
    final = {}
    for k, layer in enumerate(graph.layers):
        if isinstance(layer, RecurrentLayer) and k in new_states:
            final[k] = tuple(_caller_order(s, order) for s in new_states[k])
    return result, _state_table(net, final)


def _learnable_vjp(run_backward, node, name):
    """The product for one learnable: its part of the network's (shared) backward pass."""
    return lambda g: run_backward(g)[node][name]


def _caller_order(rows, order):
    out = np.empty_like(rows)
    out[order] = rows
    return out


def _no_predict_gradient(g):
    fail("dlgradient", "gradients through predict(net, X) are not supported; call forward(net, "
                       "X) in the model-loss function.", TypeError)


def _to_format(full, timed, X):
    """A C-by-N-by-T gradient (T = 1 for features) in the layout of X's data."""
    fmt = X._fmt
    base = "CBT" if timed else "CB"
    data = full if timed else full[:, :, 0]
    if "B" not in fmt:                                 # one observation: 'CT' or 'C'
        data = data[:, 0]
        base = base.replace("B", "")
    return np.transpose(data, [base.index(c) for c in fmt]).reshape(X.shape)


def gradient_table(table, grads):
    """A Learnables-layout table whose Value column holds ``grads``."""
    return Table({"Layer": list(table.Layer), "Parameter": list(table.Parameter),
                  "Value": list(grads)})
