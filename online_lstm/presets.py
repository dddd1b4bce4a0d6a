"""The paper's experiments as named presets (Tables 1–11; spec §5).

A :class:`Preset` is everything needed to rerun one LSTM row of the paper's
result tables: the Table 10 architecture, weight initialisation, gate biases
and learning rate (from :data:`online_lstm.paper.TABLE10`), the task
generator and its parameters, the stopping and success rules of Table 11,
the test-set size, the paper's trial count, and the paper's figures to
compare against.

Preset ids follow Table 10 (``"1-1"`` … ``"6b"``).  Where one Table 10 row
covers several result rows, the preset id adds the row's parameters:
Table 4's three rows of task 3a are ``"3a-T100-N3"``, ``"3a-T100-N1"`` and
``"3a-T1000-N3"``; Table 8's two rows (n_seq = 140 and 13) are milestones of
the one preset ``"5"``.

The paper's competitors have presets too (:class:`Competitor`): Table 2's
RTRL rows on Task 2a (``"2a-rtrl-p4-lr1"`` … ``"2a-rtrl-p100-lr10"``, at
learning rates 1, 4 and 10), its BPTT row (``"2a-bptt-p100-lr1"`` …) and
Table 1's RTRL rows on the embedded Reber grammar (``"1-rtrl-h3"``,
``"1-rtrl-h12"``).  They run the LSTM rows' protocols on the same tasks and
form the group ``"competitors"``; ``"all"`` stays the LSTM rows.

Where the paper is silent, a preset uses the default of spec §8 and says so
in :attr:`Preset.notes`; every such choice is an option that
:meth:`Preset.with_options` can change (``online-lstm reproduce ... --set
key=value``).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from .paper import TABLE10, FrozenDict, table10_learner
from .tasks import Adding, EmbeddedReber, Multiplication, Task2a, Task2b, Task2c, TemporalOrder, TwoSequence

#: Learner arguments that :meth:`Preset.with_options` (``--set``) may change.
_LEARNER_OPTIONS = ("bias", "forget_gate", "forget_gate_bias", "g", "h", "igb_range", "in_gate_bias",
                    "init_range", "lr", "out_gate_bias", "peepholes", "update")
#: Learner options that are one real number: an int given for one (``lr=1``) becomes a float.
_REAL_LEARNER_OPTIONS = ("forget_gate_bias", "igb_range", "init_range", "lr")
#: Learner options that may be one bias per block: a list becomes a tuple and a whole float in
#: it an int (``[-1.0, -2.0]`` is ``(-1, -2)``, as the recorded runs wrote it): one options text.
_BLOCK_BIAS_OPTIONS = ("forget_gate_bias", "in_gate_bias", "out_gate_bias")


def _block_biases(v):
    """``v`` with a list or tuple of block biases in its one spelling (see _BLOCK_BIAS_OPTIONS)."""
    if not isinstance(v, (list, tuple)):
        return v
    return tuple(int(e) if type(e) is float and e.is_integer() and abs(e) < 2.0 ** 53 else e
                 for e in v)


@dataclass(frozen=True)
class PaperRow:
    """One LSTM row of the paper's result tables (Tables 1–9).

    ``None`` marks a figure the paper does not report.  ``prefix`` names
    the record columns that hold our figure for this row (``""`` for the
    trial's final stop, ``"n140_"`` for Table 8's n_seq = 140 milestone).
    ``extra`` holds further figures as ``name -> (paper value, record
    column)``, averaged over the successful trials, or ``(paper value,
    record column, "all")``, averaged over all trials.
    """

    table: str
    label: str
    success_pct: float | None = None
    mean_sequences: float | None = None
    wrong: float | None = None
    extra: dict = field(default_factory=dict)
    prefix: str = ""

    def __post_init__(self):
        object.__setattr__(self, "extra", FrozenDict(self.extra))  # (shared: read-only)


@dataclass(frozen=True)
class Competitor:
    """The net and learner of one of the paper's competitor rows (Tables 1 and 2).

    Attributes
    ----------
    method : {"RTRL", "BPTT"}
        The learner class of :mod:`online_lstm.baselines`.
    kwargs : dict (read-only)
        Its constructor arguments (net, initialisation, learning rate).
    n_weights : int
        The paper's weight count (Table 2's exact count; Table 1's estimate).
    """

    method: str
    kwargs: dict
    n_weights: int

    def __post_init__(self):
        object.__setattr__(self, "kwargs", FrozenDict(self.kwargs))  # (shared: read-only)

    def learner(self, seed=None, **changes):
        """A fresh learner of this net (``changes`` override ``kwargs``)."""
        from .baselines import BPTT, RTRL

        kw = dict(self.kwargs)
        kw.update(changes)
        return {"RTRL": RTRL, "BPTT": BPTT}[self.method](seed=seed, **kw)


@dataclass(frozen=True)
class Preset:
    """One experiment configuration of the paper.

    Attributes
    ----------
    id : str
        Preset id (``"1-5"``, ``"2c-3"``, ``"3a-T100-N1"``, ...).
    group : str
        Table 10 row family (``"1"``, ``"2a"``, ``"2c"``, ``"3a"``, ...).
    experiment : str
        ``"1"`` .. ``"6"``.
    table10 : str or None
        Table 10 row of the architecture (key of :data:`~online_lstm.paper.TABLE10`);
        None for a competitor.
    title : str
    task : type
        The :class:`~online_lstm.tasks.SequenceTask` subclass.
    task_kwargs : dict (read-only, as options, learner_changes and quick)
        Its parameters (without the seed).
    protocol : str
        Training loop and stopping rule (:mod:`online_lstm.experiments`):
        ``"reber"``, ``"streak"``, ``"st12"``, ``"st3"`` or ``"milestones"``.
    options : dict
        The protocol's parameters (thresholds, windows, check interval,
        sequence limit, test-set sizes, and spec §8 choices).
    learner_changes : dict
        Changes to the Table 10 learner arguments (e.g. ``update``).
    trials : int
        The paper's number of trials.
    paper : tuple of PaperRow
    notes : tuple of str
        Where the paper is silent and which default (spec §8) is used.
    quick : dict
        Options overridden by ``--quick`` (a small sequence budget).
    competitor : Competitor or None
        For the paper's competitor rows (RTRL, BPTT): the net and learner,
        used instead of the Table 10 LSTM.
    versus : str or None
        A competitor's LSTM preset on the same task (for the side-by-side).
    """

    id: str
    group: str
    experiment: str
    table10: str | None
    title: str
    task: type
    task_kwargs: dict
    protocol: str
    options: dict
    trials: int
    paper: tuple
    learner_changes: dict = field(default_factory=dict)
    notes: tuple = ()
    quick: dict = field(default_factory=dict)
    competitor: Competitor | None = None
    versus: str | None = None

    def __post_init__(self):
        # The presets are shared by the whole process: their dicts are
        # read-only, so that an edit by mistake fails instead of changing
        # every later trial past with_options' checks (which makes copies).
        for name in ("task_kwargs", "options", "learner_changes", "quick"):
            object.__setattr__(self, name, FrozenDict(getattr(self, name)))

    @property
    def n_weights(self) -> int:
        """The paper's weight count (Table 10; a competitor's from Tables 1 and 2)."""
        return self.competitor.n_weights if self.competitor else TABLE10[self.table10][1]

    @property
    def lr(self) -> float:
        """The learning rate of :meth:`learner`, read from the configuration
        (building a competitor's learner compiles its kernels on a fresh install)."""
        kw = self.competitor.kwargs if self.competitor else TABLE10[self.table10][0]
        return float(self.learner_changes.get("lr", kw["lr"]))

    @property
    def limit(self) -> int:
        """Training sequences after which a trial stops unsuccessful."""
        return self.options["limit"]

    def learner(self, seed=None, **changes):
        """A fresh learner of this preset's architecture.

        ``seed`` seeds its weights; ``changes`` are learner arguments that
        override the preset's (:attr:`learner_changes`).  The change
        ``igb_range=r`` (spec §8 item 6) narrows random input-gate biases
        ("r" in Table 10) to ``[-r, r]``: they are the same draws, scaled by
        ``r / init_range``, so every other weight stays the same.  The scaled
        values are passed to the learner as its ``in_gate_bias``, so they are
        part of its parameters: ``clone()``, checkpoints and ``get_params()``
        carry them.
        """
        kw = dict(self.learner_changes)
        kw.update(changes)
        if self.competitor is not None:
            return self.competitor.learner(seed=seed, **kw)
        igb_range = kw.pop("igb_range", None)
        m = table10_learner(self.table10, seed=seed, **kw)
        if igb_range is not None:
            have = ("absent" if "b_in" not in m.layout.shapes
                    else None if m.in_gate_bias is None else f"fixed at {m.in_gate_bias!r}")
            if have:
                raise ValueError(f"preset {self.id}: igb_range narrows random input-gate biases "
                                 f"(Table 10 'r'), but this net's are {have}")
            if not 0.0 < float(igb_range) <= m.init_range:
                raise ValueError(f"igb_range must be in (0, init_range = {m.init_range}], "
                                 f"got {igb_range!r}")
            b_in = m.get_weights()["b_in"] * (float(igb_range) / m.init_range)
            m = table10_learner(self.table10, seed=seed, in_gate_bias=tuple(float(b) for b in b_in), **kw)
        return m

    def make_task(self, seed=None):
        """The preset's task generator with the given stream seed."""
        return self.task(seed=seed, **self.task_kwargs)

    def with_options(self, **changes) -> "Preset":
        """A copy with changed options.

        Keys of :attr:`options` change the protocol; other keys are task
        parameters (e.g. ``targets`` for Experiment 1, or ``targets="end"``
        for 2a/2b, a diagnostic with a target at the last step only;
        ``first_pair`` for Experiments 4 and 5), or learner arguments: ``update`` (``"step"``
        or ``"sequence"``, spec §3.7), ``lr``, and, for diagnostics that
        leave the paper's net, ``bias`` (e.g. ``"all"`` adds output and cell
        biases to Experiment 1), ``init_range``, the initial gate biases
        ``in_gate_bias`` and ``out_gate_bias`` (one per block, e.g.
        ``in_gate_bias=(-3, -6)``: the other weights keep their draws), the squashing functions ``g``
        and ``h`` (e.g. ``g="g2"`` for 2a's logistic g), and the later extensions
        ``forget_gate``, ``forget_gate_bias`` and ``peepholes`` (spec §7).
        Every change is written to the records' ``options`` column.
        """
        opts, task_kw, learn = dict(self.options), dict(self.task_kwargs), dict(self.learner_changes)
        import inspect

        # seed and sets_seed come from the trial's seeds (experiments.run_trial)
        task_params = set(inspect.signature(self.task.__init__).parameters) - {"self", "seed", "sets_seed"}
        for k, v in changes.items():
            if k in opts:
                opts[k] = v = _check_protocol_option(self.id, k, v, self.options[k])
            elif k in task_params:
                task_kw[k] = v
            elif k in _LEARNER_OPTIONS:
                if k in _REAL_LEARNER_OPTIONS and type(v) is int:  # lr=1 is lr=1.0: one options text
                    v = float(v)
                if k in _BLOCK_BIAS_OPTIONS:
                    v = _block_biases(v)
                learn[k] = v
            else:
                known = sorted(opts) + sorted(task_params) + sorted(_LEARNER_OPTIONS)
                raise KeyError(f"preset {self.id} has no option {k!r}{did_you_mean(k, known)}; "
                               f"options are {known}")
        if "milestones" in opts and opts["milestones"][0] > opts["window"]:
            # "fewer than n wrong sequences in the window" holds as soon as the window fills
            raise ValueError(f"preset {self.id}: option milestones {opts['milestones']} would be met "
                             f"as soon as the window fills: the first must be at most the window "
                             f"({opts['window']} sequences)")
        if opts.get("construct") and (self.competitor is not None or "plateau_block" not in opts):
            # sequential construction holds an LSTM input gate shut until a plateau trigger fires:
            # without them a trial would fail at its start (KeyError 'plateau_block' or 'W_in')
            raise ValueError(f"preset {self.id}: option construct=True (sequential construction of "
                             f"the memory cell) needs an LSTM preset with the plateau trigger's "
                             f"options; only presets 2a and 2b have them")
        new = dataclasses.replace(self, options=opts, task_kwargs=task_kw, learner_changes=learn)
        # a bad task parameter or learner argument fails here, with the
        # task's or learner's own message, not later inside a trial
        try:
            if task_kw != self.task_kwargs or learn != self.learner_changes:
                task, net = new.make_task(seed=0), new.learner(seed=0)  # OnlineLSTM, RTRL or BPTT
                if (task.n_in, task.n_out) != (net.n_in, net.n_out):
                    raise ValueError(f"the task now has {task.n_in} inputs and {task.n_out} outputs, "
                                     f"but the preset's net has {net.n_in} and {net.n_out}; "
                                     f"options that change the task's size need another net")
        except (TypeError, ValueError) as exc:
            msg = str(exc)
            raise ValueError(msg if msg.startswith(f"preset {self.id}:") else f"preset {self.id}: {msg}") from exc
        return new

    def quick_version(self) -> "Preset":
        """The ``--quick`` version: the same rules within a small sequence budget."""
        return self.with_options(**self.quick)


def did_you_mean(name, choices) -> str:
    """`` (did you mean 'x'?)`` naming the ``choices`` closest to a mistyped
    ``name`` (case and ``_`` for ``-`` aside; a prefix such as ``3a-T100``
    names the choices it begins), or ``""`` if none is close."""
    import difflib

    by_key = {}
    for c in choices:
        by_key.setdefault(str(c).lower().replace("_", "-"), str(c))
    key = str(name).lower().replace("_", "-")
    if key in by_key:
        hits = [key]
    else:  # "3a-T100": the ids it begins, whole parts first ("3a-T100-N3", not "3a-T1000-N3")
        hits = ([k for k in by_key if k.startswith(key + "-")] or [k for k in by_key if k.startswith(key)]
                if len(key) > 1 else [])[:4]
    hits = hits or difflib.get_close_matches(key, list(by_key), n=3, cutoff=0.75)
    if not hits:
        return ""
    names = [repr(by_key[k]) for k in hits]
    said = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
    return f" (did you mean {said}?)"


#: The values each text option of the protocols takes.
_CHOICES = {"rule": ("strict", "argmax"), "where": ("all", "end"), "reading": ("start", "end"),
            "avg_error": ("mae", "mse")}
#: Count options that may be 0 (the others must be at least 1).
_MAY_BE_ZERO = ("max_wrong",)


def _check_protocol_option(pid, key, value, default):
    """``value`` as protocol option ``key`` (whose preset value is
    ``default``) takes it; ValueError unless it is of the same kind and, for
    counts and thresholds, in range.  ``--set limit=abc`` or ``limit=-5``
    would otherwise fail inside a trial, or run one that means nothing.  An
    integral float for a count (``limit=1e6``) becomes an int, and an int
    for a real (``threshold=1``) a float."""
    def bad(expected):
        return ValueError(f"preset {pid}: option {key} must be {expected}; got {value!r}")

    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise bad("True or False")
    elif isinstance(default, int):
        low = 0 if key in _MAY_BE_ZERO else 1
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # limit=1e6
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise bad(f"an integer >= {low}")
    elif isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or value <= 0:
            raise bad("a finite number > 0")
        value = float(value)  # threshold=1 is threshold=1.0: one trial, one options text in the records
    elif isinstance(default, str):
        if value not in _CHOICES.get(key, (default,)):
            raise bad(f"one of {list(_CHOICES.get(key, (default,)))}")
    elif isinstance(default, tuple):
        if not isinstance(value, tuple) or not value or any(
                isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in value):
            raise bad("a tuple of integers >= 1, e.g. (140, 13)")
        if key == "milestones" and any(a <= b for a, b in zip(value, value[1:])):
            # each is "fewer than n wrong sequences", met in turn: a later one must ask for fewer
            raise bad("decreasing, e.g. (140, 13): each milestone asks for fewer wrong sequences "
                      "than the one before")
    return value


# ---------------------------------------------------------------------------
# building blocks
# ---------------------------------------------------------------------------
_REBER_NOTES = (
    "target coding: one-hot actual next symbol (spec §8 item 12, option A); 'targets=legal' "
    "gives the multi-hot variant",
    "success test every 100 training sequences on frozen weights (§8 item 14)",
    "'correct' is strict: every legal successor's output above every illegal one (§8 item 14)",
    "weights change after every step (§8 item 11)",
    "training strings i.i.d. (duplicates allowed); test strings rejected only when equal to a "
    "training string (§8 item 17a)",
    "training exemplars drawn with replacement (Table 11's t1); 'sampling=epochs' presents the "
    "training set in a fresh random order every 256 strings",
    "input-gate biases random in [-0.2, 0.2] (§8 item 6); 'igb_range=0.1' reads Table 10's 'r' "
    "as [-0.1, 0.1]",
    "the paper gives no sequence limit; 200,000 is used (Table 1 quotes Elman's net, 0 % "
    "successful, at >200,000; RCC succeeded in 50 % of its trials, after 182,000)",
)


def _reber(row, pct, mean):
    return Preset(
        id=row, group="1", experiment="1", table10=row,
        title=f"Embedded Reber, {TABLE10[row][0]['n_blocks']} blocks of size "
              f"{TABLE10[row][0]['block_size']}, lr {TABLE10[row][0]['lr']}",
        task=EmbeddedReber, task_kwargs=dict(targets="next", distinct_test=False),
        protocol="reber",
        options=dict(limit=200_000, check_every=100, rule="strict"),
        trials=30,
        paper=(PaperRow("Table 1", f"LSTM {row}", success_pct=pct, mean_sequences=mean,
                        extra={"closing T/P right (all trials)": (None, "lag_correct", "all")}),),
        notes=_REBER_NOTES + ("30 trials = 3 train/test set pairs x 10 weight initialisations",),
        quick=dict(limit=20_000),
    )


_STREAK_NOTES = (
    "success: a streak of 10,000 successive training sequences, each scored before its own "
    "update; 'success after' counts the sequences before the streak starts, the reading that "
    "fits Table 2 (2a's mean of 5,040 is below the streak's 10,000); spec §8 item 17b's default "
    "for 2c counts to the streak's end: the table gives that count as 'success streak ends', "
    "and 'reading=end' makes it 'success after'",
    "a confirming frozen test on fresh sequences follows (wrong predictions)",
)


def _task2ab(name, cls, mean):
    where = "all" if name == "2a" else "end"
    return Preset(
        id=name, group=name, experiment="2", table10=name,
        title=f"Task {name}: {'noise-free' if name == '2a' else 'no local regularities'}, p = 100",
        task=cls, task_kwargs=dict(p=100), protocol="streak",
        options=dict(limit=5_000_000, streak=10_000, threshold=0.25, where=where, reading="start",
                     test_size=10_000, construct=True, plateau_block=100, plateau_patience=5),
        trials=18,
        paper=(PaperRow("Table 2" if name == "2a" else "§5.2 text", f"LSTM {name}, p = 100",
                        success_pct=100, mean_sequences=mean,
                        extra={"cell added at": (None, "cell_added_at"),
                               "1,000-streak ends": (None, "streak1000_end"),
                               "success streak ends": (None, "streak_end")}),),
        notes=_STREAK_NOTES + (
            "sequential construction: the net starts without its memory cell (the input gate is "
            "held shut: y_in = 0 exactly, so the cell outputs 0 and gets no gradient); the cell and "
            "gate join with fresh [-0.2, 0.2] weights when the mean error per block of 100 "
            "sequences has not fallen 1 % below the best block so far for 5 blocks in a row "
            "(spec §8 item 18)",
            "weights change after every step (§8 item 11)",
        ) + (("success needs every step's error below 0.25 ('no test set', Table 11)",)
             if name == "2a" else ("success is scored at the sequence end only",)),
        quick=dict(limit=1_000, test_size=200),
    )


_TABLE3 = [  # (row, q, p, mean sequences to success)
    ("2c-1", 50, 50, 30_000), ("2c-2", 100, 100, 31_000), ("2c-3", 200, 200, 33_000),
    ("2c-4", 500, 500, 38_000), ("2c-5", 1000, 1000, 49_000), ("2c-6", 1000, 500, 49_000),
    ("2c-7", 1000, 200, 75_000), ("2c-8", 1000, 100, 135_000), ("2c-9", 1000, 50, 203_000),
]


def _task2c(row, q, p, mean):
    return Preset(
        id=row, group="2c", experiment="2", table10=row, title=f"Task 2c, q = {q}, p = {p}",
        task=Task2c, task_kwargs=dict(q=q, p=p), protocol="streak",
        options=dict(limit=5_000_000, streak=10_000, threshold=0.2, where="end", reading="start",
                     test_size=10_000, construct=False),
        trials=20,
        paper=(PaperRow("Table 3", f"q = {q}, p = {p}", mean_sequences=mean,
                        extra={"100-streak ends": (None, "streak100_end"),
                               "1,000-streak ends": (None, "streak1000_end"),
                               "success streak ends": (None, "streak_end")}),),
        notes=_STREAK_NOTES + ("outputs code x = [1, 0], y = [0, 1] (§8 item 19)",),
        # a budget of weight-steps, so every quick 2c row costs about the same
        quick=dict(limit=max(300, 1_000_000_000 // ((q + 12) * TABLE10[row][1])),
                   test_size=500 if q < 500 else 100),
    )


_EXP3_NOTES = (
    "stopping tests every 100 training sequences on frozen weights, on one random test set "
    "of 256 sequences drawn per trial (spec §8 item 14)",
    "lengths uniform in [T, T + T/10], inclusive (§8 item 16); noise variance 0.2 (§8 item 20)",
)


def _exp3(variant, T, N, paper_row, table, lr_row):
    if variant == "c":
        opts = dict(max_wrong=0, max_error=0.015, threshold=0.1)
        extra = {"fraction misclassified": (paper_row[1], "frac_wrong"),
                 "av. difference to mean": (paper_row[2], "test_mae")}
        row = PaperRow(table, f"T = {T}, N = {N}", mean_sequences=paper_row[0], extra=extra)
    else:
        opts = dict(max_wrong=0 if variant == "a" else 5, max_error=0.01 if variant == "a" else 0.04,
                    threshold=0.2)
        extra = {"ST1 mean": (paper_row[0], "st1_sequences"),
                 "fraction misclassified": (paper_row[2], "frac_wrong")}
        row = PaperRow(table, f"T = {T}, N = {N}", mean_sequences=paper_row[1], extra=extra)
    long = T >= 1000
    return Preset(
        id=f"3{variant}-T{T}-N{N}", group=f"3{variant}", experiment="3", table10=lr_row,
        title=f"Task 3{variant}, T = {T}, N = {N}",
        task=TwoSequence, task_kwargs=dict(variant=variant, T=T, N=N), protocol="st12",
        options=dict(limit=2_000_000 if (long or variant == "c") else 1_000_000, check_every=100,
                     stop_test_size=256, test_size=2560, **opts),
        trials=10, paper=(row,),
        notes=_EXP3_NOTES + (("the target's Gaussian noise has variance 0.1; misclassified means "
                              "|output - noise-free target| > 0.1",) if variant == "c" else ())
              + ("the paper gives no sequence limit; the limit used is several times its mean",),
        quick=dict(limit=300 if long else 3_000, test_size=256),
    )


_ST3_NOTES = (
    "ST3: 'average training error' = mean over the 2000 most recent training sequences of the "
    "mean absolute end-of-sequence error ('avg_error=mse' uses the paper's E = sum_k (t_k - y_k)^2; "
    "spec §8 item 13); checked after every sequence; records hold the average when the rule holds in "
    "both readings (train_avg_mae, train_avg_E; empty for a trial that reaches its limit)",
    "each training sequence is scored before its own (end-of-sequence) update",
    "lengths uniform in [T, T + T/10], inclusive (§8 item 16)",
)


def _adding(row, T, wrong, mean, limit):
    return Preset(
        id=row, group="4", experiment="4", table10=row, title=f"Adding problem, T = {T}",
        task=Adding, task_kwargs=dict(T=T, first_pair="b"), protocol="st3",
        options=dict(limit=limit, window=2000, threshold=0.04, beta=0.01, avg_error="mae",
                     test_size=2560),
        trials=10,
        paper=(PaperRow("Table 7", f"T = {T}", wrong=wrong, mean_sequences=mean,
                        extra={"first window all correct": (None, "all_correct_sequences")}),),
        notes=_ST3_NOTES + ("a chosen first pair is marked +1 with value 0 (§8 item 15, reading b; "
                            "'first_pair=a' keeps its -1 marker)",
                            "the paper gives no sequence limit; the limit used is several times "
                            "its mean (T = 1000: its slowest run needed 2,020,000)"),
        quick=dict(limit=max(300, 3_000_000 // T), test_size=256),
    )


PRESETS: dict = {}


def _add(p: Preset):
    if p.id in PRESETS:
        raise ValueError(f"duplicate preset {p.id}")
    PRESETS[p.id] = p


for _row, _pct, _mean in [("1-1", 100, 39_740), ("1-2", 100, 21_730), ("1-3", 97, 14_060),
                          ("1-4", 97, 9_500), ("1-5", 100, 8_440)]:
    _add(_reber(_row, _pct, _mean))
_add(_task2ab("2a", Task2a, 5_040))
_add(_task2ab("2b", Task2b, 5_680))
for _row, _q, _p, _mean in _TABLE3:
    _add(_task2c(_row, _q, _p, _mean))
for _T, _N, _vals in [(100, 3, (27_380, 39_850, 0.000195)), (100, 1, (58_370, 64_330, 0.000117)),
                      (1000, 3, (446_850, 452_460, 0.000078))]:
    _add(_exp3("a", _T, _N, _vals, "Table 4", "3a"))
for _T, _N, _vals in [(100, 3, (41_740, 43_250, 0.00828)), (100, 1, (74_950, 78_430, 0.01500)),
                      (1000, 1, (481_060, 485_080, 0.01207))]:
    _add(_exp3("b", _T, _N, _vals, "Table 5", "3b"))
for _T, _N, _vals in [(100, 3, (269_650, 0.00558, 0.014)), (100, 1, (565_640, 0.00441, 0.012))]:
    _add(_exp3("c", _T, _N, _vals, "Table 6", "3c"))
_add(_adding("4-1", 100, 1, 74_000, 1_000_000))
_add(_adding("4-2", 500, 0, 209_000, 2_000_000))
_add(_adding("4-3", 1000, 1, 853_000, 5_000_000))
_add(Preset(
    id="5", group="5", experiment="5", table10="5", title="Multiplication problem, T = 100",
    task=Multiplication, task_kwargs=dict(T=100, first_pair="b"), protocol="milestones",
    options=dict(limit=5_000_000, window=2000, threshold=0.04, milestones=(140, 13),
                 test_size=2560),
    trials=10,
    paper=(PaperRow("Table 8", "n_seq = 140", wrong=139, mean_sequences=482_000,
                    extra={"MSE": (0.0223, "n140_test_mse")}, prefix="n140_"),
           PaperRow("Table 8", "n_seq = 13", wrong=14, mean_sequences=1_273_000,
                    extra={"MSE": (0.0139, "n13_test_mse")}, prefix="n13_")),
    notes=("a test of 2560 sequences runs as soon as fewer than n_seq of the 2000 most recent "
           "training sequences have absolute error above 0.04; n_seq = 140, then 13, in one run",
           "the rule is checked after every training sequence (spec §8 item 14)",
           ) + _ST3_NOTES[1:3] + (
           "MSE = mean squared end-of-sequence error on the test (the paper's column may be another "
           "measure, spec §8 item 8)",
           "a chosen first pair is marked +1 with value 1.0 (§8 item 15)",
           "the paper gives no sequence limit; 5,000,000 is used"),
    quick=dict(limit=30_000, test_size=256),
))
for _v, _wrong, _mean, _trials, _limit in [("a", 1, 31_390, 20, 1_000_000), ("b", 2, 571_100, 10, 5_000_000)]:
    _add(Preset(
        id=f"6{_v}", group=f"6{_v}", experiment="6", table10=f"6{_v}",
        title=f"Temporal order, {2 if _v == 'a' else 3} relevant symbols",
        task=TemporalOrder, task_kwargs=dict(variant=_v), protocol="st3",
        options=dict(limit=_limit, window=2000, threshold=0.3, beta=0.1, avg_error="mae",
                     test_size=2560),
        trials=_trials,
        paper=(PaperRow("Table 9", f"task 6{_v}", wrong=_wrong, mean_sequences=_mean),),
        notes=_ST3_NOTES[:2] + ("lengths uniform in [100, 110], positions 1-based inclusive "
                                "(§8 item 16)",
                                "the paper gives no sequence limit; the limit used is several "
                                "times its mean"),
        quick=dict(limit=30_000, test_size=256),
    ))

# ---------------------------------------------------------------------------
# the paper's competitors (Tables 1 and 2): group "competitors", not in "all"
# ---------------------------------------------------------------------------
_TABLE2_NET = (
    "net (spec §5.2, §2.8): one self-recurrent logistic hidden unit reading the p + 1 inputs and "
    "its own previous activation; p + 1 non-recurrent logistic output units reading the inputs "
    "and the hidden unit's activation of the same step; no biases; weights in [-0.2, 0.2]",
    "weights change after every step by lr * e * y (the paper's error convention, spec §3.1: "
    "no factor 2, so the rates compare with Table 2's)",
    "success as for LSTM's 2a: a streak of 10,000 successive training sequences with every "
    "step's error below 0.25, each scored before its own update (spec §8 item 17b); then a "
    "frozen test",
)
#: Table 2's RTRL rows: p -> {lr: (success %, mean sequences)}; p >= 10 is one row for lr 1-10
_TABLE2_RTRL = {4: {1.0: (78, 1_043_000), 4.0: (56, 892_000), 10.0: (22, 254_000)},
                10: {1.0: (0, None), 4.0: (0, None), 10.0: (0, None)},
                100: {1.0: (0, None), 4.0: (0, None), 10.0: (0, None)}}


def _lr_id(lr):
    return f"{lr:g}".replace(".", "_")


def _table2_competitor(method, p, lr, pct, mean):
    kw = dict(n_in=p + 1, n_out=p + 1, n_hidden=1, architecture="layered", bias=False,
              init_range=0.2, lr=lr)
    if method == "BPTT":
        kw["window"] = None
    rng = f"lr {lr:g}" if mean else f"lr {lr:g} (the paper's row: lr 1.0-10.0, >5,000,000)"
    notes = _TABLE2_NET
    if method == "BPTT":
        notes += ("BPTT is full within the sequence (window=None: each step's error goes back to "
                  "the sequence start, the exact gradient of that step's error); the paper does "
                  "not say how its BPTT was truncated",)
    if not mean:
        notes += ("the paper reports one row for lr 1.0-10.0 with 0 % success; presets at "
                  "lr 1, 4 and 10 (the p = 4 rates)",)
    return Preset(
        id=f"2a-{method.lower()}-p{p}-lr{_lr_id(lr)}", group=f"2a-{method.lower()}", experiment="2",
        table10=None, title=f"Task 2a, {method}, p = {p}, lr {lr:g}",
        task=Task2a, task_kwargs=dict(p=p), protocol="streak",
        options=dict(limit=5_000_000, streak=10_000, threshold=0.25, where="all", reading="start",
                     test_size=10_000, construct=False),
        trials=18,
        paper=(PaperRow("Table 2", f"{method}, p = {p}, {rng}", success_pct=pct,
                        mean_sequences=mean,
                        extra={"1,000-streak ends": (None, "streak1000_end"),
                               "success streak ends": (None, "streak_end")}),),
        notes=notes,
        quick=dict(limit={4: 20_000, 10: 10_000}.get(p, 200), test_size=1_000 if p < 100 else 100),
        competitor=Competitor(method, kw, (p + 2) ** 2), versus="2a",
    )


def _reber_rtrl(hidden, lr, mean, weights, versus):
    return Preset(
        id=f"1-rtrl-h{hidden}", group="1-rtrl", experiment="1", table10=None,
        title=f"Embedded Reber, RTRL, {hidden} hidden units, lr {lr:g}",
        task=EmbeddedReber, task_kwargs=dict(targets="next", distinct_test=False),
        protocol="reber", options=dict(limit=500_000, check_every=100, rule="strict"),
        trials=30,
        paper=(PaperRow("Table 1", f"RTRL, {hidden} hidden units, lr {lr:g} (easier task)",
                        mean_sequences=mean,
                        extra={"closing T/P right (all trials)": (None, "lag_correct", "all")}),),
        notes=(
            "the paper's RTRL figures are Smith & Zipser's (1989): 'some fraction' of trials "
            "succeeded, the mean is over the successful ones only, and the task was made easier by "
            "raising the probability of short strings; this preset runs the LSTM rows' task and "
            "protocol, so it is harder than the paper's RTRL task",
            f"Williams & Zipser's fully recurrent net: {hidden} hidden units and the 7 output units "
            f"each read the 7 inputs and every unit's previous activation; logistic units, no "
            f"biases: {weights} weights (the paper's estimate is ≈{weights}); weights in "
            "[-0.2, 0.2] (the paper does not say)",
            "RTRL's exact online gradient, weights changed after every step (spec §3.1 "
            "convention, no factor 2)",
            "the paper gives no sequence limit; 500,000 is used (about 3x its slowest RTRL mean)",
            "the paper gives no trial count for its RTRL rows; 30 is used, as for the LSTM rows",
        ) + tuple(n for n in _REBER_NOTES if "gate" not in n and "sequence limit" not in n),
        quick=dict(limit=1_000),
        competitor=Competitor("RTRL", dict(n_in=7, n_out=7, n_hidden=hidden,
                                           architecture="fully_recurrent", bias=False,
                                           init_range=0.2, lr=lr), weights),
        versus=versus,
    )


#: Ids of the LSTM presets (``reproduce all``), before the competitors join
_LSTM_IDS = list(PRESETS)
for _p, _rates in _TABLE2_RTRL.items():
    for _lr, (_pct, _mean) in _rates.items():
        _add(_table2_competitor("RTRL", _p, _lr, _pct, _mean))
for _lr in (1.0, 4.0, 10.0):
    _add(_table2_competitor("BPTT", 100, _lr, 0, None))
_add(_reber_rtrl(3, 0.05, 173_000, 170, "1-1"))
_add(_reber_rtrl(12, 0.1, 25_000, 494, "1-2"))

#: Experiment numbers and Table 10 row families, for ``reproduce <experiment>``;
#: the competitor rows form their own groups and ``"competitors"``.
GROUPS: dict = {}
for _p in PRESETS.values():
    GROUPS.setdefault(_p.group, []).append(_p.id)
    if _p.competitor is not None:
        GROUPS.setdefault("competitors", []).append(_p.id)
    elif _p.experiment != _p.group:
        GROUPS.setdefault(_p.experiment, []).append(_p.id)


def select(names) -> list:
    """Presets named by ids, groups (``"2c"``, ``"3a"``, ``"2a-rtrl"``), experiments
    (``"3"``), ``"competitors"`` or ``"all"``.

    ``"all"`` is every LSTM row of the paper (Tables 1-9); the competitor
    rows (RTRL, BPTT) are not part of it and are named by ``"competitors"``
    or their groups.  ``names`` is one such name or a list of them; an
    unknown one raises KeyError.  Returns a list of preset ids in table
    order, without repeats.
    """
    if isinstance(names, str):
        names = [names]
    chosen = []
    for name in names:
        if name == "all":
            ids = _LSTM_IDS
        elif name in PRESETS:
            ids = [name]
        elif name in GROUPS:
            ids = GROUPS[name]
        else:
            raise KeyError(f"unknown preset or experiment {name!r}"
                           f"{did_you_mean(name, [*PRESETS, *GROUPS, 'all'])}; presets: {', '.join(PRESETS)}; "
                           f"experiments and groups: {', '.join(GROUPS)}; or 'all'")
        chosen += [i for i in ids if i not in chosen]
    order = list(PRESETS)
    return sorted(chosen, key=order.index)
