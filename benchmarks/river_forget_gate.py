"""The River adapter with and without forget gates / peepholes on River's bundled series.

Accuracy only (no timing): MAE of progressive validation, mean ± sd over 5
seeds, in the harness and framings of ``bench_river_streams.py`` (``lag 1``
and ``diff``, ``StandardScaler() | LSTMRegressor(seed=s, ...)``, the
adapter's defaults otherwise).  Nothing is tuned for the forget gate.

    python benchmarks/river_forget_gate.py

prints the Markdown table used in ``docs/river.md`` (a few seconds).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # idle BLAS threads spin and steal a core

import numpy as np  # noqa: E402
from bench_river_streams import run, scaled, series_streams  # noqa: E402  (same directory)
from river import datasets, metrics  # noqa: E402

from online_lstm.river import LSTMRegressor  # noqa: E402

SEEDS = range(5)
VARIANTS = {"1997 net": {}, "forget gate": dict(forget_gate=True),
            "forget gate + peepholes": dict(forget_gate=True, peepholes=True)}


def main():
    print("| stream, framing | " + " | ".join(VARIANTS) + " |")
    print("|---" * (len(VARIANTS) + 1) + "|")
    for name, ds, period in (("AirlinePassengers", datasets.AirlinePassengers(), 12),
                             ("WaterFlow", datasets.WaterFlow(), 24)):
        streams = series_streams([y for _, y in ds], period)
        for framing in ("lag 1", "diff"):
            cells = []
            for kw in VARIANTS.values():
                maes = [run(streams[framing], scaled(LSTMRegressor(seed=s, **kw)), metrics.MAE())["MAE"]
                        for s in SEEDS]
                cells.append(f"{np.mean(maes):.3g} ± {np.std(maes, ddof=1):.2g}")
            print(f"| {name}, {framing} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    import argparse

    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()  # --help, and no stray args
    main()
