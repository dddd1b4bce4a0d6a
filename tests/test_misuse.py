"""Misuse of the public API that the other bad-input tests do not reach:
arguments of the wrong kind where a mapping, a flag or a constructor
argument goes, attributes assigned after building, and checkpoint
metadata edited by hand.  Each is refused with a message that says what
was expected, and changes nothing."""

import json

import numpy as np
import pytest

from online_lstm import InputError, LearnerBank, OnlineLSTM
from online_lstm import checkpoint as ckpt
from online_lstm.baselines import BPTT, RTRL
from online_lstm.errors import CheckpointError

from statecheck import same_state


def learner(**kw):
    m = OnlineLSTM(3, 2, 2, 2, bias="all", init_range=0.5, seed=0, **kw)
    rng = np.random.default_rng(0)
    m.learn_many(rng.random((10, 3)), rng.random((10, 2)))
    return m


def bank(**kw):
    b = LearnerBank(3, 2, 2, n_blocks=2, seed=0, **kw)
    rng = np.random.default_rng(0)
    b.learn_many(rng.random((3, 4, 2)), rng.random((3, 4, 2)))
    return b


@pytest.mark.parametrize("weights", [
    "theta_",  # the flat vector instead of the named arrays
    "W_k",  # a name without its value
    [("W_k", 0.0)],  # pairs: dict() would take them, but they are no mapping
    3.0,
])
@pytest.mark.parametrize("kind", ["learner", "bank"])
def test_set_weights_wants_a_mapping_of_names(weights, kind):
    """Before: NumPy's "truth value of an array is ambiguous" for the flat
    vector, dict()'s "update sequence element #0 has length 1" for a string."""
    m = learner() if kind == "learner" else bank()
    if weights == "theta_":
        weights = m.theta_
    before = m.state_arrays()
    with pytest.raises(InputError, match=r"set_weights takes a dict of parameter name -> array"):
        m.set_weights(weights)
    assert same_state(before, m.state_arrays())


@pytest.mark.parametrize("state", [None, "header", 3, ["header", "theta"]])
@pytest.mark.parametrize("kind", ["learner", "bank"])
def test_load_state_arrays_wants_a_mapping(state, kind):
    """Before: TypeError ("argument of type 'NoneType' is not iterable",
    "string indices must be integers") or "state is missing 'header'" for a
    string that happens to contain the word."""
    m = learner() if kind == "learner" else bank()
    before = m.state_arrays()
    with pytest.raises(InputError, match=r"state must be a dict of named arrays"):
        m.load_state_arrays(state)
    assert same_state(before, m.state_arrays())


@pytest.mark.parametrize("kind", ["learner", "bank"])
def test_load_state_arrays_with_a_ragged_array_is_an_input_error(kind):
    """Before: NumPy's ValueError about an inhomogeneous shape."""
    m = learner() if kind == "learner" else bank()
    before = m.state_arrays()
    bad = dict(before, theta=[[1.0], [1.0, 2.0]])
    with pytest.raises(InputError, match=r"state\['theta'\] must be an array of shape"):
        m.load_state_arrays(bad)
    assert same_state(before, m.state_arrays())


@pytest.mark.parametrize("flag", ["no", "False", 0, 1, None, np.array([True])])
@pytest.mark.parametrize("kind", ["lstm", "rtrl", "bptt"])
def test_gradient_from_current_state_must_be_a_bool(flag, kind):
    """Before: any truthy value ("no", "False") silently started from the
    current state instead of a reset one; the paper's competitors too."""
    if kind == "lstm":
        m = learner()
    else:
        m = (RTRL if kind == "rtrl" else BPTT)(3, 2, 2, seed=0)
        rng = np.random.default_rng(0)
        m.learn_many(rng.random((10, 3)), rng.random((10, 2)))
    before = m.state_arrays()
    with pytest.raises(InputError, match=r"from_current_state must be True or False"):
        m.gradient(np.zeros((2, 3)), np.zeros((2, 2)), from_current_state=flag)
    assert same_state(before, m.state_arrays())
    m.gradient(np.zeros((2, 3)), np.zeros((2, 2)), from_current_state=np.bool_(True))  # a bool


@pytest.mark.parametrize("value", ["x", object(), float("nan"), [1.0, 2.0, 3.0], {"a": 1}, True])
def test_forget_gate_bias_is_checked_without_forget_gates_too(value, tmp_path):
    """Before: any value was kept unchecked when forget_gate=False, and one
    JSON cannot hold (object()) made every save() of the trained learner
    fail; clone(forget_gate=True) failed only then."""
    with pytest.raises(ValueError, match=r"^forget_gate_bias"):
        OnlineLSTM(2, 1, 2, forget_gate_bias=value)
    with pytest.raises(ValueError, match=r"^forget_gate_bias"):
        LearnerBank(2, 2, 1, n_blocks=2, forget_gate_bias=value)
    for ok in (None, 1.0, [0.5, 2.0], np.array([1.0, -1.0])):  # unused, but well-formed: taken
        m = OnlineLSTM(2, 1, 2, forget_gate_bias=ok, seed=0)
        m.learn_one([0.1, 0.2], 0.5)
        OnlineLSTM.load(m.save(tmp_path / "m.npz"))
    OnlineLSTM(2, 1, 2, bias="none")  # the default +1.0 with no gate biases and no forget gate


def test_the_layout_of_a_built_learner_cannot_be_replaced():
    """Before: ``m.layout = other.layout`` was taken; the learner then read
    its memory through the other layout (get_weights raised NumPy's reshape
    error) and load_state_arrays wrote the header before failing halfway."""
    m = learner()
    before, layout = m.state_arrays(), m.layout
    with pytest.raises(AttributeError, match=r"layout is fixed"):
        m.layout = OnlineLSTM(5, 4, 3, 2, seed=0).layout
    assert m.layout is layout and same_state(before, m.state_arrays())


def _edited_bank_file(tmp_path, **edits):
    b = bank()
    path = b.save(tmp_path / "b.npz")
    arrays, meta = ckpt.read_checkpoint(path)
    meta = json.loads(json.dumps(meta))
    meta.update(edits)
    out = tmp_path / "edited.npz"
    ckpt.write_checkpoint(out, arrays, {k: v for k, v in meta.items()
                                        if k not in ("format", "format_version", "arrays")})
    return b, out


@pytest.mark.parametrize("edit", [
    dict(bank_seed=[-1, -1, -1]),  # negative seeds: clone() of the loaded bank raised
    dict(bank_seed=[1, 2, 3]),  # not the learners' seeds: clone() built other learners
    dict(bank_seed=1),  # an int that did not spawn the learners' seeds
    dict(seeds=[1, 2, 3]),  # the learners' seeds edited, the bank's seed (0) kept
    dict(seeds=[None, None, None]),
])
def test_a_bank_checkpoint_whose_seeds_disagree_is_refused(edit, tmp_path):
    """The bank's ``seed`` is None, an int that spawned ``seeds_``, or the
    list ``seeds_`` itself; a file that says otherwise was edited.  Before,
    it loaded, and ``clone()`` raised or gave other learners."""
    b, path = _edited_bank_file(tmp_path, **edit)
    with pytest.raises(CheckpointError, match=r"bank_seed"):
        LearnerBank.load(path)
    before = b.state_arrays()
    with pytest.raises(CheckpointError, match=r"bank_seed"):
        b.restore(path)
    assert same_state(before, b.state_arrays())


def test_bank_seeds_that_agree_still_load(tmp_path):
    for seed in (None, 7, [4, 5, 6]):
        b = LearnerBank(3, 2, 1, seed=seed)
        loaded = LearnerBank.load(b.save(tmp_path / "b.npz"))
        assert loaded.seed == b.seed and loaded.seeds_ == b.seeds_
        if seed is not None:  # (None: each clone draws fresh entropy)
            assert same_state(loaded.clone().state_arrays(), b.clone().state_arrays())
    b = LearnerBank(3, 2, 1, seed=7)
    b.set_learner(1, OnlineLSTM(2, 1, seed=np.random.default_rng(0)))  # a learner without an int seed
    loaded = LearnerBank.load(b.save(tmp_path / "b.npz"))
    assert loaded.seed is None and loaded.seeds_ == b.seeds_


@pytest.mark.parametrize("age", [np.uint64(2**64 - 1), 2**63, np.array([0, 2**63, 0], dtype=np.uint64)])
def test_a_bank_age_beyond_int64_is_named_as_given(age):
    """Before: the age wrapped around int64 and the message named another
    age (-1, or -9223372036854775808)."""
    b = bank(max_delay=2)
    before = b.state_arrays()
    with pytest.raises(InputError, match=r"age must be an int or 3 ints .* 2\*\*63"):
        b.learn_delayed(np.full((3, 2), 0.5), age)
    assert same_state(before, b.state_arrays())


def test_a_bool_target_margin_is_refused():
    """Before: target_margin=False was taken as a margin of 0 (True was
    refused only because 1 is not below 0.5)."""
    pytest.importorskip("river")
    from online_lstm.river import LSTMRegressor

    for margin in (False, True, np.bool_(False)):
        with pytest.raises(ValueError, match=r"target_margin must be"):
            LSTMRegressor(target_margin=margin)
    assert LSTMRegressor(target_margin=0).target_margin == 0


def test_metadata_with_an_integer_too_long_to_read_is_a_checkpoint_error(tmp_path):
    """Before: json.loads raised Python's ValueError "Exceeds the limit (4300
    digits) for integer string conversion", not CheckpointError."""
    import io
    import zipfile

    blob = b'{"format": "online_lstm.checkpoint", "format_version": 1, "n": ' + b"7" * 5000 + b"}"
    path = tmp_path / "long.npz"
    with zipfile.ZipFile(path, "w") as zf:
        member = io.BytesIO()
        np.lib.format.write_array(member, np.frombuffer(blob, dtype=np.uint8))
        zf.writestr(ckpt.META_NAME + ".npy", member.getvalue())
    m = learner()
    before = m.state_arrays()
    for call in (OnlineLSTM.load, LearnerBank.load, m.restore):
        with pytest.raises(CheckpointError, match=r"metadata is not valid JSON"):
            call(path)
    assert same_state(before, m.state_arrays())
