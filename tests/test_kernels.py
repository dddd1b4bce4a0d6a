"""The kernels against the slow NumPy reference, and one step == many steps."""

import math

import numpy as np
import pytest

from online_lstm import OnlineLSTM

from conftest import ALL_ARCHS, ATOL, RTOL, random_stream
from reference import assert_matches_reference, f, run_reference


def make(name, seed, **kw):
    params = dict(ALL_ARCHS[name], init_range=0.6, lr=0.3, seed=seed)
    params.update(kw)
    return OnlineLSTM(**params)


@pytest.mark.parametrize("name", list(ALL_ARCHS))
def test_learn_many_matches_reference(name, seed):
    rng = np.random.default_rng(seed)
    m = make(name, seed)
    X, Y, resets = random_stream(rng, 400, m.layout.n_in, m.layout.n_out)
    ref, ref_out = run_reference(m, X, Y, resets)
    out = m.learn_many(X, Y, resets)
    np.testing.assert_allclose(out, ref_out, rtol=RTOL, atol=ATOL)
    assert_matches_reference(m, ref, RTOL, ATOL)
    # the learner really learned something (the comparison is not vacuous),
    # every kind of weight, the forget gates' and peepholes' too
    fresh = make(name, seed).get_weights()
    for k, v in m.get_weights().items():
        assert not np.allclose(v, fresh[k], rtol=0, atol=1e-12), k


@pytest.mark.parametrize("name", ["F-og-hidden-S2", "B-og-all-S2", "F-noog-all-S2", "F-og-all-S3+fg+ph",
                                  "F-og-hidden-S2+ph", "B-noog-none-g1-id+fg"])
def test_sequence_accumulation_matches_reference(name, seed):
    rng = np.random.default_rng(seed + 100)
    m = make(name, seed, update="sequence")
    X, Y, resets = random_stream(rng, 300, m.layout.n_in, m.layout.n_out, p_reset=0.04)
    ref, ref_out = run_reference(m, X, Y, resets, accumulate=True)
    out = m.learn_many(X, Y, resets)
    np.testing.assert_allclose(out, ref_out, rtol=RTOL, atol=ATOL)
    m.reset()
    ref.reset()
    for k, v in ref.weights().items():
        np.testing.assert_allclose(m.get_weights()[k], v, rtol=RTOL, atol=ATOL, err_msg=k)


def test_sequence_mode_holds_weights_until_reset():
    rng = np.random.default_rng(5)
    m = make("F-og-all-S3", 5, update="sequence")
    X, Y, _ = random_stream(rng, 50, m.layout.n_in, m.layout.n_out, p_reset=0.0)
    before = m.theta_
    m.learn_many(X, Y)
    assert np.array_equal(m.theta_, before)
    m.reset()
    assert not np.array_equal(m.theta_, before)


@pytest.mark.parametrize("name", list(ALL_ARCHS))
def test_one_at_a_time_equals_many_at_once_bitwise(name, seed):
    rng = np.random.default_rng(seed + 7)
    a = make(name, seed)
    b = make(name, seed)
    X, Y, resets = random_stream(rng, 300, a.layout.n_in, a.layout.n_out)
    outs = []
    for t in range(len(X)):
        if resets[t]:
            a.reset()
        outs.append(a.learn_one(X[t], Y[t]))
    many = b.learn_many(X, Y, resets)
    assert np.array_equal(np.array(outs), many)
    sa, sb = a.state_arrays(), b.state_arrays()
    for k in sa:
        assert np.array_equal(sa[k], sb[k]), k


@pytest.mark.parametrize("name", ["F-og-gates-S1", "F-og-all-S3", "B-noog-none-g1-id", "F-og-all-S3+fg+ph",
                                  "F-og-hidden-S2+ph", "B-noog-none-g1-id+fg"])
def test_act_now_learn_later_equals_learn_one_bitwise(name, seed):
    rng = np.random.default_rng(seed + 11)
    a = make(name, seed)
    b = make(name, seed)
    X, Y, _ = random_stream(rng, 200, a.layout.n_in, a.layout.n_out, p_reset=0.0, p_nan=0.0)
    for t in range(len(X)):
        ya = a.learn_one(X[t], Y[t])
        yb = b.predict_one(X[t])
        assert b.pending_
        b.learn_last(Y[t])
        assert not b.pending_
        assert np.array_equal(ya, yb)
    assert np.array_equal(a.theta_, b.theta_)
    sa, sb = a.state_arrays(), b.state_arrays()
    for k in sa:
        assert np.array_equal(sa[k], sb[k]), k


def test_predict_many_equals_predict_one_and_advances_state():
    rng = np.random.default_rng(3)
    a = make("F-og-all-S3", 3)
    b = make("F-og-all-S3", 3)
    X, _, resets = random_stream(rng, 100, a.layout.n_in, a.layout.n_out)
    outs = []
    for t in range(len(X)):
        if resets[t]:
            a.reset()
        outs.append(a.predict_one(X[t]))
    assert np.array_equal(np.array(outs), b.predict_many(X, resets))
    assert np.array_equal(a.theta_, make("F-og-all-S3", 3).theta_)  # no learning
    assert a.n_steps_ == 100 and a.n_updates_ == 0
    assert np.any(a.state_["T_in"] != 0)  # traces advanced


def test_learn_many_in_chunks_equals_one_call():
    rng = np.random.default_rng(4)
    a = make("F-og-hidden-S2", 4)
    b = make("F-og-hidden-S2", 4)
    X, Y, resets = random_stream(rng, 250, a.layout.n_in, a.layout.n_out)
    whole = a.learn_many(X, Y, resets)
    parts = [b.learn_many(X[i:i + 37], Y[i:i + 37], resets[i:i + 37]) for i in range(0, 250, 37)]
    assert np.array_equal(whole, np.concatenate(parts))
    assert np.array_equal(a.theta_, b.theta_)


def test_nan_target_means_no_update_for_that_unit():
    m = make("F-og-gates-S1", 0)
    x = np.array([0.3, -0.2, 0.5])
    before = m.get_weights()
    m.learn_one(x, [np.nan, 0.9])
    after = m.get_weights()
    # row 0 of W_k (output unit 0) had no target: unchanged; unit 1 changed
    assert np.array_equal(after["W_k"][0], before["W_k"][0])
    assert not np.array_equal(after["W_k"][1], before["W_k"][1])
    # no target at all: nothing changes, the step is pending for learn_last
    w = m.theta_
    m.learn_one(x, [np.nan, np.nan])
    assert np.array_equal(m.theta_, w) and m.pending_
    m.learn_one(x)
    assert np.array_equal(m.theta_, w)


def test_reset_zeroes_state_and_traces():
    rng = np.random.default_rng(1)
    m = make("F-og-all-S3", 1)
    X, Y, _ = random_stream(rng, 30, m.layout.n_in, m.layout.n_out, p_reset=0.0)
    m.learn_many(X, Y)
    m.reset()
    for k, v in m.state_.items():
        assert not np.any(v), k
    assert m.seq_step_ == 0 and m.n_steps_ == 30 and not m.pending_
    # the first step after a reset sees zero previous activations (spec §2.5)
    fresh = make("F-og-all-S3", 1)
    fresh.set_weights(m.get_weights())
    assert np.array_equal(m.predict_one(X[0]), fresh.predict_one(X[0]))


def test_hand_computed_one_cell():
    """1 input, 1 block of 1 cell, 1 output, no biases, F connectivity."""
    m = OnlineLSTM(1, 1, 1, 1, bias="none", lr=0.5, seed=0)
    # sources z = [x, y_c(t-1), y_in(t-1), y_out(t-1)]
    w_in = [0.5, -0.3, 0.2, 0.1]
    w_out = [-0.4, 0.6, -0.1, 0.3]
    w_c = [1.5, 0.7, -0.2, 0.4]
    w_k = 2.0
    m.set_weights(W_in=[w_in], W_out=[w_out], W_c=[w_c], W_k=[[w_k]])
    sig = lambda a: 1.0 / (1.0 + math.exp(-a))  # noqa: E731

    # step 1: x = 1, previous activations 0
    x1 = 1.0
    y_in1 = sig(0.5)
    y_out1 = sig(-0.4)
    g1 = 4 * sig(1.5) - 2
    s1 = 0.0 + y_in1 * g1
    h1 = 2 * sig(s1) - 1
    yc1 = y_out1 * h1
    yk1 = sig(w_k * yc1)
    assert m.predict_one([x1])[0] == pytest.approx(yk1, rel=1e-14)
    st = m.state_
    assert st["s_c"][0] == pytest.approx(s1, rel=1e-14)
    assert st["y_c"][0] == pytest.approx(yc1, rel=1e-14)
    # traces after step 1 (eqs. 25, 27): z = [1, 0, 0, 0]
    assert st["T_in"][0] == pytest.approx([g1 * y_in1 * (1 - y_in1), 0, 0, 0], rel=1e-14)
    assert st["T_c"][0] == pytest.approx([(4 - g1 ** 2) / 4 * y_in1, 0, 0, 0], rel=1e-14)

    # step 2: x = -0.5, target 1.0; sources z2 = [-0.5, yc1, y_in1, y_out1]
    z2 = [-0.5, yc1, y_in1, y_out1]
    dot = lambda w: sum(a * b for a, b in zip(w, z2))  # noqa: E731
    y_in2 = sig(dot(w_in))
    y_out2 = sig(dot(w_out))
    g2 = 4 * sig(dot(w_c)) - 2
    s2 = s1 + y_in2 * g2
    h2 = 2 * sig(s2) - 1
    yc2 = y_out2 * h2
    yk2 = sig(w_k * yc2)
    z1 = [1.0, 0.0, 0.0, 0.0]
    T_in2 = [g1 * y_in1 * (1 - y_in1) * z1[i] + g2 * y_in2 * (1 - y_in2) * z2[i] for i in range(4)]
    T_c2 = [(4 - g1 ** 2) / 4 * y_in1 * z1[i] + (4 - g2 ** 2) / 4 * y_in2 * z2[i] for i in range(4)]
    e_k = yk2 * (1 - yk2) * (1.0 - yk2)  # eq. 19
    e_out = y_out2 * (1 - y_out2) * h2 * w_k * e_k  # eq. 21
    e_s = y_out2 * (1 - h2 ** 2) / 2 * w_k * e_k  # eq. 23
    out = m.learn_one([-0.5], 1.0)
    assert out[0] == pytest.approx(yk2, rel=1e-14)
    w = m.get_weights()
    assert w["W_k"][0, 0] == pytest.approx(w_k + 0.5 * e_k * yc2, rel=1e-13)
    assert w["W_out"][0] == pytest.approx([a + 0.5 * e_out * zm for a, zm in zip(w_out, z2)], rel=1e-13)
    assert w["W_in"][0] == pytest.approx([a + 0.5 * e_s * t for a, t in zip(w_in, T_in2)], rel=1e-13)
    assert w["W_c"][0] == pytest.approx([a + 0.5 * e_s * t for a, t in zip(w_c, T_c2)], rel=1e-13)


def test_output_is_logistic_of_cells():
    # with zero weights every unit sits at f(0) = 0.5 except cell inputs g(0) = 0
    m = OnlineLSTM(2, 3, 2, 2, bias="all", init_range=0.0, seed=0)
    y = m.predict_one([1.0, -1.0])
    assert np.array_equal(y, np.full(3, f(0.0)))
    st = m.state_
    assert np.array_equal(st["y_in"], [0.5, 0.5]) and np.array_equal(st["s_c"], np.zeros(4))


# ---------------------------------------------------------------------------
# pending steps and a shut input gate (a mutation audit found these untested)
# ---------------------------------------------------------------------------
def test_an_all_nan_learn_last_keeps_the_step_pending_for_its_target():
    """learn_last with no target learns nothing and leaves the step pending,
    as learn_one with an all-NaN target does; the target arriving later gives
    the bits of learn_one."""
    kw = dict(n_in=2, n_out=2, n_blocks=2, block_size=1, seed=3, init_range=0.5, lr=0.5)
    a, b = OnlineLSTM(**kw), OnlineLSTM(**kw)
    x, y = np.array([0.4, -0.7]), np.array([0.9, 0.1])
    a.predict_one(x)
    a.learn_last([np.nan, np.nan])
    assert a.pending_
    a.learn_last(y)
    b.learn_one(x, y)
    np.testing.assert_array_equal(a.theta_, b.theta_)
    assert a.n_updates_ == b.n_updates_ == 1


def test_a_step_learned_with_learn_one_is_no_longer_pending():
    from online_lstm.errors import NoPendingStepError

    m = OnlineLSTM(2, 1, 2, 1, seed=0, init_range=0.5)
    m.predict_one([0.3, 0.2])
    m.learn_one([0.1, -0.4], [0.8])
    assert not m.pending_
    with pytest.raises(NoPendingStepError):
        m.learn_last([0.8])  # would learn the same step twice


def test_a_shut_input_gate_holds_the_cell_state():
    """y_in = 0 exactly (net_in far below -745): s_c(t) = s_c(t-1) + 0 * g,
    the constant error carousel holding its value (spec §2.3), not reset to 0."""
    m = OnlineLSTM(1, 1, 1, 1, bias="gates", connectivity="B", seed=0, init_range=0.5)
    m.set_weights(W_in=[[-1000.0]], W_c=[[1000.0]], b_in=[0.5])
    m.predict_one([-0.001])  # gate open (net_in 1.5): s_c becomes y_in g(-1), not 0
    s1 = m.state_["s_c"].copy()
    assert s1[0] != 0.0
    m.predict_one([1.0])  # net_in = 0.5 - 1000: y_in == 0.0 exactly
    assert m.state_["y_in"][0] == 0.0
    np.testing.assert_array_equal(m.state_["s_c"], s1)
