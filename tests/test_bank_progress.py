"""LearnerBank.learn_many / predict_many with a progress bar.

With ``progress`` the rows run in compiled calls of ``_validate.CHUNK // N``
rows (CHUNK set small here, so that a few learners and ~60 rows make many
chunks).  The claims, as for a single learner (tests/test_progress_many.py):
the same bits as one call (outputs, every learner's state, errors with their
learners, steps, rows, reasons and ``.out``), every row of every learner
checked before the first step, the bar moved by the rows run, and a run
stopped between two chunks (Ctrl-C) leaves the bank as if it had been given
only the rows before the stop.  A learner that diverges in one chunk sits out
the later ones while the others run on, as in one call.
"""

import numpy as np
import pytest

from online_lstm import InputError
from online_lstm import _validate
from online_lstm.bank import BankDivergenceError, LearnerBank

from statecheck import same_bits, same_state

CHUNK = 7

ARCHS = {
    "F": dict(n_in=3, n_out=2, n_blocks=2, block_size=2, bias="all"),
    "B-noog": dict(n_in=3, n_out=2, n_blocks=2, block_size=1, connectivity="B", output_gates=False),
    "fg-peep": dict(n_in=3, n_out=2, n_blocks=2, block_size=1, forget_gate=True, peepholes=True),
    "delay2": dict(n_in=3, n_out=2, n_blocks=1, block_size=2, max_delay=2),
    "sequence": dict(n_in=3, n_out=2, n_blocks=1, block_size=2, update="sequence"),
}


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setattr(_validate, "CHUNK", CHUNK)


class Bar:
    """A stand-in for a tqdm bar: counts what it is told, and whether closed."""

    def __init__(self, stop_after=None):
        self.n, self.calls, self.stop_after, self.closed = 0, 0, stop_after, False

    def update(self, k):
        self.n += k
        self.calls += 1
        if self.stop_after is not None and self.calls == self.stop_after:
            raise KeyboardInterrupt

    def close(self):
        self.closed = True


def _bank(arch, n=3, seed=1, **kw):
    return LearnerBank(n, **ARCHS[arch], init_range=0.5, lr=np.linspace(0.1, 0.4, n), seed=seed,
                       parallel=False, **kw)


def _stream(n, T=60, seed=0, n_in=3, n_out=2):
    rng = np.random.default_rng(seed)
    X, Y = rng.normal(size=(n, T, n_in)), rng.uniform(0.1, 0.9, size=(n, T, n_out))
    Y[rng.random((n, T)) < 0.4] = np.nan
    R = rng.random((n, T)) < 0.08
    return X, Y, R


def _same(a, b):
    assert same_state(a.state_arrays(), b.state_arrays())
    for counter in ("n_steps_", "n_updates_", "n_resets_", "seq_step_", "pending_"):
        assert np.array_equal(getattr(a, counter), getattr(b, counter)), counter


def _rows_per_chunk(n):
    return max(1, CHUNK // n)


@pytest.mark.parametrize("n", [1, 3, 8])  # 7, 2 and 1 rows per chunk
@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_a_bar_changes_no_bit(arch, n):
    X, Y, R = _stream(n)
    T = X.shape[1]
    one, chunked = _bank(arch, n), _bank(arch, n)
    bar = Bar()
    assert same_bits(one.learn_many(X, Y, R), chunked.learn_many(X, Y, R, progress=bar))
    per = _rows_per_chunk(n)
    assert bar.n == T and bar.calls == -(-T // per)  # one update per chunk, in rows
    assert not bar.closed  # a bar given is left open
    _same(one, chunked)
    out = np.empty((n, T, 2))
    got = chunked.predict_many(X, R, out=out, progress=Bar())
    assert got is out
    assert same_bits(one.predict_many(X, R), out)
    _same(one, chunked)
    # without resets (the empty resets array is passed to every chunk as it is)
    assert same_bits(one.learn_many(X, Y), chunked.learn_many(X, Y, progress=Bar()))
    _same(one, chunked)


def test_the_learners_run_what_they_would_alone():
    """The chunks give each learner the rows of its own stream."""
    X, Y, R = _stream(4, seed=3)
    bank = _bank("F", 4)
    alone = [bank.learner(l) for l in range(4)]
    out = bank.learn_many(X, Y, R, progress=Bar())
    for l, m in enumerate(alone):
        assert same_bits(out[l], m.learn_many(X[l], Y[l], R[l]))
        assert same_state(bank.learner(l).state_arrays(), m.state_arrays())


def test_progress_true_makes_a_tqdm_bar(capsys):
    X, Y, R = _stream(3, T=50)
    one, chunked = _bank("F"), _bank("F")
    assert same_bits(one.learn_many(X, Y, R), chunked.learn_many(X, Y, R, progress=True))
    assert "50/50" in capsys.readouterr().err
    assert same_bits(one.predict_many(X, R), chunked.predict_many(X, R, progress=np.True_))
    assert "50/50" in capsys.readouterr().err
    _same(one, chunked)


class Recorder(Bar):
    """tqdm's stand-in for progress=True: what it was made with."""

    made = []

    def __init__(self, **kw):
        super().__init__()
        self.kw = kw
        Recorder.made.append(self)


@pytest.mark.parametrize("how", ["ok", "bad input", "divergence"])
def test_a_bar_made_for_progress_true_is_closed(how, monkeypatch):
    import tqdm.auto

    monkeypatch.setattr(tqdm.auto, "tqdm", Recorder)
    Recorder.made = []
    if how == "divergence":
        bank, X, Y = _diverging_bank(), np.ones((4, 60, 1)), np.full((4, 60, 1), 0.5)
    else:
        bank, (X, Y, _) = _bank("F"), _stream(3)
        if how == "bad input":
            X[1, 40, 0] = np.nan
    if how == "ok":
        bank.learn_many(X, Y, progress=True)
    else:
        with pytest.raises((InputError, BankDivergenceError)):
            bank.learn_many(X, Y, progress=True)
    (bar,) = Recorder.made
    assert bar.kw == dict(total=60, unit="step", unit_scale=False)
    assert bar.closed and bar.n == (0 if how == "bad input" else 60)


def test_a_long_run_scales_the_units(monkeypatch):
    import tqdm.auto

    monkeypatch.setattr(tqdm.auto, "tqdm", Recorder)
    monkeypatch.setattr(_validate, "CHUNK", 4_000)
    Recorder.made = []
    bank = _bank("F", 2)
    bank.predict_many(np.zeros((2, 10_000, 3)), progress=True)
    (bar,) = Recorder.made
    assert bar.kw == dict(total=10_000, unit="step", unit_scale=True)
    assert bar.closed and bar.n == 10_000 and bar.calls == 5  # 2,000 rows of 2 learners a call


@pytest.mark.parametrize("learner", [0, 2])
@pytest.mark.parametrize("where", [0, 3, 31, 59])  # the first chunk, a middle one, the last
def test_a_bad_row_anywhere_changes_nothing(where, learner):
    X, Y, R = _stream(3)
    bank = _bank("delay2")
    bank.learn_many(*_stream(3, T=10, seed=9))
    before = bank.state_arrays()

    def refused(call):
        with pytest.raises(InputError) as one:
            call(bank.clone())  # (the message of one call, on any bank of this shape)
        bar = Bar()
        with pytest.raises(InputError) as chunked:
            call(bank, bar)
        assert str(chunked.value) == str(one.value)
        assert same_state(before, bank.state_arrays()) and bar.n == 0 and bar.calls == 0
        return str(one.value)

    X[learner, where, 1] = np.inf
    msg = refused(lambda b, bar=False: b.learn_many(X, Y, R, progress=bar))
    assert f"X[{learner}, {where}, 1]" in msg
    refused(lambda b, bar=False: b.predict_many(X, R, progress=bar))
    X[learner, where, 1] = 0.0
    Y[learner, where, 0] = -np.inf
    msg = refused(lambda b, bar=False: b.learn_many(X, Y, R, progress=bar))
    assert f"Y[{learner}, {where}]" in msg
    # predict_many ignores Y: no bad row
    assert same_bits(bank.clone().predict_many(X, R), bank.clone().predict_many(X, R, progress=Bar()))


def test_a_bad_progress_argument_is_refused_before_any_step():
    bank = _bank("F")
    X, Y, R = _stream(3)
    before = bank.state_arrays()
    for bad in ("yes", 1, 0.5, object()):
        with pytest.raises(ValueError, match="progress must be True, False or a tqdm bar"):
            bank.learn_many(X, Y, R, progress=bad)
        with pytest.raises(ValueError, match="progress must be True, False or a tqdm bar"):
            bank.predict_many(X, R, progress=bad)
        assert same_state(before, bank.state_arrays())
    # None, as False: one call, no bar
    assert same_bits(bank.clone().learn_many(X, Y, R), bank.learn_many(X, Y, R, progress=None))


def _diverging_bank(bounds=(1e6, 10.0, 1e6, 16.0), max_delay=0, parallel=False):
    """s_c grows with the input gate open (spec §4): the learners with a small
    state bound pass it within a dozen or so steps of a sequence, each at
    another row; the others never do."""
    n = len(bounds)
    bank = LearnerBank(n, 1, 1, 1, 1, bias="none", h="id", g="g1", output_gates=False,
                       connectivity="B", state_bound=list(bounds), seed=[0] * n, parallel=parallel,
                       max_delay=max_delay)
    W = bank.get_weights()
    bank.set_weights(W_in=np.full_like(W["W_in"], 5.0), W_c=np.full_like(W["W_c"], 5.0))
    return bank


def _both_raise(make, call):
    """The errors of ``call`` on two banks made by ``make``, without and with a bar."""
    one, chunked, bar = make(), make(), Bar()
    with pytest.raises(BankDivergenceError) as e1:
        call(one, False)
    with pytest.raises(BankDivergenceError) as e2:
        call(chunked, bar)
    a, b = e1.value, e2.value
    assert str(a) == str(b)
    for field in ("learners", "step", "row"):
        assert same_bits(getattr(a, field), getattr(b, field)), field
    assert a.reasons == b.reasons and same_bits(a.out, b.out)  # NaN where not computed
    _same(one, chunked)
    return a, bar


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("max_delay", [0, 2])
@pytest.mark.parametrize("learn", [True, False])
def test_a_divergence_is_the_one_calls(learn, max_delay, parallel):
    T = 60
    X, Y = np.ones((4, T, 1)), np.full((4, T, 1), 0.5)
    R = np.zeros((4, T), bool)
    R[:, 30] = True
    R[2, 5] = True  # (a learner that does not diverge has its own resets)

    def call(bank, bar):
        if learn:
            return bank.learn_many(X, Y, R, progress=bar)
        return bank.predict_many(X, R, progress=bar)

    err, bar = _both_raise(lambda: _diverging_bank(max_delay=max_delay, parallel=parallel), call)
    assert err.learners.tolist() == [1, 3]
    assert err.row[0] != err.row[1] and err.row.min() > _rows_per_chunk(4)  # in later chunks
    assert bar.n == T  # learners 0 and 2 ran every row
    assert not np.isnan(err.out[[0, 2]]).any()


def test_when_every_learner_diverges_the_bar_stops_there():
    T = 60
    X, Y = np.ones((2, T, 1)), np.full((2, T, 1), 0.5)
    err, bar = _both_raise(lambda: _diverging_bank((10.0, 16.0)),
                           lambda bank, bar: bank.learn_many(X, Y, progress=bar))
    assert err.learners.tolist() == [0, 1]
    per = _rows_per_chunk(2)
    assert bar.n == -(-(err.row.max() + 1) // per) * per  # up to the chunk of the last divergence


def _sequence_bank():
    """update="sequence": learner 1's accumulated update would overflow at
    its next reset, which it refuses (as tests/test_bank.py's)."""
    bank = LearnerBank(3, 3, 2, 2, 2, seed=1, parallel=False, update="sequence", lr=[0.1, 1e149, 0.1])
    b_in = bank.get_weights()["b_in"]
    b_in[1] = 9.9999e149
    bank.set_weights(b_in=b_in)
    bank.learn_many(np.ones((3, 5, 3)), np.zeros((3, 5, 2)))
    return bank


def test_a_refused_reset_in_a_later_chunk_is_the_one_calls():
    T = 40
    X = np.zeros((3, T, 3))
    R = np.zeros((3, T), bool)
    R[:, 23] = True
    err, bar = _both_raise(_sequence_bank, lambda bank, bar: bank.predict_many(X, R, progress=bar))
    assert err.learners.tolist() == [1] and err.row.tolist() == [23]
    assert err.reasons[0].startswith("reset refused")
    assert "(a refused reset before it was not made either)" in str(err)
    assert bar.n == T


def test_ctrl_c_between_chunks_keeps_the_rows_before_it():
    X, Y, R = _stream(3, seed=4)
    stopped, ref = _bank("fg-peep"), _bank("fg-peep")
    with pytest.raises(KeyboardInterrupt):
        stopped.learn_many(X, Y, R, progress=Bar(stop_after=4))
    b = 4 * _rows_per_chunk(3)
    assert stopped.n_steps_.tolist() == [b] * 3
    ref.learn_many(X[:, :b], Y[:, :b], R[:, :b])
    _same(ref, stopped)
    # and it goes on from there as if never stopped
    assert same_bits(stopped.learn_many(X[:, b:], Y[:, b:], R[:, b:], progress=Bar()),
                     ref.learn_many(X[:, b:], Y[:, b:], R[:, b:]))
    _same(ref, stopped)


def test_ctrl_c_after_a_divergence_keeps_the_rows_before_it():
    """Stopped after learners 1 and 3 diverged: the bank is the one given
    the rows before the stop (whose call raised for them)."""
    T = 60
    X, Y = np.ones((4, T, 1)), np.full((4, T, 1), 0.5)
    stopped, ref = _diverging_bank(), _diverging_bank()
    with pytest.raises(KeyboardInterrupt):
        stopped.learn_many(X, Y, progress=Bar(stop_after=40))
    with pytest.raises(BankDivergenceError) as err:
        ref.learn_many(X[:, :40], Y[:, :40])
    assert err.value.learners.tolist() == [1, 3]
    _same(ref, stopped)
    assert stopped.n_steps_.tolist() == [40, err.value.row[0], 40, err.value.row[1]]
