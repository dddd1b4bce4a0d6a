"""Tests written to kill mutants of the competitors' kernels
(``online_lstm/baselines/_rtrl.py``, ``_bptt.py``, ``_common.py``) that the
other tests let through in a mutation audit.  Each test's docstring names the
mutant it kills; expected values come from a second learner driven through
another entry point, never from hard-coded kernel outputs.
"""

import numpy as np
import pytest

from online_lstm import NoPendingStepError, OnlineLSTM
from online_lstm.baselines import BPTT, RTRL

from conftest import random_stream
from statecheck import same_state

LEARNERS = {
    "rtrl": (RTRL, {}),
    "bptt": (BPTT, {}),
    "bptt-w3": (BPTT, dict(window=3)),
}


@pytest.mark.parametrize("learner", list(LEARNERS))
def test_predict_then_learn_last_equals_learn_one_after_resets(learner):
    """Kills the mutant ``_depth(hd, t)`` -> ``_depth(hd, t + 1)`` in
    ``_bptt._last_gradient``: learn_last then sends the error of an early
    step of a sequence one step too far back, into the ring slot before the
    sequence's first step, which still holds a step of the previous sequence.
    Without a reset that slot is all zeros and adds nothing, so
    test_baselines' predict/learn_last test (no resets) let it through.  A
    first sequence of 64 steps fills the whole initial ring of full BPTT
    (64 slots; a window of 3 keeps 4), then short sequences follow."""
    cls, extra = LEARNERS[learner]
    kw = dict(n_in=3, n_out=2, n_hidden=2, architecture="layered", init_range=1.0, lr=0.3,
              seed=3, **extra)
    a, b = cls(**kw), cls(**kw)
    X, Y, _ = random_stream(np.random.default_rng(11), 100, 3, 2, p_reset=0.0, p_nan=0.0)
    resets = np.zeros(100, dtype=bool)
    resets[[64, 70, 73, 81, 90]] = True
    for t in range(len(X)):
        if resets[t]:
            a.reset()
            b.reset()
        ya = a.learn_one(X[t], Y[t])
        yb = b.predict_one(X[t])
        b.learn_last(Y[t])
        assert np.array_equal(ya, yb), t
    assert same_state(a.state_arrays(), b.state_arrays())


@pytest.mark.parametrize("learner", [*LEARNERS, "lstm"])
def test_a_reset_ends_the_pending_step_as_for_the_lstm(learner):
    """Kills the mutant that drops ``hd[H_PENDING] = 0.0`` from
    ``_common._begin_sequence``: a step predicted before a reset stays
    pending, and learn_last after the reset learns a step of the sequence
    that has ended, against zeroed activations and influences.  The
    competitors follow OnlineLSTM's protocol (run here too, the same calls):
    a reset ends the pending step, and learn_last then refuses and changes
    nothing.  No other test calls learn_last after a reset."""
    if learner == "lstm":
        m = OnlineLSTM(3, 2, n_blocks=2, seed=0)
    else:
        cls, extra = LEARNERS[learner]
        m = cls(3, 2, 2, init_range=1.0, seed=0, **extra)
    X, Y, _ = random_stream(np.random.default_rng(5), 6, 3, 2, p_reset=0.0, p_nan=0.0)
    for t in range(5):
        m.learn_one(X[t], Y[t])
    m.predict_one(X[5])
    assert m.pending_
    m.reset()
    assert not m.pending_
    before = m.state_arrays()
    with pytest.raises(NoPendingStepError):
        m.learn_last(Y[5])
    assert same_state(before, m.state_arrays())
