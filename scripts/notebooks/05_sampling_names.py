"""Notebook 05: a character-level language model of first names, and sampling new ones."""

# ruff: noqa: E501 - a LaTeX equation stays on one line of its Markdown cell

CELLS = [
    (
        "md",
        r"""
# 5. A character language model, and sampling names

A language model gives the probability of a sequence. By the chain rule of probability,

$$P(y^{\langle 1 \rangle}, \dots, y^{\langle T_y \rangle}) = \prod_{t=1}^{T_y} P(y^{\langle t \rangle} \mid y^{\langle 1 \rangle}, \dots, y^{\langle t-1 \rangle}),$$

so an RNN that reads the symbols so far and predicts a softmax over the next one is a language
model. The input at step $t$ is the previous symbol, $x^{\langle t \rangle} = y^{\langle t-1 \rangle}$,
starting from a begin symbol `<bos>` (the course's $x^{\langle 1 \rangle} = \vec 0$), and every name
ends with `<eos>`, so the model also learns when to stop. The summed cross-entropy is exactly
$-\log P$ of the training text. Here the symbols are characters and the texts are the 5163 US
first names bundled with tinygrad_seq.
""",
    ),
    (
        "code",
        """
%matplotlib inline
import time

import numpy as np

import tinygrad_seq as torch
from tinygrad_seq import viz  # tinygrad_seq's own tools
from tinygrad_seq.data import Vocab, names_dataset  # tinygrad_seq's own tools
from tinygrad_seq.tasks import (  # tinygrad_seq's own tools
    CharLM,
    evaluate_lm,
    limit_blas_threads,
    lm_batch,
    unigram_baseline,
)

torch.manual_seed(0)
nn = torch.nn
F = nn.functional

train_names, val_names = names_dataset()  # a seeded 90/10 split
vocab = Vocab.build(train_names)  # <pad> <unk> <bos> <eos>, then the letters by frequency
print(len(train_names), "training names, e.g.", train_names[:5], "|", len(vocab), "symbols")
x, lengths, y = lm_batch(["emma", "ann"], vocab)  # inputs <bos>+name, targets name+<eos>
print("inputs (T, m):\\n", x, "\\ntargets (T, m), -100 = padding:\\n", y)
assert (x[1:3] == y[0:2]).all()  # x<t> = y<t-1>
""",
    ),
    (
        "md",
        r"""
## The model and its training loop, the PyTorch way

`tinygrad_seq.tasks.CharLM` is an `nn.Embedding` (a learned table, the same as a one-hot vector
times a matrix but faster), an `nn.LSTM` and an `nn.Linear` head: ids `(T, m)` in, logits
`(T, m, V)` out. The loop below is the one you would write for PyTorch: Adam, the cross-entropy
of every real symbol (`ignore_index` skips the padding), `clip_grad_norm_` between `backward()`
and `step()`. About 400 steps of 32 names take a few seconds.
""",
    ),
    (
        "code",
        """
model = CharLM(len(vocab), hidden_size=64, cell="lstm")
print(model)
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
rng, losses, start = np.random.default_rng(0), [], time.perf_counter()
with limit_blas_threads(1):  # small matrices: one BLAS thread is fastest
    for _ in range(400):
        batch = [train_names[i] for i in rng.integers(0, len(train_names), size=32)]
        x, lengths, y = lm_batch(batch, vocab)
        logits, _ = model(torch.tensor(x), lengths=lengths)
        loss = F.cross_entropy(logits.reshape(-1, len(vocab)), y.reshape(-1), ignore_index=-100)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        losses.append(loss.item())
model.eval()

val_loss = evaluate_lm(model, vocab, val_names)
baseline = unigram_baseline(train_names, val_names, vocab)  # letter frequencies, no context
print(f"{time.perf_counter() - start:.1f} s; validation {val_loss:.3f} nats per character,")
print(f"against {baseline:.3f} for a model that ignores the context")
assert val_loss < baseline - 0.3
viz.plot_losses(losses, title="training loss per batch (nats per character)")
""",
    ),
    (
        "md",
        r"""
## Sampling, by hand

To generate, feed `<bos>`, turn the logits $z$ of the last step into probabilities, draw the next
character from them, feed it back as the next input, and stop at `<eos>`. A temperature $\tau$
reshapes the distribution,

$$p_k = \frac{\exp(z_k / \tau)}{\sum_j \exp(z_j / \tau)} :$$

$\tau < 1$ sharpens it (safer, more common names), $\tau > 1$ flattens it (stranger ones). The
recurrent state is carried from call to call, so each step costs one cell. `torch.sample` (the
package's `tinygrad_seq.sample`) is the same loop; with the same seed it draws the same names.
""",
    ),
    (
        "code",
        """
@torch.no_grad()
def sample_by_hand(model, vocab, temperature=1.0, seed=None, max_len=50):
    rng = np.random.default_rng(seed)
    logits, state = model(torch.tensor([[vocab.bos_index]]))  # (1, 1, V)
    out = []
    for _ in range(max_len):
        z = logits.numpy()[-1, 0].astype(np.float64) / temperature
        p = np.exp(z - z.max())
        nxt = int(rng.choice(p.size, p=p / p.sum()))
        if nxt == vocab.eos_index:
            break
        out.append(nxt)
        logits, state = model(torch.tensor([[nxt]]), state)
    return vocab.decode(out)


drawn = [sample_by_hand(model, vocab, seed=s) for s in range(8)]
print(drawn)
assert drawn == [torch.sample(model, vocab, seed=s) for s in range(8)]
""",
    ),
    (
        "code",
        """
known = set(train_names) | set(val_names)
for temperature in (0.5, 1.0, 1.5):
    names = [torch.sample(model, vocab, temperature=temperature, seed=s) for s in range(10)]
    new = sum(n not in known for n in names)
    print(f"tau = {temperature}: {new}/10 new:", ", ".join(names))
print("greedy (tau = 0):", torch.sample(model, vocab, temperature=0))
print("starting with 'jo':", [torch.sample(model, vocab, prefix="jo", seed=s) for s in range(5)])
""",
    ),
    (
        "md",
        r"""
## Scoring whole names

The same model scores a given text: $\log P$ is the sum, over its characters and the final
`<eos>`, of the log-probability the model gave each one. That is how the course's language model
decides which of two sentences was more likely said. `torch.log_likelihood` computes it:
""",
    ),
    (
        "code",
        """
scores = {name: torch.log_likelihood(model, vocab, name) for name in ("maria", "marie", "xzqk")}
for name, score in scores.items():
    print(f"log P({name!r}) = {score:.2f} nats")
assert scores["maria"] > scores["xzqk"] and scores["marie"] > scores["xzqk"]
""",
    ),
    (
        "md",
        r"""
After 400 steps the names are name-like; `examples/char_lm_names.py` trains for longer (ten
epochs, validation curve, checkpoint) and about two thirds of its samples are new names. Next,
[06_explorer.ipynb](06_explorer.ipynb): the interactive explorer of a model's graph and gradients.
""",
    ),
]
