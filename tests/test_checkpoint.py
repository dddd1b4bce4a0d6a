"""Checkpoints: bit-identical resume, clear errors for bad files, atomic saves."""

from __future__ import annotations

import copy
import json
import os
import pathlib
import pickle
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import online_lstm.checkpoint as ck
from online_lstm import CheckpointError, LearnerBank, OnlineLSTM

from conftest import ALL_ARCHS, ARCHS, random_stream
from statecheck import MECHANISMS, resumed_run, same_state

HERE = pathlib.Path(__file__).parent


def trained(name="F-og-all-S3", *, update="step", steps=60, pending=True, seed=0, **kw):
    """A learner in the middle of a sequence (with a pending step if asked)."""
    params = dict(ALL_ARCHS[name], init_range=0.5, lr=0.3, update=update, seed=seed)
    params.update(kw)
    m = OnlineLSTM(**params)
    X, Y, resets = random_stream(np.random.default_rng(seed), steps, m.layout.n_in, m.layout.n_out)
    m.learn_many(X, Y, resets)
    if pending:
        m.predict_one(X[0])
    return m


def continue_both(a, b, steps=80, seed=1):
    rng = np.random.default_rng(seed)
    X, Y, resets = random_stream(rng, steps, a.layout.n_in, a.layout.n_out)
    if a.pending_:
        a.learn_last(Y[0])
        b.learn_last(Y[0])
    assert np.array_equal(a.learn_many(X, Y, resets), b.learn_many(X, Y, resets))
    assert same_state(a.state_arrays(), b.state_arrays())


# ---------------------------------------------------------------------------
# round trips
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("update", ["step", "sequence"])
@pytest.mark.parametrize("name", list(ALL_ARCHS))
def test_save_load_continues_bit_identically(name, update, tmp_path):
    m = trained(name, update=update)
    assert m.pending_ and m.seq_step_ > 0
    if update == "sequence":
        assert np.any(m.state_arrays()["dW"] != 0)  # the accumulated update is carried
    path = m.save(tmp_path / "m.npz")
    assert path == tmp_path / "m.npz"
    loaded = OnlineLSTM.load(path)
    assert same_state(m.state_arrays(), loaded.state_arrays())
    assert loaded.get_params() == m.get_params()
    assert (loaded.n_steps_, loaded.seq_step_, loaded.n_resets_, loaded.n_updates_, loaded.pending_) \
        == (m.n_steps_, m.seq_step_, m.n_resets_, m.n_updates_, m.pending_)
    continue_both(m, loaded)


def test_1000_random_resume_points(tmp_path):
    """The issue's target: >= 1,000 random resume points across architectures,
    mid-sequence and between predict_one and learn_last, by every mechanism;
    every resumed run equals the uninterrupted one bit for bit."""
    total = 0
    for i, (name, arch) in enumerate(ARCHS.items()):
        for update in ("step", "sequence"):
            rng = np.random.default_rng([i, update == "step"])
            params = dict(arch, init_range=0.5, lr=0.3, update=update, seed=i)
            T = 120
            X, Y, resets = random_stream(rng, T, arch["n_in"], arch["n_out"], p_reset=0.03)
            deferred = rng.random(T) < 0.3
            slots = [(t, mid) for t in range(T) for mid in (False, True) if deferred[t] or not mid]
            pick = rng.choice(len(slots), size=66, replace=False)
            points = [(slots[j][0], MECHANISMS[rng.integers(len(MECHANISMS))], slots[j][1]) for j in pick]
            a = OnlineLSTM(**params)
            out_a = a.learn_many(X, Y, resets)
            b, out_b, n = resumed_run(OnlineLSTM(**params), X, Y, resets, deferred, points, tmp_path)
            assert np.array_equal(out_a, out_b), (name, update)
            assert same_state(a.state_arrays(), b.state_arrays()), (name, update)
            total += n
    assert total >= 1000


def test_pickle_and_deepcopy_keep_the_full_state():
    m = trained("B-og-all-S2", update="sequence", on_divergence="reset")
    m.n_divergences_ = 3
    for other in (pickle.loads(pickle.dumps(m)), copy.deepcopy(m)):
        assert same_state(m.state_arrays(), other.state_arrays())
        assert other.get_params() == m.get_params()
        assert other.n_divergences_ == 3 and other.pending_
        assert other._mem is not m._mem
        continue_both(copy.deepcopy(m), other)


def test_same_state_gives_the_same_bytes(tmp_path):
    m = trained()
    a, b = m.save(tmp_path / "a.npz"), m.save(tmp_path / "b.npz")
    assert a.read_bytes() == b.read_bytes()
    m.learn_last(np.full(m.layout.n_out, 0.5))
    assert m.save(tmp_path / "c.npz").read_bytes() != a.read_bytes()


def test_file_is_plain_npz_of_named_arrays_and_json(tmp_path):
    m = trained()
    path = m.save(tmp_path / "m.npz")
    with np.load(path, allow_pickle=False) as npz:
        assert sorted(npz.files) == sorted(["__meta__", "header", "theta", "dW", "T", "record"])
        meta = json.loads(npz["__meta__"].tobytes())
        assert np.array_equal(npz["theta"], m.theta_)
    assert meta["format"] == "online_lstm.checkpoint" and meta["format_version"] == 1
    assert meta["kind"] == "OnlineLSTM"
    assert meta["config"] == m.get_params()
    assert set(meta["arrays"]) == {"header", "theta", "dW", "T", "record"}
    assert meta["layout"] == ck.layout_signature(m.layout)


def test_compressed_checkpoint(tmp_path):
    m = trained()
    plain, packed = m.save(tmp_path / "p.npz"), m.save(tmp_path / "c.npz", compress=True)
    assert packed.stat().st_size < plain.stat().st_size
    assert same_state(OnlineLSTM.load(packed).state_arrays(), m.state_arrays())


def test_parameters_that_are_not_plain_json(tmp_path):
    m = OnlineLSTM(2, 1, n_blocks=3, bias="gates", in_gate_bias=np.array([-1.0, -2.0, -3.0]),
                   out_gate_bias=(-0.5, -1.0, -1.5), seed=np.int64(4), lr=np.float32(0.25))
    loaded = OnlineLSTM.load(m.save(tmp_path / "m.npz"))
    assert loaded.get_params()["in_gate_bias"] == [-1.0, -2.0, -3.0]
    assert loaded.seed == 4 and loaded.lr == m.lr
    assert np.array_equal(loaded.clone().theta_, m.clone().theta_)  # the seed still replays
    g = OnlineLSTM(2, 1, seed=np.random.default_rng(0))
    assert OnlineLSTM.load(g.save(tmp_path / "g.npz")).seed is None  # weights are in the file


@pytest.mark.parametrize("bias", [range(-3, 0), np.array(-1.5), "series"],
                         ids=["range", "0-d array", "pandas Series"])
def test_every_bias_the_constructor_takes_can_be_saved(bias, tmp_path):
    """A gate bias the constructor accepts (a range, a 0-d array, a pandas
    Series) made save() raise "cannot be stored in a checkpoint": a learner
    could train for hours and then not be saved.  It is stored as its numbers."""
    if isinstance(bias, str):
        bias = pytest.importorskip("pandas").Series([-1.0, -2.0, -3.0])
    kw = dict(in_gate_bias=bias, forget_gate=True, forget_gate_bias=bias, seed=0)
    m = OnlineLSTM(2, 1, n_blocks=3, **kw)
    loaded = OnlineLSTM.load(m.save(tmp_path / "m.npz", fsync=False))
    assert same_state(loaded.state_arrays(), m.state_arrays())
    assert np.array_equal(loaded.clone().theta_, m.clone().theta_)  # the same initialisation
    bank = LearnerBank(2, 2, 1, n_blocks=3, **kw)
    back = LearnerBank.load(bank.save(tmp_path / "b.npz", fsync=False))
    assert np.array_equal(back.clone().theta_, bank.clone().theta_)


def test_a_bound_that_trails_by_rounding_still_loads(tmp_path):
    """Found by hypothesis: after these steps the kernels' bound on max|theta|
    is one ulp below the true maximum (3 cells add to a gate weight one by
    one; the bound adds their sum once).  Such a state is genuine and must
    load."""
    m = OnlineLSTM(1, 2, 3, 3, output_gates=False, bias="gates", g="g1", init_range=0.0,
                   lr=0.001, seed=0)
    m.learn_one([0.0], [0.0, 0.0])
    m.predict_one([0.0])
    m.learn_one([1e150], [0.0, 0.0])
    m.learn_one([0.0], [0.0, 0.0])
    assert OnlineLSTM.load(m.save(tmp_path / "m.npz")).n_steps_ == 4
    twin = m.clone()
    twin.load_state_arrays(m.state_arrays())
    assert same_state(twin.state_arrays(), m.state_arrays())


# ---------------------------------------------------------------------------
# restore into an existing learner
# ---------------------------------------------------------------------------


def test_restore_takes_state_and_parameters(tmp_path):
    m = trained(on_divergence="reset", state_bound=1e4)
    m.lr = 0.05
    path = m.save(tmp_path / "m.npz")
    other = m.clone(lr=0.9, seed=99, state_bound=5.0, on_divergence="raise")
    other.restore(path)
    assert same_state(m.state_arrays(), other.state_arrays())
    assert other.get_params() == m.get_params()
    continue_both(m, other)


@pytest.mark.parametrize("change", [
    dict(n_in=5), dict(n_out=4), dict(n_blocks=3), dict(block_size=2), dict(output_gates=False),
    dict(connectivity="B"), dict(bias="hidden"), dict(g="g1"), dict(h="id"), dict(update="sequence"),
    dict(forget_gate=True), dict(peepholes=True),
])
def test_restore_refuses_another_configuration(change, tmp_path):
    path = trained("F-og-all-S3").save(tmp_path / "m.npz")
    other = OnlineLSTM(**dict(ARCHS["F-og-all-S3"], **change))
    before = other.state_arrays()
    key = next(iter(change))
    with pytest.raises(CheckpointError, match=rf"another configuration \({key}: checkpoint"):
        other.restore(path)
    assert same_state(before, other.state_arrays())


def test_restore_of_a_bad_file_changes_nothing(tmp_path):
    m = trained()
    path = m.save(tmp_path / "m.npz")
    path.write_bytes(path.read_bytes()[:-100])
    before = m.state_arrays()
    with pytest.raises(CheckpointError):
        m.restore(path)
    assert same_state(before, m.state_arrays())


# ---------------------------------------------------------------------------
# files that are not good checkpoints
# ---------------------------------------------------------------------------


def small_checkpoint(tmp_path):
    m = OnlineLSTM(1, 1, seed=0)
    m.learn_many(np.ones((3, 1)), np.full((3, 1), 0.5))
    return m, m.save(tmp_path / "small.npz")


def test_every_truncation_is_a_clear_error(tmp_path):
    m, path = small_checkpoint(tmp_path)
    for n in range(path.stat().st_size - 1, -1, -1):  # every length, shortest last
        os.truncate(path, n)
        with pytest.raises(CheckpointError, match="truncated or corrupted|missing|cannot be read"):
            OnlineLSTM.load(path)


def test_no_byte_flip_loads_a_wrong_state(tmp_path):
    """Flipping any single byte gives a clear error, or (bytes no reader
    looks at: timestamps, attributes) the very same state.  Never a different
    state."""
    m, path = small_checkpoint(tmp_path)
    data = path.read_bytes()
    errors = 0
    fd = os.open(path, os.O_RDWR)
    try:
        for i in range(len(data)):
            os.pwrite(fd, bytes([data[i] ^ 0xFF]), i)
            try:
                loaded = OnlineLSTM.load(path)
            except CheckpointError:
                errors += 1
            else:
                assert same_state(loaded.state_arrays(), m.state_arrays()), i
            os.pwrite(fd, data[i:i + 1], i)
    finally:
        os.close(fd)
    assert errors > 0.9 * len(data)


def rewrite(src, dst, arrays=None, meta=None, raw=None):
    """Write a checkpoint-like archive by hand (np.savez, no checks)."""
    with np.load(src, allow_pickle=False) as npz:
        members = {k: npz[k] for k in npz.files}
    m = json.loads(members.pop("__meta__").tobytes())
    members.update(arrays or {})
    if meta:
        meta(m)
    members["__meta__"] = np.frombuffer(json.dumps(m).encode() if raw is None else raw, np.uint8)
    np.savez(dst, **members)
    return dst


def _set(key, value):
    def change(m):
        m[key] = value
    return change


@pytest.mark.parametrize("what, kwargs, match", [
    ("version", dict(meta=_set("format_version", 2)), "format version 2; .* reads format version 1"),
    ("no version", dict(meta=lambda m: m.pop("format_version")), "format version None"),
    ("older version", dict(meta=_set("format_version", 0)), "format version 0; .* reads format version 1"),
    ("version as text", dict(meta=_set("format_version", "1")), "format version '1'"),
    ("version as bool", dict(meta=_set("format_version", True)), "format version True"),
    ("version as float", dict(meta=_set("format_version", 1.0)), "format version 1.0"),
    ("nested json", dict(raw=b"[" * 100_000 + b"]" * 100_000), "nested too deeply"),
    ("format", dict(meta=_set("format", "something.else")), "format 'something.else'"),
    ("kind", dict(meta=_set("kind", "LearnerBank")), "holds a 'LearnerBank', not a 'OnlineLSTM'"),
    ("json", dict(raw=b"{not json"), "not valid JSON"),
    ("no index", dict(meta=lambda m: m.pop("arrays")), "no array index"),
    ("checksum", dict(arrays={"theta": np.zeros(1)}), "array 'theta' is .*index says"),
    ("values", dict(meta=lambda m: m["arrays"]["theta"].update(sha256="0" * 64)), "corrupted .SHA-256"),
    ("extra array", dict(arrays={"junk": np.zeros(3)}), r"\['junk'\] are not in the metadata index"),
    ("missing array", dict(meta=lambda m: m["arrays"].update(more=m["arrays"]["dW"])), "'more' is missing"),
    ("config", dict(meta=_set("config", dict(n_in=1))), "does not build a learner"),
    ("bad config", dict(meta=lambda m: m["config"].update(bias="xyz")), "does not build a learner"),
    ("no config", dict(meta=lambda m: m.pop("config")), "no configuration"),
    ("state vs config", dict(meta=lambda m: m["config"].update(n_blocks=2)),
     "does not fit its own configuration|holds arrays|memory layout|weights per learner"),
    ("extra not a dict", dict(meta=_set("extra", [1])), "metadata 'extra' must be"),
    ("divergences text", dict(meta=_set("extra", {"n_divergences": "abc"})), "metadata 'extra' must be"),
    ("divergences < 0", dict(meta=_set("extra", {"n_divergences": -3})), "metadata 'extra' must be"),
    ("divergences float", dict(meta=_set("extra", {"n_divergences": 1.5})), "metadata 'extra' must be"),
    ("divergences bool", dict(meta=_set("extra", {"n_divergences": True})), "metadata 'extra' must be"),
    # edited metadata (a valid checksum does not make a configuration sane)
    ("huge config", dict(meta=lambda m: m["config"].update(n_in=10**12)), "has .* weights per learner"),
    ("record size inf", dict(meta=lambda m: m["layout"]["record"].__setitem__(
        0, [m["layout"]["record"][0][0], float("inf")])), "layout signature is malformed"),
    ("header entries lists", dict(meta=lambda m: m["layout"].update(
        header=[[n] for n in m["layout"]["header"]])), "no header entry"),
])
def test_bad_checkpoint_contents(what, kwargs, match, tmp_path):
    _, path = small_checkpoint(tmp_path)
    bad = rewrite(path, tmp_path / "bad.npz", **kwargs)
    with pytest.raises(CheckpointError, match=match):
        OnlineLSTM.load(bad)


def test_a_missing_extra_entry_means_no_divergences(tmp_path):
    _, path = small_checkpoint(tmp_path)
    for change, n in ((lambda m: m.pop("extra"), 0), (_set("extra", {}), 0),
                      (_set("extra", {"n_divergences": 4}), 4)):
        assert OnlineLSTM.load(rewrite(path, tmp_path / "ok.npz", meta=change)).n_divergences_ == n


def test_wrong_array_dtype_with_matching_index(tmp_path):
    """Index and array agree, but the learner wants float64: caught by the state check."""
    _, path = small_checkpoint(tmp_path)
    with np.load(path) as npz:
        theta = npz["theta"].astype(np.float32)
    bad = rewrite(path, tmp_path / "bad.npz", arrays={"theta": theta},
                  meta=lambda m: m["arrays"]["theta"].update(dtype="<f4", sha256=ck._digest(theta)))
    with pytest.raises(CheckpointError, match="float64"):
        OnlineLSTM.load(bad)


class _Evil:
    marker = None

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_loading_never_executes_code(tmp_path):
    marker = tmp_path / "pwned"
    _Evil.marker = str(marker)
    _, path = small_checkpoint(tmp_path)
    evil = np.empty(1, dtype=object)
    evil[0] = _Evil()
    with np.load(path) as npz:
        members = {k: npz[k] for k in npz.files}
    np.savez(tmp_path / "objects.npz", **dict(members, theta=evil))
    with pytest.raises(CheckpointError, match="cannot be read"):
        OnlineLSTM.load(tmp_path / "objects.npz")
    (tmp_path / "pickle.npz").write_bytes(pickle.dumps(_Evil()))
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        OnlineLSTM.load(tmp_path / "pickle.npz")
    assert not marker.exists()


def test_things_that_are_not_checkpoints(tmp_path):
    cases = {"empty.npz": b"", "noise.npz": np.random.default_rng(0).bytes(5000),
             "text.npz": b"theta = [1, 2, 3]\n"}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(CheckpointError, match="not a readable checkpoint"):
            OnlineLSTM.load(tmp_path / name)
    np.save(tmp_path / "one.npy", np.zeros(3))
    with pytest.raises(CheckpointError, match="single .npy array"):
        OnlineLSTM.load(tmp_path / "one.npy")
    np.savez(tmp_path / "plain.npz", theta=np.zeros(3))
    with pytest.raises(CheckpointError, match="no '__meta__' entry"):
        OnlineLSTM.load(tmp_path / "plain.npz")
    with pytest.raises(CheckpointError, match="is a directory"):
        OnlineLSTM.load(tmp_path)
    with pytest.raises(FileNotFoundError):
        OnlineLSTM.load(tmp_path / "nothing.npz")


def test_a_file_that_cannot_be_opened_is_an_os_error_not_a_corrupted_one(tmp_path, monkeypatch):
    """A checkpoint the process may not read (permissions) is intact: calling
    it "truncated or corrupted" (a CheckpointError) sends the user after the
    wrong problem, and maybe to delete a good file.  The OSError of opening
    it comes through, as FileNotFoundError does for a missing one."""
    import builtins

    path = OnlineLSTM(2, 1, seed=0).save(tmp_path / "m.npz", fsync=False)
    real_open = builtins.open

    def no_access(file, *args, **kwargs):
        if os.fspath(file) == os.fspath(path):
            raise PermissionError(13, "Permission denied", os.fspath(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", no_access)
    with pytest.raises(PermissionError):
        OnlineLSTM.load(path)
    monkeypatch.undo()
    assert OnlineLSTM.load(path).n_steps_ == 0


def test_a_reordered_memory_layout_is_read_by_name(tmp_path):
    """A checkpoint whose header slots and record fields are in another order
    (as a later version of layout.py might write them) loads to the same state."""
    m = trained()
    path = m.save(tmp_path / "m.npz")
    arrays, meta = ck.read_checkpoint(path)
    sig = meta["layout"]
    rng = np.random.default_rng(0)
    order = rng.permutation(len(sig["header"]))
    header = arrays["header"][order]
    names = [sig["header"][i] for i in order]
    fields = sig["record"][::-1]
    pos, p = {}, 0
    for n, s in sig["record"]:
        pos[n] = (p, s)
        p += s
    record = np.concatenate([arrays["record"][pos[n][0]:pos[n][0] + s] for n, s in fields])
    meta = dict(meta, layout={"header": names, "record": fields})
    ck.write_checkpoint(tmp_path / "moved.npz", dict(arrays, header=header, record=record), meta)
    moved = OnlineLSTM.load(tmp_path / "moved.npz")
    assert same_state(moved.state_arrays(), m.state_arrays())
    continue_both(m, moved)
    names[names.index("n_updates")] = "something_else"
    meta = dict(meta, layout={"header": names, "record": fields})
    ck.write_checkpoint(tmp_path / "old.npz", dict(arrays, header=header, record=record), meta)
    with pytest.raises(CheckpointError, match="no header entry 'n_updates'"):
        OnlineLSTM.load(tmp_path / "old.npz")


def test_generic_container_for_other_kinds(tmp_path):
    """What a bank of learners would use: any named arrays, its own kind."""
    arrays = {"mem": np.arange(12.0).reshape(3, 4), "ids": np.arange(3, dtype=np.int64),
              "t": np.array(7.0), "cols": np.arange(12.0).reshape(3, 4)[:, ::2]}
    path = ck.write_checkpoint(tmp_path / "bank.npz", arrays, {"kind": "Bank", "config": {"n": 3}})
    back, meta = ck.read_checkpoint(path, kind="Bank")
    assert all(np.array_equal(back[k], arrays[k]) and back[k].dtype == arrays[k].dtype
               and back[k].shape == arrays[k].shape for k in arrays)
    assert meta["config"] == {"n": 3}
    with pytest.raises(CheckpointError, match="holds a 'Bank', not a 'OnlineLSTM'"):
        OnlineLSTM.load(path)
    with pytest.raises(ValueError, match="numbers only"):
        ck.write_checkpoint(tmp_path / "x.npz", {"a": np.array([None])}, {"kind": "Bank"})
    with pytest.raises(ValueError, match="array names"):
        ck.write_checkpoint(tmp_path / "x.npz", {"__meta__": np.zeros(1)}, {"kind": "Bank"})


# ---------------------------------------------------------------------------
# the write: atomic, durable, tidy
# ---------------------------------------------------------------------------


def test_save_leaves_no_temporary_files_and_respects_modes(tmp_path):
    m = trained()
    path = m.save(tmp_path / "m.npz")
    assert os.listdir(tmp_path) == ["m.npz"]
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask
    path.chmod(0o600)
    m.save(path)
    assert path.stat().st_mode & 0o777 == 0o600  # replacing a file keeps its mode
    with pytest.raises(FileNotFoundError, match="no directory .*such"):
        m.save(tmp_path / "no" / "such" / "dir.npz")
    assert os.listdir(tmp_path) == ["m.npz"]
    (tmp_path / "sub").mkdir()
    with pytest.raises(IsADirectoryError, match="is a directory; a checkpoint needs a file name"):
        m.save(tmp_path / "sub")  # not a temporary file in tmp_path, not a rename error
    assert sorted(os.listdir(tmp_path)) == ["m.npz", "sub"] and not os.listdir(tmp_path / "sub")


def test_a_failing_save_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    m = trained()
    path = m.save(tmp_path / "m.npz")
    old = m.state_arrays()
    m.learn_last(np.full(m.layout.n_out, 0.2))
    calls, write_array = [], np.lib.format.write_array

    def failing_write_array(fh, arr, **kw):
        calls.append(1)
        if len(calls) == 3:
            raise OSError("disk full")
        return write_array(fh, arr, **kw)

    monkeypatch.setattr(np.lib.format, "write_array", failing_write_array)
    with pytest.raises(OSError, match="disk full"):
        m.save(path)
    assert os.listdir(tmp_path) == ["m.npz"]
    assert same_state(OnlineLSTM.load(path).state_arrays(), old)


def _run_and_kill(tmp_path, trial, delay, rng):
    """Start save_loop.py, SIGKILL it, return (log lines, whether mid-save was targeted)."""
    ckpt, log = tmp_path / f"k{trial}.npz", tmp_path / f"k{trial}.log"
    proc = subprocess.Popen([sys.executable, str(HERE / "save_loop.py"), str(ckpt), str(log), str(delay)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    target = int(rng.integers(1, 3))
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            lines = log.read_text().split("\n")[:-1] if log.exists() else []
            if delay > 0 and lines and lines[-1].startswith("begin") and int(lines[-1].split()[1]) >= target \
                    and any(p.name.startswith(f".{ckpt.name}.") for p in tmp_path.iterdir()):
                break  # the temporary file of a (slow) save is being written
            if delay == 0 and sum(ln.startswith("end") for ln in lines) >= target:
                time.sleep(float(rng.uniform(0.0, 0.02)))  # anywhere in the loop
                break
            if proc.poll() is not None:
                raise AssertionError(f"save_loop.py died: {proc.stderr.read().decode()}")
            time.sleep(0.001)
        else:
            raise AssertionError("save_loop.py made no progress")
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    return ckpt, log.read_text().split("\n")[:-1]


def test_sigkill_during_save_loses_nothing(tmp_path):
    """A process killed (SIGKILL) while it writes a checkpoint leaves the
    previous checkpoint intact and loadable, bit-identical to a replay."""
    sys.path.insert(0, str(HERE))
    from save_loop import replay

    rng = np.random.default_rng(0)
    trials = int(os.environ.get("ONLINE_LSTM_SIGKILL_TRIALS", "6"))
    mid_save = 0
    for trial in range(trials):
        delay = 0.02 if trial % 2 == 0 else 0.0
        ckpt, lines = _run_and_kill(tmp_path, trial, delay, rng)
        ends = [int(ln.split()[2]) for ln in lines if ln.startswith("end")]
        begun = [int(ln.split()[2]) for ln in lines if ln.startswith("begin")]
        in_save = lines[-1].startswith("begin")
        loaded = OnlineLSTM.load(ckpt)  # never a broken file
        if in_save and delay > 0:
            assert loaded.n_steps_ == ends[-1]  # the previous checkpoint, intact
            temps = [p for p in tmp_path.iterdir() if p.name.startswith(f".{ckpt.name}.")]
            assert len(temps) == 1  # the interrupted write
            with pytest.raises(CheckpointError):
                OnlineLSTM.load(temps[0])
            temps[0].unlink()
            mid_save += 1
        else:  # killed anywhere: the last completed save, or the one whose rename just happened
            assert loaded.n_steps_ in (ends[-1], begun[-1])
        assert same_state(loaded.state_arrays(), replay(loaded.n_steps_).state_arrays())
    assert mid_save >= trials // 2


def test_a_long_file_name_saves(tmp_path):
    """The temporary file of an atomic save must not pass the 255-byte limit
    of a file name that the checkpoint's own name keeps to."""
    m = OnlineLSTM(3, 2, 2, 1, seed=0)
    for name in ("m" * 250, "\u00e9" * 125):  # 250 bytes each (two per e-acute in UTF-8)
        path = m.save(tmp_path / name)
        assert same_state(OnlineLSTM.load(path).state_arrays(), m.state_arrays())
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["m" * 250, "\u00e9" * 125])


# ---------------------------------------------------------------------------
# metadata that disagrees with the arrays (a mutation audit found these untested)
# ---------------------------------------------------------------------------
def _edit_meta(src, dst, edit):
    """Copy checkpoint ``src`` to ``dst`` with its JSON metadata passed through ``edit``."""
    import io
    import zipfile

    with zipfile.ZipFile(src) as z:
        members = {n: z.read(n) for n in z.namelist()}
    meta = json.loads(np.load(io.BytesIO(members["__meta__.npy"])).tobytes())
    edit(meta)
    buf = io.BytesIO()
    np.save(buf, np.frombuffer(json.dumps(meta).encode(), np.uint8))
    members["__meta__.npy"] = buf.getvalue()
    with zipfile.ZipFile(dst, "w") as z:
        for n, b in members.items():
            z.writestr(n, b)
    return dst


def test_an_index_dtype_other_than_the_array_s_is_refused(tmp_path):
    """The SHA-256 covers the bytes only; the dtype the index names is checked too."""
    p = ck.write_checkpoint(tmp_path / "a.npz", {"a": np.arange(4.0)}, {"kind": "X", "config": {}}, fsync=False)

    def edit(meta):
        meta["arrays"]["a"]["dtype"] = "<i8"  # same bytes, another dtype

    with pytest.raises(CheckpointError, match="index says"):
        ck.read_checkpoint(_edit_meta(p, tmp_path / "b.npz", edit))


def test_a_foreign_record_layout_with_a_resized_field_is_refused(tmp_path):
    m = OnlineLSTM(2, 2, n_blocks=2, seed=0)
    m.learn_one([0.1, 0.2], [0.5, 0.5])
    p = m.save(tmp_path / "a.npz", fsync=False)

    def edit(meta):
        rec = meta["layout"]["record"]  # [[name, size], ...]
        i = next(j for j, (n, s) in enumerate(rec) if s >= 2 and j < len(rec) - 1)
        last = max(j for j, (n, s) in enumerate(rec) if s >= 2 and j != i)
        rec[i][1] += 1
        rec[last][1] -= 1  # the same total, one field a number longer

    with pytest.raises(CheckpointError, match="step-record field"):
        OnlineLSTM.load(_edit_meta(p, tmp_path / "b.npz", edit))


def test_snapshots_in_another_record_layout_are_refused(tmp_path):
    """Snapshots hold records in the writer's field order, which a load cannot
    remap: a file with snapshots and another record layout is refused."""
    m = OnlineLSTM(2, 1, n_blocks=2, max_delay=2, seed=0)
    for _ in range(3):
        m.predict_one([0.1, 0.2])
    arrays, meta = ck.read_checkpoint(m.save(tmp_path / "m.npz", fsync=False))
    sig = meta["layout"]
    fields = sig["record"][::-1]  # a later layout: the record fields reversed
    pos, at = {}, 0
    for n, s in sig["record"]:
        pos[n] = (at, s)
        at += s
    record = np.concatenate([arrays["record"][pos[n][0]:pos[n][0] + s] for n, s in fields])
    meta = dict(meta, layout={"header": sig["header"], "record": fields})
    ck.write_checkpoint(tmp_path / "moved.npz", dict(arrays, record=record), meta, fsync=False)
    with pytest.raises(CheckpointError, match="snapshots"):
        OnlineLSTM.load(tmp_path / "moved.npz")


@pytest.mark.parametrize("size", [-3, -40, 10**6])
def test_a_record_signature_that_does_not_fit_is_refused(size, tmp_path):
    """Field sizes in the layout signature must be >= 0 and fit in the stored
    record.  A negative size (an edited file) shifted every field after it
    backwards: a raw broadcast ValueError instead of a CheckpointError, or
    (shifted past the start, where slicing clips) a file accepted as if its
    signature made sense."""
    m = OnlineLSTM(2, 2, n_blocks=2, seed=0)
    m.learn_one([0.1, 0.2], [0.5, 0.5])
    p = m.save(tmp_path / "a.npz", fsync=False)

    def edit(meta):
        meta["layout"]["record"].insert(0, ["junk", size])

    with pytest.raises(CheckpointError, match="record"):
        OnlineLSTM.load(_edit_meta(p, tmp_path / "b.npz", edit))


def test_restore_drops_the_divergence_of_the_learner_s_own_past(tmp_path):
    """After restore() the learner is the checkpoint's, as after load():
    ``last_divergence_`` (not kept by checkpoints) must not be left naming an
    event of the history the restore replaced, next to the checkpoint's
    ``n_divergences_``."""
    m = OnlineLSTM(2, 1, on_divergence="reset", state_bound=3.0, init_range=1.0, lr=0.5, seed=0)
    path = m.save(tmp_path / "fresh.npz", fsync=False)
    rng = np.random.default_rng(0)
    while m.n_divergences_ == 0:
        m.learn_one(rng.normal(size=2), rng.normal())
    assert m.last_divergence_ is not None
    m.restore(path)
    assert m.n_divergences_ == 0
    assert m.last_divergence_ is None  # as OnlineLSTM.load(path) has it


@pytest.mark.parametrize("edit, match", [
    (lambda c: c.update(n_blocks=10**4, block_size=10**2), "configuration has .* weights per learner"),
    (lambda c: c.update(n_in=3), "configuration has .* weights per learner"),
    (lambda c: c.update(n_blocks="many"), "does not build a learner"),
])
def test_a_configuration_that_disagrees_with_the_stored_sizes_is_refused_before_building(
        edit, match, tmp_path, monkeypatch):
    """An edited configuration (n_blocks in the millions) must be refused by
    its sizes, not built: building allocates and initialises the learner."""
    m = OnlineLSTM(2, 2, n_blocks=2, seed=0)
    m.learn_one([0.1, 0.2], [0.5, 0.5])
    p = _edit_meta(m.save(tmp_path / "a.npz", fsync=False), tmp_path / "b.npz",
                   lambda meta: edit(meta["config"]))

    def no_build(*args, **kwargs):
        raise AssertionError("the learner was built before its sizes were checked")

    monkeypatch.setattr(OnlineLSTM, "_build", no_build)
    with pytest.raises(CheckpointError, match=match):
        OnlineLSTM.load(p)


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_a_new_file_gets_the_umask_s_mode_without_the_umask_being_changed(mask, tmp_path, monkeypatch):
    """Reading the umask must not set it, even for a moment: a file another
    thread creates then would get the wrong mode (Linux: /proc/self/status)."""
    real, calls = os.umask, []
    old = real(mask)
    try:
        monkeypatch.setattr(os, "umask", lambda m: calls.append(m) or real(m))
        path = trained().save(tmp_path / "m.npz", fsync=False)
    finally:
        real(old)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask
    if pathlib.Path("/proc/self/status").exists():
        assert calls == []


def test_a_save_over_a_symlink_replaces_the_link_and_leaves_its_target(tmp_path):
    """As documented in OnlineLSTM.save: the atomic rename replaces the link itself."""
    old = trained()
    target = old.save(tmp_path / "run-1.npz", fsync=False)
    before = target.read_bytes()
    (tmp_path / "current.npz").symlink_to(target.name)
    m = trained(seed=1)  # another state than the target's
    path = m.save(tmp_path / "current.npz", fsync=False)
    assert not path.is_symlink() and target.read_bytes() == before
    assert same_state(OnlineLSTM.load(path).state_arrays(), m.state_arrays())
