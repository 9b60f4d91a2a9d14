"""importONNXNetwork and importNetworkFromONNX: an ONNX sequence model as an lstmkit network.

The importer reads the graph operator by operator (ONNX graphs are in
topological order), keeping track of what each tensor is (network data and
its layout, indices, shapes, sequence-length masks), and turns the operators
on network data into layers and connections, so a model that branches and
merges imports as a graph:

==============================================  =====================================
ONNX                                            lstmkit
==============================================  =====================================
``Sub`` / ``Div`` / ``Mul`` by constants        input layer normalization
(on the input)
``LSTM`` (forward or bidirectional)             lstmLayer / bilstmLayer
``GRU``                                         gruLayer (ResetGateMode from
                                                ``linear_before_reset`` and ``Rb``)
``Gemm``; ``MatMul`` + ``Add``                  fullyConnectedLayer
``Softmax`` (channel axis)                      softmaxLayer
``Relu``, ``LeakyRelu``, ``Elu``, ``Clip``,     the activation layers; ``x * Sigmoid(x)``
``Tanh``, ``Sigmoid``                           swishLayer, the erf and tanh GELU
                                                formulas geluLayer
``LayerNormalization``, ``BatchNormalization``, the normalization layers
per-channel ``Mul`` + ``Add``
``Conv``, ``MaxPool``, ``AveragePool`` (1-D,    convolution1dLayer, maxPooling1dLayer,
on N-C-T data)                                  averagePooling1dLayer
``GlobalAveragePool``, ``GlobalMaxPool``,       globalAveragePooling1dLayer,
``ReduceMean`` / ``ReduceMax`` over time, a     globalMaxPooling1dLayer
masked ``ReduceSum`` divided by the lengths
``Add``, ``Mul``, ``Concat`` of two branches    additionLayer, multiplicationLayer,
                                                concatenationLayer
``Gather`` of the last time step                OutputMode 'last', or indexing1dLayer;
                                                ``GatherElements`` by the lengths:
                                                indexing1dLayer('last')
``Gather`` from a constant table by indices     wordEmbeddingLayer
computed from the input
a constant table sliced to the sequence         positionEmbeddingLayer
length and expanded over the batch
Q/K/V ``MatMul`` + ``Add``, heads, scaled       selfAttentionLayer (AttentionMask
``MatMul``, masks, ``Softmax``, output          'causal' from its mask)
projection (lstmkit's export)
``Dropout``, ``Identity``, ``Squeeze``,         (layout only: no layer)
``Unsqueeze``, ``Transpose``, ``Reshape``,
``Flatten``, ``Cast``
==============================================  =====================================

It reads the graphs lstmkit's :func:`exportONNXNetwork` writes (the
operators that use the ``sequence_lengths`` input are masks, which lstmkit
does not need: it never pads), the layout of MATLAB's ``exportONNXNetwork``
(one ``LSTM`` node with initial states as constants, ``Y_h`` for 'last',
``Y`` + ``Squeeze`` for 'sequence') and what ``torch.onnx.export`` writes for
``nn.LSTM`` / ``nn.GRU`` + ``nn.Linear`` models (biases ``b_ih`` and
``b_hh`` summed).  Any other operator on network data is an error that names
it (among them attention written in another form: a ``MatMul`` of two
computed tensors).  Initial states that are graph inputs become zero states (set
HiddenState/CellState on the layers to use others).
"""

from __future__ import annotations

import json
import os
from typing import Any, Literal, Sequence

import numpy as np

from .._validation import checked_call, _show, check_choice, fail, name_value_function
from ..dlnetwork import DLNetwork, LayerGraph, _initialize_layers
from ..network import SeriesNetwork
from ..layers.activations import (clippedReluLayer, eluLayer, geluLayer, leakyReluLayer,
                                  reluLayer, sigmoidLayer, swishLayer, tanhLayer)
from ..layers.attention import positionEmbeddingLayer, selfAttentionLayer
from ..layers.convolution import (averagePooling1dLayer, convolution1dLayer,
                                  globalAveragePooling1dLayer, globalMaxPooling1dLayer,
                                  indexing1dLayer, maxPooling1dLayer)
from ..layers.embedding import wordEmbeddingLayer
from ..layers.merge import additionLayer, concatenationLayer, multiplicationLayer
from ..layers.bilstm import bilstmLayer
from ..layers.normalization import batchNormalizationLayer, layerNormalizationLayer
from ..layers.fully_connected import fullyConnectedLayer
from ..layers.gru import gruLayer
from ..layers.lstm import lstmLayer
from ..layers.output import check_classes, classificationLayer, regressionLayer
from ..layers.sequence_input import featureInputLayer, sequenceInputLayer
from ..layers.softmax import SoftmaxLayer, softmaxLayer
from ..prediction import assembleNetwork
from .onnx_export import gru_rows_to_onnx, lstm_rows_to_onnx, need_onnx

FUNC = "importONNXNetwork"
_LAYOUT_OPS = {"Dropout", "Identity", "Squeeze", "Unsqueeze", "Transpose", "Reshape", "Flatten",
               "Cast"}
_GATES = {"Sigmoid": "sigmoid", "HardSigmoid": "hard-sigmoid"}
_STATES = {"Tanh": "tanh", "Softsign": "softsign"}


class _Model:
    """Graph lookups: constants, producers, consumers."""

    def __init__(self, onnx, model):
        self.onnx = onnx
        g = model.graph
        self.graph = g
        self.consts = {t.name: onnx.numpy_helper.to_array(t) for t in g.initializer}
        self.producer = {}
        self.consumers = {}
        for node in g.node:
            for out in node.output:
                self.producer[out] = node
            for inp in node.input:
                if inp:
                    self.consumers.setdefault(inp, []).append(node)
        self.inputs = [i for i in g.input if i.name not in self.consts]
        self.output_names = {o.name for o in g.output}

    def attr(self, node, name, default=None):
        for a in node.attribute:
            if a.name == name:
                return self.onnx.helper.get_attribute_value(a)
        return default

    def value(self, name):
        """Constant value of tensor ``name`` (initializer, Constant, simple folds), or None."""
        if not name:
            return None
        if name in self.consts:
            return self.consts[name]
        node = self.producer.get(name)
        if node is None:
            return None
        if node.op_type == "Constant":
            return self.onnx.numpy_helper.to_array(self.attr(node, "value"))
        if node.op_type in ("Identity", "Cast"):
            return self.value(node.input[0])
        if node.op_type == "ConstantOfShape":
            fill = self.attr(node, "value")
            return None if fill is None else self.onnx.numpy_helper.to_array(fill).reshape(-1)[:1]
        if node.op_type == "Expand":
            return self.value(node.input[0])  # broadcast later
        if node.op_type in ("Unsqueeze", "Squeeze"):
            return self.value(node.input[0])
        return None


def _f64(a):
    return np.asarray(a, dtype=np.float64)


def _state_value(m, name, D, H):
    """A (D*H)-by-1 initial state from an ONNX state input, or None for zeros."""
    if not name:
        return None
    v = m.value(name)
    if v is None:
        if any(i.name == name for i in m.inputs):
            return None  # a graph input: imported as a zero state
        fail(FUNC, f"the initial state '{name}' is computed by operators lstmkit cannot fold.")
    v = _f64(v)
    if v.size == 1:
        v = np.full((D, 1, H), float(v.reshape(-1)[0]))
    v = v.reshape(D, -1, H)
    if not np.all(v == v[:, :1]):
        fail(FUNC, f"the initial state '{name}' differs between batch entries; lstmkit stores "
                   f"one initial state for all observations.")
    if not np.any(v):
        return None
    return np.concatenate([v[d, 0] for d in range(D)]).reshape(-1, 1)


def _activations(m, node, count):
    acts = m.attr(node, "activations")
    if acts is None:
        return "sigmoid", "tanh"
    acts = [a.decode() if isinstance(a, bytes) else a for a in acts]
    gate, state = acts[0], acts[1]
    if gate not in _GATES or state not in _STATES or len(set(acts[1:count])) > 1:
        fail(FUNC, f"{node.op_type} node '{node.name}' uses activations {acts}; lstmkit supports "
                   f"gate Sigmoid/HardSigmoid and state Tanh/Softsign.")
    if gate == "HardSigmoid":
        alpha = m.attr(node, "activation_alpha", [0.2])[0]
        beta = m.attr(node, "activation_beta", [0.5])[0]
        if not (np.isclose(alpha, 0.2) and np.isclose(beta, 0.5)):
            fail(FUNC, f"HardSigmoid with alpha={alpha}, beta={beta} differs from MATLAB's "
                       f"hard sigmoid (0.2, 0.5).")
    return _GATES[gate], _STATES[state]


def _check_recurrent_sizes(node, W, R, D, G, H):
    """The weights must be what hidden_size says, checked before anything is made from it."""
    if H < 1 or W.ndim != 3 or R.ndim != 3 or W.shape[:2] != (D, G * H) or \
            R.shape != (D, G * H, H):
        fail(FUNC, f"{node.op_type} node '{node.name}' has hidden_size {H} but weights W of size "
                   f"{W.shape} and R of size {R.shape}; they must be {(D, G * H, 'C')} and "
                   f"{(D, G * H, H)}.")


def _lstm_layer(m, node):
    if m.attr(node, "clip") is not None:
        fail(FUNC, f"LSTM node '{node.name}' uses 'clip', which lstmkit does not support.")
    if m.attr(node, "layout", 0) != 0:
        fail(FUNC, f"LSTM node '{node.name}' uses layout=1 (batch-major); export it time-major.")
    direction = m.attr(node, "direction", b"forward")
    direction = direction.decode() if isinstance(direction, bytes) else direction
    if direction == "reverse":
        fail(FUNC, f"LSTM node '{node.name}' runs in reverse only; lstmkit has forward and "
                   f"bidirectional recurrent layers.")
    D = 2 if direction == "bidirectional" else 1
    H = int(m.attr(node, "hidden_size"))
    W, R = m.value(node.input[1]), m.value(node.input[2])
    if W is None or R is None:
        fail(FUNC, f"LSTM node '{node.name}': its weights are not constants.")
    W, R = _f64(W), _f64(R)
    _check_recurrent_sizes(node, W, R, D, 4, H)
    B = m.value(node.input[3]) if len(node.input) > 3 else None
    B = np.zeros((D, 8 * H)) if B is None else _f64(B)
    if B.shape != (D, 8 * H):
        fail(FUNC, f"LSTM node '{node.name}' has biases of size {B.shape}; hidden_size {H} "
                   f"needs {(D, 8 * H)}.")
    P = m.value(node.input[7]) if len(node.input) > 7 else None
    coupled = bool(m.attr(node, "input_forget", 0))
    order = np.argsort(lstm_rows_to_onnx(H))        # ONNX i, o, f, c -> MATLAB i, f, g, o
    Ws, Rs, bs = [], [], []
    for d in range(D):
        w, r = W[d][order], R[d][order]
        b = (B[d, :4 * H] + B[d, 4 * H:])[order]    # PyTorch exports b_ih and b_hh
        if coupled:  # ONNX Runtime: f = 1 - i; lstmkit: i = 1 - f, with f = g(-z_i)
            w[H:2 * H], r[H:2 * H], b[H:2 * H] = -w[:H], -r[:H], -b[:H]
        Ws.append(w)
        Rs.append(r)
        bs.append(b)
    gate, state = _activations(m, node, 3)
    opts = dict(InputWeights=np.vstack(Ws), RecurrentWeights=np.vstack(Rs),
                Bias=np.concatenate(bs), GateActivationFunction=gate,
                StateActivationFunction=state, Name=node.name or "")
    h0 = _state_value(m, node.input[5] if len(node.input) > 5 else "", D, H)
    c0 = _state_value(m, node.input[6] if len(node.input) > 6 else "", D, H)
    if h0 is not None:
        opts["HiddenState"] = h0
    if c0 is not None:
        opts["CellState"] = c0
    if D == 2:
        if P is not None and np.any(P):
            fail(FUNC, f"LSTM node '{node.name}': peepholes on a bidirectional LSTM are not "
                       f"supported.")
        return lambda mode: bilstmLayer(H, OutputMode=mode, **opts)
    if P is not None and np.any(P):
        p = _f64(P).reshape(-1)                      # ONNX i, o, f -> lstmkit i, f, o
        pi, po, pf = p[:H], p[H:2 * H], p[2 * H:]
        if coupled:
            pf = -pi
        opts.update(HasPeepholes=True, PeepholeWeights=np.concatenate([pi, pf, po]))
    if coupled:
        opts["CoupledInputForget"] = True
    return lambda mode: lstmLayer(H, OutputMode=mode, **opts)


def _gru_layer(m, node):
    if m.attr(node, "clip") is not None or m.attr(node, "layout", 0) != 0:
        fail(FUNC, f"GRU node '{node.name}' uses 'clip' or layout=1, which lstmkit does not "
                   f"support.")
    direction = m.attr(node, "direction", b"forward")
    direction = direction.decode() if isinstance(direction, bytes) else direction
    if direction != "forward":
        fail(FUNC, f"GRU node '{node.name}' is {direction}; lstmkit's gruLayer is forward only.")
    H = int(m.attr(node, "hidden_size"))
    W, R = m.value(node.input[1]), m.value(node.input[2])
    if W is None or R is None:
        fail(FUNC, f"GRU node '{node.name}': its weights are not constants.")
    _check_recurrent_sizes(node, _f64(W), _f64(R), 1, 3, H)
    order = np.argsort(gru_rows_to_onnx(H))        # ONNX z, r, h -> MATLAB r, z, h
    W, R = _f64(W)[0][order], _f64(R)[0][order]
    B = m.value(node.input[3]) if len(node.input) > 3 else None
    B = np.zeros(6 * H) if B is None else _f64(B).reshape(-1)
    if B.size != 6 * H:
        fail(FUNC, f"GRU node '{node.name}' has {B.size} biases; hidden_size {H} needs "
                   f"{6 * H}.")
    Wb, Rb = B[:3 * H][order], B[3 * H:][order]
    lbr = bool(m.attr(node, "linear_before_reset", 0))
    if not lbr:
        mode, bias = "before-multiplication", Wb + Rb
    elif not np.any(Rb[2 * H:]):
        mode, bias = "after-multiplication", Wb + np.concatenate([Rb[:2 * H], np.zeros(H)])
    else:
        mode, bias = "recurrent-bias-after-multiplication", np.concatenate([Wb, Rb])
    gate, state = _activations(m, node, 2)
    opts = dict(InputWeights=W, RecurrentWeights=R, Bias=bias, ResetGateMode=mode,
                GateActivationFunction=gate, StateActivationFunction=state,
                Name=node.name or "")
    h0 = _state_value(m, node.input[5] if len(node.input) > 5 else "", 1, H)
    if h0 is not None:
        opts["HiddenState"] = h0
    return lambda out_mode: gruLayer(H, OutputMode=out_mode, **opts)


@name_value_function()
def _elementwise_layer(m, node, op):
    """The layer of an activation or normalization operator, or None."""
    name = node.name or ""
    if op == "Relu":
        return reluLayer(Name=name)
    if op == "Tanh":
        return tanhLayer(Name=name)
    if op == "Sigmoid":
        return sigmoidLayer(Name=name)
    if op == "LeakyRelu":
        return leakyReluLayer(m.attr(node, "alpha", 0.01), Name=name)
    if op == "Elu":
        return eluLayer(m.attr(node, "alpha", 1.0), Name=name)
    if op == "Clip":
        lo = m.value(node.input[1]) if len(node.input) > 1 and node.input[1] else None
        hi = m.value(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        if lo is None or hi is None or np.size(lo) != 1 or np.size(hi) != 1 or \
                float(np.ravel(lo)[0]) != 0:
            fail(FUNC, f"Clip node '{node.name}' is not a clipped ReLU (minimum 0, a constant "
                       f"maximum).")
        return clippedReluLayer(float(np.ravel(hi)[0]), Name=name)
    if op == "LayerNormalization":
        if m.attr(node, "axis", -1) not in (-1, 2):
            fail(FUNC, f"LayerNormalization node '{node.name}' normalizes over axis "
                       f"{m.attr(node, 'axis', -1)}; lstmkit imports it over the channels only.")
        scale = _f64(m.value(node.input[1])).reshape(-1)
        offset = _f64(m.value(node.input[2])).reshape(-1) if len(node.input) > 2 and \
            node.input[2] else np.zeros_like(scale)
        return layerNormalizationLayer(Scale=scale, Offset=offset,
                                       Epsilon=m.attr(node, "epsilon", 1e-5), Name=name)
    if op == "BatchNormalization":
        values = [m.value(i) for i in node.input[1:5]]
        if any(v is None for v in values):
            fail(FUNC, f"BatchNormalization node '{node.name}' has non-constant parameters.")
        scale, offset, mean, var = (_f64(v).reshape(-1) for v in values)
        return batchNormalizationLayer(Scale=scale, Offset=offset, TrainedMean=mean,
                                       TrainedVariance=var,
                                       Epsilon=m.attr(node, "epsilon", 1e-5), Name=name)
    return None


class _Tensor:
    """What an ONNX tensor is to the importer.

    ``kind``: 'data' (a layer's output, or the network input; ``src`` the
    layer's name, ``layout`` its axes, e.g. 'TNC', 'NTC', 'NCT', 'NC'),
    'index' (integer indices computed from data, for an embedding), 'shape'
    (the shape of a data tensor: ``src``), 'pos' (position-embedding rows:
    ``extra`` the T-by-D table, ``src`` the data whose length slices it),
    'sum' (a sum of data over time, waiting for its division by the lengths)
    'mask' (computed from the sequence lengths: what keeps padding out of
    ONNX Runtime's results, which lstmkit never needs) or 'aux' (constants
    and other inputs).
    """

    __slots__ = ("kind", "src", "layout", "extra")

    def __init__(self, kind, src=None, layout=None, extra=None):
        self.kind, self.src, self.layout, self.extra = kind, src, layout, extra


_INPUT = "\0input"        # the input layer's name until its kind and size are known
_INDEX_OPS = {"Shape", "Range", "Less", "Greater", "GreaterOrEqual", "LessOrEqual", "Equal", "And",
         "Or", "Not", "Cast", "Unsqueeze", "Squeeze", "Gather", "Slice", "Concat", "Expand",
         "Where", "Sub", "Add", "Mul", "Div", "ConstantOfShape", "Identity", "Reshape"}


class _GraphReader:
    """Turns an ONNX graph into layers and connections, operator by operator (graph order)."""

    def __init__(self, func, m, onnx):
        self.func, self.m, self.onnx = func, m, onnx
        self.layers = {}          # name -> layer, or a factory(OutputMode) of a recurrent layer
        self.modes = {}           # recurrent layer name -> OutputMode
        self.connections = []     # (source, destination[/port])
        self.tensors = {}
        self.norm = []            # (op, constant) on the raw input
        self.fused = {}           # output tensor -> (layer factory, data input) of a pattern
        self.skip = set()         # nodes inside a recognized pattern

    # -- bookkeeping -------------------------------------------------------------------------
    def fail(self, message):
        fail(self.func, message)

    def add(self, layer, sources, name):
        """Add a layer fed by ``sources`` (layer names); returns its unique name."""
        base = name or "layer"
        unique, k = base, 0
        while unique in self.layers or unique == _INPUT:
            k += 1
            unique = f"{base}_{k}"
        self.layers[unique] = layer
        if len(sources) == 1:
            self.connections.append((sources[0], unique))
        else:
            for p, src in enumerate(sources, 1):
                self.connections.append((src, f"{unique}/in{p}"))
        return unique

    def data(self, name, src, layout):
        self.tensors[name] = _Tensor("data", src, layout)

    def get(self, name):
        if not name:
            return _Tensor("aux")
        if name in self.tensors:
            return self.tensors[name]
        if self.m.value(name) is not None or name in self.m.consts:
            return _Tensor("const")
        return _Tensor("aux")

    def const(self, name):
        v = self.m.value(name)
        return None if v is None else _f64(v)

    # -- patterns of several operators ---------------------------------------------------------
    def find_patterns(self):
        """GELU (erf and tanh forms) and swish, as lstmkit's export writes them."""
        m = self.m
        prod = m.producer

        def op(name, kind):
            node = prod.get(name)
            return node if node is not None and node.op_type == kind else None

        def mul_const(name, value):
            node = op(name, "Mul")
            if node is None:
                return None
            c = self.const(node.input[1])
            return node.input[0] if c is not None and c.size == 1 and np.isclose(
                c.reshape(-1)[0], value, rtol=1e-5) else None

        for node in m.graph.node:
            if node.op_type == "Softmax" and node.input:
                self.find_attention(node, op)
            if node.op_type == "Mul" and len(node.input) == 2:
                a, b = node.input
                sig = op(b, "Sigmoid")
                if sig is not None and sig.input[0] == a:                 # x * sigmoid(x)
                    self.fused[node.output[0]] = (lambda n=node: swishLayer(
                        Name=n.name or ""), a)
                    self.skip.add(id(sig))
                    continue
                x = mul_const(a, 0.5)
                add = op(b, "Add")
                if x is None or add is None:
                    continue
                one = self.const(add.input[1])
                if one is None or one.size != 1 or not np.isclose(one.reshape(-1)[0], 1.0):
                    continue
                inner = prod.get(add.input[0])
                if inner is not None and inner.op_type == "Erf" and \
                        mul_const(inner.input[0], 1 / np.sqrt(2)) == x:
                    approx, parts = "none", [inner, prod[inner.input[0]]]
                elif inner is not None and inner.op_type == "Tanh":
                    u = mul_const(inner.input[0], np.sqrt(2 / np.pi))
                    uadd = op(u, "Add") if u else None
                    if uadd is None or uadd.input[0] != x:
                        continue
                    cube = mul_const(uadd.input[1], 0.044715)
                    cnode = op(cube, "Mul") if cube else None
                    sq = op(cnode.input[1], "Mul") if cnode is not None else None
                    if cnode is None or cnode.input[0] != x or sq is None or \
                            list(sq.input) != [x, x]:
                        continue
                    approx = "tanh"
                    parts = [inner, prod[inner.input[0]], uadd, prod[uadd.input[1]], cnode, sq]
                else:
                    continue
                self.fused[node.output[0]] = (lambda n=node, a=approx: geluLayer(
                    Approximation=a, Name=n.name or ""), x)
                self.skip.update(id(p) for p in parts + [add, prod[a]])

    def find_attention(self, softmax, op):
        """Multi-head self-attention as lstmkit's export writes it, from its Softmax.

        Q, K, V projections (MatMul + Add), heads (Reshape to [0, 0, H, d],
        Transpose), scaled scores ``Q K'`` with masks (Where), Softmax,
        weights times V, heads joined, output projection.  Anything else is
        left to the operator-by-operator walk (which refuses MatMul of two
        computed tensors).
        """
        m, prod = self.m, self.m.producer
        parts = [softmax]

        def projection(name):
            add = op(name, "Add")
            mm = op(add.input[0], "MatMul") if add is not None else None
            if mm is None:
                return None
            W, b = self.const(mm.input[1]), self.const(add.input[1])
            if W is None or b is None:
                return None
            parts.extend([add, mm])
            return mm.input[0], W.T, b.reshape(-1)

        def heads(name, perm=(1, 2, 0, 3)):
            tr = op(name, "Transpose")
            rs = op(tr.input[0], "Reshape") if tr is not None else None
            if rs is None or list(m.attr(tr, "perm", [])) != list(perm):
                return None
            shape = self.const(rs.input[1])
            if shape is None or shape.size != 4:
                return None
            parts.extend([tr, rs])
            got = projection(rs.input[0])
            return None if got is None else got + (int(shape.reshape(-1)[2]),)

        if m.attr(softmax, "axis", -1) not in (-1, 3):
            return
        scores, causal = softmax.input[0], False
        while op(scores, "Where") is not None:
            where = prod[scores]
            cond = prod.get(where.input[0])
            causal = causal or (cond is not None and cond.op_type == "Greater")
            parts.append(where)
            scores = where.input[2]
        scale = op(scores, "Mul")
        qk = op(scale.input[0], "MatMul") if scale is not None else None
        kt = op(qk.input[1], "Transpose") if qk is not None else None
        users = m.consumers.get(softmax.output[0], [])
        if kt is None or len(users) != 1 or users[0].op_type != "MatMul":
            return
        parts.extend([scale, qk, kt])
        av = users[0]
        q, k, v = heads(qk.input[0]), heads(kt.input[0]), heads(av.input[1])
        outs = [n for n in m.consumers.get(av.output[0], [])]
        if None in (q, k, v) or len(outs) != 1 or outs[0].op_type != "Transpose":
            return
        joined = m.consumers.get(outs[0].output[0], [])
        if len(joined) != 1 or joined[0].op_type != "Reshape":
            return
        mm = [n for n in m.consumers.get(joined[0].output[0], [])]
        add = m.consumers.get(mm[0].output[0], []) if len(mm) == 1 and \
            mm[0].op_type == "MatMul" else []
        if len(add) != 1 or add[0].op_type != "Add":
            return
        o = projection(add[0].output[0])
        if o is None or not (q[0] == k[0] == v[0]) or not (q[3] == k[3] == v[3]):
            return
        parts.extend([av, outs[0], joined[0]])
        parts.remove(add[0])                 # the block's last node carries its output
        H = q[3]
        factory = (lambda: selfAttentionLayer(
            H, q[1].shape[0], NumValueChannels=v[1].shape[0], OutputSize=o[1].shape[0],
            AttentionMask="causal" if causal else "none", QueryWeights=q[1], QueryBias=q[2],
            KeyWeights=k[1], KeyBias=k[2], ValueWeights=v[1], ValueBias=v[2],
            OutputWeights=o[1], OutputBias=o[2], Name=softmax.name or ""))
        self.fused[add[0].output[0]] = (factory, q[0])
        self.skip.update(id(p) for p in parts)

    # -- the walk ------------------------------------------------------------------------------
    def read(self, x):
        m = self.m
        dims = [d.dim_value for d in x.type.tensor_type.shape.dim]
        self.input_rank = len(dims)
        self.input_dims = dims
        self.data(x.name, _INPUT, "TNC" if len(dims) == 3 else "NC")
        self.find_patterns()
        for node in m.graph.node:
            if id(node) in self.skip:
                continue
            if node.output and node.output[0] in self.fused:
                make, src = self.fused[node.output[0]]
                t = self.get(src)
                if t.kind != "data":
                    self.fail(f"the activation pattern ending at node '{node.name}' does not "
                              f"read network data.")
                self.data(node.output[0], self.add(make(), [t.src], node.name), t.layout)
                continue
            self.node(node)
        return self.tensors

    def node(self, node):
        op = node.op_type
        ins = [self.get(i) for i in node.input]
        data = [t for t in ins if t.kind == "data"]
        out = node.output[0] if node.output else None
        if op == "Constant" or not any(t.kind in ("data", "index", "shape", "pos", "sum", "mask")
                                       for t in ins):
            self.tensors[out] = _Tensor("const" if all(t.kind == "const" for t in ins)
                                        else "aux")
            return
        if op == "Shape":
            self.tensors[out] = _Tensor("shape", ins[0].src)
            return
        if not data:
            self.derived(node, op, ins, out)
            return
        x = data[0]
        if x.src == _INPUT and op in ("Sub", "Div", "Mul", "Add") and len(data) == 1 and \
                ins[1].kind == "const":
            self.norm.append((op, _f64(self.const(node.input[1])).reshape(-1)))
            self.data(out, _INPUT, x.layout)
            return
        if op in _LAYOUT_OPS:
            if op == "Cast" and self.m.attr(node, "to") in (6, 7):      # to INT32 / INT64
                self.tensors[out] = _Tensor("index", x.src, x.layout)
                return
            layout = x.layout
            if op == "Transpose":
                perm = list(self.m.attr(node, "perm", []))
                if layout and len(perm) == len(layout):
                    layout = "".join(layout[p] for p in perm)
            elif op in ("Squeeze", "Flatten", "Reshape") and layout == "NC1":
                layout = "NC"
            self.data(out, x.src, layout)
            return
        self.layer(node, op, ins, data, out)

    def derived(self, node, op, ins, out):
        """Operators on indices, shapes and position tables (no network data)."""
        kinds = {t.kind for t in ins}
        if "index" in kinds:
            if op == "Gather" and ins[0].kind == "const":          # an embedding table lookup
                W = self.const(node.input[0])
                if W is None or W.ndim != 2:
                    self.fail(f"Gather node '{node.name}' looks up a table that is not a "
                              f"constant matrix.")
                src = next(t for t in ins if t.kind == "index")
                layer = wordEmbeddingLayer(W.shape[1], W.shape[0], Weights=W.T,
                                           Name=node.name or "")
                self.data(out, self.add(layer, [src.src], node.name), "TNC")
                return
            if op in _INDEX_OPS:
                src = next(t for t in ins if t.kind == "index")
                self.tensors[out] = _Tensor("index", src.src, src.layout)
                return
        if "pos" in kinds:
            pos = next(t for t in ins if t.kind == "pos")
            if op == "Unsqueeze" and ins[0] is pos:
                self.tensors[out] = pos
            elif op == "Expand" and ins[0] is pos:   # the embedding of every step and batch
                W = pos.extra                                   # MaxPosition-by-OutputSize
                layer = positionEmbeddingLayer(W.shape[1], W.shape[0], Weights=W.T,
                                               Name=node.name or "")
                self.data(out, self.add(layer, [pos.src], node.name), "TNC")
            else:
                self.fail(f"operator '{op}' (node '{node.name}') on a table sliced by the "
                          f"sequence length is not a position embedding lstmkit knows.")
            return
        if "sum" in kinds:
            if op == "Div" and ins[0].kind == "sum" and ins[1].kind == "mask":
                self.data(out, self.add(globalAveragePooling1dLayer(Name=node.name or ""),
                                        [ins[0].src], node.name), "NC")
                return
            self.fail(f"operator '{op}' (node '{node.name}') on a sum over time is not a global "
                      f"average lstmkit knows.")
        if "mask" in kinds:
            self.tensors[out] = _Tensor("mask")
            return
        shape = next(t for t in ins if t.kind == "shape")      # sizes computed from the data
        if op == "Slice" and ins[0].kind == "const" and self.const(node.input[0]) is not None \
                and self.const(node.input[0]).ndim == 2:
            self.tensors[out] = _Tensor("pos", shape.src, extra=self.const(node.input[0]))
            return
        self.tensors[out] = _Tensor("shape", shape.src)

    def layer(self, node, op, ins, data, out):
        """An operator on network data: a layer, a merge, or a mask that keeps the data."""
        m = self.m
        x = data[0]
        name = node.name or ""
        others = [t for t in ins if t is not x]
        if op in ("Mul", "Add") and len(data) == 1 and others and others[0].kind == "mask":
            self.data(out, x.src, x.layout)   # the sequence mask: lstmkit keeps padding out itself
            return
        if op == "Where" and len(data) == 1 and ins[2] is x and ins[0].kind == "mask":
            self.data(out, x.src, x.layout)
            return
        if any(t.kind in ("shape", "mask", "aux", "index") for t in others) and \
                op in ("Add", "Sub", "Mul", "Div", "Where", "Pow", "Max", "Min", "Concat",
                       "MatMul", "Sum", "Mean"):
            self.fail(f"operator '{op}' (node '{name}') combines network data with a computed "
                      f"tensor, which is not a layer lstmkit knows.")
        if op in ("Add", "Mul") and len(data) == 2:
            if data[0].src == data[1].src and data[0].layout == data[1].layout:
                self.fail(f"node '{name}' ({op}) combines a tensor with itself, which is not "
                          f"a layer lstmkit knows.")
            layer = (additionLayer if op == "Add" else multiplicationLayer)(2, Name=name)
            self.data(out, self.add(layer, [t.src for t in data], name), data[0].layout)
            return
        if op == "Concat":
            if len(data) != len(ins) or m.attr(node, "axis", 0) not in (-1, len(x.layout) - 1):
                self.fail(f"Concat node '{name}' does not join network data over the channels.")
            layer = concatenationLayer(1, len(data), Name=name)
            self.data(out, self.add(layer, [t.src for t in data], name), x.layout)
            return
        if op in ("LSTM", "GRU"):
            make = _lstm_layer(m, node) if op == "LSTM" else _gru_layer(m, node)
            if x.layout not in ("TNC", None) and x.src != _INPUT:   # (the input's own layout is
                # known only here: a batch-first model transposes it to the operator's T-N-C)
                self.fail(f"{op} node '{name}' reads data laid out as {x.layout}; ONNX recurrent "
                          f"operators read time-major data.")
            uses_y = bool([n for n in m.consumers.get(node.output[0], []) if n.op_type != "Shape"]) \
                or node.output[0] in m.output_names
            uses_h = len(node.output) > 1 and (node.output[1] in m.consumers or
                                                node.output[1] in m.output_names)
            if uses_y and uses_h:
                self.fail(f"{op} node '{name}' feeds both its sequence Y and its last state Y_h "
                          f"onward; only one can be the layer's output.")
            unique = self.add(make, [x.src], name)
            self.modes[unique] = "last" if uses_h else "sequence"
            self.data(node.output[0], unique, "TNC")
            if len(node.output) > 1:
                self.data(node.output[1], unique, "NC")
            return
        if op == "Gather":
            index = m.value(node.input[1])
            axis = m.attr(node, "axis", 0)
            if index is None or np.ndim(index) != 0:
                self.fail(f"operator 'Gather' (node '{name}') with a non-constant or non-scalar "
                          f"index is not supported.")
            time_axis = x.layout.find("T") if x.layout else -1
            if axis == time_axis and int(index) == -1 and self.modes.get(x.src) == "sequence" \
                    and len([n for n in m.consumers.get(node.input[0], [])
                             if n.op_type != "Shape"]) == 1:
                self.modes[x.src] = "last"        # out[-1] or out[:, -1]: the last time step
                self.data(out, x.src, "NC")
            elif axis == time_axis and int(index) in (0, -1):
                layer = indexing1dLayer("first" if int(index) == 0 else "last", Name=name)
                self.data(out, self.add(layer, [x.src], name), "NC")
            elif x.layout == "NC" and axis == 0 and int(index) in (0, -1):
                self.data(out, x.src, "NC")        # h[-1] of a one-layer Y_h
            else:
                self.fail(f"operator 'Gather' (node '{name}', axis {axis}, index {int(index)}) "
                          f"is not a last-step or direction selection lstmkit knows.")
            return
        if op == "GatherElements":                  # each sequence's own last step
            self.data(out, self.add(indexing1dLayer("last", Name=name), [x.src], name), "1NC")
            return
        if op in ("ReduceSum", "ReduceMean", "ReduceMax"):
            axes = m.attr(node, "axes")
            if axes is None and len(node.input) > 1:
                axes = self.const(node.input[1])
            time_axis = x.layout.find("T") if x.layout else 0
            if axes is None or [int(a) for a in np.ravel(axes)] != [time_axis]:
                self.fail(f"{op} node '{name}' does not reduce over time.")
            if op == "ReduceSum":
                self.tensors[out] = _Tensor("sum", x.src)
                return
            layer = (globalAveragePooling1dLayer if op == "ReduceMean"
                     else globalMaxPooling1dLayer)(Name=name)
            self.data(out, self.add(layer, [x.src], name), "NC")
            return
        if op in ("GlobalAveragePool", "GlobalMaxPool"):
            layer = (globalAveragePooling1dLayer if op == "GlobalAveragePool"
                     else globalMaxPooling1dLayer)(Name=name)
            self.data(out, self.add(layer, [x.src], name), "NC1")
            return
        if op in ("Conv", "MaxPool", "AveragePool"):
            self.windowed(node, op, x, out)
            return
        if op == "Gemm":
            W, b = self.const(node.input[1]), self.const(node.input[2]) if len(node.input) > 2 \
                else None
            if W is None:
                self.fail(f"Gemm node '{name}' has non-constant weights.")
            W = W * m.attr(node, "alpha", 1.0)
            if m.attr(node, "transA", 0):
                self.fail(f"Gemm node '{name}' transposes its data input (transA=1).")
            W = W if m.attr(node, "transB", 0) else W.T
            b = np.zeros(W.shape[0]) if b is None else b.reshape(-1) * m.attr(node, "beta", 1.0)
            layer = fullyConnectedLayer(W.shape[0], Weights=W, Bias=b, Name=name)
            self.data(out, self.add(layer, [x.src], name), x.layout)
            return
        if op == "MatMul":
            W = self.const(node.input[1])
            if W is None:
                self.fail(f"MatMul node '{name}' multiplies two computed tensors, which lstmkit's "
                          f"ONNX import reads only as the self-attention block lstmkit's export "
                          f"writes.")
            W = W.T
            b, end = self.following_bias(out, np.zeros(W.shape[0]))
            layer = fullyConnectedLayer(W.shape[0], Weights=W, Bias=b, Name=name)
            self.data(end, self.add(layer, [x.src], name), x.layout)
            return
        if op == "Softmax":
            self.data(out, self.add(softmaxLayer(Name=name), [x.src], name), x.layout)
            return
        layer = _elementwise_layer(m, node, op)
        if layer is not None:
            self.data(out, self.add(layer, [x.src], name), x.layout)
            return
        if op == "Mul" and self.const(node.input[1]) is not None:
            # a per-channel affine map (lstmkit exports batch normalization so): Mul [+ Add]
            a = self.const(node.input[1]).reshape(-1)
            b, end = self.following_bias(out, np.zeros_like(a))
            eps = 1e-5
            layer = batchNormalizationLayer(Scale=a, Offset=b, TrainedMean=np.zeros_like(a),
                                            TrainedVariance=np.full_like(a, 1 - eps),
                                            Epsilon=eps, Name=name)
            self.data(end, self.add(layer, [x.src], name), x.layout)
            return
        self.fail(f"operator '{op}' (node '{name}') is not supported by lstmkit's ONNX import. "
                  f"Supported: LSTM, GRU, Gemm, MatMul+Add, Softmax, Relu, LeakyRelu, Elu, Clip, "
                  f"Tanh, Sigmoid, the GELU and swish patterns, LayerNormalization, "
                  f"BatchNormalization, per-channel Mul+Add, Conv, MaxPool, AveragePool, global "
                  f"and time reductions, Add/Mul/Concat of two branches, Gather (last step, "
                  f"embeddings), normalization (Sub/Div/Mul), and layout operators.")

    def following_bias(self, out, default):
        """A constant ``Add`` that alone reads ``out`` (a bias): ``(bias, its output)``.

        The Add joins the layer being made (MatMul + Add, Mul + Add) and is
        skipped by the walk; without one: ``(default, out)``.
        """
        nxt = [n for n in self.m.consumers.get(out, []) if n.op_type != "Shape"]
        if len(nxt) == 1 and nxt[0].op_type == "Add" and self.const(nxt[0].input[1]) is not None:
            self.skip.add(id(nxt[0]))
            return self.const(nxt[0].input[1]).reshape(-1), nxt[0].output[0]
        return default, out

    def windowed(self, node, op, x, out):
        """Conv, MaxPool, AveragePool over time on N-by-C-by-T data."""
        m, name = self.m, node.name or ""
        if x.layout != "NCT":
            self.fail(f"{op} node '{name}' reads data laid out as {x.layout}; lstmkit imports "
                      f"1-D windows over time on N-by-C-by-T data.")
        kernel = list(m.attr(node, "kernel_shape", []) or [])
        pads = list(m.attr(node, "pads", [0, 0]) or [0, 0])
        strides = list(m.attr(node, "strides", [1]) or [1])
        auto = m.attr(node, "auto_pad", b"NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else auto
        if auto not in ("NOTSET", "VALID") or len(pads) != 2 or len(strides) != 1:
            self.fail(f"{op} node '{name}' is not a 1-D window with explicit padding.")
        if op == "Conv":
            W = self.const(node.input[1])
            if W is None or W.ndim != 3 or m.attr(node, "group", 1) != 1:
                self.fail(f"Conv node '{name}' is not a 1-D convolution with constant weights "
                          f"and one group.")
            F, C, K = W.shape
            b = self.const(node.input[2]) if len(node.input) > 2 and node.input[2] else None
            dil = list(m.attr(node, "dilations", [1]) or [1])[0]
            layer = convolution1dLayer(K, F, Stride=int(strides[0]), DilationFactor=int(dil),
                                       Padding=[int(pads[0]), int(pads[1])],
                                       Weights=np.transpose(W, (2, 1, 0)),
                                       Bias=np.zeros(F) if b is None else b.reshape(-1),
                                       Name=name)
        else:
            if m.attr(node, "ceil_mode", 0) or (op == "MaxPool" and list(
                    m.attr(node, "dilations", [1]) or [1]) != [1]):
                self.fail(f"{op} node '{name}' uses ceil_mode or dilations.")
            if op == "AveragePool" and any(pads) and not m.attr(node, "count_include_pad", 0):
                self.fail(f"AveragePool node '{name}' excludes the padding from the mean "
                          f"(count_include_pad=0), which averagePooling1dLayer does not do.")
            make = maxPooling1dLayer if op == "MaxPool" else averagePooling1dLayer
            layer = make(int(kernel[0]), Stride=int(strides[0]),
                         Padding=[int(pads[0]), int(pads[1])], Name=name)
        self.data(out, self.add(layer, [x.src], name), "NCT")


def _input_channels(layer):
    """The input channels a layer with weights reads (for an input layer without a size)."""
    for attr in ("InputWeights", "Weights"):      # C is the second axis of both (and of conv)
        w = getattr(layer, attr, None)
        if w is not None and np.ndim(w) in (2, 3):
            return int(np.shape(w)[1])
    return None


def _read_layers(FUNC, filename):
    """``(layers, connections, output names, meta)`` of an ONNX sequence model (input first)."""
    onnx = need_onnx(FUNC)
    if not isinstance(filename, str):
        fail(FUNC, f"`filename` must be a file name (str). Received: {_show(filename)}.",
             TypeError)
    try:
        model = onnx.load(filename, load_external_data=False)
    except FileNotFoundError:
        fail(FUNC, f"file '{filename}' does not exist.", FileNotFoundError)
    except Exception as err:  # protobuf raises DecodeError and friends
        fail(FUNC, f"'{filename}' is not a readable ONNX model: {type(err).__name__}: {err}")
    _load_external_data(FUNC, onnx, model, filename)
    _check_order(FUNC, model, filename)
    meta = {}
    for prop in model.metadata_props:
        if prop.key == "lstmkit":
            meta = json.loads(prop.value)
    m = _Model(onnx, model)
    floats = [i for i in m.inputs if i.type.tensor_type.elem_type == onnx.TensorProto.FLOAT]
    if len(floats) < 1:
        fail(FUNC, f"'{filename}' has no float input to read sequences from.")
    reader = _GraphReader(FUNC, m, onnx)
    for i in m.inputs:                  # sequence lengths: masks; initial states: not data
        if i is not floats[0]:
            reader.tensors[i.name] = _Tensor(
                "mask" if i.type.tensor_type.elem_type in (onnx.TensorProto.INT32,
                                                           onnx.TensorProto.INT64) else "aux")
    tensors = reader.read(floats[0])
    outputs = []
    for o in model.graph.output:
        t = tensors.get(o.name)
        if t is not None and t.kind == "mask":
            continue                   # output sequence lengths: lstmkit's outputs carry them
        if t is None or t.kind != "data" or t.src == _INPUT:
            fail(FUNC, f"the graph output '{o.name}' is not computed by layers lstmkit can "
                       f"import.")
        if t.src not in outputs:
            outputs.append(t.src)
    if not reader.layers:
        fail(FUNC, f"'{filename}' has no layers lstmkit can import.")
    layers = {}
    for name, layer in reader.layers.items():
        layer = layer(reader.modes[name]) if name in reader.modes else layer
        layer.Name = name
        layers[name] = layer
    dims = reader.input_dims
    first = next(layers[b] for a, b in reader.connections if a == _INPUT)
    C = dims[-1] if dims and dims[-1] > 0 else _input_channels(first)
    if C is None:
        fail(FUNC, f"the size of the input of '{filename}' is unknown.")
    input_layer = _input_layer(C, reader.norm, feature=reader.input_rank == 2)
    taken = set(layers)
    base, k = input_layer.Name or input_layer.default_name, 0
    name = base
    while name in taken:
        k += 1
        name = f"{base}_{k}"
    input_layer.Name = name
    connections = [(name if a == _INPUT else a, b) for a, b in reader.connections]
    return [input_layer] + list(layers.values()), connections, outputs, meta


def _load_external_data(func, onnx, model, filename):
    """Tensors stored beside the model, read only from files inside its folder.

    A location that is absolute, leaves the folder (``..``) or is a symbolic
    link is refused before anything is read (CVE-2024-27318 was such a path in
    onnx's own loader).
    """
    folder = os.path.dirname(os.path.abspath(filename))
    external = [t for t in onnx.external_data_helper._get_all_tensors(model)
                if onnx.external_data_helper.uses_external_data(t)]
    if not external:
        return
    for tensor in external:
        info = {e.key: e.value for e in tensor.external_data}
        location = info.get("location", "")
        path = os.path.normpath(os.path.join(folder, location))
        if not location or os.path.isabs(location) or \
                os.path.commonpath([folder, path]) != folder or \
                os.path.islink(os.path.join(folder, location)):
            fail(func, f"'{filename}' stores tensor '{tensor.name}' in {location!r}, outside the "
                       f"model's folder (or through a link); lstmkit reads external data only "
                       f"from files inside the folder.")
        if not os.path.isfile(path):
            fail(func, f"'{filename}' stores tensor '{tensor.name}' in {location!r}, which does "
                       f"not exist.", FileNotFoundError)
    try:
        onnx.external_data_helper.load_external_data_for_model(model, folder)
    except Exception as err:
        fail(func, f"'{filename}': its external data cannot be read: {type(err).__name__}: "
                   f"{err}")


def _check_order(func, model, filename):
    """Every operator reads tensors computed before it: no cycle, no dangling input."""
    known = {i.name for i in model.graph.input} | {t.name for t in model.graph.initializer}
    for node in model.graph.node:
        for name in node.input:
            if name and name not in known:
                fail(func, f"'{filename}' is not a valid ONNX graph: node '{node.name}' "
                           f"({node.op_type}) reads '{name}', which no earlier node computes "
                           f"(a cycle, or operators out of order).")
        known.update(node.output)


def _is_chain(layers, connections):
    names = [layer.Name for layer in layers]
    return connections == list(zip(names[:-1], names[1:]))


@checked_call
def importONNXNetwork(
    filename: str,
    *name_value: Any,
    OutputLayerType: Literal["classification", "regression"] | None = None,
    Classes: Sequence[str | int] | None = None,
) -> SeriesNetwork:
    """Import an ONNX sequence model, as MATLAB's ``importONNXNetwork``.

    Parameters
    ----------
    filename : str
        The ``.onnx`` file.
    OutputLayerType : {'classification', 'regression'}, optional
        The output layer to add.  By default: classification when the graph
        ends in Softmax, else regression.
    Classes : list of str or int, optional
        Class names (classification); default: those a network exported by
        lstmkit recorded, else "1" to "K".

    Returns
    -------
    SeriesNetwork
        Ready for classify, predict, predictAndUpdateState and further
        training (pass ``net.Layers`` to trainNetwork).

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from lstmkit import *
    >>> rs = np.random.default_rng(0)
    >>> net = assembleNetwork([sequenceInputLayer(3), lstmLayer(
    ...     4, OutputMode="last", InputWeights=rs.standard_normal((16, 3)),
    ...     RecurrentWeights=rs.standard_normal((16, 4)), Bias=np.zeros(16)),
    ...     fullyConnectedLayer(1, Weights=np.ones((1, 4)), Bias=[0.0]), regressionLayer()])
    >>> path = exportONNXNetwork(net, os.path.join(tempfile.mkdtemp(), "net.onnx"))
    >>> net2 = importONNXNetwork(path)
    >>> x = rs.standard_normal((3, 6))
    >>> bool(np.allclose(predict(net2, x), predict(net, x)))
    True
    """
    layers, connections, outputs, meta = _read_layers(FUNC, filename)
    if len(outputs) != 1:
        fail(FUNC, f"the graph has {len(outputs)} outputs; a SeriesNetwork or DAGNetwork has "
                   f"one: use importNetworkFromONNX for a dlnetwork.")
    last = next(layer for layer in layers if layer.Name == outputs[0])
    default_type = meta.get("output_layer") or (
        "classification" if isinstance(last, SoftmaxLayer) else "regression")
    out_type = check_choice(FUNC, "OutputLayerType",
                            default_type if OutputLayerType is None else OutputLayerType,
                            ("classification", "regression"))
    names = {layer.Name for layer in layers}

    def unique(base):
        name, k = base, 0
        while name in names:
            k += 1
            name = f"{base}_{k}"
        names.add(name)
        return name

    end = outputs[0]
    if out_type == "classification":
        if not isinstance(last, SoftmaxLayer):
            sm = softmaxLayer(Name=unique("softmax"))
            layers.append(sm)
            connections.append((end, sm.Name))
            end = sm.Name
        classes = meta.get("classes", "auto") if Classes is None else Classes
        if not (isinstance(classes, str) and classes == "auto"):
            classes = check_classes(FUNC, classes)
        out = classificationLayer(Classes=classes, Name=unique("classoutput"))
    else:
        out = regressionLayer(Name=unique("regressionoutput"))
    layers.append(out)
    connections.append((end, out.Name))
    if _is_chain(layers, connections):
        return assembleNetwork(layers)
    return assembleNetwork(LayerGraph(layers, connections, "importONNXNetwork"))


@checked_call
def importNetworkFromONNX(filename: str) -> DLNetwork:
    """Import an ONNX sequence model as a dlnetwork, as MATLAB's ``importNetworkFromONNX``.

    The same models as :func:`importONNXNetwork` (lstmkit's and MATLAB's
    exports, ``torch.onnx.export`` of LSTM/GRU and Linear layers), without an
    output layer: ready for :func:`minibatchpredict`, ``predict`` with its
    state, and :func:`trainnet`.

    Parameters
    ----------
    filename : str
        The ``.onnx`` file.

    Returns
    -------
    DLNetwork

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from lstmkit import *
    >>> net = dlnetwork([sequenceInputLayer(3), lstmLayer(4, OutputMode="last"),
    ...                  fullyConnectedLayer(2), softmaxLayer()])
    >>> path = exportONNXNetwork(net, os.path.join(tempfile.mkdtemp(), "net.onnx"))
    >>> net2 = importNetworkFromONNX(path)
    >>> X = np.random.default_rng(0).standard_normal((6, 3))      # one T-by-C sequence
    >>> bool(np.allclose(predict(net2, X), predict(net, X), atol=1e-6))
    True
    """
    func = "importNetworkFromONNX"
    layers, connections, _, _ = _read_layers(func, filename)
    net = DLNetwork(layers, connections, func)
    _initialize_layers(func, net._graph)
    return net


def _input_layer(C, norm, feature=False):
    """sequenceInputLayer (featureInputLayer) with the normalization the input operators apply."""
    ops = [op for op, _ in norm]
    make = featureInputLayer if feature else sequenceInputLayer

    def full(v):
        return np.broadcast_to(v, (C,)).reshape(C, 1)

    if not ops:
        return make(C)
    if ops == ["Sub"]:
        return make(C, Normalization="zerocenter", Mean=full(norm[0][1]))
    if ops == ["Sub", "Div"]:
        return make(C, Normalization="zscore", Mean=full(norm[0][1]),
                    StandardDeviation=full(norm[1][1]))
    if ops == ["Sub", "Div", "Mul", "Sub"] and np.allclose(norm[2][1], 2) and \
            np.allclose(norm[3][1], 1):
        lo = full(norm[0][1])
        return make(C, Normalization="rescale-symmetric", Min=lo, Max=lo + full(norm[1][1]))
    fail(FUNC, f"the input is transformed by {' -> '.join(ops)}, which is not one of "
               f"sequenceInputLayer's normalizations.")
