"""The truncated gradient against finite differences (spec §3.9).

* On a replayed trajectory (previous activations feeding net inputs held at
  their recorded values) the truncated gradient is the exact gradient, for
  every weight.
* Where the truncation cuts nothing it equals the gradient of the real loss:
  output weights, a single step after reset, and B connectivity (hidden units
  read only the inputs).
* Directional derivatives along random directions, as River's GLM tests do.
"""

import numpy as np
import pytest

from online_lstm import OnlineLSTM

from conftest import ALL_ARCHS, ARCHS, random_stream
from reference import loss, numeric_gradient, record_trajectory

FD_RTOL = 1e-6
FD_ATOL = 1e-8


def make(name, seed):
    return OnlineLSTM(**dict(ALL_ARCHS[name], init_range=0.7, lr=0.1, seed=seed))


def stream(m, seed, T=25):
    rng = np.random.default_rng(seed)
    X, Y, resets = random_stream(rng, T, m.layout.n_in, m.layout.n_out, p_reset=0.1, p_nan=0.2)
    return X, Y, resets


@pytest.mark.parametrize("name", list(ALL_ARCHS))
def test_truncated_gradient_equals_fd_on_replayed_trajectory(name, seed):
    # the replay holds the previous activations, and the states the
    # peepholes read, at their recorded values; the CEC path s(t-1) -> s(t),
    # through the forget gate if any, stays live (spec §3.9, §7)
    m = make(name, seed)
    X, Y, resets = stream(m, seed)
    w = m.get_weights()
    replay = record_trajectory(m.layout, w, X, resets)
    num = numeric_gradient(m.layout, w, X, Y, resets, replay=replay)
    grad = m.gradient(X, Y, resets)
    for k in w:
        np.testing.assert_allclose(grad[k], num[k], rtol=FD_RTOL, atol=FD_ATOL, err_msg=k)
        assert np.abs(grad[k]).max() > 1e-6, k  # every kind of weight has a gradient to check


@pytest.mark.parametrize("name", list(ARCHS))
def test_output_weights_gradient_is_exact(name, seed):
    m = make(name, seed)
    X, Y, resets = stream(m, seed + 1)
    w = m.get_weights()
    names = [n for n in ("W_k", "b_k") if n in w]
    num = numeric_gradient(m.layout, w, X, Y, resets, names=names)  # the real loss
    grad = m.gradient(X, Y, resets)
    for k in names:
        np.testing.assert_allclose(grad[k], num[k], rtol=FD_RTOL, atol=FD_ATOL, err_msg=k)


@pytest.mark.parametrize("name", list(ARCHS))
def test_first_step_gradient_is_exact(name, seed):
    m = make(name, seed)
    X, Y, _ = stream(m, seed + 2, T=1)
    Y[:] = np.where(np.isnan(Y), 0.7, Y)
    w = m.get_weights()
    num = numeric_gradient(m.layout, w, X, Y)
    grad = m.gradient(X, Y)
    for k in w:
        np.testing.assert_allclose(grad[k], num[k], rtol=FD_RTOL, atol=FD_ATOL, err_msg=k)


@pytest.mark.parametrize("name", [n for n, a in ARCHS.items() if a.get("connectivity") == "B"])
def test_b_connectivity_gradient_is_exact_over_whole_sequence(name, seed):
    # hidden units read the inputs only: the CEC is the only recurrence, so
    # truncation cuts nothing (this is why Exp. 2a/2b learn with it exactly)
    m = make(name, seed)
    X, Y, _ = stream(m, seed + 3, T=40)
    w = m.get_weights()
    num = numeric_gradient(m.layout, w, X, Y)
    grad = m.gradient(X, Y)
    for k in w:
        np.testing.assert_allclose(grad[k], num[k], rtol=FD_RTOL, atol=FD_ATOL, err_msg=k)


def test_truncation_is_visible_in_f_connectivity():
    # the real gradient differs from the truncated one (the test above is not vacuous)
    m = make("F-og-all-S3", 0)
    X, Y, _ = stream(m, 9, T=30)
    w = m.get_weights()
    num = numeric_gradient(m.layout, w, X, Y, names=["W_in"])
    grad = m.gradient(X, Y)
    assert not np.allclose(grad["W_in"], num["W_in"], rtol=1e-3, atol=1e-6)


@pytest.mark.parametrize("name", ["F-og-hidden-S2", "F-og-all-S3", "F-og-hidden-S2+fg+ph"])
def test_directional_derivative_random_directions(name, seed):
    m = make(name, seed)
    X, Y, resets = stream(m, seed + 4, T=30)
    w = m.get_weights()
    replay = record_trajectory(m.layout, w, X, resets)
    grad = m.gradient(X, Y, resets)
    rng = np.random.default_rng(seed)
    eps = 1e-6
    for _ in range(5):
        d = {k: rng.normal(size=v.shape) for k, v in w.items()}
        wp = {k: w[k] + eps * d[k] for k in w}
        wm = {k: w[k] - eps * d[k] for k in w}
        fd = (loss(m.layout, wp, X, Y, resets, replay) - loss(m.layout, wm, X, Y, resets, replay)) / (2 * eps)
        an = sum(np.sum(grad[k] * d[k]) for k in w)
        assert an == pytest.approx(fd, rel=1e-6, abs=1e-9)


def test_gradient_equals_accumulated_update_over_lr(seed):
    # -lr * gradient == the update the paper's rule makes over the sequence
    m = make("F-og-all-S3", seed)
    X, Y, _ = stream(m, seed + 5, T=40)
    grad = m.gradient(X, Y)
    acc = OnlineLSTM(**dict(ARCHS["F-og-all-S3"], init_range=0.7, lr=0.1, seed=seed, update="sequence"))
    before = acc.get_weights()
    acc.learn_many(X, Y)
    acc.reset()
    after = acc.get_weights()
    for k in grad:
        np.testing.assert_allclose(after[k] - before[k], -0.1 * grad[k], rtol=1e-9, atol=1e-13)


def test_gradient_leaves_learner_untouched():
    m = make("F-og-gates-S1", 0)
    X, Y, _ = stream(m, 0)
    m.learn_many(X[:5], Y[:5])
    before = m.state_arrays()
    m.gradient(X, Y)
    m.gradient(X, Y, from_current_state=True)
    after = m.state_arrays()
    for k in before:
        assert np.array_equal(before[k], after[k]), k


def test_gradient_starts_from_a_reset_state_whatever_the_learner_did_before():
    """gradient() is the truncated gradient of the given sequence from a
    reset, with the weights held fixed: a learner that has run steps (with
    lr 0, so its weights are the fresh ones) gives the same bits."""
    rng = np.random.default_rng(0)
    X, Y = rng.uniform(-1, 1, (5, 2)), rng.uniform(0, 1, (5, 1))
    fresh = OnlineLSTM(2, 1, n_blocks=2, seed=3)
    used = OnlineLSTM(2, 1, n_blocks=2, seed=3, lr=0.0)
    used.predict_many(rng.uniform(-1, 1, (7, 2)))  # states and traces no longer zero
    g0, g1 = fresh.gradient(X, Y), used.gradient(X, Y)
    assert all(np.array_equal(g0[k], g1[k]) for k in g0)
