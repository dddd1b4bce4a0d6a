"""The Table 10 rows and the presets are shared by the whole process: read-only.

An edit by mistake (``PRESETS["1-5"].options["limit"] = 100``) used to change
every later trial and record silently, past ``with_options``' checks.
"""

from __future__ import annotations

import copy
import json
import pickle

import pytest

from online_lstm.paper import TABLE10
from online_lstm.presets import PRESETS


def _shared_dicts():
    for row, (kw, _) in TABLE10.items():
        yield f"TABLE10[{row!r}]", kw
    for pid, p in PRESETS.items():
        for name in ("task_kwargs", "options", "learner_changes", "quick"):
            yield f"{pid}.{name}", getattr(p, name)
        for r in p.paper:
            yield f"{pid}.paper.extra", r.extra
        if p.competitor is not None:
            yield f"{pid}.competitor.kwargs", p.competitor.kwargs


EDITS = [("set", lambda d: d.__setitem__("x", 1)), ("del", lambda d: d.__delitem__(next(iter(d)))),
         ("update", lambda d: d.update(x=1)), ("pop", lambda d: d.pop(next(iter(d)))),
         ("popitem", lambda d: d.popitem()), ("setdefault", lambda d: d.setdefault("x", 1)),
         ("clear", lambda d: d.clear())]


@pytest.mark.parametrize("how, edit", EDITS, ids=[e[0] for e in EDITS])
def test_every_shared_dict_refuses_edits_and_keeps_its_contents(how, edit):
    n = 0
    for where, d in _shared_dicts():
        before = dict(d)
        if not d and how in ("del", "pop", "popitem"):
            continue
        with pytest.raises(TypeError, match="read-only \\(a preset.s or a Table 10 row.s"):
            edit(d)
        assert dict(d) == before, where
        n += 1
    assert n > 100
    with pytest.raises(TypeError, match="read-only"):
        opts = PRESETS["1-5"].options
        opts |= {"limit": 1}


def test_the_tables_still_copy_pickle_and_serialise_as_dicts():
    p = PRESETS["1-5"]
    assert pickle.loads(pickle.dumps(p)) == p
    assert copy.deepcopy(p) == p and copy.copy(p) == p
    assert json.loads(json.dumps(p.options)) == dict(p.options)
    changed = dict(p.options, limit=5)  # a copy may change
    assert changed["limit"] == 5 and p.options["limit"] != 5
    q = p.with_options(limit=5)  # the way to change a preset
    assert q.options["limit"] == 5 and p.options["limit"] == PRESETS["1-5"].options["limit"] != 5
    with pytest.raises(TypeError):
        q.options["limit"] = 6
    assert repr(p.options).startswith("{")  # as the records' options text has it
