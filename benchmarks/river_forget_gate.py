"""The River adapter with and without forget gates / peepholes on River's bundled series.

Accuracy only (no timing): MAE of progressive validation, mean ± sd over 5
seeds, in the harness and framings of ``bench_river_streams.py`` (``lag 1``
and ``diff``, ``StandardScaler() | LSTMRegressor(seed=s, ...)``, the
adapter's defaults otherwise).  Nothing is tuned for the forget gate.

    python benchmarks/river_forget_gate.py [--out benchmarks/results/river_forget_gate.csv]

prints the Markdown table used in ``docs/river.md`` (a few seconds) and writes
every run's MAE (stream, framing, variant, seed) to the CSV.
"""

from __future__ import annotations

import os
import pathlib

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # idle BLAS threads spin and steal a core

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from bench_river_streams import run, scaled, series_streams  # noqa: E402  (same directory)
from river import datasets, metrics  # noqa: E402

from online_lstm.river import LSTMRegressor  # noqa: E402

SEEDS = range(5)
VARIANTS = {"1997 net": {}, "forget gate": dict(forget_gate=True),
            "forget gate + peepholes": dict(forget_gate=True, peepholes=True)}


OUT = pathlib.Path(__file__).resolve().parent / "results" / "river_forget_gate.csv"


def main(out=OUT):
    rows = []
    print("| stream, framing | " + " | ".join(VARIANTS) + " |")
    print("|---" * (len(VARIANTS) + 1) + "|")
    for name, ds, period in (("AirlinePassengers", datasets.AirlinePassengers(), 12),
                             ("WaterFlow", datasets.WaterFlow(), 24)):
        streams = series_streams([y for _, y in ds], period)
        for framing in ("lag 1", "diff"):
            cells = []
            for variant, kw in VARIANTS.items():
                maes = [run(streams[framing], scaled(LSTMRegressor(seed=s, **kw)), metrics.MAE())["MAE"]
                        for s in SEEDS]
                rows += [dict(stream=name, framing=framing, variant=variant, seed=s, MAE=m)
                         for s, m in zip(SEEDS, maes)]
                cells.append(f"{np.mean(maes):.3g} ± {np.std(maes, ddof=1):.2g}")
            print(f"| {name}, {framing} | " + " | ".join(cells) + " |", flush=True)
    pathlib.Path(out).parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(out, index=False)
    print(f"written to {out}")


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(OUT), help="CSV of every run's MAE (default: "
                                                     "benchmarks/results/river_forget_gate.csv)")
    from online_lstm.cli import csv_out

    out = ap.parse_args().out
    main(csv_out(ap, out))  # written at the end: a path that cannot be must fail before the runs
