"""Tests written to kill mutants of ``online_lstm/kernels.py`` that the other
fast correctness tests (test_kernels, test_gradients, test_forget_peephole,
test_exp1_net) let through in a mutation audit.  Each test's docstring names
the mutant it kills; the expected values come from the slow NumPy reference
(``reference.py``), never from the kernel.
"""

import numpy as np
import pytest

from online_lstm import OnlineLSTM

from conftest import ATOL, RTOL, random_stream
from reference import assert_matches_reference, run_reference


def learns_as_reference(cfg, seed, T=120):
    """A learner built from ``cfg`` and the reference agree over a random
    stream with resets and missing targets: outputs, weights, states, traces."""
    m = OnlineLSTM(**cfg, init_range=0.6, lr=0.3, seed=seed)
    X, Y, resets = random_stream(np.random.default_rng(seed + 10), T, m.layout.n_in, m.layout.n_out)
    ref, ref_out = run_reference(m, X, Y, resets)
    np.testing.assert_allclose(m.learn_many(X, Y, resets), ref_out, rtol=RTOL, atol=ATOL)
    assert_matches_reference(m, ref, RTOL, ATOL)


#: g and h chosen independently: every architecture of conftest.ALL_ARCHS
#: pairs g="g1" with h="id" (Exp. 2a/2b) and g="g2" with h="h1", so a kernel
#: that reads one squashing flag for the other passes all of them
UNPAIRED = {
    "F-og-hidden-S2-g1-h1": dict(n_in=2, n_out=2, n_blocks=2, block_size=2, bias="hidden",
                                 g="g1", h="h1"),
    "B-og-all-S2-g2-id": dict(n_in=3, n_out=2, n_blocks=2, block_size=2, bias="all",
                              connectivity="B", g="g2", h="id"),
    "F-og-hidden-S2-g1-h1+fg+ph": dict(n_in=2, n_out=2, n_blocks=2, block_size=2, bias="hidden",
                                       g="g1", h="h1", forget_gate=True, peepholes=True),
    "B-og-all-S2-g2-id+fg": dict(n_in=3, n_out=2, n_blocks=2, block_size=2, bias="all",
                                 connectivity="B", g="g2", h="id", forget_gate=True),
}


@pytest.mark.parametrize("name", list(UNPAIRED))
def test_cell_input_and_output_squashing_are_chosen_independently(name):
    """Kills the mutant ``if d.g1:`` -> ``if d.h_id:`` in ``_forward`` (the
    1997 step computing g and g' by the cell-output flag), and its twin in
    ``_g``/``_h`` of the forget-gate/peephole step: g = logistic with
    h in [-1, 1], and g in [-2, 2] with h = identity, against the reference.
    (The slow hypothesis test test_properties::test_agrees_with_reference,
    which draws g and h independently, catches both too.)"""
    learns_as_reference(UNPAIRED[name], seed=2)


#: bias code "gates" (gate biases, no cell bias) with blocks of more than one
#: cell: in conftest.ALL_ARCHS "gates" has S = 1 only, where a trace row of
#: the bias unit holds as many gate traces (S*Cg) as there are gates (Cg)
GATES_BIAS_S2 = {
    "F-og-gates-S2+fg": dict(n_in=2, n_out=2, n_blocks=2, block_size=2, bias="gates",
                             forget_gate=True),
    "B-og-gates-S3+ph": dict(n_in=2, n_out=1, n_blocks=2, block_size=3, bias="gates",
                             connectivity="B", peepholes=True),
}


@pytest.mark.parametrize("name", list(GATES_BIAS_S2))
def test_gate_bias_traces_cover_every_cell_of_a_block(name):
    """Kills the mutant ``n_tr = L if has_c else G`` -> ``... else Cg`` in
    ``_commit_x``: the bias row of a net with gate biases but no cell bias
    updating one trace per gate instead of one per (gate, cell), so the
    traces ds_c/db_in of cells v > 0 stay 0 (spec §3.5, eq. 25).  The
    1997 step's twin is caught by test_exp1_net (S = 2, "ga"); this one
    passed every other test, test_properties' 60 random nets included."""
    learns_as_reference(GATES_BIAS_S2[name], seed=4)
