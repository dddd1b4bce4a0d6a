"""Trials on a Dask cluster: the same records as a local run, no compilation per task.

Skipped as a whole when dask.distributed is not installed
(``pip install -e ".[test,river,dask]"``).  One ``LocalCluster`` of two
worker processes with one thread each serves every test here.
"""

import os
import signal

import pandas as pd
import pytest

distributed = pytest.importorskip("distributed")

from online_lstm import cluster as cl  # noqa: E402
from online_lstm.cli import main  # noqa: E402
from online_lstm.errors import ClusterError  # noqa: E402
from online_lstm.experiments import read_records, reproduce, run_trial  # noqa: E402
from online_lstm.presets import PRESETS  # noqa: E402

from conftest import refused_scheduler  # noqa: E402

#: fields that depend on the machine and the moment, not on (preset, trial, seed)
TIMING = ("wall_s", "cpu_s", "steps_per_s")
#: 3 presets x 8 trials: three protocols (reber, st3, st12), about 0.2 s a trial
SWEEP = dict(presets=["1-5", "6a", "3a-T100-N1"], trials=8, seed=3, quick=True,
             options=dict(limit=2000))


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0", env={"NUMBA_NUM_THREADS": "1"}) as c:
        yield c


@pytest.fixture(scope="module")
def client(cluster):
    with distributed.Client(cluster, set_as_default=False) as c:
        yield c


def _same(a: pd.DataFrame, b: pd.DataFrame):
    cols = [c for c in a if c not in TIMING]
    assert list(a.columns) == list(b.columns)
    pd.testing.assert_frame_equal(a[cols], b[cols], check_exact=True)


def test_sweep_on_cluster_equals_local_run(cluster, tmp_path):
    local = reproduce(jobs=1, progress=False, **SWEEP)
    dask = reproduce(scheduler=cluster, progress=False, out=tmp_path, name="d", **SWEEP)
    assert len(local) == 24 and local["success"].notna().all()
    _same(local, dask)
    _same(local, read_records(tmp_path / "d.csv").pipe(lambda df: df.astype(local.dtypes.to_dict())))
    rep = dask.attrs["cluster"]
    assert rep["workers"] == 2 and rep["tasks"] == 24 and sum(rep["per_worker"].values()) == 24
    assert len(rep["per_worker"]) == 2  # both workers took trials
    # the measurement: no compilation and no cache load on any worker during any trial
    assert (rep["compile_events"], rep["compiled"], rep["cache_loads"], rep["overloads"]) == (0, 0, 0, 0)
    for w in rep["warm_up"].values():  # kernels loaded at warm-up, with one Numba thread
        assert w["overloads"] > 0 and w["numba_threads"] == 1


def _killing_one_worker(client):
    """``(records, killed, done)``: ``done`` keeps each record and, at the first, kills
    (SIGKILL) a worker process that is running trials."""
    pids = {addr: w["pid"] for addr, w in client.run(cl._warm_up_report).items()}
    records, killed = [], []

    def done(rec):
        records.append(rec)
        if not killed:
            busy = [a for a, keys in client.processing().items() if keys and a in pids]
            killed.append(busy[0])
            os.kill(pids[busy[0]], signal.SIGKILL)

    return records, killed, done


def test_a_worker_dies_mid_sweep(client, cluster):
    """Kill a worker process that is running trials; Dask reruns its tasks on a
    worker (the nanny restarts the dead one) and every record still arrives
    exactly once, identical to the local run."""
    jobs = [(PRESETS[pid].quick_version().with_options(limit=2000), k, 5)
            for pid in ("6a", "3a-T100-N1") for k in range(6)]
    local = [run_trial(*job) for job in jobs]
    records, killed, done = _killing_one_worker(client)
    rep = cl.run_trials(jobs, client, done)
    assert killed and rep["tasks"] == len(jobs)
    key = lambda r: (r["preset"], r["trial"])  # noqa: E731
    assert sorted(map(key, records)) == sorted(map(key, local))
    strip = lambda r: {k: v for k, v in r.items() if k not in TIMING}  # noqa: E731
    assert sorted(map(strip, records), key=key) == sorted(map(strip, local), key=key)
    assert rep["compile_events"] == 0 and rep["cache_loads"] == 0  # the new worker was warmed too
    client.wait_for_workers(2)


def test_cli_scheduler_flag(cluster, tmp_path, capsys):
    args = ["reproduce", "1-5", "--quick", "--trials", "3", "--no-progress", "--set", "limit=2000"]
    assert main(args + ["--jobs", "1", "--out", str(tmp_path / "local")]) == 0
    capsys.readouterr()
    assert main(args + ["--scheduler", cluster.scheduler_address, "--out", str(tmp_path / "dask")]) == 0
    out = capsys.readouterr().out
    assert f"dask: 3 trials on 2 worker(s) at {cluster.scheduler_address}" in out
    assert "during the trials: 0 compilation(s), 0 cache load(s)" in out
    assert "Table 1: LSTM 1-5" in out
    local = read_records(tmp_path / "local" / "1-5-quick.csv")
    dask = read_records(tmp_path / "dask" / "1-5-quick.csv")
    _same(local, dask)


def test_workers_with_another_version_are_refused(client):
    warm = client.run(cl._warm_up_report)
    cl._check_workers(client, warm)  # the same tree: accepted
    assert {w["source"] for w in warm.values()} == {cl.source_digest()}
    addr = sorted(warm)[0]
    for change in (dict(package="0.0.1"), dict(source="0123456789ab")):
        bad = dict(warm, **{addr: dict(warm[addr], **change)})
        with pytest.raises(ClusterError, match=f"another version.*{addr}: online-lstm "
                                               f"{bad[addr]['package']}, source {bad[addr]['source']}"):
            cl._check_workers(client, bad)
    with pytest.raises(ClusterError, match="no workers"):
        cl._check_workers(client, {})


def test_bad_scheduler_argument():
    with pytest.raises(TypeError, match="scheduler must be an address"):
        reproduce("1-5", trials=1, quick=True, progress=False, scheduler=8786)


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path, capsys):
    err = refused_scheduler("tcp://127.0.0.1:1", "cannot reach the Dask scheduler at tcp://127.0.0.1:1",
                            tmp_path, capsys, "2s")
    assert "online-lstm reproduce: cannot reach the Dask scheduler" in err


@pytest.fixture
def not_dask():
    """A TCP service that is not Dask: ``silent`` accepts connections and
    says nothing (distributed.Client would wait for its handshake forever);
    ``hangs up`` closes each connection at once; ``speaks first`` sends an
    SSH banner (distributed.Client would read it as a length of exabytes
    and raise MemoryError)."""
    import socket
    import threading

    servers = []

    def serve(kind):
        srv = socket.create_server(("127.0.0.1", 0))
        held = []

        def loop():
            while True:
                try:
                    conn, _ = srv.accept()
                except OSError:  # closed at teardown
                    return
                if kind == "silent":
                    held.append(conn)
                elif kind == "speaks first":
                    conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")
                    held.append(conn)
                else:
                    conn.close()

        threading.Thread(target=loop, daemon=True).start()
        servers.append((srv, held))
        return f"tcp://127.0.0.1:{srv.getsockname()[1]}"

    yield serve
    for srv, held in servers:
        srv.close()
        for conn in held:
            conn.close()


@pytest.mark.parametrize("kind, match", [("silent", "sent nothing within 1 s"),
                                         ("hangs up", "closed the connection without a word"),
                                         ("speaks first", "answered b'SSH-2.0-', which does not")])
def test_a_service_that_is_not_dask_is_a_clear_error_not_a_hang(kind, match, not_dask, tmp_path, capsys):
    assert "not one" in refused_scheduler(not_dask(kind), match, tmp_path, capsys, "1s")


@pytest.mark.parametrize("address", ["notanaddress", "foo://127.0.0.1:8786", "tcp://host"])
def test_a_malformed_address_is_a_clear_error_at_once(address, tmp_path, capsys):
    """Refused before a distributed.Client is made: the Client would raise
    ValueError in the background and leave the caller waiting out its 60 s
    connect timeout."""
    refused_scheduler(address, "is not a Dask scheduler address", tmp_path, capsys)


def test_training_progress_reaches_the_client(client, bar_stub):
    """Running trials report their training sequences a few times a second
    (as Dask events, each naming its trial), so a long trial shows progress
    before it finishes, and the bar's budget shrinks as trials stop."""
    from online_lstm.experiments import TrainingBar

    jobs = [(PRESETS["6a"].quick_version().with_options(limit=10000), k, 0) for k in range(2)]
    bar, records = bar_stub, []
    training = TrainingBar(bar, jobs)
    assert bar.total == 20000

    def done(rec):
        records.append(rec)
        training.finished(rec["preset"], rec["trial"])

    cl.run_trials(jobs, client, done, training)
    assert len(records) == 2 and not training.budget
    # every sequence reported, with its trial's key; the total came down to
    # what the trials trained (plus what a trial that met its rule inside a
    # chunk retrained), so the bar ends full
    assert bar.n > 0 and bar.n == bar.total


def test_a_trial_goes_on_from_its_checkpoint_on_the_cluster(cluster, tmp_path):
    """``--checkpoint-every`` with ``--scheduler``: the workers read and write the trials'
    checkpoints (here a filesystem they share with the client).  Under ``resume`` the trial with
    a checkpoint goes on from it (its clock starts from the checkpoint's, set to a million
    seconds to show it); the records equal a local run's, and the checkpoints are gone at the
    end."""
    from test_trial_checkpoints import CASES, started_long_ago

    kw = dict(trials=2, seed=2, options=CASES["6a"][0], progress=False)
    ckpt = started_long_ago(tmp_path)
    dask = reproduce(["6a"], scheduler=cluster, out=tmp_path, name="r", resume=True, checkpoint_every=0, **kw)
    _same(reproduce(["6a"], jobs=1, **kw), dask)
    assert dask["wall_s"].iloc[1] > 1e6 > dask["wall_s"].iloc[0]
    assert not ckpt.parent.exists()


def test_a_worker_lost_mid_trial_with_checkpoints(client, cluster, tmp_path):
    """With checkpoints on a shared filesystem, a worker killed in the middle of trials: Dask
    reruns them, each from the checkpoint its first run left (``resume`` is on for every task),
    and every record equals the local run's."""
    jobs = [(PRESETS["6a"].quick_version().with_options(limit=4000), k, 7) for k in range(6)]
    local = [run_trial(*job) for job in jobs]
    ckpts = {(p.id, k): dict(checkpoint=tmp_path / f"{p.id}.trial{k}.npz", checkpoint_every=0, resume=True)
             for p, k, _ in jobs}
    records, killed, done = _killing_one_worker(client)
    rep = cl.run_trials(jobs, client, done, checkpoints=ckpts)
    assert killed and rep["tasks"] == len(jobs)
    key = lambda r: (r["preset"], r["trial"])  # noqa: E731
    strip = lambda r: {k: v for k, v in r.items() if k not in TIMING}  # noqa: E731
    assert sorted(map(strip, records), key=key) == sorted(map(strip, local), key=key)
    names = sorted(p.name for p in tmp_path.iterdir())
    # a save cut short by the kill leaves its temporary file (reproduce removes those at the end)
    assert [n for n in names if not n.endswith(".tmp")] == sorted(f"6a.trial{k}.npz" for k in range(6))
    assert all(n.startswith(".6a.trial") and ".npz." in n for n in names if n.endswith(".tmp"))
    client.wait_for_workers(2)


def test_a_cluster_run_writes_no_checkpoints_unless_asked(cluster, tmp_path, monkeypatch):
    """The default (``"auto"``) means no checkpoints on a cluster: workers elsewhere may not see
    the client's files.  Asked for, the client hands every task its file."""
    from online_lstm import experiments

    class Handed(Exception):
        pass

    seen = []

    def run_trials(jobs, sched, done, bar=None, checkpoints=None):
        seen.append(checkpoints)
        raise Handed  # what the tasks were given is all this test needs

    monkeypatch.setattr(cl, "run_trials", run_trials)
    for name, every in (("a", "auto"), ("b", 5)):
        with pytest.raises(Handed):
            experiments.reproduce(["6a"], trials=2, quick=True, progress=False, scheduler=cluster,
                                  out=tmp_path, name=name, checkpoint_every=every)
    assert seen[0] is None
    files = {k: v["checkpoint"] for k, v in seen[1].items()}
    assert files == {("6a", k): (tmp_path / "b.trials" / f"6a.trial{k}.npz").resolve() for k in range(2)}
    assert all(v["resume"] and v["checkpoint_every"] == 5 for v in seen[1].values())
