"""The continual embedded Reber stream (Gers, Schmidhuber & Cummins 2000; spec §7.1).

Embedded Reber strings (spec §5.1) follow one another with no break and no
reset::

    ... B T <inner Reber string> T E B P <inner Reber string> P E B T ...

One symbol is read per step and the net predicts the next one.  Within each
string the symbol after the first ``B`` (T or P) must be remembered across
the inner string and reproduced before the final ``E``; nothing marks where
one string's memory stops mattering except the symbols themselves.  The 1997
LSTM, which can only accumulate (its states are never reset), breaks down on
this stream; a net with forget gates can learn to reset its own cells.

Coding: the seven symbols ``B T P S X V E`` one-hot, in that order, on 7 input
and 7 output units.  Targets (spec §8 item 12; UNCONFIRMED which one Gers et
al. used): ``"legal"`` (default) marks every symbol the grammar allows next
(multi-hot), so a target is a function of the stream so far; ``"next"`` is the
one-hot actual next symbol.  A prediction counts as correct when the squared
error of every output unit is below 0.49 (spec §7.1, [SECONDARY]).  That
rule passes an output of 0.5 for both T and P where one of them must be
recalled, so :func:`correct_strict` is reported too: the smallest output
among the allowed symbols exceeds the largest among the others (the strict
reading of Experiment 1's criterion, spec §8 item 14).

The grammar and the string sampler are Experiment 1's
(``online_lstm.tasks.reber``), so a seed draws the same strings in both.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from .._validate import seeded_rng
from ._base import whole_number
from .reber import SYMBOLS, embedded_reber_string, legal_successors

_IDX = {c: i for i, c in enumerate(SYMBOLS)}

#: a prediction is correct when every output's squared error is below this
CORRECT_BELOW = 0.49


def _legal_after(s: str) -> list:
    """Symbols the grammar allows after each symbol of embedded string ``s``,
    in the continual stream (after the final E comes the next string's B)."""
    return legal_successors(s) + [{"B"}]


@dataclass(frozen=True)
class StreamChunk:
    """The next whole strings of the stream, one row per symbol read.

    Attributes
    ----------
    X : ndarray of shape (T, 7)
        One-hot input symbols.
    Y : ndarray of shape (T, 7)
        Targets (see the module docstring).
    legal : bool ndarray of shape (T, 7)
        The symbols allowed next.
    starts : int ndarray of shape (n,)
        Row of each string's first symbol (its ``B``).
    recall : int ndarray of shape (n,)
        Row of each string's long-lag prediction: the input is the inner
        string's ``E``, the target the remembered ``T`` or ``P``.
    strings : list of str
    """

    X: np.ndarray
    Y: np.ndarray
    legal: np.ndarray
    starts: np.ndarray
    recall: np.ndarray
    strings: list

    def __len__(self):
        """Number of strings."""
        return len(self.strings)


class ContinualReber:
    """An endless stream of embedded Reber strings, handed out in chunks.

    Consecutive :meth:`chunk` calls continue one stream: the last row of a
    chunk reads a string's ``E`` and its target is the next string's ``B``.

    Parameters
    ----------
    targets : {"legal", "next"}
        Multi-hot legal successors, or the one-hot actual next symbol.
    seed : int, sequence of int, SeedSequence, Generator or None
        Seeds the strings (as for :class:`~online_lstm.tasks.SequenceTask`).
    """

    n_in = n_out = 7

    def __init__(self, targets: str = "legal", seed=None):
        if targets not in ("legal", "next"):
            raise ValueError(f"targets must be 'legal' or 'next'; got {targets!r}")
        self.targets = targets
        self._rng = seeded_rng(seed)

    def __copy__(self):
        """A copy that goes on with the same strings as this stream, on a
        generator of its own (a shallow copy shared it: taking a chunk from
        either moved the other)."""
        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        new._rng = copy.deepcopy(self._rng)
        return new

    def chunk(self, n_strings: int) -> StreamChunk:
        """The next ``n_strings`` strings of the stream (a whole number >= 0)."""
        n_strings = whole_number("n_strings", n_strings, 0)
        strings = [embedded_reber_string(self._rng) for _ in range(n_strings)]
        lengths = np.array([len(s) for s in strings], dtype=np.int64)
        T = int(lengths.sum())
        starts = (np.cumsum(lengths) - lengths).astype(np.int64)  # (empty for no strings)
        codes = np.array([_IDX[c] for c in "".join(strings)], dtype=np.int64)
        X = np.zeros((T, 7))
        X[np.arange(T), codes] = 1.0
        legal = np.zeros((T, 7), dtype=bool)
        row = 0
        for s in strings:
            for a, succ in enumerate(_legal_after(s)):
                legal[row + a, [_IDX[c] for c in succ]] = True
            row += len(s)
        if self.targets == "legal":
            Y = legal.astype(np.float64)
        else:
            nxt = np.append(codes[1:], _IDX["B"])  # every string starts with B
            Y = np.zeros((T, 7))
            Y[np.arange(T), nxt] = 1.0
        return StreamChunk(X, Y, legal, starts, starts + lengths - 3, strings)


def correct(out: np.ndarray, Y: np.ndarray, below: float = CORRECT_BELOW) -> np.ndarray:
    """Which predictions are correct: every output's squared error below
    ``below`` (Gers et al. 2000).  ``out`` and ``Y`` have shape (T, 7);
    returns a bool array of shape (T,)."""
    return np.all((out - Y) ** 2 < below, axis=1)


def correct_strict(out: np.ndarray, legal: np.ndarray) -> np.ndarray:
    """Which predictions single out the allowed symbols: the smallest output
    among them exceeds the largest among the others.  Shapes (T, 7); returns
    a bool array of shape (T,)."""
    lo = np.where(legal, out, np.inf).min(axis=1)
    hi = np.where(legal, -np.inf, out).max(axis=1)
    return lo > hi


def _chunk_stats(out: np.ndarray, chunk: StreamChunk) -> dict:
    ok = correct(out, chunk.Y)
    strict = correct_strict(out, chunk.legal)
    first_bad = np.flatnonzero(~ok)
    return dict(symbols=len(ok), symbols_ok=float(ok.mean()),
                strings_ok=float(np.mean(np.add.reduceat(~ok, chunk.starts) == 0)),
                recall_ok=float(ok[chunk.recall].mean()),
                strings_ok_strict=float(np.mean(np.add.reduceat(~strict, chunk.starts) == 0)),
                recall_ok_strict=float(strict[chunk.recall].mean()),
                first_error=int(first_bad[0]) if len(first_bad) else None)


def train_continual(learner, stream: ContinualReber, n_strings: int, chunk: int = 1000,
                    progress=None) -> list:
    """Learn online from the next ``n_strings`` strings of ``stream``, never
    resetting, ``chunk`` strings per :meth:`~online_lstm.OnlineLSTM.learn_many` call.

    Each prediction is scored before its own update.  A
    :class:`~online_lstm.errors.DivergenceError` (a state beyond
    ``state_bound``) ends the run: the learner keeps the state before the
    refused step, and the last row records where it happened.

    Parameters
    ----------
    learner : OnlineLSTM
        7 inputs, 7 outputs.
    progress : callable, optional
        Called with each chunk's row (a dict) as it is done.

    Returns
    -------
    list of dict
        One row per chunk: ``strings`` (seen so far), ``symbols_ok``,
        ``strings_ok`` (every symbol of the string correct), ``recall_ok``
        (the long-lag T/P predictions), the last two also by
        :func:`correct_strict` (``*_strict``), ``max_abs_s`` (largest cell
        state after the chunk), ``diverged`` (the refused step, or None).
    """
    from ..errors import DivergenceError

    n_strings = whole_number("n_strings", n_strings, 0)
    chunk = whole_number("chunk", chunk, 1)
    rows, seen = [], 0
    while seen < n_strings:
        ch = stream.chunk(min(chunk, n_strings - seen))
        diverged = None
        out = np.full_like(ch.Y, np.nan)  # rows a divergence stops are not predicted: errors
        try:
            learner.learn_many(ch.X, ch.Y, out=out)
        except DivergenceError as err:
            diverged = err.step
        seen += len(ch)
        row = dict(strings=seen, **_chunk_stats(out, ch),
                   max_abs_s=float(np.max(np.abs(learner.state_["s_c"]))), diverged=diverged)
        rows.append(row)
        if progress is not None:
            progress(row)
        if diverged is not None:
            break
    return rows


def evaluate_continual(learner, stream: ContinualReber, n_strings: int, chunk: int = 10_000,
                       diverged: int | None = None) -> dict:
    """Frozen-weight test on the next ``n_strings`` strings; the stream, and
    the learner's state, go on from where they are (no reset).

    A :class:`~online_lstm.errors.DivergenceError` stops the learner: every
    symbol from the refused step on counts as an error.  ``diverged``, the
    step of a divergence before the test (``train_continual``'s last row's),
    counts every test symbol as an error: the learner is not run from the
    state it stopped in.

    Returns
    -------
    dict
        ``symbols``, ``symbols_before_first_error`` (all of them if none),
        ``symbols_ok``, ``strings_ok``, ``recall_ok``, ``strings_ok_strict``,
        ``recall_ok_strict`` (see :func:`train_continual`), ``max_abs_s``,
        ``diverged`` (the refused step, or None).
    """
    from ..errors import DivergenceError

    n_strings = whole_number("n_strings", n_strings, 1)
    chunk = whole_number("chunk", chunk, 1)
    if diverged is not None and (isinstance(diverged, bool) or not isinstance(diverged, (int, np.integer))):
        raise ValueError(f"diverged must be None or the step of the divergence; got {diverged!r}")
    done, first, n_sym = 0, None, 0
    ok_sym = 0.0
    per_string = dict.fromkeys(("strings_ok", "recall_ok", "strings_ok_strict", "recall_ok_strict"), 0.0)
    max_s = 0.0
    while done < n_strings:
        ch = stream.chunk(min(chunk, n_strings - done))
        out = np.full_like(ch.Y, np.nan)
        if diverged is None:
            try:
                learner.predict_many(ch.X, out=out)
            except DivergenceError as err:
                diverged = err.step
        st = _chunk_stats(out, ch)
        if first is None and st["first_error"] is not None:
            first = n_sym + st["first_error"]
        n_sym += st["symbols"]
        ok_sym += st["symbols_ok"] * st["symbols"]
        for key in per_string:
            per_string[key] += st[key] * len(ch)
        max_s = max(max_s, float(np.max(np.abs(learner.state_["s_c"]))))
        done += len(ch)
    return dict(symbols=n_sym, symbols_before_first_error=n_sym if first is None else first,
                symbols_ok=ok_sym / n_sym, **{k: v / done for k, v in per_string.items()},
                max_abs_s=max_s, diverged=diverged)
