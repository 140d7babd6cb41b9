"""Autodiff against the hand-derived backward pass, for every recurrent cell of the course.

For an RNN (tanh and relu), a GRU (PyTorch's reset-after form and the course's form) and an
LSTM, tinygrad_seq's own tool `compare_gradients` computes the gradient of a loss three ways,
in float64: the engine's graph walk through `nn`, the course's hand-written BPTT in
`tinygrad_seq.manual` (after converting the weights to Wax, Waa, Wf, ... and the inputs to
(n_x, m, T_x)), and central finite differences. It prints one row per parameter under both
names, one row per time step for dL/da<t>, and the first step where two methods part.

    python examples/manual_vs_autodiff.py                      # all cells, markdown report
    python examples/manual_vs_autodiff.py --steps 8 --out /tmp/reports
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

import tinygrad_seq as torch
from tinygrad_seq.check import compare_gradients  # tinygrad_seq's own tools

nn = torch.nn

CELLS = {
    "rnn-tanh": lambda n_x, n_a: nn.RNN(n_x, n_a),
    "rnn-relu": lambda n_x, n_a: nn.RNN(n_x, n_a, nonlinearity="relu"),
    "gru": lambda n_x, n_a: nn.GRU(n_x, n_a),
    # reset_after=False, the course's GRU, is tinygrad_seq's own option (as in Keras)
    "gru-course": lambda n_x, n_a: nn.GRU(n_x, n_a, reset_after=False),
    "lstm": lambda n_x, n_a: nn.LSTM(n_x, n_a),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options -> argparse.Namespace (see --help)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cells", default=",".join(CELLS), help="comma-separated: " + ", ".join(CELLS))
    p.add_argument("--steps", type=int, default=5, help="T_x, time steps")
    p.add_argument("--n-x", type=int, default=3, help="input features")
    p.add_argument("--n-a", type=int, default=4, help="hidden units")
    p.add_argument("--m", type=int, default=2, help="batch size")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="examples-output/manual_vs_autodiff", help="report folder")
    p.add_argument("--tiny", action="store_true", help="smallest sizes (for tests)")
    p.add_argument("--no-progress", action="store_true", help="accepted for uniformity")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Compare gradients for each cell; write one markdown report each -> {cell: ok}."""
    args = parse_args(argv)
    if args.tiny:
        args.steps, args.n_x, args.n_a, args.m = 3, 2, 3, 2
    names = [c.strip() for c in args.cells.split(",") if c.strip()]
    unknown = [c for c in names if c not in CELLS]
    if unknown:
        raise SystemExit(f"unknown cell(s) {unknown}; choose from {list(CELLS)}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    x = np.random.default_rng(args.seed).standard_normal((args.steps, args.m, args.n_x))
    results = {}
    for name in names:
        torch.manual_seed(args.seed)
        report = compare_gradients(CELLS[name](args.n_x, args.n_a), x)
        print(f"\n=== {name} ===\n{report}")
        (out / f"{name}.md").write_text(report.to_markdown() + "\n", encoding="utf-8")
        results[name] = bool(report.ok)
    verdict = "all agree" if all(results.values()) else "DISAGREEMENT"
    print(f"\n{verdict}: " + ", ".join(f"{k} {'ok' if v else 'FAIL'}" for k, v in results.items()))
    print(f"reports written to {out}/")
    return results


if __name__ == "__main__":
    main()
