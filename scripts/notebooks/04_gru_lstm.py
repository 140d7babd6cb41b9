"""Notebook 04: the GRU and the LSTM, course equations beside nn.GRUCell / nn.LSTMCell."""

# ruff: noqa: E501 - a LaTeX equation stays on one line of its Markdown cell

CELLS = [
    (
        "md",
        r"""
# 4. GRU and LSTM

Both cells keep a memory $c^{\langle t \rangle}$ that is updated by *gating*: sigmoid gates
$\Gamma \in (0, 1)$ decide, unit by unit, how much of the old memory to keep and how much of a
candidate $\tilde c^{\langle t \rangle}$ to write. Where the memory is kept, the gradient flows
back unchanged: the cure for the vanishing gradients of notebook 3. As before, every equation
is written in numpy in the course's notation and checked against `tinygrad_seq.manual` and
against the PyTorch-style modules, whose parameter names, shapes and gate order are PyTorch's.
""",
    ),
    (
        "code",
        """
%matplotlib inline
import numpy as np

import tinygrad_seq as torch
from tinygrad_seq import manual, viz  # tinygrad_seq's own tools
from tinygrad_seq.check import compare_gradients  # tinygrad_seq's own tools

torch.manual_seed(0)
nn = torch.nn


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


rng = np.random.default_rng(4)
n_x, n_a, m = 3, 4, 2
xt, c_prev = rng.standard_normal((n_x, m)), rng.standard_normal((n_a, m))  # x<t>, c<t-1>
""",
    ),
    (
        "md",
        r"""
## The GRU of the course

The GRU's memory is also its activation, $a^{\langle t \rangle} = c^{\langle t \rangle}$. Two gates,
relevance $\Gamma_r$ and update $\Gamma_u$, read $[c^{\langle t-1 \rangle}, x^{\langle t \rangle}]$
(the two stacked into one column of $n_a + n_x$ rows):

$$\Gamma_r = \sigma\left(W_r [c^{\langle t-1 \rangle}, x^{\langle t \rangle}] + b_r\right), \qquad
\Gamma_u = \sigma\left(W_u [c^{\langle t-1 \rangle}, x^{\langle t \rangle}] + b_u\right),$$

$$\tilde c^{\langle t \rangle} = \tanh\left(W_c [\Gamma_r \odot c^{\langle t-1 \rangle}, x^{\langle t \rangle}] + b_c\right), \qquad
c^{\langle t \rangle} = \Gamma_u \odot \tilde c^{\langle t \rangle} + (1 - \Gamma_u) \odot c^{\langle t-1 \rangle}.$$

`nn.GRUCell(..., reset_after=False)` is this cell; `manual.module_to_course` reads its weights as
the course's $W_r, W_u, W_c$ of shape $(n_a, n_a + n_x)$.
""",
    ),
    (
        "code",
        """
def gru_step(xt, c_prev, p):
    concat = np.concatenate([c_prev, xt])  # [c<t-1>, x<t>], (n_a + n_x, m)
    gr = sigmoid(p["Wr"] @ concat + p["br"])
    gu = sigmoid(p["Wu"] @ concat + p["bu"])
    cct = np.tanh(p["Wc"] @ np.concatenate([gr * c_prev, xt]) + p["bc"])
    return gu * cct + (1 - gu) * c_prev


gru_course = nn.GRUCell(n_x, n_a, reset_after=False).double()
p = manual.module_to_course(gru_course)
print({k: v.shape for k, v in p.items()})
c_next = gru_step(xt, c_prev, p)
c_ref, _, _ = manual.gru_cell_forward(xt, c_prev, p, variant="course")
c_nn = gru_course(torch.tensor(xt.T), torch.tensor(c_prev.T)).detach().numpy().T
d_ref, d_nn = np.abs(c_next - c_ref).max(), np.abs(c_next - c_nn).max()
print(f"max |by hand - manual| {d_ref:.1e}, max |by hand - nn| {d_nn:.1e}")
assert np.allclose(c_next, c_ref, atol=1e-14) and np.allclose(c_next, c_nn, atol=1e-14)
""",
    ),
    (
        "md",
        r"""
## PyTorch's GRU

PyTorch (and cuDNN, and Keras by default) applies the reset gate *after* the hidden matrix
product, bias included, and calls the update gate $z = 1 - \Gamma_u$. With the gates stacked in
the order $r, z, n$ in the rows of `weight_ih` and `weight_hh`:

$$r = \sigma(W_{ir} x + b_{ir} + W_{hr} h + b_{hr}), \qquad z = \sigma(W_{iz} x + b_{iz} + W_{hz} h + b_{hz}),$$

$$n = \tanh\left(W_{in} x + b_{in} + r \odot (W_{hn} h + b_{hn})\right), \qquad h' = (1 - z) \odot n + z \odot h .$$

This is `nn.GRU`'s default (`reset_after=True`); the manual code has it as `variant="pytorch"`,
which keeps $W_{hn}$ and $b_{hn}$ apart (`Wcc`, `bhc`). Since $1 - \sigma(s) = \sigma(-s)$, the
course's $W_u$ is minus PyTorch's $z$ rows.
""",
    ),
    (
        "code",
        """
gru = nn.GRUCell(n_x, n_a).double()  # reset_after=True
q = manual.module_to_course(gru)
print(sorted(q))
W_hz = gru.weight_hh.detach().numpy()[n_a : 2 * n_a]  # rows n_a..2n_a: the z gate
assert np.array_equal(q["Wu"][:, :n_a], -W_hz)
c_ref, _, _ = manual.gru_cell_forward(xt, c_prev, q, variant="pytorch")
c_nn = gru(torch.tensor(xt.T), torch.tensor(c_prev.T)).detach().numpy().T
assert np.allclose(c_ref, c_nn, atol=1e-14)
""",
    ),
    (
        "md",
        r"""
And the backward pass: `compare_gradients` runs the hand-derived GRU backward of `manual/`
(derivations in docs/backward.md) against autodiff and finite differences, for both variants.
""",
    ),
    (
        "code",
        """
x_seq = rng.standard_normal((5, m, n_x))  # (T_x, m, n_x)
reports = {ra: compare_gradients(nn.GRU(n_x, n_a, reset_after=ra), x_seq) for ra in (True, False)}
assert all(r.ok for r in reports.values())
reports[False]  # the course's variant
""",
    ),
    (
        "md",
        r"""
## The LSTM

The LSTM keeps the memory $c^{\langle t \rangle}$ apart from the activation $a^{\langle t \rangle}$
and has three gates, update, forget and output, all reading $[a^{\langle t-1 \rangle}, x^{\langle t \rangle}]$:

$$\Gamma_u = \sigma\left(W_u [a^{\langle t-1 \rangle}, x^{\langle t \rangle}] + b_u\right), \quad
\Gamma_f = \sigma\left(W_f [\cdot] + b_f\right), \quad
\Gamma_o = \sigma\left(W_o [\cdot] + b_o\right), \quad
\tilde c^{\langle t \rangle} = \tanh\left(W_c [\cdot] + b_c\right),$$

$$c^{\langle t \rangle} = \Gamma_u \odot \tilde c^{\langle t \rangle} + \Gamma_f \odot c^{\langle t-1 \rangle}, \qquad
a^{\langle t \rangle} = \Gamma_o \odot \tanh c^{\langle t \rangle}.$$

PyTorch calls the update gate $i$ (input) and the candidate $g$, and stacks the four blocks in
the order **i, f, g, o**. The manual code names the update gate `Wi`, like PyTorch, and the
candidate `Wc`, like the course.
""",
    ),
    (
        "code",
        """
def lstm_step(xt, a_prev, c_prev, p):
    concat = np.concatenate([a_prev, xt])
    gu, gf, go = (sigmoid(p[f"W{k}"] @ concat + p[f"b{k}"]) for k in "ifo")
    cct = np.tanh(p["Wc"] @ concat + p["bc"])
    c_next = gu * cct + gf * c_prev
    return go * np.tanh(c_next), c_next


lstm_cell = nn.LSTMCell(n_x, n_a).double()
p = manual.module_to_course(lstm_cell)
print({k: v.shape for k, v in p.items()})
a_prev = rng.standard_normal((n_a, m))
a_next, c_next = lstm_step(xt, a_prev, c_prev, p)
a_ref, c_ref, _, _ = manual.lstm_cell_forward(xt, a_prev, c_prev, p)
h, c = lstm_cell(torch.tensor(xt.T), (torch.tensor(a_prev.T), torch.tensor(c_prev.T)))
assert np.allclose(a_next, a_ref, atol=1e-14) and np.allclose(c_next, c_ref, atol=1e-14)
assert np.allclose(a_next, h.detach().numpy().T, atol=1e-14)
assert np.allclose(c_next, c.detach().numpy().T, atol=1e-14)

lstm_report = compare_gradients(nn.LSTM(n_x, n_a), x_seq)
assert lstm_report.ok
lstm_report
""",
    ),
    (
        "md",
        r"""
## The gates over time

`viz.lstm_gate_activations(lstm, x)` recomputes the four gates of one sequence with the layer's
own weights and `viz.plot_gates` draws them, hidden units down and time steps across. An
untrained LSTM has every gate near $\sigma(0) = 0.5$; after training some units keep their
forget gate near 1 (long memory) and open their update gate only for particular inputs.
""",
    ),
    (
        "code",
        """
lstm = nn.LSTM(n_x, 8)
gates = viz.lstm_gate_activations(lstm, torch.randn(30, n_x))
print({k: v.shape for k, v in gates.items()})
assert all(0 < g.min() and g.max() < 1 for k, g in gates.items() if k != "g")
viz.plot_gates(gates)
""",
    ),
    (
        "md",
        r"""
Drawn with one node per step, the LSTM hands on two states, the edges labelled `h`
($a^{\langle t \rangle}$) and `c` ($c^{\langle t \rangle}$).
""",
    ),
    (
        "code",
        """
out, (h_n, c_n) = lstm(torch.randn(4, 1, n_x))
graph = viz.draw_graph(out.sum(), params=lstm, collapse="cell")
assert graph.source.count("[label=c]") == 3  # c<t> handed from each step to the next
graph
""",
    ),
    (
        "md",
        r"""
Next, [05_sampling_names.ipynb](05_sampling_names.ipynb): a character-level language model
that samples new names.
""",
    ),
]
