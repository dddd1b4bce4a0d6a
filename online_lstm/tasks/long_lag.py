"""Experiment 2: noise-free and noisy sequences with long time lags (spec §5.2).

Task 2a and 2b (``p + 1`` symbols, one-hot on ``p + 1`` input and output units)
---------------------------------------------------------------------------
Units ``0 .. p-2`` are ``a_1 .. a_{p-1}``, unit ``p-1`` is ``x = a_p`` and
unit ``p`` is ``y = a_{p+1}``.  A sequence has ``p + 1`` elements; the first
``p`` are presented as inputs and each step's target is the next element
(the output at step t predicts element t+1, spec §2.4), so every step has a
target and the last target is the class symbol, ``p`` steps after its
first appearance.

* 2a: the two sequences ``(y, a_1, ..., a_{p-1}, y)`` and
  ``(x, a_1, ..., a_{p-1}, x)``, each chosen with probability 0.5.
* 2b: the middle is ``p - 1`` symbols drawn i.i.d. uniformly from
  ``a_1 .. a_{p-1}``; only the final class symbol is predictable.

Task 2c (``p + 4`` input units, 2 output units)
---------------------------------------------
Units ``0 .. p-1`` are the distractors ``a_1 .. a_p``, unit ``p`` is the
trigger ``e``, unit ``p+1`` the start ``b``, units ``p+2``, ``p+3`` the
classes ``x``, ``y``.  A sequence is ``b``, the class symbol (probability
0.5 each), ``q`` distractors drawn uniformly from ``a_1 .. a_p``, then
while a coin with probability 0.9 says so one more distractor, then ``e``
(spec §5.2; ``q + k + 3`` inputs with ``k ~ Geometric``, ``E[k] = 9``).
The only target is at the step whose input is ``e``: the class on the two
outputs, one-hot (x = [1, 0], y = [0, 1]; spec §8 item 19).
"""

from __future__ import annotations

import numpy as np

from ._base import Batch, SequenceTask, from_lengths, whole_number


def _next_symbol_batch(seqs: np.ndarray, n_units: int, end_only: bool = False) -> Batch:
    """Sequences of equal length (rows of symbol indices) as a next-symbol batch;
    with ``end_only``, every target but the last step's is NaN (no target)."""
    n, L = seqs.shape
    X, Y, resets, starts, ends = from_lengths(np.full(n, L - 1), n_units, n_units)
    rows = np.arange(n * (L - 1))
    X[rows, seqs[:, :-1].ravel()] = 1.0
    Y[:] = 0.0
    Y[rows, seqs[:, 1:].ravel()] = 1.0
    target = Y[ends].copy()
    if end_only:
        Y[:] = np.nan
        Y[ends] = target
    return Batch(X, Y, resets, ends, target)


class _Delay(SequenceTask):
    """Shared by 2a and 2b: ``p + 1`` symbols, a target at every step (or,
    with ``targets="end"``, at the last step only: a diagnostic off the
    paper's task, which predicts the next symbol at every step)."""

    def __init__(self, p=100, seed=None, targets="every"):
        super().__init__(seed)
        p = whole_number("p", p, 2)
        if targets not in ("every", "end"):
            raise ValueError(f"targets must be 'every' (the paper's) or 'end'; got {targets!r}")
        self.p = p
        self.targets = targets
        self.n_in = self.n_out = p + 1
        self.mean_length = float(p)


class Task2a(_Delay):
    """Task 2a: two fixed sequences, delay ``p`` (training set of two, "t1").

    Parameters
    ----------
    p : int
        Delay; ``p + 1`` symbols.
    seed : int, sequence of int, SeedSequence, Generator or None
        Seed of the stream, as for :class:`~online_lstm.tasks.SequenceTask`.
    targets : "every" or "end"
        A target at every step (the paper's), or at the last step only.
    """

    def __init__(self, p=100, seed=None, targets="every"):
        super().__init__(p, seed, targets)
        p = self.p  # checked, an int
        middle = np.arange(p - 1)
        self.sequences = _next_symbol_batch(
            np.array([np.r_[p, middle, p], np.r_[p - 1, middle, p - 1]]), p + 1, targets == "end")

    def _generate(self, rng, n):
        return self.sequences.gather(rng.integers(2, size=n))


class Task2b(_Delay):
    """Task 2b: like 2a, but the middle is random; only the end is predictable.

    Parameters
    ----------
    p : int
        Delay; ``p + 1`` symbols.
    seed : int, sequence of int, SeedSequence, Generator or None
        Seed of the stream, as for :class:`~online_lstm.tasks.SequenceTask`.
    targets : "every" or "end"
        A target at every step (the paper's), or at the last step only.
    """

    def _generate(self, rng, n):
        p = self.p
        cls = p - 1 + rng.integers(2, size=n)  # x or y, probability 0.5 each ("t2")
        middle = rng.integers(0, p - 1, size=(n, p - 1))
        return _next_symbol_batch(np.column_stack([cls, middle, cls]), p + 1, self.targets == "end")


class Task2c(SequenceTask):
    """Task 2c: very long lags, no local regularities (Table 3).

    Parameters
    ----------
    q : int
        Minimal number of distractors between the class and the trigger
        (the minimal time lag is ``q + 1``).
    p : int
        Number of distinct distractor symbols.
    seed : int, sequence of int, SeedSequence, Generator or None
        Seed of the stream, as for :class:`~online_lstm.tasks.SequenceTask`.
    """

    n_out = 2

    def __init__(self, q=50, p=50, seed=None):
        super().__init__(seed)
        q, p = whole_number("q", q, 0), whole_number("p", p, 1)
        self.q, self.p = q, p
        self.n_in = p + 4
        self.mean_length = q + 3 + 9.0

    def _generate(self, rng, n):
        q, p = self.q, self.p
        E, B, X_ = p, p + 1, p + 2
        cls = rng.integers(2, size=n)
        extra = rng.geometric(0.1, size=n) - 1  # P(k) = 0.9^k * 0.1
        X, Y, resets, starts, ends = from_lengths(q + 3 + extra, self.n_in, 2)
        sym = rng.integers(0, p, size=len(X))  # distractors everywhere, then overwrite
        sym[starts] = B
        sym[starts + 1] = X_ + cls
        sym[ends] = E
        X[np.arange(len(X)), sym] = 1.0
        Y[ends] = 0.0
        Y[ends, cls] = 1.0
        return Batch(X, Y, resets, ends, Y[ends].copy())
