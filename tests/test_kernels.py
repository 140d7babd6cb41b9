"""Tests of tinygrad_seq.kernels: cached large blocks are reused only once nothing refers to
them; malloc tuning."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_seq as ts
from tinygrad_seq import kernels


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    """Cache blocks from 1 KB on, so the tests need no 32 MB arrays; start empty."""
    monkeypatch.setattr(kernels, "MIN_BYTES", 1024)
    kernels.empty_cache()
    yield
    kernels.empty_cache()


def test_a_block_is_reused_only_when_no_array_refers_to_it():
    a = kernels.empty((32, 32), np.float32)
    base = id(a.base)  # the block itself must not be held here
    b = kernels.empty((32, 32), np.float32)
    assert id(b.base) != base  # a is alive
    view = a[3:5]
    del a
    c = kernels.empty((16, 64), np.float32)  # same size, but a's view still holds the block
    assert id(c.base) != base and c.base is not b.base
    del view
    d = kernels.empty((64, 16), np.float32)
    assert id(d.base) == base and d.shape == (64, 16) and d.flags.c_contiguous
    held, free = kernels.cached_bytes()
    assert held == 3 * 32 * 32 * 4 and free == 0
    del b, c
    assert kernels.cached_bytes()[1] == 2 * 32 * 32 * 4
    assert kernels.empty_cache() == 2 * 32 * 32 * 4
    assert kernels.cached_bytes() == (32 * 32 * 4, 0)  # d's block is in use: kept


def test_small_arrays_and_the_limit_bypass_the_cache(monkeypatch):
    assert kernels.empty((4,), np.float64).base is None  # 32 bytes: plain numpy
    monkeypatch.setattr(kernels, "LIMIT", 5000)
    a = kernels.empty((1000,), np.float32)  # 4000 bytes: cached
    b = kernels.empty((1000,), np.float32)  # would pass the limit: plain memory
    assert a.base is not None and b.base is not None
    assert kernels.cached_bytes()[0] == 4000
    z = kernels.zeros((10, 100), np.float64)
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
        results.append([loss.detach().numpy()] + [p.grad.numpy().copy() for p in lstm.parameters()])
    assert kernels.cached_bytes()[0] > 0  # the blocks were used
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------------------- malloc tuning

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
needs_glibc = pytest.mark.skipif(not GLIBC, reason="mallopt tuning is glibc-only")


def _run(code: str, **env: str) -> str:
    """Run code in a fresh interpreter (the tuning happens at import) -> its stdout."""
    full_env = {k: v for k, v in os.environ.items() if k != "TINYGRAD_SEQ_MALLOC_TUNING"}
    full_env.update(env)
    out = subprocess.run(
        [sys.executable, "-c", code], env=full_env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@needs_glibc
def test_import_tunes_glibc_malloc_unless_disabled():
    code = "import tinygrad_seq as ts; print(ts.kernels.malloc_settings())"
    assert _run(code) == str({"mmap_threshold": 32 << 20, "trim_threshold": 256 << 20})
    assert _run(code, TINYGRAD_SEQ_MALLOC_TUNING="0") == "None"


def test_tune_malloc_is_a_no_op_without_glibc(monkeypatch):
    monkeypatch.setattr(platform, "libc_ver", lambda: ("", ""))
    before = kernels.malloc_settings()
    assert kernels.tune_malloc() is None
    assert kernels.malloc_settings() == before


@needs_glibc
def test_tuned_malloc_keeps_training_steps_free_of_page_faults():
    # an RNN step at benchmark config B frees ~2,000 pages' worth of per-step arrays at the
    # end of its backward; left alone, glibc returns them and the next step faults them in
    code = """
import resource, numpy as np, tinygrad_seq as ts
from tinygrad_seq import nn
ts.manual_seed(0)
rnn, head = nn.RNN(64, 256), nn.Linear(256, 64)
x, y = ts.randn(64, 32, 64), ts.tensor(np.random.default_rng(0).integers(0, 64, 64 * 32))
def step():
    out, _ = rnn(x)
    ts.functional.cross_entropy(head(out).reshape(-1, 64), y).backward()
for _ in range(3):
    step()
r0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(3):
    step()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - r0) // 3)
"""
    tuned, untuned = int(_run(code)), int(_run(code, TINYGRAD_SEQ_MALLOC_TUNING="0"))
    assert tuned < 200, (tuned, untuned)
    assert untuned > 5 * max(tuned, 1), (tuned, untuned)  # the tuning is what made the change
