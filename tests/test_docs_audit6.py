"""Docs audit 6: statements of README.md checked against the code they describe."""

from __future__ import annotations

import re
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


def test_compare_ignores_in_a_repeated_trial_the_fields_the_readme_names():
    import pandas as pd

    from online_lstm.experiments import _RUN_FIELDS, compare, read_records

    said = README.split("if its records differ in more than ", 1)[1].split(", as records of", 1)[0]
    names = {"trial": "trial index", "version": "version", "software": "software",
             "wall_s": "times", "cpu_s": "times", "steps_per_s": "times"}
    assert set(_RUN_FIELDS) == set(names)
    assert all(names[f] in said for f in _RUN_FIELDS), said
    rec = read_records(ROOT / "reproduction" / "records" / "exp1.csv").query("preset == '1-5'").head(1)
    rec = rec.assign(software="Python 3.11.7, NumPy 2.4.6, Numba 0.68.1")
    replay = rec.assign(software="Python 3.12.1, NumPy 2.5.0, Numba 0.68.1", version="abc1234",
                        trial=0, wall_s=1.0, cpu_s=1.0, steps_per_s=1.0)
    assert compare(pd.concat([rec, replay])).attrs["conflicts"]["count"] == 0
    other = replay.assign(wrong=rec["wrong"] + 1)
    assert compare(pd.concat([rec, other])).attrs["conflicts"]["columns"] == ["wrong"]


def test_readme_names_every_learner_option_of_set():
    from online_lstm.presets import _LEARNER_OPTIONS

    said = README.split("Every `--set` change is written to the records' `options` column", 1)[1]
    said = said.split("Experiment 1's random input-gate biases", 1)[0]
    assert set(re.findall(r"`(\w+)`", said)) - {"options"} == set(_LEARNER_OPTIONS)


def _help_flags(capsys, command: str) -> set:
    import pytest

    from online_lstm import cli

    with pytest.raises(SystemExit):
        cli.main([command, "--help"])
    return set(re.findall(r"--[a-z][a-z-]*", capsys.readouterr().out))


def test_flags_the_readme_gives_online_lstm_exist(capsys):
    text = (ROOT / "README.md").read_text()
    section = text.split("## Reproducing the paper", 1)[1].split("## How it is built", 1)[0]
    ours = [line for line in section.splitlines() if not re.search(r"\bdask (scheduler|worker)\b", line)]
    said = set(re.findall(r"--[a-z][a-z-]*", "\n".join(ours)))
    known = set().union(*(_help_flags(capsys, c) for c in ("reproduce", "list", "status", "compare")))
    assert said and said <= known, said - known
    bench = README.split("`online-lstm bench` (a few seconds)", 1)[1].split("writes the table as a CSV", 1)[0]
    said = set(re.findall(r"--[a-z][a-z-]*", bench))
    assert {"--calls", "--net", "--preset", "--max-delay", "--out"} <= said <= _help_flags(capsys, "bench")
