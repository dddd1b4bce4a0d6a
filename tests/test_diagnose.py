"""scripts/diagnose.py 2a-escape: it replays the runner's own 2a trial, and its
probes (made on a copy of the state) leave that trial untouched."""

import importlib.util
import pathlib
import re

from online_lstm.experiments import run_trial
from online_lstm.presets import PRESETS

SET = ["--set", "plateau_block=10", "--set", "plateau_patience=1"]  # the cell joins early


def _diagnose():
    path = pathlib.Path(__file__).resolve().parents[1] / "scripts" / "diagnose.py"
    spec = importlib.util.spec_from_file_location("diagnose", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _rows(capsys, diagnose, every, sequences):
    diagnose.main(["2a-escape", "--seed", "1", "--every", str(every), "--sequences", str(sequences), *SET])
    out = capsys.readouterr().out
    joins = re.search(r"the cell joins after ([\d,]+) sequences", out)
    rows = {int(line.split()[0].replace(",", "")): line.split("|", 1)[1]
            for line in out.splitlines() if re.match(r"\s+[\d,]+ ", line)}
    return int(joins.group(1).replace(",", "")), rows


def test_2a_escape_replays_the_runner_trial_and_its_probes_change_nothing(capsys):
    diagnose = _diagnose()
    joins, sparse = _rows(capsys, diagnose, 600, 1200)
    joins_dense, dense = _rows(capsys, diagnose, 100, 1200)
    # the runner's trial 0 of ``reproduce 2a --seed 1`` with the same options
    p = PRESETS["2a"].with_options(plateau_block=10, plateau_patience=1, limit=1200, test_size=10)
    rec = run_trial(p, 0, 1)
    assert joins == joins_dense == rec["cell_added_at"] < 1200
    common = sorted(set(sparse) & set(dense))
    assert common and max(common) >= 1200
    for n in common:  # columns after the first "|": states, outputs, gates, weights
        assert sparse[n] == dense[n], n
    assert len(dense) > 2 * len(sparse)  # the dense run probed many more times in between


def _last_row(capsys, diagnose, every, rows):
    diagnose.main(["cell-states", "--preset", "5", "--seed", "6", "--every", str(every), "--rows", str(rows)])
    lines = [ln for ln in capsys.readouterr().out.splitlines() if re.match(r"\s+[\d,]+ ", ln)]
    assert len(lines) == rows
    return lines[-1]


def test_cell_states_probes_leave_the_trial_untouched(capsys):
    """Probing every 500 sequences or once at 1,000 gives the same last row,
    and its output weights are those of the runner's own trial there."""
    diagnose = _diagnose()
    dense, sparse = _last_row(capsys, diagnose, 500, 2), _last_row(capsys, diagnose, 1000, 1)
    assert dense == sparse and dense.split()[0] == "1,000"
    t = diagnose.Trial(PRESETS["5"], 0, 6)
    t.train(t.preset.make_task(seed=[6, 1]).sample(1000))
    w_k = " ".join(f"{v:.2f}".replace("-0.00", "0.00") for v in t.m.get_weights()["W_k"].ravel())
    printed = dense.split("W_k [")[1].rstrip("]").split()
    assert [float(v) for v in printed] == [float(v) for v in w_k.split()]
    assert re.search(r"max\|s_c\| \[[\d. ]+\]  h' ([\d.e+-]+ ){4} y_out", dense)
