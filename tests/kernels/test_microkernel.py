"""The packed-panel microkernel of the per-step recurrent products."""

import numpy as np
import pytest

from lstmkit.kernels.microkernel import multiply_rows, pack_panels, pad_bias, panel_width


def reference(C, c0, A, a0, n, B, bias, load_c):
    out = C.astype(np.float64)
    rows = A[a0:a0 + n].astype(np.float64) @ B.astype(np.float64) + bias
    out[c0:c0 + n] = rows + (out[c0:c0 + n] if load_c else 0)
    return out


SHAPES = [(1, 1, 1), (1, 1, 4), (2, 3, 20), (5, 7, 16), (6, 100, 400), (7, 33, 132),
          (8, 5, 17), (13, 64, 256), (14, 100, 400), (3, 5, 1), (11, 2, 31), (25, 9, 48)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n, K, M", SHAPES)
@pytest.mark.parametrize("load_c", [True, False])
def test_multiply_rows_matches_numpy(rng, dtype, n, K, M, load_c):
    """Every row count (tiles of 6, 4, 3, 2, 1 rows), partial panels, offsets into both arrays."""
    A = rng.standard_normal((n + 3, K)).astype(dtype)
    B = rng.standard_normal((K, M)).astype(dtype)
    bias = rng.standard_normal(M).astype(dtype)
    C = rng.standard_normal((n + 4, M)).astype(dtype)
    expected = reference(C, 2, A, 1, n, B, bias, load_c)
    A_before, B_before = A.copy(), B.copy()
    multiply_rows(C, 2, A, 1, n, pack_panels(B), pad_bias(bias), load_c)
    tol = 1e-13 if dtype == np.float64 else 2e-5
    scale = np.sqrt(K) + 1
    np.testing.assert_allclose(C, expected, rtol=tol, atol=tol * scale)
    assert np.array_equal(A, A_before) and np.array_equal(B, B_before)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_each_row_is_summed_in_one_order_whatever_the_tile(rng, dtype):
    """A row's result is bit-identical alone, among 5, 8 or 14 rows, at any position:
    results cannot depend on how rows are split over threads or batched."""
    K, M = 37, 3 * panel_width(np.empty(1, dtype)) + 5
    A = rng.standard_normal((14, K)).astype(dtype)
    B = rng.standard_normal((K, M)).astype(dtype)
    Bp, bias = pack_panels(B), pad_bias(rng.standard_normal(M).astype(dtype))
    C0 = rng.standard_normal((14, M)).astype(dtype)
    whole = C0.copy()
    multiply_rows(whole, 0, A, 0, 14, Bp, bias, True)
    for start, n in [(0, 1), (3, 5), (5, 8), (1, 13), (13, 1), (2, 2), (4, 3)]:
        part = C0.copy()
        multiply_rows(part, start, A, start, n, Bp, bias, True)
        assert np.array_equal(part[start:start + n], whole[start:start + n])
        assert np.array_equal(part[:start], C0[:start])             # nothing else written
        assert np.array_equal(part[start + n:], C0[start + n:])


def test_views_with_unit_column_stride(rng):
    """Output columns of a wider array (a part of the hidden units) and B as a transposed view."""
    A = rng.standard_normal((9, 12))
    R = rng.standard_normal((30, 12))
    out = np.zeros((9, 40))
    expected = out.copy()
    expected[:, 5:35] = A @ R.T
    multiply_rows(out[:, 5:35], 0, A, 0, 9, pack_panels(R.T), pad_bias(np.zeros(30)), False)
    np.testing.assert_allclose(out, expected, rtol=1e-13, atol=1e-13)


def test_pack_panels_layout(rng):
    """Panel p, step k holds B[k, p*PW:(p+1)*PW], zero beyond the last column."""
    B = rng.standard_normal((3, 11))
    pw = panel_width(B)
    packed = pack_panels(B)
    panels = -(-11 // pw)
    assert packed.shape == (panels * 3 * pw,)
    view = packed.reshape(panels, 3, pw)
    for p in range(panels):
        cols = B[:, p * pw:(p + 1) * pw]
        np.testing.assert_array_equal(view[p, :, :cols.shape[1]], cols)
        assert np.all(view[p, :, cols.shape[1]:] == 0)
    np.testing.assert_array_equal(pack_panels(np.asfortranarray(B)), packed)
    assert pad_bias(np.ones(11)).shape == (panels * pw,)


def test_zero_rows_and_non_finite_values_propagate(rng):
    A = rng.standard_normal((4, 3))
    B = rng.standard_normal((3, 20))
    C = np.ones((4, 20))
    multiply_rows(C, 0, A, 0, 0, pack_panels(B), pad_bias(np.zeros(20)), True)
    assert np.all(C == 1)
    A[1, 2] = np.nan
    A[2, 0] = np.inf
    multiply_rows(C, 0, A, 0, 4, pack_panels(B), pad_bias(np.zeros(20)), True)
    assert np.all(np.isnan(C[1])) and not np.any(np.isfinite(C[2]))
    assert np.all(np.isfinite(C[[0, 3]]))
