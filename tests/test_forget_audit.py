"""Audit of the forget-gate and peephole options (spec §7.1, §7.2), checked
without tests/reference.py: a forward pass written from the spec's equations
in plain Python, and finite differences of the *true* loss at weights where
the truncation (spec §3.2, §7.2) cuts nothing, so the exact gradient and the
truncated one coincide.  Then the paths the options reach: per-block
forget-gate biases, weights by name, checkpoints, the bank, the River
adapter, and the continual embedded Reber stream."""

import math
import pickle

import numpy as np
import pytest

from online_lstm import CheckpointError, InputError, LearnerBank, OnlineLSTM
from online_lstm.tasks.continual_reber import (
    SYMBOLS, ContinualReber, evaluate_continual, train_continual,
)


def bits(a):
    return np.ascontiguousarray(a, dtype=np.float64).view(np.uint64)


def same_bits(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and np.array_equal(bits(a), bits(b))


def same_state(a, b):
    sa, sb = a.state_arrays(), b.state_arrays()
    return sa.keys() == sb.keys() and all(same_bits(sa[k], sb[k]) for k in sa)


def sig(a):
    return 1.0 / (1.0 + math.exp(-a))


# ---------------------------------------------------------------------------
# the forward pass of spec §2.3, §7.1, §7.2, written out in plain Python
# ---------------------------------------------------------------------------


def spec_forward(m, X):
    """Outputs, states and forget-gate activations of an F-connectivity net
    with biases on all units, forget gates, peepholes and output gates, from
    the spec's equations: gates and cells read z = [x(t), y_c(t-1),
    y_in(t-1), y_out(t-1), 1]; the input and forget gates peep at s(t-1), the
    output gate at s(t); s(t) = y_phi s(t-1) + y_in g(net_c)."""
    lay = m.layout
    assert lay.connectivity == "F" and lay.bias == "all" and lay.output_gates
    C, S, K = lay.n_blocks, lay.block_size, lay.n_out
    w = {k: v.tolist() for k, v in m.get_weights().items()}
    s, yc, yin, yout = [0.0] * (C * S), [0.0] * (C * S), [0.0] * C, [0.0] * C
    outs, states, phis = [], [], []

    def dot(row, z):
        return sum(a * b for a, b in zip(row, z))

    for x in X:
        z = list(x) + yc + yin + yout
        s_new, yc_new, yin_new, yout_new, yphi = [0.0] * (C * S), [0.0] * (C * S), [0.0] * C, [0.0] * C, [0.0] * C
        for j in range(C):
            cells = range(j * S, j * S + S)
            yi = sig(w["b_in"][j] + dot(w["W_in"][j], z) + dot(w["P_in"][j], [s[q] for q in cells]))
            yf = sig(w["b_phi"][j] + dot(w["W_phi"][j], z) + dot(w["P_phi"][j], [s[q] for q in cells]))
            for q in cells:
                g = 4.0 * sig(w["b_c"][q] + dot(w["W_c"][q], z)) - 2.0
                s_new[q] = yf * s[q] + yi * g
            yo = sig(w["b_out"][j] + dot(w["W_out"][j], z) + dot(w["P_out"][j], [s_new[q] for q in cells]))
            for q in cells:
                yc_new[q] = yo * (2.0 * sig(s_new[q]) - 1.0)
            yin_new[j], yout_new[j], yphi[j] = yi, yo, yf
        outs.append([sig(w["b_k"][k] + dot(w["W_k"][k], yc_new)) for k in range(K)])
        states.append(s_new)
        phis.append(yphi)
        s, yc, yin, yout = s_new, yc_new, yin_new, yout_new
    return np.array(outs), np.array(states), np.array(phis)


@pytest.mark.parametrize("S", [1, 2])
def test_forward_matches_the_spec_equations(S):
    m = OnlineLSTM(3, 2, 2, S, bias="all", forget_gate=True, peepholes=True,
                   forget_gate_bias=(-0.5, 1.5), init_range=0.9, seed=11)
    # peepholes large enough to matter
    m.set_weights({k: np.random.default_rng(1).uniform(-1.5, 1.5, v.shape)
                   for k, v in m.get_weights().items() if k.startswith("P_")})
    X = np.random.default_rng(2).uniform(-1, 1, (8, 3))
    out, states, phis = spec_forward(m, X)
    got = np.empty_like(out)
    for t, x in enumerate(X):
        got[t] = m.predict_one(x)
        np.testing.assert_allclose(m.state_["s_c"], states[t], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(m.state_["y_phi"], phis[t], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(got, out, rtol=1e-12, atol=1e-14)
    assert np.ptp(phis) > 0.1  # the gates did move


# ---------------------------------------------------------------------------
# finite differences of the true loss where the truncation cuts nothing
# ---------------------------------------------------------------------------


def _loss(m, w, X, Y):
    c = m.clone()
    c.set_weights(w)
    out = c.predict_many(X)
    mask = ~np.isnan(Y)
    return 0.5 * float(np.sum((out[mask] - Y[mask]) ** 2))


def _untruncated(m):
    """Zero the weights through which the truncation cuts error paths: every
    peephole (no error flows back through them, §7.2) and, with F
    connectivity, every weight from a previous-step activation (§3.2).  At
    such a point each cut term is a product with a zero weight, so the
    truncated gradient is the exact gradient of the loss, for every weight,
    the zeroed ones included."""
    w = m.get_weights()
    for k in w:
        if k.startswith("P_"):
            w[k][:] = 0.0
        elif k in ("W_in", "W_phi", "W_out", "W_c") and m.layout.connectivity == "F":
            w[k][:, m.layout.n_in:] = 0.0
    m.set_weights(w)
    return w


def _numeric(m, w, X, Y, eps=1e-6):
    num = {}
    for k, v in w.items():
        g = np.zeros_like(v)
        for idx in np.ndindex(v.shape):
            wp = {kk: vv.copy() for kk, vv in w.items()}
            wm = {kk: vv.copy() for kk, vv in w.items()}
            wp[k][idx] += eps
            wm[k][idx] -= eps
            g[idx] = (_loss(m, wp, X, Y) - _loss(m, wm, X, Y)) / (2 * eps)
        num[k] = g
    return num


FD_CASES = {
    "B-og-all-S2+fg+ph": dict(n_blocks=2, block_size=2, connectivity="B", bias="all"),
    "F-noog-hidden-S2+fg+ph": dict(n_blocks=1, block_size=2, bias="hidden", output_gates=False),
    "F-og-gates-S1+fg+ph": dict(n_blocks=1, block_size=1, bias="gates"),
    "F-og-none-g1-id+fg+ph": dict(n_blocks=2, block_size=1, bias="none", g="g1", h="id",
                                  forget_gate_bias=None),
}


@pytest.mark.parametrize("name", list(FD_CASES))
def test_gradient_is_the_exact_gradient_where_truncation_cuts_nothing(name):
    m = OnlineLSTM(3, 2, **{"forget_gate_bias": 0.7, **FD_CASES[name]}, forget_gate=True,
                   peepholes=True, init_range=0.8, lr=0.3, seed=3)
    w = _untruncated(m)
    rng = np.random.default_rng(4)
    X = rng.uniform(-1, 1, (12, 3))
    Y = rng.uniform(0, 1, (12, 2))
    Y[rng.random((12, 2)) < 0.3] = np.nan
    num = _numeric(m, w, X, Y)
    grad = m.gradient(X, Y)
    assert grad.keys() == num.keys()
    for k in num:
        scale = np.max(np.abs(num[k]))
        assert scale > 1e-4, k  # every group, peepholes and forget gates included, has a gradient
        np.testing.assert_allclose(grad[k], num[k], rtol=0, atol=1e-6 * scale, err_msg=k)
    # update="sequence": the sum of the per-step changes, applied at the reset, is -lr * gradient
    acc = m.clone(update="sequence")
    acc.set_weights(w)
    acc.learn_many(X, Y)
    assert same_bits(acc.theta_, m.theta_)  # nothing applied before the reset
    acc.reset()
    for k, v in acc.get_weights().items():
        np.testing.assert_allclose((v - w[k]) / -0.3, num[k], rtol=0,
                                   atol=1e-6 * np.max(np.abs(num[k])), err_msg=k)


# ---------------------------------------------------------------------------
# forget-gate bias: pinned open, per block
# ---------------------------------------------------------------------------


def test_infinite_forget_bias_is_refused_and_a_large_one_pins_the_gate_to_1997():
    with pytest.raises(ValueError, match="finite"):
        OnlineLSTM(3, 2, 2, forget_gate=True, forget_gate_bias=math.inf)
    # 40: f(net_phi) rounds to 1.0 exactly (e^-40 < 2^-53), so f'_phi = 0
    kw = dict(n_in=3, n_out=2, n_blocks=2, block_size=2, bias="all", output_gates=False,
              init_range=0.5, lr=0.4, update="sequence")
    old = OnlineLSTM(**kw, seed=7)
    new = OnlineLSTM(**kw, forget_gate=True, peepholes=True, forget_gate_bias=40.0, seed=8)
    new.set_weights(old.get_weights(), W_phi=np.zeros(new.layout.shapes["W_phi"]),
                    P_in=np.zeros((2, 2)), P_phi=np.zeros((2, 2)))
    rng = np.random.default_rng(7)
    X, Y = rng.uniform(-1, 1, (300, 3)), rng.uniform(0, 1, (300, 2))
    cuts = np.sort(rng.choice(np.arange(1, 300), 12, replace=False))
    for sl in np.split(np.arange(300), cuts):  # sequences; updates applied at their ends
        assert same_bits(old.learn_many(X[sl], Y[sl]), new.learn_many(X[sl], Y[sl]))
        old.reset()
        new.reset()
        assert np.any(new.get_weights()["P_in"])  # the peepholes learn: hold them at zero
        new.set_weights(P_in=np.zeros((2, 2)), P_phi=np.zeros((2, 2)))
    assert np.all(new.state_["y_phi"] == 0.0)  # reset
    new.predict_one(X[0])
    assert np.all(new.state_["y_phi"] == 1.0)
    w_old, w_new = old.get_weights(), new.get_weights()
    for k, v in w_old.items():
        assert same_bits(v, w_new[k]), k
    assert np.all(w_new["b_phi"] == 40.0) and not np.any(w_new["W_phi"])


@pytest.mark.parametrize("fgb", [(0.5, -1.0, 2.5), [0.5, -1.0, 2.5], np.array([0.5, -1.0, 2.5])])
def test_per_block_forget_bias_goes_to_its_block(fgb):
    m = OnlineLSTM(2, 1, 3, 2, forget_gate=True, forget_gate_bias=fgb, seed=0)
    assert np.array_equal(m.get_weights()["b_phi"], [0.5, -1.0, 2.5])
    m.set_weights(W_phi=np.zeros(m.layout.shapes["W_phi"]))
    m.predict_one(np.zeros(2))  # net_phi = b_phi exactly
    assert np.array_equal(m.state_["y_phi"], [sig(0.5), sig(-1.0), sig(2.5)])
    b = LearnerBank(3, 2, 1, 3, 2, forget_gate=True, forget_gate_bias=fgb, seed=0)
    assert np.array_equal(b.get_weights()["b_phi"], np.tile([0.5, -1.0, 2.5], (3, 1)))
    # the other weights stay random: only the biases are set
    assert not np.array_equal(b.get_weights()["W_phi"][0], b.get_weights()["W_phi"][1])


# ---------------------------------------------------------------------------
# weights by name, bad input, clone, repr
# ---------------------------------------------------------------------------


def test_new_weights_by_name_and_refusals_change_nothing():
    m = OnlineLSTM(3, 2, 2, 2, forget_gate=True, peepholes=True, seed=0)
    rng = np.random.default_rng(0)
    m.learn_many(rng.uniform(-1, 1, (20, 3)), rng.uniform(0, 1, (20, 2)))
    lay = m.layout
    new = {"W_phi": rng.uniform(size=lay.shapes["W_phi"]), "b_phi": [3.0, -3.0],
           "P_in": [[1.0, 2.0], [3.0, 4.0]], "P_phi": [[5.0, 6.0], [7.0, 8.0]],
           "P_out": [[-1.0, -2.0], [-3.0, -4.0]]}
    m.set_weights(new)
    w = m.get_weights()
    for k, v in new.items():
        assert np.array_equal(w[k], v), k
    # the names point where the layout says: P_in[j, v'] in block-major order
    theta = m.theta_
    off = lay.offsets["P"]
    assert np.array_equal(theta[off:off + 12], [1, 2, 3, 4, 5, 6, 7, 8, -1, -2, -3, -4])
    assert np.array_equal(theta[lay.offsets["b_phi"]:lay.offsets["b_phi"] + 2], [3.0, -3.0])
    before = m.state_arrays()
    for bad in (dict(W_phi=np.zeros(lay.shapes["W_phi"]), P_in=np.zeros((2, 3))),
                dict(b_phi=[0.0, np.inf]), dict(P_out=[[0.0, np.nan], [0.0, 0.0]]),
                dict(P_phi=np.zeros(4)), dict(b_phi=[1.0, 2.0], T_phi=np.zeros((4, 12)))):
        with pytest.raises(InputError):
            m.set_weights(**bad)
    assert all(same_bits(v, m.state_arrays()[k]) for k, v in before.items())
    plain = OnlineLSTM(3, 2, 2, 2, seed=0)
    for name in ("W_phi", "b_phi", "P_in"):
        with pytest.raises(InputError, match="unknown parameter"):
            plain.set_weights({name: m.get_weights()[name]})
    noog = OnlineLSTM(3, 2, 2, 2, output_gates=False, forget_gate=True, peepholes=True, seed=0)
    assert "P_out" not in noog.get_weights() and "W_out" not in noog.get_weights()


def test_clone_get_params_pickle_and_repr_keep_the_options():
    kw = dict(forget_gate=True, peepholes=True, forget_gate_bias=(0.25, 1.75), bias="hidden",
              update="sequence", max_delay=2)
    m = OnlineLSTM(3, 2, 2, 3, **kw, seed=5)
    p = m.get_params()
    assert {k: p[k] for k in kw} == kw
    c = m.clone()
    assert same_bits(c.theta_, m.theta_) and c.get_params() == p
    assert same_bits(OnlineLSTM(**p).theta_, m.theta_)
    assert np.array_equal(m.clone(forget_gate_bias=-2.0).get_weights()["b_phi"], [-2.0, -2.0])
    off = m.clone(forget_gate=False)
    assert "W_phi" not in off.get_weights() and off.layout.peepholes
    r = repr(m)
    assert "forget_gate=True" in r and "peepholes=True" in r and f"n_params={m.n_params}" in r
    assert "forget_gate" not in repr(OnlineLSTM(3, 2, seed=0))
    rng = np.random.default_rng(1)
    X, Y = rng.uniform(-1, 1, (40, 3)), rng.uniform(0, 1, (40, 2))
    m.learn_many(X[:20], Y[:20])
    q = pickle.loads(pickle.dumps(m))
    assert same_state(m, q)
    assert same_bits(m.learn_many(X[20:], Y[20:]), q.learn_many(X[20:], Y[20:]))
    assert same_state(m, q)


# ---------------------------------------------------------------------------
# checkpoints
# ---------------------------------------------------------------------------


def test_checkpoint_resume_is_bit_identical_with_the_options(tmp_path):
    kw = dict(n_in=3, n_out=2, n_blocks=2, block_size=2, bias="all", forget_gate=True,
              peepholes=True, forget_gate_bias=np.array([0.5, 1.5]), update="sequence",
              max_delay=2, init_range=0.5, lr=0.2)
    a = OnlineLSTM(**kw, seed=9)
    rng = np.random.default_rng(9)
    X, Y = rng.uniform(-1, 1, (80, 3)), rng.uniform(0, 1, (80, 2))
    a.learn_many(X[:30], Y[:30])
    a.predict_one(X[30])
    a.predict_one(X[31])  # two steps awaiting targets, mid-sequence, dW accumulated
    path = a.save(tmp_path / "a.npz")
    b = OnlineLSTM.load(path)
    c = OnlineLSTM(**kw, seed=123)
    c.restore(path)
    assert b.get_params() == {**a.get_params(), "forget_gate_bias": [0.5, 1.5]}
    for m in (b, c):
        assert same_state(a, m)
    for m in (a, b, c):
        m.learn_delayed(Y[30], 1)
        m.learn_last(Y[31])
        m.learn_many(X[32:], Y[32:], np.arange(48) == 20)
        m.reset()
    assert same_state(a, b) and same_state(a, c)
    assert not np.array_equal(a.get_weights()["P_phi"], OnlineLSTM(**kw, seed=9).get_weights()["P_phi"])
    # a learner without one of the options refuses the file and keeps its state
    for change in (dict(forget_gate=False), dict(peepholes=False)):
        other = OnlineLSTM(**{**kw, **change}, seed=0)
        before = other.state_arrays()
        with pytest.raises(CheckpointError, match=next(iter(change))):
            other.restore(path)
        assert all(same_bits(v, other.state_arrays()[k]) for k, v in before.items())


# ---------------------------------------------------------------------------
# the bank
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("update", ["step", "sequence"])
def test_bank_is_separate_learners_with_the_options(update):
    kw = dict(n_in=3, n_out=2, n_blocks=2, block_size=2, bias="gates", forget_gate=True,
              peepholes=True, forget_gate_bias=(0.5, 2.0), update=update, init_range=0.5)
    N, T = 3, 60
    bank = LearnerBank(N, **kw, lr=[0.1, 0.2, 0.3], seed=[4, 5, 6])
    sep = [OnlineLSTM(**kw, lr=lr, seed=s) for lr, s in ((0.1, 4), (0.2, 5), (0.3, 6))]
    rng = np.random.default_rng(5)
    X, Y = rng.uniform(-1, 1, (N, T, 3)), rng.uniform(0, 1, (N, T, 2))
    Y[rng.random((N, T, 2)) < 0.3] = np.nan
    R = rng.random((N, T)) < 0.1
    out = bank.learn_many(X, Y, R)
    for i, m in enumerate(sep):
        assert same_bits(out[i], m.learn_many(X[i], Y[i], R[i]))
    x1, y1 = X[:, 0], Y[:, 0]
    o_bank = bank.predict_one(x1)
    bank.learn_last(y1)
    o_one = bank.learn_one(X[:, 1], Y[:, 1])
    bank.reset(np.array([True, False, True]))
    for i, m in enumerate(sep):
        assert same_bits(o_bank[i], m.predict_one(x1[i]))
        m.learn_last(y1[i])
        assert same_bits(o_one[i], m.learn_one(X[i, 1], Y[i, 1]))
        if i != 1:
            m.reset()
        assert same_state(m, bank.learner(i)), i
        for k, v in m.state_.items():
            assert same_bits(v, bank.state_[k][i]), k
    assert np.any(bank.state_["T_P_phi"]) and np.any(bank.state_["T_phi"])


# ---------------------------------------------------------------------------
# the River adapter
# ---------------------------------------------------------------------------


def test_river_adapter_with_the_options_widens_without_losing_them():
    pytest.importorskip("river")
    from online_lstm.river import LSTMRegressor

    reg = LSTMRegressor(n_blocks=2, block_size=2, forget_gate=True, peepholes=True,
                        forget_gate_bias=(0.5, 1.5), seed=3)
    twin = reg.clone()
    rng = np.random.default_rng(3)
    for t in range(30):
        x = {"a": float(rng.uniform()), "b": float(rng.uniform())}
        if t >= 10:
            x["c"] = float(rng.uniform())  # a new feature mid-stream: the net is widened
        if t == 10:
            w_before = reg.learner_.get_weights()
        for r in (reg, twin):
            r.learn_one(x, float(x["a"] > 0.5))
        if t == 10:
            w_after = reg.learner_.get_weights()
    lay = reg.learner_.layout
    assert lay.forget_gate and lay.peepholes and lay.n_in == 3
    assert same_state(reg.learner_, twin.learner_)
    assert w_before["W_phi"].shape[1] + 1 == w_after["W_phi"].shape[1]  # one more source
    p = reg.learner_.get_params()
    assert p["forget_gate"] and p["peepholes"] and p["forget_gate_bias"] == (0.5, 1.5)
    assert np.any(reg.learner_.state_["T_P_in"])


# ---------------------------------------------------------------------------
# the continual embedded Reber stream
# ---------------------------------------------------------------------------


def test_continual_reber_is_determined_by_its_seed_and_chunking():
    whole = ContinualReber(seed=12).chunk(400)
    s = ContinualReber(seed=12)
    parts = [s.chunk(n) for n in (1, 150, 0, 249)]
    assert sum((p.strings for p in parts), []) == whole.strings
    assert np.array_equal(np.vstack([p.X for p in parts]), whole.X)
    assert np.array_equal(np.vstack([p.Y for p in parts]), whole.Y)
    offsets = np.cumsum([0] + [p.X.shape[0] for p in parts[:-1]])
    assert np.array_equal(np.concatenate([p.starts + o for p, o in zip(parts, offsets)]), whole.starts)
    assert np.array_equal(np.concatenate([p.recall + o for p, o in zip(parts, offsets)]), whole.recall)
    assert ContinualReber(seed=13).chunk(400).strings != whole.strings
    # a Generator is used as the stream's own source
    g1, g2 = np.random.default_rng(5), np.random.default_rng(5)
    assert ContinualReber(seed=g1).chunk(30).strings == ContinualReber(seed=g2).chunk(30).strings


def test_continual_reber_statistics():
    ch = ContinualReber(seed=0).chunk(4000)
    lengths = np.array([len(s) for s in ch.strings])
    # the grammar's expected embedded length: 4 + 8 (inner strings average 8 symbols,
    # from E[symbols to the end] per state of the grammar), standard error ~0.05 here
    assert abs(lengths.mean() - 12.0) < 0.25
    assert lengths.min() == 9
    tp = np.array([s[1] == "T" for s in ch.strings])
    assert abs(tp.mean() - 0.5) < 0.04  # each branch has probability 0.5
    # every symbol a successor in its string, the recall row the one long-lag choice
    assert np.array_equal(ch.X.sum(axis=1), np.ones(len(ch.X)))
    assert set(ch.legal.sum(axis=1)) == {1, 2}
    assert "".join(SYMBOLS[i] for i in ch.legal[ch.recall].argmax(axis=1)) == "".join(s[1] for s in ch.strings)


def test_continual_reber_rejects_bad_sizes_instead_of_failing_later():
    m = OnlineLSTM(7, 7, 1, 1, forget_gate=True, seed=0)
    empty = ContinualReber(seed=0).chunk(0)
    assert len(empty) == 0 and empty.X.shape == (0, 7)
    assert empty.starts.shape == (0,) and empty.recall.shape == (0,)  # no string, no start
    before = m.state_arrays()
    for call in (lambda: ContinualReber(seed=0).chunk(-1),
                 lambda: ContinualReber(seed=0).chunk(2.5),
                 lambda: train_continual(m, ContinualReber(seed=0), 10, chunk=0),
                 lambda: train_continual(m, ContinualReber(seed=0), -1),
                 lambda: evaluate_continual(m, ContinualReber(seed=0), 0),
                 lambda: evaluate_continual(m, ContinualReber(seed=0), 10, chunk=0)):
        with pytest.raises(ValueError, match="whole number"):
            call()
    assert all(same_bits(v, m.state_arrays()[k]) for k, v in before.items())
    assert train_continual(m, ContinualReber(seed=0), 0) == []
    res = evaluate_continual(m, ContinualReber(seed=0), 3, chunk=2)
    assert res["symbols"] == sum(len(s) for s in ContinualReber(seed=0).chunk(3).strings)
