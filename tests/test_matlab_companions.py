"""confusionmat, confusionchart and load: the companions of MATLAB's classification scripts."""

import numpy as np
import pytest
import scipy.io

from lstmkit import confusionchart, confusionmat, load
from lstmkit.matfile import MatStruct

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")


# -- confusionmat -------------------------------------------------------------------------

def reference_counts(true, pred, classes):
    """Plain double loop, the definition."""
    C = np.zeros((len(classes), len(classes)), dtype=np.int64)
    for t, p in zip(true, pred):
        C[list(classes).index(t), list(classes).index(p)] += 1
    return C


@pytest.mark.parametrize("kind", ["str", "int", "float"])
def test_confusionmat_counts_and_order(kind, rng):
    true = rng.integers(0, 5, 300)
    pred = np.where(rng.random(300) < 0.7, true, rng.integers(0, 6, 300))  # class 5 only predicted
    if kind == "str":
        true, pred = true.astype(str), pred.astype(str)
    elif kind == "float":
        true, pred = true.astype(float), pred.astype(float)
    C, order = confusionmat(list(true), pred, nargout=2)
    classes = np.unique(np.concatenate([true, pred]))
    np.testing.assert_array_equal(order, classes)
    np.testing.assert_array_equal(C, reference_counts(true, pred, classes))
    assert C.sum() == 300 and C.dtype == np.int64
    np.testing.assert_array_equal(confusionmat(true, pred), C)


def test_confusionmat_order_option_and_missing_labels():
    true = np.array(["b", "a", "", "c", "a"], dtype=object)
    pred = np.array(["b", "b", "a", None, "a"], dtype=object)
    C, order = confusionmat(true, pred, Order=["c", "b", "a"], nargout=2)
    # '' and None are missing, as MATLAB's empty char and <undefined>: two rows dropped
    np.testing.assert_array_equal(order, ["c", "b", "a"])
    np.testing.assert_array_equal(C, [[0, 0, 0], [0, 1, 0], [0, 1, 1]])
    C = confusionmat([1.0, np.nan, 2.0], [1.0, 1.0, np.nan])
    np.testing.assert_array_equal(C, [[1]])
    # MATLAB's positional pair
    np.testing.assert_array_equal(confusionmat([1, 2], [2, 2], "Order", [2, 1]), [[1, 0], [1, 0]])


def test_confusionmat_errors():
    with pytest.raises(ValueError, match=r"confusionmat: `group` and `grouphat` must have the "
                                         r"same number of labels\. Received: 3 and 2\."):
        confusionmat([1, 2, 3], [1, 2])
    with pytest.raises(TypeError, match=r"both hold str labels or both numbers"):
        confusionmat(["a"], [1])
    with pytest.raises(ValueError, match=r"`Order` must contain every label .* lacks 'c'"):
        confusionmat(["a", "c"], ["a", "a"], Order=["a"])
    with pytest.raises(TypeError, match=r"label sequences.*np\.concatenate"):
        confusionmat([np.array(["a", "b"])], [np.array(["a", "a"])])
    with pytest.raises(ValueError, match=r"`nargout` must be 1 or 2"):
        confusionmat([1], [1], nargout=3)
    with pytest.raises(ValueError, match=r"`group` must be a vector of labels"):
        confusionmat(np.zeros((2, 2)), np.zeros((2, 2)))


# -- confusionchart -----------------------------------------------------------------------

def test_confusionchart_from_labels_and_from_a_matrix():
    true = ["cat", "dog", "dog", "bird", "cat", "cat"]
    pred = ["cat", "dog", "cat", "bird", "cat", "dog"]
    cm = confusionchart(true, pred, Title="Pets", RowSummary="row-normalized",
                        ColumnSummary="column-normalized")
    np.testing.assert_array_equal(cm.ClassLabels, ["bird", "cat", "dog"])
    np.testing.assert_array_equal(cm.NormalizedValues, confusionmat(true, pred))
    texts = [t.get_text() for t in cm.Parent.texts]
    assert "66.7%" in texts and "33.3%" in texts    # cat: 2 of 3 right (recall), dog row 50%
    assert cm.Parent.get_title() == "Pets"
    assert cm.Parent.get_xlabel() == "Predicted Class" and cm.Parent.get_ylabel() == "True Class"
    m = np.array([[5, 1], [2, 7]])
    cm2 = confusionchart(m, ["neg", "pos"])
    np.testing.assert_array_equal(cm2.ClassLabels, ["neg", "pos"])
    np.testing.assert_array_equal(cm2.NormalizedValues, m)
    assert sorted(t.get_text() for t in cm2.Parent.texts) == ["1", "2", "5", "7"]
    np.testing.assert_array_equal(confusionchart(m).ClassLabels, ["1", "2"])


def test_confusionchart_properties_redraw_and_sort(tmp_path):
    cm = confusionchart(np.array([[8, 2], [1, 9]]), ["a", "b"])
    cm.Normalization = "row-normalized"
    assert "80.0%" in [t.get_text() for t in cm.Parent.texts]
    cm.sortClasses("descending-diagonal")
    np.testing.assert_array_equal(cm.ClassLabels, ["b", "a"])
    np.testing.assert_array_equal(cm.NormalizedValues, [[9, 1], [2, 8]])
    cm.sortClasses(["a", "b"])
    np.testing.assert_array_equal(cm.NormalizedValues, [[8, 2], [1, 9]])
    with pytest.raises(ValueError, match=r"`Normalization` must be one of"):
        cm.Normalization = "rows"
    with pytest.raises(AttributeError, match="no settable property 'ClassLabels'"):
        cm.ClassLabels = ["x", "y"]
    with pytest.raises(ValueError, match="list every class exactly once"):
        cm.sortClasses(["a"])
    path = tmp_path / "chart.png"
    cm.Figure.savefig(path)
    assert path.stat().st_size > 5000


def test_confusionchart_parent_and_errors():
    from matplotlib.figure import Figure
    fig = Figure()
    ax = fig.add_subplot()
    cm = confusionchart([1, 2], [1, 1], Parent=ax)
    assert cm.Parent is ax
    assert confusionchart(ax, [1, 2], [1, 1], Title="t").Parent is ax   # MATLAB's parent first
    other = Figure()
    assert confusionchart(other, [1, 2], [1, 1]).Figure is other
    with pytest.raises(TypeError, match=r"`Parent` is given more than once"):
        confusionchart(ax, [1, 2], [1, 1], Parent=ax)
    with pytest.raises(TypeError, match="give the predicted labels as well"):
        confusionchart([1, 2, 3])
    with pytest.raises(ValueError, match="finite, non-negative counts"):
        confusionchart(np.array([[1, -1], [0, 2]]))
    with pytest.raises(ValueError, match="must have 2 labels"):
        confusionchart(np.array([[1, 0], [0, 2]]), ["a", "b", "c"])
    with pytest.raises(ValueError, match="`DiagonalColor` must be a color"):
        confusionchart([1], [1], DiagonalColor="not-a-color")


# -- load ---------------------------------------------------------------------------------

def cell(*items):
    out = np.empty((len(items), 1), dtype=object)
    for i, item in enumerate(items):
        out[i, 0] = item
    return out


def test_load_v5_file_written_by_scipy(tmp_path):
    path = tmp_path / "data.mat"
    X = cell(np.arange(12.0).reshape(3, 4), np.ones((3, 6)))
    scipy.io.savemat(path, {"XTrain": X, "YTrain": cell("a", "b"), "numHidden": 100.0,
                            "name": "run 1", "S": {"lr": 0.01, "w": np.arange(3.0)}})
    S = load(str(path))
    assert isinstance(S, MatStruct)
    assert [x.shape for x in S.XTrain] == [(3, 4), (3, 6)]
    np.testing.assert_array_equal(S.XTrain[0], np.arange(12.0).reshape(3, 4))
    np.testing.assert_array_equal(S["YTrain"], ["a", "b"])
    assert S.numHidden == 100.0 and S.name == "run 1"
    assert S.S.lr == 0.01 and S.S.w.shape == (1, 3)
    # one variable by name, and the .mat extension added as MATLAB does
    only = load(str(path)[:-4], "YTrain")
    assert list(only) == ["YTrain"]
    assert "XTrain" in repr(S) and "struct with fields" in repr(S)


@pytest.mark.parametrize("version", ["v7", "v7.3"])
def test_load_matlab_classes_in_every_version(tmp_path, version):
    matio = pytest.importorskip("matio")
    pd = pytest.importorskip("pandas")
    path = tmp_path / f"{version}.mat"
    labels = pd.Categorical(["1", "2", None, "1"], categories=["1", "2"])
    matio.save_to_mat(str(path), {
        "XTrain": cell(np.ones((12, 7)), np.zeros((12, 9))),
        "YTrain": labels,                                  # categorical
        "names": np.array(["alpha", "beta"]),              # string array
        "cs": cell("p", "q", "r"),                         # cellstr
        "mixed": np.array([[1.0, "x"], [np.zeros(2), "y"]], dtype=object),   # 2-by-2 cell
        "flags": np.array([[True, False]]),
    }, version=version)
    S = load(path)
    assert [x.shape for x in S.XTrain] == [(12, 7), (12, 9)]
    np.testing.assert_array_equal(S.YTrain, ["1", "2", "", "1"])   # <undefined> is ''
    np.testing.assert_array_equal(S.names, ["alpha", "beta"])
    np.testing.assert_array_equal(S.cs, ["p", "q", "r"])
    assert S.mixed[0][1] == "x" and S.mixed[1][0].shape == (1, 2)
    assert S.flags.dtype == bool


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"load: file '.*nothere.mat' does not exist"):
        load(tmp_path / "nothere")
    bad = tmp_path / "bad.mat"
    bad.write_bytes(b"this is not a MAT-file at all" * 10)
    with pytest.raises(ValueError, match=r"load: '.*bad.mat' is not a readable MAT-file"):
        load(bad)
    good = tmp_path / "good.mat"
    scipy.io.savemat(good, {"a": 1.0})
    with pytest.raises(ValueError, match=r"has no variable 'b'"):
        load(good, "b")
    with pytest.raises(TypeError, match=r"`filename` must be a str or path"):
        load(3)
    with pytest.raises(AttributeError, match=r"struct has no field 'b'; fields: a"):
        _ = load(good).b


def test_load_names_a_type_it_cannot_decode(tmp_path):
    from lstmkit.matfile import convert
    fake = type("MatlabFunction", (), {"classname": "function_handle"})()
    with pytest.raises(ValueError, match=r"variable 'f' of 'x.mat' holds a MATLAB "
                                         r"function_handle, which lstmkit cannot decode; load "
                                         r"the other variables by name"):
        convert(fake, "f", "x.mat")
