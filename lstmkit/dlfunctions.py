"""MATLAB's deep learning functions on dlarrays: fullyconnect and lstm (recorded in dlfeval).

``fullyconnect`` is products and sums of dlarrays (so it is recorded as they
are); ``lstm`` runs lstmLayer's kernels on the dlarray's observations (all of
one length, as MATLAB's padded batch) and records one operation whose
derivative is the kernels' backward pass.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from ._packing import PackedBatch
from ._validation import _show, check_choice, check_nargout, checked_call, fail, select_outputs
from .dlarrays import DLArray, _data, _result
from .layers.functional import lstm_pass, lstm_pass_backward


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
    fmt = _formatted(func, X, DataFormat, "CT")
    if set(fmt) - set("CBT"):
        fail(func, f"X's format must hold C, B and T only. Received: {fmt!r}.")
    state = check_choice(func, "StateActivationFunction", StateActivationFunction,
                         ("tanh", "softsign"))
    gate = check_choice(func, "GateActivationFunction", GateActivationFunction,
                        ("sigmoid", "hard-sigmoid"))
    x = _data(X)
    x = np.transpose(x, [fmt.index("C")] + ([fmt.index("B")] if "B" in fmt else []) +
                     [fmt.index("T")])
    if "B" not in fmt:
        x = x[:, None, :]
    C, N, T = x.shape
    W, R, b = (np.asarray(_data(v), dtype=np.float64) for v in (weights, recurrentWeights, bias))
    dtype = np.result_type(x.dtype, np.float32)
    H = R.shape[1] if R.ndim == 2 else 0
    if R.ndim != 2 or R.shape[0] != 4 * H or W.shape != (4 * H, C) or b.size != 4 * H:
        fail(func, f"the weights must be 4H-by-C (H hidden units, C={C} channels), the "
                   f"recurrent weights 4H-by-H and the bias 4H values. Received sizes "
                   f"{W.shape}, {R.shape}, {b.shape}.")
    states = []
    for name, v in (("H0", H0), ("C0", C0)):
        s = np.asarray(_data(v), dtype=np.float64)
        s = s.reshape(H, -1) if s.size in (H, H * N) else None
        if s is None:
            fail(func, f"`{name}` must be H-by-N ({H}-by-{N}) or H-by-1. Received: "
                       f"{_show(v)}.")
        states.append(np.ascontiguousarray(np.broadcast_to(s, (H, N)).T, dtype))
    batch = PackedBatch(np.full(N, T, np.int64))
    packed = np.ascontiguousarray(np.transpose(x, (2, 1, 0)).reshape(T * N, C), dtype)
    Wk, Rk, bk = (np.ascontiguousarray(a, dtype) for a in (W, R, b.reshape(-1)))
    hidden, hT, cT, cache = lstm_pass(packed, batch, Wk, Rk, bk, states[0], states[1], gate,
                                      state)
    Y = np.transpose(hidden.reshape(T, N, H), (2, 1, 0))

    def grads(dY, dhT, dcT):
        dhidden = np.transpose(np.asarray(dY, dtype), (2, 1, 0)).reshape(T * N, H)
        return lstm_pass_backward(cache, dhidden, dhT, dcT)

    zeros_y = np.zeros((H, N, T), dtype)
    zeros_s = np.zeros((N, H), dtype)

    def parents(seed):
        """Parents of one output, the kernels' backward run for its seed (dY, dhT, dcT)."""
        memo = {}

        def part(k):
            def vjp(g):
                if "all" not in memo:
                    memo["all"] = seed(g)
                return memo["all"][k]
            return vjp

        def input_grad(g):
            dx = part(0)(g)                      # packed (T N, C) -> X's layout
            d = np.transpose(dx.reshape(T, N, C), (2, 1, 0))
            inverse = np.argsort([fmt.index("C")] + ([fmt.index("B")] if "B" in fmt else []) +
                                 [fmt.index("T")])
            d = d if "B" in fmt else d[:, 0, :]
            return np.transpose(d, inverse)

        def state_grad(k, template):
            def vjp(g):
                d = part(k)(g).T                  # H-by-N
                return d.sum(axis=1, keepdims=True).reshape(np.shape(_data(template))) \
                    if np.size(_data(template)) == H else d.reshape(np.shape(_data(template)))
            return vjp
        return [(X, input_grad), (weights, part(1)),
                (recurrentWeights, part(2)),
                (bias, lambda g: part(3)(g).reshape(np.shape(_data(bias)))),
                (H0, state_grad(4, H0)), (C0, state_grad(5, C0))]

    if "B" in fmt:
        out_Y = _result(Y, "CBT", parents(lambda g: grads(g, zeros_s, zeros_s)))
    else:
        out_Y = _result(Y[:, 0, :], "CT", parents(lambda g: grads(np.asarray(g)[:, None, :],
                                                                   zeros_s, zeros_s)))
    out_h = _result(hT.T.copy(), "CB", parents(lambda g: grads(zeros_y, np.asarray(g).T,
                                                               zeros_s)))
    out_c = _result(cT.T.copy(), "CB", parents(lambda g: grads(zeros_y, zeros_s,
                                                               np.asarray(g).T)))
    return select_outputs((out_Y, out_h, out_c), nargout)
