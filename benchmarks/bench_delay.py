"""What keeping step snapshots for delayed targets costs (``max_delay``).

A learner with ``max_delay = D`` copies each step's record, traces and
output weights from the cells into a ring of D + 1 slots, and takes the
options' code path (the one forget gates and peepholes use).  This script
times, side by side in one process and in rounds (every variant once per
round), on ``bench_step.py``'s workload (F connectivity, biases on all
units, a target every step, a reset every 100 steps):

* per step, for ``max_delay`` = 0, 1, 8 and 64, as the ratio to
  ``max_delay = 0`` (the 1997 path, no snapshots): ``learn_many`` with a
  target for every output at every step (such a step keeps no snapshot,
  only its flags) and ``predict_many`` (no targets: every step is
  snapshotted, as with ``predict_one`` before ``learn_delayed``);
* at Reber size, per Python call: ``learn_one(x, y)`` (target at once)
  against ``predict_one(x)`` plus ``learn_delayed(y, age=D)`` (the target of
  the step D steps back), both with ``out=``.

Medians of process CPU time per step; the load average is printed.  Writes
``benchmarks/results/delay.csv``, and with ``--quick`` ``benchmarks/results/local/delay.csv``
(git-ignored).

    python benchmarks/bench_delay.py [--quick] [--out benchmarks/results/delay.csv]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import pathlib  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from tqdm import tqdm  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_step import default_out, workload  # noqa: E402

from online_lstm import OnlineLSTM  # noqa: E402
from online_lstm.cli import _count, csv_out  # noqa: E402

#: (label, n_in, n_out, n_blocks, block_size)
SIZES = [("reber", 7, 7, 4, 2), ("1.6k", 16, 16, 8, 2), ("19k", 16, 16, 32, 2)]
DELAYS = (0, 1, 8, 64)


def _learner(n_in, n_out, C, S, D):
    return OnlineLSTM(n_in, n_out, C, S, bias="all", init_range=0.1, lr=0.1, seed=0, max_delay=D)


def bench_many(label, n_in, n_out, C, S, rounds, quick):
    ms = {D: _learner(n_in, n_out, C, S, D) for D in DELAYS}
    W = ms[0].layout.n_params
    T = int(min(50_000, max(1_000, 1e7 / W))) // (4 if quick else 1)
    X, Y, resets = workload(np.random.default_rng(0), T, n_in, n_out)
    out = np.empty((T, n_out))
    calls = {"learn_many": lambda m: m.learn_many(X, Y, resets, out=out),
             "predict_many": lambda m: m.predict_many(X, resets, out=out)}
    rows = []
    for name, call in calls.items():
        ref = None
        for D, m in ms.items():  # warm-up, and the same bits whatever D
            o = call(m).copy()
            ref = o if ref is None else ref
            assert np.array_equal(o, ref), "max_delay changed a step"
        times = {D: [] for D in DELAYS}
        for _ in tqdm(range(rounds), desc=f"{name} {label}", leave=False):
            for D, m in ms.items():
                t0 = time.process_time()
                call(m)
                times[D].append((time.process_time() - t0) / T * 1e9)
        base = np.array(times[0])
        for D in DELAYS:
            t = np.array(times[D])
            r = t / base
            rows.append(dict(size=label, weights=W, call=name, max_delay=D,
                             ns_per_step=float(np.median(t)), ratio=float(np.median(r)),
                             ratio_q1=float(np.quantile(r, 0.25)),
                             ratio_q3=float(np.quantile(r, 0.75)),
                             slot_numbers=ms[D].layout.meta["slot_size"] if D else 0))
    return rows


def bench_calls(rounds, quick, D=8):
    n_in, n_out, C, S = SIZES[0][1:]
    now = _learner(n_in, n_out, C, S, D)
    late = _learner(n_in, n_out, C, S, D)
    T = 2_000 if quick else 10_000
    X, Y, _ = workload(np.random.default_rng(1), T + D, n_in, n_out)
    out = np.empty(n_out)

    def run_now():
        for t in range(T):
            now.learn_one(X[t], Y[t], out=out)

    def run_late():
        for t in range(T):
            late.predict_one(X[t], out=out)
            late.learn_delayed(Y[t], D)

    for t in range(D):  # fill the window
        late.predict_one(X[t], out=out)
    run_now()
    run_late()
    times = {"learn_one": [], "predict_one + learn_delayed": []}
    for _ in tqdm(range(rounds), desc="per call", leave=False):
        for name, fn in (("learn_one", run_now), ("predict_one + learn_delayed", run_late)):
            t0 = time.process_time()
            fn()
            times[name].append((time.process_time() - t0) / T * 1e9)
    base = np.array(times["learn_one"])
    return [dict(size="reber", weights=now.layout.n_params, call=name, max_delay=D,
                 ns_per_step=float(np.median(t)), ratio=float(np.median(np.array(t) / base)),
                 ratio_q1=float(np.quantile(np.array(t) / base, 0.25)),
                 ratio_q3=float(np.quantile(np.array(t) / base, 0.75)),
                 slot_numbers=now.layout.meta["slot_size"])
            for name, t in times.items()]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="shorter calls, 5 rounds")
    ap.add_argument("--rounds", type=_count(1), default=None,
                    help="interleaved rounds, each timing every variant once (default 21; 5 with --quick)")
    ap.add_argument("--out", default=None,
                    help="CSV (default benchmarks/results/delay.csv; with --quick, "
                         "benchmarks/results/local/delay.csv)")
    a = ap.parse_args(argv)
    a.out = a.out or default_out("delay.csv", a.quick)
    csv_out(ap, a.out)  # written at the end: a path that cannot be must fail before the run
    rounds = a.rounds if a.rounds is not None else (5 if a.quick else 21)
    print("load average:", " ".join(f"{v:.2f}" for v in os.getloadavg()))
    rows = []
    for size in SIZES:
        rows += bench_many(*size, rounds=rounds, quick=a.quick)
    rows += bench_calls(rounds, a.quick)
    df = pd.DataFrame(rows)
    print("load average:", " ".join(f"{v:.2f}" for v in os.getloadavg()))
    df.to_csv(a.out, index=False)
    show = df.assign(ns_per_step=df.ns_per_step.round(0), ratio=df.ratio.round(3),
                     iqr=[f"{q1:.3f}-{q3:.3f}" for q1, q3 in zip(df.ratio_q1, df.ratio_q3)])
    print(show[["size", "weights", "call", "max_delay", "ns_per_step", "ratio", "iqr"]]
          .to_string(index=False))
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
