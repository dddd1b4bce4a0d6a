"""The River adapters: River's own estimator checks, and the stepping contract.

Skipped as a whole when River is not installed, and River's checks alone when
scikit-learn (which they need) is not: ``pip install -e ".[test,river]"``.
"""

import copy
import math
import pickle
import warnings

import numpy as np
import pytest

pytest.importorskip("river")
try:
    import sklearn  # noqa: F401  (River's check datasets use it)

    HAVE_SKLEARN = True
except ImportError:
    HAVE_SKLEARN = False
needs_sklearn = pytest.mark.skipif(not HAVE_SKLEARN, reason="River's checks need scikit-learn")

from river import checks, compose, datasets, evaluate, linear_model, metrics, preprocessing  # noqa: E402

from online_lstm import OnlineLSTM  # noqa: E402
from online_lstm.errors import InputError  # noqa: E402
from online_lstm.evaluate import progressive_val  # noqa: E402
from online_lstm.river import LSTMClassifier, LSTMRegressor  # noqa: E402

#: River checks that cannot apply to a recurrent model, with the reason.  None
#: so far: every check River 0.26 yields for these adapters runs and passes.
SKIPS: dict = {}


# ---------------------------------------------------------------------------
# River's estimator checks, one test per check
# ---------------------------------------------------------------------------
def _check_cases():
    for cls in (LSTMRegressor, LSTMClassifier):
        for i, params in enumerate(cls._unit_test_params()):
            model = cls(**params)
            for j, check in enumerate(checks.yield_checks(model)):
                yield pytest.param(model, check, id=f"{cls.__name__}[{i}]-{j:02d}-{check.__name__}")


CASES = list(_check_cases()) if HAVE_SKLEARN else []


@needs_sklearn
@pytest.mark.parametrize("model, check", CASES)
def test_river_check(model, check):
    if check.__name__ in SKIPS:
        pytest.skip(SKIPS[check.__name__])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check(model.clone())
    for w in caught:
        if "later than max_delay" in str(w.message):
            # expected, and only here: check_predict_one_pure predicts one x several times and
            # then learns it; with max_delay every predict_one is an observation of its own, so
            # the label comes later than max_delay and is skipped, with this warning (documented)
            assert model.max_delay and check.__name__ == "check_predict_one_pure", w
        else:  # anything else is passed on
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


@needs_sklearn
def test_river_checks_cover_the_feature_schema_and_seeding():
    """The suite above really contains the checks that matter most here."""
    names = {c.values[1].__name__ for c in CASES}
    for name in ("check_emerging_features", "check_disappearing_features",
                 "check_radically_disappearing_features", "check_shuffle_features_no_impact",
                 "check_seeding_is_idempotent", "check_pickling", "check_predict_proba_one",
                 "check_classifier_tracks_seen_labels", "check_bounded_memory_growth"):
        assert name in names
    per_model = {}
    for c in CASES:
        key = c.id.split("-")[0]
        per_model[key] = per_model.get(key, 0) + 1
    assert per_model["LSTMRegressor[0]"] == 26 and per_model["LSTMClassifier[0]"] == 56
    # every configuration of _unit_test_params is checked, the forget-gate one included
    for cls in (LSTMRegressor, LSTMClassifier):
        configs = list(cls._unit_test_params())
        assert {f"{cls.__name__}[{i}]" for i in range(len(configs))} <= set(per_model)
        assert any(c.get("forget_gate") and c.get("peepholes") for c in configs)
    assert LSTMRegressor()._unit_test_skips() == set() == LSTMClassifier()._unit_test_skips()


# ---------------------------------------------------------------------------
# one observation, one step: the adapter against the learner driven by hand
# ---------------------------------------------------------------------------
FEATURES = ("b", "a", "c")
LO, HI, MARGIN = -2.0, 3.0, 0.1


def _stream(rng, n):
    return [({k: float(rng.normal()) for k in FEATURES}, float(rng.uniform(LO, HI))) for _ in range(n)]


# the documented map, in the adapter's order of operations (the comparisons are bit-exact)
_SCALE = (HI - LO) / (1 - 2 * MARGIN)


def _scaled(y):
    return (y - LO) / _SCALE + MARGIN


def _unscaled(p):
    return LO + (p - MARGIN) * _SCALE


def _assert_same_learner(a, b):
    sa, sb = a.state_arrays(), b.state_arrays()
    for key in ("theta", "dW", "T", "record"):
        np.testing.assert_array_equal(sa[key], sb[key], err_msg=key)
    assert (a.n_steps_, a.n_updates_, a.pending_) == (b.n_steps_, b.n_updates_, b.pending_)


#: the 1997 net, and the two later additions on top (forget gate, peepholes)
ADAPTER_ARCHS = {"1997": {}, "fg+ph": dict(forget_gate=True, peepholes=True, forget_gate_bias=1.5)}


@pytest.mark.parametrize("arch", list(ADAPTER_ARCHS))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_adapter_steps_once_per_observation(seed, arch):
    """Random mixes of River's call patterns, against the learner's own API:
    predict then learn (on the same x, an equal x, or an x a pipeline's
    scaler has changed meanwhile) -> predict_one + learn_last; learn alone ->
    learn_one; predict twice on equal x -> one step; predict on x1 then x2 ->
    two steps, and the label goes to the step of x2."""
    rng = np.random.default_rng(seed)
    model = LSTMRegressor(n_blocks=2, block_size=2, target_range=(LO, HI),
                          target_margin=MARGIN, seed=seed, **ADAPTER_ARCHS[arch])
    stream = _stream(rng, 300)
    model.predict_one(stream[0][0])  # builds the input layer for FEATURES
    ref = copy.deepcopy(model.learner_)  # from here on, driven by hand
    assert model.feature_names_ == sorted(FEATURES)
    vec = lambda x: np.array([x[k] for k in model.feature_names_])  # noqa: E731
    learn_last = 0
    for t, (x, y) in enumerate(stream):
        pattern = "predict-learn" if t == 0 else rng.choice(
            ["predict-learn", "learn", "predict", "predict-twice", "predict-x1-x2", "copy-learn",
             "rescaled-learn"])
        if pattern in ("predict-learn", "copy-learn", "rescaled-learn"):
            y_hat = model.predict_one(x)
            if pattern == "copy-learn":  # an equal dict: another object, another key order
                model.learn_one(dict(reversed(list(x.items()))), y)
            elif pattern == "rescaled-learn":  # what a scaler that learned in between passes on
                model.learn_one({k: 0.9 * v + 0.1 for k, v in x.items()}, y)
            else:
                model.learn_one(x, y)
            if t > 0:
                p = ref.predict_one(vec(x))[0]
                assert y_hat == _unscaled(p)
            ref.learn_last(_scaled(y))
            learn_last += 1
        elif pattern == "learn":
            model.learn_one(x, y)
            if ref.pending_:  # the documented rule: the label goes to the predicted step
                ref.learn_last(_scaled(y))
                learn_last += 1
            else:
                ref.learn_one(vec(x), _scaled(y))
        elif pattern == "predict":  # an observation that is never labelled
            assert model.predict_one(x) == _unscaled(ref.predict_one(vec(x))[0])
        elif pattern == "predict-twice":
            a, b = model.predict_one(x), model.predict_one(dict(x))
            assert a == b == _unscaled(ref.predict_one(vec(x))[0])
        else:
            x2 = {k: v + 1.0 for k, v in x.items()}
            model.predict_one(x)
            model.predict_one(x2)
            ref.predict_one(vec(x))
            ref.predict_one(vec(x2))
            model.learn_one(x2, y)  # learns from the step of x2, the pending one
            ref.learn_last(_scaled(y))
            learn_last += 1
        _assert_same_learner(model.learner_, ref)
    assert learn_last > 100
    assert model.learner_.n_steps_ == ref.n_steps_ > len(stream)


def test_predict_then_learn_calls_learn_last(monkeypatch):
    """River's loop takes one step per observation, through learn_last."""
    calls = {"learn_one": 0, "learn_last": 0, "predict_one": 0}
    for name in calls:
        orig = getattr(OnlineLSTM, name)

        def counted(self, *a, _orig=orig, _name=name, **kw):
            calls[_name] += 1
            return _orig(self, *a, **kw)

        monkeypatch.setattr(OnlineLSTM, name, counted)
    model = preprocessing.StandardScaler() | LSTMRegressor(n_blocks=2, seed=0)
    n = 0
    for x, y in datasets.TrumpApproval().take(50):
        model.predict_one(x)
        model.learn_one(x, y)  # the scaler learns first: the LSTM gets another x
        n += 1
    assert calls == {"learn_one": 0, "learn_last": n, "predict_one": n}
    learner = model["LSTMRegressor"].learner_
    assert learner.n_steps_ == n and learner.n_updates_ == n


@pytest.mark.parametrize("cls", [LSTMRegressor, LSTMClassifier])
def test_forget_gate_and_peepholes_pass_through(cls):
    """The defaults are the 1997 learner's; the options reach the learner,
    which is then the OnlineLSTM built directly with them, and they survive
    widening (new features, new classes) and clone()."""
    import inspect

    learner_defaults = inspect.signature(OnlineLSTM).parameters
    adapter_defaults = inspect.signature(cls).parameters
    for name in ("forget_gate", "peepholes", "forget_gate_bias"):
        assert adapter_defaults[name].default == learner_defaults[name].default
    plain = cls(seed=0).learner_
    assert not plain.layout.forget_gate and not plain.layout.peepholes
    opts = dict(n_blocks=2, block_size=1, forget_gate=True, peepholes=True, forget_gate_bias=(0.5, 2.0))
    model = cls(seed=3, **opts)
    direct = OnlineLSTM(n_in=1, n_out=1, seed=3, lr=0.5, init_range=0.1, **opts)  # the adapter's lr
    assert model.learner_.get_params() == direct.get_params()
    np.testing.assert_array_equal(model.learner_.state_arrays()["theta"], direct.state_arrays()["theta"])
    w = model.learner_.get_weights()
    np.testing.assert_array_equal(w["b_phi"], [0.5, 2.0])
    for name in ("W_phi", "P_in", "P_phi", "P_out"):
        assert name in w
    y = (lambda i: float(i)) if cls is LSTMRegressor else (lambda i: "ab"[i % 2])
    for i in range(6):  # new features and classes widen the net
        x = {f"f{j}": float(i + j) for j in range(1 + i // 2)}
        model.predict_one(x)
        model.learn_one(x, y(i))
    lay = model.learner_.layout
    assert lay.n_in == 3 and lay.forget_gate and lay.peepholes
    assert model.clone()._get_params() == model._get_params()
    assert model.clone().learner_.layout.forget_gate


def test_learn_one_alone_is_one_step_with_learning():
    model = LSTMRegressor(n_blocks=2, seed=0)
    for i, (x, y) in enumerate(datasets.TrumpApproval().take(20)):
        model.learn_one(x, y)
        assert model.learner_.n_steps_ == i + 1 == model.learner_.n_updates_
        assert not model.learner_.pending_


# ---------------------------------------------------------------------------
# features: order, emerging, missing, bad values
# ---------------------------------------------------------------------------
def test_feature_order_is_first_appearance_then_sorted():
    model = LSTMRegressor(seed=0)
    model.learn_one({"z": 1.0, "b": 2.0}, 1.0)
    model.learn_one({"y": 1.0, "a": 2.0, "b": 0.5}, 1.0)
    model.learn_one({3: 1.0, "c": 1.0}, 1.0)  # keys of mixed types: type name, then repr
    assert model.feature_names_ == ["b", "z", "a", "y", 3, "c"]
    assert model.learner_.layout.n_in == 6


def test_missing_none_and_nan_features_are_zero():
    base = LSTMRegressor(n_blocks=2, seed=3)
    base.learn_one({"a": 1.0, "b": 2.0, "c": 3.0}, 1.0)
    runs = []
    for x in ({"a": 0.5, "c": 0.0}, {"a": 0.5, "b": None}, {"a": 0.5, "b": math.nan, "c": 0.0}):
        m = copy.deepcopy(base)
        m.learn_one(x, 2.0)
        runs.append(m.learner_.state_arrays())
    for r in runs[1:]:
        for key in ("theta", "T", "record"):
            np.testing.assert_array_equal(r[key], runs[0][key])


@pytest.mark.parametrize("cls", [LSTMRegressor, LSTMClassifier])
def test_an_observation_with_a_nan_feature_asked_twice_is_one_step(cls):
    """NaN != NaN, but a missing value must not make the same observation,
    asked again (predict_proba_one then predict_one, as River's classifier
    checks do), look like a new one: one step per observation."""
    model = cls(n_blocks=2, seed=0)
    for t in range(20):
        x = {"a": float(t % 3), "b": 1.0 if t % 2 else float("nan")}
        if cls is LSTMClassifier:
            model.predict_proba_one(x)
        model.predict_one(dict(x))  # an equal dict, with another NaN object behind a copy
        model.predict_one({"a": x["a"], "b": x["b"] + 0.0})  # a fresh NaN object
        model.learn_one(x, t % 2)
    assert model.learner_.n_steps_ == 20


def test_new_feature_midstream_equals_having_had_it_at_zero():
    """A feature that appears at step t: the same as a model that had it as 0
    until t, given the same weights for it (they cannot have moved while 0)."""
    rng = np.random.default_rng(7)
    early = [({"a": float(rng.normal())}, float(rng.normal())) for _ in range(40)]
    late = [({"a": float(rng.normal()), "b": float(rng.normal())}, float(rng.normal())) for _ in range(40)]
    grow = LSTMRegressor(n_blocks=2, seed=1, target_range=(-3, 3))
    for x, y in early:
        grow.predict_one(x)
        grow.learn_one(x, y)
    grow.predict_one(late[0][0])  # "b" appears: input unit 1
    w_b = grow.learner_.get_weights()  # b's weights are still their initial values
    # a model that had "b" from the start, at 0
    had = LSTMRegressor(n_blocks=2, seed=1, target_range=(-3, 3))
    had.predict_one({"a": early[0][0]["a"], "b": 0.0})
    lay = had.learner_.layout
    w = had.learner_.get_weights()
    for name in ("W_in", "W_out", "W_c"):
        w[name][:, 1] = w_b[name][:, 1]
    had.learner_.set_weights(w)
    had.learn_one({"a": early[0][0]["a"], "b": 0.0}, early[0][1])
    for x, y in early[1:]:
        had.learn_one(dict(x, b=0.0), y)
    had.predict_one(late[0][0])
    _assert_same_learner(grow.learner_, had.learner_)
    for x, y in late:
        assert grow.predict_one(x) == had.predict_one(x)
        grow.learn_one(x, y)
        had.learn_one(x, y)
    _assert_same_learner(grow.learner_, had.learner_)
    assert lay.n_in == 2


def test_bad_feature_values_are_refused_and_change_nothing():
    model = LSTMRegressor(seed=0)
    model.learn_one({"a": 1.0}, 1.0)
    before = pickle.dumps(model)
    with pytest.raises(InputError, match="non-numeric"):
        model.learn_one({"a": 1.0, "colour": "red"}, 100.0)
    with pytest.raises(InputError, match="finite"):
        model.learn_one({"a": math.inf}, 100.0)
    assert pickle.dumps(model) == before
    assert model.target_range_ == (0.0, 2.0)  # y0 = 1: 1 +- 1, not widened by the 100s
    model.predict_one({"a": 2.0})  # now a step is pending
    before = pickle.dumps(model)
    with pytest.raises(InputError, match="real number"):
        model.predict_one({"a": [1.0]})
    assert pickle.dumps(model) == before


def _model_state(model):
    """Everything a refused call must leave alone: features, classes, range, learner."""
    return (list(model.feature_names_), getattr(model, "classes_", None),
            getattr(model, "target_range_", None), pickle.dumps(model))


@pytest.mark.parametrize("predict_first", [False, True])
def test_a_refused_observation_adds_no_feature_and_no_class(predict_first):
    """Before, new features (and classes) were added before the learner refused an inf."""
    cases = [
        (LSTMRegressor, {"a": math.inf, "new": 1.0}, 1.0, "finite"),
        (LSTMRegressor, {"new": 1.0}, -math.inf, "finite"),
        (LSTMRegressor, {"new": 1.0}, 1e308, "1e\\+150"),
        (LSTMRegressor, {"new": 1.0}, 10**400, "1e\\+150"),
        (LSTMRegressor, {"a": 10**400, "new": 1.0}, 1.0, "too large"),
        (LSTMRegressor, {"a": float("-inf")}, 1.0, "finite"),
        (LSTMClassifier, {"a": math.inf, "new": 1.0}, "new class", "finite"),
        (LSTMClassifier, {"a": 1.0, "new": math.inf}, "new class", "finite"),
        (LSTMRegressor, [1.0, 2.0], 1.0, "dict of features"),
        (LSTMClassifier, None, "x", "dict of features"),
    ]
    for cls, x, y, match in cases:
        if predict_first and "1e" not in match and not (cls is LSTMRegressor and y == -math.inf):
            continue  # learn_one learns from the pending step and does not read x (module docstring)
        model = cls(n_blocks=2, seed=0)
        model.learn_one({"a": 1.0, "b": 2.0}, "x" if cls is LSTMClassifier else 0.5)
        if predict_first:
            model.predict_one({"a": 2.0, "b": 1.0})
        before = _model_state(model)
        with pytest.raises(InputError, match=match):
            model.learn_one(x, y)
        assert _model_state(model) == before, (cls.__name__, x, y)
        if not predict_first and y == 1.0:  # the same x refused by predict_one
            with pytest.raises(InputError, match=match):
                model.predict_one(x)
            assert _model_state(model) == before, (cls.__name__, x)


def test_fixed_target_range_refuses_labels_it_cannot_express():
    model = LSTMRegressor(n_blocks=2, seed=0, target_range=(0.0, 1.0), target_margin=0.1)
    model.learn_one({"a": 1.0}, 0.5)
    before = _model_state(model)
    # predictions lie in [-0.125, 1.125]: margin 0.1 of a logistic output, (hi - lo) / 0.8 per unit
    for y in (1e6, -0.13, 1.126):
        with pytest.raises(InputError, match=r"target_range.*\[-0.125, 1.125\]"):
            model.learn_one({"a": 1.0}, y)
        assert _model_state(model) == before
    for y in (-0.125, 1.125, 1.0, 0.0):  # the ends of what the output can reach are accepted
        model.learn_one({"a": 1.0}, y)
    assert model.learner_.n_updates_ == 5


# ---------------------------------------------------------------------------
# sequence boundaries
# ---------------------------------------------------------------------------
def test_reset_key_nan_is_missing_not_a_reset():
    """A boundary column read from a DataFrame holds NaN where nothing is marked."""
    model = LSTMRegressor(n_blocks=2, seed=0, reset_key="start")
    for t, start in enumerate([True, math.nan, np.nan, None, 0, 1, np.float64("nan"), False]):
        model.learn_one({"start": start, "a": float(t)}, 0.5)
    assert model.learner_.n_resets_ == 2 and model.learner_.seq_step_ == 3


def test_reset_key_pd_na_is_missing_and_a_bad_flag_changes_nothing():
    """A nullable boolean column holds pd.NA where nothing is marked.  A flag
    that is no truth value was once refused only after the new features (and
    a new class) had been added and the net widened."""
    pd = pytest.importorskip("pandas")
    model = LSTMRegressor(n_blocks=2, seed=0, reset_key="start")
    for start in [True, pd.NA, np.bool_(False), np.int64(1)]:
        model.learn_one({"start": start, "a": 1.0}, 0.5)
    assert model.learner_.n_resets_ == 2 and model.learner_.seq_step_ == 1
    for cls, y in ((LSTMRegressor, 0.5), (LSTMClassifier, "new class")):
        model = cls(n_blocks=2, seed=0, reset_key="start")
        model.learn_one({"a": 1.0, "start": True}, "p" if cls is LSTMClassifier else 0.5)
        before = _model_state(model)
        for flag in ("yes", np.array([1, 1]), [1], {"a": 1}):
            x = {"a": 1.0, "new": 2.0, "start": flag}
            with pytest.raises(InputError, match=r"reset flag x\['start'\] must be a bool or a number"):
                model.learn_one(x, y)
            with pytest.raises(InputError, match="reset flag"):
                model.predict_one(x)
            assert _model_state(model) == before, (cls.__name__, flag)


def test_pd_na_label_and_feature_are_missing():
    pd = pytest.importorskip("pandas")
    clf = LSTMClassifier(n_blocks=2, seed=0)
    clf.learn_one({"a": 1.0}, "p")
    clf.learn_one({"a": 0.0}, pd.NA)
    assert clf.classes_ == ["p"] and clf.learner_.n_steps_ == 2 and clf.learner_.n_updates_ == 1
    reg = LSTMRegressor(n_blocks=2, seed=0)
    reg.learn_one({"a": 1.0, "b": pd.NA}, pd.NA)
    twin = LSTMRegressor(n_blocks=2, seed=0)
    twin.learn_one({"a": 1.0, "b": None}, None)
    assert reg.feature_names_ == ["a", "b"] and reg.learner_.n_updates_ == 0
    _assert_same_learner(reg.learner_, twin.learner_)


def test_reset_key_resets_once_and_is_not_a_feature():
    model = LSTMRegressor(n_blocks=2, seed=0, reset_key="start")
    xs = [{"start": t % 5 == 0, "a": float(t)} for t in range(20)]
    for x in xs:
        model.predict_one(x)
        model.learn_one(x, 0.5)
    assert model.feature_names_ == ["a"]
    assert model.learner_.n_resets_ == 4 and model.learner_.n_steps_ == 20
    assert model.learner_.seq_step_ == 5
    # the same as calling reset() by hand
    by_hand = LSTMRegressor(n_blocks=2, seed=0)
    for x in xs:
        if x["start"]:
            by_hand.reset()
        by_hand.learn_one({"a": x["a"]}, 0.5)
    _assert_same_learner(model.learner_, by_hand.learner_)


def test_reset_key_inside_a_pipeline_with_a_scaler():
    start = compose.Select("start")
    model = ((compose.Discard("start") | preprocessing.StandardScaler()) + start) | LSTMRegressor(
        n_blocks=2, seed=0, reset_key="start")
    for t, (x, y) in enumerate(datasets.TrumpApproval().take(30)):
        x = dict(x, start=t % 10 == 0)
        model.predict_one(x)
        model.learn_one(x, y)
    lstm = model["LSTMRegressor"]
    assert lstm.learner_.n_resets_ == 3 and "start" not in lstm.feature_names_


# ---------------------------------------------------------------------------
# target scaling (regressor)
# ---------------------------------------------------------------------------
def test_target_map_is_affine_and_inverted_exactly():
    model = LSTMRegressor(n_blocks=2, seed=0, target_range=(LO, HI), target_margin=MARGIN)
    x = {"a": 1.0}
    y_hat = model.predict_one(x)
    p = model.learner_.state_["y_k"][0]
    assert y_hat == pytest.approx(_unscaled(p), rel=1e-15)
    model.learn_one(x, 2.5)
    # the learner was taught the scaled target: its error signal saw t = _scaled(2.5)
    ref = LSTMRegressor(n_blocks=2, seed=0, target_range=(LO, HI), target_margin=MARGIN)
    ref.predict_one(x)
    ref.learner_.learn_last(_scaled(2.5))
    _assert_same_learner(model.learner_, ref.learner_)


def test_running_target_range_widens_and_bounds_predictions():
    model = LSTMRegressor(n_blocks=2, seed=0)
    assert model.target_range_ == (-1.0, 1.0)
    model.learn_one({"a": 1.0}, 10.0)
    assert model.target_range_ == (0.0, 20.0)
    for y in (12.0, 4.0, 30.0, 5.0):
        model.learn_one({"a": 1.0}, y)
    assert model.target_range_ == (4.0, 30.0)
    span = 26.0 * MARGIN / (1 - 2 * MARGIN)
    for x, _ in datasets.TrumpApproval().take(20):
        assert 4.0 - span <= model.predict_one(x) <= 30.0 + span


def test_bad_target_parameters():
    with pytest.raises(ValueError, match="target_margin"):
        LSTMRegressor(target_margin=0.5)
    with pytest.raises(ValueError, match="target_range"):
        LSTMRegressor(target_range=(1.0, 1.0))
    with pytest.raises(ValueError, match="n_blocks"):
        LSTMClassifier(n_blocks=0)


# ---------------------------------------------------------------------------
# classifier
# ---------------------------------------------------------------------------
def test_classifier_classes_units_and_probabilities():
    model = LSTMClassifier(n_blocks=2, seed=0)
    assert model.predict_proba_one({"a": 1.0}) == {} and model.predict_one({"a": 2.0}) is None
    labels = ["x", "y", "x", "z", "y"]
    for t, label in enumerate(labels):
        x = {"a": float(t)}
        model.predict_proba_one(x)
        model.learn_one(x, label)  # new classes arrive while a step is pending
    assert model.classes_ == ["x", "y", "z"] and model.learner_.layout.n_out == 3
    assert model.learner_.n_steps_ == 2 + len(labels)  # widening took no steps
    proba = model.predict_proba_one({"a": 9.0})
    assert set(proba) == {"x", "y", "z"} and math.isclose(sum(proba.values()), 1.0)
    out = model.learner_.state_["y_k"]
    assert proba["z"] == pytest.approx(out[2] / out.sum(), rel=1e-12)
    assert model.predict_one({"a": 9.0}) == max(proba, key=proba.get)


def test_classifier_one_hot_targets_through_learn_last():
    model = LSTMClassifier(n_blocks=2, seed=0)
    model.learn_one({"a": 1.0}, True)
    model.learn_one({"a": 0.0}, False)
    ref = copy.deepcopy(model)
    x = {"a": 0.5}
    model.predict_proba_one(x)
    model.learn_one(x, False)
    ref.predict_proba_one(x)
    ref.learner_.learn_last(np.array([0.0, 1.0]))  # classes_ == [True, False]
    _assert_same_learner(model.learner_, ref.learner_)


@pytest.mark.parametrize("max_delay", [0, 2])
@pytest.mark.parametrize("predict_first", [False, True])
def test_a_label_of_none_is_a_step_without_label(predict_first, max_delay):
    """``learn_one(x, None)`` takes the observation's step and learns nothing, and so does
    a NaN label; the classifier registers no class ``None`` or NaN."""
    x = {"a": 0.5}
    for cls, warm in ((LSTMRegressor, 0.5), (LSTMClassifier, "a")):
        model = cls(n_blocks=2, seed=0, max_delay=max_delay)
        model.learn_one({"a": 1.0}, warm)
        ref, nan = copy.deepcopy(model), copy.deepcopy(model)
        for m, label in ((model, None), (nan, math.nan)):
            if predict_first:
                m.predict_one(x)
            m.learn_one(x, label)
            m.learn_one({"a": 2.0}, warm)  # and a labelled observation after it
        ref.learner_.predict_one(ref._encode(x).copy())  # the same step, without learning
        ref.learn_one({"a": 2.0}, warm)
        _assert_same_learner(model.learner_, ref.learner_)
        _assert_same_learner(model.learner_, nan.learner_)
        assert model.learner_.n_updates_ == 2
        if cls is LSTMClassifier:
            assert model.classes_ == nan.classes_ == ["a"]


@pytest.mark.parametrize("max_delay", [0, 2])
def test_a_nan_label_of_any_type_registers_no_class(max_delay):
    """A NaN is unequal to itself, so it never finds its own entry among the
    classes: a Decimal NaN (an object column read from SQL) or pd.NaT
    registered a new class at every occurrence, and the net grew an output
    unit each time.  Any label unequal to itself is no label, like a float NaN."""
    import decimal

    import pandas as pd

    for nan in (decimal.Decimal("NaN"), pd.NaT, np.datetime64("NaT", "ns"), np.float32("nan")):
        model = LSTMClassifier(n_blocks=2, seed=0, max_delay=max_delay)
        ref = copy.deepcopy(model)
        for t in range(3):
            x = {"a": float(t)}
            for m, y in ((model, nan), (ref, None)):
                m.predict_one(x)
                m.learn_one(x, y)
        assert model.classes_ == [] and model.learner_.layout.n_out == 1, nan
        _assert_same_learner(model.learner_, ref.learner_)
        model.learn_one({"a": 1.0}, "x")
        assert model.classes_ == ["x"]


def test_a_diverging_step_registers_no_class():
    """A step refused with DivergenceError left its new class registered,
    untrained, in classes_ and in predict_proba_one (the regressor restores its
    target range in that case).  The widened output unit, which had no
    target, goes to the next new class, exactly."""
    from online_lstm.errors import DivergenceError

    model = LSTMClassifier(n_blocks=1, block_size=1, seed=0, state_bound=1.0, init_range=1.0)
    model.learn_one({"a": 0.1}, "x")
    model.learn_one({"a": 1.0}, "y")
    with pytest.raises(DivergenceError):
        model.learn_one({"a": 5.0}, "z")
    assert model.classes_ == ["x", "y"] and model.learner_.layout.n_out == 3
    model.reset()
    assert set(model.predict_proba_one({"a": 0.1})) == {"x", "y"}
    model.learn_one({"a": 0.1}, "w")  # takes the unit z was given
    assert model.classes_ == ["x", "y", "w"] and model.learner_.layout.n_out == 3
    assert set(model.predict_proba_one({"a": 0.2})) == {"x", "y", "w"}


@pytest.mark.parametrize("predict_first", [False, True])
def test_bad_labels_are_refused_and_change_nothing(predict_first):
    cases = ((LSTMRegressor, ["1.5", "hi", [1.0], {"y": 1}, 1 + 2j]),
             (LSTMClassifier, [["x"], {"y": 1}, np.zeros(2)]))
    for cls, labels in cases:
        model = cls(n_blocks=2, seed=0)
        model.learn_one({"a": 1.0}, 1 if cls is LSTMClassifier else 0.5)
        if predict_first:
            model.predict_one({"a": 2.0})
        before = pickle.dumps(model)
        for y in labels:
            with pytest.raises(InputError, match="real number|hashable"):
                model.learn_one({"a": 2.0}, y)
            assert pickle.dumps(model) == before, (cls.__name__, y)


# ---------------------------------------------------------------------------
# clone, pickling, River's evaluation loop
# ---------------------------------------------------------------------------
def test_clone_is_fresh_and_seeded_clones_agree():
    model = LSTMRegressor(n_blocks=2, seed=4)
    for x, y in datasets.TrumpApproval().take(30):
        model.learn_one(x, y)
    a, b = model.clone(), model.clone()
    assert a.learner_.n_steps_ == 0 and a.feature_names_ == []
    assert a._get_params() == model._get_params()
    for x, y in datasets.TrumpApproval().take(30):
        assert a.predict_one(x) == b.predict_one(x)
        a.learn_one(x, y)
        b.learn_one(x, y)


@pytest.mark.parametrize("cls", [LSTMRegressor, LSTMClassifier])
def test_a_generator_or_seed_sequence_seed_is_refused_clearly(cls):
    """OnlineLSTM takes a Generator or a SeedSequence as its seed, so the
    adapter let them through, then failed on them with "TypeError: object of
    type 'numpy.random._generator.Generator' has no len()"."""
    for seed in (np.random.default_rng(0), np.random.SeedSequence(1), np.random.PCG64(2)):
        with pytest.raises(ValueError, match="seed must be None or an int"):
            cls(seed=seed)
    for seed in (None, 3, np.int64(3), [1, 2]):
        cls(seed=seed).learn_one({"a": 1.0}, 1)


def test_pickled_model_continues_identically():
    model = LSTMClassifier(n_blocks=2, seed=0)
    stream = list(datasets.Phishing().take(60))
    for x, y in stream[:30]:
        model.predict_proba_one(x)
        model.learn_one(x, y)
    model.predict_proba_one(stream[30][0])  # a pending step travels too
    other = pickle.loads(pickle.dumps(model))
    for x, y in stream[30:]:
        assert model.predict_proba_one(x) == other.predict_proba_one(x)
        model.learn_one(x, y)
        other.learn_one(x, y)


def test_river_progressive_val_score_runs_unchanged_and_agrees_with_ours():
    def fresh():
        return preprocessing.StandardScaler() | LSTMRegressor(seed=1)

    ds = list(datasets.TrumpApproval().take(300))
    river_mae = evaluate.progressive_val_score(ds, fresh(), metrics.MAE())
    ours = progressive_val(ds, fresh(), metrics.MAE(), step=100)
    hand, model = metrics.MAE(), fresh()
    for x, y in ds:
        hand.update(y, model.predict_one(x))
        model.learn_one(x, y)
    assert river_mae.get() == ours["MAE"].iloc[-1] == hand.get()
    assert list(ours["step"]) == [100, 200, 300]


def test_lstm_remembers_what_a_linear_model_cannot():
    """Target = the input of 2 steps ago, within sequences of 3 (reset_key):
    needs memory, so a linear model on the current input is at chance."""
    rng = np.random.default_rng(0)
    stream = []
    for _ in range(2500):
        bits = rng.integers(0, 2, 3).astype(float)
        for t in range(3):
            stream.append(({"start": t == 0, "bit": bits[t]}, bits[0] if t == 2 else None))
    lstm = LSTMRegressor(n_blocks=2, block_size=1, lr=1.0, seed=0, reset_key="start",
                         target_range=(0.0, 1.0), target_margin=0.0)
    linear = compose.Discard("start") | linear_model.LinearRegression()
    late = {}
    for name, model in (("lstm", lstm), ("linear", linear)):
        err = []
        for x, y in stream:
            y_hat = model.predict_one(x)
            if y is not None:
                err.append(abs(y - y_hat))
                model.learn_one(x, y)
        late[name] = float(np.mean(err[-500:]))
    assert late["linear"] > 0.45
    assert late["lstm"] < 0.25


def test_docstring_examples():
    import doctest

    import online_lstm.river

    res = doctest.testmod(online_lstm.river, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert res.failed == 0 and res.attempted > 0



# ---------------------------------------------------------------------------
# delayed labels (max_delay > 0)
# ---------------------------------------------------------------------------
def _stream_dicts(n, seed):
    rng = np.random.default_rng(seed)
    xs = [{"b": float(rng.normal()), "a": float(rng.normal())} for _ in range(n)]
    ys = [float(0.5 * x["a"] - x["b"] + 0.1 * rng.normal()) for x in xs]
    return xs, ys


@pytest.mark.parametrize("d", [1, 4])
def test_delayed_labels_are_learned_from_their_own_step(d):
    """Labels delivered d observations late go to the step that predicted
    them: the adapter ends bit for bit where the learner does when it is
    given each label with learn_delayed(y, age=d)."""
    xs, ys = _stream_dicts(60, 1)
    lo, hi, mg = -4.0, 4.0, 0.1
    model = LSTMRegressor(n_blocks=2, block_size=2, seed=3, max_delay=d, target_range=(lo, hi),
                          target_margin=mg)
    model.predict_one(xs[0])  # builds the net for features a, b
    m = copy.deepcopy(model.learner_)
    assert model.feature_names_ == ["a", "b"]
    scale = (hi - lo) / (1 - 2 * mg)
    for t in range(1, 60):
        model.predict_one(xs[t])
        m.predict_one(np.array([xs[t]["a"], xs[t]["b"]]))
        if t >= d:
            model.learn_one(xs[t - d], ys[t - d])
            m.learn_delayed((ys[t - d] - lo) / scale + mg, d)
    for a, b in zip(model.learner_.state_arrays().values(), m.state_arrays().values()):
        assert np.array_equal(a, b)
    assert model.n_late_labels_ == 0


def test_a_delayed_label_of_a_new_class_does_not_read_its_x():
    """With max_delay > 0, a label goes to the oldest predicted step and x is
    not read, as for a known class and for the regressor.  A new class once
    encoded x all the same: a new feature in it widened the net at label time,
    and a bad value in it refused the label (a known class was accepted)."""
    for label in ("old", "new"):
        model = LSTMClassifier(n_blocks=2, seed=0, max_delay=2)
        model.learn_one({"a": 1.0}, "old")
        model.predict_one({"a": 1.0})
        ref = copy.deepcopy(model)
        model.learn_one({"a": 1.0, "zz": 2.0, "colour": "red"}, label)
        ref.learn_one({"a": 1.0}, label)
        assert model.feature_names_ == ref.feature_names_ == ["a"], label
        assert model.classes_ == ref.classes_
        _assert_same_learner(model.learner_, ref.learner_)


def test_progressive_val_score_with_delay():
    """River's delayed evaluation runs on the adapter unchanged; with
    max_delay below the delay the late labels are skipped, counted and
    warned about, never learned from the wrong step."""
    data = list(datasets.TrumpApproval().take(300))
    ok = preprocessing.StandardScaler() | LSTMRegressor(seed=1, max_delay=5)
    evaluate.progressive_val_score(data, ok, metrics.MAE(), delay=5)
    reg = ok["LSTMRegressor"]
    assert reg.n_late_labels_ == 0
    assert reg.learner_.n_updates_ == 300
    late = preprocessing.StandardScaler() | LSTMRegressor(seed=1, max_delay=2)
    with pytest.warns(RuntimeWarning, match="later than max_delay=2"):
        evaluate.progressive_val_score(data, late, metrics.MAE(), delay=5)
    reg = late["LSTMRegressor"]
    assert reg.n_late_labels_ > 0
    assert reg.learner_.n_updates_ + reg.n_late_labels_ == 300


def test_delayed_classifier_with_new_classes_and_features():
    """A class first seen in a delayed label widens the net; the waiting
    steps stay learnable, with the new output unit open."""
    model = LSTMClassifier(n_blocks=2, block_size=1, seed=2, max_delay=3)
    stream = [({"a": 1.0}, "x"), ({"a": 0.0, "b": 1.0}, "y"), ({"b": 2.0}, "x"), ({"a": 0.5}, "z"),
              ({"c": 1.0}, "y"), ({"a": 1.0, "c": 0.0}, "z")]
    for t, (x, _) in enumerate(stream):
        model.predict_proba_one(x)
        if t >= 2:
            model.learn_one(*stream[t - 2])
    for x, y in stream[-2:]:
        model.learn_one(x, y)
    assert model.classes_ == ["x", "y", "z"]
    assert model.learner_.n_updates_ == len(stream)
    assert model.n_late_labels_ == 0
    assert not model._waiting


def test_delayed_labels_reach_their_own_step_on_a_memoryless_stream():
    """y depends on its own observation only: with labels 5 observations
    late, max_delay=5 learns it and max_delay=0 (labels to the last step)
    cannot (scripts/delayed_labels.py has the full comparison)."""
    rng = np.random.default_rng(0)
    data = [({"a": float(v)}, float(np.tanh(2 * v))) for v in rng.normal(size=1500)]
    spread = np.mean(np.abs([y - np.mean([y for _, y in data]) for _, y in data]))
    exact = evaluate.progressive_val_score(data, LSTMRegressor(seed=0, max_delay=5),
                                           metrics.MAE(), delay=5).get()
    wrong = evaluate.progressive_val_score(data, LSTMRegressor(seed=0), metrics.MAE(), delay=5).get()
    assert exact < 0.4 * spread
    assert wrong > 0.9 * spread


@pytest.mark.parametrize("bad", ["ab", (1, 2, 3), 5, (0, None), (2, 1), (0, float("inf"))])
def test_target_range_is_checked_with_a_message_naming_it(bad):
    with pytest.raises(ValueError, match=r"target_range must be None or \(lo, hi\)"):
        LSTMRegressor(target_range=bad)


@pytest.mark.parametrize("bad, margin", [((-1e308, 1e308), 0.1), ((0.0, 1.7e308), 0.1),
                                         ((-1.797e308, 0.0), 0.1), ((0.0, 1e300), 0.4999999999999)])
def test_a_target_range_whose_map_overflows_is_refused(bad, margin):
    """hi - lo (or the margin beyond them) beyond float64: the map's scale was
    inf, every prediction inf and every target the margin.  Refused when built."""
    with pytest.raises(ValueError, match=r"target_range must be None or \(lo, hi\).*finite too"):
        LSTMRegressor(target_range=bad, target_margin=margin)
    big = LSTMRegressor(n_blocks=2, seed=0, target_range=(-1e150, 1e150))  # the labels' own limit
    big.learn_one({"a": 1.0}, 1e150)
    assert math.isfinite(big.predict_one({"a": 1.0}))


def test_a_late_label_warns_once_and_is_counted_each_time():
    m = LSTMRegressor(n_blocks=2, block_size=1, max_delay=1, seed=0)
    for i in range(6):
        m.predict_one({"a": i / 6})
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        for _ in range(3):
            m.learn_one({"a": 0.0}, 1.0)  # labels for steps 5, 4, 3 steps old: too late
    assert m.n_late_labels_ == 3
    assert len([x for x in w if issubclass(x.category, RuntimeWarning)]) == 1


@pytest.mark.parametrize("cls", [LSTMRegressor, LSTMClassifier])
def test_a_pandas_series_asked_twice_is_one_step(cls):
    """A row of a DataFrame (``df.iloc[i]``, a Series) is read like a dict
    everywhere, but asking it twice while its step was pending compared the
    Series' index with the dict's keys elementwise and raised IndexError."""
    import pandas as pd

    model, ref = cls(n_blocks=2, seed=0), cls(n_blocks=2, seed=0)
    label = (lambda t: float(t)) if cls is LSTMRegressor else (lambda t: t % 2)
    for t in range(4):
        row = pd.Series({"a": float(t), "b": 1.0})
        assert model.predict_one(row) == model.predict_one(row) == ref.predict_one(row.to_dict())
        assert model.predict_one(pd.Series({"a": 9.0, "b": 1.0})) == ref.predict_one({"a": 9.0, "b": 1.0})
        model.learn_one(row, label(t))
        ref.learn_one(row.to_dict(), label(t))
    _assert_same_learner(model.learner_, ref.learner_)
    assert model.learner_.n_steps_ == 8


def test_reset_forgets_the_pending_observation():
    """The same x asked again after a reset is a new step of the new sequence."""
    m = LSTMRegressor(n_blocks=2, block_size=1, seed=0)
    m.predict_one({"a": 0.5})
    m.reset()
    m.predict_one({"a": 0.5})
    assert (m.learner_.n_steps_, m.learner_.seq_step_) == (2, 1)


@pytest.mark.parametrize("cls", [LSTMRegressor, LSTMClassifier])
def test_a_new_observation_with_pd_na_or_an_array_while_a_step_is_pending(cls):
    """While a step is pending, the next predict_one compares x with the
    pending x.  pd.NA (a missing value, input 0) against a number made that
    comparison raise TypeError ("boolean value of NA is ambiguous"), and an
    array-valued feature raised NumPy's ValueError instead of InputError."""
    pd = pytest.importorskip("pandas")
    model = cls(n_blocks=2, seed=0)
    model.learn_one({"a": 1.0}, 1)
    twin = copy.deepcopy(model)
    model.predict_one({"a": 1.0})
    model.predict_one({"a": pd.NA})  # a new observation whose feature is missing
    model.predict_one({"a": 2.0})  # pending x holds pd.NA now
    model.predict_one({"a": pd.NA})
    model.predict_one({"a": math.nan})  # missing again: the same observation, asked twice
    for x in ({"a": 1.0}, {"a": 0.0}, {"a": 2.0}, {"a": 0.0}):
        twin.predict_one(x)
    _assert_same_learner(model.learner_, twin.learner_)
    before = _model_state(model)
    with pytest.raises(InputError, match="real number"):
        model.predict_one({"a": np.array([1.0, 2.0])})
    assert _model_state(model) == before


def test_the_queue_of_predicted_steps_stays_bounded():
    """With max_delay > 0 the adapter remembered every predicted step not yet
    labelled: a model used for prediction only (labels stopped, or never
    given) grew by one entry per prediction without end.  Steps older than
    max_delay are now only counted; their labels are still skipped in order,
    and later labels still reach their own steps."""
    D = 3
    model = LSTMRegressor(n_blocks=2, block_size=1, max_delay=D, seed=0, target_range=(-1, 1))
    twin = copy.deepcopy(model)
    for i in range(500):
        model.predict_one({"a": i / 500})
    assert len(model._waiting) <= D + 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for i in range(500 - D - 1):  # labels of steps too old: skipped, counted
            model.learn_one({"a": i / 500}, 0.5)
        assert model.n_late_labels_ == 500 - D - 1
        assert model.learner_.n_updates_ == 0
        for i in range(500 - D - 1, 500):  # the last D + 1 are still in reach
            model.learn_one({"a": i / 500}, 0.5)
    assert model.n_late_labels_ == 500 - D - 1 and model.learner_.n_updates_ == D + 1
    # the same as a model that kept every entry: drive the twin's learner by hand
    m = twin.learner_
    for i in range(500):
        twin.predict_one({"a": i / 500})
    target = (0.5 - (-1)) / ((1 - (-1)) / (1 - 2 * 0.1)) + 0.1  # the documented map, margin 0.1
    for age in range(D, -1, -1):
        m.learn_delayed(target, age)
    _assert_same_learner(model.learner_, m)
    restored = pickle.loads(pickle.dumps(model))
    assert restored.n_late_labels_ == model.n_late_labels_


@pytest.mark.parametrize("cls", [LSTMRegressor, LSTMClassifier])
def test_on_divergence_passes_through(cls):
    """The adapters never reset on their own, and a 1997 net's cell states
    drift on an unsegmented stream: the learner's on_divergence="reset" (the
    README's remedy) had no adapter parameter, so a long River stream could
    only stop with DivergenceError.  It is a parameter now; it reaches the
    learner, survives widening and clone(), and the default still raises."""
    from online_lstm.errors import DivergenceError

    assert inspect_default(cls, "on_divergence") == "raise"
    label = (lambda i: float(i % 2)) if cls is LSTMRegressor else (lambda i: "ab"[i % 2])
    stream = [({"a": 1.0, "b": float(i % 3)}, label(i)) for i in range(60)]
    kw = dict(n_blocks=2, block_size=1, seed=0, state_bound=2.0, in_gate_bias=5.0, lr=0.1)
    raising = cls(**kw)
    with pytest.raises(DivergenceError):
        for x, y in stream:
            raising.predict_one(x)
            raising.learn_one(x, y)
    model = cls(**kw, on_divergence="reset")
    for x, y in stream:
        model.predict_one(x)
        model.learn_one(x, y)
    assert model.learner_.on_divergence == "reset" and model.learner_.n_divergences_ > 0
    assert model.learner_.n_steps_ == len(stream)
    assert model.clone().learner_.on_divergence == "reset"
    assert pickle.loads(pickle.dumps(model)).learner_.on_divergence == "reset"
    with pytest.raises(ValueError, match="on_divergence"):
        cls(on_divergence="ignore")


def inspect_default(cls, name):
    import inspect

    return inspect.signature(cls).parameters[name].default
