"""padsequences, minibatchqueue, onehotencode and onehotdecode, as MATLAB's."""

import numpy as np
import pytest

import lstmkit as L


def test_padsequences_pads_truncates_and_masks():
    X = [np.arange(6.0).reshape(2, 3), np.arange(2.0).reshape(2, 1) + 10]
    XPad, mask = L.padsequences(X, 2, nargout=2)
    assert XPad.shape == (2, 3, 2) and mask.shape == (2, 3, 2)
    np.testing.assert_array_equal(XPad[:, :, 0], X[0])
    np.testing.assert_array_equal(XPad[:, :, 1], [[10, 0, 0], [11, 0, 0]])
    assert mask[:, :, 1].tolist() == [[True, False, False]] * 2
    left = L.padsequences(X, 2, Direction="left", PaddingValue=-1)
    np.testing.assert_array_equal(left[:, :, 1], [[-1, -1, 10], [-1, -1, 11]])
    short = L.padsequences(X, 2, Length="shortest", Direction="left")
    np.testing.assert_array_equal(short[:, :, 0], X[0][:, 2:])       # truncated at the start
    fixed, m = L.padsequences(X, 2, Length=2, UniformOutput=False, nargout=2)
    assert [f.shape for f in fixed] == [(2, 2), (2, 2)] and m[1].tolist() == [[True, False]] * 2
    tc = L.padsequences([x.T for x in X], 1)                          # T-by-C, padded along 1
    assert tc.shape == (3, 2, 2)
    with pytest.raises(ValueError, match="padsequences: the sequences must have the same size "
                                         "in every dimension but paddingDim=2"):
        L.padsequences([np.zeros((2, 3)), np.zeros((3, 3))], 2)
    with pytest.raises(TypeError, match="padsequences: `X` must be a list of arrays"):
        L.padsequences(np.zeros((2, 3)), 2)


def test_onehotencode_and_decode_round_trip():
    labels = np.array([["b", "a", "c", "a"]])                         # 1-by-N
    T = L.onehotencode(labels, 1)
    assert T.shape == (3, 4) and T.dtype == np.float32
    np.testing.assert_array_equal(T[:, 0], [0, 1, 0])
    assert L.onehotdecode(T, ["a", "b", "c"], 1).tolist() == labels.tolist()
    T2 = L.onehotencode(labels, 1, ClassNames=["c", "b", "a", "d"], DataType="double")
    assert T2.shape == (4, 4) and T2.dtype == np.float64 and T2[3].sum() == 0
    assert np.all(np.isnan(L.onehotencode([["z"]], 1, ClassNames=["a", "b"])))
    with pytest.raises(ValueError, match="onehotencode: `A` must have size 1 in dimension "
                                         "featureDim=1"):
        L.onehotencode(np.array([["a"], ["b"]]), 1)
    with pytest.raises(ValueError, match="onehotdecode: `classes` must name the 3 positions"):
        L.onehotdecode(T, ["a", "b"], 1)


def test_minibatchqueue_reads_pads_formats_and_shuffles(rng):
    X = [rng.standard_normal((2, int(T))) for T in (3, 5, 4, 2, 6)]
    Y = np.array(list("abcab"))
    ds = L.combine(L.arrayDatastore(X, OutputType="same"), L.arrayDatastore(Y))

    def preprocess(x, y):
        return L.padsequences(x, 2), L.onehotencode(np.array(y).reshape(1, -1), 1,
                                                    ClassNames=list("abc"))

    mbq = L.minibatchqueue(ds, 2, MiniBatchSize=2, MiniBatchFcn=preprocess,
                           MiniBatchFormat=["CTB", "CB"])
    batches = []
    while L.hasdata(mbq):
        batches.append(next(mbq))
    assert len(batches) == 3 and not L.hasdata(mbq)
    X1, T1 = batches[0]
    assert L.dims(X1) == "CBT" and X1.shape == (2, 2, 5) and X1.dtype == np.float32
    np.testing.assert_allclose(L.extractdata(X1)[:, 0, :3], X[0], rtol=1e-6)
    assert L.dims(T1) == "CB" and L.extractdata(T1)[:, 1].tolist() == [0, 1, 0]
    assert batches[2][0].shape == (2, 1, 6)                 # the partial mini-batch
    with pytest.raises(StopIteration):
        next(mbq)
    L.reset(mbq)
    assert len(list(mbq)) == 3
    L.rng(0)
    L.shuffle(mbq)
    first = next(mbq)[1]
    L.rng(0)
    L.shuffle(mbq)
    np.testing.assert_array_equal(L.extractdata(next(mbq)[1]), L.extractdata(first))
    discard = L.minibatchqueue(ds, 2, MiniBatchSize=2, MiniBatchFcn=preprocess,
                               PartialMiniBatch="discard", OutputAsDlarray=[True, False],
                               OutputCast="double")
    out = list(discard)
    assert len(out) == 2 and isinstance(out[0][1], np.ndarray)
    assert out[0][0].dtype == np.float64
    plain = L.minibatchqueue(L.arrayDatastore(rng.standard_normal((7, 3))), MiniBatchSize=4,
                             MiniBatchFormat="CB")
    Xb = next(plain)
    assert L.dims(Xb) == "CB" and Xb.shape == (3, 4)


@pytest.mark.parametrize("kwargs, exc, words", [
    (dict(MiniBatchFormat=["CB", "CB", "CB"]), ValueError, "one value per output"),
    (dict(MiniBatchFcn=3), TypeError, "`MiniBatchFcn` must be a function"),
    (dict(DispatchInBackground=True), ValueError, "DispatchInBackground=True is not supported"),
    (dict(OutputCast="half"), ValueError, "`OutputCast` must be one of"),
    (dict(numOutputs=3), ValueError, "the datastore has 2 columns but numOutputs is 3"),
])
def test_minibatchqueue_bad_options(kwargs, exc, words):
    ds = L.combine(L.arrayDatastore(np.zeros((4, 2))), L.arrayDatastore(np.zeros(4)))
    n = kwargs.pop("numOutputs", 2)
    with pytest.raises(exc, match=words):
        L.minibatchqueue(ds, n, **kwargs)
