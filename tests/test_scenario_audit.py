"""Whole programs a stream user writes after reading the README: a sensor
bank with late targets and resets, checkpointed and restarted; a River
pipeline pickled mid-stream; a progressive validation resumed from a row;
snapshots as try-and-roll-back among checkpoints; a divergence in the middle
of a learn_many."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from online_lstm import DivergenceError, LearnerBank, OnlineLSTM
from online_lstm.evaluate import MAE, RMSE, iter_progressive_val

from statecheck import same_state

# ---------------------------------------------------------------------------
# a divergence in the middle of learn_many: the predictions of the rows applied
# ---------------------------------------------------------------------------


def _exploding(**kw):
    return OnlineLSTM(2, 1, n_blocks=2, seed=0, lr=1e4, state_bound=50, **kw)


_X = np.random.default_rng(0).normal(size=(300, 2))
_Y = np.full((300, 1), 0.9)


@pytest.mark.parametrize("given_out", [False, True])
def test_learn_many_divergence_hands_back_the_predictions_of_the_rows_it_applied(given_out):
    """The rows before the refused one are kept (README), but their
    predictions were lost with the return value unless out= was given; the
    bank's BankDivergenceError has them in .out."""
    m = _exploding()
    before = m.snapshot()
    buf = np.zeros((300, 1)) if given_out else None
    with pytest.raises(DivergenceError) as info:
        m.learn_many(_X, _Y, out=buf)
    e = info.value
    assert 0 < e.row < 300 and e.step == m.n_steps_ == e.row
    twin = _exploding()
    expected = twin.learn_many(_X[:e.row], _Y[:e.row])
    assert same_state(m.state_arrays(), twin.state_arrays())  # the last good state, as documented
    assert e.out.shape == (300, 1)
    assert np.array_equal(e.out[:e.row], expected)
    assert np.isnan(e.out[e.row:]).all()
    if given_out:
        assert e.out is buf
    assert np.array_equal(pickle.loads(pickle.dumps(e)).out, e.out, equal_nan=True)
    m.restore_snapshot(before)  # the user goes back before the chunk and redoes it,
    m.lr = 0.1                  # with a smaller rate
    m.learn_many(_X, _Y)
    assert m.n_steps_ == 300


def test_a_competitors_learn_many_divergence_hands_back_its_predictions_too():
    from online_lstm.baselines import RTRL

    Y = _Y.copy()
    Y[:5] = np.nan  # no update, so no divergence, before row 5
    m = RTRL(2, 1, 3, seed=0, lr=1e160)
    with pytest.raises(DivergenceError) as info:
        m.learn_many(_X, Y)
    e = info.value
    assert e.row == 5
    expected = RTRL(2, 1, 3, seed=0, lr=1e160).learn_many(_X[:5], Y[:5])
    assert np.array_equal(e.out[:5], expected) and np.isnan(e.out[5:]).all()


def test_gradient_of_a_diverging_sequence_carries_no_outputs():
    with pytest.raises(DivergenceError) as info:
        OnlineLSTM(2, 1, n_blocks=2, seed=0, state_bound=1e-3).gradient(_X[:20], _Y[:20])
    assert info.value.out is None


# ---------------------------------------------------------------------------
# a sensor bank: late targets, resets per key, checkpoints, a crash, a restart
# ---------------------------------------------------------------------------

_N, _T, _D = 4, 120, 3


def _telemetry(tmp_path, crash_at=None, resume=None):
    """One learner per sensor; the target of step s arrives at step
    s + delay[s, l] (1..3); some keys reset; a checkpoint every 30 rows."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(_T, _N, 3))
    Y = 0.1 + 0.8 / (1 + np.exp(-X[..., :1]))
    delay = rng.integers(1, _D + 1, size=(_T, _N))
    resets = rng.random((_T, _N)) < 0.04
    if resume is None:
        bank = LearnerBank(_N, 3, 1, n_blocks=2, seed=7, lr=[0.1, 0.2, 0.3, 0.4], max_delay=_D,
                           parallel=False)
        start = 0
    else:
        bank, start = LearnerBank.load(resume), int(resume.stem[1:])
    outs = []
    for t in range(start, _T):
        for age in range(_D - 1, -1, -1):  # targets due now, oldest first: their step is t-1-age
            s = t - 1 - age
            due = (s >= 0) & (delay[max(s, 0)] == t - s)
            if s >= 0 and due.any():
                bank.learn_delayed(np.where(due[:, None], Y[s], np.nan), age)
        outs.append(bank.predict_one(X[t], resets=resets[t]))
        if (t + 1) % 30 == 0:
            path = bank.save(tmp_path / f"b{t + 1}.npz")
            if t + 1 == crash_at:
                return outs, path
    return outs, bank


def test_a_sensor_bank_restarted_from_its_checkpoint_goes_on_bit_identically(tmp_path):
    full, bank = _telemetry(tmp_path)
    before, path = _telemetry(tmp_path, crash_at=60)
    after, resumed = _telemetry(tmp_path, resume=path)
    assert np.array_equal(np.array(before + after), np.array(full))
    assert same_state(resumed.state_arrays(), bank.state_arrays())
    assert np.array_equal(resumed.lr, bank.lr) and bank.n_updates_.min() > 0


# ---------------------------------------------------------------------------
# a River pipeline, pickled mid-stream
# ---------------------------------------------------------------------------


def test_a_pickled_river_pipeline_with_boundaries_and_changing_features_goes_on_identically():
    pytest.importorskip("river")
    from river import compose, evaluate, metrics, preprocessing

    from online_lstm.river import LSTMRegressor

    rng = np.random.default_rng(0)
    data = []
    for i in range(240):
        x = {"a": float(rng.normal()), "b": float(rng.integers(0, 5)), "start": i % 20 == 0}
        if 80 <= i < 160:
            x["c"] = float(rng.normal())  # appears, then disappears
        if i >= 120:
            del x["b"]
        data.append((x, float(np.sin(i / 10)) * 3 + 10))

    def make():
        return ((compose.Discard("start") | preprocessing.StandardScaler()) + compose.Select("start")
                | LSTMRegressor(n_blocks=2, reset_key="start", seed=3))

    def run(cut):
        model, preds = make(), []
        for i, (x, y) in enumerate(data):
            preds.append(model.predict_one(x))
            model.learn_one(x, y)
            if i == cut:
                model = pickle.loads(pickle.dumps(model))
        return preds, model

    whole, model = run(None)
    for cut in (100, 170):
        preds, other = run(cut)
        assert preds == whole
    lstm = model["LSTMRegressor"]
    assert lstm.feature_names_ == ["a", "b", "c"] and lstm.learner_.n_resets_ == 12
    assert evaluate.progressive_val_score(data, make(), metrics.MAE()).get() == \
        evaluate.progressive_val_score(data, model.clone(), metrics.MAE()).get()


# ---------------------------------------------------------------------------
# progressive validation, interrupted at a row and resumed
# ---------------------------------------------------------------------------


def test_progressive_validation_resumed_from_a_row_gives_the_rows_of_an_uninterrupted_run(tmp_path):
    rng = np.random.default_rng(0)
    n = 1200
    X = rng.normal(size=(n, 3))
    Y = rng.uniform(0.1, 0.9, n)
    Y[rng.random(n) < 0.3] = np.nan
    starts = rng.random(n) < 0.05
    stream = [(X[i], None if np.isnan(Y[i]) else Y[i], starts[i]) for i in range(n)]

    def make():
        return OnlineLSTM(3, 1, n_blocks=2, seed=0, lr=0.3)

    def key(r, offset=0):
        return r["step"] + offset, r["mae"], r["rmse"]

    full = [key(r) for r in iter_progressive_val(stream, make(), [MAE(), RMSE()], step=200)]
    m, ms, rows = make(), [MAE(), RMSE()], []
    for r in iter_progressive_val(stream, m, ms, step=200):
        rows.append(key(r))
        if r["step"] == 600:  # save the model and the metrics at this row, then "crash"
            path = m.save(tmp_path / "m.npz")
            blob = pickle.dumps(ms)
            break
    m, ms = OnlineLSTM.load(path), pickle.loads(blob)
    rows += [key(r, 600) for r in iter_progressive_val(stream[600:], m, ms, step=200)]
    assert rows == full


# ---------------------------------------------------------------------------
# snapshots as try-and-roll-back, among late targets and checkpoints
# ---------------------------------------------------------------------------


def test_rollouts_undone_by_snapshots_leave_no_trace_among_late_targets_and_checkpoints(tmp_path):
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(150, 3)), rng.uniform(0.1, 0.9, 150)

    def make():
        return OnlineLSTM(3, 1, n_blocks=2, seed=0, lr=0.3, max_delay=3)

    a, b = make(), make()
    snap = a.snapshot()
    for t in range(150):
        a.snapshot(into=snap)
        for _ in range(3):  # try a horizon of actions, learning as it goes ...
            a.learn_one(rng.normal(size=3), 0.5)
        if a.open_targets(2)[0]:
            a.learn_delayed(0.2, 2)
        a.reset()
        a.restore_snapshot(snap)  # ... and go back
        a.predict_one(X[t])
        b.predict_one(X[t])
        if t >= 2 and a.open_targets(2)[0]:
            a.learn_delayed(Y[t - 2], 2)
            b.learn_delayed(Y[t - 2], 2)
        if t % 50 == 49:  # a checkpoint; the old snapshot object goes on serving the new learner
            a = OnlineLSTM.load(a.save(tmp_path / "a.npz"))
    assert same_state(a.state_arrays(), b.state_arrays())
    assert b.n_updates_ == 148


def test_a_missing_reset_flag_is_refused_by_name_and_changes_nothing():
    """A nullable pandas 'boolean' column with pd.NA as the resets (a join that
    left gaps): refused as missing, not as a mysterious float64 dtype."""
    import pandas as pd

    from online_lstm.errors import InputError

    r = pd.array([True, None, False, False], dtype="boolean")
    m = OnlineLSTM(3, 2, seed=0)
    before = m.state_arrays()
    with pytest.raises(InputError, match="resets has missing .*pd.NA"):
        m.learn_many(np.ones((4, 3)), np.ones((4, 2)), resets=r)
    assert same_state(before, m.state_arrays())
    bank = LearnerBank(4, 3, 2, seed=0)
    with pytest.raises(InputError, match="resets has missing"):
        bank.learn_one(np.ones((4, 3)), np.ones((4, 2)), resets=r)


def test_a_late_label_without_id_key_points_to_id_key():
    """Without id_key labels go to predictions in order; when they fall behind
    (a label that never came), the first late-label warning says how to fix it."""
    import warnings

    pytest.importorskip("river")
    from online_lstm.river import LSTMRegressor

    model = LSTMRegressor(max_delay=2, seed=0)
    for i in range(5):
        model.predict_one({"a": i / 5})
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        model.learn_one({"a": 0.0}, 1.0)  # the oldest waiting prediction is 4 steps old
    (msg,) = [str(x.message) for x in w if issubclass(x.category, RuntimeWarning)]
    assert "later than max_delay=2" in msg and "id_key" in msg
    assert model.n_late_labels_ == 1


def test_compare_takes_records_read_with_plain_read_csv(tmp_path):
    """A researcher loads a records CSV with pd.read_csv instead of
    read_records: an all-empty ``options`` column is float64 NaN, which
    compare must read as "no options" without a pandas deprecation (pandas 3
    warns that filling a float column with text will raise)."""
    import warnings

    import pandas as pd

    from online_lstm.experiments import compare, read_records

    import pathlib

    records = pathlib.Path(__file__).resolve().parent.parent / "reproduction" / "records"
    path = tmp_path / "r.csv"
    read_records(records / "stageA-b.csv").assign(options="").to_csv(path, index=False)
    plain = pd.read_csv(path)
    assert plain["options"].dtype == np.float64  # what the researcher gets
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = compare(plain)
    pd.testing.assert_frame_equal(got, compare(read_records(path)))
