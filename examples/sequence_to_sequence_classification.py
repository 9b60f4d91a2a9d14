"""Sequence-to-sequence classification: the activity at every time step.

MATLAB's "Sequence-to-Sequence Classification Using Deep Learning"
(HumanActivity: a 3-axis accelerometer, five activities) with data this script
generates: each recording strings together activity segments (sitting,
standing, walking, running, dancing), each with its own acceleration pattern,
and the label is the activity at every time step.  The network is MATLAB's:
lstmLayer(200, OutputMode='sequence') -> fullyConnected(5) -> softmax ->
classification.  MATLAB trains on six very long recordings (one iteration per
epoch); with shorter generated recordings, mini-batches of 10 give the
optimizer more steps.  Prints the per-time-step test accuracy.

    python examples/sequence_to_sequence_classification.py [--quick]
"""

import argparse
import time

import numpy as np

from lstmkit import *

ACTIVITIES = np.array(["Dancing", "Running", "Sitting", "Standing", "Walking"])


def segment(activity, T, r):
    """A T-step 3-axis accelerometer trace of one activity (gravity + motion + noise)."""
    t = np.arange(T) / 50.0  # 50 Hz
    x = np.zeros((3, T))
    if activity == "Sitting":
        x[:] = [[0.3], [0.2], [0.93]]
    elif activity == "Standing":
        x[:] = [[0.05], [0.98], [0.1]]
    elif activity == "Walking":
        f = r.uniform(1.6, 2.1)
        x[:] = [[0.05], [0.98], [0.1]]
        x[1] += 0.35 * np.sin(2 * np.pi * f * t)
        x[2] += 0.15 * np.sin(2 * np.pi * f * t + 1.0)
    elif activity == "Running":
        f = r.uniform(2.6, 3.2)
        x[:] = [[0.1], [0.95], [0.2]]
        x[1] += 0.9 * np.abs(np.sin(np.pi * f * t)) - 0.5
        x[0] += 0.3 * np.sin(2 * np.pi * f * t)
    else:  # Dancing: several slow, irregular components
        x[:] = [[0.1], [0.9], [0.3]]
        for _ in range(3):
            x += 0.25 * np.sin(2 * np.pi * r.uniform(0.3, 1.5, (3, 1)) * t + r.uniform(0, 6, (3, 1)))
    return x + 0.05 * r.standard_normal((3, T))


def recording(r, num_segments):
    parts, labels = [], []
    for _ in range(num_segments):
        activity = r.choice(ACTIVITIES)
        T = int(r.integers(40, 160))
        parts.append(segment(activity, T, r))
        labels.append(np.full(T, activity))
    return np.hstack(parts), np.concatenate(labels)


def main(quick=False):
    rng(0)
    r = np.random.default_rng(0)
    XTrain, YTrain = zip(*[recording(r, 4) for _ in range(30 if quick else 60)])
    XTest, YTest = recording(r, 30)                 # one long test recording, as in MATLAB

    layers = [sequenceInputLayer(3),
              lstmLayer(100 if quick else 200, OutputMode="sequence"),
              fullyConnectedLayer(len(ACTIVITIES)),
              softmaxLayer(),
              classificationLayer()]
    options = trainingOptions("adam", MaxEpochs=8 if quick else 30, MiniBatchSize=10,
                              GradientThreshold=2, InitialLearnRate=0.01, Verbose=0)
    start = time.perf_counter()
    net = trainNetwork(list(XTrain), list(YTrain), layers, options)
    elapsed = time.perf_counter() - start

    YPred = classify(net, XTest)
    accuracy = float(np.mean(YPred == YTest))
    print(f"Per-time-step test accuracy: {accuracy:.4f} over {YTest.size} time steps "
          f"({len(ACTIVITIES)} activities)")
    print(f"Training time: {elapsed:.1f} s")
    return accuracy


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (for the tests)")
    main(parser.parse_args().quick)
