"""lstmProjectedLayer: the LSTM with factored weights, against lstmLayer with the effective
matrices, central differences for every learnable, training, ONNX export, errors."""

import numpy as np
import pytest

from lstmkit import (dlnetwork, fullyConnectedLayer, lstmLayer, lstmProjectedLayer,
                     minibatchpredict, sequenceInputLayer, loadNetwork, saveNetwork,
                     trainingOptions, trainnet)
from netutil import trainnet_gradient_check


def factors(rng, C=3, H=5, P=2, Q=2):
    return dict(InputWeights=rng.standard_normal((4 * H, Q)) * 0.5,
                RecurrentWeights=rng.standard_normal((4 * H, P)) * 0.5,
                Bias=rng.standard_normal(4 * H) * 0.1,
                InputProjector=rng.standard_normal((C, Q)),
                OutputProjector=rng.standard_normal((H, P)))


@pytest.mark.parametrize("mode", ["sequence", "last"])
def test_projected_equals_lstm_with_effective_weights(rng, mode):
    f = factors(rng)
    proj = dlnetwork([sequenceInputLayer(3), lstmProjectedLayer(5, 2, 2, OutputMode=mode, **f)])
    full = dlnetwork([sequenceInputLayer(3), lstmLayer(
        5, OutputMode=mode, InputWeights=f["InputWeights"] @ f["InputProjector"].T,
        RecurrentWeights=f["RecurrentWeights"] @ f["OutputProjector"].T, Bias=f["Bias"])])
    X = [rng.standard_normal((T, 3)) for T in (4, 1, 6)]
    for a, b in zip(minibatchpredict(proj, X, UniformOutput=False),
                    minibatchpredict(full, X, UniformOutput=False)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_projected_gradients_training_and_saving(rng, tmp_path):
    X = [rng.standard_normal((T, 3)) for T in (4, 6, 3)]
    T = [rng.standard_normal((x.shape[0], 2)) for x in X]
    trainnet_gradient_check(X, T, [sequenceInputLayer(3), lstmProjectedLayer(5, 2, 2,
                                                                             **factors(rng)),
                                   fullyConnectedLayer(2)], "mse", samples=80)
    net = trainnet(X, T, [sequenceInputLayer(3), lstmProjectedLayer(6, 2, 3),
                          fullyConnectedLayer(2)],
                   "mse", trainingOptions("adam", MaxEpochs=3, Verbose=False), seed=0)
    assert net.Learnables.Parameter == ["InputWeights", "RecurrentWeights", "Bias",
                                        "InputProjector", "OutputProjector", "Weights", "Bias"]
    assert [v.shape for v in net.Learnables.Value[:5]] == [(24, 3), (24, 2), (24, 1), (3, 3),
                                                           (6, 2)]
    back = loadNetwork(saveNetwork(net, tmp_path / "p.mat"))
    np.testing.assert_array_equal(minibatchpredict(back, X[0]), minibatchpredict(net, X[0]))


def test_projected_onnx_export_uses_the_effective_weights(rng, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    from lstmkit import exportONNXNetwork
    net = dlnetwork([sequenceInputLayer(3), lstmProjectedLayer(5, 2, 2, OutputMode="last",
                                                               **factors(rng)),
                     fullyConnectedLayer(2)])
    path = exportONNXNetwork(net, str(tmp_path / "p.onnx"))
    x = rng.standard_normal((6, 3)).astype(np.float32)
    out = ort.InferenceSession(path).run(None, {"input": x[:, None, :],
                                               "sequence_lengths": np.array([6], np.int32)})[0]
    np.testing.assert_allclose(out, minibatchpredict(net, [x]), rtol=1e-4, atol=1e-5)


def test_projected_errors():
    with pytest.raises(ValueError, match="lstmProjectedLayer: `outputProjectorSize`"):
        lstmProjectedLayer(5, 0, 2)
    with pytest.raises(ValueError, match="InputWeights"):
        lstmProjectedLayer(5, 2, 2, InputWeights=np.zeros((20, 3)))
    with pytest.raises(ValueError, match=r"expects input of size 4 \(InputProjector is 4-by-2\)"):
        dlnetwork([sequenceInputLayer(3), lstmProjectedLayer(5, 2, 2,
                                                             InputProjector=np.zeros((4, 2)))])
    with pytest.raises(ValueError, match="lstmProjectedLayer: `OutputMode`"):
        lstmProjectedLayer(5, 2, 2, OutputMode="all")


@pytest.mark.parametrize("mode", ["after-multiplication", "recurrent-bias-after-multiplication"])
def test_gru_projected_equals_gru_with_effective_weights_and_gradients(rng, mode):
    from lstmkit import gruLayer, gruProjectedLayer
    H, C, P, Q = 4, 3, 2, 2
    brows = 6 * H if mode.startswith("recurrent") else 3 * H
    f = dict(InputWeights=rng.standard_normal((3 * H, Q)) * 0.5,
             RecurrentWeights=rng.standard_normal((3 * H, P)) * 0.5,
             Bias=rng.standard_normal(brows) * 0.1, InputProjector=rng.standard_normal((C, Q)),
             OutputProjector=rng.standard_normal((H, P)))
    proj = dlnetwork([sequenceInputLayer(C), gruProjectedLayer(H, P, Q, ResetGateMode=mode, **f)])
    full = dlnetwork([sequenceInputLayer(C), gruLayer(
        H, ResetGateMode=mode, InputWeights=f["InputWeights"] @ f["InputProjector"].T,
        RecurrentWeights=f["RecurrentWeights"] @ f["OutputProjector"].T, Bias=f["Bias"])])
    X = [rng.standard_normal((T, C)) for T in (5, 2)]
    for a, b in zip(minibatchpredict(proj, X, UniformOutput=False),
                    minibatchpredict(full, X, UniformOutput=False)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    T = [rng.standard_normal((x.shape[0], 2)) for x in X]
    trainnet_gradient_check(X, T, [sequenceInputLayer(C), gruProjectedLayer(
        H, P, Q, ResetGateMode=mode, **f), fullyConnectedLayer(2)], "mse", samples=60)
