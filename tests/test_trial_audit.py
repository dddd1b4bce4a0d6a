"""The experiment runner's Python API as a researcher calls it: run_trial's and
Trial's arguments, Presets made by hand, and the protocols' rules at their
boundaries (a rule that holds in the same chunk as another event, two
milestones met by one sequence), each against what a per-sequence loop of the
spec's rule gives."""

import dataclasses
import re

import numpy as np
import pandas as pd
import pytest

from online_lstm import experiments
from online_lstm.experiments import ResumeError, Trial, compare, reproduce, run_trial
from online_lstm.presets import PRESETS

from conftest import StandInLearner

TIMING = {"wall_s", "cpu_s", "steps_per_s"}


def _same(a: dict, b: dict):
    keys = (set(a) | set(b)) - TIMING
    diff = {k: (a.get(k), b.get(k)) for k in keys
            if not (a.get(k) == b.get(k) or (isinstance(a.get(k), float) and isinstance(b.get(k), float)
                                              and np.isnan(a[k]) and np.isnan(b[k])))}
    assert not diff, diff


TINY = PRESETS["6a"].with_options(limit=20, test_size=5)


# ---------------------------------------------------------------------------
# arguments
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("kw, err, message", [
    (dict(trial=-1), ValueError, "trial must be an integer >= 0; got -1"),
    (dict(trial=True), ValueError, "trial must be an integer >= 0; got True"),
    (dict(trial=1.5), ValueError, "trial must be an integer >= 0; got 1.5"),
    (dict(seed=-5), ValueError, "seed must be an integer >= 0; got -5"),
    (dict(seed="3"), ValueError, "seed must be an integer >= 0; got '3'"),
    (dict(seed=2.0), ValueError, "seed must be an integer >= 0; got 2.0"),
    (dict(progress=3), TypeError, "progress must be a callable"),
    (dict(checkpoint="c.npz", checkpoint_every=-1), ValueError, "checkpoint_every must be a number of seconds >= 0"),
    (dict(checkpoint="c.npz", checkpoint_every=float("nan")), ValueError, "checkpoint_every must be"),
    (dict(checkpoint="c.npz", checkpoint_every="60"), ValueError, "checkpoint_every must be"),
    (dict(resume=True), ResumeError, "resume=True needs checkpoint="),
])
def test_bad_trial_arguments_are_refused_before_any_training(kw, err, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # (trial -1 of seed 5 once ran silently with the weights of trial 0 of seed 4)
    built = []
    monkeypatch.setattr(type(TINY), "learner", lambda self, seed=None, **c: built.append(seed))
    kw = dict(dict(trial=0, seed=5), **kw)
    says = re.escape(message)
    with pytest.raises(err, match=says):
        run_trial(TINY, **kw)
    with pytest.raises(err, match=says):  # the class says the same (not some other error of its type)
        Trial(TINY, kw.pop("trial"), kw.pop("seed"), **kw)
    assert built == [] and not list(tmp_path.iterdir())  # nothing built, nothing written


def test_numpy_integers_are_seeds_and_records_hold_plain_ints():
    rec = run_trial(TINY, trial=np.int64(1), seed=np.uint8(3))
    assert (rec["trial"], rec["seed"], rec["data_seed"]) == (1, 4, 4)
    assert type(rec["trial"]) is int and type(rec["seed"]) is int
    _same(rec, run_trial(TINY, trial=1, seed=3))


@pytest.mark.parametrize("preset, err, message", [
    ("6A", KeyError, "unknown preset '6A' .did you mean '6a'"),
    (6, TypeError, "preset must be a preset id or a Preset; got 6"),
    (None, TypeError, "preset must be a preset id or a Preset; got None"),
])
def test_an_unknown_preset_is_named(preset, err, message):
    with pytest.raises(err, match=message):
        run_trial(preset)


@pytest.mark.parametrize("change, message", [
    (dict(options=dict(TINY.options, limit=0)), "preset 6a: option limit must be an integer >= 1; got 0"),
    (dict(options=dict(TINY.options, threshold=-0.3)), "preset 6a: option threshold must be a finite number > 0"),
    (dict(options={k: v for k, v in TINY.options.items() if k != "beta"}),
     r"preset 6a: its protocol 'st3' needs the options \['beta'\]"),
    (dict(protocol="st4"), "preset 6a: unknown protocol 'st4'"),
])
def test_a_preset_made_by_hand_that_its_protocol_cannot_run_is_refused(change, message):
    """``dataclasses.replace`` skips ``with_options``' checks: run_trial makes
    them (a limit of 0 once ran a 'trial' of no training and a test)."""
    with pytest.raises(ValueError, match=message):
        run_trial(dataclasses.replace(TINY, **change))
    five = PRESETS["5"]
    with pytest.raises(ValueError, match="would be met as soon as the window fills"):
        run_trial(dataclasses.replace(five, options=dict(five.options, window=100)))


@pytest.mark.parametrize("pid", list(PRESETS))
def test_every_registered_preset_and_its_quick_version_passes_the_checks(pid):
    experiments._check_preset(PRESETS[pid])
    experiments._check_preset(PRESETS[pid].quick_version())


# ---------------------------------------------------------------------------
# the rules at their boundaries, against per-sequence loops
# ---------------------------------------------------------------------------
def naive_milestones(preset, trial, seed):
    """Spec §5.5, one sequence at a time: after each training sequence, every
    milestone n_seq not met yet, in turn, that fewer than n_seq of the window's
    sequences (once it is full) are wrong is met by this sequence, with a frozen
    test of these weights."""
    o = preset.options
    s = seed + trial
    m = preset.learner(seed=s)
    task = preset.make_task(seed=[s, 1])
    test = preset.make_task(seed=[s, 2]).sample(o["test_size"])
    recent, met, seen = [], {}, 0
    todo = list(o["milestones"])
    while seen < o["limit"] and todo:
        b = task.sample(1)
        out = m.learn_many(b.X, b.Y, b.resets)
        seen += 1
        recent = (recent + [bool(np.any(np.abs(out[-1] - b.Y[-1]) >= o["threshold"]))])[-o["window"]:]
        while todo and len(recent) == o["window"] and sum(recent) < todo[0]:
            m.reset()
            err = m.predict_many(test.X, test.resets)[test.ends] - test.target
            met[todo.pop(0)] = (seen, int(np.sum(np.any(np.abs(err) >= o["threshold"], axis=1))),
                                float(np.mean(err ** 2)))
    return met


@pytest.mark.parametrize("opts", [
    dict(window=5, milestones=(3, 2), threshold=10.0),     # nothing wrong: both met as the window fills
    dict(window=40, milestones=(30, 20), threshold=0.25),  # 15 of 40 wrong: both met as the window fills
])
@pytest.mark.parametrize("limit", [40, 200])
def test_two_milestones_met_by_one_sequence_are_both_met_there(opts, limit):
    """Exp. 5's test moments: 'as soon as fewer than n_seq of the 2000 most
    recent sequences are wrong'.  When the window first fills with fewer
    wrong than both milestones, both are met by that sequence; the second was
    put off to the next sequence (tested on other weights), and a trial whose
    limit was that sequence failed."""
    p = PRESETS["5"].with_options(limit=limit, test_size=30, **opts)
    want = naive_milestones(p, 1, 0)
    first, second = p.options["milestones"]
    assert want[first][0] == want[second][0] == p.options["window"]  # the case this test is about
    rec = run_trial(p, trial=1, seed=0)
    for ms in (first, second):
        assert (rec[f"n{ms}_sequences"], rec[f"n{ms}_wrong"], rec[f"n{ms}_test_mse"]) == want[ms]
    assert rec["success"] and rec["sequences"] == p.options["window"]
    exact = run_trial(p.with_options(limit=p.options["window"]), trial=1, seed=0)
    assert exact["success"] and exact["n%d_sequences" % second] == p.options["window"]


def naive_constructed_streak(preset, trial, seed):
    """Spec §5.2 with sequential construction (§8 item 18), one sequence at a
    time: the cell is out (its input gate shut) until the trigger fires at the
    end of a block; the trial succeeds at the sequence that completes a streak
    of ``streak`` right sequences, even one the cell was never added for."""
    o = preset.options
    s = seed + trial
    m = preset.learner(seed=s)
    task = preset.make_task(seed=[s, 1])
    saved = experiments._gate_shut(m, True)
    plateau = experiments.Plateau.of(o)
    wrong = experiments.streak_wrong(o)
    run = seen = 0
    added_at = None
    while seen < o["limit"]:
        b = task.sample(1)
        out = m.learn_many(b.X, b.Y, b.resets)
        seen += 1
        run = 0 if wrong(out, b)[0] else run + 1
        if run >= o["streak"]:
            return dict(success=True, streak_end=seen, cell_added_at=added_at)
        if saved is not None and plateau.add(experiments.sequence_sse(out, b)):
            saved = experiments._gate_shut(m, False, saved)
            added_at, run = seen, 0
    return dict(success=False, streak_end=None, cell_added_at=added_at)


@pytest.fixture
def flat_error(monkeypatch):
    """Every sequence's E is 1: the construction trigger fires ``plateau_patience``
    blocks after the first, whatever the net learns."""
    monkeypatch.setattr(experiments, "sequence_sse", lambda out, b: np.ones(len(b)))


@pytest.mark.parametrize("streak", [7, 10, 12])
@pytest.mark.parametrize("chunk", [None, 3])
def test_a_streak_and_the_construction_trigger_in_one_chunk_keep_their_order(flat_error, monkeypatch,
                                                                              streak, chunk):
    """2a/2b: the trigger fires at sequence 10 (blocks of 5, patience 1).  A
    streak of 7 completes at sequence 7: the trial succeeds there, the cell
    never added (it was added at 10, the streak discarded and counted again
    to 17); a streak of 10 completes with the trigger's block (the rule that
    stops the trial first); a streak of 12 needs the cell, added at 10, and
    ends at 22.  With chunks of 3 sequences (a block of the trigger spread
    over chunks) the cell joins at the block's end, not at the end of the
    chunk it falls in (sequence 12)."""
    if chunk is not None:  # (chunks of this many sequences of 101 steps)
        monkeypatch.setattr(experiments, "_CHUNK_STEPS", 101 * chunk)
    p = PRESETS["2a"].with_options(plateau_block=5, plateau_patience=1, streak=streak, threshold=10.0,
                                   limit=60, test_size=5)
    want = naive_constructed_streak(p, 0, 1)
    rec = run_trial(p, trial=0, seed=1)
    assert {k: rec[k] for k in want} == want
    assert rec["sequences"] == want["streak_end"] - streak  # 'success after': the streak's start
    assert want["cell_added_at"] == (None if streak <= 10 else 10)  # the cases the doc names


def test_the_cell_joins_at_its_block_s_end_when_chunks_are_smaller_than_blocks(flat_error, monkeypatch):
    monkeypatch.setattr(experiments, "_CHUNK_STEPS", 101 * 7)  # chunks of 7, blocks of 10
    p = PRESETS["2a"].with_options(plateau_block=10, plateau_patience=2, limit=45, test_size=5)
    want = naive_constructed_streak(p, 0, 0)
    rec = run_trial(p, trial=0, seed=0)
    assert want["cell_added_at"] == rec["cell_added_at"] == 30  # was 35, the end of its chunk
    assert not rec["success"] and rec["sequences"] == 45


# ---------------------------------------------------------------------------
# resume from a checkpoint written at any point
# ---------------------------------------------------------------------------
class Killed(Exception):
    """Stands for the process being killed at a progress report."""


def _resumes_everywhere(preset, tmp_path, trial=1, seed=2):
    """Stop the trial at each of its progress reports in turn (a checkpoint at
    every pass of its loop), resume it, and compare with the uninterrupted record."""
    reports = []
    ref = run_trial(preset, trial=trial, seed=seed, progress=lambda n, s: reports.append(n))
    assert len(reports) >= 3
    for k in range(1, len(reports)):
        path = tmp_path / f"stop{k}.npz"
        calls = [0]

        def progress(n, steps):
            calls[0] += 1
            if calls[0] == k:
                raise Killed

        with pytest.raises(Killed):
            run_trial(preset, trial=trial, seed=seed, progress=progress, checkpoint=path, checkpoint_every=0)
        assert path.exists()
        _same(ref, run_trial(preset, trial=trial, seed=seed, checkpoint=path, checkpoint_every=0, resume=True))
    return ref


def test_construction_with_blocks_over_chunks_resumes_anywhere(flat_error, monkeypatch, tmp_path):
    """A checkpoint between chunks inside a trigger block holds the block's
    part (``plateau.pending``), and the resumed trial's chunks end where the
    uninterrupted one's do."""
    monkeypatch.setattr(experiments, "_CHUNK_STEPS", 101 * 3)
    p = PRESETS["2a"].with_options(plateau_block=5, plateau_patience=1, streak=12, threshold=10.0,
                                   limit=60, test_size=5)
    ref = _resumes_everywhere(p, tmp_path)
    assert ref["cell_added_at"] == 10 and ref["streak_end"] == 22


@pytest.mark.parametrize("pid, opts", [
    ("5", dict(window=40, milestones=(30, 20), threshold=0.25, limit=150, test_size=20)),
    ("3c-T100-N3", dict(T=10, limit=500, check_every=50, stop_test_size=20, test_size=20)),
    ("1-5", dict(limit=400, n_train=8, n_test=8)),
])
def test_cheap_trials_resume_anywhere(pid, opts, tmp_path, monkeypatch):
    monkeypatch.setattr(experiments, "_CHUNK_STEPS", 2000)  # several chunks in a short trial
    _resumes_everywhere(PRESETS[pid].with_options(**opts), tmp_path)


# ---------------------------------------------------------------------------
# reproduce and compare
# ---------------------------------------------------------------------------
def test_reproduce_refuses_a_preset_of_its_own_id_before_running_it(tmp_path, monkeypatch):
    """A Preset with an id of its own ran its first trial and then failed
    with KeyError: 'mine' (its records' options are read against the
    registered preset of its id), leaving no records."""
    ran = []
    monkeypatch.setattr(experiments, "run_trial", lambda *a, **k: ran.append(a))
    mine = dataclasses.replace(TINY, id="mine")
    with pytest.raises(ValueError, match="preset 'mine' is not a registered preset"):
        reproduce(mine, trials=1, jobs=1, progress=False, out=tmp_path)
    with pytest.raises(TypeError, match="presets must be preset ids, groups or Presets; got 5"):
        reproduce(["6a", 5], trials=1, jobs=1, progress=False)
    bad = dataclasses.replace(TINY, options=dict(TINY.options, limit=0))
    with pytest.raises(ValueError, match="option limit must be an integer >= 1; got 0"):
        reproduce(bad, trials=1, jobs=1, progress=False, out=tmp_path)
    assert ran == [] and not list(tmp_path.glob("*.csv"))
    assert run_trial(mine)["preset"] == "mine"  # run_trial runs it


def test_compare_names_records_of_unknown_presets():
    rec = dict(run_trial(TINY), version="v", quick=False, options="limit=20 test_size=5")
    with pytest.raises(ValueError, match=r"records of unknown presets \['mine'\]"):
        compare(pd.DataFrame([rec, dict(rec, preset="mine")]))
    assert len(compare(pd.DataFrame([rec]))) == 1


# ---------------------------------------------------------------------------
# thresholds at their boundaries (errors exactly at the threshold)
# ---------------------------------------------------------------------------
class OffBy(StandInLearner):
    """A learner whose training outputs miss each 0/1 target by exactly ``d``
    (a power of 2: the errors and their window sums are exact)."""

    def __init__(self, d, n_out):
        self.d, self.n_out, self.n = d, n_out, 0

    def learn_many(self, X, Y, resets):
        self.n += 1
        Y = np.nan_to_num(Y)
        return np.where(Y >= 0.5, Y - self.d, Y + self.d)

    def predict_many(self, X, resets):
        return np.full((len(X), self.n_out), 0.5)


@pytest.mark.parametrize("d, beta, success, sequences", [
    (0.125, 0.25, True, 4),      # every sequence right, average 0.125 < beta: met when the window fills
    (0.125, 0.125, False, 20),   # average == beta: not below it
    (0.25, 1.0, False, 20),      # every error == the threshold: every sequence wrong (ABS: below it)
])
def test_st3_reads_below_at_both_of_its_thresholds(monkeypatch, d, beta, success, sequences):
    """ST3(beta) (Table 11): the average training error *below* beta and the
    window's sequences all right, right meaning ABS(0.25): every output's end
    error *below* 0.25."""
    monkeypatch.setattr(type(TINY), "learner", lambda self, seed=None, **c: OffBy(d, 4))
    p = PRESETS["6a"].with_options(window=4, threshold=0.25, beta=beta, limit=20, test_size=5)
    rec = run_trial(p)
    assert (rec["success"], rec["sequences"]) == (success, sequences)
    assert rec.get("all_correct_sequences") == (4 if d < 0.25 else None)
    if success:
        assert rec["train_avg_error"] == rec["train_avg_mae"] == d


@pytest.mark.parametrize("err, st1, success", [
    (0.125, 100, False),  # ST1 at the first check; mean error == max_error: ST2 not met
    (0.0625, 100, True),  # mean error below max_error: ST2 with ST1 at the first check
    (0.25, None, False),  # every end error == the threshold: every sequence wrong (ABS(0.25))
])
def test_st1_and_st2_read_below_at_their_thresholds(monkeypatch, err, st1, success):
    """3a (§5.3): right = end error below the threshold; ST2 = ST1 and the
    mean absolute test error below ``max_error``; checked every 100 sequences."""
    monkeypatch.setattr(experiments, "end_errors", lambda out, b: np.full((len(b), 1), err))
    p = PRESETS["3a-T100-N3"].with_options(T=10, threshold=0.25, max_error=0.125, limit=300,
                                           stop_test_size=20, test_size=10)
    rec = run_trial(p)
    assert (rec["st1_sequences"], rec["success"]) == (st1, success)
    assert rec["sequences"] == (100 if success else 300)
    assert rec["wrong"] == (10 if err == 0.25 else 0)


@pytest.mark.parametrize("err, ok", [(0.1875, True), (0.25, False)])
def test_a_streak_needs_end_errors_below_the_threshold(monkeypatch, err, ok):
    """2b/2c success (§5.2): 'always below' the threshold over the streak."""
    monkeypatch.setattr(experiments, "end_errors", lambda out, b: np.full((len(b), 2), err))
    p = PRESETS["2c-1"].with_options(streak=5, threshold=0.25, limit=30, test_size=5)
    rec = run_trial(p)
    assert rec["success"] == ok and rec["streak_end"] == (5 if ok else None)
    assert rec["sequences"] == (0 if ok else 30)


@pytest.mark.parametrize("name", ["", "  ", "a/b", "..", 3])
def test_reproduce_refuses_a_records_name_that_is_no_file_name(tmp_path, name):
    with pytest.raises(ValueError, match="name must be a file name for the records"):
        reproduce(TINY, trials=1, jobs=1, progress=False, out=tmp_path, name=name)
    assert not list(tmp_path.iterdir())
