"""Tests of tinygrad_seq.viz.plots: grad_flow and the matplotlib figures (vanishing vs carried
gradients, valid PNG files)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import tinygrad_seq as ts
from tinygrad_seq import nn, viz

PNG = b"\x89PNG\r\n\x1a\n"


def long_range(cls, T=50, H=16, seed=0, forget_bias=None, **kw):
    """A layer run over a (T, 8, 4) sequence, loss on the last step's output only, backward."""
    ts.manual_seed(seed)
    m = cls(4, H, retain_states=True, **kw)
    if forget_bias is not None:  # the usual LSTM init (Jozefowicz et al. 2015): f starts open
        m.bias_ih_l0.data[H : 2 * H] = forget_bias
        m.bias_hh_l0.data[H : 2 * H] = 0.0
    out, _ = m(ts.randn(T, 8, 4))
    (out[-1] ** 2).sum().backward()
    return m


def assert_png(path):
    data = path.read_bytes()
    assert data[:8] == PNG and len(data) > 1024


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rnn_gradient_vanishes_faster_than_lstm(seed):
    rnn = viz.grad_flow(long_range(nn.RNN, seed=seed))["l0"]["h"]
    lstm = viz.grad_flow(long_range(nn.LSTM, seed=seed, forget_bias=1.0))["l0"]["h"]
    rnn_ratio, lstm_ratio = rnn[0] / rnn[-1], lstm[0] / lstm[-1]
    assert rnn_ratio < 1e-7  # tanh RNN: ~10 orders of magnitude lost over 50 steps
    assert lstm_ratio > 1e3 * rnn_ratio  # the cell state carries it much further
    assert np.all(np.diff(np.log(rnn)) > 0)  # monotone decay going back from the loss


def test_grad_flow_shapes_for_layers_directions_and_models():
    flow = viz.grad_flow(long_range(nn.LSTM, T=6))
    assert set(flow) == {"l0"} and set(flow["l0"]) == {"h", "c"}
    assert flow["l0"]["h"].shape == (6,) and np.all(flow["l0"]["c"] > 0)
    flow = viz.grad_flow(long_range(nn.GRU, T=5, num_layers=2, bidirectional=True))
    assert set(flow) == {"l0", "l0_reverse", "l1", "l1_reverse"}
    assert set(flow["l1_reverse"]) == {"h"} and flow["l1_reverse"]["h"].shape == (5,)

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.RNN(4, 3, retain_states=True)

        def forward(self, x):
            return self.encoder(x)[0]

    model = Model()
    model(ts.randn(4, 2, 4)).sum().backward()
    assert set(viz.grad_flow(model)) == {"encoder.l0"}


def test_grad_flow_errors_say_what_is_missing():
    with pytest.raises(ValueError, match="retain_states=True"):
        viz.grad_flow(nn.LSTM(2, 3))
    m = nn.LSTM(2, 3, retain_states=True)
    m(ts.randn(4, 1, 2))
    with pytest.raises(ValueError, match="backward"):
        viz.grad_flow(m)


def test_plot_grad_flow_png(tmp_path):
    pytest.importorskip("matplotlib")
    models = {
        "RNN": long_range(nn.RNN, T=20),
        "LSTM": long_range(nn.LSTM, T=20, forget_bias=1.0),
    }
    fig = viz.plot_grad_flow(models, path=tmp_path / "flow.png")
    assert_png(tmp_path / "flow.png")
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and len(ax.get_lines()) == 3  # RNN h, LSTM h and c
    flows = [viz.grad_flow(m) for m in models.values()]
    fig = viz.plot_grad_flow(flows, labels=["a", "b"])
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()][0] == "a: ||dL/dh_t||"
    with pytest.raises(ValueError, match="labels"):
        viz.plot_grad_flow(flows, labels=["a"])


def test_lstm_gate_activations_reproduce_the_layer():
    ts.manual_seed(3)
    lstm = nn.LSTM(3, 5)
    x = ts.randn(7, 3)
    gates = viz.lstm_gate_activations(lstm, x)
    assert set(gates) == set("ifgo") and all(g.shape == (7, 5) for g in gates.values())
    c, hs = np.zeros(5), []
    for t in range(7):  # c' = f c + i g, h' = o tanh(c'): the layer's own outputs come back
        c = gates["f"][t] * c + gates["i"][t] * gates["g"][t]
        hs.append(gates["o"][t] * np.tanh(c))
    out, _ = lstm(x)
    np.testing.assert_allclose(np.array(hs), out.data, atol=1e-5)
    cell = nn.LSTMCell(3, 5)
    assert viz.lstm_gate_activations(cell, x.numpy())["f"].shape == (7, 5)
    with pytest.raises(TypeError, match="LSTM"):
        viz.lstm_gate_activations(nn.GRU(3, 5), x)
    with pytest.raises(ValueError, match=r"\(T, 3\)"):
        viz.lstm_gate_activations(lstm, ts.randn(7, 4))


def test_plot_gates_and_losses_png(tmp_path):
    pytest.importorskip("matplotlib")
    ts.manual_seed(0)
    gates = viz.lstm_gate_activations(nn.LSTMCell(3, 6), ts.randn(20, 3))
    fig = viz.plot_gates(gates, path=tmp_path / "gates.png")
    assert_png(tmp_path / "gates.png")
    assert len(fig.axes) == 8  # four heatmaps and their colour bars
    losses = np.exp(-np.linspace(0, 6, 100))
    fig = viz.plot_losses(losses, val=losses[::10] * 1.2, path=tmp_path / "loss.png")
    assert_png(tmp_path / "loss.png")
    assert fig.axes[0].get_yscale() == "log"
    viz.plot_losses([1.0, 0.8, 0.7], path=tmp_path / "loss.svg")
    assert b"<svg" in (tmp_path / "loss.svg").read_bytes()
    with pytest.raises(ValueError, match="no losses"):
        viz.plot_losses([])
    with pytest.raises(ValueError, match=r"\(T, H\)"):
        viz.plot_gates({"i": np.zeros(3)})


def test_missing_matplotlib_names_the_extra(monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"pip install tinygrad_seq\[plot\]"):
        viz.plot_losses([1.0, 0.5])


def test_plot_attention_png(tmp_path):
    pytest.importorskip("matplotlib")
    ts.manual_seed(0)
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    src, tgt = "the cat sat on the mat".split(), "le chat était assis".split()
    q, kv = ts.randn(1, 4, 8), ts.randn(1, 6, 8)
    _, w = mha(q, kv, kv)
    fig = viz.plot_attention(w[0], src, tgt, path=tmp_path / "attention.png")
    assert_png(tmp_path / "attention.png")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == src
    assert [t.get_text() for t in ax.get_yticklabels()] == tgt
    np.testing.assert_allclose(ax.images[0].get_array(), w[0].detach().numpy())
    _, w = mha(q, kv, kv, average_attn_weights=False)
    fig = viz.plot_attention(w[0], src, tgt, path=tmp_path / "heads.png")
    assert_png(tmp_path / "heads.png")
    assert sum(bool(a.images) for a in fig.axes) == 2  # one panel per head
    with pytest.raises(ValueError, match="3 source tokens for 6 source positions"):
        viz.plot_attention(w[0, 0], src[:3], tgt)
    with pytest.raises(ValueError, match=r"must be \(T, S\) or \(heads, T, S\)"):
        viz.plot_attention(np.ones(3))


@pytest.mark.parametrize("proj_size", [0, 2])
def test_lstm_gate_activations_rebuild_the_layers_final_state(proj_size):
    """c_t = f c + i g and h = o tanh(c) (projected by W_hr with proj_size) give the layer's h_n."""
    ts.manual_seed(0)
    lstm = nn.LSTM(3, 4, proj_size=proj_size).double()
    x = ts.randn(6, 3).double()
    gates = viz.lstm_gate_activations(lstm, x)
    c = np.zeros(4)
    for i, f, g in zip(gates["i"], gates["f"], gates["g"]):
        c = f * c + i * g
    h = gates["o"][-1] * np.tanh(c)
    if proj_size:
        h = lstm.weight_hr_l0.detach().numpy() @ h
    with ts.no_grad():
        _, (h_n, c_n) = lstm(x)
    np.testing.assert_allclose(c, c_n.numpy()[0], atol=1e-12)
    np.testing.assert_allclose(h, h_n.numpy()[0], atol=1e-12)
