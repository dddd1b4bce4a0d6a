"""Audit of the parameter layout and the by-name weight API (spec §2.3–§2.8,
§3.10, §7.1, §7.2): named weights against an own forward pass and own
finite differences, the documented flat order, views versus copies, and
refused sets leaving the learner bit for bit unchanged."""

import copy
import itertools
import math
import re

import numpy as np
import pytest

from online_lstm import OnlineLSTM
from online_lstm.errors import DivergenceError, InputError
from online_lstm.layout import Layout


def same_state(a, b):
    return a.keys() == b.keys() and all(a[k].tobytes() == b[k].tobytes() for k in a)


def sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def forward(lay, w, X, state=None):
    """Own forward pass from the named weights ``w`` (spec §2.3, §2.4; §7.1
    forget gate, §7.2 peepholes), written from the paper's equations with
    the sources of the layout docstring: z = [x | y_c | y_in | y_out] (F) or
    [x] (B), o = [y_c] (F) or [y_c | x] (B).  Returns the outputs of every
    step and the final (s_c, y_c, y_in, y_out)."""
    C, S = lay.n_blocks, lay.block_size
    CS = C * S
    og, fg, ph = lay.output_gates, lay.forget_gate, lay.peepholes
    g = (lambda a: 4 * sig(a) - 2) if lay.g == "g2" else sig
    h = (lambda a: 2 * sig(a) - 1) if lay.h == "h1" else (lambda a: a)
    if state is None:
        s, yc, yin, yout = np.zeros(CS), np.zeros(CS), np.zeros(C), np.zeros(C)
    else:
        s, yc, yin, yout = (np.array(state[k]) for k in ("s_c", "y_c", "y_in", "y_out"))
    outs = []
    for x in X:
        x = np.asarray(x, float)
        z = np.concatenate([x, yc, yin] + ([yout] if og else [])) if lay.connectivity == "F" else x
        s_prev = s.reshape(C, S)
        net_in = w["W_in"] @ z + w.get("b_in", 0.0)
        if ph:
            net_in = net_in + (w["P_in"] * s_prev).sum(axis=1)
        y_phi = np.ones(C)
        if fg:
            net_phi = w["W_phi"] @ z + w.get("b_phi", 0.0)
            if ph:
                net_phi = net_phi + (w["P_phi"] * s_prev).sum(axis=1)
            y_phi = sig(net_phi)
        net_c = w["W_c"] @ z + w.get("b_c", 0.0)
        yin = sig(net_in)
        s = np.repeat(y_phi, S) * s + np.repeat(yin, S) * g(net_c)
        yout = np.ones(C)
        if og:
            net_out = w["W_out"] @ z + w.get("b_out", 0.0)
            if ph:
                net_out = net_out + (w["P_out"] * s.reshape(C, S)).sum(axis=1)  # s_c(t)
            yout = sig(net_out)
        yc = np.repeat(yout, S) * h(s)
        o = np.concatenate([yc, x]) if lay.connectivity == "B" else yc
        outs.append(sig(w["W_k"] @ o + w.get("b_k", 0.0)))
    return np.array(outs), (s, yc, yin, yout)


ARCHES = [dict(zip(("connectivity", "output_gates", "bias", "forget_gate", "peepholes", "g", "h"), c))
          for c in [("F", True, "gates", False, False, "g2", "h1"),
                    ("F", True, "hidden", False, False, "g2", "h1"),
                    ("F", True, "all", True, True, "g2", "h1"),
                    ("F", False, "none", False, False, "g1", "id"),
                    ("F", False, "all", True, False, "g2", "id"),
                    ("F", True, "none", False, True, "g1", "h1"),
                    ("B", False, "none", False, False, "g1", "id"),  # Table 10 2a/2b
                    ("B", True, "all", True, True, "g2", "h1"),
                    ("B", True, "gates", False, False, "g2", "h1"),
                    ("B", False, "hidden", True, True, "g1", "h1")]]


def learner(arch, **kw):
    fgb = 1.0 if arch["forget_gate"] and arch["bias"] != "none" else None
    kw = dict(init_range=0.8, forget_gate_bias=fgb, seed=3) | kw
    return OnlineLSTM(3, 2, 2, 2, **arch, **kw)


def arch_id(a):
    return "-".join(f"{k}={v}" for k, v in a.items())


@pytest.mark.parametrize("arch", ARCHES, ids=arch_id)
def test_own_forward_pass_from_the_named_weights_matches_predict_one(arch):
    """The named weights mean what the layout docstring says
    (``W_c[j*S+v, m] = w_{c_j^v m}``, column m the source ``source_names[m]``,
    and so on): a forward pass written from the paper's equations with them
    gives predict_one's outputs and the state_ activations."""
    m = learner(arch)
    X = np.random.default_rng(1).normal(size=(6, 3))
    want, (s, yc, yin, yout) = forward(m.layout, m.get_weights(), X)
    got = np.array([m.predict_one(x) for x in X])
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-13)
    st = m.state_
    np.testing.assert_allclose(st["s_c"], s, rtol=0, atol=1e-13)
    np.testing.assert_allclose(st["y_c"], yc, rtol=0, atol=1e-13)
    np.testing.assert_allclose(st["y_in"], yin, rtol=0, atol=1e-13)
    if arch["output_gates"]:
        np.testing.assert_allclose(st["y_out"], yout, rtol=0, atol=1e-13)


def test_table10_2a_names_and_shapes_by_hand():
    """Experiment 2a (spec §2.8): B connectivity, no output gate, no bias:
    the cell and its input gate read the 101 inputs only; the 101 outputs
    read the cell and the 101 inputs; 101 + 101 + 101*102 = 10504."""
    m = OnlineLSTM(101, 101, 1, 1, output_gates=False, connectivity="B", bias="none", g="g1",
                   h="id", seed=0)
    shapes = {k: v.shape for k, v in m.get_weights().items()}
    assert shapes == {"W_in": (1, 101), "W_c": (1, 101), "W_k": (101, 102)}
    assert m.n_params == 10504 == sum(math.prod(s) for s in shapes.values())
    assert m.layout.output_source_names == ["y_c[0,0]"] + [f"x[{i}]" for i in range(101)]
    for bad in ("W_out", "b_in", "b_out", "b_c", "b_k", "W_phi", "P_in"):
        with pytest.raises(InputError, match=rf"unknown parameter '{bad}'"):
            m.set_weights({bad: np.zeros(1)})


def test_table10_1_1_names_by_hand():
    """Experiment 1 (4 blocks of 1, bias "ga"): sources 7 inputs, 4 cells, 4
    input gates, 4 output gates in that order; biases on the gates only."""
    m = OnlineLSTM(7, 7, 4, 1, bias="gates", seed=0)
    lay = m.layout
    assert lay.source_names == ([f"x[{i}]" for i in range(7)] + [f"y_c[{j},0]" for j in range(4)]
                                + [f"y_in[{j}]" for j in range(4)] + [f"y_out[{j}]" for j in range(4)])
    assert {k: v.shape for k, v in m.get_weights().items()} == {
        "W_in": (4, 19), "W_out": (4, 19), "W_c": (4, 19), "W_k": (7, 4), "b_in": (4,), "b_out": (4,)}
    assert m.n_params == 264


@pytest.mark.parametrize("kw", [dict(bias="all", forget_gate=True, peepholes=True),
                                dict(bias="gates", output_gates=False),
                                dict(bias="hidden", connectivity="B"),
                                dict(bias="none", forget_gate=True, forget_gate_bias=None)],
                         ids=["fg-ph-all", "no-og-ga", "B-b1", "fg-none"])
def test_flat_vector_is_in_the_documented_order(kw):
    """theta_ = [ H (I_h, R) | b_in | b_phi | b_c | b_out | P | Wk (n_ob, K) | b_k ]
    with H source-major and its columns [in | phi | cells | out], P =
    [P_in | P_phi | P_out] block-major (layout docstring), rebuilt here from
    the named weights."""
    m = OnlineLSTM(3, 2, 2, 2, init_range=1.0, seed=4, **kw)
    w = m.get_weights()
    H_cols = [w[n] for n in ("W_in", "W_phi", "W_c", "W_out") if n in w]  # each (units, I_h)
    parts = [np.vstack(H_cols).T.ravel()]  # source-major: row m of H is source m
    parts += [w[n] for n in ("b_in", "b_phi", "b_c", "b_out") if n in w]
    parts += [w[n].ravel() for n in ("P_in", "P_phi", "P_out") if n in w]
    parts += [w["W_k"].T.ravel()]  # Wk[q, k] = w_{k q}, stored (n_ob, K)
    parts += [w["b_k"]] if "b_k" in w else []
    assert np.array_equal(np.concatenate(parts), m.theta_)
    # and every named parameter is a distinct part of theta (set one, only it moves)
    for name, v in w.items():
        m2 = copy.deepcopy(m)
        m2.set_weights({name: v + 1.0})
        changed = m2.theta_ != m.theta_
        assert changed.sum() == v.size, name


def fd_traces(lay, w, X, name, eps=1e-6):
    """d s_c(T) / d w by central differences of :func:`forward`, in the
    orientation of state_'s traces: (cell j*S+v, source), the bias last."""
    C, S = lay.n_blocks, lay.block_size
    bname = {"W_in": "b_in", "W_c": "b_c", "W_phi": "b_phi"}.get(name)
    rows, n_src = w[name].shape
    cols = n_src + (1 if bname in w else 0)
    out = np.zeros((C * S, cols))
    for r, q in itertools.product(range(rows), range(cols)):
        ds = []
        for sgn in (1.0, -1.0):
            ww = {k: v.copy() for k, v in w.items()}
            if q < n_src:
                ww[name][r, q] += sgn * eps
            else:
                ww[bname][r] += sgn * eps
            ds.append(forward(lay, ww, X)[1][0])
        d = (ds[0] - ds[1]) / (2 * eps)
        if name == "W_c":
            out[r, q] = d[r]  # a cell's trace: its own weights only
        else:  # a block's gate: the cells of block r
            out[r * S:(r + 1) * S, q] = d[r * S:(r + 1) * S]
    return out


@pytest.mark.parametrize("kw,T", [(dict(connectivity="B", bias="all"), 5),
                                  (dict(connectivity="B", bias="none", forget_gate=True,
                                        forget_gate_bias=None), 5),
                                  (dict(connectivity="B", bias="gates", forget_gate=True), 4),
                                  (dict(connectivity="F", bias="hidden", forget_gate=True), 1),
                                  (dict(connectivity="F", bias="gates"), 1)],
                         ids=["B-all", "B-none-fg", "B-ga-fg", "F-b1-fg-t1", "F-ga-t1"])
def test_traces_by_name_are_derivatives_of_the_state(kw, T):
    """state_'s T_in, T_c, T_phi: row j*S+v, column m is ds_{c_j^v}/dw of
    source m (bias last), spec §3.5, §7.1.  Where the truncation cuts
    nothing (B connectivity; the first step of F) they are the exact
    derivatives, checked here by finite differences of the own forward pass."""
    m = OnlineLSTM(3, 2, 2, 2, init_range=0.8, seed=5, **kw)
    lay, w = m.layout, m.get_weights()
    X = np.random.default_rng(2).normal(size=(T, 3))
    for x in X:
        m.predict_one(x)
    st = m.state_
    pairs = [("T_in", "W_in"), ("T_c", "W_c")] + ([("T_phi", "W_phi")] if lay.forget_gate else [])
    for key, name in pairs:
        np.testing.assert_allclose(st[key], fd_traces(lay, w, X, name), rtol=0, atol=1e-8,
                                   err_msg=key)


@pytest.mark.parametrize("fg", [False, True])
def test_peephole_traces_by_name(fg):
    """T_P_in[j*S+v, v'] = ds_{c_j^v}/dw_{in_j c_j^v'} (and T_P_phi), spec §7.2;
    exact at step 2 of a B net (s_c(1) does not depend on the peepholes)."""
    m = OnlineLSTM(3, 2, 2, 2, connectivity="B", bias="all", forget_gate=fg, peepholes=True,
                   init_range=0.8, seed=5)
    lay, w = m.layout, m.get_weights()
    X = np.random.default_rng(2).normal(size=(2, 3))
    for x in X:
        m.predict_one(x)
    st = m.state_
    for key, name in [("T_P_in", "P_in")] + ([("T_P_phi", "P_phi")] if fg else []):
        want = fd_traces(lay, w, X, name)
        assert np.abs(want).max() > 1e-3  # not trivially zero
        np.testing.assert_allclose(st[key], want, rtol=0, atol=1e-8, err_msg=key)


# ----------------------------------------------------------------------
# views and copies
# ----------------------------------------------------------------------
def _trained(**kw):
    m = OnlineLSTM(2, 2, 2, 2, bias="all", forget_gate=True, peepholes=True, seed=0, **kw)
    rng = np.random.default_rng(0)
    for _ in range(4):
        m.learn_one(rng.normal(size=2), rng.uniform(size=2))
    return m


def test_weights_views_cannot_be_made_writeable():
    """weights are documented read-only views.  Setting the flag back to True
    must fail too: a write through such a view would put a weight beyond
    1e150 behind the bound on max|theta| the kernels rely on."""
    m = _trained()
    before = m.state_arrays()
    for name, v in m.weights.items():
        with pytest.raises(ValueError):
            v.flags.writeable = True
        with pytest.raises(ValueError):
            v[...] = 1e200
        for sub in (v[:1], v.T, v.reshape(-1) if v.ndim == 1 else v[0]):
            with pytest.raises(ValueError):
                sub.flags.writeable = True
    assert same_state(before, m.state_arrays())


def test_views_follow_the_learner_and_copies_do_not_alias():
    m = _trained()
    views, copies, theta = m.weights, m.get_weights(), m.theta_
    st = m.state_
    for name in copies:
        copies[name][...] = 7.0
    theta[...] = 7.0
    for v in st.values():
        v[...] = 7.0
    assert np.array_equal(m.theta_, _trained().theta_)  # nothing reached the learner
    assert same_state(m.state_arrays(), _trained().state_arrays())
    m.learn_one([1.0, -1.0], [0.0, 1.0])
    for name, v in views.items():  # the views show the new weights
        assert np.array_equal(v, m.get_weights()[name])
    assert not np.array_equal(views["W_k"], _trained().get_weights()["W_k"])
    m.set_weights(W_k=np.zeros((2, 4)))
    assert not views["W_k"].any()
    assert set(views) == set(copies) == set(m.layout.shapes) == set(m.gradient([[0.0, 1.0]], [[1.0, 0.0]]))


# ----------------------------------------------------------------------
# set_weights: refusals and conversions
# ----------------------------------------------------------------------
#: case -> (bad weights, what the refusal must say: the parameter and the reason)
_SHAPE_W_IN = r"W_in must (have|be 2-D with) shape \(2, 8\)"
_DTYPE = r"b_in must hold real numbers that convert to float64 without loss"
BAD = {
    # names this architecture does not have
    "W_out without output gates": ({"W_out": np.zeros((2, 8))}, "unknown parameter 'W_out'"),
    "b_c with bias 'ga'": ({"b_c": np.zeros(4)}, "unknown parameter 'b_c'"),
    "b_k with bias 'ga'": ({"b_k": np.zeros(1)}, "unknown parameter 'b_k'"),
    "W_phi without forget gate": ({"W_phi": np.zeros((2, 8))}, "unknown parameter 'W_phi'"),
    "P_in without peepholes": ({"P_in": np.zeros((2, 2))}, "unknown parameter 'P_in'"),
    "typo": ({"w_in": np.zeros((2, 8))}, "unknown parameter 'w_in'"),
    "non-string name": ({1: np.zeros(2)}, "unknown parameter 1;"),
    # wrong shape, dtype, values
    "transposed": ({"W_in": np.zeros((8, 2))}, _SHAPE_W_IN + r".*\(8, 2\)"),
    "flat": ({"W_in": np.zeros(16)}, _SHAPE_W_IN + r".*\(16,\)"),
    "0-d for (2,)": ({"b_in": np.float64(1.0)}, r"b_in must be 1-D with shape \(2,\); got shape \(\)"),
    "number for (2,)": ({"b_in": 1.0}, r"b_in must be 1-D with shape \(2,\); got shape \(\)"),
    "broadcastable row": ({"W_in": np.zeros((1, 8))}, _SHAPE_W_IN + r".*\(1, 8\)"),
    "NaN": ({"b_in": [0.0, np.nan]}, "b_in must be finite"),
    "inf": ({"b_in": [np.inf, 0.0]}, "b_in must be finite"),
    "beyond 1e150": ({"b_in": [1.0000001e150, 0.0]}, r"b_in has entries beyond 1e\+150"),
    "complex": ({"b_in": np.zeros(2, complex)}, _DTYPE + ".*complex128"),
    "string": ({"b_in": ["1", "2"]}, _DTYPE + ".*<U1"),
    "None": ({"b_in": None}, "b_in must be an array of real numbers.*NoneType"),
    "ragged": ({"W_k": [[1.0, 2.0, 3.0, 4.0], [1.0]]}, r"W_k must be an array of shape \(1, 4\)"),
    "int beyond 2**53": ({"b_in": np.array([2**60, 0])}, r"b_in holds integers beyond 2\*\*53"),
    "long double": ({"b_in": np.ones(2, dtype=np.longdouble)}, _DTYPE),
    # a masked entry reads as NaN (not finite), never as the number under the mask
    "masked entry": ({"b_in": np.ma.masked_array([1.0, 2.0], mask=[False, True])}, "b_in must be finite"),
    # one good, one bad: nothing written
    "good then bad": ({"W_in": np.ones((2, 8)), "W_c": np.ones((3, 8))},
                      r"W_c must have shape \(4, 8\); got \(3, 8\)"),
    "bad then good": ({"W_c": np.ones((3, 8)), "W_in": np.ones((2, 8))},
                      r"W_c must have shape \(4, 8\); got \(3, 8\)"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_refused_set_weights_changes_nothing(case):
    """Each bad value is refused for its own reason (the message names the
    parameter and what is wrong with it, not whatever check came first),
    and the learner is left bit for bit as it was."""
    bad, says = BAD[case]
    m = OnlineLSTM(2, 1, 2, 2, bias="gates", output_gates=False, seed=0)
    for i in range(3):
        m.predict_one([0.3, i])  # mid-sequence, a step pending
    before = m.state_arrays()
    with pytest.raises(InputError, match=says):
        m.set_weights(bad)
    assert same_state(before, m.state_arrays())
    m2 = copy.deepcopy(m)  # keywords as well as a dict
    name = next(iter(bad))
    if isinstance(name, str):
        with pytest.raises(InputError, match=says):
            m2.set_weights(**bad)
        assert same_state(before, m2.state_arrays())


def test_set_weights_converts_lists_ints_float32_bools_and_strided_arrays_exactly():
    m = OnlineLSTM(2, 1, 2, 2, bias="gates", output_gates=False, seed=0)
    base = np.arange(32.0).reshape(4, 8) / 8
    cases = {
        "strided": base[::2],
        "fortran": np.asfortranarray(base[:2]),
        "reversed": base[:2, ::-1],
        "float32": base[:2].astype(np.float32),
        "list": base[:2].tolist(),
        "int": np.arange(16).reshape(2, 8),
        "bool": np.eye(2, 8, dtype=bool),
        "read-only": m.weights["W_in"] * 2,
    }
    for name, value in cases.items():
        m.set_weights(W_in=value)
        assert np.array_equal(m.get_weights()["W_in"], np.asarray(value, dtype=np.float64)), name
        assert m.get_weights()["W_in"].dtype == np.float64
    ro = np.arange(2.0)
    ro.flags.writeable = False
    m.set_weights(b_in=ro)
    assert np.array_equal(m.get_weights()["b_in"], ro)
    m.set_weights(b_in=np.float32([0.5, -0.25]), W_k=[[1, 2, 3, 4]])
    assert m.get_weights()["b_in"].tolist() == [0.5, -0.25]
    assert m.get_weights()["W_k"].tolist() == [[1.0, 2.0, 3.0, 4.0]]
    m.set_weights(b_in=[1e150, -1e150])  # at the bound: accepted
    assert m.get_weights()["b_in"].tolist() == [1e150, -1e150]


def test_a_round_trip_through_get_weights_keeps_every_weight():
    m = _trained()
    w, theta = m.get_weights(), m.theta_
    m.set_weights(w)
    assert m.theta_.tobytes() == theta.tobytes()
    m.set_weights(m.weights)  # its own read-only views
    assert m.theta_.tobytes() == theta.tobytes()


# ----------------------------------------------------------------------
# set_weights mid-sequence, with accumulation, after divergence
# ----------------------------------------------------------------------
@pytest.mark.parametrize("arch", [ARCHES[0], ARCHES[2], ARCHES[7]], ids=arch_id)
def test_weights_set_mid_sequence_act_from_the_next_step_on_the_kept_state(arch):
    m = learner(arch)
    rng = np.random.default_rng(7)
    for x in rng.normal(size=(3, 3)):
        m.predict_one(x)
    st = m.state_
    before_T = st["T_in"].copy()
    new = {k: rng.uniform(-0.9, 0.9, size=v.shape) for k, v in m.get_weights().items()}
    m.set_weights(new)
    assert np.array_equal(m.state_["s_c"], st["s_c"]) and np.array_equal(m.state_["T_in"], before_T)
    X = rng.normal(size=(3, 3))
    want, _ = forward(m.layout, new, X, state=st)
    got = np.array([m.predict_one(x) for x in X])
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-13)


def test_with_update_sequence_the_accumulated_change_lands_on_the_new_weights():
    m = OnlineLSTM(2, 1, 2, 1, update="sequence", lr=1.0, seed=0)
    for i in range(3):
        m.learn_one([1.0, i], 1.0)
    dW = m.state_arrays()["dW"]
    assert np.abs(dW).max() > 0
    new = {k: np.full(v.shape, 0.25) for k, v in m.get_weights().items()}
    m.set_weights(new)
    theta_new = m.theta_
    m.reset()
    assert np.array_equal(m.theta_, theta_new + dW)


def test_set_weights_after_a_divergence_recovers_the_learner():
    """A refused step leaves the last good state; set_weights then repairs
    the net and the stream goes on."""
    m = OnlineLSTM(1, 1, 1, 1, bias="gates", state_bound=3.0, seed=0)
    m.set_weights(W_c=[[5.0, 5.0, 0.0, 0.0]], W_in=np.zeros((1, 4)), b_in=[10.0])
    good = None
    with pytest.raises(DivergenceError):
        for _ in range(10):
            good = m.state_arrays()
            m.learn_one([1.0], 0.5)
    assert same_state(good, m.state_arrays())
    m.set_weights(W_c=[[0.1, 0.0, 0.0, 0.0]], b_in=[-2.0])
    m.reset()
    for _ in range(10):
        m.learn_one([1.0], 0.5)
    assert np.all(np.abs(m.state_["s_c"]) <= 3.0)


def test_weights_come_in_the_documented_order_with_the_documented_shapes():
    """OnlineLSTM.weights docstring: W_in, W_phi, W_out, W_c, W_k, b_in,
    b_phi, b_out, b_c, b_k, P_in, P_phi, P_out, each where the net has it."""
    n_in, K, C, S = 3, 2, 2, 2
    I_h = n_in + C * S + 2 * C
    m = OnlineLSTM(n_in, K, C, S, bias="all", forget_gate=True, peepholes=True, seed=0)
    assert [(k, v.shape) for k, v in m.weights.items()] == [
        ("W_in", (C, I_h)), ("W_phi", (C, I_h)), ("W_out", (C, I_h)), ("W_c", (C * S, I_h)),
        ("W_k", (K, C * S)), ("b_in", (C,)), ("b_phi", (C,)), ("b_out", (C,)), ("b_c", (C * S,)),
        ("b_k", (K,)), ("P_in", (C, S)), ("P_phi", (C, S)), ("P_out", (C, S))]
    assert list(m.get_weights()) == list(m.weights)


@pytest.mark.parametrize("theta, got", [
    (np.zeros(3), "float64 array of shape (3,)"),
    (np.zeros(100), "float64 array of shape (100,)"),
    (np.zeros((1, 18)), "float64 array of shape (1, 18)"),
    (np.zeros(18, np.float32), "float32 array of shape (18,)"),
    ([0.0] * 18, "list"),
])
def test_weight_view_refuses_a_theta_of_another_net(theta, got):
    # a short theta gave an empty view, a long one a view of the wrong numbers
    lay = Layout(2, 1, 1, 1)
    assert lay.n_params == 18  # 5 sources x 3 hidden units + 2 gate biases + 1 output weight
    with pytest.raises(ValueError, match=re.escape(f"n_params = 18 numbers; got a {got}")):
        lay.weight_view(theta, "b_in")


def test_param_names_docstring_does_not_claim_the_flat_order():
    lay = Layout(2, 1, 1, 1)
    assert lay.param_names == ["W_in", "W_out", "W_c", "W_k", "b_in", "b_out"]
    starts = {n: lay.weight_view(np.arange(lay.n_params, dtype=float), n).min() for n in lay.shapes}
    assert sorted(starts, key=starts.get) != lay.param_names  # so the docstring must not say so
    assert "not their order in the flat" in Layout.param_names.__doc__


@pytest.mark.parametrize("sizes, says", [
    ((2**70, 1), "n_in=1180591620717411303424, n_out=1, n_blocks=1, block_size=1, max_delay=0 need "
                 "1.3e+22 numbers of state; a layout holds fewer than 2**53"),
    ((2, 1, 2**20, 2**20), "n_blocks=1048576, block_size=1048576, max_delay=0 need"),
])
def test_sizes_whose_layout_cannot_be_addressed_are_refused_by_name(sizes, says):
    # NumPy said "Maximum allowed dimension exceeded" (naming no argument)
    with pytest.raises(ValueError, match=re.escape(says)):
        OnlineLSTM(*sizes)


def test_sizes_beyond_memory_name_the_sizes_and_the_memory(monkeypatch):
    # (2**40, 1) fits the layout (2**53) but not memory: NumPy's MemoryError
    # named 24 TiB and no argument.  Forced here, not allocated for real.
    import online_lstm.layout as layout_mod

    def no_memory(n):
        raise MemoryError("Unable to allocate")

    monkeypatch.setattr(layout_mod, "aligned_zeros", no_memory)
    lay = Layout(3, 2, 1, 1)
    with pytest.raises(MemoryError, match=re.escape(
            f"n_in=3, n_out=2, n_blocks=1, block_size=1 give {lay.n_params:,} weights, and a learner "
            f"needs {lay.mem_size:,} float64 numbers")):
        OnlineLSTM(3, 2)


def test_slot_offset_needs_slots_and_integer_steps():
    # with max_delay=0 it took np.mod(t, 0) (a RuntimeWarning) and gave an
    # offset of a slot that does not exist; a float step gave a float offset
    with pytest.raises(ValueError, match="max_delay=0 keeps no step snapshots"):
        Layout(2, 1).slot_offset(0)
    lay = Layout(2, 1, max_delay=2)
    for t in (2.5, np.array([1.0, 2.0]), True):
        with pytest.raises(ValueError, match="t must be an int or an int array"):
            lay.slot_offset(t)
    size, first = lay.meta["slot_size"], lay.meta["slots"]
    assert lay.slot_offset(4) == first + 1 * size  # 3 slots: step 4 uses slot 1
    np.testing.assert_array_equal(lay.slot_offset(np.array([0, 3, 5])), first + np.array([0, 0, 2]) * size)
