"""Audit of the competitors (``online_lstm.baselines``: RTRL, BPTT) against
the promises they share with OnlineLSTM.

Each test here failed on the code it was written against; the expected
behaviour is OnlineLSTM's (run alongside where the API is shared) or an
independent computation, never an output of the code under test.
"""

import numpy as np
import pytest

from online_lstm import InputError, OnlineLSTM
from online_lstm.baselines import BPTT, RTRL
from online_lstm.baselines import _common as _c

from statecheck import same_state

KINDS = ["lstm", "rtrl", "bptt", "bptt-w3"]


def trained(kind):
    rng = np.random.default_rng(0)
    if kind == "lstm":
        m = OnlineLSTM(3, 2, n_blocks=2, seed=0)
    else:
        m = (RTRL(3, 2, 2, seed=0) if kind == "rtrl"
             else BPTT(3, 2, 2, seed=0, window=3 if kind == "bptt-w3" else None))
    m.learn_many(rng.random((10, 3)), rng.random((10, 2)))
    return m


@pytest.mark.parametrize("make_state, match", [
    (lambda s: None, "state must be a dict of named arrays"),
    (lambda s: "header", "state must be a dict of named arrays"),
    (lambda s: [s["header"], s["theta"]], "state must be a dict of named arrays"),
    (lambda s: dict(s, theta=[[1.0], [1.0, 2.0]]), r"state\['theta'\] must be an array of shape"),
])
@pytest.mark.parametrize("kind", KINDS)
def test_load_state_arrays_refuses_what_is_not_a_state_with_an_input_error(kind, make_state, match):
    """Before: the competitors raised TypeError for None or a string,
    'state is missing header' for a list, and NumPy's ValueError about an
    inhomogeneous shape for a ragged array; OnlineLSTM (run here too) says
    what a state must be, with an InputError."""
    m = trained(kind)
    before = m.state_arrays()
    with pytest.raises(InputError, match=match):
        m.load_state_arrays(make_state(m.state_arrays()))
    assert same_state(before, m.state_arrays())


@pytest.mark.parametrize("counter", ["step", "seq"])
@pytest.mark.parametrize("kind", ["rtrl", "bptt", "bptt-w3"])
def test_load_state_arrays_refuses_counters_the_float64_header_cannot_count(kind, counter):
    """Before: a state whose step counters were 2**53 or more was taken.  The
    kernels count steps in the float64 header, where 2**53 + 1 rounds back to
    2**53: the counters stop, and BPTT, whose history slot is the step since
    the reset, then wrote every step into the same slot and read a stale
    y(t-1), so its outputs went wrong (by 0.26 on the net below) with no
    error.  OnlineLSTM refuses such counters as corrupt; the competitors now
    do too.  (No learner gets there by running: 2**53 steps at 1 µs each take
    285 years.)"""
    m = trained(kind)
    before = m.state_arrays()
    bad = m.state_arrays()
    fields = [_c.H_STEP] if counter == "step" else [_c.H_STEP, _c.H_SEQ]
    for big in (2.0 ** 53, 2.0 ** 64):
        bad["header"][fields] = big
        with pytest.raises(InputError, match="counters"):
            m.load_state_arrays(bad)
        assert same_state(before, m.state_arrays())
    bad = m.state_arrays()
    bad["header"][_c.H_STEP] = 2.0 ** 52  # still counted exactly: taken
    m.load_state_arrays(bad)
    assert m.n_steps_ == 2 ** 52


def test_weight_count_is_the_number_of_weights_network_builds():
    """network.weight_count (used by checkpoint loading to refuse a damaged
    configuration before building it) counts what Network builds."""
    from online_lstm.baselines.network import ARCHITECTURES, Network, weight_count

    for arch in ARCHITECTURES:
        for m, K, H in ((1, 1, 1), (3, 2, 4), (7, 7, 12), (5, 1, 0)):
            if arch == "layered" and H == 0:
                continue
            for bias in (True, False):
                assert weight_count(m, K, H, arch, bias) == Network(m, K, H, arch, bias).n_params
