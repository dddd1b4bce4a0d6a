"""The benchmark and diagnostic scripts, as a user runs them: bad arguments are
refused with a message naming the flag (exit 2, before any work), and
``benchmarks/report.py`` says which result file it could not read instead of
crashing.  No timing is asserted; nothing under ``benchmarks/results`` is
written (every output goes to pytest's tmp_path)."""

from __future__ import annotations

import os
import pathlib
import shutil
import sys

import pandas as pd
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
REPORT_CSVS = ("peers.csv", "latency.csv", "bank.csv", "delay.csv")


class _Result:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def _run(script, *args):
    """Run a script in this process, as ``python script args`` would (a new
    process per call would cost a second of imports each): its exit status,
    stdout and stderr.  sys.argv, sys.path and os.environ are restored."""
    import contextlib
    import io
    import runpy
    import traceback

    argv, path, environ = sys.argv[:], sys.path[:], dict(os.environ)
    out, err = io.StringIO(), io.StringIO()
    sys.argv = [str(ROOT / script), *map(str, args)]
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                runpy.run_path(str(ROOT / script), run_name="__main__")
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except Exception:  # noqa: BLE001 - reported as the interpreter would
                traceback.print_exc()
                code = 1
    finally:
        sys.argv, sys.path[:] = argv, path
        os.environ.clear()
        os.environ.update(environ)
    return _Result(code, out.getvalue(), err.getvalue())


def _refused(script, *args, says):
    """The script exits 2 with an argparse error that contains ``says``."""
    res = _run(script, *args)
    assert res.returncode == 2, (res.returncode, res.stdout[-2000:], res.stderr[-2000:])
    assert "Traceback" not in res.stderr, res.stderr
    assert "error:" in res.stderr and says in res.stderr, res.stderr
    return res


def _script_module(script, name):
    """Import ``script`` (a path under the checkout) as module ``name``, for
    its functions.  Its top level runs (the benchmarks set
    ``OPENBLAS_NUM_THREADS`` there, and ab_step.py puts its directory on
    sys.path): os.environ and sys.path are restored after, as in
    :func:`_run`, so the tests after this one (and their subprocesses) see
    the environment they were started with."""
    import importlib.util

    environ, path = dict(os.environ), sys.path[:]
    try:
        spec = importlib.util.spec_from_file_location(name, ROOT / script)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    finally:
        os.environ.clear()
        os.environ.update(environ)
        sys.path[:] = path
    return mod


# --- report.py ----------------------------------------------------------------------------------

def _results_copy(tmp_path):
    d = tmp_path / "results"
    d.mkdir()
    for name in REPORT_CSVS:
        shutil.copy(RESULTS / name, d / name)
    return d


def test_report_prints_every_table_from_a_complete_directory(tmp_path):
    res = _run("benchmarks/report.py", "--results", _results_copy(tmp_path))
    assert res.returncode == 0, res.stderr
    assert "not found" not in res.stdout and "not a complete" not in res.stdout
    assert "| learn_many |" in res.stdout and "| learners |" in res.stdout and "D = 0" in res.stdout


@pytest.mark.parametrize("damage", ["empty", "header only"])
def test_report_names_an_unreadable_csv_and_prints_the_others(tmp_path, damage):
    d = _results_copy(tmp_path)
    text = (d / "bank.csv").read_text()
    (d / "bank.csv").write_text("" if damage == "empty" else text.splitlines()[0] + "\n")
    res = _run("benchmarks/report.py", "--results", d)
    assert res.returncode == 1
    assert "Traceback" not in res.stderr, res.stderr
    assert f"{d / 'bank.csv'} is not a complete bench_bank.py result" in res.stdout
    # the other three tables are there, whole
    assert "| learn_many |" in res.stdout and "| timer+loop |" in res.stdout and "D = 0" in res.stdout
    assert "| learners |" not in res.stdout  # no half of the bank's table


def test_report_prints_no_half_table_when_a_csv_lacks_its_baseline(tmp_path):
    d = _results_copy(tmp_path)
    df = pd.read_csv(d / "delay.csv")
    df[df.max_delay != 0].to_csv(d / "delay.csv", index=False)
    res = _run("benchmarks/report.py", "--results", d)
    assert res.returncode == 1 and "Traceback" not in res.stderr, res.stderr
    assert "delay.csv is not a complete bench_delay.py result" in res.stdout
    assert "max_delay = 0" in res.stdout
    assert "| net | call |" not in res.stdout


def test_report_missing_files_and_directory(tmp_path):
    d = _results_copy(tmp_path)
    (d / "latency.csv").unlink()
    res = _run("benchmarks/report.py", "--results", d)
    assert res.returncode == 0  # a partial set of benchmarks is a normal state
    assert "latency.csv not found: run bench_latency.py first" in res.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    res = _run("benchmarks/report.py", "--results", empty)
    assert res.returncode == 1 and res.stdout.count("not found") == 4
    _refused("benchmarks/report.py", "--results", tmp_path / "nowhere", says="--results")


# --- --out is checked before the run ----------------------------------------------------------

@pytest.mark.parametrize("script", ["bench_step.py", "bench_peers.py", "bench_bank.py", "bench_delay.py",
                                    "ab_step.py", "bench_competitors.py"])
def test_an_out_that_cannot_be_written_is_refused_before_the_run(tmp_path, script):
    """Each writes its CSV only at the end: a bad path must not wait minutes to fail."""
    if script == "ab_step.py":
        _needs_git_checkout()  # its --base (default main) is checked first
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    _refused(f"benchmarks/{script}", "--quick", "--out", blocker / "x.csv", says="--out")
    _refused(f"benchmarks/{script}", "--quick", "--out", tmp_path, says="is a directory")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_run_all_refuses_an_out_that_is_a_file(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    _refused("benchmarks/run_all.py", "--quick", "--out", blocker, says="--out")


def test_bench_step_marginal_reads_a_step_csv_or_says_what_is_wrong(tmp_path):
    res = _run("benchmarks/bench_step.py", "--marginal", RESULTS / "step.csv")
    assert res.returncode == 0, res.stderr
    assert "ns_per_added_weight_step" in res.stdout
    _refused("benchmarks/bench_step.py", "--marginal", tmp_path / "none.csv", says="--marginal")
    _refused("benchmarks/bench_step.py", "--marginal", RESULTS / "peers.csv", says="not a CSV of bench_step.py")


# --- counts and names --------------------------------------------------------------------------

@pytest.mark.parametrize("script, args, says", [
    ("benchmarks/bench_latency.py", ["--calls", "0"], "--calls"),  # was the default 10^6, silently
    ("benchmarks/bench_latency.py", ["--calls", "999"], "--calls"),  # fewer than 10 rounds x 100: crashed
    ("benchmarks/bench_delay.py", ["--rounds", "0"], "--rounds"),  # was the default 21, silently
    ("benchmarks/bench_delay.py", ["--rounds", "-3"], "--rounds"),  # was NaN medians
    ("benchmarks/bench_sigmoid.py", ["--in-step", "--rounds", "0"], "--rounds"),
    ("benchmarks/bench_peers.py", ["--skip", "pytorch"], "--skip"),  # was ignored: torch ran
    ("benchmarks/bench_peers.py", ["--sizes", "reber,bogus"], "--sizes"),
    ("benchmarks/ab_step.py", ["--reps", "0"], "--reps"),
    ("benchmarks/ab_step.py", ["--instances", "0"], "--instances"),
    ("benchmarks/ab_step.py", ["--bank-threads", "2"], "--bank"),  # was ignored without --bank
    ("benchmarks/ab_step.py", ["--bank", "--bank-threads", "0"], "--bank-threads"),
    ("benchmarks/ab_step.py", ["--bank", "--bank-threads", "100000"], "NUMBA_NUM_THREADS"),
    ("benchmarks/ab_step.py", ["--base", "no-such-revision-anywhere"], "not a git revision"),
])
def test_bad_counts_and_names_are_refused(tmp_path, script, args, says):
    _refused(script, *args, "--out", tmp_path / "x.csv", says=says)
    assert not (tmp_path / "x.csv").exists()


def test_ab_step_takes_a_given_reps_with_quick(tmp_path):
    """--quick means 3 repetitions unless --reps says otherwise; it used to
    override a --reps given (the run itself is not started here)."""
    _needs_git_checkout()

    ab = _script_module("benchmarks/ab_step.py", "ab_step_audit")
    out = ["--base", "HEAD", "--out", str(tmp_path / "ab.csv")]
    for argv, reps in ((["--quick"], 3), (["--quick", "--reps", "5"], 5), ([], 9), (["--reps", "2"], 2)):
        assert ab.parse_args([*out, *argv]).reps == reps, argv


# --- soak.py -------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, says", [
    (["--seed", "-1"], "--seed"),  # was a ValueError traceback from the learner, after the warm-up
    (["--state-bound", "0"], "--state-bound"),
    (["--state-bound", "nan"], "--state-bound"),
    (["--state-bound", "-5"], "--state-bound"),
])
def test_soak_refuses_bad_settings_before_the_run(tmp_path, args, says):
    _refused("benchmarks/soak.py", "--quick", "--no-progress", "--out", tmp_path / "s.csv", *args, says=says)
    assert not (tmp_path / "s.csv").exists()


def test_soak_refuses_a_checkpoint_dir_that_cannot_be(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for ckdir in (blocker, blocker / "sub"):
        _refused("benchmarks/soak.py", "--quick", "--no-progress", "--checkpoint-dir", ckdir,
                 says="--checkpoint-dir")


def test_soak_help_gives_its_whole_first_sentence():
    res = _run("benchmarks/soak.py", "--help")
    assert res.returncode == 0
    assert "reports memory, per-step time and non-finite events" in " ".join(res.stdout.split())


# --- scripts/ ------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, says", [
    (["--seeds", "0"], "--seeds"),  # ran nothing, then KeyError: 'stream'
    (["--n", "-5"], "--n"),  # numpy's 'negative dimensions are not allowed'
    (["--delays", "5", "-1"], "--delays"),
    (["--delays", "0"], "--delays"),
])
def test_delayed_labels_refuses_bad_counts(args, says):
    pytest.importorskip("river")
    _refused("scripts/delayed_labels.py", *args, says=says)


@pytest.mark.parametrize("args, says", [
    (["2c-trace", "--every", "-5", "--rows", "1"], "--every"),  # printed a row at '-5 sequences'
    (["2a-escape", "--every", "0"], "--every"),
    (["cell-states", "--rows", "0"], "--rows"),
    (["2c-drift", "--seeds", "-1"], "--seeds"),  # crashed: zero-size array to reduction operation
    (["cut-trials", "--jobs", "0"], "--jobs"),
    (["reber-failures", "--trial", "-1"], "--trial"),
    (["2a-saturation", "--construct", "2"], "--construct"),
])
def test_diagnose_refuses_bad_counts(args, says):
    _refused("scripts/diagnose.py", *args, says=says)


def test_sweep_options_refuses_an_out_that_is_a_file(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    _refused("scripts/sweep_options.py", "1-5", "--grid", "targets=next", "--quick", "--no-progress",
             "--out", blocker, says="--out")


def test_cost_leaves_out_the_script_csvs_of_the_documented_glob(tmp_path):
    """``scripts/cost.py reproduction/records/*.csv`` (its documented command)
    takes in continual_reber.csv too: such a file is named and left out, and a
    run on it alone is an argparse error (it was KeyError: 'options')."""
    records = ROOT / "reproduction" / "records"
    rates = records / "all-quick.csv"
    res = _run("scripts/cost.py", records / "exp1.csv", records / "continual_reber.csv", "--rates", rates)
    assert res.returncode == 0, res.stderr
    assert "left out" in res.stderr and "continual_reber.csv" in res.stderr
    assert "| 1-1 |" in res.stdout
    _refused("scripts/cost.py", records / "continual_reber.csv", "--rates", rates, says="no records")
    _refused("scripts/cost.py", records / "exp1.csv", "--rates", records / "continual_reber.csv",
             says="--rates")


@pytest.mark.parametrize("lr", ["nan", "-1", "inf", "fast"])
def test_rtrl_time_convention_checks_every_rate_before_the_first_trial(tmp_path, lr):
    """A bad rate after good ones stopped the run with a traceback when its
    trials came, after (in a full run) hours of the others."""
    _refused("scripts/rtrl_time_convention.py", "--lr", "1", lr, "--quick", "--out", tmp_path / "r.csv",
             says="--lr")
    assert not (tmp_path / "r.csv").exists()


def test_run_all_stops_with_a_message_when_a_benchmark_fails(tmp_path, monkeypatch):
    """A failing benchmark ends run_all.py with its name and where the CSVs so
    far are (it was a CalledProcessError traceback); none runs after it."""
    import types

    run_all = _script_module("benchmarks/run_all.py", "run_all_audit")
    calls = []

    def fake_run(cmd, **kwargs):
        calls.append(pathlib.Path(cmd[1]).name)
        return types.SimpleNamespace(returncode=3 if cmd[1].endswith("bench_latency.py") else 0)

    monkeypatch.setattr(run_all.subprocess, "run", fake_run)
    monkeypatch.setattr(sys, "argv", ["run_all.py", "--quick", "--out", str(tmp_path / "out")])
    with pytest.raises(SystemExit) as exc:
        run_all.main()
    assert calls == ["bench_step.py", "bench_latency.py"]
    assert "bench_latency.py failed (exit status 3)" in str(exc.value.code)
    assert str(tmp_path / "out") in str(exc.value.code)


# --- the documented commands --------------------------------------------------------------------

def _documented_commands():
    """``(page, script, args)`` for each command of README.md and
    BENCHMARKS.md that runs a script of benchmarks/ or scripts/ (inline code
    and fenced blocks, line breaks inside a span joined)."""
    import re
    import shlex

    found = []
    for page in ("README.md", "BENCHMARKS.md"):
        text = (ROOT / page).read_text()
        spans = [ln.strip() for block in re.findall(r"```.*?\n(.*?)```", text, re.S)
                 for ln in block.replace("\\\n", " ").splitlines()]
        spans += [" ".join(s.split()) for s in re.findall(r"`([^`]+)`", re.sub(r"```.*?```", "", text, flags=re.S))]
        for span in spans:
            m = re.search(r"(?:(benchmarks|scripts)/)?\b(\w+\.py)\b(.*)", span)
            if not m or not (m.group(1) or re.match(r"\s+--", m.group(3))):
                continue
            args = shlex.split(m.group(3).split("&&")[0])
            found.append((page, f"{m.group(1) or 'benchmarks'}/{m.group(2)}", args))
    return found


DOCUMENTED = _documented_commands()


def test_the_pages_document_the_scripts_this_test_reads():
    scripts = {s for _, s, _ in DOCUMENTED}
    assert {"benchmarks/run_all.py", "benchmarks/ab_step.py", "benchmarks/bench_step.py",
            "benchmarks/soak.py", "scripts/continual_reber.py", "benchmarks/bench_sigmoid.py"} <= scripts
    assert sum(1 for _, s, a in DOCUMENTED if s == "benchmarks/ab_step.py" and "--out" in a) >= 4


@pytest.mark.parametrize("page, script, args", DOCUMENTED,
                         ids=[f"{p}:{s} {' '.join(a)}"[:80] for p, s, a in DOCUMENTED])
def test_a_documented_command_names_existing_flags_and_files(page, script, args):
    assert (ROOT / script).is_file(), f"{page} runs {script}, which does not exist"
    res = _run(script, "--help")
    assert res.returncode == 0, res.stderr
    for i, a in enumerate(args):
        if a.startswith("--"):
            assert a in res.stdout, f"{page}: {script} has no flag {a}"
        elif i == 0 and script.endswith("diagnose.py"):
            assert a in res.stdout, f"{page}: diagnose.py has no subcommand {a}"
        if i and args[i - 1] in ("--out", "--marginal") and a.startswith(("benchmarks/results/",
                                                                         "reproduction/records/")):
            assert (ROOT / a).is_file(), f"{page} cites {a}, which is not committed"


def test_the_documented_ab_step_comparisons_parse(tmp_path):
    """Every documented ``ab_step.py`` command is accepted as written (sizes,
    flags, and its --base a revision of this clone), its --out sent to tmp_path."""
    shallow = subprocess_out(["git", "-C", str(ROOT), "rev-parse", "--is-shallow-repository"])
    if shallow != "false":
        pytest.skip("a shallow or absent git history lacks the documented --base revisions")
    ab = _script_module("benchmarks/ab_step.py", "ab_step_docs")
    commands = [a for _, s, a in DOCUMENTED if s == "benchmarks/ab_step.py" and a]
    assert commands
    for args in commands:
        args = list(args)
        if "--out" in args:
            args[args.index("--out") + 1] = str(tmp_path / "ab.csv")
        else:
            args += ["--out", str(tmp_path / "ab.csv")]
        ab.parse_args(args)


def _needs_git_checkout():
    """ab_step.py compares git revisions: skip where there is no git checkout
    (an unpacked sdist), where it rightly refuses every --base."""
    if not subprocess_out(["git", "-C", str(ROOT), "rev-parse", "--verify", "-q", "HEAD"]):
        pytest.skip("ab_step.py needs a git checkout (its --base is a revision)")


def subprocess_out(cmd):
    import subprocess

    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
    except OSError:
        return ""


def test_report_prints_a_one_thread_bank_run(tmp_path):
    """On one core bench_bank.py times one thread only (numba.set_num_threads(2)
    raised ValueError there): the table keeps its 1-thread figures."""
    d = _results_copy(tmp_path)
    df = pd.read_csv(d / "bank.csv")
    df[df.threads == 1].to_csv(d / "bank.csv", index=False)
    res = _run("benchmarks/report.py", "--results", d)
    assert res.returncode == 0, res.stdout
    one = df[(df["mode"] == "learn_many") & (df.threads == 1) & (df.arch == "reber") & (df.learners == 256)]
    assert f"| 256 | {one.ns_per_learner_step.iloc[0]:,.0f} / – |" in res.stdout


def test_bench_bank_runs_where_numba_has_one_thread():
    """With NUMBA_NUM_THREADS=1 (one core) a bank configuration is timed on the
    one thread; numba.set_num_threads(2) raised ValueError there at the first."""
    import subprocess

    code = ("import bench_bank; rows = bench_bank.bench('sensor-B', 2, True); "
            "print(sorted({(r['mode'], r['threads']) for r in rows}))")
    env = dict(os.environ, NUMBA_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([str(ROOT / "benchmarks"), str(ROOT), os.environ.get("PYTHONPATH", "")]))
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env,
                         cwd=ROOT)
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.strip().splitlines()[-1] == (
        "[('learn_many', 1), ('learn_one', 1), ('separate learn_one', 1)]")
