"""ExecutionEnvironment 'gpu' where lstmkit cannot use a GPU: the CPU, one warning, same results."""

import warnings

import numpy as np
import pytest

import lstmkit as L
from lstmkit import _device


@pytest.fixture(autouse=True)
def fresh_warnings():
    _device._warned.clear()
    yield
    _device._warned.clear()


@pytest.fixture
def no_gpu(monkeypatch):
    """This machine as one without a usable GPU, whatever is installed here."""
    monkeypatch.setattr(_device, "_cuda_devices", lambda: (0, "no CUDA driver or device is "
                                                               "visible (test)"))


def data(rng):
    X = [rng.standard_normal((3, int(T))) for T in rng.integers(3, 9, 12)]
    return X, np.array(list("abc") * 4)


LAYERS = [L.sequenceInputLayer(3), L.lstmLayer(5, OutputMode="last"), L.fullyConnectedLayer(3),
          L.softmaxLayer(), L.classificationLayer()]


def test_gpu_training_runs_on_the_cpu_with_one_warning_when_given(no_gpu, rng):
    X, Y = data(rng)
    with pytest.warns(L.GPUUnavailableWarning,
                      match=r"trainingOptions: ExecutionEnvironment='gpu' runs on the CPU: no "
                            r"CUDA driver or device is visible \(test\)\. Results are the same"):
        opts = L.trainingOptions("adam", ExecutionEnvironment="GPU", MaxEpochs=2,
                                 Verbose=False)
    assert opts.ExecutionEnvironment == "gpu"           # what the script asked for, as MATLAB
    with warnings.catch_warnings():
        warnings.simplefilter("error")                  # once: not again at training
        net = L.trainNetwork(X, Y, LAYERS, opts, seed=1)
        again = L.trainingOptions("adam", ExecutionEnvironment="gpu", Verbose=False)
    cpu = L.trainNetwork(X, Y, LAYERS, L.trainingOptions("adam", MaxEpochs=2, Verbose=False),
                         seed=1)
    np.testing.assert_array_equal(L.predict(net, X), L.predict(cpu, X))
    assert again.ExecutionEnvironment == "gpu"


@pytest.mark.parametrize("value", ["multi-gpu", "parallel-gpu"])
def test_the_other_gpu_values_fall_back_to_their_cpu_counterparts(no_gpu, value):
    with pytest.warns(L.GPUUnavailableWarning, match=f"ExecutionEnvironment='{value}' runs on "
                                                     f"the CPU"):
        L.trainingOptions("sgdm", ExecutionEnvironment=value)
    expected = {"multi-gpu": "cpu", "parallel-gpu": "parallel-cpu"}[value]
    assert _device.resolve_environment("trainNetwork", value, warn=False) == expected


def test_prediction_functions_take_gpu(no_gpu, rng):
    X, Y = data(rng)
    net = L.trainNetwork(X, Y, LAYERS, L.trainingOptions("adam", MaxEpochs=1, Verbose=False))
    with pytest.warns(L.GPUUnavailableWarning, match="predict: ExecutionEnvironment='gpu'"):
        scores = L.predict(net, X, ExecutionEnvironment="gpu")
    np.testing.assert_array_equal(scores, L.predict(net, X))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(L.classify(net, X, ExecutionEnvironment="gpu"),
                                      L.classify(net, X))
        L.predictAndUpdateState(net, X, ExecutionEnvironment="gpu")
    dl = L.dlnetwork([L.sequenceInputLayer(3), L.lstmLayer(4, OutputMode="last"),
                      L.fullyConnectedLayer(3), L.softmaxLayer()])
    XT = [x.T for x in X]
    with pytest.warns(L.GPUUnavailableWarning, match="minibatchpredict: ExecutionEnvironment="
                                                     "'multi-gpu' runs on the CPU"):
        y = L.minibatchpredict(dl, XT, ExecutionEnvironment="multi-gpu")
    np.testing.assert_array_equal(y, L.minibatchpredict(dl, XT))
    value = L.testnet(dl, XT, Y, "accuracy", ExecutionEnvironment="gpu")
    assert value == L.testnet(dl, XT, Y, "accuracy")


def test_auto_stays_on_the_cpu_silently(no_gpu):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _device.resolve_environment("predict", "auto") == "cpu"
        L.trainingOptions("adam", ExecutionEnvironment="auto")


def test_the_warning_names_what_is_missing(monkeypatch):
    monkeypatch.setattr(_device, "_cuda_devices", _device._cuda_devices.__wrapped__)
    monkeypatch.setenv("NUMBA_ENABLE_CUDASIM", "1")
    assert "simulator is on" in _device.gpu_problem()
    monkeypatch.setenv("NUMBA_ENABLE_CUDASIM", "0")
    monkeypatch.setattr(_device.importlib.util, "find_spec", lambda name: None)
    assert "pip install \"lstmkit[gpu]\"" in _device.gpu_problem()
    assert L.gpuDeviceCount() == 0 and L.canUseGPU() is False
    monkeypatch.setattr(_device, "_cuda_devices", lambda: (2, None))
    assert _device.gpu_problem() is None
    assert L.gpuDeviceCount() == 2 and L.canUseGPU() is True
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _device.resolve_environment("predict", "gpu") == "gpu"
        assert _device.resolve_environment("predict", "auto") == "cpu"   # until timed on a GPU
    with pytest.warns(L.GPUUnavailableWarning, match="'parallel-gpu' runs on the CPU workers "
                                                     "of the parallel pool"):
        assert _device.resolve_environment("x", "parallel-gpu") == "parallel-cpu"


def test_bad_values_are_still_errors():
    with pytest.raises(ValueError, match="trainingOptions: `ExecutionEnvironment` must be one "
                                         "of 'auto', 'cpu', 'gpu', 'multi-gpu'"):
        L.trainingOptions("adam", ExecutionEnvironment="tpu")
    with pytest.raises(ValueError, match="predict: `ExecutionEnvironment` must be one of"):
        L.predict(L.assembleNetwork([L.sequenceInputLayer(1), L.regressionLayer()]),
                  np.ones((1, 3)), ExecutionEnvironment="gpu0")
