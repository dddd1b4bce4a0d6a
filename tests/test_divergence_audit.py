"""Divergence handling, audited: where a divergence is reported, what state
is kept, and that the last good state can be recovered everywhere it is
promised (widened learners, River adapters, the experiment runner)."""

from __future__ import annotations

import numpy as np
import pytest

from online_lstm import DivergenceError, OnlineLSTM
from online_lstm.widen import widen

from statecheck import pushed_for_reset, same_state


def drifting(policy="raise", bound=10.0, n_in=1, **kw):
    """One cell with identity h and an open input gate: s_c grows by ~5 per
    step of input 1 and passes ``bound`` (spec §4, internal state drift)."""
    params = dict(bias="none", h="id", g="g1", output_gates=False, connectivity="B",
                  state_bound=bound, seed=0, on_divergence=policy)
    params.update(kw)
    m = OnlineLSTM(n_in, 1, 1, 1, **params)
    w = m.get_weights()
    m.set_weights(W_in=np.full(w["W_in"].shape, 5.0), W_c=np.full(w["W_c"].shape, 5.0))
    return m


X = np.ones((30, 1))
Y = np.full((30, 1), 0.5)


# ---------------------------------------------------------------------------
# widen: the record of the last divergence must stay usable
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("max_delay", [0, 2])
@pytest.mark.parametrize("sizes", [dict(n_in=3), dict(n_out=2), dict(n_in=2, n_out=3)])
def test_a_widened_learner_can_go_back_to_the_state_before_its_last_divergence(sizes, max_delay):
    m = drifting("reset", max_delay=max_delay)
    m.learn_many(X[:15], Y[:15])
    assert m.n_divergences_ == 1
    err = m.last_divergence_
    w = widen(m, rng=5, **sizes)
    # what widening the learner as it was before the event gives, new weights alike
    twin = OnlineLSTM(**m.get_params())
    twin.load_state_arrays(err.state)
    expect = widen(twin, rng=5, **sizes).state_arrays()
    w.load_state_arrays(w.last_divergence_.state)  # refused: state of the narrow learner
    assert same_state(w.state_arrays(), expect)
    assert (w.last_divergence_.step, w.last_divergence_.row) == (err.step, err.row)
    assert m.last_divergence_ is err and m.last_divergence_.state["theta"].shape == (m.n_params,)


# ---------------------------------------------------------------------------
# the experiment runner: a diverged trial is recorded where it diverged
# ---------------------------------------------------------------------------


def test_a_diverged_trial_counts_the_steps_and_sequences_it_learned():
    """A divergence inside a training chunk: the rows before it were learned
    (learn_many keeps them), and the trial's counters, from which the record's
    ``steps`` and ``sequences`` come, must say so.  They counted none of the
    chunk."""
    from online_lstm.experiments import Trial
    from online_lstm.presets import PRESETS

    p = PRESETS["3a-T100-N1"]
    t = Trial(p, 0, 0)
    t.m.state_bound = 3.0  # passed after some sequences of this stream
    batch = p.make_task(seed=[0, 1]).sample(40)
    with pytest.raises(DivergenceError) as err:
        t.train(batch)
    row = err.value.row
    assert row == t.m.n_steps_ == err.value.step > batch.ends[2]
    assert t.steps == row
    # every sequence starts with a reset; the one of the refused row is not done
    assert t.seen == t.m.n_resets_ - 1 > 2
    assert batch.ends[t.seen - 1] < row <= batch.ends[t.seen]


@pytest.mark.parametrize("preset_id", ["3a-T100-N1", "2c-5"])
def test_a_trial_that_diverges_is_recorded_as_diverged_where_it_did(preset_id):
    """lr=1e200: the first update passes the magnitude limit.  The trial ends
    as a record (not an exception) whose steps are the learner's."""
    from online_lstm.experiments import run_trial
    from online_lstm.presets import PRESETS

    rec, m = run_trial(PRESETS[preset_id].with_options(lr=1e200, limit=50), 0, 0,
                       return_learner=True)
    assert rec["success"] is False and rec["reason"].startswith("diverged: divergence at step ")
    step = int(rec["reason"].split("at step ")[1].split()[0])
    assert rec["steps"] == m.n_steps_ == step > 0
    assert rec["sequences"] == m.n_resets_ - 1


def test_a_river_model_can_go_back_to_the_state_before_a_divergence_after_new_classes():
    """A River adapter widens its learner for every new feature and class;
    the record of the last divergence must survive that (see widen)."""
    pytest.importorskip("river")
    from online_lstm.river import LSTMClassifier

    model = LSTMClassifier(n_blocks=1, block_size=1, seed=0, state_bound=6.0, h="id", g="g1",
                           on_divergence="reset")
    w = model.learner_.get_weights()
    model.learner_.set_weights(W_in=np.full(w["W_in"].shape, 5.0))
    t = 0
    while model.learner_.n_divergences_ == 0:
        model.learn_one({"a": 1.0}, "c0")
        t += 1
        assert t < 100
    err = model.learner_.last_divergence_
    narrow = OnlineLSTM(**model.learner_.get_params())
    narrow.load_state_arrays(err.state)  # the state before the event, as it was kept
    model.learn_one({"a": 1.0, "b": 0.5}, "c1")  # a new feature and a new class: widened
    learner = model.learner_
    assert learner.n_divergences_ == 1 and learner.layout.n_out == 2 and learner.layout.n_in == 2
    learner.load_state_arrays(learner.last_divergence_.state)  # refused: the narrow state
    assert learner.n_steps_ == err.step == narrow.n_steps_
    assert np.array_equal(learner.state_["s_c"], narrow.state_["s_c"])
    assert np.array_equal(learner.get_weights()["W_k"][0], narrow.get_weights()["W_k"][0])


def test_a_frozen_test_that_diverges_counts_only_the_steps_it_took():
    from online_lstm.experiments import Trial
    from online_lstm.presets import PRESETS

    p = PRESETS["3a-T100-N1"]
    t = Trial(p, 0, 0)
    t.m.state_bound = 2.0
    batch = p.make_task(seed=[0, 1]).sample(40)
    with pytest.raises(DivergenceError) as err:
        t.predict(batch)
    assert 0 < err.value.row < len(batch.X)
    assert t.steps == err.value.row == t.m.n_steps_


# ---------------------------------------------------------------------------
# the bank and the competitors keep the same promises
# ---------------------------------------------------------------------------


def test_a_bank_reports_each_diverging_learner_where_a_separate_learner_would():
    from online_lstm import LearnerBank
    from online_lstm.bank import BankDivergenceError

    N, T = 4, 30
    b = LearnerBank(N, 1, 1, 1, 1, bias="none", h="id", g="g1", output_gates=False,
                    connectivity="B", seed=0, state_bound=[1e6, 10.0, 1e6, 5.0])
    w = b.get_weights()
    b.set_weights(W_in=np.full(w["W_in"].shape, 5.0), W_c=np.full(w["W_c"].shape, 5.0))
    single = [b.learner(i) for i in range(N)]
    Xb, Yb = np.ones((N, T, 1)), np.full((N, T, 1), 0.5)
    r = np.zeros((N, T), bool)
    r[1, 3] = r[3, 8] = r[0, 29] = True
    with pytest.raises(BankDivergenceError) as err:
        b.learn_many(Xb, Yb, r)
    expect = {}
    for i, m in enumerate(single):
        try:
            m.learn_many(Xb[i], Yb[i], r[i])
        except DivergenceError as e:
            expect[i] = (e.step, e.row)
        assert same_state(m.state_arrays(), b.learner(i).state_arrays())
    e = err.value
    assert sorted(expect) == e.learners.tolist() and len(expect) == 2
    assert [expect[i] for i in e.learners] == list(zip(e.step.tolist(), e.row.tolist()))
    for i, row in zip(e.learners, e.row):
        assert np.all(np.isnan(e.out[i, row:])) and not np.any(np.isnan(e.out[i, :row]))


@pytest.mark.parametrize("kind", ["RTRL", "BPTT", "BPTT3"])
def test_a_competitor_refuses_a_diverging_step_and_keeps_its_state(kind):
    from online_lstm.baselines import BPTT, RTRL

    def make():
        m = {"RTRL": lambda: RTRL(3, 2, 3, init_range=1.0, seed=1),
             "BPTT": lambda: BPTT(3, 2, 3, init_range=1.0, seed=1),
             "BPTT3": lambda: BPTT(3, 2, 3, init_range=1.0, seed=1, window=3)}[kind]()
        m.set_weights({k: v * 1e120 for k, v in m.get_weights().items()})
        return m

    rng = np.random.default_rng(0)
    Xc, Yc = rng.uniform(-1, 1, (40, 3)), rng.uniform(0, 1, (40, 2))
    Xc[25:] *= 1e200  # times weights of ~1e120: net inputs overflow
    resets = np.zeros(40, bool)
    resets[::7] = True
    m = make()
    with pytest.raises(DivergenceError) as err:
        m.learn_many(Xc, Yc, resets)
    assert (err.value.step, err.value.row) == (25, 25)
    twin = make()
    twin.learn_many(Xc[:25], Yc[:25], resets[:25])
    assert same_state(m.state_arrays(), twin.state_arrays())
    before = twin.state_arrays()
    with pytest.raises(DivergenceError) as err:
        twin.predict_one(Xc[25])
    assert err.value.step == 25 and same_state(before, twin.state_arrays())


# ---------------------------------------------------------------------------
# a reset inside learn_many / predict_many that is refused (update="sequence")
# ---------------------------------------------------------------------------
_pushed = pushed_for_reset


@pytest.mark.parametrize("policy", ["raise", "reset"])
@pytest.mark.parametrize("learn", [True, False])
def test_a_refused_reset_in_learn_many_is_named_as_such(policy, learn):
    """It said "divergence at step 2 (row 2) ... The step was not applied"
    (and, with on_divergence="reset", that the policy's reset failed too):
    it was the reset before row 2, which reset() reports as "reset refused"."""
    m, ref = _pushed(), _pushed()
    m.on_divergence = policy
    X, Y = np.full((3, 1), 0.5), np.array([[1.0], [np.nan], [0.5]])
    (ref.learn_many if learn else ref.predict_many)(*((X[:2], Y[:2]) if learn else (X[:2],)))
    with pytest.raises(DivergenceError) as err:
        if learn:
            m.learn_many(X, Y, resets=[False, False, True])
        else:
            m.predict_many(X, resets=[False, False, True])
    assert str(err.value).startswith("reset refused at row 2: applying the weight changes "
                                     "accumulated over the sequence (update='sequence') failed")
    assert str(err.value).endswith("Rows before 2 were applied; the reset and row 2 were not.")
    assert (err.value.step, err.value.row) == (2, 2)
    a, b = m.state_arrays(), ref.state_arrays()
    assert all(np.array_equal(a[k], b[k]) for k in a)  # rows 0, 1 applied; nothing else
    assert (m.n_resets_, m.seq_step_, m.n_divergences_) == (0, 2, 0)
    with pytest.raises(DivergenceError, match=r"^reset refused: applying"):
        m.reset()


def test_a_step_refused_right_after_a_reset_is_still_a_step_divergence():
    """The reset at row 1 is made (n_resets_ counts it); the step after it
    is what diverges, and is reported as before."""
    m = OnlineLSTM(1, 1, 1, 1, seed=0, lr=1e300)
    with pytest.raises(DivergenceError, match=r"^divergence at step 1 \(row 1\)") as err:
        m.learn_many(np.full((2, 1), 0.5), np.ones((2, 1)) * [[np.nan], [1.0]], resets=[False, True])
    assert err.value.row == 1 and m.n_resets_ == 1


def test_a_state_with_a_pending_step_but_no_step_since_the_reset_is_refused():
    """A reset ends the pending step, so no learner holds this state; it was
    accepted, and learn_last then counted an update for a step that did not
    exist (n_updates_ 3 -> 4)."""
    from online_lstm import InputError
    from online_lstm.layout import M_PENDING
    m = OnlineLSTM(2, 1, seed=0)
    m.learn_many(np.ones((3, 2)), np.ones((3, 1)))
    m.reset()
    s = m.state_arrays()
    s["header"][M_PENDING] = 1.0
    b = OnlineLSTM(2, 1, seed=0)
    before = b.state_arrays()
    with pytest.raises(InputError, match="pending step only after a step since the reset"):
        b.load_state_arrays(s)
    assert same_state(before, b.state_arrays())
    m.predict_one(np.ones(2))  # one step since the reset: its pending flag loads
    b.load_state_arrays(m.state_arrays())
    assert b.pending_ and b.seq_step_ == 1


def test_a_refused_reset_after_a_divergence_the_policy_handled_is_named_as_such(monkeypatch):
    """With on_divergence="reset", a reset refused later in the same
    learn_many (after a first divergence that the policy handled) was taken
    for a step divergence, and the policy was applied to it.  The kernel's
    answers are scripted here: row 0 diverges (the policy resets and retries
    it), then the reset before row 3 is refused (no reset counted)."""
    import online_lstm.learner as L

    m = OnlineLSTM(1, 1, 1, 1, seed=0, update="sequence", on_divergence="reset")
    div = next(iter(L._DIVERGENCE_REASONS))
    answers = iter([(div, 0), (div, 3)])  # first call: row 0; the retry piece: its row 3
    monkeypatch.setattr(L._k, "run", lambda *args: next(answers))
    with pytest.raises(DivergenceError, match=r"^reset refused at row 3: ") as err:
        m.learn_many(np.full((8, 1), 0.5), np.full((8, 1), np.nan),
                     resets=[False, False, False, True, False, False, False, False])
    assert err.value.row == 3
    assert m.n_divergences_ == 1  # the first event, handled by the policy
