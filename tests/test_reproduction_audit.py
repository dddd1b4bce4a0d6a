"""REPRODUCTION.md's figures, recomputed from the committed records.

``test_report.py`` checks the main table against ``online-lstm compare``
and ``test_docs_audit.py`` the cost table against ``scripts/cost.py``.
Here: the table naming each row's records files (every row is what
``compare`` makes of exactly those files and seeds), and a sample of the
figures quoted in the running text, recomputed with pandas."""

import pathlib
import re

import pandas as pd
import pytest

from online_lstm.cli import main

ROOT = pathlib.Path(__file__).resolve().parent.parent
REPORT = (ROOT / "REPRODUCTION.md").read_text()
TEXT = re.sub(r"\s+", " ", REPORT)  # the running text, line breaks as spaces
RECORDS = ROOT / "reproduction" / "records"


def _rec(*names):
    return pd.concat([pd.read_csv(RECORDS / n) for n in names], ignore_index=True)


def _seeds(text):
    """'0–29' or '3' as a set of ints."""
    lo, _, hi = text.partition("–")
    return set(range(int(lo), int(hi or lo) + 1))


def _row_files():
    """The report's "row | records (weight seeds)" table: [(labels, [(file, seeds)])]."""
    start = REPORT.index("| row | records (weight seeds) |")
    rows = []
    for ln in REPORT[start:].splitlines()[2:]:
        ln = ln.strip()
        if not ln.startswith("|"):
            break
        label, files = (c.strip() for c in ln.strip("|").split("|"))
        pairs = re.findall(r"`([^`]+\.csv)` \(([\d–]+)\)", files)
        if "…" in label:  # "1-1 … 1-5" and "2c-4 … 2c-9": one file (or one per preset) each
            first, last = (s.strip() for s in label.split("…"))
            stem, a, b = first.rsplit("-", 1)[0], int(first.rsplit("-", 1)[1]), int(last.rsplit("-", 1)[1])
            labels = [f"{stem}-{i}" for i in range(a, b + 1)]
            if "…" in files:  # twoc-2c4.csv … twoc-2c9.csv
                f0, seeds = re.findall(r"`([^`]+\.csv)`", files)[0], pairs[-1][1]  # the first file named
                for lab in labels:
                    f = f0.replace(first.split("-")[1], lab.split("-")[1])
                    opts = pd.read_csv(RECORDS / f).options.astype(object).fillna("").unique()
                    assert len(opts) == 1, f
                    rows.append(([f"{lab} [{opts[0]}]" if opts[0] else lab], [(f, seeds)]))
                continue
        else:
            labels = [s.strip() for s in label.split(",")]
        rows.append((labels, pairs))
    return rows


def _main_table():
    start = REPORT.index("| preset | paper row | trials |")
    return REPORT[start:].split("\n\n")[0].splitlines()


def _split(label):
    m = re.fullmatch(r"(\S+)(?: \[(.*)\])?", label)
    return m.group(1), m.group(2) or ""


def test_row_files_table_covers_every_row_of_the_main_table():
    listed = [lab for labels, _ in _row_files() for lab in labels]
    in_table = {ln.split("|")[1].strip() for ln in _main_table()[2:]}
    assert set(listed) == in_table
    assert len(listed) == len(set(listed))


@pytest.mark.parametrize("labels, pairs", _row_files(), ids=lambda v: str(v)[:40])
def test_each_row_is_what_compare_makes_of_its_files(labels, pairs, capsys):
    for label in labels:
        preset, options = _split(label)
        got = set()
        for f, seeds in pairs:
            d = pd.read_csv(RECORDS / f)
            d = d[(d.preset == preset) & (d.options.astype(object).fillna("") == options)]
            assert set(d.seed) == _seeds(seeds), (label, f)
            got |= set(d.seed)
        assert main(["compare", *(str(RECORDS / f) for f, _ in pairs), "--markdown"]) == 0
        out = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith(f"| {label} |")]
        assert len(out) >= 1
        assert set(out) <= set(_main_table()), label


def test_2a_to_the_paper_s_limit():
    a = _rec("stageE-2a-limit.csv", "stageE-2a-limit-2.csv", "stageE-2a-limit-3.csv")
    assert len(a) == 18 and a.success.all() and (a.wrong == 0).all()
    s = a.streak_start
    listed = re.search(r"sorted: ([\d,\s]+)\);", TEXT).group(1)
    assert [int(v.replace(",", "")) for v in re.findall(r"\d{1,3}(?:,\d{3})+", listed)] == sorted(s)
    assert (round(s.mean()), s.median()) == (1_899_330, 1_773_951)
    assert round(s.mean() / 5040) == 377 and "377× on average" in TEXT
    assert (a.cell_added_at.min(), a.cell_added_at.max(), round(a.cell_added_at.mean())) == (7100, 12500, 9978)
    gap = a.streak_start - a.streak100_end
    assert f"{gap.min():,}–{gap.max():,} sequences before" in TEXT
    assert f"{round(a.cpu_s.sum()):,} s for the 18" in TEXT


def test_6b_over_the_paper_s_ten_trials():
    d = _rec("stageB-1.csv", "stageC-6b.csv", "stageC-6b-2.csv")
    d = d[d.preset == "6b"]
    assert sorted(d.seed) == list(range(10))
    s = d[d.success]
    assert len(s) == 8
    assert f"8 succeed, after {round(s.sequences.mean()):,} sequences" in TEXT
    assert f"{s.wrong.mean():.1f} wrong test sequences" in TEXT
    assert f"{571_100 / s.sequences.mean():.1f}× faster" in TEXT


def test_exp5_milestones_and_the_exp4_input_gate_biases():
    d = _rec("stageB-2.csv", "stageF-1.csv")
    d = d[d.preset == "5"]
    n140, n13 = d.n140_sequences.dropna(), d.n13_sequences.dropna()
    assert (len(n140), len(n13)) == (9, 7)
    assert f"{round(n140.mean()):,} ({round(n140.median()):,}), 9 trials" in REPORT
    assert f"{round(n13.mean()):,} ({round(n13.median()):,}), 7 trials" in REPORT
    x = _rec("stageX5-igb.csv")
    assert x.success.all() and len(x) == 10
    row = (f"| {round(x.n140_sequences.mean()):,} ({round(x.n140_sequences.median()):,}) "
           f"| {round(x.n13_sequences.mean()):,} ({round(x.n13_sequences.median()):,}) "
           f"| {round(x.n140_wrong.mean())} / {round(x.n13_wrong.mean())} |")
    assert row in REPORT


def test_exp1_open_choices_table():
    want = {  # row of the report's table: (file, preset, options)
        "default: one-hot next symbol, per-step updates, strict test": ("exp1.csv", "1-5", ""),
        "weights updated once per string (§8 item 11)": ("reber-sweep-1-5.csv", "1-5", "update=sequence"),
        "looser test: argmax is a legal successor (§8 item 14)": ("reber-sweep-rule.csv", "1-5", "rule=argmax"),
        "success test after every string": ("reber-sweep-check.csv", "1-5", "check_every=1"),
        "input-gate biases in [−0.1, 0.1], Table 10's \"r\" (§8 item 6)":
            ("reber-sweep-igb.csv", "1-5", "igb_range=0.1"),
    }
    for label, (f, preset, options) in want.items():
        d = _rec(f)
        d = d[(d.preset == preset) & (d.options.astype(object).fillna("") == options)]
        assert len(d) == 30
        s = d[d.success]
        pct = round(100 * d.success.mean(), 1)
        line = f"| {label} | {pct:.1f} | {round(s.sequences.mean()):,} | {d.lag_correct.mean():.2f} |"
        assert line in REPORT, line


def test_one_hour_arithmetic_of_2c_2():
    j = _rec("stageJ-2c2.csv")
    per_step = j.cpu_s.sum() / j.steps.sum() * 1e6
    steps_per_seq = (j.steps / j.sequences).mean()
    fail = round(per_step, 2) * round(steps_per_seq) * 5_000_000 / 1e6
    assert round(fail) == 486
    success = _rec("stageA-2c2.csv").query("success").cpu_s.item()
    low = 19 * round(fail) + round(success)
    assert f"≈ {round(low, -2):,}–11,700" in TEXT
