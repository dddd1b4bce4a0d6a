"""Second audit of the learner bank (branch audit-bank2): each test is a
defect found there, checked against N separate OnlineLSTM learners."""

import numpy as np
import pytest

from online_lstm import OnlineLSTM
from online_lstm.bank import LearnerBank


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
