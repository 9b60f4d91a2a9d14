"""selfAttentionLayer and positionEmbeddingLayer: float64 numpy references, central
differences for the input and every learnable, masks, dropout, padding invariance, errors."""

import numpy as np
import pytest

from gradcheck import assert_gradient_close, numerical_gradient
from lstmkit import (additionLayer, addLayers, connectLayers, dlnetwork, fullyConnectedLayer,
                     globalAveragePooling1dLayer, initialize, minibatchpredict,
                     positionEmbeddingLayer, selfAttentionLayer, sequenceInputLayer)
from lstmkit._packing import PackedBatch
from lstmkit.kernels.attention import attention_backward, attention_bases, attention_forward
from netutil import trainnet_gradient_check

F64 = np.dtype(np.float64)


def attention_reference(layer, x, causal):
    """One T-by-C sequence."""
    def proj(name, a):
        return a @ getattr(layer, f"{name}Weights").T + getattr(layer, f"{name}Bias").T
    Q, K, V = proj("Query", x), proj("Key", x), proj("Value", x)
    H = layer.NumHeads
    dk, dv = Q.shape[1] // H, V.shape[1] // H
    heads = []
    for h in range(H):
        s = Q[:, h * dk:(h + 1) * dk] @ K[:, h * dk:(h + 1) * dk].T / np.sqrt(dk)
        if causal:
            s = np.where(np.tril(np.ones_like(s)) > 0, s, -np.inf)
        p = np.exp(s - s.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        heads.append(p @ V[:, h * dv:(h + 1) * dv])
    return proj("Output", np.concatenate(heads, axis=1))


def make_layer(rng, C=4, heads=2, dk=6, dv=4, out=3, mask="none", dropout=0.0):
    layer = selfAttentionLayer(heads, dk, NumValueChannels=dv, OutputSize=out,
                               AttentionMask=mask, DropoutProbability=dropout)
    layer._initialize(C, rng)
    for lb in layer.learnables:                       # non-zero biases
        setattr(layer, lb.name, rng.standard_normal(np.shape(getattr(layer, lb.name))))
    return layer


@pytest.mark.parametrize("mask", ["none", "causal"])
def test_attention_matches_reference_per_sequence(rng, mask):
    layer = make_layer(rng, mask=mask)
    seqs = [rng.standard_normal((T, 4)) for T in (5, 1, 3)]
    batch = PackedBatch([s.shape[0] for s in seqs])
    y, _, _ = layer._forward(batch.pack([s.T for s in seqs], F64), batch, None, False, F64)
    for s, out in zip(seqs, batch.unpack(y)):
        np.testing.assert_allclose(out.T, attention_reference(layer, s, mask == "causal"),
                                   rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("mask", ["none", "causal"])
def test_attention_gradients_match_central_differences(rng, mask):
    layer = make_layer(rng, mask=mask)
    seqs = [rng.standard_normal((T, 4)) for T in (4, 2, 3)]
    batch = PackedBatch([s.shape[0] for s in seqs])
    x = batch.pack([s.T for s in seqs], F64)
    y, cache, _ = layer._forward(x, batch, None, True, F64)
    w = rng.standard_normal(y.shape)
    grads = {lb.name: np.zeros(np.shape(getattr(layer, lb.name))) for lb in layer.learnables}
    dx = layer._backward(w, cache, grads, True)

    def loss():
        return float(np.sum(w * layer._forward(x, batch, None, False, F64)[0]))

    assert_gradient_close(dx, numerical_gradient(loss, x), rtol=1e-6, atol=1e-8, name="x")
    for name in grads:
        assert_gradient_close(grads[name], numerical_gradient(loss, getattr(layer, name)),
                              rtol=1e-6, atol=1e-8, name=name)


def test_attention_kernel_with_dropout_weights(rng):
    # the backward pass through given dropout multipliers, at the kernel level
    lengths = np.array([3, 2], np.int64)
    batch = PackedBatch(lengths)
    S = batch.num_rows
    Q, K, V = (rng.standard_normal((S, 4)) for _ in range(3))
    base = attention_bases(batch.lengths, 2)
    keep = (rng.random(int(base[-1])) > 0.3) / 0.7
    w = rng.standard_normal((S, 4))

    def run():
        P, out = np.empty(int(base[-1])), np.empty((S, 4))
        attention_forward(Q, K, V, batch.offsets, batch.lengths, 2, False, keep, base, P, out)
        return P, out

    P, _ = run()
    dQ, dK, dV = (np.empty((S, 4)) for _ in range(3))
    attention_backward(w, Q, K, V, batch.offsets, batch.lengths, 2, False, keep, base, P,
                       dQ, dK, dV)
    for a, d in ((Q, dQ), (K, dK), (V, dV)):
        assert_gradient_close(d, numerical_gradient(lambda: float(np.sum(w * run()[1])), a),
                              rtol=1e-6, atol=1e-8)


def test_position_embedding_and_transformer_block(rng):
    layer = positionEmbeddingLayer(3, 10, Weights=rng.standard_normal((3, 10)))
    seqs = [rng.standard_normal((T, 3)) for T in (4, 2)]
    batch = PackedBatch([s.shape[0] for s in seqs])
    x = batch.pack([s.T for s in seqs], F64)
    y, cache, _ = layer._forward(x, batch, None, True, F64)
    for s, out in zip(seqs, batch.unpack(y)):
        np.testing.assert_array_equal(out, layer.Weights[:, :s.shape[0]])
    w = rng.standard_normal(y.shape)
    grads = {"Weights": np.zeros((3, 10))}
    layer._backward(w, cache, grads, False)
    numeric = numerical_gradient(lambda: float(np.sum(w * layer._forward(
        x, batch, None, False, F64)[0])), layer.Weights)
    assert_gradient_close(grads["Weights"], numeric)
    # a small transformer encoder: input + position embedding -> attention -> pooling
    net = dlnetwork([sequenceInputLayer(3, Name="in"), additionLayer(2, Name="add"),
                     selfAttentionLayer(1, 4, Name="att"), globalAveragePooling1dLayer(),
                     fullyConnectedLayer(2)], Initialize=False)
    net = addLayers(net, positionEmbeddingLayer(3, 20, Name="pos"))
    net = initialize(connectLayers(connectLayers(net, "in", "pos"), "pos", "add/in2"))
    X = [rng.standard_normal((T, 3)) for T in (6, 3, 9)]
    together = minibatchpredict(net, X)
    for x_, row in zip(X, together):             # padding changes nothing
        np.testing.assert_allclose(minibatchpredict(net, [x_])[0], row, rtol=1e-5, atol=1e-6)
    trainnet_gradient_check(X, ["a", "b", "a"], [sequenceInputLayer(3), selfAttentionLayer(
        2, 4, AttentionMask="causal"), globalAveragePooling1dLayer(), fullyConnectedLayer(2),
        __import__("lstmkit").softmaxLayer()], "crossentropy", samples=50)
    with pytest.raises(ValueError, match="MaxPosition=20"):
        minibatchpredict(net, [np.zeros((25, 3))])


def test_attention_options_and_errors(rng):
    layer = selfAttentionLayer(2, 8)
    assert (layer.NumValueChannels, layer.OutputSize, layer.AttentionMask,
            layer.DropoutProbability, layer.WeightsInitializer) == \
        ("auto", "auto", "none", 0.0, "glorot")
    with pytest.raises(ValueError, match="multiple of numHeads"):
        selfAttentionLayer(3, 8)
    with pytest.raises(ValueError, match="HasPaddingMaskInput"):
        selfAttentionLayer(2, 8, HasPaddingMaskInput=True)
    with pytest.raises(ValueError, match="attends over time steps"):
        dlnetwork([sequenceInputLayer(3), globalAveragePooling1dLayer(),
                   selfAttentionLayer(1, 2)])
    drop = make_layer(rng, dropout=0.5)
    x = rng.standard_normal((6, 4))
    batch = PackedBatch([6])
    a = drop._forward(x, batch, None, False, F64)[0]
    b = drop._forward(x, batch, None, True, F64)[0]
    assert not np.allclose(a, b)                  # dropout only in training
