"""CPU cost per preset from record CSVs, for the "Cost" section of REPRODUCTION.md.

    python scripts/cost.py reproduction/records/*.csv --rates reproduction/records/all-quick.csv

Records written before the ``cpu_s`` column existed have no CPU time.  For
those the CPU time is estimated as ``steps`` divided by the preset's CPU
steps per second in the ``--rates`` records (one ``reproduce all --quick``
run), and marked "est.".  Wall time on the shared machine is no measure of
cost: our jobs ran at nice 19 behind other engineers' jobs.
"""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from online_lstm.experiments import read_records
from online_lstm.presets import PRESETS


def cost_table(records: pd.DataFrame, rates: pd.DataFrame) -> pd.DataFrame:
    """One row per (preset, options): trials, CPU seconds (recorded or estimated), wall seconds."""
    sums = rates.groupby("preset")[["steps", "cpu_s"]].sum()  # (no include_groups: pandas >= 2.0)
    rate = sums["steps"] / sums["cpu_s"]
    records = records.copy()
    records["options"] = records["options"].astype(object).fillna("")
    cpu = records["cpu_s"] if "cpu_s" in records else pd.Series(float("nan"), index=records.index)
    records["estimated"] = cpu.isna()
    records["cpu"] = cpu.fillna(records["steps"] / records["preset"].map(rate))
    rows = records.groupby(["preset", "options"], sort=False).agg(
        trials=("trial", "size"), cpu_s=("cpu", "sum"), estimated=("estimated", "any"),
        wall_s=("wall_s", "sum"), steps=("steps", "sum")).reset_index()
    order = {pid: i for i, pid in enumerate(PRESETS)}  # Table 10 order, then the options
    return rows.sort_values(["preset", "options"], key=lambda c: c.map(order) if c.name == "preset" else c)


#: the columns of a records file (``online-lstm reproduce``) that the table reads
RECORD_COLUMNS = ("preset", "trial", "steps", "wall_s")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("records", nargs="+")
    ap.add_argument("--rates", required=True, help="records of one quick run (CPU steps/s per preset)")
    a = ap.parse_args(argv)
    try:
        recs = {f: read_records(f) for f in a.records if f != a.rates}
        rates = read_records(a.rates)
    except (OSError, ValueError) as exc:  # a missing or unreadable records file
        ap.error(str(exc))
    lacking = [c for c in ("preset", "steps", "cpu_s") if c not in rates]
    if lacking:
        ap.error(f"--rates {a.rates} is not a records file with CPU times (no column {', '.join(lacking)})")
    for f, df in list(recs.items()):
        # the documented glob (reproduction/records/*.csv) takes in the CSVs of the scripts too
        # (continual_reber.csv, rtrl-time-convention-*.csv): they have no presets, so they are left out
        lacking = [c for c in RECORD_COLUMNS if c not in df]
        if lacking:
            print(f"cost.py: left out {f}: not a records file of 'online-lstm reproduce' "
                  f"(no column {', '.join(lacking)})", file=sys.stderr)
            del recs[f]
        elif "options" not in df:
            df["options"] = ""
    if not recs:
        ap.error("no records besides --rates")
    recs = list(recs.values())
    table = cost_table(pd.concat(recs, ignore_index=True), rates)
    print("| preset | options | trials | CPU s | CPU s / trial | wall s |")
    print("|---|---|---|---|---|---|")
    for _, r in table.iterrows():
        est = " (est.)" if r["estimated"] else ""
        print(f"| {r['preset']} | {r['options'] or '–'} | {r['trials']} | {r['cpu_s']:,.0f}{est} "
              f"| {r['cpu_s'] / r['trials']:,.1f} | {r['wall_s']:,.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
