"""Second audit of the competitors (RTRL, truncated BPTT), against an
independent slow NumPy reference written here (named weight matrices, the
complex-step derivative, which is exact to rounding):

* RTRL's accumulated online gradient (weights fixed) at several steps equals
  the derivative of the loss of the sequence so far, with resets and NaN
  targets, fully recurrent and layered, with and without biases;
* BPTT(window=None) equals it too; BPTT(window=h) equals the derivative of
  the loss in which the state before the last h steps is held fixed, and a
  hand computation for a one-unit net with h = 1, 2;
* update="step" against a hand-written RTRL / BPTT(h) with changing weights;
  update="sequence" applies -lr * gradient at the reset;
* the time convention (which activations a unit reads at step t);
* weight counts (Tables 1 and 2), names and shapes of the weights;
* predict_one + learn_last == learn_one; bad input and divergence leave the
  state bit-identical; presets against the paper's rows.
"""

import numpy as np
import pytest

from online_lstm import DivergenceError, InputError, NoPendingStepError
from online_lstm.baselines import BPTT, RTRL
from online_lstm.baselines.network import Network, weight_count

H_CS = 1e-30  # complex step


def f(x):
    return 1.0 / (1.0 + np.exp(-x))


# ---------------------------------------------------------------------------
# independent reference: named matrices
# ---------------------------------------------------------------------------
def ref_step(wd, arch, x, prev, H):
    """One step: all unit activations (hidden then outputs) from prev (n,)."""
    if arch == "fully_recurrent":
        net = wd["W_x"] @ x + wd["W_y"] @ prev
        if "b" in wd:
            net = net + wd["b"]
        return f(net)
    h = wd["W_hx"] @ x + wd["W_hh"] @ prev[:H]
    if "b_h" in wd:
        h = h + wd["b_h"]
    h = f(h)
    k = wd["W_kx"] @ x + wd["W_kh"] @ h
    if "b_k" in wd:
        k = k + wd["b_k"]
    return np.concatenate([h, f(k)])


def ref_run(wd, arch, X, resets, H, n, prev=None):
    """Activations (T, n); resets[t]: activations zeroed before row t."""
    dtype = np.result_type(*wd.values())
    y = np.zeros(n, dtype) if prev is None else prev.astype(dtype)
    out = []
    for t in range(len(X)):
        if resets is not None and resets[t]:
            y = np.zeros(n, dtype)
        y = ref_step(wd, arch, X[t], y, H)
        out.append(y)
    return np.array(out)


def seq_starts(resets, T):
    start, s = [], 0
    for t in range(T):
        if resets is not None and resets[t]:
            s = t
        start.append(s)
    return start


def ref_loss(wd, wd0, arch, X, Y, resets, H, n, K, window=None, prev=None):
    """Sum over steps t with targets of E(t), where the steps before
    max(sequence start, t - window + 1) run with the fixed weights wd0 and the
    later ones with wd (window None: all steps of the sequence with wd)."""
    T = len(X)
    starts = seq_starts(resets, T)
    act0 = ref_run(wd0, arch, X, resets, H, n, prev)
    E = 0.0
    for t in range(T):
        m = ~np.isnan(Y[t])
        if not m.any():
            continue
        s0 = starts[t] if window is None else max(starts[t], t - window + 1)
        if s0 > starts[t]:
            y = act0[s0 - 1]
        elif s0 == 0 and prev is not None and (resets is None or not resets[0]):
            y = prev
        else:
            y = np.zeros(n)
        y = y.astype(complex)
        for tau in range(s0, t + 1):
            y = ref_step(wd, arch, X[tau], y, H)
        e = Y[t][m] - y[n - K:][m]
        E = E + 0.5 * np.sum(e * e)
    return E


def cs_gradient(wd0, arch, X, Y, resets, H, n, K, window=None, prev=None):
    """dE/dw by the complex step, by name."""
    g = {}
    for name, w in wd0.items():
        gw = np.zeros(w.shape)
        for idx in np.ndindex(w.shape):
            wd = {k: v.astype(complex) for k, v in wd0.items()}
            wd[name][idx] += 1j * H_CS
            gw[idx] = ref_loss(wd, wd0, arch, X, Y, resets, H, n, K, window, prev).imag / H_CS
        g[name] = gw
    return g


NETS = {
    "fr-bias": dict(n_in=3, n_out=2, n_hidden=2, architecture="fully_recurrent", bias=True),
    "fr-nobias": dict(n_in=2, n_out=2, n_hidden=1, architecture="fully_recurrent", bias=False),
    "fr-outputs-only": dict(n_in=2, n_out=3, n_hidden=0, architecture="fully_recurrent", bias=True),
    "layered-bias": dict(n_in=3, n_out=3, n_hidden=2, architecture="layered", bias=True),
    "layered-2a": dict(n_in=4, n_out=4, n_hidden=1, architecture="layered", bias=False),
}


def data(kw, T, seed, nan_frac=0.3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(T, kw["n_in"]))
    if kw["n_in"] == 4:  # one-hot inputs, as in Task 2a (zero sources are skipped by the kernels)
        X = np.eye(4)[rng.integers(0, 4, T)]
    Y = rng.uniform(size=(T, kw["n_out"]))
    Y[rng.uniform(size=Y.shape) < nan_frac] = np.nan
    Y[2] = np.nan  # a step with no target at all
    resets = np.zeros(T, bool)
    resets[[t for t in (5, 9) if t < T]] = True
    return X, Y, resets


def sizes(kw):
    H, K = kw["n_hidden"], kw["n_out"]
    return H, H + K, K


def close(a, b, tol=1e-9):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=tol, atol=1e-12, err_msg=k)


def bigger_weights(learner, seed):
    rng = np.random.default_rng(seed)
    learner.set_weights({k: rng.uniform(-1.5, 1.5, v.shape) for k, v in learner.get_weights().items()})
    return learner.get_weights()


# ---------------------------------------------------------------------------
# gradients with the weights fixed
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", NETS)
def test_rtrl_and_full_bptt_gradient_is_the_exact_gradient_of_the_loss_so_far(name):
    kw = NETS[name]
    H, n, K = sizes(kw)
    X, Y, resets = data(kw, 13, seed=1)
    r = RTRL(**kw, seed=3)
    wd0 = bigger_weights(r, 4)
    b = BPTT(**kw, window=None, seed=5)
    b.set_weights(wd0)
    for T in (1, 4, 7, 13):  # several steps; the sequence so far, resets inside
        ref = cs_gradient(wd0, kw["architecture"], X[:T], Y[:T], resets[:T], H, n, K)
        close(r.gradient(X[:T], Y[:T], resets[:T]), ref)
        close(b.gradient(X[:T], Y[:T], resets[:T]), ref)
    # a window as long as the sequence is the full gradient
    b13 = BPTT(**kw, window=13, seed=0)
    b13.set_weights(wd0)
    close(b13.gradient(X, Y, resets), ref)


@pytest.mark.parametrize("kind", ["RTRL", "BPTT"])
def test_gradient_changes_nothing_and_bad_input_to_it_is_refused(kind):
    kw = NETS["fr-bias"]
    X, Y, resets = data(kw, 9, seed=15)
    L = RTRL(**kw, seed=0) if kind == "RTRL" else BPTT(**kw, window=None, seed=0)
    L.learn_many(X[:4], Y[:4])
    L.predict_one(X[4])
    before = bits(L)
    g1 = L.gradient(X, Y, resets)
    g2 = L.gradient(X, Y, resets, from_current_state=True)
    assert bits(L) == before
    assert any(not np.array_equal(g1[k], g2[k]) for k in g1)
    Xb = X.copy()
    Xb[7, 1] = np.nan
    with pytest.raises(InputError):
        L.gradient(Xb, Y, resets)
    with pytest.raises(InputError):
        L.gradient(X, Y[:-1], resets)
    assert bits(L) == before


@pytest.mark.parametrize("name", ["fr-bias", "layered-bias"])
@pytest.mark.parametrize("kind", ["RTRL", "BPTT"])
def test_online_accumulated_update_is_minus_lr_times_the_gradient_at_every_step(name, kind):
    """update="sequence" (weights fixed within the sequence): after every step
    dW is -lr * dE(so far)/dw, learned step by step with learn_one."""
    kw = NETS[name]
    H, n, K = sizes(kw)
    X, Y, _ = data(kw, 8, seed=7)
    lr = 0.7
    L = (RTRL if kind == "RTRL" else BPTT)(**kw, lr=lr, update="sequence", seed=2)
    wd0 = bigger_weights(L, 9)
    idx = L.network.weight_index
    for t in range(8):
        L.learn_one(X[t], Y[t])
        ref = cs_gradient(wd0, kw["architecture"], X[:t + 1], Y[:t + 1], None, H, n, K)
        dW = L.state_arrays()["dW"]
        close({k: dW[i] for k, i in idx.items()}, {k: -lr * v for k, v in ref.items()})
        close(L.get_weights(), wd0, tol=0)  # not applied before the reset
    before = L.state_arrays()["dW"].copy()
    L.reset()
    theta = L.state_arrays()["theta"]
    th0 = np.zeros(L.n_params)
    for k, i in idx.items():
        th0[i] = wd0[k]
    np.testing.assert_allclose(theta, th0 + before, rtol=0, atol=1e-15)
    assert not L.state_arrays()["dW"].any()


@pytest.mark.parametrize("name", ["fr-bias", "fr-nobias", "layered-bias", "layered-2a"])
@pytest.mark.parametrize("window", [1, 2, 3])
def test_truncated_bptt_holds_the_state_before_the_window_fixed(name, window):
    kw = NETS[name]
    H, n, K = sizes(kw)
    X, Y, resets = data(kw, 11, seed=11)
    b = BPTT(**kw, window=window, seed=1)
    wd0 = bigger_weights(b, 12)
    ref = cs_gradient(wd0, kw["architecture"], X, Y, resets, H, n, K, window=window)
    close(b.gradient(X, Y, resets), ref)
    full = cs_gradient(wd0, kw["architecture"], X, Y, resets, H, n, K)
    if kw["n_hidden"] or kw["architecture"] == "fully_recurrent":  # the cut matters
        assert any(not np.allclose(full[k], ref[k]) for k in ref)


def test_truncated_bptt_by_hand_one_unit():
    """y(t) = f(a x(t) + w y(t-1)), one output unit, no bias, error every step.
    h=1: dE_t/da ~ delta_t x_t, dE_t/dw ~ delta_t y(t-1); h=2 adds
    delta_{t-1} = f'(t-1) w delta_t times x_{t-1}, y(t-2)."""
    a, w = 0.8, -1.3
    x = np.array([0.5, -1.0, 2.0, 0.3])
    d = np.array([0.2, 0.9, 0.1, 0.6])
    y = np.zeros(5)  # y[0] = y(-1) = 0
    for t in range(4):
        y[t + 1] = f(a * x[t] + w * y[t])
    fp = y[1:] * (1 - y[1:])
    for h in (1, 2):
        ga = gw = 0.0
        for t in range(4):
            delta = fp[t] * (d[t] - y[t + 1])
            for s in range(min(h, t + 1)):
                ga += delta * x[t - s]
                gw += delta * y[t - s]  # y(t-s-1)
                delta = fp[t - s - 1] * w * delta if t - s - 1 >= 0 else 0.0
        b = BPTT(1, 1, 0, bias=False, window=h)
        b.set_weights(W_x=[[a]], W_y=[[w]])
        g = b.gradient(x[:, None], d[:, None])
        np.testing.assert_allclose(g["W_x"][0, 0], -ga, rtol=1e-13)
        np.testing.assert_allclose(g["W_y"][0, 0], -gw, rtol=1e-13)
        if h == 1:  # the self-weight's gradient of a window of 1: y(t-1) only
            assert np.isclose(-g["W_y"][0, 0], np.sum(fp * (d - y[1:]) * y[:-1]))


@pytest.mark.parametrize("kind", ["RTRL", "BPTT"])
def test_gradient_from_current_state_includes_the_past_of_the_sequence(kind):
    kw = NETS["layered-bias"]
    H, n, K = sizes(kw)
    X, Y, _ = data(kw, 10, seed=21)
    L = (RTRL(**kw, seed=0) if kind == "RTRL" else BPTT(**kw, window=None, seed=0))
    wd0 = bigger_weights(L, 22)
    L.predict_many(X[:6])
    Yp = Y.copy()
    Yp[:6] = np.nan
    ref = cs_gradient(wd0, kw["architecture"], X, Yp, None, H, n, K)
    close(L.gradient(X[6:], Y[6:], from_current_state=True), ref)


# ---------------------------------------------------------------------------
# weights changing every step: hand-written RTRL and BPTT(h), fully recurrent
# ---------------------------------------------------------------------------
def W_all(wd, m, n):
    cols = [wd["W_x"]] + ([wd["b"][:, None]] if "b" in wd else []) + [wd["W_y"]]
    return np.concatenate(cols, axis=1)


def split(W, m, bias):
    d = {"W_x": W[:, :m].copy(), "W_y": W[:, m + int(bias):].copy()}
    if bias:
        d["b"] = W[:, m].copy()
    return d


def online_reference(kind, wd, m, n, K, X, Y, resets, lr, window=None):
    bias = "b" in wd
    W = W_all(wd, m, n)
    S = W.shape[1]
    outs = []
    for t in range(len(X)):
        if t == 0 or resets[t]:
            y = np.zeros(n)
            p = np.zeros((n, n, S))
            hist = []
        z = np.concatenate([X[t], [1.0] if bias else [], y])
        ynew = f(W @ z)
        fp = ynew * (1 - ynew)
        e = np.zeros(n)
        tg = ~np.isnan(Y[t])
        e[n - K:][tg] = (Y[t] - ynew[n - K:])[tg]
        hist.append((z, fp))
        if kind == "RTRL":
            Wy = W[:, S - n:]
            pn = np.einsum("kl,lij->kij", Wy, p)
            for k in range(n):
                pn[k, k, :] += z
            p = fp[:, None, None] * pn
            g = np.einsum("k,kij->ij", e, p)
        else:
            g = np.zeros_like(W)
            ey = e
            depth = len(hist) if window is None else min(window, len(hist))
            for s in range(depth):
                zz, ff = hist[-1 - s]
                delta = ff * ey
                g += np.outer(delta, zz)
                ey = W[:, S - n:].T @ delta
        outs.append(ynew[n - K:])
        if tg.any():
            W = W + lr * g
        y = ynew
    return np.array(outs), split(W, m, bias)


@pytest.mark.parametrize("kind,window", [("RTRL", None), ("BPTT", None), ("BPTT", 1), ("BPTT", 3)])
@pytest.mark.parametrize("name", ["fr-bias", "fr-nobias"])
def test_update_step_changes_the_weights_after_every_step_as_the_algorithm_says(kind, window, name):
    kw = NETS[name]
    H, n, K = sizes(kw)
    X, Y, resets = data(kw, 14, seed=31)
    lr = 0.9
    L = RTRL(**kw, lr=lr, seed=1) if kind == "RTRL" else BPTT(**kw, lr=lr, window=window, seed=1)
    wd0 = bigger_weights(L, 32)
    out_ref, wd_ref = online_reference(kind, wd0, kw["n_in"], n, K, X, Y, resets, lr, window)
    out = L.learn_many(X, Y, resets)
    np.testing.assert_allclose(out, out_ref, rtol=1e-12, atol=1e-14)
    close(L.get_weights(), wd_ref, tol=1e-11)
    assert L.n_updates_ == int((~np.isnan(Y)).any(axis=1).sum())


def flat(wd):
    return np.concatenate([wd[k].ravel() for k in sorted(wd)])


def unflat(v, like):
    out, i = {}, 0
    for k in sorted(like):
        size = like[k].size
        out[k] = v[i:i + size].reshape(like[k].shape)
        i += size
    return out


def jacobians(wd, arch, x, prev, H):
    """d y(t) / d theta (n, W) and d y(t) / d y(t-1) (n, n) by the complex step."""
    th = flat(wd).astype(complex)
    n = prev.shape[0]
    Jt = np.zeros((n, th.size))
    for i in range(th.size):
        v = th.copy()
        v[i] += 1j * H_CS
        Jt[:, i] = ref_step(unflat(v, wd), arch, x, prev.astype(complex), H).imag / H_CS
    Jy = np.zeros((n, n))
    for j in range(n):
        pv = prev.astype(complex)
        pv[j] += 1j * H_CS
        Jy[:, j] = ref_step(wd, arch, x, pv, H).imag / H_CS
    return Jt, Jy


def layered_online_reference(kind, wd, H, K, X, Y, resets, lr, window=None):
    """RTRL: p(t) = dy/dtheta + dy/dy(t-1) p(t-1) (Jacobians at the weights of
    step t, p(t-1) from earlier weights); BPTT(h): the stored activations, the
    current weights, by hand."""
    n = H + K
    outs = []
    for t in range(len(X)):
        if t == 0 or resets[t]:
            y = np.zeros(n)
            p = np.zeros((n, flat(wd).size))
            hist = []
        ynew = ref_step(wd, "layered", X[t], y, H)
        tg = ~np.isnan(Y[t])
        e = np.where(tg, Y[t] - ynew[H:], 0.0)
        hist.append((X[t], y, ynew))
        if kind == "RTRL":
            Jt, Jy = jacobians(wd, "layered", X[t], y, H)
            p = Jt + Jy @ p
            g = unflat(e @ p[H:], wd)
        else:
            g = {k: np.zeros_like(v) for k, v in wd.items()}
            carry = np.zeros(H)
            depth = len(hist) if window is None else min(window, len(hist))
            for s in range(depth):
                x, hp, yy = hist[-1 - s]
                h, k = yy[:H], yy[H:]
                dk = k * (1 - k) * (e if s == 0 else 0.0)
                g["W_kx"] += np.outer(dk, x)
                g["W_kh"] += np.outer(dk, h)
                dh = h * (1 - h) * (wd["W_kh"].T @ dk + carry)
                g["W_hx"] += np.outer(dh, x)
                g["W_hh"] += np.outer(dh, hp[:H])
                if "b_h" in g:
                    g["b_h"] += dh
                    g["b_k"] += dk
                carry = wd["W_hh"].T @ dh
        outs.append(ynew[H:])
        if tg.any():
            wd = {k: wd[k] + lr * g[k] for k in wd}
        y = ynew
    return np.array(outs), wd


@pytest.mark.parametrize("kind,window", [("RTRL", None), ("BPTT", None), ("BPTT", 1), ("BPTT", 2)])
@pytest.mark.parametrize("name", ["layered-bias", "layered-2a"])
def test_update_step_on_the_layered_net(kind, window, name):
    kw = NETS[name]
    H, n, K = sizes(kw)
    X, Y, resets = data(kw, 12, seed=35)
    lr = 1.3
    L = RTRL(**kw, lr=lr, seed=1) if kind == "RTRL" else BPTT(**kw, lr=lr, window=window, seed=1)
    wd0 = bigger_weights(L, 36)
    out_ref, wd_ref = layered_online_reference(kind, wd0, H, K, X, Y, resets, lr, window)
    np.testing.assert_allclose(L.learn_many(X, Y, resets), out_ref, rtol=1e-12, atol=1e-14)
    close(L.get_weights(), wd_ref, tol=1e-11)


def test_update_sequence_applies_minus_lr_gradient_at_each_reset():
    kw = NETS["layered-bias"]
    X, Y, resets = data(kw, 12, seed=41)
    for cls, extra in ((RTRL, {}), (BPTT, {"window": None}), (BPTT, {"window": 2})):
        L = cls(**kw, lr=0.5, update="sequence", seed=4, **extra)
        G = cls(**kw, seed=4, **extra)
        wd = bigger_weights(L, 42)
        for a, bnd in ((0, 5), (5, 9)):
            G.set_weights(wd)
            g = G.gradient(X[a:bnd], Y[a:bnd])
            wd = {k: wd[k] - 0.5 * g[k] for k in wd}
        L.learn_many(X[:9], Y[:9], resets[:9])  # the reset at row 9 is not reached
        L.reset()
        close(L.get_weights(), wd, tol=1e-13)


# ---------------------------------------------------------------------------
# time convention
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", NETS)
def test_outputs_follow_the_time_convention(name):
    kw = NETS[name]
    H, n, K = sizes(kw)
    X, _, resets = data(kw, 12, seed=51)
    L = RTRL(**kw, seed=0)
    wd = bigger_weights(L, 52)
    ref = ref_run(wd, kw["architecture"], X, resets, H, n)[:, n - K:]
    np.testing.assert_allclose(L.predict_many(X, resets), ref, rtol=1e-13, atol=0)
    B = BPTT(**kw, window=2, seed=0)
    B.set_weights(wd)
    np.testing.assert_allclose(B.predict_many(X, resets), ref, rtol=1e-13, atol=0)


def test_which_activations_a_unit_reads():
    x = np.array([[1.0, -0.5], [0.3, 0.7]])
    # fully recurrent: every unit reads y(t-1); at a sequence start y(t-1) = 0
    L = RTRL(2, 2, 1, bias=False, seed=0)
    o1 = L.predict_many(x)
    L2 = RTRL(2, 2, 1, bias=False, seed=0)
    W = L2.get_weights()["W_y"]
    L2.set_weights(W_y=W + 1.0)
    o2 = L2.predict_many(x)
    np.testing.assert_array_equal(o1[0], o2[0])
    assert not np.allclose(o1[1], o2[1])
    # layered: outputs read the hidden unit of the same step, hidden reads h(t-1)
    L = RTRL(2, 2, 1, architecture="layered", bias=False, seed=0)
    o1 = L.predict_many(x)
    L.reset()
    L.set_weights(W_kh=L.get_weights()["W_kh"] + 1.0)
    assert not np.allclose(o1[0], L.predict_many(x)[0])
    L = RTRL(2, 2, 1, architecture="layered", bias=False, seed=0)
    L.set_weights(W_hh=L.get_weights()["W_hh"] + 1.0)
    o3 = L.predict_many(x)
    np.testing.assert_array_equal(o1[0], o3[0])
    assert not np.allclose(o1[1], o3[1])


# ---------------------------------------------------------------------------
# weight counts, names and shapes
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("p,count", [(4, 36), (10, 144), (100, 10404)])
def test_table2_weight_counts(p, count):
    for cls in (RTRL, BPTT):
        L = cls(p + 1, p + 1, 1, architecture="layered", bias=False, init_range=0.2)
        assert L.n_params == count == (p + 2) ** 2
    assert weight_count(p + 1, p + 1, 1, "layered", False) == count


@pytest.mark.parametrize("hidden,count", [(3, 170), (12, 494)])
def test_table1_weight_counts(hidden, count):
    assert RTRL(7, 7, hidden, bias=False).n_params == count


@pytest.mark.parametrize("name", NETS)
def test_weight_names_and_shapes_are_the_documented_ones(name):
    kw = NETS[name]
    m, K, H = kw["n_in"], kw["n_out"], kw["n_hidden"]
    n = H + K
    if kw["architecture"] == "fully_recurrent":
        shapes = {"W_x": (n, m), "W_y": (n, n)} | ({"b": (n,)} if kw["bias"] else {})
    else:
        shapes = {"W_hx": (H, m), "W_hh": (H, H), "W_kx": (K, m), "W_kh": (K, H)}
        if kw["bias"]:
            shapes |= {"b_h": (H,), "b_k": (K,)}
    for L in (RTRL(**kw), BPTT(**kw, window=2)):
        w = L.get_weights()
        assert {k: v.shape for k, v in w.items()} == shapes
        assert L.n_params == sum(int(np.prod(s)) for s in shapes.values())
        assert L.n_params == Network(m, K, H, kw["architecture"], kw["bias"]).n_params
        # copies: writing to them changes nothing
        before = L.state_arrays()["theta"].copy()
        for v in w.values():
            v[...] = 7.0
        for v in L.weights.values():
            v[...] = 7.0
        np.testing.assert_array_equal(L.state_arrays()["theta"], before)
        # set_weights/get_weights round trip, one weight at a time lands where named
        for k, s in shapes.items():
            new = np.arange(np.prod(s), dtype=float).reshape(s) / 100
            L.set_weights(**{k: new})
            np.testing.assert_array_equal(L.get_weights()[k], new)
        with pytest.raises((InputError, ValueError, KeyError)):
            L.set_weights(nope=np.zeros(1))


# ---------------------------------------------------------------------------
# act now, learn later; bad input; divergence
# ---------------------------------------------------------------------------
LEARNERS = {
    "rtrl-step": (RTRL, dict(update="step")),
    "rtrl-seq": (RTRL, dict(update="sequence")),
    "bptt-none": (BPTT, dict(window=None)),
    "bptt-2": (BPTT, dict(window=2)),
    "bptt-1-seq": (BPTT, dict(window=1, update="sequence")),
}


def bits(L):
    return {k: v.tobytes() for k, v in L.state_arrays().items()}


@pytest.mark.parametrize("lname", LEARNERS)
@pytest.mark.parametrize("name", ["fr-bias", "layered-2a"])
def test_predict_one_then_learn_last_is_learn_one(lname, name):
    cls, extra = LEARNERS[lname]
    kw = NETS[name]
    X, Y, resets = data(kw, 10, seed=61)
    A = cls(**kw, lr=0.8, seed=6, **extra)
    B = cls(**kw, lr=0.8, seed=6, **extra)
    for t in range(10):
        if resets[t]:
            A.reset()
            B.reset()
        oa = A.learn_one(X[t], Y[t])
        if t % 2:
            ob = B.predict_one(X[t])
        else:
            ob = B.learn_one(X[t], None)
        np.testing.assert_array_equal(oa, ob)
        assert B.pending_
        B.learn_last(Y[t])
        if np.isnan(Y[t]).all():
            assert B.pending_  # an all-NaN target keeps the step pending
        else:
            assert not B.pending_
            with pytest.raises(NoPendingStepError):
                B.learn_last(Y[t])
        assert bits(A) == bits(B)
    A.reset()
    B.reset()
    assert bits(A) == bits(B)


def bad_calls(L, kw):
    m, K = kw["n_in"], kw["n_out"]
    x, y = np.zeros(m), np.zeros(K)
    xn = x.copy()
    xn[0] = np.nan
    yi = y.copy()
    yi[0] = np.inf
    X = np.zeros((4, m))
    Xb = X.copy()
    Xb[2, 0] = np.inf
    Yb = np.zeros((4, K))
    Yb[3, 0] = -np.inf
    return [
        lambda: L.learn_one(xn, y), lambda: L.predict_one(xn), lambda: L.learn_one(x, yi),
        lambda: L.learn_one(np.zeros(m + 1), y), lambda: L.learn_one(x, np.zeros(K + 1)),
        lambda: L.learn_one(x, y, out=np.zeros(K + 1)), lambda: L.learn_many(Xb, np.zeros((4, K))),
        lambda: L.learn_many(X, Yb), lambda: L.learn_many(X, np.zeros((4, K)), np.zeros(3, bool)),
        lambda: L.predict_many(Xb), lambda: L.learn_last(yi), lambda: L.learn_one([np.nan] * m, y),
        lambda: L.learn_many(np.zeros((4, m + 1)), np.zeros((4, K))),
        lambda: L.learn_many(X, np.zeros((3, K))), lambda: L.learn_one("x", y),
        lambda: L.predict_many(X, np.zeros(5, bool)), lambda: L.learn_one(x, y, out=np.zeros(K, int)),
    ]


@pytest.mark.parametrize("lname", LEARNERS)
def test_bad_input_leaves_the_state_bit_identical(lname):
    cls, extra = LEARNERS[lname]
    kw = NETS["fr-bias"]
    X, Y, _ = data(kw, 6, seed=71)
    L = cls(**kw, seed=7, **extra)
    T = cls(**kw, seed=7, **extra)
    for M in (L, T):
        M.learn_many(X[:4], Y[:4])
        M.predict_one(X[4])  # a pending step
    before = bits(L)
    for call in bad_calls(L, kw):
        with pytest.raises((InputError, ValueError)):
            call()
        assert bits(L) == before
    for M in (L, T):
        M.learn_last(Y[4])
        M.learn_one(X[5], Y[5])
    assert bits(L) == bits(T)


@pytest.mark.parametrize("lname", LEARNERS)
def test_a_refused_step_changes_nothing_even_for_a_pending_step(lname):
    cls, extra = LEARNERS[lname]
    kw = NETS["layered-bias"]
    X, Y, _ = data(kw, 8, seed=81)
    L = cls(**kw, lr=0.5, seed=8, **extra)
    T = cls(**kw, lr=0.5, seed=8, **extra)
    for M in (L, T):
        M.set_weights(W_hx=np.full((kw["n_hidden"], kw["n_in"]), 4.0))
        M.learn_many(X[:5], Y[:5])
        M.predict_one(X[5])
    before = bits(L)
    with pytest.raises(DivergenceError):  # a net input overflows
        L.predict_one(np.full(kw["n_in"], 1e308))
    assert bits(L) == before
    L.lr = 1e300
    with pytest.raises(DivergenceError):  # the update (or accumulated update) leaves the bound
        L.learn_one(X[6], np.zeros(kw["n_out"]))
    with pytest.raises(DivergenceError):
        L.learn_many(X[6:], np.zeros((2, kw["n_out"])))
    L.lr = 0.5
    assert bits(L) == before
    for M in (L, T):
        M.learn_last(Y[5])
        M.learn_many(X[6:], Y[6:])
        M.reset()
    assert bits(L) == bits(T)


# ---------------------------------------------------------------------------
# presets against the paper's rows (spec §5.1 Table 1, §5.2 Table 2)
# ---------------------------------------------------------------------------
def test_competitor_presets_match_tables_1_and_2():
    from online_lstm.presets import PRESETS
    comp = {k: v for k, v in PRESETS.items() if v.competitor is not None}
    table2 = {(4, 1.0): (78, 1_043_000), (4, 4.0): (56, 892_000), (4, 10.0): (22, 254_000)}
    seen = set()
    for pid, pr in comp.items():
        c = pr.competitor
        kw = c.kwargs
        row = pr.paper[0]
        if pr.experiment == "2":
            p = kw["n_in"] - 1
            assert pr.task_kwargs == {"p": p}
            assert (kw["n_out"], kw["n_hidden"], kw["architecture"], kw["bias"], kw["init_range"]) \
                == (p + 1, 1, "layered", False, 0.2)
            assert c.n_weights == {4: 36, 10: 144, 100: 10404}[p]
            assert pr.trials == 18 and pr.options["limit"] == 5_000_000
            assert kw["lr"] in (1.0, 4.0, 10.0)
            if c.method == "BPTT":
                assert p == 100 and row.success_pct == 0
            elif p == 4:
                assert (row.success_pct, row.mean_sequences) == table2[(p, kw["lr"])]
            else:
                assert p in (10, 100) and row.success_pct == 0 and row.mean_sequences is None
            seen.add((c.method, p, kw["lr"]))
        else:
            assert pr.experiment == "1" and c.method == "RTRL"
            h = kw["n_hidden"]
            assert (kw["n_in"], kw["n_out"], kw["architecture"], kw["bias"]) \
                == (7, 7, "fully_recurrent", False)
            assert {3: (0.05, 170, 173_000), 12: (0.1, 494, 25_000)}[h] \
                == (kw["lr"], c.n_weights, row.mean_sequences)
            seen.add((c.method, h, kw["lr"]))
        assert c.learner(seed=0).n_params == c.n_weights
    assert len(seen) == len(comp) == 9 + 3 + 2
