"""The graph engine: order, connections and errors, and forward/backward through branches."""

import numpy as np
import pytest

from lstmkit import fullyConnectedLayer, lstmLayer, sequenceInputLayer
from lstmkit._packing import PackedBatch
from lstmkit.graph import Graph, split_port
from lstmkit.layers.base import Layer

from gradcheck import numerical_gradient


class Add(Layer):
    """A two-input layer for the engine's tests (real merge layers come with the layers issue)."""

    type_name = "Addition"
    default_name = "add"
    NumInputs = 2
    InputNames = ("in1", "in2")

    def _output_size(self, input_sizes):
        return input_sizes[0]

    def _outputs_sequence(self, input_is_sequence):
        return input_is_sequence[0]

    def _forward(self, x, batch, state, training, dtype):
        a, b = x
        return a + b, None, None

    def _backward(self, dy, cache, grads, need_dx):
        return [dy, dy]


class Scale(Layer):
    """y = 3 x, to tell branches apart."""

    type_name = "Scale"
    default_name = "scale"

    def _forward(self, x, batch, state, training, dtype):
        return 3.0 * x, None, None

    def _backward(self, dy, cache, grads, need_dx):
        return 3.0 * dy


def fc(name, K, C, rng):
    layer = fullyConnectedLayer(K, Name=name, Weights=rng.standard_normal((K, C)),
                                Bias=rng.standard_normal(K))
    layer._initialize(C, None)
    return layer


def branching(rng):
    """in -> fc1 -> add/in1 ; in -> scale -> fc2 -> add/in2 ; add -> fc3 (listed out of order)."""
    inp = sequenceInputLayer(3, Name="in")
    layers = [fc("fc3", 2, 4, rng), inp, Add(Name="add"), fc("fc1", 4, 3, rng),
              Scale(Name="scale"), fc("fc2", 4, 3, rng)]
    connections = [("in", "fc1"), ("in", "scale"), ("scale", "fc2"), ("fc1", "add/in1"),
                   ("fc2", "add/in2"), ("add", "fc3")]
    return Graph(layers, connections)


def test_split_port_and_names_with_slashes(rng):
    assert split_port("add/in2") == ("add", "in2") and split_port("fc") == ("fc", None)
    assert split_port("/rnn/LSTM/in1") == ("/rnn/LSTM", "in1")
    # ONNX node names hold '/': a chain and a named connection both work
    chain = Graph([sequenceInputLayer(3, Name="in"), Scale(Name="/rnn/LSTM"),
                   Scale(Name="/fc/Gemm")])
    assert chain.sources == [[], [0], [1]]
    g = Graph([sequenceInputLayer(2, Name="in"), Scale(Name="/a/b"), Add(Name="/m/add")],
              [("in", "/a/b"), ("/a/b", "/m/add/in2"), ("in", "/m/add")])
    assert g.sources[g.index("/m/add")] == [g.index("in"), g.index("/a/b")]


def test_topological_order_and_wiring(rng):
    g = branching(rng)
    names = [layer.Name for layer in g.layers]
    assert names.index("in") < names.index("fc1") < names.index("add") < names.index("fc3")
    assert names.index("scale") < names.index("fc2") < names.index("add")
    add = g.index("add")
    assert [g.layers[s].Name for s in g.sources[add]] == ["fc1", "fc2"]   # by port, in1 then in2
    assert sorted(g.layers[k].Name for k, _ in g.consumers[g.index("in")]) == ["fc1", "scale"]
    # a chain keeps the list order
    chain = Graph([sequenceInputLayer(3, Name="a"), lstmLayer(4, Name="b")])
    assert [layer.Name for layer in chain.layers] == ["a", "b"] and chain.sources == [[], [0]]


def test_forward_and_backward_through_branches(rng):
    g = branching(rng)
    batch = PackedBatch([4, 2])
    x = rng.standard_normal((6, 3))
    nodes = [k for k in range(len(g)) if g.layers[k].Name != "in"]
    fc1, fc2, fc3 = (g.layers[g.index(n)] for n in ("fc1", "fc2", "fc3"))

    def reference(x):
        h = x @ fc1.Weights.T + fc1.Bias.T + (3 * x) @ fc2.Weights.T + fc2.Bias.T
        return h @ fc3.Weights.T + fc3.Bias.T

    values = {g.index("in"): x}
    caches, _ = g.forward(values, batch, {}, True, np.dtype(np.float64), nodes)
    y = values[g.index("fc3")]
    np.testing.assert_allclose(y, reference(x), rtol=1e-12)
    # gradient of sum(w * y) for every weight, against central differences
    w = rng.standard_normal(y.shape)
    grads = {k: {lb.name: np.zeros_like(getattr(g.layers[k], lb.name))
                 for lb in g.layers[k].learnables} for k in range(len(g))}
    g.backward({g.index("fc3"): w}, caches, grads, nodes)
    for layer in (fc1, fc2, fc3):
        k = g.index(layer.Name)
        for name in ("Weights", "Bias"):
            param = getattr(layer, name)

            def loss():
                return float(np.sum(w * reference(x)))
            numeric = numerical_gradient(loss, param)
            np.testing.assert_allclose(grads[k][name], numeric, rtol=1e-6, atol=1e-9,
                                       err_msg=f"{layer.Name}.{name}")


def test_an_output_that_feeds_two_consumers_sums_their_gradients(rng):
    inp = sequenceInputLayer(2, Name="in")
    g = Graph([inp, fc("f", 2, 2, rng), Add(Name="add")],
              [("in", "f"), ("f", "add/in1"), ("f", "add/in2")])
    x = rng.standard_normal((3, 2))
    values = {0: x}
    caches, _ = g.forward(values, PackedBatch([3]), {}, True, np.dtype(np.float64), [1, 2])
    grads = [{}, {"Weights": np.zeros((2, 2)), "Bias": np.zeros((2, 1))}, {}]
    g.backward({2: np.ones((3, 2))}, caches, grads, [1, 2])
    np.testing.assert_allclose(grads[1]["Bias"].ravel(), [6.0, 6.0])   # 2 consumers x 3 rows


def test_connection_errors(rng):
    inp = sequenceInputLayer(2, Name="in")
    with pytest.raises(ValueError, match=r"the connection 'in' -> 'nope' names no layer 'nope'"):
        Graph([inp, Add(Name="add")], [("in", "nope")])
    with pytest.raises(ValueError, match=r"layer 'add' has no input 'in3'; its inputs: in1, in2"):
        Graph([inp, Add(Name="add")], [("in", "add/in3")])
    with pytest.raises(ValueError, match=r"input add/in1 is connected twice"):
        Graph([inp, Add(Name="add")], [("in", "add/in1"), ("in", "add/in1")])
    with pytest.raises(ValueError, match=r"the connections form a cycle through 'a', 'b'"):
        Graph([Scale(Name="a"), Scale(Name="b")], [("a", "b"), ("b", "a")])
    with pytest.raises(ValueError, match=r"layer names must be unique"):
        Graph([Scale(Name="a"), Scale(Name="a")])
    # an input layer inside a layer array is wired to nothing (check_layers reports it)
    assert Graph([Scale(Name="a"), sequenceInputLayer(2, Name="in2")]).sources == [[], []]
    g = Graph([inp, Add(Name="add")], [("in", "add/in1")])
    assert g.unconnected == [("add", 1)]
