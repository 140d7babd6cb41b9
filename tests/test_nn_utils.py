"""Tests of tinygrad_seq.nn.utils: clip_grad_norm_, clip_grad_value_ and detach_states."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import require_torch

import tinygrad_seq as ts
from tinygrad_seq import nn
from tinygrad_seq.nn.utils import clip_grad_norm_, clip_grad_value_, detach_states


def _params_with_grads(scale=1.0, seed=0):
    """Three float64 parameters with gradients (one without), and the gradient arrays."""
    rng = np.random.default_rng(seed)
    grads = [rng.standard_normal(s) * scale for s in [(3, 4), (4,), (2, 2, 2)]]
    params = []
    for g in grads:
        p = nn.Parameter(np.zeros(g.shape))
        p.grad = ts.tensor(g.copy())
        params.append(p)
    params.append(nn.Parameter(np.zeros(5)))  # grad None: skipped
    return params, grads


@pytest.mark.parity
@pytest.mark.parametrize("norm_type", [2.0, math.inf, 1.0, 3.0])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])  # clipping, and below the threshold
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    torch = require_torch()
    params, grads = _params_with_grads(scale=2.0)
    tparams = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, g in zip(tparams, grads):
        p.grad = torch.tensor(g.copy())
    ours = clip_grad_norm_(params, max_norm, norm_type=norm_type)
    theirs = torch.nn.utils.clip_grad_norm_(tparams, max_norm, norm_type=norm_type)
    assert isinstance(ours, ts.Tensor) and ours.shape == () and ours.dtype == np.float64
    np.testing.assert_allclose(float(ours), theirs.item(), rtol=1e-12)
    for p, t in zip(params, tparams):
        np.testing.assert_allclose(p.grad.data, t.grad.numpy(), rtol=1e-12, atol=1e-15)
    assert params[-1].grad is None


def test_clip_grad_norm_values():
    params, grads = _params_with_grads()
    total = math.sqrt(sum((g**2).sum() for g in grads))
    norm = clip_grad_norm_(params, 1.0)
    assert float(norm) == pytest.approx(total, rel=1e-12)  # the norm before clipping
    after = math.sqrt(sum((p.grad.data**2).sum() for p in params[:3]))
    assert after == pytest.approx(1.0, rel=1e-5)
    for p, g in zip(params, grads):  # the direction is kept
        np.testing.assert_allclose(p.grad.data, g / (total + 1e-6), rtol=1e-12)


def test_clip_grad_norm_inf_is_the_largest_entry():
    params, grads = _params_with_grads()
    largest = max(np.abs(g).max() for g in grads)
    assert float(clip_grad_norm_(params, 0.1, norm_type="inf")) == pytest.approx(largest)
    assert max(np.abs(p.grad.data).max() for p in params[:3]) == pytest.approx(0.1, rel=1e-5)


def test_clip_grad_norm_scales_in_place_and_accepts_a_single_tensor_or_generator():
    params, grads = _params_with_grads()
    arrays = [p.grad.numpy() for p in params[:3]]
    clip_grad_norm_(iter(params), 0.1)
    for p, a in zip(params, arrays):
        assert np.shares_memory(p.grad.numpy(), a)
    p = params[0]
    p.grad = ts.tensor(np.full((3, 4), 3.0))
    norm = clip_grad_norm_(p, 6.0)
    assert float(norm) == pytest.approx(math.sqrt(12 * 9))
    np.testing.assert_allclose(p.grad.data, 3.0 * 6.0 / (float(norm) + 1e-6))


def test_clip_grad_norm_with_a_model_after_backward_and_float32():
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1))
    (model(ts.randn(8, 3) * 100) ** 2).sum().backward()
    norm = clip_grad_norm_(model.parameters(), max_norm=1.0)
    assert norm.dtype == np.float32 and float(norm) > 1
    total = math.sqrt(sum(float((p.grad.numpy().astype(np.float64) ** 2).sum())
                          for p in model.parameters()))  # fmt: skip
    assert total == pytest.approx(1.0, rel=1e-4)
    assert all(p.grad.dtype == np.float32 for p in model.parameters())


def test_clip_grad_norm_no_grads_and_nonfinite():
    assert float(clip_grad_norm_([nn.Parameter(np.zeros(2))], 1.0)) == 0.0
    p = nn.Parameter(np.zeros(2))
    p.grad = ts.tensor(np.array([1.0, np.inf]))
    with pytest.raises(RuntimeError, match="total norm of order 2.0 of the gradients is inf"):
        clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    np.testing.assert_array_equal(p.grad.data, [1.0, np.inf])  # nothing changed
    assert math.isinf(float(clip_grad_norm_(p, 1.0)))


@pytest.mark.parity
def test_clip_grad_value_matches_torch():
    torch = require_torch()
    params, grads = _params_with_grads(scale=2.0)
    tparams = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, g in zip(tparams, grads):
        p.grad = torch.tensor(g.copy())
    assert clip_grad_value_(params, 0.7) is None
    torch.nn.utils.clip_grad_value_(tparams, 0.7)
    for p, t in zip(params, tparams):
        np.testing.assert_array_equal(p.grad.data, t.grad.numpy())


def test_clip_grad_value_is_the_courses_elementwise_clip():
    params, grads = _params_with_grads(scale=3.0)
    arrays = [p.grad.numpy() for p in params[:3]]
    clip_grad_value_(params, 1.5)
    for p, g, a in zip(params, grads, arrays):
        assert np.shares_memory(p.grad.numpy(), a)  # in place
        np.testing.assert_array_equal(p.grad.data, np.clip(g, -1.5, 1.5))
    single = nn.Parameter(np.zeros(3))
    single.grad = ts.tensor(np.array([-9.0, 0.5, 9.0]))
    clip_grad_value_(single, 1.0)
    np.testing.assert_array_equal(single.grad.data, [-1.0, 0.5, 1.0])
    with pytest.raises(ValueError, match="clip_value must be non-negative"):
        clip_grad_value_(single, -1.0)


def test_detach_states_keeps_the_structure():
    w = ts.randn(3, requires_grad=True)
    h, c = w * 2, w * 3
    out = detach_states((h, [c, None]))
    assert isinstance(out, tuple) and isinstance(out[1], list) and out[1][1] is None
    assert not out[0].requires_grad and out[0].grad_fn is None
    assert np.shares_memory(out[0], h) and np.shares_memory(out[1][0], c)
    assert detach_states(None) is None
    assert detach_states(h).grad_fn is None
    with pytest.raises(TypeError, match="expected a Tensor or a tuple/list"):
        detach_states({"h": h})
