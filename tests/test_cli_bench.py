"""``online-lstm bench``: this machine's step timings from the installed package
(online_lstm/bench.py).  No timing is asserted (the machine is shared): what
is checked is that every row is measured, over the calls asked for, ordered
as percentiles are, and that bad arguments are usage errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from online_lstm import OnlineLSTM
from online_lstm.bench import CHUNK, per_call_ns, run
from online_lstm.cli import main

ROWS = ["timer+loop", "learn_one (out=)", "predict_one (out=)", "learn_many, per step",
        "snapshot(into=snap)", "restore_snapshot(snap)"]


def test_bench_prints_and_writes_every_row(tmp_path, capsys):
    out = tmp_path / "sub" / "bench.csv"
    assert main(["bench", "--net", "2,1,2,1", "--calls", "1000", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "n_in, n_out, blocks, cells = 2,1,2,1, biases on all units" in text
    assert f"{OnlineLSTM(2, 1, 2, 1, bias='all').n_params} weights" in text
    df = pd.read_csv(out)
    assert list(df["what"]) == ROWS and all(r in text for r in ROWS)
    per_call = df.iloc[:3]
    assert (per_call["calls"] == 1000).all()
    assert (per_call["p50_ns"] > 0).all()
    assert (per_call["p50_ns"] <= per_call["p99_ns"]).all() and (per_call["p99_ns"] <= per_call["p999_ns"]).all()
    assert (df["p50_ns"] > 0).all() and df.iloc[3:]["p99_ns"].isna().all()


def test_bench_takes_a_preset_and_the_options(capsys):
    assert main(["bench", "--preset", "1-5", "--forget-gate", "--peepholes", "--max-delay", "2",
                 "--calls", "1000"]) == 0
    text = capsys.readouterr().out
    m = __import__("online_lstm").presets.PRESETS["1-5"].learner(forget_gate=True, peepholes=True,
                                                                 max_delay=2)
    assert "preset 1-5 (Table 10 row 1-5), forget_gate=True, peepholes=True, max_delay=2" in text
    assert f"{m.n_params:,} weights" in text


@pytest.mark.parametrize("args, says", [
    (["--net", "7,7,4"], "argument --net: expected N_IN,N_OUT,BLOCKS,CELLS"),
    (["--net", "7,7,0,2"], "argument --net: expected N_IN,N_OUT,BLOCKS,CELLS"),
    (["--net", "a,b,c,d"], "argument --net: expected N_IN,N_OUT,BLOCKS,CELLS"),
    (["--calls", "999"], "argument --calls: expected an integer in [1000, 10,000,000]"),
    (["--max-delay", "-1"], "argument --max-delay: expected an integer >= 0"),
    (["--net", "1,1,1,1", "--preset", "1-5"], "argument --preset: not allowed with argument --net"),
    (["--out", "."], "--out . is a directory"),
])
def test_bad_arguments_are_usage_errors(args, says, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["bench", *args])
    assert exc.value.code == 2 and says in capsys.readouterr().err


@pytest.mark.parametrize("preset, says", [("2a-rtrl-p4-lr1", "is one of the paper's competitors"),
                                          ("1-6", "is not a preset")])
def test_a_preset_bench_cannot_time_is_refused(preset, says, capsys):
    assert main(["bench", "--preset", preset]) == 2
    err = capsys.readouterr().err
    assert says in err and "online-lstm list shows the presets" in err


def test_per_call_ns_times_each_call_and_resets_untimed():
    calls = []

    def step(x, y):
        calls.append(x)

    xs = list(range(CHUNK))
    d = per_call_ns(step, xs, xs, 3 * CHUNK + 7)  # whole chunks only
    assert d.shape == (3 * CHUNK,) and (d >= 0).all()
    assert calls.count(None) == 3 and calls[1:CHUNK + 1] == xs  # a reset, then the chunk's inputs


def test_run_refuses_too_few_calls():
    with pytest.raises(ValueError, match="calls must be an integer >= 100"):
        run(OnlineLSTM(1, 1), calls=99)
    with pytest.raises(ValueError, match="calls must be an integer"):
        run(OnlineLSTM(1, 1), calls=True)
    assert np.isfinite(run(OnlineLSTM(1, 1), calls=CHUNK)["p50_ns"]).all()
