"""Tests of tinygrad_seq.check.finite_diff: partials and directional against known derivatives,
their O(eps^2) error, and that the array they perturb comes back unchanged.

In float64 with eps=1e-6 the rounding error is about ulp(f) / eps, near 1e-9 for f of order
10: hence atol=1e-8 where the exact derivative is known.
"""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_seq.check.finite_diff import directional, partials


def test_partials_of_a_scalar_function_are_its_gradient():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(7), rng.standard_normal(7)
    before = x.copy()
    g = partials(lambda: np.sum(np.sin(x) * w), x)
    assert g.shape == (7,) and g.dtype == np.float64
    np.testing.assert_allclose(g, np.cos(before) * w, rtol=0, atol=1e-8)
    np.testing.assert_array_equal(x, before)  # every entry put back


def test_partials_of_a_vector_function_are_the_jacobian_rows_in_flat_order():
    rng = np.random.default_rng(1)
    x, A = rng.standard_normal((2, 3)), rng.standard_normal((4, 6))
    J = partials(lambda: A @ x.reshape(-1), x)
    assert J.shape == (6, 4)  # row i: d f / d x.flat[i]
    np.testing.assert_allclose(J, A.T, rtol=0, atol=1e-8)
    y = partials(lambda: np.tanh(x), x)  # f shaped as x: (x.size, *x.shape)
    assert y.shape == (6, 2, 3)
    expected = np.zeros((6, 2, 3))
    expected.reshape(6, 6)[np.arange(6), np.arange(6)] = 1 - np.tanh(x.reshape(-1)) ** 2
    np.testing.assert_allclose(y, expected, rtol=0, atol=1e-9)


def test_partials_of_chosen_entries_leave_the_other_rows_nan():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    calls = []
    g = partials(lambda: calls.append(1) or np.sum(x**2), x, entries=[3, 1])
    assert len(calls) == 4  # two evaluations per entry
    np.testing.assert_allclose(g[[1, 3]], [4.0, 8.0], rtol=0, atol=1e-8)  # 2 x at flat 1 and 3
    assert np.isnan(g[[0, 2]]).all()
    untouched = partials(lambda: calls.append(1) or x, x, entries=[])
    assert untouched.shape == (4,) and np.isnan(untouched).all() and len(calls) == 4


def test_partials_error_is_central_differences_eps_squared_term():
    """f = exp: the error is eps^2/6 f'''(x) to leading order (a one-sided difference: eps/2)."""
    x = np.array([0.5])
    for eps in (1e-2, 1e-3):
        err = partials(lambda: np.exp(x[0]), x, eps=eps)[0] - np.exp(0.5)
        np.testing.assert_allclose(err, eps**2 / 6 * np.exp(0.5), rtol=1e-2)


def test_partials_refuses_an_array_it_cannot_perturb_in_place():
    x = np.arange(6.0).reshape(2, 3).T  # reshape(-1) of a transpose is a copy
    with pytest.raises(ValueError, match="perturbable in place"):
        partials(lambda: x.sum(), x)


def test_directional_is_the_derivative_along_u():
    rng = np.random.default_rng(2)
    x, u = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    before = x.copy()
    d = directional(lambda: np.sum(x**3), x, u)
    np.testing.assert_allclose(d, np.sum(3 * before**2 * u), rtol=0, atol=1e-8)  # ~ ulp(f) / eps
    np.testing.assert_array_equal(x, before)
    v = directional(lambda: np.tanh(x), x, u.reshape(-1))  # u may come flat; f's shape kept
    assert v.shape == (3, 4)
    np.testing.assert_allclose(v, (1 - np.tanh(before) ** 2) * u, rtol=0, atol=1e-9)


def test_directional_takes_two_evaluations_however_large_x_is():
    rng = np.random.default_rng(3)
    x, u, A = rng.standard_normal(500), rng.standard_normal(500), rng.standard_normal((3, 500))
    calls = []
    d = directional(lambda: calls.append(1) or A @ x, x, u)
    assert len(calls) == 2
    np.testing.assert_allclose(d, A @ u, rtol=1e-7, atol=1e-9)  # J u of the linear map


def test_directional_restores_x_when_f_raises():
    x = np.array([1.0, 2.0])

    def f():
        if x[0] != 1.0:
            raise ArithmeticError("boom")
        return x.sum()

    with pytest.raises(ArithmeticError):
        directional(f, x, np.array([1.0, 0.0]))
    np.testing.assert_array_equal(x, [1.0, 2.0])
