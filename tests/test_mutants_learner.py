"""Tests written to kill mutants of the pure-Python layer of the learner
(``online_lstm/learner.py`` and ``online_lstm/_validate.py``: input
validation, hyper-parameter setters, weights by name, state arrays, the
divergence policy) that the other fast tests let through in a mutation
audit.  Each test's docstring names the mutant it kills; expected values come
from the documented behaviour, a hand count or a twin learner, never from
the code's own output for the same call.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from online_lstm import DivergenceError, InputError, OnlineLSTM
from online_lstm.layout import H_LR, H_STATE_BOUND, M_BANK, M_SEQ_STEP, M_STEP, MAGNITUDE_LIMIT

from statecheck import same_state


def _trained(seed=0, steps=20, **kw):
    """A small learner with non-zero weights, states and traces."""
    m = OnlineLSTM(2, 1, 2, 2, init_range=0.5, lr=0.2, seed=seed, **kw)
    rng = np.random.default_rng(seed + 100)
    m.learn_many(rng.uniform(-1, 1, (steps, 2)), rng.uniform(-1, 1, (steps, 1)))
    return m


def _refused_unchanged(m, call, exc=InputError, match=None):
    """``call(m)`` raises ``exc`` and leaves ``m`` bit-for-bit unchanged
    (documented: a refused call changes nothing)."""
    before = m.state_arrays()
    with pytest.raises(exc, match=match):
        call(m)
    assert same_state(before, m.state_arrays())


# ----------------------------------------------------------------------
# resets masks (as_bool_mask)
# ----------------------------------------------------------------------
def test_a_masked_reset_entry_is_refused_not_read_through_its_mask():
    """Kills: as_bool_mask accepting a masked array with masked entries (np.asarray
    would read the True hidden under the mask as a reset)."""
    m = _trained()
    X = np.zeros((3, 2))
    Y = np.zeros((3, 1))
    resets = np.ma.array([False, True, False], mask=[False, True, False])
    _refused_unchanged(m, lambda m: m.learn_many(X, Y, resets), match="masked")
    _refused_unchanged(m, lambda m: m.predict_many(X, resets), match="masked")


def test_a_float_resets_mask_is_refused():
    """Kills: as_bool_mask accepting float dtypes (0.0/1.0) as a mask; the
    documented mask is bool, or 0/1 integers."""
    m = _trained()
    X = np.zeros((3, 2))
    Y = np.zeros((3, 1))
    _refused_unchanged(m, lambda m: m.learn_many(X, Y, np.array([0.0, 1.0, 0.0])),
                       match="boolean mask")
    m.learn_many(X, Y, np.array([0, 1, 0]))  # 0/1 integers are accepted
    assert m.n_resets_ == 1


def test_a_refused_reset_policy_retry_leaves_the_callers_resets_alone():
    """Kills: _run_on writing ``rr[0] = False`` into a view of the caller's
    resets array (the ``rr.copy()`` dropped).  Here every step from a reset
    state diverges (s_c ~0.99 > state_bound 0.5), so the retry fails and the
    call raises; the caller's mask must still say what it said (the refused
    retry is undone in the learner, so the caller's array is the only trace)."""
    m = OnlineLSTM(1, 1, 1, 1, bias="none", h="id", g="g1", output_gates=False,
                   connectivity="B", state_bound=0.5, seed=0, on_divergence="reset")
    m.set_weights(W_in=[[5.0]], W_c=[[5.0]])
    resets = np.array([True, False, False])
    kept = resets.copy()
    with pytest.raises(DivergenceError) as err:
        m.learn_many(np.ones((3, 1)), np.full((3, 1), 0.5), resets)
    assert np.array_equal(resets, kept)
    # documented: row 0 was not applied, the reset requested at row 0 was, and
    # the policy's own reset was undone
    assert err.value.row == 0 and m.n_steps_ == 0 and m.n_resets_ == 1
    assert m.n_divergences_ == 0


# ----------------------------------------------------------------------
# set_weights / weights
# ----------------------------------------------------------------------
def test_set_weights_refuses_nan():
    """Kills: checked_weights without its finiteness check (NaN slips past
    the magnitude check, since NaN > 1e150 is False)."""
    m = _trained()
    W_k = m.get_weights()["W_k"]
    W_k[0, 0] = np.nan
    _refused_unchanged(m, lambda m: m.set_weights(W_k=W_k), match="finite")


def test_set_weights_keywords_win_over_the_dict_on_a_clash():
    """Kills: named_values letting the dict win over name=array keywords
    (documented: ``named`` wins on a clash)."""
    m = _trained()
    shape = m.get_weights()["W_k"].shape
    m.set_weights({"W_k": np.full(shape, 0.25)}, W_k=np.full(shape, -0.75))
    assert np.array_equal(m.get_weights()["W_k"], np.full(shape, -0.75))


def test_weights_views_are_read_only():
    """Kills: ``weights`` handing out writeable views of theta (documented:
    read-only views; writing through one would change the learner behind the
    H_WMAX bound's back)."""
    m = _trained()
    before = m.state_arrays()
    for name, v in m.weights.items():
        with pytest.raises(ValueError):
            v[...] = 1e200
    assert same_state(before, m.state_arrays())


# ----------------------------------------------------------------------
# hyper-parameters
# ----------------------------------------------------------------------
def test_a_learning_rate_of_zero_is_accepted_and_changes_no_weight():
    """Kills: checked_lr refusing lr = 0 (documented: a finite number >= 0).
    With alpha = 0 the step alpha * e * trace is zero: the weights stay."""
    m = OnlineLSTM(2, 1, 2, 2, init_range=0.5, lr=0.0, seed=1)
    theta = m.theta_
    m.learn_one([0.3, -0.7], 0.9)
    assert np.array_equal(m.theta_, theta) and m.n_updates_ == 1
    m2 = _trained()
    m2.lr = 0
    assert m2.lr == 0.0


def test_init_range_at_the_magnitude_limit_is_accepted():
    """Kills: checked_init_range with ``r < MAGNITUDE_LIMIT`` (documented: a
    number in [0, 1e150], both ends included)."""
    m = OnlineLSTM(2, 1, init_range=MAGNITUDE_LIMIT, seed=0)
    assert m.init_range == MAGNITUDE_LIMIT
    assert 0 < np.max(np.abs(m.theta_)) <= MAGNITUDE_LIMIT
    with pytest.raises(ValueError, match="init_range"):
        OnlineLSTM(2, 1, init_range=MAGNITUDE_LIMIT * 1.0000001, seed=0)


@pytest.mark.parametrize("seed", [True, False, np.bool_(True)])
def test_a_bool_seed_is_refused(seed):
    """Kills: seeded_rng taking a bool for a seed (NumPy reads True as 1)."""
    with pytest.raises(ValueError, match="seed"):
        OnlineLSTM(2, 1, seed=seed)


def test_a_nan_state_bound_is_refused():
    """Kills: the state_bound setter without its NaN check (NaN <= 0 is False,
    and |s| > NaN never reports a divergence)."""
    with pytest.raises(ValueError, match="state_bound"):
        OnlineLSTM(2, 1, state_bound=math.nan)
    m = _trained()
    before = m.state_arrays()
    with pytest.raises(ValueError, match="state_bound"):
        m.state_bound = float("nan")
    assert same_state(before, m.state_arrays())


# ----------------------------------------------------------------------
# load_state_arrays / check_state_arrays
# ----------------------------------------------------------------------
def _with_header(m, index, value):
    s = m.state_arrays()
    s["header"] = s["header"].copy()
    s["header"][index] = value
    return s


@pytest.mark.parametrize("bank", [0.5, 2.0, -1.0])
def test_a_corrupt_bank_flag_is_refused(bank):
    """Kills: check_state_arrays checking only the pending flag (a bank index
    other than 0 or 1 points the record outside its two banks)."""
    m = _trained()
    s = _with_header(m, M_BANK, bank)
    _refused_unchanged(_trained(seed=1), lambda t: t.load_state_arrays(s), match="bank")


def test_a_step_counter_of_exactly_2_pow_53_is_accepted():
    """Kills: the counter check ``c < 2**53`` (every integer up to 2**53 is
    exact in a float64, so the check's bound is inclusive); one even integer
    beyond it is refused."""
    m = _trained()
    s = _with_header(m, M_STEP, 2.0 ** 53)
    t = _trained(seed=1)
    t.load_state_arrays(s)
    assert t.n_steps_ == 2 ** 53
    s = _with_header(m, M_STEP, 2.0 ** 53 + 2)
    _refused_unchanged(_trained(seed=1), lambda t: t.load_state_arrays(s), match="counter")


def test_seq_step_beyond_step_is_refused():
    """Kills: check_state_arrays without ``seq_step <= step`` (both count every
    step and a reset zeroes only seq_step)."""
    m = _trained()
    s = _with_header(m, M_SEQ_STEP, m.n_steps_ + 1)
    _refused_unchanged(_trained(seed=1), lambda t: t.load_state_arrays(s), match="seq_step")


@pytest.mark.parametrize("index, value", [(H_STATE_BOUND, 0.0), (H_STATE_BOUND, -1.0),
                                          (H_LR, math.inf), (H_LR, -0.1), (H_LR, math.nan)])
def test_a_header_lr_or_bound_the_setters_refuse_is_refused(index, value):
    """Kills: check_state_arrays accepting ``state_bound = 0`` (``bound >= 0``)
    and an infinite learning rate (isfinite dropped): the setters refuse both,
    so no learner holds them."""
    m = _trained()
    s = _with_header(m, index, value)
    _refused_unchanged(_trained(seed=1), lambda t: t.load_state_arrays(s), match="corrupt")


def test_a_weight_of_exactly_the_magnitude_limit_round_trips():
    """Kills: check_state_arrays refusing ``max|theta| == 1e150`` (``>=``):
    set_weights accepts entries up to 1e150 in magnitude, so the state of such
    a learner must load into a twin, which then predicts as the original."""
    m = _trained()
    W_k = m.get_weights()["W_k"]
    W_k[0, 0] = -MAGNITUDE_LIMIT
    m.set_weights(W_k=W_k)
    t = _trained(seed=1)
    t.load_state_arrays(m.state_arrays())
    assert same_state(t.state_arrays(), m.state_arrays())
    x = np.array([0.1, -0.2])
    assert np.array_equal(t.predict_one(x), m.predict_one(x))
