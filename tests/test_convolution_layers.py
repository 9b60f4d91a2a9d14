"""convolution1dLayer and the 1-D pooling layers: kernels against float64 numpy references and
central differences, per-sequence padding, padding invariance, MATLAB's shapes and errors."""

import numpy as np
import pytest

from gradcheck import assert_gradient_close, numerical_gradient
from lstmkit import (averagePooling1dLayer, classificationLayer, convolution1dLayer, dlnetwork,
                     fullyConnectedLayer, globalAveragePooling1dLayer, globalMaxPooling1dLayer,
                     layerNormalizationLayer, loadNetwork, maxPooling1dLayer, minibatchpredict,
                     predict, reluLayer, saveNetwork, sequenceInputLayer, softmaxLayer,
                     trainingOptions, trainNetwork, lstmLayer)
from lstmkit._packing import PackedBatch
from netutil import trainnet_gradient_check

F64 = np.dtype(np.float64)


def pad_sequence(x, left, right, value):
    """x is T-by-C; MATLAB's padding values."""
    if value == "replicate":
        return np.pad(x, ((left, right), (0, 0)), mode="edge")
    if value == "symmetric-include-edge":
        return np.pad(x, ((left, right), (0, 0)), mode="symmetric")
    if value == "symmetric-exclude-edge":
        return np.pad(x, ((left, right), (0, 0)), mode="reflect")
    return np.pad(x, ((left, right), (0, 0)), constant_values=value)


def conv_reference(x, W, b, stride, dilation, left, right, value):
    """One T-by-C sequence, W F-by-C-by-K: T_out-by-K."""
    xp = pad_sequence(x, left, right, value)
    F = W.shape[0]
    span = (F - 1) * dilation + 1
    out = []
    for start in range(0, xp.shape[0] - span + 1, stride):
        window = xp[start:start + span:dilation]          # F-by-C
        out.append(np.einsum("fc,fck->k", window, W) + b.reshape(-1))
    return np.array(out).reshape(-1, W.shape[2])


def run_layer(layer, seqs, training=False):
    """Pack T-by-C sequences, run the layer, return (outputs per sequence, cache, batch, x)."""
    batch = PackedBatch([s.shape[0] for s in seqs])
    x = batch.pack([s.T for s in seqs], F64)
    y, cache, _ = layer._forward(x, batch, None, training, F64)
    out_batch = layer._output_batch(batch)
    if layer._outputs_sequence(True):
        return [o.T for o in out_batch.unpack(y)], cache, batch, x
    return list(batch.to_caller_order(y)), cache, batch, x


def same_pads(L, stride, span):
    total = max((-(-L // stride) - 1) * stride + span - L, 0)
    return total // 2, total - total // 2


CASES = [
    dict(F=3, stride=1, dil=1, padding=0, value=0.0),
    dict(F=3, stride=2, dil=1, padding=[2, 1], value=0.5),
    dict(F=2, stride=1, dil=2, padding="causal", value=0.0),
    dict(F=3, stride=2, dil=1, padding="same", value=0.0),
    dict(F=4, stride=1, dil=1, padding="same", value="replicate"),
    dict(F=3, stride=1, dil=1, padding=[2, 2], value="symmetric-include-edge"),
    dict(F=3, stride=1, dil=1, padding=[2, 2], value="symmetric-exclude-edge"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"F{c['F']}s{c['stride']}d{c['dil']}"
                                                      f"p{c['padding']}v{c['value']}")
def test_convolution_matches_reference_per_sequence(rng, case):
    C, K = 3, 4
    W, b = rng.standard_normal((case["F"], C, K)), rng.standard_normal(K)
    layer = convolution1dLayer(case["F"], K, Stride=case["stride"], DilationFactor=case["dil"],
                               Padding=case["padding"], PaddingValue=case["value"], Weights=W,
                               Bias=b)
    layer._initialize(C, None)
    seqs = [rng.standard_normal((T, C)) for T in (9, 5, 12, 6)]
    outs, _, _, _ = run_layer(layer, seqs)
    span = (case["F"] - 1) * case["dil"] + 1
    for x, y in zip(seqs, outs):
        if case["padding"] == "same":
            left, right = same_pads(x.shape[0], case["stride"], span)
        elif case["padding"] == "causal":
            left, right = span - 1, 0
        else:
            left, right = np.broadcast_to(case["padding"], 2)
        ref = conv_reference(x, W, b, case["stride"], case["dil"], left, right, case["value"])
        np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-12)
        assert layer._output_length(x.shape[0]) == ref.shape[0]


@pytest.mark.parametrize("case", CASES[:4] + CASES[5:6], ids=lambda c: str(c["padding"]))
def test_convolution_gradients_match_central_differences(rng, case):
    C, K = 2, 3
    layer = convolution1dLayer(case["F"], K, Stride=case["stride"], DilationFactor=case["dil"],
                               Padding=case["padding"], PaddingValue=case["value"],
                               Weights=rng.standard_normal((case["F"], C, K)),
                               Bias=rng.standard_normal(K))
    layer._initialize(C, None)
    seqs = [rng.standard_normal((T, C)) for T in (7, 4, 5)]
    batch = PackedBatch([s.shape[0] for s in seqs])
    x = batch.pack([s.T for s in seqs], F64)
    y, cache, _ = layer._forward(x, batch, None, True, F64)
    w = rng.standard_normal(y.shape)
    grads = {"Weights": np.zeros(layer.Weights.shape), "Bias": np.zeros((1, K))}
    dx = layer._backward(w, cache, grads, True)

    def loss():
        return float(np.sum(w * layer._forward(x, batch, None, False, F64)[0]))

    assert_gradient_close(dx, numerical_gradient(loss, x), rtol=1e-6, atol=1e-8, name="x")
    for name in ("Weights", "Bias"):
        assert_gradient_close(grads[name], numerical_gradient(loss, getattr(layer, name)),
                              rtol=1e-6, atol=1e-8, name=name)


def pool_reference(x, size, stride, left, right, kind, count_padding=True):
    T = x.shape[0]
    out = []
    for start in range(-left, T + right - size + 1, stride):
        idx = [i for i in range(start, start + size) if 0 <= i < T]
        if kind == "max":
            out.append(x[idx].max(axis=0))
        else:
            out.append(x[idx].sum(axis=0) / (size if count_padding else len(idx)))
    return np.array(out)


@pytest.mark.parametrize("kind,padding,value", [("max", 0, 0), ("max", [1, 1], 0),
                                                ("average", "same", 0),
                                                ("average", [1, 2], "mean")])
def test_pooling_matches_reference_and_gradients(rng, kind, padding, value):
    if kind == "max":
        layer = maxPooling1dLayer(3, Stride=2, Padding=padding)
    else:
        layer = averagePooling1dLayer(3, Stride=2, Padding=padding, PaddingValue=value)
    seqs = [rng.standard_normal((T, 2)) for T in (8, 3, 6)]
    outs, _, _, _ = run_layer(layer, seqs)
    for x, y in zip(seqs, outs):
        left, right = same_pads(x.shape[0], 2, 3) if padding == "same" else \
            np.broadcast_to(padding, 2)
        np.testing.assert_allclose(y, pool_reference(x, 3, 2, left, right, kind, value == 0),
                                   rtol=1e-12, atol=1e-12)
    batch = PackedBatch([s.shape[0] for s in seqs])
    x = batch.pack([s.T for s in seqs], F64)
    y, cache, _ = layer._forward(x, batch, None, True, F64)
    w = rng.standard_normal(y.shape)
    dx = layer._backward(w, cache, {}, True)
    numeric = numerical_gradient(lambda: float(np.sum(w * layer._forward(
        x, batch, None, False, F64)[0])), x)
    assert_gradient_close(dx, numeric, rtol=1e-6, atol=1e-8, name=kind)


@pytest.mark.parametrize("factory", [globalAveragePooling1dLayer, globalMaxPooling1dLayer])
def test_global_pooling_over_each_sequence(rng, factory):
    layer = factory()
    seqs = [rng.standard_normal((T, 3)) for T in (6, 1, 4)]
    outs, _, batch, x = run_layer(layer, seqs)
    for s, y in zip(seqs, outs):
        np.testing.assert_allclose(y, s.max(axis=0) if layer.is_max else s.mean(axis=0),
                                   rtol=1e-13)
    y, cache, _ = layer._forward(x, batch, None, True, F64)
    w = rng.standard_normal(y.shape)
    dx = layer._backward(w, cache, {}, True)
    numeric = numerical_gradient(lambda: float(np.sum(w * layer._forward(
        x, batch, None, False, F64)[0])), x)
    assert_gradient_close(dx, numeric, rtol=1e-6, atol=1e-8)


def conv_block(C=3, K=4):
    """MATLAB's 'Sequence Classification Using 1-D Convolutions' network, smaller."""
    return [sequenceInputLayer(C), convolution1dLayer(3, 8, Padding="causal"), reluLayer(),
            layerNormalizationLayer(), convolution1dLayer(3, 6, Padding="causal"), reluLayer(),
            layerNormalizationLayer(), globalAveragePooling1dLayer(), fullyConnectedLayer(K),
            softmaxLayer()]


def test_padding_of_the_mini_batch_changes_nothing(rng):
    net = dlnetwork(conv_block()[:-3] + [maxPooling1dLayer(2, Stride=2),
                                         convolution1dLayer(2, 3, Stride=2)])
    X = [rng.standard_normal((T, 3)) for T in (13, 6, 9, 4)]
    together = minibatchpredict(net, X, UniformOutput=False, MiniBatchSize=4)
    for x, y in zip(X, together):
        np.testing.assert_allclose(minibatchpredict(net, [x], UniformOutput=False)[0], y,
                                   rtol=1e-6, atol=1e-6)


def test_network_gradients_through_convolution_and_pooling(rng):
    X = [rng.standard_normal((T, 3)) for T in (7, 4, 9)]
    T = ["a", "b", "c"]
    trainnet_gradient_check(X, T, conv_block(K=3), "crossentropy", samples=60)
    layers = [sequenceInputLayer(3), convolution1dLayer(2, 4, Stride=2, Padding=[1, 0]),
              maxPooling1dLayer(2, Padding="same"), lstmLayer(3, OutputMode="last"),
              fullyConnectedLayer(3), softmaxLayer()]
    trainnet_gradient_check(X, T, layers, "crossentropy", samples=60)


def test_trainnetwork_with_the_convolution_block_and_save_load(rng, tmp_path):
    # the form seen in public scripts: the 1-D convolution block with trainNetwork
    X = [rng.standard_normal((3, T)) for T in rng.integers(8, 20, 24)]
    Y = np.array(["up", "down"] * 12)
    for x, y in zip(X, Y):
        x[0] += np.linspace(0, 2, x.shape[1]) * (1 if y == "up" else -1)
    net = trainNetwork(X, Y, conv_block(K=2) + [classificationLayer()],
                       trainingOptions("adam", MaxEpochs=15, Verbose=False), seed=0)
    assert net.TrainingInfo.TrainingLoss[-1] < net.TrainingInfo.TrainingLoss[0]
    back = loadNetwork(saveNetwork(net, tmp_path / "conv.mat"))
    np.testing.assert_array_equal(predict(net, X), predict(back, X))


def test_matlab_shapes_defaults_and_errors(rng):
    layer = convolution1dLayer(5, 32)
    assert (layer.Stride, layer.DilationFactor, layer.PaddingMode, layer.PaddingSize,
            layer.PaddingValue, layer.WeightsInitializer, layer.BiasL2Factor) == \
        (1, 1, "manual", (0, 0), 0.0, "glorot", 0.0)
    net = dlnetwork([sequenceInputLayer(3), convolution1dLayer(5, 32, Padding="same")])
    W = net.Layers[1].Weights
    assert W.shape == (5, 3, 32) and net.Layers[1].Bias.shape == (1, 32)
    limit = np.sqrt(6 / (5 * 3 + 5 * 32))               # Glorot with MATLAB's fans
    assert np.abs(W).max() <= limit and np.abs(W).max() > 0.8 * limit
    one = convolution1dLayer(3, 1, Weights=np.ones((3, 2)))   # MATLAB drops NumFilters 1
    assert one.Weights.shape == (3, 2, 1) and one.InputSize == 2
    with pytest.raises(ValueError, match="`Padding` must be"):
        convolution1dLayer(3, 4, Padding="valid")
    with pytest.raises(ValueError, match="Weights` must be FilterSize-by-NumChannels"):
        convolution1dLayer(3, 4, Weights=np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match="expects input of size 2"):
        dlnetwork([sequenceInputLayer(3), convolution1dLayer(3, 1, Weights=np.ones((3, 2)))])
    with pytest.raises(ValueError, match="slides over time steps"):
        dlnetwork([sequenceInputLayer(3), lstmLayer(4, OutputMode="last"),
                   convolution1dLayer(3, 2)])
    with pytest.raises(ValueError, match="has no output for a sequence of 2 time steps"):
        minibatchpredict(dlnetwork([sequenceInputLayer(3), convolution1dLayer(3, 2)]),
                         [np.zeros((2, 3))])
    with pytest.raises(ValueError, match="PaddingValue"):
        averagePooling1dLayer(2, PaddingValue=1)
    with pytest.raises(ValueError, match="SequenceLength as an integer"):
        trainNetwork([np.zeros((3, 8))] * 4, np.array(["a", "b"] * 2),
                     conv_block(K=2)[:1] + [convolution1dLayer(3, 2, Stride=2)] +
                     conv_block(K=2)[7:] + [classificationLayer()],
                     trainingOptions("adam", SequenceLength=4, Verbose=False))
