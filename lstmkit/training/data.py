"""Training data: targets checked against the network, and packed mini-batch chunks."""

import numpy as np

from .._data import as_label_sequences, as_labels, as_response_sequences, as_responses
from .._packing import PackedBatch
from .._validation import fail
from ..network import chunk_bounds, truncate_to_shortest


class Chunk:
    """One training iteration's data: a packed chunk of a mini-batch."""

    __slots__ = ("batch", "x", "target", "row_scale", "n")

    def __init__(self, batch, x, target, row_scale, n):
        self.batch, self.x, self.target, self.row_scale, self.n = batch, x, target, row_scale, n


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


def prepare_minibatch(indices, seqs, targets, input_layer, sequence_length, direction, dtype,
                      num_total=None):
    """Pack one mini-batch into the chunks that are its training iterations.

    ``num_total`` is the number of observations the loss is averaged over
    (default: the chunk's own; validation passes the whole set's size).
    """
    part = [seqs[i] for i in indices]
    tvals = None
    if targets.kind in ("label-sequence", "response-sequence"):
        tvals = [targets.values[i] for i in indices]
    if sequence_length == "shortest":
        part, L = truncate_to_shortest(part, direction)
        if tvals is not None:
            if direction == "right":
                tvals = [t[..., :L] for t in tvals]
            else:
                tvals = [t[..., t.shape[-1] - L:] for t in tvals]
    full = PackedBatch([s.shape[1] for s in part])
    ordered = [part[k] for k in full.order]
    sorted_idx = np.asarray(indices)[full.order]
    chunk = sequence_length if isinstance(sequence_length, int) else None
    chunks = []
    for start, stop, n in chunk_bounds(full.lengths, chunk):
        norm = n if num_total is None else num_total
        sub = [s[:, start:stop] for s in ordered[:n]]
        batch = PackedBatch([s.shape[1] for s in sub])
        x = input_layer._pack(batch, sub, dtype)
        if targets.kind == "label":
            target = targets.values[sorted_idx[:n]]
            scale = np.full(n, 1.0 / norm)
        elif targets.kind == "response":
            target = np.ascontiguousarray(targets.values[sorted_idx[:n]], dtype=dtype)
            scale = np.full(n, 1.0 / norm)
        else:
            tsub = [tvals[full.order[k]][..., start:stop] for k in range(n)]
            if targets.kind == "label-sequence":
                target = np.concatenate(tsub)[batch.rows]
                scale = np.full(batch.num_rows, 1.0 / norm)
            else:
                target = batch.pack(tsub, dtype)
                scale = 1.0 / (norm * batch.lengths[batch.row_sequence])
        chunks.append(Chunk(batch, x, target, scale.astype(dtype), n))
    return chunks


