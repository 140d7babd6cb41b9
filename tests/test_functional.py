"""Tests of tinygrad_seq.functional (called as nn.functional): losses, linear, embedding, ...

Losses are checked against PyTorch in float64 for every reduction, ignore_index, class
weights, label smoothing, 2-D, N-d and unbatched logits, and probability targets; then for
numerical robustness (logits of 1e4) and for the messages of bad input.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from helpers import check_parity, require_torch

import tinygrad_seq as ts
from tinygrad_seq.nn import functional as F

REDUCTIONS = ["mean", "sum", "none"]
# logits shape, target shape: 2-D, N-d (N, C, d1, d2) and unbatched (C,)
SHAPES = {"2d": ((6, 5), (6,)), "nd": ((3, 4, 2, 3), (3, 2, 3)), "unbatched": ((5,), ())}


def _targets(rng, in_shape, t_shape, ignore_index):
    C = in_shape[0] if len(in_shape) == 1 else in_shape[1]
    t = rng.integers(0, C, size=t_shape)
    if ignore_index is not None and t.ndim:
        t.reshape(-1)[::3] = ignore_index  # every third target ignored
    return t


# ----------------------------------------------------------------------------- cross-entropy


@pytest.mark.parity
@pytest.mark.parametrize(
    "shape, reduction, smoothing, weighted, ignore",
    list(itertools.product(SHAPES, REDUCTIONS, [0.0, 0.15], [False, True], [None, -100, 2])),
)
def test_cross_entropy_matches_torch(shape, reduction, smoothing, weighted, ignore):
    torch = require_torch()
    rng = np.random.default_rng(0)
    in_shape, t_shape = SHAPES[shape]
    C = in_shape[0] if len(in_shape) == 1 else in_shape[1]
    x = rng.standard_normal(in_shape) * 3
    t = _targets(rng, in_shape, t_shape, ignore)
    w = rng.uniform(0.5, 2.0, C) if weighted else None
    kw = dict(reduction=reduction, label_smoothing=smoothing)
    if ignore is not None:
        kw["ignore_index"] = ignore

    def ours(x, t):
        return F.cross_entropy(x, t, None if w is None else ts.tensor(w), **kw)

    def theirs(x, t):
        return torch.nn.functional.cross_entropy(x, t, None if w is None else torch.tensor(w), **kw)

    check_parity(ours, theirs, [x, t])


@pytest.mark.parity
@pytest.mark.parametrize(
    "shape, reduction, smoothing, weighted",
    list(itertools.product(["2d", "nd", "unbatched"], REDUCTIONS, [0.0, 0.2], [False, True])),
)
def test_cross_entropy_probability_targets_match_torch(shape, reduction, smoothing, weighted):
    torch = require_torch()
    rng = np.random.default_rng(1)
    in_shape, _ = SHAPES[shape]
    cdim = 0 if len(in_shape) == 1 else 1
    x = rng.standard_normal(in_shape)
    probs = rng.uniform(size=in_shape)
    probs /= probs.sum(axis=cdim, keepdims=True)
    w = rng.uniform(0.5, 2.0, in_shape[cdim]) if weighted else None
    kw = dict(reduction=reduction, label_smoothing=smoothing)

    def ours(x, p):
        return F.cross_entropy(x, p, None if w is None else ts.tensor(w), **kw)

    def theirs(x, p):
        return torch.nn.functional.cross_entropy(x, p, None if w is None else torch.tensor(w), **kw)

    check_parity(ours, theirs, [x, probs])  # gradients with respect to the targets too


@pytest.mark.parity
@pytest.mark.parametrize(
    "shape, reduction, weighted, ignore",
    list(itertools.product(SHAPES, REDUCTIONS, [False, True], [None, -100, 1])),
)
def test_nll_loss_matches_torch(shape, reduction, weighted, ignore):
    torch = require_torch()
    rng = np.random.default_rng(2)
    in_shape, t_shape = SHAPES[shape]
    cdim = 0 if len(in_shape) == 1 else 1
    logp = rng.standard_normal(in_shape)
    t = _targets(rng, in_shape, t_shape, ignore)
    w = rng.uniform(0.5, 2.0, in_shape[cdim]) if weighted else None
    kw = (
        dict(reduction=reduction)
        if ignore is None
        else dict(reduction=reduction, ignore_index=ignore)
    )

    def ours(x, t):
        return F.nll_loss(x, t, None if w is None else ts.tensor(w), **kw)

    def theirs(x, t):
        return torch.nn.functional.nll_loss(x, t, None if w is None else torch.tensor(w), **kw)

    check_parity(ours, theirs, [logp, t])


def test_cross_entropy_is_log_softmax_then_nll():
    rng = np.random.default_rng(3)
    x = ts.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    t = ts.tensor([0, 2, 1, 2])
    a = F.cross_entropy(x, t)
    b = F.nll_loss(x.log_softmax(1), t)
    np.testing.assert_allclose(a.item(), b.item(), rtol=1e-12)
    a.backward()
    expected = (np.exp(x.data) / np.exp(x.data).sum(1, keepdims=True) - np.eye(3)[t.data]) / 4
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-10)


def test_cross_entropy_ignored_targets_get_zero_loss_and_gradient():
    x = ts.tensor(np.random.default_rng(4).standard_normal((4, 3)), requires_grad=True)
    t = ts.tensor([0, -100, 1, -100])
    loss = F.cross_entropy(x, t, reduction="none")
    assert loss.data[1] == 0 and loss.data[3] == 0
    F.cross_entropy(x, t).backward()
    assert not x.grad.numpy()[[1, 3]].any()
    # the mean is over the two kept targets only
    kept = F.cross_entropy(x[np.array([0, 2])], ts.tensor([0, 1]))
    np.testing.assert_allclose(F.cross_entropy(x, t).item(), kept.item(), rtol=1e-6)


def test_cross_entropy_all_targets_ignored_gives_nan_mean_like_torch():
    x = ts.tensor(np.zeros((2, 3)))
    t = ts.tensor([-100, -100])
    assert np.isnan(F.cross_entropy(x, t).item())
    assert F.cross_entropy(x, t, reduction="sum").item() == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_large_logits_stay_finite(dtype):
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5e3]])
    x = ts.tensor(logits.astype(dtype), requires_grad=True)
    t = ts.tensor([1, 1])
    loss = F.cross_entropy(x, t, label_smoothing=0.1)
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(x.grad.data).all()
    # exactly, in float64: with q = 0.9 onehot(y) + 0.1 / C, loss = mean(-q . log softmax(x))
    # and its gradient is (softmax(x) - q) / N
    log_p = logits - logits.max(1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(1, keepdims=True))
    q = 0.9 * np.eye(3)[[1, 1]] + 0.1 / 3
    np.testing.assert_allclose(loss.item(), -(q * log_p).sum(1).mean(), rtol=1e-6)
    np.testing.assert_allclose(x.grad.data, (np.exp(log_p) - q) / 2, rtol=1e-6, atol=1e-7)
    # the confident, correct row has (almost) zero gradient except smoothing's share
    plain = ts.tensor(x.data, requires_grad=True)
    F.cross_entropy(plain, t).backward()
    np.testing.assert_allclose(plain.grad.data[1], 0, atol=1e-6)
    np.testing.assert_allclose(plain.grad.data[0], [0.5, -0.5, 0], atol=1e-6)


def test_cross_entropy_float32_stays_float32():
    x = ts.randn(3, 4, requires_grad=True)
    loss = F.cross_entropy(x, ts.tensor([0, 1, 3]), label_smoothing=0.1)
    loss.backward()
    assert loss.dtype == np.float32 and x.grad.dtype == np.float32


# ----------------------------------------------------------------------------- loss errors


def test_cross_entropy_class_out_of_range_names_class_and_count():
    x = ts.randn(3, 5)
    with pytest.raises(
        IndexError, match="cross_entropy: target has class 7 but input has 5 classes"
    ):
        F.cross_entropy(x, ts.tensor([0, 7, 1]))
    with pytest.raises(IndexError, match="class -3 but input has 5 classes"):
        F.cross_entropy(x, ts.tensor([0, -3, 1]))


def test_loss_target_shape_mismatch_names_expected_and_got():
    with pytest.raises(
        ValueError, match=r"expected target of shape \(3,\).*got target of shape \(4,\)"
    ):
        F.cross_entropy(ts.randn(3, 5), ts.tensor([0, 1, 2, 3]))
    with pytest.raises(RuntimeError, match=r"expected target of shape \(2, 7\).*\(2, 5, 7\)"):
        F.nll_loss(ts.randn(2, 5, 7), ts.tensor(np.zeros((2, 5), dtype=np.int64)))
    with pytest.raises(RuntimeError, match=r"mse_loss: target shape \(3, 1\) differs .* \(3,\)"):
        F.mse_loss(ts.randn(3), ts.randn(3, 1))
    with pytest.raises(ValueError, match=r"target shape \(2,\) must equal input shape \(3,\)"):
        F.binary_cross_entropy_with_logits(ts.randn(3), ts.randn(2))


def test_loss_target_dtype_errors():
    with pytest.raises(RuntimeError, match="target dtype float32 is not integer"):
        F.cross_entropy(ts.randn(3, 5), ts.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(RuntimeError, match="must be floating point, got dtype int64"):
        F.cross_entropy(ts.randn(2, 3), ts.tensor([[0, 1, 0], [1, 0, 0]]))
    with pytest.raises(NotImplementedError, match="input must be floating point"):
        F.nll_loss(ts.tensor([[0, 1]]), ts.tensor([0]))


def test_loss_bad_options():
    x, t = ts.randn(2, 3), ts.tensor([0, 1])
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.cross_entropy(x, t, reduction="avg")
    with pytest.raises(RuntimeError, match="label_smoothing must be in"):
        F.cross_entropy(x, t, label_smoothing=1.5)
    with pytest.raises(RuntimeError, match=r"weight must have shape \(3,\)"):
        F.nll_loss(x, t, ts.ones(4))
    with pytest.raises(RuntimeError, match="got a scalar"):
        F.cross_entropy(ts.tensor(1.0), ts.tensor(0))


# ----------------------------------------------------------------------------- mse, bce


@pytest.mark.parity
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_loss_matches_torch(reduction):
    torch = require_torch()
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((4, 3, 2)), rng.standard_normal((4, 3, 2))
    check_parity(
        lambda a, b: F.mse_loss(a, b, reduction=reduction),
        lambda a, b: torch.nn.functional.mse_loss(a, b, reduction=reduction),
        [x, y],
    )


@pytest.mark.parity
@pytest.mark.parametrize(
    "reduction, weighted, pos_weighted",
    list(itertools.product(REDUCTIONS, [False, True], [False, True])),
)
def test_bce_with_logits_matches_torch(reduction, weighted, pos_weighted):
    torch = require_torch()
    rng = np.random.default_rng(6)
    x = rng.standard_normal((5, 3)) * 4
    x[0] = [0.0, 40.0, -40.0]  # the kink of |x| and saturated logits
    y = rng.uniform(size=(5, 3))
    y[1] = [0.0, 1.0, 1.0]
    w = rng.uniform(0.5, 2, (5, 1)) if weighted else None
    pw = rng.uniform(0.5, 3, 3) if pos_weighted else None

    def ours(a, b):
        return F.binary_cross_entropy_with_logits(
            a,
            b,
            None if w is None else ts.tensor(w),
            reduction=reduction,
            pos_weight=None if pw is None else ts.tensor(pw),
        )

    def theirs(a, b):
        return torch.nn.functional.binary_cross_entropy_with_logits(
            a,
            b,
            None if w is None else torch.tensor(w),
            reduction=reduction,
            pos_weight=None if pw is None else torch.tensor(pw),
        )

    check_parity(ours, theirs, [x, y])


def test_bce_with_logits_large_logits_finite_and_exact_gradient():
    x = ts.tensor(np.array([1e4, -1e4, 1e4, -1e4, 0.0]), requires_grad=True)
    y = ts.tensor(np.array([1.0, 0.0, 0.0, 1.0, 1.0]))
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="sum")
    loss.backward()
    np.testing.assert_allclose(loss.item(), 2e4 + np.log(2), rtol=1e-12)
    np.testing.assert_allclose(x.grad.data, [0, 0, 1, -1, -0.5], atol=1e-12)  # sigmoid(x) - y


def test_bce_with_logits_accepts_integer_targets():
    x = ts.randn(4)
    a = F.binary_cross_entropy_with_logits(x, ts.tensor([0, 1, 1, 0]))
    b = F.binary_cross_entropy_with_logits(x, ts.tensor([0.0, 1.0, 1.0, 0.0]))
    np.testing.assert_allclose(a.item(), b.item())


# ----------------------------------------------------------------------------- linear, embedding


@pytest.mark.parity
@pytest.mark.parametrize("in_shape", [(4, 3), (2, 5, 3), (3,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(in_shape, bias):
    torch = require_torch()
    rng = np.random.default_rng(7)
    arrays = [rng.standard_normal(in_shape), rng.standard_normal((2, 3))]
    if bias:
        arrays.append(rng.standard_normal(2))
    check_parity(F.linear, torch.nn.functional.linear, arrays)


def test_linear_feature_mismatch_message():
    with pytest.raises(RuntimeError, match=r"input of shape \(4, 5\) has 5 features.*expects 3"):
        F.linear(ts.randn(4, 5), ts.randn(2, 3))


@pytest.mark.parity
@pytest.mark.parametrize("padding_idx", [None, 0, 3, -1])
def test_embedding_matches_torch(padding_idx):
    torch = require_torch()
    rng = np.random.default_rng(8)
    idx = np.array([[0, 3, 3, 1], [4, 0, 2, 3]])

    def theirs(w):
        return torch.nn.functional.embedding(torch.tensor(idx), w, padding_idx=padding_idx)

    check_parity(lambda w: F.embedding(ts.tensor(idx), w, padding_idx), theirs,
                 [rng.standard_normal((5, 3))])  # fmt: skip


def test_embedding_padding_row_gets_no_gradient_but_keeps_its_values():
    w = ts.tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
    out = F.embedding(ts.tensor([1, 1, 2]), w, padding_idx=1)
    np.testing.assert_array_equal(out.data, w.data[[1, 1, 2]])  # forward unchanged
    out.sum().backward()
    np.testing.assert_array_equal(w.grad.data, [[0] * 3, [0] * 3, [1] * 3, [0] * 3])


def test_embedding_errors():
    w = ts.randn(10, 3)
    with pytest.raises(IndexError, match=r"index 12 is out of range for 10 embeddings"):
        F.embedding(ts.tensor([1, 12]), w)
    with pytest.raises(IndexError, match=r"index -1 is out of range"):
        F.embedding(ts.tensor([-1]), w)
    with pytest.raises(RuntimeError, match="indices must be an integer tensor"):
        F.embedding(ts.tensor([1.0]), w)


# ----------------------------------------------------------------------------- one_hot, dropout


def test_one_hot_values_dtype_and_shape():
    out = F.one_hot(ts.tensor([[0, 2], [1, 1]]), 4)
    assert out.shape == (2, 2, 4) and out.dtype == np.int64
    np.testing.assert_array_equal(out.data[0], [[1, 0, 0, 0], [0, 0, 1, 0]])
    assert F.one_hot(ts.tensor([0, 2])).shape == (2, 3)  # num_classes inferred as max + 1


def test_one_hot_errors():
    with pytest.raises(RuntimeError, match="class 5 is out of range for num_classes=3"):
        F.one_hot(ts.tensor([0, 5]), 3)
    with pytest.raises(RuntimeError, match="must be an integer tensor"):
        F.one_hot(ts.tensor([0.0]), 3)


def test_dropout_scales_survivors_and_is_seeded():
    x = ts.ones(200, 100, dtype=np.float64, requires_grad=True)
    ts.manual_seed(3)
    y = F.dropout(x, 0.3)
    kept = y.detach().numpy() != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(y.data[kept], 1 / 0.7)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, y.data)  # same mask, same scale
    ts.manual_seed(3)
    np.testing.assert_array_equal(F.dropout(x, 0.3).data, y.data)


def test_dropout_edge_cases():
    x = ts.randn(3, 4)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    assert not F.dropout(x, 1.0).numpy().any()
    assert F.dropout(x, 0.5).dtype == x.dtype
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\], got 1.5"):
        F.dropout(x, 1.5)


# ----------------------------------------------------------------------------- activations, norm


@pytest.mark.parity
@pytest.mark.parametrize("name", ["relu", "tanh", "sigmoid", "softmax", "log_softmax"])
def test_activations_match_torch(name):
    torch = require_torch()
    x = np.random.default_rng(9).standard_normal((3, 4)) * 3
    kw = {"dim": 1} if "softmax" in name else {}
    theirs = (
        getattr(torch, name) if name in ("tanh", "sigmoid") else getattr(torch.nn.functional, name)
    )
    check_parity(lambda a: getattr(F, name)(a, **kw), lambda a: theirs(a, **kw), [x])


@pytest.mark.parity
@pytest.mark.parametrize("normalized_shape", [(4,), (3, 4)])
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_matches_torch(normalized_shape, affine):
    torch = require_torch()
    rng = np.random.default_rng(10)
    arrays = [rng.standard_normal((2, 3, 4)) * 2 + 1]
    if affine:
        arrays += [rng.standard_normal(normalized_shape), rng.standard_normal(normalized_shape)]

    def ours(x, *wb):
        return F.layer_norm(x, normalized_shape, *wb, eps=1e-5)

    def theirs(x, *wb):
        return torch.nn.functional.layer_norm(x, normalized_shape, *wb, eps=1e-5)

    check_parity(ours, theirs, arrays)


def test_layer_norm_shape_error():
    with pytest.raises(RuntimeError, match=r"trailing dimensions are \(5,\), got input of shape"):
        F.layer_norm(ts.randn(2, 4), 5)


# ----------------------------------------------------------------------------- activations


def _x(shape=(3, 4, 5), seed=0, zero_row=True):
    x = np.random.default_rng(seed).standard_normal(shape)
    if zero_row:
        x[0, :, 0] = 0.0  # a zero vector for normalize, exact zeros for the kinks
    return x


@pytest.mark.parity
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_matches_torch(approximate):
    torch = require_torch()
    check_parity(
        lambda x: F.gelu(x, approximate=approximate),
        lambda x: torch.nn.functional.gelu(x, approximate=approximate),
        [np.concatenate([_x().ravel(), [-30.0, -6.0, 0.0, 6.0, 30.0]])],
        atol=1e-14,
    )


def test_gelu_rejects_an_unknown_approximation_and_keeps_float32():
    with pytest.raises(RuntimeError, match="none or tanh"):
        F.gelu(ts.zeros(2), approximate="fast")
    assert F.gelu(ts.ones(2)).dtype == np.float32


@pytest.mark.parity
@pytest.mark.parametrize("slope", [0.01, 0.2, -0.5])
def test_leaky_relu_matches_torch_at_the_kink_too(slope):
    torch = require_torch()
    check_parity(
        lambda x: F.leaky_relu(x, slope),
        lambda x: torch.nn.functional.leaky_relu(x, slope),
        [_x()],
        atol=0,
    )


@pytest.mark.parity
def test_leaky_relu_inplace_changes_the_tensor_as_torch():
    from script_parity import check_script

    check_script(
        """
x = torch.tensor([-2.0, 0.0, 3.0], requires_grad=True)
y = x * 1.0
out = torch.nn.functional.leaky_relu(y, 0.1, inplace=True)
rec("same", out is y)
rec("y", y)
(y * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
rec("grad", x.grad)
torch.nn.functional.leaky_relu(x, 0.1, inplace=True)
"""
    )


@pytest.mark.parity
@pytest.mark.parametrize(
    "p, dim", [(2.0, 1), (2.0, -1), (1.0, 0), (3.0, 2), (float("inf"), 1), (0.5, 2)]
)
def test_normalize_matches_torch_zero_vectors_included(p, dim):
    torch = require_torch()
    check_parity(
        lambda x: F.normalize(x, p=p, dim=dim),
        lambda x: torch.nn.functional.normalize(x, p=p, dim=dim),
        [_x(zero_row=p >= 1)],  # |x|^p for p < 1 has an infinite slope at 0 in both
        atol=1e-12,
    )


@pytest.mark.parity
def test_normalize_of_tiny_vectors_divides_by_eps_as_torch():
    torch = require_torch()
    check_parity(
        lambda x: F.normalize(x, eps=1e-3),
        lambda x: torch.nn.functional.normalize(x, eps=1e-3),
        [np.array([[1e-5, -2e-5], [3.0, 4.0]])],
        atol=1e-12,
    )


@pytest.mark.parity
@pytest.mark.parametrize(
    "pad, value",
    [((1, 2), None), ((1, -2, 0, 3), None), ((2, 2, 1, 1, 0, 1), 1.5), ((-1, -1), None),
     ((0, 0, -3, 1), -2.0)],
)  # fmt: skip
def test_pad_constant_matches_torch(pad, value):
    torch = require_torch()
    check_parity(
        lambda x: F.pad(x, pad, value=value),
        lambda x: torch.nn.functional.pad(x, pad, value=value),
        [_x()],
        atol=0,
    )


def test_pad_errors_name_what_is_wrong():
    x = ts.zeros(2, 3)
    with pytest.raises(RuntimeError, match="even"):
        F.pad(x, (1, 2, 3))
    with pytest.raises(RuntimeError, match="twice the number of dimensions"):
        F.pad(x, (1, 1, 1, 1, 1, 1))
    with pytest.raises(NotImplementedError, match="'circular', got 'symmetric'"):
        F.pad(x, (1, 1), mode="symmetric")
    with pytest.raises(RuntimeError, match="negative size"):
        F.pad(x, (-2, -2))
    assert F.pad(ts.tensor([1, 2]), (1, 0), value=7).tolist() == [7, 1, 2]


@pytest.mark.parity
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4), (2, 3, 4, 2)])
def test_softmax_without_dim_uses_torchs_implicit_dim_and_warns(name, shape):
    torch = require_torch()
    ours, theirs = getattr(F, name), getattr(torch.nn.functional, name)
    x = _x(shape, zero_row=False)
    with pytest.warns(UserWarning, match=f"Implicit dimension choice for {name} has been"):
        check_parity(lambda t: ours(t), lambda t: theirs(t), [x])
    with pytest.warns(UserWarning) as ours_w:
        ours(ts.tensor(x))
    with pytest.warns(UserWarning) as theirs_w:
        theirs(torch.tensor(x))
    assert str(ours_w[0].message) == str(theirs_w[0].message)
    assert ours_w[0].filename == __file__  # stacklevel points at the caller, as PyTorch's


@pytest.mark.parity
def test_softmax_dtype_argument_casts_first():
    torch = require_torch()
    x = _x((2, 3), zero_row=False).astype(np.float32)
    ours = F.softmax(ts.tensor(x), dim=1, dtype=ts.float64)
    theirs = torch.nn.functional.softmax(torch.tensor(x), dim=1, dtype=torch.float64)
    assert ours.dtype == np.float64
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-15)


@pytest.mark.parity
@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize(
    "shape, pad",
    [((2, 3, 4), (1, 2)), ((2, 3, 4), (1, 1, 2, 0)), ((2, 3, 4), (-1, 2)), ((3, 4), (3, 0)),
     ((2, 3, 4), (2, -1, 1, 1)), ((1, 2, 3, 4, 3), (1, 2, 0, 1, 2, 2)), ((2, 3, 4), (-2, -1))],
)  # fmt: skip
def test_pad_reflect_replicate_circular_match_torch(mode, shape, pad):
    torch = require_torch()
    check_parity(
        lambda x: F.pad(x, pad, mode=mode),
        lambda x: torch.nn.functional.pad(x, pad, mode=mode),
        [_x(shape, zero_row=False)],
        atol=1e-14,
    )


@pytest.mark.parity
@pytest.mark.parametrize(
    "mode, shape, pad",
    [("reflect", (2, 3, 4), (0, 4)), ("circular", (2, 3, 4), (5, 0)),
     ("reflect", (4,), (1, 1)), ("replicate", (2, 3, 4), (1, 1, 1, 1, 1, 1))],
)  # fmt: skip
def test_pad_non_constant_errors_have_torchs_types(mode, shape, pad):
    torch = require_torch()
    with pytest.raises(Exception) as theirs:
        torch.nn.functional.pad(torch.zeros(shape), pad, mode=mode)
    with pytest.raises(type(theirs.value)):
        F.pad(ts.zeros(*shape), pad, mode=mode)
