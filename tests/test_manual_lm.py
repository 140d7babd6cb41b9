"""Tests of tinygrad_seq.manual.lm: one language-model training step by hand, against finite
differences, the manual forward passes, and the same step written with nn and optim."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import LAYERS
from manual_helpers import check_all, d, gru_params, lstm_params, rnn_params

import tinygrad_seq as ts
from tinygrad_seq import functional as F
from tinygrad_seq import nn, optim
from tinygrad_seq.manual import convert as cv
from tinygrad_seq.manual import cross_entropy_loss, lm_training_step, lstm_forward, rnn_forward


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


# ---------------------------------------------------------------- the same step with nn


def _nn_lm_step(kind, kwargs, params, X, Y, a_prev, lr, clip, freeze_bias_hh):
    """The same step with nn: layer + read-out Parameters, F.cross_entropy, clip, optim.SGD."""
    layer = LAYERS[kind](X.shape[0], a_prev.shape[0], **kwargs)
    recurrent = {k: v for k, v in params.items() if k not in ("Wya", "by")}
    cv.course_to_module(recurrent, layer)
    Wya, by = nn.Parameter(params["Wya"].copy()), nn.Parameter(params["by"][:, 0].copy())
    h0 = ts.tensor(cv.state_from_course(a_prev, layer=True))
    h0 = (h0, ts.zeros(*h0.shape, dtype=ts.float64)) if kind == "lstm" else h0
    out, _ = layer(ts.tensor(cv.sequence_from_course(X)), h0)
    T, m = out.shape[:2]
    logits = (out @ Wya.T + by).reshape(T * m, Wya.shape[0])
    loss = F.cross_entropy(logits, Y.T.reshape(T * m), reduction="sum")
    trained = [p for k, p in layer.named_parameters() if not (freeze_bias_hh and "bias_hh" in k)]
    loss.backward()
    nn.utils.clip_grad_value_(trained + [Wya, by], clip)
    optim.SGD(trained + [Wya, by], lr=lr).step()
    return layer, Wya, by, float(loss.item()), out


LM_CELLS = [("rnn", "rnn", {}), ("lstm", "lstm", {}), ("gru", "gru_pytorch", {}),
            ("gru", "gru", {"reset_after": False})]  # fmt: skip


@pytest.mark.parametrize("kind,cell,kwargs", LM_CELLS, ids=[c[1] for c in LM_CELLS])
def test_lm_training_step_equals_nn_step(kind, cell, kwargs):
    ts.set_default_dtype(ts.float64)
    rng = np.random.default_rng(22)
    n_x, n_a, m, T = 5, 4, 3, 4
    X = np.eye(n_x)[:, rng.integers(0, n_x, size=(m, T))]  # one-hot (n_x, m, T_x)
    Y = rng.integers(0, n_x, size=(m, T))
    a_prev = rng.standard_normal((n_a, m)) * 0.5
    params = cv.module_to_course(LAYERS[kind](n_x, n_a, **kwargs))
    params.update(Wya=rng.standard_normal((n_x, n_a)), by=rng.standard_normal((n_x, 1)))
    state = (a_prev, np.zeros_like(a_prev)) if kind == "lstm" else a_prev
    loss, grads, a_last, new = lm_training_step(X, Y, state, params, 0.05, 0.5, cell=cell)
    recurrent = {k: v for k, v in params.items() if k not in ("Wya", "by")}
    reset_after = kwargs.get("reset_after", True)
    old_nn = cv.course_to_state_dict(recurrent, kind, reset_after, layer=True)
    layer, Wya, by, nn_loss, out = _nn_lm_step(kind, kwargs, params, X, Y, a_prev, 0.05, 0.5, False)
    assert nn_loss == pytest.approx(loss, rel=1e-13)
    np.testing.assert_allclose(out.data[-1].T, a_last[0] if kind == "lstm" else a_last, atol=1e-14)
    # every nn parameter took its step with the manual (clipped) gradient, mapped to nn names
    mapped = cv.grads_to_nn(grads, kind, reset_after, layer=True)
    for name, p in layer.named_parameters():
        np.testing.assert_allclose(p.grad.data, mapped[name], atol=1e-12, err_msg=name)
        np.testing.assert_allclose(p.data, old_nn[name] - 0.05 * mapped[name], atol=1e-12)
    np.testing.assert_allclose(Wya.data, new["Wya"], atol=1e-12)
    np.testing.assert_allclose(by.data, new["by"][:, 0], atol=1e-12)
    if cell == "gru_pytorch":
        return  # b_hn sits in bias_hh unfolded: bias_hh cannot be frozen as a whole
    # with one trainable bias (bias_hh frozen at 0) the nn step IS the course step
    layer, *_ = _nn_lm_step(kind, kwargs, params, X, Y, a_prev, 0.05, 0.5, True)
    after = cv.module_to_course(layer)
    for k, v in after.items():
        if isinstance(v, np.ndarray):
            np.testing.assert_allclose(v, new[k], atol=1e-12, rtol=0, err_msg=k)
