"""Scaling of the learner bank over learners (1 ... 10^4) and threads (1, 2).

For each architecture and number of learners N, the cost per learner-step of

* ``learn_many``: every learner runs a chunk of T = 16 steps in one call;
* ``learn_one``: one step of every learner per call (a streaming loop);

with one thread (the serial kernel) and with two (``prange`` over the
learners, ``numba.set_num_threads(2)``), timed in rounds that run every
variant once (so a change in the machine's load hits all alike).  For comparison, N separate
``OnlineLSTM.learn_one`` calls in a Python loop (what one would write without
the bank), for N up to 1024.

Architectures (F = every gate and cell reads the previous cells and gates):

=========  ==================================================  =======
reber      7 in, 4 blocks x 2 cells, 7 out, F, biases on all   447 w
sensor-F   1 in, 4 blocks x 2 cells, 1 out, F, gate biases     ~290 w
sensor-B   1 in, 8 blocks x 1 cell, 1 out, B, gate biases      ~50 w
=========  ==================================================  =======

All three have 8 cells.  Dense inputs, a target at every step, one reset per
learner every 100 steps (staggered).  Medians of repeated timings.  Writes
``benchmarks/results/bank.csv`` and ``benchmarks/results/bank.png``, and with ``--quick``
the same names in ``benchmarks/results/local/`` (git-ignored).

    python benchmarks/bench_bank.py [--quick]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # idle BLAS threads spin and steal a core

import argparse  # noqa: E402
import pathlib  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numba  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from online_lstm import LearnerBank  # noqa: E402
from online_lstm.cli import csv_out  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from bench_peers import interleaved  # noqa: E402
from bench_step import default_out  # noqa: E402
from plotting import pyplot  # noqa: E402 (the script's own directory)

ARCHS = {
    "reber": dict(n_in=7, n_out=7, n_blocks=4, block_size=2, bias="all"),
    "sensor-F": dict(n_in=1, n_out=1, n_blocks=4, block_size=2),
    "sensor-B": dict(n_in=1, n_out=1, n_blocks=8, block_size=1, connectivity="B"),
}
LEARNERS = [1, 4, 16, 64, 256, 1024, 4096, 10_000]
#: thread counts timed: 2 only where Numba has a second thread (NUMBA_NUM_THREADS >= 2; on one
#: core numba.set_num_threads(2) raises ValueError)
THREADS = (1, 2) if numba.config.NUMBA_NUM_THREADS >= 2 else (1,)
T_MANY = 16


def data(rng, N, T, n_in, n_out):
    X = rng.uniform(-1.0, 1.0, (N, T, n_in))
    Y = rng.uniform(0.0, 1.0, (N, T, n_out))
    return X, Y


def timeboxed(call, budget, setup):
    """A timing loop: ``setup()``, then ``call(k)`` for k = 0, 1, ... until
    ``budget`` seconds have passed; returns the number of calls.  (A fixed
    count can take a hundred times longer than planned when parallel calls
    wait for a thread that the scheduler gave to another process.)"""

    def loop():
        setup()
        t0 = time.perf_counter()
        k = 0
        while True:
            call(k)
            k += 1
            if time.perf_counter() - t0 >= budget:
                return k

    return loop


def bench(arch, N, quick):
    kw = ARCHS[arch]
    rng = np.random.default_rng(N)
    bank = LearnerBank(N, **kw, init_range=0.1, lr=0.1, seed=0)
    W = bank.layout.n_params
    budget = 0.03 if quick else 0.1
    repeats = 3 if quick else 7
    X, Y = data(rng, N, T_MANY, kw["n_in"], kw["n_out"])
    out = np.empty_like(Y[..., :kw["n_out"]])
    x1, y1 = np.ascontiguousarray(X[:, 0]), np.ascontiguousarray(Y[:, 0])  # learn_one input
    o1 = np.empty((N, kw["n_out"]))
    phase = np.arange(N) % 100  # staggered resets: learner l every 100 steps
    # staggered resets, learner l every 100 steps, precomputed for a whole cycle
    many_masks = [np.ascontiguousarray((phase[:, None] + k * T_MANY + np.arange(T_MANY)) % 100 == 0)
                  for k in range(25)]  # 25 * 16 = 400 steps, a multiple of 100
    one_masks = [(phase + k) % 100 == 0 for k in range(100)]
    for parallel in (False, True):  # load both kernels before timing
        bank.parallel = parallel
        bank.learn_many(X[:, :1], Y[:, :1])
    bank.reset()
    loops = {}
    for threads in THREADS:

        def use(threads=threads):
            numba.set_num_threads(threads)
            bank.parallel = threads > 1

        def many(k):
            bank.learn_many(X, Y, many_masks[k % 25], out=out)

        def one(k):
            bank.learn_one(x1, y1, one_masks[k % 100], out=o1)

        loops[("learn_many", threads)] = (timeboxed(many, budget, use), T_MANY * N)
        loops[("learn_one", threads)] = (timeboxed(one, budget, use), N)
    if N <= 1024:  # the loop one would write without a bank
        ms = [bank.learner(i) for i in range(N)]
        os1 = np.empty(kw["n_out"])
        xs, ys = list(x1), list(y1)

        def separate(k):
            for i in range(N):
                ms[i].learn_one(xs[i], ys[i], out=os1)

        loops[("separate learn_one", 1)] = (timeboxed(separate, budget, lambda: None), N)
    times = interleaved(loops, repeats)
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    rows = [dict(arch=arch, n_params=W, learners=N, threads=threads, mode=mode,
                 ns_per_learner_step=t * 1e9) for (mode, threads), t in times.items()]
    return rows


def plot(df, path):
    plt = pyplot(path)
    if plt is None:
        return False

    fig, axes = plt.subplots(1, len(ARCHS), figsize=(13, 4.3), sharey=True)
    for ax, arch in zip(axes, ARCHS):
        d = df[df.arch == arch]
        for (mode, threads), g in d.groupby(["mode", "threads"]):
            g = g.sort_values("learners")
            ls = {"learn_many": "-", "learn_one": "--", "separate learn_one": ":"}[mode]
            label = mode if mode.startswith("separate") else f"{mode}, {threads} thread{'s' * (threads > 1)}"
            ax.plot(g.learners, g.ns_per_learner_step, ls=ls, marker="o", ms=3,
                    color=f"C{threads - 1}" if not mode.startswith("separate") else "C7", label=label)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"{arch} ({int(d.n_params.iloc[0])} weights, 8 cells)")
        ax.set_xlabel("learners in the bank")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("ns per learner-step")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="shorter timings, up to 1024 learners")
    ap.add_argument("--out", default=None,
                    help="CSV (default benchmarks/results/bank.csv; with --quick, "
                         "benchmarks/results/local/bank.csv)")
    args = ap.parse_args()
    args.out = args.out or default_out("bank.csv", args.quick)
    csv_out(ap, args.out)  # written at the end: a path that cannot be must fail before the run
    load0 = " ".join(f"{x:.2f}" for x in os.getloadavg())
    if THREADS == (1,):
        print(f"Numba has one thread here (NUMBA_NUM_THREADS={numba.config.NUMBA_NUM_THREADS}): "
              "the 2-thread variants are skipped")
    print(f"load average at start: {load0}; threading layer: ", end="")
    LearnerBank(2, 1, 1, parallel=True).learn_one(np.zeros((2, 1)))
    print(numba.threading_layer())
    from tqdm import tqdm

    cpu0, wall0 = time.process_time(), time.perf_counter()
    jobs = [(a, n) for a in ARCHS for n in LEARNERS if not (args.quick and n > 1024)]
    rows = []
    for a, n in tqdm(jobs, desc="bank configurations"):
        rows += bench(a, n, args.quick)
    df = pd.DataFrame(rows)
    df["machine"] = f"{platform.machine()} {os.cpu_count()} cpu, numba {numba.__version__}"
    df["load"] = f"{load0} -> " + " ".join(f"{x:.2f}" for x in os.getloadavg())
    df["omp_wait_policy"] = os.environ.get("OMP_WAIT_POLICY", "")
    # CPU time this process got per second of wall time: about 1 for one busy
    # thread on an idle core, less when other sessions share the cores
    df["cpu_per_wall"] = round((time.process_time() - cpu0) / (time.perf_counter() - wall0), 2)
    out = pathlib.Path(args.out)
    df.round(2).to_csv(out, index=False)
    plotted = plot(df, out.with_suffix(".png")) is not False
    for mode in ("learn_many", "learn_one"):
        d = df[df["mode"] == mode].pivot_table(index=["arch", "learners"], columns="threads",
                                               values="ns_per_learner_step")
        if 2 in d:
            d["speedup 2 vs 1"] = d[1] / d[2]
        print(f"\n{mode}: ns per learner-step")
        print(d.round(2).to_string())
    sep = df[df["mode"] == "separate learn_one"].pivot_table(index="learners", columns="arch",
                                                             values="ns_per_learner_step")
    print("\nseparate learners, Python loop of learn_one: ns per learner-step")
    print(sep.round(0).to_string())
    print(f"\nwritten to {out}" + (f" and {out.with_suffix('.png')}" if plotted else ""))


if __name__ == "__main__":
    main()
