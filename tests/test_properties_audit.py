"""What the property tests of ``test_properties.py`` left out, found by an
audit that counted what a default run draws (so not guesses):

* the architecture strategy never drew a forget gate or peepholes (now it
  does; :func:`test_the_architecture_strategy_spans_every_option` asserts the
  spread of every option);
* the resume property reached 150 resume points in a default run, unasserted
  (``test_checkpoint.py`` counts 1,056, but on 8 fixed architectures without
  forget gate, peepholes or a window for delayed targets, and only with
  ``learn_one`` / ``predict_one`` + ``learn_last``);
* ``learn_delayed`` with an age above 0 was never compared with the
  reference on random architectures, and no property ran a ``LearnerBank``
  or the competitors (RTRL, BPTT);
* nothing showed that the harness can see a corruption: that a bad call
  which changes one number of the state before refusing is caught, and that
  ``state_arrays()`` (what ``same_state`` compares) holds everything a
  learner reads.

Every test is deterministic (hypothesis derandomized, or NumPy seeds).
"""

from __future__ import annotations

import collections
import re
import tempfile

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import online_lstm.kernels as _k
import online_lstm.learner as _learner
from online_lstm import DivergenceError, InputError, LearnerBank, NoPendingStepError, OnlineLSTM
from online_lstm.baselines import BPTT, RTRL
from online_lstm.layout import HEADER_SIZE, META

from reference import ReferenceLSTM
from statecheck import MECHANISMS, RngChooser, bad_case, carry_over, good_op, same_bits, same_state
from test_properties import (
    EXTENDED, assert_close_to_reference, check_bad_call, configs, examples, streams,
)
from conftest import ATOL, RTOL

BIASES = ("gates", "hidden", "all", "none", "ga", "b1")


@pytest.fixture(scope="module")
def ckpt_dir():
    with tempfile.TemporaryDirectory() as d:
        yield d


def run_op(m, op):
    """Run a good call; its result, or the divergence it was refused with."""
    try:
        out = op(m)
    except DivergenceError as err:
        return ("diverged", err.step, err.reason, err.row)
    return None if out is None else np.array(out, copy=True)


def same_results(a, b):
    if isinstance(a, tuple) or isinstance(b, tuple) or a is None or b is None:
        return type(a) is type(b) and (a is None or isinstance(a, tuple) and a == b)
    return same_bits(a, b)


# ---------------------------------------------------------------------------
# the strategy spans the architecture space
# ---------------------------------------------------------------------------


def test_the_architecture_strategy_spans_every_option():
    """Every value of every option of ``configs()`` is drawn, and each
    switch of the later options with and without the other: counted over
    300 derandomized draws.  (Before the audit, forget_gate and peepholes
    were drawn 0 times in 841 learners built by a default run.)"""
    drawn = collections.defaultdict(collections.Counter)

    @examples(300)
    @given(cfg=configs())
    def draw(cfg):
        OnlineLSTM(**cfg)  # every drawn config builds
        for key in ("connectivity", "output_gates", "bias", "g", "h", "update", "forget_gate",
                    "peepholes"):
            drawn[key][cfg[key]] += 1
        drawn["window"][cfg.get("max_delay", 0) > 0] += 1
        drawn["fg+ph"][(cfg["forget_gate"], cfg["peepholes"])] += 1
        drawn["in_gate_bias given"]["in_gate_bias" in cfg] += 1
        drawn["n_blocks"][cfg["n_blocks"]] += 1
        drawn["block_size"][cfg["block_size"]] += 1
        if cfg["forget_gate"]:
            fgb = cfg["forget_gate_bias"]
            drawn["forget_gate_bias"]["random" if fgb is None else "given"] += 1

    draw()
    want = {"connectivity": {"F", "B"}, "output_gates": {True, False}, "bias": set(BIASES),
            "g": {"g1", "g2"}, "h": {"h1", "id"}, "update": {"step", "sequence"},
            "forget_gate": {True, False}, "peepholes": {True, False}, "window": {True, False},
            "fg+ph": {(a, b) for a in (True, False) for b in (True, False)},
            "in_gate_bias given": {True, False}, "n_blocks": {1, 2, 3}, "block_size": {1, 2, 3},
            "forget_gate_bias": {"random", "given"}}
    for key, values in want.items():
        assert set(drawn[key]) == values, (key, dict(drawn[key]))
        assert min(drawn[key].values()) >= 10, (key, dict(drawn[key]))  # not a one-off


# ---------------------------------------------------------------------------
# >= 1,000 resume points on random architectures, every API call
# ---------------------------------------------------------------------------


def balanced_config(rng, i):
    """Architecture i of a list in which every combination of connectivity,
    output gates, forget gate, peepholes and a window appears once per 32;
    the rest drawn."""
    bits = [(i >> k) & 1 for k in range(5)]
    bias = BIASES[rng.integers(len(BIASES))]
    cfg = dict(n_in=int(rng.integers(1, 5)), n_out=int(rng.integers(1, 4)),
               n_blocks=int(rng.integers(1, 4)), block_size=int(rng.integers(1, 4)),
               connectivity="FB"[bits[0]], output_gates=bool(bits[1]), forget_gate=bool(bits[2]),
               peepholes=bool(bits[3]), bias=bias, g=("g2", "g1")[rng.integers(2)],
               h=("h1", "id")[rng.integers(2)], init_range=float(rng.uniform(0.05, 1.5)),
               lr=float(rng.uniform(0.01, 0.8)), update=("step", "sequence")[rng.integers(2)],
               on_divergence=("raise", "reset")[rng.integers(2)],
               state_bound=(1e6, 3.0, 1.0)[rng.integers(3)], seed=int(rng.integers(2**32)))
    if bits[4]:
        cfg["max_delay"] = int(rng.integers(1, 5))
    if cfg["forget_gate"] and bias == "none":
        cfg["forget_gate_bias"] = None
    if bias != "none" and rng.random() < 0.3:
        cfg["in_gate_bias"] = float(rng.uniform(-3.0, 0.0))
    return cfg


def program_op(c, m):
    """A good call of any kind for learners like ``m``: those of
    :func:`statecheck.good_op`, and predict_many, learn_one without a target,
    a change of the learning rate."""
    kind = c.integers(0, 9)
    n = m.layout.n_in
    if kind == 0:
        X = c.uniform((c.integers(1, 6), n))
        r = np.array([c.integers(0, 5) == 0 for _ in range(X.shape[0])])
        return lambda m: m.predict_many(X, r)
    if kind == 1:
        x = c.uniform(n)
        return lambda m: m.learn_one(x, None)
    if kind == 2:
        lr = c.choice([0.0, 0.05, 0.3, 0.9])
        return lambda m: setattr(m, "lr", lr)
    return good_op(c, m)


def where_we_are(m):
    """What a resume point carries over: a pending step, open snapshots of
    earlier steps, an accumulated update, a recovered divergence."""
    tags = set()
    if m.pending_:
        tags.add("pending")
    D = m.layout.max_delay
    if D and any(m.open_targets(a).any() for a in range(1, min(D, m.n_steps_ - 1) + 1)):
        tags.add("open older snapshot")
    if np.any(m.state_arrays()["dW"] != 0.0):
        tags.add("accumulated update")
    if m.seq_step_:
        tags.add("mid-sequence")
    return tags


def test_1000_resume_points_on_random_architectures_and_every_call(ckpt_dir):
    """The issue's target, on random architectures (every combination of
    connectivity, output gates, forget gate, peepholes and a window, all bias
    codes, g, h, both update modes and divergence policies) and random
    programs of every good call (learn_one, predict_one, learn_last,
    learn_delayed of any age, learn_many, predict_many, reset, lr changes,
    divergences): a learner carried over after >= 1,000 random calls, by
    every mechanism, continues bit-identically to the uninterrupted one
    (every result, every refusal, the final state, the parameters and the
    divergence count)."""
    total, mechanisms, tags = 0, collections.Counter(), collections.Counter()
    for i in range(32):
        rng = np.random.default_rng([20240, i])
        cfg = balanced_config(rng, i)
        c = RngChooser(rng)
        tmpl = OnlineLSTM(**cfg)
        ops = [program_op(c, tmpl) for _ in range(60)]
        points = set(rng.choice(len(ops), size=33, replace=False).tolist())
        a, b = OnlineLSTM(**cfg), OnlineLSTM(**cfg)
        res_a = [run_op(a, op) for op in ops]
        lost_divergences = 0  # n_divergences_ is not a state array (documented)
        for j, op in enumerate(ops):
            got = run_op(b, op)
            assert same_results(res_a[j], got), (i, j, cfg)
            if j in points:
                how = MECHANISMS[(i + total) % len(MECHANISMS)]
                before, n_div = b.state_arrays(), b.n_divergences_
                tags.update(where_we_are(b))
                if b.n_divergences_ or any(isinstance(r, tuple) for r in res_a[:j + 1]):
                    tags["after a divergence"] += 1  # recovered ("reset") or refused ("raise")
                b = carry_over(b, how, ckpt_dir, total % 4, fsync=False)
                assert same_state(before, b.state_arrays()), (i, j, how)
                if how == "state_arrays":
                    lost_divergences += n_div
                else:
                    assert b.n_divergences_ == n_div, (i, j, how)
                mechanisms[how] += 1
                total += 1
        assert same_state(a.state_arrays(), b.state_arrays()), (i, cfg)
        assert a.get_params() == b.get_params()
        assert a.n_divergences_ == b.n_divergences_ + lost_divergences
    assert total >= 1000
    assert min(mechanisms.values()) >= 190 and set(mechanisms) == set(MECHANISMS), mechanisms
    # the points are not all trivial (measured: about twice each of these)
    for tag, least in (("pending", 100), ("open older snapshot", 100), ("accumulated update", 200),
                       ("after a divergence", 50), ("mid-sequence", 500)):
        assert tags[tag] >= least, (tag, tags)


def test_10000_bad_calls_on_random_architectures_change_nothing():
    """``test_properties.py`` counts its 10,000 bad calls on 10 fixed
    architectures (one with a forget gate and peepholes, two with a window:
    106 bad ``learn_delayed`` calls).  The same generator on 40 random
    architectures (every combination of connectivity, output gates, forget
    gate, peepholes and a window; any bias code, g, h, update mode,
    divergence policy and state bound), good calls of every kind in between:
    0 corruptions, 0 other exceptions, 0 silent passes, and each learner ends
    with the bits of a twin that saw only the good calls."""
    problems, n, kinds = [], 0, collections.Counter()
    for i in range(40):
        rng = np.random.default_rng([31337, i])
        cfg = balanced_config(rng, i)
        m, twin = OnlineLSTM(**cfg), OnlineLSTM(**cfg)
        c = RngChooser(rng)
        for _ in range(251):
            case = bad_case(c, m)
            kinds[case[0]] += 1
            problem = check_bad_call(m, case)
            n += 1
            if problem:
                problems.append(f"{i}: {problem}")
            op = program_op(c, m)
            if not same_results(run_op(m, op), run_op(twin, op)):
                problems.append(f"{i}: a good call after the bad ones gave other results")
        if not same_state(m.state_arrays(), twin.state_arrays()) \
                or m.n_divergences_ != twin.n_divergences_:
            problems.append(f"{i}: differs from its twin after the bad calls")
    assert n >= 10_000
    assert len(kinds) == 18 and kinds["learn_delayed"] >= 150, kinds  # (measured: 223)
    assert problems == [], problems[:10]


# ---------------------------------------------------------------------------
# the delayed-target API against the reference, on random architectures
# ---------------------------------------------------------------------------


def run_reference_delayed(m, X, resets, plan, ways, dtype):
    """The reference fed what :func:`run_delayed` feeds the learner."""
    w = {k: v.astype(dtype) for k, v in m.get_weights().items()}
    ref = ReferenceLSTM(m.layout, w, dtype(m.lr), accumulate=m.update == "sequence")
    outs = []
    for t in range(len(X)):
        if resets[t]:
            ref.reset()
        now = plan.get((t, t))
        outs.append(ref.step(X[t], now if ways[t] == "learn_one" else None))
        if now is not None and ways[t] != "learn_one":
            ref.learn_from(-1, now)
        for (when, s), y in plan.items():
            if when == t and s < t:
                ref.learn_from(-1 - (t - s), y)
    ref.reset()
    return np.array(outs), ref.weights()


def run_delayed(m, X, resets, plan, ways):
    outs = []
    for t in range(len(X)):
        if resets[t]:
            m.reset()
        now = plan.get((t, t))
        if ways[t] == "learn_one":
            outs.append(m.learn_one(X[t], now))
        else:
            outs.append(m.predict_one(X[t]))
            if now is not None:
                (m.learn_last if ways[t] == "learn_last" else lambda y: m.learn_delayed(y, 0))(now)
        for (when, s), y in plan.items():
            if when == t and s < t:
                m.learn_delayed(y, t - s)
    m.reset()
    return np.array(outs)


@examples(50)
@given(data=st.data())
def test_delayed_targets_agree_with_the_reference(data):
    """Targets for random outputs of random steps, delivered 0..max_delay steps
    late (in pieces, across resets), by learn_one, predict_one + learn_last,
    predict_one + learn_delayed(y, 0) and learn_delayed(y, age): outputs and
    weights agree with the reference's ``learn_from`` on random
    architectures (forget gate and peepholes included)."""
    cfg = data.draw(configs(max_delay=data.draw(st.integers(1, 4)),
                            lr=data.draw(st.floats(0.01, 0.5)),
                            init_range=data.draw(st.floats(0.05, 0.5))))
    m = OnlineLSTM(**cfg)
    D, K = cfg["max_delay"], cfg["n_out"]
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    T = data.draw(st.integers(1, 40))
    X = rng.uniform(-1.0, 1.0, (T, cfg["n_in"]))
    resets = rng.random(T) < 0.1
    plan = {}  # (delivery step, step) -> target
    for s in range(T):
        for k in range(K):
            if rng.random() < 0.6:
                when = min(s + int(rng.integers(0, D + 1)), T - 1)
                plan.setdefault((when, s), np.full(K, np.nan))[k] = rng.uniform(0.0, 1.0)
    ways = [("learn_one", "learn_last", "delayed0")[rng.integers(3)] for _ in range(T)]
    w0 = m.get_weights()
    out = run_delayed(m, X, resets, plan, ways)
    m2 = OnlineLSTM(**cfg)
    m2.set_weights(w0)
    ref_out, ref_w = run_reference_delayed(m2, X, resets, plan, ways, np.float64)
    if np.allclose(out, ref_out, rtol=RTOL, atol=ATOL) and all(
            np.allclose(v, ref_w[k], rtol=RTOL, atol=ATOL) for k, v in m.get_weights().items()):
        return
    assert EXTENDED, "differs from the reference beyond RTOL/ATOL"
    long_out, long_w = run_reference_delayed(m2, X, resets, plan, ways, np.longdouble)
    assert_close_to_reference(out, ref_out, long_out, "outputs")
    for k, v in m.get_weights().items():
        assert_close_to_reference(v, ref_w[k], long_w[k], k)


# ---------------------------------------------------------------------------
# the bank: equals its learners run apart, resumes bit-identically
# ---------------------------------------------------------------------------


def bank_op(c, bank):
    """A random good bank call, and the same calls for separate learners:
    (bank call, [learner call for each learner])."""
    lay, N = bank.layout, bank.n_learners
    n, K, D = lay.n_in, lay.n_out, lay.max_delay
    kind = c.choice(["learn", "learn", "predict", "last", "many", "pmany", "reset"]
                    + (["delayed", "delayed"] if D else []))

    def targets(shape):
        Y = c.uniform(shape) * 0.5 + 0.5
        Y[c.uniform(shape) < -0.4] = np.nan
        return Y

    if kind in ("learn", "predict"):
        X, Y, r = c.uniform((N, n)), targets((N, K)), c.uniform(N) < -0.6
        if kind == "learn":
            return (lambda b: b.learn_one(X, Y, r),
                    [lambda m, l=l: (m.reset() if r[l] else None, m.learn_one(X[l], Y[l]))[1]
                     for l in range(N)])
        return (lambda b: b.predict_one(X, r),
                [lambda m, l=l: (m.reset() if r[l] else None, m.predict_one(X[l]))[1]
                 for l in range(N)])
    if kind in ("many", "pmany"):
        T = c.integers(1, 6)
        X, Y, r = c.uniform((N, T, n)), targets((N, T, K)), c.uniform((N, T)) < -0.7
        if kind == "many":
            return (lambda b: b.learn_many(X, Y, r),
                    [lambda m, l=l: m.learn_many(X[l], Y[l], r[l]) for l in range(N)])
        return (lambda b: b.predict_many(X, r),
                [lambda m, l=l: m.predict_many(X[l], r[l]) for l in range(N)])
    if kind == "reset":
        r = c.uniform(N) < 0.0
        return (lambda b: b.reset(r), [lambda m, l=l: m.reset() if r[l] else None for l in range(N)])
    Y = targets((N, K))
    if kind == "last":  # a target for the learners with a pending step only
        def last(b):
            b.learn_last(np.where(b.pending_[:, None], Y, np.nan))
        return last, [lambda m, l=l: m.learn_last(Y[l]) if m.pending_ and not np.isnan(Y[l]).all()
                      else None for l in range(N)]
    raw = np.array([c.integers(0, 64) for _ in range(N)])

    def ages_of(steps):
        return np.where(steps > 0, raw % (np.minimum(D, np.maximum(steps, 1) - 1) + 1), 0)

    def delayed(b):
        ages = ages_of(b.n_steps_)
        YY = np.where((b.n_steps_ > 0)[:, None], Y, np.nan)
        if (b.n_steps_ > 0).any():
            YY = np.where(b.open_targets(np.where(b.n_steps_ > 0, ages, 0))
                          | (b.n_steps_ == 0)[:, None], YY, np.nan)
        b.learn_delayed(YY, ages)

    def delayed_one(m, l):
        if m.n_steps_ == 0:
            return
        age = int(raw[l] % (min(D, m.n_steps_ - 1) + 1))
        y = np.where(m.open_targets(age), Y[l], np.nan)
        if not np.isnan(y).all():
            m.learn_delayed(y, age)
    return delayed, [lambda m, l=l: delayed_one(m, l) for l in range(N)]


def bank_run(bank, op):
    try:
        out = op(bank)
    except DivergenceError as err:
        return ("diverged", tuple(err.learners))
    return None if out is None else np.array(out, copy=True)


@examples(60)
@given(data=st.data())
def test_a_bank_equals_its_learners_run_apart_and_resumes_bit_identically(data, ckpt_dir):
    """A LearnerBank of a random architecture, 1-4 learners, serial or
    threaded, fed random calls of every kind (per-learner resets, targets
    with NaN holes, learn_last and learn_delayed with per-learner ages),
    gives each learner the bits of a separate OnlineLSTM fed the same; and
    carried over mid-stream by every mechanism it goes on bit-identically."""
    cfg = data.draw(configs(init_range=data.draw(st.sampled_from([0.1, 0.5])),
                            lr=data.draw(st.sampled_from([0.05, 0.3]))))
    N = data.draw(st.integers(1, 4))
    bank = LearnerBank(N, **cfg, parallel=data.draw(st.booleans()))
    twins = [bank.learner(l) for l in range(N)]
    c = RngChooser(np.random.default_rng(data.draw(st.integers(0, 2**32 - 1))))
    points = data.draw(st.lists(st.integers(0, 15), max_size=4))
    for j in range(16):
        op, ops = bank_op(c, bank)
        got = bank_run(bank, op)
        outs, diverged = [], []
        for l, m in enumerate(twins):
            try:
                outs.append(ops[l](m))
            except DivergenceError:
                diverged.append(l)
        if isinstance(got, tuple):
            assert got[1] == tuple(diverged)
        else:
            assert not diverged
            if got is not None:
                assert same_bits(got, np.stack(outs)), j
        if j in points:
            before = bank.state_arrays()
            bank = carry_over(bank, MECHANISMS[j % len(MECHANISMS)], ckpt_dir, "bank", fsync=False)
            assert same_state(before, bank.state_arrays())
    for l, m in enumerate(twins):
        assert same_state(bank.learner(l).state_arrays(), m.state_arrays()), l


def bad_bank_case(c, bank):
    """One bad call for ``bank`` as it is: (label, call, exception, regex)."""
    lay, N = bank.layout, bank.n_learners
    n, K, D = lay.n_in, lay.n_out, lay.max_delay
    X, Y = c.uniform((N, n)), c.uniform((N, K)) * 0.5 + 0.5
    l = c.integers(0, N - 1)
    kinds = ["x_value", "x_shape", "y_inf", "y_shape", "resets", "out", "many_x", "many_y",
             "pmany_x", "last", "lr", "bound", "weights", "state", "reset_sel"]
    kind = c.choice(kinds + (["age", "twice"] if D else []))
    if kind == "x_value":
        X[l, c.integers(0, n - 1)] = c.choice([np.nan, np.inf, -np.inf])
        return kind, lambda b: b.learn_one(X, Y), InputError, rf"X\[{l}\] must be finite"
    if kind == "x_shape":
        bad = c.uniform(c.choice([(N + 1, n), (N, n + 1), (N, n, 1)]))
        return kind, lambda b: b.predict_one(bad), InputError, "X must (have|be 2-D with) shape"
    if kind == "y_inf":
        Y[l, c.integers(0, K - 1)] = c.choice([np.inf, -np.inf])
        return kind, lambda b: b.learn_one(X, Y), InputError, rf"Y\[{l}\] must be finite or NaN"
    if kind == "y_shape":
        bad = c.uniform(c.choice([(N + 1, K), (N, K + 1)]))
        return kind, lambda b: b.learn_one(X, bad), InputError, "Y must have shape"
    if kind == "resets":
        r = c.choice([np.zeros(N + 1, bool), np.full(N, 2), np.full(N, 0.5)])
        return kind, lambda b: b.learn_one(X, Y, r), InputError, "resets must be"
    if kind == "out":
        o = c.choice([np.zeros((N, K + 1)), np.zeros((N, K), np.float32), np.zeros((N, 2 * K))[:, ::2]])
        return kind, lambda b: b.predict_one(X, out=o), InputError, "out must be"
    T = c.integers(1, 5)
    XX, YY = c.uniform((N, T, n)), c.uniform((N, T, K))
    if kind in ("many_x", "pmany_x"):
        t = c.integers(0, T - 1)
        XX[l, t, c.integers(0, n - 1)] = c.choice([np.nan, np.inf])
        call = (lambda b: b.learn_many(XX, YY)) if kind == "many_x" else (lambda b: b.predict_many(XX))
        return kind, call, InputError, rf"X\[{l}, {t}\] must be finite"
    if kind == "many_y":
        bad = c.uniform((N, T + c.choice([-1, 1]), K)) if T > 1 else c.uniform((N, T + 1, K))
        return kind, lambda b: b.learn_many(XX, bad), InputError, "Y must have shape"
    if kind == "last":  # a target for a learner with no pending step
        idle = np.flatnonzero(~bank.pending_)
        if idle.size:
            YL = np.where(bank.pending_[:, None], Y, np.nan)
            YL[int(c.choice(list(idle)))] = 0.5
            return kind, lambda b: b.learn_last(YL), NoPendingStepError, "no step waiting"
        return kind, lambda b: b.learn_last(np.zeros((N, K + 1))), InputError, "Y must have shape"
    if kind == "lr":
        v = np.full(N, 0.1)
        v[l] = c.choice([-0.1, np.nan, np.inf])
        return kind, lambda b: setattr(b, "lr", v), ValueError, "lr must be"
    if kind == "bound":
        v = np.full(N, 10.0)
        v[l] = c.choice([0.0, -1.0, np.nan])
        return kind, lambda b: setattr(b, "state_bound", v), ValueError, "state_bound must be"
    if kind == "weights":
        name = c.choice(list(lay.shapes))
        w = bank.get_weights()[name].copy()
        w[l].reshape(-1)[c.integers(0, w[l].size - 1)] = c.choice([np.nan, np.inf, 1e200])
        return kind, lambda b: b.set_weights({name: w}), InputError, name
    if kind == "state":
        s = bank.state_arrays()
        key = c.choice(["theta", "dW", "T", "record"])
        s[key][l, c.integers(0, s[key].shape[1] - 1)] = c.choice([np.nan, np.inf])
        return kind, lambda b: b.load_state_arrays(s), InputError, f"learner {l}: state"
    if kind == "reset_sel":
        sel = c.choice([[N], [-N - 1], np.zeros(N + 1, bool), np.array([0.5])])
        return kind, lambda b: b.reset(sel), InputError, "learner"
    steps = bank.n_steps_
    if kind == "age":  # a learner with a target and no step that old
        ages = np.zeros(N, dtype=np.int64)
        ages[l] = c.choice([-1, D + 1, int(steps[l])])
        if 0 <= ages[l] <= min(D, steps[l] - 1):
            ages[l] = D + 1
        YA = np.full((N, K), np.nan)
        YA[l] = 0.5
        return kind, lambda b: b.learn_delayed(YA, ages), InputError, f"learner {l} has no step"
    # "twice": an output that already had its target
    done = ~bank.open_targets(0) & (steps > 0)[:, None] if steps.min() > 0 else None
    if done is not None and done.any():
        l2, k = map(int, np.argwhere(done)[c.integers(0, int(done.sum()) - 1)])
        YT = np.full((N, K), np.nan)
        YT[l2, k] = 0.5
        return kind, lambda b: b.learn_delayed(YT, 0), NoPendingStepError, "already had one"
    return kind, lambda b: b.learn_delayed(Y, 1.5), InputError, "age must be"


def check_bad_bank_call(bank, case):
    label, call, expected, regex = case
    before, params = bank.state_arrays(), repr(bank.get_params())
    try:
        call(bank)
    except expected as err:
        if not re.search(regex, str(err)):
            return f"{label}: message {str(err)!r} does not match {regex!r}"
    except Exception as err:
        return f"{label}: raised {type(err).__name__}: {err}"
    else:
        return f"{label}: passed silently"
    if not same_state(before, bank.state_arrays()) or repr(bank.get_params()) != params:
        return f"{label}: changed the bank"
    return None


def test_2000_bad_bank_calls_change_no_learner():
    """>= 2,000 generated bad bank calls (17 kinds, per-learner faults in a
    random learner) between good calls, on random architectures: each
    raises its exception naming what is wrong, none changes any learner, and
    the bank ends with the bits of a twin that saw only the good calls."""
    problems, n, kinds = [], 0, collections.Counter()
    for i in range(16):
        rng = np.random.default_rng([77, i])
        cfg = balanced_config(rng, 2 * i)
        cfg.update(on_divergence="raise", state_bound=1e6, init_range=0.3, lr=0.2)
        N = int(rng.integers(1, 5))
        bank, twin = LearnerBank(N, **cfg, parallel=False), LearnerBank(N, **cfg, parallel=False)
        c = RngChooser(rng)
        for _ in range(130):
            case = bad_bank_case(c, bank)
            kinds[case[0]] += 1
            problem = check_bad_bank_call(bank, case)
            n += 1
            if problem:
                problems.append(f"{i}: {problem}")
            op, _ = bank_op(c, bank)
            assert same_results(bank_run(bank, op), bank_run(twin, op))
        if not same_state(bank.state_arrays(), twin.state_arrays()):
            problems.append(f"{i}: differs from its twin")
    assert n >= 2000
    assert len(kinds) == 17 and min(kinds.values()) >= 40, kinds
    assert problems == [], problems[:10]


# ---------------------------------------------------------------------------
# the competitors (RTRL, BPTT)
# ---------------------------------------------------------------------------


@st.composite
def competitors(draw):
    cls = draw(st.sampled_from([RTRL, BPTT]))
    kw = dict(n_in=draw(st.integers(1, 3)), n_out=draw(st.integers(1, 3)),
              n_hidden=draw(st.integers(1, 3)),
              architecture=draw(st.sampled_from(["fully_recurrent", "layered"])),
              bias=draw(st.booleans()), init_range=draw(st.sampled_from([0.1, 0.5])),
              lr=draw(st.sampled_from([0.05, 0.5])), update=draw(st.sampled_from(["step", "sequence"])),
              seed=draw(st.integers(0, 2**32 - 1)))
    if cls is BPTT:
        kw["window"] = draw(st.one_of(st.none(), st.integers(1, 5)))
    return cls, kw


def bad_competitor_case(c, m, K):
    n = m.n_in
    x, y = c.uniform(n), c.uniform(K)
    kind = c.choice(["x_value", "x_shape", "y_inf", "y_shape", "many_x", "resets", "out", "last"])
    if kind == "x_value":
        x[c.integers(0, n - 1)] = c.choice([np.nan, np.inf])
        return kind, lambda m: m.learn_one(x, y), InputError, "x must be finite"
    if kind == "x_shape":
        bad = c.uniform(c.choice([n + 1, (1, n), (2, n)]))
        return kind, lambda m: m.predict_one(bad), InputError, "shape"
    if kind == "y_inf":
        y[c.integers(0, K - 1)] = np.inf
        return kind, lambda m: m.learn_one(x, y), InputError, "y must be finite or NaN"
    if kind == "y_shape":
        bad = c.uniform(K + 1)
        return kind, lambda m: m.learn_one(x, bad), InputError, "shape"
    T = c.integers(1, 5)
    X, Y = c.uniform((T, n)), c.uniform((T, K))
    if kind == "many_x":
        row = c.integers(0, T - 1)
        X[row, c.integers(0, n - 1)] = np.nan
        return kind, lambda m: m.learn_many(X, Y), InputError, f"row {row}"
    if kind == "resets":
        r = c.choice([np.zeros(T + 1, bool), np.full(T, 2)])
        return kind, lambda m: m.learn_many(X, Y, r), InputError, "resets"
    if kind == "out":
        o = c.choice([np.zeros(K + 1), np.zeros(K, np.float32)])
        return kind, lambda m: m.learn_one(x, y, out=o), InputError, "out"
    if m.pending_:
        return kind, lambda m: m.learn_last(c.uniform(K + 2)), InputError, "shape"
    return kind, lambda m: m.learn_last(y), NoPendingStepError, "learn_last"


@examples(40)
@given(data=st.data())
def test_competitors_step_resume_and_refuse_as_the_lstm_does(data, ckpt_dir):
    """RTRL and BPTT of random sizes, architectures, bias, update mode and
    BPTT window: one call at a time (learn_one, predict_one + learn_last)
    equals learn_many in random chunks bit for bit; carried over at random
    steps by every mechanism they go on bit-identically; and bad calls
    between good ones raise and change nothing."""
    cls, kw = data.draw(competitors())
    K = kw["n_out"]
    X, Y, resets = data.draw(streams(kw, max_T=40))
    T = len(X)
    defer = data.draw(st.lists(st.booleans(), min_size=T, max_size=T))
    a, b = cls(**kw), cls(**kw)
    cuts = sorted(set(data.draw(st.lists(st.integers(0, T), max_size=4))) | {0, T})
    out_b = np.concatenate([b.learn_many(X[i:j], Y[i:j], resets[i:j])
                            for i, j in zip(cuts[:-1], cuts[1:])])
    points = set(data.draw(st.lists(st.integers(0, T - 1), max_size=5)))
    c = RngChooser(np.random.default_rng(data.draw(st.integers(0, 2**32 - 1))))
    outs = []
    for t in range(T):
        if resets[t]:
            a.reset()
        if defer[t]:
            outs.append(a.predict_one(X[t]))
            if not np.isnan(Y[t]).all():
                a.learn_last(Y[t])
        else:
            outs.append(a.learn_one(X[t], Y[t]))
        problem = check_bad_call(a, bad_competitor_case(c, a, K))
        assert problem is None, problem
        if t in points:
            before = a.state_arrays()
            a = carry_over(a, MECHANISMS[t % len(MECHANISMS)], ckpt_dir, "comp", fsync=False)
            assert same_state(before, a.state_arrays())
    assert same_bits(np.array(outs).reshape(T, K), out_b)
    assert same_state(a.state_arrays(), b.state_arrays())


# ---------------------------------------------------------------------------
# the harness sees what it must see
# ---------------------------------------------------------------------------


def state_positions(m):
    """Mask of the numbers of ``m._mem`` that ``state_arrays()`` holds: the
    header, theta, dW, the traces, the committed step record, the open
    snapshots, the open-target flags of the closed ones (all 0: what makes
    them closed) and the alignment padding inside every snapshot slot (never
    written by a step, so it keeps what was there, and an open slot exports
    it), as is the padding at the end of both banks of the step record (the
    other bank becomes the committed one with the next step)."""
    lay, mem = m.layout, m._mem
    mask = np.zeros(mem.size, dtype=bool)
    mask[:HEADER_SIZE] = True
    used = sum(lay.record_fields().values())
    for bank in (0, 1):
        start = lay.meta["bank0"] + bank * lay.meta["bank_size"]
        mask[start + used:start + lay.meta["bank_size"]] = True
    for name in ("theta", "dW", "T", "record"):
        view = m._region(name)
        start = (view.ctypes.data - mem.ctypes.data) // 8
        mask[start:start + view.size] = True
    if lay.max_delay:
        meta = lay.meta
        ring = m._region("slots").reshape(meta["n_slots"], meta["slot_size"])
        is_open = ring[:, meta["sl_open"]:meta["sl_open"] + lay.n_out].any(axis=1)
        for slot in range(meta["n_slots"]):
            start = meta["slots"] + slot * meta["slot_size"]
            if is_open[slot]:
                mask[start:start + meta["slot_size"]] = True
            else:
                mask[start + meta["sl_open"]:start + meta["sl_open"] + lay.n_out] = True
                used = [(0, sum(lay.record_fields().values())),
                        (meta["sl_T"], meta["sl_T"] + lay.n_traces),
                        (meta["sl_wk"], meta["sl_step"] + 1)]
                pad = np.ones(meta["slot_size"], dtype=bool)
                for lo, hi in used:
                    pad[lo:hi] = False
                mask[start:start + meta["slot_size"]] |= pad
    return mask


@examples(60)
@given(data=st.data())
def test_state_arrays_hold_everything_a_learner_reads(data):
    """``same_state`` compares ``state_arrays()``; that is a full comparison
    only if a learner never reads the rest of its memory (the other bank of
    the step record, scratch, closed snapshots) before writing it.  Fill all
    of that with NaN in one of two equal learners: every call after gives
    the same bits."""
    cfg = data.draw(configs(init_range=data.draw(st.sampled_from([0.1, 0.5])),
                            lr=data.draw(st.sampled_from([0.05, 0.3]))))
    c = RngChooser(np.random.default_rng(data.draw(st.integers(0, 2**32 - 1))))
    a, b = OnlineLSTM(**cfg), OnlineLSTM(**cfg)
    ops = [program_op(c, a) for _ in range(30)]
    wipes = set(data.draw(st.lists(st.integers(0, 29), min_size=1, max_size=6)))
    n_wiped = 0
    for j, op in enumerate(ops):
        if j in wipes:
            free = ~state_positions(b)
            b._mem[free] = np.nan
            n_wiped += int(free.sum())
            assert same_state(a.state_arrays(), b.state_arrays())
        assert same_results(run_op(a, op), run_op(b, op)), j
    assert same_state(a.state_arrays(), b.state_arrays())
    assert n_wiped > 0


class Mutant:
    """A kernel that, when it refuses a call for bad input, first changes
    one number of the learner's state by one ulp (a check placed after a
    write): the kind of bug ``check_bad_call`` must catch."""

    def __init__(self, kernel, regions):
        self.kernel, self.regions, self.fired = kernel, regions, 0

    def __call__(self, mem, *args):
        st = self.kernel(mem, *args)
        status = st[0] if isinstance(st, tuple) else st  # (run returns (status, row))
        if status and status not in _learner._DIVERGENCE_REASONS:
            m = self.learner
            name = self.regions[self.fired % len(self.regions)]
            if name == "header":
                pos = META[("step", "n_updates", "seq_step")[self.fired % 3]]  # a counter
            elif name == "slots":  # a trace in a snapshot still awaiting a target
                meta = m.layout.meta
                ring = m._region("slots").reshape(meta["n_slots"], meta["slot_size"])
                is_open = np.flatnonzero(ring[:, meta["sl_open"]:meta["sl_open"] + m.layout.n_out]
                                         .any(axis=1))
                if not is_open.size:
                    return st
                pos = (meta["slots"] + is_open[self.fired % is_open.size] * meta["slot_size"]
                       + meta["sl_T"] + self.fired % m.layout.n_traces)
            else:
                view = m._region(name)
                pos = (view.ctypes.data - mem.ctypes.data) // 8 + self.fired % view.size
            mem[pos] = np.nextafter(mem[pos], np.inf)
            self.fired += 1
        return st


@pytest.mark.parametrize("region", ["T", "theta", "dW", "record", "header", "slots"])
def test_a_bad_call_that_corrupts_one_number_before_refusing_is_caught(region, monkeypatch):
    """Mutate the learner's kernels so that each refusal of bad input first
    moves one number of the state (region ``region``) by one ulp: the
    bad-call generator and ``check_bad_call`` flag every such call as
    "changed the learner", on architectures with and without a window."""
    m = OnlineLSTM(3, 2, 2, 2, forget_gate=True, peepholes=True, max_delay=2, init_range=0.5,
                   lr=0.3, update="sequence", seed=3)
    rng = np.random.default_rng(0)
    m.learn_many(rng.uniform(-1, 1, (20, 3)), rng.uniform(0, 1, (20, 2)))
    mutants = {}
    for name in ("_learn_step", "_predict_step"):
        mutants[name] = Mutant(getattr(_learner, name), [region])
        monkeypatch.setattr(_learner, name, mutants[name])
    for name in ("run", "learn_last", "learn_delayed"):
        mutants[name] = Mutant(getattr(_k, name), [region])
        monkeypatch.setattr(_k, name, mutants[name])
    for mu in mutants.values():
        mu.learner = m
    c = RngChooser(np.random.default_rng(5))
    caught = missed = 0
    for _ in range(400):
        fired = sum(mu.fired for mu in mutants.values())
        saved = m._mem.copy()
        problem = check_bad_call(m, bad_case(c, m))
        if sum(mu.fired for mu in mutants.values()) > fired:
            if problem is not None and "changed the learner" in problem:
                caught += 1
            else:
                missed += 1
            m._mem[:] = saved  # undo the mutant's change: go on from a sound state
        good_op(c, m)(m)
    assert missed == 0
    assert caught >= 40  # the mutants are reached by the generated bad calls
