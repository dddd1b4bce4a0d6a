"""Helpers of the state tests: bad calls, good calls, carrying a learner over.

A *chooser* supplies the random decisions, so the same generators serve a
plain NumPy-seeded loop (:class:`RngChooser`, counted and fast) and
hypothesis (:class:`DataChooser`, which can shrink a failure).

A bad case is ``(label, call, expected_exception, message_regex)``: ``call(m)``
must raise ``expected_exception`` with a message matching the regex and leave
the learner bit-for-bit unchanged.
"""

from __future__ import annotations

import copy
import os
import pickle

import numpy as np

from online_lstm import InputError, NoPendingStepError, OnlineLSTM
from online_lstm.layout import H_DWMAX, H_LR, H_STATE_BOUND, H_TMAX, H_WMAX, META

NONFINITE = (np.nan, np.inf, -np.inf)


class RngChooser:
    """Decisions from a NumPy generator."""

    def __init__(self, rng):
        self.rng = rng

    def integers(self, lo, hi):
        """An int in [lo, hi] (inclusive)."""
        return int(self.rng.integers(lo, hi + 1))

    def choice(self, seq):
        return seq[int(self.rng.integers(len(seq)))]

    def uniform(self, shape):
        return self.rng.uniform(-1.0, 1.0, size=shape)


class DataChooser:
    """Decisions drawn by hypothesis (``st.data()``)."""

    def __init__(self, data):
        from hypothesis import strategies as st

        self.data, self.st = data, st
        self._rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="values seed"))

    def integers(self, lo, hi):
        return self.data.draw(self.st.integers(lo, hi))

    def choice(self, seq):
        return seq[self.data.draw(self.st.integers(0, len(seq) - 1))]

    def uniform(self, shape):  # values are not where the bugs are; positions and kinds are
        return self._rng.uniform(-1.0, 1.0, size=shape)


def same_bits(a, b) -> bool:
    """Same dtype, shape and bytes: bit-identical (``np.array_equal`` would
    take -0.0 for +0.0, and fails on NaN, which a state may hold)."""
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def same_state(a: dict, b: dict) -> bool:
    """Two ``state_arrays()`` dicts hold the same arrays, bit for bit."""
    return a.keys() == b.keys() and all(same_bits(a[k], b[k]) for k in a)


def refused_unchanged(m, call, match, exc=InputError):
    """``call()`` raises ``exc`` matching ``match`` and leaves ``m``'s state
    bit for bit as it was; returns the raised exception."""
    import pytest

    before = m.state_arrays()
    with pytest.raises(exc, match=match) as err:
        call()
    assert same_state(before, m.state_arrays())
    return err.value


def pushed_for_reset() -> OnlineLSTM:
    """A learner (update="sequence") whose next reset would take W_c to
    1.5e150, beyond the bound: its reset is refused, its steps are not."""
    m = OnlineLSTM(1, 1, 1, 1, seed=0, update="sequence")
    m.set_weights(W_c=np.full((1, 4), 0.9e150))
    s = m.state_arrays()
    s["dW"][:] = 0.6e150
    s["header"][H_DWMAX] = 0.6e150
    m.load_state_arrays(s)
    return m


def state_is_finite(m) -> bool:
    """Weights, accumulated update, traces, step record and the magnitude
    bounds are finite (``state_bound`` may legitimately be inf)."""
    s = m.state_arrays()
    bounds = s["header"][[H_TMAX, H_WMAX, H_DWMAX]]
    return all(np.all(np.isfinite(s[k])) for k in ("theta", "dW", "T", "record")) and \
        bool(np.all(np.isfinite(bounds)))


# ---------------------------------------------------------------------------
# bad values
# ---------------------------------------------------------------------------


def bad_vector(c, n, name):
    """A bad stand-in for a float64 vector of length ``n``; (value, regex)."""
    kind = c.choice(["length", "ndim", "nonfinite", "dtype", "type"])
    if kind == "length":
        return c.uniform(c.choice([k for k in range(0, n + 4) if k != n])), r"shape"
    if kind == "ndim":
        # (a 0-d target is the one target of a single output, and a 0-d input the
        # one input of a single input unit, so not bad there)
        shape = c.choice([(1, n), (n, 1), (2, n), (1, 1, n)] + ([] if n == 1 else [()]))
        return c.uniform(shape), r"shape|D with shape"
    if kind == "nonfinite":
        v = c.uniform(n)
        v[c.integers(0, n - 1)] = c.choice(NONFINITE if name == "x" else (np.inf, -np.inf))
        return v, "finite"
    if kind == "dtype":
        v = c.choice([
            np.full(n, 1 + 1j), np.array(["a"] * n), np.array([None] * n, dtype=object),
            np.zeros(n, "datetime64[s]"), np.zeros(n, "timedelta64[s]"), np.array([b"x"] * n),
        ])
        return v, "float64"
    v = c.choice([None, {"a": 1.0}, "abc", object(), [0.1] * (n - 1) + ["a"],
                  [0.1] * (n - 1) + [None], [[0.1] * n, [0.1] * (n + 1)]])
    return v, "float64|shape"


def bad_matrix(c, T, n, name):
    """A bad stand-in for a (T, n) float64 matrix; (value, regex)."""
    kind = c.choice(["cols", "rows", "ndim", "nonfinite", "dtype"])
    if kind == "cols":
        return c.uniform((T, c.choice([k for k in range(0, n + 3) if k != n]))), "shape"
    if kind == "rows" and name == "Y":
        return c.uniform((c.choice([k for k in range(0, T + 3) if k != T]), n)), "shape"
    if kind == "ndim":
        # (with one unit, a 1-D X or Y is one value per step, so not bad there)
        return c.uniform(c.choice([(T * n + 1,), (T, n, 1), ()])) if n != 1 \
            else c.uniform(c.choice([(T, 1, 1), ()])), "D with shape|shape"
    if kind == "dtype":
        return c.choice([np.full((T, n), 1j), np.full((T, n), "a"),
                         np.full((T, n), None, dtype=object)]), "float64"
    v = c.uniform((T, n))
    row = c.integers(0, T - 1)
    v[row, c.integers(0, n - 1)] = c.choice(NONFINITE if name == "X" else (np.inf, -np.inf))
    return v, f"row {row}"


def bad_resets(c, T):
    return c.choice([
        np.zeros(c.choice([k for k in range(0, T + 3) if k != T]), bool),
        np.full(T, 2), np.full(T, 0.5), np.zeros((T, 1), bool), np.full(T, -1),
    ]), "resets"


def bad_out(c, shape):
    kind = c.choice(["shape", "dtype", "readonly", "strided", "list"])
    if kind == "strided" and shape[-1] == 1:  # a strided one-element row is contiguous
        kind = "readonly"
    if kind == "shape":
        wrong = c.choice([(shape[0] + 1,) + shape[1:], (1,) + shape, shape[:-1]])
        return np.zeros(wrong)
    if kind == "dtype":
        return np.zeros(shape, dtype=c.choice([np.float32, np.int64, np.complex128]))
    if kind == "readonly":
        o = np.zeros(shape)
        o.flags.writeable = False
        return o
    if kind == "strided":
        return np.zeros(shape[:-1] + (2 * shape[-1],))[..., ::2]
    return np.zeros(shape).tolist()


# ---------------------------------------------------------------------------
# bad calls
# ---------------------------------------------------------------------------


def bad_delayed(c, m, y):
    """A bad learn_delayed call: an age with no snapshot, a bad target, or a
    second target for an output that already has one."""
    K, D = m.layout.n_out, m.layout.max_delay
    oldest = min(D, m.n_steps_ - 1)
    which = c.choice(["age", "y", "twice"])
    if which == "twice" and oldest >= 0:
        age = c.integers(0, oldest)
        done = ~m.open_targets(age)
        if done.any():
            yy = np.where(done, y, np.nan)
            return lambda m: m.learn_delayed(yy, age), NoPendingStepError, "already had one"
    if which == "y" and oldest >= 0:
        v, rx = bad_vector(c, K, "y")
        if v is not None:
            return lambda m: m.learn_delayed(v, int(c.integers(0, oldest))), InputError, rx
    age = c.choice([-1, oldest + 1, D + 1 + c.integers(0, 3), 1.0, None])
    return lambda m: m.learn_delayed(y, age), InputError, "age"


def bad_case(c, m):
    """One bad call for learner ``m`` in its current state."""
    lay = m.layout
    n, K = lay.n_in, lay.n_out
    x, y = c.uniform(n), c.uniform(K) * 0.5 + 0.5
    kinds = ["learn_x", "learn_y", "learn_out", "predict_x", "predict_out", "many_X", "many_Y",
             "many_resets", "many_out", "many_noY", "pmany_X", "pmany_resets", "set_weights",
             "lr", "state_bound", "load_state", "learn_last"]
    if lay.max_delay:
        kinds.append("learn_delayed")
    kind = c.choice(kinds)
    if kind == "learn_delayed":
        return (kind,) + bad_delayed(c, m, y)
    if kind == "learn_x":
        v, rx = bad_vector(c, n, "x")
        return kind, lambda m: m.learn_one(v, y), InputError, rx
    if kind == "learn_y":
        v, rx = bad_vector(c, K, "y")
        if v is None:  # y=None is "no target", a valid call
            v, rx = np.full(K + 1, 0.5), "shape"
        if K > 1 and c.integers(0, 5) == 0:
            v, rx = 0.5, "scalar target"
        return kind, lambda m: m.learn_one(x, v), InputError, rx
    if kind == "learn_out":
        o = bad_out(c, (K,))
        return kind, lambda m: m.learn_one(x, y, out=o), InputError, "out"
    if kind == "predict_x":
        v, rx = bad_vector(c, n, "x")
        return kind, lambda m: m.predict_one(v), InputError, rx
    if kind == "predict_out":
        o = bad_out(c, (K,))
        return kind, lambda m: m.predict_one(x, out=o), InputError, "out"
    T = c.integers(1, 12)
    X, Y = c.uniform((T, n)), c.uniform((T, K)) * 0.5 + 0.5
    if kind == "many_X":
        v, rx = bad_matrix(c, T, n, "X")
        return kind, lambda m: m.learn_many(v, Y), InputError, rx
    if kind == "many_Y":
        v, rx = bad_matrix(c, T, K, "Y")
        return kind, lambda m: m.learn_many(X, v), InputError, rx
    if kind == "many_noY":
        return kind, lambda m: m.learn_many(X, None), InputError, "Y must be"
    if kind == "many_resets":
        r, rx = bad_resets(c, T)
        return kind, lambda m: m.learn_many(X, Y, r), InputError, rx
    if kind == "many_out":
        o = bad_out(c, (T, K))
        return kind, lambda m: m.learn_many(X, Y, out=o), InputError, "out"
    if kind == "pmany_X":
        v, rx = bad_matrix(c, T, n, "X")
        return kind, lambda m: m.predict_many(v), InputError, rx
    if kind == "pmany_resets":
        r, rx = bad_resets(c, T)
        return kind, lambda m: m.predict_many(X, r), InputError, rx
    if kind == "set_weights":
        name = c.choice(list(lay.shapes))
        shape = lay.shapes[name]
        which = c.choice(["unknown", "shape", "nonfinite", "huge", "dtype"])
        if which == "unknown":
            kw, rx = {c.choice(["W_x", "w_in", "b_z", "theta"]): 0.0}, "unknown parameter"
        elif which == "shape":
            kw, rx = {name: np.zeros(tuple(s + 1 for s in shape))}, "shape"
        elif which == "dtype":
            kw, rx = {name: np.full(shape, "a")}, "float64"
        else:
            w = c.uniform(shape)
            w.reshape(-1)[c.integers(0, w.size - 1)] = (c.choice(NONFINITE) if which == "nonfinite"
                                                        else c.choice([1e151, -1e200]))
            kw, rx = {name: w}, "finite" if which == "nonfinite" else "magnitude"
        if c.integers(0, 2) == 0 and name != "W_k":  # a good array alongside: nothing is written
            kw["W_k"] = np.zeros(lay.shapes["W_k"])
        return kind, lambda m: m.set_weights(**kw), InputError, rx
    if kind == "lr":
        v = c.choice([-0.1, np.nan, np.inf, -np.inf, "0.1", None, 1j])
        return kind, lambda m: setattr(m, "lr", v), ValueError, "lr must be"
    if kind == "state_bound":
        v = c.choice([0.0, -1.0, np.nan, "1e6", None, 1j])
        return kind, lambda m: setattr(m, "state_bound", v), ValueError, "state_bound must be"
    if kind == "load_state":
        return (kind,) + bad_state(c, m)
    # learn_last: a pending step with a bad target, or no pending step ("a reset at the
    # wrong moment": predict_one, reset, learn_last)
    if m.pending_:
        v, rx = bad_vector(c, K, "y")
        if v is None:
            v, rx = np.zeros(K + 2), "shape"
        return kind, lambda m: m.learn_last(v), InputError, rx
    return kind, lambda m: m.learn_last(y), NoPendingStepError, "learn_last needs"


def bad_state(c, m):
    """A corrupted ``state_arrays`` dict for ``m``: (call, exception, regex)."""
    s = m.state_arrays()
    key = c.choice(["missing", "length", "dtype", "nonfinite", "header"])
    if key == "missing":
        del s[c.choice(list(s))]
        rx = "missing"
    elif key == "length":
        k = c.choice(list(s))
        s[k] = np.zeros(s[k].shape[0] + c.choice([-1, 1, 8]))
        rx = "shape"
    elif key == "dtype":
        k = c.choice(list(s))
        s[k] = s[k].astype(c.choice([np.float32, np.int64]))
        rx = "float64"
    elif key == "nonfinite":
        k = c.choice(["theta", "dW", "T", "record"])
        s[k][c.integers(0, s[k].shape[0] - 1)] = c.choice(NONFINITE)
        rx = "non-finite"
    else:
        h = s["header"]
        slot = c.choice(["layout", "bank", "pending", "accum", "counter", "seq", "lr", "bound", "max"])
        if slot == "layout":
            h[META[c.choice(["n_in", "K", "C", "S", "theta", "T", "bank0", "r_s", "xs"])]] += 1
            rx = "different architecture"
        elif slot == "bank":
            h[META["bank"]] = c.choice([2.0, -1.0, 0.5])
            rx = "corrupt"
        elif slot == "pending":
            h[META["pending"]] = c.choice([2.0, 0.5, np.nan])
            rx = "corrupt"
        elif slot == "accum":
            h[META["accum"]] = c.choice([2.0, 1.0 - h[META["accum"]]])
            rx = "accumulation mode"
        elif slot == "counter":
            h[META[c.choice(["step", "seq_step", "n_resets", "n_updates"])]] = c.choice(
                [-1.0, 0.5, np.nan, np.inf])
            rx = "counter"
        elif slot == "seq":  # more steps since the reset than steps
            h[META["seq_step"]] = h[META["step"]] + c.choice([1.0, 100.0])
            rx = "seq_step"
        elif slot == "lr":
            h[H_LR] = c.choice([np.nan, -0.5, np.inf])
            rx = "lr ="
        elif slot == "bound":
            h[H_STATE_BOUND] = c.choice([0.0, -1.0, np.nan])
            rx = "state_bound ="
        else:  # a bound on max|theta|, max|T| or max|dW| below the truth
            slot, key = c.choice([(H_WMAX, "theta"), (H_TMAX, "T"), (H_DWMAX, "dW")])
            true_max = np.max(np.abs(s[key]), initial=0.0)
            h[slot] = c.choice([-1.0, np.nan, np.inf] + ([true_max / 2] if true_max > 0 else []))
            rx = "bound on max"
    return (lambda m: m.load_state_arrays(s)), InputError, rx


# ---------------------------------------------------------------------------
# good calls (applied to a learner and to its twin)
# ---------------------------------------------------------------------------


def good_op(c, m):
    """A random valid call, as a function of the learner (deterministic)."""
    lay = m.layout
    n, K = lay.n_in, lay.n_out
    kinds = ["learn", "learn", "learn", "predict", "learn_last", "reset", "many"]
    kind = c.choice(kinds + ["predict", "delayed"] if lay.max_delay else kinds)
    x = c.uniform(n)
    if c.integers(0, 3) == 0:
        x[:] = 0.0
        x[c.integers(0, n - 1)] = 1.0  # one-hot rows exercise the zero-skipping
    y = c.uniform(K) * 0.5 + 0.5
    if c.integers(0, 3) == 0:
        y[c.integers(0, K - 1)] = np.nan
    if kind == "learn":
        return lambda m: m.learn_one(x, y)
    if kind == "predict":
        return lambda m: m.predict_one(x)
    if kind == "learn_last":
        return lambda m: m.learn_last(y) if m.pending_ else m.learn_one(x, y)
    if kind == "delayed":
        a = c.integers(0, 64)

        def delayed(m):
            if m.n_steps_ == 0:
                return m.learn_one(x, y)
            age = a % (min(lay.max_delay, m.n_steps_ - 1) + 1)
            return m.learn_delayed(np.where(m.open_targets(age), y, np.nan), age)
        return delayed
    if kind == "reset":
        return lambda m: m.reset()
    T = c.integers(1, 8)
    X, Y = c.uniform((T, n)), c.uniform((T, K)) * 0.5 + 0.5
    r = np.array([c.integers(0, 9) == 0 for _ in range(T)])
    return lambda m: m.learn_many(X, Y, r)


# ---------------------------------------------------------------------------
# carrying a learner over (save/load/resume)
# ---------------------------------------------------------------------------

MECHANISMS = ("load", "restore", "pickle", "deepcopy", "state_arrays")


def carry_over(m, how, directory, tag=0, fsync=True):
    """A new learner holding ``m``'s state, by one of MECHANISMS (``m`` may be
    an OnlineLSTM, a LearnerBank or a competitor learner: each has ``save``,
    ``load``, ``restore``, ``clone`` and the state arrays).  ``fsync=False``
    saves without forcing the file to disk (the same bytes, faster)."""
    path = os.path.join(directory, f"ckpt{tag}.npz")
    if how == "load":
        m.save(path, fsync=fsync)
        return type(m).load(path)
    if how == "restore":
        m.save(path, fsync=fsync)
        changes = dict(seed=12345, lr=0.77)  # same architecture, other weights and rate
        if hasattr(m, "state_bound"):
            changes["state_bound"] = 3e3
        other = m.clone(**changes)
        other.restore(path)
        return other
    if how == "pickle":
        return pickle.loads(pickle.dumps(m))
    if how == "deepcopy":
        return copy.deepcopy(m)
    other = m.clone()
    other.load_state_arrays(m.state_arrays())
    return other


def resumed_run(m, X, Y, resets, deferred, points, directory):
    """Run step by step, carrying the learner over at every (t, how, before_learn_last)."""
    outs, n_points = [], 0
    at = {}
    for t, how, mid in points:
        at.setdefault((t, mid), how)
    for t in range(len(X)):
        if resets[t]:
            m.reset()
        if deferred[t]:
            outs.append(m.predict_one(X[t]))
            if (t, True) in at:  # between acting and learning: a pending step is carried over
                before = m.state_arrays()
                m = carry_over(m, at[(t, True)], directory, n_points)
                assert same_state(before, m.state_arrays())
                n_points += 1
            m.learn_last(Y[t])
        else:
            outs.append(m.learn_one(X[t], Y[t]))
        if (t, False) in at:
            before = m.state_arrays()
            m = carry_over(m, at[(t, False)], directory, n_points)
            assert same_state(before, m.state_arrays())
            n_points += 1
    return m, np.array(outs).reshape(len(X), m.layout.n_out), n_points
