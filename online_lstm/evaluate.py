"""Progressive validation (test-then-train) over a stream, in the manner of River.

Every observation is first predicted, the prediction is scored, and only then
is the target learned.  So every prediction is made on data the model has not
learned from, and the running score is an honest estimate of online
performance with no held-out set.  For an :class:`~online_lstm.OnlineLSTM` (and
the competitors :class:`~online_lstm.baselines.RTRL` and
:class:`~online_lstm.baselines.BPTT`, whose ``predict_one`` advances the state
too) the step is taken once: ``predict_one(x)`` then ``learn_last(y)``,
bit-identical to ``learn_one(x, y)``.

Sequences of 4 steps, a target at the end only: was the first input 1?

>>> import numpy as np
>>> from online_lstm import OnlineLSTM
>>> from online_lstm.evaluate import progressive_val
>>> rng = np.random.default_rng(0)
>>> stream = []
>>> for s in range(3000):
...     first = float(rng.integers(0, 2))
...     for t in range(4):
...         x = np.array([first if t == 0 else 0.0, rng.uniform(-1, 1)])
...         stream.append((x, first if t == 3 else None, t == 0))   # (x, y, new_sequence)
>>> m = OnlineLSTM(2, 1, n_blocks=2, lr=1.0, seed=0)
>>> df = progressive_val(stream, m, ["mae", "accuracy"], step=4000)
>>> df[["step", "mae", "accuracy"]].round(3)
    step    mae  accuracy
0   4000  0.212     0.866
1   8000  0.117     0.933
2  12000  0.083     0.955

The scores are running means over every target so far; ``df`` also has the
number of predictions scored so far (``scored``: 0 means the scores, 0.0,
are of nothing yet), the wall time (``seconds``) and ``us_per_obs``.
"""

from __future__ import annotations

import collections
import sys
import time
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd

from ._validate import MISSING_INPUT_HINT, is_missing, nonfinite_entries, progress_bar, reset_flag
from .errors import InputError
from .learner import OnlineLSTM

__all__ = ["MAE", "RMSE", "Accuracy", "iter_progressive_val", "progressive_val"]


class MAE:
    """Mean absolute error over every target entry given so far (NaN = none).

    River's metric protocol: ``update(y_true, y_pred)`` and ``get()``.
    """

    name = "mae"

    def __init__(self):
        self.total = 0.0
        self.n = 0

    def _pairs(self, y_true, y_pred):
        try:
            t = np.atleast_1d(np.asarray(y_true, dtype=float))
        except (TypeError, ValueError):
            raise ValueError(f"{type(self).__name__}.update needs a number or an array of numbers as "
                             f"y_true; got {y_true!r:.60}") from None
        try:
            p = np.atleast_1d(np.asarray(y_pred, dtype=float))
        except (TypeError, ValueError):  # a label, a dict of probabilities: no number to subtract
            raise ValueError(f"{type(self).__name__}.update needs a number or an array of numbers as "
                             f"y_pred; got {y_pred!r:.60}") from None
        if t.shape != p.shape:  # p[has] of another shape would broadcast into a wrong score
            raise _shape_mismatch(self, y_true, y_pred)
        has = ~np.isnan(t)
        return t[has], p[has]

    def update(self, y_true, y_pred):
        """Add one observation: a target (float, or array with NaN where
        there is none) and the prediction made for it (same shape, else
        ValueError)."""
        t, p = self._pairs(y_true, y_pred)
        self.total += float(np.sum(np.abs(t - p)))
        self.n += t.size

    def get(self) -> float:
        """The metric so far (0.0 before any target)."""
        return self.total / self.n if self.n else 0.0


class RMSE(MAE):
    """Root mean squared error over every target entry given so far."""

    name = "rmse"

    def update(self, y_true, y_pred):
        """Add one observation (see :meth:`MAE.update`)."""
        t, p = self._pairs(y_true, y_pred)
        self.total += float(np.sum((t - p) ** 2))
        self.n += t.size

    def get(self) -> float:
        """The metric so far (0.0 before any target)."""
        return (self.total / self.n) ** 0.5 if self.n else 0.0


class Accuracy:
    """Share of correct predictions.

    Vector targets (one output unit per class): correct when the largest
    output is the unit whose target is largest.  Float targets (one logistic
    output for a binary 0/1 target): correct when the output is on the same
    side of 0.5 as the target, if both lie in [0, 1].  Anything else (labels
    of River classifiers: str, int, bool, or floats such as 2.0):
    ``y_pred == y_true``.
    """

    name = "accuracy"

    def __init__(self):
        self.correct = 0
        self.n = 0

    def update(self, y_true, y_pred):
        """Add one observation: a label and the prediction made for it (see
        the class docstring for vector targets; a vector target needs a
        prediction of its shape, and a single label a single prediction, or
        ValueError, and nothing is counted)."""
        if isinstance(y_true, np.ndarray) and y_true.size > 1:
            if np.shape(y_pred) != y_true.shape:  # an argmax over other units is no class
                raise _shape_mismatch(self, y_true, y_pred)
            t = np.where(np.isnan(y_true), -np.inf, y_true)
            ok = int(np.argmax(t)) == int(np.argmax(y_pred))
        elif isinstance(y_true, (float, np.floating, np.ndarray)) and _unit(y_true) and _unit(y_pred):
            ok = (float(np.ravel(y_true)[0]) > 0.5) == (float(np.ravel(y_pred)[0]) > 0.5)
        else:
            ok = y_true == y_pred
            if isinstance(ok, np.ndarray) and ok.size != 1:  # a label against several units
                raise ValueError(f"Accuracy: the prediction has shape {np.shape(y_pred)}, the target "
                                 f"{y_true!r:.40} shape {np.shape(y_true)}; a label needs one "
                                 f"prediction, a vector target a prediction of its shape")
        self.correct += bool(ok)
        self.n += 1

    def get(self) -> float:
        """The share correct so far (0.0 before any observation)."""
        return self.correct / self.n if self.n else 0.0


def _shape_mismatch(metric, y_true, y_pred) -> ValueError:
    """The error of a metric's ``update`` given a prediction of another shape
    than its target (one wording for MAE, RMSE and Accuracy)."""
    return ValueError(f"{type(metric).__name__}.update needs y_pred of the shape of y_true; got "
                      f"y_true of shape {np.shape(y_true)}, y_pred of shape {np.shape(y_pred)}")


def _unit(v) -> bool:
    """One number in [0, 1] (a binary target, or a logistic output)."""
    try:
        a = np.ravel(np.asarray(v, dtype=np.float64))
    except (TypeError, ValueError):
        return False
    return a.size == 1 and 0.0 <= a[0] <= 1.0


_METRICS = {"mae": MAE, "rmse": RMSE, "accuracy": Accuracy}


def _metric(m):
    if isinstance(m, str):
        if m not in _METRICS:
            raise ValueError(f"unknown metric {m!r}; use one of {sorted(_METRICS)} or an object "
                             f"with update(y_true, y_pred) and get() (e.g. a River metric)")
        return _METRICS[m]()
    if isinstance(m, type):  # its update would be called unbound, after the first step
        raise TypeError(f"a metric must be an instance, e.g. {m.__name__}(); got the class {m!r}")
    if not (hasattr(m, "update") and hasattr(m, "get")):
        raise TypeError(f"a metric needs update(y_true, y_pred) and get(); got {m!r}")
    return m


def _metric_list(metrics):
    """The metric objects of ``metrics`` (one, or a list or tuple of them); a
    River ``Metrics`` collection (``metrics.MAE() + metrics.RMSE()``) is
    its members, each a column named as River's own rows name it (its
    ``get()`` is a list, which made one column of lists)."""
    river_metrics = sys.modules.get("river.metrics.base")  # imported if a River metric is given
    out = []
    for m in metrics if isinstance(metrics, (list, tuple)) else [metrics]:
        if river_metrics is not None and isinstance(m, river_metrics.Metrics):
            out.extend(_metric(member) for member in m)
        else:
            out.append(_metric(m))
    return out


def _metric_name(m):
    return getattr(m, "name", None) if isinstance(getattr(m, "name", None), str) else type(m).__name__


def _needs_proba(m) -> bool:
    """A River metric scored on class probabilities (ROCAUC, LogLoss, ...):
    its ``requires_labels`` is False."""
    return getattr(m, "requires_labels", True) is False


def _river_classifier(model) -> bool:
    """A River classifier (or a pipeline ending in one), which River's own loop
    asks for ``predict_proba_one`` when its metric needs probabilities."""
    river_base = sys.modules.get("river.base")  # imported if model is one
    return river_base is not None and isinstance(model, river_base.Classifier)


def _step_learner(model) -> bool:
    """An OnlineLSTM, RTRL or BPTT: ``predict_one`` takes the step (the state
    advances), so the label is learned with ``learn_last``/``learn_delayed``,
    not by a second step.  (A competitor exists only once
    ``online_lstm.baselines`` is imported; this module does not import it, so
    that its kernels are not compiled for an OnlineLSTM's evaluation.)"""
    if isinstance(model, OnlineLSTM):
        return True
    stream = sys.modules.get("online_lstm.baselines._stream")
    return stream is not None and isinstance(model, stream.StreamLearner)


def _sizes(model):
    """(n_in, n_out) of an OnlineLSTM, RTRL or BPTT."""
    net = model.layout if isinstance(model, OnlineLSTM) else model.network
    return net.n_in, net.n_out


def _has_target(y):
    """False for None, pandas' NA, NaN, or a non-empty array (or list) of NaN
    only.  (An OnlineLSTM's target is checked again once converted: a pandas
    Series of NaN or a fully masked array is no target either.)"""
    if is_missing(y):
        return False
    if isinstance(y, Real):
        return y == y
    if isinstance(y, (list, tuple)) or type(y) is np.ndarray:  # a masked array's data is not its values
        a = np.asarray(y)
        return not (a.dtype.kind == "f" and a.size and bool(np.all(np.isnan(a))))
    return True


def _checked_target(model, y, n):
    """Target of stream item ``n`` for an OnlineLSTM (RTRL, BPTT): a new float64
    array of shape (n_out,), finite or NaN, or InputError naming the item."""
    K = _sizes(model)[1]
    try:
        a = np.array(model._y(y), dtype=np.float64)  # a copy: _y may return a buffer
    except InputError as exc:
        raise InputError(f"stream item {n}: {exc}") from None
    if a.shape != (K,):
        raise InputError(f"stream item {n}: y must have shape ({K},){' or be a float' if K == 1 else ''}; "
                         f"got shape {a.shape}")
    if np.isinf(a).any():
        raise InputError(f"stream item {n}: y must be finite or NaN (NaN = no target); got inf")
    return a


def _checked_input(model, x, n):
    """Input of stream item ``n`` for an OnlineLSTM (RTRL, BPTT): float64 of shape (n_in,),
    finite, or InputError naming the item (checked before a reset, so that a
    refused item changes nothing)."""
    try:
        a = model._x(x)
    except InputError as exc:
        raise InputError(f"stream item {n}: {exc}") from None
    n_in = _sizes(model)[0]
    if a.shape != (n_in,):
        raise InputError(f"stream item {n}: x must have shape ({n_in},); got shape {a.shape}")
    if not np.isfinite(a).all():
        raise InputError(f"stream item {n}: x must be finite: NaN or inf in the input "
                         f"({nonfinite_entries(a)}); {MISSING_INPUT_HINT}")
    return a


def _takes_missing_labels(model) -> bool:
    """``model`` is a River adapter of ours (:mod:`online_lstm.river`), alone
    or last in a River pipeline.  It takes one recurrent step per
    ``predict_one`` and learns a label from a step it remembers, so it must
    be told, with ``learn_one(x, None)``, that an observation has no label."""
    adapters = sys.modules.get("online_lstm.river")  # imported if model is one of them
    if adapters is None:
        return False
    steps = getattr(model, "steps", None)  # river.compose.Pipeline: name -> estimator
    if steps is not None and hasattr(steps, "values") and len(steps):
        model = list(steps.values())[-1]
    return isinstance(model, adapters._StreamLSTM)


def _outside_level() -> int:
    """The ``stacklevel`` that makes a warning issued by this module's caller
    of this function name the first frame outside this module: the line of
    user code that iterates :func:`iter_progressive_val` or calls
    :func:`progressive_val` (which iterates it one frame further down)."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename == __file__:
        frame, level = frame.f_back, level + 1
    return level


#: the "prediction" of an observation without a label: learned, not scored
_UNSCORED = object()


#: The columns of every row after ``step`` and the metrics, in their order.
_ROW_TAIL = ("seconds", "us_per_obs", "scored")


def iter_progressive_val(stream, model, metrics="mae", *, step=100, progress=False, total=None,
                         delay=None):
    """Test-then-train over ``stream``; yield the running scores at checkpoints.

    Parameters
    ----------
    stream : iterable
        ``(x, y)`` or ``(x, y, new_sequence)`` items.  For an
        :class:`~online_lstm.OnlineLSTM`, ``x`` has shape ``(n_in,)`` and
        ``y`` shape ``(n_out,)`` (a float when ``n_out == 1``), NaN or None
        for no target.  For any other model (e.g. a River estimator or
        pipeline), ``x`` and ``y`` are what its ``predict_one``/``learn_one``
        take.  ``new_sequence`` True (or a non-zero number) resets the model
        before the observation (``model.reset()``); False, 0, None, NaN and
        ``pd.NA`` do not, and other types are refused.  A refused item
        changes nothing, not even by the labels due before it.  A step the
        model refuses (an exception of its ``predict_one``, e.g. a
        ``DivergenceError``) leaves an ``OnlineLSTM``, ``RTRL`` or ``BPTT``
        as before the item's reset (another model stays reset); the labels
        due before it, with a delay, stay learned.  A label the model
        fails to learn (an exception of ``learn_one``, ``learn_last`` or
        ``learn_delayed``) has been scored already, as in River's loop.
        Any exception ends the run; the rows yielded before it are the
        partial result.  A River
        adapter of :mod:`online_lstm.river` (alone or last in a pipeline)
        gets ``learn_one(x, None)`` for an observation without a label, in
        its place in the label order (not scored), as River's own loop
        calls it when there is no delay (with a delay, River's loop predicts
        such an observation a second time instead): the adapter learns each
        label from a step it remembers, and must know which observations
        have none.
    model
        An ``OnlineLSTM``, ``RTRL`` or ``BPTT`` (``predict_one`` then
        ``learn_last``: one step per observation), or anything with ``predict_one(x)`` and
        ``learn_one(x, y)``.  A ``LearnerBank`` is refused (both of its calls take a step).
        Such a model (a River estimator, or a learner of your own) gets
        ``reset()`` before the first observation of each new sequence
        (``InputError`` if the stream marks one and the model has no
        ``reset``), ``predict_one(x)`` for
        every observation, and ``learn_one(x, y)`` right after it, with
        the same ``x``, for an observation with a target only (with a
        ``delay``, when its label arrives).  So a recurrent model takes its
        step in ``predict_one`` and learns from that step in ``learn_one``,
        without stepping again.  ``predict_one`` returns what the metrics
        compare with ``y``: for ``"mae"``, ``"rmse"`` and ``"accuracy"`` a
        float or an array of ``y``'s shape.  A prediction of ``None`` (or
        ``{}``) is not scored, as in River's loop (a River classifier
        before its first label); when a row is due and no target at all
        has been scored that way, a model that is not a River estimator
        gets a ``RuntimeWarning`` (once per run), since the row's scores,
        0.0, are those of no prediction.  A method the model lacks raises
        ``AttributeError`` at its first call.
    metrics : str, metric object or list of them
        ``"mae"``, ``"rmse"``, ``"accuracy"`` (see :class:`MAE`,
        :class:`RMSE`, :class:`Accuracy`) or objects with River's metric
        protocol, ``update(y_true, y_pred)`` and ``get()``.  Observations
        without a target are predicted (the state advances) but not scored.
        As in River's loop, a River classifier is asked for
        ``predict_proba_one`` when a metric needs probabilities (its
        ``requires_labels`` is False: ROCAUC, LogLoss, ...); the other
        metrics then get the most likely class.  A River metric that is not
        for a River model (its ``works_with``: Accuracy of a regressor) is
        refused, as River's loop refuses it.  A metric object is updated in
        place (as River's loop updates its metric): pass a new one to each
        run, or the second run's rows also count the first run's
        observations (a name such as ``"mae"`` makes a new one each time).
        A River ``Metrics`` collection (``metrics.MAE() + metrics.RMSE()``)
        counts as its members: one column each, named by class (``"MAE"``,
        ``"RMSE"``), as River's rows name them.
    step : int
        Yield a row every ``step`` observations, and after the last one
        (River's loop counts the labels delivered, which differ with a
        delay, and yields no row for a stream shorter than ``step``).
    progress : bool or tqdm
        Show a tqdm progress bar (or update the one given: anything with
        ``update(n)``, left open).
    total : int, optional
        Length of the stream for the progress bar (an integer >= 0, else
        ValueError); default ``len(stream)`` when it has one.
    delay : int, optional
        Labels arrive ``delay`` observations late, as in River's
        ``progressive_val_score(..., delay=...)``: the label of observation
        i is scored (against the prediction made at i) and learned just
        before observation i + delay is predicted, and the labels still
        owed are delivered after the last observation.  An ``OnlineLSTM``
        learns each with ``learn_delayed`` from its own step, so it needs
        ``max_delay >= delay - 1``; RTRL and BPTT learn only the last step
        (``learn_last``), so they take ``delay`` 0 or 1; another model gets ``learn_one(x, y)``
        with the x of that observation.  The last row is yielded after the
        labels still owed (it may repeat the step count of the row before
        it; when none of them was scored, the row before it is the last).
        None (default) or 0: no delay.

    Yields
    ------
    dict
        ``{"step": n, <metric name>: value, ..., "seconds": s, "us_per_obs": u,
        "scored": k}`` where ``k`` is the number of predictions scored so
        far (observations whose target has arrived; 0 while none has, when
        every score reads 0.0 from nothing), ``s`` the wall time since the
        start (reading the stream, predicting, scoring and learning; not the
        time the caller spends between rows) and ``u = 1e6 s / n``.

    Notes
    -----
    A row is a point to resume from: without a delay, every label of the
    first ``n`` observations has been scored and learned when row ``n`` is
    yielded.  Save the model there (``model.save(path)``) with the metric
    objects (pickle them), and after an interruption run the items after
    the first ``n`` with the loaded model and those metric objects: the
    rows have the scores of an uninterrupted run, but their ``step`` and
    ``scored`` count from the resume (add ``n`` and row ``n``'s
    ``scored``) and their times are the resumed run's own.  With a
    ``delay``, the labels of the last observations before the row are
    still owed when it is yielded and a resumed run would never score or
    learn them: resume such a run from its start.
    """
    if isinstance(step, (bool, np.bool_)) or not isinstance(step, Integral) or step < 1:
        raise ValueError(f"step must be a positive integer; got {step!r}")
    step = int(step)
    if delay is not None and (isinstance(delay, (bool, np.bool_)) or not isinstance(delay, (int, np.integer))
                              or delay < 0):
        raise ValueError(f"delay must be None or an integer >= 0; got {delay!r}")
    delay = int(delay or 0)  # a NumPy integer as an int
    if total is not None and (isinstance(total, (bool, np.bool_)) or not isinstance(total, Integral)
                              or total < 0):  # tqdm failed on "abc" with a TypeError about str + float
        raise ValueError(f"total must be None or an integer >= 0 (the stream's length); got {total!r:.60}")
    array_model = _step_learner(model)
    bank = sys.modules.get("online_lstm.bank")  # imported if model is one
    if bank is not None and isinstance(model, bank.LearnerBank):
        raise TypeError("a LearnerBank takes a step in predict_one and another in learn_one, so it "
                        "would take two per observation here; evaluate its learners "
                        "(bank.learner(i)) one by one, or call predict_one then learn_last")
    if delay > 1 and array_model and not isinstance(model, OnlineLSTM):
        raise ValueError(f"{type(model).__name__} learns a label only at the last step "
                         f"(learn_last), so delay must be 0 or 1; got {delay}")
    if delay and isinstance(model, OnlineLSTM) and model.layout.max_delay < delay - 1:
        raise ValueError(f"labels {delay} observations late are learned {delay - 1} steps after "
                         f"their step: the learner needs max_delay >= {delay - 1} (it has "
                         f"{model.layout.max_delay})")
    ms = _metric_list(metrics)
    names = [_metric_name(m) for m in ms]
    if len(set(names)) != len(names):
        raise ValueError(f"metric names must be distinct; got {names}")
    river_base = sys.modules.get("river.base")  # imported if model is a River estimator
    if not array_model and river_base is not None and isinstance(model, river_base.Estimator):
        for m in ms:  # as River's loop: no Accuracy of a regressor (0.0), no MAE of a classifier
            if hasattr(m, "works_with") and not m.works_with(model):
                raise ValueError(f"{type(m).__name__} metric is not compatible with {model}")
    taken = sorted(set(names) & {"step", *_ROW_TAIL})
    if taken:  # its value would replace the row's own column, or be replaced by it
        raise ValueError(f"a metric may not be named {taken[0]!r}, a column of every row")
    if total is None and isinstance(progress, (bool, np.bool_)) and progress \
            and hasattr(stream, "__len__"):
        total = len(stream)
    bar, own_bar = progress_bar(progress, total, "obs")
    if array_model:
        K = _sizes(model)[1]
        buf = np.zeros(K)
        scalar = K == 1

    def row(n, t0):
        if unscored[0] and not unscored[1] and not unscored[2] and not river_model:
            # every target so far unscored: the row's metrics read 0.0 (a perfect MAE) from nothing
            unscored[2] = True
            warnings.warn(f"{type(model).__name__}.predict_one returned None (or {{}}) for all "
                          f"{unscored[0]:,} observations with a target so far, and none was "
                          f"scored (River's loop skips such predictions): the scores of "
                          f"{n:,} observations are those of no prediction at all", RuntimeWarning,
                          stacklevel=_outside_level())
        seconds = time.perf_counter() - t0
        r = {"step": n}
        r.update({name: m.get() for name, m in zip(names, ms)})
        # (after the metrics, which keep their places, as in River's rows)
        r.update(zip(_ROW_TAIL, (seconds, 1e6 * seconds / n, unscored[1])))
        return r

    def answer(i, x, y, y_pred):
        """Score the prediction of observation ``i`` and learn its label."""
        if array_model:
            for m in ms:
                m.update(y, y_pred)
            unscored[1] += 1
            # with a delay, labels are answered before observation n's step (n
            # steps taken); without, right after observation i's own step
            age = n - 1 - i if delay else 0
            if age:
                model.learn_delayed(y, age)
            else:  # the last step (delay 0 or 1): any learner, max_delay or not
                model.learn_last(y)
        else:
            if y_pred is None or (isinstance(y_pred, dict) and not y_pred):
                # River's loop skips such a prediction (a River classifier before its first label)
                unscored[0] += 1
            elif y_pred is not _UNSCORED:
                unscored[1] += 1
                for m, p in zip(ms, by_label):
                    # a label metric of a run with probabilities: the most likely class, as
                    # River's Classifier.predict_one and its Metrics collection make it
                    m.update(y, max(y_pred, key=y_pred.get) if p else y_pred)
            model.learn_one(x, y)

    no_label = not array_model and _takes_missing_labels(model)
    river_model = river_base is not None and isinstance(model, river_base.Estimator)
    unscored = [0, 0, False]  # targets not scored (prediction None or {}), scored, warned
    # as River's loop: a River classifier is asked for probabilities when a metric needs them
    proba = not array_model and _river_classifier(model) and any(_needs_proba(m) for m in ms)
    by_label = [proba and not _needs_proba(m) for m in ms]
    predict = model.predict_proba_one if proba else model.predict_one
    owed = collections.deque()  # (i, x, y, y_pred) of labels not yet delivered
    kept = None  # the learner's Snapshot of the last sequence start, overwritten at the next
    n = 0
    t0 = time.perf_counter()
    try:
        for item in stream:
            if not isinstance(item, (tuple, list)) or not 2 <= len(item) <= 3:  # a namedtuple is a tuple
                raise InputError(f"stream item {n} must be (x, y) or (x, y, new_sequence); got "
                                 f"{type(item).__name__}"
                                 f"{f' of length {len(item)}' if isinstance(item, (tuple, list)) else ''}")
            x, y = item[0], item[1]
            if array_model:  # checked before the reset and the step, so a bad item changes nothing
                x = _checked_input(model, x, n)
                has = _has_target(y)
                if has:
                    y = _checked_target(model, y, n)
                    has = not np.isnan(y).all()  # a Series of NaN, pd.NA, a masked array: no target
            new_seq = len(item) > 2 and reset_flag(item[2], f"stream item {n}: new_sequence")
            if new_seq and not hasattr(model, "reset"):
                raise InputError(
                    f"stream item {n} starts a new sequence, but {type(model).__name__} has no "
                    f"reset(); in a River pipeline mark sequence starts with the LSTM "
                    f"adapter's reset_key (a feature of x) instead")
            # labels due now are learned once item n is known to be good (a bad item changes
            # nothing), and before its reset and step (n steps taken)
            while owed and owed[0][0] + delay <= n:
                answer(*owed.popleft())
            if array_model:
                saved = None
                if new_seq:
                    saved = kept = model.snapshot(into=kept)  # (one copy, nothing allocated)
                try:
                    if new_seq:
                        model.reset()
                    model.predict_one(x, out=buf)
                except BaseException:  # a step the learner refuses: its reset undone too
                    if saved is not None:
                        model.restore_snapshot(saved)
                    raise
                if has:
                    if scalar:  # metrics see floats, as with a River regressor
                        y, y_pred = float(y[0]), float(buf[0])
                    else:
                        y_pred = buf.copy()  # a metric may keep it; buf is the next step's
                    owed.append((n, x, y, y_pred))
            else:
                if new_seq:
                    model.reset()
                y_pred = predict(x)
                if _has_target(y):
                    owed.append((n, x, y, y_pred))
                elif no_label:  # "no label" is delivered too, in its place
                    owed.append((n, x, None, _UNSCORED))
            if not delay and owed:
                answer(*owed.popleft())
            n += 1
            if bar is not None:
                bar.update(1)
            if n % step == 0:
                r = row(n, t0)
                held = time.perf_counter()
                yield r
                t0 += time.perf_counter() - held  # the caller's time with the row is not ours
        scored = unscored[1]
        while owed:  # the labels still owed arrive after the last observation
            answer(*owed.popleft())
        if n and (n % step != 0 or unscored[1] != scored):  # (an empty stream has no row; a
            yield row(n, t0)  # row after the last step's row only if the labels owed changed it)
    finally:
        if own_bar:
            bar.close()


def progressive_val(stream, model, metrics="mae", *, step=100, progress=False, total=None,
                    delay=None) -> pd.DataFrame:
    """:func:`iter_progressive_val` collected into a DataFrame, one row per checkpoint.

    An exception of the stream, the model or a metric propagates, and the
    rows before it are lost with the DataFrame: to keep them, collect the
    rows of :func:`iter_progressive_val` yourself."""
    rows = list(iter_progressive_val(stream, model, metrics, step=step, progress=progress,
                                     total=total, delay=delay))
    if not rows:  # an empty stream has no row, but the columns a caller reads (df["mae"])
        ms = _metric_list(metrics)
        return pd.DataFrame(columns=["step", *(_metric_name(m) for m in ms), *_ROW_TAIL])
    return pd.DataFrame(rows)
