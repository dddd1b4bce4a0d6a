"""Bad input raises a clear error and leaves the learner bit-for-bit unchanged."""

import numpy as np
import pytest

from online_lstm import DivergenceError, InputError, NoPendingStepError, OnlineLSTM

from statecheck import same_state


def learner():
    m = OnlineLSTM(3, 2, 2, 2, bias="all", init_range=0.5, seed=0)
    rng = np.random.default_rng(0)
    m.learn_many(rng.random((20, 3)), rng.random((20, 2)))
    return m




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


def _same_step(call_a, call_b):
    """Two fresh learners, one step each: same outputs and same state, bit for bit."""
    a, b = learner(), learner()
    ya, yb = call_a(a), call_b(b)
    assert np.array_equal(ya, yb)
    assert same_state(a.state_arrays(), b.state_arrays())


X_F32 = np.array([0.1, 0.2, 0.3], dtype=np.float32)  # exactly representable in float64 as cast


@pytest.mark.parametrize("x, y, x64, y64", [
    (np.array([1, 0, 2], dtype=np.int64), np.array([1, 0], dtype=np.int32), [1.0, 0.0, 2.0], [1.0, 0.0]),
    (np.array([2**53, 0, -(2**53)], dtype=np.int64), Y_OK, [2.0**53, 0.0, -(2.0**53)], Y_OK),  # exact
    (X_F32, Y_OK, X_F32.astype(np.float64), Y_OK),
    ([0.1, 0.2, 0.3], (0.5, 0.5), X_OK, Y_OK),
    (np.array([True, False, True]), [1, 0], [1.0, 0.0, 1.0], [1.0, 0.0]),
    (np.arange(1.0, 7.0)[::2] / 10, Y_OK, [0.1, 0.3, 0.5], Y_OK),  # C-contiguous result of a view
    (np.arange(1.0, 7.0)[::2], Y_OK, [1.0, 3.0, 5.0], Y_OK),  # a strided view: not C-contiguous
    (np.arange(1.0, 7.0)[::-2], Y_OK, [6.0, 4.0, 2.0], Y_OK),  # negative strides
    (np.asfortranarray(np.arange(9.0).reshape(3, 3))[:, 1] / 10, Y_OK, [0.1, 0.4, 0.7], Y_OK),
])
def test_safe_conversions_give_the_float64_bits(x, y, x64, y64):
    if isinstance(x, np.ndarray) and x.ndim == 1 and x.strides[0] != x.itemsize:
        assert not x.flags.c_contiguous  # the case is what its comment says
    _same_step(lambda m: m.learn_one(x, y), lambda m: m.learn_one(np.asarray(x64, float), np.asarray(y64, float)))
    _same_step(lambda m: m.predict_one(x), lambda m: m.predict_one(np.asarray(x64, float)))


def test_scalars_for_one_input_one_output_nets():
    for x, y in ((0.3, 0.7), (np.float32(0.5), np.float64(0.25)), (3, np.int64(1))):
        a, b = OnlineLSTM(1, 1, seed=0), OnlineLSTM(1, 1, seed=0)
        assert np.array_equal(a.learn_one(x, y), b.learn_one(np.array([float(x)]), np.array([float(y)])))
        assert np.array_equal(a.theta_, b.theta_)
    m = OnlineLSTM(1, 1, seed=0)
    before = m.state_arrays()
    for x, y in ((2**60 + 1, 0.5), (0.5, 2**60 + 1), (10**400, 0.5), (0.5, 10**400), (0.5, np.int64(2**62))):
        with pytest.raises(InputError, match=r"2\*\*53|float64"):
            m.learn_one(x, y)
    assert same_state(before, m.state_arrays())


@pytest.mark.parametrize("kind", ["lstm", "rtrl", "bptt"])
def test_a_bool_or_0d_input_of_one_input_unit_is_that_unit_s_input(kind):
    """An input follows the scalar-target rule: with n_in == 1, True,
    np.bool_ and 0-d arrays are the float they convert to (as [True] was
    already); with n_in > 1 they are refused and change nothing."""
    from online_lstm.baselines import BPTT, RTRL

    def make(n_in):
        if kind == "lstm":
            return OnlineLSTM(n_in, 1, 2, seed=0)
        return (RTRL if kind == "rtrl" else BPTT)(n_in, 1, 3, seed=0)

    for x in (True, np.bool_(False), np.array(0.25), np.array(True), np.array(3, dtype=np.int32)):
        a, b = make(1), make(1)
        as_float = np.array([float(x)])
        assert np.array_equal(a.learn_one(x, 0.5), b.learn_one(as_float, 0.5)), x
        assert np.array_equal(a.predict_one(x), b.predict_one(as_float)), x
        assert same_state(a.state_arrays(), b.state_arrays()), x
        m = make(2)
        before = m.state_arrays()
        with pytest.raises(InputError, match=r"shape \(2,\)"):
            m.learn_one(x, 0.5)
        with pytest.raises(InputError, match=r"shape \(2,\)"):
            m.predict_one(x)
        assert same_state(before, m.state_arrays()), x
    m = make(1)
    before = m.state_arrays()
    for x in (np.array(np.nan), np.array(2**60 + 1), np.array(0.5, dtype=np.complex128), np.array("a")):
        with pytest.raises(InputError, match=r"finite|2\*\*53|float64"):
            m.learn_one(x, 0.5)
    assert same_state(before, m.state_arrays())


def _read_only(a):
    a = np.array(a, dtype=float)
    a.flags.writeable = False
    return a


def test_read_only_arrays_are_accepted_and_copied():
    """A pandas ``.values`` or a memory map is read-only; Numba would refuse it."""
    X = np.random.default_rng(3).random((6, 3))
    Y = np.random.default_rng(4).random((6, 2))
    resets = np.array([True, False, False, True, False, False])
    r_ro = resets.copy()
    r_ro.flags.writeable = False
    _same_step(lambda m: m.learn_one(_read_only(X_OK), _read_only(Y_OK)), lambda m: m.learn_one(X_OK, Y_OK))
    _same_step(lambda m: m.predict_one(_read_only(X_OK)), lambda m: m.predict_one(X_OK))
    _same_step(lambda m: m.learn_many(_read_only(X), _read_only(Y), resets=r_ro),
               lambda m: m.learn_many(X, Y, resets=resets))
    _same_step(lambda m: m.predict_many(_read_only(X), resets=r_ro), lambda m: m.predict_many(X, resets=resets))

    def later(m, y):
        m.predict_one(X_OK)
        m.learn_last(y)
        return m.theta_
    _same_step(lambda m: later(m, _read_only(Y_OK)), lambda m: later(m, Y_OK))
    with pytest.raises(InputError, match="out"):  # an output buffer must be writeable
        learner().learn_one(X_OK, Y_OK, out=_read_only([0.0, 0.0]))


def test_pandas_inputs():
    pd = pytest.importorskip("pandas")
    _same_step(lambda m: m.learn_one(pd.Series(X_OK), pd.Series(Y_OK)), lambda m: m.learn_one(X_OK, Y_OK))
    X = np.random.default_rng(5).random((4, 3))
    _same_step(lambda m: m.predict_many(pd.DataFrame(X)), lambda m: m.predict_many(X))


def test_masked_arrays_keep_their_meaning():
    """Masked target entries are "no target"; a masked input is refused, not read."""
    masked_y = np.ma.masked_array([0.5, 0.9], mask=[True, False])
    _same_step(lambda m: m.learn_one(X_OK, masked_y), lambda m: m.learn_one(X_OK, [np.nan, 0.9]))
    Y = np.ma.masked_array(np.full((3, 2), 0.5), mask=[[1, 0], [0, 0], [1, 1]])
    X = np.random.default_rng(6).random((3, 3))
    _same_step(lambda m: m.learn_many(X, Y), lambda m: m.learn_many(X, Y.filled(np.nan)))
    m = learner()
    before = m.state_arrays()
    masked_x = np.ma.masked_array([0.1, 0.2, 1e9], mask=[False, False, True])
    for call in (lambda: m.learn_one(masked_x, Y_OK), lambda: m.predict_one(masked_x),
                 lambda: m.learn_many(np.ma.masked_array(X, mask=X > 0.9), np.zeros((3, 2)))):
        with pytest.raises(InputError, match="finite"):
            call()
    assert same_state(before, m.state_arrays())


def test_bad_out_buffer():
    m = learner()
    before = m.state_arrays()
    with pytest.raises(InputError, match="out"):
        m.learn_one(X_OK, Y_OK, out=np.zeros(3))
    with pytest.raises(InputError, match="out"):
        m.learn_one(X_OK, Y_OK, out=np.zeros(2, dtype=np.float32))
    with pytest.raises(InputError, match=r"out must have shape \(2,\) for one step, or \(T, 2\)"):
        m.learn_one(X_OK, Y_OK, out=np.zeros(3))  # right dtype, fast path: the kernel refuses
    with pytest.raises(InputError, match=r"out must be a writeable C-contiguous float64 array of shape \(2,\)"):
        m.learn_one(X_OK, Y_OK, out=np.zeros((1, 2)))  # no compiled version: refused in Python
    with pytest.raises(InputError, match=r"shape \(4, 2\)"):
        m.learn_many(np.zeros((4, 3)), np.zeros((4, 2)), out=np.zeros((3, 2)))
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
    for badX, badY, match in [(X[:, :2], Y, r"shape \(3,\)"), (X, Y[:, :1], r"\(50, 2\)"),
                              (X, Y[:40], r"Y must have shape \(50, 2\), one row per row of X; got \(40, 2\)"),
                              (X[:0], Y, r"one row per row of X; got \(50, 2\)"),
                              (X, Y.T, r"one row per row of X"), (X[0], Y, "2-D")]:
        with pytest.raises(InputError, match=match):
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
    assert same_state(before, m.state_arrays())
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
    # each refused for its own fault: the NaN W_in once had a wrong shape too (2, 7), and was
    # refused for that, so no NaN reached the check
    bad = [(dict(W_k=np.zeros((2, 3))), r"W_k must have shape \(2, 4\); got \(2, 3\)"),
           (dict(W_in=np.full((2, 11), np.nan)), "W_in must be finite"),
           (dict(nope=1.0), "unknown parameter 'nope'"),
           (dict(W_k=np.zeros((2, 4)), b_k=np.full(2, np.inf)), "b_k must be finite")]
    for kw, says in bad:
        with pytest.raises(InputError, match=says):
            m.set_weights(**kw)
        assert same_state(before, m.state_arrays())


def test_bad_hyper_parameters():
    for kw in (dict(lr=-1.0), dict(lr=float("nan")), dict(state_bound=0.0), dict(update="batch"),
               dict(init_range=-0.1), dict(init_range=1e200), dict(init_range=1e308),
               dict(in_gate_bias=1e300), dict(out_gate_bias=[0.0, -1e151]),
               dict(forget_gate=True, forget_gate_bias=1e160)):
        with pytest.raises(ValueError, match=f"^{next(iter(kw))}"):
            OnlineLSTM(2, 1, 2, 1, **kw)


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


def test_load_state_arrays_refuses_weights_beyond_the_bound():
    """A step would refuse such weights (kernels._bounds); so does loading, even
    when the header's bound on max|theta| was raised to match."""
    from online_lstm.layout import H_WMAX
    m = learner()
    before = m.state_arrays()
    bad = m.state_arrays()
    bad["theta"][0] = 1e300
    bad["header"][H_WMAX] = 1e300
    with pytest.raises(InputError, match="beyond 1e"):
        m.load_state_arrays(bad)
    assert same_state(before, m.state_arrays())


@pytest.mark.parametrize("call", [
    lambda m: m.learn_many([[0.1, 0.2, 0.3], [0.1, 0.2, 0.3]], [[0.1, 0.2], [0.3]]),
    lambda m: m.gradient([[0.1, 0.2, 0.3], [0.1, 0.2, 0.3]], [[0.1, 0.2], [0.3]]),
    lambda m: m.learn_many(np.zeros((2, 3)), np.zeros((2, 2)), resets=[[True], []]),
    lambda m: m.predict_many(np.zeros((2, 3)), resets=[[True], []]),
])
def test_ragged_targets_and_resets_are_input_errors(call):
    """A ragged list is refused as the learner's InputError naming the shape,
    not NumPy's ValueError, and changes nothing."""
    m = learner()
    before = m.state_arrays()
    with pytest.raises(InputError, match=r"must be an array of shape \(2,"):
        call(m)
    assert same_state(before, m.state_arrays())


@pytest.mark.parametrize("kw, match", [
    (dict(lr=10**400), "^lr .*too large"), (dict(state_bound=10**400), "^state_bound .*too large"),
    (dict(init_range=10**400), "^init_range .*too large"), (dict(lr=True), "^lr .*True"),
    (dict(state_bound=True), "^state_bound"), (dict(init_range=True), "^init_range"),
    (dict(lr="0.5"), "^lr"), (dict(seed=-1), "^seed"), (dict(seed=1.5), "^seed"),
    (dict(seed="abc"), "^seed"), (dict(in_gate_bias="-1"), "^in_gate_bias"),
    (dict(out_gate_bias=["-1", "-2"]), "^out_gate_bias"), (dict(in_gate_bias=True), "^in_gate_bias"),
    (dict(forget_gate=True, forget_gate_bias="2"), "^forget_gate_bias"),
    (dict(forget_gate=True, forget_gate_bias=[True, False]), "^forget_gate_bias"),
    (dict(on_divergence="bogus"), "^on_divergence"),
])
def test_odd_hyper_parameters_are_value_errors_naming_them(kw, match):
    with pytest.raises(ValueError, match=match):
        OnlineLSTM(2, 1, 2, 1, **kw)


def test_huge_or_bool_learning_rate_is_refused_after_construction_too():
    m = learner()
    for value in (10**400, True, "0.5", -1.0):
        with pytest.raises(ValueError, match="^lr"):
            m.lr = value
    assert m.lr == 0.1


@pytest.mark.parametrize("name, value", [
    ("update", "sequence"), ("max_delay", 3), ("n_blocks", 1), ("n_in", 4), ("forget_gate", True),
    ("seed", 5), ("init_range", 0.3), ("in_gate_bias", -1.0), ("bias", "none"),
])
def test_constructor_arguments_are_fixed_once_built(name, value):
    """Assigning one would make get_params, checkpoints and copies describe
    another learner than the one that runs; it is refused, and clone() is the
    way to another value."""
    m = learner()
    before, params = m.state_arrays(), m.get_params()
    with pytest.raises(AttributeError, match=rf"{name} is fixed.*clone\({name}="):
        setattr(m, name, value)
    assert m.get_params() == params and same_state(before, m.state_arrays())
    assert m.clone(**{name: value}).get_params()[name] == value


def test_the_changeable_hyper_parameters_change(tmp_path):
    m = learner()
    m.lr, m.state_bound, m.on_divergence = 0.3, 50.0, "reset"
    assert (m.lr, m.state_bound, m.on_divergence) == (0.3, 50.0, "reset")
    with pytest.raises(ValueError, match="on_divergence"):
        m.on_divergence = "bogus"
    assert m.on_divergence == "reset"
    assert OnlineLSTM.load(m.save(tmp_path / "m.npz")).get_params() == m.get_params()


@pytest.mark.parametrize("kind", ["lstm", "rtrl", "bptt"])
def test_a_bool_or_0d_target_of_one_output_is_that_output_s_target(kind):
    """bool is a safe dtype, and a scalar target is allowed when n_out == 1:
    True, np.bool_ and 0-d arrays are taken as the float they convert to, by
    learn_one, learn_last and learn_delayed; with n_out > 1 they are refused
    and change nothing."""
    from online_lstm.baselines import BPTT, RTRL

    def make(n_out):
        if kind == "lstm":
            return OnlineLSTM(2, n_out, 2, seed=0, max_delay=2)
        return (RTRL if kind == "rtrl" else BPTT)(2, n_out, 3, seed=0)

    for y in (True, np.bool_(False), np.array(0.25), np.array(True), np.array(3)):
        a, b = make(1), make(1)
        as_float = np.array([float(y)])
        a.learn_one([0.1, 0.2], y)
        b.learn_one([0.1, 0.2], as_float)
        a.predict_one([0.3, 0.1])
        b.predict_one([0.3, 0.1])
        a.learn_last(y)
        b.learn_last(as_float)
        if kind == "lstm":
            a.predict_one([0.3, 0.1])
            b.predict_one([0.3, 0.1])
            a.learn_delayed(y, 0)
            b.learn_delayed(as_float, 0)
        assert same_state(a.state_arrays(), b.state_arrays()), y
        m = make(3)
        before = m.state_arrays()
        with pytest.raises(InputError, match=r"shape \(3,\)"):
            m.learn_one([0.1, 0.2], y)
        assert same_state(before, m.state_arrays())


@pytest.mark.parametrize("kind", ["lstm", "rtrl", "bptt"])
def test_one_input_unit_takes_X_of_shape_T(kind):
    """With n_in == 1, X of shape (T,) is T steps of the one input, as Y of
    shape (T,) is for one output; with n_in > 1 it is refused."""
    from online_lstm.baselines import BPTT, RTRL

    def make(n_in):
        if kind == "lstm":
            return OnlineLSTM(n_in, 1, 2, seed=0)
        return (RTRL if kind == "rtrl" else BPTT)(n_in, 1, 3, seed=0)

    x = np.linspace(-1, 1, 17)
    y = 0.5 + 0.4 * np.sin(3 * x)
    a, b = make(1), make(1)
    np.testing.assert_array_equal(a.learn_many(x, y), b.learn_many(x[:, None], y[:, None]))
    np.testing.assert_array_equal(a.predict_many(x), b.predict_many(x[:, None]))
    assert same_state(a.state_arrays(), b.state_arrays())
    masked = np.ma.masked_array(x, mask=x > 0.5)  # a masked input is still refused
    with pytest.raises(InputError, match="finite"):
        a.learn_many(masked, y)
    m = make(2)
    before = m.state_arrays()
    with pytest.raises(InputError, match=r"shape \(T, 2\)"):
        m.learn_many(x, y)
    assert same_state(before, m.state_arrays())


def test_pandas_nullable_dtypes_are_converted_and_pd_na_is_no_target():
    """What DataFrame.convert_dtypes() makes (Int64, Float64, boolean) is read
    as the numbers it holds; pd.NA is a missing value: "no target" in a
    target, refused in an input; Int64 beyond 2**53 is refused as int64 is."""
    import pandas as pd

    from online_lstm.evaluate import progressive_val

    X = np.array([[1.0, 2.0], [3.0, 0.0], [1.0, 1.0]])
    Y = np.array([0.5, np.nan, 1.0])
    ref = OnlineLSTM(2, 1, 2, seed=0)
    ref_out = ref.learn_many(X, Y)
    mixed = pd.DataFrame({0: X[:, 0], 1: pd.array(X[:, 1].astype(int), dtype="Int64")})  # float64 + Int64
    for Xp in (pd.DataFrame(X, dtype="Float64"), pd.DataFrame(X.astype(int), dtype="Int64").astype("Float64"),
               pd.DataFrame(X).convert_dtypes(), mixed):
        m = OnlineLSTM(2, 1, 2, seed=0)
        out = m.learn_many(Xp, pd.Series(Y, dtype="Float64"))  # NaN -> pd.NA -> no target
        np.testing.assert_array_equal(out, ref_out)
        assert same_state(m.state_arrays(), ref.state_arrays())
    m = OnlineLSTM(2, 1, 2, seed=0)
    for x, y in zip(X, Y):
        m.learn_one(pd.Series(x).convert_dtypes(), pd.NA if np.isnan(y) else y)
    assert same_state(m.state_arrays(), ref.state_arrays())
    rows = progressive_val([(x, pd.NA if np.isnan(y) else y) for x, y in zip(X, Y)],
                           OnlineLSTM(2, 1, 2, seed=0), "mae", step=1)
    assert rows["mae"].notna().all()  # the missing target is not scored
    before = m.state_arrays()
    for bad, says in ((pd.Series([1.0, None], dtype="Float64"), "finite"),
                      (pd.Series([2**53 + 1, 1], dtype="Int64"), "2\\*\\*53"),
                      (pd.Series(["a", "b"], dtype="string"), "float64")):
        with pytest.raises(InputError, match=says):
            m.learn_one(bad, 0.5)
    assert same_state(before, m.state_arrays())


def test_a_long_double_scalar_target_is_refused_as_its_array_is():
    m = OnlineLSTM(2, 1, 2, seed=0)
    before = m.state_arrays()
    for y in (np.longdouble(0.1), np.array([np.longdouble(0.1)])):
        with pytest.raises(InputError, match="float64"):
            m.learn_one([0.1, 0.2], y)
    assert same_state(before, m.state_arrays())
    m.learn_one([0.1, 0.2], np.float32(0.25))  # exact in float64: taken
    assert m.n_updates_ == 1


def test_state_arrays_of_another_update_mode_or_a_negative_lr_are_refused():
    from online_lstm import LearnerBank
    from online_lstm.layout import H_LR

    seq = OnlineLSTM(2, 1, n_blocks=2, update="sequence", seed=0)
    seq.learn_one([0.1, 0.2], 0.5)
    step = OnlineLSTM(2, 1, n_blocks=2, update="step", seed=0)
    before = step.state_arrays()
    with pytest.raises(InputError, match="accumulation mode"):
        step.load_state_arrays(seq.state_arrays())
    bank = LearnerBank(1, 2, 1, n_blocks=2, seed=0)
    with pytest.raises(InputError, match="accumulation mode"):
        bank.load_state_arrays({k: v[None] for k, v in seq.state_arrays().items()})
    s = step.state_arrays()
    s["header"][H_LR] = -0.5
    with pytest.raises(InputError, match="lr"):
        step.load_state_arrays(s)
    assert same_state(before, step.state_arrays()) and step.lr == 0.1
