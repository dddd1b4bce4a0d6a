"""Second audit of online_lstm.evaluate: defects found, each a test that
failed before its fix."""

import itertools

import numpy as np
import pytest

from online_lstm import OnlineLSTM
from online_lstm.evaluate import iter_progressive_val, progressive_val

river = pytest.importorskip("river")
from river import datasets, evaluate, linear_model, metrics, preprocessing  # noqa: E402

PHISHING = list(itertools.islice(datasets.Phishing(), 200))


def _logreg():
    return preprocessing.StandardScaler() | linear_model.LogisticRegression()


def _river_rows(metric, step, delay=None):
    """River's own checkpoints: (step, value) read when each row is yielded."""
    names = [type(m).__name__ for m in metric] if isinstance(metric, metrics.base.Metrics) else \
        [type(metric).__name__]
    return [(r["Step"], [r[k].get() for k in names])
            for r in evaluate.iter_progressive_val_score(PHISHING, _logreg(), metric, step=step,
                                                         delay=delay)]


@pytest.mark.parametrize("make", [metrics.ROCAUC, metrics.LogLoss])
@pytest.mark.parametrize("delay", [None, 3])
def test_a_metric_of_probabilities_scores_a_river_classifier_as_river_does(make, delay):
    """ROCAUC and LogLoss need class probabilities: River's loop calls
    predict_proba_one for them.  Ours called predict_one and fed them hard
    labels (ROCAUC 0.85 where River says 0.91, LogLoss 5.5 for 0.49)."""
    want = _river_rows(make(), 50, delay)[-1][1][0]
    got = progressive_val(PHISHING, _logreg(), make(), step=50, delay=delay)
    assert got.iloc[-1, 1] == pytest.approx(want, rel=1e-12)
    if delay is None:  # without a delay the checkpoints are the same observations
        assert list(got.iloc[:, 1]) == pytest.approx([v[0] for _, v in _river_rows(make(), 50)], rel=1e-12)


def test_label_and_probability_metrics_together_as_river_s_collection():
    """Accuracy with ROCAUC: probabilities are asked for, and Accuracy gets
    the most likely class, as River's Metrics collection gives it."""
    ref = _river_rows(metrics.Accuracy() + metrics.ROCAUC(), 200)
    acc, auc = metrics.Accuracy(), metrics.ROCAUC()
    progressive_val(PHISHING, _logreg(), [acc, auc], step=200)
    assert [acc.get(), auc.get()] == pytest.approx(ref[-1][1], rel=1e-12)


@pytest.mark.parametrize("max_delay", [0, 2])
def test_an_lstm_classifier_scored_by_roc_auc_takes_one_step_per_observation(max_delay):
    """The adapter's predict_proba_one is its step: with ROCAUC it is asked
    once per observation, and Accuracy alongside gets the most likely class."""
    from online_lstm.river import LSTMClassifier

    data = PHISHING[:40]
    model = LSTMClassifier(n_blocks=1, block_size=1, seed=0, max_delay=max_delay)
    seen, auc = Seen(), metrics.ROCAUC()
    progressive_val(data, model, [seen, auc], step=10, delay=2 if max_delay else None)
    assert model.learner_.n_steps_ == len(data)
    assert len(seen.preds) > 30 and {type(p) for p in seen.preds} == {bool}
    assert 0.0 <= auc.get() <= 1.0


class Seen:
    """Keeps the predictions it is given."""

    name = "seen"

    def __init__(self):
        self.preds = []

    def update(self, y_true, y_pred):
        self.preds.append(y_pred)

    def get(self):
        return len(self.preds)


def _same_state(a, b):
    sa, sb = a.state_arrays(), b.state_arrays()
    return sa.keys() == sb.keys() and all(np.array_equal(sa[k], sb[k]) for k in sa)


@pytest.mark.parametrize("kind", ["lstm", "rtrl"])
@pytest.mark.parametrize("delay", [None, 1])
def test_a_step_the_learner_refuses_leaves_its_reset_undone(kind, delay):
    """A new-sequence item whose step the learner refuses (DivergenceError:
    a trace would pass 1e150; zero weights, so the input alone does it)
    left the learner reset: its traces (and states) were wiped although the
    error says the learner holds the state from before the step."""
    from online_lstm.baselines import RTRL
    from online_lstm.errors import DivergenceError

    if kind == "lstm":
        make, huge = (lambda: OnlineLSTM(1, 1, 1, 1, bias="none", init_range=0.0, seed=0)), 3e150
    else:
        make, huge = (lambda: RTRL(1, 1, 2, init_range=0.0, seed=0)), 1e200
    good = [(np.array([0.5]), 0.2), (np.array([0.4]), 0.3), (np.array([0.3]), None)]
    ref = make()
    progressive_val(good, ref, delay=delay)
    m = make()
    with pytest.raises(DivergenceError):
        progressive_val(good + [(np.array([huge]), 0.1, True)], m, delay=delay)
    assert m.n_steps_ == 3 and _same_state(m, ref)


class Constant:
    """A River-like model: predicts 0, learns nothing (takes no time)."""

    def predict_one(self, x):
        return 0.0

    def learn_one(self, x, y):
        pass


def test_the_time_a_caller_holds_a_row_is_not_counted():
    """seconds is the time spent evaluating: a caller that plots each row
    (here: sleeps 0.2 s) made it, and us_per_obs, grow by its own time."""
    import time

    rows = []
    for r in iter_progressive_val([({}, 1.0)] * 6, Constant(), step=2):
        rows.append(r)
        time.sleep(0.2)
    assert [r["step"] for r in rows] == [2, 4, 6]
    assert rows[-1]["seconds"] < 0.1


@pytest.mark.parametrize("name", ["step", "seconds", "us_per_obs"])
def test_a_metric_named_as_a_column_of_every_row_is_refused(name):
    """A metric named "step" replaced the step count in every row (1.0, 1.0
    for steps 2 and 4) and one named "seconds" was lost under the time."""
    from online_lstm.evaluate import MAE

    metric = type("Named", (MAE,), {"name": name})()
    with pytest.raises(ValueError, match=f"may not be named '{name}'"):
        progressive_val([({}, 1.0)] * 4, Constant(), [metric], step=2)
    assert metric.n == 0


@pytest.mark.parametrize("make", [metrics.Accuracy, metrics.ROCAUC])
def test_a_river_metric_not_for_the_model_is_refused_as_river_refuses_it(make):
    """Accuracy or ROCAUC of a River regressor: River's loop refuses it
    (works_with); ours scored it, Accuracy 0.0 and ROCAUC -0.0, silently."""
    data = [({"a": float(i)}, float(i)) for i in range(6)]
    model = preprocessing.StandardScaler() | linear_model.LinearRegression()
    with pytest.raises(ValueError, match="not compatible"):
        list(evaluate.iter_progressive_val_score(data, model, make()))
    with pytest.raises(ValueError, match=f"{make.__name__} metric is not compatible"):
        progressive_val(data, model, [metrics.MAE(), make()])
    assert model["LinearRegression"].weights == {}  # refused before any step
