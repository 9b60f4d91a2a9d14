"""trainNetwork: the training loop, validation, stopping, checkpoints and progress output."""

from __future__ import annotations

import datetime
import os
import types
import time
import warnings
from typing import Sequence

import numpy as np

from .._data import check_sequences, read_era_inputs
from .._device import resolve_environment
from .._files import check_writable_folder
from .._inputs import InputData
from .._random import check_seed, global_rng, seeded
from .._tuning import ThreadTuner
from .._typing import Sequences, Targets
from .._validation import checked_call, _show, check_nargout, fail, select_outputs
from ..kernels import solvers as solver_kernels
from ..layers.base import Layer, expand_factor
from ..layers.custom import check_trainable
from ..layers.recurrent import RecurrentLayer
from ..graph import Graph
from ..layers.dropout import DropoutLayer
from ..layers.normalization import BatchNormalizationLayer
from ..layers.softmax import SoftmaxLayer
from ..network import (SeriesNetwork, check_carried_state, check_data_lengths, check_layers,
                       check_memory_budget,
                       compute_nodes, layers_and_connections, make_network, network_output,
                       predict_batches,
                       truncate_states)
from ..metrics import AccuracyMetric, RMSEMetric
from .data import (check_target_range, chunk_rows, make_targets, prepare_minibatch,
                   target_rows)
from .info import TrainingInfo
from .options import PARALLEL, TrainingOptions
from .schedules import ScheduleRunner, check_schedule
from .device import DeviceLost, device_forward_backward, is_device_error
from .shards import prepare_shares, shortest_length
from .verbose import VerboseTable
from .workers import WorkerLost

#: float64-sized copies of the parameters training holds (values, gradient, two solver states,
#: learn-rate and L2 factors, the initial values), for the memory check before anything is made
TRAINING_COPIES = 7

_SOLVER_CODES = {"sgdm": solver_kernels.SGDM, "adam": solver_kernels.ADAM,
                 "rmsprop": solver_kernels.RMSPROP}
_THRESHOLD_CODES = {"l2norm": solver_kernels.THRESHOLD_L2NORM,
                    "global-l2norm": solver_kernels.THRESHOLD_GLOBAL_L2NORM,
                    "absolute-value": solver_kernels.THRESHOLD_ABSOLUTE_VALUE}


def check_dtype(func, dtype):
    """'float32'/'single' or 'float64'/'double' (also numpy dtypes)."""
    names = {"single": np.float32, "float32": np.float32, "double": np.float64,
             "float64": np.float64}
    dt = None
    if isinstance(dtype, str):
        dt = names.get(dtype.lower())
    elif dtype in (np.float32, np.float64) or isinstance(dtype, np.dtype):
        dt = dtype              # (numpy reads None and many other values as float64: not here)
    dt = np.dtype(dt) if dt is not None else None
    if dt is None or dt.type not in (np.float32, np.float64):
        fail(func, f"`dtype` must be 'float32' (MATLAB's single, the default) or 'float64'. "
                   f"Received: dtype={_show(dtype)}.")
    return dt


class ParameterVector:
    """All learnables of a network's layers in one flat vector.

    Each layer's learnable properties become views into ``theta``, and
    ``grads[k][name]`` are the matching views into ``grad`` (``k`` the layer's
    position in ``layers``: its graph node), so the layers' backward passes
    write the gradient where the solver kernel reads it.
    """

    def __init__(self, layers, dtype):
        entries = [(i, lb, np.shape(getattr(layer, lb.name)))
                   for i, layer in enumerate(layers) for lb in layer.learnables]
        sizes = [int(np.prod(shape)) for _, _, shape in entries]
        self.segments = np.zeros(len(entries) + 1, np.int64)
        np.cumsum(sizes, out=self.segments[1:])
        P = int(self.segments[-1])
        self.theta = np.empty(P, dtype)
        self.grad = np.zeros(P, dtype)
        self.lr_factor = np.empty(P, dtype)
        self.l2_factor = np.empty(P, dtype)
        self.grads = [{} for _ in layers]
        self._entries = entries
        self._layers = layers
        for (i, lb, shape), lo, hi in zip(entries, self.segments[:-1], self.segments[1:]):
            layer = layers[i]
            self.theta[lo:hi] = np.asarray(getattr(layer, lb.name)).reshape(-1)
            setattr(layer, lb.name, self.theta[lo:hi].reshape(shape))
            self.grads[i][lb.name] = self.grad[lo:hi].reshape(shape)
            self.lr_factor[lo:hi] = expand_factor(getattr(layer, lb.lr_factor), shape,
                                                  lb.blocks, lb.repeats).reshape(-1)
            self.l2_factor[lo:hi] = expand_factor(getattr(layer, lb.l2_factor), shape,
                                                  lb.blocks, lb.repeats).reshape(-1)

    def detach(self):
        """Give every layer its own copy of its learnables (no view into ``theta``)."""
        for (i, lb, shape), lo, hi in zip(self._entries, self.segments[:-1], self.segments[1:]):
            setattr(self._layers[i], lb.name, self.theta[lo:hi].reshape(shape).copy())


class OutputLayerLoss:
    """The loss of a trainNetwork output layer (classificationLayer, regressionLayer).

    Each row's term carries the chunk's ``row_scale`` (MATLAB's
    normalization, computed when the mini-batch was packed).
    """

    def __init__(self, layer):
        self.layer = layer

    def __call__(self, y, chunk, totals=None, need_grad=True):
        loss, dy, _ = self.layer._loss(y, chunk.target, chunk.row_scale, y.dtype)
        return loss, dy


class LossGraph:
    """The training view of a network graph: what runs forward, where the loss is, what runs back.

    ``loss(y, chunk, totals, need_grad)`` returns the loss of the network
    output ``y`` and its gradient.  With ``fused`` (a softmax output whose
    cross-entropy loss returns the gradient with respect to the softmax's
    *input*, as MATLAB's classification layer does) the backward pass starts
    below the softmax.  A network with several outputs (``out_nodes``, a list
    of two or more nodes) gives the loss a list of outputs, and the loss
    returns a list of their gradients (None for an output it does not use).
    """

    def __init__(self, graph, loss, fused, out_nodes=None):
        self.graph = graph
        self.loss = loss
        self.nodes = compute_nodes(graph)
        self.out_nodes = list(out_nodes) if out_nodes else [network_output(graph)]
        self.several = len(self.out_nodes) > 1
        self.out_node = self.out_nodes[0]
        fused = fused and not self.several
        self.seed_node = graph.sources[self.out_node][0] if fused else self.out_node
        self.backward_nodes = [k for k in self.nodes if not (fused and k == self.out_node)]

    def forward(self, x, batch, states, training, dtype, runner=None):
        """The network's output on packed inputs ``x`` (a dict input node -> rows).

        Returns ``(y, caches, new_states)``; ``y`` is a list of the outputs
        for a network with several.  ``runner``: see :meth:`lstmkit.graph.Graph.forward`.
        """
        values = dict(x)
        caches, new_states = self.graph.forward(values, batch, states, training, dtype,
                                                self.nodes, runner=runner)
        if self.several:
            return [values[k] for k in self.out_nodes], caches, new_states
        return values[self.out_node], caches, new_states

    def seeds(self, dy):
        """The backward pass's seeds (node -> gradient) from the loss's gradient."""
        if self.several:
            return {k: g for k, g in zip(self.out_nodes, dy) if g is not None}
        return {self.seed_node: dy}


def forward_backward(net, chunk, states, grads, dtype, totals=None, runner=None):
    """Loss and gradients of one chunk.

    Runs the graph forward from ``states`` (a dict node -> state), the loss,
    and the backward pass; gradients are written into ``grads`` (per node,
    learnable name -> array).  ``totals`` (observations, target rows)
    normalizes a trainnet loss over a whole mini-batch of which the chunk is a
    share (:mod:`lstmkit.training.shards`).  Returns ``(loss, y, new_states)``,
    ``y`` the network output (for the metrics).  ``runner`` runs the layers
    (:meth:`lstmkit.graph.Graph.forward`; the GPU's puts some on the device).
    """
    y, caches, states = net.forward(chunk.x, chunk.batch, states, True, dtype, runner)
    loss, dy = net.loss(y, chunk, totals)
    net.graph.backward(net.seeds(dy), caches, grads, net.backward_nodes, runner)
    return loss, y, states


def evaluate(net, chunks, metrics, num_outputs, dtype, totals=None):
    """Loss and metric values of a network on packed chunks (validation, testnet).

    ``totals`` (observations, rows) normalizes a trainnet loss over all the
    chunks together.
    """
    for metric in metrics:
        metric._reset()
    loss = 0.0
    for chunk in chunks:
        y, _, _ = net.forward(chunk.x, chunk.batch, {}, False, dtype)
        part, _ = net.loss(y, chunk, totals, need_grad=False)
        loss += part
        for metric in metrics:
            update_metric(metric, y, chunk.target, num_outputs)
    return float(loss), [metric._value() for metric in metrics]


def update_metric(metric, y, target, num_outputs):
    """Accumulate a metric on one chunk: on its network output, for a network with several.

    ``y``, ``target`` and ``num_outputs`` are lists (one item per output) for
    such a network, and the metric's ``_output_index`` says which it reads.
    """
    index = getattr(metric, "_output_index", None)
    if index is None:
        metric._update(y, target, num_outputs)
    else:
        metric._update(y[index], target[index], num_outputs[index])


class _Solver:
    """The solver of the options, with its state over the flat parameters."""

    def __init__(self, options, params):
        self.options = options
        self.params = params
        self.kind = _SOLVER_CODES[options.SolverName]
        self.state1 = np.zeros_like(params.theta)
        self.state2 = np.zeros_like(params.theta)
        hyper1 = {"sgdm": "Momentum", "adam": "GradientDecayFactor"}.get(options.SolverName)
        self.hyper1 = getattr(options, hyper1) if hyper1 else 0.0
        self.hyper2 = getattr(options, "SquaredGradientDecayFactor", 0.0)
        self.epsilon = getattr(options, "Epsilon", 0.0)
        self.threshold = options.GradientThreshold
        self.method = (_THRESHOLD_CODES[options.GradientThresholdMethod]
                       if np.isfinite(self.threshold) else solver_kernels.THRESHOLD_NONE)

    def regularize_and_threshold(self):
        """Add L2 and threshold ``params.grad``; return its norm before thresholding."""
        p = self.params
        return solver_kernels.regularize_and_threshold(
            p.theta, p.grad, p.l2_factor, self.options.L2Regularization, p.segments,
            self.method, self.threshold)

    def step(self, learn_rate, iteration):
        """Update ``params.theta`` with the prepared gradient.

        Returns False, changing nothing, if the update would make a parameter
        or the solver's state overflow or NaN.
        """
        p = self.params
        return solver_kernels.solver_step(self.kind, p.theta, p.grad, self.state1, self.state2,
                                          learn_rate, p.lr_factor, self.hyper1, self.hyper2,
                                          self.epsilon, iteration)


class TrainingSetup:
    """Everything :func:`prepare_training` checked and built."""

    def __init__(self, **fields):
        self.__dict__.update(fields)


def check_training_layers(func, layers, options):
    """Layers that training can start from: one state per layer, chunks only where possible."""
    check_trainable(func, layers)
    for layer in layers:
        if isinstance(layer, RecurrentLayer) and layer._state_columns() > 1:
            fail(func, f"layer '{layer.Name}' holds the states of {layer._state_columns()} "
                       f"observations (from stateful prediction); training starts every "
                       f"sequence from one state. Call resetState(net) first.")
    if isinstance(options.SequenceLength, int):
        check_carried_state(func, layers, "SequenceLength as an integer (chunks)")


def prepare_training(func, X, Y, layers, options, dtype):
    """Validate trainNetwork's arguments and build the initialized layers.

    All checks run here, before any work: the caller's data and layers are
    only read (layers are deep-copied).
    """
    if not isinstance(options, TrainingOptions):
        fail(func, f"`options` must come from trainingOptions(...). Received: {_show(options)}.",
             TypeError)
    dt = check_dtype(func, dtype)
    layers, connections = layers_and_connections(func, layers)
    plan = check_layers(func, layers, connections=connections)
    input_layer, out_layer = layers[0], layers[-1]
    seqs, single = read_era_inputs(func, input_layer, X)
    check_training_layers(func, layers, options)
    span = check_sequences(func, seqs, input_layer.InputSize, input_layer.MinLength)
    targets = make_targets(func, Y, seqs, single, plan, out_layer)
    validation = None
    if options.ValidationData is not None:
        if not isinstance(options.ValidationData, tuple) or len(options.ValidationData) != 2:
            fail(func, f"trainNetwork takes ValidationData as a pair (XValidation, "
                       f"YValidation); received {_show(options.ValidationData)}. Datastores and "
                       f"networks with several inputs or outputs train with trainnet.",
                 TypeError)
        Xv, Yv = options.ValidationData
        vseqs, vsingle = read_era_inputs(func, input_layer, Xv, name="XValidation")
        vspan = check_sequences(func, vseqs, input_layer.InputSize, input_layer.MinLength,
                                name="XValidation")
        validation = (vseqs, make_targets(func, Yv, vseqs, vsingle, plan, out_layer,
                                          name="YValidation"))
    chain = Graph(layers, connections, func=func)
    check_data_lengths(func, chain, seqs, options.SequenceLength, plan.output_is_sequence)
    if validation is not None:
        check_data_lengths(func, chain, validation[0])
    schedule = check_schedule(func, options.LearnRateSchedule, options.LearnRateDropFactor,
                              options.LearnRateDropPeriod)
    normalizing = input_layer.Normalization != "none" and (
        options.ResetInputNormalization or bool(input_layer._missing_statistics()))
    if normalizing:
        input_layer._compute_statistics(seqs)
    input_layer._check_range(func, seqs, dt, span=span)
    check_target_range(func, targets, dt)
    if validation is not None:
        input_layer._check_range(func, validation[0], dt, "XValidation", span=vspan)
        check_target_range(func, validation[1], dt, "YValidation")
    check_memory_budget(func, layers, plan.input_sizes, TRAINING_COPIES)
    rng = global_rng()
    for layer, size in zip(layers[1:], plan.input_sizes[1:]):
        layer._initialize(size, rng)
    graph = Graph(layers, connections, func=func)
    data = InputData.of_graph(graph, [seqs])
    if validation is not None:
        validation = (InputData.of_graph(graph, [validation[0]]), validation[1])
    classification = plan.task == "classification"
    fused = classification and isinstance(graph.layers[network_output(graph)], SoftmaxLayer) \
        and not getattr(out_layer, "custom_loss", False)
    net = LossGraph(graph, OutputLayerLoss(out_layer), fused)
    params = ParameterVector(net.graph.layers, dt)
    metrics = [AccuracyMetric("Accuracy", None, "micro", "single-label") if classification
               else RMSEMetric("RMSE")]
    return TrainingSetup(layers=layers, plan=plan, data=data, targets=targets, params=params,
                         net=net, normalizing=normalizing, validation=validation,
                         schedule=schedule, metrics=metrics, num_outputs=plan.num_outputs,
                         input_layer=layers[0], connections=connections)


class OutputFcnInfo(dict):
    """The info MATLAB passes to an OutputFcn, readable as attributes or keys.

    Fields: Epoch, Iteration, TimeSinceStart, TrainingLoss, ValidationLoss,
    BaseLearnRate, TrainingAccuracy, TrainingRMSE, ValidationAccuracy,
    ValidationRMSE, State ('start', 'iteration' or 'done').  Fields that do
    not apply are None (MATLAB's ``[]``).
    """

    __getattr__ = dict.__getitem__


class _TrainingRun:
    """One call of trainNetwork: the loop and everything that watches it.

    trainnet's run (:class:`lstmkit.training.trainnet.TrainnetRun`) is this
    class with its own table, information, validation schedule and result.
    """

    #: validate at the first iteration (trainNetwork) rather than before training (trainnet)
    validate_first_iteration = True
    func = "trainNetwork"

    def __init__(self, setup, options, pool_args=None):
        self.s = setup
        self.options = options
        self.layers = setup.layers
        self.params = setup.params
        self.dtype = setup.params.theta.dtype
        self.net = setup.net
        self.metrics = setup.metrics
        self.metric_names = [m.Name for m in self.metrics]
        self.solver = _Solver(options, setup.params)
        self.schedule = ScheduleRunner(setup.schedule)
        self.rng = global_rng()
        self.history = {"loss": [], "metric": [], "rate": [], "epoch": [], "val_iteration": [],
                        "val_epoch": [], "val_loss": [], "val_metric": [],
                        "metrics": {n: [] for n in self.metric_names},
                        "val_metrics": {n: [] for n in self.metric_names},
                        "final_val_metric": np.nan}
        self.objective, self.maximize = self._objective()
        self.best = None  # (objective, iteration, theta copy, validation loss, metric values)
        self.bad_validations = 0
        self.iteration = 0
        self.epoch = 1
        self.start = time.perf_counter()
        self.stop_reason = "Max epochs completed"
        self.output_fcns = ([] if options.OutputFcn is None else
                            list(options.OutputFcn) if isinstance(options.OutputFcn, (list, tuple))
                            else [options.OutputFcn])
        # the folders written during training, checked again now: before any training work
        if options.CheckpointPath:
            check_writable_folder(self.func, "CheckpointPath", options.CheckpointPath)
        if options.Plots == "training-progress" and options.ProgressPlotFile:
            check_writable_folder(self.func, "ProgressPlotFile", os.path.dirname(
                os.path.abspath(options.ProgressPlotFile)))
        self.tuner = ThreadTuner()
        self.pool = None
        environment = resolve_environment(self.func, options.ExecutionEnvironment)
        self.device = None
        if environment == "gpu":
            from .device import DeviceRunner
            self.device = DeviceRunner(setup.params._layers, setup.params)
            lengths = np.sort(np.asarray(setup.data.lengths))[::-1]
            M = min(options.MiniBatchSize, lengths.size)
            if isinstance(options.SequenceLength, int):
                lengths = np.minimum(lengths, options.SequenceLength)
            self.device.check_memory(self.func, setup.params._layers, int(lengths[:M].sum()), M)
        if environment in PARALLEL:
            check_parallel_training(self.func, setup, options)
            from .workers import PoolGradients
            self.pool = PoolGradients(self.func, pool_args, options, setup.params)
        self.table = self._make_table() if options.Verbose else None
        self.plot = None
        if options.Plots == "training-progress":
            from .progress import ProgressPlot
            first = self.metrics[0] if self.metrics else None
            self.plot = ProgressPlot(self._plot_task(first), setup.validation is not None,
                                     options.ProgressPlotFile,
                                     metric_label=None if first is None else first.Name,
                                     func=self.func)
        self.val_chunks = None
        self.val_totals = None
        if setup.validation is not None:
            vdata, vtargets = setup.validation
            M, N = options.MiniBatchSize, len(vdata)
            self.val_chunks = [c for lo in range(0, N, M) for c in prepare_minibatch(
                np.arange(lo, min(lo + M, N)), vdata, vtargets, "longest", "right", self.dtype,
                num_total=N)]
            self.val_totals = (N, target_rows(self.val_chunks))

    # -- what differs between trainNetwork and trainnet -------------------------------------
    def _objective(self):
        """The validation value that selects the best network, and whether larger is better."""
        return "loss", False

    def _plot_task(self, first):
        return "classification" if first is not None and first.percent and \
            first.task == "classification" else "regression"

    def _make_table(self):
        return VerboseTable(self.s.plan.task, self.s.validation is not None)

    # -- the loop -------------------------------------------------------------------
    def run(self):
        options = self.options
        if self.table:
            self.table.start(self.s.normalizing)
        pending = None  # the last iteration's row, printed at the end if not yet
        try:
            if self._call_output_fcns("start"):
                self.stop_reason = "Stopped by OutputFcn"
                return self._finish(pending)
            if not self.validate_first_iteration and self.val_chunks is not None:
                self._validate(0)
                if self.table:
                    self._print_row((0, 0, None, None, options.InitialLearnRate))
            states = None
            tuner = self.tuner
            for epoch, chunk, new_batch, epoch_end, is_last in _with_last(self._iterations()):
                if epoch != self.epoch and self.plot:
                    self.plot.new_epoch(self.iteration + 1)
                self.epoch = epoch
                rate = options.InitialLearnRate * self.schedule.factor(epoch, self.iteration + 1)
                states = truncate_states({} if new_batch else states, chunk.n)
                tuner.begin()
                if self.device is not None:
                    try:
                        loss, y, states = device_forward_backward(
                            self.device, self.net, chunk, states, self.params.grads, self.dtype)
                    except Exception as exc:
                        if not is_device_error(exc):
                            raise
                        raise DeviceLost(self.func, exc) from exc
                elif self.pool is None:
                    loss, y, states = forward_backward(self.net, chunk, states,
                                                       self.params.grads, self.dtype)
                else:
                    loss, y = self.pool(self.params.theta, chunk.indices, chunk.totals,
                                        chunk.shortest, self.params.grad)
                norm = self.solver.regularize_and_threshold()
                if not (np.isfinite(loss) and np.isfinite(norm)):
                    self._stop_not_finite("Training loss or gradient")
                    break
                if not self.solver.step(rate, self.iteration + 1):
                    self._stop_not_finite("The update of the learnable parameters")
                    break
                tuner.end(chunk_rows(chunk))
                self.iteration += 1
                values = self._train_metrics(y, chunk)
                h = self.history
                h["loss"].append(float(loss))
                h["rate"].append(rate)
                h["epoch"].append(epoch)
                for name, value in zip(self.metric_names, values):
                    h["metrics"][name].append(value)
                h["metric"].append(values[0] if values else np.nan)
                validated = False
                if self.val_chunks is not None and (
                        (self.iteration == 1 and self.validate_first_iteration) or is_last or
                        self.iteration % options.ValidationFrequency == 0):
                    self._validate(epoch)
                    validated = True
                row = (epoch, self.iteration, float(loss), values, rate)
                pending = row
                if self.table and (self.iteration == 1 or validated or is_last or
                                   self.iteration % options.VerboseFrequency == 0):
                    self._print_row(row)
                    pending = None
                if self.plot:
                    self.plot.update(self.history)
                if self._call_output_fcns("iteration"):
                    self.stop_reason = "Stopped by OutputFcn"
                    break
                if options.CheckpointPath and self._checkpoint_due(epoch_end):
                    self._save_checkpoint()
                if epoch_end and self.plot:
                    self.plot.checkpoint(self.history)
                if self.bad_validations >= options.ValidationPatience:
                    self.stop_reason = "Met validation criterion"
                    break
        except KeyboardInterrupt:
            self.stop_reason = "Stopped manually"
        except (WorkerLost, DeviceLost) as lost:
            self.stop_reason = ("A parallel pool worker failed" if isinstance(lost, WorkerLost)
                                else "The GPU failed")
            lost.network = self._finish(pending)     # the last complete network, for the caller
            raise lost from lost.__cause__
        finally:
            self.tuner.restore()
            if self.pool is not None:
                self.pool.close()
        return self._finish(pending)

    def _iterations(self):
        """Yield ``(epoch, chunk, new_batch, epoch_end)`` for every iteration."""
        s, options = self.s, self.options
        N = len(s.data)
        M = min(options.MiniBatchSize, N)
        num_batches = N // M
        order = self.rng.permutation(N) if options.Shuffle == "once" else np.arange(N)
        cache = {}
        for epoch in range(1, options.MaxEpochs + 1):
            if options.Shuffle == "every-epoch":
                order = self.rng.permutation(N)
                cache.clear()
            for b in range(num_batches):
                if b not in cache and self.pool is not None:
                    cache[b] = [ParallelBatch(order[b * M:(b + 1) * M], self.pool.load, s.data,
                                              s.targets, options.SequenceLength,
                                              options.SequencePaddingDirection, self.dtype)]
                elif b not in cache:
                    cache[b] = prepare_minibatch(order[b * M:(b + 1) * M], s.data, s.targets,
                                                 options.SequenceLength,
                                                 options.SequencePaddingDirection, self.dtype)
                chunks = cache[b]
                for k, chunk in enumerate(chunks):
                    yield (epoch, chunk, k == 0,
                           b == num_batches - 1 and k == len(chunks) - 1)

    # -- pieces -------------------------------------------------------------------------
    def _train_metrics(self, y, chunk):
        parts = chunk.with_outputs(y) if isinstance(chunk, ParallelBatch) else [(chunk, y)]
        values = []
        for metric in self.metrics:
            metric._reset()
            for part, out in parts:
                update_metric(metric, out, part.target, self.s.num_outputs)
            values.append(metric._value())
        return values

    def _validate(self, epoch):
        loss, values = evaluate(self.net, self.val_chunks, self.metrics, self.s.num_outputs,
                                self.dtype, self.val_totals)
        h = self.history
        h["val_iteration"].append(self.iteration)
        h["val_epoch"].append(epoch)
        h["val_loss"].append(loss)
        for name, value in zip(self.metric_names, values):
            h["val_metrics"][name].append(value)
        h["val_metric"].append(values[0] if values else np.nan)
        objective = loss if self.objective == "loss" else \
            values[self.metric_names.index(self.objective)]
        if np.isnan(objective):
            better = False     # a NaN validation is never the best network
        elif self.best is None:
            better = True
        else:
            better = objective > self.best[0] if self.maximize else objective < self.best[0]
        if better:
            self.best = (objective, self.iteration, self.params.theta.copy(), loss, values)
            self.bad_validations = 0
        else:
            self.bad_validations += 1

    def _print_row(self, row):
        epoch, iteration, loss, values, rate = row
        val_values = val_loss = None
        h = self.history
        if h["val_iteration"] and h["val_iteration"][-1] == iteration:
            val_loss = h["val_loss"][-1]
            val_values = [h["val_metrics"][n][-1] for n in self.metric_names]
        self.table.row(epoch, iteration, time.perf_counter() - self.start, rate, loss, values,
                       val_loss, val_values)

    def _info(self, state):
        h = self.history
        last = bool(h["loss"]) and state != "start"
        validated = bool(h["val_iteration"]) and h["val_iteration"][-1] == self.iteration
        metric_key = "Accuracy" if self.s.plan.task == "classification" else "RMSE"
        other = "RMSE" if metric_key == "Accuracy" else "Accuracy"
        return OutputFcnInfo({
            "Epoch": self.epoch, "Iteration": self.iteration,
            "TimeSinceStart": time.perf_counter() - self.start,
            "TrainingLoss": h["loss"][-1] if last else None,
            "ValidationLoss": h["val_loss"][-1] if validated else None,
            "BaseLearnRate": h["rate"][-1] if last else None,
            f"Training{metric_key}": h["metric"][-1] if last else None,
            f"Training{other}": None,
            f"Validation{metric_key}": h["val_metric"][-1] if validated else None,
            f"Validation{other}": None,
            "State": state,
        })

    def _stop_not_finite(self, what):
        self.stop_reason = (f"{what} is not finite at iteration {self.iteration + 1}; "
                            f"the network of iteration {self.iteration} was kept")
        warnings.warn(f"{self.func}: {self.stop_reason}.", RuntimeWarning, stacklevel=4)

    def _call_output_fcns(self, state):
        stop = False
        for fcn in self.output_fcns:
            if _stop_value(self.func, fcn(self._info(state))):
                stop = True
        return stop

    def _checkpoint_due(self, epoch_end):
        o = self.options
        if o.CheckpointFrequencyUnit == "iteration":
            return self.iteration % o.CheckpointFrequency == 0
        return epoch_end and self.epoch % o.CheckpointFrequency == 0

    def _save_checkpoint(self):
        from ..io import saveNetwork
        stamp = datetime.datetime.now().strftime("%Y_%m_%d__%H_%M_%S")
        name = os.path.join(self.options.CheckpointPath,
                            f"net_checkpoint__{self.iteration}__{stamp}.mat")
        try:
            saveNetwork(self._network(), name)
        except OSError as err:           # a full disk: training goes on, earlier files are kept
            if not getattr(self, "_checkpoint_failed", False):
                reason = (err.strerror or str(err)).replace("saveNetwork: ", "", 1)
                warnings.warn(f"{self.func}: {reason}; this "
                              f"checkpoint is not saved (training goes on; earlier checkpoints "
                              f"are kept, and later ones are tried again).", RuntimeWarning,
                              stacklevel=2)
            self._checkpoint_failed = True

    def _network(self, info=None):
        """The network as it is now (its layers hold views of the parameters until detached)."""
        return make_network(self.layers, self.s.plan, self.dtype, info, self.s.connections)

    def _finish(self, pending):
        h = self.history
        if self.val_chunks is not None and self.iteration > 0 and (
                not h["val_iteration"] or h["val_iteration"][-1] != self.iteration):
            try:
                self._validate(self.epoch)   # stopped early: validate the last network too
            except KeyboardInterrupt:        # a second Ctrl-C: finish without it
                self.stop_reason = "Stopped manually"
        output = self.options.OutputNetwork
        use_best = self.best is not None and (
            output in ("best-validation-loss", "best-validation") or
            (output == "auto" and self.val_chunks is not None))
        final_iteration = self.iteration
        final_loss = final_metric = np.nan
        if h["val_iteration"]:
            final_loss, final_metric = h["val_loss"][-1], h["val_metric"][-1]
        if use_best:
            _, final_iteration, theta, final_loss, values = self.best
            final_metric = values[0] if values else np.nan
            self.params.theta[:] = theta
        h["final_val_metric"] = final_metric
        if self.table:
            if pending is not None:  # MATLAB always prints the last iteration
                self._print_row(pending)
            self.table.finish(self.stop_reason)
        try:
            if self.plot:
                self.plot.finish(h, self.stop_reason, time.perf_counter() - self.start)
            self._call_output_fcns("done")
        except KeyboardInterrupt:            # Ctrl-C while finishing: the network is kept
            self.stop_reason = "Stopped manually"
        if self.options.BatchNormalizationStatistics == "population":
            self._population_statistics()
        self.params.detach()
        self.info = self._training_info(final_loss, final_metric, final_iteration)
        return self._network(self.info)

    def _population_statistics(self):
        """Batch normalization layers get the statistics of their input over all training data.

        Layer by layer in graph order, each with the earlier layers' final
        statistics, as a prediction pass computes them.
        """
        graph = self.net.graph
        nodes = [k for k, layer in enumerate(graph.layers)
                 if isinstance(layer, BatchNormalizationLayer)]
        if not nodes:
            return
        view = types.SimpleNamespace(_graph=graph, _dtype=self.dtype, _output_is_sequence=False)
        for k in nodes:
            source = graph.sources[k][0]
            (out,), _ = predict_batches(view, self.s.data, self.options.MiniBatchSize,
                                        "longest", "right", out_nodes=[source])
            data = np.concatenate(out, axis=1).T if isinstance(out, list) else np.asarray(out)
            data = data.astype(np.float64)
            layer = graph.layers[k]
            layer.TrainedMean = data.mean(axis=0).reshape(-1, 1)
            layer.TrainedVariance = data.var(axis=0).reshape(-1, 1)

    def _training_info(self, final_loss, final_metric, final_iteration):
        h = self.history
        n = len(h["loss"])
        val_loss, val_metric = np.full(n, np.nan), np.full(n, np.nan)
        idx = np.asarray(h["val_iteration"], dtype=np.int64) - 1
        keep = idx >= 0
        val_loss[idx[keep]] = np.asarray(h["val_loss"])[keep]
        val_metric[idx[keep]] = np.asarray(h["val_metric"])[keep]
        m = "Accuracy" if self.s.plan.task == "classification" else "RMSE"
        return TrainingInfo(**{
            "TrainingLoss": np.array(h["loss"]), f"Training{m}": np.array(h["metric"]),
            "ValidationLoss": val_loss, f"Validation{m}": val_metric,
            "BaseLearnRate": np.array(h["rate"]), "FinalValidationLoss": float(final_loss),
            f"FinalValidation{m}": float(final_metric),
            "OutputNetworkIteration": int(final_iteration), "StopReason": self.stop_reason})


class ParallelBatch:
    """A mini-batch of a parallel run: its observations, split into shares by WorkerLoad.

    The shares are packed here too, only for the targets of the training
    metrics and the normalization totals; the workers compute the gradients.
    """

    batch = None

    def __init__(self, indices, load, data, targets, sequence_length, direction, dtype):
        self.indices = np.asarray(indices)
        self.n = self.indices.size
        self.shortest = shortest_length(self.indices, data, sequence_length)
        self.chunks, self.totals = prepare_shares(self.indices, load, data, targets,
                                                  sequence_length, direction, dtype)

    def with_outputs(self, outputs):
        """(share chunk, its network output) for the non-empty shares."""
        return list(zip([c for c in self.chunks if c is not None], [y for _, y in outputs]))


#: layers whose training result depends on the whole mini-batch, not on each sequence alone
_BATCH_LAYERS = (BatchNormalizationLayer, DropoutLayer)


def check_parallel_training(func, setup, options):
    """What data-parallel training cannot split: a clear error before any work."""
    if isinstance(options.SequenceLength, int):
        fail(func, f"SequenceLength={options.SequenceLength!r} (truncated backpropagation, each "
                   f"chunk an iteration) cannot be trained with ExecutionEnvironment="
                   f"'{options.ExecutionEnvironment}' yet: use 'longest' or 'shortest', or "
                   f"ExecutionEnvironment='cpu'.")
    for layer in setup.net.graph.layers:
        if isinstance(layer, _BATCH_LAYERS):
            fail(func, f"the {type(layer).__name__} '{layer.Name}' depends on the whole "
                       f"mini-batch (its statistics or dropout masks), so a split over parallel "
                       f"workers would train another network: use ExecutionEnvironment='cpu'.")


def _stop_value(func, value):
    """What an OutputFcn returned, as MATLAB reads it: true stops; false (or nothing) goes on.

    MATLAB requires a logical scalar; a string such as "no", NaN or an array is an
    error here rather than a truth value Python would guess (a non-empty string
    is true).
    """
    if value is None or isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)) and value in (0, 1):
        return bool(value)
    if isinstance(value, (float, np.floating)) and value in (0.0, 1.0):
        return bool(value)
    if isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind in "biuf" and \
            value.reshape(-1)[0] in (0, 1):
        return bool(value.reshape(-1)[0])
    fail(func, f"an OutputFcn must return true (stop training) or false (go on), or nothing. "
               f"Received: {_show(value)}.", TypeError)


def _with_last(items):
    """Yield each tuple of ``items`` extended with whether it is the last one."""
    iterator = iter(items)
    try:
        previous = next(iterator)
    except StopIteration:
        return
    for item in iterator:
        yield previous + (False,)
        previous = item
    yield previous + (True,)


@checked_call
def trainNetwork(X: Sequences, Y: Targets, layers: Sequence[Layer] | SeriesNetwork,
                 options: TrainingOptions, *, dtype: str = "float32",
                 seed: int | None = None, nargout: int = 1) -> SeriesNetwork | tuple:
    """Train a network, as MATLAB's ``trainNetwork``.

    Parameters
    ----------
    X : sequences
        A list of C-by-T arrays (MATLAB's N-by-1 cell array), the object array
        ``scipy.io.loadmat`` gives for a cell array, one C-by-T array (one
        observation) or an N-by-C-by-T array.
    Y : labels or responses
        Sequence-to-label classification: N labels (str or int).
        Sequence-to-sequence classification: a list of 1-by-T label sequences.
        Sequence-to-one regression: an N-by-R array.
        Sequence-to-sequence regression: a list of R-by-T arrays (one R-by-T
        array when X is one sequence).
    layers : list of layers, or a SeriesNetwork
        ``[sequenceInputLayer(...), ..., classificationLayer()]``.  The list and
        its layers are not modified; weights given on the layers are the initial
        values (so ``net.Layers`` of a checkpoint resumes training).
    options : TrainingOptions
        From :func:`trainingOptions`.
    dtype : {'float32', 'float64'}, default 'float32'
        Precision of training (MATLAB trains in single).  float64 input is
        accepted either way.
    seed : int, optional
        lstmkit extension: seed weight initialization, shuffling and dropout
        for this call only (the global generator of :func:`lstmkit.rng` is left
        as it was).  The same seed gives bit-identical networks run to run in
        one environment.  Without it, the global generator is used, as MATLAB
        uses ``rng``.
    nargout : {1, 2}, default 1
        MATLAB's number of outputs: 2 returns ``(net, info)``, MATLAB's
        ``[net, info] = trainNetwork(...)``.

    Returns
    -------
    net : SeriesNetwork
        The trained network; ``net.TrainingInfo`` holds MATLAB's second output:
        TrainingLoss, TrainingAccuracy or TrainingRMSE, ValidationLoss,
        ValidationAccuracy or ValidationRMSE (NaN where no validation ran),
        BaseLearnRate, FinalValidationLoss, FinalValidationAccuracy or
        FinalValidationRMSE, OutputNetworkIteration and StopReason.
    info : TrainingInfo
        With ``nargout=2``: the same ``net.TrainingInfo``.

    Notes
    -----
    Training stops at MaxEpochs, when the validation loss has not improved
    ValidationPatience times ("Met validation criterion"), when an OutputFcn
    returns True ("Stopped by OutputFcn"), on Ctrl-C ("Stopped manually"), or
    when the loss or gradient stops being finite.  In every case the network
    returned is a complete one: updates are applied whole or not at all.

    Examples
    --------
    MATLAB's "Sequence Classification Using Deep Learning", shortened:

    >>> import numpy as np
    >>> from lstmkit import *
    >>> XTrain, YTrain = japaneseVowelsTrainData()
    >>> layers = [sequenceInputLayer(12), lstmLayer(100, OutputMode="last"),
    ...           fullyConnectedLayer(9), softmaxLayer(), classificationLayer()]
    >>> options = trainingOptions("adam", GradientThreshold=1, MaxEpochs=3, MiniBatchSize=27,
    ...                           Verbose=False)
    >>> net = trainNetwork(XTrain, YTrain, layers, options, seed=0)
    >>> net.TrainingInfo.TrainingLoss.shape        # 3 epochs of 10 iterations
    (30,)
    >>> net, info = trainNetwork(XTrain, YTrain, layers, options, seed=0, nargout=2)
    >>> info.StopReason
    'Max epochs completed'
    """
    nargout = check_nargout("trainNetwork", nargout, 2)
    seed = check_seed("trainNetwork", seed)
    with seeded(seed):
        setup = prepare_training("trainNetwork", X, Y, layers, options, dtype)
        net = _TrainingRun(setup, options, pool_args=(X, Y, layers)).run()
    return select_outputs((net, net.TrainingInfo), nargout)
