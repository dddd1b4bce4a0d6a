"""``online-lstm gradcheck``: the learner's gradient against finite differences, on this install.

:meth:`OnlineLSTM.gradient <online_lstm.OnlineLSTM.gradient>` is the
paper's truncated gradient of ``E = 1/2 sum_t sum_k (t_k - y_k)^2`` over a
sequence, with the weights held fixed (spec §3.2, §3.9).  This compares it,
weight by weight, with central finite differences of that same ``E``
computed by the learner's own forward pass (``predict_many`` from a reset
state, the weights moved by ``± eps`` one at a time): a check of the
traces and weight changes (eqs. 19-28) against the forward pass (eqs. 6-9),
run on the machine and the build at hand, as ``torch.autograd.gradcheck``
is for autograd.

What to expect (spec §2.6, §3.2):

* where the truncation cuts nothing, the two are one gradient and must agree
  (relative difference at most the command's ``--tolerance``, 1e-5 by
  default; about 1e-8 in float64 on the Reber-size net and on preset 2a):
  a net without peepholes with connectivity ``"B"`` (hidden units read
  only the inputs, so no error flows through a recurrent path but the
  CEC's own, which the truncation keeps), or over a sequence of one step;
* elsewhere the truncation cuts errors, so the truncated gradient is not
  the full one: with connectivity ``"F"`` over more than one step those
  that flow back through the gates' and cells' recurrent inputs, and with
  peepholes (spec §7.2) always those through the peephole weights; the
  table then measures how far apart the two are (the cosine of the angle
  between them, and the relative size of the difference), which is what
  the truncation costs on that net and sequence.

The test suite checks the same on a replayed trajectory against a
reference written apart from the kernels (``tests/reference.py``), where the
truncated gradient must agree for every connectivity; this command needs no
repository.
"""

from __future__ import annotations

import copy
import time

import numpy as np
import pandas as pd

from .layout import H_WMAX


def loss(m, X, Y, resets=None) -> float:
    """``E = 1/2 sum (t - y)^2`` over the entries of ``Y`` that are not NaN,
    for ``m``'s outputs over ``X`` from a reset state (``m`` is changed:
    reset, then stepped without learning)."""
    m.reset()
    out = m.predict_many(X, resets)
    has = ~np.isnan(Y)
    return 0.5 * float(np.sum((Y[has] - out[has]) ** 2))


def finite_differences(m, X, Y, resets=None, eps: float = 1e-6) -> np.ndarray:
    """Central differences ``(E(θ + eps e_i) - E(θ - eps e_i)) / 2 eps`` for
    every weight ``i`` of ``m`` (source order, ``m.theta_``); ``m`` is not
    changed (a copy is moved)."""
    one = _one_weight(m, X, Y, resets, eps)
    return np.array([one(i) for i in range(m.n_params)])


def seconds(m, X, Y, resets=None, eps: float = 1e-6, weights: int = 3) -> float:
    """About how long :func:`finite_differences` takes here: the time of its
    first ``weights`` weights (two forward passes each), scaled to all."""
    one = _one_weight(m, X, Y, resets, eps)
    k = min(weights, m.n_params)
    t0 = time.perf_counter()
    for i in range(k):
        one(i)
    return (time.perf_counter() - t0) * m.n_params / k


def _one_weight(m, X, Y, resets, eps):
    """``i -> (E(θ + eps e_i) - E(θ - eps e_i)) / 2 eps``, on a copy of ``m``."""
    work = copy.deepcopy(m)
    state = work.state_arrays()
    theta = state["theta"].copy()

    def one(i):
        e = []
        for sign in (1.0, -1.0):
            state["theta"] = theta.copy()
            state["theta"][i] += sign * eps
            state["header"][H_WMAX] = float(np.max(np.abs(state["theta"])))
            work.load_state_arrays(state)
            e.append(loss(work, X, Y, resets))
        return (e[0] - e[1]) / (2.0 * eps)
    return one


def compare(m, X, Y, resets=None, eps: float = 1e-6) -> pd.DataFrame:
    """``m.gradient(X, Y, resets)`` against :func:`finite_differences`, one
    row per weight name and a last row ``"all"``: ``weights``, ``max_abs_diff``,
    ``rel_diff`` (``|g - fd| / max(|g|, |fd|)`` over the group's vectors; 0
    if both are zero), ``cosine`` (of the angle between them; NaN for a zero
    vector); all three NaN for a group where either holds a NaN or an
    infinity."""
    grads = m.gradient(X, Y, resets)
    fd = finite_differences(m, X, Y, resets, eps)
    lay = m.layout
    g = np.empty(lay.n_params)  # the gradient in source order, as fd
    for name, v in grads.items():
        lay.weight_view(g, name)[...] = v
    rows = []
    for name in list(lay.shapes) + ["all"]:
        a, b = (g, fd) if name == "all" else (grads[name].ravel(), lay.weight_view(fd, name).ravel())
        rows.append(dict(weights=name, n=a.size, **_differences(a, b)))
    return pd.DataFrame(rows)


def _differences(a, b) -> dict:
    """``max_abs_diff``, ``rel_diff`` and ``cosine`` of two vectors; all NaN
    if either holds a NaN or an infinity (a gradient that is not a number
    must not pass for one that agrees: ``max(nan, x)`` is NaN, and a NaN
    norm compared with 0 read as two zero vectors, rel_diff 0)."""
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return dict(max_abs_diff=float("nan"), rel_diff=float("nan"), cosine=float("nan"))
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    return dict(max_abs_diff=float(np.max(np.abs(a - b), initial=0.0)),
                rel_diff=float(np.linalg.norm(a - b) / max(na, nb)) if max(na, nb) > 0 else 0.0,
                cosine=float(a @ b / (na * nb)) if na > 0 and nb > 0 else float("nan"))
