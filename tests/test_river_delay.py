"""The River adapters' ``id_key``: labels that arrive out of order (River's
``progressive_val_score(..., delay=callable or feature name)``) are learned
from the step of their own observation.

The expected runs are built without the adapter's bookkeeping: River's
delivery order is simulated here by sorting on arrival time, and an
``OnlineLSTM`` is driven by hand with ``predict_one`` and ``learn_delayed``.
"""

import copy
import math
import pickle
import warnings

import numpy as np
import pytest

pytest.importorskip("river")

from river import compose, evaluate, metrics, preprocessing  # noqa: E402

from online_lstm.errors import InputError, NoPendingStepError  # noqa: E402
from online_lstm.river import LSTMClassifier, LSTMRegressor  # noqa: E402

LO, HI, MG = -3.0, 3.0, 0.1
D = 8  # max_delay: covers delays 0..9 (a label is learned d - 1 steps after its step)


def _scaled(y):  # the documented target map, in the adapter's order of operations
    return (y - LO) / ((HI - LO) / (1 - 2 * MG)) + MG


def _state(model):
    """Everything a refused call must leave alone."""
    return (list(model.feature_names_), getattr(model, "classes_", None),
            getattr(model, "target_range_", None), pickle.dumps(model))


def _same_arrays(a, b):
    sa, sb = a.state_arrays(), b.state_arrays()
    assert sa.keys() == sb.keys()
    return all(np.array_equal(sa[k], sb[k]) for k in sa)


def _stream(n, seed, labels="real"):
    rng = np.random.default_rng(seed)
    data = []
    for i in range(n):
        x = {"id": f"obs-{i}", "a": float(rng.normal()), "b": float(rng.normal()),
             "delay": int(rng.integers(0, D + 2))}
        if labels == "real":
            y = float(np.clip(0.8 * x["a"] - x["b"] + 0.1 * rng.normal(), LO, HI))
        else:
            y = "pq"[int(x["a"] > 0)]
        data.append((x, y))
    return data


def _river_order(delays):
    """River's delivery order (``stream.simulate_qa`` with ``moment=None``):
    observation i arrives at time i; its label at i + d_i, and it is revealed
    before the first observation j > i with j >= i + d_i (ties: earlier
    arrival time first, then stream order); the rest after the last one."""
    n = len(delays)
    events = [(i, 1, 0, i) for i in range(n)]  # ("predict", i) at slot i, after the labels due
    for i, d in enumerate(delays):
        events.append((min(max(i + 1, i + d), n), 0, i + d, i))
    return [("learn" if e[1] == 0 else "predict", e[3]) for e in sorted(events)]


def _warm(model, classifier, **extra):
    """One labelled observation before the stream: the net gets its inputs
    (and the classifier both classes), so the hand-driven copy needs no widening."""
    if classifier:
        model.learn_one({"id": "warm-p", "a": 0.5, "b": -0.5, **extra}, "p")
        model.learn_one({"id": "warm-q", "a": -0.5, "b": 0.5, **extra}, "q")
    else:
        model.learn_one({"id": "warm", "a": 0.5, "b": -0.5, **extra}, 0.25)


def _by_hand(learner, data, order, target):
    """The learner driven by hand in River's order: each label with
    learn_delayed at the age of its own observation's step."""
    m, step = copy.deepcopy(learner), {}
    for kind, i in order:
        x, y = data[i]
        if kind == "predict":
            m.predict_one(np.array([x["a"], x["b"]]))
            step[i] = m.n_steps_ - 1
        else:
            m.learn_delayed(target(y), m.n_steps_ - 1 - step[i])
    return m


def _adapter(cls, **kw):
    kw = dict(n_blocks=2, block_size=2, seed=3, max_delay=D, **kw)
    if cls is LSTMRegressor:
        kw.update(target_range=(LO, HI), target_margin=MG)
    return cls(**kw)


def _callable_delay(data):
    """The delays of ``data`` as a callable of (x, y), and the stream without
    the "delay" feature."""
    delay_of = {x["id"]: x["delay"] for x, _ in data}
    return (lambda x, y: delay_of[x["id"]]), [({k: v for k, v in x.items() if k != "delay"}, y)
                                               for x, y in data]


@pytest.mark.parametrize("cls", [LSTMRegressor, LSTMClassifier])
@pytest.mark.parametrize("how", ["callable", "feature"])
def test_out_of_order_labels_are_learned_from_their_own_step(cls, how):
    """progressive_val_score with a delay that varies per observation: the
    adapter with id_key ends bit for bit where the learner driven by hand
    does (predict_one in stream order, learn_delayed at the right age in
    River's delivery order)."""
    classifier = cls is LSTMClassifier
    data = _stream(80, seed=1, labels="class" if classifier else "real")
    order = _river_order([x["delay"] for x, _ in data])
    labels = [i for kind, i in order if kind == "learn"]
    assert labels != sorted(labels)  # the labels really overtake one another
    lstm = _adapter(cls, id_key="id")
    if how == "callable":
        model = lstm
        delay, data = _callable_delay(data)
        _warm(model, classifier)
    else:  # the name of a feature, kept away from the LSTM
        model, delay = compose.Discard("delay") | lstm, "delay"
        _warm(model, classifier, delay=0)
    assert lstm.feature_names_ == ["a", "b"]
    if classifier:
        assert lstm.classes_ == ["p", "q"]
        target = lambda y: np.array([y == "p", y == "q"], dtype=float)  # noqa: E731
    else:
        target = _scaled
    ref = _by_hand(lstm.learner_, data, order, target)
    metric = metrics.Accuracy() if classifier else metrics.MAE()
    evaluate.progressive_val_score(data, model, metric, delay=delay)
    assert _same_arrays(lstm.learner_, ref)
    n_warm = 2 if classifier else 1
    assert lstm.learner_.n_updates_ == lstm.learner_.n_steps_ == len(data) + n_warm
    assert lstm.n_late_labels_ == 0


def test_without_id_key_out_of_order_labels_go_to_the_wrong_steps():
    """The old limitation, on the same stream: labels go to the oldest
    waiting step, so the weights differ from the right ones."""
    delay, data = _callable_delay(_stream(80, seed=1))
    right = _adapter(LSTMRegressor, id_key="id")
    wrong = _adapter(LSTMRegressor)
    evaluate.progressive_val_score(data, right, metrics.MAE(), delay=delay)
    evaluate.progressive_val_score(data, compose.Discard("id") | wrong, metrics.MAE(), delay=delay)
    assert wrong.feature_names_ == right.feature_names_ == ["a", "b"]
    assert right.learner_.n_updates_ == wrong.learner_.n_updates_ == 80  # all learned, ...
    assert not np.array_equal(wrong.learner_.state_arrays()["theta"],  # ... from other steps
                              right.learner_.state_arrays()["theta"])


@pytest.mark.parametrize("d", [1, 4, D + 1])
def test_a_constant_delay_gives_the_same_run_with_and_without_id_key(d):
    data = [({k: v for k, v in x.items() if k != "delay"}, y) for x, y in _stream(60, seed=2)]
    with_id = _adapter(LSTMRegressor, id_key="id")
    without = compose.Discard("id") | _adapter(LSTMRegressor)
    a = evaluate.progressive_val_score(data, with_id, metrics.MAE(), delay=d)
    b = evaluate.progressive_val_score(data, without, metrics.MAE(), delay=d)
    assert a.get() == b.get()
    assert _same_arrays(with_id.learner_, without["LSTMRegressor"].learner_)
    assert with_id.n_late_labels_ == without["LSTMRegressor"].n_late_labels_ == 0


@pytest.mark.parametrize("how", ["callable", "feature"])
def test_the_documented_pipeline_keeps_the_id_away_from_the_scaler(how):
    """(Discard(id) | StandardScaler()) + Select(id) | LSTMRegressor(id_key=id)
    under progressive_val_score with a varying delay: the id reaches the
    adapter unscaled, every label is learned from its own step (against the
    learner and a scaler of its own driven by hand in River's order).  A
    delay given as a feature name is an input here, scaled like the others."""
    data = _stream(80, seed=4)
    order = _river_order([x["delay"] for x, _ in data])
    if how == "callable":
        delay, data = _callable_delay(data)
        names = ["a", "b"]
    else:
        delay, names = "delay", ["a", "b", "delay"]
    lstm = _adapter(LSTMRegressor, id_key="id")
    model = ((compose.Discard("id") | preprocessing.StandardScaler()) + compose.Select("id")) | lstm
    warm = {"id": "warm", "a": 0.5, "b": -0.5, "delay": 1}
    warm = {k: warm[k] for k in ["id"] + names}
    model.learn_one(warm, 0.25)
    ref, scaler = copy.deepcopy(lstm.learner_), preprocessing.StandardScaler()
    scaler.learn_one({k: warm[k] for k in names})
    step = {}
    for kind, i in order:
        x, y = data[i]
        feats = {k: x[k] for k in names}
        if kind == "predict":
            z = scaler.transform_one(feats)
            ref.predict_one(np.array([z[k] for k in names]))
            step[i] = ref.n_steps_ - 1
        else:
            scaler.learn_one(feats)
            ref.learn_delayed(_scaled(y), ref.n_steps_ - 1 - step[i])
    evaluate.progressive_val_score(data, model, metrics.MAE(), delay=delay)
    assert lstm.feature_names_ == names and lstm.n_late_labels_ == 0
    assert _same_arrays(lstm.learner_, ref)


def test_rivers_second_question_for_an_unlabelled_observation_is_no_new_step():
    """River's delayed loop does not call learn_one(x, None) for a label of
    None: it yields the observation as a question again, so predict_one is
    called twice for it.  With id_key that is the same observation asked
    again: no extra step, and the other labels still reach their steps."""
    delay, data = _callable_delay(_stream(80, seed=5))
    data = [(x, None if i % 4 == 0 else y) for i, (x, y) in enumerate(data)]
    order = _river_order([delay(x, y) for x, y in data])
    lstm = _adapter(LSTMRegressor, id_key="id")
    _warm(lstm, False)
    m, step = copy.deepcopy(lstm.learner_), {}
    for kind, i in order:
        x, y = data[i]
        if kind == "predict":
            m.predict_one(np.array([x["a"], x["b"]]))
            step[i] = m.n_steps_ - 1
        elif y is not None:
            m.learn_delayed(_scaled(y), m.n_steps_ - 1 - step[i])
    evaluate.progressive_val_score(data, lstm, metrics.MAE(), delay=delay)
    assert lstm.learner_.n_steps_ == 81 and lstm.learner_.n_updates_ == 61
    assert _same_arrays(lstm.learner_, m)


def test_a_scaler_in_front_of_the_id_breaks_it():
    """Why the recipe is needed: a StandardScaler fails on a string id."""
    data = [({"id": f"o{i}", "a": float(i)}, float(i)) for i in range(10)]
    model = preprocessing.StandardScaler() | _adapter(LSTMRegressor, id_key="id")
    with pytest.raises(TypeError):
        evaluate.progressive_val_score(data, model, metrics.MAE(), delay=lambda x, y: 2)


# ---------------------------------------------------------------------------
# the rules, case by case
# ---------------------------------------------------------------------------
def _model(cls=LSTMRegressor, max_delay=3, id_key="id", **kw):
    if cls is LSTMRegressor:
        kw.update(target_range=(LO, HI), target_margin=MG)
    return cls(n_blocks=2, block_size=1, seed=0, max_delay=max_delay, id_key=id_key, **kw)


def test_id_is_not_an_input():
    model = _model()
    model.predict_one({"id": 0})  # an observation with an id only
    assert model.feature_names_ == [] and model.learner_.layout.n_in == 1
    for i in range(1, 6):
        model.predict_one({"id": i, "b": 1.0, "a": float(i)})
        model.learn_one({"id": i}, 0.5)
    assert model.feature_names_ == ["a", "b"] and model.learner_.layout.n_in == 2
    # the same as a model that never saw the id, given the labels in order
    twin = _model(id_key=None)
    twin.predict_one({})
    twin.learn_one({}, None)  # (no label for the first step)
    for i in range(1, 6):
        twin.predict_one({"b": 1.0, "a": float(i)})
        twin.learn_one({}, 0.5)
    assert _same_arrays(model.learner_, twin.learner_)


def test_a_label_older_than_max_delay_is_skipped_counted_and_warned_once():
    model = _model(max_delay=2)
    for i in range(6):
        model.predict_one({"id": i, "a": i / 6})
    ref = copy.deepcopy(model.learner_)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        model.learn_one({"id": 0}, 1.0)  # 5 steps old: too late
        model.learn_one({"id": 2}, 1.0)  # 3 steps old: too late
        model.learn_one({"id": 3}, 1.0)  # 2 steps old: learned
    assert [str(x.message) for x in w if issubclass(x.category, RuntimeWarning)] == [
        "a label arrived later than max_delay=2 steps after its prediction; it is skipped "
        "(n_late_labels_ counts them)"]
    assert model.n_late_labels_ == 2 and model.learner_.n_updates_ == 1
    ref.learn_delayed(_scaled(1.0), 2)
    assert _same_arrays(model.learner_, ref)


def test_memory_stays_bounded_without_labels():
    model = _model(max_delay=3)
    for i in range(500):
        model.predict_one({"id": i, "a": i / 500})
    assert len(model._ids) <= 4 and len(model._id_order) <= 4
    assert model._n_expired == 496
    x_sizes = len(pickle.dumps(model))
    for i in range(500, 1000):
        model.predict_one({"id": i, "a": i / 1000})
    assert len(pickle.dumps(model)) <= x_sizes + 64
    model.learn_one({"id": 999}, 0.5)  # in reach
    assert model.learner_.n_updates_ == 1


def test_a_label_whose_id_was_never_predicted_is_a_new_observation():
    """With no prediction expired, as without id_key when nothing is waiting:
    one step with learning.  Predictions still waiting keep their steps."""
    model = _model()
    twin = _model(id_key=None)
    model.learn_one({"id": "a", "a": 1.0}, 0.5)
    twin.learn_one({"a": 1.0}, 0.5)
    assert _same_arrays(model.learner_, twin.learner_)
    model.predict_one({"id": "b", "a": 2.0})
    model.learn_one({"id": "c", "a": 3.0}, -1.0)  # a new observation while "b" waits
    model.learn_one({"id": "b"}, 0.25)  # still reaches its own step, now 1 step old
    m = twin.learner_
    m.predict_one(np.array([2.0]))
    m.learn_one(np.array([3.0]), _scaled(-1.0))
    m.learn_delayed(_scaled(0.25), 1)
    assert _same_arrays(model.learner_, m)
    assert model.n_late_labels_ == 0


def test_an_unknown_id_is_a_late_label_while_predictions_have_expired():
    """Expired ids are forgotten (bounded memory), only counted: while some
    are unlabelled, a label with an unknown id is taken as one of theirs."""
    model = _model(max_delay=1)
    for i in range(4):
        model.predict_one({"id": i, "a": 0.0})
    assert model._n_expired == 2
    with pytest.warns(RuntimeWarning, match="later than max_delay"):
        model.learn_one({"id": "never predicted", "a": 1.0}, 0.5)
    model.learn_one({"id": 0, "a": 1.0}, 0.5)
    assert model.n_late_labels_ == 2 and model._n_expired == 0
    assert model.learner_.n_steps_ == 4 and model.learner_.n_updates_ == 0
    model.learn_one({"id": "fresh", "a": 1.0}, 0.5)  # none expired now: a new observation
    assert model.learner_.n_steps_ == 5 and model.learner_.n_updates_ == 1


@pytest.mark.parametrize("cls", [LSTMRegressor, LSTMClassifier])
@pytest.mark.parametrize("call", ["predict", "learn", "learn-new-class"])
def test_a_bad_id_is_refused_and_changes_nothing(cls, call):
    pd = pytest.importorskip("pandas")
    model = _model(cls)
    y = 0.5 if cls is LSTMRegressor else "p"
    model.predict_one({"id": 1, "a": 1.0})
    model.learn_one({"id": 0, "a": 1.0}, y)
    before = _state(model)
    cases = [({"a": 1.0, "new": 2.0}, "x has no id"),
             ({"id": None, "a": 1.0, "new": 2.0}, "missing"),
             ({"id": math.nan, "a": 1.0}, "missing"),
             ({"id": np.float64("nan"), "a": 1.0}, "missing"),
             ({"id": pd.NA, "a": 1.0}, "missing"),
             ({"id": pd.NaT, "a": 1.0}, "missing"),
             ({"id": [1], "a": 1.0}, "hashable"),
             ({"id": {"k": 1}, "a": 1.0}, "hashable"),
             ({"id": np.array([1, 2]), "a": 1.0}, "hashable"),
             ([1.0, 2.0], "dict of features")]
    label = y if call == "learn" else "new class" if cls is LSTMClassifier else 2.9
    for x, match in cases:
        with pytest.raises(InputError, match=match):
            if call == "predict":
                model.predict_one(x)
            else:
                model.learn_one(x, label)
        assert _state(model) == before, x


@pytest.mark.parametrize("cls", [LSTMRegressor, LSTMClassifier])
def test_a_second_label_for_an_id_is_refused_and_changes_nothing(cls):
    """As OnlineLSTM.learn_delayed: a step takes one label.  A None label
    (no label) answers the observation too."""
    model = _model(cls)
    y1, y2 = (0.5, -0.5) if cls is LSTMRegressor else ("p", "q")
    for i in range(3):
        model.predict_one({"id": i, "a": float(i)})
    model.learn_one({"id": 0}, y1)
    model.learn_one({"id": 1}, None)
    model.learn_one({"id": "direct", "a": 5.0}, y1)  # learned without a prediction
    before = _state(model)
    for i in (0, 1, "direct"):
        for y in (y1, y2):  # y2: a new class for the classifier, refused before it is registered
            with pytest.raises(NoPendingStepError, match="already had its label"):
                model.learn_one({"id": i, "a": 9.0}, y)
            assert _state(model) == before, (i, y)
    assert model.learner_.n_updates_ == 2
    model.learn_one({"id": 2}, y2)  # the one still waiting
    assert model.learner_.n_updates_ == 3


@pytest.mark.parametrize("cls", [LSTMRegressor, LSTMClassifier])
def test_an_id_predicted_twice_while_waiting(cls):
    """The same id with equal features: the same observation asked again
    (predict_proba_one then predict_one), the same answer and no new step;
    with other features too (a scaler in front may have learned since; only
    the id is read).  Once its label is in, the id may name a new observation."""
    model = _model(cls)
    if cls is LSTMClassifier:
        model.learn_one({"id": "w", "a": 0.0}, "p")
    x = {"id": 7, "a": 1.0, "b": math.nan}
    first = model.predict_one(x)
    n = model.learner_.n_steps_
    if cls is LSTMClassifier:
        proba = model.predict_proba_one(dict(x))
        assert model.predict_proba_one({"b": None, "a": 1.0, "id": 7}) == proba
        model.learn_one({"id": "q", "a": 3.0}, "new class")  # a class registered since: 0 then
        assert model.predict_proba_one(x) == dict(proba, **{"new class": 0.0})
        n += 1
    assert model.predict_one(dict(x)) == first
    assert model.learner_.n_steps_ == n
    assert model.predict_one({"id": 7, "a": 2.0}) == first
    assert model.learner_.n_steps_ == n
    model.learn_one({"id": 7}, 0.5 if cls is LSTMRegressor else "p")
    model.predict_one({"id": 7, "a": 2.0})  # a new observation under the same id
    assert model.learner_.n_steps_ == n + 1


def test_id_key_parameters():
    with pytest.raises(ValueError, match="id_key needs max_delay > 0"):
        LSTMRegressor(id_key="id")
    with pytest.raises(ValueError, match="id_key needs max_delay > 0"):
        LSTMClassifier(id_key="id", max_delay=0)
    with pytest.raises(ValueError, match="hashable"):
        LSTMRegressor(id_key=["id"], max_delay=2)
    with pytest.raises(ValueError, match="must be different"):
        LSTMRegressor(id_key="k", reset_key="k", max_delay=2)
    for cls in (LSTMRegressor, LSTMClassifier):
        model = cls(id_key="id", max_delay=2, seed=0)
        assert model._get_params()["id_key"] == "id"
        assert model.clone().id_key == "id" and cls(seed=0).id_key is None
        assert "id_key" in cls.__doc__


def test_id_key_with_reset_key():
    model = _model(reset_key="start")
    for i in range(6):
        model.predict_one({"id": i, "start": i % 3 == 0, "a": float(i)})
    with pytest.warns(RuntimeWarning, match="later than max_delay=3"):
        for i in (5, 3, 4, 0, 2, 1):  # 0 and 1 are 5 and 4 steps old: skipped
            model.learn_one({"id": i}, 0.1 * i)
    assert model.feature_names_ == ["a"]
    assert model.learner_.n_resets_ == 2 and model.learner_.n_updates_ == 4 and model.n_late_labels_ == 2


def test_pickling_keeps_the_waiting_ids_and_old_pickles_load():
    model = _model(LSTMClassifier)
    for i in range(3):
        model.predict_one({"id": i, "a": float(i)})
    model.learn_one({"id": 1}, "p")
    other = pickle.loads(pickle.dumps(model))
    for m in (model, other):
        m.learn_one({"id": 2}, "q")
        m.learn_one({"id": 0}, "p")
    assert _same_arrays(model.learner_, other.learner_) and other.learner_.n_updates_ == 3
    # a pickle from before id_key: no id_key, _ids or _id_order in its state
    old = _model(id_key=None)
    old.predict_one({"a": 1.0})
    state = old.__getstate__()
    for key in ("id_key", "_ids", "_id_order"):
        del state[key]
    restored = LSTMRegressor.__new__(LSTMRegressor)
    restored.__setstate__(state)
    assert restored.id_key is None
    restored.learn_one({"a": 1.0}, 0.5)
    old.learn_one({"a": 1.0}, 0.5)
    assert _same_arrays(restored.learner_, old.learner_)


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_a_label_skipped_as_late_changes_nothing(kind):
    """Nothing is learned from a label skipped as late, and nothing else
    changes either: the classifier registers no class from it (its output
    unit, untrained, would take a share of every probability), and the
    regressor's target range does not widen (it would rescale every later
    prediction)."""
    if kind == "classifier":
        model, labels, late = LSTMClassifier(seed=1, max_delay=2), ["A", "B"], "C"
        predict = model.predict_proba_one
    else:
        model, labels, late = LSTMRegressor(seed=1, max_delay=2), [0.0, 1.0], 100.0
        predict = model.predict_one
    xs = [{"a": i / 6} for i in range(6)]
    for x, y in zip(xs, labels):  # learned at once
        predict(x)
        model.learn_one(x, y)
    for x in xs[2:]:
        predict(x)
    twin = copy.deepcopy(model)
    with pytest.warns(RuntimeWarning, match="later than max_delay=2"):
        model.learn_one(xs[2], late)  # 3 steps old: too late
    assert model.n_late_labels_ == 1 and model.learner_.n_updates_ == 2
    if kind == "classifier":
        assert model.classes_ == ["A", "B"]
        assert model.predict_proba_one({"a": 0.5}) == twin.predict_proba_one({"a": 0.5})
    else:
        assert model.predict_one({"a": 0.5}) == twin.predict_one({"a": 0.5})
    assert _same_arrays(model.learner_, twin.learner_)
