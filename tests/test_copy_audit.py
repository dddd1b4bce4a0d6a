"""Audit: copy / pickle / clone semantics, and determinism across processes.

What is checked here (what other test files already cover is not repeated:
``test_checkpoint.py``, ``test_delayed*.py``, ``test_bank.py``,
``test_river.py`` and ``statecheck.py`` carry learners over by pickle and
deepcopy mid-sequence):

* ``copy.copy`` of every object is independent of the original: a learner's
  or bank's copy owns its memory, and a task generator's copy its random
  generator (a shallow copy shared it, so sampling from the copy moved the
  original's stream);
* every copy (``copy.copy``, ``copy.deepcopy``, pickle protocols 2..5) goes
  on bit-identically: learners with a pending step and open delayed targets,
  the competitors, the River adapters, and task generators mid-block and
  across a block boundary;
* a pickle carries no compiled dispatcher and no regenerable bulk: a task
  generator's pickle holds the generator state, not its internal block of
  up to a thousand sequences (tens of MB for Task 2a);
* exceptions keep their notes and attributes through pickle;
* a fresh process, with another ``PYTHONHASHSEED`` and 1 or 2 Numba threads,
  loads those pickles and continues them with the same bits, and computes
  the same initial weights, 1,000 learned steps (learner and threaded bank),
  sampled batches and a short experiment trial as this process.
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from online_lstm import DivergenceError, LearnerBank, OnlineLSTM
from online_lstm.bank import BankDivergenceError
from online_lstm.tasks import (
    Adding, ContinualReber, EmbeddedReber, Multiplication, Task2a, Task2b, Task2c, TemporalOrder,
    TwoSequence,
)

PROTOCOLS = (2, 3, 4, 5)

#: every task generator, small, one of each class (and the options that change _generate)
TASKS = {
    "reber": lambda seed: EmbeddedReber(n_train=20, n_test=5, seed=seed),
    "reber-epochs": lambda seed: EmbeddedReber(n_train=20, n_test=5, sampling="epochs", seed=seed),
    "2a": lambda seed: Task2a(p=6, seed=seed),
    "2b": lambda seed: Task2b(p=6, seed=seed),
    "2c": lambda seed: Task2c(q=10, p=6, seed=seed),
    "3a": lambda seed: TwoSequence("a", T=12, seed=seed),
    "3c": lambda seed: TwoSequence("c", T=12, seed=seed),
    "4": lambda seed: Adding(T=20, seed=seed),
    "5": lambda seed: Multiplication(T=20, seed=seed),
    "6a": lambda seed: TemporalOrder("a", seed=seed),
    "6b": lambda seed: TemporalOrder("b", seed=seed),
}

_BATCH_FIELDS = ("X", "Y", "resets", "ends", "target", "legal")


def same_batch(a, b) -> bool:
    """Two batches hold the same bits (NaN targets included)."""
    for f in _BATCH_FIELDS:
        u, v = getattr(a, f), getattr(b, f)
        if (u is None) != (v is None):
            return False
        if u is not None and (u.dtype != v.dtype or u.shape != v.shape or u.tobytes() != v.tobytes()):
            return False
    return True


def copies(obj, hows=("copy", "deepcopy") + tuple(f"pickle{p}" for p in PROTOCOLS)):
    """``(how, copy of obj)`` for every way of copying it."""
    for how in hows:
        if how == "copy":
            yield how, copy.copy(obj)
        elif how == "deepcopy":
            yield how, copy.deepcopy(obj)
        else:
            yield how, pickle.loads(pickle.dumps(obj, protocol=int(how[-1])))


# ---------------------------------------------------------------------------
# task generators
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", TASKS)
def test_a_copied_task_samples_the_same_sequences_and_leaves_the_original_alone(name):
    """Mid-block and across a block boundary.  ``copy.copy`` shared the
    generator: the copy's next block moved the original's stream, so the
    original then gave other sequences than an untouched twin."""
    make = TASKS[name]

    def started():
        task = make(seed=7)
        task.sample(3)  # mid-block
        return task

    n = make(seed=7).block + 2  # the next call crosses into a new block
    for how in ("copy", "deepcopy") + tuple(f"pickle{p}" for p in PROTOCOLS):
        task = started()
        (_, c), = copies(task, (how,))
        assert same_batch(c.sample(n), started().sample(n)), how  # goes on as the original would
        assert same_batch(task.sample(n), started().sample(n)), how  # which did not move
        assert c.get_state() == task.get_state(), how


@pytest.mark.parametrize("how", ["copy", "deepcopy", "pickle5"])
def test_a_copied_task_seeded_with_a_generator_has_a_generator_of_its_own(how):
    """A task built from a Generator draws from it (documented); its copy
    replays the same stream on a generator of its own, and its ``seed``
    names that generator, as in a deep copy."""
    def started():
        task = Adding(T=20, seed=np.random.default_rng(3))
        task.sample(2)
        return task

    task = started()
    (_, c), = copies(task, (how,))
    assert c._rng is not task._rng and c.seed is c._rng
    assert same_batch(c.sample(task.block), started().sample(task.block))
    assert same_batch(task.sample(5), started().sample(5))  # the original's stream did not move


@pytest.mark.parametrize("how", ["copy", "deepcopy", "pickle2", "pickle5"])
def test_a_copied_continual_reber_stream_goes_on_with_the_same_strings(how):
    stream, twin = ContinualReber(seed=4), ContinualReber(seed=4)
    stream.chunk(3)
    twin.chunk(3)
    (_, c), = copies(stream, (how,))
    a = c.chunk(5)
    b = twin.chunk(5)
    assert a.strings == b.strings and np.array_equal(a.X, b.X) and np.array_equal(a.Y, b.Y)
    assert stream.chunk(5).strings == b.strings  # the original did not move


@pytest.mark.parametrize("name", TASKS)
def test_a_task_pickle_holds_the_stream_state_not_its_internal_block(name):
    """The block of up to a thousand sequences that ``sample`` cuts from is
    made again from the generator state it was made from: a pickle is as
    small mid-block as before the first ``sample`` (it was the block's size,
    30 MB for ``Task2a(p=100)``), and the copy goes on with the same bits
    (checked above)."""
    task = TASKS[name](seed=7)
    fresh = len(pickle.dumps(task))
    task.sample(3)
    assert len(pickle.dumps(task)) < fresh + 2_000


def test_a_task_pickled_with_its_block_loads_and_goes_on():
    """Pickles made before the block was left out hold it: it is used as it is."""
    task = Adding(T=20, seed=5)
    task.sample(3)
    state = dict(task.__dict__, _rng=copy.deepcopy(task._rng))
    old = Adding.__new__(Adding)
    old.__setstate__(state)  # what unpickling such a pickle does
    assert old._buf is task._buf
    assert same_batch(old.sample(task.block), task.sample(task.block))


# ---------------------------------------------------------------------------
# exceptions
# ---------------------------------------------------------------------------
def _raised(call):
    try:
        call()
    except DivergenceError as exc:
        return exc
    raise AssertionError("no divergence")


def _diverging_learner_error():
    """The error a learner raises when a cell state runs past its bound."""
    m = OnlineLSTM(1, 1, bias="none", h="id", g="g1", output_gates=False, connectivity="B",
                   state_bound=10.0, seed=0)
    m.set_weights(W_in=np.full((1, 1), 5.0), W_c=np.full((1, 1), 5.0))
    return _raised(lambda: m.learn_many(np.ones((100, 1)), np.full((100, 1), 0.5)))


def _diverging_bank_error():
    bank = LearnerBank(3, 1, 1, bias="none", h="id", g="g1", output_gates=False, connectivity="B",
                       state_bound=[1e6, 10.0, 1e6], seed=[0, 0, 0])
    W = bank.get_weights()
    bank.set_weights(W_in=np.full_like(W["W_in"], 5.0), W_c=np.full_like(W["W_c"], 5.0))
    return _raised(lambda: bank.learn_many(np.ones((3, 100, 1)), np.full((3, 100, 1), 0.5)))


@pytest.mark.parametrize("make", [_diverging_learner_error, _diverging_bank_error])
def test_a_divergence_error_keeps_its_notes_and_attributes_through_copy_and_pickle(make):
    """``BaseException`` pickles its ``__dict__``; the custom ``__reduce__``
    kept only ``.state``, so a note (``add_note``, e.g. by a scheduler
    naming the trial) or an attribute set on the error was lost on its way
    back from a worker process."""
    err = make()
    err.add_note("trial 3 of preset 4-1")
    err.trial = 3
    err.state = {"theta": np.arange(3.0)}
    for how, back in copies(err):
        assert type(back) is type(err) and str(back) == str(err), how
        assert back.__notes__ == ["trial 3 of preset 4-1"] and back.trial == 3, how
        assert np.array_equal(np.asarray(back.step), np.asarray(err.step)), how
        assert np.array_equal(np.asarray(back.row), np.asarray(err.row)) and back.reason == err.reason, how
        assert np.array_equal(back.state["theta"], err.state["theta"]), how
        if isinstance(err, BankDivergenceError):
            assert back.learners.tolist() == [1] and back.reasons == err.reasons, how
            assert np.array_equal(back.out, err.out, equal_nan=True), how
