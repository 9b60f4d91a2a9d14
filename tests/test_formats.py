"""Time-by-channel sequences and MATLAB's data formats (the trainnet era's layout)."""

import numpy as np
import pytest

from lstmkit._formats import check_format, sequences_tc


def test_list_of_time_by_channel_sequences(rng):
    X = [rng.standard_normal((T, 3)) for T in (5, 2, 7)]
    seqs, single = sequences_tc("f", X, 3)
    assert not single and [s.shape for s in seqs] == [(3, 5), (3, 2), (3, 7)]
    for s, x in zip(seqs, X):
        np.testing.assert_array_equal(s, x.T)
        assert np.shares_memory(s, x)                       # a view: the caller's data untouched
    # the same data as C-by-T with InputDataFormats="CTB" gives the same sequences
    same, _ = sequences_tc("f", [x.T for x in X], 3, "CTB")
    for a, b in zip(seqs, same):
        np.testing.assert_array_equal(a, b)
    # a one-channel sequence may be a 1-D array
    assert sequences_tc("f", [np.arange(4.0)], 1)[0][0].shape == (1, 4)


def test_numeric_arrays_in_every_layout(rng):
    T, C, N = 6, 4, 5
    TCB = rng.standard_normal((T, C, N))
    seqs, single = sequences_tc("f", TCB, C)
    assert not single and len(seqs) == N
    np.testing.assert_array_equal(seqs[2], TCB[:, :, 2].T)
    for fmt in ("CTB", "BTC", "BCT", "TBC"):
        order = [fmt.index(d) for d in "TCB"]
        arr = np.transpose(TCB, np.argsort(order))           # TCB data laid out as fmt
        other, _ = sequences_tc("f", arr, C, fmt)
        for a, b in zip(seqs, other):
            np.testing.assert_array_equal(a, b)
    one, single = sequences_tc("f", TCB[:, :, 0], C)         # one T-by-C sequence
    assert single and np.array_equal(one[0], TCB[:, :, 0].T)
    assert check_format("f", "x", "ctb") == "CTB" and check_format("f", "x", "Auto") == "auto"


def test_a_numeric_array_is_never_read_in_a_guessed_layout(rng):
    with pytest.raises(ValueError, match=r"f: `X` is 4-by-4-by-9: dimensions 1 and 2 could each "
                                         r"be the 4 channels, so its layout is ambiguous; give "
                                         r"InputDataFormats"):
        sequences_tc("f", rng.standard_normal((4, 4, 9)), 4)
    with pytest.raises(ValueError, match=r"dimensions 2 and 3 could each be the 4 channels"):
        sequences_tc("f", rng.standard_normal((10, 4, 4)), 4)
    # with the format given, the same array is read as said
    seqs, _ = sequences_tc("f", rng.standard_normal((4, 4, 9)), 4, "TCB")
    assert len(seqs) == 9
    # channels elsewhere: the error names the format that reads the data as it is
    with pytest.raises(ValueError, match=r"`X` is 4-by-20-by-9, read as time steps by channels "
                                         r"by observations \('TCB'\), but the input layer "
                                         r"expects 4 channels\. If dimension 1 holds the "
                                         r"channels, give InputDataFormats='CTB'"):
        sequences_tc("f", rng.standard_normal((4, 20, 9)), 4)


def test_transposed_sequences_get_the_hint_both_ways(rng):
    with pytest.raises(ValueError, match=r"`X\[0\]` is 3-by-8, read as T-by-C \(time steps by "
                                         r"channels\), but the input layer expects 3 channels\. "
                                         r"It looks C-by-T: pass the transposes, or give "
                                         r"InputDataFormats='CTB' \(the trainNetwork era's "
                                         r"layout\)"):
        sequences_tc("f", [rng.standard_normal((3, 8))], 3)
    with pytest.raises(ValueError, match=r"read as C-by-T \(channels by time steps\).*It looks "
                                         r"T-by-C: pass the transposes, or give "
                                         r"InputDataFormats='TCB'"):
        sequences_tc("f", [rng.standard_normal((8, 3))], 3, "CTB")


def test_format_errors(rng):
    with pytest.raises(ValueError, match=r"`InputDataFormats` must be 'auto' or letters from S, C, "
                                         r"B, T, U"):
        sequences_tc("f", [np.zeros((2, 2))], 2, "TXB")
    with pytest.raises(ValueError, match=r"must describe the data's dimensions"):
        sequences_tc("f", [np.zeros((2, 2))], 2, "SCB")
    with pytest.raises(TypeError, match=r"`InputDataFormats` must be 'auto' or a format"):
        sequences_tc("f", [np.zeros((2, 2))], 2, 3)
    with pytest.raises(ValueError, match=r"has 2 dimensions but `X` has 3"):
        sequences_tc("f", np.zeros((2, 2, 2)), 2, "TC")
    with pytest.raises(ValueError, match=r"`X` is empty"):
        sequences_tc("f", [], 2)
