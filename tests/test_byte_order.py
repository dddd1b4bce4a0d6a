"""States and checkpoints in the other byte order.

A checkpoint written on a big-endian machine holds its arrays big-endian
(``>f8``); its index says so, and its digests are of those bytes.  The same
numbers read here must load and go on exactly as the little-endian file does
("convert what is safe"): converting the byte order of a float64 loses
nothing.  The same holds for a state handed to ``load_state_arrays``.  A
file whose arrays disagree with its own index is still refused.
"""

import numpy as np
import pytest

from online_lstm import LearnerBank, OnlineLSTM
from online_lstm.baselines import BPTT, RTRL
from online_lstm.checkpoint import read_checkpoint, write_checkpoint
from online_lstm.errors import CheckpointError
from online_lstm.experiments import KIND_TRIAL, run_trial
from online_lstm.presets import PRESETS

from zipcheck import consistent, npy_bytes, rewrite


def _swapped(a):
    """``a`` with the other byte order (same numbers), as the other machine writes it."""
    a = np.asarray(a)
    if a.dtype.itemsize == 1:
        return a
    other = a.astype(a.dtype.newbyteorder("S"))
    assert other.dtype.byteorder != a.dtype.byteorder and np.array_equal(other, a)
    return other


def _stream(n_in, rng, n=40):
    return rng.normal(size=(n, n_in)), rng.normal(size=(n, 2))


LEARNERS = {
    "lstm": lambda: OnlineLSTM(3, 2, n_blocks=2, block_size=2, seed=1),
    "lstm-forget-delay": lambda: OnlineLSTM(3, 2, n_blocks=2, block_size=1, forget_gate=True,
                                            peepholes=True, max_delay=3, seed=1),
    "rtrl": lambda: RTRL(3, 2, 3, seed=1),
    "bptt": lambda: BPTT(3, 2, 3, window=4, seed=1),
}


def _trained(make):
    m = make()
    X, Y = _stream(3, np.random.default_rng(0))
    Y[::3] = np.nan  # some steps without a target: a pending step, traces in flight
    m.learn_many(X, Y)
    return m


@pytest.mark.parametrize("kind", sorted(LEARNERS))
def test_a_big_endian_checkpoint_loads_and_goes_on_bit_identically(tmp_path, kind):
    m = _trained(LEARNERS[kind])
    native = m.save(tmp_path / "native.npz")
    arrays, meta = read_checkpoint(native)
    assert all(a.dtype.isnative for a in arrays.values())
    other = write_checkpoint(tmp_path / "other.npz", {k: _swapped(a) for k, a in arrays.items()}, meta)
    with np.load(other) as z:  # the file really is in the other byte order
        assert any(not z[k].dtype.isnative for k in z.files)
    a, b = type(m).load(native), type(m).load(other)
    X, Y = _stream(3, np.random.default_rng(1))
    np.testing.assert_array_equal(a.learn_many(X, Y), b.learn_many(X, Y))
    for (k, u), v in zip(a.state_arrays().items(), b.state_arrays().values()):
        assert v.dtype.isnative, k
        np.testing.assert_array_equal(u, v, err_msg=k)


@pytest.mark.parametrize("kind", sorted(LEARNERS))
def test_load_state_arrays_takes_the_other_byte_order(kind):
    m = _trained(LEARNERS[kind])
    state = m.state_arrays()
    a, b = LEARNERS[kind](), LEARNERS[kind]()
    a.load_state_arrays(state)
    b.load_state_arrays({k: _swapped(v) for k, v in state.items()})
    X, Y = _stream(3, np.random.default_rng(2))
    np.testing.assert_array_equal(a.learn_many(X, Y), b.learn_many(X, Y))
    for (k, u), v in zip(a.state_arrays().items(), b.state_arrays().values()):
        np.testing.assert_array_equal(u, v, err_msg=k)


def test_a_big_endian_bank_checkpoint_loads(tmp_path):
    bank = LearnerBank(3, 3, 2, n_blocks=2, block_size=1, seed=4)
    rng = np.random.default_rng(3)
    for _ in range(10):
        bank.learn_one(rng.normal(size=(3, 3)), rng.normal(size=(3, 2)))
    arrays, meta = read_checkpoint(bank.save(tmp_path / "native.npz"))
    other = write_checkpoint(tmp_path / "other.npz", {k: _swapped(a) for k, a in arrays.items()}, meta)
    a, b = LearnerBank.load(tmp_path / "native.npz"), LearnerBank.load(other)
    x, y = rng.normal(size=(3, 3)), rng.normal(size=(3, 2))
    np.testing.assert_array_equal(a.learn_one(x, y), b.learn_one(x, y))
    for (k, u), v in zip(a.state_arrays().items(), b.state_arrays().values()):
        np.testing.assert_array_equal(u, v, err_msg=k)


class _Stop(Exception):
    pass


def test_a_big_endian_trial_checkpoint_resumes_to_the_same_record(tmp_path):
    preset = PRESETS["1-5"].with_options(limit=600)

    def stop(n, steps, seen=[0]):
        seen[0] += n
        if seen[0] >= 300:
            raise _Stop

    path = tmp_path / "trial.npz"
    with pytest.raises(_Stop):
        run_trial(preset, trial=1, seed=2, progress=stop, checkpoint=path, checkpoint_every=0)
    arrays, meta = read_checkpoint(path, kind=KIND_TRIAL)
    other = tmp_path / "other.npz"
    write_checkpoint(other, {k: _swapped(a) for k, a in arrays.items()}, meta)
    records = [run_trial(preset, trial=1, seed=2, checkpoint=p, checkpoint_every=0, resume=True)
               for p in (path, other)]
    timing = {"wall_s", "cpu_s", "steps_per_s"}
    assert {k: v for k, v in records[0].items() if k not in timing} == \
        {k: v for k, v in records[1].items() if k not in timing}


def test_an_array_in_another_byte_order_than_its_index_says_is_still_refused(tmp_path):
    path = _trained(LEARNERS["lstm"]).save(tmp_path / "native.npz")
    arrays, _ = read_checkpoint(path)
    # the member swapped, its index entry left saying native order: the file contradicts itself
    wrong = rewrite(path, tmp_path / "wrong.npz", [("theta.npy", npy_bytes(_swapped(arrays["theta"])))])
    with pytest.raises(CheckpointError, match="'theta' is >f8 .*the index says <f8"):
        OnlineLSTM.load(wrong)
    # the same member with an index entry that says what it is: the same numbers, loaded
    fixed = consistent(path, tmp_path / "fixed.npz", "theta", _swapped(arrays["theta"]))
    np.testing.assert_array_equal(OnlineLSTM.load(fixed).state_arrays()["theta"], arrays["theta"])
