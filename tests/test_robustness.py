"""Faults, reproducibility and numerical robustness (issue 6)."""

import os
import signal
import subprocess
import sys
import textwrap
import time
import tracemalloc

import numpy as np
import pytest

from lstmkit import (fullyConnectedLayer, loadNetwork, lstmLayer, predict,
                     regressionLayer, rng, sequenceInputLayer, trainingOptions,
                     trainNetwork)

from netutil import QUIET, regression_data, stack, weights

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# -- reproducibility ----------------------------------------------------------------------

def test_same_seed_gives_bit_identical_networks():
    X, Y = regression_data()
    opts = trainingOptions("adam", MaxEpochs=3, MiniBatchSize=4, Shuffle="every-epoch", **QUIET)
    a = trainNetwork(X, Y, stack(), opts, seed=11)
    b = trainNetwork(X, Y, stack(), opts, seed=11)
    c = trainNetwork(X, Y, stack(), opts, seed=12)
    for wa, wb in zip(weights(a), weights(b)):
        np.testing.assert_array_equal(wa, wb)
    np.testing.assert_array_equal(predict(a, X), predict(b, X))
    assert not all(np.array_equal(wa, wc) for wa, wc in zip(weights(a), weights(c)))
    np.testing.assert_array_equal(a.TrainingInfo.TrainingLoss, b.TrainingInfo.TrainingLoss)


def test_global_rng_reproduces_and_seeded_calls_leave_it_alone():
    X, Y = regression_data()
    opts = trainingOptions("adam", MaxEpochs=2, MiniBatchSize=4, **QUIET)
    rng(5)
    first = trainNetwork(X, Y, stack(), opts)
    rng(5)
    trainNetwork(X, Y, stack(), opts, seed=99)       # does not advance the global stream
    second = trainNetwork(X, Y, stack(), opts)
    for wa, wb in zip(weights(first), weights(second)):
        np.testing.assert_array_equal(wa, wb)


def test_seed_errors():
    X, Y = regression_data(4)
    for bad in (-1, 2**32, 1.5, "7"):
        with pytest.raises(TypeError,
                           match=r"trainNetwork: `seed` must be None or an integer from 0 to "
                                 r"2\^32-1\. Received: seed="):
            trainNetwork(X, Y, stack(), trainingOptions("adam", **QUIET), seed=bad)


# -- faults ---------------------------------------------------------------------------------

WRITER = textwrap.dedent("""
    import sys
    import numpy as np
    sys.path.insert(0, {root!r})
    from lstmkit import (assembleNetwork, fullyConnectedLayer, lstmLayer, regressionLayer,
                         saveNetwork, sequenceInputLayer)
    H = 400
    r = np.random.default_rng(int(sys.argv[2]))
    layers = [sequenceInputLayer(50),
              lstmLayer(H, InputWeights=r.standard_normal((4 * H, 50)),
                        RecurrentWeights=r.standard_normal((4 * H, H)), Bias=np.zeros(4 * H)),
              fullyConnectedLayer(1, Weights=np.ones((1, H)), Bias=[0.0]), regressionLayer()]
    net = assembleNetwork(layers)
    print("ready", flush=True)
    while True:
        saveNetwork(net, sys.argv[1])
""")


def test_save_killed_mid_write_leaves_the_previous_file_loadable(tmp_path):
    path = str(tmp_path / "net.mat")
    code = WRITER.format(root=ROOT)
    first = subprocess.run([sys.executable, "-c", code.replace("while True:", "for _ in [0]:"),
                            path, "0"], capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    reference = loadNetwork(path).Layers[1].InputWeights.copy()
    rs = np.random.default_rng(0)
    for attempt in range(4):
        child = subprocess.Popen([sys.executable, "-c", code, path, str(attempt + 1)],
                                 stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rs.uniform(0.05, 0.6))          # somewhere inside a write
        child.send_signal(signal.SIGKILL)
        child.wait()
        net = loadNetwork(path)                     # always a complete file
        W = net.Layers[1].InputWeights
        assert W.shape == reference.shape and np.all(np.isfinite(W))
        # the file is one that some writer finished: the first one's, or a killed one's
        seeds = [np.random.default_rng(s).standard_normal((1600, 50)) for s in range(attempt + 2)]
        assert any(np.array_equal(W, s) for s in seeds)


# -- numerical robustness -------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("mode", ["last", "sequence"])
def test_very_long_sequence_prediction_is_linear_in_memory(mode):
    layers = [sequenceInputLayer(1), lstmLayer(8, OutputMode=mode), fullyConnectedLayer(1),
              regressionLayer()]
    r = np.random.default_rng(0)
    Y = [r.standard_normal((1, 20))] if mode == "sequence" else np.ones((1, 1))
    net = trainNetwork(r.standard_normal((1, 20)), Y[0] if mode == "sequence" else Y, layers,
                       trainingOptions("adam", MaxEpochs=1, **QUIET))
    x = np.sin(np.arange(100_000) / 10.0)[None, :]
    tracemalloc.start()
    out = predict(net, x)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert np.all(np.isfinite(out))
    assert out.shape == ((1, 100_000) if mode == "sequence" else (1, 1))
    # the input itself is 0.8 MB (float64): a few copies of it, never T-squared
    assert peak < 40e6


def test_constant_input_with_zscore_stays_finite():
    X = [np.full((2, 5), 3.0) for _ in range(6)]
    layers = [sequenceInputLayer(2, Normalization="zscore"), lstmLayer(3, OutputMode="last"),
              fullyConnectedLayer(1), regressionLayer()]
    net = trainNetwork(X, np.ones((6, 1)), layers, trainingOptions("adam", MaxEpochs=2, **QUIET))
    assert np.all(net.Layers[0].StandardDeviation == 0)
    assert np.all(np.isfinite(predict(net, X)))
    rescale = [sequenceInputLayer(2, Normalization="rescale-symmetric")] + layers[1:]
    net = trainNetwork(X, np.ones((6, 1)), rescale, trainingOptions("adam", MaxEpochs=1, **QUIET))
    assert np.all(np.isfinite(predict(net, X)))


def test_single_time_step_sequences():
    X = [np.random.default_rng(i).standard_normal((3, 1)) for i in range(8)]
    net = trainNetwork(X, [x[:1] for x in X], [sequenceInputLayer(3), lstmLayer(4),
                                               fullyConnectedLayer(1), regressionLayer()],
                       trainingOptions("adam", MaxEpochs=2, MiniBatchSize=3, **QUIET))
    out = predict(net, X)
    assert all(o.shape == (1, 1) and np.isfinite(o).all() for o in out)


@pytest.mark.parametrize("scale", [100.0, 1e4])
def test_saturated_network_stays_finite(scale):
    X = [scale * np.random.default_rng(i).standard_normal((2, 6)) for i in range(8)]
    net = trainNetwork(X, np.ones((8, 1)), [sequenceInputLayer(2), lstmLayer(4, OutputMode="last"),
                                            fullyConnectedLayer(1), regressionLayer()],
                       trainingOptions("sgdm", MaxEpochs=3, MiniBatchSize=4, **QUIET))
    assert np.all(np.isfinite(net.TrainingInfo.TrainingLoss))
    assert np.all(np.isfinite(predict(net, X)))


DETERMINISM = textwrap.dedent("""
    import hashlib, sys
    import numpy as np
    sys.path.insert(0, {root!r})
    import lstmkit as lk
    r = np.random.default_rng(0)
    X = [r.standard_normal((5, int(T))) for T in r.integers(3, 30, 40)]
    Y = np.array(["a", "b"])[np.arange(40) % 2]
    layers = [lk.sequenceInputLayer(5), lk.lstmLayer(37, OutputMode="last"),
              lk.fullyConnectedLayer(2), lk.softmaxLayer(), lk.classificationLayer()]
    net = lk.trainNetwork(X, Y, layers, lk.trainingOptions("adam", MaxEpochs=3, MiniBatchSize=8,
                                                           Verbose=0), seed=1)
    print(hashlib.sha256(net.Layers[1].RecurrentWeights.tobytes()).hexdigest())
""")


@pytest.mark.slow
def test_results_identical_in_fresh_and_cached_processes(tmp_path):
    """A fresh process (kernels compiled now) and one loading cached kernels agree bit for bit."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    code = DETERMINISM.format(root=ROOT)
    digests = [subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              text=True, check=True, timeout=600).stdout.strip()
               for _ in range(2)]
    assert digests[0] == digests[1]
