"""Third audit of :func:`online_lstm.widen.widen`: exact equivalence with a
learner built wide from the start where the earlier tests did not look.

``tests/test_widen.py`` compares with a wide learner for every architecture
but without delayed targets (``max_delay=0``); ``tests/test_widen_audit2.py``
checks, with delayed targets, only that the old units are untouched.  Here a
learner with ``max_delay > 0`` and several steps waiting for their targets,
with forget gates and peepholes, accumulating until the sequence ends, is
widened (once, twice in a row, by nothing) and compared bit for bit with a
learner built wide from the start, fed the same stream with the new inputs at 0
and no target for the new outputs: every state array, the snapshots included
(all but the header's bound on max|theta|, documented as the one difference),
after the widening and after each later call, learn_delayed on the new outputs
of the waiting steps included.  Then the same through the River classifier,
with a feature and a class that appear mid-stream while labels are delayed.
"""

import numpy as np
import pytest

from online_lstm import OnlineLSTM
from online_lstm.errors import InputError, NoPendingStepError
from online_lstm.layout import H_WMAX
from online_lstm.widen import widen

from conftest import ARCHS_X
from test_widen import _reference


def _ops(rng, n, k, T, D, keep_open):
    """A random stream of calls.  ``keep_open``: output 0 never gets a target, so
    every step keeps its snapshot (the documented exception of widen: a step whose
    every output has its target keeps none, so its new outputs stay closed)."""
    out = []
    for _ in range(T):
        u = rng.random()
        x = rng.uniform(-1, 1, n)
        y = rng.uniform(0, 1, k)
        y[rng.random(k) < 0.3] = np.nan
        if keep_open:
            y[0] = np.nan
        out.append(("reset",) if u < 0.05 else ("learn_one", x, y) if u < 0.45 else ("predict_one", x))
        if rng.random() < 0.5:
            yy = rng.uniform(0, 1, k)
            yy[rng.random(k) < 0.4] = np.nan
            if keep_open:
                yy[0] = np.nan
            out.append(("learn_delayed", yy, int(rng.integers(0, D + 1))))
    return out


def _apply(m, op):
    def pad(v, fill, n):
        return np.concatenate([v, np.full(n - len(v), fill)])

    name = op[0]
    try:
        if name == "reset":
            m.reset()
        elif name == "learn_one":
            return m.learn_one(pad(op[1], 0.0, m.layout.n_in), pad(op[2], np.nan, m.layout.n_out)).copy()
        elif name == "predict_one":
            return m.predict_one(pad(op[1], 0.0, m.layout.n_in)).copy()
        elif op[2] <= min(m.layout.max_delay, m.n_steps_ - 1):
            m.learn_delayed(pad(op[1], np.nan, m.layout.n_out), op[2])
    except (NoPendingStepError, InputError) as exc:  # a unit that had its target: both must refuse
        return type(exc).__name__
    return None


def _assert_same(a, b, where):
    sa, sb = a.state_arrays(), b.state_arrays()
    assert sa.keys() == sb.keys()
    for key in sa:
        x, y = sa[key], sb[key]
        if key == "header":  # the bound on max|theta|: any valid bound (module docstring)
            x, y = x.copy(), y.copy()
            x[H_WMAX] = y[H_WMAX] = 0.0
        np.testing.assert_array_equal(x, y, err_msg=f"{where}: {key}")


def _widen_by(n0, k0):
    return {"once": [(n0 + 2, k0 + 1)], "twice": [(n0 + 1, k0), (n0 + 1, k0 + 2)],
            "outputs only": [(n0, k0 + 1)], "by nothing": [(n0, k0)]}


@pytest.mark.parametrize("how", ["once", "twice", "outputs only", "by nothing"])
@pytest.mark.parametrize("update", ["step", "sequence"])
@pytest.mark.parametrize("max_delay", [1, 3])
@pytest.mark.parametrize("name", [n for n, a in ARCHS_X.items() if a["n_out"] > 1])
def test_widening_with_delayed_targets_waiting_equals_a_learner_wide_from_the_start(name, max_delay,
                                                                                     update, how):
    rng = np.random.default_rng(len(name) + max_delay)
    arch = dict(ARCHS_X[name], init_range=0.5, lr=0.3, seed=1, max_delay=max_delay, update=update)
    n0, k0 = arch["n_in"], arch["n_out"]
    narrow = OnlineLSTM(**arch)
    w0 = dict(narrow.get_weights(), _n_in=n0, _n_out=k0)
    before = _ops(rng, n0, k0, 50, max_delay, keep_open=True)
    for op in before:
        _apply(narrow, op)
    before.append(("predict_one", rng.uniform(-1, 1, n0)))  # the last step waits too
    _apply(narrow, before[-1])
    wide = narrow
    for n1, k1 in _widen_by(n0, k0)[how]:
        wide = widen(wide, n_in=n1, n_out=k1)
    n1, k1 = wide.layout.n_in, wide.layout.n_out
    ref = _reference(w0, wide, dict(arch, n_in=n1, n_out=k1))
    for op in before:
        _apply(ref, op)
    _assert_same(wide, ref, "after widening")
    if k1 > k0:  # the new outputs of every waiting step are open, as in the wide learner
        for age in range(min(max_delay, wide.n_steps_ - 1) + 1):
            assert wide.open_targets(age)[k0:].all()
    after = _ops(rng, n1, k1, 50, max_delay, keep_open=False)
    n_delayed = 0
    for i, op in enumerate(after):
        got, want = _apply(wide, op), _apply(ref, op)
        if isinstance(want, np.ndarray):
            np.testing.assert_array_equal(got, want, err_msg=f"call {i}")
        else:
            assert got == want, f"call {i}"
        n_delayed += op[0] == "learn_delayed" and want is None
        _assert_same(wide, ref, f"call {i} ({op[0]})")
    assert n_delayed > 5  # not vacuous: delayed targets were learned



def test_a_step_closed_before_the_widening_keeps_its_new_outputs_closed():
    """The documented exception: a step whose every output had its target keeps
    no snapshot, so its new outputs cannot take one (the waiting steps' can)."""
    m = OnlineLSTM(2, 2, 2, 1, seed=0, max_delay=2)
    m.learn_one([0.5, -0.5], [0.2, 0.8])  # closed
    m.predict_one([0.1, 0.3])  # open
    w = widen(m, n_out=3)
    assert list(w.open_targets(1)) == [False, False, False]
    assert list(w.open_targets(0)) == [True, True, True]
    with pytest.raises(NoPendingStepError):
        w.learn_delayed([np.nan, np.nan, 0.5], 1)
    w.learn_delayed([np.nan, np.nan, 0.5], 0)


@pytest.mark.parametrize("update", ["step", "sequence"])
@pytest.mark.parametrize("max_delay", [1, 3])
def test_river_classifier_with_a_feature_and_a_class_appearing_while_labels_are_delayed(max_delay,
                                                                                        update):
    """Through the River adapter: feature "b" appears at observation 12 and class
    "z" at the label of observation 20, while max_delay steps wait for their
    labels (forget gates, peepholes).  The adapter's learner is, bit for bit, a
    learner built with 2 inputs and 3 outputs from the start, given the adapter's
    initial weights and each new unit's weights as drawn at its widening, fed the
    encoded stream: "b" at 0 before it appeared, no target for a class's unit
    before the class was registered."""
    pytest.importorskip("river")
    from online_lstm.river import LSTMClassifier

    arch = dict(n_blocks=2, block_size=2, forget_gate=True, peepholes=True, init_range=0.5,
                update=update, max_delay=max_delay)
    model = LSTMClassifier(seed=3, **arch)
    w_init = model.learner_.get_weights()
    added = []  # the learner right after each widening: the new units' initial weights
    widen_model = model._widen

    def spy(n_in=None, n_out=None):
        widen_model(n_in=n_in, n_out=n_out)
        added.append(model.learner_.get_weights())

    model._widen = spy
    rng = np.random.default_rng(0)
    stream = [({"a": float(rng.normal())} | ({"b": float(rng.normal())} if t >= 12 else {}),
               "xy"[t % 2] if t < 20 else "xyz"[t % 3]) for t in range(40)]
    calls = []
    for t, (x, _) in enumerate(stream):
        model.predict_proba_one(x)
        calls.append(("predict", [x.get("a", 0.0), x.get("b", 0.0)]))
        if t >= max_delay:
            xx, yy = stream[t - max_delay]
            model.learn_one(xx, yy)
            target = np.full(3, np.nan)
            target[: model.learner_.layout.n_out] = 0.0  # the classes registered by then
            target[model.classes_.index(yy)] = 1.0
            calls.append(("label", target))
    assert model.feature_names_ == ["a", "b"] and model.classes_ == ["x", "y", "z"]
    assert [(w["W_c"].shape[1], w["W_k"].shape[0]) for w in added][-1:] == [(model.learner_.layout.I_h, 3)]
    assert len(added) == 3  # class "y", feature "b", class "z"

    ref = OnlineLSTM(2, 3, seed=0, lr=model.lr, **arch)
    lay = ref.layout

    def lay_of(n_in, n_out):
        return OnlineLSTM(n_in, n_out, **arch).layout

    w = ref.get_weights()
    h0 = [lay.source_names.index(s) for s in lay_of(1, 1).source_names]
    k0 = [lay.output_source_names.index(s) for s in lay_of(1, 1).output_source_names]
    for name, v in w_init.items():  # the units there from the start
        if name in ("W_in", "W_phi", "W_out", "W_c"):
            w[name][:, h0] = v
        elif name == "W_k":
            w[name][:1, k0] = v[:1]
        else:
            w[name][: v.shape[0]] = v
    b_src = "x[1]"  # input "b"
    assert b_src in lay.source_names and b_src not in lay_of(1, 3).source_names
    for name in ("W_in", "W_phi", "W_out", "W_c"):
        w[name][:, lay.source_names.index(b_src)] = added[1][name][:, lay_of(2, 2).source_names.index(b_src)]
    k1 = [lay.output_source_names.index(s) for s in lay_of(1, 2).output_source_names]
    w["W_k"][1, k1] = added[0]["W_k"][1]  # class "y"
    w["W_k"][2] = added[2]["W_k"][2]  # class "z"
    if "b_k" in w:
        w["b_k"][1], w["b_k"][2] = added[0]["b_k"][1], added[2]["b_k"][2]
    ref.set_weights(w)
    for kind, v in calls:
        if kind == "predict":
            ref.predict_one(v)
        else:
            ref.learn_delayed(v, max_delay)
    _assert_same(model.learner_, ref, "end of the stream")
