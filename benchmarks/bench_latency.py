"""Latency of one ``learn_one`` / ``predict_one`` call: p50, p99, p99.9 over 10^6 calls.

The Reber-size net (7 inputs, 4 blocks of 2 cells, 7 outputs, biases on all
non-input units: 447 weights) with dense inputs and a target at every step;
``out=`` so that nothing is allocated.  Every call is timed on its own with
``time.perf_counter_ns``; the same loop with a Python function that does
nothing in place of the call is timed too (``timer+loop``: the timer, the
loop and the wrapper's own call), and its median is reported and
subtracted in the ``net`` columns.  The learner is reset every 100 steps, outside the timed
calls.  The five series (``timer+loop``, ``learn_one``, ``predict_one``,
``kernels.learn_step`` and the do-nothing dispatch) run in 10 interleaved
rounds, so that a change in
the machine's load falls on all of them alike.  The machine is shared: the load average is printed and saved.

Also measured here:

* where a ``learn_one`` call's time goes: the same calls of the compiled
  step ``kernels.learn_step`` without the Python method, and of a compiled
  function with its signature that does nothing (Numba's dispatch alone);
* cold start: a new process with a warm on-disk cache, from interpreter
  start to the first step's result (import, build, step), median of runs;
* ``learn_many`` per step on the same net, for comparison, and
  ``kernels.learn_step`` called once per step from a compiled loop (no
  interpreter between the calls): what the per-step entry costs over
  ``learn_many``'s row loop by itself, apart from the Python call;
* separate learners in Python threads: steps per second with 1 and 2
  threads (the kernels release the GIL);
* saving and restoring the complete state in the loop: ``snapshot(into=)``
  and ``restore_snapshot`` against ``state_arrays`` and
  ``load_state_arrays``.

Writes ``benchmarks/results/latency.csv``, and with ``--quick``
``benchmarks/results/local/latency.csv`` (git-ignored).

    python benchmarks/bench_latency.py [--quick] [--calls 1000000]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # idle BLAS threads spin and steal a core

import argparse  # noqa: E402
import json  # noqa: E402
import pathlib  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from online_lstm import OnlineLSTM  # noqa: E402
from online_lstm import kernels as _k  # noqa: E402
from online_lstm.bench import CHUNK, call_series, per_call_ns  # noqa: E402  (as online-lstm bench)
from online_lstm._jit import njit_sig  # noqa: E402
from online_lstm.cli import _count, csv_out  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from bench_step import default_out, median_time, workload  # noqa: E402

REBER = dict(n_in=7, n_out=7, n_blocks=4, block_size=2, bias="all", init_range=0.1, lr=0.1)
ROUNDS = 10  # interleaved rounds of the per-call series


@njit_sig("int64(float64[::1], float64[::1], float64[::1], float64[::1])")
def _do_nothing(mem, x, y, out):
    """learn_step's signature and nothing else: the cost of the dispatch."""
    return 0


@njit_sig("int64(float64[::1], float64[:, ::1], float64[:, ::1], boolean[::1], float64[::1])")
def _learn_step_loop(mem, X, Y, resets, out):
    """``kernels.learn_step`` once per row, from compiled code: the per-step
    entry without the interpreter (rows as views, as Python passes arrays)."""
    st = 0
    for t in range(X.shape[0]):
        if resets[t]:
            _k.reset(mem)
        st |= _k.learn_step(mem, X[t], Y[t], out)
    return st


def latency(n_calls):
    rng = np.random.default_rng(0)
    m = OnlineLSTM(**REBER, seed=0)
    X, Y, _ = workload(rng, CHUNK, 7, 7)
    xs, ys = [np.ascontiguousarray(r) for r in X], [np.ascontiguousarray(r) for r in Y]
    o = np.empty(7)
    reset = m.reset

    # Where learn_one's time goes: the compiled step called directly (no
    # Python method), and a compiled function with the same signature that
    # does nothing (Numba's dispatch of four arrays alone).
    mem, kernel = m._mem, _k.learn_step

    def kernel_step(x, y):
        if x is None:
            return reset()
        kernel(mem, x, y, o)

    def dispatch_step(x, y):
        if x is None:
            return reset()
        _do_nothing(mem, x, y, o)

    series = [*call_series(m, o),  # the loop alone, learn_one and predict_one, as online-lstm bench
              ("kernels.learn_step", kernel_step), ("dispatch only", dispatch_step)]
    for _, fn in series:
        per_call_ns(fn, xs, ys, 10_000)  # warm-up
    # In rounds, each series in turn, so that a change in the machine's load
    # falls on all of them alike; the percentiles are over all calls.
    rounds = ROUNDS
    samples = {name: [] for name, _ in series}
    for _ in range(rounds):
        for name, fn in series:
            samples[name].append(per_call_ns(fn, xs, ys, n_calls // rounds))
    rows = []
    overhead = None
    for name, _ in series:
        d = np.concatenate(samples[name])
        p = np.percentile(d, [50, 99, 99.9])
        if overhead is None:
            overhead = p[0]
        rows.append(dict(what=name, calls=len(d), p50_ns=p[0], p99_ns=p[1], p999_ns=p[2],
                         max_ns=d.max(), mean_ns=d.mean(),
                         net_p50_ns=p[0] - overhead, net_p99_ns=p[1] - overhead,
                         net_p999_ns=p[2] - overhead))
        print(f"  {name:18s} p50 {p[0]:7.0f}  p99 {p[1]:7.0f}  p99.9 {p[2]:7.0f}  max {d.max():9.0f} ns",
              flush=True)
    # learn_many on the same net, for comparison
    T = 50_000
    X, Y, R = workload(rng, T, 7, 7)
    out = np.empty((T, 7))
    m.learn_many(X, Y, R, out=out)
    t = median_time(lambda: m.learn_many(X, Y, R, out=out), 7) / T * 1e9
    rows.append(dict(what="learn_many per step", calls=T, p50_ns=t))
    print(f"  learn_many   {t:7.0f} ns per step (median of 7 chunks of {T})")
    m2, m3, o1 = OnlineLSTM(**REBER, seed=0), OnlineLSTM(**REBER, seed=0), np.empty(7)
    assert _learn_step_loop(m2._mem, X, Y, R, o1) == 0
    m3.learn_many(X, Y, R, out=out)
    assert np.array_equal(m2._mem, m3._mem)  # one step, one truth: the same bits as learn_many
    t = median_time(lambda: _learn_step_loop(m2._mem, X, Y, R, o1), 7) / T * 1e9
    rows.append(dict(what="learn_step from a compiled loop, per step", calls=T, p50_ns=t))
    print(f"  kernels.learn_step from a compiled loop {t:7.0f} ns per step (median of 7 chunks of {T})")
    return rows


def snapshots(quick):
    """Save and restore the complete state in the loop: ``snapshot(into=...)``
    and ``restore_snapshot`` (copies into one preallocated buffer, nothing
    allocated) against ``state_arrays`` and ``load_state_arrays`` (named
    copies, every number checked), on the Reber net and on the paper's
    competitors at about its size (RTRL and BPTT with 12 hidden units, as
    preset ``1-rtrl-h12``; BPTT with a window of 20 steps).  Median of rounds
    of n calls, in ns per call, the rounds of the four interleaved."""
    from online_lstm.baselines import BPTT, RTRL

    rows = []
    for label, make in (("", lambda: OnlineLSTM(**REBER, seed=0)),
                        ("RTRL h12 ", lambda: RTRL(7, 7, 12, seed=0)),
                        ("BPTT h12 w20 ", lambda: BPTT(7, 7, 12, window=20, seed=0))):
        rows += _snapshot_times(make(), label, quick)
    return rows


def _snapshot_times(m, label, quick):
    rng = np.random.default_rng(2)
    X, Y, R = workload(rng, 1_000, 7, 7)
    m.learn_many(X, Y, R)
    snap, arrays = m.snapshot(), m.state_arrays()
    n, rounds = (2_000, 7) if quick else (20_000, 15)
    series = {"snapshot(into=snap)": lambda: m.snapshot(into=snap),
              "restore_snapshot(snap)": lambda: m.restore_snapshot(snap),
              "state_arrays()": m.state_arrays,
              "load_state_arrays(arrays)": lambda: m.load_state_arrays(arrays)}

    def loop(fn, k):
        t0 = time.perf_counter_ns()
        for _ in range(k):
            fn()
        return (time.perf_counter_ns() - t0) / k

    times = {name: [] for name in series}
    for name, fn in series.items():
        loop(fn, n // 10)  # warm-up
    for _ in range(rounds):
        for name, fn in series.items():
            times[name].append(loop(fn, n))
    med = {name: float(np.median(t)) for name, t in times.items()}
    fast = med["snapshot(into=snap)"] + med["restore_snapshot(snap)"]
    slow = med["state_arrays()"] + med["load_state_arrays(arrays)"]
    print(f"  {label}snapshot(into=) {med['snapshot(into=snap)']:.0f} ns + restore_snapshot "
          f"{med['restore_snapshot(snap)']:.0f} ns = {fast:.0f} ns; state_arrays + load_state_arrays "
          f"{slow:.0f} ns ({slow / fast:.0f}x); state {snap.nbytes:,} bytes (median of {rounds} "
          f"rounds of {n:,} calls)")
    return [dict(what=f"state: {label}{name}", calls=rounds * n, p50_ns=t) for name, t in med.items()]


COLD = ("import time; t0 = time.perf_counter(); import numpy as np; from online_lstm import OnlineLSTM; "
        "t1 = time.perf_counter(); m = OnlineLSTM(7, 7, 4, 2, bias='all', seed=0); "
        "t2 = time.perf_counter(); m.learn_one(np.eye(7)[0], np.eye(7)[1]); t3 = time.perf_counter(); "
        "import json; print(json.dumps([t1 - t0, t2 - t1, t3 - t2, t3 - t0]))")


def cold_start(runs):
    """Seconds in a new process (warm cache): import, build, first step, total."""
    subprocess.run([sys.executable, "-c", COLD], check=True, capture_output=True)  # warm the cache
    res = [json.loads(subprocess.run([sys.executable, "-c", COLD], check=True, capture_output=True,
                                     text=True).stdout) for _ in range(runs)]
    med = np.median(np.array(res), axis=0)
    print(f"  new process: import {med[0]:.3f} s, build {med[1]*1e3:.1f} ms, first step "
          f"{med[2]*1e3:.1f} ms, total {med[3]:.3f} s (median of {runs})")
    return [dict(what="cold start: " + k, calls=runs, p50_ns=v * 1e9)
            for k, v in zip(("import", "build", "first step", "total"), med)]


def threads(quick):
    """Steps per second of separate learners, each in its own Python thread."""
    rng = np.random.default_rng(1)
    T = 20_000 if quick else 100_000
    X, Y, R = workload(rng, T, 7, 7)
    rows = []
    for mode in ("learn_many", "learn_one"):
        n = T if mode == "learn_many" else T // 10
        for k in (1, 2):
            ms = [OnlineLSTM(**REBER, seed=i) for i in range(k)]
            outs = [np.empty((T, 7)) for _ in range(k)]
            o1 = [np.empty(7) for _ in range(k)]

            def work(i):
                m = ms[i]
                if mode == "learn_many":
                    m.learn_many(X, Y, R, out=outs[i])
                else:
                    for t in range(n):
                        m.learn_one(X[t], Y[t], out=o1[i])

            def run_all():
                th = [threading.Thread(target=work, args=(i,)) for i in range(k)]
                for t in th:
                    t.start()
                for t in th:
                    t.join()

            run_all()
            sec = median_time(run_all, 3 if quick else 5)
            rows.append(dict(what=f"threads: {mode}, {k} learner(s) in {k} thread(s)", calls=k * n,
                             p50_ns=sec / (k * n) * 1e9))
        one, two = rows[-2]["p50_ns"], rows[-1]["p50_ns"]
        print(f"  {mode} in threads: {one:.0f} ns/step with 1, {two:.0f} with 2: "
              f"{one / two:.2f}x the throughput")
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10^5 calls instead of 10^6")
    ap.add_argument("--calls", type=_count(ROUNDS * CHUNK), default=None,
                    help=f"calls per series (default 10^6, 10^5 with --quick; at least {ROUNDS * CHUNK:,}, "
                         f"taken in {ROUNDS} rounds of whole chunks of {CHUNK}: rounded down to a "
                         f"multiple of {ROUNDS * CHUNK:,})")
    ap.add_argument("--out", default=None,
                    help="CSV (default benchmarks/results/latency.csv; with --quick, "
                         "benchmarks/results/local/latency.csv)")
    args = ap.parse_args()
    args.out = args.out or default_out("latency.csv", args.quick)
    csv_out(ap, args.out)  # written at the end: a path that cannot be must fail before the run
    n = args.calls if args.calls is not None else (100_000 if args.quick else 1_000_000)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average at start: {load}")
    rows = cold_start(3 if args.quick else 7)
    print(f"per call, {n:,} calls each (ns; 'net' subtracts the timer+loop median):")
    # CPU time this process got per second of wall time during the per-call
    # timings: about 1 for one busy thread on an idle core, less when other
    # sessions share the cores.  (Not over the cold starts, whose time is
    # spent in child processes, nor the threads, which may use two cores.)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    rows += latency(n)
    cpu_per_wall = round((time.process_time() - cpu0) / (time.perf_counter() - wall0), 2)
    rows += snapshots(args.quick)
    rows += threads(args.quick)
    df = pd.DataFrame(rows)
    df["load_at_start"] = load
    df["load_at_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    df["cpu_per_wall"] = cpu_per_wall
    out = pathlib.Path(args.out)
    df.round(1).to_csv(out, index=False)
    print(f"load average at end: {df['load_at_end'][0]}\nwritten to {out}")


if __name__ == "__main__":
    main()
