"""Shapes, offsets and names of every buffer of a 1997 LSTM (spec §2.3–§2.8, §3.10),
and of its two later options, the forget gate and peepholes (spec §7.1, §7.2).

A learner owns one float64 array, ``mem``.  It holds, in order:

========  ===================================================================
header    hyper-parameters (learning rate, bounds), then the layout table
          ("meta": dimensions, flags, offsets, counters; integers stored as
          float64, exact below 2**53)
theta     the parameter vector (source order below)
dW        accumulated weight changes (``update="sequence"``), same layout
traces    the 2·C·S·I numbers ds_c/dw of spec §3.5 (3·C·S·I with a forget
          gate, plus the peephole traces)
records   two step records; the committed one holds s_c(t) and the
          activations that feed step t+1, the other is written by the step
          being computed, so a refused step leaves the committed one intact
scratch   error signals, net inputs and the staged input/target
========  ===================================================================

One array keeps the per-call cost low (Numba charges ~50 ns per array
argument) and fixes the relative position of everything the kernels touch,
so speed does not depend on where the allocator put several arrays (4K
aliasing).  Snapshot, restore and comparison are one line each.

Notation (the paper's)
----------------------
``C`` blocks of ``S`` cells each (``n_cells = C*S``; cell ``v`` of block ``j``
is cell number ``j*S + v``), ``K`` output units, ``n_in`` input units.

Non-bias sources of the hidden layer, vector ``z`` (length ``I_h``)::

    F connectivity:  z = [ x(t) | y_c(t-1) | y_in(t-1) | y_out(t-1) ]
    B connectivity:  z = [ x(t) ]

(``y_out`` only with output gates).  Hidden units, in "hidden row" order
(length ``R``)::

    [ input gates (C) | forget gates (C, if any) | cells (C*S) | output gates (C, if any) ]

``Cg`` (``C``, or ``2C`` with forget gates) counts the gates before the cells:
the gates whose weights learn through traces.

Non-bias sources of the output layer, vector ``o`` (length ``n_ob``)::

    o = [ y_c(t) | x(t) (B only) ]

Parameter vector ``theta`` (the documented source order)::

    theta = [ H (I_h, R) | b_in (C) | b_phi (C) | b_c (C*S) | b_out (C) | P | Wk (n_ob, K) | b_k (K) ]

``H`` is stored **source-major**: row ``m`` holds the weights leaving source
``z[m]`` for every hidden unit, so ``H[m, j]`` is the paper's
``w_{in_j m}``, ``H[m, C + j*S+v]`` is ``w_{c_j^v m}`` and
``H[m, C + C*S + j]`` is ``w_{out_j m}`` (with forget gates,
``H[m, C + j]`` is ``w_{phi_j m}`` and the cells and output gates move
``C`` columns right).  ``Wk[q, k]`` is ``w_{k q}``.
The bias vectors follow the same unit order, so with biases on all hidden
units ``[b_in | b_phi | b_c | b_out]`` is one more row of ``H``.
The bias vectors are the weights from the paper's constant-1 bias unit;
each exists only where Table 10's bias code puts one (gates: "ga", "b1",
"all"; cells: "b1", "all"; outputs: "all").  Source-major storage turns
every net input into a sum of scaled rows, ``net[:] += H[m, :] * z[m]``,
which vectorises without reordering any floating-point sum and lets a step
skip the rows of sources that are exactly zero (one-hot inputs).

``P`` holds the peephole weights (spec §7.2), only with ``peepholes=True``:
``[ P_in (C, S) | P_phi (C, S) if forget gates | P_out (C, S) if output
gates ]``, block-major: ``P_in[j, v']`` is ``w_{in_j c_j^v'}``, the weight
from the state of cell ``v'`` of block ``j`` to that block's input gate.

The named views users see (:meth:`Layout.weight_view`) are in the paper's
orientation (unit, source): ``W_in`` (C, I_h), ``W_phi`` (C, I_h),
``W_out`` (C, I_h), ``W_c`` (n_cells, I_h), ``W_k`` (K, n_ob), the bias
vectors ``b_in``, ``b_phi``, ``b_out``, ``b_c``, ``b_k``, and the peephole
weights ``P_in``, ``P_phi``, ``P_out`` (C, S); each only where the net has it.

Forget-gate activations are *not* sources: ``z`` is the same with or
without forget gates, so every 1997 weight keeps its meaning (and the
learner with a forget gate pinned open is the 1997 learner).  Peepholes are
per-block weights, not sources either.

Traces (spec §3.5, §7.1), one row per source::

    row m < I_h:  [ T_g (S*Cg, v-major: v*Cg + j) | T_c (C*S) ]
    bias row:     [ T_g (S*Cg) if gates have a bias | T_c (C*S) if cells do ]
    peepholes:    for each block j and source cell v' (j*S + v'):
                  [ T_Pin (S, over cells v) | T_Pphi (S) if forget gates ]

``T_g[m, v*Cg + j] = ds_{c_j^v}/dw_{in_j m}`` and, with forget gates,
``T_g[m, v*Cg + C + j] = ds_{c_j^v}/dw_{phi_j m}``;
``T_c[m, j*S + v] = ds_{c_j^v}/dw_{c_j^v m}``.  ``T_g`` orders its cells
v-major so that the update of the ``Cg`` gate weights of a row, each a sum
over the cells of a block, reads contiguous memory (and matches the
contiguous ``[in | phi]`` weights of a row of ``H``).  Without a forget gate
``Cg = C`` and this is the 1997 layout: ``2·C·S·I`` numbers, ``I`` the
sources of a gate and a cell (``I_h``, plus the bias unit where it feeds
them: with biases on the gates only, the bias row holds the ``C·S`` input-gate
traces and no cell traces, ``2·C·S·I_h + C·S`` in all); with a forget gate,
``3·C·S·I``; peepholes add ``C·S·S`` (input gate) and ``C·S·S`` (forget
gate) traces, spec §7.2's ``2·C·S²``.

Step record (one per time step)::

    z, o, y_in, y_out, d_in = f'(net_in), d_out = f'(net_out),
    gc = g(net_c), dgc = g'(net_c), s_c, hs = h(s_c), dhs = h'(s_c),
    y_c, y_k, d_k = f'(net_k), y_phi, d_phi = f'(net_phi) (forget gates)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# ---------------------------------------------------------------------------
# header of mem: hyper-parameters (float) then meta (integers stored as float)
# ---------------------------------------------------------------------------
H_LR = 0  # learning rate alpha
H_STATE_BOUND = 1  # |s_c| above this is reported as divergence
H_TMAX = 2  # upper bound on max |trace|
H_WMAX = 3  # upper bound on max |theta|
H_DWMAX = 4  # upper bound on max |dW|
H_SIZE = 8

_META_FIELDS = [
    # dimensions and flags
    "n_in", "K", "C", "S", "I_h", "R", "R_g", "n_ob", "og", "conn_b", "g1", "h_id",
    "gate_bias", "cell_bias", "out_bias", "accum",
    # offsets into mem (absolute)
    "W", "theta", "dW", "H", "b_in", "b_c", "b_out", "Wk", "b_k", "T", "n_traces",
    "bank0", "bank_size",
    # offsets inside a record bank
    "r_z", "r_o", "r_yin", "r_yout", "r_din", "r_dout", "r_gc", "r_dgc", "r_s",
    "r_hs", "r_dhs", "r_yc", "r_yk", "r_dk",
    # scratch
    "e_k", "back", "e_s", "e_out", "net", "coef", "xs", "ys",
    # forget gate and peepholes (spec §7), after the 1997 entries: flags, gates
    # before the cells, offsets of b_phi, of the peephole weights and traces,
    # record fields y_phi and d_phi, scratch for the trace damping
    "fg", "ph", "Cg", "b_phi", "P", "TP", "r_yphi", "r_dphi", "damp",
    # delayed targets: "xp" is 1 if the step takes the options' code path
    # (forget gates, peepholes, or a delay window); the ring of step
    # snapshots: number of slots, offset, slot size, and inside a slot the
    # offsets of the traces, the output weights from the cells, the
    # per-unit "no target yet" flags, the trace bound, and 1 + the step
    # whose snapshot the slot holds (0: none)
    "xp", "n_slots", "slots", "slot_size", "sl_T", "sl_wk", "sl_open", "sl_tmax", "sl_step",
    # counters and flags that change while learning
    "bank", "pending", "step", "seq_step", "n_resets", "n_updates",
]
#: index of each meta field inside mem
META = {name: H_SIZE + i for i, name in enumerate(_META_FIELDS)}
META_SIZE = len(_META_FIELDS)
HEADER_SIZE = H_SIZE + META_SIZE

# Kernels import these as constants.
M_BANK = META["bank"]
M_PENDING = META["pending"]
M_STEP = META["step"]
M_SEQ_STEP = META["seq_step"]
M_N_RESETS = META["n_resets"]
M_N_UPDATES = META["n_updates"]
M_ACCUM = META["accum"]
#: meta entries that change while learning (the rest is fixed by the layout)
META_COUNTERS = ("bank", "pending", "step", "seq_step", "n_resets", "n_updates")

#: No weight, accumulated update or trace may exceed this magnitude.  With
#: every factor of an update bounded, this guarantees that no update can
#: produce inf or NaN (see kernels._bounds).
MAGNITUDE_LIMIT = 1e150

BIAS_CODES = {
    # ours     (gates, cells, outputs)  Table 10 code
    "gates": (True, False, False),  # "ga"
    "hidden": (True, True, False),  # "b1"
    "all": (True, True, True),  # "all"
    "none": (False, False, False),  # "none"
}
BIAS_ALIASES = {"ga": "gates", "b1": "hidden"}
G_CODES = {"g2": 0, "g1": 1}
H_CODES = {"h1": 0, "id": 1}


#: record field name -> suffix of its ``r_`` offset in meta
_RECORD_META = {"z": "z", "o": "o", "y_in": "yin", "y_out": "yout", "d_in": "din", "d_out": "dout",
                "gc": "gc", "dgc": "dgc", "s_c": "s", "hs": "hs", "dhs": "dhs", "y_c": "yc",
                "y_k": "yk", "d_k": "dk", "y_phi": "yphi", "d_phi": "dphi"}


def aligned_zeros(n: int, align: int = 64) -> np.ndarray:
    """Zeroed float64 array of length ``n`` whose data starts on an ``align``-byte
    boundary.  The regions of ``mem`` start on 64-byte boundaries relative to
    its start; with an aligned base, vector loads never split a cache line
    (numpy alone guarantees 16 bytes; misalignment cost up to 28% here).
    """
    buf = np.zeros(n + align // 8, dtype=np.float64)
    off = (-buf.ctypes.data % align) // 8
    return buf[off:off + n]


def _block_values(name, value, n_blocks):
    """Turn a per-block bias specification into a tuple or None."""
    if value is None:
        return None
    try:
        raw = np.asarray(value)
    except ValueError:  # a ragged list
        raw = np.asarray(None)
    if raw.dtype.kind not in "iuf":  # no strings ('-1'), no bools, nothing else
        raise ValueError(f"{name} must be None (random), one number, or one number per block "
                         f"({n_blocks} blocks); got {value!r:.80}")
    arr = np.atleast_1d(raw.astype(np.float64))
    if arr.ndim != 1 or arr.shape[0] not in (1, n_blocks):
        raise ValueError(
            f"{name} must be None (random), one number, or one number per block "
            f"({n_blocks} blocks); got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; got {arr.tolist()}")
    if np.max(np.abs(arr)) > MAGNITUDE_LIMIT:
        raise ValueError(f"{name} must be at most {MAGNITUDE_LIMIT:g} in magnitude (the weight "
                         f"bound); got {arr.tolist()}")
    if arr.shape[0] == 1:
        arr = np.repeat(arr, n_blocks)
    return tuple(float(v) for v in arr)


@dataclass(frozen=True)
class Layout:
    """Architecture of one LSTM and the offsets of all its buffers.

    Parameters
    ----------
    n_in, n_out : int
        Input units and output units ``K``.
    n_blocks, block_size : int
        ``C`` memory-cell blocks of ``S`` cells each.
    output_gates : bool
        Without output gates ``y_out`` is 1 (Experiments 2a/2b).
    connectivity : {"F", "B"}
        Table 10 column ``c``.  F: hidden units read inputs, cells and gates
        of the previous step; outputs read cells only.  B: hidden units read
        the inputs only; outputs read cells and inputs.
    bias : {"gates", "hidden", "all", "none"}
        Table 10 codes "ga", "b1", "all", "none" ("ga" and "b1" are also
        accepted).  "gates" includes the forget gates.
    g : {"g2", "g1"}
        Cell-input squashing: ``4σ(x) - 2`` in [-2, 2], or the logistic.
    h : {"h1", "id"}
        Cell-output squashing: ``2σ(x) - 1`` in [-1, 1], or the identity.
    forget_gate : bool
        One forget gate per block (Gers et al. 2000; spec §7.1).  It reads
        the same sources as the other gates; its activation is not a source.
    peepholes : bool
        Weights from each cell's state to the gates of its own block (Gers &
        Schmidhuber 2000; spec §7.2).
    max_delay : int
        Targets may arrive up to this many steps after their step (0: only
        ``learn_last``).  Each step then leaves a snapshot of what its weight
        change needs (its record, its traces, the output weights from the
        cells, and which outputs still await a target) in a ring of
        ``max_delay + 1`` slots after the scratch area.
    """

    n_in: int
    n_out: int
    n_blocks: int = 1
    block_size: int = 1
    output_gates: bool = True
    connectivity: str = "F"
    bias: str = "gates"
    g: str = "g2"
    h: str = "h1"
    forget_gate: bool = False
    peepholes: bool = False
    max_delay: int = 0
    # derived, filled in __post_init__
    n_cells: int = field(init=False)
    I_h: int = field(init=False)
    I_g: int = field(init=False)
    I_c: int = field(init=False)
    R: int = field(init=False)
    R_g: int = field(init=False)
    n_ob: int = field(init=False)
    n_params: int = field(init=False)
    n_traces: int = field(init=False)
    shapes: dict = field(init=False, repr=False)
    offsets: dict = field(init=False, repr=False)
    meta: dict = field(init=False, repr=False)
    mem_size: int = field(init=False, repr=False)

    def __post_init__(self):
        ints = dict(n_in=self.n_in, n_out=self.n_out, n_blocks=self.n_blocks,
                    block_size=self.block_size)
        for name, v in ints.items():
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive integer; got {v!r}")
            object.__setattr__(self, name, int(v))
        v = self.max_delay
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
            raise ValueError(f"max_delay must be an integer >= 0; got {v!r}")
        object.__setattr__(self, "max_delay", int(v))
        bias = BIAS_ALIASES.get(self.bias, self.bias)
        if bias not in BIAS_CODES:
            raise ValueError(f"bias must be one of {sorted(BIAS_CODES)} (or 'ga', 'b1'); got {self.bias!r}")
        object.__setattr__(self, "bias", bias)
        if self.connectivity not in ("F", "B"):
            raise ValueError(f"connectivity must be 'F' or 'B'; got {self.connectivity!r}")
        if self.g not in G_CODES:
            raise ValueError(f"g must be one of {sorted(G_CODES)}; got {self.g!r}")
        if self.h not in H_CODES:
            raise ValueError(f"h must be one of {sorted(H_CODES)}; got {self.h!r}")
        for name in ("output_gates", "forget_gate", "peepholes"):
            v = getattr(self, name)
            if not isinstance(v, (bool, np.bool_)):
                raise ValueError(f"{name} must be True or False; got {v!r}")
            object.__setattr__(self, name, bool(v))

        C, S, K, n_in = self.n_blocks, self.block_size, self.n_out, self.n_in
        og, fg, ph = self.output_gates, self.forget_gate, self.peepholes
        b_gate, b_cell, b_out = BIAS_CODES[bias]
        CS = C * S
        Cg = C * (2 if fg else 1)  # gates before the cells: [in | phi]
        R_g = C + (C if og else 0)  # gates that are sources of z
        R = Cg + CS + (C if og else 0)
        I_h = n_in + ((CS + R_g) if self.connectivity == "F" else 0)
        n_ob = CS + (n_in if self.connectivity == "B" else 0)
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731
        set_("n_cells", CS)
        set_("I_h", I_h)
        set_("I_g", I_h + int(b_gate))
        set_("I_c", I_h + int(b_cell))
        set_("R", R)
        set_("R_g", R_g)
        set_("n_ob", n_ob)

        # --- theta -------------------------------------------------------
        n_peep = CS * (1 + int(fg) + int(og)) if ph else 0
        blocks = {"H": I_h * R, "b_in": C if b_gate else 0, "b_phi": C if (b_gate and fg) else 0,
                  "b_c": CS if b_cell else 0, "b_out": C if (b_gate and og) else 0, "P": n_peep,
                  "Wk": n_ob * K, "b_k": K if b_out else 0}
        offsets, off = {}, 0
        for name, size in blocks.items():
            offsets[name] = off
            off += size
        set_("n_params", off)
        set_("offsets", offsets)
        shapes = {"W_in": (C, I_h)}
        if fg:
            shapes["W_phi"] = (C, I_h)
        if og:
            shapes["W_out"] = (C, I_h)
        shapes["W_c"] = (CS, I_h)
        shapes["W_k"] = (K, n_ob)
        if b_gate:
            shapes["b_in"] = (C,)
            if fg:
                shapes["b_phi"] = (C,)
            if og:
                shapes["b_out"] = (C,)
        if b_cell:
            shapes["b_c"] = (CS,)
        if b_out:
            shapes["b_k"] = (K,)
        if ph:
            shapes["P_in"] = (C, S)
            if fg:
                shapes["P_phi"] = (C, S)
            if og:
                shapes["P_out"] = (C, S)
        set_("shapes", shapes)
        row = S * Cg + CS  # one trace row: [T_g | T_c]
        n_tr_main = I_h * row + S * Cg * int(b_gate) + CS * int(b_cell)
        n_tr_peep = CS * S * (1 + int(fg)) if ph else 0
        set_("n_traces", n_tr_main + n_tr_peep)

        # --- mem -----------------------------------------------------------
        meta = dict.fromkeys(_META_FIELDS, 0)
        meta.update(n_in=n_in, K=K, C=C, S=S, I_h=I_h, R=R, R_g=R_g, n_ob=n_ob, og=int(og),
                    conn_b=int(self.connectivity == "B"), g1=G_CODES[self.g],
                    h_id=H_CODES[self.h], gate_bias=int(b_gate), cell_bias=int(b_cell),
                    out_bias=int(b_out), fg=int(fg), ph=int(ph), Cg=Cg, W=self.n_params)
        pos = HEADER_SIZE
        pos = (pos + 7) // 8 * 8  # 64-byte alignment of the big regions
        meta["theta"] = pos
        for name in blocks:
            meta[name] = pos + offsets[name]
        pos += self.n_params
        pos = (pos + 7) // 8 * 8
        meta["dW"] = pos
        pos += self.n_params
        pos = (pos + 7) // 8 * 8
        meta["T"] = pos
        meta["TP"] = pos + n_tr_main
        meta["n_traces"] = self.n_traces
        pos += self.n_traces
        rpos = 0
        for name, size in self.record_fields().items():
            meta["r_" + _RECORD_META[name]] = rpos
            rpos += size
        rpos = (rpos + 7) // 8 * 8
        pos = (pos + 7) // 8 * 8
        meta["bank0"] = pos
        meta["bank_size"] = rpos
        pos += 2 * rpos
        for name, size in (("e_k", K), ("back", CS), ("e_s", CS), ("e_out", C),
                           ("net", R + K), ("coef", 2 * row + C + K),
                           ("xs", n_in), ("ys", K), ("damp", row if fg else 0)):
            meta[name] = pos
            pos += size
        # the ring of step snapshots for delayed targets (kernels._snapshot)
        D = self.max_delay
        meta["xp"] = int(fg or ph or D > 0)
        if D > 0:
            a8 = lambda n: (n + 7) // 8 * 8  # noqa: E731
            meta["sl_T"] = a8(rpos)
            meta["sl_wk"] = a8(meta["sl_T"] + self.n_traces)
            meta["sl_open"] = meta["sl_wk"] + CS * K
            meta["sl_tmax"] = meta["sl_open"] + K
            meta["sl_step"] = meta["sl_tmax"] + 1
            meta["slot_size"] = a8(meta["sl_step"] + 1)
            meta["n_slots"] = D + 1
            pos = a8(pos)
            meta["slots"] = pos
            pos += (D + 1) * meta["slot_size"]
        if pos >= 2 ** 53:  # the layout table holds offsets as float64, exact below 2**53
            raise ValueError(f"n_in={self.n_in}, n_out={self.n_out}, n_blocks={self.n_blocks}, "
                             f"block_size={self.block_size}, max_delay={self.max_delay} need "
                             f"{pos:.3g} numbers of state; a layout holds fewer than 2**53")
        set_("meta", meta)
        set_("mem_size", pos)

    # ------------------------------------------------------------------
    def record_fields(self):
        """Names and lengths of the per-step record (see module docstring)."""
        C, CS, K = self.n_blocks, self.n_cells, self.n_out
        Cf = C if self.forget_gate else 0
        return {
            "z": self.I_h, "o": self.n_ob, "y_in": C, "y_out": C, "d_in": C, "d_out": C,
            "gc": CS, "dgc": CS, "s_c": CS, "hs": CS, "dhs": CS, "y_c": CS, "y_k": K, "d_k": K,
            "y_phi": Cf, "d_phi": Cf,
        }

    @property
    def trace_row(self) -> int:
        """Length of one source row of the trace buffer, ``[T_g | T_c]``:
        ``2·C·S`` (1997), ``3·C·S`` with forget gates.  The ``I_h`` source
        rows come first; the bias row and the peephole traces follow."""
        return self.block_size * self.meta["Cg"] + self.n_cells

    @property
    def gate_bias(self) -> bool:
        """The input and output gates (and forget gates) have a bias weight
        (every bias code but "none", spec §2.6)."""
        return BIAS_CODES[self.bias][0]

    @property
    def cell_bias(self) -> bool:
        """The cells' net inputs ``net_c`` have a bias weight (codes "hidden"/"b1"
        and "all")."""
        return BIAS_CODES[self.bias][1]

    @property
    def output_bias(self) -> bool:
        """The output units have a bias weight (code "all" only)."""
        return BIAS_CODES[self.bias][2]

    @property
    def source_names(self) -> list:
        """Names of the hidden-layer sources ``z`` (columns of W_in, W_out, W_c)."""
        names = [f"x[{i}]" for i in range(self.n_in)]
        if self.connectivity == "F":
            S = self.block_size
            names += [f"y_c[{j},{v}]" for j in range(self.n_blocks) for v in range(S)]
            names += [f"y_in[{j}]" for j in range(self.n_blocks)]
            if self.output_gates:
                names += [f"y_out[{j}]" for j in range(self.n_blocks)]
        return names

    @property
    def output_source_names(self) -> list:
        """Names of the output-layer sources ``o`` (columns of W_k)."""
        S = self.block_size
        names = [f"y_c[{j},{v}]" for j in range(self.n_blocks) for v in range(S)]
        if self.connectivity == "B":
            names += [f"x[{i}]" for i in range(self.n_in)]
        return names

    @property
    def param_names(self) -> list:
        """Names of the weight groups: the keys of :attr:`shapes`, weights
        before biases (``W_in, W_out, W_c, W_k, b_in, b_out`` for Table 10's
        row 2a).  This is not their order in the flat parameter vector,
        whose source order the module docstring gives (``H`` interleaves
        ``W_in``/``W_c``/``W_out`` by source, and the hidden biases and ``P``
        precede ``W_k``); use :meth:`weight_view` to find each in it."""
        return list(self.shapes)

    # ------------------------------------------------------------------
    def weight_view(self, theta: np.ndarray, name: str) -> np.ndarray:
        """View of parameter ``name`` inside the flat vector ``theta``, in
        the paper's orientation: ``W_in[j, m] = w_{in_j m}``, ``b_in[j]`` the
        bias weight of input gate j, ``P_in[j, v']`` the peephole weight from
        cell v' of block j, and so on.

        ``theta`` is a 1-D float64 ndarray of length :attr:`n_params`.
        Writing through the view writes into ``theta``.
        """
        if name not in self.shapes:
            raise KeyError(f"unknown parameter {name!r}; this net has {list(self.shapes)}")
        if (not isinstance(theta, np.ndarray) or theta.dtype != np.float64 or theta.ndim != 1
                or theta.size != self.n_params):
            got = (f"{theta.dtype} array of shape {theta.shape}" if isinstance(theta, np.ndarray)
                   else type(theta).__name__)
            raise ValueError(f"theta must be a 1-D float64 array of n_params = {self.n_params} "
                             f"numbers; got a {got}")
        C, R, CS, S = self.n_blocks, self.R, self.n_cells, self.block_size
        Cg = self.meta["Cg"]
        o = self.offsets
        if name in ("W_in", "W_phi", "W_out", "W_c"):
            H = theta[o["H"]:o["H"] + self.I_h * R].reshape(self.I_h, R)
            cols = {"W_in": slice(0, C), "W_phi": slice(C, 2 * C), "W_c": slice(Cg, Cg + CS),
                    "W_out": slice(Cg + CS, R)}[name]
            return H[:, cols].T
        if name == "W_k":
            return theta[o["Wk"]:o["Wk"] + self.n_ob * self.n_out].reshape(self.n_ob, self.n_out).T
        if name in ("P_in", "P_phi", "P_out"):
            k = list(n for n in self.shapes if n.startswith("P_")).index(name)
            return theta[o["P"] + k * CS:o["P"] + (k + 1) * CS].reshape(C, S)
        size = {"b_in": C, "b_phi": C, "b_c": CS, "b_out": C, "b_k": self.n_out}[name]
        return theta[o[name]:o[name] + size]

    def _trace_parts(self, traces):
        """The main trace rows ``(I_h, S, Cg)`` gate part and ``(I_h, CS)`` cell
        part, the bias row's parts (or None), and the peephole traces."""
        S, CS, I_h = self.block_size, self.n_cells, self.I_h
        Cg = self.meta["Cg"]
        row = S * Cg + CS
        rows = traces[:I_h * row].reshape(I_h, row)
        n_main = self.meta["TP"] - self.meta["T"]
        bias = traces[I_h * row:n_main]
        bg = bias[:S * Cg].reshape(S, Cg) if self.gate_bias else None
        bc = bias[S * Cg * self.gate_bias:] if self.cell_bias else None
        return rows[:, :S * Cg].reshape(I_h, S, Cg), rows[:, S * Cg:], bg, bc, traces[n_main:]

    def _gate_traces(self, traces, first):
        """ds_c/dw of the gate whose traces start at column ``first`` of each
        v-major group (0: input gate, C: forget gate), as (CS, I_g)."""
        C, CS = self.n_blocks, self.n_cells
        g, _, bg, _, _ = self._trace_parts(traces)
        t = g[:, :, first:first + C].swapaxes(1, 2).reshape(self.I_h, CS).T  # v-major -> j*S+v
        if bg is not None:
            t = np.column_stack([t, bg[:, first:first + C].T.reshape(CS)])
        return np.ascontiguousarray(t)

    def trace_views(self, traces: np.ndarray):
        """``(T_in, T_c)`` from the flat trace buffer, in paper orientation
        ``(cell j*S+v, source)``; the bias source, if any, is the last column.
        Copies.  The forget-gate and peephole traces are in
        :meth:`option_trace_views`."""
        _, c, _, bc, _ = self._trace_parts(traces)
        t_c = c.T if bc is None else np.column_stack([c.T, bc])
        return self._gate_traces(traces, 0), np.ascontiguousarray(t_c)

    def option_trace_views(self, traces: np.ndarray) -> dict:
        """Traces of the forget gate and peephole weights (copies; empty for
        the 1997 net): ``T_phi`` (n_cells, I_g) = ds_c/dw_phi (spec §7.1);
        ``T_P_in`` and ``T_P_phi`` (n_cells, S): row ``j*S+v``, column
        ``v'`` is ds_{c_j^v}/dw_{in_j c_j^v'} (resp. phi_j), spec §7.2."""
        C, S, CS = self.n_blocks, self.block_size, self.n_cells
        out = {}
        if self.forget_gate:
            out["T_phi"] = self._gate_traces(traces, C)
        if self.peepholes:
            Sg = S * (2 if self.forget_gate else 1)
            tp = self._trace_parts(traces)[4].reshape(C, S, Sg)  # [j, v', (v | S + v)]
            out["T_P_in"] = np.ascontiguousarray(tp[:, :, :S].swapaxes(1, 2).reshape(CS, S))
            if self.forget_gate:
                out["T_P_phi"] = np.ascontiguousarray(tp[:, :, S:].swapaxes(1, 2).reshape(CS, S))
        return out

    # ------------------------------------------------------------------
    def slot_offset(self, t):
        """Offset in ``mem`` of the snapshot slot of step ``t`` (steps counted
        from 0; an int or an int array), as ``kernels._slot`` computes it.
        Only a layout with ``max_delay > 0`` has slots (ValueError otherwise)."""
        if not self.max_delay:
            raise ValueError("a layout with max_delay=0 keeps no step snapshots (slots)")
        if isinstance(t, (bool, np.bool_)) or np.asarray(t).dtype.kind not in "iu":
            raise ValueError(f"t must be an int or an int array of steps; got {t!r:.80}")
        m = self.meta
        return m["slots"] + np.mod(t, m["n_slots"]) * m["slot_size"]

    def make_mem(self, accumulate: int = 0) -> np.ndarray:
        """A zeroed, 64-byte aligned ``mem`` with the layout table filled in;
        ``accumulate`` is the accumulation mode written to its header (0:
        ``update="step"``, 1: ``update="sequence"``, 2: the gradient's
        accumulation of :meth:`OnlineLSTM.gradient`)."""
        mem = aligned_zeros(self.mem_size)
        for name, value in self.meta.items():
            mem[META[name]] = value
        mem[META["accum"]] = accumulate
        return mem

    def _from_draw_order(self, draw: np.ndarray) -> np.ndarray:
        """``theta`` from uniform draws made in the seeded draw order.

        A 1997 net (no forget gate, no peepholes) draws its weights in the
        order of the first release: ``H`` with hidden columns
        ``[in | out | cells]``, then ``[b_in | b_out]``, ``b_c``, ``Wk``,
        ``b_k``.  The memory order has since become ``[in | cells | out]``
        (one bias row for every hidden unit), and this permutation keeps
        every seed drawing the same initial net as before, so seeded
        results recorded with the first release (REPRODUCTION.md) replay
        bit for bit.  Nets with the options draw in memory order.
        """
        if self.forget_gate or self.peepholes:
            return draw
        C, CS, R, I_h = self.n_blocks, self.n_cells, self.R, self.I_h
        n_og = R - C - CS  # output gates: C or 0
        o = self.offsets
        nb_in, nb_out = o["b_c"] - o["b_in"], o["Wk"] - o["b_out"]
        H = draw[:I_h * R].reshape(I_h, R)
        p = I_h * R
        b_in, b_out = draw[p:p + nb_in], draw[p + nb_in:p + nb_in + nb_out]
        b_c = draw[p + nb_in + nb_out:o["Wk"]]  # the rest of the bias draws
        return np.concatenate([
            np.concatenate([H[:, :C], H[:, C + n_og:], H[:, C:C + n_og]], axis=1).ravel(),
            b_in, b_c, b_out, draw[o["Wk"]:]])

    def init_theta(self, rng: np.random.Generator, init_range: float,
                   in_gate_bias=None, out_gate_bias=None, forget_gate_bias=None) -> np.ndarray:
        """Paper initialisation (spec §2.7): every weight uniform in
        ``[-init_range, init_range]``, drawn from ``rng``; then the gate
        biases given per block (``in_gate_bias``, ``out_gate_bias``,
        ``forget_gate_bias``: None, one number, or one per block) overwrite
        the bias weights of those gates.

        Returns the flat parameter vector, shape (n_params,).  Raises
        ValueError for a gate bias the net has no weight for (no gate
        biases, no output or forget gates) or of the wrong length."""
        theta = self._from_draw_order(rng.uniform(-init_range, init_range, size=self.n_params))
        igb = _block_values("in_gate_bias", in_gate_bias, self.n_blocks)
        ogb = _block_values("out_gate_bias", out_gate_bias, self.n_blocks)
        fgb = _block_values("forget_gate_bias", forget_gate_bias, self.n_blocks)
        if fgb is not None:
            if not self.forget_gate:
                raise ValueError("forget_gate_bias given, but the net has no forget gates")
            if not self.gate_bias:
                raise ValueError("forget_gate_bias needs a bias on the gates (bias='gates', 'hidden' "
                                 "or 'all'); pass forget_gate_bias=None for a net without gate biases")
            self.weight_view(theta, "b_phi")[:] = fgb
        if igb is not None:
            if not self.gate_bias:
                raise ValueError("in_gate_bias needs a bias on the gates (bias='gates', 'hidden' or 'all')")
            self.weight_view(theta, "b_in")[:] = igb
        if ogb is not None:
            if not self.output_gates:
                raise ValueError("out_gate_bias given, but the net has no output gates")
            if not self.gate_bias:
                raise ValueError("out_gate_bias needs a bias on the gates (bias='gates', 'hidden' or 'all')")
            self.weight_view(theta, "b_out")[:] = ogb
        return theta
