"""Cost of one online step against network size: ns per step and per weight-step.

Side by side in one process, for each size:

* ``learn_many``: T steps in one compiled call (amortised per step);
* ``learn_one``: one Python call per step, with ``out=`` (no allocation) and
  with the default fresh array;
* ``numpy``: a straightforward NumPy implementation of the same step
  (``numpy_step.py``), checked to compute the same outputs first.

Workload: F connectivity, output gates, biases on all non-input units, two
cells per block; dense inputs uniform in [-1, 1], a target at every step,
a reset every 100 steps (sequences of realistic length; no state drift).
The Reber-size net (7 inputs, 4 blocks of 2 cells, 7 outputs, 447 weights)
is also run with one-hot inputs, as in Experiment 1.

Every figure is the median of repeated timings; compilation is excluded and
reported separately.  Results go to ``benchmarks/results/step.csv``, and with
``--quick`` to ``benchmarks/results/local/step.csv`` (git-ignored).

    python benchmarks/bench_step.py [--quick]
    python benchmarks/bench_step.py --marginal benchmarks/results/step.csv
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # idle BLAS threads spin and steal a core

import argparse  # noqa: E402
import pathlib  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import online_lstm  # noqa: E402
from online_lstm import OnlineLSTM  # noqa: E402
from online_lstm.cli import csv_out  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from numpy_step import NumpyLSTM  # noqa: E402

RESULTS = pathlib.Path(__file__).parent / "results"


def default_out(name, quick):
    """Where a benchmark writes without ``--out``: ``benchmarks/results/NAME``, the published
    figures, or with ``--quick`` ``benchmarks/results/local/NAME`` (git-ignored), as
    ``run_all.py`` does, so that a quick look never overwrites the published figures."""
    return str((RESULTS / "local" if quick else RESULTS) / name)

#: (label, n_in, n_out, n_blocks, block_size)
SIZES = [
    ("reber", 7, 7, 4, 2),
    ("1.6k", 16, 16, 8, 2),
    ("5k", 16, 16, 16, 2),
    ("19k", 16, 16, 32, 2),
    ("71k", 16, 16, 64, 2),
    ("155k", 16, 16, 96, 2),
]


def workload(rng, T, n_in, n_out, onehot=False):
    if onehot:
        X = np.eye(n_in)[rng.integers(0, n_in, T)]
        Y = np.eye(n_out)[rng.integers(0, n_out, T)]
    else:
        X = rng.uniform(-1.0, 1.0, (T, n_in))
        Y = rng.uniform(0.0, 1.0, (T, n_out))
    resets = np.zeros(T, dtype=bool)
    resets[::100] = True
    return X, Y, resets


def median_time(fn, repeats):
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


def bench_size(label, n_in, n_out, C, S, quick, onehot=False):
    rng = np.random.default_rng(0)
    m = OnlineLSTM(n_in, n_out, C, S, bias="all", init_range=0.1, lr=0.1, seed=0)
    W = m.layout.n_params
    rows = []
    # learn_many: aim at ~0.15 s per timed call
    T = int(min(200_000, max(2_000, 3e7 / W))) // (4 if quick else 1)
    X, Y, resets = workload(rng, T, n_in, n_out, onehot)
    out = np.empty((T, n_out))
    m.learn_many(X[:100], Y[:100], resets[:100])
    t = median_time(lambda: m.learn_many(X, Y, resets, out=out), 3 if quick else 7) / T
    rows.append(("learn_many", t))
    # learn_one, one Python call per step
    N = int(min(20_000, max(500, 2e6 / W))) // (4 if quick else 1)
    xs, ys = X[:N], Y[:N]
    o1 = np.empty(n_out)

    def loop_out():
        for i in range(N):
            if resets[i]:
                m.reset()
            m.learn_one(xs[i], ys[i], out=o1)

    def loop_new():
        for i in range(N):
            if resets[i]:
                m.reset()
            m.learn_one(xs[i], ys[i])

    def loop_empty():  # the benchmark loop's own cost, subtracted below
        for i in range(N):
            if resets[i]:
                pass
            xs[i], ys[i]

    base = median_time(loop_empty, 5) / N
    rows.append(("learn_one(out=)", median_time(loop_out, 5 if quick else 9) / N - base))
    rows.append(("learn_one", median_time(loop_new, 5 if quick else 9) / N - base))
    # NumPy baseline, checked against the learner first
    ref = OnlineLSTM(n_in, n_out, C, S, bias="all", init_range=0.1, lr=0.1, seed=0)
    npl = NumpyLSTM(ref)
    yk_np = [npl.learn_one(X[i], Y[i]) for i in range(20)]
    yk_ol = ref.learn_many(X[:20], Y[:20])
    np.testing.assert_allclose(np.array(yk_np), yk_ol, rtol=1e-9, atol=1e-12)
    Nn = max(50, N // 10)

    def loop_numpy():
        for i in range(Nn):
            if resets[i]:
                npl.reset()
            npl.learn_one(xs[i], ys[i])

    rows.append(("numpy", median_time(loop_numpy, 3 if quick else 5) / Nn))
    t_numpy = rows[-1][1]
    name = label + (" one-hot" if onehot else "")
    return [dict(size=name, n_params=W, path=path, ns_per_step=round(t * 1e9, 1),
                 ns_per_weight_step=round(t * 1e9 / W, 3), speedup_vs_numpy=round(t_numpy / t, 1))
            for path, t in rows]


def cold_start() -> float:
    """Seconds from interpreter start of ``import online_lstm`` to the first
    step's result, in a fresh process (the on-disk cache is warm by now)."""
    import subprocess

    code = ("import time; t0 = time.perf_counter(); import numpy as np; from online_lstm import "
            "OnlineLSTM; m = OnlineLSTM(7, 7, 4, 2, seed=0); m.learn_one(np.eye(7)[0], np.eye(7)[1]); "
            "print(time.perf_counter() - t0)")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)  # warm the cache
    res = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return float(res.stdout.strip())


def marginal(df: pd.DataFrame, path: str = "learn_many") -> pd.DataFrame:
    """Cost of the weights a size adds over the next smaller one, ns per added weight-step.

    A step costs a fixed part (the logistic functions, the short per-unit
    loops, the checks) plus a part that grows with the weight count W.  The
    per-weight-step figure of the main table divides both by W, so it falls
    with size; the marginal cost ``(t_2 - t_1) / (W_2 - W_1)`` between
    consecutive sizes leaves the fixed part out and is what stays flat if the
    cost per weight is O(1).  Dense-input sizes only.
    """
    d = df[(df["path"] == path) & ~df["size"].str.contains("one-hot")].sort_values("n_params")
    size, w, t = d["size"].to_numpy(), d["n_params"].to_numpy(), d["ns_per_step"].to_numpy()
    return pd.DataFrame({"from": size[:-1], "to": size[1:], "added_weights": np.diff(w).astype(int),
                         "ns_per_added_weight_step": np.round(np.diff(t) / np.diff(w), 3)})


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer and shorter repetitions")
    ap.add_argument("--out", default=None,
                    help="CSV (default benchmarks/results/step.csv; with --quick, "
                         "benchmarks/results/local/step.csv)")
    ap.add_argument("--marginal", metavar="CSV",
                    help="only print the marginal cost per added weight-step from an existing CSV")
    args = ap.parse_args()
    args.out = args.out or default_out("step.csv", args.quick)
    if args.marginal:
        try:
            df = pd.read_csv(args.marginal)
            table = marginal(df)
        except (OSError, ValueError, KeyError, AttributeError) as exc:  # missing, empty, not step.csv
            ap.error(f"--marginal {args.marginal}: not a CSV of bench_step.py ({type(exc).__name__}: {exc})")
        print(table.to_string(index=False))
        return
    csv_out(ap, args.out)  # written at the end: a path that cannot be must fail before the run
    print(f"new process, warm cache: import + build + first step = {cold_start():.3f} s")
    rows = bench_size(*SIZES[0], quick=args.quick, onehot=True)
    for s in SIZES:
        rows += bench_size(*s, quick=args.quick)
        print(f"  done {s[0]}", flush=True)
    df = pd.DataFrame(rows)
    df["machine"] = f"{platform.machine()} {os.cpu_count()} cpu, numba {online_lstm._jit.numba.__version__}"
    df.to_csv(args.out, index=False)  # (its directory was made by csv_out before the run)
    print(df.drop(columns="machine").to_string(index=False))
    print("\nlearn_many, marginal cost of the weights each size adds (ns per added weight-step):")
    print(marginal(df).to_string(index=False))
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
