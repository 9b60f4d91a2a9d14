"""The LSTM's passes as functions of arrays (MATLAB's dlarray ``lstm``), on the layer's kernels.

:func:`lstm_pass` and :func:`lstm_pass_backward` run lstmkit's LSTM kernels
(the ones lstmLayer runs) on one packed batch and return what the functional
form needs: every hidden state, the final states, and in the backward pass
the gradients of the input, the weights and the initial states.
"""

import numpy as np

from ..kernels.lstm import lstm_backward, lstm_forward_train
from ..kernels._threads import kernel_parts
from .recurrent import GATE_CODES, STATE_CODES


def lstm_pass(x, batch, W, R, b, h0, c0, gate, state):
    """Forward: ``x`` packed (S, C), ``h0``/``c0`` (N, H) sorted; returns hidden, hT, cT, cache."""
    dtype = x.dtype
    H = R.shape[1]
    S = x.shape[0]
    h, c = h0.copy(), c0.copy()
    gates = np.empty((S, 4 * H), dtype)
    cell = np.empty((S, H), dtype)
    hidden = np.empty((S, H), dtype)
    codes = (GATE_CODES[gate], STATE_CODES[state])
    chunks = batch.chunks(kernel_parts())
    P = np.empty(0, dtype)
    lstm_forward_train(x, W, R, b, P, h, c, batch.batch_sizes, codes[0], codes[1], False, gates,
                       cell, hidden, chunks)
    return hidden, h, c, (x, W, R, h0, c0, gates, cell, hidden, batch, codes, chunks)


def lstm_pass_backward(cache, dhidden, dhT, dcT):
    """Backward of :func:`lstm_pass`: returns dx, dW, dR, db, dh0, dc0."""
    x, W, R, h0, c0, gates, cell, hidden, batch, codes, chunks = cache
    dtype = x.dtype
    dW, dR = np.empty_like(W), np.empty_like(R)
    db = np.empty(R.shape[0], dtype)
    dx = np.empty_like(x)
    dh = np.array(dhT, dtype=dtype, order="C")
    dc = np.array(dcT, dtype=dtype, order="C")
    lstm_backward(x, W, R, np.empty(0, dtype), h0, c0, batch.batch_sizes, codes[0], codes[1],
                  False, gates.copy(), cell, hidden, np.ascontiguousarray(dhidden, dtype), dh, dc,
                  dW, dR, db, np.empty(0, dtype), dx, chunks)
    return dx, dW, dR, db, dh, dc


def gru_pass(x, batch, W, R, b, bR, h0, mode, gate, state):
    """GRU forward (MATLAB's dlarray ``gru``): returns hidden, hT, cache."""
    from ..kernels.gru import gru_forward
    from .recurrent import PREDICT_BLOCK
    dtype = x.dtype
    H = R.shape[1]
    S = x.shape[0]
    h = h0.copy()
    gates, aux, hidden = (np.empty((S, 3 * H), dtype), np.empty((S, H), dtype),
                          np.empty((S, H), dtype))
    codes = (GATE_CODES[gate], STATE_CODES[state])
    chunks = batch.chunks(kernel_parts())
    gru_forward(x, W, R, b, bR, h, batch.batch_sizes, codes[0], codes[1], mode, gates, aux,
                hidden, PREDICT_BLOCK, chunks)
    return hidden, h, (x, W, R, bR, h0, gates, aux, hidden, batch, codes, mode, chunks)


def gru_pass_backward(cache, dhidden, dhT):
    """Backward of :func:`gru_pass`: returns dx, dW, dR, db, dbR, dh0."""
    from ..kernels.gru import gru_backward
    x, W, R, bR, h0, gates, aux, hidden, batch, codes, mode, chunks = cache
    dtype = x.dtype
    dW, dR = np.empty_like(W), np.empty_like(R)
    db, dbR = np.empty(R.shape[0], dtype), np.empty(R.shape[0], dtype)
    dx = np.empty_like(x)
    dh = np.array(dhT, dtype=dtype, order="C")
    gru_backward(x, W, R, bR, h0, batch.batch_sizes, codes[0], codes[1], mode, gates, aux,
                 hidden, np.ascontiguousarray(dhidden, dtype), dh, dW, dR, db, dbR, dx, chunks)
    return dx, dW, dR, db, dbR, dh
