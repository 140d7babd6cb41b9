"""Many-to-one: a GRU reads a first name and guesses the census sex label from its last state.

The course's sentiment-classification shape: T_x inputs, one output. A DataLoader pads the
names of a batch with `pad_sequence`, and the model packs them (`pack_padded_sequence`), so a
short name's state stops changing after its last real character; the final hidden state h<T_x>
(the GRU's h_n) is the summary of the whole name that a linear layer turns into two logits
(female / male).

The model and the training are plain PyTorch code: with the framework line changed to
`import torch` they run on PyTorch; the lines marked "tinygrad_seq's own tools" (the bundled
names, a progress bar) work under either.

Three quarters of the bundled names are female, so always answering "female" is already right
about 78% of the time: that majority-class baseline is the number to beat, and the per-class
accuracy shows whether the model learnt anything about male names at all.

    python examples/name_classifier.py              # about half a minute on 2 cores
    python examples/name_classifier.py --hidden 32 --epochs 5
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

# The framework line: change it to `import torch` and the model and training run on PyTorch.
import tinygrad_seq as torch
from tinygrad_seq.data import Vocab, load_names  # tinygrad_seq's own tools: the names corpus
from tinygrad_seq.tasks import limit_blas_threads, progress_bar  # tinygrad_seq's own tools

nn, F = torch.nn, torch.nn.functional
DataLoader = torch.utils.data.DataLoader
pack_padded_sequence = torch.nn.utils.rnn.pack_padded_sequence
pad_sequence = torch.nn.utils.rnn.pad_sequence
# PyTorch's device idiom: tinygrad_seq runs on the CPU, PyTorch on a GPU when there is one
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

CLASSES = ("female", "male")


class NameClassifier(nn.Module):
    """Embedding -> GRU -> Linear on h<T_x>: ids (N, L) with lengths (N,) -> logits (N, 2)."""

    def __init__(self, vocab_size: int, emb: int = 32, hidden: int = 64, classes: int = 2):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emb, padding_idx=0)
        self.gru = nn.GRU(emb, hidden, batch_first=True)
        self.head = nn.Linear(hidden, classes)

    def forward(self, ids, lengths):
        """ids (N, L) int64, lengths (N,) int64 -> logits (N, classes) from each last state."""
        packed = pack_padded_sequence(
            self.embedding(ids), lengths, batch_first=True, enforce_sorted=False
        )
        _, h_n = self.gru(packed)  # h_n (1, N, H): each name's state at its own last character
        return self.head(h_n[-1])


def encode(records: list, vocab: Vocab) -> list:
    """NameRecords -> (character ids (T,) int64 tensor, class index) pairs: a map-style dataset."""
    return [(torch.tensor(vocab.encode(r.name)), CLASSES.index(r.sex)) for r in records]


def collate(pairs: list) -> tuple:
    """(ids, label) pairs -> ids (N, L) padded with 0 (<pad>), lengths (N,), labels (N,)."""
    lengths = torch.tensor([len(ids) for ids, _ in pairs])
    ids = pad_sequence([ids for ids, _ in pairs], batch_first=True, padding_value=0)
    return ids, lengths, torch.tensor([label for _, label in pairs])


@torch.no_grad()
def predict(model: NameClassifier, pairs: list):
    """(ids, label) pairs -> logits (N, 2) in the pairs' order, in eval mode."""
    model.eval()
    loader = DataLoader(pairs, batch_size=512, collate_fn=collate)
    logits = torch.cat([model(ids.to(device), lengths).cpu() for ids, lengths, _ in loader])
    model.train()
    return logits


def accuracy(probs: np.ndarray, labels: np.ndarray) -> dict:
    """Probabilities (N, 2), labels (N,) -> {'accuracy', 'female_acc', 'male_acc'}."""
    pred = probs.argmax(-1)
    out = {"accuracy": float((pred == labels).mean())}
    for k, name in enumerate(CLASSES):
        out[f"{name}_acc"] = float((pred[labels == k] == k).mean())
    return out


def train_step(model: NameClassifier, opt, criterion, batch: tuple) -> float:
    """One Adam step on one (ids, lengths, labels) batch, gradients clipped at 5 -> its loss."""
    ids, lengths, labels = batch  # lengths stay on the CPU, as pack_padded_sequence wants
    loss = criterion(model(ids.to(device), lengths), labels.to(device))
    opt.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 5.0)
    opt.step()
    return loss.item()


def train(
    model: NameClassifier, train_pairs: list, val_pairs: list, args: argparse.Namespace
) -> dict:
    """Adam on cross-entropy with clipping -> history {'train_loss', 'val_loss', 'val_acc'}."""
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    criterion = nn.CrossEntropyLoss()
    loader = DataLoader(
        train_pairs,
        batch_size=args.batch_size,
        shuffle=True,
        collate_fn=collate,
        generator=torch.Generator().manual_seed(args.seed),
    )
    labels = torch.tensor([y for _, y in val_pairs])
    bar = progress_bar(args.epochs * len(loader), not args.no_progress, desc="GRU classifier")
    history: dict[str, list[float]] = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(args.epochs):
        total = 0.0
        for i, batch in enumerate(loader, 1):
            total += train_step(model, opt, criterion, batch)
            bar.update(1)
            bar.set_postfix(loss=f"{total / i:.3f}")
        history["train_loss"].append(total / len(loader))
        logits = predict(model, val_pairs)
        history["val_loss"].append(criterion(logits, labels).item())
        history["val_acc"].append(accuracy(logits.numpy(), labels.numpy())["accuracy"])
        bar.set_postfix(loss=f"{total / len(loader):.3f}", val_acc=f"{history['val_acc'][-1]:.3f}")
    bar.close()
    return history


def plot_history(history: dict, baseline: float, path: str) -> str:
    """Train/val loss and validation accuracy per epoch, majority baseline dashed -> path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = np.arange(1, len(history["train_loss"]) + 1)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    ax1.plot(epochs, history["train_loss"], marker="o", label="train")
    ax1.plot(epochs, history["val_loss"], marker="o", label="validation")
    ax1.set(xlabel="epoch", ylabel="cross-entropy (nats)", title="loss")
    ax1.legend()
    ax2.plot(epochs, history["val_acc"], marker="o", label="GRU, validation")
    ax2.axhline(baseline, color="grey", linestyle="--", label=f"majority class {baseline:.3f}")
    ax2.set(xlabel="epoch", ylabel="accuracy", title="validation accuracy")
    ax2.set_ylim(min(baseline, min(history["val_acc"])) - 0.03, 1.0)
    ax2.legend(loc="upper left")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options -> argparse.Namespace (see --help)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--hidden", type=int, default=64, help="GRU hidden size")
    p.add_argument("--emb", type=int, default=32, help="character embedding size")
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=os.path.join("examples-output", "name_classifier"))
    p.add_argument("--tiny", action="store_true", help="a few seconds' run, for tests")
    p.add_argument("--no-progress", action="store_true", help="no tqdm progress bar")
    args = p.parse_args(argv)
    if args.tiny:
        args.hidden, args.emb, args.epochs = 8, 8, 1
    return args


def main(argv: list[str] | None = None) -> dict:
    """Train and evaluate -> {'accuracy', 'baseline', 'female_acc', 'male_acc', 'figure', ...}."""
    args = parse_args(argv)
    t0 = time.perf_counter()
    torch.manual_seed(args.seed)
    train_rec, val_rec = load_names("train", seed=args.seed), load_names("val", seed=args.seed)
    if args.tiny:
        train_rec, val_rec = train_rec[::10], val_rec[::4]
    vocab = Vocab.build([r.name for r in train_rec])
    train_pairs, val_pairs = encode(train_rec, vocab), encode(val_rec, vocab)
    labels = np.array([y for _, y in val_pairs])
    majority = int(np.bincount([y for _, y in train_pairs], minlength=2).argmax())
    baseline = float((labels == majority).mean())
    model = NameClassifier(len(vocab), args.emb, args.hidden).to(device)
    with limit_blas_threads(1):  # small matmuls: one BLAS thread is fastest
        history = train(model, train_pairs, val_pairs, args)
        probs = predict(model, val_pairs).softmax(-1).numpy()
    res = {**accuracy(probs, labels), "baseline": baseline, **history}
    os.makedirs(args.out, exist_ok=True)
    res["figure"] = plot_history(history, baseline, os.path.join(args.out, "training.png"))
    res["seconds"] = time.perf_counter() - t0
    res["examples"] = [(r.name, r.sex, float(p[1])) for r, p in zip(val_rec[:12], probs[:12])]
    report(res, len(val_rec))
    return res


def report(res: dict, n_val: int) -> None:
    """Print the key results of one run."""
    print(
        f"\nvalidation ({n_val} names): accuracy {res['accuracy']:.1%} "
        f"(majority-class baseline {res['baseline']:.1%})"
    )
    print(f"  per class: female {res['female_acc']:.1%}, male {res['male_acc']:.1%}")
    print("  " + ", ".join(f"{n} ({s[0]}) P(male)={p:.2f}" for n, s, p in res["examples"][:8]))
    print(f"figure {res['figure']}\ntime {res['seconds']:.1f} s")


if __name__ == "__main__":
    main()
