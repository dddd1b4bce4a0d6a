"""Review audit 3: claims of today's change checked against the code."""

from __future__ import annotations

import numpy as np

from online_lstm import OnlineLSTM
from online_lstm.evaluate import MAE, iter_progressive_val


def test_a_resumed_progressive_validation_counts_step_and_scored_from_the_resume():
    """iter_progressive_val's Notes: a resumed run's rows have the scores of
    the uninterrupted run, their step and scored counted from the resume."""
    import inspect

    notes = " ".join(inspect.getdoc(iter_progressive_val).split("Notes", 1)[1].split())
    assert "``step`` and ``scored`` count from the resume" in notes
    rng = np.random.default_rng(0)
    n = 400
    X, Y = rng.normal(size=(n, 3)), rng.uniform(0.1, 0.9, n)
    Y[rng.random(n) < 0.3] = np.nan  # unlabelled rows: scored differs from step
    stream = [(X[i], None if np.isnan(Y[i]) else Y[i]) for i in range(n)]
    full = list(iter_progressive_val(stream, OnlineLSTM(3, 1, seed=0), [MAE()], step=200))
    m, ms = OnlineLSTM(3, 1, seed=0), [MAE()]
    at = next(iter_progressive_val(stream, m, ms, step=200))
    (rest,) = iter_progressive_val(stream[200:], m, ms, step=200)
    assert rest["mae"] == full[1]["mae"]
    assert (rest["step"] + at["step"], rest["scored"] + at["scored"]) == \
        (full[1]["step"], full[1]["scored"])
    assert rest["scored"] != full[1]["scored"]  # not the uninterrupted run's own count
