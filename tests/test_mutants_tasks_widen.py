"""Tests written to kill mutants of the task generators (``online_lstm/tasks/*.py``)
and of ``online_lstm/widen.py`` that the other fast tests (test_tasks*,
test_task_spec, test_continual_reber, test_widen*) let through in a mutation
audit.  Each test's docstring names the mutant it kills; the expected values
come from the spec (``../shared/spec/lstm1997.md`` §5, §7.1, §8), the modules'
documented contracts, a hand count, or a slow loop written here, never from
the generator's own output.
"""

from __future__ import annotations

import copy
from collections import Counter

import numpy as np
import pytest

from online_lstm import OnlineLSTM
from online_lstm.tasks import (Adding, ContinualReber, EmbeddedReber, Task2a, Task2b, Task2c,
                               TemporalOrder, TwoSequence)
from online_lstm.tasks import continual_reber as cr
from online_lstm.tasks import reber
from online_lstm.tasks.adding import marked_pairs
from online_lstm.widen import widen

SYMBOLS = "BTPSXVE"


def _one_hot_symbols(rows):
    return "".join(SYMBOLS[int(np.argmax(r))] for r in rows)


# --------------------------------------------------------------------------- _base.py


def test_the_stream_of_a_seed_is_made_in_blocks_of_1024_sequences():
    """Kills the block cap ``min(1024, ...)`` -> ``min(512, ...)`` in
    ``SequenceTask.block``.  The stream of a seed is part of every
    reproduction record, and ``SequenceTask`` documents it as made in
    internal blocks fixed by the task: at most 1024 sequences, fewer when a
    block would pass 2,000,000 input floats.  Task2b(p=10) has 10 steps of
    11 inputs per sequence, so its blocks hold 1024 sequences.  The slow
    loop below draws them as the module documents: per block, the classes
    (x = a_p, unit p-1, or y, unit p) then the i.i.d. middles over
    a_1..a_{p-1} (spec §5.2, Task 2b)."""
    p, n = 10, 1100
    rng = np.random.default_rng(7)
    expected = []
    while len(expected) < n:
        cls = (p - 1) + rng.integers(2, size=1024)
        middle = rng.integers(0, p - 1, size=(1024, p - 1))
        expected += [[c, *m, c] for c, m in zip(cls, middle)]
    b = Task2b(p=p, seed=7).sample(n)
    got = np.argmax(b.X, axis=1).reshape(n, p)
    got = np.column_stack([got, np.argmax(b.target, axis=1)])
    np.testing.assert_array_equal(got, np.array(expected[:n]))


def test_a_state_taken_at_the_end_of_a_block_continues_the_stream():
    """Kills ``0 <= pos <= len(buf)`` -> ``0 <= pos < len(buf)`` in
    ``set_state``: after exactly one block has been sampled the position is
    the block's length, a valid state (the next sample makes a new block)."""
    task = Task2c(q=300, p=300, seed=4)
    task.sample(task.block)
    state = task.get_state()
    assert state["pos"] == task.block
    other = Task2c(q=300, p=300, seed=99)
    other.set_state(state)
    np.testing.assert_array_equal(other.sample(5).X, task.sample(5).X)


def test_a_copied_task_goes_on_with_its_own_generator():
    """Kills ``new._rng = copy.deepcopy(self._rng)`` -> ``new._rng = self._rng``
    in ``SequenceTask.__copy__``: the copy must give the same sequences as the
    original however the two are interleaved (the docstring's contract), also
    past the end of the current block."""
    task = Task2c(q=300, p=300, seed=5)  # 21 sequences per block
    task.sample(3)
    twin = copy.copy(task)
    a = task.sample(3 * task.block)
    b = twin.sample(3 * task.block)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.Y, b.Y)


def test_one_at_a_time_gives_the_same_stream_across_block_ends():
    """Kills ``self._pos == len(self._buf)`` -> ``self._pos >= len(self._buf) - 1``
    in ``sample`` (a new block made one sequence early, dropping the block's
    last sequence).  ``sample(3)`` then ``sample(5)`` is ``sample(8)``
    (SequenceTask docstring); here across two block ends."""
    one = Task2c(q=300, p=300, seed=3)
    assert one.block == 21  # 2e6 // ((300 + 12) * 304) input floats
    parts = [one.sample(1) for _ in range(45)]
    whole = Task2c(q=300, p=300, seed=3).sample(45)
    np.testing.assert_array_equal(np.concatenate([b.X for b in parts]), whole.X)


def test_a_stream_state_does_not_fit_a_task_with_another_p():
    """Kills dropping ``p`` from the parameters ``_identity`` digests: a state
    of Task2b(p=5) taken before any sample (no block to make again and check)
    must be refused by Task2b(p=6), whose sequences are of another width."""
    state = Task2b(p=5, seed=1).get_state()
    with pytest.raises(ValueError, match="does not fit"):
        Task2b(p=6, seed=1).set_state(state)


# --------------------------------------------------------------------------- reber.py


def test_strict_rule_counts_a_tie_as_wrong():
    """Kills ``lo > hi`` -> ``lo >= hi`` in ``reber.correct_steps``.  Spec §8
    item 14: "at every position, the smallest output among the legal
    successors is larger than the largest output among the illegal symbols";
    equal outputs single nothing out."""
    legal = np.zeros((2, 7), dtype=bool)
    legal[:, 1] = True
    out = np.full((2, 7), 0.5)
    out[1, 1] = 0.6
    np.testing.assert_array_equal(reber.correct_steps(out, legal, "strict"), [False, True])


def test_a_string_with_one_wrong_step_is_not_predicted_correctly():
    """Kills ``bad == 0`` -> ``bad <= 1`` in ``correct_sequences``.  Spec
    §5.1: trial success needs "every symbol of every sequence" predicted
    correctly.  Both strings below are hand-checked embedded Reber strings
    (inner BTXSE, the shortest)."""
    b = reber.encode(["BTBTXSETE", "BPBTXSEPE"])
    out = b.legal.astype(float)
    assert reber.correct_sequences(out, b).tolist() == [True, True]
    out[3] = 1.0 - out[3]  # one step of the first string
    assert reber.correct_sequences(out, b).tolist() == [False, True]


def test_epochs_are_whole_permutations_also_when_n_train_does_not_divide_1024():
    """Kills ``self.n_train * max(1, b // self.n_train)`` -> ``b`` in
    ``EmbeddedReber.block``: with ``sampling="epochs"`` every run of
    ``n_train`` strings (from the start) is the training set in some order,
    each string once (module docstring); a block of 1024 would cut the
    fourth epoch of 300."""
    task = EmbeddedReber(n_train=300, n_test=0, sampling="epochs", seed=2)
    b = task.sample(1800)
    strings = [_one_hot_symbols(b.X[s:e + 1]) + "E" for s, e in zip(b.starts, b.ends)]
    want = Counter(task.train_strings)
    for k in range(6):
        assert Counter(strings[300 * k: 300 * (k + 1)]) == want, k


def test_incomplete_strings_are_not_reber_strings():
    """Kills dropping ``states[-1] == 7`` (the end state) from ``is_reber``:
    BTX is a prefix of the inner grammar, not a string of it (spec §5.1 table:
    every string ends with E), and BTBTSSXTE holds such a prefix where the
    inner string belongs."""
    assert reber.is_reber("BTXSE") and not reber.is_reber("BTX")
    assert reber.is_embedded_reber("BTBTXSETE")
    assert not reber.is_embedded_reber("BTBTSSXTE")


@pytest.mark.parametrize("targets", ["next", "legal"])
def test_reber_batch_target_is_the_final_E(targets):
    """Kills ``Y[ends]`` -> ``Y[ends - 1]`` for ``Batch.target`` in
    ``reber.encode``.  Spec §8 item 17c: "The final E is the last target";
    the legal successors after the closing T/P are {E} alone."""
    b = EmbeddedReber(n_train=20, n_test=5, targets=targets, seed=0).train
    e = np.zeros(7)
    e[SYMBOLS.index("E")] = 1.0
    np.testing.assert_array_equal(b.target, np.tile(e, (20, 1)))


# --------------------------------------------------------------------------- continual_reber.py


def test_continual_correct_needs_the_squared_error_strictly_below():
    """Kills ``< below`` -> ``<= below`` in ``continual_reber.correct``, and
    ``CORRECT_BELOW = 0.49`` -> ``0.5``.  Spec §7.1: "a prediction counted as
    correct when the squared error of every output unit was below 0.49".
    0.5**2 == 0.25 exactly; 0.705**2 = 0.497 lies between 0.49 and 0.5,
    0.69**2 = 0.4761 below both."""
    Y = np.zeros((1, 7))
    out = np.zeros((1, 7))
    out[0, 2] = 0.5
    assert not cr.correct(out, Y, below=0.25)[0]
    out[0, 2] = 0.705
    assert not cr.correct(out, Y)[0]
    out[0, 2] = 0.69
    assert cr.correct(out, Y)[0]


class _Oracle:
    """Stands in for a learner on the continual stream: it predicts the
    targets of a twin of the stream (exactly right), then ``spoil(call, X,
    out)`` may make some rows wrong.  ``s_c`` lists the cell state to show
    after each call."""

    def __init__(self, stream, spoil=None, s_c=(0.0,)):
        self.mirror = copy.deepcopy(stream)
        self.spoil = spoil or (lambda call, X, out: None)
        self.s_c = list(s_c)
        self.calls = 0
        self.state_ = {"s_c": np.zeros(1)}

    def _predict(self, X, out):
        n = int(X[:, SYMBOLS.index("B")].sum()) // 2  # two B per embedded string
        ch = self.mirror.chunk(n)
        np.testing.assert_array_equal(ch.X, X)
        out[:] = ch.Y
        self.spoil(self.calls, X, out)
        self.state_ = {"s_c": np.array([self.s_c[min(self.calls, len(self.s_c) - 1)]])}
        self.calls += 1

    def learn_many(self, X, Y, out):
        self._predict(X, out)

    def predict_many(self, X, out):
        self._predict(X, out)


def _wrong(out, rows):
    out[rows] = 1.0 - out[rows]  # every unit off by 1: wrong by every rule


def test_train_continual_counts_a_string_with_one_error_as_wrong():
    """Kills ``reduceat(~ok, starts) == 0`` -> ``<= 1`` for ``strings_ok``:
    "strings_ok (every symbol of the string correct)" (train_continual
    docstring).  One wrong row (row 2: the inner B's successor) in the first
    of four strings."""
    stream = ContinualReber(seed=1)
    rows = cr.train_continual(_Oracle(stream, lambda c, X, out: _wrong(out, [2])), stream, 4, chunk=4)
    assert len(rows) == 1
    assert rows[0]["strings_ok"] == 0.75 and rows[0]["strings_ok_strict"] == 0.75
    assert rows[0]["recall_ok"] == 1.0


def test_recall_rows_are_the_inner_E_steps():
    """Kills ``ok[chunk.recall]`` -> ``ok[chunk.recall - 1]`` in the chunk
    statistics.  The long-lag prediction is made at the step whose input is
    the inner string's E (the E followed by T or P, found by scanning the
    symbols here); spoiling exactly those steps must make every recall
    wrong and nothing else."""
    stream = ContinualReber(seed=2)

    def spoil(call, X, out):
        sym = _one_hot_symbols(X)
        _wrong(out, [t for t in range(len(sym) - 1) if sym[t] == "E" and sym[t + 1] in "TP"])

    rows = cr.train_continual(_Oracle(stream, spoil), stream, 6, chunk=6)
    assert rows[0]["recall_ok"] == 0.0 and rows[0]["recall_ok_strict"] == 0.0
    assert rows[0]["strings_ok"] == 0.0
    assert rows[0]["symbols_ok"] == pytest.approx(1 - 6 / rows[0]["symbols"])


def test_train_continual_takes_exactly_n_strings():
    """Kills ``stream.chunk(min(chunk, n_strings - seen))`` -> ``stream.chunk(chunk)``:
    5 strings in chunks of 3 are 3 then 2, and the stream goes on with the
    sixth string."""
    stream = ContinualReber(seed=3)
    twin = copy.deepcopy(stream)
    rows = cr.train_continual(_Oracle(stream), stream, 5, chunk=3)
    assert [r["strings"] for r in rows] == [3, 5]
    assert stream.chunk(1).strings == twin.chunk(6).strings[5:]


def test_first_error_is_counted_from_the_start_of_the_test():
    """Kills ``first = n_sym + st["first_error"]`` -> ``first = st["first_error"]``
    in ``evaluate_continual``: an error at row 1 of the second chunk comes
    after every symbol of the first chunk (two strings)."""
    stream = ContinualReber(seed=4)
    first_two = sum(len(s) for s in copy.deepcopy(stream).chunk(2).strings)
    oracle = _Oracle(stream, lambda call, X, out: _wrong(out, [1]) if call == 1 else None)
    res = cr.evaluate_continual(oracle, stream, 4, chunk=2)
    assert res["symbols_before_first_error"] == first_two + 1


def test_a_diverged_learner_is_not_run_and_every_test_symbol_is_wrong():
    """Kills ``if diverged is None:`` -> ``if True:`` in ``evaluate_continual``:
    "``diverged`` ... counts every test symbol as an error: the learner is
    not run from the state it stopped in" (its docstring)."""
    stream = ContinualReber(seed=5)
    oracle = _Oracle(stream)
    res = cr.evaluate_continual(oracle, stream, 3, diverged=7)
    assert oracle.calls == 0
    assert res["symbols_ok"] == 0.0 and res["strings_ok"] == 0.0 and res["recall_ok"] == 0.0
    assert res["symbols_before_first_error"] == 0 and res["diverged"] == 7


def test_evaluate_continual_reports_the_largest_state_over_all_chunks():
    """Kills ``max_s = max(max_s, ...)`` -> the last chunk's value in
    ``evaluate_continual``: ``max_abs_s`` is the largest |s_c| seen, here
    after the first of two chunks."""
    stream = ContinualReber(seed=6)
    res = cr.evaluate_continual(_Oracle(stream, s_c=(-5.0, 1.0)), stream, 4, chunk=2)
    assert res["max_abs_s"] == 5.0


def test_a_copied_continual_stream_goes_on_with_its_own_generator():
    """Kills ``new._rng = copy.deepcopy(self._rng)`` -> ``self._rng`` in
    ``ContinualReber.__copy__``: a copy goes on with the same strings as the
    stream (its docstring), whichever is read first."""
    s = ContinualReber(seed=7)
    s.chunk(2)
    t = copy.copy(s)
    assert s.chunk(5).strings == t.chunk(5).strings


# --------------------------------------------------------------------------- mean_length


def _spec_mean_lengths():
    """(task, expected steps per sequence from the spec's wording)."""
    q = 20
    return [
        # 2a/2b: p + 1 elements, the last only a target -> p steps
        (Task2a(p=7, seed=0), 7.0),
        (Task2b(p=7, seed=0), 7.0),
        # 2c: length q + k + 4 with the final class symbol a target only, E[k] = 9 (spec §5.2)
        (Task2c(q=q, p=5, seed=0), q + 12.0),
        # 3, 4: L uniform in [T, T + T/10] (spec §8 item 16)
        (TwoSequence(T=100, seed=0), 105.0),
        (Adding(T=100, seed=0), 105.0),
        # 6: length uniform in [100, 110] (spec §5.6)
        (TemporalOrder("a", seed=0), 105.0),
    ]


@pytest.mark.parametrize("i", range(6))
def test_mean_length_is_the_spec_expected_length(i):
    """Kills ``mean_length = q + 3 + 9.0`` -> ``q + 3 + 10.0`` (Task2c) and
    ``mean_length = 105.0`` -> ``100.0`` (TemporalOrder): ``mean_length`` is
    "expected number of steps per sequence" (it sizes the stream's blocks,
    so a wrong value changes every seed's stream).  Checked against the
    spec's value and against the mean of 20,000 sampled lengths (within 5
    standard errors)."""
    task, want = _spec_mean_lengths()[i]
    assert task.mean_length == want
    lengths = task.sample(20_000).lengths
    se = lengths.std() / np.sqrt(len(lengths))
    assert abs(lengths.mean() - want) <= 5 * se + 1e-12


# --------------------------------------------------------------------------- two_sequence.py, adding.py


def test_two_sequence_needs_noise_after_the_informative_elements():
    """Kills ``1 <= N < T`` -> ``1 <= N <= T`` in ``TwoSequence``: "Positions
    t > N: Gaussian noise" (spec §5.3) needs N < T, the check the class
    states (``need 1 <= N < T``)."""
    with pytest.raises(ValueError, match="N < T"):
        TwoSequence(T=5, N=5)


def test_marked_pairs_refuses_T_below_20():
    """Kills ``if T < 20`` -> ``if T < 2`` in ``marked_pairs``: X_1 is one of
    the first ten pairs and X_2 one of the first T/2 (spec §5.4), so T/2 >= 10
    is needed.  ``marked_pairs`` is a public function of the module, so its
    own check guards callers that do not go through the classes' check."""
    with pytest.raises(ValueError, match="at least 20"):
        marked_pairs(np.random.default_rng(0), 1, 19, -1.0, 0.0, "b")
    X, Y, resets, ends, v1, v2 = marked_pairs(np.random.default_rng(0), 50, 20, -1.0, 0.0, "b")
    assert len(ends) == 50


# --------------------------------------------------------------------------- widen.py


def test_a_seedsequence_seed_gets_the_new_sizes_appended_to_its_spawn_key():
    """Kills ``spawn_key=(*seed.spawn_key, n_in, n_out)`` -> ``spawn_key=seed.spawn_key``
    in ``widen._default_rng``.  Documented: "a SeedSequence gets the sizes
    appended to its spawn key" (without it the new units' weights were the
    draws the learner's own initial weights came from)."""
    ss = np.random.SeedSequence(3, spawn_key=(1,))
    m = OnlineLSTM(2, 1, 2, 1, seed=ss)
    a = widen(m, n_in=3)
    b = widen(m, n_in=3, rng=np.random.default_rng(np.random.SeedSequence(3, spawn_key=(1, 3, 1))))
    c = widen(m, n_in=3, rng=np.random.default_rng(np.random.SeedSequence(3, spawn_key=(1,))))
    np.testing.assert_array_equal(a.theta_, b.theta_)
    assert not np.array_equal(a.theta_, c.theta_)
