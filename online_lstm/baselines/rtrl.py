"""Real-time recurrent learning (Williams & Zipser 1989) as a streaming learner.

The algorithm and its kernels: :mod:`online_lstm.baselines._rtrl`.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..layout import MAGNITUDE_LIMIT
from . import _entry
from ._common import H_BANK, KIND_RTRL
from ._stream import StreamLearner


class RTRL(StreamLearner):
    """Williams & Zipser's real-time recurrent learning, one input at a time.

    The exact gradient of each step's error with respect to every weight,
    computed forward in time with the influence matrix (the algorithm:
    :mod:`online_lstm.baselines._rtrl`); the weights change after every step (``update="step"``) or
    at every reset (``update="sequence"``).  Plain gradient steps, as in the
    paper's comparisons.

    Parameters
    ----------
    n_in, n_out : int
        Input and output units.
    n_hidden : int
        Hidden units.
    architecture : {"fully_recurrent", "layered"}
        See :mod:`online_lstm.baselines.network`.  Table 1 (embedded Reber):
        ``RTRL(7, 7, 3, bias=False, init_range=0.2, lr=0.05)`` or ``RTRL(7,
        7, 12, bias=False, init_range=0.2, lr=0.1)`` (170 and 494 weights;
        weights in [-0.2, 0.2] as in all of Experiment 1, spec §2.7).
        Table 2 (Task 2a): ``RTRL(p + 1, p + 1, 1, architecture="layered",
        bias=False, init_range=0.2, lr=lr)`` with lr 1.0, 4.0 or 10.0.  The
        presets ``"1-rtrl-h3"``, ``"2a-rtrl-p4-lr1"`` ... build these.
    bias : bool
        A bias weight on every unit.
    init_range : float
        Weights start uniform in ``[-init_range, init_range]``.  The default
        0.1 is OnlineLSTM's (spec §2.7, Experiments 3-6); the paper's
        competitor rows (Experiments 1 and 2) use 0.2.
    lr : float
        Learning rate; a weight changes by ``lr * sum_k e_k dy_k/dw`` (the
        error times the influence; spec §3.1, no factor 2), so rates compare
        with Table 2's.
    update : {"step", "sequence"}
        Apply each step's weight change at once, or accumulate the changes
        and apply their sum at the next :meth:`reset`.
    seed : None, int, sequence of int, SeedSequence or Generator
        Seed of the weight initialisation; None draws fresh entropy.

    Notes
    -----
    Memory: two banks of ``n_carried * n_params`` influences.  Cost per step:
    ``O(sum over carried units of (unit sources + 1) * n_params)``; O(n^4) for
    a fully recurrent net of n units.
    """

    _kernels = (_entry.step, _entry.run, _entry.learn_last, _entry.reset)
    _kind = KIND_RTRL
    _checkpoint_kind = "RTRL"

    def _allocate(self, hd):
        nw, net = self.network.n_params, self.network
        return dict(P=np.zeros(2 * net.n_carried * nw), Z=np.zeros(2 * net.n_z),
                    back=np.zeros(net.n_carried), e=np.zeros(net.n))

    # the committed bank of influences and source vector is the state; the
    # spare bank is scratch (a step writes it before it can be refused)
    def _bank(self, key, b):
        size = self._arrays[key].shape[0] // 2
        return self._arrays[key][b * size:(b + 1) * size]

    def _export_extra(self):
        b = int(self._arrays["hd"][H_BANK])
        return {"P": self._bank("P", b).copy(), "z": self._bank("Z", b).copy()}

    def _snap_parts(self, hd):
        b = int(hd[H_BANK])
        return self._bank("P", b), self._bank("Z", b)

    def _extra_shapes(self, hd):
        net = self.network
        return {"P": (net.n_carried * net.n_params,), "z": (net.n_z,)}

    def _check_extra(self, arrays, hd):
        shapes = self._extra_shapes(hd)
        P = self._checked(arrays, "P", shapes["P"])
        if np.max(np.abs(P), initial=0.0) > MAGNITUDE_LIMIT:  # a step refuses to go there (_rtrl._influence)
            raise InputError(f"state['P'] has influences beyond {MAGNITUDE_LIMIT:g} in magnitude")
        return {"P": P, "z": self._checked(arrays, "z", shapes["z"])}

    def _write_extra(self, vals):
        b = int(self._arrays["hd"][H_BANK])
        self._bank("P", b)[:] = vals["P"]
        self._bank("Z", b)[:] = vals["z"]

    @property
    def state_(self) -> dict:
        """Copies of the current activations ``y`` (n,) and influences ``P``
        (n_carried, n_params) of the units with ``network.carried >= 0``."""
        net, b = self.network, int(self._arrays["hd"][H_BANK])
        return {"y": self._bank("Z", b)[net.n_z - net.n:].copy(),
                "P": self._bank("P", b).reshape(net.n_carried, net.n_params).copy()}
