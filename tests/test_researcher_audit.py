"""A researcher's path through the package: records of one trial that disagree,
one's own learner in the progressive validation, the seeds of a trial's data
streams, and the documentation of these."""

import dataclasses
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from online_lstm.cli import main
from online_lstm.evaluate import progressive_val
from online_lstm.experiments import compare, read_records, run_trial
from online_lstm.presets import PRESETS
from online_lstm.tasks import Adding

RECORDS = Path(__file__).resolve().parent.parent / "reproduction" / "records"


# ---------------------------------------------------------------------------
# compare: a trial given twice with different results
# ---------------------------------------------------------------------------
def _two_copies(tmp_path, edit=None):
    """A committed records file, and a copy of it as a replay on other code
    would write it (other times and version), with ``edit`` applied to row 0."""
    df = read_records(RECORDS / "stageB-2.csv")
    replay = df.copy()
    replay["wall_s"] = replay["wall_s"] * 2
    replay["version"] = "0123456789"
    for col, value in (edit or {}).items():
        replay[col] = replay[col].astype(object)
        replay.loc[replay.index[0], col] = value
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    df.to_csv(a, index=False)
    replay.to_csv(b, index=False)
    return df, a, b


def test_compare_counts_an_agreeing_replay_once_without_a_warning(tmp_path, capsys):
    df, a, b = _two_copies(tmp_path)
    table = compare(pd.concat([df, read_records(b)], ignore_index=True))
    assert table.attrs["duplicates"] == len(df)
    assert table.attrs["conflicts"]["count"] == 0
    assert main(["compare", str(a), str(b)]) == 0
    err = capsys.readouterr().err
    assert f"note: {len(df)} record(s) repeat" in err and "differ" not in err


def test_compare_says_when_repeats_of_a_trial_disagree(tmp_path, capsys):
    df, a, b = _two_copies(tmp_path, edit={"sequences": 12345})
    first = df.iloc[0]
    table = compare(pd.concat([df, read_records(b)], ignore_index=True))
    c = table.attrs["conflicts"]
    assert c["count"] == 1 and c["columns"] == ["sequences"]
    assert c["versions"] == sorted([str(first["version"]), "0123456789"])
    # the first file's record is the one counted, in either order of the files
    ours = df[df["preset"] == first["preset"]]
    assert ours["success"].all()
    theirs = ours["sequences"].replace({ours["sequences"].iloc[0]: 12345})
    for files, seqs in (((a, b), ours["sequences"]), ((b, a), theirs)):
        assert main(["compare", *map(str, files)]) == 0
        out, err = capsys.readouterr()
        assert "warning: 1 of them differ from the record counted (in sequences; versions" in err
        row = next(ln for ln in out.splitlines() if ln.startswith(first["preset"]))
        assert f" / {round(seqs.mean()):,} " in row


def test_compare_does_not_compare_a_field_one_record_lacks(tmp_path):
    df, _, b = _two_copies(tmp_path)
    old = read_records(b).drop(columns=["test_mse"])  # a record written before the field existed
    table = compare(pd.concat([df, old], ignore_index=True))
    assert table.attrs["conflicts"]["count"] == 0


# ---------------------------------------------------------------------------
# a learner of one's own in the progressive validation
# ---------------------------------------------------------------------------
def _stream(batch):
    for x, y, new_sequence in zip(batch.X, batch.Y, batch.resets):
        yield x, (None if np.isnan(y).all() else y), new_sequence


class _Logged:
    """A learner of one's own that logs the calls the loop makes."""

    def __init__(self, answer=0.5):
        self.calls, self.answer = [], answer

    def reset(self):
        self.calls.append(("reset",))

    def predict_one(self, x):
        self.calls.append(("predict", x.copy()))
        return self.answer

    def learn_one(self, x, y):
        self.calls.append(("learn", x.copy(), y))


def test_own_learner_gets_the_documented_calls():
    b = Adding(T=20, seed=[0, 1]).sample(3)
    model = _Logged()
    progressive_val(_stream(b), model, "mae", step=1000)
    expected = []
    for x, y, r in zip(b.X, b.Y, b.resets):
        if r:
            expected.append(("reset",))
        expected.append(("predict", x))
        if not np.isnan(y).all():  # learn_one right after the step, same x, target rows only
            expected.append(("learn", x, y))
    assert [c[0] for c in model.calls] == [c[0] for c in expected]
    for got, want in zip(model.calls, expected):
        for g, w in zip(got[1:], want[1:]):
            assert np.array_equal(g, w)


def test_own_learner_scored_against_the_targets():
    b = Adding(T=20, seed=[0, 1]).sample(40)
    df = progressive_val(_stream(b), _Logged(0.5), ["mae", "rmse"], step=10 ** 6)
    err = b.target[:, 0] - 0.5
    assert df["mae"].iloc[-1] == pytest.approx(np.mean(np.abs(err)))
    assert df["rmse"].iloc[-1] == pytest.approx(np.sqrt(np.mean(err ** 2)))


def test_predictions_that_are_all_none_are_warned_about_once():
    b = Adding(T=20, seed=[0, 1]).sample(5)
    with pytest.warns(RuntimeWarning, match=r"_Logged.predict_one returned None .* for all 1 observations with a target so far.*of 30 obs") as rec:
        df = progressive_val(_stream(b), _Logged(None), "mae", step=30)
    assert len(df) > 2  # several rows, one warning
    assert len([w for w in rec if issubclass(w.category, RuntimeWarning)]) == 1
    assert df["mae"].iloc[-1] == 0.0  # what the warning is about: nothing scored


def test_a_first_none_before_a_scored_prediction_is_not_warned_about():
    class Late(_Logged):  # says nothing before its first label, as a River classifier does
        def predict_one(self, x):
            return None if not any(c[0] == "learn" for c in self.calls) else 0.5

    b = Adding(T=20, seed=[0, 1]).sample(5)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        df = progressive_val(_stream(b), Late(), "mae", step=1000)
    assert df["mae"].iloc[-1] > 0


def test_a_river_estimator_predicting_none_is_not_warned_about():
    river = pytest.importorskip("river")
    from river import tree

    model = tree.HoeffdingTreeClassifier()  # None before its first label, as River's loop expects
    stream = [({"a": float(i % 2)}, i % 2 == 0) for i in range(20)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        progressive_val(stream, model, "accuracy", step=10)
    assert river is not None


# ---------------------------------------------------------------------------
# the seeds of a trial's data streams, as the README gives them
# ---------------------------------------------------------------------------
def _seeds_of(pid, trial, **options):
    """The (seed, sets_seed) of every task a trial of ``pid`` builds."""
    p = PRESETS[pid]
    made = []

    class Recording(p.task):
        def __init__(self, *args, seed=None, **kw):
            made.append((seed, kw.get("sets_seed")))
            super().__init__(*args, seed=seed, **kw)

    rec = run_trial(dataclasses.replace(p.with_options(**options), task=Recording), trial)
    return rec, [(list(s), None if t is None else list(t)) for s, t in made]


def test_trial_data_seeds_are_the_documented_ones():
    rec, made = _seeds_of("6a", 2, limit=20, test_size=5)
    d = rec["data_seed"]
    assert d == 2 and made == [([d, 1], None), ([d, 2], None)]
    rec, made = _seeds_of("3a-T100-N3", 1, limit=20, check_every=10, stop_test_size=4, test_size=5)
    d = rec["data_seed"]
    assert sorted(made) == [([d, 1], None), ([d, 2], None), ([d, 3], None)]
    rec, made = _seeds_of("1-5", 12, limit=20, check_every=20)  # weight seed 12, data set 1
    assert (rec["seed"], rec["data_seed"]) == (12, 1)
    assert made == [([12, 1], [1, 3])]


def test_readme_section_names_the_seeds():
    text = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert "make_task(seed=[d, 1])" in text and "make_task(seed=[d, 2])" in text
    assert "sets_seed=[d, 3]" in text


# ---------------------------------------------------------------------------
# list -v: what --set changes in the net, and what --quick changes
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("pid", ["6a", "1-5", "2a-rtrl-p4-lr10"])
def test_list_verbose_shows_the_net_and_the_quick_budget(pid, capsys):
    from online_lstm.paper import TABLE10

    p = PRESETS[pid]
    assert main(["list", "-v", pid]) == 0
    out = capsys.readouterr().out
    assert f"  --quick: {p.quick}" in out
    net = p.competitor.kwargs if p.competitor else TABLE10[p.table10][0]
    line = next(ln for ln in out.splitlines() if ln.startswith("  net: "))
    for k, v in net.items():  # the arguments --set bias, init_range, in_gate_bias ... change
        assert f"'{k}': {v!r}" in line
    assert line.startswith(f"  net: {p.competitor.method if p.competitor else 'OnlineLSTM'}{{")


def test_st3_average_is_recorded_when_the_rule_holds_only_as_documented():
    """A trial stopped by its limit has no train_avg_* fields, as the notes say."""
    rec = run_trial(PRESETS["6a"].with_options(limit=20, test_size=5), 0)
    assert not rec["success"] and not any(k.startswith("train_avg") for k in rec)
    assert any("empty for a trial that reaches its limit" in n for n in PRESETS["6a"].notes)


def test_a_record_names_the_software_that_ran_it_and_compare_ignores_it():
    """The Python, NumPy and Numba versions were not recorded; they differ
    between machines, so two records of one trial may differ in them."""
    import platform

    import numba

    from online_lstm.experiments import _RUN_FIELDS

    rec = run_trial(PRESETS["6a"].with_options(limit=20, test_size=5), 0)
    assert rec["software"] == (f"python {platform.python_version()}, numpy {np.__version__}, "
                               f"numba {numba.__version__}")
    assert "software" in _RUN_FIELDS
    other = dict(rec, software="python 3.10.0, numpy 1.24.0, numba 0.59.0")
    table = compare(pd.DataFrame([{**rec, "version": "a"}, {**other, "version": "a"}]))
    assert table.attrs["duplicates"] == 1 and table.attrs["conflicts"]["count"] == 0
