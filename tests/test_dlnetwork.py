"""dlnetwork: construction, connections, initialization, and the Learnables/State tables."""

import numpy as np
import pytest

from lstmkit import (addLayers, bilstmLayer, classificationLayer, connectLayers,
                     disconnectLayers, dlnetwork, dropoutLayer, fullyConnectedLayer, gruLayer,
                     initialize, lstmLayer, removeLayers, rng, sequenceInputLayer, softmaxLayer)

from test_graph import Add


def classifier():
    return [sequenceInputLayer(12), lstmLayer(100, OutputMode="last"), fullyConnectedLayer(9),
            softmaxLayer()]


def test_from_a_layer_array():
    net = dlnetwork(classifier())
    assert net.Initialized
    assert [layer.Name for layer in net.Layers] == ["sequenceinput", "lstm", "fc", "softmax"]
    assert net.InputNames == ["sequenceinput"] and net.OutputNames == ["softmax"]
    L = net.Learnables
    assert L.VariableNames == ["Layer", "Parameter", "Value"] and L.height == 5
    assert list(zip(L.Layer, L.Parameter)) == [
        ("lstm", "InputWeights"), ("lstm", "RecurrentWeights"), ("lstm", "Bias"),
        ("fc", "Weights"), ("fc", "Bias")]
    assert [v.shape for v in L.Value] == [(400, 12), (400, 100), (400, 1), (9, 100), (9, 1)]
    S = net.State
    assert list(zip(S.Layer, S.Parameter)) == [("lstm", "HiddenState"), ("lstm", "CellState")]
    assert all(np.array_equal(v, np.zeros((100, 1))) for v in S.Value)
    assert list(zip(net.Connections.Source, net.Connections.Destination)) == [
        ("sequenceinput", "lstm"), ("lstm", "fc"), ("fc", "softmax")]
    text = repr(net)
    assert "dlnetwork with properties:" in text and "Learnables: [5×3 table]" in text
    assert "Initialized: 1" in text
    assert '"lstm"' in repr(L) and "{400×12 single}" in repr(L)


def test_initialization_is_seeded_and_keeps_given_weights():
    rng(3)
    a = dlnetwork(classifier())
    rng(3)
    b = dlnetwork(classifier())
    for x, y in zip(a.Learnables.Value, b.Learnables.Value):
        np.testing.assert_array_equal(x, y)
    W = np.ones((9, 100))
    net = dlnetwork([sequenceInputLayer(12), lstmLayer(100, OutputMode="last"),
                     fullyConnectedLayer(9, Weights=W)])
    np.testing.assert_array_equal(net.Learnables.Value[3], W)


def test_uninitialized_then_initialize():
    layers = [sequenceInputLayer(3), bilstmLayer(4), gruLayer(5)]
    net = dlnetwork(layers, Initialize=False)
    assert not net.Initialized and all(v is None for v in net.Learnables.Value)
    done = initialize(net)
    assert done.Initialized and not net.Initialized          # the network passed in is unchanged
    assert [v.shape for v in done.Learnables.Value] == [(32, 3), (32, 4), (32, 1), (15, 8),
                                                         (15, 5), (15, 1)]
    assert "Initialized: 0" in repr(net)


def test_empty_network_built_in_steps_with_a_branch():
    net = dlnetwork()
    assert len(net.Layers) == 0 and net.Learnables.height == 0
    net = addLayers(net, [sequenceInputLayer(3, Name="in"), fullyConnectedLayer(4, Name="fc1"),
                          Add(Name="add"), fullyConnectedLayer(2, Name="out")])
    net = addLayers(net, fullyConnectedLayer(4, Name="fc2"))
    net = connectLayers(net, "in", "fc2")
    net = connectLayers(net, "fc2", "add/in2")
    assert sorted(zip(net.Connections.Source, net.Connections.Destination)) == sorted([
        ("in", "fc1"), ("fc1", "add/in1"), ("in", "fc2"), ("fc2", "add/in2"), ("add", "out")])
    net = initialize(net)
    assert net.Initialized and net.OutputNames == ["out"]
    assert dict(zip(net.Learnables.Layer, (v.shape for v in net.Learnables.Value)))["out"] == \
        (2, 1)


def test_remove_and_disconnect():
    net = dlnetwork([sequenceInputLayer(3), lstmLayer(4), dropoutLayer(0.2),
                     fullyConnectedLayer(2)])
    smaller = removeLayers(net, "dropout")
    assert [layer.Name for layer in smaller.Layers] == ["sequenceinput", "lstm", "fc"]
    assert smaller.Connections.height == 1                    # lstm -> fc is gone with dropout
    assert len(net.Layers) == 4                               # the original is unchanged
    rewired = connectLayers(smaller, "lstm", "fc")
    assert rewired.Initialized and rewired.Connections.height == 2
    cut = disconnectLayers(rewired, "lstm", "fc")
    assert cut.Connections.height == 1
    with pytest.raises(ValueError, match=r"disconnectLayers: the network has no connection from "
                                         r"'lstm' to 'sequenceinput'"):
        disconnectLayers(cut, "lstm", "sequenceinput")
    with pytest.raises(ValueError, match=r"removeLayers: the network has no layer 'nope'"):
        removeLayers(net, ["nope"])


def test_editing_learnables_and_state_writes_through():
    net = dlnetwork(classifier())
    new = np.full((9, 100), 0.5)
    net.Learnables.Value[3] = new
    np.testing.assert_array_equal(net.Layers[2].Weights, new)
    with pytest.raises(ValueError, match=r"the new value of fc.Weights must be 9-by-100. "
                                         r"Received: 100-by-9"):
        net.Learnables.Value[3] = new.T
    with pytest.raises(ValueError, match=r"contains NaN or Inf"):
        net.Learnables.Value[0] = np.full((400, 12), np.nan)
    net.State.Value[0] = np.ones((100, 1))
    np.testing.assert_array_equal(net.Layers[1].HiddenState, np.ones((100, 1)))
    with pytest.raises(ValueError, match=r"must be 100-by-N"):
        net.State.Value[1] = np.ones((5, 1))
    with pytest.raises(AttributeError, match=r"T.Value\[i\] = new_value"):
        net.Learnables.Value = []


def test_errors():
    with pytest.raises(ValueError, match=r"dlnetwork: dlnetwork does not take output layers; "
                                         r"remove 'classoutput' \(Classification Output\)"):
        dlnetwork(classifier() + [classificationLayer()])
    with pytest.raises(ValueError, match=r"layer names must be unique; 'a' is used more than "
                                         r"once"):
        dlnetwork([sequenceInputLayer(2, Name="a"), lstmLayer(2, Name="a")])
    with pytest.raises(ValueError, match=r"addLayers: the network already has a layer named "
                                         r"'lstm'"):
        addLayers(dlnetwork(classifier()), lstmLayer(3, Name="lstm"))
    with pytest.raises(ValueError, match=r"connectLayers: the connection 'fc' -> 'nope' names no "
                                         r"layer 'nope'"):
        connectLayers(dlnetwork(classifier()), "fc", "nope")
    headless = removeLayers(dlnetwork(classifier(), Initialize=False), "sequenceinput")
    with pytest.raises(ValueError, match=r"connectLayers: the connections form a cycle"):
        connectLayers(headless, "softmax", "lstm")
    unconnected = dlnetwork([sequenceInputLayer(3, Name="in")], Initialize=False)
    unconnected = addLayers(unconnected, [Add(Name="add")])
    unconnected = connectLayers(unconnected, "in", "add/in1")
    with pytest.raises(ValueError, match=r"initialize: the network has an unconnected input "
                                         r"\(add, input 2\)"):
        initialize(unconnected)
    with pytest.raises(TypeError, match=r"initialize: `net` must be a dlnetwork"):
        initialize([lstmLayer(3)])
    with pytest.raises(TypeError, match=r"dlnetwork: `Initialize` must be true or false"):
        dlnetwork(classifier(), Initialize="yes")
