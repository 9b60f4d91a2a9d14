"""Weights from and to PyTorch state dicts and MATLAB MAT-files.

PyTorch's ``nn.LSTM`` stores ``weight_ih_l{k}`` (4H-by-C), ``weight_hh_l{k}``
(4H-by-H), ``bias_ih_l{k}`` and ``bias_hh_l{k}`` (4H each) in the gate order
i, f, g, o, the same as MATLAB's, so an LSTM's weights carry over as they are
and its bias is ``bias_ih + bias_hh``; a bidirectional layer adds the same
names with ``_reverse``.  ``nn.GRU`` uses r, z, n (MATLAB's r, z, h) and keeps
its two biases apart, which is MATLAB's 'recurrent-bias-after-multiplication'
(Bias 6H-by-1 = [bias_ih; bias_hh]).  ``nn.Linear`` has ``weight`` (K-by-C)
and ``bias``.
"""

from __future__ import annotations

import difflib
import os
import re
from typing import Any, Mapping, Sequence

import numpy as np
import scipy.io

from .._files import check_mat_size
from .._validation import checked_call, _show, fail, size_text
from ..layers.base import Layer
from ..layers.bilstm import BiLSTMLayer
from ..layers.fully_connected import FullyConnectedLayer
from ..layers.gru import GRULayer
from ..layers.lstm import LSTMLayer
from ..network import SeriesNetwork, copy_and_name_layers

_RNN_KEY = re.compile(r"^(?P<prefix>.*?)(?P<kind>weight_ih|weight_hh|bias_ih|bias_hh)_l(?P<layer>\d+)"
                      r"(?P<rev>_reverse)?$")


def _numpy(func, key, value):
    """A float64 array from a torch tensor or array-like (torch itself is not needed)."""
    if hasattr(value, "detach"):
        value = value.detach()
    if hasattr(value, "cpu"):
        value = value.cpu()
    if hasattr(value, "numpy"):
        value = value.numpy()
    if np.iscomplexobj(value):
        fail(func, f"state_dict entry '{key}' is complex; weights must be real.", TypeError)
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        fail(func, f"state_dict entry '{key}' is not numeric. Received: {_show(value)}.",
             TypeError)
    if not np.all(np.isfinite(arr)):
        fail(func, f"state_dict entry '{key}' contains NaN or Inf.")
    return arr


def _group_state_dict(func, state_dict):
    """Split a state_dict into modules, in order: ('rnn', prefix, {(layer, rev): {kind: arr}})
    and ('linear', prefix, {'weight': arr, 'bias': arr})."""
    if not hasattr(state_dict, "items"):
        fail(func, f"`state_dict` must be a mapping of names to tensors or arrays. "
                   f"Received: {_show(state_dict)}.", TypeError)
    modules, index = [], {}
    for key, value in state_dict.items():
        if not isinstance(key, str):
            fail(func, f"state_dict keys must be str. Received: {_show(key)}.", TypeError)
        match = _RNN_KEY.match(key)
        if match:
            prefix = match["prefix"]
            if ("rnn", prefix) not in index:
                index[("rnn", prefix)] = len(modules)
                modules.append(("rnn", prefix, {}))
            entry = modules[index[("rnn", prefix)]][2].setdefault(
                (int(match["layer"]), bool(match["rev"])), {})
            entry[match["kind"]] = _numpy(func, key, value)
        elif key.endswith("weight") or key.endswith("bias"):
            prefix, kind = key[:-len("weight")] if key.endswith("weight") else key[:-len("bias")], \
                "weight" if key.endswith("weight") else "bias"
            if ("linear", prefix) not in index:
                index[("linear", prefix)] = len(modules)
                modules.append(("linear", prefix, {}))
            modules[index[("linear", prefix)]][2][kind] = _numpy(func, key, value)
        # other entries (batch-norm statistics, ...) are not lstmkit's and are skipped
    return modules


def _expect(func, layer, name, value, shape):
    if value.shape != shape:
        fail(func, f"layer '{layer.Name}' ({layer.type_name}) needs {name} of size "
                   f"{size_text(shape)}; the state_dict gives "
                   f"{size_text(value.shape)}.")
    return value


@checked_call
def loadPyTorchStateDict(layers: Sequence[Layer], state_dict: Mapping[str, Any]) -> list[Layer]:
    """Copy PyTorch weights into lstmkit layers, in order.

    The recurrent layers take the recurrent modules' layers in order
    (``nn.LSTM(num_layers=2)`` fills two lstmLayers; a bidirectional one fills
    bilstmLayers), and the fully connected layers take the ``nn.Linear``
    modules in order.  Sizes are checked.

    Parameters
    ----------
    layers : list of layers or SeriesNetwork
        Layers created with the sizes of the PyTorch model (e.g.
        ``lstmLayer(128)``); gruLayers must use
        ``ResetGateMode='recurrent-bias-after-multiplication'``, PyTorch's GRU.
    state_dict : mapping
        ``model.state_dict()``: torch tensors or numpy arrays.

    Returns
    -------
    list of layers
        Copies of ``layers`` with the weights set (use them in trainNetwork or
        assembleNetwork).

    Examples
    --------
    A state dict as ``nn.LSTM(3, 4)`` and ``nn.Linear(4, 2)`` name their weights (numpy
    arrays here; torch tensors work the same):

    >>> import numpy as np
    >>> from lstmkit import *
    >>> rs = np.random.default_rng(0)
    >>> state = {"lstm.weight_ih_l0": rs.standard_normal((16, 3)),
    ...          "lstm.weight_hh_l0": rs.standard_normal((16, 4)),
    ...          "lstm.bias_ih_l0": np.zeros(16), "lstm.bias_hh_l0": np.zeros(16),
    ...          "fc.weight": rs.standard_normal((2, 4)), "fc.bias": np.zeros(2)}
    >>> layers = loadPyTorchStateDict([sequenceInputLayer(3), lstmLayer(4, OutputMode="last"),
    ...                                fullyConnectedLayer(2), regressionLayer()], state)
    >>> layers[1].InputWeights.shape
    (16, 3)
    """
    func = "loadPyTorchStateDict"
    layers = copy_and_name_layers(func, layers)
    modules = _group_state_dict(func, state_dict)
    rnn_parts = [(prefix, key, arrs) for kind, prefix, entries in modules if kind == "rnn"
                 for key, arrs in sorted(entries.items(), key=lambda kv: (kv[0][0],))]
    # one lstmkit recurrent layer per PyTorch layer index: forward (+ reverse)
    rnn_layers = []
    for prefix, (k, rev), arrs in rnn_parts:
        if not rev:
            rnn_layers.append((prefix, k, arrs, None))
    for prefix, (k, rev), arrs in rnn_parts:
        if rev:
            for i, (p, kk, fwd, _) in enumerate(rnn_layers):
                if p == prefix and kk == k:
                    rnn_layers[i] = (p, kk, fwd, arrs)
    linears = [entries for kind, _, entries in modules if kind == "linear"]
    targets = [layer for layer in layers if isinstance(layer, (LSTMLayer, BiLSTMLayer, GRULayer))]
    for layer in targets:
        if hasattr(layer, "InputProjector"):
            fail(func, f"layer '{layer.Name}' is a projected layer, whose factored weights "
                       f"PyTorch's nn.LSTM and nn.GRU do not have.")
    fcs = [layer for layer in layers if isinstance(layer, FullyConnectedLayer)]
    if len(targets) != len(rnn_layers):
        fail(func, f"the layers have {len(targets)} recurrent layers but the state_dict holds "
                   f"{len(rnn_layers)} recurrent layers.")
    if len(fcs) != len(linears):
        fail(func, f"the layers have {len(fcs)} fully connected layers but the state_dict holds "
                   f"{len(linears)} Linear modules.")
    for layer, (prefix, k, fwd, rev) in zip(targets, rnn_layers):
        H = layer.NumHiddenUnits
        directions = [fwd] if rev is None else [fwd, rev]
        if isinstance(layer, BiLSTMLayer) != (rev is not None):
            fail(func, f"layer '{layer.Name}' ({layer.type_name}) does not match "
                       f"{prefix}l{k}: {'bidirectional' if rev is not None else 'one-way'} in "
                       f"PyTorch.")
        for d in directions:
            for kind in ("weight_ih", "weight_hh"):
                if kind not in d:
                    fail(func, f"{prefix}{kind}_l{k} is missing from the state_dict.")
        G = 3 if isinstance(layer, GRULayer) else 4
        C = directions[0]["weight_ih"].shape[1]
        Ws = [_expect(func, layer, "InputWeights", d["weight_ih"], (G * H, C)) for d in directions]
        Rs = [_expect(func, layer, "RecurrentWeights", d["weight_hh"], (G * H, H))
              for d in directions]
        zero = np.zeros(G * H)
        for d in directions:
            for kind in ("bias_ih", "bias_hh"):
                if kind in d:
                    _expect(func, layer, f"{kind} (Bias)", d[kind], (G * H,))
        if isinstance(layer, GRULayer):
            if layer.ResetGateMode != "recurrent-bias-after-multiplication":
                fail(func, f"layer '{layer.Name}' must use ResetGateMode="
                           f"'recurrent-bias-after-multiplication' to hold PyTorch's GRU "
                           f"(whose bias_hh acts inside the reset gate).")
            bias = np.concatenate([directions[0].get("bias_ih", zero),
                                   directions[0].get("bias_hh", zero)])
        else:
            bias = np.concatenate([d.get("bias_ih", zero) + d.get("bias_hh", zero)
                                   for d in directions])
        layer.InputWeights = np.vstack(Ws)
        layer.RecurrentWeights = np.vstack(Rs)
        layer.Bias = bias.reshape(-1, 1)
        layer.InputSize = C
    for layer, entries in zip(fcs, linears):
        if "weight" not in entries:
            fail(func, "a Linear module's weight is missing from the state_dict.")
        W = _expect(func, layer, "Weights", entries["weight"],
                    (layer.OutputSize, entries["weight"].shape[1]))
        layer.Weights = W
        bias = entries.get("bias", np.zeros(layer.OutputSize))
        _expect(func, layer, "Bias", bias, (layer.OutputSize,))
        layer.Bias = bias.reshape(-1, 1)
        layer.InputSize = W.shape[1]
    return layers


@checked_call
def pyTorchStateDict(net: SeriesNetwork) -> dict[str, np.ndarray]:
    """lstmkit weights as a PyTorch-style state_dict of numpy arrays.

    Each recurrent layer becomes its own one-layer module named after the
    layer (``"lstm.weight_ih_l0"``, ...; ``bias_hh`` zero for LSTM layers),
    each fully connected layer ``"<name>.weight"`` / ``"<name>.bias"``.
    Load it with ``torch_module.load_state_dict({k: torch.from_numpy(v) ...})``
    after renaming the keys to the modules of the PyTorch model.

    Parameters
    ----------
    net : SeriesNetwork
        A trained or assembled network.

    Returns
    -------
    dict of str to ndarray
        The weights, in PyTorch's gate order and layouts.

    Examples
    --------
    >>> import numpy as np
    >>> from lstmkit import *
    >>> net = assembleNetwork([sequenceInputLayer(2), fullyConnectedLayer(
    ...     1, Weights=[[1.0, 2.0]], Bias=[0.5]), regressionLayer()])
    >>> sorted(pyTorchStateDict(net))
    ['fc.bias', 'fc.weight']
    """
    func = "pyTorchStateDict"
    layers = net.Layers if isinstance(net, SeriesNetwork) else copy_and_name_layers(func, net)
    out = {}
    for layer in layers:
        if isinstance(layer, (LSTMLayer, BiLSTMLayer, GRULayer)):
            if hasattr(layer, "InputProjector"):
                fail(func, f"layer '{layer.Name}' is a projected layer, whose factored "
                           f"weights PyTorch's nn.LSTM and nn.GRU do not have.")
            if getattr(layer, "HasPeepholes", False) or getattr(layer, "CoupledInputForget", False):
                fail(func, f"layer '{layer.Name}' uses peepholes or coupled gates, which "
                           f"PyTorch's nn.LSTM does not have.")
            if isinstance(layer, GRULayer) and \
                    layer.ResetGateMode != "recurrent-bias-after-multiplication":
                if layer.ResetGateMode == "before-multiplication":
                    fail(func, f"layer '{layer.Name}': PyTorch's nn.GRU applies the reset gate "
                               f"after the multiplication; 'before-multiplication' cannot be "
                               f"expressed.")
            H = layer.NumHiddenUnits
            G = 3 if isinstance(layer, GRULayer) else 4
            W = np.asarray(layer.InputWeights)
            R = np.asarray(layer.RecurrentWeights)
            b = np.asarray(layer.Bias).reshape(-1)
            dirs = 2 if isinstance(layer, BiLSTMLayer) else 1
            for d in range(dirs):
                suffix = "_reverse" if d else ""
                rows = slice(d * G * H, (d + 1) * G * H)
                out[f"{layer.Name}.weight_ih_l0{suffix}"] = W[rows].copy()
                out[f"{layer.Name}.weight_hh_l0{suffix}"] = R[rows].copy()
                if isinstance(layer, GRULayer):
                    bias_hh = b[3 * H:] if b.size == 6 * H else np.zeros(3 * H)
                    out[f"{layer.Name}.bias_ih_l0"] = b[:3 * H].copy()
                    out[f"{layer.Name}.bias_hh_l0"] = bias_hh.copy()
                else:
                    out[f"{layer.Name}.bias_ih_l0{suffix}"] = b[rows].copy()
                    out[f"{layer.Name}.bias_hh_l0{suffix}"] = np.zeros(G * H)
        elif isinstance(layer, FullyConnectedLayer):
            out[f"{layer.Name}.weight"] = np.asarray(layer.Weights).copy()
            out[f"{layer.Name}.bias"] = np.asarray(layer.Bias).reshape(-1).copy()
    return out


@checked_call
def importMATLABLearnables(layers: Sequence[Layer], filename: str | os.PathLike) -> list[Layer]:
    """Set layer weights from a MAT-file a MATLAB user saved.

    The file holds, for each layer, either a struct named after the layer with
    its learnables as fields (``learnables.lstm.InputWeights = ...;
    save('w.mat', '-struct', 'learnables')``) or variables named
    ``<layer>_<Property>`` (``lstm_InputWeights``).  Property names are
    MATLAB's (InputWeights, RecurrentWeights, Bias, Weights, ...), and so are
    the shapes, which are checked.

    Parameters
    ----------
    layers : list of layers
        The layer array the weights belong to (layers are matched by name;
        unnamed layers get trainNetwork's automatic names).
    filename : str or path
        The MAT-file.

    Returns
    -------
    list of layers
        Copies of ``layers`` with the weights set.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import scipy.io
    >>> from lstmkit import *
    >>> path = os.path.join(tempfile.mkdtemp(), "w.mat")
    >>> scipy.io.savemat(path, {"fc": {"Weights": np.ones((2, 4)), "Bias": np.zeros((2, 1))}})
    >>> layers = importMATLABLearnables([sequenceInputLayer(4), fullyConnectedLayer(2, Name="fc"),
    ...                                  regressionLayer()], path)
    >>> layers[1].Weights.tolist()
    [[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]]
    """
    func = "importMATLABLearnables"
    layers = copy_and_name_layers(func, layers)
    if not isinstance(filename, (str, os.PathLike)) or not os.path.isfile(filename):
        fail(func, f"file {_show(filename)} does not exist.", FileNotFoundError)
    check_mat_size(func, os.fspath(filename))
    try:
        contents = scipy.io.loadmat(filename, squeeze_me=False, struct_as_record=False)
    except Exception as err:  # scipy raises many kinds for damaged files
        fail(func, f"'{filename}' is not a readable MAT-file: {type(err).__name__}: {err}")
    found = 0
    used = set()
    known = [f"{layer.Name}_{lb.name}" for layer in layers for lb in layer.learnables]
    for layer in layers:
        struct = contents.get(layer.Name)
        record = None
        if struct is not None and isinstance(struct, np.ndarray) and struct.dtype == object \
                and struct.size:
            record = struct.reshape(-1)[0]
            used.add(layer.Name)
            names = [lb.name for lb in layer.learnables]
            for field in getattr(record, "_fieldnames", []) or []:
                if field not in names:         # a misspelt property would be lost silently
                    close = difflib.get_close_matches(field, names, n=1)
                    fail(func, f"'{filename}' gives {layer.Name}.{field}, which is not a "
                               f"learnable of layer '{layer.Name}' ({layer.type_name}: "
                               f"{', '.join(names) or 'none'})"
                               + (f"; did you mean {close[0]!r}?" if close else "."))
        for lb in layer.learnables:
            value = None
            if record is not None:
                value = getattr(record, lb.name, None)
            flat = contents.get(f"{layer.Name}_{lb.name}")
            if flat is not None:
                used.add(f"{layer.Name}_{lb.name}")
            if value is None and flat is not None:
                value = flat
            if value is None:
                continue
            value = np.array(value, dtype=np.float64)
            current = getattr(layer, lb.name)
            if lb.name in ("Bias", "PeepholeWeights"):
                value = value.reshape(-1, 1)
            expected = None if current is None else np.shape(current)
            if expected is None:
                shape, _, _ = layer._learnable_shape(
                    lb.name, value.shape[1] if lb.name in ("InputWeights", "Weights") else 1)
                expected = shape
            if value.shape != tuple(expected):
                fail(func, f"'{filename}' gives {layer.Name}.{lb.name} of size "
                           f"{size_text(value.shape)}; layer '{layer.Name}' needs "
                           f"{size_text(expected)}.")
            if not np.all(np.isfinite(value)):
                fail(func, f"{layer.Name}.{lb.name} in '{filename}' contains NaN or Inf.")
            setattr(layer, lb.name, value)
            if lb.name in ("InputWeights", "Weights"):
                layer.InputSize = value.shape[1]
            found += 1
    unknown = [k for k in contents if not k.startswith("__") and k not in used]
    if unknown and found:
        close = difflib.get_close_matches(unknown[0], known + [layer.Name for layer in layers],
                                          n=1)
        fail(func, f"'{filename}' holds {', '.join(repr(k) for k in unknown[:5])}, which match "
                   f"no layer's learnable (structs named after layers, or variables named "
                   f"<layer>_<Property>)" + (f"; did you mean {close[0]!r}?" if close else "."))
    if not found:
        fail(func, f"'{filename}' holds no learnables named after these layers "
                   f"({', '.join(layer.Name for layer in layers)}); expected structs or "
                   f"variables like '{layers[1].Name if len(layers) > 1 else 'lstm'}_InputWeights'.")
    return layers
