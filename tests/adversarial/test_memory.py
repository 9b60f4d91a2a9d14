"""Memory over many calls: a script that calls lstmkit in a loop must not grow.

The resident set size is read from /proc after warm-up calls (compilation,
caches, the allocator's first arenas), then after many more; the growth must
stay below a few MiB, far less than what the calls allocate in all.
"""

import gc
import os

import numpy as np
import pytest

import lstmkit as L

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/statm"),
                                reason="reads the resident set size from /proc")


def resident_mib():
    gc.collect()
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def growth(call, warm=30, repeats=300):
    for _ in range(warm):
        call()
    start = resident_mib()
    for _ in range(repeats):
        call()
    return resident_mib() - start


def test_prediction_in_a_loop_does_not_grow(dl_net, series_net, jv):
    X, _ = jv
    Xt = [x.T for x in X]
    net = series_net

    def calls():
        L.minibatchpredict(dl_net, Xt)
        L.classify(net, X)
        net2 = L.predictAndUpdateState(net, X[0], nargout=1)
        L.resetState(net2)
        L.scores2label(L.predict(dl_net, Xt[0]), list("abcdefghi"))
    # 150 rounds allocate several hundred MiB in all
    assert growth(calls, warm=20, repeats=150) < 8


def test_training_in_a_loop_does_not_grow(jv, quick):
    X, Y = jv
    Xt = [x.T for x in X]
    layers = [L.sequenceInputLayer(12), L.lstmLayer(6, OutputMode="last"),
              L.fullyConnectedLayer(9), L.softmaxLayer()]

    def calls():
        L.trainnet(Xt, Y, layers, "crossentropy", quick, seed=0)
    assert growth(calls, warm=10, repeats=100) < 8


def test_save_and_load_in_a_loop_does_not_grow(series_net, tmp_path):
    path = str(tmp_path / "n.mat")

    def calls():
        L.saveNetwork(series_net, path)
        L.loadNetwork(path)
    assert growth(calls, warm=10, repeats=200) < 8


def test_errors_in_a_loop_do_not_grow(series_net, jv):
    X, Y = jv
    bad = [np.full((12, 5), np.nan)]

    def calls():
        with pytest.raises(ValueError):
            L.classify(series_net, bad)
        with pytest.raises(ValueError):
            L.trainNetwork(X, Y[:-1], series_net.Layers, L.trainingOptions("adam", Verbose=False))
    assert growth(calls, warm=20, repeats=300) < 8
