"""The paper's competitor rows as presets (Tables 1 and 2, spec §5.1, §5.2, §2.8)."""

import numpy as np
import pandas as pd
import pytest

from online_lstm.baselines import BPTT, RTRL
from online_lstm.cli import main
from online_lstm.experiments import compare, format_table, reproduce, run_trial
from online_lstm.presets import GROUPS, PRESETS, select

COMPETITORS = select("competitors")


def test_the_paper_rows_are_all_there():
    table2 = {(p.competitor.method, p.task_kwargs["p"], p.learner().lr)
              for p in map(PRESETS.get, COMPETITORS) if p.group.startswith("2a-")}
    want = {("RTRL", p, lr) for p in (4, 10, 100) for lr in (1.0, 4.0, 10.0)}
    want |= {("BPTT", 100, lr) for lr in (1.0, 4.0, 10.0)}
    assert table2 == want
    assert {PRESETS[i].learner().lr for i in GROUPS["1-rtrl"]} == {0.05, 0.1}


@pytest.mark.parametrize("p, n", [(4, 36), (10, 144), (100, 10404)])
def test_table2_net_is_the_papers(p, n):
    """Spec §2.8: the hidden unit gets p + 1 inputs plus a self weight; each of the p + 1
    outputs gets the p + 1 inputs plus the hidden unit; no biases."""
    for pid in [i for i in COMPETITORS if PRESETS[i].task_kwargs.get("p") == p]:
        pre = PRESETS[pid]
        m = pre.learner(seed=0)
        assert pre.n_weights == m.n_params == n == (p + 2) ** 2
        shapes = {k: v.shape for k, v in m.get_weights().items()}
        assert shapes == {"W_hx": (1, p + 1), "W_hh": (1, 1), "W_kx": (p + 1, p + 1),
                          "W_kh": (p + 1, 1)}
        assert all(np.all(np.abs(w) <= 0.2) for w in m.get_weights().values())
        assert isinstance(m, BPTT if "bptt" in pid else RTRL)
        task = pre.make_task(seed=0)
        assert (task.n_in, task.n_out) == (m.network.n_in, m.network.n_out)
        assert pre.options["where"] == "all" and not pre.options["construct"]
        assert pre.trials == 18 and pre.limit == 5_000_000


@pytest.mark.parametrize("pid, hidden, n", [("1-rtrl-h3", 3, 170), ("1-rtrl-h12", 12, 494)])
def test_reber_net_is_fully_recurrent(pid, hidden, n):
    """Table 1's estimates: 7 inputs, hidden + 7 fully recurrent units, no biases."""
    pre = PRESETS[pid]
    m = pre.learner(seed=0)
    units = hidden + 7
    assert pre.n_weights == m.n_params == n == units * (7 + units)
    assert {k: v.shape for k, v in m.get_weights().items()} == {"W_x": (units, 7),
                                                                 "W_y": (units, units)}
    assert pre.protocol == PRESETS["1-1"].protocol and pre.options["rule"] == "strict"
    assert any("short strings" in note for note in pre.notes)


def test_paper_figures():
    rows = {pid: PRESETS[pid].paper[0] for pid in COMPETITORS}
    assert (rows["2a-rtrl-p4-lr1"].success_pct, rows["2a-rtrl-p4-lr1"].mean_sequences) == (78, 1_043_000)
    assert (rows["2a-rtrl-p4-lr4"].success_pct, rows["2a-rtrl-p4-lr4"].mean_sequences) == (56, 892_000)
    assert (rows["2a-rtrl-p4-lr10"].success_pct, rows["2a-rtrl-p4-lr10"].mean_sequences) == (22, 254_000)
    for pid in COMPETITORS:
        if "p10-" in pid or "p100-" in pid:
            assert rows[pid].success_pct == 0 and ">5,000,000" in rows[pid].label
    assert rows["1-rtrl-h3"].mean_sequences == 173_000 and rows["1-rtrl-h12"].mean_sequences == 25_000


def test_all_means_the_lstm_rows():
    """``reproduce all`` keeps its meaning (every LSTM row); the competitors are named apart."""
    lstm = select("all")
    assert not set(lstm) & set(COMPETITORS) and set(lstm) | set(COMPETITORS) == set(PRESETS)
    assert all(PRESETS[i].competitor is None for i in lstm)
    assert not set(select("2")) & set(COMPETITORS) and not set(select("1")) & set(COMPETITORS)
    assert select(["all", "competitors"]) == list(PRESETS)
    assert all(PRESETS[i].versus in PRESETS for i in COMPETITORS)


def test_streak_with_a_competitor_matches_a_per_step_loop():
    """The runner's chunked streak (restore and replay) on an RTRL learner stops where a
    loop of learn_one calls, one sequence at a time, stops."""
    pre = PRESETS["2a-rtrl-p4-lr10"].with_options(streak=4, threshold=0.45, test_size=50,
                                                  limit=100_000)
    rec, learned = run_trial(pre, trial=0, seed=2, return_learner=True)
    m = pre.learner(seed=2)
    task = pre.make_task(seed=[2, 1])
    run = seen = 0
    while run < 4:
        b = task.sample(1)
        m.reset()
        worst = max(np.max(np.abs(m.learn_one(x, y) - y)) for x, y in zip(b.X, b.Y))
        seen += 1
        run = run + 1 if worst < 0.45 else 0
    assert rec["success"] and rec["streak_end"] == seen and rec["sequences"] == seen - 4
    for name, w in learned.get_weights().items():
        np.testing.assert_array_equal(w, m.get_weights()[name])


def test_rtrl_solves_p4():
    """The qualitative result at p = 4: RTRL (lr 10) learns the 4-step lag; the frozen test
    that follows the 10,000-sequence streak finds no sequence with an error of 0.25."""
    rec = run_trial("2a-rtrl-p4-lr10", trial=0, seed=0)
    assert rec["success"] and rec["sequences"] < 5_000_000
    assert rec["test_size"] == 10_000 and rec["wrong"] == 0


def test_quick_run_writes_records(tmp_path, capsys):
    df = reproduce(["2a-rtrl-p10-lr1", "2a-bptt-p100-lr1", "1-rtrl-h12"], quick=True, jobs=1,
                   out=tmp_path, name="c", progress=False)
    saved = pd.read_csv(tmp_path / "c.csv")
    assert list(saved["preset"]) == ["2a-rtrl-p10-lr1", "2a-bptt-p100-lr1", "1-rtrl-h12"]
    assert list(saved["sequences"]) == [10_000, 200, 1_000] and not saved["success"].any()
    assert saved["options"].isna().all()  # the presets as registered
    text = format_table(compare(df))
    assert "173,000" not in text and "25,000" in text and "BPTT, p = 100" in text
    assert main(["list", "competitors"]) == 0
    out = capsys.readouterr().out
    assert "10404" in out and "1,043,000" in out and "494" in out
