"""Tests of tinygrad_seq.random: manual_seed and the one generator every random function uses."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_seq as ts


def test_manual_seed_drives_every_random_function():
    ts.manual_seed(123)
    a = (
        ts.rand(5).numpy().copy(),
        ts.randn(5).numpy().copy(),
        ts.rand_like(ts.zeros(2)).numpy().copy(),
    )
    ts.manual_seed(123)
    b = (ts.rand(5).numpy(), ts.randn(5).numpy(), ts.rand_like(ts.zeros(2)).numpy())
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    ts.manual_seed(124)
    assert not np.array_equal(ts.rand(5).data, a[0])
    assert ts.manual_seed(5) is ts.random.get_generator()
    with pytest.raises(TypeError, match="int seed"):
        ts.manual_seed(1.5)


def test_the_generator_is_numpys_default_rng_of_the_seed():
    ts.manual_seed(7)
    want = np.random.default_rng(7)
    np.testing.assert_array_equal(ts.rand(4, dtype=ts.float64).numpy(), want.random(4))
    np.testing.assert_array_equal(ts.randn(3, dtype=ts.float64).numpy(), want.standard_normal(3))
    with pytest.raises(TypeError, match="int seed, got bool"):
        ts.manual_seed(True)
