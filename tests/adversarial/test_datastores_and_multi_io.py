"""Hostile input to the datastores and to networks with several inputs and outputs."""

import numpy as np
import pytest

from helpers import clear_error
from lstmkit import (accuracyMetric, addLayers, arrayDatastore, combine, concatenationLayer,
                     connectLayers, crossentropy, dlnetwork, featureInputLayer,
                     fullyConnectedLayer, initialize, lstmLayer, minibatchpredict, mse, preview,
                     read, readall, rmseMetric, sequenceInputLayer, softmaxLayer, testnet,
                     trainingOptions, trainnet, transform)


@pytest.mark.parametrize("call, fragment", [
    (lambda: arrayDatastore(None), "numbers, strings|must be"),
    (lambda: arrayDatastore(object()), "numbers, strings|must be"),
    (lambda: arrayDatastore(np.ones((3, 2)), IterationDimension=0), "IterationDimension"),
    (lambda: arrayDatastore(np.ones((3, 2)), IterationDimension=-1), "IterationDimension"),
    (lambda: arrayDatastore(np.ones((3, 2)), IterationDimension=1.5), "IterationDimension"),
    (lambda: arrayDatastore(np.ones((3, 2)), IterationDimension="1"), "IterationDimension"),
    (lambda: arrayDatastore(np.ones((3, 2)), IterationDimension=5), "IterationDimension"),
    (lambda: arrayDatastore(np.ones(3), ReadSize=0), "ReadSize"),
    (lambda: arrayDatastore(np.ones(3), OutputType="list"), "OutputType"),
    (lambda: arrayDatastore([1, 2], IterationDimension=2), "IterationDimension must be 1"),
    (lambda: arrayDatastore(np.ones(3), ReadSiz=2), "ReadSize"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_array_datastore_arguments(call, fragment):
    clear_error(call, "arrayDatastore", fragment)


def test_combine_and_transform_arguments():
    ds = arrayDatastore(np.ones((3, 2)))
    clear_error(lambda: combine(), "combine", "at least one")
    clear_error(lambda: combine(5), "combine", "must be a datastore")
    clear_error(lambda: combine(ds, np.ones(3)), "combine", "must be a datastore")
    clear_error(lambda: transform(ds, 5), "transform", "must be a function")
    clear_error(lambda: transform(np.ones(3), len), "transform", "must be a datastore")
    for f in (read, readall, preview):
        clear_error(lambda f=f: f([1, 2]), f.__name__, "must be a datastore")


def test_a_failing_transform_names_the_observations():
    ds = transform(arrayDatastore(np.array([1.0, 2.0, 0.0])), lambda d: [1.0 / d[0]
                                                                         if d[0] else {}[0]])
    with pytest.raises(KeyError, match="transform: the transform function failed on the "
                                       "observations from 3"):
        readall(ds)


def net_two_in_two_out():
    net = dlnetwork([sequenceInputLayer(3, Name="seq"), lstmLayer(4, OutputMode="last"),
                     concatenationLayer(1, 2, Name="cat"), fullyConnectedLayer(3),
                     softmaxLayer(Name="sm")], Initialize=False)
    net = addLayers(net, featureInputLayer(2, Name="feat"))
    net = addLayers(net, fullyConnectedLayer(1, Name="reg"))
    net = connectLayers(connectLayers(net, "feat", "cat/in2"), "cat", "reg")
    return initialize(net)


@pytest.fixture(scope="module")
def two():
    r = np.random.default_rng(3)
    X = [r.standard_normal((int(T), 3)) for T in r.integers(2, 7, 12)]
    F = r.standard_normal((12, 2))
    labels = np.array(list("abc") * 4)
    resp = r.standard_normal((12, 1))
    return net_two_in_two_out(), X, F, labels, resp


def store(X, F, labels=None, resp=None):
    parts = [arrayDatastore(X, OutputType="same"), arrayDatastore(F)]
    parts += [arrayDatastore(v) for v in (labels, resp) if v is not None]
    return combine(*parts)


OPTS = dict(MaxEpochs=1, MiniBatchSize=6, Verbose=False)
LOSS = staticmethod(lambda Y1, Y2, T1, T2: crossentropy(Y1, T1) + mse(Y2, T2))


@pytest.mark.parametrize("case, make, func, fragment", [
    ("loss of two arguments", lambda net, ds: trainnet(ds, net, lambda Y, T: mse(Y, T),
                                                       trainingOptions("adam", **OPTS)),
     "trainnet", r"f\(Y1, \.\.\., Y2, T1, \.\.\., T2\)"),
    ("a loss name", lambda net, ds: trainnet(ds, net, "mse", trainingOptions("adam", **OPTS)),
     "trainnet", "function of the outputs"),
    ("targets swapped", lambda net, ds: trainnet(
        ds, net, lambda Y1, Y2, T1, T2: crossentropy(Y1, T2), trainingOptions("adam", **OPTS)),
     "crossentropy", "Y1 with T1"),
    ("metric without output", lambda net, ds: trainnet(ds, net, LOSS.__func__, trainingOptions(
        "adam", Metrics="rmse", **OPTS)), "trainnet", "NetworkOutput must be one of"),
    ("metric naming a hidden layer", lambda net, ds: trainnet(ds, net, LOSS.__func__,
                                                               trainingOptions(
        "adam", Metrics=rmseMetric(NetworkOutput="cat"), **OPTS)), "trainnet",
     "NetworkOutput must be one of"),
    ("classification metric on the response", lambda net, ds: trainnet(
        ds, net, LOSS.__func__, trainingOptions("adam", Metrics=accuracyMetric(
            NetworkOutput="reg"), **OPTS)), "trainnet", "classification metric"),
    ("an extra argument", lambda net, ds: trainnet(ds, net, LOSS.__func__,
                                                   trainingOptions("adam", **OPTS), 5),
     "trainnet", "one argument more"),
    ("validation of the wrong width", lambda net, ds: trainnet(ds, net, LOSS.__func__,
                                                               trainingOptions(
        "adam", ValidationData=(1, 2, 3), **OPTS)), "trainnet", "4 items"),
])
def test_training_a_two_output_network(two, case, make, func, fragment):
    net, X, F, labels, resp = two
    ds = store(X, F, labels, resp)
    clear_error(lambda: make(net, ds), func, fragment)


@pytest.mark.parametrize("case, call, func, fragment", [
    ("one input missing", lambda net, X, F: minibatchpredict(net, X), "minibatchpredict",
     "2 inputs"),
    ("inputs swapped", lambda net, X, F: minibatchpredict(net, F, X), "minibatchpredict",
     "channels|feature|expects"),
    ("counts differ", lambda net, X, F: minibatchpredict(net, X, F[:3]), "minibatchpredict",
     "different numbers of observations"),
    ("a datastore and an array", lambda net, X, F: minibatchpredict(
        net, store(X, F), F), "minibatchpredict", "one datastore"),
    ("too many outputs asked", lambda net, X, F: minibatchpredict(net, X, F, nargout=3),
     "minibatchpredict", "nargout"),
    ("arrays to testnet", lambda net, X, F: testnet(net, X, F, "accuracy"), "testnet",
     "datastore"),
    ("a loss name to testnet", lambda net, X, F: testnet(
        net, store(X, F, np.array(list("abc") * 4), np.ones((12, 1))), "crossentropy"),
     "testnet", "ambiguous"),
    ("features with NaN", lambda net, X, F: minibatchpredict(net, X, np.where(F > 1, np.nan, F)),
     "minibatchpredict", "NaN"),
    ("a datastore without the second input", lambda net, X, F: minibatchpredict(
        net, combine(arrayDatastore(X, OutputType="same"))), "minibatchpredict", "2 input"),
])
def test_running_a_two_input_network(two, case, call, func, fragment):
    net, X, F, _, _ = two
    clear_error(lambda: call(net, X, F), func, fragment)
