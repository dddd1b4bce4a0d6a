"""A member whose zip entry declares more bytes than the index allows for it
is refused before it is inflated.

Before, a checkpoint whose ``theta.npy`` had been replaced by a large array
of zeros (kilobytes on disk, megabytes or gigabytes inflated) was inflated in
full and only then refused on its shape; a metadata member of any size was
inflated and parsed.
"""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

import online_lstm.checkpoint as ck
from online_lstm import CheckpointError, LearnerBank, OnlineLSTM
from online_lstm.baselines import BPTT, RTRL
from zipcheck import meta_text, npy_bytes

KINDS = {
    "OnlineLSTM": lambda: OnlineLSTM(2, 1, 2, 1, seed=1),
    "LearnerBank": lambda: LearnerBank(2, 2, 1, 2, 1, seed=1),
    "RTRL": lambda: RTRL(2, 1, 2, seed=1),
    "BPTT": lambda: BPTT(2, 1, 2, seed=1, window=3),
}


def _replace(src, dst, member, data):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, data if info.filename == member + ".npy"
                          else zin.read(info.filename))
    return dst




@pytest.mark.parametrize("kind", list(KINDS))
def test_an_oversized_member_is_refused_before_it_is_inflated(kind, tmp_path, reads):
    model = KINDS[kind]()
    path = model.save(tmp_path / "m.npz", fsync=False)
    before = model.state_arrays()
    bomb = _replace(path, tmp_path / "bomb.npz", "theta", npy_bytes(np.zeros(2_000_000)))
    assert bomb.stat().st_size < 200_000  # 16 MB of zeros, deflated
    with pytest.raises(CheckpointError, match=r"member 'theta' inflates to 16,000,128 bytes"):
        type(model).load(bomb)
    assert "theta" not in reads
    with pytest.raises(CheckpointError, match="inflates to"):
        model.restore(bomb)
    after = model.state_arrays()
    assert all(np.array_equal(before[k], after[k]) for k in before)


def test_a_member_of_the_declared_size_is_still_read(tmp_path, reads):
    model = OnlineLSTM(2, 1, 2, 1, seed=1)
    model.learn_one(np.array([0.5, -1.0]), np.array([1.0]))
    path = model.save(tmp_path / "m.npz", fsync=False, compress=True)
    back = OnlineLSTM.load(path)
    assert "theta" in reads
    np.testing.assert_array_equal(back.state_arrays()["theta"], model.state_arrays()["theta"])


def test_an_oversized_metadata_member_is_refused_unparsed(tmp_path, reads, monkeypatch):
    model = OnlineLSTM(2, 1, 2, 1, seed=1)
    path = model.save(tmp_path / "m.npz", fsync=False)
    monkeypatch.setattr(ck, "_META_MAX", 100)  # instead of writing 256 MiB of JSON
    with pytest.raises(CheckpointError, match=r"member '__meta__' inflates to [\d,]+ bytes; 100 at most"):
        OnlineLSTM.load(path)
    assert reads == []


@pytest.mark.parametrize("shape", [[18.0], [True], [-1], "18"])
def test_an_index_shape_that_is_not_sizes_is_malformed(shape, tmp_path):
    model = OnlineLSTM(2, 1, 2, 1, seed=1)
    path = model.save(tmp_path / "m.npz", fsync=False)
    with zipfile.ZipFile(path) as z:
        meta = json.loads(np.load(io.BytesIO(z.read("__meta__.npy"))).tobytes())
    meta["arrays"]["theta"]["shape"] = shape
    bad = _replace(path, tmp_path / "bad.npz", "__meta__",
                   npy_bytes(np.frombuffer(json.dumps(meta).encode(), np.uint8)))
    with pytest.raises(CheckpointError, match="index entry of 'theta' is malformed"):
        OnlineLSTM.load(bad)


# ---------------------------------------------------------------------------
# strict JSON metadata: no bare Infinity / NaN
# ---------------------------------------------------------------------------

def _refuse_constant(name):
    raise ValueError(f"not strict JSON: {name}")


@pytest.mark.parametrize("kind", ["OnlineLSTM", "LearnerBank"])
def test_metadata_is_strict_json_and_non_finite_floats_come_back(kind, tmp_path):
    """state_bound=inf was written as a bare Infinity, which Python reads but
    strict JSON readers (jq, JavaScript, most other languages) refuse."""
    model = (OnlineLSTM(2, 1, seed=1, state_bound=np.inf) if kind == "OnlineLSTM"
             else LearnerBank(2, 2, 1, seed=1, state_bound=np.inf))
    path = model.save(tmp_path / "m.npz", fsync=False)
    meta = json.loads(meta_text(path), parse_constant=_refuse_constant)  # strict
    assert meta["config"]["state_bound"] == {"__float__": "inf"}
    back = type(model).load(path)
    assert back.get_params()["state_bound"] == np.inf
    assert ck.read_checkpoint(path)[1]["config"]["state_bound"] == np.inf


def test_a_file_with_bare_infinity_still_loads(tmp_path):
    """Checkpoints written before the tag hold bare Infinity."""
    model = OnlineLSTM(2, 1, seed=1, state_bound=np.inf)
    path = model.save(tmp_path / "m.npz", fsync=False)
    meta = json.loads(meta_text(path))
    meta["config"]["state_bound"] = float("inf")
    old = _replace(path, tmp_path / "old.npz", "__meta__",
                   npy_bytes(np.frombuffer(json.dumps(meta, allow_nan=True).encode(), np.uint8)))
    assert "Infinity" in meta_text(old)
    assert OnlineLSTM.load(old).get_params()["state_bound"] == np.inf


@pytest.mark.parametrize("value", [float("nan"), float("-inf"), [1.0, float("inf")],
                                   {"a": {"b": float("nan")}}, {"__float__": "text"}])
def test_non_finite_floats_round_trip_anywhere_in_the_metadata(value, tmp_path):
    path = ck.write_checkpoint(tmp_path / "x.npz", {"a": np.zeros(2)}, {"kind": "X", "v": value},
                               fsync=False)
    json.loads(meta_text(path), parse_constant=_refuse_constant)
    got = ck.read_checkpoint(path)[1]["v"]
    np.testing.assert_equal(got, value)  # (NaN equal to NaN)
