"""``LearnerBank``: N independent 1997 LSTMs of one architecture, stepped together.

One stream per sensor, user or key, each with its own learner: the bank holds
N learners in one array (the learner axis leading) and steps all of them with
one compiled call that runs ``prange`` across the learners.  Learner ``l`` of
a bank gives the same bits as an :class:`~online_lstm.OnlineLSTM` built with
the same parameters and seed and fed the same data; the bank only removes the
N Python calls and lets the learners share the cores.
"""

from __future__ import annotations

import dataclasses

import os
import pathlib
from collections.abc import Iterable, Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _validate
from . import bank_kernels as _bk
from . import kernels as _k
from .errors import DivergenceError, InputError, NoPendingStepError
from .snapshot import Snapshot, bank_key, check_fits
from .layout import (
    H_LR, H_STATE_BOUND, H_WMAX, HEADER_SIZE, M_BANK, M_N_RESETS, M_N_UPDATES, M_PENDING, M_SEQ_STEP,
    M_STEP, _block_values,
)
from ._validate import (
    MISSING_INPUT_HINT, FixedAfterBuild, as_array, as_bool_mask, as_float_array, as_real,
    check_state_mapping, checked_out, int_or_none, named_values, nonfinite_entries, progress_bar,
)
from .learner import (
    _DIVERGENCE_REASONS, _RECORD_KEYS, BlockBias, Floats, OnlineLSTM, _reset_refused, canonical_slots,
)

#: Below this many weight-steps in one call the serial kernel is used even
#: when ``parallel="auto"``: waking a second thread costs a few microseconds.
AUTO_PARALLEL_WORK = 50_000

_EMPTY_RESETS = np.zeros((0, 0), dtype=np.bool_)
_EMPTY_MASK = np.zeros(0, dtype=np.bool_)


#: What cannot be assigned once a bank is built (FixedAfterBuild): every
#: constructor argument but lr, state_bound and parallel, and the layout.
_FIXED_PARAMS = frozenset({
    "n_learners", "n_in", "n_out", "n_blocks", "block_size", "output_gates", "connectivity", "bias",
    "g", "h", "init_range", "in_gate_bias", "out_gate_bias", "forget_gate", "peepholes",
    "forget_gate_bias", "update", "on_divergence", "max_delay", "seed", "layout"})


class BankDivergenceError(DivergenceError):
    """Some learners of a bank diverged; the others took their steps.

    Each learner named here was stopped at its failing step, which was not
    applied (it holds the state from before it, as a single learner does);
    every other learner ran the whole call.

    Attributes
    ----------
    learners : ndarray of int
        Indices of the learners that diverged.
    step : ndarray of int
        For each of them, the index of the refused step counted from its
        construction; for ``learn_last``/``learn_delayed``, the index of the
        step whose target was refused (as :class:`DivergenceError` gives it).
    row : ndarray of int
        For each of them, the row of ``X`` that failed (its index among the
        T rows of the ``learn_many``/``predict_many`` call, with or without a
        progress bar; 0 for
        ``learn_one``/``predict_one`` and for the calls that take no step:
        ``learn_last``, ``learn_delayed``, ``reset``).
    reasons : list of str
        For each of them, which check failed.
    out : ndarray or None
        The outputs of the call, of the shape it returns ((N, n_out) or
        (N, T, n_out)), NaN where a learner did not compute a step; None for
        ``learn_last``, ``learn_delayed`` and ``reset``.
    """

    def __init__(self, message, learners, step, row, reasons, out):
        super().__init__(message, step=step, row=row, reason="; ".join(sorted(set(reasons))))
        self.learners = learners
        self.reasons = reasons
        self.out = out

    def __reduce__(self):  # picklable, e.g. raised in a worker process
        return (type(self), (self.args[0], self.learners, self.step, self.row, self.reasons,
                             self.out), dict(self.__dict__))  # (as DivergenceError: notes too)


def _listed(indices, limit=10):
    """Learner indices for a message: the first ``limit``, then "..."."""
    return f"{indices[:limit].tolist()}{' ...' if len(indices) > limit else ''}"


def _bad_values(arr, bad):
    """The refused per-learner values ``arr[bad]``, for a message."""
    if np.array_equal(arr, np.full_like(arr, arr[0]), equal_nan=True):  # one value for all
        return f"got {float(arr[0])!r}"
    return ", ".join(f"learner {l} has {float(arr[l])!r}" for l in bad[:5]) + (" ..." if bad.size > 5 else "")


def _int_list(value):
    """A list or tuple of ints (Python's and NumPy's, no bools) as an int
    array built from Python ints: NumPy would make a float array of
    ``[np.int64(0), np.uint64(1)]``, which the callers refuse as not ints.
    Anything else is returned as it is."""
    if (isinstance(value, (list, tuple)) and value
            and all(isinstance(v, Integral) and not isinstance(v, (bool, np.bool_)) for v in value)):
        ints = [int(v) for v in value]
        return np.array(ints) if all(-2**63 <= v < 2**63 for v in ints) else value
    return value


def _aligned_zeros(n_rows, n_cols):
    """Zeroed float64 array of shape (n_rows, n_cols) starting on a 64-byte boundary."""
    buf = np.zeros(n_rows * n_cols + 8)
    start = (-buf.ctypes.data % 64) // 8
    return buf[start:start + n_rows * n_cols].reshape(n_rows, n_cols)


def _learner_seeds(seed, n):
    """One integer seed per learner: spawned from ``seed`` (int or None) or given."""
    what = f"seed must be None, an int >= 0, or {n} ints >= 0 (one per learner)"
    if isinstance(seed, (bool, np.bool_)):
        raise ValueError(f"{what}; got {seed!r}")
    if seed is None or isinstance(seed, Integral):
        if seed is not None and seed < 0:
            raise ValueError(f"{what}; got {seed!r}")
        return [int(s) for s in np.random.SeedSequence(seed).generate_state(n, dtype=np.uint64)]
    try:
        seeds = list(seed)
    except TypeError:  # a Generator, a SeedSequence, ...: no per-learner seeds to record
        raise ValueError(f"{what}; got {type(seed).__name__}") from None
    if len(seeds) != n or not all(isinstance(s, Integral) and not isinstance(s, (bool, np.bool_)) and s >= 0
                                  for s in seeds):
        raise ValueError(f"{what}; got {seed!r:.80}")
    return [int(s) for s in seeds]


def _bank_seed(seeds_):
    """The bank's ``seed`` parameter once its learners are given one by one
    (``from_learners``, ``set_learner``): their seeds, which rebuild every
    learner's initial weights in ``clone()``, or None if one has no int seed."""
    return None if any(s is None for s in seeds_) else list(seeds_)


def _shape(value):
    """``np.shape(value)``, or None for what NumPy cannot make an array of (a
    ragged list): the conversion that follows then names what was expected."""
    try:
        return np.shape(value)
    except (ValueError, TypeError):
        return None


def _per_learner(name, value, n):
    """A scalar or one value per learner, as float64[n]."""
    if isinstance(value, (bool, np.bool_)) or (
            isinstance(value, (list, tuple)) and any(isinstance(v, (bool, np.bool_)) for v in value)):
        # refused, as by OnlineLSTM
        raise ValueError(f"{name} must be a number or one number per learner; got {value!r}")
    if isinstance(value, Real):  # (as_real: an int too large for a float is a ValueError naming it)
        arr = np.full(n, as_real(value, name, "a number or one number per learner"))
    else:
        arr = as_array(value, name, f"() or ({n},)", keep_mask=True)
        if np.ma.is_masked(arr):  # np.asarray would read the data under the mask (np.ma.masked as 0.0)
            raise ValueError(f"{name} has masked (missing) entries; give a number for every learner")
        arr = np.ma.getdata(arr)
        if arr.dtype.kind not in "iuf":  # no strings ("0.5") and no bools, as OnlineLSTM refuses them
            raise ValueError(f"{name} must be a number or one number per learner; got dtype {arr.dtype}")
        arr = arr.astype(np.float64)
    if arr.shape == ():
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise ValueError(f"{name} must be a number or one number per learner, shape ({n},); got shape {arr.shape}")
    return arr


class LearnerBank(FixedAfterBuild):
    """N independent 1997 LSTMs of one architecture, stepped by one compiled call.

    Parameters
    ----------
    n_learners : int
        Number of learners N.
    n_in, n_out, n_blocks, block_size, output_gates, connectivity, bias, g, h,
    init_range, in_gate_bias, out_gate_bias, forget_gate, peepholes,
    forget_gate_bias, update
        The architecture and initialisation, shared by every learner; as in
        :class:`~online_lstm.OnlineLSTM`.
    on_divergence : {"raise"}
        Only "raise" (see the Notes): a diverging learner is stopped and named
        in :class:`BankDivergenceError`; the caller decides what to do with it.
        To go on as ``OnlineLSTM(..., on_divergence="reset")`` would (same
        bits), run each named learner's remaining rows alone and put it back::

            try:
                bank.learn_many(X, Y)
            except BankDivergenceError as e:
                for l, row in zip(e.learners, e.row):
                    m = bank.learner(l)          # holds the state before its failing step
                    m.reset()
                    m.on_divergence = "reset"
                    m.learn_many(X[l, row:], Y[l, row:])
                    m.on_divergence = "raise"    # set_learner takes "raise" learners only
                    bank.set_learner(l, m)

        (for ``learn_one``, ``row`` is 0: ``m.learn_one(X[l], Y[l])``).
    lr, state_bound : float or array of shape (N,)
        One value for all learners or one per learner.
    max_delay : int
        Targets may arrive up to this many steps late
        (:meth:`learn_delayed`); as in :class:`~online_lstm.OnlineLSTM`.
        0 (default): the bank's loop has no snapshot code at all.
    seed : None, int or sequence of N ints
        An int (or None, for fresh entropy) is spread into one integer seed per
        learner (``seeds_``); learner ``l`` then starts exactly as
        ``OnlineLSTM(..., seed=bank.seeds_[l])``.  A sequence gives the
        learners' seeds directly.
    parallel : {"auto", True, False}
        Run ``prange`` across the learners on Numba's threads
        (``numba.set_num_threads`` chooses how many).  "auto" does so when the
        call has enough work to pay for waking the threads.  The choice never
        changes the results.

    Notes
    -----
    Data has the learner axis leading: ``learn_one`` takes ``X`` of shape
    ``(N, n_in)`` and ``Y`` of shape ``(N, n_out)``; ``learn_many`` takes
    ``X`` of shape ``(N, T, n_in)`` and ``Y`` of shape ``(N, T, n_out)``.
    Each learner has its own targets (NaN = no target) and its own resets.

    Input is checked for every learner before any learner steps, and a refused
    call changes nothing.  A learner that diverges is stopped at the failing
    step (which it does not apply) while the others run on; the call then
    raises :class:`BankDivergenceError` naming the learners.

    The learners' ``mem`` arrays are the rows of one array, padded to whole
    cache lines.  The kernels release the GIL.  A bank is not meant to be
    stepped from two threads at once (nor is a single learner): its kernels
    write its memory without a lock, so two calls at once leave its state
    undefined, and a read while another thread steps it (``state_``,
    ``state_arrays``, ``weights``, ``save``, ``snapshot``) can mix two
    steps (``restore_snapshot`` writes the bank, as a step does).  Guard
    every call, reads included, with one lock of your own, or give each
    thread its own bank.

    Each kernel (serial or parallel, one per kind of call) is built, or
    loaded from Numba's cache, the first time a call needs it.  With
    ``parallel="auto"`` a call with less or more work than the ones before
    (fewer learners given targets in :meth:`learn_delayed`, a longer
    ``learn_many``) may be the first to need the other variant, and pays
    for that load (milliseconds from the cache, much longer if it must
    compile).  In a real-time loop choose ``parallel=True`` or ``False``:
    then the first call of the bank loads every kernel it will use.

    A parallel call waits for all of Numba's threads.  On a machine whose
    cores are busy with other processes a thread may wait a whole scheduler
    time slice (milliseconds) to run, so there ``parallel=False`` (or
    ``numba.set_num_threads(1)``) is the predictable choice.  Numba's
    ``workqueue`` threading layer cannot run parallel kernels from several
    Python threads at once; the ``omp`` and ``tbb`` layers can.

    **Process environment.**  The first time a bank needs its threaded
    kernel, it sets ``OMP_WAIT_POLICY=PASSIVE`` in ``os.environ`` unless the
    variable is already set: OpenMP threads then sleep at the end of a
    parallel call instead of spinning, which on shared cores stalled calls
    for 15-30 ms.  The setting holds for the whole process (other OpenMP
    code in it, and child processes, inherit it); set the variable yourself
    (e.g. ``ACTIVE``) before that first parallel call to choose otherwise.
    ``import online_lstm`` itself changes nothing.
    """

    # constructor arguments fixed once built (FixedAfterBuild): the kernels
    # step every row of the bank's memory, whatever n_learners says, and the
    # seeds and the architecture describe the learners it holds
    _fixed = _FIXED_PARAMS
    _built_attr = "_mems"
    _changeable = "lr, state_bound and parallel"
    _kind = "bank"

    def __setattr__(self, name, value):
        if name == "parallel" and not (value is True or value is False or value == "auto"
                                       and isinstance(value, str)):  # 1, np.True_: refused, not run serially
            raise ValueError(f"parallel must be 'auto', True or False; got {value!r}")
        super().__setattr__(name, value)

    def __init__(self, n_learners: int, n_in: int, n_out: int, n_blocks: int = 1,
                 block_size: int = 1, *, output_gates: bool = True, connectivity: str = "F",
                 bias: str = "gates", g: str = "g2", h: str = "h1", init_range: float = 0.1,
                 in_gate_bias: BlockBias = None, out_gate_bias: BlockBias = None,
                 forget_gate: bool = False, peepholes: bool = False,
                 forget_gate_bias: BlockBias = 1.0, lr: float | ArrayLike = 0.1,
                 update: str = "step", state_bound: float | ArrayLike = 1e6,
                 on_divergence: str = "raise", max_delay: int = 0,
                 seed: int | Sequence[int] | None = None, parallel: bool | str = "auto") -> None:
        if isinstance(n_learners, bool) or not isinstance(n_learners, Integral) or n_learners < 1:
            raise ValueError(f"n_learners must be a positive integer; got {n_learners!r}")
        if on_divergence != "raise":
            raise ValueError(f"a LearnerBank supports on_divergence='raise' only (got {on_divergence!r}): "
                             f"catch BankDivergenceError and reset or replace its .learners")
        N = self.n_learners = int(n_learners)
        self.parallel = parallel  # (checked by __setattr__)
        self.seeds_ = _learner_seeds(seed, N)
        # a sequence of seeds is kept as its ints, not as the object given: an
        # iterator is used up by now, a generator does not pickle, and an
        # array is not what a checkpoint's JSON stores (clone() must rebuild
        # the same learners after any of these)
        self.seed = seed if seed is None or isinstance(seed, Integral) else list(self.seeds_)
        lrs = _per_learner("lr", lr, N)
        bounds = _per_learner("state_bound", state_bound, N)
        # The prototype checks every argument, exactly as a single learner does.
        self._proto = OnlineLSTM(n_in, n_out, n_blocks, block_size, output_gates=output_gates,
                                 connectivity=connectivity, bias=bias, g=g, h=h,
                                 init_range=init_range, in_gate_bias=in_gate_bias,
                                 out_gate_bias=out_gate_bias, forget_gate=forget_gate,
                                 peepholes=peepholes, forget_gate_bias=forget_gate_bias,
                                 lr=float(lrs[0]), update=update,
                                 state_bound=float(bounds[0]), on_divergence=on_divergence,
                                 max_delay=max_delay, seed=self.seeds_[0])
        self.layout = lay = self._proto.layout
        self._snap_key = bank_key(N, self._proto._snap_key)  # (online_lstm.snapshot)
        self._stride = (lay.mem_size + 7) // 8 * 8
        self._mems = _aligned_zeros(N, self._stride)
        self._mems[:, :lay.mem_size] = self._proto._mem
        theta = self._theta2d()
        for i in range(1, N):  # learner 0 is the prototype itself
            rng = np.random.default_rng(self.seeds_[i])
            theta[i] = lay.init_theta(rng, float(init_range), in_gate_bias, out_gate_bias,
                                      forget_gate_bias if lay.forget_gate else None)
        self._mems[:, H_WMAX] = np.max(np.abs(theta), axis=1, initial=0.0)
        self.lr = lrs
        self.state_bound = bounds
        self._status = np.zeros(N, dtype=np.int64)
        self._rows = np.zeros(N, dtype=np.int64)
        self._nan_y = np.full((N, lay.n_out), np.nan)

    # ------------------------------------------------------------------
    # construction helpers
    # ------------------------------------------------------------------
    @classmethod
    def from_learners(cls, learners: Iterable[OnlineLSTM], *, parallel: bool | str = "auto") -> LearnerBank:
        """A bank holding copies of the given learners (same architecture,
        update mode and initialisation arguments: ``init_range`` and the gate
        biases), in their current state.  ``parallel`` as in the constructor."""
        learners = list(learners)
        if not learners:
            raise ValueError("from_learners needs a non-empty sequence of OnlineLSTM; got none")
        other = [i for i, m in enumerate(learners) if not isinstance(m, OnlineLSTM)]
        if other:
            raise ValueError(f"from_learners needs a non-empty sequence of OnlineLSTM; learners[{other[0]}] "
                             f"is {type(learners[other[0]]).__name__}")
        bad = [i for i, m in enumerate(learners) if m.on_divergence != "raise"]
        if bad:  # (checked for every learner, not only the first, which builds the bank)
            raise ValueError(f"a LearnerBank supports on_divergence='raise' only; learners {bad} "
                             f"have 'reset'")
        p = learners[0].get_params()
        bank = cls(len(learners), **{k: v for k, v in p.items() if k not in ("seed", "lr", "state_bound")},
                   seed=[int_or_none(m.seed) or 0 for m in learners], parallel=parallel)
        for i, m in enumerate(learners):  # every learner checked before any is copied
            problem = bank._misfit(m, f"learners[{i}]", "learners[0]'s")
            if problem:
                raise InputError(f"from_learners needs learners of one architecture, update mode and "
                                 f"initialisation (those of learners[0]); {problem}")
        for i, m in enumerate(learners):
            bank.set_learner(i, m)
        return bank

    def _learner_params(self, i):
        p = self._proto.get_params()
        p.update(seed=self.seeds_[i], lr=float(self._mems[i, H_LR]),
                 state_bound=float(self._mems[i, H_STATE_BOUND]))
        return p

    def learner(self, i: int) -> OnlineLSTM:
        """A standalone copy of learner ``i`` in its current state."""
        i = self._index(i)
        m = OnlineLSTM(**self._learner_params(i))
        m._mem[:] = self._mems[i, :self.layout.mem_size]
        return m

    def set_learner(self, i: int, learner: OnlineLSTM) -> None:
        """Replace learner ``i`` by a copy of ``learner`` (same architecture,
        update mode and initialisation arguments, which the bank holds once for
        all its learners: ``get_params``, ``learner(i)``, ``clone`` and
        checkpoints describe every learner by them)."""
        i = self._index(i)
        if not isinstance(learner, OnlineLSTM):
            raise InputError(f"set_learner needs an OnlineLSTM; got {type(learner).__name__}")
        if learner.layout != self.layout:
            raise InputError(f"set_learner needs an OnlineLSTM of this bank's architecture; "
                             f"{self._misfit(learner)}")
        if learner.update != self._proto.update:
            raise InputError(f"set_learner needs an OnlineLSTM of this bank's update mode; "
                             f"{self._misfit(learner)}")
        if learner.on_divergence != "raise":  # as from_learners: the bank would drop the policy
            raise InputError(f"a LearnerBank supports on_divergence='raise' only; the learner has "
                             f"{learner.on_divergence!r}")
        problem = self._misfit(learner)
        if problem:  # get_params(), learner(i), clone() and checkpoints could not say how it began
            raise InputError(f"set_learner needs an OnlineLSTM initialised with this bank's arguments; "
                             f"{problem}")
        self._mems[i, :self.layout.mem_size] = learner._mem
        seed = int_or_none(learner.seed)
        if seed != self.seeds_[i]:  # another learner's initial weights: clone() must follow
            self.seeds_[i] = seed
            self._adopt_params({"seed": _bank_seed(self.seeds_)})

    def _misfit(self, learner, who="the learner", ours="the bank's"):
        """What makes ``learner`` unfit for this bank (architecture, update
        mode, initialisation arguments), e.g. "the learner has n_blocks=3
        (the bank's: 2)"; "" if it fits."""
        if learner.layout != self.layout:
            a, b = self.layout, learner.layout
            diff = [f"{f.name}={getattr(b, f.name)!r} ({ours}: {getattr(a, f.name)!r})"
                    for f in dataclasses.fields(a) if f.init and getattr(b, f.name) != getattr(a, f.name)]
        elif learner.update != self._proto.update:
            diff = [f"update={learner.update!r} ({ours}: {self._proto.update!r})"]
        else:
            diff = [d.replace("(the bank's:", f"({ours}:") for d in self._init_diff(learner)]
        return f"{who} has {', '.join(diff)}" if diff else ""

    def _init_diff(self, learner):
        """The initialisation arguments (``init_range`` and the gate biases)
        in which ``learner`` differs from the bank, each given as in its
        normal form (one float per block), so that ``-1`` and ``[-1.0, -1.0]``
        are the same argument."""
        ours, theirs = self._proto.get_params(), learner.get_params()
        names = ("init_range", "in_gate_bias", "out_gate_bias") + (
            ("forget_gate_bias",) if self.layout.forget_gate else ())
        diff = []
        for name in names:
            a, b = ours[name], theirs[name]
            if name == "init_range":
                same = float(a) == float(b)
            else:
                n = self.layout.n_blocks
                same = _block_values(name, a, n) == _block_values(name, b, n)
            if not same:
                diff.append(f"{name}={b!r} (the bank's: {a!r})")
        return diff

    def get_params(self) -> dict[str, object]:
        """Constructor arguments (River/scikit-learn convention)."""
        p = self._proto.get_params()
        lr, bound = self.lr, self.state_bound
        p.update(lr=float(lr[0]) if np.all(lr == lr[0]) else lr,
                 state_bound=float(bound[0]) if np.all(bound == bound[0]) else bound,
                 seed=list(self.seed) if isinstance(self.seed, list) else self.seed,  # (a copy: see below)
                 parallel=self.parallel)
        # the list of seeds is copied: a caller editing the returned dict
        # would otherwise change the bank's seed, so that clone() built other
        # learners and a saved checkpoint no longer loaded (its bank_seed no
        # longer the learners' seeds)
        return {"n_learners": self.n_learners, **p}

    def clone(self, **changes) -> LearnerBank:
        """A fresh, untrained bank with the same (or changed) parameters.

        With another ``n_learners``, per-learner values of ``seed``, ``lr``
        or ``state_bound`` (one per learner of this bank) must be given
        anew, for the new number of learners."""
        params = self.get_params()
        n = changes.get("n_learners", self.n_learners)
        if n != self.n_learners:
            kept = [k for k in ("seed", "lr", "state_bound") if k not in changes
                    and isinstance(params.get(k), (list, tuple, np.ndarray))
                    and np.ndim(params[k]) == 1 and len(params[k]) == self.n_learners]
            if kept:
                raise ValueError(f"clone(n_learners={n!r}) of a bank of {self.n_learners} learners "
                                 f"with one {' / '.join(kept)} per learner: pass "
                                 f"{', '.join(k + '=...' for k in kept)} too (one value, or one "
                                 f"per new learner)")
        params.update(changes)
        return type(self)(**params)

    def __len__(self):
        return self.n_learners

    def __repr__(self):
        lay = self.layout
        return (f"LearnerBank(n_learners={self.n_learners}, n_in={lay.n_in}, n_out={lay.n_out}, "
                f"n_blocks={lay.n_blocks}, block_size={lay.block_size}, "
                f"connectivity={lay.connectivity!r}, bias={lay.bias!r}, "
                + ("forget_gate=True, " if lay.forget_gate else "")
                + ("peepholes=True, " if lay.peepholes else "")
                + (f"max_delay={lay.max_delay}, " if lay.max_delay else "")
                + f"n_params={lay.n_params})")

    def _index(self, i):
        if isinstance(i, bool) or not isinstance(i, Integral) or not -self.n_learners <= i < self.n_learners:
            raise IndexError(f"learner index must be an int in [0, {self.n_learners}) (or from "
                             f"-{self.n_learners}, counting from the end); got {i!r}")
        return int(i) % self.n_learners

    # ------------------------------------------------------------------
    # per-learner hyper-parameters (they live in each learner's header)
    # ------------------------------------------------------------------
    @property
    def n_params(self) -> int:
        """Number of weights of each learner (``layout.n_params``)."""
        return self.layout.n_params

    @property
    def lr(self) -> np.ndarray:
        """Learning rate of each learner, shape (N,) (a copy; set with ``bank.lr = ...``)."""
        return self._mems[:, H_LR].copy()

    @lr.setter
    def lr(self, value):
        arr = _per_learner("lr", value, self.n_learners)
        bad = np.flatnonzero(~(np.isfinite(arr) & (arr >= 0)))
        if bad.size:
            raise ValueError(f"lr must be a finite number >= 0 for every learner; {_bad_values(arr, bad)}")
        self._mems[:, H_LR] = arr

    @property
    def state_bound(self) -> np.ndarray:
        """State bound of each learner, shape (N,)."""
        return self._mems[:, H_STATE_BOUND].copy()

    @state_bound.setter
    def state_bound(self, value):
        arr = _per_learner("state_bound", value, self.n_learners)
        bad = np.flatnonzero(~(arr > 0))  # NaN fails this too
        if bad.size:
            raise ValueError(f"state_bound must be > 0 (math.inf allowed) for every learner; "
                             f"{_bad_values(arr, bad)}")
        self._mems[:, H_STATE_BOUND] = arr

    # ------------------------------------------------------------------
    # input handling
    # ------------------------------------------------------------------
    def _data(self, value, name, T, width):
        """float64 C-contiguous (N, T, width) view of X or Y; T None means one step."""
        N = self.n_learners
        if (T is None and type(value) is np.ndarray and value.dtype == np.float64
                and value.shape == (N, width) and value.flags.c_contiguous
                and value.flags.writeable):
            return value.reshape(N, 1, width)  # the fast path of a streaming loop
        if T is None:
            if width == 1 and _shape(value) == (N,):
                value = as_array(value, name, f"({N},)", keep_mask=True).reshape(N, 1)  # (a mask kept)
            arr = as_float_array(value, name, 2, f"({N}, {width})")
            ok = arr.shape == (N, width)
        else:
            if width == 1 and len(_shape(value) or ()) == 2:
                value = as_array(value, name, f"({N}, T)", keep_mask=True)[..., None]
            arr = as_float_array(value, name, 3, f"({N}, T, {width})")
            ok = arr.shape[0] == N and arr.shape[2] == width
        if not ok:
            want = f"({N}, {width})" if T is None else f"({N}, T, {width})"
            raise InputError(f"{name} must have shape {want}, the learner axis first; got {arr.shape}")
        return arr.reshape(N, -1, width)

    def _resets(self, resets, T):
        N = self.n_learners
        if resets is None:
            return _EMPTY_RESETS
        want = (N,) if T is None else (N, T)
        what = "one entry per learner" + ("" if T is None else " and step")
        return as_bool_mask(resets, "resets", want, what).reshape(N, -1)

    def _out(self, out, T):
        N, K = self.n_learners, self.layout.n_out
        shape = (N, K) if T is None else (N, T, K)
        if out is None:
            return np.empty(shape)
        return checked_out(out, shape)

    def _kernels(self, work):
        """(run, learn_last, reset, learn_delayed), parallel or serial by the
        work of the call; ``run`` keeps step snapshots if the bank has a
        window for delayed targets."""
        w = self.layout.max_delay > 0
        if self.parallel is True or (self.parallel == "auto" and self.n_learners > 1
                                     and work >= AUTO_PARALLEL_WORK):
            return (_bk.run_w if w else _bk.run), _bk.learn_last, _bk.reset, _bk.learn_delayed
        return ((_bk.run_w_serial if w else _bk.run_serial), _bk.learn_last_serial,
                _bk.reset_serial, _bk.learn_delayed_serial)

    # ------------------------------------------------------------------
    # stepping
    # ------------------------------------------------------------------
    def _step(self, X, Y, resets, out, learn, T, progress=False):
        n_in, K = self.layout.n_in, self.layout.n_out
        X3 = self._data(X, "X", T, n_in)
        steps = X3.shape[1]
        if not learn:
            Y3 = X3
        elif Y is None and T is None:
            Y3 = self._nan_y.reshape(self.n_learners, 1, K)
        elif Y is None:
            raise InputError(f"Y must be an array of shape ({self.n_learners}, T, {K}); "
                             f"use NaN for steps without a target")
        else:
            Y3 = self._data(Y, "Y", None if T is None else steps, K)
            if Y3.shape[1] != steps:
                raise InputError(f"Y must have shape ({self.n_learners}, {steps}, {K}) like X; "
                                 f"got {np.shape(Y)}")
        r = self._resets(resets, None if T is None else steps)
        o = self._out(out, None if T is None else steps)
        o3 = o.reshape(self.n_learners, steps, K)
        # (only with resets: which reset was made, should one be refused)
        n_resets = None if resets is None else self._mems[:, M_N_RESETS].copy()
        if progress is not False:  # learn_many / predict_many with progress=...
            bar, own_bar = progress_bar(progress, steps, "step", unit_scale=steps >= 10_000)
            if bar is not None:
                try:
                    done = self._run_chunks(X3, Y3, r, o, o3, learn, resets, n_resets, bar)
                finally:
                    if own_bar:
                        bar.close()
                if done:
                    return o
                # a bad row somewhere: the one call below refuses it and changes nothing
        run = self._kernels(self.n_learners * steps * self.layout.n_params)[0]
        code = run(self._mems, X3, Y3, r, o3, self._status, self._rows, learn)
        if code == 1:  # (X of shape (N,) or (N, T) for one input: its entries have no input index)
            self._raise_input(T, X3, np.ndim(X) < (2 if T is None else 3))
        if code == 2:
            self._raise_divergence(o, T, resets=None if resets is None else (r, n_resets), steps=True)
        return o

    def _run_chunks(self, X3, Y3, r, o, o3, learn, resets, n_resets, bar):
        """The rows of ``learn_many``/``predict_many`` in compiled calls of
        ``max(1, _validate.CHUNK // N)`` rows (about CHUNK learner-steps),
        with ``bar.update`` after each: the same steps, so the same bits, as
        one call over all rows.

        As in one call, every row of every learner is checked before the
        first step: if one is bad, nothing is run and False is returned (the
        caller's one call over all rows refuses it).  A learner that diverges
        in a chunk is left out of the later chunks (its rows there are NaN),
        and the others run on; at the end the BankDivergenceError of one call
        is raised, from the learners' absolute status and rows.  Returns True
        when every learner ran every row.
        """
        N, T = X3.shape[0], X3.shape[1]
        K = o3.shape[2]
        rows = max(1, _validate.CHUNK // N)  # (read per call: tests make it small)
        if _validate.some_row_refused(X3, Y3, learn, rows, axis=1):
            return False
        status = np.zeros(N, dtype=np.int64)   # each learner's status over the whole call
        stop = np.full(N, T, dtype=np.int64)  # and the (absolute) row it stopped at
        alive = np.arange(N)
        for a in range(0, T, rows):
            b = min(a + rows, T)
            k = alive.size
            sel = slice(None) if k == N else alive
            mems = self._mems if k == N else np.ascontiguousarray(self._mems[alive])
            xc = np.ascontiguousarray(X3[sel, a:b])
            yc = np.ascontiguousarray(Y3[sel, a:b]) if learn else xc
            rc = np.ascontiguousarray(r[sel, a:b]) if r.shape[0] else r
            oc = np.empty((k, b - a, K))
            st, rw = np.zeros(k, dtype=np.int64), np.zeros(k, dtype=np.int64)
            run = self._kernels(k * (b - a) * self.layout.n_params)[0]
            code = run(mems, xc, yc, rc, oc, st, rw, learn)
            if k != N:
                self._mems[alive] = mems
            o3[sel, a:b] = oc
            if code == 1:  # pragma: no cover (every row was checked above)
                raise RuntimeError("bank kernel refused a row that had been checked")
            if code == 2:
                bad = st != _k.OK
                gone = alive[bad]
                status[gone], stop[gone] = st[bad], a + rw[bad]
                o3[gone, b:] = np.nan  # the rows they do not compute
                alive = alive[~bad]
            bar.update(b - a)
            if not alive.size:
                break
        self._status[:], self._rows[:] = status, stop
        if alive.size < N:
            self._raise_divergence(o, 0, resets=None if resets is None else (r, n_resets), steps=True)
        return True

    def _raise_input(self, T, X3, squeezed=False):
        l = int(np.flatnonzero(self._status)[0])
        st, row = int(self._status[l]), int(self._rows[l])
        where = f"[{l}]" if T is None else f"[{l}, {row}]"
        if st == _k.BAD_X_VALUE:
            # X[l, row, i] (X[l, i] for one step; without i for X given without its input axis)
            entry = "X[" + where[1:-1] + ("]" if squeezed else ", {}]")
            raise InputError(f"X{where} must be finite: NaN or inf in the input of learner {l} "
                             f"({nonfinite_entries(X3[l, row], entry)}). No learner was "
                             f"changed; {MISSING_INPUT_HINT}")
        raise InputError(f"Y{where} must be finite or NaN (NaN = no target): inf in the target "
                         f"of learner {l}. No learner was changed.")

    def _check_status(self, ages=None):
        """Raise if a learner failed in the last learn_last, learn_delayed
        (``ages``: the age of the step each learner learned from) or reset call."""
        if np.any((self._status != _k.OK) & (self._status != _bk.SKIPPED)):
            self._raise_divergence(None, None, ages=ages)

    def _raise_divergence(self, out, T, status=None, ages=None, resets=None, steps=False):
        """Raise the BankDivergenceError of the learners whose status is bad:
        after a call that takes steps (``steps``; ``T`` None for learn_one
        and predict_one), a learn_last/learn_delayed (``ages``), or a reset."""
        status = self._status if status is None else status
        bad = np.flatnonzero((status != _k.OK) & (status != _bk.SKIPPED))
        reasons = [_DIVERGENCE_REASONS.get(int(status[l]), f"status {int(status[l])}") for l in bad]
        if resets is not None:  # a learner whose reset before its failing row was refused
            r, before = resets      # (applying update="sequence"'s accumulated change), not its step
            for i, l in enumerate(bad):
                row = int(self._rows[l]) if T is not None else 0
                if _reset_refused(self._mems[l], r[l], row, before[l]):
                    reasons[i] = (f"reset refused (applying the weight changes accumulated over the "
                                  f"sequence, update='sequence'): {reasons[i]}")
        step = self._mems[bad, M_STEP].astype(np.int64)  # the step a learner was about to take
        if ages is not None:  # learn_last / learn_delayed: the step learned from, as OnlineLSTM says
            step = step - 1 - ages[bad]
        rows = self._rows[bad].copy() if T is not None else np.zeros(len(bad), dtype=np.int64)
        shown = ", ".join(f"learner {l} ({r})" for l, r in zip(bad[:5], reasons[:5]))
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        # learn_last / learn_delayed skip the learners without a target, and
        # reset(learners=...) those not selected: "all others" did not act then
        skipped = np.flatnonzero(status == _bk.SKIPPED)
        if steps:  # learn_one / learn_many / predict_*
            what = "hold the state from before their failing step; all others took their steps"
            if any(x.startswith("reset refused") for x in reasons):
                what = what.replace("step;", "step (a refused reset before it was not made either);")
        elif ages is not None:  # learn_last / learn_delayed
            what = ("refused their late update and hold the state from before it; all others "
                    + (f"given a target learned; learners {_listed(skipped)}, without one (all NaN), "
                       f"were left alone" if skipped.size else "learned"))
        else:  # reset: the accumulated updates applied at the boundary
            what = ("refused the reset and hold the state from before it; all others "
                    + (f"selected were reset; learners {_listed(skipped)}, not selected, were left "
                       f"alone" if skipped.size else "were reset"))
        raise BankDivergenceError(
            f"divergence in {len(bad)} of {self.n_learners} learners: {shown}{more}. Those learners "
            f"{what}.", learners=bad, step=step, row=rows, reasons=reasons, out=out)

    def learn_one(self, X: ArrayLike, Y: ArrayLike | None = None, resets: ArrayLike | None = None, *,
                  out: Floats | None = None) -> Floats:
        """One step of every learner, learning from its target.

        Parameters
        ----------
        X : array of shape (N, n_in) (or (N,) when n_in == 1)
            ``X[l]`` is the input of learner ``l``.
        Y : array of shape (N, n_out) (or (N,) when n_out == 1), optional
            Targets; NaN entries (or ``Y=None``) mean no target.
        resets : bool array of shape (N,), optional
            Learner ``l`` starts a new sequence (is reset) before this step
            where ``resets[l]``.
        out : float64 array of shape (N, n_out), optional
            Write the outputs here instead of a new array.

        Returns
        -------
        ndarray of shape (N, n_out)
            Each learner's outputs for this step, before its weight change.
        """
        return self._step(X, Y, resets, out, True, None)

    def predict_one(self, X: ArrayLike, resets: ArrayLike | None = None, *,
                    out: Floats | None = None) -> Floats:
        """One step of every learner without learning (states and traces
        advance; learn from it later with :meth:`learn_last`).

        Parameters
        ----------
        X : array of shape (N, n_in) (or (N,) when n_in == 1)
        resets : bool array of shape (N,), optional
            True for the learners that start a new sequence with this step.
        out : float64 array of shape (N, n_out), optional
            Receives the outputs instead of a new array.

        Returns
        -------
        ndarray of shape (N, n_out)
        """
        return self._step(X, None, resets, out, False, None)

    def learn_many(self, X: ArrayLike, Y: ArrayLike, resets: ArrayLike | None = None, *,
                   out: Floats | None = None, progress: bool | Any = False) -> Floats:
        """T steps of every learner in one compiled call.

        Each learner runs its T steps one after another, exactly as its own
        ``OnlineLSTM.learn_many`` would.

        Parameters
        ----------
        X : array of shape (N, T, n_in) (or (N, T) when n_in == 1)
        Y : array of shape (N, T, n_out) (or (N, T) when n_out == 1)
            NaN where there is no target.
        resets : bool array of shape (N, T), optional
            ``resets[l, t]``: learner ``l`` is reset before its step t.
        out : float64 array of shape (N, T, n_out), optional
        progress : bool or tqdm bar
            True shows a tqdm bar of the T steps (a bar given, anything with
            ``update(n)``, is updated and left open); it counts rows, each
            one step of every learner.  The rows then run in compiled calls
            of ``65,536 // N`` rows (at least one: about 65,536 learner-steps
            each), with the same results to the bit, errors included; Ctrl-C
            stops the run between two of them, and every learner holds the
            state after the last whole call (``n_steps_`` says how far it
            got).  After a call in which some learners diverged, the later
            calls run the others only (the bar stops short of T only if
            every learner diverged).  Without a bar the T rows run in one
            call, which Ctrl-C cannot stop.

        Returns
        -------
        ndarray of shape (N, T, n_out)
        """
        return self._step(X, Y, resets, out, True, 0, progress)

    def predict_many(self, X: ArrayLike, resets: ArrayLike | None = None, *,
                     out: Floats | None = None, progress: bool | Any = False) -> Floats:
        """T steps of every learner without learning (as :meth:`learn_many`
        without targets).

        Parameters
        ----------
        X : array of shape (N, T, n_in) (or (N, T) when n_in == 1)
        resets : bool array of shape (N, T), optional
            ``resets[l, t]``: learner ``l`` starts a new sequence at step ``t``.
        out : float64 array of shape (N, T, n_out), optional
        progress : bool or tqdm bar
            As for :meth:`learn_many`.

        Returns
        -------
        ndarray of shape (N, T, n_out)
        """
        return self._step(X, None, resets, out, False, 0, progress)

    def learn_last(self, Y: ArrayLike) -> None:
        """Learn from the targets of the last step, taken without them.

        ``Y`` has shape (N, n_out) (or (N,) when n_out == 1).  Learners whose row is all NaN are left
        alone (their step stays pending); every other learner must have a
        pending step (see :meth:`OnlineLSTM.learn_last`), or nothing is done
        and :class:`NoPendingStepError` is raised.
        """
        Y2, wants = self._target_rows(Y)
        missing = np.flatnonzero(wants & (self._mems[:, M_PENDING] != 1.0))
        if missing.size:
            raise NoPendingStepError(
                f"learners {missing[:10].tolist()}{' ...' if missing.size > 10 else ''} have a target "
                f"but no step waiting for one (take it with predict_one or learn_one(Y=None)). "
                f"No learner was changed.")
        if self.layout.max_delay:  # keep the snapshots' flags in step: learn through them
            self._learn_delayed(Y2, wants, np.zeros(self.n_learners, dtype=np.int64))
            return
        last = self._kernels(self.n_learners * self.layout.n_params)[1]
        last(self._mems, Y2, self._status)
        self._check_status(ages=np.zeros(self.n_learners, dtype=np.int64))

    def learn_delayed(self, Y: ArrayLike, age: int | ArrayLike) -> None:
        """Learn from the targets of steps taken ``age`` steps before the last.

        The bank form of :meth:`OnlineLSTM.learn_delayed` (needs
        ``max_delay > 0``).  ``Y`` has shape (N, n_out) (or (N,) when
        n_out == 1); learners whose row
        is all NaN are left alone.  ``age`` is one int for all learners or
        one per learner, shape (N,); 0 is each learner's last step.  Every
        learner with a target must keep a snapshot of a step that old
        (``age <= min(max_delay, n_steps_ - 1)``) whose outputs given here
        still await their targets, or nothing is done and
        :class:`~online_lstm.errors.InputError` (bad age or target) or
        :class:`NoPendingStepError` (a second target) is raised.
        """
        Y2, wants = self._target_rows(Y)
        ages = self._ages(age, wants, "learn_delayed")
        given = ~np.isnan(Y2) & ~self._open_flags(ages)
        clash = np.flatnonzero(wants & given.any(axis=1))
        if clash.size:
            raise NoPendingStepError(
                f"learn_delayed: learners {clash[:10].tolist()}{' ...' if clash.size > 10 else ''} "
                f"are given a target for an output that already had one at that step (or has been "
                f"given one since); pass NaN for it. No learner was changed.")
        self._learn_delayed(Y2, wants, ages)

    def _target_rows(self, Y):
        """One target row per learner, checked (no inf), and which rows hold
        a target (not all NaN)."""
        Y2 = self._data(Y, "Y", None, self.layout.n_out)[:, 0, :]
        if np.any(np.isinf(Y2)):
            l = int(np.flatnonzero(np.isinf(Y2).any(axis=1))[0])
            raise InputError(f"Y[{l}] must be finite or NaN (NaN = no target): inf in the target "
                             f"of learner {l}. No learner was changed.")
        return Y2, ~np.all(np.isnan(Y2), axis=1)

    def _learn_delayed(self, Y2, wants, ages):
        run = self._kernels(int(wants.sum()) * self.layout.n_params)[3]
        run(self._mems, np.ascontiguousarray(Y2), ages, self._status)
        self._check_status(ages=ages)

    def _ages(self, age, wants, what):
        """``age`` as int64[N], checked for the learners in ``wants``."""
        lay, N = self.layout, self.n_learners
        a = as_array(_int_list(age), "age", f"an int or ({N},)")
        if isinstance(age, (list, tuple)) and any(isinstance(v, (bool, np.bool_)) for v in age):
            a = a.astype(np.bool_)  # [0, True, 1] reads as the ints [0, 1, 1]: refused as a bool is
        if a.dtype == np.bool_ or a.dtype.kind not in "iu" or a.shape not in ((), (N,)) \
                or a.dtype.kind == "u" and np.any(a >= 2**63):  # (int64 would wrap them around)
            raise InputError(f"{what}: age must be an int or {N} ints (one per learner; no bools), "
                             f"each below 2**63; got {age!r:.60}")
        ages = np.array(np.broadcast_to(a, (N,)), dtype=np.int64)  # a writeable copy
        if lay.max_delay == 0:
            raise InputError(f"{what}: this bank keeps no snapshots (max_delay=0; use learn_last, "
                             f"or build it with max_delay > 0)")
        oldest = np.minimum(lay.max_delay, self._mems[:, M_STEP].astype(np.int64) - 1)
        bad = np.flatnonzero(wants & ((ages < 0) | (ages > oldest)))
        if bad.size:
            l = int(bad[0])
            why = ("it has taken no step yet" if oldest[l] < 0 else
                   f"ages go from 0 (the last step) to {int(oldest[l])} (max_delay={lay.max_delay}, "
                   f"{int(self._mems[l, M_STEP])} steps taken)")
            raise InputError(f"{what}: learner {l} has no step of age {int(ages[l])}: {why}."
                             + (" No learner was changed." if what != "open_targets" else ""))
        return ages

    def _open_flags(self, ages):
        """(N, n_out) flags of the outputs still awaiting a target at the
        step of each learner's age (ages assumed valid where they matter)."""
        lay = self.layout
        t = self._mems[:, M_STEP].astype(np.int64) - 1 - ages
        start = lay.slot_offset(t) + lay.meta["sl_open"]
        return np.take_along_axis(self._mems, start[:, None] + np.arange(lay.n_out), axis=1) != 0.0

    def open_targets(self, age: int | ArrayLike) -> np.ndarray:
        """Which outputs of each learner's step of this ``age`` (an int, or
        one per learner, as in :meth:`learn_delayed`) can still take a target
        with :meth:`learn_delayed`: bool array (N, n_out)."""
        ages = self._ages(age, np.ones(self.n_learners, dtype=bool), "open_targets")
        return self._open_flags(ages)

    def reset(self, learners: ArrayLike | None = None) -> None:
        """Sequence boundary for every learner, or for those selected.

        Parameters
        ----------
        learners : None, bool mask of shape (N,), sequence of indices or one index
            Integers are indices (negative ones count from the end, as in a
            list; a repeated index resets its learner once): ``[1, 0, 1]``
            resets learners 0 and 1.  For a mask, pass bools (``resets=`` of
            the stepping methods is always a mask, read as bools); a list
            mixing bools and ints is refused.

        With ``update="sequence"`` a reset applies the weight changes
        accumulated over the sequence; a learner for which that would diverge
        refuses its reset (and keeps its state), the other selected learners
        are reset, and :class:`BankDivergenceError` names the refusers.
        """
        N = self.n_learners
        if learners is None:
            mask = _EMPTY_MASK
        else:
            if isinstance(learners, (list, tuple)) and 0 < sum(
                    isinstance(v, (bool, np.bool_)) for v in learners) < len(learners):
                # NumPy reads [True, 0, 1] as the indices [1, 0, 1]: a mask meant is another selection
                raise InputError(f"learners mixes bools and ints; give a boolean mask (all bools) or "
                                 f"learner indices (all ints); got {learners!r:.80}")
            sel = as_array(_int_list(learners), "learners",
                           f"({N},) (a boolean mask) or (k,) (learner indices)", keep_mask=True)
            if np.ma.is_masked(sel):  # (np.asarray would read the data under the mask)
                raise InputError("learners has masked (missing) entries; give a boolean mask or "
                                 "indices without them")
            sel = np.ma.getdata(sel)
            if sel.dtype == np.bool_:
                mask = as_bool_mask(sel, "learners", (N,), "one entry per learner")
            elif sel.size == 0 and sel.ndim == 1:  # no learner selected
                mask = np.zeros(N, dtype=np.bool_)
            else:
                if sel.dtype.kind not in "iu" or sel.ndim > 1 or np.any((sel < -N) | (sel >= N)):
                    raise InputError(f"learners must be a boolean mask of shape ({N},) or learner indices "
                                     f"in [0, {N}) (or from -{N}, counting from the end); got "
                                     f"{learners!r:.80}")
                mask = np.zeros(N, dtype=np.bool_)
                mask[sel] = True
        rst = self._kernels(N * self.layout.n_params)[2]
        rst(self._mems, mask, self._status)
        self._check_status()

    # ------------------------------------------------------------------
    # inspection and weights by name
    # ------------------------------------------------------------------
    def _theta2d(self):
        th = self.layout.meta["theta"]
        return self._mems[:, th:th + self.layout.n_params]

    def _counter(self, index):
        return self._mems[:, index].astype(np.int64)

    @property
    def n_steps_(self) -> np.ndarray:
        """Steps taken by each learner since construction, shape (N,)."""
        return self._counter(M_STEP)

    @property
    def n_updates_(self) -> np.ndarray:
        """Each learner's steps whose errors changed its weights (or its
        accumulated update), shape (N,)."""
        return self._counter(M_N_UPDATES)

    @property
    def n_resets_(self) -> np.ndarray:
        """Each learner's sequence boundaries so far, shape (N,)."""
        return self._counter(M_N_RESETS)

    @property
    def seq_step_(self) -> np.ndarray:
        """Each learner's steps since its last reset, shape (N,)."""
        return self._counter(M_SEQ_STEP)

    @property
    def pending_(self) -> np.ndarray:
        """True where a learner's last step can still be learned from, shape (N,)."""
        return self._mems[:, M_PENDING] == 1.0

    @property
    def theta_(self) -> np.ndarray:
        """Copy of the parameter vectors, shape (N, n_params)."""
        return self._theta2d().copy()

    def _weight_view(self, name, writeable=False):
        """View of parameter ``name`` of every learner, shape (N, *shape),
        built from the single learner's view of learner 0."""
        v = self.layout.weight_view(self._theta2d()[0], name)
        return np.lib.stride_tricks.as_strided(
            v, shape=(self.n_learners,) + v.shape, strides=(self._mems.strides[0],) + v.strides,
            writeable=writeable)

    @property
    def weights(self) -> dict[str, Floats]:
        """Read-only views of the named parameters, shape ``(N, *shape)``:
        ``weights["W_in"][l]`` is learner ``l``'s ``W_in`` (see
        :attr:`OnlineLSTM.weights` for the names and orientation)."""
        return {name: self._weight_view(name) for name in self.layout.shapes}

    def get_weights(self) -> dict[str, Floats]:
        """Copies of the named parameters, shape ``(N, *shape)``."""
        return {name: np.array(self._weight_view(name)) for name in self.layout.shapes}

    def set_weights(self, weights: dict[str, ArrayLike] | None = None, **named: ArrayLike) -> None:
        """Set parameters by name, for every learner.

        Each value has shape ``(N, *shape)`` (one per learner) or ``shape``
        (the same for all).  Everything is checked before anything is written.
        """
        new = named_values(weights, named)
        lay, N = self.layout, self.n_learners
        scratch = self._proto.clone(seed=0)  # checks each value as a single learner does
        checked = {}
        for name, value in new.items():
            shape = lay.shapes.get(name)
            if shape is None:
                raise InputError(f"unknown parameter {name!r}; this net has {list(lay.shapes)}")
            want = f"{(N,) + shape} (one per learner) or {shape}"
            arr = as_array(value, name, want, keep_mask=True)
            arr = as_float_array(arr, name, arr.ndim, want)  # masked entries -> NaN, refused below
            per_learner = arr.shape == (N,) + shape
            for i, row in enumerate(arr if per_learner else [arr]):
                try:
                    scratch.set_weights({name: row})
                except InputError as exc:
                    where = f" (learner {i})" if per_learner else ""
                    also = f"; one per learner: shape {(N,) + shape}"
                    raise InputError(f"{exc}{where}{also}") from None
            checked[name] = arr
        for name, arr in checked.items():
            self._weight_view(name, writeable=True)[...] = arr
        self._mems[:, H_WMAX] = np.max(np.abs(self._theta2d()), axis=1, initial=0.0)

    def _region_index(self, name):
        """Column indices of a region of every learner's mem, shape (N, size)."""
        lay, N = self.layout, self.n_learners
        meta = lay.meta
        if name == "record":
            start = meta["bank0"] + self._mems[:, M_BANK].astype(np.int64) * meta["bank_size"]
            return start[:, None] + np.arange(meta["bank_size"])
        size = {"theta": lay.n_params, "dW": lay.n_params, "T": lay.n_traces,
                "slots": meta["n_slots"] * meta["slot_size"]}[name]
        return np.broadcast_to(meta[name] + np.arange(size), (N, size))

    def _region(self, name):
        return np.take_along_axis(self._mems, self._region_index(name), axis=1)

    @property
    def state_(self) -> dict[str, Floats]:
        """Copies of every learner's state, the learner axis first: ``s_c``
        (N, n_cells), ``y_c``, ``y_in`` (N, C), ``y_out``, ``y_k`` (N, K),
        ``T_in`` (N, n_cells, I_g), ``T_c`` (N, n_cells, I_c), and with
        forget gates or peepholes ``y_phi``, ``T_phi``, ``T_P_in``,
        ``T_P_phi``; see :attr:`OnlineLSTM.state_`."""
        lay = self.layout
        meta = lay.meta
        fields = lay.record_fields()
        start = meta["bank0"] + self._mems[:, M_BANK].astype(np.int64) * meta["bank_size"]
        out = {}
        for key in ("s_c", "y_c", "y_in", "y_out", "y_k") + (("y_phi",) if lay.forget_gate else ()):
            idx = (start + meta["r_" + _RECORD_KEYS[key]])[:, None] + np.arange(fields[key])
            out[key] = np.take_along_axis(self._mems, idx, axis=1)
        T = self._region("T")
        traces = [lay.trace_views(t) for t in T]
        out["T_in"] = np.stack([t[0] for t in traces])
        out["T_c"] = np.stack([t[1] for t in traces])
        options = [lay.option_trace_views(t) for t in T]  # forget gate, peepholes
        for key in options[0]:
            out[key] = np.stack([o[key] for o in options])
        return out

    # ------------------------------------------------------------------
    # snapshot / restore (complete state, bit-exact)
    # ------------------------------------------------------------------
    def state_arrays(self) -> dict[str, np.ndarray]:
        """The complete state of every learner, as in
        :meth:`OnlineLSTM.state_arrays` with a leading learner axis: ``header``
        (N, HEADER_SIZE), ``theta`` (N, n_params), ``dW``, ``T``, ``record``
        and, with ``max_delay > 0``, ``slots`` (copies)."""
        return {"header": self._mems[:, :HEADER_SIZE].copy(),
                **{name: self._region(name) for name in ("theta", "dW", "T", "record")},
                **({"slots": np.stack([canonical_slots(self.layout, r)
                                       for r in self._region("slots")])}
                   if self.layout.max_delay else {})}

    def load_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Restore every learner from :meth:`state_arrays` (same architecture,
        same number of learners).  Each learner's slice is checked as
        :meth:`OnlineLSTM.load_state_arrays` checks it; nothing is written
        unless all are good."""
        N = self.n_learners
        keys = ("header", "theta", "dW", "T", "record") + (("slots",) if self.layout.max_delay else ())
        check_state_mapping(arrays)
        rows = {}
        for key in keys:
            if key not in arrays:
                raise InputError(f"state is missing {key!r}")
            rows[key] = a = as_array(arrays[key], f"state[{key!r}]", f"({N}, size)")
            if a.ndim != 2 or a.shape[0] != N:
                raise InputError(f"state[{key!r}] must have shape ({N}, size), one row per "
                                 f"learner; got {a.shape}")
        scratch = self._proto.clone(seed=0)
        new = self._mems.copy()
        size = self.layout.mem_size
        for i in range(N):
            try:
                scratch.load_state_arrays({k: rows[k][i] for k in keys})
            except InputError as exc:
                raise InputError(f"learner {i}: {exc}") from None
            new[i, :size] = scratch._mem
        self._mems[...] = new

    # ------------------------------------------------------------------
    # in-memory snapshots (online_lstm.snapshot)
    # ------------------------------------------------------------------
    def snapshot(self, into: Snapshot | None = None) -> Snapshot:
        """The complete state of every learner, in memory, for
        :meth:`restore_snapshot` (see :meth:`OnlineLSTM.snapshot`): one copy
        of the bank's state buffer, ``(n_learners, ~layout.mem_size)``
        float64, and what says how its learners began: the per-learner seeds
        (:meth:`set_learner` can change them), the ``seed`` parameter and the
        initialisation arguments (``init_range`` and the gate biases, which
        :meth:`restore` can change).  With ``into``, a snapshot of a bank of
        this architecture, update mode and size, is overwritten in place and
        nothing is allocated."""
        key = self._snap_key
        if into is None:
            return Snapshot._new(self._mems.copy(), key, [list(self.seeds_), self.seed, self._proto])
        if type(into) is not Snapshot or into._key != key:
            check_fits(into, key, "snapshot(into=...)")
        np.copyto(into._mem, self._mems)
        extra = into._extra
        if extra[0] != self.seeds_:
            extra[0][:] = self.seeds_
        extra[1] = self.seed
        extra[2] = self._proto  # (never changed in place: restore() replaces it)
        return into

    def restore_snapshot(self, snap: Snapshot) -> None:
        """Put every learner back in the state of :meth:`snapshot`, bit for bit
        (weights, traces, states, pending and delayed steps, learning rates,
        state bounds, counters), with the seeds and initialisation arguments
        that say how they began (``seeds_``, ``seed``, ``init_range`` and the
        gate biases: what ``get_params``, ``clone`` and checkpoints describe
        the learners by).  ``snap`` must come from a bank of this
        architecture, update mode and number of learners, else
        :class:`~online_lstm.errors.InputError` and nothing changes.  Nothing
        is allocated."""
        key = self._snap_key
        if type(snap) is not Snapshot or snap._key != key:
            check_fits(snap, key, "restore_snapshot")
        np.copyto(self._mems, snap._mem)
        seeds, seed, proto = snap._extra
        if seeds != self.seeds_:
            self.seeds_[:] = seeds
        if seed is not self.seed:
            self._adopt_params({"seed": seed})
        if proto is not self._proto:  # another bank's, or from before a restore()
            self._proto = proto

    # ------------------------------------------------------------------
    # checkpoint files (online_lstm.checkpoint)
    # ------------------------------------------------------------------
    def save(self, path: str | os.PathLike, *, compress: bool = False, fsync: bool = True) -> pathlib.Path:
        """Write every learner to one ``.npz`` checkpoint, atomically (see
        :meth:`OnlineLSTM.save`): the configuration, the per-learner seeds,
        learning rates and state bounds, and each learner's complete state.
        :meth:`load` and :meth:`restore` continue bit-identically."""
        from . import checkpoint

        return checkpoint.save_bank(self, path, compress=compress, fsync=fsync)

    @classmethod
    def load(cls, path: str | os.PathLike) -> LearnerBank:
        """A bank rebuilt from a checkpoint written by :meth:`save`; raises
        :class:`~online_lstm.errors.CheckpointError` for a truncated,
        corrupted or foreign file.  Loading never executes code."""
        from . import checkpoint

        return checkpoint.load_bank(path, cls)

    def restore(self, path: str | os.PathLike) -> None:
        """Load a checkpoint into this bank, which must have the same
        architecture, update mode and number of learners; on any error
        (:class:`~online_lstm.errors.CheckpointError`) nothing changes."""
        from . import checkpoint

        checkpoint.restore_bank(self, path)

    def __getstate__(self):
        return {"params": self.get_params(), "seeds": list(self.seeds_), "state": self.state_arrays()}

    def __setstate__(self, d):
        params = dict(d["params"])
        seed = params.pop("seed")
        seeds = [int_or_none(s) for s in d["seeds"]]  # None: a learner without an int seed
        self.__init__(**params, seed=[0 if s is None else s for s in seeds])
        self._adopt_params({"seed": seed})
        self.seeds_ = seeds
        self.load_state_arrays(d["state"])


def _shared_param(name):
    """Read-only attribute for constructor argument ``name``, which every
    learner shares (as ``OnlineLSTM.<name>``; get_params() holds it too)."""
    return property(lambda self: getattr(self._proto, name),
                    doc=f"Constructor argument ``{name}``, the same for every learner (fixed once built).")


# every constructor argument is an attribute, as on OnlineLSTM (lr, state_bound,
# seed, parallel and n_learners are the bank's own)
for _name in sorted(_FIXED_PARAMS - {"n_learners", "seed", "layout"}):
    setattr(LearnerBank, _name, _shared_param(_name))
del _name

__all__ = ["LearnerBank", "BankDivergenceError"]
