"""Forget gates and peepholes (spec §7.1, §7.2), beyond the shared tests.

The shared tests run every architecture of ``conftest.ALL_ARCHS``, these
options included: kernels vs reference (test_kernels), finite differences on
the replayed trajectory (test_gradients), one step == many steps.  Here: a
long never-reset stream, what the replayed check is sensitive to, snapshots,
bad input, a hand-computed cell, and the 1997 net as the special case of a
forget gate pinned open and no peepholes, bit for bit."""

import math
import pickle

import numpy as np
import pytest

from online_lstm import DivergenceError, InputError, OnlineLSTM

from conftest import ARCHS, ARCHS_X, ATOL, RTOL, random_stream
from reference import assert_matches_reference, numeric_gradient, record_trajectory, run_reference

#: a forget-gate bias for which f(net_phi) rounds to exactly 1.0 in float64
#: (e^-37 < 2^-53), so f'_phi is exactly 0: the gate is pinned open, the
#: finite stand-in for a bias of +inf (weights must stay finite)
PINNED_OPEN = 1e3

OLD_STATE_KEYS = ("s_c", "y_c", "y_in", "y_out", "y_k", "T_in", "T_c")


def make(name, seed, **kw):
    params = dict(ARCHS_X[name], init_range=0.6, lr=0.3, seed=seed)
    params.update(kw)
    return OnlineLSTM(**params)


def bits(a):
    return np.ascontiguousarray(a, dtype=np.float64).view(np.uint64)


def same_bits(a, b):
    return a.shape == b.shape and np.array_equal(bits(a), bits(b))


# ---------------------------------------------------------------------------
# kernels vs the NumPy reference
# ---------------------------------------------------------------------------


def test_long_continual_stream_matches_reference():
    # never reset: traces live (and are damped) for thousands of steps
    rng = np.random.default_rng(8)
    m = make("F-og-all-S3+fg+ph", 8, lr=0.1)
    X, Y, _ = random_stream(rng, 3000, m.layout.n_in, m.layout.n_out, p_reset=0.0)
    ref, ref_out = run_reference(m, X, Y, np.zeros(3000, bool))
    np.testing.assert_allclose(m.learn_many(X, Y), ref_out, rtol=RTOL, atol=ATOL)
    assert_matches_reference(m, ref, RTOL, ATOL)


# ---------------------------------------------------------------------------
# the replayed finite-difference check (test_gradients) is not vacuous
# ---------------------------------------------------------------------------


def fd_case(name, seed, T=25):
    m = make(name, seed, init_range=0.7, lr=0.1)
    X, Y, resets = random_stream(np.random.default_rng(seed + 40), T, m.layout.n_in,
                                 m.layout.n_out, p_reset=0.1, p_nan=0.2)
    return m, X, Y, resets


@pytest.mark.parametrize("name", ["F-og-all-S3+fg+ph", "B-og-all-S2+fg+ph"])
def test_peephole_truncation_is_what_the_replay_checks(name):
    # with the peepholes' state inputs left live, the finite differences see
    # error flowing back through the peepholes, which the rule truncates
    # (spec §7.2): then they disagree, so the test above is not vacuous
    m, X, Y, resets = fd_case(name, 1)
    w = m.get_weights()
    replay = record_trajectory(m.layout, w, X, resets)
    live_peep = [(prev, None) for prev, _ in replay]
    num = numeric_gradient(m.layout, w, X, Y, resets, replay=live_peep, names=["W_in", "P_in"])
    grad = m.gradient(X, Y, resets)
    assert not np.allclose(grad["W_in"], num["W_in"], rtol=1e-4, atol=1e-7)
    assert not np.allclose(grad["P_in"], num["P_in"], rtol=1e-4, atol=1e-7)


# ---------------------------------------------------------------------------
# snapshots
# ---------------------------------------------------------------------------


def test_snapshot_restore_and_pickle_continue_bitwise():
    # the new traces and activations live in the regions state_arrays copies
    rng = np.random.default_rng(9)
    a = make("F-og-all-S3+fg+ph", 9)
    X, Y, resets = random_stream(rng, 400, a.layout.n_in, a.layout.n_out)
    a.learn_many(X[:200], Y[:200], resets[:200])
    snap = a.state_arrays()
    b = make("F-og-all-S3+fg+ph", 123)  # other weights: everything must come from the snapshot
    b.load_state_arrays(snap)
    c = pickle.loads(pickle.dumps(a))
    assert c.get_params() == a.get_params()
    outs = [m.learn_many(X[200:], Y[200:], resets[200:]) for m in (a, b, c)]
    assert same_bits(outs[0], outs[1]) and same_bits(outs[0], outs[2])
    for m in (b, c):
        for k, v in a.state_arrays().items():
            assert same_bits(v, m.state_arrays()[k]), k
    # a snapshot of a 1997 learner does not fit, and vice versa
    plain = OnlineLSTM(**{k: v for k, v in ARCHS_X["F-og-all-S3+fg+ph"].items()
                          if k not in ("forget_gate", "peepholes")}, seed=0)
    with pytest.raises(InputError):
        plain.load_state_arrays(snap)
    with pytest.raises(InputError):
        b.load_state_arrays(plain.state_arrays())


# ---------------------------------------------------------------------------
# bad input and divergence leave everything unchanged
# ---------------------------------------------------------------------------


def trained(name="F-og-all-S3+fg+ph"):
    m = make(name, 0)
    rng = np.random.default_rng(0)
    X, Y, resets = random_stream(rng, 50, m.layout.n_in, m.layout.n_out)
    m.learn_many(X, Y, resets)
    return m


def unchanged(before, m):
    return all(same_bits(v, m.state_arrays()[k]) for k, v in before.items())


def test_bad_input_changes_nothing():
    m = trained()
    n_in, K = m.layout.n_in, m.layout.n_out
    before = m.state_arrays()
    with pytest.raises(InputError, match="finite"):
        m.learn_one(np.full(n_in, np.nan), np.zeros(K))
    with pytest.raises(InputError, match="shape"):
        m.predict_one(np.zeros(n_in + 1))
    with pytest.raises(InputError, match="finite or NaN"):
        m.learn_one(np.zeros(n_in), np.full(K, np.inf))
    X = np.zeros((30, n_in))
    X[17, 0] = np.inf
    with pytest.raises(InputError, match="row 17"):
        m.learn_many(X, np.zeros((30, K)))
    assert unchanged(before, m)


def test_divergence_is_refused_and_state_kept():
    # identity h, a wide-open forget gate and a strong input: |s_c| passes the bound
    m = OnlineLSTM(1, 1, 1, 1, bias="gates", h="id", g="g1", connectivity="B", forget_gate=True,
                   peepholes=True, forget_gate_bias=50.0, in_gate_bias=50.0, state_bound=10.0, seed=0)
    x = np.array([1.0])
    with pytest.raises(DivergenceError) as err:
        for _ in range(100):
            before = m.state_arrays()
            m.learn_one(x, 0.5)
    assert "state_bound" in str(err.value)
    assert unchanged(before, m)
    assert np.all(np.abs(m.state_["s_c"]) <= 10.0)


def test_magnitude_bound_refuses_an_overflowing_update():
    # a learning rate near the float range: the update would overflow, and
    # the bound of kernels._bounds (which covers the new weights) refuses it
    m = trained("F-og-hidden-S2+fg+ph")
    m.lr = 1e300
    before = m.state_arrays()
    X, Y, _ = random_stream(np.random.default_rng(1), 1, m.layout.n_in, m.layout.n_out, p_nan=0.0)
    with pytest.raises(DivergenceError, match="1e150"):
        m.learn_one(X[0], Y[0])
    assert unchanged(before, m)
    assert all(np.all(np.isfinite(v)) for v in m.get_weights().values())


# ---------------------------------------------------------------------------
# a hand-computed cell
# ---------------------------------------------------------------------------


def test_hand_computed_cell_with_forget_gate_and_peepholes():
    """1 input, 1 block of 1 cell, output gate, forget gate, peepholes, no
    biases, B connectivity (z = [x], o = [y_c, x])."""
    m = OnlineLSTM(1, 1, 1, 1, connectivity="B", bias="none", forget_gate=True, peepholes=True,
                   forget_gate_bias=None, lr=0.5, seed=0)
    a_in, a_f, a_c, a_o = 0.7, 1.3, 1.1, -0.4
    p_i, p_f, p_o = 0.9, -0.6, 0.8
    k_c, k_x = 1.7, -0.3
    m.set_weights(W_in=[[a_in]], W_phi=[[a_f]], W_c=[[a_c]], W_out=[[a_o]], P_in=[[p_i]],
                  P_phi=[[p_f]], P_out=[[p_o]], W_k=[[k_c, k_x]])
    sig = lambda a: 1.0 / (1.0 + math.exp(-a))  # noqa: E731

    # step 1: x = 1, s(0) = 0
    x1 = 1.0
    yi1, yf1 = sig(a_in * x1), sig(a_f * x1)
    g1 = 4 * sig(a_c * x1) - 2
    s1 = yf1 * 0.0 + yi1 * g1
    yo1 = sig(a_o * x1 + p_o * s1)  # the output gate reads s(t)
    yc1 = yo1 * (2 * sig(s1) - 1)
    assert m.predict_one([x1])[0] == pytest.approx(sig(k_c * yc1 + k_x * x1), rel=1e-14)
    st = m.state_
    assert st["s_c"][0] == pytest.approx(s1, rel=1e-14)
    assert st["y_phi"][0] == pytest.approx(yf1, rel=1e-14)
    T_in1 = g1 * yi1 * (1 - yi1) * x1
    T_c1 = (4 - g1 ** 2) / 4 * yi1 * x1
    assert st["T_in"][0, 0] == pytest.approx(T_in1, rel=1e-14)
    assert st["T_c"][0, 0] == pytest.approx(T_c1, rel=1e-14)
    assert st["T_phi"][0, 0] == 0.0  # s(0) = 0
    assert st["T_P_in"][0, 0] == 0.0 and st["T_P_phi"][0, 0] == 0.0

    # step 2: x = -0.5, target 1; gates read s(1) through the peepholes
    x2 = -0.5
    yi2 = sig(a_in * x2 + p_i * s1)
    yf2 = sig(a_f * x2 + p_f * s1)
    g2 = 4 * sig(a_c * x2) - 2
    s2 = yf2 * s1 + yi2 * g2
    yo2 = sig(a_o * x2 + p_o * s2)
    h2 = 2 * sig(s2) - 1
    yc2 = yo2 * h2
    yk2 = sig(k_c * yc2 + k_x * x2)
    di2, df2 = yi2 * (1 - yi2), yf2 * (1 - yf2)
    T_in2 = yf2 * T_in1 + g2 * di2 * x2  # spec §7.1
    T_c2 = yf2 * T_c1 + (4 - g2 ** 2) / 4 * yi2 * x2
    T_phi2 = yf2 * 0.0 + s1 * df2 * x2
    T_Pin2 = yf2 * 0.0 + g2 * di2 * s1  # spec §7.2
    T_Pphi2 = yf2 * 0.0 + s1 * df2 * s1
    e_k = yk2 * (1 - yk2) * (1.0 - yk2)
    e_out = yo2 * (1 - yo2) * h2 * k_c * e_k
    e_s = yo2 * (1 - h2 ** 2) / 2 * k_c * e_k
    assert m.learn_one([x2], 1.0)[0] == pytest.approx(yk2, rel=1e-14)
    st = m.state_
    for key, val in (("T_in", T_in2), ("T_c", T_c2), ("T_phi", T_phi2), ("T_P_in", T_Pin2),
                     ("T_P_phi", T_Pphi2)):
        assert st[key][0, 0] == pytest.approx(val, rel=1e-13), key
    w = m.get_weights()
    lr = 0.5
    expect = dict(W_in=a_in + lr * e_s * T_in2, W_phi=a_f + lr * e_s * T_phi2, W_c=a_c + lr * e_s * T_c2,
                  W_out=a_o + lr * e_out * x2, P_in=p_i + lr * e_s * T_Pin2,
                  P_phi=p_f + lr * e_s * T_Pphi2, P_out=p_o + lr * e_out * s2)
    for key, val in expect.items():
        assert w[key][0, 0] == pytest.approx(val, rel=1e-13), key
    assert w["W_k"][0] == pytest.approx([k_c + lr * e_k * yc2, k_x + lr * e_k * x2], rel=1e-13)


# ---------------------------------------------------------------------------
# the 1997 net is the special case y_phi = 1, no peepholes
# ---------------------------------------------------------------------------

PINNABLE = [n for n, a in ARCHS.items() if a.get("bias", "gates") != "none"]


def pinned_pair(name, seed, **kw):
    """A 1997 learner and a forget-gate learner with the same 1997 weights,
    forget gates pinned open, their other weights random."""
    old = OnlineLSTM(**ARCHS[name], init_range=0.6, lr=0.3, seed=seed, **kw)
    new = OnlineLSTM(**ARCHS[name], init_range=0.6, lr=0.3, seed=seed + 1, forget_gate=True, **kw)
    w_phi = new.get_weights()["W_phi"]
    new.set_weights(old.get_weights(), b_phi=np.full(old.layout.n_blocks, PINNED_OPEN))
    return old, new, w_phi


def assert_same_as_1997(old, new, w_phi):
    w_old, w_new = old.get_weights(), new.get_weights()
    for k, v in w_old.items():
        assert same_bits(v, w_new[k]), k
    assert same_bits(w_new["W_phi"], w_phi)  # f'_phi = 0: the gate never learns
    assert np.all(w_new["b_phi"] == PINNED_OPEN)
    s_old, s_new = old.state_, new.state_
    for k in OLD_STATE_KEYS:
        assert same_bits(s_old[k], s_new[k]), k
    assert np.all(s_new["T_phi"] == 0.0)
    assert (old.n_steps_, old.n_updates_, old.pending_) == (new.n_steps_, new.n_updates_, new.pending_)


@pytest.mark.parametrize("name", PINNABLE)
def test_forget_gate_pinned_open_is_the_1997_learner_bitwise(name, seed):
    old, new, w_phi = pinned_pair(name, seed)
    rng = np.random.default_rng(seed + 70)
    X, Y, resets = random_stream(rng, 1500, old.layout.n_in, old.layout.n_out)
    assert same_bits(old.learn_many(X, Y, resets), new.learn_many(X, Y, resets))
    assert np.all(new.state_["y_phi"] == 1.0)
    for t in range(50):  # the per-step paths too
        assert same_bits(old.learn_one(X[t], Y[t]), new.learn_one(X[t], Y[t]))
        assert same_bits(old.predict_one(X[t]), new.predict_one(X[t]))
        old.learn_last(Y[t])
        new.learn_last(Y[t])
    assert_same_as_1997(old, new, w_phi)
    g_old, g_new = old.gradient(X[:100], Y[:100]), new.gradient(X[:100], Y[:100])
    for k, v in g_old.items():
        assert same_bits(v, g_new[k]), k
    assert not np.any(g_new["W_phi"]) and not np.any(g_new["b_phi"])


def test_forget_gate_pinned_open_is_the_1997_learner_with_sequence_updates():
    old, new, w_phi = pinned_pair("F-og-all-S3", 4, update="sequence")
    rng = np.random.default_rng(4)
    X, Y, resets = random_stream(rng, 800, old.layout.n_in, old.layout.n_out, p_reset=0.03)
    assert same_bits(old.learn_many(X, Y, resets), new.learn_many(X, Y, resets))
    old.reset()
    new.reset()
    assert_same_as_1997(old, new, w_phi)


@pytest.mark.parametrize("name", ["F-og-all-S3", "B-og-all-S2", "F-noog-all-S2"])
def test_zero_peepholes_and_pinned_forget_gate_are_the_1997_learner_bitwise(name):
    # peephole weights learn (their traces are not zero), so they are held at
    # zero after every step; everything else then follows the 1997 learner
    old = OnlineLSTM(**ARCHS[name], init_range=0.6, lr=0.3, seed=5)
    new = OnlineLSTM(**ARCHS[name], init_range=0.6, lr=0.3, seed=6, forget_gate=True, peepholes=True)
    w_phi = new.get_weights()["W_phi"]
    zero_p = {k: np.zeros(v.shape) for k, v in new.get_weights().items() if k.startswith("P_")}
    new.set_weights(old.get_weights(), b_phi=np.full(old.layout.n_blocks, PINNED_OPEN), **zero_p)
    rng = np.random.default_rng(5)
    X, Y, resets = random_stream(rng, 400, old.layout.n_in, old.layout.n_out)
    assert same_bits(old.predict_many(X, resets), new.predict_many(X, resets))  # no learning
    for t in range(len(X)):
        if resets[t]:
            old.reset()
            new.reset()
        assert same_bits(old.learn_one(X[t], Y[t]), new.learn_one(X[t], Y[t]))
        if t == 100:
            assert any(np.any(new.get_weights()[k]) for k in zero_p)  # they did learn
        new.set_weights(zero_p)
    assert_same_as_1997(old, new, w_phi)


# ---------------------------------------------------------------------------
# configuration
# ---------------------------------------------------------------------------


def test_switches_are_off_by_default_and_round_trip():
    m = OnlineLSTM(3, 2, 2, 2, seed=0)
    assert not m.layout.forget_gate and not m.layout.peepholes
    assert "W_phi" not in m.get_weights() and "T_phi" not in m.state_
    f = OnlineLSTM(3, 2, 2, 2, forget_gate=True, peepholes=True, forget_gate_bias=(0.5, 2.0), seed=0)
    assert f.get_params()["forget_gate"] and f.get_params()["peepholes"]
    assert np.array_equal(f.get_weights()["b_phi"], [0.5, 2.0])
    g = f.clone()
    assert g.get_params() == f.get_params() and np.array_equal(g.theta_, f.theta_)
    assert "forget_gate=True" in repr(f) and "peepholes=True" in repr(f)


def test_forget_gate_bias_default_is_positive():
    m = OnlineLSTM(3, 2, 4, 2, forget_gate=True, init_range=0.2, seed=0)
    assert np.all(m.get_weights()["b_phi"] == 1.0)  # spec §7.1: start open
    assert np.all(m.state_["y_phi"] == 0.0)  # nothing computed yet
    m.predict_one(np.zeros(3))
    assert np.all(m.state_["y_phi"] > 0.6)


def test_forget_gate_bias_needs_a_gate_bias():
    with pytest.raises(ValueError, match="forget_gate_bias"):
        OnlineLSTM(3, 2, 2, bias="none", forget_gate=True)  # the default +1.0 has nowhere to go
    m = OnlineLSTM(3, 2, 2, bias="none", forget_gate=True, forget_gate_bias=None, seed=0)
    assert "b_phi" not in m.get_weights()
    with pytest.raises(ValueError, match="per block"):
        OnlineLSTM(3, 2, 2, forget_gate=True, forget_gate_bias=(1.0, 2.0, 3.0))
    with pytest.raises(ValueError, match="True or False"):
        OnlineLSTM(3, 2, 2, peepholes="yes")


def test_the_running_trace_bound_covers_the_forget_gate_trace():
    """The kernel keeps an upper bound on max|trace| (header H_TMAX) that
    decides when the buffers are rescanned; with a forget gate the bound must
    grow by the forget-gate coefficient s_c(t-1) f'_phi too (spec §7.1), or
    it falls below the true traces."""
    from online_lstm.layout import H_TMAX

    m = OnlineLSTM(1, 1, 1, 1, bias="gates", connectivity="B", forget_gate=True,
                   forget_gate_bias=2.2, in_gate_bias=5.0, seed=0, init_range=0.1)
    m.set_weights(W_in=[[0.0]], W_phi=[[0.0]], W_out=[[0.0]], W_c=[[5.0]])
    for t in range(200):
        m.predict_one([1.0])
        bound = m.state_arrays()["header"][H_TMAX]
        true = max(np.abs(v).max() for k, v in m.state_.items() if k.startswith("T_"))
        assert true <= bound, (t, true, bound)
