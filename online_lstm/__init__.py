"""online_lstm: the original LSTM (Hochreiter & Schmidhuber 1997), trained online.

Memory-cell blocks with input and output gates around constant error
carousels, trained one input at a time with the paper's truncated
forward-mode (RTRL-style) gradient in Numba-compiled loops.
"""


def _check_numba_can_cache() -> None:
    """Raise a clear ImportError if Numba has nowhere to cache the kernels.

    The kernels are compiled with ``cache=True``; Numba keeps them in
    ``__pycache__`` beside the sources, or, where the install is read-only
    (a system or container install), in the user's cache directory
    (``$XDG_CACHE_HOME`` or ``~/.cache/numba``).  With neither writable it
    refuses to define a cached function, and the import failed in the middle
    of ``kernels.py`` with "cannot cache function '_dims': no locator
    available", which does not say what to do.
    """
    import os
    from pathlib import Path

    from . import _jit

    kernels = Path(__file__).resolve().with_name("kernels.py")
    try:
        _jit.cache_dir(kernels)  # Numba's own locators, as for every compiled function
    except RuntimeError as exc:
        given = os.environ.get("NUMBA_CACHE_DIR")
        tried = (f"NUMBA_CACHE_DIR={given}, " if given else "") + (
            f"{kernels.parent / '__pycache__'} (the install) and the user's cache directory "
            f"($XDG_CACHE_HOME/numba or $HOME/.cache/numba)")
        raise ImportError(
            f"online_lstm: Numba has no writable directory to cache the compiled kernels in "
            f"(tried {tried}). Set NUMBA_CACHE_DIR to a writable directory (e.g. "
            f"NUMBA_CACHE_DIR=/tmp/numba-cache) or give the user a writable HOME; the first "
            f"import compiles the kernels there, later imports reuse them") from exc


_check_numba_can_cache()
del _check_numba_can_cache

from typing import TYPE_CHECKING

from .errors import (  # (no compiled code)
    CheckpointError, ClusterError, DivergenceError, InputError, NoPendingStepError, ResumeError,
)

__version__ = "0.1.0"

# The learners load (and on the first use after an install, compile) their
# kernels when first named, not when the package is imported: the command
# line's --help, --version and list, and the task generators, need none.
_LAZY = {"OnlineLSTM": ".learner", "LearnerBank": ".bank", "BankDivergenceError": ".bank",
         "Layout": ".layout", "Snapshot": ".snapshot"}

if TYPE_CHECKING:  # what static tools see
    from .bank import BankDivergenceError, LearnerBank
    from .layout import Layout
    from .learner import OnlineLSTM
    from .snapshot import Snapshot
del TYPE_CHECKING  # (typing's flag, not a name of the package)


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


__all__ = ["OnlineLSTM", "LearnerBank", "Layout", "InputError", "DivergenceError", "NoPendingStepError",
           "BankDivergenceError", "CheckpointError", "ClusterError", "ResumeError", "Snapshot",
           "__version__"]
