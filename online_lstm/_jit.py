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
"""

from __future__ import annotations

import numba

JIT_OPTIONS = dict(cache=True, nogil=True, fastmath=False, error_model="numpy")

#: Decorator for every serial kernel.
njit = numba.njit(**JIT_OPTIONS)

#: Options for kernels that run ``prange`` over a leading learner axis.
JIT_PARALLEL_OPTIONS = dict(JIT_OPTIONS, parallel=True)
njit_parallel = numba.njit(**JIT_PARALLEL_OPTIONS)


def njit_sig(signature, parallel: bool = False):
    """Eagerly compile with one explicit signature, then forbid new ones.

    A wrong dtype or memory layout then raises ``TypeError`` instead of
    triggering a compile inside the caller's loop.
    """

    def deco(fn):
        opts = JIT_PARALLEL_OPTIONS if parallel else JIT_OPTIONS
        disp = numba.njit(signature, **opts)(fn)
        disp.disable_compile()
        return disp

    return deco
