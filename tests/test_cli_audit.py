"""Audit of the command line and the scripts: defects found and fixed."""

import pytest

from online_lstm.cli import main
from online_lstm.experiments import _option_text, read_records
from online_lstm.presets import PRESETS


@pytest.mark.parametrize("key", ["threshold", "beta"])
def test_set_a_real_option_to_a_whole_number_is_the_same_option_as_its_float(key):
    """``--set threshold=1`` and ``--set threshold=1.0`` run the same trial: they must give the
    same preset and the same records' options text, or ``--resume`` reruns the trial and
    ``compare`` shows it as two rows."""
    a, b = PRESETS["4-1"].with_options(**{key: 1}), PRESETS["4-1"].with_options(**{key: 1.0})
    assert a == b and type(a.options[key]) is float
    assert _option_text(a) == _option_text(b) == f"{key}=1.0"


@pytest.mark.parametrize("first, again", [("threshold=1", "threshold=1.0"),
                                          ("in_gate_bias=(-3, -6)", "in_gate_bias=[-3.0, -6.0]")])
def test_resume_keeps_a_trial_run_with_the_same_option_written_differently(tmp_path, capsys, first,
                                                                           again):
    args = ["reproduce", "6a", "--quick", "--jobs", "1", "--out", str(tmp_path), "--no-progress",
            "--name", "r", "--set", "limit=200"]
    assert main(args + ["--set", first]) == 0
    assert main(args + ["--set", again, "--resume"]) == 0
    assert len(read_records(tmp_path / "r.csv")) == 1  # kept, not run again


@pytest.mark.parametrize("preset, key", [("1-1", "lr"), ("1-1", "init_range"), ("2a-rtrl-p4-lr1", "lr")])
def test_set_a_real_learner_option_to_a_whole_number_is_the_same_option_as_its_float(preset, key):
    a, b = PRESETS[preset].with_options(**{key: 2}), PRESETS[preset].with_options(**{key: 2.0})
    assert a == b and _option_text(a) == _option_text(b) == f"{key}=2.0"


@pytest.mark.parametrize("key", ["in_gate_bias", "out_gate_bias"])
def test_block_biases_written_differently_are_one_option(key):
    """``(-2, -3, -4)``, ``[-2, -3, -4]`` and ``(-2.0, -3.0, -4.0)`` are one setting: one
    preset and one options text, in the form the recorded runs of REPRODUCTION.md wrote
    (``in_gate_bias=(-1, -2, -3)``), so that ``--resume`` and ``compare`` see one trial."""
    ways = [(-2, -3, -4), [-2, -3, -4], (-2.0, -3.0, -4.0), [-2.0, -3, -4.0]]
    presets = [PRESETS["1-5"].with_options(**{key: v}) for v in ways]
    assert all(p == presets[0] for p in presets)
    assert {_option_text(p) for p in presets} == {f"{key}=(-2, -3, -4)"}
    half = PRESETS["1-5"].with_options(**{key: [-0.5, -2.0, -1.5]})
    assert _option_text(half) == f"{key}=(-0.5, -2, -1.5)"  # a fraction stays as it is
    # and the learner gets the same biases whichever way they were written
    a, b = (p.learner(seed=0).get_weights() for p in (presets[0], presets[2]))
    assert all((a[n] == b[n]).all() for n in a)


def test_out_that_is_a_file_says_so(tmp_path, capsys):
    (tmp_path / "f").write_text("")
    assert main(["reproduce", "6a", "--quick", "--out", str(tmp_path / "f"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "it is a file, not a directory" in err and "File exists" not in err


def _script(name):
    """``scripts/<name>.py`` or ``benchmarks/<name>.py`` as a module."""
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    path = next(p for p in (root / "scripts" / f"{name}.py", root / "benchmarks" / f"{name}.py") if p.exists())
    spec = importlib.util.spec_from_file_location(f"_audit_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("grid, says", [
    (["update=step,sequnce"], "update must be 'step' or 'sequence'"),  # the last combination's value
    (["limt=5"], "no option 'limt'"),
    (["update"], "--grid needs KEY=V1,V2"),
    (["update=step", "update=sequence"], "given twice"),
])
def test_sweep_options_checks_every_combination_before_running_any(tmp_path, capsys, grid, says):
    with pytest.raises(SystemExit) as exc:
        _script("sweep_options").main(["6a", "--grid", *grid, "--quick", "--jobs", "1", "--no-progress",
                                       "--out", str(tmp_path)])
    assert exc.value.code == 2 and says in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # no combination ran


@pytest.mark.parametrize("script, args", [
    ("rtrl_time_convention", ["--quick"]),
    ("soak", ["--quick", "--no-progress"]),
    ("continual_reber", ["--quick"]),
])
def test_script_refuses_an_out_it_cannot_write_before_running(tmp_path, capsys, script, args):
    """The CSV is written after a trial (or the whole run): a path under a file must fail at once."""
    (tmp_path / "f").write_text("")
    with pytest.raises(SystemExit) as exc:
        _script(script).main(args + ["--out", str(tmp_path / "f" / "x.csv")])
    assert exc.value.code == 2 and "--out" in capsys.readouterr().err


@pytest.mark.parametrize("args", [["--trials", "0"], ["--limit", "0"], ["--p", "1"]])
def test_rtrl_time_convention_refuses_bad_counts(capsys, args):
    with pytest.raises(SystemExit) as exc:
        _script("rtrl_time_convention").main(args)
    assert exc.value.code == 2 and "expected an integer" in capsys.readouterr().err


@pytest.mark.parametrize("args", [["--steps", "nan"], ["--steps", "1e400"], ["--report-every", "nan"]])
def test_soak_refuses_a_step_count_that_is_no_number(capsys, args):
    with pytest.raises(SystemExit) as exc:
        _script("soak").main(args)
    assert exc.value.code == 2 and "finite number of steps" in capsys.readouterr().err


@pytest.mark.parametrize("args", [["--seeds", "0"], ["--strings", "-1"]])
def test_continual_reber_refuses_bad_counts(capsys, args):
    with pytest.raises(SystemExit) as exc:
        _script("continual_reber").main(args)
    assert exc.value.code == 2 and "expected an integer" in capsys.readouterr().err


@pytest.mark.parametrize("args, says", [
    (["2c-trace", "--set", "limt=5"], "no option 'limt'"),
    (["2c-trace", "--set", "limit"], "--set needs KEY=VALUE"),
    (["cell-states", "--preset", "5x"], "unknown preset '5x'"),
])
def test_diagnose_bad_preset_or_set_is_a_usage_error(capsys, args, says):
    with pytest.raises(SystemExit) as exc:
        _script("diagnose").main(args)
    assert exc.value.code == 2 and says in capsys.readouterr().err


@pytest.mark.parametrize("depth", [3000, 100_000])
def test_set_value_nested_too_deep_for_the_parser_is_a_usage_error(tmp_path, capsys, depth):
    """``ast.literal_eval`` raises MemoryError or RecursionError here, not ValueError."""
    code = main(["reproduce", "6a", "--quick", "--out", str(tmp_path), "--set", "limit=" + "-" * depth + "1"])
    assert code == 2 and "option limit must be an integer" in capsys.readouterr().err


@pytest.mark.parametrize("missing", ["records", "rates"])
def test_cost_names_a_missing_records_file(tmp_path, capsys, missing):
    """scripts/cost.py ended in a FileNotFoundError traceback for a missing file."""
    good = tmp_path / "r.csv"
    main(["reproduce", "3a-T100-N3", "--quick", "--trials", "1", "--out", str(tmp_path), "--name", "r",
          "--no-progress"])
    capsys.readouterr()
    gone = str(tmp_path / "gone.csv")
    args = [gone, "--rates", str(good)] if missing == "records" else [str(good), "--rates", gone]
    with pytest.raises(SystemExit) as exc:
        _script("cost").main(args)
    assert exc.value.code == 2 and "gone.csv" in capsys.readouterr().err
    # and with both files there, the table
    other = tmp_path / "copy.csv"
    other.write_bytes(good.read_bytes())
    assert _script("cost").main([str(other), "--rates", str(good)]) == 0
    assert "| 3a-T100-N3 |" in capsys.readouterr().out


def test_a_flag_given_with_quick_wins_over_quick(tmp_path, capsys):
    """``--quick`` set the scripts' sizes over the ones given with it (``continual_reber.py
    --quick --seeds 1`` ran 2 seeds): a flag given now wins, and --quick fills the rest."""
    import pandas as pd

    out = tmp_path / "c.csv"
    _script("continual_reber").main(["--quick", "--seeds", "1", "--strings", "30", "--test-strings", "5",
                                     "--out", str(out)])
    df = pd.read_csv(out)
    assert len(df) == 2 and set(df.seed) == {0}  # two learners, one seed
    assert (df["test: symbols"] < 5 * 40).all()  # 5 test strings, not --quick's 5,000
    soak = _script("soak")
    assert soak.main(["--quick", "--steps", "40000", "--no-progress", "--out", str(tmp_path / "s.csv")]) in (0, None)
    rows = pd.read_csv(tmp_path / "s.csv")
    assert rows["step"].max() == 40_000  # not --quick's 2e6 (its chunk and reports stay --quick's)
