"""The streaming API shared by the competitor learners (same vocabulary as OnlineLSTM)."""

from __future__ import annotations

import os
import pathlib

import numpy as np

from .. import checkpoint as _ckpt
from .. import kernels as _k
from ..errors import DivergenceError, InputError, NoPendingStepError
from ..layout import MAGNITUDE_LIMIT
from ..snapshot import Snapshot, check_fits, stream_key
from .._validate import (
    DISPATCH_ERRORS, ConvertsRefusedInputs, FixedAfterBuild, as_array,
    as_bool_mask, as_input, as_input_rows, as_target, as_target_rows, check_flag, check_state_mapping,
    checked_init_range, checked_lr, checked_out, checked_weights, native_float64,
    nonfinite_input_message, own_copy, progress_bar, run_in_chunks, seeded_rng,
)
from . import _common as _c
from .network import ARCHITECTURES, Network

_NO_RESETS = np.zeros(0, dtype=np.bool_)

#: Counters the kernels' float64 header counts exactly: from 2**53 on, a step
#: adds nothing (2**53 + 1 rounds to 2**53), and BPTT, whose history slot is
#: the step since the reset, would write every step into one slot.
_COUNTER_LIMIT = 2.0 ** 53

_MESSAGES = {
    _k.BAD_RESETS_SHAPE: "resets must be a boolean mask with one entry per row of X",
}

_DIVERGENCE = {
    _k.DIV_NET: "a net input became non-finite",
    _k.DIV_BOUND: "a weight, accumulated update or influence would leave "
                  f"[-{MAGNITUDE_LIMIT:g}, {MAGNITUDE_LIMIT:g}] or become non-finite",
}


class StreamLearner(ConvertsRefusedInputs, FixedAfterBuild):
    """Base of :class:`~online_lstm.baselines.RTRL` and :class:`~online_lstm.baselines.BPTT`.

    Subclasses set ``_kernels = (step, run, learn_last, reset)`` (compiled
    entry points taking ``(S, net, ...)``), ``_kind`` (header ``H_KIND``),
    ``_allocate(hd)`` (the arrays of
    the state tuple after ``hd, theta, dW, g``, in kernel order), the three
    hooks ``_export_extra``, ``_check_extra`` and ``_write_extra`` for the
    state beyond header, theta and dW, and ``_snap_parts`` (views of that
    state, for in-memory snapshots).
    """

    _kernels = ()
    _kind = None
    _extra_params = ()
    #: the ``kind`` of this learner's checkpoint files
    _checkpoint_kind = None
    #: constructor arguments that a checkpoint restored into this learner must share
    _base_architecture = ("n_in", "n_out", "n_hidden", "architecture", "bias", "update")
    #: True if the arrays grow with the sequence (then ``_ensure_capacity``)
    _grows = False

    def __init__(self, n_in, n_out, n_hidden=1, *, architecture="fully_recurrent", bias=True,
                 init_range=0.1, lr=0.1, update="step", seed=None):
        self.n_in = n_in
        self.n_out = n_out
        self.n_hidden = n_hidden
        self.architecture = architecture
        self.bias = bias
        self.init_range = init_range
        self.update = update
        self.seed = own_copy(seed)
        self._build(lr)

    # every constructor argument but lr is fixed once built (FixedAfterBuild)
    _built_attr = "_arrays"
    _changeable = "lr"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._fixed = frozenset((*cls._base_architecture, *cls._extra_params, "init_range", "seed"))

    # ------------------------------------------------------------------
    # construction
    # ------------------------------------------------------------------
    def _build(self, lr, rng=None):
        self.network = net = Network(self.n_in, self.n_out, self.n_hidden, self.architecture, self.bias)
        if self.update not in ("step", "sequence"):
            raise ValueError(f"update must be 'step' or 'sequence'; got {self.update!r}")
        r = checked_init_range(self.init_range)
        hd = np.zeros(_c.HEADER_SIZE)
        hd[_c.H_MODE] = _c.MODE_SEQUENCE if self.update == "sequence" else _c.MODE_STEP
        hd[_c.H_NIN], hd[_c.H_NOUT], hd[_c.H_KIND] = net.n_in, net.n_out, self._kind
        theta = net.init_theta(seeded_rng(self.seed) if rng is None else rng, r)
        self._arrays = dict(hd=hd, theta=theta, dW=np.zeros(net.n_params), g=np.zeros(net.n_params),
                            **self._allocate(hd))
        # what a Snapshot of this learner fits (online_lstm.snapshot)
        self._snap_key = stream_key(type(self).__name__, (
            (k, getattr(net, k) if hasattr(net, k) else getattr(self, k)) for k in self._architecture))
        self._tuple()
        self.lr = lr
        K = net.n_out
        self._out = np.zeros(K)
        self._direct, self._converted = np.ndarray, 0  # (ConvertsRefusedInputs)
        self._nan_y = np.full(K, np.nan)
        self._ybuf = np.zeros(K)

    def _allocate(self, hd) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def _tuple(self):
        """(Re)build the argument tuples the kernels take."""
        self._S = tuple(self._arrays.values())
        self._net = self.network.ints()

    def get_params(self) -> dict:
        """Constructor arguments (River/scikit-learn convention)."""
        params = dict(n_in=self.n_in, n_out=self.n_out, n_hidden=self.n_hidden,
                      architecture=self.architecture, bias=self.bias, init_range=self.init_range,
                      lr=self.lr, update=self.update, seed=own_copy(self.seed))
        params.update({k: getattr(self, k) for k in self._extra_params})
        return params

    def clone(self, **changes):
        """A fresh, untrained learner with the same (or changed) parameters."""
        params = self.get_params()
        params.update(changes)
        return type(self)(**params)

    def __repr__(self):
        extra = "".join(f", {k}={getattr(self, k)!r}" for k in self._extra_params)
        net = self.network
        return (f"{type(self).__name__}(n_in={net.n_in}, n_out={net.n_out}, n_hidden={net.n_hidden}, "
                f"architecture={net.architecture!r}, bias={net.bias}, lr={self.lr}{extra}, "
                f"n_params={net.n_params})")

    @property
    def n_params(self) -> int:
        """Number of weights (``network.n_params``)."""
        return self.network.n_params

    @property
    def lr(self) -> float:
        """Learning rate alpha (may be changed between steps)."""
        return float(self._arrays["hd"][_c.H_LR])

    @lr.setter
    def lr(self, value):
        self._arrays["hd"][_c.H_LR] = checked_lr(value)

    # ------------------------------------------------------------------
    # input handling and errors
    # ------------------------------------------------------------------
    def _x(self, x):
        x = as_input(x, self.network.n_in)
        if x.shape[0] != self.network.n_in:
            raise InputError(f"x must have shape ({self.network.n_in},) per step; got shape {x.shape}")
        return x

    def _y(self, y):
        K = self.network.n_out
        y = as_target(y, K, self._nan_y, self._ybuf)
        if y.shape[0] != K:
            raise InputError(f"y must have shape ({K},) per step; got shape {y.shape}")
        return y

    def _out_buf(self, out, rows=None):
        K = self.network.n_out
        return checked_out(out, (K,) if rows is None else (rows, K))

    def _raise(self, st, row=None, step=None, x=None, y=None):
        """Raise the exception of kernel status ``st`` (as OnlineLSTM does):
        ``step`` is the index of a refused step (default: the next step,
        ``n_steps_``); ``x``/``y`` the refused input/target, for its shape."""
        net = self.network
        where = "" if row is None else f" (row {row})"
        if st == _k.BAD_X_SHAPE:
            got = "" if x is None else f"; got shape {np.shape(x)}"
            raise InputError(f"x must have shape ({net.n_in},) per step{where}{got}")
        if st == _k.BAD_Y_SHAPE:
            got = "" if y is None else f"; got shape {np.shape(y)}"
            raise InputError(f"y must have shape ({net.n_out},) per step{where}{got}")
        if st == _k.BAD_OUT_SHAPE:
            raise InputError(f"out must have shape ({net.n_out},) for one step, or (T, {net.n_out}) "
                             f"for T steps{where}")
        if st == _k.BAD_X_VALUE:  # worded as OnlineLSTM's (where after "finite")
            raise InputError(nonfinite_input_message(x, where))
        if st == _k.BAD_Y_VALUE:
            raise InputError(f"y must be finite or NaN (NaN = no target){where}: inf in the target")
        if st in _MESSAGES:
            raise InputError(_MESSAGES[st] + where)
        if st == _k.NO_PENDING:
            raise NoPendingStepError("learn_last needs a step taken without a target (predict_one, "
                                     "or learn_one with y=None) and not learned from yet")
        if st in _DIVERGENCE:
            step = self.n_steps_ if step is None else step
            raise DivergenceError(f"divergence at step {step}{where}: {_DIVERGENCE[st]}. The step "
                                  f"was not applied; the learner holds the state from before it.",
                                  step=step, row=row, reason=_DIVERGENCE[st])
        raise RuntimeError(f"unknown kernel status {st}")  # pragma: no cover

    def _mask(self, resets, T):
        if resets is None:
            return _NO_RESETS
        return as_bool_mask(resets, "resets", (T,), "one entry per row of X")

    # ------------------------------------------------------------------
    # hooks for learners whose arrays grow with the sequence (BPTT's history)
    # ------------------------------------------------------------------
    def _ensure_capacity(self, arrays, seq_len) -> bool:
        """Make room for a sequence of ``seq_len`` steps; True if ``arrays``
        were reallocated."""
        return False

    @staticmethod
    def _longest_sequence(resets, T, seq_now):
        """Length of the longest sequence after T more rows (resets before
        the rows marked True)."""
        starts = np.flatnonzero(resets)
        if starts.size == 0:
            return seq_now + T
        return max(seq_now + int(starts[0]), int(np.diff(np.append(starts, T)).max()))

    # ------------------------------------------------------------------
    # streaming API
    # ------------------------------------------------------------------
    def learn_one(self, x, y=None, *, out=None):
        """One step with learning; return the prediction made before the update.

        Parameters
        ----------
        x : array of shape (n_in,); with n_in == 1 also a number, bool or 0-d array
        y : array of shape (n_out,), float (if n_out == 1) or None
            Target for this step; NaN entries (or None) mean no target.
        out : float64 array of shape (n_out,), optional
            Write the prediction here instead of allocating a new array.

        Returns
        -------
        ndarray of shape (n_out,)
            The outputs ``y_k(t)``, computed before this step's weight change.
        """
        return self._one(x, y, out, True)

    def predict_one(self, x, *, out=None):
        """One step without learning (activations and influences/history advance).

        It can be learned from later with :meth:`learn_last`.

        Parameters
        ----------
        x : array of shape (n_in,); with n_in == 1 also a number, bool or 0-d array
        out : float64 array of shape (n_out,), optional
            Write the prediction here instead of allocating a new array.

        Returns
        -------
        ndarray of shape (n_out,)
            The outputs ``y_k(t)`` of this step.
        """
        return self._one(x, None, out, False)

    def _one(self, x, y, out, learn):
        if self._grows and self._ensure_capacity(self._arrays, self.seq_step_ + 1):
            self._tuple()
        o = self._step_out(out)
        x = self._step_x(x)  # (a list, a masked array, a byte-swapped array: converted)
        yy = self._step_y(y)
        step = self._kernels[0]
        try:
            st = step(self._S, self._net, x, yy, o, learn)
        except DISPATCH_ERRORS:  # a dtype or layout with no compiled version: convert
            x = self._x(x)
            yy = self._y(yy)
            if out is not None:
                o = self._out_buf(out)
            st = step(self._S, self._net, x, yy, o, learn)
            self._refused_dispatch()
        if st:
            self._raise(st, x=x, y=yy)
        return o.copy() if out is None else o

    def learn_last(self, y):
        """Learn from the target of the last step, which was taken without one.

        ``y``: array of shape (n_out,) (a number if n_out == 1); NaN entries
        mean no target for that output.  ``predict_one(x)`` then
        ``learn_last(y)`` gives the same bits as ``learn_one(x, y)``.  An
        all-NaN target does nothing and keeps the step pending;
        :class:`NoPendingStepError` if no step is pending.
        """
        yy = self._step_y(y)
        try:
            st = self._kernels[2](self._S, self._net, yy)
        except DISPATCH_ERRORS:
            yy = self._y(yy)
            st = self._kernels[2](self._S, self._net, yy)
            self._refused_dispatch()
        if st:
            self._raise(st, step=self.n_steps_ - 1, y=yy)  # the step learned from

    def reset(self):
        """Sequence boundary: with ``update="sequence"`` apply the accumulated
        change first; then zero the activations (and influences/history)."""
        st = self._kernels[3](self._S, self._net)
        if st in _DIVERGENCE:  # applying the accumulated update (update="sequence")
            raise DivergenceError.reset_refused(_DIVERGENCE[st], self.n_steps_)
        if st:
            self._raise(st)

    def _run(self, arrays, X, Y, resets, out, learn, progress=False):
        net = self.network
        X = as_input_rows(X, net.n_in)
        T, K = X.shape[0], net.n_out
        Y = as_target_rows(Y, T, K) if learn else X
        r = self._mask(resets, T)
        o = np.empty((T, K)) if out is None else self._out_buf(out, T)
        bar, own_bar = progress_bar(progress, T, "step", unit_scale=T >= 10_000)
        try:
            return self._run_rows(arrays, X, Y, r, o, learn, bar)
        finally:
            if own_bar:
                bar.close()

    def _run_rows(self, arrays, X, Y, r, o, learn, bar):
        T = X.shape[0]
        if self._grows and self._ensure_capacity(
                arrays, self._longest_sequence(r, T, int(arrays["hd"][_c.H_SEQ]))):
            if arrays is self._arrays:
                self._tuple()
        n_resets = arrays["hd"][_c.H_NRES]
        S, run = tuple(arrays.values()), self._kernels[1]
        if bar is None:
            st, row = run(S, self._net, X, Y, r, o, learn)
        else:
            st, row = run_in_chunks(lambda *a: run(S, self._net, *a, learn), X, Y, r, o, learn, bar)
        try:
            if st in _DIVERGENCE and r.shape[0] and r[row] \
                    and arrays["hd"][_c.H_NRES] - n_resets < np.count_nonzero(r[:row + 1]):
                # the reset before row `row` was refused (applying update="sequence"'s
                # accumulated change), not the step: say so, as reset() does
                raise DivergenceError.reset_refused(_DIVERGENCE[st], int(arrays["hd"][_c.H_STEP]),
                                                    int(row))
            if st:  # step: the refused step's index, also in gradient()'s copy of the state
                self._raise(st, row=int(row), step=int(arrays["hd"][_c.H_STEP]),
                            x=X[row] if st in (_k.BAD_X_SHAPE, _k.BAD_X_VALUE) and T else None,
                            y=Y[row] if learn and st == _k.BAD_Y_SHAPE and Y.shape[0] else None)
        except DivergenceError as err:  # the predictions of the rows applied, as OnlineLSTM's
            if arrays is self._arrays:   # (gradient() runs on a copy and returns no outputs)
                err.with_outputs(o)
            raise
        return o

    def learn_many(self, X, Y, resets=None, *, out=None, progress=False):
        """T online steps in one compiled call, bit-identical to T ``learn_one``.

        Sequential online learning over a chunk (each step's update is applied
        before the next step), not a mini-batch.

        Parameters
        ----------
        X : array of shape (T, n_in), or (T,) if n_in == 1
        Y : array of shape (T, n_out) (or (T,) when n_out == 1); NaN = no target
        resets : bool array of shape (T,), optional
            True where a new sequence starts (reset before that row).
        out : float64 array of shape (T, n_out), optional
        progress : bool or tqdm bar
            As for :meth:`OnlineLSTM.learn_many <online_lstm.OnlineLSTM.learn_many>`:
            a bar of the steps, the rows run in calls of 65,536 with the
            same results to the bit, and Ctrl-C stops the run between two.

        Returns
        -------
        ndarray of shape (T, n_out)
            Each step's prediction, made before its update.

        Raises
        ------
        InputError
            Every row is checked first; if one is bad nothing changes.
        DivergenceError
            At row t: rows before t are applied (their predictions in
            ``err.out``, NaN from row t on), row t is not (a reset
            requested at row t has been, as in OnlineLSTM); ``err.row`` is t
            and ``err.step`` the refused step's index.  If the reset itself
            was refused (applying the accumulated change of
            ``update="sequence"``), the message says "reset refused" and
            that reset has not been made either.
        """
        return self._run(self._arrays, X, Y, resets, out, True, progress)

    def predict_many(self, X, resets=None, *, out=None, progress=False):
        """T steps without learning in one compiled call, bit-identical to T
        ``predict_one``; the last can be learned from with :meth:`learn_last`.

        ``X``, ``resets``, ``out`` and ``progress`` as for :meth:`learn_many`;
        returns the outputs of each step, an ndarray of shape (T, n_out).
        """
        return self._run(self._arrays, X, None, resets, out, False, progress)

    def gradient(self, X, Y, resets=None, *, from_current_state=False) -> dict:
        """The learner's gradient of a sequence with the weights held fixed.

        Returns ``dE/dw`` by name for ``E = 1/2 sum_t sum_k (d_k - y_k)^2``
        over the steps with targets, as this learner computes it (exact for
        RTRL and for BPTT with ``window=None``; truncated to the window
        otherwise).  ``-lr * gradient`` is the change ``update="sequence"``
        makes over the sequence.  The learner is not changed.

        Parameters
        ----------
        X, Y, resets
            As for :meth:`learn_many`: shapes (T, n_in), (T, n_out) and (T,).
        from_current_state : bool
            Start from the learner's activations and influences/history
            (continuing its sequence) instead of a reset state.

        Returns
        -------
        dict of str -> ndarray
            By weight name, the shapes of :meth:`get_weights`.
        """
        check_flag(from_current_state, "from_current_state")  # "no" must not read as true
        arrays = {k: v.copy() for k, v in self._arrays.items()}
        hd = arrays["hd"]
        hd[_c.H_MODE] = _c.MODE_GRADIENT
        arrays["dW"][:] = 0.0
        if not from_current_state:
            self._kernels[3](tuple(arrays.values()), self._net)
        self._run(arrays, X, Y, resets, None, True)
        g = -arrays["dW"]
        return {name: g[idx] for name, idx in self.network.weight_index.items()}

    # ------------------------------------------------------------------
    # weights by name
    # ------------------------------------------------------------------
    @property
    def weights(self) -> dict:
        """Copies of the named weights (paper orientation: unit, source); see
        :class:`~online_lstm.baselines.network.Network` for the names."""
        return self.get_weights()

    def get_weights(self) -> dict:
        """Copies of the named weights, shapes ``network.shapes`` (as :attr:`weights`)."""
        theta = self._arrays["theta"]
        return {name: theta[idx] for name, idx in self.network.weight_index.items()}

    def set_weights(self, weights=None, **named):
        """Set weights by name; every array is checked before any is written."""
        net = self.network
        checked = checked_weights(net.shapes, weights, named)
        for name, arr in checked.items():
            self._arrays["theta"][net.weight_index[name]] = arr

    # ------------------------------------------------------------------
    # counters
    # ------------------------------------------------------------------
    def _counter(self, field):
        return int(self._arrays["hd"][field])

    n_steps_ = property(lambda self: self._counter(_c.H_STEP), doc="Steps since construction.")
    n_updates_ = property(lambda self: self._counter(_c.H_NUPD),
                          doc="Steps whose targets changed the weights (or the accumulated update).")
    n_resets_ = property(lambda self: self._counter(_c.H_NRES), doc="Resets since construction.")
    seq_step_ = property(lambda self: self._counter(_c.H_SEQ), doc="Steps since the last reset.")
    pending_ = property(lambda self: bool(self._counter(_c.H_PENDING)),
                        doc="True if the last step can still be learned from with learn_last.")

    # ------------------------------------------------------------------
    # snapshot / restore
    # ------------------------------------------------------------------
    def state_arrays(self) -> dict:
        """The complete learner state as named arrays (copies): ``header``,
        ``theta``, ``dW``, ``network`` and the learner's own arrays.  Enough
        to continue bit-identically.

        ``network`` holds what the header does not say about the net:
        ``[n_hidden, architecture, bias]`` (the architecture as its index in
        ``network.ARCHITECTURES``, the bias as 0 or 1).  Two nets can agree
        in every array's shape and header field and differ there (a layered
        net with biases and a fully recurrent one without, both of 18
        weights for n_in=3, n_hidden=2, n_out=1), and a state of one would
        load into the other as weights of other connections.
        """
        a = self._arrays
        out = {"header": a["hd"].copy(), "theta": a["theta"].copy(), "dW": a["dW"].copy(),
               "network": self._network_row()}
        out.update(self._export_extra())
        return out

    def _network_row(self) -> np.ndarray:
        """``state_arrays()["network"]`` of this learner."""
        net = self.network
        return np.array([net.n_hidden, ARCHITECTURES.index(net.architecture), float(net.bias)])

    def load_state_arrays(self, arrays: dict):
        """Restore a state from :meth:`state_arrays` (same architecture).

        Everything is checked before anything is written.  A state without
        ``network`` (written before it was added, or put together by hand)
        is checked by its header and shapes only.
        """
        check_state_mapping(arrays)  # None, a list or a string is not a state
        vals = {mine: self._checked(arrays, key, self._arrays[mine].shape)
                for key, mine in (("header", "hd"), ("theta", "theta"), ("dW", "dW"))}
        hd = vals["hd"]
        self._check_header(hd)
        if "network" in arrays:
            self._check_network(self._checked(arrays, "network", (3,)))
        # a step never takes a weight or an accumulated change beyond the
        # limit (_common._apply); a state beyond it refuses every step with a
        # target and every reset, so a learner loaded with it is stuck
        for key, what in (("theta", "weights"), ("dW", "accumulated changes")):
            if np.max(np.abs(vals[key]), initial=0.0) > MAGNITUDE_LIMIT:
                raise InputError(f"state[{key!r}] has {what} beyond {MAGNITUDE_LIMIT:g} in magnitude")
        extra = self._check_extra(arrays, hd)
        for key, a in vals.items():
            self._arrays[key][:] = a
        self._write_extra(extra)
        self._tuple()

    # ------------------------------------------------------------------
    # in-memory snapshots (online_lstm.snapshot)
    # ------------------------------------------------------------------
    def snapshot(self, into: Snapshot | None = None) -> Snapshot:
        """The complete state, in memory, for :meth:`restore_snapshot` (as
        :meth:`OnlineLSTM.snapshot <online_lstm.OnlineLSTM.snapshot>`; see
        :mod:`online_lstm.snapshot`).

        A copy of what :meth:`state_arrays` holds (header with ``lr``, mode,
        counters and the pending-step flag; weights; accumulated update;
        RTRL's committed influences and source vector, BPTT's history since
        the reset, up to the window) in one float64 buffer, plus the
        arguments that say how the weights began (``seed`` and
        ``init_range``, which a checkpoint's :meth:`restore` can change).

        Parameters
        ----------
        into : Snapshot, optional
            A snapshot taken earlier from a learner of this class,
            architecture and update mode (and, for BPTT, window),
            overwritten in place: nothing is allocated (unless BPTT's history
            has outgrown it since: then it gets a larger buffer, as the
            learner did).

        Returns
        -------
        Snapshot
            ``into`` if given, else a new snapshot.
        """
        a = self._arrays
        parts = (a["hd"], a["theta"], a["dW"], *self._snap_parts(a["hd"]))
        n = sum([p.shape[0] for p in parts])
        if into is None:
            into = Snapshot._new(np.zeros(self._snap_size()), self._snap_key,
                                 [self.seed, self.init_range])
        else:
            if type(into) is not Snapshot or into._key != self._snap_key:
                check_fits(into, self._snap_key, "snapshot(into=...)")
            if into._mem.shape[0] < n:  # BPTT's history has grown
                into._mem = np.zeros(self._snap_size())
            extra = into._extra
            extra[0] = self.seed  # (never changed in place: restore() replaces them)
            extra[1] = self.init_range
        np.concatenate(parts, out=into._mem[:n])  # one call: a loop of slice copies cost 1 µs more
        return into

    def restore_snapshot(self, snap: Snapshot) -> None:
        """Go back to the state of :meth:`snapshot`, bit for bit.

        Weights, accumulated update, activations and influences (RTRL) or
        history (BPTT), the pending step, ``lr`` and the counters, and the
        initialisation arguments (``seed``, ``init_range``: what
        ``get_params``, ``clone`` and checkpoints describe the weights by)
        become what they were when ``snap`` was taken; the learner then
        continues exactly as it would have from there.  ``snap`` must come
        from a learner of this class, architecture and update mode (and, for
        BPTT, window): this one or, say, a clone; else
        :class:`~online_lstm.errors.InputError` and nothing changes.
        Nothing is allocated (but for a BPTT whose history buffer is shorter
        than the snapshot's history: it grows first, as a step would).  The
        snapshot is not used up: restore it as often as needed.
        """
        if type(snap) is not Snapshot or snap._key != self._snap_key:
            check_fits(snap, self._snap_key, "restore_snapshot")
        mem, a = snap._mem, self._arrays
        # room first (the only step that can fail, on memory): nothing written yet
        if self._grows and self._ensure_capacity(a, int(mem[_c.H_SEQ])):
            self._tuple()
        hd, o = a["hd"], _c.HEADER_SIZE
        hd[:] = mem[:o]
        for p in (a["theta"], a["dW"], *self._snap_parts(hd)):  # the parts of the restored header
            p[:] = mem[o:o + p.shape[0]]
            o += p.shape[0]
        seed, init_range = snap._extra
        if seed is not self.seed or init_range is not self.init_range:
            self._adopt_params({"seed": seed, "init_range": init_range})

    def _snap_size(self) -> int:
        """Floats of a new snapshot: header, theta, dW and the room of
        :meth:`_snap_room`."""
        return _c.HEADER_SIZE + 2 * self.network.n_params + self._snap_room()

    def _snap_room(self) -> int:
        """Floats a snapshot holds for :meth:`_snap_parts`, enough until the
        arrays grow."""
        return sum(p.shape[0] for p in self._snap_parts(self._arrays["hd"]))

    def _snap_parts(self, hd) -> tuple:  # pragma: no cover - abstract
        """Views of the arrays beyond hd, theta and dW that hold the state of
        a learner whose header is ``hd`` (what :meth:`_export_extra`
        exports), in the order a snapshot keeps them."""
        raise NotImplementedError

    def _check_header(self, hd):
        """InputError unless ``hd`` (float64, finite, of the header's size) is
        a header this learner can take: its architecture, its update mode,
        flags and counters in range."""
        mine = self._arrays["hd"]
        fixed = [i for i in range(_c.HEADER_SIZE) if i not in _c.HEADER_STATE]
        if not np.array_equal(hd[fixed], mine[fixed]):
            raise InputError("state is for a different architecture (header fields differ)")
        if hd[_c.H_MODE] != mine[_c.H_MODE]:
            modes = {_c.MODE_STEP: "'step'", _c.MODE_SEQUENCE: "'sequence'"}
            raise InputError(f"state was saved with update={modes.get(hd[_c.H_MODE], 'unknown')}; "
                             f"this learner has update={modes[mine[_c.H_MODE]]}")
        counters = hd[[_c.H_STEP, _c.H_SEQ, _c.H_NUPD, _c.H_NRES]]
        if (hd[_c.H_BANK] not in (0.0, 1.0) or hd[_c.H_PENDING] not in (0.0, 1.0) or hd[_c.H_LR] < 0
                or np.any(counters < 0) or np.any(counters != np.floor(counters))
                or np.any(counters >= _COUNTER_LIMIT)
                or hd[_c.H_SEQ] > hd[_c.H_STEP] or hd[_c.H_NUPD] > hd[_c.H_STEP]
                or (hd[_c.H_PENDING] == 1.0 and hd[_c.H_SEQ] == 0.0)):
            raise InputError("state header is corrupt: the bank and pending flags must be 0 or 1, "
                             "the learning rate >= 0, the counters whole numbers >= 0 and below "
                             "2**53 (steps since the reset and updates at most the steps; a "
                             "pending step only after a step since the reset)")

    def _check_network(self, row):
        """InputError unless ``row`` (a state's ``network``) is this learner's."""
        mine = self._network_row()
        if np.array_equal(row, mine):
            return

        def said(r):
            arch = (repr(ARCHITECTURES[int(r[1])]) if r[1] in range(len(ARCHITECTURES))
                    else f"unknown ({r[1]:g})")
            bias = {0.0: "False", 1.0: "True"}.get(r[2], f"unknown ({r[2]:g})")
            return f"n_hidden={r[0]:g}, architecture={arch}, bias={bias}"

        raise InputError(f"state is for a different network ({said(row)}); this learner has "
                         f"{said(mine)}")

    def _state_shapes(self, hd) -> dict:
        """The shape of every array of :meth:`state_arrays` (all float64) for
        a state whose header ``hd`` passed :meth:`_check_header`: what a
        checkpoint of this learner must hold (BPTT's history is as long as
        the header's steps since the reset, up to the window)."""
        nw = self.network.n_params
        return {"header": (_c.HEADER_SIZE,), "theta": (nw,), "dW": (nw,), "network": (3,),
                **self._extra_shapes(hd)}

    def _extra_shapes(self, hd) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def _checked(arrays, key, shape):
        if key not in arrays:
            raise InputError(f"state is missing {key!r}")
        a = native_float64(as_array(arrays[key], f"state[{key!r}]", str(shape)))  # InputError for a ragged list
        if a.dtype != np.float64 or a.shape != shape:
            raise InputError(f"state[{key!r}] must be float64 of shape {shape}; got {a.dtype} {a.shape}")
        if not np.all(np.isfinite(a)):
            raise InputError(f"state[{key!r}] holds non-finite values")
        return a

    def _export_extra(self) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def _check_extra(self, arrays, hd) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def _write_extra(self, vals):  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def _architecture(self):
        return self._base_architecture + self._extra_params

    # ------------------------------------------------------------------
    # checkpoint files (online_lstm.checkpoint)
    # ------------------------------------------------------------------
    def save(self, path: str | os.PathLike, *, compress: bool = False, fsync: bool = True) -> pathlib.Path:
        """Write the complete learner (configuration and :meth:`state_arrays`)
        to one ``.npz`` checkpoint, atomically: a temporary file renamed over
        ``path``, as :meth:`OnlineLSTM.save <online_lstm.OnlineLSTM.save>`.
        :meth:`load` or :meth:`restore` continue bit-identically, mid-sequence
        and with a pending step included.  ``path`` (used verbatim),
        ``compress`` and ``fsync`` as for ``OnlineLSTM.save``.
        """
        return _ckpt.save_stream(self, path, compress=compress, fsync=fsync)

    @classmethod
    def load(cls, path: str | os.PathLike):
        """A learner rebuilt from a checkpoint written by :meth:`save`.

        Raises :class:`~online_lstm.errors.CheckpointError` for a truncated
        or corrupted file, a checkpoint of another kind (an RTRL file read by
        ``BPTT.load``) or a format version this library does not read.
        Loading never executes code from the file.
        """
        return _ckpt.load_stream(path, cls)

    def restore(self, path: str | os.PathLike) -> None:
        """Load a checkpoint into this learner, which must have the same
        architecture (sizes, ``architecture``, bias, update and, for BPTT,
        the window).  Everything is checked first; on any error
        (:class:`~online_lstm.errors.CheckpointError`) nothing changes.  The
        learner then holds the checkpoint's state and parameters.
        """
        _ckpt.restore_stream(self, path)

    def __getstate__(self):
        return {"params": self.get_params(), "state": self.state_arrays()}

    def __setstate__(self, d):
        params = dict(d["params"])
        lr = params.pop("lr")
        for k, v in params.items():
            setattr(self, k, v)
        self._build(lr, rng=np.random.default_rng(0))  # weights from the state; a Generator
        self.load_state_arrays(d["state"])  # seed (shared by copy.copy) is not drawn from
