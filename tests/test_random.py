"""lstmkit's ``rng``: MATLAB's generator, seeding, settings and their errors."""

import numpy as np
import pytest

from lstmkit import rng, trainingOptions, trainNetwork
from lstmkit._random import RandomSettings, global_rng

from netutil import QUIET, regression_data, stack, weights


@pytest.fixture(autouse=True)
def fresh_generator():
    """Each test starts from, and leaves, the state of a fresh session."""
    saved = rng("default")
    yield
    rng(saved)


def draws(n=5):
    return global_rng().random(n)


# MATLAB's rand(1, 6) after `rng default` and rand(1, 5) after `rng(1)`, as MATLAB displays them.
MATLAB_DEFAULT = [0.8147, 0.9058, 0.1270, 0.9134, 0.6324, 0.0975]
MATLAB_SEED_1 = [0.4170, 0.7203, 0.0001, 0.3023, 0.1468]


def test_twister_uniform_stream_is_matlabs_rand():
    np.testing.assert_allclose(draws(6), MATLAB_DEFAULT, atol=5e-5)
    rng(1)
    np.testing.assert_allclose(draws(5), MATLAB_SEED_1, atol=5e-5)
    rng(0, "twister")
    np.testing.assert_allclose(draws(6), MATLAB_DEFAULT, atol=5e-5)


def test_fresh_session_is_twister_seed_0():
    s = rng()
    assert (s.Type, s.Seed) == ("twister", 0)
    assert isinstance(s, RandomSettings)
    assert "Type='twister', Seed=0" in repr(s)


def test_query_does_not_change_the_stream():
    a = draws()
    rng("default")
    rng()
    rng()
    np.testing.assert_array_equal(draws(), a)


@pytest.mark.parametrize("generator", ["twister", "philox"])
def test_settings_restore_the_exact_state_mid_stream(generator):
    rng(42, generator)
    draws(17)                               # somewhere in the middle of the stream
    s = rng()
    a = draws(100)
    rng(3)                                  # elsewhere
    draws(9)
    previous = rng(s)
    np.testing.assert_array_equal(draws(100), a)
    assert (previous.Type, previous.Seed) == (generator, 3)
    assert rng().Type == generator and rng().Seed == 42


def test_setting_returns_the_previous_settings():
    rng(5)
    before = rng()
    assert rng(9) == before
    assert rng() != before
    assert rng("default").Seed == 9


def test_seed_keeps_the_type_and_default_resets_it():
    rng(7, "philox")
    p = draws()
    rng(7)                                  # MATLAB: rng(seed) keeps the current generator
    assert rng().Type == "philox"
    np.testing.assert_array_equal(draws(), p)
    rng(7, "twister")
    assert not np.array_equal(draws(), p)
    rng(3, "PHILOX")                        # names are case-insensitive
    rng("default")
    assert (rng().Type, rng().Seed) == ("twister", 0)


def test_shuffle_records_a_seed_that_reproduces_it():
    rng("shuffle")
    s = rng()
    assert s.Type == "twister" and 0 <= s.Seed < 2**32
    a = draws()
    rng(s.Seed)
    np.testing.assert_array_equal(draws(), a)
    rng("shuffle", "philox")
    assert rng().Type == "philox"


def test_returned_state_is_a_copy():
    s = rng()
    s.State["state"]["key"][:] = 0
    np.testing.assert_allclose(draws(6), MATLAB_DEFAULT, atol=5e-5)


def test_restoring_settings_repeats_a_training_run():
    X, Y = regression_data()
    opts = trainingOptions("adam", MaxEpochs=2, MiniBatchSize=4, Shuffle="every-epoch", **QUIET)
    rng(11)
    draws(3)
    s = rng()
    first = trainNetwork(X, Y, stack(), opts)
    rng(s)
    second = trainNetwork(X, Y, stack(), opts)
    for a, b in zip(weights(first), weights(second)):
        np.testing.assert_array_equal(a, b)


def test_per_call_seed_uses_the_current_type():
    X, Y = regression_data()
    opts = trainingOptions("adam", MaxEpochs=1, MiniBatchSize=4, **QUIET)
    twister = trainNetwork(X, Y, stack(), opts, seed=4)
    rng(0, "philox")
    philox = trainNetwork(X, Y, stack(), opts, seed=4)
    again = trainNetwork(X, Y, stack(), opts, seed=4)
    assert not np.array_equal(weights(twister)[0], weights(philox)[0])
    np.testing.assert_array_equal(weights(philox)[0], weights(again)[0])


@pytest.mark.parametrize("args, message", [
    ((1.5,), r"rng: `seed` must be an integer from 0 to 2\^32-1, 'default', 'shuffle' or the "
             r"settings that rng\(\) returned\. Received: seed=1\.5\."),
    ((-1,), r"Received: seed=-1\."),
    ((2**32,), r"Received: seed=4294967296\."),
    ((True,), r"Received: seed=True\."),
    (("defualt",), r"Received: seed='defualt'\."),
    ((1, "simdTwister"), r"rng: `generator` must be one of \['twister', 'philox'\]\. "
                         r"Received: generator='simdTwister'\."),
    ((1, 3), r"`generator` must be one of .* Received: generator=3\."),
    ((None, "twister"), r"rng: `generator` needs a seed: rng\(seed, generator\)"),
    (("default", "philox"), r"rng\('default'\) takes no generator"),
])
def test_errors(args, message):
    before = rng()
    with pytest.raises(ValueError, match=message):
        rng(*args)
    assert rng() == before                  # a refused call changes nothing


def test_bad_settings_are_refused_and_change_nothing():
    good = rng()
    a = draws()
    rng("default")
    with pytest.raises(ValueError, match=r"rng\(s\) takes no generator"):
        rng(good, "twister")
    wrong_type = RandomSettings("philox", 0, good.State)
    with pytest.raises(ValueError, match="rng: the settings' State is not a philox generator state"):
        rng(wrong_type)
    with pytest.raises(ValueError, match=r"`generator` must be one of .* Received: generator='v4'"):
        rng(RandomSettings("v4", 0, good.State))
    np.testing.assert_array_equal(draws(), a)
