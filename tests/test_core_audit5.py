"""Core audit 5: byte-swapped and unaligned float64 arrays in the per-step calls.

Numba's dispatch types an argument by a fingerprint that holds neither an
array's byte order nor its alignment, so a big-endian ('>f8') float64 array
and an unaligned native one (a field of a packed structured array,
``np.frombuffer`` at an odd offset) share one entry of its process-wide
cache: whichever reaches a compiled function first decides what happens to
the other.  Unaligned first, a byte-swapped input went straight to the kernel,
which read its bytes as native numbers (the learner learned from garbage, an
``out`` got its outputs in the wrong byte order); byte-swapped first, an
unaligned input escaped as a raw ``TypeError``.  Each order needs a fresh
process, so each runs in one.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import online_lstm
from online_lstm import InputError, OnlineLSTM

_SCRIPT = r'''
import copy, json, sys
import numpy as np
import numba
from online_lstm import InputError, OnlineLSTM
from online_lstm.baselines import RTRL

x, y = np.array([0.3, -0.2, 0.1]), np.array([0.2, 0.7])
if sys.argv[1] == "swapped-first":  # another library's compiled function saw a '>f8' array first
    f = numba.njit("float64(float64[::1])")(lambda a: a[0])
    try:
        f(x.astype(">f8"))
    except TypeError:
        pass
rec = np.zeros(1, dtype=[("id", "i4"), ("x", "f8", 3), ("y", "f8", 2)])  # packed: unaligned fields
rec["x"][0], rec["y"][0] = x, y
ux, uy = rec[0]["x"], rec[0]["y"]
assert not ux.flags.aligned and ux.flags.writeable and ux.flags.c_contiguous
sx, sy = x.astype(">f8"), y.astype(">f8")
res = {}


def same(a, b):
    return all(np.array_equal(v, b[k]) for k, v in a.items())


for name, make in (("OnlineLSTM", lambda: OnlineLSTM(3, 2, 1, 2, seed=0, max_delay=1)),
                   ("RTRL", lambda: RTRL(3, 2, 2, seed=0))):
    m = make()
    for tag, (xx, yy) in (("unaligned", (ux, uy)), ("swapped", (sx, sy)), ("unaligned", (ux, uy))):
        a, b = copy.deepcopy(m), copy.deepcopy(m)
        ok = np.array_equal(a.learn_one(xx, yy), b.learn_one(x, y))
        ok &= np.array_equal(a.predict_one(xx), b.predict_one(x))
        a.learn_last(yy)
        b.learn_last(y)
        if name == "OnlineLSTM":
            a.predict_one(x)
            b.predict_one(x)
            a.learn_delayed(yy, 0)
            b.learn_delayed(y, 0)
        res[f"{name} {tag} inputs"] = bool(ok and same(a.state_arrays(), b.state_arrays()))
    ref = copy.deepcopy(m).predict_one(x)
    for tag, out in (("swapped", np.zeros(2, ">f8")),
                     ("unaligned", np.frombuffer(bytearray(20), np.float64, 2, 4))):
        a = copy.deepcopy(m)
        before = a.state_arrays()
        try:
            a.predict_one(x, out=out)
            res[f"{name} {tag} out"] = "taken" if np.array_equal(out, ref) else "WRONG BYTES"
        except InputError as e:
            res[f"{name} {tag} out"] = "refused" if same(a.state_arrays(), before) else "CHANGED"
print(json.dumps(res))
'''


@pytest.mark.parametrize("first", ["unaligned-first", "swapped-first"])
def test_byte_swapped_and_unaligned_arrays_are_read_as_the_numbers_they_hold(first):
    root = pathlib.Path(online_lstm.__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=str(root))
    run = subprocess.run([sys.executable, "-c", _SCRIPT, first], env=env, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    res = json.loads(run.stdout.strip().splitlines()[-1])
    for name in ("OnlineLSTM", "RTRL"):
        for tag in ("unaligned", "swapped"):
            assert res[f"{name} {tag} inputs"], (name, tag, res)
        # a byte-swapped out cannot take the outputs: refused, nothing changed
        assert res[f"{name} swapped out"] == "refused", res
        # an unaligned one is taken where Numba takes it, else refused with InputError
        assert res[f"{name} unaligned out"] in ("taken", "refused"), res


@pytest.mark.parametrize("call, says", [
    (lambda m: m.learn_one(np.zeros(2), [0.5, None]),
     r"y must hold real numbers that convert to float64; it holds None at flat index 1: use NaN "
     r"for an output without a target at this step \(y=None: no target at all\)"),
    (lambda m: m.learn_many(np.zeros((2, 2)), [[0.5, 0.5], [None, 0.2]]),
     r"Y must hold .* it holds None at flat index 2: use NaN for an output without a target at that step"),
    (lambda m: m.predict_one([0.1, None]),
     r"x must hold .* it holds None at flat index 1: the net has no missing-input value"),
])
def test_a_none_in_a_list_says_what_to_use_instead(call, says):
    """A None among the numbers is a missing value, not a pandas dtype problem:
    the message said to select a DataFrame's numeric columns."""
    m = OnlineLSTM(2, 2, seed=0)
    before = m.state_arrays()
    with pytest.raises(InputError, match=says) as err:
        call(m)
    assert "DataFrame" not in str(err.value)
    assert all(np.array_equal(before[k], v) for k, v in m.state_arrays().items())
