"""Tests of tinygrad_seq.nn.init: bounds and statistics, in-place filling, seeding, gains."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import require_torch

import tinygrad_seq as ts
from tinygrad_seq.nn import init


def _param(*shape, dtype=np.float64):
    return ts.zeros(*shape, dtype=dtype, requires_grad=True)


@pytest.mark.parametrize(
    "name, args",
    [
        ("uniform_", (-2.0, 3.0)),
        ("normal_", (1.0, 0.5)),
        ("constant_", (0.3,)),
        ("zeros_", ()),
        ("ones_", ()),
        ("xavier_uniform_", ()),
        ("xavier_normal_", ()),
        ("kaiming_uniform_", ()),
        ("kaiming_normal_", ()),
        ("orthogonal_", ()),
    ],
)
def test_init_fills_in_place_returns_the_tensor_and_records_no_graph(name, args):
    t = _param(6, 4, dtype=np.float32)
    array = t.detach().numpy()
    before = array.copy()
    out = getattr(init, name)(t, *args)
    assert out is t and np.shares_memory(t.detach().numpy(), array)  # so views see the new values
    assert t.dtype == np.float32 and t.is_leaf and t.requires_grad and t.grad_fn is None
    if name != "zeros_":
        assert not np.array_equal(before, t.detach().numpy())


def test_uniform_and_normal_statistics():
    t = init.uniform_(_param(200, 200), -2.0, 3.0).detach().numpy()
    assert t.min() >= -2 and t.max() < 3
    assert abs(t.mean() - 0.5) < 0.03
    np.testing.assert_allclose(t.std(), 5 / math.sqrt(12), rtol=0.01)
    t = init.normal_(_param(200, 200), 1.0, 0.5).detach().numpy()
    assert abs(t.mean() - 1.0) < 0.01
    np.testing.assert_allclose(t.std(), 0.5, rtol=0.01)


def test_constants():
    np.testing.assert_array_equal(init.constant_(_param(2, 3), 0.25).data, 0.25)
    np.testing.assert_array_equal(init.zeros_(init.ones_(_param(4)) * 1).data, 0)
    np.testing.assert_array_equal(init.ones_(_param(3, 2)).data, 1)


@pytest.mark.parametrize("gain", [1.0, 5 / 3])
def test_xavier(gain):
    fan_in, fan_out = 300, 200
    bound = gain * math.sqrt(6 / (fan_in + fan_out))
    t = init.xavier_uniform_(_param(fan_out, fan_in), gain=gain)
    assert np.abs(t.data).max() <= bound and np.abs(t.data).max() > 0.99 * bound
    std = gain * math.sqrt(2 / (fan_in + fan_out))
    # U(-b, b) has std b / sqrt(3)
    np.testing.assert_allclose(t.detach().numpy().std(), std, rtol=0.02)
    t = init.xavier_normal_(_param(fan_out, fan_in), gain=gain)
    np.testing.assert_allclose(t.detach().numpy().std(), std, rtol=0.02)


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
def test_kaiming(mode):
    shape = (200, 100, 3)  # (out, in, kernel): fans include the receptive field
    fan = 100 * 3 if mode == "fan_in" else 200 * 3
    t = init.kaiming_uniform_(_param(*shape), mode=mode, nonlinearity="relu")
    bound = math.sqrt(2) * math.sqrt(3 / fan)
    assert np.abs(t.data).max() <= bound and np.abs(t.data).max() > 0.99 * bound
    t = init.kaiming_normal_(_param(*shape), mode=mode, nonlinearity="relu")
    np.testing.assert_allclose(t.detach().numpy().std(), math.sqrt(2 / fan), rtol=0.02)
    t = init.kaiming_uniform_(_param(50, 40), a=math.sqrt(5))  # Linear's default
    assert np.abs(t.data).max() <= 1 / math.sqrt(40)


@pytest.mark.parametrize("shape", [(6, 6), (8, 3), (3, 8), (4, 2, 3)])
def test_orthogonal(shape):
    t = init.orthogonal_(_param(*shape), gain=2.0)
    q = t.data.reshape(shape[0], -1) / 2.0
    rows, cols = q.shape
    if rows >= cols:
        np.testing.assert_allclose(q.T @ q, np.eye(cols), atol=1e-12)
    else:
        np.testing.assert_allclose(q @ q.T, np.eye(rows), atol=1e-12)


def test_reproducible_under_manual_seed():
    fns = [
        lambda t: init.uniform_(t, -1, 1),
        init.normal_,
        init.xavier_uniform_,
        init.xavier_normal_,
        init.kaiming_uniform_,
        init.kaiming_normal_,
        init.orthogonal_,
    ]
    for fn in fns:
        ts.manual_seed(42)
        a = fn(_param(5, 4)).detach().numpy().copy()
        b = fn(_param(5, 4)).detach().numpy().copy()
        ts.manual_seed(42)
        np.testing.assert_array_equal(fn(_param(5, 4)).data, a)
        assert not np.array_equal(a, b)  # the stream advances


def test_calculate_gain():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("selu") == pytest.approx(0.75)
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


@pytest.mark.parity
@pytest.mark.parametrize(
    "name, param", [("linear", None), ("tanh", None), ("relu", None), ("leaky_relu", None),
                    ("leaky_relu", 0.3), ("selu", None), ("sigmoid", None)],
)  # fmt: skip
def test_calculate_gain_matches_torch(name, param):
    torch = require_torch()
    assert init.calculate_gain(name, param) == pytest.approx(
        torch.nn.init.calculate_gain(name, param), rel=1e-15
    )


def test_zero_element_tensors_are_left_alone():
    for fn in (init.xavier_uniform_, init.xavier_normal_, init.kaiming_uniform_,
               init.kaiming_normal_, init.orthogonal_):  # fmt: skip
        assert fn(_param(0, 3)).shape == (0, 3)


def test_fan_errors():
    with pytest.raises(ValueError, match=r"at least 2 dimensions, got shape \(5,\)"):
        init.xavier_uniform_(_param(5))
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out'"):
        init.kaiming_uniform_(_param(3, 3), mode="fan")
    with pytest.raises(TypeError, match="expected a Tensor"):
        init.zeros_(np.zeros(3))
