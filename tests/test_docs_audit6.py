"""Docs audit 6: statements of README.md checked against the code they describe."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = " ".join((ROOT / "README.md").read_text().split())


def test_data_seed_is_as_the_readme_says_in_experiment_1_and_elsewhere():
    from online_lstm.experiments import run_trial
    from online_lstm.presets import PRESETS

    said = README.split("where `d` is the record's `data_seed` (", 1)[1].split(")", 1)[0]
    assert "`--seed` + k" in said and "Experiment 1" in said and "`--seed` + k // 10" in said
    reber = run_trial(PRESETS["1-5"].with_options(limit=100), trial=13, seed=5)
    assert (reber["seed"], reber["data_seed"]) == (18, 5 + 13 // 10)
    order = run_trial(PRESETS["6a"].with_options(limit=100, test_size=10), trial=13, seed=5)
    assert (order["seed"], order["data_seed"]) == (18, 18)
