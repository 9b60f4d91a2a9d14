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


def test_batch_norm_training_and_prediction_modes(rng):
    from lstmkit import batchNormalizationLayer
    C = 3
    layer = batchNormalizationLayer(Scale=rng.uniform(0.5, 2, C), Offset=rng.standard_normal(C),
                                    TrainedMean=np.zeros(C), TrainedVariance=np.ones(C))
    batch = PackedBatch([4, 2, 5])
    x = rng.standard_normal((batch.num_rows, C)) * 2 + 3
    dt = np.dtype(np.float64)
    y, cache, _ = layer._forward(x, batch, None, True, dt)
    mean, var = x.mean(axis=0), x.var(axis=0)
    ref = (x - mean) / np.sqrt(var + 1e-5) * layer.Scale.T + layer.Offset.T
    np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.TrainedMean.ravel(), 0.1 * mean)            # moving stats
    np.testing.assert_allclose(layer.TrainedVariance.ravel(), 0.1 * var + 0.9)
    w = rng.standard_normal(y.shape)
    grads = {"Scale": np.zeros((C, 1)), "Offset": np.zeros((C, 1))}
    dx = layer._backward(w, cache, grads, True)

    def loss():
        return float(np.sum(w * layer._forward(x, batch, None, True, dt)[0]))

    assert_gradient_close(dx, numerical_gradient(loss, x), rtol=1e-6, atol=1e-8, name="x")
    for name in ("Scale", "Offset"):
        assert_gradient_close(grads[name], numerical_gradient(loss, getattr(layer, name)),
                              rtol=1e-6, atol=1e-8, name=name)
    pred, _, _ = layer._forward(x, batch, None, False, dt)
    ref = (x - layer.TrainedMean.T) / np.sqrt(layer.TrainedVariance.T + 1e-5) * layer.Scale.T \
        + layer.Offset.T
    np.testing.assert_allclose(pred, ref, rtol=1e-12)


@pytest.mark.parametrize("statistics", ["population", "moving"])
def test_batch_norm_statistics_after_training(rng, statistics, tmp_path):
    from lstmkit import (batchNormalizationLayer, convolution1dLayer, loadNetwork, reluLayer,
                         saveNetwork, trainingOptions, trainnet)
    X = [rng.standard_normal((T, 2)) * 3 + 1 for T in (6, 9, 4, 7, 5, 8)]
    T = [rng.standard_normal((x.shape[0], 1)) for x in X]
    layers = [sequenceInputLayer(2), convolution1dLayer(3, 4, Padding="same", Name="conv"),
              batchNormalizationLayer(Name="bn"), reluLayer(), fullyConnectedLayer(1)]
    net = trainnet(X, T, layers, "mse", trainingOptions(
        "adam", MaxEpochs=3, MiniBatchSize=3, Verbose=False,
        BatchNormalizationStatistics=statistics), seed=0)
    bn = net.Layers[2]
    inputs = np.concatenate(minibatchpredict(net, X, Outputs="conv", UniformOutput=False))
    if statistics == "population":
        np.testing.assert_allclose(bn.TrainedMean.ravel(), inputs.mean(axis=0), rtol=1e-5,
                                   atol=1e-6)
        np.testing.assert_allclose(bn.TrainedVariance.ravel(), inputs.var(axis=0), rtol=1e-5)
    else:
        assert not np.allclose(bn.TrainedMean.ravel(), inputs.mean(axis=0), rtol=1e-3)
    assert net.State.Parameter == ["TrainedMean", "TrainedVariance"]
    together = minibatchpredict(net, X, UniformOutput=False)
    for x, y in zip(X, together):          # prediction uses trained statistics: no batch effect
        np.testing.assert_allclose(minibatchpredict(net, [x], UniformOutput=False)[0], y,
                                   rtol=1e-5, atol=1e-6)
    back = loadNetwork(saveNetwork(net, tmp_path / "bn.mat"))
    np.testing.assert_array_equal(back.Layers[2].TrainedMean, bn.TrainedMean)


def test_batch_norm_network_gradients_and_errors(rng):
    from lstmkit import batchNormalizationLayer
    X = [rng.standard_normal((T, 2)) for T in (4, 6, 3)]
    T = [rng.standard_normal((x.shape[0], 2)) for x in X]
    trainnet_gradient_check(X, T, [sequenceInputLayer(2), lstmLayer(3), batchNormalizationLayer(
        Offset=rng.standard_normal(3), Scale=rng.uniform(0.5, 2, 3)), fullyConnectedLayer(2)],
        "mse")
    with pytest.raises(ValueError, match="MeanDecay"):
        batchNormalizationLayer(MeanDecay=2)
    with pytest.raises(ValueError, match="same number of channels"):
        batchNormalizationLayer(Offset=np.zeros(3), TrainedMean=np.zeros(2))
    net = dlnetwork([sequenceInputLayer(2), batchNormalizationLayer()])
    with pytest.raises(ValueError, match=r"must be 2-by-1"):
        net.State.Value[0] = np.zeros(3)
