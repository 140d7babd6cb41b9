"""tinygrad_seq.buffers: large blocks are reused only once nothing refers to them."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_seq as ts
from tinygrad_seq import buffers


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    """Cache blocks from 1 KB on, so the tests need no 32 MB arrays; start empty."""
    monkeypatch.setattr(buffers, "MIN_BYTES", 1024)
    buffers.empty_cache()
    yield
    buffers.empty_cache()


def test_a_block_is_reused_only_when_no_array_refers_to_it():
    a = buffers.empty((32, 32), np.float32)
    base = id(a.base)  # the block itself must not be held here
    b = buffers.empty((32, 32), np.float32)
    assert id(b.base) != base  # a is alive
    view = a[3:5]
    del a
    c = buffers.empty((16, 64), np.float32)  # same size, but a's view still holds the block
    assert id(c.base) != base and c.base is not b.base
    del view
    d = buffers.empty((64, 16), np.float32)
    assert id(d.base) == base and d.shape == (64, 16) and d.flags.c_contiguous
    held, free = buffers.cached_bytes()
    assert held == 3 * 32 * 32 * 4 and free == 0
    del b, c
    assert buffers.cached_bytes()[1] == 2 * 32 * 32 * 4
    assert buffers.empty_cache() == 2 * 32 * 32 * 4
    assert buffers.cached_bytes() == (32 * 32 * 4, 0)  # d's block is in use: kept


def test_small_arrays_and_the_limit_bypass_the_cache(monkeypatch):
    assert buffers.empty((4,), np.float64).base is None  # 32 bytes: plain numpy
    monkeypatch.setattr(buffers, "LIMIT", 5000)
    a = buffers.empty((1000,), np.float32)  # 4000 bytes: cached
    b = buffers.empty((1000,), np.float32)  # would pass the limit: plain memory
    assert a.base is not None and b.base is not None
    assert buffers.cached_bytes()[0] == 4000
    z = buffers.zeros((10, 100), np.float64)
    assert not z.any()


def test_training_steps_with_cached_buffers_match_fresh_ones():
    """Two identical LSTM steps, the second on reused blocks: same loss and gradients."""
    results = []
    for _ in range(2):
        ts.manual_seed(0)
        lstm, head = ts.nn.LSTM(6, 16).double(), ts.nn.Linear(16, 5).double()
        x = ts.randn(40, 8, 6, dtype=ts.float64)
        y = ts.randint(0, 5, (40 * 8,))
        out, _ = lstm(x)
        loss = ts.functional.cross_entropy(head(out).reshape(-1, 5), y)
        loss.backward()
        results.append([loss.data] + [p.grad.data.copy() for p in lstm.parameters()])
    assert buffers.cached_bytes()[0] > 0  # the blocks were used
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
