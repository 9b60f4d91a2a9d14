"""testnet: a trained network's metrics on test data, as MATLAB's ``testnet`` (R2024b)."""

from __future__ import annotations

from typing import Any, Literal, Sequence

import numpy as np

from ._data import check_sequences
from ._formats import check_format, read_inputs
from ._predict_options import check_predict_options
from ._validation import _show, fail, name_value_function
from .dlnetwork import DLNetwork, check_runnable
from .losses import CLASSIFICATION_KINDS, LOSS_NAMES, make_loss
from .metrics import metric_list
from .network import check_data_lengths, infer_sizes, network_output
from .training.data import prepare_minibatch
from .training.trainer import LossGraph
from .training.trainnet import TargetEncoder, TrainnetLoss, _check_loss_fits, _check_metrics


@name_value_function()
def testnet(
    net: DLNetwork,
    X: Any,
    T: Any,
    metrics: Any = "accuracy",
    *name_value: Any,
    MiniBatchSize: int = 128,
    SequenceLength: str | int = "longest",
    SequencePaddingDirection: Literal["right", "left"] = "right",
    SequencePaddingValue: float = 0.0,
    InputDataFormats: str = "auto",
    TargetDataFormats: str = "auto",
    ExecutionEnvironment: Literal["auto", "cpu"] = "auto",
    Acceleration: Literal["auto", "mex", "none"] = "auto",
    ClassNames: Sequence | None = None,
) -> float | np.ndarray:
    """Metrics of a network on test data, as MATLAB's ``testnet``.

    Parameters
    ----------
    net : DLNetwork
        A trained network (from :func:`trainnet`).
    X : sequences
        As for :func:`trainnet` (T-by-C by default; InputDataFormats).
    T : targets
        As for :func:`trainnet`.
    metrics : str, metric object, function, or list of them
        Metric names ('accuracy', 'fscore', 'precision', 'recall', 'auc',
        'rmse', 'mape', 'rsquared'), metric objects, functions ``f(Y, T)``,
        and trainnet's loss names ('crossentropy', 'mse', ...), each
        computed over the whole data set.
    MiniBatchSize, SequenceLength, SequencePaddingDirection, SequencePaddingValue
        As for :func:`minibatchpredict` (none of them changes a result).
    InputDataFormats, TargetDataFormats : str, default 'auto'
    ExecutionEnvironment, Acceleration : str, default 'auto'
        Checked only: lstmkit runs its compiled kernels on the CPU.
    ClassNames : sequence, optional
        lstmkit extension: the classes in the order of the network's output
        channels, for test labels that do not hold every class (MATLAB's
        categorical targets carry their categories; a pandas Categorical does
        too).  By default the sorted distinct labels, as trainnet encodes them.

    Returns
    -------
    float or ndarray
        One value per metric (a float for one metric).

    Examples
    --------
    >>> from lstmkit import *
    >>> XTrain, YTrain = japaneseVowelsTrainData()
    >>> XTrain = [x.T for x in XTrain]
    >>> layers = [sequenceInputLayer(12), lstmLayer(20, OutputMode="last"),
    ...           fullyConnectedLayer(9), softmaxLayer()]
    >>> options = trainingOptions("adam", MaxEpochs=2, MiniBatchSize=27, Verbose=False)
    >>> net = trainnet(XTrain, YTrain, layers, "crossentropy", options, seed=0)
    >>> values = testnet(net, XTrain, YTrain, ["accuracy", "crossentropy"])
    >>> values.shape
    (2,)
    """
    func = "testnet"
    check_runnable(func, net)
    opts = check_predict_options(func, dict(locals()))
    in_fmt = check_format(func, "InputDataFormats", InputDataFormats)
    tgt_fmt = check_format(func, "TargetDataFormats", TargetDataFormats)
    items = [metrics] if isinstance(metrics, str) or not isinstance(metrics, (list, tuple)) \
        else list(metrics)
    if not items:
        fail(func, "`metrics` must name at least one metric.")
    graph = net._graph
    out_node = network_output(graph)
    sizes = infer_sizes(func, graph)
    K = int(sizes.output_sizes[out_node])
    out_seq = bool(sizes.output_is_sequence[out_node])
    # each item: a loss (by name) or a metric
    plan = []
    for item in items:
        if isinstance(item, str) and item.lower() in LOSS_NAMES:
            plan.append(("loss",) + make_loss(func, item))
        else:
            plan.append(("metric", metric_list(func, item, name="metrics")[0]))
    task = "classification" if any(
        (p[0] == "loss" and p[1].kinds & set(CLASSIFICATION_KINDS)) or
        (p[0] == "metric" and p[1].task == "classification") for p in plan) else "regression"
    input_layer = graph.layers[0]
    seqs, single = read_inputs(func, input_layer, X, in_fmt)
    check_sequences(func, seqs, input_layer.InputSize, input_layer.MinLength)
    check_data_lengths(func, graph, seqs, opts["SequenceLength"])
    index = any(p[0] == "loss" and p[2] == "index-crossentropy" for p in plan)
    encoder = TargetEncoder(func, task, index, K, out_seq, tgt_fmt)
    if ClassNames is not None:
        classes = np.asarray(ClassNames).reshape(-1)
        if classes.dtype.kind == "O":
            classes = classes.astype(str)
        if classes.size != K or len(np.unique(classes)) != K:
            fail(func, f"`ClassNames` must name the network's {K} output classes, each once. "
                       f"Received: {_show(ClassNames)}.")
        encoder.classes = classes
    targets = encoder.encode(T, seqs, single)
    metric_objs = [p[1] for p in plan if p[0] == "metric"]
    _check_metrics(func, metric_objs, task, targets, "loss")
    chunks = []
    M = opts["MiniBatchSize"]
    for lo in range(0, len(seqs), M):
        chunks += prepare_minibatch(np.arange(lo, min(lo + M, len(seqs))), seqs, targets,
                                    input_layer, opts["SequenceLength"],
                                    opts["SequencePaddingDirection"], net._dtype,
                                    num_total=len(seqs))
    totals = (len(seqs), sum(c.target.shape[0] for c in chunks))
    losses = {}
    for k, entry in enumerate(plan):
        if entry[0] == "loss":
            _check_loss_fits(func, entry[1], entry[2], graph.layers[out_node], targets)
            losses[k] = TrainnetLoss(entry[1], False)
    for metric in metric_objs:
        metric._reset()
    forward = LossGraph(graph, None, False)
    values = dict.fromkeys(losses, 0.0)
    for chunk in chunks:
        y, _, _ = forward.forward(chunk.x, chunk.batch, {}, False, net._dtype)
        for k, loss in losses.items():
            values[k] += loss(y, chunk, totals, need_grad=False)[0]
        for metric in metric_objs:
            metric._update(y, chunk.target, K)
    results = [values[k] if k in losses else entry[1]._value() for k, entry in enumerate(plan)]
    return float(results[0]) if len(results) == 1 else np.array(results, dtype=float)


testnet.__test__ = False   # not a test function for pytest, when a test file imports it
