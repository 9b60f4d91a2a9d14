"""Sequence classification with 1-D convolutions: MATLAB's "Sequence Classification Using 1-D
Convolutions", ported with syntax changes only, and a CNN-LSTM beside it.

The data is the generated WaveformData-like set of examples/waveform_classification.py (T-by-3
sequences, 4 waveform classes).  The network is the example's: two blocks of a causal
convolution1dLayer, a reluLayer and a layerNormalizationLayer, then globalAveragePooling1dLayer,
fullyConnectedLayer and softmaxLayer, trained by trainnet with "crossentropy".  The CNN-LSTM
(a strided convolution and max pooling before a bilstmLayer) shows the layers that shorten
sequences; each sequence is convolved over its own time steps, so padding changes nothing.

    python examples/sequence_classification_1d_convolutions.py [--quick]
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from waveform_classification import training_partitions, waveform_data  # noqa: E402

from lstmkit import *  # noqa: E402


def main(quick=False):
    rng(0)
    data, labels = waveform_data(300 if quick else 1000)
    numChannels = data[0].shape[1]
    classNames = np.unique(labels)
    idxTrain, idxTest = training_partitions(len(data), [0.9, 0.1])
    XTrain, TTrain = [data[i] for i in idxTrain], labels[idxTrain]
    XTest, TTest = [data[i] for i in idxTest], labels[idxTest]

    filterSize, numFilters = 5, 32
    layers = [sequenceInputLayer(numChannels),
              convolution1dLayer(filterSize, numFilters, Padding="causal"),
              reluLayer(),
              layerNormalizationLayer(),
              convolution1dLayer(filterSize, 2 * numFilters, Padding="causal"),
              reluLayer(),
              layerNormalizationLayer(),
              globalAveragePooling1dLayer(),
              fullyConnectedLayer(len(classNames)),
              softmaxLayer()]
    options = trainingOptions("adam", MaxEpochs=10 if quick else 60, InitialLearnRate=0.01,
                              SequencePaddingDirection="left", Metrics="accuracy",
                              Verbose=False)
    start = time.perf_counter()
    net = trainnet(XTrain, TTrain, layers, "crossentropy", options)
    elapsed = time.perf_counter() - start
    acc = testnet(net, XTest, TTest, "accuracy")
    print(f"1-D CNN: training time {elapsed:.1f} s, test accuracy {acc:.2f} %")

    cnn_lstm = [sequenceInputLayer(numChannels),
                convolution1dLayer(3, 16, Stride=2, Padding="same"),
                reluLayer(),
                maxPooling1dLayer(2, Stride=2),
                bilstmLayer(32 if quick else 64, OutputMode="last"),
                fullyConnectedLayer(len(classNames)),
                softmaxLayer()]
    options = trainingOptions("adam", MaxEpochs=10 if quick else 40, InitialLearnRate=0.005,
                              GradientThreshold=1, Metrics="accuracy", Verbose=False)
    start = time.perf_counter()
    net2 = trainnet(XTrain, TTrain, cnn_lstm, "crossentropy", options)
    elapsed2 = time.perf_counter() - start
    acc2 = testnet(net2, XTest, TTest, "accuracy")
    print(f"CNN-LSTM: training time {elapsed2:.1f} s, test accuracy {acc2:.2f} %")
    return acc, acc2


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller, shorter run")
    main(parser.parse_args().quick)
