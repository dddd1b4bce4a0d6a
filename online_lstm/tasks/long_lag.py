"""Experiment 2: noise-free and noisy sequences with long time lags (spec §5.2)."""

from __future__ import annotations

import numpy as np


def task_2c_batch(rng: np.random.Generator, n_seq: int, q: int = 50, p: int = 50):
    """``n_seq`` Task 2c sequences, concatenated for ``learn_many``.

    Alphabet (one-hot over ``p + 4`` input units): distractors ``a_1..a_p``
    (units ``0..p-1``), the trigger ``e`` (unit ``p``), the start ``b``
    (unit ``p+1``), and the classes ``x``, ``y`` (units ``p+2``, ``p+3``).
    A sequence is ``b``, the class symbol, ``q`` uniform distractors, then
    more distractors while a coin with probability 0.9 says so, then ``e``.
    The final class symbol is the target at the step where ``e`` is the
    input (two output units, one-hot: x = [1, 0], y = [0, 1]); there is no
    target anywhere else (NaN).

    Returns
    -------
    X : ndarray of shape (T, p + 4)
    Y : ndarray of shape (T, 2), NaN except at each sequence's last step
    resets : bool ndarray of shape (T,), True at each sequence's first step
    ends : int ndarray of shape (n_seq,), index of each sequence's last step
    """
    E, B, X_, Y_ = p, p + 1, p + 2, p + 3
    seqs = []
    for _ in range(n_seq):
        cls = int(rng.integers(2))
        seq = [B, X_ + cls] + list(rng.integers(0, p, size=q))
        while rng.random() < 0.9:
            seq.append(int(rng.integers(0, p)))
        seq.append(E)
        seqs.append((seq, cls))
    T = sum(len(s) for s, _ in seqs)
    X = np.zeros((T, p + 4))
    Y = np.full((T, 2), np.nan)
    resets = np.zeros(T, dtype=bool)
    ends = np.empty(n_seq, dtype=np.int64)
    t = 0
    for i, (seq, cls) in enumerate(seqs):
        resets[t] = True
        X[np.arange(t, t + len(seq)), seq] = 1.0
        t += len(seq)
        Y[t - 1] = (1.0, 0.0) if cls == 0 else (0.0, 1.0)
        ends[i] = t - 1
    return X, Y, resets, ends
