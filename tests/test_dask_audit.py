"""Dask sweeps that go wrong: workers without the package, a trial that kills its
workers, a scheduler lost mid-sweep, dask missing; and the competitors' kernels
warmed like the LSTM's.

Each failure must be a one-line message and a nonzero exit code (no
traceback), with the finished trials kept in the records file, its lock
released and the run resumable.  Expectations come from local runs of the
same seeds.  Skipped as a whole when dask.distributed is not installed.
"""

import os
import socket
import subprocess
import sys
import threading
import time

import pytest

distributed = pytest.importorskip("distributed")

import dask  # noqa: E402

from online_lstm import cluster as cl  # noqa: E402
from online_lstm.cli import main  # noqa: E402
from online_lstm.errors import ClusterError  # noqa: E402
from online_lstm.experiments import read_records, reproduce, run_trial  # noqa: E402
from online_lstm.presets import PRESETS  # noqa: E402

TIMING = ["wall_s", "cpu_s", "steps_per_s"]
#: the record fields a trial computes (the run adds version, quick, options)
TRIAL_FIELDS = ["preset", "trial", "seed", "success", "sequences", "reason"]


def _local(pid, trials, seed=0, **options):
    """Records of a local run of these trials (a count, or a list of indices), one dict
    per trial, as the CSV keeps them."""
    p = PRESETS[pid].quick_version().with_options(**options)
    out = []
    for k in (range(trials) if isinstance(trials, int) else trials):
        rec = run_trial(p, k, seed)
        out.append({f: rec[f] for f in TRIAL_FIELDS})
    return out


def _rows(path):
    return read_records(path)[TRIAL_FIELDS].to_dict("records")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args, **kw):
    return subprocess.Popen([sys.executable, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)


def _stop(proc):
    proc.kill()
    proc.wait(10)


def test_competitor_trials_compile_and_load_nothing_on_the_workers(tmp_path):
    """The warm-up loads the competitors' kernels (RTRL, BPTT) too, when the sweep has
    competitor presets: before, each worker loaded them (or, on a cold cache, compiled
    them, two workers at once) inside its first competitor trial, and the report showed
    cache loads during the trials."""
    ids = ["2a-rtrl-p4-lr1", "2a-bptt-p100-lr1"]
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=":0", env={"NUMBA_NUM_THREADS": "1"}) as c:
        df = reproduce(ids, trials=2, quick=True, progress=False, scheduler=c, options=dict(limit=100))
    rep = df.attrs["cluster"]
    assert rep["tasks"] == 4
    assert (rep["compile_events"], rep["compiled"], rep["cache_loads"], rep["overloads"]) == (0, 0, 0, 0)
    local = reproduce(ids, trials=2, quick=True, progress=False, jobs=1, options=dict(limit=100))
    assert df.drop(columns=TIMING).equals(local.drop(columns=TIMING))


#: a worker whose environment lacks online_lstm
_NO_PACKAGE = ("import sys; sys.modules['online_lstm'] = None; "
               "from distributed.cli.dask_worker import main; sys.exit(main())")


def test_a_worker_without_the_package_is_a_clear_error(tmp_path, capsys):
    """Before, registering the warm-up plugin failed on that worker and the run ended in
    a traceback of distributed's internals ("Exception: ModuleNotFoundError(...)")."""
    with distributed.LocalCluster(n_workers=0, processes=True, dashboard_address=":0") as c:
        worker = _start(["-c", _NO_PACKAGE, c.scheduler_address, "--no-nanny", "--nthreads", "1"])
        try:
            with distributed.Client(c, set_as_default=False) as client:
                client.wait_for_workers(1, timeout=20)
            with pytest.raises(ClusterError, match="could not load online-lstm.*installed"):
                reproduce("6a", trials=1, quick=True, progress=False, scheduler=c.scheduler_address)
            assert main(["reproduce", "6a", "--quick", "--no-progress", "--out", str(tmp_path),
                         "--scheduler", c.scheduler_address]) == 2
        finally:
            _stop(worker)
    err = capsys.readouterr().err
    assert "online-lstm reproduce: " in err and "Traceback" not in err
    assert not (tmp_path / "6a-quick.csv.lock").exists()


def test_a_trial_that_kills_its_workers_is_a_clear_error_and_resumable(tmp_path, capsys, monkeypatch):
    """Dask gives up on a trial whose workers keep dying (KilledWorker, here at the first
    death).  Before, a traceback of distributed.scheduler.KilledWorker; now a message
    that names the trial, exit 1, the finished trials kept, and --resume finishes the
    sweep with the local run's records."""
    def trial_1_kills_its_worker(preset, trial, seed, topic=None, checkpoint=None):
        import os

        from online_lstm.cluster import _trial

        if trial == 1:
            os._exit(9)
        return _trial(preset, trial, seed, topic, checkpoint)

    args = ["reproduce", "6a", "--quick", "--trials", "3", "--no-progress", "--set", "limit=2000",
            "--out", str(tmp_path)]
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                      dashboard_address=":0", env={"NUMBA_NUM_THREADS": "1"}) as c:
            monkeypatch.setattr(cl, "_trial", trial_1_kills_its_worker)
            assert main(args + ["--scheduler", c.scheduler_address]) == 1
            err = capsys.readouterr().err
            assert "Traceback" not in err and "KilledWorker" not in err
            # Dask gives up on trial 1 and on any trial queued on the worker trial 1 killed;
            # the scheduler may run trial 1 before trial 0 has finished (its order is not
            # the submission order), and then there is nothing to resume: the message says so
            assert "Dask gave up on trial 6a #" in err
            assert "--resume" in err or ("No trial had finished or saved a checkpoint yet; rerun "
                                         "the same command to start again" in err)
            assert not (tmp_path / "6a-quick.csv.lock").exists()
            local = _local("6a", 3, limit=2000)
            if (tmp_path / "6a-quick.csv").exists():  # what finished is exactly the local run's
                assert all(r in local for r in _rows(tmp_path / "6a-quick.csv"))
            monkeypatch.undo()
            with distributed.Client(c, set_as_default=False) as client:
                client.wait_for_workers(1, timeout=20)
            assert main(args + ["--scheduler", c.scheduler_address, "--resume"]) == 0
    assert _rows(tmp_path / "6a-quick.csv") == local


def test_losing_the_scheduler_mid_sweep_is_a_clear_error(tmp_path, capsys):
    """The scheduler dies after the first record.  Before, a traceback of
    distributed.client.FutureCancelledError ("scheduler-connection-lost"); now a
    message, exit 1, the finished trials kept and the lock released."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = _start(["-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port),
                        "--dashboard-address", ":0"])
    worker = _start(["-m", "distributed.cli.dask_worker", address, "--no-nanny", "--nthreads", "1"],
                    env=dict(os.environ, NUMBA_NUM_THREADS="1"))
    records = tmp_path / "6a-quick.csv"

    def kill_at_first_record():
        deadline = time.monotonic() + 25
        while not records.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        scheduler.kill()

    try:
        with dask.config.set({"distributed.comm.timeouts.connect": "10s"}):
            with distributed.Client(address, set_as_default=False, timeout=10) as client:
                client.wait_for_workers(1, timeout=20)
        killer = threading.Thread(target=kill_at_first_record, daemon=True)
        killer.start()
        rc = main(["reproduce", "6a", "--quick", "--trials", "8", "--set", "limit=20000",
                   "--out", str(tmp_path), "--scheduler", address])
        killer.join()
    finally:
        _stop(scheduler)
        _stop(worker)
    err = capsys.readouterr().err
    assert rc == 1
    assert "Traceback" not in err and "lost the connection to the Dask scheduler" in err
    assert "--resume" in err
    kept = _rows(records)
    assert 1 <= len(kept) < 8
    assert kept == _local("6a", [r["trial"] for r in kept], limit=20000)  # the local run's
    assert not (tmp_path / "6a-quick.csv.lock").exists()


def test_reproduce_without_dask_releases_the_records_lock(tmp_path, monkeypatch):
    """reproduce(scheduler=...) where dask is not installed raises the ImportError with the
    pip command.  Before, that happened with the records lock taken and outside the code that
    releases it, so the lock stayed while the exception lived (IPython keeps the last one):
    the next run into the same records file was refused as "another reproduce"."""
    monkeypatch.setitem(sys.modules, "online_lstm.cluster", None)  # as if dask were missing
    with pytest.raises(ImportError) as failed:
        reproduce("6a", trials=1, quick=True, progress=False, out=tmp_path, name="r",
                  scheduler="tcp://127.0.0.1:8786")
    monkeypatch.undo()
    df = reproduce("6a", trials=1, quick=True, progress=False, out=tmp_path, name="r", jobs=1,
                   options=dict(limit=500))  # the same records file, while `failed` lives
    assert len(df) == 1 and failed.value is not None


def test_resume_with_every_trial_recorded_needs_no_cluster(tmp_path, capsys):
    """--resume --scheduler when the records already hold every trial: nothing is sent,
    and the table is printed.  Before, the CLI looked up the cluster report that
    reproduce makes only when trials ran: KeyError 'cluster', a traceback, exit 1."""
    args = ["reproduce", "6a", "--quick", "--trials", "2", "--no-progress", "--set", "limit=500",
            "--out", str(tmp_path)]
    assert main(args + ["--jobs", "1"]) == 0
    capsys.readouterr()
    assert main(args + ["--resume", "--scheduler", "tcp://127.0.0.1:1"]) == 0  # no scheduler there
    out = capsys.readouterr().out
    assert "dask: no trial to run" in out and "Table 9: task 6a" in out
    assert (tmp_path / "6a-quick-summary.csv").exists()


def test_a_worker_of_an_older_version_without_a_source_digest_is_refused():
    """Workers of the first cluster code (commit 68c62bb) report no ``source`` from their
    warm-up.  Before, the client's check read ``w["source"]``: KeyError, a traceback,
    instead of the ClusterError that names the worker."""
    import online_lstm

    from types import SimpleNamespace

    old = dict(package=online_lstm.__version__, code="68c62bb1e4", pid=1, numba_threads=1,
               compile_events=0, compiled=0, cache_loads=0, overloads=0)
    client = SimpleNamespace(scheduler=SimpleNamespace(address="tcp://127.0.0.1:8786"))
    with pytest.raises(ClusterError, match="another version.*tcp://10.0.0.1:1234: online-lstm .*, source unknown"):
        cl._check_workers(client, {"tcp://10.0.0.1:1234": old})
    with pytest.raises(ClusterError, match="another version.*online-lstm unknown"):
        cl._check_workers(client, {"tcp://10.0.0.1:1234": {}})
