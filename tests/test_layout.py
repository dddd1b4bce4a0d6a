"""Layout: weight counts of Table 10, trace counts, views and names."""

import numpy as np
import pytest

from online_lstm import Layout, OnlineLSTM
from online_lstm.paper import TABLE10, table10_learner

from conftest import ALL_ARCHS, ARCHS

ARCH_KEYS = ("n_in", "n_out", "n_blocks", "block_size", "output_gates", "connectivity",
             "bias", "g", "h", "forget_gate", "peepholes")


def layout(kw):
    """The Layout of a learner configuration (drops the initialisation keys)."""
    return Layout(**{k: v for k, v in kw.items() if k in ARCH_KEYS})


@pytest.mark.parametrize("row", list(TABLE10))
def test_weight_count_equals_table10(row):
    kwargs, paper = TABLE10[row]
    lay = layout(kwargs)
    assert lay.n_params == paper
    m = table10_learner(row, seed=0)
    assert m.theta_.size == m.n_params == paper


def test_table10_counts_listed_in_the_issue():
    counts = sorted({paper for _, paper in TABLE10.values()})
    assert counts == sorted([264, 276, 10504, 364, 664, 1264, 3064, 6064, 102, 93, 156, 308])


# which units have a bias, by bias code (the paper's words, spec §2.6),
# written out here rather than read from the layout
GATES_HAVE_BIAS = {"gates": True, "hidden": True, "all": True, "none": False}
CELLS_HAVE_BIAS = {"gates": False, "hidden": True, "all": True, "none": False}
OUTPUTS_HAVE_BIAS = {"gates": False, "hidden": False, "all": True, "none": False}


@pytest.mark.parametrize("name", list(ARCHS))
def test_weight_count_by_formula_eq29(name):
    """W = K*n_ob + C*S*I_c + 2*C*I_g (spec §3.10; one gate per block less
    without output gates), with every count derived from the configuration
    alone: F connectivity feeds the cells' outputs and the gates' activations
    back to every cell and gate, B feeds the inputs to the outputs instead."""
    kw = ARCHS[name]
    n_in, K, C, S = kw["n_in"], kw["n_out"], kw["n_blocks"], kw["block_size"]
    og = kw.get("output_gates", True)
    conn, bias = kw.get("connectivity", "F"), kw["bias"]
    gates_per_block = 2 if og else 1
    recurrent = C * S + C * gates_per_block if conn == "F" else 0
    I_g = n_in + recurrent + GATES_HAVE_BIAS[bias]
    I_c = n_in + recurrent + CELLS_HAVE_BIAS[bias]
    n_ob = C * S + (n_in if conn == "B" else 0) + OUTPUTS_HAVE_BIAS[bias]
    W = K * n_ob + C * S * I_c + gates_per_block * C * I_g
    assert Layout(**kw).n_params == W
    assert OnlineLSTM(**kw, seed=0).theta_.size == W


@pytest.mark.parametrize("row", ["1-1", "1-2", "3a", "4-1", "6b", "2c-1", "2a"])
def test_trace_count_is_2CSI(row):
    kwargs, _ = TABLE10[row]
    m = table10_learner(row, seed=0)
    lay = m.layout
    C, S = lay.n_blocks, lay.block_size
    # 2*C*S*I (spec §3.10) where cells and gates see the same I sources;
    # with biases on the gates only ("ga", Exp. 1) cells have one source less.
    assert lay.n_traces == C * S * (lay.I_g + lay.I_c)
    if lay.I_g == lay.I_c:
        assert lay.n_traces == 2 * C * S * lay.I_g
    st = m.state_
    assert st["T_in"].size + st["T_c"].size == lay.n_traces
    assert st["T_in"].shape == (C * S, lay.I_g)
    assert st["T_c"].shape == (C * S, lay.I_c)


def test_exp1_sources_and_counts_by_hand():
    lay = Layout(7, 7, 4, 1, bias="gates")
    # sources: 7 inputs, 4 cell outputs, 4 input gates, 4 output gates (+ bias for gates)
    assert lay.I_h == 19 and lay.I_g == 20 and lay.I_c == 19
    assert lay.n_params == 4 * 19 + 8 * 20 + 7 * 4


def test_weight_and_trace_counts_with_forget_gate_and_peepholes():
    # W = K*(n_ob + b_k) + C*S*I_c + (2 or 3)*C*I_g + peepholes C*S*(1 + fg + og)  (spec §7)
    for kw in ALL_ARCHS.values():
        lay = layout(kw)
        C, S, CS = lay.n_blocks, lay.block_size, lay.n_cells
        fg, ph, og = lay.forget_gate, lay.peepholes, lay.output_gates
        gates = 1 + int(fg) + int(og)
        W = lay.n_out * (lay.n_ob + lay.output_bias) + CS * lay.I_c + gates * C * lay.I_g
        assert lay.n_params == W + (CS * (1 + int(fg) + int(og)) if ph else 0)
        # traces: (2 or 3)*C*S*I (spec §3.10, §7.1), plus 2*C*S^2 peephole traces (§7.2)
        n_gate_traces = (1 + int(fg)) * CS * lay.I_g + CS * lay.I_c
        assert lay.n_traces == n_gate_traces + (CS * S * (1 + int(fg)) if ph else 0)
    # Gers et al. 2000's continual-Reber net in our F connectivity: 4 blocks of 2 cells
    lay = Layout(7, 7, 4, 2, bias="all", forget_gate=True)
    assert lay.I_h == 7 + 8 + 4 + 4 and lay.n_traces == 3 * 8 * 24
    m = OnlineLSTM(7, 7, 4, 2, bias="all", forget_gate=True, peepholes=True, seed=0)
    st = m.state_
    assert st["T_in"].shape == st["T_phi"].shape == (8, 24) and st["T_c"].shape == (8, 24)
    assert st["T_P_in"].shape == st["T_P_phi"].shape == (8, 2)


def test_forget_gate_columns_sit_between_input_gates_and_cells():
    lay = Layout(3, 2, 2, 2, bias="all", forget_gate=True, peepholes=True)
    theta = np.zeros(lay.n_params)
    lay.weight_view(theta, "W_phi")[1, 4] = 7.0  # w_{phi_1, m=4}
    assert theta[4 * lay.R + 2 + 1] == 7.0  # row 4 of H: [in (2) | phi (2) | cells | out]
    lay.weight_view(theta, "b_phi")[0] = 5.0
    assert theta[lay.offsets["b_in"] + 2] == 5.0  # b_phi follows b_in
    lay.weight_view(theta, "P_out")[1, 0] = 3.0  # block 1, source cell 0
    assert theta[lay.offsets["P"] + 2 * 4 + 1 * 2 + 0] == 3.0  # [P_in | P_phi | P_out], block-major


@pytest.mark.parametrize("name", list(ALL_ARCHS))
def test_named_views_partition_theta(name):
    lay = layout(ALL_ARCHS[name])
    theta = np.arange(lay.n_params, dtype=float)
    seen = np.concatenate([lay.weight_view(theta, n).ravel() for n in lay.shapes])
    assert np.array_equal(np.sort(seen), theta)  # every parameter exactly once
    for n, shape in lay.shapes.items():
        assert lay.weight_view(theta, n).shape == shape


def test_views_write_through_and_paper_orientation():
    lay = Layout(3, 2, 2, 2, bias="all")
    theta = np.zeros(lay.n_params)
    W_in = lay.weight_view(theta, "W_in")
    W_in[1, 4] = 7.0  # w_{in_1, m=4}
    # storage is source-major: row m=4 of H, column j=1
    assert theta[4 * lay.R + 1] == 7.0
    W_c = lay.weight_view(theta, "W_c")
    W_c[3, 0] = 5.0  # cell j=1, v=1 (row 3), source 0
    assert theta[0 * lay.R + lay.n_blocks + 3] == 5.0  # cells follow the C input gates


def test_source_names_match_shapes():
    for kw in ALL_ARCHS.values():
        lay = layout(kw)
        assert len(lay.source_names) == lay.I_h
        assert len(lay.output_source_names) == lay.n_ob


def test_gate_bias_initialisation():
    m = OnlineLSTM(1, 1, 3, 1, bias="hidden", in_gate_bias=(-1, -3, -5), out_gate_bias=(-2, -4, -6), seed=1)
    w = m.get_weights()
    assert np.array_equal(w["b_in"], [-1, -3, -5])
    assert np.array_equal(w["b_out"], [-2, -4, -6])
    assert np.all(np.abs(w["b_c"]) <= 0.1)


def test_init_is_uniform_in_range_and_seeded():
    a = OnlineLSTM(5, 3, 4, 2, init_range=0.2, seed=3).theta_
    b = OnlineLSTM(5, 3, 4, 2, init_range=0.2, seed=3).theta_
    c = OnlineLSTM(5, 3, 4, 2, init_range=0.2, seed=4).theta_
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.all(np.abs(a) <= 0.2) and np.abs(a).max() > 0.15


@pytest.mark.parametrize("bad", [
    dict(n_in=0, n_out=1), dict(n_in=1, n_out=1, connectivity="X"), dict(n_in=1, n_out=1, bias="some"),
    dict(n_in=1, n_out=1, g="tanh"), dict(n_in=1, n_out=1, h="relu"), dict(n_in=1.5, n_out=1),
])
def test_bad_architecture_is_refused(bad):
    with pytest.raises(ValueError):
        Layout(**bad)


def test_gate_bias_needs_a_bias_unit():
    with pytest.raises(ValueError, match="bias"):
        OnlineLSTM(2, 1, 2, bias="none", in_gate_bias=-1.0)
    with pytest.raises(ValueError, match="output gates"):
        OnlineLSTM(2, 1, 2, output_gates=False, out_gate_bias=-1.0)
    with pytest.raises(ValueError, match="per block"):
        OnlineLSTM(2, 1, 2, in_gate_bias=(-1.0, -2.0, -3.0))


@pytest.mark.parametrize("name", list(ALL_ARCHS))
def test_kernel_reads_the_layout_table_it_was_given(name):
    from online_lstm import kernels

    lay = layout(ALL_ARCHS[name])
    mem = lay.make_mem()
    d, dx = kernels._dims(mem), kernels._dims_x(mem)
    for field, value in list(zip(d._fields, d)) + list(zip(dx._fields, dx)):
        assert int(value) == lay.meta[field], field
    assert kernels._has_options(mem) == (lay.forget_gate or lay.peepholes)


def test_mem_is_64_byte_aligned():
    for kw in ARCHS.values():
        assert OnlineLSTM(**kw, seed=0)._mem.ctypes.data % 64 == 0


@pytest.mark.parametrize("kw", [
    dict(n_in=7, n_out=7, n_blocks=3, block_size=2, bias="gates"),
    dict(n_in=3, n_out=2, n_blocks=2, block_size=3, bias="all"),
    dict(n_in=2, n_out=1, n_blocks=2, block_size=1, bias="hidden", output_gates=False),
    dict(n_in=4, n_out=3, n_blocks=1, block_size=2, bias="none"),
])
def test_1997_init_draws_in_the_first_release_order(kw):
    """A seed draws the same initial 1997 net as the first release did: one
    uniform vector read as H with hidden columns [in | out | cells], then
    [b_in | b_out], b_c, W_k, b_k (so recorded seeded results replay)."""
    from online_lstm import OnlineLSTM
    m = OnlineLSTM(**kw, init_range=0.2, in_gate_bias=None, out_gate_bias=None, seed=11)
    w = m.get_weights()
    C, CS = kw["n_blocks"], kw["n_blocks"] * kw["block_size"]
    n_og = C if kw.get("output_gates", True) else 0
    I_h = w["W_in"].shape[1]
    R = C + n_og + CS
    draw = np.random.default_rng(11).uniform(-0.2, 0.2, size=m.layout.n_params)
    H, pos = draw[:I_h * R].reshape(I_h, R), I_h * R
    np.testing.assert_array_equal(w["W_in"], H[:, :C].T)
    np.testing.assert_array_equal(w["W_c"], H[:, C + n_og:].T)
    if n_og:
        np.testing.assert_array_equal(w["W_out"], H[:, C:C + n_og].T)
    for name, size in (("b_in", C), ("b_out", n_og), ("b_c", CS)):
        if name in w:
            np.testing.assert_array_equal(w[name], draw[pos:pos + size])
            pos += size
    K, n_ob = w["W_k"].shape
    np.testing.assert_array_equal(w["W_k"], draw[pos:pos + n_ob * K].reshape(n_ob, K).T)
    pos += n_ob * K
    if "b_k" in w:
        np.testing.assert_array_equal(w["b_k"], draw[pos:pos + K])
        pos += K
    assert pos == m.layout.n_params
