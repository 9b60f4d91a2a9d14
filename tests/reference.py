"""Plain numpy float64 references for every kernel (STUMPY's ``naive.py``).

Written for clarity, one sequence and one time step at a time, in MATLAB's
C-by-T layout, with no packing, so that they share no code with the kernels.
"""

import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def hard_sigmoid(x):
    return np.clip(0.2 * x + 0.5, 0.0, 1.0)


def softsign(x):
    return x / (1.0 + np.abs(x))


GATES = {"sigmoid": sigmoid, "hard-sigmoid": hard_sigmoid}
STATES = {"tanh": np.tanh, "softsign": softsign}


def lstm_sequence(x, W, R, b, h0, c0, gate="sigmoid", state="tanh", P=None, coupled=False):
    """Run one C-by-T sequence through an LSTM (optionally with peepholes P = [p_i; p_f; p_o]
    and coupled input/forget gates).

    Returns (Y, hT, cT) with Y of shape (H, T) and hT, cT of shape (H,).
    """
    sg, ss = GATES[gate], STATES[state]
    H = R.shape[1]
    h, c = np.array(h0, float), np.array(c0, float)
    b = np.ravel(b)
    p = np.zeros(3 * H) if P is None else np.ravel(P)
    Y = np.zeros((H, x.shape[1]))
    for t in range(x.shape[1]):
        z = W @ x[:, t] + R @ h + b
        f = sg(z[H:2 * H] + p[H:2 * H] * c)
        i = 1 - f if coupled else sg(z[:H] + p[:H] * c)
        g = ss(z[2 * H:3 * H])
        c = f * c + i * g
        o = sg(z[3 * H:] + p[2 * H:] * c)
        h = o * ss(c)
        Y[:, t] = h
    return Y, h, c


def fully_connected(x, W, b):
    """Rows of x (M, C) -> (M, K)."""
    return x @ W.T + np.ravel(b)


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def cross_entropy(probs, target, class_weights, row_scale):
    rows = np.arange(probs.shape[0])
    return -np.sum(row_scale * class_weights[target] * np.log(probs[rows, target]))


def half_mse(y, target, row_scale):
    return np.sum(row_scale * 0.5 * np.sum((y - target) ** 2, axis=1))


def gru_sequence(x, W, R, b, bR, h0, mode="after", gate="sigmoid", state="tanh"):
    """Run one C-by-T sequence through a GRU (gate order r, z, h~).

    mode 'after': h~ = s(W_h x + b_h + r * (R_h h + bR_h)); 'before': h~ = s(W_h x + b_h
    + R_h (r * h)).  Returns (Y, hT).
    """
    sg, ss = GATES[gate], STATES[state]
    H = R.shape[1]
    h = np.array(h0, float)
    Y = np.zeros((H, x.shape[1]))
    for t in range(x.shape[1]):
        px, rh = W @ x[:, t], R @ h
        r = sg(px[:H] + rh[:H] + b[:H] + bR[:H])
        z = sg(px[H:2 * H] + rh[H:2 * H] + b[H:2 * H] + bR[H:2 * H])
        if mode == "after":
            n = ss(px[2 * H:] + b[2 * H:] + r * (rh[2 * H:] + bR[2 * H:]))
        else:
            n = ss(px[2 * H:] + b[2 * H:] + R[2 * H:] @ (r * h))
        h = (1 - z) * n + z * h
        Y[:, t] = h
    return Y, h
