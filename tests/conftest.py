"""Shared fixtures and the one tolerance policy of the test suite."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

#: kernel vs reference: different summation order and formulas, same maths
RTOL = 1e-9
ATOL = 1e-11

#: Start of a subprocess script: every Numba compilation that follows is
#: recorded in ``Counter.names`` (module.qualname).  ``event.register``, not
#: ``install_listener``, which is a context manager.
COMPILE_COUNTER = r"""
from numba.core import event
class Counter(event.Listener):
    names = []
    def on_start(self, ev):
        f = ev.data["dispatcher"].py_func
        self.names.append(f.__module__ + "." + f.__qualname__)
    def on_end(self, ev): pass
event.register("numba:compile", Counter())
"""

#: Architectures that together cover every option of Table 10 and more.
ARCHS = {
    "F-og-gates-S1": dict(n_in=3, n_out=2, n_blocks=2, block_size=1, bias="gates"),
    "F-og-hidden-S2": dict(n_in=2, n_out=1, n_blocks=2, block_size=2, bias="hidden"),
    "F-og-all-S3": dict(n_in=4, n_out=3, n_blocks=2, block_size=3, bias="all"),
    "F-og-none-S1": dict(n_in=5, n_out=2, n_blocks=2, block_size=1, bias="none"),
    "F-noog-all-S2": dict(n_in=3, n_out=2, n_blocks=2, block_size=2, bias="all", output_gates=False),
    "B-noog-none-g1-id": dict(n_in=4, n_out=4, n_blocks=1, block_size=1, bias="none",
                              output_gates=False, connectivity="B", g="g1", h="id"),
    "B-og-all-S2": dict(n_in=3, n_out=2, n_blocks=2, block_size=2, bias="all", connectivity="B"),
    "F-og-gates-g1-id": dict(n_in=3, n_out=2, n_blocks=3, block_size=1, bias="gates", g="g1", h="id"),
}

#: The forget gate and peepholes (spec §7) on top of those, each switch
#: with and without the other, across connectivities, bias codes, output
#: gates and squashing functions.  Without gate biases the forget-gate bias
#: stays random (forget_gate_bias=None).
ARCHS_X = {
    "F-og-all-S3+fg+ph": dict(ARCHS["F-og-all-S3"], forget_gate=True, peepholes=True),
    "F-og-gates-S1+fg": dict(ARCHS["F-og-gates-S1"], forget_gate=True),
    "F-og-hidden-S2+ph": dict(ARCHS["F-og-hidden-S2"], peepholes=True),
    "F-og-hidden-S2+fg+ph": dict(ARCHS["F-og-hidden-S2"], forget_gate=True, peepholes=True),
    "F-noog-all-S2+fg+ph": dict(ARCHS["F-noog-all-S2"], forget_gate=True, peepholes=True),
    "F-og-none-S1+fg+ph": dict(ARCHS["F-og-none-S1"], forget_gate=True, peepholes=True,
                               forget_gate_bias=None),
    "B-og-all-S2+fg+ph": dict(ARCHS["B-og-all-S2"], forget_gate=True, peepholes=True),
    "B-noog-none-g1-id+fg": dict(ARCHS["B-noog-none-g1-id"], forget_gate=True, forget_gate_bias=None),
    "F-og-gates-g1-id+ph": dict(ARCHS["F-og-gates-g1-id"], peepholes=True),
}

ALL_ARCHS = {**ARCHS, **ARCHS_X}


def seed_list():
    """Seeds for the seed-parametrised tests: one by default, more on demand.

    ``ONLINE_LSTM_TEST_SEEDS=all`` runs 0..19; a number runs that seed.
    """
    env = os.environ.get("ONLINE_LSTM_TEST_SEEDS", "0")
    if env == "all":
        return list(range(20))
    return [int(s) for s in env.split(",")]


@pytest.fixture(params=seed_list())
def seed(request):
    return request.param


def random_stream(rng, T, n_in, n_out, p_reset=0.05, p_nan=0.3):
    """Inputs (dense, one-hot and all-zero rows), targets with NaN holes, resets."""
    X = rng.uniform(-1.0, 1.0, size=(T, n_in))
    kind = rng.integers(0, 3, size=T)
    onehot = np.eye(n_in)[rng.integers(0, n_in, size=T)]
    X[kind == 1] = onehot[kind == 1]
    X[kind == 2] = 0.0
    Y = rng.uniform(0.0, 1.0, size=(T, n_out))
    Y[rng.random((T, n_out)) < p_nan] = np.nan
    resets = rng.random(T) < p_reset
    resets[0] = False
    return X, Y, resets


def dask_threads(n_workers):
    """A module fixture's body: a ``LocalCluster`` of ``n_workers`` workers,
    threads of this process, and a client of it that is not the default
    (yields the client).  ``dashboard_address=":0"`` (here and in every
    test's cluster): the scheduler's HTTP server on a free port; with None
    it still tries 8787 and warns when a parallel test's cluster holds it."""
    import distributed

    with distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as c, \
            distributed.Client(c, set_as_default=False) as client:
        yield client


def refused_scheduler(address, match, tmp_path, capsys, connect_timeout=None) -> str:
    """``reproduce(..., scheduler=address)`` raises ClusterError matching
    ``match`` and ``online-lstm reproduce --scheduler address`` exits 2 with
    no traceback (within Dask's ``connect_timeout``, e.g. "2s", if given);
    returns the command's stderr."""
    import contextlib

    from online_lstm.cli import main
    from online_lstm.errors import ClusterError
    from online_lstm.experiments import reproduce

    if connect_timeout is None:
        timeout = contextlib.nullcontext()
    else:
        import dask

        timeout = dask.config.set({"distributed.comm.timeouts.connect": connect_timeout})
    with timeout:
        with pytest.raises(ClusterError, match=match):
            reproduce("6a", trials=1, quick=True, progress=False, scheduler=address)
        assert main(["reproduce", "6a", "--quick", "--no-progress", "--out", str(tmp_path),
                     "--scheduler", address]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


class StandInLearner:
    """The part of a learner a trial's protocol needs besides ``learn_many`` and
    ``predict_many``, for stand-ins whose outputs a test scripts: a counter
    ``n`` that checkpoints and ``Trial.snapshot``/``restore`` carry, and a
    ``reset`` that does nothing."""

    n = 0

    def reset(self):
        pass

    def state_arrays(self):
        return {"n": np.array([self.n])}

    def load_state_arrays(self, state):
        self.n = int(state["n"][0])


class CountMetric:
    """A metric with River's protocol that counts the observations scored."""

    name = "count"

    def __init__(self):
        self.n = 0

    def update(self, y_true, y_pred):
        self.n += 1

    def get(self):
        return self.n


class _BarStub:
    """Stands in for a tqdm progress bar: counts updates, holds a total."""

    def __init__(self):
        self.n, self.total = 0, None

    def update(self, n):
        self.n += n

    def refresh(self):
        pass


@pytest.fixture
def reads(monkeypatch):
    """The members a checkpoint load inflated (``NpzFile[key]`` calls), in order."""
    seen = []
    getitem = np.lib.npyio.NpzFile.__getitem__

    def spy(self, key):
        seen.append(key)
        return getitem(self, key)

    monkeypatch.setattr(np.lib.npyio.NpzFile, "__getitem__", spy)
    return seen


@pytest.fixture
def bar_stub():
    """A fresh stand-in for a tqdm bar (``n``, ``total``, ``update``, ``refresh``)."""
    return _BarStub()


#: Built by a second process during the warm-up (see pytest_configure),
#: once this one has built ``run_serial``: the bank's windowed row loops
#: (``run_w``, ``run_w_serial``) and its entry points other than the row
#: loops.  On a cold cache (27 November) the functions each process compiles
#: from then on are disjoint: this one only ``bank_kernels._run`` and the
#: baselines' (``_entry``, ``_rtrl``, ``_bptt``, ``_common``), the second
#: only the bank's others (``_run_w``, ``_learner_rows_w``, ``_learner_rows``
#: with a window, ``_learn_last_all``, ...); what both use (``kernels.py``'s
#: steps, ``_check_rows``) was written by the import and ``run_serial``
#: before.  So the two never write the same Numba cache index at once (two
#: signatures of one function written at once could pair an index entry
#: with the other's code).  On a cold cache on the slow VM of 27 November,
#: what follows the import took 2 min 13 s split so (44 s ``run_serial``,
#: then 89 s for the longer of the two processes), against 2 min 41 s for
#: the bank's four row loops alone, in one process, before.
_WARM_SECOND = r"""
from online_lstm import bank_kernels
for name in bank_kernels._ENTRY_POINTS:
    if name not in ("run", "run_serial"):
        getattr(bank_kernels, name)
"""


def pytest_configure(config):
    """Compile (or load from the disk cache) the kernels once, in the process
    that starts pytest-xdist's workers and before it starts them.  On a cold
    cache (a fresh clone) the workers then load what this process wrote,
    rather than compiling the same kernels side by side and writing the same
    Numba cache files at the same moment.  Not in a run without workers
    (plain ``pytest``, ``-n 0``), nor for ``--help`` or ``--collect-only``.

    ``bank_kernels``' import compiles the single learner's kernels (it
    imports ``kernels``; ``import online_lstm`` alone loads none), and
    ``run_serial`` the bank's row loop and what it shares with the bank's
    others (one process: everything after needs them).  Then two processes
    share the rest: this one builds the threaded row loop ``run`` and the
    baselines, a subprocess the others (:data:`_WARM_SECOND`).  If the
    subprocess fails, this process builds its part too, after printing
    why."""
    if hasattr(config, "workerinput"):  # an xdist worker: its controller did it
        return
    if not getattr(config.option, "numprocesses", None) or config.option.help \
            or config.option.collectonly:
        return
    # hand out files in collection order (SLOW_FILES first, see below), not
    # pytest-xdist's default of the files with the most tests first
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False
    import subprocess
    import time

    # (a cold cache is not easy to tell from here: after an edit of a source
    # the kernels are compiled from, the import itself drops the cache)
    sys.stderr.write("online_lstm: compiling, or loading from the disk cache, every kernel before "
                     "the workers start (after a fresh install or a source change this takes "
                     "minutes: 3-4 on 2 cores)\n")
    sys.stderr.flush()
    t0 = time.perf_counter()
    import online_lstm
    from online_lstm import bank_kernels

    # the package this process imported first on the path (an empty entry
    # would add the working directory, so none is added)
    paths = [os.path.dirname(os.path.dirname(online_lstm.__file__)), os.environ.get("PYTHONPATH")]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in paths if p))
    bank_kernels.run_serial  # the bank's compile on first use; each has one signature
    second = subprocess.Popen([sys.executable, "-c", _WARM_SECOND], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    bank_kernels.run
    import online_lstm.baselines  # noqa: F401  (compiles the competitors' kernels)
    _, err = second.communicate()
    if second.returncode != 0:
        sys.stderr.write(f"online_lstm: the second warm-up process failed ({second.returncode}); "
                         f"building its part here:\n{err}\n")
        exec(_WARM_SECOND, {})
    sys.stderr.write(f"online_lstm: kernels ready in {time.perf_counter() - t0:.0f} s\n")
    sys.stderr.flush()


#: The test files that take longest (their own tests' total, about 170 s
#: and 55 s on 2 cores on a slow day of the VM), which run first.  With
#: ``--dist loadfile`` pytest-xdist hands out whole files, by default those
#: with the most tests first (``pytest_configure`` turns that off: the
#: number of tests says little about their time), else in collection order;
#: either way a long file could start late, and one worker run it after the
#: other had finished.
SLOW_FILES = ("test_trial_checkpoints.py", "test_dask.py")


def pytest_collection_modifyitems(session, config, items):
    """Move the tests of :data:`SLOW_FILES` to the front, in that order; every
    file keeps its own order of tests."""
    def rank(item):
        name = item.path.name
        return SLOW_FILES.index(name) if name in SLOW_FILES else len(SLOW_FILES)

    items.sort(key=rank)  # stable
