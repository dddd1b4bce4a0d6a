"""The compiled entry points of the competitor learners.

Both algorithms share one set of entry points; the header field ``H_KIND``
says whose kernels a state tuple belongs to (RTRL or BPTT).  The kernels are
called directly, never passed as arguments, so the entry points stay
cacheable.  One step, one truth: :func:`step` and :func:`run` call the same
``_step`` of the algorithm, so a chunk gives the bits of single steps.
"""

from __future__ import annotations

from .._jit import njit_nrt as njit, njit_sig
from ..kernels import OK
from . import _bptt, _rtrl
from ._common import (
    H_KIND, H_NIN, H_NOUT, KIND_RTRL, LEARN_LAST_SIG, RESET_SIG, RUN_SIG, STEP_SIG, _check_rows,
    _last_ok, _learn_pending, _shapes_ok,
)


@njit
def _step(S, net, x, y, learn):
    if int(S[0][H_KIND]) == KIND_RTRL:
        return _rtrl._step(S, net, x, y, learn)
    return _bptt._step(S, net, x, y, learn)


@njit
def _reset(S):
    if int(S[0][H_KIND]) == KIND_RTRL:
        return _rtrl._reset(S)
    return _bptt._reset(S)


@njit
def _emit(S, out):
    if int(S[0][H_KIND]) == KIND_RTRL:
        _rtrl._emit(S, out)
    else:
        _bptt._emit(S, out)


@njit
def _last_gradient(S, net, y):
    if int(S[0][H_KIND]) == KIND_RTRL:
        return _rtrl._last_gradient(S, net, y)
    return _bptt._last_gradient(S, net, y)


@njit_sig(STEP_SIG, nrt=True)
def step(S, net, x, y, out, learn):
    """One step from Python; the outputs y_k(t) (before the update) go to ``out``.

    Returns a status code (0 = OK); on any other code nothing that is state
    has changed.
    """
    st = _shapes_ok(S[0], x, y, out, learn)
    if st == OK:
        st = _step(S, net, x, y, learn)
    if st == OK:
        _emit(S, out)
    return st


@njit_sig(LEARN_LAST_SIG, nrt=True)
def learn_last(S, net, y):
    """The update for target ``y`` of the last step, which was taken without one."""
    st = _last_ok(S[0], y)
    return st if st != OK else _learn_pending(S, _last_gradient(S, net, y))


@njit_sig(RESET_SIG, nrt=True)
def reset(S, net):
    """Sequence boundary: apply accumulated updates, then start over."""
    return _reset(S)


@njit_sig(RUN_SIG, nrt=True)
def run(S, net, X, Y, resets, out, learn):
    """T steps in one call, bit-identical to T calls of :func:`step`.

    Every row is validated first.  A refused step at row t stops the run:
    rows before t are kept.  Returns (status, row).
    """
    hd = S[0]
    st, row = _check_rows(X, Y, resets, out, int(hd[H_NIN]), int(hd[H_NOUT]), learn)
    if st != OK:
        return st, row
    for t in range(X.shape[0]):
        if resets.shape[0] != 0 and resets[t]:
            st = _reset(S)
            if st != OK:
                return st, t
        st = _step(S, net, X[t], Y[t], learn)
        if st != OK:
            return st, t
        _emit(S, out[t])
    return OK, X.shape[0]
