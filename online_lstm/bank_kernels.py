"""Numba kernels of the learner bank: N learners of one architecture, one call.

The bank stores its learners as the rows of one C-contiguous 2-D array
``mems`` of shape ``(N, stride)``: row ``l`` is the complete ``mem`` of
learner ``l`` (header, parameters, traces, records, scratch; see
:mod:`online_lstm.layout`), padded to a multiple of 64 bytes so that two
learners never share a cache line.  The kernels run ``prange`` over the
leading learner axis, and each learner takes its steps through the single
learner's own step (``kernels._step_unwindowed``: ``kernels._step_mem``
without the snapshots for delayed targets, which a bank does not keep): one
step, one truth, so learner ``l`` of a bank produces the same bits as an
:class:`~online_lstm.OnlineLSTM` with the same state fed the same data.

Data has the learner axis leading too: ``X[l, t]`` is the input of learner
``l`` at step ``t`` of the chunk, so each learner reads its own stream from
contiguous memory and runs its ``T`` steps while its ``mem`` is in cache.

Every kernel is compiled twice from the same Python function: serially
(``prange`` is then ``range``) and with ``parallel=True``, each on first use.  The bank picks the
serial version when one thread is asked for or the work is too small to be
worth waking a second thread (the choice changes no bits: learners are
independent).

The kernels compile in ``kernels.py`` (and through it ``layout.py``), which
Numba's on-disk cache does not watch for this file; ``_jit`` drops the cache
of every compiled module, this one included, when any of those sources
changes (see :mod:`online_lstm._jit`).
"""

from __future__ import annotations

import os
import types

import numpy as np
from numba import prange

from ._jit import njit, njit_inline, njit_sig
from .kernels import (
    BAD_X_VALUE, BAD_Y_VALUE, OK, _bank, _cur_bank, _dims, _reset, _step_mem, _step_unwindowed,
)
from .kernels import learn_delayed as _learn_delayed
from .kernels import learn_last as _learn_last

# A parallel call ends at a barrier where the threads wait for each other.
# GNU OpenMP's default is to wait by spinning; when the cores are shared with
# other processes, a spinning thread burns the time slice its partner needs,
# and we measured parallel calls stalling for 15-30 ms instead of ~10 us.
# Sleeping at the barrier costs a wake-up (~15 us) per call and never stalls.
# Set when a parallel entry point is first built (below), before Numba starts
# its OpenMP pool on the first parallel call, and not at import: a program
# that never runs the threaded bank keeps its environment.  A value chosen by
# the user is kept.
_WAIT_POLICY = ("OMP_WAIT_POLICY", "PASSIVE")

#: Status of a learner that was not asked to do anything in this call.
SKIPPED = -1


def _run(mems, X, Y, resets, out, status, rows, learn):
    """T steps for each of N learners; the ``run`` and ``run_serial`` entry points
    (``run_w`` and ``run_w_serial`` for learners with a window for delayed targets).

    Parameters
    ----------
    mems : float64[:, ::1], shape (N, stride)
        One learner's ``mem`` per row.
    X : float64[:, :, ::1], shape (N, T, n_in)
    Y : float64[:, :, ::1], shape (N, T, K); ignored if ``learn`` is False
    resets : bool[:, ::1], shape (N, T) or (0, 0)
        ``resets[l, t]``: learner ``l`` starts a new sequence at step ``t``.
    out : float64[:, :, ::1], shape (N, T, K)
        Receives the outputs.  Rows a learner did not compute are NaN.
    status, rows : int64[::1], shape (N,)
        Receive each learner's status code and the row it stopped at (T if
        it ran every row).
    learn : bool

    Returns
    -------
    int
        0 if every learner ran every row; 1 if some input was refused before
        anything changed (``status`` and ``rows`` say which learner and row);
        2 if some learner stopped at a divergence (``status`` and ``rows``
        say which, and where).

    Notes
    -----
    All input is checked before the first step of any learner, so refused
    input changes nothing.  A divergence at row t stops that learner only:
    its rows before t are kept, row t is not applied, and the other learners
    run on.  This is what N separate ``learn_many`` calls would do.
    """
    N = mems.shape[0]
    for l in prange(N):  # every row of every learner, before any step
        _check_rows(X, Y, status, rows, np.int64(l), learn)  # (int64: see _learner_rows_u)
    for l in range(N):
        if status[l] != OK:
            return 1
    for l in prange(N):
        _learner_rows_u(mems[l], X, Y, resets, out, status, rows, np.int64(l), learn)
    for l in range(N):
        if status[l] != OK:
            return 2
    return 0


def _run_w(mems, X, Y, resets, out, status, rows, learn):
    """:func:`_run` for learners with a window for delayed targets
    (``max_delay > 0``): each step also leaves its snapshot."""
    N = mems.shape[0]
    for l in prange(N):
        _check_rows(X, Y, status, rows, np.int64(l), learn)
    for l in range(N):
        if status[l] != OK:
            return 1
    for l in prange(N):
        _learner_rows_w(mems[l], X, Y, resets, out, status, rows, np.int64(l), learn)
    for l in range(N):
        if status[l] != OK:
            return 2
    return 0


@njit_inline
def _check_rows(X, Y, status, rows, l, learn):
    """Learner ``l``'s rows, checked: ``status[l]`` and the first bad row."""
    T, n_in = X.shape[1], X.shape[2]
    K = Y.shape[2]
    st = OK
    t = 0
    while t < T and st == OK:
        for i in range(n_in):
            if not np.isfinite(X[l, t, i]):
                st = BAD_X_VALUE
        if learn and st == OK:
            for k in range(K):
                if np.isinf(Y[l, t, k]):
                    st = BAD_Y_VALUE
        if st == OK:
            t += 1
    status[l] = st
    rows[l] = t


@njit_inline
def _learner_rows(mem, X, Y, resets, out, status, rows, l, learn, window):
    """Learner ``l``'s T steps.  ``window`` is a constant at each call site:
    :func:`kernels._step_mem` (snapshots for delayed targets) if True,
    :func:`kernels._step_unwindowed` (their code compiled out) if False."""
    T = X.shape[1]
    K = out.shape[2]
    has_resets = resets.shape[0] != 0
    d = _dims(mem)
    st = OK
    t = 0
    while t < T:
        if has_resets and resets[l, t]:
            st = _reset(mem, d)
            if st != OK:
                break
        for i in range(d.n_in):
            mem[d.xs + i] = X[l, t, i]
        if learn:
            for k in range(K):
                mem[d.ys + k] = Y[l, t, k]
        if window:
            st = _step_mem(mem, d, learn)
        else:
            st = _step_unwindowed(mem, d, learn)
        if st != OK:
            break
        y_k = _bank(d, _cur_bank(mem)) + d.r_yk
        for k in range(K):
            out[l, t, k] = mem[y_k + k]
        t += 1
    for u in range(t, T):  # rows this learner did not compute
        for k in range(K):
            out[l, u, k] = np.nan
    status[l] = st
    rows[l] = t


@njit
def _learner_rows_u(mem, X, Y, resets, out, status, rows, l, learn):
    """:func:`_learner_rows` without a window, as a function of its own.

    Compile time, not speed: called rather than inlined, the whole step is
    compiled once here and shared by ``run`` and ``run_serial``, not compiled
    into each of them and into each of Numba's two typings of a ``prange``
    body.  The learner index arrives as int64 (the callers cast it): inside
    the parallel loop Numba types ``l`` as uint64, which would compile this
    function a second time.  One call per learner per chunk costs nothing
    measurable (``benchmarks/ab_step.py --bank --bank-threads 2`` against the
    inlined version: 0.99-1.02x on one thread and on two,
    ``benchmarks/results/ab_step_bank_call.csv``); building the bank's ten
    entry points on a cold cache went from 201 s to 100-119 s.
    """
    _learner_rows(mem, X, Y, resets, out, status, rows, l, learn, False)


@njit
def _learner_rows_w(mem, X, Y, resets, out, status, rows, l, learn):
    """:func:`_learner_rows` with a window (``run_w``, ``run_w_serial``); see
    :func:`_learner_rows_u`."""
    _learner_rows(mem, X, Y, resets, out, status, rows, l, learn, True)


def _learn_last_all(mems, Y, status):
    """``learn_last`` for every learner whose target row is not all NaN.

    Learners whose row is all NaN are skipped (status ``SKIPPED``); the
    others run the single learner's ``learn_last`` kernel.  The caller has
    checked that those have a pending step and that no target is infinite.
    """
    for l in prange(mems.shape[0]):
        if _has_target(Y, np.int64(l)):
            status[l] = _learn_last(mems[l], Y[l])
        else:
            status[l] = SKIPPED


@njit_inline
def _has_target(Y, l):
    """True if row ``l`` of ``Y`` is not all NaN."""
    for k in range(Y.shape[1]):
        if not np.isnan(Y[l, k]):
            return True
    return False


def _learn_delayed_all(mems, Y, ages, status):
    """``learn_delayed`` for every learner whose target row is not all NaN,
    each with its own age; the others are skipped (status ``SKIPPED``).  The
    caller has checked the ages, the targets and the open outputs."""
    for l in prange(mems.shape[0]):
        if _has_target(Y, np.int64(l)):
            status[l] = _learn_delayed(mems[l], Y[l], ages[l])
        else:
            status[l] = SKIPPED


def _reset_some(mems, mask, status):
    """Reset learner ``l`` where ``mask[l]`` (all learners if ``mask`` is
    empty)."""
    N = mems.shape[0]
    every = mask.shape[0] == 0
    for l in prange(N):
        if every or mask[l]:
            mem = mems[l]
            status[l] = _reset(mem, _dims(mem))
        else:
            status[l] = SKIPPED


_RUN_SIG = ("int64(float64[:, ::1], float64[:, :, ::1], float64[:, :, ::1], boolean[:, ::1], "
            "float64[:, :, ::1], int64[::1], int64[::1], boolean)")
_LAST_SIG = "void(float64[:, ::1], float64[:, ::1], int64[::1])"
_RESET_SIG = "void(float64[:, ::1], boolean[::1], int64[::1])"
_DELAYED_SIG = "void(float64[:, ::1], float64[:, ::1], int64[::1], int64[::1])"


def _twin(fn):
    """The same code under another name, for the serial build.

    Numba's on-disk cache is keyed by the function's qualified name and
    bytecode, not by its options, so compiling one function object both with
    and without ``parallel=True`` would let one build load the other's cached
    code.  A renamed twin gets its own cache entry.
    """
    twin = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + "_serial",
                              fn.__defaults__, fn.__closure__)
    twin.__qualname__ = fn.__qualname__ + "_serial"
    return twin


#: name -> (signature, parallel, function).  Each entry point is built (or
#: loaded from the on-disk cache) the first time it is used, so that
#: ``import online_lstm`` does not pay for bank kernels a program never calls.
_ENTRY_POINTS = {
    "run": (_RUN_SIG, True, 0),
    "run_serial": (_RUN_SIG, False, 0),
    "learn_last": (_LAST_SIG, True, 1),
    "learn_last_serial": (_LAST_SIG, False, 1),
    "reset": (_RESET_SIG, True, 2),
    "reset_serial": (_RESET_SIG, False, 2),
    "run_w": (_RUN_SIG, True, 3),
    "run_w_serial": (_RUN_SIG, False, 3),
    "learn_delayed": (_DELAYED_SIG, True, 4),
    "learn_delayed_serial": (_DELAYED_SIG, False, 4),
}
#: the Python functions behind the entry points, in ``_ENTRY_POINTS``' order
_FUNCTIONS = (_run, _learn_last_all, _reset_some, _run_w, _learn_delayed_all)


def __getattr__(name):
    """Build an entry point on first use (PEP 562); later lookups find it in
    the module's globals."""
    if name not in _ENTRY_POINTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    sig, parallel, which = _ENTRY_POINTS[name]
    if parallel:
        os.environ.setdefault(*_WAIT_POLICY)
    fn = _FUNCTIONS[which]
    disp = njit_sig(sig, parallel=parallel)(fn if parallel else _twin(fn))
    globals()[name] = disp
    return disp
