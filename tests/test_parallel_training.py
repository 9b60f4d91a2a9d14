"""ExecutionEnvironment 'parallel': trainNetwork and trainnet on a 2-worker pool equal 'cpu'."""

import gc
import os
import signal
import sys
import time

import numpy as np
import pytest

import lstmkit as L
from lstmkit.training.workers import WorkerLost

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.slow


def weights(net):
    return np.concatenate([np.ravel(getattr(layer, lb.name)) for layer in net.Layers
                           for lb in layer.learnables])


def ragged(rng, n, C):
    return [rng.standard_normal((C, int(T))) for T in rng.integers(3, 12, n)]


@pytest.mark.parametrize("env, load, length", [("parallel", None, "longest"),
                                               ("parallel-cpu", [2, 1], "shortest"),
                                               ("parallel-auto", [1, 0], "longest")])
def test_trainnetwork_equals_cpu(pool, rng, env, load, length):
    X = ragged(rng, 40, 3)
    Y = np.array(list("abcd") * 10)
    layers = [L.sequenceInputLayer(3), L.lstmLayer(6, OutputMode="last"),
              L.fullyConnectedLayer(4), L.softmaxLayer(), L.classificationLayer()]
    common = dict(MaxEpochs=2, MiniBatchSize=16, Verbose=False, GradientThreshold=1,
                  L2Regularization=1e-3, SequenceLength=length)
    serial = L.trainNetwork(X, Y, layers, L.trainingOptions("adam", **common),
                            dtype="float64", seed=3)
    parallel = L.trainNetwork(X, Y, layers, L.trainingOptions(
        "adam", ExecutionEnvironment=env, WorkerLoad=load, **common), dtype="float64", seed=3)
    np.testing.assert_allclose(weights(parallel), weights(serial), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(parallel.TrainingInfo.TrainingLoss,
                               serial.TrainingInfo.TrainingLoss, rtol=1e-9)
    np.testing.assert_allclose(parallel.TrainingInfo.TrainingAccuracy,
                               serial.TrainingInfo.TrainingAccuracy, rtol=1e-9)


def test_trainnet_sequence_regression_equals_cpu(pool, rng):
    X = [x.T for x in ragged(rng, 20, 2)]
    T = [rng.standard_normal((x.shape[0], 2)) for x in X]
    layers = [L.sequenceInputLayer(2), L.bilstmLayer(4), L.gruLayer(3), L.fullyConnectedLayer(2)]
    common = dict(MaxEpochs=2, MiniBatchSize=8, Verbose=False, Metrics="rmse")
    serial = L.trainnet(X, T, layers, "mse", L.trainingOptions("adam", **common),
                        dtype="float64", seed=5)
    parallel = L.trainnet(X, T, layers, "mse", L.trainingOptions(
        "adam", ExecutionEnvironment="parallel", **common), dtype="float64", seed=5)
    w_serial = np.concatenate([np.ravel(v) for v in serial.Learnables.Value])
    w_parallel = np.concatenate([np.ravel(v) for v in parallel.Learnables.Value])
    np.testing.assert_allclose(w_parallel, w_serial, rtol=1e-9, atol=1e-12)


def test_what_cannot_run_in_parallel_is_a_clear_error_before_any_work(pool, rng):
    X = ragged(rng, 8, 3)
    Y = np.array(list("ab") * 4)
    layers = [L.sequenceInputLayer(3), L.lstmLayer(4, OutputMode="last"),
              L.fullyConnectedLayer(2), L.softmaxLayer(), L.classificationLayer()]
    with pytest.raises(ValueError, match="trainNetwork: `WorkerLoad` has 3 values but the "
                                         "parallel pool has 2 workers"):
        L.trainNetwork(X, Y, layers, L.trainingOptions(
            "adam", ExecutionEnvironment="parallel", WorkerLoad=[1, 1, 1], Verbose=False))
    with pytest.raises(ValueError, match=r"SequenceLength=5 \(truncated backpropagation, each "
                                         r"chunk an iteration\) cannot be trained with"):
        L.trainNetwork(X, Y, layers, L.trainingOptions(
            "adam", ExecutionEnvironment="parallel", SequenceLength=5, Verbose=False))
    dropped = layers[:2] + [L.dropoutLayer(0.2)] + layers[2:]
    with pytest.raises(ValueError, match="DropoutLayer 'dropout' depends on the whole"):
        L.trainNetwork(X, Y, dropped, L.trainingOptions(
            "adam", ExecutionEnvironment="parallel", Verbose=False))


@pytest.mark.skipif(sys.platform == "win32", reason="kills a worker process by signal")
def test_a_killed_worker_ends_the_run_with_a_clear_error_and_the_last_network(pool, rng):
    X = ragged(rng, 64, 3)
    Y = np.array(list("ab") * 32)
    layers = [L.sequenceInputLayer(3), L.lstmLayer(4, OutputMode="last"),
              L.fullyConnectedLayer(2), L.softmaxLayer(), L.classificationLayer()]
    victim = pool.workers()[1]

    def kill_at_third(info):
        if info.State == "iteration" and info.Iteration == 3:
            pid = pool.Client.run(os.getpid, workers=[victim])[victim]
            os.kill(pid, signal.SIGKILL)
        return False

    with pytest.raises(WorkerLost, match="trainNetwork: the parallel pool's worker .* failed "
                                         "during training") as caught:
        L.trainNetwork(X, Y, layers, L.trainingOptions(
            "adam", ExecutionEnvironment="parallel", MaxEpochs=5, MiniBatchSize=16,
            Verbose=False, OutputFcn=kill_at_third))
    net = caught.value.network
    assert net.TrainingInfo.StopReason == "A parallel pool worker failed"
    assert len(net.TrainingInfo.TrainingLoss) == 3       # the iterations that completed
    assert np.all(np.isfinite(weights(net)))
    pool.Client.wait_for_workers(2, timeout=60)          # the nanny restarts it


def test_the_workers_keep_nothing_after_training(pool, rng):
    X = ragged(rng, 8, 3)
    Y = np.array(list("ab") * 4)
    layers = [L.sequenceInputLayer(3), L.lstmLayer(4, OutputMode="last"),
              L.fullyConnectedLayer(2), L.softmaxLayer(), L.classificationLayer()]
    L.trainNetwork(X, Y, layers, L.trainingOptions(
        "adam", ExecutionEnvironment="parallel", MaxEpochs=1, Verbose=False))

    def actors(dask_worker):
        return len(dask_worker.state.actors)

    for _ in range(50):                  # the release reaches the workers asynchronously
        gc.collect()
        if sum(pool.Client.run(actors).values()) == 0:
            break
        time.sleep(0.1)
    assert sum(pool.Client.run(actors).values()) == 0


def test_predict_and_classify_on_the_pool_equal_this_process(pool, rng):
    """Observations split over the workers: bit-identical (the forward pass is summed in one
    order whatever the split), for sequence-to-label and sequence-to-sequence networks."""
    X = ragged(rng, 41, 3)
    Y = np.array(list("abc") * 14)[:41]
    net = L.trainNetwork(X, Y, [L.sequenceInputLayer(3), L.lstmLayer(6, OutputMode="last"),
                                L.fullyConnectedLayer(3), L.softmaxLayer(),
                                L.classificationLayer()],
                         L.trainingOptions("adam", MaxEpochs=1, Verbose=False))
    np.testing.assert_array_equal(
        L.predict(net, X, ExecutionEnvironment="parallel", MiniBatchSize=5), L.predict(net, X))
    np.testing.assert_array_equal(L.classify(net, X, ExecutionEnvironment="parallel-cpu"),
                                  L.classify(net, X))
    Ys = [np.array(list("ab"))[rng.integers(0, 2, x.shape[1])] for x in X]
    seq = L.trainNetwork(X, Ys, [L.sequenceInputLayer(3), L.bilstmLayer(4),
                                 L.fullyConnectedLayer(2), L.softmaxLayer(),
                                 L.classificationLayer()],
                         L.trainingOptions("adam", MaxEpochs=1, Verbose=False))
    here, there = L.predict(seq, X), L.predict(seq, X, ExecutionEnvironment="parallel")
    assert len(there) == 41 and all(np.array_equal(a, b) for a, b in zip(here, there))
    np.testing.assert_array_equal(L.predict(seq, X[0], ExecutionEnvironment="parallel"), here[0])
    with pytest.raises(ValueError, match="predictAndUpdateState: ExecutionEnvironment="
                                         "'parallel' is not possible"):
        L.predictAndUpdateState(net, X, ExecutionEnvironment="parallel")
    stateful = L.trainNetwork(X, Y, [L.sequenceInputLayer(3), L.lstmLayer(6, OutputMode="last"),
                                     L.fullyConnectedLayer(3), L.softmaxLayer(),
                                     L.classificationLayer()],
                              L.trainingOptions("adam", MaxEpochs=1, Verbose=False))
    stateful, _ = L.predictAndUpdateState(stateful, X[:4], nargout=2)
    with pytest.raises(ValueError, match="predict: layer 'lstm' holds the states of several"):
        L.predict(stateful, X[:4], ExecutionEnvironment="parallel")
    short_here = L.predict(net, X, SequenceLength="shortest", MiniBatchSize=7)
    np.testing.assert_array_equal(   # 'shortest': the workers form this process' mini-batches
        L.predict(net, X, SequenceLength="shortest", MiniBatchSize=7,
                  ExecutionEnvironment="parallel"), short_here)


def test_minibatchpredict_and_dlnetwork_predict_on_the_pool_equal_this_process(pool, rng):
    """The trainnet era's prediction on the pool: bit-identical outputs, layer Outputs,
    several inputs, the state output of predict, and 'shortest' mini-batches."""
    X = [x.T for x in ragged(rng, 23, 3)]
    dl = L.dlnetwork([L.sequenceInputLayer(3), L.lstmLayer(5, Name="lstm"),
                      L.fullyConnectedLayer(2)])
    par = dict(ExecutionEnvironment="parallel")
    for kw in ({}, dict(UniformOutput=False), dict(Outputs="lstm", UniformOutput=False),
               dict(SequenceLength="shortest", MiniBatchSize=4)):
        here, there = L.minibatchpredict(dl, X, **kw), L.minibatchpredict(dl, X, **kw, **par)
        if isinstance(here, list):
            assert len(there) == 23 and all(np.array_equal(a, b) for a, b in zip(here, there))
        else:
            np.testing.assert_array_equal(there, here)
    Y, state = L.predict(dl, X, nargout=2, **par)
    Y0, state0 = L.predict(dl, X, nargout=2)
    assert all(np.array_equal(a, b) for a, b in zip(Y, Y0))
    for a, b in zip(state.Value, state0.Value):
        assert a.shape == (5, 23)
        np.testing.assert_array_equal(a, b)
    # two inputs (a sequence and features), sequence-to-label
    lg = L.dlnetwork([L.sequenceInputLayer(3, Name="seq"), L.lstmLayer(4, OutputMode="last"),
                      L.concatenationLayer(1, 2, Name="cat"), L.fullyConnectedLayer(2)],
                     Initialize=False)
    lg = L.addLayers(lg, L.featureInputLayer(2, Name="feat"))
    lg = L.connectLayers(lg, "feat", "cat/in2")
    lg = L.initialize(lg)
    F = rng.standard_normal((23, 2))
    np.testing.assert_allclose(       # BLAS may round a dense product of other row counts
        L.minibatchpredict(lg, X, F, MiniBatchSize=5, **par),    # differently: the last bit
        L.minibatchpredict(lg, X, F, MiniBatchSize=5), rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match="testnet: .*ExecutionEnvironment"):
        L.testnet(dl, X, [rng.standard_normal((x.shape[0], 2)) for x in X], "mse", **par)


def test_custom_layers_reach_the_workers_by_name(pool, rng):
    """A custom layer class from a module beside the script (here the tests' folder, on the
    client's path, which local workers get as MATLAB's AutoAddClientPath)."""
    from test_custom_layers import PReLULayer
    dl = L.dlnetwork([L.sequenceInputLayer(3), PReLULayer(3, Name="prelu"),
                      L.fullyConnectedLayer(2)])
    X = [x.T for x in ragged(rng, 9, 3)]
    np.testing.assert_array_equal(L.minibatchpredict(dl, X, ExecutionEnvironment="parallel"),
                                  L.minibatchpredict(dl, X))


def test_a_custom_layer_the_workers_cannot_import_is_a_clear_error(pool, rng):
    class Scale(L.CustomLayer):            # defined in a function: no worker can import it
        def predict(self, X):
            return 2 * X

    dl = L.dlnetwork([L.sequenceInputLayer(3), Scale(Name="scale"), L.fullyConnectedLayer(2)])
    X = [x.T for x in ragged(rng, 4, 3)]
    with pytest.raises(ValueError, match="minibatchpredict: layer 'scale' is of class .*Scale, "
                                         "defined in a function: the parallel pool's workers"):
        L.minibatchpredict(dl, X, ExecutionEnvironment="parallel")
    assert L.minibatchpredict(dl, X).shape == (max(x.shape[0] for x in X), 2, 4)
