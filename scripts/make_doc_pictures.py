"""Regenerate the pictures of docs/visualization.md into docs/img/ (needs graphviz's `dot`).

    python scripts/make_doc_pictures.py [--out docs/img]

Everything is seeded, so rerunning gives the same pictures.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import tinygrad_seq as ts
from tinygrad_seq import nn, viz

ROOT = Path(__file__).resolve().parent.parent


class Tagger(nn.Module):
    """A one-layer LSTM with a linear read-out per step: (T, N, 2) -> (T, N, 1)."""

    def __init__(self, hidden: int = 3):
        super().__init__()
        self.lstm = nn.LSTM(2, hidden)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x: ts.Tensor) -> ts.Tensor:
        """(T, N, 2) -> (T, N, 1)."""
        return self.head(self.lstm(x)[0])


def tagger_loss(steps: int) -> tuple[Tagger, ts.Tensor]:
    """The tagger and its mean squared error on a seeded random sequence of `steps` steps."""
    ts.manual_seed(0)
    model = Tagger()
    x, y = ts.randn(steps, 1, 2), ts.randn(steps, 1, 1)
    loss = ((model(x) - y) ** 2).mean()
    viz.record_grads(loss)
    loss.backward()
    return model, loss


def long_range(cls: type, steps: int, forget_bias: float | None = None) -> tuple:
    """(layer run with retain_states=True, its loss on the last step only), after backward."""
    ts.manual_seed(0)
    layer = cls(4, 16, retain_states=True)
    if forget_bias is not None:
        layer.bias_ih_l0.data[16:32] = forget_bias
        layer.bias_hh_l0.data[16:32] = 0.0
    out, _ = layer(ts.randn(steps, 8, 4))
    loss = (out[-1] ** 2).sum()
    viz.record_grads(loss)  # only needed for drawing with show_grads; grad_flow needs none
    loss.backward()
    return layer, loss


def graphs(out: Path) -> list[Path]:
    """The tagger's graph in full and collapsed with gradients, and an RNN's vanishing colours."""
    model, loss = tagger_loss(3)
    full = viz.draw_graph(loss, model, title="Tagger: LSTM over 3 steps + Linear head, MSE loss")
    title = "The same graph, one node per LSTM step, coloured by |grad|"
    cells = viz.draw_graph(loss, model, collapse="cell", show_grads=True, title=title)
    rnn, rnn_loss = long_range(nn.RNN, 12)
    title = "RNN over 12 steps, loss on the last step: the gradient fades going back"
    vanish = viz.draw_graph(rnn_loss, rnn, collapse="cell", show_grads=True, title=title)
    return [
        viz.save(g, out / name)
        for g, name in (
            (full, "lstm_graph.png"),
            (cells, "lstm_graph_cells_grads.png"),
            (vanish, "rnn_vanishing_graph.png"),
        )
    ]


def transformer_graph(out: Path) -> list[Path]:
    """One causal pre-norm encoder layer with its two heads drawn apart, coloured by |grad|."""
    ts.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, norm_first=True)
    encoder = nn.TransformerEncoder(layer, 1, enable_nested_tensor=False)
    x = ts.randn(4, 1, 8, requires_grad=True)
    mask = nn.Transformer.generate_square_subsequent_mask(4)
    with viz.separate_heads():  # the same numbers, one subgraph per head
        loss = (encoder(x, mask=mask) ** 2).mean()
    viz.record_grads(loss)
    loss.backward()
    title = "One causal encoder layer (pre-norm), its 2 heads drawn apart, coloured by |grad|"
    graph = viz.draw_graph(loss, encoder, show_grads=True, rankdir="TB", title=title)
    return [viz.save(graph, out / "transformer_graph.png")]


def figures(out: Path) -> list[Path]:
    """Gradient flow RNN vs LSTM over 50 steps, and LSTM gate activations for one sequence."""
    models = {
        "RNN (tanh)": long_range(nn.RNN, 50)[0],
        "LSTM, default init": long_range(nn.LSTM, 50)[0],
        "LSTM, forget-gate bias 1": long_range(nn.LSTM, 50, forget_bias=1.0)[0],
    }
    title = "Gradient flow through 50 steps (loss on the last step only)"
    viz.plot_grad_flow(models, path=out / "grad_flow_rnn_vs_lstm.png", title=title)
    ts.manual_seed(1)
    lstm = nn.LSTM(3, 8)
    gates = viz.lstm_gate_activations(lstm, ts.randn(30, 3))
    viz.plot_gates(gates, path=out / "lstm_gates.png", title="LSTM gates over 30 steps")
    return [out / "grad_flow_rnn_vs_lstm.png", out / "lstm_gates.png"]


def main(argv: list[str] | None = None) -> int:
    """Write every picture; exits 1 when graphviz's dot is missing (images need it)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    args = parser.parse_args(argv)
    if shutil.which("dot") is None:
        print(viz.graph.INSTALL_HINT, file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    for path in graphs(args.out) + transformer_graph(args.out) + figures(args.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
