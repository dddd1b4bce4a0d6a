"""The public API is annotated for type checkers (PEP 561): the ``py.typed``
marker ships with the package, and every annotation of the learner's and the
bank's public methods resolves (a misspelt or unimported name fails here)."""

import importlib.resources
import inspect
import typing

import pytest

from online_lstm import LearnerBank, OnlineLSTM

#: methods whose whole signature is annotated, return included
ANNOTATED = {
    OnlineLSTM: ["learn_one", "predict_one", "learn_many", "predict_many", "learn_last", "learn_delayed",
                 "reset", "gradient", "get_weights", "set_weights", "state_arrays", "load_state_arrays",
                 "save", "load", "restore", "clone", "get_params", "open_targets", "__init__"],
    LearnerBank: ["learn_one", "predict_one", "learn_many", "predict_many", "learn_last", "learn_delayed",
                  "reset", "get_weights", "set_weights", "state_arrays", "load_state_arrays", "save",
                  "load", "restore", "clone", "get_params", "open_targets", "learner", "set_learner",
                  "from_learners", "__init__"],
}


def test_the_marker_ships_with_the_package():
    assert (importlib.resources.files("online_lstm") / "py.typed").is_file()


@pytest.mark.parametrize("cls, name", [(c, n) for c, names in ANNOTATED.items() for n in names])
def test_public_annotations_resolve(cls, name):
    fn = getattr(cls, name)
    hints = typing.get_type_hints(fn)  # evaluates every annotation string
    assert "return" in hints, f"{cls.__name__}.{name} has no return annotation"
    params = [p for p in inspect.signature(fn).parameters.values()
              if p.name not in ("self", "cls", "changes") and p.kind is not p.VAR_KEYWORD]
    missing = [p.name for p in params if p.name not in hints]
    assert not missing, f"{cls.__name__}.{name}: parameters without annotation: {missing}"
