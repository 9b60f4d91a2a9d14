"""A custom training loop, written as MATLAB's custom-loop examples are.

Sequence-to-sequence regression: each sequence is a noisy input signal and the response at
every time step is the output of a hidden linear filter of it (a damped resonator), which the
network must learn. The loop is MATLAB's: a minibatchqueue over combined arrayDatastores whose
MiniBatchFcn pads with padsequences, dlfeval of a model-loss function that calls forward and
dlgradient(loss, net.Learnables), adamupdate, a trainingProgressMonitor (recordMetrics,
updateInfo, Progress), and prediction on the test sequences. The padded
steps are kept out of the loss with padsequences' mask, as weights. Then the same model with a
residual connection (additionLayer) is trained by a custom loop and by trainnet, each printing
its test RMSE.

    python examples/custom_training_loop.py [--quick]
"""

import argparse
import time

import numpy as np

from lstmkit import *


def make_data(n, rng):
    """n sequences (T-by-1) and the hidden filter's response to each."""
    X, Y = [], []
    for _ in range(n):
        T = int(rng.integers(30, 60))
        u = rng.standard_normal(T)
        y = np.zeros(T)
        for t in range(T):                   # y_t = 1.5 y_{t-1} - 0.7 y_{t-2} + 0.5 u_t
            y[t] = 0.5 * u[t] + (1.5 * y[t - 1] if t > 0 else 0) - (0.7 * y[t - 2] if t > 1
                                                                     else 0)
        X.append(u[:, None])
        Y.append(y[:, None])
    return X, Y


def preprocess_mini_batch(x, t):
    """MATLAB's MiniBatchFcn: pad the T-by-C sequences (left, so every sequence ends at the
    last step) and keep the mask of the real steps as a third output."""
    X = padsequences(x, 1, Direction="left")
    T, mask = padsequences(t, 1, Direction="left", nargout=2)
    return X, T, mask.astype(np.float32)


def model_loss(net, X, T, mask):
    Y = forward(net, X)
    loss = l2loss(Y, T, mask, NormalizationFactor="mask-included")
    return loss, dlgradient(loss, net.Learnables)


def train_custom_loop(net, XTrain, YTrain, epochs, learn_rate=0.01, plot=False):
    ds = combine(arrayDatastore(XTrain, OutputType="same"),
                 arrayDatastore(YTrain, OutputType="same"))
    mbq = minibatchqueue(ds, 3, MiniBatchSize=16, MiniBatchFcn=preprocess_mini_batch,
                         MiniBatchFormat=["TCB", "TCB", "TCB"])
    iterations = epochs * int(np.ceil(len(XTrain) / 16))
    monitor = trainingProgressMonitor(Metrics="Loss", Info="Epoch", XLabel="Iteration",
                                      Visible=plot)
    avg = avgSq = None
    iteration = epoch = 0
    while epoch < epochs and not monitor.Stop:
        epoch += 1
        shuffle(mbq)
        while hasdata(mbq) and not monitor.Stop:
            iteration += 1
            X, T, mask = next(mbq)
            loss, gradients = dlfeval(model_loss, net, X, T, mask)
            net, avg, avgSq = adamupdate(net, gradients, avg, avgSq, iteration, learn_rate,
                                         nargout=3)
            recordMetrics(monitor, iteration, Loss=loss)
            updateInfo(monitor, Epoch=f"{epoch} of {epochs}")
            monitor.Progress = 100 * iteration / iterations
    monitor.Status = "Training complete"
    return net, float(loss)


def rmse(net, XTest, YTest):
    YPred = minibatchpredict(net, XTest, UniformOutput=False)   # no padding: each its own length
    err = np.concatenate([(p - y).ravel() for p, y in zip(YPred, YTest)])
    return float(np.sqrt(np.mean(err ** 2)))


def residual_network():
    net = dlnetwork([sequenceInputLayer(1, Name="in"), fullyConnectedLayer(16, Name="proj"),
                     lstmLayer(16, Name="lstm"), additionLayer(2, Name="add"),
                     fullyConnectedLayer(1, Name="out")], Initialize=False)
    net = connectLayers(net, "proj", "add/in2")        # the skip connection around the LSTM
    return initialize(net)


def main(quick=False):
    rng(0)
    data_rng = np.random.default_rng(0)
    XTrain, YTrain = make_data(64 if quick else 256, data_rng)
    XTest, YTest = make_data(32 if quick else 100, data_rng)
    epochs = 8 if quick else 40
    baseline = float(np.sqrt(np.mean(np.concatenate([y.ravel() for y in YTest]) ** 2)))
    print(f"Predicting zero: test RMSE {baseline:.4f}")

    net = dlnetwork([sequenceInputLayer(1), lstmLayer(32), fullyConnectedLayer(1)])
    t0 = time.perf_counter()
    net, loss = train_custom_loop(net, XTrain, YTrain, epochs, plot=not quick)
    print(f"Custom loop (LSTM): last mini-batch loss {loss:.4f}, test RMSE "
          f"{rmse(net, XTest, YTest):.4f} ({time.perf_counter() - t0:.1f} s)")

    res = residual_network()
    t0 = time.perf_counter()
    looped, _ = train_custom_loop(res, XTrain, YTrain, epochs)
    print(f"Custom loop (residual): test RMSE {rmse(looped, XTest, YTest):.4f} "
          f"({time.perf_counter() - t0:.1f} s)")
    options = trainingOptions("adam", MaxEpochs=epochs, MiniBatchSize=16, InitialLearnRate=0.01,
                              Shuffle="every-epoch", Verbose=False)
    t0 = time.perf_counter()
    trained = trainnet(XTrain, YTrain, res, "mse", options)
    print(f"trainnet (residual): test RMSE {rmse(trained, XTest, YTest):.4f} "
          f"({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="less data and fewer epochs")
    main(parser.parse_args().quick)
