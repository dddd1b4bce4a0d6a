"""A slow, obvious NumPy implementation of the 1997 LSTM, for testing,
with the later forget gate (spec §7.1) and peepholes (§7.2) as options.

Written on purpose in a different style from the kernels:

* dense matrices in the paper's orientation (unit, source), with the bias as
  an extra column fed by a constant-1 source, instead of source-major rows;
* the squashing functions through ``tanh`` (``g = 2 tanh(x/2)``,
  ``h = tanh(x/2)``) and their derivatives from the net input
  (``g' = 4 f(1-f)``), instead of ``4σ-2`` and derivatives from values;
* whole-vector NumPy expressions, no zero-skipping, no record banks;
* forget gates always present in the formulas (a vector of ones without
  them), peepholes as dense (C, S) matrices, traces of the peepholes as
  (cell, source cell) matrices built with ``np.repeat``.

It also provides the "replayed" loss of spec §3.9, whose exact derivative is
the truncated gradient: the previous-step activations that feed net inputs
are taken from a recorded trajectory (constants), while the state path
s(t-1) -> s(t) (through the forget gate, if any) and the same-step path
y_c(t) -> outputs stay live.  Peephole inputs are recorded constants too:
no error flows back through peepholes (spec §7.2).
"""

from __future__ import annotations

import collections

import numpy as np


def f(x):
    """Logistic."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def fprime(x):
    y = f(x)
    return y * (1.0 - y)


def g_fn(x, kind):
    return 2.0 * np.tanh(0.5 * x) if kind == "g2" else f(x)


def gprime(x, kind):
    return 4.0 * fprime(x) if kind == "g2" else fprime(x)


def h_fn(x, kind):
    return np.tanh(0.5 * x) if kind == "h1" else x


def hprime(x, kind):
    return 2.0 * fprime(x) if kind == "h1" else np.ones_like(x)


class ReferenceLSTM:
    """The 1997 LSTM and its truncated learning rule (spec §3.8), plainly.

    Parameters
    ----------
    layout : online_lstm.Layout
    weights : dict
        Named parameters as returned by ``OnlineLSTM.get_weights()``.
    lr : float
    accumulate : bool
        Accumulate weight changes and apply them at :meth:`reset`.
    """

    def __init__(self, layout, weights, lr, accumulate=False):
        self.lay = lay = layout
        self.lr = lr
        self.accumulate = accumulate
        C, S, CS = lay.n_blocks, lay.block_size, lay.n_cells
        self.C, self.S, self.CS = C, S, CS

        def with_bias(W, bname, has):
            return np.column_stack([W, weights[bname]]) if has else W.copy()

        self.W = {
            "in": with_bias(weights["W_in"], "b_in", lay.gate_bias),
            "c": with_bias(weights["W_c"], "b_c", lay.cell_bias),
            "k": with_bias(weights["W_k"], "b_k", lay.output_bias),
        }
        if lay.output_gates:
            self.W["out"] = with_bias(weights["W_out"], "b_out", lay.gate_bias)
        if lay.forget_gate:
            self.W["phi"] = with_bias(weights["W_phi"], "b_phi", lay.gate_bias)
        for name in ("P_in", "P_phi", "P_out"):  # peepholes, (C, S)
            if name in weights:
                self.W[name] = weights[name].copy()
        self.dW = {k: np.zeros_like(v) for k, v in self.W.items()}
        # the last steps' (record, traces, W_k before its update), newest last
        self.snapshots = collections.deque(maxlen=self.KEEP)
        self.reset(apply=False)

    # ------------------------------------------------------------------
    def reset(self, apply=True):
        if apply and self.accumulate:
            for k in self.W:
                self.W[k] += self.dW[k]
                self.dW[k][...] = 0.0
        CS, C = self.CS, self.C
        self.s = np.zeros(CS)
        self.y_c = np.zeros(CS)
        self.y_in = np.zeros(C)
        self.y_out = np.zeros(C)
        self.T_in = np.zeros_like(self.W["in"], shape=(CS, self.W["in"].shape[1]))
        self.T_c = np.zeros((CS, self.W["c"].shape[1]))
        self.T_phi = np.zeros_like(self.T_in)
        self.T_P_in = np.zeros((CS, self.S))
        self.T_P_phi = np.zeros((CS, self.S))

    def sources(self, x, prev=None):
        """Hidden-layer sources with and without bias columns."""
        lay = self.lay
        y_c, y_in, y_out = prev if prev is not None else (self.y_c, self.y_in, self.y_out)
        if lay.connectivity == "F":
            parts = [x, y_c, y_in] + ([y_out] if lay.output_gates else [])
            z = np.concatenate(parts)
        else:
            z = np.asarray(x, dtype=float)
        zg = np.append(z, 1.0) if lay.gate_bias else z
        zc = np.append(z, 1.0) if lay.cell_bias else z
        return zg, zc

    def peep(self, W, name, states):
        """Peephole input of one gate per block: sum_v' w_{gate_j c_j^v'} s_{c_j^v'}."""
        if name not in W:
            return 0.0
        return np.sum(W[name] * states.reshape(self.C, self.S), axis=1)

    def forward(self, x, W=None, prev=None, s_prev=None, peep=None):
        """One forward step; returns a dict of everything computed.

        ``peep`` = (states read by the input/forget-gate peepholes, states
        read by the output-gate peepholes), recorded constants for the
        replayed loss; by default the live s(t-1) and s(t) (spec §7.2).
        """
        lay, S = self.lay, self.S
        W = self.W if W is None else W
        s_prev = self.s if s_prev is None else s_prev
        s_gates = s_prev if peep is None else peep[0]
        zg, zc = self.sources(x, prev)
        net_in = W["in"] @ zg + self.peep(W, "P_in", s_gates)
        y_in = f(net_in)
        if lay.forget_gate:
            net_phi = W["phi"] @ zg + self.peep(W, "P_phi", s_gates)
            y_phi = f(net_phi)
        else:
            net_phi = None
            y_phi = np.ones(self.C)
        net_c = W["c"] @ zc
        gc = g_fn(net_c, lay.g)
        y_in_cells = np.repeat(y_in, S)
        s = np.repeat(y_phi, S) * s_prev + y_in_cells * gc  # CEC, with forgetting
        if lay.output_gates:
            net_out = W["out"] @ zg + self.peep(W, "P_out", s if peep is None else peep[1])
            y_out = f(net_out)
        else:
            net_out = None
            y_out = np.ones(self.C)
        y_out_cells = np.repeat(y_out, S)
        hs = h_fn(s, lay.h)
        y_c = y_out_cells * hs
        o = y_c if lay.connectivity == "F" else np.concatenate([y_c, x])
        ob = np.append(o, 1.0) if lay.output_bias else o
        net_k = W["k"] @ ob
        y_k = f(net_k)
        return dict(zg=zg, zc=zc, net_in=net_in, y_in=y_in, net_out=net_out, y_out=y_out,
                    net_phi=net_phi, y_phi=y_phi, s_prev=s_prev, net_c=net_c, gc=gc, s=s, hs=hs,
                    y_c=y_c, ob=ob, net_k=net_k, y_k=y_k)

    def step(self, x, y=None, learn=True):
        """One step; returns y_k before the update."""
        lay, C, S = self.lay, self.C, self.S
        x = np.asarray(x, dtype=float)
        r = self.forward(x)
        # traces (eqs. 25, 27; spec §7.1, §7.2), every step, damped by y_phi
        y_in_cells = np.repeat(r["y_in"], S)
        keep = np.repeat(r["y_phi"], S)[:, None]
        c_in = r["gc"] * np.repeat(fprime(r["net_in"]), S)
        self.T_in = keep * self.T_in + c_in[:, None] * r["zg"][None, :]
        self.T_c = keep * self.T_c + (gprime(r["net_c"], lay.g) * y_in_cells)[:, None] * r["zc"][None, :]
        block_states = np.repeat(r["s_prev"].reshape(C, S), S, axis=0)  # (cell, source cell)
        self.T_P_in = keep * self.T_P_in + c_in[:, None] * block_states
        if lay.forget_gate:
            c_phi = r["s_prev"] * np.repeat(fprime(r["net_phi"]), S)
            self.T_phi = keep * self.T_phi + c_phi[:, None] * r["zg"][None, :]
            self.T_P_phi = keep * self.T_P_phi + c_phi[:, None] * block_states
        # what a delayed target of this step needs: its record, its traces,
        # and the output weights it was computed with (before its update)
        self.snapshots.append((r, {k: getattr(self, k).copy() for k in self._TRACES},
                               self.W["k"].copy()))
        if learn and y is not None:
            self.learn_from(-1, y)
        self.s, self.y_c, self.y_in, self.y_out = r["s"], r["y_c"], r["y_in"], r["y_out"]
        return r["y_k"]

    _TRACES = ("T_in", "T_c", "T_phi", "T_P_in", "T_P_phi")
    KEEP = 64  #: snapshots kept for learn_from

    def learn_from(self, i, y):
        """The weight change for target ``y`` of step ``snapshots[i]``: that
        step's errors through its output weights, times its traces."""
        if np.all(np.isnan(y)):
            return
        lay, C, S, CS = self.lay, self.C, self.S, self.CS
        r, tr, W_k = self.snapshots[i]
        y = np.asarray(y, dtype=float)
        e_k = np.where(np.isnan(y), 0.0, fprime(r["net_k"]) * (np.nan_to_num(y) - r["y_k"]))
        back = W_k[:, :CS].T @ e_k
        e_s = np.repeat(r["y_out"], S) * hprime(r["s"], lay.h) * back
        dW = {
            "k": self.lr * np.outer(e_k, r["ob"]),
            "in": self.lr * np.einsum("jv,jvm->jm", e_s.reshape(C, S),
                                      tr["T_in"].reshape(C, S, -1)),
            "c": self.lr * e_s[:, None] * tr["T_c"],
        }
        if lay.output_gates:
            e_out = fprime(r["net_out"]) * (r["hs"] * back).reshape(C, S).sum(axis=1)
            dW["out"] = self.lr * np.outer(e_out, r["zg"])
        by_block = e_s.reshape(C, S)
        if lay.forget_gate:
            dW["phi"] = self.lr * np.einsum("jv,jvm->jm", by_block, tr["T_phi"].reshape(C, S, -1))
        if "P_in" in self.W:
            dW["P_in"] = self.lr * np.einsum("jv,jvw->jw", by_block, tr["T_P_in"].reshape(C, S, S))
        if "P_phi" in self.W:
            dW["P_phi"] = self.lr * np.einsum("jv,jvw->jw", by_block, tr["T_P_phi"].reshape(C, S, S))
        if "P_out" in self.W:
            dW["P_out"] = self.lr * e_out[:, None] * r["s"].reshape(C, S)
        target = self.dW if self.accumulate else self.W
        for k, v in dW.items():
            target[k] += v

    def weights(self):
        """Named parameters in the learner's convention."""
        lay = self.lay
        out = {}

        def split(W, wname, bname, has):
            if has:
                out[wname], out[bname] = W[:, :-1].copy(), W[:, -1].copy()
            else:
                out[wname] = W.copy()

        split(self.W["in"], "W_in", "b_in", lay.gate_bias)
        if lay.forget_gate:
            split(self.W["phi"], "W_phi", "b_phi", lay.gate_bias)
        if lay.output_gates:
            split(self.W["out"], "W_out", "b_out", lay.gate_bias)
        split(self.W["c"], "W_c", "b_c", lay.cell_bias)
        split(self.W["k"], "W_k", "b_k", lay.output_bias)
        for name in ("P_in", "P_phi", "P_out"):
            if name in self.W:
                out[name] = self.W[name].copy()
        return out


def run_reference(m, X, Y, resets, accumulate=False):
    """The reference started from learner ``m``'s weights and learning rate,
    run over a stream; returns it and its outputs (each before its update)."""
    ref = ReferenceLSTM(m.layout, m.get_weights(), m.lr, accumulate=accumulate)
    outs = []
    for t in range(len(X)):
        if resets[t]:
            ref.reset()
        outs.append(ref.step(X[t], Y[t]))
    return ref, np.array(outs)


def assert_matches_reference(m, ref, rtol, atol):
    """Learner ``m`` and reference ``ref`` agree: weights, states and every
    trace (the forget-gate and peephole traces too)."""
    for k, v in ref.weights().items():
        np.testing.assert_allclose(m.get_weights()[k], v, rtol=rtol, atol=atol, err_msg=k)
    st = m.state_
    np.testing.assert_allclose(st["s_c"], ref.s, rtol=rtol, atol=atol)
    for key in [k for k in st if k.startswith("T_")]:
        np.testing.assert_allclose(st[key], getattr(ref, key), rtol=rtol, atol=atol, err_msg=key)


# ---------------------------------------------------------------------------
# losses for finite differences
# ---------------------------------------------------------------------------


def _weights_to_W(lay, weights):
    ref = ReferenceLSTM.__new__(ReferenceLSTM)
    ref.lay = lay
    ref.C, ref.S, ref.CS = lay.n_blocks, lay.block_size, lay.n_cells
    ReferenceLSTM.__init__(ref, lay, weights, lr=0.0)
    return ref


def record_trajectory(lay, weights, X, resets=None):
    """What fed each step, weights fixed: the previous activations
    (y_c, y_in, y_out), and the states the peepholes read (s(t-1), s(t))."""
    ref = _weights_to_W(lay, weights)
    prevs = []
    for t, x in enumerate(X):
        if resets is not None and resets[t]:
            ref.reset(apply=False)
        prev = (ref.y_c.copy(), ref.y_in.copy(), ref.y_out.copy())
        s_prev = ref.s.copy()
        ref.step(x, learn=False)
        prevs.append((prev, (s_prev, ref.s.copy())))
    return prevs


def loss(lay, weights, X, Y, resets=None, replay=None):
    """E = 1/2 sum_t sum_k (t_k - y_k)^2 over targets (NaN = none).

    With ``replay`` (from :func:`record_trajectory`), the previous activations
    that feed the net inputs are those recorded constants (spec §3.9), so the
    exact derivative of this function is the truncated gradient.  Without it,
    this is the ordinary loss of the network.
    """
    ref = _weights_to_W(lay, weights)
    total = 0.0
    s = np.zeros(lay.n_cells)
    for t, x in enumerate(X):
        if resets is not None and resets[t]:
            ref.reset(apply=False)
            s = np.zeros(lay.n_cells)
        prev, peep = replay[t] if replay is not None else (None, None)
        r = ref.forward(np.asarray(x, float), prev=prev, s_prev=s, peep=peep)
        s = r["s"]
        ref.s, ref.y_c, ref.y_in, ref.y_out = r["s"], r["y_c"], r["y_in"], r["y_out"]
        y = np.asarray(Y[t], float)
        mask = ~np.isnan(y)
        total += 0.5 * np.sum((y[mask] - r["y_k"][mask]) ** 2)
    return total


def numeric_gradient(lay, weights, X, Y, resets=None, replay=None, eps=1e-6, names=None):
    """Central differences of :func:`loss` for every parameter entry."""
    grads = {}
    for name in names or list(weights):
        base = weights[name]
        gr = np.zeros_like(base)
        it = np.nditer(base, flags=["multi_index"])
        for _ in it:
            idx = it.multi_index
            wp = {k: v.copy() for k, v in weights.items()}
            wm = {k: v.copy() for k, v in weights.items()}
            wp[name][idx] += eps
            wm[name][idx] -= eps
            gr[idx] = (loss(lay, wp, X, Y, resets, replay) - loss(lay, wm, X, Y, resets, replay)) / (2 * eps)
        grads[name] = gr
    return grads
