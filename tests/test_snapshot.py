"""In-memory snapshots (online_lstm.snapshot): snapshot() / restore_snapshot().

The oracle is an independent copy: ``copy.deepcopy`` of the learner taken at
the moment of the snapshot (its own path, through state_arrays and a rebuilt
learner).  After restore_snapshot the learner must have that copy's state and
then produce, over a varied continuation, exactly that copy's outputs.
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from online_lstm import InputError, LearnerBank, OnlineLSTM
from online_lstm.snapshot import Snapshot

from statecheck import same_state
from test_realtime import peak_bytes


def _continuation(m, rng, n=12):
    """A varied run after the snapshot: every kind of call that changes state;
    returns everything it observed."""
    K = m.n_out
    seen = []
    for t in range(n):
        x = rng.uniform(-1, 1, m.n_in)
        y = rng.uniform(0.1, 0.9, K)
        kind = t % 6
        if kind == 0:
            seen.append(m.learn_one(x, y))
        elif kind == 1:
            seen.append(m.predict_one(x))
            m.learn_last(y)
        elif kind == 2:
            seen.append(m.predict_one(x))
            seen.append(m.predict_one(-x))
            if m.max_delay:  # the target of the step before arrives now
                m.learn_delayed(y, 1)
        elif kind == 3:
            X, Y = rng.uniform(-1, 1, (5, m.n_in)), rng.uniform(0.1, 0.9, (5, K))
            Y[rng.random((5, K)) < 0.4] = np.nan
            seen.append(m.learn_many(X, Y, resets=np.array([0, 0, 1, 0, 0], bool)).copy())
        elif kind == 4:
            m.lr = m.lr * 0.5
            m.reset()
        else:
            seen.append(m.predict_many(rng.uniform(-1, 1, (3, m.n_in))).copy())
    seen.append(m.theta_.copy())
    return seen


def _same_run(a, b):
    return len(a) == len(b) and all(np.array_equal(u, v, equal_nan=True) for u, v in zip(a, b))


LEARNERS = [
    dict(n_in=3, n_out=2, n_blocks=2, block_size=2),
    dict(n_in=3, n_out=2, n_blocks=2, block_size=2, update="sequence"),
    dict(n_in=3, n_out=2, n_blocks=2, block_size=1, max_delay=3),
    dict(n_in=2, n_out=3, n_blocks=1, block_size=3, forget_gate=True, peepholes=True, max_delay=1),
    dict(n_in=4, n_out=1, n_blocks=3, block_size=1, output_gates=False, connectivity="B",
         bias="all", g="g1", h="id"),
]


@pytest.mark.parametrize("params", LEARNERS, ids=lambda p: ",".join(f"{k}={v}" for k, v in p.items()))
def test_restore_goes_back_bit_for_bit(params):
    rng = np.random.default_rng(5)
    m = OnlineLSTM(**params, lr=0.3, seed=4)
    _continuation(m, rng, 9)  # mid-sequence, a pending step, delayed steps kept
    m.predict_one(rng.uniform(-1, 1, m.n_in))  # ... and a step awaiting learn_last
    assert m.pending_
    oracle = copy.deepcopy(m)
    snap = m.snapshot()
    assert snap.n_steps_ == m.n_steps_ > 0
    ahead = _continuation(m, np.random.default_rng(11))
    assert not same_state(m.state_arrays(), oracle.state_arrays())  # the run changed it
    m.restore_snapshot(snap)
    assert same_state(m.state_arrays(), oracle.state_arrays())
    assert m.lr == oracle.lr and m.pending_ and m.n_steps_ == oracle.n_steps_
    again = _continuation(m, np.random.default_rng(11))
    assert _same_run(again, ahead)
    assert _same_run(_continuation(oracle, np.random.default_rng(11)), ahead)
    # a snapshot is not used up, and a clone of the architecture takes it too
    other = m.clone(seed=99)
    for target in (m, other):
        target.restore_snapshot(snap)
        assert _same_run(_continuation(target, np.random.default_rng(11)), ahead)


def test_snapshot_into_overwrites_in_place_and_is_independent_of_the_learner():
    rng = np.random.default_rng(0)
    m = OnlineLSTM(3, 2, 2, 2, seed=1)
    snap = m.snapshot()
    _continuation(m, rng)
    at = copy.deepcopy(m)
    assert m.snapshot(into=snap) is snap
    assert snap.n_steps_ == m.n_steps_
    _continuation(m, rng)  # steps after the snapshot do not reach it
    m.restore_snapshot(snap)
    assert same_state(m.state_arrays(), at.state_arrays())
    twin = copy.copy(snap)
    deep = copy.deepcopy(snap)
    _continuation(m, rng)
    m.snapshot(into=snap)  # the copies keep the older state
    for s in (twin, deep):
        m.restore_snapshot(s)
        assert same_state(m.state_arrays(), at.state_arrays())


def test_the_divergence_record_comes_back():
    # y_in = 1/2 and g(net_c) ~ 2: s_c grows by ~1 a step, past state_bound at
    # the second step of every sequence; the policy resets, retries the step
    # from the reset state (s_c ~ 1) and carries on: every step after the
    # first diverges once
    m = OnlineLSTM(1, 1, 1, 1, lr=0.0, state_bound=1.5, on_divergence="reset", seed=0)
    m.set_weights(W_in=np.zeros((1, 4)), b_in=np.zeros(1), W_c=np.full((1, 4), 10.0))
    snap = m.snapshot()
    for _ in range(5):
        m.learn_one(np.array([1.0]), None)
    assert m.n_divergences_ == 4 and m.last_divergence_ is not None
    m.restore_snapshot(snap)
    assert m.n_divergences_ == 0 and m.last_divergence_ is None and m.n_steps_ == 0
    m.learn_one(np.array([1.0]), None)
    m.learn_one(np.array([1.0]), None)
    m.snapshot(into=snap)
    event = m.last_divergence_
    assert m.n_divergences_ == 1 and event is not None
    m.learn_one(np.array([1.0]), None)
    m.learn_one(np.array([1.0]), None)
    assert m.n_divergences_ == 3 and m.last_divergence_ is not event
    m.restore_snapshot(snap)
    assert m.n_divergences_ == 1 and m.last_divergence_ is event


BAD = [None, np.zeros(10), {"theta": np.zeros(3)}, "snap", 3.0]


def check_refused_as_not_a_snapshot(m, bad):
    """``m.restore_snapshot(bad)`` and (but for None, the default)
    ``m.snapshot(into=bad)`` raise InputError: ``bad`` is no Snapshot."""
    with pytest.raises(InputError, match=f"^restore_snapshot needs a Snapshot made by snapshot\\(\\); "
                                         f"got {type(bad).__name__}$"):
        m.restore_snapshot(bad)
    if bad is not None:
        with pytest.raises(InputError, match="^snapshot\\(into=...\\) needs a Snapshot made by"):
            m.snapshot(into=bad)


@pytest.mark.parametrize("bad", BAD, ids=lambda b: type(b).__name__)
def test_not_a_snapshot_is_refused_and_nothing_changes(bad):
    m = OnlineLSTM(3, 2, 2, 2, seed=1)
    _continuation(m, np.random.default_rng(2))
    before = m.state_arrays()
    check_refused_as_not_a_snapshot(m, bad)
    assert same_state(m.state_arrays(), before)


def check_refused_naming_the_difference(m, foreign, key, value, here):
    """``m.restore_snapshot(foreign)`` and ``m.snapshot(into=foreign)`` raise
    InputError, the first saying that ``key`` differs: ``value`` in the
    snapshot, ``here`` in ``m``."""
    with pytest.raises(InputError, match=f"^restore_snapshot needs a snapshot of this learner's "
                                         f"architecture and update mode; got one of another "
                                         f"\\(they differ in {key}: the snapshot's {value!r}, "
                                         f"here {here!r}\\)$"):
        m.restore_snapshot(foreign)
    with pytest.raises(InputError, match="^snapshot\\(into=...\\) needs a snapshot of this learner's"):
        m.snapshot(into=foreign)


@pytest.mark.parametrize("change", [dict(n_in=4), dict(n_out=3), dict(block_size=1),
                                    dict(update="sequence"), dict(max_delay=2),
                                    dict(forget_gate=True), dict(peepholes=True), dict(bias="all"),
                                    dict(connectivity="B"), dict(g="g1"), dict(h="id"),
                                    dict(output_gates=False)],
                         ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()))
def test_a_snapshot_of_another_architecture_is_refused_and_nothing_changes(change):
    m = OnlineLSTM(3, 2, 2, 2, seed=1)
    _continuation(m, np.random.default_rng(2))
    other = m.clone(**change)
    foreign = other.snapshot()
    mine = m.snapshot()
    before = m.state_arrays()
    (key, value), = change.items()
    check_refused_naming_the_difference(m, foreign, key, value, getattr(m.layout, key, m.update))
    assert same_state(m.state_arrays(), before)
    assert same_state(other.state_arrays(), other.clone().state_arrays())  # foreign untouched
    with pytest.raises(InputError):
        other.restore_snapshot(mine)


def test_learner_and_bank_snapshots_do_not_mix():
    bank = LearnerBank(3, 2, 1, 2, 1, seed=0)
    m = OnlineLSTM(2, 1, 2, 1, seed=0)
    with pytest.raises(InputError, match="needs a snapshot of an OnlineLSTM; got one of a LearnerBank of "
                                         "3 learners$"):
        m.restore_snapshot(bank.snapshot())
    with pytest.raises(InputError, match="needs a snapshot of a LearnerBank of 3 learners; got one of "
                                         "an OnlineLSTM$"):
        bank.restore_snapshot(m.snapshot())
    with pytest.raises(InputError, match="needs a snapshot of this bank's architecture, update mode "
                                         "and number of learners; got one of another \\(they differ "
                                         "in n_learners: the snapshot's 3, here 4\\)$"):
        LearnerBank(4, 2, 1, 2, 1).restore_snapshot(bank.snapshot())


def test_a_snapshot_is_made_by_snapshot_only_and_stays_in_the_process():
    with pytest.raises(TypeError, match="made by OnlineLSTM.snapshot"):
        Snapshot()
    snap = OnlineLSTM(2, 1, 1, 1, seed=0).snapshot()
    with pytest.raises(TypeError, match="cannot be pickled; keep a state with save"):
        pickle.dumps(snap)
    assert snap.nbytes == 8 * OnlineLSTM(2, 1, 1, 1).layout.mem_size
    assert "OnlineLSTM with n_in=2, n_out=1" in repr(snap)


def check_snapshot_loop_allocates_nothing(m, x, y, n):
    """``snapshot(into=)``, ``learn_one(x, y, out=)`` and ``restore_snapshot``
    over and over keep nothing and allocate next to nothing, while a new
    snapshot allocates its copy (the control); returns the snapshot."""
    o = np.empty(m.n_out)
    snap = m.snapshot()

    def loop():
        m.snapshot(into=snap)
        m.learn_one(x, y, out=o)
        m.restore_snapshot(snap)

    peak, growth = peak_bytes(loop, n)
    assert growth <= 256, f"{growth} bytes kept"
    # the peak is the process's: under pytest-xdist its I/O thread can add a
    # kilobyte or so (2,124 bytes seen for BPTT in CI, 984 alone); a copy of
    # the state, which this guards against, is snap.nbytes
    assert peak < min(4_096, snap.nbytes // 2), f"transient peak {peak} bytes"
    peak, _ = peak_bytes(lambda: m.snapshot(), 50)
    assert peak >= snap.nbytes
    return snap


def test_snapshot_into_and_restore_allocate_nothing():
    m = OnlineLSTM(10, 10, 8, 4, seed=0)  # ~85 kB of state: a copy would show
    x, y = np.full(10, 0.5), np.full(10, 0.3)
    snap = check_snapshot_loop_allocates_nothing(m, x, y, 2_000)
    assert snap.nbytes > 50_000
    m2 = copy.deepcopy(m)
    m2.learn_one(x, y)
    m2.restore_snapshot(snap)
    assert same_state(m2.state_arrays(), m.state_arrays())


def test_bank_restore_goes_back_bit_for_bit_seeds_included():
    rng = np.random.default_rng(3)
    bank = LearnerBank(4, 3, 2, 2, 2, max_delay=2, seed=[1, 2, 3, 4])
    X, Y = rng.uniform(-1, 1, (4, 6, 3)), rng.uniform(0.1, 0.9, (4, 6, 2))
    bank.learn_many(X, Y)
    bank.predict_one(X[:, 0])
    oracle = copy.deepcopy(bank)
    snap = bank.snapshot()
    assert list(snap.n_steps_) == list(bank.n_steps_)

    def run(b):
        out = [b.learn_many(X, Y, resets=np.eye(4, 6, 2, dtype=bool)).copy()]
        out.append(b.predict_one(X[:, 1]).copy())
        out.append(b.predict_one(X[:, 2]).copy())
        b.learn_delayed(Y[:, 0], 1)
        b.lr = [0.1, 0.2, 0.3, 0.4]
        out.append(b.predict_many(X).copy())
        return out

    ahead = run(bank)
    bank.set_learner(2, OnlineLSTM(3, 2, 2, 2, max_delay=2, seed=77))
    assert bank.seeds_[2] == 77
    bank.restore_snapshot(snap)
    assert bank.seeds_ == [1, 2, 3, 4] and bank.seed == [1, 2, 3, 4]
    assert all(np.array_equal(bank.state_arrays()[k], oracle.state_arrays()[k])
               for k in oracle.state_arrays())
    assert _same_run(run(bank), ahead)
    at = copy.deepcopy(bank)
    assert bank.snapshot(into=snap) is snap
    bank.learn_many(X, Y)
    bank.restore_snapshot(snap)
    assert _same_run(run(bank), run(at))


def test_the_initialisation_arguments_come_back(tmp_path):
    """restore(path) adopts the checkpoint's seed, init_range and gate biases
    (how its weights began); a snapshot from before brings back the learner's
    own, so that get_params, clone and checkpoints describe the restored
    weights.  A clone of another seed that takes the snapshot takes them too."""
    m = OnlineLSTM(2, 1, 2, 1, seed=1, init_range=0.1, in_gate_bias=[-1.0, -2.0])
    first = m.get_params()
    snap = m.snapshot()
    OnlineLSTM(2, 1, 2, 1, seed=2, init_range=0.3).save(tmp_path / "other.npz")
    m.restore(tmp_path / "other.npz")
    assert (m.seed, m.init_range, m.in_gate_bias) == (2, 0.3, None)
    m.restore_snapshot(snap)
    assert m.get_params() == first
    assert np.array_equal(m.clone().theta_, m.theta_)  # never stepped: the initial weights
    c = m.clone(seed=99, init_range=0.2, in_gate_bias=None)
    c.restore_snapshot(snap)
    assert c.get_params() == first and np.array_equal(c.clone().theta_, m.theta_)
