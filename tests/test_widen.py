"""widen(): a learner given new units mid-stream == one that had them from the start.

The reference learner is built wide from the start, with the narrow learner's
initial weights plus the new units' weights, and is fed the same stream with
the new inputs held at 0 and no targets (NaN) for the new outputs.  Every
array of the state must then agree bit for bit, before and after both learn
on with the new units active.
"""

import numpy as np
import pytest

from online_lstm import OnlineLSTM
from online_lstm.widen import widen

from conftest import ALL_ARCHS, random_stream

STATE_KEYS = ("theta", "dW", "T", "record")


def _counters(m):
    return (m.n_steps_, m.n_updates_, m.n_resets_, m.seq_step_, m.pending_)


def _assert_same_state(a, b):
    sa, sb = a.state_arrays(), b.state_arrays()
    for key in STATE_KEYS:
        np.testing.assert_array_equal(sa[key], sb[key], err_msg=key)
    assert _counters(a) == _counters(b)
    assert a.lr == b.lr


def _reference(narrow0_weights, widened, arch):
    """A learner built wide, with the narrow initial weights and the new units'
    weights as ``widened`` holds them (they have not changed since)."""
    ref = OnlineLSTM(**arch)
    w = widened.get_weights()
    lay0 = OnlineLSTM(**dict(arch, n_in=narrow0_weights["_n_in"], n_out=narrow0_weights["_n_out"])).layout
    h_cols = [ref.layout.source_names.index(s) for s in lay0.source_names]
    k_cols = [ref.layout.output_source_names.index(s) for s in lay0.output_source_names]
    for name, v in narrow0_weights.items():
        if name.startswith("_"):
            continue
        if name in ("W_in", "W_phi", "W_out", "W_c"):
            w[name][:, h_cols] = v
        elif name == "W_k":
            w[name][: v.shape[0], k_cols] = v
        else:
            w[name][: v.shape[0]] = v
    ref.set_weights(w)
    return ref


@pytest.mark.parametrize("update", ["step", "sequence"])
@pytest.mark.parametrize("name", list(ALL_ARCHS))
def test_widen_equals_wide_from_start(name, update, seed):
    rng = np.random.default_rng(seed)
    arch = dict(ALL_ARCHS[name], init_range=0.5, lr=0.3, update=update, seed=seed)
    n0, k0 = arch["n_in"], arch["n_out"]
    n1, k1 = n0 + 2, k0 + 1
    narrow = OnlineLSTM(**arch)
    w0 = dict(narrow.get_weights(), _n_in=n0, _n_out=k0)

    X1, Y1, r1 = random_stream(rng, 120, n0, k0)
    narrow.learn_many(X1, Y1, r1)
    x_last = rng.uniform(-1, 1, n0)
    narrow.predict_one(x_last)  # leave a step pending across the widening
    wide = widen(narrow, n_in=n1, n_out=k1)
    assert wide.layout.n_in == n1 and wide.layout.n_out == k1
    assert wide.pending_
    new_cols0 = wide.get_weights()["W_c"][:, n0:n1].copy()

    wide_arch = dict(arch, n_in=n1, n_out=k1)
    ref = _reference(w0, wide, wide_arch)
    pad = lambda X, n: np.hstack([X, np.zeros((len(X), n - X.shape[1]))])  # noqa: E731
    nan = lambda Y, k: np.hstack([Y, np.full((len(Y), k - Y.shape[1]), np.nan)])  # noqa: E731
    ref.learn_many(pad(X1, n1), nan(Y1, k1), r1)
    ref.predict_one(pad(x_last[None], n1)[0])
    _assert_same_state(wide, ref)

    # learn the pending step, the new output unit included, then go on with
    # every unit active
    y = rng.uniform(0, 1, k1)
    wide.learn_last(y)
    ref.learn_last(y)
    X2, Y2, r2 = random_stream(rng, 120, n1, k1)
    np.testing.assert_array_equal(wide.learn_many(X2, Y2, r2), ref.learn_many(X2, Y2, r2))
    _assert_same_state(wide, ref)
    # the comparison is not vacuous: the new input weights have moved
    assert not np.array_equal(wide.get_weights()["W_c"][:, n0:n1], new_cols0)


def test_widen_leaves_the_original_alone_and_is_reproducible():
    m = OnlineLSTM(3, 2, n_blocks=2, seed=5)
    m.learn_many(np.ones((4, 3)), np.full((4, 2), 0.5))
    before = m.state_arrays()
    a, b = widen(m, n_in=5), widen(m, n_in=5)
    for key, v in m.state_arrays().items():
        np.testing.assert_array_equal(v, before[key])
    np.testing.assert_array_equal(a.theta_, b.theta_)
    np.testing.assert_array_equal(widen(m).theta_, m.theta_)  # no new units: a copy
    with pytest.raises(ValueError, match="only add units"):
        widen(m, n_in=2)


def test_sizes_must_be_ints():
    m = OnlineLSTM(2, 2, seed=0)
    for bad in ("3", True, 3.0):
        with pytest.raises(ValueError, match="must be None or an int"):
            widen(m, n_in=bad)
        with pytest.raises(ValueError, match="must be None or an int"):
            widen(m, n_out=bad)
    assert widen(m, n_in=np.int64(3)).layout.n_in == 3


def test_rng_may_be_a_seed():
    """An int seeds the generator of the new units' weights, as a Generator from it would."""
    m = OnlineLSTM(2, 1, 2, 1, seed=0)
    a = widen(m, n_in=3, rng=5)
    b = widen(m, n_in=3, rng=np.random.default_rng(5))
    c = widen(m, n_in=3, rng=6)
    assert np.array_equal(a.theta_, b.theta_) and not np.array_equal(a.theta_, c.theta_)


@pytest.mark.parametrize("seed", [np.random.SeedSequence(3), [3, 4], np.int64(3),
                                  "generator"])
def test_every_kind_of_seed_widens(seed):
    """A learner seeded by anything its constructor takes widens without an
    ``rng``: reproducibly from a SeedSequence, a list or a NumPy int (an int
    seed ``s`` draws from ``[s, n_in, n_out]``, as before), and from the
    stream of a Generator, which the user owns."""
    make = lambda: np.random.default_rng(3) if seed == "generator" else seed  # noqa: E731
    a = widen(OnlineLSTM(2, 1, 2, 1, seed=make()), n_in=3)
    b = widen(OnlineLSTM(2, 1, 2, 1, seed=make()), n_in=3)
    assert a.layout.n_in == 3 and np.array_equal(a.theta_, b.theta_)
    if isinstance(seed, np.int64):
        c = widen(OnlineLSTM(2, 1, 2, 1, seed=3), n_in=3, rng=np.random.default_rng([3, 3, 1]))
        assert np.array_equal(a.theta_, c.theta_)


def test_widening_right_after_a_reset_leaves_the_new_outputs_at_zero():
    """After a reset every activation is 0, new outputs included, as in a
    net built wide and reset."""
    m = OnlineLSTM(2, 1, n_blocks=2, bias="all", seed=0)
    m.learn_many(np.full((3, 2), 0.3), np.full((3, 1), 0.5))
    m.reset()
    assert np.all(m.state_["y_k"] == 0.0)
    assert np.all(widen(m, n_out=3).state_["y_k"] == 0.0)


def test_widen_keeps_the_divergence_record():
    """n_divergences_ and last_divergence_ are not in the state arrays; widen
    once dropped them (a River adapter widens on every new feature)."""
    m = OnlineLSTM(1, 1, seed=0, on_divergence="reset", state_bound=0.05)
    for _ in range(30):
        m.learn_one([1.0], 0.9)  # the states pass the bound: counted, reset, retried
    assert m.n_divergences_ > 0
    for w in (widen(m, n_in=2, n_out=3), widen(m)):
        assert w.n_divergences_ == m.n_divergences_
        assert (w.last_divergence_.step, w.last_divergence_.row, str(w.last_divergence_)) == (
            m.last_divergence_.step, m.last_divergence_.row, str(m.last_divergence_))
        assert w.on_divergence == "reset" and w.state_bound == 0.05


def test_widening_reads_the_name_lists_a_fixed_number_of_times(monkeypatch):
    """The layout's name lists are built anew on every access.  widen once
    read them once per source (``list.index`` in a loop): each widening was
    quadratic in the number of inputs, and a River stream whose features
    appear one at a time (a one-hot encoded id) was cubic: 1,000 features
    took 255 s, against 2.5 s now.  The number of reads must not grow with
    the net."""
    from online_lstm.layout import Layout

    reads = {"n": 0}
    for name in ("source_names", "output_source_names"):
        prop = getattr(Layout, name)

        def counted(self, _get=prop.fget):
            reads["n"] += 1
            return _get(self)

        monkeypatch.setattr(Layout, name, property(counted))
    counts = []
    for n_in in (3, 300):
        for conn in ("F", "B"):
            m = OnlineLSTM(n_in, 2, n_blocks=2, block_size=2, connectivity=conn, seed=0, max_delay=2)
            m.learn_many(np.ones((4, n_in)), np.full((4, 2), 0.5))
            m.predict_one(np.ones(n_in))
            reads["n"] = 0
            widen(m, n_in=n_in + 1, n_out=3)
            counts.append(reads["n"])
    assert counts[:2] == counts[2:] and max(counts) < 20, counts


def test_a_bank_is_refused_clearly():
    """widen(bank) raised AttributeError about n_divergences_ after building a clone."""
    from online_lstm import LearnerBank

    with pytest.raises(TypeError, match="widen takes an OnlineLSTM; got LearnerBank"):
        widen(LearnerBank(2, 2, 1, n_blocks=1, seed=0), n_in=3)
