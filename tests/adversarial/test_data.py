"""Hostile and careless data for every function that reads sequences."""

import numpy as np
import pytest

from helpers import clear_error, unchanged
from lstmkit import (classify, minibatchpredict, predict, predictAndUpdateState, testnet,
                     trainnet, trainNetwork)

r = np.random.default_rng(7)
GOOD = r.standard_normal((12, 6))


def with_value(v):
    x = GOOD.copy()
    x[3, 2] = v
    return x


# (case, X in MATLAB's C-by-T layout, expected: an error fragment, or None for a result)
C_BY_T = [
    ("None", None, "must be a list|Received"),
    ("a string", "sequences", "must be|numeric"),
    ("a number", 5, "feature dimension|must be"),
    ("a dict", {"x": GOOD}, "must be a list"),
    ("empty list", [], "empty|at least one"),
    ("list holding None", [None], "numeric|must be"),
    ("list holding a string", ["abc"], "numeric|must be"),
    ("empty sequence", [np.zeros((12, 0))], "empty"),
    ("no channels", [np.zeros((0, 5))], "empty"),
    ("NaN", [with_value(np.nan)], "NaN or Inf"),
    ("Inf", [with_value(np.inf)], "NaN or Inf"),
    ("-Inf", [with_value(-np.inf)], "NaN or Inf"),
    ("beyond float32", [with_value(1e39)], "single precision"),
    ("complex", [GOOD.astype(complex) + 1j], "complex|real"),
    ("wrong channels", [r.standard_normal((5, 6))], "feature dimension"),
    ("transposed", [GOOD.T], "transposed"),
    ("ragged channels", [GOOD, r.standard_normal((11, 4))], "feature dimension"),
    ("4-D array", np.zeros((2, 12, 3, 1)), "4-D"),
    ("object array of mixed", np.array([GOOD, "x"], dtype=object), "numeric|must be"),
    ("1-D of the wrong length", np.ones(7), "1-D array of 7 values"),
    ("bytes", b"\x00\x01", "must be|numeric"),
    ("a set", {1, 2}, "must be"),
    ("one time step", [GOOD[:, :1]], None),
    ("int sequences", [np.ones((12, 4), dtype=np.int64)], None),
    ("boolean sequences", [np.ones((12, 4), dtype=bool)], None),
    ("non-contiguous", [np.asfortranarray(GOOD)[:, ::2]], None),
    ("float32", [GOOD.astype(np.float32)], None),
    ("N-by-C-by-T array", np.stack([GOOD, GOOD]), None),
    ("1-D column of 12 (one step)", np.ones(12), None),
]


def _labels(X):
    n = 1 if isinstance(X, np.ndarray) and X.ndim <= 2 else (
        len(X) if isinstance(X, (list, np.ndarray)) and len(X) else 1)
    return np.array(["1"] * n)


@pytest.mark.parametrize("case, X, expected", C_BY_T, ids=[c[0] for c in C_BY_T])
@pytest.mark.parametrize("func", ["trainNetwork", "predict", "classify", "predictAndUpdateState"])
def test_trainnetwork_era_data(series_net, quick, func, case, X, expected):
    from helpers import classifier_layers
    calls = {
        "trainNetwork": lambda: trainNetwork(X, _labels(X), classifier_layers()[:2] + [
            __import__("lstmkit").fullyConnectedLayer(1), __import__("lstmkit").softmaxLayer(),
            __import__("lstmkit").classificationLayer()], quick),
        "predict": lambda: predict(series_net, X),
        "classify": lambda: classify(series_net, X),
        "predictAndUpdateState": lambda: predictAndUpdateState(series_net, X),
    }
    if expected is None:
        out = unchanged(calls[func], X)
        if func in ("predict", "classify"):
            assert np.all(np.isfinite(np.asarray(out, dtype=float))) if func == "predict" \
                else len(out) >= 1
    else:
        clear_error(calls[func], func, expected, args=(X,))


# the trainnet era: T-by-C sequences
# the same cases with the trainnet era's wording where it differs
T_BY_C_WORDS = {"a dict": "numeric", "empty sequence": "no time steps",
                "no channels": "expects 12 channels", "wrong channels": "expects 12 channels",
                "transposed": "looks C-by-T", "ragged channels": "expects 12 channels",
                "object array of mixed": "looks C-by-T|numeric"}
T_BY_C = [(case, ([GOOD] if case == "transposed" else
                  [x.T if isinstance(x, np.ndarray) and x.ndim == 2 else x for x in X]
                  if isinstance(X, list) else X),
           T_BY_C_WORDS.get(case, expected)) for case, X, expected in C_BY_T
          if case not in ("N-by-C-by-T array", "4-D array", "1-D column of 12 (one step)")]
T_BY_C += [
    ("T-by-C-by-N array", np.stack([GOOD.T, GOOD.T], axis=2), None),
    ("1-D row of 12 (one step)", np.ones(12), None),
    ("4-D array", np.zeros((2, 12, 3, 1)), "T-by-C|4-D"),
]


@pytest.mark.parametrize("case, X, expected", T_BY_C, ids=[c[0] for c in T_BY_C])
@pytest.mark.parametrize("func", ["trainnet", "minibatchpredict", "predict", "testnet"])
def test_trainnet_era_data(dl_net, quick, func, case, X, expected):
    from lstmkit import fullyConnectedLayer, lstmLayer, sequenceInputLayer, softmaxLayer
    n = len(X) if isinstance(X, list) and X else (X.shape[2] if isinstance(X, np.ndarray) and
                                                   X.ndim == 3 else 1)
    T = np.array(["1"] * n)
    if func == "testnet" and expected is None:
        T = np.array([str(c) for c in np.resize(dl_net_classes(), n)])
    calls = {
        "trainnet": lambda: trainnet(X, T, [sequenceInputLayer(12), lstmLayer(
            4, OutputMode="last"), fullyConnectedLayer(1), softmaxLayer()], "crossentropy",
            quick),
        "minibatchpredict": lambda: minibatchpredict(dl_net, X),
        "predict": lambda: predict(dl_net, X),
        "testnet": lambda: testnet(dl_net, X, T, "accuracy", ClassNames=dl_net_classes()),
    }
    if expected is None:
        out = unchanged(calls[func], X)
        if func in ("minibatchpredict", "predict"):
            assert np.all(np.isfinite(np.asarray(out, dtype=float)))
        if func == "testnet":
            assert 0 <= out <= 100
    else:
        clear_error(calls[func], func, expected, args=(X,))


def dl_net_classes():
    return np.array([str(k) for k in range(1, 10)])


# -- a large class of inputs: random arrays of any dtype, shape and values ------------------------
from hypothesis import given, strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

ARRAYS = hnp.arrays(
    dtype=st.sampled_from([np.float64, np.float32, np.int64, np.int8, np.bool_, np.complex128,
                           np.uint16, np.float16]),
    shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=13),
    elements=None)


@given(X=ARRAYS)
def test_any_array_gives_a_clear_error_or_finite_scores(series_net, X):
    before = X.copy()
    try:
        scores = predict(series_net, X)
    except (ValueError, TypeError) as err:
        assert str(err).startswith("predict:"), err
    else:
        assert np.all(np.isfinite(np.asarray(scores, dtype=float)))
    assert np.array_equal(X, before, equal_nan=True)


@given(X=ARRAYS)
def test_any_array_in_the_trainnet_era(dl_net, X):
    before = X.copy()
    try:
        scores = minibatchpredict(dl_net, X)
    except (ValueError, TypeError) as err:
        assert str(err).startswith("minibatchpredict:"), err
    else:
        assert np.all(np.isfinite(np.asarray(scores, dtype=float)))
    assert np.array_equal(X, before, equal_nan=True)
