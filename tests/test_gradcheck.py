"""``online-lstm gradcheck`` and online_lstm.gradcheck: the truncated gradient
against central finite differences of the learner's own loss.  Where the
truncation cuts nothing (B connectivity without peepholes, or one step) the
two must agree; with F connectivity they must not (the truncation is real),
and a wrong gradient is caught."""

from __future__ import annotations

import numpy as np
import pytest

from online_lstm import OnlineLSTM
from online_lstm.cli import main
from online_lstm.gradcheck import compare, finite_differences, loss

from statecheck import same_state


def _data(seed, T, n_in, n_out, nan=0.0):
    rng = np.random.default_rng(seed)
    X, Y = rng.uniform(-1, 1, (T, n_in)), rng.uniform(0.1, 0.9, (T, n_out))
    Y[rng.random((T, n_out)) < nan] = np.nan
    return X, Y


@pytest.mark.parametrize("kw", [{}, dict(forget_gate=True), dict(output_gates=False, g="g1", h="id"),
                                dict(bias="none"), dict(update="sequence", max_delay=2)],
                         ids=lambda kw: ",".join(kw) or "1997")
def test_where_the_truncation_cuts_nothing_the_gradient_is_the_finite_differences(kw):
    m = OnlineLSTM(3, 2, 2, 2, connectivity="B", seed=1, **kw)
    X, Y = _data(0, 30, 3, 2, nan=0.5)
    before = m.state_arrays()
    df = compare(m, X, Y)
    assert same_state(m.state_arrays(), before)  # the learner is not changed
    assert list(df["weights"]) == list(m.layout.shapes) + ["all"]
    assert df["rel_diff"].max() < 1e-5 and df.iloc[-1]["n"] == m.n_params
    f = OnlineLSTM(3, 2, 2, 2, connectivity="F", seed=1, **kw)  # one step: nothing to cut either
    assert compare(f, X[:1], _data(1, 1, 3, 2)[1]).iloc[-1]["rel_diff"] < 1e-5


def test_with_f_connectivity_the_truncation_shows():
    m = OnlineLSTM(3, 2, 2, 2, connectivity="F", bias="all", seed=1)
    X, Y = _data(0, 20, 3, 2)
    total = compare(m, X, Y).iloc[-1]
    assert total["rel_diff"] > 1e-3 and 0.9 < total["cosine"] < 0.99999
    # the output weights see no recurrent path: exact even so
    out = compare(m, X, Y).set_index("weights").loc["W_k"]
    assert out["rel_diff"] < 1e-6


def test_finite_differences_of_a_hand_made_loss():
    """One step, one cell, every weight 0 but the output bias b: the cell input
    is g(0) = 0, so s_c = y_c = 0 and y = f(b); E = 1/2 (t - f(b))^2 and
    dE/db = -(t - f(b)) f(b) (1 - f(b)), worked out by hand."""
    m = OnlineLSTM(1, 1, 1, 1, bias="all", init_range=0.0, seed=0)
    m.set_weights(b_k=np.array([0.3]))
    X, Y = np.array([[0.5]]), np.array([[0.9]])
    f = 1.0 / (1.0 + np.exp(-0.3))
    assert loss(m, X, Y) == pytest.approx(0.5 * (0.9 - f) ** 2, rel=1e-12)
    fd = m.layout.weight_view(finite_differences(m, X, Y), "b_k")
    assert fd[0] == pytest.approx(-(0.9 - f) * f * (1 - f), rel=1e-7)


def test_the_command_agrees_where_it_must_and_catches_a_wrong_gradient(capsys, monkeypatch):
    assert main(["gradcheck", "--net", "2,1,2,1", "--connectivity", "B", "--steps", "15"]) == 0
    out = capsys.readouterr().out
    assert "connectivity B, no peepholes: the truncation cuts nothing here" in out and ": agree" in out
    real = OnlineLSTM.gradient
    monkeypatch.setattr(OnlineLSTM, "gradient",
                        lambda self, *a, **k: {n: 1.001 * g for n, g in real(self, *a, **k).items()})
    assert main(["gradcheck", "--net", "2,1,2,1", "--connectivity", "B", "--steps", "15"]) == 1
    assert "DISAGREE (tolerance 1e-05)" in capsys.readouterr().out


def test_the_command_reports_the_truncation_of_an_f_net(capsys):
    assert main(["gradcheck", "--preset", "1-5", "--steps", "10"]) == 0
    out = capsys.readouterr().out
    assert "preset 1-5 (Table 10 row 1-5)" in out and "276 weights" in out
    assert "the truncated gradient is not the full gradient of E" in out


@pytest.mark.parametrize("args, says", [
    (["--steps", "0"], "argument --steps: expected an integer in [1, 10,000]"),
    (["--eps", "0"], "argument --eps: expected a step > 0"),
    (["--eps", "nan"], "argument --eps: expected a step > 0"),
    (["--tolerance", "-1"], "argument --tolerance: expected a relative difference >= 0"),
    (["--connectivity", "C"], "argument --connectivity: invalid choice"),
])
def test_bad_arguments_are_usage_errors(args, says, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["gradcheck", *args])
    assert exc.value.code == 2 and says in capsys.readouterr().err


def test_a_competitor_preset_is_refused(capsys):
    assert main(["gradcheck", "--preset", "1-rtrl-h3"]) == 2
    assert "is one of the paper's competitors (RTRL, BPTT): gradcheck takes the LSTM" in \
        capsys.readouterr().err
