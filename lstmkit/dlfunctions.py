"""MATLAB's deep learning functions on dlarrays: fullyconnect, lstm and gru (recorded in dlfeval).

``fullyconnect`` is products and sums of dlarrays (so it is recorded as they
are); ``lstm`` and ``gru`` run lstmLayer's and gruLayer's kernels on the dlarray's observations (all of
one length, as MATLAB's padded batch) and records one operation whose
derivative is the kernels' backward pass.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from ._packing import PackedBatch
from ._validation import _show, check_choice, check_nargout, checked_call, fail, select_outputs
from .dlarrays import DLArray, _data, _result
from .layers.functional import gru_pass, gru_pass_backward, lstm_pass, lstm_pass_backward


def _formatted(func, X, DataFormat, needs):
    """X's data and format (from the dlarray, else DataFormat), checked for the labels needed."""
    if isinstance(X, DLArray) and X._fmt:
        fmt = X._fmt
    elif isinstance(DataFormat, str):
        fmt = DataFormat.upper()
    else:
        fail(func, "X must be a formatted dlarray, or give DataFormat (such as 'CBT').")
    data = _data(X)
    if len(fmt) != data.ndim or any(c not in fmt for c in needs) or set(fmt) - set("SCBTU"):
        fail(func, f"X needs a format with {', '.join(needs)} (one label per dimension). "
                   f"Received: {fmt!r} for size {'x'.join(map(str, data.shape))}.")
    return fmt


@checked_call
def fullyconnect(X: Any, weights: Any, bias: Any, *, DataFormat: str | None = None) -> DLArray:
    """Fully connected operation, as MATLAB's ``fullyconnect(X, weights, bias)``.

    Parameters
    ----------
    X : DLArray
        Formatted with a 'C' dimension (and 'B', 'T' as it has them).
    weights : DLArray or array
        K-by-C.
    bias : DLArray or array
        K-by-1 (or K).
    DataFormat : str, optional
        The format of an unformatted X.

    Returns
    -------
    DLArray
        ``weights * X + bias`` at every observation and time step, format
        'CB' or 'CBT' as X.

    Examples
    --------
    >>> import numpy as np
    >>> from lstmkit import dlarray, dims, fullyconnect
    >>> Y = fullyconnect(dlarray(np.ones((3, 2)), "CB"), np.ones((4, 3)), np.zeros(4))
    >>> dims(Y), Y.shape
    ('CB', (4, 2))
    """
    func = "fullyconnect"
    fmt = _formatted(func, X, DataFormat, "C")
    if set(fmt) - set("CBT"):
        fail(func, f"X's format must hold C, B and T only here. Received: {fmt!r}.")
    Xd = X if isinstance(X, DLArray) else DLArray(np.asarray(X, float), "", None)
    C = _data(Xd).shape[fmt.index("C")]
    w = weights if isinstance(weights, DLArray) else DLArray(np.asarray(weights, float), "", None)
    b = bias if isinstance(bias, DLArray) else DLArray(np.asarray(bias, float), "", None)
    if w.ndim != 2 or w.shape[1] != C:
        fail(func, f"`weights` must be K-by-{C} (X has {C} channels). Received: size "
                   f"{'x'.join(map(str, w.shape))}.")
    K = w.shape[0]
    if b.size != K:
        fail(func, f"`bias` must have {K} values. Received {b.size}.")
    order = [fmt.index("C")] + [i for i, c in enumerate(fmt) if c != "C"]
    rest = [Xd.shape[i] for i in order[1:]]
    flat = np.transpose(Xd, order).reshape(C, -1)
    Y = (w @ flat + b.reshape(K, 1)).reshape([K] + rest)
    out_fmt = "C" + "".join(fmt[i] for i in order[1:])
    return DLArray(Y._data, out_fmt, Y._node) if isinstance(Y, DLArray) else Y


@checked_call
def lstm(X: Any, H0: Any, C0: Any, weights: Any, recurrentWeights: Any, bias: Any, *,
         DataFormat: str | None = None,
         StateActivationFunction: Literal["tanh", "softsign"] = "tanh",
         GateActivationFunction: Literal["sigmoid", "hard-sigmoid"] = "sigmoid",
         nargout: int = 1) -> Any:
    """Long short-term memory operation, as MATLAB's dlarray ``lstm``.

    ``Y, hiddenState, cellState = lstm(X, H0, C0, weights, recurrentWeights,
    bias, nargout=3)``.  Runs lstmLayer's kernels on every observation of X
    (all of X's time steps, padding included, as MATLAB) and, inside
    dlfeval, is recorded with the kernels' backward pass as its derivative.

    Parameters
    ----------
    X : DLArray
        Formatted 'CBT' (or 'CT' for one observation).
    H0, C0 : DLArray or array
        Initial hidden and cell states, H-by-N (or H-by-1 for all).
    weights : DLArray or array
        4H-by-C (gates i, f, g, o).
    recurrentWeights : DLArray or array
        4H-by-H.
    bias : DLArray or array
        4H-by-1.
    DataFormat : str, optional
        The format of an unformatted X.
    StateActivationFunction : {'tanh', 'softsign'}, default 'tanh'
    GateActivationFunction : {'sigmoid', 'hard-sigmoid'}, default 'sigmoid'
    nargout : {1, 2, 3}, default 1

    Returns
    -------
    Y : DLArray
        H-by-N-by-T hidden states ('CBT').
    hiddenState, cellState : DLArray
        H-by-N, after the last time step.

    Examples
    --------
    >>> import numpy as np
    >>> from lstmkit import dims, dlarray, lstm
    >>> H, C, N, T = 4, 3, 2, 5
    >>> Y, h = lstm(dlarray(np.ones((C, N, T)), "CBT"), np.zeros((H, N)), np.zeros((H, N)),
    ...             np.full((4 * H, C), 0.1), np.zeros((4 * H, H)), np.zeros(4 * H), nargout=2)
    >>> dims(Y), Y.shape, h.shape
    ('CBT', (4, 2, 5), (4, 2))
    """
    func = "lstm"
    nargout = check_nargout(func, nargout, 3)
    seq = _Sequences(func, X, DataFormat)
    state = check_choice(func, "StateActivationFunction", StateActivationFunction,
                         ("tanh", "softsign"))
    gate = check_choice(func, "GateActivationFunction", GateActivationFunction,
                        ("sigmoid", "hard-sigmoid"))
    W, R, b = _weights(func, weights, recurrentWeights, bias, 4, seq.C, (4,))
    H = R.shape[1]
    h0 = seq.state(func, "H0", H0, H)
    c0 = seq.state(func, "C0", C0, H)
    hidden, hT, cT, cache = lstm_pass(seq.packed, seq.batch, *seq.cast(W, R, b.reshape(-1)), h0,
                                      c0, gate, state)

    def grads(dY, dhT, dcT):
        dx, dW, dR, db, dh, dc = lstm_pass_backward(cache, seq.pack(dY, H), dhT, dcT)
        return dx, dW, dR, db.reshape(np.shape(_data(bias))), dh, dc
    args = [(weights, 1), (recurrentWeights, 2), (bias, 3), (H0, 4), (C0, 5)]
    Y = seq.output(hidden, H, args, lambda g: grads(g, seq.zero_state(H), seq.zero_state(H)))
    h = seq.final(hT, args, lambda g: grads(seq.zero_output(H), g, seq.zero_state(H)))
    c = seq.final(cT, args, lambda g: grads(seq.zero_output(H), seq.zero_state(H), g))
    return select_outputs((Y, h, c), nargout)


@checked_call
def gru(X: Any, H0: Any, weights: Any, recurrentWeights: Any, bias: Any, *,
        DataFormat: str | None = None,
        ResetGateMode: Literal["after-multiplication", "before-multiplication",
                               "recurrent-bias-after-multiplication"] = "after-multiplication",
        StateActivationFunction: Literal["tanh", "softsign"] = "tanh",
        GateActivationFunction: Literal["sigmoid", "hard-sigmoid"] = "sigmoid",
        nargout: int = 1) -> Any:
    """Gated recurrent unit operation, as MATLAB's dlarray ``gru``.

    ``Y, hiddenState = gru(X, H0, weights, recurrentWeights, bias,
    nargout=2)``: gruLayer's kernels on every observation of X, recorded
    inside dlfeval with their backward pass.

    Parameters
    ----------
    X : DLArray
        Formatted 'CBT' (or 'CT').
    H0 : DLArray or array
        H-by-N (or H-by-1).
    weights : DLArray or array
        3H-by-C (gates r, z, candidate).
    recurrentWeights : DLArray or array
        3H-by-H.
    bias : DLArray or array
        3H-by-1, or 6H-by-1 (input then recurrent bias) with
        'recurrent-bias-after-multiplication'.
    DataFormat : str, optional
    ResetGateMode : str, default 'after-multiplication'
    StateActivationFunction : {'tanh', 'softsign'}, default 'tanh'
    GateActivationFunction : {'sigmoid', 'hard-sigmoid'}, default 'sigmoid'
    nargout : {1, 2}, default 1

    Returns
    -------
    Y : DLArray
        H-by-N-by-T ('CBT').
    hiddenState : DLArray
        H-by-N.

    Examples
    --------
    >>> import numpy as np
    >>> from lstmkit import dims, dlarray, gru
    >>> Y = gru(dlarray(np.ones((3, 2, 5)), "CBT"), np.zeros((4, 2)), np.full((12, 3), 0.1),
    ...         np.zeros((12, 4)), np.zeros(12))
    >>> dims(Y), Y.shape
    ('CBT', (4, 2, 5))
    """
    from .kernels.gru import AFTER, BEFORE
    func = "gru"
    nargout = check_nargout(func, nargout, 2)
    seq = _Sequences(func, X, DataFormat)
    mode_name = check_choice(func, "ResetGateMode", ResetGateMode,
                             ("after-multiplication", "before-multiplication",
                              "recurrent-bias-after-multiplication"))
    state = check_choice(func, "StateActivationFunction", StateActivationFunction,
                         ("tanh", "softsign"))
    gate = check_choice(func, "GateActivationFunction", GateActivationFunction,
                        ("sigmoid", "hard-sigmoid"))
    with_rb = mode_name == "recurrent-bias-after-multiplication"
    W, R, b = _weights(func, weights, recurrentWeights, bias, 3, seq.C, (6,) if with_rb else (3,))
    H = R.shape[1]
    b = b.reshape(-1)
    bi, bR = (b[:3 * H], b[3 * H:]) if with_rb else (b, np.zeros(3 * H))
    h0 = seq.state(func, "H0", H0, H)
    mode = BEFORE if mode_name == "before-multiplication" else AFTER
    hidden, hT, cache = gru_pass(seq.packed, seq.batch, *seq.cast(W, R, bi, bR), h0, mode, gate,
                                 state)

    def grads(dY, dhT):
        dx, dW, dR, db, dbR, dh = gru_pass_backward(cache, seq.pack(dY, H), dhT)
        full = np.concatenate([db, dbR]) if with_rb else db
        return dx, dW, dR, full.reshape(np.shape(_data(bias))), dh
    args = [(weights, 1), (recurrentWeights, 2), (bias, 3), (H0, 4)]
    Y = seq.output(hidden, H, args, lambda g: grads(g, seq.zero_state(H)))
    h = seq.final(hT, args, lambda g: grads(seq.zero_output(H), g))
    return select_outputs((Y, h), nargout)


def _weights(func, weights, recurrentWeights, bias, gates, C, bias_blocks):
    W, R, b = (np.asarray(_data(v), dtype=np.float64) for v in (weights, recurrentWeights, bias))
    H = R.shape[1] if R.ndim == 2 else 0
    if R.ndim != 2 or R.shape[0] != gates * H or W.shape != (gates * H, C) or \
            b.size not in [k * H for k in bias_blocks]:
        fail(func, f"the weights must be {gates}H-by-C (H hidden units, C={C} channels), the "
                   f"recurrent weights {gates}H-by-H and the bias "
                   f"{' or '.join(f'{k}H' for k in bias_blocks)} values. Received sizes "
                   f"{W.shape}, {R.shape}, {b.shape}.")
    return W, R, b


class _Sequences:
    """X of a recurrent dlarray function as lstmkit's packed batch (all of one length), and the
    way back: outputs as dlarrays recorded with the kernels' backward pass."""

    def __init__(self, func, X, DataFormat):
        self.X = X
        fmt = _formatted(func, X, DataFormat, "CT")
        if set(fmt) - set("CBT"):
            fail(func, f"X's format must hold C, B and T only. Received: {fmt!r}.")
        self.fmt = fmt
        self.order = [fmt.index("C")] + ([fmt.index("B")] if "B" in fmt else []) + \
            [fmt.index("T")]
        x = np.transpose(_data(X), self.order)
        if "B" not in fmt:
            x = x[:, None, :]
        self.C, self.N, self.T = x.shape
        self.dtype = np.result_type(x.dtype, np.float32)
        self.batch = PackedBatch(np.full(self.N, self.T, np.int64))
        self.packed = np.ascontiguousarray(np.transpose(x, (2, 1, 0)).reshape(-1, self.C),
                                           self.dtype)

    def cast(self, *arrays):
        return tuple(np.ascontiguousarray(a, self.dtype) for a in arrays)

    def state(self, func, name, value, H):
        s = np.asarray(_data(value), dtype=np.float64)
        if s.size not in (H, H * self.N):
            fail(func, f"`{name}` must be H-by-N ({H}-by-{self.N}) or H-by-1. Received: "
                       f"{_show(value)}.")
        return np.ascontiguousarray(np.broadcast_to(s.reshape(H, -1), (H, self.N)).T,
                                    self.dtype)

    def pack(self, dY, H):
        d = np.asarray(dY, self.dtype)
        if d.ndim == 2:                        # 'CT' output: one observation
            d = d[:, None, :]
        return np.transpose(d, (2, 1, 0)).reshape(self.T * self.N, H)

    def zero_output(self, H):
        return np.zeros((H, self.N, self.T), self.dtype)

    def zero_state(self, H):
        return np.zeros((self.N, H), self.dtype)

    def _parents(self, args, run):
        """(parent, product) pairs; ``run(g)`` gives dx, then each argument's gradient."""
        memo = {}

        def part(k):
            def vjp(g):
                if "all" not in memo:
                    memo["all"] = run(g)
                return memo["all"][k]
            return vjp

        def input_grad(g):
            dx = np.transpose(part(0)(g).reshape(self.T, self.N, self.C), (2, 1, 0))
            dx = dx if "B" in self.fmt else dx[:, 0, :]
            return np.transpose(dx, np.argsort(self.order))

        def state_grad(k, template):
            def vjp(g):
                d = part(k)(g).T                # H-by-N
                shape = np.shape(_data(template))
                return d.sum(axis=1).reshape(shape) if np.size(_data(template)) != d.size \
                    else d.reshape(shape)
            return vjp
        out = [(self.X, input_grad)]
        for value, k in args:
            out.append((value, state_grad(k, value) if k >= 4 else part(k)))
        return out

    def output(self, hidden, H, args, run):
        Y = np.transpose(hidden.reshape(self.T, self.N, H), (2, 1, 0))
        if "B" in self.fmt:
            return _result(Y, "CBT", self._parents(args, run))
        return _result(Y[:, 0, :], "CT", self._parents(args, run))

    def final(self, state, args, run):
        return _result(state.T.copy(), "CB",
                       self._parents(args, lambda g: run(np.asarray(g).T)))
