"""fused=True layers: one hand-derived op per step, gradients equal to the composed cells'."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import tinygrad_seq as ts
from tinygrad_seq import fused, nn

MODES = [("RNN", {}), ("RNN", {"nonlinearity": "relu"}), ("GRU", {}), ("LSTM", {})]
CASES = list(itertools.product(MODES, [1, 2], [False, True], [True, False], [False, True]))


def _run(layer, x, h0, lengths, r):
    xt = ts.tensor(x, requires_grad=True)
    hx = None
    if h0 is not None:
        hx = tuple(ts.tensor(h, requires_grad=True) for h in h0)
        hx = hx if isinstance(layer, nn.LSTM) else hx[0]
    out, hn = layer(xt, hx, lengths=lengths)
    finals = list(hn) if isinstance(hn, tuple) else [hn]
    loss = (out * ts.tensor(r)).sum() + sum((f * f).sum() for f in finals)
    loss.backward()
    grads = [xt.grad.data] + [p.grad.data for p in layer.parameters()]
    if hx is not None:
        grads += [h.grad.data for h in (hx if isinstance(hx, tuple) else (hx,))]
    return out.data, [f.data for f in finals], grads


@pytest.mark.parametrize(
    "case", CASES, ids=lambda c: f"{c[0][0]}{c[0][1]}-L{c[1]}-bi{c[2]}-bias{c[3]}-len{c[4]}"
)
def test_fused_equals_composed(case):
    (mode, kw), layers, bidir, bias, use_lengths = case
    T, N, I, H = 6, 3, 4, 5
    ts.manual_seed(0)
    composed = getattr(nn, mode)(I, H, num_layers=layers, bidirectional=bidir, bias=bias, **kw)
    composed.double()
    fast = getattr(nn, mode)(
        I, H, num_layers=layers, bidirectional=bidir, bias=bias, fused=True, **kw
    ).double()
    fast.load_state_dict(composed.state_dict())
    rng = np.random.default_rng(1)
    x = rng.standard_normal((T, N, I))
    D = 2 if bidir else 1
    h0 = [rng.standard_normal((D * layers, N, H)) for _ in range(2)]
    r = rng.standard_normal((T, N, D * H))
    lengths = [6, 2, 4] if use_lengths else None
    a = _run(composed, x, h0, lengths, r)
    b = _run(fast, x, h0, lengths, r)
    np.testing.assert_allclose(b[0], a[0], atol=1e-13)
    for fa, fb in zip(a[1], b[1]):
        np.testing.assert_allclose(fb, fa, atol=1e-13)
    for ga, gb in zip(a[2], b[2]):
        np.testing.assert_allclose(gb, ga, atol=1e-12)


@pytest.mark.parametrize("op", ["rnn", "rnn-relu", "lstm", "gru"])
def test_gradcheck_fused_steps(op):
    rng = np.random.default_rng(2)
    N, H = 2, 3
    G = {"lstm": 4, "gru": 3}.get(op, 1)
    t = lambda *s: ts.tensor(rng.standard_normal(s), requires_grad=True)  # noqa: E731
    xw, h, whh_t = t(N, G * H), t(N, H), t(H, G * H)
    if op.startswith("rnn"):
        if op == "rnn-relu":  # keep pre-activations away from the kink at 0
            xw = ts.tensor(np.abs(xw.data) + 2.0, requires_grad=True)
        fn = lambda xw, h, w: fused.RNNStep.apply(xw, h, w, relu=op == "rnn-relu")  # noqa: E731
        assert ts.gradcheck(fn, (xw, h, whh_t))
    elif op == "lstm":
        assert ts.gradcheck(fused.LSTMStep.apply, (xw, h, t(N, H), whh_t))
    else:
        assert ts.gradcheck(fused.GRUStep.apply, (xw, h, whh_t, t(G * H)))


def test_fused_course_gru_is_refused():
    with pytest.raises(ValueError, match=r"reset_after=True\) only"):
        nn.GRU(3, 4, reset_after=False, fused=True)


def test_fused_keeps_retained_states_and_scopes():
    layer = nn.LSTM(2, 3, fused=True, retain_states=True)
    out, _ = layer(ts.randn(4, 1, 2))
    out.sum().backward()
    assert len(layer.states["l0"]["h"]) == 4
    assert all(h.grad is not None for h in layer.states["l0"]["h"])
    assert "fused=True" in repr(layer)
