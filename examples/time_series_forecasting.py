"""Time-series forecasting: MATLAB's chickenpox recipe, open loop and closed loop.

MATLAB's "Time Series Forecasting Using Deep Learning", step by step, on a
monthly series this script generates (yearly seasonality, slow trend, noise):
standardize with the training statistics, train an LSTM to predict the next
value (targets = inputs shifted by one step), then forecast the test months

* closed loop: each prediction is fed back as the next input
  (``predictAndUpdateState`` on the network's own output);
* open loop: the observed value is fed at each step (after ``resetState``).

Prints both RMSEs; with matplotlib installed, also writes a plot.

    python examples/time_series_forecasting.py [--quick] [--plot FILE.png]
"""

import argparse
import time

import numpy as np

from lstmkit import *


def monthly_series(n=498, seed=0):
    """A positive seasonal count series, like MATLAB's chickenpox data."""
    r = np.random.default_rng(seed)
    t = np.arange(n)
    season = 1 + 0.8 * np.cos(2 * np.pi * (t - 2) / 12) + 0.25 * np.cos(4 * np.pi * t / 12)
    level = 800 * np.exp(-t / 600)
    return (level * season * np.exp(0.08 * r.standard_normal(n)))[None, :]


def main(quick=False, plot=None):
    rng(0)
    data = monthly_series()
    num_train = int(np.floor(0.9 * data.shape[1]))
    data_train, data_test = data[:, :num_train], data[:, num_train:]

    mu, sig = data_train.mean(), data_train.std(ddof=1)   # MATLAB's std normalizes by N-1
    standardized = (data_train - mu) / sig
    XTrain, YTrain = standardized[:, :-1], standardized[:, 1:]

    layers = [sequenceInputLayer(1), lstmLayer(200), fullyConnectedLayer(1), regressionLayer()]
    options = trainingOptions("adam", MaxEpochs=25 if quick else 250, GradientThreshold=1,
                              InitialLearnRate=0.005, LearnRateSchedule="piecewise",
                              LearnRateDropPeriod=125, LearnRateDropFactor=0.2, Verbose=0)
    start = time.perf_counter()
    net = trainNetwork(XTrain, YTrain, layers, options)
    elapsed = time.perf_counter() - start

    # closed loop: warm up on the training data, then feed back each prediction
    XTest = (data_test - mu) / sig
    num_test = XTest.shape[1]
    net = predictAndUpdateState(net, XTrain)
    net, first = predictAndUpdateState(net, YTrain[:, -1:], nargout=2)
    closed = np.zeros((1, num_test))
    closed[:, 0] = first[:, 0]
    for i in range(1, num_test):
        net, y = predictAndUpdateState(net, closed[:, i - 1:i], nargout=2)
        closed[:, i] = y[:, 0]

    # open loop: reset, warm up, then feed the observed value at each step
    net = resetState(net)
    net = predictAndUpdateState(net, XTrain)
    open_loop = np.zeros((1, num_test))
    previous = YTrain[:, -1:]
    for i in range(num_test):
        net, y = predictAndUpdateState(net, previous, nargout=2)
        open_loop[:, i] = y[:, 0]
        previous = XTest[:, i:i + 1]

    closed, open_loop = sig * closed + mu, sig * open_loop + mu
    rmse_closed = float(np.sqrt(np.mean((closed - data_test) ** 2)))
    rmse_open = float(np.sqrt(np.mean((open_loop - data_test) ** 2)))
    naive = float(np.sqrt(np.mean((data[:, num_train - 1:-1] - data_test) ** 2)))
    print(f"Closed-loop RMSE: {rmse_closed:.1f}   Open-loop RMSE: {rmse_open:.1f}   "
          f"(repeat-last-value RMSE: {naive:.1f}; series mean {data.mean():.0f})")
    print(f"Training time: {elapsed:.1f} s")
    if plot:
        _plot(plot, data, num_train, closed, open_loop)
    return rmse_closed, rmse_open, naive


def _plot(path, data, num_train, closed, open_loop):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot (pip install matplotlib)")
        return
    t = np.arange(data.shape[1])
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.plot(t[:num_train], data[0, :num_train], color="0.5", label="observed (training)")
    ax.plot(t[num_train:], data[0, num_train:], "k.-", label="observed (test)")
    ax.plot(t[num_train:], closed[0], "r-", label="closed-loop forecast")
    ax.plot(t[num_train:], open_loop[0], "b--", label="open-loop forecast")
    lo = num_train - 100
    ax.set_xlim(lo, t[-1] + 1)
    ax.set_ylim(0, 1.15 * max(data[0, lo:].max(), closed.max(), open_loop.max()))
    ax.set_xlabel("Month")
    ax.set_ylabel("Cases")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"Plot written to {path}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (for the tests)")
    parser.add_argument("--plot", default="time_series_forecasting.png",
                        help="where to write the plot (needs matplotlib); '' for none")
    args = parser.parse_args()
    main(args.quick, args.plot)
