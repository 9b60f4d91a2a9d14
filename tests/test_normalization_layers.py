"""layerNormalizationLayer: kernel against a float64 numpy reference and central differences,
MATLAB's defaults, padding invariance, and errors."""

import numpy as np
import pytest

from gradcheck import assert_gradient_close, numerical_gradient
from lstmkit import (dlnetwork, fullyConnectedLayer, layerNormalizationLayer, lstmLayer,
                     minibatchpredict, sequenceInputLayer)
from lstmkit._packing import PackedBatch
from netutil import trainnet_gradient_check


def layer_with(rng, C, mode="auto"):
    return layerNormalizationLayer(OperationDimension=mode, Scale=rng.uniform(0.5, 2, C),
                                   Offset=rng.standard_normal(C))


def reference(x, groups, scale, offset, eps):
    y = np.empty_like(x)
    for g in np.unique(groups):
        rows = groups == g
        block = x[rows]
        y[rows] = (block - block.mean()) / np.sqrt(block.var() + eps)
    return y * scale.reshape(1, -1) + offset.reshape(1, -1)


@pytest.mark.parametrize("mode", ["auto", "batch-excluded"])
def test_forward_matches_reference_and_gradients_match_central_differences(rng, mode):
    lengths = [5, 1, 3]
    batch = PackedBatch(lengths)
    C = 4
    x = rng.standard_normal((batch.num_rows, C)) * 3 + 1
    layer = layer_with(rng, C, mode)
    dt = np.dtype(np.float64)
    y, cache, _ = layer._forward(x, batch, None, True, dt)
    groups = batch.row_sequence if mode == "batch-excluded" else np.arange(batch.num_rows)
    np.testing.assert_allclose(y, reference(x, groups, layer.Scale, layer.Offset, 1e-5),
                               rtol=1e-12, atol=1e-12)
    w = rng.standard_normal(y.shape)
    grads = {"Scale": np.zeros((C, 1)), "Offset": np.zeros((C, 1))}
    dx = layer._backward(w, cache, grads, True)

    def loss():
        return float(np.sum(w * layer._forward(x, batch, None, False, dt)[0]))

    assert_gradient_close(dx, numerical_gradient(loss, x), rtol=1e-6, atol=1e-8, name="x")
    for name in ("Scale", "Offset"):
        assert_gradient_close(grads[name], numerical_gradient(loss, getattr(layer, name)),
                              rtol=1e-6, atol=1e-8, name=name)


def test_single_channel_and_constant_rows_stay_finite(rng):
    layer = layerNormalizationLayer(Scale=[2.0], Offset=[0.5])
    x = np.full((3, 1), 7.0)
    y, _, _ = layer._forward(x, None, None, False, np.dtype(np.float32))
    np.testing.assert_allclose(y, 0.5)        # (x - mean) = 0: only the offset remains


def test_defaults_and_errors():
    layer = layerNormalizationLayer()
    assert (layer.Epsilon, layer.OperationDimension, layer.OffsetInitializer,
            layer.ScaleInitializer, layer.OffsetL2Factor, layer.ScaleL2Factor) == \
        (1e-5, "auto", "zeros", "ones", 1.0, 1.0)
    net = dlnetwork([sequenceInputLayer(3), lstmLayer(4), layerNormalizationLayer()])
    assert net.Layers[2].Offset.shape == (4, 1) and np.all(net.Layers[2].Scale == 1)
    with pytest.raises(ValueError, match="Epsilon"):
        layerNormalizationLayer(Epsilon=0)
    with pytest.raises(ValueError, match="OperationDimension"):
        layerNormalizationLayer(OperationDimension="spatial-channel")
    with pytest.raises(ValueError, match="same number of channels"):
        layerNormalizationLayer(Offset=np.zeros(3), Scale=np.ones(4))
    with pytest.raises(ValueError, match=r"expects input of size 3"):
        dlnetwork([sequenceInputLayer(5), layerNormalizationLayer(Offset=np.zeros(3))])


@pytest.mark.parametrize("mode", ["auto", "batch-excluded"])
def test_padding_changes_nothing_and_network_gradients(rng, mode):
    net = dlnetwork([sequenceInputLayer(2), lstmLayer(5), layerNormalizationLayer(
        OperationDimension=mode), fullyConnectedLayer(2)])
    X = [rng.standard_normal((T, 2)) for T in (7, 1, 4, 2)]
    together = minibatchpredict(net, X, UniformOutput=False)
    for x, y in zip(X, together):
        np.testing.assert_allclose(minibatchpredict(net, [x], UniformOutput=False)[0], y,
                                   rtol=1e-6, atol=1e-6)
    T = [rng.standard_normal((x.shape[0], 2)) for x in X]
    trainnet_gradient_check(X, T, [sequenceInputLayer(2), lstmLayer(3), layerNormalizationLayer(
        OperationDimension=mode, Offset=rng.standard_normal(3), Scale=rng.uniform(0.5, 2, 3)),
        fullyConnectedLayer(2)], "mse")
