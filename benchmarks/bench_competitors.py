"""Cost per online step of the paper's competitors next to LSTM, on the paper's task sizes.

Side by side in one process, timed round-robin (each repeat times every
learner once, so machine noise hits all of them alike), medians reported:

* ``RTRL``: Williams & Zipser's exact online gradient (:mod:`online_lstm.baselines`);
* ``BPTT``: back-propagation through time to the start of the sequence
  (``window=None``), one backward pass per step with a target;
* ``LSTM``: :class:`online_lstm.OnlineLSTM`, the 1997 net with its truncated
  forward-mode gradient.

Workloads (one-hot inputs, a target at every step, as in Experiments 1 and 2a):

* ``2a``: Task 2a, p = 4, 10, 100: the two training sequences picked at random,
  a reset before each.  RTRL and BPTT on Table 2's net (one self-recurrent
  hidden unit, p + 1 non-recurrent outputs; (p + 2)^2 weights), LSTM on
  Table 10's 2a net (one cell with an input gate in place of the hidden unit).
* ``reber``: Experiment 1 sizes (7 inputs, 7 outputs), random symbols, a
  reset every 12 steps (the mean embedded Reber string length).  RTRL and
  BPTT on Williams & Zipser's fully recurrent net with 3 and 12 hidden units
  (Table 1's 170 and 494 weights), LSTM rows 1-1 and 1-2 of Table 10.
* ``scaling``: fully recurrent nets of n = 16, 32, 64 units (7 in, 7 out) to
  show RTRL's O(n^4) step against BPTT's and LSTM's O(W), LSTM with a
  similar weight count.

Every figure is ns per step of ``learn_many`` (one compiled call over a
chunk; compilation excluded).  Results go to
``benchmarks/results/competitors.csv``, and with ``--quick`` to
``benchmarks/results/local/competitors.csv`` (git-ignored), unless ``--out``
says otherwise.

    python benchmarks/bench_competitors.py [--quick] [--out CSV]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # idle BLAS threads spin and steal a core

import argparse  # noqa: E402
import pathlib  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import numba  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from tqdm import tqdm  # noqa: E402

from online_lstm import OnlineLSTM  # noqa: E402
from online_lstm.baselines import BPTT, RTRL  # noqa: E402
from online_lstm.cli import csv_out  # noqa: E402
from online_lstm.paper import table10_learner  # noqa: E402

RESULTS = pathlib.Path(__file__).parent / "results"


def task_2a_stream(rng, p, n_seq):
    """Random picks of Task 2a's two sequences (spec §5.2), one-hot over p + 1
    symbols; input every symbol but the last, target the next one."""
    seqs = []
    for first in (p - 1, p):  # x, y
        s = [first] + list(range(p - 1)) + [first]
        seqs.append((np.eye(p + 1)[s[:-1]], np.eye(p + 1)[s[1:]]))
    picks = rng.integers(0, 2, n_seq)
    X = np.vstack([seqs[i][0] for i in picks])
    Y = np.vstack([seqs[i][1] for i in picks])
    resets = np.zeros(len(X), dtype=bool)
    resets[::p] = True
    return X, Y, resets


def symbol_stream(rng, T, n, seq_len):
    X = np.eye(n)[rng.integers(0, n, T)]
    Y = np.eye(n)[rng.integers(0, n, T)]
    resets = np.zeros(T, dtype=bool)
    resets[::seq_len] = True
    return X, Y, resets


def workloads(quick):
    """(task, size label, {learner name: learner}, stream maker(T))."""
    out = []
    for p in (4, 10, 100):
        kw = dict(architecture="layered", bias=False, init_range=0.2, lr=1.0, seed=0)
        learners = {
            "RTRL": RTRL(p + 1, p + 1, 1, **kw),
            "BPTT": BPTT(p + 1, p + 1, 1, window=None, **kw),
            "LSTM": table10_learner("2a", seed=0, n_in=p + 1, n_out=p + 1),
        }
        out.append(("2a", f"p={p}", learners,
                    lambda T, p=p: task_2a_stream(np.random.default_rng(1), p, max(1, T // p))))
    for h, row in ((3, "1-1"), (12, "1-2")):
        kw = dict(bias=False, init_range=0.2, lr=0.1, seed=0)
        learners = {"RTRL": RTRL(7, 7, h, **kw), "BPTT": BPTT(7, 7, h, window=None, **kw),
                    "LSTM": table10_learner(row, seed=0)}
        out.append(("reber", f"{h} hidden / LSTM {row}", learners,
                    lambda T: symbol_stream(np.random.default_rng(2), T, 7, 12)))
    for n, (blocks, size) in zip((16, 32, 64), ((4, 2), (8, 3), (16, 4))):
        if quick and n == 64:
            continue
        kw = dict(bias=True, init_range=0.1, lr=0.1, seed=0)
        learners = {"RTRL": RTRL(7, 7, n - 7, **kw), "BPTT": BPTT(7, 7, n - 7, window=None, **kw),
                    "LSTM": OnlineLSTM(7, 7, blocks, size, bias="all", lr=0.1, seed=0)}
        out.append(("scaling", f"n={n}", learners,
                    lambda T: symbol_stream(np.random.default_rng(3), T, 7, 20)))
    return out


def n_weights(m):
    return m.layout.n_params if isinstance(m, OnlineLSTM) else m.n_params


def bench(task, label, learners, make, repeats, target_s):
    # chunk length per learner: about target_s seconds per timed call
    chunks = {}
    for name, m in learners.items():
        X, Y, r = make(400)
        t0 = time.perf_counter()
        m.learn_many(X, Y, r)  # warm-up (compiled already; fills caches)
        per_step = (time.perf_counter() - t0) / len(X)
        T = int(np.clip(target_s / max(per_step, 1e-9), 200, 200_000))
        chunks[name] = make(T)
    times = {name: [] for name in learners}
    for _ in range(repeats):
        for name, m in learners.items():
            X, Y, r = chunks[name]
            t0 = time.perf_counter()
            m.learn_many(X, Y, r)
            times[name].append((time.perf_counter() - t0) / len(X))
    rows = []
    for name, m in learners.items():
        ns = float(np.median(times[name])) * 1e9
        W = n_weights(m)
        rows.append(dict(task=task, size=label, learner=name, weights=W, ns_per_step=round(ns, 1),
                         ns_per_weight_step=round(ns / W, 3), steps_timed=len(chunks[name][0]),
                         repeats=repeats))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats, no n=64 net")
    ap.add_argument("--out", default=None,
                    help="CSV (default benchmarks/results/competitors.csv; with --quick, "
                         "benchmarks/results/local/competitors.csv)")
    args = ap.parse_args()
    out = csv_out(ap, args.out or (RESULTS / "local" if args.quick else RESULTS) / "competitors.csv")
    repeats, target_s = (3, 0.03) if args.quick else (9, 0.15)
    t_compile = time.perf_counter()
    jobs = workloads(args.quick)
    print(f"learners built (kernels loaded or compiled) in {time.perf_counter() - t_compile:.1f} s")
    rows = []
    for task, label, learners, make in tqdm(jobs, desc="workloads"):
        rows.extend(bench(task, label, learners, make, repeats, target_s))
    df = pd.DataFrame(rows)
    lstm = df[df.learner == "LSTM"].set_index(["task", "size"]).ns_per_step
    df["vs_LSTM"] = [round(r.ns_per_step / lstm[(r.task, r.size)], 2) for r in df.itertuples()]
    env = (f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
           f"numpy {np.__version__}, numba {numba.__version__}, load average "
           f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} at the end")
    print(env)
    print(df.to_string(index=False))
    df.to_csv(out, index=False)
    print(f"written {out}")


if __name__ == "__main__":
    main()
