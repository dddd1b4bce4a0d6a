"""Audit of the experiment runner (``online_lstm.experiments``, ``online_lstm.cli``):
regression tests for defects found there, each failing before its fix.

* a ``reproduce`` refused before its trials (a records file it cannot use, a
  checkpoint that does not fit) kept its records lock for as long as its
  exception lived (in IPython or Jupyter, ``sys.last_value``: until the next
  error), so a corrected rerun into the same file was refused as "another
  reproduce is writing";
* ``--set construct=True`` on a preset without sequential construction (2c,
  the RTRL rows) passed the checks and crashed inside the first trial;
* a run that ended just as another started (between its open and its
  ``flock`` of the lock file) left that one locking a removed file, so a
  third run could take the lock as well;
* a trial checkpoint saved with a learner argument at its default value
  (``--set update=step``) was refused on resume without it (and the other
  way round) with only a preset digest to say why, although the records see
  no change and keep that run's finished trials;
* a resumed Experiment 5 trial, and a run whose trials finished in another
  order, wrote the same records with their columns in another order.
"""

import gc

import pandas as pd
import pytest

from online_lstm.cli import main
from online_lstm.experiments import ResumeError, _frame, _RecordsLock, reproduce, run_trial
from online_lstm.presets import PRESETS


# -- the records lock ---------------------------------------------------------
def _refused_not_records(out):
    (out / "r.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ResumeError, match="not a records file") as info:
        reproduce("2c-1", quick=True, out=out, name="r", progress=False, jobs=1)
    return info


def _refused_checkpoint(out):
    (out / "r.trials").mkdir()
    (out / "r.trials" / "2c-1.trial0.npz").write_bytes(b"not a checkpoint")
    with pytest.raises(Exception, match="2c-1.trial0.npz") as info:
        reproduce("2c-1", quick=True, out=out, name="r", progress=False, jobs=1, resume=True)
    return info


@pytest.mark.parametrize("refuse", [_refused_not_records, _refused_checkpoint],
                         ids=["not-records", "bad-checkpoint"])
def test_a_refused_reproduce_releases_its_records_lock(tmp_path, refuse):
    info = refuse(tmp_path)  # the exception (and its traceback) kept, as an interactive session does
    gc.collect()
    lock = _RecordsLock(tmp_path / "r.csv")  # before the fix: "another reproduce is writing"
    lock.release()
    assert not (tmp_path / "r.csv.lock").exists()
    del info


# -- --set construct=True -----------------------------------------------------
@pytest.mark.parametrize("pid", ["2c-1", "2a-rtrl-p4-lr1"])
def test_construct_is_refused_where_the_preset_cannot_construct(pid, tmp_path, capsys):
    with pytest.raises(ValueError, match="construct"):
        PRESETS[pid].with_options(construct=True)
    assert main(["reproduce", pid, "--quick", "--jobs", "1", "--out", str(tmp_path), "--no-progress",
                 "--set", "construct=True"]) == 2
    err = capsys.readouterr().err
    assert "construct" in err and "Traceback" not in err
    assert not list(tmp_path.glob("*.csv"))  # refused before any trial
    PRESETS["2c-1"].with_options(construct=False)  # no change: still fine
    PRESETS["2a"].with_options(construct=False)  # 2a without construction: fine


# -- column order -------------------------------------------------------------
class _Stop(Exception):
    pass


_TIMING = {"wall_s", "cpu_s", "steps_per_s"}


def _interrupted_then_resumed(first, then, stop_after, ck, **trial):
    """Run ``first`` until ``stop_after`` sequences, checkpointing at the
    stop, then resume the trial from that checkpoint as preset ``then``;
    the resumed record without its timing fields, in its order."""
    seen = [0]

    def progress(n, _):
        seen[0] += n
        if seen[0] >= stop_after:
            raise _Stop

    with pytest.raises(_Stop):
        run_trial(first, **trial, progress=progress, checkpoint=ck, checkpoint_every=0)
    rec = run_trial(then, **trial, checkpoint=ck, checkpoint_every=0, resume=True)
    return {k: v for k, v in rec.items() if k not in _TIMING}


def test_a_resumed_milestones_trial_keeps_the_record_s_column_order(tmp_path):
    """Preset 5 stopped after its first milestone and resumed: the record has
    the uninterrupted record's values and its columns in the same order (a
    records CSV's header is the same)."""
    p = PRESETS["5"].with_options(limit=20000, test_size=200, milestones=(1900, 1500))
    ref = run_trial(p, trial=1, seed=2)
    assert "n1900_sequences" in ref and ref["n1900_sequences"] < 10000
    rec = _interrupted_then_resumed(p, p, 10000, tmp_path / "t.npz", trial=1, seed=2)
    assert list(rec) == [k for k in ref if k not in _TIMING]
    assert rec == {k: v for k, v in ref.items() if k not in _TIMING}


def test_the_records_columns_do_not_depend_on_the_order_trials_finished():
    """With several worker processes, trials finish in any order; the table
    (and so the records CSV) must not depend on it."""
    # trial 0 met the n_seq = 140 milestone, trial 1 did not
    a = dict(preset="5", trial=0, seed=0, data_seed=0, n140_sequences=10, n140_test_mse=0.5, success=False,
             sequences=20, test_mse=0.25, reason="limit")
    b = dict(preset="5", trial=1, seed=1, data_seed=1, success=False, sequences=30, test_mse=0.75,
             reason="limit")
    one, two = _frame([a, b]), _frame([b, a])
    assert list(one.columns) == list(two.columns)
    pd.testing.assert_frame_equal(one, two)


def test_a_run_that_ends_while_another_starts_leaves_the_lock_with_one_run(tmp_path, monkeypatch):
    """The lock file is removed when a run ends.  A run that opened it just
    before (and locks it just after) held a lock on a file no longer there,
    and a third run then created and locked a new one: two runs writing one
    records file, each dropping the other's records."""
    import fcntl

    path = tmp_path / "r.csv"
    first = _RecordsLock(path)
    real = fcntl.flock

    def flock(f, op):
        if first.file is not None and f is not first.file:
            first.release()  # the first run ends between the second's open and its flock
        return real(f, op)

    monkeypatch.setattr(fcntl, "flock", flock)
    second = _RecordsLock(path)
    monkeypatch.setattr(fcntl, "flock", real)
    try:
        with pytest.raises(ResumeError, match="another reproduce is writing"):
            _RecordsLock(path)
    finally:
        second.release()


def test_a_checkpoint_resumes_where_the_records_see_the_same_options(tmp_path):
    """``--set update=step`` (the learner's default) is no change to the
    records (their ``options`` text is empty, so ``--resume`` keeps finished
    trials either way), and it runs the same trial; its checkpoints were
    refused all the same, with only an opaque preset digest to say why."""
    from online_lstm.experiments import _option_text

    plain = PRESETS["2c-1"].with_options(limit=400, test_size=10)
    same = plain.with_options(update="step")
    assert _option_text(same) == _option_text(plain) == "limit=400 test_size=10"
    ref = run_trial(plain, trial=0, seed=3)
    rec = _interrupted_then_resumed(same, plain, 200, tmp_path / "t.npz", trial=0, seed=3)
    assert rec == {k: v for k, v in ref.items() if k not in _TIMING}
