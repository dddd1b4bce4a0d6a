"""Tests written to kill mutants of the competitors' Python layer
(``online_lstm/baselines/_stream.py``, ``bptt.py``, ``network.py``), of
``online_lstm/snapshot.py`` and of ``LearnerBank._run_chunks`` that the other
tests let through in a mutation audit.  Each test's docstring names the
mutant it kills; expected values come from documented behaviour or from a
twin learner driven through another entry point, never from the code's own
output.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from online_lstm import DivergenceError, InputError
from online_lstm import _validate
from online_lstm.bank import BankDivergenceError, LearnerBank
from online_lstm.baselines import BPTT, RTRL
from online_lstm.baselines import _common as _c
from online_lstm.baselines import network as _network
from online_lstm.baselines.network import Network

from statecheck import refused_unchanged, same_bits, same_state

LEARNERS = {
    "rtrl": (RTRL, {}),
    "bptt": (BPTT, {}),
    "bptt-w2": (BPTT, dict(window=2)),
}


def _make(name, **more):
    cls, extra = LEARNERS[name]
    kw = dict(n_in=3, n_out=2, n_hidden=2, init_range=1.0, lr=0.3, seed=3, **extra)
    kw.update(more)
    return cls(**kw)


def _stream(T, seed, n_in=3, n_out=2, p_nan=0.3):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (T, n_in))
    Y = rng.uniform(0.1, 0.9, (T, n_out))
    Y[rng.random((T, n_out)) < p_nan] = np.nan
    return X, Y


# ---------------------------------------------------------------------------
# _stream.py
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("given_out", [False, True])
@pytest.mark.parametrize("name", list(LEARNERS))
def test_a_divergence_in_learn_many_carries_the_outputs_of_the_rows_applied(name, given_out):
    """Kills ``err.with_outputs(o)`` dropped in ``StreamLearner._run_rows``:
    DivergenceError.out (documented: "the predictions of the rows applied
    before ``row``, NaN from ``row`` on", the ``out`` array given if one
    was) stayed None.  The rows before the refused one are those of a twin
    that predicts them."""
    m = _make(name)
    m.learn_many(*_stream(20, 1))
    X, Y = _stream(6, 2, p_nan=0.0)
    Y[:3] = np.nan  # rows 0-2 change no weight; row 3 is the first update
    twin = m.clone()
    twin.load_state_arrays(m.state_arrays())
    expected = twin.predict_many(X[:3])
    m.lr = 1e300
    out = np.zeros((6, 2)) if given_out else None
    with pytest.raises(DivergenceError) as err:
        m.learn_many(X, Y, out=out)
    e = err.value
    assert e.row == 3 and e.out is not None
    if given_out:
        assert e.out is out
    assert same_bits(e.out[:3], expected)
    assert np.isnan(e.out[3:]).all()


@pytest.mark.parametrize("name", list(LEARNERS))
def test_gradient_ignores_the_change_accumulated_so_far(name):
    """Kills ``arrays["dW"][:] = 0.0`` dropped in ``gradient``: with
    ``update="sequence"`` the change accumulated since the last reset is
    part of the state, and ``gradient`` (documented: "the learner's gradient
    of a sequence with the weights held fixed") would add it in.  The twin
    has the same weights and nothing accumulated."""
    m = _make(name, update="sequence")
    m.learn_many(*_stream(8, 3, p_nan=0.0))
    assert np.any(m.state_arrays()["dW"] != 0.0)  # something accumulated, not yet applied
    twin = _make(name, update="sequence")
    twin.set_weights(m.get_weights())
    X, Y = _stream(7, 4)
    for from_current_state in (False, True):
        if from_current_state:  # the twin needs m's activations too, but not its dW
            st = m.state_arrays()
            st["dW"][:] = 0.0
            twin.load_state_arrays(st)
        g, g_twin = (k.gradient(X, Y, from_current_state=from_current_state) for k in (m, twin))
        assert g.keys() == g_twin.keys()
        for k in g:
            assert same_bits(g[k], g_twin[k]), k


@pytest.mark.parametrize("name", list(LEARNERS))
def test_a_state_with_learning_rate_zero_loads(name):
    """Kills ``hd[H_LR] < 0`` -> ``<= 0`` in ``_check_header``: lr is "a
    finite number >= 0" (lr=0 is a valid learner, a frozen one), so its
    state must load, into a clone with another lr too."""
    m = _make(name, lr=0.0)
    m.learn_many(*_stream(5, 5))
    other = _make(name, lr=0.5)
    other.load_state_arrays(m.state_arrays())
    assert other.lr == 0.0
    assert same_state(other.state_arrays(), m.state_arrays())


@pytest.mark.parametrize("name", list(LEARNERS))
def test_a_header_with_more_updates_than_steps_is_corrupt(name):
    """Kills ``or hd[H_NUPD] > hd[H_STEP]`` dropped from ``_check_header``:
    its message promises "updates at most the steps" (an update is made by a
    step with a target), so such a header is refused and nothing changes."""
    m = _make(name)
    m.learn_many(*_stream(6, 6))
    state = m.state_arrays()
    assert state["header"][_c.H_NUPD] <= state["header"][_c.H_STEP]
    state["header"][_c.H_NUPD] = state["header"][_c.H_STEP] + 1
    refused_unchanged(m, lambda: m.load_state_arrays(state), "updates at most the steps")


@pytest.mark.parametrize("name", list(LEARNERS))
def test_a_state_of_another_n_out_with_the_same_array_shapes_is_refused(name):
    """Kills ``H_NOUT`` left out of the header fields ``_check_header``
    compares: a fully recurrent net of 1 output and 2 hidden units and one of
    2 outputs and 1 hidden unit have the same units, weights, source vector
    and influence matrix, so only n_out in the header tells their states
    apart; load_state_arrays is documented for the same architecture."""
    mine = _make(name, n_out=2, n_hidden=1)
    theirs = _make(name, n_out=1, n_hidden=2)
    theirs.learn_many(*_stream(5, 7, n_out=1))
    mine.learn_many(*_stream(5, 7, n_out=2))  # (BPTT: as long a history)
    state = theirs.state_arrays()
    assert {k: v.shape for k, v in state.items()} == {k: v.shape for k, v in mine.state_arrays().items()}
    refused_unchanged(mine, lambda: mine.load_state_arrays(state), "different architecture")


@pytest.mark.parametrize("name", list(LEARNERS))
def test_copying_a_learner_seeded_by_a_generator_draws_nothing_from_it(name):
    """Kills ``rng=np.random.default_rng(0)`` dropped from ``__setstate__``
    (``self._build(lr)``): ``copy.copy`` shares the seed, a Generator, with
    the copy, whose weights come from the state; building it must not draw
    from that Generator, or the original's next clone starts elsewhere."""
    cls, extra = LEARNERS[name]
    gen = np.random.default_rng(42)
    m = cls(3, 2, 2, seed=gen, **extra)
    before = copy.deepcopy(gen.bit_generator.state)
    c = copy.copy(m)
    assert c.seed is gen
    assert gen.bit_generator.state == before
    assert same_state(c.state_arrays(), m.state_arrays())


# ---------------------------------------------------------------------------
# bptt.py
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("window", [None, 2])
def test_bptt_state_y_is_the_last_steps_activations(window):
    """Kills ``hist[-1, -n:]`` -> ``hist[0, -n:]`` in ``BPTT.state_``:
    ``y`` is documented as "the current activations", hidden units then
    outputs; its output part is the last step's prediction."""
    m = BPTT(3, 2, 2, window=window, init_range=1.0, seed=0)
    X, _ = _stream(5, 8)
    for x in X:
        y = m.predict_one(x)
        assert same_bits(m.state_["y"][2:], y)
    assert m.state_["history"].shape[0] == (5 if window is None else 2)


# ---------------------------------------------------------------------------
# network.py
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("bias", [False, True])
def test_layered_outputs_are_not_carried(bias):
    """Kills ``self.src > m`` -> ``self.src >= m`` in ``Network``: the bias
    source (index n_in) would then count as a read of the last unit, which
    became carried.  Documented: ``carried`` is -1 for a unit no weight
    reads, and the layered net's outputs are non-recurrent; RTRL keeps
    influences for the carried (hidden) units only."""
    net = Network(2, 3, 2, "layered", bias)
    assert net.carried.tolist() == [0, 1, -1, -1, -1]
    assert net.n_carried == 2
    m = RTRL(2, 3, 2, architecture="layered", bias=bias, seed=0)
    assert m.state_["P"].shape == (2, net.n_params)
    assert m.state_arrays()["P"].shape == (2 * net.n_params,)


def test_a_net_of_exactly_the_largest_weight_count_is_built(monkeypatch):
    """Kills ``W > MAX_PARAMS`` -> ``W >= MAX_PARAMS`` in ``Network``:
    MAX_PARAMS is "most weights a net may have", so a net of exactly that
    many is built, and one more weight is refused (the limit made small
    here; the real one takes gigabytes)."""
    W = _network.weight_count(2, 1, 3, "fully_recurrent", True)
    monkeypatch.setattr(_network, "MAX_PARAMS", W)
    assert Network(2, 1, 3).n_params == W
    monkeypatch.setattr(_network, "MAX_PARAMS", W - 1)
    with pytest.raises(ValueError, match="at most"):
        Network(2, 1, 3)


# ---------------------------------------------------------------------------
# snapshot.py
# ---------------------------------------------------------------------------


def test_a_snapshot_of_another_kind_is_named_by_its_kind_even_if_fields_differ():
    """Kills ``theirs[0] != mine[0]`` dropped from ``snapshot._differences``:
    the keys of RTRL and BPTT have the same length, so an RTRL snapshot with
    another n_in restored into a BPTT was described as "another
    architecture (they differ in n_in ...)", not as an RTRL's."""
    m = BPTT(4, 2, 2, seed=0)
    foreign = RTRL(3, 2, 2, seed=0).snapshot()
    before = m.state_arrays()
    with pytest.raises(InputError, match=r"^restore_snapshot needs a snapshot of a BPTT; "
                                         r"got one of an RTRL$"):
        m.restore_snapshot(foreign)
    with pytest.raises(InputError, match=r"^snapshot\(into=...\) needs a snapshot of a BPTT; "
                                         r"got one of an RTRL$"):
        m.snapshot(into=foreign)
    assert same_state(before, m.state_arrays())


# ---------------------------------------------------------------------------
# LearnerBank._run_chunks
# ---------------------------------------------------------------------------


class _Bar:
    def __init__(self):
        self.n = 0

    def update(self, k):
        self.n += k

    def close(self):  # pragma: no cover - never made by the bank here
        pass


def _diverging_bank():
    """s_c grows with the input gate open (spec §4): learner 1, with a
    small state bound, passes it within a dozen steps; 0 and 2 never do
    (as tests/test_bank_progress.py's)."""
    bank = LearnerBank(3, 1, 1, 1, 1, bias="none", h="id", g="g1", output_gates=False,
                       connectivity="B", state_bound=[1e6, 10.0, 1e6], seed=[0] * 3, parallel=False)
    W = bank.get_weights()
    bank.set_weights(W_in=np.full_like(W["W_in"], 5.0), W_c=np.full_like(W["W_c"], 5.0))
    return bank


@pytest.mark.parametrize("learn", [True, False])
def test_after_a_divergence_each_learner_keeps_its_own_resets(monkeypatch, learn):
    """Kills ``r[sel, a:b]`` -> ``r[:, a:b]`` in ``LearnerBank._run_chunks``:
    once learner 1 has diverged, the chunks run learners 0 and 2 only, and
    learner 2 read learner 1's resets.  Here the learners reset at different
    rows after the divergence; the chunked call must equal one call."""
    monkeypatch.setattr(_validate, "CHUNK", 7)  # 2 rows per chunk for 3 learners
    T = 60
    X, Y = np.ones((3, T, 1)), np.full((3, T, 1), 0.5)
    R = np.zeros((3, T), bool)
    R[0, 35] = R[2, [40, 50]] = True

    def call(bank, bar):
        if learn:
            return bank.learn_many(X, Y, R, progress=bar)
        return bank.predict_many(X, R, progress=bar)

    one, chunked = _diverging_bank(), _diverging_bank()
    with pytest.raises(BankDivergenceError) as e1:
        call(one, False)
    with pytest.raises(BankDivergenceError) as e2:
        call(chunked, _Bar())
    a, b = e1.value, e2.value
    assert a.learners.tolist() == [1] and a.row[0] < 35  # learner 1 is gone before the resets
    assert str(a) == str(b) and same_bits(a.out, b.out)
    assert same_state(one.state_arrays(), chunked.state_arrays())
    assert one.n_resets_.tolist() == [1, 0, 2]

