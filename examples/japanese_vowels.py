"""MATLAB's "Sequence Classification Using Deep Learning" (Japanese Vowels), in lstmkit.

The MATLAB script, line for line, with only syntax changes.  Prints the test
accuracy (MATLAB reaches about 0.95) and the training time.
"""

import time

import numpy as np

from lstmkit import *

XTrain, YTrain = japaneseVowelsTrainData()          # 270 sequences, each 12-by-T; labels "1".."9"
order = np.argsort([x.shape[1] for x in XTrain], kind="stable")  # MATLAB's sort: stable
XTrain, YTrain = [XTrain[i] for i in order], YTrain[order]
layers = [sequenceInputLayer(12), lstmLayer(100, OutputMode="last"),
          fullyConnectedLayer(9), softmaxLayer(), classificationLayer()]
options = trainingOptions("adam", ExecutionEnvironment="cpu", GradientThreshold=1,
                          MaxEpochs=100, MiniBatchSize=27, SequenceLength="longest",
                          Shuffle="never", Verbose=0)
start = time.perf_counter()
net = trainNetwork(XTrain, YTrain, layers, options)
elapsed = time.perf_counter() - start
XTest, YTest = japaneseVowelsTestData()
YPred = classify(net, XTest, MiniBatchSize=27, SequenceLength="longest")
print(f"Test accuracy: {np.mean(YPred == YTest):.4f}")  # MATLAB: about 0.95
print(f"Training time: {elapsed:.1f} s")  # the very first run also compiles the kernels
