"""Third audit of the learner bank (branch audit of g_bank3): every public
method against N separate OnlineLSTM learners, serial and threaded, and the
messages and all-or-nothing promises of each refused call."""

import re

import numpy as np
import pytest

from online_lstm import InputError, OnlineLSTM
from online_lstm.bank import BankDivergenceError, LearnerBank


def state_bits(bank):
    return {k: v.copy() for k, v in bank.state_arrays().items()}


def unchanged(bank, before):
    after = bank.state_arrays()
    return all(np.array_equal(before[k], after[k], equal_nan=True) for k in before)


def sequence_bank(n, refuser, parallel=False):
    """update="sequence" bank whose learner ``refuser`` refuses its next reset
    (applying its accumulated update overflows), as test_bank makes one."""
    lr = np.full(n, 0.1)
    lr[refuser] = 1e149
    bank = LearnerBank(n, 3, 2, 2, 2, seed=1, parallel=parallel, update="sequence", lr=lr)
    b_in = bank.get_weights()["b_in"]
    b_in[refuser] = 9.9999e149
    bank.set_weights(b_in=b_in)
    bank.learn_many(np.ones((n, 5, 3)), np.zeros((n, 5, 2)))
    return bank


# ---------------------------------------------------------------------------
# divergence messages say what the call did to the learners it did not name
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("parallel", [False, True])
def test_a_refused_reset_of_selected_learners_does_not_say_all_others_were_reset(parallel):
    """reset(learners=[0, 1]) with learner 1 refusing said "all others were
    reset": learners 2 and 3 were not selected and were not reset."""
    bank = sequence_bank(4, refuser=1, parallel=parallel)
    with pytest.raises(BankDivergenceError) as err:
        bank.reset([0, 1])
    assert bank.n_resets_.tolist() == [1, 0, 0, 0]
    msg = str(err.value)
    assert err.value.learners.tolist() == [1]
    assert "all others were reset" not in msg
    assert "all others selected were reset; learners [2, 3], not selected, were left alone" in msg
    # every learner selected: "all others" is right
    bank = sequence_bank(3, refuser=2, parallel=parallel)
    with pytest.raises(BankDivergenceError, match="all others were reset.$"):
        bank.reset()
    assert bank.n_resets_.tolist() == [1, 1, 0]


@pytest.mark.parametrize("max_delay", [0, 2])
def test_a_refused_late_update_does_not_say_that_learners_without_a_target_learned(max_delay):
    bank = LearnerBank(3, 2, 1, n_blocks=2, seed=0, parallel=False, max_delay=max_delay)
    bank.predict_many(np.ones((3, 4, 2)))
    bank.lr = [0.1, 1e300, 0.1]  # learner 1's update overflows
    theta = bank.theta_
    with pytest.raises(BankDivergenceError) as err:
        bank.learn_last(np.array([0.9, 0.9, np.nan]))
    msg = str(err.value)
    assert "all others learned" not in msg
    assert "all others given a target learned; learners [2], without one (all NaN), were left alone" in msg
    assert bank.n_updates_.tolist() == [1, 0, 0] and bank.pending_.tolist() == [False, True, True]
    assert np.array_equal(bank.theta_[1:], theta[1:])


# ---------------------------------------------------------------------------
# from_learners names the learner that does not fit
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("kw, says", [(dict(n_blocks=3), "n_blocks=3 (learners[0]'s: 2)"),
                                      (dict(update="sequence"), "update='sequence' (learners[0]'s: 'step')"),
                                      (dict(init_range=0.3), "init_range=0.3 (learners[0]'s: 0.1)")])
def test_from_learners_names_the_learner_that_differs_from_the_first(kw, says):
    """The message was set_learner's ("set_learner needs an OnlineLSTM of this
    bank's architecture; the learner has ...", or "learner has update=...;
    this bank has ..."): a call the caller never made, and no index."""
    ms = [OnlineLSTM(2, 1, 2, seed=0), OnlineLSTM(2, 1, 2, seed=1), OnlineLSTM(2, 1, **{"n_blocks": 2, **kw}, seed=2)]
    with pytest.raises(InputError) as err:
        LearnerBank.from_learners(ms)
    msg = str(err.value)
    assert msg.startswith("from_learners needs learners of one architecture") and "set_learner" not in msg
    assert msg.endswith(f"learners[2] has {says}")
    with pytest.raises(ValueError, match=r"learners\[1\] is str"):
        LearnerBank.from_learners([ms[0], "x"])
    bank = LearnerBank(2, 2, 1, 2, seed=0)  # set_learner says it in its own words
    with pytest.raises(InputError, match=r"^set_learner needs .*; the learner has " + re.escape(says).replace(
            "learners\\[0\\]'s", "the bank's")):
        bank.set_learner(1, ms[2])


# ---------------------------------------------------------------------------
# reset(learners=...): every way of selecting learners
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("parallel", [False, True])
def test_reset_selections_reset_exactly_the_learners_named(parallel):
    N = 5
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (N, 3, 2))
    cases = [([1, 1], {1}), ([-1], {4}), (np.array([3, -5], dtype=np.int8), {0, 3}),
             (np.array([2], dtype=np.uint64), {2}), (np.int64(2), {2}), (3, {3}),
             ([True, False, True, False, False], {0, 2}), (np.zeros(N, dtype=bool), set()),
             ([], set()), ((0, 4), {0, 4}), (range(2), {0, 1})]
    for sel, want in cases:
        bank = LearnerBank(N, 2, 1, 2, seed=0, parallel=parallel, update="sequence")
        ms = [bank.learner(i) for i in range(N)]
        bank.predict_many(X)
        bank.reset(sel)
        for i, m in enumerate(ms):
            m.predict_many(X[i])
            if i in want:
                m.reset()
            got, ref = bank.learner(i).state_arrays(), m.state_arrays()
            assert all(np.array_equal(got[k], ref[k]) for k in ref), (sel, i)
        assert set(np.flatnonzero(bank.n_resets_)) == want, sel


@pytest.mark.parametrize("sel, says", [
    ([True, 0, 1, 0], "mixes bools and ints"),  # NumPy would read it as the indices [1, 0, 1, 0]
    ([0, False], "mixes bools and ints"),
    ([5], r"indices in \[0, 4\) \(or from -4, counting from the end\); got \[5\]"),
    ([-5], r"got \[-5\]"), ([1.0], r"got \[1.0\]"), ([[1]], r"got \[\[1\]\]"),
    (np.array([2**63], dtype=np.uint64), "learner indices"), ("a", "got 'a'"),
    ([True, False], r"^learners must be a boolean mask of shape \(4,\)"), (np.True_, "^learners must"),
    ({1, 2}, "learners must")])
def test_a_bad_reset_selection_is_refused_naming_learners_and_changes_nothing(sel, says):
    bank = LearnerBank(4, 2, 1, seed=0, parallel=False)
    bank.predict_many(np.ones((4, 2, 2)))
    before = state_bits(bank)
    with pytest.raises(InputError, match=says):
        bank.reset(sel)
    assert unchanged(bank, before)


# ---------------------------------------------------------------------------
# per-learner hyper-parameters: the refusal says which learner has what
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name, value, says", [
    ("lr", [0.1, np.nan, -1.0], "lr must be a finite number >= 0 for every learner; learner 1 has nan, "
                                "learner 2 has -1.0"),
    ("lr", [0.1, 0.2, np.inf], "learner 2 has inf"),
    ("lr", -1.0, "lr must be a finite number >= 0 for every learner; got -1.0"),
    ("state_bound", [1.0, 0.0, 1.0], r"state_bound must be > 0 \(math.inf allowed\) for every learner; "
                                     r"learner 1 has 0.0"),
    ("state_bound", np.array([2.0, 2.0, -3]), "learner 2 has -3.0"),
    ("state_bound", np.nan, "every learner; got nan")])
def test_a_refused_per_learner_value_names_the_learner_and_the_value(name, value, says):
    """The message was only "lr must be finite and >= 0 for every learner"."""
    bank = LearnerBank(3, 2, 1, seed=0, lr=[0.1, 0.2, 0.3], state_bound=[5.0, 6.0, 7.0])
    before = state_bits(bank)
    with pytest.raises(ValueError, match=says):
        setattr(bank, name, value)
    assert unchanged(bank, before)
    if np.ndim(value):  # the constructor says the same (a single value is the prototype's to refuse)
        with pytest.raises(ValueError, match=says):
            LearnerBank(3, 2, 1, seed=0, **{name: value})


# ---------------------------------------------------------------------------
# refused input: the message names entries of the array the caller gave
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("call", ["learn_one", "predict_one", "learn_many", "predict_many"])
@pytest.mark.parametrize("squeezed", [False, True])
def test_a_non_finite_input_is_named_by_its_index_in_the_array_given(call, squeezed, parallel):
    """With one input, X may come without its input axis ((N,) or (N, T));
    the message named X[1, 0] (or X[1, 2, 0]), an entry that array does not have."""
    bank = LearnerBank(3, 1, 1, 2, seed=0, parallel=parallel)
    bank.predict_many(np.ones((3, 2, 1)))
    many = call.endswith("many")
    X = np.full((3, 4, 1) if many else (3, 1), 0.5)
    X[(1, 2, 0) if many else (1, 0)] = np.nan
    X[(2, 3, 0) if many else (2, 0)] = np.inf  # a later learner: the first is named
    if squeezed:
        X = X[..., 0]
    out = np.full((3, 4, 1) if many else (3, 1), 7.0)
    args = (X, np.zeros((3, 4, 1)) if many else np.zeros((3, 1))) if call.startswith("learn") else (X,)
    before = state_bits(bank)
    with pytest.raises(InputError) as err:
        getattr(bank, call)(*args, out=out)
    where = "[1, 2]" if many else "[1]"
    entry = where if squeezed else where[:-1] + ", 0]"
    assert str(err.value).startswith(f"X{where} must be finite: NaN or inf in the input of learner 1 "
                                     f"(X{entry} = nan). No learner was changed;")
    assert unchanged(bank, before) and np.all(out == 7.0)
