"""The on-disk cache of compiled code never runs stale code.

Numba's cache checks only the file that defines a function; the package
watches every source its kernels are compiled from (``_jit.COMPILED_SOURCES``)
and drops the cache indexes when one changes.  (Its own file, which
``conftest.SLOW_FILES`` starts early under pytest-xdist: its first test is
the slowest of the suite.)
"""

import json
import os
import subprocess
import sys

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
print(json.dumps({"compiled": Counter.names, "file": online_lstm.__file__,
                  "same": bool(np.array_equal(out[1], ref))}))
"""


def test_cached_code_recompiles_when_the_sources_it_compiles_in_change(tmp_path):
    """Numba's cache checks only the file that defines a function; the bank's
    kernels compile in ``kernels.py``, ``layout.py`` and ``_jit.py``, the
    kernels read ``layout.py``'s constants, and the baselines' entry points
    inline ``_rtrl.py``: none may run stale code after one of those changes."""
    import pathlib
    import shutil

    import online_lstm

    # (not the temporary files of a cache write in progress: under pytest-xdist
    # another worker may be compiling into the same __pycache__)
    shutil.copytree(pathlib.Path(online_lstm.__file__).parent, tmp_path / "online_lstm",
                    ignore=shutil.ignore_patterns("*.tmp", "*.tmp.*"))

    # NUMBA_OPT=0: the recompilation after the edit (every kernel: Numba cannot
    # tell which ones the edit touched) takes about half as long, and the
    # optimisation level is not part of Numba's cache key, so what is loaded
    # and what is compiled are the same as at the default level
    # Code compiled at NUMBA_OPT=0 cannot be cached ("dynamic globals"), so the
    # control run below holds only if the copy brought its cache along: that is
    # the package's __pycache__, not a NUMBA_CACHE_DIR of the developer's (which
    # the copy, at another path, does not share).  With one set, the subprocesses
    # cache into the copy's __pycache__ and compile at the default level.
    env = dict(os.environ)
    if env.pop("NUMBA_CACHE_DIR", None) is None:
        env["NUMBA_OPT"] = "0"

    def run():
        res = subprocess.run([sys.executable, "-c", STALE, str(tmp_path)], capture_output=True,
                             text=True, check=True, env=env)
        return json.loads(res.stdout.strip().splitlines()[-1])

    first = run()  # fills the copy's cache if copying did not keep it valid
    assert first["file"].startswith(str(tmp_path)) and first["same"]
    assert run()["compiled"] == []  # control: nothing changed, nothing compiled
    with open(tmp_path / "online_lstm" / "_jit.py", "a") as f:
        f.write("\n# an edit that the bank's own file does not see\n")
    after = run()
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
