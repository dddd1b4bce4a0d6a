"""Shared machinery of the task generators: a batch of sequences, a seeded stream.

Every task of the paper (spec §5) is a stream of independent sequences.  A
:class:`Batch` holds ``n`` of them end to end, in the form
:meth:`online_lstm.OnlineLSTM.learn_many` takes (rows = time steps, a reset
at each sequence's first row, NaN where there is no target).  A
:class:`SequenceTask` is a seeded stream of such sequences.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np

from .._validate import seeded_rng


@dataclass(frozen=True, eq=False)  # (fields are arrays: == compares identity)
class Batch:
    """``n`` sequences laid end to end for ``learn_many`` / ``predict_many``.

    Unpacks as ``X, Y, resets, ends = batch``.

    Attributes
    ----------
    X : ndarray of shape (T, n_in)
        Inputs, one row per time step.
    Y : ndarray of shape (T, n_out)
        Targets; NaN where the paper gives none.
    resets : bool ndarray of shape (T,)
        True at each sequence's first step.
    ends : int ndarray of shape (n,)
        Row of each sequence's last step.
    target : ndarray of shape (n, n_out)
        The noise-free target at each sequence's last step: ``Y[ends]``
        except in Task 3c, whose training targets carry noise.
    legal : bool ndarray of shape (T, n_out), or None
        Experiment 1 only: the legal successors of each step's input
        symbol (the symbols the grammar allows next).
    """

    X: np.ndarray
    Y: np.ndarray
    resets: np.ndarray
    ends: np.ndarray
    target: np.ndarray
    legal: np.ndarray | None = None

    def __iter__(self):
        return iter((self.X, self.Y, self.resets, self.ends))

    def __len__(self):
        """Number of sequences."""
        return len(self.ends)

    @property
    def starts(self) -> np.ndarray:
        """Row of each sequence's first step, shape (n,)."""
        return np.flatnonzero(self.resets)

    @property
    def lengths(self) -> np.ndarray:
        """Steps of each sequence, shape (n,)."""
        return self.ends - self.starts + 1

    def take(self, a: int, b: int) -> "Batch":
        """Sequences ``a .. b-1`` as a new batch (views where possible).

        ``a`` and ``b`` are integers (Python or NumPy; not bools, not floats).
        """
        for arg, value in (("a", a), ("b", b)):
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral):
                raise TypeError(f"take needs integer sequence indices; {arg} is "
                                f"{type(value).__name__} {value!r}")
        a, b = int(a), int(b)
        if not 0 <= a <= b <= len(self):
            raise IndexError(f"sequence range [{a}, {b}) outside a batch of {len(self)}")
        if a == b:
            return Batch(self.X[:0], self.Y[:0], self.resets[:0], self.ends[:0],
                         self.target[:0], None if self.legal is None else self.legal[:0])
        r0 = int(self.ends[a - 1]) + 1 if a else 0
        r1 = int(self.ends[b - 1]) + 1
        return Batch(self.X[r0:r1], self.Y[r0:r1], self.resets[r0:r1], self.ends[a:b] - r0,
                     self.target[a:b], None if self.legal is None else self.legal[r0:r1])

    def gather(self, idx) -> "Batch":
        """The sequences ``idx[0], idx[1], ...`` (repeats allowed) as one batch.

        ``idx`` is a 1-D sequence of ints; a boolean mask is refused (it read
        as indices 0 and 1), so are fractions (they were truncated).
        """
        arr = np.asarray(idx)
        if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
            hint = "; for a mask of sequences, pass np.flatnonzero(mask)" if arr.dtype == bool else ""
            raise ValueError(f"gather needs a 1-D sequence of integer sequence indices; got dtype "
                             f"{arr.dtype}, shape {arr.shape}{hint}")
        idx = arr.astype(np.int64)
        lengths = self.lengths[idx]
        ends = np.cumsum(lengths) - 1
        first = ends - lengths + 1
        rows = np.arange(int(lengths.sum())) + np.repeat(self.starts[idx] - first, lengths)
        legal = None if self.legal is None else self.legal[rows]
        return Batch(self.X[rows], self.Y[rows], self.resets[rows], ends, self.target[idx], legal)

    @staticmethod
    def concat(parts: list) -> "Batch":
        """The sequences of several batches, in order, as one batch."""
        parts = list(parts)
        if not parts:
            raise ValueError("Batch.concat needs at least one batch (an empty batch has no width)")
        if len({(p.X.shape[1], p.Y.shape[1], p.legal is None) for p in parts}) > 1:
            raise ValueError("Batch.concat needs batches of one task: the same input and output widths, "
                             "and legal successor sets in all or none; got "
                             + ", ".join(f"{p.X.shape[1]} in / {p.Y.shape[1]} out"
                                         f"{'' if p.legal is None else ' with legal sets'}" for p in parts))
        if len(parts) == 1:
            return parts[0]
        offsets = np.cumsum([0] + [len(p.X) for p in parts[:-1]])
        legal = None if parts[0].legal is None else np.concatenate([p.legal for p in parts])
        return Batch(np.concatenate([p.X for p in parts]), np.concatenate([p.Y for p in parts]),
                     np.concatenate([p.resets for p in parts]),
                     np.concatenate([p.ends + o for p, o in zip(parts, offsets)]),
                     np.concatenate([p.target for p in parts]), legal)


def from_lengths(lengths: np.ndarray, n_in: int, n_out: int):
    """Empty arrays for sequences of the given lengths, laid end to end.

    Returns ``X`` (zeros), ``Y`` (NaN), ``resets``, ``starts`` and ``ends``.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    ends = np.cumsum(lengths) - 1
    starts = ends - lengths + 1
    T = int(lengths.sum())
    resets = np.zeros(T, dtype=bool)
    resets[starts] = True
    return np.zeros((T, n_in)), np.full((T, n_out), np.nan), resets, starts, ends


def whole_number(name: str, value, minimum: int) -> int:
    """``value`` as an int, if it is a whole number >= ``minimum`` (100.0 is
    accepted as 100; 20.5, True and "100" are refused)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real) or value != value \
            or value in (math.inf, -math.inf) or value != int(value) or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}; got {value!r}")
    return int(value)


def _json_state(state):
    """A bit generator's state as JSON values (MT19937, Philox and SFC64
    states hold arrays; PCG64's holds ints only and is returned as it is)."""
    if isinstance(state, dict):
        return {k: _json_state(v) for k, v in state.items()}
    if isinstance(state, np.ndarray):
        return state.tolist()
    if isinstance(state, np.integer):
        return int(state)
    return state


def _bit_generator(state):
    """A fresh bit generator of the kind ``state`` (a bit generator's state) is of."""
    kind = getattr(np.random, str(state["bit_generator"]), None)
    if not (isinstance(kind, type) and issubclass(kind, np.random.BitGenerator)):
        raise ValueError(f"unknown bit generator {state['bit_generator']!r}")
    return kind()


def uniform_int(rng: np.random.Generator, low, high, size=None):
    """Uniform integers in ``[low, high]``, both bounds inclusive (spec §8 item 16)."""
    return rng.integers(low, np.asarray(high) + 1, size=size)


#: Most bytes one ``sample`` call may make (X, Y and target): far beyond any
#: experiment's chunk, and short of a request that would run for hours before
#: running out of memory.
_MAX_SAMPLE_BYTES = 2 ** 40


def _json_param(v):
    """A parameter JSON does not take, for a task's identity: a NumPy number or
    array as its Python value (``np.int64(5)`` is ``5``), anything else (a
    Generator, whose draws ``_fixed`` holds) as its type's name."""
    if isinstance(v, (np.generic, np.ndarray)):
        return v.tolist()
    return type(v).__name__


class SequenceTask:
    """A seeded stream of sequences of one task.

    Sequences are generated in internal blocks of a fixed number of
    sequences (set by the task's parameters, never by the caller), so the
    stream depends only on the seed: ``sample(3)`` then ``sample(5)`` gives
    the same eight sequences as ``sample(8)``.  Two tasks built with the same
    parameters and seed give the same stream.

    Subclasses set ``n_in``, ``n_out``, ``mean_length`` and implement
    ``_generate(rng, n) -> Batch``.

    Parameters
    ----------
    seed : int, sequence of int, SeedSequence, Generator, or None
        Seed of the stream (``numpy.random.default_rng``); None draws fresh
        entropy.  A ``numpy.random.Generator`` is used as it is, not copied
        (as ``default_rng`` does): two tasks built from one Generator share
        its draws, and neither replays alone.  Pass ints to replay streams.
    """

    n_in: int
    n_out: int
    #: expected number of steps per sequence
    mean_length: float
    #: memory budget of one internal block, in input floats
    _BLOCK_FLOATS = 2_000_000

    def __init__(self, seed=None):
        self.seed = seed
        self._rng = seeded_rng(seed)
        self._buf = None
        self._pos = 0
        self._buf_rng = None  # generator state from which the current block was made

    @property
    def block(self) -> int:
        """Sequences generated per internal block (depends on the task only)."""
        per_seq = max(1.0, self.mean_length * self.n_in)
        return int(max(1, min(1024, self._BLOCK_FLOATS // per_seq)))

    def _generate(self, rng: np.random.Generator, n: int) -> Batch:  # pragma: no cover
        raise NotImplementedError

    def sample(self, n: int) -> Batch:
        """The next ``n`` sequences of the stream, as one :class:`Batch`."""
        n = whole_number("n, the number of sequences,", n, 1)
        rows = n * float(self.mean_length)
        if rows * (self.n_in + 2 * self.n_out) * 8 > _MAX_SAMPLE_BYTES:  # X, Y, target
            raise ValueError(f"n = {n:,} sequences of mean length {self.mean_length:g} would take about "
                             f"{rows * (self.n_in + 2 * self.n_out) * 8 / 2 ** 30:,.0f} GiB; sample "
                             f"fewer at a time")
        # a failure part-way (MemoryError, Ctrl-C) leaves the stream where it was
        before = self._buf, self._pos, self._buf_rng, self._rng.bit_generator.state
        parts = []
        try:
            while n:
                if self._buf is None or self._pos == len(self._buf):
                    self._buf_rng = self._rng.bit_generator.state
                    self._buf, self._pos = self._generate(self._rng, self.block), 0
                k = min(n, len(self._buf) - self._pos)
                parts.append(self._buf.take(self._pos, self._pos + k))
                self._pos += k
                n -= k
            return Batch.concat(parts)
        except BaseException:
            self._buf, self._pos, self._buf_rng, self._rng.bit_generator.state = before
            raise

    def get_state(self) -> dict:
        """Where the stream stands, as JSON values: :meth:`set_state` on a task
        built with the same parameters continues it with the same sequences.

        It is the generator's state when the current internal block was made
        and the position in that block (the block itself is made again).
        """
        return {"block_rng": _json_state(self._buf_rng), "pos": int(self._pos),
                "rng": _json_state(self._rng.bit_generator.state), "task": self._identity()}

    def _identity(self) -> str:
        """A digest of what a stream state must match: the class, the
        parameters but the seed (which only starts the stream a state
        replaces) and what the seed fixed besides the stream (:meth:`_fixed`)."""
        params = {k: v for k, v in self.get_params().items() if k != "seed"}
        text = json.dumps([type(self).__name__, params, self._fixed()], sort_keys=True,
                          default=_json_param)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def _fixed(self):
        """What the seed fixes besides the stream (JSON values); none here."""
        return None

    def set_state(self, state: dict):
        """Continue the stream from a :meth:`get_state` of a task with the
        same parameters (the seed may differ where it only starts the stream:
        the state replaces it; not where it drew data sets, as Experiment 1's)."""
        try:
            block_rng, pos, rng = state["block_rng"], state["pos"], state["rng"]
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a stream state of {type(self).__name__}: {exc!r}") from None
        if isinstance(pos, bool) or not isinstance(pos, (int, np.integer)):
            raise ValueError(f"not a stream state of {type(self).__name__}: position {pos!r} is not a "
                             f"whole number")
        pos = int(pos)
        task = state.get("task")  # states written before it existed have none
        if task is not None and task != self._identity():
            raise ValueError(f"the stream state does not fit this {type(self).__name__}: it is of a task "
                             f"with other parameters or data sets")
        try:  # the seed may be a Generator of another bit generator than default_rng's PCG64
            gen = np.random.Generator(_bit_generator(rng))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a stream state of {type(self).__name__}: {exc!r}") from None
        buf = None
        if block_rng is not None:
            gen.bit_generator.state = block_rng
            buf = self._generate(gen, self.block)
            if not 0 <= pos <= len(buf):
                raise ValueError(f"stream position {pos} outside a block of {len(buf)} sequences")
            if _json_state(gen.bit_generator.state) != _json_state(rng):
                raise ValueError(f"the stream state does not fit this {type(self).__name__} "
                                 "(other parameters)")
        gen.bit_generator.state = rng
        self._rng, self._buf, self._pos, self._buf_rng = gen, buf, pos, block_rng

    def __copy__(self):
        """A copy that goes on with the same sequences as this task, but on
        a generator of its own: a shallow copy shared the generator, so
        sampling from either moved the other's stream.  The sequences already
        made (read only) are shared."""
        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        new._rng = copy.deepcopy(self._rng)
        if self.seed is self._rng:  # a Generator given as the seed is the stream itself
            new.seed = new._rng
        return new

    def __getstate__(self):
        # the current block is made again from the generator state it was
        # made from (as set_state does): a pickle or deep copy holds that
        # state, not up to a thousand sequences (30 MB for Task2a(p=100))
        state = dict(self.__dict__)
        state["_buf"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        if self._buf is None and self._buf_rng is not None:
            gen = np.random.Generator(_bit_generator(self._buf_rng))
            gen.bit_generator.state = self._buf_rng
            self._buf = self._generate(gen, self.block)

    def __repr__(self):
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"

    def get_params(self) -> dict:
        """Constructor arguments."""
        import inspect

        names = inspect.signature(type(self).__init__).parameters
        return {k: getattr(self, k) for k in names if k != "self"}
