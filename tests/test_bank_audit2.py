"""Second audit of the learner bank (branch audit-bank2): each test is a
defect found there, checked against N separate OnlineLSTM learners."""

import numpy as np
import pytest

from online_lstm import DivergenceError, OnlineLSTM
from online_lstm.bank import LearnerBank
from statecheck import pushed_for_reset


@pytest.mark.parametrize("name", ["lr", "state_bound"])
@pytest.mark.parametrize("value", [lambda: np.ma.masked_array([0.5, 0.2, 0.3], mask=[True, False, False]),
                                   lambda: np.ma.masked_array(0.5, mask=True), lambda: np.ma.masked])
def test_a_masked_per_learner_hyper_parameter_is_refused_not_read_through_its_mask(name, value):
    """bank.lr = a masked array took the data under the mask (np.ma.masked
    gave lr 0.0: learning silently off), where OnlineLSTM refuses a masked
    lr and the bank refuses masked weights and resets."""
    single = OnlineLSTM(2, 1, seed=0)
    with pytest.raises(ValueError):
        setattr(single, name, value())
    bank = LearnerBank(3, 2, 1, seed=0, parallel=False, lr=[0.1, 0.2, 0.3], state_bound=[1.0, 2.0, 3.0])
    before = getattr(bank, name)
    with pytest.raises(ValueError, match="masked"):
        setattr(bank, name, value())
    assert np.array_equal(getattr(bank, name), before)
    with pytest.raises(ValueError, match="masked"):
        LearnerBank(3, 2, 1, seed=0, **{name: value()})
    # a masked array without masked entries is its numbers
    setattr(bank, name, np.ma.masked_array([0.4, 0.5, 0.6], mask=False))
    assert np.array_equal(getattr(bank, name), [0.4, 0.5, 0.6])


def test_editing_get_params_leaves_the_bank_s_seed_alone(tmp_path):
    """get_params()["seed"] was the bank's own list: editing the returned
    dict (as a parameter search does) changed the bank's seed, so clone()
    built other learners and a checkpoint saved afterwards failed to load
    (its bank_seed no longer the learners' seeds)."""
    bank = LearnerBank(3, 2, 1, seed=[1, 2, 3], parallel=False)
    params = bank.get_params()
    params["seed"][0] = 99
    assert bank.seed == [1, 2, 3] and bank.get_params()["seed"] == [1, 2, 3]
    assert np.array_equal(bank.clone().theta_, bank.theta_)
    bank.save(tmp_path / "bank.npz")
    back = LearnerBank.load(tmp_path / "bank.npz")
    assert back.seed == [1, 2, 3] and np.array_equal(back.theta_, bank.theta_)


def test_every_constructor_argument_is_an_attribute_as_on_a_learner():
    """bank.n_out, bank.update, bank.max_delay, ... raised AttributeError
    (while assigning them said they were 'fixed once the bank is built'):
    OnlineLSTM has every constructor argument as an attribute, and the
    bank promises the same inspect surface."""
    kw = dict(n_in=3, n_out=2, n_blocks=2, block_size=1, output_gates=True, connectivity="B",
              bias="all", g="g1", h="id", init_range=0.3, in_gate_bias=-1.0, out_gate_bias=[-1, -2],
              forget_gate=True, peepholes=True, forget_gate_bias=2.0, update="sequence", max_delay=2)
    bank = LearnerBank(2, **kw, seed=0, parallel=False)
    single = OnlineLSTM(**kw, seed=0)
    params = bank.get_params()
    for name in list(kw) + ["on_divergence"]:
        assert getattr(bank, name) == getattr(single, name) == params[name], name
        with pytest.raises(AttributeError, match="fixed"):
            setattr(bank, name, getattr(bank, name))


def test_a_late_target_before_any_step_says_that_no_step_was_taken():
    """As a single learner says it: the bank's message read "ages go from 0 (the
    last step) to -1", and open_targets, which changes nothing, said "No learner
    was changed"."""
    import numpy as np
    import pytest

    from online_lstm import InputError, LearnerBank, OnlineLSTM

    bank = LearnerBank(2, 2, 1, seed=0, max_delay=2)
    with pytest.raises(InputError, match="no step of age 0: it has taken no step yet.$"):
        bank.open_targets(0)
    with pytest.raises(InputError, match="it has taken no step yet. No learner was changed.$"):
        bank.learn_delayed(np.full(2, 0.5), 0)
    with pytest.raises(InputError, match="no step has been taken yet"):
        OnlineLSTM(2, 1, seed=0, max_delay=2).open_targets(0)


# ---------------------------------------------------------------------------
# a refused reset inside the bank's learn_many / learn_one (update="sequence")
# ---------------------------------------------------------------------------
_pushed_learner = pushed_for_reset


@pytest.mark.parametrize("many", [True, False])
def test_a_refused_reset_in_the_bank_is_named_as_such(many):
    """Learner 1's reset before row 1 is refused; learner 0's is made.  The
    reason said only "an update would push a weight ... beyond 1e150", as if
    the step had failed."""
    bank = LearnerBank(2, 1, 1, 1, 1, seed=[0, 1], update="sequence", parallel=False)
    bank.set_learner(1, _pushed_learner())
    X, Y = np.full((2, 2, 1), 0.5), np.full((2, 2, 1), np.nan)
    resets = np.array([[False, True], [False, True]])
    if not many:  # row 0 as one step, then the step with the reset
        bank.learn_one(X[:, 0], Y[:, 0])
    before = bank.state_arrays()
    with pytest.raises(DivergenceError) as err:
        if many:
            bank.learn_many(X, Y, resets)
        else:
            bank.learn_one(X[:, 1], Y[:, 1], resets[:, 1])
    e = err.value
    assert e.learners.tolist() == [1]
    assert e.reasons[0].startswith("reset refused (applying the weight changes accumulated")
    assert "a refused reset before it was not made either" in str(e)
    assert bank.n_resets_.tolist() == [1, 0]  # learner 0 was reset, learner 1 was not
    ref = _pushed_learner()  # learner 1 alone: row 0 applied, then nothing
    ref.learn_one(X[1, 0], Y[1, 0])
    got, want = bank.learner(1).state_arrays(), ref.state_arrays()
    for key in ("theta", "dW", "T", "record"):
        assert np.array_equal(got[key], want[key]), key
    if not many:  # the call changed learner 1 not at all
        assert all(np.array_equal(before[k][1], bank.state_arrays()[k][1]) for k in before)


def test_a_step_refused_after_a_made_reset_keeps_the_step_reason():
    bank = LearnerBank(2, 1, 1, 1, 1, seed=[0, 1], lr=1e300, parallel=False)
    with pytest.raises(DivergenceError) as err:
        bank.learn_many(np.full((2, 2, 1), 0.5), np.ones((2, 2, 1)) * [[[np.nan]], [[1.0]]],
                        np.array([[False, True], [False, True]]))
    assert not any(r.startswith("reset refused") for r in err.value.reasons)
    assert "refused reset" not in str(err.value)


@pytest.mark.parametrize("call", ["learn_one", "learn_many"])
def test_a_step_divergence_of_learn_one_says_the_others_took_their_steps(call):
    """learn_one's message said "Those learners refused the reset ...; all
    others were reset", the message of a refused reset() (no reset was
    asked for)."""
    bank = LearnerBank(2, 1, 1, 1, 1, seed=[0, 1], lr=1e300, parallel=False)
    X, Y = np.full((2, 1), 0.5), np.array([[np.nan], [1.0]])
    with pytest.raises(DivergenceError) as err:
        if call == "learn_one":
            bank.learn_one(X, Y)
        else:
            bank.learn_many(X[:, None], Y[:, None])
    assert str(err.value).endswith("Those learners hold the state from before their failing step; "
                                   "all others took their steps.")
    assert err.value.learners.tolist() == [1] and bank.n_steps_.tolist() == [1, 0]


def test_clone_to_another_size_asks_for_new_per_learner_values():
    """It failed with the constructor's "seed must be ... 4 ints" about a
    seed list the caller never passed to clone."""
    bank = LearnerBank(3, 2, 1, seed=[1, 2, 3], lr=[0.1, 0.2, 0.3], state_bound=[5.0, 6.0, 7.0])
    with pytest.raises(ValueError, match=r"clone\(n_learners=4\) of a bank of 3 learners with one "
                                         r"seed / lr / state_bound per learner: pass seed=\.\.\., "
                                         r"lr=\.\.\., state_bound=\.\.\. too"):
        bank.clone(n_learners=4)
    c = bank.clone(n_learners=2, seed=[5, 6], lr=0.2, state_bound=9.0)
    assert c.n_learners == 2 and c.seeds_ == [5, 6] and c.lr.tolist() == [0.2, 0.2]
    assert bank.clone().seeds_ == [1, 2, 3]  # same size: everything kept
    shared = LearnerBank(3, 2, 1, seed=7, lr=0.1)
    assert shared.clone(n_learners=5).n_learners == 5  # one value for all: nothing to redo
