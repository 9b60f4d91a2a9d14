"""Reverse-mode automatic differentiation for dlarrays: MATLAB's ``dlfeval`` and ``dlgradient``.

A :class:`Tape` is active while :func:`dlfeval` runs the user's function.
Every operation on a *traced* dlarray (an argument of ``dlfeval``, or a
value computed from one) records a :class:`Node`: its parents and, for each,
the vector-Jacobian product that carries a gradient of the result back to
the parent.  :func:`backward` walks the recorded nodes from a scalar in
reverse order of creation (a topological order) and sums the products.

The operations themselves live with the dlarray (:mod:`lstmkit.dlarrays`):
numpy's ufuncs and array functions, MATLAB's deep-learning functions, the
losses, and ``forward(net, X)``, whose product is the network's own backward
pass.  An operation without a recorded derivative on a traced value is an
error that names it, never a silent zero gradient.
"""

from __future__ import annotations

import threading

import numpy as np

_state = threading.local()


class Node:
    """One recorded operation's result: its parents and their vector-Jacobian products."""

    __slots__ = ("id", "parents", "tape", "plan")

    def __init__(self, tape, parents):
        self.tape = tape
        self.id = tape.next_id()
        self.parents = parents          # list of (parent Node, vjp: gradient -> parent's)
        #: optional callable told, before any of the node's products runs, which parents
        #: need one (a list of bools): an operation whose products share one computation
        #: (``forward(net, X)``) leaves out what no target needs (X's gradient)
        self.plan = None


class Tape:
    """The record of one ``dlfeval`` call."""

    def __init__(self):
        self._count = 0
        self.freed = False
        self.active = True

    def next_id(self):
        self._count += 1
        return self._count


def current_tape():
    """The tape of the running ``dlfeval`` (None outside one)."""
    return getattr(_state, "tape", None)


class recording:
    """Context manager: a new tape for the duration of a ``dlfeval`` call (nestable)."""

    def __enter__(self):
        self.outer = current_tape()
        self.tape = Tape()
        _state.tape = self.tape
        return self.tape

    def __exit__(self, *exc):
        self.tape.active = False
        _state.tape = self.outer


def leaf(tape):
    """A node with no parents (a traced input)."""
    return Node(tape, [])


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape`` (undo numpy broadcasting)."""
    grad = np.asarray(grad)
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad.reshape(shape)


def backward(root, seed, targets):
    """Gradients of ``root`` (a Node) with respect to ``targets`` (Nodes), seeded by ``seed``.

    Returns a list with each target's summed gradient, None where the root
    does not depend on it.
    """
    wanted = {t.id for t in targets}
    reach = {}
    stack = [root]
    while stack:                         # the nodes the root depends on
        node = stack.pop()
        if node.id in reach:
            continue
        reach[node.id] = node
        stack.extend(p for p, _ in node.parents)
    useful = set()                       # the nodes through which a target is reached
    for nid in sorted(reach):            # parents before children
        if nid in wanted or any(p.id in useful for p, _ in reach[nid].parents):
            useful.add(nid)
    grads = {root.id: seed}
    for nid in sorted(reach, reverse=True):
        g = grads.get(nid)
        if g is None:
            continue
        node = reach[nid]
        if nid not in wanted:
            grads.pop(nid)               # free what no later product needs
        if node.plan is not None:
            node.plan([parent.id in useful for parent, _ in node.parents])
        for parent, vjp in node.parents:
            if parent.id not in useful:
                continue                 # no target behind it: its product is not needed
            part = vjp(g)
            if part is None:
                continue
            prev = grads.get(parent.id)
            grads[parent.id] = part if prev is None else prev + part
    return [grads.get(t.id) for t in targets]
