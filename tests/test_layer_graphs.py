"""layerGraph, replaceLayer, trainNetwork with a layer graph (DAGNetwork), plot."""

import numpy as np
import pytest

from lstmkit import (DAGNetwork, additionLayer, addLayers, analyzeNetwork, assembleNetwork,
                     classificationLayer, classify, concatenationLayer, connectLayers,
                     dlnetwork, fullyConnectedLayer, geluLayer, layerGraph, loadNetwork,
                     lstmLayer, plot, predict, regressionLayer, reluLayer, removeLayers,
                     replaceLayer, saveNetwork, sequenceInputLayer, softmaxLayer,
                     trainingOptions, trainNetwork)


def residual_graph(head=None):
    lgraph = layerGraph([sequenceInputLayer(3, Name="in"), lstmLayer(6, Name="lstm"),
                         additionLayer(2, Name="add"), fullyConnectedLayer(2, Name="fc")]
                        + (head or [regressionLayer()]))
    lgraph = connectLayers(addLayers(lgraph, fullyConnectedLayer(6, Name="skip")), "in", "skip")
    return connectLayers(lgraph, "skip", "add/in2")


def data(rng, n=12):
    X = [rng.standard_normal((3, T)) for T in rng.integers(3, 8, n)]
    Y = [np.cumsum(x[:2], axis=1) * 0.2 for x in X]
    return X, Y


def test_trainnetwork_with_a_layer_graph_gives_a_dag_network(rng, tmp_path):
    X, Y = data(rng)
    net = trainNetwork(X, Y, residual_graph(), trainingOptions("adam", MaxEpochs=5,
                                                                Verbose=False), seed=0)
    assert isinstance(net, DAGNetwork) and net.OutputNames == ["regressionoutput"]
    assert net.TrainingInfo.TrainingLoss[-1] < net.TrainingInfo.TrainingLoss[0]
    L = {layer.Name: layer for layer in net.Layers}
    # the output equals the branches computed apart with the same weights
    h_net = dlnetwork([sequenceInputLayer(3), lstmLayer(6, InputWeights=L["lstm"].InputWeights,
                                                        RecurrentWeights=L["lstm"].RecurrentWeights,
                                                        Bias=L["lstm"].Bias)])
    for x in X[:4]:
        h = predict(h_net, x.T)
        skip = x.T @ L["skip"].Weights.T + L["skip"].Bias.T
        ref = (h + skip) @ L["fc"].Weights.T + L["fc"].Bias.T
        np.testing.assert_allclose(predict(net, x), ref.T, rtol=1e-5, atol=1e-6)
    back = loadNetwork(saveNetwork(net, tmp_path / "dag.mat"))
    assert isinstance(back, DAGNetwork) and back.Connections.height == 6
    np.testing.assert_array_equal(predict(back, X[0]), predict(net, X[0]))
    again = trainNetwork(X, Y, back, trainingOptions("adam", MaxEpochs=1, Verbose=False))
    assert isinstance(again, DAGNetwork)


def test_classification_graph_and_assemble(rng):
    X, _ = data(rng)
    Y = [np.where(x[0] > 0, "a", "b") for x in X]           # a label per time step
    lgraph = residual_graph([softmaxLayer(), classificationLayer()])
    net = trainNetwork(X, Y, lgraph, trainingOptions("adam", MaxEpochs=2, Verbose=False), seed=0)
    assert set(np.concatenate(classify(net, X))) <= {"a", "b"}
    assert net.Classes.tolist() == ["a", "b"]
    assembled = assembleNetwork(net)
    np.testing.assert_array_equal(predict(assembled, X[0]), predict(net, X[0]))


def test_replace_layer_by_name_and_by_order():
    net = dlnetwork([sequenceInputLayer(3), lstmLayer(8), reluLayer(), fullyConnectedLayer(2)])
    swapped = replaceLayer(net, "relu", [geluLayer(), fullyConnectedLayer(8, Name="mid")])
    assert [layer.Name for layer in swapped.Layers] == ["sequenceinput", "lstm", "gelu", "mid",
                                                        "fc"]
    assert list(swapped.Connections.Destination) == ["lstm", "gelu", "mid", "fc"]
    lgraph = residual_graph()
    cat = replaceLayer(lgraph, "add", concatenationLayer(1, 2, Name="cat"))
    assert sorted(cat.Connections.Destination) == sorted(["lstm", "cat/in1", "fc",
                                                          "regressionoutput", "skip", "cat/in2"])
    order = replaceLayer(lgraph, "add", additionLayer(2, Name="sum"), ReconnectBy="order")
    assert "sum/in2" in list(order.Connections.Destination)
    with pytest.raises(ValueError, match="no layer 'nope'"):
        replaceLayer(net, "nope", reluLayer())
    with pytest.raises(ValueError, match="ReconnectBy"):
        replaceLayer(net, "relu", reluLayer(), ReconnectBy="position")


def test_graph_errors_before_training(rng):
    X, Y = data(rng, 4)
    opts = trainingOptions("adam", MaxEpochs=1, Verbose=False)
    dangling = addLayers(residual_graph(), fullyConnectedLayer(2, Name="extra"))
    dangling = connectLayers(dangling, "lstm", "extra")
    with pytest.raises(ValueError, match="the output of layer 'extra' goes nowhere"):
        trainNetwork(X, Y, dangling, opts)
    unconnected = removeLayers(residual_graph(), "skip")
    with pytest.raises(ValueError, match="input 2 of layer 'add' is not connected"):
        trainNetwork(X, Y, unconnected, opts)
    with pytest.raises(ValueError, match="must follow a softmaxLayer"):
        trainNetwork(X, [np.where(x[0] > 0, "a", "b") for x in X],
                     residual_graph([classificationLayer()]), opts)
    report = analyzeNetwork(dangling, Print=False)
    assert any("goes nowhere" in issue for issue in report.Issues)


def test_plot_draws_every_layer_and_connection():
    pytest.importorskip("matplotlib")
    fig = plot(residual_graph())
    ax = fig.axes[0]
    assert len(ax.texts) == 6 and len(ax.patches) == 6
    with pytest.raises(TypeError, match="plot: `net`"):
        plot(42)
