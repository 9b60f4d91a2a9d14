import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))

from helpers import classifier_layers  # noqa: E402
from lstmkit import (fullyConnectedLayer, japaneseVowelsTrainData, lstmLayer,  # noqa: E402
                     regressionLayer, sequenceInputLayer, softmaxLayer, trainingOptions,
                     trainNetwork, trainnet)


@pytest.fixture(scope="session")
def jv():
    """Thirty Japanese Vowels sequences (12-by-T) over the nine classes, and their labels."""
    X, Y = japaneseVowelsTrainData()
    return X[::9], Y[::9]


@pytest.fixture(scope="session")
def quick():
    return trainingOptions("adam", MaxEpochs=1, MiniBatchSize=10, Verbose=False)


@pytest.fixture(scope="session")
def series_net(jv, quick):
    X, Y = jv
    return trainNetwork(X, Y, classifier_layers(), quick, seed=0)


@pytest.fixture(scope="session")
def regression_net():
    r = np.random.default_rng(0)
    X = [r.standard_normal((3, int(T))) for T in r.integers(3, 9, 20)]
    Y = np.array([[x[0].mean()] for x in X])
    layers = [sequenceInputLayer(3), lstmLayer(5, OutputMode="last"), fullyConnectedLayer(1),
              regressionLayer()]
    return trainNetwork(X, Y, layers, trainingOptions("adam", MaxEpochs=1, MiniBatchSize=10,
                                                      Verbose=False), seed=0), X, Y


@pytest.fixture(scope="session")
def dl_net(jv, quick):
    X, Y = jv
    layers = [sequenceInputLayer(12), lstmLayer(6, OutputMode="last"), fullyConnectedLayer(9),
              softmaxLayer()]
    return trainnet([x.T for x in X], Y, layers, "crossentropy", quick, seed=0)
