"""Run every benchmark, then print the tables of BENCHMARKS.md.

    python benchmarks/run_all.py [--quick] [--out DIR]

Runs ``bench_step.py`` (issue 2's per-size table), ``bench_latency.py``,
``bench_peers.py``, ``bench_bank.py`` and ``bench_delay.py`` one after another, each in its own
process, and ``report.py`` at the end.  Results go to ``DIR``: by default
``benchmarks/results/`` (the published CSVs and plots, which a full run
replaces), and with ``--quick`` ``benchmarks/results/local/`` (git-ignored),
so that a quick look never overwrites the published figures.  About 10
minutes on the 2-core development machine (2 with ``--quick``), plus
Numba's first compilation in a fresh clone; peers that are not installed
are skipped, and so are the plots without matplotlib (the ``bench`` extra).
"""

from __future__ import annotations

import argparse
import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).parent
#: each benchmark and the CSV it writes (the names report.py reads)
SCRIPTS = {"bench_step.py": "step.csv", "bench_latency.py": "latency.csv",
           "bench_peers.py": "peers.csv", "bench_bank.py": "bank.csv", "bench_delay.py": "delay.csv"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="pass --quick to every benchmark")
    ap.add_argument("--out", type=pathlib.Path, default=None,
                    help="directory of the CSVs and plots (default: benchmarks/results, or "
                         "benchmarks/results/local with --quick)")
    args = ap.parse_args()
    out = args.out or (HERE / "results" / "local" if args.quick else HERE / "results")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file of that name, or a directory that cannot be made
        ap.error(f"--out {out}: cannot make the directory ({exc.strerror or exc})")
    for script, csv in SCRIPTS.items():
        print(f"\n=== {script} ===", flush=True)
        rc = subprocess.run([sys.executable, str(HERE / script), "--out", str(out / csv)]
                            + (["--quick"] if args.quick else [])).returncode
        if rc:  # its own message is above; not a CalledProcessError traceback on top of it
            raise SystemExit(f"\nrun_all.py: {script} failed (exit status {rc}); the benchmarks after it "
                             f"did not run. The CSVs written so far are in {out}.")
    print("\n=== report ===", flush=True)
    rc = subprocess.run([sys.executable, str(HERE / "report.py"), "--results", str(out)]).returncode
    if rc:
        raise SystemExit(rc)


if __name__ == "__main__":
    main()
