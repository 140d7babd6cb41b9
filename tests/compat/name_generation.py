"""Generate first names of a given sex, letter by letter, with a conditional character-level RNN.

Written in the style of the PyTorch tutorial "NLP From Scratch: Generating Names with a
Character-Level RNN": the network reads (category one-hot, current letter one-hot, hidden
state) and outputs log-probabilities of the next letter, EOS included (i2h, i2o and o2o
linear layers, dropout and LogSoftmax). Training feeds one name at a time (`inputTensor`,
`targetTensor`), sums nn.NLLLoss over its letters and updates the weights by hand with
`p.data.add_`. Sampling starts from a letter and either takes the most likely next letter
(`output.topk(1)`) or draws one from the softened distribution (`torch.multinomial`).

The data is a tab-separated file of names (the US census names corpus: '#' comment lines, a
header `name sex male_pct female_pct`, one name per line). Run it as

    python name_generation.py --data names.tsv
"""

import argparse
import random
import string
import time

import tinygrad_seq as torch

# a PyTorch user would write `import torch.nn as nn`
nn = torch.nn

all_letters = string.ascii_lowercase
n_letters = len(all_letters) + 1  # plus the EOS marker, index n_letters - 1


def read_category_lines(path):
    """{sex: [names]} from a names file ('#' comments, a tab-separated header, rows)."""
    category_lines = {}
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
            category_lines.setdefault(row["sex"], []).append(row["name"])
    return category_lines


class RNN(nn.Module):
    """(category (1, C), letter (1, n_letters), hidden (1, H)) -> (log-probs (1, O), hidden)."""

    def __init__(self, n_categories, input_size, hidden_size, output_size, dropout=0.1):
        super().__init__()
        self.hidden_size = hidden_size
        self.i2h = nn.Linear(n_categories + input_size + hidden_size, hidden_size)
        self.i2o = nn.Linear(n_categories + input_size + hidden_size, output_size)
        self.o2o = nn.Linear(hidden_size + output_size, output_size)
        self.dropout = nn.Dropout(dropout)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, category, input, hidden):
        input_combined = torch.cat((category, input, hidden), 1)
        hidden = self.i2h(input_combined)
        output = self.i2o(input_combined)
        output_combined = torch.cat((hidden, output), 1)
        output = self.o2o(output_combined)
        output = self.dropout(output)
        output = self.softmax(output)
        return output, hidden

    def initHidden(self):
        return torch.zeros(1, self.hidden_size)


def build_model(n_categories, n_hidden=128, dropout=0.1):
    """The conditional RNN over n_letters symbols (a-z and EOS)."""
    return RNN(n_categories, n_letters, n_hidden, n_letters, dropout=dropout)


def randomChoice(items):
    """A random element of a list (Python's random module)."""
    return items[random.randint(0, len(items) - 1)]


def randomTrainingPair(all_categories, category_lines):
    """A random category, then a random name of it."""
    category = randomChoice(all_categories)
    line = randomChoice(category_lines[category])
    return category, line


def categoryTensor(category, all_categories):
    """The category as a one-hot (1, n_categories) tensor."""
    li = all_categories.index(category)
    tensor = torch.zeros(1, len(all_categories))
    tensor[0][li] = 1
    return tensor


def inputTensor(line):
    """The letters of a name, first to last, as one-hot (len(line), 1, n_letters)."""
    tensor = torch.zeros(len(line), 1, n_letters)
    for li in range(len(line)):
        letter = line[li]
        tensor[li][0][all_letters.find(letter)] = 1
    return tensor


def targetTensor(line):
    """The letters of a name from the second on, then EOS, as indices (len(line),)."""
    letter_indexes = [all_letters.find(line[li]) for li in range(1, len(line))]
    letter_indexes.append(n_letters - 1)  # EOS
    return torch.LongTensor(letter_indexes)


def trainingExample(category, line, all_categories):
    """(category (1, C), input (L, 1, n_letters), target (L,)) tensors of one name."""
    category_tensor = categoryTensor(category, all_categories)
    input_line_tensor = inputTensor(line)
    target_line_tensor = targetTensor(line)
    return category_tensor, input_line_tensor, target_line_tensor


def train_step(rnn, category_tensor, input_line_tensor, target_line_tensor, learning_rate):
    """One name: the summed NLL over its letters, backward, the manual update; mean loss."""
    criterion = nn.NLLLoss()
    target_line_tensor.unsqueeze_(-1)
    hidden = rnn.initHidden()
    rnn.zero_grad()
    loss = torch.Tensor([0])  # you can also just simply use `loss = 0`
    for i in range(input_line_tensor.size(0)):
        output, hidden = rnn(category_tensor, input_line_tensor[i], hidden)
        step_loss = criterion(output, target_line_tensor[i])
        loss += step_loss
    loss.backward()
    for p in rnn.parameters():
        p.data.add_(p.grad.data, alpha=-learning_rate)
    return output, loss.item() / input_line_tensor.size(0)


def train(rnn, pairs, all_categories, learning_rate=0.0005):
    """Train on a list of (category, name) pairs, one step each; the per-step mean losses."""
    rnn.train()
    losses = []
    for category, line in pairs:
        tensors = trainingExample(category, line, all_categories)
        _output, loss = train_step(rnn, *tensors, learning_rate)
        losses.append(loss)
    return losses


def sample(rnn, category, all_categories, start_letter="a", max_length=20):
    """A name from a start letter, always taking the most likely next letter (topk(1))."""
    rnn.eval()
    with torch.no_grad():  # no need to track history in sampling
        category_tensor = categoryTensor(category, all_categories)
        input = inputTensor(start_letter)
        hidden = rnn.initHidden()
        output_name = start_letter
        for _ in range(max_length):
            output, hidden = rnn(category_tensor, input[0], hidden)
            topv, topi = output.topk(1)
            topi = topi[0][0]
            if topi == n_letters - 1:
                break
            letter = all_letters[topi]
            output_name += letter
            input = inputTensor(letter)
        return output_name


def sample_multinomial(
    rnn, category, all_categories, start_letter="a", temperature=0.8, max_length=20
):
    """A name drawn letter by letter from exp(log-probs / temperature), and those
    distributions as lists of n_letters probabilities (one per letter drawn)."""
    rnn.eval()
    with torch.no_grad():
        category_tensor = categoryTensor(category, all_categories)
        input = inputTensor(start_letter)
        hidden = rnn.initHidden()
        output_name = start_letter
        distributions = []
        for _ in range(max_length):
            output, hidden = rnn(category_tensor, input[0], hidden)
            # divide the log-probabilities by the temperature: below 1, likely letters win more
            output_dist = output.data.view(-1).div(temperature).exp()
            distributions.append((output_dist / output_dist.sum()).tolist())
            top_i = torch.multinomial(output_dist, 1)[0].item()
            if top_i == n_letters - 1:
                break
            letter = all_letters[top_i]
            output_name += letter
            input = inputTensor(letter)
        return output_name, distributions


def next_letter_distributions(rnn, category, all_categories, name, temperature=0.8):
    """The distributions sample_multinomial would draw from to produce `name` (teacher forcing):
    one list of n_letters probabilities per letter drawn after the first."""
    rnn.eval()
    with torch.no_grad():
        category_tensor = categoryTensor(category, all_categories)
        input_line_tensor = inputTensor(name)
        hidden = rnn.initHidden()
        distributions = []
        for i in range(input_line_tensor.size(0)):
            output, hidden = rnn(category_tensor, input_line_tensor[i], hidden)
            output_dist = output.view(-1).div(temperature).exp()
            distributions.append((output_dist / output_dist.sum()).tolist())
        return distributions


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="names file (tab-separated, see above)")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--steps", type=int, default=4000, help="training names (one step each)")
    parser.add_argument("--lr", type=float, default=0.005)
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    category_lines = read_category_lines(args.data)
    all_categories = sorted(category_lines)
    counts = ", ".join(f"{c} {len(category_lines[c])}" for c in all_categories)
    print(f"categories: {counts}")

    rnn = build_model(len(all_categories), args.hidden).to(device)
    print(rnn)
    pairs = [randomTrainingPair(all_categories, category_lines) for _ in range(args.steps)]
    start = time.time()
    losses = train(rnn, pairs, all_categories, learning_rate=args.lr)
    every = max(len(losses) // 10, 1)
    for i in range(0, len(losses), every):
        recent = losses[i : i + every]
        print(f"step {i + len(recent):6d}  loss {sum(recent) / len(recent):.4f}")
    print(f"trained {len(losses)} steps in {time.time() - start:.1f} s")

    for category in all_categories:
        greedy = [sample(rnn, category, all_categories, letter) for letter in "ajmrs"]
        print(f"{category:>8s} greedy: {' '.join(greedy)}")
        drawn = [
            sample_multinomial(rnn, category, all_categories, letter, args.temperature)[0]
            for letter in "ajmrs"
        ]
        print(f"{category:>8s} sampled (temperature {args.temperature}): {' '.join(drawn)}")


if __name__ == "__main__":
    main()
