"""Notebook 02: backpropagation through time by hand, against autodiff, with compare_gradients."""

# ruff: noqa: E501 - a LaTeX equation stays on one line of its Markdown cell

CELLS = [
    (
        "md",
        r"""
# 2. Backpropagation through time: by hand beside autodiff

A language model scores every step: the loss is the sum of the per-step cross-entropies,

$$\mathcal L = \sum_{t=1}^{T_y} \mathcal L^{\langle t \rangle}\left(\hat y^{\langle t \rangle}, y^{\langle t \rangle}\right),
\qquad \mathcal L^{\langle t \rangle} = -\sum_k y^{\langle t \rangle}_k \log \hat y^{\langle t \rangle}_k .$$

Backpropagation through time (BPTT) is the chain rule on the unrolled network, from the last
step back to the first. This notebook derives it for the RNN cell, writes it in numpy, and checks
it three ways: against `tinygrad_seq.manual` (the reference in the course's notation), against
autodiff (`loss.backward()`, the ordinary graph walk), and against finite differences.
""",
    ),
    (
        "code",
        """
import numpy as np

import tinygrad_seq as torch
from tinygrad_seq import manual, viz  # tinygrad_seq's own tools
from tinygrad_seq.check import compare_gradients  # tinygrad_seq's own tools

torch.manual_seed(0)
nn = torch.nn
F = nn.functional
""",
    ),
    (
        "md",
        r"""
## One cell backward

Write $z = W_{aa} a^{\langle t-1 \rangle} + W_{ax} x^{\langle t \rangle} + b_a$, so that
$a^{\langle t \rangle} = \tanh z$. Given the gradient $da_{next} = \partial \mathcal L / \partial a^{\langle t \rangle}$
(shape $(n_a, m)$), the chain rule through the tanh and the two matrix products gives

$$dz = da_{next} \odot \left(1 - (a^{\langle t \rangle})^2\right), \qquad
dx^{\langle t \rangle} = W_{ax}^\top dz, \qquad
da_{prev} = W_{aa}^\top dz,$$

$$dW_{ax} = dz\, (x^{\langle t \rangle})^\top, \qquad
dW_{aa} = dz\, (a^{\langle t-1 \rangle})^\top, \qquad
db_a = \sum_{i=1}^{m} dz_{:, i} .$$

Below: those six lines in numpy, then the same forward written with tinygrad_seq tensors in the
course's layout, differentiated by `backward()`. A loss $\sum (a^{\langle t \rangle} \odot G)$
makes the upstream gradient exactly $G$.
""",
    ),
    (
        "code",
        """
rng = np.random.default_rng(2)
n_x, n_a, m = 3, 5, 4
p = {
    "Wax": rng.standard_normal((n_a, n_x)) * 0.5,
    "Waa": rng.standard_normal((n_a, n_a)) * 0.5,
    "ba": rng.standard_normal((n_a, 1)) * 0.1,
}
xt, a_prev = rng.standard_normal((n_x, m)), rng.standard_normal((n_a, m))
a_next, _, cache = manual.rnn_cell_forward(xt, a_prev, p)
G = rng.standard_normal((n_a, m))  # the gradient arriving at a<t>


def cell_backward(da_next, a_next, a_prev, xt, p):
    dz = da_next * (1 - a_next**2)
    return {
        "dxt": p["Wax"].T @ dz,
        "da_prev": p["Waa"].T @ dz,
        "dWax": dz @ xt.T,
        "dWaa": dz @ a_prev.T,
        "dba": dz.sum(axis=1, keepdims=True),
    }


by_hand = cell_backward(G, a_next, a_prev, xt, p)
reference = manual.rnn_cell_backward(G, cache)

# autodiff: the same forward on leaf tensors, in the course's layout
values = {**p, "xt": xt, "a_prev": a_prev}
leaf = {k: torch.tensor(v, requires_grad=True) for k, v in values.items()}
a = torch.tanh(leaf["Waa"] @ leaf["a_prev"] + leaf["Wax"] @ leaf["xt"] + leaf["ba"])
(a * torch.tensor(G)).sum().backward()
autodiff = {"d" + k: t.grad.numpy() for k, t in leaf.items()}

print(f"{'':8}{'by hand - manual':>18}{'by hand - autodiff':>20}")
for k, v in by_hand.items():
    d_ref, d_auto = np.abs(v - reference[k]).max(), np.abs(v - autodiff[k]).max()
    print(f"{k:8}{d_ref:18.1e}{d_auto:20.1e}")
    assert d_ref < 1e-12 and d_auto < 1e-12
""",
    ),
    (
        "md",
        r"""
## Through time

Two rules turn the cell backward into BPTT, and both say that *a quantity used in several places
receives the sum of the gradients of its uses*:

1. $a^{\langle t \rangle}$ feeds the prediction $\hat y^{\langle t \rangle}$ **and** step $t+1$, so
   the gradient entering step $t$ is
   $da_{next}^{\langle t \rangle} = \frac{\partial \mathcal L^{\langle t \rangle}}{\partial a^{\langle t \rangle}} + da_{prev}^{\langle t+1 \rangle}$,
   with $da_{prev}^{\langle T_x+1 \rangle} = 0$: walk $t = T_x, \dots, 1$.
2. $W_{ax}, W_{aa}, b_a$ are used at every step, so their gradients are sums over $t$ of the
   per-step gradients.

For the softmax output, $\partial \mathcal L^{\langle t \rangle} / \partial a^{\langle t \rangle} = W_{ya}^\top (\hat y^{\langle t \rangle} - y^{\langle t \rangle})$
(`manual.output_backward`). Here is the loop, beside `manual.rnn_backward`:
""",
    ),
    (
        "code",
        """
T_x, n_y = 6, 4
p["Wya"] = rng.standard_normal((n_y, n_a)) * 0.5
p["by"] = np.zeros((n_y, 1))
x = rng.standard_normal((n_x, m, T_x))  # (n_x, m, T_x)
y = rng.integers(0, n_y, size=(m, T_x))  # the target class of every example and step
a0 = np.zeros((n_a, m))

a, y_hat, caches = manual.rnn_forward(x, a0, p)
loss_course = manual.cross_entropy_loss(y_hat, y)
da_out = manual.output_backward(y_hat, y, a, p["Wya"])["da"]  # dL<t>/da<t>, (n_a, m, T_x)

grads = {k: np.zeros_like(p[k[1:]]) for k in ("dWax", "dWaa", "dba")}
da_prev = np.zeros((n_a, m))
for t in reversed(range(T_x)):  # t = T_x-1, ..., 0 (the course's T_x, ..., 1)
    a_prev_t = a0 if t == 0 else a[:, :, t - 1]
    step = cell_backward(da_out[:, :, t] + da_prev, a[:, :, t], a_prev_t, x[:, :, t], p)
    da_prev = step["da_prev"]
    for k in grads:
        grads[k] += step[k]

reference = manual.rnn_backward(da_out, caches)
for k in grads:
    assert np.allclose(grads[k], reference[k], rtol=1e-12, atol=1e-14), k
print(f"loss {loss_course:.4f}; the BPTT loop equals manual.rnn_backward")
""",
    ),
    (
        "md",
        r"""
## The PyTorch way: `loss.backward()`

The same model as modules: an `nn.RNN` and an `nn.Linear` head, loaded with the course's
weights. `F.cross_entropy(..., reduction="sum")` is the course's summed loss. `backward()`
knows nothing about time: the loop of `nn.RNN` recorded every op of every step, and the graph
walk does BPTT by itself. The gradients land in `.grad` with PyTorch's names and layouts;
`weight_ih_l0.grad` is $dW_{ax}$ directly, and each of the two biases receives $db_a$.
""",
    ),
    (
        "code",
        """
class CourseRNN(nn.Module):
    def __init__(self, n_x, n_a, n_y):
        super().__init__()
        self.rnn = nn.RNN(n_x, n_a)
        self.head = nn.Linear(n_a, n_y)  # W_ya, b_y

    def forward(self, x):  # x (T_x, m, n_x) -> logits (T_x, m, n_y)
        return self.head(self.rnn(x)[0])


model = CourseRNN(n_x, n_a, n_y).double()
manual.course_to_module({k: p[k] for k in ("Wax", "Waa", "ba")}, model.rnn)
model.head.load_state_dict({"weight": torch.tensor(p["Wya"]), "bias": torch.tensor(p["by"][:, 0])})

x_nn = torch.tensor(manual.sequence_from_course(x))  # (T_x, m, n_x)
targets = y.T  # (T_x, m)
logits = model(x_nn)
loss = F.cross_entropy(logits.reshape(-1, n_y), targets.reshape(-1), reduction="sum")
loss.backward()

pairs = {
    "dWax ~ weight_ih_l0": (grads["dWax"], model.rnn.weight_ih_l0.grad),
    "dWaa ~ weight_hh_l0": (grads["dWaa"], model.rnn.weight_hh_l0.grad),
    "dba ~ bias_ih_l0": (grads["dba"][:, 0], model.rnn.bias_ih_l0.grad),
    "dba ~ bias_hh_l0": (grads["dba"][:, 0], model.rnn.bias_hh_l0.grad),
}
print(f"loss: nn {loss.item():.6f}, course {loss_course:.6f}")
for name, (course, nn_grad) in pairs.items():
    err = np.abs(course - nn_grad.numpy()).max()
    print(f"{name:22} max |course - autodiff| = {err:.1e}")
    assert err < 1e-12
""",
    ),
    (
        "md",
        r"""
## `compare_gradients`: all of it, per parameter and per time step

`compare_gradients(layer, inputs, loss=...)` copies the layer to float64 and computes every
gradient three ways: autodiff, the hand-derived BPTT of `manual/` (fed the same upstream
gradient $\partial \mathcal L / \partial a^{\langle t \rangle}$) and central finite differences.
It names each parameter twice (`weight_hh ~ Waa`) and adds one row per time step for the total
gradient reaching $a^{\langle t \rangle}$. In a notebook the report shows itself as tables.
""",
    ),
    (
        "code",
        """
W_ya, b_y = model.head.weight.detach(), model.head.bias.detach()  # float64, cut from the graph


def lm_loss(a):  # a (T_x, m, n_a): the layer's output
    z = F.linear(a, W_ya, b_y)
    return F.cross_entropy(z.reshape(-1, n_y), targets.reshape(-1), reduction="sum")


report = compare_gradients(model.rnn, x_nn, loss=lm_loss)
worst = max(r.diffs["autodiff-manual"][1] for r in report.rows + report.steps)
worst_fd = max(r.diffs["autodiff-FD"][1] for r in report.rows)
print(f"largest relative error: autodiff - manual {worst:.1e}, autodiff - FD {worst_fd:.1e}")
assert report.ok and worst < 1e-10 and worst_fd < 1e-5
report
""",
    ),
    (
        "md",
        r"""
## A bug, caught and located

The classic mistake in a hand-written cell backward is to forget the derivative of the tanh,
$dz = da_{next}$. Pass such a cell backward as `manual_backward=` and the report fails. It also
says *where*: `first_divergent_step` is the first step, in BPTT order, whose one-step backward
differs from autodiff's when both get the same incoming gradient. Here that is the very first
step of the walk, $t = T_x - 1$ (the course's $a^{\langle T_x \rangle}$), and every parameter.
""",
    ),
    (
        "code",
        """
def forgot_tanh(da_next, cache):
    a_next, a_prev, xt, p, _ = cache
    return cell_backward(da_next / (1 - a_next**2), a_next, a_prev, xt, p)  # dz = da_next


bad = compare_gradients(model.rnn, x_nn, loss=lm_loss, manual_backward=forgot_tanh, fd=False)
print("ok:", bad.ok, "| first divergent step:", bad.first_divergent_step)
assert not bad.ok and bad.first_divergent_step == T_x - 1
assert "weight_hh ~ Waa" in bad.first_divergent_params
bad
""",
    ),
    (
        "md",
        r"""
## Seeing the gradient flow back

`viz.record_grads(loss)` before `backward()` keeps the gradient of every op, and
`show_grads=True` colours each node by $\log_{10} \lVert \partial \mathcal L / \partial \text{node} \rVert$.
With `collapse="cell"` each time step is one node; the edges labelled `h` carry
$a^{\langle t \rangle}$ forward and, read right to left, $da_{prev}$ backward.
""",
    ),
    (
        "code",
        """
model.zero_grad()
logits = model(x_nn)
loss = F.cross_entropy(logits.reshape(-1, n_y), targets.reshape(-1), reduction="sum")
viz.record_grads(loss)
loss.backward()
viz.draw_graph(loss, params=model, collapse="cell", show_grads=True)
""",
    ),
    (
        "md",
        r"""
Next, [03_vanishing_exploding.ipynb](03_vanishing_exploding.ipynb): what happens to
$da_{prev}$ over many steps.
""",
    ),
]
