"""trainNetwork: mini-batching, the training step and the solver loop."""

import time
import warnings

import numpy as np

from .._data import (as_label_sequences, as_labels, as_response_sequences, as_responses,
                     as_sequences, check_sequences)
from .._packing import PackedBatch
from .._random import global_rng
from .._validation import _show, fail
from ..kernels import solvers as solver_kernels
from ..layers.base import expand_factor
from ..layers.recurrent import RecurrentLayer
from ..network import (SeriesNetwork, check_carried_state, check_layers, chunk_bounds,
                       copy_and_name_layers, hidden_forward, truncate_states,
                       truncate_to_shortest)
from .info import TrainingInfo
from .options import TrainingOptions
from .verbose import VerboseTable

_SOLVER_CODES = {"sgdm": solver_kernels.SGDM, "adam": solver_kernels.ADAM,
                 "rmsprop": solver_kernels.RMSPROP}
_THRESHOLD_CODES = {"l2norm": solver_kernels.THRESHOLD_L2NORM,
                    "global-l2norm": solver_kernels.THRESHOLD_GLOBAL_L2NORM,
                    "absolute-value": solver_kernels.THRESHOLD_ABSOLUTE_VALUE}


def check_dtype(func, dtype):
    """'float32'/'single' or 'float64'/'double' (also numpy dtypes)."""
    aliases = {"single": "float32", "double": "float64"}
    try:
        dt = np.dtype(aliases.get(dtype, dtype) if isinstance(dtype, str) else dtype)
    except TypeError:
        dt = None
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        fail(func, f"`dtype` must be 'float32' (MATLAB's single, the default) or 'float64'. "
                   f"Received: dtype={_show(dtype)}.")
    return dt


class ParameterVector:
    """All learnables of the hidden layers in one flat vector.

    Each layer's learnable properties become views into ``theta``, and
    ``grads[i][name]`` are the matching views into ``grad``, so the layers'
    backward passes write the gradient where the solver kernel reads it.
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


class _Chunk:
    """One training iteration's data: a packed chunk of a mini-batch."""

    __slots__ = ("batch", "x", "target", "row_scale", "n")

    def __init__(self, batch, x, target, row_scale, n):
        self.batch, self.x, self.target, self.row_scale, self.n = batch, x, target, row_scale, n


class _Targets:
    """Training targets of one task kind, indexable per observation."""

    def __init__(self, kind, values, num_outputs):
        self.kind = kind              # 'label', 'label-sequence', 'response', 'response-sequence'
        self.values = values          # int array / list of int arrays / float array / list
        self.num_outputs = num_outputs


def _class_indices(func, labels, classes, name="Y"):
    """Map labels to indices into ``classes``; unknown labels are an error."""
    if classes.dtype.kind != labels.dtype.kind and not (
            classes.dtype.kind in "iu" and labels.dtype.kind in "iu"):
        fail(func, f"the labels in `{name}` are {labels.dtype.kind == 'U' and 'str' or 'int'} but "
                   f"the classificationLayer's Classes are "
                   f"{classes.dtype.kind == 'U' and 'str' or 'int'}.", TypeError)
    sorter = np.argsort(classes)
    pos = np.searchsorted(classes, labels, sorter=sorter)
    pos = np.clip(pos, 0, classes.size - 1)
    idx = sorter[pos]
    bad = classes[idx] != labels
    if np.any(bad):
        unknown = np.unique(labels[bad])[:5].tolist()
        fail(func, f"`{name}` contains labels {unknown} that are not in the classificationLayer's "
                   f"Classes {classes.tolist()}.")
    return idx.astype(np.int64)


def _make_targets(func, Y, seqs, single, plan, out_layer):
    n = len(seqs)
    if plan.task == "classification":
        if plan.output_is_sequence:
            labels = as_label_sequences(func, Y, seqs, single)
            everything = np.concatenate(labels)
        else:
            labels = as_labels(func, Y, n)
            everything = labels
        if out_layer.Classes is None:
            out_layer.Classes = np.unique(everything)
        classes = out_layer.Classes
        if len(classes) != plan.num_outputs:
            fail(func, f"the training labels have {len(classes)} classes but the layer before the "
                       f"softmax outputs {plan.num_outputs} values; use "
                       f"fullyConnectedLayer({len(classes)}) as the last fully connected layer.")
        if plan.output_is_sequence:
            values = [_class_indices(func, lab, classes) for lab in labels]
            return _Targets("label-sequence", values, len(classes))
        return _Targets("label", _class_indices(func, labels, classes), len(classes))
    if plan.output_is_sequence:
        values = as_response_sequences(func, Y, seqs, single)
        R = values[0].shape[0]
    else:
        values = as_responses(func, Y, n)
        R = values.shape[1]
    if R != plan.num_outputs:
        fail(func, f"the responses have {R} channels but the layer before the regressionLayer "
                   f"outputs {plan.num_outputs} values; use fullyConnectedLayer({R}) as the last "
                   f"fully connected layer.")
    return _Targets("response-sequence" if plan.output_is_sequence else "response", values, R)


def _prepare_minibatch(indices, seqs, targets, input_layer, options, dtype):
    """Pack one mini-batch into the chunks that are its training iterations."""
    part = [seqs[i] for i in indices]
    tvals = None
    if targets.kind in ("label-sequence", "response-sequence"):
        tvals = [targets.values[i] for i in indices]
    if options.SequenceLength == "shortest":
        part, L = truncate_to_shortest(part, options.SequencePaddingDirection)
        if tvals is not None:
            if options.SequencePaddingDirection == "right":
                tvals = [t[..., :L] for t in tvals]
            else:
                tvals = [t[..., t.shape[-1] - L:] for t in tvals]
    full = PackedBatch([s.shape[1] for s in part])
    ordered = [part[k] for k in full.order]
    sorted_idx = np.asarray(indices)[full.order]
    chunk = options.SequenceLength if isinstance(options.SequenceLength, int) else None
    chunks = []
    for start, stop, n in chunk_bounds(full.lengths, chunk):
        sub = [s[:, start:stop] for s in ordered[:n]]
        batch = PackedBatch([s.shape[1] for s in sub])
        x = input_layer._normalize(batch.pack(sub, np.float64), dtype)
        if targets.kind == "label":
            target = targets.values[sorted_idx[:n]]
            scale = np.full(n, 1.0 / n)
        elif targets.kind == "response":
            target = np.ascontiguousarray(targets.values[sorted_idx[:n]], dtype=dtype)
            scale = np.full(n, 1.0 / n)
        else:
            tsub = [tvals[full.order[k]][..., start:stop] for k in range(n)]
            if targets.kind == "label-sequence":
                target = np.concatenate(tsub)[batch.rows]
                scale = np.full(batch.num_rows, 1.0 / n)
            else:
                target = batch.pack(tsub, dtype)
                scale = 1.0 / (n * batch.lengths[batch.row_sequence])
        chunks.append(_Chunk(batch, x, target, scale.astype(dtype), n))
    return chunks


def forward_backward(hidden, out_layer, chunk, states, grads, backward_from, dtype):
    """Loss and gradients of one chunk.

    Runs the hidden layers forward from ``states``, the output layer's loss,
    and the backward pass down to layer ``backward_from - 1`` (the softmax
    before a classification layer is skipped: its gradient is fused into the
    loss).  Gradients are written into ``grads`` (per hidden layer, name ->
    array).  Returns ``(loss, stat, new_states)`` where stat is the number of
    correct rows (classification) or the sum of squared errors (regression).
    """
    y, caches, states = hidden_forward(hidden, chunk.x, chunk.batch, states, True, dtype)
    loss, dy, stat = out_layer._loss(y, chunk.target, chunk.row_scale, dtype)
    for i in range(backward_from - 1, -1, -1):
        dy = hidden[i]._backward(dy, caches[i], grads[i], i > 0)
    return loss, stat, states


def _iterations(options, num_batches, M, N, rng, seqs, targets, input_layer, dtype):
    """Yield ``(epoch, chunk, new_batch)`` for every training iteration.

    A mini-batch gives one chunk, or several with an integer SequenceLength
    (``new_batch`` is True on its first chunk: the carried state restarts).
    Mini-batches are packed once and reused while the order does not change
    (Shuffle 'once' or 'never'); 'every-epoch' reshuffles and repacks.
    """
    order = rng.permutation(N) if options.Shuffle == "once" else np.arange(N)
    cache = {}
    for epoch in range(1, options.MaxEpochs + 1):
        if options.Shuffle == "every-epoch":
            order = rng.permutation(N)
            cache.clear()
        for b in range(num_batches):
            if b not in cache:
                cache[b] = _prepare_minibatch(order[b * M:(b + 1) * M], seqs, targets,
                                              input_layer, options, dtype)
            for k, chunk in enumerate(cache[b]):
                yield epoch, chunk, k == 0


def learn_rate_at(options, epoch):
    """The base learning rate of an epoch (1-based) under the options' schedule."""
    if options.LearnRateSchedule == "piecewise":
        drops = (epoch - 1) // options.LearnRateDropPeriod
        return options.InitialLearnRate * options.LearnRateDropFactor ** drops
    return options.InitialLearnRate


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
        """Update ``params.theta`` with the prepared gradient."""
        p = self.params
        solver_kernels.solver_step(self.kind, p.theta, p.grad, self.state1, self.state2,
                                   learn_rate, p.lr_factor, self.hyper1, self.hyper2,
                                   self.epsilon, iteration)


class TrainingSetup:
    """Everything :func:`prepare_training` checked and built."""

    def __init__(self, **fields):
        self.__dict__.update(fields)


def prepare_training(func, X, Y, layers, options, dtype):
    """Validate trainNetwork's arguments and build the initialized layers.

    All checks run here, before any work: the caller's data and layers are
    only read (layers are deep-copied).
    """
    if not isinstance(options, TrainingOptions):
        fail(func, f"`options` must come from trainingOptions(...). Received: {_show(options)}.",
             TypeError)
    dt = check_dtype(func, dtype)
    layers = copy_and_name_layers(func, layers)
    plan = check_layers(func, layers)
    seqs, single = as_sequences(func, X)
    input_layer, out_layer = layers[0], layers[-1]
    for layer in layers:
        if isinstance(layer, RecurrentLayer) and layer._state_columns() > 1:
            fail(func, f"layer '{layer.Name}' holds the states of {layer._state_columns()} "
                       f"observations (from predictAndUpdateState); training starts every "
                       f"sequence from one state. Call resetState(net) first.")
    if isinstance(options.SequenceLength, int):
        check_carried_state(func, layers, "SequenceLength as an integer (chunks)")
    check_sequences(func, seqs, input_layer.InputSize, input_layer.MinLength)
    targets = _make_targets(func, Y, seqs, single, plan, out_layer)
    normalizing = input_layer.Normalization != "none" and (
        options.ResetInputNormalization or bool(input_layer._missing_statistics()))
    if normalizing:
        input_layer._compute_statistics(seqs)
    rng = global_rng()
    for layer, size in zip(layers[1:], plan.input_sizes[1:]):
        layer._initialize(size, rng)
    params = ParameterVector(layers[1:-1], dt)
    return TrainingSetup(layers=layers, plan=plan, seqs=seqs, targets=targets, params=params,
                         normalizing=normalizing)


def trainNetwork(X, Y, layers, options, *, dtype="float32"):
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
    layers : list of layers
        ``[sequenceInputLayer(...), ..., classificationLayer()]``.  The list and
        its layers are not modified; weights given on the layers are the initial
        values.
    options : TrainingOptions
        From :func:`trainingOptions`.
    dtype : {'float32', 'float64'}, default 'float32'
        Precision of training (MATLAB trains in single).  float64 input is
        accepted either way.

    Returns
    -------
    SeriesNetwork
        The trained network; ``net.TrainingInfo`` holds MATLAB's second output
        (TrainingLoss, TrainingAccuracy or TrainingRMSE, BaseLearnRate).
    """
    func = "trainNetwork"
    setup = prepare_training(func, X, Y, layers, options, dtype)
    layers, plan, seqs, targets, params, normalizing = (
        setup.layers, setup.plan, setup.seqs, setup.targets, setup.params, setup.normalizing)
    dt = params.theta.dtype
    input_layer, hidden, out_layer = layers[0], layers[1:-1], layers[-1]
    rng = global_rng()
    N = len(seqs)
    M = min(options.MiniBatchSize, N)
    solver = _Solver(options, params)
    classification = plan.task == "classification"
    backward_from = len(hidden) - (1 if classification else 0)  # softmax fused into the loss

    losses, metrics, rates = [], [], []
    table = VerboseTable(plan.task) if options.Verbose else None
    if table:
        table.start(normalizing)
    start_time = time.perf_counter()
    iteration = 0
    stop_reason = "Max epochs completed"
    pending_row = None
    states = None
    for epoch, chunk, new_batch in _iterations(options, N // M, M, N, rng, seqs, targets,
                                               input_layer, dt):
        learn_rate = learn_rate_at(options, epoch)
        states = truncate_states([None] * len(hidden) if new_batch else states, chunk.n)
        loss, stat, states = forward_backward(hidden, out_layer, chunk, states, params.grads,
                                              backward_from, dt)
        norm = solver.regularize_and_threshold()
        iteration += 1
        if not (np.isfinite(loss) and np.isfinite(norm)):
            stop_reason = (f"Training loss or gradient is not finite at iteration {iteration}; "
                           f"the network of iteration {iteration - 1} was kept")
            warnings.warn(f"trainNetwork: {stop_reason}.", RuntimeWarning, stacklevel=2)
            break
        solver.step(learn_rate, iteration)
        rows = chunk.target.shape[0]
        metric = 100.0 * stat / rows if classification else float(
            np.sqrt(stat / (rows * plan.num_outputs)))
        losses.append(loss)
        metrics.append(metric)
        rates.append(learn_rate)
        pending_row = (epoch, iteration, metric, loss)
        if table and (iteration == 1 or iteration % options.VerboseFrequency == 0):
            table.row(epoch, iteration, time.perf_counter() - start_time, metric, loss, learn_rate)
            pending_row = None
    if table:
        if pending_row is not None:  # MATLAB always prints the last iteration
            table.row(pending_row[0], pending_row[1], time.perf_counter() - start_time,
                      pending_row[2], pending_row[3], learn_rate_at(options, pending_row[0]))
        table.finish(stop_reason)
    params.detach()
    metric_name = "TrainingAccuracy" if classification else "TrainingRMSE"
    info = TrainingInfo(**{"TrainingLoss": np.array(losses), metric_name: np.array(metrics),
                           "BaseLearnRate": np.array(rates), "StopReason": stop_reason})
    return SeriesNetwork(layers, plan, dt, info)
