"""Sequence classification the trainnet way: MATLAB's current "Sequence Classification Using
Deep Learning", ported with syntax changes only.

The data is generated here, shaped like MATLAB's WaveformData: 1000 observations of 3
channels, each a T-by-C (time steps by channels) sequence, labelled with one of 4 waveform
classes (Sawtooth, Sine, Square, Triangle) of random frequency, amplitude and phase, with
noise.  The network is MATLAB's: bilstmLayer(120, OutputMode="last"), fullyConnectedLayer,
softmaxLayer, trained by trainnet with "crossentropy" and Metrics="accuracy", then tested with
testnet and minibatchpredict + scores2label.  MATLAB's example trains 200 epochs on sequences of
hundreds of time steps; this one trains 60 epochs on sequences of 50 to 150 steps, so that it
runs in a few minutes on a laptop CPU (--epochs 200 for MATLAB's count).

    python examples/waveform_classification.py [--quick] [--epochs N]
"""

import argparse
import time

import numpy as np

from lstmkit import *

CLASSES = np.array(["Sawtooth", "Sine", "Square", "Triangle"])


def waveform_data(num_observations=1000, seed=0):
    """T-by-3 waveform sequences of 50-150 time steps and their class labels."""
    r = np.random.default_rng(seed)
    data, labels = [], []
    for _ in range(num_observations):
        k = r.integers(4)
        T = r.integers(50, 151)
        t = np.arange(T)[:, None]
        freq = r.uniform(0.02, 0.06)
        phase = r.uniform(0, 1) + np.array([0.0, 0.1, 0.2])      # 3 channels, shifted
        amp = r.uniform(0.5, 2.0, 3)
        u = (freq * t + phase) % 1.0
        wave = [2 * u - 1, np.sin(2 * np.pi * u), np.sign(np.sin(2 * np.pi * u)),
                1 - 4 * np.abs(u - 0.5)][k]
        data.append(amp * wave + 0.3 * r.standard_normal((T, 3)))
        labels.append(CLASSES[k])
    return data, np.array(labels)


def training_partitions(n, fractions, seed=0):
    """MATLAB's trainingPartitions helper: random disjoint index sets of the given fractions."""
    idx = np.random.default_rng(seed).permutation(n)
    cuts = np.round(np.cumsum(fractions) * n).astype(int)
    return np.split(idx, cuts[:-1])


def main(quick=False, epochs=None):
    rng(0)
    data, labels = waveform_data(300 if quick else 1000)
    numChannels = data[0].shape[1]                       # T-by-C: channels are columns
    classNames = np.unique(labels)                       # categories(labels)

    idxTrain, idxTest = training_partitions(len(data), [0.9, 0.1])
    XTrain = [data[i] for i in idxTrain]
    TTrain = labels[idxTrain]
    XTest = [data[i] for i in idxTest]
    TTest = labels[idxTest]

    # sort the training data by length, as the example does, to reduce padding
    order = np.argsort([x.shape[0] for x in XTrain])
    XTrain = [XTrain[i] for i in order]
    TTrain = TTrain[order]

    layers = [sequenceInputLayer(numChannels),
              bilstmLayer(40 if quick else 120, OutputMode="last"),
              fullyConnectedLayer(len(classNames)),
              softmaxLayer()]
    options = trainingOptions("adam", MaxEpochs=epochs or (15 if quick else 60),
                              InitialLearnRate=0.002, GradientThreshold=1, Shuffle="never",
                              Metrics="accuracy", Verbose=False)
    start = time.perf_counter()
    net = trainnet(XTrain, TTrain, layers, "crossentropy", options)
    elapsed = time.perf_counter() - start

    acc = testnet(net, XTest, TTest, "accuracy")
    scores = minibatchpredict(net, XTest)
    YTest = scores2label(scores, classNames)
    print(f"Training time: {elapsed:.1f} s")
    print(f"Test accuracy (testnet): {acc:.2f} %")
    print(f"Test accuracy (minibatchpredict + scores2label): "
          f"{100 * np.mean(YTest == TTest):.2f} %")
    print(confusionmat(TTest, YTest, Order=classNames))
    return acc


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller, shorter run")
    parser.add_argument("--epochs", type=int, default=None, help="MaxEpochs")
    args = parser.parse_args()
    main(args.quick, args.epochs)
