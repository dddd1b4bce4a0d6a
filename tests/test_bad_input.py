"""Bad input raises a clear error and leaves the learner bit-for-bit unchanged."""

import numpy as np
import pytest

from online_lstm import DivergenceError, InputError, NoPendingStepError, OnlineLSTM


def learner():
    m = OnlineLSTM(3, 2, 2, 2, bias="all", init_range=0.5, seed=0)
    rng = np.random.default_rng(0)
    m.learn_many(rng.random((20, 3)), rng.random((20, 2)))
    return m


def same_state(a, b):
    return all(np.array_equal(a[k], b[k]) for k in a)


X_OK = np.array([0.1, 0.2, 0.3])
Y_OK = np.array([0.5, 0.5])


@pytest.mark.parametrize("x, match", [
    (np.zeros(2), r"shape \(3,\)"),
    (np.zeros(4), r"shape \(3,\)"),
    (np.zeros((1, 3)), r"shape \(3,\)"),
    (np.array([0.1, np.nan, 0.3]), "finite"),
    (np.array([0.1, np.inf, 0.3]), "finite"),
    (np.array([1 + 1j, 0, 0]), "float64"),
    (np.array(["a", "b", "c"]), "float64"),
    ([0.1, None, 0.3], "float64"),
    ("abc", r"float64|shape"),
    (np.array([2**53 + 1, 0, 0], dtype=np.int64), r"2\*\*53"),
    (np.array([0, -(2**62), 0], dtype=np.int64), r"2\*\*53"),
    (np.array([2**63, 0, 0], dtype=np.uint64), r"float64|2\*\*53"),
    ([2**60, 0, 0], r"2\*\*53"),
])
@pytest.mark.parametrize("method", ["learn_one", "predict_one"])
def test_bad_x(x, match, method):
    m = learner()
    before = m.state_arrays()
    with pytest.raises(InputError, match=match):
        if method == "learn_one":
            m.learn_one(x, Y_OK)
        else:
            m.predict_one(x)
    assert same_state(before, m.state_arrays())


@pytest.mark.parametrize("y, match", [
    (np.zeros(3), r"shape \(2,\)"),
    (np.zeros(1), r"shape \(2,\)"),
    (np.array([0.5, np.inf]), "finite or NaN"),
    (0.5, "scalar target"),
    (np.array(["a", "b"]), "float64"),
])
def test_bad_y(y, match):
    m = learner()
    before = m.state_arrays()
    with pytest.raises(InputError, match=match):
        m.learn_one(X_OK, y)
    assert same_state(before, m.state_arrays())


def test_safe_conversions_are_accepted():
    a, b = learner(), learner()
    ya = a.learn_one(np.array([1, 0, 2], dtype=np.int64), np.array([1, 0], dtype=np.int32))
    a2 = learner()  # 2**53 itself is exact
    a2.learn_one(np.array([2**53, 0, -(2**53)], dtype=np.int64), Y_OK)
    yb = b.learn_one(np.array([1.0, 0.0, 2.0]), np.array([1.0, 0.0]))
    assert np.array_equal(ya, yb)
    a.learn_one(np.array([0.1, 0.2, 0.3], dtype=np.float32), [0.5, 0.5])
    a.learn_one([0.1, 0.2, 0.3], (0.5, 0.5))
    a.learn_one(np.array([0.1, 0.2, 0.3, 0.4])[::1][:3], Y_OK)
    a.learn_one(np.arange(6.0)[::2] / 10, Y_OK)  # non-contiguous view is copied
    m1 = OnlineLSTM(1, 1, seed=0)
    m1.learn_one(0.3, 0.7)  # scalars for 1-in/1-out nets


def test_bad_out_buffer():
    m = learner()
    before = m.state_arrays()
    with pytest.raises(InputError, match="out"):
        m.learn_one(X_OK, Y_OK, out=np.zeros(3))
    with pytest.raises(InputError, match="out"):
        m.learn_one(X_OK, Y_OK, out=np.zeros(2, dtype=np.float32))
    assert same_state(before, m.state_arrays())


def test_learn_many_bad_row_changes_nothing():
    m = learner()
    before = m.state_arrays()
    X = np.random.default_rng(1).random((50, 3))
    Y = np.random.default_rng(2).random((50, 2))
    X[37, 1] = np.nan
    with pytest.raises(InputError, match="row 37"):
        m.learn_many(X, Y)
    assert same_state(before, m.state_arrays())
    X[37, 1] = 0.0
    Y[12, 0] = -np.inf
    with pytest.raises(InputError, match="row 12"):
        m.learn_many(X, Y)
    assert same_state(before, m.state_arrays())
    for badX, badY in [(X[:, :2], Y), (X, Y[:, :1]), (X, Y[:40]), (X[0], Y)]:
        with pytest.raises(InputError):
            m.learn_many(badX, badY)
        assert same_state(before, m.state_arrays())
    with pytest.raises(InputError, match="resets"):
        m.learn_many(X, Y, resets=np.zeros(49, bool))
    with pytest.raises(InputError, match="resets"):
        m.learn_many(X, Y, resets=np.full(50, 2))
    assert same_state(before, m.state_arrays())


def test_learn_last_without_pending_step():
    m = learner()
    before = m.state_arrays()
    with pytest.raises(NoPendingStepError):
        m.learn_last(Y_OK)  # the last step had targets
    m.predict_one(X_OK)
    m.learn_last(Y_OK)
    after = m.state_arrays()
    with pytest.raises(NoPendingStepError):
        m.learn_last(Y_OK)  # already learned
    assert same_state(after, m.state_arrays())
    m.predict_one(X_OK)
    m.reset()
    with pytest.raises(NoPendingStepError):
        m.learn_last(Y_OK)  # a reset ends the sequence
    assert before is not None


def test_divergence_is_reported_at_its_step_and_state_kept():
    # identity h and a huge input-to-cell weight: s_c runs past the bound
    m = OnlineLSTM(1, 1, 1, 1, bias="none", h="id", g="g1", output_gates=False,
                   connectivity="B", state_bound=10.0, seed=0)
    m.set_weights(W_in=[[5.0]], W_c=[[5.0]])
    x = np.array([1.0])
    steps = 0
    with pytest.raises(DivergenceError) as err:
        for _ in range(100):
            before = m.state_arrays()
            m.learn_one(x, 0.5)
            steps += 1
    assert err.value.step == steps  # reported at the failing step
    assert "state_bound" in str(err.value)
    assert same_state(before, m.state_arrays())  # the failing step was not applied
    assert np.all(np.abs(m.state_["s_c"]) <= 10.0)


def test_divergence_in_learn_many_keeps_the_rows_before():
    m = OnlineLSTM(1, 1, 1, 1, bias="none", h="id", g="g1", output_gates=False,
                   connectivity="B", state_bound=10.0, seed=0)
    m.set_weights(W_in=[[5.0]], W_c=[[5.0]])
    ref = OnlineLSTM(**m.get_params())
    ref.load_state_arrays(m.state_arrays())
    X = np.ones((100, 1))
    Y = np.full((100, 1), 0.5)
    with pytest.raises(DivergenceError) as err:
        m.learn_many(X, Y)
    row = err.value.row
    assert 0 < row < 100
    ref.learn_many(X[:row], Y[:row])  # the rows before were applied, exactly
    assert same_state(ref.state_arrays(), m.state_arrays())


def test_set_weights_validates_everything_first():
    m = learner()
    before = m.state_arrays()
    bad = [dict(W_k=np.zeros((2, 3))), dict(W_in=np.full((2, 7), np.nan)), dict(nope=1.0),
           dict(W_k=np.zeros((2, 4)), b_k=np.full(2, np.inf))]
    for kw in bad:
        with pytest.raises(InputError):
            m.set_weights(**kw)
        assert same_state(before, m.state_arrays())


def test_bad_hyper_parameters():
    for kw in (dict(lr=-1.0), dict(lr=float("nan")), dict(state_bound=0.0), dict(update="batch"),
               dict(init_range=-0.1)):
        with pytest.raises(ValueError):
            OnlineLSTM(2, 1, **kw)


def test_load_state_arrays_refuses_corrupt_state():
    m = learner()
    good = m.state_arrays()
    other = OnlineLSTM(3, 2, 2, 1, bias="all", seed=0).state_arrays()
    before = m.state_arrays()
    for bad in (
        {k: v for k, v in good.items() if k != "T"},
        dict(good, theta=good["theta"][:-1]),
        dict(good, T=np.full_like(good["T"], np.nan)),
        dict(good, theta=good["theta"].astype(np.float32)),
        other,
    ):
        with pytest.raises(InputError):
            m.load_state_arrays(bad)
        assert same_state(before, m.state_arrays())
