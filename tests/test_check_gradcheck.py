"""Tests of tinygrad_seq.check.gradcheck: passes correct gradients, explains a wrong one."""

from __future__ import annotations

import re

import numpy as np
import pytest

import tinygrad_seq as ts
from tinygrad_seq.autograd import Function


class WrongAt(Function):
    """a * b whose d/db is a + 1 instead of a at one element (flat index BAD)."""

    BAD = 5

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        # d(ab)/da = b (right), d(ab)/db = a (deliberately off by one at element BAD)
        a, b = ctx.saved_tensors
        gb = g * a
        gb.reshape(-1)[WrongAt.BAD] += g.reshape(-1)[WrongAt.BAD]
        return g * b, gb


class Halved(Function):
    """tanh with half its true derivative everywhere."""

    @staticmethod
    def forward(ctx, a):
        out = np.tanh(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return (g * (1 - y * y) * 0.5,)


def _inputs(*shapes, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return [ts.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in shapes]


def test_passes_on_correct_functions():
    assert ts.gradcheck(lambda a, b: (a @ b).tanh(), _inputs((3, 4), (4, 2))) is True
    assert ts.gradcheck(lambda a: a.softmax(-1), _inputs((2, 5)), fast_mode=True) is True
    assert ts.gradcheck(lambda a: a.sigmoid().sum(), _inputs(())[0]) is True  # a bare Tensor


def test_multiple_outputs_and_non_tensor_arguments():
    idx = ts.tensor([2, 0, 2])
    fn = lambda a, i, k: (a[i] * k, a.split(2, 1))  # noqa: E731
    assert ts.gradcheck(fn, [*_inputs((3, 4)), idx, 3.0])


def test_inputs_not_requiring_grad_are_constants():
    a = ts.tensor(np.ones((2, 2)))  # no requires_grad: not checked, still used
    (b,) = _inputs((2, 2))
    assert ts.gradcheck(lambda x, y: x * y, [a, b])


def test_float32_inputs_are_promoted_to_float64_and_left_untouched():
    (x,) = _inputs((3, 3), dtype=np.float32)
    before = x.detach().numpy().copy()
    seen = []

    def fn(t):
        seen.append(t.dtype)
        return (t * t).exp()

    # in float32, eps=1e-6 would drown in rounding error; float64 makes this pass
    assert ts.gradcheck(fn, [x])
    assert set(seen) == {np.dtype(np.float64)}
    assert x.dtype == np.float32 and x.grad is None
    np.testing.assert_array_equal(x.data, before)


def test_wrong_gradient_raises_naming_input_element_and_values():
    a, b = _inputs((3, 4), (3, 4))
    with pytest.raises(ts.GradcheckError) as info:
        ts.gradcheck(WrongAt.apply, [a, b])
    msg = str(info.value)
    assert "input 1" in msg and "(3, 4)" in msg
    assert "element (1, 1), output element 5" in msg  # flat index 5 of a (3, 4) tensor
    analytical = float(re.search(r"analytical (\S+),", msg).group(1))
    numerical = float(re.search(r"numerical (\S+),", msg).group(1))
    assert abs(analytical - numerical - 1.0) < 1e-6  # the deliberate error of +1
    assert numerical == pytest.approx(a[1, 1].item(), abs=1e-6)  # d(a*b)/db = a
    assert "abs error 1" in msg


def test_wrong_gradient_everywhere_is_caught():
    with pytest.raises(ts.GradcheckError, match="input 0"):
        ts.gradcheck(Halved.apply, _inputs((4,)))


def test_fast_mode_catches_the_wrong_gradient_too():
    a, b = _inputs((30, 20), (30, 20))
    assert ts.gradcheck(lambda x, y: x * y, [a, b], fast_mode=True)
    with pytest.raises(ts.GradcheckError) as info:
        ts.gradcheck(WrongAt.apply, [a, b], fast_mode=True)
    msg = str(info.value)
    assert "fast mode" in msg and "input 1" in msg and "(30, 20)" in msg
    assert "Worst element (0, 5)" in msg  # flat index 5 of a (30, 20) tensor
    with pytest.raises(ts.GradcheckError, match="fast mode.*input 0"):
        ts.gradcheck(Halved.apply, _inputs((50, 50)), fast_mode=True)


def test_raise_exception_false_returns_false():
    a, b = _inputs((3, 4), (3, 4))
    assert ts.gradcheck(WrongAt.apply, [a, b], raise_exception=False) is False
    assert ts.gradcheck(WrongAt.apply, [a, b], fast_mode=True, raise_exception=False) is False
    assert ts.gradcheck(lambda x, y: x * y, [a, b], raise_exception=False) is True


def test_tolerances_are_honoured():
    (x,) = _inputs((3,))
    assert not ts.gradcheck(Halved.apply, [x], atol=1e-3, rtol=0.1, raise_exception=False)
    assert ts.gradcheck(Halved.apply, [x], atol=1.0, rtol=1.0)


def test_needs_something_to_check():
    with pytest.raises(ValueError, match="requires_grad"):
        ts.gradcheck(lambda a: a * 2, [ts.ones(2)])
    with pytest.raises(ValueError, match="no floating-point Tensor"):
        ts.gradcheck(lambda a: a.argmax(), _inputs((3,)))
