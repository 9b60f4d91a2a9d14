"""exportONNXNetwork of the layers beside the recurrent ones, checked in ONNX Runtime on
variable-length batches (the sequence_lengths input keeps padding out of every result)."""

import numpy as np
import pytest

from lstmkit import (additionLayer, addLayers, batchNormalizationLayer, clippedReluLayer,
                     concatenationLayer, connectLayers, convolution1dLayer, dlnetwork, eluLayer,
                     exportONNXNetwork, featureInputLayer, fullyConnectedLayer, geluLayer,
                     globalAveragePooling1dLayer, globalMaxPooling1dLayer, initialize,
                     layerNormalizationLayer, leakyReluLayer, lstmLayer, maxPooling1dLayer,
                     minibatchpredict, multiplicationLayer, reluLayer, sequenceInputLayer,
                     sigmoidLayer, softmaxLayer, swishLayer, tanhLayer)

ort = pytest.importorskip("onnxruntime")


def round_trip(path, net, X, kinds=()):
    """importNetworkFromONNX of an exported network predicts as the network, with its layers."""
    from lstmkit import importNetworkFromONNX
    back = importNetworkFromONNX(path)
    names = [type(layer).__name__ for layer in back.Layers]
    for kind in kinds:
        assert kind in names, (kind, names)
    ours = minibatchpredict(net, X, UniformOutput=False)
    theirs = minibatchpredict(back, X, UniformOutput=False)
    for a, b in zip(theirs, ours):
        np.testing.assert_allclose(a, b, atol=2e-5)
    return back


def run_onnx(path, X):
    T = max(x.shape[0] for x in X)
    padded = np.zeros((T, len(X), X[0].shape[1]), np.float32)
    for n, x in enumerate(X):
        padded[:x.shape[0], n] = x
    lengths = np.array([x.shape[0] for x in X], np.int32)
    return ort.InferenceSession(path).run(None, {"input": padded,
                                                 "sequence_lengths": lengths})[0]


@pytest.mark.parametrize("opset", [17, 18])
def test_convolution_block_with_normalizations(rng, tmp_path, opset):
    layers = [sequenceInputLayer(3), convolution1dLayer(3, 8, Padding="causal"), reluLayer(),
              layerNormalizationLayer(), convolution1dLayer(3, 6, Padding="same",
                                                            DilationFactor=2), geluLayer(),
              batchNormalizationLayer(TrainedMean=rng.standard_normal(6),
                                      TrainedVariance=rng.uniform(0.5, 2, 6)),
              globalAveragePooling1dLayer(), fullyConnectedLayer(4), softmaxLayer()]
    net = dlnetwork(layers)
    X = [rng.standard_normal((T, 3)).astype(np.float32) for T in (7, 4, 9, 1)]
    path = exportONNXNetwork(net, str(tmp_path / "conv.onnx"), OpsetVersion=opset)
    np.testing.assert_allclose(run_onnx(path, X), minibatchpredict(net, X), atol=1e-5)
    round_trip(path, net, X, ["Convolution1DLayer", "GELULayer", "GlobalAveragePooling1DLayer"])


def test_every_activation_and_global_max_pooling(rng, tmp_path):
    acts = [reluLayer(), leakyReluLayer(0.2), clippedReluLayer(0.8), eluLayer(0.5), tanhLayer(),
            sigmoidLayer(), swishLayer(), geluLayer(), geluLayer(Approximation="tanh")]
    layers = [sequenceInputLayer(3), fullyConnectedLayer(5)]
    for act in acts:
        layers += [act, fullyConnectedLayer(5)]
    net = dlnetwork(layers + [globalMaxPooling1dLayer(), fullyConnectedLayer(2)])
    X = [rng.standard_normal((T, 3)).astype(np.float32) for T in (5, 2, 6)]
    path = exportONNXNetwork(net, str(tmp_path / "acts.onnx"))
    np.testing.assert_allclose(run_onnx(path, X), minibatchpredict(net, X), atol=1e-5)
    back = round_trip(path, net, X, ["SwishLayer", "GlobalMaxPooling1DLayer"])
    gelus = [layer.Approximation for layer in back.Layers if type(layer).__name__ == "GELULayer"]
    assert gelus == ["none", "tanh"]


def test_branching_network_exports(rng, tmp_path):
    net = dlnetwork([sequenceInputLayer(3, Name="in"), lstmLayer(4, Name="lstm"),
                     additionLayer(2, Name="add"), multiplicationLayer(2, Name="mul"),
                     concatenationLayer(1, 2, Name="cat"), fullyConnectedLayer(2)],
                    Initialize=False)
    net = addLayers(net, fullyConnectedLayer(4, Name="skip"))
    for s, d in (("in", "skip"), ("skip", "add/in2"), ("lstm", "mul/in2"), ("in", "cat/in2")):
        net = connectLayers(net, s, d)
    net = initialize(net)
    X = [rng.standard_normal((T, 3)).astype(np.float32) for T in (5, 3)]
    path = exportONNXNetwork(net, str(tmp_path / "dag.onnx"))
    out = run_onnx(path, X)
    for n, (x, y) in enumerate(zip(X, minibatchpredict(net, X, UniformOutput=False))):
        np.testing.assert_allclose(out[:x.shape[0], n], y, atol=1e-5)
    back = round_trip(path, net, X, ["AdditionLayer", "MultiplicationLayer",
                                     "ConcatenationLayer"])
    assert back.Connections.height == net.Connections.height


def test_feature_network_and_errors(rng, tmp_path):
    net = dlnetwork([featureInputLayer(4), fullyConnectedLayer(6), reluLayer(),
                     batchNormalizationLayer(), fullyConnectedLayer(2), softmaxLayer()])
    X = rng.standard_normal((5, 4)).astype(np.float32)
    path = exportONNXNetwork(net, str(tmp_path / "mlp.onnx"))
    out = ort.InferenceSession(path).run(None, {"input": X})[0]
    np.testing.assert_allclose(out, minibatchpredict(net, X), atol=1e-5)
    from lstmkit import importNetworkFromONNX
    back = importNetworkFromONNX(path)
    assert type(back.Layers[0]).__name__ == "FeatureInputLayer"
    np.testing.assert_allclose(minibatchpredict(back, X), minibatchpredict(net, X), atol=1e-5)
    with pytest.raises(ValueError, match="windows made only of padding"):
        exportONNXNetwork(dlnetwork([sequenceInputLayer(3), maxPooling1dLayer(2, Padding=2)]),
                          str(tmp_path / "x.onnx"))
    with pytest.raises(ValueError, match="OpsetVersion 17 or later"):
        exportONNXNetwork(dlnetwork([sequenceInputLayer(3), layerNormalizationLayer()]),
                          str(tmp_path / "y.onnx"), OpsetVersion=14)


def test_activations_and_normalizations_round_trip(rng, tmp_path):
    from lstmkit import importNetworkFromONNX
    layers = [sequenceInputLayer(3), lstmLayer(5), reluLayer(), layerNormalizationLayer(
        Scale=rng.uniform(0.5, 2, 5), Offset=rng.standard_normal(5)), fullyConnectedLayer(4),
        leakyReluLayer(0.1), eluLayer(0.7), clippedReluLayer(0.9), fullyConnectedLayer(4),
        tanhLayer(), batchNormalizationLayer(TrainedMean=rng.standard_normal(4),
                                             TrainedVariance=rng.uniform(0.5, 2, 4),
                                             Scale=rng.uniform(0.5, 2, 4),
                                             Offset=rng.standard_normal(4)),
        sigmoidLayer(), fullyConnectedLayer(2)]
    net = dlnetwork(layers)
    back = importNetworkFromONNX(exportONNXNetwork(net, str(tmp_path / "chain.onnx"),
                                                   OpsetVersion=17))
    kinds = [type(layer).__name__ for layer in back.Layers]
    assert kinds.count("BatchNormalizationLayer") == 1 and "LayerNormalizationLayer" in kinds
    X = [rng.standard_normal((T, 3)) for T in (4, 7)]
    for a, b in zip(minibatchpredict(back, X, UniformOutput=False),
                    minibatchpredict(net, X, UniformOutput=False)):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_batch_normalization_operator_imports(rng, tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper
    from lstmkit import importNetworkFromONNX
    C = 3
    stats = [rng.uniform(0.5, 2, C), rng.standard_normal(C), rng.standard_normal(C),
             rng.uniform(0.5, 2, C)]
    inits = [numpy_helper.from_array(v.astype(np.float32), n)
             for v, n in zip(stats, ("scale", "bias", "mean", "var"))]
    nodes = [helper.make_node("Transpose", ["input"], ["nct"], perm=[1, 2, 0]),
             helper.make_node("BatchNormalization", ["nct", "scale", "bias", "mean", "var"],
                              ["bn"], epsilon=1e-3),
             helper.make_node("Transpose", ["bn"], ["output"], perm=[2, 0, 1])]
    graph = helper.make_graph(nodes, "bn", [helper.make_tensor_value_info(
        "input", TensorProto.FLOAT, ["T", "N", C])], [helper.make_tensor_value_info(
            "output", TensorProto.FLOAT, ["T", "N", C])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 8
    onnx.save(model, str(tmp_path / "bn.onnx"))
    net = importNetworkFromONNX(str(tmp_path / "bn.onnx"))
    x = rng.standard_normal((5, C))
    scale, bias, mean, var = stats
    np.testing.assert_allclose(minibatchpredict(net, [x], UniformOutput=False)[0],
                               scale * (x - mean) / np.sqrt(var + 1e-3) + bias, atol=1e-5)


@pytest.mark.parametrize("index", ["first", "last"])
def test_indexing_and_embeddings_export(rng, tmp_path, index):
    from lstmkit import indexing1dLayer, positionEmbeddingLayer, wordEmbeddingLayer
    net = dlnetwork([sequenceInputLayer(1, Name="in"), wordEmbeddingLayer(4, 6, Name="emb"),
                     additionLayer(2, Name="add"), lstmLayer(3, Name="lstm"),
                     indexing1dLayer(index), fullyConnectedLayer(2)], Initialize=False)
    net = addLayers(net, positionEmbeddingLayer(4, 12, Name="pos"))
    net = initialize(connectLayers(connectLayers(net, "emb", "pos"), "pos", "add/in2"))
    X = [rng.integers(0, 8, (T, 1)).astype(np.float32) for T in (5, 2, 7)]   # 0 and 7: OOV
    path = exportONNXNetwork(net, str(tmp_path / "emb.onnx"))
    np.testing.assert_allclose(run_onnx(path, X), minibatchpredict(net, X), atol=1e-5)
    back = round_trip(path, net, X, ["WordEmbeddingLayer", "PositionEmbeddingLayer",
                                     "Indexing1DLayer"])
    emb = next(layer for layer in back.Layers if type(layer).__name__ == "WordEmbeddingLayer")
    np.testing.assert_allclose(emb.Weights, next(                 # float32 in the file
        layer for layer in net.Layers if layer.Name == "emb").Weights, rtol=1e-6)


@pytest.mark.parametrize("mask", ["none", "causal"])
def test_self_attention_export(rng, tmp_path, mask):
    from lstmkit import selfAttentionLayer
    net = dlnetwork([sequenceInputLayer(4), selfAttentionLayer(2, 6, NumValueChannels=4,
                                                               OutputSize=5,
                                                               AttentionMask=mask),
                     globalAveragePooling1dLayer(), fullyConnectedLayer(3)])
    X = [rng.standard_normal((T, 4)).astype(np.float32) for T in (6, 3, 8, 1)]
    path = exportONNXNetwork(net, str(tmp_path / "att.onnx"))
    np.testing.assert_allclose(run_onnx(path, X), minibatchpredict(net, X), atol=1e-5)
    back = round_trip(path, net, X, ["SelfAttentionLayer"])
    att = next(layer for layer in back.Layers if type(layer).__name__ == "SelfAttentionLayer")
    assert (att.NumHeads, att.AttentionMask) == (2, mask)


@pytest.mark.parametrize("op", ["MaxPool", "AveragePool"])
def test_windowed_pooling_and_strided_conv_import(rng, tmp_path, op):
    """ONNX's 1-D Conv and pooling on N-C-T data (as other tools write them) import as layers."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper
    from lstmkit import importNetworkFromONNX
    W = rng.standard_normal((5, 3, 3)).astype(np.float32)           # F-by-C-by-K
    b = rng.standard_normal(5).astype(np.float32)
    attrs = dict(kernel_shape=[2], strides=[2], pads=[1, 0])
    if op == "AveragePool":
        attrs["count_include_pad"] = 1
    nodes = [helper.make_node("Transpose", ["input"], ["nct"], perm=[1, 2, 0]),
             helper.make_node("Conv", ["nct", "W", "b"], ["conv"], kernel_shape=[3],
                              strides=[2], pads=[1, 1], dilations=[1]),
             helper.make_node("Relu", ["conv"], ["relu"]),
             helper.make_node(op, ["relu"], ["pool"], **attrs),
             helper.make_node("Transpose", ["pool"], ["output"], perm=[2, 0, 1])]
    graph = helper.make_graph(nodes, "pool", [helper.make_tensor_value_info(
        "input", TensorProto.FLOAT, ["T", "N", 3])], [helper.make_tensor_value_info(
            "output", TensorProto.FLOAT, ["T2", "N", 5])],
        [numpy_helper.from_array(W, "W"), numpy_helper.from_array(b, "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 8
    path = str(tmp_path / "pool.onnx")
    onnx.save(model, path)
    net = importNetworkFromONNX(path)
    kinds = [type(layer).__name__ for layer in net.Layers]
    assert kinds[1] == "Convolution1DLayer" and kinds[3].startswith(op.replace("Pool", "Pooling"))
    x = rng.standard_normal((9, 1, 3)).astype(np.float32)          # one sequence, no padding
    ref = ort.InferenceSession(path).run(None, {"input": x})[0][:, 0]
    np.testing.assert_allclose(minibatchpredict(net, [x[:, 0]], UniformOutput=False)[0], ref,
                               atol=1e-5)


@pytest.mark.parametrize("pool", ["max", "average"])
def test_length_changing_windows_export_and_round_trip(rng, tmp_path, pool):
    from lstmkit import averagePooling1dLayer, importNetworkFromONNX
    make = maxPooling1dLayer if pool == "max" else averagePooling1dLayer
    net = dlnetwork([sequenceInputLayer(3), convolution1dLayer(3, 6, Stride=2, Padding=[1, 2]),
                     reluLayer(), make(2, Stride=2, Padding=[0, 1]),
                     convolution1dLayer(2, 4, Padding="causal", DilationFactor=2),
                     lstmLayer(5), fullyConnectedLayer(3)])
    X = [rng.standard_normal((T, 3)).astype(np.float32) for T in (11, 4, 9, 6, 3)]
    path = exportONNXNetwork(net, str(tmp_path / "win.onnx"))
    T = max(x.shape[0] for x in X)
    padded = np.zeros((T, len(X), 3), np.float32)
    for n, x in enumerate(X):
        padded[:x.shape[0], n] = x
    out, out_lengths = ort.InferenceSession(path).run(None, {
        "input": padded, "sequence_lengths": np.array([x.shape[0] for x in X], np.int32)})
    ours = minibatchpredict(net, X, UniformOutput=False)
    assert out_lengths.tolist() == [y.shape[0] for y in ours]
    for n, y in enumerate(ours):
        np.testing.assert_allclose(out[:y.shape[0], n], y, atol=1e-5)
    back = importNetworkFromONNX(path)
    for a, b in zip(minibatchpredict(back, X, UniformOutput=False), ours):
        np.testing.assert_allclose(a, b, atol=2e-5)
    with pytest.raises(ValueError, match="pads each sequence by its own length"):
        exportONNXNetwork(dlnetwork([sequenceInputLayer(3), make(2, Stride=2, Padding="same")]),
                          str(tmp_path / "same.onnx"))


def test_import_refuses_what_it_cannot_read(rng, tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper
    from lstmkit import importNetworkFromONNX
    nodes = [helper.make_node("Transpose", ["input"], ["xt"], perm=[0, 2, 1]),
             helper.make_node("MatMul", ["input", "xt"], ["output"])]
    graph = helper.make_graph(nodes, "mm", [helper.make_tensor_value_info(
        "input", TensorProto.FLOAT, ["T", "N", 3])], [helper.make_tensor_value_info(
            "output", TensorProto.FLOAT, ["T", "N", "N"])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 8
    onnx.save(model, str(tmp_path / "mm.onnx"))
    with pytest.raises(ValueError, match="multiplies two computed tensors"):
        importNetworkFromONNX(str(tmp_path / "mm.onnx"))
    # data combined with a tensor computed from its shape alone is never dropped silently
    nodes = [helper.make_node("Shape", ["input"], ["s"]),
             helper.make_node("Cast", ["s"], ["sf"], to=TensorProto.FLOAT),
             helper.make_node("Add", ["input", "sf"], ["output"])]
    graph = helper.make_graph(nodes, "shape", [helper.make_tensor_value_info(
        "input", TensorProto.FLOAT, ["T", "N", 3])], [helper.make_tensor_value_info(
            "output", TensorProto.FLOAT, ["T", "N", 3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 8
    onnx.save(model, str(tmp_path / "shape.onnx"))
    with pytest.raises(ValueError, match="combines network data with a computed tensor"):
        importNetworkFromONNX(str(tmp_path / "shape.onnx"))
