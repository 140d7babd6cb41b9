"""Tests of tinygrad_seq.nn.layers: Linear, Embedding, Dropout, activations, LayerNorm, losses.

Layers are compared with PyTorch's after copying the same weights in (float64, outputs and
every gradient), their default initialisation is checked statistically, and a small MLP
learns XOR with plain gradient descent written out in the test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import require_torch

import tinygrad_seq as ts
from tinygrad_seq import nn
from tinygrad_seq.nn import functional as F


def _copy_into_torch(ours, theirs):
    """Load our parameters into the torch module (same names and shapes)."""
    torch = require_torch()
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})


def _assert_same_grads(ours, theirs, atol=1e-10):
    grads = {k: p.grad for k, p in theirs.named_parameters()}
    for name, p in ours.named_parameters():
        assert (p.grad is None) == (grads[name] is None), name
        if p.grad is not None:
            np.testing.assert_allclose(p.grad.data, grads[name].numpy(), atol=atol, err_msg=name)


def _run_both(ours, theirs, x, torch, index_input=False):
    """Forward and backward of sum(out * R) in both frameworks; returns the two input grads."""
    R = np.random.default_rng(99).standard_normal(ours(ts.tensor(x)).shape)
    xo = ts.tensor(x) if index_input else ts.tensor(x, requires_grad=True)
    xt = torch.tensor(x) if index_input else torch.tensor(x, requires_grad=True)
    out_o, out_t = ours(xo), theirs(xt)
    np.testing.assert_allclose(out_o.data, out_t.detach().numpy(), atol=1e-10)
    (out_o * ts.tensor(R)).sum().backward()
    (out_t * torch.tensor(R)).sum().backward()
    _assert_same_grads(ours, theirs)
    if not index_input:
        np.testing.assert_allclose(xo.grad.data, xt.grad.numpy(), atol=1e-10)


# ----------------------------------------------------------------------------- Linear


@pytest.mark.parity
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("in_shape", [(5, 3), (2, 4, 3)])
def test_linear_matches_torch(bias, in_shape):
    torch = require_torch()
    ours = nn.Linear(3, 4, bias=bias).double()
    theirs = torch.nn.Linear(3, 4, bias=bias).double()
    _copy_into_torch(ours, theirs)
    _run_both(ours, theirs, np.random.default_rng(0).standard_normal(in_shape), torch)


def test_linear_parameters_shapes_and_repr():
    lin = nn.Linear(3, 4)
    assert [(n, p.shape) for n, p in lin.named_parameters()] == [("weight", (4, 3)), ("bias", (4,))]
    assert lin.weight.dtype == np.float32 and lin.weight.requires_grad
    assert repr(lin) == "Linear(in_features=3, out_features=4, bias=True)"
    assert repr(nn.Linear(3, 4, bias=False)) == "Linear(in_features=3, out_features=4, bias=False)"
    assert nn.Linear(3, 4, bias=False).bias is None
    assert nn.Linear(2, 2, dtype="float64").weight.dtype == np.float64


def test_linear_default_init_is_torchs():
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)  # kaiming_uniform_(a=sqrt(5)) gives exactly 1/sqrt(fan_in)
    for p in (lin.weight.data, lin.bias.data):
        assert np.abs(p).max() <= bound
        assert np.abs(p).max() > 0.98 * bound
    np.testing.assert_allclose(lin.weight.detach().numpy().std(), bound / math.sqrt(3), rtol=0.02)
    ts.manual_seed(5)
    a = nn.Linear(3, 2).weight.detach().numpy().copy()
    ts.manual_seed(5)
    np.testing.assert_array_equal(nn.Linear(3, 2).weight.data, a)


def test_linear_bad_sizes():
    with pytest.raises(RuntimeError, match="in_features must be a non-negative int"):
        nn.Linear(-1, 2)
    with pytest.raises(RuntimeError, match="has 5 features"):
        nn.Linear(3, 2)(ts.randn(2, 5))
    assert nn.Linear(0, 2)(ts.zeros(3, 0)).shape == (3, 2)  # empty input: the bias only


# ----------------------------------------------------------------------------- Embedding


@pytest.mark.parity
@pytest.mark.parametrize("padding_idx", [None, 0, 2])
def test_embedding_matches_torch(padding_idx):
    torch = require_torch()
    ours = nn.Embedding(6, 3, padding_idx=padding_idx).double()
    theirs = torch.nn.Embedding(6, 3, padding_idx=padding_idx).double()
    _copy_into_torch(ours, theirs)
    idx = np.array([[0, 2, 5], [2, 2, 1]])
    _run_both(ours, theirs, idx, torch, index_input=True)
    if padding_idx is not None:
        assert not ours.weight.grad.numpy()[padding_idx].any()


def test_embedding_init_and_padding_row():
    emb = nn.Embedding(500, 40, padding_idx=3)
    w = emb.weight.detach().numpy()
    assert not w[3].any()
    others = np.delete(w, 3, axis=0)
    assert abs(others.mean()) < 0.02 and abs(others.std() - 1) < 0.02  # N(0, 1)
    assert repr(emb) == "Embedding(500, 40, padding_idx=3)"
    assert repr(nn.Embedding(5, 2)) == "Embedding(5, 2)"
    assert nn.Embedding(5, 2, padding_idx=-1).padding_idx == 4


def test_embedding_padding_row_stays_zero_under_training():
    emb = nn.Embedding(4, 2, padding_idx=0)
    idx = ts.tensor([[0, 1], [2, 0]])
    for _ in range(3):
        emb.zero_grad()
        (emb(idx) ** 2).sum().backward()
        with ts.no_grad():
            emb.weight.data -= 0.1 * emb.weight.grad.data
    assert not emb.weight.detach().numpy()[0].any()
    assert emb(idx).shape == (2, 2, 2)


def test_embedding_from_pretrained():
    table = np.arange(6.0).reshape(3, 2)
    emb = nn.Embedding.from_pretrained(table)
    assert not emb.weight.requires_grad and emb.weight.dtype == np.float64
    np.testing.assert_array_equal(emb(ts.tensor([2, 0])).data, table[[2, 0]])
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad


def test_embedding_index_error():
    with pytest.raises(IndexError, match="index 7 is out of range for 5 embeddings"):
        nn.Embedding(5, 2)(ts.tensor([0, 7]))
    with pytest.raises(AssertionError, match="padding_idx must be within"):
        nn.Embedding(5, 2, padding_idx=5)


# ----------------------------------------------------------------------------- Dropout


def test_dropout_train_and_eval():
    drop = nn.Dropout(0.25)
    assert repr(drop) == "Dropout(p=0.25, inplace=False)"
    x = ts.ones(100, 100)
    y = drop(x)
    zeros = (y.numpy() == 0).mean()
    assert 0.22 < zeros < 0.28
    np.testing.assert_allclose(y.numpy()[y.numpy() != 0], 1 / 0.75, rtol=1e-6)
    assert abs(y.numpy().mean() - 1) < 0.03  # inverted dropout keeps the expectation
    drop.eval()
    assert drop(x) is x
    drop.train()
    assert (drop(x).numpy() == 0).any()
    with pytest.raises(ValueError, match="probability"):
        nn.Dropout(-0.1)


def test_dropout_follows_the_parent_modules_mode():
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.9))
    x = ts.randn(4, 3)
    model.eval()
    np.testing.assert_array_equal(model(x).data, model(x).data)
    model.train()
    ts.manual_seed(1)
    a = model(x).data
    ts.manual_seed(1)
    np.testing.assert_array_equal(model(x).data, a)


# ------------------------------------------------------------------ activations, LayerNorm


def test_activation_modules():
    x = ts.randn(3, 4)
    for mod, fn in [(nn.Tanh(), np.tanh), (nn.ReLU(), lambda a: np.maximum(a, 0)),
                    (nn.Sigmoid(), lambda a: 1 / (1 + np.exp(-a)))]:  # fmt: skip
        np.testing.assert_allclose(mod(x).data, fn(x.data), rtol=1e-6)
        assert repr(mod) == type(mod).__name__ + "()"
        assert list(mod.parameters()) == []


@pytest.mark.parity
@pytest.mark.parametrize("shape", [4, (3, 4)])
@pytest.mark.parametrize("affine, bias", [(True, True), (True, False), (False, True)])
def test_layernorm_matches_torch(shape, affine, bias):
    torch = require_torch()
    ours = nn.LayerNorm(shape, eps=1e-5, elementwise_affine=affine, bias=bias).double()
    theirs = torch.nn.LayerNorm(shape, eps=1e-5, elementwise_affine=affine, bias=bias).double()
    rng = np.random.default_rng(1)
    for p in ours.parameters():  # not the trivial ones/zeros
        p.data[...] = rng.standard_normal(p.shape)
    _copy_into_torch(ours, theirs)
    _run_both(ours, theirs, rng.standard_normal((2, 3, 4)) * 3 + 2, torch)
    assert repr(ours) == repr(theirs)


def test_layernorm_defaults():
    ln = nn.LayerNorm(5)
    np.testing.assert_array_equal(ln.weight.data, 1)
    np.testing.assert_array_equal(ln.bias.data, 0)
    y = ln(ts.randn(3, 5) * 10 + 4)
    np.testing.assert_allclose(y.detach().numpy().mean(-1), 0, atol=1e-5)
    np.testing.assert_allclose(y.detach().numpy().std(-1), 1, atol=1e-3)
    assert repr(ln) == "LayerNorm((5,), eps=1e-05, elementwise_affine=True, bias=True)"
    assert [n for n, _ in nn.LayerNorm(5, elementwise_affine=False).named_parameters()] == []


# ----------------------------------------------------------------------------- loss modules


@pytest.mark.parity
def test_loss_modules_match_torch():
    torch = require_torch()
    rng = np.random.default_rng(2)
    x, t = rng.standard_normal((6, 4)), rng.integers(0, 4, 6)
    t[1] = 3
    w = rng.uniform(0.5, 2, 4)
    cases = [
        (nn.CrossEntropyLoss(ts.tensor(w), ignore_index=3, label_smoothing=0.1),
         torch.nn.CrossEntropyLoss(torch.tensor(w), ignore_index=3, label_smoothing=0.1), t),
        (nn.NLLLoss(reduction="sum"), torch.nn.NLLLoss(reduction="sum"), t),
        (nn.MSELoss(reduction="none"), torch.nn.MSELoss(reduction="none"), x * 0.5),
        (nn.BCEWithLogitsLoss(pos_weight=ts.tensor(w)),
         torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(w)), rng.uniform(size=(6, 4))),
    ]  # fmt: skip
    for ours, theirs, target in cases:
        xo, xt = ts.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        lo, lt = ours(xo, ts.tensor(target)), theirs(xt, torch.tensor(target))
        np.testing.assert_allclose(lo.data, lt.detach().numpy(), atol=1e-10)
        lo.sum().backward()
        lt.sum().backward()
        np.testing.assert_allclose(xo.grad.data, xt.grad.numpy(), atol=1e-10)
        assert repr(ours) == repr(theirs)
        assert sorted(ours.state_dict()) == sorted(theirs.state_dict())


def test_loss_module_bad_reduction():
    with pytest.raises(ValueError, match="CrossEntropyLoss: reduction must be one of"):
        nn.CrossEntropyLoss(reduction="avg")


# ----------------------------------------------------------------------------- training


def test_mlp_learns_xor_with_inline_gradient_descent():
    ts.manual_seed(0)
    x = ts.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = ts.tensor([0, 1, 1, 0])
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    lr = 0.5
    for _ in range(300):
        model.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        with ts.no_grad():
            for p in model.parameters():
                p.data -= lr * p.grad.data
    assert loss.item() < 0.05
    assert (model(x).argmax(1).numpy() == y.numpy()).all()


# ----------------------------------------------------------------------------- activations


def _module_parity(ours, theirs, x, atol=1e-14):
    """ours(x) and theirs(x) agree in float64 in output and input gradient."""
    torch = require_torch()
    a, b = ts.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_a, out_b = ours(a), theirs(b)
    assert out_a.shape == tuple(out_b.shape)
    np.testing.assert_allclose(out_a.detach().numpy(), out_b.detach().numpy(), atol=atol)
    r = np.random.default_rng(1).standard_normal(out_a.shape)
    (out_a * ts.tensor(r)).sum().backward()
    (out_b * torch.tensor(r)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=atol)
    assert repr(ours) == repr(theirs)


@pytest.mark.parity
@pytest.mark.parametrize(
    "make",
    [
        lambda nn: nn.GELU(),
        lambda nn: nn.GELU(approximate="tanh"),
        lambda nn: nn.LeakyReLU(),
        lambda nn: nn.LeakyReLU(0.3),
        lambda nn: nn.Softmax(dim=1),
        lambda nn: nn.Softmax(-1),
        lambda nn: nn.LogSoftmax(dim=0),
        lambda nn: nn.Identity(),
        lambda nn: nn.Flatten(),
        lambda nn: nn.Flatten(0, 1),
        lambda nn: nn.Flatten(-2),
        lambda nn: nn.Unflatten(1, (2, 2)),
        lambda nn: nn.Unflatten(-1, (5, -1)),
    ],
)
def test_activation_and_shape_modules_match_torch(make):
    torch = require_torch()
    x = np.random.default_rng(0).standard_normal((3, 4, 5))
    x[0, 0, :2] = 0.0
    _module_parity(make(nn), make(torch.nn), x)


@pytest.mark.parity
@pytest.mark.parametrize("cls", ["Softmax", "LogSoftmax"])
def test_softmax_modules_without_dim_warn_at_the_callers_line(cls):
    torch = require_torch()
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        _module_parity(getattr(nn, cls)(), getattr(torch.nn, cls)(), x)
    with pytest.warns(UserWarning) as w:
        getattr(nn, cls)()(ts.tensor(x))
    assert w[0].filename == __file__  # the caller's line (torch 2.13's lands in its module.py)


def test_unflatten_errors():
    with pytest.raises(RuntimeError, match="don't multiply up"):
        nn.Unflatten(1, (3, 2))(ts.zeros(2, 5))
    with pytest.raises(TypeError, match="tuple or list"):
        nn.Unflatten(1, 5)


def test_mlp_with_new_layers_loads_torch_state_and_matches():
    torch = require_torch()

    def build(nn):
        return nn.Sequential(
            nn.Flatten(), nn.Linear(6, 4), nn.GELU(), nn.Linear(4, 4), nn.LeakyReLU(0.1),
            nn.Unflatten(1, (2, 2)), nn.LogSoftmax(dim=-1),
        )  # fmt: skip

    torch.manual_seed(0)
    theirs = build(torch.nn).double()
    ours = build(nn).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(2).standard_normal((5, 2, 3))
    out_a, out_b = ours(ts.tensor(x)), theirs(torch.tensor(x))
    out_a.sum().backward()
    out_b.sum().backward()
    np.testing.assert_allclose(out_a.detach().numpy(), out_b.detach().numpy(), atol=1e-13)
    _assert_same_grads(ours, theirs, atol=1e-13)
