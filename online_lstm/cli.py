"""``online-lstm``: reproduce the paper's experiments, and time or check the learner, from the command line.

    online-lstm list [EXPERIMENT ...]
    online-lstm reproduce <preset | experiment | competitors | all> ... [--trials N | --trial K]
                          [--seed S] [--quick] [--out DIR] [--jobs J] [--set KEY=VALUE ...]
                          [--scheduler ADDRESS] [--resume] [--checkpoint-every SECONDS]
    online-lstm compare RECORDS.csv ... [--markdown]
    online-lstm status [--out DIR]
    online-lstm bench [--net N_IN,N_OUT,BLOCKS,CELLS | --preset ID] [--forget-gate] [--peepholes]
                      [--max-delay D] [--calls N] [--out CSV]
    online-lstm gradcheck [--net N_IN,N_OUT,BLOCKS,CELLS | --preset ID] [--forget-gate] [--peepholes]
                          [--connectivity F|B] [--steps T] [--seed S] [--eps EPS] [--tolerance TOL]

``reproduce`` runs the trials (in parallel over processes, all cores by
default, or on a Dask cluster with ``--scheduler tcp://host:8786``), writes
one record per trial to ``DIR/<name>.csv`` as trials finish, and prints our
figures next to the paper's: success %, mean and median sequences to
success, and wrong predictions.  ``compare`` prints that table
again from saved records; ``status`` lists the trials that are running
or were interrupted, from their checkpoints.  Each running trial saves itself every minute
(``--checkpoint-every``; on a Dask cluster only when given) under
``DIR/<name>.trials/``; after an interruption
``--resume`` keeps the finished trials and continues the others from
their checkpoints, with the same records as an uninterrupted run.

``bench`` times a learner's steps on this machine (``learn_one`` and
``predict_one`` latency, ``learn_many`` per step, snapshots;
:mod:`online_lstm.bench`), and ``gradcheck`` compares the learner's
truncated gradient with finite differences of its own loss
(:mod:`online_lstm.gradcheck`); both need only the installed package.

``all`` is every LSTM row of the paper; the paper's competitors (RTRL and
BPTT, Tables 1 and 2) are the presets of ``competitors`` (groups ``2a-rtrl``,
``2a-bptt``, ``1-rtrl``) and run only when named.
"""

from __future__ import annotations

import argparse
import ast
import math
import os
import sys
import warnings
from decimal import Decimal
from pathlib import Path

import pandas as pd


def _parse_set(items) -> dict:
    """``["targets=legal", "check_every=1000"]`` -> ``{"targets": "legal", "check_every": 1000}``."""
    out = {}
    for item in items or []:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set needs KEY=VALUE; got {item!r}")
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):  # the last two: deep nesting
            value = {"true": True, "false": False}.get(text.strip().lower(), text)  # as a shell user writes them
        if key.strip() in out:  # the last one would win silently, and the record would name only it
            raise ValueError(f"--set {key.strip()} is given twice ({out[key.strip()]!r} and {value!r}); "
                             f"give it once")
        out[key.strip()] = value
    return out


def _what_was_kept(out: Path, name: str) -> str:
    """After Ctrl-C or an error: which finished records and trial checkpoints exist, and how to go on."""
    records, trials = out / f"{name}.csv", out / f"{name}.trials"
    kept = []
    if records.is_file():
        kept.append(f"the finished trials are in {records}")
    if trials.is_dir() and any(f.is_file() for f in trials.glob("*.npz")):
        kept.append(f"the running trials continue from their last checkpoint in {trials}")
    if not kept:
        return "No trial had finished or saved a checkpoint yet; rerun the same command to start again."
    said = "; ".join(kept)
    return (f"{said[:1].upper()}{said[1:]}. Rerun the same command with --resume to keep them and "
            f"run the rest.")


#: experiments.MAX_TRIALS (not imported here: ``--help`` must not wait for the package)
_MAX_TRIALS = 1_000_000


def _count(low, high=None):
    """An argparse type: an integer >= ``low`` (and <= ``high``)."""
    want = f"an integer >= {low}" if high is None else f"an integer in [{low}, {high:,}]"

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {want}; got {text!r}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected {want}; got {value}")
        return value
    return parse


def csv_out(parser, path, flag="--out", kind="CSV") -> Path:
    """A script's output file (``--out`` CSV by default), checked before its
    run: its directory is made, it must not be a directory and must open for
    writing (an existing file is left as it is, a new one is not made), else
    ``parser.error`` (exit 2).  Scripts that write only at the end (or after
    hours of trials) must not find out then."""
    out = Path(path)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        parser.error(f"{flag} {path}: cannot make its directory ({exc.strerror or exc})")
    if out.is_dir():
        parser.error(f"{flag} {path} is a directory; give a {kind} file name")
    # a directory that exists is not enough (/proc/x.csv, a read-only mount):
    # open the file as the writer will, and leave no empty file behind
    existed = os.path.lexists(out)  # (a dangling symlink stays: the writer would follow it too)
    try:
        with open(out, "a"):
            pass
    except OSError as exc:
        parser.error(f"{flag} {path}: cannot be written ({exc.strerror or exc})")
    if not existed:
        out.unlink()
    return out


def quick_defaults(args, table) -> None:
    """Fill each flag of ``table`` (``(flag, full, quick)`` rows) that was not
    given: ``quick`` with ``--quick``, else ``full``.  A flag given wins."""
    for flag, full, quick in table:
        if getattr(args, flag) is None:
            setattr(args, flag, quick if args.quick else full)


def nonnegative(what="number"):
    """An argparse type: a finite number >= 0; ``what`` names it in the error
    ("expected a <what> >= 0")."""
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value >= 0):
            raise argparse.ArgumentTypeError(f"expected a {what} >= 0; got {text!r}")
        return value
    return parse


_seconds = nonnegative("number of seconds")


def _positive(what):
    """An argparse type: a finite number > 0."""
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value > 0):
            raise argparse.ArgumentTypeError(f"expected a {what} > 0; got {text!r}")
        return value
    return parse


def _fd_step(text):
    """An argparse type: a finite-difference step in (0, 1] (a step beyond the
    weights' own size measures nothing, and 1e300 moved a weight past the
    learner's bound on its state: a traceback)."""
    value = _positive("step")(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"expected a step in (0, 1]; got {text!r}")
    return value


def _address(text):
    """An argparse type: a Dask scheduler address, not empty (``--scheduler ''``
    was no scheduler to the command line's checks but one to ``reproduce``:
    it made the records directory and started before Dask refused it)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected a Dask scheduler address such as "
                                         f"tcp://host:8786; got {text!r}")
    return text


def _directory(text):
    """An argparse type: a directory path, not empty (``Path("")`` is the
    current directory: an unset ``--out "$DIR"`` put the records there)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected a directory; got {text!r} (give . for the "
                                         f"current directory)")
    return text


def _net(text):
    """An argparse type: ``N_IN,N_OUT,BLOCKS,CELLS``, four positive integers."""
    parts = text.split(",")
    try:
        net = tuple(int(v) for v in parts)
    except ValueError:
        net = ()
    if len(net) != 4 or min(net) < 1:
        raise argparse.ArgumentTypeError(f"expected N_IN,N_OUT,BLOCKS,CELLS, four integers >= 1 "
                                         f"(e.g. 7,7,4,2); got {text!r}")
    return net


def cmd_bench(args) -> int:
    import numba

    from . import __version__
    from .bench import load_average, run

    m, what = _learner_for(args, "bench")
    if m is None:
        print(what, file=sys.stderr)
        return 2
    print(f"online-lstm {__version__} bench: {what}: {m.n_params:,} weights; numba "
          f"{numba.__version__}, Python {sys.version.split()[0]}; load average {load_average()}",
          flush=True)
    df = run(m, calls=args.calls)
    df["load_at_end"] = load_average()
    shown = df.drop(columns="load_at_end").copy()
    for c in ("p50_ns", "p99_ns", "p999_ns"):
        shown[c] = [f"{v:,.0f}" if v == v else "" for v in shown[c]]
    print(shown.rename(columns={"p50_ns": "p50 ns", "p99_ns": "p99 ns", "p999_ns": "p99.9 ns"})
          .to_string(index=False))
    print(f"load average at the end: {df['load_at_end'][0]}. These are this machine's timings "
          f"now (subtract timer+loop's p50 for the call alone); the published figures, and the "
          f"peers', are in BENCHMARKS.md.")
    if args.out:
        df.to_csv(args.out, index=False)
        print(f"written to {args.out}")
    return 0


def _learner_for(args, command):
    """The learner ``--net`` or ``--preset`` names, with the option flags of
    ``bench`` and ``gradcheck``; ``(learner, description)``, or ``(None,
    message)`` for a preset the command cannot take."""
    changes = {k: getattr(args, k) for k in ("forget_gate", "peepholes") if getattr(args, k)}
    if getattr(args, "max_delay", 0):
        changes["max_delay"] = args.max_delay
    if getattr(args, "connectivity", None):
        changes["connectivity"] = args.connectivity
    extra = "".join(f", {k}={v}" for k, v in changes.items())
    if args.preset is not None:
        from .presets import PRESETS, did_you_mean

        p = PRESETS.get(args.preset)
        if p is None or p.competitor is not None:
            why = (f"is one of the paper's competitors (RTRL, BPTT): {command} takes the LSTM"
                   if p is not None else f"is not a preset{did_you_mean(args.preset, PRESETS)}")
            return None, (f"online-lstm {command}: error: argument --preset: {args.preset!r} {why}; "
                          f"online-lstm list shows the presets")
        from .layout import BIAS_ALIASES, BIAS_CODES
        from .paper import TABLE10

        bias = dict(TABLE10[p.table10][0], **p.learner_changes).get("bias", "gates")
        if changes.get("forget_gate") and not BIAS_CODES[BIAS_ALIASES.get(bias, bias)][0]:
            # the default forget-gate bias (+1) needs a bias weight, which a net
            # without gate biases (2a, 2b, 2c: code "none") has not: it was a traceback
            changes["forget_gate_bias"] = None
            extra = extra.replace("forget_gate=True", "forget_gate=True (no bias: the net's gates have none)")
        try:
            m = p.learner(seed=0, **changes)
        except ValueError as exc:
            return None, f"online-lstm {command}: error: preset {p.id}{extra}: {exc}"
        return m, f"preset {p.id} (Table 10 row {p.table10}){extra}"
    from .learner import OnlineLSTM

    m = OnlineLSTM(*args.net, bias="all", seed=0, **changes)
    return m, ("n_in, n_out, blocks, cells = " + ",".join(map(str, args.net)) +
               f", biases on all units{extra}")


def _learner_args(p):
    """``--net`` / ``--preset`` and the option flags of ``bench`` and ``gradcheck``."""
    net = p.add_mutually_exclusive_group()
    net.add_argument("--net", type=_net, default=(7, 7, 4, 2), metavar="N_IN,N_OUT,BLOCKS,CELLS",
                     help="the learner (default 7,7,4,2: the Reber-size net of BENCHMARKS.md; biases "
                          "on all non-input units)")
    net.add_argument("--preset", metavar="ID", help="the net of an LSTM preset instead (e.g. 1-5, 2c-3)")
    p.add_argument("--forget-gate", action="store_true", help="with forget gates (spec §7.1)")
    p.add_argument("--peepholes", action="store_true", help="with peephole weights (spec §7.2)")


def cmd_gradcheck(args) -> int:
    import numpy as np

    from .gradcheck import compare, seconds

    m, what = _learner_for(args, "gradcheck")
    if m is None:
        print(what, file=sys.stderr)
        return 2
    rng = np.random.default_rng(args.seed)
    X = rng.uniform(-1.0, 1.0, (args.steps, m.n_in))
    Y = rng.uniform(0.1, 0.9, (args.steps, m.n_out))
    print(f"online-lstm gradcheck: {what}: {m.n_params:,} weights; one sequence of {args.steps} "
          f"steps (inputs uniform in [-1, 1], a target in [0.1, 0.9] at every step, seed "
          f"{args.seed}); central differences with eps = {args.eps:g}", flush=True)
    # 2 forward passes of the whole sequence per weight: minutes for 2a's
    # 10,504 weights over a few thousand steps, with nothing on the screen
    print(f"finite differences: 2 × {m.n_params:,} forward passes of {args.steps:,} steps, about "
          f"{_duration(seconds(m, X, Y, eps=args.eps))} here", flush=True)
    df = compare(m, X, Y, eps=args.eps)
    print(df.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    total = df.iloc[-1]
    if not math.isfinite(total["rel_diff"]):  # a NaN or an infinity: wrong whatever the truncation
        print("the gradient or the finite differences hold a NaN or an infinity (the groups whose "
              "figures are NaN): not a gradient of E: FAIL")
        return 1
    exact = m.layout.connectivity == "B" and not m.layout.peepholes or args.steps == 1 and not m.layout.peepholes
    if exact:
        ok = total["rel_diff"] <= args.tolerance
        print(f"{'connectivity B' if m.layout.connectivity == 'B' else 'one step'}, no peepholes: the "
              f"truncation cuts nothing here (spec §2.6, §3.2), so the truncated gradient must be the "
              f"gradient of E: relative difference {total['rel_diff']:.3g} over all "
              f"{m.n_params:,} weights: {'agree' if ok else 'DISAGREE'} (tolerance "
              f"{args.tolerance:g})")
        return 0 if ok else 1
    # what is cut: the recurrent inputs only where there are some (F) and a
    # step before to flow back to; the peepholes' errors (spec §7.2) always
    cut = ([] if m.layout.connectivity == "B" or args.steps == 1 else
           ["the recurrent inputs of the gates and cells"]) + (["the peepholes"] if m.layout.peepholes else [])
    print(f"the truncation (spec §3.2, §7.2) cuts the errors that flow back through "
          f"{' and through '.join(cut)}: the truncated gradient is not the full gradient of E, and "
          f"these figures measure how far apart they are on this net and sequence (cosine "
          f"{total['cosine']:.4f}, relative difference {total['rel_diff']:.3g}). Without peepholes, "
          f"with --connectivity B or --steps 1, the two must agree.")
    return 0


def _duration(seconds) -> str:
    """``h:mm:ss``."""
    seconds = max(0, int(round(float(seconds))))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _num(v) -> str:
    """A paper figure as the paper prints it (0.000078, not 7.8e-05)."""
    return f"{v:,}" if v >= 1 else format(Decimal(repr(float(v))), "f")


def cmd_list(args) -> int:
    from .paper import TABLE10
    from .presets import PRESETS, select

    try:
        ids = select(args.names) if args.names else list(PRESETS)
    except KeyError as exc:
        print(f"online-lstm list: {exc.args[0]}", file=sys.stderr)
        return 2
    rows = []
    for pid in ids:
        p = PRESETS[pid]
        for pr in p.paper:
            rows.append({
                "preset": pid, "title": p.title, "weights": p.n_weights, "lr": p.lr,
                "trials": p.trials, "limit": f"{p.limit:,}", "paper": f"{pr.table}: {pr.label}",
                "success %": "–" if pr.success_pct is None else pr.success_pct,
                "mean seq": "–" if pr.mean_sequences is None else f"{pr.mean_sequences:,}",
                "wrong": "–" if pr.wrong is None else pr.wrong,
                "more": "; ".join(f"{k} {_num(v[0])}" for k, v in pr.extra.items() if v[0] is not None),
            })
    with pd.option_context("display.max_colwidth", 60, "display.width", 250):
        print(pd.DataFrame(rows).to_string(index=False))
    if args.verbose:
        for pid in ids:
            p = PRESETS[pid]
            print(f"\n{pid}: {p.title}\n  options: {p.options}\n  task: {p.task.__name__}{p.task_kwargs}")
            # the net's arguments (what --set bias, init_range, in_gate_bias, ... change) and the
            # --quick budget: both were only in the source
            net = dict(p.competitor.kwargs if p.competitor else TABLE10[p.table10][0], **p.learner_changes)
            print(f"  net: {p.competitor.method if p.competitor else 'OnlineLSTM'}{net}")
            print(f"  --quick: {p.quick}")
            for n in p.notes:
                print(f"  - {n}")
    return 0


def cmd_reproduce(args) -> int:
    from .errors import CheckpointError, ClusterError
    from .experiments import ResumeError, checkpoint_interval, compare, format_table, reproduce
    from .presets import PRESETS, select

    try:
        ids = select(args.targets)
    except KeyError as exc:
        print(f"online-lstm reproduce: {exc.args[0]}", file=sys.stderr)
        return 2
    try:
        options = _parse_set(args.set)
    except ValueError as exc:
        print(f"online-lstm reproduce: {exc}", file=sys.stderr)
        return 2
    if args.name is not None and (not args.name or Path(args.name).name != args.name
                                  or args.name in (".", "..") or "\n" in args.name):
        print(f"online-lstm reproduce: --name must be a plain file name (no directory; use --out for "
              f"that); got {args.name!r}", file=sys.stderr)
        return 2
    if args.name is not None and args.name.endswith("-summary"):  # <x>-summary.csv is x's summary
        print(f"online-lstm reproduce: --name must not end in '-summary' (the summary of a run named "
              f"{args.name[:-8]!r} has that file name); got {args.name!r}", file=sys.stderr)
        return 2
    for pid in ids:  # fail early on a bad option
        try:
            PRESETS[pid].with_options(**options)
        except (KeyError, ValueError) as exc:
            print(f"online-lstm reproduce: {exc.args[0]}", file=sys.stderr)
            return 2
    if args.only_trials and args.trials:
        print("online-lstm reproduce: give --trials N (trials 0 .. N-1) or --trial K (only trial K), "
              "not both", file=sys.stderr)
        return 2
    name = args.name or ("-".join(args.targets) + ("-quick" if args.quick else ""))
    if len(f"{name}-summary.csv".encode()) > 255:  # the longest file name a run writes
        print(f"online-lstm reproduce: the records name {name[:40]!r}... is too long for a file name "
              f"({len(name.encode())} bytes); give a shorter one with --name", file=sys.stderr)
        return 2
    stopped = ()  # the exceptions of a cluster that failed mid-sweep (none without --scheduler)
    if args.scheduler:
        try:
            from .cluster import SweepStopped as stopped
            from .cluster import summary as cluster_summary
        except ImportError as exc:
            print(f"online-lstm reproduce: {exc}", file=sys.stderr)
            return 2
    # the first step that changes the disk: after every check of the arguments alone
    try:
        Path(args.out).mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # "File exists" alone reads as if an existing directory were refused
        why = "it is a file, not a directory" if Path(args.out).is_file() else exc.strerror or exc
        print(f"online-lstm reproduce: cannot use --out {args.out} as the records directory: "
              f"{why}", file=sys.stderr)
        return 2
    problem = _records_dir_problem(Path(args.out), name)
    if problem:  # before any trial runs: a run must not end unable to write what it did
        print(f"online-lstm reproduce: cannot use --out {args.out} as the records directory: "
              f"{problem}", file=sys.stderr)
        return 2
    n_trials = (len(set(args.only_trials)) * len(ids) if args.only_trials else
                sum(args.trials or (1 if args.quick else PRESETS[i].trials) for i in ids))
    print(f"online-lstm reproduce: {len(ids)} preset(s), {n_trials} trial(s)"
          f"{' (quick: small sequence budget, NOT a reproduction)' if args.quick else ''}; "
          f"records -> {Path(args.out) / (name + '.csv')}"
          f"{f'; Dask scheduler {args.scheduler}' if args.scheduler else ''}", flush=True)
    # --checkpoint-every 0 is "never"; not given is reproduce's "auto"
    every = checkpoint_interval("auto" if args.checkpoint_every is None else args.checkpoint_every or None,
                                args.scheduler)
    try:
        df = reproduce(ids, trials=args.trials, seed=args.seed, quick=args.quick, jobs=args.jobs,
                       out=args.out, progress=not args.no_progress, options=options, name=name,
                       scheduler=args.scheduler, resume=args.resume, checkpoint_every=every,
                       only_trials=args.only_trials)
    except stopped as exc:  # trials were sent: some may have finished
        print(f"online-lstm reproduce: stopped: {exc}. {_what_was_kept(Path(args.out), name)}",
              file=sys.stderr)
        return 1
    except (ResumeError, CheckpointError, ClusterError) as exc:  # records, checkpoints or a cluster that do not fit
        print(f"online-lstm reproduce: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\nonline-lstm reproduce: interrupted. {_what_was_kept(Path(args.out), name)}",
              file=sys.stderr)
        return 130
    except OSError as exc:  # a checkpoint or records file that cannot be written (disk full, ...)
        where = f"{exc.filename}: {exc.strerror}" if exc.filename and exc.strerror else str(exc)
        print(f"online-lstm reproduce: stopped by a file error ({where}). "
              f"{_what_was_kept(Path(args.out), name)}", file=sys.stderr)
        return 1
    except MemoryError as exc:  # in a trial (a worker's is raised here too)
        print(f"online-lstm reproduce: out of memory in a trial ({exc or 'MemoryError'}); a --set "
              f"size (T, q, p, test_size, ...) may be too large for this machine. "
              f"{_what_was_kept(Path(args.out), name)}", file=sys.stderr)
        return 1
    if args.scheduler:  # no report when --resume found every trial in the records already
        print(cluster_summary(df.attrs["cluster"]) if "cluster" in df.attrs else
              "dask: no trial to run (every trial is in the records already)")
    cmp = compare(df)
    Path(args.out, f"{name}-summary.csv").write_text(cmp.to_csv(index=False))
    print()
    print(format_table(cmp, markdown=args.markdown))
    return 0


def _records_dir_problem(out: Path, name: str) -> str | None:
    """Why ``reproduce`` could not write its records (``<name>.csv``,
    ``<name>-summary.csv``) and trial checkpoints (``<name>.trials/``) in
    ``out``, or None.  Tried with a real file, since permissions alone do
    not tell (a read-only file system, a root user)."""
    import tempfile

    for f, kind in ((out / f"{name}.csv", "file"), (out / f"{name}-summary.csv", "file"),
                    (out / f"{name}.trials", "directory")):
        if f.exists() and f.is_dir() != (kind == "directory"):
            return f"{f} exists and is not a {kind}"
        if f.exists() and kind == "file" and not os.access(f, os.W_OK):  # found before the trials run
            return f"{f} exists and is read-only"
        if f.exists() and kind == "file" and f.suffix == ".csv" and not os.access(f, os.R_OK):
            return f"{f} exists and cannot be read"
    try:
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        return f"no file can be written there ({exc.strerror or exc})"
    return None


#: the record columns ``compare`` reads
_COMPARE_NEEDS = frozenset({"preset", "trial", "seed", "success", "sequences", "steps", "wall_s"})


def _bad_values(df) -> str | None:
    """What in a records table ``compare`` could not count, by its row in the
    file (text or inf where numbers go, a success or quick that is not true
    or false, a trial or seed that is no whole number), or None."""
    from .experiments import _count_problem, _record_problem, _rows

    for row, rec in _rows(df):
        problem = _record_problem(rec, quick="quick" in df) or _count_problem(rec)
        if problem:
            return f"row {row}: {problem}"
    return None


def _records_problem(df) -> str | None:
    """Why ``compare`` cannot count the records of a CSV with a trial column, or None."""
    from .presets import PRESETS

    missing = sorted(_COMPARE_NEEDS - set(df.columns))
    unknown = sorted(set(df["preset"].dropna().astype(str)) - set(PRESETS)) if "preset" in df else []
    if missing or unknown:  # another table, or records of presets this version lacks
        return f"missing columns {missing}" if missing else f"unknown presets {unknown}"
    return _bad_values(df)  # a file edited by hand: text where numbers go


def cmd_compare(args) -> int:
    from .experiments import _exact_ids, _frame, compare, format_table, read_records

    frames = []
    for f in args.records:
        try:
            df = read_records(f)
        except OSError as exc:  # a mistyped name: an error, not a skip
            print(f"online-lstm compare: cannot read {f}: {exc.strerror or exc}", file=sys.stderr)
            return 2
        except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
            print(f"skipping {f}: not a CSV file ({str(exc).strip()})", file=sys.stderr)
            continue
        if "trial" not in df:  # reproduce's <name>-summary.csv sits next to the records
            print(f"skipping {f}: not a records file (a summary?)", file=sys.stderr)
            continue
        problem = _records_problem(df)
        if problem:
            print(f"skipping {f}: not records of reproduce ({problem})", file=sys.stderr)
            continue
        if df.empty:  # a run interrupted before its first trial finished
            print(f"skipping {f}: no records yet (a header only)", file=sys.stderr)
            continue
        frames.append(_exact_ids(df))
    if not frames:
        print("online-lstm compare: no records files among those given", file=sys.stderr)
        return 2
    # records in Table 10 order, whatever the order of the files
    df = _frame(pd.concat(frames, ignore_index=True))
    cmp = compare(df)
    if cmp.attrs.get("duplicates"):
        print(f"note: {cmp.attrs['duplicates']} record(s) repeat a trial already given (same preset, "
              f"options, quick and seeds) and are counted once", file=sys.stderr)
    bad = cmp.attrs.get("conflicts") or {}
    if bad.get("count"):
        versions = f"; versions {', '.join(bad['versions'])}" if bad["versions"] else ""
        print(f"warning: {bad['count']} of them differ from the record counted (in "
              f"{', '.join(bad['columns'])}{versions}): the first file's record is counted; records "
              f"made by code that trains differently should be compared one file at a time",
              file=sys.stderr)
    print(format_table(cmp, markdown=args.markdown))
    return 0


def cmd_status(args) -> int:
    from .experiments import _exact_ids, _once_per_trial, read_records, trial_status

    out = Path(args.out)
    if not out.is_dir():
        what = "is not a directory" if out.exists() else "does not exist"
        print(f"online-lstm status: {out} {what}", file=sys.stderr)
        return 2
    for f in sorted(out.glob("*.csv")):
        try:
            df = read_records(f)
        except (ValueError, pd.errors.ParserError):
            continue
        except OSError as exc:  # a directory named x.csv, a file without read permission
            print(f"skipping {f.name}: cannot read it ({exc.strerror or exc})", file=sys.stderr)
            continue
        if "trial" in df and "preset" in df:
            problem = _records_problem(df) if len(df) else None  # edited by hand, say
            repeats = 0
            if not problem:  # each trial once, as compare counts them (a row pasted twice, say)
                df, repeats = _once_per_trial(_exact_ids(df))
            counts = ", ".join(f"{p} {n}" for p, n in df.groupby("preset", sort=False).size().items())
            print(f"{f.name}: {len(df)} finished trial(s)" + (f" ({counts})" if counts else "")
                  + (f"; {repeats} more row(s) repeat a trial above, counted once" if repeats else "")
                  + (f"; compare skips it ({problem})" if problem else ""))
    st = trial_status(out)
    if st.empty:
        print("no running or interrupted trials (no checkpoints)")
        return 0
    print(f"\n{len(st)} running or interrupted trial(s), from their checkpoints "
          "(reproduce ... --resume goes on from them):")
    bad = st[st["problem"].notna()] if "problem" in st else st.iloc[:0]
    ok = st.drop(index=bad.index).drop(columns=["file", "version", "problem"], errors="ignore")
    if len(ok):
        ints = ["trial", "seed", "sequences", "limit", "cpu_s", "wall_s", "saved_s_ago"]
        ok = ok.astype({c: "Int64" for c in ints})
        ok.insert(ok.columns.get_loc("limit") + 1, "%",
                  (100 * ok["sequences"] / ok["limit"]).astype(float).round(1))
        # the pace so far, and the wall time to the limit at that pace: an upper bound,
        # since a trial stops as soon as its rule holds
        rate = ok.pop("seq_per_s").astype(float)
        ok["seq/s"] = rate.round(1)
        ok["to limit"] = [_duration((lim - n) / r) if 0 < r < math.inf else "?"
                          for n, lim, r in zip(ok["sequences"], ok["limit"], rate)]
        print(ok.to_string(index=False))
        print("(to limit: the wall time left at the pace so far if the trial runs to its limit; "
              "it stops sooner when its rule holds)")
    for _, r in bad.iterrows():
        print(f"{r['run']}.trials/{r['file']}: {r['problem']}")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        prog="online-lstm",
        description="Reproduce the experiments of Hochreiter & Schmidhuber (1997) with the original "
                    "LSTM, trained online with the paper's truncated gradient.")
    from . import __version__

    ap.add_argument("-V", "--version", action="version", version=f"online-lstm {__version__}")
    sub = ap.add_subparsers(dest="cmd", required=True, metavar="COMMAND")

    p = sub.add_parser("list", help="show the presets and the paper's figures")
    p.add_argument("names", nargs="*", help="presets or experiments (default: all)")
    p.add_argument("-v", "--verbose", action="store_true", help="also show options and notes")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("reproduce", help="run presets and print our figures next to the paper's")
    p.add_argument("targets", nargs="+", metavar="TARGET",
                   help="preset id (1-5, 2c-3, 2a-rtrl-p4-lr1, ...), experiment (1..6), group (2c, 3a, "
                        "2a-rtrl, ...), competitors (the paper's RTRL/BPTT rows) or all (every LSTM "
                        "row; not the competitors)")
    p.add_argument("--trials", type=_count(1, _MAX_TRIALS),
                   help="trials per preset (default: the paper's; 1 with --quick)")
    p.add_argument("--seed", type=_count(0), default=0,
                   help="trial k uses weight seed SEED + k (default 0); its data seed is SEED + k too, "
                        "except in Experiment 1, whose train/test set is SEED + k // 10")
    p.add_argument("--trial", type=_count(0), action="append", metavar="K", dest="only_trials",
                   help="run only trial K (repeat for more), exactly as in a full run: replays the "
                        "record of trial K (not with --trials)")
    p.add_argument("--quick", action="store_true",
                   help="small sequence budget per preset (a smoke run, not a reproduction)")
    p.add_argument("--out", type=_directory, default="results", metavar="DIR",
                   help="directory for the records CSV (default results/)")
    p.add_argument("--name", help="file name stem of the CSV (default from the targets)")
    p.add_argument("--jobs", type=_count(1),
                   help="worker processes (default: all cores; 1 = in this process; unused with --scheduler)")
    p.add_argument("--scheduler", metavar="ADDRESS", type=_address,
                   help="run the trials on this Dask cluster, e.g. tcp://host:8786, instead of local "
                        "processes (needs the dask extra: pip install 'online-lstm[dask]')")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="change a preset option, e.g. --set targets=legal --set update=sequence")
    p.add_argument("--resume", action="store_true",
                   help="keep the trials already in DIR/<name>.csv (same presets, seeds, options and "
                        "--quick) and run only the missing ones, each from its checkpoint if it has "
                        "one; records that would be kept but were written by other code stop the "
                        "run (exit 2): resume with that code, or use another --name")
    p.add_argument("--checkpoint-every", type=_seconds, metavar="SECONDS",
                   help="save each running trial every SECONDS to DIR/<name>.trials/, for --resume "
                        "(default 60; 0 = never). With --scheduler, off unless given: the workers "
                        "write the files, so DIR must be on a filesystem every worker sees at the "
                        "same path; a trial whose worker is lost goes on from its checkpoint")
    p.add_argument("--markdown", action="store_true", help="print the table as markdown")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_reproduce)

    p = sub.add_parser("status", help="finished trials per records file, and the trials running or "
                                      "interrupted (from their checkpoints)")
    p.add_argument("--out", type=_directory, default="results", metavar="DIR",
                   help="the directory reproduce wrote to (default results/)")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("compare", help="the side-by-side table from saved records")
    p.add_argument("records", nargs="+", help="records CSV files written by reproduce")
    p.add_argument("--markdown", action="store_true", help="print the table as markdown")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("bench", help="time a learner's steps on this machine (learn_one and "
                                     "predict_one latency, learn_many, snapshots)")
    _learner_args(p)
    p.add_argument("--max-delay", type=_count(0), default=0, metavar="D",
                   help="keep D steps for delayed targets (default 0): each step then saves its "
                        "snapshot, which is what is timed; the targets still come at their step")
    p.add_argument("--calls", type=_count(1_000, 10_000_000), default=100_000,
                   help="timed calls of learn_one and of predict_one, rounded up to a multiple of 500 "
                        "(default 100,000: a few seconds; "
                        "at most 10,000,000, some minutes and a few hundred MB of timings)")
    p.add_argument("--out", metavar="CSV", help="also write the table to this CSV file")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("gradcheck", help="the learner's truncated gradient against finite "
                                         "differences of its own loss, on this install")
    _learner_args(p)
    p.add_argument("--connectivity", choices=("F", "B"),
                   help="F or B (Table 10 column c; default: the net's, F for --net); with B and no "
                        "peepholes the truncation cuts nothing and the two must agree")
    p.add_argument("--steps", type=_count(1, 10_000), default=50, help="steps of the sequence (default 50)")
    p.add_argument("--seed", type=_count(0), default=0, help="seed of the random sequence (default 0)")
    p.add_argument("--eps", type=_fd_step, default=1e-6,
                   help="finite-difference step, at most 1 (default 1e-6)")
    p.add_argument("--tolerance", type=nonnegative("relative difference"), default=1e-5,
                   help="largest relative difference that counts as agreement where the two must "
                        "agree (default 1e-5; exit 1 above it)")
    p.set_defaults(func=cmd_gradcheck)

    args = ap.parse_args(argv)
    if args.cmd == "bench" and args.out:
        csv_out(ap, args.out)  # (before the timings: a path that cannot be must fail first)
    # a warning reads as the command's own message, not as a source line of cli.py
    plain = warnings.formatwarning
    warnings.formatwarning = lambda message, category, *_, **__: f"online-lstm: warning: {message}\n"
    try:
        return args.func(args)
    except BrokenPipeError:
        # the reader went away (``online-lstm list | head``): stop quietly, as
        # other command-line tools do, instead of a traceback; the records
        # written so far stay on disk.  What is still buffered goes nowhere,
        # so that the interpreter's flush at exit does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:  # before reproduce runs its trials (importing Numba, reading files)
        print("\nonline-lstm: interrupted", file=sys.stderr)
        return 130
    finally:
        warnings.formatwarning = plain


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
