"""The ``online-lstm`` command line."""

import subprocess
import sys

import pandas as pd
import pytest

from online_lstm.cli import main
from online_lstm.presets import PRESETS


def test_reproduce_quick_preset_writes_csv_and_table(tmp_path, capsys):
    code = main(["reproduce", "1-5", "--quick", "--trials", "2", "--jobs", "1", "--out", str(tmp_path),
                 "--no-progress", "--set", "limit=3000"])
    assert code == 0
    df = pd.read_csv(tmp_path / "1-5-quick.csv")
    assert len(df) == 2 and set(df["preset"]) == {"1-5"} and list(df["trial"]) == [0, 1]
    for col in ("seed", "success", "sequences", "wrong", "steps", "wall_s", "steps_per_s", "version"):
        assert col in df
    assert df["sequences"].max() <= 3000
    assert (tmp_path / "1-5-quick-summary.csv").exists()
    out = capsys.readouterr().out
    assert "Table 1: LSTM 1-5" in out and "8,440" in out  # the paper's figure beside ours


def test_compare_rebuilds_the_table(tmp_path, capsys):
    main(["reproduce", "6a", "--quick", "--jobs", "1", "--out", str(tmp_path), "--no-progress",
          "--set", "limit=500", "--name", "r"])
    capsys.readouterr()
    assert main(["compare", str(tmp_path / "r.csv"), "--markdown"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("| preset |") and "31,390" in out
    main(["reproduce", "1-5", "--quick", "--jobs", "1", "--out", str(tmp_path), "--no-progress",
          "--set", "limit=200", "--name", "s"])
    capsys.readouterr()
    assert main(["compare", str(tmp_path / "r.csv"), str(tmp_path / "s.csv")]) == 0
    out = capsys.readouterr().out
    assert out.index("Table 1: LSTM 1-5") < out.index("Table 9: task 6a")  # paper order


def test_list_shows_every_preset(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for pid in PRESETS:
        assert pid in out
    assert main(["list", "2c-9", "-v"]) == 0
    assert "203,000" in capsys.readouterr().out


def test_bad_target_and_option(capsys):
    assert main(["reproduce", "9z", "--quick"]) == 2
    assert "unknown preset" in capsys.readouterr().err
    assert main(["reproduce", "1-5", "--quick", "--set", "momentum=0.9"]) == 2
    assert "no option" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["reproduce", "1-5", "--set", "novalue"])


def test_module_entry_point():
    res = subprocess.run([sys.executable, "-m", "online_lstm", "list", "6b"], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0 and "571,100" in res.stdout


def test_console_script_is_installed():
    from pathlib import Path

    exe = Path(sys.executable).parent / "online-lstm"
    if not exe.exists():
        pytest.skip("package not installed with its console script (pip install -e .)")
    res = subprocess.run([str(exe), "list", "1-1"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and "39,740" in res.stdout
