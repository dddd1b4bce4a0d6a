"""Numba options are set in one place (online_lstm/_jit.py)."""

import pathlib
import re

PKG = pathlib.Path(__file__).resolve().parents[1] / "online_lstm"


def test_no_inline_numba_options_outside_jit_module():
    offenders = []
    for path in PKG.rglob("*.py"):
        if path.name == "_jit.py":
            continue
        text = path.read_text()
        if re.search(r"numba\.(njit|jit|vectorize|guvectorize)\s*\(|from numba import .*\b(njit|jit)\b"
                     r"|@(numba\.)?(njit|jit)\s*\(", text):
            offenders.append(str(path.relative_to(PKG)))
    assert not offenders, f"set Numba options in _jit.py only: {offenders}"


def test_fastmath_is_off_and_cache_on():
    from online_lstm._jit import JIT_OPTIONS

    assert JIT_OPTIONS["cache"] is True
    assert JIT_OPTIONS["fastmath"] is False
    assert JIT_OPTIONS["nogil"] is True
