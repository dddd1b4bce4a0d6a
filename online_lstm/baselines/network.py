"""Topology of the competitors' networks: recurrent nets of logistic units.

The paper compares LSTM with gradient learners on conventional recurrent nets
(spec §5.0): RTRL (Williams & Zipser) on the embedded Reber grammar (Table 1,
spec §5.1) and RTRL and BPTT on Task 2a (Table 2, spec §5.2).  Both learners
in this package run on the nets described here.

Units and time
--------------
The net has ``n = n_hidden + n_out`` logistic units ``f(x) = 1/(1+e^-x)``,
hidden units first (units ``0..H-1``), then the output units
(``H..H+K-1``).  A step computes the units in that order, as the paper's
three stages do (spec §2.4): clamp ``x(t)``, compute the hidden units, then
the outputs.  Every weight reads one **source** from the source vector

    z(t) = [ x(t) (n_in) | 1 (bias) | y(t-1) (n units) | y(t) (n units) ]

so a connection either reads the previous step's activation of a unit
(recurrent, delayed by one step) or the current step's activation of a unit
computed earlier in the same step (feed-forward).  Units and the recurrent
part of ``z`` start at 0 after a reset (spec §2.5).

Architectures
-------------
``"fully_recurrent"``
    Williams & Zipser's net: every unit, outputs included, reads all inputs
    ``x(t)``, the bias (if any) and the previous activations ``y(t-1)`` of
    all ``n`` units.  Weights ``W_x`` (n, n_in), ``W_y`` (n, n), ``b`` (n,).
    With 7 inputs, 7 outputs and no bias this gives the paper's weight
    estimates for Table 1: 170 weights with 3 hidden units and 494 with 12.
``"layered"``
    One hidden layer, fully self-connected (recurrent, delayed), and
    non-recurrent output units; each layer reads all layers below it (Task
    2a, spec §5.2: "each layer is connected from all layers below").  Hidden
    unit i: ``W_hx`` (H, n_in), ``W_hh`` (H, H) reading ``y_h(t-1)``, ``b_h``.
    Output unit k: ``W_kx`` (K, n_in), ``W_kh`` (K, H) reading ``y_h(t)`` of
    the same step, ``b_k``.  With one hidden unit, ``p + 1`` inputs and
    outputs and no bias this is the Table 2 RTRL/BPTT net: ``(p + 2)^2``
    weights, 36 / 144 / 10404 for p = 4 / 10 / 100 (spec §2.8).

Storage
-------
Units form **stages** (the fully recurrent net is one stage; the layered net
has the hidden stage, then the output stage); a stage reads the current
activations of earlier stages only.  ``theta`` is stage-major, then
source-major: a **block** is one source feeding every unit of a stage, and
its weights are contiguous, so a net input is a sum of scaled rows,
``net[u0:u1] += theta[w0:w0 + (u1 - u0)] * z[s]``, taken in source order
(the same order for every unit, whichever entry point runs the step; zero
sources are skipped).  Weight w reads ``z[src[w]]``; ``uw[uw_start[u]:
uw_start[u+1]]`` lists unit u's weights in source order.
``weight_index[name]`` maps a named matrix (paper orientation: unit, source)
to positions in ``theta``.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np

ARCHITECTURES = ("fully_recurrent", "layered")

#: Most weights a net may have: its index tables are built in Python, about
#: 125 bytes and 0.5 µs per weight (4 GB and 17 s at this limit), and full
#: RTRL on it would cost O(n^4) per step anyway.
MAX_PARAMS = 2 ** 25


def weight_count(n_in, n_out, n_hidden, architecture, bias):
    """Weights of the net :class:`Network` builds from these (checked)
    arguments, counted without building it: each of the ``n_hidden + n_out``
    units reads the inputs, the bias unit if ``bias``, and every unit's
    previous output ("fully_recurrent") or the hidden units' ("layered")."""
    n = n_hidden + n_out
    return n * (n_in + int(bias) + (n if architecture == "fully_recurrent" else n_hidden))


def _positive_int(value, name, minimum=1):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


class Network:
    """Connections of a recurrent net of logistic units (see module docstring).

    Parameters
    ----------
    n_in, n_out : int
        Input units and output units.
    n_hidden : int
        Hidden units (0 allowed for ``"fully_recurrent"``: then the output
        units are the whole recurrent net).
    architecture : {"fully_recurrent", "layered"}
    bias : bool
        Whether every unit has a bias weight (from a constant-1 source).

    Attributes
    ----------
    n : int
        Units (hidden, then outputs).
    n_params : int
        Weights.
    n_z : int
        Length of the source vector ``z``: ``n_in + 1 + 2 n``.
    blocks : int64 array of shape (n_blocks, 4)
        Rows ``(source, u0, u1, w0)``: source ``z[source]`` feeds units
        ``u0..u1-1`` through weights ``w0..w0+u1-u0-1``.
    stages : int64 array of shape (n_stages, 4)
        Rows ``(u0, u1, b0, b1)``: the units of the stage and its blocks.
    uw_start, uw : int64 arrays of shapes (n + 1,) and (n_params,)
        Weights of each unit, in source order.
    src : int64 array of shape (n_params,)
    carried : int64 array of shape (n,)
        Row of unit u in RTRL's influence matrix, or -1 if no unit reads u
        (its influence is never needed at a later step or by another unit).
    n_carried : int
    weight_index : dict of str -> int64 array
        Positions in ``theta`` of each named weight matrix, shape (units,
        sources) or (units,) for biases.
    shapes : dict of str -> tuple
    unit_names : list of str
        ``h0, h1, ...`` then ``k0, k1, ...``.
    """

    def __init__(self, n_in, n_out, n_hidden=1, architecture="fully_recurrent", bias=True):
        self.n_in = m = _positive_int(n_in, "n_in")
        self.n_out = K = _positive_int(n_out, "n_out")
        if architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {ARCHITECTURES}; got {architecture!r}")
        self.architecture = architecture
        self.n_hidden = H = _positive_int(n_hidden, "n_hidden",
                                          0 if architecture == "fully_recurrent" else 1)
        if not isinstance(bias, (bool, np.bool_)):
            raise ValueError(f"bias must be True or False; got {bias!r}")
        self.bias = bool(bias)
        self.n = n = H + K
        W = weight_count(m, K, H, architecture, self.bias)
        if W > MAX_PARAMS:  # checked before the tables are built: a huge net must not eat the memory first
            raise ValueError(f"a net of n_in={m}, n_hidden={H}, n_out={K} has {W:,} weights; at most "
                             f"{MAX_PARAMS:,} are supported")
        self.n_z = m + 1 + 2 * n
        self.unit_names = [f"h{i}" for i in range(H)] + [f"k{k}" for k in range(K)]

        inputs = list(range(m))
        bias_src = [m] if self.bias else []
        prev = [m + 1 + v for v in range(n)]  # y_v(t-1)
        cur = [m + 1 + n + v for v in range(n)]  # y_v(t)
        # stages: (units, [(weight name, sources)]); a stage reads the current
        # activations of earlier stages only
        if architecture == "fully_recurrent":
            stages = [(range(n), [("W_x", inputs), ("b", bias_src), ("W_y", prev)])]
        else:
            stages = [(range(H), [("W_hx", inputs), ("b_h", bias_src), ("W_hh", prev[:H])]),
                      (range(H, n), [("W_kx", inputs), ("b_k", bias_src), ("W_kh", cur[:H])])]
        blocks, stage_rows, index, src = [], [], {}, []
        unit_w = [[] for _ in range(n)]
        for units, groups in stages:
            b0 = len(blocks)
            for name, sources in groups:
                cols = []
                for s_ in sources:  # one block: source s_ into every unit of the stage
                    w0 = len(src)
                    blocks.append((s_, units.start, units.stop, w0))
                    src.extend([s_] * len(units))
                    for u in units:
                        unit_w[u].append(w0 + u - units.start)
                    cols.append(np.arange(w0, w0 + len(units)))
                if cols:
                    index[name] = np.stack(cols, axis=1)  # (units, sources)
            stage_rows.append((units.start, units.stop, b0, len(blocks)))
        self.src = np.array(src, dtype=np.int64)
        self.n_params = len(src)
        self.blocks = np.array(blocks, dtype=np.int64).reshape(-1, 4)
        self.stages = np.array(stage_rows, dtype=np.int64)
        self.uw_start = np.cumsum([0] + [len(w) for w in unit_w]).astype(np.int64)
        self.uw = np.array([w for ws in unit_w for w in ws], dtype=np.int64)
        self.weight_index = {k: (v[:, 0] if k.startswith("b") else v) for k, v in index.items()}
        self.shapes = {k: v.shape for k, v in self.weight_index.items()}
        # units whose activation some weight reads: their influence is carried
        read = np.zeros(n, dtype=bool)
        read[(self.src[self.src > m] - (m + 1)) % n] = True
        self.carried = np.where(read, np.cumsum(read) - 1, -1).astype(np.int64)
        self.n_carried = int(read.sum())
        # RTRL forms a non-carried unit's influence from this step's rows only
        for u in np.flatnonzero(~read):
            s_ = self.src[self.uw[self.uw_start[u]:self.uw_start[u + 1]]]
            if np.any((s_ > m) & (s_ < m + 1 + n)):  # pragma: no cover - no such architecture yet
                raise ValueError(f"unit {u} is read by no unit but has a recurrent source")

    def init_theta(self, rng: np.random.Generator, init_range: float) -> np.ndarray:
        """Weights uniform in ``[-init_range, init_range]`` (spec §2.7), theta order."""
        return rng.uniform(-init_range, init_range, self.n_params)

    def ints(self):
        """The integer arrays the kernels read, in this order: ``blocks``,
        ``stages``, ``uw_start``, ``uw``, ``src``, ``carried``."""
        return (self.blocks, self.stages, self.uw_start, self.uw, self.src, self.carried)

    def __repr__(self):
        return (f"Network(n_in={self.n_in}, n_out={self.n_out}, n_hidden={self.n_hidden}, "
                f"architecture={self.architecture!r}, bias={self.bias}, n_params={self.n_params})")
