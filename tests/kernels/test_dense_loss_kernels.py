"""Fully connected, softmax and loss kernels: reference, finite differences, edge cases."""

import numpy as np
import pytest

from gradcheck import assert_gradient_close, numerical_gradient
from lstmkit.kernels.dense import fc_backward, fc_forward, softmax_backward, softmax_forward
from lstmkit.kernels.loss import half_mse, softmax_cross_entropy
import reference


@pytest.mark.parametrize("M,C,K", [(1, 1, 1), (5, 3, 4), (7, 1, 9)])
def test_fc_forward_and_backward(rng, M, C, K):
    x, W, b = rng.standard_normal((M, C)), rng.standard_normal((K, C)), rng.standard_normal(K)
    dy = rng.standard_normal((M, K))
    y = np.empty((M, K))
    fc_forward(x, W, b, y, 2)
    np.testing.assert_allclose(y, reference.fully_connected(x, W, b), rtol=1e-13)
    dW, db, dx = np.empty_like(W), np.empty_like(b), np.empty_like(x)
    fc_backward(x, W, dy, dW, db, dx, 2)

    def loss():
        return np.sum(reference.fully_connected(x, W, b) * dy)
    for name, arr, got in [("W", W, dW), ("b", b, db), ("x", x, dx)]:
        assert_gradient_close(got, numerical_gradient(loss, arr), name=name)


def test_fc_backward_skips_dx_when_empty(rng):
    x, W, dy = rng.standard_normal((4, 3)), rng.standard_normal((2, 3)), rng.standard_normal((4, 2))
    fc_backward(x, W, dy, np.empty((2, 3)), np.empty(2), np.empty((0, 3)), 1)  # must not fail


@pytest.mark.parametrize("M,K", [(1, 1), (6, 4), (3, 9)])
def test_softmax_forward_and_backward(rng, M, K):
    z = 3 * rng.standard_normal((M, K))
    y = np.empty_like(z)
    softmax_forward(z, y)
    np.testing.assert_allclose(y, reference.softmax(z), rtol=1e-13)
    dy = rng.standard_normal((M, K))
    dz = np.empty_like(z)
    softmax_backward(y, dy, dz)
    assert_gradient_close(dz, numerical_gradient(lambda: np.sum(reference.softmax(z) * dy), z),
                          name="z")


def test_softmax_is_stable_for_huge_scores():
    z = np.array([[1000.0, 0.0, -1000.0]], dtype=np.float32)
    y = np.empty_like(z)
    softmax_forward(z, y)
    np.testing.assert_allclose(y, [[1.0, 0.0, 0.0]])
    assert y.dtype == np.float32


@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_value_and_gradient(rng, weighted):
    M, K = 6, 4
    z = rng.standard_normal((M, K))
    target = rng.integers(0, K, M)
    w = rng.uniform(0.5, 2.0, K) if weighted else np.ones(K)
    scale = rng.uniform(0.1, 1.0, M)
    probs = reference.softmax(z)
    dz = np.empty_like(z)
    loss, correct = softmax_cross_entropy(probs, target, w, scale, dz)
    np.testing.assert_allclose(loss, reference.cross_entropy(probs, target, w, scale), rtol=1e-13)
    assert correct == np.sum(np.argmax(probs, 1) == target)
    numeric = numerical_gradient(
        lambda: reference.cross_entropy(reference.softmax(z), target, w, scale), z)
    assert_gradient_close(dz, numeric, name="scores")


def test_cross_entropy_bounded_away_from_zero():
    probs = np.array([[1.0, 0.0]])
    loss, _ = softmax_cross_entropy(probs, np.array([1]), np.ones(2), np.ones(1), np.empty_like(probs))
    assert np.isfinite(loss) and loss > 700  # -log(tiny)


def test_half_mse_value_and_gradient(rng):
    y, t = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    scale = rng.uniform(0.1, 1.0, 5)
    dy = np.empty_like(y)
    loss, sse = half_mse(y, t, scale, dy)
    np.testing.assert_allclose(loss, reference.half_mse(y, t, scale), rtol=1e-13)
    np.testing.assert_allclose(sse, np.sum((y - t) ** 2), rtol=1e-13)
    assert_gradient_close(dy, numerical_gradient(lambda: reference.half_mse(y, t, scale), y),
                          name="y")
