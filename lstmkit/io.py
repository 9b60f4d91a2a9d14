"""saveNetwork and loadNetwork: networks as plain MAT-files, without pickle.

The file is a MATLAB MAT-file (``scipy.io.savemat``) a MATLAB user can open:

* ``lstmkit_format``: the format name and version;
* ``lstmkit_meta``: a JSON text with every layer's class and configuration,
  the network's precision and the scalar training information;
* one numeric variable per learnable, statistic or state, named
  ``layer<k>_<Property>`` (``layer2_InputWeights``, ``layer1_Mean``, ...), and
  ``TrainingInfo_<Field>`` for the training history.

Loading reads only numbers and JSON text and maps class names through a fixed
table, so it never executes code from the file.  A file is written to a
temporary name in the same folder and then renamed, so an interrupted save
leaves any earlier file intact.
"""

from __future__ import annotations

import io
import json
import math
import os
from typing import Sequence

import numpy as np
import scipy.io

from ._files import check_mat_size, write_atomically
from ._validation import checked_call, _show, fail, size_text
from .layers.activations import (ClippedReLULayer, ELULayer, GELULayer, LeakyReLULayer, ReLULayer,
                                 SigmoidLayer, SwishLayer, TanhLayer)
from .layers.attention import PositionEmbeddingLayer, SelfAttentionLayer
from .layers.base import Layer
from .layers.custom import CustomClassificationLayer, CustomLayer, CustomRegressionLayer
from .layers.convolution import (AveragePooling1DLayer, Convolution1DLayer, FlattenLayer,
                                 GlobalAveragePooling1DLayer, GlobalMaxPooling1DLayer,
                                 Indexing1DLayer, MaxPooling1DLayer)
from .layers.embedding import WordEmbeddingLayer
from .layers.merge import AdditionLayer, ConcatenationLayer, MultiplicationLayer
from .layers.normalization import BatchNormalizationLayer, LayerNormalizationLayer
from .layers.bilstm import BiLSTMLayer
from .layers.dropout import DropoutLayer
from .layers.fully_connected import FullyConnectedLayer
from .layers.gru import GRULayer, GRUProjectedLayer
from .layers.lstm import LSTMLayer, LSTMProjectedLayer
from .layers.output import ClassificationOutputLayer, RegressionOutputLayer
from .layers.sequence_input import FeatureInputLayer, SequenceInputLayer
from .layers.softmax import SoftmaxLayer
from .dlnetwork import DLNetwork
from .network import DAGNetwork, SeriesNetwork, check_layers, make_network
from .training.info import TrainingInfo

FORMAT = "lstmkit-network"
VERSION = 1
#: the format version of a saved dlnetwork (layers plus their connections)
DLNETWORK_VERSION = 2

LAYER_CLASSES = {cls.__name__: cls for cls in (
    SequenceInputLayer, LSTMLayer, BiLSTMLayer, GRULayer, DropoutLayer, FullyConnectedLayer,
    SoftmaxLayer, ClassificationOutputLayer, RegressionOutputLayer, ReLULayer, LeakyReLULayer,
    ClippedReLULayer, ELULayer, TanhLayer, SigmoidLayer, SwishLayer, GELULayer, AdditionLayer,
    ConcatenationLayer, MultiplicationLayer, LayerNormalizationLayer, Convolution1DLayer,
    MaxPooling1DLayer, AveragePooling1DLayer, GlobalAveragePooling1DLayer,
    GlobalMaxPooling1DLayer, FeatureInputLayer, Indexing1DLayer, FlattenLayer,
    WordEmbeddingLayer, BatchNormalizationLayer, SelfAttentionLayer, PositionEmbeddingLayer,
    LSTMProjectedLayer, GRUProjectedLayer)}


class MissingFunction:
    """Stands for a user function (an initializer) that a saved file cannot hold."""

    def __init__(self, name):
        self.__name__ = name

    def __call__(self, *args, **kwargs):
        raise ValueError(f"the function '{self.__name__}' was not saved with the network; set "
                         f"the layer's initializer again before initializing new weights.")

    def __repr__(self):
        return f"<unsaved function {self.__name__}>"


def _encode(value, arrays, key):
    """JSON-ready form of a property; float arrays go to ``arrays[key]``."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f":
            arrays[key] = value
            return {"__array__": key, "shape": list(value.shape)}
        return {"__values__": value.tolist(), "dtype": value.dtype.str}
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    if isinstance(value, dict):
        return {"__dict__": {k: _encode(v, arrays, f"{key}_{k}") for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return [_encode(v, arrays, f"{key}_{i}") for i, v in enumerate(value)]
    if callable(value):
        return {"__function__": getattr(value, "__name__", "function")}
    return value


def _decode(value, arrays, filename):
    if isinstance(value, dict):
        if "__array__" in value:
            name = value["__array__"]
            if name not in arrays:
                fail("loadNetwork", f"'{filename}' is corrupted: the variable '{name}' is missing.")
            arr = np.asarray(arrays[name])
            shape = tuple(int(d) for d in value["shape"])
            if any(d < 0 for d in shape) or arr.size != math.prod(shape):
                fail("loadNetwork", f"'{filename}' is corrupted: '{name}' has {arr.size} values, "
                                    f"expected {size_text(shape)}.")
            return np.ascontiguousarray(arr.reshape(shape))
        if "__values__" in value:
            try:
                dtype = np.dtype(value["dtype"])
            except TypeError:
                dtype = None
            if dtype is None or dtype.kind not in "biufU":
                fail("loadNetwork", f"'{filename}' is corrupted: values of type "
                                    f"{_show(value['dtype'])}.")
            if dtype.kind == "U":     # as wide as the strings are, whatever width is declared
                return np.array(value["__values__"], dtype=str)
            return np.array(value["__values__"], dtype=dtype)
        if "__dict__" in value:
            return {k: _decode(v, arrays, filename) for k, v in value["__dict__"].items()}
        if "__function__" in value:
            return MissingFunction(value["__function__"])
        fail("loadNetwork", f"'{filename}' is corrupted: unexpected entry {list(value)[:3]}.")
    if isinstance(value, list):
        return [_decode(v, arrays, filename) for v in value]
    return value


@checked_call
def saveNetwork(net: SeriesNetwork | DLNetwork, filename: str | os.PathLike) -> str:
    """Save a network to a MAT-file (layers, weights, classes, statistics, training info).

    Parameters
    ----------
    net : SeriesNetwork or DLNetwork
        A dlnetwork is saved with its connections and state (an uninitialized
        one too).
    filename : str or path
        ``.mat`` is appended when missing, as MATLAB's ``save`` does.

    Returns
    -------
    str
        The file written.

    Examples
    --------
    >>> import os, tempfile
    >>> from lstmkit import *
    >>> net = assembleNetwork([sequenceInputLayer(2), fullyConnectedLayer(
    ...     1, Weights=[[1.0, 2.0]], Bias=[0.5]), regressionLayer()])
    >>> path = saveNetwork(net, os.path.join(tempfile.mkdtemp(), "net"))   # adds .mat
    >>> os.path.basename(path)
    'net.mat'
    """
    if not isinstance(net, (SeriesNetwork, DLNetwork)):
        fail("saveNetwork", f"`net` must be a network from trainNetwork, assembleNetwork, "
                            f"dlnetwork or trainnet. Received: {_show(net)}.", TypeError)
    filename = _mat_name("saveNetwork", filename)
    contents = _contents(net)
    write_atomically(filename, lambda f: scipy.io.savemat(f, contents, do_compression=True),
                     func="saveNetwork")
    return filename


def _contents(net):
    """The MAT-file variables of a network: JSON metadata and float arrays (no code)."""
    arrays = {}
    layers = []
    for k, layer in enumerate(net.Layers, 1):
        props = {name: _encode(value, arrays, f"layer{k}_{name.lstrip('_')}")
                 for name, value in vars(layer).items()}
        layers.append({"class": type(layer).__name__, "properties": props})
    info = None
    if isinstance(net, SeriesNetwork) and net.TrainingInfo is not None:
        info = {name: _encode(net.TrainingInfo[name], arrays, f"TrainingInfo_{name}")
                for name in net.TrainingInfo.keys()}
    meta = {"format": FORMAT, "version": VERSION, "dtype": str(net._dtype), "layers": layers,
            "training_info": info}
    if isinstance(net, DLNetwork):    # version 2: older readers say "upgrade" instead of failing
        meta.update(version=DLNETWORK_VERSION, network="dlnetwork",
                    connections=[list(c) for c in net._connections])
    elif isinstance(net, DAGNetwork):
        meta.update(version=DLNETWORK_VERSION, network="dag",
                    connections=[list(c) for c in net._connections])
    contents = {"lstmkit_format": f"{FORMAT} {meta['version']}",
                "lstmkit_meta": json.dumps(meta)}
    contents.update(arrays)
    return contents


def network_to_bytes(net):
    """A network in saveNetwork's format, as the bytes of a MAT-file (to send to a process)."""
    buffer = io.BytesIO()
    scipy.io.savemat(buffer, _contents(net), do_compression=True)
    return buffer.getvalue()


def network_from_bytes(data, custom_layers=(), func="loadNetwork"):
    """The network of :func:`network_to_bytes`' bytes (never executes code from them)."""
    contents = scipy.io.loadmat(io.BytesIO(data), squeeze_me=False, chars_as_strings=True)
    classes = dict(LAYER_CLASSES)
    classes.update({cls.__name__: cls for cls in custom_layers})
    return _from_contents(func, contents, "<network bytes>", classes)


def _mat_name(func, filename):
    if not isinstance(filename, (str, os.PathLike)):
        fail(func, f"`filename` must be a str or path. Received: {_show(filename)}.", TypeError)
    filename = os.fspath(filename)
    return filename if filename.lower().endswith(".mat") else filename + ".mat"


@checked_call
def loadNetwork(filename: str | os.PathLike, *,
                CustomLayers: Sequence[type] = ()) -> SeriesNetwork | DLNetwork:
    """Load a network saved by :func:`saveNetwork` (or a training checkpoint).

    Parameters
    ----------
    filename : str or path
        The MAT-file; ``.mat`` is appended when missing, as MATLAB's ``load``
        does.
    CustomLayers : list of classes, optional
        lstmkit extension: the custom layer classes (subclasses of
        CustomLayer, CustomClassificationLayer or CustomRegressionLayer) the
        file's network uses; MATLAB finds them on its path, Python needs them
        named (the file holds their properties, never their code).

    Returns
    -------
    SeriesNetwork or DLNetwork
        The network, bit-identical to the one saved.

    Raises
    ------
    FileNotFoundError
        When the file does not exist.
    ValueError
        When it is truncated, corrupted, or not an lstmkit network file.
        Loading never executes code from the file.

    Examples
    --------
    >>> import os, tempfile
    >>> from lstmkit import *
    >>> net = assembleNetwork([sequenceInputLayer(2), fullyConnectedLayer(
    ...     1, Weights=[[1.0, 2.0]], Bias=[0.5]), regressionLayer()])
    >>> path = saveNetwork(net, os.path.join(tempfile.mkdtemp(), "net.mat"))
    >>> loadNetwork(path).Layers[1].Weights.tolist()
    [[1.0, 2.0]]
    """
    func = "loadNetwork"
    classes = dict(LAYER_CLASSES)
    for cls in CustomLayers:
        if not (isinstance(cls, type) and issubclass(
                cls, (CustomLayer, CustomClassificationLayer, CustomRegressionLayer))):
            fail(func, f"`CustomLayers` must hold custom layer classes (subclasses of "
                       f"CustomLayer, CustomClassificationLayer or CustomRegressionLayer). "
                       f"Received: {_show(cls)}.", TypeError)
        classes[cls.__name__] = cls
    path = _mat_name(func, filename)
    if not os.path.exists(path) and os.path.exists(os.fspath(filename)):
        path = os.fspath(filename)
    if not os.path.isfile(path):
        fail(func, f"file '{path}' does not exist.", FileNotFoundError)
    check_mat_size(func, path)
    try:
        contents = scipy.io.loadmat(path, squeeze_me=False, chars_as_strings=True)
    except Exception as err:  # scipy raises many kinds for damaged files
        fail(func, f"'{path}' is not a readable MAT-file (truncated or corrupted?): "
                   f"{type(err).__name__}: {err}")
    return _from_contents(func, contents, path, classes)


def _from_contents(func, contents, path, classes):
    """The network of a MAT-file's variables (checked: a damaged file is a clear error)."""
    if "lstmkit_format" not in contents or "lstmkit_meta" not in contents:
        fail(func, f"'{path}' is a MAT-file but not an lstmkit network (no 'lstmkit_format' "
                   f"entry); save networks with saveNetwork.")
    try:
        marker = str(np.asarray(contents["lstmkit_format"]).reshape(-1)[0])
        meta = json.loads(str(np.asarray(contents["lstmkit_meta"]).reshape(-1)[0]))
    except (ValueError, IndexError, RecursionError) as err:
        fail(func, f"'{path}' is corrupted: its description cannot be read ({err}).")
    if marker.split()[0] != FORMAT or not isinstance(meta, dict) or meta.get("format") != FORMAT:
        fail(func, f"'{path}' is not an lstmkit network file.")
    if meta.get("version", 0) > DLNETWORK_VERSION:
        fail(func, f"'{path}' was written by a newer lstmkit (format version "
                   f"{meta.get('version')}); upgrade lstmkit to read it.")
    try:
        layers = []
        for entry in meta["layers"]:
            cls = classes.get(entry["class"])
            if cls is None:
                name = str(entry["class"])
                fail(func, f"'{path}' holds a layer of unknown class {name!r}" + (
                    f"; if it is your custom layer, pass its class: loadNetwork(file, "
                    f"CustomLayers=[{name}])." if name.isidentifier() else "."))
            layer = cls.__new__(cls)
            Layer.__init__(layer, "")
            for name, value in entry["properties"].items():
                setattr(layer, name, _decode(value, contents, path))
            layers.append(layer)
        info = meta.get("training_info")
        info = None if info is None else TrainingInfo(
            **{k: _decode(v, contents, path) for k, v in info.items()})
        dtype = meta["dtype"]
        if dtype not in ("float32", "float64"):
            fail(func, f"'{path}' is corrupted: its precision {_show(dtype)} is not float32 or "
                       f"float64.")
        dtype = np.dtype(dtype)
    except (KeyError, TypeError, AttributeError, ValueError, IndexError, RecursionError) as err:
        if isinstance(err, ValueError) and str(err).startswith(func):
            raise
        fail(func, f"'{path}' is corrupted: {type(err).__name__}: {err}.")
    connections = None
    if meta.get("network") in ("dlnetwork", "dag"):
        connections = meta.get("connections")
        if not isinstance(connections, list) or not all(
                isinstance(c, list) and len(c) == 2 and all(isinstance(s, str) for s in c)
                for c in connections):
            fail(func, f"'{path}' is corrupted: its connections cannot be read.")
        connections = [tuple(c) for c in connections]
    if meta.get("network") == "dlnetwork":
        try:
            net = DLNetwork(layers, connections, func)
        except (ValueError, KeyError) as err:
            fail(func, f"'{path}' is corrupted: {err}")
        net._dtype = dtype
        return net
    plan = check_layers(func, layers, connections=connections)
    return make_network(layers, plan, dtype, info, connections)
