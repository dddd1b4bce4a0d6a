"""Trials on a ``dask.distributed`` cluster (optional extra ``dask``).

:func:`online_lstm.experiments.reproduce` (and ``online-lstm reproduce
--scheduler ADDRESS``) hands its trials to :func:`run_trials` instead of the
local process pool.  One trial is one Dask task, ``run_trial(preset, trial,
seed)``, which is a pure function of its arguments, so the records are the
same bits as a local run's whatever worker runs a trial, in whatever order;
only the timing fields (``wall_s``, ``cpu_s``, ``steps_per_s``) differ.

Workers
-------
Every worker needs this package, the same version, importable (``pip install
online-lstm`` into the workers' environment); :func:`run_trials` checks the
version and a digest of the package's sources (:func:`source_digest`) on
every worker first and refuses to start otherwise; a worker that joins
during the sweep (or a new process at a known worker's address, restarted
on a fixed port) is checked at its first record, and one of other code
stops the sweep (:class:`SweepStopped`) before that record is taken.  A plugin
(:class:`WarmUp`) runs once per worker process, including workers that join
or restart during the sweep: it imports the package, so the kernels are
loaded from Numba's on-disk cache (or compiled, if the cache is empty), and
exercises a small learner; for a sweep with competitor presets it imports
:mod:`online_lstm.baselines` too (their kernels load on import).  A worker
that cannot load the plugin (no online-lstm in its environment) is a
:class:`~online_lstm.errors.ClusterError` before any trial is sent.

Trials use the serial kernels only; run one thread per worker process
(``--nthreads 1``, one worker per core) and set ``NUMBA_NUM_THREADS=1`` in
the workers' environment (Dask's nanny already
sets ``OMP_NUM_THREADS``, ``MKL_NUM_THREADS`` and ``OPENBLAS_NUM_THREADS``
to 1).

No compilation per task, measured
---------------------------------
Each worker process counts Numba's ``numba:compile`` events (one per real
compilation, by any dispatcher) and the package's dispatchers' cache loads.
Every task reads both counters before and after its trial; the sums over
all tasks are in the report (``DataFrame.attrs["cluster"]`` of
:func:`~online_lstm.experiments.reproduce`, and one line of the CLI's
output).  Both are 0 when nothing is compiled or loaded on the per-task
path.

A worker that dies
------------------
Dask runs the tasks of a lost worker again elsewhere (up to
``distributed.scheduler.allowed-failures`` times per task); since a trial is
a pure function of its arguments, the rerun gives the same record, and every
trial is reported exactly once.  A trial that keeps killing workers ends in
Dask's ``KilledWorker``: the run stops with :class:`SweepStopped` (naming the
trial; the CLI exits 1), the queued trials are cancelled, and the CSV keeps
the records of the trials that finished.  So does a client that loses its
connection to the scheduler.

Progress
--------
The trial bar advances as futures complete (``distributed.as_completed``);
the training bar, with the sequences that running trials report a few times
a second, sent as Dask events on a topic of the run.
"""

from __future__ import annotations

import concurrent.futures
import os
import socket
import struct
import sys
import threading
import uuid

try:
    import dask
    import distributed
    from distributed.diagnostics.plugin import WorkerPlugin
    from distributed.scheduler import KilledWorker
except ImportError as exc:  # the CLI turns this into a one-line message
    raise ImportError("running trials on a Dask cluster (--scheduler) needs dask.distributed: "
                      "pip install 'online-lstm[dask]'") from exc

from numba.core import event as _numba_event
from numba.core.dispatcher import Dispatcher

from .errors import ClusterError
from .experiments import source_digest

__all__ = ["run_trials", "numba_counts", "source_digest", "WarmUp", "SweepStopped"]


class SweepStopped(ClusterError):
    """The cluster failed in the middle of a sweep: Dask gave up on a trial whose
    workers kept dying (``KilledWorker``), or the connection to the scheduler was
    lost.  Trials were sent; the records of those that finished were passed on
    (to the records file, under :func:`~online_lstm.experiments.reproduce`)."""


# ---------------------------------------------------------------------------
# what Numba does in this process
# ---------------------------------------------------------------------------
class _CompileCounter(_numba_event.Listener):
    """Counts ``numba:compile`` events: Numba broadcasts one per dispatcher
    compilation (a cache miss), never for a load from the on-disk cache."""

    def __init__(self):
        self.n = 0
        self._lock = threading.Lock()

    def on_start(self, event):
        with self._lock:
            self.n += 1

    def on_end(self, event):
        pass


_COUNTER: _CompileCounter | None = None


def _install_counter() -> _CompileCounter:
    global _COUNTER
    if _COUNTER is None:
        _COUNTER = _CompileCounter()
        _numba_event.register("numba:compile", _COUNTER)
    return _COUNTER


def _dispatchers():
    """Every Numba dispatcher defined in a loaded module of this package."""
    seen = {}
    for name, mod in list(sys.modules.items()):
        if mod is None or not (name == "online_lstm" or name.startswith("online_lstm.")):
            continue
        for obj in list(vars(mod).values()):
            if isinstance(obj, Dispatcher):
                seen[id(obj)] = obj
    return list(seen.values())


def numba_counts() -> dict:
    """Numba's work in this process so far.

    Returns
    -------
    dict
        ``compile_events``: compilations seen since the counter was
        installed (by :class:`WarmUp` or the first task), any dispatcher;
        ``compiled`` and ``cache_loads``: cache misses (compilations) and
        cache hits (loads from ``__pycache__``) of this package's
        dispatchers since the process started; ``overloads``: compiled
        signatures this package's dispatchers hold.
    """
    counter = _install_counter()
    compiled = loads = overloads = 0
    for d in _dispatchers():
        st = d.stats
        compiled += sum(st.cache_misses.values())
        loads += sum(st.cache_hits.values())
        overloads += len(d.overloads)
    return dict(compile_events=counter.n, compiled=compiled, cache_loads=loads, overloads=overloads)


def _warm(competitors: bool = False) -> dict:
    """Load the kernels and run every entry point a trial uses once; with
    ``competitors``, load the kernels of :mod:`online_lstm.baselines` (RTRL,
    BPTT) too, which compile or load when that module is imported.

    Returns what the worker is: package version, :func:`source_digest`, git
    commit (:func:`~online_lstm.experiments.code_version`, for information),
    host name and process id, Numba threads, and :func:`numba_counts` after the warm-up.
    """
    _install_counter()
    import numba
    import numpy as np

    import online_lstm
    from . import presets  # noqa: F401  (tasks and presets, as a trial imports them)
    from .experiments import code_version
    from .learner import OnlineLSTM

    m = OnlineLSTM(n_in=2, n_out=1, n_blocks=1, block_size=1, seed=0)
    X = np.zeros((4, 2))
    Y = np.full((4, 1), np.nan)
    Y[-1] = 0.5
    resets = np.array([True, False, False, False])
    m.learn_many(X, Y, resets)
    m.predict_many(X, resets)
    m.predict_one(X[0])
    m.learn_last(Y[-1])
    m.learn_one(X[0], Y[-1])
    m.load_state_arrays(m.state_arrays())
    m.reset()
    if competitors:
        from . import baselines  # noqa: F401
    return dict(package=online_lstm.__version__, source=source_digest(), code=code_version(),
                host=socket.gethostname(), pid=os.getpid(),
                numba_threads=numba.config.NUMBA_NUM_THREADS, **numba_counts())


class WarmUp(WorkerPlugin):
    """Warm each worker process once, when it starts or joins (see :func:`_warm`).

    ``competitors``: also load the competitors' kernels, for a sweep with
    competitor presets (a plugin of its own name, so that registering it on a
    cluster warmed without them runs it on every worker)."""

    idempotent = True

    def __init__(self, competitors: bool = False):
        self.competitors = bool(competitors)
        self.name = "online-lstm-warm-up" + ("-competitors" if self.competitors else "")

    def setup(self, worker):
        worker.online_lstm_warm_up = _warm(self.competitors)


def _warm_up_report(dask_worker):
    """The warm-up result of this worker (``client.run`` passes ``dask_worker``)."""
    rep = getattr(dask_worker, "online_lstm_warm_up", None)
    return dict(rep) if rep is not None else _warm()


class _BarHandler:
    """The client's handler of a run's progress events: advances ``bar`` until
    the run ends (then ``bar`` is None).  ``Client.unsubscribe_topic`` tells the
    scheduler but leaves the handler registered on the Client, so a Client
    the caller keeps would hold the run's bars, and pass them events that
    trail the run, for as long as it lives."""

    def __init__(self, bar):
        self.bar = bar

    def __call__(self, event):
        bar = self.bar
        if bar is not None:
            bar.update(event[1][0], event[1][2])


class _Progress:
    """The progress channel of ``experiments._worker`` as Dask events on ``topic``
    (the client's handler advances its progress bar)."""

    def __init__(self, topic: str):
        self.topic = topic

    def put(self, item):
        distributed.get_worker().log_event(self.topic, item)


def _trial(preset, trial, seed, topic=None, checkpoint=None):
    """One trial on a worker: its record, and Numba's work during it.  With
    ``topic``, training progress ``(sequences, steps, job key)`` is sent as
    events.  ``checkpoint``: keyword arguments of
    :func:`~online_lstm.experiments.run_trial` (``checkpoint``,
    ``checkpoint_every``, ``resume``), for a file every worker sees."""
    from .experiments import _worker

    before = numba_counts()
    rec = _worker((preset, trial, seed), None if topic is None else _Progress(topic), checkpoint)
    after = numba_counts()
    probe = {k: after[k] - before[k] for k in ("compile_events", "compiled", "cache_loads", "overloads")}
    try:
        worker = distributed.get_worker()
        probe["worker"] = worker.address
        # for the report of a worker that joined after the run started (a restarted one, say)
        probe["warm_up"] = getattr(worker, "online_lstm_warm_up", None)
    except ValueError:  # not on a worker (a synchronous test scheduler)
        probe["worker"] = f"pid {os.getpid()}"
    return rec, probe


# ---------------------------------------------------------------------------
# the client side
# ---------------------------------------------------------------------------
def _check_address(address: str):
    """ClusterError for a string that is no Dask address at all (no port, an
    unknown scheme, a port out of range) or one this process cannot connect
    to whatever listens there: a scheme this installation lacks (``ucx://``
    without its package: a bare NotImplementedError), ``tls://`` or
    ``wss://`` without Dask's TLS settings, an ``inproc://`` address of no
    scheduler in this process.  ``distributed.Client`` would raise
    ValueError in its background task and leave the caller waiting out its
    60 s timeout, or raise TypeError (no TLS) or ValueError (inproc) and then
    spend 60 s in its ``__del__`` (the CLI printed two tracebacks and took a
    minute to exit)."""
    from distributed.comm import registry
    from distributed.comm.addressing import parse_address

    try:
        scheme, loc = parse_address(address)
        backend = registry.get_backend(scheme)
        if scheme != "inproc":  # an in-process cluster's address has no host and port
            _, port = backend.get_address_host_port(loc)
            if not 0 < port < 65536:
                raise ValueError(f"port {port} is not in 1..65535")
    except NotImplementedError:  # distributed's stub of a backend moved to another package (ucx)
        raise ClusterError(f"{address!r}: this installation of distributed cannot connect over "
                           f"{scheme}:// (its backend is a separate package); use a tcp:// "
                           f"address such as 'tcp://host:8786'") from None
    except ValueError as exc:
        raise ClusterError(f"{address!r} is not a Dask scheduler address such as "
                           f"'tcp://host:8786': {exc}") from None
    if scheme in ("tls", "wss"):
        from distributed.security import Security

        if Security().get_connection_args("client").get("ssl_context") is None:
            raise ClusterError(f"{address} is a {scheme}:// address, and this process has no TLS "
                               f"settings for Dask (distributed.comm.tls.ca-file, .client.cert and "
                               f".client.key in Dask's configuration, or the DASK_DISTRIBUTED__COMM__TLS__* "
                               f"environment variables); give them, or pass a connected "
                               f"distributed.Client with its Security")
    if scheme == "inproc":
        from distributed.comm.inproc import global_manager

        try:
            listening = global_manager.get_listener_for(loc) is not None
        except ValueError:  # another host's or process's inproc address
            listening = False
        if not listening:
            raise ClusterError(f"no Dask scheduler listens at {address} in this process (an "
                               f"inproc:// address names a scheduler of the process that made it); "
                               f"pass the cluster object or a tcp:// address")


def _probe(address: str, timeout: float | None = None):
    """ClusterError unless a ``tcp://`` address answers as a Dask server does.

    A Dask scheduler speaks first: as soon as a connection opens it writes
    its handshake, a message that starts with its length (8 bytes, native
    byte order).  ``distributed.Client`` trusts whatever answers: a service
    that accepts the connection and says nothing (a wrong port) leaves it
    waiting for the handshake forever, with no timeout, and one that speaks
    first (an SSH server's banner, "SSH-2.0-...") makes it read a length of
    exabytes and fail with a MemoryError.  So read the first 8 bytes here,
    for at most Dask's connect timeout (``distributed.comm.timeouts.connect``,
    30 s by default), and check that they are a plausible length.  Over
    ``tls://``, ``ws://`` and ``wss://`` the client speaks first, so only
    the connection itself is checked (refused, Dask's Client retries until
    its connect timeout); ``inproc://`` is left to Dask."""
    from distributed.comm.addressing import parse_address, parse_host_port

    scheme, loc = parse_address(address)
    if scheme not in ("tcp", "tls", "ws", "wss"):
        return
    if timeout is None:
        timeout = dask.utils.parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"),
                                             default="seconds")
    host, port = parse_host_port(loc)
    hint = "so this is not one (check the port: Dask's default is 8786)"
    greeting = b""
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except socket.timeout:  # no answer at all (a firewall that drops the packets): not "accepted"
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: no answer to a connection "
                           f"request within {timeout:g} s (distributed.comm.timeouts.connect)") from None
    except OSError as exc:  # refused, unreachable, unknown host
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    try:
        with sock:
            while scheme == "tcp" and len(greeting) < 8:  # the socket's timeout applies to each recv
                chunk = sock.recv(8 - len(greeting))
                if not chunk:
                    break
                greeting += chunk
    except socket.timeout:
        raise ClusterError(f"{address} accepted a connection but sent "
                           f"{'nothing' if not greeting else repr(greeting)} within {timeout:g} s; "
                           f"a Dask scheduler greets every connection at once, {hint}") from None
    except OSError as exc:  # reset by the peer
        raise ClusterError(f"{address} accepted a connection and then failed ({exc}); a Dask "
                           f"scheduler greets every connection at once, {hint}") from None
    if scheme != "tcp":
        return
    if not greeting:
        raise ClusterError(f"{address} closed the connection without a word; a Dask scheduler "
                           f"greets every connection at once, {hint}")
    if len(greeting) < 8 or not 0 < struct.unpack("=Q", greeting)[0] <= _HANDSHAKE_MAX:
        raise ClusterError(f"{address} answered {greeting!r}, which does not start a Dask "
                           f"handshake, {hint}")


#: bytes a Dask handshake may plausibly take (it is a small dict; the check
#: only has to tell it from text such as "SSH-2.0-", which reads as ~3e18)
_HANDSHAKE_MAX = 1 << 26


def _client(scheduler):
    """``(client, owned)``: a Client for an address, a cluster object, or a Client."""
    if isinstance(scheduler, distributed.Client):
        return scheduler, False
    if isinstance(scheduler, str):
        _check_address(scheduler)
        _probe(scheduler)
    if isinstance(scheduler, str) or hasattr(scheduler, "scheduler_address"):
        try:
            return distributed.Client(scheduler, set_as_default=False), True
        except OSError as exc:  # refused, timed out, unknown host
            where = scheduler if isinstance(scheduler, str) else scheduler.scheduler_address
            raise ClusterError(f"cannot reach the Dask scheduler at {where}: {exc}") from None
    raise TypeError(f"scheduler must be an address such as 'tcp://host:8786', a cluster or a "
                    f"distributed.Client; got {scheduler!r:.80}")


def _version() -> str:
    import online_lstm

    return online_lstm.__version__


def _check_workers(client, warm: dict):
    """Refuse workers whose package version or source differs from this process's."""
    import online_lstm

    if not warm:
        raise ClusterError(f"the Dask cluster at {client.scheduler.address} has no workers")
    mine = source_digest()
    # .get: a worker of older code may not report these at all (the first version had no source)
    bad = {addr: f"online-lstm {w.get('package', 'unknown')}, source {w.get('source', 'unknown')}"
           for addr, w in warm.items()
           if w.get("package") != online_lstm.__version__ or w.get("source") != mine}
    if bad:
        listed = "; ".join(f"{a}: {v}" for a, v in sorted(bad.items()))
        raise ClusterError(f"Dask workers run another version of online-lstm than this client "
                           f"(online-lstm {online_lstm.__version__}, source {mine}): {listed}. Install "
                           f"the same version on every worker.")


def _check_joined(client, probe: dict, trial: str):
    """Refuse the record of ``trial`` from a worker that joined after the
    sweep's start (a restarted worker process, or one added to the cluster):
    the check of :func:`_check_workers` had not seen it, and a worker of
    other code would give other records.  Its warm-up report (run by the
    :class:`WarmUp` plugin before its first task) says what it runs; a
    worker without one cannot be vouched for."""
    warm = probe.get("warm_up")
    try:
        if warm is None:
            raise ClusterError(f"{probe['worker']} has no warm-up report (the online-lstm worker "
                               f"plugin did not run there), so its package cannot be checked")
        _check_workers(client, {probe["worker"]: warm})
    except ClusterError as exc:
        raise SweepStopped(f"a worker that joined during the sweep ran trial {trial}, and its "
                           f"record was not accepted: {exc}") from None


def _check_jobs(jobs) -> list:
    """``jobs`` as a list, each a ``(Preset, trial, seed)`` with ints >= 0 and
    no trial twice; refused (TypeError, ValueError) on the client.  A bad job
    failed inside the plugin's registration, whose handler blamed the
    workers' environment ("could not load online-lstm ... 'str' object has
    no attribute 'competitor'"), and a generator was consumed by the
    competitor check, so that a part of it was never sent."""
    import numpy as np

    from .presets import Preset

    if isinstance(jobs, (str, bytes, dict)) or not hasattr(jobs, "__iter__"):
        raise TypeError(f"jobs must be a list of (Preset, trial, seed) tuples; got {jobs!r:.80}")
    jobs = list(jobs)
    seen = set()
    for job in jobs:
        if not (isinstance(job, (tuple, list)) and len(job) == 3 and isinstance(job[0], Preset)):
            raise TypeError(f"jobs must be a list of (Preset, trial, seed) tuples (a Preset object, "
                            f"not an id: PRESETS[id]); got the job {job!r:.80}")
        for what, v in (("trial", job[1]), ("seed", job[2])):
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or v < 0:
                raise ValueError(f"the {what} of every job must be an integer >= 0; got {v!r} in "
                                 f"the job of {job[0].id} #{job[1]!r:.20}")
        if (job[0].id, int(job[1])) in seen:  # records, keys and checkpoints know a trial by these
            raise ValueError(f"jobs has trial {job[0].id} #{job[1]} twice; every trial is run and "
                             f"reported once")
        seen.add((job[0].id, int(job[1])))
    return [tuple(job) for job in jobs]


def run_trials(jobs, scheduler, done, bar=None, checkpoints=None) -> dict:
    """Run ``(preset, trial, seed)`` jobs on a Dask cluster.

    Parameters
    ----------
    jobs : list of (Preset, int, int)
        ``(preset, trial, seed)``, trial and seed >= 0, each trial once
        (TypeError or ValueError otherwise, before anything is sent).
    scheduler : str, cluster or distributed.Client
        Scheduler address (``"tcp://host:8786"``), a cluster object such as
        ``distributed.LocalCluster``, or a connected Client (left open).
    done : callable(record)
        Called with every record, in order of completion.
    bar : experiments.TrainingBar, optional
        Advanced by the training sequences of the running trials, as they
        report them (a few times a second; a trial rerun after a worker died
        counts again): ``bar.update(sequences, job_key)``.
    checkpoints : dict, optional
        ``(preset id, trial) -> keyword arguments of run_trial`` (the
        checkpoint file, its interval, ``resume``): the workers save each
        running trial there, and a task rerun after its worker was lost
        goes on from it.  The files must be on a filesystem every worker
        sees at the same path.

    Returns
    -------
    dict
        ``scheduler``, ``workers`` (count at the start), ``warm_up`` (per
        worker, including workers that joined during the run and took a
        trial: the result of :func:`_warm`), ``tasks``, ``compile_events``,
        ``compiled``, ``cache_loads`` and ``overloads`` (sums over all tasks
        of the changes during each task: all 0 when nothing was compiled or
        loaded per task), ``per_worker`` (tasks per worker address).
    """
    jobs = _check_jobs(jobs)
    competitors = any(p.competitor is not None for p, _, _ in jobs)
    if isinstance(scheduler, distributed.Client) and scheduler.status != "running":
        raise ClusterError(f"the distributed.Client given as scheduler is {scheduler.status}, not "
                           f"running; pass an open Client, a cluster or a scheduler address")
    client, owned = _client(scheduler)
    futures, topic, handler = [], None, None
    try:
        try:
            client.register_plugin(WarmUp(competitors))
            warm = client.run(_warm_up_report)
        except OSError as exc:  # the scheduler went away
            raise ClusterError(f"lost the connection to the Dask scheduler at {client.scheduler.address} "
                               f"before any trial was sent: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - distributed wraps a worker's error in Exception
            # a worker whose environment lacks the package (or has another version, without these
            # names) cannot unpickle the plugin: distributed raises a bare Exception about it
            raise ClusterError(f"Dask workers could not load online-lstm (is it installed, the same "
                               f"version as this client's, in every worker's environment? pip install "
                               f"online-lstm=={_version()}): {exc}") from None
        _check_workers(client, warm)
        token = uuid.uuid4().hex[:8]
        if bar is not None:
            topic = f"online-lstm-progress-{token}"
            handler = _BarHandler(bar)
            client.subscribe_topic(topic, handler)
        trial_of = {f"online-lstm-{p.id}-{k}-{s}-{token}": f"{p.id} #{k}" for p, k, s in jobs}
        futures = [client.submit(_trial, p, k, s, topic, (checkpoints or {}).get((p.id, k)),
                                 key=f"online-lstm-{p.id}-{k}-{s}-{token}", pure=False)
                   for p, k, s in jobs]
        report = dict(scheduler=client.scheduler.address, workers=len(warm), warm_up=warm,
                      tasks=0, compile_events=0, compiled=0, cache_loads=0, overloads=0, per_worker={})
        for fut in distributed.as_completed(futures, loop=client.loop):
            try:
                rec, probe = fut.result()
            except KilledWorker as exc:
                raise SweepStopped(
                    f"Dask gave up on trial {trial_of.get(fut.key, fut.key)}: the workers running it "
                    f"died {exc.allowed_failures + 1} time(s) (distributed.scheduler.allowed-failures "
                    f"is {exc.allowed_failures}; running out of memory does this); see the log of "
                    f"the worker at {getattr(exc.last_worker, 'address', exc.last_worker)}") from None
            except concurrent.futures.CancelledError as exc:  # distributed's FutureCancelledError
                reason = getattr(exc, "reason", None) or "unknown"
                if "connection-lost" in reason:
                    what = f"lost the connection to the Dask scheduler at {client.scheduler.address}"
                else:
                    what = f"trial {trial_of.get(fut.key, fut.key)} was cancelled on the cluster"
                raise SweepStopped(f"{what} in the middle of the sweep ({reason})") from None
            known = report["warm_up"].get(probe["worker"])
            if known is None or (probe.get("warm_up") or {}).get("pid") != known.get("pid"):
                # a worker that joined mid-sweep, or restarted at the same address (a fixed port)
                _check_joined(client, probe, trial_of.get(fut.key, fut.key))
                report["warm_up"][probe["worker"]] = probe["warm_up"]  # its warm-up too
            report["tasks"] += 1
            for k in ("compile_events", "compiled", "cache_loads", "overloads"):
                report[k] += probe[k]
            report["per_worker"][probe["worker"]] = report["per_worker"].get(probe["worker"], 0) + 1
            done(rec)
            fut.release()
        return report
    except BaseException:  # an error, or Ctrl-C: stop the trials still queued
        if futures:
            client.cancel([f for f in futures if f.status != "finished"])
        raise
    finally:
        if handler is not None:
            handler.bar = None  # distributed's unsubscribe_topic keeps the handler on the Client
        if topic is not None:
            client.unsubscribe_topic(topic)
        if owned:
            client.close()


def summary(report: dict) -> str:
    """One line about a cluster run, for the CLI."""
    # the counts are per process since it started: workers that share a process (threads of a
    # LocalCluster(processes=False)) report the same loads, which count once
    procs = {(w.get("host"), w["pid"]): w for w in report["warm_up"].values()}.values()
    loaded = sum(w["cache_loads"] for w in procs)
    compiled = sum(w["compiled"] for w in procs)
    threads = sorted({w["numba_threads"] for w in report["warm_up"].values()})
    return (f"dask: {report['tasks']} trials on {report['workers']} worker(s) at {report['scheduler']}; "
            f"warm-up (all workers): {loaded} kernel load(s) from Numba's cache, {compiled} "
            f"compilation(s), NUMBA_NUM_THREADS {'/'.join(map(str, threads))}; during the trials: "
            f"{report['compile_events']} compilation(s), {report['cache_loads']} cache load(s)")
