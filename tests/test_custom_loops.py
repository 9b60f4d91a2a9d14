"""forward(net, X) inside dlfeval, and dlgradient with respect to net.Learnables."""

import numpy as np
import pytest

import lstmkit as L
from lstmkit import dlarray, dlfeval, dlgradient, extractdata, forward
from gradcheck import assert_gradient_close, numerical_gradient
from lstmkit.table import Table


def float64_network(rng, layers, C, sequence=True):
    """A dlnetwork in float64 (trainnet's dtype option), for tight gradient checks."""
    X = [rng.standard_normal((int(T), C)) for T in (3, 4)]
    out = layers[-1]
    if sequence:
        T = [rng.standard_normal((x.shape[0], 2)) for x in X]
    else:
        T = rng.standard_normal((2, 2))
    net = L.trainnet(X, T, layers, "mse", L.trainingOptions("sgdm", MaxEpochs=1, Verbose=False,
                                                            InitialLearnRate=1e-9),
                     dtype="float64", seed=0)
    assert out is not None
    return net


@pytest.mark.parametrize("kind", ["lstm-sequence", "gru-last", "bilstm-sequence"])
def test_dlgradient_of_learnables_through_forward_matches_central_differences(rng, kind):
    recurrent = {"lstm-sequence": L.lstmLayer(3), "gru-last": L.gruLayer(3, OutputMode="last"),
                 "bilstm-sequence": L.bilstmLayer(2)}[kind]
    layers = [L.sequenceInputLayer(2), recurrent, L.fullyConnectedLayer(2)]
    net = float64_network(rng, layers, 2, sequence=kind.endswith("sequence"))
    X = rng.standard_normal((2, 3, 4))                    # C by B by T (a padded batch)
    Tshape = (2, 3, 4) if kind.endswith("sequence") else (2, 3)
    T = rng.standard_normal(Tshape)

    def model_loss(net, X, T):
        Y, state = forward(net, X, nargout=2)
        loss = L.mse(Y, T)
        return loss, dlgradient(loss, net.Learnables), state

    loss, grads, state = dlfeval(model_loss, net, dlarray(X, "CBT"), T)
    assert list(grads.Layer) == list(net.Learnables.Layer)
    assert list(grads.Parameter) == list(net.Learnables.Parameter)
    assert list(state.Parameter)[:1] == ["HiddenState"]

    def value():
        return float(L.mse(forward(net, dlarray(X, "CBT")), T))

    assert float(loss) == pytest.approx(value(), rel=1e-12)
    for i in range(len(grads.Value)):
        w = net.Learnables.Value[i]                        # the layer's own array (live)
        numeric = numerical_gradient(value, w)
        assert_gradient_close(extractdata(grads.Value[i]), numeric, rtol=1e-5, atol=1e-8,
                              name=f"{grads.Layer[i]}.{grads.Parameter[i]}")


def test_forward_outside_dlfeval_returns_a_plain_dlarray(rng):
    net = L.dlnetwork([L.sequenceInputLayer(2), L.lstmLayer(3, OutputMode="last"),
                       L.fullyConnectedLayer(4)])
    data = rng.standard_normal((5, 2, 3))                  # T by C by B
    Y = forward(net, dlarray(data, "TCB"))
    assert L.dims(Y) == "CB" and Y.shape == (4, 3) and Y._node is None
    # no dropout: forward's output is minibatchpredict's (N-by-K there)
    np.testing.assert_allclose(extractdata(Y).T, L.minibatchpredict(net, data), rtol=1e-6)
    Ys = forward(L.dlnetwork([L.sequenceInputLayer(2), L.gruLayer(3)]), dlarray(data, "TCB"))
    assert L.dims(Ys) == "CBT" and Ys.shape == (3, 3, 5)


def test_forward_and_predict_on_dlarrays_check_x_before_any_work(rng):
    net = L.dlnetwork([L.sequenceInputLayer(2), L.lstmLayer(3, OutputMode="last"),
                       L.fullyConnectedLayer(4)])
    wrong = dlarray(rng.standard_normal((5, 3, 4)), "TCB")              # 3 channels, not 2
    for call in (lambda: forward(net, wrong), lambda: L.predict(net, wrong),
                 lambda: dlfeval(lambda n, x: forward(n, x), net, wrong)):
        with pytest.raises(ValueError, match="X has 3 channels .* the input layer "
                                             "'sequenceinput' takes 2"):
            call()
    with pytest.raises(ValueError, match="forward: X has no observations"):
        forward(net, dlarray(np.ones((5, 2, 0)), "TCB"))
    with pytest.raises(ValueError, match="predict: X has no time steps"):
        L.predict(net, dlarray(np.ones((0, 2, 3)), "TCB"))


@pytest.mark.parametrize("norm", ["none", "zscore", "rescale-symmetric"])
def test_gradient_with_respect_to_forwards_input(rng, norm):
    stats = dict(Mean=rng.standard_normal((2, 1)), StandardDeviation=rng.uniform(0.5, 2, (2, 1)),
                 Min=-rng.uniform(1, 2, (2, 1)), Max=rng.uniform(1, 2, (2, 1)))
    keep = {"none": [], "zscore": ["Mean", "StandardDeviation"],
            "rescale-symmetric": ["Min", "Max"]}[norm]
    layers = [L.sequenceInputLayer(2, Normalization=norm, **{k: stats[k] for k in keep}),
              L.lstmLayer(3), L.fullyConnectedLayer(2)]
    net = float64_network(rng, layers, 2)
    X = rng.standard_normal((4, 2, 3))                       # T by C by B
    W = rng.standard_normal((2, 3, 4))

    def loss(net, x):
        return np.sum(forward(net, x) * W)

    gx = dlfeval(lambda net, x: dlgradient(loss(net, x), x), net, dlarray(X, "TCB"))
    numeric = numerical_gradient(lambda: float(loss(net, dlarray(X, "TCB"))), X)
    assert_gradient_close(extractdata(gx), extractdata(dlarray(numeric, "TCB")), rtol=1e-6,
                          atol=1e-8)
    # the learnables' gradient alone needs nothing of X's
    g = dlfeval(lambda net, x: dlgradient(loss(net, x), net.Learnables), net, dlarray(X, "TCB"))
    assert len(g.Value) == 5 and np.any(extractdata(g.Value[0]) != 0)
    assert not hasattr(net, "_trace")                      # dlfeval leaves the network as it was

def test_one_adamupdate_step_equals_trainnets_first_iteration(rng):
    X = [rng.standard_normal((4, 2)) for _ in range(3)]           # T-by-C, equal lengths
    T = [rng.standard_normal((4, 2)) for _ in range(3)]
    layers = [L.sequenceInputLayer(2), L.lstmLayer(3), L.fullyConnectedLayer(2)]
    opts = dict(MaxEpochs=1, MiniBatchSize=3, Shuffle="never", Verbose=False,
                L2Regularization=0, InitialLearnRate=0.01)
    net0 = float64_network(rng, layers, 2)                        # float64, initialized
    trained = L.trainnet(X, T, net0, "mse", L.trainingOptions("adam", **opts), dtype="float64")

    def model_loss(net, X, T):
        Y = forward(net, X)
        loss = L.l2loss(Y, T, NormalizationFactor="all-elements")  # trainnet's "mse"
        return loss, dlgradient(loss, net.Learnables)

    Xd = dlarray(np.stack(X, axis=2), "TCB")                       # T by C by B
    Td = np.transpose(np.stack(T, axis=2), (1, 2, 0))              # C by B by T
    before = [np.array(v) for v in net0.Learnables.Value]
    loss, grad = dlfeval(model_loss, net0, Xd, Td)
    net1, avg, avgSq = L.adamupdate(net0, grad, [], [], 1, 0.01, nargout=3)
    for a, b in zip(net1.Learnables.Value, trained.Learnables.Value):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)
    for a, b in zip(net0.Learnables.Value, before):                # values: net0 unchanged
        np.testing.assert_array_equal(a, b)
    assert list(avg.Parameter) == list(grad.Parameter)
    np.testing.assert_allclose(extractdata(avg.Value[0]), 0.1 * extractdata(grad.Value[0]))
    # a second step continues from the returned states
    net2 = L.adamupdate(net1, grad, avg, avgSq, 2, 0.01)
    assert not np.allclose(net2.Learnables.Value[0], net1.Learnables.Value[0])


def test_update_formulas_learn_rate_factors_and_errors(rng):
    w, g = rng.standard_normal(5), rng.standard_normal(5)
    new, vel = L.sgdmupdate(dlarray(w), dlarray(g), None, 0.1, 0.5, nargout=2)
    np.testing.assert_allclose(extractdata(vel), -0.1 * g)
    new2, vel2 = L.sgdmupdate(new, dlarray(g), vel, 0.1, 0.5, nargout=2)
    np.testing.assert_allclose(extractdata(vel2), 0.5 * (-0.1 * g) - 0.1 * g)
    np.testing.assert_allclose(extractdata(new2), w - 0.1 * g + 0.5 * (-0.1 * g) - 0.1 * g)
    sq = 0.1 * g * g
    new, avg_sq = L.rmspropupdate({"w": dlarray(w)}, {"w": dlarray(g)}, None, nargout=2)
    np.testing.assert_allclose(extractdata(avg_sq["w"]), sq)
    np.testing.assert_allclose(extractdata(new["w"]), w - 0.001 * g / (np.sqrt(sq) + 1e-8))
    # a dlnetwork's learn-rate factors apply
    net = L.dlnetwork([L.sequenceInputLayer(2), L.fullyConnectedLayer(2, BiasLearnRateFactor=0)])
    grads = L.dlupdate(lambda p: p * 0 + 1, net).Learnables       # a gradient of ones
    moved = L.sgdmupdate(net, grads, None, 0.5)
    np.testing.assert_allclose(moved.Learnables.Value[0], net.Learnables.Value[0] - 0.5)
    np.testing.assert_array_equal(moved.Learnables.Value[1], net.Learnables.Value[1])
    with pytest.raises(ValueError, match="adamupdate: `iteration` must be a positive integer"):
        L.adamupdate(dlarray(w), dlarray(g), None, None, 0)
    with pytest.raises(ValueError, match="sgdmupdate: `grad` holds 2 arrays but the parameters "
                                         "hold 1"):
        L.sgdmupdate(dlarray(w), [dlarray(g), dlarray(g)], None)
    with pytest.raises(ValueError, match="`grad`'s array 0 is 4 but the parameter it updates is 5"):
        L.adamupdate(dlarray(w), dlarray(g[:4]), None, None, 1)
    with pytest.raises(FloatingPointError, match="adamupdate: the update would make a parameter "
                                                 "or the solver's state NaN or infinite"):
        L.adamupdate(dlarray(w), dlarray(np.full(5, np.nan)), None, None, 1)
    with pytest.raises(TypeError, match="dlupdate: `net` must be a dlnetwork"):
        L.dlupdate(lambda p: p, "weights")
    with pytest.raises(ValueError, match="rmspropupdate: `sqGradDecay` must be a finite real"):
        L.rmspropupdate(dlarray(w), dlarray(g), None, 0.001, 1.5)


def test_predict_on_a_dlarray_for_validation_in_a_loop(rng):
    net = L.dlnetwork([L.sequenceInputLayer(2), L.lstmLayer(3), L.dropoutLayer(0.5),
                       L.fullyConnectedLayer(1)])
    data = rng.standard_normal((4, 2, 3))                  # T by C by B
    Z, state = L.predict(net, dlarray(data, "TCB"), nargout=2)
    assert L.dims(Z) == "CBT" and Z.shape == (1, 3, 4)
    # predict: no dropout, so the same as minibatchpredict
    np.testing.assert_allclose(np.transpose(extractdata(Z), (2, 0, 1)),
                               L.minibatchpredict(net, data), rtol=1e-6)
    net.State = state
    assert np.shape(net.State.Value[0]) == (3, 3)
    with pytest.raises(TypeError, match="gradients through predict\\(net, X\\) are not "
                                        "supported; call forward"):
        dlfeval(lambda net, X: dlgradient(np.sum(L.predict(net, X)), net.Learnables), net,
                dlarray(data, "TCB"))


@pytest.mark.parametrize("fmt", ["CBT", "TCB", "CT"])
def test_dlarray_lstm_and_fullyconnect_have_exact_gradients(rng, fmt):
    C, H, N, T, K = 2, 2, 2, 4, 2
    X = rng.standard_normal((C, N, T))
    if fmt == "TCB":
        X = np.ascontiguousarray(np.transpose(X, (2, 0, 1)))
    if fmt == "CT":
        X = np.ascontiguousarray(X[:, 0, :])
        N = 1
    params = {"W": 0.5 * rng.standard_normal((4 * H, C)),
              "R": 0.5 * rng.standard_normal((4 * H, H)),
              "b": 0.5 * rng.standard_normal((4 * H, 1)),
              "h0": 0.5 * rng.standard_normal((H, N)), "c0": 0.5 * rng.standard_normal((H, N)),
              "Wf": rng.standard_normal((K, H)), "bf": rng.standard_normal((K, 1))}
    target = rng.standard_normal((K, N, T) if N > 1 or fmt != "CT" else (K, T))
    wh = rng.standard_normal((H, N))

    def model(p, x):
        Y, h = L.lstm(x, p["h0"], p["c0"], p["W"], p["R"], p["b"], nargout=2)
        Z = L.fullyconnect(Y, p["Wf"], p["bf"])
        return np.sum((Z - target.reshape(Z.shape)) ** 2) + np.sum(h * wh)

    def f(p, x):
        v = model(p, x)
        return v, dlgradient(v, p, x)

    traced = {k: dlarray(v) for k, v in params.items()}
    value, (g, gx) = dlfeval(f, traced, dlarray(X, fmt))
    for name, arr in params.items():
        numeric = numerical_gradient(
            lambda: float(model({k: dlarray(v) for k, v in params.items()}, dlarray(X, fmt))),
            arr)
        assert_gradient_close(extractdata(g[name]), numeric, rtol=1e-6, atol=1e-8, name=name)
    numeric = numerical_gradient(
        lambda: float(model({k: dlarray(v) for k, v in params.items()}, dlarray(X, fmt))), X)
    assert_gradient_close(np.reshape(extractdata(gx), extractdata(dlarray(X, fmt)).shape),
                          extractdata(dlarray(numeric, fmt)), rtol=1e-6, atol=1e-8, name="X")


@pytest.mark.parametrize("mode", ["after-multiplication", "before-multiplication",
                                  "recurrent-bias-after-multiplication"])
def test_dlarray_gru_has_exact_gradients(rng, mode):
    C, H, N, T = 2, 2, 2, 3
    X = rng.standard_normal((C, N, T))
    nb = 6 if mode.startswith("recurrent") else 3
    params = {"W": 0.5 * rng.standard_normal((3 * H, C)),
              "R": 0.5 * rng.standard_normal((3 * H, H)),
              "b": 0.5 * rng.standard_normal((nb * H, 1)), "h0": rng.standard_normal((H, 1))}
    wy, wh = rng.standard_normal((H, N, T)), rng.standard_normal((H, N))

    def model(p, x):
        Y, h = L.gru(x, p["h0"], p["W"], p["R"], p["b"], ResetGateMode=mode, nargout=2)
        return np.sum(Y * wy) + np.sum(h * wh)

    value, (g, gx) = dlfeval(lambda p, x: (lambda v: (v, dlgradient(v, p, x)))(model(p, x)),
                             {k: dlarray(v) for k, v in params.items()}, dlarray(X, "CBT"))
    for name, arr in list(params.items()) + [("X", X)]:
        numeric = numerical_gradient(
            lambda: float(model({k: dlarray(v) for k, v in params.items()}, dlarray(X, "CBT"))),
            arr)
        got = extractdata(gx) if name == "X" else extractdata(g[name])
        assert_gradient_close(got, numeric, rtol=1e-6, atol=1e-8, name=name)


def test_forward_skips_the_input_gradient_unless_dlgradient_asks_for_it(rng, monkeypatch):
    from lstmkit.graph import Graph
    asked = []
    original = Graph.backward

    def spy(self, *args, **kwargs):
        asked.append(kwargs.get("input_grads"))
        return original(self, *args, **kwargs)
    net = float64_network(rng, [L.sequenceInputLayer(2), L.lstmLayer(3),
                                L.fullyConnectedLayer(2)], 2)
    monkeypatch.setattr(Graph, "backward", spy)
    X = dlarray(rng.standard_normal((2, 3, 4)), "CBT")

    def loss_of(net, X, wrt_x):
        loss = L.mse(forward(net, X), np.zeros((2, 3, 4)), DataFormat="CBT")
        return dlgradient(loss, net.Learnables, X) if wrt_x else dlgradient(loss, net.Learnables)
    g_net = dlfeval(loss_of, net, X, False)
    g_both, g_x = dlfeval(loss_of, net, X, True)
    assert asked == [False, True]
    for a, b in zip(g_net.Value, g_both.Value):             # the same learnables' gradients
        np.testing.assert_array_equal(extractdata(a), extractdata(b))
    assert np.any(extractdata(g_x) != 0)


def test_updates_return_networks_that_share_nothing_changeable(rng):
    net = L.dlnetwork([L.sequenceInputLayer(2, Normalization="zscore", Mean=np.ones((2, 1)),
                                            StandardDeviation=np.ones((2, 1))),
                       L.lstmLayer(3), L.fullyConnectedLayer(1)])
    assert all(np.asarray(v).dtype == np.float32 for v in net.Learnables.Value)  # MATLAB: single
    states = Table({"Layer": ["lstm", "lstm"], "Parameter": ["HiddenState", "CellState"],
                    "Value": [np.full((3, 1), 0.5), np.full((3, 1), 0.25)]})
    net.State = states
    grad = L.dlupdate(lambda p: p * 0 + 1, net).Learnables
    new = L.adamupdate(net, grad, None, None, 1)
    assert all(np.asarray(v).dtype == np.float32 for v in new.Learnables.Value)
    assert new.Layers[1] is not net.Layers[1] and new.Layers[1].Name == "lstm"
    for old_layer, new_layer in zip(net.Layers, new.Layers):  # no array held by both
        for name, value in vars(old_layer).items():
            other = vars(new_layer)[name]
            values = value.values() if isinstance(value, dict) else [value]
            others = other.values() if isinstance(other, dict) else [other]
            for a, b in zip(values, others):
                if isinstance(a, np.ndarray):
                    assert not np.shares_memory(a, b), (old_layer.Name, name)
    before = [np.array(v) for v in net.Learnables.Value]
    new.Learnables.Value[0] = np.zeros((12, 2))
    new.State = Table({"Layer": ["lstm", "lstm"], "Parameter": ["HiddenState", "CellState"],
                       "Value": [np.ones((3, 1)), np.ones((3, 1))]})
    for a, b in zip(net.Learnables.Value, before):         # the old network: as it was
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(net.State.Value[0], np.full((3, 1), 0.5))
    assert L.predict(new, np.ones((4, 2))).shape == (4, 1)


def test_a_loop_iteration_leaves_no_reference_cycles(rng):
    """The trace (nodes, products, the network's forward caches) is freed when dlfeval's
    results are dropped, not when the garbage collector next runs: a cycle kept every
    iteration's caches alive and made the loop up to 1.5x slower."""
    import gc
    net = L.dlnetwork([L.sequenceInputLayer(2), L.lstmLayer(3, OutputMode="last"),
                       L.fullyConnectedLayer(2)])
    X = dlarray(rng.standard_normal((2, 4, 5)), "CBT")

    def model_loss(net, X):
        loss = L.l2loss(forward(net, X), np.zeros((2, 4)))
        return loss, dlgradient(loss, net.Learnables, X)
    for iteration in (1, 2):              # the first also makes one-off objects (ctypes types)
        gc.collect()
        gc.disable()
        try:
            loss, grad = dlfeval(model_loss, net, X)
            net = L.adamupdate(net, grad[0], None, None, iteration)
            del loss, grad
            garbage = gc.collect()
        finally:
            gc.enable()
    assert garbage == 0
