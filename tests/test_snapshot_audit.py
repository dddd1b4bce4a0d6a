"""Audit of in-memory snapshots (online_lstm.snapshot), as a control loop uses
them: snapshot, roll forward, restore, many times over."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from online_lstm import InputError, LearnerBank, OnlineLSTM



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
    with pytest.raises(InputError, match=r"got one of a LearnerBank .*'step'$"):  # kinds: no list
        m.restore_snapshot(bank.snapshot())
