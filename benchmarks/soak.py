"""Soak: one learner streams 10^8 online steps without a reset, with periodic
checkpoints, and reports memory, per-step time and non-finite events over time.

The learner
-----------
Table 10 row 1-5 (Experiment 1's net: 7 inputs, 3 blocks of 2 cells, 7
outputs, output-gate biases -1, -2, -3, lr 0.5; 276 weights), learning online
at every step, never reset.

The stream
----------
Delayed recall: x(t) is a one-hot random symbol out of 7, the target is the
one-hot symbol of two steps before.  One endless sequence: no resets.

Why ``state_bound=inf``, and what it means
------------------------------------------
A never-reset 1997 LSTM has nothing that bounds its cell states: each step
adds ``y_in * g(net_c)`` (up to 2 in magnitude) to ``s_c``, so states drift
and ``h`` saturates (spec §4 "internal state drift", §7.1; the reason
Gers et al. added the forget gate).  With the default ``state_bound=1e6``
the learner would report that drift as divergence once a state passed 1e6
(possible after 5e5 steps), which is the right behaviour for a user but ends
a soak of the machinery.  Here ``state_bound=inf`` keeps only the checks
that matter for the soak: every net input, output, error and update must
stay finite (the kernels refuse any step that would break that).  The policy
is ``on_divergence="reset"``, so a refused step would be counted
(``n_divergences_``) and the stream would go on; the run reports that count,
which is the number of non-finite events, and checks every output and the
whole state for non-finite values at every report.  The drift itself is
reported (max |s_c|), together with the moving error, so the known
limitation is visible rather than hidden.

``--state-bound B`` runs the same stream with a finite bound: each time a
state would pass B the step is refused, the policy resets the learner and
retries it, and the run counts those resets.  That is the external reset a
continual stream needs for a 1997 LSTM, and shows the policy at work.

What is measured, every ``--report-every`` steps
-------------------------------------------------
* resident memory of the process (``/proc/self/statm``);
* ns per step of the ``learn_many`` chunks in the interval (median and max)
  and of 1,000 ``learn_one(out=...)`` calls (mean), both from
  ``time.perf_counter`` around the calls only;
* the age ratio: ns per step of a copy of the soaked learner over ns per step
  of a fresh learner of the same architecture, on the same chunk, timed side
  by side (median of 3 alternating pairs).  The machine is shared and noisy;
  the ratio cancels the load both see, so a flat per-step time is a ratio
  that stays at 1;
* max |s_c|, max |theta|, max |trace|, the moving mean squared error and the
  fraction of steps whose largest output is the target symbol;
* non-finite events: ``n_divergences_`` and any non-finite output or state.

A checkpoint is written (atomically) every ``--checkpoint-every`` steps, and
its time is reported.  At the end the run loads the previous checkpoint,
replays the stream from there, and checks that the final state is
bit-identical to the one that never stopped.

    nice -n 19 python benchmarks/soak.py            # 1e8 steps (minutes)
    python benchmarks/soak.py --quick               # 2e6 steps

Results: ``benchmarks/results/soak.csv`` (one row per report) and a summary
on stdout.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # idle BLAS threads spin and steal a core

import argparse  # noqa: E402
import math  # noqa: E402
import pathlib  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from tqdm import tqdm  # noqa: E402

import online_lstm  # noqa: E402
from online_lstm import OnlineLSTM  # noqa: E402
from online_lstm.cli import _count, csv_out, quick_defaults  # noqa: E402
from online_lstm.paper import table10_learner  # noqa: E402

RESULTS = pathlib.Path(__file__).parent / "results"
N_SYM = 7
LAG = 2
ONE_CALLS = 1000


def rss_mb() -> float:
    """Resident memory of this process in MB."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:  # not Linux: the peak instead
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10


def symbols(seed, k, n):
    """The symbols of chunk k (a function of the chunk number only)."""
    return np.random.default_rng([seed, k]).integers(0, N_SYM, n)


class Stream:
    """Chunks of the delayed-recall stream, in preallocated buffers."""

    def __init__(self, seed, chunk):
        self.seed, self.chunk = seed, chunk
        self.eye = np.eye(N_SYM)
        self.X = np.empty((chunk, N_SYM))
        self.Y = np.empty((chunk, N_SYM))
        self.sym = np.empty(chunk + LAG, dtype=np.int64)
        self.carry = None

    def start_at(self, k):
        """Position the stream before chunk k."""
        self.carry = symbols(self.seed, k - 1, self.chunk)[-LAG:] if k > 0 else np.zeros(LAG, np.int64)

    def fill(self, k):
        s = symbols(self.seed, k, self.chunk)
        self.sym[:LAG] = self.carry
        self.sym[LAG:] = s
        np.take(self.eye, s, axis=0, out=self.X)
        np.take(self.eye, self.sym[:self.chunk], axis=0, out=self.Y)  # target: symbol t - LAG
        self.carry = s[-LAG:].copy()
        return self.X, self.Y, s


def make_learner(seed, state_bound=math.inf):
    return table10_learner("1-5", seed=seed, state_bound=state_bound, on_divergence="reset")


def advance(m, stream, k, out, one_out, timed_one):
    """Learn chunk k; the first ONE_CALLS steps by learn_one if ``timed_one``.

    Returns (seconds of learn_many, seconds of the learn_one calls, target symbols).
    """
    X, Y, s = stream.fill(k)
    t_one = 0.0
    first = 0
    if timed_one:
        first = ONE_CALLS
        t0 = time.perf_counter()
        for t in range(first):
            out[t] = m.learn_one(X[t], Y[t], out=one_out)
        t_one = time.perf_counter() - t0
    t0 = time.perf_counter()
    m.learn_many(X[first:], Y[first:], out=out[first:])
    return time.perf_counter() - t0, t_one, s


def age_ratio(m, fresh, X, Y, out, repeats=3):
    """ns/step of a copy of ``m`` over ns/step of a copy of ``fresh``, same chunk."""
    old_t, young_t = [], []
    for _ in range(repeats):
        for src, times in ((m, old_t), (fresh, young_t)):
            c = src.clone()
            c.load_state_arrays(src.state_arrays())
            t0 = time.perf_counter()
            c.learn_many(X, Y, out=out)
            times.append(time.perf_counter() - t0)
    return float(np.median(old_t) / np.median(young_t))


def state_finite(m) -> bool:
    s = m.state_arrays()
    return all(np.all(np.isfinite(s[key])) for key in ("theta", "dW", "T", "record"))


def run(args):
    chunk = args.chunk
    n_chunks = int(args.steps) // chunk
    per_report = max(1, int(args.report_every) // chunk)
    per_ckpt = max(1, int(args.checkpoint_every) // chunk)
    ckdir = pathlib.Path(args.checkpoint_dir or tempfile.mkdtemp(prefix="soak-"))
    ckdir.mkdir(parents=True, exist_ok=True)
    ckpt = ckdir / "soak.npz"
    prev_ckpt = ckdir / "soak-previous.npz"

    m = make_learner(args.seed, args.state_bound)
    fresh = make_learner(args.seed, args.state_bound)
    stream = Stream(args.seed, chunk)
    stream.start_at(0)
    out = np.empty((chunk, N_SYM))
    spare = np.empty((chunk, N_SYM))
    one_out = np.empty(N_SYM)
    warm = Stream(args.seed, chunk)
    warm.start_at(0)
    advance(m.clone(), warm, 0, out, one_out, True)  # load the compiled kernels, warm the caches

    rows, chunk_ns, one_ns, sq_err, hits, n_steps_int = [], [], [], 0.0, 0, 0
    nonfinite_outputs = 0
    ckpt_ms, ckpt_at = [], []
    rss0 = rss_mb()
    t_start = time.perf_counter()
    bar = tqdm(total=n_chunks * chunk, unit="step", unit_scale=True, mininterval=2.0,
               disable=args.no_progress)
    for k in range(n_chunks):
        timed_one = k % per_report == 0
        dt, dt_one, s = advance(m, stream, k, out, one_out, timed_one)
        steps_many = chunk - (ONE_CALLS if timed_one else 0)
        chunk_ns.append(dt / steps_many * 1e9)
        if timed_one:
            one_ns.append(dt_one / ONE_CALLS * 1e9)
        if not np.all(np.isfinite(out)):
            nonfinite_outputs += 1
        target = stream.Y
        sq_err += float(np.sum((out - target) ** 2)) / N_SYM
        hits += int(np.sum(np.argmax(out, axis=1) == np.argmax(target, axis=1)))
        n_steps_int += chunk
        bar.update(chunk)
        if (k + 1) % per_ckpt == 0:
            if ckpt.exists():
                os.replace(ckpt, prev_ckpt)
            t0 = time.perf_counter()
            m.save(ckpt)
            ckpt_ms.append((time.perf_counter() - t0) * 1e3)
            ckpt_at.append(m.n_steps_)
        if (k + 1) % per_report == 0 or k + 1 == n_chunks:
            ratio = age_ratio(m, fresh, stream.X, stream.Y, spare)
            st = m.state_
            rows.append(dict(
                step=m.n_steps_, seconds=time.perf_counter() - t_start, rss_mb=rss_mb(),
                many_ns_median=float(np.median(chunk_ns)), many_ns_max=float(np.max(chunk_ns)),
                one_ns=float(np.mean(one_ns)) if one_ns else float("nan"), age_ratio=ratio,
                mse=sq_err / n_steps_int, hit_rate=hits / n_steps_int,
                max_abs_s=float(np.max(np.abs(st["s_c"]))), max_abs_theta=float(np.max(np.abs(m.theta_))),
                max_abs_trace=float(max(np.max(np.abs(st["T_in"])), np.max(np.abs(st["T_c"])))),
                n_divergences=m.n_divergences_, n_resets=m.n_resets_,
                nonfinite_outputs=nonfinite_outputs, state_finite=state_finite(m),
            ))
            chunk_ns, one_ns, sq_err, hits, n_steps_int = [], [], 0.0, 0, 0
            bar.set_postfix(rss=f"{rows[-1]['rss_mb']:.1f}MB", ns=f"{rows[-1]['many_ns_median']:.0f}",
                            max_s=f"{rows[-1]['max_abs_s']:.3g}")
    bar.close()
    t_loop = time.perf_counter() - t_start
    df = pd.DataFrame(rows)

    # resume check: the previous checkpoint, replayed to the end, equals the learner that never stopped
    resume = {}
    if len(ckpt_at) >= 2:
        back = OnlineLSTM.load(prev_ckpt)
        k0 = back.n_steps_ // chunk
        replay = Stream(args.seed, chunk)
        replay.start_at(k0)
        for k in range(k0, n_chunks):
            advance(back, replay, k, out, one_out, k % per_report == 0)
        a, b = m.state_arrays(), back.state_arrays()
        resume = dict(from_step=ckpt_at[-2], to_step=m.n_steps_,
                      bit_identical=all(np.array_equal(a[key], b[key]) for key in a))
    return df, dict(state_bound=m.state_bound, rss0=rss0, t_loop=t_loop, ckpt_ms=ckpt_ms, ckpt_bytes=ckpt.stat().st_size if ckpt.exists() else 0,
                    resume=resume, n_params=m.layout.n_params, ckdir=str(ckdir))


def summarize(df, info):
    n = len(df)
    tenth = max(1, n // 10)
    first, last = df.iloc[:tenth], df.iloc[-tenth:]
    slope = np.polyfit(df["step"], df["many_ns_median"], 1)[0] * 1e7 if n > 2 else float("nan")
    r = info["resume"]
    lines = [
        f"online_lstm {online_lstm.__version__}, numpy {np.__version__}, Python {platform.python_version()}, "
        f"{platform.processor() or platform.machine()}",
        f"steps: {int(df['step'].iloc[-1]):,} in one stream, never reset by the caller; "
        f"{info['n_params']} weights; {df['seconds'].iloc[-1]:.0f} s",
        f"memory (RSS): {info['rss0']:.1f} MB before the first chunk (buffers not yet touched); "
        f"{df['rss_mb'].iloc[0]:.1f} MB at the first report, {df['rss_mb'].iloc[-1]:.1f} MB at the last; "
        f"spread over all {n} reports {df['rss_mb'].max() - df['rss_mb'].min():.2f} MB",
        f"age ratio (soaked / fresh learner, ns per step side by side): first 10% "
        f"{first['age_ratio'].median():.3f}, last 10% {last['age_ratio'].median():.3f}, "
        f"range {df['age_ratio'].min():.3f}..{df['age_ratio'].max():.3f}",
        f"learn_many ns/step (median per report): first 10% {first['many_ns_median'].median():.0f}, "
        f"last 10% {last['many_ns_median'].median():.0f}, ratio "
        f"{last['many_ns_median'].median() / first['many_ns_median'].median():.3f}; "
        f"slope {slope:+.1f} ns per 1e7 steps; worst chunk {df['many_ns_max'].max():.0f}",
        f"learn_one ns/call (out=): first 10% {first['one_ns'].median():.0f}, "
        f"last 10% {last['one_ns'].median():.0f}",
        f"state_bound {info['state_bound']:g}; refused steps (divergences, each followed by a reset): "
        f"{int(df['n_divergences'].iloc[-1])}; non-finite: "
        f"{int(df['nonfinite_outputs'].iloc[-1])} chunks with non-finite outputs, "
        f"state finite at every report: {bool(df['state_finite'].all())}",
        f"resets (all by the divergence policy): {int(df['n_resets'].iloc[-1])}",
        f"drift: max|s_c| {df['max_abs_s'].iloc[0]:.3g} at step {int(df['step'].iloc[0]):,}, "
        f"{df['max_abs_s'].iloc[-1]:.3g} at the end; max|theta| {df['max_abs_theta'].iloc[-1]:.3g}; "
        f"max|trace| {df['max_abs_trace'].iloc[-1]:.3g}",
        f"error: MSE {df['mse'].iloc[0]:.4f} (first report), {df['mse'].iloc[-1]:.4f} (last); "
        f"hit rate {df['hit_rate'].iloc[0]:.3f} -> {df['hit_rate'].iloc[-1]:.3f} "
        f"(chance {1 / N_SYM:.3f}; MSE of always 1/7: {(N_SYM - 1) / N_SYM ** 2:.4f})",
        f"checkpoints: {len(info['ckpt_ms'])} saves of {info['ckpt_bytes']:,} bytes, median "
        f"{np.median(info['ckpt_ms']) if info['ckpt_ms'] else float('nan'):.1f} ms",
        (f"resume: checkpoint at step {r['from_step']:,} replayed to {r['to_step']:,}: "
         f"bit-identical = {r['bit_identical']}") if r else "resume: (needs two checkpoints)",
    ]
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    p.add_argument("--steps", type=float, help="default 1e8 (2e6 with --quick)")
    p.add_argument("--chunk", type=int, help="default 100,000 (20,000 with --quick)")
    p.add_argument("--report-every", type=float, help="default 1e6 (1e5 with --quick)")
    p.add_argument("--checkpoint-every", type=float, help="default 1e7 (5e5 with --quick)")
    p.add_argument("--checkpoint-dir", default=None,
                   help="where the checkpoints go (default: a temporary directory, removed at the end)")
    p.add_argument("--seed", type=_count(0), default=0)
    p.add_argument("--state-bound", type=float, default=math.inf,
                   help="a finite bound turns drift into counted resets (the policy at work)")
    p.add_argument("--out", default=None, help="CSV (default benchmarks/results/soak[-bound<B>].csv; "
                                                "with --quick, none unless given)")
    p.add_argument("--quick", action="store_true",
                   help="2e6 steps, reports every 1e5 (each unless given by its own flag)")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    quick_defaults(args, (("steps", 1e8, 2e6), ("chunk", 100_000, 20_000), ("report_every", 1e6, 1e5),
                          ("checkpoint_every", 1e7, 5e5)))
    if args.chunk <= ONE_CALLS:  # a report's chunk starts with ONE_CALLS timed learn_one calls
        p.error(f"--chunk must be more than {ONE_CALLS} steps; got {args.chunk}")
    for flag in ("steps", "report_every", "checkpoint_every"):  # int(nan) and int(inf) raise
        if not math.isfinite(getattr(args, flag)):
            p.error(f"--{flag.replace('_', '-')} must be a finite number of steps; got {getattr(args, flag)}")
    if int(args.steps) < args.chunk:  # the run is whole chunks, and reports after them
        p.error(f"--steps must be at least one chunk (--chunk {args.chunk}); got {args.steps:g}")
    if not args.state_bound > 0:  # the learner's own check, before the run instead of a traceback
        p.error(f"--state-bound must be a number > 0 (inf allowed); got {args.state_bound}")
    if args.checkpoint_dir is not None:
        ckdir = pathlib.Path(args.checkpoint_dir)
        try:
            ckdir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            p.error(f"--checkpoint-dir {ckdir}: cannot make it ({exc.strerror or exc})")
        if not ckdir.is_dir():
            p.error(f"--checkpoint-dir {ckdir} is not a directory")
    name = "soak" if math.isinf(args.state_bound) else f"soak-bound{args.state_bound:g}"
    out = pathlib.Path(args.out or RESULTS / f"{name}.csv")
    if not args.quick or args.out:  # written at the end: a path that cannot be must fail before the run
        csv_out(p, out)
    df, info = run(args)
    if args.checkpoint_dir is None:  # the temporary directory run() made
        import shutil

        shutil.rmtree(info["ckdir"], ignore_errors=True)
    text = summarize(df, info)
    print(text)
    if not args.quick or args.out:  # a quick run writes only where asked
        df.to_csv(out, index=False)
        out.with_suffix(".txt").write_text(text + "\n")
        print(f"wrote {out} and {out.with_suffix('.txt')}")
    r = info["resume"]
    ok = (df["nonfinite_outputs"].iloc[-1] == 0 and df["state_finite"].all()
          and (not r or r["bit_identical"])
          and (df["n_divergences"].iloc[-1] == 0 or not math.isinf(args.state_bound)))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
