"""Second audit of :func:`online_lstm.widen.widen`.

Checked independently of ``tests/test_widen.py`` (which compares with a net
built wide from the start): a widened learner whose new inputs stay 0 and
whose new outputs get no target is, on its old units, the learner it was
widened from, bit for bit, step after step (outputs, weights, accumulated
update, states, traces, counters, open delayed targets), for every option;
and the edges of the interface (no new units, refused arguments, the new
weights' range and seeding, checkpoints, the divergence record).
"""

import copy
import itertools
import pickle
import re

import numpy as np
import pytest

from online_lstm import OnlineLSTM
from online_lstm.errors import InputError, NoPendingStepError
from online_lstm.widen import widen

N0, K0 = 2, 2


def _named(lay, flat):
    return {name: lay.weight_view(flat, name) for name in lay.shapes}


def _old_part(narrow, wide):
    """wide's weights, accumulated update, states and traces, restricted to
    narrow's units (by source name), next to narrow's own."""
    ln, lw = narrow.layout, wide.layout
    hc = [lw.source_names.index(s) for s in ln.source_names]
    kc = [lw.output_source_names.index(s) for s in ln.output_source_names]
    a, b = {}, {}
    sn, sw = narrow.state_arrays(), wide.state_arrays()
    for key in ("theta", "dW"):
        for name, v in _named(ln, sn[key]).items():
            w = lw.weight_view(sw[key], name)
            if name in ("W_in", "W_phi", "W_out", "W_c"):
                w = w[:, hc]
            elif name == "W_k":
                w = w[: ln.n_out][:, kc]
            else:
                w = w[: v.shape[0]]
            a[key + name], b[key + name] = v, w
    for k, v in wide.state_.items():
        if k in ("T_in", "T_c", "T_phi"):  # source columns, then the bias column
            v = np.concatenate([v[:, hc], v[:, lw.I_h:]], axis=1)
        elif k == "y_k":
            v = v[: ln.n_out]
        b[k] = v
    a.update(narrow.state_)
    return a, b


def _counters(m):
    return (m.n_steps_, m.n_updates_, m.n_resets_, m.seq_step_, m.pending_, m.n_divergences_)


def _assert_old_units_same(narrow, wide, where):
    a, b = _old_part(narrow, wide)
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=f"{where}: {k}")
    assert _counters(narrow) == _counters(wide), where
    D = narrow.layout.max_delay
    for age in range(min(D, narrow.n_steps_ - 1) + 1) if D else ():
        np.testing.assert_array_equal(narrow.open_targets(age),
                                      wide.open_targets(age)[: narrow.layout.n_out], err_msg=where)


def _same_outcome(narrow, wide, call):
    """call(m) on both: both succeed or both raise the same exception type."""
    got = []
    for m in (narrow, wide):
        try:
            call(m)
            got.append(None)
        except (NoPendingStepError, InputError) as e:
            got.append(type(e))
    assert got[0] == got[1], got


def _stream_step(rng, narrow, wide, D):
    x = rng.uniform(-1, 1, N0)
    if rng.random() < 0.3:
        x[rng.integers(N0)] = 0.0
    y = rng.uniform(0, 1, K0)
    y[rng.random(K0) < 0.3] = np.nan
    ms = [narrow] if wide is None else [narrow, wide]

    def pad(m, v, fill, n):
        return v if m is narrow else np.concatenate([v, np.full(n(m) - len(v), fill)])

    def px(m, v):
        return pad(m, v, 0.0, lambda m: m.layout.n_in)

    def py(m, v):
        return pad(m, v, np.nan, lambda m: m.layout.n_out)

    u = rng.random()
    if u < 0.07:
        for m in ms:
            m.reset()
    else:
        if u < 0.5:
            outs = [m.learn_one(px(m, x), py(m, y)) for m in ms]
        else:
            outs = [m.predict_one(px(m, x)) for m in ms]
        if wide is not None:
            np.testing.assert_array_equal(outs[0], outs[1][:K0])
    if rng.random() < 0.4 and narrow.n_steps_ > 0:
        if D:
            age = int(rng.integers(0, min(D, narrow.n_steps_ - 1) + 1))
            yy = rng.uniform(0, 1, K0)
            yy[rng.random(K0) < 0.3] = np.nan
            call = lambda m: m.learn_delayed(py(m, yy), age)  # noqa: E731
        else:
            call = lambda m: m.learn_last(py(m, y))  # noqa: E731
        if wide is None:
            try:
                call(narrow)
            except (NoPendingStepError, InputError):
                pass
        else:
            _same_outcome(narrow, wide, call)


def _run(opts, seed, widen_to=((N0 + 2, K0 + 1),)):
    rng = np.random.default_rng(seed)
    narrow = OnlineLSTM(N0, K0, n_blocks=2, block_size=2, init_range=0.5, lr=0.5, seed=seed, **opts)
    D = opts["max_delay"]
    for _ in range(40):  # wraps the snapshot ring, with resets and open targets
        _stream_step(rng, narrow, None, D)
    narrow.predict_one(rng.uniform(-1, 1, N0))  # a pending step across the widening
    wide = narrow
    for n_in, n_out in widen_to:
        wide = widen(wide, n_in=n_in, n_out=n_out)
    _assert_old_units_same(narrow, wide, "after widening")
    for t in range(40):
        _stream_step(rng, narrow, wide, D)
        _assert_old_units_same(narrow, wide, f"step {t}")
    narrow.reset()
    wide.reset()
    _assert_old_units_same(narrow, wide, "end")


_OPTIONS = list(itertools.product([True, False], ["gates", "hidden", "all", "none"],
                                  [False, True], [False, True]))


@pytest.mark.parametrize("update", ["step", "sequence"])
@pytest.mark.parametrize("max_delay", [0, 2])
@pytest.mark.parametrize("connectivity", ["F", "B"])
def test_old_units_are_untouched_for_every_option(connectivity, max_delay, update):
    for output_gates, bias, forget_gate, peepholes in _OPTIONS:
        opts = dict(connectivity=connectivity, output_gates=output_gates, bias=bias,
                    forget_gate=forget_gate, peepholes=peepholes, max_delay=max_delay, update=update)
        if forget_gate and bias == "none":
            opts["forget_gate_bias"] = None
        _run(opts, seed=len(opts) + peepholes + 2 * forget_gate)


@pytest.mark.parametrize("max_delay", [0, 3])
def test_widening_twice_keeps_the_old_units_as_once(max_delay):
    opts = dict(connectivity="B", output_gates=True, bias="all", forget_gate=True, peepholes=True,
                max_delay=max_delay, update="sequence")
    _run(opts, seed=1, widen_to=((N0 + 1, K0), (N0 + 1, K0 + 2), (N0 + 3, K0 + 2)))


def _trained(**kw):
    m = OnlineLSTM(N0, K0, n_blocks=2, block_size=2, seed=4, init_range=0.5, max_delay=2,
                   update="sequence", **kw)
    rng = np.random.default_rng(0)
    for _ in range(12):
        m.learn_one(rng.uniform(-1, 1, N0), [0.5, np.nan])
    m.predict_one([0.3, -0.2])
    return m


def _same_state(a, b):
    sa, sb = a.state_arrays(), b.state_arrays()
    return sa.keys() == sb.keys() and all(np.array_equal(sa[k], sb[k]) for k in sa)


def test_no_new_units_is_an_exact_copy():
    m = _trained()
    for w in (widen(m), widen(m, n_in=N0, n_out=K0), widen(m, n_in=N0, rng=7)):
        assert w is not m and _same_state(w, m) and w.get_params() == m.get_params()
        assert w.theta_ is not m.theta_


_FEWER = "widen can only add units"
_NOT_INT = "{kw} must be None or an int"


@pytest.mark.parametrize("bad, says", [
    (-1, _FEWER), (1, _FEWER), (N0 - 1, _FEWER), (True, _NOT_INT), (False, _NOT_INT),
    (np.bool_(True), _NOT_INT), (3.0, _NOT_INT), (np.float64(3), _NOT_INT), ("3", _NOT_INT),
    ([3], _NOT_INT),
    # refused by the clone's layout (NumPy's "Maximum allowed dimension exceeded" before)
    (2**70, "{kw}=" + str(2**70)),
])
def test_bad_sizes_are_refused_and_change_nothing(bad, says):
    m = _trained()
    before = m.state_arrays()
    for kw in ("n_in", "n_out"):
        # each refused for its own reason, not by whatever ValueError comes first
        with pytest.raises(ValueError, match=None if says is None else re.escape(says.format(kw=kw))):
            widen(m, **{kw: bad})
        after = m.state_arrays()
        assert all(np.array_equal(before[k], after[k]) for k in before)


@pytest.mark.parametrize("bad", [True, False, np.bool_(True), -1, 1.5, "seed"])
def test_a_bad_rng_is_refused_before_anything(bad):
    """rng=True was taken for the seed 1 (NumPy's reading), where a learner's
    own seed refuses a bool; a bad rng was ignored when no unit was added, and
    otherwise raised NumPy's TypeError after the clone had drawn from a
    Generator seed (the user's stream)."""
    g = np.random.default_rng(0)
    m = OnlineLSTM(N0, K0, seed=g)
    state = copy.deepcopy(g.bit_generator.state)
    for sizes in ((N0 + 1, K0), (N0, K0)):
        with pytest.raises(ValueError, match="rng must be"):
            widen(m, *sizes, rng=bad)
    assert g.bit_generator.state == state


def test_new_weights_are_uniform_in_init_range_and_seeded():
    m = _trained()
    w = widen(m, n_in=60, n_out=40)
    W = w.get_weights()
    new = np.concatenate([W["W_c"][:, N0:60].ravel(), W["W_in"][:, N0:60].ravel(),
                          W["W_out"][:, N0:60].ravel(), W["W_k"][K0:].ravel()])
    assert np.all(np.abs(new) <= m.init_range) and np.ptp(new) > 1.8 * m.init_range
    assert abs(np.mean(new)) < 0.05
    assert _same_state(w, widen(m, n_in=60, n_out=40))  # int seed: reproducible
    assert _same_state(widen(m, 5, 3, rng=11), widen(m, 5, 3, rng=np.random.default_rng(11)))
    assert not _same_state(widen(m, 5, 3, rng=11), widen(m, 5, 3, rng=12))


def test_a_widened_learner_checkpoints_and_pickles(tmp_path):
    w = widen(_trained(), n_in=4, n_out=3)
    copies = [pickle.loads(pickle.dumps(w)), copy.deepcopy(w),
              OnlineLSTM.load(w.save(tmp_path / "w.npz"))]
    rng = np.random.default_rng(3)
    X, Y = rng.uniform(-1, 1, (8, 4)), rng.uniform(0, 1, (8, 3))
    w.learn_last([np.nan, np.nan, 0.25])  # the new output of the pending step
    outs = w.learn_many(X, Y)
    for c in copies:
        assert c.get_params() == w.get_params()
        c.learn_last([np.nan, np.nan, 0.25])
        np.testing.assert_array_equal(c.learn_many(X, Y), outs)
        assert _same_state(c, w)


def test_the_divergence_record_is_widened_and_the_original_kept():
    m = OnlineLSTM(N0, K0, 2, 2, seed=0, init_range=1.0, on_divergence="reset", max_delay=2,
                   update="sequence", lr=0.5)
    for _ in range(60):
        m.learn_one([1.0, 1.0], [0.5, np.nan])
    m.predict_one([1.0, 1.0])
    m.state_bound = 0.999 * np.max(np.abs(m.state_["s_c"]))
    assert m.state_bound > 2.0  # one step from a reset state stays within it
    m.learn_one([1.0, 1.0], [0.5, 0.5])
    assert m.n_divergences_ == 1
    err = m.last_divergence_
    kept = {k: v.copy() for k, v in err.state.items()}
    w = widen(m, n_in=4, n_out=3)
    assert w.n_divergences_ == 1 and w.last_divergence_ is not err
    assert (w.last_divergence_.step, str(w.last_divergence_)) == (err.step, str(err))
    assert all(np.array_equal(kept[k], err.state[k]) for k in kept)
    ww = widen(w, n_in=5, n_out=4)
    ww.load_state_arrays(ww.last_divergence_.state)
    w.load_state_arrays(w.last_divergence_.state)
    m.load_state_arrays(err.state)
    m.state_bound = w.state_bound = 1e6
    _assert_old_units_same(m, w, "from the divergence record")
    m.learn_one([0.2, 0.1], [0.3, 0.4])
    w.learn_one([0.2, 0.1, 0, 0], [0.3, 0.4, np.nan])
    _assert_old_units_same(m, w, "a step after")


def test_a_generator_seed_is_drawn_from_once_for_the_new_units():
    """widen drew a whole initial net from the learner's Generator seed for
    the clone (weights then overwritten), and then the new units' weights:
    the user's stream advanced twice as far as the numbers widen used."""
    g = np.random.default_rng(5)
    m = OnlineLSTM(2, 1, 2, 1, seed=g)
    twin = copy.deepcopy(g)  # g's state after m was built
    w = widen(m, n_in=3)
    draws = twin.uniform(-m.init_range, m.init_range, size=w.n_params)
    assert np.array_equal(g.uniform(size=4), twin.uniform(size=4))  # g advanced by w.n_params only
    assert w.get_params()["seed"] is g  # the widened learner still names the user's stream
    # the new input's weights are those draws (W_in of input 2 is H's row 2, in draw order)
    new_w = w.weights["W_in"][:, 2]
    assert set(np.round(new_w, 15)) <= set(np.round(draws, 15))
