"""Tests written to kill mutants of the experiment runner's bookkeeping in
online_lstm/experiments.py (the record of a trial, the records CSV and
``--resume``, trial checkpoints, the side-by-side summary, ``reproduce()``'s
arguments) that the existing tests let through in a mutation audit.  Each
test's docstring names the mutant it kills.  Expected values come from the
documented behaviour (the docstrings of ``reproduce``, ``run_trial`` and
``compare``, README "Reproducing the paper") or from a hand count over the
records a test writes, never from the code's own output.
"""

import itertools
import time
import types

import pandas as pd

from online_lstm import experiments
from online_lstm.experiments import compare, read_records, reproduce, run_trial
from online_lstm.presets import PRESETS

#: a small trial: 6a's ST3 protocol, a few hundred sequences of ~100 steps
_SMALL = PRESETS["6a"].with_options(limit=300, test_size=20)
#: reproduce() arguments for runs of a few such trials, in this process
_RUN = dict(quick=True, progress=False, jobs=1, options=dict(limit=300, test_size=20))

#: the record fields compare reads, for records made by hand
_BASE = dict(options="", quick=False, version="v", reason="solved", steps=1000, wall_s=1.0, cpu_s=1.0)


def _rec(preset, trial, seed=0, **fields):
    rec = dict(_BASE, preset=preset, trial=trial, seed=seed + trial, data_seed=seed + trial)
    rec.update(fields)
    return rec


def _row(cmp, preset, quick=False):
    rows = cmp[(cmp["preset"] == preset) & (cmp["quick"] == quick)]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def _summary_records():
    """Four trials of 6a (three successful) and two of 2c-1 (one successful), by hand."""
    six = [  # (success, sequences, wrong, steps, wall_s)
        (True, 100, 0, 1000, 1.0),
        (True, 200, 2, 2000, 2.0),
        (True, 600, 1, 3000, 3.0),
        (False, 10_000, 50, 4000, 4.0),
    ]
    recs = [_rec("6a", k, success=s, sequences=n, wrong=w, steps=st, wall_s=wall, cpu_s=wall,
                 reason="solved" if s else "limit")
            for k, (s, n, w, st, wall) in enumerate(six)]
    recs += [_rec("2c-1", 0, success=True, sequences=5000, wrong=0, reason="solved"),
             _rec("2c-1", 1, success=False, sequences=9000, wrong=3, reason="limit")]
    return pd.DataFrame(recs)


def test_compare_counts_successes_and_their_sequences_by_hand():
    """Kills: compare's ``steps/s`` from the mean steps per trial over the
    total wall time (``df["steps"].mean() / wall``) instead of all the steps
    over all the time.  The other columns are counted by hand too (they also
    catch failed trials counted in ``ok``, a median computed as a mean, means
    over every trial, success % over every preset's records).

    compare's docstring: success %, mean sequences to success, median, wrong
    predictions (mean over successful trials), wall time per trial and in
    total, and steps per second."""
    cmp = compare(_summary_records())
    r = _row(cmp, "6a")
    assert r["trials"] == 4
    assert r["success %"] == 75.0  # 3 of 4
    assert r["mean seq"] == 300.0  # (100 + 200 + 600) / 3
    assert r["median seq"] == 200.0  # the middle one of 100, 200, 600
    assert r["wrong"] == 1.0  # (0 + 2 + 1) / 3
    assert r["wall s/trial"] == 2.5 and r["wall s total"] == 10.0
    assert r["steps/s"] == 1000.0  # 10,000 steps in 10 s
    r = _row(cmp, "2c-1")
    assert r["trials"] == 2 and r["success %"] == 50.0
    assert r["mean seq"] == 5000.0 == r["median seq"]


def test_a_replay_numbered_from_zero_is_no_conflict():
    """Kills: ``trial`` dropped from the fields in which two records of one
    trial may differ (``_RUN_FIELDS``): ``reproduce --seed 3`` runs trial 3 of
    seed 0 as its trial 0, the same trial (same seeds) under another index
    (compare's docstring: records that differ in the trial index only agree)."""
    first = _rec("6a", 3, seed=0, success=True, sequences=100, wrong=0)
    replay = _rec("6a", 0, seed=3, success=True, sequences=100, wrong=0, wall_s=7.0)
    assert (first["seed"], first["data_seed"]) == (replay["seed"], replay["data_seed"])
    cmp = compare(pd.DataFrame([first, replay]))
    assert _row(cmp, "6a")["trials"] == 1 and cmp.attrs["duplicates"] == 1
    assert cmp.attrs["conflicts"]["count"] == 0


def _clock(perf, cpu):
    """A stand-in for experiments' ``time`` module with the given clocks."""
    return types.SimpleNamespace(perf_counter=perf, process_time=cpu, time=time.time, sleep=time.sleep)


def test_steps_per_second_are_the_trial_s_steps_over_its_wall_time(monkeypatch):
    """Kills: ``steps_per_s`` computed from the training sequences
    (``self.seen``) instead of the steps (run_trial's docstring: ``steps``,
    training and test steps, and ``steps_per_s``).  The wall clock advances
    by 10 s a reading: the trial reads it at its start and at its end."""
    wall = itertools.count(0.0, 10.0)
    monkeypatch.setattr(experiments, "time", _clock(lambda: next(wall), lambda: 0.0))
    rec = run_trial(_SMALL, trial=0, seed=1)
    assert rec["wall_s"] == 10.0
    assert rec["steps"] > rec["sequences"] > 0
    assert rec["steps_per_s"] == round(rec["steps"] / 10.0)


def test_resume_keeps_a_trial_recorded_twice_once(tmp_path):
    """Kills: ``--resume`` keeping every row of a trial that the records file
    holds twice (a row pasted twice by hand), so that the run's table counted
    that trial twice.  README: the trials already in the CSV are kept and only
    the missing ones run: one record per trial."""
    kw = dict(_RUN, out=tmp_path, name="r", trials=2)
    first = reproduce("6a", **kw)
    path = tmp_path / "r.csv"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines + lines[1:2]))  # trial 0's row again, at the end
    df = reproduce("6a", resume=True, **kw)
    assert df["trial"].tolist() == [0, 1]
    cols = [c for c in first if c not in ("wall_s", "cpu_s", "steps_per_s")]
    pd.testing.assert_frame_equal(df[cols], first[cols], check_dtype=False)


def test_only_trials_runs_a_trial_named_twice_once():
    """Kills: ``only_trials`` taken as given, so that ``[1, 1]`` ran trial 1
    twice and recorded it twice (reproduce's docstring: "Run only these trial
    indices k"; records know a trial by preset and trial)."""
    df = reproduce("6a", only_trials=[1, 1], **_RUN)
    assert df["trial"].tolist() == [1] and df["seed"].tolist() == [1]


def test_resume_removes_the_checkpoint_of_a_trial_already_recorded(tmp_path):
    """Kills: ``--resume`` leaving the checkpoint of a trial whose record is in
    the CSV (a run killed between writing a record and removing the trial's
    checkpoint): reproduce's docstring, "the file goes once the trial's record
    is written"."""
    kw = dict(_RUN, out=tmp_path, name="r", trials=1)
    reproduce("6a", **kw)
    stray = tmp_path / "r.trials" / "6a.trial0.npz"
    stray.parent.mkdir()
    stray.write_bytes(b"left by a run killed between the record and the clean-up")
    reproduce("6a", resume=True, **kw)
    assert not stray.exists() and not stray.parent.exists()


def test_a_diverged_trial_records_the_sequences_it_trained(monkeypatch):
    """Kills: a diverged trial's ``sequences`` taken from the step counter.
    run_trial's docstring: ``sequences`` are the training sequences until
    success or the limit, and a diverged trial is unsuccessful, with reason
    "diverged: ...".  The learner "diverges" in its second training chunk
    (before learning any of it); the sequences it trained are counted here
    from the progress reports."""
    from online_lstm import DivergenceError

    monkeypatch.setattr(experiments, "_CHUNK_STEPS", 5000)  # ~50 sequences a chunk
    train, calls = experiments.Trial.train, []

    def diverging(self, batch):
        calls.append(len(batch))
        if len(calls) == 2:
            raise DivergenceError("made up for the test", step=0, row=None)
        return train(self, batch)

    monkeypatch.setattr(experiments.Trial, "train", diverging)
    reports = []
    rec = run_trial(_SMALL, trial=0, seed=1, progress=lambda n, s: reports.append((n, s)))
    assert rec["success"] is False and rec["reason"].startswith("diverged: made up for the test")
    assert rec["sequences"] == calls[0] == sum(n for n, _ in reports)
    assert rec["steps"] == sum(s for _, s in reports) > rec["sequences"]


def test_the_records_of_three_presets_are_named_after_them(tmp_path):
    """Kills: the default records name ``"presets"`` for three presets (it is
    for more than three), and a quick run's name without "-quick".  reproduce's docstring: "default the preset ids
    joined by "_" (up to three; else "presets"), with "-quick" for a quick run"."""
    reproduce(["1-1", "1-2", "1-3"], trials=1, quick=True, progress=False, jobs=1, out=tmp_path,
              options=dict(limit=50))
    assert sorted(f.name for f in tmp_path.iterdir()) == ["1-1_1-2_1-3-quick.csv"]


def test_resume_does_not_keep_a_quick_run_s_record_for_a_full_run(tmp_path):
    """Kills: ``--resume`` not comparing a record's ``quick`` with the run's.
    reproduce's docstring: resume keeps the trials "(same preset, trial, seed,
    options and ``quick``)"; the others stay in the file untouched.  With
    ``limit`` and ``test_size`` set, 6a's quick run has the same options text
    as its full run, so only ``quick`` tells the records apart."""
    kw = dict(_RUN, out=tmp_path, name="r", trials=1)
    quick = reproduce("6a", **kw)
    full = reproduce("6a", resume=True, **dict(kw, quick=False))
    assert quick["options"].tolist() == full["options"].tolist() == ["limit=300 test_size=20"]
    assert full["quick"].tolist() == [False]
    assert sorted(read_records(tmp_path / "r.csv")["quick"].tolist()) == [False, True]


def test_a_quick_run_runs_one_trial_per_preset_by_default():
    """Kills: another default trial count for quick runs (reproduce's
    docstring: ``trials``, "default the paper's count (1 with ``quick``)")."""
    df = reproduce(["6a", "6b"], **_RUN)
    assert list(zip(df["preset"], df["trial"])) == [("6a", 0), ("6b", 0)]
