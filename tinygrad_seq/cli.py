"""The `tinygrad-seq` command: demo, train, sample, score, graph and gradcheck.

Every sub-command is a thin layer over the library (tasks/, viz, check/).
Errors a user can cause (a missing or corrupt checkpoint, a checkpoint of another kind, a bad
option value, an unreadable text file) end the command with one line on stderr and exit code 2,
never a traceback; files are written atomically, so nothing is left half-written.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from . import tasks

CELLS = tuple(tasks.CELLS)  # "rnn", "gru", "lstm"
LM_CELLS = tuple(tasks.LM_CELLS)  # ... and "transformer"


class UsageError(Exception):
    """A problem with what the user asked for, reported as one line."""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value < 0 or value != value:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text}")
    return value


# ----------------------------------------------------------------------------- data


def _load_texts(source: str) -> list[str]:
    """'names' -> the bundled names; otherwise a UTF-8 text file with one sequence per line."""
    if source == "names":
        from .data import load_names

        return [r.name for r in load_names()]
    path = Path(source)
    if not path.is_file():
        raise UsageError(f"data {source!r}: no such file (use 'names' or a text file path)")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"data {source!r}: cannot read it as UTF-8 text ({e})") from None
    texts = [line.strip() for line in lines if line.strip()]
    if not texts:
        raise UsageError(f"data {source!r}: the file has no non-empty lines")
    return texts


def _split(texts: list[str], seed: int, val_fraction: float = 0.1) -> tuple[list, list]:
    import random

    order = list(texts)
    random.Random(seed).shuffle(order)
    n_val = max(1, int(len(order) * val_fraction)) if len(order) > 1 else 0
    return order[n_val:], order[:n_val]


# ----------------------------------------------------------------------------- commands


def cmd_train(args: argparse.Namespace) -> int:
    """Train a character LM and save it as a checkpoint."""
    from .tasks import save_lm, train_char_lm, unigram_baseline

    texts = _load_texts(args.data)
    train, val = _split(texts, args.seed)
    result = train_char_lm(
        train,
        cell=args.cell,
        hidden_size=args.hidden,
        num_layers=args.layers or (2 if args.cell == "transformer" else 1),
        nhead=args.heads,
        dim_feedforward=args.ff,
        max_len=args.context,
        epochs=args.epochs,
        lr=args.lr,
        clip=args.clip or None,
        batch_size=args.batch_size,
        val_texts=val or None,
        seed=args.seed,
        progress=not args.quiet,
        time_limit=args.time_limit,
        dropout=args.dropout,
    )
    h = result.history
    if val:
        base = unigram_baseline(train, val, result.vocab)
        print(f"validation loss {h['val_loss'][-1]:.3f} nats/symbol (unigram baseline {base:.3f})")
    save_lm(result, args.output)
    print(f"wrote {args.output}")
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    """Print COUNT sampled sequences from a checkpoint."""
    from .tasks import load_lm, sample

    model, vocab = load_lm(args.checkpoint)
    for i in range(args.n):
        seed = None if args.seed is None else args.seed + i
        print(
            sample(
                model,
                vocab,
                prefix=args.prefix,
                max_len=args.max_len,
                temperature=args.temperature,
                top_k=args.top_k,
                seed=seed,
            )
        )
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    """Print the texts ranked by their log-likelihood under a checkpoint."""
    from .tasks import load_lm, log_likelihood

    model, vocab = load_lm(args.checkpoint)
    scored = [(log_likelihood(model, vocab, t), t) for t in args.texts]
    scored.sort(key=lambda s: -s[0])
    width = max(len(t) for t in args.texts)
    print(f"{'rank':>4}  {'text':<{width}}  log P (nats)  per symbol")
    for rank, (ll, text) in enumerate(scored, 1):
        per = ll / (len(vocab.encode(text)) + 1)
        print(f"{rank:>4}  {text:<{width}}  {ll:12.3f}  {per:10.3f}")
    return 0


def cmd_graph(args: argparse.Namespace) -> int:
    """Draw an unrolled recurrent model and save the picture."""
    from .tasks import graph_command

    path = graph_command(
        cell=args.cell,
        steps=args.steps,
        layers=args.layers,
        collapse=args.collapse,
        output=args.output,
        show_grads=args.show_grads,
    )
    print(f"wrote {path}")
    return 0


def cmd_gradcheck(args: argparse.Namespace) -> int:
    """Compare autodiff, hand-derived and finite-difference gradients for recurrent cells."""
    import numpy as np

    from .check import compare_gradients
    from .random import manual_seed

    cells = CELLS if args.cell == "all" else (args.cell,)
    all_ok = True
    for cell in cells:
        manual_seed(args.seed)
        layer = tasks.CELLS[cell](args.inputs, args.hidden)
        x = np.random.default_rng(args.seed).standard_normal((args.steps, args.batch, args.inputs))
        report = compare_gradients(layer, x)
        print(
            f"== {cell.upper()} (n_x={args.inputs}, n_a={args.hidden}, m={args.batch}, "
            f"T_x={args.steps})"
        )
        print(report.to_markdown() if args.markdown else report)
        all_ok &= bool(report.ok)
    print("all gradients agree" if all_ok else "GRADIENTS DISAGREE")
    return 0 if all_ok else 1


def cmd_demo(args: argparse.Namespace) -> int:
    """Train the names LM for up to a minute and write checkpoint and pictures to a folder."""
    from .tasks.demo import run_demo

    written = run_demo(
        out=Path(args.out),
        seconds=args.seconds,
        cell=args.cell,
        seed=args.seed,
        progress=not args.quiet,
    )
    print(f"\nwrote {len(written)} files into {args.out}/:")
    for path, what in written:
        print(f"  {path.name:<22} {what}")
    return 0


# ----------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of every sub-command."""
    p = argparse.ArgumentParser(prog="tinygrad-seq", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    d = sub.add_parser("demo", help="train the names language model briefly; write pictures")
    d.add_argument("--out", default="demo-output", help="output folder (default demo-output)")
    d.add_argument("--seconds", type=_non_negative_float, default=60.0, help="training time")
    d.add_argument("--cell", choices=CELLS, default="lstm")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--quiet", action="store_true", help="no progress bar")
    d.set_defaults(func=cmd_demo)

    t = sub.add_parser("train", help="train a character language model")
    t.add_argument("--data", default="names", help="'names' or a text file, one sequence a line")
    t.add_argument("--cell", choices=LM_CELLS, default="lstm")
    t.add_argument("--hidden", type=_positive_int, default=64, help="hidden size (d_model)")
    t.add_argument("--layers", type=_positive_int, default=None, help="default 1 (transformer: 2)")
    t.add_argument("--heads", type=_positive_int, default=4, help="transformer: attention heads")
    t.add_argument(
        "--ff", type=_positive_int, default=None, help="transformer: feed-forward width (4 hidden)"
    )
    t.add_argument(
        "--context", type=_positive_int, default=None,
        help="transformer: max positions (default: longest text + 1)",
    )  # fmt: skip
    t.add_argument("--epochs", type=_positive_int, default=5)
    t.add_argument("--lr", type=_non_negative_float, default=3e-3)
    t.add_argument("--clip", type=_non_negative_float, default=5.0, help="max grad norm, 0: off")
    t.add_argument("--batch-size", type=_positive_int, default=32)
    t.add_argument("--dropout", type=_non_negative_float, default=0.0, help="dropout probability")
    t.add_argument("--time-limit", type=_non_negative_float, default=None, help="seconds")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.add_argument("-o", "--output", default="lm.safetensors", help="checkpoint path")
    t.set_defaults(func=cmd_train)

    s = sub.add_parser("sample", help="sample sequences from a checkpoint")
    s.add_argument("checkpoint")
    s.add_argument("-n", type=_positive_int, default=10, help="how many")
    s.add_argument("--temperature", type=_non_negative_float, default=1.0, help="0: greedy")
    s.add_argument("--top-k", type=_positive_int, default=None)
    s.add_argument("--prefix", default="")
    s.add_argument("--max-len", type=_positive_int, default=30)
    s.add_argument("--seed", type=int, default=None)
    s.set_defaults(func=cmd_sample)

    r = sub.add_parser("score", help="rank texts by log-likelihood under a checkpoint")
    r.add_argument("checkpoint")
    r.add_argument("texts", nargs="+", metavar="TEXT")
    r.set_defaults(func=cmd_score)

    g = sub.add_parser("graph", help="draw an unrolled recurrent model with graphviz")
    g.add_argument("--cell", choices=CELLS, default="lstm")
    g.add_argument("--steps", type=_positive_int, default=4)
    g.add_argument("--layers", type=_positive_int, default=1)
    g.add_argument("--collapse", choices=("none", "cell"), default="none")
    g.add_argument("--show-grads", action="store_true", help="colour by gradient norm")
    g.add_argument(
        "-o", "--output", default="graph.svg",
        help=".svg, .png, .pdf or .dot; .html: the interactive explorer (one self-contained file)",
    )  # fmt: skip
    g.set_defaults(func=cmd_graph)

    c = sub.add_parser("gradcheck", help="autodiff vs hand-derived vs finite differences")
    c.add_argument("--cell", choices=CELLS + ("all",), default="all")
    c.add_argument("--steps", type=_positive_int, default=4)
    c.add_argument("--inputs", type=_positive_int, default=3)
    c.add_argument("--hidden", type=_positive_int, default=4)
    c.add_argument("--batch", type=_positive_int, default=2)
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--markdown", action="store_true", help="print markdown tables")
    c.set_defaults(func=cmd_gradcheck)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of `tinygrad-seq`; returns the exit code."""
    from .io import CheckpointError

    args = build_parser().parse_args(argv)
    started = time.perf_counter()
    try:
        code = args.func(args)
    except (UsageError, CheckpointError, FileNotFoundError, IsADirectoryError) as e:
        print(f"tinygrad-seq {args.command}: error: {e}", file=sys.stderr)
        return 2
    except (ValueError, TypeError) as e:
        print(f"tinygrad-seq {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\ntinygrad-seq {args.command}: interrupted", file=sys.stderr)
        return 130
    if os.environ.get("TINYGRAD_SEQ_TIMING"):
        print(f"({time.perf_counter() - started:.1f} s)", file=sys.stderr)
    return code


def _run() -> Any:  # pragma: no cover - `python -m tinygrad_seq.cli`
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    _run()
