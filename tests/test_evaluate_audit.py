"""Audit of online_lstm.evaluate: defects found by the audit, each a test that
failed before its fix."""

import collections

import numpy as np
import pandas as pd
import pytest

from online_lstm import OnlineLSTM
from online_lstm.errors import InputError
from online_lstm.evaluate import MAE, Accuracy, iter_progressive_val, progressive_val

from conftest import CountMetric as Count


@pytest.mark.parametrize("n_out", [1, 2])
@pytest.mark.parametrize("kind", ["series", "nullable", "masked"])
def test_all_nan_targets_of_any_array_kind_are_not_scored(kind, n_out):
    """A target with no entry (a pandas row of NaN, pd.NA in a nullable
    Series, a fully masked array) is no target, as None or a NaN list is:
    it was scored, and Accuracy counted it (wrong for one output)."""
    missing = {"series": pd.Series([np.nan] * n_out),
               "nullable": pd.Series([pd.NA] * n_out, dtype="Float64"),
               "masked": np.ma.masked_all((n_out,))}[kind]
    good = np.full(n_out, 1.0)
    stream = [(np.array([0.1]), good), (np.array([0.2]), missing), (np.array([0.3]), good)]
    count, acc = Count(), Accuracy()
    m = OnlineLSTM(1, n_out, seed=0)
    progressive_val(stream, m, [count, acc], step=10)
    assert count.n == 2 and acc.n == 2
    assert m.n_steps_ == 3 and m.n_updates_ == 2
    ref = OnlineLSTM(1, n_out, seed=0)  # the same learning as with None
    progressive_val([stream[0], (np.array([0.2]), None), stream[2]], ref, "mae", step=10)
    for k, v in ref.state_arrays().items():
        np.testing.assert_array_equal(m.state_arrays()[k], v, err_msg=k)


@pytest.mark.parametrize("y", [[], np.array([]), np.zeros(0)])
def test_an_empty_target_is_refused_not_skipped(y):
    """An empty array is not "a target of NaN only": its shape is wrong, and
    the item was silently taken as unlabelled."""
    m = OnlineLSTM(1, 1, seed=0)
    with pytest.raises(InputError, match=r"stream item 1: y must have shape \(1,\).*got shape \(0,\)"):
        progressive_val([(np.ones(1), 0.5), (np.ones(1), y)], m)
    assert m.n_steps_ == 1


@pytest.mark.parametrize("progress", [1, "yes", object()])
def test_a_bad_progress_argument_is_refused_before_any_step(progress):
    """progress=1 or "yes" crashed with AttributeError ('int' object has no
    attribute 'update') after the first observation had been learned."""
    m = OnlineLSTM(1, 1, seed=0)
    with pytest.raises(ValueError, match="progress must be True, False or a tqdm bar"):
        progressive_val([(np.ones(1), 0.5)] * 3, m, progress=progress)
    assert m.n_steps_ == 0


def test_a_numpy_true_progress_makes_a_bar(monkeypatch):
    """np.True_ (e.g. a flag read from an array) is True: it was taken for a
    bar and crashed with AttributeError after the first observation."""
    import io

    import tqdm.auto
    from tqdm import tqdm as plain_tqdm

    made = []

    def fake(**kw):
        made.append(plain_tqdm(file=io.StringIO(), **kw))
        return made[-1]

    monkeypatch.setattr(tqdm.auto, "tqdm", fake)
    df = progressive_val([(np.ones(1), 0.5)] * 3, OnlineLSTM(1, 1, seed=0), progress=np.True_)
    assert len(made) == 1 and made[0].n == 3 and made[0].total == 3 and len(df) == 1


@pytest.mark.parametrize("total", [None, 0])
def test_a_given_bar_is_updated_whatever_its_truth(total):
    """The bar was used only if truthy: tqdm's bool() of a bar with no total
    (a generator stream's) raises TypeError, and a bar of total 0 is False,
    so it was silently left at 0."""
    import io

    from tqdm import tqdm

    bar = tqdm(file=io.StringIO(), total=total)
    df = progressive_val(iter([(np.ones(1), 0.5)] * 3), OnlineLSTM(1, 1, seed=0), progress=bar)
    assert bar.n == 3 and len(df) == 1
    bar.close()


def test_a_metric_class_is_refused_before_any_step():
    """MAE (the class) for MAE(): update was called unbound after the first
    step, an obscure TypeError that left the step taken and its label unlearned."""
    m = OnlineLSTM(1, 1, seed=0)
    with pytest.raises(TypeError, match=r"an instance.*MAE\(\)"):
        progressive_val([(np.ones(1), 0.5)] * 3, m, ["rmse", MAE])
    assert m.n_steps_ == 0


def test_namedtuple_items_are_tuples():
    """A namedtuple item was refused as "got Obs of length 3", though it is a
    tuple of length 3."""
    Obs = collections.namedtuple("Obs", "x y new_sequence")
    rng = np.random.default_rng(0)
    plain = [(rng.uniform(-1, 1, 2), rng.uniform(0, 1), t % 5 == 0) for t in range(20)]
    a, b = OnlineLSTM(2, 1, seed=0), OnlineLSTM(2, 1, seed=0)
    got = progressive_val([Obs(*item) for item in plain], a, "mae", step=7)
    want = progressive_val(plain, b, "mae", step=7)
    assert got[["step", "mae"]].equals(want[["step", "mae"]])
    assert a.n_resets_ == b.n_resets_ == 4


def test_a_new_sequence_on_a_model_without_reset_delivers_no_label_first():
    """The item is refused, so it changes nothing, not even by the labels due
    before it (as the docstring promises): with a delay the label of item 0
    was scored and learned before item 1 was refused."""
    class NoReset:
        def __init__(self):
            self.learned = []

        def predict_one(self, x):
            return 0.0

        def learn_one(self, x, y):
            self.learned.append(y)

    model, mae = NoReset(), MAE()
    with pytest.raises(InputError, match="item 1 starts a new sequence"):
        list(iter_progressive_val([({"a": 1}, 1.0), ({"a": 1}, 2.0, True)], model, mae, delay=1))
    assert model.learned == [] and mae.n == 0


def test_a_learner_bank_is_refused_not_stepped_twice():
    """A LearnerBank has predict_one and learn_one, so it was run as a River
    model: both calls take a step, two per observation (6 after 3), the
    second one's learning not of the step scored."""
    from online_lstm import LearnerBank

    bank = LearnerBank(2, 1, 1, seed=0)
    with pytest.raises(TypeError, match=r"LearnerBank.*two per observation.*bank.learner\(i\)"):
        progressive_val([(np.ones(2), np.full(2, 0.5))] * 3, bank, "mae")
    assert list(bank.n_steps_) == [0, 0]


def test_an_empty_stream_gives_an_empty_table_with_the_columns_of_a_full_one():
    """progressive_val([]) had no columns at all, so df["mae"] raised KeyError;
    it has the columns a non-empty stream's table has, and no row."""
    from online_lstm import OnlineLSTM
    from online_lstm.evaluate import RMSE, progressive_val

    full = progressive_val([([0.1, 0.2], [0.5])], OnlineLSTM(2, 1, seed=0), ["mae", RMSE()])
    empty = progressive_val([], OnlineLSTM(2, 1, seed=0), ["mae", RMSE()])
    assert list(empty.columns) == list(full.columns)
    assert len(empty) == 0 and len(full) == 1
