"""Third audit of the River adapters and of evaluate.progressive_val: the
stepping contract under every call pattern River and a user make, the
documented feature-schema policy claim by claim, and the progressive
validation's rows, metrics, stream shapes and failures."""

import itertools

import numpy as np
import pytest

river = pytest.importorskip("river")
from river import datasets, evaluate, linear_model, metrics, preprocessing  # noqa: E402

from online_lstm import OnlineLSTM  # noqa: E402
from online_lstm.evaluate import iter_progressive_val, progressive_val  # noqa: E402


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
    assert list(df.columns) == ["step", "MAE", "RMSE", "seconds", "us_per_obs"]
    assert df["MAE"].iloc[-1] == ref[-1]["MAE"].get()
    assert df["RMSE"].iloc[-1] == ref[-1]["RMSE"].get()
    # an empty stream: the same columns
    empty = progressive_val([], linear_model.LinearRegression(), metrics.MAE() + metrics.RMSE())
    assert list(empty.columns) == list(df.columns)
    # with a metric of its own beside it, and a collection of two of one class refused by name
    df = progressive_val(data, linear_model.LinearRegression(), [metrics.MAE() + metrics.RMSE(), "mae"],
                         step=20)
    assert list(df.columns) == ["step", "MAE", "RMSE", "mae", "seconds", "us_per_obs"]
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
