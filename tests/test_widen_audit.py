"""Audit of widening and of the River adapters' feature-schema policy.

Each test here failed on the code before its fix: the defects found by an
audit of ``online_lstm/widen.py`` and of the feature rules of
``online_lstm/river.py`` (emerging features, sequence boundaries, refused
calls), checked against independently computed expectations.
"""

import numpy as np
import pytest

pytest.importorskip("river")

from online_lstm.errors import DivergenceError  # noqa: E402
from online_lstm.river import LSTMClassifier, LSTMRegressor  # noqa: E402


def _diverging(cls, **kw):
    """A trained model whose next step diverges when feature "b" is 50 (a
    cell state beyond state_bound from the reset state), and does not when
    every input is 0."""
    model = cls(n_blocks=2, block_size=2, seed=0, init_range=1.0, **kw)
    label = (lambda i: "xy"[i % 2]) if cls is LSTMClassifier else (lambda i: 1.0)
    for i in range(20):
        x = {"a": float(np.sin(i))} | ({"id": i} if "id_key" in kw else {})
        model.predict_one(x)
        model.learn_one(x, label(i))
    model.reset()
    model.learner_.state_bound = 0.3
    return model


def _visible(model):
    return (model.feature_names_, getattr(model, "classes_", None),
            getattr(model, "target_range_", None), model.learner_.n_steps_,
            model.learner_.n_resets_, model.learner_.state_arrays()["T"].tobytes(),
            model.learner_.state_arrays()["record"].tobytes())


@pytest.mark.parametrize("cls, call", [(LSTMRegressor, "learn_one"), (LSTMRegressor, "predict_one"),
                                       (LSTMClassifier, "learn_one"), (LSTMClassifier, "predict_one"),
                                       (LSTMClassifier, "new_class")])
def test_a_diverging_step_registers_no_feature(cls, call):
    """A step refused with DivergenceError kept the features that first
    appeared in its x: feature_names_ named them though no step had read
    them (the classifier unregisters a new class in that case, the regressor
    restores its target range).  Their input units, at 0, stay in the net and
    go to the next new features, in order."""
    model = _diverging(cls)
    before = _visible(model)
    x = {"a": 0.0, "b": 50.0, "c": 0.0}
    with pytest.raises(DivergenceError):
        if call == "predict_one":
            model.predict_one(x)
        else:
            model.learn_one(x, "z" if call == "new_class" else 1.0)
    assert _visible(model)[:5] == before[:5]  # the net may keep the new units (at 0)
    # the next new features take the units the refused ones were given
    model.learner_.state_bound = 1e6
    n_in = model.learner_.layout.n_in
    model.learn_one({"a": 0.0, "d": 1.0}, "x" if cls is LSTMClassifier else 1.0)
    assert model.feature_names_ == ["a", "d"]
    assert model.learner_.layout.n_in == n_in


@pytest.mark.parametrize("cls", [LSTMRegressor, LSTMClassifier])
def test_a_diverging_step_with_the_reset_flag_leaves_no_reset(cls):
    """With reset_key, the reset of an observation whose step was then refused
    (DivergenceError) stayed done: the states zeroed and n_resets_ counted,
    by a call that was refused; a retry reset once more."""
    model = _diverging(cls, reset_key="start")
    model.learner_.state_bound = 1e6
    model.learn_one({"a": 0.5, "b": 0.0}, "x" if cls is LSTMClassifier else 1.0)  # a state to lose
    model.learner_.state_bound = 0.3
    before = _visible(model)
    with pytest.raises(DivergenceError):
        model.predict_one({"a": 0.0, "b": 50.0, "start": 1})
    assert _visible(model) == before


def test_a_diverging_step_with_an_id_registers_no_feature():
    """The same with id_key (another code path): no feature, no id."""
    model = _diverging(LSTMRegressor, max_delay=2, id_key="id")
    before = _visible(model)
    with pytest.raises(DivergenceError):
        model.predict_one({"id": "one", "a": 0.0, "b": 50.0})
    assert _visible(model)[:5] == before[:5]
    assert "one" not in model._ids


@pytest.mark.parametrize("cls", [LSTMRegressor, LSTMClassifier])
def test_an_unhashable_reset_key_is_refused_when_built(cls):
    """reset_key=["start"] was accepted, and every later call then failed
    with "TypeError: unhashable type: 'list'" (id_key is checked when built)."""
    for bad in (["start"], {"start": 1}):
        with pytest.raises(ValueError, match="reset_key must be None or a hashable feature name"):
            cls(reset_key=bad)
    cls(reset_key=("start", 1)).learn_one({"a": 1.0, ("start", 1): True}, 1)


def test_an_id_asked_again_gets_the_same_answer_after_the_range_moved():
    """With id_key, predicting an id still waiting, with equal features, is
    documented as the same observation asked again: the same answer.  The
    regressor mapped the kept output with the target range of the moment,
    so a label that widened the range in between changed the answer (1.0,
    then 50.5, for one observation and one step)."""
    model = LSTMRegressor(n_blocks=2, seed=0, max_delay=3, id_key="id")
    model.learn_one({"id": 0, "a": 1.0}, 1.0)
    model.predict_one({"id": 1, "a": 1.0})
    x = {"id": 2, "a": 0.5}
    first = model.predict_one(x)
    lo, hi = model.target_range_
    model.learn_one({"id": 1}, 100.0)  # a new maximum: the range moves
    assert model.target_range_ != (lo, hi)
    n = model.learner_.n_steps_
    assert model.predict_one(dict(x)) == first
    assert model.learner_.n_steps_ == n
