"""Tables in README.md, REPRODUCTION.md and docs/river.md are what the
committed result files give.

``test_report.py`` checks REPRODUCTION.md's main table and BENCHMARKS.md's;
these are the other published tables that restate a committed CSV: a rerun
of a benchmark that rewrites its CSV, or a change to how a script
aggregates the records, fails here instead of leaving the page stale.
Each figure is recomputed from the CSV and compared at the precision the
page prints it (half a unit of its last digit).
"""

from __future__ import annotations

import importlib.util
import os
import pathlib
import re

import numpy as np
import pandas as pd
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
RESULTS = ROOT / "benchmarks" / "results"
RECORDS = ROOT / "reproduction" / "records"


def _module(path):
    """Import a script as a module.  Its top level runs (bench_river_streams.py
    sets OPENBLAS_NUM_THREADS, and River's import of scikit-learn two KMP_*
    variables): os.environ is restored after, so the tests after this one
    (and their subprocesses) see the environment they were started with."""
    environ = dict(os.environ)
    try:
        spec = importlib.util.spec_from_file_location(path.stem, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    finally:
        os.environ.clear()
        os.environ.update(environ)
    return mod


def _table_after(text, heading_line):
    """The rows (lists of cell strings) of the first markdown table whose
    header row starts with ``heading_line``."""
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.startswith(heading_line)), None)
    assert start is not None, f"no table starting {heading_line!r}: the page changed, or this test is stale"
    rows = []
    for ln in lines[start + 2:]:
        if not ln.startswith("|"):
            break
        rows.append([c.strip() for c in ln.strip().strip("|").split("|")])
    assert rows
    return rows


def _num(cell):
    """The first number of a cell, and half a unit of its last printed digit."""
    m = re.search(r"-?[\d,]+(?:\.\d+)?", cell)
    assert m, cell
    s = m.group(0).replace(",", "")
    decimals = len(s.split(".")[1]) if "." in s else 0
    return float(s), 0.5 * 10.0 ** -decimals


def _agrees(cell, value, scale=1.0):
    shown, half = _num(cell)
    return abs(shown * scale - value) <= half * scale * (1 + 1e-9)


def test_readme_speed_table_is_step_csv():
    df = pd.read_csv(RESULTS / "step.csv")
    df = df[~df["size"].str.contains("one-hot")]
    rows = _table_after(README, "| weights | `learn_many` ns/step")
    assert [int(_num(r[0])[0]) for r in rows] == sorted(df.n_params.unique())
    for r in rows:
        d = df[df.n_params == int(_num(r[0])[0])].set_index("path")
        many, one, numpy = (d.loc[p, "ns_per_step"] for p in ("learn_many", "learn_one(out=)", "numpy"))
        checks = [(r[1], many), (r[2], d.loc["learn_many", "ns_per_weight_step"]),
                  (r[3], one), (r[4], numpy), (r[5], numpy / many)]
        for cell, value in checks:
            assert _agrees(cell, value), (r, cell, value)


def test_readme_competitor_table_is_competitors_csv():
    df = pd.read_csv(RESULTS / "competitors.csv")
    rows = _table_after(README, "| task | RTRL | BPTT (`window=None`) | LSTM |")
    # README row order = the CSV's, one row per task and size, with its three learners
    groups = [g.set_index("learner") for _, g in df.groupby(["task", "size"], sort=False)
              if not (g.task.iloc[0] == "scaling" and g["size"].iloc[0] == "n=16")]
    assert len(rows) == len(groups)
    for r, g in zip(rows, groups):
        for cell, learner in zip(r[1:4], ("RTRL", "BPTT", "LSTM")):
            us = g.loc[learner, "ns_per_step"] / 1e3
            assert _agrees(cell, us, 1e3 if cell.endswith("ms") else 1.0), (r, learner, us)
        assert _agrees(r[4], g.loc["RTRL", "vs_LSTM"]), (r, g.loc["RTRL", "vs_LSTM"])
        # the weight counts in the task cell: RTRL / BPTT / LSTM (or RTRL's vs LSTM's)
        counts = [int(c.replace(",", "")) for c in re.findall(r"\((\d[\d,]*)", r[0])]
        counts += [int(c) for c in re.findall(r"/ (\d+)", r[0])]
        assert g.loc["RTRL", "weights"] in counts and g.loc["LSTM", "weights"] in counts, r


def test_readme_continual_reber_table_is_its_records():
    df = pd.read_csv(RECORDS / "continual_reber.csv")
    rows = {r[0].split(" (")[0]: r for r in _table_after(README, "| learner | runs without a test error")}
    for name, learner in (("1997 LSTM", "1997 LSTM"), ("forget gates", "forget gates"),
                          ("forget gates + peepholes", "forget gates + peepholes")):
        d = df[df.learner == learner]
        r = rows[name]
        n = len(d)
        clean = int((d["test: symbols before 1st error"] == d["test: symbols"]).sum())
        assert r[1].startswith(f"{clean} / {n}"), (r, clean)
        assert r[2].startswith(f"{int(d['solved strict'].sum())} / {n}"), r
        if r[3] != "—":
            assert _agrees(r[3], d["test: T/P recall strict"].mean()), r
    d = df[df.learner == "1997 LSTM"]
    assert f"median {int(d['test: symbols before 1st error'].median())} symbols" in rows["1997 LSTM"][1]
    d = df[df.learner == "forget gates"]
    assert _agrees(rows["forget gates"][4], d["max |s_c| at the end"].median())
    learned = d["learned at, strict (strings)"].dropna()
    lo, hi = (f"{int(v):,}" for v in (learned.min(), learned.max()))
    assert f"after {lo}–{hi} strings" in rows["forget gates"][2]


def test_reproduction_cost_table_is_what_cost_py_prints(capsys):
    cost = _module(ROOT / "scripts" / "cost.py")
    files = sorted(str(p) for p in RECORDS.glob("*.csv"))
    assert cost.main(files + ["--rates", str(RECORDS / "all-quick.csv")]) == 0
    printed = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("|")]
    report = (ROOT / "REPRODUCTION.md").read_text().split("\n## Cost\n", 1)[1]
    start = report.index("| preset | options | trials | CPU s |")
    page = []
    for ln in report[start:].splitlines():
        if not ln.startswith("|"):
            break
        page.append(ln)
    assert page == printed


def test_river_streams_table_is_what_the_benchmark_makes_of_its_csv(monkeypatch):
    pytest.importorskip("river")
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))  # the script imports its neighbour plotting.py
    bench = _module(ROOT / "benchmarks" / "bench_river_streams.py")
    table = bench.markdown(pd.read_csv(RESULTS / "river_streams.csv")).splitlines()
    page = (ROOT / "docs" / "river.md").read_text().splitlines()
    start = page.index(table[0])
    assert page[start:start + len(table)] == table
    assert not page[start + len(table)].startswith("|")


def test_river_forget_gate_table_is_its_csv():
    df = pd.read_csv(RESULTS / "river_forget_gate.csv")
    page = (ROOT / "docs" / "river.md").read_text()
    rows = _table_after(page.replace("\n  |", "\n|"), "| stream, framing | 1997 net |")
    assert len(rows) == 4
    for r in rows:
        stream, framing = (s.strip() for s in r[0].split(","))
        for cell, variant in zip(r[1:], ("1997 net", "forget gate", "forget gate + peepholes")):
            mae = df[(df.stream == stream) & (df.framing == framing) & (df.variant == variant)].MAE
            assert len(mae) == 5
            mean, sd = (c.strip() for c in cell.split("±"))
            assert _agrees(mean, mae.mean()), (r, variant)
            # sd printed to two significant figures, sample sd (ddof=1) as the page says
            assert float(sd) == float(f"{np.std(mae, ddof=1):.2g}"), (r, variant)
