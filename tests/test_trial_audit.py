"""The experiment runner's Python API as a researcher calls it: run_trial's and
Trial's arguments, Presets made by hand, and the protocols' rules at their
boundaries (a rule that holds in the same chunk as another event, two
milestones met by one sequence), each against what a per-sequence loop of the
spec's rule gives."""

import dataclasses

import numpy as np
import pytest

from online_lstm import experiments
from online_lstm.experiments import ResumeError, Trial, run_trial
from online_lstm.presets import PRESETS

TIMING = {"wall_s", "cpu_s", "steps_per_s"}


def _same(a: dict, b: dict):
    keys = (set(a) | set(b)) - TIMING
    diff = {k: (a.get(k), b.get(k)) for k in keys
            if not (a.get(k) == b.get(k) or (isinstance(a.get(k), float) and isinstance(b.get(k), float)
                                              and np.isnan(a[k]) and np.isnan(b[k])))}
    assert not diff, diff


TINY = PRESETS["6a"].with_options(limit=20, test_size=5)


# ---------------------------------------------------------------------------
# arguments
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("kw, err, message", [
    (dict(trial=-1), ValueError, "trial must be an integer >= 0; got -1"),
    (dict(trial=True), ValueError, "trial must be an integer >= 0; got True"),
    (dict(trial=1.5), ValueError, "trial must be an integer >= 0; got 1.5"),
    (dict(seed=-5), ValueError, "seed must be an integer >= 0; got -5"),
    (dict(seed="3"), ValueError, "seed must be an integer >= 0; got '3'"),
    (dict(seed=2.0), ValueError, "seed must be an integer >= 0; got 2.0"),
    (dict(progress=3), TypeError, "progress must be a callable"),
    (dict(checkpoint="c.npz", checkpoint_every=-1), ValueError, "checkpoint_every must be a number of seconds >= 0"),
    (dict(checkpoint="c.npz", checkpoint_every=float("nan")), ValueError, "checkpoint_every must be"),
    (dict(checkpoint="c.npz", checkpoint_every="60"), ValueError, "checkpoint_every must be"),
    (dict(resume=True), ResumeError, "resume=True needs checkpoint="),
])
def test_bad_trial_arguments_are_refused_before_any_training(kw, err, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # (trial -1 of seed 5 once ran silently with the weights of trial 0 of seed 4)
    built = []
    monkeypatch.setattr(type(TINY), "learner", lambda self, seed=None, **c: built.append(seed))
    kw = dict(dict(trial=0, seed=5), **kw)
    with pytest.raises(err, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        run_trial(TINY, **kw)
    with pytest.raises(err):
        Trial(TINY, kw.pop("trial"), kw.pop("seed"), **kw)
    assert built == [] and not list(tmp_path.iterdir())  # nothing built, nothing written


def test_numpy_integers_are_seeds_and_records_hold_plain_ints():
    rec = run_trial(TINY, trial=np.int64(1), seed=np.uint8(3))
    assert (rec["trial"], rec["seed"], rec["data_seed"]) == (1, 4, 4)
    assert type(rec["trial"]) is int and type(rec["seed"]) is int
    _same(rec, run_trial(TINY, trial=1, seed=3))


@pytest.mark.parametrize("preset, err, message", [
    ("6A", KeyError, "unknown preset '6A' .did you mean '6a'"),
    (6, TypeError, "preset must be a preset id or a Preset; got 6"),
    (None, TypeError, "preset must be a preset id or a Preset; got None"),
])
def test_an_unknown_preset_is_named(preset, err, message):
    with pytest.raises(err, match=message):
        run_trial(preset)


@pytest.mark.parametrize("change, message", [
    (dict(options=dict(TINY.options, limit=0)), "preset 6a: option limit must be an integer >= 1; got 0"),
    (dict(options=dict(TINY.options, threshold=-0.3)), "preset 6a: option threshold must be a finite number > 0"),
    (dict(options={k: v for k, v in TINY.options.items() if k != "beta"}),
     r"preset 6a: its protocol 'st3' needs the options \['beta'\]"),
    (dict(protocol="st4"), "preset 6a: unknown protocol 'st4'"),
])
def test_a_preset_made_by_hand_that_its_protocol_cannot_run_is_refused(change, message):
    """``dataclasses.replace`` skips ``with_options``' checks: run_trial makes
    them (a limit of 0 once ran a 'trial' of no training and a test)."""
    with pytest.raises(ValueError, match=message):
        run_trial(dataclasses.replace(TINY, **change))
    five = PRESETS["5"]
    with pytest.raises(ValueError, match="would be met as soon as the window fills"):
        run_trial(dataclasses.replace(five, options=dict(five.options, window=100)))


@pytest.mark.parametrize("pid", list(PRESETS))
def test_every_registered_preset_and_its_quick_version_passes_the_checks(pid):
    experiments._check_preset(PRESETS[pid])
    experiments._check_preset(PRESETS[pid].quick_version())


# ---------------------------------------------------------------------------
# the rules at their boundaries, against per-sequence loops
# ---------------------------------------------------------------------------
def naive_milestones(preset, trial, seed):
    """Spec §5.5, one sequence at a time: after each training sequence, every
    milestone n_seq not met yet, in turn, that fewer than n_seq of the window's
    sequences (once it is full) are wrong is met by this sequence, with a frozen
    test of these weights."""
    o = preset.options
    s = seed + trial
    m = preset.learner(seed=s)
    task = preset.make_task(seed=[s, 1])
    test = preset.make_task(seed=[s, 2]).sample(o["test_size"])
    recent, met, seen = [], {}, 0
    todo = list(o["milestones"])
    while seen < o["limit"] and todo:
        b = task.sample(1)
        out = m.learn_many(b.X, b.Y, b.resets)
        seen += 1
        recent = (recent + [bool(np.any(np.abs(out[-1] - b.Y[-1]) >= o["threshold"]))])[-o["window"]:]
        while todo and len(recent) == o["window"] and sum(recent) < todo[0]:
            m.reset()
            err = m.predict_many(test.X, test.resets)[test.ends] - test.target
            met[todo.pop(0)] = (seen, int(np.sum(np.any(np.abs(err) >= o["threshold"], axis=1))),
                                float(np.mean(err ** 2)))
    return met


@pytest.mark.parametrize("opts", [
    dict(window=5, milestones=(3, 2), threshold=10.0),     # nothing wrong: both met as the window fills
    dict(window=40, milestones=(30, 20), threshold=0.25),  # 15 of 40 wrong: both met as the window fills
])
@pytest.mark.parametrize("limit", [40, 200])
def test_two_milestones_met_by_one_sequence_are_both_met_there(opts, limit):
    """Exp. 5's test moments: 'as soon as fewer than n_seq of the 2000 most
    recent sequences are wrong'.  When the window first fills with fewer
    wrong than both milestones, both are met by that sequence; the second was
    put off to the next sequence (tested on other weights), and a trial whose
    limit was that sequence failed."""
    p = PRESETS["5"].with_options(limit=limit, test_size=30, **opts)
    want = naive_milestones(p, 1, 0)
    first, second = p.options["milestones"]
    assert want[first][0] == want[second][0] == p.options["window"]  # the case this test is about
    rec = run_trial(p, trial=1, seed=0)
    for ms in (first, second):
        assert (rec[f"n{ms}_sequences"], rec[f"n{ms}_wrong"], rec[f"n{ms}_test_mse"]) == want[ms]
    assert rec["success"] and rec["sequences"] == p.options["window"]
    exact = run_trial(p.with_options(limit=p.options["window"]), trial=1, seed=0)
    assert exact["success"] and exact["n%d_sequences" % second] == p.options["window"]
