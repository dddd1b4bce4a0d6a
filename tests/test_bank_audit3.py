"""Third audit of the learner bank (branch audit of g_bank3): every public
method against N separate OnlineLSTM learners, serial and threaded, and the
messages and all-or-nothing promises of each refused call."""

import re

import numpy as np
import pytest

from online_lstm import DivergenceError, InputError, OnlineLSTM
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


# ---------------------------------------------------------------------------
# every method, every option, N = 1 and 64, serial and threaded: the bits of
# N separate learners
# ---------------------------------------------------------------------------
BASE = dict(n_in=3, n_out=2, n_blocks=2, block_size=2)
OPTIONS = {"plain": {}, "fg": dict(forget_gate=True), "ph": dict(peepholes=True),
           "fg+ph": dict(forget_gate=True, peepholes=True), "delay": dict(max_delay=3),
           "sequence": dict(update="sequence"), "B": dict(connectivity="B", bias="all"),
           "all": dict(forget_gate=True, peepholes=True, max_delay=2, update="sequence", connectivity="B")}


def assert_same_learners(bank, ms):
    for i, m in enumerate(ms):
        got, want = bank.learner(i).state_arrays(), m.state_arrays()
        for k in want:
            assert np.array_equal(got[k].view(np.uint64), want[k].view(np.uint64)), (i, k)
    for name in ("n_steps_", "n_updates_", "n_resets_", "seq_step_", "pending_"):
        assert getattr(bank, name).tolist() == [getattr(m, name) for m in ms], name


def drive(bank, ms, rng, steps):
    """A random mix of every stepping call, the same data to the bank and to
    each separate learner."""
    lay, N = bank.layout, bank.n_learners
    D = lay.max_delay
    used = set()
    for _ in range(steps):
        op = int(rng.integers(0, 8))
        X = rng.uniform(-1, 1, (N, lay.n_in))
        Y = rng.uniform(-1, 1, (N, lay.n_out))
        Y[rng.random(Y.shape) < 0.3] = np.nan
        R = rng.random(N) < 0.1
        if op in (0, 1, 2):
            if op == 0:
                o = bank.learn_one(X, Y, R)
            elif op == 1:
                o = bank.learn_one(X, None)
            else:
                o = bank.predict_one(X, R)
            for i, m in enumerate(ms):
                if R[i] and op != 1:
                    m.reset()
                want = (m.learn_one(X[i], Y[i]) if op == 0 else m.learn_one(X[i], None) if op == 1
                        else m.predict_one(X[i]))
                assert np.array_equal(o[i], want)
            if op == 2:  # learn_last for the learners given a target
                Y[rng.random(N) < 0.3] = np.nan
                has = ~np.all(np.isnan(Y), axis=1)
                bank.learn_last(Y)
                for i in np.flatnonzero(has):
                    ms[i].learn_last(Y[i])
                used.add("learn_last")
        elif op in (3, 4):
            T = int(rng.integers(0, 6))
            XX = rng.uniform(-1, 1, (N, T, lay.n_in))
            YY = rng.uniform(-1, 1, (N, T, lay.n_out))
            YY[rng.random(YY.shape) < 0.3] = np.nan
            RR = rng.random((N, T)) < 0.1
            o = bank.learn_many(XX, YY, RR) if op == 3 else bank.predict_many(XX, RR)
            for i, m in enumerate(ms):
                want = m.learn_many(XX[i], YY[i], RR[i]) if op == 3 else m.predict_many(XX[i], RR[i])
                assert np.array_equal(o[i], want)
        elif op == 5:
            sel = rng.random(N) < 0.3
            bank.reset(sel if rng.random() < 0.5 else np.flatnonzero(sel))
            for i in np.flatnonzero(sel):
                ms[i].reset()
        elif op == 6 and D and bank.n_steps_.all():  # (open_targets: every learner has a step)
            age = rng.integers(0, D + 1, N)
            ok = age <= np.minimum(D, bank.n_steps_ - 1)
            open_ = bank.open_targets(np.where(ok, age, 0))
            for i in np.flatnonzero(ok):
                assert np.array_equal(open_[i], ms[i].open_targets(int(age[i])))
            Y[~ok] = np.nan
            Y[~open_] = np.nan
            bank.learn_delayed(Y, age)
            for i in np.flatnonzero(~np.all(np.isnan(Y), axis=1)):
                ms[i].learn_delayed(Y[i], int(age[i]))
                used.add("learn_delayed")
        assert_same_learners(bank, ms) if N < 10 else None
    return used


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("n", [1, 64])
@pytest.mark.parametrize("option", list(OPTIONS))
def test_every_method_gives_the_bits_of_separate_learners(option, n, parallel):
    rng = np.random.default_rng([n, len(option)])
    bank = LearnerBank(n, **BASE, **OPTIONS[option], init_range=0.5, seed=n, parallel=parallel,
                       lr=rng.uniform(0.05, 0.5, n))
    ms = [bank.learner(i) for i in range(n)]
    used = drive(bank, ms, rng, 60 if n == 1 else 25)
    assert_same_learners(bank, ms)
    assert "learn_last" in used and ("learn_delayed" in used or not bank.max_delay)
    state = bank.state_
    for i, m in enumerate(ms):
        for k, v in m.state_.items():
            assert np.array_equal(state[k][i], v), k
    w = bank.get_weights()
    for i in (0, n - 1):
        for k, v in ms[i].get_weights().items():
            assert np.array_equal(w[k][i], v) and np.array_equal(bank.weights[k][i], v), k


@pytest.mark.parametrize("option", ["plain", "all"])
def test_threaded_and_serial_banks_keep_the_same_bits_call_by_call(option):
    """The same calls to a serial and a threaded bank: the same outputs and
    memory after every call (not only at the end)."""
    rng = np.random.default_rng(7)
    kw = dict(**BASE, **OPTIONS[option], init_range=0.5, seed=3, lr=0.3)
    a, b = LearnerBank(64, **kw, parallel=False), LearnerBank(64, **kw, parallel=True)
    for t in range(30):
        X = rng.uniform(-1, 1, (64, 4, 3))
        Y = np.where(rng.random((64, 4, 2)) < 0.3, np.nan, rng.uniform(-1, 1, (64, 4, 2)))
        R = rng.random((64, 4)) < 0.1
        calls = [lambda bank: bank.learn_many(X, Y, R), lambda bank: bank.predict_one(X[:, 0], R[:, 0]),
                 lambda bank: bank.learn_last(Y[:, 0]), lambda bank: bank.reset(R[:, 1]),
                 lambda bank: bank.learn_one(X[:, 1], Y[:, 1]), lambda bank: bank.predict_many(X, R)]
        if a.max_delay:
            calls.append(lambda bank: bank.learn_delayed(np.where(bank.open_targets(1), Y[:, 2], np.nan), 1))
        call = calls[t % len(calls)]
        if call is calls[2] and not a.pending_.all():
            continue
        ra, rb = call(a), call(b)
        assert (ra is None and rb is None) or np.array_equal(ra, rb)
        assert np.array_equal(a._mems.view(np.uint64), b._mems.view(np.uint64)), t


# ---------------------------------------------------------------------------
# divergence: each learner stops where a separate learner would, threaded too
# ---------------------------------------------------------------------------
def staggered_bank(parallel):
    """Learners 1, 3 and 4 diverge at steps 10, 30 and 5 (s_c passes their
    state bounds); 0, 2 and 5 never do."""
    bank = LearnerBank(6, 1, 1, 1, 1, bias="none", h="id", g="g1", output_gates=False, connectivity="B",
                       state_bound=[1e6, 10.0, 1e6, 30.0, 5.0, 1e6], seed=[0] * 6, parallel=parallel)
    W = bank.get_weights()
    bank.set_weights(W_in=np.full_like(W["W_in"], 5.0), W_c=np.full_like(W["W_c"], 5.0))
    return bank


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("call", ["learn_many", "predict_many", "learn_one", "predict_one"])
def test_divergence_stops_each_learner_where_a_separate_learner_stops(call, parallel):
    bank = staggered_bank(parallel)
    ms = [bank.learner(i) for i in range(6)]
    X, Y = np.ones((6, 40, 1)), np.full((6, 40, 1), 0.5)
    many = call.endswith("many")
    got, want = {}, {}
    for t in range(1 if many else 40):
        args = ((X, Y) if many else (X[:, t], Y[:, t])) if call.startswith("learn") else \
            ((X,) if many else (X[:, t],))
        try:
            getattr(bank, call)(*args)
        except BankDivergenceError as e:
            assert "all others took their steps" in str(e)
            for l, step, row in zip(e.learners.tolist(), e.step.tolist(), e.row.tolist()):
                got.setdefault(l, (step, row))
        for i, m in enumerate(ms):
            try:
                getattr(m, call)(*(a[i] for a in args))
            except DivergenceError as e:
                want.setdefault(i, (e.step, e.row or 0))
    assert got == want and sorted(got) == [1, 3, 4]
    assert [s for s, _ in (got[1], got[3], got[4])] == [10, 30, 5]
    assert_same_learners(bank, ms)


# ---------------------------------------------------------------------------
# copies of a bank continue as the bank does
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("n", [1, 64])
def test_every_copy_of_a_bank_with_every_option_continues_bit_identically(n, parallel, tmp_path):
    """pickle, deepcopy, save/load, restore and load_state_arrays of a bank
    with forget gates, peepholes, update="sequence" and late targets
    outstanding (max_delay), into banks of the other threading mode too."""
    import copy
    import pickle

    rng = np.random.default_rng(n)
    kw = dict(n_in=2, n_out=2, n_blocks=2, block_size=2, max_delay=3, forget_gate=True, peepholes=True,
              update="sequence")
    bank = LearnerBank(n, **kw, seed=3, parallel=parallel, lr=rng.uniform(0.1, 0.3, n))
    bank.predict_many(rng.uniform(-1, 1, (n, 7, 2)), rng.random((n, 7)) < 0.2)
    bank.learn_delayed(np.where(rng.random((n, 2)) < 0.5, np.nan, 0.3), rng.integers(0, 4, n))
    path = bank.save(tmp_path / "b.npz", fsync=False)
    restored = LearnerBank(n, **kw, seed=9, parallel=not parallel)
    restored.restore(path)
    loaded = LearnerBank(n, **kw, seed=5, parallel=not parallel)
    loaded.load_state_arrays(bank.state_arrays())
    copies = [pickle.loads(pickle.dumps(bank)), copy.deepcopy(bank), LearnerBank.load(path), restored, loaded]
    X, Y = rng.uniform(-1, 1, (n, 5, 2)), rng.uniform(-1, 1, (n, 5, 2))
    R = rng.random((n, 5)) < 0.2
    late = np.where(bank.open_targets(0), 0.1, np.nan)
    results = []
    for b in [bank] + copies:
        b.learn_delayed(late, 0)
        out = b.learn_many(X, Y, R)
        b.reset(np.arange(n) % 2 == 0)
        results.append((out, b.state_arrays()))
    for out, state in results[1:]:
        assert np.array_equal(out.view(np.uint64), results[0][0].view(np.uint64))
        for k, v in results[0][1].items():
            assert np.array_equal(state[k].view(np.uint64), v.view(np.uint64)), k


# ---------------------------------------------------------------------------
# per-learner ages
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("age", [[0, True, 1], (np.False_, 1, 1), [1, 1, np.True_], True, np.array([0, 1, 1]) > 0])
@pytest.mark.parametrize("call", ["learn_delayed", "open_targets"])
def test_a_bool_among_the_ages_is_refused_not_read_as_an_int(call, age):
    """learn_delayed(Y, [0, True, 1]) took True for age 1 (NumPy makes the
    list the ints [0, 1, 1]), where the single learner refuses age=True and
    the bank refuses an all-bool list."""
    bank = LearnerBank(3, 2, 1, seed=0, max_delay=2, parallel=False)
    bank.predict_many(np.ones((3, 3, 2)))
    before = state_bits(bank)
    with pytest.raises(InputError, match=f"{call}: age must be an int or 3 ints .one per learner; no bools."):
        bank.learn_delayed(np.full(3, 0.5), age) if call == "learn_delayed" else bank.open_targets(age)
    assert unchanged(bank, before)
    with pytest.raises(InputError, match="age must be an integer"):
        bank.learner(1).learn_delayed(0.5, True)


@pytest.mark.parametrize("age", [[0, 1, 2], (np.int8(0), np.int64(1), 2), np.array([0, 1, 2], dtype=np.uint16),
                                 range(3)])
def test_per_learner_ages_of_any_int_type_give_the_separate_learners_bits(age):
    bank = LearnerBank(3, 2, 1, seed=0, max_delay=2, parallel=False)
    ms = [bank.learner(i) for i in range(3)]
    X = np.random.default_rng(0).uniform(-1, 1, (3, 4, 2))
    bank.predict_many(X)
    bank.learn_delayed(np.array([0.1, 0.2, 0.3]), age)
    for i, m in enumerate(ms):
        m.predict_many(X[i])
        m.learn_delayed(0.1 * (i + 1), i)
    assert_same_learners(bank, ms)


def test_a_list_of_numpy_ints_of_mixed_types_is_read_as_ints():
    """[np.int8(0), np.uint64(1), 2] became a float64 array (NumPy's type
    promotion of int8 with uint64), which learn_delayed, open_targets and
    reset then refused as "not ints"."""
    mixed = (np.int8(0), np.uint64(1), 2)
    bank = LearnerBank(3, 2, 1, seed=0, max_delay=2, parallel=False)
    ms = [bank.learner(i) for i in range(3)]
    X = np.random.default_rng(1).uniform(-1, 1, (3, 4, 2))
    bank.predict_many(X)
    assert bank.open_targets(mixed).all()
    bank.learn_delayed(np.array([0.1, 0.2, 0.3]), mixed)
    bank.reset([np.int8(0), np.uint64(2)])
    for i, m in enumerate(ms):
        m.predict_many(X[i])
        m.learn_delayed(0.1 * (i + 1), i)
        if i != 1:
            m.reset()
    assert_same_learners(bank, ms)
    before = state_bits(bank)
    for bad in ([np.uint64(2**64 - 1)], [2**64]):  # (still refused as indices out of range)
        with pytest.raises(InputError, match="learner indices"):
            bank.reset(bad)
    with pytest.raises(InputError, match=re.escape("each below 2**63")):
        bank.learn_delayed(np.full(3, 0.5), [0, 2**64, 0])
    assert unchanged(bank, before)
