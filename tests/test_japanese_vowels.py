"""MATLAB's Japanese Vowels example end to end, and the shipped copy of the data."""

import os
import subprocess
import sys

import numpy as np
import pytest

from lstmkit import japaneseVowelsTestData, japaneseVowelsTrainData
from lstmkit.datasets import read_ts

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "..", "shared", "data", "japanese_vowels")


def test_data_shapes_and_labels():
    X, Y = japaneseVowelsTrainData()
    assert len(X) == 270 and Y.shape == (270,)
    assert all(x.shape[0] == 12 and 7 <= x.shape[1] <= 26 for x in X)
    assert sorted(set(Y)) == [str(k) for k in range(1, 10)]
    assert np.all(np.unique(Y, return_counts=True)[1] == 30)
    XT, YT = japaneseVowelsTestData()
    assert len(XT) == 370 and max(x.shape[1] for x in XT) == 29
    assert list(np.unique(YT, return_counts=True)[1]) == [31, 35, 88, 44, 29, 24, 40, 50, 29]


@pytest.mark.skipif(not os.path.isdir(SHARED), reason="../shared data not present")
def test_shipped_copy_equals_uci_files():
    for split, loader in (("TRAIN", japaneseVowelsTrainData), ("TEST", japaneseVowelsTestData)):
        X0, Y0 = read_ts(os.path.join(SHARED, f"JapaneseVowels_{split}.ts"))
        X, Y = loader()
        np.testing.assert_array_equal(Y, Y0)
        for a, b in zip(X, X0):
            np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_example_reaches_matlab_accuracy():
    """The README's first command runs this script; MATLAB reports about 0.95."""
    out = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "japanese_vowels.py")],
                         capture_output=True, text=True, check=True, timeout=600)
    accuracy = float(out.stdout.split("Test accuracy:")[1].split()[0])
    assert accuracy >= 0.94, out.stdout
