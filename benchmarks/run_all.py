"""Run every benchmark, then print the tables of BENCHMARKS.md.

    python benchmarks/run_all.py [--quick]

Runs ``bench_step.py`` (issue 2's per-size table), ``bench_latency.py``,
``bench_peers.py``, ``bench_bank.py`` and ``bench_delay.py`` one after another, each in its own
process, and ``report.py`` at the end.  Results go to
``benchmarks/results/``.  About 10 minutes on the 2-core development machine
(2 with ``--quick``), plus Numba's first compilation in a fresh clone; peers
that are not installed are skipped.
"""

from __future__ import annotations

import argparse
import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).parent
SCRIPTS = ["bench_step.py", "bench_latency.py", "bench_peers.py", "bench_bank.py", "bench_delay.py"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="pass --quick to every benchmark")
    args = ap.parse_args()
    for script in SCRIPTS:
        print(f"\n=== {script} ===", flush=True)
        subprocess.run([sys.executable, str(HERE / script)] + (["--quick"] if args.quick else []),
                       check=True)
    print("\n=== report ===", flush=True)
    subprocess.run([sys.executable, str(HERE / "report.py")], check=True)


if __name__ == "__main__":
    main()
