"""Does Table 2's RTRL learning time hinge on when the outputs read the hidden unit?

Task 2a's competitor net (spec §5.2, §2.8) has one self-recurrent logistic
hidden unit and p + 1 non-recurrent logistic outputs, each reading the inputs
and the hidden unit.  The spec does not say at which step the outputs read it:

* ``same``: the outputs at step t read the hidden unit of step t (the LSTM's
  order of computation, spec §2.4; what ``online_lstm.baselines.RTRL`` does);
* ``previous``: they read the hidden unit of step t - 1, as in Williams &
  Zipser's synchronous net where every connection has a one-step delay.

With the class symbol at step 0 and its prediction at step p - 1, the
information crosses the hidden unit's self-connection p - 1 times in the
first and p - 2 times in the second.  This script trains both with RTRL
(exact online gradient, a change ``lr * e * y`` after every step, no factor
2), the same weights (drawn by the library's RTRL) and the same stream, and
reports when a streak of 10,000 sequences with every step's error below 0.25
starts, as the ``2a-rtrl-*`` presets do.  It first checks that ``same``
reproduces the library's RTRL learner bit for bit.

    python scripts/rtrl_time_convention.py --p 4 --lr 1 4 10 --trials 4 \\
        --out reproduction/records/rtrl-time-convention.csv

``--quick`` runs one trial per setting to 20,000 sequences (seconds):
a check that the script works, not a result.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from numba import njit
from tqdm import tqdm

from online_lstm._jit import JIT_NRT_OPTIONS
from online_lstm.baselines import RTRL
from online_lstm.cli import _count, csv_out, nonnegative, quick_defaults
from online_lstm.experiments import step_max_errors, streak_hit
from online_lstm.tasks import Task2a


@njit(**JIT_NRT_OPTIONS)  # the library's Numba options for RTRL code (it copies slices: NRT)
def _train(Whx, whh, Wkx, Wkh, X, Y, resets, lr, previous, out, p, p_prev, e):
    """RTRL on the one-hidden-unit net, one step at a time; returns the new w_hh.

    ``p`` / ``p_prev``: influences dh/d(W_hx, w_hh) of this and the last step.
    """
    T, m = X.shape
    K = Y.shape[1]
    h_prev = 0.0
    for t in range(T):
        if resets[t]:
            h_prev = 0.0
            p_prev[:] = 0.0
        net = whh * h_prev
        for i in range(m):
            net += Whx[i] * X[t, i]
        h = 1.0 / (1.0 + np.exp(-net))
        fp = h * (1.0 - h)
        for i in range(m):
            p[i] = fp * (X[t, i] + whh * p_prev[i])
        p[m] = fp * (h_prev + whh * p_prev[m])
        hs = h_prev if previous else h  # the hidden activation the outputs read
        back = 0.0
        for k in range(K):
            nk = 0.0
            for i in range(m):
                nk += Wkx[k, i] * X[t, i]
            nk += Wkh[k] * hs
            y = 1.0 / (1.0 + np.exp(-nk))
            out[t, k] = y
            e[k] = y * (1.0 - y) * (Y[t, k] - y)  # spec §3.3, no factor 2
            back += e[k] * Wkh[k]
        ps = p_prev if previous else p
        for i in range(m):
            Whx[i] += lr * back * ps[i]
        whh += lr * back * ps[m]
        for k in range(K):
            for i in range(m):
                Wkx[k, i] += lr * e[k] * X[t, i]
            Wkh[k] += lr * e[k] * hs
        h_prev = h
        p_prev[:] = p
    return whh


class Net:
    def __init__(self, p, lr, seed):
        w = RTRL(p + 1, p + 1, 1, architecture="layered", bias=False, init_range=0.2, lr=lr,
                 seed=seed).get_weights()
        self.Whx, self.whh = w["W_hx"][0].copy(), float(w["W_hh"][0, 0])
        self.Wkx, self.Wkh = w["W_kx"].copy(), w["W_kh"][:, 0].copy()
        self.lr = lr
        self.buf = (np.zeros(p + 2), np.zeros(p + 2), np.zeros(p + 1))

    def learn(self, b, previous):
        out = np.empty_like(b.Y)
        self.whh = _train(self.Whx, self.whh, self.Wkx, self.Wkh, b.X, b.Y, b.resets, self.lr,
                          previous, out, *self.buf)
        return out


def check_same_is_the_library(p=4, lr=4.0, seed=3, n=3000):
    lib = RTRL(p + 1, p + 1, 1, architecture="layered", bias=False, init_range=0.2, lr=lr, seed=seed)
    net = Net(p, lr, seed)
    b = Task2a(p=p, seed=seed).sample(n)
    np.testing.assert_array_equal(net.learn(b, False), lib.learn_many(b.X, b.Y, b.resets))
    w = lib.get_weights()
    np.testing.assert_array_equal(net.Wkx, w["W_kx"])
    np.testing.assert_array_equal(net.Wkh, w["W_kh"][:, 0])
    assert net.whh == w["W_hh"][0, 0]


def trial(p, lr, seed, previous, limit, streak=10_000, chunk=20_000, bar=None):
    net = Net(p, lr, seed)
    task = Task2a(p=p, seed=[seed, 1])  # the presets' training stream for trial `seed`
    seen, carry = 0, 0
    while seen < limit:
        b = task.sample(min(chunk, limit - seen))
        ok = step_max_errors(net.learn(b, previous), b) < 0.25
        hit, carry = streak_hit(ok, carry, streak)
        if hit >= 0:
            if bar is not None:
                bar.update(limit - seen)  # the unused budget: the bar counts the worst case
            return seen + hit + 1 - streak, net.whh
        seen += len(b)
        if bar is not None:
            bar.update(len(b))
    return None, net.whh


#: An argparse type: a learning rate, a finite number >= 0 (what RTRL takes).
#: Checked at parse time: a bad rate last in ``--lr`` would stop the run only
#: when its trials came, after hours of the others.
_rate = nonnegative("finite number")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--p", type=_count(2), nargs="+", default=[4])
    ap.add_argument("--lr", type=_rate, nargs="+", default=[1.0, 4.0, 10.0],
                    help="learning rates (default 1 4 10)")
    ap.add_argument("--trials", type=_count(1), help="trials per setting (default 4; 1 with --quick)")
    ap.add_argument("--limit", type=_count(1),
                    help="training sequences per trial (default 5,000,000; 20,000 with --quick)")
    ap.add_argument("--reads", nargs="+", default=["previous"], choices=["same", "previous"])
    ap.add_argument("--out", help="CSV of one row per trial")
    ap.add_argument("--quick", action="store_true",
                    help="one trial per setting, to 20,000 sequences (unless --trials, --limit say "
                         "otherwise): checks the script, not a result")
    args = ap.parse_args(argv)
    quick_defaults(args, (("trials", 4, 1), ("limit", 5_000_000, 20_000)))
    if args.out:  # the CSV is written after each trial: a bad path must not wait for the first one
        csv_out(ap, args.out)
    check_same_is_the_library()
    print("check: 'same' reproduces online_lstm.baselines.RTRL bit for bit", flush=True)
    rows = []
    runs = [(p, reads, lr, k) for p in args.p for reads in args.reads for lr in args.lr
            for k in range(args.trials)]
    # the bar counts sequences against every trial's limit; a trial that stops early takes off the rest
    with tqdm(total=len(runs) * args.limit, unit="seq", unit_scale=True, desc="RTRL trials") as bar:
        for p, reads, lr, k in runs:
            t0 = time.process_time()
            start, whh = trial(p, lr, k, reads == "previous", args.limit, bar=bar)
            rows.append(dict(p=p, reads=reads, lr=lr, trial=k, success=start is not None,
                             sequences=start if start is not None else args.limit,
                             w_hh=round(whh, 3), cpu_s=round(time.process_time() - t0, 1)))
            tqdm.write(str(rows[-1]))
            if args.out:
                pd.DataFrame(rows).to_csv(args.out, index=False)
    df = pd.DataFrame(rows)
    ok = df[df.success]
    summary = df.groupby(["p", "reads", "lr"]).agg(trials=("success", "size"),
                                                   success_pct=("success", "mean"))
    summary["success_pct"] *= 100
    summary["mean_seq"] = ok.groupby(["p", "reads", "lr"])["sequences"].mean()
    print(summary.to_string())


if __name__ == "__main__":
    main()
