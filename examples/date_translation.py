"""Neural machine translation of dates with attention: "the 3rd of march 1987" -> "1987-03-03".

The course's week-3 exercise, many-to-many with T_x != T_y. A bidirectional LSTM encoder reads
the human date and gives one annotation a<t'> = [a->; a<-] per input character. The decoder is
an LSTM that writes the ISO date (T_y = 10 characters) one character at a time. Before each
step it looks back at the whole input: attention weights alpha<t, t'> = softmax over t' of the
energies e<t, t'>, and the context c<t> = sum_t' alpha<t, t'> a<t'>. Energies are either

- additive (Bahdanau):  e<t, t'> = v . tanh(W_a a<t'> + W_s s<t-1>), a small one-layer network;
- dot (Luong "general"): e<t, t'> = a<t'> . (W s<t-1>).

The decoder's input at step t is [embedding of y<t-1>; c<t>] and it predicts y<t> from
[s<t>; c<t>]. Training uses teacher forcing (y<t-1> is the true previous character); at test
time decoding is greedy (the model's own previous prediction). Accuracy is exact match of the
whole 10-character date on held-out dates; the attention heatmap shows which input characters
the decoder reads while writing each output character (year digits look at the year, etc.).

The model and the training are plain PyTorch code (padded batches from a DataLoader, packed
into the encoder with `pack_padded_sequence`): with the framework line changed to `import torch`
they run on PyTorch; the lines marked "tinygrad_seq's own tools" (the date generator, the
vocabulary, a progress bar) work under either.

    python examples/date_translation.py                  # about 2.5 minutes on 2 cores
    python examples/date_translation.py --attention dot --train-size 5000 --epochs 4
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

# The framework line: change it to `import torch` and the model and training run on PyTorch.
import tinygrad_seq as torch
from tinygrad_seq.data import Vocab, make_dates  # tinygrad_seq's own tools: the date corpus
from tinygrad_seq.tasks import limit_blas_threads, progress_bar  # tinygrad_seq's own tools

nn = torch.nn
DataLoader = torch.utils.data.DataLoader
pack_padded_sequence = torch.nn.utils.rnn.pack_padded_sequence
pad_packed_sequence = torch.nn.utils.rnn.pad_packed_sequence
pad_sequence = torch.nn.utils.rnn.pad_sequence
# PyTorch's device idiom: tinygrad_seq runs on the CPU, PyTorch on a GPU when there is one
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

T_Y = 10  # every ISO date 'YYYY-MM-DD' has 10 characters


class Attention(nn.Module):
    """Energies e (T_x, N) between decoder state s (N, H_s) and annotations a (T_x, N, H_a)."""

    def __init__(self, annot_size: int, state_size: int, kind: str = "additive", size: int = 64):
        super().__init__()
        if kind not in ("additive", "dot"):
            raise ValueError(f"Attention: kind must be 'additive' or 'dot', got {kind!r}")
        self.kind = kind
        if kind == "additive":
            self.W_a = nn.Linear(annot_size, size, bias=False)
            self.W_s = nn.Linear(state_size, size)
            self.v = nn.Linear(size, 1, bias=False)
        else:
            self.W = nn.Linear(state_size, annot_size, bias=False)

    def keys(self, annotations):
        """a (T_x, N, H_a) -> what the energies compare against, computed once per batch."""
        return self.W_a(annotations) if self.kind == "additive" else annotations

    def forward(self, keys, s, pad):
        """keys, s (N, H_s), pad (T_x, N) bool -> alpha (T_x, N), each column summing to 1."""
        if self.kind == "additive":
            e = self.v((keys + self.W_s(s)).tanh()).squeeze(-1)
        else:
            e = (keys * self.W(s)).sum(-1)
        return e.masked_fill(pad, -1e9).softmax(0)


class DateTranslator(nn.Module):
    """Bi-LSTM encoder + attention + LSTM decoder: src (T_x, N) ids -> logits (T_y, N, V_out)."""

    def __init__(
        self,
        v_in: int,
        v_out: int,
        emb: int = 32,
        enc_hidden: int = 64,
        dec_hidden: int = 128,
        attention: str = "additive",
    ):
        super().__init__()
        annot = 2 * enc_hidden
        self.src_embed = nn.Embedding(v_in, emb)
        self.encoder = nn.LSTM(emb, enc_hidden, bidirectional=True)
        self.bridge = nn.Linear(annot, dec_hidden)  # s<0> from the encoder's two final states
        self.attention = Attention(annot, dec_hidden, attention)
        self.tgt_embed = nn.Embedding(v_out, emb)
        self.decoder = nn.LSTMCell(emb + annot, dec_hidden)
        self.out = nn.Linear(dec_hidden + annot, v_out)

    def encode(self, src, lengths) -> tuple:
        """src (T_x, N), lengths (N,) -> annotations (T_x, N, 2H_e), padding mask, (s0, c0)."""
        packed = pack_padded_sequence(self.src_embed(src), lengths, enforce_sorted=False)
        out, (h_n, _) = self.encoder(packed)  # h_n (2, N, H_e): forward and backward finals
        a, _ = pad_packed_sequence(out, total_length=src.shape[0])
        s0 = self.bridge(torch.cat([h_n[0], h_n[1]], dim=1)).tanh()
        steps = torch.arange(src.shape[0], device=src.device)
        pad = steps[:, None] >= lengths.to(src.device)[None, :]  # (T_x, N) bool
        return a, pad, (s0, torch.zeros_like(s0))

    def step(self, y_prev, state: tuple, a, keys, pad) -> tuple:
        """One decoder step: y<t-1> (N,) ids -> logits (N, V_out), new state, alpha (T_x, N)."""
        alpha = self.attention(keys, state[0], pad)
        context = (alpha.unsqueeze(-1) * a).sum(0)
        state = self.decoder(torch.cat([self.tgt_embed(y_prev), context], dim=1), state)
        return self.out(torch.cat([state[0], context], dim=1)), state, alpha

    def forward(self, src, lengths, tgt_in):
        """Teacher forcing: tgt_in (T_y, N) = <bos> + y<1..T_y-1> -> logits (T_y, N, V_out)."""
        a, pad, state = self.encode(src, lengths)
        keys = self.attention.keys(a)
        logits = []
        for t in range(tgt_in.shape[0]):
            out, state, _ = self.step(tgt_in[t], state, a, keys, pad)
            logits.append(out)
        return torch.stack(logits, dim=0)

    @torch.no_grad()
    def greedy(self, src, lengths, bos: int, steps: int = T_Y) -> tuple:
        """Greedy decoding -> ids (T_y, N) int64 and attention weights (T_y, T_x, N)."""
        a, pad, state = self.encode(src, lengths)
        keys = self.attention.keys(a)
        y = torch.full((src.shape[1],), bos, dtype=torch.long, device=src.device)
        ids, alphas = [], []
        for _ in range(steps):
            out, state, alpha = self.step(y, state, a, keys, pad)
            y = out.argmax(-1)
            ids.append(y)
            alphas.append(alpha)
        return torch.stack(ids), torch.stack(alphas)


# ---------------------------------------------------------------------------------- data


def make_data(n_train: int, n_val: int, seed: int) -> tuple[list, list]:
    """(train pairs, held-out pairs) of (human, iso); no held-out human string is in train."""
    train = make_dates(n_train, seed=seed)
    seen = {h for h, _ in train}
    val = [p for p in make_dates(2 * n_val + 100, seed=seed + 1) if p[0] not in seen][:n_val]
    return train, val


def encode_batch(pairs: list, src_vocab: Vocab, tgt_vocab: Vocab) -> tuple:
    """Pairs -> src (T_x, N), lengths (N,), decoder inputs (T_y, N), targets (T_y, N): int64."""
    sources = [torch.tensor(src_vocab.encode(h)) for h, _ in pairs]
    src = pad_sequence(sources, padding_value=src_vocab.pad_index)
    lengths = torch.tensor([len(s) for s in sources])
    tgt = torch.tensor([tgt_vocab.encode(iso) for _, iso in pairs]).t()
    bos = torch.full((1, len(pairs)), tgt_vocab.bos_index, dtype=torch.long)
    return src, lengths, torch.cat([bos, tgt[:-1]], dim=0), tgt


def translate(
    model: DateTranslator, pairs: list, src_vocab: Vocab, tgt_vocab: Vocab, batch_size: int = 500
) -> tuple[list[str], np.ndarray]:
    """Greedy translations of pairs' human dates -> (list of N str, attention of pairs[0])."""
    model.eval()
    outs, first_alpha = [], None
    for i in range(0, len(pairs), batch_size):
        src, lengths, _, _ = encode_batch(pairs[i : i + batch_size], src_vocab, tgt_vocab)
        ids, alpha = model.greedy(src.to(device), lengths, tgt_vocab.bos_index)
        ids, alpha = ids.cpu(), alpha.cpu()
        outs += [tgt_vocab.decode(ids[:, j].tolist()) for j in range(ids.shape[1])]
        if first_alpha is None:
            first_alpha = alpha[:, : int(lengths[0]), 0].numpy()  # (T_y, T_x of the first one)
    model.train()
    return outs, first_alpha


def exact_match(predictions: list[str], pairs: list) -> float:
    """Share of predictions equal to the reference ISO date (whole string): float in [0, 1]."""
    return float(np.mean([p == iso for p, (_, iso) in zip(predictions, pairs)]))


# ------------------------------------------------------------------------------ training


def train_step(model: DateTranslator, opt, criterion, batch: tuple, clip: float) -> float:
    """One step of teacher forcing on (src, lengths, tgt_in, tgt), gradients clipped -> loss."""
    src, lengths, tgt_in, tgt = batch  # lengths stay on the CPU, as pack_padded_sequence wants
    logits = model(src.to(device), lengths, tgt_in.to(device))  # (T_y, N, V_out)
    loss = criterion(logits.reshape(-1, logits.shape[-1]), tgt.to(device).reshape(-1))
    opt.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), clip)
    opt.step()
    return loss.item()


def train(
    model: DateTranslator, data: list, vocabs: tuple, args: argparse.Namespace, val: list
) -> dict:
    """Adam with teacher forcing and clipping -> history {'train_loss', 'val_acc'} per epoch."""
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    criterion = nn.CrossEntropyLoss()
    loader = DataLoader(
        data,
        batch_size=args.batch_size,
        shuffle=True,
        collate_fn=lambda pairs: encode_batch(pairs, *vocabs),
        generator=torch.Generator().manual_seed(args.seed),
    )
    bar = progress_bar(args.epochs * len(loader), not args.no_progress, desc="dates")
    history: dict[str, list[float]] = {"train_loss": [], "val_acc": []}
    for _ in range(args.epochs):
        total = 0.0
        for b, batch in enumerate(loader, 1):
            total += train_step(model, opt, criterion, batch, args.clip)
            bar.update(1)
            bar.set_postfix(loss=f"{total / b:.3f}")
        history["train_loss"].append(total / len(loader))
        history["val_acc"].append(exact_match(translate(model, val[:500], *vocabs)[0], val[:500]))
        bar.set_postfix(
            loss=f"{history['train_loss'][-1]:.3f}", acc=f"{history['val_acc'][-1]:.3f}"
        )
    bar.close()
    return history


# ------------------------------------------------------------------------------- figures


def plot_attention(alpha: np.ndarray, source: str, output: str, path: str) -> str:
    """Heatmap of alpha (T_y, T_x): rows output characters, columns input characters -> path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(5.0, 0.32 * len(source) + 1.5), 4.2))
    im = ax.imshow(alpha, cmap="viridis", vmin=0.0, aspect="auto")
    ax.set_xticks(range(len(source)), [c if c != " " else "\u2423" for c in source])
    ax.set_yticks(range(len(output)), list(output))
    ax.set_xlabel("input character (human date)")
    ax.set_ylabel("output character (ISO date)")
    ax.set_title(f"attention weights: {source!r} -> {output!r}")
    fig.colorbar(im, ax=ax, fraction=0.04, label="alpha<t, t'>")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


# ---------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options -> argparse.Namespace (see --help)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--attention", choices=["additive", "dot"], default="additive")
    p.add_argument("--train-size", type=int, default=12000, help="training pairs")
    p.add_argument("--val-size", type=int, default=1000, help="held-out pairs")
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=4e-3, help="Adam learning rate")
    p.add_argument("--clip", type=float, default=5.0, help="max gradient norm")
    p.add_argument("--emb", type=int, default=32, help="embedding size")
    p.add_argument("--enc-hidden", type=int, default=48, help="encoder LSTM size per direction")
    p.add_argument("--dec-hidden", type=int, default=96, help="decoder LSTM size")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=os.path.join("examples-output", "date_translation"))
    p.add_argument("--tiny", action="store_true", help="a few seconds' run, for tests")
    p.add_argument("--no-progress", action="store_true", help="no tqdm progress bar")
    args = p.parse_args(argv)
    if args.tiny:
        args.train_size, args.val_size, args.epochs = 200, 50, 1
        args.emb, args.enc_hidden, args.dec_hidden = 8, 8, 16
    return args


def main(argv: list[str] | None = None) -> dict:
    """Train and evaluate -> {'accuracy', 'train_loss', 'val_acc', 'examples', 'figure', ...}."""
    args = parse_args(argv)
    t0 = time.perf_counter()
    torch.manual_seed(args.seed)
    data, val = make_data(args.train_size, args.val_size, args.seed)
    vocabs = (Vocab.build([h for h, _ in data]), Vocab.build([iso for _, iso in data]))
    model = DateTranslator(
        len(vocabs[0]), len(vocabs[1]), args.emb, args.enc_hidden, args.dec_hidden, args.attention
    ).to(device)
    with limit_blas_threads(1):  # small matmuls: one BLAS thread is fastest
        history = train(model, data, vocabs, args, val)
        preds, _ = translate(model, val, *vocabs)
        k = max(range(min(20, len(val))), key=lambda i: len(val[i][0]))  # a long one to show
        _, alpha = translate(model, [val[k]], *vocabs)
    accuracy = exact_match(preds, val)
    os.makedirs(args.out, exist_ok=True)
    figure = plot_attention(alpha, val[k][0], preds[k], os.path.join(args.out, "attention.png"))
    per_epoch = ", ".join(f"{a:.1%}" for a in history["val_acc"])
    print(f"\nexact match per epoch (first {min(500, len(val))} held-out dates): {per_epoch}")
    print(f"exact-match accuracy on {len(val)} held-out dates: {accuracy:.1%}")
    for (human, iso), pred in list(zip(val, preds))[:8]:
        print(f"  {human:32s} -> {pred}  {'ok' if pred == iso else 'expected ' + iso}")
    seconds = time.perf_counter() - t0
    print(f"attention heatmap {figure}\ntime {seconds:.1f} s")
    return {
        "accuracy": accuracy,
        "train_loss": history["train_loss"],
        "val_acc": history["val_acc"],
        "examples": list(zip(val[:8], preds[:8])),
        "figure": figure,
        "seconds": seconds,
    }


if __name__ == "__main__":
    main()
