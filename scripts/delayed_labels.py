"""Delayed labels in River's progressive validation: does the label reach the right step?

    python scripts/delayed_labels.py [--n 3000] [--seeds 3] [--delays 5 20]

Runs ``river.evaluate.progressive_val_score(..., delay=d)`` (each label
arrives d observations after its prediction) on two streams:

* ``memoryless``: x ~ N(0, 1) one feature, y = tanh(2x), seeded.  The label
  depends on its own observation only, so learning it against any other step
  learns nothing;
* ``TrumpApproval`` (bundled with River), behind a ``StandardScaler``.

and compares ``LSTMRegressor(max_delay=0)`` (a late label goes to the last
predicted step), ``LSTMRegressor(max_delay=d)`` (each label to its own step,
``OnlineLSTM.learn_delayed``) and River's ``LinearRegression``.  Prints the
MAE of each seed; docs/river.md quotes the output.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd


def streams(n, seed=0):
    from river import datasets

    u = np.random.default_rng(seed).normal(size=n)
    yield "memoryless", [({"a": float(v)}, float(np.tanh(2 * v))) for v in u], False
    yield "TrumpApproval", list(datasets.TrumpApproval()), True


def main(argv=None):
    from online_lstm.cli import _count

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=_count(1), default=3000, help="length of the memoryless stream (default 3000)")
    ap.add_argument("--seeds", type=_count(1), default=3, help="seeds per model (0, 1, ...; default 3)")
    ap.add_argument("--delays", type=_count(1), nargs="+", default=[5, 20],
                    help="observations between a prediction and its label (default 5 20)")
    a = ap.parse_args(argv)
    from river import evaluate, linear_model, metrics, preprocessing

    from online_lstm.river import LSTMRegressor

    rows = []
    for name, data, scale in streams(a.n):
        for d in a.delays:
            models = {"LSTM max_delay=0": lambda s: LSTMRegressor(seed=s),
                      f"LSTM max_delay={d}": lambda s, d=d: LSTMRegressor(seed=s, max_delay=d),
                      "LinearRegression": lambda s: linear_model.LinearRegression()}
            for label, make in models.items():
                for s in range(a.seeds):
                    model = preprocessing.StandardScaler() | make(s) if scale else make(s)
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        mae = evaluate.progressive_val_score(data, model, metrics.MAE(), delay=d)
                    rows.append(dict(stream=name, delay=d, model=label, seed=s, mae=mae.get()))
                    print(f"{name:13s} delay {d:3d}  {label:18s} seed {s}: MAE {mae.get():.4f}",
                          flush=True)
    df = pd.DataFrame(rows)
    print()
    print(df.groupby(["stream", "delay", "model"], sort=False).mae
          .agg(["mean", "min", "max"]).round(3).to_string())


if __name__ == "__main__":
    main()
