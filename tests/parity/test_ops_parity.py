"""PyTorch parity where the semantics are a choice: kinks, ties, bounds, huge values, dtypes.

The op table in tests/test_ops.py checks every op against PyTorch at generic points; here the
points are the awkward ones, where a reimplementation most easily picks a different convention.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import check_parity, require_torch

import tinygrad_seq as ts

pytestmark = pytest.mark.parity


def _both(fn, *arrays, **kw):
    """check_parity with fn written once for lib in (tinygrad_seq, torch)."""
    torch = require_torch()
    check_parity(lambda *xs: fn(ts, *xs), lambda *xs: fn(torch, *xs), arrays, **kw)


KINKS = np.array([-2.0, -1.0, 0.0, 0.5, 1.0, 3.0])


@pytest.mark.parametrize(
    "name, fn",
    [
        ("relu_at_0", lambda lib, x: x.relu()),
        ("abs_at_0", lambda lib, x: x.abs()),
        ("clamp_at_bounds", lambda lib, x: x.clamp(-1.0, 1.0)),
        ("clamp_min_at_bound", lambda lib, x: x.clamp(min=0.0)),
        ("clamp_max_at_bound", lambda lib, x: x.clamp(max=0.5)),
        ("max_ties", lambda lib, x: (x * 0 + 1).max() + x.abs().max()),
        ("amax_ties", lambda lib, x: (x.abs() * (x.abs() < 1.5)).amax(0)),
        ("pow0_at_0", lambda lib, x: x**0),
        ("pow2_at_0", lambda lib, x: x**2),
    ],
)
def test_kinks(name, fn):
    _both(fn, KINKS)


def test_maximum_minimum_ties_with_broadcasting():
    a = np.array([[1.0, 2.0, 3.0], [0.0, 2.0, 5.0]])
    b = np.array([1.0, 2.0, 4.0])
    _both(lambda lib, x, y: lib.maximum(x, y) * 2 + lib.minimum(x, y) * 3, a, b)


def test_max_dim_values_and_indices():
    torch = require_torch()
    a = np.array([[1.0, 5.0, 5.0], [7.0, 0.0, -1.0], [2.0, 2.0, 2.0]])
    for dim in (0, 1, -1):
        for keepdim in (False, True):
            for op in ("max", "min"):
                ours = getattr(ts.tensor(a), op)(dim, keepdim=keepdim)
                theirs = getattr(torch.tensor(a), op)(dim, keepdim=keepdim)
                np.testing.assert_array_equal(ours.values.data, theirs.values.numpy())
                np.testing.assert_array_equal(ours.indices.data, theirs.indices.numpy())
                assert ours.indices.dtype == np.int64
    _both(lambda lib, x: x.max(1).values * 2 + x.min(0, keepdim=True).values.sum(), a)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_family_at_huge_logits(dtype):
    torch = require_torch()
    a = np.array([[1e4, 0.0, -1e4], [1e4, 1e4, 1e4 - 1], [-1e4, -1e4, -1e4]], dtype=dtype)
    r = np.random.default_rng(0).standard_normal(a.shape).astype(dtype)
    for name in ("softmax", "log_softmax", "logsumexp"):
        x = ts.tensor(a, requires_grad=True)
        xt = torch.tensor(a, requires_grad=True)
        y, yt = getattr(x, name)(1), getattr(xt, name)(1)
        if name == "logsumexp":
            (y * ts.tensor(r[:, 0])).sum().backward()
            (yt * torch.tensor(r[:, 0])).sum().backward()
        else:
            (y * ts.tensor(r)).sum().backward()
            (yt * torch.tensor(r)).sum().backward()
        assert np.isfinite(y.data).all() and np.isfinite(x.grad.data).all()
        np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-6, err_msg=name)
        np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_tanh_at_huge_inputs(dtype):
    a = np.array([1e4, -1e4, 50.0, -50.0, 0.0], dtype=dtype)
    torch = require_torch()
    for name in ("sigmoid", "tanh"):
        x, xt = ts.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        y, yt = getattr(x, name)(), getattr(xt, name)()
        y.sum().backward()
        yt.sum().backward()
        np.testing.assert_array_equal(y.data, yt.detach().numpy())
        np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), atol=1e-7)


def test_masked_softmax_with_minus_inf():
    a = np.random.default_rng(1).standard_normal((3, 4))
    mask = np.array([[False, True, False, True]] * 2 + [[True, False, False, False]])
    _both(lambda lib, x: x.masked_fill(lib.tensor(mask), float("-inf")).softmax(-1), a)


@pytest.mark.parametrize("correction", [0, 1, 2])
def test_var_std_correction(correction):
    a = np.random.default_rng(2).standard_normal((4, 5))
    _both(lambda lib, x: x.var(1, correction=correction) + x.std(0, correction=correction).sum(), a)
    _both(lambda lib, x: x.var(correction=correction), a)


def test_getitem_accumulates_like_index_put():
    a = np.random.default_rng(3).standard_normal((4, 3))
    rows = np.array([0, 3, 0, 0, 2])
    _both(lambda lib, x: x[lib.tensor(rows)] * 2 + x[lib.tensor(rows), 1:].sum(), a)
    _both(lambda lib, x: x[lib.tensor(rows), lib.tensor(rows % 3)], a)
    _both(lambda lib, x: x[x > 0], a)


def test_split_chunk_uneven():
    a = np.random.default_rng(4).standard_normal((7, 5))
    _both(lambda lib, x: x.split(3), a)
    _both(lambda lib, x: x.chunk(3, 1), a)
    _both(lambda lib, x: x.chunk(4), a)


def test_dtype_promotion_matches_torch():
    torch = require_torch()
    cases = [
        lambda lib: lib.tensor([1, 2]) + 0.5,
        lambda lib: lib.tensor([1, 2]) / 2,
        lambda lib: 2 / lib.tensor([1, 2]),
        lambda lib: lib.tensor([1, 2]) * 3,
        lambda lib: lib.tensor([1.0, 2.0]) * 3,
        lambda lib: lib.tensor([1, 2]) + lib.tensor([0.5, 0.5]),
        lambda lib: lib.tensor([1.0]) + lib.tensor(np.array([1.0])),
        lambda lib: lib.tensor([1, 2]).sum(),
        lambda lib: lib.full((2,), 3),
        lambda lib: lib.arange(3),
        lambda lib: lib.arange(0, 1, 0.5),
        lambda lib: lib.tensor([1.5]).max(0).indices,
        lambda lib: lib.tensor([1.5]) > 1,
        lambda lib: lib.tensor([1, 5, -3]).clamp(0, 2),
        lambda lib: lib.tensor([1, 5, -3]).clamp(0.5, 2),
        lambda lib: lib.tensor([1.0, 2.0]) ** np.float64(2.0),
    ]
    for make in cases:
        ours, theirs = make(ts), make(torch)
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch."), make
        np.testing.assert_allclose(ours.data, theirs.numpy())
