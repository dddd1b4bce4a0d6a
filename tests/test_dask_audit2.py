"""Dask sweeps, second audit: what a run leaves on a Client the caller keeps, and
the report's warm-up figures (per worker process, including workers that join
mid-sweep).  Skipped as a whole when dask.distributed is not installed; every
cluster is closed by its fixture or ``with`` block."""


import os
import signal

import pytest

distributed = pytest.importorskip("distributed")

from online_lstm import cluster as cl  # noqa: E402
from online_lstm.presets import PRESETS  # noqa: E402

from conftest import dask_threads  # noqa: E402



def _jobs(n=3, limit=1500, seed=4, pid="1-5"):
    return [(PRESETS[pid].quick_version().with_options(limit=limit), k, seed) for k in range(n)]


@pytest.fixture(scope="module")
def threads():
    """Two workers as threads of this process (one worker process for both)."""
    yield from dask_threads(2)


class _Bar:
    def __init__(self):
        self.n = 0

    def update(self, n, key=None):
        self.n += n


def test_a_kept_client_holds_no_bar_and_feeds_it_no_event_after_the_run(threads):
    bar = _Bar()
    records = []
    cl.run_trials(_jobs(), threads, records.append, bar)
    assert len(records) == 3 and bar.n == 3 * 1500
    assert threads.status == "running"  # the caller's Client stays open
    handlers = {t: h for t, h in threads._event_handlers.items() if t.startswith("online-lstm-progress-")}
    assert handlers  # distributed keeps them after unsubscribe_topic
    for h in handlers.values():  # an event that trails the run reaches no bar
        h((0.0, (7, 70, "1-5#0")))
    assert bar.n == 3 * 1500


def test_workers_sharing_a_process_count_its_warm_up_once(threads):
    rep = cl.run_trials(_jobs(2), threads, lambda rec: None)
    warm = list(rep["warm_up"].values())
    assert len(warm) == 2 and warm[0]["pid"] == warm[1]["pid"] == os.getpid()
    loads = warm[0]["cache_loads"] + warm[0]["compiled"]
    assert loads > 0 and warm[1]["cache_loads"] + warm[1]["compiled"] == loads  # the same process's counts
    line = cl.summary(rep)
    assert f"{warm[0]['cache_loads']} kernel load(s) from Numba's cache, {warm[0]['compiled']} compilation(s)" in line


def test_a_worker_that_joins_mid_sweep_has_its_warm_up_in_the_report():
    """The only worker is killed at the first record; the nanny's new worker process
    runs the rest, after its own warm-up, which the report (and the summary's
    warm-up figures: a cold cache compiles there) must include."""
    jobs = _jobs(6, limit=3000, pid="6a")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as c, \
            distributed.Client(c, set_as_default=False) as client:
        first = client.run(cl._warm_up_report)
        (addr, w), = first.items()
        killed = []

        def done(rec):
            if not killed:
                killed.append(addr)
                os.kill(w["pid"], signal.SIGKILL)

        rep = cl.run_trials(jobs, client, done)
    assert killed and rep["tasks"] == 6
    new = set(rep["per_worker"]) - {addr}
    assert new, "a new worker process ran trials"
    assert new <= set(rep["warm_up"])
    assert rep["warm_up"][new.pop()]["pid"] != w["pid"]
