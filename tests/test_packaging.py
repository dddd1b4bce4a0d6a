"""What a user gets from a wheel or an sdist, not from the git checkout.

No wheel is built here (slow, and it needs the network for build isolation):
the checks read the same declarations the build reads (pyproject.toml,
MANIFEST.in, with setuptools' own template semantics) and the package's
sources.  The audit that found the problems these guard against built and
installed the wheel in a fresh venv, outside the checkout, and ran the CLI
from it; see the packaging section of the audit report.
"""

import ast
import fnmatch
import pathlib
import re
import subprocess
import sys

import pytest

import online_lstm

PKG = pathlib.Path(online_lstm.__file__).resolve().parent
ROOT = pathlib.Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"

#: Modules whose optional dependencies are an extra, and that extra.
OPTIONAL = {"river.py": "river", "cluster.py": "dask"}
#: Import names that are not their distribution's name.
DISTRIBUTION = {"sklearn": "scikit-learn", "distributed": "dask"}  # distributed: dask[distributed]


def _pyproject() -> dict:
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    if not PYPROJECT.is_file():
        pytest.skip("no pyproject.toml beside the tests (an installed copy of the tests)")
    return tomllib.loads(PYPROJECT.read_text())


def _req_name(req: str) -> str:
    return re.sub(r"[-_.]+", "-", re.match(r"\s*([A-Za-z0-9_.-]+)", req).group(1)).lower()


def _package_sources():
    return sorted(p for p in PKG.rglob("*.py") if "__pycache__" not in p.parts)


def _third_party_imports(path: pathlib.Path) -> set:
    """Top-level names of the absolute imports in ``path`` (module level or
    inside functions: a lazy import is needed at run time all the same) that
    are neither the standard library nor this package."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n != "online_lstm"}


def test_the_version_is_the_same_in_the_metadata_and_the_package():
    """``pip show`` / ``importlib.metadata`` report pyproject's version, and
    ``online-lstm --version``, records and the Dask version check report
    ``online_lstm.__version__``: both are written by hand, so they must agree."""
    assert _pyproject()["project"]["version"] == online_lstm.__version__


def test_the_console_script_names_a_function_that_exists():
    import importlib

    scripts = _pyproject()["project"]["scripts"]
    assert set(scripts) == {"online-lstm"}
    module, _, attr = scripts["online-lstm"].partition(":")
    assert callable(getattr(importlib.import_module(module), attr))


def test_every_third_party_import_is_a_declared_dependency():
    """A module the package imports but pyproject does not require installs
    fine from the checkout's venv and fails for a user of the wheel.  Core
    modules may use only the core dependencies; the adapters of an extra
    (River, Dask) also that extra's."""
    project = _pyproject()["project"]
    core = {_req_name(r) for r in project["dependencies"]}
    extras = {k: {_req_name(r) for r in v} for k, v in project["optional-dependencies"].items()}
    missing = []
    for path in _package_sources():
        allowed = core | extras.get(OPTIONAL.get(path.name, ""), set())
        for name in sorted(_third_party_imports(path)):
            if _req_name(DISTRIBUTION.get(name, name)) not in allowed:
                missing.append(f"{path.relative_to(PKG)} imports {name}")
    assert missing == []


def test_the_extras_the_messages_name_exist():
    """The ImportErrors of the optional modules tell the user to
    ``pip install 'online-lstm[EXTRA]'``: that extra must exist."""
    project = _pyproject()["project"]
    named = set()
    for path in _package_sources():
        named.update(re.findall(r"online-lstm\[(\w+)\]", path.read_text()))
    assert named and named <= set(project["optional-dependencies"]), named


def test_every_file_in_the_package_besides_python_is_declared_package_data():
    """A wheel carries the package's .py files and only the other files
    declared as package data: a file the code reads that is not declared
    works from the checkout and is missing from every install."""
    patterns = _pyproject()["tool"]["setuptools"].get("package-data", {}).get("online_lstm", [])
    undeclared = []
    for p in PKG.rglob("*"):
        rel = p.relative_to(PKG).as_posix()
        if p.is_dir() or "__pycache__" in p.parts or p.suffix in (".py", ".pyc"):
            continue
        if not any(fnmatch.fnmatch(rel, pat) for pat in patterns):
            undeclared.append(rel)
    assert undeclared == []
    assert (PKG / "py.typed").is_file() and "py.typed" in patterns  # PEP 561: the API is annotated


def test_the_package_reads_nothing_above_its_own_directory():
    """An installed package has no checkout around it: a path made from
    ``__file__`` that climbs out of the package (``.parent.parent``,
    ``parents[...]``, ``..``) finds nothing there."""
    climbing = re.compile(r"__file__.*(\.parent\.parent|\.parents\[|pardir|['\"]\.\.['\"])")
    bad = [f"{p.relative_to(PKG)}:{i}" for p in _package_sources()
           for i, line in enumerate(p.read_text().splitlines(), 1) if climbing.search(line)]
    assert bad == []


def _git_files():
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=True,
                             timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        pytest.skip("not a git checkout (an unpacked sdist): nothing to compare the sdist with")
    files = [f for f in out.decode().split("\0") if f]
    if "pyproject.toml" not in files:
        pytest.skip("the tests are not in this package's checkout")
    return files


#: Tracked files the sdist leaves out on purpose: the CI entry point and git's own.
NOT_IN_SDIST = {".ci/run", ".gitignore"}


def test_the_sdist_carries_every_committed_file_the_tests_and_reports_use(monkeypatch):
    """The sdist ships the tests, and the tests check the published tables
    against the committed records and benchmark results: each tracked file is
    in the sdist (by MANIFEST.in, read with setuptools' own template rules, or
    as part of the package), or in :data:`NOT_IN_SDIST`.  Before, the records
    and results were left out and 24 tests failed in an unpacked sdist."""
    egg_info = pytest.importorskip("setuptools.command.egg_info")
    tracked = _git_files()
    # setuptools' include / recursive-include glob the tree under the current
    # directory (they do not read ``allfiles``), as sdist does from the project
    # root: from any other directory every line matched nothing
    monkeypatch.chdir(ROOT)
    fl = egg_info.FileList()
    fl.allfiles = list(tracked)
    for line in (ROOT / "MANIFEST.in").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            fl.process_template_line(line)
    templated = set(fl.files)
    auto = {"pyproject.toml", "MANIFEST.in"}
    left_out = sorted(f for f in tracked if f not in templated and f not in auto
                      and not f.startswith("online_lstm/") and f not in NOT_IN_SDIST)
    assert left_out == []


def test_import_without_a_writable_cache_says_what_to_do():
    """A read-only install (system or container) whose user has no writable
    cache directory either (HOME=/nonexistent): Numba has nowhere to cache the
    kernels.  The import must say so and name the way out (NUMBA_CACHE_DIR),
    not fail inside kernels.py with Numba's "cannot cache function '_dims':
    no locator available".  Simulated by leaving Numba no cache locator (as
    root, a read-only mode bit does not stop writes)."""
    script = ("import sys; sys.path.insert(0, sys.argv[1])\n"
              "from numba.core import caching\n"
              "impl = getattr(caching, 'CacheImpl', None) or caching._CacheImpl\n"
              "impl._locator_classes = []\n"
              "try:\n"
              "    import online_lstm\n"
              "except ImportError as exc:\n"
              "    print('ImportError:', exc)\n")
    env = {k: v for k, v in __import__("os").environ.items() if k != "NUMBA_CACHE_LOCATOR_CLASSES"}
    res = subprocess.run([sys.executable, "-c", script, str(PKG.parent)], capture_output=True, text=True,
                         timeout=120, env=env)
    assert res.returncode == 0, res.stderr[-2000:]  # not a RuntimeError from inside kernels.py
    out = res.stdout
    assert out.startswith("ImportError: online_lstm: Numba has no writable directory"), out
    assert "NUMBA_CACHE_DIR" in out and str(PKG / "__pycache__") in out, out
