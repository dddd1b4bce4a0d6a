"""Dask sweeps, third audit: scheduler addresses that distributed.Client cannot
use, refused at once with a one-line message (no traceback, no minute-long
wait), and addresses of other schemes that work.  Skipped as a whole when
dask.distributed is not installed; every cluster is closed by its ``with``
block."""

import socket

import pytest

distributed = pytest.importorskip("distributed")

from online_lstm import cluster as cl  # noqa: E402
from online_lstm.errors import ClusterError  # noqa: E402
from online_lstm.presets import PRESETS  # noqa: E402

from conftest import dask_threads, refused_scheduler  # noqa: E402


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("address, match", [
    # distributed.Client raised TypeError ("TLS expects a `ssl_context`"), then its __del__
    # waited 60 s for a close: the CLI printed two tracebacks and took a minute to exit
    ("tls://127.0.0.1:{port}", "no TLS settings for Dask"),
    ("wss://127.0.0.1:{port}", "no TLS settings for Dask"),
    # ValueError from distributed.Client, and the same 60 s in __del__
    ("inproc://10.0.0.1/1/1", "no Dask scheduler listens at inproc://10.0.0.1/1/1 in this process"),
    # a bare NotImplementedError (no message) from distributed's stub of the ucx backend
    ("ucx://127.0.0.1:{port}", "cannot connect over ucx://"),
    # 99999 was looked up as a service and connected to whatever answered (or refused)
    ("tcp://127.0.0.1:99999", "port 99999 is not in 1..65535"),
    ("tcp://127.0.0.1:0", "port 0 is not in 1..65535"),
    # refused: Dask's Client retried until its connect timeout (30 s by default)
    ("ws://127.0.0.1:{port}", "cannot reach the Dask scheduler at ws://127.0.0.1:.*refused"),
])
def test_an_address_distributed_cannot_use_is_refused_at_once(address, match, tmp_path, capsys):
    address = address.format(port=_free_port())
    if address.startswith("ucx://"):
        from distributed.comm import registry

        try:
            registry.get_backend("ucx").get_address_host_port("127.0.0.1:1")
        except NotImplementedError:
            pass
        else:  # pragma: no cover - a real ucx backend (distributed-ucxx) is installed
            pytest.skip("this installation has a ucx backend")
    err = refused_scheduler(address, match, tmp_path, capsys, "20s")
    assert "online-lstm reproduce: " in err
    assert not (tmp_path / "6a-quick.csv.lock").exists()


def test_an_address_that_does_not_answer_a_connection_is_not_said_to_have_accepted_it(monkeypatch):
    """A host that drops the connection request (a firewall) times out in
    connect(); the message said it had "accepted a connection but sent
    nothing", which sends the user looking for the wrong service on the port."""
    def no_answer(address, timeout=None, **kw):
        raise socket.timeout("timed out")

    monkeypatch.setattr(cl.socket, "create_connection", no_answer)
    with pytest.raises(ClusterError, match="cannot reach the Dask scheduler at tcp://10.0.0.1:8786: "
                                           "no answer to a connection request within 2 s") as e:
        cl._probe("tcp://10.0.0.1:8786", timeout=2)
    assert "accepted" not in str(e.value)


@pytest.mark.parametrize("protocol", ["inproc", "ws"])
def test_an_inproc_or_websocket_address_of_a_running_scheduler_works(protocol):
    """The checks above refuse only what cannot work: the address of a scheduler
    in this process (inproc://) and one over websockets run the sweep."""
    jobs = [(PRESETS["6a"].quick_version().with_options(limit=300), k, 0) for k in range(2)]
    kw = {} if protocol == "inproc" else dict(protocol="ws://")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=":0", **kw) as c:
        assert c.scheduler_address.startswith(f"{protocol}://")
        records = []
        rep = cl.run_trials(jobs, c.scheduler_address, records.append)
    assert rep["tasks"] == 2 and sorted(r["trial"] for r in records) == [0, 1]


@pytest.fixture(scope="module")
def threads():
    """One worker, a thread of this process."""
    yield from dask_threads(1)


_P = PRESETS["6a"].quick_version().with_options(limit=300)


@pytest.mark.parametrize("jobs, error, match", [
    # blamed the workers: "Dask workers could not load online-lstm (is it installed ...):
    # 'str' object has no attribute 'competitor'"
    ([("6a", 0, 0)], TypeError, "a Preset object, not an id"),
    ([(_P, 0)], TypeError, r"\(Preset, trial, seed\) tuples"),
    ("6a", TypeError, r"jobs must be a list of \(Preset, trial, seed\)"),
    ([(_P, -1, 0)], ValueError, "the trial of every job must be an integer >= 0; got -1"),
    ([(_P, 0, 1.5)], ValueError, "the seed of every job must be an integer >= 0; got 1.5"),
    ([(_P, True, 0)], ValueError, "the trial of every job must be an integer >= 0; got True"),
    # ran twice and reported twice, into one checkpoint file
    ([(_P, 0, 0), (_P, 1, 0), (_P, 0, 0)], ValueError, "jobs has trial 6a #0 twice"),
])
def test_bad_jobs_are_refused_on_the_client_naming_what_is_wrong(threads, jobs, error, match):
    records = []
    with pytest.raises(error, match=match):
        cl.run_trials(jobs, threads, records.append)
    assert records == [] and not threads.who_has()  # nothing sent


def test_a_generator_of_jobs_runs_every_job(threads):
    """The competitor check consumed a generator, and only what it left was sent
    (here: nothing; the run reported 0 tasks and no error)."""
    records = []
    rep = cl.run_trials(((_P, k, 0) for k in range(2)), threads, records.append)
    assert rep["tasks"] == 2 and sorted(r["trial"] for r in records) == [0, 1]


def test_a_closed_client_is_named_not_the_workers(threads):
    """A closed Client failed in the plugin's registration, reported as "Dask workers
    could not load online-lstm (is it installed ...)"."""
    client = distributed.Client(threads.cluster, set_as_default=False)
    client.close()
    with pytest.raises(ClusterError, match="the distributed.Client given as scheduler is closed"):
        cl.run_trials([(_P, 0, 0)], client, lambda rec: None)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("fixed_port", [False, True], ids=["new address", "same address"])
def test_a_worker_of_other_code_that_joins_mid_sweep_stops_the_sweep(monkeypatch, fixed_port):
    """The start-up check sees the workers of the start only.  The only
    worker is killed at the first record and its nanny starts a new process
    (at a new address, or, with a fixed worker port, at the same one, where
    its pid tells it apart); this client's source digest is changed
    meanwhile, so the new worker's code differs from the client's: its first
    record stops the sweep, named, and the records taken before it are kept."""
    import os
    import signal

    from online_lstm.presets import PRESETS

    jobs = [(PRESETS["6a"].with_options(limit=3000), k, k) for k in range(4)]
    records = []
    port = dict(worker_port=_free_port(), host="127.0.0.1") if fixed_port else {}
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=":0", **port) as c, \
            distributed.Client(c, set_as_default=False) as client:
        (addr, w), = client.run(cl._warm_up_report).items()
        if fixed_port:
            assert addr.endswith(f":{port['worker_port']}")

        def done(rec):
            records.append(rec)
            if len(records) == 1:
                monkeypatch.setattr(cl, "source_digest", lambda: "other-code")
                os.kill(w["pid"], signal.SIGKILL)

        with pytest.raises(cl.SweepStopped, match=r"a worker that joined during the sweep ran trial "
                                                  r"6a #\d, and its record was not accepted: Dask "
                                                  r"workers run another version .*source other-code"):
            cl.run_trials(jobs, client, done)
    assert records
