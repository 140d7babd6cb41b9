"""Every differentiable op, through one table (Chainer's test template, tinygrad's test_ops).

Each `Case` names an op once: `fn(lib, *xs)` is written so that it runs unchanged with
`lib = tinygrad_seq` on our Tensors and with `lib = torch` on torch tensors, and `ref` is the
same computation on numpy arrays. From the table, parametrize yields per op and per input-shape
set: forward against numpy, a float64 finite-difference gradcheck, float32 in -> float32 out
(and float32 gradients), and PyTorch parity of outputs and gradients (marked `parity`).
Below the table: hypothesis-generated shapes for binary ops, reductions and indexing, and the
semantics the table cannot express (max(dim) indices, ties, bounds, large logits), and at the
end PyTorch parity at the awkward points (kinks, ties, huge values, dtype promotion).
"""

from __future__ import annotations

import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from helpers import check_parity, require_torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_seq as ts

# ----------------------------------------------------------------------------- the template


@dataclass(frozen=True)
class Case:
    """One op: fn(lib, *xs) for lib in (tinygrad_seq, torch), ref(*arrays) in numpy."""

    name: str
    fn: Callable[..., Any]
    ref: Callable[..., Any]
    shapes: tuple  # one tuple of input shapes per parametrization
    domain: Any = "real"  # a domain name, or one per input
    parity: bool = True  # False where torch does not accept the call (e.g. negative steps)

    def inputs(self, shapes: tuple) -> list[np.ndarray]:
        """Deterministic float64 inputs for `shapes`, drawn from each input's domain."""
        rng = np.random.default_rng(zlib.crc32(f"{self.name}{shapes}".encode()))
        domains = self.domain if isinstance(self.domain, tuple) else (self.domain,) * len(shapes)
        return [sample(d, s, rng) for d, s in zip(domains, shapes)]


def sample(domain: str, shape: tuple, rng: np.random.Generator) -> np.ndarray:
    """real: N(0, 1); positive: [0.5, 2); nonzero: |x| in [0.3, 2) (away from kinks at 0)."""
    if domain == "real":
        out = rng.standard_normal(shape)
    elif domain == "positive":
        out = rng.uniform(0.5, 2.0, shape)
    elif domain == "nonzero":
        out = rng.choice([-1.0, 1.0], shape) * rng.uniform(0.3, 2.0, shape)
    else:
        raise ValueError(domain)
    return np.asarray(out, dtype=np.float64)


def case(name, fn, ref, *shapes, domain="real", parity=True) -> Case:
    return Case(name, fn, ref, tuple(shapes), domain, parity)


def mask_for(shape: tuple) -> np.ndarray:
    """A fixed boolean pattern of `shape` with both values present."""
    return np.arange(int(np.prod(shape))).reshape(shape) % 3 == 1


def np_softmax(a, axis):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def np_logsumexp(a, axis, keepdims=False):
    m = a.max(axis=axis, keepdims=True)
    out = np.log(np.exp(a - m).sum(axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis)


BCAST = [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((3, 1), (1, 4)), ((), (2, 3)), ((2, 1, 3), (4, 1))]
UNARY = [((3, 4),), ((),), ((2, 3, 4),)]
M3 = [((2, 3, 4),)]
M2 = [((3, 4),)]
IDX = np.array([0, 2, 0, 0])  # repeated entries: their gradients must accumulate
IDX2 = np.array([[0, 1], [1, 1]])
ROWS, COLS = np.array([2, 0, 2]), np.array([1, 3, 1])


def _where(lib, a, b):
    shape = np.broadcast_shapes(tuple(a.shape), tuple(b.shape))
    return lib.where(lib.tensor(mask_for(shape)), a, b)


def _np_where(a, b):
    return np.where(mask_for(np.broadcast_shapes(a.shape, b.shape)), a, b)


CASES = [
    # arithmetic, broadcasting, Python scalars on either side
    case("add", lambda lib, a, b: a + b, np.add, *BCAST),
    case("sub", lambda lib, a, b: a - b, np.subtract, *BCAST),
    case("mul", lambda lib, a, b: a * b, np.multiply, *BCAST),
    case("div", lambda lib, a, b: a / b, np.divide, *BCAST, domain=("real", "nonzero")),
    case(
        "add_method",
        lambda lib, a, b: a.add(b).mul(b).sub(a).div(b),
        lambda a, b: a + b - a / b,
        ((3, 4), (4,)),
        domain=("real", "nonzero"),
    ),
    case("radd_scalar", lambda lib, a: 2.5 + a, lambda a: 2.5 + a, *UNARY),
    case("sub_scalar", lambda lib, a: a - 1.5, lambda a: a - 1.5, ((3, 4),)),
    case("rsub_scalar", lambda lib, a: 3 - a, lambda a: 3 - a, *UNARY),
    case("rmul_scalar", lambda lib, a: 2 * a * -0.5, lambda a: 2 * a * -0.5, ((3, 4),)),
    case("div_scalar", lambda lib, a: a / 4, lambda a: a / 4, ((3, 4),)),
    case("rdiv_scalar", lambda lib, a: 2 / a, lambda a: 2 / a, *UNARY, domain="nonzero"),
    case("neg", lambda lib, a: -a, np.negative, *UNARY),
    case("pow2", lambda lib, a: a**2, np.square, *UNARY),
    case("pow3", lambda lib, a: a.pow(3), lambda a: a**3, ((3, 4),)),
    case("pow_half", lambda lib, a: a**0.5, np.sqrt, *UNARY, domain="positive"),
    case("pow_neg", lambda lib, a: a**-1.5, lambda a: a**-1.5, ((3, 4),), domain="positive"),
    case("pow_neg_int", lambda lib, a: a**-2, lambda a: a**-2.0, ((3, 4),), domain="nonzero"),
    case("maximum", lambda lib, a, b: lib.maximum(a, b), np.maximum, *BCAST),
    case("minimum", lambda lib, a, b: lib.minimum(a, b), np.minimum, *BCAST),
    case("where", _where, _np_where, ((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 3), (4, 1))),
    case(
        "masked_fill",
        lambda lib, a: a.masked_fill(lib.tensor(mask_for(a.shape)), -1.5),
        lambda a: np.where(mask_for(a.shape), -1.5, a),
        ((3, 4),),
        ((2, 3, 4),),
    ),
    case(
        "masked_fill_bcast",
        lambda lib, a: a.masked_fill(lib.tensor(mask_for((4,))), 0.25),
        lambda a: np.where(mask_for((4,)), 0.25, a),
        ((3, 4),),
    ),
    # element-wise functions
    case("exp", lambda lib, a: a.exp(), np.exp, *UNARY),
    case("exp_fn", lambda lib, a: lib.exp(a), np.exp, ((3, 4),)),
    case("log", lambda lib, a: a.log(), np.log, *UNARY, domain="positive"),
    case("log_fn", lambda lib, a: lib.log(a), np.log, ((3, 4),), domain="positive"),
    case("sqrt", lambda lib, a: a.sqrt(), np.sqrt, *UNARY, domain="positive"),
    case("abs", lambda lib, a: a.abs(), np.abs, *UNARY, domain="nonzero"),
    case("tanh", lambda lib, a: a.tanh(), np.tanh, *UNARY),
    case("tanh_fn", lambda lib, a: lib.tanh(a), np.tanh, ((3, 4),)),
    case("sigmoid", lambda lib, a: a.sigmoid(), lambda a: 1 / (1 + np.exp(-a)), *UNARY),
    case("sigmoid_fn", lambda lib, a: lib.sigmoid(a), lambda a: 1 / (1 + np.exp(-a)), ((3, 4),)),
    case("relu", lambda lib, a: a.relu(), lambda a: np.maximum(a, 0), *UNARY, domain="nonzero"),
    case(
        "relu_fn",
        lambda lib, a: lib.relu(a),
        lambda a: np.maximum(a, 0),
        ((3, 4),),
        domain="nonzero",
    ),
    case("clamp", lambda lib, a: a.clamp(-0.5, 0.5), lambda a: np.clip(a, -0.5, 0.5), *UNARY),
    case("clamp_min", lambda lib, a: a.clamp(min=0.1), lambda a: np.maximum(a, 0.1), ((3, 4),)),
    case(
        "clamp_max", lambda lib, a: lib.clamp(a, max=0.2), lambda a: np.minimum(a, 0.2), ((3, 4),)
    ),
    # matmul: 1-D, 2-D, batched with broadcast batch dimensions
    case(
        "matmul",
        lambda lib, a, b: a @ b,
        np.matmul,
        ((3, 4), (4, 5)),
        ((4,), (4,)),
        ((4,), (4, 5)),
        ((3, 4), (4,)),
        ((2, 3, 4), (4, 5)),
        ((3, 4), (2, 4, 5)),
        ((2, 1, 3, 4), (5, 4, 2)),
        ((2, 3, 4), (4,)),
        ((4,), (2, 4, 3)),
        ((1, 4), (4, 1)),
    ),
    case(
        "matmul_fn",
        lambda lib, a, b: lib.matmul(a, b).matmul(b.T),
        lambda a, b: a @ b @ b.T,
        ((3, 4), (4, 4)),
    ),
    case(
        "lerp",
        lambda lib, a, b, w: lib.lerp(a, b, w),
        lambda a, b, w: a + w * (b - a),
        ((3, 4), (3, 4), (3, 4)),
        ((3, 4), (4,), (3, 1)),
        ((1, 4), (3, 4), (4,)),
    ),
    case(
        "lerp_scalar_weight",
        lambda lib, a, b: a.lerp(b, 0.25),
        lambda a, b: a + 0.25 * (b - a),
        ((3, 4), (3, 4)),
    ),
    case(
        "addcmul",
        lambda lib, c, a, b: lib.addcmul(c, a, b),
        lambda c, a, b: c + a * b,
        ((3, 4), (3, 4), (3, 4)),
        ((4,), (3, 4), (3, 1)),
        ((3, 4), (1, 4), (4,)),
    ),
    case(
        "addcmul_value",
        lambda lib, c, a, b: c.addcmul(a, b, value=-0.5),
        lambda c, a, b: c - 0.5 * a * b,
        ((3, 4), (3, 4), (3, 4)),
    ),
    # a few rows times a transposed matrix, as h @ W^T: computed as (W a^T)^T (ops._mm)
    case(
        "matmul_rows_by_transposed",
        lambda lib, a, b: a @ b.T,
        lambda a, b: a @ b.T,
        ((2, 5), (7, 5)),
    ),
    case(
        "addmm_contiguous_transposed",
        lambda lib, c, a, b: lib.addmm(c, a, b.T.contiguous()),
        lambda c, a, b: c + a @ b.T,
        ((2, 7), (2, 5), (7, 5)),
    ),
    # reductions
    case("sum", lambda lib, a: a.sum(), np.sum, *UNARY),
    case("sum_dim", lambda lib, a: a.sum(1), lambda a: a.sum(1), *M3),
    case(
        "sum_keepdim",
        lambda lib, a: a.sum(-1, keepdim=True),
        lambda a: a.sum(-1, keepdims=True),
        *M3,
    ),
    case("sum_dims", lambda lib, a: a.sum((0, 2)), lambda a: a.sum((0, 2)), *M3),
    case("mean", lambda lib, a: a.mean(), np.mean, *UNARY),
    case("mean_dim", lambda lib, a: a.mean(0), lambda a: a.mean(0), *M3),
    case(
        "mean_keepdim",
        lambda lib, a: a.mean((1, 2), keepdim=True),
        lambda a: a.mean((1, 2), keepdims=True),
        *M3,
    ),
    case("var", lambda lib, a: a.var(), lambda a: np.var(a, ddof=1), ((3, 4),), ((2, 3, 4),)),
    case("var_dim", lambda lib, a: a.var(1), lambda a: np.var(a, 1, ddof=1), *M3),
    case(
        "var_biased",
        lambda lib, a: a.var(0, keepdim=True, correction=0),
        lambda a: np.var(a, 0, keepdims=True),
        *M3,
    ),
    case(
        "var_dims",
        lambda lib, a: a.var((0, 2), correction=2),
        lambda a: np.var(a, (0, 2), ddof=2),
        *M3,
    ),
    case("std", lambda lib, a: a.std(-1), lambda a: np.std(a, -1, ddof=1), *M2),
    case("max", lambda lib, a: a.max(), np.max, *UNARY),
    case("min", lambda lib, a: a.min(), np.min, *UNARY),
    case("max_dim", lambda lib, a: a.max(1).values, lambda a: a.max(1), *M3),
    case(
        "max_dim_keepdim",
        lambda lib, a: a.max(dim=-1, keepdim=True).values,
        lambda a: a.max(-1, keepdims=True),
        *M3,
    ),
    case("min_dim", lambda lib, a: a.min(0).values, lambda a: a.min(0), *M3),
    case("amax", lambda lib, a: a.amax((0, 2)), lambda a: a.max((0, 2)), *M3),
    case("softmax", lambda lib, a: a.softmax(1), lambda a: np_softmax(a, 1), *M2, *M3),
    case("softmax_fn", lambda lib, a: lib.softmax(a, 0), lambda a: np_softmax(a, 0), *M3),
    case(
        "log_softmax",
        lambda lib, a: a.log_softmax(-1),
        lambda a: np.log(np_softmax(a, -1)),
        *M2,
        *M3,
    ),
    case(
        "log_softmax_fn",
        lambda lib, a: lib.log_softmax(a, 1),
        lambda a: np.log(np_softmax(a, 1)),
        *M3,
    ),
    case("logsumexp", lambda lib, a: a.logsumexp(1), lambda a: np_logsumexp(a, 1), *M2, *M3),
    case(
        "logsumexp_keepdim",
        lambda lib, a: lib.logsumexp(a, 0, keepdim=True),
        lambda a: np_logsumexp(a, 0, keepdims=True),
        *M3,
    ),
    case(
        "logsumexp_dims", lambda lib, a: a.logsumexp((0, 2)), lambda a: np_logsumexp(a, (0, 2)), *M3
    ),
    # shape ops
    case("reshape", lambda lib, a: a.reshape(4, 6), lambda a: a.reshape(4, 6), *M3),
    case("reshape_tuple", lambda lib, a: a.reshape((-1,)), lambda a: a.reshape(-1), *M3),
    case("view", lambda lib, a: a.view(2, -1), lambda a: a.reshape(2, -1), *M3),
    case("transpose", lambda lib, a: a.transpose(0, 2), lambda a: a.swapaxes(0, 2), *M3),
    case("transpose_neg", lambda lib, a: a.transpose(-1, -2), lambda a: a.swapaxes(-1, -2), *M3),
    case("permute", lambda lib, a: a.permute(2, 0, 1), lambda a: a.transpose(2, 0, 1), *M3),
    case("T", lambda lib, a: a.T, lambda a: a.T, *M2),
    case("contiguous", lambda lib, a: a.T.contiguous(), lambda a: a.T, *M2),
    case("unsqueeze", lambda lib, a: a.unsqueeze(1), lambda a: a[:, None], *M2),
    case("unsqueeze_neg", lambda lib, a: a.unsqueeze(-1), lambda a: a[..., None], *M2),
    case("squeeze", lambda lib, a: a.squeeze(), np.squeeze, ((3, 1, 4, 1),)),
    case("squeeze_dim", lambda lib, a: a.squeeze(1), lambda a: a.squeeze(1), ((3, 1, 4, 1),)),
    case("flatten", lambda lib, a: a.flatten(), np.ravel, *M3),
    case("flatten_from", lambda lib, a: a.flatten(1), lambda a: a.reshape(2, 12), *M3),
    case("flatten_range", lambda lib, a: a.flatten(0, 1), lambda a: a.reshape(6, 4), *M3),
    case(
        "expand",
        lambda lib, a: a.expand(2, 3, 4),
        lambda a: np.broadcast_to(a, (2, 3, 4)),
        ((3, 1),),
        ((4,),),
        ((),),
    ),
    case(
        "expand_keep",
        lambda lib, a: a.expand(-1, 5),
        lambda a: np.broadcast_to(a, (3, 5)),
        ((3, 1),),
    ),
    # indexing: ints, slices, None, Ellipsis, integer arrays and tensors (repeats), boolean masks
    case("index_int", lambda lib, a: a[1], lambda a: a[1], *M2, *M3),
    case("index_neg", lambda lib, a: a[-1, 2], lambda a: a[-1, 2], *M2),
    case("index_slice", lambda lib, a: a[1:3], lambda a: a[1:3], *M2),
    case("index_step", lambda lib, a: a[::2, 1::2], lambda a: a[::2, 1::2], *M2),
    case("index_reverse", lambda lib, a: a[::-1], lambda a: a[::-1], *M2, parity=False),
    case("index_none", lambda lib, a: a[None, 1:, None], lambda a: a[None, 1:, None], *M2),
    case("index_ellipsis", lambda lib, a: a[..., 1], lambda a: a[..., 1], *M3),
    case("index_tensor", lambda lib, a: a[lib.tensor(IDX)], lambda a: a[IDX], *M2),
    case("index_list", lambda lib, a: a[[1, 1, 2]], lambda a: a[[1, 1, 2]], *M2),
    case("index_2d_array", lambda lib, a: a[lib.tensor(IDX2)], lambda a: a[IDX2], *M2),
    case("index_array_slice", lambda lib, a: a[lib.tensor(IDX), 1:3], lambda a: a[IDX, 1:3], *M2),
    case("index_slice_array", lambda lib, a: a[:, lib.tensor(COLS)], lambda a: a[:, COLS], *M2),
    case(
        "index_pairs",
        lambda lib, a: a[lib.tensor(ROWS), lib.tensor(COLS)],
        lambda a: a[ROWS, COLS],
        *M2,
    ),
    case(
        "index_pairs_slice",
        lambda lib, a: a[lib.tensor(ROWS[:2] - 1), :, lib.tensor(COLS[:2])],
        lambda a: a[ROWS[:2] - 1, :, COLS[:2]],
        *M3,
    ),
    case(
        "index_mask",
        lambda lib, a: a[lib.tensor(mask_for(a.shape))],
        lambda a: a[mask_for(a.shape)],
        *M2,
        *M3,
    ),
    case(
        "index_row_mask",
        lambda lib, a: a[lib.tensor(mask_for((3,)))],
        lambda a: a[mask_for((3,))],
        *M2,
    ),
    case(
        "index_col_mask",
        lambda lib, a: a[:, lib.tensor(mask_for((3,)))],
        lambda a: a[:, mask_for((3,))],
        *M3,
    ),
    # joining and splitting
    case(
        "cat",
        lambda lib, a, b, c: lib.cat([a, b, c], 1),
        lambda a, b, c: np.concatenate([a, b, c], 1),
        ((2, 3), (2, 1), (2, 4)),
    ),
    case(
        "cat_dim0",
        lambda lib, a, b: lib.cat((a, b)),
        lambda a, b: np.concatenate([a, b]),
        ((2, 3), (4, 3)),
        ((2,), (3,)),
    ),
    case(
        "cat_neg",
        lambda lib, a, b: lib.cat([a, b], -1),
        lambda a, b: np.concatenate([a, b], -1),
        ((2, 3, 1), (2, 3, 2)),
    ),
    case(
        "stack",
        lambda lib, a, b, c: lib.stack([a, b, c]),
        lambda a, b, c: np.stack([a, b, c]),
        ((3, 4),) * 3,
        ((),) * 3,
    ),
    case(
        "stack_neg",
        lambda lib, a, b: lib.stack([a, b], -1),
        lambda a, b: np.stack([a, b], -1),
        ((3, 4),) * 2,
    ),
    case(
        "split", lambda lib, a: a.split(2, 1), lambda a: (a[:, :2], a[:, 2:4], a[:, 4:]), ((3, 5),)
    ),
    case(
        "split_sizes",
        lambda lib, a: a.split([1, 3, 1], 1),
        lambda a: (a[:, :1], a[:, 1:4], a[:, 4:]),
        ((3, 5),),
    ),
    case("chunk", lambda lib, a: a.chunk(3), lambda a: (a[:3], a[3:6], a[6:]), ((7, 2),)),
    # compositions PyTorch users write
    case(
        "linear_tanh",
        lambda lib, x, w, b: (x @ w + b).tanh().sum(),
        lambda x, w, b: np.tanh(x @ w + b).sum(),
        ((4, 3), (3, 5), (5,)),
    ),
    case(
        "gate",
        lambda lib, a, b: a.sigmoid() * b.tanh() + (1 - a.sigmoid()) * b,
        lambda a, b: (1 / (1 + np.exp(-a))) * np.tanh(b) + (1 - 1 / (1 + np.exp(-a))) * b,
        ((2, 3), (2, 3)),
    ),
]

PARAMS = [
    pytest.param(
        c, shapes, id=f"{c.name}-" + "-".join("x".join(map(str, s)) or "0d" for s in shapes)
    )
    for c in CASES
    for shapes in c.shapes
]


def _tuple(x: Any) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def ours(c: Case) -> Callable:
    return lambda *xs: c.fn(ts, *xs)


@pytest.mark.parametrize("c, shapes", PARAMS)
def test_forward_matches_numpy(c: Case, shapes: tuple) -> None:
    arrays = c.inputs(shapes)
    outs = _tuple(c.fn(ts, *[ts.tensor(a) for a in arrays]))
    expected = _tuple(c.ref(*[a.copy() for a in arrays]))
    assert len(outs) == len(expected)
    for o, e in zip(outs, expected):
        assert isinstance(o, ts.Tensor)
        assert o.shape == np.shape(e)
        assert o.dtype == np.float64  # float64 inputs stay float64
        np.testing.assert_allclose(o.data, e, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("c, shapes", PARAMS)
def test_gradcheck(c: Case, shapes: tuple) -> None:
    inputs = [ts.tensor(a, requires_grad=True) for a in c.inputs(shapes)]
    assert ts.gradcheck(ours(c), inputs)


@pytest.mark.parametrize("c, shapes", PARAMS)
def test_float32_stays_float32(c: Case, shapes: tuple) -> None:
    """float32 in: float32 outputs and gradients, equal to float64's to float32 precision."""
    arrays = [a.astype(np.float32) for a in c.inputs(shapes)]
    results = []
    for dtype in (np.float32, np.float64):  # the same values, float64 as the reference
        inputs = [ts.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
        outs = _tuple(c.fn(ts, *inputs))
        loss = 0.0
        for o in outs:
            assert o.dtype == dtype, f"{c.name} turned {np.dtype(dtype)} into {o.dtype}"
            loss = loss + o.sum()
        loss.backward()
        results.append(([o.detach().numpy() for o in outs], [x.grad.numpy() for x in inputs]))
    (outs32, grads32), (outs64, grads64) = results
    for got, want in zip(outs32 + grads32, outs64 + grads64):
        assert got.dtype == np.float32 and got.shape == want.shape
        scale = max(np.abs(want).max(initial=0.0), 1.0)
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * scale, err_msg=c.name)


@pytest.mark.parity
@pytest.mark.parametrize("c, shapes", [p for p in PARAMS if p.values[0].parity])
def test_torch_parity(c: Case, shapes: tuple) -> None:
    torch = require_torch()
    check_parity(ours(c), lambda *xs: c.fn(torch, *xs), c.inputs(shapes))


# ----------------------------------------------------------------------------- hypothesis

HYPO = settings(max_examples=25, deadline=None)

BINARY = {
    "add": (lambda a, b: a + b, np.add),
    "sub": (lambda a, b: a - b, np.subtract),
    "mul": (lambda a, b: a * b, np.multiply),
    "div": (lambda a, b: a / b, np.divide),
    "maximum": (ts.maximum, np.maximum),
    "minimum": (ts.minimum, np.minimum),
    "where": (lambda a, b: _where(ts, a, b), _np_where),
}


@pytest.mark.parametrize("name", list(BINARY))
@HYPO
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3))
def test_binary_broadcasting_hypothesis(name: str, shapes: Any) -> None:
    fn, ref = BINARY[name]
    rng = np.random.default_rng(0)
    a = sample("real", shapes.input_shapes[0], rng)
    b = sample("nonzero", shapes.input_shapes[1], rng)
    out = fn(ts.tensor(a), ts.tensor(b))
    assert out.shape == shapes.result_shape
    np.testing.assert_allclose(out.data, ref(a, b), rtol=1e-12)
    xs = [ts.tensor(a, requires_grad=True), ts.tensor(b, requires_grad=True)]
    assert ts.gradcheck(fn, xs)


@HYPO
@given(
    shapes=hnp.mutually_broadcastable_shapes(signature=np.matmul.signature, max_dims=3, max_side=3)
)
def test_matmul_shapes_hypothesis(shapes: Any) -> None:
    rng = np.random.default_rng(0)
    a, b = (sample("real", s, rng) for s in shapes.input_shapes)
    out = ts.tensor(a) @ ts.tensor(b)
    assert out.shape == shapes.result_shape
    np.testing.assert_allclose(out.data, a @ b, rtol=1e-12, atol=1e-14)
    xs = [ts.tensor(a, requires_grad=True), ts.tensor(b, requires_grad=True)]
    assert ts.gradcheck(lambda x, y: x @ y, xs)


REDUCTIONS = {
    "sum": (lambda x, d, k: x.sum(d, keepdim=k), lambda a, d, k: a.sum(d, keepdims=k)),
    "mean": (lambda x, d, k: x.mean(d, keepdim=k), lambda a, d, k: a.mean(d, keepdims=k)),
    "var": (
        lambda x, d, k: x.var(d, keepdim=k, correction=0),
        lambda a, d, k: a.var(d, keepdims=k),
    ),
    "max": (lambda x, d, k: x.max(d, keepdim=k).values, lambda a, d, k: a.max(d, keepdims=k)),
    "min": (lambda x, d, k: x.min(d, keepdim=k).values, lambda a, d, k: a.min(d, keepdims=k)),
    "logsumexp": (
        lambda x, d, k: x.logsumexp(d, keepdim=k),
        lambda a, d, k: np_logsumexp(a, d, keepdims=k),
    ),
    "softmax": (lambda x, d, k: x.softmax(d), lambda a, d, k: np_softmax(a, d)),
    "log_softmax": (lambda x, d, k: x.log_softmax(d), lambda a, d, k: np.log(np_softmax(a, d))),
}


@pytest.mark.parametrize("name", list(REDUCTIONS))
@HYPO
@given(data=st.data())
def test_reductions_hypothesis(name: str, data: Any) -> None:
    fn, ref = REDUCTIONS[name]
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    keepdim = data.draw(st.booleans())
    a = sample("real", shape, np.random.default_rng(len(shape)))
    out = fn(ts.tensor(a), dim, keepdim)
    np.testing.assert_allclose(out.data, ref(a, dim, keepdim), rtol=1e-10, atol=1e-12)
    assert ts.gradcheck(lambda x: fn(x, dim, keepdim), [ts.tensor(a, requires_grad=True)])


MULTI_DIM = {
    "sum": np.sum,
    "mean": np.mean,
    "amax": np.max,
    "amin": np.min,
    "logsumexp": lambda a, axis, keepdims: np_logsumexp(a, axis, keepdims),
}


@pytest.mark.parametrize("name", list(MULTI_DIM))
@HYPO
@given(data=st.data())
def test_multi_dim_reductions_hypothesis(name: str, data: Any) -> None:
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3))
    dims = tuple(data.draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True)))
    keepdim = data.draw(st.booleans())
    a = sample("real", shape, np.random.default_rng(0))
    out = getattr(ts.tensor(a), name)(dims, keepdim=keepdim)
    expected = MULTI_DIM[name](a, axis=dims, keepdims=keepdim)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    fn = lambda x: getattr(x, name)(dims, keepdim=keepdim)  # noqa: E731
    assert ts.gradcheck(fn, [ts.tensor(a, requires_grad=True)])


def _check_index(shape: tuple, key: Any) -> None:
    a = sample("real", shape, np.random.default_rng(0))
    out = ts.tensor(a)[key]
    expected = a[key]
    assert out.shape == expected.shape
    np.testing.assert_array_equal(out.data, expected)
    assert ts.gradcheck(lambda x: x[key], [ts.tensor(a, requires_grad=True)])


@HYPO
@given(data=st.data())
def test_basic_indexing_hypothesis(data: Any) -> None:
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    key = data.draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    _check_index(shape, key)


@HYPO
@given(data=st.data())
def test_integer_array_indexing_hypothesis(data: Any) -> None:
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    key = data.draw(hnp.integer_array_indices(shape, result_shape=hnp.array_shapes(max_dims=2)))
    _check_index(shape, key)  # indices repeat often: the gradient must accumulate them


@HYPO
@given(data=st.data())
def test_boolean_mask_indexing_hypothesis(data: Any) -> None:
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    lead = data.draw(st.integers(1, len(shape)))
    mask = data.draw(hnp.arrays(np.bool_, shape[:lead]))
    _check_index(shape, ts.tensor(mask))


# ----------------------------------------------------------------------------- semantics


def test_max_dim_returns_values_and_indices():
    a = np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]])
    x = ts.tensor(a, requires_grad=True)
    values, indices = x.max(1)
    result = x.max(dim=1)
    assert result.values.shape == (2,) and result.indices.dtype == np.int64
    np.testing.assert_array_equal(values.data, [5.0, 7.0])
    np.testing.assert_array_equal(indices.data, [1, 0])  # the first of tied maxima
    assert not indices.requires_grad
    values.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0, 1, 0], [1, 0, 0]])  # only the index picked
    kept = x.min(0, keepdim=True)
    assert kept.values.shape == (1, 3) and kept.indices.shape == (1, 3)
    np.testing.assert_array_equal(kept.indices.data, [[0, 1, 0]])


def test_full_max_min_share_gradient_between_ties():
    x = ts.tensor([1.0, 3.0, 3.0, -2.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad.data, [0, 0.5, 0.5, 0])
    x.grad = None
    (x.min() + x.amax(0)).backward()
    np.testing.assert_array_equal(x.grad.data, [0, 0.5, 0.5, 1])


@pytest.mark.parametrize("correction", [0, 1, 2])
def test_var_correction(correction):
    a = np.random.default_rng(3).standard_normal((4, 5))
    x = ts.tensor(a)
    np.testing.assert_allclose(x.var(1, correction=correction).data, a.var(1, ddof=correction))
    np.testing.assert_allclose(x.var(correction=correction).item(), a.var(ddof=correction))
    np.testing.assert_allclose(x.var(0, unbiased=False).data, a.var(0))
    np.testing.assert_allclose(x.std(0).data, a.std(0, ddof=1))


def test_mean_of_integers_needs_float_first():
    x = ts.tensor([[1, 2], [3, 5]])
    with pytest.raises(RuntimeError, match="floating point"):  # as PyTorch
        x.mean()
    assert x.float().mean().dtype == np.float32 and x.float().mean().item() == 2.75
    np.testing.assert_array_equal(x.float().mean(0).data, [2.0, 3.5])


def test_getitem_repeated_indices_accumulate():
    x = ts.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    (x[[0, 0, 2, 0]] * ts.tensor([1.0, 10.0, 100.0, 1000.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1011.0, 0.0, 100.0, 0.0])
    m = ts.zeros(3, 2, requires_grad=True)
    m[ts.tensor([1, 1]), ts.tensor([0, 0])].sum().backward()
    np.testing.assert_array_equal(m.grad.data, [[0, 0], [2, 0], [0, 0]])


def test_getitem_boolean_mask():
    x = ts.tensor([[1.0, -2.0], [-3.0, 4.0]], requires_grad=True)
    picked = x[x > 0]
    np.testing.assert_array_equal(picked.data, [1.0, 4.0])
    picked.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[1, 0], [0, 1]])


def test_getitem_index_errors_name_the_problem():
    x = ts.zeros(3, 4)
    with pytest.raises(IndexError, match="out of bounds"):
        x[5]
    with pytest.raises(IndexError, match="integer or bool"):
        x[ts.tensor([0.5])]


def test_split_and_chunk():
    x = ts.tensor(np.arange(10.0), requires_grad=True)
    pieces = x.split(4)
    assert [p.shape for p in pieces] == [(4,), (4,), (2,)]
    assert [p.shape for p in x.split([3, 7])] == [(3,), (7,)]
    assert [p.shape for p in x.chunk(3)] == [(4,), (4,), (2,)]
    assert [p.shape for p in x.chunk(5)] == [(2,)] * 5
    (pieces[0].sum() * 1 + pieces[2].sum() * 3).backward()
    np.testing.assert_array_equal(x.grad.data, [1] * 4 + [0] * 4 + [3] * 2)
    with pytest.raises(RuntimeError, match="sum to 9"):
        x.split([4, 5])
    with pytest.raises(RuntimeError, match="positive"):
        x.split(0)


def test_masked_fill_blocks_gradient_where_filled():
    x = ts.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.masked_fill(ts.tensor([True, False, True]), float("-inf"))
    np.testing.assert_array_equal(y.data, [-np.inf, 2.0, -np.inf])
    (y.softmax(0) * 5).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 0.0])
    with pytest.raises(RuntimeError, match="bool"):
        x.masked_fill(ts.tensor([1, 0, 1]), 0.0)


def test_clamp_gradient_at_bounds_is_one():
    # PyTorch: the gradient passes where min <= x <= max, bounds included
    x = ts.tensor([-1.0, 0.0, 0.5, 1.0, 2.0], requires_grad=True)
    y = x.clamp(0.0, 1.0)
    np.testing.assert_array_equal(y.data, [0.0, 0.0, 0.5, 1.0, 1.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 1.0, 1.0, 1.0, 0.0])
    with pytest.raises(RuntimeError, match="at least one"):
        x.clamp()


def test_maximum_minimum_ties_split_the_gradient():
    a = ts.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = ts.tensor([1.0, 1.0, 4.0], requires_grad=True)
    (ts.maximum(a, b).sum() + 10 * ts.minimum(a, b).sum()).backward()
    np.testing.assert_array_equal(a.grad.data, [5.5, 1.0, 10.0])
    np.testing.assert_array_equal(b.grad.data, [5.5, 10.0, 1.0])


@pytest.mark.parametrize("dtype", [ts.float32, ts.float64])
def test_softmax_family_stable_at_huge_logits(dtype):
    logits = ts.tensor([[1e4, 0.0, -1e4], [1e4, 1e4, 1e4 - 1]], dtype=dtype, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            p = logits.softmax(1)
            lp = logits.log_softmax(1)
            lse = logits.logsumexp(1)
            (p.sum() + lp.sum() + lse.sum()).backward()
    for t in (p, lp, lse, logits.grad):
        assert np.isfinite(t.data).all() and t.dtype == dtype
    e = np.exp(-1.0)
    exact = np.array([[1.0, 0.0, 0.0], [1.0, 1.0, e]]) / [[1.0], [2 + e]]  # softmax, float64
    np.testing.assert_allclose(p.data, exact, rtol=1e-6)
    np.testing.assert_allclose(lp.data[0], [0.0, -1e4, -2e4])
    np.testing.assert_allclose(lse.data, [1e4, 1e4 + np.log(2 + e)], rtol=1e-6)
    # d/dx of sum(p) + sum(log p) + logsumexp over C = 3 classes: 0 + (1 - C p) + p = 1 - 2 p;
    # logsumexp's gradient exp(x - lse) inherits lse's rounding, ulp(1e4) = 1e-3 in float32
    # (PyTorch's too: the parity test below compares the two)
    tol = 1e-3 if dtype == ts.float32 else 1e-10
    np.testing.assert_allclose(logits.grad.data, 1 - 2 * exact, rtol=0, atol=tol)


@pytest.mark.parametrize("dtype", [ts.float32, ts.float64])
def test_sigmoid_tanh_exact_at_huge_inputs_without_warnings(dtype):
    old = np.seterr(all="raise")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            x = ts.tensor([1e4, -1e4, 800.0, -800.0], dtype=dtype, requires_grad=True)
            s, t = x.sigmoid(), x.tanh()
            (s.sum() + t.sum()).backward()
    finally:
        np.seterr(**old)
    np.testing.assert_array_equal(s.data, [1.0, 0.0, 1.0, 0.0])
    np.testing.assert_array_equal(t.data, [1.0, -1.0, 1.0, -1.0])
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 0.0, 0.0])
    assert s.dtype == t.dtype == x.grad.dtype == dtype


def test_comparisons_and_argmax_are_not_differentiable():
    a = np.array([[0.5, -1.0, 2.0], [3.0, 3.0, -4.0]])
    x = ts.tensor(a, requires_grad=True)
    for ours_, theirs in [
        (x > 0, a > 0),
        (x >= 3, a >= 3),
        (x < 0.5, a < 0.5),
        (x <= 0.5, a <= 0.5),
        (x == 3, a == 3),
        (x != 3, a != 3),
        (x.eq(x), a == a),
    ]:
        assert ours_.dtype == np.bool_ and not ours_.requires_grad and ours_.grad_fn is None
        np.testing.assert_array_equal(ours_.data, theirs)
    assert x.argmax().item() == 3 and x.argmin().item() == 5
    np.testing.assert_array_equal(x.argmax(1).data, [2, 0])
    np.testing.assert_array_equal(x.argmin(0, keepdim=True).data, [[0, 0, 1]])
    assert x.argmax(1).dtype == np.int64 and not x.argmax(1).requires_grad


def test_softmax_family_dim_arguments():
    x = ts.zeros(2, 3)
    for name in ("softmax", "log_softmax"):
        with pytest.raises(TypeError, match="dim must be an int"):
            getattr(x, name)((0, 1))
        with pytest.raises(IndexError, match="out of range"):
            getattr(x, name)(2)
    with pytest.raises(TypeError, match="dim is required"):
        x.logsumexp(None)


def test_pow_zero_exponent_has_zero_gradient():
    x = ts.tensor([0.0, 2.0], requires_grad=True)
    (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])


def test_contiguous_copies_only_when_needed():
    x = ts.randn(3, 4, requires_grad=True)
    assert x.contiguous() is x
    y = x.T.contiguous()
    assert y.is_contiguous() and y.grad_fn.name() == "ContiguousBackward"
    (y * ts.arange(12.0).reshape(4, 3)).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.arange(12.0).reshape(4, 3).T)


def test_addmm_row_is_addmm_of_the_row_without_an_index_node():
    # AddMM(c, a, b, row=t) = c[t] + a @ b, as the layers' steps use it on the whole projection
    rng = np.random.default_rng(0)
    c_np, a_np, b_np = (
        rng.standard_normal((5, 2, 3)),
        rng.standard_normal((2, 4)),
        rng.standard_normal((4, 3)),
    )
    c, a, b = (ts.tensor(x, requires_grad=True) for x in (c_np, a_np, b_np))
    y = ts.ops.AddMM.apply(c, a, b, row=3)
    np.testing.assert_allclose(y.data, c_np[3] + a_np @ b_np, rtol=1e-12)
    assert [p.fn.__name__ for p in y.grad_fn.parents if type(p) is ts.autograd.Context] == []
    (y * y).sum().backward()
    c2, a2, b2 = (ts.tensor(x, requires_grad=True) for x in (c_np, a_np, b_np))
    (ts.addmm(c2[3], a2, b2) ** 2).sum().backward()
    for mine, ref in ((c, c2), (a, a2), (b, b2)):
        np.testing.assert_allclose(mine.grad.data, ref.grad.data, rtol=1e-12)
    assert not c.grad.numpy()[[0, 1, 2, 4]].any()
    # finite differences, two rows of the same c in one graph (their pieces add up)
    assert ts.gradcheck(
        lambda c, a, b: ts.ops.AddMM.apply(c, a, b, row=1) * ts.ops.AddMM.apply(c, a, b, row=-1),
        [ts.tensor(x, requires_grad=True) for x in (c_np, a_np, b_np)],
    )


def test_addmm_row_out_of_range_names_the_op_and_shapes():
    c, a, b = ts.zeros(5, 2, 3), ts.zeros(2, 4), ts.zeros(4, 3)
    with pytest.raises(IndexError, match=r"AddMM: .*\(5, 2, 3\)"):
        ts.ops.AddMM.apply(c, a, b, row=5)


def test_addcmul_row_is_addcmul_of_the_row():
    rng = np.random.default_rng(1)
    arrays = rng.standard_normal((4, 2, 3)), rng.standard_normal((2, 3)), rng.standard_normal(3)
    c, a, b = (ts.tensor(x, requires_grad=True) for x in arrays)
    c2, a2, b2 = (ts.tensor(x, requires_grad=True) for x in arrays)
    y = ts.ops.AddCMul.apply(c, a, b, row=2)
    y2 = ts.addcmul(c2[2], a2, b2)
    np.testing.assert_allclose(y.data, y2.data, rtol=1e-12)
    (y * y).sum().backward()
    (y2 * y2).sum().backward()
    for mine, ref in ((c, c2), (a, a2), (b, b2)):
        np.testing.assert_allclose(mine.grad.data, ref.grad.data, rtol=1e-12)
    # a row broadcast against the product: its gradient is summed back to the row's shape
    shapes = ((4, 1, 3), (2, 3), (3,), (3, 3))
    assert ts.gradcheck(
        lambda c, a, v, w: (
            ts.ops.AddCMul.apply(c, a, v, row=0) * ts.ops.AddMM.apply(c, a, w, row=3)
        ),
        [ts.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes],
    )


# ----------------------------------------------------------------------------- PyTorch parity
# The table above checks every op against PyTorch at generic points; here the points are the
# awkward ones, where a reimplementation most easily picks a different convention: kinks, ties,
# bounds, huge values, dtypes.


def _both(fn, *arrays, **kw):
    """check_parity with fn written once for lib in (tinygrad_seq, torch)."""
    torch = require_torch()
    check_parity(lambda *xs: fn(ts, *xs), lambda *xs: fn(torch, *xs), arrays, **kw)


KINKS = np.array([-2.0, -1.0, 0.0, 0.5, 1.0, 3.0])


@pytest.mark.parity
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
def test_kinks_match_torch(name, fn):
    _both(fn, KINKS)


@pytest.mark.parity
def test_maximum_minimum_ties_with_broadcasting_match_torch():
    a = np.array([[1.0, 2.0, 3.0], [0.0, 2.0, 5.0]])
    b = np.array([1.0, 2.0, 4.0])
    _both(lambda lib, x, y: lib.maximum(x, y) * 2 + lib.minimum(x, y) * 3, a, b)


@pytest.mark.parity
def test_max_dim_values_and_indices_match_torch():
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


@pytest.mark.parity
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_family_at_huge_logits_matches_torch(dtype):
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


@pytest.mark.parity
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_tanh_at_huge_inputs_match_torch(dtype):
    a = np.array([1e4, -1e4, 50.0, -50.0, 0.0], dtype=dtype)
    torch = require_torch()
    for name in ("sigmoid", "tanh"):
        x, xt = ts.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        y, yt = getattr(x, name)(), getattr(xt, name)()
        y.sum().backward()
        yt.sum().backward()
        np.testing.assert_array_equal(y.data, yt.detach().numpy())
        np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), atol=1e-7)


@pytest.mark.parity
def test_masked_softmax_with_minus_inf_matches_torch():
    a = np.random.default_rng(1).standard_normal((3, 4))
    mask = np.array([[False, True, False, True]] * 2 + [[True, False, False, False]])
    _both(lambda lib, x: x.masked_fill(lib.tensor(mask), float("-inf")).softmax(-1), a)


@pytest.mark.parity
@pytest.mark.parametrize("correction", [0, 1, 2])
def test_var_std_correction_matches_torch(correction):
    a = np.random.default_rng(2).standard_normal((4, 5))
    _both(lambda lib, x: x.var(1, correction=correction) + x.std(0, correction=correction).sum(), a)
    _both(lambda lib, x: x.var(correction=correction), a)


@pytest.mark.parity
def test_getitem_accumulates_like_torchs_index_put():
    a = np.random.default_rng(3).standard_normal((4, 3))
    rows = np.array([0, 3, 0, 0, 2])
    _both(lambda lib, x: x[lib.tensor(rows)] * 2 + x[lib.tensor(rows), 1:].sum(), a)
    _both(lambda lib, x: x[lib.tensor(rows), lib.tensor(rows % 3)], a)
    _both(lambda lib, x: x[x > 0], a)


@pytest.mark.parity
def test_split_chunk_uneven_match_torch():
    a = np.random.default_rng(4).standard_normal((7, 5))
    _both(lambda lib, x: x.split(3), a)
    _both(lambda lib, x: x.chunk(3, 1), a)
    _both(lambda lib, x: x.chunk(4), a)


@pytest.mark.parity
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
