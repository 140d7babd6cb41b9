"""Notebook 06: the interactive explorer of a model's unrolled graph, values and gradients."""

CELLS = [
    (
        "md",
        r"""
# 6. The explorer

The drawings of the earlier notebooks are pictures of one moment. `viz.explore(loss, params=model)`
builds an interactive page of the same unrolled graph instead: move through the time steps and
look at the ops, their values and their gradients, the named parameters of `model` included.
In a notebook it shows itself; `.save(path)` writes it as one self-contained HTML file that any
browser opens, to share or to keep beside a training run.

The model is the character language model of notebook 5, untrained and small, on two names, so
that every time step stays readable.
""",
    ),
    (
        "code",
        """
from pathlib import Path

import numpy as np

import tinygrad_seq as torch
from tinygrad_seq import viz  # tinygrad_seq's own tools
from tinygrad_seq.data import Vocab  # tinygrad_seq's own tools
from tinygrad_seq.tasks import CharLM, lm_batch  # tinygrad_seq's own tools

torch.manual_seed(0)
nn = torch.nn
F = nn.functional

names = ["emma", "anna"]
vocab = Vocab.build(names)
model = CharLM(len(vocab), hidden_size=8, cell="lstm")
x, lengths, y = lm_batch(names, vocab)  # (T, m): <bos>+name -> name+<eos>
logits, _ = model(torch.tensor(x), lengths=lengths)
loss = F.cross_entropy(logits.reshape(-1, len(vocab)), y.reshape(-1), ignore_index=-100)
print(f"T = {x.shape[0]} steps, m = {x.shape[1]} names, loss {loss.item():.3f}")
""",
    ),
    (
        "code",
        """
explorer = viz.explore(loss, params=model)
explorer
""",
    ),
    (
        "md",
        r"""
The same page as a file:
""",
    ),
    (
        "code",
        """
explorer.save("explorer.html")
page = Path("explorer.html")
print(f"{page.resolve()}: {page.stat().st_size / 1024:.0f} KiB")
assert page.stat().st_size > 1000 and "<html" in page.read_text().lower()
assert np.isfinite(loss.item())
""",
    ),
    (
        "md",
        r"""
That is the tour: the cell forward ([01](01_rnn_cell_forward.ipynb)), BPTT by hand
([02](02_bptt_by_hand.ipynb)), vanishing and exploding gradients
([03](03_vanishing_exploding.ipynb)), GRU and LSTM ([04](04_gru_lstm.ipynb)), sampling names
([05](05_sampling_names.ipynb)). The derivations behind `tinygrad_seq.manual` are in
docs/backward.md, and docs/tutorial.md covers the same ground, and a little more, on one page.
""",
    ),
]
