"""``benchmarks/bench_river_streams.py --quick`` runs end to end and writes
where it is told (skips without the ``river`` extra)."""

import pathlib
import subprocess
import sys

import pandas as pd
import pytest

pytest.importorskip("river")
pytest.importorskip("sklearn")  # (River's KNN regressor of the benchmark's line-up)

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_quick_run_writes_its_table_to_out(tmp_path):
    out, png = tmp_path / "streams.csv", tmp_path / "streams.png"
    before = {p: p.stat().st_mtime_ns for p in [ROOT / "benchmarks" / "results" / "river_streams.csv",
                                                ROOT / "docs" / "river_streams.png"] if p.exists()}
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_river_streams.py"), "--quick",
                          "--out", str(out), "--plot", str(png)],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    df = pd.read_csv(out)
    assert set(df.dataset) == {"AirlinePassengers", "WaterFlow", "TrumpApproval", "ChickWeights",
                               "SP500Stocks", "Phishing"}
    ours = df[df.model.str.contains("(ours)", regex=False)]
    assert set(ours.dataset) == set(df.dataset)  # our learner ran on every stream
    assert (ours.us_per_obs > 0).all() and ours.score.notna().all()
    assert f"wrote {out}" in res.stdout
    # the published figures were not touched
    assert {p: p.stat().st_mtime_ns for p in before} == before
