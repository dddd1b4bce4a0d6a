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


def test_inlined_phases_differ_from_other_kernels_only_by_forceinline():
    """The step's phases carry LLVM's alwaysinline and nothing else of their own."""
    from online_lstm import _jit, kernels

    assert _jit.HAS_FORCEINLINE, "this Numba has no forceinline option; see _jit.py"

    inlined = ("_forward", "_errors", "_bounds", "_commit", "_step_1997", "_step_mem",
               "_step_x", "_forward_x", "_commit_x")
    plain = kernels._reset.targetoptions
    assert "forceinline" not in plain
    for name in inlined:
        opts = dict(getattr(kernels, name).targetoptions)
        assert opts.pop("forceinline") is True, name
        assert opts == plain, name
