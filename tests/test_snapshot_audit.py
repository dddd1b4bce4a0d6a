"""Audit of in-memory snapshots (online_lstm.snapshot), as a control loop uses
them: snapshot, roll forward, restore, many times over."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from online_lstm import InputError, LearnerBank, OnlineLSTM
from online_lstm.bank import BankDivergenceError
from online_lstm.widen import widen

from statecheck import same_state
from test_realtime import peak_bytes



def _bank_run(bank, seed=0):
    rng = np.random.default_rng(seed)
    N, I, K = bank.n_learners, bank.layout.n_in, bank.layout.n_out
    X, Y = rng.uniform(-1, 1, (N, 4, I)), rng.uniform(0.1, 0.9, (N, 4, K))
    return [bank.learn_many(X, Y).copy(), bank.predict_one(X[:, 0]).copy(), bank.theta_.copy()]


def _same_bank(a, b):
    sa, sb = a.state_arrays(), b.state_arrays()
    return sa.keys() == sb.keys() and all(np.array_equal(sa[k], sb[k]) for k in sa)


@pytest.mark.parametrize("how", [copy.copy, copy.deepcopy], ids=["copy", "deepcopy"])
def test_a_copy_of_a_bank_snapshot_keeps_its_seeds_when_the_original_is_overwritten(how):
    # snapshot(into=) overwrites the snapshot's list of seeds in place; a copy
    # that shared that list restored the newer seeds with the older state
    bank = LearnerBank(2, 2, 1, 1, 1, seed=[1, 2])
    snap = bank.snapshot()
    twin = how(snap)
    at = copy.deepcopy(bank)
    bank.set_learner(0, OnlineLSTM(2, 1, 1, 1, seed=77))
    bank.snapshot(into=snap)
    bank.restore_snapshot(twin)
    assert bank.seeds_ == [1, 2] and bank.seed == [1, 2]
    assert _same_bank(bank, at)
    bank.restore_snapshot(snap)
    assert bank.seeds_ == [77, 2]


def test_a_bank_restored_from_a_snapshot_describes_the_learners_it_holds(tmp_path):
    # the bank takes the snapshot's seeds; get_params, clone and checkpoints
    # describe its learners by them *and* by the initialisation arguments,
    # which must come with them (set_learner refuses a learner of other ones)
    theirs = LearnerBank(3, 2, 1, 2, 1, seed=0, init_range=0.2, in_gate_bias=-1.0)
    _bank_run(theirs)
    snap = theirs.snapshot()
    mine = LearnerBank(3, 2, 1, 2, 1, seed=5, init_range=0.5)
    before = mine.snapshot()
    mine.restore_snapshot(snap)
    assert _same_bank(mine, theirs)
    assert mine.get_params() == theirs.get_params()
    assert _same_bank(mine.clone(), theirs.clone())
    mine.restore_snapshot(before)
    assert mine.init_range == 0.5 and mine.in_gate_bias is None and mine.seed == 5
    assert _same_bank(mine.clone(), LearnerBank(3, 2, 1, 2, 1, seed=5, init_range=0.5))
    # across a restore() of a checkpoint made with other arguments
    theirs.save(tmp_path / "b.npz")
    mine.restore(tmp_path / "b.npz")
    assert mine.init_range == 0.2
    mine.restore_snapshot(before)
    assert mine.init_range == 0.5 and mine.in_gate_bias is None and mine.seed == 5


def test_a_refused_snapshot_says_what_differs():
    m = OnlineLSTM(3, 2, 2, 2, seed=1)
    snap = m.clone(n_in=4, update="sequence").snapshot()
    with pytest.raises(InputError, match=r"\(they differ in n_in: the snapshot's 4, here 3; "
                                         r"update: the snapshot's 'sequence', here 'step'\)$"):
        m.restore_snapshot(snap)
    with pytest.raises(InputError, match=r"they differ in n_in"):
        m.snapshot(into=snap)
    bank = LearnerBank(3, 3, 2, 2, 2)
    with pytest.raises(InputError, match=r"\(they differ in n_learners: the snapshot's 4, here 3\)$"):
        bank.restore_snapshot(LearnerBank(4, 3, 2, 2, 2).snapshot())
    with pytest.raises(InputError, match=r"an OnlineLSTM; got one of a LearnerBank of 3 learners$"):
        m.restore_snapshot(bank.snapshot())


def _run(m, seed=3):
    rng = np.random.default_rng(seed)
    out = []
    for t in range(6):
        x = rng.uniform(-1, 1, m.n_in)
        out.append(m.predict_one(x) if t % 2 else m.learn_one(x, rng.uniform(0.1, 0.9, m.n_out)))
        if t % 2 == 0 and t and m.max_delay:  # the target of the predicted step before
            m.learn_delayed(rng.uniform(0.1, 0.9, m.n_out), 1)
    return out + [m.theta_.copy()]


def test_a_snapshot_goes_into_the_learners_copies(tmp_path):
    # pickled, deep-copied or checkpointed copies are learners of the same
    # architecture: each takes the original's snapshot and continues as it
    m = OnlineLSTM(3, 2, 2, 2, update="sequence", max_delay=2, forget_gate=True, peepholes=True,
                   seed=4)
    _run(m, 1)
    m.predict_one(np.full(3, 0.2))  # a step awaiting its target
    snap = m.snapshot()
    at = copy.deepcopy(m)
    ahead = _run(m)
    m.save(tmp_path / "m.npz")
    copies = [pickle.loads(pickle.dumps(m)), copy.deepcopy(m), OnlineLSTM.load(tmp_path / "m.npz")]
    for c in copies:
        c.restore_snapshot(snap)
        assert same_state(c.state_arrays(), at.state_arrays())
        assert all(np.array_equal(a, b) for a, b in zip(_run(c), ahead))


def test_a_snapshot_from_before_a_widening_is_refused_by_the_wider_learner():
    m = OnlineLSTM(2, 1, 1, 2, max_delay=1, seed=0)
    _run(m)
    snap = m.snapshot()
    wide = widen(m, n_in=3, n_out=2)
    before = wide.state_arrays()
    with pytest.raises(InputError, match=r"they differ in n_in: the snapshot's 2, here 3; "
                                         r"n_out: the snapshot's 1, here 2\)"):
        wide.restore_snapshot(snap)
    assert same_state(wide.state_arrays(), before)
    _run(m)
    m.restore_snapshot(snap)  # the learner widened from still takes it
    assert same_state(m.state_arrays(), widen(m, n_in=2).state_arrays())


def test_a_bank_snapshot_undoes_a_divergence_and_a_set_learner_without_allocating():
    bank = LearnerBank(3, 1, 1, 1, 1, lr=[0.0, 0.1, 0.2], state_bound=[1.5, 1e6, 1.5], seed=0)
    for i in range(3):  # s_c grows by ~1 a step: learners 0 and 2 diverge at the second step
        m = bank.learner(i)
        m.set_weights(W_in=np.zeros((1, 4)), b_in=np.zeros(1), W_c=np.full((1, 4), 10.0))
        bank.set_learner(i, m)
    snap = bank.snapshot()
    at = copy.deepcopy(bank)
    x, y = np.ones((3, 1)), np.full((3, 1), 0.5)
    bank.learn_one(x, y)
    with pytest.raises(BankDivergenceError):
        bank.learn_one(x, y)
    bank.lr = [1.0, 1.0, 1.0]
    bank.set_learner(1, OnlineLSTM(1, 1, 1, 1, seed=9))
    other = bank.snapshot()
    bank.restore_snapshot(snap)
    assert _same_bank(bank, at) and bank.seeds_ == at.seeds_ and list(bank.lr) == [0.0, 0.1, 0.2]
    bank.learn_one(x, y)
    at.learn_one(x, y)
    assert _same_bank(bank, at)

    def loop():  # the seeds change back and forth too
        bank.snapshot(into=snap)
        bank.restore_snapshot(other)
        bank.restore_snapshot(snap)

    peak, growth = peak_bytes(loop, 5_000)
    # a leak of one object per loop would keep 5,000 of them (140 kB at least); on
    # Python 3.10 tracemalloc's own tables for the loop's allocation sites show up
    # as some 500 bytes of "growth", whatever the number of loops
    assert growth <= 1_024 and peak < 1_000, (peak, growth)
    assert bank.seeds_ == at.seeds_
