"""The pictures of the graph: an unrolled LSTM op by op, one node per cell, and gradient colours.

A recurrent layer unrolled over T steps is one long graph; `viz.draw_graph` groups its ops into
one cluster per time step ("lstm.l0 t=3"), can collapse each step into a single cell node, draw
a window of steps, and colour nodes by the norm of their gradient after backward, so a
vanishing gradient shows up as colour fading along the time axis.

    python examples/draw_graphs.py                   # writes SVG and PNG files
    python examples/draw_graphs.py --steps 12 --format png
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import tinygrad_seq as torch
from tinygrad_seq import viz  # tinygrad_seq's own tools: the drawings

nn = torch.nn


class Tagger(nn.Module):
    """LSTM over (T, N, n_x) followed by a linear read-out at every step: -> (T, N, 1)."""

    def __init__(self, cell: str, n_x: int, n_a: int):
        super().__init__()
        self.rnn = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[cell](n_x, n_a)
        self.head = nn.Linear(n_a, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (T, N, n_x) -> (T, N, 1)."""
        return self.head(self.rnn(x)[0])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options -> argparse.Namespace (see --help)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cell", choices=["rnn", "gru", "lstm"], default="lstm")
    p.add_argument("--steps", type=int, default=3, help="time steps drawn in full")
    p.add_argument("--long-steps", type=int, default=30, help="steps of the collapsed drawing")
    p.add_argument("--format", choices=["svg", "png", "pdf"], default="png")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="examples-output/draw_graphs", help="output folder")
    p.add_argument("--tiny", action="store_true", help="smallest sizes (for tests)")
    p.add_argument("--no-progress", action="store_true", help="accepted for uniformity")
    return p.parse_args(argv)


def _graph(cell: str, steps: int, seed: int, last_only: bool) -> tuple[Tagger, torch.Tensor]:
    torch.manual_seed(seed)
    model = Tagger(cell, 2, 3)
    y = model(torch.randn(steps, 1, 2))
    loss = (y[-1] ** 2).sum() if last_only else (y**2).mean()
    viz.record_grads(loss)
    loss.backward()
    return model, loss


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Draw three pictures of one model; returns {'paths': [...], 'nodes': {...}}."""
    args = parse_args(argv)
    if args.tiny:
        args.steps, args.long_steps = 2, 6
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model, loss = _graph(args.cell, args.steps, args.seed, last_only=False)
    long_model, long_loss = _graph(args.cell, args.long_steps, args.seed, last_only=True)
    drawings = {
        "full": viz.draw_graph(loss, model, title=f"{args.cell.upper()}, every op"),
        "cells": viz.draw_graph(
            loss,
            model,
            collapse="cell",
            show_grads=True,
            title="one node per cell, coloured by |grad|",
        ),
        "long": viz.draw_graph(
            long_loss,
            long_model,
            collapse="cell",
            show_grads=True,
            title=f"{args.long_steps} steps, loss on the last: colours fade",
        ),
    }
    paths, nodes = [], {}
    for name, graph in drawings.items():
        path = viz.save(graph, out / f"{args.cell}_{name}.{args.format}")
        paths.append(path)
        nodes[name] = graph.source.count("label=")
        print(f"wrote {path}")
    return {"paths": paths, "nodes": nodes}


if __name__ == "__main__":
    main()
