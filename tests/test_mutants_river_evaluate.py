"""Tests written to kill mutants of the River adapters (``online_lstm/river.py``)
and of progressive validation (``online_lstm/evaluate.py``) that the other
tests let through in a mutation audit.  Each test's docstring names the
mutant it kills; expected values come from the documented rules or from a
twin ``OnlineLSTM`` (a deep copy of the adapter's learner) driven directly
with ``predict_one``/``learn_delayed``, never from stored outputs.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

pytest.importorskip("river")

from online_lstm.errors import DivergenceError  # noqa: E402
from online_lstm.evaluate import Accuracy, iter_progressive_val  # noqa: E402
from online_lstm.river import LSTMClassifier, LSTMRegressor  # noqa: E402


def _same_state(a, b):
    sa, sb = a.state_arrays(), b.state_arrays()
    assert sa.keys() == sb.keys()
    return all(np.array_equal(sa[k], sb[k]) for k in sa)


def _scaled(y, lo=-1.0, hi=1.0, m=0.1):
    """The documented target map: [lo, hi] -> [m, 1 - m], affine."""
    return (y - lo) / ((hi - lo) / (1.0 - 2.0 * m)) + m


def _unscaled(p, lo=-1.0, hi=1.0, m=0.1):
    return lo + (p - m) * (hi - lo) / (1.0 - 2.0 * m)


# ----------------------------------------------------------------------------
# river.py

def test_a_pending_x_with_more_features_is_not_the_same_observation():
    """Kills the mutant that drops ``if len(x) != len(pending): return False``
    in ``_same_observation``: ``{"a": 1}`` then matched a pending
    ``{"a": 1, "b": 2}`` (every key of x found and equal), so a new
    observation was answered with the old step's prediction and took no
    step.  The rule: the same observation only if ``x == pending``;
    otherwise a new step, with the absent feature b at input 0."""
    model = LSTMRegressor(n_blocks=2, block_size=1, seed=3, init_range=0.5)
    model.predict_one({"a": 1.0, "b": 2.0})
    twin = copy.deepcopy(model.learner_)  # two inputs (a, b), one step taken
    assert model.feature_names_ == ["a", "b"] and twin.n_steps_ == 1
    got = model.predict_one({"a": 1.0})
    out = twin.predict_one(np.array([1.0, 0.0]))
    assert model.learner_.n_steps_ == 2
    assert got == _unscaled(float(out[0]))  # no label yet: target range (-1, 1)
    assert _same_state(model.learner_, twin)


def test_predict_proba_normalises_over_the_known_classes_only():
    """Kills the mutant ``total = float(np.sum(out))`` (for ``out[:n]``) in
    ``LSTMClassifier.predict_proba_one``: after a refused new class the net
    keeps an output unit that has no class, and its output went into the
    normaliser, so the known classes' probabilities summed to less than 1.
    The documented rule: the outputs of the known classes, normalised to
    sum to 1."""
    model = LSTMClassifier(n_blocks=1, block_size=1, seed=0, state_bound=1.0, init_range=1.0)
    model.learn_one({"a": 0.1}, "x")
    model.learn_one({"a": 1.0}, "y")
    with pytest.raises(DivergenceError):
        model.learn_one({"a": 5.0}, "z")
    assert model.classes_ == ["x", "y"] and model.learner_.layout.n_out == 3
    model.reset()
    twin = copy.deepcopy(model.learner_)
    proba = model.predict_proba_one({"a": 0.1})
    out = twin.predict_one(np.array([0.1]))
    assert out[2] > 0  # the unit without a class answers too (logistic)
    total = out[0] + out[1]
    assert proba == pytest.approx({"x": out[0] / total, "y": out[1] / total}, rel=1e-12, abs=0)
    assert sum(proba.values()) == pytest.approx(1.0, rel=1e-12)


def test_an_id_asked_again_gets_its_answer_though_the_target_range_moved():
    """Kills the mutant that drops ``if out.shape[0] == 2: return
    float(out[1])`` in ``LSTMRegressor.predict_one``: an observation asked
    again under its id then got its old output mapped through the target
    map of now, which a label in between had widened.  The documented rule:
    the same observation asked again gets the same answer, no new step."""
    model = LSTMRegressor(n_blocks=2, block_size=1, seed=1, max_delay=3, id_key="id")
    model.learn_one({"id": "w", "a": 0.5}, 0.0)
    first = model.predict_one({"id": "A", "a": 0.2})
    model.predict_one({"id": "B", "a": -0.3})
    before = model.target_range_
    model.learn_one({"id": "B"}, 10.0)
    assert model.target_range_ != before  # the map moved
    n = model.learner_.n_steps_
    again = model.predict_one({"id": "A", "a": 0.9})  # a scaler may have changed the features
    assert again == first and model.learner_.n_steps_ == n


def test_a_classifier_asked_again_under_an_id_after_other_steps_gets_its_answer():
    """Kills the mutant that drops ``out[: len(kept)] = kept`` in
    ``_StreamLSTM._asked_again``: an observation asked again under its id
    then got the outputs of the last step taken (another observation's
    probabilities).  The documented rule: the id of a step still waiting
    for its label is the same observation asked again, whatever its other
    features: the same answer, no new step."""
    model = LSTMClassifier(n_blocks=2, block_size=1, seed=4, init_range=0.5, max_delay=3,
                           id_key="id")
    model.learn_one({"id": "w1", "a": 0.5}, "p")
    model.learn_one({"id": "w2", "a": -0.5}, "q")
    first = model.predict_proba_one({"id": "A", "a": 0.9})
    other = model.predict_proba_one({"id": "B", "a": -0.9})
    assert other != first  # the last step's outputs differ from A's
    n = model.learner_.n_steps_
    assert model.predict_proba_one({"id": "A", "a": 0.0}) == first
    assert model.learner_.n_steps_ == n


def test_a_refused_step_undoes_the_reset_its_reset_key_asked_for():
    """Kills the mutant that drops ``learner.load_state_arrays(saved)`` in
    ``_new_step``'s refusal path: a step refused with DivergenceError left
    the learner reset (cell states and traces zeroed) by ``reset_key``.
    The documented rule: a refused call changes nothing, and a reset asked
    for by ``reset_key`` is undone."""
    model = LSTMRegressor(n_blocks=1, block_size=1, seed=0, state_bound=1.0, init_range=1.0,
                          reset_key="start")
    model.learn_one({"a": 0.1}, 0.0)
    model.learn_one({"a": 0.3}, 1.0)
    before = copy.deepcopy(model.learner_)
    assert np.any(before.state_["s_c"] != 0)  # a reset would show
    with pytest.raises(DivergenceError):
        model.learn_one({"a": 2.0, "start": True}, 0.5)
    assert _same_state(model.learner_, before)
    assert model.learner_.n_steps_ == before.n_steps_


def test_a_reused_id_is_not_forgotten_when_its_earlier_step_expires():
    """Kills the mutant that drops ``e[0] == step`` in ``_expire_ids``: when
    the earlier step of an id that has been labelled and then names a new
    observation grew older than max_delay, the id's new, waiting step was
    forgotten with it and counted as expired, so its label, due within
    max_delay, was skipped as late.  The documented rule: once its label is
    in, an id may name a new observation; a label within max_delay steps of
    its prediction is learned from that step."""
    lo, hi = -1.0, 1.0
    model = LSTMRegressor(n_blocks=2, block_size=1, seed=2, max_delay=2, id_key="id",
                          target_range=(lo, hi))
    model.learn_one({"id": "w", "a": 0.5}, 0.0)  # step 0
    twin = copy.deepcopy(model.learner_)
    t = np.empty(1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a skipped label warns
        model.predict_one({"id": "A", "a": 0.1})  # step 1
        twin.predict_one(np.array([0.1]))
        model.learn_one({"id": "A"}, 0.3)
        t[0] = _scaled(0.3, lo, hi)
        twin.learn_delayed(t, 0)
        model.predict_one({"id": "A", "a": 0.2})  # step 2: A names a new observation
        twin.predict_one(np.array([0.2]))
        for k, a in (("B", 0.3), ("C", 0.4)):  # steps 3, 4: step 1 is now older than max_delay
            model.predict_one({"id": k, "a": a})
            twin.predict_one(np.array([a]))
        model.learn_one({"id": "A"}, -0.4)  # the label of step 2, 2 steps later: in time
        t[0] = _scaled(-0.4, lo, hi)
        twin.learn_delayed(t, 2)
    assert model.n_late_labels_ == 0
    assert model.learner_.n_steps_ == twin.n_steps_ == 5
    assert _same_state(model.learner_, twin)


# ----------------------------------------------------------------------------
# evaluate.py

def _classifier_stream():
    return [({"a": 0.1}, "p"), ({"a": -0.2}, "q"), ({"a": 0.3}, "p"), ({"a": -0.4}, "q")]


def test_scored_counts_only_predictions_that_were_scored():
    """Kills the mutant that reports ``unscored[1] + unscored[0]`` as the
    row's ``scored``: the River classifier's first prediction, None (no
    class yet), is not scored (as in River's loop), so it must not count.
    The documented column: the number of predictions scored so far."""
    rows = list(iter_progressive_val(_classifier_stream(), LSTMClassifier(seed=0), "accuracy",
                                     step=1))
    assert [r["step"] for r in rows] == [1, 2, 3, 4]
    assert [r["scored"] for r in rows] == [0, 1, 2, 3]


def test_a_river_model_predicting_nothing_yet_gets_no_warning():
    """Kills the mutant that drops ``not river_model`` from the condition of
    the "every prediction was None" warning: a River classifier predicts
    None before its first label, as River's classifiers do, and the
    documented warning is for a model that is not a River estimator."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rows = list(iter_progressive_val(_classifier_stream(), LSTMClassifier(seed=0), "accuracy",
                                         step=1))
    assert rows[0]["scored"] == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_accuracy_of_a_numpy_float_target_that_is_not_a_python_float(dtype):
    """Kills the mutant that drops ``np.floating`` from the float branch of
    ``Accuracy.update`` (np.float64 is a Python float and still took it):
    a binary target 1.0 as a float32 was compared with ``==`` against the
    output 0.8 and counted wrong.  The documented rule: a float target is
    correct when the output is on the same side of 0.5."""
    acc = Accuracy()
    acc.update(dtype(1.0), 0.8)
    acc.update(dtype(0.0), dtype(0.3))
    acc.update(dtype(1.0), 0.2)
    assert (acc.correct, acc.n) == (2, 3)
