"""Delayed targets: ``max_delay`` and ``learn_delayed``.

A target that arrives ``age`` steps after its step must give exactly the
weight change ``learn_one`` would have made at that step (spec §3.9's
truncated gradient of that step's error), applied now.  Checked against the
NumPy reference (tests/reference.py, ``learn_from`` on its own snapshots),
bit for bit against ``learn_one``/``learn_last`` where the two must agree,
and for bad calls, checkpoints and widening.
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from online_lstm import OnlineLSTM
from online_lstm.errors import CheckpointError, DivergenceError, InputError, NoPendingStepError
from online_lstm.widen import widen
from reference import ReferenceLSTM

ARCHS = [
    dict(n_blocks=2, block_size=2),
    dict(n_blocks=2, block_size=1, connectivity="B", bias="all"),
    dict(n_blocks=3, block_size=1, output_gates=False, bias="none"),
    dict(n_blocks=2, block_size=2, bias="hidden", g="g1", h="id"),
    dict(n_blocks=2, block_size=2, forget_gate=True),
    dict(n_blocks=2, block_size=2, forget_gate=True, peepholes=True, bias="all"),
    dict(n_blocks=1, block_size=3, peepholes=True, connectivity="B"),
]
IDS = ["F", "B-all", "no-og", "b1-g1-id", "fg", "fg-ph", "ph-B"]


def _state(m):
    return {k: v.copy() for k, v in m.state_arrays().items()}


def _same(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def _stream(rng, T, n_in, n_out):
    X = rng.normal(size=(T, n_in))
    Y = rng.uniform(0.1, 0.9, size=(T, n_out))
    return X, Y


@pytest.mark.parametrize("arch", ARCHS, ids=IDS)
def test_the_window_changes_no_step(arch):
    """Keeping snapshots is bookkeeping: with no delayed target, a learner
    with max_delay > 0 computes the same bits as one without."""
    rng = np.random.default_rng(1)
    a = OnlineLSTM(3, 2, **arch, lr=0.5, seed=3)
    b = OnlineLSTM(3, 2, **arch, lr=0.5, seed=3, max_delay=4)
    X, Y = _stream(rng, 60, 3, 2)
    Y[::3] = np.nan
    resets = np.zeros(60, dtype=bool)
    resets[[0, 25]] = True
    assert np.array_equal(a.learn_many(X, Y, resets), b.learn_many(X, Y, resets))
    for t in range(20):
        assert np.array_equal(a.learn_one(X[t], Y[t]), b.learn_one(X[t], Y[t]))
        assert np.array_equal(a.predict_one(X[t]), b.predict_one(X[t]))
    sa, sb = _state(a), _state(b)
    assert all(np.array_equal(sa[k], sb[k]) for k in ("theta", "dW", "T", "record"))


@pytest.mark.parametrize("arch", ARCHS, ids=IDS)
def test_age_zero_is_learn_one(arch):
    """predict_one(x) then learn_delayed(y, 0) (or learn_last(y)) gives the
    bits of learn_one(x, y), step after step."""
    rng = np.random.default_rng(2)
    X, Y = _stream(rng, 40, 3, 2)
    ref = OnlineLSTM(3, 2, **arch, lr=0.5, seed=4, max_delay=3)
    d = ref.clone()
    last = ref.clone()
    for t in range(40):
        ref.learn_one(X[t], Y[t])
        d.predict_one(X[t])
        d.learn_delayed(Y[t], 0)
        last.predict_one(X[t])
        last.learn_last(Y[t])
        assert not d.pending_ and not last.pending_
    assert _same(_state(ref), _state(d))
    assert _same(_state(ref), _state(last))
    with pytest.raises(NoPendingStepError):
        last.learn_last(Y[0])


def test_a_fully_targeted_step_keeps_no_snapshot():
    rng = np.random.default_rng(12)
    X, Y = _stream(rng, 5, 2, 2)
    m = OnlineLSTM(2, 2, 2, 1, lr=0.5, seed=1, max_delay=4)
    m.predict_one(X[0])
    m.learn_one(X[1], Y[1])  # every output has its target: nothing to keep
    m.learn_one(X[2], [0.5, np.nan])  # one output open: a snapshot
    assert m.open_targets(1).tolist() == [False, False]
    assert m.open_targets(0).tolist() == [False, True]
    assert m.open_targets(2).tolist() == [True, True]
    ring = m.state_arrays()["slots"].reshape(5, -1)
    held = ring[:, m.layout.meta["sl_step"]]
    assert held.tolist() == [1.0, 0.0, 3.0, 0.0, 0.0]  # steps 0 and 2 (1 + index); 1 has none
    closed = m.state_arrays()["slots"].reshape(5, -1)[[1, 3, 4]]
    assert not closed.any()  # closed slots are stored as zeros
    m.learn_delayed([np.nan, np.nan], 1)  # no target: fine
    with pytest.raises(NoPendingStepError):
        m.learn_delayed([0.5, np.nan], 1)
    m.learn_delayed(Y[0], 2)


@pytest.mark.parametrize("arch", ARCHS[:1] + ARCHS[4:6], ids=["F", "fg", "fg-ph"])
def test_accumulated_updates_do_not_see_the_delay(arch):
    """With update="sequence" the weights are fixed within a sequence, so
    targets delivered D steps late, in step order, accumulate the same dW,
    bit for bit, as targets given at once."""
    rng = np.random.default_rng(3)
    D, T = 5, 30
    now = OnlineLSTM(2, 2, **arch, lr=0.3, update="sequence", seed=5, max_delay=D)
    late = now.clone()
    for seq in range(3):
        X, Y = _stream(rng, T, 2, 2)
        for t in range(T):
            now.learn_one(X[t], Y[t])
            late.predict_one(X[t])
            if t >= D:
                late.learn_delayed(Y[t - D], D)
        for t in range(T - D, T):
            late.learn_delayed(Y[t], T - 1 - t)
        assert _same(_state(now), _state(late))
        now.reset()
        late.reset()
        assert _same(_state(now), _state(late))


def _deliveries(rng, T, K, D):
    """For each step, (time, age, target) deliveries: some at the step, some
    later, some split over two times (disjoint units), some never."""
    plan = []
    for t in range(T):
        kind = rng.integers(5)
        y = rng.uniform(0.1, 0.9, size=K)
        if kind == 0:
            continue  # never labelled
        if kind == 1 or K == 1:
            plan.append((t + int(rng.integers(0, D + 1)), t, y))
        else:  # two disjoint parts at two different delays
            part = rng.random(K) < 0.5
            y1, y2 = np.where(part, y, np.nan), np.where(part, np.nan, y)
            plan.append((t + int(rng.integers(0, D + 1)), t, y1))
            plan.append((t + int(rng.integers(0, D + 1)), t, y2))
    return plan


@pytest.mark.parametrize("accumulate", [False, True], ids=["step", "sequence"])
@pytest.mark.parametrize("arch", ARCHS, ids=IDS)
def test_random_delays_match_the_reference(arch, accumulate):
    """Targets delivered 0..D steps late, in any order, split across units,
    across resets: outputs and weights agree with the reference, which
    keeps each step's record, traces and output weights in its own way."""
    rng = np.random.default_rng(7)
    D, T, K = 6, 120, 3
    m = OnlineLSTM(3, K, **arch, lr=0.4, seed=8, max_delay=D,
                   update="sequence" if accumulate else "step")
    ref = ReferenceLSTM(m.layout, m.get_weights(), m.lr, accumulate=accumulate)
    X, _ = _stream(rng, T, 3, K)
    plan = _deliveries(rng, T, K, D)
    rng.shuffle(plan)  # same-time deliveries in random order
    for t in range(T):
        if t in (40, 41, 90):
            m.reset()
            ref.reset()
        due = [i for i, (when, _, _) in enumerate(plan) if when == t]
        at_step = [i for i in due if plan[i][1] == t][:1]  # one target with the step itself
        y_now = plan[at_step[0]][2] if at_step else None
        out = m.learn_one(X[t], y_now)
        out_ref = ref.step(X[t], y_now)
        np.testing.assert_allclose(out, out_ref, rtol=1e-10, atol=1e-12)
        for i in due:
            if i not in at_step:
                _, s, y = plan[i]
                m.learn_delayed(y, t - s)
                ref.learn_from(-1 - (t - s), y)
    got, want = m.get_weights(), ref.weights()
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-9, atol=1e-12, err_msg=name)
    if accumulate:
        m.reset()
        ref.reset()
        got, want = m.get_weights(), ref.weights()
        for name in want:
            np.testing.assert_allclose(got[name], want[name], rtol=1e-9, atol=1e-12, err_msg=name)


def test_one_target_per_unit_and_step():
    rng = np.random.default_rng(4)
    m = OnlineLSTM(2, 3, 2, 2, lr=0.5, seed=1, max_delay=5)
    X, Y = _stream(rng, 6, 2, 3)
    m.learn_one(X[0], [0.5, np.nan, np.nan])  # unit 0 has its target at the step
    for t in range(1, 6):
        m.predict_one(X[t])
    assert m.open_targets(5).tolist() == [False, True, True]
    before = _state(m)
    with pytest.raises(NoPendingStepError, match="already had one"):
        m.learn_delayed([0.1, 0.2, np.nan], 5)
    assert _same(before, _state(m))
    m.learn_delayed([np.nan, 0.2, np.nan], 5)
    assert m.open_targets(5).tolist() == [False, False, True]
    with pytest.raises(NoPendingStepError):
        m.learn_delayed([np.nan, 0.3, np.nan], 5)
    m.learn_delayed([np.nan, np.nan, 0.3], 5)
    assert not m.open_targets(5).any()
    n = m.n_updates_
    m.learn_delayed([np.nan] * 3, 5)  # no target: nothing happens
    assert m.n_updates_ == n
    m.learn_delayed(Y[5], 0)  # age 0 clears the pending flag, as learn_last does
    assert not m.pending_
    with pytest.raises(NoPendingStepError):
        m.learn_last(Y[5])


def test_bad_calls_change_nothing():
    rng = np.random.default_rng(5)
    m = OnlineLSTM(2, 2, 2, 1, lr=0.5, seed=2, max_delay=3)
    X, Y = _stream(rng, 8, 2, 2)
    m.predict_one(X[0])
    m.predict_one(X[1])
    before = _state(m)
    bad = [
        ((Y[0], 2), InputError, "no step of age 2"),  # only two steps so far
        ((Y[0], -1), InputError, "no step of age -1"),
        ((Y[0], 1.0), InputError, "age must be an integer"),
        ((Y[0], True), InputError, "age must be an integer"),
        ((np.zeros(3), 0), InputError, r"shape \(2,\)"),
        ((np.array([np.inf, 0.0]), 1), InputError, "inf"),
        (([0.5, "a"], 1), InputError, "y"),
    ]
    for args, exc, msg in bad:
        with pytest.raises(exc, match=msg):
            m.learn_delayed(*args)
        assert _same(before, _state(m))
    for t in range(2, 8):
        m.predict_one(X[t])
    with pytest.raises(InputError, match="ages go from 0 .* to 3"):
        m.learn_delayed(Y[0], 4)  # older than max_delay: its snapshot is gone
    plain = OnlineLSTM(2, 2, 2, 1, seed=2)
    plain.predict_one(X[0])
    with pytest.raises(InputError, match="max_delay=0"):
        plain.learn_delayed(Y[0], 0)
    for bad_delay in (-1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="max_delay"):
            OnlineLSTM(2, 2, max_delay=bad_delay)


def test_a_diverging_delayed_update_is_refused():
    rng = np.random.default_rng(6)
    m = OnlineLSTM(2, 1, 2, 1, lr=0.5, seed=3, max_delay=2)
    X, _ = _stream(rng, 3, 2, 1)
    for t in range(3):
        m.predict_one(X[t])
    m.lr = 1e152  # alpha * e beyond the magnitude limit
    before = _state(m)
    with pytest.raises(DivergenceError):
        m.learn_delayed(0.9, 2)
    assert _same(before, _state(m))
    assert m.open_targets(2).tolist() == [True]


def test_snapshots_survive_checkpoints_and_copies(tmp_path):
    """Steps awaiting their targets are part of the state: a learner saved,
    pickled or copied mid-stream learns their late targets exactly as the
    original does."""
    rng = np.random.default_rng(8)
    D = 4
    m = OnlineLSTM(3, 2, 2, 2, forget_gate=True, lr=0.5, seed=9, max_delay=D)
    X, Y = _stream(rng, 30, 3, 2)
    for t in range(20):
        m.predict_one(X[t])
        if t >= D:
            m.learn_delayed(Y[t - D], D)
    path = m.save(tmp_path / "m.npz")
    copies = [OnlineLSTM.load(path), pickle.loads(pickle.dumps(m)), copy.deepcopy(m)]
    restored = m.clone(seed=0)
    restored.restore(path)
    copies.append(restored)
    for t in range(20, 30):
        for c in [m, *copies]:
            c.predict_one(X[t])
            c.learn_delayed(Y[t - D], D)
    for c in copies:
        assert _same(_state(m), _state(c))
    other = m.clone(max_delay=2)
    with pytest.raises(CheckpointError, match="max_delay"):
        other.restore(path)


def test_corrupt_snapshots_are_refused():
    m = OnlineLSTM(2, 2, 2, 1, seed=1, max_delay=2)
    for t in range(3):
        m.predict_one(np.ones(2) * t)
    good = m.state_arrays()
    meta = m.layout.meta
    before = _state(m)
    cases = {"nan": (lambda s: s.__setitem__(meta["sl_T"], np.nan), "non-finite"),
             "step": (lambda s: s.__setitem__(meta["sl_step"], 2.0), "does not fit its slot"),
             "flag": (lambda s: s.__setitem__(meta["sl_open"], 2.0), "open-target flags"),
             "bound": (lambda s: s.__setitem__(meta["sl_T"], 2.0 * s[meta["sl_tmax"]] + 1.0),
                       "trace bound")}
    for name, (spoil, msg) in cases.items():
        arrays = {k: v.copy() for k, v in good.items()}
        spoil(arrays["slots"])
        with pytest.raises(InputError, match=msg):
            m.load_state_arrays(arrays)
        assert _same(before, _state(m))
    with pytest.raises(InputError, match="missing 'slots'"):
        m.load_state_arrays({k: v for k, v in good.items() if k != "slots"})


def test_widening_keeps_the_waiting_steps():
    """widen() with steps awaiting targets: the wide learner, given those
    targets late, ends where a learner built wide from the start ends."""
    rng = np.random.default_rng(9)
    D = 3
    narrow = OnlineLSTM(2, 2, 2, 2, lr=0.5, seed=11, max_delay=D)
    X, Y = _stream(rng, 12, 3, 3)
    X[:, 2] = 0.0  # the third input is "not there yet"
    for t in range(8):
        narrow.predict_one(X[t, :2])
        if t >= D:
            narrow.learn_delayed([Y[t - D, 0], np.nan], D)  # output 1 stays open
    wide = widen(narrow, n_in=3, n_out=3)
    assert wide.open_targets(D).tolist() == [False, True, True]
    # built wide: the same weights for the old units, the new ones as widen drew them
    ref = OnlineLSTM(3, 3, 2, 2, lr=0.5, seed=0, max_delay=D)
    ref.set_weights(_initial_wide(narrow, wide))
    Yw = Y.copy()
    Yw[:, 1:] = np.nan
    for t in range(8):
        ref.predict_one(X[t])
        if t >= D:
            ref.learn_delayed(Yw[t - D], D)
    _same_but_bounds(ref, wide)
    for t in range(8, 12):
        for m in (wide, ref):
            m.predict_one(X[t])
            m.learn_delayed(np.where(m.open_targets(D), Y[t - D], np.nan), D)  # new output too
    _same_but_bounds(ref, wide)
    # a step whose every output had its target keeps no snapshot: after
    # widening, its new output stays closed
    closed = OnlineLSTM(2, 1, 2, 1, seed=3, max_delay=2)
    closed.learn_one(X[0, :2], 0.5)
    closed.predict_one(X[1, :2])
    w = widen(closed, n_out=2)
    assert w.open_targets(1).tolist() == [False, False]
    assert w.open_targets(0).tolist() == [True, True]


def _same_but_bounds(a, b):
    """Same state, except the header's magnitude bounds (upper bounds that
    widen and set_weights reach by different routes)."""
    sa, sb = _state(a), _state(b)
    for k in ("theta", "dW", "T", "record", "slots"):
        assert np.array_equal(sa[k], sb[k]), k
    from online_lstm.layout import META, META_COUNTERS
    for name in META_COUNTERS:
        assert sa["header"][META[name]] == sb["header"][META[name]], name


def _initial_wide(narrow, wide):
    """The wide learner's weights as they were before any learning: the
    narrow learner's initial weights plus the new units' draws."""
    start = narrow.clone()
    return widen(start, n_in=wide.n_in, n_out=wide.n_out).get_weights()


@pytest.mark.parametrize("parallel", [False, True], ids=["serial", "parallel"])
@pytest.mark.parametrize("arch", [ARCHS[0], ARCHS[5]], ids=["F", "fg-ph"])
def test_a_bank_learns_delayed_targets_as_its_learners_do(arch, parallel):
    """A bank with a window gives each learner the bits of a separate
    windowed learner fed the same calls: steps with partial targets,
    predictions, delayed targets with one age per learner, learn_last."""
    from online_lstm import LearnerBank

    rng = np.random.default_rng(13)
    N, D, K = 5, 3, 2
    bank = LearnerBank(N, 2, K, **arch, lr=0.5, seed=4, max_delay=D, parallel=parallel)
    singles = [bank.learner(i) for i in range(N)]
    X, Y = rng.normal(size=(24, N, 2)), rng.uniform(0.1, 0.9, size=(24, N, K))
    for t in range(24):
        if t % 3 == 0:
            Yp = Y[t].copy()
            Yp[:, 0] = np.nan  # output 0 waits for a later target
            bank.learn_one(X[t], Yp)
            for i, m in enumerate(singles):
                m.learn_one(X[t, i], Yp[i])
        else:
            bank.predict_one(X[t])
            for i, m in enumerate(singles):
                m.predict_one(X[t, i])
        if t % 4 == 1 and t % 3 != 0:  # a pending step: learn it at once
            bank.learn_last(Y[t])
            for i, m in enumerate(singles):
                m.learn_last(Y[t, i])
        if t >= D:
            ages = rng.integers(0, D + 1, size=N)
            Yt = np.where(bank.open_targets(ages), Y[t], np.nan)
            Yt[rng.integers(N)] = np.nan  # one learner gets nothing
            bank.learn_delayed(Yt, ages)
            for i, m in enumerate(singles):
                if not np.all(np.isnan(Yt[i])):
                    m.learn_delayed(Yt[i], int(ages[i]))
    for i, m in enumerate(singles):
        assert _same(_state(bank.learner(i)), _state(m)), i
    assert np.array_equal(bank.open_targets(1), np.stack([m.open_targets(1) for m in singles]))


def test_bank_delayed_bad_calls_and_checkpoints(tmp_path):
    from online_lstm import LearnerBank

    rng = np.random.default_rng(14)
    N, D = 3, 2
    bank = LearnerBank(N, 2, 2, 2, 1, lr=0.5, seed=5, max_delay=D)
    for t in range(4):
        bank.predict_one(rng.normal(size=(N, 2)))
    Y = rng.uniform(size=(N, 2))
    bank.learn_delayed(np.where([[True, False]] * N, Y, np.nan), 1)
    before = bank.state_arrays()

    def unchanged():
        return _same(before, bank.state_arrays())

    bad = [((Y, 3), InputError, "no step of age 3"),
           ((Y, [0, 1]), InputError, "one per learner"),
           ((Y, 1.0), InputError, "age must be"),
           ((np.full((N, 2), np.inf), 0), InputError, "inf"),
           ((Y[:2], 0), InputError, "learner axis first"),
           ((Y, 1), NoPendingStepError, "already had one")]
    for args, exc, msg in bad:
        with pytest.raises(exc, match=msg):
            bank.learn_delayed(*args)
        assert unchanged()
    plain = LearnerBank(N, 2, 2, seed=1)
    with pytest.raises(InputError, match="max_delay=0"):
        plain.learn_delayed(Y, 0)
    path = bank.save(tmp_path / "bank.npz")
    copies = [LearnerBank.load(path), pickle.loads(pickle.dumps(bank)),
              LearnerBank.from_learners([bank.learner(i) for i in range(N)])]
    for b in [bank, *copies]:
        b.learn_delayed(np.where([[False, True]] * N, Y, np.nan), 1)
        b.learn_delayed(Y, np.array([2, 0, 2]))
    for b in copies:
        assert _same(bank.state_arrays(), b.state_arrays())
    with pytest.raises(InputError, match="architecture"):
        plain.set_learner(0, bank.learner(0))


@pytest.mark.parametrize("D", [0, 2])
def test_learn_last_needs_a_pending_step_with_or_without_a_window(D):
    """A fresh learner, or one whose last step was learned with learn_one,
    has nothing pending: NoPendingStepError, and nothing changes."""
    m = OnlineLSTM(2, 2, max_delay=D, seed=0)
    with pytest.raises(NoPendingStepError):
        m.learn_last([0.5, 0.5])
    m.learn_one([0.1, 0.2], [0.5, np.nan])
    assert not m.pending_
    before = m.state_arrays()
    with pytest.raises(NoPendingStepError):
        m.learn_last([np.nan, 0.5])
    after = m.state_arrays()
    assert all(np.array_equal(before[k], after[k]) for k in before)


def test_a_snapshot_of_a_step_not_yet_taken_is_refused_on_load():
    m = OnlineLSTM(2, 1, max_delay=2, seed=0)
    m.predict_one([0.1, 0.2])  # one step: slot 0 holds step 0
    meta, s = m.layout.meta, m.state_arrays()
    ring = s["slots"].reshape(meta["n_slots"], meta["slot_size"]).copy()
    ring[1] = ring[0]
    ring[1, meta["sl_step"]] = 2.0  # slot 1 "holds" step 1, never taken
    s["slots"] = ring.ravel()
    before = m.state_arrays()
    with pytest.raises(InputError, match="slots"):
        m.load_state_arrays(s)
    assert all(np.array_equal(before[k], m.state_arrays()[k]) for k in before)
