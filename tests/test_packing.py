"""PackedBatch: sorting, offsets, pack/unpack, reversed rows and thread chunks."""

import numpy as np
import pytest

from lstmkit._packing import PackedBatch


@pytest.mark.parametrize("lengths", [[5, 3, 1], [1], [4, 4, 4], [2, 7, 7, 1, 3]])
def test_pack_unpack_round_trip_and_layout(lengths):
    r = np.random.default_rng(0)
    seqs = [r.standard_normal((3, L)) for L in lengths]
    b = PackedBatch(lengths)
    assert list(b.lengths) == sorted(lengths, reverse=True)
    assert list(b.batch_sizes) == [sum(L > t for L in lengths) for t in range(max(lengths))]
    packed = b.pack(seqs, np.float64)
    assert packed.shape == (sum(lengths), 3) and packed.flags.c_contiguous
    for t in range(max(lengths)):  # step t holds the first batch_sizes[t] sorted sequences
        rows = packed[b.offsets[t]:b.offsets[t + 1]]
        for k, row in enumerate(rows):
            np.testing.assert_array_equal(row, seqs[b.order[k]][:, t])
    for a, s in zip(b.unpack(packed), seqs):
        np.testing.assert_array_equal(a, s)
    for k in range(len(lengths)):   # last_rows: each sequence's own last step
        np.testing.assert_array_equal(packed[b.last_rows[k]], seqs[b.order[k]][:, -1])


@pytest.mark.parametrize("lengths", [[5, 3, 1], [4, 4], [2, 7, 7, 1, 3]])
def test_reverse_rows_is_an_involution_reading_each_sequence_backwards(lengths):
    seqs = [np.arange(L, dtype=float)[None] + 100 * n for n, L in enumerate(lengths)]
    b = PackedBatch(lengths)
    rev = b.reverse_rows
    np.testing.assert_array_equal(rev[rev], np.arange(b.num_rows))
    reversed_seqs = [s[:, ::-1] for s in seqs]
    np.testing.assert_array_equal(b.pack(seqs, float)[rev], b.pack(reversed_seqs, float))


@pytest.mark.parametrize("lengths", [[5, 3, 1], [10] * 7, [40, 30, 20, 10, 5, 5, 5, 5], [1], [3, 3]])
@pytest.mark.parametrize("n", [1, 2, 3, 8])
def test_chunks_are_contiguous_non_empty_and_balanced(lengths, n):
    b = PackedBatch(lengths)
    c = b.chunks(n)
    assert c[0] == 0 and c[-1] == len(lengths) and len(c) == min(n, len(lengths)) + 1
    assert np.all(np.diff(c) >= 1)
    work = [b.lengths[c[i]:c[i + 1]].sum() for i in range(len(c) - 1)]
    assert max(work) <= sum(lengths) / (len(c) - 1) + max(lengths)
    assert b.chunks(n) is c   # computed once per batch and thread count


@pytest.mark.parametrize("N, T", [(1, 1), (3, 1), (1, 5), (4, 6)])
def test_one_length_batch_packs_a_c_by_n_by_t_array_as_its_sequences(N, T):
    from lstmkit._packing import uniform_batch
    r = np.random.default_rng(1)
    x = r.standard_normal((3, N, T))
    b = uniform_batch(N, T)
    assert uniform_batch(N, T) is b                        # shared, not rebuilt per call
    listed = b.pack([x[:, n, :] for n in range(N)], np.float32)
    packed = b.pack(x[:, :, ::1], np.float32)
    np.testing.assert_array_equal(packed, listed)
    assert packed.dtype == np.float32 and packed.flags.c_contiguous
    np.testing.assert_array_equal(b.unpack_uniform(b.pack(x, np.float64)), x)
    np.testing.assert_array_equal(b.pack(np.asfortranarray(x), float), b.pack(x, float))
    with pytest.raises(ValueError, match="does not fit"):
        b.pack(np.zeros((3, N, T + 1)), float)
    with pytest.raises(ValueError, match="does not fit"):
        PackedBatch([T + 1] + [T] * N).pack(np.zeros((3, N + 1, T)), float)
