"""scores2label: MATLAB's conversion of scores to labels."""

import numpy as np
import pytest

from lstmkit import scores2label


def test_labels_and_top_scores_along_the_class_dimension(rng):
    scores = rng.random((7, 4))
    names = np.array(["w", "x", "y", "z"])
    labels, top = scores2label(scores, names, nargout=2)
    np.testing.assert_array_equal(labels, names[scores.argmax(axis=1)])
    np.testing.assert_array_equal(top, scores.max(axis=1))
    # K-by-T (the trainNetwork era's sequence output) is found by size too
    np.testing.assert_array_equal(scores2label(scores.T, names), labels)
    # int class names keep their type
    assert scores2label(scores, [10, 20, 30, 40]).dtype.kind == "i"
    # one observation's K scores
    assert scores2label(np.array([0.2, 0.5, 0.3]), ["a", "b", "c"]) == "b"


def test_explicit_dimension_is_matlabs_one_based(rng):
    scores = rng.random((3, 3))
    np.testing.assert_array_equal(scores2label(scores, ["a", "b", "c"], 2),
                                  np.array(["a", "b", "c"])[scores.argmax(axis=1)])
    np.testing.assert_array_equal(scores2label(scores, ["a", "b", "c"], 1),
                                  np.array(["a", "b", "c"])[scores.argmax(axis=0)])


def test_cell_of_sequences_and_ties():
    cell = [np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]]), np.array([[0.3, 0.7]])]
    labels = scores2label(cell, ["a", "b"], 2)
    assert [x.tolist() for x in labels] == [["a", "b", "a"], ["b"]]   # a tie goes to the first


def test_errors():
    with pytest.raises(ValueError, match=r"scores2label: the scores \(size 3-by-3\) have 3 entries "
                                         r"along dimensions 1 and 2, so the class dimension is "
                                         r"ambiguous; give it"):
        scores2label(np.eye(3), ["a", "b", "c"])
    with pytest.raises(ValueError, match=r"no dimension of the scores \(size 2-by-4\) has one "
                                         r"entry per class \(3 classNames\)"):
        scores2label(np.zeros((2, 4)), ["a", "b", "c"])
    with pytest.raises(ValueError, match=r"dimension 1 of the scores has size 2, but there are 4"):
        scores2label(np.zeros((2, 4)), list("abcd"), 1)
    with pytest.raises(ValueError, match=r"`dim` must be a dimension of the scores, from 1 to 2 "
                                         r"\(MATLAB counts from 1\)\. Received: dim=0"):
        scores2label(np.zeros((2, 4)), list("abcd"), 0)
    with pytest.raises(TypeError, match=r"`classNames` must be a non-empty vector"):
        scores2label(np.zeros((2, 4)), [])
    with pytest.raises(ValueError, match=r"`scores` contains NaN"):
        scores2label(np.array([[np.nan, 1.0]]), ["a", "b"])
    with pytest.raises(ValueError, match=r"`nargout` must be 1 or 2"):
        scores2label(np.zeros((2, 4)), list("abcd"), nargout=3)
