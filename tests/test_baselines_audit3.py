"""Third audit of the competitors (RTRL, truncated BPTT).

* A state no step can reach (an accumulated change ``dW`` or an RTRL
  influence beyond the magnitude limit) is refused by ``load_state_arrays``
  and by checkpoint files: it would leave the learner refusing every
  learning step and every reset.
* A reset inside ``learn_many`` that is refused (applying the accumulated
  change of ``update="sequence"``) is reported as the reset, not as the step.
"""

import numpy as np
import pytest

from online_lstm import CheckpointError, DivergenceError, InputError
from online_lstm.baselines import BPTT, RTRL
from online_lstm.checkpoint import read_checkpoint, write_checkpoint
from online_lstm.layout import MAGNITUDE_LIMIT

from statecheck import same_state

CLASSES = {"RTRL": (RTRL, {}), "BPTT": (BPTT, {"window": 3}), "BPTT-full": (BPTT, {})}


def new(name, **kw):
    cls, extra = CLASSES[name]
    return cls(**dict(dict(n_in=2, n_out=2, n_hidden=1, seed=0, init_range=0.5), **extra, **kw))


def stream(T, seed=0, m=2, K=2):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (T, m))
    Y = rng.uniform(0, 1, (T, K))
    Y[rng.random((T, K)) < 0.3] = np.nan
    return X, Y


# ---------------------------------------------------------------------------
# states no step can reach
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", CLASSES)
def test_an_accumulated_change_beyond_the_limit_is_refused_on_load(name, tmp_path):
    a = new(name, update="sequence")
    X, Y = stream(6)
    a.learn_many(X, Y)
    s = a.state_arrays()
    s["dW"][0] = 2 * MAGNITUDE_LIMIT  # finite, but no step writes it
    b = new(name, update="sequence", seed=1)
    before = b.state_arrays()
    with pytest.raises(InputError, match=r"state\['dW'\] has accumulated changes beyond 1e\+150"):
        b.load_state_arrays(s)
    assert same_state(before, b.state_arrays())
    path = a.save(tmp_path / "a.npz")
    arrays, meta = read_checkpoint(path)
    arrays["dW"] = s["dW"]
    write_checkpoint(path, arrays, meta)
    with pytest.raises(CheckpointError, match="dW"):
        type(a).load(path)
    with pytest.raises(CheckpointError, match="dW"):
        b.restore(path)
    assert same_state(before, b.state_arrays())
    # at the limit itself: a state a step can reach, accepted; the reset
    # applies it (a weight of 0.5 minus 1e150 stays within the limit)
    s["dW"][0] = -MAGNITUDE_LIMIT
    b.set_weights({k: np.full(v.shape, 0.5) for k, v in b.get_weights().items()})
    s["theta"] = b.state_arrays()["theta"]
    b.load_state_arrays(s)
    b.reset()
    assert b.state_arrays()["theta"][0] == 0.5 - MAGNITUDE_LIMIT


def test_an_rtrl_influence_beyond_the_limit_is_refused_on_load():
    a = new("RTRL")
    X, Y = stream(5)
    a.learn_many(X, Y)
    s = a.state_arrays()
    s["P"][-1] = -1.5 * MAGNITUDE_LIMIT  # _rtrl._influence refuses a step that would write it
    b = new("RTRL", seed=1)
    before = b.state_arrays()
    with pytest.raises(InputError, match=r"state\['P'\] has influences beyond 1e\+150"):
        b.load_state_arrays(s)
    assert same_state(before, b.state_arrays())
    s["P"][-1] = MAGNITUDE_LIMIT
    b.load_state_arrays(s)  # at the limit: accepted


# ---------------------------------------------------------------------------
# a refused reset inside learn_many
# ---------------------------------------------------------------------------
def pushed(cls):
    """A one-unit learner whose next reset would take W_x to 1.5e150."""
    m = cls(1, 1, 0, bias=False, seed=0, lr=1e301, update="sequence")
    m.set_weights(W_x=[[0.9e150]], W_y=[[0.0]])
    return m


@pytest.mark.parametrize("cls", [RTRL, BPTT])
def test_learn_many_says_when_the_reset_was_refused_not_the_step(cls):
    """The reset at row 2 would apply 0.6e150 to 0.9e150: refused.  The
    error names the reset (as reset() does), with its row and step; rows 0
    and 1 are applied, the reset is not (n_resets_, seq_step_ as before it)."""
    m = pushed(cls)
    X, Y = np.array([[1e-150], [0.5], [0.5]]), np.array([[1.0], [np.nan], [0.5]])
    ref = pushed(cls)
    ref.learn_many(X[:2], Y[:2])
    with pytest.raises(DivergenceError, match=r"^reset refused at row 2: applying the weight changes "
                                              r"accumulated over the sequence.*Rows before 2 were "
                                              r"applied; the reset and row 2 were not") as err:
        m.learn_many(X, Y, resets=[False, False, True])
    assert (err.value.step, err.value.row) == (2, 2)
    assert same_state(m.state_arrays(), ref.state_arrays())
    assert (m.n_resets_, m.seq_step_) == (0, 2)
    with pytest.raises(DivergenceError, match="^reset refused: applying"):
        m.reset()  # the same reset, called alone, says the same


@pytest.mark.parametrize("cls", [RTRL, BPTT])
def test_a_step_refused_after_a_reset_inside_learn_many_is_still_the_step(cls):
    """The reset at row 1 succeeds (nothing accumulated); the step then
    overflows its net input: the step is named, the reset has been made."""
    m = cls(1, 1, 0, bias=False, seed=0, update="sequence")
    m.set_weights(W_x=[[10.0]], W_y=[[0.0]])
    with pytest.raises(DivergenceError, match=r"^divergence at step 1 \(row 1\): a net input") as err:
        m.learn_many(np.array([[0.5], [1e308]]), np.array([[np.nan], [0.5]]), resets=[False, True])
    assert (err.value.step, err.value.row) == (1, 1)
    assert (m.n_resets_, m.seq_step_, m.n_steps_) == (1, 0, 1)
