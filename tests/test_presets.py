"""The presets hold the paper's configurations (Tables 10 and 11, spec §5.7)."""

import numpy as np
import pytest

from online_lstm.paper import TABLE10
from online_lstm.presets import GROUPS, PRESETS, select

LSTM = select("all")  # the competitor rows: tests/test_competitor_presets.py


def test_every_table10_row_has_a_preset():
    covered = {PRESETS[i].table10 for i in LSTM}
    assert covered == set(TABLE10)


@pytest.mark.parametrize("pid", LSTM)
def test_weight_count_and_task_shape(pid):
    p = PRESETS[pid]
    m = p.learner(seed=0)
    assert m.layout.n_params == p.n_weights == TABLE10[p.table10][1]
    task = p.make_task(seed=0)
    assert (task.n_in, task.n_out) == (m.layout.n_in, m.layout.n_out)


@pytest.mark.parametrize("pid", list(PRESETS))
def test_quick_version_keeps_the_rules(pid):
    p, q = PRESETS[pid], PRESETS[pid].quick_version()
    assert q.limit <= p.limit
    changed = {k for k in p.options if p.options[k] != q.options[k]}
    assert changed <= {"limit", "test_size"}


def test_paper_trial_counts_and_rates():
    trials = {"1": 30, "2a": 18, "2b": 18, "2c": 20, "3a": 10, "3b": 10, "3c": 10, "4": 10, "5": 10,
              "6a": 20, "6b": 10, "2a-rtrl": 18, "2a-bptt": 18, "1-rtrl": 30}
    for p in PRESETS.values():
        assert p.trials == trials[p.group], p.id
    lr = {"1-1": 0.1, "1-2": 0.1, "1-3": 0.2, "1-4": 0.5, "1-5": 0.5, "2a": 1.0, "2c-4": 0.01,
          "3a-T100-N1": 1.0, "3c-T100-N3": 0.1, "4-3": 0.5, "5": 0.1, "6a": 0.5, "6b": 0.1,
          "2a-rtrl-p4-lr1": 1.0, "2a-rtrl-p4-lr4": 4.0, "2a-rtrl-p100-lr10": 10.0,
          "2a-bptt-p100-lr4": 4.0, "1-rtrl-h3": 0.05, "1-rtrl-h12": 0.1}
    for pid, rate in lr.items():
        assert PRESETS[pid].learner().lr == rate


def test_gate_biases_as_table10():
    w = PRESETS["1-1"].learner(seed=1).get_weights()
    np.testing.assert_array_equal(w["b_out"], [-1, -2, -3, -4])
    assert np.all(np.abs(w["b_in"]) <= 0.2) and len(set(w["b_in"])) == 4  # "r"
    w = PRESETS["3b-T100-N1"].learner(seed=1).get_weights()
    np.testing.assert_array_equal(w["b_in"], [-1, -3, -5])
    np.testing.assert_array_equal(w["b_out"], [-2, -4, -6])
    w = PRESETS["6b"].learner(seed=1).get_weights()
    np.testing.assert_array_equal(w["b_in"], [-2, -4, -6])
    assert np.all(np.abs(w["b_out"]) <= 0.1)
    w = PRESETS["2c-7"].learner(seed=1).get_weights()
    assert "b_in" not in w and np.all(np.abs(w["W_in"]) <= 0.2)


def test_task_parameters_follow_the_tables():
    assert PRESETS["2c-7"].task_kwargs == dict(q=1000, p=200)
    assert PRESETS["3b-T1000-N1"].task_kwargs == dict(variant="b", T=1000, N=1)
    assert PRESETS["4-2"].task_kwargs["T"] == 500
    assert PRESETS["6b"].task_kwargs == dict(variant="b")
    assert PRESETS["2c-1"].options["threshold"] == 0.2 and PRESETS["2b"].options["threshold"] == 0.25
    assert PRESETS["4-1"].options["beta"] == 0.01 and PRESETS["6a"].options["beta"] == 0.1
    assert PRESETS["5"].options["milestones"] == (140, 13)


def test_select():
    assert select("2c") == [f"2c-{i}" for i in range(1, 10)]
    assert select("3") == GROUPS["3"] and len(select("3")) == 8
    assert select(["6b", "1-1", "1"]) == ["1-1", "1-2", "1-3", "1-4", "1-5", "6b"]
    assert select("all") == [i for i in PRESETS if PRESETS[i].competitor is None]
    with pytest.raises(KeyError, match="unknown preset"):
        select("7")


def test_with_options():
    p = PRESETS["1-5"].with_options(targets="legal", update="sequence", check_every=1000)
    assert p.task_kwargs["targets"] == "legal" and p.options["check_every"] == 1000
    assert p.learner().update == "sequence"
    assert PRESETS["1-5"].options["check_every"] == 100  # the registered preset is unchanged
    with pytest.raises(KeyError, match="no option"):
        PRESETS["1-5"].with_options(momentum=0.9)


@pytest.mark.parametrize("pid, change, message", [
    ("6a", dict(limit="abc"), "option limit must be an integer >= 1; got 'abc'"),
    ("6a", dict(limit=-5), "option limit must be an integer >= 1"),
    ("6a", dict(limit=2.5), "option limit must be an integer >= 1"),
    ("6a", dict(limit=True), "option limit must be an integer >= 1"),
    ("6a", dict(threshold=0), "option threshold must be a finite number > 0"),
    ("6a", dict(beta=float("nan")), "option beta must be a finite number > 0"),
    ("1-5", dict(rule="loose"), "option rule must be one of ['strict', 'argmax']"),
    ("1-5", dict(check_every=0), "option check_every must be an integer >= 1"),
    ("2a", dict(construct="yes"), "option construct must be True or False"),
    ("5", dict(milestones=(140, -13)), "option milestones must be a tuple of integers >= 1"),
    ("5", dict(milestones=(13, 140)), "option milestones must be decreasing, e.g. (140, 13)"),
    ("5", dict(milestones=(140, 140)), "option milestones must be decreasing"),
    ("5", dict(window=100), "option milestones (140, 13) would be met as soon as the window fills"),
    ("5", dict(milestones=(5000, 13)), "the first must be at most the window (2000 sequences)"),
    ("4-1", dict(avg_error="rmse"), "option avg_error must be one of ['mae', 'mse']"),
    ("6a", dict(lr=-1), "preset 6a: lr must be a finite number >= 0"),
    ("6a", dict(in_gate_bias=(1, 2, 3)), "preset 6a: in_gate_bias must be"),
    ("1-5", dict(targets="fuzzy"), "preset 1-5: "),
])
def test_with_options_refuses_bad_values_at_once(pid, change, message):
    """A bad value fails when the option is set (``--set`` before any trial runs), saying what
    the option takes, instead of inside a trial or as a run that means nothing."""
    with pytest.raises(ValueError) as info:
        PRESETS[pid].with_options(**change)
    assert message in str(info.value)


def test_with_options_takes_good_values_of_every_kind():
    assert PRESETS["6a"].with_options(limit=1e6).options["limit"] == 1_000_000  # limit=1e6 on the CLI
    assert isinstance(PRESETS["6a"].with_options(limit=1e6).options["limit"], int)
    assert PRESETS["5"].with_options(milestones=(100, 10)).options["milestones"] == (100, 10)
    assert PRESETS["1-5"].with_options(rule="argmax", check_every=1).options["rule"] == "argmax"
    assert PRESETS["6a"].with_options(threshold=1).options["threshold"] == 1
    for p in PRESETS.values():  # every quick version passes its own checks
        p.quick_version()


def test_architecture_diagnostics_leave_the_paper_net_and_say_so():
    """``--set bias=all`` adds output and cell biases to Experiment 1's net
    (7 + 6 weights) and the records' options text names the change."""
    from online_lstm.experiments import _option_text

    base = PRESETS["1-5"]
    p = base.with_options(bias="all", init_range=0.1)
    m = p.learner(seed=0)
    assert base.learner(seed=0).layout.n_params == 276
    assert m.layout.n_params == 276 + 7 + 6
    assert np.all(np.abs(m.get_weights()["W_k"]) <= 0.1)
    assert _option_text(p) == "bias=all init_range=0.1"
    assert _option_text(base) == ""
    fg = PRESETS["2c-2"].with_options(forget_gate=True, bias="gates").learner(seed=0)
    assert fg.forget_gate and "W_phi" in fg.get_weights()
    sq = PRESETS["2a"].with_options(g="g2", h="h1")
    assert PRESETS["2a"].learner(seed=0).get_params()["g"] == "g1"
    m = sq.learner(seed=0)
    assert (m.g, m.h) == ("g2", "h1") and m.layout.n_params == 10504  # same weights, other squashing
    assert _option_text(sq) == "g=g2 h=h1"


def test_igb_range_narrows_only_the_random_input_gate_biases():
    """Spec §8 item 6: Table 10's "r" for Experiment 1's input-gate biases,
    read as [-0.1, 0.1] instead of the experiment's [-0.2, 0.2].  The same
    draws, halved; every other weight and the output-gate biases unchanged."""
    from online_lstm.experiments import _option_text

    base = PRESETS["1-5"]
    p = base.with_options(igb_range=0.1)
    w0, w1 = base.learner(seed=3).get_weights(), p.learner(seed=3).get_weights()
    assert np.all(np.abs(w0["b_in"]) <= 0.2) and np.all(w0["b_in"] != 0.0)
    assert np.array_equal(w1["b_in"], w0["b_in"] * 0.5)
    assert np.all(np.abs(w1["b_in"]) <= 0.1)
    for name in w0:
        if name != "b_in":
            assert np.array_equal(w0[name], w1[name]), name
    assert np.array_equal(w1["b_out"], [-1.0, -2.0, -3.0])
    assert _option_text(p) == "igb_range=0.1"
    # the narrowed biases are the learner's own parameters: a clone (and a
    # checkpoint, which stores get_params()) starts from the same weights
    m = p.learner(seed=3)
    assert np.array_equal(m.get_params()["in_gate_bias"], w1["b_in"])
    assert np.array_equal(m.clone().get_weights()["b_in"], w1["b_in"])
    with pytest.raises(ValueError, match="fixed at"):  # 3a's input-gate biases are -1, -3, -5
        PRESETS["3a-T100-N3"].with_options(igb_range=0.05).learner(seed=0)
    with pytest.raises(ValueError, match="absent"):  # 2c has no biases
        PRESETS["2c-1"].with_options(igb_range=0.1).learner(seed=0)
    with pytest.raises(ValueError, match="init_range"):
        p.with_options(igb_range=0.3).learner(seed=0)


def test_gate_bias_options_set_only_the_gate_biases():
    """``--set in_gate_bias=(-3, -6)`` on Experiment 5 (whose gate biases are
    random, Table 10 "r") gives Experiment 4's input-gate biases, and every
    other weight keeps its draw."""
    from online_lstm.experiments import _option_text

    base = PRESETS["5"]
    p = base.with_options(in_gate_bias=(-3, -6))
    w0, w1 = base.learner(seed=4).get_weights(), p.learner(seed=4).get_weights()
    assert list(w1["b_in"]) == [-3.0, -6.0] and list(w0["b_in"]) != [-3.0, -6.0]
    for k in w0:
        if k != "b_in":
            np.testing.assert_array_equal(w0[k], w1[k])
    assert _option_text(p) == "in_gate_bias=(-3, -6)"
    w2 = base.with_options(out_gate_bias=(-1.0, -2.0)).learner(seed=4).get_weights()
    assert list(w2["b_out"]) == [-1.0, -2.0] and np.array_equal(w2["b_in"], w0["b_in"])
