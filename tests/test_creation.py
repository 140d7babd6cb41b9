"""Tests of tinygrad_seq.creation: the factories (zeros, ones, full, eye, arange, rand, randn,
randint, the *_like forms): shapes, values, dtypes, requires_grad."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_seq as ts


def test_zeros_ones_full_eye():
    assert ts.zeros(2, 3).shape == (2, 3) and ts.zeros((2, 3)).shape == (2, 3)
    assert ts.zeros(2).dtype == np.float32 and not ts.zeros(2).numpy().any()
    assert ts.ones([4]).data.tolist() == [1.0] * 4
    assert ts.zeros().shape == ()
    assert ts.full((2, 2), 7).dtype == np.int64
    assert ts.full((2, 2), 0.5).dtype == np.float32
    assert ts.full((2,), True).dtype == np.bool_
    np.testing.assert_array_equal(ts.full((2, 3), 0.5).data, np.full((2, 3), 0.5))
    np.testing.assert_array_equal(ts.eye(3).data, np.eye(3))
    np.testing.assert_array_equal(ts.eye(2, 3).data, np.eye(2, 3))
    assert ts.eye(2, dtype=ts.float64).dtype == np.float64
    x = ts.zeros(2, requires_grad=True)
    assert x.requires_grad and x.is_leaf
    with pytest.raises(ValueError, match="non-negative"):
        ts.zeros(-1)


def test_arange():
    assert ts.arange(5).data.tolist() == [0, 1, 2, 3, 4] and ts.arange(5).dtype == np.int64
    assert ts.arange(2, 8, 3).data.tolist() == [2, 5]
    a = ts.arange(0, 1, 0.25)
    assert a.dtype == np.float32 and a.data.tolist() == [0.0, 0.25, 0.5, 0.75]
    assert ts.arange(3, dtype=ts.float64).dtype == np.float64
    assert ts.arange(5, 0, -2).data.tolist() == [5, 3, 1]


def test_like_factories():
    t = ts.tensor(np.ones((2, 3)))
    for z in (ts.zeros_like(t), ts.ones_like(t), ts.full_like(t, 2.0), ts.randn_like(t)):
        assert z.shape == (2, 3) and z.dtype == np.float64
    assert not ts.zeros_like(t).numpy().any() and ts.ones_like(t).numpy().all()
    assert ts.zeros_like(t, dtype=ts.float32).dtype == np.float32
    assert ts.ones_like(t, requires_grad=True).requires_grad
    assert ts.zeros_like(ts.tensor([1, 2])).dtype == np.int64


def test_rand_randn():
    u = ts.rand(1000)
    assert u.dtype == np.float32 and u.shape == (1000,)
    assert 0.0 <= u.numpy().min() and u.numpy().max() < 1.0 and 0.4 < u.numpy().mean() < 0.6
    n = ts.randn(100, 100, dtype=ts.float64)
    assert n.dtype == np.float64 and abs(n.numpy().mean()) < 0.05 and 0.95 < n.numpy().std() < 1.05
    assert ts.randn(2, 3, requires_grad=True).requires_grad
    assert ts.rand((2, 3)).shape == (2, 3)


def test_randint():
    ts.manual_seed(3)
    r = ts.randint(2, 5, (200,))
    assert r.dtype == np.int64 and r.shape == (200,) and set(r.numpy().tolist()) == {2, 3, 4}
    ts.manual_seed(3)
    np.testing.assert_array_equal(ts.randint(2, 5, (200,)).numpy(), r.numpy())
    assert ts.randint(3, size=7).numpy().max() < 3 and ts.randint(3, size=7).shape == (7,)
    assert ts.randint(0, 9, (2, 3), dtype=ts.int32).dtype == np.int32
    assert ts.randint(0, 9).shape == ()
    with pytest.raises(ValueError, match="low < high"):
        ts.randint(5, 5)
