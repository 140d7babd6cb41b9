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
from tinygrad_seq import nn
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
    "double_mask_float_query": (
        "q = torch.randn(3, 4).float(); m = torch.zeros(3, 3)\n"
        "torch.nn.functional.scaled_dot_product_attention(q, q, q, attn_mask=m)"
    ),
    "float_mask_double_query": (
        "q = torch.tensor(np.arange(12.0).reshape(3, 4) / 7)\n"
        "m = torch.tensor(np.eye(3) - 0.5).float()\n"
        "rec('out', torch.nn.functional.scaled_dot_product_attention(q, q, q, attn_mask=m))"
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


# ----------------------------------------------------------------------------- MultiheadAttention


def _to_torch_state(ours):
    torch = require_torch()
    return {k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()}


def _pair(seed=0, **kwargs):
    """Our MultiheadAttention and PyTorch's with the same (our, float64) weights."""
    torch = require_torch()
    ts.manual_seed(seed)
    ours = nn.MultiheadAttention(**kwargs).double()
    theirs = torch.nn.MultiheadAttention(**kwargs).double()
    theirs.load_state_dict(_to_torch_state(ours), strict=True)
    return ours, theirs


def _mask_pair(mask):
    torch = require_torch()
    if mask is None:
        return None, None
    return ts.tensor(mask), torch.tensor(mask)


def _compare_modules(ours, theirs, inputs, self_attention=False, atol=1e-10, **call):
    """Forward both on the same (query, key, value) arrays; compare outputs, weights, grads.

    call: forward keyword arguments; masks are given as numpy arrays.
    """
    torch = require_torch()
    kw_o, kw_t = {}, {}
    for name, value in call.items():
        if isinstance(value, np.ndarray):
            kw_o[name], kw_t[name] = _mask_pair(value)
        else:
            kw_o[name] = kw_t[name] = value
    xs_o = [ts.tensor(a, requires_grad=True) for a in inputs]
    xs_t = [torch.tensor(a, requires_grad=True) for a in inputs]
    args_o = xs_o * 3 if self_attention else xs_o
    args_t = xs_t * 3 if self_attention else xs_t
    out_o, w_o = ours(*args_o, **kw_o)
    out_t, w_t = theirs(*args_t, **kw_t)
    assert out_o.shape == tuple(out_t.shape)
    np.testing.assert_allclose(out_o.detach().numpy(), out_t.detach().numpy(), atol=atol, rtol=1e-7)
    assert (w_o is None) == (w_t is None)
    r = np.random.default_rng(7).standard_normal(out_o.shape)
    loss_o, loss_t = (out_o * ts.tensor(r)).sum(), (out_t * torch.tensor(r)).sum()
    if w_o is not None:
        assert w_o.shape == tuple(w_t.shape)
        np.testing.assert_allclose(w_o.detach().numpy(), w_t.detach().numpy(), atol=atol, rtol=1e-7)
        rw = np.random.default_rng(8).standard_normal(w_o.shape)
        loss_o = loss_o + (w_o * ts.tensor(rw)).sum()
        loss_t = loss_t + (w_t * torch.tensor(rw)).sum()
    loss_o.backward()
    loss_t.backward()
    _same_grads(ours, theirs, xs_o, xs_t, atol)
    return out_o, w_o


def _same_grads(ours, theirs, xs_o, xs_t, atol=1e-10):
    grads = dict(theirs.named_parameters())
    names = [n for n, _ in ours.named_parameters()]
    assert names == list(grads), f"{names} vs torch {list(grads)}"
    for name, p in ours.named_parameters():
        g = grads[name].grad
        assert (p.grad is None) == (g is None), name
        if g is not None:
            np.testing.assert_allclose(p.grad.numpy(), g.numpy(), atol=atol, err_msg=name)
    for i, (a, b) in enumerate(zip(xs_o, xs_t)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=atol, err_msg=f"x{i}")


def _qkv(L=4, S=5, N=3, E=8, kdim=None, vdim=None, batch_first=False, batched=True, seed=1):
    rng = np.random.default_rng(seed)

    def shape(n, d):
        if not batched:
            return (n, d)
        return (N, n, d) if batch_first else (n, N, d)

    return [
        rng.standard_normal(shape(L, E)),
        rng.standard_normal(shape(S, kdim or E)),
        rng.standard_normal(shape(S, vdim or E)),
    ]


CONFIGS = {
    "plain": {},
    "no_bias": {"bias": False},
    "bias_kv": {"add_bias_kv": True},
    "zero_attn": {"add_zero_attn": True},
    "bias_kv_zero_attn": {"add_bias_kv": True, "add_zero_attn": True},
    "kdim_vdim": {"kdim": 3, "vdim": 6},
    "batch_first": {"batch_first": True},
}


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_mha_state_dict_keys_and_loading_match_torch(config):
    torch = require_torch()
    kwargs = {"embed_dim": 8, "num_heads": 2, **CONFIGS[config]}
    ours = nn.MultiheadAttention(**kwargs).double()
    theirs = torch.nn.MultiheadAttention(**kwargs).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for k, v in theirs.state_dict().items():
        assert ours.state_dict()[k].shape == tuple(v.shape), k
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()}, strict=True)
    for k, v in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[k].numpy(), v.numpy())
    theirs.load_state_dict(_to_torch_state(ours), strict=True)


@pytest.mark.parametrize("config", sorted(CONFIGS))
@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_matches_torch(config, need_weights):
    kw = CONFIGS[config]
    ours, theirs = _pair(embed_dim=8, num_heads=2, **kw)
    inputs = _qkv(kdim=kw.get("kdim"), vdim=kw.get("vdim"), batch_first=kw.get("batch_first"))
    _compare_modules(ours, theirs, inputs, need_weights=need_weights)


@pytest.mark.parametrize("average", [True, False])
@pytest.mark.parametrize("batch_first", [False, True])
def test_mha_self_attention_per_head_weights_match_torch(average, batch_first):
    ours, theirs = _pair(embed_dim=6, num_heads=3, batch_first=batch_first)
    x = _qkv(L=4, S=4, E=6, batch_first=batch_first)[:1]
    _, w = _compare_modules(ours, theirs, x, self_attention=True, average_attn_weights=average)
    assert w.shape == ((3, 4, 4) if average else (3, 3, 4, 4))


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("config", ["plain", "bias_kv_zero_attn", "kdim_vdim"])
def test_mha_unbatched_matches_torch(config, need_weights):
    kw = CONFIGS[config]
    ours, theirs = _pair(embed_dim=8, num_heads=2, batch_first=True, **kw)
    inputs = _qkv(kdim=kw.get("kdim"), vdim=kw.get("vdim"), batched=False)
    kpm = np.array([False, False, True, False, True])
    mask = np.random.default_rng(3).random((2, 4, 5)) > 0.7
    _compare_modules(
        ours, theirs, inputs, need_weights=need_weights, key_padding_mask=kpm, attn_mask=mask
    )


def _masks(kind, L=4, S=5, N=3, heads=2):
    rng = np.random.default_rng(5)
    if kind == "bool2d":
        return rng.random((L, S)) > 0.6
    if kind == "float2d":
        return rng.standard_normal((L, S))
    if kind == "bool3d":
        return rng.random((N * heads, L, S)) > 0.6
    return rng.standard_normal((N * heads, L, S))


@pytest.mark.parametrize("mask_kind", ["bool2d", "float2d", "bool3d", "float3d", None])
@pytest.mark.parametrize("kpm_kind", ["bool", "float", None])
@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("config", ["plain", "bias_kv_zero_attn"])
def test_mha_masks_match_torch(mask_kind, kpm_kind, need_weights, config):
    ours, theirs = _pair(embed_dim=8, num_heads=2, **CONFIGS[config])
    call = {"need_weights": need_weights}
    if mask_kind is not None:
        call["attn_mask"] = _masks(mask_kind)
    if kpm_kind is not None:
        pad = np.zeros((3, 5), dtype=bool)
        pad[0, 3:] = pad[2, 1:] = True  # padded keys; row 2 keeps its first key only
        call["key_padding_mask"] = pad if kpm_kind == "bool" else np.where(pad, -np.inf, 0.0)
    if mask_kind and kpm_kind and (mask_kind.startswith("bool") != (kpm_kind == "bool")):
        with pytest.warns(UserWarning, match="mismatched key_padding_mask and attn_mask"):
            _compare_modules(ours, theirs, _qkv(), **call)
        return
    _compare_modules(ours, theirs, _qkv(), **call)


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_fully_masked_query_matches_torch(need_weights):
    """A query that may attend no key: NaN with need_weights (softmax), zeros without (SDPA)."""
    ours, theirs = _pair(embed_dim=4, num_heads=2)
    mask = np.zeros((4, 5), dtype=bool)
    mask[2] = True
    out, _ = _compare_modules(ours, theirs, _qkv(E=4), attn_mask=mask, need_weights=need_weights)
    assert np.isnan(out.detach().numpy()).any() == need_weights


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("with_kpm", [False, True])
def test_mha_is_causal_matches_torch(need_weights, with_kpm):
    ours, theirs = _pair(embed_dim=8, num_heads=2)
    causal = np.triu(np.full((4, 4), -np.inf), 1)
    call = {"attn_mask": causal, "is_causal": True, "need_weights": need_weights}
    if with_kpm:
        call["key_padding_mask"] = np.array([[False] * 3 + [True]] * 3)
    x = _qkv(S=4)
    with pytest.warns(UserWarning) if with_kpm else _no_warning():
        _compare_modules(ours, theirs, x, **call)


class _no_warning:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("training", [True, False])
def test_mha_train_and_eval_modes_match_torch(training):
    ours, theirs = _pair(embed_dim=8, num_heads=4, dropout=0.0, batch_first=True)
    ours.train(training)
    theirs.train(training)
    kpm = np.zeros((3, 4), dtype=bool)
    kpm[1, 2:] = True
    x = _qkv(L=4, S=4, batch_first=True)[:1]
    _compare_modules(ours, theirs, x, self_attention=True, key_padding_mask=kpm)


def test_mha_eval_turns_dropout_off_and_train_uses_it():
    ts.manual_seed(0)
    m = nn.MultiheadAttention(8, 2, dropout=0.5).double()
    x = ts.tensor(_qkv()[0])
    m.eval()
    a, _ = m(x, x, x)
    b, _ = m(x, x, x)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    m.train()
    _, w = m(x, x, x, average_attn_weights=False)
    assert (w.detach().numpy() == 0).mean() > 0.2


def test_mha_initialisation_is_pytorchs():
    """xavier_uniform_ input projections (bound sqrt(6/(E+3E))), zero biases, out_proj kaiming."""
    ts.manual_seed(0)
    m = nn.MultiheadAttention(64, 4, add_bias_kv=True)
    w = m.in_proj_weight.detach().numpy()
    bound = np.sqrt(6 / (64 + 3 * 64))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.05 * bound
    assert not m.in_proj_bias.detach().numpy().any() and not m.out_proj.bias.detach().numpy().any()
    assert np.abs(m.out_proj.weight.detach().numpy()).max() <= 1 / 8
    assert abs(m.bias_k.detach().numpy().std() - np.sqrt(2 / 128)) < 0.04
    sep = nn.MultiheadAttention(64, 4, kdim=32)
    kb = np.sqrt(6 / (64 + 32))
    assert np.abs(sep.k_proj_weight.detach().numpy()).max() <= kb


MHA_ERRORS = {
    "heads_divide": "torch.nn.MultiheadAttention(10, 3)",
    "nonpositive": "torch.nn.MultiheadAttention(0, 2)",
    "query_4d": ("m = torch.nn.MultiheadAttention(4, 2); x = torch.randn(2, 3, 4, 4)\nm(x, x, x)"),
    "key_2d_query_3d": (
        "m = torch.nn.MultiheadAttention(4, 2); x = torch.randn(3, 2, 4)\nm(x, x[0], x[0])"
    ),
    "embed_dim": ("m = torch.nn.MultiheadAttention(4, 2); x = torch.randn(3, 2, 5)\nm(x, x, x)"),
    "key_value_shapes": (
        "m = torch.nn.MultiheadAttention(4, 2); x = torch.randn(3, 2, 4)\n"
        "m(x, x, torch.randn(5, 2, 4))"
    ),
    "mask_2d_shape": (
        "m = torch.nn.MultiheadAttention(4, 2); x = torch.randn(3, 2, 4)\n"
        "m(x, x, x, attn_mask=torch.zeros(3, 4))"
    ),
    "mask_3d_shape": (
        "m = torch.nn.MultiheadAttention(4, 2); x = torch.randn(3, 2, 4)\n"
        "m(x, x, x, attn_mask=torch.zeros(2, 3, 3))"
    ),
    "mask_4d": (
        "m = torch.nn.MultiheadAttention(4, 2); x = torch.randn(3, 2, 4)\n"
        "m(x, x, x, attn_mask=torch.zeros(1, 4, 3, 3))"
    ),
    "mask_int": (
        "m = torch.nn.MultiheadAttention(4, 2); x = torch.randn(3, 2, 4)\n"
        "m(x, x, x, attn_mask=torch.zeros(3, 3, dtype=torch.int64))"
    ),
    "kpm_shape": (
        "m = torch.nn.MultiheadAttention(4, 2); x = torch.randn(3, 2, 4)\n"
        "m(x, x, x, key_padding_mask=torch.zeros(3, 3, dtype=torch.bool))"
    ),
    "kpm_dims": (
        "m = torch.nn.MultiheadAttention(4, 2); x = torch.randn(3, 2, 4)\n"
        "m(x, x, x, key_padding_mask=torch.zeros(2, 3, 1, dtype=torch.bool))"
    ),
    "unbatched_mask_3d": (
        "m = torch.nn.MultiheadAttention(4, 2); x = torch.randn(3, 4)\n"
        "m(x, x, x, attn_mask=torch.zeros(1, 3, 3))"
    ),
    "causal_without_mask": (
        "m = torch.nn.MultiheadAttention(4, 2); x = torch.randn(3, 2, 4)\n"
        "m(x, x, x, is_causal=True)"
    ),
    "kdim_wrong": (
        "m = torch.nn.MultiheadAttention(4, 2, kdim=3); x = torch.randn(3, 2, 4)\n"
        "m(x, torch.randn(3, 2, 5), x)"
    ),
    "kdim_value_length": (
        "m = torch.nn.MultiheadAttention(4, 2, kdim=3); x = torch.randn(3, 2, 4)\n"
        "m(x, torch.randn(3, 2, 3), torch.randn(2, 2, 4))"
    ),
}


@pytest.mark.parametrize("name", sorted(MHA_ERRORS))
def test_mha_errors_match_torch(name):
    check_script(MHA_ERRORS[name])
