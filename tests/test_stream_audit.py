"""A sensor-stream user's audit: pandas rows, missing readings, scaling,
checkpoints, many streams, progressive validation.

* A pandas row of a DataFrame with a timestamp column is an object Series
  even after its numeric columns are selected; it is read as its numbers,
  bit-identical to the same row as a float array, and anything in it that
  is not a plain number is refused, naming the element, with nothing
  changed.
* A missing reading (NaN) in an input is refused naming its column(s) and
  saying how to fill it, by the learner, the bank and progressive_val.
* The README's scaling advice holds: an un-normalised sensor makes the net
  learn nothing without an error, until its cell states reach state_bound
  (at least 500,000 steps later); a target beyond (0, 1) pins the logistic
  output near 1.
* With labels missing at most steps, River's progressive_val_score gives
  NaN (NaN labels) or a TypeError (None labels), as docs/river.md now says;
  online_lstm.evaluate.progressive_val scores the labelled ones, as a hand
  loop does.
* A bank has no on_divergence="reset"; the recipe in the LearnerBank
  docstring (run each named learner's remaining rows alone with the policy,
  set_learner it back) gives the bits of an OnlineLSTM with the policy.
* A chunked run under on_divergence="reset", checkpointed and resumed from
  the file, ends with the bits and divergence count of the uninterrupted run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from online_lstm import InputError, OnlineLSTM

FEATS = list("abcde")


def _frame(T=60, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(rng.normal(size=(T, 5)).astype(np.float32), columns=FEATS)
    df.insert(0, "ts", pd.date_range("2024-01-01", periods=T, freq="s"))
    df["y"] = np.where(rng.random(T) < 0.3, rng.random(T), np.nan)
    return df


def _learner(**kw):
    return OnlineLSTM(5, 1, n_blocks=2, block_size=2, lr=0.1, seed=0, **kw)


def _same(a: OnlineLSTM, b: OnlineLSTM) -> bool:
    sa, sb = a.state_arrays(), b.state_arrays()
    return sa.keys() == sb.keys() and all(np.array_equal(sa[k], sb[k], equal_nan=True) for k in sa)


# ---------------------------------------------------------------------------
# pandas rows of a mixed-dtype DataFrame
# ---------------------------------------------------------------------------
def test_object_row_of_numbers_is_read_as_its_numbers():
    df = _frame()
    a, b = _learner(), _learner()
    for t in range(len(df)):
        row = df.iloc[t]                      # object Series: the frame has a timestamp column
        assert row[FEATS].dtype == object
        ya = a.learn_one(row[FEATS], row["y"])
        yb = b.learn_one(df[FEATS].to_numpy()[t], df["y"].iloc[t])
        assert np.array_equal(ya, yb)
    assert _same(a, b)


def test_object_rows_in_learn_many_and_targets():
    df = _frame()
    a, b = _learner(), _learner()
    X_obj = np.array(df[FEATS].to_numpy(), dtype=object)
    Y_obj = np.array(df[["y"]].to_numpy(), dtype=object)
    a.learn_many(X_obj, Y_obj)
    b.learn_many(df[FEATS].to_numpy(), df["y"].to_numpy())
    assert _same(a, b)


@pytest.mark.parametrize("bad, what", [
    (pd.Timestamp("2024-01-01"), "Timestamp"),
    ("3.5", "str"),
    (None, "holds None at flat index 2: the net has no missing-input value"),  # what to do instead
    (np.longdouble(1.5), "longdouble"),
    (2**60, "beyond 2\\*\\*53"),
])
def test_object_row_with_other_things_is_refused_unchanged(bad, what):
    m = _learner()
    m.learn_one(np.ones(5), 0.5)
    before = m.state_arrays()
    x = np.array([0.1, 0.2, bad, 0.4, 0.5], dtype=object)
    with pytest.raises(InputError, match=what):
        m.learn_one(x, 0.5)
    with pytest.raises(InputError, match=what):
        m.learn_many(x.reshape(1, 5), [0.5])
    after = m.state_arrays()
    assert all(np.array_equal(before[k], after[k]) for k in before)


# ---------------------------------------------------------------------------
# missing readings (NaN) in the input
# ---------------------------------------------------------------------------
def test_nan_reading_is_refused_naming_the_column_and_the_fix():
    m = _learner()
    m.learn_one(np.ones(5), 0.5)
    before = m.state_arrays()
    x = np.array([0.1, 0.2, np.nan, 0.4, np.inf], dtype=np.float32)
    with pytest.raises(InputError, match=r"x\[2\] = nan, x\[4\] = inf.*fill missing readings"):
        m.learn_one(x, 0.5)
    with pytest.raises(InputError, match=r"x\[2\] = nan.*fill missing readings"):
        m.predict_one(x)
    X = np.zeros((4, 5))
    X[3, 1] = np.nan
    with pytest.raises(InputError, match=r"\(row 3\).*x\[1\] = nan"):
        m.learn_many(X, np.zeros(4))
    after = m.state_arrays()
    assert all(np.array_equal(before[k], after[k]) for k in before)


def test_nan_reading_in_a_bank_and_in_progressive_val_names_the_entry():
    from online_lstm import LearnerBank
    from online_lstm.evaluate import progressive_val

    bank = LearnerBank(3, 5, 1, n_blocks=1, seed=0)
    X = np.zeros((3, 2, 5))
    X[2, 1, 4] = np.nan
    with pytest.raises(InputError, match=r"X\[2, 1, 4\] = nan.*fill missing readings"):
        bank.learn_many(X, np.zeros((3, 2)))
    assert (bank.n_steps_ == 0).all()
    stream = [(np.ones(5), 0.1), (np.array([0, 0, 0, np.nan, 0]), 0.2)]
    with pytest.raises(InputError, match=r"stream item 1.*x\[3\] = nan.*fill missing readings"):
        progressive_val(stream, _learner())


# ---------------------------------------------------------------------------
# scaling: what the README's "Feeding it a sensor stream" says
# ---------------------------------------------------------------------------
def _scaling_stream(T, big):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(T, 5))
    y = 0.5 + 0.3 * np.tanh(X[:, 0] + np.roll(X[:, 1], 1))
    if big:
        X[:, 2] = 1e4 + 300 * X[:, 2]
    return X, y


def test_unscaled_sensor_learns_nothing_silently_and_standardised_learns():
    T = 20_000
    spread = None
    mae = {}
    for big in (False, True):
        X, y = _scaling_stream(T, big)
        spread = np.abs(y - y.mean()).mean()
        out = _learner().learn_many(X, y)[:, 0]     # no error either way
        mae[big] = np.abs(out[-2000:] - y[-2000:]).mean()
    assert mae[True] > 0.95 * spread                # nothing learned
    assert mae[False] < 0.75 * spread               # learned


def test_unscaled_sensor_is_reported_only_when_the_states_reach_the_bound():
    from online_lstm import DivergenceError

    X, y = _scaling_stream(510_000, True)
    m = _learner()
    with pytest.raises(DivergenceError) as info:
        m.learn_many(X, y)
    assert "state_bound" in str(info.value)
    # |s_c| grows by at most 2 per step (|g| <= 2, y_in <= 1): >= 500,000 steps to 1e6
    assert 500_000 <= info.value.step < 510_000


def test_target_outside_unit_interval_saturates_the_logistic_output():
    X, _ = _scaling_stream(5000, False)
    out = _learner().learn_many(X, np.full(5000, 20.0))
    assert (out[-100:] > 0.999).all() and (out < 1).all()


# ---------------------------------------------------------------------------
# progressive validation with missing labels (docs/river.md)
# ---------------------------------------------------------------------------
def test_missing_labels_river_loop_gives_nan_ours_scores_the_labelled_ones():
    pytest.importorskip("river")
    from river import evaluate, metrics

    from online_lstm.evaluate import progressive_val
    from online_lstm.river import LSTMRegressor

    rng = np.random.default_rng(3)
    T = 300
    df = pd.DataFrame(rng.normal(size=(T, 3)), columns=list("abc"))
    y = pd.Series(np.where(rng.random(T) < 0.2, np.tanh(df["a"]), np.nan))
    rows = list(zip(df.to_dict("records"), y))

    assert np.isnan(evaluate.progressive_val_score(rows, LSTMRegressor(seed=0), metrics.MAE()).get())
    with pytest.raises(TypeError):
        evaluate.progressive_val_score([(x, None if np.isnan(v) else v) for x, v in rows],
                                       LSTMRegressor(seed=0), metrics.MAE())

    ours = progressive_val(rows, LSTMRegressor(seed=0), [metrics.MAE()], step=T)
    model, mae = LSTMRegressor(seed=0), metrics.MAE()
    for x, v in rows:                       # by hand: score and learn the labelled ones only
        p = model.predict_one(x)
        if not np.isnan(v):
            mae.update(v, p)
        model.learn_one(x, None if np.isnan(v) else v)
    assert np.isfinite(ours["MAE"].iloc[-1])
    assert ours["MAE"].iloc[-1] == mae.get()


# ---------------------------------------------------------------------------
# many streams: LearnerBank
# ---------------------------------------------------------------------------
def test_bank_divergence_recipe_gives_the_reset_policy_bits():
    from online_lstm import BankDivergenceError, LearnerBank

    rng = np.random.default_rng(1)
    N, T = 6, 3000
    X = rng.normal(size=(N, T, 5))
    X[2] += 2
    X[4] -= 2
    Y = np.where(rng.random((N, T, 1)) < 0.1, rng.random((N, T, 1)), np.nan)
    kw = dict(n_blocks=2, block_size=2, lr=0.1, state_bound=100.0)
    bank = LearnerBank(N, 5, 1, seed=0, parallel=False, **kw)
    with pytest.raises(BankDivergenceError) as info:
        bank.learn_many(X, Y)
    e = info.value
    assert len(e.learners) >= 2
    for l, row in zip(e.learners, e.row):        # the recipe of the LearnerBank docstring
        m = bank.learner(l)
        m.reset()
        m.on_divergence = "reset"
        m.learn_many(X[l, row:], Y[l, row:])
        m.on_divergence = "raise"
        bank.set_learner(l, m)
    for l in range(N):
        ref = OnlineLSTM(5, 1, seed=int(bank.seeds_[l]), on_divergence="reset", **kw)
        ref.learn_many(X[l], Y[l])
        got = bank.learner(l)
        assert (ref.n_divergences_ > 0) == (l in e.learners)
        assert np.array_equal(ref.theta_, got.theta_)
        assert all(np.array_equal(ref.state_[k], got.state_[k]) for k in ref.state_)
        assert ref.n_steps_ == got.n_steps_ and ref.n_resets_ == got.n_resets_


def test_a_dict_input_is_refused_as_not_an_array_without_the_pandas_hint():
    m = _learner()
    with pytest.raises(InputError, match="must be an array of real numbers.*of type dict") as info:
        m.learn_one(dict(zip(FEATS, range(5))), 0.5)
    assert "pandas" not in str(info.value)
    assert m.n_steps_ == 0


# ---------------------------------------------------------------------------
# a long run in chunks with checkpoints, resumed
# ---------------------------------------------------------------------------
def _chunk(i, n=20_000):
    r = np.random.default_rng([7, i])
    X = r.normal(size=(n, 5))
    y = np.where(r.random(n) < 0.1, 1 / (1 + np.exp(-X[:, 0])), np.nan)
    return X, y


def test_chunked_run_resumed_from_a_checkpoint_continues_bit_identically(tmp_path):
    kw = dict(on_divergence="reset", state_bound=50.0)
    whole = _learner(**kw)
    for i in range(10):
        whole.learn_many(*_chunk(i))
        if i == 4:
            whole.save(tmp_path / "ck.npz")
    resumed = OnlineLSTM.load(tmp_path / "ck.npz")
    assert resumed.n_steps_ == 100_000
    while resumed.n_steps_ < 200_000:
        resumed.learn_many(*_chunk(resumed.n_steps_ // 20_000))
    assert whole.n_divergences_ > 0                 # the policy was exercised on both sides
    assert resumed.n_divergences_ == whole.n_divergences_
    assert _same(whole, resumed)


@pytest.mark.parametrize("cls", ["RTRL", "BPTT"])
def test_the_competitors_name_the_non_finite_input_entries_too(cls):
    from online_lstm import baselines
    m = getattr(baselines, cls)(3, 1, 2, seed=0)
    before = m.state_arrays()
    with pytest.raises(InputError, match=r"\(x\[1\] = nan\); the net has no missing-input value"):
        m.learn_one(np.array([1.0, np.nan, 2.0]), [0.5])
    with pytest.raises(InputError, match=r"finite \(row 1\): NaN or inf in the input \(x\[1\] = inf\); the net has "
                       r"no missing-input"):
        m.learn_many(np.array([[1.0, 2.0, 3.0], [1.0, np.inf, 2.0]]), [[0.5], [0.5]])
    after = m.state_arrays()
    assert all(np.array_equal(before[k], after[k]) for k in before)
