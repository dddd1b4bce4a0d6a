"""Audit of ``online-lstm bench`` and ``online-lstm gradcheck``: what the
commands report where the learner, the flags or the arguments are out of the
ordinary (a gradient that is not a number, a net without gate biases given
forget gates, a huge ``--calls``)."""

from __future__ import annotations

import numpy as np
import pytest

from online_lstm import OnlineLSTM
from online_lstm.cli import main
from online_lstm.gradcheck import compare


def _nan_gradient(monkeypatch):
    real = OnlineLSTM.gradient
    monkeypatch.setattr(OnlineLSTM, "gradient",
                        lambda self, *a, **k: {n: np.full_like(g, np.nan) for n, g in
                                               real(self, *a, **k).items()})


def test_a_nan_gradient_does_not_read_as_agreement(monkeypatch):
    """max(nan, x) is nan and nan > 0 is false: the relative difference of a
    NaN gradient came out 0, "agree"."""
    _nan_gradient(monkeypatch)
    rng = np.random.default_rng(0)
    df = compare(OnlineLSTM(2, 1, 1, 1, connectivity="B", seed=0), rng.uniform(-1, 1, (3, 2)),
                 rng.uniform(0.1, 0.9, (3, 1)))
    assert df[["max_abs_diff", "rel_diff", "cosine"]].isna().all().all()


@pytest.mark.parametrize("connectivity", ["B", "F"])
def test_the_command_fails_on_a_nan_gradient(connectivity, monkeypatch, capsys):
    _nan_gradient(monkeypatch)
    assert main(["gradcheck", "--net", "2,1,1,1", "--connectivity", connectivity, "--steps", "3"]) == 1
    assert "NaN or an infinity" in capsys.readouterr().out


@pytest.mark.parametrize("cmd", [["gradcheck", "--steps", "1"], ["bench", "--calls", "1000"]])
def test_forget_gates_on_a_preset_without_gate_biases(cmd, capsys):
    """2a, 2b and 2c have no bias weights (code "none"); the default
    forget-gate bias needs one: --forget-gate was a ValueError traceback."""
    assert main([*cmd, "--preset", "2c-9", "--forget-gate"]) == 0
    out = capsys.readouterr().out
    from online_lstm.presets import PRESETS
    m = PRESETS["2c-9"].learner(forget_gate=True, forget_gate_bias=None)
    assert "forget_gate=True (no bias: the net's gates have none)" in out and f"{m.n_params:,} weights" in out
    if cmd[0] == "gradcheck":
        assert ": agree" in out


@pytest.mark.parametrize("args", [["--connectivity", "B", "--steps", "5"], ["--steps", "1"]])
def test_with_peepholes_only_the_peepholes_are_named_where_nothing_else_is_cut(args, capsys):
    """B connectivity has no recurrent inputs, one step nothing to flow back
    to: the message named "the recurrent inputs of the gates and cells" even so."""
    assert main(["gradcheck", "--net", "2,1,1,1", "--peepholes", *args]) == 0
    out = capsys.readouterr().out
    assert "cuts the errors that flow back through the peepholes:" in out and "recurrent inputs" not in out


def test_with_f_connectivity_and_peepholes_both_are_named(capsys):
    assert main(["gradcheck", "--net", "2,1,1,1", "--peepholes", "--steps", "5"]) == 0
    assert ("flow back through the recurrent inputs of the gates and cells and through the peepholes:"
            in capsys.readouterr().out)


def test_bench_refuses_more_calls_than_it_can_hold(capsys):
    """--calls 10**12 asked numpy for 1.46 TiB of timings after the warm-up
    (a traceback); 10**10, 16 GB and hours: refused before anything runs."""
    with pytest.raises(SystemExit) as exc:
        main(["bench", "--calls", "10000001"])
    assert exc.value.code == 2
    assert "argument --calls: expected an integer in [1000, 10,000,000]" in capsys.readouterr().err


@pytest.mark.parametrize("calls, timed", [(100, 500), (1_000, 1_000), (1_999, 2_000), (2_001, 2_500)])
def test_bench_times_at_least_the_calls_asked_for(calls, timed):
    """Five rounds of whole chunks of 100: the count is rounded up (1,999
    calls were 1,500 timed)."""
    from online_lstm.bench import run

    df = run(OnlineLSTM(1, 1, 1, 1), calls=calls).set_index("what")
    for what in ("timer+loop", "learn_one (out=)", "predict_one (out=)"):
        assert df.loc[what, "calls"] == timed


def test_gradcheck_says_how_much_work_is_ahead(capsys):
    """Two forward passes per weight: 2a's 10,504 weights over 500 steps took
    half a minute in silence, over 10,000 steps ten minutes and more."""
    from online_lstm.gradcheck import seconds

    assert main(["gradcheck", "--net", "2,1,1,1", "--steps", "3"]) == 0
    n = OnlineLSTM(2, 1, 1, 1, bias="all").n_params
    assert f"finite differences: 2 × {n:,} forward passes of 3 steps, about 0:00:0" in capsys.readouterr().out
    rng = np.random.default_rng(0)
    t = seconds(OnlineLSTM(2, 1, 1, 1), rng.uniform(-1, 1, (3, 2)), rng.uniform(0.1, 0.9, (3, 1)))
    assert np.isfinite(t) and t > 0


def test_bench_refuses_an_out_path_that_cannot_be_written_before_the_timings(tmp_path, capsys):
    """/proc exists, /proc/bench.csv cannot be made: the traceback came after
    the timings (minutes with a large --calls)."""
    with pytest.raises(SystemExit) as exc:
        main(["bench", "--out", "/proc/online-lstm-bench.csv"])
    assert exc.value.code == 2 and "--out /proc/online-lstm-bench.csv: cannot be written" in \
        capsys.readouterr().err


def test_the_out_check_leaves_nothing_behind_and_an_existing_file_as_it_is(tmp_path):
    import argparse

    from online_lstm.cli import csv_out

    new, old = tmp_path / "new.csv", tmp_path / "old.csv"
    old.write_text("kept\n")
    assert csv_out(argparse.ArgumentParser(), str(new)) == new and not new.exists()
    csv_out(argparse.ArgumentParser(), str(old))
    assert old.read_text() == "kept\n"


def test_gradcheck_refuses_a_step_beyond_one(capsys):
    """--eps 1e300 moved a weight past the learner's bound on its state: an
    InputError traceback."""
    with pytest.raises(SystemExit) as exc:
        main(["gradcheck", "--eps", "1e300"])
    assert exc.value.code == 2 and "argument --eps: expected a step in (0, 1]" in capsys.readouterr().err
