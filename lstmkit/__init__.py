"""lstmkit: MATLAB's LSTM workflow in Python, on fused Numba kernels.

The public names keep MATLAB's spelling and Name=Value arguments::

    from lstmkit import *
    layers = [sequenceInputLayer(12), lstmLayer(100, OutputMode="last"),
              fullyConnectedLayer(9), softmaxLayer(), classificationLayer()]
    options = trainingOptions("adam", MaxEpochs=100, MiniBatchSize=27)
    net = trainNetwork(XTrain, YTrain, layers, options)
    YPred = classify(net, XTest)

Sequences are C-by-T (channels by time steps), as in MATLAB.
"""

from ._random import rng
from .analysis import analyzeNetwork, plot
from .confusion import ConfusionMatrixChart, confusionchart, confusionmat
from .datasets import japaneseVowelsTestData, japaneseVowelsTrainData
from .dlnetwork import (DLNetwork, LayerGraph, addLayers, connectLayers, disconnectLayers,
                        dlnetwork, initialize, layerGraph, removeLayers, replaceLayer)
from .datastore import (ArrayDatastore, CombinedDatastore, TransformedDatastore, arrayDatastore,
                        combine, hasdata, preview, read, readall, reset, shuffle, transform)
from .dlpredict import forward, minibatchpredict
from .layers.activations import (ClippedReLULayer, ELULayer, GELULayer, LeakyReLULayer, ReLULayer,
                                 SigmoidLayer, SwishLayer, TanhLayer, clippedReluLayer, eluLayer,
                                 geluLayer, leakyReluLayer, reluLayer, sigmoidLayer, swishLayer,
                                 tanhLayer)
from .layers.attention import (PositionEmbeddingLayer, SelfAttentionLayer, positionEmbeddingLayer,
                               selfAttentionLayer)
from .layers.bilstm import BiLSTMLayer, bilstmLayer
from .layers.convolution import (AveragePooling1DLayer, Convolution1DLayer, FlattenLayer,
                                 GlobalAveragePooling1DLayer, GlobalMaxPooling1DLayer,
                                 Indexing1DLayer, MaxPooling1DLayer, averagePooling1dLayer,
                                 convolution1dLayer, flattenLayer, globalAveragePooling1dLayer,
                                 globalMaxPooling1dLayer, indexing1dLayer, maxPooling1dLayer)
from .layers.normalization import (BatchNormalizationLayer, LayerNormalizationLayer,
                                   batchNormalizationLayer, layerNormalizationLayer)
from .layers.embedding import WordEmbeddingLayer, wordEmbeddingLayer
from .layers.merge import (AdditionLayer, ConcatenationLayer, MultiplicationLayer, additionLayer,
                           concatenationLayer, multiplicationLayer)
from .layers.custom import (CustomClassificationLayer, CustomLayer, CustomRegressionLayer,
                            getL2Factor, getLearnRateFactor, setL2Factor, setLearnRateFactor)
from .layers.dropout import DropoutLayer, dropoutLayer
from .layers.fully_connected import FullyConnectedLayer, fullyConnectedLayer
from .layers.gru import GRULayer, GRUProjectedLayer, gruLayer, gruProjectedLayer
from .layers.lstm import LSTMLayer, LSTMProjectedLayer, lstmLayer, lstmProjectedLayer
from .layers.output import (ClassificationOutputLayer, RegressionOutputLayer, classificationLayer,
                            regressionLayer)
from .layers.sequence_input import (FeatureInputLayer, SequenceInputLayer, featureInputLayer,
                                    sequenceInputLayer)
from .layers.softmax import SoftmaxLayer, softmaxLayer
from .network import DAGNetwork, LayerArray, SeriesNetwork, register_ipython_display
from .prediction import (assembleNetwork, classify, classifyAndUpdateState, predict,
                         predictAndUpdateState, resetState)
from .training.info import TrainingInfo
from .interop.onnx_export import exportONNXNetwork
from .interop.onnx_import import importNetworkFromONNX, importONNXNetwork
from .interop.weights import importMATLABLearnables, loadPyTorchStateDict, pyTorchStateDict
from .io import loadNetwork, saveNetwork
from .labels import scores2label
from .text import WordEncoding, doc2sequence, ind2word, word2ind, wordEncoding
from .matfile import MatStruct, load
from .training.options import TrainingOptions, trainingOptions
from .training.schedules import (cosineLearnRate, cyclicalLearnRate, exponentialLearnRate,
                                 piecewiseLearnRate, polynomialLearnRate, warmupLearnRate)
from .training.trainer import trainNetwork
from .training.trainnet import TrainnetInfo, trainnet
from .testnet import testnet
from ._device import GPUUnavailableWarning, canUseGPU, gpuDeviceCount
from .dlarrays import (DLArray, dims, dlarray, dlfeval, dlgradient, extractdata, finddim, relu,
                       sigmoid, softmax, stripdims)
from .dlupdates import adamupdate, dlupdate, rmspropupdate, sgdmupdate
from .dlfunctions import fullyconnect, gru, lstm
from .training.monitor import (TrainingProgressMonitor, groupSubPlot, recordMetrics,
                               trainingProgressMonitor, updateInfo, yscale)
from .minibatchqueue import (MinibatchQueue, minibatchqueue, onehotdecode, onehotencode,
                             padsequences)
from .parallel import FevalFuture, ParallelPool, fetchNext, fetchOutputs, gcp, parfeval, parpool
from .losses import crossentropy, huber, l1loss, l2loss, mse
from .metrics import (accuracyMetric, aucMetric, fScoreMetric, mapeMetric, precisionMetric,
                      recallMetric, rmseMetric, rSquaredMetric)

__version__ = "0.1.0"

register_ipython_display()

__all__ = [
    "sequenceInputLayer", "lstmLayer", "bilstmLayer", "gruLayer", "dropoutLayer",
    "fullyConnectedLayer", "softmaxLayer", "classificationLayer", "regressionLayer",
    "trainingOptions", "trainNetwork", "classify", "predict", "predictAndUpdateState",
    "classifyAndUpdateState", "resetState", "assembleNetwork", "japaneseVowelsTrainData",
    "japaneseVowelsTestData", "rng", "saveNetwork", "loadNetwork", "piecewiseLearnRate",
    "warmupLearnRate", "polynomialLearnRate", "exponentialLearnRate", "cosineLearnRate",
    "cyclicalLearnRate", "analyzeNetwork", "exportONNXNetwork", "importONNXNetwork",
    "loadPyTorchStateDict", "pyTorchStateDict", "importMATLABLearnables", "confusionmat",
    "confusionchart", "load", "LayerArray", "scores2label", "dlnetwork", "addLayers",
    "connectLayers", "disconnectLayers", "removeLayers", "initialize", "minibatchpredict",
    "arrayDatastore", "combine", "transform", "read", "readall", "hasdata", "reset", "preview",
    "shuffle", "ArrayDatastore", "CombinedDatastore", "TransformedDatastore",
    "forward", "trainnet", "testnet", "importNetworkFromONNX", "crossentropy", "l2loss", "l1loss", "huber", "mse",
    "accuracyMetric", "aucMetric", "fScoreMetric", "mapeMetric", "precisionMetric",
    "recallMetric", "rmseMetric", "rSquaredMetric", "reluLayer", "leakyReluLayer",
    "clippedReluLayer", "eluLayer", "tanhLayer", "sigmoidLayer", "swishLayer", "geluLayer",
    "additionLayer", "concatenationLayer", "multiplicationLayer", "layerNormalizationLayer",
    "convolution1dLayer", "maxPooling1dLayer", "averagePooling1dLayer",
    "globalAveragePooling1dLayer", "globalMaxPooling1dLayer", "featureInputLayer",
    "indexing1dLayer", "flattenLayer", "wordEmbeddingLayer", "wordEncoding", "doc2sequence",
    "word2ind", "ind2word", "batchNormalizationLayer", "selfAttentionLayer",
    "positionEmbeddingLayer", "layerGraph", "replaceLayer", "plot", "CustomLayer",
    "CustomClassificationLayer", "CustomRegressionLayer", "setLearnRateFactor", "setL2Factor",
    "getLearnRateFactor", "getL2Factor", "lstmProjectedLayer", "gruProjectedLayer", "parpool",
    "gcp", "parfeval", "fetchOutputs", "fetchNext", "canUseGPU", "gpuDeviceCount",
    "GPUUnavailableWarning", "dlarray", "dims", "extractdata", "stripdims", "finddim", "dlfeval",
    "dlgradient", "sigmoid", "relu", "softmax", "DLArray", "adamupdate", "sgdmupdate",
    "rmspropupdate", "dlupdate", "padsequences", "minibatchqueue", "onehotencode",
    "trainingProgressMonitor", "TrainingProgressMonitor", "recordMetrics", "updateInfo",
    "groupSubPlot", "yscale",
    "onehotdecode", "MinibatchQueue", "fullyconnect", "lstm", "gru",
    # the classes behind the factories and functions (isinstance checks, type hints)
    "AdditionLayer", "AveragePooling1DLayer", "BatchNormalizationLayer", "BiLSTMLayer",
    "ClassificationOutputLayer", "ClippedReLULayer", "ConcatenationLayer", "ConfusionMatrixChart",
    "Convolution1DLayer", "DAGNetwork", "DLNetwork", "DropoutLayer", "ELULayer",
    "FeatureInputLayer", "FlattenLayer", "FullyConnectedLayer", "GELULayer", "GRULayer",
    "GRUProjectedLayer", "GlobalAveragePooling1DLayer", "GlobalMaxPooling1DLayer",
    "Indexing1DLayer", "LSTMLayer", "LSTMProjectedLayer", "LayerGraph", "LayerNormalizationLayer",
    "LeakyReLULayer", "MatStruct", "MaxPooling1DLayer", "MultiplicationLayer",
    "FevalFuture", "ParallelPool", "PositionEmbeddingLayer", "ReLULayer", "RegressionOutputLayer", "SelfAttentionLayer",
    "SequenceInputLayer", "SeriesNetwork", "SigmoidLayer", "SoftmaxLayer", "SwishLayer",
    "TanhLayer", "TrainingInfo", "TrainingOptions", "TrainnetInfo", "WordEmbeddingLayer",
    "WordEncoding",
]
