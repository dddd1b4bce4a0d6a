"""Audit of the save / load / copy surface: defects found and fixed.

Each test failed before its fix:

* a save to a path ending in a separator ("ckpts/") wrote a *file* named
  ``ckpts`` that a load of the same path then could not find;
* an RTRL/BPTT checkpoint whose configuration disagrees with its stored
  weights (a hand-edited or damaged ``n_hidden``) built the whole net before
  being refused: gigabytes and seconds for a file of a few hundred bytes, where
  learner and bank checkpoints are refused before anything is allocated;
* ``copy.copy`` of a River adapter shared some of its parts with the
  original (feature table, class table) and not others (the learner once
  widened), so using the copy broke the original with an IndexError.
* ``save`` refused a bytes path that ``load`` took.

Expectations come from twins that never went through the operation tested.
"""

from __future__ import annotations

import copy
import os
import tracemalloc

import numpy as np
import pytest

import online_lstm.checkpoint as ck
from online_lstm import CheckpointError, LearnerBank, OnlineLSTM
from online_lstm.baselines import BPTT, RTRL

KINDS = {
    "OnlineLSTM": lambda: OnlineLSTM(2, 1, 2, 1, seed=1),
    "LearnerBank": lambda: LearnerBank(2, 2, 1, 2, 1, seed=1),
    "RTRL": lambda: RTRL(2, 1, 2, seed=1),
    "BPTT": lambda: BPTT(2, 1, 2, seed=1, window=3),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_path_ending_in_a_separator_names_a_directory_and_is_refused(kind, tmp_path):
    learner = KINDS[kind]()
    target = str(tmp_path / "ckpts") + os.sep
    with pytest.raises(IsADirectoryError, match="directory"):
        learner.save(target)
    assert os.listdir(tmp_path) == []  # no file "ckpts", no temporary file


@pytest.mark.parametrize("cls, arch, n_hidden", [
    (RTRL, "fully_recurrent", 300), (RTRL, "layered", 300),  # influences: ~440 MB
    (BPTT, "fully_recurrent", 1500), (BPTT, "layered", 1500),  # weights, update, gradient: ~55 MB
])
def test_a_stream_configuration_that_disagrees_with_the_stored_weights_is_refused_before_building(
        cls, arch, n_hidden, tmp_path):
    m = cls(2, 1, 2, architecture=arch, seed=1)
    m.learn_one([0.1, 0.2], [0.3])
    arrays, meta = ck.read_checkpoint(m.save(tmp_path / "m.npz"))
    meta["config"]["n_hidden"] = n_hidden
    bad = ck.write_checkpoint(tmp_path / "bad.npz", arrays, meta, fsync=False)
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError, match="theta"):
            cls.load(bad)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20e6
    before = m.state_arrays()
    with pytest.raises(CheckpointError):
        m.restore(bad)
    after = m.state_arrays()
    assert all(np.array_equal(before[k], after[k]) for k in before)
    # the unedited file still loads, to the same state
    same = cls.load(tmp_path / "m.npz").state_arrays()
    assert all(np.array_equal(same[k], before[k]) for k in before)


def _feed(model, rows, label):
    out = []
    for x, y in rows:
        out.append(model.predict_one(x))
        model.learn_one(x, label(y))
    return out


@pytest.mark.parametrize("name, label", [("LSTMRegressor", float),
                                         ("LSTMClassifier", lambda y: "abc"[int(abs(y) * 3) % 3])])
def test_copy_copy_of_a_river_adapter_leaves_the_original_working_and_unchanged(name, label):
    pytest.importorskip("river")  # the river extra (absent: skipped, as River's own tests)
    from online_lstm import river as adapters
    cls = getattr(adapters, name)
    rng = np.random.default_rng(0)
    rows = [({"a": rng.normal()}, rng.normal()) for _ in range(10)]
    later = [({"a": rng.normal(), "b": rng.normal()}, rng.normal()) for _ in range(10)]
    m = cls(n_blocks=2, block_size=1, seed=3)
    twin = cls(n_blocks=2, block_size=1, seed=3)
    _feed(m, rows, label)
    _feed(twin, rows, label)
    c = copy.copy(m)
    _feed(c, later, label)  # a new feature (and classes) widen the copy's net
    assert _feed(m, later, label) == _feed(twin, later, label)
    assert m.feature_names_ == twin.feature_names_
    s, t = m.learner_.state_arrays(), twin.learner_.state_arrays()
    assert all(np.array_equal(s[k], t[k]) for k in s)
    # and the copy went on from the original's state, as a deep copy does
    d = copy.deepcopy(twin)
    assert _feed(c, later, label) == _feed(d, later, label)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")
def test_a_path_that_is_not_a_regular_file_is_refused_and_left_in_place(tmp_path):
    """The atomic rename replaces whatever is at the path: saving to a pipe
    (or, as root, to /dev/null) put a regular file in its place.  Refused,
    and the pipe is still a pipe."""
    import stat

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    m = OnlineLSTM(2, 1, seed=0)
    with pytest.raises(FileExistsError, match="not a regular file"):
        m.save(fifo)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]  # no temporary file left


def test_a_parent_that_is_a_file_is_named_as_such(tmp_path):
    """Saving under a path whose parent is a file said "no directory", which
    sends the user looking for a missing directory."""
    (tmp_path / "notes").write_text("x")
    with pytest.raises(NotADirectoryError, match="is a file, not a directory"):
        OnlineLSTM(2, 1, seed=0).save(tmp_path / "notes" / "m.npz")
    with pytest.raises(FileNotFoundError, match="no directory"):
        OnlineLSTM(2, 1, seed=0).save(tmp_path / "missing" / "m.npz")


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_bytes_path_saves_as_it_loads(kind, tmp_path):
    """``load`` took a bytes path (``np.load`` does) but ``save`` raised a
    TypeError from pathlib for the same path.  Both take it now, and the
    round trip keeps every array."""
    model = KINDS[kind]()
    path = os.fsencode(tmp_path / "m.npz")
    written = model.save(path)
    assert os.fsencode(written) == path and os.path.isfile(path)
    back = type(model).load(path)
    a, b = model.state_arrays(), back.state_arrays()
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
