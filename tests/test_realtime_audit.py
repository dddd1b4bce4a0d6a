"""Real-time audit: the act-first-learn-later loop allocates and compiles
nothing, a state can be rolled back in the loop, threads with their own
learners give the serial bits.

Complements ``test_realtime.py`` (which checks ``learn_one``/``predict_one``
and the bank's ``learn_one`` with ``out=``, and the plain ``learn_many`` /
``learn_one`` paths in threads): here ``learn_last`` and ``learn_delayed``
of a learner and of a bank, the options' step (forget gate, peepholes),
block counts from ``sys.getallocatedblocks`` as well as tracemalloc, and
rolling a learner back to an earlier ``state_arrays()`` mid-stream.  No
timing thresholds.
"""

import json
import subprocess
import sys
import threading
import tracemalloc

import numpy as np
import pytest
from numba.core import event

from online_lstm import LearnerBank, OnlineLSTM
from online_lstm import bank_kernels, kernels

from conftest import COMPILE_COUNTER

STEPS = 10_000
#: a Reber-size net and the same with both options of spec §7
ARCH = dict(n_in=7, n_out=7, n_blocks=4, block_size=2, bias="all")
ARCH_X = dict(ARCH, forget_gate=True, peepholes=True)


def _leftover(fn, n=STEPS):
    """Memory blocks and traced bytes still held after ``n`` calls of ``fn``
    (after a warm-up), and the traced transient peak.  The blocks count
    every allocation of the interpreter (``sys.getallocatedblocks``); the
    traced bytes those of the Python allocator and NumPy's data."""
    for _ in range(200):
        fn()
    blocks = sys.getallocatedblocks()
    for _ in range(n):
        fn()
    blocks = sys.getallocatedblocks() - blocks
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        for _ in range(n):
            fn()
        now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return blocks, now - start, peak - start


def _assert_nothing_kept(name, fn, n=STEPS):
    blocks, kept, _ = _leftover(fn, n)
    # a few blocks of interpreter caches may appear once; anything per step
    # would be >= n
    assert blocks < 64, f"{name}: {blocks} blocks more after {n} calls"
    assert kept < 1024, f"{name}: {kept} bytes kept after {n} calls"


def test_the_control_measures_a_per_step_allocation():
    """The measurement can fail: keeping each step's prediction shows."""
    m = OnlineLSTM(**ARCH, seed=0)
    x, y = np.eye(7)[1], np.eye(7)[2]
    kept = []
    blocks, nbytes, _ = _leftover(lambda: kept.append(m.learn_one(x, y)), 2_000)
    assert blocks >= 2_000 and nbytes >= 2_000 * 7 * 8


@pytest.mark.parametrize("arch", [ARCH, ARCH_X], ids=["1997", "fg+ph"])
@pytest.mark.parametrize("D", [0, 3])
def test_act_now_learn_later_keeps_nothing(arch, D):
    """predict_one(out=) then learn_last, and with a window learn_delayed,
    over 10,000 steps: no block and no byte outlives its call.  (The
    transient peak, the ~250 bytes of Numba's dispatch, is checked against
    the output size in test_realtime.py.)"""
    m = OnlineLSTM(**arch, seed=0, lr=0.05, max_delay=D)
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (64, 7))
    Y = rng.uniform(0, 1, (64, 7))
    o = np.empty(7)
    t = [0]

    def learn_one():
        i = t[0] = (t[0] + 1) % 64
        m.learn_one(X[i], Y[i], out=o)

    def act_then_learn():
        i = t[0] = (t[0] + 1) % 64
        m.predict_one(X[i], out=o)
        m.learn_last(Y[i])

    _assert_nothing_kept("learn_one", learn_one)
    _assert_nothing_kept("predict_one + learn_last", act_then_learn)
    if D:
        Yh = Y.copy()
        Yh[:, :3] = np.nan  # the first 3 outputs learned late, the others at once
        Yl = np.full_like(Y, np.nan)
        Yl[:, :3] = Y[:, :3]

        def split_target():
            i = t[0] = (t[0] + 1) % 64
            m.learn_one(X[i], Yh[i], out=o)
            m.learn_delayed(Yl[(i - D) % 64], D)

        for i in range(D):  # steps whose first 3 outputs still wait
            m.learn_one(X[i], Yh[i], out=o)
        _assert_nothing_kept("learn_one + learn_delayed", split_target)
    assert np.all(np.isfinite(m.theta_))
    assert m.n_updates_ > STEPS  # every call above learned


@pytest.mark.parametrize("D", [0, 2])
def test_bank_act_now_learn_later_keeps_nothing(D):
    """The bank's predict_one, learn_last and learn_delayed (serial
    kernels) with preallocated arrays: nothing outlives a call.  (Their
    checks do make temporary arrays of N * n_out entries per call.)"""
    N = 8
    bank = LearnerBank(N, **ARCH, seed=0, lr=0.05, max_delay=D, parallel=False)
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, (N, 7))
    Y = rng.uniform(0, 1, (N, 7))
    O = np.empty((N, 7))
    resets = np.zeros(N, dtype=bool)

    def act_then_learn():
        bank.predict_one(X, out=O)
        bank.learn_last(Y)

    _assert_nothing_kept("bank learn_one with resets", lambda: bank.learn_one(X, Y, resets, out=O))
    _assert_nothing_kept("bank predict_one + learn_last", act_then_learn)
    if D:
        for _ in range(D):
            bank.predict_one(X, out=O)
        ages = np.full(N, D, dtype=np.int64)

        def act_then_learn_late():
            bank.predict_one(X, out=O)
            bank.learn_delayed(Y, ages)

        _assert_nothing_kept("bank predict_one + learn_delayed", act_then_learn_late)
    assert np.all(bank.n_updates_ > 2 * STEPS)


# ---------------------------------------------------------------------------
# no compilation in the loop
# ---------------------------------------------------------------------------


class _Compiles(event.Listener):
    def __init__(self):
        self.names = []

    def on_start(self, ev):
        self.names.append(ev.data["dispatcher"].py_func.__qualname__)

    def on_end(self, ev):
        pass


def _signatures():
    disps = [kernels.learn_step, kernels.predict_step, kernels.learn_last, kernels.learn_delayed,
             kernels.reset, kernels.run]
    disps += [bank_kernels.__dict__[n] for n in bank_kernels._ENTRY_POINTS if n in bank_kernels.__dict__]
    return {d.py_func.__qualname__: (len(d.signatures), d.stats.cache_misses) for d in disps}


def test_no_signature_is_added_by_any_accepted_input_of_the_delayed_path():
    """Every input form the late-learning methods accept (float32, ints,
    bools, lists, 0-d arrays, strided and read-only arrays, NumPy ints for
    the age) runs on the one compiled signature: the dispatchers keep their
    signatures and cache-miss counts, and no compilation starts."""
    m = OnlineLSTM(1, 1, 2, 1, seed=0, max_delay=2)
    w = OnlineLSTM(**ARCH, seed=0, max_delay=2)
    bank = LearnerBank(3, **ARCH, seed=0, max_delay=2, parallel=False)
    for _ in range(3):
        m.predict_one(np.zeros(1))
        w.predict_one(np.zeros(7))
        bank.predict_one(np.zeros((3, 7)))
    m.learn_delayed(np.zeros(1), 2)
    w.learn_last(np.zeros(7))
    bank.learn_delayed(np.zeros((3, 7)), 2)
    before = _signatures()
    readonly = np.eye(7)[3]
    readonly.flags.writeable = False
    counter = _Compiles()
    with event.install_listener("numba:compile", counter):
        for x in (np.float32(0.5), 1, True, np.array(0.25), [0.5]):
            m.predict_one(x)
        m.learn_last(np.float32(0.5))           # a NumPy scalar target, n_out == 1
        m.learn_delayed(np.array(1), np.int8(1))  # a 0-d target, a NumPy int8 age
        m.learn_delayed(True, np.uint64(2))
        for x in (np.eye(7, dtype=np.float32)[1], np.eye(7, dtype=bool)[2], np.eye(7)[:, 3],
                  readonly, list(np.eye(7)[4])):
            w.predict_one(x)
        w.learn_last(np.eye(7, dtype=np.int16)[5])
        w.learn_delayed(np.eye(7)[:, 1], 1)     # strided target
        w.learn_delayed(readonly, 2)
        bank.predict_one(np.eye(7, dtype=np.float32)[:3])
        bank.learn_last(np.eye(7, dtype=np.uint8)[:3])
        bank.predict_one(np.eye(7)[:, :3].T)    # a transposed (F-ordered) view
        bank.learn_delayed(np.eye(7, dtype=np.float16)[2:5], np.array([2, 0, 2], dtype=np.int16))
        bank.reset([0, 2])
    assert counter.names == []
    assert _signatures() == before
    assert m.n_updates_ == 4 and w.n_updates_ == 4 and list(bank.n_updates_) == [3, 3, 3]


def test_a_fixed_parallel_choice_loads_every_kernel_on_the_first_call():
    """With ``parallel=False`` the first call of a bank loads (from the cache,
    or compiles) every kernel it will ever use: a loop that starts with
    learn_one then meets learn_last, learn_delayed, reset and learn_many
    without loading or compiling anything.  (With ``parallel="auto"`` a
    call of other work may load the other variant: documented.)  Run in a
    new process, since entry points loaded by other tests stay loaded."""
    code = COMPILE_COUNTER + r"""
import json
import numpy as np
from online_lstm import LearnerBank, bank_kernels
loaded = lambda: sorted(n for n in bank_kernels._ENTRY_POINTS if n in vars(bank_kernels))
b = LearnerBank(4, 3, 2, 2, 1, seed=0, max_delay=2, parallel=False)
b.learn_one(np.zeros((4, 3)), np.full((4, 2), np.nan))
first, n_compiled = loaded(), len(Counter.names)
b.predict_one(np.ones((4, 3)))
b.learn_last(np.zeros((4, 2)))
b.predict_one(np.ones((4, 3)))
b.learn_delayed(np.zeros((4, 2)), 2)
b.reset([1])
b.learn_many(np.zeros((4, 50, 3)), np.zeros((4, 50, 2)))
print(json.dumps({"first": first, "after": loaded(), "compiled_later": Counter.names[n_compiled:]}))
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["first"] == ["learn_delayed_serial", "learn_last_serial", "reset_serial", "run_w_serial"]
    assert out["after"] == out["first"]
    assert out["compiled_later"] == []


# ---------------------------------------------------------------------------
# rolling back in the loop
# ---------------------------------------------------------------------------


def _run(m, X, Y, start, stop, D):
    """Act on every step, learn its target D steps later, learn the last
    step at once on every 5th step; return the outputs."""
    out = []
    for t in range(start, stop):
        out.append(m.predict_one(X[t]))
        if t % 5 == 0:
            m.learn_last(Y[t])
        if t >= D and (t - D) % 5 != 0:
            m.learn_delayed(Y[t - D], D)
    return np.array(out)


def _same_state(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("arch", [ARCH, ARCH_X], ids=["1997", "fg+ph"])
def test_rolling_back_to_a_mid_stream_snapshot_replays_bit_identically(arch):
    """A control loop that snapshots its learner mid-sequence (a step
    pending, older steps awaiting late targets), runs on, then rolls the
    same learner back and replays the same stream, gets the same outputs
    and the same state, twice over; learn_last of the step pending at the
    snapshot works after the rollback."""
    D = 3
    rng = np.random.default_rng(5)
    X = rng.uniform(-1, 1, (80, 7))
    Y = rng.uniform(0, 1, (80, 7))
    m = OnlineLSTM(**arch, seed=2, lr=0.2, max_delay=D)
    _run(m, X, Y, 0, 40, D)
    m.predict_one(X[40])  # act at t = 40; its target (40 % 5 == 0) comes by learn_last
    assert m.pending_ and m.seq_step_ == 41
    assert m.open_targets(1).all() and m.open_targets(3).all()  # steps 39 and 37 still wait
    snap = m.state_arrays()

    def go_on():  # the rest of step 40, then on
        m.learn_last(Y[40])
        m.learn_delayed(Y[37], D)
        return _run(m, X, Y, 41, 80, D)

    first = go_on()
    end = m.state_arrays()
    assert not _same_state(snap, end)
    for _ in range(2):
        m.load_state_arrays(snap)
        assert _same_state(m.state_arrays(), snap) and m.pending_
        assert np.array_equal(go_on(), first)
        assert _same_state(m.state_arrays(), end)


def test_rolling_back_a_bank_replays_bit_identically():
    D = 2
    N = 3
    rng = np.random.default_rng(6)
    X = rng.uniform(-1, 1, (N, 40, 7))
    Y = rng.uniform(0, 1, (N, 40, 7))
    bank = LearnerBank(N, **ARCH_X, seed=3, lr=0.2, max_delay=D, parallel=False)
    ages = np.array([D, 1, 0])

    def go(start, stop):
        out = []
        for t in range(start, stop):
            out.append(bank.predict_one(X[:, t]))
            if t >= D:
                bank.learn_delayed(Y[np.arange(N), t - ages], ages)
        return np.array(out)

    go(0, 20)
    snap = bank.state_arrays()
    first = go(20, 40)
    end = bank.state_arrays()
    bank.load_state_arrays(snap)
    assert np.array_equal(go(20, 40), first)
    assert _same_state(bank.state_arrays(), end)


# ---------------------------------------------------------------------------
# threads, each with its own learner
# ---------------------------------------------------------------------------


def test_own_learner_per_thread_act_now_learn_later_equals_serial():
    """Threads started together, each stepping its own learner through
    predict_one / learn_last / learn_delayed (the snapshot ring, forget
    gates and peepholes), end with the bits of the same runs one after
    another."""
    n, D = 4, 3
    rng = np.random.default_rng(9)
    data = [(rng.uniform(-1, 1, (600, 7)), rng.uniform(0, 1, (600, 7))) for _ in range(n)]
    threaded = [OnlineLSTM(**ARCH_X, seed=i, lr=0.1, max_delay=D) for i in range(n)]
    serial = [m.clone() for m in threaded]
    outs = [None] * n
    go = threading.Barrier(n)

    def work(i):
        go.wait()
        outs[i] = _run(threaded[i], *data[i], 0, 600, D)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(n):
        assert np.array_equal(outs[i], _run(serial[i], *data[i], 0, 600, D))
        assert _same_state(threaded[i].state_arrays(), serial[i].state_arrays())


def test_the_thread_safety_statement_is_in_the_docstrings():
    """What is and is not safe across threads is stated where a user looks:
    stepping one learner or bank from two threads, and reading one while
    another thread steps it."""
    for cls in (OnlineLSTM, LearnerBank):
        doc = " ".join(cls.__doc__.split())
        assert "release the GIL" in doc
        assert "two threads" in doc and "lock" in doc
        assert "can mix two steps" in doc, cls.__name__


# ---------------------------------------------------------------------------
# inputs Numba refuses (float32, strided, read-only): one refused dispatch,
# then converted before the call, not refused again on every step
# ---------------------------------------------------------------------------
def _counting_refusals(real):
    """``real`` (a compiled call) wrapped to count the calls Numba refuses
    (DISPATCH_ERRORS, re-raised): ``(wrapper, refused)``, a list with one
    entry per refusal."""
    from online_lstm._validate import DISPATCH_ERRORS

    refused = []

    def counting(*args):
        try:
            return real(*args)
        except DISPATCH_ERRORS:
            refused.append(1)
            raise
    return counting, refused


@pytest.mark.parametrize("form", ["float32", "strided", "read-only"])
@pytest.mark.parametrize("call", ["learn_one", "predict_one"])
def test_a_refused_input_form_is_converted_first_from_then_on(monkeypatch, form, call):
    """Each step with such an input was refused by the compiled call (~50 us
    of Numba's dispatch error) before being converted.  Now one refusal per
    RETRY_DIRECT steps, and the results are the bits of float64 inputs."""
    import online_lstm.learner as L
    name = "_learn_step" if call == "learn_one" else "_predict_step"
    counting, refused = _counting_refusals(getattr(L, name))
    monkeypatch.setattr(L, name, counting)
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(2 * OnlineLSTM.RETRY_DIRECT + 10, 3)), rng.normal(size=(2 * OnlineLSTM.RETRY_DIRECT + 10, 2))
    X = X.astype(np.float32).astype(np.float64)  # exactly representable in float32

    def form_of(x):
        if form == "float32":
            return x.astype(np.float32)
        if form == "strided":
            return np.repeat(x, 2)[::2]
        ro = x.copy()
        ro.flags.writeable = False
        return ro

    a, b = OnlineLSTM(3, 2, 2, 2, seed=1), OnlineLSTM(3, 2, 2, 2, seed=1)
    for t in range(len(X)):
        if call == "learn_one":
            pa, pb = a.learn_one(form_of(X[t]), Y[t]), b.learn_one(X[t].copy(), Y[t])
        else:
            pa, pb = a.predict_one(form_of(X[t])), b.predict_one(X[t].copy())
        assert np.array_equal(pa, pb)
    sa, sb = a.state_arrays(), b.state_arrays()
    assert all(np.array_equal(sa[k], sb[k]) for k in sa)
    assert len(refused) == 3  # steps 0, 1 + R, 2 + 2R: one per RETRY_DIRECT steps, not per step


def test_float64_inputs_go_direct_again_after_a_refused_one(monkeypatch):
    import online_lstm.learner as L
    m = OnlineLSTM(3, 2, seed=1)
    m.learn_one(np.ones(3, np.float32), np.zeros(2))  # refused once, converted
    calls = []
    real = L._learn_step
    monkeypatch.setattr(L, "_learn_step", lambda mem, x, y, o: calls.append(x) or real(mem, x, y, o))
    x = np.ones(3)
    for _ in range(OnlineLSTM.RETRY_DIRECT + 5):
        m.learn_one(x, np.zeros(2))
    # the conversion period ends: the caller's own array reaches the kernel again
    assert calls[-1] is x


@pytest.mark.parametrize("max_delay", [0, 2])
def test_float32_targets_of_learn_last_are_refused_once_not_every_step(monkeypatch, max_delay):
    import online_lstm.learner as L
    name = "learn_delayed" if max_delay else "learn_last"
    counting, refused = _counting_refusals(getattr(L._k, name))
    monkeypatch.setattr(L._k, name, counting)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 3))
    Y = rng.normal(size=(300, 2)).astype(np.float32)
    a, b = (OnlineLSTM(3, 2, 2, 1, seed=2, max_delay=max_delay) for _ in range(2))
    for t in range(300):
        a.predict_one(X[t].copy())
        a.learn_last(Y[t])
        b.learn_one(X[t].copy(), Y[t].astype(np.float64))
    sa, sb = a.state_arrays(), b.state_arrays()
    assert all(np.array_equal(sa[k], sb[k]) for k in ("theta", "T", "record"))
    assert len(refused) == 1


@pytest.mark.parametrize("cls", ["RTRL", "BPTT"])
def test_the_competitors_also_convert_first_after_a_refused_input(monkeypatch, cls):
    from online_lstm import baselines
    m, ref = (getattr(baselines, cls)(3, 2, 2, seed=1) for _ in range(2))
    counting, refused = _counting_refusals(m._kernels[0])
    m._kernels = (counting, *m._kernels[1:])
    rng = np.random.default_rng(3)
    X = rng.normal(size=(50, 3)).astype(np.float32)
    Y = rng.normal(size=(50, 2))
    for t in range(50):
        assert np.array_equal(m.learn_one(X[t], Y[t]), ref.learn_one(X[t].astype(np.float64), Y[t]))
    assert len(refused) == 1
    sa, sb = m.state_arrays(), ref.state_arrays()
    assert all(np.array_equal(sa[k], sb[k]) for k in sa)
