"""The on-disk cache of compiled code never runs stale code.

Numba's cache checks only the file that defines a function; the package
watches every source its kernels are compiled from (``_jit.COMPILED_SOURCES``)
and drops the cache indexes when one changes.

``ONLINE_LSTM_FULL_RECOMPILE=1`` also runs the whole recompilation after an
edit (every kernel, about 2 minutes on 2 cores); by default the test stops
the edited copy at its first compilation, by when every index is gone.
"""

import json
import os
import subprocess
import sys

import pytest
from conftest import COMPILE_COUNTER


STALE = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
""" + COMPILE_COUNTER + r"""
import numpy as np
import online_lstm
from online_lstm import LearnerBank, OnlineLSTM
from online_lstm.baselines import RTRL
bank = LearnerBank(2, 3, 2, seed=[0, 1], parallel=False)
out = bank.learn_many(np.ones((2, 5, 3)), np.zeros((2, 5, 2)))
ref = OnlineLSTM(3, 2, seed=1).learn_many(np.ones((5, 3)), np.zeros((5, 2)))
RTRL(3, 2, 2, seed=0).learn_one(np.ones(3), np.zeros(2))
from online_lstm import _jit
indexed = [rel for rel in _jit.COMPILED_MODULES  # the compiled modules with a cache index
           if any(_jit.cache_dir(_jit._PACKAGE / rel).glob(rel.split("/")[-1][:-3] + ".*.nbi"))]
print(json.dumps({"compiled": Counter.names, "file": online_lstm.__file__,
                  "same": bool(np.array_equal(out[1], ref)), "indexed": indexed}))
"""


#: After an edit: at the first compilation of the import, which indexes of
#: the package's compiled modules are left (none may be), then exit at once.
FIRST_COMPILE = r"""
import json, os, sys
sys.path.insert(0, sys.argv[1])
from numba.core import event
class First(event.Listener):
    def on_start(self, ev):
        from online_lstm import _jit
        f = ev.data["dispatcher"].py_func
        left = [str(p) for rel in _jit.COMPILED_MODULES
                for p in _jit.cache_dir(_jit._PACKAGE / rel).glob(rel.split("/")[-1][:-3] + ".*.nbi")]
        print(json.dumps({"first": f.__module__ + "." + f.__qualname__, "left": left,
                          "file": _jit.__file__}), flush=True)
        os._exit(0)
    def on_end(self, ev): pass
event.register("numba:compile", First())
import online_lstm
from online_lstm import OnlineLSTM  # (the package's import alone loads no kernel)
print(json.dumps({"first": None, "left": None, "file": online_lstm.__file__}))  # nothing compiled
"""

FULL = os.environ.get("ONLINE_LSTM_FULL_RECOMPILE") == "1"


def _copy_and_run(tmp_path):
    """The package, its cache included, copied to ``tmp_path``; and a
    function that runs a script against the copy and returns its last JSON
    line."""
    import pathlib
    import shutil

    import online_lstm

    pkg = pathlib.Path(online_lstm.__file__).parent
    if "NUMBA_CACHE_DIR" not in os.environ:
        # The copy's control run needs a cache of every kernel STALE runs, and
        # the copy cannot add to it (NUMBA_OPT=0, below).  The suite's warm-up
        # (conftest) fills the package's cache; a run of this file alone on a
        # fresh clone does not, so fill it here (loads only, when it is full).
        subprocess.run([sys.executable, "-c", STALE, str(pkg.parent)], capture_output=True,
                       check=True)
    # (not the temporary files of a cache write in progress: under pytest-xdist
    # another worker may be compiling into the same __pycache__)
    shutil.copytree(pkg, tmp_path / "online_lstm",
                    ignore=shutil.ignore_patterns("*.tmp", "*.tmp.*"))

    # NUMBA_OPT=0: a recompilation (every kernel: Numba cannot tell which ones
    # an edit touched) takes about half as long, and the optimisation level is
    # not part of Numba's cache key, so what is loaded and what is compiled
    # are the same as at the default level.
    # Code compiled at NUMBA_OPT=0 cannot be cached ("dynamic globals"), so the
    # control run below holds only if the copy brought its cache along: that is
    # the package's __pycache__, not a NUMBA_CACHE_DIR of the developer's (which
    # the copy, at another path, does not share).  With one set, the subprocesses
    # cache into the copy's __pycache__ and compile at the default level.
    env = dict(os.environ)
    if env.pop("NUMBA_CACHE_DIR", None) is None:
        env["NUMBA_OPT"] = "0"

    def run(script):
        res = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True,
                             text=True, check=True, env=env)
        return json.loads(res.stdout.strip().splitlines()[-1])

    return run


def _edit_jit(tmp_path):
    with open(tmp_path / "online_lstm" / "_jit.py", "a") as f:
        f.write("\n# an edit that the bank's own file does not see\n")


def test_an_edit_of_a_compiled_in_source_leaves_no_index_to_load_stale_code_from(tmp_path):
    """Numba's cache checks only the file that defines a function; the bank's
    kernels compile in ``kernels.py``, ``layout.py`` and ``_jit.py``, the
    kernels read ``layout.py``'s constants, and the baselines' entry points
    inline ``_rtrl.py``: none may run stale code after one of those changes.

    On a real cache (the package's, copied): unchanged, a run of the
    learner, the bank and a baseline compiles nothing; after an edit of
    ``_jit.py`` alone, the learner's import first compiles its kernels,
    and by then no cache index of any compiled module (the bank's and the
    baselines' included) is left to load old code from."""
    run = _copy_and_run(tmp_path)
    first = run(STALE)  # fills the copy's cache if copying did not keep it valid
    assert first["file"].startswith(str(tmp_path)) and first["same"]
    control = run(STALE)
    assert control["compiled"] == []  # nothing changed, nothing compiled
    # what the control run loaded: the learner's, the bank's, the baselines'
    assert {"kernels.py", "bank_kernels.py", "baselines/_entry.py"} <= set(control["indexed"])
    _edit_jit(tmp_path)
    after = run(FIRST_COMPILE)
    assert after["file"].startswith(str(tmp_path)), after
    assert after["first"] is not None and after["first"].startswith("online_lstm.kernels."), after
    assert after["left"] == [], after["left"]


@pytest.mark.skipif(not FULL, reason="the whole recompilation after an edit (about 2 min): "
                                     "ONLINE_LSTM_FULL_RECOMPILE=1")
def test_cached_code_recompiles_when_the_sources_it_compiles_in_change(tmp_path):
    """The test above, carried to the end: after the edit the learner's, the
    bank's and a baseline's entry points are compiled afresh, and the bank
    still gives the learner's bits."""
    run = _copy_and_run(tmp_path)
    first = run(STALE)
    assert first["file"].startswith(str(tmp_path)) and first["same"]
    assert run(STALE)["compiled"] == []
    _edit_jit(tmp_path)
    after = run(STALE)
    compiled = after["compiled"]
    assert any("_run" in name for name in compiled), compiled  # the bank
    assert "online_lstm.kernels.learn_step" in compiled, compiled
    assert "online_lstm.baselines._entry.step" in compiled, compiled
    assert after["same"]


def test_an_edit_of_any_compiled_in_source_drops_every_compiled_module_index(tmp_path):
    """The logic of ``_jit._refresh_stale_cache`` on a copy of the sources:
    the first import records their hash, an unchanged import deletes nothing,
    and an edit of ``layout.py`` alone (which defines no compiled function)
    deletes the cache index of every file that does, and nothing else."""
    import pathlib
    import shutil

    import online_lstm
    from online_lstm import _jit

    src = pathlib.Path(online_lstm.__file__).parent
    pkg = tmp_path / "pkg"
    for rel in _jit.COMPILED_SOURCES:
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / rel, pkg / rel)

    def fake_cache():
        """An index and a data file per compiled module, and a bystander."""
        files = []
        for rel in _jit.COMPILED_MODULES:
            d = _jit.cache_dir(pkg / rel)
            stem = pathlib.Path(rel).stem
            files += [d / f"{stem}.f-12.py311.nbi", d / f"{stem}.f-12.py311.1.nbc"]
        files.append(_jit.cache_dir(pkg / "kernels.py") / "layout.g-3.py311.nbi")
        for f in files:
            f.write_bytes(b"x")
        return files

    assert _jit._refresh_stale_cache(pkg)  # no stamp yet: a first import
    files = fake_cache()
    assert not _jit._refresh_stale_cache(pkg)
    assert all(f.exists() for f in files)  # unchanged sources: the cache stays
    with open(pkg / "layout.py", "a") as f:
        f.write("\n# a change that no compiled function's own file shows\n")
    assert _jit._refresh_stale_cache(pkg)
    gone = {f.name for f in files if not f.exists()}
    assert gone == {f.name for f in files[:-1] if f.suffix == ".nbi"}, gone
    assert not _jit._refresh_stale_cache(pkg)


def test_every_module_with_compiled_code_is_watched():
    """A new module with cached kernels must join ``COMPILED_MODULES``, or an
    edit of what it inlines would leave its cache stale."""
    import pathlib

    import online_lstm
    from online_lstm import _jit

    pkg = pathlib.Path(online_lstm.__file__).parent
    users = {p.relative_to(pkg).as_posix() for p in pkg.rglob("*.py")
             if p.name != "_jit.py" and "_jit import" in p.read_text()}
    assert users == set(_jit.COMPILED_MODULES)
