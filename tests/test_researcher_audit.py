"""A researcher's path through the package: records of one trial that disagree,
one's own learner in the progressive validation, the seeds of a trial's data
streams, and the documentation of these."""

from pathlib import Path

import pandas as pd

from online_lstm.cli import main
from online_lstm.experiments import compare, read_records

RECORDS = Path(__file__).resolve().parent.parent / "reproduction" / "records"


# ---------------------------------------------------------------------------
# compare: a trial given twice with different results
# ---------------------------------------------------------------------------
def _two_copies(tmp_path, edit=None):
    """A committed records file, and a copy of it as a replay on other code
    would write it (other times and version), with ``edit`` applied to row 0."""
    df = read_records(RECORDS / "stageB-2.csv")
    replay = df.copy()
    replay["wall_s"] = replay["wall_s"] * 2
    replay["version"] = "0123456789"
    for col, value in (edit or {}).items():
        replay[col] = replay[col].astype(object)
        replay.loc[replay.index[0], col] = value
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    df.to_csv(a, index=False)
    replay.to_csv(b, index=False)
    return df, a, b


def test_compare_counts_an_agreeing_replay_once_without_a_warning(tmp_path, capsys):
    df, a, b = _two_copies(tmp_path)
    table = compare(pd.concat([df, read_records(b)], ignore_index=True))
    assert table.attrs["duplicates"] == len(df)
    assert table.attrs["conflicts"]["count"] == 0
    assert main(["compare", str(a), str(b)]) == 0
    err = capsys.readouterr().err
    assert f"note: {len(df)} record(s) repeat" in err and "differ" not in err


def test_compare_says_when_repeats_of_a_trial_disagree(tmp_path, capsys):
    df, a, b = _two_copies(tmp_path, edit={"sequences": 12345})
    first = df.iloc[0]
    table = compare(pd.concat([df, read_records(b)], ignore_index=True))
    c = table.attrs["conflicts"]
    assert c["count"] == 1 and c["columns"] == ["sequences"]
    assert c["versions"] == sorted([str(first["version"]), "0123456789"])
    # the first file's record is the one counted, in either order of the files
    ours = df[df["preset"] == first["preset"]]
    assert ours["success"].all()
    theirs = ours["sequences"].replace({ours["sequences"].iloc[0]: 12345})
    for files, seqs in (((a, b), ours["sequences"]), ((b, a), theirs)):
        assert main(["compare", *map(str, files)]) == 0
        out, err = capsys.readouterr()
        assert "warning: 1 of them differ from the record counted (in sequences; versions" in err
        row = next(ln for ln in out.splitlines() if ln.startswith(first["preset"]))
        assert f" / {round(seqs.mean()):,} " in row


def test_compare_does_not_compare_a_field_one_record_lacks(tmp_path):
    df, _, b = _two_copies(tmp_path)
    old = read_records(b).drop(columns=["test_mse"])  # a record written before the field existed
    table = compare(pd.concat([df, old], ignore_index=True))
    assert table.attrs["conflicts"]["count"] == 0
