"""Checkpoints: one ``.npz`` file of named arrays plus JSON metadata.

A checkpoint holds everything needed to continue a learner bit-identically:
its configuration (constructor arguments), the weights, the cell states and
previous activations, the traces, any accumulated update, the step and
sequence counters, and the format version.  Loading never executes code
(``numpy.load(..., allow_pickle=False)``), and writing is atomic, so a crash
during a save leaves the previous checkpoint intact.

File format, version 1
----------------------
A zip archive that ``numpy.load(path, allow_pickle=False)`` reads as an
``NpzFile``:

``__meta__``
    uint8 array holding a UTF-8 JSON object (strict JSON: a non-finite
    float, such as ``state_bound=inf``, is the object ``{"__float__":
    "inf"}``, or ``"-inf"``, ``"nan"``):

    ``format``          ``"online_lstm.checkpoint"``
    ``format_version``  ``1``
    ``kind``            what the file holds (``"OnlineLSTM"``)
    ``library_version`` the online_lstm version that wrote it
    ``config``          constructor arguments (``get_params()``), JSON
    ``layout``          the memory-layout signature: the name of every header
                        slot and the (name, length) of every step-record field
    ``arrays``          for every array: ``shape``, ``dtype``, ``sha256``
    ``extra``           bookkeeping outside the kernel state
                        (``n_divergences``)

one ``<name>`` array per entry of ``arrays``
    plain numeric arrays (never object arrays).  A learner stores the five
    arrays of :meth:`OnlineLSTM.state_arrays`: ``header``, ``theta``,
    ``dW``, ``T`` and ``record``; a learner with ``max_delay > 0`` a sixth,
    ``slots`` (its step snapshots for delayed targets).

Zip member timestamps are fixed, so the same state gives the same bytes.

Other objects reuse the same container: :func:`write_checkpoint` and
:func:`read_checkpoint` take and return any set of named arrays plus a
metadata dict with its own ``kind`` and ``config``.  A bank of learners
(``"LearnerBank"``) stores the learner's arrays with a leading learner axis,
and in its metadata ``seeds`` (each learner's int seed, or null) and
``bank_seed`` (the bank's ``seed`` parameter when it is an int or a list of
ints, else null; absent in files written before it existed; an int must
spawn ``seeds``, a list must be ``seeds``); the competitor learners (``"RTRL"``, ``"BPTT"``; no ``layout`` or ``extra``)
store the arrays of their ``state_arrays()``.

Write protocol
--------------
The archive is written to a temporary file in the target's directory,
flushed and ``fsync``-ed, then renamed over the target with
:func:`os.replace` (atomic on POSIX and Windows), and the directory is
``fsync``-ed.  A process killed at any point leaves either the old file or
the new one, never a mix; at worst a stale ``.<name>.*.tmp`` file remains.

Read checks
-----------
Every failure raises :class:`~online_lstm.errors.CheckpointError` (except a
missing file, ``FileNotFoundError``, and one that cannot be opened, e.g.
``PermissionError``): not a regular file (a pipe, whose opening would wait
for a writer, or a device), not a zip or truncated (or a pickle, which is
never loaded), no metadata, another format or format version, another
kind, a missing or extra array, an array the archive holds twice (or as
both ``x`` and ``x.npy``), wrong dtype or shape (a member whose zip entry
declares more bytes than its index entry allows is refused before it is
inflated, and so is, when a learner, bank or competitor is loaded, an
index entry larger than the stored configuration implies; a running
trial's checkpoint, :func:`online_lstm.experiments.read_trial_checkpoint`,
is checked so against the trial's configuration), a checksum mismatch, a
memory layout that cannot be mapped, a configuration that does not match
the learner restored into.

Byte order: arrays are written in the writing machine's byte order, and the
index records it (``"<f8"``, ``">f8"``) with the digest of those bytes.  A
file written on a machine of the other byte order reads as the same numbers,
converted to this machine's order after its digest is checked; an array whose
byte order is not the one its index states is refused.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import pathlib
import tempfile
import zipfile
from numbers import Integral, Real

import numpy as np

from . import layout as _layout
from ._validate import int_or_none
from .errors import CheckpointError, InputError
from .layout import HEADER_SIZE, META, META_COUNTERS, Layout

FORMAT = "online_lstm.checkpoint"
FORMAT_VERSION = 1
META_NAME = "__meta__"
KIND_LEARNER = "OnlineLSTM"
KIND_BANK = "LearnerBank"

#: Constructor arguments that fix the architecture and the memory layout.
ARCHITECTURE = ("n_in", "n_out", "n_blocks", "block_size", "output_gates", "connectivity",
                "bias", "g", "h", "forget_gate", "peepholes", "max_delay", "update")
#: The learner's arrays (see OnlineLSTM.state_arrays); a learner with
#: ``max_delay > 0`` also stores its ring of step snapshots, ``slots``.
LEARNER_ARRAYS = ("header", "theta", "dW", "T", "record")

_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


# ---------------------------------------------------------------------------
# the container: named arrays + JSON metadata, written atomically
# ---------------------------------------------------------------------------


def native_dtype(dtype: np.dtype) -> np.dtype:
    """``dtype`` in this machine's byte order: a checkpoint written on a
    machine of the other byte order holds its arrays in that machine's order
    (its index says so, and its digests are of those bytes), and reads here
    as the same numbers."""
    return dtype.newbyteorder("=")


def _digest(arr: np.ndarray) -> str:
    flat = arr.reshape(-1) if arr.flags.c_contiguous else np.ascontiguousarray(arr).reshape(-1)
    return hashlib.sha256(flat.view(np.uint8)).hexdigest()


def _fsync_dir(directory: str):
    """Make a rename durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    """The process's umask, read from ``/proc`` where Linux has it.
    ``os.umask`` can only read it by setting it for a moment, and a file
    another thread creates in that moment would get the wrong mode."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: set and restore
    os.umask(mask)
    return mask


#: suffix of the temporary file a save writes before renaming it over the target
_TMP_SUFFIX = ".tmp"


def _tmp_prefix(name: str) -> str:
    """Start of the temporary file's name for a save to ``name``: a dot, the
    name (its first 200 bytes: the temporary name adds about 14 more, and a
    file name may have 255) and a dot."""
    return "." + name.encode("utf-8", "surrogateescape")[:200].decode("utf-8", "ignore") + "."


def remove_unfinished_saves(directory, pattern: str = "*") -> int:
    """Delete the temporary files that saves of checkpoints matching
    ``pattern`` in ``directory`` left behind: a process killed in the middle
    of :func:`write_checkpoint` cannot remove its own.  Call it only when no
    save into ``directory`` can be running.  Returns how many went.  (The
    temporary name holds the first 200 bytes of the checkpoint's name, so
    a ``pattern`` for longer names must match their start.)"""
    gone = 0
    for tmp in pathlib.Path(directory).glob(f".{pattern}.*{_TMP_SUFFIX}"):
        tmp.unlink(missing_ok=True)
        gone += 1
    return gone


def write_checkpoint(path, arrays: dict, meta: dict, *, compress: bool = False,
                     fsync: bool = True) -> pathlib.Path:
    """Write named arrays and JSON metadata to ``path``, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Target file; used verbatim (no suffix is added).  Its directory must
        exist.  A path ending in a separator names a directory and is
        refused (``IsADirectoryError``), as an existing directory is; so is
        an existing path that is not a regular file (``FileExistsError``: a
        device such as ``/dev/null``, a pipe, a socket), which the atomic
        rename would replace.
    arrays : dict of str -> ndarray
        Plain numeric arrays (no object dtype).  Names must not contain ``/``.
    meta : dict
        JSON-serialisable; should contain ``kind`` and ``config``.  The keys
        ``format``, ``format_version`` and ``arrays`` are filled in here.
        Non-finite floats are allowed (they are written as ``{"__float__":
        "inf"}``); a dict of that very form is refused (ValueError), as it
        would read back as the float.
    compress : bool
        Deflate the members (smaller, slower).
    fsync : bool
        Flush the file and its directory to disk before returning (the
        durability half of "a crash loses nothing").  Atomicity does not
        depend on it.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    raw = os.fsdecode(os.fspath(path))  # a bytes path too, as load (np.load) takes one
    if raw.endswith(tuple(sep for sep in (os.sep, os.altsep) if sep)):
        # pathlib drops the separator: "ckpts/" would become a file named "ckpts",
        # which a load of "ckpts/" then cannot find
        raise IsADirectoryError(f"{raw} names a directory; a checkpoint needs a file name, "
                                f"e.g. {os.path.join(raw, 'learner.npz')}")
    path = pathlib.Path(raw)
    clean, index = {}, {}
    for name, value in arrays.items():
        if not isinstance(name, str) or not name or "/" in name or name == META_NAME:
            raise ValueError(f"array names must be non-empty strings without '/' and not "
                             f"{META_NAME!r}; got {name!r}")
        arr = np.asarray(value)
        if not arr.flags.c_contiguous:
            arr = np.ascontiguousarray(arr)  # (not for 0-d arrays: it would make them 1-d)
        if arr.dtype.hasobject:
            raise ValueError(f"array {name!r} has dtype {arr.dtype}; checkpoints hold numbers only")
        clean[name] = arr
        index[name] = {"shape": list(arr.shape), "dtype": arr.dtype.str, "sha256": _digest(arr)}
    meta = dict(meta, format=FORMAT, format_version=FORMAT_VERSION, arrays=index)
    # strict JSON (jq, browsers and other languages refuse NaN and Infinity):
    # a non-finite float is written as {"__float__": "inf"} (_strict_json)
    blob = json.dumps(_strict_json(meta), sort_keys=True, allow_nan=False).encode("utf-8")
    members = {META_NAME: np.frombuffer(blob, dtype=np.uint8), **clean}

    directory = str(path.parent) if str(path.parent) else "."
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a directory; a checkpoint needs a file name, "
                                f"e.g. {path / 'learner.npz'}")
    if path.exists() and not path.is_file():  # os.replace would put the checkpoint in its place
        raise FileExistsError(f"{path} exists and is not a regular file (a device, pipe or socket); "
                              f"a checkpoint replaces only a regular file")
    if not os.path.isdir(directory):
        if os.path.exists(directory):  # a file where the directory should be
            raise NotADirectoryError(f"cannot write {path}: {directory} is a file, not a directory")
        raise FileNotFoundError(f"cannot write {path}: no directory {directory} (it is not created "
                                "for you)")
    fd, tmp = tempfile.mkstemp(prefix=_tmp_prefix(path.name), suffix=_TMP_SUFFIX, dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
            with zipfile.ZipFile(fh, "w", compression=method, allowZip64=True) as zf:
                for name, arr in members.items():
                    info = zipfile.ZipInfo(name + ".npy", date_time=_ZIP_DATE)
                    info.compress_type = method
                    info.external_attr = 0o644 << 16
                    with zf.open(info, "w", force_zip64=True) as member:
                        np.lib.format.write_array(member, arr, allow_pickle=False)
            fh.flush()
            if fsync:
                os.fsync(fh.fileno())
        try:
            mode = os.stat(path).st_mode & 0o777  # keep the mode of the file replaced
        except OSError:
            mode = 0o666 & ~_umask()
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if fsync:
        _fsync_dir(directory)
    return path


_FLOAT_TAG = "__float__"
_NON_FINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


def _strict_json(value):
    """``value`` with every non-finite float replaced by ``{"__float__":
    "inf" | "-inf" | "nan"}``, which :func:`_tagged_float` reads back."""
    if isinstance(value, float) and not math.isfinite(value):
        return {_FLOAT_TAG: "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}
    if isinstance(value, dict):
        if _tagged_float(value) is not value:  # {"__float__": "inf"} of the caller's own
            raise ValueError(f"meta holds the dict {value!r}, which a checkpoint's metadata "
                             f"reads back as the float {_tagged_float(value)!r} (the form of a "
                             f"non-finite float in the file); store it under another key")
        return {k: _strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strict_json(v) for v in value]
    return value


def _tagged_float(obj: dict):
    """json ``object_hook``: a ``{"__float__": "inf"}`` object is the float.
    (Files written before the tag hold bare ``Infinity``/``NaN``, which
    ``json.loads`` reads as they are.)"""
    tag = obj.get(_FLOAT_TAG) if len(obj) == 1 else None
    # (only a string can be a tag: ``in`` would hash a list or an object, and
    # raise TypeError for a checkpoint whose one array is named "__float__")
    if isinstance(tag, str) and tag in _NON_FINITE:
        return _NON_FINITE[tag]
    return obj


def read_checkpoint(path, kind: str | None = None) -> tuple[dict, dict]:
    """Read and verify a file written by :func:`write_checkpoint`.

    Parameters
    ----------
    path : str or os.PathLike
    kind : str, optional
        If given, the file's ``kind`` must be this.

    Returns
    -------
    arrays : dict of str -> ndarray
    meta : dict
        The JSON metadata.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    OSError
        The file cannot be opened (e.g. ``PermissionError``).
    CheckpointError
        Anything else that makes the file unusable; the message says what.
    """
    return _read_checkpoint(path, kind)


def _read_checkpoint(path, kind=None, before_inflating=None, meta_only=False):
    """:func:`read_checkpoint`; ``before_inflating(meta, index, read)``, if
    given, is called with the metadata and, for every array, its ``(shape,
    dtype)`` from the index (checked to be sizes and a dtype), before any
    array is inflated: a loader that knows the sizes its configuration
    implies refuses a file whose index claims more (a member's zip entry may
    declare gigabytes consistent with such a claim) without inflating it.
    ``read(key)`` inflates one array early, checked against its index entry
    (for a size that the configuration leaves to the state, as BPTT's
    history, whose length is in its header: check that array's entry
    first).  ``meta_only``: return no arrays (``{}``) and the metadata, its
    index checked, inflating nothing else."""
    name = os.fspath(path)
    if os.path.isdir(name):
        raise CheckpointError(f"{name} is a directory, not a checkpoint file")
    if not os.path.exists(name):
        raise FileNotFoundError(f"no checkpoint at {name}")
    if not os.path.isfile(name):  # opening a pipe (or a terminal) waits for a writer for ever
        raise CheckpointError(f"{name} is not a regular file (a pipe, device or socket); a "
                              f"checkpoint is read only from a regular file")
    with open(name, "rb"):  # PermissionError & co. as they are: the file is not corrupted
        pass
    try:
        npz = np.load(name, allow_pickle=False)
    except Exception as exc:  # zipfile.BadZipFile, EOFError, ValueError, OSError, ...
        why = f"{type(exc).__name__}: {exc}"
        if "allow_pickle" in str(exc):  # NumPy's advice to load it unsafely: never for a checkpoint
            why = ("it is neither a zip archive nor a .npy array (NumPy would read it as a pickle, "
                   "which no checkpoint is and which is not loaded: it could run code)")
        raise CheckpointError(f"{name} is not a readable checkpoint (truncated or corrupted): "
                              f"{why}") from None
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise CheckpointError(f"{name} holds a single .npy array, not a checkpoint archive")
    try:
        return _read_members(npz, name, kind, before_inflating, meta_only)
    finally:
        npz.close()


#: Bytes a .npy member may hold beyond its data: the header (NumPy writes at
#: most 64 KiB of it for the arrays of a checkpoint) and its length fields.
_NPY_HEADER_MAX = 65536 + 16
#: Largest metadata member read (the JSON of a bank of a million learners
#: with their seeds is a few megabytes).
_META_MAX = 256 * 2**20


def _entries(npz, key) -> list:
    """The zip directory's entries that ``npz[key]`` may open: one named
    ``key`` (NumPy opens it itself when there is one) or ``key.npy``, every
    entry of either name (a crafted archive can repeat a name)."""
    try:
        infos = npz.zip.infolist()
    except AttributeError:
        return []
    return [i for i in infos if i.filename in (key, key + ".npy")]


def _declared_size(npz, key) -> int | None:
    """The largest uncompressed size the zip directory declares for a
    member that ``npz[key]`` may open (:func:`_entries`).  zipfile never
    inflates a member beyond it, so checking it first keeps a corrupted or
    crafted archive (a few kilobytes that inflate to gigabytes) from being
    inflated before it is refused.  None if the archive has no such entry."""
    return max((i.file_size for i in _entries(npz, key)), default=None)


def _member(npz, key, name, max_bytes=None):
    size = _declared_size(npz, key) if max_bytes is not None else None
    if size is not None and size > max_bytes:
        raise CheckpointError(f"{name}: member {key!r} inflates to {size:,} bytes; "
                              f"{max_bytes:,} at most are expected of it (corrupted file, or "
                              f"another archive's member)")
    # a name the archive holds twice (or as both "key" and "key.npy"): which
    # one a reader takes is up to the reader (zipfile the last, others the
    # first), so the file does not say which array it holds
    same = [i.filename for i in _entries(npz, key)]
    if len(same) > 1:
        raise CheckpointError(f"{name}: member {key!r} is in the archive {len(same)} times "
                              f"({', '.join(repr(n) for n in same)}); a checkpoint holds each "
                              f"array once")
    try:
        arr = npz[key]
    except Exception as exc:  # bad CRC, truncated member, pickled object array, bad header
        raise CheckpointError(f"{name}: array {key!r} cannot be read (corrupted, or not a plain "
                              f"numeric array): {type(exc).__name__}: {exc}") from None
    if not isinstance(arr, np.ndarray):  # NpzFile gives the raw bytes of a member that is no .npy
        raise CheckpointError(f"{name}: member {key!r} is not a .npy array (no .npy header)")
    return arr


def _read_members(npz, name, kind, before_inflating=None, meta_only=False):
    files = set(npz.files)
    if META_NAME not in files:
        raise CheckpointError(f"{name} has no {META_NAME!r} entry: not an online_lstm checkpoint")
    raw = _member(npz, META_NAME, name, _META_MAX)
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise CheckpointError(f"{name}: {META_NAME!r} must be a 1-D uint8 array of JSON text")
    try:
        meta = json.loads(raw.tobytes().decode("utf-8"), object_hook=_tagged_float)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, an int too long to convert
        raise CheckpointError(f"{name}: metadata is not valid JSON ({exc})") from None
    except RecursionError:  # nesting no checkpoint of ours has
        raise CheckpointError(f"{name}: metadata is nested too deeply to be a checkpoint's") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        got = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise CheckpointError(f"{name}: format {got!r} is not {FORMAT!r}")
    version = meta.get("format_version")
    if type(version) is not int or version != FORMAT_VERSION:  # not true, not 1.0
        raise CheckpointError(f"{name}: checkpoint format version {version!r}; this version of "
                              f"online_lstm reads format version {FORMAT_VERSION}")
    if kind is not None and meta.get("kind") != kind:
        raise CheckpointError(f"{name} holds a {meta.get('kind')!r}, not a {kind!r}")
    index = meta.get("arrays")
    if not isinstance(index, dict):
        raise CheckpointError(f"{name}: metadata has no array index")
    extra = files - set(index) - {META_NAME}
    if extra:
        raise CheckpointError(f"{name}: arrays {sorted(extra)} are not in the metadata index")
    entries = {}
    for key, info in index.items():
        if key not in files:
            raise CheckpointError(f"{name}: array {key!r} is missing (truncated file?)")
        try:
            shape, dtype, digest = tuple(info["shape"]), np.dtype(info["dtype"]), info["sha256"]
            if not all(type(n) is int and n >= 0 for n in shape):
                raise ValueError(f"shape {list(shape)} is not a list of sizes")
        except (KeyError, TypeError, ValueError, OverflowError) as exc:  # (np.dtype raises all)
            raise CheckpointError(f"{name}: index entry of {key!r} is malformed ({exc})") from None
        entries[key] = shape, dtype, digest
    arrays = {}

    def read(key):
        """Array ``key``, inflated (once) and checked against its index entry."""
        if key not in arrays:
            shape, dtype, digest = entries[key]
            arr = _member(npz, key, name, math.prod(shape) * dtype.itemsize + _NPY_HEADER_MAX)
            if arr.dtype != dtype or arr.shape != shape:
                raise CheckpointError(f"{name}: array {key!r} is {arr.dtype.str} {arr.shape}; the "
                                      f"index says {dtype.str} {shape}")
            if _digest(arr) != digest:
                raise CheckpointError(f"{name}: array {key!r} is corrupted (SHA-256 mismatch)")
            if not arr.dtype.isnative:  # written on a machine of the other byte order
                arr = arr.astype(native_dtype(arr.dtype))
            arrays[key] = arr
        return arrays[key]

    if before_inflating is not None:
        before_inflating(meta, {k: (shape, dtype) for k, (shape, dtype, _) in entries.items()}, read)
    if meta_only:
        return {}, meta
    return {key: read(key) for key in entries}, meta


# ---------------------------------------------------------------------------
# the memory-layout signature (so a reordered header can still be read)
# ---------------------------------------------------------------------------


def _hyper_slots() -> dict:
    """Header slots of the hyper-parameters and bounds: ``H_LR`` -> "lr", ..."""
    return {k[2:].lower(): v for k, v in vars(_layout).items()
            if k.startswith("H_") and k != "H_SIZE" and isinstance(v, int)}


def layout_signature(lay: Layout) -> dict:
    """Names of the header slots and of the step-record fields, in order."""
    header = [""] * HEADER_SIZE
    for name, i in _hyper_slots().items():
        header[i] = "h:" + name
    for name, i in META.items():
        header[i] = name
    return {"header": header, "record": [[n, int(s)] for n, s in lay.record_fields().items()]}


def _remap(arrays: dict, stored: dict, lay: Layout, fresh_header: np.ndarray, name: str) -> dict:
    """Move a state written under another memory layout into this one, by name.

    Layout-derived header entries (sizes, offsets) come from the current
    layout; hyper-parameters, bounds, counters and the accumulation mode are
    copied by name, and so are the step-record fields.
    """
    current = layout_signature(lay)
    try:
        old_header = [n if isinstance(n, str) else None for n in stored["header"]]
        old_record = [(str(n), int(s)) for n, s in stored["record"]]
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise CheckpointError(f"{name}: layout signature is malformed ({exc})") from None
    h = arrays["header"]
    sizes = [s for _, s in old_record]
    if any(s < 0 for s in sizes) or sum(sizes) > arrays["record"].shape[0]:
        raise CheckpointError(f"{name}: the step-record fields of its layout signature must have "
                              f"sizes >= 0 that fit in the record's {arrays['record'].shape[0]} "
                              f"numbers; got {sizes}")
    if len(old_header) != h.shape[0]:
        raise CheckpointError(f"{name}: header has {h.shape[0]} entries, its signature names "
                              f"{len(old_header)}")
    where = {n: i for i, n in enumerate(old_header) if n}
    header = fresh_header.copy()
    carried = [n for n in current["header"] if n.startswith("h:")] + ["accum", *META_COUNTERS]
    for n in carried:
        if n not in where:
            raise CheckpointError(f"{name}: written with a memory layout that has no header entry "
                                  f"{n!r}; it cannot be read by this version")
        header[current["header"].index(n)] = h[where[n]]
    old_pos, p = {}, 0
    for n, s in old_record:
        old_pos[n] = (p, s)
        p += s
    rec = arrays["record"]
    record = np.zeros(lay.meta["bank_size"])
    p = 0
    for n, s in current["record"]:
        if n in old_pos and old_pos[n][1] == s and old_pos[n][0] + s <= rec.shape[0]:
            record[p:p + s] = rec[old_pos[n][0]:old_pos[n][0] + s]
        elif s:
            raise CheckpointError(f"{name}: step-record field {n!r} ({s} numbers) is not in the "
                                  f"checkpoint's memory layout")
        p += s
    return dict(arrays, header=header, record=record)


# ---------------------------------------------------------------------------
# OnlineLSTM
# ---------------------------------------------------------------------------


def _jsonable(value):
    """``value`` as JSON values: NumPy scalars become Python numbers, tuples,
    ranges and arrays (and numeric array-likes such as a pandas Series) lists,
    a 0-d array its number, dict keys strings (constructor arguments here, the
    state of a running trial in :mod:`online_lstm.experiments`).  Anything
    else raises TypeError."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        return float(value)
    if not isinstance(value, np.ndarray) and hasattr(value, "__array__"):
        arr = np.asarray(value)
        if arr.dtype.kind in "biuf":  # (not an object array of anything)
            value = arr
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())  # (a 0-d array gives its number)
    if isinstance(value, (list, tuple, range)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    raise TypeError(type(value).__name__)


def learner_config(learner) -> dict:
    """``get_params()`` as JSON values.  A seed that is not an int (a
    Generator, a SeedSequence) is stored as None: the weights are in the
    checkpoint anyway, only ``clone()`` of the loaded learner differs."""
    config = {}
    for key, value in learner.get_params().items():
        try:
            config[key] = _jsonable(value)
        except TypeError:
            if key != "seed":
                raise ValueError(f"parameter {key}={value!r} cannot be stored in a checkpoint") from None
            config[key] = None
    return config


def save_learner(learner, path, *, compress: bool = False, fsync: bool = True) -> pathlib.Path:
    """Write ``learner``'s complete state to ``path`` (see the module docstring).

    ``path``, ``compress`` and ``fsync`` as for :func:`write_checkpoint`;
    returns the path written."""
    from . import __version__

    meta = {
        "kind": KIND_LEARNER,
        "library_version": __version__,
        "config": learner_config(learner),
        "layout": layout_signature(learner.layout),
        "extra": {"n_divergences": int(learner.n_divergences_)},
    }
    return write_checkpoint(path, learner.state_arrays(), meta, compress=compress, fsync=fsync)


def _build(cls, config, name):
    if not isinstance(config, dict):
        raise CheckpointError(f"{name}: metadata has no configuration")
    try:
        return cls(**config)
    except (TypeError, ValueError, OverflowError, MemoryError) as exc:
        # (MemoryError: sizes no real learner has, e.g. from an edited file)
        raise CheckpointError(f"{name}: its configuration does not build a learner: "
                              f"{type(exc).__name__}: {exc}") from None


def _check_sizes(config, index, name, rows=False):
    """Refuse a configuration whose weight and trace counts disagree with the
    ``theta`` and ``T`` of the array ``index`` (name -> (shape, dtype)),
    *before* building it: building allocates and initialises the learner,
    so an edited configuration (``n_blocks`` in the millions) would
    otherwise exhaust the memory instead of being refused.  Called before
    the arrays are inflated (:func:`_read_checkpoint`), it also refuses an
    array larger than the learner's whole memory (``Layout.mem_size``
    float64 numbers, which every array of a learner's state fits in), so an
    edited index cannot make the loader inflate gigabytes.  ``rows``: the
    arrays hold one row per learner (a bank)."""
    if not isinstance(config, dict):
        raise CheckpointError(f"{name}: metadata has no configuration")
    try:
        lay = Layout(**{k: config[k] for k in ARCHITECTURE if k != "update" and k in config})
    except (TypeError, ValueError, OverflowError) as exc:
        raise CheckpointError(f"{name}: its configuration does not build a learner: "
                              f"{type(exc).__name__}: {exc}") from None
    for key, size in (("theta", lay.n_params), ("T", lay.n_traces)):
        shape = index[key][0] if key in index else None
        if shape is not None and (shape[-1:] if rows else shape) != (size,):
            raise CheckpointError(f"{name}: its configuration has {size} "
                                  f"{'weights' if key == 'theta' else 'traces'} per learner, but "
                                  f"the stored {key!r} has shape {shape}")
    for key, (shape, dtype) in index.items():
        if math.prod(shape[1:] if rows and shape else shape) * dtype.itemsize > 8 * lay.mem_size:
            raise CheckpointError(f"{name}: the stored {key!r} ({dtype} {shape}) is larger than the "
                                  f"whole state of a learner of its configuration "
                                  f"({8 * lay.mem_size:,} bytes{' per learner' if rows else ''})")


def _check_names(arrays, kind, name, slots=False):
    """A learner or bank checkpoint holds exactly the arrays of LEARNER_ARRAYS
    (and ``slots`` for a learner with ``max_delay > 0``)."""
    expect = LEARNER_ARRAYS + (("slots",) if slots else ())
    if set(arrays) != set(expect):
        raise CheckpointError(f"{name}: a {kind} checkpoint holds arrays {list(expect)}; "
                              f"this one holds {sorted(arrays)}")


def _architecture_diff(theirs, mine, theirs_update, mine_update):
    """What differs between two layouts' architectures (:data:`ARCHITECTURE`),
    compared through the Layout, which normalises aliases ("ga" == "gates")."""
    diff = [f"{k}: checkpoint {getattr(theirs, k)!r}, here {getattr(mine, k)!r}"
            for k in ARCHITECTURE if k != "update" and getattr(theirs, k) != getattr(mine, k)]
    if theirs_update != mine_update:
        diff.append(f"update: checkpoint {theirs_update!r}, here {mine_update!r}")
    return diff


def _state_from(learner, arrays, meta, name):
    """The checkpoint's arrays in the form ``learner.load_state_arrays`` takes."""
    _check_names(arrays, "learner", name, slots=learner.layout.max_delay > 0)
    if meta.get("layout") != layout_signature(learner.layout):
        if "slots" in arrays:
            raise CheckpointError(f"{name}: written with another memory layout; its snapshots "
                                  f"for delayed targets (max_delay) cannot be mapped")
        arrays = _remap(arrays, meta.get("layout") or {}, learner.layout,
                        learner.state_arrays()["header"], name)
    return arrays


def load_learner(path, cls=None):
    """A new learner with the configuration and complete state stored at ``path``.

    ``cls`` is the class to build (default :class:`~online_lstm.OnlineLSTM`;
    a subclass for ``Subclass.load``).  Raises as :func:`read_checkpoint`."""
    if cls is None:
        from .learner import OnlineLSTM as cls
    name = os.fspath(path)
    arrays, meta = _read_checkpoint(path, KIND_LEARNER,
                                    lambda meta, index, read: _check_sizes(meta.get("config"), index, name))
    learner = _build(cls, meta.get("config"), name)
    arrays = _state_from(learner, arrays, meta, name)
    try:
        learner.load_state_arrays(arrays)
    except InputError as exc:
        raise CheckpointError(f"{name}: the stored state does not fit its own configuration: "
                              f"{exc}") from None
    learner.n_divergences_ = _n_divergences(meta, name)
    return learner


def _n_divergences(meta, name) -> int:
    """The learner's divergence count from the metadata's ``extra`` entry."""
    extra = meta.get("extra") or {}
    n = extra.get("n_divergences", 0) if isinstance(extra, dict) else None
    if type(n) is not int or n < 0:  # JSON gives int for a whole number (bool is not int here)
        raise CheckpointError(f"{name}: metadata 'extra' must be {{\"n_divergences\": <int >= 0>}}; "
                              f"got {extra!r:.80}")
    return n


def restore_learner(learner, path):
    """Load the state at ``path`` into ``learner``, which must have the same
    architecture (:data:`ARCHITECTURE`).  Everything is checked before
    anything changes; then the state, the hyper-parameters and the other
    constructor arguments are those of the checkpoint."""
    name = os.fspath(path)
    src = load_learner(path, type(learner))
    mine, theirs = learner.get_params(), src.get_params()
    diff = _architecture_diff(src.layout, learner.layout, theirs["update"], mine["update"])
    if diff:
        raise CheckpointError(f"{name} was saved from a learner with another configuration "
                              f"({'; '.join(diff)})")
    learner.load_state_arrays(src.state_arrays())
    # lr and state_bound live in the state; the architecture is the same
    learner._adopt_params({k: v for k, v in theirs.items() if k not in ("lr", "state_bound")})
    learner.n_divergences_ = src.n_divergences_
    learner.last_divergence_ = None  # an event of the history replaced (as load() has it)


# ---------------------------------------------------------------------------
# LearnerBank: the same arrays with a leading learner axis
# ---------------------------------------------------------------------------


def _seeds_json(seeds):
    """Per-learner seeds as JSON: ints, or None where a seed was not an int."""
    return [int_or_none(v) for v in seeds]


def save_bank(bank, path, *, compress: bool = False, fsync: bool = True) -> pathlib.Path:
    """Write every learner of ``bank`` to ``path``: the arrays of
    :meth:`LearnerBank.state_arrays` (learner axis first) and the bank's
    configuration and per-learner seeds.  ``compress`` and ``fsync`` as for
    :func:`write_checkpoint`; returns the path written."""
    from . import __version__

    config = learner_config(bank)  # get_params(); per-learner lr/state_bound become lists
    config["seed"] = None  # the per-learner seeds below are what rebuilds the bank
    seed = bank.seed
    meta = {
        "kind": KIND_BANK,
        "library_version": __version__,
        "config": config,
        "seeds": _seeds_json(bank.seeds_),
        # the bank's own seed parameter (get_params, clone) when JSON holds it
        "bank_seed": _seeds_json(seed) if isinstance(seed, (list, tuple)) else int_or_none(seed),
        "layout": layout_signature(bank.layout),
    }
    return write_checkpoint(path, bank.state_arrays(), meta, compress=compress, fsync=fsync)


def load_bank(path, cls=None):
    """A new bank with the configuration and complete state stored at ``path``
    (``cls``: the class to build, default :class:`~online_lstm.LearnerBank`)."""
    if cls is None:
        from .bank import LearnerBank as cls
    name = os.fspath(path)
    built = []

    def check(meta, index, read):  # before any array is inflated
        config, seeds = meta.get("config"), meta.get("seeds")
        if not isinstance(config, dict) or not isinstance(seeds, list):
            raise CheckpointError(f"{name}: metadata has no bank configuration or seeds")
        if any(len(shape) != 2 or shape[0] != len(seeds) for shape, _ in index.values()):
            raise CheckpointError(f"{name}: every array must have one row per learner "
                                  f"({len(seeds)} seeds); shapes "
                                  f"{[shape for shape, _ in index.values()]}")
        config = dict(config, seed=[0 if s is None else s for s in seeds])
        _check_sizes(config, index, name, rows=True)
        built.append((config, seeds))

    arrays, meta = _read_checkpoint(path, KIND_BANK, check)
    (config, seeds), = built
    bank = _build(cls, config, name)  # (refuses an n_learners other than len(seeds))
    _check_names(arrays, "bank", name, slots=bank.layout.max_delay > 0)
    if meta.get("layout") != layout_signature(bank.layout):
        if "slots" in arrays:
            raise CheckpointError(f"{name}: written with another memory layout; its snapshots "
                                  f"for delayed targets (max_delay) cannot be mapped")
        fresh = bank.state_arrays()["header"]
        rows = [_remap({k: a[i] for k, a in arrays.items()}, meta.get("layout") or {},
                       bank.layout, fresh[i], name) for i in range(bank.n_learners)]
        arrays = {k: np.stack([r[k] for r in rows]) for k in LEARNER_ARRAYS}
    try:
        bank.load_state_arrays(arrays)
    except InputError as exc:
        raise CheckpointError(f"{name}: the stored state does not fit its own configuration: "
                              f"{exc}") from None
    bank._adopt_params({"seed": _bank_seed_from(meta.get("bank_seed"), seeds, name)})
    bank.seeds_ = list(seeds)
    return bank


def _bank_seed_from(value, seeds, name):
    """The ``bank_seed`` entry of a bank checkpoint's metadata, checked (None
    in checkpoints written before it existed) against the learners' ``seeds``:
    a bank's ``seed`` is None, an int that spawned them, or their list, and
    ``clone()`` rebuilds the learners from it."""
    from .bank import _learner_seeds

    if value is None:
        return value
    if type(value) is int and value >= 0:
        if _learner_seeds(value, len(seeds)) == seeds:
            return value
    elif value == seeds and all(type(v) is int and v >= 0 for v in value):
        return value
    raise CheckpointError(f"{name}: metadata 'bank_seed' must be null, an int >= 0 that spawned the "
                          f"learners' seeds, or those {len(seeds)} seeds themselves (ints >= 0); got "
                          f"{value!r:.80} for seeds {seeds!r:.80}")


def restore_bank(bank, path):
    """Load the state at ``path`` into ``bank``, which must have the same
    architecture and number of learners.  Everything is checked before
    anything changes."""
    name = os.fspath(path)
    src = load_bank(path, type(bank))
    diff = _architecture_diff(src.layout, bank.layout, src.get_params()["update"],
                              bank.get_params()["update"])
    if src.n_learners != bank.n_learners:
        diff.append(f"n_learners: checkpoint {src.n_learners}, here {bank.n_learners}")
    if diff:
        raise CheckpointError(f"{name} was saved from a bank with another configuration "
                              f"({'; '.join(diff)})")
    bank.load_state_arrays(src.state_arrays())
    # the checkpoint's constructor arguments too, as OnlineLSTM.restore takes
    # them (the architecture is the same: checked above)
    bank._proto = src._proto
    bank._adopt_params({"seed": src.seed})
    bank.seeds_ = list(src.seeds_)


# ---------------------------------------------------------------------------
# the paper's competitors (online_lstm.baselines.RTRL, BPTT)
# ---------------------------------------------------------------------------


def _stream_kind(cls) -> str:
    """The checkpoint kind of a StreamLearner subclass (a class without one
    would write files of no kind and read files of any kind)."""
    kind = getattr(cls, "_checkpoint_kind", None)
    if not isinstance(kind, str):
        raise TypeError(f"{cls.__name__} has no checkpoint kind (class attribute _checkpoint_kind)")
    return kind


def save_stream(learner, path, *, compress: bool = False, fsync: bool = True) -> pathlib.Path:
    """Write an RTRL or BPTT learner's complete state (its ``state_arrays()``)
    and configuration to ``path``; the kind is the class's ``_checkpoint_kind``.
    ``compress`` and ``fsync`` as for :func:`write_checkpoint`; returns the
    path written."""
    from . import __version__

    meta = {
        "kind": _stream_kind(type(learner)),
        "library_version": __version__,
        "config": learner_config(learner),
    }
    return write_checkpoint(path, learner.state_arrays(), meta, compress=compress, fsync=fsync)


def _stream_net_args(config) -> tuple:
    """The arguments of :class:`~online_lstm.baselines.network.Network`
    (``n_in``, ``n_out``, ``n_hidden``, ``architecture``, ``bias``) that
    the RTRL/BPTT configuration ``config`` (a dict) gives, with the
    constructors' defaults."""
    return (config.get("n_in"), config.get("n_out"), config.get("n_hidden", 1),
            config.get("architecture", "fully_recurrent"), config.get("bias", True))


def _stream_n_params(config):
    """The number of weights of the RTRL/BPTT net ``config`` describes,
    counted as :class:`~online_lstm.baselines.network.Network` counts them
    but without building its tables; None where ``config`` is not plain
    enough to tell (building it then refuses it with the reason)."""
    if not isinstance(config, dict):
        return None
    m, K, H, arch, bias = _stream_net_args(config)
    if not all(type(v) is int and v >= 0 for v in (m, K, H)) or type(bias) is not bool:
        return None
    from .baselines.network import ARCHITECTURES, weight_count

    return weight_count(m, K, H, arch, bias) if arch in ARCHITECTURES else None


def _state_index_check(learner, index, read, name, kind, prefix=""):
    """Refuse, before it is inflated, any array of a checkpoint's ``index``
    (name -> (shape, dtype)) that is not one of ``learner``'s state arrays
    with the dtype and shape the learner's configuration implies (the
    arrays' names are ``prefix`` + the names of ``learner.state_arrays()``):
    the set of names, then each entry, the message naming the array, the
    size the file declares and the size expected.  The sizes of an RTRL or
    BPTT learner's arrays come from ``learner._state_shapes(header)`` (BPTT's
    history is as long as its header says, up to its window), so the
    header's entry is checked first and the header alone is inflated
    (``read``) and checked before the others' sizes are known."""
    fresh = learner.state_arrays()
    if "network" in fresh and prefix + "network" not in index:
        # an RTRL's or BPTT's file from before their states named the network
        # (n_hidden, architecture, bias): the configuration it is built from says it
        del fresh["network"]
    expect = sorted(prefix + k for k in fresh)
    if sorted(index) != expect:
        raise CheckpointError(f"{name}: a {kind} checkpoint holds arrays {expect}; "
                              f"this one holds {sorted(index)}")

    def check(key, shape, dtype):
        got_shape, got_dtype = index[prefix + key]
        if got_shape != tuple(shape) or native_dtype(got_dtype) != native_dtype(dtype):
            declared = math.prod(got_shape) * got_dtype.itemsize
            raise CheckpointError(f"{name}: the stored {prefix + key!r} is {got_dtype} "
                                  f"{got_shape} ({declared:,} bytes); its configuration implies "
                                  f"{dtype} {tuple(shape)} ({math.prod(shape) * dtype.itemsize:,} "
                                  f"bytes)")

    shapes = {k: (v.shape, v.dtype) for k, v in fresh.items()}
    if hasattr(learner, "_state_shapes"):  # RTRL, BPTT
        check("header", *shapes["header"])
        hd = read(prefix + "header")
        try:
            hd = learner._checked({"header": hd}, "header", shapes["header"][0])
            learner._check_header(hd)
        except InputError as exc:
            raise CheckpointError(f"{name}: the stored state does not fit its own configuration: "
                                  f"{exc}") from None
        shapes = {k: (v, np.dtype(np.float64)) for k, v in learner._state_shapes(hd).items()
                  if k in fresh}
    for key, (shape, dtype) in shapes.items():
        check(key, shape, dtype)


def load_stream(path, cls):
    """A new ``cls`` (RTRL or BPTT) with the configuration and state stored at ``path``."""
    name, kind = os.fspath(path), _stream_kind(cls)
    from .baselines import network

    built = []

    def check(meta, index, read):
        # Refuse a configuration whose weight count disagrees with the stored
        # weights before building it (as _check_sizes does for learners): an
        # edited n_hidden would otherwise allocate the whole net first, RTRL's
        # influences growing with the cube of the units.  Checked on the
        # index, before any array is inflated: an edited 'theta' entry cannot
        # make the loader inflate it.  A configuration that does not tell
        # its weight count, or tells one beyond the supported size, is
        # refused here as well, the constructor saying why (before it builds
        # anything): left to the build after the arrays were inflated, the
        # arrays would be of any size.
        config = meta.get("config")
        n_params, theta = _stream_n_params(config), index.get("theta")
        if n_params is None or n_params > network.MAX_PARAMS:
            if not isinstance(config, dict):
                raise CheckpointError(f"{name}: metadata has no configuration")
            try:
                network.Network(*_stream_net_args(config))
            except (TypeError, ValueError, OverflowError) as exc:
                raise CheckpointError(f"{name}: its configuration does not build a learner: "
                                      f"{type(exc).__name__}: {exc}") from None
            raise CheckpointError(f"{name}: its configuration does not build a learner")  # pragma: no cover
        if theta is not None and theta[0] != (n_params,):
            raise CheckpointError(f"{name}: its configuration has {n_params} weights, but the "
                                  f"stored 'theta' has shape {theta[0]}")
        learner = _build(cls, config, name)  # what the configuration implies, no more
        _state_index_check(learner, index, read, name, kind)
        built.append(learner)

    arrays, meta = _read_checkpoint(path, kind, check)
    learner, = built
    try:
        learner.load_state_arrays(arrays)
    except InputError as exc:
        raise CheckpointError(f"{name}: the stored state does not fit its own configuration: "
                              f"{exc}") from None
    return learner


def restore_stream(learner, path):
    """Load the state at ``path`` into ``learner`` (RTRL or BPTT), which must
    have the same architecture: ``n_in``, ``n_out``, ``n_hidden``,
    ``architecture``, ``bias``, ``update`` and, for BPTT, ``window``.
    Everything is checked before anything changes; then the state and every
    constructor argument are the checkpoint's."""
    name = os.fspath(path)
    src = load_stream(path, type(learner))
    mine, theirs = learner.get_params(), src.get_params()
    diff = [f"{k}: checkpoint {theirs[k]!r}, here {mine[k]!r}"
            for k in learner._architecture if theirs[k] != mine[k]]
    if diff:
        raise CheckpointError(f"{name} was saved from a learner with another configuration "
                              f"({'; '.join(diff)})")
    learner.load_state_arrays(src.state_arrays())
    learner._adopt_params({k: v for k, v in theirs.items() if k != "lr"})  # lr: in the state


__all__ = ["write_checkpoint", "read_checkpoint", "save_learner", "load_learner", "restore_learner",
           "save_bank", "load_bank", "restore_bank", "save_stream", "load_stream", "restore_stream",
           "layout_signature", "FORMAT", "FORMAT_VERSION"]
