"""Tests written to kill mutants of the Python-side state management
(``learner.py``, ``checkpoint.py``, ``bank.py``, ``_validate.py``) that the
other tests let through in a mutation audit.  Each test's docstring names the
mutant it kills; expected states come from twin learners, never from stored
outputs.
"""

from __future__ import annotations

import os
import stat
import tempfile

import numpy as np
import pytest

import online_lstm.checkpoint as ck
from online_lstm import CheckpointError, InputError, LearnerBank, NoPendingStepError, OnlineLSTM

from conftest import ALL_ARCHS, random_stream
from statecheck import same_state


def _stepped(update="sequence", max_delay=2, steps=30, seed=0):
    """A learner mid-sequence, with an accumulated update (``update="sequence"``),
    non-zero traces, and a step awaiting its target in the snapshot ring."""
    m = OnlineLSTM(**ALL_ARCHS["F-og-all-S3"], init_range=0.5, lr=0.3, update=update,
                   max_delay=max_delay, seed=seed)
    X, Y, _ = random_stream(np.random.default_rng(seed), steps, m.layout.n_in, m.layout.n_out)
    m.learn_many(X, Y)
    m.predict_one(X[0])
    return m


def test_a_save_forces_the_file_to_disk_before_the_rename_and_the_directory_after(
        tmp_path, monkeypatch):
    """Kills the mutants ``if fsync: os.fsync(fh.fileno())`` -> ``if False:``
    and ``if fsync: _fsync_dir(directory)`` -> ``if False:`` in
    ``checkpoint.write_checkpoint`` (the durability half of the documented
    write protocol: file flushed and fsync-ed, renamed, directory fsync-ed);
    neither changes a file a test can read back, only what a power cut keeps.
    With ``fsync=False`` nothing is forced."""
    events, real_fsync, real_replace = [], os.fsync, os.replace

    def fsync(fd):
        st = os.fstat(fd)
        events.append(("fsync", st.st_ino, "dir" if stat.S_ISDIR(st.st_mode) else "file"))
        return real_fsync(fd)

    def replace(src, dst, *a, **kw):
        events.append(("replace", os.stat(src).st_ino, "file"))
        return real_replace(src, dst, *a, **kw)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    m = _stepped()
    path = m.save(tmp_path / "m.npz")
    ino = path.stat().st_ino
    assert events == [("fsync", ino, "file"), ("replace", ino, "file"),
                      ("fsync", tmp_path.stat().st_ino, "dir")], events
    events.clear()
    m.save(tmp_path / "m.npz", fsync=False)
    assert [e[0] for e in events] == ["replace"]
    assert same_state(OnlineLSTM.load(path).state_arrays(), m.state_arrays())


@pytest.mark.parametrize("kind", ["learner", "bank"])
def test_an_indexed_array_the_state_has_not_is_refused(kind, tmp_path):
    """Kills the mutant ``if set(arrays) != set(expect):`` -> ``if not
    set(expect) <= set(arrays):`` in ``checkpoint._check_names``: a learner
    or bank checkpoint holding an array beyond its state's (listed in the
    index, with a good checksum, so ``read_checkpoint`` takes it) was loaded
    with that array silently dropped; the module docstring promises a
    CheckpointError for "a missing or extra array".  Restoring it changes
    nothing."""
    obj = _stepped() if kind == "learner" else LearnerBank(2, 2, 1, max_delay=1, seed=0)
    if kind == "bank":
        obj.predict_one(np.ones((2, 2)))
    path = obj.save(tmp_path / "good.npz", fsync=False)
    arrays, meta = ck.read_checkpoint(path)
    for junk in ("junk", "slots_old"):
        bad = ck.write_checkpoint(tmp_path / "bad.npz", dict(arrays, **{junk: arrays["theta"]}),
                                  meta, fsync=False)
        with pytest.raises(CheckpointError, match="holds arrays"):
            type(obj).load(bad)
        before = obj.state_arrays()
        with pytest.raises(CheckpointError, match="holds arrays"):
            obj.restore(bad)
        assert same_state(obj.state_arrays(), before)


def _bank_and_twins(D=2, steps=4, n=3):
    """A bank with a window for delayed targets, and separate learners fed the same."""
    bank = LearnerBank(n, 2, 2, 2, 1, init_range=0.5, lr=0.3, max_delay=D, seed=4, parallel=False)
    twins = [bank.learner(i) for i in range(n)]
    rng = np.random.default_rng(1)
    for _ in range(steps):
        X = rng.uniform(-1, 1, (n, 2))
        bank.predict_one(X)
        for i, m in enumerate(twins):
            m.predict_one(X[i])
    return bank, twins


def test_a_learner_without_a_target_needs_no_step_of_its_age():
    """Kills the mutant ``bad = np.flatnonzero(wants & ((ages < 0) | (ages >
    oldest)))`` -> ``bad = np.flatnonzero((ages < 0) | (ages > oldest))`` in
    ``LearnerBank._ages``: ``learn_delayed`` documents that learners whose
    row is all NaN are left alone and only a learner *with* a target must
    keep a step of its age; the mutant refused the whole call for the age
    of a learner that takes no target.  The others learn as separate
    learners do."""
    bank, twins = _bank_and_twins()
    Y = np.array([[0.3, -0.2], [np.nan, np.nan], [0.1, np.nan]])
    ages = np.array([2, 7, 1])  # 7: beyond max_delay, for the learner without a target
    bank.learn_delayed(Y, ages)
    twins[0].learn_delayed(Y[0], 2)
    twins[2].learn_delayed(Y[2], 1)
    for i, m in enumerate(twins):
        assert same_state(bank.learner(i).state_arrays(), m.state_arrays()), f"learner {i}"
    assert bank.open_targets(np.array([0, 0, 0])).all()  # (age 0 untouched everywhere)
    with pytest.raises(InputError, match="learner 0 has no step of age 7"):
        bank.learn_delayed(Y, 7)  # a learner with a target still needs one


def test_targets_for_more_or_fewer_steps_than_inputs_are_refused():
    """Kills the mutant ``if Y3.shape[1] != steps:`` -> ``if False:`` in
    ``LearnerBank._step``: ``learn_many`` with ``Y`` of shape (N, T + 1, K)
    ran with the extra targets dropped (and with T - 1 would read past the
    end of ``Y``).  Every learner must be left unchanged, with an InputError."""
    bank, _ = _bank_and_twins(D=0)
    before = bank.state_arrays()
    rng = np.random.default_rng(2)
    X = rng.uniform(-1, 1, (3, 5, 2))
    for T in (6, 4):
        Y = rng.uniform(-1, 1, (3, T, 2))
        with pytest.raises(InputError, match=r"Y must have shape \(3, 5, 2\)"):
            bank.learn_many(X, Y)
        assert same_state(bank.state_arrays(), before)


def test_a_bank_seed_that_did_not_spawn_the_learners_seeds_is_refused(tmp_path):
    """Kills the mutant ``if _learner_seeds(value, len(seeds)) == seeds:`` ->
    ``if True:`` in ``checkpoint._bank_seed_from``: a bank checkpoint whose
    metadata names an int ``bank_seed`` other than the one that spawned its
    learners' ``seeds`` was loaded with that seed, so ``clone()`` of the
    loaded bank rebuilt other learners than the ones saved.  The file is
    refused (and ``restore`` changes nothing); its true seed loads."""
    bank = LearnerBank(3, 2, 1, seed=5, parallel=False)
    bank.learn_one(np.ones((3, 2)), np.zeros((3, 1)))
    path = bank.save(tmp_path / "bank.npz", fsync=False)
    arrays, meta = ck.read_checkpoint(path)
    assert meta["bank_seed"] == 5
    back = LearnerBank.load(path)
    assert np.array_equal(back.clone().theta_, LearnerBank(3, 2, 1, seed=5).theta_)
    bad = ck.write_checkpoint(tmp_path / "bad.npz", arrays, dict(meta, bank_seed=6), fsync=False)
    with pytest.raises(CheckpointError, match="bank_seed"):
        LearnerBank.load(bad)
    other = LearnerBank(3, 2, 1, seed=1, parallel=False)
    before = other.state_arrays()
    with pytest.raises(CheckpointError, match="bank_seed"):
        other.restore(bad)
    assert same_state(other.state_arrays(), before) and other.seed == 1


def test_an_open_snapshot_of_a_step_older_than_the_window_is_refused_on_load():
    """Kills the mutant ``(held >= 1) & (held > n_steps - m["n_slots"])`` ->
    ``(held >= 1)`` in ``learner.check_state_arrays``: a state whose ring
    has a slot still awaiting targets for a step that left the window (its
    slot belongs to a later step now, which no learner leaves behind) was
    loaded; ``open_targets`` then reported open outputs for the later step
    that ``learn_delayed`` could not take, and a bank's ``learn_delayed``
    raised for that learner after changing the others.  It must be refused
    and change nothing, here and in a bank."""
    m = OnlineLSTM(2, 1, max_delay=1, seed=0)  # 2 slots: step t in slot t % 2
    for x in ([0.1, 0.2], [0.3, -0.1], [-0.2, 0.4]):
        m.predict_one(x)  # slot 0 holds step 2, slot 1 step 1, both open
    meta, s = m.layout.meta, m.state_arrays()
    ring = s["slots"].reshape(meta["n_slots"], meta["slot_size"]).copy()
    ring[0, meta["sl_step"]] = 1.0  # slot 0 "still holds" step 0, open, two steps back
    s["slots"] = ring.ravel()
    before = m.state_arrays()
    with pytest.raises(InputError, match="slots"):
        m.load_state_arrays(s)
    assert same_state(m.state_arrays(), before)
    bank = LearnerBank.from_learners([m, m], parallel=False)
    rows = {k: np.stack([before[k], v]) for k, v in s.items()}
    before = bank.state_arrays()
    with pytest.raises(InputError, match="learner 1: .*slots"):
        bank.load_state_arrays(rows)
    assert same_state(bank.state_arrays(), before)


def test_removing_unfinished_saves_removes_those_and_nothing_else(tmp_path):
    """Kills the mutant ``glob(f".{pattern}.*{_TMP_SUFFIX}")`` ->
    ``glob(f"{pattern}.*{_TMP_SUFFIX}")`` in
    ``checkpoint.remove_unfinished_saves`` (run by ``experiments`` over its
    checkpoint directory): it deleted files of the user's that merely end
    like a temporary name (``a.npz.v2.tmp``).  Only the temporary files a
    save makes (named as ``write_checkpoint`` names them) of checkpoints
    matching the pattern go; the checkpoints stay and still load."""
    m = _stepped()
    m.save(tmp_path / "a.npz", fsync=False)
    left = []
    for name in ("a.npz", "b.npz", "c.txt"):
        fd, tmp = tempfile.mkstemp(prefix=ck._tmp_prefix(name), suffix=ck._TMP_SUFFIX,
                                   dir=tmp_path)  # a save killed before its rename
        os.close(fd)
        left.append(os.path.basename(tmp))
    mine = ["a.npz.v2.tmp", "notes.npz.tmp", "c.txt"]
    for name in mine:
        (tmp_path / name).write_bytes(b"user data")
    assert ck.remove_unfinished_saves(tmp_path, "*.npz") == 2
    assert sorted(os.listdir(tmp_path)) == sorted(["a.npz", left[2]] + mine)
    assert same_state(OnlineLSTM.load(tmp_path / "a.npz").state_arrays(), m.state_arrays())


def test_a_target_row_with_some_nan_is_a_target_for_the_bank_s_checks():
    """Kills the mutant ``~np.all(np.isnan(Y2), axis=1)`` ->
    ``~np.any(np.isnan(Y2), axis=1)`` in ``LearnerBank._target_rows``: a
    learner whose row has a target for some outputs and NaN for others
    escaped the checks made before any learner is changed (a pending step
    for ``learn_last``; the age and the open outputs for ``learn_delayed``),
    so the call changed the other learners and then failed on it.  Each
    call must refuse with nothing changed, as for a row without NaN."""
    bank = LearnerBank(2, 2, 2, max_delay=1, seed=3, parallel=False)
    bank.learn_one(np.ones((2, 2)), np.array([[np.nan, np.nan], [0.1, 0.2]]))
    assert bank.pending_.tolist() == [True, False]
    before = bank.state_arrays()
    with pytest.raises(NoPendingStepError, match=r"learners \[1\]"):
        bank.learn_last(np.array([[0.3, 0.1], [0.2, np.nan]]))
    assert same_state(bank.state_arrays(), before)
    with pytest.raises(NoPendingStepError, match=r"learners \[1\]"):  # output 0 had its target
        bank.learn_delayed(np.array([[0.3, 0.1], [0.2, np.nan]]), 0)
    assert same_state(bank.state_arrays(), before)
    with pytest.raises(InputError, match="learner 1 has no step of age 1"):
        bank.learn_delayed(np.array([[np.nan, np.nan], [np.nan, 0.4]]), np.array([0, 1]))
    assert same_state(bank.state_arrays(), before)


def _learners():
    """One of each learner kind, mid-stream, with non-zero traces and an
    accumulated update where the kind has one."""
    from online_lstm.baselines import BPTT, RTRL

    rng = np.random.default_rng(3)
    lstm = _stepped()
    bank = LearnerBank(3, 2, 1, 2, 2, init_range=0.5, lr=0.3, seed=1)
    bank.learn_many(rng.uniform(-1, 1, (3, 10, 2)), rng.uniform(0, 1, (3, 10, 1)))
    out = [("lstm", lstm), ("bank", bank)]
    for name, cls in (("rtrl", RTRL), ("bptt", BPTT)):
        m = cls(2, 1, 3, init_range=0.5, lr=0.3, seed=2)
        m.learn_many(rng.uniform(-1, 1, (10, 2)), rng.uniform(0, 1, (10, 1)))
        out.append((name, m))
    return out


def _step(m):
    """Two learning steps with a target for every output (two, so that both
    banks of the double-buffered step record are written)."""
    if isinstance(m, LearnerBank):
        m.learn_many(np.full((3, 2, 2), 0.7), np.full((3, 2, 1), 0.9))
    elif isinstance(m, OnlineLSTM):
        m.learn_many(np.full((2, m.layout.n_in), 0.7), np.full((2, m.layout.n_out), 0.9))
    else:
        m.learn_many(np.full((2, 2), 0.7), np.full((2, 1), 0.9))


@pytest.mark.parametrize("kind", ["lstm", "bank", "rtrl", "bptt"])
def test_state_arrays_and_get_weights_are_copies_that_neither_follow_nor_steer_the_learner(kind):
    """Kills the mutants that return a view instead of a copy from
    ``state_arrays`` (for any entry: header, theta, dW, T, record) or
    ``get_weights``: a step after the call leaves what it returned unchanged,
    and writing into what it returned leaves the learner unchanged."""
    m = dict(_learners())[kind]
    state, weights = m.state_arrays(), m.get_weights()
    frozen = {k: v.copy() for k, v in state.items()}
    frozen_w = {k: v.copy() for k, v in weights.items()}
    _step(m)
    for k, v in state.items():
        assert np.array_equal(v, frozen[k], equal_nan=True), f"state_arrays()[{k!r}] followed the learner"
    for k, v in weights.items():
        assert np.array_equal(v, frozen_w[k]), f"get_weights()[{k!r}] followed the learner"
    moved = m.state_arrays()
    assert any(not np.array_equal(moved[k], frozen[k], equal_nan=True) for k in frozen)  # the step did change it
    before = {k: v.copy() for k, v in m.state_arrays().items()}
    for k, v in m.state_arrays().items():
        v[...] = 123.0
    for k, v in m.get_weights().items():
        v[...] = 123.0
    assert same_state(before, m.state_arrays())
