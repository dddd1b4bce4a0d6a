"""Second review audit of the snapshot / read-only presets / checkpoint-size
change: defects found and fixed, one test (or a few) per fix."""

from __future__ import annotations

import pytest

from test_cli_audit3 import _no_run, _script


@pytest.mark.parametrize("grid, twice", [("lr=0.1,0.10", "0.1"), ("limit=5,05.0,5.0", "5.0"),
                                         ("update='step',step", "step")])
def test_sweep_options_refuses_one_value_spelled_twice(tmp_path, capsys, grid, twice):
    """The check of a value listed twice compared the texts: ``0.1,0.10`` is
    one value (one combination, one records file name) and ran twice."""
    mod = _script("sweep_options")
    mod.reproduce = _no_run
    with pytest.raises(SystemExit) as exc:
        mod.main(["6a", "--grid", grid, "--quick", "--out", str(tmp_path)])
    key = grid.partition("=")[0]
    assert exc.value.code == 2 and f"--grid {key} lists {twice!r} twice" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
