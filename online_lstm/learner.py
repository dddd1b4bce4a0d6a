"""``OnlineLSTM``: the 1997 LSTM as a streaming learner (River vocabulary)."""

from __future__ import annotations

import math
import os
import pathlib
from collections.abc import Sequence
from typing import Any, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import checkpoint as _ckpt
from . import kernels as _k
from ._validate import (
    DISPATCH_ERRORS, ConvertsRefusedInputs, FixedAfterBuild, as_array,
    as_bool_mask, as_input, as_input_rows, as_real,
    as_target, as_target_rows, check_flag, check_state_mapping, checked_init_range, checked_lr,
    NATIVE_F64, checked_out, checked_weights, native_float64, nonfinite_input_message, own_copy,
    progress_bar, run_in_chunks, seeded_rng,
)
from . import _validate
from .errors import DivergenceError, InputError, NoPendingStepError
from .snapshot import Snapshot, check_fits, learner_key
from .layout import (
    H_DWMAX, H_LR, H_STATE_BOUND, H_TMAX, H_WMAX, HEADER_SIZE, M_ACCUM, M_BANK, M_N_RESETS,
    M_N_UPDATES, M_PENDING, M_SEQ_STEP, M_STEP, MAGNITUDE_LIMIT, META, META_COUNTERS,
    Layout, _block_values, aligned_zeros,
)

_ndarray = np.ndarray  # one global lookup on the hot path instead of two
_F64 = NATIVE_F64  # (see there: which arrays a per-step call passes to its kernel as they are)


#: what the learner returns and keeps: float64 arrays
Floats = NDArray[np.float64]
#: an initial gate bias: None (random), one number, or one per block
BlockBias = Union[None, float, Sequence[float]]
#: what seeds the initialisation (anything ``np.random.default_rng`` takes)
Seed = Union[None, int, Sequence[int], np.random.SeedSequence, np.random.BitGenerator,
             np.random.Generator]

_NO_RESETS = np.zeros(0, dtype=np.bool_)
#: rows of the first kernel call after a divergence handled by on_divergence="reset"
_PIECE = 64

_DIVERGENCE_REASONS = {
    _k.DIV_NET: "a net input or output became non-finite",
    _k.DIV_STATE: "a cell state |s_c| exceeded state_bound (or became non-finite)",
    _k.DIV_ERROR: "an error signal became non-finite",
    _k.DIV_BOUND: "an update would push a weight or trace beyond 1e150 in magnitude",
}

#: Accumulation modes stored in meta[M_ACCUM].
_ACCUM_STEP, _ACCUM_SEQUENCE, _ACCUM_GRADIENT = 0, 1, 2

#: Constructor arguments fixed once the learner is built: they shape its
#: memory or were used up by the initialisation; and the layout, through
#: which the Python side reads that memory.  ``lr``, ``state_bound`` and
#: ``on_divergence`` may change between steps.
_FIXED_PARAMS = frozenset((
    "n_in", "n_out", "n_blocks", "block_size", "output_gates", "connectivity", "bias", "g", "h",
    "init_range", "in_gate_bias", "out_gate_bias", "forget_gate", "peepholes",
    "forget_gate_bias", "update", "max_delay", "seed", "layout"))
_POLICIES = ("raise", "reset")
#: The constructor arguments that say how the weights began: a checkpoint's
#: restore() can change them, and a snapshot keeps them (online_lstm.snapshot).
_INIT_ARGS = ("seed", "init_range", "in_gate_bias", "out_gate_bias", "forget_gate_bias")


def _reset_refused(mem, r, row, n_resets) -> bool:
    """Whether the divergence status of row ``row`` of a run over the resets
    ``r``, started with ``n_resets`` resets made, is that of its reset (refused:
    applying update="sequence"'s accumulated change), not of its step."""
    return bool(r.shape[0] and r[row] and mem[M_N_RESETS] - n_resets < np.count_nonzero(r[:row + 1]))


class OnlineLSTM(ConvertsRefusedInputs, FixedAfterBuild):
    """The original LSTM (Hochreiter & Schmidhuber 1997), trained online.

    Memory-cell blocks with input and output gates around constant error
    carousels, trained one input at a time with the paper's truncated
    forward-mode gradient: O(1) work per weight and step, O(W) memory, no
    stored history.  Plain gradient steps, as in the paper: no momentum, no
    clipping.

    Parameters
    ----------
    n_in, n_out : int
        Input units and output units.
    n_blocks, block_size : int
        Memory-cell blocks and cells per block.
    output_gates : bool
        Without them every block's ``y_out`` is 1 (Experiments 2a/2b).
    connectivity : {"F", "B"}
        Table 10 column ``c``; see :class:`online_lstm.layout.Layout`.
    bias : {"gates", "hidden", "all", "none"}
        Which units have a bias (Table 10 codes "ga", "b1", "all", "none").
    g : {"g2", "g1"}
        Cell-input squashing: [-2, 2] sigmoid (default) or logistic.
    h : {"h1", "id"}
        Cell-output squashing: [-1, 1] sigmoid (default) or identity.
    init_range : float
        Weights start uniform in ``[-init_range, init_range]`` (spec §2.7).
    in_gate_bias, out_gate_bias : None, float or sequence of floats
        Initial bias of each block's input / output gate; None keeps the
        random value (Table 10 "r").
    forget_gate : bool
        Add a forget gate to every block (Gers, Schmidhuber & Cummins 2000;
        spec §7.1): ``s_c(t) = y_phi(t) s_c(t-1) + y_in(t) g(net_c(t))``,
        with every trace damped by ``y_phi`` and a third trace for the
        forget-gate weights.  Off by default: the 1997 net.
    peepholes : bool
        Add weights from each cell's state to the gates of its own block
        (Gers & Schmidhuber 2000; spec §7.2): input and forget gates read
        ``s_c(t-1)``, the output gate reads ``s_c(t)``.  No error flows back
        through them.  Off by default.
    forget_gate_bias : None, float or sequence of floats
        Initial forget-gate bias of each block, used only with
        ``forget_gate=True``.  Default +1.0: positive, so the gate starts
        open and the net starts out remembering like a 1997 net (spec §7.1;
        Gers et al. 2000 used +0.5, +1.0, +1.5, +2.0 for four blocks).  None
        keeps the random value (needed when the gates have no bias).
    lr : float
        Learning rate alpha.  The error has no factor 1/2 (spec §3.1): the
        step is ``alpha * e * trace`` exactly as in the paper.
    update : {"step", "sequence"}
        "step" applies each step's weight change at once (spec §3.7 default);
        "sequence" accumulates them and applies the sum at the next
        :meth:`reset` (sequence end).
    state_bound : float
        A cell state with ``|s_c| > state_bound`` is reported as divergence.
        ``math.inf`` checks finiteness only.
    on_divergence : {"raise", "reset"}
        What a step that diverges does (see Notes).  "raise" (default):
        :class:`~online_lstm.errors.DivergenceError`.  "reset": end the
        sequence as :meth:`reset` does, retry the step from the reset state,
        count the event in ``n_divergences_`` and keep it in
        ``last_divergence_``.
    max_delay : int
        How many steps after its step a target may still arrive
        (:meth:`learn_delayed`).  0 (default): only the last step can be
        learned from later (:meth:`learn_last`).  With ``max_delay = D``
        every step keeps a snapshot of what its weight change needs (its
        record, its traces, the output weights from the cells) in a ring of
        D + 1 slots: ``(D + 1) * (traces + record + n_cells * n_out)``
        numbers of memory, and a copy of about that size per step.
    seed : None, int, sequence of int, SeedSequence or Generator
        Seed of the weight initialisation (what ``numpy.random.default_rng``
        takes, but not a bool).  None draws fresh entropy; a Generator is
        drawn from, not copied.

    Notes
    -----
    The prediction for step t reads the cells of step t (spec §2.4), so in a
    next-symbol task the output at step t predicts element t+1.

    The output units are logistic: outputs and useful targets lie in
    (0, 1), so map a regression target into about [0.1, 0.9] first.
    Inputs are used as given: keep them of order 1 (standardise a sensor),
    since a large input saturates the gates and cells it feeds and those
    weights then stop learning, without any error.

    Inputs are float64 arrays of shape ``(n_in,)``; other real dtypes,
    lists and object arrays of numbers (a pandas row of a DataFrame with a
    timestamp column) are converted when no precision is lost, anything
    else raises
    :class:`~online_lstm.errors.InputError`.  Only a writeable, contiguous
    float64 array goes straight to the compiled step: another dtype (float32,
    ints), a strided view or a read-only array is converted, which adds a
    few microseconds to a step (3.5 on the development VM, where a
    Reber-size step takes 1.4).  The first such input of ``learn_one`` or
    ``predict_one`` costs about 50: the compiled call refuses it, and the
    learner then converts its inputs before the call, trying the direct
    call again every 1,024 steps.  In a real-time loop keep ``x`` and ``y``
    in writeable float64 arrays and pass ``out=``.  Targets have shape
    ``(n_out,)``; NaN marks an output unit without target at that step.
    Every method that takes data validates it before it changes anything,
    and a refused call leaves the learner bit-for-bit unchanged.

    **Divergence.**  A step diverges when a net input, output or error
    signal would be non-finite, a cell state would exceed ``state_bound``,
    or an update would push a weight or trace beyond 1e150 (below that
    limit no update can produce inf or NaN).  Such a step is never applied.
    With ``on_divergence="raise"`` it raises ``DivergenceError`` (``.step``,
    ``.row``, ``.reason``) and the learner holds the last good state, the one
    from before the step.  With ``on_divergence="reset"`` the learner resets
    (a sequence boundary: accumulated updates applied, states, activations
    and traces zeroed, weights kept), retries the step and carries on;
    ``n_divergences_`` counts these events and ``last_divergence_`` is the
    latest ``DivergenceError``, whose ``.state`` holds the state arrays from
    before the reset (``load_state_arrays(m.last_divergence_.state)`` goes
    back to it; ``n_divergences_`` is kept by checkpoints, pickling and
    ``copy.deepcopy``, ``last_divergence_`` is not).  If the step diverges
    from the reset state too, the reset is undone and ``DivergenceError`` is
    raised.  The policy applies to the steps of ``learn_one``,
    ``predict_one``, ``learn_many`` and ``predict_many``; ``learn_last``,
    ``learn_delayed`` and ``reset`` always raise, since a reset cannot help
    them, and so does ``gradient``, which changes nothing in the learner.  A
    never-reset 1997 LSTM has no way to bound its cell states (spec §7.1);
    ``"reset"`` with a finite ``state_bound`` is the external reset such a
    stream needs.

    **Checkpoints.**  :meth:`save` writes the complete state to one ``.npz``
    file (atomically), :meth:`load` builds a learner from one and
    :meth:`restore` loads one into this learner; see
    :mod:`online_lstm.checkpoint`.  ``pickle`` and ``copy.deepcopy`` keep the
    complete state too.  In a loop, :meth:`snapshot` (into an existing
    snapshot) and :meth:`restore_snapshot` save and restore it in memory,
    one copy of the state buffer each and nothing allocated: try an action
    and go back; see :mod:`online_lstm.snapshot`.

    **Threads.**  The kernels release the GIL, so separate learners stepped
    in separate threads run in parallel.  One learner must be stepped by one
    thread at a time: its kernels write its buffers without a lock (a lock
    per call would cost more than a small net's step), so two threads in
    one learner at once leave its state undefined (steps can be lost
    without an error).  Reading a learner while another thread steps it
    (``state_``, ``state_arrays``, ``weights``, ``get_weights``, ``save``,
    pickling, ``snapshot``) is not safe either: the copy can mix two steps;
    ``restore_snapshot`` writes the learner, as a step does.  Share a
    learner across threads behind your own lock, held for reads too, or
    give each thread its own learner (or use
    :class:`~online_lstm.LearnerBank`).
    """

    def __init__(self, n_in: int, n_out: int, n_blocks: int = 1, block_size: int = 1, *,
                 output_gates: bool = True, connectivity: str = "F", bias: str = "gates",
                 g: str = "g2", h: str = "h1", init_range: float = 0.1,
                 in_gate_bias: BlockBias = None, out_gate_bias: BlockBias = None,
                 forget_gate: bool = False, peepholes: bool = False,
                 forget_gate_bias: BlockBias = 1.0, lr: float = 0.1, update: str = "step",
                 state_bound: float = 1e6, on_divergence: str = "raise", max_delay: int = 0,
                 seed: Seed = None) -> None:
        self.n_in = n_in
        self.n_out = n_out
        self.n_blocks = n_blocks
        self.block_size = block_size
        self.output_gates = output_gates
        self.connectivity = connectivity
        self.bias = bias
        self.g = g
        self.h = h
        self.init_range = init_range
        self.in_gate_bias = own_copy(in_gate_bias)
        self.out_gate_bias = own_copy(out_gate_bias)
        self.forget_gate = forget_gate
        self.peepholes = peepholes
        self.forget_gate_bias = own_copy(forget_gate_bias)
        self.update = update
        self.on_divergence = on_divergence
        self.max_delay = max_delay
        self.seed = own_copy(seed)
        self._build(lr, state_bound)

    # constructor arguments fixed once built (FixedAfterBuild); on_divergence
    # may change, and is checked whenever it is set
    _fixed = _FIXED_PARAMS
    _built_attr = "_mem"
    _changeable = "lr, state_bound and on_divergence"

    def __setattr__(self, name, value):
        if name == "on_divergence" and not (isinstance(value, str) and value in _POLICIES):
            raise ValueError(f"on_divergence must be 'raise' or 'reset'; got {value!r}")
        super().__setattr__(name, value)

    # ------------------------------------------------------------------
    # construction
    # ------------------------------------------------------------------
    def _build(self, lr, state_bound, rng=None):
        self.layout = lay = Layout(self.n_in, self.n_out, self.n_blocks, self.block_size,
                                   self.output_gates, self.connectivity, self.bias, self.g, self.h,
                                   self.forget_gate, self.peepholes, self.max_delay)
        if self.update not in ("step", "sequence"):
            raise ValueError(f"update must be 'step' or 'sequence'; got {self.update!r}")
        if not lay.forget_gate:  # unused, but kept by get_params, clone and checkpoints
            _block_values("forget_gate_bias", self.forget_gate_bias, lay.n_blocks)
        rng = seeded_rng(self.seed) if rng is None else rng
        try:
            theta = lay.init_theta(rng, checked_init_range(self.init_range), self.in_gate_bias,
                                   self.out_gate_bias, self.forget_gate_bias if lay.forget_gate else None)
            self._mem = lay.make_mem(_ACCUM_SEQUENCE if self.update == "sequence" else _ACCUM_STEP)
        except MemoryError:
            raise MemoryError(f"n_in={lay.n_in}, n_out={lay.n_out}, n_blocks={lay.n_blocks}, "
                              f"block_size={lay.block_size} give {lay.n_params:,} weights, and a "
                              f"learner needs {lay.mem_size:,} float64 numbers "
                              f"({lay.mem_size * 8 / 2**30:,.1f} GiB) for them, their traces and "
                              f"its state: more than this machine can allocate") from None
        self._theta = self._mem[lay.meta["theta"]:lay.meta["theta"] + lay.n_params]
        self._theta[:] = theta
        self._mem[H_WMAX] = float(np.max(np.abs(theta), initial=0.0))
        self.lr = lr
        self.state_bound = state_bound
        K = lay.n_out
        self._out = np.zeros(K)
        self._nan_y = np.full(K, np.nan)
        self._ybuf = np.zeros(K)
        self._direct, self._converted = _ndarray, 0  # (ConvertsRefusedInputs)
        self.n_divergences_ = 0
        self.last_divergence_ = None
        self._init_args = tuple(getattr(self, k) for k in _INIT_ARGS)  # (see _adopt_params)
        # what a Snapshot of this learner fits (online_lstm.snapshot)
        self._snap_key = learner_key(lay, self.update)

    def get_params(self) -> dict[str, object]:
        """Constructor arguments (River/scikit-learn convention)."""
        return dict(  # (lists and arrays as copies: editing the dict must not change clone())
            n_in=self.n_in, n_out=self.n_out, n_blocks=self.n_blocks,
            block_size=self.block_size, output_gates=self.output_gates,
            connectivity=self.connectivity, bias=self.bias, g=self.g, h=self.h,
            init_range=self.init_range, in_gate_bias=own_copy(self.in_gate_bias),
            out_gate_bias=own_copy(self.out_gate_bias), forget_gate=self.forget_gate,
            peepholes=self.peepholes, forget_gate_bias=own_copy(self.forget_gate_bias), lr=self.lr,
            update=self.update, state_bound=self.state_bound, on_divergence=self.on_divergence,
            max_delay=self.max_delay, seed=own_copy(self.seed),
        )

    def clone(self, **changes) -> OnlineLSTM:
        """A fresh, untrained learner with the same (or changed) parameters."""
        params = self.get_params()
        params.update(changes)
        return type(self)(**params)

    def __repr__(self):
        lay = self.layout
        return (f"OnlineLSTM(n_in={lay.n_in}, n_out={lay.n_out}, n_blocks={lay.n_blocks}, "
                f"block_size={lay.block_size}, connectivity={lay.connectivity!r}, "
                f"bias={lay.bias!r}, "
                + ("forget_gate=True, " if lay.forget_gate else "")
                + ("peepholes=True, " if lay.peepholes else "")
                + (f"max_delay={lay.max_delay}, " if lay.max_delay else "")
                + f"lr={self.lr}, n_params={lay.n_params})")

    # ------------------------------------------------------------------
    # hyper-parameters that live in mem
    # ------------------------------------------------------------------
    @property
    def n_params(self) -> int:
        """Number of weights (the paper's count, Table 10; ``layout.n_params``)."""
        return self.layout.n_params

    @property
    def lr(self) -> float:
        """Learning rate alpha (may be changed between steps)."""
        return float(self._mem[H_LR])

    @lr.setter
    def lr(self, value):
        self._mem[H_LR] = checked_lr(value)

    @property
    def state_bound(self) -> float:
        """Cell states beyond this magnitude are reported as divergence."""
        return float(self._mem[H_STATE_BOUND])

    @state_bound.setter
    def state_bound(self, value):
        what = "a number > 0 (math.inf allowed)"
        v = as_real(value, "state_bound", what)
        if math.isnan(v) or v <= 0:
            raise ValueError(f"state_bound must be {what}; got {value!r}")
        self._mem[H_STATE_BOUND] = v

    # ------------------------------------------------------------------
    # input handling
    # ------------------------------------------------------------------
    def _x(self, x):
        """Input as float64[n_in] (the kernel checks n_in)."""
        return as_input(x, self.layout.n_in)

    def _y(self, y):
        """Target as float64[K]; scalar targets are allowed when K == 1 (the kernel checks K)."""
        return as_target(y, self.layout.n_out, self._nan_y, self._ybuf)

    def _out_buf(self, out, rows=None):
        K = self.layout.n_out
        return checked_out(out, (K,) if rows is None else (rows, K))

    def _raise(self, st, x=None, y=None, row=None, step=None):
        """Raise the exception of kernel status ``st``; ``step`` is the index
        of a refused step (default: the next step, ``n_steps_``)."""
        lay = self.layout
        where = "" if row is None else f" (row {row})"
        if st == _k.BAD_X_SHAPE:
            got = "" if x is None else f"; got shape {np.shape(x)}"
            raise InputError(f"x must have shape ({lay.n_in},) per step{where}{got}")
        if st == _k.BAD_X_VALUE:
            raise InputError(nonfinite_input_message(x, where))
        if st == _k.BAD_Y_SHAPE:
            got = "" if y is None else f"; got shape {np.shape(y)}"
            raise InputError(f"y must have shape ({lay.n_out},) per step{where}{got}")
        if st == _k.BAD_Y_VALUE:
            raise InputError(f"y must be finite or NaN (NaN = no target){where}: inf in the target")
        if st == _k.BAD_OUT_SHAPE:
            raise InputError(f"out must have shape ({lay.n_out},) for one step, or (T, {lay.n_out}) "
                             f"for T steps{where}")
        if st == _k.BAD_RESETS_SHAPE:
            raise InputError("resets must be a boolean mask with one entry per row of X")
        if st == _k.NO_PENDING:
            raise NoPendingStepError(
                "learn_last needs the last step to be taken without a target (predict_one, or "
                "learn_one with y=None), not learned from yet, and not ended by reset() or a "
                "later step" + ("; learn_delayed(y, age) reaches a step up to max_delay steps back, "
                                "across a reset too" if self.layout.max_delay else ""))
        if st == _k.BAD_AGE:
            raise InputError("learn_delayed: no snapshot of a step of that age")
        if st == _k.HAS_TARGET:
            raise NoPendingStepError(
                "learn_delayed: an output unit given a target here already had one at that "
                "step (or has been given one since); pass NaN for it")
        if st in _DIVERGENCE_REASONS:
            raise self._divergence(st, row, step=step)
        raise RuntimeError(f"unknown kernel status {st}")  # pragma: no cover

    def _divergence(self, st, row=None, note="",
                    then="the learner holds the state from before it", step=None):
        if step is None:
            step = self.n_steps_
        reason = _DIVERGENCE_REASONS[st]
        where = "" if row is None else f" (row {row})"
        return DivergenceError(
            f"divergence at step {step}{where}: {reason}{note}. The step was not applied; "
            f"{then}.", step=step, row=row, reason=reason)

    # ------------------------------------------------------------------
    # divergence policy (only on the refused-step path)
    # ------------------------------------------------------------------
    def _policy_reset(self, st, row=None):
        """Divergence of a step: raise, or (policy "reset") reset the learner.

        Returns ``(status, error, saved_mem)`` for :meth:`_policy_end`.
        """
        if self.on_divergence != "reset":
            raise self._divergence(st, row)
        saved = self._mem.copy()
        err = self._divergence(st, row, then="on_divergence='reset' reset the learner and retried "
                                             "it; .state holds the state from before the reset")
        err.state = self.state_arrays()
        if _k.reset(self._mem):  # applying an accumulated update overflowed
            self._mem[:] = saved
            raise self._divergence(st, row, "; the reset of on_divergence='reset' failed too")
        return st, err, saved

    def _policy_end(self, first, err, saved, st):
        """The step refused with status ``first`` was retried from the reset
        state and got status ``st``."""
        if st:
            self._mem[:] = saved  # undo the reset: a refused call changes nothing
            raise self._divergence(first, err.row, "; it diverged from a reset state too")
        self.n_divergences_ += 1
        self.last_divergence_ = err

    def _run_on(self, X, Y, r, o, learn, st, row, bar=None):
        """``learn_many``/``predict_many`` refused row ``row`` with status
        ``st``: apply the policy and go on with the rows after it.

        The rest runs in pieces that start at ``_PIECE`` rows and double: the
        kernel checks every row of a call before its first step (again; the
        rows were checked by the first call), and short pieces keep that
        repeated check from costing O(T) per divergence.

        Returns ``(status, absolute row)`` like ``kernels.run``; ``bar``, if
        given, is updated by the rows applied.
        """
        T, pos = X.shape[0], 0
        while st in _DIVERGENCE_REASONS:
            pos += row  # rows before pos are applied; row pos was refused
            event = self._policy_reset(st, pos)
            retry, piece = True, _PIECE if bar is None else min(_PIECE, _validate.CHUNK)
            while True:
                end = min(pos + piece, T)
                rr = r[pos:end]
                if retry and rr.shape[0]:
                    rr = rr.copy()
                    rr[0] = False  # the policy has just reset
                n_resets = self._mem[M_N_RESETS]
                st, row = _k.run(self._mem, X[pos:end], Y[pos:end], rr, o[pos:end], learn)
                if retry:
                    self._policy_end(*event, st if row == 0 else 0)
                    retry = False
                if bar is not None:
                    bar.update(int(row) if st else end - pos)
                if st in _DIVERGENCE_REASONS and _reset_refused(self._mem, rr, row, n_resets):
                    raise DivergenceError.reset_refused(_DIVERGENCE_REASONS[st],
                                                        int(self._mem[M_STEP]), pos + int(row))
                if st or end == T:
                    break
                # (with a bar, pieces no longer than a chunk: it moves, and Ctrl-C stops)
                pos, piece = end, 2 * piece if bar is None else min(2 * piece, _validate.CHUNK)
        return st, pos + row

    def _refused(self, st, kernel, args, x=None, y=None):
        """A per-step kernel refused the step with status ``st``; under the
        divergence policy "reset" it is retried as ``kernel(mem, *args)``."""
        if st not in _DIVERGENCE_REASONS:
            self._raise(st, x, y)
        event = self._policy_reset(st)
        self._policy_end(*event, kernel(self._mem, *args))

    # ------------------------------------------------------------------
    # streaming API
    # ------------------------------------------------------------------
    def learn_one(self, x: ArrayLike, y: ArrayLike | float | None = None, *,
                  out: Floats | None = None) -> Floats:
        """One step with learning; return the prediction made before the update.

        Parameters
        ----------
        x : array of shape (n_in,); with n_in == 1 also a number, bool or 0-d array
        y : array of shape (n_out,), float (if n_out == 1) or None
            Target for this step; NaN entries (or None) mean no target.
        out : float64 array of shape (n_out,), optional
            Write the prediction here instead of allocating a new array
            (nothing is allocated on this path but the ~150 bytes of Python
            objects Numba's dispatch makes and frees within the call, as it
            does for a function that does nothing).

        Returns
        -------
        ndarray of shape (n_out,)
            The outputs ``y_k(t)`` of this step, before its weight change.
        """
        # The hot path: no closure, no cell variables, one dispatch; the tests of
        # ConvertsRefusedInputs._step_out / _step_x / _step_y, written out (a call
        # each would add ~50 ns).
        o = self._out if out is None else out if type(out) is _ndarray \
            and (out.dtype is _F64 or out.dtype.isnative) \
            else self._out_buf(out)  # (a byte-swapped out: see NATIVE_F64)
        # a list, a masked array (Numba would read it without its mask), a byte-swapped
        # array (see NATIVE_F64)
        if type(x) is not self._direct or x.dtype is not _F64 and not x.dtype.isnative:
            x = self._convert_x(x)
        if type(y) is not self._direct or y.dtype is not _F64 and not y.dtype.isnative:
            y = self._y(y)
        try:
            st = _learn_step(self._mem, x, y, o)
        except DISPATCH_ERRORS:  # dtype/layout Numba has no compiled version for
            x = self._x(x)
            y = self._y(y)
            if out is not None:
                o = self._out_buf(out)
            st = _learn_step(self._mem, x, y, o)
            self._refused_dispatch()
        if st:
            self._refused(st, _learn_step, (x, y, o), x, y)
        return o.copy() if out is None else o

    def predict_one(self, x: ArrayLike, *, out: Floats | None = None) -> Floats:
        """One step without learning.  The state and traces still advance.

        The step can be learned from later with :meth:`learn_last` (act now,
        learn when the target arrives) or, with ``max_delay > 0``, with
        :meth:`learn_delayed` up to ``max_delay`` steps later.

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
        o = self._out if out is None else out if type(out) is _ndarray \
            and (out.dtype is _F64 or out.dtype.isnative) \
            else self._out_buf(out)  # (a byte-swapped out: see NATIVE_F64)
        if type(x) is not self._direct or x.dtype is not _F64 and not x.dtype.isnative:
            x = self._convert_x(x)
        try:
            st = _predict_step(self._mem, x, o)
        except DISPATCH_ERRORS:
            x = self._x(x)
            if out is not None:
                o = self._out_buf(out)
            st = _predict_step(self._mem, x, o)
            self._refused_dispatch()
        if st:
            self._refused(st, _predict_step, (x, o), x)
        return o.copy() if out is None else o

    def learn_last(self, y: ArrayLike | float) -> None:
        """Learn from the target of the last step, which was taken without one.

        ``y`` has shape (n_out,) (a float if n_out == 1); NaN entries mean no
        target for that unit.
        ``predict_one(x)`` followed by ``learn_last(y)`` gives the same bits as
        ``learn_one(x, y)``: the forward pass and trace update are not
        repeated.  Raises :class:`NoPendingStepError` if the last step has
        already been learned from.  An all-NaN target does nothing and keeps
        the step pending.

        The error reaches the cells through the output weights ``W_k``:
        with ``max_delay = 0`` the current ones, with ``max_delay > 0`` the
        step's own (kept in its snapshot).  The two are the same unless
        :meth:`set_weights` changed ``W_k`` between the step and this call;
        only the latter then gives the bits of ``learn_one(x, y)``.
        """
        yy = y if type(y) is self._direct and (y.dtype is _F64 or y.dtype.isnative) else self._y(y)
        if self.layout.max_delay:  # keep the step's snapshot in step: learn through it
            if self._mem[M_PENDING] != 1.0:
                self._raise(_k.NO_PENDING)
            self.learn_delayed(yy, 0)
            return
        try:
            st = _k.learn_last(self._mem, yy)
        except DISPATCH_ERRORS:
            yy = self._y(yy)
            st = _k.learn_last(self._mem, yy)
            self._refused_dispatch()
        if st:
            self._raise(st, y=yy, step=self.n_steps_ - 1)  # the step learned from

    def learn_delayed(self, y: ArrayLike | float, age: int) -> None:
        """Learn from the target of a step taken ``age`` steps before the last.

        ``age=0`` is the last step, ``age=1`` the one before, and so on, up to
        ``max_delay`` (and back to the first step).  To name a step by its
        index instead, keep ``t = n_steps_ - 1`` after taking it and pass
        ``age = n_steps_ - 1 - t`` later.  The weight change is
        exactly the one :meth:`learn_one` with this target would have made
        at that step: its errors come from that step's outputs and output
        weights, its updates from that step's sources and traces (the
        truncated gradient of that step's error, spec §3.9), all kept in the
        step's snapshot.  Only the moment the change is applied differs, so
        the steps since then are not replayed.  Resets in between do not
        matter.  The learning rate is the current one (``lr`` is not part of
        the snapshot): if it was changed since that step, the change is
        scaled accordingly.

        A target entry of NaN means no target for that unit; each output
        unit of a step takes one target, so units that had one at the step
        (``learn_one``) or got one since raise
        :class:`~online_lstm.errors.NoPendingStepError` (nothing is
        changed).  With ``update="sequence"`` the change is accumulated
        with the current sequence's.

        Parameters
        ----------
        y : array of shape (n_out,), or float if n_out == 1
        age : int
            0 <= age <= min(max_delay, n_steps_ - 1).

        Raises
        ------
        InputError
            Bad target, or an age that is not an int in that range (also
            any age with ``max_delay=0``).
        NoPendingStepError
            A unit given a target already had one at that step.
        DivergenceError
            The change would diverge (it is not applied).
        """
        age = self._age(age, "learn_delayed")
        yy = y if type(y) is self._direct and (y.dtype is _F64 or y.dtype.isnative) else self._y(y)
        try:
            st = _k.learn_delayed(self._mem, yy, age)
        except DISPATCH_ERRORS:
            yy = self._y(yy)
            st = _k.learn_delayed(self._mem, yy, age)
            self._refused_dispatch()
        if st:
            self._raise(st, y=yy, step=self.n_steps_ - 1 - age)  # the step learned from

    def _age(self, age, what) -> int:
        """``age`` as an int if a snapshot of a step that old is kept."""
        D = self.layout.max_delay
        if isinstance(age, (bool, np.bool_)) or not isinstance(age, (int, np.integer)):
            raise InputError(f"{what}: age must be an integer; got {age!r}")
        oldest = min(D, self.n_steps_ - 1)
        if not 0 <= age <= oldest or D == 0:
            why = ("this learner keeps no snapshots (max_delay=0; use learn_last, or build it "
                   "with max_delay > 0)" if D == 0 else
                   "no step has been taken yet" if self.n_steps_ == 0 else
                   f"ages go from 0 (the last step) to {oldest} (max_delay={D}, "
                   f"{self.n_steps_} steps taken)")
            raise InputError(f"{what}: no step of age {age}: {why}")
        return int(age)

    def open_targets(self, age: int) -> np.ndarray:
        """Which outputs of the step of this ``age`` can still take a target
        with :meth:`learn_delayed` (bool array of shape (n_out,)).  ``age``
        as for :meth:`learn_delayed` (InputError outside its range)."""
        lay = self.layout
        op = int(lay.slot_offset(self.n_steps_ - 1 - self._age(age, "open_targets"))) \
            + lay.meta["sl_open"]
        return self._mem[op:op + lay.n_out] != 0.0

    def reset(self) -> None:
        """Sequence boundary: zero the states, activations and traces.

        With ``update="sequence"`` the weight changes accumulated since the
        last reset are applied first (spec §3.7).
        """
        st = _k.reset(self._mem)
        if st in _DIVERGENCE_REASONS:  # applying the accumulated update (update="sequence")
            raise DivergenceError.reset_refused(_DIVERGENCE_REASONS[st], self.n_steps_)
        if st:
            self._raise(st)

    def _resets(self, resets, T):
        if resets is None:
            return _NO_RESETS
        return as_bool_mask(resets, "resets", (T,), "one entry per row of X (for start "
                            "indices use np.isin(np.arange(T), starts))")

    def _run(self, mem, X, Y, resets, out, learn, progress=False):
        X = as_input_rows(X, self.layout.n_in)
        T = X.shape[0]
        K = self.layout.n_out
        Y = as_target_rows(Y, T, K) if learn else X
        r = self._resets(resets, T)
        o = np.empty((T, K)) if out is None else self._out_buf(out, T)
        bar, own_bar = progress_bar(progress, T, "step", unit_scale=T >= 10_000)
        n_resets = mem[M_N_RESETS]
        try:
            if bar is None:
                st, row = _k.run(mem, X, Y, r, o, learn)
            else:
                st, row = run_in_chunks(lambda *a: _k.run(mem, *a, learn), X, Y, r, o, learn, bar)
            self._run_status(mem, X, Y, r, o, learn, st, row, n_resets, bar)
        finally:
            if own_bar:
                bar.close()
        return o

    def _run_status(self, mem, X, Y, r, o, learn, st, row, n_resets, bar=None):
        """Raise for (or, under the divergence policy "reset", go on after)
        the status ``st`` of row ``row`` of a run."""
        try:
            if st in _DIVERGENCE_REASONS and _reset_refused(mem, r, row, n_resets):
                # the reset before row `row` was refused (applying update="sequence"'s
                # accumulated change), not the step: no policy applies, as in reset()
                raise DivergenceError.reset_refused(_DIVERGENCE_REASONS[st], int(mem[M_STEP]),
                                                    int(row))
            if st in _DIVERGENCE_REASONS and mem is self._mem:
                st, row = self._run_on(X, Y, r, o, learn, st, row, bar)
            if st:
                T = X.shape[0]
                self._raise(st, x=X[row] if st in (_k.BAD_X_SHAPE, _k.BAD_X_VALUE) and T else None,
                            y=Y[row] if learn and st == _k.BAD_Y_SHAPE and Y.shape[0] else None,
                            row=int(row), step=int(mem[M_STEP]))
        except DivergenceError as err:  # the predictions of the rows applied are the caller's
            if mem is self._mem:       # (gradient() runs on a copy and returns no outputs)
                err.with_outputs(o)
            raise

    def learn_many(self, X: ArrayLike, Y: ArrayLike, resets: ArrayLike | None = None, *,
                   out: Floats | None = None, progress: bool | Any = False) -> Floats:
        """T online steps in one compiled call, bit-identical to T ``learn_one``.

        This is sequential online learning over a chunk (each step's update is
        applied before the next step), not a mini-batch.

        Parameters
        ----------
        X : array of shape (T, n_in), or (T,) if n_in == 1
        Y : array of shape (T, n_out) (or (T,) when n_out == 1)
            NaN where there is no target.
        resets : bool array of shape (T,), optional
            True at rows where a new sequence starts; the learner is reset
            before those rows (as by :meth:`reset`).
        out : float64 array of shape (T, n_out), optional
        progress : bool or tqdm bar
            True shows a tqdm bar of the steps (a bar given, anything with
            ``update(n)``, is updated and left open).  The rows then run in
            compiled calls of 65,536 rows, with the same results to the bit;
            Ctrl-C stops the run between two of them, and the learner holds
            the state after the last whole call (``n_steps_`` says how far it
            got).  Without a bar the T rows run in one call, which Ctrl-C
            cannot stop.

        Returns
        -------
        ndarray of shape (T, n_out)
            The prediction of each step, made before its update.

        Raises
        ------
        InputError
            Every row is checked before the first step; if one is bad,
            nothing is changed.
        DivergenceError
            At row t: rows before t have been applied (valid online steps),
            their predictions are in ``err.out`` (NaN from row t on), and
            row t has not (a reset requested at row t has been: rerunning
            from row t resets again, to the same state, and ``n_resets_``
            counts that reset twice); ``err.row`` is t.  If the reset at row
            t itself was refused (applying the accumulated change of
            ``update="sequence"``), the message says "reset refused at row
            t", that reset has not been made either, and no
            ``on_divergence`` policy applies (as for :meth:`reset`).
        """
        return self._run(self._mem, X, Y, resets, out, True, progress)

    def predict_many(self, X: ArrayLike, resets: ArrayLike | None = None, *,
                     out: Floats | None = None, progress: bool | Any = False) -> Floats:
        """T steps without learning in one compiled call (states advance).

        The last step can be learned from with :meth:`learn_last`.

        Parameters
        ----------
        X : array of shape (T, n_in), or (T,) if n_in == 1
        resets : bool array of shape (T,), optional
            True at rows where a new sequence starts (reset before the row).
        out : float64 array of shape (T, n_out), optional
        progress : bool or tqdm bar
            As for :meth:`learn_many`.

        Returns
        -------
        ndarray of shape (T, n_out)
            The outputs of each step."""
        return self._run(self._mem, X, None, resets, out, False, progress)

    # ------------------------------------------------------------------
    # gradient of a whole sequence
    # ------------------------------------------------------------------
    def gradient(self, X: ArrayLike, Y: ArrayLike, resets: ArrayLike | None = None, *,
                 from_current_state: bool = False) -> dict[str, Floats]:
        """Truncated gradient of a sequence with the weights held fixed.

        Returns ``dE/dw`` by parameter name (arrays of the shapes
        :meth:`get_weights` gives), for ``E = 1/2 sum_t sum_k
        (t_k - y_k)^2`` over the steps with targets, under the paper's
        truncation (spec §3.2, §3.9).  ``-lr * gradient`` is the total weight
        change the paper's rule makes over the sequence when updates are
        accumulated (``update="sequence"``).  The learner is not changed.

        Parameters
        ----------
        X, Y, resets
            As in :meth:`learn_many`.  Resets zero the state but the weights
            stay fixed across them.
        from_current_state : bool
            Start from the learner's current state and traces instead of a
            reset state.
        """
        check_flag(from_current_state, "from_current_state")  # "no" must not read as true
        lay = self.layout
        mem = aligned_zeros(self._mem.size)
        mem[:] = self._mem
        dw = lay.meta["dW"]
        mem[dw:dw + lay.n_params] = 0.0
        mem[H_DWMAX] = 0.0
        mem[H_LR] = 1.0
        mem[M_ACCUM] = _ACCUM_GRADIENT
        if not from_current_state:
            _k.reset(mem)
        self._run(mem, X, Y, resets, None, True)
        g = -mem[dw:dw + lay.n_params]
        return {name: lay.weight_view(g, name).copy() for name in lay.shapes}

    # ------------------------------------------------------------------
    # inspection and weights by name
    # ------------------------------------------------------------------
    @property
    def theta_(self) -> Floats:
        """Copy of the flat parameter vector (source order: see layout)."""
        return self._theta.copy()

    @property
    def weights(self) -> dict[str, Floats]:
        """Read-only views of the named parameters, in the paper's orientation
        (unit, source), in this order and only where the net has them:
        ``W_in`` (C, I_h), ``W_phi`` (C, I_h, forget gates), ``W_out``
        (C, I_h, output gates), ``W_c`` (n_cells, I_h), ``W_k`` (K, n_ob),
        the bias weights ``b_in``, ``b_phi``, ``b_out`` (C,), ``b_c``
        (n_cells,), ``b_k`` (K,) (by the bias code), and the peephole
        weights ``P_in``, ``P_phi``, ``P_out`` (C, S).  Column names:
        ``layout.source_names`` and ``layout.output_source_names``.  The views
        follow the learner as it learns, and cannot be made writeable (a
        write would bypass the checks of :meth:`set_weights` and the bound
        on max|theta| the kernels rely on); use :meth:`get_weights` for
        copies and :meth:`set_weights` to change them."""
        out = {}
        for name in self.layout.shapes:
            v = self.layout.weight_view(self._theta, name)
            # as_strided(writeable=False): unlike flags.writeable = False on
            # a view, whose flag the caller could set back to True (its base
            # is the writeable mem), this one stays read-only
            out[name] = np.lib.stride_tricks.as_strided(v, shape=v.shape, strides=v.strides,
                                                        writeable=False)
        return out

    def get_weights(self) -> dict[str, Floats]:
        """Copies of the named parameters (see :attr:`weights`)."""
        lay = self.layout
        return {name: lay.weight_view(self._theta, name).copy() for name in lay.shapes}

    def set_weights(self, weights: dict[str, ArrayLike] | None = None, **named: ArrayLike) -> None:
        """Set parameters by name, e.g. ``set_weights(b_out=[-1, -2, -3])``.

        Takes a dict of some or all of the names of :attr:`weights` (as
        :meth:`get_weights` returns) and/or ``name=array`` keywords, which
        win on a clash.  Each value must have exactly that parameter's shape
        (no broadcasting: a number is not an array of shape (1,)) and hold
        finite real numbers at most 1e150 in magnitude; float32, integer and
        bool arrays and lists are converted.  Every value is checked before
        any is written, so a refused call
        (:class:`~online_lstm.errors.InputError`) changes nothing.

        The states, activations and traces are kept: mid-sequence the new
        weights act from the next step on.  With ``update="sequence"`` the
        changes accumulated since the last reset are still applied, on top
        of the new weights, at the next :meth:`reset`.
        """
        lay = self.layout
        checked = checked_weights(lay.shapes, weights, named)
        for name, arr in checked.items():
            lay.weight_view(self._theta, name)[...] = arr
        self._mem[H_WMAX] = float(np.max(np.abs(self._theta), initial=0.0))

    def _region(self, name):
        meta = self.layout.meta
        if name == "record":
            start = meta["bank0"] + int(self._mem[M_BANK]) * meta["bank_size"]
            return self._mem[start:start + meta["bank_size"]]
        size = {"theta": self.layout.n_params, "dW": self.layout.n_params,
                "T": self.layout.n_traces,
                "slots": meta["n_slots"] * meta["slot_size"]}[name]
        return self._mem[meta[name]:meta[name] + size]

    def _record(self, name):
        meta = self.layout.meta
        start = (meta["bank0"] + int(self._mem[M_BANK]) * meta["bank_size"]
                 + meta["r_" + _RECORD_KEYS[name]])
        return self._mem[start:start + self.layout.record_fields()[name]]

    @property
    def state_(self) -> dict[str, Floats]:
        """Copies of the current state: cell states, last activations, traces.

        Keys: ``s_c`` (n_cells,), ``y_c`` (n_cells,), ``y_in`` (C,), ``y_out``
        (C,), ``y_k`` (K,) the last outputs, ``T_in`` (n_cells, I_g) and
        ``T_c`` (n_cells, I_c), in the paper's orientation (cell, source; the
        bias source last).  With forget gates also ``y_phi`` (C,) and
        ``T_phi`` (n_cells, I_g); with peepholes ``T_P_in`` and ``T_P_phi``
        (n_cells, S); see :meth:`Layout.option_trace_views`.
        """
        keys = ("s_c", "y_c", "y_in", "y_out", "y_k") + (("y_phi",) if self.layout.forget_gate else ())
        out = {k: self._record(k).copy() for k in keys}
        T = self._region("T")
        out["T_in"], out["T_c"] = self.layout.trace_views(T)
        out.update(self.layout.option_trace_views(T))
        return out

    @property
    def n_steps_(self) -> int:
        """Steps taken since construction."""
        return int(self._mem[M_STEP])

    @property
    def n_updates_(self) -> int:
        """Weight changes from errors so far (applied, or accumulated with
        ``update="sequence"``): one per step learned with a target, and one
        per :meth:`learn_last` or :meth:`learn_delayed` call that gave one, so
        a step whose targets arrive in parts counts once per part."""
        return int(self._mem[M_N_UPDATES])

    @property
    def n_resets_(self) -> int:
        """Sequence boundaries so far (:meth:`reset`, the ``resets`` of
        :meth:`learn_many`, and the resets of ``on_divergence="reset"``)."""
        return int(self._mem[M_N_RESETS])

    @property
    def seq_step_(self) -> int:
        """Steps since the last reset."""
        return int(self._mem[M_SEQ_STEP])

    @property
    def pending_(self) -> bool:
        """True if the last step can still be learned from with learn_last."""
        return bool(self._mem[M_PENDING])

    # ------------------------------------------------------------------
    # snapshot / restore (complete state, bit-exact)
    # ------------------------------------------------------------------
    def state_arrays(self) -> dict[str, np.ndarray]:
        """The complete learner state as named arrays (copies).

        Everything needed to continue bit-identically: the header (learning
        rate, bounds, layout table and counters), ``theta``, the accumulated
        update ``dW``, the traces ``T``, the committed step record and, with
        ``max_delay > 0``, the step snapshots ``slots``.  The Python-side divergence count ``n_divergences_`` is not among them
        (checkpoint files and pickling keep it): :meth:`load_state_arrays`
        leaves it as it is.
        """
        return {
            "header": self._mem[:HEADER_SIZE].copy(),
            "theta": self._region("theta").copy(),
            "dW": self._region("dW").copy(),
            "T": self._region("T").copy(),
            "record": self._region("record").copy(),
        } | ({"slots": canonical_slots(self.layout, self._region("slots"))}
             if self.layout.max_delay else {})

    def load_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Restore a state from :meth:`state_arrays` (same architecture).

        Everything is checked (:func:`check_state_arrays`) before anything is
        written; a bad or missing array raises
        :class:`~online_lstm.errors.InputError`.
        """
        vals = check_state_arrays(self.layout, int(self._mem[M_ACCUM]), arrays)
        self._mem[:HEADER_SIZE] = vals["header"]
        self._region("theta")[:] = vals["theta"]
        self._region("dW")[:] = vals["dW"]
        self._region("T")[:] = vals["T"]
        self._region("record")[:] = vals["record"]
        if self.layout.max_delay:
            self._region("slots")[:] = vals["slots"]

    def snapshot(self, into: Snapshot | None = None) -> Snapshot:
        """The complete state, in memory, for :meth:`restore_snapshot`.

        One copy of the learner's state buffer (``8 * layout.mem_size``
        bytes) plus the divergence record (``n_divergences_``,
        ``last_divergence_``) and the arguments that say how the weights
        began (``seed``, ``init_range`` and the gate biases, which a
        checkpoint's :meth:`restore` can change); see
        :mod:`online_lstm.snapshot`.

        Parameters
        ----------
        into : Snapshot, optional
            A snapshot taken earlier from a learner of this architecture and
            update mode, overwritten in place: nothing is allocated, so a
            real-time loop can take one every step.

        Returns
        -------
        Snapshot
            ``into`` if given, else a new snapshot.
        """
        if into is None:
            return Snapshot._new(self._mem.copy(), self._snap_key,
                                 [self.n_divergences_, self.last_divergence_, self._init_args])
        if type(into) is not Snapshot or into._key != self._snap_key:
            check_fits(into, self._snap_key, "snapshot(into=...)")
        np.copyto(into._mem, self._mem)
        extra = into._extra
        extra[0] = self.n_divergences_
        extra[1] = self.last_divergence_
        extra[2] = self._init_args  # (a tuple, replaced, never changed in place)
        return into

    def restore_snapshot(self, snap: Snapshot) -> None:
        """Go back to the state of :meth:`snapshot`, bit for bit.

        Weights, accumulated update, traces, states, activations, the
        pending and delayed steps, ``lr``, ``state_bound``, the counters,
        the divergence record and the initialisation arguments (``seed``,
        ``init_range``, the gate biases: what ``get_params``, ``clone`` and
        checkpoints describe the weights by) become what they were when
        ``snap`` was taken; the learner then continues exactly as it would
        have from there.  ``on_divergence`` is a setting, not state: it
        stays.  Nothing is allocated (but for the first restore of another
        learner's snapshot, which takes its initialisation arguments).
        ``snap`` must come from a learner of this architecture and update
        mode (this one or, say, a clone), else
        :class:`~online_lstm.errors.InputError` and nothing changes.  The
        snapshot is not used up: restore it as often as needed.
        """
        if type(snap) is not Snapshot or snap._key != self._snap_key:
            check_fits(snap, self._snap_key, "restore_snapshot")
        np.copyto(self._mem, snap._mem)
        n, last, init = snap._extra
        if n != self.n_divergences_ or last is not self.last_divergence_:
            set_ = object.__setattr__  # (not FixedAfterBuild's checks: 0.6 us each)
            set_(self, "n_divergences_", n)
            set_(self, "last_divergence_", last)
        if init is not self._init_args:  # another learner's, or from before a restore(path)
            self._adopt_params(dict(zip(_INIT_ARGS, init)))
            object.__setattr__(self, "_init_args", init)

    def _adopt_params(self, params: dict):
        super()._adopt_params(params)
        object.__setattr__(self, "_init_args", tuple(getattr(self, k) for k in _INIT_ARGS))

    def __getstate__(self):
        return {"params": self.get_params(), "state": self.state_arrays(),
                "extra": {"n_divergences": self.n_divergences_}}

    def __setstate__(self, d):
        params = dict(d["params"])
        params.setdefault("on_divergence", "raise")
        lr, bound = params.pop("lr"), params.pop("state_bound")
        for k, v in params.items():
            setattr(self, k, v)  # before _build: not yet fixed
        # the weights come from the state: a Generator seed (shared by copy.copy) is
        # not drawn from, which moved the caller's stream and what clone() builds
        self._build(lr, bound, rng=np.random.default_rng(0))
        self.load_state_arrays(d["state"])
        self.n_divergences_ = int(d.get("extra", {}).get("n_divergences", 0))

    # ------------------------------------------------------------------
    # checkpoint files (online_lstm.checkpoint)
    # ------------------------------------------------------------------
    def save(self, path: str | os.PathLike, *, compress: bool = False, fsync: bool = True) -> pathlib.Path:
        """Write the complete learner to one ``.npz`` checkpoint, atomically.

        The file holds the configuration, the weights, the states and
        previous activations, the traces, any accumulated update and the
        counters; :meth:`load` or :meth:`restore` continue bit-identically.
        The write goes to a temporary file that is renamed over ``path``, so
        a crash during a save leaves the previous checkpoint intact.

        Parameters
        ----------
        path : str or os.PathLike
            Used verbatim (no suffix is added).  A file there is replaced,
            keeping its permission bits; a symbolic link there is replaced
            by the new file (its target is left as it was), as the rename
            that makes the save atomic does.
        compress : bool
            Deflate the arrays.
        fsync : bool
            Force the file and directory to disk before returning.

        Returns
        -------
        pathlib.Path
        """
        return _ckpt.save_learner(self, path, compress=compress, fsync=fsync)

    @classmethod
    def load(cls, path: str | os.PathLike) -> OnlineLSTM:
        """A learner rebuilt from a checkpoint written by :meth:`save`.

        Raises :class:`~online_lstm.errors.CheckpointError` for a truncated
        or corrupted file or a format version this library does not read,
        ``FileNotFoundError`` if there is no file at ``path``.  Loading
        never executes code from the file.
        """
        return _ckpt.load_learner(path, cls)

    def restore(self, path: str | os.PathLike) -> None:
        """Load a checkpoint into this learner, which must have the same
        architecture (sizes, connectivity, gates, bias, g, h, update).

        Everything is checked first; on any error
        (:class:`~online_lstm.errors.CheckpointError`) nothing changes.  The
        learner then holds the checkpoint's state, learning rate, state bound
        and other parameters.
        """
        _ckpt.restore_learner(self, path)


def canonical_slots(lay: Layout, slots: np.ndarray) -> np.ndarray:
    """A copy of the snapshot ring ``slots`` with every closed slot (no output
    awaiting a target) zeroed.  A closed slot is never read, and whether a
    step left a snapshot there depends on how it was learned (``learn_one``
    with every target keeps none, ``predict_one`` then ``learn_last`` does),
    so stored states are the same bits either way."""
    m = lay.meta
    ring = np.array(slots, dtype=np.float64).reshape(m["n_slots"], m["slot_size"])
    closed = ~ring[:, m["sl_open"]:m["sl_open"] + lay.n_out].any(axis=1)
    ring[closed] = 0.0
    return ring.ravel()


def check_state_arrays(lay: Layout, accum: int, arrays: dict) -> dict:
    """Check a state (the dict of :meth:`OnlineLSTM.state_arrays`) for a
    learner with layout ``lay`` and accumulation mode ``accum`` (0: update
    "step", 1: "sequence"), so that the kernels can run on it safely.

    Returns the arrays as float64 ndarrays; raises
    :class:`~online_lstm.errors.InputError` saying what is wrong.  A learner
    bank can check each of its learners' states with it.
    """
    expect = {"header": HEADER_SIZE, "theta": lay.n_params, "dW": lay.n_params,
              "T": lay.n_traces, "record": lay.meta["bank_size"]}
    if lay.max_delay:
        expect["slots"] = lay.meta["n_slots"] * lay.meta["slot_size"]
    check_state_mapping(arrays)
    vals = {}
    for key, size in expect.items():
        if key not in arrays:
            raise InputError(f"state is missing {key!r}")
        a = native_float64(as_array(arrays[key], f"state[{key!r}]", f"({size},)"))
        if a.shape != (size,) or a.dtype != np.float64:
            raise InputError(f"state[{key!r}] must be float64 of shape ({size},); "
                             f"got {a.dtype} {a.shape}")
        vals[key] = a
    for key in ("theta", "dW", "T", "record", "slots"):
        if key in vals and not np.all(np.isfinite(vals[key])):
            raise InputError(f"state[{key!r}] holds non-finite values")
    header = vals["header"]
    for name, value in lay.meta.items():
        if name in ("accum",) or name in META_COUNTERS:
            continue
        if header[META[name]] != value:
            raise InputError(f"state is for a different architecture ({name}: "
                             f"{header[META[name]]} != {value})")
    if header[M_BANK] not in (0.0, 1.0) or header[M_PENDING] not in (0.0, 1.0):
        raise InputError("state header is corrupt (bank or pending flag)")
    if header[M_ACCUM] != accum:
        raise InputError(f"state has accumulation mode {header[M_ACCUM]} (0: update='step', "
                         f"1: update='sequence'); this learner has mode {accum}")
    for name in ("step", "seq_step", "n_resets", "n_updates"):
        c = header[META[name]]
        if not (0.0 <= c <= 2.0 ** 53 and c == math.floor(c)):
            raise InputError(f"state header is corrupt (counter {name} = {c})")
    if header[M_SEQ_STEP] > header[M_STEP]:  # both count every step; a reset zeroes seq_step
        raise InputError(f"state header is corrupt (seq_step {header[M_SEQ_STEP]} > step "
                         f"{header[M_STEP]})")
    if header[M_PENDING] == 1.0 and header[M_SEQ_STEP] == 0.0:  # a reset ends the pending step
        raise InputError("state header is corrupt (a pending step only after a step since the "
                         "reset: seq_step is 0)")
    lr, bound = header[H_LR], header[H_STATE_BOUND]
    if not (math.isfinite(lr) and lr >= 0.0) or not bound > 0.0:
        raise InputError(f"state header is corrupt (lr = {lr}, state_bound = {bound})")
    # The kernels' overflow guarantee (kernels._bounds) needs upper bounds on
    # max|T|, max|theta|, max|dW|.  Theirs can trail the truth by rounding (a
    # weight takes S sequential additions, its bound one summed increment),
    # harmless next to the margin between 1e150 and overflow; allow for it.
    for slot, key in ((H_TMAX, "T"), (H_WMAX, "theta"), (H_DWMAX, "dW")):
        true_max = float(np.max(np.abs(vals[key]), initial=0.0))
        if true_max > MAGNITUDE_LIMIT:  # a learner's step refuses to go there (kernels._bounds)
            raise InputError(f"state[{key!r}] has values beyond {MAGNITUDE_LIMIT:g} in magnitude")
        if not (math.isfinite(header[slot]) and header[slot] >= true_max * (1.0 - 1e-9)):
            raise InputError(f"state header is corrupt (the bound on max|{key}| is "
                             f"{header[slot]}, below the true {true_max})")
    if lay.max_delay:
        m = lay.meta
        ring = vals["slots"].reshape(m["n_slots"], m["slot_size"])
        if not np.all(np.isin(ring[:, m["sl_open"]:m["sl_open"] + lay.n_out], (0.0, 1.0))):
            raise InputError("state['slots'] is corrupt (open-target flags not 0 or 1)")
        is_open = ring[:, m["sl_open"]:m["sl_open"] + lay.n_out].any(axis=1)
        held = ring[:, m["sl_step"]]  # 1 + the step whose snapshot a slot holds, 0: none
        n_steps = header[META["step"]]
        slot_of = np.mod(held - 1, m["n_slots"])
        if not np.all((held == 0) | ((held >= 1) & (held <= n_steps) & (held == np.floor(held))
                                     & (slot_of == np.arange(m["n_slots"])))) \
                or not np.all(~is_open | ((held >= 1) & (held > n_steps - m["n_slots"]))):
            raise InputError("state['slots'] is corrupt (a snapshot's step does not fit its slot "
                             "or the step counter)")
        true_max = np.max(np.abs(ring[:, m["sl_T"]:m["sl_T"] + lay.n_traces]), axis=1, initial=0.0)
        if not np.all(ring[:, m["sl_tmax"]] >= true_max * (1.0 - 1e-9)):
            raise InputError("state['slots'] is corrupt (a snapshot's trace bound is below its "
                             "traces' true maximum)")
    return vals


_RECORD_KEYS = {"s_c": "s", "y_c": "yc", "y_in": "yin", "y_out": "yout", "y_k": "yk", "y_phi": "yphi"}
_learn_step = _k.learn_step
_predict_step = _k.predict_step
