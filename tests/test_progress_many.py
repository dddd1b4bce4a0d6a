"""learn_many / predict_many with a progress bar.

With ``progress`` the rows run in compiled calls of ``_validate.CHUNK`` rows
(set small here, so that a few hundred rows make many chunks).  The claims:
the same bits as one call (outputs, state, errors and their rows, steps and
``.out``), every row checked before the first step, the bar moved by the rows
applied, and a run stopped between two chunks (Ctrl-C) leaves the learner as
if it had been given only the rows before the stop.
"""

import numpy as np
import pytest

from online_lstm import DivergenceError, InputError, OnlineLSTM
from online_lstm import _validate
from online_lstm.baselines import BPTT, RTRL

from statecheck import pushed_for_reset, same_state

ARCHS = {
    "reber": dict(n_in=3, n_out=2, n_blocks=2, block_size=2, bias="all"),
    "B-noog": dict(n_in=3, n_out=2, n_blocks=2, block_size=1, connectivity="B", output_gates=False),
    "forget-peep-delay": dict(n_in=3, n_out=2, n_blocks=2, block_size=1, forget_gate=True,
                              peepholes=True, max_delay=2),
    "sequence": dict(n_in=3, n_out=2, n_blocks=1, block_size=2, update="sequence"),
}


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setattr(_validate, "CHUNK", 7)


class Bar:
    """A stand-in for a tqdm bar: counts what it is told."""

    def __init__(self, stop_after=None):
        self.n, self.calls, self.stop_after = 0, 0, stop_after

    def update(self, k):
        self.n += k
        self.calls += 1
        if self.stop_after is not None and self.calls == self.stop_after:
            raise KeyboardInterrupt


def _stream(T=200, seed=0):
    rng = np.random.default_rng(seed)
    X, Y = rng.normal(size=(T, 3)), rng.uniform(0.1, 0.9, size=(T, 2))
    Y[rng.random(T) < 0.4] = np.nan
    return X, Y, rng.random(T) < 0.05


def _same(a, b):
    assert same_state(a.state_arrays(), b.state_arrays())
    assert a.n_divergences_ == b.n_divergences_


@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_a_bar_changes_no_bit(arch):
    X, Y, R = _stream()
    one, chunked = OnlineLSTM(**ARCHS[arch], seed=1), OnlineLSTM(**ARCHS[arch], seed=1)
    bar = Bar()
    np.testing.assert_array_equal(one.learn_many(X, Y, R), chunked.learn_many(X, Y, R, progress=bar))
    assert bar.n == len(X) and bar.calls == -(-len(X) // 7)  # one update per chunk
    _same(one, chunked)
    out = np.empty((len(X), 2))
    got = chunked.predict_many(X, R, out=out, progress=Bar())
    assert got is out
    np.testing.assert_array_equal(one.predict_many(X, R), out)
    _same(one, chunked)


def test_progress_true_makes_and_closes_a_tqdm_bar(capsys):
    X, Y, R = _stream(50)
    one, chunked = OnlineLSTM(**ARCHS["reber"], seed=2), OnlineLSTM(**ARCHS["reber"], seed=2)
    np.testing.assert_array_equal(one.learn_many(X, Y, R), chunked.learn_many(X, Y, R, progress=True))
    assert "50/50" in capsys.readouterr().err
    _same(one, chunked)


@pytest.mark.parametrize("where", [3, 150, 199])
def test_a_bad_row_in_any_chunk_changes_nothing(where):
    X, Y, R = _stream()
    X[where, 1] = np.inf
    m = OnlineLSTM(**ARCHS["reber"], seed=3)
    m.learn_many(*_stream(30, seed=9))
    before, bar = m.state_arrays(), Bar()
    with pytest.raises(InputError, match=rf"x must be finite \(row {where}\)"):
        m.learn_many(X, Y, R, progress=bar)
    assert same_state(before, m.state_arrays()) and bar.n == 0
    X[where, 1] = 0.0
    Y[where, 0] = -np.inf
    with pytest.raises(InputError, match=rf"y must be finite or NaN \(NaN = no target\) \(row {where}\)"):
        m.learn_many(X, Y, R, progress=bar)
    assert same_state(before, m.state_arrays()) and bar.n == 0


def test_a_bad_progress_argument_is_refused_before_any_step():
    m = OnlineLSTM(**ARCHS["reber"], seed=4)
    before = m.state_arrays()
    with pytest.raises(ValueError, match="progress must be True, False or a tqdm bar"):
        m.learn_many(*_stream(20)[:2], progress="yes")
    assert same_state(before, m.state_arrays())


def _drifting(policy):
    """s_c grows by about 1 a step with the input gate open (spec §4) and
    passes the state bound within each sequence longer than ~10 steps."""
    m = OnlineLSTM(1, 1, 1, 1, bias="none", h="id", g="g1", output_gates=False, connectivity="B",
                   state_bound=10.0, seed=0, on_divergence=policy)
    m.set_weights(W_in=[[5.0]], W_c=[[5.0]])
    return m


@pytest.mark.parametrize("policy", ["raise", "reset"])
def test_a_divergence_in_a_later_chunk_is_the_one_calls(policy):
    T = 60
    X, Y = np.ones((T, 1)), np.full((T, 1), 0.5)
    R = np.zeros(T, bool)
    R[[0, 30]] = True  # with "reset", the policy's resets and these mix
    one, chunked = _drifting(policy), _drifting(policy)
    bar = Bar()
    if policy == "raise":
        with pytest.raises(DivergenceError) as e1:
            one.learn_many(X, Y, R)
        with pytest.raises(DivergenceError) as e2:
            chunked.learn_many(X, Y, R, progress=bar)
        assert e1.value.row == e2.value.row > 7 and e1.value.step == e2.value.step
        assert str(e1.value) == str(e2.value)
        np.testing.assert_array_equal(e1.value.out, e2.value.out)
        assert bar.n == e2.value.row  # the rows applied
    else:
        np.testing.assert_array_equal(one.learn_many(X, Y, R), chunked.learn_many(X, Y, R, progress=bar))
        assert one.n_divergences_ >= 2 and bar.n == T
    _same(one, chunked)


def test_a_refused_reset_in_a_later_chunk_is_the_one_calls():
    T = 40
    X = np.zeros((T, 1))
    R = np.zeros(T, bool)
    R[23] = True
    one, chunked = pushed_for_reset(), pushed_for_reset()
    with pytest.raises(DivergenceError, match="reset refused at row 23") as e1:
        one.predict_many(X, R)
    with pytest.raises(DivergenceError, match="reset refused at row 23") as e2:
        chunked.predict_many(X, R, progress=Bar())
    assert e1.value.step == e2.value.step
    np.testing.assert_array_equal(e1.value.out, e2.value.out)
    _same(one, chunked)


def test_ctrl_c_between_chunks_keeps_the_rows_before_it():
    X, Y, R = _stream()
    stopped, ref = OnlineLSTM(**ARCHS["reber"], seed=5), OnlineLSTM(**ARCHS["reber"], seed=5)
    with pytest.raises(KeyboardInterrupt):
        stopped.learn_many(X, Y, R, progress=Bar(stop_after=3))
    assert stopped.n_steps_ == 21  # three chunks of 7
    ref.learn_many(X[:21], Y[:21], R[:21])
    _same(ref, stopped)
    # and it goes on from there as if never stopped
    np.testing.assert_array_equal(stopped.learn_many(X[21:], Y[21:], R[21:], progress=Bar()),
                                  ref.learn_many(X[21:], Y[21:], R[21:]))


@pytest.mark.parametrize("make", [lambda: RTRL(3, 2, 4, seed=6, update="sequence"),
                                  lambda: BPTT(3, 2, 4, window=None, seed=6),
                                  lambda: BPTT(3, 2, 4, window=5, seed=6)],
                         ids=["RTRL-sequence", "BPTT", "BPTT-w5"])
def test_the_competitors_take_a_bar_too(make):
    X, Y, R = _stream(120, seed=7)
    one, chunked, bar = make(), make(), Bar()
    np.testing.assert_array_equal(one.learn_many(X, Y, R), chunked.learn_many(X, Y, R, progress=bar))
    assert bar.n == 120 and bar.calls == -(-120 // 7)
    np.testing.assert_array_equal(one.predict_many(X, R), chunked.predict_many(X, R, progress=Bar()))
    assert same_state(one.state_arrays(), chunked.state_arrays())
    X[100, 0] = np.nan  # a bad row in a late chunk: nothing changes
    before = chunked.state_arrays()
    with pytest.raises(InputError, match=r"\(row 100\)"):
        chunked.learn_many(X, Y, R, progress=Bar())
    assert same_state(before, chunked.state_arrays())


def test_after_a_policy_reset_the_rest_still_runs_in_chunks():
    """Under on_divergence="reset" the rows after a divergence run in pieces
    that double; with a bar they stop at a chunk, so the bar keeps moving
    (and Ctrl-C keeps working) to the end."""
    T = 300
    X, Y = np.ones((T, 1)), np.full((T, 1), 0.5)
    R = np.zeros(T, bool)
    R[15::8] = True  # one divergence (about the 10th row), none after: sequences of 8
    one, chunked, bar = _drifting("reset"), _drifting("reset"), Bar()
    np.testing.assert_array_equal(one.learn_many(X, Y, R), chunked.learn_many(X, Y, R, progress=bar))
    _same(one, chunked)
    assert one.n_divergences_ == 1 and bar.n == T
    assert bar.calls >= (T - 15) // 7  # no piece longer than a chunk (7 rows here)
