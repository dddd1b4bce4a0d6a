"""Paths a branch-coverage run of the whole suite found unexercised.

* A bank checkpoint written under another memory layout (header entries and
  step-record fields in another order, as a later ``layout.py`` might write
  them) is read by name, learner by learner, as a single learner's is
  (``test_checkpoint.test_a_reordered_memory_layout_is_read_by_name``); with
  snapshots for delayed targets it is refused, since snapshots cannot be
  remapped.
* ``learn_last`` of the RTRL and BPTT competitors given a target their
  compiled call refuses (float32, strided) converts it, with the same bits
  as a float64 target.
* ``python -m online_lstm`` is the ``online-lstm`` command.
"""

from __future__ import annotations

import numpy as np
import pytest

import online_lstm.checkpoint as ck
from online_lstm import CheckpointError, LearnerBank
from online_lstm.baselines import BPTT, RTRL

from statecheck import same_state


def _bank(max_delay=0):
    bank = LearnerBank(3, 2, 1, n_blocks=2, block_size=2, bias="all", max_delay=max_delay, seed=4)
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(3, 9, 2)), rng.uniform(0.1, 0.9, size=(3, 9, 1))
    Y[:, ::3] = np.nan
    bank.learn_many(X, Y, resets=rng.random((3, 9)) < 0.2)
    bank.predict_one(rng.normal(size=(3, 2)))  # a step waiting for its target
    return bank


def _moved(path, dst, seed=0):
    """``path``'s bank checkpoint rewritten as another layout would write it:
    header entries permuted, record fields reversed (every learner alike)."""
    arrays, meta = ck.read_checkpoint(path)
    sig = meta["layout"]
    order = np.random.default_rng(seed).permutation(len(sig["header"]))
    assert not np.array_equal(order, np.arange(order.size))
    fields = sig["record"][::-1]
    pos, at = {}, 0
    for n, s in sig["record"]:
        pos[n] = (at, s)
        at += s
    record = np.concatenate([arrays["record"][:, pos[n][0]:pos[n][0] + s] for n, s in fields], axis=1)
    names = [sig["header"][i] for i in order]
    meta = {k: v for k, v in meta.items() if k not in ("arrays", "format", "format_version")}
    meta["layout"] = {"header": names, "record": fields}
    ck.write_checkpoint(dst, dict(arrays, header=arrays["header"][:, order], record=record), meta,
                        fsync=False)
    return dst, names, fields, arrays, order, record


def test_a_bank_in_a_reordered_layout_is_read_by_name(tmp_path):
    bank = _bank()
    dst, names, fields, arrays, order, record = _moved(bank.save(tmp_path / "b.npz", fsync=False),
                                                     tmp_path / "moved.npz")
    moved = LearnerBank.load(dst)
    assert not np.array_equal(ck.read_checkpoint(dst)[0]["header"], bank.state_arrays()["header"])
    assert same_state(moved.state_arrays(), bank.state_arrays())
    # both go on alike, pending step included
    rng = np.random.default_rng(1)
    Y0 = rng.uniform(size=(3, 1))
    bank.learn_last(Y0)
    moved.learn_last(Y0)
    X, Y = rng.normal(size=(3, 12, 2)), rng.uniform(size=(3, 12, 1))
    assert np.array_equal(bank.learn_many(X, Y), moved.learn_many(X, Y))
    assert same_state(moved.state_arrays(), bank.state_arrays())

    # a header entry this version needs, missing from the stored layout: refused by name
    _, meta = ck.read_checkpoint(dst)
    names[names.index("n_updates")] = "something_else"
    meta = {k: v for k, v in meta.items() if k not in ("arrays", "format", "format_version")}
    meta["layout"] = {"header": names, "record": fields}
    ck.write_checkpoint(tmp_path / "old.npz", dict(arrays, header=arrays["header"][:, order],
                                                   record=record), meta, fsync=False)
    with pytest.raises(CheckpointError, match="no header entry 'n_updates'"):
        LearnerBank.load(tmp_path / "old.npz")


def test_a_bank_with_snapshots_in_another_layout_is_refused(tmp_path):
    bank = _bank(max_delay=2)
    dst = _moved(bank.save(tmp_path / "b.npz", fsync=False), tmp_path / "moved.npz")[0]
    with pytest.raises(CheckpointError, match="snapshots"):
        LearnerBank.load(dst)
    assert same_state(LearnerBank.load(tmp_path / "b.npz").state_arrays(), bank.state_arrays())


@pytest.mark.parametrize("cls", [RTRL, BPTT])
@pytest.mark.parametrize("kind", ["float32", "strided", "list"])
def test_learn_last_converts_a_target_the_compiled_call_refuses(cls, kind):
    y64 = np.array([0.5, 0.25])
    y = {"float32": y64.astype(np.float32),
         "strided": np.array([[0.5, 9.0], [0.25, 9.0]])[:, 0],
         "list": [0.5, 0.25]}[kind]
    assert kind == "list" or not (y.dtype == np.float64 and y.flags.c_contiguous)
    a, b = cls(2, 2, n_hidden=3, seed=0), cls(2, 2, n_hidden=3, seed=0)
    x = np.array([0.1, -0.2])
    for _ in range(2):  # twice: after a refusal, inputs are converted first
        for m in (a, b):
            m.predict_one(x)
        a.learn_last(y)
        b.learn_last(y64)
        assert same_state(a.state_arrays(), b.state_arrays())
    assert not np.array_equal(a.state_arrays()["theta"], cls(2, 2, n_hidden=3, seed=0).state_arrays()["theta"])


def test_python_dash_m_online_lstm_is_the_command():
    """``python -m online_lstm`` (``__main__.py``) runs the ``online-lstm``
    command and passes its exit code on: ``list`` prints the presets with
    their Table 10 weight counts, and an unknown preset exits 2 naming it."""
    import subprocess
    import sys

    ok = subprocess.run([sys.executable, "-m", "online_lstm", "list"], capture_output=True,
                        text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    rows = {line.split()[0]: line.split() for line in ok.stdout.splitlines() if line.strip()}
    assert "276" in rows["1-5"] and "264" in rows["1-1"]
    bad = subprocess.run([sys.executable, "-m", "online_lstm", "reproduce", "no-such-preset"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "no-such-preset" in bad.stderr
