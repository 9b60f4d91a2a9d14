"""A network that branches, built as MATLAB builds one: layer arrays, addLayers and
connectLayers, then trainnet.

On the generated WaveformData-like set (examples/waveform_classification.py), the input feeds
two branches: a bilstmLayer that reads the whole sequence, and a causal 1-D convolution block
that looks at short patterns; their outputs are concatenated (concatenationLayer) and
classified.  The script prints the network's connections, trains it, and checks each sequence's
scores do not depend on the mini-batch it is predicted in.

    python examples/branching_network.py [--quick] [--plot FILE.png]
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from waveform_classification import training_partitions, waveform_data  # noqa: E402

from lstmkit import *  # noqa: E402


def main(quick=False, plot_file=None):
    rng(0)
    data, labels = waveform_data(300 if quick else 1000)
    classNames = np.unique(labels)
    idxTrain, idxTest = training_partitions(len(data), [0.9, 0.1])
    XTrain, TTrain = [data[i] for i in idxTrain], labels[idxTrain]
    XTest, TTest = [data[i] for i in idxTest], labels[idxTest]

    layers = [sequenceInputLayer(3, Name="input"),
              bilstmLayer(32 if quick else 64, OutputMode="last", Name="bilstm"),
              concatenationLayer(1, 2, Name="cat"),
              fullyConnectedLayer(len(classNames), Name="fc"),
              softmaxLayer(Name="softmax")]
    net = dlnetwork(layers, Initialize=False)
    conv = [convolution1dLayer(5, 32, Padding="causal", Name="conv"),
            reluLayer(Name="relu"),
            layerNormalizationLayer(Name="norm"),
            globalMaxPooling1dLayer(Name="gmp")]
    net = addLayers(net, conv)
    net = connectLayers(net, "input", "conv")
    net = connectLayers(net, "gmp", "cat/in2")
    net = initialize(net)
    print(net.Connections)
    if plot_file:
        plot(net).savefig(plot_file)
        print(f"Plot written to {plot_file}")

    options = trainingOptions("adam", MaxEpochs=10 if quick else 40, InitialLearnRate=0.005,
                              GradientThreshold=1, Metrics="accuracy", Verbose=False)
    start = time.perf_counter()
    net = trainnet(XTrain, TTrain, net, "crossentropy", options)
    elapsed = time.perf_counter() - start
    acc = testnet(net, XTest, TTest, "accuracy")
    together = minibatchpredict(net, XTest)
    alone = np.stack([minibatchpredict(net, [x])[0] for x in XTest[:10]])
    print(f"Training time: {elapsed:.1f} s; test accuracy: {acc:.2f} %")
    print(f"Largest change of a score between batched and alone: "
          f"{np.abs(together[:10] - alone).max():.1e}")
    return acc


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--plot", default=None, help="write the network's drawing here")
    args = parser.parse_args()
    main(args.quick, args.plot)
