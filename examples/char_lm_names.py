"""Character-level language model on US first names: the course's "dinosaur island" exercise.

Many-to-many with T_x = T_y: at every step the model reads the previous character and predicts
the next one (<bos> first, <eos> last). Training clips the gradients (the course's remedy for
exploding gradients) and reports the validation loss per epoch next to the unigram baseline, the
cross-entropy of a model that ignores context altogether. Afterwards it samples new names one
character at a time (feed the drawn character back in, stop at <eos>) and counts how many are
novel, i.e. not in the training set.

    python examples/char_lm_names.py                 # LSTM, about a minute on 2 cores
    python examples/char_lm_names.py --cell gru --epochs 5 --out /tmp/lm

Writes into --out: the checkpoint (weights + config + vocab, load it with training.load_lm) and
loss_curve.png (train and validation loss per epoch, unigram baseline dashed).
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from tinygrad_seq import viz  # tinygrad_seq's own tools: the loss curve
from tinygrad_seq.data import Vocab, names_dataset  # tinygrad_seq's own tools: the corpus
from tinygrad_seq.tasks import (  # tinygrad_seq's own tools: the character LM application
    sample,
    save_lm,
    train_char_lm,
    unigram_baseline,
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options -> argparse.Namespace (see --help)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cell", choices=["rnn", "gru", "lstm"], default="lstm")
    p.add_argument("--hidden", type=int, default=128, help="hidden size (default 128)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate")
    p.add_argument("--clip", type=float, default=5.0, help="max gradient norm (0: no clipping)")
    p.add_argument("--samples", type=int, default=20, help="names to sample afterwards")
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--time-limit", type=float, default=None, help="stop training after N s")
    p.add_argument("--out", default=os.path.join("examples-output", "char_lm_names"))
    p.add_argument("--tiny", action="store_true", help="a few seconds' run, for tests")
    p.add_argument("--no-progress", action="store_true", help="no tqdm progress bar")
    args = p.parse_args(argv)
    if args.tiny:
        args.hidden, args.epochs, args.samples = 16, 2, 5
    return args


def sample_names(model: Any, vocab: Vocab, n: int, temperature: float, seed: int) -> list[str]:
    """n names drawn from the model, name i with seed + i (reproducible): list of str."""
    return [
        sample(model, vocab, max_len=20, temperature=temperature, seed=seed + i) for i in range(n)
    ]


def plot_loss_curve(history: dict, baseline: float, path: str) -> str:
    """Train/val loss per epoch with the unigram baseline as a dashed line -> PNG path."""
    n = len(history["train_loss"])
    fig = viz.plot_losses(
        history["train_loss"], val=history["val_loss"], title="character-level LM on names"
    )
    ax = fig.axes[0]
    ax.axhline(baseline, color="grey", linestyle="--", label=f"unigram baseline {baseline:.3f}")
    ax.set_xticks(range(n), [str(e) for e in range(1, n + 1)])
    ax.set(xlabel="epoch", ylabel="cross-entropy (nats per character)")
    ax.legend(frameon=False)
    fig.savefig(path, dpi=110)
    return path


def report(res: dict, train_set: set[str]) -> None:
    """Print the key results of one run (names in train_set are starred)."""
    print(f"\nunigram baseline  {res['baseline']:.3f} nats/char")
    for e, (tr, va) in enumerate(zip(res["train_loss"], res["val_loss"]), 1):
        print(f"epoch {e:2d}  train {tr:.3f}  val {va:.3f}")
    print(f"sampled names ({res['novel_share']:.0%} novel, * = in the training set):")
    print("  " + ", ".join(s + ("*" if s in train_set else "") for s in res["samples"]))
    print(f"checkpoint {res['checkpoint']}\nloss curve {res['figure']}")
    print(f"time {res['seconds']:.1f} s")


def train_model(args: argparse.Namespace, train: list[str], val: list[str], vocab: Vocab) -> Any:
    """train_char_lm with the command-line settings -> TrainResult."""
    return train_char_lm(
        train,
        vocab,
        cell=args.cell,
        hidden_size=args.hidden,
        epochs=args.epochs,
        lr=args.lr,
        clip=args.clip or None,
        batch_size=args.batch_size,
        val_texts=val,
        seed=args.seed,
        progress=not args.no_progress,
        time_limit=args.time_limit,
    )


def main(argv: list[str] | None = None) -> dict:
    """Train, sample and save -> {'train_loss', 'val_loss', 'baseline', 'samples', ...}."""
    args = parse_args(argv)
    t0 = time.perf_counter()
    train, val = names_dataset(seed=args.seed)
    if args.tiny:
        train, val = train[:400], val[:100]
    vocab = Vocab.build(train)
    baseline = unigram_baseline(train, val, vocab)
    result = train_model(args, train, val, vocab)
    os.makedirs(args.out, exist_ok=True)
    ckpt = os.path.join(args.out, f"char_lm_{args.cell}.safetensors")
    save_lm(result, ckpt)
    samples = sample_names(result.model, vocab, args.samples, args.temperature, args.seed)
    train_set = set(train)
    h = result.history
    res = {
        "train_loss": h["train_loss"],
        "val_loss": h["val_loss"],
        "baseline": baseline,
        "samples": samples,
        "novel_share": sum(s not in train_set for s in samples) / max(len(samples), 1),
        "checkpoint": ckpt,
        "figure": plot_loss_curve(h, baseline, os.path.join(args.out, "loss_curve.png")),
        "seconds": time.perf_counter() - t0,
    }
    report(res, train_set)
    return res


if __name__ == "__main__":
    main()
