"""Same step, two revisions, one process: did a change cost the default learner speed?

The package as it is in this working tree ("head") runs next to the package
of another git revision ("base", default ``main``).  The base is exported with
``git archive`` into a temporary directory and imported under another name
(``online_lstm_base``; the package uses relative imports only), so both live in
one process and their timings interleave call by call: base, head, head,
base, ...  The noise of a shared machine then falls on both alike.

Where a learner's buffer lands in memory moves its speed by a few percent
(cache sets, 4K aliasing), so each side has several learners, allocated in
turn with spacers of random size between them, and each ratio pairs the
i-th learner of one side with the i-th of the other.

Workload: that of ``bench_step.py`` (F connectivity, biases on all units, two
cells per block, a reset every 100 steps), for ``learn_many`` (one call of T
steps) and ``learn_one`` with ``out=`` (one Python call per step), default
(1997) learners.  Time is process CPU time (``time.process_time``), which
leaves out the time this process waits for a core while other jobs run; the
table gives medians per step and the median of the per-repetition ratios
head / base with its interquartile range, and the machine's load average.
Before timing, both packages are run on the same stream and must give the
same bits.

``--options`` adds Reber-size learners that take the options' code path
(forget gate; forget gate and peepholes; ``max_delay=8``), whose steps the
default learners never run.  ``--bank`` adds the learner bank: 1,024 learners of ``bench_bank.py``'s
``sensor-F`` and ``sensor-B`` architectures, ``learn_many`` over 16 steps on
one thread (the serial kernel), base and head alternating; ``--bank-threads 2``
adds the threaded kernel on two threads, timed by the wall clock.

    python benchmarks/ab_step.py [--base REV] [--reps N] [--sizes LABEL ...] [--options] [--bank]
                                 [--bank-threads N] [--quick]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # idle BLAS threads spin and steal a core

import argparse  # noqa: E402
import importlib  # noqa: E402
import pathlib  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from tqdm import tqdm  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from bench_step import workload  # noqa: E402

#: (label, n_in, n_out, n_blocks, block_size, one-hot inputs)
SIZES = [("17", 1, 1, 1, 1, False), ("345", 4, 1, 4, 2, False),
         ("reber one-hot", 7, 7, 4, 2, True), ("reber", 7, 7, 4, 2, False),
         ("1.6k", 16, 16, 8, 2, False), ("19k", 16, 16, 32, 2, False),
         ("71k", 16, 16, 64, 2, False)]
#: learners with the options' code path (``--options``): (label, ..., as SIZES, keyword arguments)
OPTION_SIZES = [("reber forget gate", 7, 7, 4, 2, False, dict(forget_gate=True)),
                ("reber peepholes", 7, 7, 4, 2, False, dict(forget_gate=True, peepholes=True)),
                ("reber max_delay 8", 7, 7, 4, 2, False, dict(max_delay=8))]
#: learner-bank architectures of ``bench_bank.py`` (``--bank``)
BANK_ARCHS = {"sensor-F": dict(n_in=1, n_out=1, n_blocks=4, block_size=2),
              "sensor-B": dict(n_in=1, n_out=1, n_blocks=8, block_size=1, connectivity="B")}


def import_base(rev: str, tmp: str):
    """The package at git revision ``rev``, imported as ``online_lstm_base``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "online_lstm"], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
    os.rename(os.path.join(tmp, "online_lstm"), os.path.join(tmp, "online_lstm_base"))
    sys.path.insert(0, tmp)
    return importlib.import_module("online_lstm_base")


def cpu_time(fn):
    t0 = time.process_time()
    fn()
    return time.process_time() - t0


def bench_size(pkgs, label, n_in, n_out, C, S, onehot, extra=None, *, reps, instances, quick):
    rng = np.random.default_rng(1)
    spacers, learners = [], {}
    for i in range(instances):
        for name, pkg in pkgs.items():
            learners[name, i] = pkg.OnlineLSTM(n_in, n_out, C, S, bias="all", init_range=0.1, lr=0.1,
                                               seed=0, **(extra or {}))
            spacers.append(np.empty(int(rng.integers(1, 4096))))
    # the same initial weights on both sides, whatever order each revision
    # draws them in from a seed (the order changed in 67af57e)
    w0 = learners["head", 0].get_weights()
    for m in learners.values():
        m.set_weights(w0)
    W = learners["head", 0].layout.n_params
    T = int(min(20_000, max(500, 5e6 / W))) // (4 if quick else 1)
    X, Y, resets = workload(np.random.default_rng(0), T, n_in, n_out, onehot)
    outs = {key: m.learn_many(X[:200], Y[:200], resets[:200]) for key, m in learners.items()}
    if not all(np.array_equal(o.view(np.uint64), outs["base", 0].view(np.uint64)) for o in outs.values()):
        raise AssertionError(f"{label}: head and base differ; not the same computation")
    N = int(min(2_000, max(100, 2e5 / W))) // (4 if quick else 1)
    out, o1 = np.empty((T, n_out)), np.empty(n_out)

    def many(m):
        return lambda: m.learn_many(X, Y, resets, out=out)

    def one(m):
        def loop():
            for i in range(N):
                if resets[i]:
                    m.reset()
                m.learn_one(X[i], Y[i], out=o1)
        return loop

    rows = []
    for path, make, steps in (("learn_many", many, T), ("learn_one(out=)", one, N)):
        fns = {key: make(m) for key, m in learners.items()}
        for r in range(reps):
            for i in range(instances):
                for name in (("base", "head") if (r + i) % 2 == 0 else ("head", "base")):
                    rows.append(dict(size=label, n_params=W, path=path, rep=(r, i), side=name,
                                     ns=cpu_time(fns[name, i]) / steps * 1e9))
    return rows


def bench_bank(pkgs, arch, reps, quick, N=1024, T=16, threads=1):
    """``LearnerBank.learn_many`` of N learners: on one thread the serial kernel
    (CPU time), on more the threaded one (wall time: the cores the threads got)."""
    import numba

    kw = BANK_ARCHS[arch]
    rng = np.random.default_rng(0)
    X = rng.uniform(-1.0, 1.0, (N, T, kw["n_in"]))
    Y = rng.uniform(0.0, 1.0, (N, T, kw["n_out"]))
    numba.set_num_threads(threads)
    banks = {}
    for name, pkg in pkgs.items():
        banks[name] = pkg.LearnerBank(N, **kw, init_range=0.1, lr=0.1, seed=0)
        banks[name].parallel = threads > 1
    clock = cpu_time if threads == 1 else wall_time
    path = "bank learn_many, 1 thread" if threads == 1 else f"bank learn_many, {threads} threads (wall)"
    w0 = banks["head"].get_weights()
    for b in banks.values():
        b.set_weights(w0)
    outs = {name: b.learn_many(X, Y) for name, b in banks.items()}
    if not np.array_equal(outs["head"].view(np.uint64), outs["base"].view(np.uint64)):
        raise AssertionError(f"bank {arch}: head and base differ; not the same computation")
    calls = 3 if quick else 10
    rows = []
    for r in range(reps):
        for name in (("base", "head") if r % 2 == 0 else ("head", "base")):
            banks[name].reset()  # a sequence per repetition: states stay bounded, however many reps
            t = clock(lambda b=banks[name]: [b.learn_many(X, Y) for _ in range(calls)])
            rows.append(dict(size=f"bank {arch} x{N}", n_params=banks[name].layout.n_params,
                             path=path, rep=(r, 0), side=name,
                             ns=t / (calls * N * T) * 1e9))
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    return rows


def wall_time(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def parse_args(argv=None):
    """The command line, checked before anything is built or timed."""
    from online_lstm.cli import _count, csv_out, quick_defaults

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default="main", help="git revision to compare against")
    ap.add_argument("--reps", type=_count(1), default=None,
                    help="timed repetitions per learner (default 9; 3 with --quick)")
    ap.add_argument("--instances", type=_count(1), default=4,
                    help="learners per side (memory placements)")
    ap.add_argument("--quick", action="store_true", help="shorter calls, fewer repetitions")
    ap.add_argument("--sizes", nargs="+", metavar="LABEL", choices=[s[0] for s in SIZES],
                    help="only these sizes (default: all)")
    ap.add_argument("--options", action="store_true",
                    help="also compare Reber-size learners that take the options' code path "
                         "(forget gate; forget gate and peepholes; max_delay=8)")
    ap.add_argument("--bank", action="store_true",
                    help="also compare the learner bank (bench_bank.py's sensor-F and sensor-B "
                         "learners, 1,024 of them, one thread)")
    ap.add_argument("--bank-threads", type=_count(1), default=1, metavar="N",
                    help="with --bank: also on N threads, the threaded kernel (wall time)")
    ap.add_argument("--out", default=str(HERE / "results" / "local" / "ab_step.csv"),
                    help="CSV (default benchmarks/results/local/ab_step.csv, git-ignored: the "
                         "published comparisons name their files with --out)")
    args = ap.parse_args(argv)
    quick_defaults(args, (("reps", 9, 3),))  # a --reps given wins over --quick's
    if args.bank_threads > 1 and not args.bank:
        ap.error("--bank-threads times the bank: give --bank too")
    import numba

    if args.bank_threads > numba.config.NUMBA_NUM_THREADS:
        ap.error(f"--bank-threads {args.bank_threads}: Numba has {numba.config.NUMBA_NUM_THREADS} "
                 "threads here (NUMBA_NUM_THREADS)")
    if subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", "--quiet", f"{args.base}^{{commit}}"],
                      capture_output=True).returncode != 0:
        ap.error(f"--base {args.base!r} is not a git revision of {ROOT}")
    csv_out(ap, args.out)  # written at the end: a path that cannot be must fail before the run
    return args


def main(argv=None):
    args = parse_args(argv)
    sizes = [s for s in SIZES if args.sizes is None or s[0] in args.sizes]
    reps = args.reps
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="ab_step_") as tmp:
        import online_lstm

        pkgs = {"base": import_base(args.base, tmp), "head": online_lstm}
        rows = []
        for size in tqdm(sizes + (OPTION_SIZES if args.options else []), desc=f"head vs {args.base}"):
            rows += bench_size(pkgs, *size, reps=reps, instances=args.instances, quick=args.quick)
        for arch in BANK_ARCHS if args.bank else ():
            rows += bench_bank(pkgs, arch, reps=3 * reps, quick=args.quick)
            if args.bank_threads > 1:
                rows += bench_bank(pkgs, arch, reps=3 * reps, quick=args.quick,
                                   threads=args.bank_threads)
    load = f"load average {load0:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    df = pd.DataFrame(rows)
    df["rep"] = df["rep"].astype(str)
    wide = df.pivot_table(index=["size", "n_params", "path", "rep"], columns="side",
                          values="ns").reset_index()
    wide["ratio"] = wide["head"] / wide["base"]
    summary = wide.groupby(["size", "n_params", "path"], sort=False).agg(
        base_ns=("base", "median"), head_ns=("head", "median"), ratio=("ratio", "median"),
        ratio_q25=("ratio", lambda v: v.quantile(0.25)),
        ratio_q75=("ratio", lambda v: v.quantile(0.75))).reset_index()
    order = {s[0]: i for i, s in enumerate(SIZES + OPTION_SIZES)}
    summary = summary.sort_values("size", key=lambda c: c.map(order).fillna(len(order)),
                                  kind="stable")
    summary["base"] = args.base
    summary["load"] = load
    summary.round(3).to_csv(args.out, index=False)
    print(f"\nhead = working tree, base = {args.base}; CPU ns per step; {args.instances} learners per "
          f"side x {reps} interleaved repetitions; {load}")
    print(summary.drop(columns=["base", "load"]).round(3).to_string(index=False))
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
