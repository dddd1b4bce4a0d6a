"""The peers of ``benchmarks/bench_peers.py`` compute our step before they are
timed; each test skips when its peer (an optional extra) is not installed."""

import pathlib
import sys

import numpy as np
import pytest

from online_lstm import OnlineLSTM

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "benchmarks"))

from bench_step import workload  # noqa: E402


def setup(T=60):
    rng = np.random.default_rng(0)
    make = lambda: OnlineLSTM(3, 2, 2, 2, bias="all", init_range=0.5, lr=0.5, seed=0)  # noqa: E731
    X, Y, resets = workload(rng, T, 3, 2)
    resets[[0, 30]] = [False, True]
    ref = make()
    expected = []
    for t in range(T):
        if resets[t]:
            ref.reset()
        expected.append(ref.learn_one(X[t], Y[t]))
    return make, X, Y, resets, np.array(expected)


def test_numpy_peer_computes_our_step():
    from numpy_step import NumpyLSTM

    make, X, Y, resets, expected = setup()
    p = NumpyLSTM(make())
    outs = []
    for t in range(len(X)):
        if resets[t]:
            p.reset()
        outs.append(p.learn_one(X[t], Y[t]).copy())
    np.testing.assert_allclose(outs, expected, rtol=1e-9, atol=1e-12)


def test_torch_peer_computes_our_step():
    torch = pytest.importorskip("torch")
    from peers import TorchLSTMCellOnline, TorchTruncatedLSTM

    make, X, Y, resets, expected = setup()
    p = TorchTruncatedLSTM(make())
    outs = []
    with torch.no_grad():
        for t in range(len(X)):
            if resets[t]:
                p.reset()
            outs.append(p.learn_one(torch.tensor(X[t]), torch.tensor(Y[t])).numpy().copy())
    np.testing.assert_allclose(outs, expected, rtol=1e-9, atol=1e-12)
    cell = TorchLSTMCellOnline(3, 4, 2)  # the typical step runs and learns
    before = [q.detach().clone() for q in cell.cell.parameters()]
    cell.learn_one(torch.ones(1, 3), torch.zeros(1, 2))
    assert any(not torch.equal(a, b) for a, b in zip(before, cell.cell.parameters()))


def test_jax_peer_computes_our_step():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    from peers import jax_truncated

    make, X, Y, resets, expected = setup()
    carry, step = jax_truncated(make())
    R = resets.astype(np.float64)
    _, outs = jax.jit(lambda c, xs: jax.lax.scan(step, c, xs))(carry, (X, Y, R))
    np.testing.assert_allclose(np.asarray(outs), expected, rtol=1e-9, atol=1e-12)
    jstep = jax.jit(step)
    for t in range(5):
        carry, yk = jstep(carry, (X[t], Y[t], R[t]))
        np.testing.assert_allclose(np.asarray(yk), expected[t], rtol=1e-9, atol=1e-12)


def test_bench_step_marginal_cost_leaves_out_the_fixed_part():
    import pandas as pd

    from bench_step import marginal

    W = [447, 1840, 5712, 19600]
    rows = [{"size": s, "n_params": w, "path": "learn_many", "ns_per_step": 900.0 + 0.5 * w}
            for s, w in zip(["reber", "1.6k", "5k", "19k"], W)]
    rows += [{"size": "reber one-hot", "n_params": 447, "path": "learn_many", "ns_per_step": 1.0},
             {"size": "1.6k", "n_params": 1840, "path": "learn_one", "ns_per_step": 1e6}]
    m = marginal(pd.DataFrame(rows).sample(frac=1.0, random_state=0))  # any row order
    assert list(m["from"]) == ["reber", "1.6k", "5k"] and list(m["to"]) == ["1.6k", "5k", "19k"]
    np.testing.assert_allclose(m["ns_per_added_weight_step"], 0.5)
    assert list(m["added_weights"]) == [1393, 3872, 13888]
