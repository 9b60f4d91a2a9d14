"""parfeval / fetchOutputs / fetchNext: many trainings through one pool (sweeps)."""

import numpy as np
import pytest

import lstmkit as L
from lstmkit import fetchNext, fetchOutputs, parfeval

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.slow


def problem(rng):
    X = [rng.standard_normal((3, int(T))) for T in rng.integers(3, 10, 24)]
    Y = np.array(list("abc") * 8)
    layers = [L.sequenceInputLayer(3), L.lstmLayer(5, OutputMode="last"),
              L.fullyConnectedLayer(3), L.softmaxLayer(), L.classificationLayer()]
    return X, Y, layers


def test_a_sweep_of_trainings_equals_training_here(pool, rng):
    """Networks come back (as saveNetwork's arrays) equal to the same training in this process."""
    X, Y, layers = problem(rng)
    rates = [1e-3, 1e-2]
    sweep = [L.trainingOptions("adam", InitialLearnRate=r, MaxEpochs=3, MiniBatchSize=8,
                               Verbose=False) for r in rates]

    def train(X, Y, layers, opts):          # defined here: it travels by value (cloudpickle)
        return L.trainNetwork(X, Y, layers, opts, dtype="float64", seed=1, nargout=2)

    futures = [parfeval(pool, train, 2, X, Y, layers, opts) for opts in sweep]
    results = fetchOutputs(futures)
    assert [f.State for f in futures] == ["finished", "finished"]
    for (net, info), opts in zip(results, sweep):
        here = L.trainNetwork(X, Y, layers, opts, dtype="float64", seed=1)
        assert isinstance(net, L.SeriesNetwork)
        for a, b in zip(net.Layers, here.Layers):
            for lb in a.learnables:
                np.testing.assert_allclose(getattr(a, lb.name), getattr(b, lb.name),
                                           rtol=1e-9, atol=1e-12)
        assert info.StopReason == "Max epochs completed"
        assert np.array_equal(L.classify(net, X), L.classify(here, X))


def test_fetchnext_returns_each_future_once(pool):
    futures = [parfeval(pool, pow, 1, 2, k) for k in range(4)]
    seen = {}
    for _ in range(4):
        index, value = fetchNext(futures)
        seen[index] = value
    assert seen == {k: 2 ** k for k in range(4)} and all(f.Read for f in futures)
    with pytest.raises(RuntimeError, match="fetchNext: every future in `F` has already been read"):
        fetchNext(futures)
    assert fetchOutputs(futures[2]) == 4                     # still fetchable as a whole


def test_numout_and_networks_as_arguments(pool, rng):
    X, Y, layers = problem(rng)
    net = L.trainNetwork(X, Y, layers, L.trainingOptions("adam", MaxEpochs=1, Verbose=False))
    scores = fetchOutputs(parfeval(L.predict, 1, net, X))     # on gcp()'s pool: this one
    np.testing.assert_allclose(scores, L.predict(net, X), rtol=1e-5, atol=1e-6)
    assert fetchOutputs(parfeval(pool, print, 0, "hello")) is None
    assert fetchOutputs(parfeval(pool, divmod, 2, 7, 3)) == (2, 1)


def test_failures_are_clear_errors(pool):
    bad = parfeval(pool, int, 1, "not a number")
    assert bad.wait(timeout=60)
    assert bad.State == "failed" and isinstance(bad.Error, ValueError)
    with pytest.raises(RuntimeError, match="fetchOutputs: the function int failed on the pool: "
                                           "ValueError"):
        fetchOutputs(bad)
    wrong = parfeval(pool, abs, 2, -3)
    with pytest.raises(RuntimeError, match="asked for 2 outputs but returned int"):
        fetchOutputs(wrong)


@pytest.mark.parametrize("args, exc, match", [
    ((), TypeError, "call it as parfeval"),
    ((3, 1), TypeError, "`fcn` must be a function"),
    ((abs, -1), ValueError, "`numout` must be a non-negative integer"),
    ((abs, 1.5), ValueError, "`numout`"),
])
def test_bad_calls(pool, args, exc, match):
    with pytest.raises(exc, match="parfeval: " + match):
        parfeval(*args)


def test_fetch_bad_arguments():
    with pytest.raises(TypeError, match="fetchOutputs: `F` must be a future"):
        fetchOutputs([1, 2])
    with pytest.raises(TypeError, match="fetchNext: `F` must be a future"):
        fetchNext(None)
