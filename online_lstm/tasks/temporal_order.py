"""Experiment 6: temporal order (spec §5.6).

Coding: 8 input units, one-hot over ``E B a b c d X Y`` in that order.

* Length uniform in ``[100, 110]``.  The first input is ``E``, the last is
  the trigger ``B``; every other position is uniform from ``a b c d``,
  except the relevant positions, which hold ``X`` or ``Y`` (probability 0.5
  each): ``t_1 in [10, 20]``, ``t_2 in [50, 60]`` (6a) or ``t_1 in [10, 20]``,
  ``t_2 in [33, 43]``, ``t_3 in [66, 76]`` (6b); 1-based, inclusive (spec §8
  item 16).
* The class is the order of the relevant symbols read as a binary number
  with X = 0, Y = 1, first symbol most significant: 6a XX, XY, YX, YY ->
  Q, R, S, U (classes 0..3); 6b XXX .. YYY -> Q, R, S, U, V, A, B, C (0..7).
* The only target is at the last step (input ``B``): one output unit per
  class, one-hot.
"""

from __future__ import annotations

import numpy as np

from ._base import Batch, SequenceTask, from_lengths, uniform_int

SYMBOLS = "EBabcdXY"
#: windows (1-based, inclusive) of the relevant positions
WINDOWS = {"a": ((10, 20), (50, 60)), "b": ((10, 20), (33, 43), (66, 76))}
CLASS_NAMES = {"a": "QRSU", "b": "QRSUVABC"}


class TemporalOrder(SequenceTask):
    """Tasks 6a (4 classes) and 6b (8 classes).

    Parameters
    ----------
    variant : {"a", "b"}
    seed : int, sequence of int, SeedSequence, Generator or None
        Seed of the stream, as for :class:`~online_lstm.tasks.SequenceTask`.
    """

    n_in = 8
    mean_length = 105.0

    def __init__(self, variant="a", seed=None):
        super().__init__(seed)
        if not isinstance(variant, str) or variant not in WINDOWS:  # a list would be a TypeError
            raise ValueError(f"variant must be 'a' or 'b'; got {variant!r}")
        self.variant = variant
        self.n_out = 2 ** len(WINDOWS[variant])

    def _generate(self, rng, n):
        X, Y, resets, starts, ends = from_lengths(uniform_int(rng, 100, 110, size=n), 8, self.n_out)
        sym = 2 + rng.integers(0, 4, size=len(X))  # a b c d
        sym[starts] = 0  # E
        sym[ends] = 1  # B, the trigger
        cls = np.zeros(n, dtype=np.int64)
        for lo, hi in WINDOWS[self.variant]:
            bit = rng.integers(2, size=n)  # 0 = X, 1 = Y
            sym[starts + uniform_int(rng, lo, hi, size=n) - 1] = 6 + bit
            cls = 2 * cls + bit
        X[np.arange(len(X)), sym] = 1.0
        Y[ends] = 0.0
        Y[ends, cls] = 1.0
        return Batch(X, Y, resets, ends, Y[ends].copy())
