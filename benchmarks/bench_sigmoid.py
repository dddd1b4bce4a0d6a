"""What the kernel's logistic function costs: ns per call of ``kernels._sigmoid``.

Small nets spend much of a step in sigmoids (31 per step at Reber size), so
this is the floor under a small learner's step.  The loop evaluates the
kernel's own ``_sigmoid`` on independent inputs, in a compiled loop, and
reports ns per evaluation (median of repeated timings).

    python benchmarks/bench_sigmoid.py
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import time  # noqa: E402

import numpy as np  # noqa: E402

from online_lstm._jit import njit  # noqa: E402
from online_lstm.kernels import _sigmoid  # noqa: E402


@njit
def _many(a, out, reps):
    for r in range(reps):
        for i in range(a.shape[0]):
            out[i] = _sigmoid(a[i] + r * 1e-12)


def main():
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


if __name__ == "__main__":
    main()
