"""Classify first names by sex with a character-level RNN.

Written in the style of the PyTorch tutorial "NLP From Scratch: Classifying Names with a
Character-Level RNN": each name is a sequence of one-hot letters (`lineToTensor`), a `Dataset`
subclass yields (label tensor, name tensor, label, name), `random_split` makes the train and
test sets, and an RNN reads the name one letter at a time and outputs log-probabilities over
the categories. Two models, as in the tutorial's two versions: the hand-made cell (`RNN`,
i2h and h2o on `torch.cat((input, hidden), 1)`, trained one name at a time with the manual
`p.data.add_` update) and `CharRNN` on `nn.RNN`, trained with SGD and gradient clipping either
on packed mini-batches from a `DataLoader` (with momentum) or as the tutorial does, one name at
a time over shuffled batches of indices (`--loop items`). The evaluation fills a confusion
matrix and `predict` prints the top guesses for a name.

The data is a tab-separated file of names (the US census names corpus: '#' comment lines, a
header `name sex male_pct female_pct`, one name per line). Run it as

    python name_classifier.py --data names.tsv
"""

import argparse
import random
import string
import time

import numpy as np

import tinygrad_seq as torch

# a PyTorch user would write `import torch.nn as nn` and `from torch.utils.data import ...`
nn = torch.nn
F = torch.nn.functional
Dataset = torch.utils.data.Dataset
DataLoader = torch.utils.data.DataLoader
Subset = torch.utils.data.Subset

# the letters of the names, and "_" for any other character
allowed_characters = string.ascii_lowercase + "_"
n_letters = len(allowed_characters)


def letterToIndex(letter):
    """The index of one letter in allowed_characters ("_" for anything unknown)."""
    if letter not in allowed_characters:
        return allowed_characters.find("_")
    return allowed_characters.find(letter)


def lineToTensor(line):
    """A name as a one-hot tensor of shape (len(line), 1, n_letters)."""
    tensor = torch.zeros(len(line), 1, n_letters)
    for li, letter in enumerate(line):
        tensor[li][0][letterToIndex(letter)] = 1
    return tensor


def read_names(path):
    """The (name, sex) pairs of a names file: '#' comments, a tab-separated header, rows."""
    pairs = []
    header = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            fields = line.split("\t")
            if header is None:
                header = fields
                continue
            row = dict(zip(header, fields))
            pairs.append((row["name"], row["sex"]))
    return pairs


class NamesDataset(Dataset):
    """Names and their labels; item i is (label_tensor (1,), name_tensor (L, 1, n_letters),
    label, name)."""

    def __init__(self, path):
        self.data = []
        self.labels = []
        for name, label in read_names(path):
            self.data.append(name)
            self.labels.append(label)
        # sorted, so that the label indices do not depend on the run
        self.labels_uniq = sorted(set(self.labels))
        self.data_tensors = [lineToTensor(name) for name in self.data]
        self.labels_tensors = [
            torch.tensor([self.labels_uniq.index(label)], dtype=torch.long) for label in self.labels
        ]

    def __len__(self):
        return len(self.data)

    def __getitem__(self, idx):
        return self.labels_tensors[idx], self.data_tensors[idx], self.labels[idx], self.data[idx]


def split_data(dataset, seed=2024, fractions=(0.85, 0.15), device="cpu"):
    """random_split into (train, test) Subsets, by fractions, from a seeded Generator."""
    generator = torch.Generator(device=device).manual_seed(seed)
    return torch.utils.data.random_split(dataset, list(fractions), generator=generator)


class RNN(nn.Module):
    """The tutorial's hand-made cell: (input (1, I), hidden (1, H)) -> (log-probs (1, O), hidden).

    hidden' = tanh(i2h([input, hidden])), output = log_softmax(h2o(hidden')).
    """

    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.i2h = nn.Linear(input_size + hidden_size, hidden_size)
        self.h2o = nn.Linear(hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, input, hidden):
        combined = torch.cat((input, hidden), 1)
        hidden = F.tanh(self.i2h(combined))
        output = self.h2o(hidden)
        output = self.softmax(output)
        return output, hidden

    def initHidden(self):
        return torch.zeros(1, self.hidden_size)


class CharRNN(nn.Module):
    """nn.RNN then a linear layer on the last hidden state: (L, B, I) or packed -> (B, O)."""

    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.rnn = nn.RNN(input_size, hidden_size)
        self.h2o = nn.Linear(hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, line_tensor):
        rnn_out, hidden = self.rnn(line_tensor)
        output = self.h2o(hidden[0])
        output = self.softmax(output)
        return output


def build_model(kind, n_hidden, n_categories):
    """The hand-made cell ("cell") or the nn.RNN classifier ("rnn")."""
    if kind == "cell":
        return RNN(n_letters, n_hidden, n_categories)
    if kind == "rnn":
        return CharRNN(n_letters, n_hidden, n_categories)
    raise ValueError(f"unknown model kind {kind!r}")


def classify(rnn, line_tensor):
    """Log-probabilities (1, n_categories) of one name tensor (L, 1, n_letters)."""
    if isinstance(rnn, RNN):
        hidden = rnn.initHidden()
        for i in range(line_tensor.size()[0]):
            output, hidden = rnn(line_tensor[i], hidden)
        return output
    return rnn(line_tensor)


def train_cell_step(rnn, category_tensor, line_tensor, learning_rate, criterion):
    """One name through the hand-made cell, backward, and the manual SGD update; the loss."""
    hidden = rnn.initHidden()
    rnn.zero_grad()
    for i in range(line_tensor.size()[0]):
        output, hidden = rnn(line_tensor[i], hidden)
    loss = criterion(output, category_tensor)
    loss.backward()
    # add the parameters' gradients to their values, multiplied by the learning rate
    for p in rnn.parameters():
        p.data.add_(p.grad.data, alpha=-learning_rate)
    return output, loss.item()


def randomTrainingExample(training_data, indices_by_label):
    """A dataset item of a random label, then a random name of it (the labels are balanced)."""
    label = random.choice(sorted(indices_by_label))
    return training_data[random.choice(indices_by_label[label])]


def train_cell(rnn, examples, learning_rate=0.005):
    """Train the hand-made cell on a list of dataset items, one step each; per-step losses."""
    criterion = nn.NLLLoss()
    rnn.train()
    losses = []
    for label_tensor, line_tensor, _label, _name in examples:
        _output, loss = train_cell_step(rnn, label_tensor, line_tensor, learning_rate, criterion)
        losses.append(loss)
    return losses


def collate_names(batch):
    """Dataset items -> (labels (B,), packed names, labels, names): names differ in length."""
    label_tensors, name_tensors, labels, names = zip(*batch)
    packed = nn.utils.rnn.pack_sequence([t.squeeze(1) for t in name_tensors], enforce_sorted=False)
    return torch.cat(label_tensors), packed, list(labels), list(names)


def make_loader(dataset, batch_size=64, shuffle=True, generator=None):
    """A DataLoader of packed mini-batches of names."""
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        collate_fn=collate_names,
        generator=generator,
    )


def train(rnn, loader, n_epoch=1, learning_rate=0.2, momentum=0.9, max_norm=3.0, device="cpu"):
    """Mini-batch training of CharRNN with SGD and clip_grad_norm_; per-batch mean losses."""
    criterion = nn.NLLLoss()
    optimizer = torch.optim.SGD(rnn.parameters(), lr=learning_rate, momentum=momentum)
    rnn.train()
    losses = []
    for _epoch in range(n_epoch):
        for label_tensor, packed, _labels, _names in loader:
            label_tensor, packed = label_tensor.to(device), packed.to(device)
            optimizer.zero_grad()
            output = rnn(packed)
            loss = criterion(output, label_tensor)
            loss.backward()
            nn.utils.clip_grad_norm_(rnn.parameters(), max_norm)
            optimizer.step()
            losses.append(loss.item())
    return losses


def shuffled_batches(n_items, n_batch_size):
    """The tutorial's batches: the indices 0..n_items-1 shuffled (random), split into arrays."""
    batches = list(range(n_items))
    random.shuffle(batches)
    return np.array_split(batches, max(len(batches) // n_batch_size, 1))


def train_items(rnn, training_data, batches, learning_rate=0.2, max_norm=3.0):
    """The tutorial's loop: per batch of indices, the summed NLL of its names one at a time,
    backward, clip_grad_norm_ and an SGD step; the per-batch mean losses."""
    criterion = nn.NLLLoss()
    optimizer = torch.optim.SGD(rnn.parameters(), lr=learning_rate)
    rnn.train()
    rnn.zero_grad()
    losses = []
    for batch in batches:
        batch_loss = 0
        for i in batch:  # each sequence has its own length: one name at a time
            (label_tensor, text_tensor, label, text) = training_data[i]
            output = rnn.forward(text_tensor)
            loss = criterion(output, label_tensor)
            batch_loss += loss
        # optimize parameters
        batch_loss.backward()
        nn.utils.clip_grad_norm_(rnn.parameters(), max_norm)
        optimizer.step()
        optimizer.zero_grad()
        losses.append(batch_loss.item() / len(batch))
    return losses


def label_from_output(output, output_labels):
    """The most likely label of one output (1, n_categories), and its index."""
    top_n, top_i = output.topk(1)
    label_i = top_i[0].item()
    return output_labels[label_i], label_i


def evaluate(rnn, testing_data, classes):
    """(accuracy, confusion (C, C) with rows normalised to sum 1) on a dataset."""
    confusion = torch.zeros(len(classes), len(classes))
    correct = 0
    rnn.eval()
    with torch.no_grad():
        for i in range(len(testing_data)):
            label_tensor, text_tensor, label, text = testing_data[i]
            output = classify(rnn, text_tensor)
            guess, guess_i = label_from_output(output, classes)
            label_i = classes.index(label)
            confusion[label_i][guess_i] += 1
            correct += int(guess_i == label_i)
    # normalise by dividing every row by its sum
    for i in range(len(classes)):
        denom = confusion[i].sum()
        if denom > 0:
            confusion[i] = confusion[i] / denom
    return correct / max(len(testing_data), 1), confusion


def predict(rnn, input_line, classes, n_predictions=2):
    """Print and return the n_predictions most likely labels of a name, as [log-prob, label]."""
    print(f"\n> {input_line}")
    rnn.eval()
    with torch.no_grad():
        output = classify(rnn, lineToTensor(input_line))
        # the top N categories
        topv, topi = output.topk(n_predictions, 1, True)
        predictions = []
        for i in range(n_predictions):
            value = topv[0][i].item()
            category_index = topi[0][i].item()
            print(f"({value:.2f}) {classes[category_index]}")
            predictions.append([value, classes[category_index]])
    return predictions


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="names file (tab-separated, see above)")
    parser.add_argument("--model", choices=["rnn", "cell"], default="rnn")
    parser.add_argument(
        "--loop",
        choices=["loader", "items"],
        default="loader",
        help="rnn model: packed DataLoader batches, or the tutorial's one name at a time",
    )
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=3, help="epochs of the rnn model")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=None, help="0.1 (rnn) or 0.02 (cell)")
    parser.add_argument("--steps", type=int, default=3000, help="names seen by the cell model")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    device = torch.device("cpu")
    if torch.cuda.is_available():
        device = torch.device("cuda")
    torch.set_default_device(device)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    alldata = NamesDataset(args.data)
    classes = alldata.labels_uniq
    train_set, test_set = split_data(alldata, device=device)
    print(f"{len(alldata)} names, labels {classes}: train {len(train_set)}, test {len(test_set)}")

    rnn = build_model(args.model, args.hidden, len(classes)).to(device)
    print(rnn)
    start = time.time()
    if args.model == "rnn" and args.loop == "loader":
        generator = torch.Generator().manual_seed(args.seed)
        loader = make_loader(train_set, args.batch_size, shuffle=True, generator=generator)
        lr = 0.1 if args.lr is None else args.lr
        losses = train(rnn, loader, n_epoch=args.epochs, learning_rate=lr, device=device)
    elif args.model == "rnn":
        lr = 0.1 if args.lr is None else args.lr
        losses = []
        for _ in range(args.epochs):
            batches = shuffled_batches(len(train_set), args.batch_size)
            losses += train_items(rnn, train_set, batches, learning_rate=lr)
    else:
        by_label = {label: [] for label in classes}
        for i in range(len(train_set)):
            by_label[train_set[i][2]].append(i)
        examples = [randomTrainingExample(train_set, by_label) for _ in range(args.steps)]
        lr = 0.02 if args.lr is None else args.lr
        losses = train_cell(rnn, examples, learning_rate=lr)
    every = max(len(losses) // 10, 1)
    for i in range(0, len(losses), every):
        recent = losses[i : i + every]
        print(f"step {i + len(recent):5d}  loss {sum(recent) / len(recent):.4f}")
    print(f"trained {len(losses)} steps in {time.time() - start:.1f} s")

    accuracy, confusion = evaluate(rnn, test_set, classes)
    print(f"test accuracy {accuracy:.3f}")
    print("confusion (rows: true label, columns: guess)")
    for i, label in enumerate(classes):
        print(f"{label:>8s} " + " ".join(f"{v:.3f}" for v in confusion[i]))
    for name in ["emma", "oliver", "jordan", "alexis"]:
        predict(rnn, name, classes)


if __name__ == "__main__":
    main()
