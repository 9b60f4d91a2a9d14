"""Layers that merge branches: additionLayer, concatenationLayer, multiplicationLayer.

Their inputs are named ``in1``, ``in2``, ... as in MATLAB, connected with
:func:`lstmkit.connectLayers` (``"add/in2"``).  Sequence inputs arrive packed
the same way (every branch of a network sees the same mini-batch), so the
merge is row by row and padding cannot change a result.  A sequence cannot be
merged with one vector per observation: that is an error naming the layer.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .._validation import _show, check_name, fail, name_value_function
from .base import Layer


class MergeLayer(Layer):
    """A layer with NumInputs inputs (create one with :func:`additionLayer` and the like)."""

    @property
    def InputNames(self):
        return tuple(f"in{i}" for i in range(1, self.NumInputs + 1))

    def _display_properties(self):
        return ["Name", "NumInputs", "InputNames"]

    def _outputs_sequence(self, input_is_sequence):
        return input_is_sequence[0] if isinstance(input_is_sequence, list) else input_is_sequence

    def _check_input(self, func, input_size, input_is_sequence):
        seqs = input_is_sequence if isinstance(input_is_sequence, list) else [input_is_sequence]
        if len(set(seqs)) > 1:
            kinds = ", ".join(f"{p}: {'a sequence' if s else 'one vector per observation'}"
                              for p, s in zip(self.InputNames, seqs))
            fail(func, f"layer '{self.Name}' ({self.type_name}) merges a sequence with one vector "
                       f"per observation ({kinds}); both branches must keep the time dimension "
                       f"or both must end it.")
        sizes = input_size if isinstance(input_size, list) else [input_size]
        self._check_sizes(func, sizes)

    def _check_sizes(self, func, sizes):
        if len(set(sizes)) > 1:
            text = ", ".join(f"{p}: {s}" for p, s in zip(self.InputNames, sizes))
            fail(func, f"layer '{self.Name}' ({self.type_name}) needs inputs of the same size; "
                       f"received {text} channels.")

    def _output_size(self, input_sizes):
        return input_sizes[0] if isinstance(input_sizes, list) else input_sizes


class AdditionLayer(MergeLayer):
    """Addition layer: the elementwise sum of its inputs (create it with :func:`additionLayer`)."""

    type_name = "Addition"
    default_name = "addition"

    @property
    def Description(self):
        return f"Element-wise addition of {self.NumInputs} inputs"

    def _forward(self, x, batch, state, training, dtype):
        y = x[0].copy()
        for part in x[1:]:
            y += part
        return y, None, None

    def _backward(self, dy, cache, grads, need_dx):
        return [dy] * self.NumInputs


class MultiplicationLayer(MergeLayer):
    """Multiplication layer: the elementwise product (create it with :func:`multiplicationLayer`)."""

    type_name = "Multiplication"
    default_name = "multiplication"

    @property
    def Description(self):
        return f"Element-wise multiplication of {self.NumInputs} inputs"

    def _forward(self, x, batch, state, training, dtype):
        y = x[0].copy()
        for part in x[1:]:
            y *= part
        return y, (list(x) if training else None), None

    def _backward(self, dy, cache, grads, need_dx):
        out = []
        for i in range(len(cache)):
            g = dy.copy()
            for j, part in enumerate(cache):
                if j != i:
                    g *= part
            out.append(g)
        return out


class ConcatenationLayer(MergeLayer):
    """Concatenation layer along the channels (create it with :func:`concatenationLayer`)."""

    type_name = "Concatenation"
    default_name = "concat"

    @property
    def Description(self):
        return f"Concatenation of {self.NumInputs} inputs along dimension {self.Dim}"

    def _display_properties(self):
        return ["Name", "Dim", "NumInputs", "InputNames"]

    def _check_sizes(self, func, sizes):
        pass

    def _output_size(self, input_sizes):
        return int(sum(input_sizes)) if isinstance(input_sizes, list) else input_sizes

    def _forward(self, x, batch, state, training, dtype):
        y = np.concatenate(x, axis=1)
        return y, ([part.shape[1] for part in x] if training else None), None

    def _backward(self, dy, cache, grads, need_dx):
        bounds = np.cumsum([0] + cache)
        return [np.ascontiguousarray(dy[:, a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


def _num_inputs(func, value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or \
            value < 2:
        fail(func, f"`numInputs` must be an integer of at least 2 (a merge has several inputs). "
                   f"Received: numInputs={_show(value)}.")
    return int(value)


def _make(cls, func, Name, numInputs, **props):
    layer = cls(check_name(func, Name))
    layer.NumInputs = _num_inputs(func, numInputs)
    for key, value in props.items():
        setattr(layer, key, value)
    return layer


@name_value_function()
def additionLayer(numInputs: int, *name_value: Any, Name: str = "") -> AdditionLayer:
    """Addition layer, as MATLAB's ``additionLayer``: the sum of ``numInputs`` inputs.

    Parameters
    ----------
    numInputs : int
        Number of inputs, named ``in1``, ``in2``, ... (connect them with
        :func:`connectLayers`, e.g. ``connectLayers(net, "fc2", "add/in2")``).
    Name : str, default ''

    Returns
    -------
    AdditionLayer

    Examples
    --------
    >>> from lstmkit import *
    >>> net = dlnetwork([sequenceInputLayer(3, Name="in"), fullyConnectedLayer(4, Name="fc1"),
    ...                  additionLayer(2, Name="add"), fullyConnectedLayer(2, Name="out")],
    ...                 Initialize=False)
    >>> net = addLayers(net, fullyConnectedLayer(4, Name="fc2"))
    >>> net = connectLayers(connectLayers(net, "in", "fc2"), "fc2", "add/in2")
    >>> net = initialize(net)
    >>> list(net.Connections.Destination)
    ['fc1', 'fc2', 'add/in1', 'add/in2', 'out']
    """
    return _make(AdditionLayer, "additionLayer", Name, numInputs)


@name_value_function()
def multiplicationLayer(numInputs: int, *name_value: Any,
                        Name: str = "") -> MultiplicationLayer:
    """Multiplication layer, as MATLAB's ``multiplicationLayer``: the elementwise product.

    Parameters
    ----------
    numInputs : int
        Number of inputs (``in1``, ``in2``, ...).
    Name : str, default ''

    Returns
    -------
    MultiplicationLayer

    Examples
    --------
    >>> from lstmkit import multiplicationLayer
    >>> multiplicationLayer(3).InputNames
    ('in1', 'in2', 'in3')
    """
    return _make(MultiplicationLayer, "multiplicationLayer", Name, numInputs)


@name_value_function()
def concatenationLayer(dim: int, numInputs: int, *name_value: Any,
                       Name: str = "") -> ConcatenationLayer:
    """Concatenation layer, as MATLAB's ``concatenationLayer``.

    Parameters
    ----------
    dim : int
        The dimension to concatenate along; lstmkit concatenates channels:
        1 (the C of MATLAB's C-by-B-by-T sequence and C-by-B feature arrays).
    numInputs : int
        Number of inputs (``in1``, ``in2``, ...).
    Name : str, default ''

    Returns
    -------
    ConcatenationLayer

    Examples
    --------
    >>> from lstmkit import concatenationLayer
    >>> concatenationLayer(1, 2).Description
    'Concatenation of 2 inputs along dimension 1'
    """
    func = "concatenationLayer"
    if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, numbers.Integral) or dim != 1:
        fail(func, f"lstmkit concatenates along the channels: `dim` must be 1 (the channel "
                   f"dimension of sequence and feature data). Received: dim={_show(dim)}.")
    return _make(ConcatenationLayer, func, Name, numInputs, Dim=1)
