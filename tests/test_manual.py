"""Tests of tinygrad_seq.manual: every hand-written backward against central finite differences.

Each check builds a scalar loss as a random linear functional of the outputs (sum(a * R) for a
fixed random R), so the upstream gradient is R itself, then compares the hand-derived gradient
of every parameter, of x and of the initial states with central differences in float64.
"""

from __future__ import annotations

import ast
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_seq.manual import (
    clip,
    cross_entropy_loss,
    gru_backward,
    gru_cell_backward,
    gru_cell_forward,
    gru_forward,
    lm_training_step,
    lstm_backward,
    lstm_cell_backward,
    lstm_cell_forward,
    lstm_forward,
    output_backward,
    output_forward,
    rnn_backward,
    rnn_cell_backward,
    rnn_cell_forward,
    rnn_forward,
    sigmoid,
    softmax,
)

ROOT = Path(__file__).resolve().parents[1]
MANUAL = ROOT / "tinygrad_seq" / "manual"

# (n_x, n_a, m, T_x): a single unit and step, a typical small case, and a wider/longer one
SHAPES = [(1, 1, 1, 1), (3, 4, 2, 3), (4, 3, 5, 5)]
EPS = 1e-6


# ---------------------------------------------------------------- finite-difference helpers


def numerical_gradient(f, arr: np.ndarray, eps: float = EPS) -> np.ndarray:
    """Central differences of the scalar f() with respect to arr, perturbed in place."""
    grad = np.zeros_like(arr, dtype=np.float64)
    for idx in np.ndindex(arr.shape):
        old = arr[idx]
        arr[idx] = old + eps
        f_plus = f()
        arr[idx] = old - eps
        f_minus = f()
        arr[idx] = old
        grad[idx] = (f_plus - f_minus) / (2 * eps)
    return grad


def assert_grad_close(analytic: np.ndarray, numeric: np.ndarray, name: str) -> None:
    """Relative error below 1e-6, or absolute error below 1e-8 (for gradients near zero)."""
    assert analytic.shape == numeric.shape, f"{name}: shape {analytic.shape} != {numeric.shape}"
    abs_err = np.max(np.abs(analytic - numeric))
    rel_err = np.linalg.norm(analytic - numeric) / max(
        np.linalg.norm(analytic) + np.linalg.norm(numeric), 1e-300
    )
    assert abs_err < 1e-8 or rel_err < 1e-6, f"{name}: rel {rel_err:.2e}, abs {abs_err:.2e}"


def check_all(loss, arrays: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
    """For each name -> array (perturbed in place by the check), compare grads[name] with FD."""
    for name, arr in arrays.items():
        assert_grad_close(grads[name], numerical_gradient(loss, arr), name)


# ---------------------------------------------------------------- parameter builders


def rnn_params(rng, n_x, n_a, n_y=None):
    p = {
        "Wax": rng.standard_normal((n_a, n_x)) * 0.5,
        "Waa": rng.standard_normal((n_a, n_a)) * 0.5,
        "ba": rng.standard_normal((n_a, 1)) * 0.5,
    }
    if n_y is not None:
        p["Wya"] = rng.standard_normal((n_y, n_a)) * 0.5
        p["by"] = rng.standard_normal((n_y, 1)) * 0.5
    return p


def lstm_params(rng, n_x, n_a):
    p = {}
    for g in "fico":
        p["W" + g] = rng.standard_normal((n_a, n_a + n_x)) * 0.5
        p["b" + g] = rng.standard_normal((n_a, 1)) * 0.5
    return p


def gru_params(rng, n_x, n_a, variant):
    shapes = {
        "Wr": (n_a, n_a + n_x),
        "br": (n_a, 1),
        "Wu": (n_a, n_a + n_x),
        "bu": (n_a, 1),
        "bc": (n_a, 1),
    }
    if variant == "course":
        shapes["Wc"] = (n_a, n_a + n_x)
    else:
        shapes.update(Wcc=(n_a, n_a), Wcx=(n_a, n_x), bhc=(n_a, 1))
    return {k: rng.standard_normal(s) * 0.5 for k, s in shapes.items()}


def d(params):
    """Rename {'Wax': ...} to the gradient keys {'dWax': ...}."""
    return {"d" + k: v for k, v in params.items() if isinstance(v, np.ndarray)}


# ---------------------------------------------------------------- RNN


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


# ---------------------------------------------------------------- LSTM


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


# ---------------------------------------------------------------- GRU, both variants


@pytest.mark.parametrize("variant", ["course", "pytorch"])
@pytest.mark.parametrize("n_x,n_a,m,T_x", SHAPES)
def test_gru_cell_backward(n_x, n_a, m, T_x, variant):
    rng = np.random.default_rng(6)
    p = gru_params(rng, n_x, n_a, variant)
    xt, c_prev = rng.standard_normal((n_x, m)), rng.standard_normal((n_a, m))
    R = rng.standard_normal((n_a, m))

    def loss():
        return np.sum(gru_cell_forward(xt, c_prev, p, variant)[0] * R)

    grads = gru_cell_backward(R, gru_cell_forward(xt, c_prev, p, variant)[2])
    check_all(loss, {"dxt": xt, "da_prev": c_prev, **d(p)}, grads)


@pytest.mark.parametrize("variant", ["course", "pytorch"])
@pytest.mark.parametrize("n_x,n_a,m,T_x", SHAPES)
def test_gru_backward(n_x, n_a, m, T_x, variant):
    rng = np.random.default_rng(7)
    p = gru_params(rng, n_x, n_a, variant)
    x, a0 = rng.standard_normal((n_x, m, T_x)), rng.standard_normal((n_a, m))
    R = rng.standard_normal((n_a, m, T_x))

    def loss():
        return np.sum(gru_forward(x, a0, p, variant=variant)[0] * R)

    grads = gru_backward(R, gru_forward(x, a0, p, variant=variant)[2])
    assert set(grads) == {"dx", "da0", *d(p)}
    check_all(loss, {"dx": x, "da0": a0, **d(p)}, grads)


def test_gru_variants_differ_only_in_the_candidate():
    # with Gr = 1 everywhere (large br) and bhc = 0, reset before or after the matmul agree
    rng = np.random.default_rng(8)
    n_x, n_a = 3, 2
    course = gru_params(rng, n_x, n_a, "course")
    course["br"] = np.full((n_a, 1), 60.0)
    pytorch = {k: course[k] for k in ("Wr", "br", "Wu", "bu", "bc")}
    pytorch.update(Wcc=course["Wc"][:, :n_a], Wcx=course["Wc"][:, n_a:], bhc=np.zeros((n_a, 1)))
    x, a0 = rng.standard_normal((n_x, 4, 3)), rng.standard_normal((n_a, 4))
    a_course = gru_forward(x, a0, course, variant="course")[0]
    a_torch = gru_forward(x, a0, pytorch, variant="pytorch")[0]
    np.testing.assert_allclose(a_course, a_torch, rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="variant"):
        gru_forward(x, a0, course, variant="keras")


# ---------------------------------------------------------------- output layer and loss


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


# ---------------------------------------------------------------- language-model step


def _lm_setup(rng, cell, n_x=4, n_a=3, m=2, T_x=4):
    if cell == "rnn":
        p = rnn_params(rng, n_x, n_a)
    elif cell == "lstm":
        p = lstm_params(rng, n_x, n_a)
    else:
        p = gru_params(rng, n_x, n_a, "course" if cell == "gru" else "pytorch")
    p["Wya"] = rng.standard_normal((n_x, n_a)) * 0.5
    p["by"] = rng.standard_normal((n_x, 1)) * 0.5
    idx = rng.integers(0, n_x, size=(m, T_x + 1))
    X = np.eye(n_x)[idx[:, :-1]].transpose(2, 0, 1)  # one-hot inputs (n_x, m, T_x)
    Y = idx[:, 1:]  # the next character at every step (m, T_x)
    return X, Y, rng.standard_normal((n_a, m)), p


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru", "gru_pytorch"])
def test_lm_training_step_gradients_and_update(cell):
    rng = np.random.default_rng(11)
    X, Y, a_prev, p = _lm_setup(rng, cell)
    before = {k: v.copy() for k, v in p.items()}
    loss, grads, a_last, new = lm_training_step(X, Y, a_prev, p, 0.1, 1e9, cell=cell)
    for k in p:  # the input dict's arrays are untouched
        np.testing.assert_array_equal(p[k], before[k])
    assert new is not p and set(new) == set(p) and set(grads) == set(d(p))
    for k in p:
        np.testing.assert_allclose(new[k], p[k] - 0.1 * grads["d" + k], rtol=1e-15)
    assert isinstance(loss, float)
    check_all(lambda: lm_training_step(X, Y, a_prev, p, 0.1, 1e9, cell=cell)[0], d(p), grads)
    a_seq = np.asarray(a_last[0] if cell == "lstm" else a_last)
    assert a_seq.shape == a_prev.shape


def test_lm_training_step_rnn_matches_forward_and_clips():
    rng = np.random.default_rng(12)
    X, Y, a_prev, p = _lm_setup(rng, "rnn")
    p = {k: v * 6 for k, v in p.items()}  # large weights, so gradients exceed the clip value
    a, y_pred, _ = rnn_forward(X, a_prev, p)
    loss, grads, a_last, new = lm_training_step(X, Y, a_prev, p, 0.01, 0.5)
    assert loss == pytest.approx(cross_entropy_loss(y_pred, Y), rel=1e-12)
    np.testing.assert_array_equal(a_last, a[:, :, -1])
    _, raw, _, _ = lm_training_step(X, Y, a_prev, p, 0.01, 1e9)
    assert any(np.max(np.abs(g)) > 0.5 for g in raw.values())
    for k, g in grads.items():
        assert np.max(np.abs(g)) <= 0.5
        np.testing.assert_array_equal(g, np.clip(raw[k], -0.5, 0.5))
    with pytest.raises(ValueError, match="cell"):
        lm_training_step(X, Y, a_prev, p, 0.01, 0.5, cell="transformer")


def test_lm_training_step_lstm_carries_cell_state():
    rng = np.random.default_rng(13)
    X, Y, a_prev, p = _lm_setup(rng, "lstm")
    c_prev = rng.standard_normal(a_prev.shape)
    recurrent = {k: v for k, v in p.items() if k not in ("Wya", "by")}
    a, _, c, _ = lstm_forward(X, a_prev, recurrent, c0=c_prev)
    _, _, (a_last, c_last), _ = lm_training_step(X, Y, (a_prev, c_prev), p, 0.1, 5.0, "lstm")
    np.testing.assert_array_equal(a_last, a[:, :, -1])
    np.testing.assert_array_equal(c_last, c[:, :, -1])


# ---------------------------------------------------------------- PyTorch parity


def _check_against_torch(module, n_states, manual_forward_backward, torch_grads_from):
    """Same weights, same x and initial states: outputs and every gradient agree with torch.

    manual_forward_backward(x, states, R, Rc) -> (a, grads) runs manual/ with the loss
    sum(a * R) (+ sum(c<T_x> * Rc) for the LSTM); torch_grads_from(grads) maps the manual
    gradients to torch's parameter names.
    """
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(20)
    n_a, n_x = module.hidden_size, module.input_size
    x, R = rng.standard_normal((n_x, 2, 5)), rng.standard_normal((n_a, 2, 5))
    states = [rng.standard_normal((n_a, 2)) for _ in range(n_states)]
    Rc = rng.standard_normal((n_a, 2))
    xt = torch.tensor(x.transpose(2, 1, 0), requires_grad=True)  # torch wants (T_x, m, n_x)
    hs = [torch.tensor(h.T[None].copy(), requires_grad=True) for h in states]  # (1, m, n_a)
    out, h_n = module(xt, tuple(hs) if n_states == 2 else hs[0])
    loss = (out * torch.tensor(R.transpose(2, 1, 0))).sum()
    if n_states == 2:
        loss = loss + (h_n[1][0] * torch.tensor(Rc.T)).sum()
    loss.backward()
    a, grads = manual_forward_backward(x, states, R, Rc)
    np.testing.assert_allclose(a, out.detach().numpy().transpose(2, 1, 0), rtol=1e-12, atol=1e-14)
    expected = {**torch_grads_from(grads), "x": grads["dx"], "h0": grads["da0"]}
    actual = {n: q.grad.numpy() for n, q in module.named_parameters()}
    actual.update(x=xt.grad.numpy().transpose(2, 1, 0), h0=hs[0].grad.numpy()[0].T)
    if n_states == 2:
        expected["c0"], actual["c0"] = grads["dc0"], hs[1].grad.numpy()[0].T
    assert set(expected) == set(actual)
    for name, value in expected.items():
        np.testing.assert_allclose(value, actual[name], rtol=1e-10, atol=1e-12, err_msg=name)


def _weights(module):
    return [q.detach().numpy() for q in module.parameters()]  # w_ih, w_hh, b_ih, b_hh


def _ih_hh(dW, n_a):
    """Split a course gradient acting on [h; x] into torch's (input part, hidden part)."""
    return dW[:, n_a:], dW[:, :n_a]


@pytest.mark.parity
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_matches_torch(nonlinearity):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    rnn = torch.nn.RNN(3, 4, nonlinearity=nonlinearity).double()
    w_ih, w_hh, b_ih, b_hh = _weights(rnn)
    p = {"Wax": w_ih, "Waa": w_hh, "ba": (b_ih + b_hh)[:, None], "nonlinearity": nonlinearity}

    def run(x, states, R, Rc):
        a, _, caches = rnn_forward(x, states[0], p)
        return a, rnn_backward(R, caches)

    def to_torch(g):
        db = g["dba"][:, 0]  # the two biases fold into ba, so both get its gradient
        return {"weight_ih_l0": g["dWax"], "weight_hh_l0": g["dWaa"], "bias_ih_l0": db,
                "bias_hh_l0": db}  # fmt: skip

    _check_against_torch(rnn, 1, run, to_torch)


@pytest.mark.parity
def test_lstm_matches_torch():
    torch = pytest.importorskip("torch")
    torch.manual_seed(1)
    n_a = 4
    lstm = torch.nn.LSTM(3, n_a).double()
    w_ih, w_hh, b_ih, b_hh = _weights(lstm)
    p = {}
    for k, g in enumerate("ifco"):  # PyTorch's gate order is i, f, g (the candidate), o
        rows = slice(k * n_a, (k + 1) * n_a)
        p["W" + g] = np.hstack([w_hh[rows], w_ih[rows]])
        p["b" + g] = (b_ih[rows] + b_hh[rows])[:, None]

    def run(x, states, R, Rc):
        a, _, _, caches = lstm_forward(x, states[0], p, c0=states[1])
        return a, lstm_backward(R, caches, dc_last=Rc)

    def to_torch(g):
        ih, hh = zip(*(_ih_hh(g["dW" + q], n_a) for q in "ifco"))
        db = np.concatenate([g["db" + q][:, 0] for q in "ifco"])
        return {"weight_ih_l0": np.vstack(ih), "weight_hh_l0": np.vstack(hh), "bias_ih_l0": db,
                "bias_hh_l0": db}  # fmt: skip

    _check_against_torch(lstm, 2, run, to_torch)


@pytest.mark.parity
def test_gru_pytorch_variant_matches_torch():
    torch = pytest.importorskip("torch")
    torch.manual_seed(2)
    n_a = 4
    gru = torch.nn.GRU(3, n_a).double()
    w_ih, w_hh, b_ih, b_hh = _weights(gru)
    r, z, n = (slice(k * n_a, (k + 1) * n_a) for k in range(3))  # PyTorch's order r, z, n
    p = {  # the mapping documented in manual/gru.py: Gu = 1 - z, hence the minus signs
        "Wr": np.hstack([w_hh[r], w_ih[r]]),
        "br": (b_ih[r] + b_hh[r])[:, None],
        "Wu": -np.hstack([w_hh[z], w_ih[z]]),
        "bu": -(b_ih[z] + b_hh[z])[:, None],
        "Wcc": w_hh[n],
        "Wcx": w_ih[n],
        "bc": b_ih[n][:, None],
        "bhc": b_hh[n][:, None],
    }

    def run(x, states, R, Rc):
        a, _, caches = gru_forward(x, states[0], p, variant="pytorch")
        return a, gru_backward(R, caches)

    def to_torch(g):
        (r_ih, r_hh), (u_ih, u_hh) = _ih_hh(g["dWr"], n_a), _ih_hh(g["dWu"], n_a)
        return {
            "weight_ih_l0": np.vstack([r_ih, -u_ih, g["dWcx"]]),
            "weight_hh_l0": np.vstack([r_hh, -u_hh, g["dWcc"]]),
            "bias_ih_l0": np.concatenate([g["dbr"], -g["dbu"], g["dbc"]])[:, 0],
            "bias_hh_l0": np.concatenate([g["dbr"], -g["dbu"], g["dbhc"]])[:, 0],
        }

    _check_against_torch(gru, 1, run, to_torch)


# ---------------------------------------------------------------- dtype, purity, docs


def test_float32_stays_float32():
    rng = np.random.default_rng(14)
    f32 = np.float32
    x, a0 = rng.standard_normal((2, 3, 4)).astype(f32), rng.standard_normal((3, 3)).astype(f32)
    R = np.ones((3, 3, 4), dtype=f32)
    p = {k: v.astype(f32) for k, v in rnn_params(rng, 2, 3).items()}
    a, _, caches = rnn_forward(x, a0, p)
    assert a.dtype == f32 and all(g.dtype == f32 for g in rnn_backward(R, caches).values())
    p = {k: v.astype(f32) for k, v in lstm_params(rng, 2, 3).items()}
    a, _, c, caches = lstm_forward(x, a0, p)
    assert a.dtype == c.dtype == f32
    assert all(g.dtype == f32 for g in lstm_backward(R, caches).values())
    for variant in ("course", "pytorch"):
        p = {k: v.astype(f32) for k, v in gru_params(rng, 2, 3, variant).items()}
        a, _, caches = gru_forward(x, a0, p, variant=variant)
        assert a.dtype == f32 and all(g.dtype == f32 for g in gru_backward(R, caches).values())


ALLOWED_TOP_LEVEL = {"numpy", "math", "__future__", "typing"}


def test_manual_imports_numpy_only():
    files = sorted(MANUAL.glob("*.py"))
    assert {f.name for f in files} >= {"__init__.py", "rnn.py", "lstm.py", "gru.py", "output.py"}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    top = alias.name.split(".")[0]
                    assert top in ALLOWED_TOP_LEVEL, f"{path.name} imports {alias.name}"
            elif isinstance(node, ast.ImportFrom):
                if node.level == 0:
                    module = node.module or ""
                    allowed = module.split(".")[0] in ALLOWED_TOP_LEVEL or (
                        module.startswith("tinygrad_seq.manual")
                    )
                    assert allowed, f"{path.name} imports from {module}"
                else:  # relative: only siblings inside manual/, never the parent package
                    assert node.level == 1, (
                        f"{path.name}: 'from {'.' * node.level}...' leaves manual/"
                    )


def test_manual_imports_no_engine_module_at_runtime():
    # A stand-in parent package, so tinygrad_seq/__init__.py (which may import the engine) does
    # not run and only what manual/ itself pulls in gets loaded.
    code = (
        "import sys, types\n"
        "pkg = types.ModuleType('tinygrad_seq')\n"
        f"pkg.__path__ = [{str(MANUAL.parent)!r}]\n"
        "sys.modules['tinygrad_seq'] = pkg\n"
        "import tinygrad_seq.manual\n"
        "print(sorted(m for m in sys.modules if m.startswith('tinygrad_seq')))\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    names_line, torch_line = out.stdout.strip().splitlines()
    names = ast.literal_eval(names_line)
    assert "tinygrad_seq.manual.rnn" in names
    for name in names:
        assert name == "tinygrad_seq" or name.startswith("tinygrad_seq.manual"), name
    assert torch_line == "False"


def test_docs_line_references_point_at_their_equations():
    doc = (ROOT / "docs" / "backward.md").read_text()
    refs = re.findall(r"`manual/(\w+\.py):(\d+)` \((\w+)\)", doc)
    assert len(refs) >= 40
    for filename, line, tag in refs:
        lines = (MANUAL / filename).read_text().splitlines()
        assert f"# eq. ({tag})" in lines[int(line) - 1], f"{filename}:{line} is not ({tag})"
    tags = {tag for _, _, tag in refs}
    for path in MANUAL.glob("*.py"):
        for tag in re.findall(r"# eq\. \((\w+)\)", path.read_text()):
            assert tag in tags, f"({tag}) in {path.name} is not referenced by docs/backward.md"
