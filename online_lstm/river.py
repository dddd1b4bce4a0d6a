"""River estimators around :class:`~online_lstm.OnlineLSTM` (optional extra ``river``).

``LSTMRegressor`` and ``LSTMClassifier`` speak River's language: ``x`` is a
dict of features, ``learn_one(x, y)`` returns None, ``predict_one(x)`` (and
``predict_proba_one(x)``) answer, ``clone()`` gives a fresh model, and both
drop into River pipelines and ``evaluate.progressive_val_score`` unchanged.
They pass River's own estimator checks (``tests/test_river.py``).

One observation, one time step
------------------------------
A recurrent net must see each observation exactly once.  River calls
``predict_one(x)`` and then ``learn_one(x, y)`` for one observation; the
adapter takes the step in ``predict_one`` (the learner's ``predict_one``:
forward pass and traces, no weight change, step left pending) and
``learn_one`` then learns from that step with the learner's ``learn_last(y)``,
which is bit-identical to ``learn_one(x, y)`` on the learner and does not
advance the state again.  The rule, exactly:

* ``learn_one(x, y)`` right after a ``predict_one`` learns from the step that
  ``predict_one`` took, whatever ``x`` is.  It has to: in a pipeline such as
  ``StandardScaler() | LSTMRegressor()`` the scaler learns from the
  observation between the two calls, so the ``x`` that reaches
  ``learn_one`` differs from the one ``predict_one`` saw.
* ``learn_one(x, y)`` with no step pending (no ``predict_one`` since the
  last ``learn_one`` or :meth:`reset`) is a new observation: one step with
  learning.
* ``predict_one(x)`` while a step is pending returns that step's prediction
  again if ``x`` equals (``==``) the pending step's ``x`` (the same
  observation, asked twice); otherwise ``x`` is a new observation: a new
  step, and the earlier predicted step is never learned from.

So predict before you learn, or learn without predicting, but do not
predict an observation that will never be labelled right before learning a
different one without predicting it (the label would go to the predicted
step).

Delayed labels
--------------
With the default ``max_delay=0`` a label is learned from the last predicted
step, so use ``progressive_val_score(..., delay=None)``.  For labels that
arrive later (``delay=...``, or a live stream whose truth comes in after
the forecast), build the model with ``max_delay=D``: the learner then keeps
each step's snapshot for D more steps (:meth:`OnlineLSTM.learn_delayed`).
A label that comes more than D steps after its prediction can no longer be
learned from; it is skipped, counted in ``n_late_labels_``, and a warning
is issued the first time.  It changes nothing else either: a class first
seen in it is not registered, and the regressor's target range does not
widen to it.

Without ``id_key``, ``learn_one(x, y)`` learns from the **oldest predicted
observation not yet labelled**.  That is right when labels come in the
order of the predictions, as ``progressive_val_score`` delivers them with a
constant ``delay``.  The adapter cannot tell from ``x`` which observation a
label belongs to (River passes a copy of ``x``, and a pipeline transforms it
anew), so labels that overtake one another (a ``delay`` that varies per
observation: a callable, or the name of a feature holding each
observation's delay) go to the wrong steps, silently.  ``learn_one`` with
no prediction waiting is a new observation, as above.  Every
``predict_one`` call is a new observation (a new step): two observations
may have equal features (a scaler that has not learned yet maps every
observation to zeros), so asking twice is not recognised.

For labels in any order, give each observation an id: a feature named by
``id_key`` (an int, str, timestamp: any hashable value; never an input).
``predict_one(x)`` records its step under ``x[id_key]``, and
``learn_one(x, y)`` learns from the step of ``x[id_key]`` (only the id is
read from ``x``).  Keep the id away from transformers, which would scale it
or fail on it::

    >>> from river import compose, evaluate, metrics, preprocessing
    >>> from online_lstm.river import LSTMRegressor
    >>> data = [({"id": f"trip {i}", "km": i % 7, "wait": i % 5}, 2.0 * (i % 7)) for i in range(300)]
    >>> model = ((compose.Discard("id") | preprocessing.StandardScaler()) + compose.Select("id")
    ...          | LSTMRegressor(max_delay=5, id_key="id", seed=1))
    >>> evaluate.progressive_val_score(data, model, metrics.MAE(), delay="wait")
    MAE: 3.38555
    >>> lstm = model["LSTMRegressor"]
    >>> lstm.feature_names_, lstm.learner_.n_updates_, lstm.n_late_labels_
    (['km', 'wait'], 300, 0)

The rules, with ``id_key`` (it needs ``max_delay > 0``):

* A label for an id whose step is waiting is learned from that step.  A
  label for an id whose step is more than D steps old is skipped, as above.
* A label for an id with no step waiting (``learn_one`` without
  ``predict_one``) is a new observation, one step with learning, as without
  ``id_key``.  But ids are remembered for D steps only, so that memory stays
  bounded: while some predictions have expired without a label, such a
  label is taken as one of theirs (skipped and counted).
* A second label for an id whose step is remembered raises
  :class:`~online_lstm.errors.NoPendingStepError`, as
  :meth:`OnlineLSTM.learn_delayed` does; a label of None counts as the
  observation's label (nothing is learned).
* ``predict_one(x)`` with the id of a step still waiting for its label is
  the same observation asked again, whatever its other features: the same
  answer, no new step.  Its features may differ because a transformer
  learned meanwhile: River's delayed loop asks again for an observation
  whose label is None, after the labels due in between went through the
  scaler of the recipe above.  So ids must be unique: a second
  observation under an id still waiting is taken for the first.  Once its
  label is in, an id may name a new observation.
* An ``x`` without the id, or whose id is None, NaN, ``pd.NA`` or not
  hashable, raises :class:`~online_lstm.errors.InputError`.

A refused call changes nothing.

Features
--------
Each feature name gets an input unit the first time it appears.  Names that
first appear together are ordered by ``sorted`` (keys of mixed types by type
name, then ``repr``), so the dict's key order never matters and the order is
stable for the life of the model (see :attr:`feature_names_`).  A feature
that is missing from ``x``, or whose value is None, NaN or ``pd.NA``, is input
0 at that step.  A new feature widens the net with :func:`online_lstm.widen.widen`:
the net becomes exactly the one that would have had that input unit from the
start with activation 0 (so it had learned nothing through it).  Hence
emerging, disappearing and reappearing features are all handled by one rule,
"absent = 0", and no observation is skipped.  Values must be real numbers;
encode categories first (e.g. ``preprocessing.OneHotEncoder``).  A label of
None, NaN or ``pd.NA`` means an observation without a label: its step is taken and
nothing is learned (the classifier registers no class).  Scale the
features as for any neural net, e.g. ``preprocessing.StandardScaler() |
LSTMRegressor()``.

Sequence boundaries
-------------------
Call :meth:`reset` between sequences, or name a boundary feature with
``reset_key``: when ``x[reset_key]`` is true or a non-zero number, the
learner resets (spec §2.5) before the step of that observation; None, NaN or
``pd.NA`` (a DataFrame's missing value) mean no reset, and other types are
refused.  The key is never an input.  This
works inside pipelines and ``progressive_val_score``; keep the key away from
scalers, e.g. ``compose.Discard("start") | StandardScaler()`` united with
``compose.Select("start")``.
"""

from __future__ import annotations

import collections
import copy
import math
import numbers
import warnings
from collections.abc import Sequence

import numpy as np

try:
    from river import base
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    import sys as _sys

    if _sys.version_info < (3, 11):  # the extra installs nothing there (pyproject's marker)
        raise ImportError(f"online_lstm.river needs River 0.26, which needs Python 3.11 or later; "
                          f"this is Python {_sys.version_info[0]}.{_sys.version_info[1]}") from exc
    raise ImportError("online_lstm.river needs River: pip install 'online-lstm[river]'") from exc

from ._validate import is_missing, reset_flag
from .errors import InputError, NoPendingStepError
from .layout import MAGNITUDE_LIMIT
from .learner import OnlineLSTM
from .widen import widen

__all__ = ["LSTMRegressor", "LSTMClassifier"]

_FLOAT_MAX = float(np.finfo(np.float64).max)
_ABSENT = object()  # a feature not in x
_LATE = object()  # a label for a step older than max_delay


def _same_observation(x, pending) -> bool:
    """``x == pending`` for two feature dicts, with missing values (None, NaN,
    ``pd.NA``: input 0) equal to each other: a missing value (NaN behind a
    StandardScaler, or read from a DataFrame) must not make the same
    observation, asked twice, look like a new one.  A value that has no truth
    value for ``==`` (``pd.NA`` against a number, an array) is no match: the
    observation is new, and its encoding accepts or refuses it."""
    if len(x) != len(pending):  # not x.keys() != ...: a pandas Series' keys compare elementwise
        return False
    missing = object()
    for k, v in x.items():
        w = pending.get(k, missing)
        if w is missing:
            return False
        if v is w:
            continue
        try:
            if v == w:
                continue
        except (TypeError, ValueError):  # pd.NA == 1.0 is pd.NA; array == number is an array
            pass
        if not (_is_missing_value(v) and _is_missing_value(w)):
            return False
    return True


def _is_missing_value(v) -> bool:
    """None, NaN or ``pd.NA``: a feature value that is input 0."""
    if is_missing(v):
        return True
    try:
        return isinstance(v, numbers.Real) and v != v
    except (TypeError, ValueError):  # pragma: no cover - a Real with a strange !=
        return False


def _sort_new(keys):
    """Feature names that appear together, in a fixed order."""
    try:
        return sorted(keys)
    except TypeError:  # keys of mixed types
        return sorted(keys, key=lambda k: (type(k).__name__, repr(k)))


class _StreamLSTM:
    """Dict features -> input units, one step per observation, lazily widened."""

    def __init__(self, n_blocks: int = 4, block_size: int = 2, lr: float = 0.5,
                 init_range: float = 0.1, output_gates: bool = True, connectivity: str = "F",
                 bias: str = "gates", g: str = "g2", h: str = "h1", in_gate_bias=None,
                 out_gate_bias=None, update: str = "step", state_bound: float = 1e6,
                 seed: int | Sequence[int] | None = None, reset_key=None, forget_gate: bool = False,
                 peepholes: bool = False, forget_gate_bias=1.0, max_delay: int = 0,
                 on_divergence: str = "raise", id_key=None):
        self.n_blocks = n_blocks
        self.block_size = block_size
        self.lr = lr
        self.init_range = init_range
        self.output_gates = output_gates
        self.connectivity = connectivity
        self.bias = bias
        self.g = g
        self.h = h
        self.in_gate_bias = in_gate_bias
        self.out_gate_bias = out_gate_bias
        self.update = update
        self.state_bound = state_bound
        self.seed = seed
        self.reset_key = reset_key
        self.forget_gate = forget_gate
        self.peepholes = peepholes
        self.forget_gate_bias = forget_gate_bias
        self.max_delay = max_delay
        self.on_divergence = on_divergence
        self.id_key = id_key
        self._setup(n_out=1)

    def _setup(self, n_out):
        if isinstance(self.seed, (np.random.Generator, np.random.BitGenerator, np.random.SeedSequence)):
            # the learner takes these, but the adapter also seeds the weights of later
            # units from the seed, and clone() must give the same initial weights
            raise ValueError(f"seed must be None or an int >= 0 (or a sequence of them) for a River "
                             f"adapter; got a {type(self.seed).__name__}, which a clone would "
                             f"share or could not reproduce")
        params = {name: getattr(self, name) for name in _LEARNER_PARAMS}
        try:
            self._learner = OnlineLSTM(n_in=1, n_out=n_out, **params)  # validates the parameters
        except ValueError as exc:
            if str(exc).startswith("seed must be"):  # the learner's message lists what it takes
                raise ValueError(f"seed must be None or an int >= 0 (or a sequence of them) for a "
                                 f"River adapter; got {self.seed!r:.60}") from None
            raise
        try:
            hash(self.reset_key)
        except TypeError:  # every call would fail on it, with "unhashable type"
            raise ValueError(f"reset_key must be None or a hashable feature name; got "
                             f"{self.reset_key!r}") from None
        if self.id_key is not None:
            self._check_id_key()
        # the draws of new input units' weights: a stream of its own, from the seed and 1997
        # (flat: NumPy 2.5 refuses the nested [[3, 4], 1997] of a sequence seed, which 2.4
        # read as [3, 4, 1997], the same bits)
        self._rng = np.random.default_rng(None if self.seed is None
                                          else [*np.atleast_1d(self.seed).tolist(), 1997])
        self._slots = {}  # feature name -> input unit
        self._names = []  # feature names by input unit
        self._x = np.zeros(1)
        self._t = np.zeros(n_out)
        self._out = np.zeros(n_out)
        self._pending_x = None  # copy of the x of a pending predict_one step
        self._waiting = collections.deque()  # max_delay > 0: steps predicted, not yet labelled
        self._n_expired = 0  # ... and those before them, older than max_delay: only counted
        self._ids = {}  # id_key: id -> (step, copy of x, outputs) while waiting; (step, None, None) once labelled
        self._id_order = collections.deque()  # id_key: (step, id) in step order, for expiry
        self.n_late_labels_ = 0

    def _check_id_key(self):
        ik = self.id_key
        try:
            hash(ik)
        except TypeError:
            raise ValueError(f"id_key must be None or a hashable feature name; got {ik!r}") from None
        if not self._learner.layout.max_delay:
            raise ValueError("id_key needs max_delay > 0: with max_delay=0 a label can only go to "
                             "the last predicted step, so there is no step for an id to choose")
        if self.reset_key is not None and ik == self.reset_key:
            raise ValueError(f"id_key and reset_key must be different features; both are {ik!r}")

    # ------------------------------------------------------------------
    @property
    def learner_(self) -> OnlineLSTM:
        """The wrapped learner (weights by name, state, delayed-target
        steps).  Input unit ``i`` is feature ``feature_names_[i]``.  A new
        feature or class replaces it by a widened copy.  Its in-memory
        snapshots (:meth:`OnlineLSTM.snapshot`) do not cover the adapter's
        own state (feature and class tables, pending and waiting
        observations, target range): restoring one under a running adapter
        desynchronises the two; ``copy.deepcopy`` the adapter instead."""
        return self._learner

    @property
    def feature_names_(self) -> list:
        """Feature names in input-unit order."""
        return list(self._names)

    def reset(self) -> None:
        """Sequence boundary: reset the learner's states and traces (spec §2.5)."""
        self._learner.reset()
        self._pending_x = None

    def __getstate__(self):
        state = dict(self.__dict__)
        del state["_x"], state["_t"]  # scratch: input and target vectors being built
        return state

    def __copy__(self):
        """An independent copy, as ``copy.deepcopy`` makes (and as
        ``copy.copy`` of a learner is): a shallow copy would share the feature
        and class tables with the original but not the learner once either
        widens it, which breaks the other."""
        return copy.deepcopy(self)

    def __setstate__(self, state):
        state.setdefault("_n_expired", 0)  # pickled before the count existed
        state.setdefault("on_divergence", "raise")  # ... and before the parameter existed
        state.setdefault("id_key", None)  # ... and before id_key existed
        state.setdefault("_ids", {})
        state.setdefault("_id_order", collections.deque())
        self.__dict__.update(state)
        self._x = np.zeros(self._learner.layout.n_in)
        self._t = np.zeros(self._learner.layout.n_out)

    # ------------------------------------------------------------------
    def _widen(self, n_in=None, n_out=None):
        old = self._learner.layout
        self._learner = widen(self._learner, n_in=n_in, n_out=n_out, rng=self._rng)
        if n_in is not None and n_in > old.n_in:
            x = np.zeros(n_in)
            x[: old.n_in] = self._x
            self._x = x
        if n_out is not None and n_out > old.n_out:
            self._out = np.concatenate([self._out, self._learner.state_["y_k"][old.n_out:]])

    def _encode(self, x):
        """The input vector of observation ``x`` (features missing = 0)."""
        try:
            items = x.items()
        except AttributeError:
            raise InputError(f"x must be a dict of features (name -> number); got "
                             f"{type(x).__name__}") from None
        v = self._x
        v.fill(0.0)
        slots, rk, new = self._slots, self.reset_key, None
        for k, val in items:
            i = slots.get(k)
            if i is None:
                if (rk is not None and k == rk) or (self.id_key is not None and k == self.id_key):
                    continue
                new = [] if new is None else new
                new.append(k)
                continue
            t = type(val)
            if (t is float or t is int) and -_FLOAT_MAX <= val <= _FLOAT_MAX:  # fast path: finite
                v[i] = val
            elif val is not None:  # NaN or pd.NA (missing), inf, ints beyond float64, other types
                v[i] = self._value(k, val)
        if new is not None:
            v = self._add_features(x, new)
        return v

    @staticmethod
    def _value(k, val):
        if is_missing(val):  # None, or pd.NA (a missing value in a nullable pandas column)
            return 0.0
        if isinstance(val, (str, bytes)):
            raise InputError(f"feature {k!r} has the non-numeric value {val!r}; encode categorical "
                             f"features first (e.g. river.preprocessing.OneHotEncoder)")
        try:
            f = float(val)
        except OverflowError:
            raise InputError(f"feature {k!r} is too large for a float64: {val!r:.60}") from None
        except (TypeError, ValueError):
            raise InputError(f"feature {k!r} must be a real number; got {val!r:.60}") from None
        if f != f:  # NaN = missing
            return 0.0
        if math.isinf(f):
            raise InputError(f"feature {k!r} is {f}; values must be finite (None or NaN = missing)")
        return f

    def _reset_flag(self, x) -> bool:
        """Whether observation ``x`` starts a sequence: ``x[reset_key]`` is
        true or a non-zero number; None, NaN or ``pd.NA`` (a missing value in
        a DataFrame column) and an absent key are no reset."""
        rk, get = self.reset_key, getattr(x, "get", None)
        if rk is None or get is None:
            return False  # not a dict: _encode says so
        return reset_flag(get(rk), f"the reset flag x[{rk!r}]")

    def _add_features(self, x, new):
        values = {k: self._value(k, x[k]) for k in new}  # check first
        names = _sort_new(new)
        n = len(self._names) + len(names)
        if n > self._learner.layout.n_in:
            self._widen(n_in=n)
        for k in names:
            self._slots[k] = len(self._names)
            self._names.append(k)
            self._x[self._slots[k]] = values[k]
        return self._x

    def _step(self, x, target=None):
        """Run observation ``x`` (learning from ``target`` unless None);
        return the outputs y_k of its step (a buffer owned by the model)."""
        if self.max_delay:
            if self.id_key is not None:
                return self._step_id(x, target)
            if target is not None and (self._n_expired or self._waiting):
                self._learn_waiting(target)
                return self._out
        elif self._pending_x is not None:
            if target is not None:  # learn_one: the observation just predicted
                self._learner.learn_last(target)
                self._pending_x = None
                return self._out
            if _same_observation(x, self._pending_x):  # the same observation, asked again
                return self._out
        learner = self._new_step(x, target)
        if target is None:
            if self.max_delay:
                self._waiting.append(learner.n_steps_ - 1)
                self._expire()
            else:
                self._pending_x = dict(x)
        else:
            self._pending_x = None
        return self._out

    def _new_step(self, x, target):
        """The step of a new observation ``x`` (learning from ``target``
        unless None), its outputs in ``self._out``; returns the learner.  A
        step the learner refuses (DivergenceError) changes nothing visible:
        the features first seen in ``x`` are not registered (their input
        units, at 0, stay and go to the next new features) and a reset asked
        for by ``reset_key`` is undone."""
        n_names = len(self._names)
        reset = self._reset_flag(x)  # refused before _encode adds features
        v = self._encode(x)
        learner = self._learner  # after _encode, which may have widened it
        saved = None
        try:
            if reset:
                saved = learner.state_arrays()
                learner.reset()
            if target is None:
                learner.predict_one(v, out=self._out)
            else:
                learner.learn_one(v, target, out=self._out)
        except BaseException:
            if saved is not None:
                learner.load_state_arrays(saved)
            self._forget_features(n_names)
            raise
        return learner

    def _forget_features(self, n):
        """Unregister the features after the first ``n`` (a refused call
        added them); their input units stay in the net, unnamed."""
        for k in self._names[n:]:
            del self._slots[k]
        del self._names[n:]

    def _expire(self):
        """Count the waiting steps that have grown older than max_delay
        instead of keeping them: their labels can only be skipped, and a model
        that predicts without labels (prediction only) must not grow."""
        waiting, oldest = self._waiting, self._learner.n_steps_ - 1 - self.max_delay
        while waiting and waiting[0] < oldest:
            waiting.popleft()
            self._n_expired += 1

    def _learn_waiting(self, target):
        """A label for the oldest predicted, unlabelled step (max_delay > 0)."""
        learner = self._learner
        # steps taken by learn_one age the waiting ones too; if this moves any, the
        # label is skipped below, so a refused call (learn_delayed raising) moves none
        self._expire()
        if self._n_expired:
            self._skip_late()
            return
        learner.learn_delayed(target, learner.n_steps_ - 1 - self._waiting[0])  # raises before any change
        self._waiting.popleft()

    def _late_label(self, x) -> bool:
        """Whether a label given now with observation ``x`` would be skipped as
        late (``_step`` then only counts it); changes nothing.  Raises, as
        ``_step`` would, for a bad id or a second label of one."""
        if not self.max_delay:
            return False
        if self.id_key is not None:
            return self._id_label(x)[1] is _LATE
        oldest = self._learner.n_steps_ - 1 - self.max_delay
        return bool(self._n_expired or (self._waiting and self._waiting[0] < oldest))

    def _skip_late(self):
        """A label for a step older than max_delay: skipped and counted, with
        a warning the first time (stacklevel: the caller of learn_one)."""
        if not self.n_late_labels_:
            hint = "" if self.id_key is not None else (
                "; without id_key a label goes to the oldest unlabelled prediction, so labels "
                "that never arrive or come out of order shift later labels onto other steps "
                "and then past max_delay: give the model an id_key (see its docstring)")
            warnings.warn(f"a label arrived later than max_delay={self.max_delay} steps after "
                          f"its prediction; it is skipped (n_late_labels_ counts them){hint}",
                          RuntimeWarning, stacklevel=5)
        self.n_late_labels_ += 1
        self._n_expired -= 1

    # ------------------------------------------------------------------
    # id_key: each label goes to the step predicted under its observation's id
    def _id_of(self, x):
        """``x[id_key]``, refused (InputError) if absent, missing or unusable as a key."""
        ik, get = self.id_key, getattr(x, "get", None)
        if get is None:
            raise InputError(f"x must be a dict of features (name -> number); got {type(x).__name__}")
        v = get(ik, _ABSENT)
        t = type(v)
        if t is int or t is str:  # fast path: the usual ids
            return v
        if v is _ABSENT:
            raise InputError(f"x has no id: id_key={ik!r} names a feature every observation must have")
        try:
            hash(v)
            bad = is_missing(v) or bool(v != v)  # None, pd.NA, a NaN of any type (pd.NaT too)
        except Exception:  # unhashable, or a != that refuses
            raise InputError(f"the id x[{ik!r}] must be hashable (an int, str, timestamp, ...); got "
                             f"{v!r:.60} of type {type(v).__name__}") from None
        if bad:
            raise InputError(f"the id x[{ik!r}] is missing ({v!r}); every observation needs an id")
        return v

    def _id_label(self, x):
        """``(id, where)`` for a label of observation ``x``: ``where`` is the
        entry of its waiting step, ``_LATE`` (steps have expired unlabelled:
        their ids are forgotten, so the label is taken as one of theirs), or
        None (a new observation).  Refuses a bad id and a second label for a
        step still remembered, before any change."""
        key = self._id_of(x)
        e = self._ids.get(key)
        if e is not None:
            if e[1] is None:
                raise NoPendingStepError(
                    f"the observation with id {key!r} already had its label (or was learned by "
                    f"learn_one); a step takes one label, as in OnlineLSTM.learn_delayed")
            return key, e
        return key, (_LATE if self._n_expired else None)

    def _step_id(self, x, target):
        """``_step`` with id_key set (max_delay > 0)."""
        if target is None:
            key = self._id_of(x)
            e = self._ids.get(key)
            if e is not None and e[1] is not None:  # predicted, waiting for its label:
                # the same observation asked again; only the id is read, as in learn_one
                # (a scaler before the adapter may have learned since, changing x)
                return self._asked_again(e[2])
        else:
            key, e = self._id_label(x)
            if e is _LATE:
                self._skip_late()
                return self._out
            if e is not None:
                if target[0] == target[0]:  # NaN: no label, nothing to learn
                    learner = self._learner
                    learner.learn_delayed(target, learner.n_steps_ - 1 - e[0])  # raises before any change
                self._ids[key] = (e[0], None, None)
                return self._out
        learner = self._new_step(x, target)
        if target is None:
            entry = (learner.n_steps_ - 1, dict(x), self._kept_answer())
        else:
            entry = (learner.n_steps_ - 1, None, None)
        self._ids[key] = entry
        self._id_order.append((entry[0], key))
        self._expire_ids()
        return self._out

    def _kept_answer(self):
        """What the step just predicted under an id keeps, to answer the same
        observation asked again (:meth:`_asked_again`): its outputs."""
        return self._out.copy()

    def _asked_again(self, kept):
        """The outputs of an observation predicted under an id, asked again."""
        out = self._out
        out[: len(kept)] = kept
        out[len(kept):] = 0.0  # units of classes registered since: not predicted then
        return out

    def _expire_ids(self):
        """Forget the ids of steps older than max_delay (bounded memory);
        those still waiting for a label are counted in ``_n_expired``."""
        order, ids = self._id_order, self._ids
        oldest = self._learner.n_steps_ - 1 - self.max_delay
        while order and order[0][0] < oldest:
            step, key = order.popleft()
            e = ids.get(key)
            if e is not None and e[0] == step:
                del ids[key]
                if e[1] is not None:
                    self._n_expired += 1

    @classmethod
    def _unit_test_params(cls):
        yield dict(n_blocks=2, block_size=1)
        yield dict(n_blocks=1, block_size=2, connectivity="B", bias="all", lr=1.0)
        yield dict(n_blocks=2, block_size=1, forget_gate=True, peepholes=True, forget_gate_bias=(1.0, 2.0))
        yield dict(n_blocks=2, block_size=1, max_delay=3)  # delayed labels (see the module docstring)


#: constructor parameters passed through to OnlineLSTM
_LEARNER_PARAMS = ("n_blocks", "block_size", "output_gates", "connectivity", "bias", "g", "h",
                   "init_range", "in_gate_bias", "out_gate_bias", "forget_gate", "peepholes",
                   "forget_gate_bias", "lr", "update", "state_bound", "on_divergence", "max_delay",
                   "seed")

_PARAMS_DOC = """
    n_blocks, block_size
        Memory-cell blocks and cells per block.
    lr
        Learning rate alpha of the paper's plain online gradient step.  The
        defaults (4 blocks of 2 cells, ``lr=0.5``) were picked on synthetic
        streams (``synth.Friedman``, ``synth.Hyperplane``), not on the real
        streams reported in ``docs/river.md``.
    init_range
        Initial weights uniform in ``[-init_range, init_range]`` (spec §2.7).
    output_gates, connectivity, bias, g, h, in_gate_bias, out_gate_bias, update, state_bound
        As in :class:`online_lstm.OnlineLSTM`.  ``update="sequence"`` applies the
        accumulated weight changes only at a reset (:meth:`reset` or ``reset_key``):
        on a stream without either the weights never change (TrumpApproval behind
        a StandardScaler: MAE 1.70, against 0.545 with the default "step").
    on_divergence
        As in :class:`online_lstm.OnlineLSTM`: "raise" (default) raises
        :class:`~online_lstm.errors.DivergenceError` when a step would push a
        cell state beyond ``state_bound`` (or make anything non-finite);
        "reset" resets the learner there and carries on
        (``learner_.n_divergences_`` counts the events).  The adapter never
        resets on its own otherwise, and the cell states of a 1997 net on an
        unsegmented stream drift without bound (spec §4), so a long stream
        needs "reset" (or ``reset_key``, or ``forget_gate=True``).
    seed
        Seed of the initial weights, including those of units added for new
        features or classes: an int >= 0 or a sequence of them (not a
        Generator or SeedSequence, which ``clone()`` could not reproduce).
        None: fresh entropy.
    reset_key
        Name of a feature that marks sequence boundaries (see the module
        docstring); None: no boundaries other than :meth:`reset`.
    forget_gate, peepholes, forget_gate_bias
        The two later additions to LSTM, as in
        :class:`online_lstm.OnlineLSTM`: a forget gate per block (Gers,
        Schmidhuber & Cummins 2000), which lets a cell empty its state on a
        long unsegmented stream, and peephole weights from each cell's state
        to its block's gates (Gers & Schmidhuber 2000).  Off by default: the
        1997 net.  ``forget_gate_bias`` (default +1.0, the gate starts open)
        is used only with ``forget_gate=True``.
    max_delay
        Labels may arrive up to this many observations after their
        prediction (see "Delayed labels" in the module docstring).  0
        (default): the label of the last prediction only.
    id_key
        Name of a feature holding each observation's id (any hashable value;
        never an input).  With it, ``learn_one`` learns each label from the
        step predicted under the same id, so labels may arrive in any order
        (see "Delayed labels" in the module docstring).  Needs
        ``max_delay > 0``.  None (default): labels in the order of the
        predictions."""


def _real_label(y) -> float:
    """A regression label as a float; None (or pandas' ``pd.NA``) means no label (NaN)."""
    if is_missing(y):
        return math.nan
    if isinstance(y, (numbers.Real, np.bool_)):  # float, int, bool and NumPy's scalars (np.bool_
        # is no numbers.Real, but is a bool as the learner's targets take it); not "1.5"
        try:
            f = float(y)
        except OverflowError:
            f = math.inf
        if f != f or abs(f) <= MAGNITUDE_LIMIT:
            return f
        raise InputError(f"a regression label must be finite and at most {MAGNITUDE_LIMIT:g} in "
                         f"magnitude (None or NaN: no label); got {y!r:.60}")
    raise InputError(f"a regression label must be a real number, or None/NaN for an observation "
                     f"without one; got {y!r} of type {type(y).__name__}")


def _no_class(y) -> bool:
    """A classification label that means "no label": None, ``pd.NA``, or a
    value unequal to itself (a NaN of any type: float, NumPy, ``Decimal``;
    ``pd.NaT``).  Such a value could not name a class anyway: it never finds
    its own entry in a dict, so each one would register a class of its own."""
    if is_missing(y):
        return True
    try:
        return bool(y != y)
    except Exception:  # an array (no truth value), or a != that refuses
        return False


class LSTMRegressor(_StreamLSTM, base.Regressor):
    """The 1997 LSTM as a River regressor: one output unit, one step per observation.

    Parameters
    ----------{params}
    target_range
        ``(lo, hi)``: fixed target scaling, for targets with a known range.
        None (default): the range of the targets seen so far, updated online.
    target_margin
        Fraction of the logistic output's range kept free at each end, in
        [0, 0.5).

    Notes
    -----
    **Target scaling.**  The output unit is logistic, so the net predicts in
    (0, 1).  Targets are mapped there by an affine, invertible map that sends
    ``[lo, hi]`` to ``[target_margin, 1 - target_margin]`` (the margin keeps
    targets away from the flat ends of the logistic, where f' -> 0, and lets
    predictions reach a little beyond the range); predictions are mapped back
    by its inverse, so they lie in ``[lo - m, hi + m]`` with
    ``m = target_margin (hi - lo) / (1 - 2 target_margin)``.  An affine map
    keeps the squared error the net minimises proportional to the squared
    error in the target's own units.

    With ``target_range=None`` the range is the running min/max of the
    targets (a new extreme widens it before the step learns from it).  This
    needs no prior knowledge, but each widening changes what every output
    value means, so a trending target (a new maximum every season) keeps
    invalidating part of what was learned, and predictions can never exceed
    the range seen so far by more than the margin.  Give ``target_range``
    when the range is known (sensor limits, percentages): the map then never
    moves, and a label beyond ``[lo - m, hi + m]``, which the logistic output
    could never reach, raises :class:`~online_lstm.errors.InputError`.  For trending series, model differences rather than levels.
    Before any target the range is taken as ``[-1, 1]``; while all targets
    are equal it is ``y0 ± max(|y0|, 1)``.

    Examples
    --------
    >>> from river import datasets, evaluate, metrics, preprocessing
    >>> from online_lstm.river import LSTMRegressor
    >>> model = preprocessing.StandardScaler() | LSTMRegressor(seed=1)
    >>> evaluate.progressive_val_score(datasets.TrumpApproval(), model, metrics.MAE())
    MAE: 0.54495
    """

    def __init__(self, n_blocks: int = 4, block_size: int = 2, lr: float = 0.5,
                 init_range: float = 0.1, output_gates: bool = True, connectivity: str = "F",
                 bias: str = "gates", g: str = "g2", h: str = "h1", in_gate_bias=None,
                 out_gate_bias=None, update: str = "step", state_bound: float = 1e6,
                 seed: int | Sequence[int] | None = None, reset_key=None, forget_gate: bool = False,
                 peepholes: bool = False, forget_gate_bias=1.0, target_range: tuple | None = None,
                 target_margin: float = 0.1, max_delay: int = 0, on_divergence: str = "raise",
                 id_key=None):
        self.target_range = target_range
        self.target_margin = target_margin
        if not (isinstance(target_margin, numbers.Real) and not isinstance(target_margin, bool)
                and 0 <= target_margin < 0.5):  # (False is no margin of 0, but a flag misplaced)
            raise ValueError(f"target_margin must be in [0, 0.5); got {target_margin!r}")
        self._lo = self._hi = None  # running target range
        if target_range is not None:
            try:
                lo, hi = target_range
                lo, hi = float(lo), float(hi)
                if isinstance(target_range, (str, bytes)):
                    raise TypeError
            except (TypeError, ValueError):
                lo = hi = math.nan
            if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
                raise ValueError(f"target_range must be None or (lo, hi), two numbers with finite "
                                 f"lo < hi; got {target_range!r}")
            # the map and the range of its predictions must be finite too: hi - lo can
            # overflow (every prediction was then inf and every target the margin)
            scale = (hi - lo) / (1.0 - 2.0 * target_margin)
            if not (math.isfinite(scale) and math.isfinite(lo - target_margin * scale)
                    and math.isfinite(hi + target_margin * scale)):
                raise ValueError(f"target_range must be None or (lo, hi), two numbers with finite "
                                 f"lo < hi whose predictions [lo - d, hi + d] (d = target_margin "
                                 f"(hi - lo) / (1 - 2 target_margin)) are finite too; got "
                                 f"{target_range!r}")
            self._lo, self._hi = lo, hi
        super().__init__(n_blocks, block_size, lr, init_range, output_gates, connectivity, bias, g, h,
                         in_gate_bias, out_gate_bias, update, state_bound, seed, reset_key,
                         forget_gate, peepholes, forget_gate_bias, max_delay, on_divergence, id_key)

    @property
    def target_range_(self) -> tuple:
        """The ``(lo, hi)`` the target map currently uses."""
        lo, hi = self._lo, self._hi
        if lo is None:
            return (-1.0, 1.0)
        if lo == hi:
            d = max(abs(lo), 1.0)
            return (lo - d, hi + d)
        return (lo, hi)

    def _map(self):
        lo, hi = self.target_range_
        m = self.target_margin
        return lo, (hi - lo) / (1.0 - 2.0 * m), m  # y = lo + (p - m) * scale

    def learn_one(self, x: dict, y: float | None) -> None:
        """Learn target ``y`` for observation ``x`` (None or NaN: a step without target)."""
        y = _real_label(y)
        if self._late_label(x):  # skipped: no new range either, which would rescale every
            self._step(x, self._t)  # later prediction with nothing learned
            return
        old = self._lo, self._hi
        if self.target_range is None and math.isfinite(y):
            if self._lo is None:
                self._lo = self._hi = y
            elif y < self._lo:
                self._lo = y
            elif y > self._hi:
                self._hi = y
        lo, scale, m = self._map()
        t = (y - lo) / scale + m
        # the ends lo - d and hi + d are in: t computed from them can miss 0 or 1 by a rounding
        # error (a tolerance of 1e-12 of the output's range, far below any label's precision)
        if self.target_range is not None and not -1e-12 <= t <= 1.0 + 1e-12 and y == y:
            lo, hi = self.target_range_
            raise InputError(f"label {y!r} is beyond what target_range={self.target_range!r} can "
                             f"express: predictions lie in [{lo - m * scale:g}, {hi + m * scale:g}]; "
                             f"widen target_range, or pass None to follow the labels")
        self._t[0] = t
        try:
            self._step(x, self._t)
        except Exception:  # a refused step changes nothing, the target range included
            self._lo, self._hi = old
            raise

    def predict_one(self, x: dict) -> float:
        """Predict the target of observation ``x`` (takes its step; see the module docstring)."""
        out = self._step(x)
        if out.shape[0] == 2:  # asked again under its id: the answer it had
            return float(out[1])
        return self._answer(out[0])

    def _answer(self, p):
        lo, scale, m = self._map()
        return float(lo + (p - m) * scale)

    def _kept_answer(self):
        # the output and the answer in the target's units: labels that come in
        # meanwhile move the target range, and the same observation asked again
        # must get the same answer (module docstring), not its output mapped anew
        p = self._out[0]
        return np.array([p, self._answer(p)])

    def _asked_again(self, kept):
        if kept.shape[0] == 2:
            self._out[0] = kept[0]
            return kept
        return super()._asked_again(kept)  # pickled before the answer was kept


class LSTMClassifier(_StreamLSTM, base.Classifier):
    """The 1997 LSTM as a River classifier: one output unit per class seen.

    Parameters
    ----------{params}

    Notes
    -----
    Classes get an output unit in order of first appearance
    (:attr:`classes_`); a new class widens the net with an output unit that
    had no target until then, which changes nothing already learned
    (:func:`online_lstm.widen.widen`).  Targets are one-hot (1 for the
    class, 0 for the others) and the error is the paper's squared error on
    logistic outputs.  ``predict_proba_one`` normalises the outputs of the
    known classes to sum to 1; before the first label it returns ``{}`` (and
    ``predict_one`` None), as River's classifiers do.

    Examples
    --------
    >>> from river import datasets, evaluate, metrics, preprocessing
    >>> from online_lstm.river import LSTMClassifier
    >>> model = preprocessing.StandardScaler() | LSTMClassifier(seed=1)
    >>> evaluate.progressive_val_score(datasets.Phishing(), model, metrics.Accuracy())
    Accuracy: 85.67%
    """

    def _setup(self, n_out):
        super()._setup(n_out)  # output unit 0 waits for the first class
        self._classes = {}  # class -> output unit

    @property
    def _multiclass(self):
        return True

    @property
    def classes_(self) -> list:
        """Classes in output-unit order."""
        return list(self._classes)

    def learn_one(self, x: dict, y) -> None:
        """Learn label ``y`` for observation ``x`` (None, ``pd.NA`` or a NaN of
        any type: a step without label, which registers no class)."""
        if _no_class(y):  # no label
            t = self._t
            t.fill(math.nan)
            self._step(x, t)
            return
        try:
            k = self._classes.get(y)
        except TypeError:
            raise InputError(f"a class label must be hashable (a str, int, bool, ...); got {y!r} of "
                             f"type {type(y).__name__}") from None
        new_class = k is None
        n_names = len(self._names)
        if new_class and self._late_label(x):  # skipped: registers no class (its unit,
            self._step(x, self._t)  # untrained, would take a share of every probability)
            return
        if new_class:
            # if x takes a step of its own, refuse bad features before the class is
            # registered; a label for a step already taken does not read x (the
            # regressor's rule, and this one's for a known class)
            if self.max_delay and self.id_key is not None:  # refuses a bad id, a second label
                waiting = self._id_label(x)[1] is not None
            elif self.max_delay:
                waiting = bool(self._n_expired or self._waiting)
            else:
                waiting = self._pending_x is not None  # an empty dict is a pending x too
            if not waiting:
                self._reset_flag(x)
                self._encode(x)
            k = self._classes[y] = len(self._classes)
            if k >= self._learner.layout.n_out:
                self._widen(n_out=k + 1)
                self._t = np.zeros(k + 1)
        t = self._t
        t.fill(0.0)
        t[k] = 1.0
        try:
            self._step(x, t)
        except Exception:
            if new_class:  # a refused step (DivergenceError) registers no class, as the
                del self._classes[y]  # regressor keeps no new range; the unit, which had
                self._forget_features(n_names)  # no target, waits for the next new class,
            raise  # as the input units of the features x brought wait for the next ones

    def predict_proba_one(self, x: dict) -> dict:
        """Class probabilities for observation ``x``: outputs normalised to sum 1."""
        out = self._step(x)
        n = len(self._classes)
        if n == 0:
            return {}
        total = float(np.sum(out[:n]))
        if not total > 0.0:
            return dict.fromkeys(self._classes, 1.0 / n)
        return {c: float(out[k]) / total for c, k in self._classes.items()}


LSTMRegressor.__doc__ = LSTMRegressor.__doc__.replace("{params}", _PARAMS_DOC)
LSTMClassifier.__doc__ = LSTMClassifier.__doc__.replace("{params}", _PARAMS_DOC)
