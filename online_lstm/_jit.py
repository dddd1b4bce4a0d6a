"""The one place where Numba options are set.

Every compiled function in the package is decorated with :data:`njit` (or
:data:`njit_parallel` for the learner bank).  Nothing else in the package may
call ``numba.njit`` with its own options; ``tests/test_jit_options.py`` checks
this.

Choices
-------
cache=True
    Compiled code is written to ``__pycache__`` and reused by later processes.
nogil=True
    Kernels release the GIL, so independent learners can step in parallel
    Python threads.
fastmath=False
    Strict IEEE arithmetic.  The summation order inside a kernel is fixed by
    the source, so a per-step call and a many-steps call give the same bits
    whatever LLVM inlines, and results are reproducible from a seed.
error_model="numpy"
    No Python exception checks on float division (there is nothing to catch:
    kernels report problems through status codes).
boundscheck=False
    Default.  Set ``NUMBA_BOUNDSCHECK=1`` to turn it on when debugging.
_nrt=False (not for the competitors' kernels: :data:`njit_nrt`)
    No Numba runtime (NRT).  The LSTM and bank kernels neither allocate nor
    return an array, so they need no reference counting; with NRT Numba
    still wrapped every array argument in a reference-counted MemInfo at
    dispatch (a ``malloc`` each) and emitted about 28 atomic increments and
    decrements of them per ``learn_one`` (counted in the optimised LLVM IR
    of ``kernels.learn_step``; a ``perf`` profile put 8 % of a
    ``learn_one`` loop's time in them).  Without it, ``bench_latency.py``
    measured ``learn_one`` p50 at 1,332 ns against 1,472 ns, the dispatch
    of four arrays at 230 ns against 301-311 ns, and the per-step kernel
    from a compiled loop at 676-701 ns against 771-788 ns (two alternating
    ``--quick`` runs each, 27 November); ``bench_bank.py --quick`` the
    bank's one-thread ``learn_one`` at 0.80-0.95x the time.  The bits do not
    change (only reference counts went), and code that would need NRT (an
    array made inside a kernel, or a slice assigned from an array) fails to
    compile instead of running without it.  ``_nrt`` is not in Numba's
    documentation; it is in its option table from 0.59 to 0.68, and without
    it the kernels compile with NRT (same bits, slower calls).  The
    competitors' kernels copy array slices, which needs NRT, so they keep it.
forceinline=True (:data:`njit_inline` only)
    The phases of one step (``kernels._forward``, ``_errors``, ``_bounds``,
    ``_commit``, the options' ``_forward_x`` and ``_commit_x``) and the step
    functions that call them get LLVM's ``alwaysinline``.  They are too large
    for LLVM's own inlining threshold, so each stayed a call that passed the
    56-field layout tuple ``Dims`` on the stack, about 450 bytes per call and
    five calls per step.  Inlined, ``benchmarks/ab_step.py --bank`` measured
    ``learn_many`` per step at 0.65x the time for a 17-weight net, 0.88x at
    345 weights, 0.93-0.95x at Reber size (447) and no change from 1.8k
    weights up; the learner bank's ``sensor-B`` and ``sensor-F`` learners at
    0.84x and 0.91x (``benchmarks/results/ab_step_inline.csv``).
    Compile time did not change (LLVM inlines; Numba's own ``inline="always"``
    gave the same speed but added 40 s of compilation).  The bits do not
    change either: without fastmath, LLVM may not reorder or fuse a floating-
    point operation, inlined or not.

A stale cache is refreshed on import
------------------------------------
Numba's on-disk cache checks only the file that defines a function (a hash
of its contents).  Compiled code also holds what it calls from other files
(``baselines/_entry.py`` inlines ``_rtrl.py``; the bank inlines
``kernels.py``) and the constants it reads from ``layout.py``, so after an
edit of one of those alone (a ``git pull`` into an editable install) Numba
would load the old code and run it on the new layout.
:func:`_refresh_stale_cache` hashes every source that compiled code is built
from; when the hash differs from the one recorded at the last import, it
deletes the cache indexes of the files that define compiled functions, so
that Numba compiles them afresh.
"""

from __future__ import annotations

import hashlib
import os
import pathlib

import numba

#: Files (relative to the package) that define compiled functions.
COMPILED_MODULES = ("kernels.py", "bank_kernels.py", "baselines/_common.py", "baselines/_rtrl.py",
                    "baselines/_bptt.py", "baselines/_entry.py")
#: Every source their compiled code is built from.
COMPILED_SOURCES = COMPILED_MODULES + ("_jit.py", "layout.py")
_PACKAGE = pathlib.Path(__file__).resolve().parent
_STAMP_NAME = "online_lstm.compiled-sources.sha256"


def sources_hash(package=_PACKAGE) -> str:
    """SHA-256 over the names and contents of :data:`COMPILED_SOURCES`."""
    h = hashlib.sha256()
    for rel in COMPILED_SOURCES:
        h.update(rel.encode() + b"\0")
        h.update((package / rel).read_bytes())
    return h.hexdigest()


def cache_dir(path) -> pathlib.Path:
    """The directory where Numba caches the functions defined in file ``path``
    (``__pycache__`` beside it, or ``NUMBA_CACHE_DIR``, or the user's cache),
    found by Numba's own cache locators."""
    from numba.core.caching import CompileResultCacheImpl

    path = str(path)
    probe = eval(compile("lambda: None", path, "eval"))  # a function "defined" in path
    return pathlib.Path(CompileResultCacheImpl(probe).locator.get_cache_path())


def _refresh_stale_cache(package=_PACKAGE) -> bool:
    """Make Numba recompile every compiled module if any compiled-in source
    changed since the last import.

    Only the index files (``*.nbi``) go: a process that has just read a fresh
    index still finds its data file, and recompiling overwrites the old data
    files.  Returns True if indexes were deleted.  Any I/O error leaves the
    cache as it is (Numba then behaves as it always does).
    """
    try:
        digest = sources_hash(package)
        stamp = cache_dir(package / COMPILED_MODULES[0]) / _STAMP_NAME
        if stamp.is_file() and stamp.read_text() == digest:
            return False
        for rel in COMPILED_MODULES:
            module = pathlib.Path(rel).stem
            for index in cache_dir(package / rel).glob(f"{module}.*.nbi"):
                index.unlink(missing_ok=True)
        tmp = stamp.with_name(f"{stamp.name}.{os.getpid()}.tmp")
        tmp.write_text(digest)
        os.replace(tmp, stamp)  # atomic: a concurrent import reads the old or the new hash
        return True
    except Exception:  # best effort: never let it break the import (tests check it works)
        return False


_refresh_stale_cache()

#: Whether this Numba has the ``_nrt`` option (see "_nrt=False" above).
HAS_NRT_OPTION = hasattr(numba.core.cpu.CPUTargetOptions, "_nrt")
JIT_OPTIONS = dict(cache=True, nogil=True, fastmath=False, error_model="numpy",
                   **({"_nrt": False} if HAS_NRT_OPTION else {}))

#: Decorator for every serial kernel.
njit = numba.njit(**JIT_OPTIONS)
#: Options of the competitors' kernels, which copy array slices (that needs NRT).
JIT_NRT_OPTIONS = dict(JIT_OPTIONS, _nrt=True) if HAS_NRT_OPTION else JIT_OPTIONS
njit_nrt = numba.njit(**JIT_NRT_OPTIONS)
#: Whether this Numba has the ``forceinline`` option (not in Numba's
#: documentation, but in its option table from 0.59, our minimum, to 0.68).
HAS_FORCEINLINE = hasattr(numba.core.cpu.CPUTargetOptions, "forceinline")
#: Decorator for the phases of a step and the step functions (see forceinline);
#: a plain :data:`njit` on a Numba without the option (same bits, slower steps).
njit_inline = numba.njit(**(dict(JIT_OPTIONS, forceinline=True) if HAS_FORCEINLINE
                            else JIT_OPTIONS))

#: Options for kernels that run ``prange`` over a leading learner axis.
JIT_PARALLEL_OPTIONS = dict(JIT_OPTIONS, parallel=True)
njit_parallel = numba.njit(**JIT_PARALLEL_OPTIONS)


def njit_sig(signature, parallel: bool = False, nrt: bool = False):
    """Eagerly compile with one explicit signature, then forbid new ones.

    A wrong dtype or memory layout then raises ``TypeError`` instead of
    triggering a compile inside the caller's loop.
    """

    def deco(fn):
        opts = JIT_PARALLEL_OPTIONS if parallel else JIT_NRT_OPTIONS if nrt else JIT_OPTIONS
        disp = numba.njit(signature, **opts)(fn)
        disp.disable_compile()
        return disp

    return deco
