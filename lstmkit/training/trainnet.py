"""trainnet: MATLAB's training function of the dlnetwork era (R2023b), on the trainNetwork engine.

trainnet trains a :class:`lstmkit.DLNetwork` (or a layer array without an
output layer) with a loss named by ``lossFcn`` (:mod:`lstmkit.losses`) and
the metrics of ``options.Metrics`` (:mod:`lstmkit.metrics`).  Everything else
is trainNetwork's: the same graph forward and backward passes, packing,
solvers, schedules, validation, OutputFcn, checkpoints, Ctrl-C and seeding
(:class:`lstmkit.training.trainer._TrainingRun`).  What differs is the data
layout (T-by-C sequences, :mod:`lstmkit._formats`), the targets (labels are
encoded in sorted order, as MATLAB's categories), the verbose table, the
validation before the first iteration, and ``info`` (TrainingHistory and
ValidationHistory tables).
"""

from __future__ import annotations

import time
from typing import Any, Sequence

import numpy as np

from .._data import _label_array, _ndim, as_responses, categorical_parts
from .._formats import check_format, check_input_formats, sequences_tc
from .._inputs import read_network_inputs
from .._random import check_seed, seeded
from .._validation import checked_call, _show, check_nargout, fail, select_outputs
from ..datastore import Datastore, datastore_data
from ..dlnetwork import (DLNetwork, _as_layer_list, check_runnable, dlnetwork, initialize,
                         output_nodes)
from ..graph import Graph
from ..kernels.loss import softmax_cross_entropy
from ..layers.base import Layer
from ..layers.softmax import SoftmaxLayer
from ..losses import CLASSIFICATION_KINDS, LossExpression, make_loss
from ..metrics import FunctionMetric, metric_list
from ..network import SeriesNetwork, check_data_lengths, check_memory_budget, infer_sizes
from ..table import Table
from .data import Targets, check_target_range
from .options import TrainingOptions
from .schedules import check_schedule
from .trainer import (TRAINING_COPIES, LossGraph, OutputFcnInfo, ParameterVector,
                      TrainingSetup, _TrainingRun, check_dtype, check_training_layers)
from .verbose import hms


# -- the loss --------------------------------------------------------------------------------
class TrainnetLoss:
    """A loss expression evaluated on packed rows, normalized per chunk or over ``totals``.

    ``fused``: one cross-entropy term on a softmax output with class-index
    targets, computed by the kernel that also gives the gradient with respect
    to the softmax input (as trainNetwork's classification layer).
    """

    def __init__(self, expression, fused, several=False):
        self.expression = expression
        self.fused = fused
        self.several = several

    def __call__(self, y, chunk, totals=None, need_grad=True):
        if self.several:        # lists: one output, target and row count per network output
            n, rows = totals if totals is not None else \
                (chunk.n, [t.shape[0] for t in chunk.target])
            return self.expression.value_and_grad_outputs(y, chunk.target, n, rows, need_grad)
        n, rows = totals if totals is not None else (chunk.n, chunk.target.shape[0])
        if self.fused:
            term = self.expression.terms[0]
            M, K = y.shape
            weights = np.ones(K, y.dtype) if term.weights is None else \
                term.weights.astype(y.dtype)
            scale = np.full(M, term.coefficient / term.divisor(n, rows, K), y.dtype)
            dz = np.empty_like(y)
            loss, _ = softmax_cross_entropy(y, chunk.target, weights, scale, dz)
            return float(loss), dz
        return self.expression.value_and_grad(y, chunk.target, n, rows, need_grad)


def _fusable(expression, targets_kind, output_layer):
    terms = expression.terms
    return (len(terms) == 1 and terms[0].kind == "crossentropy" and terms[0].coefficient > 0
            and targets_kind in ("label", "label-sequence") and isinstance(output_layer,
                                                                            SoftmaxLayer))


# -- targets ---------------------------------------------------------------------------------
class TargetEncoder:
    """Turns trainnet's targets into training targets, with the classes fixed by the first call."""

    def __init__(self, func, task, index_targets, K, output_is_sequence, fmt):
        self.func, self.task, self.index_targets = func, task, index_targets
        self.K, self.output_is_sequence, self.fmt = K, output_is_sequence, fmt
        self.classes = None

    # labels -> class indices
    def _indices(self, labels, name):
        func = self.func
        if self.classes is None:
            if self.index_targets and labels.dtype.kind in "iu":
                self.classes = np.arange(1, self.K + 1)
            else:
                self.classes = np.unique(labels)
            if len(self.classes) != self.K:
                fail(func, f"the targets `{name}` have {len(self.classes)} classes "
                           f"({_show(self.classes.tolist())}) but the network outputs {self.K} "
                           f"channels; the last fully connected layer must have one output per "
                           f"class.")
        if labels.dtype.kind != self.classes.dtype.kind and not (
                labels.dtype.kind in "iu" and self.classes.dtype.kind in "iu"):
            fail(func, f"the labels of `{name}` are not of the kind of the training labels "
                       f"({self.classes.dtype.kind == 'U' and 'str' or 'int'}).", TypeError)
        sorter = np.argsort(self.classes, kind="stable")
        pos = np.clip(np.searchsorted(self.classes, labels, sorter=sorter), 0,
                      len(self.classes) - 1)
        pos = sorter[pos]
        bad = self.classes[pos] != labels
        if np.any(bad):
            fail(func, f"`{name}` holds labels {np.unique(labels[bad])[:5].tolist()} that are not "
                       f"among the classes {self.classes.tolist()}"
                       + (" (index-crossentropy takes class indices 1 to K)"
                          if self.index_targets else "") + ".")
        return pos.astype(np.int64)

    def _label_values(self, T, name):
        labels, categories, problem = categorical_parts(T)
        if problem:
            fail(self.func, f"`{name}` has {problem}.")
        if categories is not None:
            if self.classes is None:
                self.classes = categories
            return _label_array(self.func, name, labels)
        return None

    def encode(self, T, seqs, single, name="T"):
        func, K = self.func, self.K
        n = len(seqs)
        if self.task == "regression":
            if self._looks_like_labels(T):
                fail(func, f"the targets `{name}` are labels, but the loss is a regression loss; "
                           f"use 'crossentropy' for classification.", TypeError)
            return self._numeric(T, seqs, single, name, K)
        if not self.output_is_sequence:
            try:
                arr = None if self._looks_like_labels(T) else np.asarray(T)
            except (ValueError, TypeError):     # ragged nested lists: read as labels below
                arr = None
            if arr is not None and arr.ndim == 2 and arr.dtype.kind == "f" and \
                    arr.shape[1] == K and not self.index_targets:
                return self._numeric(T, seqs, single, name, K)      # one-hot or probabilities
            labels = self._label_values(T, name)
            if labels is None:
                if isinstance(T, (str, bytes)) or _ndim(T) == 0:
                    T = [T]
                labels = _label_array(func, name, T)
            if labels.size != n:
                fail(func, f"`{name}` has {labels.size} labels but X has {n} observations; give "
                           f"one label per observation.")
            if self.classes is None and len(np.unique(labels)) != K and not (
                    self.index_targets and labels.dtype.kind in "iu"):
                self._indices(labels, name)            # the class-count error
            return Targets("label", self._indices(labels, name), K)
        items = [T] if single and not isinstance(T, (list, tuple)) else \
            list(T.reshape(-1)) if isinstance(T, np.ndarray) and T.dtype == object else T
        if isinstance(items, (list, tuple)) and items and all(
                self._looks_like_labels(item) or _ndim(item) == 1 for item in items) and \
                not all(np.asarray(item).dtype.kind == "f" for item in items):
            if len(items) != n:
                fail(func, f"`{name}` has {len(items)} label sequences but X has {n} sequences.")
            out = []
            for i, (item, x) in enumerate(zip(items, seqs)):
                labels = self._label_values(item, f"{name}[{i}]")
                if labels is None:
                    labels = _label_array(func, f"{name}[{i}]", item)
                if labels.size != x.shape[1]:
                    fail(func, f"`{name}[{i}]` has {labels.size} labels but X[{i}] has "
                               f"{x.shape[1]} time steps; give one label per time step.")
                out.append(labels)
            if self.classes is None:
                everything = np.concatenate(out)
                if not (self.index_targets and everything.dtype.kind in "iu"):
                    self.classes = np.unique(everything)
                    if len(self.classes) != K:
                        self.classes = None
                        self._indices(everything, name)
            return Targets("label-sequence", [self._indices(lab, name) for lab in out], K)
        return self._numeric(T, seqs, single, name, K)

    @staticmethod
    def _looks_like_labels(T):
        if hasattr(T, "categories") or hasattr(getattr(T, "cat", None), "categories"):
            return True
        if isinstance(T, (str, bytes)):
            return True
        try:
            arr = np.asarray(T)
        except (TypeError, ValueError):
            return False
        if arr.dtype.kind in "USb":
            return True
        if arr.dtype.kind == "O":
            flat = arr.reshape(-1)
            return flat.size > 0 and all(isinstance(v, str) for v in flat)
        return False

    def _numeric(self, T, seqs, single, name, R):
        func = self.func
        if not self.output_is_sequence:
            fmt = self.fmt if self.fmt != "auto" else "BC"
            if sorted(fmt) != ["B", "C"]:
                fail(func, f"`TargetDataFormats` for one vector per observation must be 'BC' or "
                           f"'CB'. Received: TargetDataFormats={self.fmt!r}.")
            arr = T
            if fmt == "CB":
                arr = np.asarray(T).T
            values = as_responses(func, arr, len(seqs), name)
            if values.shape[1] != R:
                fail(func, f"the targets `{name}` have {values.shape[1]} channels but the network "
                           f"outputs {R}; the last fully connected layer must output {R}.")
            return Targets("response", values, R)
        target_seqs, _ = sequences_tc(func, T, R, self.fmt, name=name, targets=True)
        if len(target_seqs) != len(seqs):
            fail(func, f"`{name}` has {len(target_seqs)} sequences but X has {len(seqs)}.")
        for i, (t, x) in enumerate(zip(target_seqs, seqs)):
            if t.shape[1] != x.shape[1]:
                fail(func, f"`{name}[{i}]` has {t.shape[1]} time steps but X[{i}] has "
                           f"{x.shape[1]}; sequence-to-sequence targets must have the length of "
                           f"their inputs.")
            if not np.all(np.isfinite(t)):
                fail(func, f"`{name}[{i}]` contains NaN or Inf values.")
        return Targets("response-sequence", target_seqs, R)


# -- the run ---------------------------------------------------------------------------------
class TrainnetInfo:
    """MATLAB's ``TrainingInfo`` of trainnet: training and validation history tables.

    Attributes
    ----------
    TrainingHistory : Table
        Iteration, Epoch, LearnRate, Loss, and one column per metric, for
        every iteration.
    ValidationHistory : Table
        Iteration, Epoch, Loss and the metrics, for every validation (the
        first one at iteration 0, before training).
    OutputNetworkIteration : int
        The iteration of the network returned.
    StopReason : str
    """

    def __init__(self, TrainingHistory, ValidationHistory, OutputNetworkIteration, StopReason):
        self.TrainingHistory = TrainingHistory
        self.ValidationHistory = ValidationHistory
        self.OutputNetworkIteration = OutputNetworkIteration
        self.StopReason = StopReason

    def __repr__(self):
        th, vh = self.TrainingHistory, self.ValidationHistory
        return ("  TrainingInfo with properties:\n\n"
                f"           TrainingHistory: [{th.height}×{len(th.VariableNames)} table]\n"
                f"         ValidationHistory: [{vh.height}×{len(vh.VariableNames)} table]\n"
                f"    OutputNetworkIteration: {self.OutputNetworkIteration}\n"
                f"                StopReason: \"{self.StopReason}\"")


class TrainnetTable:
    """trainnet's verbose output: a MATLAB table printed row by row."""

    def __init__(self, metric_names, validation, stream=None):
        import sys
        self.stream = stream or sys.stdout
        self.columns = ["Iteration", "Epoch", "TimeElapsed", "LearnRate", "TrainingLoss"]
        if validation:
            self.columns.append("ValidationLoss")
        for name in metric_names:
            self.columns.append(f"Training{name}")
            if validation:
                self.columns.append(f"Validation{name}")
        self.validation = validation
        self.metric_names = metric_names

    def _print(self, text):
        print(text, file=self.stream, flush=True)

    def start(self, normalizing):
        self._print("    " + "    ".join(self.columns))
        self._print("    " + "    ".join("_" * len(c) for c in self.columns))

    def row(self, epoch, iteration, elapsed, learn_rate, loss, metrics, val_loss=None,
            val_metrics=None):
        cells = {"Iteration": str(iteration), "Epoch": str(epoch), "TimeElapsed": hms(elapsed),
                 "LearnRate": _g(learn_rate), "TrainingLoss": _g(loss),
                 "ValidationLoss": _g(val_loss)}
        for k, name in enumerate(self.metric_names):
            cells[f"Training{name}"] = _g(None if metrics is None else metrics[k])
            cells[f"Validation{name}"] = _g(None if val_metrics is None else val_metrics[k])
        self._print("    " + "    ".join(cells[c].rjust(len(c)) for c in self.columns))

    def finish(self, reason):
        self._print(f"Training stopped: {reason}")


def _g(value):
    """A number as MATLAB's short display shows it (5 significant digits); empty for none."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return f"{value:.5g}"


class TrainnetRun(_TrainingRun):
    """One call of trainnet."""

    validate_first_iteration = False
    func = "trainnet"

    def _objective(self):
        name = self.options.ObjectiveMetricName
        if name.lower() == "loss":
            return "loss", False
        metric = self.metrics[self.metric_names.index(name)]
        return name, bool(metric.Maximize)

    def _make_table(self):
        return TrainnetTable(self.metric_names, self.s.validation is not None)

    def _info(self, state):
        h = self.history
        last = bool(h["loss"]) and state != "start"
        validated = bool(h["val_iteration"]) and h["val_iteration"][-1] == self.iteration
        info = {"Epoch": self.epoch if self.iteration else 0, "Iteration": self.iteration,
                "TimeElapsed": time.perf_counter() - self.start,
                "LearnRate": h["rate"][-1] if last else None,
                "TrainingLoss": h["loss"][-1] if last else None,
                "ValidationLoss": h["val_loss"][-1] if validated else None}
        for name in self.metric_names:
            info[f"Training{name}"] = h["metrics"][name][-1] if last else None
            info[f"Validation{name}"] = h["val_metrics"][name][-1] if validated else None
        info["State"] = state
        return OutputFcnInfo(info)

    def _network(self, info=None):
        out = self.s.dlnet._copy(func="trainnet")
        out._dtype = self.dtype
        return out

    def _training_info(self, final_loss, final_metric, final_iteration):
        h = self.history
        n = len(h["loss"])
        training = {"Iteration": np.arange(1, n + 1), "Epoch": np.asarray(h["epoch"], np.int64),
                    "LearnRate": np.asarray(h["rate"], float),
                    "Loss": np.asarray(h["loss"], float)}
        validation = {"Iteration": np.asarray(h["val_iteration"], np.int64),
                      "Epoch": np.asarray(h["val_epoch"], np.int64),
                      "Loss": np.asarray(h["val_loss"], float)}
        for name in self.metric_names:
            training[name] = np.asarray(h["metrics"][name], float)
            validation[name] = np.asarray(h["val_metrics"][name], float)
        return TrainnetInfo(Table(training), Table(validation), int(final_iteration),
                            self.stop_reason)


# -- the public function -----------------------------------------------------------------------
def _as_dlnetwork(func, net):
    if isinstance(net, SeriesNetwork):
        fail(func, "`net` is a SeriesNetwork (from trainNetwork or assembleNetwork); trainnet "
                   "trains a dlnetwork or a layer array without an output layer: pass "
                   "net.Layers[:-1], or keep using trainNetwork.", TypeError)
    if isinstance(net, DLNetwork):
        out = net._copy(func=func)
        return out if out.Initialized else initialize(out)
    layers = _as_layer_list(func, net, name="net")
    for layer in layers:
        if layer.is_output:
            fail(func, f"trainnet takes layers without an output layer; remove '{layer.Name}' "
                       f"({layer.type_name}) and give the loss as `lossFcn` "
                       f"(\"crossentropy\" for classificationLayer, \"mse\" for regressionLayer).")
    return dlnetwork(layers)


def _check_loss_fits(func, expression, name, output_layer, targets):
    kinds = expression.kinds
    probabilities = isinstance(output_layer, SoftmaxLayer) or getattr(
        output_layer, "outputs_probabilities", False)
    if kinds & set(CLASSIFICATION_KINDS) and not probabilities:
        fail(func, f"the loss {name!r} needs probabilities, but the network's output comes from "
                   f"layer '{output_layer.Name}' ({output_layer.type_name}); end the network "
                   f"with softmaxLayer (or sigmoidLayer for 'binary-crossentropy' and "
                   f"multilabel cross-entropy).")
    if kinds - set(CLASSIFICATION_KINDS) and targets.kind in ("label", "label-sequence"):
        fail(func, f"the loss {name!r} is a regression loss but the targets are labels.",
             TypeError)
    if kinds == {"binary-crossentropy"} and targets.kind in ("label", "label-sequence"):
        fail(func, "'binary-crossentropy' takes numeric targets of 0 and 1 (one column per "
                   "label), not class labels.", TypeError)


def _check_metrics(func, metrics, tasks, targets, objective, output_names):
    """Metrics fit their output's task; with several outputs each names its NetworkOutput.

    ``tasks`` and ``targets`` are lists, one item per network output.
    """
    several = len(output_names) > 1
    for metric in metrics:
        index = 0
        if isinstance(metric, FunctionMetric):
            if several:
                fail(func, "metric functions f(Y, T) measure a network with one output; this one "
                           f"has outputs {output_names}.")
        elif metric.NetworkOutput is not None or several:
            if metric.NetworkOutput not in output_names:
                fail(func, f"the metric {metric.Name!r} must name the output it measures: "
                           f"NetworkOutput must be one of {output_names}"
                           + (" (the network has several outputs)" if several else "")
                           + f". Received: NetworkOutput={metric.NetworkOutput!r}.")
            index = output_names.index(metric.NetworkOutput)
        metric._output_index = index if several else None
        task, kind = tasks[index], targets[index].kind
        if metric.task == "classification" and task != "classification":
            fail(func, f"the metric {metric.Name!r} is a classification metric, but this is a "
                       f"regression task (a regression loss and numeric targets); use 'rmse', "
                       f"'mape' or 'rsquared'.")
        if metric.task == "regression" and kind in ("label", "label-sequence"):
            fail(func, f"the metric {metric.Name!r} is a regression metric, but the targets are "
                       f"labels; use 'accuracy', 'fscore', 'precision', 'recall' or 'auc'.")
    if objective.lower() != "loss":
        names = [m.Name for m in metrics if not isinstance(m, FunctionMetric)]
        if objective not in names:
            fail(func, f"`ObjectiveMetricName` must be 'loss' or the name of one of the Metrics "
                       f"({', '.join(repr(n) for n in names) or 'none given'}); metric "
                       f"functions cannot be the objective. Received: {objective!r}.")


def output_tasks(expression, Ts):
    """Per network output: 'classification' when a term of the loss reads it as such.

    An output no term reads (it gets no gradient) is what its targets look like.
    """
    tasks = []
    for o, T in enumerate(Ts):
        kinds = {t.kind for t in expression.terms if t.output == o}
        if not kinds:
            kinds = {"crossentropy"} if TargetEncoder._looks_like_labels(T) else {"l2"}
        tasks.append("classification" if kinds & set(CLASSIFICATION_KINDS) else "regression")
    return tasks


def make_encoders(func, expression, loss_name, sizes, out_nodes, fmt, Ts):
    """One TargetEncoder per network output (``sizes``: the graph's :func:`infer_sizes`)."""
    tasks = output_tasks(expression, Ts)
    return [TargetEncoder(func, task, loss_name == "index-crossentropy",
                          int(sizes.output_sizes[k]), bool(sizes.output_is_sequence[k]), fmt)
            for task, k in zip(tasks, out_nodes)], tasks


def _target_names(count, prefix="T"):
    return [prefix] if count == 1 else [f"{prefix}{i + 1}" for i in range(count)]


def prepare_trainnet(func, Xs, Ts, net, lossFcn, options, dtype):
    """Check every argument of trainnet and build what the run needs (no training work).

    ``Xs``: one data argument per network input; ``Ts``: one targets argument
    per output (a datastore's columns, or trainnet's X and T).
    """
    if not isinstance(options, TrainingOptions):
        fail(func, f"`options` must come from trainingOptions(...). Received: {_show(options)}.",
             TypeError)
    dt = check_dtype(func, dtype)
    dlnet = _as_dlnetwork(func, net)
    check_runnable(func, dlnet, several=True)
    graph = dlnet._graph
    layers = graph.layers
    out_nodes = output_nodes(dlnet)
    expression, loss_name = make_loss(func, lossFcn, len(out_nodes))
    check_training_layers(func, layers, options)
    sizes = infer_sizes(func, graph)
    check_memory_budget(func, layers, sizes.input_sizes, TRAINING_COPIES)
    in_fmt = check_input_formats(func, options.InputDataFormats)
    tgt_fmt = check_format(func, "TargetDataFormats", options.TargetDataFormats)
    in_names = _target_names(len(Xs), "X")
    data, single = read_network_inputs(func, graph, Xs, in_fmt, in_names)
    if len(Ts) != len(out_nodes):
        fail(func, f"the network has {len(out_nodes)} outputs ({dlnet.OutputNames}) but "
                   f"{len(Ts)} targets were given.")
    encoders, tasks = make_encoders(func, expression, loss_name, sizes, out_nodes, tgt_fmt, Ts)
    names = _target_names(len(out_nodes))
    targets = [enc.encode(T, data.sequences, single, name)
               for enc, T, name in zip(encoders, Ts, names)]
    for o, (k, t) in enumerate(zip(out_nodes, targets)):
        terms = LossExpression([term for term in expression.terms if term.output == o])
        if terms.terms:
            _check_loss_fits(func, terms, loss_name, layers[k], t)
        for term in terms.terms:
            if term.weights is not None and term.weights.size != t.num_outputs:
                fail(func, f"the loss weights have {term.weights.size} values but the network "
                           f"output {names[o]} has {t.num_outputs} channels "
                           f"(WeightsFormat='C': one weight per channel).")
    validation = None
    if options.ValidationData is not None:
        Xv, Tv = _validation_arguments(func, options.ValidationData, dlnet, len(Xs))
        vdata, vsingle = read_network_inputs(func, graph, Xv, in_fmt,
                                             [n + "Validation" for n in in_names])
        validation = (vdata, [enc.encode(T, vdata.sequences, vsingle, name + "Validation")
                              for enc, T, name in zip(encoders, Tv, names)])
    any_sequence_output = any(sizes.output_is_sequence[k] for k in out_nodes)
    check_data_lengths(func, graph, data.sequences, options.SequenceLength, any_sequence_output)
    if validation is not None:
        check_data_lengths(func, graph, validation[0].sequences)
    metrics = metric_list(func, options.Metrics)
    _check_metrics(func, metrics, tasks, targets, options.ObjectiveMetricName,
                   dlnet.OutputNames)
    schedule = check_schedule(func, options.LearnRateSchedule, options.LearnRateDropFactor,
                              options.LearnRateDropPeriod)
    normalizing = False
    for layer, arrays in zip(data.layers, data.arrays):
        if getattr(layer, "Normalization", "none") != "none" and (
                options.ResetInputNormalization or bool(layer._missing_statistics())):
            layer._compute_statistics(arrays)
            normalizing = True
    for layer, arrays, name in zip(data.layers, data.arrays, in_names):
        layer._check_range(func, arrays, dt, name)
    for t, name in zip(targets, names):
        check_target_range(func, t, dt, name)
    if validation is not None:
        for layer, arrays, name in zip(validation[0].layers, validation[0].arrays, in_names):
            layer._check_range(func, arrays, dt, name + "Validation")
    several = len(out_nodes) > 1
    fused = not several and _fusable(expression, targets[0].kind, layers[out_nodes[0]])
    loss_graph = LossGraph(Graph(layers, dlnet._connections, func=func),
                           TrainnetLoss(expression, fused, several), fused,
                           out_nodes if several else None)
    params = ParameterVector(loss_graph.graph.layers, dt)
    if not several:
        targets = targets[0]
        if validation is not None:
            validation = (validation[0], validation[1][0])
    return TrainingSetup(layers=layers, plan=None, data=data, targets=targets, params=params,
                         net=loss_graph, normalizing=normalizing, validation=validation,
                         schedule=schedule, metrics=metrics,
                         num_outputs=([t.num_outputs for t in targets] if several
                                      else targets.num_outputs),
                         dlnet=dlnet)


def _validation_arguments(func, value, dlnet, num_inputs):
    """trainnet's ValidationData as (inputs, targets): a pair, (X1..XM, T1..TN) or a datastore."""
    M, N = num_inputs, len(dlnet.OutputNames)
    if isinstance(value, Datastore):
        return datastore_data(func, value, dlnet._graph,
                              [k for k, layer in enumerate(dlnet._graph.layers) if layer.is_input],
                              N, name="ValidationData")
    if len(value) != M + N:
        fail(func, f"`ValidationData` must hold the network's {M} input(s) and then its {N} "
                   f"target(s): {M + N} items. Received: {len(value)}.")
    return list(value[:M]), list(value[M:])


@checked_call
def trainnet(X: Any, T: Any, net: DLNetwork | Sequence[Layer], lossFcn: Any = None,
             options: TrainingOptions | None = None, *, dtype: str = "float32",
             seed: int | None = None, nargout: int = 1) -> DLNetwork | tuple:
    """Train a network, as MATLAB's ``trainnet`` (R2023b).

    Also ``trainnet(ds, net, lossFcn, options)`` with a datastore (MATLAB's
    form for networks with several inputs or outputs): each read returns the
    inputs in the order of ``net.InputNames``, then the targets in the order
    of ``net.OutputNames`` (:func:`combine` of :func:`arrayDatastore`).

    Parameters
    ----------
    X : sequences
        The trainnet era's layout: a list of T-by-C arrays (MATLAB's cell
        array), a numeric T-by-C-by-N array, or one T-by-C sequence; any
        other layout with ``options.InputDataFormats`` (such as 'CTB' for a
        list of C-by-T arrays).
    T : targets
        Classification: N labels (str, int, or a pandas Categorical whose
        categories fix the class order), or a list of label sequences (one
        label per time step); classes are sorted, as MATLAB's categories, and
        their number must equal the network's outputs; one-hot (probability)
        numeric targets are accepted too.  Regression: an N-by-R array, or a
        list of T-by-R arrays (``TargetDataFormats`` for other layouts).
    net : DLNetwork or list of layers
        A layer array without an output layer, or a dlnetwork (not modified:
        the trained network is a new one).
    lossFcn : str or callable
        "crossentropy", "index-crossentropy", "binary-crossentropy",
        "mse"/"mean-squared-error"/"l2loss", "mae"/"mean-absolute-error"/
        "l1loss", "huber" (see :mod:`lstmkit.losses` for their normalization),
        or a function ``f(Y, T)`` (``f(Y1, ..., Yn, T1, ..., Tn)`` for a
        network with n outputs) built from :func:`crossentropy`,
        :func:`l2loss`, :func:`l1loss`, :func:`huber`, :func:`mse` with
        constant factors, e.g. ``lambda Y, T: crossentropy(Y, T, w,
        WeightsFormat="C")`` for class weights.
    options : TrainingOptions
        From :func:`trainingOptions`; Metrics, ObjectiveMetricName,
        InputDataFormats and TargetDataFormats apply to trainnet.
    dtype : {'float32', 'float64'}, default 'float32'
    seed : int, optional
        lstmkit extension: seed initialization, shuffling and dropout for
        this call only (as trainNetwork's).
    nargout : {1, 2}, default 1
        2 returns ``(net, info)``, MATLAB's ``[net, info] = trainnet(...)``.

    Returns
    -------
    net : DLNetwork
        The trained network.
    info : TrainnetInfo
        With ``nargout=2``: TrainingHistory, ValidationHistory,
        OutputNetworkIteration, StopReason.

    Examples
    --------
    >>> from lstmkit import *
    >>> XTrain, YTrain = japaneseVowelsTrainData()
    >>> XTrain = [x.T for x in XTrain]              # the trainnet era's T-by-C sequences
    >>> layers = [sequenceInputLayer(12), lstmLayer(20, OutputMode="last"),
    ...           fullyConnectedLayer(9), softmaxLayer()]
    >>> options = trainingOptions("adam", MaxEpochs=2, MiniBatchSize=27, Metrics="accuracy",
    ...                           Verbose=False)
    >>> net, info = trainnet(XTrain, YTrain, layers, "crossentropy", options, seed=0, nargout=2)
    >>> info.TrainingHistory.VariableNames
    ['Iteration', 'Epoch', 'LearnRate', 'Loss', 'Accuracy']
    >>> info.StopReason
    'Max epochs completed'
    """
    func = "trainnet"
    nargout = check_nargout(func, nargout, 2)
    from_store = isinstance(X, Datastore)
    if from_store:                      # trainnet(ds, net, lossFcn, options)
        if options is not None:
            fail(func, "with a datastore, trainnet takes (ds, net, lossFcn, options); received "
                       "one argument more.", TypeError)
        X, T, net, lossFcn, options = X, None, T, net, lossFcn
        form = "trainnet(ds, net, lossFcn, options)"
    else:
        form = "trainnet(X, T, net, lossFcn, options)"
        if isinstance(T, DLNetwork) or (isinstance(T, (list, tuple)) and T and
                                        all(isinstance(t, Layer) for t in T)):
            fail(func, f"the second argument is a network, so the first must be a datastore "
                       f"(trainnet(ds, net, lossFcn, options), with combine(arrayDatastore(X), "
                       f"arrayDatastore(T)) for instance), or give the targets: {form}. "
                       f"Received: {_show(X)} as the first argument.", TypeError)
    if lossFcn is None:
        fail(func, f"`lossFcn` is missing: {form}.", TypeError)
    if options is None:
        fail(func, f"`options` is missing: {form} with options from trainingOptions(...).",
             TypeError)
    seed = check_seed(func, seed)
    with seeded(seed):
        if from_store:
            dlnet = _as_dlnetwork(func, net)
            check_runnable(func, dlnet, several=True)
            inputs = [k for k, layer in enumerate(dlnet._graph.layers) if layer.is_input]
            Xs, Ts = datastore_data(func, X, dlnet._graph, inputs, len(dlnet.OutputNames))
            net = dlnet
        else:
            Xs, Ts = [X], [T]
        setup = prepare_trainnet(func, Xs, Ts, net, lossFcn, options, dtype)
        run = TrainnetRun(setup, options, pool_args=(Xs, Ts, net, lossFcn))
        trained = run.run()
    return select_outputs((trained, run.info), nargout)
