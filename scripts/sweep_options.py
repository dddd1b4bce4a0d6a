"""Run presets under every combination of some open choices (spec §8) and compare.

Each combination runs the same trials (same seeds), so differences come from the
choice, not from the draw.  Each combination's records go to
``<out>/<name>/<key=value-...>.csv`` as its trials finish, all of them to
``<out>/<name>.csv`` (one row per trial, with an ``options`` column and an
``opt_<key>`` column per grid key) after each combination, and the
side-by-side table is printed.

    python scripts/sweep_options.py 1-5 --grid targets=next,legal update=step,sequence \\
        --trials 30 --out results --name reber-sweep
    python scripts/sweep_options.py 1-5 --grid targets=next --quick   # a fast smoke run

Run long sweeps under ``nice -n 19``.
"""

from __future__ import annotations

import argparse
import ast
import itertools
from pathlib import Path

import pandas as pd

from online_lstm.cli import _count
from online_lstm.experiments import compare, format_table, reproduce
from online_lstm.presets import PRESETS, select


def _value(text):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("targets", nargs="+", help="presets, groups or experiments")
    # extend: a second --grid adds its keys (with nargs alone it replaced the first one's,
    # and the sweep silently ran without them)
    ap.add_argument("--grid", nargs="+", action="extend", required=True, metavar="KEY=V1,V2",
                    help="option values to combine, e.g. targets=next,legal (repeatable)")
    ap.add_argument("--trials", type=_count(1))
    ap.add_argument("--seed", type=_count(0), default=0)
    ap.add_argument("--jobs", type=_count(1))
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default="results")
    ap.add_argument("--name", default="sweep")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)

    name = args.name
    if not name or Path(name).name != name or name in (".", "..") or "\n" in name:
        # '' wrote <out>/.csv and put the per-combination records in <out> itself
        ap.error(f"--name must be a plain file name (no directory; use --out for that); got {name!r}")
    keys, values = [], []
    for item in args.grid:
        key, sep, vals = item.partition("=")
        if not sep or not key.strip() or not vals.strip():
            ap.error(f"--grid needs KEY=V1,V2,...; got {item!r}")
        if key.strip() in keys:
            ap.error(f"--grid {key.strip()} is given twice; give its values once, comma-separated")
        keys.append(key.strip())
        values.append([_value(v) for v in vals.split(",")])
        # each value as it names its combination's records (the tag below): 0.1 and 0.10
        # are one value, spelled twice
        texts = [str(v).strip() for v in values[-1]]
        twice = sorted({v for v in texts if texts.count(v) > 1})
        if twice:  # the combination ran twice, its second records replacing the first's
            ap.error(f"--grid {key.strip()} lists {twice[0]!r} twice; give each value once")
    # every combination checked before the first runs: a mistyped last value must not
    # stop the sweep after hours of the combinations before it
    try:
        ids = select(args.targets)
        for combo in itertools.product(*values):
            for pid in ids:
                PRESETS[pid].with_options(**dict(zip(keys, combo)))
    except (KeyError, ValueError) as exc:
        ap.error(exc.args[0])
    frames = []
    path = Path(args.out) / f"{args.name}.csv"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file of that name, or a directory that cannot be made
        ap.error(f"--out {args.out}: cannot make the directory ({exc.strerror or exc})")
    if path.is_dir():
        ap.error(f"--name {args.name}: {path} is a directory")
    for combo in itertools.product(*values):
        options = dict(zip(keys, combo))
        print(f"--- {options}", flush=True)
        tag = "-".join(f"{k}={v}" for k, v in options.items())
        df = reproduce(args.targets, trials=args.trials, seed=args.seed, quick=args.quick,
                       jobs=args.jobs, progress=not args.no_progress, options=options,
                       out=Path(args.out) / args.name, name=tag)  # per-trial records as they finish
        for k, v in options.items():
            df[f"opt_{k}"] = v
        frames.append(df)
        pd.concat(frames, ignore_index=True).to_csv(path, index=False)
    allrec = pd.concat(frames, ignore_index=True)
    print(format_table(compare(allrec)))
    print(f"records: {path}")


if __name__ == "__main__":
    main()
