"""Docs audit 5: statements of the docs checked against the code they describe."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from online_lstm import cli

ROOT = Path(__file__).resolve().parent.parent


def _commands(capsys) -> list:
    """The subcommands ``online-lstm --help`` lists."""
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    text = capsys.readouterr().out
    block = text.split("COMMAND\n", 2)[-1].split("\noptions:")[0]
    return re.findall(r"^    (\w+)\s", block, re.M)


def test_every_command_is_in_the_cli_docstring_and_the_readme(capsys):
    commands = _commands(capsys)
    assert {"list", "reproduce", "status", "compare", "bench", "gradcheck"} <= set(commands)
    usage = [line.split()[1] for line in cli.__doc__.splitlines()
             if line.strip().startswith("online-lstm ")]
    assert sorted(usage) == sorted(commands)
    row = next(line for line in (ROOT / "README.md").read_text().splitlines()
               if line.startswith("| `online_lstm/cli.py`"))
    assert sorted(re.findall(r"`(\w+)`", row)) == sorted(commands)


def test_readme_names_gradcheck_s_flags_as_its_help_does(capsys):
    with pytest.raises(SystemExit):
        cli.main(["gradcheck", "--help"])
    flags = set(re.findall(r"--[a-z-]+", capsys.readouterr().out))
    readme = " ".join((ROOT / "README.md").read_text().split())
    said = readme.split("Likewise `online-lstm gradcheck` (", 1)[1].split(")", 1)[0]
    named, _ = said.split("no `--max-delay`")
    assert set(re.findall(r"--[a-z-]+", named)) <= flags
    assert "--max-delay" not in flags


def test_gradcheck_docstring_names_the_peepholes_as_cut():
    from online_lstm import gradcheck

    doc = " ".join(gradcheck.__doc__.split())
    assert "without peepholes" in doc and "peephole weights" in doc
