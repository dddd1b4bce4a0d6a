"""The paper's Table 10 architectures as learner configurations (spec §5.7).

Each entry holds the :class:`~online_lstm.OnlineLSTM` keyword arguments that
reproduce one row of Table 10 (architecture, weight initialisation, initial
gate biases, learning rate), plus the weight count the paper reports.  The
experiment presets (stopping rules, test sets, trial counts) build on these.
The rows are shared by the whole process and read-only (:class:`FrozenDict`,
as are the presets' dicts): ``dict(TABLE10[row][0])`` is a copy to change,
and :func:`table10_learner` takes changes as keyword arguments.

Where Table 10 says "r" for a gate bias, the bias is random like every other
weight (``None``).  Experiment 1's "r" uses the experiment's [-0.2, 0.2]
range (spec §8 item 6).
"""

from __future__ import annotations


class FrozenDict(dict):
    """A dict that refuses changes.

    The Table 10 rows and the experiment presets are shared by every caller
    in the process: an edit made by mistake (``PRESETS["1-5"].options["limit"]
    = 100``) would silently change every later trial and record, past the
    checks of :meth:`~online_lstm.presets.Preset.with_options`.  Copy one to
    change it (``dict(d)``), or use ``with_options``.  It pickles, compares
    and serialises (JSON) as the dict it is.
    """

    __slots__ = ()

    def _refuse(self, *args, **kwargs):
        raise TypeError("this dict is read-only (a preset's or a Table 10 row's, shared by the whole "
                        "process, or a copy of one made by dataclasses.asdict or copy); copy it with "
                        "dict(...) to change it, or use Preset.with_options")

    __setitem__ = __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self):  # (pickle would fill the copy through __setitem__)
        return type(self), (dict(self),)

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        import copy

        return type(self)(copy.deepcopy(dict(self), memo))

_EXP1 = dict(n_in=7, n_out=7, output_gates=True, connectivity="F", bias="gates",
             g="g2", h="h1", init_range=0.2, in_gate_bias=None)
_EXP2AB = dict(n_in=101, n_out=101, n_blocks=1, block_size=1, output_gates=False,
               connectivity="B", bias="none", g="g1", h="id", init_range=0.2, lr=1.0)
_EXP3 = dict(n_in=1, n_out=1, n_blocks=3, block_size=1, output_gates=True, connectivity="F",
             bias="hidden", g="g2", h="h1", init_range=0.1,
             in_gate_bias=(-1.0, -3.0, -5.0), out_gate_bias=(-2.0, -4.0, -6.0))
_EXP45 = dict(n_in=2, n_out=1, n_blocks=2, block_size=2, output_gates=True, connectivity="F",
              bias="all", g="g2", h="h1", init_range=0.1)


def _exp2c(p):
    return dict(n_in=p + 4, n_out=2, n_blocks=2, block_size=1, output_gates=True,
                connectivity="F", bias="none", g="g2", h="h1", init_range=0.2, lr=0.01)


#: Table 10: row id -> (learner keyword arguments, the paper's weight count)
TABLE10 = {
    "1-1": (dict(_EXP1, n_blocks=4, block_size=1, out_gate_bias=(-1, -2, -3, -4), lr=0.1), 264),
    "1-2": (dict(_EXP1, n_blocks=3, block_size=2, out_gate_bias=(-1, -2, -3), lr=0.1), 276),
    "1-3": (dict(_EXP1, n_blocks=3, block_size=2, out_gate_bias=(-1, -2, -3), lr=0.2), 276),
    "1-4": (dict(_EXP1, n_blocks=4, block_size=1, out_gate_bias=(-1, -2, -3, -4), lr=0.5), 264),
    "1-5": (dict(_EXP1, n_blocks=3, block_size=2, out_gate_bias=(-1, -2, -3), lr=0.5), 276),
    "2a": (dict(_EXP2AB), 10504),
    "2b": (dict(_EXP2AB), 10504),
    "2c-1": (_exp2c(50), 364),
    "2c-2": (_exp2c(100), 664),
    "2c-3": (_exp2c(200), 1264),
    "2c-4": (_exp2c(500), 3064),
    "2c-5": (_exp2c(1000), 6064),
    "2c-6": (_exp2c(500), 3064),
    "2c-7": (_exp2c(200), 1264),
    "2c-8": (_exp2c(100), 664),
    "2c-9": (_exp2c(50), 364),
    "3a": (dict(_EXP3, lr=1.0), 102),
    "3b": (dict(_EXP3, lr=1.0), 102),
    "3c": (dict(_EXP3, lr=0.1), 102),
    "4-1": (dict(_EXP45, in_gate_bias=(-3.0, -6.0), lr=0.5), 93),
    "4-2": (dict(_EXP45, in_gate_bias=(-3.0, -6.0), lr=0.5), 93),
    "4-3": (dict(_EXP45, in_gate_bias=(-3.0, -6.0), lr=0.5), 93),
    "5": (dict(_EXP45, lr=0.1), 93),
    "6a": (dict(n_in=8, n_out=4, n_blocks=2, block_size=2, output_gates=True, connectivity="F",
                bias="all", g="g2", h="h1", init_range=0.1, in_gate_bias=(-2.0, -4.0), lr=0.5), 156),
    "6b": (dict(n_in=8, n_out=8, n_blocks=3, block_size=2, output_gates=True, connectivity="F",
                bias="all", g="g2", h="h1", init_range=0.1, in_gate_bias=(-2.0, -4.0, -6.0),
                lr=0.1), 308),
}
TABLE10 = {row: (FrozenDict(kw), n) for row, (kw, n) in TABLE10.items()}  # (shared: read-only)


def table10_learner(row: str, seed=None, **changes):
    """A fresh learner for Table 10 row ``row`` (e.g. ``"1-5"``, ``"2c-3"``).

    ``seed`` seeds the weights; ``changes`` override the row's
    :class:`~online_lstm.OnlineLSTM` arguments.  An unknown row raises KeyError.
    """
    from .learner import OnlineLSTM

    if row not in TABLE10:
        raise KeyError(f"unknown Table 10 row {row!r}; rows are {list(TABLE10)}")
    kwargs = dict(TABLE10[row][0])
    kwargs.update(changes)
    return OnlineLSTM(seed=seed, **kwargs)
