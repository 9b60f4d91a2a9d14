"""Sequence-to-sequence regression: remaining useful life of simulated engines.

MATLAB's "Sequence-to-Sequence Regression Using Deep Learning" (turbofan
engines, RUL clipped at 150) with data this script generates: each engine runs
until failure, its sensors drift with accumulated damage, and the response at
every time step is the remaining useful life.  The network is MATLAB's:
lstmLayer(OutputMode='sequence') -> fullyConnected(50) -> dropout(0.5) ->
fullyConnected(1) -> regression.  Prints the test RMSE at the last time step
(as MATLAB does), in cycles.

    python examples/sequence_to_sequence_regression.py [--quick]
"""

import argparse
import time

import numpy as np

from lstmkit import *

NUM_SENSORS = 8
THRESHOLD = 150  # RUL is clipped here, as in MATLAB's example


def sensor_calibration(rng):
    """Gain and offset of each sensor: the same for the whole fleet."""
    gains = rng.uniform(0.5, 2.0, (NUM_SENSORS, 1)) * rng.choice([-1, 1], (NUM_SENSORS, 1))
    return gains, rng.uniform(-1, 1, (NUM_SENSORS, 1))


def simulate_engines(n, calibration, rng, truncate=False):
    """n engines: 8 noisy sensors driven by hidden damage; response = clipped RUL.

    Damage grows exponentially towards failure (``exp(-RUL / tau)``, with an
    engine-to-engine spread of ``tau``), the usual degradation model of
    prognostics; each sensor responds to it with its own gain and offset.
    """
    gains, offsets = calibration
    X, Y = [], []
    for _ in range(n):
        life = int(rng.integers(120, 260))
        t = np.arange(life)
        damage = np.exp(-(life - 1 - t) / rng.uniform(50, 70))
        sensors = offsets + gains * damage + 0.05 * rng.standard_normal((NUM_SENSORS, life))
        rul = np.minimum(life - 1 - t, THRESHOLD)[None, :].astype(float)
        if truncate:  # test engines stop at a random point before failure
            stop = int(rng.integers(life // 3, life))
            sensors, rul = sensors[:, :stop], rul[:, :stop]
        X.append(sensors)
        Y.append(rul)
    return X, Y


def main(quick=False):
    rng(0)
    data_rng = np.random.default_rng(0)
    calibration = sensor_calibration(data_rng)
    XTrain, YTrain = simulate_engines(40 if quick else 100, calibration, data_rng)
    XTest, YTest = simulate_engines(30 if quick else 100, calibration, data_rng, truncate=True)

    # MATLAB sorts by length (descending) and trains with Shuffle='never'
    order = np.argsort([-x.shape[1] for x in XTrain], kind="stable")
    XTrain, YTrain = [XTrain[i] for i in order], [YTrain[i] for i in order]

    layers = [sequenceInputLayer(NUM_SENSORS, Normalization="zscore"),
              lstmLayer(100, OutputMode="sequence"),
              fullyConnectedLayer(50),
              dropoutLayer(0.5),
              fullyConnectedLayer(1),
              regressionLayer()]
    options = trainingOptions("adam", MaxEpochs=8 if quick else 60, MiniBatchSize=20,
                              InitialLearnRate=0.01, GradientThreshold=1, Shuffle="never",
                              Verbose=0)
    start = time.perf_counter()
    net = trainNetwork(XTrain, YTrain, layers, options)
    elapsed = time.perf_counter() - start

    YPred = predict(net, XTest, MiniBatchSize=1)
    last_pred = np.array([y[0, -1] for y in YPred])
    last_true = np.array([y[0, -1] for y in YTest])
    rmse = float(np.sqrt(np.mean((last_pred - last_true) ** 2)))
    baseline = float(np.sqrt(np.mean((last_true - last_true.mean()) ** 2)))
    print(f"Test RMSE at the last time step: {rmse:.2f} cycles "
          f"(predicting the mean: {baseline:.2f})")
    print(f"Training time: {elapsed:.1f} s")
    return rmse, baseline


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (for the tests)")
    main(parser.parse_args().quick)
