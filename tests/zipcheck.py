"""Helpers of the checkpoint tests that take archives apart: a member's
``.npy`` bytes and the metadata's JSON text (the fixture ``reads``, the
members a load inflated, is in conftest)."""

from __future__ import annotations

import io
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

