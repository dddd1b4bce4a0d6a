"""Dask sweeps that go wrong: workers without the package, a trial that kills its
workers, a scheduler lost mid-sweep, dask missing; and the competitors' kernels
warmed like the LSTM's.

Each failure must be a one-line message and a nonzero exit code (no
traceback), with the finished trials kept in the records file, its lock
released and the run resumable.  Expectations come from local runs of the
same seeds.  Skipped as a whole when dask.distributed is not installed.
"""

import socket
import subprocess
import sys

import pytest

distributed = pytest.importorskip("distributed")


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
                                  dashboard_address=None, env={"NUMBA_NUM_THREADS": "1"}) as c:
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
    with distributed.LocalCluster(n_workers=0, processes=True, dashboard_address=None) as c:
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
