"""importONNXNetwork: an ONNX sequence model as an lstmkit network.

The importer follows the graph from its sequence input to its output and
turns each operator on that path into a layer:

==============================================  =====================================
ONNX                                            lstmkit
==============================================  =====================================
``Sub`` / ``Div`` / ``Mul`` by constants        sequenceInputLayer normalization
``LSTM`` (forward or bidirectional)             lstmLayer / bilstmLayer
``GRU``                                         gruLayer (ResetGateMode from
                                                ``linear_before_reset`` and ``Rb``)
``Gemm``; ``MatMul`` + ``Add``                  fullyConnectedLayer
``Softmax`` (channel axis)                      softmaxLayer
``Dropout``, ``Identity``, ``Squeeze``,         (layout only: no layer)
``Unsqueeze``, ``Transpose``, ``Reshape``,
``Flatten``, ``Cast``
``Gather`` of the last time step / direction    OutputMode 'last'
==============================================  =====================================

It reads the graphs lstmkit's :func:`exportONNXNetwork` writes, the layout of
MATLAB's ``exportONNXNetwork`` (one ``LSTM`` node with initial states as
constants, ``Y_h`` for 'last', ``Y`` + ``Squeeze`` for 'sequence') and what
``torch.onnx.export`` writes for ``nn.LSTM`` / ``nn.GRU`` + ``nn.Linear``
models (biases ``b_ih`` and ``b_hh`` summed).  Any other operator on the path
is an error that names it.  Initial states that are graph inputs become zero
states (set HiddenState/CellState on the layers to use others).
"""

from __future__ import annotations

import json
from typing import Any, Literal, Sequence

import numpy as np

from .._validation import _show, check_choice, fail, name_value_function
from ..dlnetwork import DLNetwork, dlnetwork
from ..network import SeriesNetwork
from ..layers.activations import (clippedReluLayer, eluLayer, leakyReluLayer, reluLayer,
                                  sigmoidLayer, tanhLayer)
from ..layers.bilstm import bilstmLayer
from ..layers.normalization import batchNormalizationLayer, layerNormalizationLayer
from ..layers.fully_connected import fullyConnectedLayer
from ..layers.gru import gruLayer
from ..layers.lstm import lstmLayer
from ..layers.output import check_classes, classificationLayer, regressionLayer
from ..layers.sequence_input import sequenceInputLayer
from ..layers.softmax import softmaxLayer
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

    def main_consumer(self, name):
        """The node that carries the data on (shape queries are not the data path)."""
        nodes = [n for n in self.consumers.get(name, []) if n.op_type != "Shape"]
        if len(nodes) > 1:
            fail(FUNC, f"tensor '{name}' feeds {len(nodes)} operators "
                       f"({', '.join(n.op_type for n in nodes)}); only a chain of layers "
                       f"(a SeriesNetwork) can be imported.")
        return nodes[0] if nodes else None


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
    B = m.value(node.input[3]) if len(node.input) > 3 else None
    B = np.zeros((D, 8 * H)) if B is None else _f64(B)
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
    order = np.argsort(gru_rows_to_onnx(H))        # ONNX z, r, h -> MATLAB r, z, h
    W, R = _f64(m.value(node.input[1]))[0][order], _f64(m.value(node.input[2]))[0][order]
    B = m.value(node.input[3]) if len(node.input) > 3 else None
    B = np.zeros(6 * H) if B is None else _f64(B).reshape(-1)
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


def _read_layers(FUNC, filename):
    """The input layer, the layers and lstmkit's metadata of an ONNX sequence model."""
    onnx = need_onnx(FUNC)
    if not isinstance(filename, str):
        fail(FUNC, f"`filename` must be a file name (str). Received: {_show(filename)}.",
             TypeError)
    try:
        model = onnx.load(filename)
    except FileNotFoundError:
        fail(FUNC, f"file '{filename}' does not exist.", FileNotFoundError)
    except Exception as err:  # protobuf raises DecodeError and friends
        fail(FUNC, f"'{filename}' is not a readable ONNX model: {type(err).__name__}: {err}")
    meta = {}
    for prop in model.metadata_props:
        if prop.key == "lstmkit":
            meta = json.loads(prop.value)
    m = _Model(onnx, model)
    seq_inputs = [i for i in m.inputs if i.type.tensor_type.elem_type == onnx.TensorProto.FLOAT]
    if len(seq_inputs) < 1:
        fail(FUNC, f"'{filename}' has no float input to read sequences from.")
    x = seq_inputs[0]
    dims = [d.dim_value for d in x.type.tensor_type.shape.dim]
    layers, pending = [], None   # pending: a recurrent layer waiting for its OutputMode
    norm = []                    # (op, constant) before the first recurrent layer
    C = None
    name = x.name
    is_seq = True
    time_axis = 0  # of a sequence after a recurrent layer: 0 time-major, 1 batch-major
    while True:
        node = m.main_consumer(name)
        if node is None:
            break
        op = node.op_type
        if op in _LAYOUT_OPS:  # layout only (a batch-first input's Transpose, Squeeze of Y, ...)
            if op == "Transpose" and list(m.attr(node, "perm", [])) == [1, 0, 2]:
                time_axis = 1 - time_axis
            name = node.output[0]
            continue
        if op in ("Sub", "Div", "Mul", "Add") and not layers and pending is None:
            const = m.value(node.input[1])
            if const is None:
                fail(FUNC, f"operator '{op}' (node '{node.name}') on the input does not use a "
                           f"constant; it is not a normalization lstmkit knows.")
            norm.append((op, _f64(const).reshape(-1)))
            name = node.output[0]
            continue
        if op in ("LSTM", "GRU"):
            if pending is not None:
                layers.append(pending("sequence"))
            if C is None:
                C = int(np.asarray(m.value(node.input[1])).shape[2])
            make = _lstm_layer(m, node) if op == "LSTM" else _gru_layer(m, node)
            uses_y = bool([n for n in m.consumers.get(node.output[0], []) if n.op_type != "Shape"]) \
                or node.output[0] in m.output_names
            uses_h = len(node.output) > 1 and (node.output[1] in m.consumers or
                                                node.output[1] in m.output_names)
            if uses_y and uses_h:
                fail(FUNC, f"{op} node '{node.name}' feeds both its sequence Y and its last state "
                           f"Y_h onward; only one can be the layer's output.")
            if uses_h:
                layers.append(make("last"))
                is_seq = False
                name = node.output[1]
            else:
                pending, is_seq, time_axis = make, True, 0
                name = node.output[0]
            continue
        if op == "Gather":
            index = m.value(node.input[1])
            axis = m.attr(node, "axis", 0)
            if index is None or np.ndim(index) != 0:
                fail(FUNC, f"operator 'Gather' (node '{node.name}') with a non-constant or "
                           f"non-scalar index is not supported.")
            if pending is not None and axis == time_axis and int(index) == -1:
                layers.append(pending("last"))      # out[-1] or out[:, -1]: the last time step
                pending, is_seq = None, False
            elif not is_seq and axis == 0 and int(index) in (0, -1):
                pass                                 # h[-1] of a one-layer Y_h
            else:
                fail(FUNC, f"operator 'Gather' (node '{node.name}', axis {axis}, index "
                           f"{int(index)}) is not a last-step or direction selection lstmkit "
                           f"knows.")
            name = node.output[0]
            continue
        if pending is not None:
            layers.append(pending("sequence"))
            pending = None
        if op == "Gemm":
            W, b = m.value(node.input[1]), m.value(node.input[2]) if len(node.input) > 2 else None
            if W is None:
                fail(FUNC, f"Gemm node '{node.name}' has non-constant weights.")
            W = _f64(W) * m.attr(node, "alpha", 1.0)
            if m.attr(node, "transA", 0):
                fail(FUNC, f"Gemm node '{node.name}' transposes its data input (transA=1).")
            W = W if m.attr(node, "transB", 0) else W.T
            b = np.zeros(W.shape[0]) if b is None else _f64(b).reshape(-1) * m.attr(node, "beta",
                                                                                        1.0)
            layers.append(fullyConnectedLayer(W.shape[0], Weights=W, Bias=b, Name=node.name or ""))
            name = node.output[0]
            continue
        if op == "MatMul":
            W = m.value(node.input[1])
            if W is None:
                fail(FUNC, f"MatMul node '{node.name}' has non-constant weights.")
            W = _f64(W).T
            name = node.output[0]
            nxt = m.main_consumer(name)
            b = np.zeros(W.shape[0])
            if nxt is not None and nxt.op_type == "Add" and m.value(nxt.input[1]) is not None:
                b = _f64(m.value(nxt.input[1])).reshape(-1)
                name = nxt.output[0]
            layers.append(fullyConnectedLayer(W.shape[0], Weights=W, Bias=b, Name=node.name or ""))
            continue
        if op == "Softmax":
            layers.append(softmaxLayer(Name=node.name or ""))
            name = node.output[0]
            continue
        layer = _elementwise_layer(m, node, op)
        if layer is not None:
            layers.append(layer)
            name = node.output[0]
            continue
        if op == "Mul" and layers and m.value(node.input[1]) is not None:
            # a per-channel affine map (lstmkit exports batch normalization so): Mul [+ Add]
            a = _f64(m.value(node.input[1])).reshape(-1)
            name = node.output[0]
            nxt = m.main_consumer(name)
            b = np.zeros_like(a)
            if nxt is not None and nxt.op_type == "Add" and m.value(nxt.input[1]) is not None:
                b = _f64(m.value(nxt.input[1])).reshape(-1)
                name = nxt.output[0]
            eps = 1e-5
            layers.append(batchNormalizationLayer(
                Scale=a, Offset=b, TrainedMean=np.zeros_like(a),
                TrainedVariance=np.full_like(a, 1 - eps), Epsilon=eps, Name=node.name or ""))
            continue
        fail(FUNC, f"operator '{op}' (node '{node.name}') is not supported by lstmkit's ONNX "
                   f"import. Supported: LSTM, GRU, Gemm, MatMul+Add, Softmax, Relu, LeakyRelu, "
                   f"Elu, Clip, Tanh, Sigmoid, LayerNormalization, BatchNormalization, "
                   f"per-channel Mul+Add, normalization (Sub/Div/Mul), and layout operators.")
    if pending is not None:
        layers.append(pending("sequence"))
    if not layers:
        fail(FUNC, f"'{filename}' has no layers lstmkit can import.")
    if C is None:
        C = dims[2] if len(dims) == 3 and dims[2] > 0 else layers[0].InputSize
    return _input_layer(C, norm), layers, meta


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
    input_layer, layers, meta = _read_layers(FUNC, filename)
    default_type = meta.get("output_layer") or (
        "classification" if isinstance(layers[-1], type(softmaxLayer())) else "regression")
    out_type = check_choice(FUNC, "OutputLayerType",
                            default_type if OutputLayerType is None else OutputLayerType,
                            ("classification", "regression"))
    if out_type == "classification":
        if not isinstance(layers[-1], type(softmaxLayer())):
            layers.append(softmaxLayer())
        classes = meta.get("classes", "auto") if Classes is None else Classes
        if not (isinstance(classes, str) and classes == "auto"):
            classes = check_classes(FUNC, classes)
        out = classificationLayer(Classes=classes)
    else:
        out = regressionLayer()
    return assembleNetwork([input_layer] + layers + [out])


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
    input_layer, layers, _ = _read_layers(func, filename)
    return dlnetwork([input_layer] + layers)


def _input_layer(C, norm):
    """sequenceInputLayer with the normalization the input operators apply."""
    ops = [op for op, _ in norm]

    def full(v):
        return np.broadcast_to(v, (C,)).reshape(C, 1)

    if not ops:
        return sequenceInputLayer(C)
    if ops == ["Sub"]:
        return sequenceInputLayer(C, Normalization="zerocenter", Mean=full(norm[0][1]))
    if ops == ["Sub", "Div"]:
        return sequenceInputLayer(C, Normalization="zscore", Mean=full(norm[0][1]),
                                  StandardDeviation=full(norm[1][1]))
    if ops == ["Sub", "Div", "Mul", "Sub"] and np.allclose(norm[2][1], 2) and \
            np.allclose(norm[3][1], 1):
        lo = full(norm[0][1])
        return sequenceInputLayer(C, Normalization="rescale-symmetric", Min=lo,
                                  Max=lo + full(norm[1][1]))
    fail(FUNC, f"the input is transformed by {' -> '.join(ops)}, which is not one of "
               f"sequenceInputLayer's normalizations.")
