"""Tests of the Transformer family against PyTorch: encoder and decoder layers, stacks, the whole.

Each case builds our module and PyTorch's with the same float64 weights (copied through
state_dict, strict) and compares outputs and every parameter and input gradient, in train mode
with dropout 0 and in eval mode, with masks of every kind; errors are compared by running the
same script under both frameworks.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from helpers import require_torch
from script_parity import check_script

import tinygrad_seq as ts
from tinygrad_seq import nn

pytestmark = [
    pytest.mark.parity,
    # bool padding masks beside float attention masks warn in both (checked once, below)
    pytest.mark.filterwarnings("ignore:Support for mismatched"),
    pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors"),
]

D, HEADS, FF = 8, 2, 12


def _build(name, *args, **kwargs):
    """Our module and PyTorch's, same float64 weights; warnings of construction silenced."""
    torch = require_torch()
    ts.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = getattr(nn, name)(*args, **kwargs).double()
        theirs = getattr(torch.nn, name)(*args, **kwargs).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs.load_state_dict(
        {k: torch.tensor(v.detach().numpy()) for k, v in ours.state_dict().items()}, strict=True
    )
    return ours, theirs


def _layers(name, **kw):
    torch = require_torch()
    layer = {"TransformerEncoder": "TransformerEncoderLayer"}.get(name, "TransformerDecoderLayer")
    ts.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = getattr(nn, name)(getattr(nn, layer)(D, HEADS, FF, dropout=0.0, **kw), 2)
        theirs = getattr(torch.nn, name)(
            getattr(torch.nn, layer)(D, HEADS, FF, dropout=0.0, **kw), 2
        )
    ours, theirs = ours.double(), theirs.double()
    theirs.load_state_dict(
        {k: torch.tensor(v.detach().numpy()) for k, v in ours.state_dict().items()}, strict=True
    )
    return ours, theirs


def _compare(ours, theirs, inputs, grad=True, atol=1e-10, **call):
    """Run both on the same arrays (masks in call as numpy arrays); compare values and grads."""
    torch = require_torch()
    kw_o = {k: ts.tensor(v) if isinstance(v, np.ndarray) else v for k, v in call.items()}
    kw_t = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in call.items()}
    xs_o = [ts.tensor(a, requires_grad=grad) for a in inputs]
    xs_t = [torch.tensor(a, requires_grad=grad) for a in inputs]
    out_o, out_t = ours(*xs_o, **kw_o), theirs(*xs_t, **kw_t)
    assert out_o.shape == tuple(out_t.shape)
    np.testing.assert_allclose(out_o.detach().numpy(), out_t.detach().numpy(), atol=atol)
    if not grad:
        return out_o
    r = np.random.default_rng(9).standard_normal(out_o.shape)
    (out_o * ts.tensor(r)).sum().backward()
    (out_t * torch.tensor(r)).sum().backward()
    theirs_p = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        g = theirs_p[name].grad
        assert (p.grad is None) == (g is None), name
        if g is not None:
            np.testing.assert_allclose(p.grad.numpy(), g.numpy(), atol=atol, err_msg=name)
    for i, (a, b) in enumerate(zip(xs_o, xs_t)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=atol, err_msg=f"x{i}")
    return out_o


def _x(L, N=3, batch_first=False, batched=True, seed=0):
    rng = np.random.default_rng(seed)
    if not batched:
        return rng.standard_normal((L, D))
    return rng.standard_normal((N, L, D) if batch_first else (L, N, D))


def _padding(N, L, seed=1):
    """(N, L) bool, True at padded positions: right padding, every sequence keeps a step."""
    lengths = np.random.default_rng(seed).integers(1, L + 1, size=N)
    lengths[0] = L
    return np.arange(L)[None, :] >= lengths[:, None]


def _causal(L):
    return np.triu(np.full((L, L), -np.inf), 1)


# ----------------------------------------------------------------------------- layers


LAYER_CONFIGS = {
    "post_norm": {},
    "pre_norm": {"norm_first": True},
    "gelu": {"activation": "gelu"},
    "no_bias": {"bias": False},
    "batch_first": {"batch_first": True},
    "eps": {"layer_norm_eps": 1e-3},
}


@pytest.mark.parametrize("config", sorted(LAYER_CONFIGS))
@pytest.mark.parametrize("training", [True, False])
def test_encoder_layer_matches_torch(config, training):
    kw = LAYER_CONFIGS[config]
    ours, theirs = _build("TransformerEncoderLayer", D, HEADS, FF, dropout=0.0, **kw)
    ours.train(training)
    theirs.train(training)
    x = _x(5, batch_first=kw.get("batch_first", False))
    _compare(ours, theirs, [x])
    pad = _padding(3, 5)
    _compare(ours, theirs, [x], src_mask=_causal(5), src_key_padding_mask=pad)


@pytest.mark.parametrize("config", sorted(LAYER_CONFIGS))
@pytest.mark.parametrize("training", [True, False])
def test_decoder_layer_matches_torch(config, training):
    kw = LAYER_CONFIGS[config]
    ours, theirs = _build("TransformerDecoderLayer", D, HEADS, FF, dropout=0.0, **kw)
    ours.train(training)
    theirs.train(training)
    bf = kw.get("batch_first", False)
    tgt, mem = _x(4, batch_first=bf), _x(6, batch_first=bf, seed=1)
    _compare(ours, theirs, [tgt, mem])
    masks = {
        "tgt_mask": _causal(4),
        "memory_mask": np.random.default_rng(2).random((4, 6)) > 0.8,
        "tgt_key_padding_mask": _padding(3, 4),
        "memory_key_padding_mask": _padding(3, 6, seed=3),
        "tgt_is_causal": True,
    }
    _compare(ours, theirs, [tgt, mem], **masks)


def test_layer_with_callable_activation_matches_torch():
    torch = require_torch()
    ours, theirs = _build("TransformerEncoderLayer", D, HEADS, FF, dropout=0.0)
    ours.activation, theirs.activation = ts.tanh, torch.tanh
    _compare(ours, theirs, [_x(5)])


@pytest.mark.parametrize("name", ["TransformerEncoderLayer", "TransformerDecoderLayer"])
def test_layers_take_unbatched_input(name):
    ours, theirs = _build(name, D, HEADS, FF, dropout=0.0, batch_first=True)
    inputs = [_x(5, batched=False)]
    if name == "TransformerDecoderLayer":
        inputs.append(_x(3, batched=False, seed=1))
    _compare(ours, theirs, inputs)


def test_activation_must_be_relu_or_gelu():
    check_script("torch.nn.TransformerEncoderLayer(4, 2, activation='tanh')")


# ----------------------------------------------------------------------------- stacks


@pytest.mark.parametrize("causal", ["mask", "hint", "both", "none"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_stack_matches_torch(causal, batch_first):
    ours, theirs = _layers("TransformerEncoder", batch_first=batch_first)
    call = {"src_key_padding_mask": _padding(3, 5)}
    if causal in ("mask", "both"):
        call["mask"] = _causal(5)
    if causal in ("hint", "both"):
        call["is_causal"] = True
        call.setdefault("mask", _causal(5))
    _compare(ours, theirs, [_x(5, batch_first=batch_first)], **call)


def test_encoder_copies_layers_deeply():
    layer = nn.TransformerEncoderLayer(D, HEADS, FF)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        enc = nn.TransformerEncoder(layer, 3)
    ws = [m.linear1.weight for m in enc.layers]
    assert len({id(w) for w in ws}) == 3 and all(w is not layer.linear1.weight for w in ws)
    np.testing.assert_array_equal(ws[0].detach().numpy(), ws[2].detach().numpy())


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("training", [True, False])
def test_decoder_stack_matches_torch(batch_first, training):
    ours, theirs = _layers("TransformerDecoder", batch_first=batch_first)
    ours.train(training)
    theirs.train(training)
    tgt, mem = _x(4, batch_first=batch_first), _x(6, batch_first=batch_first, seed=1)
    call = {
        "tgt_mask": _causal(4),
        "tgt_key_padding_mask": _padding(3, 4),
        "memory_key_padding_mask": _padding(3, 6, seed=3),
    }
    _compare(ours, theirs, [tgt, mem], **call)


@pytest.mark.parametrize("left_aligned", [True, False])
@pytest.mark.parametrize("mask_check", [True, False])
def test_encoder_inference_zeroes_padding_as_torch(left_aligned, mask_check):
    """PyTorch's nested-tensor route in inference: zeros at padded positions, then the norm."""
    torch = require_torch()
    ts.manual_seed(0)
    layer = nn.TransformerEncoderLayer(D, HEADS, FF, batch_first=True)
    ours = nn.TransformerEncoder(layer, 2, nn.LayerNorm(D), mask_check=mask_check).double()
    t_layer = torch.nn.TransformerEncoderLayer(D, HEADS, FF, batch_first=True)
    theirs = torch.nn.TransformerEncoder(
        t_layer, 2, torch.nn.LayerNorm(D), mask_check=mask_check
    ).double()
    state = {k: torch.tensor(v.detach().numpy()) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(state, strict=True)
    with torch.no_grad():
        theirs.norm.bias.copy_(torch.linspace(-1, 1, D, dtype=torch.float64))
    with ts.no_grad():
        ours.norm.bias.copy_(ts.tensor(np.linspace(-1, 1, D)))
    ours.eval()
    theirs.eval()
    pad = _padding(3, 5)
    if not left_aligned:
        pad = pad[:, ::-1].copy()
    x = _x(5, batch_first=True)
    with torch.no_grad(), ts.no_grad():
        out = _compare(ours, theirs, [x], grad=False, src_key_padding_mask=pad)
    if left_aligned or not mask_check:  # nested: the first (unpadded count) positions kept
        dropped = np.arange(5)[None, :] >= (~pad).sum(axis=1, keepdims=True)
        bias = np.broadcast_to(np.linspace(-1, 1, D), (dropped.sum(), D))
        np.testing.assert_allclose(out.numpy()[dropped], bias)
    _compare(ours, theirs, [x], src_key_padding_mask=pad)  # with gradients: no zeros


def test_mismatched_mask_types_warn_as_torch():
    check_script(
        "import warnings\n"
        "m = torch.nn.TransformerEncoderLayer(4, 2, 8)\n"
        "x = torch.tensor(np.ones((3, 2, 4)))\n"
        "pad = torch.tensor(np.array([[False, False, True], [False, False, False]]))\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    m(x, src_mask=torch.zeros(3, 3), src_key_padding_mask=pad)\n"
        "rec('messages', tuple(str(m.message) for m in w))\n"
    )


def test_encoder_nested_tensor_warning_matches_torch():
    check_script(
        "import warnings\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    layer = torch.nn.TransformerEncoderLayer(4, 2, 8)\n"
        "    enc = torch.nn.TransformerEncoder(layer, 2)\n"
        "rec('messages', tuple(str(m.message) for m in w))\n"
        "rec('nested', enc.use_nested_tensor)\n"
    )


# ----------------------------------------------------------------------------- Transformer


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("training", [True, False])
def test_transformer_matches_torch(norm_first, batch_first, training):
    kw = {"batch_first": batch_first, "norm_first": norm_first}
    ours, theirs = _build("Transformer", D, HEADS, 2, 2, FF, 0.0, **kw)
    ours.train(training)
    theirs.train(training)
    src, tgt = _x(6, batch_first=batch_first), _x(4, batch_first=batch_first, seed=1)
    call = {
        "tgt_mask": nn.Transformer.generate_square_subsequent_mask(4).numpy(),
        "src_key_padding_mask": _padding(3, 6),
        "tgt_key_padding_mask": _padding(3, 4, seed=2),
        "memory_key_padding_mask": _padding(3, 6),
        "tgt_is_causal": True,
    }
    _compare(ours, theirs, [src, tgt], **call)


def test_transformer_all_masks_matches_torch():
    ours, theirs = _build("Transformer", D, HEADS, 1, 2, FF, 0.0, activation="gelu")
    rng = np.random.default_rng(4)
    call = {
        "src_mask": rng.standard_normal((6, 6)),
        "tgt_mask": rng.random((4, 4)) > 0.7,
        "memory_mask": rng.random((4, 6)) > 0.7,
        "src_key_padding_mask": _padding(3, 6),
        "tgt_key_padding_mask": _padding(3, 4, seed=2),
        "memory_key_padding_mask": _padding(3, 6),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the mixed bool / float masks warn in both
        _compare(ours, theirs, [_x(6), _x(4, seed=1)], **call)


def test_transformer_unbatched_matches_torch():
    ours, theirs = _build("Transformer", D, HEADS, 1, 1, FF, 0.0)
    _compare(ours, theirs, [_x(6, batched=False), _x(4, batched=False, seed=1)])


def test_transformer_resets_matrices_with_xavier():
    ts.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = nn.Transformer(16, 2, 1, 1, 64)
    w = m.encoder.layers[0].linear1.weight.detach().numpy()
    bound = np.sqrt(6 / (16 + 64))
    assert bound * 0.9 < np.abs(w).max() <= bound
    assert not m.encoder.layers[0].self_attn.in_proj_bias.detach().numpy().any()
    b = m.decoder.layers[0].linear1.bias.detach().numpy()
    assert b.any() and np.abs(b).max() <= 1 / 4  # a vector: Linear's default, not reset


def test_generate_square_subsequent_mask_matches_torch():
    check_script(
        "m = torch.nn.Transformer.generate_square_subsequent_mask(4)\n"
        "rec('mask', m)\n"
        "m32 = torch.nn.Transformer.generate_square_subsequent_mask(3, dtype=torch.float32)\n"
        "rec('float32', m32)\n"
    )


@pytest.mark.parametrize(
    "script",
    [
        "m = torch.nn.Transformer(8, 2, 1, 1, 16)\nm(torch.randn(5, 3, 8), torch.randn(4, 2, 8))",
        "m = torch.nn.Transformer(8, 2, 1, 1, 16)\nm(torch.randn(5, 3, 8), torch.randn(4, 3, 6))",
        "m = torch.nn.Transformer(8, 2, 1, 1, 16, batch_first=True)\n"
        "m(torch.randn(3, 5, 8), torch.randn(2, 4, 8))",
        "m = torch.nn.TransformerEncoderLayer(8, 2, 16)\n"
        "m(torch.randn(5, 3, 8), src_mask=torch.zeros(4, 4))",
        "m = torch.nn.TransformerDecoderLayer(8, 2, 16)\n"
        "m(torch.randn(5, 3, 8), torch.randn(6, 3, 8), memory_key_padding_mask=torch.zeros(3, 5))",
        "m = torch.nn.TransformerEncoderLayer(8, 3, 16)",
    ],
)
def test_transformer_errors_match_torch(script):
    check_script("import warnings\nwarnings.simplefilter('ignore')\n" + script)


@pytest.mark.parametrize("bias", [True, False])
def test_torch_weights_load_into_ours_strict(bias):
    """PyTorch's state_dict loads into ours (strict) and gives PyTorch's outputs."""
    torch = require_torch()
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.nn.Transformer(D, HEADS, 2, 1, FF, 0.0, bias=bias).double()
        ours = nn.Transformer(D, HEADS, 2, 1, FF, 0.0, bias=bias).double()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()}, strict=True)
    _compare(ours, theirs, [_x(6), _x(4, seed=1)], tgt_mask=_causal(4))
