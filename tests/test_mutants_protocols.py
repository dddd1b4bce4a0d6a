"""Tests written to kill mutants of the experiment protocols
(``online_lstm/experiments.py``, ``online_lstm/presets.py``) that the other
fast tests (test_experiments, test_presets, test_trial_checkpoints,
test_runner_audit, test_spec_audit, test_competitor_presets, test_task_spec)
let through in a mutation audit.  Each test's docstring names the mutant it
kills; the expected values come from the spec (Table 11, §5, §8), a hand
count, or a slow loop written here, never from the protocol's own output.
"""

from __future__ import annotations

import numpy as np
import pytest

from online_lstm import experiments
from online_lstm.experiments import Plateau, run_trial
from online_lstm.presets import PRESETS
from online_lstm.tasks import Batch, EmbeddedReber


def _batch(out_end, target):
    """Sequences of one step each whose outputs are ``out_end``: (out, batch)."""
    out = np.asarray(out_end, dtype=float)
    target = np.asarray(target, dtype=float)
    n = len(out)
    b = Batch(X=np.zeros((n, 1)), Y=target.copy(), resets=np.ones(n, bool), ends=np.arange(n),
              target=target)
    return out, b


def test_abs_wrong_counts_an_error_exactly_at_beta_as_wrong():
    """Kills ``end_errors(out, b) >= threshold`` -> ``> threshold`` in
    ``_abs_wrong``.  Table 11's ABS(beta): right means the absolute error of
    *all* outputs at the sequence end is *below* beta, so an error of exactly
    beta is wrong.  0.75 vs 1.0 and 0.5 vs 0.25 are exact in binary."""
    out, b = _batch([[0.75, 0.0], [0.5, 0.0], [0.0, 0.7], [0.9, 0.1]],
                    [[1.0, 0.0], [0.25, 0.0], [0.0, 1.0], [1.0, 0.0]])
    # errors: (0.25, 0), (0.25, 0), (0, 0.3), (0.1, 0.1): ABS(0.25) -> wrong, wrong, wrong, right
    np.testing.assert_array_equal(experiments._abs_wrong(0.25)(out, b), [True, True, True, False])


def test_frac_wrong_is_the_share_of_wrong_sequences_not_of_outputs():
    """Kills ``wrong / len(err)`` -> ``wrong / err.size`` in ``_error_fields``:
    with two outputs per sequence (2c, 6a, 6b), 1 wrong sequence of 4 is a
    fraction of 1/4, not 1/8.  Also read on a 6a trial (4 outputs)."""
    err = np.array([[0.5, 0.0], [0.0, 0.0], [0.1, 0.0], [0.0, 0.1]])
    f = experiments._error_fields(err, 1)
    assert f["test_size"] == 4 and f["frac_wrong"] == 0.25
    assert f["test_mae"] == pytest.approx(0.7 / 8) and f["test_mse"] == pytest.approx(0.27 / 8)
    rec = run_trial(PRESETS["6a"].with_options(limit=100, test_size=40), trial=0, seed=0)
    assert rec["test_size"] == 40 and rec["wrong"] > 0
    assert rec["frac_wrong"] == rec["wrong"] / 40


def test_reber_mean_string_lengths_count_every_symbol():
    """Kills ``task.train.lengths.mean() + 1`` -> ``task.train.lengths.mean()``
    in ``_run_reber``: a string of n symbols is n - 1 input steps (its last
    symbol is only a target); the record's mean lengths are of the strings."""
    p = PRESETS["1-5"].with_options(limit=100, n_train=20, n_test=30)
    rec = run_trial(p, trial=3, seed=5)
    d = EmbeddedReber(seed=[5 + 3, 1], sets_seed=[5 + 3 // 10, 3], **p.task_kwargs)
    assert rec["mean_train_len"] == pytest.approx(np.mean([len(s) for s in d.train_strings]), rel=1e-12)
    assert rec["mean_test_len"] == pytest.approx(np.mean([len(s) for s in d.test_strings]), rel=1e-12)


def test_a_block_no_better_than_the_best_is_stale_even_at_zero_error():
    """Kills ``e < self.best * (1 - self.tol)`` -> ``<=`` in ``Plateau.add``:
    a block counts as a gain only when its mean falls strictly below the best
    so far less 1 %; once the error is 0 no block can fall below it, so the
    trigger must fire after ``patience`` more blocks (with ``<=``, 0 <= 0 is
    a gain every time and the cell would never join)."""
    pl = Plateau(block=2, patience=3)
    assert not pl.add([1.0, 1.0])  # first block: a gain over +inf
    assert not pl.add([0.0, 0.0])  # a gain: 0 < 0.99
    assert not pl.add([0.0, 0.0, 0.0, 0.0])  # stale 1, 2
    assert pl.add([0.0, 0.0])  # stale 3 == patience
    assert pl.improved == [True, True, False, False, False]


def test_the_streak_counts_afresh_when_the_cell_joins():
    """Kills ``carry = 0`` -> ``carry = carry`` after the construction
    trigger in ``_run_streak``: the net changes when the cell joins, and the
    success streak counts from there.  At ABS(1.0) a 2b sequence (logistic
    outputs, 0/1 targets) is wrong only if an output saturates; in this
    trial none does, so the 1000-streak ends exactly 1000 sequences after the
    cell joined (not at 1000, carried over), and so does the 100-streak."""
    p = PRESETS["2b"].with_options(streak=1000, threshold=1.0, plateau_patience=1, test_size=10,
                                   limit=2500)
    rec = run_trial(p, trial=0, seed=0)
    added = rec["cell_added_at"]
    assert added is not None and 0 < added < 1000 and added % 100 == 0  # at a block boundary
    assert rec["success"] and rec["streak_end"] == added + 1000 and rec["sequences"] == added
    assert rec["streak100_end"] == added + 100


def test_the_cell_joins_after_the_block_that_fired_the_trigger():
    """Kills ``added_at = t.seen`` -> ``added_at = first`` in ``_run_streak``:
    ``cell_added_at`` is the number of sequences trained when the trigger
    fired, i.e. the end of the stale block.  Recounted here by a plain loop:
    the net with its input gate held shut (-1000), blocks of 100 sequences,
    block mean of E = sum of squared errors per sequence, a gain when 1 %
    below the best so far, fire after ``patience`` blocks without one."""
    p = PRESETS["2b"].with_options(streak=1000, threshold=1.0, plateau_patience=1, test_size=10,
                                   limit=1200)
    rec = run_trial(p, trial=0, seed=0)
    m = p.learner(seed=0)
    m.set_weights(W_in=np.full_like(m.get_weights()["W_in"], -1000.0))
    task = p.make_task(seed=[0, 1])
    seen, best, stale = 0, np.inf, 0
    while stale < 1:
        b = task.sample(100)
        out = m.learn_many(b.X, b.Y, b.resets)
        seen += 100
        sq = np.where(np.isnan(b.Y), 0.0, (out - np.nan_to_num(b.Y)) ** 2).sum(axis=1)
        e = np.mean([sq[s:t + 1].sum() for s, t in zip(b.starts, b.ends)])
        if e < best * 0.99:
            best, stale = e, 0
        else:
            stale += 1
    assert rec["cell_added_at"] == seen == 800


def _end_errors_of(offset, method):
    """A ``Trial.train`` or ``Trial.predict`` that runs the real one (so the
    counters and the learner advance) but returns outputs whose end errors
    are exactly ``offset`` on every output (targets 0/1: exact in binary)."""
    real = getattr(experiments.Trial, method)

    def fake(self, batch):
        out = real(self, batch).copy()
        out[batch.ends] = batch.target + offset
        return out
    return fake


def test_st2_needs_the_mean_error_below_max_error_not_at_it(monkeypatch):
    """Kills ``np.mean(end_errors(out, stop_set)) < o["max_error"]`` -> ``<=``
    in ``_run_st12``: ST2 is a mean absolute error *below* 0.01 (§5.3).  The
    frozen tests here see an end error of exactly 0.25 on every sequence:
    with max_error = 0.25, ST1 holds at the first check (no error reaches
    ABS(0.5)) but ST2 never does, so the trial runs to its limit."""
    monkeypatch.setattr(experiments.Trial, "predict", _end_errors_of(0.25, "predict"))
    p = PRESETS["3a-T100-N3"].with_options(T=20, threshold=0.5, max_error=0.25, limit=300,
                                           stop_test_size=16, test_size=10)
    rec = run_trial(p, trial=0, seed=0)
    assert (rec["success"], rec["sequences"], rec["st1_sequences"]) == (False, 300, 100)
    monkeypatch.setattr(experiments.Trial, "predict", _end_errors_of(0.125, "predict"))
    rec = run_trial(p, trial=0, seed=0)  # 0.125 < 0.25: ST2 at the first check
    assert (rec["success"], rec["sequences"], rec["st1_sequences"]) == (True, 100, 100)


@pytest.mark.parametrize("threshold, beta, stops", [(0.25, 1.0, False), (0.5, 0.25, False),
                                                    (0.5, 0.5, True)])
def test_st3_reads_an_error_at_the_threshold_as_wrong_and_needs_the_average_below_beta(
        monkeypatch, threshold, beta, stops):
    """Kills, in ``_run_window``, ``np.abs(...) >= thr`` -> ``> thr`` in its
    ``scores`` (ABS(thr): an end error of exactly thr is wrong, Table 11) and
    ``avg < o["beta"]`` -> ``avg <= o["beta"]`` (ST3(beta): average training
    error *below* beta, §5.4).  Every training sequence here ends with an
    error of exactly 0.25 on each of 6a's 4 outputs, so the window average
    is exactly 0.25: ST3 holds when the window first fills only if 0.25 <
    thr and 0.25 < beta."""
    monkeypatch.setattr(experiments.Trial, "train", _end_errors_of(0.25, "train"))
    p = PRESETS["6a"].with_options(window=10, threshold=threshold, beta=beta, limit=60, test_size=5)
    rec = run_trial(p, trial=0, seed=0)
    assert rec["success"] is stops
    assert rec["sequences"] == (10 if stops else 60)
    if stops:
        assert rec["train_avg_error"] == 0.25 and rec["all_correct_sequences"] == 10
    else:
        assert ("all_correct_sequences" in rec) is (threshold > 0.25)


def test_st3_average_E_sums_the_squared_errors_over_the_outputs():
    """Kills ``np.sum(e ** 2, axis=1)`` -> ``np.mean(e ** 2, axis=1)`` in
    ``_seq_error``: the paper's E = sum_k (t_k - y_k)^2 (spec §8 item 13)
    sums over the outputs, which differs from a mean with 6a's 4 outputs.
    At ABS(1.0) and beta = 10 ST3 holds when the 20-window fills; the
    window's errors are recomputed by training the same net here."""
    p = PRESETS["6a"].with_options(window=20, threshold=1.0, beta=10.0, avg_error="mse", limit=100,
                                   test_size=5)
    rec = run_trial(p, trial=0, seed=1)
    assert rec["success"] and rec["sequences"] == 20
    m = p.learner(seed=1)
    b = p.make_task(seed=[1, 1]).sample(20)
    out = m.learn_many(b.X, b.Y, b.resets)
    e = out[b.ends] - b.Y[b.ends]
    assert rec["train_avg_E"] == pytest.approx(np.mean([sum(v * v for v in row) for row in e]), rel=1e-12)
    assert rec["train_avg_error"] == rec["train_avg_E"]
    assert rec["train_avg_mae"] == pytest.approx(np.mean(np.abs(e)), rel=1e-12)


@pytest.mark.parametrize("row, whole", [(0, 0), (4, 0), (5, 1), (9, 1), (10, 2), (14, 2), (15, 3)])
def test_a_sequence_cut_at_its_last_step_by_a_divergence_is_not_counted(row, whole):
    """Kills ``np.count_nonzero(batch.ends < err.row)`` -> ``<=`` in
    ``Trial.train``: a DivergenceError at row r means rows 0 .. r-1 were
    learned and row r was refused, so a sequence ending *at* row r was not
    learned to its end.  Sequences of 5 steps: ends at rows 4, 9, 14, 19;
    hand count of the sequences whose every row is before r."""
    from types import SimpleNamespace

    from online_lstm import DivergenceError

    b = PRESETS["6a"].make_task(seed=0).sample(4)
    ends = np.array([4, 9, 14, 19])
    batch = Batch(X=np.zeros((20, b.X.shape[1])), Y=np.zeros((20, b.Y.shape[1])),
                  resets=np.isin(np.arange(20), ends - 4), ends=ends, target=np.zeros((4, b.Y.shape[1])))
    seen = []
    t = experiments.Trial(PRESETS["6a"], 0, 0, progress=lambda n, k: seen.append((n, k)))

    def diverge(X, Y, resets):
        raise DivergenceError("test", step=row, row=row)
    t.m = SimpleNamespace(learn_many=diverge)
    with pytest.raises(DivergenceError):
        t.train(batch)
    assert (t.seen, t.steps) == (whole, row) and seen == [(whole, row)]


def test_a_first_milestone_as_large_as_the_window_is_allowed_one_larger_is_not():
    """Kills ``opts["milestones"][0] > opts["window"]`` -> ``>=`` in
    ``Preset.with_options``.  Exp. 5's rule is "fewer than n_seq of the
    window's sequences wrong": a window of W holds at most W wrong ones, so
    n_seq = W + 1 holds as soon as the window fills (refused), while n_seq =
    W fails while every sequence in it is wrong (a real milestone)."""
    p = PRESETS["5"].with_options(window=140, milestones=(140, 13))
    assert p.options["milestones"] == (140, 13) and p.options["window"] == 140
    with pytest.raises(ValueError, match="as soon as the window fills"):
        PRESETS["5"].with_options(window=139, milestones=(140, 13))


def test_max_wrong_may_be_zero():
    """Kills ``_MAY_BE_ZERO = ("max_wrong",)`` -> ``()`` in presets.py: ST1
    with no misclassified sequence is 3a's and 3c's own rule (max_wrong = 0,
    §5.3), so ``--set max_wrong=0`` on 3b must be taken, and -1 refused."""
    assert PRESETS["3a-T100-N3"].options["max_wrong"] == 0
    assert PRESETS["3b-T100-N3"].with_options(max_wrong=0).options["max_wrong"] == 0
    with pytest.raises(ValueError, match="integer >= 0"):
        PRESETS["3b-T100-N3"].with_options(max_wrong=-1)
    with pytest.raises(ValueError, match="integer >= 1"):
        PRESETS["3b-T100-N3"].with_options(check_every=0)
