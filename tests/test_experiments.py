"""The experiment runner: stopping rules against slow per-sequence loops written
differently, sequential construction against a plain delta rule, parallel runs
against serial ones, and one preset meeting the paper's success criterion."""

from collections import deque

import numpy as np
import pandas as pd
import pytest

from online_lstm import experiments
from online_lstm.experiments import (
    Plateau, TrainingBar, Window, _gate_shut, compare, format_table, read_records, reproduce, run_trial, streak_hit,
)
from online_lstm.presets import PRESETS
from online_lstm.tasks import EmbeddedReber, Task2a, Task2c


# ---------------------------------------------------------------------------
# naive references
# ---------------------------------------------------------------------------
def naive_streak(ok, carry, need):
    run = carry
    for i, good in enumerate(ok):
        run = run + 1 if good else 0
        if run >= need:
            return i
    return -1


def naive_window_sums(values, size):
    d, out = deque(maxlen=size), []
    for v in values:
        d.append(v)
        out.append(sum(d) if len(d) == size else np.nan)
    return np.array(out)


def frozen_end_errors(m, batch):
    m.reset()
    out = m.predict_many(batch.X, batch.resets)
    return out[batch.ends] - batch.target


def naive_window_trial(preset, seed, rule):
    """One sequence at a time: learn, score, keep a deque of the last W scores."""
    o = preset.options
    m = preset.learner(seed=seed)
    task = preset.make_task(seed=[seed, 1])
    test = preset.make_task(seed=[seed, 2]).sample(o["test_size"])
    recent = deque(maxlen=o["window"])
    results, seen = [], 0
    first_all_ok = None
    todo = list(rule)
    while seen < o["limit"] and todo:
        b = task.sample(1)
        out = m.learn_many(b.X, b.Y, b.resets)
        seen += 1
        e = out[-1] - b.Y[-1]
        recent.append((bool(np.any(np.abs(e) >= o["threshold"])), float(np.mean(np.abs(e)))))
        if len(recent) < o["window"]:
            continue
        n_bad = sum(bad for bad, _ in recent)
        avg = sum(err for _, err in recent) / o["window"]
        if n_bad == 0 and first_all_ok is None:
            first_all_ok = seen
        met = (n_bad == 0 and avg < o["beta"]) if todo[0] is None else n_bad < todo[0]
        if met:
            todo.pop(0)
            err = frozen_end_errors(m, test)
            results.append((seen, int(np.sum(np.any(np.abs(err) >= o["threshold"], axis=1))),
                            float(np.mean(err ** 2))))
    return results, first_all_ok


# ---------------------------------------------------------------------------
# building blocks
# ---------------------------------------------------------------------------
def test_streak_hit_matches_loop():
    rng = np.random.default_rng(0)
    for _ in range(300):
        n, need, carry = int(rng.integers(0, 40)), int(rng.integers(1, 12)), int(rng.integers(0, 12))
        ok = rng.random(n) < rng.uniform(0.5, 1.0)
        hit, new_carry = streak_hit(ok, carry, need)
        assert hit == naive_streak(ok, carry, need)
        run = carry
        for good in ok:
            run = run + 1 if good else 0
        assert new_carry == run


def test_window_matches_deque():
    rng = np.random.default_rng(1)
    for size in (1, 3, 17):
        values = rng.random(100)
        win, got = Window(size, 1), []
        pos = 0
        while pos < len(values):
            k = int(rng.integers(1, 30))
            got.append(win.push(values[pos:pos + k])[:, 0])
            pos += k
        np.testing.assert_allclose(np.concatenate(got), naive_window_sums(values, size), rtol=1e-12)


def test_gate_shut_is_the_net_without_its_cell():
    """2a before construction: outputs read only the inputs; the plain delta rule on a
    logistic layer (eqs. 19, 22) gives the same outputs, and the cell's weights stay put."""
    p = 6
    m = PRESETS["2a"].learner(seed=3)
    task = Task2a(p=p, seed=0)
    m = m.clone(n_in=p + 1, n_out=p + 1)
    w0 = m.get_weights()
    saved = _gate_shut(m, True)
    np.testing.assert_array_equal(saved, w0["W_in"])
    Wx = w0["W_k"][:, 1:].copy()  # output weights from the inputs (B connectivity: [cell | x])
    b = task.sample(30)
    out = m.learn_many(b.X, b.Y, b.resets)
    f = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    for x, y, o in zip(b.X, b.Y, out):
        yk = f(Wx @ x)
        np.testing.assert_allclose(o, yk, rtol=1e-12, atol=1e-14)
        Wx += m.lr * np.outer(yk * (1 - yk) * (y - yk), x)
    w = m.get_weights()
    np.testing.assert_allclose(w["W_k"][:, 1:], Wx, rtol=1e-10, atol=1e-13)
    np.testing.assert_array_equal(w["W_k"][:, 0], w0["W_k"][:, 0])
    np.testing.assert_array_equal(w["W_c"], w0["W_c"])
    assert np.all(m.state_["s_c"] == 0)
    _gate_shut(m, False, saved)
    np.testing.assert_array_equal(m.get_weights()["W_in"], w0["W_in"])


# ---------------------------------------------------------------------------
# protocols against the naive loops
# ---------------------------------------------------------------------------
def test_st3_stops_where_a_per_sequence_loop_stops():
    preset = PRESETS["4-1"].with_options(window=30, threshold=0.35, beta=0.12, test_size=200,
                                         limit=5000)
    rec = run_trial(preset, trial=0, seed=11)
    want, first_all_ok = naive_window_trial(preset, 11, [None])
    assert rec["success"] and len(want) == 1
    assert rec["all_correct_sequences"] == first_all_ok < rec["sequences"]
    assert rec["sequences"] == want[0][0] > 30
    assert rec["wrong"] == want[0][1]
    assert rec["test_mse"] == want[0][2]  # same bits: the runner replays chunks exactly


def test_st3_records_the_average_error_below_a_binding_beta():
    """ST3(beta): the average training error below beta *and* the 2000 (here
    30) most recent sequences right; with a beta that binds, the record's
    average at the stop is below it, after the window first became all right."""
    p = PRESETS["4-1"].with_options(window=30, threshold=0.35, beta=0.12, test_size=50, limit=5000)
    rec = run_trial(p, trial=0, seed=11)
    assert rec["success"] and rec["train_avg_error"] < 0.12
    assert rec["all_correct_sequences"] < rec["sequences"]


def naive_st12(preset, seed):
    """Spec §5.3, one check at a time: train ``check_every`` sequences, then a
    frozen test on the 256 stop sequences; ST1 = at most ``max_wrong`` wrong,
    ST2 = ST1 and mean absolute end error below ``max_error``; then the
    separate 2560-sequence (here ``test_size``) test."""
    o = preset.options
    m = preset.learner(seed=seed)
    task = preset.make_task(seed=[seed, 1])
    stop = preset.make_task(seed=[seed, 3]).sample(o["stop_test_size"])
    test = preset.make_task(seed=[seed, 2]).sample(o["test_size"])
    assert not np.array_equal(stop.X[:len(test.X)], test.X[:len(stop.X)])  # two different sets
    seen, st1 = 0, None
    while seen < o["limit"]:
        b = task.sample(o["check_every"])
        m.learn_many(b.X, b.Y, b.resets)
        seen += len(b)
        m.reset()
        err = np.abs(m.predict_many(stop.X, stop.resets)[stop.ends] - stop.target)
        if int(np.sum(np.any(err >= o["threshold"], axis=1))) <= o["max_wrong"]:  # ST1
            st1 = seen if st1 is None else st1
            if err.mean() < o["max_error"]:  # ST2
                break
    m.reset()
    e = np.abs(m.predict_many(test.X, test.resets)[test.ends] - test.target)
    return seen, st1, int(np.sum(np.any(e >= o["threshold"], axis=1)))


@pytest.mark.parametrize("pid, opts", [("3b-T100-N3", dict(T=20, max_error=0.12)),
                                       ("3a-T100-N3", dict(T=20, max_error=0.05))])
def test_st12_stops_where_a_per_check_loop_stops(pid, opts):
    p = PRESETS[pid].with_options(limit=20_000, test_size=300, **opts)
    rec = run_trial(p, trial=0, seed=3)
    assert rec["success"]
    assert (rec["sequences"], rec["st1_sequences"], rec["wrong"]) == naive_st12(p, 3)
    # an untrained net (end errors about 0.5) has most sequences wrong at ABS(0.45)
    p = PRESETS[pid].with_options(T=20, threshold=0.45, limit=100, test_size=100)
    rec = run_trial(p, trial=0, seed=3)
    assert rec["wrong"] == naive_st12(p, 3)[2] > 50


def test_st1_of_3b_allows_5_wrong_not_6():
    """3b's ST1 is 'fewer than 6 of 256 test sequences misclassified' (§5.3)."""
    t = experiments.Trial(PRESETS["3b-T100-N3"], 0, 0)
    stop = PRESETS["3b-T100-N3"].make_task(seed=[0, 3]).sample(256)
    for marked, passes in (([0, 40, 80, 120, 160, 200], False), ([0, 40, 80, 120, 160], True)):
        marks = np.isin(np.arange(256), marked)
        pos = [0]

        def wrong(out, b):
            a = pos[0]
            pos[0] += len(b)
            return marks[a:a + len(b)]

        n_wrong, out = experiments._frozen_test(t, stop, wrong, max_wrong=5)
        assert n_wrong == len(marked) and (out is not None) == passes


def test_reber_records_the_closing_symbol_and_needs_the_test_set_too():
    """§5.1: ``lag_correct`` is the share of strings whose closing T/P (the
    step after the inner E) is predicted right; success needs every string of
    the training *and* the test set right; trials share a train/test pair in
    tens (3 pairs x 10 initialisations)."""
    from online_lstm.tasks import Batch
    from online_lstm.tasks.reber import correct_steps

    p = PRESETS["1-5"].with_options(limit=2000)
    rec, m = run_trial(p, trial=0, seed=0, return_learner=True)
    d = EmbeddedReber(seed=[0, 1], sets_seed=[0, 3], **p.task_kwargs)
    both = Batch.concat([d.train, d.test])
    m.reset()
    out = m.predict_many(both.X, both.resets)
    assert rec["lag_correct"] == correct_steps(out, both.legal, "strict")[both.ends - 1].mean()
    for k in (3, 9, 10, 25):
        assert run_trial(PRESETS["1-5"].with_options(limit=100), trial=k, seed=7)["data_seed"] == 7 + k // 10


def test_reber_success_needs_the_test_strings_right_too(monkeypatch):
    """§5.1: success needs every string of the training *and* the test set
    right.  The check once read ``not success or wrong == 0`` after 3000
    real sequences, in which the net never got its 4 training strings right
    (success False): true whatever success meant.  Here a stand-in for
    ``correct_sequences`` calls exactly the training strings right, so
    success from the training set alone would show."""
    from online_lstm.tasks import Batch

    p = PRESETS["1-5"].with_options(n_train=4, limit=300)
    d = EmbeddedReber(seed=[0, 1], sets_seed=[0, 3], **p.task_kwargs)  # trial 0, seed 0: data seed 0

    def strings(b: Batch):
        return [b.X[b.starts[i]:b.ends[i] + 1].tobytes() for i in range(len(b))]

    train = set(strings(d.train))
    assert len(d.train) == 4 and not train & set(strings(d.test))
    monkeypatch.setattr(experiments, "correct_sequences",
                        lambda out, b, rule: np.array([s in train for s in strings(b)]))
    rec = run_trial(p, trial=0, seed=0)
    assert rec["train_wrong"] == 0 and rec["wrong"] == rec["test_size"] == len(d.test) > 0
    assert not rec["success"] and rec["sequences"] == 300  # trained to the limit
    # every string right: success at the first check (every check_every = 100 sequences)
    monkeypatch.setattr(experiments, "correct_sequences", lambda out, b, rule: np.ones(len(b), bool))
    rec = run_trial(p, trial=0, seed=0)
    assert rec["success"] and rec["sequences"] == 100 and rec["wrong"] == rec["train_wrong"] == 0


def test_milestones_match_a_per_sequence_loop():
    preset = PRESETS["5"].with_options(window=40, threshold=0.25, milestones=(12, 6), test_size=100,
                                       limit=4000)
    rec = run_trial(preset, trial=2, seed=0)
    want, _ = naive_window_trial(preset, 2, [12, 6])
    assert len(want) == 2 and rec["success"]
    assert (rec["n12_sequences"], rec["n12_wrong"], rec["n12_test_mse"]) == want[0]
    assert (rec["n6_sequences"], rec["n6_wrong"], rec["n6_test_mse"]) == want[1]
    assert rec["sequences"] == want[1][0]


def test_streak_matches_a_per_sequence_loop():
    preset = PRESETS["2c-1"].with_options(streak=6, threshold=0.4999, test_size=100, limit=5000)
    rec = run_trial(preset, trial=0, seed=4)
    m = preset.learner(seed=4)
    task = preset.make_task(seed=[4, 1])
    run = seen = 0
    while run < 6:
        b = task.sample(1)
        out = m.learn_many(b.X, b.Y, b.resets)
        seen += 1
        run = run + 1 if np.all(np.abs(out[-1] - b.Y[-1]) < 0.4999) else 0
    assert rec["success"] and rec["streak_end"] == seen and rec["sequences"] == seen - 6
    # both readings of spec §8 item 17b in the table: the start as "success after", the end as an extra
    row = compare(pd.DataFrame([dict(rec, version="v", quick=False, options="")])).iloc[0]
    assert row["mean seq"] == seen - 6 and f"success streak ends: – / {seen:,}" in row["paper / ours"]
    assert run_trial(preset.with_options(reading="end"), trial=0, seed=4)["sequences"] == seen
    err = frozen_end_errors(m, preset.make_task(seed=[4, 2]).sample(100))
    assert rec["wrong"] == int(np.sum(np.any(np.abs(err) >= 0.4999, axis=1)))
    assert rec["test_mse"] == float(np.mean(err ** 2))


def test_streak_test_set_is_generated_a_chunk_at_a_time(monkeypatch):
    """The 2c test set (10,000 sequences; 80 GB of one-hot inputs at q = p = 1000) is
    generated and run in chunks, with the counts and errors of one whole batch."""
    preset = PRESETS["2c-1"].with_options(limit=200, test_size=3000)
    asked = []
    sample = Task2c.sample
    monkeypatch.setattr(Task2c, "sample", lambda self, n: asked.append(n) or sample(self, n))
    rec, m = run_trial(preset, trial=0, seed=2, return_learner=True)
    chunk = max(asked[:-1])  # training chunks
    assert chunk < 3000 and max(asked) <= chunk and sum(asked) == 200 + 3000
    monkeypatch.undo()
    err = frozen_end_errors(m, preset.make_task(seed=[2, 2]).sample(3000))
    assert rec["test_size"] == 3000
    assert rec["wrong"] == int(np.sum(np.any(np.abs(err) >= 0.2, axis=1)))
    assert rec["test_mae"] == float(np.mean(np.abs(err)))
    assert rec["test_mse"] == float(np.mean(err ** 2))


# ---------------------------------------------------------------------------
# end to end
# ---------------------------------------------------------------------------
def test_reber_preset_meets_the_paper_success_criterion():
    """Preset 1-5 trains to the paper's criterion: every symbol of every training and
    test string predicted correctly (legal successors most active), checked here anew."""
    p = PRESETS["1-5"]
    rec, m = run_trial(p, trial=REBER_FAST_TRIAL, seed=0, return_learner=True)
    assert rec["success"] and rec["sequences"] <= 30_000
    data = EmbeddedReber(seed=[REBER_FAST_TRIAL, 1], sets_seed=[REBER_FAST_TRIAL // 10, 3],
                         **p.task_kwargs)
    for batch in (data.train, data.test):
        m.reset()
        out = m.predict_many(batch.X, batch.resets)
        for t in range(len(out)):
            legal = np.flatnonzero(batch.legal[t])
            top = np.argsort(out[t])[::-1][: len(legal)]
            assert set(top) == set(legal)


#: A trial of preset 1-5 chosen because it succeeds fast (after 21,300
#: strings): the preset succeeds in 11 of its 30 trials (REPRODUCTION.md), so
#: this test shows that a successful net meets the criterion when rechecked
#: from scratch, not that the preset's success rate matches the paper's.
REBER_FAST_TRIAL = 4


def test_parallel_equals_serial_and_writes_csv(tmp_path):
    kw = dict(trials=2, seed=3, quick=True, progress=False, options=dict(limit=2000))
    serial = reproduce(["1-5", "6a"], jobs=1, **kw)
    par = reproduce(["1-5", "6a"], jobs=2, out=tmp_path, name="x", **kw)
    cols = [c for c in serial if c not in ("wall_s", "cpu_s", "steps_per_s")]
    assert len(serial) == 4
    assert serial[cols].equals(par[cols])
    assert (tmp_path / "x.csv").exists()
    table = compare(par)
    assert list(table["preset"]) == ["1-5", "6a"]
    assert "8,440" in format_table(table) and "| preset |" in format_table(table, markdown=True)

    # CPU seconds: the sum of the trials' cpu_s; over only some trials (records
    # made before cpu_s existed, mixed with later ones), the table says so
    rows = lambda t: {ln.split("|")[1].strip(): ln for ln in format_table(t, markdown=True).splitlines()[2:]}  # noqa: E731
    timed = par.copy()  # whole seconds from 10 s up; below, two digits (not 0 for a quick run)
    timed.loc[timed["preset"] == "1-5", "cpu_s"] = [0.2, 0.272]
    timed.loc[timed["preset"] == "6a", "cpu_s"] = [600.4, 634.2]
    assert rows(compare(timed))["1-5 (quick) [limit=2000]"].endswith("| 0.47 |")
    assert rows(compare(timed))["6a (quick) [limit=2000]"].endswith("| 1,235 |")
    old = par.copy()
    old.loc[old["preset"] == "6a", "cpu_s"] = [np.nan, old.loc[old["preset"] == "6a", "cpu_s"].iloc[1]]
    old.loc[old["preset"] == "1-5", "cpu_s"] = np.nan
    mixed = rows(compare(old))
    assert mixed["6a (quick) [limit=2000]"].endswith(" (1 of 2 trials) |")
    assert mixed["1-5 (quick) [limit=2000]"].endswith("| – |")


def test_a_trial_run_alone_equals_the_same_trial_of_a_full_run():
    # Experiment 1's trials share train/test sets (k // 10): trial 10 alone must use set 1,
    # where seed=13, trials=1 would pair weight seed 13 with data set 13
    kw = dict(seed=3, quick=True, progress=False, options=dict(limit=300))
    full = reproduce("1-5", trials=11, jobs=2, **kw)
    alone = reproduce("1-5", only_trials=[10, 0], jobs=1, **kw)
    cols = [c for c in full if c not in ("wall_s", "cpu_s", "steps_per_s")]
    assert list(alone["trial"]) == [0, 10] and list(alone["data_seed"]) == [3, 4]
    assert alone[cols].reset_index(drop=True).equals(full[cols].iloc[[0, 10]].reset_index(drop=True))


@pytest.mark.parametrize("pid", ["2b", "3c-T100-N3"])
def test_other_protocols_run(pid):
    rec = run_trial(PRESETS[pid].with_options(limit=300, test_size=50), trial=0, seed=0)
    assert rec["reason"] == "limit" and rec["sequences"] == 300 and rec["test_size"] == 50


def test_resume_runs_only_the_missing_trials_and_equals_an_uninterrupted_run(tmp_path, monkeypatch):
    """A killed sweep, resumed: the trials in the CSV are reused (same preset,
    trial, seed, options, quick), only the missing ones run, and the records
    equal a run that was never interrupted.  Records of other options stay
    in the file; records of other code are refused."""
    from online_lstm import experiments
    from online_lstm.experiments import ResumeError

    kw = dict(seed=3, quick=True, progress=False, options=dict(limit=2000), jobs=1)
    full = reproduce(["1-5", "6a"], trials=3, **kw)
    reproduce(["1-5", "6a"], trials=2, out=tmp_path, name="r", **kw)  # killed after 2 of 3 trials
    ran = []
    real = experiments.run_trial
    monkeypatch.setattr(experiments, "run_trial",
                        lambda p, k, s, *a, **kw: ran.append((p.id, k)) or real(p, k, s, *a, **kw))
    resumed = reproduce(["1-5", "6a"], trials=3, out=tmp_path, name="r", resume=True, **kw)
    assert sorted(ran) == [("1-5", 2), ("6a", 2)]
    cols = [c for c in full if c not in ("wall_s", "cpu_s", "steps_per_s")]
    pd.testing.assert_frame_equal(full[cols], resumed[cols], check_dtype=False)
    assert len(pd.read_csv(tmp_path / "r.csv")) == 6

    ran.clear()  # nothing missing: nothing runs, the file stays
    before = (tmp_path / "r.csv").read_bytes()
    assert len(reproduce(["1-5", "6a"], trials=3, out=tmp_path, name="r", resume=True, **kw)) == 6
    assert ran == [] and (tmp_path / "r.csv").read_bytes() == before

    other = dict(kw, options=dict(limit=1000))  # other options: run, and the old records stay
    df = reproduce(["6a"], trials=1, out=tmp_path, name="r", resume=True, **other)
    assert ran == [("6a", 0)] and len(df) == 1 and df["options"][0] == "limit=1000"
    on_disk = pd.read_csv(tmp_path / "r.csv", keep_default_na=False)
    assert len(on_disk) == 7 and sorted(set(on_disk["options"])) == ["limit=1000", "limit=2000"]

    on_disk.loc[0, "version"] = "0123456789"  # a trial of other code
    on_disk.to_csv(tmp_path / "r.csv", index=False)
    with pytest.raises(ResumeError, match="code version 0123456789"):
        reproduce(["1-5", "6a"], trials=3, out=tmp_path, name="r", resume=True, **kw)
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ResumeError, match="not a records file"):
        reproduce(["6a"], trials=1, out=tmp_path, name="bad", resume=True, **kw)


def test_resume_with_checkpoints_off_says_it_does_not_use_the_ones_there(tmp_path):
    """--resume --checkpoint-every 0 once ignored a killed run's trial checkpoints without a word."""
    kw = dict(quick=True, progress=False, options=dict(limit=300), jobs=1, out=tmp_path, name="r")
    (tmp_path / "r.trials").mkdir()
    (tmp_path / "r.trials" / "6a.trial0.npz").write_bytes(b"left by a killed run")
    with pytest.warns(RuntimeWarning, match="1 trial checkpoint.* not used: checkpoints are off"):
        reproduce("6a", trials=1, resume=True, checkpoint_every=None, **kw)


def test_a_new_run_keeps_the_other_records_in_its_file(tmp_path):
    """Without resume, a run replaces the records of its own trials only: a file
    that also holds other options, seeds or a quick run loses nothing."""
    from online_lstm.experiments import ResumeError

    kw = dict(quick=True, progress=False, jobs=1, out=tmp_path, name="r")
    reproduce(["6a"], trials=2, options=dict(limit=1000), **kw)
    reproduce(["6a"], trials=1, options=dict(limit=2000), **kw)  # no record of its own to replace
    # trial 0 again: replaced (and said so), trial 1 kept
    with pytest.warns(RuntimeWarning, match=r"r\.csv holds 1 finished record\(s\) of these trials"):
        reproduce(["6a"], trials=1, options=dict(limit=1000), **kw)
    on_disk = read_records(tmp_path / "r.csv", keep_default_na=False)
    assert sorted(zip(on_disk["options"], on_disk["trial"])) == [
        ("limit=1000", 0), ("limit=1000", 1), ("limit=2000", 0)]
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")  # not records: never overwritten
    with pytest.raises(ResumeError, match="exists and is not a records file"):
        reproduce(["6a"], trials=1, **dict(kw, name="other"))
    assert (tmp_path / "other.csv").read_text() == "a,b\n1,2\n"


def test_variants_of_one_preset_in_one_call_are_refused_and_quick_keeps_changes():
    q = PRESETS["3a-T100-N3"]
    with pytest.raises(ValueError, match="given twice with different options"):
        reproduce([q.with_options(lr=0.5), q.with_options(lr=0.1)], trials=1, progress=False)
    # a preset named twice runs once
    df = reproduce(["1-5", "1"], trials=1, quick=True, progress=False, jobs=1, options=dict(limit=200))
    assert sorted(df["preset"]) == ["1-1", "1-2", "1-3", "1-4", "1-5"]
    with pytest.raises(ValueError, match="no presets"):
        reproduce([], trials=1, progress=False)
    # quick applies its budget, then the caller's own changes to the preset on top
    df = reproduce(q.with_options(limit=500, lr=0.5), quick=True, trials=1, progress=False, jobs=1)
    assert df["options"][0] == "limit=500 lr=0.5" and df["sequences"][0] <= 500
    assert experiments._quick(q) == q.quick_version()


def test_compare_keeps_quick_runs_apart_and_counts_a_trial_once():
    kw = dict(trials=2, progress=False, jobs=1, options=dict(limit=300))
    quick = reproduce(["6a"], quick=True, **kw)
    full = reproduce(["6a"], **kw)
    both = pd.concat([full, quick, full.iloc[:1]], ignore_index=True)  # trial 0 given twice
    table = compare(both)
    assert list(zip(table["preset"], table["quick"], table["trials"])) == [("6a", False, 2), ("6a", True, 2)]
    assert table.attrs["duplicates"] == 1
    assert compare(pd.concat([full, full], ignore_index=True))["trials"].tolist() == [2]
    assert compare(full.iloc[:0]).empty


def test_compare_reads_success_strictly():
    """A missing success value (NaN) is not a success, nor is the text "False"."""
    rec = reproduce(["6a"], trials=3, quick=True, progress=False, jobs=1, options=dict(limit=300))
    assert not rec["success"].any()  # 300 sequences: far too few
    odd = rec.astype({"success": object})
    odd.loc[0, "success"], odd.loc[1, "success"] = np.nan, "False"
    assert compare(odd)["success %"].tolist() == [0.0]
    odd.loc[2, "success"] = "True"
    assert compare(odd)["success %"].tolist() == [33.3]


def test_options_that_change_the_task_size_are_refused_at_once():
    for pid, kw in (("2c-1", dict(p=1000)), ("2a", dict(p=4)), ("6a", dict(variant="b")),
                    ("2a-rtrl-p4-lr1", dict(p=10))):
        with pytest.raises(ValueError, match=f"^preset {pid}: the task now has .* but the preset's net has"):
            PRESETS[pid].with_options(**kw)
    PRESETS["2c-1"].with_options(q=100)  # the length of the lag: same net
    with pytest.raises(KeyError, match="no option 'sets_seed'"):  # the runner seeds the sets
        PRESETS["1-5"].with_options(sets_seed=7)


def test_resume_reads_text_columns_that_look_like_numbers(tmp_path, monkeypatch):
    """A commit hash such as 8e85294165 reads as a float (inf) and Experiment 5's
    preset id "5" as an integer, unless the records are read as text: then
    --resume refused its own records (a real failure, at commit 8e85294165)."""
    from online_lstm import experiments

    monkeypatch.setattr(experiments, "code_version", lambda: "8e85294165")
    kw = dict(quick=True, progress=False, options=dict(limit=300), jobs=1, out=tmp_path, name="r")
    reproduce(["5"], trials=1, **kw)
    raw = pd.read_csv(tmp_path / "r.csv")  # what plain pandas makes of them
    # (pandas 3 reads the hash as inf, pandas 2 keeps it as text; both read "5" as 5)
    assert raw["version"][0] in (np.inf, "8e85294165") and raw["preset"][0] == 5
    df = read_records(tmp_path / "r.csv")
    assert df["version"][0] == "8e85294165" and df["preset"][0] == "5"
    ran = []
    real = experiments.run_trial
    monkeypatch.setattr(experiments, "run_trial",
                        lambda p, k, s, *a, **kw: ran.append((p.id, k)) or real(p, k, s, *a, **kw))
    out = reproduce(["5"], trials=2, resume=True, **kw)
    assert ran == [("5", 1)]  # trial 0 was kept, not rerun or refused
    assert list(out["trial"]) == [0, 1] and list(out["version"]) == ["8e85294165"] * 2
    assert len(read_records(tmp_path / "r.csv")) == 2  # and not carried as a stranger


def test_plateau_fires_after_patience_blocks_without_a_1_percent_gain():
    """The 2a/2b construction trigger, by hand: blocks of 2 sequences,
    patience 2.  Means 10, 5 (gains), 4.99 (not 1 % below 5: stale 1), then
    the test must not fire before the fourth block is complete, and fires
    on it (5.0: stale 2)."""
    p = Plateau(block=2, patience=2, tol=0.01)
    assert not p.add([10.0, 10.0, 6.0])  # one block and one pending error
    assert not p.add([4.0, 4.99, 4.99])
    assert p.means == [10.0, 5.0, 4.99] and p.improved == [True, True, False]
    assert not p.add([5.0])  # half a block: nothing decided
    assert p.add([5.0, 1.0, 1.0])  # the fourth block fires; the rest is not read
    assert p.means == [10.0, 5.0, 4.99, 5.0] and p.improved[-1] is False
    q = Plateau(block=2, patience=2, tol=0.01)
    assert not q.add([10.0, 10.0, 5.0, 5.0, 4.99, 4.99, 4.9, 4.9])  # 4.9 < 0.99 * 5: a gain
    assert q.stale == 0 and q.best == 4.9


def test_training_bar_budget_shrinks_as_trials_stop(bar_stub):
    """The training bar counts against every trial's limit, and a trial that
    stops takes its unused budget off, so the bar ends at 100 %; reports that
    trail a trial's record, or pass its limit, keep it there."""
    a, b = PRESETS["6a"].with_options(limit=1000), PRESETS["2c-1"].with_options(limit=500)
    bar = bar_stub
    tb = TrainingBar(bar, [(a, 0, 0), (a, 1, 0), (b, 0, 0)])
    assert bar.total == 2500
    tb.update(300, "6a#0")
    tb.update(1000, "6a#1")
    tb.update(200, "2c-1#0")
    tb.finished("6a", 0)  # stopped after 300 of its 1000
    assert (bar.n, bar.total) == (1500, 1800)
    tb.update(20, "6a#0")  # a late report of the stopped trial
    assert (bar.n, bar.total) == (1520, 1820)
    tb.finished("6a", 1)  # ran to its limit: nothing to take off
    assert bar.total == 1820
    tb.update(350, "2c-1#0")  # 550 reported for a limit of 500 (a retrained chunk)
    tb.finished("2c-1", 0)
    assert bar.n == bar.total == 1870 and not tb.budget
    tb.finished("2c-1", 0)  # twice: nothing changes
    assert bar.total == 1870


@pytest.mark.parametrize("jobs", [1, 2])
def test_reproduce_training_bar_ends_full(monkeypatch, jobs):
    """In a real run (in this process, and over a process pool, whose workers
    send their last sequences when a trial ends), every trial's sequences
    reach the bar and it ends at exactly its total."""
    made = []

    class Recording(TrainingBar):
        def __init__(self, bar, jobs_list):
            super().__init__(bar, jobs_list)
            made.append(self)

    monkeypatch.setattr(experiments, "TrainingBar", Recording)
    reproduce(["6a", "2c-1"], trials=2, quick=True, options=dict(limit=300), jobs=jobs)
    (tb,) = made
    assert not tb.budget and tb.bar.n == tb.bar.total == 1200  # each trial ran to its limit


def test_code_version_names_uncommitted_package_code(monkeypatch):
    """Records made by two different uncommitted versions must not look alike to
    resume; edits outside the package (a report, a benchmark CSV) do not count."""
    import re
    import subprocess

    assert re.fullmatch(r"[0-9a-f]{10}(\+dirty\.[0-9a-f]{12})?|src\.[0-9a-f]{12}", experiments.code_version())
    calls = []

    def fake_git(status):
        def run(cmd, **kw):
            calls.append(cmd)
            if status is None:
                raise FileNotFoundError("git")
            out = "0123456789\n" if "rev-parse" in cmd else status
            return subprocess.CompletedProcess(cmd, 0, stdout=out, stderr="")
        return run

    digest = experiments.source_digest()
    for status, version in (("", "0123456789"), (" M online_lstm/kernels.py\n", f"0123456789+dirty.{digest}"),
                            (None, f"src.{digest}")):
        monkeypatch.setattr(experiments.subprocess, "run", fake_git(status))
        assert experiments.code_version.__wrapped__() == version  # past the per-process cache
    assert any(c[-2:] == ["--", "."] for c in calls)  # git status of the package directory only


def test_code_version_ignores_a_repository_that_does_not_track_the_package(monkeypatch):
    """Installed into a git-ignored .venv of the user's own project, the
    package must not take that project's commit for its version (every
    unrelated commit would then refuse --resume)."""
    import subprocess

    def run(cmd, **kw):
        if "ls-files" in cmd:  # git: "error: pathspec ... did not match any file(s) known to git"
            raise subprocess.CalledProcessError(1, cmd)
        out = "fedcba9876\n" if "rev-parse" in cmd else ""
        return subprocess.CompletedProcess(cmd, 0, stdout=out, stderr="")

    monkeypatch.setattr(experiments.subprocess, "run", run)
    assert experiments.code_version.__wrapped__() == f"src.{experiments.source_digest()}"


def test_reber_without_test_strings_records_no_fraction_and_no_warning():
    """n_test=0 (a task option) leaves the success test to the training
    strings; the record's frac_wrong is NaN, computed without NumPy's
    empty-mean warning, and wrong is 0."""
    import warnings

    preset = PRESETS["1-5"].with_options(n_test=0, limit=200)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rec = run_trial(preset, trial=0, seed=0)
    assert rec["test_size"] == 0 and rec["wrong"] == 0 and np.isnan(rec["frac_wrong"])
    assert rec["sequences"] == 200 and not rec["success"]


def test_the_competitors_kernels_are_built_before_the_worker_processes_start(tmp_path):
    """On a cold Numba cache, worker processes that each import the
    competitors' kernels would compile and write the same cache files at
    once; the parent builds them first (in a fresh interpreter, where
    nothing has imported them yet)."""
    import subprocess
    import sys

    code = ("import sys\n"
            "from online_lstm import experiments as e\n"
            "class Stop(Exception): pass\n"
            "def pool(*a, **k):\n"
            "    print('baselines imported:', 'online_lstm.baselines._entry' in sys.modules)\n"
            "    raise Stop\n"
            "e._run_pool = pool\n"
            "try:\n"
            f"    e.reproduce('2a-rtrl-p4-lr1', trials=2, quick=True, jobs=2, progress=False, out={str(tmp_path)!r})\n"
            "except Stop:\n"
            "    pass\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "baselines imported: True" in res.stdout


def test_the_shorter_streaks_on_the_way_match_a_per_sequence_loop():
    """``streak100_end``: the sequences seen when 100 successive ones first
    passed, as a loop over single sequences counts it."""
    # a threshold just above chance, so that streaks break now and then (seed 2: the
    # 100-streak ends after 966 sequences, the 110-streak after 976)
    preset = PRESETS["2c-1"].with_options(streak=110, threshold=0.52, test_size=10, limit=3000)
    rec = run_trial(preset, trial=0, seed=2)
    m = preset.learner(seed=2)
    task = preset.make_task(seed=[2, 1])
    run = seen = 0
    ends = {}
    while run < 110:
        b = task.sample(1)
        out = m.learn_many(b.X, b.Y, b.resets)
        seen += 1
        run = run + 1 if np.all(np.abs(out[-1] - b.Y[-1]) < 0.52) else 0
        if run == 100 and 100 not in ends:
            ends[100] = seen
    assert rec["success"] and rec["streak_end"] == seen
    assert rec["streak100_end"] == ends[100] == seen - 10 > 100


def test_the_step_count_of_a_record_is_every_step_taken(monkeypatch):
    """``steps``: the training steps plus the frozen test's, one per input
    row (not one per sequence)."""
    preset = PRESETS["6a"].with_options(limit=300, test_size=50)
    rows = []

    def counting(fn):
        def wrapped(self, batch, *a, **k):
            rows.append(len(batch.X))
            return fn(self, batch, *a, **k)
        return wrapped

    for name in ("train", "predict"):
        monkeypatch.setattr(experiments.Trial, name, counting(getattr(experiments.Trial, name)))
    rec = run_trial(preset, trial=0, seed=1)
    monkeypatch.undo()
    assert rec["steps"] == sum(rows) > 300 * 100  # 6a sequences are 100-110 steps long


def test_cpu_seconds_come_from_the_process_clock(monkeypatch):
    """``cpu_s`` is CPU time (time.process_time), ``wall_s`` wall time: two
    clocks run at different rates here, so swapping them shows."""
    import itertools

    wall, cpu = itertools.count(0, 1.0), itertools.count(0, 0.25)
    monkeypatch.setattr(experiments.time, "perf_counter", lambda: next(wall))
    monkeypatch.setattr(experiments.time, "process_time", lambda: next(cpu))
    rec = run_trial(PRESETS["6a"].with_options(limit=200, test_size=20), trial=0, seed=1)
    assert 0 < rec["cpu_s"] < rec["wall_s"]


@pytest.mark.parametrize("pid, small", [("1-5", dict(n_train=8, n_test=8)), ("3a-T100-N1", dict(test_size=20))])
def test_a_limit_between_two_tests_stops_at_the_limit(pid, small):
    """The protocols that test every check_every sequences trained on to the next
    test, past a limit between two tests (250 -> 300)."""
    rec = run_trial(PRESETS[pid].with_options(limit=250, **small), trial=0, seed=0)
    assert rec["reason"] == "limit" and rec["sequences"] == 250


@pytest.mark.parametrize("how", ["mae", "mse"])
def test_st3_records_both_readings_of_the_average_training_error(how):
    """Spec §8 item 13: report the mean absolute error and E.  The record
    holds both window averages at the stop, whichever one the rule read;
    they are recomputed here from the replayed trial's own outputs."""
    p = PRESETS["4-1"].with_options(window=30, threshold=0.35, beta=10.0, test_size=20, limit=5000,
                                    avg_error=how)
    rec = run_trial(p, trial=0, seed=3)
    assert rec["success"]
    assert rec["train_avg_error"] == rec["train_avg_mae" if how == "mae" else "train_avg_E"]
    # the replay: train the same trial to its stop, keeping each sequence's end errors
    from online_lstm.experiments import Trial
    t = Trial(p, trial=0, seed=3)
    task = p.make_task(seed=[t.data_seed, 1])
    errs = []
    while len(errs) < rec["sequences"]:
        b = task.sample(min(t.chunk(task), rec["sequences"] - len(errs)))
        out = t.train(b)
        errs += list(out[b.ends] - b.Y[b.ends])
    last = np.array(errs[-30:])
    assert rec["train_avg_mae"] == pytest.approx(np.mean(np.mean(np.abs(last), axis=1)), rel=1e-12)
    assert rec["train_avg_E"] == pytest.approx(np.mean(np.sum(last ** 2, axis=1)), rel=1e-12)
