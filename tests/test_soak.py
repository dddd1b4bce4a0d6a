"""benchmarks/soak.py: a short run works end to end, and arguments it cannot
run with are refused up front with what is needed (not a traceback after
the warm-up)."""

from __future__ import annotations

import importlib.util
import pathlib

import pandas as pd
import pytest

SOAK = pathlib.Path(__file__).parent.parent / "benchmarks" / "soak.py"


@pytest.fixture(scope="module")
def soak():
    spec = importlib.util.spec_from_file_location("soak", SOAK)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_a_tiny_soak_reports_and_resumes_bit_identically(soak, tmp_path, capsys):
    out = tmp_path / "soak.csv"
    rc = soak.main(["--steps", "6000", "--chunk", "2000", "--report-every", "2000",
                    "--checkpoint-every", "2000", "--no-progress", "--out", str(out)])
    text = capsys.readouterr().out
    assert rc == 0, text
    df = pd.read_csv(out)
    assert list(df["step"]) == [2000, 4000, 6000]
    assert df["state_finite"].all() and (df["nonfinite_outputs"] == 0).all()
    assert (df["rss_mb"] > 0).all() and (df["many_ns_median"] > 0).all()
    assert "bit-identical = True" in text and "checkpoints: 3 saves" in text


@pytest.mark.parametrize("argv,match", [
    (["--steps", "1e4"], "--steps"),  # fewer steps than one chunk (100,000): no report at all
    (["--steps", "2e4", "--chunk", "500"], "--chunk"),  # a chunk shorter than the timed learn_one calls
    (["--chunk", "0"], "--chunk"),
])
def test_arguments_that_cannot_run_are_refused(soak, argv, match, capsys):
    with pytest.raises(SystemExit) as exc:
        soak.main(argv + ["--no-progress"])
    assert exc.value.code == 2
    assert match in capsys.readouterr().err
