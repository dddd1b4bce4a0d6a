"""Divergence handling, audited: where a divergence is reported, what state
is kept, and that the last good state can be recovered everywhere it is
promised (widened learners, River adapters, the experiment runner)."""

from __future__ import annotations

import numpy as np
import pytest

from online_lstm import OnlineLSTM
from online_lstm.widen import widen

from statecheck import same_state


def drifting(policy="raise", bound=10.0, n_in=1, **kw):
    """One cell with identity h and an open input gate: s_c grows by ~5 per
    step of input 1 and passes ``bound`` (spec §4, internal state drift)."""
    params = dict(bias="none", h="id", g="g1", output_gates=False, connectivity="B",
                  state_bound=bound, seed=0, on_divergence=policy)
    params.update(kw)
    m = OnlineLSTM(n_in, 1, 1, 1, **params)
    w = m.get_weights()
    m.set_weights(W_in=np.full(w["W_in"].shape, 5.0), W_c=np.full(w["W_c"].shape, 5.0))
    return m


X = np.ones((30, 1))
Y = np.full((30, 1), 0.5)


# ---------------------------------------------------------------------------
# widen: the record of the last divergence must stay usable
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("max_delay", [0, 2])
@pytest.mark.parametrize("sizes", [dict(n_in=3), dict(n_out=2), dict(n_in=2, n_out=3)])
def test_a_widened_learner_can_go_back_to_the_state_before_its_last_divergence(sizes, max_delay):
    m = drifting("reset", max_delay=max_delay)
    m.learn_many(X[:15], Y[:15])
    assert m.n_divergences_ == 1
    err = m.last_divergence_
    w = widen(m, rng=5, **sizes)
    # what widening the learner as it was before the event gives, new weights alike
    twin = OnlineLSTM(**m.get_params())
    twin.load_state_arrays(err.state)
    expect = widen(twin, rng=5, **sizes).state_arrays()
    w.load_state_arrays(w.last_divergence_.state)  # refused: state of the narrow learner
    assert same_state(w.state_arrays(), expect)
    assert (w.last_divergence_.step, w.last_divergence_.row) == (err.step, err.row)
    assert m.last_divergence_ is err and m.last_divergence_.state["theta"].shape == (m.n_params,)
