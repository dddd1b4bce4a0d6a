"""Back-propagation through time, online and truncated to a window.

The paper's second competitor on Task 2a (Table 2, spec §5.2).  The learner
keeps the last ``window`` source vectors ``z(tau) = [x | 1 | y(tau-1) |
y(tau)]`` of the current sequence.  At every step with a target it sends the
error of that step back through them (Williams & Peng's BPTT(h) with one
step between backward passes), with the current weights:

    delta_u(tau) = f'(net_u(tau)) * ( [tau = t, u output] (d_u(t) - y_u(t))
                                      + sum_{same-step u -> l} theta_lu delta_l(tau)
                                      + sum_{recurrent u -> l} theta_lu delta_l(tau+1) )
    Delta theta_w = lr * sum_{tau = t-h+1..t} delta_u(tau) z_w(tau)

(spec §1.1 with the paper's error convention, no factor 2).  The recursion
stops after ``h = window`` steps: the state ``y(t-h)`` is treated as a
constant.  With ``window=None`` it runs back to the last reset, which is the
exact gradient of E(t), the same one RTRL computes; summed over a sequence
with the weights fixed it is epoch-wise (full) BPTT.

Cost per step with a target: O(h W) at most; the backward pass skips units
with no error (a Task 2a output unit carries error only at the step of its
target).  Memory: h + 1 source vectors, or the whole current sequence with
``window=None``; the buffer starts small and grows, in Python between
steps, while the sequence is shorter than that.

State tuple ``S = (hd, theta, dW, g, Zh, ey, ey_prev, delta)``: ``Zh`` holds the
history ring, slot ``tau mod cap`` for step ``tau`` of the sequence (at
full size ``cap = window + 1``, so a refused step never overwrites a slot
that the pending step's backward pass needs); ``g`` (W,), ``ey``, ``ey_prev`` and
``delta`` (n,) are scratch: the errors -dE/dy of the units at tau and
tau - 1, and -dE/dnet at tau.
"""

from __future__ import annotations

import numpy as np

from .._jit import njit_nrt as njit
from ..kernels import OK
from ._common import H_NIN, H_NOUT, H_SEQ, H_WIN, _apply, _begin_sequence, _count, _forward, _inputs_ok

#: status: the history buffer is too short (the Python layer grows it first)
NO_ROOM = 90


@njit
def _backward(theta, blocks, stages, m, n, K, Zh, t, depth, y, g, ey, ey_prev, delta):
    """g = -dE(t)/dtheta through steps t, t-1, ..., t-depth+1; returns the
    number of targets in ``y`` (NaN = none).

    Stages are visited in reverse, so a unit's same-step error from later
    stages is complete before its delta is formed; stages whose units carry
    no error are skipped.
    """
    nz = m + 1 + 2 * n
    cap = Zh.shape[0] // nz
    prev, cur = m + 1, m + 1 + n
    z = Zh[(t % cap) * nz:(t % cap + 1) * nz]
    ey[:] = 0.0
    n_t = 0
    for k in range(K):
        if not np.isnan(y[k]):
            n_t += 1
            ey[n - K + k] = y[k] - z[cur + n - K + k]  # d_k - y_k
    if n_t == 0:
        return 0
    g[:] = 0.0
    for s in range(depth):
        tau = t - s
        z = Zh[(tau % cap) * nz:(tau % cap + 1) * nz]
        ey_prev[:] = 0.0
        for st in range(stages.shape[0] - 1, -1, -1):
            active = False
            for u in range(stages[st, 0], stages[st, 1]):
                d = z[cur + u] * (1.0 - z[cur + u]) * ey[u]  # delta_u = f'(net_u) e_u
                delta[u] = d
                active |= d != 0.0
            if not active:
                continue
            for b in range(stages[st, 2], stages[st, 3]):
                sb = blocks[b, 0]
                zs = z[sb]
                if zs == 0.0 and sb <= m:  # a silent input: nothing to do
                    continue
                u0, L, w0 = blocks[b, 1], blocks[b, 2] - blocks[b, 1], blocks[b, 3]
                if zs != 0.0:
                    for i in range(L):
                        g[w0 + i] += delta[u0 + i] * zs
                if sb > m:  # a unit: pass the error on
                    acc = 0.0
                    for i in range(L):
                        acc += theta[w0 + i] * delta[u0 + i]
                    if sb >= cur:  # same step, an earlier stage
                        ey[sb - cur] += acc
                    else:  # step tau - 1
                        ey_prev[sb - prev] += acc
        ey[:] = ey_prev
    return n_t


@njit
def _depth(hd, t):
    """Steps the error of step t travels back: min(window, t + 1)."""
    win = int(hd[H_WIN])
    return t + 1 if win == 0 or win > t else win


@njit
def _step(S, net, x, y, learn):
    """One BPTT step: forward into the history, then (if targets) backward and update."""
    hd, theta, dW, g, Zh, ey, ey_prev, delta = S
    blocks, stages = net[0], net[1]
    m, K = int(hd[H_NIN]), int(hd[H_NOUT])
    n = ey.shape[0]
    nz = m + 1 + 2 * n
    cap = Zh.shape[0] // nz
    st = _inputs_ok(x, y, learn)
    if st != OK:
        return st
    t = int(hd[H_SEQ])
    win = int(hd[H_WIN])
    if t >= cap and (win == 0 or cap < win + 1):  # the ring is not full-size yet
        return NO_ROOM
    z = Zh[(t % cap) * nz:(t % cap + 1) * nz]
    zp = Zh[((t - 1) % cap) * nz:((t - 1) % cap + 1) * nz]
    st = _forward(theta, blocks, stages, m, n, x, zp, z, t == 0)
    if st != OK:
        return st
    n_t = 0
    if learn:
        n_t = _backward(theta, blocks, stages, m, n, K, Zh, t, _depth(hd, t), y, g, ey, ey_prev,
                        delta)
        if n_t > 0:
            st = _apply(hd, theta, dW, g)
            if st != OK:
                return st
    _count(hd, n_t > 0)
    return OK


@njit
def _emit(S, out):
    """Outputs y_k of the last step (the last K entries of its z)."""
    hd, Zh, ey = S[0], S[4], S[5]
    K = out.shape[0]
    nz = int(hd[H_NIN]) + 1 + 2 * ey.shape[0]
    end = ((int(hd[H_SEQ]) - 1) % (Zh.shape[0] // nz) + 1) * nz
    for k in range(K):
        out[k] = Zh[end - K + k]



@njit
def _reset(S):
    """Sequence boundary; the history starts over (slot 0 is the next step)."""
    return _begin_sequence(S[0], S[1], S[2])


@njit
def _last_gradient(S, net, y):
    """g for target ``y`` of the last committed step."""
    hd, theta, g, Zh, ey, ey_prev, delta = S[0], S[1], S[3], S[4], S[5], S[6], S[7]
    t = int(hd[H_SEQ]) - 1
    return _backward(theta, net[0], net[1], int(hd[H_NIN]), ey.shape[0], int(hd[H_NOUT]), Zh, t,
                     _depth(hd, t), y, g, ey, ey_prev, delta)
