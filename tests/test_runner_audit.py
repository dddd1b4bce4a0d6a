"""Audit of the experiment runner (``online_lstm.experiments``, ``online_lstm.cli``):
regression tests for defects found there, each failing before its fix.

* a ``reproduce`` refused before its trials (a records file it cannot use, a
  checkpoint that does not fit) kept its records lock for as long as its
  exception lived (in IPython or Jupyter, ``sys.last_value``: until the next
  error), so a corrected rerun into the same file was refused as "another
  reproduce is writing";
* ``--set construct=True`` on a preset without sequential construction (2c,
  the RTRL rows) passed the checks and crashed inside the first trial;
* a resumed Experiment 5 trial, and a run whose trials finished in another
  order, wrote the same records with their columns in another order.
"""

import gc

import pytest

from online_lstm.cli import main
from online_lstm.experiments import ResumeError, _RecordsLock, reproduce
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
