"""Real-time recurrent learning (Williams & Zipser 1989): the exact online gradient.

The competitor of Tables 1 and 2 (spec §5.1, §5.2).  RTRL carries the
**influence** ``p^v_w(t) = dy_v(t)/dtheta_w`` of every weight on every unit
forward in time, so the gradient of each step's error is available at that
step, with no stored history:

    dnet_u(t)/dtheta_w = [w enters u] z_w(t)
                         + sum_{recurrent v -> u} theta_uv p^v_w(t-1)
                         + sum_{same-step v -> u} theta_uv p^v_w(t)
    p^u_w(t) = f'(net_u(t)) dnet_u(t)/dtheta_w,      p(0) = 0

and, with the paper's error convention (spec §3.1, no factor 2),

    Delta theta_w = lr * sum_k (d_k(t) - y_k(t)) p^k_w(t).

For a fully recurrent net of n units, W = O(n^2) weights and every unit reads
n units, so a step costs O(n^2 W) = O(n^4) and the influence matrix holds
n W numbers (spec §3.10: "RTRL is much worse").

Influence rows are kept only for units that some weight reads (``carried``
in :class:`~online_lstm.baselines.network.Network`).  The influence of a
unit nobody reads, such as Task 2a's non-recurrent output units, is needed
only for that step's error; it is formed on the fly from the carried rows:
``f'(net_k) (d_k - y_k)`` times the unit's own inputs plus its weighted
sources' influences.  This is the same gradient, exactly.  In the fully
recurrent net every unit is carried and the cost is the textbook O(n^4); in
the Task 2a net only the hidden unit is carried and a step costs O(W).

Kernels and state
-----------------
State tuple ``S = (hd, theta, dW, g, P, Z, back, e)``, all float64[::1]:

=========  =====================================================================
``hd``     header (:mod:`online_lstm.baselines._common`)
``theta``  weights (W,), stage- then source-major (see ``network``)
``dW``     accumulated update (W,) for ``update="sequence"`` / gradient mode
``P``      two banks of the influence matrix, (2, n_carried, W) flattened
``Z``      two banks of the source vector z = [x | 1 | y(t-1) | y(t)]
``g``      scratch: -dE(t)/dtheta (W,)
``back``   scratch: error coefficients of the carried rows, (n_carried,)
``e``      scratch: errors of the units nobody reads, (n,)
=========  =====================================================================

A step writes the spare bank and flips ``hd[H_BANK]`` only when nothing can
fail any more, so a refused step leaves the state as it was.
"""

from __future__ import annotations

import numpy as np

from .._jit import njit_nrt as njit
from ..kernels import DIV_BOUND, OK
from ..layout import MAGNITUDE_LIMIT
from ._common import H_BANK, H_NIN, H_NOUT, _apply, _begin_sequence, _count, _forward, _inputs_ok


@njit
def _add_scaled(dst, c, row, first):
    """dst += c * row, or dst = c * row if ``first`` (saves zeroing dst)."""
    if first:
        for i in range(dst.shape[0]):
            dst[i] = c * row[i]
    else:
        for i in range(dst.shape[0]):
            dst[i] += c * row[i]


@njit
def _influence(theta, uw_start, uw, src, carried, m, n, P, ob, nb, z):
    """p^u(t) for every carried unit u into bank ``nb``, from bank ``ob``.

    Returns DIV_BOUND if an influence leaves [-MAGNITUDE_LIMIT, MAGNITUDE_LIMIT].
    """
    W = theta.shape[0]
    nc = P.shape[0] // (2 * W)
    prev, cur = m + 1, m + 1 + n
    for u in range(n):
        r = carried[u]
        if r < 0:
            continue
        pu = P[(nb * nc + r) * W:(nb * nc + r + 1) * W]
        first = True
        for j in range(uw_start[u], uw_start[u + 1]):  # sources that are units
            w = uw[j]
            s = src[w]
            if s >= cur:  # y_v(t): influence of this step (v in an earlier stage)
                q = (nb * nc + carried[s - cur]) * W
            elif s >= prev:  # y_v(t-1): influence of the previous step
                q = (ob * nc + carried[s - prev]) * W
            else:
                continue
            _add_scaled(pu, theta[w], P[q:q + W], first)
            first = False
        if first:
            pu[:] = 0.0
        for j in range(uw_start[u], uw_start[u + 1]):  # u's own weights: z_w(t)
            pu[uw[j]] += z[src[uw[j]]]
        y = z[cur + u]
        fp = y * (1.0 - y)
        ok = True
        for i in range(W):
            v = fp * pu[i]
            pu[i] = v
            ok &= abs(v) <= MAGNITUDE_LIMIT
        if not ok:
            return DIV_BOUND
    return OK


@njit
def _gradient(theta, blocks, carried, m, n, K, P, nb, z, y, g, back, e):
    """g = -dE(t)/dtheta for the targets ``y`` (NaN = none); returns their number.

    A carried output unit's error multiplies its influence row.  A unit
    nobody reads (Task 2a's outputs) gets ``e_k = f'(net_k)(d_k - y_k)``
    (spec §3.3): its same-step sources pass ``e_k theta`` on to their
    influence rows (a unit nobody reads has no recurrent source;
    :class:`Network` checks this) and its own weights get ``e_k z``, block by
    block.  Coefficients are collected per row first (``back``), so each row
    is added to ``g`` once whatever the number of output units.
    """
    W = theta.shape[0]
    nc = P.shape[0] // (2 * W)
    cur = m + 1 + n
    back[:] = 0.0
    e[:] = 0.0
    n_t = 0
    sinks = False
    for k in range(K):
        if np.isnan(y[k]):
            continue
        n_t += 1
        u = n - K + k
        err = y[k] - z[cur + u]  # d_k - y_k
        if carried[u] >= 0:
            back[carried[u]] += err
        else:
            e[u] = z[cur + u] * (1.0 - z[cur + u]) * err
            sinks = True
    if sinks:  # same-step sources of the sinks: their share of the error
        for b in range(blocks.shape[0]):
            s = blocks[b, 0]
            if s >= cur:
                u0, w0 = blocks[b, 1], blocks[b, 3]
                acc = 0.0
                for i in range(blocks[b, 2] - u0):
                    acc += theta[w0 + i] * e[u0 + i]
                back[carried[s - cur]] += acc
    first = True  # g = sum_r back_r p^r(t)
    for r in range(nc):
        c = back[r]
        if c != 0.0:
            _add_scaled(g, c, P[(nb * nc + r) * W:(nb * nc + r + 1) * W], first)
            first = False
    if first:
        g[:] = 0.0
    if sinks:  # the sinks' own weights: e_k z, block by block
        for b in range(blocks.shape[0]):
            zs = z[blocks[b, 0]]
            if zs != 0.0:
                u0, w0 = blocks[b, 1], blocks[b, 3]
                for i in range(blocks[b, 2] - u0):
                    g[w0 + i] += e[u0 + i] * zs
    return n_t


@njit
def _step(S, net, x, y, learn):
    """One RTRL step: forward, influences, and (if targets) the update."""
    hd, theta, dW, g, P, Z, back, e = S
    blocks, stages, uw_start, uw, src, carried = net
    m, K = int(hd[H_NIN]), int(hd[H_NOUT])
    n = uw_start.shape[0] - 1
    nz = Z.shape[0] // 2
    st = _inputs_ok(x, y, learn)
    if st != OK:
        return st
    ob = int(hd[H_BANK])
    nb = 1 - ob
    z = Z[nb * nz:(nb + 1) * nz]
    st = _forward(theta, blocks, stages, m, n, x, Z[ob * nz:(ob + 1) * nz], z, False)
    if st != OK:
        return st
    st = _influence(theta, uw_start, uw, src, carried, m, n, P, ob, nb, z)
    if st != OK:
        return st
    n_t = 0
    if learn:
        n_t = _gradient(theta, blocks, carried, m, n, K, P, nb, z, y, g, back, e)
        if n_t > 0:
            st = _apply(hd, theta, dW, g)
            if st != OK:
                return st
    hd[H_BANK] = nb
    _count(hd, n_t > 0)
    return OK


@njit
def _reset(S):
    hd, theta, dW, P, Z = S[0], S[1], S[2], S[4], S[5]
    st = _begin_sequence(hd, theta, dW)
    if st != OK:
        return st
    P[:] = 0.0
    Z[:] = 0.0
    hd[H_BANK] = 0.0
    return OK


@njit
def _emit(S, out):
    hd, Z = S[0], S[5]
    K = out.shape[0]
    nz = Z.shape[0] // 2
    end = (int(hd[H_BANK]) + 1) * nz
    for k in range(K):
        out[k] = Z[end - K + k]


@njit
def _last_gradient(S, net, y):
    """g for target ``y`` of the committed step (its bank is current)."""
    hd, theta, g, P, Z, back, e = S[0], S[1], S[3], S[4], S[5], S[6], S[7]
    nb, nz = int(hd[H_BANK]), Z.shape[0] // 2
    return _gradient(theta, net[0], net[5], int(hd[H_NIN]), net[2].shape[0] - 1, int(hd[H_NOUT]), P,
                     nb, Z[nb * nz:(nb + 1) * nz], y, g, back, e)
