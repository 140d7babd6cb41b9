"""Tests of tinygrad_seq.manual.rnn: the basic RNN's hand-derived forward and backward, against
values by hand, central finite differences and PyTorch."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import require_torch
from hypothesis import given, settings
from hypothesis import strategies as st
from manual_helpers import SHAPES, check_against_torch, check_all, rnn_params, torch_weights

from tinygrad_seq.manual import rnn_backward, rnn_cell_backward, rnn_cell_forward, rnn_forward


def test_rnn_cell_forward_handmade():
    # one unit, one example: z = 0.5 * 0.2 + 1.0 * 1.0 + 0.1 = 1.2
    params = {
        "Waa": np.array([[0.5]]),
        "Wax": np.array([[1.0]]),
        "ba": np.array([[0.1]]),
        "Wya": np.array([[1.0], [-1.0]]),
        "by": np.array([[0.0], [0.5]]),
    }
    a_next, yt, cache = rnn_cell_forward(np.array([[1.0]]), np.array([[0.2]]), params)
    a = math.tanh(1.2)
    assert a_next[0, 0] == pytest.approx(a, abs=1e-15)
    e1, e2 = math.exp(a), math.exp(-a + 0.5)
    np.testing.assert_allclose(yt[:, 0], [e1 / (e1 + e2), e2 / (e1 + e2)], rtol=1e-14)
    assert cache[0] is a_next and cache[4] == "tanh"
    # relu: z = -0.5 * 0.2 + 1.0 * (-1.0) + 0.1 = -1.0 clips to 0; the other example passes z
    params["Waa"] = np.array([[-0.5]])
    x = np.array([[-1.0, 2.0]])
    a_relu, _, _ = rnn_cell_forward(x, np.array([[0.2, 0.2]]), params, nonlinearity="relu")
    np.testing.assert_allclose(a_relu, [[0.0, 2.0]], atol=1e-15)


def test_rnn_nonlinearity_from_parameters_and_bad_name():
    rng = np.random.default_rng(0)
    p = rnn_params(rng, 2, 3)
    x, a0 = rng.standard_normal((2, 1, 2)), rng.standard_normal((3, 1))
    a_kw, _, _ = rnn_forward(x, a0, p, nonlinearity="relu")
    a_dict, y, _ = rnn_forward(x, a0, {**p, "nonlinearity": "relu"})
    np.testing.assert_array_equal(a_kw, a_dict)
    assert y is None  # no output layer in p
    with pytest.raises(ValueError, match="nonlinearity"):
        rnn_forward(x, a0, p, nonlinearity="sigmoid")


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("n_x,n_a,m,T_x", SHAPES)
def test_rnn_cell_backward(n_x, n_a, m, T_x, nonlinearity):
    rng = np.random.default_rng(1)
    p = rnn_params(rng, n_x, n_a)
    xt, a_prev = rng.standard_normal((n_x, m)), rng.standard_normal((n_a, m))
    R = rng.standard_normal((n_a, m))

    def loss():
        return np.sum(rnn_cell_forward(xt, a_prev, p, nonlinearity)[0] * R)

    grads = rnn_cell_backward(R, rnn_cell_forward(xt, a_prev, p, nonlinearity)[2])
    arrays = {"dxt": xt, "da_prev": a_prev, "dWax": p["Wax"], "dWaa": p["Waa"], "dba": p["ba"]}
    check_all(loss, arrays, grads)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("n_x,n_a,m,T_x", SHAPES)
def test_rnn_backward(n_x, n_a, m, T_x, nonlinearity):
    _check_rnn_backward(np.random.default_rng(2), n_x, n_a, m, T_x, nonlinearity)


def _check_rnn_backward(rng, n_x, n_a, m, T_x, nonlinearity="tanh"):
    p = rnn_params(rng, n_x, n_a, n_y=2)  # the output layer is present but unused by the loss
    x, a0 = rng.standard_normal((n_x, m, T_x)), rng.standard_normal((n_a, m))
    R = rng.standard_normal((n_a, m, T_x))

    def loss():
        return np.sum(rnn_forward(x, a0, p, nonlinearity)[0] * R)

    a, y_pred, caches = rnn_forward(x, a0, p, nonlinearity)
    assert a.shape == (n_a, m, T_x) and y_pred.shape == (2, m, T_x)
    grads = rnn_backward(R, caches)
    arrays = {"dx": x, "da0": a0, "dWax": p["Wax"], "dWaa": p["Waa"], "dba": p["ba"]}
    check_all(loss, arrays, grads)


@settings(max_examples=15, deadline=None)
@given(
    n_x=st.integers(1, 4),
    n_a=st.integers(1, 4),
    m=st.integers(1, 3),
    T_x=st.integers(1, 5),
    seed=st.integers(0, 2**31 - 1),
)
def test_rnn_backward_hypothesis(n_x, n_a, m, T_x, seed):
    _check_rnn_backward(np.random.default_rng(seed), n_x, n_a, m, T_x)


@pytest.mark.parity
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_matches_torch(nonlinearity):
    torch = require_torch()
    torch.manual_seed(0)
    rnn = torch.nn.RNN(3, 4, nonlinearity=nonlinearity).double()
    w_ih, w_hh, b_ih, b_hh = torch_weights(rnn)
    p = {"Wax": w_ih, "Waa": w_hh, "ba": (b_ih + b_hh)[:, None], "nonlinearity": nonlinearity}

    def run(x, states, R, Rc):
        a, _, caches = rnn_forward(x, states[0], p)
        return a, rnn_backward(R, caches)

    def to_torch(g):
        db = g["dba"][:, 0]  # the two biases fold into ba, so both get its gradient
        return {"weight_ih_l0": g["dWax"], "weight_hh_l0": g["dWaa"], "bias_ih_l0": db,
                "bias_hh_l0": db}  # fmt: skip

    check_against_torch(rnn, 1, run, to_torch)
