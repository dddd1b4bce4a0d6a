"""Numba kernels: one time step of the 1997 LSTM with its truncated gradient.

Hochreiter & Schmidhuber (1997), appendix A.1; ``spec/lstm1997.md`` §2.3–§3.8;
with the later forget gate and peepholes as options (spec §7.1, §7.2).
All state lives in one float64 array ``mem`` laid out by
:mod:`online_lstm.layout`.  Kernels allocate nothing and report problems
through integer status codes; the Python layer turns them into exceptions.

Reading the kernels
-------------------
Inside a kernel, a name such as ``H`` or ``s_c`` is the **offset** of that
array in ``mem``: the paper's ``w_{in_j m}`` is ``mem[H + m*R + j]``.  The
offsets come from the :data:`Dims` tuple that :func:`_dims` reads from the
header of ``mem`` once per call.  Offsets and loop counters are unsigned
(``np.uint64``), which tells Numba that no index is negative; that removes a
branch per access and lets LLVM vectorise the loops without changing any
floating-point sum.  (Numba types integer literals as int64, and
``uint64 op int64`` is a float, hence ``U0``/``U1``.)

Storage is source-major, so every net input is a sum of scaled rows,
``net[:] += H[m, :] * z[m]`` for m = 0, 1, ... in that order.

Notation (ASCII forms of the paper's symbols)
---------------------------------------------
=============  ==========================================================
``z``          non-bias sources of cells and gates: x(t), y(t-1)
``net_in``     net input of input gate ``in_j``; ``y_in = f(net_in)``
``net_out``    net input of output gate ``out_j``; ``y_out = f(net_out)``
``net_c``      net input of cell ``c_j^v``; ``gc = g(net_c)``
``s_c``        internal state of cell ``c_j^v`` (the CEC)
``y_c``        cell output ``y_out * h(s_c)``
``o``          non-bias sources of the output units
``y_k``        output unit activation ``f(net_k)``
``e_k``        output error ``f'(net_k) (t_k - y_k)`` (eq. 19)
``e_out``      output-gate error (eq. 21)
``e_s``        internal-state error (eq. 23)
``T``          traces ds_c/dw_in and ds_c/dw_c (eqs. 25, 27), and
               ds_c/dw_phi (spec §7.1)
``net_phi``    net input of forget gate ``phi_j``; ``y_phi = f(net_phi)``
``P``          peephole weights from the states of block j to its gates
``d_*``        derivatives computed from activations: f' = y(1-y),
               g' = (4 - g^2)/4, h' = (1 - h^2)/2 (appendix eqs. 3-5)
=============  ==========================================================

One step, in order (spec §2.4 and §3.8)
---------------------------------------
1. ``_forward``: build ``z`` from the current input and the committed
   previous activations, then gates, cells, states and outputs into the
   spare record bank.  Nothing committed yet.
2. ``_errors``: output errors and the errors of output gates and states,
   from the same record and the pre-update output weights.
3. ``_bounds``: a cheap proof that the commit cannot create inf or NaN.
4. ``_commit``: traces ``T += coef * z`` and, if there was a target, weight
   changes ``theta += alpha * e * T`` (or into ``dW`` when updates are
   accumulated to the sequence end, §3.7), source row by source row; then
   the record bank becomes the committed one.

If any check in 1-3 fails, nothing that is state has changed: the step is
refused as a whole.

Forget gates and peepholes (spec §7)
------------------------------------
A net with either option runs :func:`_step_x`, with :func:`_forward_x` and
:func:`_commit_x`, chosen once per step from the layout flags ``fg`` and
``ph``; their layout entries are a second tuple, :data:`DimsX` (read by
:func:`_dims_x`), so the 1997 step passes the same :data:`Dims` as before.
The 1997 net runs :func:`_forward` and :func:`_commit` exactly as they were
before the options existed: same code, same bits, same speed.
:func:`_bounds` serves both (its extra terms are behind two flags).
The options' step, in the order of spec §7.2: input and forget gates (their
peepholes read s(t-1)), states ``s = y_phi s(t-1) + y_in g``, the output
gate (its peepholes read s(t)), cell outputs, output units; then errors as
in 1997 (no error flows through peepholes), and the commit, where every
trace is damped by its block's forget gate, ``T = y_phi T + coef * z``, the
forget gate has traces of its own (coefficient ``s(t-1) f'_phi``), and the
peepholes have traces whose source is a state of their own block.  The
1997 net is the special case ``y_phi = 1``, no peepholes: a forget gate
pinned open (``f(net_phi)`` = 1.0 exactly) reproduces it bit for bit.

Delayed targets
---------------
A net with ``max_delay > 0`` also takes :func:`_step_x` (with no forget gate
and no peepholes it computes the 1997 step's bits): after each step,
:func:`_snapshot` copies what that step's weight change needs (its record,
its traces, the output weights from the cells before its update) into slot
``t mod (max_delay + 1)`` of a ring, with flags for the outputs that had no
target; a step with a target for every output is only flagged closed.
:func:`learn_delayed` runs :func:`_errors`, :func:`_bounds` and
:func:`_commit_x` (weights only) on a slot instead of the live record and
traces, through a :data:`Dims` whose offsets point into the slot: the
same code as :func:`learn_last`, on the step's own numbers.

One step, one truth: every entry point (:func:`learn_step`,
:func:`predict_step`, :func:`run`) copies the step's input and target into a
staging area of ``mem`` and calls the same compiled ``_step_mem``.  With
strict IEEE arithmetic (no fastmath) they give the same bits.  The step and
its phases are inlined into each entry point (``njit_inline``; see
:mod:`online_lstm._jit` for why), which changes where the code sits, not what
it computes.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ._jit import njit, njit_inline, njit_sig
from .layout import (
    _META_FIELDS, H_DWMAX, H_LR, H_STATE_BOUND, H_TMAX, H_WMAX, M_BANK, M_N_RESETS,
    M_N_UPDATES, M_PENDING, M_SEQ_STEP, M_STEP, MAGNITUDE_LIMIT, META,
)

# ---------------------------------------------------------------------------
# status codes
# ---------------------------------------------------------------------------
OK = 0
BAD_X_SHAPE = 1  # input has the wrong length
BAD_X_VALUE = 2  # input holds NaN or inf
BAD_Y_SHAPE = 3  # target has the wrong length
BAD_Y_VALUE = 4  # target holds inf (NaN means "no target")
DIV_NET = 5  # a net input or output became non-finite
DIV_STATE = 6  # |s_c| exceeded the state bound (or became non-finite)
DIV_ERROR = 7  # an error signal became non-finite
DIV_BOUND = 8  # an update would push a weight or trace beyond MAGNITUDE_LIMIT
NO_PENDING = 9  # learn_last with no unlearned step
BAD_OUT_SHAPE = 10  # output buffer has the wrong shape
BAD_RESETS_SHAPE = 11  # resets mask has the wrong length
BAD_AGE = 12  # learn_delayed: no snapshot of a step that old
HAS_TARGET = 13  # learn_delayed: an output of that step already had its target

U = np.uint64
U0 = np.uint64(0)
U1 = np.uint64(1)

#: Dimensions and offsets of one learner (the layout table in mem's header).
Dims = namedtuple("Dims", _META_FIELDS[: _META_FIELDS.index("fg")])
#: The entries of the forget gate and peepholes (spec §7), read only by the
#: options' code path, so that the 1997 step passes the same Dims as before.
DimsX = namedtuple("DimsX", _META_FIELDS[_META_FIELDS.index("fg"): _META_FIELDS.index("bank")])
_BOOL_FIELDS = ("og", "conn_b", "g1", "h_id", "gate_bias", "cell_bias", "out_bias", "fg", "ph")
# mem index of each layout field, as module constants M_<field> (frozen by Numba)
for _name in Dims._fields + DimsX._fields:
    globals()["M_" + _name] = META[_name]
del _name

# ---------------------------------------------------------------------------
# small helpers (inlined by LLVM)
# ---------------------------------------------------------------------------


@njit
def _dims(mem):
    """Read the layout table from the header of ``mem`` (see layout.META)."""
    return Dims(
        U(mem[M_n_in]), U(mem[M_K]), U(mem[M_C]), U(mem[M_S]), U(mem[M_I_h]), U(mem[M_R]),
        U(mem[M_R_g]), U(mem[M_n_ob]),
        mem[M_og] != 0.0, mem[M_conn_b] != 0.0, mem[M_g1] != 0.0, mem[M_h_id] != 0.0,
        mem[M_gate_bias] != 0.0, mem[M_cell_bias] != 0.0, mem[M_out_bias] != 0.0,
        int(mem[M_accum]),  # 0 per step, 1 per sequence, 2 gradient only
        U(mem[M_W]), U(mem[M_theta]), U(mem[M_dW]), U(mem[M_H]), U(mem[M_b_in]), U(mem[M_b_c]),
        U(mem[M_b_out]), U(mem[M_Wk]), U(mem[M_b_k]), U(mem[M_T]), U(mem[M_n_traces]),
        U(mem[M_bank0]), U(mem[M_bank_size]),
        U(mem[M_r_z]), U(mem[M_r_o]), U(mem[M_r_yin]), U(mem[M_r_yout]), U(mem[M_r_din]),
        U(mem[M_r_dout]), U(mem[M_r_gc]), U(mem[M_r_dgc]), U(mem[M_r_s]), U(mem[M_r_hs]),
        U(mem[M_r_dhs]), U(mem[M_r_yc]), U(mem[M_r_yk]), U(mem[M_r_dk]),
        U(mem[M_e_k]), U(mem[M_back]), U(mem[M_e_s]), U(mem[M_e_out]), U(mem[M_net]),
        U(mem[M_coef]), U(mem[M_xs]), U(mem[M_ys]),
    )


@njit
def _has_options(mem):
    """True if the step takes the options' path: the net has forget gates or
    peepholes (spec §7), or keeps snapshots for delayed targets."""
    return mem[M_xp] != 0.0


@njit
def _dims_x(mem):
    """The layout entries of the forget gate, peepholes and snapshot ring
    (see DimsX)."""
    return DimsX(
        mem[M_fg] != 0.0, mem[M_ph] != 0.0, U(mem[M_Cg]), U(mem[M_b_phi]), U(mem[M_P]),
        U(mem[M_TP]), U(mem[M_r_yphi]), U(mem[M_r_dphi]), U(mem[M_damp]),
        mem[M_xp] != 0.0, U(mem[M_n_slots]), U(mem[M_slots]), U(mem[M_slot_size]),
        U(mem[M_sl_T]), U(mem[M_sl_wk]), U(mem[M_sl_open]), U(mem[M_sl_tmax]),
        U(mem[M_sl_step]),
    )


def _replacer(cls, name, fields):
    """A compiled ``name(t, *values)``: the namedtuple ``t`` of class ``cls``
    with ``fields`` replaced (Numba has no ``_replace``)."""
    args = ", ".join(f if f in fields else f"t.{f}" for f in cls._fields)
    src = f"def {name}(t, {', '.join(fields)}):\n    return {cls.__name__}({args})\n"
    ns = {}
    # compiled under this file's name and in this module's globals, so that
    # Numba can cache it (and rebuild its environment from this module)
    exec(compile(src, __file__, "exec"), globals(), ns)  # noqa: S102 - built from field names
    return njit(ns[name])


#: Dims whose record bank 0 and traces are a snapshot's (kernels.learn_delayed)
_dims_at = _replacer(Dims, "_dims_at", ("bank0", "T", "Wk"))
#: DimsX whose peephole traces are a snapshot's
_dims_x_at = _replacer(DimsX, "_dims_x_at", ("TP",))


@njit
def _sigmoid(x):
    """Logistic f(x) = 1/(1+e^-x) (appendix eq. 3)."""
    return 1.0 / (1.0 + np.exp(-x))


@njit
def _max_abs(mem, off, n):
    """max |mem[off:off+n]|; NaN counts as larger than anything."""
    mx = 0.0
    for i in range(n):
        v = abs(mem[off + i])
        if not v <= mx:
            mx = v
    return mx


@njit
def _bank(d, b):
    """Offset of record bank ``b`` (0 or 1)."""
    return d.bank0 + U(b) * d.bank_size


@njit
def _cur_bank(mem):
    return int(mem[M_BANK])


# ---------------------------------------------------------------------------
# 1. forward pass (spec §2.3, §2.4): the paper's three stages
# ---------------------------------------------------------------------------


@njit_inline
def _forward(mem, d, pb_index, nb):
    """Compute step t of the 1997 net into record bank ``nb`` from
    committed bank ``pb_index``.

    The input x(t) is read from the staging area (already checked finite).
    Sources that are exactly 0 contribute nothing and are skipped.

    Returns
    -------
    int
        ``OK``, ``DIV_NET`` or ``DIV_STATE``.
    """
    n_in, K, C, S, I_h, R, n_ob = d.n_in, d.K, d.C, d.S, d.I_h, d.R, d.n_ob
    CS = C * S
    og = d.og
    bound = mem[H_STATE_BOUND]
    x = d.xs
    H = d.H  # mem[H + m*R + r]: weight from source z[m] to hidden unit r
    Wk = d.Wk  # mem[Wk + q*K + k] = w_{k q}

    pb = _bank(d, pb_index)  # committed record: step t-1
    rb = _bank(d, nb)  # record being written: step t
    s_prev = pb + d.r_s
    z = rb + d.r_z
    o = rb + d.r_o
    y_in = rb + d.r_yin
    y_out = rb + d.r_yout
    d_in = rb + d.r_din
    d_out = rb + d.r_dout
    gc = rb + d.r_gc
    dgc = rb + d.r_dgc
    s_c = rb + d.r_s
    hs = rb + d.r_hs
    dhs = rb + d.r_dhs
    y_c = rb + d.r_yc
    y_k = rb + d.r_yk
    d_k = rb + d.r_dk
    net_in = d.net  # [net_in (C) | net_c (CS) | net_out (C)], R entries, like a row of H
    net_c = net_in + C
    net_out = net_c + CS
    net_k = net_in + R

    # Stage 1: clamp the current input; previous hidden activations (§2.4).
    for i in range(n_in):
        mem[z + i] = mem[x + i]
    if not d.conn_b:
        p = n_in
        for i in range(CS):
            mem[z + p + i] = mem[pb + d.r_yc + i]
        p += CS
        for j in range(C):
            mem[z + p + j] = mem[pb + d.r_yin + j]
        p += C
        if og:
            for j in range(C):
                mem[z + p + j] = mem[pb + d.r_yout + j]

    # Stage 2: gates, cells, states (appendix eqs. 6-9).
    # net = bias (the weight from the constant-1 unit) + sum_m w_{rm} z[m]
    for j in range(C):
        mem[net_in + j] = mem[d.b_in + j] if d.gate_bias else 0.0
    for q in range(CS):
        mem[net_c + q] = mem[d.b_c + q] if d.cell_bias else 0.0
    if og:
        for j in range(C):
            mem[net_out + j] = mem[d.b_out + j] if d.gate_bias else 0.0
    for m in range(I_h):
        zm = mem[z + m]
        if zm == 0.0:
            continue
        w = H + m * R
        for r in range(R):
            mem[net_in + r] += mem[w + r] * zm
    for j in range(C):
        a = mem[net_in + j]
        if not np.isfinite(a):
            return DIV_NET
        yi = _sigmoid(a)
        mem[y_in + j] = yi
        mem[d_in + j] = yi * (1.0 - yi)  # f'_in(net_in)
        if og:
            a = mem[net_out + j]
            if not np.isfinite(a):
                return DIV_NET
            yo = _sigmoid(a)
            mem[y_out + j] = yo
            mem[d_out + j] = yo * (1.0 - yo)  # f'_out(net_out)
        else:
            yo = 1.0
            mem[y_out + j] = 1.0
            mem[d_out + j] = 0.0
        for v in range(S):
            q = j * S + v
            a = mem[net_c + q]
            if not np.isfinite(a):
                return DIV_NET
            if d.g1:
                gv = _sigmoid(a)  # g = logistic (Exp. 2a/2b)
                dg = gv * (1.0 - gv)
            else:
                gv = 4.0 * _sigmoid(a) - 2.0  # g in [-2, 2] (eq. 5)
                dg = (4.0 - gv * gv) * 0.25
            mem[gc + q] = gv
            mem[dgc + q] = dg
            s = mem[s_prev + q] + yi * gv  # s_c(t) = s_c(t-1) + y_in g(net_c)  (CEC)
            if not abs(s) <= bound:
                return DIV_STATE
            mem[s_c + q] = s
            if d.h_id:
                hv = s
                dh = 1.0
            else:
                hv = 2.0 * _sigmoid(s) - 1.0  # h in [-1, 1] (eq. 4)
                dh = (1.0 - hv * hv) * 0.5
            mem[hs + q] = hv
            mem[dhs + q] = dh
            mem[y_c + q] = yo * hv  # y_c = y_out h(s_c)

    # Stage 3: output units read the cells of the same step (§2.4).
    for i in range(CS):
        mem[o + i] = mem[y_c + i]
    if d.conn_b:
        for i in range(n_in):
            mem[o + CS + i] = mem[x + i]
    for k in range(K):
        mem[net_k + k] = mem[d.b_k + k] if d.out_bias else 0.0
    for q in range(n_ob):
        oq = mem[o + q]
        if oq == 0.0:
            continue
        w = Wk + q * K
        for k in range(K):
            mem[net_k + k] += mem[w + k] * oq
    for k in range(K):
        a = mem[net_k + k]
        if not np.isfinite(a):
            return DIV_NET
        yk = _sigmoid(a)
        mem[y_k + k] = yk
        mem[d_k + k] = yk * (1.0 - yk)
    return OK


@njit_inline
def _forward_x(mem, d, dx, pb_index, nb):
    """:func:`_forward` with forget gates and/or peepholes (spec §7.1, §7.2).

    The same three stages; stage 2 runs in the order of spec §7.2: input and
    forget gates (their peepholes read s(t-1)), then the states
    ``s = y_phi s(t-1) + y_in g`` (§7.1), then the output gate (its
    peepholes read s(t)), then the cell outputs.  Hidden net inputs are
    ``[net_in (C) | net_phi (C) | net_c (CS) | net_out (C)]``.
    """
    n_in, K, C, S, I_h, R, n_ob, Cg = d.n_in, d.K, d.C, d.S, d.I_h, d.R, d.n_ob, dx.Cg
    CS = C * S
    og, fg, ph = d.og, dx.fg, dx.ph
    bound = mem[H_STATE_BOUND]
    x = d.xs
    H = d.H
    Wk = d.Wk
    pb = _bank(d, pb_index)
    rb = _bank(d, nb)
    s_prev = pb + d.r_s
    z = rb + d.r_z
    o = rb + d.r_o
    y_in = rb + d.r_yin
    y_out = rb + d.r_yout
    y_phi = rb + dx.r_yphi
    d_in = rb + d.r_din
    d_out = rb + d.r_dout
    d_phi = rb + dx.r_dphi
    gc = rb + d.r_gc
    dgc = rb + d.r_dgc
    s_c = rb + d.r_s
    hs = rb + d.r_hs
    dhs = rb + d.r_dhs
    y_c = rb + d.r_yc
    y_k = rb + d.r_yk
    d_k = rb + d.r_dk
    net_in = d.net
    net_phi = net_in + C
    net_c = net_in + Cg
    net_out = net_c + CS
    net_k = net_in + R
    P_in = dx.P  # peephole weights [P_in | P_phi | P_out], (C, S) each, block-major
    P_phi = P_in + CS
    P_out = P_phi + (CS if fg else U0)

    # Stage 1: clamp the current input; previous hidden activations (§2.4).
    for i in range(n_in):
        mem[z + i] = mem[x + i]
    if not d.conn_b:
        p = n_in
        for i in range(CS):
            mem[z + p + i] = mem[pb + d.r_yc + i]
        p += CS
        for j in range(C):
            mem[z + p + j] = mem[pb + d.r_yin + j]
        p += C
        if og:
            for j in range(C):
                mem[z + p + j] = mem[pb + d.r_yout + j]

    # Stage 2: net inputs from the sources (b_phi follows b_in), then block by block.
    for r in range(Cg):
        mem[net_in + r] = mem[d.b_in + r] if d.gate_bias else 0.0
    for q in range(CS):
        mem[net_c + q] = mem[d.b_c + q] if d.cell_bias else 0.0
    if og:
        for j in range(C):
            mem[net_out + j] = mem[d.b_out + j] if d.gate_bias else 0.0
    for m in range(I_h):
        zm = mem[z + m]
        if zm == 0.0:
            continue
        w = H + m * R
        for r in range(R):
            mem[net_in + r] += mem[w + r] * zm
    for j in range(C):
        b = j * S  # first cell of block j
        a = mem[net_in + j]
        if ph:
            for v in range(S):
                a += mem[P_in + b + v] * mem[s_prev + b + v]
        if not np.isfinite(a):
            return DIV_NET
        yi = _sigmoid(a)
        mem[y_in + j] = yi
        mem[d_in + j] = yi * (1.0 - yi)
        yf = 1.0
        if fg:
            a = mem[net_phi + j]
            if ph:
                for v in range(S):
                    a += mem[P_phi + b + v] * mem[s_prev + b + v]
            if not np.isfinite(a):
                return DIV_NET
            yf = _sigmoid(a)
            mem[y_phi + j] = yf
            mem[d_phi + j] = yf * (1.0 - yf)  # f'_phi(net_phi)
        for v in range(S):
            q = b + v
            a = mem[net_c + q]
            if not np.isfinite(a):
                return DIV_NET
            gv, dg = _g(d, a)
            mem[gc + q] = gv
            mem[dgc + q] = dg
            if fg:
                s = yf * mem[s_prev + q] + yi * gv  # s_c(t) = y_phi s_c(t-1) + y_in g  (§7.1)
            else:
                s = mem[s_prev + q] + yi * gv
            if not abs(s) <= bound:
                return DIV_STATE
            mem[s_c + q] = s
        if og:
            a = mem[net_out + j]
            if ph:
                for v in range(S):
                    a += mem[P_out + b + v] * mem[s_c + b + v]  # the updated state (§7.2)
            if not np.isfinite(a):
                return DIV_NET
            yo = _sigmoid(a)
            mem[y_out + j] = yo
            mem[d_out + j] = yo * (1.0 - yo)
        else:
            yo = 1.0
            mem[y_out + j] = 1.0
            mem[d_out + j] = 0.0
        for v in range(S):
            q = b + v
            hv, dh = _h(d, mem[s_c + q])
            mem[hs + q] = hv
            mem[dhs + q] = dh
            mem[y_c + q] = yo * hv

    # Stage 3: output units read the cells of the same step (§2.4).
    for i in range(CS):
        mem[o + i] = mem[y_c + i]
    if d.conn_b:
        for i in range(n_in):
            mem[o + CS + i] = mem[x + i]
    for k in range(K):
        mem[net_k + k] = mem[d.b_k + k] if d.out_bias else 0.0
    for q in range(n_ob):
        oq = mem[o + q]
        if oq == 0.0:
            continue
        w = Wk + q * K
        for k in range(K):
            mem[net_k + k] += mem[w + k] * oq
    for k in range(K):
        a = mem[net_k + k]
        if not np.isfinite(a):
            return DIV_NET
        yk = _sigmoid(a)
        mem[y_k + k] = yk
        mem[d_k + k] = yk * (1.0 - yk)
    return OK


@njit
def _g(d, a):
    """Cell-input squashing and its derivative: g = 4σ-2 in [-2, 2]
    (eq. 5), or the logistic (Exp. 2a/2b)."""
    if d.g1:
        gv = _sigmoid(a)
        return gv, gv * (1.0 - gv)
    gv = 4.0 * _sigmoid(a) - 2.0
    return gv, (4.0 - gv * gv) * 0.25


@njit
def _h(d, s):
    """Cell-output squashing and its derivative: h = 2σ-1 in [-1, 1]
    (eq. 4), or the identity."""
    if d.h_id:
        return s, 1.0
    hv = 2.0 * _sigmoid(s) - 1.0
    return hv, (1.0 - hv * hv) * 0.5


# ---------------------------------------------------------------------------
# 2. errors (eqs. 19, 21, 23); only output units, output gates and states
# ---------------------------------------------------------------------------


@njit_inline
def _errors(mem, d, rb_index):
    """Errors of the step in record bank ``rb_index``, for the staged target.

    A NaN target entry means "no target for unit k" and gives ``e_k = 0``.

    Returns
    -------
    (status, n_targets)
    """
    K, C, S = d.K, d.C, d.S
    CS = C * S
    y = d.ys
    Wk = d.Wk
    rb = _bank(d, rb_index)
    y_k = rb + d.r_yk
    d_k = rb + d.r_dk
    y_out = rb + d.r_yout
    d_out = rb + d.r_dout
    hs = rb + d.r_hs
    dhs = rb + d.r_dhs
    e_k = d.e_k
    back = d.back
    e_s = d.e_s
    e_out = d.e_out

    n_t = 0
    for k in range(K):
        tk = mem[y + k]  # target t^k(t)
        if np.isnan(tk):
            mem[e_k + k] = 0.0
        else:
            e = mem[d_k + k] * (tk - mem[y_k + k])  # eq. 19 (no factor 2, §3.1)
            if not np.isfinite(e):
                return DIV_ERROR, 1
            mem[e_k + k] = e
            n_t += 1
    if n_t == 0:
        return OK, 0
    # back[q] = sum_k w_{k c_j^v} e_k, with the pre-update output weights.
    for q in range(CS):
        acc = 0.0
        w = Wk + q * K
        for k in range(K):
            acc += mem[w + k] * mem[e_k + k]
        mem[back + q] = acc
    for j in range(C):
        acc = 0.0
        for v in range(S):
            q = j * S + v
            acc += mem[hs + q] * mem[back + q]
            e = mem[y_out + j] * mem[dhs + q] * mem[back + q]  # eq. 23
            if not np.isfinite(e):
                return DIV_ERROR, n_t
            mem[e_s + q] = e
        e = mem[d_out + j] * acc if d.og else 0.0  # eq. 21
        if not np.isfinite(e):
            return DIV_ERROR, n_t
        mem[e_out + j] = e
    return OK, n_t


# ---------------------------------------------------------------------------
# 3. magnitude bounds: prove the commit stays finite, in O(units)
# ---------------------------------------------------------------------------


@njit_inline
def _bounds(mem, d, rb_index, traces, learn):
    """Upper bounds on max|T| and max|U| after the commit.

    ``mem[H_TMAX]`` and ``mem[H_WMAX]``/``mem[H_DWMAX]`` hold upper bounds on
    the current magnitudes.  A step adds at most ``max|coef| * max|z|`` to any
    trace and at most ``|alpha e| * max|source or trace|`` to any weight, so the
    bounds grow by those amounts.  Only if a bound passes
    ``MAGNITUDE_LIMIT`` are the buffers scanned for their true maxima (rare;
    amortised cost nil).  If even the true values would pass the limit, the
    step is refused with ``DIV_BOUND`` before anything changes, as it is
    when a scaled error ``alpha |e|`` passes the limit.  Below the limit
    every product and sum of the commit is finite.

    With forget gates (spec §7.1) a trace becomes ``y_phi T + coef * z``;
    since ``0 <= y_phi <= 1`` it still grows by at most ``max|coef| max|z|``,
    with the forget-gate coefficient ``s_c(t-1) f'_phi`` among the
    coefficients.  Peepholes (§7.2) have the states as sources: their traces
    read ``s_c(t-1)`` and the output-gate peephole update reads ``s_c(t)``,
    so both enter ``max|z|``.  Forget-gate and peephole weights of a block
    change by ``sum_v |alpha e_s| max|T|``, like the input-gate weights,
    and output-gate peepholes by ``|alpha e_out| max|z|``, like the
    output-gate weights: the bounds below cover them all.

    Returns
    -------
    (status, tmax_new, umax_new)
    """
    C, S, I_h, K, n_ob = d.C, d.S, d.I_h, d.K, d.n_ob
    accum = d.accum != 0
    hu = H_DWMAX if accum else H_WMAX
    rb = _bank(d, rb_index)
    z = rb + d.r_z
    zmax = 1.0 if (d.gate_bias or d.cell_bias) else 0.0  # the bias unit
    for m in range(I_h):
        a = abs(mem[z + m])
        if a > zmax:
            zmax = a
    if mem[M_ph] != 0.0:  # peephole sources: s_c(t), and s_c(t-1) for the traces
        s_c = rb + d.r_s
        s_prev = _bank(d, 1 - rb_index) + d.r_s
        for q in range(C * S):
            a = abs(mem[s_c + q])
            if a > zmax:
                zmax = a
            if traces:
                a = abs(mem[s_prev + q])
                if a > zmax:
                    zmax = a
    tmax = mem[H_TMAX]
    if traces:
        gc = rb + d.r_gc
        dgc = rb + d.r_dgc
        d_in = rb + d.r_din
        y_in = rb + d.r_yin
        cmax = 0.0
        for j in range(C):
            for v in range(S):
                q = j * S + v
                a = abs(mem[gc + q] * mem[d_in + j])
                b = abs(mem[dgc + q] * mem[y_in + j])
                if a > cmax:
                    cmax = a
                if b > cmax:
                    cmax = b
        if mem[M_fg] != 0.0:  # forget-gate traces: coefficient s_c(t-1) f'_phi (spec §7.1)
            s_prev = _bank(d, 1 - rb_index) + d.r_s
            d_phi = rb + U(mem[M_r_dphi])
            for j in range(C):
                for v in range(S):
                    a = abs(mem[s_prev + j * S + v] * mem[d_phi + j])
                    if a > cmax:
                        cmax = a
        inc = cmax * zmax
        tmax = tmax + inc
        if not tmax <= MAGNITUDE_LIMIT:
            tmax = _max_abs(mem, d.T, d.n_traces) + inc
            if not tmax <= MAGNITUDE_LIMIT:
                return DIV_BOUND, tmax, mem[hu]
    umax = mem[hu]
    if learn:
        lr = abs(mem[H_LR])
        o = rb + d.r_o
        omax = 1.0 if d.out_bias else 0.0
        for q in range(n_ob):
            a = abs(mem[o + q])
            if a > omax:
                omax = a
        # Each scaled error lr*|e| must itself stay below the limit: with
        # lr > 1 it can overflow to inf for a finite e, and inf * 0 (a zero
        # source or trace) is a NaN that no bound would catch.
        dmax = 0.0  # largest change any weight can receive this step
        for k in range(K):
            c = lr * abs(mem[d.e_k + k])
            if not c <= MAGNITUDE_LIMIT:
                return DIV_BOUND, tmax, c
            a = c * omax
            if a > dmax:
                dmax = a
        for j in range(C):
            c = lr * abs(mem[d.e_out + j])
            if not c <= MAGNITUDE_LIMIT:
                return DIV_BOUND, tmax, c
            a = c * zmax
            if a > dmax:
                dmax = a
            acc = 0.0
            for v in range(S):
                c = lr * abs(mem[d.e_s + j * S + v])
                if not c <= MAGNITUDE_LIMIT:
                    return DIV_BOUND, tmax, c
                acc += c * tmax
            if acc > dmax:
                dmax = acc
        umax = umax + dmax
        if not umax <= MAGNITUDE_LIMIT:
            base = d.dW if accum else d.theta
            umax = _max_abs(mem, base, d.W) + dmax
            if not umax <= MAGNITUDE_LIMIT:
                return DIV_BOUND, tmax, umax
    return OK, tmax, umax


# ---------------------------------------------------------------------------
# 4. commit: traces (eqs. 25, 27) and weight changes (eqs. 22, 24, 26, 28)
# ---------------------------------------------------------------------------


@njit_inline
def _commit(mem, d, rb_index, traces, learn):
    """Update the 1997 net's traces (if ``traces``) and apply/accumulate
    weight changes (if ``learn``), source row by source row.

    The trace value a weight change uses is the one that includes step t's
    contribution, as in eqs. 24 and 28.  Splitting the two (``traces`` now,
    ``learn`` later, as ``learn_last`` does) gives the same bits: each trace
    row is first updated to ``T + coef*z`` and stored, then read by the
    weight change, in both cases.
    """
    C, S, I_h, K, R, n_ob = d.C, d.S, d.I_h, d.K, d.R, d.n_ob
    CS = C * S
    CS2 = CS + CS
    og = d.og
    lr = mem[H_LR]
    shift = d.dW - d.theta if d.accum != 0 else U0  # write into dW instead
    H = d.H + shift
    Wk = d.Wk + shift
    T = d.T  # row m: [T_in (CS, v-major) | T_c (CS)]
    rb = _bank(d, rb_index)
    z = rb + d.r_z
    o = rb + d.r_o
    y_in = rb + d.r_yin
    d_in = rb + d.r_din
    gc = rb + d.r_gc
    dgc = rb + d.r_dgc
    cc = d.coef  # [c_in (CS, v-major) | c_c (CS)], same order as a trace row
    a_in = cc + CS2  # alpha e_s, v-major
    a_c = a_in + CS  # alpha e_s
    a_out = a_c + CS  # alpha e_out
    a_k = a_out + C  # alpha e_k

    for j in range(C):
        for v in range(S):
            q = j * S + v
            qv = v * C + j
            # trace coefficients (eqs. 25, 27): g(net_c) f'_in(net_in), g'(net_c) y_in
            mem[cc + qv] = mem[gc + q] * mem[d_in + j]
            mem[cc + CS + q] = mem[dgc + q] * mem[y_in + j]
            if learn:
                a = lr * mem[d.e_s + q]
                mem[a_in + qv] = a
                mem[a_c + q] = a
        if learn:
            mem[a_out + j] = lr * mem[d.e_out + j]
    if learn:
        for k in range(K):
            mem[a_k + k] = lr * mem[d.e_k + k]

    # rows m < I_h are the sources z; row I_h is the bias unit (source = 1),
    # present if the gates have a bias; its weights are [b_in | b_c | b_out]
    n_rows = I_h + (U1 if d.gate_bias else U0)
    for m in range(n_rows):
        if m < I_h:
            zm = mem[z + m]
            w_in = H + m * R
            w_c = w_in + C
            w_out = w_c + CS
            has_c = True
        else:
            zm = 1.0
            w_in = d.b_in + shift
            w_c = d.b_c + shift
            w_out = d.b_out + shift
            has_c = d.cell_bias
        tr = T + m * CS2
        if traces and zm != 0.0:  # a zero source adds nothing to a trace
            n_tr = CS2 if has_c else CS
            for p in range(n_tr):
                mem[tr + p] += mem[cc + p] * zm  # eqs. 25 and 27
        if learn:
            for v in range(S):
                r = v * C
                for j in range(C):
                    # eq. 24: the sum over the cells of block j, one v at a time
                    mem[w_in + j] += mem[a_in + r + j] * mem[tr + r + j]
            if has_c:
                for q in range(CS):
                    mem[w_c + q] += mem[a_c + q] * mem[tr + CS + q]  # eq. 28
            if og and zm != 0.0:
                for j in range(C):
                    mem[w_out + j] += mem[a_out + j] * zm  # eq. 22, output gate
    if learn:
        for m in range(n_ob):
            om = mem[o + m]
            if om == 0.0:
                continue
            w = Wk + m * K
            for k in range(K):
                mem[w + k] += mem[a_k + k] * om  # eq. 22, output unit
        if d.out_bias:
            b_k = d.b_k + shift
            for k in range(K):
                mem[b_k + k] += mem[a_k + k]


@njit_inline
def _commit_x(mem, d, dx, rb_index, traces, learn):
    """:func:`_commit` with forget gates and/or peepholes (spec §7.1, §7.2).

    With forget gates every trace is damped by its block's forget gate,
    ``T = y_phi T + coef*z``, the forget gate's own traces (coefficient
    ``s_c(t-1) f'_phi(net_phi)``) sit next to the input gate's, and the gate
    weights of a row, ``[in | phi]``, learn from them alike (eq. 24 and
    §7.1).  Peepholes (§7.2) follow the source rows.
    """
    C, S, I_h, K, R, Cg = d.C, d.S, d.I_h, d.K, d.R, dx.Cg
    CS = C * S
    G = S * Cg  # gate traces per row
    L = G + CS  # trace row: [T_g (G, v-major: in | phi) | T_c (CS)]
    og, fg = d.og, dx.fg
    lr = mem[H_LR]
    shift = d.dW - d.theta if d.accum != 0 else U0
    H = d.H + shift
    T = d.T
    rb = _bank(d, rb_index)
    s_prev = _bank(d, 1 - rb_index) + d.r_s  # s_c(t-1); read only with ``traces``
    z = rb + d.r_z
    y_in = rb + d.r_yin
    d_in = rb + d.r_din
    y_phi = rb + dx.r_yphi
    d_phi = rb + dx.r_dphi
    gc = rb + d.r_gc
    dgc = rb + d.r_dgc
    cc = d.coef  # trace coefficients, same order as a trace row
    a_g = cc + L  # alpha e_s per gate trace (the same for in and phi of a cell)
    a_c = a_g + G  # alpha e_s per cell
    a_out = a_c + CS  # alpha e_out
    a_k = a_out + C  # alpha e_k
    dm = dx.damp  # y_phi of the cell of each trace of a row

    for j in range(C):
        yf = mem[y_phi + j] if fg else 1.0
        for v in range(S):
            q = j * S + v
            qv = v * Cg + j
            if traces:
                mem[cc + qv] = mem[gc + q] * mem[d_in + j]
                mem[cc + G + q] = mem[dgc + q] * mem[y_in + j]
                if fg:
                    mem[cc + qv + C] = mem[s_prev + q] * mem[d_phi + j]
                    mem[dm + qv] = yf
                    mem[dm + qv + C] = yf
                    mem[dm + G + q] = yf
            if learn:
                a = lr * mem[d.e_s + q]
                mem[a_g + qv] = a
                if fg:
                    mem[a_g + qv + C] = a
                mem[a_c + q] = a
        if learn:
            mem[a_out + j] = lr * mem[d.e_out + j]
    if learn:
        for k in range(K):
            mem[a_k + k] = lr * mem[d.e_k + k]

    n_rows = I_h + (U1 if d.gate_bias else U0)
    for m in range(n_rows):
        if m < I_h:
            zm = mem[z + m]
            w_g = H + m * R
            w_c = w_g + Cg
            w_out = w_c + CS
            has_c = True
        else:
            zm = 1.0
            w_g = d.b_in + shift
            w_c = d.b_c + shift
            w_out = d.b_out + shift
            has_c = d.cell_bias
        tr = T + m * L
        if traces:
            n_tr = L if has_c else G
            if fg:  # spec §7.1: T = y_phi T + coef z
                if zm != 0.0:
                    for p in range(n_tr):
                        mem[tr + p] = mem[tr + p] * mem[dm + p] + mem[cc + p] * zm
                else:
                    for p in range(n_tr):
                        mem[tr + p] = mem[tr + p] * mem[dm + p]
            elif zm != 0.0:
                for p in range(n_tr):
                    mem[tr + p] += mem[cc + p] * zm
        if learn:
            for v in range(S):
                r = v * Cg
                for j in range(Cg):
                    mem[w_g + j] += mem[a_g + r + j] * mem[tr + r + j]
            if has_c:
                for q in range(CS):
                    mem[w_c + q] += mem[a_c + q] * mem[tr + G + q]
            if og and zm != 0.0:
                for j in range(C):
                    mem[w_out + j] += mem[a_out + j] * zm
    if dx.ph:
        _commit_peepholes(mem, d, dx, rb, s_prev, traces, learn, shift)
    if learn:
        _learn_outputs(mem, d, rb, a_k, shift)


@njit
def _learn_outputs(mem, d, rb, a_k, shift):
    """Output-unit weight changes, eq. 22: ``w_kq += alpha e_k o_q``."""
    K = d.K
    o = rb + d.r_o
    Wk = d.Wk + shift
    for m in range(d.n_ob):
        om = mem[o + m]
        if om == 0.0:
            continue
        w = Wk + m * K
        for k in range(K):
            mem[w + k] += mem[a_k + k] * om
    if d.out_bias:
        b_k = d.b_k + shift
        for k in range(K):
            mem[b_k + k] += mem[a_k + k]


@njit
def _commit_peepholes(mem, d, dx, rb, s_prev, traces, learn, shift):
    """Traces and weight changes of the peepholes (spec §7.2).

    For block j, source cell v' (state ``s_{c_j^v'}``) and cell v::

        T_Pin  = y_phi T_Pin  + g(net_c) f'_in(net_in)    s_{c_j^v'}(t-1)
        T_Pphi = y_phi T_Pphi + s_c(t-1) f'_phi(net_phi)  s_{c_j^v'}(t-1)
        w_{in_j c_j^v'}  += alpha sum_v e_s T_Pin    (and phi alike)
        w_{out_j c_j^v'} += alpha e_out s_{c_j^v'}(t)  (plain backprop, no trace)

    The coefficients and ``alpha e`` are those of the gate traces (scratch).
    """
    C, S, Cg = d.C, d.S, dx.Cg
    CS = C * S
    fg = dx.fg
    Sg = S + (S if fg else U0)  # traces per (block, source cell)
    G = S * Cg
    cc = d.coef
    a_g = cc + G + CS
    a_out = a_g + G + CS
    y_phi = rb + dx.r_yphi
    s_c = rb + d.r_s
    P_in = dx.P + shift
    P_phi = P_in + CS
    P_out = P_phi + (CS if fg else U0)
    for j in range(C):
        yf = mem[y_phi + j] if fg else 1.0
        for w in range(S):
            src = j * S + w
            t = dx.TP + src * Sg  # [T_Pin over v | T_Pphi over v]
            if traces:
                sw = mem[s_prev + src]
                for v in range(S):
                    qv = v * Cg + j
                    mem[t + v] = mem[t + v] * yf + mem[cc + qv] * sw
                    if fg:
                        mem[t + S + v] = mem[t + S + v] * yf + mem[cc + qv + C] * sw
            if learn:
                for v in range(S):
                    qv = v * Cg + j
                    mem[P_in + src] += mem[a_g + qv] * mem[t + v]
                    if fg:
                        mem[P_phi + src] += mem[a_g + qv + C] * mem[t + S + v]
                if d.og:
                    mem[P_out + src] += mem[a_out + j] * mem[s_c + src]


# ---------------------------------------------------------------------------
# the step, the reset, and the entry points
# ---------------------------------------------------------------------------


@njit
def _staged_x_ok(mem, d):
    for i in range(d.n_in):
        if not np.isfinite(mem[d.xs + i]):
            return False
    return True


@njit
def _staged_y_ok(mem, d):
    for k in range(d.K):
        if np.isinf(mem[d.ys + k]):
            return False
    return True


@njit_inline
def _step_mem(mem, d, learn):
    """One time step on the staged input (and target, if ``learn``).

    This is the only place a step is computed; every entry point calls it.
    Returns a status code; on any code but OK nothing that is state has
    changed.

    A net with forget gates or peepholes (spec §7), or with a window for
    delayed targets, takes :func:`_step_x`, decided here once per step; the rest is the 1997 step, whose compiled
    code is then the same as before those options existed (measured with
    ``benchmarks/ab_step.py``).
    """
    if _has_options(mem):
        return _step_x(mem, d, learn, True)
    return _step_1997(mem, d, learn)


@njit_inline
def _step_unwindowed(mem, d, learn):
    """:func:`_step_mem` for learners that keep no snapshots for delayed
    targets (those of a learner bank): the snapshot code is compiled out, so
    that it does not weigh on the bank's loop."""
    if _has_options(mem):
        return _step_x(mem, d, learn, False)
    return _step_1997(mem, d, learn)


@njit_inline
def _step_xw(mem, d, learn):
    """:func:`_step_x` with the snapshots (the row loop of :func:`run`)."""
    return _step_x(mem, d, learn, True)


@njit_inline
def _step_1997(mem, d, learn):
    """:func:`_step_mem` for the 1997 net (no forget gate, no peepholes)."""
    if not _staged_x_ok(mem, d):
        return BAD_X_VALUE
    if learn and not _staged_y_ok(mem, d):
        return BAD_Y_VALUE
    cb = _cur_bank(mem)
    nb = 1 - cb
    st = _forward(mem, d, cb, nb)
    if st != OK:
        return st
    n_t = 0
    if learn:
        st, n_t = _errors(mem, d, nb)
        if st != OK:
            return st
    has_t = n_t > 0
    st, tmax, umax = _bounds(mem, d, nb, True, has_t)
    if st != OK:
        return st
    # --- commit ---------------------------------------------------------
    _commit(mem, d, nb, True, has_t)
    mem[H_TMAX] = tmax
    if d.accum != 0:
        mem[H_DWMAX] = umax
    else:
        mem[H_WMAX] = umax
    mem[M_BANK] = nb
    mem[M_STEP] += 1.0
    mem[M_SEQ_STEP] += 1.0
    if has_t:
        mem[M_N_UPDATES] += 1.0
        mem[M_PENDING] = 0.0
    else:
        mem[M_PENDING] = 1.0
    return OK


@njit_inline
def _step_x(mem, d, learn, window):
    """:func:`_step_mem` for a net with forget gates or peepholes (or a
    window for delayed targets): the same sequence with :func:`_forward_x`
    and :func:`_commit_x`.  ``window`` is a constant at each call site: False
    compiles the snapshots out."""
    dx = _dims_x(mem)
    if not _staged_x_ok(mem, d):
        return BAD_X_VALUE
    if learn and not _staged_y_ok(mem, d):
        return BAD_Y_VALUE
    cb = _cur_bank(mem)
    nb = 1 - cb
    st = _forward_x(mem, d, dx, cb, nb)
    if st != OK:
        return st
    n_t = 0
    if learn:
        st, n_t = _errors(mem, d, nb)
        if st != OK:
            return st
    has_t = n_t > 0
    st, tmax, umax = _bounds(mem, d, nb, True, has_t)
    if st != OK:
        return st
    # --- commit ---------------------------------------------------------
    slot = U0
    keep = False  # snapshot this step: some output has no target yet
    if window and dx.n_slots != U0:
        slot = _slot(dx, int(mem[M_STEP]))
        keep = _mark_open(mem, d, dx, slot, learn)
        if keep:
            _snapshot_wk(mem, d, dx, slot)  # the output weights before this step's change
    _commit_x(mem, d, dx, nb, True, has_t)
    mem[H_TMAX] = tmax
    if d.accum != 0:
        mem[H_DWMAX] = umax
    else:
        mem[H_WMAX] = umax
    mem[M_BANK] = nb
    mem[M_STEP] += 1.0
    mem[M_SEQ_STEP] += 1.0
    if has_t:
        mem[M_N_UPDATES] += 1.0
        mem[M_PENDING] = 0.0
    else:
        mem[M_PENDING] = 1.0
    if keep:
        _snapshot(mem, d, dx, slot, nb, mem[M_STEP])
    return OK


# ---------------------------------------------------------------------------
# delayed targets: a ring of step snapshots
# ---------------------------------------------------------------------------


@njit
def _slot(dx, t):
    """Offset of the ring slot of step ``t`` (steps counted from 0)."""
    return dx.slots + U(t % int(dx.n_slots)) * dx.slot_size


@njit
def _mark_open(mem, d, dx, slot, learn):
    """Flag the outputs of this step that had no target (they may get one
    later); True if there is any.  A step whose every output had its target
    needs no snapshot: its slot keeps an older step's, all flagged closed,
    so learn_delayed refuses any target for it before reading it."""
    op = slot + dx.sl_open
    n_open = 0
    for k in range(d.K):
        if not learn or np.isnan(mem[d.ys + k]):
            mem[op + k] = 1.0
            n_open += 1
        else:
            mem[op + k] = 0.0
    return n_open > 0


@njit
def _snapshot_wk(mem, d, dx, slot):
    """Save ``w_{k c}`` (the output weights from the cells, rows 0..CS-1 of
    Wk), which carry a delayed error back to the cells (eqs. 21, 23)."""
    wk = slot + dx.sl_wk
    for i in range(d.C * d.S * d.K):
        mem[wk + i] = mem[d.Wk + i]


@njit
def _snapshot(mem, d, dx, slot, rb_index, n_steps):
    """Save what the weight change of the step just taken needs: its record
    (bank ``rb_index``), its traces (which include the step, eqs. 25, 27)
    and their bound, and mark the slot as that step's (``n_steps`` = its
    index + 1)."""
    rb = _bank(d, rb_index)
    for i in range(d.bank_size):
        mem[slot + i] = mem[rb + i]
    tr = slot + dx.sl_T
    for i in range(d.n_traces):
        mem[tr + i] = mem[d.T + i]
    mem[slot + dx.sl_tmax] = mem[H_TMAX]
    mem[slot + dx.sl_step] = n_steps


@njit
def _reset(mem, d):
    """Sequence boundary (spec §2.5): apply accumulated updates (§3.7), then
    zero states, activations and traces."""
    if d.accum == 1:  # 2 = gradient mode: accumulate, never apply
        wmax = mem[H_WMAX] + mem[H_DWMAX]
        if not wmax <= MAGNITUDE_LIMIT:
            wmax = _max_abs(mem, d.theta, d.W) + _max_abs(mem, d.dW, d.W)
            if not wmax <= MAGNITUDE_LIMIT:
                return DIV_BOUND
        for i in range(d.W):
            mem[d.theta + i] += mem[d.dW + i]
            mem[d.dW + i] = 0.0
        mem[H_WMAX] = wmax
        mem[H_DWMAX] = 0.0
    for i in range(d.n_traces):
        mem[d.T + i] = 0.0
    for i in range(d.bank_size + d.bank_size):
        mem[d.bank0 + i] = 0.0
    mem[H_TMAX] = 0.0
    mem[M_BANK] = 0.0
    mem[M_PENDING] = 0.0
    mem[M_SEQ_STEP] = 0.0
    mem[M_N_RESETS] += 1.0
    return OK


@njit
def _emit(mem, d, out):
    """Copy the outputs y_k of the committed step into ``out``."""
    y_k = _bank(d, _cur_bank(mem)) + d.r_yk
    for k in range(d.K):
        out[k] = mem[y_k + k]


@njit
def _one(mem, x, y, out, learn):
    """Stage one input (and target), run the step, emit the outputs."""
    d = _dims(mem)
    if x.shape[0] != d.n_in:
        return BAD_X_SHAPE
    if learn and y.shape[0] != d.K:
        return BAD_Y_SHAPE
    if out.shape[0] != d.K:
        return BAD_OUT_SHAPE
    for i in range(d.n_in):
        mem[d.xs + i] = x[i]
    if learn:
        for k in range(d.K):
            mem[d.ys + k] = y[k]
    st = _step_mem(mem, d, learn)
    if st == OK:
        _emit(mem, d, out)
    return st


@njit_sig("int64(float64[::1], float64[::1], float64[::1], float64[::1])")
def learn_step(mem, x, y, out):
    """One step from Python: forward, traces and the update for target ``y``.

    Parameters
    ----------
    mem : float64[::1]
    x : float64[::1], shape (n_in,)
    y : float64[::1], shape (K,)
        Target; NaN entries mean no target.
    out : float64[::1], shape (K,)
        Receives the outputs y_k(t), computed before this step's update.

    Returns
    -------
    int
        Status code (0 = OK).  On any non-zero code the state is unchanged.
    """
    return _one(mem, x, y, out, True)


@njit_sig("int64(float64[::1], float64[::1], float64[::1])")
def predict_step(mem, x, out):
    """One step without learning (states and traces still advance)."""
    return _one(mem, x, x, out, False)


@njit_sig("int64(float64[::1])")
def reset(mem):
    """Sequence boundary; see ``_reset``."""
    return _reset(mem, _dims(mem))


@njit_inline
def _learn_record(mem, de, d, dx, rb_index, x_path):
    """The weight change for the staged target of the step in record bank
    ``rb_index`` of ``d``, whose traces are at ``d.T``: errors (eqs. 19, 21,
    23) through the output weights of ``de``, then the bound check and the
    weight-only commit.  The shared tail of :func:`learn_last` (the live
    record) and :func:`learn_delayed` (a snapshot).

    Returns
    -------
    (status, n_targets)
        Nothing has changed unless status is OK and n_targets > 0.
    """
    st, n_t = _errors(mem, de, rb_index)
    if st != OK or n_t == 0:
        return st, n_t
    st, _, umax = _bounds(mem, d, rb_index, False, True)
    if st != OK:
        return st, n_t
    if x_path:
        _commit_x(mem, d, dx, rb_index, False, True)
    else:
        _commit(mem, d, rb_index, False, True)
    if d.accum != 0:
        mem[H_DWMAX] = umax
    else:
        mem[H_WMAX] = umax
    mem[M_N_UPDATES] += 1.0
    return OK, n_t


@njit_sig("int64(float64[::1], float64[::1])")
def learn_last(mem, y):
    """Learn from target ``y`` of the last (committed, unlearned) step.

    Applies exactly the weight change that :func:`learn_step` with the same
    target would have applied; the traces already include the step.
    """
    if mem[M_PENDING] != 1.0:
        return NO_PENDING
    d = _dims(mem)
    if y.shape[0] != d.K:
        return BAD_Y_SHAPE
    for k in range(d.K):
        mem[d.ys + k] = y[k]
    if not _staged_y_ok(mem, d):
        return BAD_Y_VALUE
    st, n_t = _learn_record(mem, d, d, _dims_x(mem), _cur_bank(mem), _has_options(mem))
    if st == OK and n_t > 0:
        mem[M_PENDING] = 0.0
    return st


@njit_sig("int64(float64[::1], float64[::1], int64)")
def learn_delayed(mem, y, age):
    """Learn from target ``y`` of the step taken ``age`` steps before the last.

    Applies exactly the weight change that :func:`learn_step` with this
    target would have applied at that step: the errors (eqs. 19, 21, 23) come
    from that step's record and its output weights ``w_{kc}``, the changes
    (eqs. 22, 24, 28) from its sources and traces, all read from its
    snapshot; only the moment the change is applied differs.  Outputs that
    already had a target at that step (or got one since) refuse a second one.

    Parameters
    ----------
    y : float64[::1], shape (K,)
        NaN entries mean no target for that unit.
    age : int
        0 for the last step, up to ``n_slots - 1`` and the number of steps
        taken minus 1.

    Returns
    -------
    int
        Status code (0 = OK).  On any non-zero code the state is unchanged.
    """
    d = _dims(mem)
    dx = _dims_x(mem)
    if y.shape[0] != d.K:
        return BAD_Y_SHAPE
    n_steps = int(mem[M_STEP])
    if dx.n_slots == U0 or age < 0 or age >= int(dx.n_slots) or age >= n_steps:
        return BAD_AGE
    t = n_steps - 1 - age
    slot = _slot(dx, t)
    op = slot + dx.sl_open
    for k in range(d.K):
        mem[d.ys + k] = y[k]
    if not _staged_y_ok(mem, d):
        return BAD_Y_VALUE
    n_given = 0
    for k in range(d.K):
        if not np.isnan(y[k]):
            if mem[op + k] == 0.0:
                return HAS_TARGET
            n_given += 1
    if n_given == 0:
        return OK
    if mem[slot + dx.sl_step] != t + 1:  # open flags on a slot of another step: corrupt
        return BAD_AGE
    # that step's record and traces; its output weights for the errors
    ds = _dims_at(d, slot, slot + dx.sl_T, d.Wk)
    de = _dims_at(d, slot, slot + dx.sl_T, slot + dx.sl_wk)
    dxs = _dims_x_at(dx, slot + dx.sl_T + (dx.TP - d.T))
    # _bounds reads the trace bound from the header: that step's bound there
    tmax_now = mem[H_TMAX]
    mem[H_TMAX] = mem[slot + dx.sl_tmax]
    st, _ = _learn_record(mem, de, ds, dxs, 0, True)
    mem[H_TMAX] = tmax_now
    if st != OK:
        return st
    for k in range(d.K):
        if not np.isnan(y[k]):
            mem[op + k] = 0.0
    if age == 0:
        mem[M_PENDING] = 0.0
    return OK


def _rows_loop(step, name):
    """The row loop of :func:`run` around one step function.

    :func:`run` picks the loop once per call, so the 1997 net's loop holds
    only the 1997 step (:func:`_step_1997`), not the options' branch: its
    compiled code stays as small as before the options existed.  Both loops
    are the loop of :func:`run`; only the step they call differs, and
    :func:`_step_mem` (the per-step entry) calls the same two functions.
    """

    def loop(mem, d, X, Y, resets, out, learn):
        T = X.shape[0]
        n_in = d.n_in
        K = d.K
        nr = resets.shape[0]
        for t in range(T):
            if nr != 0 and resets[t]:
                st = _reset(mem, d)
                if st != OK:
                    return st, t
            for i in range(n_in):
                mem[d.xs + i] = X[t, i]
            if learn:
                for k in range(K):
                    mem[d.ys + k] = Y[t, k]
            st = step(mem, d, learn)
            if st != OK:
                return st, t
            y_k = _bank(d, _cur_bank(mem)) + d.r_yk
            for k in range(K):
                out[t, k] = mem[y_k + k]
        return OK, T

    loop.__name__ = loop.__qualname__ = name  # one cache entry per loop
    return njit(loop)


_run_1997 = _rows_loop(_step_1997, "_run_1997")
_run_x = _rows_loop(_step_xw, "_run_x")


@njit_sig("UniTuple(int64, 2)(float64[::1], float64[:, ::1], float64[:, ::1], "
          "boolean[::1], float64[:, ::1], boolean)")
def run(mem, X, Y, resets, out, learn):
    """T steps in one call, bit-identical to T calls of the per-step kernels.

    Every row of ``X`` (and ``Y``) is validated before the first step, so bad
    input changes nothing.  A divergence at row t stops the run there: rows
    before t are kept (they were valid online steps), row t is not applied
    (a reset requested at row t has been).

    Parameters
    ----------
    X : float64[:, ::1], shape (T, n_in)
    Y : float64[:, ::1], shape (T, K); ignored if ``learn`` is False
    resets : bool[::1], shape (T,) or (0,)
        ``resets[t]``: a new sequence starts at row t (reset before it).
    out : float64[:, ::1], shape (T, K)

    Returns
    -------
    (status, row)
        ``row`` is the failing row, or T when all rows ran.
    """
    d = _dims(mem)
    T = X.shape[0]
    n_in = d.n_in
    K = d.K
    if X.shape[1] != n_in:
        return BAD_X_SHAPE, 0
    if learn and (Y.shape[0] != T or Y.shape[1] != K):
        return BAD_Y_SHAPE, 0
    if out.shape[0] != T or out.shape[1] != K:
        return BAD_OUT_SHAPE, 0
    nr = resets.shape[0]
    if nr != 0 and nr != T:
        return BAD_RESETS_SHAPE, 0
    for t in range(T):
        for i in range(n_in):
            if not np.isfinite(X[t, i]):
                return BAD_X_VALUE, t
        if learn:
            for k in range(K):
                if np.isinf(Y[t, k]):
                    return BAD_Y_VALUE, t
    if _has_options(mem):
        return _run_x(mem, d, X, Y, resets, out, learn)
    return _run_1997(mem, d, X, Y, resets, out, learn)
