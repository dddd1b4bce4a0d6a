"""What the kernel's logistic function costs: ns per call of ``kernels._sigmoid``.

Small nets spend much of a step in sigmoids (31 per step at Reber size), so
this is the floor under a small learner's step.  Two measurements:

1. A compiled loop evaluates the kernel's own ``_sigmoid`` on independent
   inputs and reports ns per evaluation (median of repeated timings).
2. ``--in-step``: the logistic's share of a whole ``learn_many`` step.  A copy
   of the package in a temporary directory gets a clipped linear stand-in
   for ``_sigmoid`` (no ``exp``; a diagnostic, never shipped), and
   subprocesses time ``learn_many`` per step on the Reber-size net with the
   real logistic and with the stand-in, alternating, one process each per
   round.  The medians and their difference are printed.

    python benchmarks/bench_sigmoid.py [--in-step] [--rounds 7]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import pathlib  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from online_lstm._jit import njit  # noqa: E402
from online_lstm.kernels import _sigmoid  # noqa: E402


@njit
def _many(a, out, reps):
    for r in range(reps):
        for i in range(a.shape[0]):
            out[i] = _sigmoid(a[i] + r * 1e-12)


# One process's measurement: learn_many per step (ns), Reber-size net.
_STEP = r"""
import os, time
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np
from online_lstm import OnlineLSTM
m = OnlineLSTM(n_in=7, n_out=7, n_blocks=4, block_size=2, bias="all", init_range=0.1,
               lr=0.1, seed=0)
rng = np.random.default_rng(0)
X, Y = rng.random((100, 7)), rng.random((100, 7))
R = np.zeros(100, bool)
R[0] = True
out = np.empty((100, 7))
m.learn_many(X, Y, R, out=out)
ts = []
for _ in range(15):
    t0 = time.perf_counter_ns()
    for _ in range(200):
        m.learn_many(X, Y, R, out=out)
    ts.append((time.perf_counter_ns() - t0) / 20000)
import online_lstm
print(online_lstm.__file__, float(np.median(ts)))
"""

_REAL = "\n    return 1.0 / (1.0 + np.exp(-x))"
_STAND_IN = ("\n    v = 0.5 + 0.25 * x  # diagnostic stand-in (benchmarks/bench_sigmoid.py)"
             "\n    return 0.0 if v < 0.0 else (1.0 if v > 1.0 else v)")


def in_step(rounds):
    """Print ns per learn_many step with the real logistic and with the stand-in."""
    import online_lstm

    src = pathlib.Path(online_lstm.__file__).parent
    with tempfile.TemporaryDirectory() as tmp:
        dst = pathlib.Path(tmp) / "online_lstm"
        shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
        k = dst / "kernels.py"
        text = k.read_text()
        if text.count(_REAL) != 1:
            raise SystemExit("kernels._sigmoid has changed; update bench_sigmoid.py")
        k.write_text(text.replace(_REAL, _STAND_IN))
        envs = {
            "logistic": dict(os.environ),
            "stand-in": dict(os.environ, PYTHONPATH=tmp,
                             NUMBA_CACHE_DIR=str(pathlib.Path(tmp) / "numba-cache")),
        }
        res = {name: [] for name in envs}
        cwd = pathlib.Path(tmp) / "cwd"  # neither package is importable from here
        cwd.mkdir()
        for _ in range(rounds):
            for name, env in envs.items():
                p = subprocess.run([sys.executable, "-c", _STEP], env=env, cwd=cwd,
                                   capture_output=True, text=True, check=True)
                where, ns = p.stdout.split()[-2:]
                if pathlib.Path(where).parent.samefile(dst) != (name == "stand-in"):
                    raise SystemExit(f"the {name} run imported {where}")
                res[name].append(float(ns))
    a, b = float(np.median(res["logistic"])), float(np.median(res["stand-in"]))
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"learn_many per step, Reber-size net, median of {rounds} processes each: "
          f"logistic {a:.0f} ns, stand-in {b:.0f} ns; the 31 logistic evaluations cost "
          f"{a - b:.0f} ns, {(a - b) / a:.0%} of the step (load average {load})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--in-step", action="store_true",
                    help="also measure the logistic's share of a learn_many step")
    from online_lstm.cli import _count

    ap.add_argument("--rounds", type=_count(1), default=7,
                    help="with --in-step: processes per variant (default 7)")
    args = ap.parse_args()
    a = np.random.default_rng(0).normal(size=31)  # one Reber-size step's worth
    out = np.empty_like(a)
    reps = 200_000
    _many(a, out, 10)
    ts = []
    for _ in range(7):
        t0 = time.perf_counter()
        _many(a, out, reps)
        ts.append((time.perf_counter() - t0) / (reps * a.size))
    t = float(np.median(ts)) * 1e9
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"kernels._sigmoid: {t:.1f} ns per evaluation, {31 * t:.0f} ns for the 31 of a "
          f"Reber-size step (load average {load})")
    if args.in_step:
        in_step(args.rounds)


if __name__ == "__main__":
    main()
