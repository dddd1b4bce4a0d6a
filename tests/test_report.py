"""The published tables are what the code makes of the committed data.

REPRODUCTION.md's table is what ``online-lstm compare`` makes of the
committed records, with the command the report gives: a change to how
``compare`` counts, or to a records file, that would change a published
figure fails here instead of leaving the report stale."""

import glob
import pathlib
import re
import shlex

from online_lstm.cli import main

ROOT = pathlib.Path(__file__).resolve().parent.parent
REPORT = ROOT / "REPRODUCTION.md"
RECORDS = ROOT / "reproduction" / "records"


def _the_report_s_command():
    """The ``online-lstm compare ...`` command of the report's first bash
    block that runs one (it runs in reproduction/records), as arguments,
    with its globs expanded as a shell would."""
    for block in re.findall(r"```bash\n(.*?)```", REPORT.read_text(), re.S):
        lines = block.replace("\\\n", " ").splitlines()
        cmd = next((ln for ln in lines if ln.strip().startswith("online-lstm compare")), None)
        if cmd and any(ln.strip() == "cd reproduction/records" for ln in lines):
            args = []
            for a in shlex.split(cmd)[1:]:
                if a == "compare" or a.startswith("--"):
                    args.append(a)
                    continue
                found = sorted(glob.glob(str(RECORDS / a)))
                assert found, f"{a} matches no records file"
                args += found
            return args
    raise AssertionError("REPRODUCTION.md lost its compare command, or this test's pattern is stale")


def test_the_report_s_table_is_what_compare_prints_from_the_committed_records(capsys):
    args = _the_report_s_command()
    assert args[0] == "compare" and "--markdown" in args
    assert main(args) == 0
    rows = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("|")]
    assert len(rows) >= 30  # a header, its rule, and every LSTM row of Tables 1-9
    report = REPORT.read_text()
    start = report.index(rows[0])  # the table as the report prints it
    printed = report[start:].split("\n\n")[0].splitlines()
    assert printed == rows


def test_the_benchmark_tables_are_what_report_py_prints_from_the_committed_results():
    """BENCHMARKS.md's tables are pasted from ``benchmarks/report.py`` (its
    docstring says so): each of its tables stands in the page, whole."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "report.py")], capture_output=True,
                         text=True, check=True, cwd=ROOT).stdout
    tables = re.findall(r"((?:^\|.*\n)+)", out, re.M)
    assert len(tables) >= 5, "report.py printed fewer tables than BENCHMARKS.md shows"
    page = (ROOT / "BENCHMARKS.md").read_text()
    for table in tables:
        assert table in page, f"BENCHMARKS.md lacks (or differs in) this table:\n{table}"
