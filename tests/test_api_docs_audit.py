"""Behaviour the public docstrings promise, where the code had to be fixed to keep it."""

import numpy as np
import pytest

from online_lstm.evaluate import MAE, RMSE, Accuracy


@pytest.mark.parametrize("cls", [MAE, RMSE])
def test_metric_refuses_a_prediction_of_another_shape(cls):
    # update() takes "the prediction made for it (same shape)"; a (2, 1)
    # prediction for a (2,) target broadcast to a (2, 2) difference and
    # scored a perfect prediction as MAE 1.0
    m = cls()
    with pytest.raises(ValueError, match=r"y_pred of the shape of y_true.*\(2,\).*\(2, 1\)"):
        m.update(np.array([1.0, 2.0]), np.array([[1.0], [2.0]]))
    with pytest.raises(ValueError, match="y_pred of the shape of y_true"):
        m.update(np.array([1.0]), np.array([1.0, 5.0]))
    assert (m.n, m.get()) == (0, 0.0)  # the refused calls counted nothing
    m.update(np.array([1.0, np.nan]), np.array([0.5, 7.0]))
    m.update(2.0, np.array([1.0]))  # a float target and an (n_out == 1) array prediction
    assert m.n == 2
    assert m.get() == pytest.approx(0.75 if cls is MAE else np.sqrt((0.25 + 1.0) / 2))


def test_accuracy_refuses_a_prediction_of_another_shape_for_a_vector_target():
    """(3,) against (2,) compared argmaxes over different units: a "correct"
    answer from unit 0 of a prediction that was never for this target."""
    acc = Accuracy()
    with pytest.raises(ValueError, match=r"y_true of shape \(2,\), y_pred of shape \(3,\)"):
        acc.update(np.array([1.0, 0.0]), np.array([0.9, 0.1, 0.0]))
    assert (acc.correct, acc.n) == (0, 0)
    acc.update(np.array([1.0, 0.0]), np.array([0.9, 0.1]))
    acc.update(np.array([np.nan, 1.0]), [0.9, 0.1])  # a list of the right shape is fine
    assert (acc.correct, acc.n) == (1, 2)
