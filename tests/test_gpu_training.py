"""ExecutionEnvironment 'gpu' end to end on Numba's CUDA simulator: the same results as 'cpu'.

The simulator is not a GPU (lstmkit falls back to the CPU on it); these tests
tell lstmkit it is one, so that trainNetwork, trainnet and the prediction
functions run their device layers' kernels (as Python threads: tiny sizes).
"""

import warnings

import numpy as np
import pytest

pytest.importorskip("numba_cuda")

from numba import cuda  # noqa: E402

import lstmkit as L  # noqa: E402
from lstmkit import _device  # noqa: E402

if not cuda.is_available():
    pytest.skip("neither the CUDA simulator nor a CUDA device is available",
                allow_module_level=True)

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def simulated_gpu(monkeypatch):
    monkeypatch.setattr(_device, "_cuda_devices", lambda: (1, None))
    _device._warned.clear()
    yield
    _device._warned.clear()


def weights(net):
    return np.concatenate([np.ravel(getattr(layer, lb.name)) for layer in net.Layers
                           for lb in layer.learnables])


def ragged(rng, n, C, low=2, high=5):
    return [rng.standard_normal((C, int(T))) for T in rng.integers(low, high + 1, n)]


def train_both(X, Y, layers, **opts):
    common = {**dict(MaxEpochs=2, MiniBatchSize=4, Verbose=False, Shuffle="never"), **opts}
    cpu = L.trainNetwork(X, Y, layers, L.trainingOptions("adam", **common), dtype="float64",
                         seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # a usable (simulated) GPU: no fallback
        gpu = L.trainNetwork(X, Y, layers, L.trainingOptions(
            "adam", ExecutionEnvironment="gpu", **common), dtype="float64", seed=2)
    return cpu, gpu


def test_lstm_classification_on_the_gpu_equals_the_cpu(rng):
    X = ragged(rng, 8, 3)
    Y = np.array(list("abc") * 3)[:8]
    layers = [L.sequenceInputLayer(3), L.lstmLayer(4, OutputMode="last"),
              L.fullyConnectedLayer(3), L.softmaxLayer(), L.classificationLayer()]
    cpu, gpu = train_both(X, Y, layers, GradientThreshold=1, L2Regularization=1e-3)
    np.testing.assert_allclose(weights(gpu), weights(cpu), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(gpu.TrainingInfo.TrainingLoss, cpu.TrainingInfo.TrainingLoss,
                               rtol=1e-9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(L.predict(cpu, X, ExecutionEnvironment="gpu"),
                                   L.predict(cpu, X), rtol=1e-12, atol=1e-14)
        assert np.array_equal(L.classify(cpu, X, ExecutionEnvironment="gpu"), L.classify(cpu, X))


def test_sequence_regression_with_peepholes_gru_and_a_host_layer_between(rng):
    """Device layers (LSTM with peepholes, GRU before multiplication, fully connected) around
    a layer that runs on the host (layer normalization): the inputs and gradients cross."""
    X = ragged(rng, 6, 2)
    Y = [rng.standard_normal((2, x.shape[1])) for x in X]
    layers = [L.sequenceInputLayer(2), L.lstmLayer(3, HasPeepholes=True),
              L.layerNormalizationLayer(), L.gruLayer(3, ResetGateMode="before-multiplication"),
              L.fullyConnectedLayer(2), L.regressionLayer()]
    cpu, gpu = train_both(X, Y, layers)
    np.testing.assert_allclose(weights(gpu), weights(cpu), rtol=1e-9, atol=1e-12)


def test_truncated_sequences_carry_the_states_across_chunks(rng):
    X = ragged(rng, 4, 2, 5, 7)
    Y = np.array(list("ab") * 2)
    layers = [L.sequenceInputLayer(2), L.gruLayer(3, OutputMode="last",
                                                  ResetGateMode="recurrent-bias-after-"
                                                                "multiplication"),
              L.fullyConnectedLayer(2), L.softmaxLayer(), L.classificationLayer()]
    cpu, gpu = train_both(X, Y, layers, SequenceLength=3, MaxEpochs=1)
    np.testing.assert_allclose(weights(gpu), weights(cpu), rtol=1e-9, atol=1e-12)


def test_trainnet_and_minibatchpredict_on_the_gpu(rng):
    X = [x.T for x in ragged(rng, 6, 2)]
    T = [rng.standard_normal((x.shape[0], 2)) for x in X]
    layers = [L.sequenceInputLayer(2), L.lstmLayer(3, CoupledInputForget=True),
              L.fullyConnectedLayer(2)]
    common = dict(MaxEpochs=2, MiniBatchSize=3, Verbose=False)
    cpu = L.trainnet(X, T, layers, "mse", L.trainingOptions("adam", **common), dtype="float64",
                     seed=4)
    gpu = L.trainnet(X, T, layers, "mse", L.trainingOptions(
        "adam", ExecutionEnvironment="gpu", **common), dtype="float64", seed=4)
    w = [np.concatenate([np.ravel(v) for v in n.Learnables.Value]) for n in (cpu, gpu)]
    np.testing.assert_allclose(w[1], w[0], rtol=1e-9, atol=1e-12)
    here = L.minibatchpredict(cpu, X, UniformOutput=False)
    there = L.minibatchpredict(cpu, X, UniformOutput=False, ExecutionEnvironment="gpu")
    for a, b in zip(there, here):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    Y, state = L.predict(cpu, X, nargout=2, ExecutionEnvironment="gpu")
    Y0, state0 = L.predict(cpu, X, nargout=2)
    for a, b in zip(state.Value, state0.Value):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    assert L.testnet(cpu, X, T, "mse", ExecutionEnvironment="gpu") == pytest.approx(
        L.testnet(cpu, X, T, "mse"), rel=1e-12)


def test_multi_gpu_uses_one_gpu_with_a_warning(rng):
    with pytest.warns(L.GPUUnavailableWarning, match="'multi-gpu' runs on one GPU: lstmkit "
                                                     "uses one GPU"):
        L.trainingOptions("adam", ExecutionEnvironment="multi-gpu")
    assert _device.resolve_environment("x", "multi-gpu", warn=False) == "gpu"
    assert _device.resolve_environment("x", "auto") == "cpu"     # not until timed on a GPU


def test_a_failing_gpu_ends_the_run_with_a_clear_error_and_the_last_network(rng, monkeypatch):
    from lstmkit.training import trainer
    from lstmkit.training.device import DeviceLost

    class CudaAPIError(Exception):          # what numba-cuda raises for a lost device
        pass
    CudaAPIError.__module__ = "numba_cuda.numba.cuda.cudadrv.driver"
    real = trainer.device_forward_backward
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise CudaAPIError("[999] CUDA_ERROR_UNKNOWN")
        return real(*args, **kwargs)

    monkeypatch.setattr(trainer, "device_forward_backward", failing)
    X = ragged(rng, 8, 3)
    Y = np.array(list("ab") * 4)
    layers = [L.sequenceInputLayer(3), L.lstmLayer(3, OutputMode="last"),
              L.fullyConnectedLayer(2), L.softmaxLayer(), L.classificationLayer()]
    with pytest.raises(DeviceLost, match=r"trainNetwork: the GPU failed during training "
                                         r"\(CudaAPIError: \[999\] CUDA_ERROR_UNKNOWN\)") as caught:
        L.trainNetwork(X, Y, layers, L.trainingOptions(
            "adam", ExecutionEnvironment="gpu", MaxEpochs=3, MiniBatchSize=4, Verbose=False))
    net = caught.value.network
    assert net.TrainingInfo.StopReason == "The GPU failed"
    assert len(net.TrainingInfo.TrainingLoss) == 2        # the iterations that completed
    assert np.all(np.isfinite(weights(net)))
    monkeypatch.setattr(trainer, "device_forward_backward", real)
    with pytest.raises(ZeroDivisionError):                # a bug is not a lost device
        monkeypatch.setattr(trainer, "device_forward_backward",
                            lambda *a, **k: 1 / 0)
        L.trainNetwork(X, Y, layers, L.trainingOptions(
            "adam", ExecutionEnvironment="gpu", MaxEpochs=1, Verbose=False))


def test_a_network_too_large_for_the_gpu_is_a_clear_error_before_training(rng, monkeypatch):
    class Context:
        @staticmethod
        def get_memory_info():
            return 2 ** 20, 2 ** 31                      # 1 MiB free of 2 GiB

    monkeypatch.setattr(cuda, "current_context", lambda: Context(), raising=False)
    X = ragged(rng, 8, 3)
    Y = np.array(list("ab") * 4)
    layers = [L.sequenceInputLayer(3), L.lstmLayer(300, OutputMode="last"),
              L.fullyConnectedLayer(2), L.softmaxLayer(), L.classificationLayer()]
    called = []
    with pytest.raises(MemoryError, match=r"trainNetwork: training on the GPU needs about "
                                          r"[0-9.]+ GiB of its memory for a mini-batch of up "
                                          r"to \d+ time steps \(4 sequences\), and the GPU has "
                                          r"0.00 GiB free of 2.00 GiB"):
        L.trainNetwork(X, Y, layers, L.trainingOptions(
            "adam", ExecutionEnvironment="gpu", MiniBatchSize=4, Verbose=False,
            OutputFcn=lambda info: called.append(info) or False))
    assert not [i for i in called if i.State == "iteration"]     # before any iteration


@pytest.mark.parametrize("mode", ["last", "sequence"])
def test_bilstm_on_the_gpu_equals_the_cpu(rng, mode):
    X = ragged(rng, 6, 3)
    if mode == "last":
        Y = np.array(list("abc") * 2)
        head = [L.softmaxLayer(), L.classificationLayer()]
        K = 3
    else:
        Y = [rng.standard_normal((2, x.shape[1])) for x in X]
        head = [L.regressionLayer()]
        K = 2
    layers = [L.sequenceInputLayer(3), L.bilstmLayer(3, OutputMode=mode),
              L.fullyConnectedLayer(K)] + head
    cpu, gpu = train_both(X, Y, layers)
    np.testing.assert_allclose(weights(gpu), weights(cpu), rtol=1e-9, atol=1e-12)
    here, there = L.predict(cpu, X), L.predict(cpu, X, ExecutionEnvironment="gpu")
    for a, b in zip(there, here):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_projected_layers_on_the_gpu_equal_the_cpu(rng):
    X = ragged(rng, 6, 4)
    Y = [rng.standard_normal((2, x.shape[1])) for x in X]
    layers = [L.sequenceInputLayer(4), L.lstmProjectedLayer(5, 2, 3),
              L.gruProjectedLayer(4, 2, 3, ResetGateMode="recurrent-bias-after-multiplication"),
              L.fullyConnectedLayer(2), L.regressionLayer()]
    cpu, gpu = train_both(X, Y, layers)
    np.testing.assert_allclose(weights(gpu), weights(cpu), rtol=1e-9, atol=1e-12)


def test_which_layers_run_on_the_device():
    from lstmkit.training.device import DeviceRunner
    net = L.dlnetwork([L.sequenceInputLayer(3), L.lstmLayer(4), L.bilstmLayer(2),
                       L.gruLayer(3), L.lstmProjectedLayer(4, 2, 2),
                       L.gruProjectedLayer(3, 2, 2), L.layerNormalizationLayer(),
                       L.dropoutLayer(), L.fullyConnectedLayer(2)])
    runner = DeviceRunner(net._graph.layers, dtype=np.float32)
    on = [type(net._graph.layers[k]).__name__ for k in runner.device_nodes]
    assert on == ["LSTMLayer", "BiLSTMLayer", "GRULayer", "LSTMProjectedLayer",
                  "GRUProjectedLayer", "FullyConnectedLayer"]


@pytest.mark.parametrize("call", ["predict", "minibatchpredict", "testnet"])
def test_prediction_too_large_for_the_gpu_is_a_clear_error_before_any_work(rng, monkeypatch,
                                                                          call):
    X = ragged(rng, 8, 3)
    net = L.dlnetwork([L.sequenceInputLayer(3), L.lstmLayer(8, OutputMode="last"),
                       L.fullyConnectedLayer(2)])
    targets = np.zeros((8, 2))

    class Context:
        @staticmethod
        def get_memory_info():
            return 2 ** 10, 2 ** 31                      # 1 KiB free of 2 GiB

    monkeypatch.setattr(cuda, "current_context", lambda: Context(), raising=False)
    started = []
    from lstmkit.training import device
    monkeypatch.setattr(device.DeviceRunner, "__init__",
                        lambda *a, **k: started.append(1) or None)
    Xt = [x.T for x in X]
    calls = {"predict": lambda: L.predict(net, Xt, MiniBatchSize=4, ExecutionEnvironment="gpu"),
             "minibatchpredict": lambda: L.minibatchpredict(net, Xt, MiniBatchSize=4,
                                                            ExecutionEnvironment="gpu"),
             "testnet": lambda: L.testnet(net, Xt, targets, ["rmse"], MiniBatchSize=4,
                                          ExecutionEnvironment="gpu")}
    rows = max(sum(x.shape[1] for x in X[lo:lo + 4]) for lo in (0, 4))
    with pytest.raises(MemoryError, match=rf"{call}: prediction on the GPU needs about [0-9.]+ "
                                          rf"GiB of its memory for a mini-batch of up to {rows} "
                                          rf"time steps \(4 sequences\), and the GPU has 0.00 "
                                          rf"GiB free of 2.00 GiB"):
        calls[call]()
    assert not started                                   # nothing copied to the device


def test_largest_prediction_batch_follows_the_sequence_length_option():
    from lstmkit.training.device import largest_batch
    lengths = [5, 1, 9, 2, 2]
    assert largest_batch(lengths, 2, "longest") == (11, 2)
    assert largest_batch(lengths, 2, "shortest") == (4, 2)
    assert largest_batch(lengths, 2, 3) == (5, 2)
    assert largest_batch(lengths, 10, "longest") == (19, 5)
