"""Checkpoints, audited as an adversarial user (fifth round): the
checkpoints of the competitors (RTRL, BPTT) and of running trials.

- Only a competitor's ``theta`` was checked against its configuration
  before being inflated: a crafted ``dW``, ``P``, ``z``, ``history`` or
  ``header`` entry (with a zip entry declaring as much) was inflated first;
  so was every array of a file whose configuration did not tell its weight
  count (``n_in="2"``) or told one beyond the supported size.
- A trial checkpoint's arrays were inflated whatever their sizes (on
  resume, in ``reproduce``'s check of the files before the run, and by
  ``status``, which needs the metadata only); its metadata was read with
  ``meta["state"]`` & co. (KeyError, TypeError), and a learner state with
  NaN or of another dtype stopped the resumed trial in its loop (a
  ResumeError) instead of being refused when the file is read.
- An archive that holds a member twice was read (zipfile takes the last).
"""

from __future__ import annotations

import json
import math
import re
import zipfile

import numpy as np
import pytest

from online_lstm import CheckpointError, OnlineLSTM
from online_lstm.baselines import BPTT, RTRL
from online_lstm.baselines.network import Network
from online_lstm.experiments import run_trial, trial_status
from online_lstm.presets import PRESETS
from zipcheck import consistent, meta_member, meta_text, npy_bytes, rewrite

X, Y = np.array([0.5, -1.0]), np.array([1.0])

COMPETITORS = {
    "RTRL": lambda: RTRL(2, 1, 2, seed=1),
    "RTRL-layered": lambda: RTRL(2, 1, 2, architecture="layered", seed=1),
    "BPTT-window": lambda: BPTT(2, 1, 2, seed=1, window=3),
    "BPTT": lambda: BPTT(2, 1, 2, seed=1),
}


def _trained(kind, steps=5):
    model = COMPETITORS[kind]()
    for _ in range(steps):
        model.learn_one(X, Y)
    return model


def _same_state(model, before):
    after = model.state_arrays()
    return set(after) == set(before) and all(np.array_equal(before[k], after[k]) for k in before)


def _refused(model, path, match):
    """``path`` is refused by ``load`` and by ``restore``, which leaves
    ``model`` as it was."""
    with pytest.raises(CheckpointError, match=match):
        type(model).load(path)
    before, params = model.state_arrays(), model.get_params()
    with pytest.raises(CheckpointError, match=match):
        model.restore(path)
    assert _same_state(model, before) and model.get_params() == params


# ---------------------------------------------------------------------------
# every competitor array, checked against the configuration before inflating
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("kind, key", [(k, a) for k in COMPETITORS
                                       for a in ("header", "dW") + (("P", "z") if "RTRL" in k else ("history",))])
def test_every_competitor_array_larger_than_its_configuration_is_refused_uninflated(kind, key, tmp_path, reads):
    model = _trained(kind)
    path = model.save(tmp_path / "m.npz", fsync=False)
    big = np.zeros((50_000, model.network.n_z)) if key == "history" else np.zeros(500_000)
    bomb = consistent(path, tmp_path / "bomb.npz", key, big)
    assert bomb.stat().st_size < 100_000
    expect = model.state_arrays()[key].shape
    reads.clear()
    _refused(model, bomb, re.escape(f"the stored '{key}' is float64 {big.shape} ({big.nbytes:,} bytes); its "
                                    f"configuration implies float64 {expect} ({8 * math.prod(expect):,} bytes)"))
    # the metadata, and the header (where the sizes of the others are learnt) but the big one
    assert set(reads) <= {"__meta__", "header"} and key not in reads


@pytest.mark.parametrize("kind", ["BPTT", "BPTT-window"])
def test_a_bptt_history_longer_than_its_header_says_is_refused_uninflated(kind, tmp_path, reads):
    """The history's length is the header's steps since the reset (up to
    the window): the header alone is inflated to know it."""
    model = _trained(kind, steps=2)
    path = model.save(tmp_path / "m.npz", fsync=False)
    bomb = consistent(path, tmp_path / "bomb.npz", "history", np.zeros((3, model.network.n_z)))
    reads.clear()
    _refused(model, bomb, r"'history' is float64 \(3, 9\) .*implies float64 \(2, 9\)")
    assert reads.count("history") == 0 and reads.count("header") == 2  # (load, then restore)


def test_a_bptt_header_that_tells_no_history_length_is_refused_before_the_history(tmp_path, reads):
    model = _trained("BPTT", steps=2)
    path = model.save(tmp_path / "m.npz", fsync=False)
    header = model.state_arrays()["header"]
    header[4] = 1e30  # steps since the reset: beyond any counter
    bomb = consistent(path, tmp_path / "bomb.npz", "header", header)
    reads.clear()
    _refused(model, bomb, "does not fit its own configuration: state header is corrupt")
    assert "history" not in reads


@pytest.mark.parametrize("config, message", [
    ({"n_in": "2"}, "does not build a learner: ValueError: n_in must be an integer >= 1; got '2'"),
    ({"architecture": "deep"}, "does not build a learner: ValueError: architecture must be one of"),
    ({"n_hidden": 10 ** 6}, "does not build a learner: ValueError: a net of .* at most 33,554,432 are supported"),
], ids=["n_in-str", "architecture", "too-many-weights"])
def test_a_configuration_that_tells_no_weight_count_is_refused_uninflated(config, message, tmp_path, reads):
    """Such a configuration skipped the check of 'theta': every array was
    inflated, whatever its size, before building the learner refused it."""
    model = _trained("RTRL")
    path = model.save(tmp_path / "m.npz", fsync=False)
    big = consistent(path, tmp_path / "big.npz", "theta", np.zeros(500_000))
    meta = json.loads(meta_text(big))
    meta["config"].update(config)
    bomb = rewrite(big, tmp_path / "bomb.npz", [("__meta__.npy", meta_member(meta))])
    reads.clear()
    _refused(model, bomb, message)
    assert reads == ["__meta__", "__meta__"]  # (load, then restore): the metadata only


# ---------------------------------------------------------------------------
# corrupted and crafted competitor files: a CheckpointError, nothing changed
# ---------------------------------------------------------------------------
def _bit_flip(path, dst):
    """``path`` (stored, not deflated) with one bit of theta's data flipped."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("theta.npy")
    # local header: 30 bytes + name + extra; then the .npy header, then the data
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + info.file_size - 3] ^= 0x10
    dst.write_bytes(bytes(data))
    return dst


def _crafted(model, path, tmp_path, how):
    dst = tmp_path / f"{how}.npz"
    arrays = model.state_arrays()
    if how == "truncated":
        dst.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
        return dst, "truncated or corrupted"
    if how == "bit-flip":
        return _bit_flip(path, dst), r"(CRC|SHA-256 mismatch)"
    if how == "missing":
        return rewrite(path, dst, [], drop=["dW.npy"]), "array 'dW' is missing"
    if how == "extra-member":
        return rewrite(path, dst, [("junk.npy", npy_bytes(np.zeros(3)))]), r"\['junk'\] are not in the metadata index"
    if how == "extra-array":
        return consistent(path, dst, "junk", np.zeros(3)), r"holds arrays .*this one holds .*'junk'"
    if how == "dtype":
        return (consistent(path, dst, "dW", arrays["dW"].astype(np.float32)),
                r"the stored 'dW' is float32 .*implies float64")
    if how == "nan":
        theta = arrays["theta"].copy()
        theta[1] = np.nan
        return consistent(path, dst, "theta", theta), r"state\['theta'\] holds non-finite values"
    if how == "duplicate":
        with zipfile.ZipFile(path) as z:
            same = z.read("dW.npy")
        with pytest.warns(UserWarning, match="Duplicate name"):
            rewrite(path, dst, [("dW.npy", same), ("dW.npy", same)])
        return dst, r"member 'dW' is in the archive 2 times"
    if how == "bare-and-npy":
        with zipfile.ZipFile(path) as z:
            same = z.read("dW.npy")
        return rewrite(path, dst, [("dW", same)]), r"member 'dW' is in the archive 2 times"
    if how == "meta-list":
        return rewrite(path, dst, [("__meta__.npy", meta_member([1, 2]))]), "format 'list' is not"
    if how == "meta-string":
        return rewrite(path, dst, [("__meta__.npy", meta_member("RTRL"))]), "format 'str' is not"
    if how == "learner-file":
        return OnlineLSTM(2, 1, 2, 1, seed=1).save(dst, fsync=False), "holds a 'OnlineLSTM', not a"
    if how == "other-competitor":
        other = BPTT(2, 1, 2, seed=1) if isinstance(model, RTRL) else RTRL(2, 1, 2, seed=1)
        return other.save(dst, fsync=False), r"holds a '(RTRL|BPTT)', not a"
    raise AssertionError(how)


HOWS = ["truncated", "bit-flip", "missing", "extra-member", "extra-array", "dtype", "nan", "duplicate",
        "bare-and-npy", "meta-list", "meta-string", "learner-file", "other-competitor"]


@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize("kind", ["RTRL", "BPTT"])
def test_a_corrupted_or_crafted_competitor_file_is_a_checkpoint_error(kind, how, tmp_path):
    model = _trained(kind)
    path = model.save(tmp_path / "m.npz", fsync=False)
    bad, match = _crafted(model, path, tmp_path, how)
    _refused(model, bad, match)


@pytest.mark.parametrize("kind", ["RTRL", "BPTT"])
def test_a_competitor_file_given_to_the_learner_loader_is_a_checkpoint_error(kind, tmp_path):
    path = _trained(kind).save(tmp_path / "m.npz", fsync=False)
    model = OnlineLSTM(2, 1, 2, 1, seed=1)
    before = model.state_arrays()
    for call in (OnlineLSTM.load, model.restore):
        with pytest.raises(CheckpointError, match=f"holds a '{kind}', not a 'OnlineLSTM'"):
            call(path)
    assert _same_state(model, before)


@pytest.mark.parametrize("kind", list(COMPETITORS))
def test_competitor_files_still_load_whole_mid_sequence(kind, tmp_path):
    model = _trained(kind, steps=4)
    model.predict_one(X)  # a pending step
    for compress in (False, True):
        back = type(model).load(model.save(tmp_path / "m.npz", fsync=False, compress=compress))
        assert _same_state(back, model.state_arrays()) and back.pending_
    Xs, Ys = np.stack([X, -X, X]), np.stack([Y, -Y, Y])
    back.learn_last(Y)
    model.learn_last(Y)
    np.testing.assert_array_equal(back.learn_many(Xs, Ys), model.learn_many(Xs, Ys))
    assert _same_state(back, model.state_arrays())


@pytest.mark.parametrize("args", [(2, 1, 0, "fully_recurrent"), (3, 2, 4, "fully_recurrent"), (2, 3, 1, "layered"),
                                  (1, 1, 5, "layered")])
def test_the_shapes_a_competitor_checks_before_inflating_are_its_state_arrays(args, tmp_path):
    """``_state_shapes`` (what a checkpoint must hold) and ``state_arrays``
    (what it holds) agree, mid-sequence included."""
    for cls in (RTRL, BPTT):
        model = cls(*args[:3], architecture=args[3], seed=0)
        for _ in range(3):
            model.learn_one(np.ones(args[0]), np.zeros(args[1]))
        arrays = model.state_arrays()
        assert model._state_shapes(arrays["header"]) == {k: v.shape for k, v in arrays.items()}
        assert Network(*args).n_params == model.n_params


# ---------------------------------------------------------------------------
# trial checkpoints
# ---------------------------------------------------------------------------
class _Stop(Exception):
    pass


def _stop(n, steps):
    raise _Stop


#: A preset per kind of trial state: an st3 window (its recent scores,
#: ``s.hist``), sequential construction (the cell's input-gate weights,
#: ``s.saved``), an RTRL and a BPTT learner; each with a small limit.
TRIALS = {
    "6a": dict(limit=50, test_size=10),
    "2a": dict(limit=50, test_size=10, plateau_block=20, plateau_patience=3),
    "1-rtrl-h3": dict(limit=20),
    "2a-bptt-p100-lr1": dict(limit=3, test_size=10),
}


@pytest.fixture(scope="module")
def trial_files(tmp_path_factory):
    """A checkpoint of each preset of TRIALS, saved at the top of its loop
    (trial 1, seed 2) before its first chunk of training."""
    d = tmp_path_factory.mktemp("trials")
    files = {}
    for pid, opts in TRIALS.items():
        f = d / f"{pid}.npz"
        with pytest.raises(_Stop):
            run_trial(PRESETS[pid].with_options(**opts), trial=1, seed=2, progress=_stop,
                      checkpoint=f, checkpoint_every=0)
        files[pid] = f
    return files


def _resume_refused(pid, path, match):
    """Resuming trial 1 (seed 2) of ``pid`` from ``path`` raises a
    CheckpointError before anything runs, and leaves the file as it was."""
    data = path.read_bytes()
    with pytest.raises(CheckpointError, match=match):
        run_trial(PRESETS[pid].with_options(**TRIALS[pid]), trial=1, seed=2, progress=_stop,
                  checkpoint=path, checkpoint_every=0, resume=True)
    assert path.read_bytes() == data


def test_the_trial_files_resume(trial_files, tmp_path):
    for pid, f in trial_files.items():
        copy = tmp_path / f.name
        copy.write_bytes(f.read_bytes())
        with pytest.raises(_Stop):  # resumed: it trains, and reports its first chunk
            run_trial(PRESETS[pid].with_options(**TRIALS[pid]), trial=1, seed=2, progress=_stop,
                      checkpoint=copy, checkpoint_every=0, resume=True)


@pytest.mark.parametrize("pid, key", [(p, k) for p in TRIALS for k in ("m.header", "m.theta", "m.dW")]
                         + [("6a", "m.T"), ("6a", "m.record"), ("1-rtrl-h3", "m.P"),
                            ("2a-bptt-p100-lr1", "m.history")])
def test_every_learner_array_of_a_trial_is_checked_before_inflating(pid, key, trial_files, tmp_path, reads):
    bomb = consistent(trial_files[pid], tmp_path / "bomb.npz", key, np.zeros(500_000))
    assert bomb.stat().st_size < 100_000
    reads.clear()
    _resume_refused(pid, bomb, rf"the stored '{key}' is float64 \(500000,\) \(4,000,000 bytes\); its "
                               rf"configuration implies float64 \([\d, ]+\) \([\d,]+ bytes\)")
    assert set(reads) <= {"__meta__", "m.header"} and key not in reads


@pytest.mark.parametrize("pid, key, arr, match", [
    ("6a", "s.hist", np.zeros((5000, 3)), r"'s.hist' is float64 \(5000, 3\) .*at most 1999 rows"),
    ("6a", "s.hist", np.zeros((10, 4)), r"'s.hist' is float64 \(10, 4\)"),
    ("6a", "s.hist", np.zeros(10), r"'s.hist' is float64 \(10,\)"),
    ("6a", "s.hist", np.zeros((10, 3), np.float32), r"'s.hist' is float32 \(10, 3\)"),
    ("2a", "s.saved", np.zeros(500_000), r"'s.saved' is float64 \(500000,\) .*input gate's"),
    ("6a", "s.saved", np.zeros(3), r"array 's.saved' is not one of a st3 trial's .*s.hist"),
    ("1-rtrl-h3", "s.hist", np.zeros((1, 3)), r"array 's.hist' is not one of a reber trial's"),
    ("6a", "junk", np.zeros(3), r"array 'junk' is not one of"),
], ids=["hist-rows", "hist-cols", "hist-1d", "hist-f32", "saved", "saved-in-st3", "hist-in-reber", "junk"])
def test_the_protocol_state_arrays_of_a_trial_are_checked_before_inflating(pid, key, arr, match, trial_files,
                                                                           tmp_path, reads):
    bomb = consistent(trial_files[pid], tmp_path / "bomb.npz", key, arr)
    reads.clear()
    _resume_refused(pid, bomb, match)
    assert key not in reads


def _edited(path, dst, edit):
    meta = json.loads(meta_text(path))
    edit(meta)
    return rewrite(path, dst, [("__meta__.npy", meta_member(meta))])


@pytest.mark.parametrize("edit, match", [
    (lambda m: m.update(state=[1, 2]), "'state' is \\[1, 2\\], not a mapping"),
    (lambda m: m.pop("state"), "'state' is missing, not a mapping"),
    (lambda m: m.update(tasks={"a": 1}), "'tasks' is .*, not a list of stream states"),
    (lambda m: m.pop("steps"), "'steps' is missing, not a whole number"),
    (lambda m: m.update(seen=-1), "'seen' is -1, not a whole number"),
    (lambda m: m.update(wall_s="1"), "'wall_s' is '1', not a number of seconds"),
    (lambda m: m.update(job=["6a", 1]), "'job' is .*, not a mapping"),
], ids=["state-list", "no-state", "tasks-dict", "no-steps", "seen-negative", "wall-str", "job-list"])
def test_trial_metadata_a_trial_cannot_take_is_a_checkpoint_error(edit, match, trial_files, tmp_path, reads):
    bad = _edited(trial_files["6a"], tmp_path / "bad.npz", edit)
    reads.clear()
    _resume_refused("6a", bad, "not a trial checkpoint as reproduce writes it: " + match)
    assert reads == ["__meta__"]


@pytest.mark.parametrize("pid", ["6a", "1-rtrl-h3"])
@pytest.mark.parametrize("how", ["nan", "dtype", "missing", "extra-member", "duplicate", "truncated", "bit-flip",
                                 "meta-list", "learner-file"])
def test_a_corrupted_or_crafted_trial_file_is_a_checkpoint_error(pid, how, trial_files, tmp_path):
    src, dst = trial_files[pid], tmp_path / "bad.npz"
    with zipfile.ZipFile(src) as z:
        theta = np.load(z.open("m.theta.npy"))
    if how == "nan":  # was a ResumeError from the trial's loop, the trial built and started
        theta[0] = np.nan
        bad, match = consistent(src, dst, "m.theta", theta), r"learner state does not fit .*non-finite"
    elif how == "dtype":
        bad, match = consistent(src, dst, "m.theta", theta.astype(np.float32)), "'m.theta' is float32"
    elif how == "missing":
        bad, match = rewrite(src, dst, [], drop=["m.dW.npy"]), "array 'm.dW' is missing"
    elif how == "extra-member":
        bad, match = rewrite(src, dst, [("junk.npy", npy_bytes(np.zeros(1)))]), "not in the metadata index"
    elif how == "duplicate":
        with zipfile.ZipFile(src) as z:
            same = z.read("m.dW.npy")
        bad, match = rewrite(src, dst, [("m.dW", same)]), "member 'm.dW' is in the archive 2 times"
    elif how == "truncated":
        dst.write_bytes(src.read_bytes()[:-40])
        bad, match = dst, "truncated or corrupted"
    elif how == "bit-flip":
        data = bytearray(src.read_bytes())
        with zipfile.ZipFile(src) as z:
            info = z.getinfo("m.theta.npy")
        data[info.header_offset + 30 + len(info.filename) + len(info.extra) + info.file_size - 3] ^= 1
        dst.write_bytes(bytes(data))
        bad, match = dst, r"(CRC|SHA-256 mismatch)"
    elif how == "meta-list":
        bad, match = rewrite(src, dst, [("__meta__.npy", meta_member(["Trial"]))]), "format 'list' is not"
    else:
        bad, match = PRESETS[pid].learner(seed=0).save(dst, fsync=False), "not a 'Trial'"
    _resume_refused(pid, bad, match)


def test_a_trial_file_given_to_a_learner_loader_is_a_checkpoint_error(trial_files):
    model = OnlineLSTM(2, 1, 2, 1, seed=1)
    before = model.state_arrays()
    for call in (OnlineLSTM.load, model.restore, RTRL.load):
        with pytest.raises(CheckpointError, match="holds a 'Trial', not a"):
            call(trial_files["6a"])
    assert _same_state(model, before)


def test_status_reads_the_metadata_of_a_trial_file_only(trial_files, tmp_path, reads):
    """``status`` shows what the metadata says; it inflated every array of
    every trial file, whatever their sizes."""
    (tmp_path / "r.trials").mkdir()
    consistent(trial_files["6a"], tmp_path / "r.trials" / "6a.trial1.npz", "s.hist", np.zeros((500_000, 3)))
    reads.clear()
    table = trial_status(tmp_path)
    assert reads == ["__meta__"]
    assert table["preset"].tolist() == ["6a"] and "problem" not in table


@pytest.mark.parametrize("content", [b"junk, not a checkpoint\n" * 4, b"\x80\x04K\x01."])
def test_a_file_numpy_would_read_as_a_pickle_gets_no_advice_to_load_it_unsafely(tmp_path, content):
    """np.load(allow_pickle=False) of a file that is neither a zip nor a .npy
    says to load it unsafely with allow_pickle; a checkpoint is never a pickle."""
    from online_lstm import CheckpointError, OnlineLSTM

    path = tmp_path / "junk.npz"
    path.write_bytes(content)
    with pytest.raises(CheckpointError) as err:
        OnlineLSTM.load(path)
    msg = str(err.value)
    assert "neither a zip archive nor a .npy array" in msg and "which is not loaded" in msg
    assert "allow_pickle" not in msg and "unsafely" not in msg
