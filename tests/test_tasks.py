"""Invariants of the task generators (spec §5): every sequence is checked
against the task description, read back from the arrays the learner sees."""

import numpy as np
import pytest

from online_lstm.tasks import (
    Adding, Batch, EmbeddedReber, Multiplication, Task2a, Task2b, Task2c, TemporalOrder, TwoSequence,
)
from online_lstm.tasks import reber

ALL_TASKS = [
    lambda s: EmbeddedReber(seed=s),
    lambda s: Task2a(p=10, seed=s),
    lambda s: Task2b(p=10, seed=s),
    lambda s: Task2c(q=20, p=7, seed=s),
    lambda s: TwoSequence("a", T=30, N=3, seed=s),
    lambda s: TwoSequence("b", T=30, N=1, seed=s),
    lambda s: TwoSequence("c", T=30, N=3, seed=s),
    lambda s: Adding(T=40, seed=s),
    lambda s: Multiplication(T=40, seed=s),
    lambda s: TemporalOrder("a", seed=s),
    lambda s: TemporalOrder("b", seed=s),
]


def sequences(batch: Batch):
    """Split a batch into per-sequence (X, Y) pairs."""
    for a, b in zip(batch.starts, batch.ends + 1):
        yield batch.X[a:b], batch.Y[a:b]


# ---------------------------------------------------------------------------
# every generator
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("make", ALL_TASKS)
def test_batch_layout(make):
    task = make(0)
    b = task.sample(40)
    T = len(b.X)
    assert b.X.shape == (T, task.n_in) and b.Y.shape == (T, task.n_out)
    assert b.resets.dtype == bool and b.resets.shape == (T,)
    assert len(b) == 40 and b.resets[0] and b.ends[-1] == T - 1
    assert np.array_equal(b.starts[1:], b.ends[:-1] + 1)
    assert np.all(np.isfinite(b.X))
    assert b.target.shape == (40, task.n_out)
    X, Y, resets, ends = b  # unpacks like the old tuple
    assert X is b.X and ends is b.ends


@pytest.mark.parametrize("make", ALL_TASKS)
def test_stream_depends_on_seed_only(make):
    """Replaying a seed replays the stream, however it is read."""
    a, c = make(5), make(5)
    parts = Batch.concat([a.sample(3), a.sample(50), a.sample(1)])
    whole = c.sample(54)
    for name in ("X", "Y", "resets", "ends", "target"):
        np.testing.assert_array_equal(getattr(parts, name), getattr(whole, name))
    other = make(6).sample(54)
    assert other.X.shape != whole.X.shape or not np.array_equal(other.X, whole.X)


def test_take_and_gather_pick_whole_sequences():
    b = Task2c(q=3, p=4, seed=1).sample(10)
    part = b.take(2, 5)
    np.testing.assert_array_equal(part.X, b.X[b.starts[2]:b.ends[4] + 1])
    g = b.gather([4, 4, 0])
    np.testing.assert_array_equal(g.X, np.concatenate([b.X[b.starts[4]:b.ends[4] + 1]] * 2
                                                      + [b.X[:b.ends[0] + 1]]))
    np.testing.assert_array_equal(g.lengths, b.lengths[[4, 4, 0]])


# ---------------------------------------------------------------------------
# whole-number parameters
# ---------------------------------------------------------------------------
#: Every whole-number parameter of the generators: make(value) -> task, its name, its least value.
WHOLE = {
    "Adding.T": (lambda v: Adding(T=v), "T", 20),
    "Multiplication.T": (lambda v: Multiplication(T=v), "T", 20),
    "TwoSequence.T": (lambda v: TwoSequence("a", T=v, N=1), "T", 2),
    "TwoSequence.N": (lambda v: TwoSequence("a", T=30, N=v), "N", 1),
    "Task2a.p": (lambda v: Task2a(p=v), "p", 2),
    "Task2b.p": (lambda v: Task2b(p=v), "p", 2),
    "Task2c.q": (lambda v: Task2c(q=v, p=7), "q", 0),
    "Task2c.p": (lambda v: Task2c(q=20, p=v), "p", 1),
    "EmbeddedReber.n_train": (lambda v: EmbeddedReber(n_train=v, n_test=5), "n_train", 1),
    "EmbeddedReber.n_test": (lambda v: EmbeddedReber(n_train=20, n_test=v), "n_test", 0),
}
#: Values that are not a whole number >= least.
NOT_WHOLE = {"half": lambda least: least + 0.5, "bool": lambda least: True,
             "str": lambda least: str(least + 8), "nan": lambda least: float("nan"),
             "inf": lambda least: float("inf"), "too-small": lambda least: least - 1}


@pytest.mark.parametrize("bad", NOT_WHOLE.values(), ids=NOT_WHOLE)
@pytest.mark.parametrize("make, name, least", WHOLE.values(), ids=WHOLE)
def test_whole_number_parameters_refuse_anything_else(make, name, least, bad):
    with pytest.raises(ValueError, match=rf"^{name}\b.* must be a whole number >= {least}; got"):
        make(bad(least))


@pytest.mark.parametrize("make, name, least", WHOLE.values(), ids=WHOLE)
def test_whole_number_parameters_accept_integral_floats_and_keep_ints(make, name, least):
    for value in (float(least + 8), np.float64(least + 8), np.int64(least + 8)):
        task = make(value)
        assert type(getattr(task, name)) is int and getattr(task, name) == least + 8
    b = task.sample(3)  # and the stream runs with them
    assert len(b) == 3 and np.isfinite(b.X).all()


def test_sample_takes_a_whole_number_of_sequences():
    task, fresh = Task2a(p=10, seed=0), Task2a(p=10, seed=0)
    assert len(task.sample(2.0)) == 2 and len(task.sample(np.int64(1))) == 1
    for bad in NOT_WHOLE.values():
        with pytest.raises(ValueError, match=r"^n\b.* must be a whole number >= 1; got"):
            task.sample(bad(1))
    np.testing.assert_array_equal(task.sample(2).X, fresh.sample(5).take(3, 5).X)  # refusals took none


@pytest.mark.parametrize("cls", [Adding, Multiplication])
def test_an_unknown_first_pair_reading_is_refused_at_construction(cls):
    with pytest.raises(ValueError, match="first_pair must be 'a' or 'b'; got 'c'"):
        cls(T=40, first_pair="c")


# ---------------------------------------------------------------------------
# Experiment 1
# ---------------------------------------------------------------------------
def test_reber_hand_example():
    s = "BTBTXSETE"
    assert reber.is_embedded_reber(s)
    succ = reber.legal_successors(s)
    # after B: T|P; after T: B; inner B: T|P; inner T: S|X; X: X|S; S: E; inner E: T (the
    # remembered one); closing T: E
    assert succ == [set("TP"), {"B"}, set("TP"), set("SX"), set("XS"), {"E"}, {"T"}, {"E"}]
    for bad in ("BTBTXSEPE", "BTBTXXETE", "BTBTXSET", "TBTXSETE", "BTBTSEPE"):
        assert not reber.is_embedded_reber(bad)


def test_reber_strings_valid_and_sets_as_specified():
    task = EmbeddedReber(seed=3)
    assert len(task.train_strings) == len(task.test_strings) == 256
    assert all(reber.is_embedded_reber(s) for s in task.train_strings + task.test_strings)
    assert not set(task.test_strings) & set(task.train_strings)
    assert min(map(len, task.train_strings)) >= 9
    distinct = EmbeddedReber(seed=3, distinct_test=True)
    assert len(set(distinct.test_strings)) == 256
    for bad in ("no", "False", 1, [True]):  # a string would be true: 'no' meant yes
        with pytest.raises(ValueError, match="distinct_test must be True or False"):
            EmbeddedReber(seed=3, distinct_test=bad)


def test_reber_successor_sets_match_sampling():
    """Per prefix, the legal successors are exactly the symbols that follow it in samples."""
    rng = np.random.default_rng(0)
    followers, legal, count = {}, {}, {}
    for _ in range(5000):
        s = reber.embedded_reber_string(rng)
        for t, succ in enumerate(reber.legal_successors(s)):
            prefix = s[: t + 1]
            followers.setdefault(prefix, set()).add(s[t + 1])
            legal[prefix] = succ
            count[prefix] = count.get(prefix, 0) + 1
    assert all(followers[k] <= legal[k] for k in followers)
    common = [k for k in count if count[k] >= 40]
    assert len(common) > 30
    assert all(followers[k] == legal[k] for k in common)


@pytest.mark.parametrize("targets", ["next", "legal"])
def test_reber_encoding(targets):
    task = EmbeddedReber(n_train=20, n_test=5, targets=targets, seed=1)
    b = task.train
    for s, (X, Y) in zip(task.train_strings, sequences(b)):
        assert "".join(reber.SYMBOLS[i] for i in X.argmax(1)) == s[:-1]
        assert np.all(X.sum(1) == 1)
        if targets == "next":
            assert "".join(reber.SYMBOLS[i] for i in Y.argmax(1)) == s[1:]
            assert np.all(Y.sum(1) == 1)
    assert np.all(b.legal[b.Y > 0])  # every target symbol is legal
    if targets == "legal":
        np.testing.assert_array_equal(b.Y > 0, b.legal)


def _decoded(batch):
    return ["".join(reber.SYMBOLS[i] for i in X.argmax(1)) for X, _ in sequences(batch)]


def test_reber_sampling_epochs_presents_each_string_once_per_epoch():
    task = EmbeddedReber(n_train=40, n_test=5, seed=3, sampling="epochs")
    inputs = sorted(s[:-1] for s in task.train_strings)
    drawn = _decoded(task.sample(17)) + _decoded(task.sample(150))  # across block boundaries
    epochs = [drawn[i:i + 40] for i in range(0, 160, 40)]
    for e in epochs:
        assert sorted(e) == inputs  # a permutation of the training set
    assert len({tuple(e) for e in epochs}) == 4  # in a fresh order each epoch
    # a seeded stream, independent of how it is read
    again = EmbeddedReber(n_train=40, n_test=5, seed=3, sampling="epochs")
    assert _decoded(again.sample(167)) == drawn
    # with replacement (the default), 40 draws from 40 strings repeat some and miss others
    rand = _decoded(EmbeddedReber(n_train=40, n_test=5, seed=3).sample(40))
    assert sorted(rand) != inputs


def test_reber_sampling_rejects_unknown():
    with pytest.raises(ValueError, match="sampling"):
        EmbeddedReber(n_train=4, n_test=1, sampling="shuffle")


def test_reber_correctness_rules():
    legal = np.array([[True, True, False], [False, True, False]])
    out = np.array([[0.6, 0.5, 0.4], [0.9, 0.8, 0.1]])
    np.testing.assert_array_equal(reber.correct_steps(out, legal, "strict"), [True, False])
    np.testing.assert_array_equal(reber.correct_steps(out, legal, "argmax"), [True, False])
    out[0] = [0.6, 0.3, 0.4]  # argmax legal, but an illegal symbol beats a legal one
    assert not reber.correct_steps(out, legal, "strict")[0]
    assert reber.correct_steps(out, legal, "argmax")[0]


# ---------------------------------------------------------------------------
# Experiment 2
# ---------------------------------------------------------------------------
def test_2a_two_fixed_sequences():
    p = 10
    b = Task2a(p=p, seed=0).sample(50)
    firsts = set()
    for X, Y in sequences(b):
        assert len(X) == p  # p inputs, p targets
        sym = np.r_[X.argmax(1), Y[-1].argmax()]
        assert sym[0] in (p - 1, p) and sym[-1] == sym[0]  # x...x or y...y
        np.testing.assert_array_equal(sym[1:-1], np.arange(p - 1))
        np.testing.assert_array_equal(Y[:-1].argmax(1), sym[1:-1])  # target = next element
        assert not np.isnan(Y).any()
        firsts.add(sym[0])
    assert firsts == {p - 1, p}


def test_2b_random_middle_same_end():
    p = 10
    b = Task2b(p=p, seed=0).sample(200)
    mids = []
    for X, Y in sequences(b):
        sym = np.r_[X.argmax(1), Y[-1].argmax()]
        assert sym[0] in (p - 1, p) and sym[-1] == sym[0]
        assert np.all(sym[1:-1] < p - 1)
        mids.append(sym[1:-1])
    assert len({tuple(m) for m in mids}) > 100  # the middle varies


@pytest.mark.parametrize("cls", [Task2a, Task2b])
def test_2ab_targets_at_the_end_only(cls):
    """``targets="end"`` (a diagnostic off the paper's task): the same stream,
    with every target but the last step's removed."""
    every, end = cls(p=10, seed=3).sample(40), cls(p=10, seed=3, targets="end").sample(40)
    np.testing.assert_array_equal(end.X, every.X)
    np.testing.assert_array_equal(end.Y[end.ends], every.Y[every.ends])
    np.testing.assert_array_equal(end.target, every.target)
    keep = np.zeros(len(end.Y), bool)
    keep[end.ends] = True
    assert np.isnan(end.Y[~keep]).all() and not np.isnan(end.Y[keep]).any()
    with pytest.raises(ValueError, match="targets must be"):
        cls(p=10, targets="last")


def test_2c_structure():
    q, p = 20, 7
    b = Task2c(q=q, p=p, seed=2).sample(3000)
    extra = []
    for X, Y in sequences(b):
        sym = X.argmax(1)
        assert np.all(X.sum(1) == 1)
        assert sym[0] == p + 1 and sym[1] in (p + 2, p + 3) and sym[-1] == p  # b, x|y, ..., e
        assert np.all(sym[2:-1] < p) and len(sym) >= q + 3
        assert np.isnan(Y[:-1]).all()  # target only when e is the input
        np.testing.assert_array_equal(Y[-1], np.eye(2)[sym[1] - p - 2])
        extra.append(len(sym) - q - 3)
    # extra distractors ~ Geometric: P(k) = 0.9^k 0.1, mean 9 (spec §5.2: length q + 13 + 1)
    assert abs(np.mean(extra) - 9) < 0.6
    assert abs(np.mean(np.array(extra) == 0) - 0.1) < 0.02


# ---------------------------------------------------------------------------
# Experiment 3
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("variant", ["a", "b", "c"])
def test_two_sequence(variant):
    T, N = 40, 3
    b = TwoSequence(variant, T=T, N=N, seed=4).sample(2000)
    assert b.lengths.min() >= T and b.lengths.max() <= T + T // 10
    assert set(b.lengths) == set(range(T, T + T // 10 + 1))
    heads, tails, noise_t = [], [], []
    for (X, Y), clean in zip(sequences(b), b.target[:, 0]):
        assert np.isnan(Y[:-1]).all()
        cls1 = clean == (0.2 if variant == "c" else 1.0)
        if variant == "b":
            heads.append(X[:N, 0] - (1.0 if cls1 else -1.0))
        else:
            np.testing.assert_array_equal(X[:N, 0], 1.0 if cls1 else -1.0)
        tails.append(X[N:, 0])
        noise_t.append(Y[-1, 0] - clean)
    tails = np.concatenate(tails)
    assert abs(tails.std() - np.sqrt(0.2)) < 0.01 and abs(tails.mean()) < 0.01
    if variant == "b":
        assert abs(np.concatenate(heads).std() - np.sqrt(0.2)) < 0.02
    if variant == "c":
        assert set(b.target[:, 0]) == {0.2, 0.8}
        assert abs(np.std(noise_t) - np.sqrt(0.1)) < 0.02
    else:
        assert set(b.target[:, 0]) == {0.0, 1.0} and not np.any(noise_t)
    share = np.mean(b.target[:, 0] == (0.2 if variant == "c" else 1.0))
    assert abs(share - 0.5) < 0.04  # the two classes equally likely (sd 0.011 here)


# ---------------------------------------------------------------------------
# Experiments 4 and 5
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("first_pair", ["a", "b"])
@pytest.mark.parametrize("cls", [Adding, Multiplication])
def test_marked_pairs(cls, first_pair):
    T = 40
    b = cls(T=T, first_pair=first_pair, seed=5).sample(3000)
    chosen_first = 0
    for X, Y in sequences(b):
        val, mark = X[:, 0], X[:, 1]
        L = len(X)
        assert T <= L <= T + T // 10
        assert np.isnan(Y[:-1]).all()
        assert val.min() >= (-1.0 if cls is Adding else 0.0) and val.max() <= 1.0
        plus = np.flatnonzero(mark == 1.0)
        assert mark[-1] == -1.0 and set(np.unique(mark)) <= {-1.0, 0.0, 1.0}
        if len(plus) == 2:
            first_chosen = plus[0] == 0
            vals = val[plus]
            assert plus[0] < 10 or plus[1] < 10
            assert plus.max() < T // 2
        else:  # reading (a): the first pair was chosen and kept its -1 marker
            assert first_pair == "a" and len(plus) == 1 and plus[0] < T // 2
            first_chosen = True
            vals = np.r_[val[plus], 0.0 if cls is Adding else 1.0]
        if first_chosen:
            chosen_first += 1
            if first_pair == "b":
                assert val[0] == (0.0 if cls is Adding else 1.0)
        else:
            assert mark[0] == -1.0
        want = 0.5 + vals.sum() / 4 if cls is Adding else vals.prod()
        assert Y[-1, 0] == pytest.approx(want, abs=1e-15)
    # the first pair is X_1 in 1/10 of the sequences (one of the first ten) and, when it is not,
    # X_2 in 1/(T/2 - 1) of them (one of the first T/2 other than X_1's): within 4 standard errors
    p = 0.1 + 0.9 / (T // 2 - 1)
    assert abs(chosen_first / 3000 - p) < 4 * np.sqrt(p * (1 - p) / 3000)


# ---------------------------------------------------------------------------
# Experiment 6
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("variant", ["a", "b"])
def test_temporal_order(variant):
    from online_lstm.tasks.temporal_order import SYMBOLS, WINDOWS

    task = TemporalOrder(variant, seed=6)
    b = task.sample(1000)
    classes = set()
    counts = np.zeros(task.n_out)
    for X, Y in sequences(b):
        s = "".join(SYMBOLS[i] for i in X.argmax(1))
        assert np.all(X.sum(1) == 1)
        assert 100 <= len(s) <= 110 and s[0] == "E" and s[-1] == "B"
        pos = [i + 1 for i, c in enumerate(s) if c in "XY"]  # 1-based
        assert len(pos) == len(WINDOWS[variant])
        assert all(lo <= t <= hi for t, (lo, hi) in zip(pos, WINDOWS[variant]))
        assert set(s[1:-1]) - set("XY") <= set("abcd")
        cls = int("".join("0" if s[t - 1] == "X" else "1" for t in pos), 2)
        assert np.isnan(Y[:-1]).all()
        np.testing.assert_array_equal(Y[-1], np.eye(task.n_out)[cls])
        classes.add(cls)
        counts[cls] += 1
    assert classes == set(range(task.n_out))
    expect = 1000 / task.n_out  # every class equally likely: within 3.5 binomial sd
    assert np.all(np.abs(counts - expect) < 3.5 * np.sqrt(expect * (1 - 1 / task.n_out)))


# ---------------------------------------------------------------------------
# coverage, with the spec's numbers written here (not read from the modules
# under test): a window one step too narrow, a symbol never drawn, or a
# length range one short must fail (mutation audit)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("variant, windows", [("a", [(10, 20), (50, 60)]),
                                              ("b", [(10, 20), (33, 43), (66, 76)])])
def test_temporal_order_covers_the_spec_windows_and_symbols(variant, windows):
    """§5.6 / §8 item 16: lengths uniform in [100, 110]; the relevant symbols at
    1-based positions uniform in each window (inclusive); every other inner
    position uniform over a, b, c, d."""
    sym = "EBabcdXY"
    b = TemporalOrder(variant, seed=0).sample(4000)
    assert set(b.lengths) == set(range(100, 111))
    pos = [[] for _ in windows]
    distractors = []
    for a, e in zip(b.starts, b.ends + 1):
        s = "".join(sym[i] for i in b.X[a:e].argmax(1))
        relevant = [i + 1 for i, c in enumerate(s) if c in "XY"]
        assert len(relevant) == len(windows)
        for k, t in enumerate(relevant):
            pos[k].append(t)
        distractors += [c for c in s[1:-1] if c not in "XY"]
    for k, (lo, hi) in enumerate(windows):
        assert set(pos[k]) == set(range(lo, hi + 1)), (k, sorted(set(pos[k])))
    shares = [distractors.count(c) / len(distractors) for c in "abcd"]
    assert all(abs(f - 0.25) < 0.01 for f in shares), shares


@pytest.mark.parametrize("cls", [Adding, Multiplication])
def test_marked_pairs_cover_the_spec_positions(cls):
    """§5.4 / §5.5, §8 items 15-16: L uniform in [T, T + T/10] inclusive; X_1
    uniform among the first ten pairs, X_2 among the first T/2 other than
    X_1's.  Position k < 10 is marked with probability 0.1 + 0.9/(T/2 - 1),
    10 <= k < T/2 with 1/(T/2 - 1), and no later one; each within 5 standard
    errors over 20,000 sequences."""
    T, n = 40, 20_000
    b = cls(T=T, seed=1).sample(n)
    assert set(b.lengths) == set(range(T, T + T // 10 + 1))
    freq = np.zeros(b.lengths.max())
    for a, e in zip(b.starts, b.ends + 1):
        plus = np.flatnonzero(b.X[a:e, 1] == 1.0)
        assert len(plus) == 2
        freq[plus] += 1
    freq /= n
    p_lo, p_hi = 0.1 + 0.9 / (T // 2 - 1), 1 / (T // 2 - 1)
    assert np.all(np.abs(freq[:10] - p_lo) < 5 * np.sqrt(p_lo * (1 - p_lo) / n)), freq[:10]
    assert np.all(np.abs(freq[10:T // 2] - p_hi) < 5 * np.sqrt(p_hi / n)), freq[10:T // 2]
    assert not freq[T // 2:].any()


def test_long_lag_distractors_cover_the_whole_alphabet():
    """§5.2: 2b's middle symbols i.i.d. uniform over a_1 .. a_{p-1}; 2c's
    distractors uniform over a_1 .. a_p: every symbol occurs, about equally often."""
    p = 10
    b = Task2b(p=p, seed=0).sample(3000)
    mid = np.concatenate([b.X[a + 1:e + 1].argmax(1) for a, e in zip(b.starts, b.ends)])
    cnt = np.bincount(mid, minlength=p + 1)
    assert np.all(cnt[:p - 1] > 0) and not cnt[p - 1:].any(), cnt
    assert np.all(np.abs(cnt[:p - 1] / cnt.sum() - 1 / (p - 1)) < 0.01), cnt
    q, p = 20, 7
    b = Task2c(q=q, p=p, seed=0).sample(3000)
    d = np.concatenate([b.X[a + 2:e].argmax(1) for a, e in zip(b.starts, b.ends)])
    cnt = np.bincount(d, minlength=p + 4)
    assert np.all(cnt[:p] > 0) and not cnt[p:].any(), cnt
    assert np.all(np.abs(cnt[:p] / cnt.sum() - 1 / p) < 0.01), cnt


def test_reber_strings_use_every_edge_of_the_spec_grammar_and_every_training_string():
    """§5.1's transition table written out here; §8 item 17a (test strings may
    repeat one another by default); Table 11's t1 (exemplars drawn at random
    from the whole training set)."""
    spec = {0: {"B": 1}, 1: {"T": 2, "P": 3}, 2: {"S": 2, "X": 4}, 3: {"T": 3, "V": 5},
            4: {"X": 3, "S": 6}, 5: {"P": 4, "V": 6}, 6: {"E": 7}}
    rng = np.random.default_rng(0)
    used = set()
    for _ in range(3000):
        s = reber.embedded_reber_string(rng)
        assert s[0] == "B" and s[1] in "TP" and s[-2] == s[1] and s[-1] == "E"
        state = 0
        for c in s[2:-2]:
            assert c in spec[state], (s, state, c)
            used.add((state, c))
            state = spec[state][c]
        assert state == 7, s
    assert used == {(k, c) for k, d in spec.items() for c in d}
    assert reber.is_embedded_reber("BPBPVPXVVEPE") and reber.is_embedded_reber("BTBPTVPSETE")
    t = EmbeddedReber(seed=3)
    assert len(set(t.test_strings)) < len(t.test_strings), "the default test set allows repeats"
    t = EmbeddedReber(n_train=40, n_test=1, seed=4)
    assert t.train_strings.count(t.train_strings[-1]) == 1  # the last string is drawable only as itself
    b = t.sample(2000)
    drawn = {"".join(reber.SYMBOLS[i] for i in b.X[a:e + 1].argmax(1)) for a, e in zip(b.starts, b.ends)}
    assert drawn == {s[:-1] for s in t.train_strings}, "some training strings were never drawn"


@pytest.mark.parametrize("seed", [True, False, np.bool_(True)])
def test_a_bool_is_refused_as_a_seed(seed):
    """NumPy takes True for the seed 1: a flag passed where a seed goes ran silently."""
    from online_lstm import OnlineLSTM
    from online_lstm.baselines import RTRL
    from online_lstm.tasks.continual_reber import ContinualReber

    for make in ALL_TASKS + [lambda s: EmbeddedReber(seed=0, sets_seed=s), lambda s: ContinualReber(seed=s),
                             lambda s: OnlineLSTM(2, 1, seed=s), lambda s: RTRL(2, 1, seed=s)]:
        with pytest.raises(ValueError, match="got the bool"):
            make(seed)
    assert EmbeddedReber(seed=1).sample(2).X.tobytes() == EmbeddedReber(seed=np.int64(1)).sample(2).X.tobytes()


def test_concat_refuses_no_batches_and_batches_of_different_tasks():
    a, b = Task2a(p=10, seed=0).sample(2), EmbeddedReber(seed=0).sample(2)
    with pytest.raises(ValueError, match="at least one batch"):
        Batch.concat([])
    with pytest.raises(ValueError, match="batches of one task"):
        Batch.concat([a, b])
    both = Batch.concat(iter([a, Task2a(p=10, seed=1).sample(1)]))
    assert len(both.ends) == 3 and both.X.shape[0] == both.ends[-1] + 1
