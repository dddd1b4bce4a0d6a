"""Child process of the SIGKILL test: learn and save in a loop until killed.

    python save_loop.py CHECKPOINT LOG DELAY

Before save k it appends ``begin k n_steps`` to LOG, after it ``end k
n_steps`` (each line fsync-ed).  DELAY > 0 makes every array of a save take
that many seconds more to write, so a kill right after a ``begin`` line lands
in the middle of the save.  The data are a function of the chunk number, so
:func:`replay` rebuilds the learner at any step count.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from online_lstm import OnlineLSTM


def learner():
    return OnlineLSTM(8, 4, 12, 2, bias="all", init_range=0.3, lr=0.1, seed=0)


def chunk(k):
    rng = np.random.default_rng([7, k])
    return rng.random((5, 8)), rng.random((5, 4))


def replay(n_steps):
    m, k = learner(), 0
    while m.n_steps_ < n_steps:
        m.learn_many(*chunk(k))
        k += 1
    assert m.n_steps_ == n_steps
    return m


def main(path, log, delay):
    write_array = np.lib.format.write_array

    def slow_write_array(*args, **kwargs):
        write_array(*args, **kwargs)
        time.sleep(delay)

    if delay > 0:
        np.lib.format.write_array = slow_write_array
    m = learner()
    with open(log, "a") as f:
        def note(text):
            f.write(text + "\n")
            f.flush()
            os.fsync(f.fileno())

        k = 0
        while True:
            m.learn_many(*chunk(k))
            note(f"begin {k} {m.n_steps_}")
            m.save(path)
            note(f"end {k} {m.n_steps_}")
            k += 1


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
