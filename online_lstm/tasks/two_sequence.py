"""Experiment 3: noise and signal on the same input line (spec §5.3).

Bengio et al.'s (1994) 2-sequence problem and two noisier variants.  One
real-valued input unit and one output unit.

* Length ``L`` uniform in ``[T, T + T // 10]`` (inclusive, spec §8 item 16).
* Two classes, probability 0.5 each.  The first ``N`` inputs are +1.0
  (class 1) or -1.0 (class 2); every later input is Gaussian noise with
  mean 0 and variance 0.2 (std ≈ 0.447, spec §8 item 20).
* The only target is at the last step.

Variants
--------
``"a"``  targets 1.0 (class 1) and 0.0 (class 2).
``"b"``  as "a", and the first ``N`` inputs also carry the Gaussian noise.
``"c"``  inputs as "a"; targets 0.2 (class 1) and 0.8 (class 2) plus
         Gaussian noise of variance 0.1 (std ≈ 0.316).  ``Batch.target``
         holds the noise-free 0.2 / 0.8 the net should learn (the
         conditional expectation).
"""

from __future__ import annotations

import numpy as np

from ._base import Batch, SequenceTask, from_lengths, uniform_int, whole_number

NOISE_STD = np.sqrt(0.2)
TARGET_NOISE_STD = np.sqrt(0.1)


class TwoSequence(SequenceTask):
    """Tasks 3a, 3b, 3c.

    Parameters
    ----------
    variant : {"a", "b", "c"}
    T : int
        Minimal sequence length (100 or 1000 in the paper).
    N : int
        Number of informative leading elements (1 or 3).
    seed : int, sequence of int, SeedSequence, Generator or None
        Seed of the stream, as for :class:`~online_lstm.tasks.SequenceTask`.
    """

    n_in = 1
    n_out = 1

    def __init__(self, variant="a", T=100, N=3, seed=None):
        super().__init__(seed)
        if variant not in ("a", "b", "c"):
            raise ValueError(f"variant must be 'a', 'b' or 'c'; got {variant!r}")
        T, N = whole_number("T", T, 2), whole_number("N", N, 1)
        if not 1 <= N < T:
            raise ValueError(f"need 1 <= N < T; got N={N!r}, T={T!r}")
        self.variant, self.T, self.N = variant, T, N
        self.mean_length = T + (T // 10) / 2

    def _generate(self, rng, n):
        T, N = self.T, self.N
        lengths = uniform_int(rng, T, T + T // 10, size=n)
        cls = rng.integers(2, size=n)  # 0 = class 1, 1 = class 2
        X, Y, resets, starts, ends = from_lengths(lengths, 1, 1)
        X[:, 0] = rng.normal(0.0, NOISE_STD, size=len(X))
        head = (starts[:, None] + np.arange(N)).ravel()
        sign = np.repeat(np.where(cls == 0, 1.0, -1.0), N)
        if self.variant == "b":
            X[head, 0] += sign
        else:
            X[head, 0] = sign
        if self.variant == "c":
            clean = np.where(cls == 0, 0.2, 0.8)
            Y[ends, 0] = clean + rng.normal(0.0, TARGET_NOISE_STD, size=n)
        else:
            clean = np.where(cls == 0, 1.0, 0.0)
            Y[ends, 0] = clean
        return Batch(X, Y, resets, ends, clean[:, None].copy())
