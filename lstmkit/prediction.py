"""predict, classify and assembleNetwork."""

from __future__ import annotations

from typing import Any, Literal, Sequence

import numpy as np

from ._data import check_sequences, read_era_inputs
from ._predict_options import PARALLEL, check_predict_options
from ._typing import Sequences
from ._validation import checked_call, _show, check_nargout, fail, name_value_function, select_outputs
from .dlarrays import DLArray
from .dlnetwork import DLNetwork
from .dlpredict import predict_dlnetwork, reset_dlnetwork
from .layers.base import Layer
from .layers.output import ClassificationOutputLayer
from .layers.recurrent import RecurrentLayer
from .network import (SeriesNetwork, check_carried_state, check_data_lengths, check_layers,
                      check_state_columns, layers_and_connections, make_network,
                      predict_batches)
from .training.trainer import check_dtype


def _check_network(func, net):
    if not isinstance(net, SeriesNetwork):
        fail(func, f"`net` must be a network from trainNetwork or assembleNetwork. "
                   f"Received: {_show(net)}.", TypeError)


def _outputs(func, net, X, opts, keep_states=False):
    _check_network(func, net)
    opts = check_predict_options(func, opts, parallel=not keep_states)
    input_layer = net.Layers[0]
    seqs, single = read_era_inputs(func, input_layer, X)
    span = check_sequences(func, seqs, input_layer.InputSize, input_layer.MinLength)
    input_layer._check_range(func, seqs, net._dtype, span=span)
    check_state_columns(func, net.Layers, len(seqs))
    if isinstance(opts["SequenceLength"], int):
        check_carried_state(func, net.Layers, "SequenceLength as an integer (chunks)")
    check_data_lengths(func, net._graph, seqs, opts["SequenceLength"])
    if opts["ExecutionEnvironment"] in PARALLEL:
        from .parallel import predict_on_pool
        out, _ = predict_on_pool(func, net, seqs, opts["MiniBatchSize"], opts["SequenceLength"],
                                 opts["SequencePaddingDirection"])
        return out, single
    runner = None
    if opts["ExecutionEnvironment"] == "gpu":
        from .training.device import largest_batch, prediction_runner
        runner = prediction_runner(func, net, *largest_batch(
            [s.shape[1] for s in seqs], opts["MiniBatchSize"], opts["SequenceLength"]))
    out, final = predict_batches(net, seqs, opts["MiniBatchSize"], opts["SequenceLength"],
                                 opts["SequencePaddingDirection"], keep_states, runner=runner)
    return (out, single, final) if keep_states else (out, single)


@name_value_function(variadic=True)
def predict(
    net: SeriesNetwork | DLNetwork,
    X: Sequences,
    *more_inputs: Any,
    MiniBatchSize: int = 128,
    SequenceLength: str | int = "longest",
    SequencePaddingValue: float = 0.0,
    SequencePaddingDirection: Literal["right", "left"] = "right",
    ExecutionEnvironment: Literal["auto", "cpu", "gpu", "multi-gpu", "parallel",
                                  "parallel-cpu", "parallel-auto"] = "auto",
    Acceleration: Literal["auto", "mex", "none"] = "auto",
    InputDataFormats: str = "auto",
    nargout: int = 1,
) -> Any:
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
    ExecutionEnvironment : {'auto', 'cpu', 'gpu', 'multi-gpu', 'parallel', 'parallel-cpu', 'parallel-auto'}, default 'auto'
        'parallel' (and its two aliases; an lstmkit extension: MATLAB's predict
        has no such option) splits the observations over the parallel pool's
        workers (:func:`lstmkit.parpool`; :func:`lstmkit.gcp` starts one):
        the same results (bit for bit from the recurrent kernels; BLAS may
        round a dense product in the last bit).  Not with states of several
        observations (from stateful prediction).
    Acceleration : {'auto', 'mex', 'none'}, default 'auto'
        Accepted for compatibility; the kernels are always compiled.
    InputDataFormats : str, default 'auto'
        For a dlnetwork: the layout of X ('auto': T-by-C sequences, a list or a
        T-by-C-by-N array; or letters such as 'CTB').
    *more_inputs
        For a dlnetwork with several inputs, MATLAB's ``predict(net, X1, ...,
        XM)``: the other inputs' data, in the order of ``net.InputNames``.
    nargout : {1, 2}, default 1
        For a dlnetwork, 2 also returns the state, MATLAB's ``[Y, state] =
        predict(net, X)``; set it with ``net.State = state``.  A dlnetwork
        with n outputs: up to n returns the first outputs (in the order of
        ``net.OutputNames``), n + 1 the outputs and the state.

    Returns
    -------
    Y : ndarray or list of ndarray
        A network from trainNetwork: N-by-K scores (classification) or N-by-R
        responses (regression); for sequence output a list of K-by-T / R-by-T
        arrays; one C-by-T sequence gives a 1-by-K array or one K-by-T array.
        A dlnetwork: the trainnet era's layout, T-by-K for one T-by-C
        sequence (1-by-K for a sequence-to-one network), N-by-K or
        T-by-K-by-N for a numeric array, a list of T-by-K for a list.
    state : Table
        With ``nargout=2`` (dlnetwork): Layer, Parameter, Value (H-by-N) of
        every recurrent state after the sequences' last time steps.

    Examples
    --------
    >>> import numpy as np
    >>> from lstmkit import *
    >>> net = assembleNetwork([sequenceInputLayer(2),
    ...                        fullyConnectedLayer(1, Weights=[[1.0, -1.0]], Bias=[0.0]),
    ...                        regressionLayer()])
    >>> predict(net, np.array([[1.0, 2.0, 3.0], [0.5, 0.5, 0.5]]))    # one 2-by-3 sequence
    array([[0.5, 1.5, 2.5]], dtype=float32)

    On a dlnetwork, MATLAB's step-by-step forecasting loop with the state:

    >>> dl = dlnetwork([sequenceInputLayer(1), lstmLayer(8), fullyConnectedLayer(1)])
    >>> series = np.sin(np.arange(30.0) / 4)[:, None]             # T-by-C
    >>> dl = resetState(dl)
    >>> Y, state = predict(dl, series[:20], nargout=2)
    >>> dl.State = state
    >>> y, state = predict(dl, Y[-1:], nargout=2)                  # one step, fed back
    >>> y.shape
    (1, 1)
    """
    opts = dict(locals())
    func = "predict"
    if isinstance(net, DLNetwork) and isinstance(X, DLArray) and not more_inputs:
        from .dlforward import traced_forward     # a custom loop's prediction: a dlarray out
        from .dlnetwork import check_runnable
        check_runnable(func, net)
        return traced_forward(func, net, X, check_nargout(func, nargout, 2), training=False)
    if isinstance(net, DLNetwork):
        checked = check_predict_options(func, opts, parallel=True)
        return predict_dlnetwork(net, X, more_inputs, InputDataFormats, nargout,
                                 checked["MiniBatchSize"], checked["SequenceLength"],
                                 checked["SequencePaddingDirection"],
                                 checked["ExecutionEnvironment"])
    if more_inputs:
        fail(func, f"a network from trainNetwork has one input; received {1 + len(more_inputs)} "
                   f"data arguments.", TypeError)
    check_nargout(func, nargout, 1)
    if not (isinstance(InputDataFormats, str) and InputDataFormats.lower() == "auto"):
        fail(func, "`InputDataFormats` is for a dlnetwork (T-by-C sequences); a network from "
                   "trainNetwork takes C-by-T sequences.")
    out, single = _outputs(func, net, X, opts)
    return _shape_output(net, out, single)


def _shape_output(net, out, single):
    if net._output_is_sequence:
        return out[0] if single else out
    return out


def _labels(net, out, single):
    classes = net.Classes
    if net._output_is_sequence:
        labels = [classes[np.argmax(s, axis=0)] for s in out]
        return labels[0] if single else labels
    labels = classes[np.argmax(out, axis=1)]
    out_layer = [layer for layer in net.Layers if layer.is_output][0]
    if getattr(out_layer, "_labels_float", False):     # float labels (1.0, 2.0) stay float
        labels = labels.astype(np.float64)
    if getattr(out_layer, "_labels_as_column", False) and not single:
        labels = labels.reshape(-1, 1)    # N-by-1, as the labels it was trained on (MATLAB's
    return labels                         # column): YPred == YTest compares element by element


def _check_classification(func, net):
    if not isinstance(net.Layers[-1], ClassificationOutputLayer):
        fail(func, f"the network is a regression network (its output layer "
                   f"'{net.Layers[-1].Name}' is a regressionLayer); use "
                   f"{'predict' if func == 'classify' else 'predictAndUpdateState'}(net, X) for "
                   f"its responses.")


@name_value_function()
def classify(
    net: SeriesNetwork,
    X: Sequences,
    *name_value: Any,
    MiniBatchSize: int = 128,
    SequenceLength: str | int = "longest",
    SequencePaddingValue: float = 0.0,
    SequencePaddingDirection: Literal["right", "left"] = "right",
    ExecutionEnvironment: Literal["auto", "cpu", "gpu", "multi-gpu", "parallel",
                                  "parallel-cpu", "parallel-auto"] = "auto",
    Acceleration: Literal["auto", "mex", "none"] = "auto",
    nargout: int = 1,
) -> Any:
    """Predict class labels, as MATLAB's ``classify``.

    Takes the options of :func:`predict`.

    Parameters
    ----------
    net : SeriesNetwork
        A network from trainNetwork, assembleNetwork, loadNetwork or
        importONNXNetwork.
    X : sequences
        As for :func:`trainNetwork`: a list of C-by-T arrays, one C-by-T array
        or an N-by-C-by-T array.
    MiniBatchSize, SequenceLength, SequencePaddingDirection, SequencePaddingValue, ExecutionEnvironment, Acceleration
        As for :func:`predict`.
    nargout : {1, 2}, default 1
        MATLAB's number of outputs: 2 returns ``(YPred, scores)``, MATLAB's
        ``[YPred, scores] = classify(...)``.

    Returns
    -------
    YPred : ndarray or list of ndarray
        An array of N labels, of the training labels' type; for a network with
        sequence output a list of 1-D label arrays (one label per time step).
        When X is one C-by-T sequence of a sequence-output network: one array.
    scores : ndarray or list of ndarray
        With ``nargout=2``: the class scores, as :func:`predict` returns them.

    Examples
    --------
    >>> import numpy as np
    >>> from lstmkit import *
    >>> XTrain, YTrain = japaneseVowelsTrainData()
    >>> layers = [sequenceInputLayer(12), lstmLayer(20, OutputMode="last"),
    ...           fullyConnectedLayer(9), softmaxLayer(), classificationLayer()]
    >>> options = trainingOptions("adam", MaxEpochs=2, MiniBatchSize=27, Verbose=False)
    >>> net = trainNetwork(XTrain, YTrain, layers, options, seed=0)
    >>> YPred = classify(net, XTrain[:5], MiniBatchSize=27)
    >>> YPred.shape, YPred.dtype.kind
    ((5,), 'U')
    >>> YPred, scores = classify(net, XTrain[:5], nargout=2)    # [YPred, scores] = classify(...)
    >>> scores.shape
    (5, 9)
    """
    opts = dict(locals())
    func = "classify"
    nargout = check_nargout(func, nargout, 2)
    _check_network(func, net)
    _check_classification(func, net)
    out, single = _outputs(func, net, X, opts)
    return select_outputs((_labels(net, out, single), _shape_output(net, out, single)), nargout)


def _updated(func, net, X, opts):
    _check_network(func, net)
    if not any(isinstance(layer, RecurrentLayer) for layer in net.Layers):
        fail(func, "the network has no recurrent layer (lstmLayer, gruLayer): it has no state to "
                   "update. Use predict instead.")
    check_carried_state(func, net.Layers, "stateful prediction")
    out, single, final = _outputs(func, net, X, opts, keep_states=True)
    new_layers = []
    for k, layer in enumerate(net.Layers):
        state = final.get(k)
        layer = layer.copy()             # MATLAB's networks are values: nothing is shared
        if state is not None:
            for prop, arr in zip(layer.state_properties, state):
                setattr(layer, prop, np.array(arr.T, dtype=np.float64))
        new_layers.append(layer)
    updated = make_network(new_layers, net._plan, net._dtype, net.TrainingInfo,
                           net._connections)
    return updated, out, single


@name_value_function()
def predictAndUpdateState(
    net: SeriesNetwork,
    X: Sequences,
    *name_value: Any,
    MiniBatchSize: int = 128,
    SequenceLength: str | int = "longest",
    SequencePaddingValue: float = 0.0,
    SequencePaddingDirection: Literal["right", "left"] = "right",
    ExecutionEnvironment: Literal["auto", "cpu", "gpu", "multi-gpu"] = "auto",
    Acceleration: Literal["auto", "mex", "none"] = "auto",
    nargout: int = 1,
) -> SeriesNetwork | tuple:
    """Predict and update the network state, as MATLAB's ``predictAndUpdateState``.

    Takes the options of :func:`predict`.  Each recurrent layer starts from
    its stored ``HiddenState`` (and ``CellState``) and the returned network
    stores the states after each sequence's last time step: H-by-1 for one
    observation, H-by-N for N (a later call must then pass N observations, or
    :func:`resetState` first).  Feeding a sequence one time step at a time
    gives the same outputs as one call on the whole sequence.  The network
    passed in is not changed.

    Parameters
    ----------
    net : SeriesNetwork
        A network from trainNetwork, assembleNetwork, loadNetwork or
        importONNXNetwork.
    X : sequences
        As for :func:`trainNetwork`: a list of C-by-T arrays, one C-by-T array
        or an N-by-C-by-T array.
    MiniBatchSize, SequenceLength, SequencePaddingDirection, SequencePaddingValue, ExecutionEnvironment, Acceleration
        As for :func:`predict`.
    nargout : {1, 2}, default 1
        MATLAB's number of outputs: 1 returns the updated network (MATLAB's
        ``net = predictAndUpdateState(net, X)``), 2 returns ``(net, Y)``
        (``[net, Y] = predictAndUpdateState(net, X)``).

    Returns
    -------
    net : SeriesNetwork
        The network with updated states.
    Y : ndarray or list of ndarray
        With ``nargout=2``: the predictions, as :func:`predict` returns them.

    Examples
    --------
    Closed-loop forecasting, one time step at a time (MATLAB's recipe):

    >>> import numpy as np
    >>> from lstmkit import *
    >>> t = np.arange(200.0)
    >>> X, Y = np.sin(t[:-1] / 8)[None, :], np.sin(t[1:] / 8)[None, :]
    >>> layers = [sequenceInputLayer(1), lstmLayer(16), fullyConnectedLayer(1), regressionLayer()]
    >>> net = trainNetwork(X, Y, layers, trainingOptions("adam", MaxEpochs=5, Verbose=False), seed=0)
    >>> net = resetState(net)
    >>> net = predictAndUpdateState(net, X)             # warm up on the observed series
    >>> net, step = predictAndUpdateState(net, Y[:, -1:], nargout=2)
    >>> for _ in range(3):                               # then feed back each prediction
    ...     net, step = predictAndUpdateState(net, step, nargout=2)
    >>> step.shape
    (1, 1)
    """
    opts = dict(locals())
    func = "predictAndUpdateState"
    nargout = check_nargout(func, nargout, 2)
    net2, out, single = _updated(func, net, X, opts)
    return select_outputs((net2, _shape_output(net, out, single)), nargout)


@name_value_function()
def classifyAndUpdateState(
    net: SeriesNetwork,
    X: Sequences,
    *name_value: Any,
    MiniBatchSize: int = 128,
    SequenceLength: str | int = "longest",
    SequencePaddingValue: float = 0.0,
    SequencePaddingDirection: Literal["right", "left"] = "right",
    ExecutionEnvironment: Literal["auto", "cpu", "gpu", "multi-gpu"] = "auto",
    Acceleration: Literal["auto", "mex", "none"] = "auto",
    nargout: int = 1,
) -> SeriesNetwork | tuple:
    """Classify and update the network state, as MATLAB's ``classifyAndUpdateState``.

    Takes the options of :func:`predict`; the states are handled as by
    :func:`predictAndUpdateState`.  As in MATLAB, one output is the updated
    network; ``nargout=2`` adds the labels and ``nargout=3`` the scores.

    Parameters
    ----------
    net : SeriesNetwork
        A network from trainNetwork, assembleNetwork, loadNetwork or
        importONNXNetwork.
    X : sequences
        As for :func:`trainNetwork`: a list of C-by-T arrays, one C-by-T array
        or an N-by-C-by-T array.
    MiniBatchSize, SequenceLength, SequencePaddingDirection, SequencePaddingValue, ExecutionEnvironment, Acceleration
        As for :func:`predict`.
    nargout : {1, 2, 3}, default 1
        MATLAB's number of outputs.

    Returns
    -------
    net : SeriesNetwork
        The network with updated states (see :func:`predictAndUpdateState`).
    labels : ndarray or list of ndarray
        With ``nargout >= 2``: as :func:`classify` returns them.
    scores : ndarray or list of ndarray
        With ``nargout=3``: as :func:`predict` returns them.

    Examples
    --------
    >>> import numpy as np
    >>> from lstmkit import *
    >>> X = [np.random.default_rng(k).standard_normal((3, 20)) for k in range(8)]
    >>> Y = [np.where(x[0] > 0, "up", "down") for x in X]     # a label per time step
    >>> layers = [sequenceInputLayer(3), lstmLayer(8), fullyConnectedLayer(2), softmaxLayer(),
    ...           classificationLayer()]
    >>> net = trainNetwork(X, Y, layers, trainingOptions("adam", MaxEpochs=2, Verbose=False),
    ...                    seed=0)
    >>> net, labels, scores = classifyAndUpdateState(net, X[0][:, :5], nargout=3)  # 5 steps
    >>> labels.shape, scores.shape
    ((5,), (2, 5))
    """
    opts = dict(locals())
    func = "classifyAndUpdateState"
    nargout = check_nargout(func, nargout, 3)
    _check_network(func, net)
    _check_classification(func, net)
    net2, out, single = _updated(func, net, X, opts)
    return select_outputs((net2, _labels(net, out, single), _shape_output(net, out, single)),
                          nargout)


@checked_call
def resetState(net: SeriesNetwork | DLNetwork) -> SeriesNetwork | DLNetwork:
    """Reset the states of the recurrent layers, as MATLAB's ``resetState``.

    Parameters
    ----------
    net : SeriesNetwork or DLNetwork
        A network, typically one returned by :func:`predictAndUpdateState`, or
        a dlnetwork whose State was set.

    Returns
    -------
    SeriesNetwork
        A network whose HiddenState and CellState are the initial values the
        layers had before any :func:`predictAndUpdateState` (zeros unless given
        when the layer was created).  ``net`` itself is not changed.

    Examples
    --------
    >>> import numpy as np
    >>> from lstmkit import *
    >>> net = assembleNetwork([sequenceInputLayer(1), lstmLayer(
    ...     2, InputWeights=np.ones((8, 1)), RecurrentWeights=np.zeros((8, 2)), Bias=np.zeros(8)),
    ...     fullyConnectedLayer(1, Weights=[[1.0, 1.0]], Bias=[0.0]), regressionLayer()])
    >>> net = predictAndUpdateState(net, np.ones((1, 4)))
    >>> bool(np.any(net.Layers[1].HiddenState != 0))
    True
    >>> net = resetState(net)
    >>> print(net.Layers[1].HiddenState)
    None
    """
    if isinstance(net, DLNetwork):
        return reset_dlnetwork(net)
    _check_network("resetState", net)
    new_layers = []
    for layer in net.Layers:
        layer = layer.copy()             # MATLAB's networks are values: nothing is shared
        if isinstance(layer, RecurrentLayer):
            layer._restore_initial_states()
        new_layers.append(layer)
    return make_network(new_layers, net._plan, net._dtype, net.TrainingInfo, net._connections)


@checked_call
def assembleNetwork(layers: Sequence[Layer], *, dtype: str = "float32") -> SeriesNetwork:
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

    Examples
    --------
    >>> import numpy as np
    >>> from lstmkit import *
    >>> H, C = 4, 3
    >>> layers = [sequenceInputLayer(C),
    ...           lstmLayer(H, OutputMode="last", InputWeights=np.zeros((4 * H, C)),
    ...                     RecurrentWeights=np.zeros((4 * H, H)), Bias=np.zeros(4 * H)),
    ...           fullyConnectedLayer(2, Weights=np.zeros((2, H)), Bias=[0.0, 0.0]),
    ...           softmaxLayer(), classificationLayer(Classes=["a", "b"])]
    >>> net = assembleNetwork(layers)
    >>> classify(net, np.ones((C, 5))).tolist()     # equal scores: the first class
    ['a']
    """
    func = "assembleNetwork"
    dt = check_dtype(func, dtype)
    layers, connections = layers_and_connections(func, layers)
    plan = check_layers(func, layers, connections=connections)
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
    return make_network(layers, plan, dt, None, connections)
