"""An RTRL's or BPTT's state names its network.

The competitors' header holds n_in, n_out, the window and the algorithm, not
n_hidden, the architecture or the bias.  A layered BPTT with biases and a
fully recurrent one without (n_in=3, n_hidden=2, n_out=1) have 18 weights
each and arrays of the same shapes, so ``load_state_arrays`` took the one's
state into the other, whose weights then meant other connections (found by a
mutation audit).  ``state_arrays()`` now holds ``network`` = [n_hidden,
architecture index, bias], checked on load; a state without it (a
checkpoint written before) is checked as before, and a checkpoint file is
checked against its configuration anyway.
"""

from __future__ import annotations

import numpy as np
import pytest

import online_lstm.checkpoint as ck
from online_lstm import CheckpointError
from online_lstm.baselines import BPTT, RTRL
from online_lstm.baselines.network import ARCHITECTURES

from statecheck import refused_unchanged, same_state

TWINS = [  # same shapes and header fields, other nets
    (dict(architecture="layered", bias=True), dict(architecture="fully_recurrent", bias=False)),
]


def _stepped(cls, **kw):
    m = cls(3, 1, 2, seed=0, **kw)
    rng = np.random.default_rng(0)
    m.learn_many(rng.normal(size=(6, 3)), rng.uniform(0.1, 0.9, size=(6, 1)))
    return m


@pytest.mark.parametrize("cls", [BPTT, RTRL])
def test_the_state_of_another_network_of_the_same_shapes_is_refused(cls):
    a_kw, b_kw = TWINS[0]
    a, b = _stepped(cls, **a_kw), _stepped(cls, **b_kw)
    assert a.network.n_params == b.network.n_params == 18
    state = a.state_arrays()
    assert {k: v.shape for k, v in state.items() if k != "P"} == \
        {k: v.shape for k, v in b.state_arrays().items() if k != "P"}
    assert state["network"].tolist() == [2.0, ARCHITECTURES.index("layered"), 1.0]
    refused_unchanged(b, lambda: b.load_state_arrays(state),
                      r"different network \(n_hidden=2, architecture='layered', bias=True\); this "
                      r"learner has n_hidden=2, architecture='fully_recurrent', bias=False")


def test_a_state_without_network_is_checked_by_header_and_shapes():
    """What a state written before ``network`` existed holds: it loads into
    a learner of its network, bit for bit."""
    a = _stepped(BPTT, window=3)
    state = a.state_arrays()
    del state["network"]
    b = BPTT(3, 1, 2, window=3, seed=5)
    b.load_state_arrays(state)
    assert same_state(b.state_arrays(), a.state_arrays())
    x = np.array([0.3, -0.1, 0.2])
    assert np.array_equal(a.learn_one(x, [0.5]), b.learn_one(x, [0.5]))


@pytest.mark.parametrize("row, said", [([3.0, 0.0, 1.0], "n_hidden=3"),
                                       ([2.0, 7.0, 1.0], "architecture=unknown (7)"),
                                       ([2.0, 0.0, 0.5], "bias=unknown (0.5)")])
def test_a_network_row_that_is_not_this_learner_s_is_named(row, said):
    m = _stepped(RTRL)
    state = m.state_arrays()
    state["network"] = np.array(row)
    err = refused_unchanged(m, lambda: m.load_state_arrays(state), "different network")
    assert said in str(err).split(";")[0]
    state["network"] = np.array([2.0, 0.0])
    refused_unchanged(m, lambda: m.load_state_arrays(state),
                      r"state\['network'\] must be float64 of shape \(3,\)")


@pytest.mark.parametrize("cls", [BPTT, RTRL])
def test_checkpoint_files_hold_the_network_and_old_ones_still_load(cls, tmp_path):
    m = _stepped(cls)
    path = m.save(tmp_path / "m.npz", fsync=False)
    arrays, meta = ck.read_checkpoint(path)
    assert arrays["network"].tolist() == m.state_arrays()["network"].tolist()
    assert same_state(cls.load(path).state_arrays(), m.state_arrays())
    # a file as an earlier version wrote it: no "network"
    meta = {k: v for k, v in meta.items() if k not in ("arrays", "format", "format_version")}
    old = {k: v for k, v in arrays.items() if k != "network"}
    ck.write_checkpoint(tmp_path / "old.npz", old, meta, fsync=False)
    assert same_state(cls.load(tmp_path / "old.npz").state_arrays(), m.state_arrays())
    # a file whose network disagrees with its configuration
    ck.write_checkpoint(tmp_path / "edited.npz", dict(arrays, network=np.array([2.0, 1.0, 1.0])), meta,
                        fsync=False)
    with pytest.raises(CheckpointError, match="different network"):
        cls.load(tmp_path / "edited.npz")
