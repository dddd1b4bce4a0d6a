"""Second audit of the River adapters: each test failed before its fix."""

import numpy as np
import pytest

pytest.importorskip("river")

from online_lstm.river import LSTMRegressor  # noqa: E402


def _theta(model):
    return model.learner_.state_arrays()["theta"]


def test_a_numpy_bool_regression_label_is_learned_as_a_bool():
    """``learn_one(x, True)`` is a label of 1.0, as for the learner, which
    takes ``np.bool_`` targets too; ``np.True_`` (a NumPy bool array's
    element, e.g. from ``stream.iter_array``) was refused as "not a real
    number"."""
    labels = [True, False, False, True, True, False]
    runs = []
    for cast in (bool, np.bool_):
        model = LSTMRegressor(n_blocks=2, block_size=1, seed=4)
        preds = []
        for i, y in enumerate(labels):
            x = {"a": i / 5, "b": float(y)}
            preds.append(model.predict_one(x))
            model.learn_one(x, cast(y))
        runs.append((preds, _theta(model), model.target_range_, model.learner_.n_updates_))
    (p0, t0, r0, n0), (p1, t1, r1, n1) = runs
    assert p0 == p1 and r0 == r1 == (0.0, 1.0) and n0 == n1 == len(labels)
    np.testing.assert_array_equal(t0, t1)


def test_labels_at_the_ends_of_a_fixed_target_range_are_accepted():
    """The documented reachable interval is [lo - d, hi + d] with
    d = m (hi - lo) / (1 - 2 m), and the refusal message names it; a label
    at either end was refused for about one range in five, because the
    target computed from it missed [0, 1] by a rounding error."""
    from online_lstm.errors import InputError

    rng = np.random.default_rng(0)
    for _ in range(150):
        lo = float(rng.uniform(-100, 100))
        hi = lo + float(rng.uniform(1e-3, 300))
        m = float(rng.choice([0.05, 0.1, 0.2, 0.3]))
        d = m * (hi - lo) / (1 - 2 * m)
        model = LSTMRegressor(n_blocks=1, block_size=1, seed=0, target_range=(lo, hi), target_margin=m)
        for y in (lo - d, hi + d, lo, hi):
            model.learn_one({"a": 1.0}, y)
        for y in (lo - d - 1e-6 * (hi - lo), hi + d + 1e-6 * (hi - lo)):  # truly beyond: refused
            with pytest.raises(InputError, match="beyond what target_range"):
                model.learn_one({"a": 1.0}, y)
        assert model.learner_.n_updates_ == 4


@pytest.mark.parametrize("delay", [3, "wait"])
def test_the_id_recipe_runs_rivers_delayed_loop_with_missing_labels(delay):
    """docs/river.md: River's delayed loop asks again (predict_one) for an
    observation whose label is None, and with id_key that is the same
    observation.  Behind the documented recipe's scaler, which learns from
    the labels due in between, the x asked again differs from the first, and
    the adapter raised InputError ("ids must be unique") at the first missing
    label.  Now: one step per observation, one update per label."""
    from river import compose, evaluate, metrics, preprocessing

    data = [({"id": f"trip {i}", "km": i % 7, "wait": i % 5}, None if i % 4 == 0 else 2.0 * (i % 7))
            for i in range(120)]
    lstm = LSTMRegressor(n_blocks=2, block_size=1, max_delay=5, id_key="id", seed=1)
    model = (compose.Discard("id") | preprocessing.StandardScaler()) + compose.Select("id") | lstm
    evaluate.progressive_val_score(data, model, metrics.MAE(), delay=delay)
    assert lstm.learner_.n_steps_ == 120 and lstm.learner_.n_updates_ == 90
    assert lstm.n_late_labels_ == 0 and lstm.feature_names_ == ["km", "wait"]


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_rivers_chains_take_one_step_per_observation_with_the_scaler_inside(kind):
    """docs/river.md: a chain predicts again inside learn_one.  With the
    scaler inside the chain's model that x is the one predicted (one step per
    observation); with the scaler in front of the chain it has been rescaled
    meanwhile and takes a second step, as the page warns."""
    from river import evaluate, metrics, multioutput, preprocessing

    from online_lstm.river import LSTMClassifier

    rng = np.random.default_rng(0)
    xs = [{f"f{j}": float(rng.normal()) for j in range(3)} for _ in range(40)]
    if kind == "classifier":
        chain, model = multioutput.ClassifierChain, LSTMClassifier(n_blocks=2, block_size=1, seed=1)
        data = [(x, {0: x["f0"] > 0, 1: x["f1"] > 0}) for x in xs]
        metric = metrics.multioutput.MicroAverage(metrics.Jaccard())
    else:
        chain, model = multioutput.RegressorChain, LSTMRegressor(n_blocks=2, block_size=1, seed=1)
        data = [(x, {0: x["f0"], 1: x["f1"]}) for x in xs]
        metric = metrics.multioutput.MicroAverage(metrics.MAE())
    inside = chain(preprocessing.StandardScaler() | model, order=[0, 1])
    evaluate.progressive_val_score(data, inside, metric.clone())
    for o in (0, 1):
        learner = inside[o][-1].learner_
        assert learner.n_steps_ == learner.n_updates_ == len(data)
    in_front = chain(model, order=[0, 1])
    evaluate.progressive_val_score(data, preprocessing.StandardScaler() | in_front, metric.clone())
    assert in_front[0].learner_.n_steps_ == 2 * len(data) - 1  # the first x is all zeros both times


@pytest.mark.parametrize("seed", [-1, 1.5, "x", [1, -2]])
def test_a_bad_seed_is_named_with_what_an_adapter_takes(seed):
    """The learner's message listed "a SeedSequence or a Generator", which an
    adapter refuses (a clone could not reproduce them)."""
    from online_lstm.river import LSTMClassifier, LSTMRegressor

    for cls in (LSTMRegressor, LSTMClassifier):
        with pytest.raises(ValueError, match=r"^seed must be None or an int >= 0 \(or a sequence of "
                                             r"them\) for a River adapter; got") as err:
            cls(seed=seed)
        assert "Generator" not in str(err.value)
