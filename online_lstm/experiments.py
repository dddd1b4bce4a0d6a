"""Experiment runner: the paper's training protocols, trials in parallel, records as a DataFrame.

One trial is one weight initialisation trained on its own seeded stream
until the preset's stopping rule holds or its sequence limit is reached.
Training is plain online gradient descent (the learner's own rule, no
optimiser tricks) and test-then-train: every training sequence is scored on
the outputs made before its own weight change, and every test set is run on
frozen weights.

Protocols (``Preset.protocol``)
-------------------------------
``reber``       Exp. 1: every ``check_every`` training strings, a frozen test on
                the whole training and test set; success when every step of
                every string is predicted correctly.
``streak``      Exp. 2: success when ``streak`` successive training sequences
                all have error below ``threshold``; then a frozen test.  With
                ``construct`` (2a, 2b) the memory cell joins the net when the
                error stops decreasing (sequential construction).
``st12``        Exp. 3: every ``check_every`` sequences a frozen test on one
                random set of ``stop_test_size`` sequences: ST1 = at most
                ``max_wrong`` misclassified, ST2 = ST1 and mean absolute error
                below ``max_error``; then a frozen test of ``test_size``.
``st3``         Exps. 4 and 6: ST3(beta): the ``window`` most recent training
                sequences are all correct and their average error is below
                ``beta``; then a frozen test.
``milestones``  Exp. 5: a frozen test as soon as fewer than ``n_seq`` of the
                ``window`` most recent sequences are wrong, for each ``n_seq``
                of ``milestones`` in turn.

When a rule holds in the middle of a chunk of sequences trained in one
``learn_many`` call, the learner is restored to the start of the chunk and
retrained exactly up to that sequence (same bits), so the frozen test sees
the weights of that moment.

A running trial can save itself (:func:`run_trial`'s ``checkpoint``): at the
top of its protocol's loop, every ``checkpoint_every`` seconds, it writes the
learner, its counters, its data streams (:meth:`SequenceTask.get_state`) and
the protocol's own state (streak counts, the construction trigger, the ST3
window, milestones met) to one checkpoint file; resumed from it, the trial
gives the record of an uninterrupted one.

Each trial returns one record (a dict; see :func:`run_trial`).
:func:`reproduce` runs trials over processes and returns a DataFrame;
:func:`compare` puts the result next to the paper's figures.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import math
import os
import platform
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DivergenceError, ResumeError  # noqa: F401 - ResumeError: also importable from here
from .presets import PRESETS, Preset
from .tasks import Batch
from .tasks.reber import correct_sequences, correct_steps

#: Learn at most this many input floats per learn_many call (memory bound).
_CHUNK_FLOATS = 4_000_000
#: ...and about this many steps (progress granularity).
_CHUNK_STEPS = 200_000
#: Frozen tests are run in chunks of this many sequences, so a test that
#: fails early (the usual case during training) stops early.
_TEST_CHUNK = 32
#: Input-gate weight that holds a gate shut (f(-1000) == 0.0 exactly).
_SHUT = -1000.0


class Trial:
    """State of one running trial: learner, counters, clock, progress.

    With ``checkpoint`` (a file path), the protocol's loop saves the whole
    trial there every ``checkpoint_every`` seconds (:meth:`resume_point`),
    and with ``resume`` a trial whose file exists goes on from it instead of
    starting afresh.  A resumed trial gives the same record as an
    uninterrupted one apart from the timing fields, which count the time
    before the interruption too.  The arguments are those of
    :func:`run_trial`.
    """

    def __init__(self, preset: Preset | str, trial: int, seed: int, progress=None,
                 checkpoint=None, checkpoint_every: float = 60.0, resume: bool = False):
        preset = _checked_trial_args(preset, trial, seed, progress, checkpoint, checkpoint_every, resume)
        trial, seed = int(trial), int(seed)
        self.preset = preset
        self.trial = trial
        self.seed = seed + trial  # weight initialisation
        self.data_seed = seed + trial
        self.m = preset.learner(seed=self.seed)
        self.seen = 0  # training sequences
        self.steps = 0  # training + test steps
        self.progress = progress
        self.t0 = time.perf_counter()
        self.c0 = time.process_time()
        self.record = dict(preset=preset.id, trial=trial, seed=self.seed)
        #: the milestones met so far, for the record of a trial that diverges
        #: later (a protocol sets it to a function of its own state)
        self.partial = dict
        self.checkpoint = None if checkpoint is None else Path(checkpoint)
        self.checkpoint_every = float(checkpoint_every)
        self._saved_at = self.t0
        self._loaded = None
        self._save_failed = False
        self._job = None
        if resume and self.checkpoint is not None and self.checkpoint.exists():
            self._loaded = read_trial_checkpoint(self.checkpoint, preset, trial, seed)

    def chunk(self, task) -> int:
        """Sequences per learn_many call for this task."""
        per_seq = max(1.0, task.mean_length)
        return int(max(1, min(2000, _CHUNK_STEPS // per_seq, _CHUNK_FLOATS // (per_seq * task.n_in))))

    def train(self, batch: Batch) -> np.ndarray:
        """Learn the sequences of ``batch``; return the outputs made before each
        update, shape (T, n_out)."""
        try:
            out = self.m.learn_many(batch.X, batch.Y, batch.resets)
        except DivergenceError as err:  # the rows before err.row were learned: count them
            if err.row is not None:
                done = int(np.count_nonzero(batch.ends < err.row))  # whole sequences
                self.seen += done
                self.steps += int(err.row)
                if self.progress is not None:
                    self.progress(done, int(err.row))
            raise
        self.seen += len(batch)
        self.steps += len(batch.X)
        if self.progress is not None:
            self.progress(len(batch), len(batch.X))
        return out

    def predict(self, batch: Batch) -> np.ndarray:
        """Outputs for ``batch`` on frozen weights (pending updates applied first),
        shape (T, n_out)."""
        self.m.reset()  # with update="sequence", applies the last sequence's update
        try:
            out = self.m.predict_many(batch.X, batch.resets)
        except DivergenceError as err:  # only the rows before err.row were taken
            if err.row is not None:
                self.steps += int(err.row)
            raise
        self.steps += len(batch.X)
        return out

    def snapshot(self):
        """The learner's state arrays and the sequence and step counters, for :meth:`restore`."""
        return self.m.state_arrays(), self.seen, self.steps

    def restore(self, snap):
        """Go back to a :meth:`snapshot` (learner and counters)."""
        state, self.seen, self.steps = snap
        self.m.load_state_arrays(state)

    # -- checkpoints of a running trial ---------------------------------------
    def resume_point(self, tasks, **state) -> dict:
        """Called by the protocols at the top of their training loop, where the
        whole trial is the learner, the counters, the streams ``tasks`` and
        the protocol's own ``state`` (JSON values, or arrays).

        In a resumed trial the first call loads all of them from the
        checkpoint and returns the saved ``state``; after that, a call saves
        them when ``checkpoint_every`` seconds have passed since the last
        save.  Returns the state to go on with.
        """
        if self._loaded is not None:
            return self._restore(tasks, state)
        if self.checkpoint is not None and time.perf_counter() - self._saved_at >= self.checkpoint_every:
            self._save(tasks, state)
        return state

    def _save(self, tasks, state):
        from .checkpoint import _jsonable, write_checkpoint

        arrays = {f"m.{k}": v for k, v in self.m.state_arrays().items()}
        values = {}
        for k, v in state.items():
            if isinstance(v, np.ndarray):
                arrays[f"s.{k}"] = v
            else:
                values[k] = _jsonable(v)
        if self._job is None:  # (builds a learner: once per trial)
            self._job = _trial_job(self.preset, self.trial, self.seed - self.trial)
        meta = dict(kind=KIND_TRIAL, job=self._job,
                    seen=self.seen, limit=self.preset.limit, steps=self.steps,
                    wall_s=time.perf_counter() - self.t0,
                    cpu_s=time.process_time() - self.c0, tasks=[_jsonable(t.get_state()) for t in tasks],
                    state=values)
        try:
            write_checkpoint(self.checkpoint, arrays, meta)
        except OSError as exc:  # a full disk must not end a trial of hours
            if not self._save_failed:
                warnings.warn(f"trial {self.trial} of {self.preset.id}: cannot write its checkpoint "
                              f"{self.checkpoint} ({exc}); it goes on without", RuntimeWarning, 2)
            self._save_failed = True
        self._saved_at = time.perf_counter()

    def _restore(self, tasks, state) -> dict:
        arrays, meta = self._loaded
        self._loaded = None
        name = self.checkpoint
        saved = dict(meta["state"])
        saved.update({k[2:]: v for k, v in arrays.items() if k.startswith("s.")})
        if set(saved) != set(state) or len(meta["tasks"]) != len(tasks):
            raise ResumeError(f"{name}: saved by a {self.preset.protocol} loop with state "
                              f"{sorted(saved)}, this one has {sorted(state)}")
        try:
            self.m.load_state_arrays({k[2:]: v for k, v in arrays.items() if k.startswith("m.")})
            for task, st in zip(tasks, meta["tasks"]):
                task.set_state(st)
        except ValueError as exc:  # InputError, or a stream state that does not fit
            raise ResumeError(f"{name}: its state does not fit trial {self.trial} of "
                              f"{self.preset.id}: {exc}") from None
        self.seen, self.steps = int(meta["seen"]), int(meta["steps"])
        self.t0 -= float(meta["wall_s"])
        self.c0 -= float(meta["cpu_s"])
        self._saved_at = time.perf_counter()
        if self.progress is not None and self.seen:
            self.progress(self.seen, 0)
        return saved

    def finish(self, **fields) -> dict:
        """The trial's record: its ``fields`` plus the step count and timing fields."""
        wall = time.perf_counter() - self.t0
        cpu = time.process_time() - self.c0  # on a shared machine, the honest cost
        self.record.update(fields)
        self.record.update(steps=self.steps, wall_s=round(wall, 3), cpu_s=round(cpu, 3),
                           steps_per_s=round(self.steps / wall) if wall > 0 else None,
                           software=software())
        return self.record


#: ``kind`` of a trial checkpoint file.
KIND_TRIAL = "Trial"

#: The options each protocol reads from its preset (besides optional ones read with a default).
_PROTOCOL_OPTIONS = {
    "reber": ("limit", "check_every", "rule"),
    "streak": ("limit", "streak", "threshold", "where", "reading", "test_size", "construct"),
    "st12": ("limit", "check_every", "stop_test_size", "test_size", "max_wrong", "max_error", "threshold"),
    "st3": ("limit", "window", "threshold", "beta", "test_size"),
    "milestones": ("limit", "window", "threshold", "milestones", "test_size"),
}


def _whole_arg(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)) and value >= 0


def _checked_trial_args(preset, trial, seed, progress, checkpoint, checkpoint_every, resume) -> Preset:
    """The arguments of :func:`run_trial` (and :class:`Trial`) checked before any
    work: the preset (an id is looked up), whole numbers >= 0 for ``trial`` and
    ``seed`` (a negative trial would run another trial's seeds under its
    number), a callable ``progress``, a number of seconds >= 0 for
    ``checkpoint_every`` and a ``checkpoint`` to go on from with ``resume``."""
    from .presets import did_you_mean

    if isinstance(preset, str):
        if preset not in PRESETS:
            raise KeyError(f"unknown preset {preset!r}{did_you_mean(preset, PRESETS)}; "
                           f"presets: {', '.join(PRESETS)}")
        preset = PRESETS[preset]
    elif not isinstance(preset, Preset):
        raise TypeError(f"preset must be a preset id or a Preset; got {preset!r}")
    else:
        _check_preset(preset)
    for name, value in (("trial", trial), ("seed", seed)):
        if not _whole_arg(value):
            raise ValueError(f"{name} must be an integer >= 0; got {value!r}")
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be a callable(n_sequences, n_steps) or None; got {progress!r}")
    if isinstance(checkpoint_every, (bool, np.bool_)) or not isinstance(checkpoint_every, (int, float, np.integer,
                                                                                        np.floating)) \
            or math.isnan(checkpoint_every) or checkpoint_every < 0:
        raise ValueError(f"checkpoint_every must be a number of seconds >= 0 (0: a save at every pass "
                         f"of the protocol's loop); got {checkpoint_every!r}")
    if resume and checkpoint is None:
        raise ResumeError("resume=True needs checkpoint= (the trial checkpoint to go on from)")
    return preset


def _check_preset(preset: Preset):
    """A :class:`Preset` made by hand (``dataclasses.replace``) that its protocol
    cannot run is refused here, saying what is wrong, instead of failing in the
    middle of a trial or running one that means nothing (``limit=0``)."""
    if preset.protocol not in _PROTOCOLS:
        raise ValueError(f"preset {preset.id}: unknown protocol {preset.protocol!r}; "
                         f"protocols are {list(_PROTOCOLS)}")
    missing = [k for k in _PROTOCOL_OPTIONS[preset.protocol] if k not in preset.options]
    if preset.options.get("construct"):
        missing += [k for k in ("plateau_block", "plateau_patience") if k not in preset.options]
    if missing:
        raise ValueError(f"preset {preset.id}: its protocol {preset.protocol!r} needs the options "
                         f"{missing}, which it lacks")
    preset.with_options(**preset.options)  # every value in range, and milestones, construct consistent


def _trial_job(preset: Preset, trial: int, seed: int) -> dict:
    """What a trial checkpoint must have been saved by: the same preset
    (every setting: a digest of its repr), trial, seed and code version."""
    digest = hashlib.sha256(repr(_as_recorded(preset)).encode()).hexdigest()[:16]
    options = _option_text(preset) if preset.id in PRESETS else None  # for the reader: what differs
    return dict(preset=preset.id, trial=int(trial), seed=int(seed), options=options,
                preset_digest=digest, version=code_version())


def _as_recorded(preset: Preset) -> Preset:
    """``preset`` without the learner arguments that set a registered
    preset's learner to the value it has anyway (``update="step"``): the same
    trial, and no change in the records' ``options`` (:func:`_option_text`),
    so not another preset for a checkpoint either."""
    base = PRESETS.get(preset.id)
    extra = {k: v for k, v in preset.learner_changes.items() if base is not None and k not in base.learner_changes}
    if not extra:
        return preset
    params = base.learner(seed=0).get_params()
    keep = {k: v for k, v in preset.learner_changes.items() if k not in extra or params.get(k, _MISSING) != v}
    return dataclasses.replace(preset, learner_changes=keep)


_MISSING = object()


def _trial_meta_problem(meta) -> str:
    """What a resumed trial cannot take of a trial checkpoint's metadata:
    :func:`_status_problem`'s and its step count, stream states and
    protocol state; '' if nothing."""
    problem = _status_problem(meta)
    if problem:
        return problem
    if not _whole_arg(meta.get("steps")):
        return _shown(meta, "steps") + ", not a whole number >= 0"
    if not isinstance(meta.get("tasks"), list):
        return _shown(meta, "tasks") + ", not a list of stream states"
    if not isinstance(meta.get("state"), dict):
        return _shown(meta, "state") + ", not a mapping of the protocol's state"
    return ""


def _state_array_specs(preset: Preset, learner) -> dict:
    """The arrays of a protocol's own state that a trial checkpoint may hold
    (``s.<name>``; the learner's are ``m.<name>``): name -> (test of a
    shape, the shape in words, its largest size in bytes), from the preset's
    options and the trial's ``learner``.  All are float64.  The ST3 window's
    recent per-sequence scores (``hist``: 3 columns, 2 in checkpoints saved
    before the third score was kept; at most ``window - 1`` rows) and, while
    sequential construction holds a cell out, its input gate's initial
    weights (``saved``)."""
    o, specs = preset.options, {}
    if preset.protocol in ("st3", "milestones"):
        rows = max(o["window"] - 1, 0)
        specs["hist"] = (lambda shape: len(shape) == 2 and shape[0] <= rows and shape[1] in (2, 3),
                         f"(rows, 3) with at most {rows} rows", rows * 3 * 8)
    if preset.protocol == "streak" and o.get("construct"):
        w_in = np.shape(learner.get_weights().get("W_in"))
        specs["saved"] = (lambda shape: shape == w_in, f"{w_in} (the input gate's initial weights)",
                          math.prod(w_in) * 8)
    return specs


def _check_trial_index(preset: Preset, learner, index, read, path):
    """Refuse, before any array of the trial checkpoint ``path`` is inflated,
    any array (``index``: name -> (shape, dtype)) that is not of the trial's
    learner (``m.<name>``, with the dtype and shape ``learner``'s
    configuration implies) or of its protocol's state (``s.<name>``,
    :func:`_state_array_specs`); the message names the array, its size and
    the size expected."""
    from .checkpoint import _state_index_check, native_dtype
    from .errors import CheckpointError

    own = {k: v for k, v in index.items() if k.startswith("m.")}
    _state_index_check(learner, own, read, path, "trial's learner", prefix="m.")
    specs = _state_array_specs(preset, learner)
    for key, (shape, dtype) in index.items():
        if key in own:
            continue
        if not key.startswith("s.") or key[2:] not in specs:
            raise CheckpointError(f"{path}: array {key!r} is not one of a {preset.protocol} trial's "
                                  f"(its learner's 'm.<name>'"
                                  f"{''.join(f', s.{k}' for k in specs)})")
        fits, words, largest = specs[key[2:]]
        if native_dtype(dtype) != np.float64 or not fits(shape):
            raise CheckpointError(f"{path}: the stored {key!r} is {dtype} {shape} "
                                  f"({math.prod(shape) * dtype.itemsize:,} bytes); the trial's "
                                  f"configuration implies float64 {words} ({largest:,} bytes at most)")


def read_trial_checkpoint(path, preset: Preset, trial: int, seed: int):
    """The arrays and metadata of the checkpoint of a running trial, checked
    against the trial that is to go on from it.

    Raises :class:`~online_lstm.errors.CheckpointError` for a file that is
    not a readable trial checkpoint (every array is checked against the
    sizes the trial's configuration implies before any is inflated, and the
    learner's state as the learner checks it), and :class:`ResumeError` for
    one saved by another trial, preset setting, seed or code version.
    """
    from .checkpoint import _read_checkpoint
    from .errors import CheckpointError, InputError

    mine = _trial_job(preset, trial, seed)
    learner = preset.learner(seed=0)  # (its state is the checkpoint's: the seed does not matter)

    def check(meta, index, read):
        problem = _trial_meta_problem(meta)
        if problem:
            raise CheckpointError(f"{path}: not a trial checkpoint as reproduce writes it: {problem}")
        theirs = meta["job"]
        diff = [f"{k} {theirs.get(k)!r} (here {v!r})" for k, v in mine.items() if theirs.get(k) != v]
        if diff:
            raise ResumeError(f"cannot resume from {path}: it was saved with {', '.join(diff)}; "
                              "resume with the settings it was saved with, or run without resume to "
                              "start the trial afresh")
        _check_trial_index(preset, learner, index, read, path)

    arrays, meta = _read_checkpoint(path, KIND_TRIAL, check)
    try:  # the learner's own checks, on a scratch learner: a resumed trial is not started with it
        learner.load_state_arrays({k[2:]: v for k, v in arrays.items() if k.startswith("m.")})
    except InputError as exc:
        raise CheckpointError(f"{path}: the stored learner state does not fit its own "
                              f"configuration: {exc}") from None
    return arrays, meta


# ---------------------------------------------------------------------------
# scores
# ---------------------------------------------------------------------------
def end_errors(out: np.ndarray, batch: Batch) -> np.ndarray:
    """Absolute error of every output at each sequence's end, shape (n, n_out),
    against the noise-free target.  ``out`` (T, n_out) holds the outputs for
    the rows of ``batch`` (n sequences, T rows)."""
    return np.abs(out[batch.ends] - batch.target)


def step_max_errors(out: np.ndarray, batch: Batch) -> np.ndarray:
    """Largest absolute error over the targets of each sequence, shape (n,);
    ``out`` (T, n_out) as for :func:`end_errors`."""
    err = np.where(np.isnan(batch.Y), 0.0, np.abs(out - np.nan_to_num(batch.Y)))
    return np.maximum.reduceat(err.max(axis=1), batch.starts)


def sequence_sse(out: np.ndarray, batch: Batch) -> np.ndarray:
    """The paper's E = sum_k (t_k - y_k)^2 summed over each sequence's targets, shape (n,);
    ``out`` (T, n_out) as for :func:`end_errors`."""
    sq = np.where(np.isnan(batch.Y), 0.0, (out - np.nan_to_num(batch.Y)) ** 2)
    return np.add.reduceat(sq.sum(axis=1), batch.starts)


def streak_hit(ok: np.ndarray, carry: int, need: int):
    """Where a run of ``need`` successive True values completes.

    Parameters
    ----------
    ok : bool array of shape (n,)
    carry : int
        Length of the run of True values just before ``ok[0]``.
    need : int

    Returns
    -------
    (index, carry) : index of the element that completes the run (or -1),
        and the run length after the last element.
    """
    idx = np.arange(len(ok))
    last_bad = np.maximum.accumulate(np.where(ok, -1, idx)) if len(ok) else idx
    run = np.where(last_bad >= 0, idx - last_bad, carry + idx + 1)
    hits = np.flatnonzero(run >= need)
    return (int(hits[0]) if len(hits) else -1), (int(run[-1]) if len(ok) else carry)


class Window:
    """The ``size`` most recent per-sequence values of some scores, vectorised.

    :meth:`push` appends a chunk and returns, for each of its sequences, the
    window sums up to and including it (NaN while fewer than ``size``
    sequences have been seen).  ``n_scores`` is the number of scores per
    sequence.
    """

    def __init__(self, size: int, n_scores: int):
        self.size = size
        self.hist = np.zeros((0, n_scores))
        self.count = 0

    def push(self, values: np.ndarray) -> np.ndarray:
        """Append the scores of a chunk of n sequences, shape (n, n_scores) (or
        (n,) for one score); return the window sums, shape (n, n_scores)."""
        values = np.asarray(values, dtype=np.float64).reshape(len(values), -1)
        allv = np.concatenate([self.hist, values])
        c = np.concatenate([np.zeros((1, allv.shape[1])), np.cumsum(allv, axis=0)])
        n_old = len(self.hist)
        ends = np.arange(n_old + 1, len(allv) + 1)
        sums = c[ends] - c[np.maximum(ends - self.size, 0)]
        seen = self.count + np.arange(1, len(values) + 1)
        sums[seen < self.size] = np.nan
        self.hist = allv[-(self.size - 1):] if self.size > 1 else allv[:0]
        self.count += len(values)
        return sums

    def state(self):
        """``(recent values, count)``, a copy for :meth:`load`."""
        return self.hist.copy(), self.count

    def load(self, state):
        """Go back to a :meth:`state`."""
        self.hist, self.count = state[0].copy(), state[1]


def _frozen_test(t: Trial, batch: Batch, wrong_fn, max_wrong=None):
    """Frozen-weight test in chunks of sequences; stop once more than ``max_wrong`` are wrong.

    ``wrong_fn(out, part) -> bool array (n,)``.  Returns ``(n_wrong, out)``
    where ``out`` is None if the test stopped early.
    """
    n = len(batch)
    if max_wrong is None:
        out = t.predict(batch)
        return int(np.sum(wrong_fn(out, batch))), out
    outs, wrong = [], 0
    for a in range(0, n, _TEST_CHUNK):
        part = batch.take(a, min(n, a + _TEST_CHUNK))
        o = t.predict(part)
        wrong += int(np.sum(wrong_fn(o, part)))
        if wrong > max_wrong:
            return wrong, None
        outs.append(o)
    return wrong, np.concatenate(outs)


def _test_fields(out, batch, wrong, prefix=""):
    return _error_fields(out[batch.ends] - batch.target, wrong, prefix)


def _error_fields(err, wrong, prefix=""):
    """Test-record fields from the end errors ``err`` (n, n_out) and the wrong count."""
    return {f"{prefix}test_size": len(err), f"{prefix}wrong": wrong,
            f"{prefix}frac_wrong": wrong / len(err),
            f"{prefix}test_mae": float(np.mean(np.abs(err))),
            f"{prefix}test_mse": float(np.mean(err ** 2))}


def _streamed_test(t: Trial, task, n: int, wrong_fn) -> dict:
    """Frozen-weight test on the next ``n`` sequences of ``task``, generated and
    run a chunk at a time.

    One batch of 10,000 2c sequences with q = 1000 would need about 80 GB of
    one-hot inputs; a chunk holds at most a few million floats.  The sequences,
    the count and the fields are those of one whole batch (the stream does
    not depend on how it is read, and each test sequence starts from a reset).
    """
    wrong, errs = 0, []
    chunk = t.chunk(task)
    for a in range(0, n, chunk):
        part = task.sample(min(chunk, n - a))
        out = t.predict(part)
        wrong += int(np.sum(wrong_fn(out, part)))
        errs.append(out[part.ends] - part.target)
    return _error_fields(np.concatenate(errs), wrong)


def _abs_wrong(threshold):
    """ABS(threshold): a sequence is wrong if any output's final error reaches it."""
    return lambda out, b: np.any(end_errors(out, b) >= threshold, axis=1)


# ---------------------------------------------------------------------------
# protocols
# ---------------------------------------------------------------------------
def _run_reber(t: Trial) -> dict:
    p, o = t.preset, t.preset.options
    per_set = o.get("inits_per_dataset", 10)
    data_index = t.trial // per_set
    t.data_seed = t.record["data_seed"] = t.seed - t.trial + data_index
    task = p.task(seed=[t.seed, 1], sets_seed=[t.data_seed, 3], **p.task_kwargs)
    both = Batch.concat([task.train, task.test])
    wrong = lambda out, b: ~correct_sequences(out, b, o["rule"])  # noqa: E731
    success = False
    while t.seen < o["limit"]:
        t.resume_point([task])
        t.train(task.sample(min(o["check_every"], o["limit"] - t.seen)))  # the limit, not past it
        n_wrong, _ = _frozen_test(t, both, wrong, max_wrong=0)
        if n_wrong == 0:
            success = True
            break
    out = t.predict(both)
    bad = wrong(out, both)
    n = len(task.train)
    # the long-lag prediction: the closing T/P, predicted when the inner E is the input
    lag_ok = correct_steps(out, both.legal, o["rule"])[both.ends - 1]
    return t.finish(success=success, sequences=t.seen, train_wrong=int(bad[:n].sum()),
                    wrong=int(bad[n:].sum()), test_size=len(task.test),
                    # no test strings (n_test=0): NaN, without NumPy's empty-mean warning
                    frac_wrong=float(bad[n:].mean()) if len(task.test) else math.nan,
                    lag_correct=float(lag_ok.mean()),
                    mean_train_len=float(task.train.lengths.mean() + 1),
                    mean_test_len=float(task.test.lengths.mean() + 1) if len(task.test) else math.nan)


def _gate_shut(m, shut: bool, saved=None):
    """Sequential construction (2a/2b): hold the input gate shut, or open it again.

    With every input-gate weight at -1000, y_in = f(net_in) is exactly 0, so
    the cell state and output stay 0 and no weight of the cell, its gate or
    its outgoing connections receives any gradient: the net behaves exactly
    as if the cell were absent.  Opening restores the gate's initial weights.
    """
    if shut:
        saved = m.get_weights()["W_in"]
        m.set_weights(W_in=np.full_like(saved, _SHUT))
        return saved
    m.set_weights(W_in=saved)
    return None


class Plateau:
    """The trigger of sequential construction (2a/2b; spec §8 item 18):
    fires when the mean error of successive blocks of ``block`` sequences
    has not fallen ``tol`` (relative) below the best block so far for
    ``patience`` blocks in a row.  ``means`` keeps every block's mean, and
    ``improved`` whether it was ``tol`` below the best before it."""

    TOL = 0.01  #: default relative gain a block must show

    def __init__(self, block: int, patience: int, tol: float = TOL):
        self.block, self.patience, self.tol = block, patience, tol
        self.best, self.stale = np.inf, 0
        self.pending: list = []
        self.means: list = []
        self.improved: list = []

    @classmethod
    def of(cls, options: dict) -> "Plateau":
        """The trigger a preset's options set (``plateau_block``, ``plateau_patience``, ``plateau_tol``)."""
        return cls(options["plateau_block"], options["plateau_patience"],
                   options.get("plateau_tol", cls.TOL))

    def state(self) -> dict:
        """Everything :meth:`add` has seen, as JSON values."""
        return dict(best=self.best, stale=self.stale, pending=[float(e) for e in self.pending],
                    means=list(self.means), improved=list(self.improved))

    def load(self, state: dict):
        """Go on from a :meth:`state`."""
        self.best, self.stale = float(state["best"]), int(state["stale"])
        self.pending = [float(e) for e in state["pending"]]
        self.means, self.improved = list(state["means"]), list(state["improved"])

    def add(self, errors) -> bool:
        """Add per-sequence errors in training order; True once the test fires."""
        self.pending += list(errors)
        while len(self.pending) >= self.block:
            e = float(np.mean(self.pending[:self.block]))
            del self.pending[:self.block]
            self.means.append(e)
            self.improved.append(e < self.best * (1 - self.tol))
            if self.improved[-1]:
                self.best, self.stale = e, 0
            else:
                self.stale += 1
            if self.stale >= self.patience:
                return True
        return False


def streak_wrong(options: dict):
    """The streak protocol's test (2a/2b/2c), as ``wrong(out, batch)`` -> bool
    per sequence: some target's error reaches ``threshold`` at any step
    (``where="all"``, 2a) or at the sequence end (2b, 2c)."""
    thr = options["threshold"]
    if options["where"] == "all":
        return lambda out, b: step_max_errors(out, b) >= thr
    return _abs_wrong(thr)


def _run_streak(t: Trial) -> dict:
    p, o = t.preset, t.preset.options
    task = p.make_task(seed=[t.data_seed, 1])
    chunk = t.chunk(task)
    need, wrong = o["streak"], streak_wrong(o)
    saved = _gate_shut(t.m, True) if o["construct"] else None
    plateau = Plateau.of(o) if o["construct"] else None
    added_at = None
    carry, hit = 0, -1
    # shorter streaks on the way, for the record (how long precision takes)
    short = {n: [0, None] for n in o.get("record_streaks", (100, 1000)) if n < need}
    t.partial = lambda: {**{f"streak{n}_end": st[1] for n, st in short.items()},
                         **({"cell_added_at": added_at} if o["construct"] else {})}
    while t.seen < o["limit"]:
        v = t.resume_point([task], carry=carry, added_at=added_at, saved=saved,
                           plateau=plateau.state() if plateau else None,
                           short=[[n, c, e] for n, (c, e) in short.items()])
        carry, added_at, saved = v["carry"], v["added_at"], v["saved"]
        if plateau:
            plateau.load(v["plateau"])
        short = {n: [c, e] for n, c, e in v["short"]}
        snap = t.snapshot()
        # with the cell out, a chunk ends where the trigger's block ends (a chunk smaller than a
        # block included), so the cell joins right after the block that fired it
        n = min(chunk, o["plateau_block"] - len(plateau.pending)) if saved is not None else chunk
        b = task.sample(min(n, o["limit"] - t.seen))
        out = t.train(b)
        if not np.all(np.isfinite(out)):
            raise FloatingPointError("non-finite output")
        ok = ~wrong(out, b)
        first = t.seen - len(b)
        hit, carry = streak_hit(ok, carry, need)
        for n, st in short.items():
            if st[1] is None:
                h, st[0] = streak_hit(ok, st[0], n)
                st[1] = None if h < 0 else first + h + 1
        # error stopped decreasing (at the chunk's last sequence, its block's end); a streak that
        # a sequence of the chunk completed came first: the trial stops there, without the cell
        if hit < 0 and saved is not None and plateau.add(sequence_sse(out, b)):
            saved = _gate_shut(t.m, False, saved)
            added_at = t.seen
            carry = 0  # the net changed: start counting afresh
            hit = -1
            short = {n: [0, None] for n in short}
        if hit >= 0:
            t.restore(snap)
            t.train(b.take(0, hit + 1))
            assert t.seen == first + hit + 1
            break
    success = hit >= 0
    end = t.seen
    start = end - need if success else None
    fields = dict(success=success, sequences=(start if o["reading"] == "start" else end) if success else t.seen,
                  streak_start=start, streak_end=end if success else None)
    fields.update({f"streak{n}_end": st[1] for n, st in short.items()})
    if o["construct"]:
        fields["cell_added_at"] = added_at
    fields.update(_streamed_test(t, p.make_task(seed=[t.data_seed, 2]), o["test_size"], wrong))
    return t.finish(**fields)


def _run_st12(t: Trial) -> dict:
    p, o = t.preset, t.preset.options
    task = p.make_task(seed=[t.data_seed, 1])
    stop_set = p.make_task(seed=[t.data_seed, 3]).sample(o["stop_test_size"])
    wrong = _abs_wrong(o["threshold"])
    st1 = st2 = None
    t.partial = lambda: {"st1_sequences": st1}
    while t.seen < o["limit"]:
        st1 = t.resume_point([task], st1=st1)["st1"]
        t.train(task.sample(min(o["check_every"], o["limit"] - t.seen)))  # the limit, not past it
        n_wrong, out = _frozen_test(t, stop_set, wrong, max_wrong=o["max_wrong"])
        if out is None:
            continue
        if st1 is None:
            st1 = t.seen
        if np.mean(end_errors(out, stop_set)) < o["max_error"]:
            st2 = t.seen
            break
    fields = dict(success=st2 is not None, sequences=t.seen, st1_sequences=st1)
    test = p.make_task(seed=[t.data_seed, 2]).sample(o["test_size"])
    n_wrong, out = _frozen_test(t, test, wrong)
    fields.update(_test_fields(out, test, n_wrong))
    return t.finish(**fields)


def _seq_error(out, b, how):
    """Per-sequence end-of-sequence training error: mean |t - y| over outputs, or E."""
    e = out[b.ends] - b.Y[b.ends]
    return np.mean(np.abs(e), axis=1) if how == "mae" else np.sum(e ** 2, axis=1)


def _run_window(t: Trial, milestones) -> dict:
    """ST3 (one milestone, ``None``) or Exp. 5 milestones (n_seq values)."""
    p, o = t.preset, t.preset.options
    task = p.make_task(seed=[t.data_seed, 1])
    test = p.make_task(seed=[t.data_seed, 2]).sample(o["test_size"])
    chunk = t.chunk(task)
    W, thr, how = o["window"], o["threshold"], o.get("avg_error", "mae")
    other = "mse" if how == "mae" else "mae"
    win = Window(W, 3)  # per sequence: wrong, the error the rule reads, the other reading
    wrong = _abs_wrong(thr)
    todo = list(milestones)
    fields = {}
    t.partial = lambda: dict(fields)  # (the milestones met and their tests; the window's first all-correct)

    def scores(out, b):
        bad = np.any(np.abs(out[b.ends] - b.Y[b.ends]) >= thr, axis=1)
        return np.column_stack([bad, _seq_error(out, b, how), _seq_error(out, b, other)])

    while t.seen < o["limit"] and todo:
        # (order: a checkpoint's JSON sorts the keys of fields, and the record keeps their order)
        v = t.resume_point([task], hist=win.hist, count=win.count, todo=todo, fields=fields,
                           order=list(fields))
        hist = v["hist"]
        if hist.shape[1] == 2:  # a checkpoint from before the other reading was kept: unknown
            hist = np.column_stack([hist, np.full(len(hist), np.nan)])
        win.load((hist, v["count"]))
        order = v.get("order", v["fields"])  # a checkpoint saved before "order" was kept: sorted
        todo, fields = list(v["todo"]), {k: v["fields"][k] for k in order}
        b = task.sample(min(chunk, o["limit"] - t.seen))
        while b is not None and todo:
            snap, wsnap = t.snapshot(), win.state()
            sums = win.push(scores(t.train(b), b))
            n_bad, avg = sums[:, 0], sums[:, 1] / W
            with np.errstate(invalid="ignore"):
                met = ((n_bad == 0) & (avg < o["beta"])) if todo[0] is None else (n_bad < todo[0])
                all_ok = np.flatnonzero(n_bad == 0)
            if todo[0] is None and "all_correct_sequences" not in fields and len(all_ok):
                # the window's first moment with every sequence correct: ST3 read with the
                # paper's E (for one output and ABS(0.04), E < 0.01 then holds as well)
                fields["all_correct_sequences"] = t.seen - len(b) + int(all_ok[0]) + 1
            hits = np.flatnonzero(met)
            if not len(hits):
                break
            i = int(hits[0])
            t.restore(snap)  # retrain exactly up to the sequence where the rule holds
            win.load(wsnap)
            first = b.take(0, i + 1)
            win.push(scores(t.train(first), first))
            ms = todo.pop(0)
            prefix = "" if ms is None else f"n{ms}_"
            n_wrong, tout = _frozen_test(t, test, wrong)
            fields[f"{prefix}sequences"] = t.seen
            fields.update(_test_fields(tout, test, n_wrong, prefix))
            # a later milestone that this very sequence meets too (both can hold when the
            # window first fills) is met here, not at the next sequence: its test sees these weights
            while todo and todo[0] is not None and n_bad[i] < todo[0]:
                prefix = f"n{todo.pop(0)}_"
                fields[f"{prefix}sequences"] = t.seen
                fields.update(_test_fields(tout, test, n_wrong, prefix))
            if ms is None:
                fields["train_avg_error"] = float(avg[i])
                # both readings of "average training error" (spec §8 item 13), whichever the rule read
                reading = {how: float(avg[i]), other: float(sums[i, 2] / W)}
                fields["train_avg_mae"], fields["train_avg_E"] = reading["mae"], reading["mse"]
            b = b.take(i + 1, len(b)) if i + 1 < len(b) else None
    success = not todo
    fields["success"] = success
    if milestones[0] is not None:
        last = f"n{milestones[-1]}_"
        for k in ("sequences", "test_size", "wrong", "frac_wrong", "test_mae", "test_mse"):
            if last + k in fields:
                fields[k] = fields[last + k]
    if not success:
        fields["sequences"] = t.seen
        n_wrong, tout = _frozen_test(t, test, wrong)
        fields.update(_test_fields(tout, test, n_wrong))
    return t.finish(**fields)


_PROTOCOLS = {
    "reber": _run_reber,
    "streak": _run_streak,
    "st12": _run_st12,
    "st3": lambda t: _run_window(t, [None]),
    "milestones": lambda t: _run_window(t, list(t.preset.options["milestones"])),
}


def run_trial(preset: Preset | str, trial: int = 0, seed: int = 0, progress=None,
              return_learner=False, checkpoint=None, checkpoint_every: float = 60.0,
              resume: bool = False):
    """Run one trial of ``preset`` and return its record.

    Parameters
    ----------
    preset : Preset or str
        A preset, or a preset id (an unknown one raises KeyError).  A
        Preset made by hand whose protocol lacks an option it reads, or
        with a value out of range, raises ValueError before any training.
    trial : int
        Trial number, >= 0; the weights are seeded with ``seed + trial`` and the
        data streams with ``[seed + trial, k]`` (Experiment 1: the train/test
        set pair with ``seed + trial // 10``).
    seed : int
        >= 0.
    progress : callable(n_sequences, n_steps), optional
        Called after every chunk of training sequences (a chunk that is
        retrained up to the sequence where a rule held is reported again;
        a resumed trial first reports the sequences it had trained, with 0
        steps).
    return_learner : bool
        Also return the trained learner (as it was at the final test).
    checkpoint : path, optional
        Save the running trial to this file (atomically) every
        ``checkpoint_every`` seconds, at the top of the protocol's training
        loop: the learner, the counters, the data streams and the
        protocol's own state.  The file stays when the trial ends.
    checkpoint_every : float
        Seconds between saves, >= 0 (0 saves at every pass of the loop).
    resume : bool
        Needs ``checkpoint``.  If ``checkpoint`` exists, go on from it instead of starting afresh.
        The record is that of an uninterrupted trial apart from the timing
        fields (which include the time before the interruption).  A file
        saved by another trial, preset setting, seed or code version raises
        :class:`ResumeError`; one that is not a trial checkpoint,
        :class:`~online_lstm.errors.CheckpointError`.

    Returns
    -------
    dict, or (dict, OnlineLSTM) with ``return_learner``
        ``preset``, ``trial``, ``seed``, ``data_seed``, ``success``,
        ``sequences`` (training sequences until success, or until the limit),
        the protocol's milestones (``st1_sequences``, ``streak_end``,
        ``n140_sequences``, ...), the final frozen test (``test_size``,
        ``wrong``, ``frac_wrong``, ``test_mae``, ``test_mse``), ``steps``
        (training and test steps), ``wall_s``, ``cpu_s`` (CPU time of the
        trial's process: its cost on a shared machine), ``steps_per_s``,
        ``reason`` (``"solved"``, ``"limit"``, or ``"diverged: ..."`` for a
        trial whose learner diverged: unsuccessful, with no final test, and
        with the milestones it had met before, such as Exp. 5's
        ``n140_*``).
    """
    t = Trial(preset, trial, seed, progress, checkpoint, checkpoint_every, resume)
    preset = t.preset
    t.record["data_seed"] = t.data_seed
    try:
        rec = _PROTOCOLS[preset.protocol](t)
        rec["reason"] = "solved" if rec["success"] else "limit"
    except (DivergenceError, FloatingPointError) as exc:
        # unsuccessful, with the milestones met before (Exp. 5's n140_*, ST1, the shorter streaks)
        rec = t.finish(**t.partial(), success=False, sequences=t.seen, reason=f"diverged: {exc}")
    return (rec, t.m) if return_learner else rec


# ---------------------------------------------------------------------------
# many trials, in parallel
# ---------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def source_digest() -> str:
    """SHA-256 (12 hex digits) of the package's Python sources as they are on disk.

    The same on every machine that has the same code installed, whether from
    a git checkout, an editable install or a wheel, and whatever else the
    checkout holds (tests, docs).  Computed once per process, near the time
    it imported the package (a Dask worker: at its warm-up).
    """
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for f in sorted(root.rglob("*.py")):
        h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:12]


@functools.lru_cache(maxsize=1)
def software() -> str:
    """The Python, NumPy and Numba versions of the process that ran a trial
    (its record's ``software``; with ``version``, the code that made it)."""
    import numba
    return f"python {platform.python_version()}, numpy {np.__version__}, numba {numba.__version__}"


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """What made a record: the git commit of this source tree; with local
    changes to the package's own files, ``<commit>+dirty.<source digest>``, so
    that two different uncommitted versions differ (edits elsewhere in the
    checkout, a report or a benchmark's CSV, do not count); outside a git
    checkout, ``src.<source digest>`` (:func:`source_digest`).  Only a
    checkout that tracks this package's own files counts: installed into a
    git-ignored directory of another repository (a ``.venv`` in the user's
    project), the package is outside any checkout, and that repository's
    commits say nothing about it."""
    here = Path(__file__).resolve().parent
    try:
        subprocess.run(["git", "-C", str(here), "ls-files", "--error-unmatch", "--", Path(__file__).name],
                       capture_output=True, text=True, timeout=10, check=True)
        rev = subprocess.run(["git", "-C", str(here), "rev-parse", "--short=10", "HEAD"],
                             capture_output=True, text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--", "."],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return f"src.{source_digest()}"
    return rev + (f"+dirty.{source_digest()}" if dirty else "")


def _job_key(preset_id, trial) -> str:
    """How progress messages name a trial (plain text: Dask events carry it)."""
    return f"{preset_id}#{int(trial)}"


def _worker(job, queue, checkpoints=None):
    """Run one trial; with ``queue``, report training progress on it as
    ``(sequences, steps, job key)`` messages, at most ~5 a second and the
    remainder when the trial ends.  ``checkpoints``: keyword arguments of
    :func:`run_trial` (``checkpoint``, ``checkpoint_every``, ``resume``)."""
    preset, trial, seed = job
    kw = checkpoints or {}
    if queue is None:
        return run_trial(preset, trial, seed, **kw)
    key = _job_key(preset.id, trial)
    acc = [0, 0, time.perf_counter()]

    def report(n_seq, n_steps):
        acc[0] += n_seq
        acc[1] += n_steps
        if time.perf_counter() - acc[2] > 0.2:
            queue.put((acc[0], acc[1], key))
            acc[:] = [0, 0, time.perf_counter()]

    rec = run_trial(preset, trial, seed, report, **kw)
    if acc[0]:
        queue.put((acc[0], acc[1], key))
    return rec


class TrainingBar:
    """The training bar of :func:`reproduce`: sequences trained so far,
    against the budget of all its trials (each preset's ``limit``).

    A trial that stops before its limit takes its unused budget off the
    total, so the bar ends at 100 % and its time estimate is a worst case
    (every running trial going on to its limit) that shortens as trials
    stop.  ``bar`` is a tqdm bar (or anything with ``update``, ``total``
    and ``refresh``).
    """

    def __init__(self, bar, jobs_list):
        self.bar = bar
        self.budget = {_job_key(p.id, k): p.limit for p, k, _ in jobs_list}
        self.seen = dict.fromkeys(self.budget, 0)
        self.done = set()
        bar.total = sum(self.budget.values())
        bar.refresh()

    def update(self, n, key=None):
        """``n`` more training sequences of trial ``key``."""
        if key in self.seen:
            self.seen[key] += n
        elif key in self.done:  # a report that trails its trial's record (Dask events can)
            self.bar.total += n
        self.bar.update(n)

    def finished(self, preset_id, trial):
        """Trial ``trial`` of ``preset_id`` has stopped: its budget becomes
        what it reported (more than its limit, if a trial that met its rule
        inside a chunk retrained part of that chunk)."""
        key = _job_key(preset_id, trial)
        if key in self.budget:
            self.bar.total -= self.budget.pop(key) - self.seen.pop(key)
            self.done.add(key)
            self.bar.refresh()


def checkpoint_interval(checkpoint_every, scheduler=None) -> float | None:
    """Seconds between the checkpoints of a running trial under
    :func:`reproduce`, or None for none: ``"auto"`` is 60 s on local processes
    and none on a cluster (``scheduler``); a negative number is none."""
    if isinstance(checkpoint_every, str) and checkpoint_every == "auto":
        return 60.0 if scheduler is None else None
    if checkpoint_every is None:
        return None
    if isinstance(checkpoint_every, bool) or not isinstance(checkpoint_every, (int, float)) \
            or math.isnan(checkpoint_every):
        raise ValueError(f"checkpoint_every must be a number of seconds, 'auto' or None; "
                         f"got {checkpoint_every!r}")
    return float(checkpoint_every) if checkpoint_every >= 0 else None


#: Most trials per preset one reproduce() runs (its job list is built in memory).
MAX_TRIALS = 1_000_000


def reproduce(presets, trials=None, seed=0, quick=False, jobs=None, out=None, progress=True,
              options=None, name=None, scheduler=None, resume=False,
              checkpoint_every: float | str | None = "auto", only_trials=None) -> pd.DataFrame:
    """Run the trials of one or more presets; one record per trial.

    Parameters
    ----------
    presets : str, Preset, or list of them
        Preset ids, groups (``"2c"``), experiments (``"3"``) or ``"all"``,
        or Presets: registered ones and their :meth:`~Preset.with_options`
        variants (a Preset of an id of its own is refused: the records know
        a preset by its registered id).
    trials : int, optional
        Trials per preset; default the paper's count (1 with ``quick``).
    seed : int
        Trial k of every preset uses weight seed ``seed + k``, and data seed
        ``seed + k`` too, except in Experiment 1 (and its RTRL rows), whose
        trials share train/test sets as the paper's do: data set
        ``seed + k // 10`` (10 initialisations per set).
    quick : bool
        Use each preset's quick version (small sequence budget, small tests).
    jobs : int, optional
        Worker processes; default all cores.  1 runs in this process.
    out : path, optional
        Directory; the records are written to ``<out>/<name>.csv`` after
        every finished trial.
    progress : bool
        Show tqdm progress bars (trials, and training sequences).
    options : dict, optional
        Option changes for every preset (:meth:`Preset.with_options`).
    name : str, optional
        File name stem of the records (``<out>/<name>.csv``); default the
        preset ids joined by "_" (up to three; else "presets"), with
        "-quick" for a quick run.  One run at a time may write a given
        records file: a second one is refused with :class:`ResumeError`
        while the first holds ``<name>.csv.lock``.
    only_trials : sequence of int, optional
        Run only these trial indices k (each exactly as in a full run, with
        the seeds above), e.g. ``[23]`` to replay the record of trial 23;
        not together with ``trials``.
    scheduler : str, cluster or distributed.Client, optional
        Run the trials on this Dask cluster instead of local processes
        (``jobs`` is then ignored): a scheduler address such as
        ``"tcp://host:8786"``, a cluster object, or a Client (needs the
        ``dask`` extra; see :mod:`online_lstm.cluster`).  The records are
        the same as a local run's apart from the timing fields.
    resume : bool
        Keep the trials already in ``<out>/<name>.csv`` (same preset,
        trial, seed, options and ``quick``) and run only the others, e.g.
        after a long run was killed.  Trials are deterministic, so the
        result equals an uninterrupted run's apart from the timing fields.
        Other records in the file (other presets, options or seeds) stay in
        it untouched.  Reusable records made by other code (their
        ``version``) are refused with :class:`ResumeError`.  A trial that
        was interrupted goes on from its last checkpoint (see
        ``checkpoint_every``).
    checkpoint_every : float, "auto" or None
        With ``out``, each running trial saves itself every this many
        seconds to ``<out>/<name>.trials/<preset>.trial<k>.npz`` (see
        :func:`run_trial`), so that ``resume`` loses at most this much of a
        long trial; the file goes once the trial's record is written.
        None or a negative value: no checkpoints; 0: a save at every pass
        of the protocol's loop (for tests; the command line's
        ``--checkpoint-every 0`` means none).  ``"auto"`` (default): 60
        seconds with local processes, none with a ``scheduler``.  With a
        ``scheduler`` and a number, the workers write the checkpoints, so
        ``out`` must be on a filesystem that every worker sees at the same
        absolute path (an NFS home, or a ``LocalCluster``); a trial whose
        worker is lost then goes on from its checkpoint on the worker Dask
        reruns it on, instead of starting again.

    Returns
    -------
    pandas.DataFrame
        One row per trial, ordered by preset and trial.  With a
        ``scheduler``, ``attrs["cluster"]`` reports the workers and the
        Numba compilations and cache loads during the trials (all 0 when
        the workers' warm-up did its job).
    """
    from .presets import select

    for arg, value, low in (("trials", trials, 1), ("seed", seed, 0), ("jobs", jobs, 1)):
        if value is None and arg != "seed":
            continue
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{arg} must be an integer >= {low}{' or None' if arg != 'seed' else ''}; "
                             f"got {value!r}")
    if trials is not None and trials > MAX_TRIALS:  # the job list is built in memory
        raise ValueError(f"trials must be at most {MAX_TRIALS:,}; got {trials!r}")
    if only_trials is not None:
        if trials is not None:
            raise ValueError("give trials (how many, from trial 0) or only_trials (which ones), not both")
        if isinstance(only_trials, (int, np.integer)):
            only_trials = [only_trials]
        if not only_trials or any(isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0
                                  for k in only_trials):
            raise ValueError(f"only_trials must be a non-empty list of trial indices >= 0; "
                             f"got {only_trials!r}")
        only_trials = sorted({int(k) for k in only_trials})
    if name is not None and (not isinstance(name, str) or not name.strip() or name in (".", "..")
                             or "/" in name or (os.altsep or "/") in name or os.sep in name):
        # "" wrote a hidden ".csv"; "a/b" failed on its lock file in a missing directory
        raise ValueError(f"name must be a file name for the records (<out>/<name>.csv), without a "
                         f"directory; got {name!r}")
    checkpoint_every = checkpoint_interval(checkpoint_every, scheduler)
    if scheduler is not None:
        # ImportError with the pip command if dask is absent: before the records lock is taken
        # (raised later, the lock stayed held while the exception lived) and before any file is touched
        from .cluster import run_trials
    if isinstance(presets, (str, Preset)):
        presets = [presets]
    chosen = []
    for p in presets:
        if not isinstance(p, (str, Preset)):
            raise TypeError(f"presets must be preset ids, groups or Presets; got {p!r}")
        for q in [p] if isinstance(p, Preset) else [PRESETS[i] for i in select(p)]:
            if q.id not in PRESETS:
                # the records' options, resume and compare read a preset against the registered
                # one of its id: refused now, not after its first trial has run
                raise ValueError(f"preset {q.id!r} is not a registered preset: reproduce runs the "
                                 f"presets of online_lstm.presets.PRESETS and their with_options() "
                                 f"variants (run_trial runs any Preset)")
            _check_preset(q)
            if q in chosen:
                continue  # named twice ("1" and "1-5"): run once
            if any(c.id == q.id for c in chosen):
                raise ValueError(f"preset {q.id} is given twice with different options; records, trial "
                                 f"checkpoints and resume know a trial by its preset id, so run each "
                                 f"variant in its own reproduce() call, with its own name")
            chosen.append(q)
    if not chosen:
        raise ValueError("no presets given")
    if quick:  # the quick budget, then the caller's own changes to a preset on top of it
        chosen = [_quick(p) for p in chosen]
    if options:
        chosen = [p.with_options(**options) for p in chosen]
    jobs_list = [(p, k, seed) for p in chosen
                 for k in (only_trials if only_trials is not None
                           else range(trials if trials is not None else (1 if quick else p.trials)))]
    n_jobs = jobs or os.cpu_count() or 1
    n_jobs = max(1, min(n_jobs, len(jobs_list)))
    if name is None:
        name = "_".join(sorted({p.id for p in chosen})) if len(chosen) <= 3 else "presets"
        name += "-quick" if quick else ""
    path = ckpt_dir = None
    lock = _RecordsLock(None)
    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
        path = Path(out) / f"{name}.csv"
        lock = _RecordsLock(path)  # before the file is read: a second run would drop this one's records
        if checkpoint_every is not None:
            # absolute: Dask workers (which write the files then) may run elsewhere
            ckpt_dir = Path(out).resolve() / f"{name}.trials"
    # until the trials run (whose own try releases it): a refused run lets go of the lock now,
    # not when its exception is freed (in IPython, sys.last_value keeps it until the next error)
    try:
        version = code_version()
        records = []
        carried = []  # records in the file that this run does not use; kept in the file
        if resume:
            if path is None:
                raise ResumeError("resume=True needs out= (the directory of the records to resume)")
            kept, carried = _resumable(path, jobs_list, quick, version)
            records += kept
            have = {(r["preset"], r["trial"]) for r in kept}
            if ckpt_dir is not None:  # left behind by a run killed between record and clean-up
                for pid, k in have:
                    _trial_file(ckpt_dir, pid, k).unlink(missing_ok=True)
            jobs_list = [j for j in jobs_list if (j[0].id, j[1]) not in have]
            n_jobs = max(1, min(n_jobs, len(jobs_list)))
        elif path is not None and path.exists():
            # a new run of these trials: their old records give way to the new ones, and the
            # file's other records (other presets, options, seeds or quick) stay
            try:
                old, carried = _resumable(path, jobs_list, quick, None)
            except ResumeError as exc:
                raise ResumeError(f"{path} exists and is not a records file of reproduce; give another "
                                  f"name or out ({exc})") from None
            if old:
                warnings.warn(f"starting afresh: {path} holds {len(old)} finished record(s) of these "
                              f"trials from an earlier run, replaced as this run's trials finish; "
                              f"resume=True (--resume) would have kept them", RuntimeWarning, stacklevel=2)
        checkpoints, going_on = None, 0
        replaced = []
        if resume and path is not None and ckpt_dir is None and jobs_list:
            files = (_trial_file(Path(out) / f"{name}.trials", p.id, k) for p, k, _ in jobs_list)
            unused = [f for f in files if f.exists()]
            if unused:  # checkpoints off (checkpoint_every None, --checkpoint-every 0): not read either
                warnings.warn(f"{len(unused)} trial checkpoint(s) in {unused[0].parent} are not used: "
                              f"checkpoints are off in this run, so those trials start afresh; resume "
                              f"with checkpoints on (the default) to continue them", RuntimeWarning,
                              stacklevel=2)
        if ckpt_dir is not None and jobs_list:
            ckpt_dir.mkdir(exist_ok=True)
            checkpoints = {}
            for p, k, s in jobs_list:
                f = _trial_file(ckpt_dir, p.id, k)
                if resume and f.exists():
                    read_trial_checkpoint(f, p, k, s)  # a file that does not fit stops the run now
                    going_on += 1
                elif f.exists():
                    f.unlink()  # another run's: this one starts afresh
                    replaced.append(f.name)
                # on a cluster a task is rerun when its worker is lost, and then goes on from the
                # checkpoint its first run left (any other file was refused or removed above)
                checkpoints[p.id, k] = dict(checkpoint=f, checkpoint_every=checkpoint_every,
                                            resume=resume or scheduler is not None)

        from tqdm.auto import tqdm

        if replaced:
            warnings.warn(f"starting afresh: {len(replaced)} checkpoint(s) of an unfinished earlier run in "
                          f"{ckpt_dir} are replaced ({', '.join(replaced[:3])}{', ...' if len(replaced) > 3 else ''}); "
                          f"resume=True (--resume) would have continued them", RuntimeWarning, stacklevel=2)
        if resume and progress:
            tqdm.write(f"resuming {path}: {len(records)} finished trial(s) kept, {going_on} continue "
                       f"from their checkpoints, {len(jobs_list) - going_on} start", file=sys.stderr)
    except BaseException:
        lock.release()
        raise

    bar_t = tqdm(total=len(jobs_list) + len(records), initial=len(records), desc="trials",
                 unit="trial", disable=not progress, position=0)
    bar_s = tqdm(desc="training", unit="seq", unit_scale=True, disable=not progress, position=1)
    training = TrainingBar(bar_s, jobs_list) if progress else None  # sets the bar's total

    def done(rec):
        rec.update(version=version, quick=bool(quick),
                   options=_option_text(next(p for p in chosen if p.id == rec["preset"]), quick))
        records.append(rec)
        if training is not None:
            training.finished(rec["preset"], rec["trial"])
        bar_t.update(1)
        bar_t.set_postfix_str(f"{rec['preset']} #{rec['trial']}: "
                              f"{'solved' if rec['success'] else rec['reason']} "
                              f"after {rec['sequences']:,}")
        if path is not None:
            _write_records(_frame(carried + records), path)
        if checkpoints is not None:  # the record holds the trial now
            checkpoints[rec["preset"], rec["trial"]]["checkpoint"].unlink(missing_ok=True)

    report = None
    try:
        if not jobs_list:
            pass  # resumed: every trial is in the records already
        elif scheduler is not None:
            report = run_trials(jobs_list, scheduler, done, training, checkpoints)
        elif n_jobs == 1:
            for job in jobs_list:
                key = _job_key(job[0].id, job[1])
                done(run_trial(job[0], job[1], job[2],
                               None if training is None else lambda n, s: training.update(n, key),
                               **(checkpoints or {}).get((job[0].id, job[1]), {})))
        else:
            _compile_first(jobs_list)
            _run_pool(jobs_list, n_jobs, done, training, checkpoints)
        if ckpt_dir is not None and ckpt_dir.exists():
            from .checkpoint import remove_unfinished_saves

            # every trial is in the records: what is left are the temporary files of saves
            # that a killed process (a lost Dask worker, say) never finished
            remove_unfinished_saves(ckpt_dir, "*.npz")
    finally:
        bar_s.close()
        bar_t.close()
        if ckpt_dir is not None and ckpt_dir.exists() and not any(ckpt_dir.iterdir()):
            ckpt_dir.rmdir()
        lock.release()
    df = _frame(records)
    if report is not None:
        df.attrs["cluster"] = report
    return df



def _write_records(frame: pd.DataFrame, path: Path):
    """Write the records CSV atomically (a temporary file, then a rename): a
    run stopped in the middle of a write (Ctrl-C, SIGKILL, a full disk) leaves
    the previous version whole, never a cut one that a resume would accept."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        frame.to_csv(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class _RecordsLock:
    """An exclusive lock on ``<records>.lock`` while a run reads and rewrites
    its records file.  Each run rewrites the file from the records it read at
    its start, so two runs into one file would lose one run's records; the
    second is refused instead.  ``flock`` is released by the system when the
    process dies, so a killed run leaves no stale lock.  (No lock where
    ``fcntl`` does not exist.)"""

    def __init__(self, path):
        self.file = self.lock_path = None
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            return
        if path is None:
            return
        lock_path = path.with_name(path.name + ".lock")
        while True:
            f = open(lock_path, "a")  # noqa: SIM115 - held for the run, closed in release()
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                f.close()
                raise ResumeError(f"another reproduce is writing {path} (it holds {lock_path}); wait "
                                  f"for it to end, or give this run another name or out") from None
            # a run that ended between our open and our flock removed the file we locked: a
            # lock on it excludes nobody (the next run creates a new file), so lock that one
            try:
                here, there = os.fstat(f.fileno()), os.stat(lock_path)
                if (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino):
                    break
            except FileNotFoundError:
                pass
            f.close()
        self.file, self.lock_path = f, lock_path

    def release(self):
        if self.file is not None:
            self.lock_path.unlink(missing_ok=True)
            self.file.close()
            self.file = None

    __del__ = release


#: Record columns that hold text whatever they look like: a commit hash such
#: as "8e85294165" would read as a float (inf), "0123456789" as an integer, and
#: Experiment 5's preset id "5" as an integer.
_TEXT_COLUMNS = {"preset": str, "version": str, "options": str, "reason": str, "software": str}


_PANDAS_2 = int(pd.__version__.split(".")[0]) < 3


def read_records(path, **kwargs) -> pd.DataFrame:
    """A records CSV written by :func:`reproduce`, its text columns read as text.

    ``kwargs`` go to :func:`pandas.read_csv`.  Blank lines are dropped but
    keep their place in the index, so that row ``i`` of the table is line
    ``i + 2`` of the file (see :func:`_rows`).
    """
    if _PANDAS_2:  # every float reads back as the very number written: pandas 2's
        # default parser can be one ulp off (a record read back from its CSV then
        # differed from the same record made in another process); pandas 3's is exact
        kwargs.setdefault("float_precision", "round_trip")
    df = pd.read_csv(path, dtype=dict(_TEXT_COLUMNS), skip_blank_lines=False, **kwargs)
    return df.dropna(how="all")


def _rows(df: pd.DataFrame):
    """``(line, record)`` for each row of a table from :func:`read_records`:
    its line in the file (1 is the header), as error messages name it, and
    the row as a dict with its empty cells left out."""
    for i, rec in zip(df.index, df.to_dict("records")):
        yield i + 2, {k: v for k, v in rec.items() if not (isinstance(v, float) and np.isnan(v))}


def _truth_value(v):
    """A records CSV's true/false (True, "True", "true", 1, "1.0", ...) as a
    bool; None if it is not one (NaN, "maybe")."""
    return {"true": True, "1": True, "1.0": True,
            "false": False, "0": False, "0.0": False}.get(str(v).strip().lower())


#: Text that :func:`pandas.read_csv` reads as a missing value by default (its
#: documented ``na_values``): ``compare`` reads records so, ``--resume`` reads
#: them as text (to write the rows it does not own back unchanged), and
#: :func:`_number` makes the two agree on such a cell.
_NA_TEXT = frozenset({"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
                      "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"})


def _number(v) -> float | None:
    """A number of a records CSV (3, 0.165, "0.165", NaN, "nan" or "n/a" for
    a value not there) as a float; None if it is no number: text, inf, or a
    bool (a column of True read as one would pass for 1s)."""
    if isinstance(v, (bool, np.bool_)):
        return None
    if isinstance(v, str) and v.strip() in _NA_TEXT:
        return math.nan
    try:
        f = float(str(v).strip())
    except ValueError:
        return None
    return None if math.isinf(f) else f


def _whole(v) -> bool:
    f = _number(v)
    return f is not None and f >= 0 and f.is_integer()


def _exact_ids(df: pd.DataFrame) -> pd.DataFrame:
    """Records whose trial and seed cells (checked by :func:`_record_problem`)
    are exact ints ("3.0", or text in a column holding a seed beyond int64),
    so that trials of several files sort together and their seeds match."""
    return df.assign(trial=df["trial"].map(_exact_int), seed=df["seed"].map(_exact_int))


def _exact_int(v) -> int:
    """A whole number of a records CSV (checked by :func:`_whole`) as an int,
    exactly: through float, a seed above 2**53 would change."""
    if isinstance(v, (int, np.integer)):
        return int(v)
    try:
        return int(str(v).strip())
    except ValueError:  # "3.0"
        return int(float(v))


def _cell(rec, col) -> str:
    """A record's value as an error message shows it; an empty cell as such."""
    return repr(rec[col]) if col in rec else "(an empty cell)"


def _record_problem(rec, quick=True) -> str | None:
    """Why a row of a records CSV (a dict, its empty cells left out) cannot
    be a record of reproduce, or None; ``quick=False``: a file made before
    records had that column."""
    if not isinstance(rec.get("preset"), str) or not rec["preset"].strip():
        return f"preset {_cell(rec, 'preset')} is not a preset id"
    for col in ("trial", "seed"):
        if not _whole(rec.get(col)):
            return f"{col} {_cell(rec, col)} is not a whole number >= 0"
    if quick and _truth_value(rec.get("quick")) is None:
        return f"quick {_cell(rec, 'quick')} is not True or False"
    return None


def _counted_columns(preset_id) -> list:
    """The record columns besides ``success`` that :func:`compare` counts for a preset."""
    p = PRESETS.get(preset_id)
    more = {c for pr in (p.paper if p else ()) for c in
            (pr.prefix + "sequences", pr.prefix + "wrong", *(e[1] for e in pr.extra.values()))}
    return ["sequences", "steps", "wall_s", "cpu_s", *sorted(more - {"sequences"})]


def _count_problem(rec) -> str | None:
    """Why :func:`compare` cannot count a record (a row of a records CSV as a
    dict, its empty cells left out), or None: ``success`` is true or false,
    ``sequences`` and ``steps`` are counts, ``wall_s`` (and ``cpu_s``, absent
    in records made before it existed) seconds, and the further figures of the
    preset's paper rows numbers >= 0 or not there."""
    if _truth_value(rec.get("success")) is None:
        return f"success {_cell(rec, 'success')} is not True or False"
    for col in _counted_columns(rec.get("preset")):
        v = rec.get(col, math.nan)
        f = _number(v)
        if col in ("sequences", "steps"):
            if not _whole(v):
                return f"{col} {_cell(rec, col)} is not a whole number >= 0"
        elif col in ("wall_s", "cpu_s"):
            if f is None or f < 0 or (col == "wall_s" and math.isnan(f)):
                return f"{col} {_cell(rec, col)} is not a number of seconds >= 0"
        elif f is None or f < 0:  # counts, fractions, errors: none below 0
            return f"{col} {_cell(rec, col)} is not a number >= 0"
    return None


def _resumable(path, jobs_list, quick, version):
    """Split the records in ``path`` for a resumed :func:`reproduce`.

    Returns ``(kept, carried)``: the records of trials in ``jobs_list``
    ((preset, trial, seed) triples) with the same seed, options and
    ``quick``, which the run reuses, and all others, which stay in the file
    untouched (so resuming with other options loses nothing)."""
    if not Path(path).exists():
        return [], []
    try:
        old = read_records(path, keep_default_na=False, na_values=[""])
        need = {"preset", "trial", "seed", "options", "quick", "version"}
        if not need <= set(old.columns):
            raise ValueError(f"missing columns {sorted(need - set(old.columns))}")
    except (ValueError, pd.errors.ParserError) as exc:
        raise ResumeError(f"cannot resume from {path}: not a records file of reproduce "
                          f"({str(exc).strip()})") from exc  # pandas ends some messages in a newline
    wanted = {(p.id, k): (p, seed) for p, k, seed in jobs_list}
    kept, carried, have = [], [], set()
    for row, rec in _rows(old):
        problem = _record_problem(rec)
        if problem:  # a file edited by hand
            raise ResumeError(f"cannot resume from {path}: row {row}: {problem}")
        key = (rec["preset"], _exact_int(rec["trial"]))
        p, seed = wanted.get(key, (None, None))
        if (p is None or key in have or rec.get("options", "") != _option_text(p, quick)
                or _truth_value(rec["quick"]) != bool(quick) or _exact_int(rec["seed"]) != seed + key[1]):
            carried.append(rec)
            continue
        problem = _count_problem(rec)  # what the run's table reads from a kept record
        if problem:
            raise ResumeError(f"cannot resume from {path}: row {row}: {problem}")
        have.add(key)
        if version is not None and rec.get("version") != version:  # an empty cell: not there
            raise ResumeError(f"cannot resume from {path}: its trial {key[1]} of {key[0]} was "
                              f"made by code version {rec.get('version', '(not given)')}, this is "
                              f"{version}; "
                              "rerun without resume, or with another name")
        kept.append(rec)
    return kept, carried


def _trial_file(directory, preset_id, trial) -> Path:
    """Where :func:`reproduce` keeps the checkpoint of a running trial."""
    return Path(directory) / f"{preset_id}.trial{int(trial)}.npz"


def trial_status(out) -> pd.DataFrame:
    """The trials of ``reproduce`` runs into directory ``out`` that are running
    or were interrupted: one row per checkpoint in ``<out>/<name>.trials/``,
    with the run's name, preset, trial, weight seed, training sequences so
    far, the limit, CPU and wall seconds so far, how many seconds ago the
    checkpoint was saved, and the training sequences per wall second so far.
    A file that cannot be read is listed with its
    error in ``problem``.  Only the metadata is read (the arrays, of sizes
    only the trial's preset tells, are checked when the trial resumes).
    """
    from .checkpoint import _read_checkpoint
    from .errors import CheckpointError

    rows = []
    for f in sorted(Path(out).glob("*.trials/*.npz")):
        row = dict(run=f.parent.name[: -len(".trials")], file=f.name)
        try:
            _, meta = _read_checkpoint(f, KIND_TRIAL, meta_only=True)
        except (CheckpointError, OSError) as exc:
            rows.append(dict(row, problem=str(exc)))
            continue
        problem = _status_problem(meta)
        if problem:
            rows.append(dict(row, problem=f"not a trial checkpoint as reproduce writes it: {problem}"))
            continue
        job, wall = meta["job"], float(meta["wall_s"])
        rows.append(dict(row, preset=job["preset"], trial=job["trial"], seed=job["seed"] + job["trial"],
                         sequences=meta["seen"], limit=meta["limit"],
                         cpu_s=round(meta["cpu_s"]), wall_s=round(wall),
                         saved_s_ago=round(time.time() - f.stat().st_mtime), version=job.get("version"),
                         seq_per_s=meta["seen"] / wall if wall > 0 else np.nan))
    return pd.DataFrame(rows)


def _shown(d, key, prefix="") -> str:
    """"'<prefix><key>' is <its value>" or "... is missing", for a message
    about entry ``key`` of the checkpoint metadata ``d``."""
    return f"'{prefix}{key}' is " + (f"{d[key]!r:.80}" if key in d else "missing")


def _status_problem(meta) -> str:
    """What :func:`trial_status` cannot show of a trial checkpoint's metadata
    (a file edited by hand, or written by something else): '' if nothing.
    Stricter than the records' :func:`_whole` and :func:`_number`, which read
    CSV text ("3" is 3): JSON keeps types, and a seed of "3" would fail the
    arithmetic below."""
    def seconds(v):
        return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) \
            and math.isfinite(v) and v >= 0

    whole, shown = _whole_arg, _shown
    job = meta.get("job")
    if not isinstance(job, dict):
        return shown(meta, "job") + ", not a mapping of preset, trial and seed"
    if not isinstance(job.get("preset"), str):
        return shown(job, "preset", "job.") + ", not a preset id"
    for key in ("trial", "seed"):
        if not whole(job.get(key)):
            return shown(job, key, "job.") + ", not a whole number >= 0"
    for key in ("seen", "limit"):
        if not whole(meta.get(key)):
            return shown(meta, key) + ", not a whole number >= 0"
    for key in ("cpu_s", "wall_s"):
        if not seconds(meta.get(key)):
            return shown(meta, key) + ", not a number of seconds >= 0"
    return ""


def _child_of_this_run():
    """Initializer of :func:`_run_pool`'s processes (the workers and the
    progress queue's manager).

    * Ctrl-C is the parent's to handle: it stops the workers itself, at once
      (a terminal sends SIGINT to the whole process group).
    * A child whose parent is gone (killed with SIGKILL, say) exits within
      half a second instead of running its trial on for hours, unseen: a
      daemon thread watches the parent's pid (the kernels release the GIL,
      so it runs while a trial computes).  The trial's last checkpoint stays
      for ``--resume``.
    """
    import signal
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(3)

    threading.Thread(target=watch, name="online-lstm-orphan-watch", daemon=True).start()


def _compile_first(jobs_list):
    """Build one learner of each preset here, before the worker processes
    start: the competitors' kernels (``online_lstm.baselines``) compile on
    import, and on a cold Numba cache two workers importing them at once
    would compile the same functions and write the same cache files side by
    side (Numba names a cache's data files by their position in its index,
    so one worker's index can end up pointing at the other's code).  With a
    warm cache this loads them, in milliseconds."""
    for preset in {job[0].id: job[0] for job in jobs_list}.values():
        preset.learner(seed=0)


def _run_pool(jobs_list, n_jobs, done, bar, checkpoints=None):
    import multiprocessing as mp
    import queue as _queue
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from multiprocessing.managers import SyncManager

    ctx = mp.get_context("spawn")
    manager = SyncManager(ctx=ctx)
    manager.start(_child_of_this_run)
    with manager:
        q = manager.Queue() if bar is not None else None
        with ProcessPoolExecutor(max_workers=n_jobs, mp_context=ctx, initializer=_child_of_this_run) as pool:
            pending = {pool.submit(_worker, job, q, (checkpoints or {}).get((job[0].id, job[1])))
                       for job in jobs_list}
            try:
                while pending:
                    finished, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
                    if q is not None:
                        try:
                            while True:
                                n, _, key = q.get_nowait()
                                bar.update(n, key)
                        except _queue.Empty:
                            pass
                    for f in finished:
                        done(f.result())
            except BaseException:
                # Ctrl-C, or an error: stop the running trials now rather than wait for them
                # (leaving the pool would); their checkpoints stay for --resume.  The queued
                # trials are not cancelled: the pool fails them itself once its workers are
                # gone, and on Python < 3.12 it raises InvalidStateError (a traceback from
                # its thread) on any of them that was cancelled
                for proc in list((getattr(pool, "_processes", None) or {}).values()):
                    proc.terminate()
                raise


def _changes(p: Preset, base: Preset) -> dict:
    """The options, task parameters and learner arguments of ``p`` that differ from ``base``'s."""
    diff = {k: v for k, v in p.options.items() if base.options.get(k) != v}
    diff.update({k: v for k, v in p.task_kwargs.items() if base.task_kwargs.get(k) != v})
    diff.update({k: v for k, v in p.learner_changes.items()
                 if k not in base.learner_changes or base.learner_changes[k] != v})
    return diff


def _quick(p: Preset) -> Preset:
    """The quick version of ``p``: its registered preset's, with ``p``'s own changes on top."""
    base = PRESETS.get(p.id)
    if base is None or p == base:
        return p.quick_version()
    return base.quick_version().with_options(**_changes(p, base))


def _option_text(p: Preset, quick=False) -> str:
    """The preset's options that differ from the registered preset (or its
    quick version), as k=v text."""
    base = PRESETS[p.id].quick_version() if quick else PRESETS[p.id]
    learner = base.learner(seed=0).get_params()  # a learner argument set to its value is no change
    diff = {k: v for k, v in _changes(p, base).items() if k not in p.learner_changes or learner.get(k) != v}
    return " ".join(f"{k}={v}" for k, v in sorted(diff.items()))


def _frame(records) -> pd.DataFrame:
    order = {pid: i for i, pid in enumerate(PRESETS)}
    if not isinstance(records, pd.DataFrame):
        # in table order before the columns are taken from them: records of different columns
        # (a milestone met in one trial only, a diverged trial) must give the same table, and
        # the same records CSV, whatever order their trials finished in
        records = sorted(records, key=lambda r: (
            order.get(r.get("preset"), len(order)), str(r.get("preset")),
            _exact_int(r["trial"]) if _whole(r.get("trial")) else math.inf))
    df = pd.DataFrame(records)
    df = df.sort_values(["preset", "trial"], key=lambda s: s.map(order) if s.name == "preset" else s,
                        kind="stable")
    first = ["preset", "trial", "seed", "data_seed", "success", "reason", "sequences"]
    cols = [c for c in first if c in df] + [c for c in df if c not in first]
    return df[cols].reset_index(drop=True)


# ---------------------------------------------------------------------------
# side by side with the paper
# ---------------------------------------------------------------------------
def compare(records: pd.DataFrame) -> pd.DataFrame:
    """Our figures next to the paper's, one row per paper result row.

    Columns: preset, table, row, trials, success % (paper, ours), mean
    sequences to success (paper, ours), median (ours), wrong predictions
    (paper, ours; mean over successful trials), further figures
    (``extra``, as "paper / ours" text), wall time per trial and in total
    (the sum over trials, i.e. on one core), and steps per second.

    A trial given more than once (same preset, options, ``quick`` and
    seeds: a file given twice, a replay) is counted once, from its first
    record; ``attrs["duplicates"]`` says how many records were dropped, and
    ``attrs["conflicts"]`` how many of those differ from the record counted
    in more than the times, the version, the software and the trial index (records of one
    trial made by code that trains differently), with the differing
    ``columns`` and the ``versions`` of the records.
    """
    rows = []
    if records.empty:
        return pd.DataFrame(rows)
    records = records.copy()
    # numbers as numbers: a column with one value beyond int64 (which read_csv keeps as
    # text) or a resumed record read from such a column
    for col in {c for pid in records["preset"].unique() for c in _counted_columns(pid)} & set(records):
        if records[col].dtype == object:  # text: Python's float, exact (pandas 2's parser is not)
            records[col] = records[col].map(lambda v: math.nan if _number(v) is None else _number(v))
        records[col] = pd.to_numeric(records[col], errors="coerce")
    conflicts = _disagreeing_repeats(records)
    records, dropped = _once_per_trial(records)
    unknown = sorted(set(records["preset"].astype(str)) - set(PRESETS))
    if unknown:
        raise ValueError(f"records of unknown presets {unknown}: compare puts the presets of "
                         f"online_lstm.presets.PRESETS next to the paper")
    for (pid, _, _), df in records.groupby(["preset", "options", "quick"], sort=False):
        p = PRESETS[pid]
        for pr in p.paper:
            col = pr.prefix + "sequences"
            if pr.prefix:
                ok = df[df[col].notna()] if col in df else df.iloc[:0]
            else:
                ok = df[_truth(df["success"])]
            wrong_col = pr.prefix + "wrong"
            extras = []
            for name, (paper_val, column, *scope) in pr.extra.items():
                src = df if scope == ["all"] else ok
                ours = src[column].mean() if column in src and len(src) else None
                extras.append(f"{name}: {_fmt_paper(paper_val)} / {_fmt(ours)}")
            rows.append({
                "preset": pid, "table": pr.table, "row": pr.label, "trials": len(df),
                "paper success %": pr.success_pct,
                "success %": round(100 * len(ok) / len(df), 1) if len(df) else None,
                "paper mean seq": pr.mean_sequences,
                "mean seq": ok[col].mean() if len(ok) else None,
                "median seq": ok[col].median() if len(ok) else None,
                "paper wrong": pr.wrong,
                "wrong": ok[wrong_col].mean() if len(ok) and wrong_col in ok else None,
                "paper / ours": "; ".join(extras),
                "wall s/trial": df["wall_s"].mean(),
                "wall s total": df["wall_s"].sum(),
                "cpu s total": df["cpu_s"].sum(min_count=1) if "cpu_s" in df else None,
                "cpu trials": int(df["cpu_s"].notna().sum()) if "cpu_s" in df else 0,
                "steps/s": df["steps"].sum() / wall if (wall := df["wall_s"].sum()) > 0 else None,
                "quick": bool(df["quick"].iloc[0]),
                "options": df["options"].iloc[0],
            })
    out = pd.DataFrame(rows)
    out.attrs["duplicates"] = dropped
    out.attrs["conflicts"] = conflicts
    return out


def _normalised_keys(records: pd.DataFrame) -> pd.DataFrame:
    """``records`` with ``options`` as text ("" for none; a column that is all
    empty reads as float64 NaN from a plain ``pd.read_csv``, and filling that
    with text is deprecated in pandas 3, ``Pandas4Warning``) and ``quick`` as
    bools."""
    options = ""
    if "options" in records:
        col = records["options"].astype(object)
        options = col.where(col.notna(), "")
    return records.assign(options=options,
                          quick=_truth(records["quick"]) if "quick" in records else False)


def _once_per_trial(records: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The records with each trial once, and how many rows were dropped as
    repeats.  A trial is fixed by its preset, options, quick and seeds: the
    same trial in two files, a file given twice, or a row pasted twice by
    hand is one trial.  ``options`` and ``quick`` come back normalised (no
    NaN; bools), as :func:`compare` groups by them."""
    records = _normalised_keys(records)
    same = [c for c in ("preset", "options", "quick", "seed", "data_seed") if c in records]
    repeated = records.duplicated(subset=same, keep="first")
    return records[~repeated], int(repeated.sum())


#: Record fields that differ between two runs of one trial that did the same: the clock, the
#: code version (a replay on later code), the software versions (another machine) and the
#: trial index (``--seed S`` numbers trial S as 0).
_RUN_FIELDS = frozenset({"trial", "wall_s", "cpu_s", "steps_per_s", "version", "software"})


def _same_value(a, b) -> bool:
    """Two record cells hold the same value (18075 and 18075.0, True and "True" alike)."""
    try:
        x, y = float(a), float(b)
    except (TypeError, ValueError):
        return str(a) == str(b)
    return x == y or (math.isnan(x) and math.isnan(y))


def _disagreeing_repeats(records: pd.DataFrame) -> dict:
    """The repeated trials (as :func:`_once_per_trial` finds them) whose record
    differs from the one counted in anything but :data:`_RUN_FIELDS`, e.g. two
    records of one trial made by code that trains differently: ``{"count": n,
    "columns": [...], "versions": [...]}`` (count 0 when every repeat agrees).
    A field missing from either record (one written before it existed) is
    not compared."""
    records = _normalised_keys(records)
    key = [c for c in ("preset", "options", "quick", "seed", "data_seed") if c in records]
    cols = [c for c in records if c not in _RUN_FIELDS and c not in key]
    count, columns, versions = 0, set(), set()
    for _, g in records.groupby(key, sort=False, dropna=False):
        if len(g) < 2:
            continue
        first = g.iloc[0]
        for _, rec in g.iloc[1:].iterrows():
            diff = [c for c in cols if not (pd.isna(first[c]) or pd.isna(rec[c]))
                    and not _same_value(first[c], rec[c])]
            if diff:
                count += 1
                columns.update(diff)
                if "version" in records:
                    versions.update(str(v) for v in (first["version"], rec["version"]) if pd.notna(v))
    return {"count": count, "columns": sorted(columns), "versions": sorted(versions)}


def _truth(col: pd.Series) -> pd.Series:
    """A record's bool column as bools: what :func:`_truth_value` reads as
    true is true; False, NaN (a missing value) and anything else are not."""
    return col.map(lambda v: _truth_value(v) is True)


def _fmt(v, digits=3):
    """A number for a table: thousands separators, or a few significant digits."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "–"
    if isinstance(v, (bool, np.bool_)):
        return str(v)
    v = float(v)
    if v == int(v) and abs(v) >= 1:
        return f"{int(v):,}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{digits}g}"


def _fmt_paper(v):
    """One of the paper's figures with every digit it prints (0.01207, 0.000078),
    not rounded to :func:`_fmt`'s three significant digits as our figures are:
    the paper's column must read as the paper does."""
    if isinstance(v, (float, np.floating)) and math.isfinite(v) and v != int(v) and abs(v) < 1000:
        return np.format_float_positional(float(v), trim="-")
    return _fmt(v)


def _cpu_total(r) -> str:
    """The CPU seconds of a row's trials; a sum over only some of them (records
    made before ``cpu_s`` existed, mixed with later ones) says over how many."""
    total = r["cpu s total"]
    if total is None or np.isnan(total):
        return "–"
    k = r.get("cpu trials", r["trials"])
    return _seconds(total) + (f" ({k} of {r['trials']} trials)" if k < r["trials"] else "")


def _seconds(v) -> str:
    """A total of seconds: whole seconds from 10 s up, two digits below (a
    quick run's 0.47 s is not 0)."""
    if v is None or np.isnan(v):
        return "–"
    return _fmt(v, 2) if abs(v) < 10 else _fmt(round(v))


def format_table(cmp: pd.DataFrame, markdown=False) -> str:
    """The side-by-side table as text (or GitHub markdown)."""
    head = ["preset", "paper row", "trials", "success % paper / ours", "mean seq paper / ours",
            "median seq", "wrong paper / ours", "more (paper / ours)", "wall s/trial", "wall s total",
            "CPU s total"]
    body = []
    for _, r in cmp.iterrows():
        body.append([
            r["preset"] + (" (quick)" if r["quick"] else "") + (f" [{r['options']}]" if r["options"] else ""),
            f"{r['table']}: {r['row']}", str(r["trials"]),
            f"{_fmt_paper(r['paper success %'])} / {_fmt(r['success %'])}",
            f"{_fmt_paper(r['paper mean seq'])} / {_fmt(r['mean seq'])}",
            _fmt(r["median seq"]),
            f"{_fmt_paper(r['paper wrong'])} / {_fmt(r['wrong'])}",
            r["paper / ours"], _fmt(r["wall s/trial"], 3), _seconds(r["wall s total"]),
            _cpu_total(r),
        ])
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(row) + " |" for row in body]
        return "\n".join(lines)
    widths = [max(len(h), *(len(row[i]) for row in body)) if body else len(h) for i, h in enumerate(head)]
    fmt = lambda row: "  ".join(c.ljust(w) for c, w in zip(row, widths))  # noqa: E731
    return "\n".join([fmt(head), fmt(["-" * w for w in widths])] + [fmt(row) for row in body])
