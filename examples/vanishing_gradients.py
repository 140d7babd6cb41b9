"""Vanishing and exploding gradients: RNN against GRU against LSTM on a long-range task.

The task: read T random symbols (one-hot x<1>..x<T>, K classes) and, at the end, name the
first one. The only useful signal for x<1> reaches the loss through T - 1 recurrent steps, so
backpropagation through time multiplies T - 1 Jacobians dh<t>/dh<t-1>:

- in a plain RNN each factor is diag(1 - a<t>^2) W_aa, with norm below 1 at the usual init, so
  dL/da<t> shrinks geometrically as t moves away from the loss: the gradient *vanishes*;
- a GRU or LSTM carries its memory along an additive path (c<t> = G_f * c<t-1> + G_u * c~<t>)
  whose factor is the gate itself. With the update/forget gate biased towards "keep" (a common
  init; the RNN has no such knob) the factor is close to 1 and the gradient survives.

Part 1 plots ||dL/da<t>|| over t at initialisation (layers run with retain_states=True) and
trains each cell briefly: the gated cells learn the task, the RNN stays near chance.
Part 2 makes the opposite failure: a ReLU RNN with large recurrent weights, whose gradients
*explode*. Plain SGD takes one huge step and the loss turns NaN; with clip_grad_norm_ (the
course's clipping) the same run recovers.

The models and both training loops are plain PyTorch code: with the framework line changed to
`import torch` they run on PyTorch. Only the gradient-flow measurement of part 1 needs
tinygrad_seq's own tools (`retain_states=True`, `viz.grad_flow`), marked where they are used.

    python examples/vanishing_gradients.py           # about a minute on 2 cores
    python examples/vanishing_gradients.py --T 50 --steps 800
"""

from __future__ import annotations

import argparse
import math
import os
import time

import numpy as np

# The framework line: change it to `import torch` and the training loops run on PyTorch.
import tinygrad_seq as torch
from tinygrad_seq import viz  # tinygrad_seq's own tools: gradient flow (part 1) and plots
from tinygrad_seq.tasks import limit_blas_threads, progress_bar  # tinygrad_seq's own tools

nn, F = torch.nn, torch.nn.functional
# PyTorch's device idiom: tinygrad_seq runs on the CPU, PyTorch on a GPU when there is one
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

LAYERS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}
NAMES = {"rnn": "RNN", "gru": "GRU", "lstm": "LSTM"}


def first_symbol_batch(rng: np.random.Generator, n: int, T: int, K: int) -> tuple:
    """n sequences -> one-hot x (T, n, K) float32 and targets y (n,) int64 = first symbols."""
    ids = torch.from_numpy(rng.integers(0, K, size=(T, n))).to(device)
    return F.one_hot(ids, K).float(), ids[0]


class LastStepClassifier(nn.Module):
    """RNN/GRU/LSTM + Linear on the last output: x (T, N, K) -> logits (N, K)."""

    def __init__(self, cell: str, K: int, hidden: int, gate_bias: float = 0.0, **layer_kw):
        super().__init__()
        self.rnn = LAYERS[cell](K, hidden, **layer_kw)
        self.head = nn.Linear(hidden, K)
        if cell != "rnn" and gate_bias:
            # rows H..2H are the LSTM forget gate (order i, f, g, o) and the GRU update gate z
            # (order r, z, n): a positive bias makes the cell keep its memory by default
            with torch.no_grad():
                self.rnn.bias_ih_l0[hidden : 2 * hidden] += gate_bias

    def forward(self, x):
        """x (T, N, K) -> logits (N, K) read from the last time step."""
        out, _ = self.rnn(x)
        return self.head(out[-1])


# ------------------------------------------------------------------ part 1: vanishing


def gradient_flow(cell: str, args: argparse.Namespace, gate_bias: float) -> list[float]:
    """||dL/dh<t>|| for t = 1..T_flow of a freshly initialised model (one batch): list of T.

    tinygrad_seq only: `retain_states=True` keeps every step's state with its gradient, which
    `viz.grad_flow` reads (PyTorch's layers do not expose the states inside the loop).
    """
    torch.manual_seed(args.seed)
    # retain_states=True: a tinygrad_seq-only option, kept for viz.grad_flow below
    model = LastStepClassifier(cell, args.K, args.hidden, gate_bias, retain_states=True)
    x, y = first_symbol_batch(
        np.random.default_rng(args.seed), args.batch_size, args.flow_T, args.K
    )
    F.cross_entropy(model(x), y).backward()
    return [float(v) for v in viz.grad_flow(model.rnn)["l0"]["h"]]


def train_cell(cell: str, args: argparse.Namespace, bar) -> dict:
    """Adam on the first-symbol task for args.steps batches -> {'loss': [...], 'accuracy'}."""
    torch.manual_seed(args.seed)
    model = LastStepClassifier(cell, args.K, args.hidden, args.gate_bias).to(device)
    return fit(model, cell, args, bar)


def fit(model: LastStepClassifier, cell: str, args: argparse.Namespace, bar) -> dict:
    """Train model with Adam and clipping on fresh batches -> {'loss', 'final_loss', 'accuracy'}."""
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    rng, losses = np.random.default_rng(args.seed), []
    for _ in range(args.steps):
        x, y = first_symbol_batch(rng, args.batch_size, args.T, args.K)
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
        bar.update(1)
        bar.set_postfix(cell=cell, loss=f"{np.mean(losses[-20:]):.3f}")
    x, y = first_symbol_batch(np.random.default_rng(args.seed + 1), 1000, args.T, args.K)
    with torch.no_grad():
        accuracy = (model(x).argmax(-1) == y).float().mean().item()
    return {"loss": losses, "final_loss": float(np.mean(losses[-50:])), "accuracy": accuracy}


# ------------------------------------------------------------------ part 2: exploding


def exploding_run(args: argparse.Namespace, clip: float | None) -> dict:
    """SGD on a ReLU RNN with W_aa scaled up -> per-step {'grad_norm': [...], 'loss': [...]}."""
    torch.manual_seed(args.seed)
    model = LastStepClassifier("rnn", args.K, args.explode_hidden, nonlinearity="relu").to(device)
    with torch.no_grad():
        model.rnn.weight_hh_l0 *= args.explode_scale
    opt = torch.optim.SGD(model.parameters(), lr=args.explode_lr)
    rng, out = np.random.default_rng(args.seed), {"grad_norm": [], "loss": []}
    for _ in range(args.explode_steps):
        x, y = first_symbol_batch(rng, args.batch_size, args.explode_T, args.K)
        with np.errstate(all="ignore"):  # overflow to inf/NaN is the point of the demo
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            norm = nn.utils.clip_grad_norm_(model.parameters(), clip or math.inf)
            opt.step()
        out["grad_norm"].append(norm.item())
        out["loss"].append(loss.item())
    return out


# ------------------------------------------------------------------------------ figures


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_flows(flows: dict[str, list[float]], path: str) -> str:
    """||dL/dh<t>|| against t on a log scale, one line per model (viz.plot_grad_flow) -> path."""
    fig = viz.plot_grad_flow(
        {label: {"l0": {"h": np.asarray(n)}} for label, n in flows.items()},
        title="gradient flow through time at initialisation",
    )
    ax = fig.axes[0]
    colors = {"RNN": "tab:blue", "GRU": "tab:orange", "LSTM": "tab:green"}
    for line in ax.get_lines():  # one colour per cell; dashed: gate biased towards "keep"
        label = line.get_label().split(":")[0]  # drop the ": ||dL/dh_t||" suffix
        line.set_label(label)
        line.set_color(colors[label.split(",")[0]])
        line.set_linestyle("--" if "bias" in label else "-")
    ax.set_xlabel("time step t (0 = first; the loss is read at the last step)")
    ax.set_ylabel("||dL/dh<t>||  (log scale)")
    ax.legend(fontsize=8, frameon=False)
    fig.savefig(path, dpi=110)
    return path


def plot_training(runs: dict[str, dict], K: int, path: str) -> str:
    """Training loss per step of each cell (smoothed), chance level dashed -> path."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    for cell, run in runs.items():
        loss = np.asarray(run["loss"])
        w = min(20, len(loss))
        smooth = np.convolve(loss, np.ones(w) / w, mode="valid")
        ax.plot(
            np.arange(w, len(loss) + 1),
            smooth,
            label=f"{NAMES[cell]} (test accuracy {run['accuracy']:.0%})",
        )
    ax.axhline(math.log(K), color="grey", linestyle="--", label=f"chance, ln {K}")
    ax.set(
        xlabel="training step",
        ylabel="cross-entropy (moving average)",
        title="remember the first symbol",
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_exploding(runs: dict[str, dict], path: str) -> str:
    """Gradient norm and loss per SGD step, with and without clipping; NaN marked -> path."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, key in zip(axes, ("grad_norm", "loss")):
        # the clipped run first, so the unclipped one (same first step) stays visible on top
        for label, color, size in reversed(list(zip(runs, ("tab:red", "tab:blue"), (7, 4)))):
            _plot_with_nans(ax, np.asarray(runs[label][key], dtype=float), label, color, size)
        ax.set(
            xlabel="SGD step",
            ylabel=key.replace("_", " "),
            title="gradient norm (before clipping)" if key == "grad_norm" else "loss",
        )
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.suptitle("exploding gradients: ReLU RNN with large recurrent weights")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _plot_with_nans(ax, v: np.ndarray, label: str, color: str, size: float) -> None:
    """Finite values as a line; non-finite ones as crosses along the top edge of the axes."""
    steps = np.arange(1, len(v) + 1)
    finite = np.isfinite(v)
    ax.semilogy(steps, np.where(finite, v, np.nan), "o-", color=color, ms=size, label=label)
    if not finite.all():
        edge = ax.get_xaxis_transform()  # x in data units, y in axes fraction
        ax.plot(
            steps[~finite],
            np.full((~finite).sum(), 0.96),
            "x",
            color=color,
            ms=7,
            transform=edge,
            label=f"{label}: NaN",
        )


# --------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options -> argparse.Namespace (see --help)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--T", type=int, default=30, help="sequence length of the task")
    p.add_argument("--K", type=int, default=8, help="number of symbols (chance = 1/K)")
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--steps", type=int, default=1000, help="training batches per cell")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-2, help="Adam learning rate")
    p.add_argument(
        "--gate-bias",
        type=float,
        default=2.0,
        help="added to the LSTM forget / GRU update gate bias ('keep' by default)",
    )
    p.add_argument("--flow-T", type=int, default=60, help="sequence length of the flow plot")
    p.add_argument("--explode-scale", type=float, default=2.5, help="W_aa multiplier")
    p.add_argument("--explode-lr", type=float, default=0.05, help="SGD learning rate")
    p.add_argument("--explode-steps", type=int, default=25)
    p.add_argument("--explode-T", type=int, default=30, help="sequence length in part 2")
    p.add_argument("--explode-hidden", type=int, default=32, help="hidden size in part 2")
    p.add_argument("--clip", type=float, default=1.0, help="max gradient norm in part 2")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=os.path.join("examples-output", "vanishing_gradients"))
    p.add_argument("--tiny", action="store_true", help="a few seconds' run, for tests")
    p.add_argument("--no-progress", action="store_true", help="no tqdm progress bar")
    args = p.parse_args(argv)
    if args.tiny:
        args.T, args.hidden, args.steps, args.flow_T, args.explode_steps = 8, 8, 5, 12, 4
    return args


def run_vanishing(args: argparse.Namespace) -> tuple[dict, dict]:
    """Part 1 -> (gradient flows {label: norms over t}, training runs {cell: results})."""
    flows = {NAMES[c]: gradient_flow(c, args, 0.0) for c in LAYERS}
    flows[f"GRU, update-gate bias +{args.gate_bias:g}"] = gradient_flow("gru", args, args.gate_bias)
    flows[f"LSTM, forget-gate bias +{args.gate_bias:g}"] = gradient_flow(
        "lstm", args, args.gate_bias
    )
    bar = progress_bar(len(LAYERS) * args.steps, not args.no_progress, desc="RNN/GRU/LSTM")
    runs = {cell: train_cell(cell, args, bar) for cell in LAYERS}
    bar.close()
    return flows, runs


def main(argv: list[str] | None = None) -> dict:
    """Both parts -> {'flows', 'accuracy', 'final_loss', 'exploding', 'figures', 'seconds'}."""
    args = parse_args(argv)
    t0 = time.perf_counter()
    with limit_blas_threads(1):  # small matmuls: one BLAS thread is fastest
        flows, runs = run_vanishing(args)
        exploding = {
            "no clipping": exploding_run(args, None),
            f"clip_grad_norm_({args.clip:g})": exploding_run(args, args.clip),
        }
    os.makedirs(args.out, exist_ok=True)
    figures = {
        "gradient_flow": plot_flows(flows, os.path.join(args.out, "gradient_flow.png")),
        "training": plot_training(runs, args.K, os.path.join(args.out, "training.png")),
        "exploding": plot_exploding(exploding, os.path.join(args.out, "exploding.png")),
    }
    res = {
        "flows": flows,
        "accuracy": {c: r["accuracy"] for c, r in runs.items()},
        "final_loss": {c: r["final_loss"] for c, r in runs.items()},
        "chance_accuracy": 1 / args.K,
        "exploding": exploding,
        "figures": figures,
        "seconds": time.perf_counter() - t0,
    }
    report(res, args)
    return res


def report(res: dict, args: argparse.Namespace) -> None:
    """Print the key numbers of both parts."""
    print(f"\n||dL/dh<t>|| at init, T={args.flow_T} (t = 1, T/2, T):")
    for label, n in res["flows"].items():
        print(f"  {label:28s} {n[0]:9.2e} {n[len(n) // 2]:9.2e} {n[-1]:9.2e}")
    print(
        f"first-symbol task, T={args.T}, K={args.K}, {args.steps} Adam steps "
        f"(chance accuracy {res['chance_accuracy']:.1%}, chance loss {math.log(args.K):.3f}):"
    )
    for cell in LAYERS:
        print(
            f"  {NAMES[cell]:5s} test accuracy {res['accuracy'][cell]:6.1%}   "
            f"final loss {res['final_loss'][cell]:.3f}"
        )
    print(
        f"exploding gradients (ReLU RNN, W_aa x {args.explode_scale:g}, T={args.explode_T}, "
        f"SGD lr {args.explode_lr:g}):"
    )
    for label, run in res["exploding"].items():
        pairs = [f"{n:.1e}/{loss:.3g}" for n, loss in zip(run["grad_norm"], run["loss"])]
        print(f"  {label}: grad norm/loss per step: " + "  ".join(pairs[:8]) + " ...")
        print(f"    final loss {run['loss'][-1]:.4g}")
    print("figures: " + ", ".join(res["figures"].values()))
    print(f"time {res['seconds']:.1f} s")


if __name__ == "__main__":
    main()
