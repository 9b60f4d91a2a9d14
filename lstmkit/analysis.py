"""analyzeNetwork: a text version of MATLAB's network analyzer."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ._validation import checked_call, _show, check_choice, fail
from .dlnetwork import DLNetwork, LayerGraph, dlnetwork
from .graph import Graph
from .layers.base import Layer
from .network import SeriesNetwork, check_layers, infer_sizes, layers_and_connections


class NetworkAnalysis:
    """What :func:`analyzeNetwork` found.

    Attributes
    ----------
    LayerInfo : list of dict
        Per layer: Name, Type, Activations, Learnables (name -> size tuple),
        NumLearnables.
    TotalLearnables : int
    Issues : list of str
        Problems that would stop trainNetwork or assembleNetwork (empty when
        the layers are fine).
    """

    def __init__(self, layer_info, issues):
        self.LayerInfo = layer_info
        self.TotalLearnables = int(sum(row["NumLearnables"] for row in layer_info))
        self.Issues = issues

    @property
    def NumErrors(self):
        return len(self.Issues)

    def __repr__(self):
        rows = [(str(i), f"'{r['Name']}'", r["Type"], r["Activations"],
                 ", ".join(f"{k} {'×'.join(map(str, v))}" for k, v in r["Learnables"].items())
                 or "-",
                 f"{r['NumLearnables']:,}" if r["NumLearnables"] else "")
                for i, r in enumerate(self.LayerInfo, 1)]
        head = ("#", "Name", "Type", "Activations", "Learnables", "Total")
        widths = [max(len(x[c]) for x in rows + [head]) for c in range(6)]
        fmt = "  ".join([f"{{:>{widths[0]}}}"] + [f"{{:<{w}}}" for w in widths[1:]])
        lines = [f"Network analysis: {len(self.LayerInfo)} layers, "
                 f"{self.TotalLearnables:,} learnables, {self.NumErrors} "
                 f"error{'s' if self.NumErrors != 1 else ''}.", "",
                 "   " + fmt.format(*head).rstrip()]
        lines += ["   " + fmt.format(*r).rstrip() for r in rows]
        if self.Issues:
            lines += ["", "Errors:"] + [f"  - {issue}" for issue in self.Issues]
        return "\n".join(lines)

    __str__ = __repr__


@checked_call
def analyzeNetwork(layers: Sequence[Layer] | SeriesNetwork | DLNetwork, *, Print: bool = True,
                   TargetUsage: str = "auto") -> NetworkAnalysis:
    """Check a layer array or network and show its activations and learnables.

    MATLAB's ``analyzeNetwork`` opens an app; lstmkit prints the same
    information as a table: every layer's activation size (``12(C) × 1(B) ×
    1(T)`` for a sequence of 12 channels, ``100(C) × 1(B)`` for one vector per
    observation) and its learnables with their sizes and counts, then the
    errors that would stop training (size mismatches, a missing output
    layer, ...), all found before any training.

    Parameters
    ----------
    layers : list of layers, SeriesNetwork or DLNetwork
        A layer array without an output layer, or a dlnetwork, is analyzed
        as a dlnetwork (the trainnet era): no output layer is expected.
    Print : bool, default True
        Print the report (it is also the returned object's text).
    TargetUsage : {'auto', 'dlnetwork', 'trainNetwork'}, default 'auto'
        MATLAB's option: check the layers for a dlnetwork (no output layer
        expected) or for trainNetwork (an output layer must end them).
        'auto' (lstmkit's default): trainNetwork when an output layer is
        present or the argument is a SeriesNetwork, else dlnetwork.

    Returns
    -------
    NetworkAnalysis

    Examples
    --------
    >>> from lstmkit import *
    >>> report = analyzeNetwork([sequenceInputLayer(12), lstmLayer(100, OutputMode="last"),
    ...                          fullyConnectedLayer(9), softmaxLayer(), classificationLayer()],
    ...                         Print=False)
    >>> "0 errors" in str(report) or "no errors" in str(report).lower()
    True
    """
    func = "analyzeNetwork"
    if not isinstance(layers, (list, tuple, SeriesNetwork, Layer, DLNetwork, LayerGraph)):
        fail(func, f"`layers` must be a list of layers or a network. Received: {_show(layers)}.",
             TypeError)
    usage = check_choice(func, "TargetUsage", TargetUsage, ("auto", "dlnetwork", "trainNetwork"))
    if isinstance(layers, DLNetwork) and usage == "trainNetwork":
        fail(func, "TargetUsage='trainNetwork' needs a layer array or a SeriesNetwork; a dlnetwork "
                   "is analyzed as a dlnetwork.")
    issues = []
    members = layers.Layers if isinstance(layers, (LayerGraph, SeriesNetwork)) else \
        [layers] if isinstance(layers, Layer) else layers
    for i, member in enumerate(members if isinstance(layers, (list, tuple)) else ()):
        if not isinstance(member, Layer):
            fail(func, f"`layers[{i}]` must be a layer. Received: {_show(member)}.", TypeError)
    has_output = not isinstance(layers, DLNetwork) and any(layer.is_output for layer in members)
    if isinstance(layers, DLNetwork) or usage == "dlnetwork" or (usage == "auto" and
                                                                 not has_output):
        # the trainnet era: a dlnetwork, or a layer array without an output layer
        if isinstance(layers, (DLNetwork, LayerGraph)):
            graph = layers._graph
        else:
            graph = dlnetwork(layers, Initialize=False)._graph
        for name, port in graph.unconnected:
            issues.append(f"input {port + 1} of layer '{name}' is not connected.")
        sizes = infer_sizes(func, graph, issues.append)
        rows = zip(graph.layers, sizes.input_sizes, sizes.output_sizes, sizes.output_is_sequence)
    else:
        layers, connections = layers_and_connections(func, layers)
        plan = check_layers(func, layers, issues, connections)
        rows = ((layer, size, layer.InputSize if layer is layers[0] else (
                    None if size is None else layer._output_size(size)),
                 layer._outputs_sequence(seq))
                for layer, size, seq in zip(layers, plan.input_sizes, plan.sequence_in))
    info = []
    for layer, size, out_size, out_seq in rows:
        if layer.is_output:
            activations = "-"
        elif out_size is None:
            activations = "?"
        else:
            activations = f"{out_size}(C) × 1(B)" + (" × 1(T)" if out_seq else "")
        learnables = {}
        for lb in layer.learnables:
            value = getattr(layer, lb.name)
            if value is not None:
                learnables[lb.name] = tuple(np.shape(value))
            elif size is not None:
                learnables[lb.name] = layer._learnable_shape(lb.name, size)[0]
        info.append({"Name": layer.Name, "Type": layer.type_name, "Activations": activations,
                     "Learnables": learnables,
                     "NumLearnables": int(sum(np.prod(s) for s in learnables.values()))})
    result = NetworkAnalysis(info, issues)
    if Print:
        print(result)
    return result


@checked_call
def plot(net: Any, *, ax: Any = None) -> Any:
    """Draw a network's layers and connections, as MATLAB's ``plot(lgraph)`` (needs matplotlib).

    Layers are placed top to bottom by their depth in the graph (branches
    side by side), each box labelled with its name, with an arrow per
    connection.

    Parameters
    ----------
    net : list of layers, LayerGraph, DLNetwork, SeriesNetwork or DAGNetwork
    ax : matplotlib Axes, optional
        Where to draw (a new figure by default).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from lstmkit import *
    >>> fig = plot(layerGraph([sequenceInputLayer(3), lstmLayer(8), fullyConnectedLayer(2),
    ...                        regressionLayer()]))
    >>> len(fig.axes[0].texts)
    4
    """
    func = "plot"
    try:
        from matplotlib.figure import Figure
        from matplotlib.patches import FancyArrowPatch
    except ImportError:
        fail(func, "plot needs matplotlib, which is not installed: pip install matplotlib (or "
                   "pip install \"lstmkit[plot]\").", ImportError)
    if isinstance(net, (DLNetwork, LayerGraph, SeriesNetwork)):
        graph = net._graph
    elif isinstance(net, (list, tuple)):
        layers, connections = layers_and_connections(func, net)
        graph = Graph(layers, connections, func=func)
    else:
        fail(func, f"`net` must be a layer array, a layerGraph or a network. Received: "
                   f"{_show(net)}.", TypeError)
    depth = []
    for k in range(len(graph)):
        depth.append(1 + max((depth[s] for s in graph.sources[k]), default=-1))
    rows = {}
    position = {}
    for k, d in enumerate(depth):
        position[k] = (rows.get(d, 0), d)
        rows[d] = rows.get(d, 0) + 1
    if ax is None:
        fig = Figure(figsize=(2.8 * max(rows.values()), 0.8 * (max(depth) + 1) + 0.6))
        ax = fig.add_subplot(111)
    else:
        fig = ax.figure
    for k, layer in enumerate(graph.layers):
        col, d = position[k]
        x = col - (rows[d] - 1) / 2
        position[k] = (x, -d)
        ax.text(x, -d, layer.Name, ha="center", va="center", fontsize=9,
                bbox={"boxstyle": "round", "facecolor": "#dbe8f5", "edgecolor": "#1f5f9f"})
    for k in range(len(graph)):
        for s in graph.sources[k]:
            ax.add_patch(FancyArrowPatch(position[s], position[k], arrowstyle="-|>",
                                         mutation_scale=10, shrinkA=12, shrinkB=12, color="0.3"))
    xs = [p[0] for p in position.values()]
    ax.set_xlim(min(xs) - 1, max(xs) + 1)
    ax.set_ylim(-max(depth) - 0.7, 0.7)
    ax.axis("off")
    return fig
