"""Progressive validation: the helper against a hand-written test-then-train loop."""

import copy
import io

import numpy as np
import pandas as pd
import pytest
from tqdm import tqdm

from online_lstm import OnlineLSTM
from online_lstm.errors import InputError
from online_lstm.evaluate import MAE, RMSE, Accuracy, iter_progressive_val, progressive_val


def _stream(rng, T, n_in, n_out, p_nan=0.3, p_new=0.05):
    X = rng.uniform(-1, 1, (T, n_in))
    Y = rng.uniform(0, 1, (T, n_out))
    Y[rng.random((T, n_out)) < p_nan] = np.nan
    starts = rng.random(T) < p_new
    return [(X[t], Y[t], bool(starts[t])) for t in range(T)]


def test_matches_a_hand_loop_bit_for_bit():
    rng = np.random.default_rng(0)
    stream = _stream(rng, 250, 3, 2)
    m = OnlineLSTM(3, 2, n_blocks=2, lr=0.5, seed=1)
    hand = OnlineLSTM(3, 2, n_blocks=2, lr=0.5, seed=1)
    abs_err, sq_err, n, scored = 0.0, 0.0, 0, []
    for x, y, start in stream:
        if start:
            hand.reset()
        y_hat = hand.learn_one(x, y)  # the prediction made before the update
        has = ~np.isnan(y)
        scored.append(bool(has.any()))  # an observation with any target is scored
        abs_err += np.abs(y - y_hat)[has].sum()
        sq_err += ((y - y_hat) ** 2)[has].sum()
        n += has.sum()
    df = progressive_val(stream, m, ["mae", "rmse"], step=100)
    assert list(df["step"]) == [100, 200, 250]
    assert list(df.columns) == ["step", "mae", "rmse", "seconds", "us_per_obs", "scored"]
    assert list(df["scored"]) == [sum(scored[:100]), sum(scored[:200]), sum(scored)]
    assert 0 < sum(scored) < 250
    assert df["mae"].iloc[-1] == pytest.approx(abs_err / n, rel=1e-12)
    assert df["rmse"].iloc[-1] == pytest.approx((sq_err / n) ** 0.5, rel=1e-12)
    for key in ("theta", "T", "record"):
        np.testing.assert_array_equal(m.state_arrays()[key], hand.state_arrays()[key])
    assert m.n_steps_ == hand.n_steps_ == 250 and m.n_resets_ == hand.n_resets_ > 0
    assert (df["us_per_obs"] > 0).all() and df["seconds"].is_monotonic_increasing


def test_observations_without_target_advance_but_are_not_scored():
    m = OnlineLSTM(1, 1, seed=0)
    stream = [(np.array([1.0]), None), (np.array([0.5]), np.nan), (np.array([0.2]), 0.25)]
    (row,) = iter_progressive_val(stream, m, MAE(), step=10)
    assert m.n_steps_ == 3 and m.n_updates_ == 1
    ref = OnlineLSTM(1, 1, seed=0)
    ref.predict_one([1.0])
    ref.predict_one([0.5])
    assert row["mae"] == abs(0.25 - ref.predict_one([0.2])[0])


def test_list_targets_and_vector_accuracy():
    m = OnlineLSTM(2, 3, seed=0)
    stream = [([1.0, 0.0], [1.0, 0.0, 0.0]), ([0.0, 1.0], [np.nan] * 3), ([0.5, 0.5], [0.0, 0.0, 1.0])]
    df = progressive_val(stream, m, ["accuracy", "mae"], step=5)
    assert m.n_steps_ == 3 and m.n_updates_ == 2
    ref = OnlineLSTM(2, 3, seed=0)
    p1 = ref.learn_one([1.0, 0.0], [1.0, 0.0, 0.0])
    ref.predict_one([0.0, 1.0])
    p3 = ref.learn_one([0.5, 0.5], [0.0, 0.0, 1.0])
    assert df["accuracy"].iloc[-1] == ((np.argmax(p1) == 0) + (np.argmax(p3) == 2)) / 2
    assert df["mae"].iloc[-1] == pytest.approx((np.abs(p1 - [1, 0, 0]).sum() + np.abs(p3 - [0, 0, 1]).sum()) / 6)


def test_accuracy_argmax_and_threshold():
    acc = Accuracy()
    acc.update(np.array([0.0, 1.0, np.nan]), np.array([0.2, 0.7, 0.9]))  # unit 1 vs unit 2: wrong
    acc.update(np.array([1.0, 0.0, 0.0]), np.array([0.6, 0.1, 0.3]))  # right
    acc.update(1.0, 0.7)  # threshold at 0.5: right
    acc.update(0.0, 0.7)  # wrong
    acc.update("cat", "cat")  # labels: equality
    acc.update(2, 1)
    assert acc.get() == 3 / 6
    r = RMSE()
    r.update(np.array([1.0, np.nan]), np.array([0.0, 5.0]))
    r.update(3.0, 1.0)
    assert r.get() == pytest.approx((5 / 2) ** 0.5)


def test_any_model_with_predict_one_and_learn_one():
    class Mean:  # predicts the mean of the targets learned so far
        def __init__(self):
            self.total, self.n, self.resets = 0.0, 0, 0

        def predict_one(self, x):
            return self.total / self.n if self.n else 0.0

        def learn_one(self, x, y):
            self.total += y
            self.n += 1

        def reset(self):
            self.resets += 1

    stream = [({"a": 1}, 2.0), ({"a": 1}, 4.0, True), ({"a": 1}, 6.0)]
    model = Mean()
    df = progressive_val(stream, model, "mae", step=1)
    assert df["mae"].tolist() == [2.0, 2.0, 7 / 3]  # running mean of |2-0|, |4-2|, |6-3|
    assert model.resets == 1


def test_progress_bar():
    stream = [(np.array([0.1]), 0.5)] * 30
    out = io.StringIO()
    bar = tqdm(total=30, file=out)
    df = progressive_val(stream, OnlineLSTM(1, 1, seed=0), step=7, progress=bar)
    bar.close()
    assert "30/30" in out.getvalue()
    assert list(df["step"]) == [7, 14, 21, 28, 30]
    assert isinstance(df, pd.DataFrame)


def test_bad_arguments():
    m = OnlineLSTM(1, 1, seed=0)
    with pytest.raises(ValueError, match="step"):
        progressive_val([], m, step=0)
    with pytest.raises(ValueError, match="unknown metric"):
        progressive_val([], m, "f1")
    with pytest.raises(TypeError, match="update"):
        progressive_val([], m, object())
    with pytest.raises(ValueError, match="distinct"):
        progressive_val([], m, ["mae", MAE()])
    assert progressive_val([], m).empty


@pytest.mark.parametrize("item, says", [((1, 2, 3, 4), "tuple of length 4"), ((np.ones(1),), "tuple of length 1"),
                                         (np.ones(2), "ndarray"), ({"x": 1.0}, "dict")])
def test_a_malformed_stream_item_is_named(item, says):
    m = OnlineLSTM(1, 1, seed=0)
    good = (np.ones(1), 0.5)
    before = m.state_arrays()
    with pytest.raises(InputError, match=f"stream item 2 must be \\(x, y\\) or \\(x, y, new_sequence\\); "
                                         f"got {says}"):
        progressive_val([good, good, item], m)
    ref = OnlineLSTM(1, 1, seed=0)
    ref.learn_many(np.ones((2, 1)), np.full((2, 1), 0.5))
    for k, v in ref.state_arrays().items():  # the two good items were learned, the bad one not
        np.testing.assert_array_equal(m.state_arrays()[k], v, err_msg=k)
    assert any((before[k] != v).any() for k, v in ref.state_arrays().items() if v.size)


@pytest.mark.parametrize("n_out, y, says", [
    (1, [0.3, 0.9, 0.1], r"shape \(1,\) or be a float; got shape \(3,\)"),
    (1, np.zeros((1, 1)), r"y must be 1-D"),
    (2, [0.3, 0.9, 0.1], r"shape \(2,\); got shape \(3,\)"),
    (2, 0.5, "scalar target"),
    (1, np.inf, "finite or NaN"),
    (2, [np.nan, -np.inf], "finite or NaN"),
    (2, ["a", "b"], "float64"),
])
@pytest.mark.parametrize("delay", [None, 2])
def test_a_bad_target_is_named_before_its_step_and_its_score(n_out, y, says, delay):
    """The target is checked before the observation's reset and step, so neither the
    learner nor the metric has taken in any of the bad item; nor the labels due
    before it (they were once learned before the item was checked)."""
    m = OnlineLSTM(1, n_out, seed=0, max_delay=2)
    good = (np.ones(1), np.full(n_out, 0.5))
    mae = MAE()
    with pytest.raises(InputError, match=f"stream item 2: .*{says}"):
        progressive_val([good, good, (np.ones(1), y, True), good], m, mae, delay=delay)
    ref = OnlineLSTM(1, n_out, seed=0, max_delay=2)
    ref_mae = MAE()
    list(iter_progressive_val([good, good], ref, ref_mae, delay=delay))
    if delay:  # item 0's label, due at item 2, waits for a good item 2: two steps, nothing learned
        ref = OnlineLSTM(1, n_out, seed=0, max_delay=2)
        ref.predict_one(good[0])
        ref.predict_one(good[0])
        ref_mae = MAE()
    for k, v in ref.state_arrays().items():
        np.testing.assert_array_equal(m.state_arrays()[k], v, err_msg=k)
    assert (mae.n, mae.total) == (ref_mae.n, ref_mae.total)
    assert m.n_updates_ == (0 if delay else 2)


@pytest.mark.parametrize("x, says", [
    (np.array([np.nan]), "finite"),
    ([np.inf], "finite"),
    (np.ones(2), r"shape \(1,\)"),
    (["a"], "float64"),
])
@pytest.mark.parametrize("delay", [None, 2])
def test_a_bad_input_on_a_new_sequence_is_refused_before_the_reset(x, says, delay):
    """A refused item that starts a sequence must not reset the learner first:
    the states, traces and the update accumulated for the sequence survive."""
    m = OnlineLSTM(1, 1, seed=0, max_delay=2, update="sequence")
    good = (np.ones(1), 0.5)
    with pytest.raises(InputError, match=f"stream item 2: .*{says}"):
        progressive_val([good, good, (x, 0.5, True), good], m, "mae", delay=delay)
    ref = OnlineLSTM(1, 1, seed=0, max_delay=2, update="sequence")
    list(iter_progressive_val([good, good], ref, "mae", delay=delay))
    if delay:  # item 0's label, due at item 2, waits for a good item 2
        ref = OnlineLSTM(1, 1, seed=0, max_delay=2, update="sequence")
        ref.predict_one(good[0])
        ref.predict_one(good[0])
    assert m.n_resets_ == ref.n_resets_
    for k, v in ref.state_arrays().items():
        np.testing.assert_array_equal(m.state_arrays()[k], v, err_msg=k)


@pytest.mark.parametrize("flag", ["no", np.array([True, False]), [1], b"1"])
def test_a_new_sequence_flag_that_is_no_truth_value_is_refused(flag):
    """"no" once reset the learner (any truthy value did), and an array gave NumPy's error."""
    m = OnlineLSTM(1, 1, seed=0, max_delay=2)
    good = (np.ones(1), 0.5)
    with pytest.raises(InputError, match="stream item 1: new_sequence must be a bool or a number"):
        progressive_val([good, (np.ones(1), 0.5, flag)], m, "mae", delay=2)
    assert m.n_resets_ == 0 and m.n_steps_ == 1 and m.n_updates_ == 0


def test_new_sequence_flags_that_mean_no_reset():
    pd = pytest.importorskip("pandas")
    m = OnlineLSTM(1, 1, seed=0)
    flags = [True, False, 0, None, np.nan, pd.NA, np.bool_(True), 1.0]
    progressive_val([(np.ones(1), 0.5, f) for f in flags], m, "mae")
    assert m.n_resets_ == 3 and m.seq_step_ == 1


def test_a_metric_that_keeps_predictions_gets_each_its_own():
    """The learner's output buffer is the next step's: a metric keeping y_pred
    (a rolling window) once saw every kept prediction turn into the last."""
    class Keep:
        def __init__(self):
            self.kept = []

        def update(self, y, y_pred):
            self.kept.append(y_pred)

        def get(self):
            return len(self.kept)

    X = np.random.default_rng(0).uniform(size=(5, 2))
    for delay in (None, 1):
        keep, m, ref = Keep(), OnlineLSTM(2, 3, seed=0), OnlineLSTM(2, 3, seed=0)
        progressive_val([(x, np.full(3, 0.5)) for x in X], m, keep, delay=delay)
        want = [ref.learn_one(x, np.full(3, 0.5)) for x in X]
        assert len(keep.kept) == 5
        for got, w in zip(keep.kept, want):
            np.testing.assert_array_equal(got, w)


def test_accuracy_of_float_class_labels_is_equality():
    """The side-of-0.5 rule is for a 0/1 target and a logistic output; float
    class labels (1.0, 2.0, 3.0) are right only when equal."""
    from online_lstm.evaluate import Accuracy

    class Always2:
        def predict_one(self, x):
            return 2.0

        def learn_one(self, x, y):
            pass

    df = progressive_val([({"a": 1}, 1.0), ({"a": 1}, 3.0), ({"a": 1}, 2.0)], Always2(), "accuracy", step=10)
    assert df["accuracy"].iloc[-1] == pytest.approx(1 / 3)
    acc = Accuracy()
    for y, p in ((1.0, 0.7), (0.0, 0.2), (1.0, 0.3), (np.float64(0.0), np.array([0.9]))):
        acc.update(y, p)  # 0/1 targets, logistic outputs: the side of 0.5
    assert (acc.correct, acc.n) == (2, 4)


def test_predictions_of_none_and_all_nan_targets_are_not_scored():
    """A River classifier's None before it has seen a label is not a wrong
    prediction, and an all-NaN target array is no target, as None is."""
    class Late:
        def __init__(self):
            self.seen = False

        def predict_one(self, x):
            return "a" if self.seen else None

        def learn_one(self, x, y):
            self.seen = True

    assert progressive_val([({"f": 1}, "a")] * 4, Late(), "accuracy", step=10)["accuracy"].iloc[-1] == 1.0
    from conftest import CountMetric

    for missing in (np.array([np.nan]), [np.nan], None, np.nan):
        count = CountMetric()
        stream = [([0.1], 1.0), ([0.2], missing), ([0.3], missing)]
        progressive_val(stream, OnlineLSTM(1, 1, seed=0), count, step=10)
        assert count.n == 1, missing


def test_docstring_example():
    import doctest

    import online_lstm.evaluate

    res = doctest.testmod(online_lstm.evaluate, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert res.failed == 0 and res.attempted > 0


def test_delayed_labels_match_a_hand_loop_and_river():
    """delay=d: the label of observation i is scored and learned just before
    observation i + d, each from its own step (learn_delayed, age d - 1);
    the owed labels arrive at the end.  Checked against a hand loop, and the
    ordering against River's own progressive_val_score with a River model."""
    rng = np.random.default_rng(3)
    d = 4
    stream = _stream(rng, 120, 3, 2, p_nan=0.2)
    m = OnlineLSTM(3, 2, n_blocks=2, lr=0.5, seed=1, max_delay=d - 1)
    hand = m.clone()
    df = progressive_val(stream, m, "mae", step=50, delay=d)
    owed, err, n_err = [], 0.0, 0
    for i, (x, y, start) in enumerate(stream + [(None, None, False)] * d):
        if i < len(stream):
            while owed and owed[0][0] + d <= i:
                j, yj, pj = owed.pop(0)
                has = ~np.isnan(yj)
                err, n_err = err + np.abs(yj - pj)[has].sum(), n_err + has.sum()
                hand.learn_delayed(yj, i - 1 - j)
            if start:
                hand.reset()
            p = hand.predict_one(x)
            if not np.all(np.isnan(y)):
                owed.append((i, y, p))
    for j, yj, pj in owed:
        has = ~np.isnan(yj)
        err, n_err = err + np.abs(yj - pj)[has].sum(), n_err + has.sum()
        hand.learn_delayed(yj, len(stream) - 1 - j)
    assert df["step"].tolist() == [50, 100, 120]
    assert df["mae"].iloc[-1] == pytest.approx(err / n_err, rel=1e-12)
    for a, b in zip(m.state_arrays().values(), hand.state_arrays().values()):
        assert np.array_equal(a, b)
    with pytest.raises(ValueError, match="max_delay >= 4"):
        progressive_val(stream, m.clone(), delay=5)

    river = pytest.importorskip("river")
    from river import evaluate, linear_model, metrics

    data = [({"a": float(x[0]), "b": float(x[1])}, float(y[0])) for x, y, _ in stream
            if not np.isnan(y[0])]
    ours = progressive_val(data, linear_model.LinearRegression(), metrics.MAE(), delay=d)
    theirs = evaluate.progressive_val_score(data, linear_model.LinearRegression(), metrics.MAE(),
                                            delay=d)
    assert river and ours["MAE"].iloc[-1] == pytest.approx(theirs.get(), rel=1e-12)


def test_labels_one_observation_late_need_no_snapshots():
    """delay=1: each label arrives before the next observation, i.e. for the
    last step, which learn_last serves on a learner with max_delay=0.  The
    learning is that of delay 0, bit for bit; a row is written before the
    label of its last observation arrives, so only the rows' scores lag."""
    rng = np.random.default_rng(3)
    stream = _stream(rng, 40, 2, 1)
    a, b = OnlineLSTM(2, 1, 2, seed=1), OnlineLSTM(2, 1, 2, seed=1)
    late = progressive_val(stream, a, step=10, delay=1)
    now = progressive_val(stream, b, step=10)
    assert late["step"].tolist() == [10, 20, 30, 40, 40]
    assert late["mae"].iloc[-1] == now["mae"].iloc[-1]
    assert a.n_updates_ == b.n_updates_ > 0
    assert all(np.array_equal(v, b.state_arrays()[k]) for k, v in a.state_arrays().items())


def test_edge_arguments_of_progressive_val():
    m = OnlineLSTM(1, 1, seed=0, max_delay=2)
    assert progressive_val([], m, delay=3).empty  # no observation, no row (and no 0/0)
    stream = [(np.array([0.1]), 0.5)] * 4
    assert progressive_val(stream, OnlineLSTM(1, 1, seed=0), step=np.int64(2))["step"].tolist() == [2, 4]
    for bad in (True, np.True_, 1.5, "2"):
        with pytest.raises(ValueError, match="step must be a positive integer"):
            progressive_val(stream, OnlineLSTM(1, 1, seed=0), step=bad)
    by_np = progressive_val(stream, OnlineLSTM(1, 1, seed=0, max_delay=1), delay=np.int64(2))
    by_int = progressive_val(stream, OnlineLSTM(1, 1, seed=0, max_delay=1), delay=2)
    assert by_np[["step", "mae"]].equals(by_int[["step", "mae"]])
    for bad in (True, np.True_, 1.5, "2", -1):
        with pytest.raises(ValueError, match="delay must be None or an integer >= 0"):
            progressive_val(stream, OnlineLSTM(1, 1, seed=0), delay=bad)


def test_a_model_without_reset_is_told_how_to_mark_sequences():
    class NoReset:
        def predict_one(self, x):
            return 0.0

        def learn_one(self, x, y):
            pass

    with pytest.raises(InputError, match="item 1 starts a new sequence, but NoReset has no "
                                         "reset\\(\\).*reset_key"):
        progressive_val([({"a": 1}, 1.0), ({"a": 1}, 1.0, True)], NoReset())


@pytest.mark.parametrize("kind", ["rtrl", "bptt-w3"])
def test_the_competitors_take_one_step_per_observation(kind):
    """RTRL and BPTT advance their state in predict_one, as OnlineLSTM does; they
    were once run as River models (predict_one, then learn_one with the same
    x), two recurrent steps per observation with a target, and scored wrong."""
    from online_lstm.baselines import BPTT, RTRL

    def make():
        return RTRL(3, 2, 2, lr=0.5, seed=1) if kind == "rtrl" else BPTT(3, 2, 2, lr=0.5, seed=1, window=3)

    rng = np.random.default_rng(0)
    stream = _stream(rng, 250, 3, 2)
    m, hand = make(), make()
    abs_err, n = 0.0, 0
    for x, y, start in stream:
        if start:
            hand.reset()
        y_hat = hand.learn_one(x, y)
        has = ~np.isnan(y)
        abs_err += np.abs(y - y_hat)[has].sum()
        n += has.sum()
    df = progressive_val(stream, m, "mae", step=100)
    assert df["mae"].iloc[-1] == pytest.approx(abs_err / n, rel=1e-12)
    assert m.n_steps_ == hand.n_steps_ == 250 and m.n_resets_ == hand.n_resets_ > 0
    assert all(np.array_equal(v, hand.state_arrays()[k]) for k, v in m.state_arrays().items())
    late = make()
    assert progressive_val(stream, late, "mae", step=100, delay=1)["mae"].iloc[-1] == df["mae"].iloc[-1]
    assert all(np.array_equal(v, hand.state_arrays()[k]) for k, v in late.state_arrays().items())
    with pytest.raises(ValueError, match="learn_last.*delay must be 0 or 1"):
        progressive_val(stream, make(), delay=2)
    bad = make()
    with pytest.raises(InputError, match=r"stream item 1: .*shape \(3,\)"):
        progressive_val([stream[0], (np.ones(2), stream[1][1])], bad)
    assert bad.n_steps_ == 1


@pytest.mark.parametrize("max_delay, delay", [(3, 2), (3, None), (0, None), (0, 1)])
def test_river_adapters_see_observations_without_labels(max_delay, delay):
    """A River adapter takes one step per predict_one and learns each label
    from a step it remembers (the pending one, or with max_delay > 0 the
    oldest predicted one not yet labelled).  The helper never told it that an
    observation had no label: with max_delay > 0 every later label went to
    the wrong step or was skipped as late (3 updates of 17 here), and with
    max_delay = 0 an unlabelled observation followed by an equal x merged
    into one step.  Now it gets learn_one(x, None) in the label order, as in
    River's own loop; each label is learned from its own step."""
    pytest.importorskip("river")
    from online_lstm.river import LSTMRegressor

    rng = np.random.default_rng(0)
    xs = [{"a": float(v)} for v in rng.normal(size=40)]
    xs[11] = dict(xs[10])  # an unlabelled observation, then an equal labelled one
    ys = [float(np.tanh(2 * x["a"])) if rng.random() < 0.4 else None for x in xs]
    ys[10], ys[11] = None, 0.5
    model = LSTMRegressor(n_blocks=2, seed=0, max_delay=max_delay, target_range=(-1, 1))
    df = progressive_val(list(zip(xs, ys)), model, "mae", step=100, delay=delay)
    hand = LSTMRegressor(n_blocks=2, seed=0, max_delay=max_delay, target_range=(-1, 1))
    hand.predict_one(xs[0])  # builds the input layer
    m, d, owed, err = copy.deepcopy(hand.learner_), delay or 0, [], []
    target = lambda y: (y + 1) / (2 / 0.8) + 0.1  # noqa: E731  the documented map, margin 0.1

    def learn(j, y):
        age = m.n_steps_ - 1 - j
        m.learn_delayed(target(y), age) if age else m.learn_last(target(y))

    for i, (x, y) in enumerate(zip(xs, ys)):
        while owed and owed[0][0] + d <= i:
            learn(*owed.pop(0))
        p = m.predict_one(np.array([x["a"]]))[0] if i else hand.learner_.state_["y_k"][0]
        if y is not None:
            owed.append((i, y))
            err.append(abs(y - (-1 + (p - 0.1) * 2 / 0.8)))
        if not d and owed:
            learn(*owed.pop(0))
    for j, y in owed:
        learn(j, y)
    assert model.n_late_labels_ == 0
    assert (model.learner_.n_steps_, model.learner_.n_updates_) == (40, sum(y is not None for y in ys))
    _same_learner(model.learner_, m)
    assert df["mae"].iloc[-1] == pytest.approx(np.mean(err), rel=1e-9)


def test_an_adapter_at_the_end_of_a_pipeline_sees_observations_without_labels():
    pytest.importorskip("river")
    from river import preprocessing

    from online_lstm.river import LSTMClassifier

    rng = np.random.default_rng(1)
    stream = [({"a": float(rng.normal())}, ("p", "q")[t % 2] if t % 3 == 0 else None) for t in range(60)]
    model = preprocessing.StandardScaler() | LSTMClassifier(n_blocks=2, seed=0, max_delay=2)
    progressive_val(stream, model, "accuracy", step=100, delay=2)
    clf = model["LSTMClassifier"]
    assert clf.n_late_labels_ == 0 and not clf._waiting
    assert clf.learner_.n_updates_ == 20 and clf.learner_.n_steps_ == 60


def _same_learner(a, b):
    sa, sb = a.state_arrays(), b.state_arrays()
    for key in ("theta", "dW", "T", "record"):
        np.testing.assert_array_equal(sa[key], sb[key], err_msg=key)


def test_rows_before_the_first_label_say_that_nothing_was_scored():
    """With labels 30 observations late, the rows at 10 and 20 observations
    read MAE 0.0 from nothing: ``scored`` says so (0), and counts the labels
    once they arrive."""
    rng = np.random.default_rng(3)
    stream = [(rng.uniform(-1, 1, 2), float(rng.uniform(0.2, 0.8)), False) for _ in range(50)]
    m = OnlineLSTM(2, 1, seed=0, max_delay=29)
    df = progressive_val(stream, m, "mae", step=10, delay=30)
    assert list(df["step"]) == [10, 20, 30, 40, 50, 50]
    assert list(df["scored"]) == [0, 0, 0, 10, 20, 50]
    assert (df["mae"].iloc[:3] == 0.0).all() and (df["mae"].iloc[3:] > 0).all()
