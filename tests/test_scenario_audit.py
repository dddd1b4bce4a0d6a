"""Whole programs a stream user writes after reading the README: a sensor
bank with late targets and resets, checkpointed and restarted; a River
pipeline pickled mid-stream; a progressive validation resumed from a row;
snapshots as try-and-roll-back among checkpoints; a divergence in the middle
of a learn_many."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from online_lstm import DivergenceError, OnlineLSTM

from statecheck import same_state

# ---------------------------------------------------------------------------
# a divergence in the middle of learn_many: the predictions of the rows applied
# ---------------------------------------------------------------------------


def _exploding(**kw):
    return OnlineLSTM(2, 1, n_blocks=2, seed=0, lr=1e4, state_bound=50, **kw)


_X = np.random.default_rng(0).normal(size=(300, 2))
_Y = np.full((300, 1), 0.9)


@pytest.mark.parametrize("given_out", [False, True])
def test_learn_many_divergence_hands_back_the_predictions_of_the_rows_it_applied(given_out):
    """The rows before the refused one are kept (README), but their
    predictions were lost with the return value unless out= was given; the
    bank's BankDivergenceError has them in .out."""
    m = _exploding()
    before = m.snapshot()
    buf = np.zeros((300, 1)) if given_out else None
    with pytest.raises(DivergenceError) as info:
        m.learn_many(_X, _Y, out=buf)
    e = info.value
    assert 0 < e.row < 300 and e.step == m.n_steps_ == e.row
    twin = _exploding()
    expected = twin.learn_many(_X[:e.row], _Y[:e.row])
    assert same_state(m.state_arrays(), twin.state_arrays())  # the last good state, as documented
    assert e.out.shape == (300, 1)
    assert np.array_equal(e.out[:e.row], expected)
    assert np.isnan(e.out[e.row:]).all()
    if given_out:
        assert e.out is buf
    assert np.array_equal(pickle.loads(pickle.dumps(e)).out, e.out, equal_nan=True)
    m.restore_snapshot(before)  # the user goes back before the chunk and redoes it,
    m.lr = 0.1                  # with a smaller rate
    m.learn_many(_X, _Y)
    assert m.n_steps_ == 300


def test_a_competitors_learn_many_divergence_hands_back_its_predictions_too():
    from online_lstm.baselines import RTRL

    Y = _Y.copy()
    Y[:5] = np.nan  # no update, so no divergence, before row 5
    m = RTRL(2, 1, 3, seed=0, lr=1e160)
    with pytest.raises(DivergenceError) as info:
        m.learn_many(_X, Y)
    e = info.value
    assert e.row == 5
    expected = RTRL(2, 1, 3, seed=0, lr=1e160).learn_many(_X[:5], Y[:5])
    assert np.array_equal(e.out[:5], expected) and np.isnan(e.out[5:]).all()


def test_gradient_of_a_diverging_sequence_carries_no_outputs():
    with pytest.raises(DivergenceError) as info:
        OnlineLSTM(2, 1, n_blocks=2, seed=0, state_bound=1e-3).gradient(_X[:20], _Y[:20])
    assert info.value.out is None
