"""Audit of the task generators' public API (online_lstm.tasks)."""

import json

import numpy as np
import pytest

from online_lstm.tasks import EmbeddedReber, Task2c


@pytest.mark.parametrize("kind", ["MT19937", "Philox", "SFC64", "PCG64"])
def test_stream_state_of_a_task_seeded_with_any_generator_is_json_and_resumes(kind):
    """A seed may be a Generator of any bit generator: get_state is JSON
    values and set_state continues the stream (it built a PCG64 only)."""
    task = Task2c(q=5, p=3, seed=np.random.Generator(getattr(np.random, kind)(1)))
    task.sample(3)
    state = json.loads(json.dumps(task.get_state()))
    expected = task.sample(task.block)  # across a block end
    other = Task2c(q=5, p=3, seed=0)
    other.set_state(state)
    got = other.sample(task.block)
    np.testing.assert_array_equal(got.X, expected.X)
    np.testing.assert_array_equal(got.ends, expected.ends)
    assert json.dumps(other.get_state()) == json.dumps(task.get_state())


def test_a_stream_state_naming_no_bit_generator_is_refused_as_such():
    for rng in ("x", {"bit_generator": "Foo"}, {"bit_generator": "Generator"}):
        with pytest.raises(ValueError, match="not a stream state of Task2c"):
            Task2c(q=5, p=3).set_state({"block_rng": None, "pos": 0, "rng": rng})


def test_pcg64_stream_states_are_unchanged():
    """The states the runner's checkpoints hold (PCG64, seeded by lists)."""
    task = EmbeddedReber(seed=[3, 1], sets_seed=[3, 3])
    task.sample(5)
    state = task.get_state()
    assert state["rng"] == task._rng.bit_generator.state
    assert state["block_rng"]["bit_generator"] == "PCG64"


def test_gather_refuses_a_mask_and_fractions_instead_of_misreading_them():
    """A bool mask read as indices 0/1 and 0.7 as 0, silently."""
    b = Task2c(q=5, p=3, seed=0).sample(4)
    for bad in (np.array([True, False, True, False]), [0.7, 2.2], [[0, 1], [2, 3]]):
        with pytest.raises(ValueError, match="gather needs a 1-D sequence of integer"):
            b.gather(bad)
    with pytest.raises(ValueError, match="np.flatnonzero"):
        b.gather(np.ones(4, dtype=bool))
    g = b.gather(np.array([3, 0], dtype=np.uint8))  # ints of any width, and an empty list
    np.testing.assert_array_equal(g.lengths, b.lengths[[3, 0]])
    assert len(b.gather([])) == 0 and b.gather([]).X.shape == (0, b.X.shape[1])


def test_reber_refuses_a_target_coding_before_drawing_the_sets():
    """targets was checked by encode, after both sets were drawn from the
    seed: a shared Generator lost draws to a refused construction."""
    gen = np.random.default_rng(0)
    before = gen.bit_generator.state
    for bad in ("nxt", None, ["next"]):
        with pytest.raises(ValueError, match="targets must be 'next' or 'legal'"):
            EmbeddedReber(n_train=50, n_test=5, targets=bad, seed=gen)
    assert gen.bit_generator.state == before


def test_batches_compare_by_identity_and_continual_reber_is_exported():
    """``batch == other`` raised "truth value of an array is ambiguous" (a frozen
    dataclass compares its array fields); the continual Reber stream was missing
    from ``online_lstm.tasks``."""
    import online_lstm.tasks as tasks
    from online_lstm.tasks.continual_reber import ContinualReber

    a = tasks.Adding(T=20, seed=0).sample(2)
    b = tasks.Adding(T=20, seed=0).sample(2)
    assert a == a and a != b and len({a, b}) == 2  # identity, as for other mutable containers
    assert tasks.ContinualReber is ContinualReber and "ContinualReber" in tasks.__all__


def test_a_numpy_number_parameter_is_the_same_task_as_its_python_value():
    """A task's identity (what a stream state must match) read NumPy numbers as
    their type's name: ``sets_seed=np.int64(5)`` refused the state of the same
    task built with ``sets_seed=5``.  A state from other data sets is still refused."""
    from online_lstm.tasks import EmbeddedReber

    a = EmbeddedReber(seed=1, sets_seed=np.int64(5))
    a.sample(3)
    b = EmbeddedReber(seed=2, sets_seed=5)
    b.set_state(a.get_state())
    assert np.array_equal(a.sample(2).X, b.sample(2).X)
    with pytest.raises(ValueError):
        EmbeddedReber(seed=2, sets_seed=np.int64(6)).set_state(a.get_state())


def test_a_sample_too_large_for_any_machine_is_refused_at_once():
    """``sample(2**70)`` generated blocks until memory ran out, and a task built
    with an absurd length (``Adding(T=10**30)``) failed inside NumPy; both are
    refused before anything is drawn, with the size they would take."""
    from online_lstm.tasks import Adding

    task = Adding(T=100, seed=0)
    state = task.get_state()
    with pytest.raises(ValueError, match="GiB; sample fewer at a time"):
        task.sample(2 ** 70)
    assert task.get_state() == state
    with pytest.raises(ValueError, match="GiB"):
        Adding(T=10 ** 30, seed=0).sample(1)


def test_a_sample_that_fails_part_way_leaves_the_stream_where_it_was(monkeypatch):
    """A failure while a later block is made (MemoryError, Ctrl-C) had moved the
    stream on: the next sample skipped the sequences taken before the failure."""
    from online_lstm.tasks import Adding

    task, twin = Adding(T=20, seed=3), Adding(T=20, seed=3)
    task.sample(5)
    twin.sample(5)
    generate, calls = task._generate, []

    def failing(rng, block):
        calls.append(block)
        if len(calls) == 1:
            raise MemoryError("made up")
        return generate(rng, block)

    monkeypatch.setattr(task, "_generate", failing)
    with pytest.raises(MemoryError):
        task.sample(task.block + 10)  # needs a new block
    assert task.get_state() == twin.get_state()
    a, b = task.sample(task.block + 10), twin.sample(task.block + 10)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.Y, b.Y, equal_nan=True)
