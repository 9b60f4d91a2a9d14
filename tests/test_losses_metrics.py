"""Loss functions and metrics against float64 numpy references, and loss gradients against
central differences."""

import numpy as np
import pytest

from gradcheck import assert_gradient_close, numerical_gradient
from lstmkit import (accuracyMetric, aucMetric, crossentropy, fScoreMetric, huber, l1loss,
                     l2loss, mapeMetric, mse, precisionMetric, recallMetric, rmseMetric,
                     rSquaredMetric)
from lstmkit.losses import LOSS_NAMES, LossExpression, LossTerm, make_loss
from lstmkit.metrics import auc_binary


def probs(rng, shape, axis):
    z = rng.standard_normal(shape)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# -- loss functions on numbers ------------------------------------------------------------------
def test_crossentropy_matches_reference_with_formats_and_weights(rng):
    K, N, T = 4, 3, 5
    Y = probs(rng, (K, N, T), 0)                               # 'CBT'
    labels = rng.integers(0, K, (N, T))
    Tg = np.moveaxis(np.eye(K)[labels], -1, 0)
    ref = -np.sum(Tg * np.log(Y))
    assert crossentropy(Y, Tg, DataFormat="CBT") == pytest.approx(ref / N, rel=1e-12)
    assert crossentropy(Y, Tg, DataFormat="CBT", NormalizationFactor="all-elements") == \
        pytest.approx(ref / Y.size, rel=1e-12)
    assert crossentropy(Y, Tg, DataFormat="CBT", NormalizationFactor="none") == \
        pytest.approx(ref, rel=1e-12)
    # the same data T-by-C-by-B gives the same value
    assert crossentropy(np.transpose(Y, (2, 0, 1)), np.transpose(Tg, (2, 0, 1)),
                        DataFormat="TCB") == pytest.approx(ref / N, rel=1e-12)
    w = np.array([1.0, 2.0, 0.5, 3.0])
    ref_w = -np.sum(w[:, None, None] * Tg * np.log(Y)) / N
    assert crossentropy(Y, Tg, w, DataFormat="CBT", WeightsFormat="C") == \
        pytest.approx(ref_w, rel=1e-12)
    wb = np.array([1.0, 0.0, 2.0])
    ref_b = -np.sum(wb[None, :, None] * Tg * np.log(Y)) / N
    assert crossentropy(Y, Tg, wb, DataFormat="CBT", WeightsFormat="B") == \
        pytest.approx(ref_b, rel=1e-12)
    ml = rng.integers(0, 2, Y.shape).astype(float)
    ref_ml = -np.sum(ml * np.log(Y) + (1 - ml) * np.log(1 - Y)) / N
    assert crossentropy(Y, ml, DataFormat="CBT", ClassificationMode="multilabel") == \
        pytest.approx(ref_ml, rel=1e-12)


def test_regression_losses_match_references(rng):
    Y, T = rng.standard_normal((3, 7)), rng.standard_normal((3, 7))   # 'CB'
    e = Y - T
    assert l2loss(Y, T) == pytest.approx(np.sum(e ** 2) / 7, rel=1e-12)
    assert l2loss(Y, T, NormalizationFactor="all-elements") == pytest.approx(np.mean(e ** 2))
    assert l1loss(Y, T) == pytest.approx(np.sum(np.abs(e)) / 7, rel=1e-12)
    assert mse(Y, T) == pytest.approx(np.sum(e ** 2) / (2 * 7), rel=1e-12)
    for d in (0.3, 1.0):
        h = np.where(np.abs(e) <= d, 0.5 * e ** 2, d * (np.abs(e) - 0.5 * d))
        assert huber(Y, T, TransitionPoint=d) == pytest.approx(np.sum(h) / 7, rel=1e-12)
    W = rng.uniform(0, 2, Y.shape)
    assert l2loss(Y, T, W, DataFormat="CB", WeightsFormat="CB") == \
        pytest.approx(np.sum(W * e ** 2) / 7, rel=1e-12)
    assert l2loss(Y, T, W.T, DataFormat="CB", WeightsFormat="BC") == \
        pytest.approx(np.sum(W * e ** 2) / 7, rel=1e-12)


def test_loss_function_errors(rng):
    Y = rng.standard_normal((3, 4))
    with pytest.raises(ValueError, match="l2loss: `targets` must have the size of Y"):
        l2loss(Y, np.zeros((3, 5)))
    with pytest.raises(ValueError, match="give DataFormat"):
        l2loss(np.zeros((2, 3, 4)), np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="ambiguous"):
        l2loss(np.zeros((3, 3)), np.zeros((3, 3)), np.ones(3))
    with pytest.raises(ValueError, match="NormalizationFactor"):
        l2loss(Y, Y, NormalizationFactor="mean")
    with pytest.raises(ValueError, match="TransitionPoint"):
        huber(Y, Y, TransitionPoint=0)


# -- gradients of every loss term ---------------------------------------------------------------
@pytest.mark.parametrize("kind", ["crossentropy", "binary-crossentropy", "l2", "l1", "huber",
                                  "mse"])
@pytest.mark.parametrize("norm", ["batch-size", "all-elements", "non-channel", "none"])
def test_loss_term_gradient_matches_central_differences(rng, kind, norm):
    M, K = 7, 4
    y = probs(rng, (M, K), 1) if kind in ("crossentropy", "binary-crossentropy") else \
        rng.standard_normal((M, K)) * 2
    if kind == "crossentropy":
        t = np.eye(K)[rng.integers(0, K, M)]
    elif kind == "binary-crossentropy":
        t = rng.integers(0, 2, (M, K)).astype(float)
    else:
        t = rng.standard_normal((M, K))
        t[0, 0] = y[0, 0] + 0.3   # inside huber's quadratic zone
    term = LossTerm(kind, norm, weights=rng.uniform(0.5, 2, K), coefficient=0.7)
    loss, grad = term.value_and_grad(y, t, n_obs=3, rows=M)
    numeric = numerical_gradient(lambda: term.value_and_grad(y, t, 3, M, need_grad=False)[0], y)
    assert_gradient_close(grad, numeric, rtol=1e-5, atol=1e-7, name=kind)


def test_class_index_targets_equal_one_hot(rng):
    y = probs(rng, (6, 3), 1)
    idx = rng.integers(0, 3, 6)
    term = LossTerm("crossentropy", "non-channel")
    a = term.value_and_grad(y, idx, 2)
    b = term.value_and_grad(y, np.eye(3)[idx], 2)
    assert a[0] == pytest.approx(b[0], rel=1e-14)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-14)


def test_expression_combines_terms_linearly(rng):
    expr, _ = make_loss("trainnet", lambda Y, T: 2 * l2loss(Y, T) - huber(Y, T) / 4 +
                        l1loss(Y, T, NormalizationFactor="none"))
    y, t = rng.standard_normal((5, 2)), rng.standard_normal((5, 2))
    parts = [LossTerm("l2", "batch-size").value_and_grad(y, t, 5),
             LossTerm("huber", "batch-size").value_and_grad(y, t, 5),
             LossTerm("l1", "none").value_and_grad(y, t, 5)]
    loss, grad = expr.value_and_grad(y, t, 5)
    assert loss == pytest.approx(2 * parts[0][0] - parts[1][0] / 4 + parts[2][0], rel=1e-12)
    np.testing.assert_allclose(grad, 2 * parts[0][1] - parts[1][1] / 4 + parts[2][1],
                               rtol=1e-12)
    assert isinstance(sum([l2loss, l1loss][k] for k in range(0)) + expr, LossExpression)


def test_trainnet_loss_names_and_errors():
    assert set(LOSS_NAMES) >= {"crossentropy", "index-crossentropy", "binary-crossentropy",
                               "mse", "mean-squared-error", "l2loss", "mae",
                               "mean-absolute-error", "l1loss", "huber"}
    with pytest.raises(ValueError, match="Did you mean 'crossentropy'"):
        make_loss("trainnet", "crossentropi")
    with pytest.raises(TypeError, match="cannot be differentiated.*Y or T"):
        make_loss("trainnet", lambda Y, T: l2loss(Y * 2, T))
    with pytest.raises(TypeError, match="cannot be differentiated"):
        make_loss("trainnet", lambda Y, T: np.mean((Y - T) ** 2))
    with pytest.raises(TypeError, match="cannot be differentiated.*constant"):
        make_loss("trainnet", lambda Y, T: l2loss(Y, T) * l2loss(Y, T))
    with pytest.raises(TypeError, match="must return a loss"):
        make_loss("trainnet", lambda Y, T: 3.0)
    with pytest.raises(ValueError, match="WeightsFormat='C'"):
        make_loss("trainnet", lambda Y, T: crossentropy(Y, T, [1, 2]))
    with pytest.raises(TypeError, match="lossFcn"):
        make_loss("trainnet", 42)


# -- metrics --------------------------------------------------------------------------------------
def run_metric(metric, y, t, K, splits=3):
    metric._reset()
    for part in np.array_split(np.arange(len(y)), splits):
        metric._update(y[part], t[part], K)
    return metric._value()


def confusion_reference(pred, truth, K):
    tp = np.array([np.sum((pred == k) & (truth == k)) for k in range(K)], float)
    fp = np.array([np.sum((pred == k) & (truth != k)) for k in range(K)], float)
    fn = np.array([np.sum((pred != k) & (truth == k)) for k in range(K)], float)
    return tp, fp, fn


def test_classification_metrics_match_references(rng):
    K, M = 4, 60
    y = probs(rng, (M, K), 1)
    t = rng.integers(0, K, M)
    pred = np.argmax(y, axis=1)
    tp, fp, fn = confusion_reference(pred, t, K)
    support = tp + fn
    assert run_metric(accuracyMetric(), y, t, K) == pytest.approx(100 * np.mean(pred == t))
    assert run_metric(accuracyMetric(AverageType="macro"), y, t, K) == \
        pytest.approx(100 * np.mean(tp / support))
    prec, rec = tp / (tp + fp), tp / (tp + fn)
    assert run_metric(precisionMetric(AverageType="macro"), y, t, K) == \
        pytest.approx(np.mean(prec))
    assert run_metric(recallMetric(AverageType="weighted"), y, t, K) == \
        pytest.approx(np.sum(rec * support) / support.sum())
    f2 = 5 * tp / (5 * tp + 4 * fn + fp)
    assert run_metric(fScoreMetric(Beta=2, AverageType="macro"), y, t, K) == \
        pytest.approx(np.mean(f2))
    assert run_metric(fScoreMetric(), y, t, K) == pytest.approx(np.mean(pred == t))
    # one-hot targets give what indices give
    assert run_metric(accuracyMetric(), y, np.eye(K)[t], K) == \
        pytest.approx(100 * np.mean(pred == t))


def test_auc_matches_pairwise_reference(rng):
    K, M = 3, 40
    y = probs(rng, (M, K), 1)
    y[:5, 0] = y[5:10, 0]          # ties count half
    t = rng.integers(0, K, M)

    def pairwise(s, truth):
        pos, neg = s[truth], s[~truth]
        return np.mean((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :]))

    onehot = np.eye(K)[t].astype(bool)
    per = [pairwise(y[:, k], onehot[:, k]) for k in range(K)]
    assert run_metric(aucMetric(AverageType="macro"), y, t, K) == pytest.approx(np.mean(per))
    assert run_metric(aucMetric(), y, t, K) == pytest.approx(pairwise(y.ravel(), onehot.ravel()))
    assert np.isnan(auc_binary(np.ones(3), np.ones(3, bool)))


def test_regression_metrics_match_references(rng):
    M, R = 50, 3
    y, t = rng.standard_normal((M, R)), rng.standard_normal((M, R)) + 3
    e = y - t
    assert run_metric(rmseMetric(), y, t, R) == pytest.approx(np.sqrt(np.mean(e ** 2)))
    assert run_metric(mapeMetric(), y, t, R) == pytest.approx(100 * np.mean(np.abs(e / t)))
    sst = np.sum((t - t.mean(axis=0)) ** 2)
    assert run_metric(rSquaredMetric(), y, t, R) == pytest.approx(1 - np.sum(e ** 2) / sst)
    assert not rmseMetric().Maximize and rSquaredMetric().Maximize


def test_metric_factories_check_their_options():
    with pytest.raises(ValueError, match="AverageType"):
        accuracyMetric(AverageType="mean")
    with pytest.raises(ValueError, match="Beta"):
        fScoreMetric(Beta=0)
    with pytest.raises(TypeError, match="not a valid option"):
        rmseMetric(Average="x")
    assert rmseMetric("Name", "err").Name == "err"          # MATLAB's pairs


def test_shapes_types_and_user_errors_are_clear(rng):
    with pytest.raises(ValueError, match="huber: `targets` must have the size of Y"):
        huber(np.zeros((2, 3)), np.zeros((3, 2)))            # a transposed target, not reshaped
    with pytest.raises(ValueError, match="the loss function raised ZeroDivisionError"):
        make_loss("trainnet", lambda Y, T: 1 / 0)
    from lstmkit import trainingOptions
    with pytest.raises(TypeError, match="`Metrics` must be a metric name"):
        trainingOptions("adam", Metrics=3)
