"""Slow NumPy reference for the competitors' nets, written from the equations.

Dense matrices by weight name (not the kernels' flat unit-major vector), the
loss ``1/2 sum (d - y)^2`` over the steps with a target, central finite
differences, and the *truncated* loss whose gradient truncated BPTT computes.
"""

from __future__ import annotations

import numpy as np


def sigma(x):
    return 1.0 / (1.0 + np.exp(-x))


def step(w, arch, K, x, h_prev):
    """One step: returns (state carried to the next step, outputs).

    fully_recurrent: y(t) = f(W_x x + b + W_y y(t-1)), outputs = last K units.
    layered: h(t) = f(W_hx x + b_h + W_hh h(t-1)); o(t) = f(W_kx x + b_k + W_kh h(t)).
    """
    if arch == "fully_recurrent":
        y = sigma(w["W_x"] @ x + w.get("b", 0.0) + w["W_y"] @ h_prev)
        return y, y[len(y) - K:]
    h = sigma(w["W_hx"] @ x + w.get("b_h", 0.0) + w["W_hh"] @ h_prev)
    o = sigma(w["W_kx"] @ x + w.get("b_k", 0.0) + w["W_kh"] @ h)
    return h, o


def zero_state(w, arch):
    return np.zeros(w["W_y"].shape[0] if arch == "fully_recurrent" else w["W_hh"].shape[0])


def trajectory(w, arch, K, X, resets):
    """States after every step (the state *before* step t is states[t])."""
    h = zero_state(w, arch)
    states, outs = [], []
    for t, x in enumerate(X):
        if resets is not None and resets[t]:
            h = zero_state(w, arch)
        states.append(h)
        h, o = step(w, arch, K, x, h)
        outs.append(o)
    return states, np.array(outs)


def loss(w, arch, X, Y, resets):
    _, outs = trajectory(w, arch, Y.shape[1], X, resets)
    err = np.where(np.isnan(Y), 0.0, Y - outs)
    return 0.5 * float(np.sum(err ** 2))


def seq_starts(T, resets):
    start, out = 0, []
    for t in range(T):
        if resets is not None and resets[t]:
            start = t
        out.append(start)
    return out


def truncated_loss(w, w0, arch, X, Y, resets, window):
    """sum_t E(t), where E(t) runs the net with weights ``w`` only over steps
    t-window+1..t, starting from the state that weights ``w0`` reached at
    step t-window (the part of the past truncated BPTT treats as constant)."""
    states0, _ = trajectory(w0, arch, Y.shape[1], X, resets)
    starts = seq_starts(len(X), resets)
    total = 0.0
    for t in range(len(X)):
        if np.all(np.isnan(Y[t])):
            continue
        first = max(starts[t], t - window + 1)
        h = states0[first] if first > starts[t] else zero_state(w, arch)
        for tau in range(first, t + 1):
            h, o = step(w, arch, Y.shape[1], X[tau], h)
        err = np.where(np.isnan(Y[t]), 0.0, Y[t] - o)
        total += 0.5 * float(np.sum(err ** 2))
    return total


def numeric_gradient(weights, fn, eps=1e-6):
    """Central differences of ``fn(weights)`` for every named weight entry."""
    grad = {}
    for name, arr in weights.items():
        g = np.zeros_like(arr)
        for idx in np.ndindex(arr.shape):
            plus = {k: v.copy() for k, v in weights.items()}
            minus = {k: v.copy() for k, v in weights.items()}
            plus[name][idx] += eps
            minus[name][idx] -= eps
            g[idx] = (fn(plus) - fn(minus)) / (2 * eps)
        grad[name] = g
    return grad
