"""Third audit of the competitors (RTRL, truncated BPTT).

* A state no step can reach (an accumulated change ``dW`` or an RTRL
  influence beyond the magnitude limit) is refused by ``load_state_arrays``
  and by checkpoint files: it would leave the learner refusing every
  learning step and every reset; so is a pending step right after a reset.
* A reset inside ``learn_many`` that is refused (applying the accumulated
  change of ``update="sequence"``) is reported as the reset, not as the step.
* BPTT on sequences longer than its history ring's first size (64), with
  windows around it: learn_one, learn_many in random chunks with snapshots
  and pickles at every phase of the ring, and a hand-written BPTT(h) agree;
  RTRL's chunks and snapshots (pending step included) likewise.
* RTRL and full BPTT on Table 1's net (170 weights) against central
  differences.
* The streaming API is OnlineLSTM's (signatures, counters); odd dtypes and
  layouts are converted, never compiled for.
"""

import numpy as np
import pytest

from online_lstm import CheckpointError, DivergenceError, InputError
from online_lstm.baselines import BPTT, RTRL
from online_lstm.baselines._common import H_PENDING
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


@pytest.mark.parametrize("name", CLASSES)
def test_a_pending_step_with_no_step_since_the_reset_is_a_corrupt_header(name):
    """A reset ends the pending step, so no learner holds pending = 1 with
    seq_step = 0; such a state was accepted and learn_last then 'learned' a
    step that did not exist (n_updates_ + 1, from whatever the history or
    influence bank held)."""
    a = new(name)
    X, Y = stream(3)
    a.learn_many(X, Y)
    a.predict_one(X[0])
    ok = a.state_arrays()  # pending, mid-sequence: fine
    a.reset()
    s = a.state_arrays()
    s["header"][H_PENDING] = 1.0
    b = new(name, seed=1)
    before = b.state_arrays()
    with pytest.raises(InputError, match="pending step only after a step since the reset"):
        b.load_state_arrays(s)
    assert same_state(before, b.state_arrays())
    b.load_state_arrays(ok)
    assert b.pending_ and b.seq_step_ == 4


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


# ---------------------------------------------------------------------------
# BPTT's history ring past its first size (64 steps): growth, wrap-around,
# snapshots taken at any phase of it, against a hand-written BPTT(h)
# ---------------------------------------------------------------------------
def f(x):
    return 1.0 / (1.0 + np.exp(-x))


def bptt_reference(W, m, n, K, X, Y, resets, lr, window):
    """Fully recurrent net with bias, W (n, m + 1 + n) over z = [x | 1 |
    y(t-1)]; each step with a target sends its error back through the last
    ``window`` steps of the sequence (all with None) with the current
    weights, then changes them."""
    outs = []
    for t in range(len(X)):
        if t == 0 or resets[t]:
            y, hist = np.zeros(n), []
        z = np.concatenate([X[t], [1.0], y])
        y_new = f(W @ z)
        hist.append((z, y_new * (1 - y_new)))
        has = ~np.isnan(Y[t])
        e = np.zeros(n)
        e[n - K:][has] = (Y[t] - y_new[n - K:])[has]
        outs.append(y_new[n - K:])
        if has.any():
            g, err = np.zeros_like(W), e
            for z_s, fp in hist[::-1][:len(hist) if window is None else window]:
                delta = fp * err
                g += np.outer(delta, z_s)
                err = W[:, m + 1:].T @ delta
            W = W + lr * g
        y = y_new
    return np.array(outs), W


def as_matrix(L):
    w = L.get_weights()
    return np.concatenate([w["W_x"], w["b"][:, None], w["W_y"]], axis=1)


@pytest.mark.parametrize("window", [None, 63, 64, 65, 80, 200])
def test_long_sequences_chunks_and_snapshots_at_every_phase_of_the_history_ring(window):
    """One sequence of 230 steps, then one of 70: the ring grows from 64
    slots to window + 1 (or to the sequence) and wraps.  learn_one,
    learn_many in random chunks with a state_arrays round trip (into a
    learner whose own ring is at another phase) or a pickle after every
    chunk, and the reference all agree; the two learners bit for bit."""
    import pickle

    m, K, H, T = 2, 2, 1, 300
    X, Y = stream(T, seed=5, m=m, K=K)
    resets = np.zeros(T, bool)
    resets[230] = True
    L = BPTT(m, K, H, window=window, lr=0.5, init_range=1.0, seed=1)
    out_ref, W_ref = bptt_reference(as_matrix(L), m, H + K, K, X, Y, resets, 0.5, window)
    A = L.clone()
    out_one = []
    for t in range(T):
        if resets[t]:
            A.reset()
        out_one.append(A.learn_one(X[t], Y[t]))
    rng = np.random.default_rng(window or 0)
    B, out_many, pos = L.clone(), [], 0
    while pos < T:
        end = min(T, pos + int(rng.integers(1, 90)))
        out_many.append(B.learn_many(X[pos:end], Y[pos:end], resets[pos:end]))
        pos = end
        C = L.clone()
        k = int(rng.integers(0, 230))
        C.learn_many(X[:k], Y[:k])  # its ring: another size, another phase
        C.load_state_arrays(B.state_arrays())
        B = pickle.loads(pickle.dumps(C)) if pos % 2 else C
    assert np.array_equal(np.array(out_one), np.vstack(out_many))
    assert same_state(A.state_arrays(), B.state_arrays())
    np.testing.assert_allclose(np.array(out_one), out_ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(as_matrix(A), W_ref, rtol=1e-11, atol=1e-13)
    rows = 70 if window is None else min(70, window)
    assert A.state_["history"].shape == (rows, m + 1 + 2 * (H + K))


def test_rtrl_long_sequences_chunks_and_snapshots_are_bit_identical():
    import pickle

    T = 260
    X, Y = stream(T, seed=6)
    L = RTRL(2, 2, 2, lr=0.5, init_range=1.0, seed=2)
    A, B = L.clone(), L.clone()
    out_one = [A.learn_one(X[t], Y[t]) for t in range(T)]
    out_many, pos, rng = [], 0, np.random.default_rng(7)
    while pos < T:
        end = min(T, pos + int(rng.integers(1, 70)))
        if end - pos > 1:  # the chunk's last step learned later
            out_many.append(B.learn_many(X[pos:end - 1], Y[pos:end - 1]))
        out_many.append(B.predict_one(X[end - 1])[None])
        C = pickle.loads(pickle.dumps(B))  # a pending step in the snapshot
        B = L.clone()
        B.load_state_arrays(C.state_arrays())
        B.learn_last(Y[end - 1])
        pos = end
    assert np.array_equal(np.array(out_one), np.vstack(out_many))
    assert same_state(A.state_arrays(), B.state_arrays())


# ---------------------------------------------------------------------------
# the exact gradient on the nets of Table 1, by central differences
# ---------------------------------------------------------------------------
def reber_net_loss(W, X, Y, n, K):
    y, E = np.zeros(n), 0.0
    for t in range(len(X)):
        y = f(W @ np.concatenate([X[t], y]))
        has = ~np.isnan(Y[t])
        E += 0.5 * np.sum((Y[t][has] - y[n - K:][has]) ** 2)
    return E


def test_rtrl_and_full_bptt_on_the_table_1_net_equal_central_differences():
    """RTRL(7, 7, 3, bias=False): 170 weights, one-hot inputs, 7 steps with
    some targets missing; no truncation, so the gradient of the summed
    error is exact (to the differences' own error)."""
    rng = np.random.default_rng(8)
    X = np.eye(7)[rng.integers(0, 7, 7)]
    Y = np.eye(7)[rng.integers(0, 7, 7)]
    Y[2] = np.nan
    Y[4, :3] = np.nan
    r = RTRL(7, 7, 3, bias=False, init_range=0.2, seed=3)
    r.set_weights({k: rng.uniform(-1, 1, v.shape) for k, v in r.get_weights().items()})
    w = r.get_weights()
    W = np.concatenate([w["W_x"], w["W_y"]], axis=1)
    assert W.size == r.n_params == 170
    eps, num = 1e-6, np.zeros_like(W)
    for idx in np.ndindex(W.shape):
        Wp, Wm = W.copy(), W.copy()
        Wp[idx] += eps
        Wm[idx] -= eps
        num[idx] = (reber_net_loss(Wp, X, Y, 10, 7) - reber_net_loss(Wm, X, Y, 10, 7)) / (2 * eps)
    b = BPTT(7, 7, 3, bias=False, seed=0)
    b.set_weights(w)
    for L in (r, b):
        g = L.gradient(X, Y)
        np.testing.assert_allclose(np.concatenate([g["W_x"], g["W_y"]], axis=1), num,
                                   rtol=1e-6, atol=1e-9)


# ---------------------------------------------------------------------------
# one harness for all learners: OnlineLSTM's API, no compilation on odd input
# ---------------------------------------------------------------------------
API = ("learn_one", "predict_one", "learn_many", "predict_many", "learn_last", "reset", "gradient",
       "get_weights", "set_weights", "state_arrays", "load_state_arrays", "save", "load", "restore",
       "clone", "get_params")
COUNTERS = ("n_steps_", "n_updates_", "n_resets_", "seq_step_", "pending_", "n_params", "weights",
            "state_", "lr")


@pytest.mark.parametrize("cls", [RTRL, BPTT])
def test_the_streaming_api_is_the_lstm_learner_s(cls):
    """Same methods with the same parameters (names, kinds, defaults), and
    the same counters, so the competitors run in OnlineLSTM's harness."""
    import inspect

    from online_lstm import OnlineLSTM

    def params(fn):
        return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]

    for name in API:
        assert params(getattr(cls, name)) == params(getattr(OnlineLSTM, name)), name
    m, lstm = cls(3, 2, 1, seed=0), OnlineLSTM(3, 2, seed=0)
    for name in COUNTERS:
        assert type(getattr(m, name)) is type(getattr(lstm, name)), name
    X, Y = stream(5, m=3)
    for learner in (m, lstm):
        learner.learn_many(X[:4], Y[:4])
        learner.predict_one(X[4])
        assert (learner.n_steps_, learner.seq_step_, learner.pending_) == (5, 5, True)
        learner.reset()
        assert (learner.n_resets_, learner.seq_step_, learner.pending_) == (1, 0, False)


def test_odd_dtypes_and_layouts_are_converted_never_compiled():
    """float32/int/strided/Fortran/read-only input goes through the float64
    entry points (the compiled signatures stay as they were) with the bits
    of float64 input; a bad out buffer is refused, never compiled for."""
    from online_lstm.baselines import _entry

    dispatchers = (_entry.step, _entry.run, _entry.learn_last, _entry.reset)
    sigs = {d: list(d.signatures) for d in dispatchers}
    for cls in (RTRL, BPTT):
        a, b = cls(3, 2, 1, seed=0), cls(3, 2, 1, seed=0)
        X = np.array([[1.0, 0.0, 2.0], [0.5, 0.25, -1.0], [0.0, 3.0, 1.0]])
        Y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])  # exact in every dtype used
        ro = X[2].copy()
        ro.flags.writeable = False
        oa = [a.learn_one(X[0].astype(np.float32), Y[0].astype(np.float16)),
              a.predict_one(np.asfortranarray(np.c_[X[1], X[1]])[:, 0]),
              a.learn_many(np.asfortranarray(X[2:]), Y[2:].astype(np.int64)),
              a.predict_many(ro[None])]
        a.learn_last(Y[2].astype(np.float32))
        ob = [b.learn_one(X[0], Y[0]), b.predict_one(X[1]), b.learn_many(X[2:], Y[2:]),
              b.predict_many(X[2:])]
        b.learn_last(Y[2])
        for u, v in zip(oa, ob):
            assert np.array_equal(u, v)
        assert same_state(a.state_arrays(), b.state_arrays())
        before = a.state_arrays()
        for out in (np.zeros(2, np.float32), np.zeros(4)[::2], np.zeros((1, 2))):
            with pytest.raises(InputError, match="out must be"):
                a.learn_one(X[0], Y[0], out=out)
        assert same_state(before, a.state_arrays())
    assert {d: list(d.signatures) for d in dispatchers} == sigs
