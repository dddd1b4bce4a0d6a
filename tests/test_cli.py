"""The ``online-lstm`` command line."""

import os
import subprocess
import sys
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from online_lstm.cli import main
from online_lstm.experiments import read_records
from online_lstm.presets import PRESETS


def test_reproduce_quick_preset_writes_csv_and_table(tmp_path, capsys):
    code = main(["reproduce", "1-5", "--quick", "--trials", "2", "--jobs", "1", "--out", str(tmp_path),
                 "--no-progress", "--set", "limit=3000"])
    assert code == 0
    df = pd.read_csv(tmp_path / "1-5-quick.csv")
    assert len(df) == 2 and set(df["preset"]) == {"1-5"} and list(df["trial"]) == [0, 1]
    for col in ("seed", "success", "sequences", "wrong", "steps", "wall_s", "steps_per_s", "version"):
        assert col in df
    assert df["sequences"].max() <= 3000
    assert (tmp_path / "1-5-quick-summary.csv").exists()
    out = capsys.readouterr().out
    assert "Table 1: LSTM 1-5" in out and "8,440" in out  # the paper's figure beside ours


def test_reproduce_resume_completes_a_killed_run_and_refuses_foreign_records(tmp_path, capsys):
    args = ["reproduce", "6a", "--quick", "--jobs", "1", "--out", str(tmp_path), "--no-progress",
            "--set", "limit=300", "--name", "r"]
    assert main(args + ["--trials", "1"]) == 0
    first = read_records(tmp_path / "r.csv")
    assert main(args + ["--trials", "2", "--resume"]) == 0
    both = read_records(tmp_path / "r.csv")
    assert list(both["trial"]) == [0, 1] and both.iloc[0].equals(first.iloc[0])  # trial 0 reused
    assert "Table 9: task 6a" in capsys.readouterr().out
    (tmp_path / "r.csv").write_text("not,records\n1,2\n")
    assert main(args + ["--trials", "2", "--resume"]) == 2
    assert "cannot resume" in capsys.readouterr().err


def _quick_run(tmp_path, preset, limit, name="r"):
    """``online-lstm reproduce <preset> --quick`` into ``tmp_path/<name>.csv``."""
    assert main(["reproduce", preset, "--quick", "--jobs", "1", "--out", str(tmp_path),
                 "--no-progress", "--set", f"limit={limit}", "--name", name]) == 0


def _compare(capsys, *paths, markdown=True):
    """``online-lstm compare`` of ``paths``; its standard output."""
    capsys.readouterr()
    assert main(["compare", *map(str, paths)] + (["--markdown"] if markdown else [])) == 0
    return capsys.readouterr().out


def test_compare_rebuilds_the_table(tmp_path, capsys):
    _quick_run(tmp_path, "6a", 500)
    out = _compare(capsys, tmp_path / "r.csv")
    assert out.startswith("| preset |") and "31,390" in out
    _quick_run(tmp_path, "1-5", 200, name="s")
    out = _compare(capsys, tmp_path / "r.csv", tmp_path / "s.csv", markdown=False)
    assert out.index("Table 1: LSTM 1-5") < out.index("Table 9: task 6a")  # paper order


def test_compare_skips_the_summary_written_next_to_the_records(tmp_path, capsys):
    """``compare results/*.csv`` (the README's command) must not count summary rows as trials."""
    _quick_run(tmp_path, "6a", 300)
    capsys.readouterr()
    files = sorted(str(p) for p in tmp_path.glob("*.csv"))
    assert len(files) == 2
    assert main(["compare", *files, "--markdown"]) == 0
    out = capsys.readouterr()
    assert "| 6a (quick) [limit=300] | Table 9: task 6a | 1 |" in out.out and "skipping" in out.err
    assert main(["compare", str(tmp_path / "r-summary.csv")]) == 2


def test_compare_names_what_it_cannot_use(tmp_path, capsys):
    """A missing file is an error; files that are not records are skipped, each with the reason,
    and the table is built from the rest (``compare dir/*.csv`` over a mixed directory)."""
    _quick_run(tmp_path, "6a", 300)
    capsys.readouterr()
    assert main(["compare", str(tmp_path / "nosuch.csv")]) == 2
    err = capsys.readouterr().err
    assert "cannot read" in err and "nosuch.csv" in err
    odd = {
        "binary.csv": b"\x7fELF\x02\x01\xf0\x80\x80 not text",
        "empty.csv": b"",
        "other.csv": b"trial,x\n1,2\n",  # a table with a trial column, not ours
        "future.csv": (tmp_path / "r.csv").read_bytes().replace(b"\n6a,", b"\n6z,"),
        "header.csv": (tmp_path / "r.csv").read_bytes().splitlines(keepends=True)[0],  # no trial yet
    }
    for name, data in odd.items():
        (tmp_path / name).write_bytes(data)
        assert main(["compare", str(tmp_path / name)]) == 2
        err = capsys.readouterr().err
        assert f"skipping {tmp_path / name}" in err and "no records files" in err, (name, err)
    assert "missing columns ['preset', 'seed'" in _err_of(capsys, tmp_path / "other.csv")
    assert "unknown presets ['6z']" in _err_of(capsys, tmp_path / "future.csv")
    assert "no records yet (a header only)" in _err_of(capsys, tmp_path / "header.csv")
    files = [str(tmp_path / n) for n in [*odd, "r.csv"]]
    assert main(["compare", *files, "--markdown"]) == 0
    out = capsys.readouterr()
    assert "| 6a (quick) [limit=300] | Table 9: task 6a | 1 |" in out.out
    assert out.err.count("skipping") == len(odd) and "Traceback" not in out.err


def _err_of(capsys, path):
    main(["compare", str(path)])
    return capsys.readouterr().err


def test_list_shows_every_preset(capsys):
    assert main(["list"]) == 0
    header, *rows = capsys.readouterr().out.splitlines()
    assert header.split()[0] == "preset"
    listed = [row.split()[0] for row in rows]  # a row per figure of the paper, under its preset
    assert set(listed) == set(PRESETS)
    assert Counter(listed) == {pid: len(p.paper) for pid, p in PRESETS.items()}
    assert main(["list", "2c-9", "-v"]) == 0
    assert "203,000" in capsys.readouterr().out


def test_bad_target_and_option(capsys):
    assert main(["reproduce", "9z", "--quick"]) == 2
    assert "unknown preset" in capsys.readouterr().err
    assert main(["list", "9z"]) == 2
    assert "online-lstm list: unknown preset or experiment '9z'" in capsys.readouterr().err
    assert main(["reproduce", "1-5", "--quick", "--set", "momentum=0.9"]) == 2
    assert "no option" in capsys.readouterr().err
    assert main(["reproduce", "1-5", "--set", "novalue"]) == 2
    assert "--set needs KEY=VALUE; got 'novalue'" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["--trials", "0"], "argument --trials: expected an integer in [1, 1,000,000]; got 0"),
    (["--trials", "two"], "argument --trials: expected an integer in [1, 1,000,000]; got 'two'"),
    (["--jobs", "0"], "argument --jobs: expected an integer >= 1"),
    (["--seed", "-1"], "argument --seed: expected an integer >= 0"),
    (["--checkpoint-every", "-5"], "argument --checkpoint-every: expected a number of seconds >= 0"),
    (["--checkpoint-every", "nan"], "argument --checkpoint-every: expected a number of seconds >= 0"),
    (["--trials", "99999999999999999999"], "argument --trials: expected an integer in [1, 1,000,000]"),
])
def test_reproduce_refuses_bad_numbers_before_any_trial(tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as info:
        main(["reproduce", "6a", "--quick", "--out", str(tmp_path), "--no-progress", *args])
    assert info.value.code == 2 and message in capsys.readouterr().err
    assert not list(tmp_path.iterdir())  # nothing ran, nothing written


@pytest.mark.parametrize("value, message", [
    ("limit=abc", "option limit must be an integer >= 1; got 'abc'"),
    ("limit=-5", "option limit must be an integer >= 1; got -5"),
    ("lr=-1", "lr must be a finite number >= 0"),
])
def test_reproduce_refuses_bad_option_values_before_any_trial(tmp_path, capsys, value, message):
    assert main(["reproduce", "6a", "--quick", "--out", str(tmp_path), "--no-progress",
                 "--set", value]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())


def test_reproduce_says_when_out_is_not_a_directory(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert main(["reproduce", "6a", "--quick", "--out", str(tmp_path / "file"), "--no-progress"]) == 2
    assert "cannot use --out" in capsys.readouterr().err


@pytest.mark.parametrize("make, says", [
    (lambda out: (out / "r.csv").mkdir(), "r.csv exists and is not a file"),
    (lambda out: (out / "r.trials").write_text("x"), "r.trials exists and is not a directory"),
    (None, "no file can be written there"),
])
def test_reproduce_checks_that_out_takes_its_files_before_any_trial(make, says, tmp_path, capsys,
                                                                    monkeypatch):
    """A records directory that cannot take the records fails at once, with
    exit 2, not with a traceback after the trials have run."""
    if make is None:
        import tempfile

        def refuse(*a, **kw):
            raise PermissionError(13, "Permission denied")
        monkeypatch.setattr(tempfile, "TemporaryFile", refuse)
    else:
        make(tmp_path)
    before = sorted(tmp_path.iterdir())
    assert main(["reproduce", "6a", "--quick", "--name", "r", "--out", str(tmp_path),
                 "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err
    assert sorted(tmp_path.iterdir()) == before


def test_reproduce_function_checks_its_counts(tmp_path):
    from online_lstm.experiments import reproduce

    for kw, msg in [(dict(trials=0), "trials must be an integer >= 1"),
                    (dict(seed=-1), "seed must be an integer >= 0"),
                    (dict(jobs=0), "jobs must be an integer >= 1"),
                    (dict(trials=1.5), "trials must be"),
                    (dict(checkpoint_every="often"), "checkpoint_every must be"),
                    (dict(trials=2, only_trials=[1]), "not both"),
                    (dict(only_trials=[]), "only_trials must be a non-empty list"),
                    (dict(only_trials=[0, -1]), "only_trials must be"),
                    (dict(only_trials=[True]), "only_trials must be")]:
        with pytest.raises(ValueError, match=msg):
            reproduce("6a", quick=True, out=tmp_path, progress=False, **kw)
    assert not list(tmp_path.iterdir())


def test_reproduce_one_trial_alone(tmp_path, capsys):
    args = ["reproduce", "6a", "--quick", "--jobs", "1", "--out", str(tmp_path), "--no-progress",
            "--set", "limit=300", "--seed", "2"]
    assert main(args + ["--trial", "1", "--trial", "3"]) == 0
    df = pd.read_csv(tmp_path / "6a-quick.csv")
    assert list(df["trial"]) == [1, 3] and list(df["seed"]) == [3, 5] and list(df["data_seed"]) == [3, 5]
    assert "2 trial(s)" in capsys.readouterr().out
    assert main(args + ["--trial", "1", "--trials", "2", "--name", "both"]) == 2
    assert "not both" in capsys.readouterr().err
    assert not (tmp_path / "both.csv").exists()


def test_module_entry_point():
    res = subprocess.run([sys.executable, "-m", "online_lstm", "list", "6b"], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0 and "571,100" in res.stdout


def test_a_closed_pipe_ends_the_command_quietly():
    """`online-lstm list | head -1`: the reader closes the pipe before the
    table is written; the command stops with code 1 and no traceback."""
    proc = subprocess.Popen([sys.executable, "-m", "online_lstm", "list"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()  # before the interpreter has imported anything: every write fails
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 1
    assert "Traceback" not in err and "BrokenPipeError" not in err, err


def test_console_script_is_installed():
    from pathlib import Path

    exe = Path(sys.executable).parent / "online-lstm"
    if not exe.exists():
        pytest.skip("package not installed with its console script (pip install -e .)")
    res = subprocess.run([str(exe), "list", "1-1"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and "39,740" in res.stdout


def test_scheduler_without_dask_says_what_to_install(monkeypatch, capsys):
    """--scheduler with dask.distributed absent: a one-line error naming the extra, no traceback."""
    import sys

    from online_lstm.experiments import reproduce

    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` now fails
    monkeypatch.delitem(sys.modules, "online_lstm.cluster", raising=False)
    assert main(["reproduce", "1-5", "--quick", "--scheduler", "tcp://127.0.0.1:8786"]) == 2
    err = capsys.readouterr().err
    assert "needs dask.distributed" in err and "pip install 'online-lstm[dask]'" in err
    with pytest.raises(ImportError, match=r"online-lstm\[dask\]"):
        reproduce("1-5", trials=1, quick=True, progress=False, scheduler="tcp://127.0.0.1:8786")


def test_cost_script_uses_recorded_cpu_and_estimates_the_rest():
    """scripts/cost.py: recorded CPU seconds where a record has them; otherwise the
    record's steps over the preset's CPU steps per second in the rates records."""
    import importlib.util
    import pathlib

    import pandas as pd

    path = pathlib.Path(__file__).resolve().parents[1] / "scripts" / "cost.py"
    spec = importlib.util.spec_from_file_location("cost", path)
    cost = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cost)
    rates = pd.DataFrame({"preset": ["6a", "6a", "1-5"], "steps": [300, 100, 50], "cpu_s": [2.0, 2.0, 1.0]})
    recs = pd.DataFrame({"preset": ["6a", "6a", "1-5", "1-5"], "trial": [0, 1, 0, 0],
                         "options": [None, None, "rule=argmax", None],
                         "steps": [1000, 500, 70, 90], "cpu_s": [None, 7.0, None, 2.5],
                         "wall_s": [9.0, 8.0, 1.0, 3.0]})
    t = cost.cost_table(recs, rates)
    assert list(zip(t["preset"], t["options"])) == [("1-5", ""), ("1-5", "rule=argmax"), ("6a", "")]
    assert t["cpu_s"].tolist() == [2.5, 70 / 50, 1000 / 100 + 7.0]
    assert t["estimated"].tolist() == [False, True, True]
    assert t["trials"].tolist() == [1, 1, 2]


def test_compare_reads_a_preset_id_that_looks_like_a_number(tmp_path, capsys):
    _quick_run(tmp_path, "5", 300)  # a records file of Experiment 5 alone: every preset id is "5"
    out = _compare(capsys, tmp_path / "r.csv")
    assert "| 5 (quick) [limit=300] | Table 8: n_seq = 140 |" in out and "482,000" in out


def test_set_values_as_a_shell_user_writes_them():
    from online_lstm.cli import _parse_set
    got = _parse_set(["peepholes=true", "forget_gate=False", "x=FALSE", "targets=legal", "limit=1e6",
                      "in_gate_bias=(-1, -2)", "name=True story"])
    assert got == {"peepholes": True, "forget_gate": False, "x": False, "targets": "legal", "limit": 1e6,
                   "in_gate_bias": (-1, -2), "name": "True story"}


def test_the_interrupt_message_names_only_what_exists(tmp_path):
    from online_lstm.cli import _what_was_kept
    said = _what_was_kept(tmp_path, "r")
    assert "No trial had finished" in said and "--resume" not in said
    (tmp_path / "r.trials").mkdir()
    (tmp_path / "r.trials" / ".r.trial0.npz.123.tmp").write_bytes(b"")  # an unfinished save only
    assert "No trial had finished" in _what_was_kept(tmp_path, "r")
    (tmp_path / "r.trials" / "1-5.trial0.npz").write_bytes(b"")
    said = _what_was_kept(tmp_path, "r")
    assert said.startswith("The running trials continue from their last checkpoint in ")
    assert "finished trials" not in said and "--resume" in said
    (tmp_path / "r.csv").write_text("preset\n")
    said = _what_was_kept(tmp_path, "r")
    assert said.startswith(f"The finished trials are in {tmp_path / 'r.csv'}; the running trials")
    mixed = tmp_path / "MixedCase"  # the paths as they are: capitalize() once lowered them
    (mixed / "r.trials").mkdir(parents=True)
    (mixed / "r.trials" / "1-5.trial0.npz").write_bytes(b"")
    assert f"{mixed / 'r.trials'}" in _what_was_kept(mixed, "r")


@pytest.mark.parametrize("which", ["r.csv", "r-summary.csv"])
def test_a_read_only_records_file_is_found_before_any_trial(which, tmp_path, capsys, monkeypatch):
    """It was found after the trials had run (a traceback, the records lost).  The
    permission is simulated: root (as in CI) may write a read-only file."""
    from online_lstm import cli

    f = tmp_path / which
    f.write_text("x\n")
    real = os.access
    monkeypatch.setattr(cli.os, "access", lambda p, mode: not (Path(p) == f and mode == os.W_OK)
                        and real(p, mode))
    assert main(["reproduce", "6a", "--quick", "--name", "r", "--out", str(tmp_path), "--no-progress"]) == 2
    assert f"{f} exists and is read-only" in capsys.readouterr().err


def test_two_runs_into_one_records_file_are_refused_and_writes_are_atomic(tmp_path, capsys, monkeypatch):
    """Each run rewrites the CSV from what it read at its start: a second run into the
    same file once dropped the first's records without a word."""
    from online_lstm import experiments

    held = experiments._RecordsLock(tmp_path / "r.csv")  # another run, as the system sees it
    args = ["reproduce", "6a", "--quick", "--trials", "1", "--set", "limit=300", "--name", "r",
            "--out", str(tmp_path), "--no-progress", "--jobs", "1"]
    assert main(args) == 2
    assert "another reproduce is writing" in capsys.readouterr().err
    assert not (tmp_path / "r.csv").exists()
    held.release()
    assert not (tmp_path / "r.csv.lock").exists()
    assert main(args) == 0 and not (tmp_path / "r.csv.lock").exists()
    before = (tmp_path / "r.csv").read_text()

    def killed(self, path, **kw):  # a run stopped in the middle of a write
        Path(path).write_text("preset,tri")
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_csv", killed)
    with pytest.raises(KeyboardInterrupt):
        experiments._write_records(pd.DataFrame({"a": [1]}), tmp_path / "r.csv")
    assert (tmp_path / "r.csv").read_text() == before  # the last whole version
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r-summary.csv", "r.csv"]  # no temporary left


def test_a_file_error_in_a_run_is_a_message_not_a_traceback(tmp_path, capsys):
    """A directory where a trial checkpoint goes (or a full disk) stopped the run
    with a traceback; now a message with what was kept, and exit 1."""
    (tmp_path / "r.trials" / "6a.trial0.npz").mkdir(parents=True)
    assert main(["reproduce", "6a", "--quick", "--trials", "1", "--set", "limit=300", "--name", "r",
                 "--out", str(tmp_path), "--no-progress", "--jobs", "1"]) == 1
    err = capsys.readouterr().err
    assert "online-lstm reproduce: stopped by a file error (" in err and "6a.trial0.npz" in err, err
    assert "No trial had finished or saved a checkpoint yet" in err  # the directory is no checkpoint
    assert "Traceback" not in err


def test_an_interrupt_with_trials_still_queued_leaves_no_traceback(monkeypatch):
    """Ctrl-C while more trials wait in the pool than there are workers stops the run with no
    traceback from the pool's own thread.  The run used to cancel the queued trials before
    stopping the workers, and on Python < 3.12 the pool then raised InvalidStateError on them
    from its thread: ``online-lstm reproduce 2c`` stopped with Ctrl-C after its first trials
    printed that traceback above the message saying how to resume."""
    import threading

    from online_lstm import experiments

    errors = []
    monkeypatch.setattr(threading, "excepthook", lambda args: errors.append(args.exc_value))
    preset = PRESETS["6a"].quick_version().with_options(limit=300)

    def interrupted(record):  # Ctrl-C as the first record comes in, 10 trials still queued
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        experiments._run_pool([(preset, k, k) for k in range(12)], 2, interrupted, None)
    assert errors == []


def test_an_interrupt_before_the_trials_is_a_message(monkeypatch, capsys):
    from online_lstm import presets

    def interrupted(targets):
        raise KeyboardInterrupt

    monkeypatch.setattr(presets, "select", interrupted)
    assert main(["reproduce", "6a", "--quick"]) == 130
    assert capsys.readouterr().err == "\nonline-lstm: interrupted\n"


def test_the_command_line_trial_limit_is_the_function_s():
    from online_lstm import cli, experiments
    assert cli._MAX_TRIALS == experiments.MAX_TRIALS
    with pytest.raises(ValueError, match="trials must be at most 1,000,000"):
        experiments.reproduce("6a", trials=10**20, quick=True, progress=False)


@pytest.mark.parametrize("argv, says", [
    (["reproduce", "6a", "--quick", "--set", "noeq"], "--set needs KEY=VALUE; got 'noeq'"),
    (["reproduce", "6a", "--quick", "--set", "=3"], "--set needs KEY=VALUE"),
    (["reproduce", "6a", "--quick", "--set", "limit=300", "--set", " limit=400"],
     "--set limit is given twice (300 and 400); give it once"),
    (["reproduce", "6a", "--quick", "--name", "sub/dir"], "--name must be a plain file name"),
    (["reproduce", "6a", "--quick", "--name", ".."], "--name must be a plain file name"),
    (["reproduce", "6a", "--quick", "--name", "a\nb"], "--name must be a plain file name"),
    (["reproduce", "6a", "--quick", "--name", "x-summary"], "must not end in '-summary'"),
    (["reproduce", "6a", "--quick", "--name", "n" * 250], "too long for a file name"),
    (["reproduce"] + ["2c-1"] * 60 + ["--quick"], "give a shorter one with --name"),
    (["reproduce", "nosuch", "--quick"], "nosuch"),
    (["reproduce", "2c-1", "--quick", "--set", "p=1000"], "the task now has 1004 inputs"),
])
def test_reproduce_refuses_bad_arguments_before_running(argv, says, tmp_path, capsys):
    assert main(argv + ["--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("online-lstm reproduce: ") and says in err, err
    assert not list(tmp_path.iterdir())  # nothing written


def test_compare_notes_repeated_trials(tmp_path, capsys):
    assert main(["reproduce", "6a", "--quick", "--trials", "2", "--set", "limit=300", "--out", str(tmp_path),
                 "--no-progress", "--jobs", "1"]) == 0
    capsys.readouterr()
    f = str(tmp_path / "6a-quick.csv")
    assert main(["compare", f, f]) == 0
    captured = capsys.readouterr()
    assert "note: 2 record(s) repeat a trial already given" in captured.err
    row = next(ln for ln in captured.out.splitlines() if ln.startswith("6a (quick)"))
    assert row.split("Table 9: task 6a")[1].split()[0] == "2"  # the trials column: two, not four


def test_version_option(capsys):
    from online_lstm import __version__

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"online-lstm {__version__}"
    with pytest.raises(SystemExit) as exit_:
        main([])
    assert exit_.value.code == 2 and "required: COMMAND" in capsys.readouterr().err


def _hand_edited_records(tmp_path, preset, edit, capsys):
    """A one-trial quick run of ``preset`` into ``tmp_path/r.csv``, whose first
    row is then edited (``edit``: column -> value) as by hand.  Returns the
    run's arguments, the file and its text after the edit."""
    args = ["reproduce", preset, "--quick", "--trials", "1", "--set", "limit=300", "--name", "r",
            "--out", str(tmp_path), "--no-progress", "--jobs", "1"]
    assert main(args) == 0
    f = tmp_path / "r.csv"
    df = pd.read_csv(f)
    for col, value in edit.items():
        df[col] = df[col].astype(object)
        df.loc[0, col] = value
    df.to_csv(f, index=False)
    capsys.readouterr()
    return args, f, f.read_text()


@pytest.mark.parametrize("edit, says", [
    (dict(trial="abc"), "row 2: trial 'abc' is not a whole number"),
    (dict(seed=1.5), "row 2: seed 1.5 is not a whole number"),
    (dict(quick="maybe"), "row 2: quick 'maybe' is not True or False"),
    (dict(success="banana"), "row 2: success 'banana' is not True or False"),
    (dict(sequences="lots"), "row 2: sequences 'lots' is not a whole number >= 0"),
])
def test_a_records_file_edited_by_hand_is_named_not_a_traceback(edit, says, tmp_path, capsys):
    """Once: tracebacks, text kept as results, or every trial rerun ("maybe" read as true)."""
    args, f, text = _hand_edited_records(tmp_path, "6a", edit, capsys)
    assert main(args + ["--resume"]) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err
    assert f.read_text() == text  # untouched
    if "success" in edit or "sequences" in edit:  # what compare counts
        assert main(["compare", str(f)]) == 2
        assert "skipping" in capsys.readouterr().err


def test_a_hand_edited_row_is_named_by_its_line_in_the_file(tmp_path, capsys):
    """Once: blank lines were skipped before rows were numbered, so the row an
    error named was not the line to fix.  Here line 3 is blank and line 4 is
    trial 1, whose seed is edited."""
    args = ["reproduce", "6a", "--quick", "--trials", "2", "--set", "limit=300", "--name", "r",
            "--out", str(tmp_path), "--no-progress", "--jobs", "1"]
    assert main(args) == 0
    f = tmp_path / "r.csv"
    df = pd.read_csv(f)
    df["seed"] = df["seed"].astype(object)
    df.loc[1, "seed"] = "x"
    header, first, second = df.to_csv(index=False).splitlines(keepends=True)
    f.write_text(header + first + "\n" + second + "\n")
    assert f.read_text().splitlines()[3].split(",")[df.columns.get_loc("seed")] == "x"
    capsys.readouterr()
    assert main(["compare", str(f)]) == 2
    assert "(row 4: seed 'x' is not a whole number >= 0)" in capsys.readouterr().err
    assert main(args + ["--resume"]) == 2
    assert f"cannot resume from {f}: row 4: seed 'x'" in capsys.readouterr().err
    f.write_text("\n".join(df.to_csv(index=False).splitlines()[:2]) + "\n\n\n")  # trailing blank lines
    assert main(["status", "--out", str(tmp_path)]) == 0
    assert "r.csv: 1 finished trial(s) (6a 1)\n" in capsys.readouterr().out


def test_compare_skips_an_infinite_sequence_count(tmp_path, capsys):
    _quick_run(tmp_path, "6a", 300)
    df = pd.read_csv(tmp_path / "r.csv")
    df["sequences"] = np.inf
    df.to_csv(tmp_path / "inf.csv", index=False)
    assert main(["compare", str(tmp_path / "inf.csv")]) == 2
    assert "row 2: sequences inf is not a whole number >= 0" in capsys.readouterr().err


@pytest.mark.parametrize("edit, says", [
    # tracebacks: text or inf in a figure the table averages
    (dict(lag_correct="abc"), "row 2: lag_correct 'abc' is not a number >= 0"),
    (dict(wrong=-3), "row 2: wrong -3 is not a number >= 0"),  # a mean below 0, silently
    (dict(cpu_s="unknown"), "row 2: cpu_s 'unknown' is not a number of seconds >= 0"),
    (dict(wall_s=np.inf), "row 2: wall_s inf is not a number of seconds >= 0"),
    # resume: a KeyError; compare: counted
    (dict(steps=""), "row 2: steps (an empty cell) is not a whole number >= 0"),
    (dict(preset=""), "row 2: preset (an empty cell) is not a preset id"),
    # compare: a quick run shown as a full one, a trial of no seed, a column of True as trial 1
    (dict(quick="yes"), "row 2: quick 'yes' is not True or False"),
    (dict(seed=""), "row 2: seed (an empty cell) is not a whole number >= 0"),
    (dict(trial=True), "row 2: trial True is not a whole number >= 0"),
])
def test_compare_resume_and_status_name_a_hand_edited_cell(edit, says, tmp_path, capsys):
    """Once: tracebacks in compare and --resume, or tables counted from
    such records; now each names the file, the row and what it expected."""
    args, f, text = _hand_edited_records(tmp_path, "1-5", edit, capsys)
    assert main(["compare", str(f)]) == 2
    err = capsys.readouterr().err
    assert f"skipping {f}: not records of reproduce ({says})" in err and "Traceback" not in err
    assert main(args + ["--resume"]) == 2
    assert f"cannot resume from {f}: {says}" in capsys.readouterr().err
    assert f.read_text() == text  # untouched
    assert main(["status", "--out", str(tmp_path)]) == 0
    assert "r.csv: 1 finished trial(s)" in (out := capsys.readouterr().out)
    assert f"; compare skips it ({says})" in out


@pytest.mark.parametrize("cell", ["n/a", "NA", " null "])
def test_compare_and_resume_agree_on_a_cell_marked_not_there(cell, tmp_path, capsys):
    """Once: compare read "n/a" in cpu_s as a value not there (pandas' default)
    and counted the record, while --resume, reading it as text, refused the file."""
    args, f, text = _hand_edited_records(tmp_path, "1-5", dict(cpu_s=cell), capsys)
    assert main(["compare", str(f)]) == 0
    assert "skipping" not in capsys.readouterr().err
    assert main(args + ["--resume"]) == 0
    assert f.read_text() == text  # kept as it was: a rerun would have written its CPU time


def test_compare_skips_an_empty_preset_cell_beside_an_unknown_preset(tmp_path, capsys):
    """Once a TypeError: the empty cell (NaN) and the unknown id were sorted together."""
    (tmp_path / "r.csv").write_text("preset,trial,seed,success,sequences,steps,wall_s\n"
                                    ",0,0,True,1,1,1\nabc,1,1,True,1,1,1\n")
    assert main(["compare", str(tmp_path / "r.csv")]) == 2
    assert "(unknown presets ['abc'])" in capsys.readouterr().err


def test_a_row_with_too_many_fields_is_named_on_one_line(tmp_path, capsys):
    """pandas ends its tokenizing error in a newline: the ")" after it stood alone on the next line."""
    args = ["reproduce", "6a", "--quick", "--trials", "1", "--set", "limit=300", "--name", "r",
            "--out", str(tmp_path), "--no-progress", "--jobs", "1"]
    assert main(args) == 0
    f = tmp_path / "r.csv"
    f.write_text(f.read_text() + "6a,1,1" + ",x" * 40 + "\n")
    capsys.readouterr()
    assert main(["compare", str(f)]) == 2
    err = capsys.readouterr().err
    assert "Expected" in err and "in line 3, saw 43)\n" in err
    assert main(args + ["--resume"]) == 2
    err = capsys.readouterr().err
    assert "Expected" in err and "in line 3, saw 43)\n" in err


def test_resume_and_compare_read_a_number_beyond_int64_and_an_empty_version(tmp_path, capsys):
    """A wall time too large for int64 is kept as text by read_csv: compare
    and the table after --resume stopped in a TypeError; a kept record with
    no version stopped --resume in a KeyError."""
    args = ["reproduce", "1-5", "--quick", "--trials", "1", "--set", "limit=300", "--name", "r",
            "--out", str(tmp_path), "--no-progress", "--jobs", "1"]
    assert main(args) == 0
    f = tmp_path / "r.csv"
    df = pd.read_csv(f, dtype={"version": str})
    df["wall_s"] = "99999999999999999999999"
    df.to_csv(f, index=False)
    capsys.readouterr()
    assert main(["compare", str(f)]) == 0 and "99,999,999,999,999,991,611,392" in capsys.readouterr().out
    assert main(args + ["--resume"]) == 0 and "99,999,999,999,999,991,611,392" in capsys.readouterr().out
    df["version"] = ""
    df.to_csv(f, index=False)
    assert main(args + ["--resume"]) == 2
    assert "its trial 0 of 1-5 was made by code version (not given)" in capsys.readouterr().err


def test_status_counts_a_repeated_row_once_as_compare_does(tmp_path, capsys):
    """Once: a row pasted twice by hand (or two runs appended to one file)
    made status say 3 finished trials where compare counts 2."""
    assert main(["reproduce", "6a", "--quick", "--trials", "2", "--set", "limit=300", "--name", "r",
                 "--out", str(tmp_path), "--no-progress", "--jobs", "1"]) == 0
    f = tmp_path / "r.csv"
    lines = f.read_text().splitlines(keepends=True)
    f.write_text("".join(lines + lines[1:2]))  # trial 0 again, at the end
    capsys.readouterr()
    assert main(["status", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "r.csv: 2 finished trial(s) (6a 2); 1 more row(s) repeat a trial above, counted once\n" in out
    assert main(["compare", str(f)]) == 0
    assert "note: 1 record(s) repeat a trial already given" in capsys.readouterr().err


def test_status_skips_a_csv_it_cannot_read(tmp_path, capsys):
    """``status`` lists ``*.csv`` files; one that cannot be opened (here a
    directory named ``x.csv``) is named on stderr and skipped, not a traceback."""
    _quick_run(tmp_path, "6a", 300)
    (tmp_path / "x.csv").mkdir()
    capsys.readouterr()
    assert main(["status", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr()
    assert "r.csv: 1 finished trial(s) (6a 1)" in out.out
    assert "x.csv" in out.err and "Traceback" not in out.err
    (tmp_path / "x.csv").rmdir()
    (tmp_path / "h.csv").write_bytes((tmp_path / "r.csv").read_bytes().splitlines(keepends=True)[0])
    assert main(["status", "--out", str(tmp_path)]) == 0
    assert "h.csv: 0 finished trial(s)\n" in capsys.readouterr().out  # no empty "()"


def test_status_of_a_file_says_it_is_not_a_directory(tmp_path, capsys):
    (tmp_path / "r.csv").write_text("x")
    assert main(["status", "--out", str(tmp_path / "r.csv")]) == 2
    assert "is not a directory" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["--trial", "1", "--trials", "2"],
    ["--name", "x" * 250],
])
def test_a_refused_reproduce_creates_no_records_directory(argv, tmp_path, capsys):
    """A command refused for its arguments alone leaves no trace: not even
    the (default ``results/``) records directory."""
    out = tmp_path / "a" / "b"
    assert main(["reproduce", "6a", "--quick", "--out", str(out), "--no-progress", *argv]) == 2
    assert "Traceback" not in capsys.readouterr().err
    assert not (tmp_path / "a").exists()


@pytest.mark.parametrize("argv, hint", [
    (["reproduce", "1_5"], "did you mean '1-5'?"),
    (["reproduce", "2C"], "did you mean '2c'?"),
    (["list", "3a-T100"], "did you mean '3a-T100-N3' or '3a-T100-N1'?"),
    (["reproduce", "1-5", "--set", "limt=5"], "did you mean 'limit'?"),
])
def test_unknown_names_suggest_close_matches(argv, hint, tmp_path, capsys):
    assert main(argv + ["--out", str(tmp_path)] if argv[0] == "reproduce" else argv) == 2
    err = capsys.readouterr().err
    assert hint in err and "Traceback" not in err


def test_resume_keeps_a_record_whose_seed_is_beyond_float_precision(tmp_path, capsys):
    """Seeds above 2**53 (any integer >= 0 is allowed) must be matched exactly:
    read through float, the record's seed differed from the run's, so --resume
    ran the trial again and the file ended with two records of it."""
    seed = str(2**53 + 1)
    args = ["reproduce", "6a", "--quick", "--jobs", "1", "--out", str(tmp_path), "--no-progress",
            "--set", "limit=100", "--set", "test_size=10", "--name", "r", "--seed", seed]
    assert main(args) == 0
    first = (tmp_path / "r.csv").read_text()
    assert main(args + ["--resume"]) == 0
    assert (tmp_path / "r.csv").read_text() == first  # kept, not run again
    capsys.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        # printed as outside pytest (which records warnings instead): as the command's own message
        warnings.showwarning = lambda m, c, f, n, file=None, line=None: sys.stderr.write(
            warnings.formatwarning(m, c, f, n, line))
        assert main(args) == 0  # a fresh run replaces its own record
    assert "online-lstm: warning: starting afresh:" in capsys.readouterr().err
    df = read_records(tmp_path / "r.csv")
    assert len(df) == 1 and str(df["seed"][0]) == seed


def test_list_builds_no_learner():
    """``list`` prints each preset's learning rate from its configuration: building
    the competitors' learners imported online_lstm.baselines, whose kernels
    compile on a fresh install (about 25 s) just to print a number."""
    code = ("import sys; from online_lstm.cli import main; main(['list']); "
            "sys.exit(int('online_lstm.baselines' in sys.modules))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and "2a-rtrl-p4-lr10" in res.stdout, res.stderr


def test_list_shows_the_learning_rate_of_every_preset(capsys):
    assert main(["list"]) == 0
    for row in capsys.readouterr().out.splitlines()[1:]:
        p = PRESETS[row.split()[0]]
        lr = float(row[row.index(p.title) + len(p.title):].split()[1])  # after title: weights, lr
        assert lr == p.learner(seed=0).lr, p.id
