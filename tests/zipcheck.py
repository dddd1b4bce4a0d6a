"""Helpers of the checkpoint tests that take archives apart: a member's
``.npy`` bytes and the metadata's JSON text (the fixture ``reads``, the
members a load inflated, is in conftest)."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import numpy as np


def npy_bytes(arr) -> bytes:
    """``arr`` as the bytes of a ``.npy`` file (an archive member)."""
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def meta_text(path) -> str:
    """The JSON text of a checkpoint's ``__meta__`` member."""
    with zipfile.ZipFile(path) as z:
        return np.load(io.BytesIO(z.read("__meta__.npy"))).tobytes().decode()



def rewrite(src, dst, members, drop=()):
    """``src`` with its members replaced or added, written to ``dst``:
    ``members`` is a list of (zip name, bytes), written after the members
    of ``src`` they do not name; the zip names in ``drop`` are left out."""
    names = {n for n, _ in members} | set(drop)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename not in names:
                zout.writestr(info.filename, zin.read(info.filename))
        for n, data in members:
            zout.writestr(n, data)
    return dst


def meta_member(meta) -> bytes:
    """The ``__meta__.npy`` bytes of the metadata ``meta`` (JSON text of any value)."""
    return npy_bytes(np.frombuffer(json.dumps(meta).encode(), np.uint8))


def consistent(path, dst, key, arr):
    """``path`` with array ``key`` replaced (or added) by ``arr`` and its
    index entry (shape, dtype, digest) rewritten to match, written to
    ``dst``: nothing but the configuration says the file is wrong."""
    meta = json.loads(meta_text(path))
    meta["arrays"][key] = {"shape": list(arr.shape), "dtype": arr.dtype.str,
                           "sha256": hashlib.sha256(arr.reshape(-1).view(np.uint8)).hexdigest()}
    return rewrite(path, dst, [("__meta__.npy", meta_member(meta)), (key + ".npy", npy_bytes(arr))])
