"""Tests of the ops of issue 16 in tinygrad_seq.tensor and ops.py ("more ops").

Decoding and sampling (sort, topk, max/min overloads, multinomial), gather/scatter and friends,
element-wise functions, norms, triangles, einsum, and the edge numerics of pow, std and the
softmax family. The differentiable ones go through test_ops.py's template: one `Case` per op,
checked against numpy, by a float64 gradcheck, in float32, and against PyTorch (`parity`).
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import check_parity, require_torch
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
