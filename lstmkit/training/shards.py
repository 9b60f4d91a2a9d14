"""A mini-batch's gradient as the sum of its shares' gradients (data-parallel training).

With ``ExecutionEnvironment="parallel"`` MATLAB splits every mini-batch over
the workers by ``WorkerLoad``; each worker computes the gradient of its share
and the gradients are summed.  Two things make the sum equal the whole
mini-batch's gradient here, up to summation order:

* nothing is padded: each share is packed on its own, and a sequence's
  result does not depend on the sequences packed beside it;
* every share's loss is normalized by the *global* counts (the mini-batch's
  observations, and for trainnet's losses its target rows), not by its own.

Layers whose training result depends on the whole mini-batch cannot be split
this way: batch normalization (its statistics are the batch's) and dropout
(the masks are drawn for the batch).  The shares of one mini-batch are the
unit a pool's workers compute; :func:`sharded_forward_backward` computes
them one after the other in this process (the "one-process pool" of the
tests, and the reference the workers are checked against).
"""

from __future__ import annotations

import numpy as np

from .data import prepare_minibatch, target_rows


def share_sizes(n, load):
    """Observations per share of a mini-batch of ``n``, by relative ``load`` (largest remainder).

    Shares are proportional to ``load``; the observations left by rounding
    down go one each to the shares with the largest remainders (ties to the
    first).  A load of 0 gives an empty share.  ``load`` must hold
    non-negative numbers, not all zero (:func:`check_worker_load`).
    """
    w = np.asarray(load, dtype=np.float64)
    exact = n * w / w.sum()
    sizes = np.floor(exact).astype(np.int64)
    left = n - int(sizes.sum())
    if left:
        order = np.argsort(-(exact - sizes), kind="stable")
        sizes[order[:left]] += 1
    return sizes


def split_shares(indices, load):
    """The observation indices of a mini-batch, split into consecutive shares by ``load``."""
    indices = np.asarray(indices)
    bounds = np.concatenate([[0], np.cumsum(share_sizes(indices.size, load))])
    return [indices[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def shortest_length(indices, data, sequence_length):
    """The length a mini-batch is cut to with SequenceLength 'shortest' (else None)."""
    if sequence_length != "shortest":
        return None
    return int(data.lengths[np.asarray(indices)].min())


def prepare_shares(indices, load, data, targets, sequence_length, direction, dtype):
    """Each share's packed chunk (None for an empty share), normalized by the whole mini-batch.

    ``sequence_length`` is 'longest' or 'shortest' (every share cut to the
    whole mini-batch's shortest sequence).  Returns ``(chunks, totals)``:
    ``totals`` are the mini-batch's observations and target rows, the
    normalization of trainnet's losses.
    """
    n = len(indices)
    cut = shortest_length(indices, data, sequence_length)
    chunks = []
    for share in split_shares(indices, load):
        if share.size == 0:
            chunks.append(None)
            continue
        (chunk,) = prepare_minibatch(share, data, targets, sequence_length, direction, dtype,
                                     num_total=n, shortest=cut)
        chunks.append(chunk)
    return chunks, (n, target_rows([c for c in chunks if c is not None]))


def sharded_forward_backward(forward_backward, net, chunks, totals, params, dtype):
    """Loss and gradient of a mini-batch as the sum over its shares, in this process.

    ``forward_backward(net, chunk, states, grads, dtype, totals)`` is the
    trainer's; the summed gradient is left in ``params.grad``.  Returns the
    loss and each non-empty share's network output (for the metrics).
    """
    total = np.zeros_like(params.grad)
    loss = 0.0
    outputs = []
    for chunk in chunks:
        if chunk is None:
            continue
        part, y, _ = forward_backward(net, chunk, {}, params.grads, dtype, totals)
        total += params.grad
        loss += part
        outputs.append(y)
    params.grad[:] = total
    return loss, outputs
