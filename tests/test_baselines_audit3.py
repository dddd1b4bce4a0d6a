"""Third audit of the competitors (RTRL, truncated BPTT).

* A state no step can reach (an accumulated change ``dW`` or an RTRL
  influence beyond the magnitude limit) is refused by ``load_state_arrays``
  and by checkpoint files: it would leave the learner refusing every
  learning step and every reset.
"""

import numpy as np
import pytest

from online_lstm import CheckpointError, InputError
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
