"""Markdown tables for BENCHMARKS.md from the CSVs in ``benchmarks/results``.

    python benchmarks/report.py [--results DIR] > /tmp/tables.md

The numbers in BENCHMARKS.md are pasted from this output, so that they are
exactly the ones in the committed CSVs.
"""

from __future__ import annotations

import pathlib

import pandas as pd

RESULTS = pathlib.Path(__file__).parent / "results"
IMPLS = ["learn_many", "learn_one", "numpy", "torch", "torch LSTMCell", "jax step", "jax scan"]


def fmt(x, digits=0):
    return "–" if pd.isna(x) else f"{x:,.{digits}f}"


def read(name):
    """The CSV ``name`` of the results directory; a file without rows (one cut
    short, or a run that wrote only its header) is refused, not printed as an
    empty table."""
    df = pd.read_csv(RESULTS / name)
    if df.empty:
        raise ValueError("no rows")
    return df


def cpu(df):
    """CPU time the benchmark process got per second of wall time (not
    recorded by older runs)."""
    return df["cpu_per_wall"].iloc[0] if "cpu_per_wall" in df else "not recorded"


def peers():
    df = read("peers.csv")
    sizes = list(dict.fromkeys(df["size"]))
    w = df[df.impl == "learn_many"].set_index("size").n_params
    print(f"Load average: {df['load'].iloc[0]}; CPU seconds per wall second: {cpu(df)}; "
          f"{df['machine'].iloc[0]}\n")
    print("ns per weight-step (each implementation's own weight count):\n")
    print("| implementation | " + " | ".join(f"{s} ({w[s]:,})" for s in sizes) + " |")
    print("|---|" + "---:|" * len(sizes))
    for impl in IMPLS:
        d = df[df.impl == impl].set_index("size")
        if len(d):
            print(f"| {impl} | " + " | ".join(fmt(d.ns_per_weight_step.get(s), 2) for s in sizes) + " |")
    print("\nµs per step, and how many times slower than `learn_many` / than `learn_one`:\n")
    print("| implementation | " + " | ".join(sizes) + " |")
    print("|---|" + "---:|" * len(sizes))
    for impl in IMPLS:
        d = df[df.impl == impl].set_index("size")
        if len(d):
            cells = [f"{d.ns_per_step[s] / 1e3:,.2f} ({d.learn_many_speedup[s]:,.1f}× / "
                     f"{d.learn_one_speedup[s]:,.1f}×)" if s in d.index else "–" for s in sizes]
            print(f"| {impl} | " + " | ".join(cells) + " |")


def latency():
    df = read("latency.csv")
    print(f"\nLoad average: {df['load_at_start'].iloc[0]} at start, {df['load_at_end'].iloc[0]} at end; "
          f"CPU seconds per wall second: {cpu(df)}\n")
    print("| call | calls | p50 ns | p99 ns | p99.9 ns | max ns | p50 − timer | p99 − timer | p99.9 − timer |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    timed = df.p99_ns.notna()  # the per-call series (the rest are medians)
    for _, r in df[timed].iterrows():
        print(f"| {r.what} | {r.calls:,.0f} | {fmt(r.p50_ns)} | {fmt(r.p99_ns)} | {fmt(r.p999_ns)} | "
              f"{fmt(r.max_ns)} | {fmt(r.net_p50_ns)} | {fmt(r.net_p99_ns)} | {fmt(r.net_p999_ns)} |")
    print()
    for _, r in df[~timed].iterrows():
        unit = (f"{r.p50_ns / 1e6:,.1f} ms" if r.what.startswith("cold")
                else f"{r.p50_ns:,.0f} ns per step")
        print(f"- {r.what}: {unit}")


def bank():
    df = read("bank.csv")
    print(f"\nLoad average: {df['load'].iloc[0]}; CPU seconds per wall second: {cpu(df)}; "
          f"OpenMP wait policy: {df.get('omp_wait_policy', pd.Series(['default'])).iloc[0]}\n")
    for mode in ("learn_many", "learn_one"):
        d = df[df["mode"] == mode]
        archs = list(dict.fromkeys(d.arch))
        print(f"`{mode}`, ns per learner-step, 1 thread / 2 threads (speed-up):\n")
        print("| learners | " + " | ".join(
            f"{a} ({int(d[d.arch == a].n_params.iloc[0])} w)" for a in archs) + " |")
        print("|---:|" + "---:|" * len(archs))
        for n in sorted(d.learners.unique()):
            cells = []
            for a in archs:
                g = d[(d.arch == a) & (d.learners == n)].set_index("threads").ns_per_learner_step
                cells.append(f"{g[1]:,.0f} / {g[2]:,.0f} ({g[1] / g[2]:.2f}×)" if len(g) == 2
                             else f"{g[1]:,.0f} / –" if 1 in g else "–")  # one thread only: one core
            print(f"| {n:,} | " + " | ".join(cells) + " |")
        print()
    sep = df[df["mode"] == "separate learn_one"].pivot_table(index="learners", columns="arch",
                                                             values="ns_per_learner_step")
    print("Separate `OnlineLSTM.learn_one` calls in a Python loop, ns per learner-step:\n")
    print("| learners | " + " | ".join(sep.columns) + " |")
    print("|---:|" + "---:|" * len(sep.columns))
    for n, r in sep.iterrows():
        print(f"| {n:,} | " + " | ".join(fmt(v) for v in r) + " |")


def delay():
    df = read("delay.csv")
    many = df[df.call.isin(["learn_many", "predict_many"])]
    Ds = sorted(many.max_delay.unique())
    if not Ds or Ds[0] != 0:
        raise ValueError("no max_delay = 0 rows, the baseline of every ratio")
    what = {"learn_many": "`learn_many`, every target given",
            "predict_many": "`predict_many`, no target (every step kept)"}
    print("\n| net | call | D = 0, ns/step | " + " | ".join(f"D = {D}" for D in Ds[1:]) + " |")
    print("|---|---|---:|" + "---:|" * (len(Ds) - 1))
    for (size, call), g in many.groupby(["size", "call"], sort=False):
        g = g.set_index("max_delay")
        w = int(g.weights.iloc[0])
        print(f"| {size} ({w:,} w) | {what[call]} | {g.ns_per_step[0]:,.0f} | "
              + " | ".join(f"{g.ratio[D]:.2f}×" for D in Ds[1:]) + " |")
    calls = df[~df.call.isin(["learn_many", "predict_many"])]
    for _, r in calls.iterrows():
        print(f"\nper call, {r['size']}, D = {r.max_delay}: {r.call} {r.ns_per_step:,.0f} ns "
              f"({r.ratio:.2f}×)", end="")
    print()


if __name__ == "__main__":
    import argparse
    import contextlib
    import io

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--results", type=pathlib.Path, default=RESULTS,
                    help="directory holding the CSVs (default: benchmarks/results)")
    RESULTS = ap.parse_args().results
    if not RESULTS.is_dir():
        ap.error(f"--results {RESULTS} is not a directory; give the --out directory of run_all.py "
                 "(or of the benchmarks) there")
    unreadable = missing = 0
    for part, script in ((peers, "bench_peers.py"), (latency, "bench_latency.py"),
                         (bank, "bench_bank.py"), (delay, "bench_delay.py")):
        try:
            with contextlib.redirect_stdout(io.StringIO()) as table:  # printed whole or not at all
                part()
            print(table.getvalue(), end="")
        except FileNotFoundError as exc:
            missing += 1
            print(f"\n({exc.filename} not found: run {script} first)")
        except (pd.errors.EmptyDataError, pd.errors.ParserError, KeyError, IndexError, ValueError,
                AttributeError, TypeError) as exc:
            # an empty, cut or hand-edited CSV, or one from an older or partial run: a
            # message naming the file, and the other tables still printed
            unreadable += 1
            name = part.__name__ + ".csv"
            print(f"\n({RESULTS / name} is not a complete {script} result "
                  f"({type(exc).__name__}: {exc}); run {script} again)", flush=True)
    raise SystemExit(1 if unreadable or missing == 4 else 0)
