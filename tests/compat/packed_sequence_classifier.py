"""Classify variable-length token sequences with a packed bidirectional LSTM (or GRU).

In the style of the common PyTorch text-classification programs (the "packed padded
sequences" sentiment tutorials): each example is a sequence of token ids of its own length;
a DataLoader's collate_fn pads a batch with `pad_sequence` and keeps the lengths; the model
embeds the tokens (`padding_idx=0`), packs them with `pack_padded_sequence(...,
enforce_sorted=False)`, runs a 2-layer bidirectional LSTM or GRU over the packed batch,
unpacks the outputs with `pad_packed_sequence`, and classifies from the last layer's final
hidden states of both directions joined with a mean of the outputs over the real (unpadded)
time steps. Trained with `nn.CrossEntropyLoss` and `optim.Adam`; accuracy by argmax.

The task, made by the program from seeded Python `random`: a sequence of 3 to 14 tokens
drawn from a small vocabulary of "positive", "negative" and neutral words; its label is 1
when it holds more positive than negative words, else 0.

    python tests/compat/packed_sequence_classifier.py --epochs 3 --rnn gru
"""

from __future__ import annotations

import argparse
import random
import time

import tinygrad_seq as torch

# a PyTorch user writes `import torch.nn as nn`, `from torch.nn.utils.rnn import ...`, etc.
nn = torch.nn
optim = torch.optim
DataLoader = torch.utils.data.DataLoader
Dataset = torch.utils.data.Dataset
pad_sequence = torch.nn.utils.rnn.pad_sequence
pack_padded_sequence = torch.nn.utils.rnn.pack_padded_sequence
pad_packed_sequence = torch.nn.utils.rnn.pad_packed_sequence
pack_sequence = torch.nn.utils.rnn.pack_sequence
PackedSequence = torch.nn.utils.rnn.PackedSequence

PAD = "<pad>"
POSITIVE = ["good", "great", "fine", "superb", "happy"]
NEGATIVE = ["bad", "awful", "poor", "sad", "dull"]
NEUTRAL = ["the", "a", "film", "plot", "was", "and", "very", "it", "acting", "music"]
VOCAB = [PAD, *POSITIVE, *NEGATIVE, *NEUTRAL]  # id 0 is padding
STOI = {word: i for i, word in enumerate(VOCAB)}


def make_examples(n, seed=0, min_len=3, max_len=14):
    """n (token ids, label) pairs; label 1 iff more positive than negative words (ties: 0)."""
    rng = random.Random(seed)
    examples = []
    for _ in range(n):
        length = rng.randint(min_len, max_len)
        words = [rng.choice(rng.choice([POSITIVE, NEGATIVE, NEUTRAL])) for _ in range(length)]
        score = sum(w in POSITIVE for w in words) - sum(w in NEGATIVE for w in words)
        examples.append(([STOI[w] for w in words], int(score > 0)))
    return examples


class SequenceDataset(Dataset):
    """(token ids, label) pairs -> (int64 (T,) tensor, label) items."""

    def __init__(self, examples):
        self.examples = examples

    def __len__(self):
        return len(self.examples)

    def __getitem__(self, i):
        ids, label = self.examples[i]
        return torch.tensor(ids, dtype=torch.long), label


def collate_batch(batch):
    """[(ids (T_i,), label)] -> padded ids (B, T_max), lengths (B,) int64 on CPU, labels (B,)."""
    seqs = [ids for ids, _ in batch]
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)
    labels = torch.tensor([label for _, label in batch], dtype=torch.long)
    padded = pad_sequence(seqs, batch_first=True, padding_value=0)
    return padded, lengths, labels


def make_loader(examples, batch_size=16, shuffle=False, generator=None):
    """A DataLoader over the examples with the padding collate_fn."""
    return DataLoader(
        SequenceDataset(examples),
        batch_size=batch_size,
        shuffle=shuffle,
        collate_fn=collate_batch,
        generator=generator,
    )


class PackedClassifier(nn.Module):
    """Embedding -> packed 2-layer bidirectional LSTM/GRU -> linear: (B, T) ids -> (B, C)."""

    def __init__(self, vocab_size, embed_dim=8, hidden_dim=12, n_classes=2, rnn="lstm"):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        cell = {"lstm": nn.LSTM, "gru": nn.GRU}[rnn]
        self.rnn = cell(embed_dim, hidden_dim, num_layers=2, bidirectional=True, batch_first=True)
        # final hidden states of both directions (2H) and the masked mean of the outputs (2H)
        self.fc = nn.Linear(4 * hidden_dim, n_classes)

    def encode(self, packed):
        """Packed embeddings -> padded outputs (B, T_max, 2H), lengths (B,), final state (B, 2H)."""
        packed_output, state = self.rnn(packed)
        hidden = state[0] if isinstance(state, tuple) else state  # LSTM gives (h_n, c_n)
        output, output_lengths = pad_packed_sequence(packed_output, batch_first=True)
        # hidden is (num_layers * 2, B, H): the last two rows are the top layer's directions
        final = torch.cat((hidden[-2], hidden[-1]), dim=1)
        return output, output_lengths, final

    def classify(self, packed):
        """Packed embeddings -> logits (B, C) from the final states and the masked mean."""
        output, output_lengths, final = self.encode(packed)
        mask = torch.arange(output.size(1))[None, :] < output_lengths[:, None]
        summed = (output * mask.unsqueeze(2).to(output.dtype)).sum(dim=1)
        mean = summed / output_lengths.unsqueeze(1).to(output.dtype)
        return self.fc(torch.cat((final, mean), dim=1))

    def forward(self, text, lengths):
        """Padded ids (B, T_max) and their lengths (B,) int64 on the CPU -> logits (B, C)."""
        embedded = self.embedding(text)
        packed = pack_padded_sequence(embedded, lengths, batch_first=True, enforce_sorted=False)
        return self.classify(packed)

    def forward_packed(self, packed_ids):
        """Ids packed by pack_sequence -> logits (B, C), embedding only the real tokens."""
        embedded = PackedSequence(
            self.embedding(packed_ids.data),
            packed_ids.batch_sizes,
            packed_ids.sorted_indices,
            packed_ids.unsorted_indices,
        )
        return self.classify(embedded)


def build_model(rnn="lstm"):
    """A fresh classifier over VOCAB (seed the framework first for a fixed start)."""
    return PackedClassifier(len(VOCAB), rnn=rnn)


def train(model, loader, optimizer, epochs=1, device="cpu", verbose=False):
    """Adam on cross-entropy over the loader's batches -> the loss of every step."""
    criterion = nn.CrossEntropyLoss()
    losses = []
    for epoch in range(epochs):
        model.train()
        for text, lengths, labels in loader:
            text, labels = text.to(device), labels.to(device)  # lengths stay on the CPU
            optimizer.zero_grad()
            logits = model(text, lengths)
            loss = criterion(logits, labels)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        if verbose:
            print(f"epoch {epoch + 1}: last loss {losses[-1]:.4f}")
    return losses


def evaluate(model, loader, device="cpu"):
    """-> (mean loss, accuracy) over the loader, without building a graph."""
    criterion = nn.CrossEntropyLoss(reduction="sum")
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for text, lengths, labels in loader:
            text, labels = text.to(device), labels.to(device)
            logits = model(text, lengths)
            total_loss += criterion(logits, labels).item()
            correct += (logits.argmax(dim=1) == labels).sum().item()
            count += labels.size(0)
    return total_loss / count, correct / count


def predict(model, sentences, device="cpu"):
    """Sentences (space-separated words) -> predicted labels, packed with pack_sequence."""
    seqs = [torch.tensor([STOI[w] for w in s.split()], dtype=torch.long) for s in sentences]
    packed_ids = pack_sequence(seqs, enforce_sorted=False).to(device)
    model.eval()
    with torch.no_grad():
        return model.forward_packed(packed_ids).argmax(dim=1).tolist()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rnn", choices=["lstm", "gru"], default="lstm")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--train-size", type=int, default=480)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    random.seed(args.seed)
    torch.manual_seed(args.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    train_loader = make_loader(make_examples(args.train_size, seed=args.seed), shuffle=True)
    test_loader = make_loader(make_examples(200, seed=args.seed + 1))
    model = build_model(args.rnn).to(device)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    print(f"{sum(p.numel() for p in model.parameters())} parameters")
    start = time.time()
    for epoch in range(args.epochs):
        losses = train(model, train_loader, optimizer, device=device)
        test_loss, accuracy = evaluate(model, test_loader, device)
        mean = sum(losses) / len(losses)
        print(
            f"epoch {epoch + 1}: train loss {mean:.4f} test loss {test_loss:.4f} acc {accuracy:.3f}"
        )
    samples = ["good film and great music", "the plot was dull and sad", "bad", "fine fine awful"]
    for sentence, label in zip(samples, predict(model, samples, device)):
        print(f"{label} {'positive' if label else 'negative'}: {sentence}")
    print(f"done in {time.time() - start:.1f} s")


if __name__ == "__main__":
    main()
