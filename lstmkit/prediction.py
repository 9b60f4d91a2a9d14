"""predict, classify and assembleNetwork."""

import copy

import numpy as np

from ._data import as_sequences, check_sequences
from ._validation import (_show, check_choice, check_positive_int, check_real, fail,
                          parse_name_value)
from .layers.output import ClassificationOutputLayer
from .layers.recurrent import RecurrentLayer
from .network import (SeriesNetwork, check_carried_state, check_layers, copy_and_name_layers,
                      predict_batches)
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


def _recurrent(net):
    return [layer for layer in net.Layers if isinstance(layer, RecurrentLayer)]


def _check_states(func, net, n):
    for layer in _recurrent(net):
        cols = layer._state_columns()
        if cols > 1 and cols != n:
            fail(func, f"layer '{layer.Name}' holds the states of {cols} observations (from an "
                       f"earlier predictAndUpdateState) but X has {n}; call net = resetState(net) "
                       f"first, or pass {cols} observations.")


def _outputs(func, net, X, args, kwargs, keep_states=False):
    _check_network(func, net)
    opts = _parse_predict_options(func, args, kwargs)
    seqs, single = as_sequences(func, X)
    input_layer = net.Layers[0]
    check_sequences(func, seqs, input_layer.InputSize, input_layer.MinLength)
    _check_states(func, net, len(seqs))
    if isinstance(opts["SequenceLength"], int):
        check_carried_state(func, net.Layers, "SequenceLength as an integer (chunks)")
    out, final = predict_batches(net, seqs, opts["MiniBatchSize"], opts["SequenceLength"],
                                 opts["SequencePaddingDirection"], keep_states)
    return (out, single, final) if keep_states else (out, single)


def predict(net, X, *args, **kwargs):
    """Predict responses or class scores, as MATLAB's ``predict``.

    Recurrent layers start from their stored HiddenState/CellState (see
    :func:`predictAndUpdateState`); ``predict`` never changes them.

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
    return _shape_output(net, out, single)


def _shape_output(net, out, single):
    if net._plan.output_is_sequence:
        return out[0] if single else out
    return out


def _labels(net, out, single):
    classes = net.Classes
    if net._plan.output_is_sequence:
        labels = [classes[np.argmax(s, axis=0)] for s in out]
        return labels[0] if single else labels
    return classes[np.argmax(out, axis=1)]


def _check_classification(func, net):
    if not isinstance(net.Layers[-1], ClassificationOutputLayer):
        fail(func, f"the network is a regression network (its output layer "
                   f"'{net.Layers[-1].Name}' is a regressionLayer); use "
                   f"{'predict' if func == 'classify' else 'predictAndUpdateState'}(net, X) for "
                   f"its responses.")


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
    _check_classification(func, net)
    out, single = _outputs(func, net, X, args, kwargs)
    return _labels(net, out, single)


def _updated(func, net, X, args, kwargs):
    _check_network(func, net)
    layers = _recurrent(net)
    if not layers:
        fail(func, "the network has no recurrent layer (lstmLayer, gruLayer): it has no state to "
                   "update. Use predict instead.")
    check_carried_state(func, net.Layers, "stateful prediction")
    out, single, final = _outputs(func, net, X, args, kwargs, keep_states=True)
    new_layers = []
    for layer, state in zip(net.Layers, [None] + final + [None]):
        if state is not None:
            layer = copy.copy(layer)
            for prop, arr in zip(layer.state_properties, state):
                setattr(layer, prop, np.array(arr.T, dtype=np.float64))
        new_layers.append(layer)
    updated = SeriesNetwork(new_layers, net._plan, net._dtype, net.TrainingInfo)
    return updated, out, single


def predictAndUpdateState(net, X, *args, **kwargs):
    """Predict and update the network state, as MATLAB's ``predictAndUpdateState``.

    Takes the options of :func:`predict`.  Each recurrent layer starts from
    its stored ``HiddenState`` (and ``CellState``) and the returned network
    stores the states after each sequence's last time step: H-by-1 for one
    observation, H-by-N for N (a later call must then pass N observations, or
    :func:`resetState` first).  Feeding a sequence one time step at a time
    gives the same outputs as one call on the whole sequence.  The network
    passed in is not changed.

    Returns
    -------
    net : SeriesNetwork
        The network with updated states.
    Y : ndarray or list of ndarray
        As :func:`predict` returns.
    """
    net2, out, single = _updated("predictAndUpdateState", net, X, args, kwargs)
    return net2, _shape_output(net, out, single)


def classifyAndUpdateState(net, X, *args, **kwargs):
    """Classify and update the network state, as MATLAB's ``classifyAndUpdateState``.

    Returns
    -------
    net : SeriesNetwork
        The network with updated states (see :func:`predictAndUpdateState`).
    labels : ndarray or list of ndarray
        As :func:`classify` returns.
    scores : ndarray or list of ndarray
        As :func:`predict` returns.
    """
    func = "classifyAndUpdateState"
    _check_network(func, net)
    _check_classification(func, net)
    net2, out, single = _updated(func, net, X, args, kwargs)
    return net2, _labels(net, out, single), _shape_output(net, out, single)


def resetState(net):
    """Reset the states of the recurrent layers, as MATLAB's ``resetState``.

    Returns a network whose HiddenState and CellState are the initial values
    the layers had before any :func:`predictAndUpdateState` (zeros unless
    given when the layer was created).
    """
    _check_network("resetState", net)
    new_layers = []
    for layer in net.Layers:
        if isinstance(layer, RecurrentLayer):
            layer = copy.copy(layer)
            for prop in layer.state_properties:
                setattr(layer, prop, layer._initial_states.get(prop))
        new_layers.append(layer)
    return SeriesNetwork(new_layers, net._plan, net._dtype, net.TrainingInfo)


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
