"""Experiment 4: the adding problem (spec §5.4).

Coding: two input units per step, a pair ``(value, marker)``; one output.

* Length ``L`` uniform in ``[T, T + T // 10]`` (inclusive, spec §8 item 16).
* Values uniform in ``[-1, 1]``.  Markers are 0 except: the first and the
  last pair carry -1; ``X_1`` is one of the first ten pairs, marked +1;
  ``X_2`` is one of the first ``T/2`` pairs other than ``X_1``'s, marked +1
  (spec §5.4: "the first T/2 - 1 still unmarked pairs").
* The only target is at the last step: ``0.5 + (X_1 + X_2) / 4``.

When the first pair is chosen (spec §8 item 15), ``first_pair`` says how it
appears:

``"b"`` (default)  marked +1 like any chosen pair, value set to 0 (so it
                   adds 0); every sequence has exactly two +1 markers.
``"a"``            it keeps marker -1 and its value, and adds 0.
"""

from __future__ import annotations

import numpy as np

from ._base import Batch, SequenceTask, from_lengths, uniform_int, whole_number


def marked_pairs(rng, n, T, value_low, first_value, first_pair):
    """Inputs of ``n`` adding/multiplication sequences and their two marked values.

    Returns ``X, Y, resets, ends, v1, v2`` where ``v1``, ``v2`` (shape (n,))
    are the values the target is made of (``first_value`` where the first
    pair was chosen).
    """
    if first_pair not in ("a", "b"):
        raise ValueError(f"first_pair must be 'a' or 'b'; got {first_pair!r}")
    if T < 20:
        raise ValueError(f"T must be at least 20 (X_1 among the first 10 pairs, X_2 among the first T/2); got {T!r}")
    X, Y, resets, starts, ends = from_lengths(uniform_int(rng, T, T + T // 10, size=n), 2, 1)
    X[:, 0] = rng.uniform(value_low, 1.0, size=len(X))
    X[starts, 1] = -1.0
    X[ends, 1] = -1.0
    p1 = rng.integers(0, 10, size=n)  # 0-based position among the first ten pairs
    r = rng.integers(0, T // 2 - 1, size=n)  # among the first T/2, skipping p1
    p2 = r + (r >= p1)
    vals = []
    for pos in (p1, p2):
        rows = starts + pos
        first = pos == 0
        if first_pair == "b":
            X[rows[first], 0] = first_value
            X[rows, 1] = 1.0
        else:
            X[rows[~first], 1] = 1.0
        vals.append(np.where(first, first_value, X[rows, 0]))
    return X, Y, resets, ends, vals[0], vals[1]


class MarkedPairs(SequenceTask):
    """Base of the adding and multiplication problems: ``(value, marker)`` pairs.

    Subclasses set ``value_low``, ``first_value`` and ``_target(v1, v2)``.
    """

    n_in = 2
    n_out = 1
    value_low: float
    first_value: float

    def __init__(self, T=100, first_pair="b", seed=None):
        super().__init__(seed)
        T = whole_number("T (X_1 among the first 10 pairs, X_2 among the first T/2)", T, 20)
        if first_pair not in ("a", "b"):
            raise ValueError(f"first_pair must be 'a' or 'b'; got {first_pair!r}")
        self.T, self.first_pair = T, first_pair
        self.mean_length = T + (T // 10) / 2

    def _generate(self, rng, n):
        X, Y, resets, ends, v1, v2 = marked_pairs(rng, n, self.T, self.value_low, self.first_value,
                                                  self.first_pair)
        Y[ends, 0] = self._target(v1, v2)
        return Batch(X, Y, resets, ends, Y[ends].copy())


class Adding(MarkedPairs):
    """Experiment 4: the adding problem.

    Parameters
    ----------
    T : int
        Minimal sequence length (100, 500, 1000 in Table 7); the minimal
        lag is ``T/2``.
    first_pair : {"b", "a"}
        How a chosen first pair appears (module docstring).
    seed : int, sequence of int, SeedSequence, Generator or None
        Seed of the stream, as for :class:`~online_lstm.tasks.SequenceTask`.
    """

    value_low, first_value = -1.0, 0.0

    @staticmethod
    def _target(v1, v2):
        return 0.5 + (v1 + v2) / 4.0
