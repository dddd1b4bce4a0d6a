"""In-memory snapshots: a learner's complete state, taken and put back in one copy.

A control loop that tries an action and goes back, a model-predictive
controller that rolls the learner forward over a horizon and then returns to
the present, a stream that must undo the steps of a batch it has rejected:
all need to save the whole state and restore it, many times a second, in
the loop.  :meth:`OnlineLSTM.state_arrays
<online_lstm.OnlineLSTM.state_arrays>` and checkpoint files serve
inspection and persistence (named copies, checks of every number);
:class:`Snapshot` serves the loop::

    snap = m.snapshot()          # allocates the snapshot once
    for action in candidates:
        m.snapshot(into=snap)    # the present; nothing is allocated
        ...                      # predict_one / learn_one over a horizon
        m.restore_snapshot(snap)  # back to the present, bit for bit

A learner keeps its whole state (weights, accumulated update, traces, cell
states, previous activations, the pending-step record, the delayed-target
slots, learning rate, state bound and counters) in one contiguous float64
buffer, so taking a snapshot into an existing one and restoring it is one
copy of that buffer (8 x ``m.layout.mem_size`` bytes), with no allocation
and nothing compiled; ``benchmarks/bench_latency.py`` times both.  The
Python-side divergence record (``n_divergences_``, ``last_divergence_``) is
kept and restored too, and so are the arguments that say how its weights
began (``seed``, ``init_range`` and the gate biases, which a checkpoint's
``restore`` can change), so after ``restore_snapshot`` the learner is the
one it was when the snapshot was taken, and ``get_params``, ``clone`` and
checkpoints describe it so (the setting ``on_divergence`` is the learner's,
not state: it stays).

A snapshot is opaque and stays in the process.  It fits the architecture
and update mode it was taken from: restoring it into another learner of the
same architecture (a clone, say) is allowed, into any other learner is an
:class:`~online_lstm.errors.InputError` that changes nothing.  Because a
snapshot can only be written by ``snapshot()``, from a learner whose state
is valid, restoring one needs no check of its numbers (which
``load_state_arrays`` makes, at the cost of allocations).  It cannot be
pickled: to keep a state across processes or on disk use :meth:`save
<online_lstm.OnlineLSTM.save>` or ``state_arrays``, which are checked when
loaded.  ``copy.copy`` and ``copy.deepcopy`` give an independent snapshot.
:class:`~online_lstm.LearnerBank` has the same two methods, for all its
learners at once; a bank's snapshot also keeps its per-learner seeds and
initialisation arguments (``set_learner`` and ``restore`` change them), so
that ``get_params``, ``clone`` and checkpoints describe the restored learners.

The competitors :class:`~online_lstm.baselines.RTRL` and
:class:`~online_lstm.baselines.BPTT` have the two methods as well.  Their
state lies in several arrays, so a snapshot is one buffer that holds a copy
of each part of it (the header with ``lr``, counters and the pending flag;
weights; accumulated update; RTRL's committed influences and source vector;
BPTT's history since the reset, up to the window: what ``state_arrays``
exports), with ``seed`` and ``init_range``; a few copies, still with no
allocation.  A BPTT history that has grown since (``window=None``, or a
window longer than the sequence so far) gets the snapshot a larger buffer
once, as it got the learner one.  Such a snapshot fits learners of its class,
architecture, update mode and (BPTT) window.

Threads: no lock is taken.  ``snapshot()`` reads the learner and
``restore_snapshot()`` writes it, so each needs the learner to itself, as
its steps do (see the Threads notes of :class:`~online_lstm.OnlineLSTM`): a
snapshot taken while another thread steps the learner can mix two steps.
``snapshot(into=snap)`` writes ``snap``: one thread at a time, and not while
another restores from it.  Restoring one snapshot into several learners from
several threads at once is safe (it is only read).

The :mod:`River adapters <online_lstm.river>` keep state of their own (the
feature and class tables, the pending and waiting observations, the target
range) next to their learner, and replace the learner when a new feature or
class widens it: ``adapter.learner_.snapshot()`` does not bring an adapter
back.  To try and go back with an adapter, ``copy.deepcopy`` it.
"""

from __future__ import annotations

import numpy as np

from .checkpoint import ARCHITECTURE
from .errors import InputError
from .layout import M_STEP


def learner_key(layout, update: str) -> tuple:
    """What a snapshot of an OnlineLSTM of ``layout`` and ``update`` mode
    fits: ``"OnlineLSTM"``, then the value of every field of
    ``checkpoint.ARCHITECTURE``, in its order (the architecture a checkpoint
    must match)."""
    return ("OnlineLSTM",) + tuple(update if k == "update" else getattr(layout, k) for k in ARCHITECTURE)


def bank_key(n_learners: int, key: tuple) -> tuple:
    """What a snapshot of a LearnerBank of ``n_learners`` learners, each
    fitting the :func:`learner_key` ``key``, fits."""
    return ("LearnerBank", n_learners) + key[1:]


def stream_key(kind: str, fields) -> tuple:
    """What a snapshot of a competitor learner (``RTRL``, ``BPTT``: ``kind``
    is its class name) fits: ``kind``, then the ``(name, value)`` pairs of
    its architecture (the constructor arguments a checkpoint restored into
    it must share)."""
    return (kind, tuple(fields))


def _fields(key: tuple) -> list:
    """``(name, value)`` of every entry of ``key`` after its kind."""
    if key[0] not in ("OnlineLSTM", "LearnerBank"):  # a stream_key
        return list(key[1])
    names = (("n_learners",) if key[0] == "LearnerBank" else ()) + ARCHITECTURE
    return list(zip(names, key[1:]))


def _a(name: str) -> str:
    """``name`` with its article: "an OnlineLSTM", "an RTRL", "a BPTT"."""
    initialism = name[:2].isupper()  # spelt letter by letter: "an R", "a B"
    return f"{'an' if name[0] in ('AEFHILMNORSX' if initialism else 'AEIOU') else 'a'} {name}"


def describe(key: tuple) -> str:
    """What ``key`` fits, in words, e.g. "an OnlineLSTM with n_in=3, ...,
    update='step'", "a LearnerBank of 4 learners, each OnlineLSTM with ..."
    or "a BPTT with n_in=3, ..., window=None"."""
    arch = ", ".join(f"{k}={v!r}" for k, v in _fields(key) if k != "n_learners")
    if key[0] == "LearnerBank":
        return f"a LearnerBank of {key[1]} learners, each OnlineLSTM with {arch}"
    return f"{_a(key[0])} with {arch}"


class Snapshot:
    """The complete state of one learner (or one bank) at one moment.

    Made by ``snapshot()`` of :class:`~online_lstm.OnlineLSTM`,
    :class:`~online_lstm.LearnerBank`, :class:`~online_lstm.baselines.RTRL`
    or :class:`~online_lstm.baselines.BPTT` and put back by their
    ``restore_snapshot()``; see :mod:`online_lstm.snapshot`.
    """

    __slots__ = ("_mem", "_key", "_extra")

    def __init__(self, *args, **kwargs):
        raise TypeError("a Snapshot is made by OnlineLSTM.snapshot(), LearnerBank.snapshot(), "
                        "RTRL.snapshot() or BPTT.snapshot()")

    @classmethod
    def _new(cls, mem: np.ndarray, key: tuple, extra: list) -> Snapshot:
        snap = object.__new__(cls)
        snap._mem = mem
        snap._key = key  # what it fits (learner_key, bank_key; describe says it in words)
        snap._extra = extra  # Python-side state, overwritten in place (a list: no allocation)
        return snap

    @property
    def n_steps_(self):
        """Steps the learner had taken when the snapshot was taken (an int;
        for a bank, an int array with one entry per learner)."""
        if self._mem.ndim == 2:
            return self._mem[:, M_STEP].astype(np.int64)
        if self._key[0] == "OnlineLSTM":
            return int(self._mem[M_STEP])
        from .baselines._common import H_STEP  # (a competitor's header comes first)
        return int(self._mem[H_STEP])

    @property
    def nbytes(self) -> int:
        """Bytes of state held (what one snapshot or restore copies; for a
        BPTT, room for its history as its buffer now is, of which the
        steps since the reset, up to the window, are copied)."""
        return self._mem.nbytes

    def __repr__(self):
        return f"<Snapshot of {describe(self._key)}: {self.nbytes:,} bytes>"

    def __copy__(self):
        # the lists in _extra (a bank's seeds) are overwritten in place by
        # snapshot(into=...): each copy needs its own, or taking a new
        # snapshot into the original would change what the copy restores
        extra = [list(v) if type(v) is list else v for v in self._extra]
        return Snapshot._new(self._mem.copy(), self._key, extra)

    def __deepcopy__(self, memo):
        # the rest of _extra is never changed in place (a divergence record, a
        # bank's seed parameter and prototype): shared, as by the learner itself
        return self.__copy__()

    def __reduce__(self):
        raise TypeError("a Snapshot stays in the process that took it and cannot be pickled; "
                        "keep a state with save() (a checkpoint file) or state_arrays(), "
                        "which are checked when loaded")


def check_fits(snap, key: tuple, method: str) -> None:
    """Raise InputError unless ``snap`` is a :class:`Snapshot` with ``key``.
    (The callers test ``type(snap) is not Snapshot or snap._key != key``
    inline first, which costs less than this call.)"""
    if type(snap) is not Snapshot:
        raise InputError(f"{method} needs a Snapshot made by snapshot(); got "
                         f"{type(snap).__name__}")
    if snap._key != key:
        diff = _differences(snap._key, key)
        if diff:  # one kind: name only what differs, not the thirteen fields twice
            this = ("this bank's architecture, update mode and number of learners"
                    if key[0] == "LearnerBank" else "this learner's architecture and update mode")
            raise InputError(f"{method} needs a snapshot of {this}; got one of another{diff}")
        raise InputError(f"{method} needs a snapshot of {_kind(key)}; got one of {_kind(snap._key)}")


def _kind(key: tuple) -> str:
    return f"a LearnerBank of {key[1]} learners" if key[0] == "LearnerBank" else _a(key[0])


def _differences(theirs: tuple, mine: tuple) -> str:
    """What differs between two keys of one kind, e.g. " (they differ in
    n_in: the snapshot's 3, here 4)"; "" for keys of two kinds (the message
    says so already)."""
    if theirs[0] != mine[0] or len(theirs) != len(mine):
        return ""
    diff = [f"{k}: the snapshot's {a!r}, here {b!r}"
            for (k, a), (_, b) in zip(_fields(theirs), _fields(mine)) if a != b]
    return f" (they differ in {'; '.join(diff)})" if diff else ""
