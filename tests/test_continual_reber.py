"""The continual embedded Reber stream (spec §7.1): generator, scoring, and a
small run in which forget gates learn what the 1997 net cannot."""

import math

import numpy as np
import pytest

from online_lstm import OnlineLSTM
from online_lstm.tasks.continual_reber import (
    SYMBOLS, ContinualReber, correct, correct_strict, evaluate_continual, train_continual,
)

# the inner grammar of spec §5.1, written as (state, symbol) -> state
STEP = {(0, "B"): 1, (1, "T"): 2, (1, "P"): 3, (2, "S"): 2, (2, "X"): 4, (3, "T"): 3, (3, "V"): 5,
        (4, "X"): 3, (4, "S"): 6, (5, "P"): 4, (5, "V"): 6, (6, "E"): 7}


def is_embedded_reber(s):
    if len(s) < 9 or s[0] != "B" or s[1] not in "TP" or s[-2] != s[1] or s[-1] != "E":
        return False
    state = 0
    for c in s[2:-2]:
        state = STEP.get((state, c))
        if state is None:
            return False
    return state == 7


def decode(rows):
    return "".join(SYMBOLS[i] for i in np.argmax(rows, axis=1))


def test_stream_is_embedded_reber_strings_back_to_back():
    task = ContinualReber(seed=0)
    a, b = task.chunk(300), task.chunk(300)
    for ch in (a, b):
        assert all(is_embedded_reber(s) for s in ch.strings)
        assert decode(ch.X) == "".join(ch.strings)  # one symbol per row, nothing in between
        assert np.array_equal(ch.starts, np.cumsum([0] + [len(s) for s in ch.strings[:-1]]))
    assert {s[1] for s in a.strings} == {"T", "P"}
    lengths = np.array([len(s) for s in a.strings + b.strings])
    assert lengths.min() == 9 and 11 < lengths.mean() < 13  # the grammar's lengths


def test_targets_are_the_allowed_next_symbols():
    task = ContinualReber(seed=1)
    ch = task.chunk(200)
    stream = "".join(ch.strings) + "B"  # the next chunk starts with B
    nxt = np.array([SYMBOLS.index(c) for c in stream[1:]])
    assert np.all(ch.legal[np.arange(len(nxt)), nxt])  # the actual next symbol is allowed
    assert np.array_equal(ch.Y, ch.legal.astype(float))
    n_allowed = ch.legal.sum(axis=1)
    assert set(n_allowed) == {1, 2}  # two-way choices, else one way
    # the long-lag row: input the inner E, only the remembered T/P allowed
    assert decode(ch.X[ch.recall]) == "E" * len(ch)
    assert np.all(n_allowed[ch.recall] == 1)
    assert decode(ch.legal[ch.recall]) == "".join(s[1] for s in ch.strings)
    # after every final E comes the next string's B
    ends = ch.starts + np.array([len(s) for s in ch.strings]) - 1
    assert decode(ch.legal[ends]) == "B" * len(ch)


def test_next_symbol_targets_and_seeds():
    a = ContinualReber(targets="next", seed=3).chunk(50)
    b = ContinualReber(targets="legal", seed=3).chunk(50)
    assert a.strings == b.strings  # the targets do not change the stream
    assert np.all(a.Y.sum(axis=1) == 1) and decode(a.Y) == "".join(a.strings)[1:] + "B"
    assert ContinualReber(seed=4).chunk(50).strings != a.strings
    with pytest.raises(ValueError, match="targets"):
        ContinualReber(targets="onehot")


def test_scoring_rules():
    Y = np.array([[0, 1, 1, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0, 0]], dtype=float)
    legal = Y.astype(bool)
    half = np.where(Y[1] > 0, 0.5, 0.1)
    half[2] = 0.5  # T and P equally active where T must be recalled
    out = np.array([np.where(Y[0] > 0, 0.4, 0.2), half])
    assert np.array_equal(correct(out, Y), [True, True])  # every squared error < 0.49
    assert np.array_equal(correct_strict(out, legal), [True, False])  # P is as active as T
    out[0, 3] = 0.71  # (0.71 - 0)^2 > 0.49
    assert not correct(out, Y)[0] and not correct_strict(out, legal)[0]


GERS = dict(n_in=7, n_out=7, n_blocks=4, block_size=2, bias="all", init_range=0.2,
            in_gate_bias=(-0.5, -1.0, -1.5, -2.0), out_gate_bias=(-0.5, -1.0, -1.5, -2.0), lr=0.5)


def test_forget_gates_learn_the_continual_stream_and_the_1997_net_does_not():
    # the setting of scripts/continual_reber.py, one seed, a small budget
    fg = OnlineLSTM(**GERS, forget_gate=True, forget_gate_bias=(0.5, 1.0, 1.5, 2.0), seed=1)
    old = OnlineLSTM(**GERS, state_bound=math.inf, seed=1)
    results = {}
    for name, m in (("fg", fg), ("1997", old)):
        stream = ContinualReber(seed=[1, 2000])
        rows = train_continual(m, stream, 20_000, chunk=2_000)
        results[name] = rows, evaluate_continual(m, stream, 2_000)  # frozen, never reset
    rows, test = results["fg"]
    assert rows[-1]["strings_ok"] == 1.0 and test["strings_ok_strict"] == 1.0
    assert test["symbols_before_first_error"] == test["symbols"]
    assert test["max_abs_s"] < 100  # the cells reset themselves
    rows, test = results["1997"]
    assert test["strings_ok_strict"] < 0.5 and test["recall_ok_strict"] < 0.7
    assert rows[-1]["max_abs_s"] > 1e4  # drift: nothing ever resets the states
    assert rows[-1]["max_abs_s"] > 1.5 * rows[len(rows) // 2]["max_abs_s"]


def test_divergence_ends_a_run_with_the_state_kept():
    m = OnlineLSTM(**GERS, state_bound=200.0, seed=0)
    rows = train_continual(m, ContinualReber(seed=0), 5_000, chunk=500)
    assert rows[-1]["diverged"] is not None and rows[-1]["strings"] < 5_000
    assert m.n_steps_ == rows[-1]["diverged"]  # the refused step was not taken
    assert np.all(np.abs(m.state_["s_c"]) <= 200.0)
    # the test of a run stopped in training: every symbol an error, the learner not run
    before = m.state_arrays()
    test = evaluate_continual(m, ContinualReber(seed=1), 50, diverged=rows[-1]["diverged"])
    assert test["diverged"] == rows[-1]["diverged"]
    assert test["symbols"] > 0 and test["symbols_before_first_error"] == 0
    assert test["symbols_ok"] == test["strings_ok"] == test["recall_ok_strict"] == 0.0
    after = m.state_arrays()
    assert all(np.array_equal(before[k], after[k]) for k in before)
    with pytest.raises(ValueError, match="diverged"):
        evaluate_continual(m, ContinualReber(seed=1), 5, diverged=True)
