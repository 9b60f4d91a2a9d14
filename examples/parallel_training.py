"""Training on a parallel pool: MATLAB's parpool and ExecutionEnvironment="parallel".

The Japanese Vowels network of examples/japanese_vowels.py, trained twice with the same seed:
in this process ("cpu"), and on a pool of local worker processes ("parallel": every
mini-batch of 27 sequences is split over the workers, each computes the gradient of its share,
and the sum is the mini-batch's gradient). In float64 the two networks agree to rounding; the
script prints the largest difference of their weights, both test accuracies and both times.

On a cluster, start a Dask scheduler and workers there and open the pool with
parpool("tcp://SCHEDULER:8786") instead; nothing else changes. Needs the parallel extra:
pip install "lstmkit[parallel]".

    python examples/parallel_training.py [--quick] [--workers N]
"""

import argparse
import time

import numpy as np

from lstmkit import *

parser = argparse.ArgumentParser()
parser.add_argument("--quick", action="store_true", help="5 epochs instead of 30")
parser.add_argument("--workers", type=int, default=2)
args = parser.parse_args()

XTrain, YTrain = japaneseVowelsTrainData()
XTest, YTest = japaneseVowelsTestData()
layers = [sequenceInputLayer(12), lstmLayer(100, OutputMode="last"), fullyConnectedLayer(9),
          softmaxLayer(), classificationLayer()]
epochs = 5 if args.quick else 30

pool = parpool("Processes", args.workers)           # MATLAB: parpool("Processes", 2)
print(f"Pool: {pool.NumWorkers} workers")

nets = {}
for env in ("cpu", "parallel"):
    options = trainingOptions("adam", ExecutionEnvironment=env, MaxEpochs=epochs,
                              MiniBatchSize=27, GradientThreshold=1, Shuffle="never",
                              Verbose=False)
    start = time.perf_counter()
    nets[env] = trainNetwork(XTrain, YTrain, layers, options, dtype="float64", seed=0)
    elapsed = time.perf_counter() - start
    accuracy = np.mean(classify(nets[env], XTest) == YTest)
    print(f"ExecutionEnvironment={env!r}: test accuracy {accuracy:.4f}, training {elapsed:.1f} s")

difference = max(np.max(np.abs(a.Weights - b.Weights)) for a, b in
                 zip(nets["cpu"].Layers, nets["parallel"].Layers) if hasattr(a, "Weights"))
difference = max(difference, np.max(np.abs(nets["cpu"].Layers[1].RecurrentWeights -
                                           nets["parallel"].Layers[1].RecurrentWeights)))
print(f"Largest weight difference, cpu against parallel: {difference:.1e}")
pool.delete()                                       # MATLAB: delete(gcp("nocreate"))
