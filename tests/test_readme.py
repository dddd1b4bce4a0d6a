"""The README's Python examples run as written, in order, in one namespace."""

import pathlib
import re

import numpy as np

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


def test_readme_python_examples_run(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) >= 5, "the README lost its examples, or this test's pattern is stale"
    monkeypatch.chdir(tmp_path)  # the checkpoint example writes m.npz
    ns = {}
    for i, code in enumerate(blocks):
        exec(compile(code, f"README.md python block {i}", "exec"), ns)
    # what the examples promise
    assert (tmp_path / "m.npz").exists()
    assert ns["out"].shape == (1000, 7) and ns["outs"].shape == (1000, 50, 7)
    assert np.all(np.isfinite(ns["out"]))
    assert ns["bank"].get_weights()["W_k"].shape == (1000, 7, 8)
    assert ns["rtrl"].n_params == ns["bptt"].n_params == 10404  # Table 2, p = 100
    assert ns["m"].forget_gate  # the last OnlineLSTM example
