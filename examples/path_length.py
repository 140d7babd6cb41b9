"""Path length: how the gradient from the last position reaches the first, RNN, LSTM, Transformer.

The task: read T random tokens (K symbols) and, at the last position, name the token at
position 0. The loss L is read at the last position only, so the gradient that reaches an
input embedding x<t> tells how strongly position t can still change that loss. We measure
||dL/dx<t>|| for every t (`torch.autograd.grad(loss, x)`, per sequence, averaged over a batch)
for three models of about the same size, built of PyTorch layers:

- a vanilla RNN: the gradient reaching x<t> passes through T-1-t recurrent Jacobians
  dh<s>/dh<s-1> = diag(1 - h<s>^2) W_hh, so it shrinks geometrically with the distance T-1-t;
- an LSTM: its cell state is updated additively, c<s> = f<s> * c<s-1> + i<s> * g<s>, and along
  that path each step multiplies the gradient by the forget gate f<s> alone;
- a one-layer Transformer (embedding + sinusoidal positions + nn.TransformerEncoderLayer with a
  causal mask + a linear read-out): the last position attends every earlier position directly,
  so every x<t> is one attention step from the loss (path length 1), whatever its distance.

Both are measured at initialisation and after a short training on the task; the plot shows the
two side by side on a log scale, and a table gives the numbers.

The models, the training and the measurement are plain PyTorch code: with the framework line
changed to `import torch` they run on PyTorch and, from the same weights, give the same norms.

    python examples/path_length.py                 # about a minute on 2 cores
    python examples/path_length.py --T 100 --steps 600
"""

from __future__ import annotations

import argparse
import math
import os
import time

import numpy as np

# The framework line: change it to `import torch` and everything below runs on PyTorch.
import tinygrad_seq as torch
from tinygrad_seq.tasks import limit_blas_threads, progress_bar  # tinygrad_seq's own tools

nn, F = torch.nn, torch.nn.functional
# PyTorch's device idiom: tinygrad_seq runs on the CPU, PyTorch on a GPU when there is one
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

KINDS = ("rnn", "lstm", "transformer")
NAMES = {"rnn": "RNN", "lstm": "LSTM", "transformer": "Transformer (1 layer)"}
COLORS = {"rnn": "tab:blue", "lstm": "tab:green", "transformer": "tab:red"}


def recall_batch(rng: np.random.Generator, n: int, T: int, K: int) -> tuple:
    """n sequences -> tokens (n, T) int64 and targets (n,) int64 = the token at position 0."""
    tokens = torch.from_numpy(rng.integers(0, K, size=(n, T))).to(device)
    return tokens, tokens[:, 0]


def positional_encoding(T: int, d: int):
    """The sinusoidal positions of "Attention is all you need": (T, d) float, d even.

    Computed in float64, then rounded: the same numbers whichever framework's sin is used.
    """
    pos = torch.arange(T, dtype=torch.float64)[:, None]
    freq = torch.exp(torch.arange(0, d, 2, dtype=torch.float64) * (-math.log(10000.0) / d))
    pe = torch.zeros(T, d, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq)
    return pe.to(torch.get_default_dtype())


class Recall(nn.Module):
    """Embedding, then an RNN, LSTM or Transformer layer, then a read-out at the last position.

    tokens (N, T) -> logits (N, K); `embed` and `read` are the two halves, so that the gradient
    can be taken with respect to the embeddings x = embed(tokens).
    """

    def __init__(self, kind: str, K: int, args: argparse.Namespace):
        super().__init__()
        self.kind, d = kind, args.d
        self.embed = nn.Embedding(K, d)
        if kind == "rnn":
            self.body, width = nn.RNN(d, args.rnn_hidden, batch_first=True), args.rnn_hidden
        elif kind == "lstm":
            self.body, width = nn.LSTM(d, args.lstm_hidden, batch_first=True), args.lstm_hidden
        elif kind == "transformer":
            self.body = nn.TransformerEncoderLayer(
                d, args.heads, args.ff, dropout=0.0, batch_first=True
            )
            width = d
            self.register_buffer("pe", positional_encoding(args.T, d), persistent=False)
        else:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        self.head = nn.Linear(width, K)

    def read(self, x):
        """Input embeddings x (N, T, d) -> logits (N, K) from the last position."""
        if self.kind == "transformer":
            T = x.shape[1]
            mask = nn.Transformer.generate_square_subsequent_mask(T, device=x.device)
            h = self.body(x + self.pe[:T], src_mask=mask, is_causal=True)
        else:
            h, _ = self.body(x)
        return self.head(h[:, -1])

    def forward(self, tokens):
        """tokens (N, T) int64 -> logits (N, K)."""
        return self.read(self.embed(tokens))


def gradient_norms(model: Recall, tokens, targets) -> np.ndarray:
    """||dL_n/dx<t>|| averaged over the batch n -> array (T,), L_n the loss at the last position.

    The per-sequence losses are summed, not averaged, so each sequence's gradient is that of
    its own loss; x<t> is the input embedding at position t (before the positions are added).
    """
    x = model.embed(tokens)  # (N, T, d), a non-leaf tensor of the graph
    loss = F.cross_entropy(model.read(x), targets, reduction="sum")
    (grad,) = torch.autograd.grad(loss, x)
    return grad.norm(dim=-1).mean(0).detach().cpu().numpy().astype(np.float64)


def mean_forget_gate(model: Recall, tokens) -> float:
    """The LSTM's forget gate f<t> = sigmoid(W_if x<t> + b_if + W_hf h<t-1> + b_hf), averaged
    over the batch, the positions and the units (PyTorch's gate order i, f, g, o)."""
    lstm, H = model.body, model.body.hidden_size
    with torch.no_grad():
        x = model.embed(tokens)
        h, _ = lstm(x)  # (N, T, H): h<0..T-1>
        h_prev = torch.cat([torch.zeros_like(h[:, :1]), h[:, :-1]], dim=1)
        rows = slice(H, 2 * H)
        f = torch.sigmoid(
            x @ lstm.weight_ih_l0[rows].t()
            + lstm.bias_ih_l0[rows]
            + h_prev @ lstm.weight_hh_l0[rows].t()
            + lstm.bias_hh_l0[rows]
        )
        return f.mean().item()


def accuracy(model: Recall, tokens, targets) -> float:
    """Share of sequences whose token at position 0 is named at the last position."""
    with torch.no_grad():
        return (model(tokens).argmax(-1) == targets).float().mean().item()


def train(model: Recall, args: argparse.Namespace, bar) -> list[float]:
    """Adam with clipping on fresh batches for args.steps steps -> the loss of every step."""
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    rng, losses = np.random.default_rng(args.seed + 1), []
    for _ in range(args.steps):
        tokens, targets = recall_batch(rng, args.batch_size, args.T, args.K)
        loss = F.cross_entropy(model(tokens), targets)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
        bar.update(1)
        bar.set_postfix(model=model.kind, loss=f"{np.mean(losses[-20:]):.3f}")
    return losses


def decay_per_step(norms: np.ndarray) -> float:
    """Slope of log10 ||dL/dx<t>|| over t = 0..T-2 (least squares): decades gained per step
    towards the loss; 0 when the norm does not depend on the distance. Norms that underflowed
    to 0 (an RNN over a hundred steps, in float32) are left out."""
    t, n = np.arange(len(norms) - 1), norms[:-1]
    keep = n > 0
    return float(np.polyfit(t[keep], np.log10(n[keep]), 1)[0])


def study(kind: str, args: argparse.Namespace, probe: tuple, bar) -> dict:
    """One model: gradient norms at init and after training, its accuracy and losses -> dict."""
    torch.manual_seed(args.seed)
    model = Recall(kind, args.K, args).to(device)
    res = {"params": sum(p.numel() for p in model.parameters())}
    res["init"] = gradient_norms(model, *probe)
    forget = [mean_forget_gate(model, probe[0])] if kind == "lstm" else []
    res["loss"] = train(model, args, bar)
    res["trained"] = gradient_norms(model, *probe)
    res["accuracy"] = accuracy(model, *probe)
    if kind == "lstm":
        res["forget_gate"] = (forget[0], mean_forget_gate(model, probe[0]))
    return res


# ------------------------------------------------------------------------------- figures


def plot_norms(results: dict, args: argparse.Namespace, path: str) -> str:
    """||dL/dx<t>|| against t, log scale, at init (left) and after training (right) -> path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, when, title in zip(
        axes, ("init", "trained"), ("at initialisation", f"after {args.steps} Adam steps")
    ):
        for kind, res in results.items():
            label = f"{NAMES[kind]}, {res['params']} parameters"
            if when == "trained":
                label = f"{NAMES[kind]}, accuracy {res['accuracy']:.0%}"
            ax.semilogy(np.arange(args.T), res[when], "o-", ms=2.5, color=COLORS[kind], label=label)
        ax.set(title=title, xlabel=f"input position t (the loss is read at t = {args.T - 1})")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8, loc="lower right")
    axes[0].set_ylabel("||dL/dx<t>||, mean over the batch")
    fig.suptitle(f"gradient from the last position back to the first: recall token 0, T = {args.T}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# ---------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options -> argparse.Namespace (see --help)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--T", type=int, default=50, help="sequence length")
    p.add_argument("--K", type=int, default=8, help="number of symbols (chance = 1/K)")
    p.add_argument("--d", type=int, default=32, help="embedding size (Transformer width)")
    p.add_argument("--rnn-hidden", type=int, default=80, help="RNN hidden size")
    p.add_argument("--lstm-hidden", type=int, default=32, help="LSTM hidden size")
    p.add_argument("--heads", type=int, default=2, help="Transformer attention heads")
    p.add_argument("--ff", type=int, default=64, help="Transformer feed-forward size")
    p.add_argument("--steps", type=int, default=300, help="training steps per model")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--probe-size", type=int, default=256, help="sequences the norms average")
    p.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=os.path.join("examples-output", "path_length"))
    p.add_argument("--tiny", action="store_true", help="a few seconds' run, for tests")
    p.add_argument("--no-progress", action="store_true", help="no tqdm progress bar")
    args = p.parse_args(argv)
    if args.tiny:
        args.T, args.steps, args.batch_size, args.probe_size = 30, 5, 8, 16
        args.d, args.rnn_hidden, args.lstm_hidden, args.ff = 8, 16, 8, 16
    return args


def main(argv: list[str] | None = None) -> dict:
    """Measure and train the three models -> {'results', 'figure', 'seconds', 'T'}."""
    args = parse_args(argv)
    t0 = time.perf_counter()
    probe = recall_batch(np.random.default_rng(args.seed), args.probe_size, args.T, args.K)
    bar = progress_bar(len(KINDS) * args.steps, not args.no_progress, desc="path length")
    with limit_blas_threads(1):  # small matmuls: one BLAS thread is fastest
        results = {kind: study(kind, args, probe, bar) for kind in KINDS}
    bar.close()
    os.makedirs(args.out, exist_ok=True)
    figure = plot_norms(results, args, os.path.join(args.out, "path_length.png"))
    res = {"results": results, "figure": figure, "T": args.T}
    res["seconds"] = time.perf_counter() - t0
    report(res, args)
    return res


def report(res: dict, args: argparse.Namespace) -> None:
    """Print one row per model and moment: norms at a few positions, ratio, decay per step."""
    T = args.T
    cols = [0, T // 2, T - 2, T - 1]
    head = "".join(f"{f't={t}':>10s}" for t in cols)
    print(f"\n||dL/dx<t>|| (mean over {args.probe_size} sequences), recall token 0, T={T}")
    print(f"{'model':24s}{'when':9s}{head}{'first/last':>12s}{'decades/step':>14s}")
    for kind, r in res["results"].items():
        for when in ("init", "trained"):
            n = r[when]
            row = "".join(f"{n[t]:10.2e}" for t in cols)
            print(f"{NAMES[kind]:24s}{when:9s}{row}{n[0] / n[-1]:12.2e}{decay_per_step(n):14.3f}")
    for kind, r in res["results"].items():
        final = f"{np.mean(r['loss'][-20:]):.3f}" if r["loss"] else "-"
        print(
            f"{NAMES[kind]:24s}{r['params']:6d} parameters, accuracy after training "
            f"{r['accuracy']:.1%} (chance {1 / args.K:.1%}), final loss {final}"
        )
    earlier = res["results"]["transformer"]["init"][:-1]
    print(
        f"Transformer at init: mean ||dL/dx<t>|| over t < T-1 = {earlier.mean():.2e}, "
        f"times T = {T * earlier.mean():.3f} (each of the T positions gets about 1/T "
        "of the attention)"
    )
    f_init, f_trained = res["results"]["lstm"]["forget_gate"]
    print(f"LSTM mean forget gate: {f_init:.3f} at init, {f_trained:.3f} after training")
    print(f"figure {res['figure']}\ntime {res['seconds']:.1f} s")


if __name__ == "__main__":
    main()
