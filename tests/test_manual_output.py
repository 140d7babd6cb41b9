"""Tests of tinygrad_seq.manual.output: the softmax output layer, the course's loss and its
gradient, stable softmax and sigmoid, and gradient clipping."""

from __future__ import annotations

import math

import numpy as np
import pytest
from manual_helpers import assert_grad_close, check_all, numerical_gradient

from tinygrad_seq.manual import (
    clip,
    cross_entropy_loss,
    output_backward,
    output_forward,
    sigmoid,
    softmax,
)


def _targets(rng, n_y, m, T_x):
    y = rng.integers(0, n_y, size=(m, T_x))
    return y, np.eye(n_y)[y].transpose(2, 0, 1)  # indices (m, T_x) and one-hot (n_y, m, T_x)


@pytest.mark.parametrize("one_hot", [False, True])
@pytest.mark.parametrize("n_y,n_a,m,T_x", [(2, 1, 1, 1), (5, 3, 2, 4)])
def test_output_backward(n_y, n_a, m, T_x, one_hot):
    rng = np.random.default_rng(9)
    a = rng.standard_normal((n_a, m, T_x))
    Wya, by = rng.standard_normal((n_y, n_a)), rng.standard_normal((n_y, 1))
    y_idx, y_hot = _targets(rng, n_y, m, T_x)
    y = y_hot if one_hot else y_idx

    def loss():
        return cross_entropy_loss(output_forward(a, Wya, by), y)

    y_hat = output_forward(a, Wya, by)
    grads = output_backward(y_hat, y, a, Wya)
    check_all(loss, {"da": a, "dWya": Wya, "dby": by}, grads)
    # dz is the gradient with respect to the logits z = Wya a + by
    z = np.einsum("ya,amt->ymt", Wya, a) + by[:, :, None]
    dz = numerical_gradient(lambda: cross_entropy_loss(softmax(z), y), z)
    assert_grad_close(grads["dz"], dz, "dz")


def test_cross_entropy_indices_equal_one_hot_and_value():
    rng = np.random.default_rng(10)
    y_hat = softmax(rng.standard_normal((4, 3, 2)))
    y_idx, y_hot = _targets(rng, 4, 3, 2)
    expected = -sum(np.log(y_hat[y_idx[i, t], i, t]) for i in range(3) for t in range(2))
    assert cross_entropy_loss(y_hat, y_idx) == pytest.approx(expected, rel=1e-14)
    assert cross_entropy_loss(y_hat, y_hot) == pytest.approx(expected, rel=1e-14)
    with pytest.raises(ValueError, match="targets"):
        cross_entropy_loss(y_hat, y_idx.astype(float))


def test_softmax_and_sigmoid_are_stable():
    z = np.array([[1000.0, -1000.0], [0.0, -1000.0], [-1000.0, -999.0]])
    s = softmax(z)
    assert np.all(np.isfinite(s))
    np.testing.assert_allclose(s.sum(axis=0), 1.0)
    np.testing.assert_allclose(s[:, 0], [1.0, 0.0, 0.0])
    e = math.exp(-1.0)  # column 1 is softmax([-1, -1, 0]) after shifting by its max
    np.testing.assert_allclose(s[:, 1], np.array([e, e, 1.0]) / (2 * e + 1), rtol=1e-14)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow is fine
        g = sigmoid(np.array([-800.0, -30.0, 0.0, 30.0, 800.0]))
    np.testing.assert_allclose(g, [0.0, 1 / (1 + math.exp(30)), 0.5, 1 / (1 + math.exp(-30)), 1])


def test_clip_returns_new_dict_and_does_not_mutate():
    grads = {"dWax": np.array([[-10.0, 0.5], [3.0, -0.2]]), "dba": np.array([[7.0], [-7.0]])}
    before = {k: v.copy() for k, v in grads.items()}
    clipped = clip(grads, 1.0)
    assert clipped is not grads
    np.testing.assert_array_equal(clipped["dWax"], [[-1.0, 0.5], [1.0, -0.2]])
    np.testing.assert_array_equal(clipped["dba"], [[1.0], [-1.0]])
    for k in grads:
        np.testing.assert_array_equal(grads[k], before[k])
