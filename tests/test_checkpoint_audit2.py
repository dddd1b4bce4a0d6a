"""Second audit of checkpoints: defects found and fixed.

Each test failed before its fix:

* a member of the archive that is not a ``.npy`` array (raw bytes, which
  ``NpzFile`` hands back as ``bytes``) crashed the reader with an
  AttributeError instead of a CheckpointError;
* an index entry whose dtype NumPy refuses with a ValueError (a sub-array
  dtype too large for a C int) crashed the reader instead of being named a
  malformed index entry;
* loading from a named pipe (or a terminal) hung for ever in ``open``
  waiting for a writer; and with one, a pipe cannot be read as a zip
  archive anyway.  It is refused, as saving to one is.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile

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


def _same(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def _rezip(src, dst, change):
    """Copy the archive ``src`` to ``dst`` member by member; ``change(name,
    data)`` returns the (name, data) pairs to write instead."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            for name, data in change(info.filename, zin.read(info.filename)):
                zout.writestr(name, data)
    return dst


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("member", ["theta", "__meta__"])
@pytest.mark.parametrize("how", ["no suffix", "no header"])
def test_a_member_that_is_not_a_npy_array_is_a_checkpoint_error(kind, member, how, tmp_path):
    model = KINDS[kind]()
    path = model.save(tmp_path / "m.npz", fsync=False)
    before = model.state_arrays()

    def change(name, data):
        if name != member + ".npy":
            return [(name, data)]
        return [(member if how == "no suffix" else name, b"not an array")]

    bad = _rezip(path, tmp_path / "bad.npz", change)
    with pytest.raises(CheckpointError, match="not a .npy array|cannot be read"):
        type(model).load(bad)
    with pytest.raises(CheckpointError):
        model.restore(bad)
    assert _same(model.state_arrays(), before)


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("dtype", ["(100000000000,)f8", "(2147483648,)u1", "S99999999999999999999",
                                   [["a"]], 7])
def test_an_index_dtype_numpy_refuses_is_a_malformed_entry(kind, dtype, tmp_path):
    model = KINDS[kind]()
    path = model.save(tmp_path / "m.npz", fsync=False)

    def change(name, data):
        if name == "__meta__.npy":
            meta = json.loads(np.load(io.BytesIO(data)).tobytes())
            meta["arrays"]["theta"]["dtype"] = dtype
            buf = io.BytesIO()
            np.save(buf, np.frombuffer(json.dumps(meta).encode(), np.uint8))
            data = buf.getvalue()
        return [(name, data)]

    bad = _rezip(path, tmp_path / "bad.npz", change)
    with pytest.raises(CheckpointError, match="index entry of 'theta' is malformed"):
        type(model).load(bad)
    with pytest.raises(CheckpointError, match="malformed"):
        ck.read_checkpoint(bad)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")
def test_loading_from_a_named_pipe_is_refused_instead_of_hanging(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    code = ("import sys\nfrom online_lstm import CheckpointError, OnlineLSTM\n"
            "try:\n    OnlineLSTM.load(sys.argv[1])\n"
            "except CheckpointError as e:\n    print(e)\n")
    # a subprocess: the hang this guards against cannot be interrupted in-process
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    try:
        done = subprocess.run([sys.executable, "-c", code, str(fifo)], capture_output=True,
                              text=True, timeout=30, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail("OnlineLSTM.load of a named pipe hangs")
    assert "not a regular file" in done.stdout, done.stderr
    with pytest.raises(CheckpointError, match="not a regular file"):
        ck.read_checkpoint(os.devnull)
