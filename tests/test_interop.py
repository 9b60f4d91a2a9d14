"""ONNX export/import, PyTorch state dicts and MATLAB learnables (issue 7)."""

import numpy as np
import pytest
import scipy.io

import lstmkit as lk
from lstmkit import (bilstmLayer, classificationLayer, dropoutLayer, exportONNXNetwork,
                     fullyConnectedLayer, gruLayer, importMATLABLearnables, importONNXNetwork,
                     loadPyTorchStateDict, lstmLayer, predict, predictAndUpdateState,
                     pyTorchStateDict, regressionLayer, sequenceInputLayer, softmaxLayer,
                     trainingOptions, trainNetwork)
import reference

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

QUIET = dict(Verbose=False)
R_ = np.random.default_rng(0)
X = [R_.standard_normal((3, int(T))) for T in R_.integers(1, 9, 7)]
LABELS = np.array(list("abcabca"))
SEQ = [R_.standard_normal((2, x.shape[1])) for x in X]


def head(task):
    return ([fullyConnectedLayer(3), softmaxLayer(), classificationLayer()] if task == "label"
            else [fullyConnectedLayer(2), regressionLayer()])


def recurrent(kind, mode):
    return {
        "lstm": lambda: lstmLayer(4, OutputMode=mode, HiddenState=0.1 * np.ones(4),
                                  CellState=-0.2 * np.ones(4)),
        "lstm-hard-softsign": lambda: lstmLayer(4, OutputMode=mode,
                                                GateActivationFunction="hard-sigmoid",
                                                StateActivationFunction="softsign"),
        "lstm-peepholes": lambda: lstmLayer(4, OutputMode=mode, HasPeepholes=True,
                                            PeepholeWeightsInitializer="narrow-normal"),
        "lstm-coupled": lambda: lstmLayer(4, OutputMode=mode, CoupledInputForget=True,
                                          HasPeepholes=True,
                                          PeepholeWeights=0.3 * np.arange(12) / 12),
        "bilstm": lambda: bilstmLayer(4, OutputMode=mode, CellState=0.1 * np.ones(8)),
        "gru-after": lambda: gruLayer(4, OutputMode=mode, BiasInitializer="narrow-normal",
                                      HiddenState=0.3 * np.ones(4)),
        "gru-before": lambda: gruLayer(4, OutputMode=mode, BiasInitializer="narrow-normal",
                                       ResetGateMode="before-multiplication"),
        "gru-recurrent-bias": lambda: gruLayer(
            4, OutputMode=mode, BiasInitializer="narrow-normal",
            ResetGateMode="recurrent-bias-after-multiplication"),
    }[kind]()


KINDS = ["lstm", "lstm-hard-softsign", "lstm-peepholes", "lstm-coupled", "bilstm", "gru-after",
         "gru-before", "gru-recurrent-bias"]


def trained(kind, task, normalization="zscore"):
    mode = "last" if task == "label" else "sequence"
    layers = [sequenceInputLayer(3, Normalization=normalization), recurrent(kind, mode),
              dropoutLayer(0.1)] + head(task)
    return trainNetwork(X, LABELS if task == "label" else SEQ, layers,
                        trainingOptions("adam", MaxEpochs=3, **QUIET))


def padded(X):
    T = max(x.shape[1] for x in X)
    out = np.zeros((T, len(X), X[0].shape[0]), np.float32)
    for n, x in enumerate(X):
        out[:x.shape[1], n] = x.T
    return out, np.array([x.shape[1] for x in X], np.int32)


def same(a, b, tol=1e-5):
    if isinstance(a, list):
        for p, q in zip(a, b):
            np.testing.assert_allclose(p, q, atol=tol, rtol=tol)
    else:
        np.testing.assert_allclose(a, b, atol=tol, rtol=tol)


@pytest.mark.parametrize("task", ["label", "sequence"])
@pytest.mark.parametrize("kind", KINDS)
def test_onnx_runtime_matches_predict_on_variable_lengths(tmp_path, kind, task):
    ort = pytest.importorskip("onnxruntime")
    net = trained(kind, task)
    path = exportONNXNetwork(net, str(tmp_path / "net.onnx"))
    onnx.checker.check_model(onnx.load(path))
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    xin, lengths = padded(X)
    out = sess.run(None, {"input": xin, "sequence_lengths": lengths})[0]
    ref = predict(net, X)
    if task == "label":
        same(out, ref)
    else:
        same([out[:L, n].T for n, L in enumerate(lengths)], ref)


@pytest.mark.parametrize("task", ["label", "sequence"])
@pytest.mark.parametrize("kind", KINDS)
def test_lstmkit_onnx_lstmkit_round_trip(tmp_path, kind, task):
    net = trained(kind, task, normalization="rescale-symmetric" if kind == "bilstm" else "zscore")
    path = exportONNXNetwork(net, str(tmp_path / "net.onnx"), OpsetVersion=17)
    back = importONNXNetwork(path)
    same(predict(back, X), predict(net, X))
    assert [type(a) for a in back.Layers if not isinstance(a, lk.DropoutLayer)] == \
        [type(a) for a in net.Layers if not isinstance(a, lk.DropoutLayer)]
    if task == "label":
        assert list(back.Classes) == list(net.Classes)
        np.testing.assert_array_equal(lk.classify(back, X), lk.classify(net, X))
    if not kind.startswith("bilstm"):   # ready for stateful use and further training
        predictAndUpdateState(back, X[0])
        trainNetwork(X, LABELS if task == "label" else SEQ, back.Layers,
                     trainingOptions("adam", MaxEpochs=1, **QUIET))


def test_export_options_and_errors(tmp_path):
    net = trained("lstm", "label")
    path = exportONNXNetwork(net, str(tmp_path / "a.onnx"), "BatchSize", 7,
                             SequenceLengthsInput=False, NetworkName="jv")
    model = onnx.load(path)
    assert [i.name for i in model.graph.input] == ["input"] and model.graph.name == "jv"
    assert model.graph.input[0].type.tensor_type.shape.dim[1].dim_value == 7
    with pytest.raises(ValueError, match="`OpsetVersion` must be from 13 to 21"):
        exportONNXNetwork(net, str(tmp_path / "b.onnx"), OpsetVersion=7)
    with pytest.raises(TypeError, match="exportONNXNetwork: `net` must be a network"):
        exportONNXNetwork("net", str(tmp_path / "c.onnx"))
    stateful, _ = predictAndUpdateState(net, X[:3], nargout=2)
    with pytest.raises(ValueError, match="holds 3 observations; export with BatchSize=3"):
        exportONNXNetwork(stateful, str(tmp_path / "d.onnx"))
    exportONNXNetwork(stateful, str(tmp_path / "d.onnx"), BatchSize=3)


# -- graphs built by hand: MATLAB's and PyTorch's layouts ----------------------------------

IFGO_TO_IOFC = lambda H: np.concatenate([np.arange(0, H), np.arange(3 * H, 4 * H),  # noqa: E731
                                         np.arange(H, 2 * H), np.arange(2 * H, 3 * H)])


def matlab_graph(path, mode, W, R, b, h0, c0, Wfc, bfc, softmax):
    """The structure MATLAB's exportONNXNetwork writes for seqIn -> lstm -> fc (-> softmax)."""
    H, C = R.shape[1], W.shape[1]
    order = IFGO_TO_IOFC(H)
    inits = [numpy_helper.from_array(W[order][None].astype(np.float32), "W"),
             numpy_helper.from_array(R[order][None].astype(np.float32), "R"),
             numpy_helper.from_array(np.concatenate([b[order], np.zeros(4 * H)])[None]
                                     .astype(np.float32), "B"),
             numpy_helper.from_array(h0.reshape(1, 1, H).astype(np.float32), "initial_h"),
             numpy_helper.from_array(c0.reshape(1, 1, H).astype(np.float32), "initial_c"),
             numpy_helper.from_array(Wfc.astype(np.float32), "fc_W"),
             numpy_helper.from_array(bfc.astype(np.float32), "fc_B"),
             numpy_helper.from_array(np.array([1]), "axes1"),
             numpy_helper.from_array(np.array([0]), "axes0")]
    nodes = [helper.make_node("LSTM", ["sequenceinput", "W", "R", "B", "", "initial_h",
                                       "initial_c"], ["lstm_Y", "lstm_Y_h", "lstm_Y_c"],
                              name="lstm", hidden_size=H, direction="forward",
                              activations=["Sigmoid", "Tanh", "Tanh"])]
    if mode == "last":
        nodes += [helper.make_node("Squeeze", ["lstm_Y_h", "axes0"], ["lstm_out"]),
                  helper.make_node("Gemm", ["lstm_out", "fc_W", "fc_B"], ["fc_out"], name="fc",
                                   transB=1)]
    else:
        nodes += [helper.make_node("Squeeze", ["lstm_Y", "axes1"], ["lstm_out"]),
                  helper.make_node("MatMul", ["lstm_out", "fcT"], ["fc_mm"], name="fc"),
                  helper.make_node("Add", ["fc_mm", "fc_B"], ["fc_out"])]
        inits.append(numpy_helper.from_array(Wfc.T.astype(np.float32).copy(), "fcT"))
    last = "fc_out"
    if softmax:
        nodes.append(helper.make_node("Softmax", ["fc_out"], ["softmax_out"], axis=-1))
        last = "softmax_out"
    g = helper.make_graph(nodes, "matlab", [helper.make_tensor_value_info(
        "sequenceinput", TensorProto.FLOAT, ["T", 1, C])],
        [helper.make_tensor_value_info(last, TensorProto.FLOAT, None)], inits)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)]), path)


@pytest.mark.parametrize("mode", ["last", "sequence"])
def test_import_matlab_layout(tmp_path, mode):
    r = np.random.default_rng(3)
    C, H, K = 3, 5, 4
    W, R, b = r.standard_normal((4 * H, C)), r.standard_normal((4 * H, H)), r.standard_normal(4 * H)
    h0, c0 = 0.1 * r.standard_normal(H), 0.1 * r.standard_normal(H)
    Wfc, bfc = r.standard_normal((K, H)), r.standard_normal(K)
    path = str(tmp_path / "matlab.onnx")
    matlab_graph(path, mode, W, R, b, h0, c0, Wfc, bfc, softmax=(mode == "last"))
    kwargs = dict(Classes=["w", "x", "y", "z"]) if mode == "last" else {}
    net = importONNXNetwork(path, **kwargs)
    lstm = net.Layers[1]
    assert lstm.OutputMode == mode
    np.testing.assert_allclose(lstm.InputWeights, W.astype(np.float32), rtol=1e-6)
    np.testing.assert_allclose(lstm.HiddenState[:, 0], h0.astype(np.float32), rtol=1e-6)
    x = r.standard_normal((C, 6))
    Y, hT, _ = reference.lstm_sequence(x, W, R, b, h0, c0)
    if mode == "last":
        z = Wfc @ hT + bfc
        expected = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
        np.testing.assert_allclose(predict(net, x)[0], expected, rtol=1e-4, atol=1e-6)
        assert list(net.Classes) == ["w", "x", "y", "z"]
        assert lk.classify(net, x)[0] == "wxyz"[np.argmax(expected)]
    else:
        np.testing.assert_allclose(predict(net, x), Wfc @ Y + bfc[:, None], rtol=1e-4, atol=1e-5)
        assert isinstance(net.Layers[-1], lk.RegressionOutputLayer)


def torch_style_graph(path, kind):
    """What torch.onnx.export writes for nn.LSTM/nn.GRU(batch_first=True) + Linear on out[:, -1]."""
    r = np.random.default_rng(4)
    C, H = 2, 3
    G = 4 if kind == "lstm" else 3
    Wt, Rt = r.standard_normal((G * H, C)), r.standard_normal((G * H, H))
    bih, bhh = r.standard_normal(G * H), r.standard_normal(G * H)
    if kind == "lstm":
        order = IFGO_TO_IOFC(H)
    else:  # torch r, z, n -> ONNX z, r, h
        order = np.concatenate([np.arange(H, 2 * H), np.arange(0, H), np.arange(2 * H, 3 * H)])
    Wl, bl = r.standard_normal((1, H)), r.standard_normal(1)
    inits = [numpy_helper.from_array(Wt[order][None].astype(np.float32), "W"),
             numpy_helper.from_array(Rt[order][None].astype(np.float32), "R"),
             numpy_helper.from_array(np.concatenate([bih[order], bhh[order]])[None]
                                     .astype(np.float32), "B"),
             numpy_helper.from_array(np.array([1]), "one"),
             numpy_helper.from_array(np.array(-1), "minus_one"),
             numpy_helper.from_array(Wl.astype(np.float32), "fc.weight"),
             numpy_helper.from_array(bl.astype(np.float32), "fc.bias")]
    op_inputs = ["xt", "W", "R", "B", "", "h0"] + (["c0"] if kind == "lstm" else [])
    nodes = [helper.make_node("Transpose", ["x"], ["xt"], perm=[1, 0, 2]),
             helper.make_node("Shape", ["x"], ["shape"]),
             helper.make_node("ConstantOfShape", ["state_shape"], ["h0"],
                              value=numpy_helper.from_array(np.zeros(1, np.float32))),
             helper.make_node(kind.upper(), op_inputs, ["Y", "Y_h"] +
                              (["Y_c"] if kind == "lstm" else []), name="rnn", hidden_size=H,
                              **({"linear_before_reset": 1} if kind == "gru" else {})),
             helper.make_node("Squeeze", ["Y", "one"], ["Ys"]),
             helper.make_node("Transpose", ["Ys"], ["Yb"], perm=[1, 0, 2]),
             helper.make_node("Gather", ["Yb", "minus_one"], ["last"], axis=1),
             helper.make_node("Gemm", ["last", "fc.weight", "fc.bias"], ["y"], transB=1)]
    if kind == "lstm":
        nodes.insert(3, helper.make_node("Identity", ["h0"], ["c0"]))
    inits.append(numpy_helper.from_array(np.array([1, 1, H]), "state_shape"))
    g = helper.make_graph(nodes, "torch", [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, ["N", "T", C])], [helper.make_tensor_value_info(
            "y", TensorProto.FLOAT, None)], inits)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)]), path)
    return Wt, Rt, bih, bhh, Wl, bl


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_import_torch_layout(tmp_path, kind):
    path = str(tmp_path / f"{kind}.onnx")
    Wt, Rt, bih, bhh, Wl, bl = torch_style_graph(path, kind)
    net = importONNXNetwork(path, OutputLayerType="regression")
    rec = net.Layers[1]
    assert rec.OutputMode == "last"
    x = np.random.default_rng(5).standard_normal((2, 7))
    if kind == "lstm":
        _, hT, _ = reference.lstm_sequence(x, Wt, Rt, bih + bhh, np.zeros(3), np.zeros(3))
    else:
        assert rec.ResetGateMode == "recurrent-bias-after-multiplication"
        _, hT = reference.gru_sequence(x, Wt, Rt, bih, bhh, np.zeros(3), "after")
    np.testing.assert_allclose(predict(net, x)[0], Wl @ hT + bl, rtol=1e-4, atol=1e-5)


def test_import_errors(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a protobuf at all" * 10)
    with pytest.raises(ValueError, match="importONNXNetwork: '.*' is not a readable ONNX model"):
        importONNXNetwork(str(bad))
    with pytest.raises(FileNotFoundError):
        importONNXNetwork(str(tmp_path / "missing.onnx"))
    g = helper.make_graph([helper.make_node("Softplus", ["x"], ["y"], name="act")], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [5, 1, 3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    path = str(tmp_path / "softplus.onnx")
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)]), path)
    with pytest.raises(ValueError, match="operator 'Softplus' \\(node 'act'\\) is not supported"):
        importONNXNetwork(path)
    net = trained("lstm", "label")
    good = exportONNXNetwork(net, str(tmp_path / "ok.onnx"))
    with pytest.raises(ValueError, match="`OutputLayerType` must be one of"):
        importONNXNetwork(good, OutputLayerType="segmentation")


def test_missing_onnx_package_is_a_clear_error(monkeypatch, tmp_path):
    import builtins
    real = builtins.__import__

    def no_onnx(name, *args, **kwargs):
        if name == "onnx" or name.startswith("onnx."):
            raise ImportError("No module named 'onnx'")
        return real(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_onnx)
    with pytest.raises(ImportError, match="the onnx package is not installed"):
        exportONNXNetwork(trained("lstm", "label"), str(tmp_path / "x.onnx"))


@pytest.mark.slow
def test_real_torch_export_imports(tmp_path):
    torch = pytest.importorskip("torch")

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = torch.nn.LSTM(3, 5, batch_first=True)
            self.fc = torch.nn.Linear(5, 2)

        def forward(self, x):
            out, _ = self.rnn(x)
            return self.fc(out[:, -1])

    model = Net().eval()
    x = torch.randn(4, 6, 3)
    path = str(tmp_path / "t.onnx")
    torch.onnx.export(model, (x,), path, input_names=["x"], output_names=["y"], dynamo=False,
                      opset_version=14)
    net = importONNXNetwork(path, OutputLayerType="regression")
    with torch.no_grad():
        expected = model(x).numpy()
    np.testing.assert_allclose(predict(net, [x[n].numpy().T for n in range(4)]), expected,
                               rtol=1e-4, atol=1e-5)


# -- PyTorch state dicts ------------------------------------------------------------------

def torch_style_state_dict(r, C, H, K, layers, bidirectional, kind="lstm"):
    G = 4 if kind == "lstm" else 3
    sd = {}
    D = 2 if bidirectional else 1
    for k in range(layers):
        cin = C if k == 0 else D * H
        for suffix in ([""] if D == 1 else ["", "_reverse"]):
            sd[f"rnn.weight_ih_l{k}{suffix}"] = r.standard_normal((G * H, cin))
            sd[f"rnn.weight_hh_l{k}{suffix}"] = r.standard_normal((G * H, H))
            sd[f"rnn.bias_ih_l{k}{suffix}"] = r.standard_normal(G * H)
            sd[f"rnn.bias_hh_l{k}{suffix}"] = r.standard_normal(G * H)
    sd["head.weight"] = r.standard_normal((K, D * H))
    sd["head.bias"] = r.standard_normal(K)
    return sd


def test_state_dict_two_layer_lstm_against_hand_computation():
    r = np.random.default_rng(6)
    sd = torch_style_state_dict(r, 3, 4, 2, layers=2, bidirectional=False)
    layers = [sequenceInputLayer(3), lstmLayer(4), lstmLayer(4, OutputMode="last"),
              fullyConnectedLayer(2), regressionLayer()]
    net = lk.assembleNetwork(loadPyTorchStateDict(layers, sd), dtype="float64")
    x = r.standard_normal((3, 5))
    z = np.zeros(4)
    Y1, _, _ = reference.lstm_sequence(x, sd["rnn.weight_ih_l0"], sd["rnn.weight_hh_l0"],
                                       sd["rnn.bias_ih_l0"] + sd["rnn.bias_hh_l0"], z, z)
    _, h2, _ = reference.lstm_sequence(Y1, sd["rnn.weight_ih_l1"], sd["rnn.weight_hh_l1"],
                                       sd["rnn.bias_ih_l1"] + sd["rnn.bias_hh_l1"], z, z)
    np.testing.assert_allclose(predict(net, x)[0], sd["head.weight"] @ h2 + sd["head.bias"],
                               rtol=1e-12)
    back = pyTorchStateDict(net)
    np.testing.assert_array_equal(back["lstm.weight_ih_l0"], sd["rnn.weight_ih_l0"])
    np.testing.assert_allclose(back["lstm_1.bias_ih_l0"] + back["lstm_1.bias_hh_l0"],
                               sd["rnn.bias_ih_l1"] + sd["rnn.bias_hh_l1"])
    np.testing.assert_array_equal(back["fc.weight"], sd["head.weight"])


def test_state_dict_bidirectional_and_gru():
    r = np.random.default_rng(7)
    sd = torch_style_state_dict(r, 2, 3, 1, layers=1, bidirectional=True)
    layers = loadPyTorchStateDict([sequenceInputLayer(2), bilstmLayer(3, OutputMode="last"),
                                   fullyConnectedLayer(1), regressionLayer()], sd)
    W = layers[1].InputWeights
    np.testing.assert_array_equal(W[:12], sd["rnn.weight_ih_l0"])
    np.testing.assert_array_equal(W[12:], sd["rnn.weight_ih_l0_reverse"])
    gsd = torch_style_state_dict(r, 2, 3, 1, layers=1, bidirectional=False, kind="gru")
    g = loadPyTorchStateDict([sequenceInputLayer(2), gruLayer(
        3, OutputMode="last", ResetGateMode="recurrent-bias-after-multiplication"),
        fullyConnectedLayer(1), regressionLayer()], gsd)
    net = lk.assembleNetwork(g, dtype="float64")
    x = r.standard_normal((2, 4))
    _, hT = reference.gru_sequence(x, gsd["rnn.weight_ih_l0"], gsd["rnn.weight_hh_l0"],
                                   gsd["rnn.bias_ih_l0"], gsd["rnn.bias_hh_l0"], np.zeros(3))
    np.testing.assert_allclose(predict(net, x)[0], gsd["head.weight"] @ hT + gsd["head.bias"],
                               rtol=1e-12)
    back = pyTorchStateDict(net)
    np.testing.assert_array_equal(back["gru.bias_hh_l0"], gsd["rnn.bias_hh_l0"])
    with pytest.raises(ValueError, match="must use ResetGateMode='recurrent-bias"):
        loadPyTorchStateDict([sequenceInputLayer(2), gruLayer(3), fullyConnectedLayer(1),
                              regressionLayer()], gsd)
    with pytest.raises(ValueError, match="1 recurrent layers but the state_dict holds 0"):
        loadPyTorchStateDict([sequenceInputLayer(2), lstmLayer(3), fullyConnectedLayer(1),
                              regressionLayer()], {"head.weight": np.ones((1, 3))})
    with pytest.raises(ValueError, match="needs InputWeights of size 16-by-2; the state_dict "
                                         "gives 12-by-2"):
        loadPyTorchStateDict([sequenceInputLayer(2), lstmLayer(4), fullyConnectedLayer(1),
                              regressionLayer()], torch_style_state_dict(r, 2, 3, 1, 1, False))


def test_state_dict_with_real_torch():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    rnn, fc = torch.nn.LSTM(3, 5, num_layers=2), torch.nn.Linear(5, 2)
    sd = {f"rnn.{k}": v for k, v in rnn.state_dict().items()}
    sd.update({f"fc.{k}": v for k, v in fc.state_dict().items()})
    layers = loadPyTorchStateDict([sequenceInputLayer(3), lstmLayer(5), lstmLayer(5),
                                   fullyConnectedLayer(2), regressionLayer()], sd)
    net = lk.assembleNetwork(layers)
    x = torch.randn(6, 1, 3)
    with torch.no_grad():
        expected = fc(rnn(x)[0])[:, 0].numpy().T
    np.testing.assert_allclose(predict(net, x[:, 0].numpy().T), expected, rtol=1e-4, atol=1e-5)


# -- MATLAB learnables ----------------------------------------------------------------------

def test_import_matlab_learnables_struct_and_flat(tmp_path):
    r = np.random.default_rng(8)
    W, R, b = r.standard_normal((16, 3)), r.standard_normal((16, 4)), r.standard_normal((16, 1))
    Wfc, bfc = r.standard_normal((2, 4)), r.standard_normal((2, 1))
    struct_file = tmp_path / "s.mat"
    scipy.io.savemat(struct_file, {"lstm": {"InputWeights": W, "RecurrentWeights": R, "Bias": b},
                                   "fc": {"Weights": Wfc, "Bias": bfc}})
    flat_file = tmp_path / "f.mat"
    scipy.io.savemat(flat_file, {"lstm_InputWeights": W, "lstm_RecurrentWeights": R,
                                 "lstm_Bias": b, "fc_Weights": Wfc, "fc_Bias": bfc})
    layers = [sequenceInputLayer(3), lstmLayer(4, OutputMode="last"), fullyConnectedLayer(2),
              regressionLayer()]
    for f in (struct_file, flat_file):
        got = importMATLABLearnables(layers, str(f))
        np.testing.assert_array_equal(got[1].InputWeights, W)
        np.testing.assert_array_equal(got[2].Bias, bfc)
        net = lk.assembleNetwork(got, dtype="float64")
        x = r.standard_normal((3, 4))
        _, hT, _ = reference.lstm_sequence(x, W, R, b, np.zeros(4), np.zeros(4))
        np.testing.assert_allclose(predict(net, x)[0], Wfc @ hT + bfc[:, 0], rtol=1e-12)
    assert layers[1].InputWeights is None    # the caller's layers are untouched
    wrong = tmp_path / "w.mat"
    scipy.io.savemat(wrong, {"lstm_InputWeights": W.T})
    with pytest.raises(ValueError, match="gives lstm.InputWeights of size 3-by-16; layer 'lstm' "
                                         "needs 16-by-3"):
        importMATLABLearnables([sequenceInputLayer(3), lstmLayer(4, InputWeights=W),
                                fullyConnectedLayer(2), regressionLayer()], str(wrong))
    empty = tmp_path / "e.mat"
    scipy.io.savemat(empty, {"other": np.ones(3)})
    with pytest.raises(ValueError, match="holds no learnables named after these layers"):
        importMATLABLearnables(layers, str(empty))


@pytest.mark.parametrize("opset", [13, 15, 17, 19, 21])
def test_every_opset_runs_in_onnx_runtime(tmp_path, opset):
    ort = pytest.importorskip("onnxruntime")
    net = trained("bilstm", "sequence")
    path = exportONNXNetwork(net, str(tmp_path / "n.onnx"), OpsetVersion=opset)
    assert onnx.load(path).opset_import[0].version == opset
    xin, lengths = padded(X)
    out = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(
        None, {"input": xin, "sequence_lengths": lengths})[0]
    same([out[:L, n].T for n, L in enumerate(lengths)], predict(net, X))
