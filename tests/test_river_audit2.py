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
