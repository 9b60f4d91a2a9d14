"""saveNetwork / loadNetwork: bit-identical round trips, clear errors, no code execution."""

import os

import numpy as np
import pytest
import scipy.io

from lstmkit import (bilstmLayer, classificationLayer, classify, dropoutLayer, fullyConnectedLayer,
                     gruLayer, loadNetwork, lstmLayer, predict, predictAndUpdateState,
                     regressionLayer, resetState, saveNetwork, sequenceInputLayer, softmaxLayer,
                     trainingOptions, trainNetwork)
from lstmkit.io import MissingFunction

QUIET = dict(Verbose=False)


def trained(kind="mixed", dtype="float32", labels="str"):
    r = np.random.default_rng(0)
    X = [r.standard_normal((3, int(T))) for T in r.integers(4, 10, 12)]
    if labels == "str":
        Y = np.array(["cat", "dog", "émeu"])[np.arange(12) % 3]
    else:
        Y = (np.arange(12) % 3) * 10 + 7
    layers = [sequenceInputLayer(3, Normalization="zscore"),
              lstmLayer(5, HasPeepholes=True, CoupledInputForget=True,
                        InputWeightsLearnRateFactor=[1, 0.5, 1, 1],
                        InputWeightsInitializer=lambda shape: np.full(shape, 0.1)),
              dropoutLayer(0.2), gruLayer(4, ResetGateMode="recurrent-bias-after-multiplication"),
              bilstmLayer(3, OutputMode="last", CellState=np.ones(6)), fullyConnectedLayer(3),
              softmaxLayer(), classificationLayer(ClassWeights=[1, 2, 3], Classes=np.unique(Y))]
    opts = trainingOptions("adam", MaxEpochs=2, MiniBatchSize=4, ValidationData=(X[:3], Y[:3]),
                           **QUIET)
    return trainNetwork(X, Y, layers, opts, dtype=dtype), X


def assert_same_network(a, b):
    assert type(a) is type(b) and len(a.Layers) == len(b.Layers)
    for la, lb in zip(a.Layers, b.Layers):
        assert type(la) is type(lb)
        da, db = vars(la), vars(lb)
        assert sorted(da) == sorted(db)
        for key in da:
            va, vb = da[key], db[key]
            if isinstance(va, np.ndarray):
                assert va.dtype == vb.dtype and va.shape == vb.shape, key
                np.testing.assert_array_equal(va, vb, err_msg=key)
            elif callable(va) and not isinstance(va, type):
                assert getattr(va, "__name__", "") == getattr(vb, "__name__", "")
            elif isinstance(va, dict):
                assert va.keys() == vb.keys()
            else:
                assert va == vb, key
    ia, ib = a.TrainingInfo, b.TrainingInfo
    assert ia.keys() == ib.keys()
    for key in ia.keys():
        if isinstance(ia[key], np.ndarray):
            np.testing.assert_array_equal(ia[key], ib[key])
        elif isinstance(ia[key], float) and np.isnan(ia[key]):
            assert np.isnan(ib[key])
        else:
            assert ia[key] == ib[key]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("labels", ["str", "int"])
def test_round_trip_is_bit_identical(tmp_path, dtype, labels):
    net, X = trained(dtype=dtype, labels=labels)
    path = saveNetwork(net, tmp_path / "net")
    assert path.endswith("net.mat") and os.path.exists(path)
    back = loadNetwork(path)
    assert_same_network(net, back)
    assert back._dtype == np.dtype(dtype)
    np.testing.assert_array_equal(predict(back, X), predict(net, X))
    np.testing.assert_array_equal(classify(back, X), classify(net, X))
    assert classify(back, X).dtype == classify(net, X).dtype


def test_initializer_functions_are_not_saved_as_code(tmp_path):
    net, X = trained()
    back = loadNetwork(saveNetwork(net, tmp_path / "n.mat"))
    init = back.Layers[1].InputWeightsInitializer
    assert isinstance(init, MissingFunction)
    with pytest.raises(ValueError, match="was not saved with the network"):
        init((2, 2))


def test_states_and_reset_survive(tmp_path):
    r = np.random.default_rng(1)
    X = [r.standard_normal((1, 20))]
    net = trainNetwork(X, [x.copy() for x in X], [sequenceInputLayer(1), lstmLayer(4),
                                                  fullyConnectedLayer(1), regressionLayer()],
                       trainingOptions("adam", MaxEpochs=1, **QUIET))
    stateful, _ = predictAndUpdateState(net, X[0][:, :10], nargout=2)
    back = loadNetwork(saveNetwork(stateful, tmp_path / "s.mat"))
    np.testing.assert_array_equal(back.Layers[1].HiddenState, stateful.Layers[1].HiddenState)
    np.testing.assert_array_equal(predict(back, X[0][:, 10:]), predict(stateful, X[0][:, 10:]))
    assert resetState(back).Layers[1].HiddenState is None


def test_matlab_user_can_read_the_weights(tmp_path):
    net, _ = trained()
    path = saveNetwork(net, tmp_path / "w.mat")
    contents = scipy.io.loadmat(path)
    W = contents["layer2_InputWeights"]
    assert W.dtype == np.float32 and W.shape == (20, 3)
    np.testing.assert_array_equal(W, net.Layers[1].InputWeights)
    assert "layer1_Mean" in contents and "TrainingInfo_TrainingLoss" in contents


def test_truncated_corrupted_and_foreign_files(tmp_path):
    net, _ = trained()
    good = saveNetwork(net, tmp_path / "good.mat")
    data = open(good, "rb").read()
    for name, content in [("truncated.mat", data[: len(data) // 2]),
                          ("garbage.mat", b"this is not a MAT-file at all" * 20),
                          ("empty.mat", b"")]:
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(ValueError, match="loadNetwork: .* (truncated|corrupted|not)"):
            loadNetwork(path)
    foreign = tmp_path / "foreign.mat"
    scipy.io.savemat(foreign, {"W": np.ones((3, 3))})
    with pytest.raises(ValueError, match="is a MAT-file but not an lstmkit network"):
        loadNetwork(foreign)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        loadNetwork(tmp_path / "missing.mat")
    evil = tmp_path / "evil.mat"
    meta = '{"format": "lstmkit-network", "version": 1, "dtype": "float32", "layers": ' \
           '[{"class": "os.system", "properties": {}}], "training_info": null}'
    scipy.io.savemat(evil, {"lstmkit_format": "lstmkit-network 1", "lstmkit_meta": meta})
    with pytest.raises(ValueError, match="unknown class 'os.system'"):
        loadNetwork(evil)


def test_failed_save_keeps_the_previous_file(tmp_path, monkeypatch):
    net, _ = trained()
    path = saveNetwork(net, tmp_path / "keep.mat")
    before = open(path, "rb").read()

    def broken(file, *args, **kwargs):
        file.write(b"partial")
        raise OSError("disk full")
    monkeypatch.setattr(scipy.io, "savemat", broken)
    with pytest.raises(OSError, match="disk full"):
        saveNetwork(net, path)
    assert open(path, "rb").read() == before
    assert os.listdir(tmp_path) == ["keep.mat"]


def test_save_errors():
    with pytest.raises(TypeError, match="saveNetwork: `net` must be a network"):
        saveNetwork("net", "x.mat")
