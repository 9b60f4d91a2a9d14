"""exportONNXNetwork: a network as an ONNX graph, as MATLAB's ``exportONNXNetwork``.

The graph, in ONNX's time-major layout:

* inputs ``input`` ``[T, N, C]`` (float32) and, unless
  ``SequenceLengthsInput=False``, ``sequence_lengths`` ``[N]`` (int32): each
  sequence's own length, so padding changes nothing (ONNX's ``sequence_lens``);
* the input layer's normalization as ``Sub``/``Div``/``Mul`` nodes;
* one ``LSTM`` node per lstmLayer (gate rows reordered from MATLAB's i, f, g, o
  to ONNX's i, o, f, c; the 8H bias with its recurrent half zero; peepholes as
  ``P`` in ONNX's i, o, f order; ``input_forget`` for coupled gates), a
  ``bidirectional`` LSTM for bilstmLayer, a ``GRU`` for gruLayer (rows r, z, h
  reordered to z, r, h; 'before-multiplication' as ``linear_before_reset=0``,
  the other two modes as ``linear_before_reset=1``, the recurrent biases of
  'recurrent-bias-after-multiplication' as the GRU's ``Rb``); initial states
  from HiddenState/CellState; OutputMode 'last' from ``Y_h``, 'sequence' from
  ``Y``;  coupled gates (lstmkit's ``i = 1 - f``) are written for ONNX
  Runtime's ``f = 1 - i`` by giving the input gate the negated forget-gate
  weights (exact, since ``g(-z) = 1 - g(z)`` for both gate activations);
* fully connected layers as ``MatMul`` + ``Add`` on sequences and ``Gemm`` on
  vectors; ``Softmax`` on the channel axis; dropout layers are left out;
* output ``output``: ``[N, K]`` for a network with OutputMode 'last',
  ``[T, N, K]`` for sequence output.

T and N are dynamic (``BatchSize`` fixes N).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from .._files import write_atomically
from .._validation import _show, check_bool, check_positive_int, fail, name_value_function
from ..layers.bilstm import BiLSTMLayer
from ..layers.dropout import DropoutLayer
from ..layers.fully_connected import FullyConnectedLayer
from ..layers.gru import GRULayer
from ..layers.lstm import LSTMLayer
from ..layers.activations import (ClippedReLULayer, ELULayer, GELULayer, LeakyReLULayer,
                                  ReLULayer, SigmoidLayer, SwishLayer, TanhLayer)
from ..layers.attention import PositionEmbeddingLayer, SelfAttentionLayer
from ..layers.convolution import (AveragePooling1DLayer, Convolution1DLayer, FlattenLayer,
                                  GlobalAveragePooling1DLayer, GlobalMaxPooling1DLayer,
                                  Indexing1DLayer, MaxPooling1DLayer)
from ..layers.embedding import WordEmbeddingLayer
from ..layers.merge import AdditionLayer, ConcatenationLayer, MultiplicationLayer
from ..layers.normalization import BatchNormalizationLayer, LayerNormalizationLayer
from ..layers.output import ClassificationOutputLayer, RegressionOutputLayer
from ..layers.softmax import SoftmaxLayer
from ..dlnetwork import DLNetwork, check_runnable
from ..network import SeriesNetwork, compute_nodes, infer_sizes, network_output

MIN_OPSET, MAX_OPSET, DEFAULT_OPSET = 13, 21, 14
GATE_ACTIVATIONS = {"sigmoid": "Sigmoid", "hard-sigmoid": "HardSigmoid"}
STATE_ACTIVATIONS = {"tanh": "Tanh", "softsign": "Softsign"}


def need_onnx(func):
    try:
        import onnx
    except ImportError:
        fail(func, "the onnx package is not installed: pip install onnx onnxruntime "
                   "(or pip install \"lstmkit[onnx]\").", ImportError)
    return onnx


def lstm_rows_to_onnx(H):
    """Row order taking MATLAB's gate blocks i, f, g, o to ONNX's i, o, f, c."""
    i, f, g, o = (np.arange(k * H, (k + 1) * H) for k in range(4))
    return np.concatenate([i, o, f, g])


def gru_rows_to_onnx(H):
    """Row order taking MATLAB's GRU blocks r, z, h to ONNX's z, r, h."""
    r, z, h = (np.arange(k * H, (k + 1) * H) for k in range(3))
    return np.concatenate([z, r, h])


class _Graph:
    """Collects nodes and initializers with unique names."""

    def __init__(self, onnx):
        self.onnx = onnx
        self.nodes, self.initializers = [], []
        self.count = 0
        self.masks = {}       # lengths tensor -> T-by-N-by-1 mask of real time steps

    def name(self, base):
        self.count += 1
        return f"{base}_{self.count}"

    def const(self, base, array):
        name = self.name(base)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(self, op, inputs, base, outputs=1, **attrs):
        names = [self.name(base) for _ in range(outputs)]
        self.nodes.append(self.onnx.helper.make_node(op, inputs, names, name=self.name(op),
                                                     **attrs))
        return names if outputs > 1 else names[0]


def _f32(array):
    return np.ascontiguousarray(array, dtype=np.float32)


def _state(graph, value, D, H, batch, x, opset):
    """An initial-state input [D, N, H] from a stored (D*H)-by-1 or (D*H)-by-N state."""
    if value is None or not np.any(value):
        return ""
    cols = value.shape[1]
    per_dir = np.stack([value[d * H:(d + 1) * H] for d in range(D)])  # [D, H, cols]
    if cols > 1:
        if batch != cols:
            fail("exportONNXNetwork", f"the stored state holds {cols} observations; export with "
                                      f"BatchSize={cols}, or call resetState(net) first.")
        return graph.const("state", _f32(per_dir.transpose(0, 2, 1)))
    base = graph.const("state", _f32(per_dir.transpose(0, 2, 1)))  # [D, 1, H]
    if batch is not None:
        return graph.node("Expand", [base, graph.const("shape", np.array([D, batch, H]))], "state")
    shape = graph.node("Shape", [x], "shape")
    n = graph.node("Gather", [shape, graph.const("one", np.array([1]))], "n", axis=0)
    full = graph.node("Concat", [graph.const("d", np.array([D])), n,
                                 graph.const("h", np.array([H]))], "shape", axis=0)
    return graph.node("Expand", [base, full], "state")


def _recurrent(graph, layer, x, lengths, batch, opset):
    """LSTM / bidirectional LSTM / GRU node; returns (output name, is sequence)."""
    H = layer.NumHiddenUnits
    D = 2 if isinstance(layer, BiLSTMLayer) else 1
    gate, state = GATE_ACTIVATIONS[layer.GateActivationFunction], \
        STATE_ACTIVATIONS[layer.StateActivationFunction]
    hard = layer.GateActivationFunction == "hard-sigmoid"
    W, R = np.asarray(layer.InputWeights), np.asarray(layer.RecurrentWeights)
    if hasattr(layer, "InputProjector"):       # lstmProjectedLayer: the effective matrices
        W, R = W @ np.asarray(layer.InputProjector).T, R @ np.asarray(layer.OutputProjector).T
    bias = np.asarray(layer.Bias).reshape(-1)
    if isinstance(layer, GRULayer):
        order = gru_rows_to_onnx(H)
        Wo, Ro = W[order][None], R[order][None]
        Rb = bias[3 * H:][order] if bias.size == 6 * H else np.zeros(3 * H)
        Bo = np.concatenate([bias[:3 * H][order], Rb])[None]
        h0 = _state(graph, layer.HiddenState, 1, H, batch, x, opset)
        inputs = [x, graph.const("W", _f32(Wo)), graph.const("R", _f32(Ro)),
                  graph.const("B", _f32(Bo)), lengths, h0]
        acts = [gate, state]
        attrs = dict(hidden_size=H, activations=acts,
                     linear_before_reset=0 if layer.ResetGateMode == "before-multiplication"
                     else 1)
        if hard:
            attrs.update(activation_alpha=[0.2, 1.0], activation_beta=[0.5, 0.0])
        op = "GRU"
    else:
        coupled = getattr(layer, "CoupledInputForget", False)
        peep = np.asarray(layer.PeepholeWeights).reshape(-1) if getattr(
            layer, "HasPeepholes", False) else None
        if coupled:
            # lstmkit couples i = 1 - f; ONNX Runtime computes f = 1 - i from the input gate.
            # The gate activations satisfy g(-z) = 1 - g(z), so i = 1 - g(z_f) = g(-z_f):
            # the input-gate block gets the negated forget-gate weights.
            W, R, bias = W.copy(), R.copy(), bias.copy()
            for d in range(D):
                i_rows = slice(d * 4 * H, d * 4 * H + H)
                f_rows = slice(d * 4 * H + H, d * 4 * H + 2 * H)
                W[i_rows], R[i_rows], bias[i_rows] = -W[f_rows], -R[f_rows], -bias[f_rows]
            if peep is not None:
                peep = np.concatenate([-peep[H:2 * H], peep[H:]])
        order = lstm_rows_to_onnx(H)
        Wo = np.stack([W[d * 4 * H:(d + 1) * 4 * H][order] for d in range(D)])
        Ro = np.stack([R[d * 4 * H:(d + 1) * 4 * H][order] for d in range(D)])
        Bo = np.stack([np.concatenate([bias[d * 4 * H:(d + 1) * 4 * H][order], np.zeros(4 * H)])
                       for d in range(D)])
        h0 = _state(graph, layer.HiddenState, D, H, batch, x, opset)
        c0 = _state(graph, layer.CellState, D, H, batch, x, opset)
        inputs = [x, graph.const("W", _f32(Wo)), graph.const("R", _f32(Ro)),
                  graph.const("B", _f32(Bo)), lengths, h0, c0]
        attrs = dict(hidden_size=H, activations=[gate, state, state] * D,
                     direction="bidirectional" if D == 2 else "forward")
        if hard:
            attrs.update(activation_alpha=[0.2, 1.0, 1.0] * D,
                         activation_beta=[0.5, 0.0, 0.0] * D)
        if peep is not None:
            p = np.concatenate([peep[:H], peep[2 * H:], peep[H:2 * H]])  # ONNX order i, o, f
            inputs.append(graph.const("P", _f32(p[None])))
        if coupled:
            attrs["input_forget"] = 1
        op = "LSTM"
    while inputs and inputs[-1] == "":
        inputs.pop()
    Y, Y_h = graph.node(op, inputs, op.lower(), outputs=2, **attrs)
    if layer.OutputMode == "last":
        if D == 1:
            return graph.node("Squeeze", [Y_h, graph.const("axes", np.array([0]))], "last"), False
        t = graph.node("Transpose", [Y_h], "last", perm=[1, 0, 2])
        return graph.node("Reshape", [t, graph.const("shape", np.array([0, -1]))], "last"), False
    if D == 1:
        return graph.node("Squeeze", [Y, graph.const("axes", np.array([1]))], "seq"), True
    t = graph.node("Transpose", [Y], "seq", perm=[0, 2, 1, 3])
    return graph.node("Reshape", [t, graph.const("shape", np.array([0, 0, -1]))], "seq"), True


_ACTIVATION_OPS = {ReLULayer: "Relu", TanhLayer: "Tanh", SigmoidLayer: "Sigmoid"}


def _sequence_mask(graph, x, lengths):
    """A T-by-N-by-1 float mask of the real time steps (1) and the padding (0).

    Built once per lengths tensor: the layers between two that change the
    sequence lengths see the same T and lengths.
    """
    if lengths in graph.masks:
        return graph.masks[lengths]
    shape = graph.node("Shape", [x], "shape")
    T = graph.node("Gather", [shape, graph.const("zero", np.array(0))], "T", axis=0)
    steps = graph.node("Range", [graph.const("start", np.array(0, np.int64)), T,
                                 graph.const("step", np.array(1, np.int64))], "steps")
    steps = graph.node("Cast", [steps], "steps", to=graph.onnx.TensorProto.INT32)
    steps = graph.node("Unsqueeze", [steps, graph.const("axes", np.array([1]))], "steps")
    mask = graph.node("Less", [steps, lengths], "mask")
    mask = graph.node("Cast", [mask], "mask", to=graph.onnx.TensorProto.FLOAT)
    graph.masks[lengths] = graph.node("Unsqueeze", [mask, graph.const("axes", np.array([2]))],
                                      "mask")
    return graph.masks[lengths]


def _window_pads(func, layer):
    """(left, right) padding of a window layer, the same for every sequence, or an error."""
    if layer.PaddingMode == "same":
        if layer.Stride != 1:
            fail(func, f"layer '{layer.Name}' ({layer.type_name}) pads each sequence by its own "
                       f"length (Padding='same' with Stride {layer.Stride}), which one ONNX "
                       f"operator cannot; use explicit padding [left right] to export it.")
        span = layer._span()
        return (span - 1) // 2, span - 1 - (span - 1) // 2
    return layer._pads(0)


def window_lengths(graph, layer, lengths, pads):
    """The sequence lengths after a window layer: (L + left + right - span) // stride + 1."""
    if not lengths or not layer._changes_length():
        return lengths
    extra = int(pads[0] + pads[1] - layer._span())
    n = graph.node("Add", [lengths, graph.const("pad", np.array(extra, np.int32))], "len")
    n = graph.node("Div", [n, graph.const("stride", np.array(layer.Stride, np.int32))], "len")
    return graph.node("Add", [n, graph.const("one", np.array(1, np.int32))], "len")


def _window(func, graph, layer, x, lengths):
    """Conv, MaxPool or AveragePool over time; returns (output, its sequence lengths)."""
    left, right = _window_pads(func, layer)
    if isinstance(layer, Convolution1DLayer) and layer.PaddingValue != 0:
        fail(func, f"layer '{layer.Name}' pads with {layer.PaddingValue!r}; ONNX's Conv pads "
                   f"with zeros, so only PaddingValue 0 exports.")
    if isinstance(layer, AveragePooling1DLayer) and layer.PaddingValue != 0 and \
            (left or right):
        fail(func, f"layer '{layer.Name}' leaves padding out of its means (PaddingValue "
                   f"'mean'); ONNX's AveragePool with padding does not, so it does not export.")
    if isinstance(layer, MaxPooling1DLayer) and max(left, right) >= layer.PoolSize:
        fail(func, f"layer '{layer.Name}' has windows made only of padding (padding "
                   f"{[left, right]} for PoolSize {layer.PoolSize}), which ONNX's MaxPool "
                   f"computes differently; pad less than PoolSize.")
    if lengths and right > 0:       # steps after a sequence's end are its right padding
        mask = _sequence_mask(graph, x, lengths)
        if isinstance(layer, MaxPooling1DLayer):    # ignored by the maximum, as lstmkit's
            low = graph.node("Mul", [graph.node("Sub", [mask, graph.const(
                "one", _f32(1.0))], "pool"), graph.const("big", _f32(3e38))], "pool")
            x = graph.node("Add", [x, low], "pool")
        else:                                       # zeros, as lstmkit's
            x = graph.node("Mul", [x, mask], "conv")
    ncT = graph.node("Transpose", [x], "window", perm=[1, 2, 0])
    common = dict(strides=[layer.Stride], pads=[int(left), int(right)])
    if isinstance(layer, Convolution1DLayer):
        W = np.transpose(np.asarray(layer.Weights), (2, 1, 0))       # F-by-C-by-K
        y = graph.node("Conv", [ncT, graph.const("W", _f32(W)), graph.const(
            "b", _f32(np.asarray(layer.Bias).reshape(-1)))], "conv",
            kernel_shape=[layer.FilterSize], dilations=[layer.DilationFactor], **common)
    elif isinstance(layer, MaxPooling1DLayer):
        y = graph.node("MaxPool", [ncT], "pool", kernel_shape=[layer.PoolSize], **common)
    else:
        y = graph.node("AveragePool", [ncT], "pool", kernel_shape=[layer.PoolSize],
                       count_include_pad=1, **common)
    y = graph.node("Transpose", [y], "window", perm=[2, 0, 1])
    return y, window_lengths(graph, layer, lengths, (left, right))


def _layer_node(func, graph, layer, xs, is_seq, lengths, opset):
    """The ONNX nodes of one non-recurrent layer; returns the output's name."""
    x = xs[0]
    if isinstance(layer, FullyConnectedLayer):
        W, b = _f32(layer.Weights), _f32(np.asarray(layer.Bias).reshape(-1))
        if is_seq:
            x = graph.node("MatMul", [x, graph.const("W", np.ascontiguousarray(W.T))], "fc")
            return graph.node("Add", [x, graph.const("b", b)], "fc")
        return graph.node("Gemm", [x, graph.const("W", W), graph.const("b", b)], "fc", transB=1)
    if isinstance(layer, SoftmaxLayer):
        return graph.node("Softmax", [x], "softmax", axis=-1)
    if isinstance(layer, (DropoutLayer, FlattenLayer)):
        return x
    if type(layer) in _ACTIVATION_OPS:
        return graph.node(_ACTIVATION_OPS[type(layer)], [x], "act")
    if isinstance(layer, LeakyReLULayer):
        return graph.node("LeakyRelu", [x], "act", alpha=float(layer.Scale))
    if isinstance(layer, ELULayer):
        return graph.node("Elu", [x], "act", alpha=float(layer.Alpha))
    if isinstance(layer, ClippedReLULayer):
        return graph.node("Clip", [x, graph.const("lo", np.asarray(0.0, np.float32)),
                                   graph.const("hi", np.asarray(layer.Ceiling, np.float32))],
                          "act")
    if isinstance(layer, SwishLayer):
        return graph.node("Mul", [x, graph.node("Sigmoid", [x], "act")], "act")
    if isinstance(layer, GELULayer):
        if layer.Approximation == "none":
            inner = graph.node("Erf", [graph.node("Mul", [x, graph.const(
                "c", _f32(1 / np.sqrt(2)))], "gelu")], "gelu")
        else:
            cube = graph.node("Mul", [x, graph.node("Mul", [x, x], "gelu")], "gelu")
            u = graph.node("Add", [x, graph.node("Mul", [cube, graph.const(
                "c", _f32(0.044715))], "gelu")], "gelu")
            inner = graph.node("Tanh", [graph.node("Mul", [u, graph.const(
                "c", _f32(np.sqrt(2 / np.pi)))], "gelu")], "gelu")
        half = graph.node("Mul", [x, graph.const("half", _f32(0.5))], "gelu")
        return graph.node("Mul", [half, graph.node("Add", [inner, graph.const(
            "one", _f32(1.0))], "gelu")], "gelu")
    if isinstance(layer, (AdditionLayer, MultiplicationLayer)):
        op = "Add" if isinstance(layer, AdditionLayer) else "Mul"
        for other in xs[1:]:
            x = graph.node(op, [x, other], "merge")
        return x
    if isinstance(layer, ConcatenationLayer):
        return graph.node("Concat", xs, "concat", axis=-1)
    if isinstance(layer, BatchNormalizationLayer):    # prediction: an affine map per channel
        mean = np.asarray(layer.TrainedMean, np.float64).reshape(-1)
        var = np.asarray(layer.TrainedVariance, np.float64).reshape(-1)
        a = np.asarray(layer.Scale, np.float64).reshape(-1) / np.sqrt(var + layer.Epsilon)
        b = np.asarray(layer.Offset, np.float64).reshape(-1) - a * mean
        x = graph.node("Mul", [x, graph.const("a", _f32(a))], "bn")
        return graph.node("Add", [x, graph.const("b", _f32(b))], "bn")
    if isinstance(layer, LayerNormalizationLayer) and layer.OperationDimension != \
            "batch-excluded":
        if opset < 17:
            fail(func, f"layer '{layer.Name}' (layerNormalizationLayer) needs OpsetVersion 17 or "
                       f"later (ONNX's LayerNormalization).")
        return graph.node("LayerNormalization", [x, graph.const("scale", _f32(np.asarray(
            layer.Scale).reshape(-1))), graph.const("offset", _f32(np.asarray(
                layer.Offset).reshape(-1)))], "layernorm", axis=-1, epsilon=float(layer.Epsilon))
    if isinstance(layer, GlobalAveragePooling1DLayer) and is_seq:
        if lengths:
            mask = _sequence_mask(graph, x, lengths)
            total = graph.node("ReduceSum", [graph.node("Mul", [x, mask], "gap"),
                                             graph.const("axes", np.array([0]))], "gap",
                               keepdims=0)
            n = graph.node("Cast", [lengths], "n", to=graph.onnx.TensorProto.FLOAT)
            n = graph.node("Unsqueeze", [n, graph.const("axes", np.array([1]))], "n")
            return graph.node("Div", [total, n], "gap")
        return _reduce_time(graph, "ReduceMean", x, opset)
    if isinstance(layer, GlobalMaxPooling1DLayer) and is_seq:
        if lengths:
            mask = _sequence_mask(graph, x, lengths)
            low = graph.node("Mul", [graph.node("Sub", [mask, graph.const(
                "one", _f32(1.0))], "gmp"), graph.const("big", _f32(3e38))], "gmp")
            x = graph.node("Add", [x, low], "gmp")
        return _reduce_time(graph, "ReduceMax", x, opset)
    if isinstance(layer, Indexing1DLayer) and is_seq:
        if layer.Index == "first":
            return graph.node("Gather", [x, graph.const("zero", np.array(0))], "index", axis=0)
        if not lengths:
            return graph.node("Gather", [x, graph.const("last", np.array(-1))], "index", axis=0)
        last = graph.node("Sub", [graph.node("Cast", [lengths], "last",
                                             to=graph.onnx.TensorProto.INT64),
                                  graph.const("one", np.array(1, np.int64))], "last")
        shape = graph.node("Shape", [x], "shape")
        nc = graph.node("Slice", [shape, graph.const("b", np.array([1])),
                                  graph.const("e", np.array([3]))], "shape")
        full = graph.node("Concat", [graph.const("one", np.array([1])), nc], "shape", axis=0)
        idx = graph.node("Unsqueeze", [last, graph.const("axes", np.array([0, 2]))], "last")
        idx = graph.node("Expand", [idx, full], "last")
        y = graph.node("GatherElements", [x, idx], "index", axis=0)
        return graph.node("Squeeze", [y, graph.const("axes", np.array([0]))], "index")
    if isinstance(layer, WordEmbeddingLayer) and is_seq:
        W = np.asarray(layer.Weights).T                       # NumWords-by-Dimension
        idx = graph.node("Squeeze", [x, graph.const("axes", np.array([2]))], "emb")
        idx = graph.node("Sub", [graph.node("Cast", [idx], "emb",
                                            to=graph.onnx.TensorProto.INT64),
                                 graph.const("one", np.array(1, np.int64))], "emb")
        inside = graph.node("And", [
            graph.node("GreaterOrEqual", [idx, graph.const("zero", np.array(0, np.int64))],
                       "emb"),
            graph.node("Less", [idx, graph.const("V", np.array(W.shape[0], np.int64))], "emb")],
            "emb")
        idx = graph.node("Where", [inside, idx, graph.const(
            "oov", np.array(W.shape[0] - 1, np.int64))], "emb")
        return graph.node("Gather", [graph.const("W", _f32(W)), idx], "emb", axis=0)
    if isinstance(layer, PositionEmbeddingLayer) and is_seq:
        shape = graph.node("Shape", [x], "shape")
        T = graph.node("Slice", [shape, graph.const("b", np.array([0])),
                                 graph.const("e", np.array([1]))], "shape")
        rows = graph.node("Slice", [graph.const("W", _f32(np.asarray(layer.Weights).T)),
                                    graph.const("b", np.array([0])), T,
                                    graph.const("axes", np.array([0]))], "pos")
        rows = graph.node("Unsqueeze", [rows, graph.const("axes", np.array([1]))], "pos")
        n = graph.node("Slice", [shape, graph.const("b", np.array([1])),
                                 graph.const("e", np.array([2]))], "shape")
        full = graph.node("Concat", [T, n, graph.const("d", np.array([layer.OutputSize]))],
                          "shape", axis=0)
        return graph.node("Expand", [rows, full], "pos")
    if isinstance(layer, SelfAttentionLayer) and is_seq:     # dropout: training only
        return _attention(graph, layer, x, lengths)
    fail(func, f"layer '{layer.Name}' ({layer.type_name}) cannot be exported to ONNX by lstmkit "
               f"yet.")


def _attention(graph, layer, x, lengths):
    """Multi-head self-attention on T-by-N-by-C data, padded keys (and later steps) masked out."""
    H = layer.NumHeads

    def project(name, a):
        W = _f32(getattr(layer, f"{name}Weights"))
        b = _f32(np.asarray(getattr(layer, f"{name}Bias")).reshape(-1))
        a = graph.node("MatMul", [a, graph.const("W", np.ascontiguousarray(W.T))], "att")
        return graph.node("Add", [a, graph.const("b", b)], "att"), W.shape[0]

    def heads(a, width):                       # T-by-N-by-(H*d) -> N-by-H-by-T-by-d
        a = graph.node("Reshape", [a, graph.const("shape", np.array([0, 0, H, width // H]))],
                       "att")
        return graph.node("Transpose", [a], "att", perm=[1, 2, 0, 3])

    (q, dk), (k, _), (v, dv) = (project(n, x) for n in ("Query", "Key", "Value"))
    q, k, v = heads(q, dk), heads(k, dk), heads(v, dv)
    kt = graph.node("Transpose", [k], "att", perm=[0, 1, 3, 2])
    scores = graph.node("Mul", [graph.node("MatMul", [q, kt], "att"), graph.const(
        "scale", _f32(1 / np.sqrt(dk // H)))], "att")
    shape = graph.node("Shape", [x], "shape")
    T = graph.node("Gather", [shape, graph.const("zero", np.array(0))], "T", axis=0)
    steps = graph.node("Range", [graph.const("start", np.array(0, np.int64)), T,
                                 graph.const("step", np.array(1, np.int64))], "steps")
    big = graph.const("big", _f32(-1e30))
    if lengths:                                # keys beyond a sequence's length: -1e30
        n64 = graph.node("Cast", [lengths], "n", to=graph.onnx.TensorProto.INT64)
        n64 = graph.node("Unsqueeze", [n64, graph.const("axes", np.array([1]))], "n")
        pad = graph.node("GreaterOrEqual", [graph.node("Unsqueeze", [
            steps, graph.const("axes", np.array([0]))], "steps"), n64], "mask")   # N-by-T
        pad = graph.node("Unsqueeze", [pad, graph.const("axes", np.array([1, 2]))], "mask")
        scores = graph.node("Where", [pad, big, scores], "att")
    if layer.AttentionMask == "causal":        # later steps: -1e30
        later = graph.node("Greater", [graph.node("Unsqueeze", [
            steps, graph.const("axes", np.array([0]))], "steps"), graph.node("Unsqueeze", [
                steps, graph.const("axes", np.array([1]))], "steps")], "mask")        # T-by-T
        scores = graph.node("Where", [later, big, scores], "att")
    weights = graph.node("Softmax", [scores], "att", axis=-1)
    out = graph.node("MatMul", [weights, v], "att")                               # N,H,T,dv/H
    out = graph.node("Transpose", [out], "att", perm=[2, 0, 1, 3])                 # T,N,H,dv/H
    out = graph.node("Reshape", [out, graph.const("shape", np.array([0, 0, dv]))], "att")
    return project("Output", out)[0]


def _reduce_time(graph, op, x, opset):
    """``op`` over the time axis 0 (the axes are an attribute before opset 18, an input after)."""
    if opset >= 18:
        return graph.node(op, [x, graph.const("axes", np.array([0]))], "pool", keepdims=0)
    return graph.node(op, [x], "pool", axes=[0], keepdims=0)


def _normalize(graph, layer, x):
    mode = layer.Normalization
    if mode == "none":
        return x

    def column(v):
        return _f32(np.asarray(v, dtype=np.float64).reshape(-1))

    def safe(v):
        v = np.array(v, dtype=np.float64).reshape(-1)
        v[v == 0] = 1.0
        return _f32(v)

    if mode in ("zerocenter", "zscore"):
        x = graph.node("Sub", [x, graph.const("mean", column(layer.Mean))], "norm")
        if mode == "zscore":
            x = graph.node("Div", [x, graph.const("std", safe(layer.StandardDeviation))], "norm")
        return x
    x = graph.node("Sub", [x, graph.const("min", column(layer.Min))], "norm")
    x = graph.node("Div", [x, graph.const("range", safe(np.asarray(layer.Max) -
                                                          np.asarray(layer.Min)))], "norm")
    if mode == "rescale-symmetric":
        x = graph.node("Mul", [x, graph.const("two", _f32(2.0))], "norm")
        x = graph.node("Sub", [x, graph.const("one", _f32(1.0))], "norm")
    return x


@name_value_function()
def exportONNXNetwork(
    net: SeriesNetwork | DLNetwork,
    filename: str,
    *name_value: Any,
    OpsetVersion: int = DEFAULT_OPSET,
    BatchSize: int | None = None,
    NetworkName: str = "lstmkit_network",
    SequenceLengthsInput: bool = True,
) -> str:
    """Export a network to ONNX, as MATLAB's ``exportONNXNetwork``.

    Parameters
    ----------
    net : SeriesNetwork or DLNetwork
        A trained or assembled network, branches included; a dlnetwork with
        one input and one output.
    filename : str
        The ``.onnx`` file to write.
    OpsetVersion : int, default 14
        ONNX opset, 13 to 21.
    BatchSize : int, optional
        Fix the batch dimension (dynamic by default).
    NetworkName : str, default 'lstmkit_network'
        Name of the ONNX graph.
    SequenceLengthsInput : bool, default True
        lstmkit extension: add the ``sequence_lengths`` input (int32, one
        length per sequence) so that a padded batch gives each sequence the
        result lstmkit gives.  Without it every sequence runs all T steps.
        When layers change the sequence lengths (strided or unpadded
        convolution and pooling) and the output is a sequence, the graph also
        outputs ``output_lengths``: each output sequence's length (the steps
        after it are padding).

    Returns
    -------
    str
        The file written.

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
    >>> import onnxruntime as ort                       # ONNX Runtime takes time-major input
    >>> X = [rs.standard_normal((3, T)) for T in (5, 3)]          # two C-by-T sequences
    >>> padded = np.zeros((5, 2, 3), np.float32)                  # T-by-N-by-C, zero padded
    >>> for n, x in enumerate(X):
    ...     padded[:x.shape[1], n] = x.T
    >>> lengths = np.array([x.shape[1] for x in X], np.int32)     # each sequence's own length
    >>> scores = ort.InferenceSession(path).run(
    ...     None, {"input": padded, "sequence_lengths": lengths})[0]
    >>> bool(np.allclose(scores, predict(net, X), atol=1e-5))
    True
    """
    func = "exportONNXNetwork"
    onnx = need_onnx(func)
    if isinstance(net, DLNetwork):
        check_runnable(func, net)
    elif not isinstance(net, SeriesNetwork):
        fail(func, f"`net` must be a network from trainNetwork, assembleNetwork, dlnetwork or "
                   f"trainnet. Received: {_show(net)}.", TypeError)
    g = net._graph
    sizes = infer_sizes(func, g)
    K = sizes.output_sizes[network_output(g)]
    layers = list(g.layers)
    if not isinstance(filename, str) or not filename:
        fail(func, f"`filename` must be a file name (str). Received: {_show(filename)}.",
             TypeError)
    opset = check_positive_int(func, "OpsetVersion", OpsetVersion)
    if not MIN_OPSET <= opset <= MAX_OPSET:
        fail(func, f"`OpsetVersion` must be from {MIN_OPSET} to {MAX_OPSET}. "
                   f"Received: OpsetVersion={opset}.")
    batch = None if BatchSize is None else check_positive_int(func, "BatchSize", BatchSize)
    name = NetworkName
    if not isinstance(name, str):
        fail(func, f"`NetworkName` must be a str. Received: {_show(name)}.", TypeError)
    with_lengths = check_bool(func, "SequenceLengthsInput", SequenceLengthsInput)

    graph = _Graph(onnx)
    C = layers[0].InputSize
    n_dim = batch if batch is not None else "N"
    sequence_input = layers[0]._outputs_sequence(True)
    inputs = [onnx.helper.make_tensor_value_info("input", onnx.TensorProto.FLOAT,
                                                 ["T", n_dim, C] if sequence_input
                                                 else [n_dim, C])]
    lengths = ""
    if with_lengths and sequence_input:
        inputs.append(onnx.helper.make_tensor_value_info("sequence_lengths", onnx.TensorProto.INT32,
                                                         [n_dim]))
        lengths = "sequence_lengths"
    names, seqs = {0: _normalize(graph, layers[0], "input")}, {0: sequence_input}
    lens = {0: lengths}      # each node's sequence lengths (window layers change them)
    for k in compute_nodes(g):
        layer = layers[k]
        xs = [names[src] for src in g.sources[k]]
        x, is_seq = xs[0], seqs[g.sources[k][0]]
        node_lengths = lens[g.sources[k][0]]
        if len({lens[src] for src in g.sources[k]}) > 1:
            fail(func, f"layer '{layer.Name}' merges branches whose sequences have different "
                       f"lengths, which lstmkit does not export.")
        if isinstance(layer, (LSTMLayer, BiLSTMLayer, GRULayer)):
            if not is_seq:
                fail(func, f"layer '{layer.Name}' reads one vector per observation as a one-step "
                           f"sequence, which the export does not write yet.")
            y, out_seq = _recurrent(graph, layer, x, node_lengths, batch, opset)
        elif isinstance(layer, (Convolution1DLayer, MaxPooling1DLayer, AveragePooling1DLayer)):
            y, node_lengths = _window(func, graph, layer, x, node_lengths)
            out_seq = True
        else:
            y = _layer_node(func, graph, layer, xs, is_seq, node_lengths, opset)
            out_seq = layer._outputs_sequence(is_seq if len(xs) == 1 else
                                              [seqs[src] for src in g.sources[k]])
        names[k], seqs[k], lens[k] = y, out_seq, node_lengths
    out_node = network_output(g)
    x, is_seq = names[out_node], seqs[out_node]
    graph.nodes.append(onnx.helper.make_node("Identity", [x], ["output"], name="output"))
    changed = any(layer._changes_length() for layer in layers if hasattr(layer, "_span"))
    out_shape = ["T_out" if changed else "T", n_dim, K] if is_seq else [n_dim, K]
    outputs = [onnx.helper.make_tensor_value_info("output", onnx.TensorProto.FLOAT, out_shape)]
    if is_seq and lengths and lens[out_node] != lengths:     # each output sequence's length
        graph.nodes.append(onnx.helper.make_node("Identity", [lens[out_node]],
                                                 ["output_lengths"], name="output_lengths"))
        outputs.append(onnx.helper.make_tensor_value_info("output_lengths",
                                                          onnx.TensorProto.INT32, [n_dim]))
    g = onnx.helper.make_graph(graph.nodes, name, inputs, outputs, graph.initializers)
    model = onnx.helper.make_model(g, opset_imports=[onnx.helper.make_opsetid("", opset)],
                                   producer_name="lstmkit")
    model.ir_version = min(model.ir_version, 8 if opset <= 17 else 9)
    out_layer = layers[-1]
    info = {"output_layer": "classification" if isinstance(out_layer, ClassificationOutputLayer)
            else "regression" if isinstance(out_layer, RegressionOutputLayer) else None}
    if isinstance(out_layer, ClassificationOutputLayer):
        info["classes"] = np.asarray(out_layer.Classes).tolist()
    meta = model.metadata_props.add()
    meta.key, meta.value = "lstmkit", json.dumps(info)
    onnx.checker.check_model(model)
    write_atomically(filename, lambda f: f.write(model.SerializeToString()), func=func)
    return filename
