"""Third audit of the command line and the scripts, as a user who reads only
the ``--help`` texts and the README: defects found and fixed.  Every test
stops before a trial runs (argument errors), so the file takes seconds."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _script(name):
    """``scripts/<name>.py`` as a module."""
    spec = importlib.util.spec_from_file_location(f"_audit3_{name}", ROOT / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _no_run(*args, **kwargs):
    raise AssertionError("a trial was started; the arguments should have been refused first")


# ---------------------------------------------------------------------------
# scripts/sweep_options.py
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("grids, says", [
    ([["update=step"], ["update=sequence"]], "given twice"),
    ([["limt=5"], ["update=step"]], "no option 'limt'"),
])
def test_sweep_options_takes_every_grid_flag_not_only_the_last(tmp_path, capsys, grids, says):
    """``--grid a=.. --grid b=..`` kept only the last flag's keys: the sweep ran
    without the first grid (its values never applied, no message)."""
    mod = _script("sweep_options")
    mod.reproduce = _no_run
    argv = ["6a", "--quick", "--jobs", "1", "--no-progress", "--out", str(tmp_path)]
    for g in grids:
        argv += ["--grid", *g]
    with pytest.raises(SystemExit) as exc:
        mod.main(argv)
    assert exc.value.code == 2 and says in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["", ".", "..", "a/b"])
def test_sweep_options_refuses_a_name_that_is_no_plain_file_name(tmp_path, capsys, name):
    """``--name ''`` wrote ``<out>/.csv`` (a hidden file) and the records of each
    combination straight into ``<out>``; ``reproduce --name`` refuses these."""
    mod = _script("sweep_options")
    mod.reproduce = _no_run
    with pytest.raises(SystemExit) as exc:
        mod.main(["6a", "--grid", "update=step", "--quick", "--out", str(tmp_path), "--name", name])
    assert exc.value.code == 2 and "--name must be a plain file name" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------
# scripts/diagnose.py
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("args, says", [
    (["reber-drift", "--preset", "4-1", "--rows", "1", "--every", "1"],
     "reber-drift needs an LSTM preset of Experiment 1 (1-1, 1-2, 1-3, 1-4, 1-5); got --preset 4-1"),
    (["reber-failures", "--preset", "1-rtrl-h3", "--limit", "1"], "needs an LSTM preset of Experiment 1"),
    (["cell-states", "--preset", "2a-rtrl-p4-lr1", "--rows", "1", "--every", "1"],
     "cell-states needs an LSTM preset, not a competitor's"),
    (["cut-trials", "--preset", "2a-bptt-p100-lr1", "--trials", "1", "--jobs", "1", "--set", "limit=1"],
     "not a competitor's"),
    (["adding-failures", "--preset", "2c-1", "--sequences", "1"],
     "needs a preset of Experiment 4 (adding) (4-1, 4-2, 4-3)"),
    (["2a-escape", "--preset", "2c-1", "--every", "1", "--sequences", "1"], "needs a preset of task 2a or 2b"),
    (["plateau-blocks", "--preset", "2a-rtrl-p4-lr1", "--seeds", "1"], "needs a preset of task 2a or 2b"),
    (["window-trace", "--preset", "1-5", "--rows", "1", "--every", "1"], "with an error threshold"),
])
def test_diagnose_refuses_a_preset_its_subcommand_cannot_trace(capsys, args, says):
    """``--preset`` took any preset: one of another task or a competitor's net
    failed deep in the run with a TypeError, KeyError, AttributeError or
    ValueError traceback (adding-failures on 2c printed rows about markers
    2c has not)."""
    with pytest.raises(SystemExit) as exc:
        _script("diagnose").main(args)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and says in err and "Traceback" not in err


def test_diagnose_window_trace_runs_on_a_net_without_gate_biases(capsys):
    """2a, 2b and 2c have no biases (Table 10): window-trace failed on them
    with KeyError: 'b_in' after its first block of training."""
    _script("diagnose").main(["window-trace", "--preset", "2c-1", "--rows", "1", "--every", "2"])
    out = capsys.readouterr().out
    assert "correct" in out and "b_in -" in out


# ---------------------------------------------------------------------------
# online-lstm
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("command", [["reproduce", "6a", "--quick"], ["status"]])
@pytest.mark.parametrize("out", ["", "  "])
def test_an_empty_out_is_a_usage_error_not_the_current_directory(tmp_path, monkeypatch, capsys,
                                                                  command, out):
    """``--out ''`` (an unset ``--out "$DIR"``) was taken as the current
    directory: reproduce wrote its records there, status listed it."""
    from online_lstm import cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "cmd_reproduce", _no_run)
    with pytest.raises(SystemExit) as exc:
        cli.main([*command, "--out", out])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "argument --out: expected a directory" in err
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------
# online_lstm.evaluate
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("progress", [True, False])
@pytest.mark.parametrize("total", ["abc", -5, 1.5, True])
def test_progressive_val_refuses_a_total_that_is_no_stream_length(progress, total):
    """``total="abc"`` failed inside tqdm with "can only concatenate str (not
    "float") to str", naming neither the argument nor what it should be; -5
    and 1.5 drew a nonsense bar; without a bar any of them passed unnoticed."""
    import numpy as np

    from online_lstm import OnlineLSTM
    from online_lstm.evaluate import progressive_val

    m = OnlineLSTM(2, 1, n_blocks=1, seed=0)
    before = m._mem.copy()
    with pytest.raises(ValueError, match=r"total must be None or an integer >= 0 \(the stream's length\)"):
        progressive_val([(np.zeros(2), 1.0)] * 3, m, "mae", step=1, progress=progress, total=total)
    np.testing.assert_array_equal(m._mem, before)  # refused before the first step


@pytest.mark.parametrize("address", ["", " "])
def test_an_empty_scheduler_address_is_a_usage_error(tmp_path, monkeypatch, capsys, address):
    """``--scheduler ''`` passed the command line's checks as "no scheduler",
    then reproduce took it for one: the records directory was made and the
    progress bars started before Dask refused the address."""
    from online_lstm import cli

    monkeypatch.setattr(cli, "cmd_reproduce", _no_run)
    with pytest.raises(SystemExit) as exc:
        cli.main(["reproduce", "6a", "--quick", "--out", str(tmp_path / "r"), "--scheduler", address])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "argument --scheduler: expected a Dask scheduler address" in err
    assert not (tmp_path / "r").exists()


def test_reproduce_help_names_the_out_directory_as_its_other_flags_do(capsys):
    """--resume and --checkpoint-every speak of DIR/<name>.csv and
    DIR/<name>.trials/, but the flag they mean was shown as ``--out OUT``."""
    from online_lstm import cli

    for command in ("reproduce", "status"):
        with pytest.raises(SystemExit):
            cli.main([command, "--help"])
        out = capsys.readouterr().out
        assert "--out DIR" in out and "OUT" not in out
    with pytest.raises(SystemExit):
        cli.main(["compare", "--help"])
    assert "--markdown print the table as markdown" in " ".join(capsys.readouterr().out.split())


def test_sweep_options_refuses_a_value_listed_twice(tmp_path, capsys):
    """``--grid limit=1,1`` ran the same combination twice: the second run
    replaced the first's records and the sweep's CSV held both."""
    mod = _script("sweep_options")
    mod.reproduce = _no_run
    with pytest.raises(SystemExit) as exc:
        mod.main(["6a", "--grid", "update=step,sequence, step", "--quick", "--out", str(tmp_path)])
    assert exc.value.code == 2 and "--grid update lists 'step' twice" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
