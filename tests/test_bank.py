"""The learner bank: N learners in one call give the bits of N separate learners."""

import pickle

import numpy as np
import pytest

from online_lstm import DivergenceError, InputError, NoPendingStepError, OnlineLSTM
from online_lstm.bank import BankDivergenceError, LearnerBank

from conftest import ALL_ARCHS, ARCHS, random_stream

N = 5


def streams(rng, n, T, lay):
    """One independent random stream per learner, learner axis first."""
    parts = [random_stream(rng, T, lay.n_in, lay.n_out) for _ in range(n)]
    X, Y, R = (np.stack([p[i] for p in parts]) for i in range(3))
    return X, Y, R


def make_bank(name, seed, n=N, **kw):
    params = dict(ALL_ARCHS[name], init_range=0.6, seed=seed)
    params.update(kw)
    params.setdefault("lr", np.linspace(0.1, 0.5, n))  # one learning rate per learner
    return LearnerBank(n, **params)


def separate(bank):
    return [bank.learner(i) for i in range(bank.n_learners)]


def assert_bank_equals(bank, learners):
    size = bank.layout.mem_size
    for i, m in enumerate(learners):
        assert np.array_equal(bank._mems[i, :size], m._mem, equal_nan=True), f"learner {i}"


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("name", list(ALL_ARCHS))
def test_learn_many_equals_separate_learners_bitwise(name, parallel, seed):
    rng = np.random.default_rng(seed)
    bank = make_bank(name, seed, parallel=parallel)
    ms = separate(bank)
    X, Y, R = streams(rng, N, 200, bank.layout)
    out = bank.learn_many(X, Y, R)
    for i, m in enumerate(ms):
        assert np.array_equal(out[i], m.learn_many(X[i], Y[i], R[i]))
    assert_bank_equals(bank, ms)
    assert not np.array_equal(bank.theta_, make_bank(name, seed).theta_)  # it learned


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("name", ["F-og-all-S3", "B-noog-none-g1-id", "F-og-gates-S1"])
def test_step_by_step_equals_separate_learners_bitwise(name, parallel, seed):
    """learn_one, predict_one + learn_last and per-learner resets, mixed."""
    rng = np.random.default_rng(seed + 1)
    bank = make_bank(name, seed, parallel=parallel)
    ms = separate(bank)
    X, Y, R = streams(rng, N, 120, bank.layout)
    for t in range(X.shape[1]):
        mode = t % 3
        if mode == 0:
            out = bank.learn_one(X[:, t], Y[:, t], R[:, t])
        else:
            out = bank.predict_one(X[:, t], R[:, t])
        for i, m in enumerate(ms):
            if R[i, t]:
                m.reset()
            o = m.learn_one(X[i, t], Y[i, t]) if mode == 0 else m.predict_one(X[i, t])
            assert np.array_equal(out[i], o)
        if mode == 2:
            targets = Y[:, t].copy()
            targets[::2] = np.nan  # learners 0, 2, 4: no target, step stays pending
            bank.learn_last(targets)
            for i, m in enumerate(ms):
                if i % 2:
                    m.learn_last(targets[i])
            assert np.array_equal(bank.pending_, [m.pending_ for m in ms])
        if t % 50 == 49:
            bank.reset([1, 3])
            ms[1].reset()
            ms[3].reset()
    assert_bank_equals(bank, ms)


def test_sequence_update_mode_equals_separate_learners(seed):
    rng = np.random.default_rng(seed + 2)
    bank = make_bank("F-og-hidden-S2", seed, update="sequence")
    ms = separate(bank)
    X, Y, R = streams(rng, N, 150, bank.layout)
    bank.learn_many(X, Y, R)
    bank.reset()
    for i, m in enumerate(ms):
        m.learn_many(X[i], Y[i], R[i])
        m.reset()
    assert_bank_equals(bank, ms)


def test_parallel_and_serial_give_the_same_bits():
    rng = np.random.default_rng(3)
    a = make_bank("F-og-all-S3", 3, n=64, parallel=True)
    b = make_bank("F-og-all-S3", 3, n=64, parallel=False)
    X, Y, R = streams(rng, 64, 40, a.layout)
    assert np.array_equal(a.learn_many(X, Y, R), b.learn_many(X, Y, R))
    assert np.array_equal(a._mems, b._mems, equal_nan=True)  # the staged targets hold NaN


def test_seeds_match_single_learners():
    bank = LearnerBank(4, 3, 2, 2, 2, seed=11)
    assert len(set(bank.seeds_)) == 4
    for i, s in enumerate(bank.seeds_):
        assert np.array_equal(bank.theta_[i], OnlineLSTM(3, 2, 2, 2, seed=s).theta_)
    again = LearnerBank(4, 3, 2, 2, 2, seed=11)
    assert np.array_equal(again.theta_, bank.theta_)
    given = LearnerBank(2, 3, 2, seed=[7, 8])
    assert np.array_equal(given.theta_[1], OnlineLSTM(3, 2, seed=8).theta_)


def test_from_learners_and_set_learner():
    rng = np.random.default_rng(4)
    ms = [OnlineLSTM(**ARCHS["B-og-all-S2"], seed=s, lr=0.2) for s in range(3)]
    for m in ms:  # learners in different states
        X, Y, R = random_stream(rng, 30, m.layout.n_in, m.layout.n_out)
        m.learn_many(X, Y, R)
    bank = LearnerBank.from_learners(ms)
    assert_bank_equals(bank, ms)
    assert bank.seeds_ == [0, 1, 2]
    other = OnlineLSTM(**ARCHS["B-og-all-S2"], seed=9)
    bank.set_learner(1, other)
    assert np.array_equal(bank.learner(1).state_arrays()["theta"], other.theta_)
    with pytest.raises(InputError):
        bank.set_learner(0, OnlineLSTM(**ARCHS["F-og-all-S3"]))
    unseeded = LearnerBank.from_learners([ms[0], OnlineLSTM(**ARCHS["B-og-all-S2"], seed=None)])
    copy = pickle.loads(pickle.dumps(unseeded))
    assert copy.seeds_ == [0, None]
    for k, v in unseeded.state_arrays().items():
        assert np.array_equal(copy.state_arrays()[k], v), k


# ---------------------------------------------------------------------------
# save and inspect: the same surface as a single learner, learner axis first
# ---------------------------------------------------------------------------


def trained_bank(seed=5):
    rng = np.random.default_rng(seed)
    bank = make_bank("F-og-all-S3", seed)
    X, Y, R = streams(rng, N, 60, bank.layout)
    bank.learn_many(X, Y, R)
    bank.predict_one(X[:, 0])
    return bank, rng


def test_state_arrays_roundtrip_continues_bitwise():
    bank, rng = trained_bank()
    snap = bank.state_arrays()
    ms = separate(bank)
    for i, m in enumerate(ms):  # the same arrays as each learner's, stacked
        for k, v in m.state_arrays().items():
            assert np.array_equal(snap[k][i], v), k
    X, Y, R = streams(rng, N, 30, bank.layout)
    first = bank.learn_many(X, Y, R)
    after = bank.state_arrays()
    fresh = make_bank("F-og-all-S3", 99)
    fresh.load_state_arrays(snap)
    assert np.array_equal(fresh.learn_many(X, Y, R), first)
    for k in after:
        assert np.array_equal(fresh.state_arrays()[k], after[k]), k


def test_load_state_arrays_refuses_bad_state_and_changes_nothing():
    bank, _ = trained_bank()
    before = bank._mems.copy()
    snap = bank.state_arrays()
    snap["theta"][3, 0] = np.nan
    with pytest.raises(InputError, match="learner 3"):
        bank.load_state_arrays(snap)
    with pytest.raises(InputError, match="one row per learner"):
        bank.load_state_arrays({k: v[:2] for k, v in bank.state_arrays().items()})
    other = LearnerBank(N, **ARCHS["B-og-all-S2"])
    with pytest.raises(InputError):
        bank.load_state_arrays(other.state_arrays())
    assert np.array_equal(bank._mems, before, equal_nan=True)


def test_pickle_roundtrip():
    bank, rng = trained_bank()
    copy = pickle.loads(pickle.dumps(bank))
    assert copy.seeds_ == bank.seeds_ and copy.get_params()["seed"] == bank.get_params()["seed"]
    X, Y, R = streams(rng, N, 20, bank.layout)
    assert np.array_equal(copy.learn_many(X, Y, R), bank.learn_many(X, Y, R))
    assert np.array_equal(copy._mems, bank._mems, equal_nan=True)


def test_weights_by_name():
    bank, _ = trained_bank()
    ms = separate(bank)
    views = bank.weights
    for name, v in bank.get_weights().items():
        assert v.shape == (N,) + bank.layout.shapes[name]
        assert not views[name].flags.writeable
        for i, m in enumerate(ms):
            assert np.array_equal(v[i], m.get_weights()[name])
            assert np.array_equal(views[name][i], m.weights[name])
    # views follow learning
    w_before = views["W_k"].copy()
    bank.learn_one(np.ones((N, bank.layout.n_in)), np.zeros((N, bank.layout.n_out)))
    assert not np.array_equal(views["W_k"], w_before)


def test_set_weights_per_learner_and_shared():
    bank, _ = trained_bank()
    lay = bank.layout
    per = np.arange(N * lay.n_out * lay.n_ob, dtype=float).reshape((N,) + lay.shapes["W_k"]) / 100
    bank.set_weights(W_k=per, b_k=np.full(lay.shapes["b_k"], 0.25))
    for i in range(N):
        m = bank.learner(i)
        assert np.array_equal(m.get_weights()["W_k"], per[i])
        assert np.all(m.get_weights()["b_k"] == 0.25)
        ref = bank.learner(i)  # the magnitude bound was recomputed as set_weights does
        ref.set_weights(W_k=per[i])
        assert bank._mems[i, 3] == ref._mem[3]
    before = bank._mems.copy()
    with pytest.raises(InputError):
        bank.set_weights(W_k=per, b_k=np.full(lay.shapes["b_k"], np.inf))
    with pytest.raises(InputError):
        bank.set_weights(W_k=per[:2])
    with pytest.raises(InputError):
        bank.set_weights(nope=1.0)
    # a masked entry is a missing value, refused as OnlineLSTM refuses it (not the data under the mask)
    masked = np.ma.masked_array(per.copy(), mask=np.zeros(per.shape, bool))
    masked[1, 0, 0] = np.ma.masked
    with pytest.raises(InputError, match=r"W_k must be finite \(learner 1\)"):
        bank.set_weights(W_k=masked)
    with pytest.raises(InputError, match=r"W_k must be an array of shape"):
        bank.set_weights(W_k=[[1.0, 2.0], [3.0]])  # ragged
    assert np.array_equal(bank._mems, before, equal_nan=True)


def test_ragged_lists_get_the_library_error_and_change_nothing():
    """NumPy's own "inhomogeneous shape" ValueError once escaped from these."""
    bank = LearnerBank(3, 1, 1, n_blocks=1, block_size=1, seed=0, parallel=False)
    bank.predict_one(np.ones(3))
    before = bank._mems.copy()
    ragged = [[1.0], [2.0, 3.0], [4.0]]
    calls = [lambda: bank.learn_one(ragged, None), lambda: bank.learn_many(ragged, np.zeros((3, 1))),
             lambda: bank.predict_one(ragged), lambda: bank.reset(ragged),
             lambda: setattr(bank, "lr", ragged)]
    for call in calls:
        with pytest.raises(InputError, match="must be an array of shape"):
            call()
        assert np.array_equal(bank._mems, before, equal_nan=True)


def test_state_and_counters():
    bank, _ = trained_bank()
    ms = separate(bank)
    st = bank.state_
    for i, m in enumerate(ms):
        for k, v in m.state_.items():
            assert np.array_equal(st[k][i], v), k
    assert np.array_equal(bank.n_steps_, [m.n_steps_ for m in ms])
    assert np.array_equal(bank.n_resets_, [m.n_resets_ for m in ms])
    assert np.array_equal(bank.n_updates_, [m.n_updates_ for m in ms])
    assert np.array_equal(bank.seq_step_, [m.seq_step_ for m in ms])
    assert np.array_equal(bank.pending_, [m.pending_ for m in ms])
    assert np.array_equal(bank.lr, np.linspace(0.1, 0.5, N))
    fresh = bank.clone()  # untrained, same parameters and seeds
    assert np.array_equal(fresh.theta_, make_bank("F-og-all-S3", 5).theta_)
    assert np.array_equal(fresh.lr, bank.lr) and not fresh.n_steps_.any()


# ---------------------------------------------------------------------------
# bad input and divergence
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["nan_x", "inf_y", "x_shape", "y_shape", "resets", "dtype", "out"])
def test_bad_input_changes_no_learner(kind):
    bank, rng = trained_bank()
    lay = bank.layout
    X, Y, R = streams(rng, N, 10, lay)
    out = None
    if kind == "nan_x":
        X[3, 7, 0] = np.nan
    elif kind == "inf_y":
        Y[4, 9, 1] = np.inf
    elif kind == "x_shape":
        X = X[:, :, :-1]
    elif kind == "y_shape":
        Y = Y[:-1]
    elif kind == "resets":
        R = R[:, :-1]
    elif kind == "dtype":
        X = X.astype(complex)
    elif kind == "out":
        out = np.empty((N, 10, lay.n_out + 1))
    before = bank._mems.copy()
    with pytest.raises(InputError) as err:
        bank.learn_many(X, Y, R, out=out)
    if kind == "nan_x":
        assert "X[3, 7]" in str(err.value)
    if kind == "inf_y":
        assert "Y[4, 9]" in str(err.value)
    assert np.array_equal(bank._mems, before, equal_nan=True)
    with pytest.raises(InputError):
        bank.learn_one(np.full((N, lay.n_in), np.nan))
    with pytest.raises(InputError):
        bank.learn_one(np.zeros((N + 1, lay.n_in)))
    assert np.array_equal(bank._mems, before, equal_nan=True)


def test_safe_conversions_are_accepted():
    bank = LearnerBank(3, 2, 1, seed=0)
    a = bank.learn_one(np.ones((3, 2), dtype=np.float32), [0.5, 0.5, np.nan])  # (N,) when K == 1
    b = LearnerBank(3, 2, 1, seed=0).learn_one(np.ones((3, 2)), np.array([[0.5], [0.5], [np.nan]]))
    assert np.array_equal(a, b)
    c = bank.learn_many(np.ones((3, 4, 2), dtype=int), np.zeros((3, 4)))
    assert c.shape == (3, 4, 1)


def test_read_only_and_masked_arrays():
    """Read-only arrays (pandas ``.values``, memory maps) are copied; masked targets are NaN."""
    X = np.random.default_rng(0).random((3, 4, 2))
    Y = np.random.default_rng(1).random((3, 4, 1))
    R = np.zeros((3, 4), dtype=bool)
    R[1, 2] = True
    ro = [a.copy() for a in (X, Y, R)]
    for a in ro:
        a.flags.writeable = False
    a, b = LearnerBank(3, 2, 1, seed=0), LearnerBank(3, 2, 1, seed=0)
    assert np.array_equal(a.learn_many(*ro[:2], resets=ro[2]), b.learn_many(X, Y, resets=R))
    assert np.array_equal(a.learn_one(ro[0][:, 0], ro[1][:, 0], resets=ro[2][:, 2]),
                          b.learn_one(X[:, 0], Y[:, 0], resets=R[:, 2]))
    mask = np.array([[True], [False], [True]])
    assert np.array_equal(a.learn_one(X[:, 1], np.ma.masked_array(Y[:, 1], mask=mask)),
                          b.learn_one(X[:, 1], np.where(mask, np.nan, Y[:, 1])))
    a.reset(ro[2][:, 2])
    b.reset(R[:, 2])
    a.reset([])  # no learner selected: nothing happens
    assert np.array_equal(a._mems, b._mems, equal_nan=True)  # NaN: the masked targets, recorded


def test_hyper_parameter_setters_refuse_text():
    bank = LearnerBank(3, 2, 1, seed=0)
    lr, bound = bank.lr, bank.state_bound
    for attr, value in (("lr", "0.5"), ("lr", ["0.5", "0.1", "0.2"]), ("state_bound", "inf"),
                        ("lr", [1 + 1j, 0, 0]), ("lr", [0.1, 0.2])):
        with pytest.raises(ValueError, match=attr):
            setattr(bank, attr, value)
    assert np.array_equal(bank.lr, lr) and np.array_equal(bank.state_bound, bound)
    bank.lr = [0.5, 1, 2]  # numbers, one per learner
    assert bank.lr.tolist() == [0.5, 1.0, 2.0]


def test_learn_last_needs_a_pending_step_for_every_target():
    bank = LearnerBank(3, 2, 1, seed=0)
    bank.predict_one(np.ones((3, 2)))
    bank.learn_last([[0.5], [np.nan], [0.5]])
    assert bank.pending_.tolist() == [False, True, False]
    before = bank._mems.copy()
    with pytest.raises(NoPendingStepError, match=r"\[0\]"):
        bank.learn_last([[0.5], [0.5], [np.nan]])
    assert np.array_equal(bank._mems, before, equal_nan=True)
    bank.learn_last([[np.nan], [0.5], [np.nan]])
    assert not bank.pending_.any()


def diverging_bank():
    """Learner 1 diverges (s_c runs past its bound); learners 0 and 2 do not."""
    bank = LearnerBank(3, 1, 1, 1, 1, bias="none", h="id", g="g1", output_gates=False,
                       connectivity="B", state_bound=[1e6, 10.0, 1e6], seed=[0, 0, 0])
    W = bank.get_weights()
    bank.set_weights(W_in=np.full_like(W["W_in"], 5.0), W_c=np.full_like(W["W_c"], 5.0))
    return bank


def test_divergence_stops_one_learner_and_the_others_run_on():
    bank = diverging_bank()
    ms = separate(bank)
    X = np.ones((3, 100, 1))
    Y = np.full((3, 100, 1), 0.5)
    with pytest.raises(BankDivergenceError) as err:
        bank.learn_many(X, Y)
    e = err.value
    assert isinstance(e, DivergenceError)
    assert e.learners.tolist() == [1]
    row = int(e.row[0])
    assert 0 < row < 100 and "state_bound" in e.reasons[0]
    assert "hold the state from before their failing step; all others took their steps" in str(e)
    assert np.all(np.isnan(e.out[1, row:])) and not np.any(np.isnan(e.out[1, :row]))
    # learner 1 equals a single learner that hit the same divergence
    with pytest.raises(DivergenceError) as single:
        ms[1].learn_many(X[1], Y[1])
    assert single.value.row == row and single.value.step == e.step[0]
    for i in (0, 2):
        ms[i].learn_many(X[i], Y[i])
    assert_bank_equals(bank, ms)
    # stepping on: learner 1 keeps refusing, the others keep learning
    with pytest.raises(BankDivergenceError) as again:
        bank.learn_one(np.ones((3, 1)), np.full((3, 1), 0.5))
    assert again.value.learners.tolist() == [1]
    assert bank.n_steps_.tolist() == [101, row, 101]


def test_bad_constructor_arguments():
    with pytest.raises(ValueError):
        LearnerBank(0, 2, 1)
    with pytest.raises(ValueError):
        LearnerBank(3, 2, 1, lr=[0.1, 0.2])
    with pytest.raises(ValueError):
        LearnerBank(3, 2, 1, seed=[1, 2])
    with pytest.raises(ValueError):
        LearnerBank(3, 2, 1, parallel="yes")
    with pytest.raises(ValueError, match="raise"):
        LearnerBank(3, 2, 1, on_divergence="reset")
    with pytest.raises(ValueError):
        LearnerBank(3, 2, 1, bias="sometimes")
    for kw in (dict(lr=True), dict(state_bound=True), dict(lr=[0.1, True, 0.1]),
               dict(lr=np.array([True, False, True]))):  # bools refused, as OnlineLSTM refuses lr=True
        with pytest.raises(ValueError, match="one number per learner"):
            LearnerBank(3, 2, 1, **kw)
    for seed in (np.random.default_rng(0), np.random.SeedSequence(0), -1, [1, -2, 3], True,
                 [1, True, 3]):
        with pytest.raises(ValueError, match=r"seed must be None, an int >= 0, or 3 ints"):
            LearnerBank(3, 2, 1, seed=seed)
    bank = LearnerBank(3, 2, 1, n_blocks=2, seed=0)
    before = bank.state_arrays()
    with pytest.raises(InputError, match=r"has n_blocks=3 \(the bank's: 2\)$"):
        bank.set_learner(0, OnlineLSTM(2, 1, n_blocks=3))
    with pytest.raises(InputError, match="on_divergence='raise' only"):
        bank.set_learner(0, OnlineLSTM(2, 1, n_blocks=2, on_divergence="reset"))
    for k, v in before.items():
        np.testing.assert_array_equal(bank.state_arrays()[k], v, err_msg=k)
    bank = LearnerBank(3, 2, 1, seed=0)
    for bad in (3, -4, 1.0, "1", True):
        with pytest.raises(IndexError, match=r"in \[0, 3\) \(or from -3, counting from the end\)"):
            bank.learner(bad)
    np.testing.assert_array_equal(bank.learner(-1).theta_, bank.learner(2).theta_)  # as for a list


def test_bank_divergence_error_pickles_with_its_fields():
    """As a single learner's error does: a bank diverging in a worker process
    must reach the caller as itself, not as an unpickling error."""
    import copy
    bank = diverging_bank()
    with pytest.raises(BankDivergenceError) as err:
        bank.learn_many(np.ones((3, 100, 1)), np.full((3, 100, 1), 0.5))
    for back in (pickle.loads(pickle.dumps(err.value)), copy.deepcopy(err.value)):
        assert type(back) is BankDivergenceError and str(back) == str(err.value)
        assert back.learners.tolist() == [1] and back.step.tolist() == err.value.step.tolist()
        assert back.row.tolist() == err.value.row.tolist() and back.reasons == err.value.reasons
        assert np.array_equal(back.out, err.value.out, equal_nan=True)


@pytest.mark.parametrize("max_delay, age", [(0, 0), (3, 0), (3, 2)])
def test_a_refused_late_target_names_the_step_it_belongs_to(max_delay, age):
    """learn_last / learn_delayed: the error names the step whose target was
    refused, as a single learner's DivergenceError does, not the next step."""
    from online_lstm import DivergenceError
    bank = LearnerBank(2, 2, 1, n_blocks=2, seed=0, parallel=False, max_delay=max_delay)
    bank.predict_many(np.ones((2, 4, 2)))
    bank.lr = [0.1, 1e300]  # learner 1's update overflows
    single = bank.learner(1)
    with pytest.raises(DivergenceError) as one:
        single.learn_delayed(0.9, age) if age else single.learn_last(0.9)
    with pytest.raises(BankDivergenceError) as err:
        bank.learn_delayed(np.full(2, 0.9), age) if age else bank.learn_last(np.full(2, 0.9))
    assert err.value.learners.tolist() == [1]
    assert err.value.step.tolist() == [one.value.step] == [4 - 1 - age]
    assert "refused their late update and hold the state from before it; all others learned" \
        in str(err.value)


def test_a_refused_reset_says_so():
    """update="sequence": the reset applies the accumulated updates, and a learner whose
    update overflows refuses the reset (as a single learner does); the message says that the
    others were reset, not that they "took their steps"."""
    from online_lstm import DivergenceError
    # (as tests/test_divergence.py makes a single learner's reset fail)
    bank = LearnerBank(2, 3, 2, 2, 2, seed=1, parallel=False, update="sequence", lr=[0.1, 1e149])
    b_in = bank.get_weights()["b_in"]
    b_in[1] = 9.9999e149  # learner 1's input-gate biases at the edge of the weight bound
    bank.set_weights(b_in=b_in)
    bank.learn_many(np.ones((2, 5, 3)), np.zeros((2, 5, 2)))
    single, before = bank.learner(1), bank.learner(1).state_arrays()
    with pytest.raises(DivergenceError):
        single.reset()
    with pytest.raises(BankDivergenceError) as err:
        bank.reset()
    assert err.value.learners.tolist() == [1]
    assert "refused the reset and hold the state from before it; all others were reset" in str(err.value)
    assert bank.n_resets_.tolist() == [1, 0]
    after = bank.learner(1).state_arrays()
    assert all(np.array_equal(before[k], after[k]) for k in before)


@pytest.mark.parametrize("kw", [dict(forget_gate=True), dict(peepholes=True),
                                dict(forget_gate=True, peepholes=True)])
def test_state_has_the_options_state_as_for_one_learner(kw):
    rng = np.random.default_rng(2)
    bank = LearnerBank(3, 2, 1, 2, 2, seed=4, **kw)
    X, Y, R = streams(rng, 3, 20, bank.layout)
    bank.learn_many(X, Y, R)
    state = bank.state_
    for i, m in enumerate(separate(bank)):
        single = m.state_
        assert sorted(state) == sorted(single)
        for key, value in single.items():
            assert np.array_equal(state[key][i], value), key


def test_learners_seeded_otherwise_pickle_and_keep_their_seeds():
    """from_learners with Generator- or SeedSequence-seeded learners: no int
    stands for their seeds, so seeds_ holds None for them, and the bank
    pickles, copies and clones."""
    import copy
    ms = [OnlineLSTM(3, 2, seed=np.random.default_rng(1)), OnlineLSTM(3, 2, seed=5),
          OnlineLSTM(3, 2, seed=np.random.SeedSequence(2))]
    bank = LearnerBank.from_learners(ms)
    assert bank.seeds_ == [None, 5, None] and bank.seed is None
    for back in (pickle.loads(pickle.dumps(bank)), copy.deepcopy(bank)):
        assert back.seeds_ == [None, 5, None]
        assert all(np.array_equal(back.state_arrays()[k], v) for k, v in bank.state_arrays().items())
    assert bank.clone().n_learners == 3


def test_set_learner_keeps_the_seeds_true():
    """After set_learner, learner l still equals OnlineLSTM(..., seed=seeds_[l])
    at the start, and clone() rebuilds every learner's initial weights."""
    bank = LearnerBank(3, 3, 2, 2, seed=11)
    m = OnlineLSTM(3, 2, 2, seed=12345)
    bank.set_learner(1, m)
    assert bank.seeds_[1] == 12345 and bank.learner(1).seed == 12345
    assert np.array_equal(bank.learner(1).clone().theta_, m.theta_)
    assert np.array_equal(bank.clone().theta_, bank.theta_)
    same = LearnerBank(3, 3, 2, 2, seed=11)
    same.set_learner(2, same.learner(2))  # the same seed: the bank's seed stays 11
    assert same.seed == 11
    ms = [OnlineLSTM(3, 2, seed=7), OnlineLSTM(3, 2, seed=8)]
    given = LearnerBank.from_learners(ms)
    assert given.seed == [7, 8] and np.array_equal(given.clone().theta_, given.theta_)


def test_from_learners_checks_every_learner_in_any_order():
    a, b = OnlineLSTM(3, 2, seed=0), OnlineLSTM(3, 2, seed=1, on_divergence="reset")
    for order, bad in (([a, b], 1), ([b, a], 0)):
        with pytest.raises(ValueError, match=rf"on_divergence='raise' only; learners \[{bad}\]"):
            LearnerBank.from_learners(order)


@pytest.mark.parametrize("parallel", [1, 0, np.True_, "Auto", None])
def test_parallel_is_exactly_auto_true_or_false(parallel):
    with pytest.raises(ValueError, match="parallel must be"):
        LearnerBank(3, 2, 1, parallel=parallel)


def test_masks_of_single_unit_data_keep_their_meaning():
    """With one output (or one input) the bank takes Y of shape (N,) or
    (N, T); a masked entry there is "no target" (an input one is refused),
    as in the full shapes: the mask is not dropped on the way."""
    bank = LearnerBank(2, 1, 1, 2, seed=[3, 4])
    twin = LearnerBank(2, 1, 1, 2, seed=[3, 4])
    X = np.full((2, 3), 0.5)
    Y = np.ma.masked_array(np.full((2, 3), 0.9), mask=True)
    bank.learn_many(X, Y)
    twin.learn_many(X, np.full((2, 3), np.nan))
    assert bank.n_updates_.tolist() == [0, 0] and np.array_equal(bank.theta_, twin.theta_)
    bank.learn_one(np.full(2, 0.5), np.ma.masked_array([0.9, 0.1], mask=[True, False]))
    assert bank.n_updates_.tolist() == [0, 1]
    before = bank.state_arrays()
    for call in (lambda: bank.learn_one(np.ma.masked_array([0.5, 0.5], mask=[False, True]), [0.1, 0.1]),
                 lambda: bank.learn_many(np.ma.masked_array(X, mask=np.eye(2, 3, dtype=bool)),
                                         np.full((2, 3), 0.1))):
        with pytest.raises(InputError, match="finite"):
            call()
        assert all(np.array_equal(v, bank.state_arrays()[k]) for k, v in before.items())


# ---------------------------------------------------------------------------
# contracts a mutation audit found untested
# ---------------------------------------------------------------------------
def test_a_sequence_update_learner_is_refused_by_a_step_bank():
    bank = LearnerBank(2, 2, 1, n_blocks=2, seed=0)
    before = bank.state_arrays()
    with pytest.raises(InputError, match="update"):
        bank.set_learner(0, OnlineLSTM(2, 1, n_blocks=2, update="sequence", seed=0))
    with pytest.raises((InputError, ValueError)):
        LearnerBank.from_learners([OnlineLSTM(2, 1, n_blocks=2, seed=0),
                                   OnlineLSTM(2, 1, n_blocks=2, update="sequence", seed=1)])
    for k, v in before.items():
        np.testing.assert_array_equal(bank.state_arrays()[k], v, err_msg=k)


def test_bank_lr_may_be_zero_and_state_bound_must_be_positive_for_every_learner():
    """lr = 0 (a frozen learner) is accepted as OnlineLSTM accepts it; a
    state_bound <= 0 or NaN is refused for any learner, not only learner 0."""
    bank = LearnerBank(2, 2, 1, lr=[0.1, 0.0], seed=0)
    bank.lr = 0.0
    assert np.all(bank.lr == 0.0)
    for bad in ([1.0, -1.0], [1.0, 0.0], [1.0, np.nan]):
        with pytest.raises(ValueError):
            LearnerBank(2, 2, 1, state_bound=bad, seed=0)
    for bad in (0.0, -1.0, np.nan):
        with pytest.raises(ValueError):
            bank.state_bound = bad


def test_bank_learn_delayed_reaches_the_oldest_kept_step_and_refuses_a_second_target():
    D = 2
    bank = LearnerBank(2, 2, 1, max_delay=D, seed=0)
    single = OnlineLSTM(2, 1, max_delay=D, seed=bank.seeds_[0])
    rng = np.random.default_rng(0)
    for _ in range(D + 1):
        x = rng.uniform(-1, 1, (2, 2))
        bank.predict_one(x)
        single.predict_one(x[0])
    bank.learn_delayed(np.full((2, 1), 0.5), D)  # age == max_delay: the oldest kept step
    single.learn_delayed(0.5, D)
    np.testing.assert_array_equal(bank.learner(0).theta_, single.theta_)
    bank.learn_delayed(np.full((2, 1), 0.6), 1)
    before = bank.state_arrays()
    with pytest.raises(NoPendingStepError):
        bank.learn_delayed(np.array([[np.nan], [0.7]]), 1)  # learner 1's step already has its target
    for k, v in before.items():
        np.testing.assert_array_equal(bank.state_arrays()[k], v, err_msg=k)


# ---------------------------------------------------------------------------
# found by the bank audit (branch audit-bank)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("given", [lambda: np.array([7, 8, 9]), lambda: iter([7, 8, 9]),
                                   lambda: (s for s in [7, 8, 9]), lambda: (7, 8, 9), lambda: range(7, 10)])
def test_a_sequence_seed_is_kept_as_its_ints(given):
    """seed= any sequence of N ints (an array, an iterator, a generator):
    the bank keeps the ints, not the object, so clone() rebuilds the same
    learners (an exhausted iterator once made it fail), pickling works (a
    generator once made it fail) and get_params() compares as a list."""
    import copy
    bank = LearnerBank(3, 2, 1, seed=given(), parallel=False)
    assert bank.seeds_ == [7, 8, 9] and bank.seed == [7, 8, 9]
    assert np.array_equal(bank.clone().theta_, bank.theta_)
    for back in (pickle.loads(pickle.dumps(bank)), copy.deepcopy(bank)):
        assert back.seed == [7, 8, 9] and np.array_equal(back.clone().theta_, bank.theta_)


@pytest.mark.parametrize("kw", [dict(lr=10**400), dict(state_bound=10**400)])
def test_a_huge_int_hyper_parameter_is_refused_with_its_name(kw):
    """As OnlineLSTM refuses lr=10**400 with a ValueError naming lr, not
    Python's bare OverflowError."""
    (name, value), = kw.items()
    with pytest.raises(ValueError, match=name):
        LearnerBank(2, 2, 1, **kw)
    bank = LearnerBank(2, 2, 1, seed=0)
    before = bank.state_arrays()
    with pytest.raises(ValueError, match=name):
        setattr(bank, name, value)
    for k, v in before.items():
        np.testing.assert_array_equal(bank.state_arrays()[k], v, err_msg=k)


@pytest.mark.parametrize("kw", [dict(init_range=0.9), dict(in_gate_bias=[-1.0, -2.0]),
                                dict(out_gate_bias=-3.0), dict(forget_gate=True, forget_gate_bias=2.0)])
def test_set_learner_refuses_a_learner_initialised_otherwise(kw):
    """A bank holds one set of initialisation arguments: a learner built with
    others was once taken in silently, after which bank.learner(i).get_params()
    named the bank's arguments, not the learner's, and clone() (of the bank or
    of bank.learner(i)) rebuilt another initial learner than the one given."""
    fg = dict(forget_gate=kw.get("forget_gate", False))
    bank = LearnerBank(2, 2, 1, 2, seed=0, **fg)
    before = bank.state_arrays()
    other = OnlineLSTM(2, 1, 2, seed=77, **{**fg, **kw})
    name = next(k for k in kw if k != "forget_gate")
    with pytest.raises(InputError, match=name):
        bank.set_learner(1, other)
    with pytest.raises(InputError, match=name):
        LearnerBank.from_learners([OnlineLSTM(2, 1, 2, seed=1, **fg), other])
    for k, v in before.items():
        np.testing.assert_array_equal(bank.state_arrays()[k], v, err_msg=k)
    # the same arguments written another way are the same arguments
    same = {k: (tuple(v) if isinstance(v, list) else v) for k, v in kw.items()}
    twin = LearnerBank(2, 2, 1, 2, seed=0, **{**fg, **same})
    twin.set_learner(1, other)
    assert np.array_equal(twin.clone().theta_[1], other.clone().theta_)


def test_a_masked_reset_flag_is_refused_not_read_through_its_mask():
    """A masked entry is a missing value: a target is then "no target" and an
    input is refused, but a resets mask (or reset()'s learner selection) was
    read through the mask, so a masked True reset the learner."""
    X, Y = np.ones((2, 3, 2)), np.full((2, 3, 1), 0.5)
    R = np.ma.masked_array(np.eye(2, 3, k=1, dtype=bool), mask=np.eye(2, 3, k=1, dtype=bool))
    bank = LearnerBank(2, 2, 1, seed=0)
    single = OnlineLSTM(2, 1, seed=0)
    before = bank.state_arrays()
    for call in (lambda: bank.learn_many(X, Y, R), lambda: bank.predict_many(X, R),
                 lambda: bank.learn_one(X[:, 0], Y[:, 0], R[:, 1]), lambda: bank.predict_one(X[:, 0], R[:, 1]),
                 lambda: bank.reset(R[:, 1]), lambda: bank.reset(np.ma.masked_array([0, 1], mask=[True, False])),
                 lambda: single.learn_many(X[0], Y[0], R[0])):
        with pytest.raises(InputError, match="masked"):
            call()
    for k, v in before.items():
        np.testing.assert_array_equal(bank.state_arrays()[k], v, err_msg=k)
    assert single.n_steps_ == 0
    # a masked array without masked entries is an ordinary mask
    plain = np.ma.masked_array(np.eye(2, 3, k=1, dtype=bool))
    twin = LearnerBank(2, 2, 1, seed=0)
    assert np.array_equal(bank.learn_many(X, Y, plain), twin.learn_many(X, Y, plain.data))
    bank.reset(np.ma.masked_array([True, False]))
    assert bank.n_resets_.tolist() == [2, 1]


@pytest.mark.parametrize("attr, value", [("n_learners", 2), ("n_learners", 5), ("layout", None),
                                         ("seed", 5), ("n_in", 3), ("max_delay", 2)])
def test_constructor_arguments_are_fixed_once_the_bank_is_built(attr, value):
    """As for OnlineLSTM (FixedAfterBuild).  bank.n_learners = 2 on a bank of
    3 was once taken: the kernels still ran over the 3 rows of its memory and
    learner 2 read its input from beyond the end of the (2, n_in) array it
    was given (out-of-bounds reads in compiled code), and n_learners = 5
    returned uninitialised memory as the outputs of learners 3 and 4."""
    bank = LearnerBank(3, 2, 1, seed=0, parallel=False)
    before = bank.state_arrays()
    with pytest.raises(AttributeError, match=f"{attr} is fixed"):
        setattr(bank, attr, value)
    assert bank.n_learners == 3 and bank.seed == 0
    for k, v in before.items():
        np.testing.assert_array_equal(bank.state_arrays()[k], v, err_msg=k)
    bank.lr, bank.state_bound, bank.parallel = 0.3, 10.0, True  # these may change between steps
    assert bank.learn_one(np.ones((3, 2)), np.zeros((3, 1))).shape == (3, 1)


@pytest.mark.parametrize("parallel", [1, 0, np.True_, "Auto", None, "yes"])
def test_parallel_assigned_later_is_checked_as_in_the_constructor(parallel):
    """bank.parallel may change between calls, but 1 or "yes" was taken and
    silently ran the serial kernels (the constructor refuses them)."""
    bank = LearnerBank(3, 2, 1, seed=0, parallel=True)
    with pytest.raises(ValueError, match="parallel must be"):
        bank.parallel = parallel
    assert bank.parallel is True
    bank.parallel = "auto"
    assert bank.get_params()["parallel"] == "auto"


def test_the_repr_names_the_options_as_a_learner_s_does():
    """A bank's repr shows forget gates, peepholes and max_delay, as
    OnlineLSTM's does (it showed none of them: two banks of different
    architectures printed alike)."""
    kw = dict(forget_gate=True, peepholes=True, max_delay=3)
    plain, opts = repr(LearnerBank(2, 1, 1, 2, 1)), repr(LearnerBank(2, 1, 1, 2, 1, **kw))
    one = repr(OnlineLSTM(1, 1, 2, 1, **kw))
    for part in ("forget_gate=True", "peepholes=True", "max_delay=3"):
        assert part in opts and part in one and part not in plain
