"""Tests written to kill mutants of the command line (``online_lstm/cli.py``)
and of the Dask sweep layer (``online_lstm/cluster.py``) that the other
tests let through in a mutation audit.  Each test's docstring names the
mutant it kills; expected values come from the ``--help`` texts, the
README ("Reproducing the paper", "Sweeps on a Dask cluster"), the module
docstrings, or a hand count, never from stored outputs of the code.

Audit: 26 mutants of cli.py (10 let through: 8 are killed here; one
is equivalent on the package's data, ``_num`` at exactly 1; and dropping
``_exact_ids`` in compare was not killed, see the audit report) and 23 of
cluster.py (7 let through, all killed here).  The cluster tests run on a
LocalCluster of threads (``dashboard_address=":0"``).
"""

from __future__ import annotations

import socket
import struct
import threading
import time

import pandas as pd
import pytest
from conftest import dask_threads

from online_lstm.cli import _duration, main
from online_lstm.presets import PRESETS

try:  # the cli tests run without the dask extra; the cluster tests need it
    import distributed  # noqa: F401

    from online_lstm import cluster as cl
except ImportError:
    cl = None
needs_dask = pytest.mark.skipif(cl is None, reason="needs dask.distributed (the dask extra)")


def _quick(tmp_path, *extra):
    """``online-lstm reproduce 6a --quick`` with a tiny budget, in this process."""
    return main(["reproduce", "6a", "--quick", "--jobs", "1", "--out", str(tmp_path), "--no-progress",
                 "--set", "limit=300", *extra])


# ----------------------------------------------------------------------------
# cli.py

def test_a_trial_given_twice_runs_and_counts_once(tmp_path, capsys):
    """Kills the mutant that counts ``--trial`` flags instead of distinct
    trials in reproduce's first line (``len(args.only_trials)`` for
    ``len(set(...))``): ``--trial 1 --trial 1`` is trial 1 once (the records
    hold one row), so the line must say 1 trial, not 2."""
    assert _quick(tmp_path, "--trial", "1", "--trial", "1") == 0
    out = capsys.readouterr().out
    assert "online-lstm reproduce: 1 preset(s), 1 trial(s) (quick" in out
    assert list(pd.read_csv(tmp_path / "6a-quick.csv")["trial"]) == [1]


def test_quick_without_trials_is_one_trial_per_preset(tmp_path, capsys):
    """Kills the mutant that drops ``1 if args.quick`` from the trial count of
    the first line: ``--trials`` says "default: the paper's; 1 with --quick",
    so ``reproduce 6a 6b --quick`` is 2 presets and 2 trials (the paper's
    counts of 6a and 6b are far more)."""
    assert main(["reproduce", "6a", "6b", "--quick", "--jobs", "1", "--out", str(tmp_path),
                 "--no-progress", "--set", "limit=300"]) == 0
    out = capsys.readouterr().out
    assert "online-lstm reproduce: 2 preset(s), 2 trial(s) (quick" in out
    assert len(pd.read_csv(tmp_path / "6a-6b-quick.csv")) == 2


@pytest.mark.parametrize("flag, want", [([], 60.0), (["--checkpoint-every", "0"], None),
                                        (["--checkpoint-every", "2.5"], 2.5)])
def test_checkpoint_every_zero_is_never(flag, want, tmp_path, monkeypatch, capsys):
    """Kills the mutant that passes ``--checkpoint-every 0`` on as 0 s
    (``args.checkpoint_every`` for ``args.checkpoint_every or None``): the
    help says "(default 60; 0 = never)", so reproduce must be told None
    (no checkpoints), not an interval of 0 s (a checkpoint at every check)."""
    import online_lstm.experiments as ex

    seen = {}

    def spy(*args, **kwargs):
        seen.update(kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(ex, "reproduce", spy)
    assert _quick(tmp_path, *flag) == 130
    assert seen["checkpoint_every"] == want


def test_a_count_at_its_upper_bound_is_accepted():
    """Kills the mutant that refuses a count equal to its upper bound (``>=``
    for ``>``): ``--trials`` takes "an integer in [1, 1,000,000]" and
    ``bench --calls`` "at most 10,000,000", bounds included; one more is
    refused, naming the range."""
    import argparse

    from online_lstm.cli import _MAX_TRIALS, _count

    assert _MAX_TRIALS == 1_000_000
    assert _count(1, _MAX_TRIALS)("1000000") == 1_000_000
    assert _count(1_000, 10_000_000)("10000000") == 10_000_000
    assert _count(1, _MAX_TRIALS)("1") == 1
    with pytest.raises(argparse.ArgumentTypeError, match=r"in \[1, 1,000,000\]; got 1000001"):
        _count(1, _MAX_TRIALS)("1000001")


def test_duration_is_hours_minutes_seconds():
    """Kills the mutant that prints all the minutes in the minutes field
    (``seconds // 60`` for ``seconds // 60 % 60``) of ``status``'s "to limit"
    column, documented as ``h:mm:ss``: 3725 s = 1 h 2 min 5 s; 86399 s =
    23:59:59; a negative time is 0."""
    assert _duration(3725) == "1:02:05"
    assert _duration(86399) == "23:59:59"
    assert _duration(59.6) == "0:01:00"
    assert _duration(-5) == "0:00:00"


def test_bench_max_delay_one_is_applied(capsys, monkeypatch):
    """Kills the mutant that applies ``--max-delay`` only above 1: the help
    says "keep D steps for delayed targets (default 0)", so ``--max-delay 1``
    makes a learner with max_delay 1 and the first line names it."""
    import online_lstm.bench as bench

    made = []

    def run(m, calls):
        made.append(m)
        return pd.DataFrame({"what": ["x"], "p50_ns": [1.0], "p99_ns": [2.0], "p999_ns": [3.0]})

    monkeypatch.setattr(bench, "run", run)
    assert main(["bench", "--net", "2,1,1,1", "--max-delay", "1", "--calls", "1000"]) == 0
    assert made[0].max_delay == 1
    assert ", max_delay=1" in capsys.readouterr().out.splitlines()[0]


def test_status_time_to_limit_counts_the_sequences_left(tmp_path, capsys):
    """Kills the mutant that divides the whole limit by the pace in status's
    "to limit" column (``lim / r`` for ``(lim - n) / r``): the column is "the
    wall time left at the pace so far if the trial runs to its limit".  A
    checkpoint of a 6a trial whose metadata says 3,000 of 9,000 sequences in
    1,500 s: 33.3 %, 2.0 sequences a second, 6,000 left = 3,000 s = 0:50:00
    (the whole limit would be 1:15:00)."""
    from online_lstm.checkpoint import read_checkpoint, write_checkpoint
    from online_lstm.experiments import KIND_TRIAL, run_trial
    from online_lstm.presets import PRESETS

    class Stop(Exception):
        pass

    def progress(n, steps):
        raise Stop

    trials = tmp_path / "r.trials"
    trials.mkdir()
    path = trials / "6a.trial1.npz"
    with pytest.raises(Stop):
        run_trial(PRESETS["6a"].quick_version().with_options(limit=300), trial=1, seed=2,
                  progress=progress, checkpoint=path, checkpoint_every=0)
    arrays, meta = read_checkpoint(path, kind=KIND_TRIAL)
    meta = {k: v for k, v in meta.items() if k not in ("format", "format_version", "arrays")}
    write_checkpoint(path, arrays, dict(meta, seen=3000, limit=9000, wall_s=1500.0))
    assert main(["status", "--out", str(tmp_path)]) == 0
    row = next(ln.split() for ln in capsys.readouterr().out.splitlines() if ln.split()[:2] == ["r", "6a"])
    assert row[4:7] == ["3000", "9000", "33.3"] and row[-2:] == ["2.0", "0:50:00"]


@pytest.mark.parametrize("tolerance, code, says", [("1e-5", 0, "agree (tolerance"),
                                                   ("0", 1, "DISAGREE (tolerance")])
def test_gradcheck_exits_1_when_the_two_must_agree_and_do_not(tolerance, code, says, capsys):
    """Kills the mutant that exits 0 whatever the relative difference where
    the truncated gradient must equal the full one (connectivity B, no
    peepholes): ``--tolerance`` is the "largest relative difference that
    counts as agreement ... (exit 1 above it)".  Finite differences are never
    exact, so with tolerance 0 the check must fail."""
    assert main(["gradcheck", "--net", "2,1,1,1", "--connectivity", "B", "--steps", "3",
                 "--tolerance", tolerance]) == code
    assert says in capsys.readouterr().out


# ----------------------------------------------------------------------------
# cluster.py

def _report():
    """A run's report by hand: two workers at the start in two processes of
    host h (3 + 4 kernel loads, 1 + 0 compilations at warm-up, 1 and 2 Numba
    threads), a third joined mid-run in the process of the first (threads of
    one process share its counts), 7 tasks that compiled 2 times and loaded
    5 times."""
    w1 = dict(host="h", pid=11, cache_loads=3, compiled=1, numba_threads=1)
    w2 = dict(host="h", pid=12, cache_loads=4, compiled=0, numba_threads=2)
    return dict(scheduler="tcp://h:8786", workers=2,
                warm_up={"tcp://h:1": w1, "tcp://h:2": w2, "tcp://h:3": dict(w1)},
                tasks=7, compile_events=2, compiled=2, cache_loads=5, overloads=0,
                per_worker={"tcp://h:1": 3, "tcp://h:2": 2, "tcp://h:3": 2})


@needs_dask
def test_the_summary_line_names_each_count_in_its_place():
    """Kills the mutants that swap the trials' compilations and cache loads in
    the summary line (every real run has 0 of both, so the CLI tests could not
    tell them apart), and that count the workers that took trials (3 here)
    instead of the workers at the start (``workers``, 2).  Hand count: the
    warm-up sums over processes (h, 11) and (h, 12): 3 + 4 = 7 loads,
    1 + 0 = 1 compilation; threads 1 and 2."""
    assert cl.summary(_report()) == (
        "dask: 7 trials on 2 worker(s) at tcp://h:8786; warm-up (all workers): 7 kernel load(s) "
        "from Numba's cache, 1 compilation(s), NUMBA_NUM_THREADS 1/2; during the trials: "
        "2 compilation(s), 5 cache load(s)")


def _serve_once(payload_parts):
    """A TCP server on a free port that, for one connection, sends the parts
    with a pause between them, then closes; ``(address, thread)``."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)

    def serve():
        with srv:
            conn, _ = srv.accept()
            with conn:
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                for i, part in enumerate(payload_parts):
                    if i:
                        time.sleep(0.2)
                    conn.sendall(part)
                time.sleep(0.2)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return f"tcp://127.0.0.1:{srv.getsockname()[1]}", t


@needs_dask
def test_a_handshake_length_in_two_packets_is_read_whole():
    """Kills the mutant that stops reading the greeting after its first bytes
    (``len(greeting) < 1`` for ``< 8``): ``_probe`` reads "the first 8 bytes",
    the length of a Dask handshake, and a plausible length that arrives in
    two packets (4 + 4 bytes) is a Dask server, not "does not start a Dask
    handshake"."""
    length = struct.pack("=Q", 200)
    address, t = _serve_once([length[:4], length[4:]])
    assert cl._probe(address, timeout=10) is None  # accepted: no ClusterError
    t.join(10)
    assert not t.is_alive()  # the server sent both packets


@pytest.fixture(scope="module")
def threads():
    """Two workers as threads of this process, and a Client the tests keep."""
    yield from dask_threads(2)


def _jobs(n, seed=4):
    return [(PRESETS["6a"].quick_version().with_options(limit=300), k, seed) for k in range(n)]


def _gives_up(preset, trial, seed, topic=None, checkpoint=None):
    """A task that ends as Dask ends one whose workers died 3 times
    (allowed-failures 2)."""
    from types import SimpleNamespace

    from distributed.scheduler import KilledWorker

    raise KilledWorker(f"online-lstm-6a-{trial}", SimpleNamespace(address="tcp://w:1"), 2)


@needs_dask
def test_killed_worker_names_how_many_times_the_trial_s_workers_died(threads, monkeypatch):
    """Kills the mutant that reports ``allowed_failures`` deaths instead of
    ``allowed_failures + 1``: Dask gives up on a task after its workers died
    one time more than ``distributed.scheduler.allowed-failures`` allows (its
    own KilledWorker says "on allowed_failures + 1 different workers").  Here
    the task raises Dask's KilledWorker for allowed-failures 2: the workers
    died 3 times."""
    monkeypatch.setattr(cl, "_trial", _gives_up)
    with pytest.raises(cl.SweepStopped, match=r"Dask gave up on trial 6a #0: the workers running it "
                                              r"died 3 time\(s\) \(distributed.scheduler.allowed-"
                                              r"failures is 2;.*the worker at tcp://w:1"):
        cl.run_trials(_jobs(1), threads, lambda rec: None)


#: trials 1.. of :func:`_held` wait for it
_GO = threading.Event()
_REAL_TRIAL = cl._trial if cl is not None else None


def _held(preset, trial, seed, topic=None, checkpoint=None):
    if trial:
        _GO.wait(30)
    return _REAL_TRIAL(preset, trial, seed, topic, checkpoint)


class _Stop(Exception):
    pass


def _stop(rec):
    raise _Stop


@needs_dask
def test_an_error_mid_sweep_cancels_the_trials_still_queued(threads, monkeypatch):
    """Kills the mutant that leaves the other trials on the cluster when the
    sweep stops (no ``client.cancel``): the README says "Ctrl-C (or an
    error) cancels the trials still queued on the cluster".  Trials 1..5
    wait until the test lets them go; ``done`` raises at trial 0's record;
    right after, the scheduler holds no task of trials 1..5."""
    def others(dask_scheduler):
        return sorted(str(k) for k in dask_scheduler.tasks
                      if str(k).startswith("online-lstm-6a-") and not str(k).startswith("online-lstm-6a-0-"))

    monkeypatch.setattr(cl, "_trial", _held)
    _GO.clear()
    try:
        with pytest.raises(_Stop):
            cl.run_trials(_jobs(6), threads, _stop)
        assert threads.run_on_scheduler(others) == []
    finally:
        _GO.set()


@needs_dask
def test_the_competitors_warm_up_runs_on_a_cluster_already_warmed_without_them(threads, monkeypatch):
    """Kills the mutant that gives WarmUp(competitors=True) the plain plugin's
    name: its docstring says it is "a plugin of its own name, so that
    registering it on a cluster warmed without them runs it on every worker"
    (Dask skips a second plugin of a name it has).  So after the plain
    warm-up, registering the competitors' one warms both workers again, with
    the competitors' kernels."""
    calls = []
    real = cl._warm

    def warm(competitors=False):
        calls.append(competitors)
        return real(competitors)

    monkeypatch.setattr(cl, "_warm", warm)
    threads.register_plugin(cl.WarmUp(False))
    threads.register_plugin(cl.WarmUp(True))
    assert calls.count(True) == 2


@needs_dask
def test_a_joined_worker_without_a_warm_up_report_stops_the_sweep(threads):
    """Kills the mutant that lets a record through from a worker that joined
    mid-sweep without a warm-up report: ``_check_joined`` says "a worker
    without one cannot be vouched for", and the README says a worker that
    joins during the sweep "is checked at its first record"."""
    with pytest.raises(cl.SweepStopped, match=r"trial 6a #2.*tcp://x:1 has no warm-up report"):
        cl._check_joined(threads, {"worker": "tcp://x:1", "warm_up": None}, "6a #2")
