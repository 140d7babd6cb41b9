"""Tests of tinygrad_seq.manual.lstm: the LSTM's hand-derived backward against central finite
differences and PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import require_torch
from manual_helpers import (
    SHAPES,
    check_against_torch,
    check_all,
    d,
    ih_hh,
    lstm_params,
    torch_weights,
)

from tinygrad_seq.manual import (
    lstm_backward,
    lstm_cell_backward,
    lstm_cell_forward,
    lstm_forward,
    softmax,
)


@pytest.mark.parametrize("n_x,n_a,m,T_x", SHAPES)
def test_lstm_cell_backward(n_x, n_a, m, T_x):
    rng = np.random.default_rng(3)
    p = lstm_params(rng, n_x, n_a)
    xt = rng.standard_normal((n_x, m))
    a_prev, c_prev = rng.standard_normal((n_a, m)), rng.standard_normal((n_a, m))
    Ra, Rc = rng.standard_normal((n_a, m)), rng.standard_normal((n_a, m))

    def loss():
        a_next, c_next, _, _ = lstm_cell_forward(xt, a_prev, c_prev, p)
        return np.sum(a_next * Ra) + np.sum(c_next * Rc)

    grads = lstm_cell_backward(Ra, Rc, lstm_cell_forward(xt, a_prev, c_prev, p)[3])
    arrays = {"dxt": xt, "da_prev": a_prev, "dc_prev": c_prev, **d(p)}
    check_all(loss, arrays, grads)


@pytest.mark.parametrize("with_c0", [False, True])
@pytest.mark.parametrize("n_x,n_a,m,T_x", SHAPES)
def test_lstm_backward(n_x, n_a, m, T_x, with_c0):
    rng = np.random.default_rng(4)
    p = lstm_params(rng, n_x, n_a)
    x, a0 = rng.standard_normal((n_x, m, T_x)), rng.standard_normal((n_a, m))
    c0 = rng.standard_normal((n_a, m)) if with_c0 else None
    R, Rc = rng.standard_normal((n_a, m, T_x)), rng.standard_normal((n_a, m))

    def loss():
        a, _, c, _ = lstm_forward(x, a0, p, c0=c0)
        return np.sum(a * R) + np.sum(c[:, :, -1] * Rc)  # the final cell state counts too

    a, y, c, caches = lstm_forward(x, a0, p, c0=c0)
    assert a.shape == c.shape == (n_a, m, T_x) and y is None
    grads = lstm_backward(R, caches, dc_last=Rc)
    arrays = {"dx": x, "da0": a0, **d(p)}
    if with_c0:
        arrays["dc0"] = c0
    check_all(loss, arrays, grads)
    assert grads["dc0"].shape == (n_a, m)


def test_lstm_cell_forward_course_output_key():
    rng = np.random.default_rng(5)
    p = {**lstm_params(rng, 2, 3), "Wy": rng.standard_normal((4, 3)), "by": np.zeros((4, 1))}
    a_next, c_next, yt, _ = lstm_cell_forward(
        rng.standard_normal((2, 5)), np.zeros((3, 5)), np.zeros((3, 5)), p
    )
    np.testing.assert_allclose(yt, softmax(p["Wy"] @ a_next), rtol=1e-14)
    np.testing.assert_allclose(yt.sum(axis=0), 1.0, rtol=1e-14)


@pytest.mark.parity
def test_lstm_matches_torch():
    torch = require_torch()
    torch.manual_seed(1)
    n_a = 4
    lstm = torch.nn.LSTM(3, n_a).double()
    w_ih, w_hh, b_ih, b_hh = torch_weights(lstm)
    p = {}
    for k, g in enumerate("ifco"):  # PyTorch's gate order is i, f, g (the candidate), o
        rows = slice(k * n_a, (k + 1) * n_a)
        p["W" + g] = np.hstack([w_hh[rows], w_ih[rows]])
        p["b" + g] = (b_ih[rows] + b_hh[rows])[:, None]

    def run(x, states, R, Rc):
        a, _, _, caches = lstm_forward(x, states[0], p, c0=states[1])
        return a, lstm_backward(R, caches, dc_last=Rc)

    def to_torch(g):
        ih, hh = zip(*(ih_hh(g["dW" + q], n_a) for q in "ifco"))
        db = np.concatenate([g["db" + q][:, 0] for q in "ifco"])
        return {"weight_ih_l0": np.vstack(ih), "weight_hh_l0": np.vstack(hh), "bias_ih_l0": db,
                "bias_hh_l0": db}  # fmt: skip

    check_against_torch(lstm, 2, run, to_torch)
