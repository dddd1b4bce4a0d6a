"""Back-propagation through time, online and truncated, as a streaming learner.

The algorithm and its kernels: :mod:`online_lstm.baselines._bptt`.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np

from . import _entry
from ._common import H_SEQ, H_WIN, KIND_BPTT
from ._stream import StreamLearner

#: initial history capacity (steps) with window=None; doubled when needed
_INITIAL_CAPACITY = 64

#: Largest window the kernels' float64 header holds as itself.  A longer
#: window reaches back as far as this one in any sequence a learner can run
#: (its step counters are float64 too), so the header holds this instead: a
#: window of sys.maxsize (2**63 - 1, rounded up to 2**63 in a float64) once
#: became INT64_MIN in the kernels, and every error then travelled back no
#: step at all (a zero gradient, silently).
_WINDOW_CAP = 2 ** 53


class BPTT(StreamLearner):
    """Back-propagation through time, online, truncated to a window of steps.

    At every step with a target, that step's error is sent back through the
    last ``window`` steps of the current sequence with the current weights,
    and the weights change at once (``update="step"``) or at the next reset
    (``update="sequence"``).  The algorithm: :mod:`online_lstm.baselines._bptt`.

    Parameters
    ----------
    n_in, n_out, n_hidden, architecture, bias, init_range, lr, update, seed
        As for :class:`~online_lstm.baselines.RTRL`.  Task 2a (Table 2):
        ``BPTT(p + 1, p + 1, 1, architecture="layered", bias=False,
        init_range=0.2, lr=lr)`` with lr from 1.0 to 10.0 and the default
        ``window=None`` (the paper does not say how its BPTT was truncated;
        the presets ``"2a-bptt-p100-lr1"`` ... build these).
    window : int >= 1 or None
        Steps an error travels back (1: only the step itself).  None: back to
        the last reset (exact gradient; memory grows with the sequence).
    """

    _kernels = (_entry.step, _entry.run, _entry.learn_last, _entry.reset)
    _kind = KIND_BPTT
    _checkpoint_kind = "BPTT"
    _extra_params = ("window",)

    def __init__(self, n_in, n_out, n_hidden=1, *, architecture="fully_recurrent", bias=True,
                 init_range=0.1, lr=0.1, update="step", window=None, seed=None):
        if window is not None and (isinstance(window, (bool, np.bool_))
                                   or not isinstance(window, Integral) or window < 1):
            raise ValueError(f"window must be an integer >= 1 or None; got {window!r}")
        self.window = None if window is None else int(window)
        super().__init__(n_in, n_out, n_hidden, architecture=architecture, bias=bias,
                         init_range=init_range, lr=lr, update=update, seed=seed)

    def _allocate(self, hd):
        net = self.network
        hd[H_WIN] = 0 if self.window is None else min(self.window, _WINDOW_CAP)
        cap = min(_INITIAL_CAPACITY, self._max_capacity())
        return dict(Zh=np.zeros(cap * net.n_z), ey=np.zeros(net.n), ey_prev=np.zeros(net.n),
                    delta=np.zeros(net.n))

    _grows = True

    def _max_capacity(self):
        """History slots the ring ends with: window + 1 (so a refused step
        never overwrites a slot the pending step needs); unbounded for None."""
        return np.inf if self.window is None else self.window + 1

    def _ensure_capacity(self, arrays, seq_len):
        """Room for a sequence of ``seq_len`` steps (grown, doubling, up to
        the final ring size; only ever before the ring wraps around)."""
        nz = self.network.n_z
        cap = arrays["Zh"].shape[0] // nz
        need = min(seq_len, self._max_capacity())
        if need <= cap:
            return False
        # not wrapped yet (cap < final size), so slot tau holds step tau
        used = min(int(arrays["hd"][H_SEQ]), cap) * nz
        Zh = np.zeros(int(min(max(need, 2 * cap), self._max_capacity())) * nz)
        Zh[:used] = arrays["Zh"][:used]
        arrays["Zh"] = Zh
        return True

    # the history as a state array: the steps that matter, oldest first -----
    def _history_steps(self, hd):
        seq = int(hd[H_SEQ])
        return seq if self.window is None else min(seq, self.window)

    def _export_extra(self):
        a, nz = self._arrays, self.network.n_z
        seq, rows = int(a["hd"][H_SEQ]), self._history_steps(a["hd"])
        cap = a["Zh"].shape[0] // nz
        hist = a["Zh"].reshape(cap, nz)[[tau % cap for tau in range(seq - rows, seq)]]
        return {"history": hist.reshape(rows, nz)}

    def _snap_parts(self, hd):
        # slot tau holds step tau until the ring is full-size and wraps, and
        # then every slot is in use: the first min(seq, ring size) slots
        used = int(min(hd[H_SEQ], self._max_capacity()))
        return (self._arrays["Zh"][:used * self.network.n_z],)

    def _snap_room(self):
        return self._arrays["Zh"].shape[0]

    def _extra_shapes(self, hd):
        return {"history": (self._history_steps(hd), self.network.n_z)}

    def _check_extra(self, arrays, hd):
        return {"history": self._checked(arrays, "history", self._extra_shapes(hd)["history"])}

    def _write_extra(self, vals):
        a, nz, hist = self._arrays, self.network.n_z, vals["history"]
        seq = int(a["hd"][H_SEQ])
        self._ensure_capacity(a, seq)
        cap = a["Zh"].shape[0] // nz
        Zh = a["Zh"].reshape(cap, nz)
        for i, tau in enumerate(range(seq - hist.shape[0], seq)):
            Zh[tau % cap] = hist[i]

    @property
    def state_(self) -> dict:
        """Copies of the current activations ``y`` (n,) and the history
        ``history`` (steps, n_z) that the next backward pass can reach."""
        hist = self._export_extra()["history"]
        n = self.network.n
        y = hist[-1, -n:].copy() if hist.shape[0] else np.zeros(n)
        return {"y": y, "history": hist}
