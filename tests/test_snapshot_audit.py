"""Audit of in-memory snapshots (online_lstm.snapshot), as a control loop uses
them: snapshot, roll forward, restore, many times over."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from online_lstm import LearnerBank, OnlineLSTM



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
