"""Threads: results never depend on how many run, and the tuner picks the faster count."""

import numba
import numpy as np
import pytest

import lstmkit as lk
from lstmkit import _tuning
from lstmkit.kernels._threads import kernel_parts

needs_two = pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2 or kernel_parts() < 2,
                               reason="needs two Numba threads and a per-thread BLAS setting")


def _data(n=40, seed=0):
    r = np.random.default_rng(seed)
    X = [r.standard_normal((5, int(t))) for t in r.integers(3, 30, n)]
    Y = np.array(["a", "b", "c", "d"] * (n // 4))
    return X, Y


def _layers():
    return [lk.sequenceInputLayer(5), lk.lstmLayer(24, OutputMode="last"),
            lk.fullyConnectedLayer(4), lk.softmaxLayer(), lk.classificationLayer()]


@needs_two
def test_training_and_prediction_give_the_same_bits_with_one_thread_or_all():
    X, Y = _data()
    opts = lk.trainingOptions("adam", MaxEpochs=3, MiniBatchSize=20, Verbose=False)
    full = numba.get_num_threads()
    results = []
    for threads in (full, 1):
        numba.set_num_threads(threads)
        try:
            net = lk.trainNetwork(X, Y, _layers(), opts, seed=4)
            results.append((net.Layers[1].RecurrentWeights, lk.predict(net, X)))
        finally:
            numba.set_num_threads(full)
    assert np.array_equal(results[0][0], results[1][0])
    assert np.array_equal(results[0][1], results[1][1])


def test_tuned_and_untuned_calls_agree(monkeypatch):
    X, Y = _data()
    opts = lk.trainingOptions("adam", MaxEpochs=4, MiniBatchSize=10, Verbose=False)
    monkeypatch.setattr(_tuning, "PERIOD_SECONDS", 0.0)      # measure all the time
    monkeypatch.setattr(_tuning, "FIRST_ROUND_SECONDS", 0.0)
    monkeypatch.setattr(_tuning, "PERIOD_ROUNDS", 0)
    tuned = lk.trainNetwork(X, Y, _layers(), opts, seed=1)
    monkeypatch.setattr(_tuning.ThreadTuner, "begin", lambda self: None)
    plain = lk.trainNetwork(X, Y, _layers(), opts, seed=1)
    assert np.array_equal(tuned.Layers[1].InputWeights, plain.Layers[1].InputWeights)
    assert numba.get_num_threads() == numba.config.NUMBA_NUM_THREADS   # restored


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.fixture
def fake_threads(monkeypatch):
    """A tuner on a fake clock and a fake Numba: ``setup(full)`` -> (clock, chosen counts)."""
    def setup(full):
        clock = FakeClock()
        chosen = []
        monkeypatch.setattr(_tuning.time, "perf_counter", clock)
        monkeypatch.setattr(_tuning.numba, "get_num_threads",
                            lambda: chosen[-1] if chosen else full)
        monkeypatch.setattr(_tuning.numba, "set_num_threads", chosen.append)
        monkeypatch.setattr(_tuning, "HAVE_LOCAL_BLAS_THREADS", True)
        monkeypatch.setattr(_tuning, "kernel_parts", lambda: full)
        return clock, chosen
    return setup


@pytest.mark.parametrize("one_thread_cost, expected", [(0.5, 1), (1.0, "full"), (0.95, "full")])
def test_the_tuner_keeps_the_faster_count(fake_threads, one_thread_cost, expected):
    clock, chosen = fake_threads(4)
    with _tuning.ThreadTuner() as tuner:
        for _ in range(40):
            tuner.begin()
            threads = chosen[-1] if chosen else 4
            clock.now += one_thread_cost if threads == 1 else 1.0    # seconds per unit
            tuner.end(1)
        assert tuner.rounds >= 1
        assert tuner.choice == (1 if expected == 1 else 4)
    assert chosen[-1] == 4                                          # restored on exit


def test_the_tuner_measures_again_when_the_load_changes(fake_threads):
    clock, chosen = fake_threads(2)
    busy = [False]
    with _tuning.ThreadTuner() as tuner:
        picks = []
        for unit in range(400):
            if unit == 200:
                busy[0] = True                                      # another job starts
            tuner.begin()
            threads = chosen[-1] if chosen else 2
            clock.now += (2.0 if busy[0] else 0.6) if threads == 2 else 1.0
            tuner.end(1)
            picks.append(tuner.choice)
    assert picks[150] == 2 and picks[-1] == 1


def test_the_tuner_does_nothing_with_one_thread(monkeypatch):
    monkeypatch.setattr(_tuning.numba, "get_num_threads", lambda: 1)
    monkeypatch.setattr(_tuning.numba, "set_num_threads",
                        lambda n: pytest.fail("set_num_threads called"))
    with _tuning.ThreadTuner() as tuner:
        for _ in range(30):
            tuner.begin()
            tuner.end(1)
    assert not tuner.enabled


@needs_two
@pytest.mark.parametrize("factory", [lk.lstmLayer, lk.bilstmLayer])
def test_large_recurrent_weights_split_by_units_give_the_same_network(monkeypatch, factory):
    """Split by hidden units (forced here on a small layer) or by rows: the same training."""
    from lstmkit.layers import lstm as lstm_layer
    X, Y = _data(24)
    layers = [lk.sequenceInputLayer(5), factory(9, OutputMode="sequence"),
              lk.lstmLayer(6, OutputMode="last"), lk.fullyConnectedLayer(4), lk.softmaxLayer(),
              lk.classificationLayer()]
    opts = lk.trainingOptions("adam", MaxEpochs=2, MiniBatchSize=8, Verbose=False)
    rows = lk.trainNetwork(X, Y, layers, opts, seed=2)
    monkeypatch.setattr(lstm_layer, "COLUMN_SPLIT_BYTES", 0)
    assert len(lstm_layer.recurrent_parts(np.zeros((36, 9), np.float32), 8)) > 1
    units = lk.trainNetwork(X, Y, layers, opts, seed=2)
    np.testing.assert_allclose(units.Layers[1].RecurrentWeights, rows.Layers[1].RecurrentWeights,
                               rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(lk.predict(units, X), lk.predict(rows, X), rtol=1e-4, atol=1e-6)
