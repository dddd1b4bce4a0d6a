"""Review of the day's library changes: regression tests of the defects fixed.

Each test names the defect it guards against; they are cheap (no training
beyond a few steps) and deterministic.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import online_lstm


def test_the_package_namespace_holds_no_typing_flag():
    """The lazy-attribute rewrite of ``online_lstm/__init__.py`` imported
    ``typing.TYPE_CHECKING`` into the package: ``online_lstm.TYPE_CHECKING``
    was a public attribute, listed by ``dir(online_lstm)`` among the API."""
    assert not hasattr(online_lstm, "TYPE_CHECKING")
    assert "TYPE_CHECKING" not in dir(online_lstm)
    public = {n for n in dir(online_lstm) if not n.startswith("_")}
    # the API (__all__) and the submodules imported so far, nothing else
    assert public - set(online_lstm.__all__) <= {
        n for n in public if type(getattr(online_lstm, n)).__name__ == "module"}


def _sdist_files(tmp_path, files, monkeypatch):
    """The ``files`` (created empty under ``tmp_path``) that MANIFEST.in puts
    in the sdist, by setuptools' own template rules.  ``recursive-include``
    globs the directory tree on disk (it does not read ``allfiles``), so the
    files must exist; setuptools without an SCM plugin ignores .gitignore."""
    egg_info = pytest.importorskip("setuptools.command.egg_info")
    root = Path(online_lstm.__file__).resolve().parent.parent
    for f in files:
        (tmp_path / f).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / f).write_text("")
    monkeypatch.chdir(tmp_path)
    fl = egg_info.FileList()
    fl.findall()
    for line in (root / "MANIFEST.in").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            fl.process_template_line(line)
    return set(fl.files)


def test_the_sdist_leaves_out_local_benchmark_results(tmp_path, monkeypatch):
    """``recursive-include benchmarks/results *.csv *.png *.txt`` (added to
    ship the published results) also took in ``benchmarks/results/local/``,
    where every ``--quick`` run writes and which git ignores: an sdist built
    from a working tree carried the builder's own quick results next to the
    published ones."""
    local = ["benchmarks/results/local/bank.csv", "benchmarks/results/local/peers.png",
             "benchmarks/results/local/soak.txt"]
    published = ["benchmarks/results/bank.csv", "benchmarks/results/peers.png",
                 "benchmarks/results/soak.txt", "reproduction/records/all-quick.csv"]
    files = _sdist_files(tmp_path, local + published, monkeypatch)
    assert files & set(local) == set()
    assert set(published) <= files


@pytest.mark.parametrize("version, says", [
    ((3, 10, 14, "final", 0), "needs Python 3.11 or later; this is Python 3.10"),
    (None, "pip install 'online-lstm[river]'" if sys.version_info >= (3, 11) else "needs Python 3.11")])
def test_the_river_import_error_gives_advice_that_works_on_this_python(version, says):
    """pyproject's river extra installs River only on Python 3.11+ (River 0.26
    needs it); on 3.10 ``pip install 'online-lstm[river]'`` installs nothing,
    yet the ImportError of ``import online_lstm.river`` without River still
    told the user to run it."""
    script = ("import sys\n"
              f"sys.path.insert(0, {str(Path(online_lstm.__file__).resolve().parent.parent)!r})\n"
              "sys.modules['river'] = None  # River not importable\n"
              # (what online_lstm.river imports, first: Numba on Python 3.12+ would
              # take the faked version for its own and fail on it)
              "import online_lstm.learner\n"
              + (f"sys.version_info = {version!r}\n" if version else "") +
              "try:\n"
              "    import online_lstm.river\n"
              "except ImportError as exc:\n"
              "    print('ImportError:', exc)\n")
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.startswith("ImportError: online_lstm.river needs River"), res.stdout
    assert says in res.stdout


def _message(call):
    with pytest.raises(online_lstm.InputError) as err:
        call()
    return str(err.value)


@pytest.mark.parametrize("kind", ["RTRL", "BPTT"])
def test_competitors_refuse_nan_and_inf_in_the_words_of_online_lstm(kind):
    """52111d1 gave RTRL and BPTT the NaN-input message "as OnlineLSTM ...
    says", but built it another way: "x must be finite: NaN or inf in the
    input (row 1) (x[0] = nan)" against OnlineLSTM's "x must be finite (row
    1): NaN or inf in the input (x[0] = nan)" (and the inf-target message
    likewise put the row elsewhere).  One error, one wording."""
    from online_lstm.baselines import BPTT, RTRL

    comp = {"RTRL": RTRL, "BPTT": BPTT}[kind](2, 2, 2, seed=0)
    lstm = online_lstm.OnlineLSTM(2, 2, seed=0)
    X = np.array([[1.0, 0.0], [np.nan, np.inf]])
    Y = np.array([[0.5, 0.5], [np.inf, 0.5]])
    for call in (lambda m: m.learn_many(X, np.zeros((2, 2))), lambda m: m.predict_many(X),
                 lambda m: m.learn_one(X[1], Y[0]), lambda m: m.predict_one(X[1]),
                 lambda m: m.learn_many(X[:1].repeat(2, 0), Y), lambda m: m.learn_one(X[0], Y[1])):
        ours, theirs = _message(lambda: call(comp)), _message(lambda: call(lstm))
        assert ours == theirs
    assert "x must be finite (row 1): NaN or inf in the input (x[0] = nan, x[1] = inf)" in \
        _message(lambda: comp.learn_many(X, np.zeros((2, 2))))
    assert _message(lambda: comp.learn_many(X[:1].repeat(2, 0), Y)).startswith(
        "y must be finite or NaN (NaN = no target) (row 1): inf in the target")


def test_the_metrics_word_a_prediction_of_the_wrong_shape_alike():
    """66ded4c made Accuracy refuse a prediction of another shape "as MAE/RMSE
    now do", with a message of its own ("Accuracy: the prediction has shape
    (3,), the vector target (2,); they must be the same") for the error MAE
    words "MAE.update needs y_pred of the shape of y_true; got ...".  One
    error, one wording; nothing is counted."""
    from online_lstm.evaluate import MAE, RMSE, Accuracy

    t, p = np.array([1.0, 0.0]), np.array([0.9, 0.1, 0.0])
    for cls in (MAE, RMSE, Accuracy):
        m = cls()
        with pytest.raises(ValueError) as err:
            m.update(t, p)
        assert str(err.value) == (f"{cls.__name__}.update needs y_pred of the shape of y_true; got "
                                  f"y_true of shape (2,), y_pred of shape (3,)")
        assert m.n == 0
