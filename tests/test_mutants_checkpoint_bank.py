"""Tests written to kill mutants of ``checkpoint.py`` and of the Python side
of ``bank.py`` that the other tests let through in a second mutation audit
(after ``test_mutants_state.py``).  Each test's docstring names the mutant it
kills; expected values come from the documented behaviour, from a twin
learner or bank, or from an independent computation here, never from stored
outputs of the code under test.
"""

from __future__ import annotations

import builtins
import io
import os
import zipfile

import numpy as np
import pytest

import online_lstm.checkpoint as ck
from online_lstm import CheckpointError, InputError, LearnerBank, OnlineLSTM
from online_lstm import bank_kernels as _bk
from online_lstm.bank import AUTO_PARALLEL_WORK, BankDivergenceError
from online_lstm.baselines import BPTT, RTRL

from statecheck import same_state


def _learner(seed=0, **kw):
    """A learner mid-sequence, with non-zero traces and a pending step."""
    m = OnlineLSTM(2, 1, 2, 2, **{"init_range": 0.5, "lr": 0.3, "seed": seed, **kw})
    rng = np.random.default_rng(seed)
    m.learn_many(rng.uniform(-1, 1, (6, 2)), rng.uniform(0, 1, (6, 1)))
    m.predict_one([0.2, -0.4])
    return m


def _bank(seed=3, **kw):
    bank = LearnerBank(3, 2, 1, 2, 1, init_range=0.5, lr=[0.1, 0.2, 0.3], seed=seed,
                       parallel=False, **kw)
    rng = np.random.default_rng(seed)
    bank.learn_many(rng.uniform(-1, 1, (3, 4, 2)), rng.uniform(0, 1, (3, 4, 1)))
    return bank


def _rewrite(src, dst, edit_meta=None, edit_arrays=None):
    """Checkpoint ``src`` written anew to ``dst`` (a consistent index and
    digests) after ``edit_meta(meta)`` / ``edit_arrays(arrays)``."""
    arrays, meta = ck.read_checkpoint(src)
    if edit_arrays:
        edit_arrays(arrays)
    if edit_meta:
        edit_meta(meta)
    return ck.write_checkpoint(dst, arrays, meta, fsync=False)


# ---------------------------------------------------------------------------
# the atomic write
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("fails", ["open", "fsync"])
def test_a_directory_that_cannot_be_opened_or_fsynced_does_not_fail_the_save(fails, tmp_path,
                                                                             monkeypatch):
    """Kills the mutant ``except OSError: return`` -> ``except OSError:
    raise`` in ``checkpoint._fsync_dir`` (documented "a no-op where
    directories cannot be opened"): the checkpoint has been renamed into
    place by then, so the save must report success, not an error, when the
    directory cannot be opened (or fsync-ed) for the durability step."""
    real_open, real_fsync, directory = os.open, os.fsync, str(tmp_path)

    def bad_open(path, flags, *a, **kw):
        if os.fspath(path) == directory:
            raise PermissionError(13, "directory not readable", path)
        return real_open(path, flags, *a, **kw)

    dir_fds = []

    def bad_fsync(fd):
        if os.path.isdir(f"/proc/self/fd/{fd}") or fd in dir_fds:
            raise OSError(22, "fsync not supported on this directory")
        return real_fsync(fd)

    def open_tracking(path, flags, *a, **kw):
        fd = real_open(path, flags, *a, **kw)
        if os.fspath(path) == directory:
            dir_fds.append(fd)
        return fd

    if fails == "open":
        monkeypatch.setattr(os, "open", bad_open)
    else:
        monkeypatch.setattr(os, "open", open_tracking)
        monkeypatch.setattr(os, "fsync", bad_fsync)
    m = _learner()
    path = m.save(tmp_path / "m.npz")  # fsync=True
    if fails == "fsync":
        assert dir_fds  # the directory was opened, and its fsync failed
    monkeypatch.undo()
    assert same_state(OnlineLSTM.load(path).state_arrays(), m.state_arrays())
    assert sorted(os.listdir(tmp_path)) == ["m.npz"]


def test_reading_the_umask_where_proc_is_missing_puts_it_back(tmp_path, monkeypatch):
    """Kills the mutant that drops ``os.umask(mask)`` after ``mask =
    os.umask(0o022)`` in ``checkpoint._umask``'s fallback (no
    ``/proc/self/status``, as on macOS): a save of a new file then left the
    process's umask at 0o022 for ever.  The new file gets ``0o666 & ~umask``
    and the umask is the caller's afterwards."""
    real_open = builtins.open

    def no_proc(file, *a, **kw):
        if os.fspath(file) == "/proc/self/status":
            raise FileNotFoundError(2, "No such file or directory", file)
        return real_open(file, *a, **kw)

    monkeypatch.setattr(ck, "open", no_proc, raising=False)  # the module's own name lookup
    old = os.umask(0o027)
    try:
        path = _learner().save(tmp_path / "new.npz", fsync=False)
        now = os.umask(0o027)
    finally:
        os.umask(old)
    assert now == 0o027
    assert path.stat().st_mode & 0o777 == 0o640


def test_a_failed_save_raises_its_own_error_even_if_its_temporary_file_cannot_be_removed(
        tmp_path, monkeypatch):
    """Kills the mutant that drops the ``try``/``except OSError: pass``
    around ``os.unlink(tmp)`` in ``write_checkpoint``'s clean-up: a failed
    rename whose temporary file then could not be removed raised the
    clean-up's error (here a PermissionError about the unlink) instead of
    the rename's.  The previous checkpoint stays intact."""
    old = _learner(seed=1)
    path = old.save(tmp_path / "m.npz", fsync=False)
    before = path.read_bytes()

    def replace(src, dst, *a, **kw):
        raise OSError(28, "no space left for the rename")

    def unlink(p, *a, **kw):
        raise PermissionError(13, "cannot remove the temporary file", p)

    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "unlink", unlink)
    with pytest.raises(OSError, match="no space left for the rename") as err:
        _learner(seed=2).save(path, fsync=False)
    monkeypatch.undo()
    assert not isinstance(err.value, PermissionError)
    assert path.read_bytes() == before


def test_a_save_interrupted_by_ctrl_c_leaves_no_temporary_file(tmp_path, monkeypatch):
    """Kills the mutant ``except BaseException:`` -> ``except Exception:``
    in ``write_checkpoint``: a KeyboardInterrupt (Ctrl-C) in the middle of
    writing the archive left the temporary ``.m.npz.*.tmp`` file behind.
    The interrupt propagates, the old checkpoint is intact and nothing
    else is in the directory."""
    m = _learner()
    path = m.save(tmp_path / "m.npz", fsync=False)
    before = path.read_bytes()
    calls = []
    real = np.lib.format.write_array

    def interrupted(*a, **kw):
        calls.append(1)
        if len(calls) == 3:  # in the middle of the archive
            raise KeyboardInterrupt
        return real(*a, **kw)

    monkeypatch.setattr(np.lib.format, "write_array", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _learner(seed=5).save(path, fsync=False)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["m.npz"]
    assert path.read_bytes() == before


# ---------------------------------------------------------------------------
# the checked read path
# ---------------------------------------------------------------------------


def test_metadata_stored_as_a_2d_array_is_refused(tmp_path):
    """Kills the mutant ``if raw.dtype != np.uint8 or raw.ndim != 1:`` ->
    ``if raw.dtype != np.uint8:`` in ``checkpoint._read_members``: the
    documented format has ``__meta__`` a 1-D uint8 array, and a file with
    it as a (1, n) array (the same bytes) was read as a checkpoint."""
    path = _learner().save(tmp_path / "m.npz", fsync=False)
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    raw = np.load(io.BytesIO(members["__meta__.npy"]))
    assert raw.ndim == 1 and raw.dtype == np.uint8  # as written
    buf = io.BytesIO()
    np.save(buf, raw.reshape(1, -1))
    members["__meta__.npy"] = buf.getvalue()
    bad = tmp_path / "bad.npz"
    with zipfile.ZipFile(bad, "w") as z:
        for n, b in members.items():
            z.writestr(n, b)
    with pytest.raises(CheckpointError, match="must be a 1-D uint8 array"):
        ck.read_checkpoint(bad)
    with pytest.raises(CheckpointError, match="must be a 1-D uint8 array"):
        OnlineLSTM.load(bad)


def _migrated(arrays, meta):
    """The checkpoint as an older library with another memory layout would
    have written it: the record fields in reverse order (the numbers moved
    with them) and the learning rate in a header slot this layout leaves
    unused (``""``), the signature naming both."""
    sig = meta["layout"]
    pos, at = {}, 0
    for n, s in sig["record"]:
        pos[n] = (at, s)
        at += s
    fields = sig["record"][::-1]
    record = np.concatenate([arrays["record"][pos[n][0]:pos[n][0] + s] for n, s in fields]
                            + [arrays["record"][at:]])
    header_names = list(sig["header"])
    free, lr = header_names.index(""), header_names.index("h:lr")
    header = arrays["header"].copy()
    header[free], header[lr] = header[lr], 0.0
    header_names[free], header_names[lr] = "h:lr", ""
    return (dict(arrays, record=record, header=header),
            dict(meta, layout={"header": header_names, "record": fields}))


def test_a_layout_migrated_by_name_loads_and_its_header_must_match_its_signature(tmp_path):
    """Kills the mutant ``if len(old_header) != h.shape[0]:`` -> ``if
    False:`` in ``checkpoint._remap``: a checkpoint of another memory layout
    whose header has more or fewer entries than its signature names (a
    corrupted or mismatched file: which number is which cannot be known) was
    mapped anyway.  The same file with a consistent signature loads, by name,
    as the learner saved (the expected state: that learner's own)."""
    m = _learner(lr=0.25)
    path = m.save(tmp_path / "m.npz", fsync=False)
    arrays, meta = ck.read_checkpoint(path)
    arrays, meta = _migrated(arrays, meta)
    good = ck.write_checkpoint(tmp_path / "old.npz", arrays, meta, fsync=False)
    back = OnlineLSTM.load(good)
    assert same_state(back.state_arrays(), m.state_arrays()) and back.lr == 0.25
    for names in (meta["layout"]["header"] + [""], meta["layout"]["header"][:-1] + ["", ""]):
        bad = ck.write_checkpoint(tmp_path / "bad.npz", arrays,
                                  dict(meta, layout=dict(meta["layout"], header=names)), fsync=False)
        with pytest.raises(CheckpointError, match=r"header has \d+ entries, its signature names"):
            OnlineLSTM.load(bad)


def test_a_migrated_layout_keeps_the_stored_accumulation_mode_for_the_check(tmp_path):
    """Kills the mutant that leaves ``"accum"`` out of the header entries
    ``checkpoint._remap`` carries over by name (``+ ["accum",
    *META_COUNTERS]`` -> ``+ [*META_COUNTERS]``): the fresh learner's mode
    then replaced the stored one, so a file whose state was accumulated in
    another mode than its configuration says (refused, "accumulation mode",
    when its layout is this one's) loaded once its layout needed mapping."""
    m = _learner(update="sequence")
    path = m.save(tmp_path / "m.npz", fsync=False)
    arrays, meta = ck.read_checkpoint(path)
    accum = meta["layout"]["header"].index("accum")
    assert arrays["header"][accum] == 1.0  # update="sequence"
    arrays["header"][accum] = 0.0  # the mode of update="step"
    same = ck.write_checkpoint(tmp_path / "same.npz", arrays, meta, fsync=False)
    with pytest.raises(CheckpointError, match="accumulation mode"):
        OnlineLSTM.load(same)
    arrays, meta = _migrated(arrays, meta)
    other = ck.write_checkpoint(tmp_path / "other.npz", arrays, meta, fsync=False)
    with pytest.raises(CheckpointError, match="accumulation mode"):
        OnlineLSTM.load(other)


def test_a_record_signature_longer_than_the_record_is_refused_even_if_the_excess_is_unknown(
        tmp_path):
    """Kills the mutant that drops ``or sum(sizes) >
    arrays["record"].shape[0]`` in ``checkpoint._remap``: a signature
    naming, after this layout's fields, one this layout has not and which
    does not fit in the stored record (so the signature is not the record's)
    was loaded, the unknown field ignored."""
    m = _learner()
    path = m.save(tmp_path / "m.npz", fsync=False)
    n = ck.read_checkpoint(path)[0]["record"].shape[0]

    def edit(meta):
        meta["layout"]["record"].append(["from_the_future", n])

    with pytest.raises(CheckpointError, match="fit in the record"):
        OnlineLSTM.load(_rewrite(path, tmp_path / "bad.npz", edit))


@pytest.mark.parametrize("excess", [0, 1])
def test_an_array_larger_than_the_whole_state_is_refused_before_inflating_at_the_bound(
        excess, tmp_path, reads):
    """Kills the mutants that move the bound of ``checkpoint._check_sizes``
    (``> 8 * lay.mem_size``, e.g. to ``16 *`` or ``>=``): documented, an
    index entry larger than a learner's whole memory (``mem_size`` float64
    numbers) is refused before it is inflated; one of exactly that size is
    not (it is inflated, then refused as the wrong size for ``record``)."""
    m = _learner()
    path = m.save(tmp_path / "m.npz", fsync=False)
    big = np.zeros(m.layout.mem_size + excess)
    bad = _rewrite(path, tmp_path / "bad.npz", edit_arrays=lambda a: a.update(record=big))
    reads.clear()
    with pytest.raises(CheckpointError) as err:
        OnlineLSTM.load(bad)
    if excess:
        assert "is larger than the whole state" in str(err.value)
        assert reads == ["__meta__"]
    else:
        assert "larger than the whole state" not in str(err.value)
        assert "record" in reads


# ---------------------------------------------------------------------------
# building what a checkpoint describes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["learner", "bank"])
def test_a_configuration_the_constructor_refuses_is_a_checkpoint_error(kind, tmp_path):
    """Kills the mutant that drops ``ValueError`` from the exceptions
    ``checkpoint._build`` turns into CheckpointError: a file whose stored
    configuration has a value the constructor refuses (``lr=-1``, which the
    size checks before the build do not look at) raised a bare ValueError
    from the constructor; every failure of a load is documented to be a
    CheckpointError saying what is wrong.  ``restore`` changes nothing."""
    obj = _learner() if kind == "learner" else _bank()
    path = obj.save(tmp_path / "m.npz", fsync=False)
    bad = _rewrite(path, tmp_path / "bad.npz", lambda meta: meta["config"].update(lr=-1.0))
    with pytest.raises(CheckpointError, match="configuration does not build a learner: ValueError"):
        type(obj).load(bad)
    before = obj.state_arrays()
    with pytest.raises(CheckpointError, match="does not build"):
        obj.restore(bad)
    assert same_state(obj.state_arrays(), before)


@pytest.mark.parametrize("drop", ["seeds", "config"])
def test_a_bank_file_without_its_seeds_or_configuration_is_refused(drop, tmp_path):
    """Kills the mutant ``if not isinstance(config, dict) or not
    isinstance(seeds, list):`` -> ``if not isinstance(config, dict):`` in
    ``checkpoint.load_bank``: a bank checkpoint without ``seeds`` (one per
    learner, documented) raised a TypeError (``len(None)``) instead of a
    CheckpointError."""
    bank = _bank()
    path = bank.save(tmp_path / "b.npz", fsync=False)
    bad = _rewrite(path, tmp_path / "bad.npz", lambda meta: meta.pop(drop))
    with pytest.raises(CheckpointError, match="no bank configuration or seeds"):
        LearnerBank.load(bad)


def test_a_list_bank_seed_that_is_not_the_learners_seeds_is_refused(tmp_path):
    """Kills the mutant ``elif value == seeds and all(...)`` -> ``elif
    isinstance(value, list) and all(...)`` in
    ``checkpoint._bank_seed_from``: documented, a list ``bank_seed`` "must
    be ``seeds``"; another list (here the seeds in another order) was taken
    as the loaded bank's ``seed``, so its ``clone()`` built other learners
    than the ones saved.  Its true seeds load, and clone as saved."""
    bank = LearnerBank(3, 2, 1, seed=[7, 8, 9], parallel=False)
    bank.learn_one(np.ones((3, 2)), np.zeros((3, 1)))
    path = bank.save(tmp_path / "b.npz", fsync=False)
    assert ck.read_checkpoint(path)[1]["bank_seed"] == [7, 8, 9]
    back = LearnerBank.load(path)
    assert np.array_equal(back.clone().theta_, LearnerBank(3, 2, 1, seed=[7, 8, 9]).theta_)
    bad = _rewrite(path, tmp_path / "bad.npz", lambda meta: meta.update(bank_seed=[9, 8, 7]))
    with pytest.raises(CheckpointError, match="bank_seed"):
        LearnerBank.load(bad)


@pytest.mark.parametrize("cls", [RTRL, BPTT])
def test_a_competitor_file_without_configuration_is_refused(cls, tmp_path):
    """Kills the mutant that drops ``if not isinstance(config, dict): return
    None`` in ``checkpoint._stream_n_params``: an RTRL or BPTT checkpoint
    whose metadata has no ``config`` raised an AttributeError
    (``None.get``) instead of a CheckpointError."""
    m = cls(2, 1, 2, seed=0)
    m.learn_many(np.full((3, 2), 0.5), np.full((3, 1), 0.2))
    path = m.save(tmp_path / "m.npz", fsync=False)
    for config in (None, [1, 2]):
        bad = _rewrite(path, tmp_path / "bad.npz", lambda meta: meta.update(config=config))
        with pytest.raises(CheckpointError, match="no configuration"):
            cls.load(bad)


def test_a_bank_with_snapshots_in_another_layout_is_refused(tmp_path):
    """Kills the mutant that drops, in ``checkpoint.load_bank``, the refusal
    of a bank with ``max_delay > 0`` written with another memory layout
    (``if "slots" in arrays: raise``): its snapshots hold records in the
    writer's field order, which the remap does not move, so the bank was
    loaded with its delayed steps scrambled (as for a single learner, the
    file must be refused)."""
    bank = LearnerBank(2, 2, 1, 2, 1, max_delay=2, seed=0, parallel=False)
    for _ in range(3):
        bank.predict_one(np.full((2, 2), 0.3))
    path = bank.save(tmp_path / "b.npz", fsync=False)
    arrays, meta = ck.read_checkpoint(path)
    rows = [_migrated({k: a[i] for k, a in arrays.items()}, meta) for i in range(2)]
    moved = {k: np.stack([r[0][k] for r in rows]) for k in arrays}
    bad = ck.write_checkpoint(tmp_path / "old.npz", moved, rows[0][1], fsync=False)
    with pytest.raises(CheckpointError, match="snapshots for delayed targets"):
        LearnerBank.load(bad)


def test_the_module_loaders_build_their_default_class(tmp_path):
    """Kills the mutant ``if cls is None:`` -> ``if cls is not None:`` in
    ``checkpoint.load_bank`` (and its twin in ``load_learner``): called
    without ``cls`` (documented default: LearnerBank, OnlineLSTM), the loader
    tried to call None."""
    bank, m = _bank(), _learner()
    b = ck.load_bank(bank.save(tmp_path / "b.npz", fsync=False))
    assert type(b) is LearnerBank and same_state(b.state_arrays(), bank.state_arrays())
    lm = ck.load_learner(m.save(tmp_path / "m.npz", fsync=False))
    assert type(lm) is OnlineLSTM and same_state(lm.state_arrays(), m.state_arrays())


# ---------------------------------------------------------------------------
# bank.py
# ---------------------------------------------------------------------------


def test_auto_runs_threads_only_for_enough_work():
    """Kills the mutant ``if self.parallel is True or (...)`` -> ``if
    self.parallel or (...)`` in ``LearnerBank._kernels``: ``"auto"`` (a
    truthy string) then always chose the threaded kernels, which the class
    documents to be used only "when the call has enough work to pay for
    waking the threads" (AUTO_PARALLEL_WORK weight-steps, more than one
    learner).  The results never depend on the choice, so the choice itself
    is checked."""
    auto = LearnerBank(2, 2, 1, parallel="auto", seed=0)
    assert auto._kernels(AUTO_PARALLEL_WORK - 1) == (
        _bk.run_serial, _bk.learn_last_serial, _bk.reset_serial, _bk.learn_delayed_serial)
    assert auto._kernels(AUTO_PARALLEL_WORK)[0] is _bk.run
    assert LearnerBank(1, 2, 1, parallel="auto", seed=0)._kernels(10**9)[0] is _bk.run_serial
    assert LearnerBank(2, 2, 1, parallel=True, seed=0)._kernels(1)[0] is _bk.run
    assert LearnerBank(2, 2, 1, parallel=False, seed=0)._kernels(10**9)[0] is _bk.run_serial
    assert LearnerBank(2, 2, 1, parallel=False, max_delay=1, seed=0)._kernels(1)[0] is _bk.run_w_serial


def test_learn_delayed_and_open_targets_of_a_bank_without_snapshots_are_refused():
    """Kills the mutant ``if lay.max_delay == 0: raise`` -> ``if False:`` in
    ``LearnerBank._ages``: ``learn_delayed`` documents that it needs
    ``max_delay > 0``; without the check a bank with ``max_delay=0`` (no
    snapshot ring) ran ``learn_delayed``/``open_targets`` on memory that
    holds no snapshots.  Each is refused with an InputError and the bank is
    unchanged (learn_last still works)."""
    bank = LearnerBank(2, 2, 1, seed=0, parallel=False)
    bank.predict_one(np.full((2, 2), 0.5))
    before = bank.state_arrays()
    with pytest.raises(InputError, match="keeps no snapshots"):
        bank.learn_delayed(np.full((2, 1), 0.3), 0)
    assert same_state(bank.state_arrays(), before)
    with pytest.raises(InputError, match="keeps no snapshots"):
        bank.open_targets(0)
    twin = bank.learner(0)
    bank.learn_last(np.full((2, 1), 0.3))
    twin.learn_last([0.3])
    assert same_state(bank.learner(0).state_arrays(), twin.state_arrays())


def test_an_unsigned_age_beyond_int64_is_refused_as_such():
    """Kills the mutant that drops ``or a.dtype.kind == "u" and np.any(a >=
    2**63)`` in ``LearnerBank._ages``: a uint64 age of 2**64 - 1 wrapped
    around to -1 in int64, so the message spoke of an age the caller never
    gave ("no step of age -1"), and for a learner without a target it was
    accepted; documented: ages are ints "each below 2**63"."""
    bank = LearnerBank(2, 2, 1, max_delay=1, seed=0, parallel=False)
    bank.predict_one(np.full((2, 2), 0.5))
    before = bank.state_arrays()
    age = np.array([0, 2**64 - 1], dtype=np.uint64)
    with pytest.raises(InputError, match=r"below 2\*\*63"):
        bank.learn_delayed(np.full((2, 1), 0.3), age)
    with pytest.raises(InputError, match=r"below 2\*\*63"):
        bank.learn_delayed(np.array([[0.3], [np.nan]]), age)  # learner 1 takes no target
    assert same_state(bank.state_arrays(), before)


@pytest.mark.parametrize("max_delay", [0, 2])
def test_a_refused_late_target_is_reported_at_row_0(max_delay):
    """Kills the mutant ``rows = self._rows[bad].copy() if T is not None
    else np.zeros(...)`` -> ``rows = self._rows[bad].copy()`` in
    ``LearnerBank._raise_divergence``: ``BankDivergenceError.row`` is
    documented to be 0 for ``learn_last``/``learn_delayed`` (calls that take
    no step); the mutant reported the row the learner stopped at in an
    earlier ``learn_many``."""
    bank = LearnerBank(2, 2, 1, n_blocks=2, seed=0, parallel=False, max_delay=max_delay)
    bank.lr = [0.1, 1e300]  # learner 1 diverges at its first update
    with pytest.raises(BankDivergenceError) as first:
        bank.learn_many(np.ones((2, 4, 2)), np.array([[np.nan, np.nan, 0.5, 0.5]] * 2)[..., None])
    assert first.value.learners.tolist() == [1] and first.value.row.tolist() == [2]
    bank.predict_one(np.ones((2, 2)))
    with pytest.raises(BankDivergenceError) as err:
        if max_delay:
            bank.learn_delayed(np.array([[np.nan], [0.9]]), 0)
        else:
            bank.learn_last(np.array([[np.nan], [0.9]]))
    assert err.value.learners.tolist() == [1] and err.value.row.tolist() == [0]
