"""The divergence policy: "raise" keeps the last good state, "reset" recovers
and counts, and a refused call never changes anything."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from online_lstm import DivergenceError, OnlineLSTM

from conftest import ALL_ARCHS, random_stream
from statecheck import same_state, state_is_finite


def drifting(policy="raise", bound=10.0, **kw):
    """One cell with identity h, an open input gate and a positive cell
    input: s_c grows by ~0.99 every step and passes ``bound`` (spec §4,
    internal state drift)."""
    params = dict(bias="none", h="id", g="g1", output_gates=False, connectivity="B",
                  state_bound=bound, seed=0, on_divergence=policy)
    params.update(kw)
    m = OnlineLSTM(1, 1, 1, 1, **params)
    m.set_weights(W_in=[[5.0]], W_c=[[5.0]])
    return m


X = np.ones((100, 1))
Y = np.full((100, 1), 0.5)


def test_policy_is_validated():
    with pytest.raises(ValueError, match="on_divergence must be 'raise' or 'reset'"):
        OnlineLSTM(2, 1, on_divergence="ignore")
    assert OnlineLSTM(2, 1).get_params()["on_divergence"] == "raise"


@pytest.mark.parametrize("call", ["learn_one", "predict_one", "learn_many", "predict_many"])
def test_raise_reports_the_step_and_keeps_the_last_good_state(call):
    m = drifting()
    steps, before = 0, None
    with pytest.raises(DivergenceError) as err:
        for t in range(100):
            before = m.state_arrays()
            if call == "learn_one":
                m.learn_one(X[t], Y[t])
            elif call == "predict_one":
                m.predict_one(X[t])
            elif call == "learn_many":
                m.learn_many(X, Y)
            else:
                m.predict_many(X)
            steps += 1
    if call.endswith("_many"):
        steps = err.value.row  # the rows before were applied
        assert m.n_steps_ == steps
    else:
        assert same_state(before, m.state_arrays())
    assert err.value.step == steps == m.n_steps_
    assert "state_bound" in err.value.reason and err.value.state is None
    assert np.all(np.abs(m.state_["s_c"]) <= 10.0)
    assert m.n_divergences_ == 0 and m.last_divergence_ is None


def manual_reset_run(m, X, Y):
    """What on_divergence="reset" promises: catch, reset, retry the step."""
    outs = []
    for t in range(len(X)):
        try:
            outs.append(m.learn_one(X[t], Y[t]))
        except DivergenceError:
            m.reset()
            outs.append(m.learn_one(X[t], Y[t]))
    return np.array(outs)


@pytest.mark.parametrize("update", ["step", "sequence"])
@pytest.mark.parametrize("many", [False, True])
def test_reset_policy_equals_catching_resetting_and_retrying(update, many):
    a = drifting("reset", update=update)
    b = drifting("raise", update=update)
    out_a = a.learn_many(X, Y) if many else np.array([a.learn_one(x, y) for x, y in zip(X, Y)])
    out_b = manual_reset_run(b, X, Y)
    assert np.array_equal(out_a, out_b)
    assert same_state(a.state_arrays(), b.state_arrays())
    assert a.n_divergences_ == b.n_resets_ == a.n_resets_ > 5
    assert a.n_steps_ == 100 and state_is_finite(a)


def test_reset_policy_over_a_long_chunk_with_resets_equals_one_at_a_time():
    """learn_many goes on after each event in growing pieces; the pieces must
    not change anything, wherever the events and the requested resets fall."""
    rng = np.random.default_rng(3)
    T = 3000
    Xl = rng.uniform(0.0, 1.0, (T, 1))
    Yl = rng.uniform(0.0, 1.0, (T, 1))
    resets = rng.random(T) < 0.01
    a, b = drifting("reset"), drifting("reset")
    out_a = a.learn_many(Xl, Yl, resets)
    out_b = []
    for t in range(T):
        if resets[t]:
            b.reset()
        out_b.append(b.learn_one(Xl[t], Yl[t]))
    assert np.array_equal(out_a, np.array(out_b))
    assert same_state(a.state_arrays(), b.state_arrays())
    assert a.n_divergences_ == b.n_divergences_ > 50


def test_reset_policy_keeps_the_last_good_state_of_each_event():
    a, b = drifting("reset"), drifting("raise")
    with pytest.raises(DivergenceError) as err:
        b.learn_many(X, Y)
    a.learn_many(X, Y)
    first = a.last_divergence_
    assert a.n_divergences_ > 1 and first.step > err.value.step  # the latest event is kept
    c = drifting("reset")
    c.learn_many(X[:err.value.row + 1], Y[:err.value.row + 1])  # up to the first event
    assert c.n_divergences_ == 1
    assert c.last_divergence_.step == err.value.step and c.last_divergence_.row == err.value.row
    assert same_state(c.last_divergence_.state, b.state_arrays())  # = what "raise" keeps
    c.load_state_arrays(c.last_divergence_.state)  # going back to it
    assert same_state(c.state_arrays(), b.state_arrays())


@pytest.mark.parametrize("call", ["learn_one", "predict_one", "learn_many", "predict_many"])
def test_reset_policy_raises_when_a_reset_does_not_help(call):
    m = drifting("reset")
    m.learn_many(X[:3] * 0.1, Y[:3])
    m.state_bound = 0.5  # one step from a zero state already passes it
    before = m.state_arrays()
    with pytest.raises(DivergenceError, match="diverged from a reset state too"):
        {"learn_one": lambda: m.learn_one(X[0], Y[0]), "predict_one": lambda: m.predict_one(X[0]),
         "learn_many": lambda: m.learn_many(X, Y), "predict_many": lambda: m.predict_many(X)}[call]()
    assert same_state(before, m.state_arrays())
    assert m.n_divergences_ == 0


def test_reset_policy_in_learn_many_keeps_rows_before_an_unrecoverable_row():
    m = drifting("reset")
    Xb = X.copy()
    Xb[60:] = 1.7e308  # from row 60 every step diverges, reset or not: 5 * x overflows net_in
    ref = drifting("reset")
    ref.learn_many(Xb[:60], Y[:60])
    with pytest.raises(DivergenceError) as err:
        m.learn_many(Xb, Y)
    assert err.value.row == 60
    assert same_state(ref.state_arrays(), m.state_arrays())
    assert m.n_divergences_ == ref.n_divergences_


def test_learn_last_and_reset_raise_under_every_policy():
    m = OnlineLSTM(2, 1, 1, 1, bias="all", seed=0, on_divergence="reset")
    m.set_weights(W_k=[[1e150]], W_c=np.zeros((1, 5)), b_c=[0.0])  # g(0) = 0: y_c = 0
    m.predict_one([0.5, 0.5])
    before = m.state_arrays()
    with pytest.raises(DivergenceError, match="error signal"):
        m.learn_last([1e300])  # e_k * w_k overflows
    assert same_state(before, m.state_arrays()) and m.pending_ and m.n_divergences_ == 0

    s = OnlineLSTM(2, 1, 1, 1, bias="all", update="sequence", lr=1e147, seed=0, on_divergence="reset")
    w = s.get_weights()
    w["W_in"][:, 1] = 9.999e149  # from x[1], which stays 0: harmless until the update is added
    s.set_weights(w)
    s.learn_many(np.tile([1.0, 0.0], (20, 1)), np.full((20, 1), 0.9))
    before = s.state_arrays()
    with pytest.raises(DivergenceError, match="beyond 1e150"):
        s.reset()  # theta + accumulated dW would pass the magnitude limit
    assert same_state(before, s.state_arrays())


def test_divergence_error_pickles_with_its_fields():
    """An error raised in a worker process reaches the parent by pickle."""
    m = drifting("reset")
    m.learn_many(X, Y)
    err = pickle.loads(pickle.dumps(m.last_divergence_))
    assert (err.step, err.row, err.reason, str(err)) == (
        m.last_divergence_.step, m.last_divergence_.row, m.last_divergence_.reason,
        str(m.last_divergence_))
    assert same_state(err.state, m.last_divergence_.state)


def test_policy_and_count_survive_save_load_and_pickle(tmp_path):
    m = drifting("reset")
    m.learn_many(X, Y)
    n = m.n_divergences_
    assert n > 0
    for other in (OnlineLSTM.load(m.save(tmp_path / "m.npz")), pickle.loads(pickle.dumps(m))):
        assert other.on_divergence == "reset" and other.n_divergences_ == n
        assert np.array_equal(other.learn_many(X, Y), _twin(m).learn_many(X, Y))


def _twin(m):
    t = OnlineLSTM(**m.get_params())
    t.load_state_arrays(m.state_arrays())
    return t


# ---------------------------------------------------------------------------
# lr * |e| overflowing to inf (kernels._bounds refuses it since issue 6)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("n_blocks, x", [(1, [0.0, 0.0, -1e300]), (2, [-1e300])])
def test_an_update_that_overflows_alpha_times_error_is_refused(n_blocks, x):
    # lr * e_k = inf for e_k = 2.5e299; inf times a zero source is NaN, which
    # a bound that only compares products would miss (with two blocks, block
    # 0's NaN bound is overwritten by block 1's 0)
    m = OnlineLSTM(len(x), 1, n_blocks, 1, output_gates=False, bias="gates", init_range=1.0,
                   lr=1e10, seed=0)
    before = m.state_arrays()
    with pytest.raises(DivergenceError, match="1e150"):
        m.learn_one(x, [1e300])
    assert same_state(before, m.state_arrays())
    assert np.all(np.isfinite(m.theta_))


def test_the_error_names_the_step_that_was_refused():
    """``.step`` is the index of the refused step: the step a delayed target
    belongs to, the last step for ``learn_last``, and for ``gradient`` the
    index the step would have had in ``learn_many`` (the learner's steps plus
    the row)."""
    m = OnlineLSTM(3, 2, 2, 2, lr=0.3, seed=1, max_delay=3)
    for _ in range(5):
        m.predict_one(np.full(3, 0.5))  # steps 0..4, no targets
    m.lr = 1e300  # any error signal now overflows alpha * e
    before = m.state_arrays()
    for age in (0, 2):
        with pytest.raises(DivergenceError, match=f"at step {4 - age}:") as err:
            m.learn_delayed(np.zeros(2), age)
        assert err.value.step == 4 - age
    m0 = OnlineLSTM(3, 2, 2, 2, lr=0.3, seed=1)
    for _ in range(5):
        m0.predict_one(np.full(3, 0.5))
    m0.lr = 1e300
    with pytest.raises(DivergenceError) as err:
        m0.learn_last(np.zeros(2))
    assert err.value.step == 4
    assert same_state(before, m.state_arrays())

    g = OnlineLSTM(3, 2, 2, 2, lr=0.3, seed=1, state_bound=1.5, in_gate_bias=2.0)
    g.learn_many(np.zeros((3, 3)), np.zeros((3, 2)))
    X, Y = np.full((20, 3), 3.0), np.full((20, 2), 0.5)
    with pytest.raises(DivergenceError) as grad_err:
        g.gradient(X, Y, from_current_state=True)
    with pytest.raises(DivergenceError) as many_err:
        g.learn_many(X, Y)
    assert (grad_err.value.step, grad_err.value.row) == (many_err.value.step, many_err.value.row)
    assert grad_err.value.step == 3 + grad_err.value.row


def test_a_reset_that_cannot_apply_the_accumulated_update_says_so():
    m = OnlineLSTM(3, 2, 2, 2, lr=1e149, seed=1, update="sequence")
    m.set_weights(b_in=[9.9999e149, 9.9999e149])
    m.learn_many(np.ones((5, 3)), np.zeros((5, 2)))
    before = m.state_arrays()
    with pytest.raises(DivergenceError, match="reset refused: applying the weight changes "
                                              "accumulated") as err:
        m.reset()
    assert "step was not applied" not in str(err.value)
    assert same_state(before, m.state_arrays())


@pytest.mark.parametrize("update", ["step", "sequence"])
@pytest.mark.parametrize("name", list(ALL_ARCHS))
def test_the_running_magnitude_bounds_stay_upper_bounds(name, update):
    """The kernel skips scanning its buffers by keeping running upper bounds
    on max|trace|, max|theta| and max|dW| in the header (kernels._bounds):
    each step adds at most what it can change.  After every step of a long
    random stream, large weights and inputs included, each bound is at least
    the true maximum; a bound that fell below would let a step past the
    1e150 limit through unchecked."""
    from online_lstm.layout import H_DWMAX, H_TMAX, H_WMAX

    rng = np.random.default_rng(7)
    arch = ALL_ARCHS[name]
    m = OnlineLSTM(**arch, init_range=2.0, lr=2.0, update=update, state_bound=np.inf, seed=3)
    X, Y, resets = random_stream(rng, 400, arch["n_in"], arch["n_out"])
    X = X * 4.0
    for x, y, r in zip(X, Y, resets):
        if r:
            m.reset()
        m.learn_one(x, y)
        s = m.state_arrays()
        h = s["header"]
        assert np.abs(s["T"]).max(initial=0.0) <= h[H_TMAX]
        assert np.abs(s["theta"]).max(initial=0.0) <= h[H_WMAX]
        if update == "sequence":
            assert np.abs(s["dW"]).max(initial=0.0) <= h[H_DWMAX]


@pytest.mark.parametrize("many", [False, True])
def test_a_trace_about_to_pass_the_limit_is_refused_at_its_step(many):
    """The 1e150 limit holds for the traces, not only for the weights (a
    mutant that skipped the trace part of the check was caught only by the
    slow property tests).  Worked by hand: one block of one cell, no biases,
    every weight 0, input x = 9e149 and no target.  Then net_in = net_c = 0,
    y_in = f(0) = 1/2, g(0) = 0 (so s_c stays 0) and g'(0) = 4 f'(0) = 1, and
    the cell-input weight's trace dS_c/dw_c grows by y_in g'(0) x = 4.5e149 per
    step (eq. 23 ff.): 9e149 after two steps, 1.35e150 at the third, which is
    refused.  No weight moves (no target), so only the trace check can stop it."""
    m = OnlineLSTM(1, 1, 1, 1, bias="none", init_range=0.0, seed=0)
    X = np.full((5, 1), 9e149)
    if many:
        with pytest.raises(DivergenceError) as err:
            m.predict_many(X)
        assert err.value.row == 2
    else:
        m.predict_one(X[0])
        m.predict_one(X[1])
        with pytest.raises(DivergenceError) as err:
            m.predict_one(X[2])
    assert err.value.step == 2 and "beyond 1e150" in err.value.reason and m.n_steps_ == 2
    s = m.state_
    # the state before the refused step: the input's trace at 2 x 4.5e149 (the recurrent
    # sources' traces are below 1: activations of the previous steps)
    assert np.abs(s["T_c"]).max() == 0.5 * 9e149 + 0.5 * 9e149 and np.sort(np.abs(s["T_c"].ravel()))[-2] < 1
    assert not s["T_in"].any() and not s["s_c"].any()
