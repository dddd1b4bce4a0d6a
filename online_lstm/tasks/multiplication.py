"""Experiment 5: the multiplication problem (spec §5.5).

As the adding problem (:mod:`online_lstm.tasks.adding`), except that values
are uniform in ``[0, 1]``, a chosen first pair counts as ``X_1 := 1.0``, and
the target at the last step is ``X_1 * X_2`` (no rescaling).  With
``first_pair="b"`` (default) that pair is marked +1 and its value shown as
1.0; with ``"a"`` it keeps marker -1 and its own value.
"""

from __future__ import annotations

from .adding import MarkedPairs


class Multiplication(MarkedPairs):
    """Experiment 5: the multiplication problem.

    Parameters
    ----------
    T : int
        Minimal sequence length (100 in Table 8).
    first_pair : {"b", "a"}
    seed : int, sequence of int, SeedSequence, Generator or None
        Seed of the stream, as for :class:`~online_lstm.tasks.SequenceTask`.
    """

    value_low, first_value = 0.0, 1.0

    @staticmethod
    def _target(v1, v2):
        return v1 * v2
