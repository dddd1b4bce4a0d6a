"""Audit: copy / pickle / clone semantics, and determinism across processes.

What is checked here (what other test files already cover is not repeated:
``test_checkpoint.py``, ``test_delayed*.py``, ``test_bank.py``,
``test_river.py`` and ``statecheck.py`` carry learners over by pickle and
deepcopy mid-sequence):

* ``copy.copy`` of every object is independent of the original: a learner's
  or bank's copy owns its memory, and a task generator's copy its random
  generator (a shallow copy shared it, so sampling from the copy moved the
  original's stream);
* every copy (``copy.copy``, ``copy.deepcopy``, pickle protocols 2..5) goes
  on bit-identically: learners with a pending step and open delayed targets,
  the competitors, the River adapters, and task generators mid-block and
  across a block boundary;
* a pickle carries no compiled dispatcher and no regenerable bulk: a task
  generator's pickle holds the generator state, not its internal block of
  up to a thousand sequences (tens of MB for Task 2a);
* exceptions keep their notes and attributes through pickle;
* ``get_params`` and the constructor keep their own lists (seed, gate
  biases), and copying never draws from a Generator seed, so what
  ``clone()`` builds does not change behind the learner's back;
* a fresh process, with another ``PYTHONHASHSEED`` and 1 or 2 Numba threads,
  loads those pickles and continues them with the same bits, and computes
  the same initial weights, 1,000 learned steps (learner and threaded bank),
  sampled batches and two short experiment trials as this process.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

from online_lstm import DivergenceError, LearnerBank, OnlineLSTM
from online_lstm.bank import BankDivergenceError
from online_lstm.baselines import BPTT, RTRL
from online_lstm.tasks import (
    Adding, ContinualReber, EmbeddedReber, Multiplication, Task2a, Task2b, Task2c, TemporalOrder,
    TwoSequence,
)

PROTOCOLS = (2, 3, 4, 5)

#: every task generator, small, one of each class (and the options that change _generate)
TASKS = {
    "reber": lambda seed: EmbeddedReber(n_train=20, n_test=5, seed=seed),
    "reber-epochs": lambda seed: EmbeddedReber(n_train=20, n_test=5, sampling="epochs", seed=seed),
    "2a": lambda seed: Task2a(p=6, seed=seed),
    "2b": lambda seed: Task2b(p=6, seed=seed),
    "2c": lambda seed: Task2c(q=10, p=6, seed=seed),
    "3a": lambda seed: TwoSequence("a", T=12, seed=seed),
    "3c": lambda seed: TwoSequence("c", T=12, seed=seed),
    "4": lambda seed: Adding(T=20, seed=seed),
    "5": lambda seed: Multiplication(T=20, seed=seed),
    "6a": lambda seed: TemporalOrder("a", seed=seed),
    "6b": lambda seed: TemporalOrder("b", seed=seed),
}

_BATCH_FIELDS = ("X", "Y", "resets", "ends", "target", "legal")


def same_batch(a, b) -> bool:
    """Two batches hold the same bits (NaN targets included)."""
    for f in _BATCH_FIELDS:
        u, v = getattr(a, f), getattr(b, f)
        if (u is None) != (v is None):
            return False
        if u is not None and (u.dtype != v.dtype or u.shape != v.shape or u.tobytes() != v.tobytes()):
            return False
    return True


def copies(obj, hows=("copy", "deepcopy") + tuple(f"pickle{p}" for p in PROTOCOLS)):
    """``(how, copy of obj)`` for every way of copying it."""
    for how in hows:
        if how == "copy":
            yield how, copy.copy(obj)
        elif how == "deepcopy":
            yield how, copy.deepcopy(obj)
        else:
            yield how, pickle.loads(pickle.dumps(obj, protocol=int(how[-1])))


# ---------------------------------------------------------------------------
# task generators
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", TASKS)
def test_a_copied_task_samples_the_same_sequences_and_leaves_the_original_alone(name):
    """Mid-block and across a block boundary.  ``copy.copy`` shared the
    generator: the copy's next block moved the original's stream, so the
    original then gave other sequences than an untouched twin."""
    make = TASKS[name]

    def started():
        task = make(seed=7)
        task.sample(3)  # mid-block
        return task

    n = make(seed=7).block + 2  # the next call crosses into a new block
    for how in ("copy", "deepcopy") + tuple(f"pickle{p}" for p in PROTOCOLS):
        task = started()
        (_, c), = copies(task, (how,))
        assert same_batch(c.sample(n), started().sample(n)), how  # goes on as the original would
        assert same_batch(task.sample(n), started().sample(n)), how  # which did not move
        assert c.get_state() == task.get_state(), how


@pytest.mark.parametrize("how", ["copy", "deepcopy", "pickle5"])
def test_a_copied_task_seeded_with_a_generator_has_a_generator_of_its_own(how):
    """A task built from a Generator draws from it (documented); its copy
    replays the same stream on a generator of its own, and its ``seed``
    names that generator, as in a deep copy."""
    def started():
        task = Adding(T=20, seed=np.random.default_rng(3))
        task.sample(2)
        return task

    task = started()
    (_, c), = copies(task, (how,))
    assert c._rng is not task._rng and c.seed is c._rng
    assert same_batch(c.sample(task.block), started().sample(task.block))
    assert same_batch(task.sample(5), started().sample(5))  # the original's stream did not move


@pytest.mark.parametrize("how", ["copy", "deepcopy", "pickle2", "pickle5"])
def test_a_copied_continual_reber_stream_goes_on_with_the_same_strings(how):
    stream, twin = ContinualReber(seed=4), ContinualReber(seed=4)
    stream.chunk(3)
    twin.chunk(3)
    (_, c), = copies(stream, (how,))
    a = c.chunk(5)
    b = twin.chunk(5)
    assert a.strings == b.strings and np.array_equal(a.X, b.X) and np.array_equal(a.Y, b.Y)
    assert stream.chunk(5).strings == b.strings  # the original did not move


@pytest.mark.parametrize("name", TASKS)
def test_a_task_pickle_holds_the_stream_state_not_its_internal_block(name):
    """The block of up to a thousand sequences that ``sample`` cuts from is
    made again from the generator state it was made from: a pickle is as
    small mid-block as before the first ``sample`` (it was the block's size,
    30 MB for ``Task2a(p=100)``), and the copy goes on with the same bits
    (checked above)."""
    task = TASKS[name](seed=7)
    fresh = len(pickle.dumps(task))
    task.sample(3)
    assert len(pickle.dumps(task)) < fresh + 2_000


def test_a_task_pickled_with_its_block_loads_and_goes_on():
    """Pickles made before the block was left out hold it: it is used as it is."""
    task = Adding(T=20, seed=5)
    task.sample(3)
    state = dict(task.__dict__, _rng=copy.deepcopy(task._rng))
    old = Adding.__new__(Adding)
    old.__setstate__(state)  # what unpickling such a pickle does
    assert old._buf is task._buf
    assert same_batch(old.sample(task.block), task.sample(task.block))


# ---------------------------------------------------------------------------
# learners
# ---------------------------------------------------------------------------
def _stream(seed, shape_x, shape_y, T):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, shape_x[:-1] + (T, shape_x[-1]))
    Y = rng.uniform(0.0, 1.0, shape_y[:-1] + (T, shape_y[-1]))
    return X, Y


def _lstm_delayed():
    """Mid-sequence, two steps predicted and waiting for their targets."""
    m = OnlineLSTM(3, 2, 2, 2, max_delay=3, forget_gate=True, peepholes=True, seed=1)
    X, Y = _stream(0, (3,), (2,), 60)
    m.learn_many(X, Y)
    m.predict_one(X[0])
    m.predict_one(X[1])
    return m


def _lstm_policy():
    """update="sequence" (changes accumulated), divergences counted, a step pending."""
    m = OnlineLSTM(3, 2, 2, 1, update="sequence", on_divergence="reset", state_bound=0.5, lr=0.5,
                   seed=2)
    X, Y = _stream(1, (3,), (2,), 300)
    m.learn_many(3.0 * X, Y)
    assert m.n_divergences_ > 0
    m.predict_one(X[0])
    return m


def _bank():
    bank = LearnerBank(3, 3, 2, 2, 1, max_delay=2, lr=[0.1, 0.2, 0.3], seed=[4, 5, 6],
                       parallel=False)
    X, Y = _stream(2, (3, 3), (3, 2), 40)
    bank.learn_many(X, Y)
    bank.predict_one(X[:, 0])
    bank.predict_one(X[:, 1])
    return bank


def _rtrl():
    m = RTRL(3, 2, 3, seed=3)
    X, Y = _stream(3, (3,), (2,), 50)
    m.learn_many(X, Y)
    m.predict_one(X[0])
    return m


def _bptt():
    """window=None: its history has grown past the initial 64 steps."""
    m = BPTT(3, 2, 3, seed=4)
    X, Y = _stream(4, (3,), (2,), 100)
    m.learn_many(X, Y)
    m.predict_one(X[0])
    return m


def _bptt_window():
    m = BPTT(3, 2, 2, window=5, update="sequence", seed=5)
    X, Y = _stream(5, (3,), (2,), 30)
    m.learn_many(X, Y)
    m.predict_one(X[0])
    return m


LEARNERS = {"lstm-delayed": _lstm_delayed, "lstm-policy": _lstm_policy, "bank": _bank,
            "rtrl": _rtrl, "bptt": _bptt, "bptt-window": _bptt_window}


def _arrays(obj, seen=None):
    """Every ndarray reachable from ``obj``'s attributes (dicts, sequences,
    nested objects)."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return []
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        return [obj]
    if isinstance(obj, dict):
        items = list(obj.values())
    elif isinstance(obj, (list, tuple)):
        items = list(obj)
    elif hasattr(obj, "__dict__") and type(obj).__module__.startswith("online_lstm"):
        items = list(vars(obj).values())
    else:
        return []
    return [a for item in items for a in _arrays(item, seen)]


def _state(m):
    return {k: np.asarray(v).tobytes() for k, v in m.state_arrays().items()}


def _go_on(m, seed):
    """The pending step's target, the delayed ones, then a chunk with a reset."""
    bank = isinstance(m, LearnerBank)
    n_in, n_out = m.layout.n_in if hasattr(m, "layout") else m.n_in, m.n_out
    lead = (m.n_learners,) if bank else ()
    X, Y = _stream(seed, lead + (n_in,), lead + (n_out,), 20)
    if getattr(getattr(m, "layout", None), "max_delay", 0):
        m.learn_delayed(Y[..., 0, :], 1 if not bank else np.ones(m.n_learners, dtype=int))
    m.learn_last(Y[..., 1, :])
    resets = np.zeros(lead + (20,), dtype=bool)
    resets[..., 7] = True
    return m.learn_many(X, Y, resets)


@pytest.mark.parametrize("name", LEARNERS)
def test_a_copied_learner_owns_its_memory_and_goes_on_with_the_same_bits(name):
    """``copy.copy`` is a full copy for every learner (a shallow copy would
    share the memory the kernels write), and every copy takes the pending
    step's target, the open delayed targets and further steps exactly as the
    original does."""
    for how in ("copy", "deepcopy") + tuple(f"pickle{p}" for p in PROTOCOLS):
        m = LEARNERS[name]()
        (_, c), = copies(m, (how,))
        assert _state(c) == _state(m), how
        assert np.array_equal(c.pending_, m.pending_) and np.array_equal(c.n_steps_, m.n_steps_), how
        assert getattr(c, "n_divergences_", None) == getattr(m, "n_divergences_", None), how
        assert c.get_params().keys() == m.get_params().keys(), how
        assert repr(c) == repr(m), how
        mine = _arrays(m)
        assert not any(np.shares_memory(a, b) for a in _arrays(c) for b in mine), how
        before = _state(m)
        _go_on(c, 10)  # stepping the copy leaves the original alone
        assert _state(m) == before, how
        ref = LEARNERS[name]()
        (_, c), = copies(ref, (how,))
        out_ref, out_c = _go_on(ref, 11), _go_on(c, 11)
        assert out_ref.tobytes() == out_c.tobytes() and _state(ref) == _state(c), how
        assert getattr(c, "n_divergences_", None) == getattr(ref, "n_divergences_", None), how


class _Recorder(pickle.Unpickler):
    """Records the module of every global a pickle names (what loading it imports)."""

    def __init__(self, blob):
        super().__init__(io.BytesIO(blob))
        self.modules = set()

    def find_class(self, module, name):
        self.modules.add(module)
        return super().find_class(module, name)


@pytest.mark.parametrize("name", LEARNERS)
def test_a_learner_pickle_holds_its_state_and_nothing_compiled(name):
    """No compiled dispatcher, no scratch: the pickle is about the size of
    the state arrays, and loading it imports only this package and NumPy."""
    m = LEARNERS[name]()
    state_bytes = sum(np.asarray(v).nbytes for v in m.state_arrays().values())
    for protocol in PROTOCOLS:
        blob = pickle.dumps(m, protocol=protocol)
        rec = _Recorder(blob)
        rec.load()
        mods = {mod.split(".")[0] for mod in rec.modules}
        assert mods <= {"online_lstm", "numpy", "copyreg", "builtins", "__builtin__", "_codecs"}, \
            (protocol, rec.modules)
        assert len(blob) < 1.6 * state_bytes + 8_000, (protocol, len(blob), state_bytes)


@pytest.mark.parametrize("make", [
    lambda seed, bias: OnlineLSTM(2, 1, 2, in_gate_bias=bias, out_gate_bias=list(bias),
                                  forget_gate=True, forget_gate_bias=list(bias), seed=seed),
    lambda seed, bias: RTRL(2, 1, 2, seed=seed),
    lambda seed, bias: BPTT(2, 1, 2, seed=seed),
])
def test_editing_the_arguments_or_get_params_does_not_change_what_clone_builds(make):
    """A learner kept the caller's lists (a seed, gate biases per block) and
    handed them out in ``get_params``: editing either changed the learner's
    recorded parameters, and ``clone()`` then built another net than the
    learner began as (the bank already copies its list of seeds)."""
    seed, bias = [1, 2], [-1.0, -2.0]
    m = make(seed, bias)
    first = m.state_arrays()["theta"].copy()
    params = m.get_params()
    seed.append(3)
    bias[0] = 5.0
    for key, value in params.items():
        if isinstance(value, list):
            value.append(9.0)
    assert m.get_params()["seed"] == [1, 2]
    assert m.clone().state_arrays()["theta"].tobytes() == first.tobytes()
    (_, c), = copies(m, ("pickle5",))
    assert c.clone().state_arrays()["theta"].tobytes() == first.tobytes()


@pytest.mark.parametrize("cls", [OnlineLSTM, RTRL, BPTT])
def test_copying_a_learner_seeded_with_a_generator_draws_nothing_from_it(cls):
    """Rebuilding a copy drew its (discarded) initial weights from the seed:
    ``copy.copy``, which shares a Generator seed, moved the caller's stream,
    so the original's ``clone()`` then built another net; a deep copy's or
    pickle's own Generator was moved, so its ``clone()`` differed from the
    original's."""
    def fresh():
        return cls(2, 1, 2, seed=np.random.default_rng(0))

    want = fresh().clone().state_arrays()["theta"].tobytes()
    for how in ("copy", "deepcopy") + tuple(f"pickle{p}" for p in PROTOCOLS):
        m = fresh()
        state = m.seed.bit_generator.state
        (_, c), = copies(m, (how,))
        assert m.seed.bit_generator.state == state, how
        assert c.seed.bit_generator.state == state, how
        if how != "copy":  # (a shallow copy shares the Generator: one clone draws for both)
            assert c.clone().state_arrays()["theta"].tobytes() == want, how
        assert m.clone().state_arrays()["theta"].tobytes() == want, how


# ---------------------------------------------------------------------------
# exceptions
# ---------------------------------------------------------------------------
def _raised(call):
    try:
        call()
    except DivergenceError as exc:
        return exc
    raise AssertionError("no divergence")


def _diverging_learner_error():
    """The error a learner raises when a cell state runs past its bound."""
    m = OnlineLSTM(1, 1, bias="none", h="id", g="g1", output_gates=False, connectivity="B",
                   state_bound=10.0, seed=0)
    m.set_weights(W_in=np.full((1, 1), 5.0), W_c=np.full((1, 1), 5.0))
    return _raised(lambda: m.learn_many(np.ones((100, 1)), np.full((100, 1), 0.5)))


def _diverging_bank_error():
    bank = LearnerBank(3, 1, 1, bias="none", h="id", g="g1", output_gates=False, connectivity="B",
                       state_bound=[1e6, 10.0, 1e6], seed=[0, 0, 0])
    W = bank.get_weights()
    bank.set_weights(W_in=np.full_like(W["W_in"], 5.0), W_c=np.full_like(W["W_c"], 5.0))
    return _raised(lambda: bank.learn_many(np.ones((3, 100, 1)), np.full((3, 100, 1), 0.5)))


@pytest.mark.parametrize("make", [_diverging_learner_error, _diverging_bank_error])
def test_a_divergence_error_keeps_its_notes_and_attributes_through_copy_and_pickle(make):
    """``BaseException`` pickles its ``__dict__``; the custom ``__reduce__``
    kept only ``.state``, so a note (``add_note``, e.g. by a scheduler
    naming the trial) or an attribute set on the error was lost on its way
    back from a worker process."""
    err = make()
    if hasattr(err, "add_note"):  # Python 3.11+
        err.add_note("trial 3 of preset 4-1")
    else:  # 3.10: where add_note keeps them
        err.__notes__ = ["trial 3 of preset 4-1"]
    err.trial = 3
    err.state = {"theta": np.arange(3.0)}
    for how, back in copies(err):
        assert type(back) is type(err) and str(back) == str(err), how
        assert back.__notes__ == ["trial 3 of preset 4-1"] and back.trial == 3, how
        assert np.array_equal(np.asarray(back.step), np.asarray(err.step)), how
        assert np.array_equal(np.asarray(back.row), np.asarray(err.row)) and back.reason == err.reason, how
        assert np.array_equal(back.state["theta"], err.state["theta"]), how
        if isinstance(err, BankDivergenceError):
            assert back.learners.tolist() == [1] and back.reasons == err.reasons, how
            assert np.array_equal(back.out, err.out, equal_nan=True), how


# ---------------------------------------------------------------------------
# River adapters
# ---------------------------------------------------------------------------
def _label(cls_name, y):
    return float(y) if cls_name == "LSTMRegressor" else "xyz"[int(abs(y) * 3) % 3]


def _river_rows(seed, n, start, features):
    rng = np.random.default_rng(seed)
    return [(dict({f: float(rng.normal()) for f in features}, id=start + i), float(rng.normal()))
            for i in range(n)]


def _river_model(cls_name):
    """Labels arrive two observations late, by id; two are still waiting."""
    pytest.importorskip("river")
    from online_lstm import river as adapters

    m = getattr(adapters, cls_name)(n_blocks=2, block_size=1, max_delay=3, id_key="id", seed=3)
    rows = _river_rows(0, 30, 0, ("a", "b"))
    for i, (x, _) in enumerate(rows):
        m.predict_one(x)
        if i >= 2:
            m.learn_one(rows[i - 2][0], _label(cls_name, rows[i - 2][1]))
    return m


def _river_go_on(m):
    """The two waiting labels, then observations with a new feature (widening the net)."""
    name = type(m).__name__
    out = []
    for x, y in _river_rows(0, 30, 0, ("a", "b"))[-2:]:
        m.learn_one(x, _label(name, y))
    for x, y in _river_rows(1, 15, 100, ("a", "c")):
        p = m.predict_proba_one(x) if name == "LSTMClassifier" else m.predict_one(x)
        out.append(sorted(p.items()) if isinstance(p, dict) else p)
        m.learn_one(x, _label(name, y))
    s = m.learner_.state_arrays()
    return repr(out), m.feature_names_, getattr(m, "classes_", None), _sha(*s.values())


@pytest.mark.parametrize("cls_name", ["LSTMRegressor", "LSTMClassifier"])
def test_a_copied_river_adapter_with_labels_waiting_goes_on_with_the_same_bits(cls_name):
    pytest.importorskip("river")
    ref = _river_go_on(_river_model(cls_name))
    for how in ("copy", "deepcopy") + tuple(f"pickle{p}" for p in PROTOCOLS):
        m = _river_model(cls_name)
        (_, c), = copies(m, (how,))
        assert _river_go_on(c) == ref, how
        assert _river_go_on(m) == ref, how  # the original was not moved by its copy


# ---------------------------------------------------------------------------
# across processes: another PYTHONHASHSEED, 1 or 2 Numba threads
# ---------------------------------------------------------------------------
def _sha(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()[:16]


def _batch_sha(b) -> str:
    return _sha(*(getattr(b, f) for f in _BATCH_FIELDS if getattr(b, f) is not None))


_TIMING = ("wall_s", "cpu_s", "steps_per_s")


def _seeded_digests() -> dict:
    """What a seed alone fixes: initial weights, 1,000 learned steps (a
    learner, and a bank threaded and serial), sampled batches, two short
    experiment trials (an LSTM preset and a competitor's, --quick)."""
    from online_lstm.experiments import run_trial
    from online_lstm.presets import PRESETS

    out = {}
    resets = np.arange(1000) % 100 == 0
    m = OnlineLSTM(7, 7, 4, 2, forget_gate=True, peepholes=True, seed=11)
    out["lstm init"] = _sha(m.state_arrays()["theta"])
    X, Y = _stream(21, (7,), (7,), 1000)
    out["lstm 1000 steps"] = _sha(m.learn_many(X, Y, resets), *m.state_arrays().values())
    Xb, Yb = _stream(22, (3, 7), (3, 7), 1000)
    for parallel in (True, False):
        bank = LearnerBank(3, 7, 7, 4, 2, seed=11, parallel=parallel)
        init = _sha(bank.state_arrays()["theta"], np.array(bank.seeds_, dtype=np.uint64))
        out[f"bank parallel={parallel}"] = (
            init, _sha(bank.learn_many(Xb, Yb, np.tile(resets, (3, 1))), *bank.state_arrays().values()))
    for cls in (RTRL, BPTT):
        net = cls(7, 7, 3, seed=11)
        init = _sha(net.state_arrays()["theta"])
        out[f"{cls.__name__} 1000 steps"] = (init, _sha(net.learn_many(X, Y, resets),
                                                          *net.state_arrays().values()))
    for name, make in TASKS.items():
        task = make(seed=[5, 1])
        out[f"task {name}"] = (_batch_sha(task.sample(5)), _batch_sha(task.sample(task.block)))
    chunk = ContinualReber(seed=[5, 1]).chunk(20)
    out["continual reber"] = _sha(chunk.X, chunk.Y)
    for pid in ("3a-T100-N1", "2a-rtrl-p4-lr1"):
        rec = run_trial(PRESETS[pid].quick_version(), trial=1, seed=5)
        out[f"trial {pid}"] = json.dumps({k: v for k, v in rec.items() if k not in _TIMING},
                                         sort_keys=True, default=repr)
    return out


def _pickled_objects() -> dict:
    """Learners, River adapters and task generators in the middle of things."""
    objs = {name: make() for name, make in LEARNERS.items()}
    objs["bank"].parallel = True  # the threaded kernel in the other process
    for name in ("reber", "2a", "4", "6b"):
        objs[f"task {name}"] = TASKS[name](seed=9)
        objs[f"task {name}"].sample(3)
    objs["continual reber"] = ContinualReber(seed=9)
    objs["continual reber"].chunk(3)
    try:
        import river  # noqa: F401
    except ImportError:  # pragma: no cover - the optional extra is missing
        return objs
    for cls_name in ("LSTMRegressor", "LSTMClassifier"):
        objs[cls_name] = _river_model(cls_name)
    return objs


def _continued(objs) -> dict:
    out = {}
    for name, obj in objs.items():
        if name in LEARNERS:
            out[name] = _sha(_go_on(obj, 12), *obj.state_arrays().values())
        elif name == "continual reber":
            chunk = obj.chunk(10)
            out[name] = _sha(chunk.X, chunk.Y)
        elif name.startswith("task"):
            out[name] = _batch_sha(obj.sample(obj.block + 2))
        else:
            out[name] = _river_go_on(obj)
    return json.loads(json.dumps(out))  # tuples as lists, as the other process's JSON has them


def _child(path):  # pragma: no cover - runs in the subprocesses
    """The other process: load the pickles, go on with them, and compute the seeded digests."""
    import numba

    with open(path, "rb") as f:
        objs = pickle.load(f)
    print(json.dumps({"continued": _continued(objs), "seeded": _seeded_digests(),
                      "threads": numba.get_num_threads(), "hash": hash("online_lstm")}))


_CHILD = "import sys; sys.path.insert(0, sys.argv[1]); import test_copy_audit; test_copy_audit._child(sys.argv[2])"


def test_another_process_continues_the_pickles_and_computes_the_same_bits(tmp_path):
    """Two fresh processes, ``PYTHONHASHSEED`` 0 with ``NUMBA_NUM_THREADS=1``
    and 4242 with 2 threads: each loads pickles made here and continues them
    bit-identically, and gets from the seeds alone the bits this process
    gets (the bank's threaded kernel on one thread and on two, and its
    serial one).  This process computes first, so the children only load
    compiled code from the disk cache."""
    blob = pickle.dumps(_pickled_objects(), protocol=pickle.HIGHEST_PROTOCOL)
    path = tmp_path / "objects.pkl"
    path.write_bytes(blob)
    continued = _continued(pickle.loads(blob))
    assert continued == _continued(_pickled_objects())  # the originals go on so too
    seeded = json.loads(json.dumps(_seeded_digests()))
    assert seeded["bank parallel=True"] == seeded["bank parallel=False"]

    here = os.path.dirname(os.path.abspath(__file__))
    paths = [os.path.dirname(here), os.environ.get("PYTHONPATH")]
    procs = []
    for hash_seed, threads in (("0", "1"), ("4242", "2")):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed, NUMBA_NUM_THREADS=threads,
                   PYTHONPATH=os.pathsep.join(p for p in paths if p))
        procs.append(subprocess.Popen([sys.executable, "-c", _CHILD, here, str(path)], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert [r["threads"] for r in results] == [1, 2]
    assert results[0]["hash"] != results[1]["hash"]  # the string hashes did differ
    for r in results:
        assert r["continued"] == continued
        assert r["seeded"] == seeded
