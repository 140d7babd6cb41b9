"""Tests of the ops of issue 16 in tinygrad_seq.tensor and ops.py ("more ops").

Decoding and sampling (sort, topk, max/min overloads, multinomial), gather/scatter and friends,
element-wise functions, norms, triangles, einsum, and the edge numerics of pow, std and the
softmax family. The differentiable ones go through test_ops.py's template: one `Case` per op,
checked against numpy, by a float64 gradcheck, in float32, and against PyTorch (`parity`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from helpers import check_parity, require_torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from test_ops import Case, _tuple, case, mask_for

import tinygrad_seq as ts

GIDX = np.array([[0, 2, 2], [1, 0, 1], [3, 3, 0]])  # gather: repeats accumulate
SIDX = np.array([[0, 2], [3, 1], [2, 0]])  # scatter: distinct per row (torch's rule)
AIDX = np.array([[0, 2, 0], [1, 1, 1], [3, 0, 3]])  # scatter_add: repeats add
SEL = np.array([2, 0, 2])


def _t(lib, arr):
    return lib.tensor(arr)


def _np_prod_zero(a):
    return np.where(mask_for(a.shape), 0.0, a)


def _erf(a):
    from math import erf

    return np.vectorize(erf)(a)


def _np_norm(a, p, axis=None, keepdims=False):
    if p == np.inf:
        return np.abs(a).max(axis=axis, keepdims=keepdims)
    if p == -np.inf:
        return np.abs(a).min(axis=axis, keepdims=keepdims)
    return (np.abs(a) ** p).sum(axis=axis, keepdims=keepdims) ** (1 / p)


def _np_desc(a, axis):
    return -np.sort(-a, axis)


MORE = [
    # sorting and decoding
    case("sort", lambda lib, a: lib.sort(a, 1).values, lambda a: np.sort(a, 1), ((3, 4),)),
    case(
        "sort_desc",
        lambda lib, a: a.sort(dim=0, descending=True).values,
        lambda a: _np_desc(a, 0),
        ((3, 4),),
        ((5,),),
    ),
    case(
        "topk", lambda lib, a: lib.topk(a, 2).values, lambda a: _np_desc(a, -1)[..., :2], ((3, 4),)
    ),
    case(
        "topk_smallest",
        lambda lib, a: a.topk(2, dim=0, largest=False)[0],
        lambda a: np.sort(a, 0)[:2],
        ((3, 4),),
        ((2, 3, 4),),
    ),
    case("max_all", lambda lib, a: lib.max(a), np.max, ((3, 4),)),
    case("max_dim", lambda lib, a: lib.max(a, 1).values, lambda a: a.max(1), ((3, 4),)),
    case(
        "min_dim_keepdim",
        lambda lib, a: lib.min(a, 0, keepdim=True)[0],
        lambda a: a.min(0, keepdims=True),
        ((3, 4),),
    ),
    case("max_binary", lambda lib, a, b: lib.max(a, b), np.maximum, ((3, 4), (4,))),
    case("min_binary", lambda lib, a, b: lib.min(a, b), np.minimum, ((3, 4), (3, 4))),
    # gathering and scattering
    case(
        "gather",
        lambda lib, a: lib.gather(a, 1, _t(lib, GIDX)),
        lambda a: np.take_along_axis(a, GIDX, 1),
        ((3, 4),),
    ),
    case(
        "gather_dim0",
        lambda lib, a: a.gather(0, _t(lib, GIDX[:2, :3].T % 3)),
        lambda a: np.take_along_axis(a[:, :2], GIDX[:2, :3].T % 3, 0),
        ((3, 4),),
    ),
    case(
        "scatter",
        lambda lib, a, b: lib.scatter(a, 1, _t(lib, SIDX), b),
        lambda a, b: _np_scatter(a, b, SIDX, add=False),
        ((3, 4), (3, 2)),
    ),
    case(  # a source larger than index: torch 2.13's own backward fails on it
        "scatter_big_src",
        lambda lib, a, b: a.scatter(1, _t(lib, SIDX), b),
        lambda a, b: _np_scatter(a, b, SIDX, add=False),
        ((3, 4), (3, 3)),
        parity=False,
    ),
    case(
        "scatter_value",
        lambda lib, a: a.scatter(1, _t(lib, SIDX), 1.5),
        lambda a: _np_scatter(a, np.full((3, 2), 1.5), SIDX, add=False),
        ((3, 4),),
    ),
    case(
        "scatter_add",
        lambda lib, a, b: lib.scatter_add(a, 1, _t(lib, AIDX), b),
        lambda a, b: _np_scatter(a, b, AIDX, add=True),
        ((3, 4), (3, 3)),
    ),
    case(
        "index_select",
        lambda lib, a: lib.index_select(a, 1, _t(lib, SEL)),
        lambda a: a[:, SEL],
        ((3, 4),),
        ((2, 3, 4),),
    ),
    case(
        "masked_select",
        lambda lib, a: lib.masked_select(a, _t(lib, mask_for((4,)))),
        lambda a: a[np.broadcast_to(mask_for((4,)), a.shape)],
        ((3, 4),),
        ((4,),),
    ),
    # products
    case("bmm", lambda lib, a, b: lib.bmm(a, b), np.matmul, ((2, 3, 4), (2, 4, 5))),
    case(
        "baddbmm",
        lambda lib, c, a, b: lib.baddbmm(c, a, b, beta=0.5, alpha=-2.0),
        lambda c, a, b: 0.5 * c - 2.0 * (a @ b),
        ((2, 3, 5), (2, 3, 4), (2, 4, 5)),
        ((5,), (2, 3, 4), (2, 4, 5)),
    ),
    case(
        "baddbmm_beta0",
        lambda lib, c, a, b: lib.baddbmm(c, a, b, beta=0),
        lambda c, a, b: a @ b,
        ((2, 3, 5), (2, 3, 4), (2, 4, 5)),
    ),
    case("outer", lambda lib, a, b: lib.outer(a, b), np.outer, ((3,), (4,))),
    case("cumsum", lambda lib, a: lib.cumsum(a, 1), lambda a: np.cumsum(a, 1), ((3, 4),)),
    case("cumsum_neg", lambda lib, a: a.cumsum(-1), lambda a: np.cumsum(a, -1), ((2, 3, 4),)),
    case(
        "cumprod",
        lambda lib, a: lib.cumprod(a, 1),
        lambda a: np.cumprod(a, 1),
        ((3, 4),),
        domain="nonzero",
    ),
    case(
        "cumprod_zeros",
        lambda lib, a: (a * _t(lib, ~mask_for(a.shape))).cumprod(0),
        lambda a: np.cumprod(_np_prod_zero(a), 0),
        ((5, 3),),
    ),
    case("prod", lambda lib, a: lib.prod(a), np.prod, ((3, 4),), ((),)),
    case(
        "prod_dim",
        lambda lib, a: a.prod(1, keepdim=True),
        lambda a: a.prod(1, keepdims=True),
        ((2, 3, 4),),
    ),
    case(
        "prod_zeros",
        lambda lib, a: (a * _t(lib, ~mask_for(a.shape))).prod(0),
        lambda a: _np_prod_zero(a).prod(0),
        ((4, 3),),
    ),
    case(
        "prod_one_zero",
        lambda lib, a: (a * _t(lib, np.arange(4) != 2)).prod(),
        lambda a: (a * (np.arange(4) != 2)).prod(),
        ((4,),),
    ),
    # tiling and reordering
    case("repeat", lambda lib, a: a.repeat(2, 1, 3), lambda a: np.tile(a, (2, 1, 3)), ((3, 4),)),
    case("repeat_0d", lambda lib, a: a.repeat(2), lambda a: np.tile(a, 2), ((),)),
    case(
        "repeat_interleave",
        lambda lib, a: lib.repeat_interleave(a, 2, dim=0),
        lambda a: np.repeat(a, 2, 0),
        ((3, 4),),
    ),
    case(
        "repeat_interleave_counts",
        lambda lib, a: a.repeat_interleave(_t(lib, np.array([1, 0, 3, 2])), dim=1),
        lambda a: np.repeat(a, [1, 0, 3, 2], 1),
        ((3, 4),),
    ),
    case(
        "repeat_interleave_flat",
        lambda lib, a: a.repeat_interleave(2),
        lambda a: np.repeat(a, 2),
        ((3, 4),),
    ),
    case("flip", lambda lib, a: lib.flip(a, (0, 2)), lambda a: np.flip(a, (0, 2)), ((2, 3, 4),)),
    case("flip_one", lambda lib, a: a.flip(-1), lambda a: np.flip(a, -1), ((3, 4),)),
    case("roll", lambda lib, a: lib.roll(a, 1, 0), lambda a: np.roll(a, 1, 0), ((3, 4),)),
    case(
        "roll_dims",
        lambda lib, a: a.roll((2, -1), (1, 2)),
        lambda a: np.roll(a, (2, -1), (1, 2)),
        ((2, 3, 4),),
    ),
    case("roll_flat", lambda lib, a: a.roll(5), lambda a: np.roll(a, 5), ((3, 4),)),
    case(
        "unbind",
        lambda lib, a: lib.unbind(a, 1),
        lambda a: tuple(a[:, i] for i in range(4)),
        ((3, 4),),
    ),
    case(
        "chunk_uneven",
        lambda lib, a: lib.chunk(a, 3, 1),
        lambda a: (a[:, :2], a[:, 2:4], a[:, 4:]),
        ((2, 5),),
    ),
    case(
        "chunk_fewer",
        lambda lib, a: a.chunk(4, 0),
        lambda a: (a[:2], a[2:4], a[4:]),
        ((6, 2),),
    ),
    case(
        "expand_as",
        lambda lib, a, b: a.expand_as(b) * b,
        lambda a, b: a * b,
        ((3, 1), (2, 3, 4)),
    ),
    # norms
    case("norm", lambda lib, a: a.norm(), lambda a: np.sqrt((a * a).sum()), ((3, 4),), ((),)),
    case("norm_fn", lambda lib, a: lib.norm(a, 2, 1), lambda a: _np_norm(a, 2, 1), ((3, 4),)),
    case(
        "norm_fro_keepdim",
        lambda lib, a: a.norm("fro", (0, 1), keepdim=True),
        lambda a: _np_norm(a, 2, (0, 1), True),
        ((2, 3, 4),),
    ),
    case(
        "norm_1",
        lambda lib, a: a.norm(1, 0),
        lambda a: _np_norm(a, 1, 0),
        ((3, 4),),
        domain="nonzero",
    ),
    case(
        "norm_3",
        lambda lib, a: a.norm(3, -1),
        lambda a: _np_norm(a, 3, -1),
        ((3, 4),),
        domain="nonzero",
    ),
    case("norm_inf", lambda lib, a: a.norm(float("inf")), lambda a: _np_norm(a, np.inf), ((3, 4),)),
    case(
        "norm_neginf",
        lambda lib, a: a.norm(float("-inf"), 1),
        lambda a: _np_norm(a, -np.inf, 1),
        ((3, 4),),
    ),
    # element-wise functions
    case("rsqrt", lambda lib, a: lib.rsqrt(a), lambda a: a**-0.5, ((3, 4),), domain="positive"),
    case("sin", lambda lib, a: lib.sin(a), np.sin, ((3, 4),), ((),)),
    case("cos", lambda lib, a: a.cos(), np.cos, ((3, 4),)),
    case("tan", lambda lib, a: lib.tan(a * 0.5), lambda a: np.tan(a * 0.5), ((3, 4),)),
    case("sinh", lambda lib, a: lib.sinh(a), np.sinh, ((3, 4),)),
    case("cosh", lambda lib, a: a.cosh(), np.cosh, ((3, 4),)),
    case("log1p", lambda lib, a: lib.log1p(a), np.log1p, ((3, 4),), domain="positive"),
    case("expm1", lambda lib, a: lib.expm1(a), np.expm1, ((3, 4),)),
    case("log2", lambda lib, a: lib.log2(a), np.log2, ((3, 4),), domain="positive"),
    case("log10", lambda lib, a: a.log10(), np.log10, ((3, 4),), domain="positive"),
    case("erf", lambda lib, a: lib.erf(a), _erf, ((3, 4),), ((),)),
    case(
        "sign",
        lambda lib, a: lib.sign(a) * a,
        lambda a: np.sign(a) * a,
        ((3, 4),),
        domain="nonzero",
    ),
    case("floor", lambda lib, a: lib.floor(a * 3) + a, lambda a: np.floor(a * 3) + a, ((3, 4),)),
    case("ceil", lambda lib, a: lib.ceil(a * 3) * a, lambda a: np.ceil(a * 3) * a, ((3, 4),)),
    case("round", lambda lib, a: lib.round(a * 3) - a, lambda a: np.round(a * 3) - a, ((3, 4),)),
    case(
        "pow_tensor",
        lambda lib, a, b: a**b,
        np.power,
        ((3, 4), (3, 4)),
        ((3, 4), (4,)),
        domain=("positive", "real"),
    ),
    case("rpow_tensor", lambda lib, a: 2.5**a, lambda a: 2.5**a, ((3, 4),)),
    # triangles, diagonals, einsum
    case("tril", lambda lib, a: lib.tril(a), np.tril, ((4, 4),), ((2, 3, 4),)),
    case("triu_k", lambda lib, a: lib.triu(a, 1), lambda a: np.triu(a, 1), ((3, 4),)),
    case("tril_neg", lambda lib, a: a.tril(-1), lambda a: np.tril(a, -1), ((4, 3),)),
    case("diag_vec", lambda lib, a: lib.diag(a), np.diag, ((4,),)),
    case("diag_vec_k", lambda lib, a: a.diag(-2), lambda a: np.diag(a, -2), ((3,),)),
    case("diag_mat", lambda lib, a: lib.diag(a), np.diag, ((3, 4),)),
    case("diag_mat_k", lambda lib, a: a.diag(1), lambda a: np.diag(a, 1), ((4, 3),)),
    case("diag_mat_negk", lambda lib, a: a.diag(-1), lambda a: np.diag(a, -1), ((3, 4),)),
    case(
        "einsum_mm",
        lambda lib, a, b: lib.einsum("ij,jk->ik", a, b),
        lambda a, b: a @ b,
        ((3, 4), (4, 5)),
    ),
    case(
        "einsum_batch",
        lambda lib, a, b: lib.einsum("bij,bjk->bik", [a, b]),
        np.matmul,
        ((2, 3, 4), (2, 4, 5)),
    ),
    case(
        "einsum_implicit",
        lambda lib, a, b: lib.einsum("ij,jk", a, b),
        lambda a, b: a @ b,
        ((3, 4), (4, 5)),
    ),
    case("einsum_outer", lambda lib, a, b: lib.einsum("i,j->ij", a, b), np.outer, ((3,), (4,))),
    case("einsum_sum", lambda lib, a: lib.einsum("ij->j", a), lambda a: a.sum(0), ((3, 4),)),
    case(
        "einsum_dot",
        lambda lib, a, b: lib.einsum("ij,ij->", a, b),
        lambda a, b: (a * b).sum(),
        ((3, 4), (3, 4)),
    ),
    case(
        "einsum_ellipsis",
        lambda lib, a, b: lib.einsum("...ij,...jk->...ik", a, b),
        np.matmul,
        ((2, 3, 4), (2, 4, 5)),
        ((1, 3, 4), (2, 4, 5)),
        ((3, 4), (2, 2, 4, 5)),
    ),
    case("einsum_trace", lambda lib, a: lib.einsum("ii", a), np.trace, ((4, 4),)),
    case(
        "einsum_diag_mul",
        lambda lib, a, b: lib.einsum("iij,j->ij", a, b),
        lambda a, b: np.einsum("iij,j->ij", a, b),
        ((3, 3, 2), (2,)),
    ),
    case(
        "einsum_diag_sum",
        lambda lib, a, b: lib.einsum("iik,kj->j", a, b),
        lambda a, b: np.einsum("iik,kj->j", a, b),
        ((3, 3, 4), (4, 2)),
    ),
    case(
        "einsum_attention",
        lambda lib, q, k, v: lib.einsum("bhqk,bhkd->bhqd", lib.einsum("bhqd,bhkd->bhqk", q, k), v),
        lambda q, k, v: (q @ k.swapaxes(-1, -2)) @ v,
        ((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 4)),
    ),
]


def _np_scatter(a, src, idx, add):
    out = a.copy()
    rows = np.arange(idx.shape[0])[:, None]
    part = src[: idx.shape[0], : idx.shape[1]]
    if add:
        np.add.at(out, (rows, idx), part)
    else:
        out[rows, idx] = part
    return out


PARAMS = [
    pytest.param(
        c, shapes, id=f"{c.name}-" + "-".join("x".join(map(str, s)) or "0d" for s in shapes)
    )
    for c in MORE
    for shapes in c.shapes
]


@pytest.mark.parametrize("c, shapes", PARAMS)
def test_forward_matches_numpy(c: Case, shapes: tuple) -> None:
    arrays = c.inputs(shapes)
    outs = _tuple(c.fn(ts, *[ts.tensor(a) for a in arrays]))
    expected = _tuple(c.ref(*[a.copy() for a in arrays]))
    assert len(outs) == len(expected)
    for o, e in zip(outs, expected):
        assert o.shape == np.shape(e) and o.dtype == np.float64
        np.testing.assert_allclose(o.data, e, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("c, shapes", PARAMS)
def test_gradcheck(c: Case, shapes: tuple) -> None:
    inputs = [ts.tensor(a, requires_grad=True) for a in c.inputs(shapes)]
    assert ts.gradcheck(lambda *xs: c.fn(ts, *xs), inputs)


@pytest.mark.parametrize("c, shapes", PARAMS)
def test_float32_stays_float32(c: Case, shapes: tuple) -> None:
    arrays = [a.astype(np.float32) for a in c.inputs(shapes)]
    inputs = [ts.tensor(a, requires_grad=True) for a in arrays]
    outs = _tuple(c.fn(ts, *inputs))
    sum(o.sum() for o in outs).backward()
    assert all(o.dtype == np.float32 for o in outs)
    assert all(x.grad.dtype == np.float32 for x in inputs)


@pytest.mark.parity
@pytest.mark.parametrize("c, shapes", [p for p in PARAMS if p.values[0].parity])
def test_torch_parity(c: Case, shapes: tuple) -> None:
    torch = require_torch()
    check_parity(lambda *xs: c.fn(ts, *xs), lambda *xs: c.fn(torch, *xs), c.inputs(shapes))


# ----------------------------------------------------------------------------- indices, ties, NaN


@pytest.mark.parity
@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: lib.sort(x, 1),
        lambda lib, x: x.sort(dim=0, descending=True, stable=True),
        lambda lib, x: lib.argsort(x, dim=-1, descending=True, stable=True),
        lambda lib, x: lib.sort(x.flatten(), stable=True, descending=True),
        lambda lib, x: lib.max(x, 1),
        lambda lib, x: lib.min(x, 0, True),
        lambda lib, x: (lib.argmax(x), lib.argmin(x, 1), lib.argmax(x, 0, keepdim=True)),
        lambda lib, x: lib.nonzero(x > 0),
        lambda lib, x: lib.nonzero(x > 0, as_tuple=True),
        lambda lib, x: (lib.any(x > 1), lib.all(x > -5, 1), (x > 0).any(0, keepdim=True)),
        lambda lib, x: (lib.isnan(x), lib.isinf(x), lib.isfinite(x)),
        lambda lib, x: lib.cumsum(x > 0, 1),
        lambda lib, x: lib.prod((x > 0).long() + 1, 0),
        lambda lib, x: (lib.cumsum(x > 0, 0, dtype=lib.float64), (x > 0).prod(1, dtype=lib.int32)),
        lambda lib, x: (
            lib.floor((x > 0).long()),
            lib.round((x > 0).long()),
            (x > 0).long().ceil(),
        ),
    ],
)
def test_indices_and_bool_results_match_torch(call):
    """Ties keep their order (stable), NaN sorts as the largest, as in PyTorch."""
    torch = require_torch()
    x = np.array([[1.0, 3.0, 1.0, -2.0], [0.5, np.nan, 0.5, np.inf], [2.0, 2.0, -1.0, 2.0]])
    ours = _tuple(call(ts, ts.tensor(x)))
    theirs = _tuple(call(torch, torch.tensor(x)))
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        assert o.dtype == t.numpy().dtype
        np.testing.assert_array_equal(o.numpy(), t.numpy())


@pytest.mark.parity
def test_topk_indices_match_torch():
    """Without ties (PyTorch leaves the order of tied entries unspecified)."""
    torch = require_torch()
    x = np.random.default_rng(0).standard_normal((3, 5))
    for call in (
        lambda lib, x: lib.topk(x, 3, 1),
        lambda lib, x: x.topk(2, 0, largest=False, sorted=True),
        lambda lib, x: x.topk(0, 1),
    ):
        for o, t in zip(call(ts, ts.tensor(x)), call(torch, torch.tensor(x))):
            np.testing.assert_array_equal(o.numpy(), t.numpy())


def test_sort_topk_values_carry_gradients_to_their_positions():
    x = ts.tensor([[3.0, 1.0, 2.0]], requires_grad=True)
    values, indices = x.topk(2)
    (values * ts.tensor([[10.0, 1.0]])).sum().backward()
    assert indices.tolist() == [[0, 2]]
    assert x.grad.tolist() == [[10.0, 0.0, 1.0]]


def test_torch_max_overloads():
    x = ts.tensor([[1.0, 5.0], [7.0, 2.0]])
    assert ts.max(x).item() == 7.0 and ts.min(x).item() == 1.0
    values, indices = ts.max(x, 1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    assert ts.max(x, dim=0, keepdim=True).values.shape == (1, 2)
    assert ts.min(x, ts.tensor([3.0, 3.0])).tolist() == [[1.0, 3.0], [3.0, 2.0]]
    assert x.max(ts.tensor(4.0)).tolist() == [[4.0, 5.0], [7.0, 4.0]]
    assert x.min(ts.tensor([3.0, 3.0])).tolist() == [[1.0, 3.0], [3.0, 2.0]]
    with pytest.raises(TypeError):
        ts.max(x, ts.tensor([1.0]), keepdim=True)


# ----------------------------------------------------------------------------- errors


@pytest.mark.parity
@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: x.topk(5),
        lambda lib, x: x.gather(1, lib.tensor([[0, 4]])),
        lambda lib, x: x.gather(1, lib.tensor([0, 1])),
        lambda lib, x: x.scatter(1, lib.tensor([[4]]), 1.0),
        lambda lib, x: x.repeat(2),
        lambda lib, x: lib.bmm(x, x),
        lambda lib, x: lib.multinomial(x.abs(), 5),
        lambda lib, x: lib.multinomial(x, 1),
        lambda lib, x: x.diag().diag().unsqueeze(0).diag(),
        lambda lib, x: x[0].tril(),
    ],
)
def test_errors_are_pytorchs_kinds(call):
    torch = require_torch()
    x = np.array([[1.0, -2.0, 3.0, 0.5], [0.0, 1.0, 2.0, 4.0]])
    with pytest.raises(Exception) as theirs:
        call(torch, torch.tensor(x))
    with pytest.raises(type(theirs.value)):
        call(ts, ts.tensor(x))


@pytest.mark.parity
@pytest.mark.parametrize(
    "shape, chunks, dim", [((0,), 2, 0), ((3, 0), 2, 1), ((5,), 4, 0), ((6,), 4, 0)]
)
def test_chunk_sizes_match_torch(shape, chunks, dim):
    torch = require_torch()
    ours = ts.zeros(*shape).chunk(chunks, dim)
    theirs = torch.zeros(*shape).chunk(chunks, dim)
    assert [o.shape for o in ours] == [tuple(t.shape) for t in theirs]
    with pytest.raises(RuntimeError, match="greater than 0"):
        ts.zeros(3).chunk(0)


# ----------------------------------------------------------------------------- sampling


def test_multinomial_is_seeded_unnormalised_and_without_replacement_distinct():
    w = ts.tensor([[1.0, 0.0, 3.0, 4.0], [0.0, 0.0, 2.0, 2.0]])  # rows need not sum to 1
    ts.manual_seed(3)
    a = ts.multinomial(w, 2)
    ts.manual_seed(3)
    b = w.multinomial(2)
    assert a.dtype == np.int64 and a.shape == (2, 2) and a.tolist() == b.tolist()
    for row, weights in zip(a.tolist(), w.tolist()):
        assert len(set(row)) == 2 and all(weights[i] > 0 for i in row)
    draws = ts.multinomial(ts.tensor([1.0, 3.0]), 20000, replacement=True)
    assert draws.shape == (20000,)
    assert abs(draws.numpy().mean() - 0.75) < 0.02  # P(1) = 3 / 4


def test_multinomial_takes_a_generator():
    g = np.random.default_rng(0)
    out = ts.multinomial(ts.tensor([0.2, 0.8]), 3, True, generator=g)
    assert out.shape == (3,)
    with pytest.raises(TypeError, match="generator"):
        ts.multinomial(ts.tensor([0.2, 0.8]), 1, generator=42)


def test_bernoulli_normal_linspace():
    ts.manual_seed(0)
    p = ts.tensor([0.0, 1.0, 0.5] * 1000, dtype=ts.float64)
    b = ts.bernoulli(p)
    assert b.dtype == np.float64 and b[0::3].sum().item() == 0 and b[1::3].sum().item() == 1000
    assert abs(b[2::3].mean().item() - 0.5) < 0.06
    n = ts.normal(2.0, 0.5, (4000,))
    assert n.dtype == np.float32 and abs(n.mean().item() - 2.0) < 0.05
    m = ts.normal(ts.zeros(3, 2), ts.ones(2))
    assert m.shape == (3, 2)
    line = ts.linspace(0, 1, 5)
    assert line.dtype == np.float32 and line.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert ts.linspace(-1, 1, 3, dtype=ts.float64, requires_grad=True).requires_grad


@pytest.mark.parity
def test_isclose_allclose_match_torch():
    torch = require_torch()
    a = np.array([1.0, 1.0 + 1e-9, np.nan, np.inf, 2.0])
    b = np.array([1.0, 1.0, np.nan, np.inf, 2.1])
    for kw in ({}, {"equal_nan": True}, {"rtol": 0.1}):
        np.testing.assert_array_equal(
            ts.isclose(ts.tensor(a), ts.tensor(b), **kw).numpy(),
            torch.isclose(torch.tensor(a), torch.tensor(b), **kw).numpy(),
        )
        assert ts.allclose(ts.tensor(a), ts.tensor(b), **kw) == torch.allclose(
            torch.tensor(a), torch.tensor(b), **kw
        )


# ----------------------------------------------------------------------------- edge numerics


def _values_and_grads(lib, fn, arrays):
    xs = [lib.tensor(a, requires_grad=True) for a in arrays]
    out = fn(lib, *xs)
    out.sum().backward()
    return out.detach().numpy(), [x.grad.numpy() for x in xs]


@pytest.mark.parity
@pytest.mark.parametrize(
    "fn, arrays",
    [
        # x ** y at x = 0: 0^0 = 1, 0^y = 0 or inf; d/dy 0 where x = 0 and y >= 0
        (lambda lib, x, y: x**y, [[0.0, 0.0, 0.0, 2.0], [0.0, 1.0, -1.0, 2.0]]),
        (lambda lib, y: 0.0**y, [[0.0, 1.0, 2.5, -1.0]]),
        # negative base, whole-number exponent: (-2)^2 = 4, (-2)^3 = -8
        (lambda lib, x, y: x**y, [[-2.0, -2.0, -3.0], [2.0, 3.0, 0.0]]),
        (lambda lib, y: (-2.0) ** y, [[2.0, 3.0]]),
        # zero spread: var's gradient is 0, std's NaN (0 / 0), as PyTorch
        (lambda lib, x: x.var(), [[1.5, 1.5, 1.5]]),
        (lambda lib, x: x.std(), [[1.5, 1.5, 1.5]]),
        (lambda lib, x: x.var(0, correction=0), [[[2.0, 1.0], [2.0, 3.0]]]),
        # the 2-norm of a zero vector: value 0, gradient 0
        (lambda lib, x: x.norm(), [[0.0, 0.0, 0.0]]),
        (lambda lib, x: x.norm(dim=1), [[[0.0, 0.0], [3.0, 4.0]]]),
        (lambda lib, x: x.norm(3), [[0.0, 0.0, 0.0]]),
        (lambda lib, x: x.norm(0.5, 1), [[[0.0, 0.0], [3.0, 0.0]]]),
        (lambda lib, x: x.norm(1.5, 0), [[0.0, -2.0, 0.0]]),
    ],
)
def test_edge_numerics_match_torch(fn, arrays):
    torch = require_torch()
    arrays = [np.array(a) for a in arrays]
    with np.errstate(all="ignore"):
        out_o, grads_o = _values_and_grads(ts, fn, arrays)
    out_t, grads_t = _values_and_grads(torch, fn, arrays)
    np.testing.assert_allclose(out_o, out_t, rtol=1e-12)
    for go, gt in zip(grads_o, grads_t):
        np.testing.assert_allclose(go, gt, rtol=1e-12)


@pytest.mark.parity
@pytest.mark.parametrize("shape, dim", [((3, 0), 1), ((0, 3), 1), ((0, 3), 0), ((2, 0, 2), 1)])
def test_softmax_family_over_empty_dims_matches_torch(shape, dim):
    """softmax and log_softmax: an empty result; logsumexp over an empty dim: -inf."""
    torch = require_torch()
    x, t = ts.zeros(*shape, requires_grad=True), torch.zeros(*shape, requires_grad=True)
    for name in ("softmax", "log_softmax", "logsumexp"):
        out_o, out_t = getattr(x, name)(dim), getattr(t, name)(dim)
        assert out_o.shape == tuple(out_t.shape)
        np.testing.assert_array_equal(out_o.detach().numpy(), out_t.detach().numpy())
        out_o.sum().backward()
        out_t.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


# ----------------------------------------------------------------------------- hypothesis

ALONG_DIM = {  # (ours, numpy) for an op along one dim of any shape
    "sort": (lambda x, d: x.sort(d).values, lambda a, d: np.sort(a, d)),
    "sort_desc": (lambda x, d: x.sort(d, True).values, lambda a, d: -np.sort(-a, d)),
    "cumsum": (lambda x, d: x.cumsum(d), lambda a, d: np.cumsum(a, d)),
    "cumprod": (lambda x, d: x.cumprod(d), lambda a, d: np.cumprod(a, d)),
    "prod": (lambda x, d: x.prod(d), lambda a, d: np.prod(a, d)),
    "flip": (lambda x, d: x.flip(d), lambda a, d: np.flip(a, d)),
    "roll": (lambda x, d: x.roll(2, d), lambda a, d: np.roll(a, 2, d)),
    "norm": (lambda x, d: x.norm(dim=d), lambda a, d: np.sqrt((a * a).sum(d))),
    "norm_3": (lambda x, d: x.norm(3, d), lambda a, d: (np.abs(a) ** 3).sum(d) ** (1 / 3)),
    "index_select": (
        lambda x, d: x.index_select(d, ts.tensor([0, 0])),
        lambda a, d: np.take(a, [0, 0], d),
    ),
}


@pytest.mark.parametrize("name", list(ALONG_DIM))
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_ops_along_a_dim_hypothesis(name: str, data: Any) -> None:
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    d = data.draw(st.integers(-len(shape), len(shape) - 1))
    ours, ref = ALONG_DIM[name]
    a = np.random.default_rng(len(shape)).choice([-1.0, 1.0], shape) * np.random.default_rng(
        sum(shape)
    ).uniform(0.5, 1.5, shape)
    np.testing.assert_allclose(ours(ts.tensor(a), d).numpy(), ref(a, d), rtol=1e-12)
    assert ts.gradcheck(lambda x: ours(x, d), [ts.tensor(a, requires_grad=True)])


def test_numpy_any_all_of_a_tensor_still_work():
    """np.any(t) calls t.any(axis=None, out=None): accepted, so array habits keep working."""
    t = ts.tensor([[0.0, 1.0], [0.0, 0.0]])
    assert bool(np.any(t)) and not bool(np.all(t))
    assert np.any(t, axis=1).tolist() == [True, False]
    assert np.all(t, axis=0, keepdims=True).shape == (1, 2)
    with pytest.raises(TypeError):
        t.any(out=ts.tensor(True))


def test_rounding_an_integer_tensor_gives_a_new_tensor():
    x = ts.tensor([1, 2])
    for y in (x.floor(), x.ceil(), x.round()):
        y += 1
    assert x.tolist() == [1, 2]
