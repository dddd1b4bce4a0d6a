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


def test_the_lstm_and_bank_kernels_run_without_nrt_and_the_competitors_with_it():
    """_jit.py's _nrt choice: no reference counting where nothing needs it
    (the learner's and the bank's kernels), NRT where array slices are
    copied (the competitors')."""
    from online_lstm import _jit, bank_kernels, kernels
    from online_lstm.baselines import _entry, _rtrl

    assert _jit.HAS_NRT_OPTION, "this Numba has no _nrt option; see _jit.py"
    for fn in (kernels.learn_step, kernels.run, kernels._reset, kernels._forward,
               bank_kernels._learner_rows_u):
        assert fn.targetoptions.get("_nrt") is False, fn
    assert _jit.JIT_PARALLEL_OPTIONS["_nrt"] is False  # (the bank's prange entry points)
    for fn in (_entry.step, _entry.run, _rtrl._step):
        assert fn.targetoptions.get("_nrt") is True, fn


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


def test_the_scripts_compiled_code_compiles_under_the_options_it_takes(tmp_path, capsys):
    """scripts/rtrl_time_convention.py compiles its own RTRL loop with the
    library's options; it assigns array slices, which needs NRT, so it takes
    JIT_NRT_OPTIONS (with JIT_OPTIONS, _nrt=False, it failed to compile, and
    only a run shows it: loading the module compiles nothing)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scripts" / "rtrl_time_convention.py"
    spec = importlib.util.spec_from_file_location("_jit_rtrl_time_convention", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = tmp_path / "r.csv"
    mod.main(["--quick", "--out", str(out)])
    assert out.exists()
