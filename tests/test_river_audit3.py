"""Third audit of the River adapters and of evaluate.progressive_val: the
stepping contract under every call pattern River and a user make, the
documented feature-schema policy claim by claim, and the progressive
validation's rows, metrics, stream shapes and failures."""

import copy
import datetime as dt
import itertools
import math
import pickle
import warnings

import numpy as np
import pytest

river = pytest.importorskip("river")
from river import compose, datasets, evaluate, linear_model, metrics, preprocessing, stream  # noqa: E402

from online_lstm import OnlineLSTM  # noqa: E402
from online_lstm.errors import InputError  # noqa: E402
from online_lstm.evaluate import MAE, RMSE, Accuracy, iter_progressive_val, progressive_val  # noqa: E402
from online_lstm.river import LSTMClassifier, LSTMRegressor  # noqa: E402


def _steps(model):
    return model.learner_.n_steps_


def _weights(model):
    return {k: v.copy() for k, v in model.learner_.get_weights().items()}


def _same_weights(a, b):
    wa, wb = _weights(a), _weights(b)
    return wa.keys() == wb.keys() and all(np.array_equal(wa[k], wb[k]) for k in wa)


def _data(n, seed=0):
    rng = np.random.default_rng(seed)
    return [({"a": float(rng.normal()), "b": float(rng.normal())}, float(rng.normal())) for _ in range(n)]


# ---------------------------------------------------------------------------
# progressive_val: rows
# ---------------------------------------------------------------------------
def test_with_a_delay_no_last_row_repeats_the_row_before_when_nothing_was_left_to_score():
    """The last row comes after the labels still owed; when the stream ends on
    observations without a target nothing is owed, and a second row with the
    same step and the same scores was yielded all the same."""
    stream = [(np.array([1.0]), 0.5 if i < 6 else None) for i in range(10)]
    df = progressive_val(stream, OnlineLSTM(1, 1, n_blocks=1, seed=0, max_delay=1), "mae",
                         step=5, delay=2)
    assert list(df["step"]) == [5, 10]
    # labels owed at the end and scored then: a last row of the same step count, other scores
    stream = [(np.array([1.0]), 0.5 + 0.01 * i) for i in range(10)]
    df = progressive_val(stream, OnlineLSTM(1, 1, n_blocks=1, seed=0, max_delay=1), "mae",
                         step=5, delay=2)
    assert list(df["step"]) == [5, 10, 10]
    assert df["mae"].iloc[2] != df["mae"].iloc[1]


class _Silent:
    """A learner of one's own that never predicts anything."""

    def predict_one(self, x):
        return None

    def learn_one(self, x, y):
        pass


def test_the_none_prediction_warning_names_the_callers_line():
    """The warning pointed into evaluate.py (the list() inside
    progressive_val) rather than at the line that asked for the scores."""
    stream = [(1.0, 1.0)] * 5
    with pytest.warns(RuntimeWarning, match="returned None") as rec:
        progressive_val(stream, _Silent(), step=2)
    assert [w.filename for w in rec] == [__file__]
    with pytest.warns(RuntimeWarning, match="returned None") as rec:
        for _ in iter_progressive_val(stream, _Silent(), step=2):
            pass
    assert [w.filename for w in rec] == [__file__]


# ---------------------------------------------------------------------------
# progressive_val: metrics
# ---------------------------------------------------------------------------
def _regression_stream(n=60):
    return [({"a": float(i % 3), "b": float(i % 5)}, float(i % 3) + 0.1 * (i % 5)) for i in range(n)]


def test_a_river_metrics_collection_is_a_column_per_member_as_river_reports_it():
    """metrics.MAE() + metrics.RMSE() made one column "Metrics" holding lists."""
    data = _regression_stream()
    ref = list(evaluate.iter_progressive_val_score(data, linear_model.LinearRegression(),
                                                   metrics.MAE() + metrics.RMSE(), step=20))
    df = progressive_val(data, linear_model.LinearRegression(), metrics.MAE() + metrics.RMSE(), step=20)
    assert list(df.columns) == ["step", "MAE", "RMSE", "seconds", "us_per_obs", "scored"]
    assert df["MAE"].iloc[-1] == ref[-1]["MAE"].get()
    assert df["RMSE"].iloc[-1] == ref[-1]["RMSE"].get()
    # an empty stream: the same columns
    empty = progressive_val([], linear_model.LinearRegression(), metrics.MAE() + metrics.RMSE())
    assert list(empty.columns) == list(df.columns)
    # with a metric of its own beside it, and a collection of two of one class refused by name
    df = progressive_val(data, linear_model.LinearRegression(), [metrics.MAE() + metrics.RMSE(), "mae"],
                         step=20)
    assert list(df.columns) == ["step", "MAE", "RMSE", "mae", "seconds", "us_per_obs", "scored"]
    with pytest.raises(ValueError, match="distinct"):
        progressive_val(data, linear_model.LinearRegression(), metrics.MAE() + metrics.MAE())


def test_a_collection_of_label_and_probability_metrics_scores_as_river_does():
    """Accuracy + ROCAUC: probabilities are asked for, Accuracy gets the
    most likely class, each member its own column."""
    data = list(itertools.islice(datasets.Phishing(), 150))

    def model():
        return preprocessing.StandardScaler() | linear_model.LogisticRegression()

    ref = metrics.Accuracy() + metrics.ROCAUC()
    evaluate.progressive_val_score(data, model(), ref)
    df = progressive_val(data, model(), metrics.Accuracy() + metrics.ROCAUC(), step=1000)
    assert [df["Accuracy"].iloc[-1], df["ROCAUC"].iloc[-1]] == ref.get()


# ---------------------------------------------------------------------------
# the adapters: one step per observation, whatever River or a user calls
# ---------------------------------------------------------------------------
def _primed(cls, **kw):
    """An adapter that has seen features a and b (and, a classifier, two
    classes), and a copy of its learner to drive by hand."""
    m = cls(n_blocks=2, seed=4, target_range=(-3, 3), **kw) if cls is LSTMRegressor else \
        cls(n_blocks=2, seed=4, **kw)
    m.learn_one({"a": 0.3, "b": -0.2}, 1.0 if cls is LSTMRegressor else "u")
    if cls is LSTMClassifier:
        m.learn_one({"a": -0.3, "b": 0.2}, "v")
    return m, copy.deepcopy(m.learner_)


def _target(cls, y):
    """What the adapter feeds its learner for label y (regressor: range (-3, 3), margin 0.1)."""
    if cls is LSTMRegressor:
        return np.array([(y + 3.0) / 7.5 + 0.1])
    return np.array([1.0, 0.0]) if y == "u" else np.array([0.0, 1.0])


def _assert_same(adapter, hand):
    assert adapter.learner_.n_steps_ == hand.n_steps_
    assert adapter.learner_.n_updates_ == hand.n_updates_
    w, h = adapter.learner_.get_weights(), hand.get_weights()
    for k in w:
        np.testing.assert_array_equal(w[k], h[k])


LABEL = {LSTMRegressor: 0.7, LSTMClassifier: "v"}


@pytest.mark.parametrize("cls", [LSTMRegressor, LSTMClassifier])
@pytest.mark.parametrize("how", ["equal copy", "mutated", "other features", "no features"])
def test_learn_one_right_after_predict_one_learns_that_step_whatever_x_is(cls, how):
    m, hand = _primed(cls)
    x = {"a": 0.5, "b": 1.5}
    m.predict_one(x)
    if how == "equal copy":
        later = dict(x)
    elif how == "mutated":
        x["a"] = 9.0
        later = x
    elif how == "other features":
        later = {"a": -1.0, "c": 4.0}  # not read: c gets no input unit
    else:
        later = {}
    m.learn_one(later, LABEL[cls])
    hand.predict_one(np.array([0.5, 1.5]))
    hand.learn_last(_target(cls, LABEL[cls]))
    _assert_same(m, hand)
    assert m.feature_names_ == ["a", "b"]


@pytest.mark.parametrize("cls", [LSTMRegressor, LSTMClassifier])
def test_predict_one_twice_then_learn_one(cls):
    """Equal content (another dict, int for float) is the same observation:
    one step, the same answer.  Other content is a new observation: a new
    step, and the label goes to it; the first is never learned from."""
    m, hand = _primed(cls)
    p1 = m.predict_one({"a": 1.0, "b": 2.0})
    p2 = m.predict_one({"b": 2, "a": 1})  # another dict, other key order, ints
    assert p1 == p2 and _steps(m) == hand.n_steps_ + 1
    m.predict_one({"a": 1.0, "b": 2.5})
    m.learn_one({"a": 1.0, "b": 2.5}, LABEL[cls])
    hand.predict_one(np.array([1.0, 2.0]))
    hand.predict_one(np.array([1.0, 2.5]))
    hand.learn_last(_target(cls, LABEL[cls]))
    _assert_same(m, hand)


@pytest.mark.parametrize("cls", [LSTMRegressor, LSTMClassifier])
def test_learn_one_without_predict_one_is_one_step_with_learning(cls):
    m, hand = _primed(cls)
    m.predict_one({"a": 0.1, "b": 0.1})
    m.learn_one({"a": 0.1, "b": 0.1}, LABEL[cls])  # the pending step is learned: none left
    m.learn_one({"a": 2.0, "b": -1.0}, LABEL[cls])
    hand.predict_one(np.array([0.1, 0.1]))
    hand.learn_last(_target(cls, LABEL[cls]))
    hand.learn_one(np.array([2.0, -1.0]), _target(cls, LABEL[cls]))
    _assert_same(m, hand)


@pytest.mark.parametrize("first", ["predict_proba_one", "predict_one"])
def test_predict_proba_one_and_predict_one_for_one_observation_are_one_step(first):
    m, hand = _primed(LSTMClassifier)
    x = {"a": 0.4, "b": -0.8}
    second = "predict_one" if first == "predict_proba_one" else "predict_proba_one"
    a = getattr(m, first)(x)
    b = getattr(m, second)(dict(x))
    proba, label = (a, b) if first == "predict_proba_one" else (b, a)
    assert label == max(proba, key=proba.get)
    m.learn_one(x, "u")
    out = hand.predict_one(np.array([0.4, -0.8]))
    assert proba == pytest.approx({"u": out[0] / out.sum(), "v": out[1] / out.sum()}, rel=1e-15)
    hand.learn_last(_target(LSTMClassifier, "u"))
    _assert_same(m, hand)


def test_a_scaled_pipeline_asked_twice_per_observation_takes_one_step_each():
    """The scaler makes a new dict for each call; between two questions it has
    not learned, so the dicts are equal and the second question is the same
    observation."""
    data = [({"a": float(i % 3), "b": float(i % 5)}, "u" if i % 2 else "v") for i in range(40)]
    pipe = preprocessing.StandardScaler() | LSTMClassifier(n_blocks=2, seed=0)
    lone = preprocessing.StandardScaler() | LSTMClassifier(n_blocks=2, seed=0)
    for x, y in data:
        assert pipe.predict_proba_one(x) == lone.predict_proba_one(x)
        pipe.predict_one(x)
        pipe.predict_proba_one(x)
        pipe.learn_one(x, y)
        lone.learn_one(x, y)
    assert _steps(pipe["LSTMClassifier"]) == _steps(lone["LSTMClassifier"]) == len(data)
    assert _same_weights(pipe["LSTMClassifier"], lone["LSTMClassifier"])


@pytest.mark.parametrize("max_delay, late", [(2, 0), (1, "some")])
def test_rivers_loop_with_a_moment_and_a_timedelta_delay(max_delay, late):
    """moment="t", delay of 3 minutes, one observation a minute: River hands
    a label over before the observation 3 minutes later is predicted, so it
    is 2 steps old: max_delay=2 learns every label from its own step (as an
    OnlineLSTM driven in River's order), max_delay=1 skips them as late."""
    t0 = dt.datetime(2024, 1, 1)
    rng = np.random.default_rng(1)
    rows = [({"t": t0 + dt.timedelta(minutes=i), "a": float(rng.normal())}, float(rng.uniform(-2, 2)))
            for i in range(60)]
    model = compose.Discard("t") | LSTMRegressor(n_blocks=2, seed=2, max_delay=max_delay,
                                                 target_range=(-3, 3))
    lstm = model["LSTMRegressor"]
    hand = copy.deepcopy(lstm.learner_)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore" if late else "error", RuntimeWarning)
        evaluate.progressive_val_score(rows, model, metrics.MAE(), moment="t",
                                       delay=dt.timedelta(minutes=3))
    if late:
        assert lstm.n_late_labels_ > 0
        return
    assert lstm.n_late_labels_ == 0
    step = {}
    for i, x, y in stream.simulate_qa(rows, "t", dt.timedelta(minutes=3)):
        if y is None:
            hand.predict_one(np.array([x["a"]]))
            step[i] = hand.n_steps_ - 1
        else:
            hand.learn_delayed(np.array([(y + 3.0) / 7.5 + 0.1]), hand.n_steps_ - 1 - step[i])
    _assert_same(lstm, hand)


def test_clone_is_a_fresh_model_with_the_same_parameters_and_initial_weights():
    params = dict(n_blocks=2, seed=[3, 4], max_delay=2, reset_key="r", id_key="id", target_range=(0, 5))
    m = LSTMRegressor(**params)
    for i in range(6):
        m.predict_one({"a": float(i), "b": 1.0, "id": i})
        m.learn_one({"a": float(i), "id": i}, 1.0)
    c = m.clone()
    fresh = LSTMRegressor(**params)
    assert c._get_params() == fresh._get_params() and c.seed is not m.seed
    assert (_steps(c), c.feature_names_, c.target_range_) == (0, [], (0.0, 5.0))
    assert _same_weights(c, fresh) and not _same_weights(c, m)
    k = LSTMClassifier(seed=0)
    k.learn_one({"a": 1.0}, "x")
    assert k.clone().classes_ == [] and k.clone({"lr": 0.1}).lr == 0.1


@pytest.mark.parametrize("cls", [LSTMRegressor, LSTMClassifier])
def test_every_unit_test_configuration_runs_rivers_loop_one_step_per_observation(cls):
    data = [({"a": float(i % 3), "b": float(i % 5)}, float(i % 2) if cls is LSTMRegressor else i % 2 == 0)
            for i in range(30)]
    for params in cls._unit_test_params():
        model = preprocessing.StandardScaler() | cls(seed=0, **params)
        delay = params.get("max_delay") or None
        evaluate.progressive_val_score(data, model, metrics.MAE() if cls is LSTMRegressor
                                       else metrics.Accuracy(), delay=delay)
        lstm = model[cls.__name__]
        assert _steps(lstm) == lstm.learner_.n_updates_ == len(data)
        assert lstm.n_late_labels_ == 0


# ---------------------------------------------------------------------------
# the feature policy of docs/river.md, claim by claim
# ---------------------------------------------------------------------------
def _run(model, rows):
    preds = []
    for x, y in rows:
        preds.append(model.predict_one(x))
        model.learn_one(x, y)
    return preds


def test_the_key_order_of_a_dict_never_matters():
    rows = _data(30)
    a = LSTMRegressor(n_blocks=2, seed=5)
    b = LSTMRegressor(n_blocks=2, seed=5)
    assert _run(a, rows) == _run(b, [(dict(reversed(list(x.items()))), y) for x, y in rows])
    assert a.feature_names_ == b.feature_names_ == ["a", "b"]
    assert _same_weights(a, b)


def test_a_missing_key_none_nan_and_pd_na_are_input_zero():
    pd = pytest.importorskip("pandas")
    rows = _data(20)
    ref = LSTMRegressor(n_blocks=2, seed=5)
    want = _run(ref, [(dict(x, b=0.0) if i % 3 == 0 else x, y) for i, (x, y) in enumerate(rows)])
    drop = object()
    for absent in (None, math.nan, pd.NA, drop):
        m = LSTMRegressor(n_blocks=2, seed=5)
        got = _run(m, [((({k: v for k, v in x.items() if k != "b"} if absent is drop else
                          dict(x, b=absent)) if i % 3 == 0 else x), y) for i, (x, y) in enumerate(rows)])
        assert got == want
        assert _same_weights(m, ref)


def test_features_that_disappear_and_come_back_are_zero_while_absent():
    rows = _data(30)
    gap = [({"a": x["a"]} if 10 <= i < 20 else x, y) for i, (x, y) in enumerate(rows)]
    zero = [(dict(x, b=0.0) if 10 <= i < 20 else x, y) for i, (x, y) in enumerate(rows)]
    a, b = LSTMRegressor(n_blocks=2, seed=6), LSTMRegressor(n_blocks=2, seed=6)
    assert _run(a, gap) == _run(b, zero)
    assert _same_weights(a, b) and a.learner_.layout.n_in == 2


def test_a_source_that_is_always_zero_keeps_its_initial_weights():
    m = LSTMRegressor(n_blocks=2, seed=7)
    m.predict_one({"a": 1.0, "z": 0.0})  # z: input unit 1, never anything but 0
    before = _weights(m)
    _run(m, [(dict(x, z=0.0) if i % 2 else {"a": x["a"]}, y) for i, (x, y) in enumerate(_data(40))])
    after = _weights(m)
    for name in ("W_in", "W_out", "W_c"):
        np.testing.assert_array_equal(after[name][:, 1], before[name][:, 1])
        assert not np.array_equal(after[name][:, 0], before[name][:, 0])  # a's moved


@pytest.mark.parametrize("cls", [LSTMRegressor, LSTMClassifier])
def test_a_categorical_value_is_refused_saying_to_one_hot_encode_and_changes_nothing(cls):
    m, _ = _primed(cls)
    before = pickle.dumps(m)
    with pytest.raises(InputError, match="OneHotEncoder"):
        m.learn_one({"a": 2.0, "colour": "red"}, LABEL[cls])  # no step pending: x is read
    assert pickle.dumps(m) == before
    m.predict_one({"a": 1.0, "b": 1.0})
    before = pickle.dumps(m)
    with pytest.raises(InputError, match="OneHotEncoder"):
        m.predict_one({"a": 1.0, "colour": "red"})  # another observation: a step of its own
    assert pickle.dumps(m) == before and m.feature_names_ == ["a", "b"]
    # learn_one right after predict_one reads no x (the scaler rule): the pending step is learned
    m.learn_one({"a": 1.0, "colour": "red"}, LABEL[cls])
    assert m.feature_names_ == ["a", "b"] and not m.learner_.pending_


# ---------------------------------------------------------------------------
# progressive_val: a model that fails mid-stream
# ---------------------------------------------------------------------------
class _Seen:
    """A metric that keeps what it is given."""

    def __init__(self):
        self.pairs = []

    def update(self, y_true, y_pred):
        self.pairs.append((y_true, y_pred))

    def get(self):
        return len(self.pairs)


class _FailsToLearn:
    """Learns nothing, and refuses the label of observation ``bad``."""

    def __init__(self, bad):
        self.bad, self.calls = bad, []

    def predict_one(self, x):
        self.calls.append(("predict", x))
        return 0.0

    def learn_one(self, x, y):
        self.calls.append(("learn", x))
        if x == self.bad:
            raise RuntimeError("refused")


@pytest.mark.parametrize("delay", [None, 3])
def test_a_model_failing_mid_stream_leaves_the_rows_before_it_and_its_label_scored(delay):
    """As documented: the rows yielded before the failure are the partial
    result, and the label the model failed to learn was scored already."""
    model, seen, rows = _FailsToLearn(bad=7), _Seen(), []
    with pytest.raises(RuntimeError, match="refused"):
        for r in iter_progressive_val([(i, 1.0) for i in range(20)], model, seen, step=5, delay=delay):
            rows.append(r)
    assert [r["step"] for r in rows] == ([5] if delay is None else [5, 10])
    assert seen.pairs == [(1.0, 0.0)] * 8  # observations 0..7 scored, 7 included
    assert model.calls[-1] == ("learn", 7)
    # the labels of 0..6 were learned before it, in order
    assert [x for c, x in model.calls if c == "learn"] == list(range(8))


def _fake_bars(monkeypatch):
    import io

    import tqdm.auto
    from tqdm import tqdm as plain_tqdm

    made = []

    def fake(**kw):
        made.append(plain_tqdm(file=io.StringIO(), **kw))
        return made[-1]

    monkeypatch.setattr(tqdm.auto, "tqdm", fake)
    return made


def test_the_bar_it_makes_is_closed_when_the_model_fails_or_the_caller_stops(monkeypatch):
    made = _fake_bars(monkeypatch)
    with pytest.raises(RuntimeError):
        progressive_val([(i, 1.0) for i in range(20)], _FailsToLearn(bad=7), progress=True)
    assert made[-1].n == 7 and made[-1].total == 20 and made[-1].disable  # closed: disable is set
    rows = iter_progressive_val(iter([(i, 1.0) for i in range(20)]), _FailsToLearn(bad=-1),
                                step=5, progress=True, total=20)
    next(rows)
    rows.close()
    assert made[-1].n == 5 and made[-1].total == 20 and made[-1].disable


# ---------------------------------------------------------------------------
# progressive_val: stream items and rows
# ---------------------------------------------------------------------------
def _seq_stream(n=40, seed=3):
    rng = np.random.default_rng(seed)
    return [(rng.uniform(-1, 1, 2), float(rng.uniform(0.2, 0.8)) if i % 4 == 3 else None, i % 4 == 0)
            for i in range(n)]


def test_pairs_triples_and_a_mix_are_one_stream():
    """(x, y) is (x, y, False); items of both kinds may mix."""
    items = _seq_stream()
    no_reset = [(x, y, False) for x, y, _ in items]
    pairs = [(x, y) for x, y, _ in items]
    mixed = [(x, y) if i % 2 else (x, y, False) for i, (x, y, _) in enumerate(items)]
    runs = []
    for s in (no_reset, pairs, mixed):
        m = OnlineLSTM(2, 1, n_blocks=2, seed=0)
        df = progressive_val(s, m, ["mae", "rmse"], step=10)
        runs.append((df[["step", "mae", "rmse"]].values.tolist(), m.get_weights()))
    for rows, w in runs[1:]:
        assert rows == runs[0][0]
        for k in w:
            np.testing.assert_array_equal(w[k], runs[0][1][k])
    resets = OnlineLSTM(2, 1, n_blocks=2, seed=0)
    df = progressive_val(items, resets, "mae", step=10)
    assert df["mae"].iloc[-1] != runs[0][0][-1][1]  # the flags of the triples are read


def test_rivers_triples_of_learn_one_arguments_are_refused_before_any_step():
    """River's datasets may yield (x, y, kwargs); here the third entry is the
    sequence flag, so a dict is refused, naming the item, before any call."""
    model = _FailsToLearn(bad=-1)
    with pytest.raises(InputError, match=r"stream item 0: new_sequence must be a bool or a number.*dict"):
        progressive_val([({"a": 1.0}, 1.0, {"w": 2.0})], model)
    assert model.calls == []


def test_rows_are_dicts_every_step_observations_and_the_frame_holds_them():
    items = _seq_stream(23)
    rows = list(iter_progressive_val(items, OnlineLSTM(2, 1, n_blocks=2, seed=0), ["mae", "accuracy"], step=5))
    assert [r["step"] for r in rows] == [5, 10, 15, 20, 23]
    for r in rows:
        assert list(r) == ["step", "mae", "accuracy", "seconds", "us_per_obs", "scored"]
        assert r["us_per_obs"] == pytest.approx(1e6 * r["seconds"] / r["step"], rel=1e-12)
    df = progressive_val(items, OnlineLSTM(2, 1, n_blocks=2, seed=0), ["mae", "accuracy"], step=5)
    assert list(df.columns) == list(rows[0])
    assert df[["step", "mae", "accuracy"]].values.tolist() == [[r["step"], r["mae"], r["accuracy"]] for r in rows]


def test_with_a_delay_the_labels_pending_at_the_end_are_scored_and_learned():
    """The labels still owed when the stream ends are delivered after it: an
    OnlineLSTM learns each from its own step (ages up to delay - 1)."""
    d = 4
    items = [(x, y) for x, y, _ in _seq_stream(30)]
    m = OnlineLSTM(2, 1, n_blocks=2, seed=0, max_delay=d - 1)
    df = progressive_val(items, m, "mae", step=100, delay=d)
    hand = OnlineLSTM(2, 1, n_blocks=2, seed=0, max_delay=d - 1)
    errors, owed = [], []
    for i, (x, y) in enumerate(items):
        while owed and owed[0][0] + d <= i:
            j, yj, p = owed.pop(0)
            errors.append(abs(yj - p))
            hand.learn_delayed(yj, hand.n_steps_ - 1 - j)
        p = float(hand.predict_one(x)[0])
        if y is not None:
            owed.append((i, y, p))
    assert owed and owed[0][0] > len(items) - 1 - d  # labels pending at the end
    for j, yj, p in owed:
        errors.append(abs(yj - p))
        hand.learn_delayed(yj, hand.n_steps_ - 1 - j)
    assert df["mae"].iloc[-1] == pytest.approx(np.mean(errors), rel=1e-12)
    assert m.n_updates_ == hand.n_updates_ == len(errors)
    w, h = m.get_weights(), hand.get_weights()
    for k in w:
        np.testing.assert_array_equal(w[k], h[k])


def test_the_none_warning_waits_for_a_label_with_a_delay():
    """With a delay no label is answered before observation `delay`: the rows
    before then are no grounds for the warning; the first row after is."""
    stream = [(1.0, 1.0)] * 10
    rows = iter_progressive_val(stream, _Silent(), step=2, delay=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        assert next(rows)["step"] == 2
    with pytest.warns(RuntimeWarning, match="for all 1 observations with a target so far"):
        assert next(rows)["step"] == 4


@pytest.mark.parametrize("y_true, y_pred", [(1.0, np.array([0.2, 0.8])), ("a", np.array(["a", "b"])),
                                            (np.array([1.0]), np.array([0.3, 0.7]))])
def test_accuracy_refuses_a_prediction_of_several_units_for_one_label_and_counts_nothing(y_true, y_pred):
    """It failed with NumPy's 'truth value of an array ... is ambiguous'."""
    acc = Accuracy()
    with pytest.raises(ValueError, match=r"Accuracy: the prediction has shape \(2,\)"):
        acc.update(y_true, y_pred)
    assert (acc.correct, acc.n) == (0, 0)
    acc.update(y_true, y_pred[:1])  # one prediction: counted (equal, or by the 0.5 threshold)
    assert acc.n == 1


@pytest.mark.parametrize("metric", [MAE, RMSE])
@pytest.mark.parametrize("y_true, y_pred, which", [(1.0, "x", "y_pred"), (1.0, {"a": 0.5}, "y_pred"),
                                                   ("cat", 1.0, "y_true")])
def test_mae_and_rmse_name_what_is_no_number_and_count_nothing(metric, y_true, y_pred, which):
    """A label or a dict of probabilities failed with NumPy's 'could not
    convert string to float' or float()'s TypeError, naming neither."""
    m = metric()
    with pytest.raises(ValueError, match=f"{metric.__name__}.update needs a number .* as {which}"):
        m.update(y_true, y_pred)
    assert m.n == 0


def test_an_adapter_inside_a_wrapper_is_not_told_of_missing_labels_as_documented():
    """docs/river.md: with max_delay > 0 the unlabelled predictions wait, and
    the labels after them are taken for theirs and skipped as late."""
    rng = np.random.default_rng(0)
    data = [({"a": float(rng.normal())}, float(rng.normal()) if i % 3 else None) for i in range(30)]
    wrapped = preprocessing.TargetStandardScaler(regressor=LSTMRegressor(seed=0, max_delay=3))
    with pytest.warns(RuntimeWarning, match="later than max_delay"):
        progressive_val(data, wrapped, "mae", step=100)
    assert wrapped.regressor.n_late_labels_ > 0
    with pytest.raises(TypeError):  # the wrapper itself cannot take "no label"
        wrapped.learn_one({"a": 1.0}, None)
    alone = LSTMRegressor(seed=0, max_delay=3)  # alone: told, every label learned
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        progressive_val(data, alone, "mae", step=100)
    assert alone.n_late_labels_ == 0 and alone.learner_.n_updates_ == 20
