"""dlarray, dlfeval and dlgradient: formats, exact gradients, and clear errors."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import lstmkit as L
from lstmkit import dlarray, dlfeval, dlgradient, dims, extractdata, finddim, stripdims
from gradcheck import assert_gradient_close, numerical_gradient


def test_formats_are_stored_in_matlabs_order():
    X = np.arange(30.0).reshape(5, 3, 2)                   # T by C by B
    d = dlarray(X, "TCB")
    assert dims(d) == "CBT" and d.shape == (3, 2, 5)
    np.testing.assert_array_equal(extractdata(d), np.transpose(X, (1, 2, 0)))
    assert dims(dlarray(np.zeros((4, 3)), "BC")) == "CB"
    assert dims(dlarray(np.zeros(4), "CB")) == "CB"           # a trailing label of size 1
    assert dlarray(np.zeros(4), "CB").shape == (4, 1)
    assert dims(dlarray(np.zeros((2, 2, 2)), "USS")) == "SSU"
    assert finddim(d, "T").tolist() == [3] and finddim(d, "S").tolist() == []
    assert dims(stripdims(d)) == "" and stripdims(d).shape == d.shape
    assert dlarray(np.arange(3)).dtype == np.float64
    assert dlarray(np.ones(2, np.float32)).dtype == np.float32
    e = extractdata(d)
    e[:] = -1
    assert extractdata(d)[0, 0, 0] == 0                    # a copy: the dlarray is unchanged


@pytest.mark.parametrize("call,exc,words", [
    (lambda: dlarray("abc"), TypeError, "dlarray: `X` must be a real numeric array"),
    (lambda: dlarray(np.zeros((2, 2)), "CC"), ValueError, "C, B and T at most once"),
    (lambda: dlarray(np.zeros((2, 2)), "CX"), ValueError, "labels from S, C, B, T, U"),
    (lambda: dlarray(np.zeros((2, 2, 2)), "CB"), ValueError, "labels 2 dimensions but the data"),
    (lambda: dims(np.zeros(2)), TypeError, "dims: `X` must be a dlarray"),
    (lambda: finddim(dlarray([1.0], "C"), "Q"), ValueError, "finddim: `label` must be one of"),
    (lambda: dlgradient(dlarray(1.0), dlarray(1.0)), RuntimeError,
     "dlgradient: call dlgradient inside a function evaluated by dlfeval"),
    (lambda: dlfeval(3), TypeError, "dlfeval: `fcn` must be a function"),
])
def test_bad_input(call, exc, words):
    with pytest.raises(exc, match=words):
        call()


def test_dlgradient_errors_inside_dlfeval():
    x0 = dlarray(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="dlgradient: `y` must be a real scalar. Received: a "
                                         "dlarray of size 2"):
        dlfeval(lambda x: dlgradient(x * 2, x), x0)
    with pytest.raises(ValueError, match="`y` must be a real scalar. Received: a complex dlarray"):
        dlfeval(lambda x: dlgradient(np.sum(x * 1j), x), x0)
    with pytest.raises(ValueError, match="dlgradient: x is not traced"):
        dlfeval(lambda x: dlgradient(np.sum(x), dlarray([1.0])), x0)
    with pytest.raises(TypeError, match="dlgradient: x2 must be a traced dlarray"):
        dlfeval(lambda x: dlgradient(np.sum(x), x, 3.0), x0)
    with pytest.raises(TypeError, match=r"dlgradient: np.cumsum is not differentiable by "
                                        r"lstmkit, and it was applied to a traced dlarray"):
        dlfeval(lambda x: dlgradient(np.sum(np.cumsum(x)), x), x0)
    with pytest.raises(TypeError, match="dlgradient: np.floor is not differentiable"):
        dlfeval(lambda x: np.floor(x), x0)
    with pytest.raises(ValueError, match="EnableHigherDerivatives=True is not supported"):
        dlfeval(lambda x: dlgradient(np.sum(x), x, EnableHigherDerivatives=True), x0)

    def twice(x, retain):
        y = np.sum(x * x)
        return dlgradient(y, x, RetainData=retain), dlgradient(y, x)
    g1, g2 = dlfeval(twice, x0, True)
    np.testing.assert_array_equal(extractdata(g1), extractdata(g2))
    with pytest.raises(RuntimeError, match="the trace was freed by an earlier dlgradient call"):
        dlfeval(twice, x0, False)
    # outside dlfeval the same operations are plain arithmetic on dlarrays
    assert float(np.sum(np.cumsum(x0))) == 4.0


def test_gradients_have_the_structure_and_format_of_x():
    def f(a, params):
        y = np.sum(a * params["w"]) + np.sum(params["b"] ** 2)
        return dlgradient(y, a, params)
    a = dlarray(np.array([[1.0, 2.0], [3.0, 4.0]]), "CB")
    ga, gp = dlfeval(f, a, {"w": dlarray(np.ones((2, 2)), "CB"), "b": dlarray([3.0])})
    assert dims(ga) == "CB" and ga._node is None
    np.testing.assert_array_equal(extractdata(ga), np.ones((2, 2)))
    np.testing.assert_array_equal(extractdata(gp["w"]), [[1, 2], [3, 4]])
    np.testing.assert_array_equal(extractdata(gp["b"]), [6.0])
    # a value y does not depend on: a zero gradient
    gz = dlfeval(lambda x, z: dlgradient(np.sum(x), z), a, dlarray([5.0]))
    np.testing.assert_array_equal(extractdata(gz), [0.0])


# -- random compositions against central differences ---------------------------------------------
UNARY = {
    "exp": lambda x: np.exp(0.3 * x), "tanh": np.tanh, "sin": np.sin,
    "square": np.square, "sigmoid": L.sigmoid, "log": lambda x: np.log(x * x + 1.0),
    "sqrt": lambda x: np.sqrt(x * x + 0.5), "abs": lambda x: np.abs(x) + x,
    "neg": lambda x: -x, "relu": lambda x: L.relu(x) - 0.5 * x,
    "pow": lambda x: (x * x + 1.0) ** 1.5, "log1p": lambda x: np.log1p(x * x),
}
BINARY = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1.0), "max": np.maximum, "min": np.minimum,
    "where": lambda a, b: np.where(extractdata(a) > 0, a, b),
}
SHAPING = {
    "T": lambda x: x.T.T, "slice": lambda x: np.concatenate([x[:1], x[1:]], axis=0),
    "reshape": lambda x: x.reshape(-1).reshape(x.shape),
    "sum_keep": lambda x: x - np.sum(x, axis=0, keepdims=True) / 3,
    "mean": lambda x: x * np.mean(x, axis=1, keepdims=True),
    "matmul": lambda x: x @ (x.T @ x) * 0.1, "softmax": lambda x: L.softmax(x, DataFormat="CB"),
    "stack": lambda x: np.sum(np.stack([x, 2 * x]), axis=0),
    "clip": lambda x: np.clip(x, -0.7, 0.8) + x,
}


@settings(max_examples=60, deadline=None)
@given(ops=st.lists(st.sampled_from(sorted(UNARY) + sorted(BINARY) + sorted(SHAPING)),
                    min_size=1, max_size=6),
       seed=st.integers(0, 2 ** 31 - 1))
def test_random_compositions_have_exact_gradients(ops, seed):
    r = np.random.default_rng(seed)
    A, B = r.standard_normal((3, 4)), r.standard_normal((3, 4))
    W = r.standard_normal((3, 4))

    def model(a, b):
        x = a
        for name in ops:
            if name in UNARY:
                x = UNARY[name](x)
            elif name in BINARY:
                x = BINARY[name](x, b)
            else:
                x = SHAPING[name](x)
            x = 2 * np.tanh(0.5 * x)     # keeps values moderate, so differences stay accurate
        return np.sum(x * W)

    def loss_and_grads(a, b):
        y = model(a, b)
        return y, dlgradient(y, a, b)

    _, (ga, gb) = dlfeval(loss_and_grads, dlarray(A), dlarray(B))
    for arr, g in ((A, ga), (B, gb)):
        numeric = numerical_gradient(lambda: float(model(dlarray(A), dlarray(B))), arr)
        # kinks (abs, relu, max, min, clip, where) are avoided by the random data; the
        # difference quotient's error bounds the tolerance
        assert_gradient_close(extractdata(g), numeric, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["crossentropy", "mse", "l1loss", "l2loss", "huber"])
def test_losses_of_dlarrays_are_recorded_with_their_exact_gradient(rng, name):
    Y = rng.uniform(0.1, 0.9, (3, 4, 2))                  # C by B by T
    T = rng.uniform(0.0, 1.0, (3, 4, 2))
    fn = getattr(L, name)

    def loss(y):
        return fn(L.softmax(y) if name == "crossentropy" else y, T)

    def f(y):
        v = loss(y)
        return v, dlgradient(v, y)

    value, g = dlfeval(f, dlarray(Y, "CBT"))
    expected = fn(extractdata(L.softmax(dlarray(Y, "CBT"))) if name == "crossentropy" else Y, T,
                  DataFormat="CBT")
    assert float(value) == pytest.approx(expected, rel=1e-12)
    numeric = numerical_gradient(lambda: float(loss(dlarray(Y, "CBT"))), Y)
    assert_gradient_close(extractdata(g), numeric, rtol=1e-6, atol=1e-8)


def test_loss_targets_and_weights_may_be_traced_but_are_constants(rng):
    Y, T = rng.uniform(0.1, 0.9, (2, 3)), rng.uniform(0, 1, (2, 3))
    w = np.ones((2, 3))

    def f(y, t, w):
        loss = L.l2loss(y, t, w)
        return dlgradient(loss, y)
    g = dlfeval(f, dlarray(Y, "CB"), dlarray(T, "CB"), dlarray(w, "CB"))
    np.testing.assert_allclose(extractdata(g), 2 * (Y - T) / 3)
    with pytest.raises(TypeError, match="l2loss: the gradient with respect to the loss's "
                                        "weights is not supported"):
        dlfeval(lambda y, t, w: dlgradient(L.l2loss(y, t, w), w), dlarray(Y, "CB"),
                dlarray(T, "CB"), dlarray(w, "CB"))
