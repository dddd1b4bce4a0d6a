"""Input checks shared by every learner (OnlineLSTM, LearnerBank, RTRL, BPTT)."""

from __future__ import annotations

import copy

import math
import sys
from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np
from numba.core.errors import NumbaTypeError, NumbaValueError

from .errors import InputError
from .layout import MAGNITUDE_LIMIT

_EXACT_INT = 2**53  # every integer up to this magnitude is a float64

#: The dtype object of every native float64 array.  A learner's per-step call
#: passes an ndarray (input, target, out) to its kernel as it is only if its
#: dtype is this one or in the machine's byte order (a float32 array is refused
#: by the kernel and then converted); a byte-swapped one is converted first (an
#: out refused): Numba's dispatch can take a byte-swapped float64 array ('>f8'
#: on this machine) for a native one once an unaligned float64 array has
#: reached any compiled function in the process (their type fingerprints are
#: the same), and the kernel then reads the swapped bytes as numbers.  (The
#: identity test costs ~15 ns a call; ``isnative`` is read only when it fails.)
NATIVE_F64 = np.dtype(np.float64)

#: What a compiled call raises for an argument it has no compiled version for:
#: TypeError for another dtype or layout (or a read-only array), NumbaTypeError
#: (not a TypeError) for a type Numba refuses outright, such as a masked array,
#: and NumbaValueError for a dtype it has no type for (Numba 0.59 says so for
#: float128; later versions raise a TypeError).  The learners catch these and
#: convert the argument (:func:`as_float_array`), which refuses what is unsafe.
DISPATCH_ERRORS = (TypeError, NumbaTypeError, NumbaValueError)


def as_array(value, name, shape_text, keep_mask=False):
    """``np.asarray(value)`` (``np.asanyarray`` if ``keep_mask``), with
    :class:`InputError` naming the expected shape for what NumPy cannot make
    an array of (ragged lists and the like)."""
    try:
        arr = np.asanyarray(value) if keep_mask else np.asarray(value)
    except Exception as exc:
        raise InputError(f"{name} must be an array of shape {shape_text}; got {value!r:.80} "
                         f"({exc})") from None
    if arr.dtype == object and hasattr(value, "to_numpy"):  # pandas nullable dtypes NumPy reads as objects
        arr = _pandas_nullable(value, name, arr)
    return arr


def native_float64(arr: np.ndarray) -> np.ndarray:
    """``arr`` in native byte order if it is float64 in the other one (a state
    written on a big-endian machine, say): converting it is exact; any other
    array is returned as it is, for the caller to check."""
    if arr.dtype.kind == "f" and arr.dtype.itemsize == 8 and not arr.dtype.isnative:
        return arr.astype(np.float64)
    return arr


def progress_bar(progress, total=None, unit="it", unit_scale=False):
    """``(bar, own)`` for a ``progress`` argument: True makes a tqdm bar of
    ``total`` (``own`` True: the caller closes it), a bar given (anything
    with ``update(n)``) is used as it is and left open, False or None give
    no bar.  Anything else raises ValueError before any work is done."""
    if isinstance(progress, (bool, np.bool_)):
        progress = bool(progress)  # np.True_ too makes a bar
    elif not (progress is None or hasattr(progress, "update")):
        raise ValueError(f"progress must be True, False or a tqdm bar (with update()); got {progress!r:.60}")
    if progress is True:
        from tqdm.auto import tqdm

        return tqdm(total=total, unit=unit, unit_scale=unit_scale), True
    if progress is False or progress is None:  # not by its truth: tqdm's bool() of a bar
        return None, False                     # without total raises, with total=0 is False
    return progress, False


#: Rows per compiled call of learn_many/predict_many with a progress bar
#: (about 40 ms each on the Reber net): the bar moves, and Ctrl-C, which
#: Python handles between calls, stops the run within one chunk.
CHUNK = 65_536


def some_row_refused(X, Y, learn, rows, axis=0):
    """True if a compiled row loop would refuse some row: an input that is
    not finite, or (``learn``) an infinite target.  Read ``rows`` rows
    (along ``axis``, the time axis) at a time, so that no temporary is as
    large as ``X``."""
    T = X.shape[axis]
    lead = (slice(None),) * axis
    for a in range(0, T, rows):
        part = (*lead, slice(a, a + rows))
        if not np.isfinite(X[part]).all() or learn and np.isinf(Y[part]).any():
            return True
    return False


def run_in_chunks(run, X, Y, r, o, learn, bar):
    """A learner's compiled row loop ``run(X, Y, resets, out)`` (returning
    ``(status, row)``) over :data:`CHUNK` rows at a time,
    with ``bar.update`` after each: the same steps, so the same bits, as one
    call over all rows (each call goes on from the state the last one left).
    As in one call, every row is checked before the first step: a bad row
    anywhere is left to one call over all rows, which refuses it and
    changes nothing.  Returns ``(status, absolute row)``."""
    T, chunk = X.shape[0], CHUNK
    if some_row_refused(X, Y, learn, chunk):
        return run(X, Y, r, o)
    for a in range(0, T, chunk):
        b = min(a + chunk, T)
        st, row = run(X[a:b], Y[a:b], r[a:b] if r.shape[0] else r, o[a:b])
        if st:
            bar.update(int(row))
            return st, a + int(row)
        bar.update(b - a)
    return 0, T


def as_float_array(value, name, ndim, shape_text):
    """Convert to a C-contiguous float64 array if that loses nothing.

    float64, float32, integer and bool arrays (and lists of numbers) are
    accepted, and so are object arrays holding only such numbers (a pandas
    row of a mixed-dtype DataFrame); complex, string and other object data
    raise :class:`InputError`, and so do integers beyond 2**53 in magnitude,
    which float64 would round.
    Read-only arrays (a pandas ``.values``, a memory map) and unaligned ones
    (a field of a packed structured array, ``np.frombuffer`` at an odd
    offset) are copied, and the
    masked entries of a NumPy masked array become NaN, which means "no
    target" in a target and is refused in an input.
    """
    if isinstance(value, np.ma.MaskedArray):
        data = as_float_array(np.ma.getdata(value), name, ndim, shape_text)
        return np.where(np.ma.getmaskarray(value), np.nan, data)
    arr = as_array(value, name, shape_text)
    if arr.dtype == np.float64 and arr.flags.c_contiguous and arr.ndim == ndim:
        return _behaved(arr)
    if arr.dtype == object:
        arr = _object_numbers(arr, name)
    if not np.can_cast(arr.dtype, np.float64, casting="safe"):
        raise InputError(
            f"{name} must hold real numbers that convert to float64 without loss "
            f"(float64, float32, int or bool); got dtype {arr.dtype}"
        )
    if arr.ndim != ndim:
        raise InputError(f"{name} must be {ndim}-D with shape {shape_text}; got shape {arr.shape}")
    if arr.dtype.kind in "iu" and arr.dtype.itemsize > 4 and arr.size:
        # numpy calls int64 -> float64 "safe", but above 2**53 it rounds
        if arr.max() > _EXACT_INT or (arr.dtype.kind == "i" and arr.min() < -_EXACT_INT):
            raise InputError(
                f"{name} holds integers beyond 2**53 in magnitude, which float64 cannot hold "
                f"exactly; convert to float yourself if the rounding is acceptable")
    return _behaved(np.ascontiguousarray(arr, dtype=np.float64))


def _behaved(arr):
    """``arr`` (float64, C-contiguous), or a copy of it if it is read-only or
    unaligned: the compiled calls take neither, and Numba's dispatch tells an
    unaligned float64 array from a byte-swapped one by a type fingerprint that
    holds neither property, so whichever reached a compiled function first
    decides the fate of the other (an unaligned input refused with a raw
    TypeError, or a big-endian one read as native bytes)."""
    return arr if arr.flags.writeable and arr.flags.aligned else arr.copy()


#: scalar types an object array may hold and still be read as numbers (a
#: pandas row of a DataFrame with a timestamp or string column is an object
#: Series, even after the numeric columns are selected from it)
_OBJECT_NUMBERS = (bool, np.bool_, int, np.integer, float, np.float16, np.float32, np.float64)


def _object_numbers(arr, name):
    """An object array whose elements are all plain real numbers (Python or
    NumPy floats up to float64, ints, bools) as float64: the array NumPy would
    have made from the same numbers in a list.  Anything else in it (None,
    strings, timestamps, long double, Decimal) raises :class:`InputError`
    naming the first such element."""
    flat = arr.ravel()
    for i, v in enumerate(flat):
        if not isinstance(v, _OBJECT_NUMBERS):
            if arr.ndim and is_missing(v):  # a missing value: say what to do, not pandas' dtypes
                hint = {"y": "use NaN for an output without a target at this step (y=None: no "
                             "target at all)",
                        "Y": "use NaN for an output without a target at that step",
                        "x": MISSING_INPUT_HINT, "X": MISSING_INPUT_HINT}.get(name, "give a number")
                raise InputError(f"{name} must hold real numbers that convert to float64; it holds "
                                 f"{v!r} at flat index {i}: {hint}")
            if arr.ndim == 0:  # not an array at all (a dict, a string, ...)
                raise InputError(f"{name} must be an array of real numbers (float64, float32, int "
                                 f"or bool); got {v!r:.60} of type {type(v).__name__}")
            raise InputError(
                f"{name} must hold real numbers that convert to float64 without loss "
                f"(float64, float32, int or bool); got dtype object holding {v!r:.60} of type "
                f"{type(v).__name__} at flat index {i} (a pandas row of a DataFrame with "
                f"non-numeric columns is of dtype object: select the numeric columns of the "
                f"DataFrame first, df[columns].to_numpy())")
        if isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) \
                and abs(int(v)) > _EXACT_INT:
            raise InputError(f"{name} holds integers beyond 2**53 in magnitude, which float64 cannot "
                             f"hold exactly; convert to float yourself if the rounding is acceptable")
    return np.array([float(v) for v in flat], dtype=np.float64).reshape(arr.shape)


def as_input_rows(X, n_in):
    """The inputs of a many-steps call as float64 of shape (T, n_in); with one
    input unit, shape (T,) is T steps of it (as Y of shape (T,) is for one
    output)."""
    if n_in == 1:
        X = as_array(X, "X", "(T, 1)", keep_mask=True)  # masked entries stay masked
        if X.ndim == 1:
            X = X.reshape(-1, 1)
    return as_float_array(X, "X", 2, f"(T, {n_in})")


def as_target_rows(Y, T, K):
    """The targets of a many-steps call of ``T`` rows as float64 of shape
    (T, K), NaN for no target (a masked entry is one); with one output, shape
    (T,) is T steps of it.  :class:`InputError` for no ``Y`` or another shape."""
    if Y is None:
        raise InputError(f"Y must be an array of shape ({T}, {K}); use NaN for steps without target")
    Y = as_array(Y, "Y", f"({T}, {K})", keep_mask=True)  # masked targets become NaN
    if Y.ndim == 1 and K == 1:
        Y = Y.reshape(-1, 1)
    Y = as_float_array(Y, "Y", 2, f"({T}, {K})")
    if Y.shape != (T, K):
        raise InputError(f"Y must have shape ({T}, {K}), one row per row of X; got {Y.shape}")
    return Y


def as_input(x, n_in):
    """One step's input as float64 of shape (n_in,) by the rules of
    :func:`as_float_array`; with one input unit a number, a bool or a 0-d
    array is that unit's input (as a scalar target is the one output's, in
    :func:`as_target`).  The caller (or its kernel) checks the length."""
    if n_in == 1 and (isinstance(x, (Real, np.bool_)) or type(x) is np.ndarray and x.ndim == 0):
        return as_float_array(np.reshape(x, (1,)), "x", 1, "(1,)")  # ints beyond 2**53 refused, as in arrays
    return as_float_array(x, "x", 1, f"({n_in},)")


#: what a refused non-finite input adds: the learners have no "missing" value
MISSING_INPUT_HINT = ("the net has no missing-input value: fill missing readings before the "
                      "call (e.g. the last good reading, or 0 plus a 0/1 'missing' input)")


def nonfinite_entries(x, where="x[{}]") -> str:
    """``"x[2] = nan, x[4] = inf"``: the non-finite entries of a 1-D input
    (the first five), each named by ``where`` with its index, for the
    message that refuses it."""
    x = np.asarray(x, dtype=np.float64).ravel()
    bad = np.flatnonzero(~np.isfinite(x))
    text = ", ".join(f"{where.format(i)} = {x[i]}" for i in bad[:5])
    return text + (f" and {bad.size - 5} more" if bad.size > 5 else "")


def nonfinite_input_message(x, where="") -> str:
    """The message refusing a step's input ``x`` that holds NaN or inf (the
    same for every learner): ``where`` (e.g. " (row 3)") after "finite", the
    bad entries when ``x`` is known."""
    bad = "" if x is None else f" ({nonfinite_entries(x)})"
    return f"x must be finite{where}: NaN or inf in the input{bad}; {MISSING_INPUT_HINT}"


def checked_out(out, shape):
    """``out`` if it is a writeable, aligned, C-contiguous float64 array (in
    the machine's byte order) of ``shape`` (a caller's buffer for the
    outputs); else :class:`InputError`."""
    if not (type(out) is np.ndarray and out.dtype == np.float64 and out.shape == shape
            and out.flags.c_contiguous and out.flags.writeable and out.flags.aligned):
        raise InputError(f"out must be a writeable C-contiguous float64 array of shape {shape} "
                         f"(aligned, in the machine's byte order: what np.empty({shape}) gives)")
    return out


def _pandas_nullable(value, name, arr):
    """A pandas Series, DataFrame or array of nullable numbers (``Int64``,
    ``Float64``, ``boolean``: what ``convert_dtypes()`` makes) as float64,
    ``pd.NA`` as NaN; ``arr`` unchanged if ``value`` holds anything else."""
    dtypes = value.dtypes if hasattr(value, "columns") else [value.dtype]
    kinds = [getattr(getattr(d, "numpy_dtype", d), "kind", "O") for d in dtypes]  # numpy dtypes as they are
    if not kinds or any(k not in "biuf" for k in kinds):
        return arr
    out = np.asarray(value.to_numpy(dtype=np.float64, na_value=np.nan))
    if any(k in "iu" for k in kinds) and np.any(np.abs(out) >= _EXACT_INT):  # rounded, or about to be
        raise InputError(f"{name} holds integers beyond 2**53 in magnitude, which float64 cannot hold "
                         f"exactly; convert to float yourself if the rounding is acceptable")
    return out


def is_missing(y) -> bool:
    """``y`` is None or pandas' ``pd.NA``: a missing target (pandas is not
    imported for this: a caller holding ``pd.NA`` has imported it)."""
    if y is None:
        return True
    pd = sys.modules.get("pandas")
    return pd is not None and y is getattr(pd, "NA", None)


def reset_flag(value, what) -> bool:
    """Whether a sequence-boundary flag asks for a reset: True or a non-zero
    number does; None, NaN, ``pd.NA`` (a DataFrame's missing value), False
    and 0 do not.  Anything else (a string, an array) is refused with
    :class:`InputError` naming ``what``: ``"no"`` must not read as true."""
    if is_missing(value):
        return False
    if isinstance(value, (bool, np.bool_, Real)):
        return bool(value) and value == value  # truthy, and not NaN
    raise InputError(f"{what} must be a bool or a number (None, NaN or pd.NA: no reset); got "
                     f"{value!r:.60} of type {type(value).__name__}")


def as_target(y, n_out, nan_y, ybuf):
    """One step's target for a learner with ``n_out`` outputs, as float64.

    None or ``pd.NA`` give ``nan_y`` (all NaN: no target); with one output a
    number is written into ``ybuf`` (shape (1,)) and a bool or a 0-d array is
    that output's target; anything else goes through :func:`as_float_array`
    as a 1-D array, whose length the caller checks.
    """
    if is_missing(y):
        return nan_y
    if isinstance(y, Real) and not isinstance(y, (bool, np.bool_)):
        if n_out != 1:
            raise InputError(f"a scalar target needs n_out == 1; this learner has n_out={n_out}, "
                             f"so y must have shape ({n_out},)")
        ybuf[0] = as_float_scalar(y, "y")  # ints beyond 2**53, long double: refused, as in arrays
        return ybuf
    if n_out == 1 and (isinstance(y, (bool, np.bool_)) or type(y) is np.ndarray and y.ndim == 0):
        y = np.reshape(y, (1,))
    return as_float_array(y, "y", 1, f"({n_out},)")


#: scalar types a float64 holds exactly (float covers np.float64)
_EXACT_FLOATS = (float, np.float32, np.float16)


def as_float_scalar(value, name):
    """A real scalar as a float, by the rules of :func:`as_float_array`:
    floats as they are, integers only within 2**53, no long double, no bools
    (the caller refuses those before), nothing else."""
    if isinstance(value, _EXACT_FLOATS):
        return float(value)
    return float(as_float_array([value], name, 1, "(1,)")[0])


def as_bool_mask(value, name, shape, what):
    """A writeable C-contiguous bool array of exactly ``shape`` (0/1 integers
    are accepted; an empty list is an empty mask); ``what`` says what one
    entry stands for, for the error message."""
    if isinstance(value, np.ma.MaskedArray) and np.ma.is_masked(value):
        # np.asarray would read the data under the mask: a masked True a True
        raise InputError(f"{name} has masked (missing) entries; every entry must be True or False")
    r = as_array(value, name, str(shape))
    if r.shape != shape:
        raise InputError(f"{name} must be a boolean mask of shape {shape}, {what}; got shape {r.shape}")
    if r.dtype != np.bool_ and r.size:
        if r.dtype.kind == "f" and np.isnan(r).any():  # pd.NA of a nullable 'boolean' (read as NaN)
            raise InputError(f"{name} has missing (NaN or pd.NA) entries; every entry must be True "
                             f"or False")
        if r.dtype.kind not in "iu" or not np.all((r == 0) | (r == 1)):
            raise InputError(f"{name} must be a boolean mask (or 0/1); got dtype {r.dtype}")
    r = np.ascontiguousarray(r, dtype=np.bool_)
    return r if r.flags.writeable else r.copy()


def check_flag(value, name) -> None:
    """:class:`InputError` unless ``value`` is a bool: a keyword flag given
    "no", 0.0 or a list would otherwise be read by its truth."""
    if not isinstance(value, (bool, np.bool_)):
        raise InputError(f"{name} must be True or False; got {value!r:.60}")


def _check_mapping(value, expected) -> None:
    """:class:`InputError` saying ``expected`` unless ``value`` is a mapping
    (``in`` would find a key in a string or a list, and fail on None)."""
    if not isinstance(value, Mapping):
        raise InputError(f"{expected}; got {type(value).__name__} {value!r:.60}")


def check_state_mapping(arrays) -> None:
    """:class:`InputError` unless ``arrays`` is a mapping of names to arrays,
    as a learner's ``state_arrays()`` returns."""
    _check_mapping(arrays, "state must be a dict of named arrays, as state_arrays() returns")


def named_values(weights, named) -> dict:
    """The parameters of a ``set_weights(weights, **named)`` call as one
    dict (``named`` wins on a clash); :class:`InputError` if ``weights`` is
    neither None nor a mapping (the flat ``theta_``, a name alone)."""
    if weights is not None:
        _check_mapping(weights, "set_weights takes a dict of parameter name -> array (or "
                                "name=array keywords), as get_weights() returns")
    return {**(weights or {}), **named}


def checked_weights(shapes: dict, weights, named) -> dict:
    """Validate named parameters for ``set_weights``, before anything is written.

    Parameters
    ----------
    shapes : dict
        Name -> shape of every parameter of the learner.
    weights : mapping or None, named : dict
        The values to set (``named`` wins on a clash).

    Returns
    -------
    dict
        Name -> float64 array of exactly ``shapes[name]``, finite and within
        ``MAGNITUDE_LIMIT``.
    """
    checked = {}
    for name, value in named_values(weights, named).items():
        if name not in shapes:
            raise InputError(f"unknown parameter {name!r}; this net has {list(shapes)}")
        shape = shapes[name]
        arr = as_float_array(value, name, len(shape), str(shape))
        if arr.shape != shape:
            raise InputError(f"{name} must have shape {shape}; got {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise InputError(f"{name} must be finite")
        if np.max(np.abs(arr), initial=0.0) > MAGNITUDE_LIMIT:
            raise InputError(f"{name} has entries beyond {MAGNITUDE_LIMIT:g} in magnitude")
        checked[name] = arr
    return checked


def as_real(value, name, what):
    """``value`` as a float, for a hyper-parameter: real numbers only (no
    bools, no strings); ValueError naming ``name`` otherwise, also for
    integers too large for a float."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
        raise ValueError(f"{name} must be {what}; got {value!r}")
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"{name} must be {what}; got an integer too large for a float") from None


def checked_init_range(value) -> float:
    """``init_range`` as a float in ``[0, MAGNITUDE_LIMIT]`` (ValueError otherwise)."""
    what = f"a number in [0, {MAGNITUDE_LIMIT:g}]"
    r = as_real(value, "init_range", what)
    if not math.isfinite(r) or not 0 <= r <= MAGNITUDE_LIMIT:
        raise ValueError(f"init_range must be {what}; got {value!r}")
    return r


def checked_lr(value) -> float:
    """A learning rate as a finite float >= 0 (ValueError otherwise)."""
    v = as_real(value, "lr", "a finite number >= 0")
    if not math.isfinite(v) or v < 0:
        raise ValueError(f"lr must be a finite number >= 0; got {value!r}")
    return v


def int_or_none(seed):
    """A seed as an int, or None for any other kind (None, a Generator, a
    SeedSequence, a bool), which no int can stand for: how a bank and its
    checkpoints keep a learner's seed."""
    return int(seed) if isinstance(seed, Integral) and not isinstance(seed, (bool, np.bool_)) else None


class _Converted:
    """No input is of this type: a learner whose ``_direct`` is this converts
    every input in Python before the kernel call."""


class ConvertsRefusedInputs:
    """Inputs Numba refuses, converted before the call once one was refused.

    A per-step call passes an ndarray to its kernel as it is (``type(x) is
    self._direct``) and converts it only if the compiled call refuses it
    (float32, strided, read-only: a refused dispatch costs ~50 us, the
    conversion ~1-3 us).  After a refusal (``_refused_dispatch``) every
    input is converted first (``_direct`` is ``_Converted``, of which no
    input is an instance), and after ``RETRY_DIRECT`` such steps the direct
    call is tried again, in case the inputs have become float64.  A learner
    sets ``_direct = np.ndarray`` and ``_converted = 0`` when it is built
    (instance attributes: the check is ~1 ns), and has ``_x``.
    """

    RETRY_DIRECT = 1024

    def _convert_x(self, x):
        """``_x(x)`` for a per-step call: a non-ndarray, or any input while
        ``_direct`` is ``_Converted``, whose steps it counts."""
        if self._direct is _Converted:
            self._converted += 1
            if self._converted >= self.RETRY_DIRECT:
                self._direct, self._converted = np.ndarray, 0
        return self._x(x)

    def _refused_dispatch(self):
        """Numba refused an input's dtype or layout: convert inputs first from now on."""
        self._direct, self._converted = _Converted, 0

    # The arrays a per-step call passes to its kernel.  OnlineLSTM's per-step
    # methods write these three tests out inline, the same expressions: a
    # method call would add ~50 ns to each of its microsecond steps.
    def _step_x(self, x):
        """``x`` as it is if it may go to the kernel (an ndarray while inputs go
        direct, in native byte order: see NATIVE_F64), else converted."""
        if type(x) is not self._direct or x.dtype is not NATIVE_F64 and not x.dtype.isnative:
            return self._convert_x(x)
        return x

    def _step_y(self, y):
        """``y`` as it is if it may go to the kernel (as :meth:`_step_x`), else ``_y(y)``."""
        return y if type(y) is self._direct and (y.dtype is NATIVE_F64 or y.dtype.isnative) else self._y(y)

    def _step_out(self, out):
        """The learner's own output buffer for None, ``out`` itself if it is an
        ndarray in native byte order (another dtype or layout: the compiled
        call refuses it and the caller checks it), else ``_out_buf(out)``,
        which refuses a byte-swapped one."""
        if out is None:
            return self._out
        if type(out) is np.ndarray and (out.dtype is NATIVE_F64 or out.dtype.isnative):
            return out
        return self._out_buf(out)


class FixedAfterBuild:
    """Constructor arguments that are fixed once the learner is built.

    A learner names them in ``_fixed`` and the attribute that exists once
    it is built in ``_built_attr``; assigning one of them after
    that raises AttributeError pointing to ``clone``, since ``get_params``,
    checkpoints and copies would describe another learner than the one that
    runs.  ``_changeable`` says what may change between steps; ``_kind``
    what the object is called in the message.
    """

    _fixed: frozenset = frozenset()
    _built_attr = ""
    _changeable = ""
    _kind = "learner"

    def __setattr__(self, name, value):
        if name in self._fixed and self._built_attr in self.__dict__:
            how = f"clone({name}=...)" if name in self.get_params() else \
                "clone() with other constructor arguments"  # (the layout follows from them)
            raise AttributeError(
                f"{name} is fixed once the {self._kind} is built; {how} gives a new, untrained "
                f"{self._kind} with another value ({self._changeable} can change between steps)")
        object.__setattr__(self, name, value)

    def _adopt_params(self, params: dict):
        """Take ``params`` past the guard: a restore whose checkpoint has this
        learner's architecture (checked by the caller) and says how the
        restored weights were initialised."""
        for key, value in params.items():
            object.__setattr__(self, key, value)


def seeded_rng(seed):
    """``np.random.default_rng(seed)``, with ValueError naming ``seed``.  A
    bool is refused: NumPy would take True for the seed 1, and a flag passed
    where a seed goes is a mistake, not a seed."""
    if isinstance(seed, (bool, np.bool_)):
        raise ValueError(f"seed must be None, an int >= 0, a sequence of them, a SeedSequence or "
                         f"a Generator; got the bool {seed!r}")
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"seed must be None, an int >= 0, a sequence of them, a SeedSequence or "
                         f"a Generator; got {seed!r:.80} ({exc})") from None


def own_copy(value):
    """``value`` as a copy of its own if it is a list or an array (a seed,
    one gate bias per block), else as it is.  A learner keeps its
    constructor arguments and hands them out in ``get_params``; sharing the
    caller's list meant that editing it, or the returned dict, changed what
    ``clone()`` built.  Generators and SeedSequences are not copied: a
    Generator seed is drawn from, as documented."""
    if isinstance(value, (list, np.ndarray)):
        return copy.deepcopy(value)
    return value
