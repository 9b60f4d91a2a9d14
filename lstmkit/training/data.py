"""Training data: targets checked against the network, and packed mini-batch chunks."""

import numpy as np

from .._data import as_label_sequences, as_labels, as_response_sequences, as_responses
from .._validation import check_single_range, fail
from ..network import chunk_bounds


class Chunk:
    """One training iteration's data: a packed chunk of a mini-batch."""

    __slots__ = ("batch", "x", "target", "row_scale", "n")

    def __init__(self, batch, x, target, row_scale, n):
        self.batch, self.x, self.target, self.row_scale, self.n = batch, x, target, row_scale, n


def chunk_rows(chunk):
    """A chunk's packed rows (time steps), its amount of work; its observations where it has
    no packed batch (a feature input, a parallel run's mini-batch)."""
    return getattr(chunk.batch, "num_rows", None) or chunk.n


class Targets:
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


def make_targets(func, Y, seqs, single, plan, out_layer, name="Y"):
    """Check the responses against the network and convert them to training targets.

    For classification, ``out_layer.Classes`` is set from the labels when it
    is 'auto'; validation labels (``name`` 'YValidation') must then be among
    the training classes.
    """
    n = len(seqs)
    if plan.task == "classification":
        if plan.output_is_sequence:
            labels = as_label_sequences(func, Y, seqs, single, name)
            everything = np.concatenate(labels)
        else:
            labels = as_labels(func, Y, n, name)
            everything = labels
            if name == "Y":     # classify answers in the form of the training labels
                shape = np.shape(Y) if isinstance(Y, np.ndarray) else ()
                out_layer._labels_as_column = len(shape) == 2 and shape[1] == 1 and n > 1
                out_layer._labels_float = isinstance(Y, np.ndarray) and Y.dtype.kind == "f"
        if out_layer.Classes is None:
            out_layer.Classes = np.unique(everything)
        classes = out_layer.Classes
        if len(classes) != plan.num_outputs:
            fail(func, f"the training labels have {len(classes)} classes but the layer before the "
                       f"softmax outputs {plan.num_outputs} values; use "
                       f"fullyConnectedLayer({len(classes)}) as the last fully connected layer.")
        if plan.output_is_sequence:
            values = [_class_indices(func, lab, classes, name) for lab in labels]
            return Targets("label-sequence", values, len(classes))
        return Targets("label", _class_indices(func, labels, classes, name), len(classes))
    if plan.output_is_sequence:
        values = as_response_sequences(func, Y, seqs, single, name)
        R = values[0].shape[0]
    else:
        values = as_responses(func, Y, n, name)
        R = values.shape[1]
    if R != plan.num_outputs:
        fail(func, f"the responses have {R} channels but the layer before the regressionLayer "
                   f"outputs {plan.num_outputs} values; use fullyConnectedLayer({R}) as the last "
                   f"fully connected layer.")
    return Targets("response-sequence" if plan.output_is_sequence else "response", values, R)


def check_target_range(func, targets, dtype, name="Y"):
    """Numeric targets must fit the training precision (float32 overflows beyond about 3.4e38)."""
    if targets is None or np.dtype(dtype) != np.float32 or targets.kind not in (
            "response", "response-sequence"):
        return
    values = targets.values if isinstance(targets.values, list) else [targets.values]
    largest = [np.max(np.abs(v)) for v in values if np.size(v)]
    check_single_range(func, f"`{name}`", np.array(largest), verb="train",
                       advice=" Rescale the targets.")


def prepare_minibatch(indices, data, targets, sequence_length, direction, dtype,
                      num_total=None, shortest=None):
    """Pack one mini-batch into the chunks that are its training iterations.

    ``data`` is the :class:`~lstmkit._inputs.InputData` of the network's
    inputs; ``targets`` a :class:`Targets`, or a list of them for a network
    with several outputs (each chunk's ``target`` is then a list too).
    ``num_total`` is the number of observations the loss is averaged over
    (default: the chunk's own; validation passes the whole set's size).
    ``shortest``: with SequenceLength 'shortest', the length to cut to
    (default: these observations' shortest; a share of a parallel mini-batch
    gets the whole mini-batch's).
    """
    part = data.take(indices)
    several = isinstance(targets, list)
    target_list = targets if several else [targets]
    tvals = [[t.values[i] for i in indices] if t.kind in ("label-sequence", "response-sequence")
             else None for t in target_list]
    if sequence_length == "shortest":
        part, L = part.shortest(direction, shortest)
        tvals = [None if tv is None else
                 [t[..., :L] for t in tv] if direction == "right" else
                 [t[..., t.shape[-1] - L:] for t in tv] for tv in tvals]
    full = part.sorted_batch()
    sorted_idx = np.asarray(indices)[full.order]
    chunk = sequence_length if isinstance(sequence_length, int) else None
    chunks = []
    for start, stop, n in chunk_bounds(full.lengths, chunk):
        norm = n if num_total is None else num_total
        batch, x = part.pack_window(full, start, stop, n, dtype)
        packed = [_chunk_targets(t, tv, batch, full, sorted_idx, start, stop, n, norm, dtype)
                  for t, tv in zip(target_list, tvals)]
        target = [p[0] for p in packed] if several else packed[0][0]
        scale = packed[0][1]
        chunks.append(Chunk(batch, x, target, scale.astype(dtype), n))
    return chunks


def _chunk_targets(targets, tvals, batch, full, sorted_idx, start, stop, n, norm, dtype):
    """One chunk's targets of one output, and MATLAB's per-row loss scale for them."""
    if targets.kind == "label":
        return targets.values[sorted_idx[:n]], np.full(n, 1.0 / norm)
    if targets.kind == "response":
        return (np.ascontiguousarray(targets.values[sorted_idx[:n]], dtype=dtype),
                np.full(n, 1.0 / norm))
    tsub = [tvals[full.order[k]][..., start:stop] for k in range(n)]
    if targets.kind == "label-sequence":
        return np.concatenate(tsub)[batch.rows], np.full(batch.num_rows, 1.0 / norm)
    return batch.pack(tsub, dtype), 1.0 / (norm * batch.lengths[batch.row_sequence])


def target_rows(chunks):
    """Rows of targets in all the chunks: a number, or a list (one per network output)."""
    first = chunks[0].target
    if isinstance(first, list):
        return [sum(c.target[i].shape[0] for c in chunks) for i in range(len(first))]
    return sum(c.target.shape[0] for c in chunks)
