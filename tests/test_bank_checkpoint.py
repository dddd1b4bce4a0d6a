"""Checkpoints of a LearnerBank: save, load and restore continue bit-identically,
and a bad or foreign file is refused with nothing changed."""

import numpy as np
import pytest

from online_lstm import CheckpointError, OnlineLSTM
from online_lstm.bank import LearnerBank

from conftest import ALL_ARCHS
from test_bank import make_bank, streams


def half_way(name, update="step", seed=0):
    """A bank part-way through its streams (mid-sequence, a step pending for
    some learners), and the rest of the streams."""
    bank = make_bank(name, seed, update=update)
    rng = np.random.default_rng(seed + 100)
    X, Y, R = streams(rng, bank.n_learners, 70, bank.layout)
    bank.learn_many(X[:, :33], Y[:, :33], R[:, :33])
    bank.predict_one(X[:, 33])  # leaves a step without a target pending
    return bank, (X[:, 34:], Y[:, 34:], R[:, 34:])


def same_bits(a: LearnerBank, b: LearnerBank):
    sa, sb = a.state_arrays(), b.state_arrays()
    return all(np.array_equal(sa[k].view(np.uint64), sb[k].view(np.uint64)) for k in sa)


@pytest.mark.parametrize("name", ["F-og-all-S3", "F-og-gates-S1", "F-og-all-S3+fg+ph"])
@pytest.mark.parametrize("update", ["step", "sequence"])
def test_save_load_continues_bit_identically(name, update, tmp_path):
    bank, (X, Y, R) = half_way(name, update)
    path = bank.save(tmp_path / "bank.npz")
    loaded = LearnerBank.load(path)
    assert same_bits(loaded, bank)
    assert loaded.seeds_ == bank.seeds_ and np.array_equal(loaded.lr, bank.lr)
    out_a = bank.learn_many(X, Y, R)
    out_b = loaded.learn_many(X, Y, R)
    assert np.array_equal(out_a.view(np.uint64), out_b.view(np.uint64))
    assert same_bits(loaded, bank)


def test_restore_into_an_existing_bank(tmp_path):
    bank, (X, Y, R) = half_way("F-og-hidden-S2")
    bank.save(tmp_path / "b.npz")
    other = make_bank("F-og-hidden-S2", seed=7)  # other weights and learning rates
    other.restore(tmp_path / "b.npz")
    assert same_bits(other, bank)
    assert np.array_equal(bank.learn_many(X, Y, R), other.learn_many(X, Y, R))


def test_a_loaded_learner_equals_the_single_learner_it_was(tmp_path):
    bank, _ = half_way("F-og-all-S3")
    single = bank.learner(3)
    loaded = LearnerBank.load(bank.save(tmp_path / "b.npz"))
    a, b = loaded.learner(3).state_arrays(), single.state_arrays()  # scratch is not state
    assert all(np.array_equal(a[k].view(np.uint64), b[k].view(np.uint64)) for k in a)


@pytest.mark.parametrize("change", [dict(n=4), dict(n_blocks=3), dict(update="sequence")])
def test_restore_refuses_another_configuration_and_changes_nothing(change, tmp_path):
    bank, _ = half_way("F-og-all-S3")
    bank.save(tmp_path / "b.npz")
    kw = dict(change)
    n = kw.pop("n", 5)
    other = make_bank("F-og-all-S3", seed=3, n=n, **kw)
    before = other.state_arrays()
    with pytest.raises(CheckpointError, match="another configuration"):
        other.restore(tmp_path / "b.npz")
    after = other.state_arrays()
    assert all(np.array_equal(before[k], after[k], equal_nan=True) for k in before)


def test_truncated_or_corrupted_file_is_refused(tmp_path):
    bank, _ = half_way("F-og-gates-S1")
    raw = bank.save(tmp_path / "b.npz").read_bytes()
    for i, cut in enumerate((10, len(raw) // 2, len(raw) - 1)):
        p = tmp_path / f"cut{i}.npz"
        p.write_bytes(raw[:cut])
        with pytest.raises(CheckpointError):
            LearnerBank.load(p)
    flipped = bytearray(raw)
    flipped[len(raw) // 3] ^= 0xFF
    (tmp_path / "flip.npz").write_bytes(bytes(flipped))
    other = make_bank("F-og-gates-S1", seed=9)  # a restore that went through would change it
    before = other.state_arrays()
    with pytest.raises(CheckpointError):
        other.restore(tmp_path / "flip.npz")
    after = other.state_arrays()
    assert all(np.array_equal(before[k], after[k], equal_nan=True) for k in before)


def test_a_learner_file_is_not_a_bank_file_and_back(tmp_path):
    m = OnlineLSTM(**ALL_ARCHS["F-og-gates-S1"], seed=0)
    m.save(tmp_path / "m.npz")
    with pytest.raises(CheckpointError, match="LearnerBank"):
        LearnerBank.load(tmp_path / "m.npz")
    bank, _ = half_way("F-og-gates-S1")
    bank.save(tmp_path / "b.npz")
    with pytest.raises(CheckpointError, match="OnlineLSTM"):
        OnlineLSTM.load(tmp_path / "b.npz")


@pytest.mark.parametrize("seed", [5, [3, 4, 5, 6]])
def test_a_loaded_bank_keeps_its_seed_and_clones_the_same(seed, tmp_path):
    bank = LearnerBank(4, 3, 2, 2, seed=seed)
    loaded = LearnerBank.load(bank.save(tmp_path / "b.npz"))
    assert loaded.get_params() == bank.get_params()
    assert np.array_equal(loaded.clone().theta_, bank.clone().theta_)


def test_restore_takes_the_checkpoints_parameters(tmp_path):
    """As OnlineLSTM.restore does: the state and the constructor arguments."""
    src = LearnerBank(2, 3, 2, 1, init_range=0.1, in_gate_bias=-1.0, out_gate_bias=-2.0, seed=3)
    dst = LearnerBank(2, 3, 2, 1, init_range=0.5, seed=9)
    dst.restore(src.save(tmp_path / "b.npz"))
    assert dst.get_params() == src.get_params()
    assert np.array_equal(dst.clone().theta_, src.clone().theta_)


def test_bank_checkpoint_keeps_none_seeds_and_refuses_a_negative_bank_seed(tmp_path):
    import online_lstm.checkpoint as ck

    bank = LearnerBank.from_learners([OnlineLSTM(2, 1, seed=None), OnlineLSTM(2, 1, seed=5)])
    assert bank.seeds_ == [None, 5]
    back = LearnerBank.load(bank.save(tmp_path / "b.npz", fsync=False))
    assert back.seeds_ == [None, 5] and back.learner(0).seed is None
    arrays, meta = ck.read_checkpoint(LearnerBank(2, 2, 1, seed=3).save(tmp_path / "c.npz", fsync=False))
    ck.write_checkpoint(tmp_path / "neg.npz", arrays, dict(meta, bank_seed=-1), fsync=False)
    with pytest.raises(CheckpointError, match="bank_seed"):
        LearnerBank.load(tmp_path / "neg.npz")


def test_a_bank_seeded_by_an_array_keeps_its_seed_in_a_checkpoint(tmp_path):
    """seed=np.array([...]) (N ints, as a list would be) once became
    bank_seed null in the file: the loaded bank's clone() drew fresh weights."""
    bank = LearnerBank(3, 2, 1, seed=np.array([7, 8, 9]))
    loaded = LearnerBank.load(bank.save(tmp_path / "b.npz", fsync=False))
    assert loaded.seed == [7, 8, 9]
    assert np.array_equal(loaded.clone().theta_, bank.clone().theta_)


def test_a_bank_configuration_that_disagrees_with_the_stored_sizes_is_refused_before_building(
        tmp_path, monkeypatch):
    from test_checkpoint import _edit_meta

    bank = LearnerBank(3, 2, 2, n_blocks=2, seed=0)
    p = bank.save(tmp_path / "a.npz", fsync=False)

    def calls(*args, **kwargs):
        raise AssertionError("the bank was built before its sizes were checked")

    monkeypatch.setattr(LearnerBank, "__init__", calls)
    big = _edit_meta(p, tmp_path / "big.npz", lambda m: m["config"].update(n_blocks=10**6))
    with pytest.raises(CheckpointError, match="configuration has .* weights per learner"):
        LearnerBank.load(big)
    more = _edit_meta(p, tmp_path / "more.npz", lambda m: m.update(seeds=m["seeds"] * 1000))
    with pytest.raises(CheckpointError, match="one row per learner .3000 seeds"):
        LearnerBank.load(more)
