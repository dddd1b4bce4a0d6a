"""The paper's competitors: RTRL and (truncated) BPTT as streaming learners.

* Gradients against central finite differences of a slow NumPy reference
  (``reference_rnn.py``): the real loss for RTRL and full BPTT, the truncated
  loss (past before the window held fixed) for truncated BPTT.
* RTRL's gradient equals full BPTT's; a window covering the sequence equals
  full BPTT bit for bit.
* A one-unit case computed by hand, including what a window of 1 cuts.
* One step, one truth: learn_one == learn_many, predict_one + learn_last ==
  learn_one, bit for bit.
* Bad input and divergence leave the learner unchanged; snapshots and
  checkpoint files continue bit-identically, and a bad checkpoint changes
  nothing.
* Weight counts of the paper's nets (Tables 1 and 2), and a short-lag
  version of Task 2a learned by RTRL and BPTT but not by a window of 1.
"""

import math
import pickle

import numpy as np
import pytest

from online_lstm import CheckpointError, DivergenceError, InputError, NoPendingStepError
from online_lstm.checkpoint import read_checkpoint, write_checkpoint
from online_lstm.baselines import BPTT, RTRL, Network
from online_lstm.baselines import _common as _c

from conftest import random_stream
from statecheck import same_state
from reference_rnn import loss, numeric_gradient, truncated_loss

FD_RTOL = 1e-6
FD_ATOL = 1e-8

ARCHS = {
    "fr-bias": dict(n_in=3, n_out=2, n_hidden=2, architecture="fully_recurrent", bias=True),
    "fr-outputs-only": dict(n_in=2, n_out=3, n_hidden=0, architecture="fully_recurrent", bias=False),
    "layered-bias": dict(n_in=3, n_out=2, n_hidden=2, architecture="layered", bias=True),
    "task-2a-net": dict(n_in=4, n_out=4, n_hidden=1, architecture="layered", bias=False),
}

LEARNERS = {
    "rtrl": (RTRL, {}),
    "bptt": (BPTT, {}),
    "bptt-w1": (BPTT, dict(window=1)),
    "bptt-w3": (BPTT, dict(window=3)),
}


def make(learner, arch, seed=0, **kw):
    cls, extra = LEARNERS[learner]
    return cls(**ARCHS[arch], **extra, **dict(dict(init_range=1.0, lr=0.3, seed=seed), **kw))


def stream(m, seed, T=30, **kw):
    rng = np.random.default_rng(seed)
    return random_stream(rng, T, m.n_in, m.n_out, **dict(dict(p_reset=0.15, p_nan=0.3), **kw))




# ---------------------------------------------------------------------------
# architecture
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("p, count", [(4, 36), (10, 144), (100, 10404)])
def test_task_2a_net_weight_counts_match_table_2(p, count):
    net = Network(p + 1, p + 1, 1, architecture="layered", bias=False)
    assert net.n_params == count == (p + 2) ** 2
    assert net.shapes == {"W_hx": (1, p + 1), "W_hh": (1, 1), "W_kx": (p + 1, p + 1),
                          "W_kh": (p + 1, 1)}
    assert net.n_carried == 1  # only the hidden unit is read by another unit


@pytest.mark.parametrize("n_hidden, count", [(3, 170), (12, 494)])
def test_reber_nets_match_table_1_estimates(n_hidden, count):
    net = Network(7, 7, n_hidden, architecture="fully_recurrent", bias=False)
    assert net.n_params == count
    n = n_hidden + 7
    assert net.n_carried == n
    assert Network(7, 7, n_hidden, bias=True).n_params == n * (7 + 1 + n)


def test_a_net_beyond_the_weight_limit_is_refused_before_its_tables_are_built(tmp_path, monkeypatch):
    """An edited checkpoint config (n_out = 2**64) once filled 24 GB building
    per-weight lists before anything checked the size.  The limit is lowered
    here, so that a regression fails this test instead of exhausting memory."""
    from online_lstm.baselines import network

    for arch in ("fully_recurrent", "layered"):
        for bias in (False, True):
            for m, H, K in ((3, 2, 4), (1, 5, 1), (7, 12, 7)):
                if arch == "layered" or H:
                    net = Network(m, K, H, architecture=arch, bias=bias)
                    assert net.n_params == (net.n * (m + bias + net.n) if arch == "fully_recurrent"
                                            else net.n * (m + bias + H))  # the guard's count
    monkeypatch.setattr(network, "MAX_PARAMS", 1000)
    Network(2, 28, 1, architecture="layered", bias=False)  # 29 * 31 = 899 weights
    for arch, K in (("fully_recurrent", 30), ("layered", 300)):
        with pytest.raises(ValueError, match="weights; at most 1,000 are supported"):
            Network(2, K, 1, architecture=arch)
    r = RTRL(2, 2, 2, seed=0)
    arrays, meta = read_checkpoint(r.save(tmp_path / "r.npz"))
    meta["config"]["n_out"] = 40
    write_checkpoint(tmp_path / "huge.npz", arrays, {k: v for k, v in meta.items()
                                                      if k not in ("format", "format_version", "arrays")})
    with pytest.raises(CheckpointError, match="at most 1,000"):
        RTRL.load(tmp_path / "huge.npz")


def test_weight_index_covers_theta_once():
    for arch in ARCHS.values():
        net = Network(**arch)
        idx = np.concatenate([v.ravel() for v in net.weight_index.values()])
        assert np.array_equal(np.sort(idx), np.arange(net.n_params))


@pytest.mark.parametrize("kwargs, match", [
    (dict(architecture="elman"), "architecture"),
    (dict(architecture="layered", n_hidden=0), "n_hidden"),
    (dict(n_hidden=-1), "n_hidden"),
    (dict(bias="yes"), "bias"),
    (dict(update="epoch"), "update"),
    (dict(lr=-1.0), "lr"),
    (dict(init_range=math.nan), "init_range"),
])
def test_bad_constructor_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RTRL(**dict(dict(n_in=2, n_out=2, n_hidden=1), **kwargs))


@pytest.mark.parametrize("window", [0, -2, 1.5, True])
def test_bad_window(window):
    with pytest.raises(ValueError, match="window"):
        BPTT(2, 2, window=window)


# ---------------------------------------------------------------------------
# gradients
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("arch", list(ARCHS))
@pytest.mark.parametrize("learner", ["rtrl", "bptt"])
def test_exact_gradient_equals_finite_differences(learner, arch, seed):
    m = make(learner, arch, seed)
    X, Y, resets = stream(m, seed, T=20)
    w = m.get_weights()
    a = ARCHS[arch]["architecture"]
    num = numeric_gradient(w, lambda ww: loss(ww, a, X, Y, resets))
    grad = m.gradient(X, Y, resets)
    for k in w:
        np.testing.assert_allclose(grad[k], num[k], rtol=FD_RTOL, atol=FD_ATOL, err_msg=k)
    assert max(np.abs(g).max() for g in grad.values()) > 1e-3


@pytest.mark.parametrize("arch", list(ARCHS))
@pytest.mark.parametrize("learner", ["bptt-w1", "bptt-w3"])
def test_truncated_bptt_equals_finite_differences_of_truncated_loss(learner, arch, seed):
    m = make(learner, arch, seed)
    X, Y, resets = stream(m, seed + 7, T=20, p_reset=0.05)
    w0 = m.get_weights()
    a = ARCHS[arch]["architecture"]
    num = numeric_gradient(w0, lambda ww: truncated_loss(ww, w0, a, X, Y, resets, m.window))
    grad = m.gradient(X, Y, resets)
    for k in w0:
        np.testing.assert_allclose(grad[k], num[k], rtol=FD_RTOL, atol=FD_ATOL, err_msg=k)
    # ... and the truncation matters: the real gradient is different
    full = BPTT(**ARCHS[arch], init_range=1.0, seed=seed).gradient(X, Y, resets)
    recurrent = "W_y" if "W_y" in w0 else "W_hh"
    assert not np.allclose(grad[recurrent], full[recurrent], rtol=1e-3, atol=1e-6)


@pytest.mark.parametrize("arch", list(ARCHS))
def test_rtrl_gradient_equals_full_bptt(arch, seed):
    """RTRL and BPTT compute the same exact gradient of a sequence (weights
    fixed); a window covering the longest sequence is full BPTT, bit for bit."""
    m = make("rtrl", arch, seed)
    X, Y, resets = stream(m, seed + 3, T=60, p_reset=0.05)
    longest = max(np.diff(np.flatnonzero(np.r_[True, resets[1:], True])))
    g_rtrl = m.gradient(X, Y, resets)
    g_full = make("bptt", arch, seed).gradient(X, Y, resets)
    g_win = BPTT(**ARCHS[arch], init_range=1.0, seed=seed, window=int(longest)).gradient(X, Y, resets)
    for k in g_rtrl:
        np.testing.assert_allclose(g_rtrl[k], g_full[k], rtol=1e-11, atol=1e-13, err_msg=k)
        assert np.array_equal(g_win[k], g_full[k]), k


def test_long_window_grows_its_ring_and_equals_full_bptt():
    """A window longer than the sequence is full BPTT, bit for bit, while the
    history grows past its initial size (64 steps), never beyond window + 1
    slots."""
    a = BPTT(3, 2, 2, architecture="layered", window=150, init_range=1.0, seed=1)
    b = BPTT(3, 2, 2, architecture="layered", window=None, init_range=1.0, seed=1)
    X, Y, _ = stream(a, 8, T=140, p_reset=0.0)
    assert np.array_equal(a.learn_many(X, Y), b.learn_many(X, Y))
    sa, sb = a.state_arrays(), b.state_arrays()
    assert same_state({k: v for k, v in sa.items() if k != "header"},
                      {k: v for k, v in sb.items() if k != "header"})
    slots = lambda m: m._arrays["Zh"].shape[0] // m.network.n_z  # noqa: E731
    assert 64 < slots(a) <= 151
    a.learn_many(X[:60], Y[:60])
    assert slots(a) == 151


def test_gradient_from_current_state_and_learner_unchanged():
    m = make("rtrl", "fr-bias")
    X, Y, resets = stream(m, 1)
    m.learn_many(X[:7], Y[:7])
    before = m.state_arrays()
    g_now = m.gradient(X[7:], Y[7:], from_current_state=True)
    g_fresh = m.gradient(X[7:], Y[7:])
    assert same_state(before, m.state_arrays())
    assert not np.allclose(g_now["W_y"], g_fresh["W_y"])


@pytest.mark.parametrize("learner", list(LEARNERS))
def test_sequence_update_applies_minus_lr_times_gradient_at_reset(learner):
    m = make(learner, "fr-bias", update="sequence", lr=0.7)
    X, Y, _ = stream(m, 4, T=12, p_reset=0.0)
    theta0 = m.get_weights()
    g = m.gradient(X, Y)
    m.learn_many(X, Y)
    assert all(np.array_equal(v, theta0[k]) for k, v in m.get_weights().items())  # not yet applied
    m.reset()
    for k, v in m.get_weights().items():
        np.testing.assert_allclose(v - theta0[k], -0.7 * g[k], rtol=1e-12, atol=1e-15, err_msg=k)


# ---------------------------------------------------------------------------
# a case computed by hand
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("learner", ["rtrl", "bptt", "bptt-w1"])
def test_one_unit_two_steps_by_hand(learner):
    """One self-recurrent unit that is also the output: y1 = f(a x1),
    y2 = f(a x2 + w y1); a target only at step 2.  The update of step 2 is
    lr * e2 * (x2 + w f'(1) x1) for a and lr * e2 * y1 for w, with e2 =
    f'(2) (d2 - y2) (spec §3.1, no factor 2).  A window of 1 drops the
    path through y1."""
    cls, extra = LEARNERS[learner]
    m = cls(1, 1, 0, bias=False, lr=0.5, **extra)
    a, w, x1, x2, d2 = 0.5, -1.5, 1.0, -2.0, 0.9
    m.set_weights(W_x=[[a]], W_y=[[w]])
    y1 = 1 / (1 + math.exp(-a * x1))
    y2 = 1 / (1 + math.exp(-(a * x2 + w * y1)))
    e2 = y2 * (1 - y2) * (d2 - y2)
    assert m.learn_one([x1], None)[0] == pytest.approx(y1, rel=1e-15)
    assert m.learn_one([x2], [d2])[0] == pytest.approx(y2, rel=1e-15)  # before the update
    through_y1 = 0.0 if learner == "bptt-w1" else w * y1 * (1 - y1) * x1
    got = m.get_weights()
    assert got["W_x"][0, 0] == pytest.approx(a + 0.5 * e2 * (x2 + through_y1), rel=1e-14)
    assert got["W_y"][0, 0] == pytest.approx(w + 0.5 * e2 * y1, rel=1e-14)


def test_task_2a_net_forward_by_hand():
    """Outputs read the hidden unit of the same step and the inputs (spec §5.2)."""
    m = RTRL(3, 3, 1, architecture="layered", bias=False, seed=5, init_range=0.8)
    w = m.get_weights()
    f = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    x1, x2 = np.eye(3)[2], np.eye(3)[0]
    h1 = f(w["W_hx"] @ x1)
    h2 = f(w["W_hx"] @ x2 + w["W_hh"] @ h1)
    np.testing.assert_allclose(m.predict_one(x1), f(w["W_kx"] @ x1 + w["W_kh"] @ h1), rtol=1e-15)
    np.testing.assert_allclose(m.predict_one(x2), f(w["W_kx"] @ x2 + w["W_kh"] @ h2), rtol=1e-15)
    np.testing.assert_allclose(m.state_["y"], np.r_[h2, f(w["W_kx"] @ x2 + w["W_kh"] @ h2)], rtol=1e-15)


# ---------------------------------------------------------------------------
# one step, one truth
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("update", ["step", "sequence"])
@pytest.mark.parametrize("arch", list(ARCHS))
@pytest.mark.parametrize("learner", list(LEARNERS))
def test_learn_one_equals_learn_many_bit_for_bit(learner, arch, update, seed):
    a, b = make(learner, arch, seed, update=update), make(learner, arch, seed, update=update)
    X, Y, resets = stream(a, seed, T=90, p_reset=0.04)
    out_one = []
    for t in range(len(X)):
        if resets[t]:
            a.reset()
        out_one.append(a.learn_one(X[t], Y[t]))
    out_many = np.vstack([b.learn_many(X[:40], Y[:40], resets[:40]),
                          b.learn_many(X[40:], Y[40:], resets[40:])])
    assert np.array_equal(np.array(out_one), out_many)
    assert same_state(a.state_arrays(), b.state_arrays())
    assert a.n_updates_ == b.n_updates_ == int(np.sum(~np.all(np.isnan(Y), axis=1)))


@pytest.mark.parametrize("learner", list(LEARNERS))
def test_predict_then_learn_last_equals_learn_one(learner):
    a, b = make(learner, "layered-bias"), make(learner, "layered-bias")
    X, Y, _ = stream(a, 2, T=25, p_reset=0.0, p_nan=0.0)
    for t in range(len(X)):
        ya = a.learn_one(X[t], Y[t])
        yb = b.predict_one(X[t])
        assert b.pending_
        b.learn_last(Y[t])
        assert np.array_equal(ya, yb) and not b.pending_
    assert same_state(a.state_arrays(), b.state_arrays())
    with pytest.raises(NoPendingStepError):
        b.learn_last(Y[0])


@pytest.mark.parametrize("learner", list(LEARNERS))
def test_predict_many_equals_predict_one_and_does_not_learn(learner):
    a, b = make(learner, "fr-bias"), make(learner, "fr-bias")
    X, _, resets = stream(a, 3)
    w0 = a.get_weights()
    one = []
    for t in range(len(X)):
        if resets[t]:
            a.reset()
        one.append(a.predict_one(X[t]))
    assert np.array_equal(np.array(one), b.predict_many(X, resets))
    assert same_state(a.state_arrays(), b.state_arrays())
    assert all(np.array_equal(v, w0[k]) for k, v in a.get_weights().items())


def test_out_buffers_are_filled_without_new_arrays():
    m = make("rtrl", "fr-bias")
    X, Y, _ = stream(m, 0, T=5)
    o = np.empty(2)
    assert m.learn_one(X[0], Y[0], out=o) is o
    O = np.empty((4, 2))
    assert m.learn_many(X[1:], Y[1:], out=O) is O


def test_same_seed_same_bits_and_clone():
    X, Y, resets = stream(make("rtrl", "fr-bias"), 9)
    a, b = make("rtrl", "fr-bias", seed=4), make("rtrl", "fr-bias", seed=4)
    assert np.array_equal(a.learn_many(X, Y, resets), b.learn_many(X, Y, resets))
    assert not np.array_equal(make("rtrl", "fr-bias", seed=5).get_weights()["W_y"],
                              make("rtrl", "fr-bias", seed=4).get_weights()["W_y"])
    c = a.clone()
    assert c.get_params() == a.get_params() and c.n_steps_ == 0
    assert np.array_equal(c.get_weights()["W_y"], make("rtrl", "fr-bias", seed=4).get_weights()["W_y"])
    assert BPTT(2, 2, window=4).clone(window=None).window is None


# ---------------------------------------------------------------------------
# snapshots
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("learner", list(LEARNERS))
def test_snapshot_restore_continues_bit_identically(learner):
    a = make(learner, "layered-bias")
    X, Y, resets = stream(a, 5, T=200, p_reset=0.0)  # one sequence: BPTT's history grows past 64
    a.learn_many(X[:150], Y[:150])
    snap = a.state_arrays()
    b = a.clone()
    b.load_state_arrays(snap)
    c = pickle.loads(pickle.dumps(a))
    outs = [m.learn_many(X[150:], Y[150:], resets[150:]) for m in (a, b, c)]
    assert np.array_equal(outs[0], outs[1]) and np.array_equal(outs[0], outs[2])
    assert same_state(a.state_arrays(), b.state_arrays())
    assert same_state(a.state_arrays(), c.state_arrays())


@pytest.mark.parametrize("update", ["step", "sequence"])
@pytest.mark.parametrize("learner", list(LEARNERS))
def test_checkpoint_file_continues_bit_identically(learner, update, tmp_path):
    """save mid-sequence with a pending step (predict now, learn later), then
    load into a new learner and restore into a fresh one: all three go on
    as the uninterrupted learner, bit for bit."""
    a = make(learner, "layered-bias", update=update)
    X, Y, _ = stream(a, 7, T=200, p_reset=0.0)  # one sequence: BPTT's history grows past 64
    a.learn_many(X[:120], Y[:120])
    a.predict_one(X[120])
    path = a.save(tmp_path / "m.npz")
    b = type(a).load(path)
    c = make(learner, "layered-bias", update=update, seed=99, lr=0.01)
    c.restore(path)
    assert b.get_params() == a.get_params() == c.get_params()
    assert b.pending_ and c.pending_ and b.seq_step_ == c.seq_step_ == 121
    for m in (a, b, c):
        m.learn_last(Y[120])
    outs = [m.learn_many(X[121:], Y[121:]) for m in (a, b, c)]
    for m in (a, b, c):
        m.reset()  # applies the accumulated update with update="sequence"
    assert np.array_equal(outs[0], outs[1]) and np.array_equal(outs[0], outs[2])
    assert same_state(a.state_arrays(), b.state_arrays())
    assert same_state(a.state_arrays(), c.state_arrays())
    arrays, meta = read_checkpoint(path)
    assert meta["kind"] == type(a).__name__ and sorted(arrays) == sorted(a.state_arrays())


@pytest.mark.parametrize("learner", ["rtrl", "bptt-w3"])
def test_bad_checkpoint_file_is_refused_and_changes_nothing(learner, tmp_path):
    a = trained(learner)
    path = a.save(tmp_path / "m.npz")

    def refused(target, match, file=path, error=CheckpointError):
        """``target.restore(file)`` raises and leaves its state and parameters as they were."""
        state, params = target.state_arrays(), target.get_params()
        with pytest.raises(error, match=match):
            target.restore(file)
        assert same_state(state, target.state_arrays()) and target.get_params() == params

    m = make(learner, "fr-bias", seed=7, lr=0.05)  # parameters a restore takes from the file
    m.learn_one(X_OK, Y_OK)
    other_kind = (make("bptt", "fr-bias") if learner == "rtrl" else make("rtrl", "fr-bias"))
    with pytest.raises(CheckpointError, match="not a"):
        type(other_kind).load(path)
    refused(other_kind, "not a")
    layered = make(learner, "layered-bias", seed=3, lr=0.05)
    layered.learn_one(X_OK, Y_OK)
    refused(layered, "another configuration.*architecture: checkpoint 'fully_recurrent', here 'layered'")
    if learner == "bptt-w3":
        refused(BPTT(**ARCHS["fr-bias"], window=4, seed=5), "window: checkpoint 3, here 4")
    refused(make(learner, "fr-bias", update="sequence", seed=5),
            "update: checkpoint 'step', here 'sequence'")
    blob = path.read_bytes()
    (tmp_path / "cut.npz").write_bytes(blob[: len(blob) // 2])
    refused(m, "truncated or corrupted", tmp_path / "cut.npz")
    flipped = bytearray(blob)
    i = blob.index(a.state_arrays()["theta"].tobytes()[:16])  # a byte inside theta
    flipped[i + 3] ^= 0xFF
    (tmp_path / "flip.npz").write_bytes(bytes(flipped))
    refused(m, "theta", tmp_path / "flip.npz")
    arrays, meta = read_checkpoint(path)
    write_checkpoint(tmp_path / "less.npz", {k: v for k, v in arrays.items() if k != "dW"},
                     {k: meta[k] for k in ("kind", "config")})
    refused(m, "holds arrays", tmp_path / "less.npz")
    bad = dict(arrays, theta=np.full_like(arrays["theta"], np.inf))
    write_checkpoint(tmp_path / "inf.npz", bad, {k: meta[k] for k in ("kind", "config")})
    refused(m, "does not fit.*non-finite", tmp_path / "inf.npz")
    write_checkpoint(tmp_path / "cfg.npz", arrays, dict(kind=meta["kind"], config={"n_in": "x"}))
    refused(m, "does not build a learner", tmp_path / "cfg.npz")
    refused(m, "no checkpoint", tmp_path / "none.npz", FileNotFoundError)
    m.restore(path)  # a good checkpoint still loads, with its parameters
    assert same_state(a.state_arrays(), m.state_arrays()) and m.get_params() == a.get_params()


@pytest.mark.parametrize("learner", ["rtrl", "bptt-w3"])
def test_load_refuses_other_architecture_and_corrupt_state(learner):
    a = make(learner, "fr-bias")
    other = make(learner, "layered-bias")
    before = a.state_arrays()
    with pytest.raises(InputError):
        a.load_state_arrays(other.state_arrays())
    bad = dict(before, theta=np.full_like(before["theta"], np.nan))
    with pytest.raises(InputError, match="non-finite"):
        a.load_state_arrays(bad)
    with pytest.raises(InputError, match="missing"):
        a.load_state_arrays({k: v for k, v in before.items() if k != "dW"})
    assert same_state(before, a.state_arrays())


@pytest.mark.parametrize("field, value, match", [
    (_c.H_MODE, float(_c.MODE_GRADIENT), "update="),  # would silently stop learning
    (_c.H_MODE, float(_c.MODE_SEQUENCE), "update='sequence'"),
    (_c.H_STEP, -7.0, "counters"),
    (_c.H_NUPD, 2.5, "counters"),
    (_c.H_SEQ, 1e9, "counters"),  # more steps since the reset than steps
    (_c.H_PENDING, 0.5, "pending"),
    (_c.H_BANK, 2.0, "bank"),
    (_c.H_LR, -0.1, "learning rate"),
])
@pytest.mark.parametrize("learner", ["rtrl", "bptt-w3"])
def test_load_refuses_a_corrupt_header(learner, field, value, match):
    a = trained(learner)
    before = a.state_arrays()
    bad = a.state_arrays()
    bad["header"][field] = value
    with pytest.raises(InputError, match=match):
        a.load_state_arrays(bad)
    assert same_state(before, a.state_arrays())
    bad = a.state_arrays()
    bad["theta"][0] = 1e300  # a step would refuse it
    with pytest.raises(InputError, match="beyond 1e"):
        a.load_state_arrays(bad)
    assert same_state(before, a.state_arrays())
    a.load_state_arrays(a.state_arrays())  # a good state still loads


# ---------------------------------------------------------------------------
# bad input and divergence
# ---------------------------------------------------------------------------


def trained(learner):
    m = make(learner, "fr-bias")
    X, Y, _ = stream(m, 0, T=20, p_reset=0.0)
    m.learn_many(X, Y)
    return m


X_OK, Y_OK = np.array([0.1, 0.2, 0.3]), np.array([0.5, 0.5])


@pytest.mark.parametrize("call, match", [
    (lambda m: m.learn_one(np.zeros(2), Y_OK), r"shape \(3,\)"),
    (lambda m: m.learn_one(np.zeros((1, 3)), Y_OK), r"3"),
    (lambda m: m.learn_one(np.array([0.1, np.nan, 0.3]), Y_OK), "finite"),
    (lambda m: m.predict_one(np.array([np.inf, 0, 0])), "finite"),
    (lambda m: m.learn_one(np.ma.masked_array(X_OK, mask=[0, 0, 1]), Y_OK), "finite"),  # masked = NaN
    (lambda m: m.predict_one(np.ma.masked_array(X_OK, mask=[1, 0, 0])), "finite"),
    (lambda m: m.learn_one(np.array(["a", "b", "c"]), Y_OK), "float64"),
    (lambda m: m.learn_one(X_OK, np.zeros(3)), r"shape \(2,\)"),
    (lambda m: m.learn_one(X_OK, np.array([0.5, np.inf])), "finite or NaN"),
    (lambda m: m.learn_one(X_OK, 0.5), "scalar target"),
    (lambda m: m.learn_one(X_OK, Y_OK, out=np.zeros(3)), "out"),
    (lambda m: m.learn_many(np.zeros((5, 2)), np.zeros((5, 2))), r"3"),
    (lambda m: m.learn_many(np.zeros((5, 3)), np.zeros((4, 2))), r"\(5, 2\)"),
    (lambda m: m.learn_many(np.zeros((5, 3)), None), "Y must"),
    (lambda m: m.learn_many(np.r_[np.zeros((3, 3)), [[0, np.nan, 0]], np.zeros((1, 3))],
                            np.zeros((5, 2))), r"row 3"),
    (lambda m: m.learn_many(np.zeros((5, 3)), np.zeros((5, 2)), resets=[True, False]), "resets"),
    (lambda m: m.learn_many(np.zeros((5, 3)), np.zeros((5, 2)), resets=np.arange(5)), "resets"),
    (lambda m: m.learn_last(Y_OK), "learn_last"),
    (lambda m: m.set_weights(W_y=np.zeros((3, 3))), "shape"),
    (lambda m: m.set_weights(W_hh=np.zeros((4, 4))), "unknown"),
    (lambda m: m.set_weights(b=[0, np.nan, 0, 0]), "finite"),
])
@pytest.mark.parametrize("learner", ["rtrl", "bptt", "bptt-w3"])
def test_bad_input_raises_and_changes_nothing(learner, call, match):
    m = trained(learner)
    before = m.state_arrays()
    with pytest.raises((InputError, NoPendingStepError), match=match):
        call(m)
    assert same_state(before, m.state_arrays())


@pytest.mark.parametrize("learner", list(LEARNERS))
def test_safe_conversions_accepted(learner):
    a, b = trained(learner), trained(learner)
    ya = a.learn_one(np.array([1, 0, 2], dtype=np.int64), np.array([1, 0], dtype=np.int32))
    yb = b.learn_one(np.array([1.0, 0.0, 2.0]), [1.0, 0.0])
    assert np.array_equal(ya, yb) and same_state(a.state_arrays(), b.state_arrays())
    for x, x64 in ((np.arange(1.0, 7.0)[::2], [1.0, 3.0, 5.0]),  # strided view
                   (np.arange(1.0, 7.0)[::-2], [6.0, 4.0, 2.0])):
        assert not x.flags.c_contiguous
        ya, yb = a.learn_one(x, Y_OK), b.learn_one(np.array(x64), Y_OK)
        assert np.array_equal(ya, yb) and same_state(a.state_arrays(), b.state_arrays())
    ro_x, ro_y = np.array([0.1, 0.2, 0.3]), np.array([0.5, 0.5])
    ro_x.flags.writeable = ro_y.flags.writeable = False  # pandas .values, memory maps
    ya, yb = a.learn_one(ro_x, ro_y), b.learn_one(X_OK, Y_OK)
    assert np.array_equal(ya, yb) and same_state(a.state_arrays(), b.state_arrays())
    X = np.random.default_rng(0).random((4, 3))
    resets = np.array([False, True, False, False])
    ro_X, ro_r = X.copy(), resets.copy()
    ro_X.flags.writeable = ro_r.flags.writeable = False
    ya, yb = a.learn_many(ro_X, np.ma.masked_array(np.ones((4, 2)), mask=X[:, :2] > 0.5), resets=ro_r), \
        b.learn_many(X, np.where(X[:, :2] > 0.5, np.nan, 1.0), resets=resets)  # masked = no target
    assert np.array_equal(ya, yb) and same_state(a.state_arrays(), b.state_arrays())
    one, two = RTRL(1, 1, 1, seed=0), RTRL(1, 1, 1, seed=0)
    assert np.array_equal(one.learn_one(0.3, 0.7), two.learn_one(np.array([0.3]), np.array([0.7])))


@pytest.mark.parametrize("learner", list(LEARNERS))
def test_divergence_refuses_the_step_and_keeps_earlier_rows(learner):
    m = trained(learner)
    X, Y, _ = stream(m, 11, T=6, p_reset=0.0, p_nan=0.0)
    Y[:3] = np.nan  # no update in rows 0-2
    ref = m.clone()
    ref.load_state_arrays(m.state_arrays())
    ref.predict_many(X[:3])
    m.lr = 1e300
    with pytest.raises(DivergenceError) as err:
        m.learn_many(X, Y)
    assert err.value.row == 3
    ref.lr = 1e300
    assert same_state(ref.state_arrays(), m.state_arrays())
    before = m.state_arrays()
    with pytest.raises(DivergenceError):
        m.learn_one(X[3], Y[3])
    assert same_state(before, m.state_arrays())


# ---------------------------------------------------------------------------
# learning
# ---------------------------------------------------------------------------


def task_2a(p):
    """Task 2a's two training sequences (spec §5.2), one-hot over p + 1
    symbols: a_1..a_{p-1} are units 0..p-2, x is unit p-1, y is unit p.
    Input: every symbol but the last; target: the next symbol."""
    seqs = []
    for first in (p - 1, p):
        s = [first] + list(range(p - 1)) + [first]
        seqs.append((np.eye(p + 1)[s[:-1]], np.eye(p + 1)[s[1:]]))
    return seqs


def sequences_to_success(m, p, budget, rng):
    """Train on random picks of the two sequences; every 100 sequences test
    (weights frozen) whether the maximal absolute error of every output at
    every step is below 0.25 (Table 2's success criterion)."""
    seqs = task_2a(p)
    first = np.eye(p, 1, dtype=bool)[:, 0]
    for done in range(100, budget + 1, 100):
        picks = rng.integers(0, 2, 100)
        m.learn_many(np.vstack([seqs[i][0] for i in picks]), np.vstack([seqs[i][1] for i in picks]),
                     np.tile(first, 100))
        probe = m.clone()
        ok = True
        for X, Y in seqs:
            probe.load_state_arrays(m.state_arrays())
            ok &= np.abs(probe.predict_many(X, first) - Y).max() < 0.25
        if ok:
            return done
    return None


@pytest.mark.parametrize("learner, learns", [("rtrl", True), ("bptt", True), ("bptt-w1", False)])
def test_short_lag_task_2a(learner, learns):
    """Task 2a with p = 2 (the first symbol must be held for 2 steps): RTRL
    and BPTT learn it within 3,000 sequences at lr = 4; a BPTT window of 1
    (no credit across steps) does not."""
    cls, extra = LEARNERS[learner]
    results = []
    for seed in range(3):
        m = cls(3, 3, 1, architecture="layered", bias=False, init_range=0.2, lr=4.0, seed=seed, **extra)
        results.append(sequences_to_success(m, 2, 3000, np.random.default_rng(seed)))
    assert all(r is not None for r in results) if learns else all(r is None for r in results)


def test_a_learner_class_without_a_checkpoint_kind_cannot_save_or_load(tmp_path):
    class Unnamed(RTRL):
        _checkpoint_kind = None

    with pytest.raises(TypeError, match="Unnamed has no checkpoint kind"):
        Unnamed(2, 1).save(tmp_path / "u.npz")
    RTRL(2, 1).save(tmp_path / "r.npz")
    with pytest.raises(TypeError, match="Unnamed has no checkpoint kind"):
        Unnamed.load(tmp_path / "r.npz")  # (it would read a file of any kind)
    assert not (tmp_path / "u.npz").exists()


@pytest.mark.parametrize("learner", ["rtrl", "bptt-w3"])
def test_constructor_arguments_are_fixed_once_built(learner):
    m = make(learner, "fr-bias")
    params = m.get_params()
    fixed = ["n_hidden", "update", "seed", "init_range", "architecture"] + (
        ["window"] if learner == "bptt-w3" else [])
    for name in fixed:
        with pytest.raises(AttributeError, match=rf"{name} is fixed.*clone\({name}="):
            setattr(m, name, params[name])
    assert m.get_params() == params
    m.lr = 0.05
    assert m.lr == 0.05
    with pytest.raises(ValueError, match="^lr"):
        m.lr = 10**400


@pytest.mark.parametrize("learner", ["rtrl", "bptt-w3"])
@pytest.mark.parametrize("x, y", [(2**53 + 1, 0.5), (0.0, 2**53 + 1), (10**400, 0.5), (0.0, 10**400),
                                  (0.0, np.longdouble(0.1))])
def test_scalar_inputs_and_targets_follow_the_array_rules(learner, x, y):
    """A scalar x (n_in == 1) or y (n_out == 1) is refused where the same
    value in an array would be: ints float64 would round, ints beyond any
    float, long double."""
    cls, extra = LEARNERS[learner]
    m = cls(1, 1, 2, **extra, seed=0)
    before = m.state_arrays()
    with pytest.raises(InputError, match="2\\*\\*53|float64"):
        m.learn_one(x, y)
    assert same_state(before, m.state_arrays())


# ---------------------------------------------------------------------------
# the bounds that keep every number finite, each at its own check (a mutation
# audit found that lr=1e300 reaches only the first)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [RTRL, BPTT])
def test_a_weight_pushed_past_the_limit_is_refused_at_the_step_and_at_the_reset(cls):
    """The weight after the change, not the change alone, must stay within
    1e150: 0.9e150 + 0.6e150 is refused per step, and by the reset that
    would apply it with update='sequence' (spec §3.7); nothing changes."""
    m = cls(1, 1, 0, bias=False, seed=0, lr=1e301)
    m.set_weights(W_x=[[0.9e150]], W_y=[[0.0]])
    before = m.state_arrays()
    with pytest.raises(DivergenceError):
        m.learn_one([1e-150], [1.0])
    assert same_state(before, m.state_arrays())
    m = cls(1, 1, 0, bias=False, seed=0, lr=1e301, update="sequence")
    m.set_weights(W_x=[[0.9e150]], W_y=[[0.0]])
    m.learn_one([1e-150], [1.0])  # accumulates about 0.6e150: fine
    before = m.state_arrays()
    with pytest.raises(DivergenceError):
        m.reset()
    assert same_state(before, m.state_arrays())


@pytest.mark.parametrize("cls", [RTRL, BPTT])
def test_an_infinite_net_input_is_refused_though_the_logistic_hides_it(cls):
    m = cls(1, 1, 0, bias=False, seed=0)
    m.set_weights(W_x=[[10.0]], W_y=[[0.0]])
    before = m.state_arrays()
    with pytest.raises(DivergenceError):
        m.predict_one([1e308])  # net input inf, f(inf) = 1
    assert same_state(before, m.state_arrays())


def test_an_rtrl_influence_past_the_limit_is_refused_on_a_step_without_target():
    m = RTRL(1, 1, 0, bias=False, seed=0)
    m.set_weights(W_x=[[1e-160]], W_y=[[0.0]])
    before = m.state_arrays()
    with pytest.raises(DivergenceError):
        m.predict_one([1e160])  # the influence dh/dW_x reaches about 2e159
    assert same_state(before, m.state_arrays())


@pytest.mark.parametrize("cls", [RTRL, BPTT])
def test_each_reset_applies_only_its_own_sequence_s_update(cls):
    """update='sequence': a reset applies what was accumulated since the last
    one and clears it, so an empty reset moves nothing and the next
    sequence's change is -lr times its own gradient (spec §3.7)."""
    rng = np.random.default_rng(0)
    X1, Y1 = rng.uniform(-1, 1, (8, 2)), rng.uniform(0, 1, (8, 2))
    X2, Y2 = rng.uniform(-1, 1, (8, 2)), rng.uniform(0, 1, (8, 2))
    m = cls(2, 2, 1, update="sequence", lr=0.5, init_range=1.0, seed=1)
    m.learn_many(X1, Y1)
    m.reset()
    w1 = m.get_weights()
    m.reset()
    for k, v in m.get_weights().items():
        np.testing.assert_array_equal(v, w1[k], err_msg=k)
    g2 = m.gradient(X2, Y2)
    m.learn_many(X2, Y2)
    m.reset()
    for k, v in m.get_weights().items():
        np.testing.assert_allclose(v - w1[k], -0.5 * g2[k], rtol=1e-10, atol=1e-14, err_msg=k)


# ---------------------------------------------------------------------------
# audit: what a refused step reports, as OnlineLSTM does
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("learner", ["rtrl", "bptt", "bptt-w3"])
def test_the_error_names_the_step_that_was_refused(learner):
    """``.step`` is the index of the refused step, as for OnlineLSTM
    (tests/test_divergence.py): the last step for ``learn_last``, and for
    ``gradient`` the index the step would have had in ``learn_many`` (the
    learner's steps plus the row), not the learner's step count."""
    m = make(learner, "fr-bias")
    for _ in range(5):
        m.predict_one(np.full(3, 0.5))  # steps 0..4, no targets
    m.lr = 1e300
    before = m.state_arrays()
    with pytest.raises(DivergenceError, match="at step 4:") as err:
        m.learn_last(np.zeros(2))
    assert err.value.step == 4 and m.pending_
    X, Y = np.full((4, 3), 0.5), np.array([[np.nan] * 2] * 2 + [[1e200, 0.0]] * 2)
    for from_current_state in (True, False):
        with pytest.raises(DivergenceError) as grad_err:
            m.gradient(X, Y, from_current_state=from_current_state)
        assert (grad_err.value.step, grad_err.value.row) == (5 + 2, 2)
    assert same_state(before, m.state_arrays())
    with pytest.raises(DivergenceError) as many_err:
        m.learn_many(X, Y)
    assert (many_err.value.step, many_err.value.row) == (7, 2)


@pytest.mark.parametrize("cls", [RTRL, BPTT])
def test_a_refused_reset_says_it_was_the_reset(cls):
    m = cls(1, 1, 0, bias=False, seed=0, lr=1e301, update="sequence")
    m.set_weights(W_x=[[0.9e150]], W_y=[[0.0]])
    m.learn_one([1e-150], [1.0])
    with pytest.raises(DivergenceError, match="reset refused: applying the weight changes "
                                              "accumulated over the sequence") as err:
        m.reset()
    assert err.value.step == 1 and err.value.row is None


@pytest.mark.parametrize("learner", ["rtrl", "bptt-w3"])
def test_shape_errors_name_the_expected_and_the_given_shape(learner):
    m = make(learner, "fr-bias")
    with pytest.raises(InputError, match=r"x must have shape \(3,\) per step; got shape \(2,\)"):
        m.learn_one(np.zeros(2), Y_OK)
    with pytest.raises(InputError, match=r"y must have shape \(2,\) per step; got shape \(3,\)"):
        m.learn_one(X_OK, np.zeros(3))
    with pytest.raises(InputError, match=r"y must have shape \(2,\) per step; got shape \(3,\)"):
        m.predict_one(X_OK) is None or m.learn_last(np.zeros(3))
    with pytest.raises(InputError, match=r"out must have shape \(2,\) for one step"):
        m.learn_one(X_OK, Y_OK, out=np.zeros(3))
    with pytest.raises(InputError, match=r"x must have shape \(3,\) per step \(row 0\); got shape \(2,\)"):
        m.learn_many(np.zeros((4, 2)), np.zeros((4, 2)))


def test_a_window_beyond_int64_still_truncates_as_documented():
    """A window of sys.maxsize (a common "unbounded") once became INT64_MIN in
    the kernels' header: every error travelled back 0 steps, the gradient was
    zero and the learner silently never learned."""
    import sys

    m = make("rtrl", "fr-bias")
    X, Y, resets = stream(m, 3, T=40, p_reset=0.05)
    full = make("bptt", "fr-bias").gradient(X, Y, resets)
    for window in (2**62, sys.maxsize, 2**63, 10**30):
        b = BPTT(**ARCHS["fr-bias"], window=window, init_range=1.0, lr=0.3, seed=0)
        assert b.window == window
        g = b.gradient(X, Y, resets)
        for k in full:
            assert np.array_equal(g[k], full[k]), (window, k)
        ref = make("bptt", "fr-bias")
        assert np.array_equal(b.learn_many(X, Y, resets), ref.learn_many(X, Y, resets))
        assert all(np.array_equal(v, ref.get_weights()[k]) for k, v in b.get_weights().items())
