"""Experiment 1's own net (preset 1-5: 3 blocks of size 2, gate biases only, lr 0.5)
against a hand-written loop over the spec's equations (§2.3, §3.3-§3.6, §3.8), on
encoded embedded Reber strings with per-step updates.

Written with the logistic forms of f, g and h (not the tanh forms of
tests/reference.py), from the spec alone, as an audit of what Experiment 1
actually trains: target alignment, reset between strings, gates reading 0 at
t = 1, outputs reading this step's cells, no output bias, no factor 2 in e_k.
"""

import numpy as np

from online_lstm.presets import PRESETS
from online_lstm.tasks.reber import SYMBOLS, EmbeddedReber


def f(x):
    return 1.0 / (1.0 + np.exp(-x))


def h(x):
    return 2.0 / (1.0 + np.exp(-x)) - 1.0


def g(x):
    return 4.0 / (1.0 + np.exp(-x)) - 2.0


def hand_written_string(W, X, Y, lr, n_blocks, size):
    """One string from a fresh (zero) state, a weight change after every step.

    Returns the changed weights and the outputs made before each change."""
    W = {k: v.copy() for k, v in W.items()}
    n_cells = n_blocks * size
    s, y_c = np.zeros(n_cells), np.zeros(n_cells)
    y_in, y_out = np.zeros(n_blocks), np.zeros(n_blocks)
    outs = []
    T_in = T_c = None
    for x, d in zip(X, Y):
        z = np.concatenate([x, y_c, y_in, y_out])  # x(t) and the hidden layer at t-1
        if T_in is None:
            T_in, T_c = np.zeros((n_cells, len(z) + 1)), np.zeros((n_cells, len(z)))
        y_in = f(W["W_in"] @ z + W["b_in"])
        y_out = f(W["W_out"] @ z + W["b_out"])
        net_c = W["W_c"] @ z  # bias code "ga": no cell bias
        blk = np.repeat(np.arange(n_blocks), size)  # the block of each cell
        s = s + y_in[blk] * g(net_c)  # eq. (8)
        T_in += (g(net_c) * y_in[blk] * (1 - y_in[blk]))[:, None] * np.append(z, 1.0)  # eq. (25)
        T_c += ((4 - g(net_c) ** 2) / 4 * y_in[blk])[:, None] * z  # eq. (27)
        y_c = y_out[blk] * h(s)
        y_k = f(W["W_k"] @ y_c)  # this step's cells, no output bias
        outs.append(y_k)
        e_k = y_k * (1 - y_k) * (d - y_k)  # eq. (19), no factor 2 (§3.1)
        back = W["W_k"].T @ e_k
        e_out = y_out * (1 - y_out) * np.bincount(blk, h(s) * back)  # eq. (21)
        e_s = y_out[blk] * (1 - h(s) ** 2) / 2 * back  # eq. (23)
        d_in = np.zeros((n_blocks, T_in.shape[1]))
        np.add.at(d_in, blk, e_s[:, None] * T_in)  # eq. (24)
        W["W_k"] += lr * np.outer(e_k, y_c)
        W["W_out"] += lr * np.outer(e_out, z)
        W["b_out"] += lr * e_out
        W["W_in"] += lr * d_in[:, :-1]
        W["b_in"] += lr * d_in[:, -1]
        W["W_c"] += lr * e_s[:, None] * T_c  # eq. (28)
    return W, np.array(outs)


def test_exp1_net_is_the_spec_step_by_step():
    p = PRESETS["1-5"]
    m = p.learner(seed=3)
    W = m.get_weights()
    assert set(W) == {"W_in", "W_out", "W_c", "W_k", "b_in", "b_out"}  # "ga": gate biases only
    np.testing.assert_array_equal(W["b_out"], [-1.0, -2.0, -3.0])
    assert np.all(np.abs(W["b_in"]) <= 0.2) and np.all(W["b_in"] != 0)  # "r", in [-0.2, 0.2]
    task = EmbeddedReber(seed=0, sets_seed=0)
    b = task.train
    start = 0
    for s in task.train_strings[:4]:
        n = len(s) - 1
        X, Y = b.X[start:start + n], b.Y[start:start + n]
        # B in, next symbol out; the last input is the closing T/P, its target E
        assert "".join(SYMBOLS[i] for i in X.argmax(1)) == s[:-1]
        assert "".join(SYMBOLS[i] for i in Y.argmax(1)) == s[1:]
        assert b.resets[start] and not b.resets[start + 1:start + n].any()
        W, want = hand_written_string(W, X, Y, lr=0.5, n_blocks=3, size=2)
        got = m.learn_many(X, Y, b.resets[start:start + n])
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
        for name, w in m.get_weights().items():
            np.testing.assert_allclose(w, W[name], rtol=1e-12, atol=1e-14, err_msg=name)
        start += n
