"""Neural machine translation of dates with attention: "the 3rd of march 1987" -> "1987-03-03".

The course's week-3 exercise, many-to-many with T_x != T_y. A bidirectional LSTM encoder reads
the human date and gives one annotation a<t'> = [a->; a<-] per input character. The decoder is
an LSTM that writes the ISO date (T_y = 10 characters) one character at a time. Before each
step it looks back at the whole input with `nn.MultiheadAttention`: the query is the decoder's
state s<t-1>, the keys and values are the annotations (projected from their own width with
`kdim` / `vdim`), padding is hidden by `key_padding_mask`. With one head (the default),

    e<t, t'> = (W_q s<t-1>) . (W_k a<t'>) / sqrt(H_d),   alpha<t, t'> = softmax over t' of e,
    c<t> = W_o sum_t' alpha<t, t'> W_v a<t'>

(Luong's "general" score with learnt projections); `--heads h` splits the projections into h
heads, each with its own alpha<t, t'>.

The decoder's input at step t is [embedding of y<t-1>; c<t>] and it predicts y<t> from
[s<t>; c<t>]. Training uses teacher forcing (y<t-1> is the true previous character); at test
time decoding is greedy (the model's own previous prediction). Accuracy is exact match of the
whole 10-character date on held-out dates; the attention heatmap (`need_weights=True`, drawn by
`viz.plot_attention`) shows which input characters the decoder reads while writing each output
character (year digits look at the year, etc.).

The model and the training are plain PyTorch code (padded batches from a DataLoader, packed
into the encoder with `pack_padded_sequence`): with the framework line changed to `import torch`
they run on PyTorch; the lines marked "tinygrad_seq's own tools" (the date generator, the
vocabulary, a progress bar, the heatmap) work under either.

    python examples/date_translation.py                  # about 2.5 minutes on 2 cores
    python examples/date_translation.py --heads 4 --train-size 5000 --epochs 4
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

# The framework line: change it to `import torch` and the model and training run on PyTorch.
import tinygrad_seq as torch
from tinygrad_seq import viz  # tinygrad_seq's own tools: the attention heatmap
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


class DateTranslator(nn.Module):
    """Bi-LSTM encoder + attention + LSTM decoder: src (T_x, N) ids -> logits (T_y, N, V_out)."""

    def __init__(
        self,
        v_in: int,
        v_out: int,
        emb: int = 32,
        enc_hidden: int = 64,
        dec_hidden: int = 128,
        heads: int = 1,
    ):
        super().__init__()
        annot = 2 * enc_hidden
        self.src_embed = nn.Embedding(v_in, emb)
        self.encoder = nn.LSTM(emb, enc_hidden, bidirectional=True)
        self.bridge = nn.Linear(annot, dec_hidden)  # s<0> from the encoder's two final states
        # query: the decoder state (dec_hidden); keys and values: the annotations (annot wide),
        # projected to dec_hidden by kdim / vdim; the context comes out dec_hidden wide
        self.attention = nn.MultiheadAttention(dec_hidden, heads, kdim=annot, vdim=annot)
        self.tgt_embed = nn.Embedding(v_out, emb)
        self.decoder = nn.LSTMCell(emb + dec_hidden, dec_hidden)
        self.out = nn.Linear(2 * dec_hidden, v_out)

    def encode(self, src, lengths) -> tuple:
        """src (T_x, N), lengths (N,) -> annotations (T_x, N, 2H_e), padding mask, (s0, c0)."""
        packed = pack_padded_sequence(self.src_embed(src), lengths, enforce_sorted=False)
        out, (h_n, _) = self.encoder(packed)  # h_n (2, N, H_e): forward and backward finals
        a, _ = pad_packed_sequence(out, total_length=src.shape[0])
        s0 = self.bridge(torch.cat([h_n[0], h_n[1]], dim=1)).tanh()
        steps = torch.arange(src.shape[0], device=src.device)
        pad = steps[None, :] >= lengths.to(src.device)[:, None]  # (N, T_x) bool, True = padding
        return a, pad, (s0, torch.zeros_like(s0))

    def step(self, y_prev, state: tuple, a, pad, need_weights: bool = False) -> tuple:
        """One decoder step: y<t-1> (N,) ids -> logits (N, V_out), new state, alpha.

        alpha: the attention weights (N, heads, T_x) if need_weights, else None.
        """
        query = state[0].unsqueeze(0)  # (1, N, H_d): one query position, the state s<t-1>
        context, alpha = self.attention(
            query,
            a,
            a,
            key_padding_mask=pad,
            need_weights=need_weights,
            average_attn_weights=False,
        )
        context = context.squeeze(0)  # (N, H_d)
        state = self.decoder(torch.cat([self.tgt_embed(y_prev), context], dim=1), state)
        logits = self.out(torch.cat([state[0], context], dim=1))
        return logits, state, (alpha.squeeze(2) if need_weights else None)

    def forward(self, src, lengths, tgt_in):
        """Teacher forcing: tgt_in (T_y, N) = <bos> + y<1..T_y-1> -> logits (T_y, N, V_out)."""
        a, pad, state = self.encode(src, lengths)
        logits = []
        for t in range(tgt_in.shape[0]):
            out, state, _ = self.step(tgt_in[t], state, a, pad)
            logits.append(out)
        return torch.stack(logits, dim=0)

    @torch.no_grad()
    def greedy(self, src, lengths, bos: int, steps: int = T_Y) -> tuple:
        """Greedy decoding -> ids (T_y, N) int64 and attention weights (T_y, N, heads, T_x)."""
        a, pad, state = self.encode(src, lengths)
        y = torch.full((src.shape[1],), bos, dtype=torch.long, device=src.device)
        ids, alphas = [], []
        for _ in range(steps):
            out, state, alpha = self.step(y, state, a, pad, need_weights=True)
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
    """Greedy translations of pairs' human dates -> (N str, attention of pairs[0]).

    The attention of pairs[0] is an array (heads, T_y, T_x of pairs[0]).
    """
    model.eval()
    outs, first_alpha = [], None
    for i in range(0, len(pairs), batch_size):
        src, lengths, _, _ = encode_batch(pairs[i : i + batch_size], src_vocab, tgt_vocab)
        ids, alpha = model.greedy(src.to(device), lengths, tgt_vocab.bos_index)
        ids, alpha = ids.cpu(), alpha.cpu()
        outs += [tgt_vocab.decode(ids[:, j].tolist()) for j in range(ids.shape[1])]
        if first_alpha is None:
            # alpha (T_y, N, heads, T_x) -> the first pair's (heads, T_y, its T_x)
            first_alpha = alpha[:, 0, :, : int(lengths[0])].transpose(0, 1).numpy()
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
    """Heatmap of alpha (heads, T_y, T_x) with viz.plot_attention, one panel per head -> path."""
    fig = viz.plot_attention(
        alpha,
        [c if c != " " else "\u2423" for c in source],  # a visible sign for the space
        list(output),
        title=f"{source!r} -> {output!r}",
    )
    for ax in fig.axes[: alpha.shape[0]]:  # the heads' panels (the colour bar comes last)
        ax.set_xlabel("input character (human date)")
        ax.set_ylabel("output character (ISO date)")
    fig.savefig(path, dpi=110)
    return path


# ---------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options -> argparse.Namespace (see --help)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument(
        "--heads", type=int, default=1, help="attention heads (must divide --dec-hidden)"
    )
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
        len(vocabs[0]), len(vocabs[1]), args.emb, args.enc_hidden, args.dec_hidden, args.heads
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
