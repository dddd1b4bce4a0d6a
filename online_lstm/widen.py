"""Add input or output units to a learner, mid-stream, without changing what it computes.

Stream adapters (:mod:`online_lstm.river`) meet features and classes that were
not there when the learner was built.  :func:`widen` returns a copy of a
learner with more input units and/or more output units that is *exactly* the
learner that would have resulted had those units existed from the start:

* a new **input** unit is one whose activation has been 0 at every step so
  far.  A zero source adds nothing to any net input (kernels skip it), its
  traces stay 0 (every trace increment of source ``m`` is a multiple of
  ``z[m]``, eqs. 25, 27) and so its outgoing weights never changed from their
  initial values; the new weights are drawn from the paper's initial
  distribution, uniform in ``[-init_range, init_range]`` (spec §2.7);
* a new **output** unit is one that has had no target at every step so far
  (NaN target: no error, eq. 19 with ``e_k = 0``).  Its weights never changed,
  it sent no error back, and outputs are not sources of anything, so the
  rest of the net is as it was.  Its activation at the last step is computed
  from that step's cell outputs, so a pending step (``predict_one`` awaiting
  ``learn_last``) can still be learned from, new unit included.  The same
  holds for the steps kept for delayed targets (``max_delay > 0``): their
  snapshots are widened alike, and the new units of every kept step are
  open for a target.  One exception: a step whose every output has its
  target (at the step, or since) is closed and keeps no snapshot, so its new
  outputs stay closed (a net built wide would have kept one, since the new
  outputs had no target).

The equivalence is tested bit for bit against a learner built wide from the
start (``tests/test_widen.py``): weights, accumulated update, traces, states,
activations, snapshots, counters, and every output and update after the
widening.  The one thing that can differ is the header's upper bound on
max|θ|, which grows from the history of the errors: widening takes the larger
of the old bound and the new weights' maximum, not the bound a wide learner
would have grown.  Both are valid bounds, and a bound only decides when the
kernel rescans the weights (bookkeeping of our own, see
``kernels._bounds``), never a result.
"""

from __future__ import annotations

import copy
import math

import numpy as np

from .layout import H_SIZE, H_WMAX, META, META_COUNTERS
from .learner import OnlineLSTM


def _positions(new_names, old_names):
    """Where each of ``old_names`` sits in ``new_names``.  The layout's name
    lists are properties built anew on every access: read each once, and look
    the names up in a dict (a list lookup per name made every widening
    quadratic in the number of inputs, and a stream whose features appear
    one at a time cubic)."""
    where = {name: i for i, name in enumerate(new_names)}
    return [where[name] for name in old_names]


def _copy_named(old_lay, new_lay, old_flat, new_flat):
    """Copy every named parameter of ``old_flat`` into ``new_flat`` by unit and
    source name (theta and the accumulated update dW share this layout)."""
    h_cols = _positions(new_lay.source_names, old_lay.source_names)
    k_cols = _positions(new_lay.output_source_names, old_lay.output_source_names)
    for name in old_lay.shapes:
        src = old_lay.weight_view(old_flat, name)
        dst = new_lay.weight_view(new_flat, name)
        if name in ("W_in", "W_phi", "W_out", "W_c"):
            dst[:, h_cols] = src
        elif name == "W_k":
            dst[: src.shape[0], k_cols] = src
        else:  # bias vectors: same units (b_k: the old outputs come first)
            dst[: src.shape[0]] = src


def _trace_rows(lay, traces):
    """The non-bias trace rows, one per source of ``z`` (layout docstring:
    row ``m < I_h`` holds ``[T_g | T_c]`` of source ``z[m]``)."""
    return traces[: lay.I_h * lay.trace_row].reshape(lay.I_h, lay.trace_row)


def _record_parts(lay, record):
    """Named views into one step record (fields in bank order)."""
    parts, pos = {}, 0
    for name, size in lay.record_fields().items():
        parts[name] = record[pos:pos + size]
        pos += size
    return parts


def _output_unit(lay, theta, o, k):
    """Activation y_k and f'(net_k) of output unit ``k`` for sources ``o``,
    computed in the kernel's order (bias, then sources in order, zeros
    skipped; logistic, appendix eq. 3)."""
    net = float(lay.weight_view(theta, "b_k")[k]) if lay.output_bias else 0.0
    w = lay.weight_view(theta, "W_k")[k]
    for q in range(lay.n_ob):
        if o[q] != 0.0:
            net += w[q] * o[q]
    y = 1.0 / (1.0 + math.exp(-net))
    return y, y * (1.0 - y)


def _default_rng(seed, n_in, n_out):
    """The generator of :func:`widen` when none is given: from the learner's
    seed and the new sizes (an int seed ``s`` gives ``[s, n_in, n_out]``).  A
    Generator or BitGenerator seed is a stream the user owns, drawn from as
    it stands; a SeedSequence gets the sizes appended to its spawn key."""
    if seed is None or isinstance(seed, (np.random.Generator, np.random.BitGenerator)):
        return np.random.default_rng(seed)
    if isinstance(seed, np.random.SeedSequence):
        return np.random.default_rng(np.random.SeedSequence(
            seed.entropy, spawn_key=(*seed.spawn_key, n_in, n_out)))
    return np.random.default_rng([*np.atleast_1d(seed).tolist(), n_in, n_out])


def widen(learner: OnlineLSTM, n_in: int | None = None, n_out: int | None = None,
          rng: np.random.Generator | int | None = None) -> OnlineLSTM:
    """A copy of ``learner`` with ``n_in`` inputs and ``n_out`` outputs.

    The new units come after the existing ones (input ``i`` stays input
    ``i``, output ``k`` stays output ``k``).  Everything else (weights,
    traces, states, accumulated updates, the pending step, counters, learning
    rate, divergence policy and its record ``n_divergences_`` and
    ``last_divergence_``) is carried over unchanged, except that the
    ``.state`` of ``last_divergence_`` (a copy of the error) is widened
    alike, so that ``load_state_arrays(last_divergence_.state)`` still goes
    back to the state from before that event.

    Parameters
    ----------
    learner : OnlineLSTM
        Left unchanged.
    n_in, n_out : int, optional
        New numbers of input and output units; at least the current ones.
        None keeps the current number.
    rng : numpy.random.Generator or int seed, optional
        Draws the weights of the new units, uniform in
        ``[-init_range, init_range]``.  Default: a generator seeded from
        ``learner.seed`` and the new sizes, so the result is reproducible
        when the learner was built with an int seed (or a sequence of them,
        or a SeedSequence); with ``seed=None`` or a Generator it draws fresh
        numbers.  Anything NumPy cannot seed from, or a bool, is a
        ValueError, raised before anything is drawn (also when no unit is
        added).

    Returns
    -------
    OnlineLSTM
        Same class and parameters as ``learner`` except ``n_in``/``n_out``.
    """
    if not isinstance(learner, OnlineLSTM):  # a LearnerBank failed deep inside, on an attribute
        raise TypeError(f"widen takes an OnlineLSTM; got {type(learner).__name__} (a LearnerBank "
                        f"cannot be widened: widen its learners, bank.learner(l), one by one)")
    old = learner.layout
    for name, value in (("n_in", n_in), ("n_out", n_out)):
        if value is not None and (isinstance(value, (bool, np.bool_))
                                  or not isinstance(value, (int, np.integer))):
            raise ValueError(f"{name} must be None or an int; got {value!r}")
    n_in = old.n_in if n_in is None else int(n_in)
    n_out = old.n_out if n_out is None else int(n_out)
    if n_in < old.n_in or n_out < old.n_out:
        raise ValueError(f"widen can only add units: ({old.n_in}, {old.n_out}) -> ({n_in}, {n_out})")
    if rng is not None:  # checked before anything is built (a clone draws from a Generator seed)
        if isinstance(rng, (bool, np.bool_)):  # NumPy would take True for the seed 1
            raise ValueError(f"rng must be None, a Generator or an int seed; got the bool {rng!r}")
        try:
            rng = np.random.default_rng(rng)  # a Generator is used as it is; an int seeds one
        except (TypeError, ValueError) as exc:
            raise ValueError(f"rng must be None, a Generator or an int seed; got {rng!r:.80} ({exc})") from None
    # the clone's own initial weights are all overwritten below: build it from
    # a fixed seed, so that a Generator seed (a stream the user owns) is drawn
    # from once, for the new units, not also for weights thrown away
    new_learner = learner.clone(n_in=n_in, n_out=n_out, seed=0)
    new_learner._adopt_params({"seed": learner.seed})
    # what the learner knows of its divergences is not in its state arrays
    new_learner.n_divergences_ = learner.n_divergences_
    new_learner.last_divergence_ = learner.last_divergence_
    if n_in == old.n_in and n_out == old.n_out:
        new_learner.load_state_arrays(learner.state_arrays())
        return new_learner
    if rng is None:
        rng = _default_rng(learner.seed, n_in, n_out)
    new = new_learner.layout
    # parameters: fresh draws for the new units (the old ones are overwritten by name)
    r = float(learner.init_range)
    draws = rng.uniform(-r, r, size=new.n_params)
    base = new_learner.state_arrays()["header"]  # the new architecture's layout table
    new_learner.load_state_arrays(_widened_state(old, new, learner.state_arrays(), base, draws))
    err = learner.last_divergence_
    if err is not None and getattr(err, "state", None) is not None:
        # .state must load into the widened learner (load_state_arrays(err.state)
        # goes back to the state before the event): widen it with the same new
        # weights, which had never changed then either.  A copy: the learner
        # passed in keeps its own record.
        err = copy.copy(err)
        err.state = _widened_state(old, new, learner.last_divergence_.state, base, draws)
        new_learner.last_divergence_ = err
    return new_learner


def _widened_state(old, new, src, base, draws):
    """The state arrays ``src`` of a learner with layout ``old``, in layout
    ``new``: ``base`` is a header of ``new`` (its layout table), ``draws`` the
    values of every parameter of ``new`` (those of the old units are
    replaced by ``src``'s)."""
    # header: the new architecture's layout table; hyper-parameters, magnitude
    # bounds and counters from the old learner
    header = base.copy()
    header[:H_SIZE] = src["header"][:H_SIZE]
    for name in META_COUNTERS:
        header[META[name]] = src["header"][META[name]]

    # parameters: fresh draws for the new units, the old values by name
    theta = draws.copy()
    _copy_named(old, new, src["theta"], theta)
    header[H_WMAX] = max(header[H_WMAX], float(np.max(np.abs(theta), initial=0.0)))
    dW = np.zeros(new.n_params)
    _copy_named(old, new, src["dW"], dW)

    # traces: zero rows for the new input sources, the rest by source name
    traces = np.zeros(new.n_traces)
    rows = _positions(new.source_names, old.source_names)
    _trace_rows(new, traces)[rows] = _trace_rows(old, src["T"])
    n_rows = old.I_h * old.trace_row
    traces[new.I_h * new.trace_row:] = src["T"][n_rows:]  # bias row, peephole traces

    # the committed step record: new inputs were 0; new outputs computed
    record = _widen_record(old, new, src["record"], theta, rows,
                           int(header[META["step"]]) > 0 and int(header[META["seq_step"]]) > 0)
    state = {"header": header, "theta": theta, "dW": dW, "T": traces, "record": record}
    if old.max_delay:
        state["slots"] = _widen_slots(old, new, src["slots"], theta, rows,
                                      int(header[META["step"]]))
    return state


def _widen_record(old, new, rec, theta, rows, computed):
    """A step record of ``old`` in ``new``'s layout: new inputs were 0, and
    (if ``computed``, i.e. the record holds a step) the new outputs'
    activations are computed from the step's cell outputs."""
    record = np.zeros(new.meta["bank_size"])
    a, b = _record_parts(old, rec), _record_parts(new, record)
    for name, part in a.items():
        if name == "z":
            b[name][rows] = part
        elif name == "o":
            b[name][_positions(new.output_source_names, old.output_source_names)] = part
        else:
            b[name][: part.shape[0]] = part
    if computed:
        for k in range(old.n_out, new.n_out):
            b["y_k"][k], b["d_k"][k] = _output_unit(new, theta, b["o"], k)
    return record


def _widen_slots(old, new, ring, theta, rows, n_steps):
    """The snapshots for delayed targets (layout ``slots``) in ``new``'s
    layout: each step's record and traces as above, its output weights from
    the cells with the new units' (never changed) weights added, and the new
    units open for a target (they had none), if the step has a snapshot (a
    step with a target for every output keeps none, so its new outputs stay
    closed)."""
    mo, mn = old.meta, new.meta
    ring = ring.reshape(mo["n_slots"], mo["slot_size"])
    out = np.zeros((mn["n_slots"], mn["slot_size"]))
    CS = old.n_cells
    W_k_new = new.weight_view(theta, "W_k")  # (K, n_ob); the cells are sources 0..CS-1
    for t in range(max(0, n_steps - mo["n_slots"]), n_steps):
        i = t % mo["n_slots"]
        src, dst = ring[i], out[i]
        dst[:mn["bank_size"]] = _widen_record(old, new, src[:mo["bank_size"]], theta, rows, True)
        tr_old = src[mo["sl_T"]:mo["sl_T"] + old.n_traces]
        tr_new = dst[mn["sl_T"]:mn["sl_T"] + new.n_traces]
        _trace_rows(new, tr_new)[rows] = _trace_rows(old, tr_old)
        tr_new[new.I_h * new.trace_row:] = tr_old[old.I_h * old.trace_row:]
        wk = dst[mn["sl_wk"]:mn["sl_wk"] + CS * new.n_out].reshape(CS, new.n_out)
        wk[:, :old.n_out] = src[mo["sl_wk"]:mo["sl_wk"] + CS * old.n_out].reshape(CS, old.n_out)
        wk[:, old.n_out:] = W_k_new[old.n_out:, :CS].T
        dst[mn["sl_open"]:mn["sl_open"] + old.n_out] = src[mo["sl_open"]:mo["sl_open"] + old.n_out]
        if src[mo["sl_step"]] == t + 1:  # step t's snapshot (a closed slot is stored as 0)
            dst[mn["sl_open"] + old.n_out:mn["sl_open"] + new.n_out] = 1.0
        dst[mn["sl_tmax"]] = src[mo["sl_tmax"]]
        dst[mn["sl_step"]] = src[mo["sl_step"]]
    return out.ravel()
