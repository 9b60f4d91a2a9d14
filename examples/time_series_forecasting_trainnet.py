"""Time-series forecasting the trainnet way: MATLAB's current "Time Series Forecasting Using
Deep Learning", ported with syntax changes only.

The data is generated here, shaped like the example's WaveformData: T-by-C sequences (3
channels, 100-200 time steps) of noisy periodic waveforms.  Each channel is standardized with
the training statistics; the network (lstmLayer(128), fullyConnectedLayer(C)) learns to predict
the next time step (the targets are the inputs shifted by one step) with trainnet "mse" and left
padding; minibatchpredict with UniformOutput=False gives the test RMSE; then one test sequence is
forecast open loop (the true value fed at each step) and closed loop (each prediction fed back),
with predict, its state output and net.State.

    python examples/time_series_forecasting_trainnet.py [--quick] [--epochs N]
"""

import argparse
import time

import numpy as np

from lstmkit import *


def waveform_data(num_observations=500, seed=0):
    """T-by-3 sequences: a sum of two periodic components per channel, with noise."""
    r = np.random.default_rng(seed)
    data = []
    for _ in range(num_observations):
        T = r.integers(100, 201)
        t = np.arange(T)[:, None]
        f1, f2 = r.uniform(0.02, 0.05), r.uniform(0.08, 0.12)
        phase = r.uniform(0, 2 * np.pi, 3)
        x = (np.sin(2 * np.pi * f1 * t + phase) + 0.4 * np.sin(2 * np.pi * f2 * t + 2 * phase)
             + 0.05 * r.standard_normal((T, 3)))
        data.append(x * r.uniform(0.5, 2.0))
    return data


def main(quick=False, epochs=None):
    rng(0)
    data = waveform_data(120 if quick else 500)
    numChannels = data[0].shape[1]
    numTrain = int(np.floor(0.9 * len(data)))
    dataTrain, dataTest = data[:numTrain], data[numTrain:]

    XTrain = [x[:-1] for x in dataTrain]                 # X(1:end-1,:)
    TTrain = [x[1:] for x in dataTrain]                  # X(2:end,:)
    muX = np.mean(np.concatenate(XTrain), axis=0)        # mean(cat(1,XTrain{:}),1)
    sigmaX = np.std(np.concatenate(XTrain), axis=0, ddof=1)
    muT = np.mean(np.concatenate(TTrain), axis=0)
    sigmaT = np.std(np.concatenate(TTrain), axis=0, ddof=1)
    XTrain = [(x - muX) / sigmaX for x in XTrain]
    TTrain = [(t - muT) / sigmaT for t in TTrain]

    layers = [sequenceInputLayer(numChannels),
              lstmLayer(32 if quick else 128),
              fullyConnectedLayer(numChannels)]
    options = trainingOptions("adam", MaxEpochs=epochs or (20 if quick else 200),
                              SequencePaddingDirection="left", Shuffle="every-epoch",
                              Verbose=False)
    start = time.perf_counter()
    net = trainnet(XTrain, TTrain, layers, "mse", options)
    elapsed = time.perf_counter() - start

    XTest = [(x[:-1] - muX) / sigmaX for x in dataTest]
    TTest = [(x[1:] - muT) / sigmaT for x in dataTest]
    YTest = minibatchpredict(net, XTest, SequencePaddingDirection="left", UniformOutput=False)
    err = np.concatenate([(y - t).ravel() for y, t in zip(YTest, TTest)])
    rmse = float(np.sqrt(np.mean(err ** 2)))             # rmse(Y, T, "all")
    naive = np.concatenate([((x[:-1] - muT) / sigmaT - t).ravel()    # repeat the last value
                            for x, t in zip(dataTest, TTest)])
    naive_rmse = float(np.sqrt(np.mean(naive ** 2)))

    # forecast the last part of one test sequence
    X = (dataTest[0] - muX) / sigmaX
    offset = 75
    numPredictionTimeSteps = X.shape[0] - offset
    net = resetState(net)
    Z, state = predict(net, X[:offset], nargout=2)
    net.State = state
    Yopen = np.zeros((numPredictionTimeSteps, numChannels))
    for t in range(numPredictionTimeSteps):              # open loop: true values in
        Yopen[t], state = predict(net, X[offset + t - 1:offset + t], nargout=2)
        net.State = state
    net = resetState(net)
    Z, state = predict(net, X[:offset], nargout=2)
    net.State = state
    Yclosed = np.zeros((numPredictionTimeSteps, numChannels))
    Yclosed[0] = Z[-1]
    for t in range(1, numPredictionTimeSteps):           # closed loop: predictions fed back
        Yclosed[t], state = predict(net, Yclosed[t - 1:t], nargout=2)
        net.State = state
    target = (dataTest[0][offset:] - muT) / sigmaT
    open_rmse = float(np.sqrt(np.mean((Yopen - target) ** 2)))
    closed_rmse = float(np.sqrt(np.mean((Yclosed - target) ** 2)))
    print(f"Training time: {elapsed:.1f} s")
    print(f"Test RMSE (one step ahead, standardized): {rmse:.4f} "
          f"(repeating the last value: {naive_rmse:.4f}; predicting the mean: about 1)")
    print(f"Open-loop RMSE: {open_rmse:.4f}")
    print(f"Closed-loop RMSE over {numPredictionTimeSteps} steps: {closed_rmse:.4f}")
    return rmse


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller, shorter run")
    parser.add_argument("--epochs", type=int, default=None, help="MaxEpochs")
    args = parser.parse_args()
    main(args.quick, args.epochs)
