"""Real-time properties: no allocation, no compilation, threads, cold start.

No test here measures time: speed is measured by the scripts in
``benchmarks/``.  These tests check the properties that make the timings
predictable.
"""

import json
import os
import subprocess
import sys
import threading
import tracemalloc

import numba
import numpy as np
import pytest
from numba.core import event

from online_lstm import InputError, LearnerBank, OnlineLSTM
from online_lstm import bank_kernels, kernels

from conftest import COMPILE_COUNTER, random_stream

REBER = dict(n_in=7, n_out=7, n_blocks=4, block_size=2, bias="all")


class CompileCounter(event.Listener):
    """Counts Numba compilations (cache loads are not compilations)."""

    def __init__(self):
        self.names = []

    def on_start(self, ev):
        self.names.append(str(ev.data["dispatcher"].py_func.__qualname__))

    def on_end(self, ev):
        pass


#: Allocations made by other threads (pytest-xdist's execnet thread receiving a
#: message, say) are traced too; every such thread has threading.py in its stack,
#: the main thread, which runs the steps, has not.
_OTHER_THREADS = [tracemalloc.Filter(False, threading.__file__, all_frames=True),
                  tracemalloc.Filter(False, tracemalloc.__file__, all_frames=True)]  # the snapshots


def peak_bytes(fn, n):
    """Peak traced allocation above the starting level while ``fn`` runs n times,
    and the net growth after, counting the main thread's allocations only.
    ``n`` calls first warm up (on Python 3.10 some thousand bytes of one-time
    allocations came within the first 5,000 bank steps, none after).  Then a
    first traced round is discarded (on Python 3.10 the first round after
    tracing starts keeps a block of ~460 bytes made at the loop itself, seen
    with RTRL's snapshot loop), and of the three rounds after it the smallest
    peak and the smallest growth are returned: the peak counts every
    thread's allocations, and pytest-xdist's I/O thread now and then adds a
    kilobyte or two to one round (1,852 bytes seen under Python 3.13 against
    a loop that allocates nothing), while an allocation or a leak of ``fn``
    shows in every round."""
    for _ in range(n):
        fn()
    peaks, growths = [], []
    for _ in range(4):
        tracemalloc.start(50)
        try:
            before = tracemalloc.take_snapshot().filter_traces(_OTHER_THREADS)
            start, _ = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            for _ in range(n):
                fn()
            _, peak = tracemalloc.get_traced_memory()
            after = tracemalloc.take_snapshot().filter_traces(_OTHER_THREADS)
        finally:
            tracemalloc.stop()
        peaks.append(peak - start)
        growths.append(sum(d.size_diff for d in after.compare_to(before, "traceback")))
    return min(peaks[1:]), min(growths[1:])


# ---------------------------------------------------------------------------
# no allocation per step
# ---------------------------------------------------------------------------


def test_steps_with_out_allocate_nothing_that_grows_with_the_net():
    """With ``out=`` a step allocates no array: over 5,000 steps nothing
    accumulates and the transient peak stays below the size of the output
    vector.  The same measurement on the allocating path (no ``out=``) does
    see the output array, so the check can fail."""
    K = 300  # a 2.4 kB output vector: any per-step output or state copy shows
    m = OnlineLSTM(5, K, 3, 2, seed=0)
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-1, 1, 5), rng.uniform(0, 1, K)
    o = np.empty(K)
    for name, fn in [("learn_one", lambda: m.learn_one(x, y, out=o)),
                     ("predict_one", lambda: m.predict_one(x, out=o)),
                     ("learn_one y=None", lambda: m.learn_one(x, None, out=o))]:
        peak, growth = peak_bytes(fn, 5_000)
        assert growth <= 256, f"{name}: {growth} bytes kept after 5,000 steps"
        assert peak < 8 * K, f"{name}: transient peak {peak} bytes"
    peak, _ = peak_bytes(lambda: m.learn_one(x, y), 100)  # control: allocates the result
    assert peak >= 8 * K
    # act now, learn when the target arrives 3 steps later: the same holds
    w = OnlineLSTM(5, K, 3, 2, seed=0, max_delay=3)
    for _ in range(4):
        w.predict_one(x, out=o)

    def act_then_learn():
        w.predict_one(x, out=o)
        w.learn_delayed(y, 3)

    peak, growth = peak_bytes(act_then_learn, 5_000)
    assert growth <= 256, f"predict_one + learn_delayed: {growth} bytes kept"
    assert peak < 8 * K, f"predict_one + learn_delayed: transient peak {peak} bytes"


def test_bank_steps_with_out_allocate_nothing_that_grows():
    K, N = 50, 16
    bank = LearnerBank(N, 3, K, 2, 2, seed=0, parallel=False)
    rng = np.random.default_rng(1)
    X, Y = rng.uniform(-1, 1, (N, 3)), rng.uniform(0, 1, (N, K))
    O = np.empty((N, K))
    peak, growth = peak_bytes(lambda: bank.learn_one(X, Y, out=O), 5_000)
    assert growth <= 256
    assert peak < 8 * N * K
    peak, _ = peak_bytes(lambda: bank.learn_one(X, Y), 50)  # control
    assert peak >= 8 * N * K


# ---------------------------------------------------------------------------
# no compilation after warm-up
# ---------------------------------------------------------------------------


def test_no_compilation_after_warm_up_whatever_the_input():
    """Once built, stepping never compiles: inputs of another dtype or layout
    are converted in Python (or refused), not given a new specialisation."""
    m = OnlineLSTM(**REBER, seed=0)
    bank = LearnerBank(3, **REBER, seed=0)
    w = OnlineLSTM(**REBER, seed=0, max_delay=2)  # a window for delayed targets
    wbank = LearnerBank(3, **REBER, seed=0, max_delay=2)
    x, y = np.eye(7)[1], np.eye(7)[2]
    m.learn_one(x, y)
    bank.learn_one(np.eye(7)[:3], np.eye(7)[:3])
    for _ in range(3):
        w.predict_one(x)
        wbank.predict_one(np.eye(7)[:3])
    w.learn_delayed(y, 2)
    wbank.learn_delayed(np.eye(7)[:3], 2)
    column = np.eye(7)[:, 3]  # strided views: a column of a C-ordered array, every other element
    every_other = (np.arange(14.0) / 14)[::2]
    assert not column.flags.c_contiguous and not every_other.flags.c_contiguous
    sigs = {d: list(d.signatures) for d in (kernels.learn_step, kernels.predict_step, kernels.run,
                                             kernels.learn_last, bank_kernels.run,
                                             bank_kernels.run_serial)}
    counter = CompileCounter()
    with event.install_listener("numba:compile", counter):
        m.learn_one(x.astype(np.float32), y.astype(np.float16))
        m.learn_one(column, y)  # strided view
        m.learn_one([0, 0, 1, 0, 0, 0, 0], (0, 1, 0, 0, 0, 0, 0))  # int lists
        m.predict_one(np.arange(7, dtype=np.int32))
        m.learn_last(np.ones(7, dtype=np.float32))  # float32 target of the step just taken
        m.predict_one(column)
        m.learn_last(every_other)  # strided target
        assert not m.pending_  # both deferred steps were learned
        m.learn_many(np.eye(7, dtype=np.float32)[::2], np.eye(8)[::2, :7])  # non-contiguous
        bank.learn_one(np.eye(7, dtype=np.uint8)[:3], np.eye(7)[:3])
        bank.learn_many(np.ones((3, 4, 7), dtype=np.float32), np.zeros((3, 4, 7)), np.eye(3, 4, dtype=int))
        state = m.state_arrays()
        for bad in (np.full(7, 1 + 1j), np.array(["a"] * 7), np.full(7, 1e20, dtype=np.longdouble)):
            with pytest.raises(InputError):
                m.learn_one(bad, y)
        with pytest.raises(InputError):
            bank.learn_one(np.full((3, 7), 1j), None)
        w.learn_many(np.eye(7, dtype=np.float32)[::2], np.full((4, 7), np.nan))
        w.learn_delayed([0, 0, 1, 0, 0, 0, 0], np.int32(1))  # int list, numpy int age
        w.learn_last(np.ones(7, dtype=np.float32))
        wbank.learn_many(np.ones((3, 4, 7), dtype=np.float32), np.full((3, 4, 7), np.nan))
        wbank.learn_delayed(np.eye(7, dtype=np.uint8)[:3], np.array([1, 2, 0], dtype=np.int32))
    assert counter.names == []
    assert all(np.array_equal(m.state_arrays()[k], v, equal_nan=True) for k, v in state.items())
    assert {d: list(d.signatures) for d in sigs} == sigs


def test_kernels_refuse_to_compile_a_new_signature():
    """The guard rail behind the test above: the entry points have compiling
    disabled, so a wrong dtype reaching them raises instead of compiling."""
    mem = OnlineLSTM(2, 1, seed=0)._mem
    with pytest.raises(TypeError):
        kernels.learn_step(mem, np.zeros(2, dtype=np.float32), np.zeros(1), np.zeros(1))
    bank = LearnerBank(2, 2, 1, seed=0)
    with pytest.raises(TypeError):
        bank_kernels.run_serial(bank._mems, np.zeros((2, 1, 2), dtype=np.float32), np.zeros((2, 1, 1)),
                                np.zeros((0, 0), dtype=bool), np.zeros((2, 1, 1)),
                                np.zeros(2, dtype=np.int64), np.zeros(2, dtype=np.int64), True)


# ---------------------------------------------------------------------------
# threads
# ---------------------------------------------------------------------------


def test_kernels_release_the_gil():
    for d in (kernels.learn_step, kernels.predict_step, kernels.run, kernels.learn_last,
              bank_kernels.run, bank_kernels.run_serial):
        assert d.targetoptions.get("nogil") is True, d.py_func.__name__


def run_learner(m, X, Y, R, outs, i):
    outs[i] = (m.learn_many(X[:150], Y[:150], R[:150]),
               np.array([m.learn_one(X[t], Y[t]) for t in range(150, len(X))]))


def test_separate_learners_in_threads_equal_sequential_runs(seed):
    rng = np.random.default_rng(seed)
    n = 6
    data = [random_stream(rng, 300, 4, 3) for _ in range(n)]
    threaded = [OnlineLSTM(4, 3, 3, 2, bias="all", seed=seed + i, lr=0.3) for i in range(n)]
    serial = [m.clone() for m in threaded]
    outs, ref = [None] * n, [None] * n
    threads = [threading.Thread(target=run_learner, args=(threaded[i], *data[i], outs, i)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(n):
        run_learner(serial[i], *data[i], ref, i)
        assert np.array_equal(outs[i][0], ref[i][0]) and np.array_equal(outs[i][1], ref[i][1])
        assert np.array_equal(threaded[i]._mem, serial[i]._mem, equal_nan=True)


def test_separate_banks_in_threads_equal_sequential_runs():
    # numba.threading_layer() is known only once a parallel kernel has run: run one here, from
    # this thread alone, so that the test does not depend on what ran before it
    LearnerBank(2, 3, 2, seed=0, parallel=True).learn_one(np.zeros((2, 3)), np.zeros((2, 2)))
    if numba.threading_layer() == "workqueue":  # pragma: no cover - not thread-safe by design
        pytest.skip("Numba's workqueue threading layer cannot run parallel kernels from threads")
    rng = np.random.default_rng(7)
    banks = [LearnerBank(32, 3, 2, 2, 2, seed=i, parallel=True) for i in range(3)]
    serial = [LearnerBank(32, 3, 2, 2, 2, seed=i, parallel=False) for i in range(3)]
    X = rng.uniform(-1, 1, (3, 32, 100, 3))
    Y = rng.uniform(0, 1, (3, 32, 100, 2))
    ref = [serial[i].learn_many(X[i], Y[i]) for i in range(3)]  # before the threads share anything
    outs = [None] * 3

    def work(i):
        outs[i] = banks[i].learn_many(X[i], Y[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(3):
        assert np.array_equal(outs[i], ref[i])
        assert np.array_equal(banks[i]._mems, serial[i]._mems, equal_nan=True)


# ---------------------------------------------------------------------------
# cold start from the on-disk cache
# ---------------------------------------------------------------------------

COLD_START = r"""
import json, time
t0 = time.perf_counter()
""" + COMPILE_COUNTER + r"""
import numpy as np
from online_lstm import OnlineLSTM, LearnerBank
m = OnlineLSTM(7, 7, 4, 2, bias="all", seed=0)
y = m.learn_one(np.eye(7)[0], np.eye(7)[1])
t1 = time.perf_counter()
b = LearnerBank(2, 7, 7, 4, 2, bias="all", seed=0)
b.learn_one(np.eye(7)[:2], np.eye(7)[:2])
b.learn_many(np.zeros((2, 3, 7)), np.zeros((2, 3, 7)))
print(json.dumps({"compiled": Counter.names, "first_step_s": t1 - t0, "finite": bool(np.isfinite(y).all())}))
"""


def test_new_process_steps_from_the_cache_without_compiling():
    """A fresh interpreter imports, builds and steps with zero compilations:
    every kernel comes from the on-disk cache.  (The time is printed by
    ``benchmarks/bench_latency.py``; here only the absence of compilation is
    checked.)"""
    runs = [subprocess.run([sys.executable, "-c", COLD_START], capture_output=True, text=True,
                           check=True) for _ in range(2)]  # the first one warms the cache
    result = json.loads(runs[1].stdout.strip().splitlines()[-1])
    assert result["finite"]
    assert result["compiled"] == []


def _wait_policy_after_import(policy, then="pass"):
    """OMP_WAIT_POLICY in a fresh interpreter that started with ``policy`` (None: unset)
    and imported online_lstm, then ran ``then``."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if policy is not None:
        env["OMP_WAIT_POLICY"] = policy
    code = f"import os, online_lstm; {then}; print(os.environ.get('OMP_WAIT_POLICY'))"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert res.returncode == 0, res.stderr
    return res.stdout.strip().splitlines()[-1]


def test_openmp_threads_sleep_at_the_barrier_unless_the_user_chose():
    """Spinning OpenMP threads stall parallel calls for milliseconds on a busy
    machine; the threaded bank asks for sleeping ones unless the user set a
    policy, and only once its threaded kernel is built: importing the
    library leaves the environment alone."""
    threaded = "from online_lstm import bank_kernels; bank_kernels.run"
    assert _wait_policy_after_import(None) == "None"
    assert _wait_policy_after_import(None, "from online_lstm import bank_kernels; "
                                           "bank_kernels.run_serial") == "None"
    assert _wait_policy_after_import(None, threaded) == "PASSIVE"
    assert _wait_policy_after_import("ACTIVE", threaded) == "ACTIVE"
