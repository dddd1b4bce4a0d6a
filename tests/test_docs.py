"""The Python examples of docs/river.md run as written and print what the
page shows.

A block that ends with comment lines shows the output of its last line:
that line is evaluated and its ``str`` compared with the comments, with
runs of whitespace made equal.  Indented blocks are fragments inside a
list item (they use names the page defines in prose) and are not run;
the id_key pipeline among them runs as a doctest of ``online_lstm.river``.
"""

import pathlib
import re

import pytest

pytest.importorskip("river")

PAGE = pathlib.Path(__file__).resolve().parent.parent / "docs" / "river.md"


def _blocks():
    blocks = re.findall(r"^```python\n(.*?)^```", PAGE.read_text(), re.S | re.M)
    return [b for b in blocks if not b.startswith((" ", "\t"))]


def _split(code):
    """(statements, last line, the output shown in the trailing comments)."""
    lines = code.rstrip().splitlines()
    shown = []
    while lines and lines[-1].startswith("#"):
        shown.insert(0, lines.pop()[1:].strip())
    return "\n".join(lines[:-1]), lines[-1], "\n".join(shown)


def _norm(text):
    return [line.split() for line in text.strip().splitlines()]


def test_the_page_still_has_its_examples():
    assert len(_blocks()) >= 2, "docs/river.md lost its examples, or this test's pattern is stale"


@pytest.mark.parametrize("i", range(len(_blocks())))
def test_example_prints_what_the_page_shows(i, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    body, last, shown = _split(_blocks()[i])
    ns = {}
    exec(compile(body, f"docs/river.md python block {i}", "exec"), ns)
    result = eval(compile(last, f"docs/river.md python block {i}, last line", "eval"), ns)
    if shown:
        assert _norm(str(result)) == _norm(shown), f"block {i} prints\n{result}\nthe page shows\n{shown}"
