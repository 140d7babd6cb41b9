"""Notebook 01: one RNN step, the course's numpy beside nn.RNNCell, then a whole sequence."""

# ruff: noqa: E501 - a LaTeX equation stays on one line of its Markdown cell

CELLS = [
    (
        "md",
        r"""
# 1. The RNN cell, forward: the course's numpy beside `nn.RNNCell`

The course's first assignment builds a recurrent network by hand: one time step
(`rnn_cell_forward`), then a loop over the $T_x$ steps (`rnn_forward`). This notebook does the
same in numpy, with the course's shapes, and puts the PyTorch-style modules of tinygrad_seq next
to it: same numbers, different layouts and names.

| symbol | meaning | shape in the course |
|---|---|---|
| $x^{\langle t \rangle}$ | input at step $t$, one column per example | $(n_x, m)$ |
| $a^{\langle t \rangle}$ | activation (hidden state) after step $t$, $a^{\langle 0 \rangle}$ given | $(n_a, m)$ |
| $\hat y^{\langle t \rangle}$ | prediction at step $t$ | $(n_y, m)$ |
| $x$, $a$ | the whole sequence, step $t$ is `x[:, :, t]` | $(n_x, m, T_x)$, $(n_a, m, T_x)$ |

One step reads $x^{\langle t \rangle}$ and $a^{\langle t-1 \rangle}$:

$$a^{\langle t \rangle} = \tanh\left(W_{aa}\, a^{\langle t-1 \rangle} + W_{ax}\, x^{\langle t \rangle} + b_a\right),
\qquad
\hat y^{\langle t \rangle} = \mathrm{softmax}\left(W_{ya}\, a^{\langle t \rangle} + b_y\right).$$

The same $W_{aa}, W_{ax}, b_a, W_{ya}, b_y$ serve every step.
""",
    ),
    (
        "code",
        """
%matplotlib inline
import numpy as np

import tinygrad_seq as torch
from tinygrad_seq import manual, viz  # tinygrad_seq's own tools: numpy reference, drawings

torch.manual_seed(0)  # one seeded generator for the initial weights
nn = torch.nn
""",
    ),
    (
        "md",
        r"""
## One step in numpy, the course's way

Parameters are a dict of arrays, batches are columns. The step below is the equation above,
line by line; `manual.rnn_cell_forward` is tinygrad_seq's reference version of the same step
(it also returns the cache that the backward pass of notebook 2 needs).
""",
    ),
    (
        "code",
        """
rng = np.random.default_rng(1)
n_x, n_a, n_y, m = 3, 5, 2, 10
xt = rng.standard_normal((n_x, m))  # x<t>
a_prev = rng.standard_normal((n_a, m))  # a<t-1>
parameters = {
    "Waa": rng.standard_normal((n_a, n_a)),
    "Wax": rng.standard_normal((n_a, n_x)),
    "ba": rng.standard_normal((n_a, 1)),
    "Wya": rng.standard_normal((n_y, n_a)),
    "by": rng.standard_normal((n_y, 1)),
}


def softmax(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))  # over axis 0: the classes of each column
    return e / e.sum(axis=0, keepdims=True)


def step(xt, a_prev, p):
    a_next = np.tanh(p["Waa"] @ a_prev + p["Wax"] @ xt + p["ba"])
    yt_pred = softmax(p["Wya"] @ a_next + p["by"])
    return a_next, yt_pred


a_next, yt_pred = step(xt, a_prev, parameters)
a_ref, y_ref, cache = manual.rnn_cell_forward(xt, a_prev, parameters)
print("a_next", a_next.shape, "yt_pred", yt_pred.shape)
print("a_next[4] =", a_next[4].round(4))
assert np.allclose(a_next, a_ref) and np.allclose(yt_pred, y_ref)
assert np.allclose(yt_pred.sum(axis=0), 1.0)  # each column is a distribution
""",
    ),
    (
        "md",
        r"""
## The same step with `nn.RNNCell`

PyTorch (and tinygrad_seq) names the weights after what they multiply and lays a batch out as
rows, `(m, n_x)`:

| course | `nn.RNNCell` | shape |
|---|---|---|
| $W_{ax}$ | `weight_ih` | $(n_a, n_x)$ |
| $W_{aa}$ | `weight_hh` | $(n_a, n_a)$ |
| $b_a$ | `bias_ih + bias_hh` | $(n_a,)$: two biases, always added |
| $x^{\langle t \rangle}$, $a^{\langle t \rangle}$ | `input`, `hx` | $(m, n_x)$, $(m, n_a)$: transposed |

The output layer $W_{ya}, b_y$ is not part of the cell: it is an `nn.Linear(n_a, n_y)`.
`manual.course_to_module` writes a course dict into a module (all of $b_a$ into `bias_ih`);
`.double()` keeps the float64 of numpy so the comparison is exact.
""",
    ),
    (
        "code",
        """
cell = nn.RNNCell(n_x, n_a).double()
manual.course_to_module({k: parameters[k] for k in ("Wax", "Waa", "ba")}, cell)
head = nn.Linear(n_a, n_y).double()
head.load_state_dict(
    {"weight": torch.tensor(parameters["Wya"]), "bias": torch.tensor(parameters["by"][:, 0])}
)
print([(name, tuple(p.shape)) for name, p in cell.named_parameters()])

h = cell(torch.tensor(xt.T), torch.tensor(a_prev.T))  # (m, n_a): one row per example
y_hat = torch.softmax(head(h), dim=1)  # (m, n_y)
diff_a = np.abs(h.detach().numpy().T - a_next).max()
diff_y = np.abs(y_hat.detach().numpy().T - yt_pred).max()
print(f"max |nn - course|: a<t> {diff_a:.1e}, y_hat<t> {diff_y:.1e}")
assert diff_a < 1e-12 and diff_y < 1e-12
""",
    ),
    (
        "md",
        r"""
The engine recorded every op of that step. `viz.draw_graph` draws them, data flowing left to
right: `Add` sums the two biases into $b_a$, `Linear` computes $W_{ax} x^{\langle t \rangle} + b_a$,
`AddMM` adds $W_{aa} a^{\langle t-1 \rangle}$ (with `weight_hh` transposed by `Permute`), then
`Tanh`, the output layer and the `Softmax`. Yellow boxes are parameters, named because they were
passed as `params`; green boxes are the inputs $x^{\langle t \rangle}$ and $a^{\langle t-1 \rangle}$.
""",
    ),
    (
        "code",
        """
viz.draw_graph(y_hat, params={**dict(cell.named_parameters()), "Wya": head.weight, "by": head.bias})
""",
    ),
    (
        "md",
        r"""
## A whole sequence: `rnn_forward` beside `nn.RNN`

The course loops over $t = 1, \dots, T_x$, feeding each $a^{\langle t \rangle}$ into the next
step, and stacks the activations into $a$ of shape $(n_a, m, T_x)$. `nn.RNN` runs the same loop
on a `(T_x, m, n_x)` tensor and returns every $a^{\langle t \rangle}$ as `(T_x, m, n_a)` and the
last one as `h_n`. `manual.sequence_to_course` / `sequence_from_course` convert between the two
layouts (they are transposes).
""",
    ),
    (
        "code",
        """
T_x = 4
x = rng.standard_normal((n_x, m, T_x))
a0 = np.zeros((n_a, m))
a, y_pred, caches = manual.rnn_forward(x, a0, parameters)
print("course:", "a", a.shape, "y_pred", y_pred.shape, "caches", len(caches[0]))

rnn = nn.RNN(n_x, n_a).double()  # parameters weight_ih_l0, weight_hh_l0, bias_ih_l0, ...
manual.course_to_module({k: parameters[k] for k in ("Wax", "Waa", "ba")}, rnn)
out, h_n = rnn(torch.tensor(manual.sequence_from_course(x)))  # (T_x, m, n_a), (1, m, n_a)
print("nn.RNN: out", tuple(out.shape), "h_n", tuple(h_n.shape))

diff = np.abs(manual.sequence_to_course(out.detach().numpy()) - a).max()
print(f"max |nn - course| over all steps: {diff:.1e}")
assert diff < 1e-12
assert np.allclose(h_n.detach().numpy()[0].T, a[:, :, -1])  # h_n is a<T_x>
""",
    ),
    (
        "md",
        r"""
Unrolled, the recurrent layer is just more of the same ops: one shaded box per time step, the
edge labelled `h` carrying $a^{\langle t \rangle}$ into step $t+1$. The input products
$W_{ax} x^{\langle t \rangle}$ of all steps are computed in one matrix product before the loop,
and the single transposed `weight_hh_l0` feeds every step: one shared matrix.
""",
    ),
    (
        "code",
        """
loss = out.sum()
viz.draw_graph(loss, params=rnn)
""",
    ),
    (
        "md",
        r"""
Next, [02_bptt_by_hand.ipynb](02_bptt_by_hand.ipynb): the backward pass of this cell by hand,
through time, against autodiff.
""",
    ),
]
