"""Train the paper's Task 2c (q = p = 50, Table 3 row 1) end to end.

Shows progress, then prints our result next to the paper's.  Each trial is
one weight initialisation; success is the paper's: the final error of both
outputs stays below 0.2 for 10,000 successive sequences (spec §5.2; each
sequence is scored before its own weight update), followed by a frozen test.

    python scripts/quickstart.py [--trials 3] [--seed 0]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from tqdm import tqdm

from online_lstm.paper import table10_learner
from online_lstm.tasks.long_lag import task_2c_batch

PAPER_MEAN = 30_000  # Table 3, q = p = 50
LIMIT = 500_000  # sequences per trial before giving up
STREAK = 10_000


def trial(seed: int, bar: tqdm) -> dict:
    rng = np.random.default_rng([seed, 1])  # data stream
    m = table10_learner("2c-1", seed=seed)  # weights
    streak = seen = steps = 0
    start = None
    t0 = time.perf_counter()
    while seen < LIMIT and start is None:
        X, Y, resets, ends = task_2c_batch(rng, 1000)
        out = m.learn_many(X, Y, resets)
        steps += len(X)
        ok = np.all(np.abs(out[ends] - Y[ends]) < 0.2, axis=1)
        for good in ok:
            seen += 1
            streak = streak + 1 if good else 0
            if streak >= STREAK:
                start = seen - STREAK
                break
        bar.update(len(ok))
        bar.set_postfix(seed=seed, streak=streak)
    wall = time.perf_counter() - t0
    X, Y, resets, ends = task_2c_batch(np.random.default_rng([seed, 2]), STREAK)
    out = m.predict_many(X, resets)
    wrong = int(np.sum(np.any(np.abs(out[ends] - Y[ends]) >= 0.2, axis=1)))
    return dict(seed=seed, success=start is not None, sequences=start if start is not None else seen,
                frozen_test_wrong=wrong, steps=steps, wall_s=round(wall, 1),
                steps_per_s=int(steps / wall))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rows = []
    with tqdm(total=None, unit="seq", desc="Task 2c q=p=50") as bar:
        for i in range(args.trials):
            rows.append(trial(args.seed + i, bar))
    df = pd.DataFrame(rows)
    print()
    print(df.to_string(index=False))
    ok = df[df.success]
    print()
    print(pd.DataFrame([{
        "task": "2c q=p=50 (364 weights)",
        "paper: success after": PAPER_MEAN,
        "ours: success %": round(100 * len(ok) / len(df)),
        "ours: mean sequences": int(ok.sequences.mean()) if len(ok) else None,
        "ours: median sequences": int(ok.sequences.median()) if len(ok) else None,
        "ours: frozen test wrong (of 10,000)": int(ok.frozen_test_wrong.mean()) if len(ok) else None,
    }]).T.to_string(header=False))


if __name__ == "__main__":
    main()
