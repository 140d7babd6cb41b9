"""Tests of attention: F.scaled_dot_product_attention and nn.MultiheadAttention against PyTorch.

Every case runs the same computation under both frameworks in float64 and compares outputs,
attention weights and every input and parameter gradient; errors are compared by running the
same script text under both (check_script).
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import check_parity, require_torch
from script_parity import check_script

import tinygrad_seq as ts
from tinygrad_seq.nn import functional as F

pytestmark = pytest.mark.parity


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# ----------------------------------------------------------------------------- sdpa


def _sdpa_case(q_shape, k_shape, v_shape, seed=0):
    rng = _rng(seed)
    return [rng.standard_normal(s) for s in (q_shape, k_shape, v_shape)]


@pytest.mark.parametrize(
    "shapes",
    [
        ((3, 4), (5, 4), (5, 2)),  # unbatched
        ((2, 3, 4), (2, 5, 4), (2, 5, 6)),
        ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 5)),
        ((2, 3, 4, 5), (1, 3, 6, 5), (2, 1, 6, 5)),  # batch dims broadcast
    ],
)
@pytest.mark.parametrize("scale", [None, 0.3])
def test_sdpa_matches_torch(shapes, scale):
    torch = require_torch()
    check_parity(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, scale=scale),
        lambda q, k, v: torch.nn.functional.scaled_dot_product_attention(q, k, v, scale=scale),
        _sdpa_case(*shapes),
    )


@pytest.mark.parametrize("L,S", [(4, 4), (5, 3), (3, 5)])
def test_sdpa_causal_matches_torch(L, S):
    torch = require_torch()
    check_parity(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
        lambda q, k, v: torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True),
        _sdpa_case((2, 3, L, 4), (2, 3, S, 4), (2, 3, S, 4)),
    )


@pytest.mark.parametrize("mask_shape", [(4, 6), (2, 1, 4, 6), (3, 1, 6), (1, 6)])
def test_sdpa_bool_mask_matches_torch(mask_shape):
    """True takes part; a row with no True anywhere gives zeros (output and gradient)."""
    torch = require_torch()
    mask = _rng(1).random(mask_shape) > 0.4
    mask[..., 0, :] = False  # a query that may look at nothing
    if mask.shape[-2] > 1:
        mask[..., 1, :] = True

    def ours(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=ts.tensor(mask))

    def theirs(q, k, v):
        m = torch.tensor(mask)
        return torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m)

    check_parity(ours, theirs, _sdpa_case((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 5)))


def test_sdpa_float_mask_matches_torch_with_its_gradient():
    torch = require_torch()
    mask = _rng(2).standard_normal((4, 6))
    mask[1, 2:] = -np.inf
    mask[2] = -np.inf  # a row fully masked by -inf: zeros, as PyTorch
    arrays = _sdpa_case((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)) + [mask]
    check_parity(
        lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
        lambda q, k, v, m: torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m),
        arrays,
    )


def test_sdpa_gqa_matches_torch():
    torch = require_torch()
    check_parity(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, enable_gqa=True),
        lambda q, k, v: torch.nn.functional.scaled_dot_product_attention(q, k, v, enable_gqa=True),
        _sdpa_case((2, 6, 4, 5), (2, 2, 3, 5), (2, 3, 3, 5)),
    )


def test_sdpa_dropout_zeros_and_scales_weights():
    """dropout_p applies whatever the mode (as PyTorch): kept weights scaled by 1/(1-p)."""
    ts.manual_seed(0)
    q, k, v = (ts.tensor(a) for a in _sdpa_case((64, 4), (8, 4), (8, 8)))
    eye = ts.tensor(np.eye(8))
    plain = F.scaled_dot_product_attention(q, k, eye)
    dropped = F.scaled_dot_product_attention(q, k, eye, dropout_p=0.25).numpy()
    kept = dropped != 0
    assert 0.6 < kept.mean() < 0.9
    np.testing.assert_allclose(dropped[kept], plain.numpy()[kept] / 0.75)
    assert F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).numpy().max() == 0


SDPA_ERRORS = {
    "causal_and_mask": (
        "q = torch.randn(3, 4); m = torch.ones(3, 3, dtype=torch.bool)\n"
        "torch.nn.functional.scaled_dot_product_attention(q, q, q, attn_mask=m, is_causal=True)"
    ),
    "dtypes": (
        "q = torch.randn(3, 4)\ntorch.nn.functional.scaled_dot_product_attention(q, q.float(), q)"
    ),
    "one_dim": ("q = torch.randn(4)\ntorch.nn.functional.scaled_dot_product_attention(q, q, q)"),
    "int_mask": (
        "q = torch.randn(3, 4); m = torch.ones(3, 3, dtype=torch.int64)\n"
        "torch.nn.functional.scaled_dot_product_attention(q, q, q, attn_mask=m)"
    ),
    "mask_shape": (
        "q = torch.randn(2, 3, 4); m = torch.ones(4, 3, dtype=torch.bool)\n"
        "torch.nn.functional.scaled_dot_product_attention(q, q, q, attn_mask=m)"
    ),
    "batch": (
        "q = torch.randn(2, 3, 4); k = torch.randn(3, 3, 4)\n"
        "torch.nn.functional.scaled_dot_product_attention(q, k, k)"
    ),
    "features": (
        "q = torch.randn(2, 3, 4); k = torch.randn(2, 3, 5)\n"
        "torch.nn.functional.scaled_dot_product_attention(q, k, k)"
    ),
    "gqa_heads": (
        "q = torch.randn(2, 4, 3, 5); k = torch.randn(2, 3, 6, 5)\n"
        "torch.nn.functional.scaled_dot_product_attention(q, k, k, enable_gqa=True)"
    ),
    "dropout_p": (
        "q = torch.randn(3, 4)\n"
        "torch.nn.functional.scaled_dot_product_attention(q, q, q, dropout_p=1.5)"
    ),
}


@pytest.mark.parametrize("name", sorted(SDPA_ERRORS))
def test_sdpa_errors_match_torch(name):
    check_script(SDPA_ERRORS[name])
