"""Real streams bundled with River: our LSTM next to River's own models.

Progressive validation (predict, score, then learn) of every model on small
real datasets that ship inside the River package (nothing is downloaded),
all through one harness, :func:`online_lstm.evaluate.iter_progressive_val`,
in one process.  Reported per model: MAE (accuracy for the classification
stream) and CPU time per observation (predict + learn + scoring, the
feature scaler included), the median of repeated runs.  CPU time, not wall
time: the development machine is shared, and its wall times mostly measure
the other jobs.

Streams and framings
--------------------
* Time series (AirlinePassengers, monthly, 144 values; WaterFlow, hourly,
  1,268 values): one-step-ahead forecasts, scored from the third value on.
  Regressors see the previous value (``lag 1``: x = {y[t-1]} -> y[t]) or
  the previous change (``diff``: x = {y[t-1] - y[t-2]} -> y[t] - y[t-1],
  whose error equals the level error); the LSTM also runs on ``lag 1`` with a
  reset at the start of every season (``reset_key``).  River's forecasters (SNARIMAX,
  HoltWinters) see the series itself; until they can forecast they predict
  the last value.
* Feature streams (TrumpApproval, ChickWeights, SP500Stocks): the features
  River ships, as they come.
* Classification (Phishing): accuracy.
Baselines: persistence (the previous target, known in a test-then-train
stream) and the running mean of past targets.

Every regressor except the forecasters and baselines sits behind
``preprocessing.StandardScaler``.  The LSTM is run with its defaults (4 blocks
of 2 cells, lr 0.5, running target range) on 5 seeds: mean ± sd of the MAE.
CPU times are medians of 9 rounds; each round runs every model of a stream once,
interleaved, so the noise of a shared machine falls on all of them alike.
``OnlineLSTM alone`` times the learner's own step (``predict_one`` +
``learn_last`` on arrays) for the same net, to show what the dict/pipeline
layer costs.

    python benchmarks/bench_river_streams.py [--quick] [--out CSV] [--plot PNG]

writes ``benchmarks/results/river_streams.csv`` and ``docs/river_streams.png``
(the published figures; with ``--quick``, ``benchmarks/results/local/`` holds
both, so that a quick look never overwrites them) and prints the Markdown table
used in ``docs/river.md``.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # idle BLAS threads spin and steal a core

import argparse  # noqa: E402
import pathlib  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from tqdm import tqdm  # noqa: E402

try:
    import river  # noqa: E402
    from river import (  # noqa: E402
        compose, datasets, dummy, linear_model, metrics, naive_bayes, neighbors, preprocessing, stats,
        time_series, tree,
    )
except ImportError as exc:  # pragma: no cover
    raise SystemExit("needs the river extra: pip install -e '.[river,bench]'") from exc

import numba  # noqa: E402

from online_lstm import OnlineLSTM  # noqa: E402
from online_lstm.evaluate import iter_progressive_val  # noqa: E402
from online_lstm.river import LSTMClassifier, LSTMRegressor  # noqa: E402
from plotting import pyplot  # noqa: E402 (the script's own directory)

ROOT = pathlib.Path(__file__).resolve().parent.parent
CSV = ROOT / "benchmarks" / "results" / "river_streams.csv"
PNG = ROOT / "docs" / "river_streams.png"
LOCAL = ROOT / "benchmarks" / "results" / "local"  # git-ignored: where quick runs write
LSTM = "LSTMRegressor (ours)"


# ---------------------------------------------------------------------------
# models that are not River regressors, behind predict_one / learn_one
# ---------------------------------------------------------------------------
class Persistence:
    """Predicts the previous target."""

    def __init__(self):
        self.last = 0.0

    def predict_one(self, x):
        return self.last

    def learn_one(self, x, y):
        self.last = y


class OneStepForecast:
    """A River forecaster as a regressor of the next value (x is ignored).

    Until the forecaster can forecast (HoltWinters needs whole seasons), the
    last value is the prediction.
    """

    def __init__(self, forecaster):
        self.model = forecaster
        self.last = 0.0

    def predict_one(self, x):
        try:
            y = float(self.model.forecast(horizon=1)[0])
        except Exception:  # not initialised yet
            return self.last
        return y if np.isfinite(y) else self.last

    def learn_one(self, x, y):
        self.model.learn_one(y)
        self.last = y


def scaled(model):
    return preprocessing.StandardScaler() | model


# ---------------------------------------------------------------------------
# streams
# ---------------------------------------------------------------------------
def series_streams(ys, period):
    """(framing -> list of (x, y)) for t = 2 .. T-1; the diff framing's target
    is y[t] - y[t-1], so its MAE is the MAE of y[t-1] + prediction."""
    ys = [float(y) for y in ys]
    idx = range(2, len(ys))
    return {
        "lag 1": [({"y[t-1]": ys[t - 1]}, ys[t]) for t in idx],
        "lag 1, reset each season": [({"y[t-1]": ys[t - 1], "start": t % period == 0}, ys[t]) for t in idx],
        "diff": [({"dy[t-1]": ys[t - 1] - ys[t - 2]}, ys[t] - ys[t - 1]) for t in idx],
        "series": [({}, ys[t]) for t in idx],
        "first": ys[1],
    }


def models_for_series(period, multiplicative, snarimax):
    """(label, framing, factory, seeded) for a time series."""
    hw = dict(alpha=0.3, beta=0.1, gamma=0.6, seasonality=period, multiplicative=multiplicative)
    return [
        ("persistence", "series", Persistence, False),
        ("running mean", "series", lambda: dummy.StatisticRegressor(stats.Mean()), False),
        ("LinearRegression", "lag 1", lambda: scaled(linear_model.LinearRegression()), False),
        ("LinearRegression", "diff", lambda: scaled(linear_model.LinearRegression()), False),
        (f"SNARIMAX{tuple(snarimax.values())}", "series",
         lambda: OneStepForecast(time_series.SNARIMAX(**snarimax)), False),
        (f"HoltWinters ({'mult.' if multiplicative else 'add.'})", "series",
         lambda: OneStepForecast(time_series.HoltWinters(**hw)), False),
        (LSTM, "lag 1", lambda seed: scaled(LSTMRegressor(seed=seed)), True),
        (LSTM, "diff", lambda seed: scaled(LSTMRegressor(seed=seed)), True),
        (LSTM, "lag 1, reset each season", lambda seed: (
            (compose.Discard("start") | preprocessing.StandardScaler()) + compose.Select("start")
            | LSTMRegressor(seed=seed, reset_key="start")), True),
    ]


def models_for_features():
    return [
        ("persistence", "features", Persistence, False),
        ("running mean", "features", lambda: dummy.StatisticRegressor(stats.Mean()), False),
        ("LinearRegression", "features", lambda: scaled(linear_model.LinearRegression()), False),
        ("HoeffdingAdaptiveTree", "features",
         lambda: scaled(tree.HoeffdingAdaptiveTreeRegressor(seed=0)), False),
        # SWINN (the default search) starts from a random graph: seeded, so that runs agree
        ("KNNRegressor", "features",
         lambda: scaled(neighbors.KNNRegressor(engine=neighbors.SWINN(seed=0))), False),
        (LSTM, "features", lambda seed: scaled(LSTMRegressor(seed=seed)), True),
    ]


def models_for_classification():
    return [
        ("LogisticRegression", "features", lambda: scaled(linear_model.LogisticRegression()), False),
        ("GaussianNB", "features", lambda: scaled(naive_bayes.GaussianNB()), False),
        ("HoeffdingTree", "features", lambda: scaled(tree.HoeffdingTreeClassifier()), False),
        ("LSTMClassifier (ours)", "features", lambda seed: scaled(LSTMClassifier(seed=seed)), True),
    ]


# ---------------------------------------------------------------------------
def run(stream, model, metric):
    (row,) = list(iter_progressive_val(stream, model, metric, step=len(stream)))
    return row


def cpu_us_per_obs(stream, model, metric):
    """CPU time of this process per observation, in µs.  On a shared machine
    the wall time mostly measures the other jobs; CPU time does not."""
    t0 = time.process_time()
    run(stream, model, metric)
    return (time.process_time() - t0) / len(stream) * 1e6


def _make(label, factory, seeded, seed, stream_of):
    model = factory(seed) if seeded else factory()
    if label == "persistence":
        model.last = stream_of["first"]
    return model


def evaluate(dataset, stream_of, specs, metric_cls, seeds, repeats, bar, alone_n_in=None):
    """Scores: one run per seed (deterministic).  Times: ``repeats`` rounds
    that run every model once each, interleaved, so that the machine's noise
    falls on all models alike; the median per model.  With ``alone_n_in``,
    each round also times the bare learner of that input width."""
    name = metric_cls.__name__
    scores = {i: [] for i in range(len(specs))}
    times = {i: [] for i in range(len(specs))}
    alone = []
    n_obs = len(stream_of[specs[0][1]])
    for i, (label, framing, factory, seeded) in enumerate(specs):
        for seed in (seeds if seeded else [None]):
            model = _make(label, factory, seeded, seed, stream_of)
            scores[i].append(run(stream_of[framing], model, metric_cls())[name])
            bar.update(1)
    for rep in range(repeats):
        for i, (label, framing, factory, seeded) in enumerate(specs):
            model = _make(label, factory, seeded, seeds[rep % len(seeds)], stream_of)
            times[i].append(cpu_us_per_obs(stream_of[framing], model, metric_cls()))
            bar.update(1)
        if alone_n_in is not None:
            alone.append(learner_alone_us(alone_n_in, n_obs))
    rows = []
    for i, (label, framing, _, seeded) in enumerate(specs):
        rows.append(dict(dataset=dataset, model=label, framing=framing, n_obs=len(stream_of[framing]),
                         metric=name, score=float(np.mean(scores[i])),
                         score_sd=float(np.std(scores[i])) if seeded else 0.0, runs=len(scores[i]),
                         us_per_obs=float(np.median(times[i]))))
    if alone:
        rows.append(dict(dataset=dataset, model="OnlineLSTM alone (arrays)", framing="timing only",
                         n_obs=n_obs, metric="", score=np.nan, score_sd=np.nan, runs=len(alone),
                         us_per_obs=float(np.median(alone))))
    return rows


def learner_alone_us(n_in, T):
    """µs per observation of the learner's own step for the net the adapter
    builds (``predict_one`` + ``learn_last`` on arrays)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(T, n_in))
    Y = rng.uniform(0.1, 0.9, size=T)
    a = LSTMRegressor()
    m = OnlineLSTM(n_in, 1, a.n_blocks, a.block_size, lr=a.lr, seed=0)
    out = np.zeros(1)
    t0 = time.process_time()
    for t in range(T):
        m.predict_one(X[t], out=out)
        m.learn_last(Y[t])
    return (time.process_time() - t0) / T * 1e6


def markdown(df):
    """The table of docs/river.md; "time / ours" divides by the time of our
    best-scoring row on that stream."""
    lines = ["| stream | model | input | MAE (accuracy for Phishing) | CPU µs / observation | time / ours |",
             "|---|---|---|---:|---:|---:|"]
    for name, d in df.groupby("dataset", sort=False):
        ours = d[d.model.str.contains("ours")]
        best = ours.score.idxmax() if (ours.metric == "Accuracy").all() else ours.score.idxmin()
        t_ours = d.loc[best, "us_per_obs"]
        for _, r in d.iterrows():
            if np.isnan(r.score):
                score = "—"
            elif r.metric == "Accuracy":
                score = f"{100 * r.score:.1f}%" + (f" ± {100 * r.score_sd:.1f}" if r.score_sd else "")
            else:
                score = f"{r.score:.4g}" + (f" ± {r.score_sd:.2g}" if r.score_sd else "")
            model = f"**{r.model}**" if "ours" in r.model else r.model
            lines.append(f"| {name} | {model} | {r.framing} | {score} | {r.us_per_obs:.1f} | "
                         f"{r.us_per_obs / t_ours:.2g}× |")
    return "\n".join(lines)


def plot(df, path):
    """One panel per stream: error against µs per observation (log scale)."""
    plt = pyplot(path)
    if plt is None:
        return False
    import matplotlib.ticker

    d = df[df.score.notna()].copy()
    d["label"] = d.model.str.replace(" (ours)", "", regex=False)
    d.loc[~d.framing.isin(["series", "features"]), "label"] += " [" + d.framing + "]"
    clf = d.metric == "Accuracy"
    d["err"] = np.where(clf, 1.0 - d.score, d.score)  # error rate for the classifier
    d["err_sd"] = d.score_sd
    streams = list(dict.fromkeys(d.dataset))
    fig, axes = plt.subplots(2, 3, figsize=(13, 8.5))
    for ax, name in zip(axes.flat, streams):
        s = d[d.dataset == name]
        for k, (_, r) in enumerate(s.sort_values("err").iterrows()):
            ours, base = "ours" in r.model, r.model in ("persistence", "running mean")
            color = "tab:red" if ours else "tab:gray" if base else "tab:blue"
            ax.errorbar(r.us_per_obs, r.err, yerr=r.err_sd or None, fmt="o", color=color,
                        ms=7 if ours else 5, capsize=2)
            ax.annotate(r.label, (r.us_per_obs, r.err), xytext=(5, 3 if k % 2 else -9),
                        textcoords="offset points",
                        fontsize=7, color=color)
        ax.set_xscale("log")
        ax.set_title(f"{name} ({s.n_obs.iloc[0]} obs.)", fontsize=10)
        ax.set_xlabel("CPU µs per observation (median)", fontsize=8)
        ax.set_ylabel("error rate" if (s.metric == "Accuracy").all() else "MAE", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.margins(x=0.35, y=0.15)
        ax.grid(True, which="major", lw=0.3)
    for ax in axes.flat[len(streams):]:
        ax.axis("off")
    fig.suptitle("Progressive validation on streams bundled with River: lower left is better "
                 "(red: ours, blue: River, gray: baselines)", fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="2 seeds, 1 timing round, first 300 observations")
    ap.add_argument("--out", type=pathlib.Path, default=None,
                    help=f"CSV to write (default {CSV.relative_to(ROOT)}; with --quick, "
                         f"{LOCAL.relative_to(ROOT)}/{CSV.name})")
    ap.add_argument("--plot", type=pathlib.Path, default=None,
                    help=f"PNG to write (default {PNG.relative_to(ROOT)}; with --quick, "
                         f"{LOCAL.relative_to(ROOT)}/{PNG.name})")
    args = ap.parse_args(argv)
    csv = args.out or (LOCAL / CSV.name if args.quick else CSV)
    png = args.plot or (LOCAL / PNG.name if args.quick else PNG)
    # both written at the end: a path that cannot be must fail before the runs
    from online_lstm.cli import csv_out

    csv_out(ap, csv)
    csv_out(ap, png, "--plot", "PNG")
    load = os.getloadavg()[0]  # other jobs on the machine: the times are only as good as this
    seeds = [0, 1] if args.quick else [0, 1, 2, 3, 4]
    repeats = 1 if args.quick else 9
    cut = 300 if args.quick else None

    def take(xs):
        return xs if cut is None else xs[:cut]

    jobs = []
    for name, ds, period, mult, snarimax in [
        ("AirlinePassengers", datasets.AirlinePassengers(), 12, True,
         dict(p=12, d=1, q=12, m=12, sd=1)),  # the configuration of River's SNARIMAX docstring
        ("WaterFlow", datasets.WaterFlow(), 24, False, dict(p=2, d=1, q=1)),  # seasonal diverged
    ]:
        s = series_streams([y for _, y in ds], period)
        s = {k: (take(v) if k != "first" else v) for k, v in s.items()}
        jobs.append((name, s, models_for_series(period, mult, snarimax), metrics.MAE))
    for name, ds in [("TrumpApproval", datasets.TrumpApproval()), ("ChickWeights", datasets.ChickWeights()),
                     ("SP500Stocks", datasets.SP500Stocks())]:
        data = take(list(ds))
        jobs.append((name, {"features": data, "first": 0.0}, models_for_features(), metrics.MAE))
    jobs.append(("Phishing", {"features": take(list(datasets.Phishing()))}, models_for_classification(),
                 metrics.Accuracy))

    # warm-up (untimed): the first calls in a process pay one-off costs
    warm = list(datasets.TrumpApproval().take(50))
    run(warm, scaled(LSTMRegressor(seed=0)), metrics.MAE())
    run(warm, scaled(linear_model.LinearRegression()), metrics.MAE())

    n_runs = sum((len(seeds) if seeded else 1) + repeats for _, _, specs, _ in jobs for *_, seeded in specs)
    rows = []
    with warnings.catch_warnings(), tqdm(total=n_runs, unit="run") as bar:
        warnings.simplefilter("ignore")
        for name, streams, specs, metric in jobs:
            n_in = len(streams["features"][0][0]) if "features" in streams else 1
            rows += evaluate(name, streams, specs, metric, seeds, repeats, bar,
                             alone_n_in=n_in if metric is metrics.MAE else None)
    df = pd.DataFrame(rows)
    df["machine"] = (f"{platform.machine()} {os.cpu_count()} cpu, python {platform.python_version()}, "
                     f"numba {numba.__version__}, river {river.__version__}, "
                     f"load average {load:.1f} at start")
    csv.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(csv, index=False, float_format="%.6g")
    plotted = plot(df, png) is not False
    print(f"wrote {csv}" + (f" and {png}" if plotted else ""))
    order = {name: i for i, name in enumerate(dict.fromkeys(df.dataset))}
    df = df.sort_values(["dataset"], key=lambda c: c.map(order), kind="stable")
    print(markdown(df))


if __name__ == "__main__":
    main()
