"""Audit of "act now, learn later" and the gradient API.

``learn_one`` / ``learn_last`` / ``learn_delayed`` / ``open_targets`` /
``pending_`` / ``gradient`` / ``update="sequence"``, on the single learner
and on the bank, checked against a small NumPy model written here from the
spec (§2.3-§2.5, §3.3-§3.7, §3.9) and the docstrings, independently of the
kernels and of ``tests/reference.py``: the 1997 net (input and output gates,
g in [-2, 2], h in [-1, 1]) with F or B connectivity, as plain vector code.
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from online_lstm import LearnerBank, OnlineLSTM
from online_lstm.errors import DivergenceError, InputError, NoPendingStepError


# ---------------------------------------------------------------------------
# an independent model: spec §2.3/§2.4 forward, §3.3-§3.6 learning rule
# ---------------------------------------------------------------------------
def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


class Model:
    """The 1997 LSTM (output gates on, g2/h1), F or B connectivity, any bias
    code, weights taken by name from ``OnlineLSTM.get_weights()``.  Each
    step returns a snapshot holding everything the truncated weight change
    of its error needs (spec §3.8); :meth:`learn` turns a snapshot and a
    target (NaN: no target for that unit) into that change."""

    def __init__(self, m, accumulate=False):
        lay = m.layout
        assert lay.output_gates and lay.g == "g2" and lay.h == "h1"
        assert not lay.forget_gate and not lay.peepholes
        self.F = lay.connectivity == "F"
        self.C, self.S, self.K = lay.n_blocks, lay.block_size, lay.n_out
        self.blk = np.repeat(np.arange(self.C), self.S)  # block of each cell
        w = m.get_weights()
        # augmented matrices: the last column is the bias (0 and frozen if absent)
        self.has = {n: n in w for n in ("b_in", "b_out", "b_c", "b_k")}
        self.W = {}
        for name, b in (("W_in", "b_in"), ("W_out", "b_out"), ("W_c", "b_c"), ("W_k", "b_k")):
            bias = w[b] if b in w else np.zeros(w[name].shape[0])
            self.W[name] = np.column_stack([w[name], bias])
        self.lr = m.lr
        self.accumulate = accumulate
        self.acc = {k: np.zeros_like(v) for k, v in self.W.items()}
        self.reset(apply=False)

    def reset(self, apply=True):
        CS, C = self.C * self.S, self.C
        if apply and self.accumulate:
            for k in self.W:
                self.W[k] += self.acc[k]
                self.acc[k][:] = 0.0
        self.s = np.zeros(CS)
        self.yc = np.zeros(CS)
        self.yin = np.zeros(C)
        self.yout = np.zeros(C)
        I = self.W["W_in"].shape[1]
        self.Tin = np.zeros((CS, I))
        self.Tc = np.zeros((CS, I))

    def step(self, x):
        x = np.asarray(x, dtype=float)
        z = np.concatenate([x, self.yc, self.yin, self.yout]) if self.F else x
        za = np.append(z, 1.0)
        net_in, net_out, net_c = self.W["W_in"] @ za, self.W["W_out"] @ za, self.W["W_c"] @ za
        yin, yout = _sig(net_in), _sig(net_out)
        gc = 4.0 * _sig(net_c) - 2.0
        dgc = 4.0 * _sig(net_c) * (1.0 - _sig(net_c))
        self.s = self.s + yin[self.blk] * gc
        dyin = yin * (1.0 - yin)
        self.Tin = self.Tin + (gc * dyin[self.blk])[:, None] * za
        self.Tc = self.Tc + (dgc * yin[self.blk])[:, None] * za
        hs = 2.0 * _sig(self.s) - 1.0
        self.yc = yout[self.blk] * hs
        self.yin, self.yout = yin, yout
        o = np.concatenate([self.yc, x]) if not self.F else self.yc
        oa = np.append(o, 1.0)
        yk = _sig(self.W["W_k"] @ oa)
        return yk, dict(za=za, oa=oa, s=self.s.copy(), yout=yout, net_out=net_out, yk=yk,
                        Tin=self.Tin.copy(), Tc=self.Tc.copy(), Wk=self.W["W_k"].copy())

    def change(self, snap, y):
        """-dE/dw of one step's error (E = 1/2 sum_k (t_k - y_k)^2), truncated."""
        y = np.asarray(y, dtype=float)
        yk = snap["yk"]
        ek = np.where(np.isnan(y), 0.0, yk * (1.0 - yk) * (np.nan_to_num(y) - yk))
        CS = self.C * self.S
        back = snap["Wk"][:, :CS].T @ ek  # the step's own output weights
        hs = 2.0 * _sig(snap["s"]) - 1.0
        dhs = 2.0 * _sig(snap["s"]) * (1.0 - _sig(snap["s"]))
        yo = _sig(snap["net_out"])
        e_out = yo * (1.0 - yo) * np.bincount(self.blk, hs * back, minlength=self.C)
        e_s = snap["yout"][self.blk] * dhs * back
        d = {"W_k": np.outer(ek, snap["oa"]), "W_out": np.outer(e_out, snap["za"]),
             "W_c": e_s[:, None] * snap["Tc"]}
        d["W_in"] = np.zeros_like(self.W["W_in"])
        np.add.at(d["W_in"], self.blk, e_s[:, None] * snap["Tin"])
        for name, b in (("W_in", "b_in"), ("W_out", "b_out"), ("W_c", "b_c"), ("W_k", "b_k")):
            if not self.has[b]:
                d[name][:, -1] = 0.0
        return d

    def learn(self, snap, y):
        d = self.change(snap, y)
        for k in self.W:
            if self.accumulate:
                self.acc[k] += self.lr * d[k]
            else:
                self.W[k] += self.lr * d[k]

    def weights(self):
        out = {}
        for name, b in (("W_in", "b_in"), ("W_out", "b_out"), ("W_c", "b_c"), ("W_k", "b_k")):
            out[name] = self.W[name][:, :-1].copy()
            if self.has[b]:
                out[b] = self.W[name][:, -1].copy()
        return out


def model_loss(m, weights, X, Y, resets, prefix=None):
    """The real loss 1/2 sum (t - y)^2 over the steps with targets, from a
    reset state (after running ``prefix`` without targets, if given)."""
    mod = Model(m)
    for name, b in (("W_in", "b_in"), ("W_out", "b_out"), ("W_c", "b_c"), ("W_k", "b_k")):
        mod.W[name] = np.column_stack([weights[name], weights[b] if b in weights
                                       else np.zeros(weights[name].shape[0])])
    if prefix is not None:
        for x in prefix:
            mod.step(x)
    E = 0.0
    for t in range(len(X)):
        if resets is not None and resets[t]:
            mod.reset(apply=False)
        yk, _ = mod.step(X[t])
        E += 0.5 * np.nansum((Y[t] - yk) ** 2)
    return E


def _state(m):
    return {k: v.copy() for k, v in m.state_arrays().items()}


def _same(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def _counters(m):
    return (m.n_steps_, m.n_updates_, m.seq_step_, m.n_resets_, bool(m.pending_))


def _close_weights(m, mod, rtol=1e-10, atol=1e-13):
    got, want = m.get_weights(), mod.weights()
    assert got.keys() == want.keys()
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=rtol, atol=atol, err_msg=k)


ARCHS = {
    "F-gates": dict(n_blocks=2, block_size=2, bias="gates"),
    "F-all": dict(n_blocks=2, block_size=1, bias="all"),
    "B-all": dict(n_blocks=2, block_size=2, bias="all", connectivity="B"),
}


# ---------------------------------------------------------------------------
# late targets: the change learn_one would have made at the step, applied now
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("update", ["step", "sequence"])
@pytest.mark.parametrize("arch", list(ARCHS))
def test_late_targets_give_the_change_of_their_step(arch, update):
    """Each step gets part of its target (or none) with the step, the rest
    0..D steps later (learn_delayed, or learn_last at age 0), in random
    order, across resets.  Outputs and weights follow the model, which
    computes each late change from that step's own snapshot; the counters
    count one update per call that gave a target."""
    rng = np.random.default_rng(21)
    D, T, K = 4, 70, 3
    m = OnlineLSTM(3, K, **ARCHS[arch], lr=0.7, init_range=0.5, seed=2, max_delay=D, update=update)
    mod = Model(m, accumulate=update == "sequence")
    X = rng.normal(size=(T, 3))
    Y = rng.uniform(0.05, 0.95, size=(T, K))
    now_mask = rng.random((T, K)) < 0.3  # units whose target comes with the step
    late = {}  # time -> list of (step, target part)
    for t in range(T):
        rest = ~now_mask[t] & (rng.random(K) < 0.8)  # the others: late, or never
        for part in (rest & (rng.random(K) < 0.5), rest):
            part = part & rest
            rest = rest & ~part
            if part.any():
                late.setdefault(t + int(rng.integers(0, D + 1)), []).append(
                    (t, np.where(part, Y[t], np.nan)))
    snaps, n_upd, resets = {}, 0, {17, 18, 40, 63}
    for t in range(T):
        if t in resets:
            m.reset()
            mod.reset()
        y_now = np.where(now_mask[t], Y[t], np.nan)
        out = m.learn_one(X[t], y_now)
        ref, snaps[t] = mod.step(X[t])
        np.testing.assert_allclose(out, ref, rtol=1e-11, atol=1e-14)
        if now_mask[t].any():
            mod.learn(snaps[t], y_now)
            n_upd += 1
        assert m.pending_ == (not now_mask[t].any())
        jobs = late.get(t, [])
        rng.shuffle(jobs)
        for s, y in jobs:
            age = t - s
            assert m.open_targets(age).tolist() == list(~np.isnan(y) | m.open_targets(age))
            assert m.open_targets(age)[~np.isnan(y)].all()
            if age == 0 and m.pending_:
                m.learn_last(y)
            else:
                m.learn_delayed(y, age)
            mod.learn(snaps[s], y)
            n_upd += 1
            assert not m.open_targets(age)[~np.isnan(y)].any()
        assert (m.n_steps_, m.n_updates_) == (t + 1, n_upd)
    _close_weights(m, mod)
    if update == "sequence":
        m.reset()
        mod.reset()
        _close_weights(m, mod)


# ---------------------------------------------------------------------------
# gradient(): exact where the truncation cuts nothing, and leaves no trace
# ---------------------------------------------------------------------------
def _fd(m, X, Y, resets, prefix=None, eps=1e-6):
    w0 = m.get_weights()
    g = {}
    for name, w in w0.items():
        g[name] = np.zeros_like(w)
        for idx in np.ndindex(w.shape):
            wp = {k: v.copy() for k, v in w0.items()}
            wm = {k: v.copy() for k, v in w0.items()}
            wp[name][idx] += eps
            wm[name][idx] -= eps
            g[name][idx] = (model_loss(m, wp, X, Y, resets, prefix)
                            - model_loss(m, wm, X, Y, resets, prefix)) / (2 * eps)
    return g


def _busy_learner(update, rng):
    """A B-connectivity learner (cells and gates read only the inputs, so the
    truncation cuts nothing, spec §3.9) that has been used: accumulated
    update, a step pending, snapshots waiting for late targets."""
    m = OnlineLSTM(3, 2, 2, 2, connectivity="B", bias="all", init_range=0.6, lr=0.3,
                   seed=5, max_delay=2, update=update)
    m.learn_many(rng.normal(size=(6, 3)), rng.uniform(size=(6, 2)))
    m.predict_one(rng.normal(size=3))
    return m


@pytest.mark.parametrize("update", ["step", "sequence"])
def test_gradient_is_the_real_gradient_and_changes_nothing(update):
    rng = np.random.default_rng(31)
    m = _busy_learner(update, rng)
    T = 14
    X, Y = rng.normal(size=(T, 3)), rng.uniform(0.1, 0.9, size=(T, 2))
    Y[rng.random((T, 2)) < 0.3] = np.nan  # partial targets
    Y[3] = np.nan  # a step with none
    resets = np.zeros(T, dtype=bool)
    resets[[0, 6]] = True
    before, counters = _state(m), _counters(m)
    g = m.gradient(X, Y, resets)
    assert _same(before, _state(m)) and _counters(m) == counters
    num = _fd(m, X, Y, resets)
    for k in num:
        np.testing.assert_allclose(g[k], num[k], rtol=1e-6, atol=1e-9, err_msg=k)
        assert np.abs(num[k]).max() > 1e-4, k
    # from the current state: the traces carry the steps before, run with the
    # same weights, so this is the gradient of the loss of prefix + sequence
    prefix = rng.normal(size=(5, 3))
    m.reset()  # (with update="sequence" this applies the accumulated change)
    m.predict_many(prefix)
    before, counters = _state(m), _counters(m)
    g = m.gradient(X, Y, from_current_state=True)
    num = _fd(m, X, Y, None, prefix=prefix)
    for k in num:
        np.testing.assert_allclose(g[k], num[k], rtol=1e-6, atol=1e-9, err_msg=k)
    assert _same(before, _state(m)) and _counters(m) == counters
    assert m.pending_ and m.open_targets(2).all()


# ---------------------------------------------------------------------------
# update="sequence": applied at every boundary, kept by checkpoints
# ---------------------------------------------------------------------------
def test_sequence_updates_apply_at_each_boundary_and_survive_checkpoints(tmp_path):
    rng = np.random.default_rng(41)
    m = OnlineLSTM(3, 2, 2, 2, bias="all", lr=0.6, init_range=0.5, seed=3, update="sequence",
                   max_delay=1)
    mod = Model(m, accumulate=True)
    T = 24
    X, Y = rng.normal(size=(T, 3)), rng.uniform(0.1, 0.9, size=(T, 2))
    Y[rng.random((T, 2)) < 0.25] = np.nan
    resets = np.zeros(T, dtype=bool)
    resets[[0, 7, 8, 15]] = True
    w_start = m.theta_
    out = m.learn_many(X, Y, resets)
    for t in range(T):
        if resets[t]:
            mod.reset()
        o, snap = mod.step(X[t])
        np.testing.assert_allclose(out[t], o, rtol=1e-11, atol=1e-14)
        mod.learn(snap, Y[t])
    _close_weights(m, mod)  # the changes of rows 0..14 applied, those of 15.. not yet
    assert not np.array_equal(m.theta_, w_start)
    assert (m.n_steps_, m.seq_step_, m.n_resets_) == (T, T - 15, 4)
    assert m.n_updates_ == int((~np.isnan(Y)).any(axis=1).sum())
    # mid-sequence, the accumulated change is part of the state: a checkpoint,
    # a pickle and a deep copy apply it at their next reset as the original does
    path = m.save(tmp_path / "m.npz")
    others = [OnlineLSTM.load(path), pickle.loads(pickle.dumps(m)), copy.deepcopy(m)]
    restored = m.clone(seed=99)
    restored.restore(path)
    others.append(restored)
    assert np.abs(m.state_arrays()["dW"]).max() > 0
    for a in [m, *others]:
        a.reset()
    mod.reset()
    _close_weights(m, mod)
    for a in others:
        assert _same(_state(m), _state(a))
    # a fresh clone has nothing accumulated
    assert not m.clone().state_arrays()["dW"].any()


# ---------------------------------------------------------------------------
# counters and the pending flag, call by call
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("D", [0, 2])
def test_counters_and_pending_call_by_call(D):
    m = OnlineLSTM(2, 2, 2, 1, lr=0.5, seed=4, max_delay=D)
    x, y = np.array([0.3, -0.2]), np.array([0.7, 0.2])
    expect = [0, 0, 0, 0, False]  # n_steps, n_updates, seq_step, n_resets, pending

    def check():
        assert list(_counters(m)) == expect

    check()
    m.predict_one(x)
    expect[0] += 1
    expect[2] += 1
    expect[4] = True
    check()
    m.learn_last([np.nan, np.nan])  # no target: nothing, still pending
    check()
    m.learn_last([0.5, np.nan])  # a part: one update, the step is learned from
    expect[1] += 1
    expect[4] = False
    check()
    with pytest.raises(NoPendingStepError):
        m.learn_last([np.nan, 0.5])  # a second learn_last for the same step
    check()
    if D:
        m.learn_delayed([np.nan, 0.5], 0)  # the rest of it, through the snapshot
        expect[1] += 1
        check()
    m.learn_one(x, None)
    expect[0] += 1
    expect[2] += 1
    expect[4] = True
    check()
    m.reset()
    expect[2] = 0
    expect[3] += 1
    expect[4] = False
    check()
    with pytest.raises(NoPendingStepError):
        m.learn_last(y)  # the reset ended the step
    check()
    if D:
        m.learn_delayed(y, 0)  # ... but its snapshot is still there
        expect[1] += 1
        check()
    m.learn_many(np.tile(x, (3, 1)), np.array([y, y, [np.nan, np.nan]]), resets=[False, True, False])
    expect[0] += 3
    expect[1] += 2
    expect[2] = 2
    expect[3] += 1
    expect[4] = True
    check()
    m.learn_last(y)
    expect[1] += 1
    expect[4] = False
    check()
    m.gradient(np.tile(x, (4, 1)), np.tile(y, (4, 1)))
    m.gradient(np.tile(x, (4, 1)), np.tile(y, (4, 1)), [True, False, True, False],
               from_current_state=True)
    check()


@pytest.mark.parametrize("arch", list(ARCHS))
def test_gradient_is_the_sum_of_the_truncated_step_changes(arch):
    """With the truncation active (F connectivity), gradient() is minus the
    sum over the steps of the model's truncated changes (spec §3.6, §3.9),
    weights fixed, across resets; and an update="sequence" learner given the
    same targets late, through its snapshots, accumulates -lr times it."""
    rng = np.random.default_rng(51)
    T, D = 12, 3
    m = OnlineLSTM(3, 2, **ARCHS[arch], lr=0.4, init_range=0.6, seed=6, max_delay=D,
                   update="sequence")
    X, Y = rng.normal(size=(T, 3)), rng.uniform(0.1, 0.9, size=(T, 2))
    Y[rng.random((T, 2)) < 0.3] = np.nan
    resets = np.zeros(T, dtype=bool)
    resets[5] = True
    mod = Model(m)
    want = {k: np.zeros_like(v) for k, v in mod.W.items()}
    for t in range(T):
        if resets[t]:
            mod.reset(apply=False)
        _, snap = mod.step(X[t])
        for k, v in mod.change(snap, Y[t]).items():
            want[k] -= v
    mod.W = want
    g = m.gradient(X, Y, resets)
    for k, v in mod.weights().items():
        np.testing.assert_allclose(g[k], v, rtol=1e-10, atol=1e-13, err_msg=k)
    # the same sum, from targets delivered D steps late (one sequence, no reset)
    g1 = m.gradient(X[:5], Y[:5])
    w0 = m.get_weights()
    m.reset()
    for t in range(5):
        m.predict_one(X[t])
        if t >= D:
            m.learn_delayed(Y[t - D], D)
    for t in range(5 - D, 5):
        m.learn_delayed(Y[t], 4 - t)
    m.reset()
    w1 = m.get_weights()
    for k in g1:
        np.testing.assert_allclose(w1[k] - w0[k], -0.4 * g1[k], rtol=1e-9, atol=1e-13, err_msg=k)


# ---------------------------------------------------------------------------
# refused calls change nothing and say why
# ---------------------------------------------------------------------------
def test_refused_calls_leave_the_learner_bit_identical():
    rng = np.random.default_rng(61)
    m = OnlineLSTM(2, 2, 2, 1, lr=0.5, seed=7, max_delay=2, update="sequence")
    m.learn_many(rng.normal(size=(4, 2)), rng.uniform(size=(4, 2)))
    m.learn_one(rng.normal(size=2), [0.4, np.nan])
    m.predict_one(rng.normal(size=2))  # pending; age 1 has output 1 open
    X, Y = rng.normal(size=(5, 2)), rng.uniform(size=(5, 2))
    bad = [
        (m.learn_last, ([0.5, 0.5, 0.5],), InputError, r"shape \(2,\)"),
        (m.learn_last, ([np.inf, 0.5],), InputError, "inf"),
        (m.learn_last, (0.5,), InputError, "scalar target needs n_out == 1"),
        (m.learn_last, (["a", "b"],), InputError, "real numbers"),
        (m.learn_delayed, ([0.5, np.nan], 1), NoPendingStepError, "already had one"),
        (m.learn_delayed, ([0.5, 0.5], 3), InputError, "no step of age 3"),
        (m.learn_delayed, ([0.5, 0.5], -1), InputError, "no step of age -1"),
        (m.learn_delayed, ([0.5, 0.5], 1.0), InputError, "age must be an integer"),
        (m.learn_delayed, ([0.5, 0.5], np.True_), InputError, "age must be an integer"),
        (m.learn_delayed, ([0.5, -np.inf], 0), InputError, "inf"),
        (m.learn_delayed, ([0.5], 0), InputError, r"shape \(2,\)"),
        (m.open_targets, (3,), InputError, "no step of age 3"),
        (m.open_targets, ("0",), InputError, "age must be an integer"),
        (m.gradient, (X, None), InputError, "Y must be an array"),
        (m.gradient, (X, Y[:4]), InputError, r"shape \(5, 2\)"),
        (m.gradient, (X, np.where(Y > 0.5, np.inf, Y)), InputError, "inf"),
        (m.gradient, (np.where(X > 0, np.nan, X), Y), InputError, "finite"),
        (m.gradient, (X, Y, [True, False]), InputError, "resets"),
        (m.learn_one, ([0.1, 0.2], [0.1, 0.2, 0.3]), InputError, r"shape \(2,\)"),
        (m.learn_one, ([np.nan, 0.2], [0.1, 0.2]), InputError, "finite"),
        (m.learn_many, (X, Y, np.ones(4, dtype=bool)), InputError, "resets"),
        (m.learn_many, (X, np.where(Y > 0.8, np.inf, Y)), InputError, "inf"),
    ]
    for fn, args, exc, msg in bad:
        before, counters = _state(m), _counters(m)
        with pytest.raises(exc, match=msg):
            fn(*args)
        assert _same(before, _state(m)), (fn.__name__, args)
        assert _counters(m) == counters
    with pytest.raises(InputError, match="from_current_state"):
        m.gradient(X, Y, from_current_state="no")
    # a diverging late change is refused whole: the output stays open
    before = _state(m)
    m.lr = 1e152
    with pytest.raises(DivergenceError):
        m.learn_last([0.9, 0.1])
    with pytest.raises(DivergenceError):
        m.learn_delayed([np.nan, 0.9], 1)
    m.lr = 0.5
    assert _same(before, _state(m))
    assert m.pending_ and m.open_targets(0).all() and m.open_targets(1).tolist() == [False, True]
    # ... and the same calls, now valid, go through
    m.learn_last([0.9, 0.1])
    m.learn_delayed([np.nan, 0.9], 1)
    assert not m.pending_ and not m.open_targets(1).any()


@pytest.mark.parametrize("D", [0, 2])
def test_bank_refused_calls_leave_every_learner_unchanged(D):
    rng = np.random.default_rng(62)
    N = 3
    bank = LearnerBank(N, 2, 2, 2, 1, lr=0.5, seed=8, max_delay=D)
    bank.learn_one(rng.normal(size=(N, 2)), rng.uniform(size=(N, 2)))
    bank.predict_one(rng.normal(size=(N, 2)))
    Y = rng.uniform(size=(N, 2))
    bad = [((np.full((N, 2), np.inf),), InputError, "inf"),
           ((Y[:2],), InputError, "learner axis first"),
           ((np.ones((N, 3)),), InputError, "learner axis first")]
    for args, exc, msg in bad:
        before = bank.state_arrays()
        with pytest.raises(exc, match=msg):
            bank.learn_last(*args)
        assert _same(before, bank.state_arrays())
    bank.learn_last(np.where([[True], [False], [False]], Y, np.nan))  # learner 0 only
    assert bank.pending_.tolist() == [False, True, True]
    before = bank.state_arrays()
    with pytest.raises(NoPendingStepError, match=r"learners \[0\]"):
        bank.learn_last(Y)  # learner 0 has been learned from: nobody learns
    assert _same(before, bank.state_arrays())
    bank.learn_last(np.where([[False], [True], [True]], Y, np.nan))
    assert not bank.pending_.any()
    single = [bank.learner(i) for i in range(N)]
    assert all(m.n_updates_ == 2 for m in single)
    if D:
        before = bank.state_arrays()
        with pytest.raises(NoPendingStepError, match="already had one"):
            bank.learn_delayed(np.where([[False], [False], [True]], Y, np.nan), np.array([0, 5, 0]))
        with pytest.raises(InputError, match="learner 1 has no step of age 5"):
            bank.learn_delayed(np.where([[False], [True], [False]], Y, np.nan), np.array([0, 5, 0]))
        assert _same(before, bank.state_arrays())
