"""Numba pieces shared by the RTRL and BPTT kernels.

The state of a competitor learner is a tuple of eight preallocated float64
arrays ``(hd, theta, dW, g, ...)``: the header below, the weights, the
accumulated update, the scratch gradient, then the algorithm's own arrays.
The topology is the tuple of int64 arrays ``Network.ints()`` of
:class:`~online_lstm.baselines.network.Network`.  Kernels allocate nothing and
report problems through the status codes of :mod:`online_lstm.kernels`; a
step that returns a non-zero code has changed nothing that is state.

Each algorithm's kernel module (``_rtrl``, ``_bptt``) provides ``_step(S,
net, x, y, learn)``, ``_reset(S)``, ``_emit(S, out)`` and ``_last_gradient(S,
net, y)``; :mod:`._entry` compiles the entry points (signatures below) around
them.
"""

from __future__ import annotations

import numpy as np

from .._jit import njit_nrt as njit
from ..kernels import (
    BAD_OUT_SHAPE, BAD_RESETS_SHAPE, BAD_X_SHAPE, BAD_X_VALUE, BAD_Y_SHAPE, BAD_Y_VALUE, DIV_BOUND,
    DIV_NET, NO_PENDING, OK,
)
from ..layout import MAGNITUDE_LIMIT

# header fields ---------------------------------------------------------------
H_LR = 0  # learning rate alpha
H_MODE = 1  # 0: apply each step's update; 1: accumulate to reset (sequence); 2: gradient only
H_BANK = 2  # RTRL: committed bank of Z and P (0 or 1)
H_STEP = 3  # steps since construction
H_SEQ = 4  # steps since the last reset
H_NUPD = 5  # steps whose target changed the weights (or dW)
H_NRES = 6  # resets
H_PENDING = 7  # 1 if the last step had no target and can be learned with learn_last
H_NIN = 8  # n_in
H_NOUT = 9  # n_out
H_WIN = 10  # BPTT: window (steps back); 0 = back to the last reset
H_KIND = 11  # which algorithm's kernels: KIND_RTRL or KIND_BPTT
HEADER_SIZE = 12
#: fields that are counters or mode (may differ between two states of one architecture)
HEADER_STATE = (H_LR, H_MODE, H_BANK, H_STEP, H_SEQ, H_NUPD, H_NRES, H_PENDING)

MODE_STEP, MODE_SEQUENCE, MODE_GRADIENT = 0, 1, 2
KIND_RTRL, KIND_BPTT = 0, 1

#: Signatures of the compiled entry points of each algorithm (``S`` is the
#: state tuple ``(hd, theta, dW, g, ...)``, ``net`` is ``Network.ints()``)
_S = "UniTuple(float64[::1], 8)"
_NET = "Tuple((int64[:, ::1], int64[:, ::1], int64[::1], int64[::1], int64[::1], int64[::1]))"
STEP_SIG = f"int64({_S}, {_NET}, float64[::1], float64[::1], float64[::1], boolean)"
LEARN_LAST_SIG = f"int64({_S}, {_NET}, float64[::1])"
RESET_SIG = f"int64({_S}, {_NET})"
RUN_SIG = (f"UniTuple(int64, 2)({_S}, {_NET}, float64[:, ::1], float64[:, ::1], boolean[::1], "
           f"float64[:, ::1], boolean)")


@njit
def _logistic(x):
    """f(x) = 1 / (1 + e^-x), every unit of the competitors' nets."""
    return 1.0 / (1.0 + np.exp(-x))


@njit
def _targets_ok(y):
    """BAD_Y_VALUE if a target is inf (NaN means "no target")."""
    for k in range(y.shape[0]):
        if np.isinf(y[k]):
            return BAD_Y_VALUE
    return OK


@njit
def _inputs_ok(x, y, learn):
    """BAD_X_VALUE if x holds NaN/inf; with ``learn`` also :func:`_targets_ok`."""
    for i in range(x.shape[0]):
        if not np.isfinite(x[i]):
            return BAD_X_VALUE
    return _targets_ok(y) if learn else OK


@njit
def _forward(theta, blocks, stages, m, n, x, z_prev, z, first):
    """One forward step into ``z`` (spec §2.4 three stages, logistic units).

    ``z = [x(t) | 1 | y(t-1) | y(t)]``; ``y(t-1)`` is the ``y(t)`` part of
    ``z_prev``, or zeros when ``first`` (a sequence start, spec §2.5).  Stage
    by stage, each unit's net input is summed source by source in ``z``
    order (zero sources skipped) in the ``y(t)`` slots, then squashed there.
    Returns DIV_NET if a net input is not finite.
    """
    for i in range(m):
        z[i] = x[i]
    z[m] = 1.0
    prev, cur = m + 1, m + 1 + n
    for v in range(n):
        z[prev + v] = 0.0 if first else z_prev[cur + v]
    for st in range(stages.shape[0]):
        u0, u1, b0, b1 = stages[st, 0], stages[st, 1], stages[st, 2], stages[st, 3]
        net = z[cur + u0:cur + u1]
        net[:] = 0.0
        for b in range(b0, b1):
            zs = z[blocks[b, 0]]
            if zs == 0.0:
                continue
            w0, a = blocks[b, 3], blocks[b, 1] - u0
            for i in range(blocks[b, 2] - blocks[b, 1]):
                net[a + i] += theta[w0 + i] * zs
        for i in range(u1 - u0):
            if not np.isfinite(net[i]):
                return DIV_NET
            net[i] = _logistic(net[i])
    return OK


@njit
def _apply(hd, theta, dW, g):
    """Weight change from ``g = -dE(t)/dtheta`` (spec §3.1: no factor 2).

    Mode 0: ``theta += lr * g`` now; mode 1: ``dW += lr * g`` (applied at the
    next reset); mode 2: ``dW += g`` (gradient only).  Every new value is
    checked before any is written: DIV_BOUND if one would be non-finite or
    beyond MAGNITUDE_LIMIT.
    """
    mode = int(hd[H_MODE])
    lr = 1.0 if mode == MODE_GRADIENT else hd[H_LR]
    tgt = theta if mode == MODE_STEP else dW
    ok = True
    for i in range(tgt.shape[0]):  # no early exit: the loop stays vectorised
        ok &= abs(tgt[i] + lr * g[i]) <= MAGNITUDE_LIMIT
    if not ok:
        return DIV_BOUND
    for i in range(tgt.shape[0]):
        tgt[i] += lr * g[i]
    return OK


@njit
def _begin_sequence(hd, theta, dW):
    """Reset bookkeeping (spec §2.5, §3.7): in mode 1 apply the accumulated
    update first.  Zeroing activations/influences is the caller's job."""
    if int(hd[H_MODE]) == MODE_SEQUENCE:
        for i in range(theta.shape[0]):
            if not abs(theta[i] + dW[i]) <= MAGNITUDE_LIMIT:
                return DIV_BOUND
        for i in range(theta.shape[0]):
            theta[i] += dW[i]
            dW[i] = 0.0
    hd[H_SEQ] = 0.0
    hd[H_PENDING] = 0.0
    hd[H_NRES] += 1.0
    return OK


@njit
def _count(hd, learned):
    """Counters after a committed step; ``learned``: it had a target."""
    hd[H_STEP] += 1.0
    hd[H_SEQ] += 1.0
    if learned:
        hd[H_NUPD] += 1.0
        hd[H_PENDING] = 0.0
    else:
        hd[H_PENDING] = 1.0


@njit
def _shapes_ok(hd, x, y, out, learn):
    """Status of the shapes of one step's input, target and output buffer."""
    if x.shape[0] != int(hd[H_NIN]):
        return BAD_X_SHAPE
    if learn and y.shape[0] != int(hd[H_NOUT]):
        return BAD_Y_SHAPE
    if out.shape[0] != int(hd[H_NOUT]):
        return BAD_OUT_SHAPE
    return OK


@njit
def _last_ok(hd, y):
    """Can ``learn_last(y)`` run?  A pending step and a valid target."""
    if hd[H_PENDING] != 1.0:
        return NO_PENDING
    if y.shape[0] != int(hd[H_NOUT]):
        return BAD_Y_SHAPE
    return _targets_ok(y)


@njit
def _learn_pending(S, n_t):
    """Apply ``g`` (filled for the pending step, ``n_t`` targets) as the step would have."""
    hd = S[0]
    if n_t == 0:
        return OK
    st = _apply(hd, S[1], S[2], S[3])
    if st == OK:
        hd[H_PENDING] = 0.0
        hd[H_NUPD] += 1.0
    return st


@njit
def _check_rows(X, Y, resets, out, m, K, learn):
    """Validate a whole chunk before its first step: (status, row)."""
    T = X.shape[0]
    if X.shape[1] != m:
        return BAD_X_SHAPE, 0
    if learn and (Y.shape[0] != T or Y.shape[1] != K):
        return BAD_Y_SHAPE, 0
    if out.shape[0] != T or out.shape[1] != K:
        return BAD_OUT_SHAPE, 0
    if resets.shape[0] != 0 and resets.shape[0] != T:
        return BAD_RESETS_SHAPE, 0
    for t in range(T):
        st = _inputs_ok(X[t], Y[t], learn)
        if st != OK:
            return st, t
    return OK, T
