"""A small long-lag task is learned inside the test suite (Task 2c, q = p = 50)."""

import numpy as np

from online_lstm.paper import table10_learner
from online_lstm.tasks import Task2c


def test_2c_q50_p50_is_learned():
    stream = Task2c(q=50, p=50, seed=2024)
    m = table10_learner("2c-1", seed=3)  # 364 weights, lr 0.01, no biases
    assert m.layout.n_params == 364
    streak, seen = 0, 0
    solved_at = None
    while seen < 200_000:
        X, Y, resets, ends = stream.sample(1000)
        out = m.learn_many(X, Y, resets)
        ok = np.all(np.abs(out[ends] - Y[ends]) < 0.2, axis=1)  # ABS(0.2), before each update
        for good in ok:
            seen += 1
            streak = streak + 1 if good else 0
            if streak >= 10_000 and solved_at is None:
                solved_at = seen
        if solved_at is not None:
            break
    # success (spec §5.2): 10,000 successive sequences with final error < 0.2
    # on both outputs.  The paper's mean is 30,000 sequences to success
    # (Table 3); this budget only asks that the long lag is bridged at all.
    assert solved_at is not None, f"not solved after {seen} sequences"
    # a confirming frozen test: weights fixed, 2000 fresh sequences
    X, Y, resets, ends = Task2c(q=50, p=50, seed=7).sample(2000)
    out = m.predict_many(X, resets)
    err = np.abs(out[ends] - Y[ends]).max(axis=1)
    assert np.mean(err < 0.2) >= 0.995
    assert np.median(err) < 0.05
