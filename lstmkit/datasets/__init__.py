"""MATLAB's example data sets, shipped with the package.

Japanese Vowels: UCI Machine Learning Repository, "Japanese Vowels"
(M. Kudo, J. Toyama, M. Shimbo, 1999, "Multidimensional Curve Classification
Using Passing-Through Regions", Pattern Recognition Letters 20(11-13):1103-1111),
licensed CC BY 4.0.  The copy in ``japanese_vowels.npz`` holds the same values
as the UCI/aeon ``.ts`` files (see :func:`read_ts`).
"""

from __future__ import annotations

import os

import numpy as np

from .._validation import checked_call

_HERE = os.path.dirname(__file__)


def _load(split):
    with np.load(os.path.join(_HERE, "japanese_vowels.npz")) as data:
        values = data[f"{split}_data"]
        lengths = data[f"{split}_lengths"].astype(np.int64)
        labels = data[f"{split}_labels"]
    ends = np.cumsum(lengths)
    X = [np.ascontiguousarray(values[:, e - n:e]) for e, n in zip(ends, lengths)]
    return X, labels.astype(str)


@checked_call
def japaneseVowelsTrainData() -> tuple[list[np.ndarray], np.ndarray]:
    """Japanese Vowels training data, as MATLAB's ``japaneseVowelsTrainData``.

    Returns
    -------
    XTrain : list of 270 ndarray
        Each a 12-by-T float64 sequence (T from 7 to 26) of LPC cepstrum
        coefficients.
    YTrain : ndarray of str, shape (270,)
        The speaker, "1" to "9" (MATLAB's categorical labels).

    Examples
    --------
    >>> from lstmkit import japaneseVowelsTrainData
    >>> XTrain, YTrain = japaneseVowelsTrainData()
    >>> len(XTrain), XTrain[0].shape, str(YTrain[0])
    (270, (12, 20), '1')
    """
    return _load("train")


@checked_call
def japaneseVowelsTestData() -> tuple[list[np.ndarray], np.ndarray]:
    """Japanese Vowels test data, as MATLAB's ``japaneseVowelsTestData``.

    Returns
    -------
    XTest : list of 370 ndarray
        Each a 12-by-T float64 sequence (T from 7 to 29).
    YTest : ndarray of str, shape (370,)
        The speaker, "1" to "9".

    Examples
    --------
    >>> from lstmkit import japaneseVowelsTestData
    >>> XTest, YTest = japaneseVowelsTestData()
    >>> len(XTest), sorted(set(YTest.tolist()))[:3]
    (370, ['1', '2', '3'])
    """
    return _load("test")


def read_ts(path):
    """Read a multivariate sktime/aeon ``.ts`` file with class labels.

    Returns
    -------
    X : list of ndarray
        One C-by-T array per line of data.
    Y : ndarray of str
        The label after the last ``:`` of each line.
    """
    X, Y = [], []
    in_data = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("@"):
                in_data = in_data or line.lower().startswith("@data")
                continue
            if not in_data:
                continue
            *channels, label = line.split(":")
            X.append(np.array([[float(v) for v in ch.split(",")] for ch in channels]))
            Y.append(label)
    return X, np.array(Y)
