"""Spec review: the learner against a second, independent reading of spec/lstm1997.md.

tests/reference.py is the suite's oracle, and its replayed loss (spec §3.9)
is built on its own forward pass: a misreading shared by the kernels and the
reference would pass every test that compares the two.  This file checks the
learner against ``SpecNet``, written from the spec's text only (scalar loops,
``math.exp``, derivatives taken from the net inputs, not from the values), and
against finite differences of *its* loss, never the reference's:

* forward pass and weight changes, both update modes, every architecture of
  conftest plus a few option mixes the suite does not list (§2.3-§2.6, §3.3-
  §3.8, §7.1, §7.2);
* the truncated gradient equals finite differences of SpecNet's loss on a
  replayed trajectory (§3.9), and of the real loss wherever the truncation
  cuts nothing (B connectivity, §2.6; a one-step sequence, §2.5), and differs
  from the real gradient where it does cut (F connectivity, §3.2);
* the comparison has teeth: SpecNet with one plausible misreading of the spec
  at a time (Table 10's swapped caption, no factor-2 drop, eq. 14 read as a
  factor 2, gates reading f(0) = 0.5 at t = 1, outputs reading y_c(t-1))
  disagrees with the learner;
* delayed targets under ``update="sequence"``: the weights are fixed within a
  sequence (§3.7), so a target given late adds exactly the change it would
  have added on time.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from online_lstm import OnlineLSTM

from conftest import ALL_ARCHS, random_stream

# SpecNet vs kernel: same maths, other formulas and summation order
TOL = 1e-12
# central differences with eps = 1e-6 on losses of order 1
FD_RTOL, FD_ATOL = 1e-6, 1e-8

#: option mixes not in conftest: F without output gates but with gate biases,
#: B with output gates and cell biases, B with a forget gate and gate biases,
#: the logistic g with h1 and peepholes, h = identity with a forget gate
EXTRA_ARCHS = {
    "F-noog-gates-S2": dict(n_in=2, n_out=2, n_blocks=2, block_size=2, bias="gates",
                            output_gates=False),
    "B-og-hidden-S3": dict(n_in=3, n_out=1, n_blocks=1, block_size=3, bias="hidden",
                           connectivity="B"),
    "B-og-gates-fg": dict(n_in=2, n_out=2, n_blocks=2, block_size=1, bias="gates",
                          connectivity="B", forget_gate=True),
    "F-og-all-g1-h1-ph": dict(n_in=2, n_out=3, n_blocks=1, block_size=2, bias="all", g="g1",
                              peepholes=True),
    "F-og-all-id-fg": dict(n_in=2, n_out=1, n_blocks=3, block_size=1, bias="all", h="id",
                           forget_gate=True),
}
ARCHS = {**ALL_ARCHS, **EXTRA_ARCHS}


# ---------------------------------------------------------------------------
# spec §2.2, from the net input: f logistic; g = 4/(1+e^-x) - 2 (eq. 5) or the
# logistic (2a/2b); h = 2/(1+e^-x) - 1 (eq. 4) or the identity
# ---------------------------------------------------------------------------
def sig(x):
    return 1.0 / (1.0 + math.exp(-x))


def dsig(x):
    s = sig(x)
    return s * (1.0 - s)


class SpecNet:
    """One reading of spec §2-§3 and §7.1/§7.2, unit by unit.

    ``bug`` names one deliberate misreading (see test_each_misreading_is_caught)
    or is None.  Weights are the learner's named parameters (paper orientation,
    unit x source); the source order is ``layout.source_names``.
    """

    def __init__(self, lay, w, lr, accumulate=False, bug=None):
        self.lay, self.lr, self.acc, self.bug = lay, lr, accumulate, bug
        self.w = {k: np.array(v, dtype=float) for k, v in w.items()}
        self.dw = {k: np.zeros_like(v) for k, v in self.w.items()}
        self.C, self.S, self.K = lay.n_blocks, lay.block_size, lay.n_out
        self.F = lay.connectivity == "F"
        b = lay.bias  # §2.6 bias codes: ga -> gates, b1 -> gates and cells, all -> + outputs
        self.b_gate, self.b_cell, self.b_out = b != "none", b in ("hidden", "all"), b == "all"
        self.reset(apply=False)

    # squashing (with the Table 10 caption's swapped ranges as a misreading)
    def g(self, x):
        if self.lay.g == "g1":
            return sig(x), dsig(x)
        if self.bug == "caption":
            return 2.0 * sig(x) - 1.0, 2.0 * dsig(x)
        return 4.0 * sig(x) - 2.0, 4.0 * dsig(x)

    def h(self, x):
        if self.lay.h == "id":
            return x, 1.0
        if self.bug == "caption":
            return 4.0 * sig(x) - 2.0, 4.0 * dsig(x)
        return 2.0 * sig(x) - 1.0, 2.0 * dsig(x)

    def reset(self, apply=True):
        """§2.5 (and §3.7: accumulated changes are applied at the sequence end)."""
        if apply and self.acc:
            for k in self.w:
                self.w[k] += self.dw[k]
                self.dw[k][...] = 0.0
        C, CS = self.C, self.C * self.S
        g0 = 0.5 if self.bug == "gates_half" else 0.0
        self.s, self.yc = [0.0] * CS, [0.0] * CS
        self.yin, self.yout = [g0] * C, [g0] * C
        self.yc_prev_out = [0.0] * CS
        n = len(self.sources([0.0] * self.lay.n_in)) + 1  # + the bias unit
        self.T = {k: np.zeros((CS, n)) for k in ("in", "c", "phi")}
        self.TP = {k: np.zeros((CS, self.S)) for k in ("in", "phi")}

    def sources(self, x, prev=None):
        """§2.4/§2.6: F reads x(t) and y_c, y_in, y_out of t-1; B reads x(t) only."""
        if not self.F:
            return list(x)
        yc, yin, yout = prev if prev is not None else (self.yc, self.yin, self.yout)
        return list(x) + list(yc) + list(yin) + (list(yout) if self.lay.output_gates else [])

    def _net(self, W, b, row, z, has_bias, w):
        a = 0.0
        for m, zm in enumerate(z):
            a += w[W][row, m] * zm
        return a + (w[b][row] if has_bias else 0.0)

    def forward(self, x, w=None, prev=None, s_prev=None, peep=None):
        """Stage 2 of §2.4 in the order of §7.2, then stage 3."""
        w = self.w if w is None else w
        C, S, lay = self.C, self.S, self.lay
        s_prev = self.s if s_prev is None else s_prev
        s_gate = s_prev if peep is None else peep[0]
        z = self.sources(x, prev)
        r = {k: [] for k in ("net_in", "net_phi", "net_out", "net_c", "s", "yc", "yin", "yout", "yphi")}
        for j in range(C):
            a = self._net("W_in", "b_in", j, z, self.b_gate, w)
            if lay.peepholes:  # §7.2: s(t-1) of the own block
                a += sum(w["P_in"][j, v] * s_gate[j * S + v] for v in range(S))
            r["net_in"].append(a)
            r["yin"].append(sig(a))
            yf = 1.0
            if lay.forget_gate:  # §7.1
                a = self._net("W_phi", "b_phi", j, z, self.b_gate, w)
                if lay.peepholes:
                    a += sum(w["P_phi"][j, v] * s_gate[j * S + v] for v in range(S))
                yf = sig(a)
            r["net_phi"].append(a)
            r["yphi"].append(yf)
            for v in range(S):
                q = j * S + v
                a = self._net("W_c", "b_c", q, z, self.b_cell, w)
                r["net_c"].append(a)
                r["s"].append(yf * s_prev[q] + r["yin"][j] * self.g(a)[0])  # CEC
            yo = 1.0
            if lay.output_gates:
                a = self._net("W_out", "b_out", j, z, self.b_gate, w)
                if lay.peepholes:  # §7.2: the updated state s(t)
                    s_o = r["s"] if peep is None else peep[1]
                    a += sum(w["P_out"][j, v] * s_o[j * S + v] for v in range(S))
                yo = sig(a)
            r["net_out"].append(a)
            r["yout"].append(yo)
            for v in range(S):
                r["yc"].append(yo * self.h(r["s"][j * S + v])[0])
        # stage 3: outputs read the cells of the same step (§2.4), and x(t) in B
        yc_seen = self.yc if self.bug == "output_prev" else r["yc"]
        r["o"] = list(yc_seen) + ([] if self.F else list(x))
        r["net_k"] = [self._net("W_k", "b_k", k, r["o"], self.b_out, w) for k in range(self.K)]
        r["yk"] = [sig(a) for a in r["net_k"]]
        r["z"], r["s_prev"] = z, list(s_prev)
        return r

    def step(self, x, y=None):
        C, S, lay = self.C, self.S, self.lay
        r = self.forward(x)
        zb = r["z"] + [1.0]
        two = 2.0 if self.bug == "eq14_factor2" else 1.0
        # traces, every step (§3.5; damped by y_phi, §7.1; peepholes §7.2)
        for j in range(C):
            yf = r["yphi"][j]
            for v in range(S):
                q = j * S + v
                gv, dg = self.g(r["net_c"][q])
                c_in = two * gv * dsig(r["net_in"][j])
                c_c = two * dg * r["yin"][j]
                c_phi = r["s_prev"][q] * dsig(r["net_phi"][j]) if lay.forget_gate else 0.0
                for m, zm in enumerate(zb):
                    self.T["in"][q, m] = yf * self.T["in"][q, m] + c_in * zm
                    self.T["c"][q, m] = yf * self.T["c"][q, m] + c_c * zm
                    self.T["phi"][q, m] = yf * self.T["phi"][q, m] + c_phi * zm
                for vp in range(S):
                    sp = r["s_prev"][j * S + vp]
                    self.TP["in"][q, vp] = yf * self.TP["in"][q, vp] + c_in * sp
                    self.TP["phi"][q, vp] = yf * self.TP["phi"][q, vp] + c_phi * sp
        if y is not None and not np.all(np.isnan(y)):
            self.learn(r, y)
        self.s, self.yc, self.yin, self.yout = r["s"], r["yc"], r["yin"], r["yout"]
        return r["yk"]

    def learn(self, r, y):
        """Eqs. 19-28 (and §7.1, §7.2), alpha * e * (source or trace)."""
        C, S, K, lay, w, a = self.C, self.S, self.K, self.lay, self.w, self.lr
        d = {k: np.zeros_like(v) for k, v in w.items()}
        f2 = 2.0 if self.bug == "factor2" else 1.0  # §3.1 drops the 2
        ek = [0.0 if np.isnan(y[k]) else f2 * dsig(r["net_k"][k]) * (y[k] - r["yk"][k])
              for k in range(K)]
        nz = len(r["z"])
        for k in range(K):  # eq. 22, output units
            for q, oq in enumerate(r["o"]):
                d["W_k"][k, q] += a * ek[k] * oq
            if self.b_out:
                d["b_k"][k] += a * ek[k]
        for j in range(C):
            back = [sum(w["W_k"][k, j * S + v] * ek[k] for k in range(K)) for v in range(S)]
            if lay.output_gates:  # eq. 21, then eq. 22 for the output gate
                e_out = dsig(r["net_out"][j]) * sum(self.h(r["s"][j * S + v])[0] * back[v]
                                                   for v in range(S))
                d["W_out"][j] += a * e_out * np.array(r["z"])
                if self.b_gate:
                    d["b_out"][j] += a * e_out
                if lay.peepholes:
                    d["P_out"][j] += a * e_out * np.array(r["s"][j * S:j * S + S])
            for v in range(S):
                q = j * S + v
                e_s = r["yout"][j] * self.h(r["s"][q])[1] * back[v]  # eq. 23
                d["W_in"][j] += a * e_s * self.T["in"][q, :nz]  # eq. 24
                d["W_c"][q] += a * e_s * self.T["c"][q, :nz]  # eq. 28
                if self.b_gate:
                    d["b_in"][j] += a * e_s * self.T["in"][q, nz]
                if self.b_cell:
                    d["b_c"][q] += a * e_s * self.T["c"][q, nz]
                if lay.forget_gate:
                    d["W_phi"][j] += a * e_s * self.T["phi"][q, :nz]
                    if self.b_gate:
                        d["b_phi"][j] += a * e_s * self.T["phi"][q, nz]
                if lay.peepholes:
                    d["P_in"][j] += a * e_s * self.TP["in"][q]
                    if lay.forget_gate:
                        d["P_phi"][j] += a * e_s * self.TP["phi"][q]
        target = self.dw if self.acc else self.w
        for k in d:
            target[k] += d[k]


def spec_run(lay, w, lr, X, Y, resets, accumulate, bug=None):
    """SpecNet over a stream; returns its outputs and its weights after a final reset."""
    net = SpecNet(lay, w, lr, accumulate, bug)
    outs = []
    for t in range(len(X)):
        if resets[t]:
            net.reset()
        outs.append(net.step(X[t], None if Y is None else Y[t]))
    net.reset()
    return np.array(outs), net.w


def spec_loss(lay, w, X, Y, resets, replay=None):
    """1/2 SSE over the targets (§3.1), weights fixed.  With ``replay``, the
    previous activations feeding net inputs (and the states the peepholes
    read) are recorded constants: its derivative is the truncated gradient
    (§3.9)."""
    net = SpecNet(lay, w, 0.0)
    total = 0.0
    for t, x in enumerate(X):
        if resets[t]:
            net.reset(apply=False)
        prev, peep = replay[t] if replay is not None else (None, None)
        r = net.forward(x, prev=prev, peep=peep)
        net.s, net.yc, net.yin, net.yout = r["s"], r["yc"], r["yin"], r["yout"]
        total += sum(0.5 * (Y[t][k] - r["yk"][k]) ** 2 for k in range(lay.n_out)
                     if not np.isnan(Y[t][k]))
    return total


def spec_replay(lay, w, X, resets):
    net = SpecNet(lay, w, 0.0)
    out = []
    for t, x in enumerate(X):
        if resets[t]:
            net.reset(apply=False)
        prev, s_prev = (list(net.yc), list(net.yin), list(net.yout)), list(net.s)
        r = net.forward(x)
        net.s, net.yc, net.yin, net.yout = r["s"], r["yc"], r["yin"], r["yout"]
        out.append((prev, (s_prev, list(r["s"]))))
    return out


def spec_fd(lay, w, X, Y, resets, replay=None, eps=1e-6):
    grads = {}
    for name, base in w.items():
        gr = np.zeros_like(base)
        for idx in np.ndindex(base.shape):
            wp = {k: v.copy() for k, v in w.items()}
            wm = {k: v.copy() for k, v in w.items()}
            wp[name][idx] += eps
            wm[name][idx] -= eps
            gr[idx] = (spec_loss(lay, wp, X, Y, resets, replay)
                       - spec_loss(lay, wm, X, Y, resets, replay)) / (2 * eps)
        grads[name] = gr
    return grads


def learner(name, seed, **kw):
    return OnlineLSTM(**dict(ARCHS[name], init_range=0.7, lr=0.3, seed=seed, **kw))


def data(m, seed, T, p_reset=0.1):
    rng = np.random.default_rng(seed)
    return random_stream(rng, T, m.layout.n_in, m.layout.n_out, p_reset=p_reset, p_nan=0.2)


def max_diff(a, b):
    return max(float(np.max(np.abs(a[k] - b[k]), initial=0.0)) for k in a)


# ---------------------------------------------------------------------------
# forward pass and learning rule (§2.3-§2.6, §3.3-§3.8, §7.1, §7.2)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("update", ["step", "sequence"])
@pytest.mark.parametrize("name", list(ARCHS))
def test_learner_is_the_spec_reading(name, update):
    # outputs before each step's change, and the weights after the stream:
    # per-step changes (§3.7 default) or accumulated and applied at resets
    m = learner(name, 3, update=update)
    X, Y, resets = data(m, 5, 25)
    outs, w_spec = spec_run(m.layout, m.get_weights(), m.lr, X, Y, resets, update == "sequence")
    out_m = m.learn_many(X, Y, resets)
    m.reset()
    np.testing.assert_allclose(out_m, outs, rtol=0, atol=TOL)
    w_m = m.get_weights()
    assert set(w_m) == set(w_spec)
    for k in w_m:
        np.testing.assert_allclose(w_m[k], w_spec[k], rtol=0, atol=TOL, err_msg=k)


# ---------------------------------------------------------------------------
# the truncated gradient (§3.2, §3.9) against finite differences of SpecNet
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["F-og-all-S3+fg+ph", "F-og-hidden-S2", "F-noog-all-S2+fg+ph",
                                  "F-og-all-g1-h1-ph", "B-og-all-S2+fg+ph"])
def test_gradient_is_fd_of_the_spec_loss_on_a_replayed_trajectory(name):
    # §3.9: previous activations (and peephole states, §7.2) held at their
    # recorded values, s(t-1) -> s(t) and y_c(t) -> outputs live
    m = learner(name, 4)
    X, Y, resets = data(m, 6, 10)
    w = m.get_weights()
    fd = spec_fd(m.layout, w, X, Y, resets, replay=spec_replay(m.layout, w, X, resets))
    grad = m.gradient(X, Y, resets)
    for k in w:
        np.testing.assert_allclose(grad[k], fd[k], rtol=FD_RTOL, atol=FD_ATOL, err_msg=k)
        assert np.abs(fd[k]).max() > 1e-5, k  # something to compare


@pytest.mark.parametrize("name", ["B-noog-none-g1-id", "B-og-all-S2", "B-og-hidden-S3",
                                  "B-og-gates-fg", "B-noog-none-g1-id+fg"])
def test_b_connectivity_gradient_is_fd_of_the_real_spec_loss(name):
    # §2.6: in B the hidden units read x(t) only, so the scissors of §3.2 cut
    # nothing and the truncated gradient is the real one (a forget gate, §7.1,
    # keeps this: its trace is exact; peepholes would not, §7.2)
    m = learner(name, 4)
    X, Y, resets = data(m, 6, 12)
    w = m.get_weights()
    fd = spec_fd(m.layout, w, X, Y, resets)
    grad = m.gradient(X, Y, resets)
    for k in w:
        np.testing.assert_allclose(grad[k], fd[k], rtol=FD_RTOL, atol=FD_ATOL, err_msg=k)


@pytest.mark.parametrize("name", ["F-og-all-S3", "F-og-gates-S1+fg", "F-noog-gates-S2"])
def test_f_connectivity_one_step_sequences_are_exact_and_longer_ones_truncated(name):
    # §2.5: after a reset the previous activations are 0 and do not depend on
    # any weight, so a one-step sequence loses nothing to the truncation...
    m = learner(name, 7)
    X, Y, _ = data(m, 8, 6)
    Y[np.isnan(Y)] = 0.5
    w = m.get_weights()
    every = np.ones(len(X), bool)
    fd = spec_fd(m.layout, w, X, Y, every)
    grad = m.gradient(X, Y, every)
    for k in w:
        np.testing.assert_allclose(grad[k], fd[k], rtol=FD_RTOL, atol=FD_ATOL, err_msg=k)
    # ...but over one sequence the error that would pass y(t-1) -> net(t) is
    # cut (§3.2): the recurrent weights' gradient is not the real one, while
    # the output weights' is (they sit after the scissors)
    once = np.zeros(len(X), bool)
    fd = spec_fd(m.layout, w, X, Y, once)
    grad = m.gradient(X, Y, once)
    np.testing.assert_allclose(grad["W_k"], fd["W_k"], rtol=FD_RTOL, atol=FD_ATOL)
    assert np.abs(grad["W_in"] - fd["W_in"]).max() > 1e-6
    assert np.abs(grad["W_c"] - fd["W_c"]).max() > 1e-6


# ---------------------------------------------------------------------------
# the comparison above can fail: one misreading at a time
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("bug, what", [
    ("caption", "outputs"),  # §2.2/§8.1-1: Table 10's caption swaps h and g ranges
    ("gates_half", "outputs"),  # §2.5: at t=1 gates read 0 from the gates, not f(0) = 0.5
    ("output_prev", "outputs"),  # §2.4/§8.1-9: outputs read y_c(t), not y_c(t-1)
    ("factor2", "weights"),  # §3.1/§8.1-10: e_k = f'(t - y), no factor 2
    ("eq14_factor2", "weights"),  # §3.5: eq. 14's (delta + delta) is an OR, not a 2
])
def test_each_misreading_is_caught(bug, what):
    m = learner("F-og-all-S3", 9)
    X, Y, resets = data(m, 10, 20)
    w0, lay, lr = m.get_weights(), m.layout, m.lr
    outs, w_spec = spec_run(lay, w0, lr, X, Y, resets, False)
    outs_bug, w_bug = spec_run(lay, w0, lr, X, Y, resets, False, bug=bug)
    out_m = m.learn_many(X, Y, resets)
    if what == "outputs":
        assert np.abs(out_m - outs).max() < TOL
        assert np.abs(out_m - outs_bug).max() > 1e-4
    else:  # the forward pass is right, the learning is not
        assert max_diff(m.get_weights(), w_spec) < TOL
        assert max_diff(m.get_weights(), w_bug) > 1e-4


# ---------------------------------------------------------------------------
# §3.7: with update="sequence" the weights are fixed inside a sequence
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["F-og-all-S3+fg+ph", "F-og-hidden-S2", "B-noog-none-g1-id"])
def test_sequence_updates_do_not_depend_on_when_a_target_arrives(name):
    # each step's change (eqs. 22-28) depends only on that step's record,
    # traces and W_k, none of which a within-sequence change could alter; so
    # targets given 3 steps late add up to the on-time learner's change,
    # which is also the spec's
    T, lag = 16, 3
    on_time = learner(name, 11, update="sequence")
    late = learner(name, 11, update="sequence", max_delay=lag)
    X, Y, _ = data(on_time, 12, T)
    Y[:, 0] = 0.25  # at least one target per step
    for t in range(T):
        on_time.learn_one(X[t], Y[t])
        late.predict_one(X[t])
        if t >= lag:
            late.learn_delayed(Y[t - lag], lag)
    for t in range(T - lag, T):
        late.learn_delayed(Y[t], T - 1 - t)
    _, w_spec = spec_run(on_time.layout, on_time.get_weights(), on_time.lr, X, Y,
                         np.zeros(T, bool), True)
    on_time.reset()
    late.reset()
    assert max_diff(late.get_weights(), on_time.get_weights()) < TOL
    assert max_diff(late.get_weights(), w_spec) < TOL
