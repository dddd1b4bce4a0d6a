"""``online-lstm bench``: what a step costs on this machine, from the installed package.

The published figures come from the scripts in the repository's
``benchmarks/`` (``BENCHMARKS.md``), which also run the peers side by side;
they are not installed with the package.  This measures one learner alone, on
the machine at hand, in a few seconds, so that the author of a control loop
can see what a step costs where it will run:

* ``learn_one`` and ``predict_one`` as a real-time loop calls them (float64
  inputs, ``out=``): each call timed on its own, p50, p99 and p99.9 over
  ``calls`` calls (rounded up to a multiple of 500: 5 interleaved rounds of
  whole chunks of 100), with the learner reset every 100 steps outside the timed
  calls; the same loop with a Python function that does nothing in place of
  the call (``timer+loop``) is timed too, so that its median can be
  subtracted;
* ``learn_many``: nanoseconds per step over calls of 10,000 steps, reset
  every 100 steps as above (median of 5 calls; its ``calls`` column counts
  the steps);
* ``snapshot(into=)`` and ``restore_snapshot``: nanoseconds per call
  (median of rounds).

Dense inputs uniform in [-1, 1], a target at every step, uniform in [0.1,
0.9].  A learner with ``max_delay > 0`` keeps its ring of step snapshots as
it always does, and that is the cost measured; its targets still come at
their own step (``learn_delayed`` is timed by the repository's
``benchmarks/bench_delay.py``).  The machine's load average is printed with the table: on a shared or
busy machine every figure is higher, and the tail (p99.9) most of all.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd

#: steps between resets (the reset is not timed)
CHUNK = 100


def per_call_ns(step, xs, ys, n_calls: int) -> np.ndarray:
    """Nanoseconds between consecutive timer reads around ``step(x, y)``, one
    entry per call, for ``n_calls // CHUNK`` chunks of ``CHUNK`` calls over the
    inputs ``xs`` and targets ``ys`` (sequences of ``CHUNK`` arrays);
    ``step(None, None)`` starts each chunk (a reset), untimed."""
    pc = time.perf_counter_ns
    ts = [0] * (CHUNK + 1)
    out = np.empty((n_calls // CHUNK, CHUNK), dtype=np.int64)
    for c in range(n_calls // CHUNK):
        step(None, None)
        ts[0] = pc()
        for j in range(CHUNK):
            step(xs[j], ys[j])
            ts[j + 1] = pc()
        out[c] = np.diff(ts)
    return out.ravel()


def call_series(m, o) -> list:
    """``(name, step)`` pairs for :func:`per_call_ns`: the loop alone
    (``"timer+loop"``), and ``m.learn_one`` and ``m.predict_one`` with
    ``out=o``; ``step(None, None)`` resets ``m``."""
    learn, predict, reset = m.learn_one, m.predict_one, m.reset

    def empty_step(x, y):
        return None

    def learn_step(x, y):
        if x is None:
            return reset()
        learn(x, y, out=o)

    def predict_step(x, y):
        if x is None:
            return reset()
        predict(x, out=o)

    return [("timer+loop", empty_step), ("learn_one", learn_step), ("predict_one", predict_step)]


def _median_ns_per_call(fn, n: int, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter_ns()
        for _ in range(n):
            fn()
        times.append((time.perf_counter_ns() - t0) / n)
    return float(np.median(times))


def run(m, calls: int = 100_000, seed: int = 0) -> pd.DataFrame:
    """Time the learner ``m`` (an :class:`~online_lstm.OnlineLSTM`; it is
    trained on random data in the process: pass one you can spare).

    Returns one row per measurement: ``what``, ``calls`` (the timed calls;
    for ``learn_many`` the timed steps), ``p50_ns``,
    ``p99_ns``, ``p999_ns`` (the per-call series; the others have the median
    in ``p50_ns`` only).
    """
    if isinstance(calls, bool) or not isinstance(calls, (int, np.integer)) or calls < CHUNK:
        raise ValueError(f"calls must be an integer >= {CHUNK}; got {calls!r}")
    rng = np.random.default_rng(seed)
    n_in, K = m.n_in, m.n_out
    xs = [rng.uniform(-1.0, 1.0, n_in) for _ in range(CHUNK)]
    ys = [rng.uniform(0.1, 0.9, K) for _ in range(CHUNK)]
    series = call_series(m, np.empty(K))
    for _, fn in series:
        per_call_ns(fn, xs, ys, min(calls, 10_000))  # warm-up
    rounds = 5  # interleaved, so that a change in the machine's load falls on all alike
    samples = {name: [] for name, _ in series}
    per_round = -(-calls // (rounds * CHUNK)) * CHUNK  # at least the calls asked for (1,999 were 1,500)
    for _ in range(rounds):
        for name, fn in series:
            samples[name].append(per_call_ns(fn, xs, ys, per_round))
    rows = []
    for name, _ in series:
        d = np.concatenate(samples[name])
        p = np.percentile(d, [50, 99, 99.9])
        rows.append(dict(what=f"{name} (out=)" if name != "timer+loop" else name, calls=len(d),
                         p50_ns=p[0], p99_ns=p[1], p999_ns=p[2]))
    T = 10_000
    X, Y = rng.uniform(-1.0, 1.0, (T, n_in)), rng.uniform(0.1, 0.9, (T, K))
    R = np.zeros(T, dtype=bool)
    R[::CHUNK] = True
    out = np.empty((T, K))
    m.learn_many(X, Y, R, out=out)
    t = _median_ns_per_call(lambda: m.learn_many(X, Y, R, out=out), 1, 5) / T
    rows.append(dict(what="learn_many, per step", calls=5 * T, p50_ns=t))
    snap = m.snapshot()
    n = max(1_000, calls // 50)
    for what, fn in (("snapshot(into=snap)", lambda: m.snapshot(into=snap)),
                     ("restore_snapshot(snap)", lambda: m.restore_snapshot(snap))):
        fn()
        rows.append(dict(what=what, calls=5 * n, p50_ns=_median_ns_per_call(fn, n, 5)))
    return pd.DataFrame(rows)


def load_average() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:  # (not on every platform)
        return "unknown"
