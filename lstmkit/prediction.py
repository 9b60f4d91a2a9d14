"""predict, classify and assembleNetwork."""

import numpy as np

from ._data import as_sequences, check_sequences
from ._validation import _show, check_choice, check_positive_int, check_real, fail, parse_name_value
from .layers.output import ClassificationOutputLayer
from .network import SeriesNetwork, check_layers, copy_and_name_layers, predict_batches
from .training.options import check_sequence_length
from .training.trainer import check_dtype

_PREDICT_OPTIONS = ("MiniBatchSize", "SequenceLength", "SequencePaddingValue",
                    "SequencePaddingDirection", "ExecutionEnvironment", "Acceleration")


def _parse_predict_options(func, args, kwargs):
    opts = parse_name_value(func, args, kwargs, _PREDICT_OPTIONS)
    out = {
        "MiniBatchSize": check_positive_int(func, "MiniBatchSize", opts.get("MiniBatchSize", 128)),
        "SequenceLength": check_sequence_length(func, opts.get("SequenceLength", "longest")),
        "SequencePaddingDirection": check_choice(
            func, "SequencePaddingDirection", opts.get("SequencePaddingDirection", "right"),
            ("right", "left")),
    }
    check_real(func, "SequencePaddingValue", opts.get("SequencePaddingValue", 0.0))
    env = opts.get("ExecutionEnvironment", "auto")
    if isinstance(env, str) and env.lower() == "gpu":
        fail(func, "ExecutionEnvironment='gpu' is not supported: lstmkit runs on the CPU. "
                   "Use 'auto' or 'cpu'.")
    check_choice(func, "ExecutionEnvironment", env, ("auto", "cpu"))
    check_choice(func, "Acceleration", opts.get("Acceleration", "auto"), ("auto", "mex", "none"))
    return out


def _check_network(func, net):
    if not isinstance(net, SeriesNetwork):
        fail(func, f"`net` must be a network from trainNetwork or assembleNetwork. "
                   f"Received: {_show(net)}.", TypeError)


def _outputs(func, net, X, args, kwargs):
    _check_network(func, net)
    opts = _parse_predict_options(func, args, kwargs)
    seqs, single = as_sequences(func, X)
    input_layer = net.Layers[0]
    check_sequences(func, seqs, input_layer.InputSize, input_layer.MinLength)
    out = predict_batches(net, seqs, opts["MiniBatchSize"], opts["SequenceLength"],
                          opts["SequencePaddingDirection"])
    return out, single


def predict(net, X, *args, **kwargs):
    """Predict responses or class scores, as MATLAB's ``predict``.

    Parameters
    ----------
    net : SeriesNetwork
    X : sequences
        As for :func:`trainNetwork`.
    MiniBatchSize : int, default 128
        Only changes speed and memory: results do not depend on it.
    SequenceLength : 'longest', 'shortest' or int, default 'longest'
        'shortest' truncates each mini-batch to its shortest sequence; an integer
        processes long sequences in chunks (same result, less memory).
    SequencePaddingDirection : {'right', 'left'}, default 'right'
        Which end 'shortest' truncates.
    SequencePaddingValue : float, default 0
        Accepted for compatibility; lstmkit never pads.
    ExecutionEnvironment : {'auto', 'cpu'}, default 'auto'
    Acceleration : {'auto', 'mex', 'none'}, default 'auto'
        Accepted for compatibility; the kernels are always compiled.

    Returns
    -------
    ndarray or list of ndarray
        N-by-K scores (classification) or N-by-R responses (regression); for a
        network with sequence output a list of K-by-T / R-by-T arrays.  When X
        is one C-by-T sequence: a 1-by-K array, or one K-by-T array.
    """
    out, single = _outputs("predict", net, X, args, kwargs)
    if net._plan.output_is_sequence:
        return out[0] if single else out
    return out


def classify(net, X, *args, **kwargs):
    """Predict class labels, as MATLAB's ``classify``.

    Takes the options of :func:`predict`.  MATLAB's ``[YPred, scores] =
    classify(...)`` is ``YPred = classify(...)`` and ``scores = predict(...)``.

    Returns
    -------
    ndarray or list of ndarray
        An array of N labels, of the training labels' type; for a network with
        sequence output a list of 1-D label arrays (one label per time step).
        When X is one C-by-T sequence of a sequence-output network: one array.
    """
    func = "classify"
    _check_network(func, net)
    if not isinstance(net.Layers[-1], ClassificationOutputLayer):
        fail(func, f"the network is a regression network (its output layer "
                   f"'{net.Layers[-1].Name}' is a regressionLayer); use predict(net, X) for its "
                   f"responses.")
    out, single = _outputs(func, net, X, args, kwargs)
    classes = net.Classes
    if net._plan.output_is_sequence:
        labels = [classes[np.argmax(s, axis=0)] for s in out]
        return labels[0] if single else labels
    return classes[np.argmax(out, axis=1)]


def assembleNetwork(layers, *, dtype="float32"):
    """Assemble a network from layers whose weights are all given, as MATLAB's ``assembleNetwork``.

    Parameters
    ----------
    layers : list of layers
        Every learnable must be set (``lstmLayer(..., InputWeights=..., ...)``),
        and the input layer's normalization statistics when it normalizes.
        A classificationLayer with Classes='auto' gets classes "1".."K", as
        MATLAB does.
    dtype : {'float32', 'float64'}, default 'float32'
        Precision of prediction.

    Returns
    -------
    SeriesNetwork
    """
    func = "assembleNetwork"
    dt = check_dtype(func, dtype)
    layers = copy_and_name_layers(func, layers)
    plan = check_layers(func, layers)
    for layer in layers[1:]:
        missing = layer._missing_learnables()
        if missing:
            fail(func, f"layer '{layer.Name}' ({layer.type_name}) has no {', '.join(missing)}; "
                       f"assembleNetwork needs every learnable set. Train the network with "
                       f"trainNetwork instead, or give the weights when creating the layer.")
    missing = layers[0]._missing_statistics()
    if missing:
        fail(func, f"the input layer uses '{layers[0].Normalization}' normalization but has no "
                   f"{', '.join(missing)}; give them to sequenceInputLayer.")
    out_layer = layers[-1]
    if isinstance(out_layer, ClassificationOutputLayer) and out_layer.Classes is None:
        out_layer.Classes = np.array([str(k) for k in range(1, plan.num_outputs + 1)])
    for layer, size in zip(layers[1:], plan.input_sizes[1:]):
        layer._initialize(size, None)
    return SeriesNetwork(layers, plan, dt)
