"""Diagnostics behind the "rows that do not match" of REPRODUCTION.md.

    python scripts/diagnose.py reber-drift [--trial 1] [--preset 1-5] [--every 25] [--rows 12]
    python scripts/diagnose.py reber-failures [--preset 1-5] [--trial 5] [--limit 30000]
    python scripts/diagnose.py 2c-failures [--seed 0] [--sequences 60000]
    python scripts/diagnose.py 2c-trace [--preset 2c-2] [--seed 0] [--every 20000] [--rows 10]
        [--set init_range=0.1]
    python scripts/diagnose.py window-trace [--preset 4-1] [--seed 0] [--every 25000] [--rows 20]
    python scripts/diagnose.py adding-failures [--preset 4-1] [--seed 0] [--sequences 150000]
    python scripts/diagnose.py 2c-drift [--preset 2c-2] [--seeds 10] [--set init_range=0.1]
    python scripts/diagnose.py 2c-freeze [--preset 2c-2] [--seed 0] [--mode cut|cut-gates|freeze|zero|none]
        [--every 10000] [--rows 10]
    python scripts/diagnose.py cut-trials [--preset 1-5] [--what all|gates] [--trials 10] [--jobs 2]
        [--set limit=300000]
    python scripts/diagnose.py 2a-saturation [--seed 0] [--construct 1] [--open-after 1000] [--sequences 3000]
    python scripts/diagnose.py 2a-escape [--seed 2] [--every 10000] [--sequences 400000]
        [--preset 2a|2b] [--set bias=all]
    python scripts/diagnose.py plateau-blocks [--preset 2b] [--seeds 3] [--set plateau_block=30]
    python scripts/diagnose.py cell-states [--preset 5] [--seed 6] [--every 50000] [--rows 3]

Each prints a short trace of the learner's state while it trains with a
preset's own settings (plain online gradient steps, nothing changed), or,
where ``--set KEY=VALUE`` is given, with those preset options changed
(:meth:`Preset.with_options`, e.g. ``init_range=0.1``).
"""

from __future__ import annotations

import argparse
from collections import Counter

import numpy as np

from online_lstm.cli import _count, _parse_set
from online_lstm.experiments import (Plateau, Trial, _gate_shut, run_trial, sequence_sse, step_max_errors,
                                     streak_wrong)
from online_lstm.presets import PRESETS, did_you_mean
from online_lstm.tasks import Adding, EmbeddedReber, Task2c
from online_lstm.tasks.reber import SYMBOLS, correct_sequences, correct_steps



def _chunks(n, size):
    """Sizes of the chunks that train ``n`` sequences, each at most ``size``
    (the last one shorter if ``size`` does not divide ``n``)."""
    while n > 0:
        yield min(size, n)
        n -= size

def _reber_data(trial, p):
    return EmbeddedReber(seed=[trial, 1], sets_seed=[trial // 10, 3], **p.task_kwargs)


def reber_drift(a):
    """Cell states, gate biases and output weights over the first strings of a trial."""
    p = PRESETS[a.preset]
    m = p.learner(seed=a.trial)
    data = _reber_data(a.trial, p)
    b = data.train.take(0, 20)
    print(f"preset {p.id}, trial {a.trial}: max |s_c| per cell over 20 training strings")
    for i in range(a.rows):
        s = data.sample(a.every)
        out = m.learn_many(s.X, s.Y, s.resets)
        m.reset()
        states = []
        for t in range(len(b.X)):
            if b.resets[t]:
                m.reset()
            m.predict_one(b.X[t])
            states.append(m.state_["s_c"].copy())
        w = m.get_weights()
        print(f"{(i + 1) * a.every:6d} strings  mse {np.mean((out - s.Y) ** 2):.3f}  "
              f"max|s_c| {np.round(np.abs(states).max(0), 1)}  b_in {np.round(w['b_in'], 1)}  "
              f"b_out {np.round(w['b_out'], 1)}  max|W_k| {np.abs(w['W_k']).max():.1f}")


def reber_failures(a):
    """Where a trial's predictions fail the strict test after training: which
    transitions (input, legal successors) fail, how often, and the weights that
    saturate."""
    p = PRESETS[a.preset].with_options(limit=a.limit)
    rec, m = run_trial(p, a.trial, 0, return_learner=True)
    b = _reber_data(a.trial, p).train
    m.reset()
    out = m.predict_many(b.X, b.resets)
    ok = correct_steps(out, b.legal)
    pos = np.concatenate([np.arange(n) for n in b.lengths])
    print(f"{a.preset} trial {a.trial}: success {rec['success']} after {rec['sequences']:,}; strings right "
          f"{correct_sequences(out, b).mean():.2f}; closing T/P right {ok[b.ends - 1].mean():.2f}")
    bad = np.flatnonzero(~ok)
    ends = set(b.ends - 1)
    where = Counter(("first step" if pos[t] == 0 else "closing T/P" if t in ends
                     else "other") for t in bad)
    print(f"failing steps: {len(bad)} of {len(ok)}:", dict(where))
    inp = b.X.argmax(axis=1)
    kinds = Counter((SYMBOLS[inp[t]], "".join(SYMBOLS[i] for i in np.flatnonzero(b.legal[t])))
                    for t in bad)
    for (x, legal), n in kinds.most_common(6):
        print(f"  after input {x} (legal: {legal}): {n} failing steps")
    for t in bad[:5]:
        outs = {c: round(float(v), 2) for c, v in zip(SYMBOLS, out[t])}
        legal = [SYMBOLS[i] for i in np.flatnonzero(b.legal[t])]
        print(f"  input {SYMBOLS[int(b.X[t].argmax())]} at step {pos[t]}: outputs {outs}, legal {legal}")
    w = m.get_weights()
    print(f"  max |W_k| {np.abs(w['W_k']).max():.1f}; output-gate biases {np.round(w['b_out'], 2)}; "
          f"input-gate biases {np.round(w['b_in'], 2)}")


def c2_failures(a):
    """Which 2c-1 sequences a trained net still gets wrong (frozen test of 20,000)."""
    p = PRESETS["2c-1"]
    m = p.learner(seed=a.seed)
    task = p.make_task(seed=[a.seed, 1])
    for k in _chunks(a.sequences, 1000):
        b = task.sample(k)
        m.learn_many(b.X, b.Y, b.resets)
    test = Task2c(50, 50, seed=[a.seed, 3]).sample(20_000)
    m.reset()
    o = m.predict_many(test.X, test.resets)[test.ends]
    bad = ~np.all(np.abs(o - test.target) < 0.2, axis=1)
    L = test.lengths
    print(f"after {a.sequences:,} sequences: {bad.sum()} of 20,000 wrong ({bad.mean():.4f}); "
          f"class x among the wrong: {np.mean(test.target[bad, 0] == 1) if bad.any() else float('nan'):.2f}")
    for lo, hi in [(53, 60), (60, 70), (70, 90), (90, 400)]:
        sel = (L >= lo) & (L < hi)
        print(f"  length {lo}-{hi - 1}: {sel.sum():6d} sequences, wrong {bad[sel].mean():.4f}")
    if bad.any():
        print("  errors of the wrong ones:", np.round(np.abs(o - test.target)[bad][:8, 0], 2))


def _preset(a):
    """The preset named by ``--preset``, with the ``--set`` changes (parsed as the CLI does)."""
    return PRESETS[a.preset].with_options(**_parse_set(a.set))


def _first_recurrent(m, gates_only=False):
    """First column of W_c fed by a recurrent source: the sources are
    z = [x | y_c | y_in | y_out] of t-1 (kernels._forward); with
    ``gates_only`` the first of y_in."""
    return m.layout.n_in + (m.layout.n_cells if gates_only else 0)


def c2_trace(a):
    """A 2c trial's gates, states and weights as it trains (frozen test of 1,000 every so often)."""
    p = _preset(a)
    m = p.learner(seed=a.seed)
    task = p.make_task(seed=[a.seed, 1])
    test = p.make_task(seed=[a.seed, 2]).sample(1000)
    chunk = max(1, min(1000, 2_000_000 // (int(task.mean_length) * task.n_in)))  # memory bound
    for i in range(a.rows):
        for k in _chunks(a.every, chunk):
            b = task.sample(k)
            m.learn_many(b.X, b.Y, b.resets)
        m.reset()
        y_out, s_c = [], []
        for t in range(len(test.X[:5000])):  # the first ~40 test sequences, step by step
            if test.resets[t]:
                m.reset()
            m.predict_one(test.X[t])
            st = m.state_
            y_out.append(st["y_out"])
            s_c.append(st["s_c"])
        m.reset()
        o = m.predict_many(test.X, test.resets)[test.ends]
        w = m.get_weights()
        print(f"{(i + 1) * a.every:8d}  right {np.mean(np.all(np.abs(o - test.target) < 0.2, 1)):.3f}  "
              f"mae {np.mean(np.abs(o - test.target)):.3f}  mean y_out {np.round(np.mean(y_out, 0), 3)}  "
              f"max|s_c| {np.round(np.abs(s_c).max(0), 1)}  max|W_out| {np.abs(w['W_out']).max():.1f}  "
              f"W_k {np.round(w['W_k'].ravel(), 2)}", flush=True)


def c2_freeze(a):
    """A 2c trial with the cells' weights from the recurrent sources (y_c, y_in,
    y_out of t-1) held fixed: at their initial values (``--mode freeze``), or
    at 0 (``--mode cut``; ``--mode cut-gates`` holds only those from the gates,
    y_in and y_out, at 0); or started at 0 and learned as usual (``--mode
    zero``); ``--mode none`` changes nothing.  Not the paper's net or
    learning rule: a diagnostic of where the internal-state drift comes from.

    2c has one weight change per sequence, at its end, so putting the held
    weights back after every sequence holds them exactly.
    """
    p = _preset(a)
    m = p.learner(seed=a.seed)
    task = p.make_task(seed=[a.seed, 1])
    test = p.make_task(seed=[a.seed, 2]).sample(1000)
    first = _first_recurrent(m, gates_only=a.mode == "cut-gates")
    held = m.get_weights()["W_c"][:, first:].copy()
    if a.mode != "freeze":
        held[:] = 0.0
    holding = a.mode in ("cut", "cut-gates", "freeze")

    def put_back():
        W_c = m.get_weights()["W_c"]
        W_c[:, first:] = held
        m.set_weights(W_c=W_c)  # keeps the learner's magnitude bound right

    if a.mode == "zero":  # start at 0, then learn: nothing is held
        put_back()
    for i in range(a.rows):
        for k in _chunks(a.every, 100):
            b = task.sample(k)
            for s, e in zip(b.starts, b.ends):
                if holding:
                    put_back()
                m.learn_many(b.X[s:e + 1], b.Y[s:e + 1], b.resets[s:e + 1])
        if holding:
            put_back()
        m.reset()
        o = m.predict_many(test.X, test.resets)
        s_end = []
        for s, e in zip(test.starts[:50], test.ends[:50]):
            m.reset()
            m.predict_many(test.X[s:e + 1])
            s_end.append(np.abs(m.state_["s_c"]))
        m.reset()
        right = np.mean(np.all(np.abs(o[test.ends] - test.target) < 0.2, axis=1))
        print(f"{(i + 1) * a.every:8d}  frozen test right {right:.3f}  "
              f"mae {np.mean(np.abs(o[test.ends] - test.target)):.3f}  "
              f"end |s_c| mean {np.mean(s_end):5.2f} max {np.max(s_end):5.1f}", flush=True)


def _cut_trial(job):
    """One trial of a preset (the runner's own protocol and success test) in
    which the cells get nothing from the recurrent sources: their weights from
    y_c, y_in and y_out of t-1 (``what="all"``), or only from y_in and y_out
    (``what="gates"``), are 0 at the start and put back to 0 after every
    step, so no step ever reads them.  ``learn_many`` becomes a loop of
    ``learn_one`` for that; nothing else changes."""
    from online_lstm.experiments import _PROTOCOLS, Trial

    preset_id, trial, changes, what = job
    p = PRESETS[preset_id].with_options(**changes)
    t = Trial(p, trial, 0)
    m = t.m
    W_c = m.layout.weight_view(m._theta, "W_c")  # (cells, sources), a view into the weights
    first = _first_recurrent(m, gates_only=what == "gates")
    W_c[:, first:] = 0.0  # only lowers |w|: the learner's magnitude bound stays valid

    def learn_many(X, Y, resets=None, *, out=None):
        out = np.empty((len(X), m.layout.n_out)) if out is None else out
        for k in range(len(X)):
            if resets is not None and resets[k]:
                m.reset()
            m.learn_one(X[k], Y[k], out=out[k])
            W_c[:, first:] = 0.0
        return out

    m.learn_many = learn_many
    return _PROTOCOLS[p.protocol](t)


def cut_trials(a):
    """Trials with the cells' recurrent inputs cut (see _cut_trial); a
    diagnostic off the paper's net.  Prints one line per trial and the rate."""
    import multiprocessing as mp

    changes = _parse_set(a.set)
    PRESETS[a.preset].with_options(**changes)  # validates --set here, before any worker starts
    jobs = [(a.preset, k, changes, a.what) for k in range(a.trials)]
    with mp.get_context("spawn").Pool(a.jobs) as pool:
        recs = pool.map(_cut_trial, jobs)
    for r in recs:
        more = ""
        if "lag_correct" in r:
            more = (f", closing T/P right {r['lag_correct']:.2f}, wrong strings: training "
                    f"{r['train_wrong']}, test {r['wrong']}")
        elif "streak_end" in r:
            more = f", streak ends {r['streak_end']}, test wrong {r.get('wrong')} of {r.get('test_size')}"
        print(f"trial {r['trial']}: success {r['success']}, sequences {r['sequences']}{more}", flush=True)
    ok = [r for r in recs if r["success"]]
    mean = np.mean([r["sequences"] for r in ok]) if ok else float("nan")
    print(f"{a.preset}, cells' recurrent inputs cut ({a.what}): {len(ok)} of {len(recs)} trials "
          f"succeed; mean sequences to success {mean:,.0f}")


def window_trace(a):
    """An ST3 preset's training scores: share of sequences correct and mean |error| per block."""
    p = PRESETS[a.preset]
    m = p.learner(seed=a.seed)
    task = p.make_task(seed=[a.seed, 1])
    thr = p.options["threshold"]
    for i in range(a.rows):
        ok, err = [], []
        for k in _chunks(a.every, 1000):
            b = task.sample(k)
            out = m.learn_many(b.X, b.Y, b.resets)
            e = np.abs(out[b.ends] - b.Y[b.ends])
            ok.append(np.all(e < thr, axis=1))
            err.append(e.mean(axis=1))
        ok, err = np.concatenate(ok), np.concatenate(err)
        w = m.get_weights()
        print(f"{(i + 1) * a.every:8d}  correct {ok.mean():.4f}  mean|err| {err.mean():.4f}  "
              f"90% |err| {np.percentile(err, 90):.4f}  b_in {np.round(w['b_in'], 2) if 'b_in' in w else '-'}  "
              f"max|W| {max(np.abs(v).max() for v in w.values()):.1f}", flush=True)


def adding_failures(a):
    """Which adding-problem sequences a trained 4-1 net gets wrong (frozen test of 20,000)."""
    p = PRESETS[a.preset]
    m = p.learner(seed=a.seed)
    task = p.make_task(seed=[a.seed, 1])
    for k in _chunks(a.sequences, 1000):
        b = task.sample(k)
        m.learn_many(b.X, b.Y, b.resets)
    test = p.make_task(seed=[a.seed, 3]).sample(20_000)
    m.reset()
    o = m.predict_many(test.X, test.resets)[test.ends, 0]
    err = np.abs(o - test.target[:, 0])
    bad = err >= p.options["threshold"]
    first = test.X[test.starts, 1] == 1.0  # the first pair was chosen (reading b: marked +1)
    marks = [np.flatnonzero(test.X[s:e + 1, 1] == 1.0) for s, e in zip(test.starts, test.ends)]
    gap = np.array([mk[1] - mk[0] if len(mk) == 2 else -1 for mk in marks])
    dev = np.abs(test.target[:, 0] - 0.5)
    print(f"after {a.sequences:,} sequences: {bad.sum()} of 20,000 wrong; mean |err| {err.mean():.4f}")
    for name, sel in [("first pair chosen", first), ("first pair not chosen", ~first),
                      ("|target - 0.5| > 0.4", dev > 0.4), ("|target - 0.5| <= 0.4", dev <= 0.4),
                      ("markers adjacent", gap == 1), ("markers apart", gap > 1)]:
        print(f"  {name:24s} {sel.sum():6d} sequences, wrong {bad[sel].mean():.4f}")


def c2_drift(a):
    """Cell states at the end of 2c sequences at initialisation, with and without the
    recurrent (cell and gate) inputs to the cells."""
    p = _preset(a)
    n_in = p.make_task().n_in
    for cut in (False, True):
        ends = []
        for seed in range(a.seeds):
            m = p.learner(seed=seed)
            if cut:
                Wc = m.get_weights()["W_c"]
                Wc[:, n_in:] = 0.0  # sources after the inputs: y_c, y_in, y_out of t-1
                m.set_weights(W_c=Wc)
            b = p.make_task(seed=[seed, 9]).sample(20)
            for s, e in zip(b.starts, b.ends):
                m.reset()
                for t in range(s, e + 1):
                    m.predict_one(b.X[t])
                ends.append(np.abs(m.state_["s_c"]))
        ends = np.array(ends)
        print(f"{p.id}, {a.seeds} initialisations x 20 sequences, "
              f"{'recurrent inputs to the cells cut' if cut else 'as initialised':34s}: "
              f"|s_c| at the end: mean {ends.mean():.2f}, max {ends.max():.2f}")


def a2_saturation(a):
    """Task 2a with the preset's architecture: output saturation after the cell joins."""
    p = PRESETS["2a"]
    m = p.learner(seed=a.seed)
    task = p.make_task(seed=[a.seed, 1])
    saved = _gate_shut(m, True) if a.construct else None
    for i in range(a.sequences // 100):
        if saved is not None and i == a.open_after // 100:
            saved = _gate_shut(m, False, saved)
            print(f"--- cell and input gate join after {a.open_after} sequences")
        b = task.sample(100)
        out = m.learn_many(b.X, b.Y, b.resets)
        w = m.get_weights()
        if i % 5 == 0:
            print(f"{(i + 1) * 100:6d}  error/sequence {sequence_sse(out, b).mean():7.3f}  "
                  f"all steps < 0.25: {np.mean(step_max_errors(out, b) < 0.25):.2f}  "
                  f"s_c at the end {m.state_['s_c'][0]:6.2f}  "
                  f"W_k[x|y, cell] {np.round(w['W_k'][[99, 100], 0], 2)}  "
                  f"final-step error {np.abs(out[b.ends] - b.Y[b.ends]).max(1).mean():.2f}")


def a2_escape(a):
    """Task 2a, the runner's own trial (weights, stream, chunks, construction):
    what changes on the way from chance to the long-lag solution.  Every
    ``every`` sequences, on a copy of the state (the trial itself is not
    touched): the share of the last ``every`` training sequences with every
    output error < 0.25, the longest such streak so far; for the two classes
    (first symbol x or y), the cell state and the x/y outputs at the last
    step; the input gate f(w_in) and the cell input g(w_c) for the inputs x,
    y and the distractors; and the weights from the cell and from a_{p-1} to
    the x/y outputs."""
    p = _preset(a)
    o = p.options
    t = Trial(p, 0, a.seed)  # as trial 0 of ``reproduce 2a --seed S``
    task = p.make_task(seed=[t.data_seed, 1])
    chunk = t.chunk(task)
    wrong = streak_wrong(o)  # the runner's test: every step (2a), or the last one (2b)
    n = task.n_in  # p + 1
    kx, ky, last = n - 2, n - 1, n - 3  # x = a_p, y = a_{p+1}, a_{p-1}
    cols = t.m.layout.output_source_names
    kc, kl = cols.index("y_c[0,0]"), cols.index(f"x[{last}]")  # W_k columns
    eye = np.eye(n)
    probes = {c: eye[[c] + list(range(n - 2))] for c in (kx, ky)}  # (c, a_1 .. a_{p-1})
    f = lambda v: 1.0 / (1.0 + np.exp(-np.maximum(v, -700.0)))  # noqa: E731  (f and g: logistic in 2a)
    saved = _gate_shut(t.m, True)
    plateau = Plateau.of(o)
    carry = best = right = prev = 0
    next_row = a.every
    print(f"seed {a.seed}: columns: sequences, share right, longest streak | s_c at the end (x, y) | "
          "last-step y_x, y_y for class x; for class y | f(w_in) x, y, distractors mean (min, max) | "
          "g(w_c) x, y, distractors mean | W_k[x|y, cell], W_k[x|y, a_p-1]")
    while t.seen < a.sequences:
        b = task.sample(min(chunk, o["plateau_block"]) if saved is not None else chunk)
        out = t.train(b)
        ok = ~wrong(out, b)
        right += int(ok.sum())
        for v in ok:
            carry = carry + 1 if v else 0
            best = max(best, carry)
        if saved is not None and plateau.add(sequence_sse(out, b)):
            saved = _gate_shut(t.m, False, saved)
            print(f"--- the cell joins after {t.seen:,} sequences")
            carry = best = 0
        if t.seen < next_row:
            continue
        snap = t.snapshot()
        ends, last_y = [], []
        for c in (kx, ky):
            t.m.reset()
            y = t.m.predict_many(probes[c])
            ends.append(t.m.state_["s_c"][0])
            last_y.append(y[-1, [kx, ky]])
        t.restore(snap)
        w = t.m.get_weights()
        gin = f(w["W_in"][0] + w.get("b_in", [0.0])[0])  # the gate when that input is on
        gc = f(w["W_c"][0] + w.get("b_c", [0.0])[0])
        dist = slice(0, n - 2)
        print(f"{t.seen:9,d} {right / (t.seen - prev):5.3f} {best:6d} | "
              f"{ends[0]:6.2f} {ends[1]:6.2f} | {last_y[0][0]:.2f} {last_y[0][1]:.2f}; "
              f"{last_y[1][0]:.2f} {last_y[1][1]:.2f} | {gin[kx]:.3f} {gin[ky]:.3f} "
              f"{gin[dist].mean():.3f} ({gin[dist].min():.3f}, {gin[dist].max():.3f}) | "
              f"{gc[kx]:.2f} {gc[ky]:.2f} {gc[dist].mean():.2f} | "
              f"{w['W_k'][kx, kc]:6.2f} {w['W_k'][ky, kc]:6.2f} {w['W_k'][kx, kl]:6.2f} "
              f"{w['W_k'][ky, kl]:6.2f}", flush=True)
        right, prev = 0, t.seen
        next_row += a.every


def plateau_blocks(a):
    """2a/2b before the cell joins: each block's mean error and the runner's
    plateau test (``*`` marks a block that did not improve on the best by the
    preset's ``plateau_tol``, 1 % by default), per seed."""
    p = _preset(a)
    for seed in range(a.seeds):
        t = Trial(p, 0, seed)  # the runner's weights and stream for trial 0, seed ``seed``
        task = p.make_task(seed=[t.data_seed, 1])
        _gate_shut(t.m, True)
        test = Plateau.of(p.options)
        while t.seen < p.limit:
            b = task.sample(test.block)
            if test.add(sequence_sse(t.train(b), b)):
                break
        marks = [f"{e:.3f}" + ("" if up else "*") for e, up in zip(test.means, test.improved)]
        print(f"seed {seed}: cell joins after {t.seen:,} sequences; block means {' '.join(marks)}")


def cell_states(a):
    """Internal state drift in any preset's trial (the runner's weights and
    stream for weight seed ``--seed``): every ``--every`` training sequences,
    the largest |s_c| of each cell over 20 frozen test sequences, h'(s_c)
    there, the mean output-gate activation and the output weights.  The
    probes run on a copy of the state; the trial goes on untouched."""
    p = _preset(a)
    t = Trial(p, 0, a.seed)
    task = p.make_task(seed=[t.data_seed, 1])
    probe = p.make_task(seed=[t.data_seed, 9]).sample(20)
    print(f"{p.id}, seed {a.seed}: max |s_c| per cell over 20 test sequences; h' there; "
          "mean y_out per block; W_k")
    for _ in range(a.rows):
        t.train(task.sample(a.every))
        snap = t.snapshot()
        t.m.reset()
        smax, yout = 0.0, []
        for x, first in zip(probe.X, probe.resets):
            if first:
                t.m.reset()
            t.m.predict_one(x)
            smax = np.maximum(smax, np.abs(t.m.state_["s_c"]).ravel())
            yout.append(np.ravel(t.m.state_["y_out"]))
        t.restore(snap)
        dh = 2 * np.exp(-smax) / (1 + np.exp(-smax)) ** 2  # h(x) = 2 f(x) - 1: h' = 2 f (1 - f)
        print(f"{t.seen:9,d}  max|s_c| {np.round(smax, 1)}  h' {' '.join(f'{v:.1e}' for v in dh)}  "
              f"y_out {np.round(np.mean(yout, axis=0), 2)}  W_k {np.round(t.m.get_weights()['W_k'].ravel(), 2)}",
              flush=True)


#: integer options that may be 0 (every other is a count >= 1: --every 0 or --rows -5 printed
#: nonsense rows or crashed deep in the task)
_FROM_ZERO = ("seed", "trial", "open_after")


def _subcommand(sub, name, func, choices=None, **defaults):
    """Add subcommand ``name``: one ``--key`` option per default (its type is the
    default's; ``set=[]`` is the repeatable ``--set KEY=VALUE``)."""
    s = sub.add_parser(name)
    for key, default in defaults.items():
        flag = "--" + key.replace("_", "-")
        if key == "set":
            s.add_argument(flag, action="append", default=[], metavar="KEY=VALUE")
        elif choices and key in choices:
            s.add_argument(flag, choices=choices[key], default=default)
        elif type(default) is int:  # seeds and trial numbers from 0, a flag 0/1, counts from 1
            kind = _count(0, 1) if key == "construct" else _count(0) if key in _FROM_ZERO else _count(1)
            s.add_argument(flag, type=kind, default=default)
        else:
            s.add_argument(flag, type=type(default), default=default)
    s.set_defaults(func=func)


def _lstm(p) -> bool:
    """An LSTM preset: every subcommand reads the LSTM's cells, gates and weights,
    which the competitors' nets (RTRL, BPTT) do not have."""
    return p.competitor is None


#: subcommand -> (does a preset fit it, what fits): the others take any LSTM preset.  A preset of
#: another task failed deep in the run with a TypeError, KeyError or ValueError traceback, or
#: (adding-failures) printed rows about markers its task does not have
_FITS = {
    "reber-drift": (lambda p: _lstm(p) and p.task is EmbeddedReber, "an LSTM preset of Experiment 1"),
    "reber-failures": (lambda p: _lstm(p) and p.task is EmbeddedReber, "an LSTM preset of Experiment 1"),
    "window-trace": (lambda p: _lstm(p) and "threshold" in p.options,
                     "an LSTM preset with an error threshold (any but Experiment 1's)"),
    "adding-failures": (lambda p: _lstm(p) and p.task is Adding, "a preset of Experiment 4 (adding)"),
    "2a-escape": (lambda p: _lstm(p) and "plateau_block" in p.options, "a preset of task 2a or 2b"),
    "plateau-blocks": (lambda p: _lstm(p) and "plateau_block" in p.options, "a preset of task 2a or 2b"),
}


def _misfit(cmd, preset) -> str | None:
    """Why ``--preset`` does not fit subcommand ``cmd``, or None."""
    fits, what = _FITS.get(cmd, (_lstm, "an LSTM preset, not a competitor's (RTRL, BPTT)"))
    if fits(PRESETS[preset]):
        return None
    ok = [i for i, p in PRESETS.items() if fits(p)]
    listed = f" ({', '.join(ok)})" if len(ok) <= 10 else ""  # else online-lstm list shows them
    return f"{cmd} needs {what}{listed}; got --preset {preset}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    _subcommand(sub, "reber-drift", reber_drift, trial=1, preset="1-5", every=25, rows=12)
    _subcommand(sub, "reber-failures", reber_failures, preset="1-5", trial=5, limit=30_000)
    _subcommand(sub, "2c-failures", c2_failures, seed=0, sequences=60_000)
    _subcommand(sub, "2c-trace", c2_trace, preset="2c-2", seed=0, every=20_000, rows=10, set=[])
    _subcommand(sub, "2c-freeze", c2_freeze,
                choices={"mode": ("cut", "cut-gates", "freeze", "zero", "none")},
                preset="2c-2", seed=0, mode="cut", every=10_000, rows=10, set=[])
    _subcommand(sub, "cut-trials", cut_trials, choices={"what": ("all", "gates")},
                preset="1-5", what="all", trials=10, jobs=2, set=[])
    _subcommand(sub, "window-trace", window_trace, preset="4-1", seed=0, every=25_000, rows=20)
    _subcommand(sub, "adding-failures", adding_failures, preset="4-1", seed=0, sequences=150_000)
    _subcommand(sub, "2c-drift", c2_drift, preset="2c-2", seeds=10, set=[])
    _subcommand(sub, "2a-saturation", a2_saturation, seed=0, construct=1, open_after=1000,
                sequences=3000)
    _subcommand(sub, "2a-escape", a2_escape, preset="2a", seed=2, every=10_000, sequences=400_000,
                set=[])
    _subcommand(sub, "plateau-blocks", plateau_blocks, preset="2b", seeds=3, set=[])
    _subcommand(sub, "cell-states", cell_states, preset="5", seed=6, every=50_000, rows=3, set=[])
    args = ap.parse_args(argv)
    preset = getattr(args, "preset", None)
    if preset is not None and preset not in PRESETS:  # else a KeyError traceback
        ap.error(f"unknown preset {preset!r}{did_you_mean(preset, PRESETS)}")
    if preset is not None and _misfit(args.cmd, preset):  # before any training
        ap.error(_misfit(args.cmd, preset))
    try:
        if preset is not None:
            PRESETS[preset].with_options(**_parse_set(getattr(args, "set", [])))
    except (KeyError, ValueError) as exc:  # a bad --set: a message, not a traceback
        ap.error(exc.args[0])
    args.func(args)


if __name__ == "__main__":
    main()
