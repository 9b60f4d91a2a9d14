"""Packing of variable-length mini-batches (no padding, ever).

A mini-batch of N sequences is sorted by length, longest first (stable, so
equal lengths keep their order), and stored time-major: the rows of time step
``t`` are the first ``batch_sizes[t]`` sorted sequences.  This is the layout of
the kernels in :mod:`lstmkit.kernels.lstm`.  Because nothing is padded, a
sequence's result cannot depend on its neighbours, on the mini-batch size or on
a padding direction.
"""

import functools

import numpy as np


def equal_work_bounds(lengths, parts):
    """Boundaries of ``min(parts, N)`` contiguous, non-empty runs of sequences of about equal
    total length (int64, ``[0, ..., N]``): thread chunks, and a pool's shares of a prediction.
    """
    N = len(lengths)
    n = max(1, min(int(parts), N))
    work = np.cumsum(lengths)
    total = int(work[-1])
    # run i ends after the first sequence whose cumulative work reaches i/n of the total
    inner = np.searchsorted(work, [total * i / n for i in range(1, n)], side="left") + 1
    bounds = [0]
    for i, b in enumerate(inner.tolist(), start=1):  # non-decreasing, every run non-empty
        bounds.append(min(max(b, bounds[-1] + 1), N - (n - i)))
    bounds.append(N)
    return np.array(bounds, np.int64)


class PackedBatch:
    """Structure of a packed mini-batch.

    Parameters
    ----------
    lengths : array_like of int, shape (N,)
        Length of every sequence, in the caller's order.
    order : ndarray of int64, optional
        The sorted order to use (default: by length, longest first, stable);
        it must sort the lengths non-increasingly.

    Attributes
    ----------
    order : ndarray of int64, shape (N,)
        ``order[k]`` is the caller's index of the k-th sorted sequence.
    lengths : ndarray of int64, shape (N,)
        Sorted lengths (non-increasing).
    batch_sizes : ndarray of int64, shape (T,)
        Active sequences per time step, ``T = lengths.max()``.
    offsets : ndarray of int64, shape (T + 1,)
        First packed row of each time step.
    rows : ndarray of int64, shape (S,)
        For each packed row, its row in the caller-order concatenation of the
        sequences (sequence after sequence, time steps in order).
    last_rows : ndarray of int64, shape (N,)
        Packed row of each sorted sequence's last time step.
    row_sequence : ndarray of int64, shape (S,)
        Sorted index of the sequence each packed row belongs to.
    row_step : ndarray of int64, shape (S,)
        Time step of each packed row.
    starts : ndarray of int64, shape (N,)
        First row of each sequence (caller's order) in the concatenation.
    """

    __slots__ = ("order", "lengths", "batch_sizes", "offsets", "rows", "last_rows", "starts",
                 "row_sequence", "row_step", "_reverse_rows", "_chunks")

    def __init__(self, lengths, order=None):
        lengths = np.asarray(lengths, dtype=np.int64)
        if order is None:
            order = np.argsort(-lengths, kind="stable")
        sorted_lengths = lengths[order]
        T = int(sorted_lengths[0])
        # batch_sizes[t] = number of sequences longer than t
        batch_sizes = np.searchsorted(-sorted_lengths, -np.arange(T), side="left").astype(np.int64)
        offsets = np.zeros(T + 1, np.int64)
        np.cumsum(batch_sizes, out=offsets[1:])
        starts = np.zeros(lengths.size, np.int64)
        np.cumsum(lengths[:-1], out=starts[1:])
        S = int(offsets[-1])
        t_of_row = np.repeat(np.arange(T, dtype=np.int64), batch_sizes)
        k_of_row = np.arange(S, dtype=np.int64) - np.repeat(offsets[:-1], batch_sizes)
        self.order = order
        self.lengths = sorted_lengths
        self.batch_sizes = batch_sizes
        self.offsets = offsets
        self.starts = starts
        self.rows = starts[order][k_of_row] + t_of_row
        self.row_sequence = k_of_row
        self.row_step = t_of_row
        self._reverse_rows = None
        self._chunks = {}
        self.last_rows = offsets[sorted_lengths - 1] + np.arange(lengths.size, dtype=np.int64)

    def with_lengths(self, sorted_lengths):
        """The batch of the same sequences, in the same sorted order, with new lengths.

        ``sorted_lengths`` (one per sorted sequence, non-increasing, each at
        least 1) are what a layer that changes sequence lengths (a strided or
        unpadded convolution, pooling) outputs; keeping the order keeps every
        observation's row where the layers after it and the targets expect it.
        """
        sorted_lengths = np.asarray(sorted_lengths, dtype=np.int64)
        if np.array_equal(sorted_lengths, self.lengths):
            return self
        lengths = np.empty_like(sorted_lengths)
        lengths[self.order] = sorted_lengths
        return PackedBatch(lengths, self.order)

    @property
    def reverse_rows(self):
        """Permutation to the time-reversed packing (each sequence read backwards).

        Row ``r`` of the reversed layout is step ``t`` of sequence ``k`` from its
        end, i.e. packed row ``offsets[L_k - 1 - t] + k``.  Both layouts have the
        same batch sizes, and the permutation is its own inverse.
        """
        if self._reverse_rows is None:
            L = self.lengths[self.row_sequence]
            self._reverse_rows = self.offsets[L - 1 - self.row_step] + self.row_sequence
        return self._reverse_rows

    @property
    def num_observations(self):
        """Number of sequences N."""
        return self.order.size

    @property
    def num_rows(self):
        """Number of packed rows S (total time steps)."""
        return self.rows.size

    def chunks(self, nthreads):
        """Row boundaries splitting the sorted batch into ``nthreads`` chunks of equal work.

        Work is the number of time steps; chunks are contiguous and non-empty,
        so there are ``min(nthreads, N)`` of them.  Computed once per batch and
        count (every layer of a network uses the same chunks).  The layers pass
        :func:`~lstmkit.kernels._threads.kernel_parts`, the machine's thread
        count, not the number of threads running now: the chunks decide the
        results, the threads only who computes them.
        """
        if nthreads in self._chunks:
            return self._chunks[nthreads]
        bounds = equal_work_bounds(self.lengths, nthreads)
        self._chunks[nthreads] = bounds
        return bounds

    def pack(self, sequences, dtype):
        """Pack C-by-T sequences (caller's order) into an (S, C) array of ``dtype``.

        ``sequences`` may also be one C-by-N-by-T array when every sequence has
        the T steps (a dlarray's mini-batch): then the rows are one transposed copy.
        """
        if isinstance(sequences, np.ndarray) and sequences.ndim == 3:
            C, N, T = sequences.shape
            if N != self.order.size or self.lengths[0] != T or self.lengths[-1] != T:
                raise ValueError(f"a {C}x{N}x{T} array does not fit this batch")
            out = np.empty((N * T, C), dtype)
            out.reshape(T, N, C)[...] = sequences[:, self.order, :].transpose(2, 1, 0)
            return out
        whole = np.concatenate(sequences, axis=1) if len(sequences) > 1 else sequences[0]
        return np.ascontiguousarray(whole.T[self.rows], dtype=dtype)

    def unpack_uniform(self, packed):
        """An (S, K) packed array of a batch whose sequences all have T steps as one
        K-by-N-by-T array, caller's order (the inverse of :meth:`pack` of such an array)."""
        N = self.order.size
        T = int(self.lengths[0])
        out = np.empty((packed.shape[1], N, T), packed.dtype)
        out[:, self.order, :] = packed.reshape(T, N, -1).transpose(2, 1, 0)
        return out

    def unpack(self, packed):
        """Split an (S, K) packed array into a list of K-by-T arrays, caller's order."""
        whole = np.empty_like(packed)
        whole[self.rows] = packed
        ends = self.starts + self.lengths_in_order()
        return [np.ascontiguousarray(whole[s:e].T) for s, e in zip(self.starts, ends)]

    def lengths_in_order(self):
        """Sequence lengths in the caller's order."""
        out = np.empty_like(self.lengths)
        out[self.order] = self.lengths
        return out

    def to_caller_order(self, per_sequence):
        """Reorder an (N, ...) array from sorted order to the caller's order."""
        out = np.empty_like(per_sequence)
        out[self.order] = per_sequence
        return out

    def to_sorted_order(self, per_sequence):
        """Reorder an (N, ...) array from the caller's order to sorted order."""
        return per_sequence[self.order]


@functools.lru_cache(maxsize=16)
def uniform_batch(N, T):
    """The :class:`PackedBatch` of N sequences of T steps (shared: a batch is not changed
    after it is made, and its caches depend only on its lengths)."""
    return PackedBatch(np.full(N, T, np.int64))
