"""Learn sine waves with two stacked LSTM cells and L-BFGS, then predict the waves' future.

In the style of the PyTorch example "time sequence prediction": the program makes N sine waves
of period 2 pi T, each shifted by a random phase and sampled at L points; a `Sequence` module
(two `nn.LSTMCell`s and an `nn.Linear`) reads each wave one value at a time and predicts the
next value. It is trained in float64 with `optim.LBFGS` and a closure, and then, under
`torch.no_grad()`, runs on by feeding its own predictions back as input ("future").
The first 3 waves are held out as the test set, the others are the training set.

    python tests/compat/time_sequence_prediction.py --steps 3 --plot
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import tinygrad_seq as torch

# a PyTorch user writes `import torch.nn as nn` and `import torch.optim as optim`
nn = torch.nn
optim = torch.optim

HIDDEN = 51


def make_sine_waves(n_waves: int = 20, length: int = 200, period: int = 20, seed: int = 2):
    """(N, L) float64 numpy array: sin((t + shift) / T), one random integer shift per wave."""
    rng = np.random.RandomState(seed)
    t = np.empty((n_waves, length), "int64")
    t[:] = np.arange(length) + rng.randint(-4 * period, 4 * period, n_waves).reshape(n_waves, 1)
    return np.sin(t / 1.0 / period).astype("float64")


def split_data(data):
    """(N, L) waves -> train input, train target (N-3, L-1), test input, test target (3, L-1)."""
    input = torch.from_numpy(data[3:, :-1])
    target = torch.from_numpy(data[3:, 1:])
    test_input = torch.from_numpy(data[:3, :-1])
    test_target = torch.from_numpy(data[:3, 1:])
    return input, target, test_input, test_target


class Sequence(nn.Module):
    """Two stacked LSTM cells and a linear read-out: (N, L) -> (N, L + future) next values."""

    def __init__(self):
        super().__init__()
        self.lstm1 = nn.LSTMCell(1, HIDDEN)
        self.lstm2 = nn.LSTMCell(HIDDEN, HIDDEN)
        self.linear = nn.Linear(HIDDEN, 1)

    def forward(self, input, future=0):
        outputs = []
        h_t = torch.zeros(input.size(0), HIDDEN, dtype=torch.double)
        c_t = torch.zeros(input.size(0), HIDDEN, dtype=torch.double)
        h_t2 = torch.zeros(input.size(0), HIDDEN, dtype=torch.double)
        c_t2 = torch.zeros(input.size(0), HIDDEN, dtype=torch.double)

        for input_t in input.split(1, dim=1):
            h_t, c_t = self.lstm1(input_t, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        for _ in range(future):  # predict the future: the last output is the next input
            h_t, c_t = self.lstm1(output, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        return torch.cat(outputs, dim=1)


def build_model():
    """A fresh Sequence in float64 (seed the framework first for a fixed start)."""
    seq = Sequence()
    seq.double()
    return seq


def make_optimizer(seq, lr=0.8, line_search_fn=None):
    """The example's optimizer: L-BFGS over all parameters."""
    return optim.LBFGS(seq.parameters(), lr=lr, line_search_fn=line_search_fn)


def train(seq, optimizer, input, target, steps, verbose=False):
    """`steps` calls of optimizer.step(closure) -> per step, the losses of all its closure calls."""
    criterion = nn.MSELoss()
    seq.train()
    losses = []

    def closure():
        optimizer.zero_grad()
        out = seq(input)
        loss = criterion(out, target)
        losses.append(loss.item())
        if verbose:
            print("loss:", loss.item())
        loss.backward()
        return loss

    history = []
    for i in range(steps):
        if verbose:
            print("STEP: ", i)
        first = len(losses)
        optimizer.step(closure)  # L-BFGS calls the closure up to max_iter (20) times
        history.append(losses[first:])
    return history


def predict(seq, test_input, test_target, future):
    """-> (test MSE over the known part, (3, L-1+future) numpy predictions)."""
    criterion = nn.MSELoss()
    seq.eval()
    with torch.no_grad():
        pred = seq(test_input, future=future)
        loss = criterion(pred[:, :-future], test_target) if future else criterion(pred, test_target)
        y = pred.detach().numpy()
    return loss.item(), y


def plot_predictions(y, known, path, title=""):
    """Draw each wave: its known part solid, its predicted future dotted; save to path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.figure(figsize=(15, 5))
    plt.title(title or "predict future values (dotted lines are predicted values)")
    plt.xlabel("x")
    plt.ylabel("y")
    for wave, color in zip(y, ["r", "g", "b"]):
        plt.plot(np.arange(known), wave[:known], color, linewidth=2.0)
        plt.plot(np.arange(known, len(wave)), wave[known:], color + ":", linewidth=2.0)
    plt.savefig(path)
    plt.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3, help="L-BFGS steps (the example: 15)")
    parser.add_argument("--waves", type=int, default=20, help="number of sine waves N")
    parser.add_argument("--length", type=int, default=200, help="samples per wave L")
    parser.add_argument("--future", type=int, default=200, help="values to predict ahead")
    parser.add_argument("--strong-wolfe", action="store_true", help="use the line search")
    parser.add_argument("--plot", action="store_true", help="save predict<step>.png figures")
    parser.add_argument("--plot-dir", default=".", help="where the figures go")
    args = parser.parse_args(argv)

    # fix the seeds, as the example does
    np.random.seed(0)
    torch.manual_seed(0)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    data = make_sine_waves(args.waves, args.length)
    input, target, test_input, test_target = (t.to(device) for t in split_data(data))
    seq = build_model().to(device)
    line_search = "strong_wolfe" if args.strong_wolfe else None
    optimizer = make_optimizer(seq, line_search_fn=line_search)
    start = time.time()
    for i in range(args.steps):
        train(seq, optimizer, input, target, 1, verbose=True)
        test_loss, y = predict(seq, test_input, test_target, args.future)
        print("test loss:", test_loss)
        if args.plot:
            path = f"{args.plot_dir}/predict{i}.png"
            plot_predictions(y, input.size(1), path)
            print("saved", path)
    print(f"done in {time.time() - start:.1f} s")


if __name__ == "__main__":
    main()
