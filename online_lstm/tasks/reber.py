"""Experiment 1: the embedded Reber grammar (spec §5.1).

Alphabet and coding
-------------------
Seven symbols ``B T P S X V E``, coded one-hot in that order on 7 input and
7 output units.  A string is presented one symbol per step, starting with
``B``; the output at step t predicts symbol t+1 (spec §2.4), so the final
``E`` is the last target and is never an input (spec §8 item 17c).  Every
step has a target.

Grammar
-------
The inner Reber grammar (spec §5.1 table; each two-way choice has
probability 0.5)::

    start -B-> 1;  1 -T-> 2 | -P-> 3;  2 -S-> 2 | -X-> 4;  3 -T-> 3 | -V-> 5
    4 -X-> 3 | -S-> 6;  5 -P-> 4 | -V-> 6;  6 -E-> end

An embedded string is ``B``, then ``T`` or ``P``, then an inner string, then
the same ``T``/``P`` again, then ``E``.  Predicting the second-to-last
symbol needs the second symbol, held over the whole inner string.

Target coding (spec §8 item 12): ``"next"`` (default) is the one-hot actual
next symbol; ``"legal"`` is multi-hot over every legal successor.

Data (spec §5.1, §8 item 17a): 256 training strings drawn i.i.d. (duplicates
allowed); 256 test strings drawn i.i.d. and rejected when equal to a training
string (``distinct_test=True`` also makes them mutually distinct).

Training order: the paper draws exemplars "at random from the training set"
(Table 11, t1).  ``sampling="random"`` (default) draws each with replacement;
``sampling="epochs"`` presents the set in a fresh random order every ``n_train``
(256) strings, each string once per epoch (an open sampling detail, tried as a
variant in REPRODUCTION.md).
"""

from __future__ import annotations

import numpy as np

from .._validate import seeded_rng
from ._base import Batch, SequenceTask, whole_number

SYMBOLS = "BTPSXVE"
_IDX = {c: i for i, c in enumerate(SYMBOLS)}

#: inner grammar: state -> ((symbol, next state), ...); state 7 = end
INNER = {
    0: (("B", 1),),
    1: (("T", 2), ("P", 3)),
    2: (("S", 2), ("X", 4)),
    3: (("T", 3), ("V", 5)),
    4: (("X", 3), ("S", 6)),
    5: (("P", 4), ("V", 6)),
    6: (("E", 7),),
}


def reber_string(rng: np.random.Generator) -> str:
    """One string of the inner Reber grammar, e.g. ``"BTXSE"``."""
    state, out = 0, []
    while state != 7:
        choices = INNER[state]
        sym, state = choices[int(rng.integers(len(choices)))] if len(choices) > 1 else choices[0]
        out.append(sym)
    return "".join(out)


def embedded_reber_string(rng: np.random.Generator) -> str:
    """One embedded Reber string, e.g. ``"BTBTXSETE"`` (at least 9 symbols)."""
    tp = "TP"[int(rng.integers(2))]
    return "B" + tp + reber_string(rng) + tp + "E"


def _inner_states(s: str):
    """States of the inner grammar after each symbol of ``s``, or None if invalid."""
    state, states = 0, []
    for c in s:
        nxt = dict(INNER.get(state, ()))
        if c not in nxt:
            return None
        state = nxt[c]
        states.append(state)
    return states


def legal_successors(s: str) -> list:
    """For each proper prefix ``s[:t+1]`` of an embedded string, the set of
    symbols the grammar allows next.  Raises ValueError if ``s`` is invalid.
    """
    if not is_embedded_reber(s):
        raise ValueError(f"not an embedded Reber string: {s!r}")
    inner = s[2:-2]
    states = _inner_states(inner)
    out = [set("TP"), set("B")]  # after the outer B; after the outer T/P
    out += [{sym for sym, _ in INNER[st]} if st != 7 else {s[1]} for st in states]
    out.append({"E"})  # after the closing T/P
    return out[: len(s) - 1]


def is_reber(s: str) -> bool:
    """True if ``s`` is a complete string of the inner grammar."""
    states = _inner_states(s)
    return states is not None and len(states) > 0 and states[-1] == 7


def is_embedded_reber(s: str) -> bool:
    """True if ``s`` is a complete embedded Reber string."""
    return (len(s) >= 9 and s[0] == "B" and s[1] in "TP" and s[-2] == s[1] and s[-1] == "E"
            and is_reber(s[2:-2]))


def encode(strings, targets: str = "next") -> Batch:
    """Strings as a :class:`Batch`: inputs ``s[:-1]``, targets ``s[1:]``.

    Parameters
    ----------
    strings : sequence of str
    targets : {"next", "legal"}
        One-hot actual next symbol, or multi-hot legal successors.
    """
    if targets not in ("next", "legal"):
        raise ValueError(f"targets must be 'next' or 'legal'; got {targets!r}")
    lengths = np.array([len(s) - 1 for s in strings], dtype=np.int64)
    T = int(lengths.sum())
    X = np.zeros((T, 7))
    Y = np.zeros((T, 7))
    legal = np.zeros((T, 7), dtype=bool)
    resets = np.zeros(T, dtype=bool)
    t = 0
    for s in strings:
        resets[t] = True
        for a, (c, succ) in enumerate(zip(s[:-1], legal_successors(s))):
            X[t + a, _IDX[c]] = 1.0
            legal[t + a, [_IDX[u] for u in succ]] = True
        Y[t:t + len(s) - 1] = legal[t:t + len(s) - 1] if targets == "legal" else 0.0
        if targets == "next":
            Y[np.arange(t, t + len(s) - 1), [_IDX[c] for c in s[1:]]] = 1.0
        t += len(s) - 1
    ends = np.cumsum(lengths) - 1
    return Batch(X, Y, resets, ends, Y[ends].copy(), legal)


def correct_steps(out: np.ndarray, legal: np.ndarray, rule: str = "strict") -> np.ndarray:
    """Which predictions are correct, shape (T,).

    ``"strict"`` (spec §8 item 14): the smallest output among the legal
    successors exceeds the largest among the illegal symbols.  ``"argmax"``:
    the most active output is a legal successor.
    """
    if rule == "strict":
        lo = np.where(legal, out, np.inf).min(axis=1)
        hi = np.where(legal, -np.inf, out).max(axis=1)
        return lo > hi
    if rule == "argmax":
        return legal[np.arange(len(out)), np.argmax(out, axis=1)]
    raise ValueError(f"rule must be 'strict' or 'argmax'; got {rule!r}")


def correct_sequences(out: np.ndarray, batch: Batch, rule: str = "strict") -> np.ndarray:
    """Which sequences are predicted correctly at every step, shape (n,)."""
    ok = correct_steps(out, batch.legal, rule)
    bad = np.add.reduceat(~ok, batch.starts)
    return bad == 0


class EmbeddedReber(SequenceTask):
    """Experiment 1: fixed training and test sets; training strings drawn at random.

    Parameters
    ----------
    n_train, n_test : int
        Sizes of the two sets (256 each in the paper).
    targets : {"next", "legal"}
        Target coding (spec §8 item 12).
    distinct_test : bool
        Also reject test strings that repeat another test string.
    seed : int, sequence of int, SeedSequence, Generator or None
        Seeds the order of training exemplars (and the two sets, unless
        ``sets_seed`` is given).
    sets_seed : int, sequence of int, SeedSequence, Generator or None
        Seeds the two sets separately, so one train/test pair can be
        trained from several exemplar orders (the paper's 3 set pairs x 10
        initialisations).
    sampling : {"random", "epochs"}
        Training exemplars drawn with replacement (default), or in epochs:
        a fresh permutation of the training set every ``n_train`` strings.

    Attributes
    ----------
    train_strings, test_strings : list of str
    train, test : Batch
        The two sets, encoded.
    """

    n_in = n_out = 7

    def __init__(self, n_train=256, n_test=256, targets="next", distinct_test=False, seed=None,
                 sets_seed=None, sampling="random"):
        if not isinstance(targets, str) or targets not in ("next", "legal"):  # before the sets are drawn
            raise ValueError(f"targets must be 'next' or 'legal'; got {targets!r}")
        if sampling not in ("random", "epochs"):
            raise ValueError(f"sampling must be 'random' or 'epochs'; got {sampling!r}")
        if not isinstance(distinct_test, (bool, np.bool_)):  # 'no' would be true
            raise ValueError(f"distinct_test must be True or False; got {distinct_test!r}")
        super().__init__(seed)
        self.sampling = sampling
        n_train, n_test = whole_number("n_train", n_train, 1), whole_number("n_test", n_test, 0)
        self.n_train, self.n_test = n_train, n_test
        self.targets, self.distinct_test = targets, distinct_test
        self.sets_seed = sets_seed
        rng = seeded_rng(self._rng.integers(2**63) if sets_seed is None else sets_seed)
        self.train_strings = [embedded_reber_string(rng) for _ in range(n_train)]
        seen = set(self.train_strings)
        self.test_strings = []
        while len(self.test_strings) < n_test:
            s = embedded_reber_string(rng)
            if s in seen:
                continue
            self.test_strings.append(s)
            if distinct_test:
                seen.add(s)
        self.train = encode(self.train_strings, targets)
        self.test = encode(self.test_strings, targets)
        self.mean_length = float(np.mean(self.train.lengths))

    def _fixed(self):
        """The training and test strings, which the seed draws unless
        ``sets_seed`` is given."""
        return [self.train_strings, self.test_strings]

    @property
    def block(self) -> int:
        """Sequences generated per internal block (with ``sampling="epochs"``
        a whole number of epochs)."""
        b = super().block
        if self.sampling == "epochs":  # whole epochs per block, so no epoch is cut
            return self.n_train * max(1, b // self.n_train)
        return b

    def _generate(self, rng, n):
        if self.sampling == "epochs":
            epochs = -(-n // self.n_train)
            idx = np.concatenate([rng.permutation(self.n_train) for _ in range(epochs)])[:n]
        else:
            idx = rng.integers(self.n_train, size=n)  # t1: random from the training set
        return self.train.gather(idx)

