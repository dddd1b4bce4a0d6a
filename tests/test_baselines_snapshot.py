"""In-memory snapshots of the competitors (RTRL, BPTT): snapshot() / restore_snapshot().

The oracle is an independent copy: ``copy.deepcopy`` of the learner taken at
the moment of the snapshot (its own path: ``state_arrays`` into a rebuilt
learner).  After ``restore_snapshot`` the learner must hold that copy's
state and then produce, over a random continuation (NaN targets, resets,
pending steps, chunks, a changed learning rate), exactly that copy's outputs.
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from online_lstm import InputError, LearnerBank, OnlineLSTM
from online_lstm.baselines import BPTT, RTRL
from online_lstm.snapshot import Snapshot

from statecheck import same_state
from test_snapshot import (
    check_refused_as_not_a_snapshot, check_refused_naming_the_difference,
    check_snapshot_loop_allocates_nothing,
)

NET = dict(n_in=3, n_out=2, n_hidden=2)

LEARNERS = [(RTRL, {}), (BPTT, dict(window=None)), (BPTT, dict(window=1)), (BPTT, dict(window=3)),
            (BPTT, dict(window=100))]  # 100: the ring grows past 64 slots before it wraps


def _ids(case):
    cls, kw = case
    return cls.__name__ + "".join(f",{k}={v}" for k, v in kw.items())


def _make(cls, kw, update="step", **more):
    return cls(**NET, architecture="fully_recurrent", init_range=1.0, lr=0.3, update=update, seed=3,
               **kw, **more)


def _run(m, seed, n=10):
    """A random continuation using every call that changes state; returns
    everything it observed (outputs, then the weights and the state)."""
    rng = np.random.default_rng(seed)
    K, seen = m.n_out, []

    def target():
        y = rng.uniform(0.1, 0.9, K)
        y[rng.random(K) < 0.4] = np.nan
        return y

    for _ in range(n):
        x = rng.uniform(-1, 1, m.n_in)
        kind = int(rng.integers(6))
        if kind == 0:
            seen.append(m.learn_one(x, target()))
        elif kind == 1:  # learned later, or left pending (an all-NaN target keeps it so)
            seen.append(m.predict_one(x))
            if rng.random() < 0.7:
                m.learn_last(target())
        elif kind == 2:  # a long chunk: BPTT's history outgrows its buffer
            T = int(rng.integers(1, 90))
            X, Y = rng.uniform(-1, 1, (T, m.n_in)), rng.uniform(0.1, 0.9, (T, K))
            Y[rng.random((T, K)) < 0.3] = np.nan
            seen.append(m.learn_many(X, Y, resets=rng.random(T) < 0.02))
        elif kind == 3:
            seen.append(m.predict_many(rng.uniform(-1, 1, (3, m.n_in)), resets=np.array([0, 1, 0], bool)))
        elif kind == 4:
            m.lr = m.lr * 0.5
            if rng.random() < 0.5:
                m.reset()
        else:
            seen.append(m.predict_one(x))
    return seen + [m.state_arrays()]


def _same_run(a, b):
    return len(a) == len(b) and all(
        same_state(u, v) if isinstance(u, dict) else np.array_equal(u, v, equal_nan=True)
        for u, v in zip(a, b))


def _raw(m):
    """Every array of the learner (scratch and spare slots included) and its parameters."""
    return {k: v.copy() for k, v in m._arrays.items()}, m.get_params()


def _same_raw(a, b):
    return a[1] == b[1] and same_state(a[0], b[0])


@pytest.mark.parametrize("update", ["step", "sequence"])
@pytest.mark.parametrize("case", LEARNERS, ids=_ids)
def test_restore_goes_back_bit_for_bit(case, update):
    for seed in range(3):
        m = _make(*case, update=update)
        _run(m, 100 + seed, 6)
        if seed == 0:  # a history longer than a new BPTT's buffer: a clone must grow to take it
            X = np.random.default_rng(seed).uniform(-1, 1, (70, m.n_in))
            m.learn_many(X, np.where(X[:, :2] > 0, 0.8, np.nan))
        m.predict_one(np.array([0.3, -0.2, 0.5]))  # mid-sequence, a step awaiting learn_last
        assert m.pending_ and m.seq_step_ > 0
        oracle, params = copy.deepcopy(m), m.get_params()
        snap = m.snapshot()
        assert snap.n_steps_ == m.n_steps_ > 0
        ahead = _run(m, seed)
        assert not same_state(m.state_arrays(), oracle.state_arrays())  # the run changed it
        m.restore_snapshot(snap)
        assert same_state(m.state_arrays(), oracle.state_arrays())
        assert m.pending_ and m.get_params() == params
        assert _same_run(_run(m, seed), ahead)
        assert _same_run(_run(oracle, seed), ahead)
        # not used up; and learners of this architecture take it: a clone of
        # another seed and rate (whose history buffer may be shorter), a copy
        for target in (m, m.clone(seed=99, lr=0.01), pickle.loads(pickle.dumps(m))):
            target.restore_snapshot(snap)
            assert target.get_params() == params
            assert _same_run(_run(target, seed), ahead)


@pytest.mark.parametrize("case", LEARNERS, ids=_ids)
def test_snapshot_into_overwrites_in_place_and_is_independent_of_the_learner(case):
    m = _make(*case)
    snap = m.snapshot()
    rng = np.random.default_rng(0)
    for seed in range(4):
        _run(m, seed)
        if seed == 2:  # BPTT's history outgrows what the first snapshot had room for
            m.learn_many(rng.uniform(-1, 1, (150, m.n_in)), rng.uniform(0.1, 0.9, (150, m.n_out)))
        at = copy.deepcopy(m)
        assert m.snapshot(into=snap) is snap and snap.n_steps_ == m.n_steps_
        ahead = _run(m, 50 + seed)
        m.restore_snapshot(snap)
        assert same_state(m.state_arrays(), at.state_arrays())
        assert _same_run(_run(m, 50 + seed), ahead)
        m.restore_snapshot(snap)
    twin, deep = copy.copy(snap), copy.deepcopy(snap)
    _run(m, 9)
    m.snapshot(into=snap)  # the copies keep the older state
    for s in (twin, deep):
        m.restore_snapshot(s)
        assert same_state(m.state_arrays(), at.state_arrays())


@pytest.mark.parametrize("cls", [RTRL, BPTT])
def test_the_initialisation_arguments_come_back(cls, tmp_path):
    """restore(path) adopts the checkpoint's seed and init_range; a snapshot
    from before brings back the learner's own, so that get_params, clone
    and checkpoints describe the restored weights."""
    m = cls(**NET, seed=1, init_range=0.1)
    first = m.get_params()
    snap = m.snapshot()
    cls(**NET, seed=2, init_range=0.3).save(tmp_path / "other.npz")
    m.restore(tmp_path / "other.npz")
    assert (m.seed, m.init_range) == (2, 0.3)
    m.restore_snapshot(snap)
    assert m.get_params() == first
    assert same_state(m.clone().get_weights(), m.get_weights())  # never stepped: the initial ones
    c = m.clone(seed=99, init_range=0.2)
    c.restore_snapshot(snap)
    assert c.get_params() == first
    m.restore(tmp_path / "other.npz")
    m.snapshot(into=snap)  # now a snapshot of the checkpoint's learner, arguments included
    c.restore_snapshot(snap)
    assert (c.seed, c.init_range) == (2, 0.3)


def _stepped(cls, **kw):
    m = cls(**{**NET, **kw}, seed=1)
    _run(m, 2, 5)
    m.predict_one(np.zeros(m.n_in))
    return m


CHANGES = [dict(n_in=4), dict(n_out=3), dict(n_hidden=1), dict(architecture="layered"),
           dict(bias=False), dict(update="sequence")]


@pytest.mark.parametrize("cls, change", [(RTRL, c) for c in CHANGES] + [
    (BPTT, c) for c in CHANGES + [dict(window=4), dict(window=None)]],
    ids=lambda p: p.__name__ if isinstance(p, type) else ",".join(f"{k}={v}" for k, v in p.items()))
def test_a_snapshot_of_another_architecture_is_refused_and_nothing_changes(cls, change):
    base = dict(window=5) if cls is BPTT else {}
    m = _stepped(cls, **base)
    other = _stepped(cls, **{**base, **change})
    foreign, mine = other.snapshot(), m.snapshot()
    before, theirs = _raw(m), foreign._mem.copy()
    (key, value), = change.items()
    check_refused_naming_the_difference(m, foreign, key, value, getattr(m, key))
    assert _same_raw(_raw(m), before)
    assert np.array_equal(foreign._mem, theirs)  # the refused into= is not written either
    with pytest.raises(InputError):
        other.restore_snapshot(mine)


def test_snapshots_of_other_kinds_are_refused_and_nothing_changes():
    rtrl, bptt = _stepped(RTRL), _stepped(BPTT)
    lstm = OnlineLSTM(3, 2, 2, 1, seed=0)
    bank = LearnerBank(2, 3, 2, 2, 1, seed=0)
    cases = [(rtrl, bptt.snapshot(), "an RTRL; got one of a BPTT"),
             (bptt, rtrl.snapshot(), "a BPTT; got one of an RTRL"),
             (rtrl, lstm.snapshot(), "an RTRL; got one of an OnlineLSTM"),
             (bptt, bank.snapshot(), "a BPTT; got one of a LearnerBank of 2 learners"),
             (lstm, rtrl.snapshot(), "an OnlineLSTM; got one of an RTRL"),
             (bank, bptt.snapshot(), "a LearnerBank of 2 learners; got one of a BPTT")]
    for m, snap, says in cases:
        before = m.state_arrays()
        with pytest.raises(InputError, match=f"^restore_snapshot needs a snapshot of {says}$"):
            m.restore_snapshot(snap)
        with pytest.raises(InputError, match=f"^snapshot\\(into=...\\) needs a snapshot of {says}$"):
            m.snapshot(into=snap)
        assert same_state(m.state_arrays(), before)


@pytest.mark.parametrize("cls", [RTRL, BPTT])
def test_not_a_snapshot_is_refused_and_nothing_changes(cls):
    m = _stepped(cls)
    for bad in [None, np.zeros(10), m.state_arrays(), "snap", 3.0, [m.snapshot()]]:
        before = _raw(m)
        check_refused_as_not_a_snapshot(m, bad)
        assert _same_raw(_raw(m), before)


def test_a_snapshot_stays_in_the_process_and_says_what_it_holds():
    with pytest.raises(TypeError, match="RTRL.snapshot\\(\\) or BPTT.snapshot\\(\\)"):
        Snapshot()
    m = _stepped(RTRL)
    snap = m.snapshot()
    with pytest.raises(TypeError, match="cannot be pickled; keep a state with save"):
        pickle.dumps(snap)
    # header, weights, accumulated update, one bank of influences and sources (not
    # state_arrays()' "network": a snapshot's key names the architecture)
    assert snap.nbytes == 8 * sum(v.size for k, v in m.state_arrays().items() if k != "network")
    assert repr(snap).startswith("<Snapshot of an RTRL with n_in=3, n_out=2, n_hidden=2, "
                                 "architecture='fully_recurrent', bias=True, update='step': ")
    assert "a BPTT with n_in=3" in repr(_stepped(BPTT, window=2).snapshot())


@pytest.mark.parametrize("case", [(RTRL, {}), (BPTT, dict(window=None)), (BPTT, dict(window=3))],
                         ids=_ids)
def test_snapshot_into_and_restore_allocate_nothing(case):
    cls, kw = case
    m = cls(10, 10, 8, **kw, seed=0)  # RTRL: ~150 kB of influences, a copy would show
    rng = np.random.default_rng(0)
    m.learn_many(rng.uniform(-1, 1, (200, 10)), rng.uniform(0.1, 0.9, (200, 10)))
    snap = check_snapshot_loop_allocates_nothing(m, np.full(10, 0.5), np.full(10, 0.3), 500)
    assert snap.nbytes > 5_000
