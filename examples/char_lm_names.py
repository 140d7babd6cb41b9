"""Character-level language model on US first names: the course's "dinosaur island" exercise.

Many-to-many with T_x = T_y: at every step the model reads the previous character and predicts
the next one (<bos> first, <eos> last). Training clips the gradients (the course's remedy for
exploding gradients) and reports the validation loss per epoch next to the unigram baseline, the
cross-entropy of a model that ignores context altogether. Afterwards it samples new names one
character at a time (feed the drawn character back in, stop at <eos>) and counts how many are
novel, i.e. not in the training set.

The model, the training loop (a DataLoader of padded names, packed into the recurrent layer,
`nn.CrossEntropyLoss(ignore_index=...)`, Adam, `clip_grad_norm_`) and the sampling
(`torch.multinomial`) are plain PyTorch code: with the framework line changed to `import torch`
they run on PyTorch; the lines marked "tinygrad_seq's own tools" (the names corpus, the
vocabulary, the unigram baseline, a progress bar, the loss plot) work under either.

    python examples/char_lm_names.py                 # LSTM, about a minute on 2 cores
    python examples/char_lm_names.py --cell gru --epochs 5 --out /tmp/lm

Writes into --out: the weights (`torch.save(model.state_dict(), ...)`; read them back with
`model.load_state_dict(torch.load(path))`) and loss_curve.png (train and validation loss per
epoch, unigram baseline dashed).
"""

from __future__ import annotations

import argparse
import os
import time

# The framework line: change it to `import torch` and everything but the tools runs on PyTorch.
import tinygrad_seq as torch
from tinygrad_seq import viz  # tinygrad_seq's own tools: the loss curve
from tinygrad_seq.data import Vocab, names_dataset  # tinygrad_seq's own tools: the corpus
from tinygrad_seq.tasks import (  # tinygrad_seq's own tools: BLAS threads, progress, yardstick
    limit_blas_threads,
    progress_bar,
    unigram_baseline,
)

nn = torch.nn
DataLoader = torch.utils.data.DataLoader
pack_padded_sequence = torch.nn.utils.rnn.pack_padded_sequence
pad_packed_sequence = torch.nn.utils.rnn.pad_packed_sequence
pad_sequence = torch.nn.utils.rnn.pad_sequence
# PyTorch's device idiom: tinygrad_seq runs on the CPU, PyTorch on a GPU when there is one
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

CELLS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}
IGNORE_INDEX = -100  # the target of padded steps: nn.CrossEntropyLoss skips it


class CharLM(nn.Module):
    """Embedding -> RNN/GRU/LSTM -> Linear: ids (L, N) -> logits (L, N, V), final state."""

    def __init__(self, vocab_size: int, hidden_size: int = 128, cell: str = "lstm"):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, hidden_size)
        self.rnn = CELLS[cell](hidden_size, hidden_size)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, ids, hx=None, lengths=None) -> tuple:
        """ids (L, N) int64 [, lengths (N,): a padded batch] -> logits (L, N, V), state."""
        x = self.embedding(ids)
        if lengths is None:
            out, hx = self.rnn(x, hx)
        else:  # padded names: packed, so each name's state stops at its own end
            packed = pack_padded_sequence(x, lengths, enforce_sorted=False)
            out, hx = self.rnn(packed, hx)
            out, _ = pad_packed_sequence(out, total_length=ids.shape[0])
        return self.head(out), hx


def collate(names: list[str], vocab: Vocab) -> tuple:
    """Names -> inputs (L, N) <bos>+name, lengths (N,), targets (L, N) name+<eos>: int64."""
    inputs = [torch.tensor(vocab.encode(n, add_bos=True)) for n in names]
    targets = [torch.tensor(vocab.encode(n, add_eos=True)) for n in names]
    lengths = torch.tensor([len(x) for x in inputs])
    x = pad_sequence(inputs, padding_value=vocab.pad_index)
    return x, lengths, pad_sequence(targets, padding_value=IGNORE_INDEX)


def train_step(model: CharLM, opt, criterion, batch: tuple, clip: float | None) -> float:
    """One Adam step on one (inputs, lengths, targets) batch -> its loss (nats per character)."""
    x, lengths, y = batch  # lengths stay on the CPU, as pack_padded_sequence wants
    logits, _ = model(x.to(device), lengths=lengths)
    loss = criterion(logits.reshape(-1, logits.shape[-1]), y.to(device).reshape(-1))
    opt.zero_grad()
    loss.backward()
    if clip:
        nn.utils.clip_grad_norm_(model.parameters(), clip)
    opt.step()
    return loss.item()


@torch.no_grad()
def evaluate(model: CharLM, loader) -> float:
    """Mean cross-entropy per character (<eos> included) over a loader's batches: a float."""
    model.eval()
    total, count = 0.0, 0
    for x, lengths, y in loader:
        logits, _ = model(x.to(device), lengths=lengths)
        total += nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), y.to(device).reshape(-1), reduction="sum"
        ).item()
        count += int(lengths.sum())
    model.train()
    return total / count


def train(args: argparse.Namespace, train_names: list, val_names: list, vocab: Vocab) -> tuple:
    """Adam with clipping, args.epochs over the names -> (model, history of losses per epoch)."""
    torch.manual_seed(args.seed)
    model = CharLM(len(vocab), args.hidden, args.cell).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    criterion = nn.CrossEntropyLoss(ignore_index=IGNORE_INDEX)
    batches = dict(collate_fn=lambda names: collate(names, vocab))
    loader = DataLoader(
        train_names,
        batch_size=args.batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(args.seed),
        **batches,
    )
    val_loader = DataLoader(val_names, batch_size=256, **batches)
    bar = progress_bar(args.epochs * len(loader), not args.no_progress, desc=f"{args.cell} LM")
    history: dict[str, list[float]] = {"train_loss": [], "val_loss": []}
    deadline = None if args.time_limit is None else time.perf_counter() + args.time_limit
    for _ in range(args.epochs):
        total, n = 0.0, 0
        for batch in loader:
            total, n = total + train_step(model, opt, criterion, batch, args.clip), n + 1
            bar.update(1)
            bar.set_postfix(loss=f"{total / n:.3f}")
            if deadline is not None and time.perf_counter() > deadline:
                break
        history["train_loss"].append(total / n)
        history["val_loss"].append(evaluate(model, val_loader))
        bar.set_postfix(loss=f"{total / n:.3f}", val=f"{history['val_loss'][-1]:.3f}")
        if deadline is not None and time.perf_counter() > deadline:
            break
    bar.close()
    return model, history


@torch.no_grad()
def sample(model: CharLM, vocab: Vocab, temperature: float, seed: int, max_len: int = 20) -> str:
    """One name drawn character by character from softmax(logits / temperature): a str."""
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    ids, state, drawn = torch.tensor([[vocab.bos_index]], device=device), None, []
    for _ in range(max_len):
        logits, state = model(ids, state)  # (1, 1, V): the next character's logits
        if temperature == 0:
            nxt = logits[-1, 0].argmax()
        else:
            probs = (logits[-1, 0] / temperature).softmax(-1).cpu()  # the generator's device
            nxt = torch.multinomial(probs, 1, generator=generator)[0]
        if nxt.item() == vocab.eos_index:
            break
        drawn.append(nxt.item())
        ids = nxt.view(1, 1).to(device)
    model.train()
    return vocab.decode(drawn)


def sample_names(model: CharLM, vocab: Vocab, n: int, temperature: float, seed: int) -> list[str]:
    """n names drawn from the model, name i with seed + i (reproducible): list of str."""
    return [sample(model, vocab, temperature, seed + i) for i in range(n)]


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
    print(f"weights {res['checkpoint']}\nloss curve {res['figure']}")
    print(f"time {res['seconds']:.1f} s")


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


def main(argv: list[str] | None = None) -> dict:
    """Train, sample and save -> {'train_loss', 'val_loss', 'baseline', 'samples', ...}."""
    args = parse_args(argv)
    t0 = time.perf_counter()
    train_names, val_names = names_dataset(seed=args.seed)
    if args.tiny:
        train_names, val_names = train_names[:400], val_names[:100]
    vocab = Vocab.build(train_names)
    baseline = unigram_baseline(train_names, val_names, vocab)
    with limit_blas_threads(1):  # small matmuls: one BLAS thread is fastest
        model, history = train(args, train_names, val_names, vocab)
        samples = sample_names(model, vocab, args.samples, args.temperature, args.seed)
    os.makedirs(args.out, exist_ok=True)
    weights = os.path.join(args.out, f"char_lm_{args.cell}.pt")
    torch.save(model.state_dict(), weights)
    train_set = set(train_names)
    res = {
        "train_loss": history["train_loss"],
        "val_loss": history["val_loss"],
        "baseline": baseline,
        "samples": samples,
        "novel_share": sum(s not in train_set for s in samples) / max(len(samples), 1),
        "checkpoint": weights,
        "figure": plot_loss_curve(history, baseline, os.path.join(args.out, "loss_curve.png")),
        "seconds": time.perf_counter() - t0,
    }
    report(res, train_set)
    return res


if __name__ == "__main__":
    main()
