"""Tests of tinygrad_seq.grads: the lazy gradient kinds sum to the dense gradient.

A weight reused by many matmuls (outer products summed late), slices of one tensor (pieces
kept until the tensor's node), gathered rows with repeats (one-hot matmul or np.add.at): each
is checked through the backward walk, against gradcheck and PyTorch.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import require_torch

import tinygrad_seq as ts
from tinygrad_seq import grads


def _reused_weight():
    """A weight used by six matmuls (outer-product gradients), element-wise and sliced."""
    rng = np.random.default_rng(5)
    w = ts.tensor(rng.standard_normal((4, 4)), requires_grad=True)
    x = ts.tensor(rng.standard_normal((3, 4)), requires_grad=True)

    def f(x, w):
        h = x
        for _ in range(6):
            h = (h @ w).tanh()
        return (h * w[0]).sum() + (w * w).sum()  # w also used element-wise and sliced

    return f, x, w


def test_weight_reused_by_many_matmuls_mixed_with_dense_uses():
    """Outer-product gradients of a reused weight are summed lazily, then mixed with dense ones."""
    f, x, w = _reused_weight()
    assert ts.gradcheck(f, (x, w))


@pytest.mark.parity
def test_weight_reused_by_many_matmuls_mixed_with_dense_uses_matches_torch():
    f, x, w = _reused_weight()
    torch = require_torch()
    wt = torch.tensor(w.detach().numpy(), requires_grad=True)
    xt = torch.tensor(x.detach().numpy(), requires_grad=True)
    f(x, w).backward()
    f(xt, wt).backward()
    np.testing.assert_allclose(w.grad.data, wt.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), atol=1e-12)


@pytest.mark.parity
@pytest.mark.parametrize(
    "pieces",
    [
        "rows",  # x[0], ..., x[T-1] once each: stacked
        "rows_negative",  # x[-1], x[-2], ...: stacked as well
        "rows_twice",  # row 1 read twice, row 0 never: added into zeros
        "rows_many",  # more row pieces than rows: added up early
        "mixed",  # rows, a dense use and other slices
        "slabs_tiling",  # x[:, :, :2], x[:, :, 2:]
        "slabs_gap",  # x[:, :, :2], x[:, :, 3:] (as the LSTM's i, f, o): the gap stays zero
        "slabs_then_dense",  # slabs first, then a dense gradient
        "slabs_overlap",  # overlapping slabs
        "slabs_two_axes",  # slabs of different axes
        "slabs_strided",  # x[:, ::2], x[:, 1::2]
        "slab_and_whole",  # x[:] and x[:, :, 1:]
        "ellipsis",  # x[..., :2], x[..., 2:]
    ],
)
def test_slice_gradients_kept_as_pieces_sum_correctly(pieces):
    """Slices' gradients wait as pieces for their tensor's node; every mix sums as PyTorch."""
    torch = require_torch()
    rng = np.random.default_rng(3)
    data = rng.standard_normal((4, 3, 5))

    def f(lib, x):
        w = lib.tensor(np.linspace(-1.0, 1.0, 15).reshape(3, 5), dtype=lib.float64)
        if pieces == "rows":
            parts = [x[t] * w * (t + 1) for t in range(4)]
        elif pieces == "rows_negative":
            parts = [x[-t - 1].tanh() * (t + 1) for t in range(4)]
        elif pieces == "rows_twice":
            parts = [x[1], x[1] * w, x[2], x[3]]
        elif pieces == "rows_many":
            parts = [x[t % 4] * (t + 1) for t in range(7)]
        elif pieces == "slabs_tiling":
            parts = [x[:, :, :2] * w[:, :2], x[:, :, 2:].tanh()]
        elif pieces == "slabs_gap":
            parts = [x[:, :, :2] * w[:, :2], x[:, :, 3:].tanh()]
        elif pieces == "slabs_then_dense":
            # made first, the dense use's gradient arrives last
            parts = [(x * w).sum(0), x[:, :, 1:3] * 2, x[:, :, :1].tanh()]
        elif pieces == "slabs_overlap":
            parts = [x[:, :, :3] * w[:, :3], x[:, :, 2:].tanh()]
        elif pieces == "slabs_two_axes":
            parts = [x[:2] * w, x[:, :, 1:].tanh()]
        elif pieces == "slabs_strided":
            parts = [x[:, ::2] * 3, x[:, 1::2].tanh()]
        elif pieces == "slab_and_whole":
            parts = [x[:] * w, x[:, :, 1:].tanh()]
        elif pieces == "ellipsis":
            parts = [x[..., :2] * w[:, :2], x[..., 2:].tanh()]
        else:
            # made last, the rows' gradients arrive first, then a slice's, then a dense one
            parts = [(x * x).sum(0), x[:, 1:].sum(0).sum(0) * 0 + x[0, 0], x[3] * w, x[0]]
        total = parts[0].sum()
        for p in parts[1:]:
            total = total + (p * p).sum()
        return total

    x = ts.tensor(data, requires_grad=True)
    xt = torch.tensor(data, requires_grad=True)
    f(ts, x).backward()
    f(torch, xt).backward()
    np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parity
@pytest.mark.parametrize("onehot_max", [grads._ONEHOT_MAX, 0])  # one-hot matmul, np.add.at
@pytest.mark.parametrize("table", [(7, 3), (7,), (7, 2, 3)])
def test_gradient_of_gathered_rows_accumulates_repeats(monkeypatch, onehot_max, table):
    """x[idx] with repeated and negative indices: both ways of summing rows match PyTorch."""
    monkeypatch.setattr(grads, "_ONEHOT_MAX", onehot_max)
    torch = require_torch()
    rng = np.random.default_rng(11)
    data = rng.standard_normal(table)
    idx = np.array([[0, 3, 3, -1], [6, 0, 3, -7]])
    weights = rng.standard_normal(idx.shape + table[1:])
    x, xt = ts.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    (x[idx] * ts.tensor(weights)).sum().backward()
    (xt[torch.tensor(idx)] * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), rtol=1e-12, atol=1e-12)
