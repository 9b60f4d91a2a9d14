"""testnet: a trained network's metrics on test data, as MATLAB's ``testnet`` (R2024b)."""

from __future__ import annotations

from typing import Any, Literal, Sequence

import numpy as np

from ._formats import check_format, check_input_formats
from ._inputs import read_network_inputs
from ._predict_options import check_predict_options
from ._validation import _show, fail, name_value_function
from .datastore import Datastore, datastore_data
from .dlnetwork import DLNetwork, check_runnable, output_nodes
from .losses import CLASSIFICATION_KINDS, LOSS_NAMES, make_loss
from .metrics import metric_list
from .network import check_data_lengths, infer_sizes
from .training.data import prepare_minibatch
from .training.data import chunk_rows, target_rows
from .training.trainer import LossGraph, update_metric
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
    ExecutionEnvironment: Literal["auto", "cpu", "gpu", "multi-gpu"] = "auto",
    Acceleration: Literal["auto", "mex", "none"] = "auto",
    ClassNames: Sequence | None = None,
) -> float | np.ndarray:
    """Metrics of a network on test data, as MATLAB's ``testnet``.

    Also ``testnet(net, ds, metrics)`` with a datastore whose reads give the
    inputs then the targets (the form for networks with several inputs or
    outputs, whose metrics name the output they measure with
    ``NetworkOutput``).

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
    ExecutionEnvironment : {'auto', 'cpu', 'gpu', 'multi-gpu'}, default 'auto'
        'gpu' runs on the CPU where lstmkit cannot use a GPU, with a
        warning (see :func:`lstmkit.canUseGPU`).
    Acceleration : {'auto', 'mex', 'none'}, default 'auto'
        Checked only: the kernels are always compiled.
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
    check_runnable(func, net, several=True)
    opts = check_predict_options(func, dict(locals()))
    in_fmt = check_input_formats(func, InputDataFormats)
    tgt_fmt = check_format(func, "TargetDataFormats", TargetDataFormats)
    graph = net._graph
    out_nodes = output_nodes(net)
    several = len(out_nodes) > 1
    inputs = [k for k, layer in enumerate(graph.layers) if layer.is_input]
    if isinstance(X, Datastore):            # testnet(net, ds, metrics)
        metrics = T
        Xs, Ts = datastore_data(func, X, graph, inputs, len(out_nodes))
    else:
        if several or len(inputs) > 1:
            fail(func, f"the network has inputs {net.InputNames} and outputs "
                       f"{net.OutputNames}: give its data as a datastore, testnet(net, ds, "
                       f"metrics), each read returning the inputs then the targets.", TypeError)
        Xs, Ts = [X], [T]
    items = [metrics] if isinstance(metrics, str) or not isinstance(metrics, (list, tuple)) \
        else list(metrics)
    if not items:
        fail(func, "`metrics` must name at least one metric.")
    # each item: a loss (by name) or a metric
    plan = []
    for item in items:
        if isinstance(item, str) and item.lower() in LOSS_NAMES:
            if several:
                fail(func, f"the loss {item!r} is ambiguous for a network with several outputs; "
                           f"measure each output with a metric object and its NetworkOutput.")
            plan.append(("loss",) + make_loss(func, item))
        else:
            found = metric_list(func, item, name="metrics") if item is not None else []
            if len(found) != 1:
                fail(func, f"each item of `metrics` must be a metric name, a metric object or "
                           f"a function f(Y, T). Received: {_show(item)}.", TypeError)
            plan.append(("metric", found[0]))
    metric_objs = [p[1] for p in plan if p[0] == "metric"]
    tasks = []
    for o, name in enumerate(net.OutputNames):
        mine = [m for m in metric_objs if (m.NetworkOutput == name or not several)]
        if any(p[0] == "loss" and p[1].kinds & set(CLASSIFICATION_KINDS) for p in plan) or \
                any(m.task == "classification" for m in mine):
            tasks.append("classification")
        elif mine or any(p[0] == "loss" for p in plan):
            tasks.append("regression")
        else:       # an output no metric measures: its targets say what it is
            tasks.append("classification" if TargetEncoder._looks_like_labels(Ts[o])
                         else "regression")
    data, single = read_network_inputs(func, graph, Xs, in_fmt, dtype=net._dtype)
    check_data_lengths(func, graph, data.sequences, opts["SequenceLength"])
    sizes = infer_sizes(func, graph)
    index = any(p[0] == "loss" and p[2] == "index-crossentropy" for p in plan)
    encoders = [TargetEncoder(func, task, index, int(sizes.output_sizes[k]),
                              bool(sizes.output_is_sequence[k]), tgt_fmt)
                for task, k in zip(tasks, out_nodes)]
    if ClassNames is not None:
        if several:
            fail(func, "`ClassNames` applies to a network with one output.")
        K = encoders[0].K
        classes = np.asarray(ClassNames).reshape(-1)
        if classes.dtype.kind == "O":
            classes = classes.astype(str)
        if classes.size != K or len(np.unique(classes)) != K:
            fail(func, f"`ClassNames` must name the network's {K} output classes, each once. "
                       f"Received: {_show(ClassNames)}.")
        encoders[0].classes = classes
    names = ["T"] if not several else [f"T{i + 1}" for i in range(len(out_nodes))]
    targets = [enc.encode(t, data.sequences, single, name)
               for enc, t, name in zip(encoders, Ts, names)]
    _check_metrics(func, metric_objs, tasks, targets, "loss", net.OutputNames)
    batch_targets = targets if several else targets[0]
    chunks = []
    M, N = opts["MiniBatchSize"], len(data)
    for lo in range(0, N, M):
        chunks += prepare_minibatch(np.arange(lo, min(lo + M, N)), data, batch_targets,
                                    opts["SequenceLength"], opts["SequencePaddingDirection"],
                                    net._dtype, num_total=N)
    totals = (N, target_rows(chunks))
    losses = {}
    for k, entry in enumerate(plan):
        if entry[0] == "loss":
            _check_loss_fits(func, entry[1], entry[2], graph.layers[out_nodes[0]], targets[0])
            losses[k] = TrainnetLoss(entry[1], False)
    for metric in metric_objs:
        metric._reset()
    forward = LossGraph(graph, None, False, out_nodes if several else None)
    runner = None
    if opts["ExecutionEnvironment"] == "gpu":
        from .training.device import host_output, prediction_runner
        runner = prediction_runner(func, net, max(chunk_rows(chunk) for chunk in chunks),
                                   max(chunk.n for chunk in chunks))
    num_outputs = [t.num_outputs for t in targets] if several else targets[0].num_outputs
    values = dict.fromkeys(losses, 0.0)
    for chunk in chunks:
        y, _, _ = forward.forward(chunk.x, chunk.batch, {}, False, net._dtype, runner)
        if runner is not None:
            y = host_output(y)
        for k, loss in losses.items():
            values[k] += loss(y, chunk, totals, need_grad=False)[0]
        for metric in metric_objs:
            update_metric(metric, y, chunk.target, num_outputs)
    results = [values[k] if k in losses else entry[1]._value() for k, entry in enumerate(plan)]
    return float(results[0]) if len(results) == 1 else np.array(results, dtype=float)


testnet.__test__ = False   # not a test function for pytest, when a test file imports it
