"""Batch.take refuses indices that are not integers (it once let NumPy say
"only integers, slices ... are valid indices", or compared None with an int)."""

import numpy as np
import pytest

from online_lstm.tasks import EmbeddedReber


@pytest.fixture(scope="module")
def batch():
    return EmbeddedReber(seed=0).sample(5)


@pytest.mark.parametrize("a, b, bad", [(1.0, 3.0, "a is float"), (1, 2.5, "b is float"),
                                       (True, 2, "a is bool"), (0, np.True_, "b is bool"),
                                       (1, None, "b is NoneType"), ("0", 2, "a is str")])
def test_take_refuses_non_integers(batch, a, b, bad):
    with pytest.raises(TypeError, match=f"integer sequence indices; {bad}"):
        batch.take(a, b)


def test_take_accepts_numpy_integers(batch):
    part = batch.take(np.int64(1), np.int32(3))
    ref = batch.take(1, 3)
    assert len(part) == 2
    np.testing.assert_array_equal(part.X, ref.X)
    np.testing.assert_array_equal(part.ends, ref.ends)
    np.testing.assert_array_equal(part.X, batch.X[batch.starts[1]:batch.ends[2] + 1])
