"""Notebook 03: vanishing and exploding gradients in pictures, and clipping."""

# ruff: noqa: E501 - a LaTeX equation stays on one line of its Markdown cell

CELLS = [
    (
        "md",
        r"""
# 3. Vanishing and exploding gradients, in pictures

Going back one step of a tanh RNN multiplies the gradient by the Jacobian of the step,

$$\frac{\partial a^{\langle t \rangle}}{\partial a^{\langle t-1 \rangle}} = \mathrm{diag}\left(1 - (a^{\langle t \rangle})^2\right) W_{aa},
\qquad
\frac{\partial \mathcal L}{\partial a^{\langle 1 \rangle}} = \left(\prod_{t=2}^{T_x} \frac{\partial a^{\langle t \rangle}}{\partial a^{\langle t-1 \rangle}}\right)^{\!\top} \frac{\partial \mathcal L}{\partial a^{\langle T_x \rangle}} .$$

Every factor has norm at most $\sigma_{\max}(W_{aa})$ (the tanh derivative is at most 1). With
$\sigma_{\max} < 1$ the product shrinks geometrically: the gradient *vanishes*, and the first
inputs barely influence learning. With large weights it can grow geometrically instead: the
gradient *explodes*, and one SGD step throws the weights to infinity. This notebook measures
both, by hand and with the engine, and shows the two remedies of the course: gated cells and
gradient clipping.
""",
    ),
    (
        "code",
        """
%matplotlib inline
import matplotlib.pyplot as plt
import numpy as np

import tinygrad_seq as torch
from tinygrad_seq import manual, viz  # tinygrad_seq's own tools

torch.manual_seed(0)
nn = torch.nn
F = nn.functional
""",
    ),
    (
        "md",
        r"""
## By hand: the norm of $\partial \mathcal L / \partial a^{\langle t \rangle}$ over time

Take $W_{aa} = s\,Q$ with $Q$ orthogonal, so every singular value of $W_{aa}$ is $s$, put the
loss on the last step only ($\partial \mathcal L / \partial a^{\langle T_x \rangle} = 1$), and
walk back with the course's `rnn_cell_backward`, recording $\lVert da_{next} \rVert$ at every step.
""",
    ),
    (
        "code",
        """
rng = np.random.default_rng(0)
n_x, n_a, m, T_x = 4, 16, 8, 40
Q, _ = np.linalg.qr(rng.standard_normal((n_a, n_a)))
x = rng.standard_normal((n_x, m, T_x))
Wax = rng.standard_normal((n_a, n_x)) * 0.1


def grad_norms(p):
    a, _, caches = manual.rnn_forward(x, np.zeros((n_a, m)), p)
    da_next, norms = np.ones((n_a, m)), []  # dL/da<T_x> = 1, nothing from the other steps
    for cache in reversed(caches[0]):
        norms.append(np.linalg.norm(da_next))
        da_next = manual.rnn_cell_backward(da_next, cache)["da_prev"]
    return np.array(norms[::-1])  # index t-1 holds ||dL/da<t>||


scales = (0.5, 1.0, 1.5, 2.0)
norms = {s: grad_norms({"Wax": Wax, "Waa": s * Q, "ba": np.zeros((n_a, 1))}) for s in scales}
fig, ax = plt.subplots(figsize=(7, 3.5))
for s in scales:
    ax.semilogy(np.arange(1, T_x + 1), norms[s], label=rf"$W_{{aa}} = {s}\\,Q$")
ax.set_xlabel("time step t (the loss sits at the last step)")
ax.set_ylabel(r"$\\|\\partial L / \\partial a^{\\langle t \\rangle}\\|$")
ax.legend()
plt.show()
for s in scales:
    print(f"s = {s}: ||dL/da<1>|| / ||dL/da<T_x>|| = {norms[s][0] / norms[s][-1]:.1e}")
assert norms[0.5][0] < 1e-8 * norms[0.5][-1]  # vanished
assert norms[2.0][0] > 1e2 * norms[2.0][-1]  # exploded
""",
    ),
    (
        "md",
        r"""
## The same numbers from the engine

`nn.RNN(..., retain_states=True)` keeps every $a^{\langle t \rangle}$ with its gradient, and after
`backward()` `viz.grad_flow(layer)` returns $\lVert \partial \mathcal L / \partial a^{\langle t \rangle} \rVert$
for every step. Loaded with the $s = 0.5$ weights and given the loss $\sum a^{\langle T_x \rangle}$,
it reproduces the curve above.
""",
    ),
    (
        "code",
        """
rnn = nn.RNN(n_x, n_a, retain_states=True).double()
manual.course_to_module({"Wax": Wax, "Waa": 0.5 * Q, "ba": np.zeros((n_a, 1))}, rnn)
out, _ = rnn(torch.tensor(manual.sequence_from_course(x)))
out[-1].sum().backward()
engine = viz.grad_flow(rnn)["l0"]["h"]
print(f"max relative difference, engine vs by hand: {np.abs(engine / norms[0.5] - 1).max():.1e}")
assert np.allclose(engine, norms[0.5], rtol=1e-10)
""",
    ),
    (
        "md",
        r"""
## Why gates help

An LSTM carries a second state, the memory cell, updated by addition:
$c^{\langle t \rangle} = \Gamma_u \odot \tilde c^{\langle t \rangle} + \Gamma_f \odot c^{\langle t-1 \rangle}$.
Along that path the gradient is multiplied by the forget gate $\Gamma_f$ at each step, not by
$W_{aa}$ and a tanh derivative. With the forget gate's bias set to $+2$ at the start
($\Gamma_f \approx 0.88$, a common initialisation) the gradient survives many more steps.
`viz.plot_grad_flow` draws both on a log scale (dashed: $\partial \mathcal L / \partial c^{\langle t \rangle}$).
""",
    ),
    (
        "code",
        """
T = 60
x_long = torch.randn(T, 8, 4)
rnn = nn.RNN(4, 16, retain_states=True)
lstm = nn.LSTM(4, 16, retain_states=True)
with torch.no_grad():
    lstm.bias_ih_l0[16:32] = 2.0  # rows n_a..2n_a: the forget gate (PyTorch's order i, f, g, o)
for layer in (rnn, lstm):
    seq, _ = layer(x_long)
    (seq[-1] ** 2).sum().backward()
flows = {"RNN": viz.grad_flow(rnn), "LSTM, forget bias +2": viz.grad_flow(lstm)}
fade = {k: f["l0"]["h"][0] / f["l0"]["h"][-1] for k, f in flows.items()}
print({k: f"{v:.1e}" for k, v in fade.items()})
assert fade["LSTM, forget bias +2"] > 1e4 * fade["RNN"]
viz.plot_grad_flow(flows)
""",
    ),
    (
        "md",
        r"""
The graph itself shows it too. After `viz.record_grads(loss)` and `backward()`, `draw_graph`
with `show_grads=True` colours each step by the norm of its gradient: a vanilla RNN over 12
steps, loss on the last step, fades from red at the loss to blue at $t = 0$.
""",
    ),
    (
        "code",
        """
rnn12 = nn.RNN(2, 3)
out, _ = rnn12(torch.randn(12, 1, 2))
loss = (out[-1] ** 2).sum()
viz.record_grads(loss)
loss.backward()
viz.draw_graph(loss, params=rnn12, collapse="cell", show_grads=True)
""",
    ),
    (
        "md",
        r"""
## Exploding gradients and clipping

A ReLU RNN whose recurrent weights are scaled up by 3.5, trained with plain SGD to name the first
of 30 random symbols: the first gradient norm is in the thousands. Without clipping, the first
step overshoots and every later loss is NaN. The course's remedy is clipping between
`backward()` and `step()`: `nn.utils.clip_grad_norm_(params, max_norm)` rescales all gradients
together so that their joint norm is at most `max_norm` (the direction is kept) and returns the
norm before clipping.
""",
    ),
    (
        "code",
        """
def sgd_run(max_norm, steps=25, T=30, K=4, seed=0):
    torch.manual_seed(seed)
    rnn, head = nn.RNN(K, 64, nonlinearity="relu"), nn.Linear(64, K)
    params = list(rnn.parameters()) + list(head.parameters())
    with torch.no_grad():
        rnn.weight_hh_l0 *= 3.5
    opt = torch.optim.SGD(params, lr=0.05)
    data, history = np.random.default_rng(seed), {"grad norm": [], "loss": []}
    for _ in range(steps):
        symbols = data.integers(0, K, size=(T, 32))
        x = torch.tensor(np.eye(K, dtype=np.float32)[symbols])  # one-hot (T, m, K)
        with np.errstate(all="ignore"):  # overflow is the point here
            loss = F.cross_entropy(head(rnn(x)[0][-1]), symbols[0])
            opt.zero_grad()
            loss.backward()
            norm = nn.utils.clip_grad_norm_(params, max_norm)
            opt.step()
        history["grad norm"].append(norm.item())
        history["loss"].append(loss.item())
    return history


runs = {"clip_grad_norm_(1.0)": sgd_run(1.0), "no clipping": sgd_run(float("inf"))}
first_nan = int(np.argmax(np.isnan(runs["no clipping"]["loss"])))
fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
for ax, key in zip(axes, ("grad norm", "loss")):
    for (label, history), style in zip(runs.items(), ("o-", "rD")):
        name = label if label != "no clipping" else f"{label}: NaN from step {first_nan}"
        ax.semilogy(history[key], style, ms=4 if style == "o-" else 8, label=name)
    ax.set_title(key + " per SGD step")
    ax.set_xlabel("step")
axes[0].legend()
plt.show()
print("first gradient norm:", f"{runs['no clipping']['grad norm'][0]:.1e}")
assert np.isnan(runs["no clipping"]["loss"][-1])
assert np.isfinite(runs["clip_grad_norm_(1.0)"]["loss"]).all()
""",
    ),
    (
        "md",
        r"""
The course's `clip(gradients, maxValue)` clips every entry to $[-c, c]$ instead;
`manual.clip` is that function on a course dict of gradients, and `nn.utils.clip_grad_value_` is
PyTorch's name for the same rule on `.grad`.
""",
    ),
    (
        "code",
        """
cell = nn.RNNCell(3, 5).double()
h = cell(torch.randn(2, 3).double() * 10)
(h.sum() * 100).backward()
grads = {name: p.grad.numpy().copy() for name, p in cell.named_parameters()}
course = manual.clip(manual.grads_to_course(grads, "rnn"), 0.5)  # {dWax, dWaa, dba}
nn.utils.clip_grad_value_(cell.parameters(), clip_value=0.5)
print(f"largest |entry|: before {max(np.abs(g).max() for g in grads.values()):.1f}, after", end=" ")
print(max(np.abs(g).max() for g in course.values()))
assert np.array_equal(course["dWax"], cell.weight_ih.grad.numpy())
assert np.array_equal(course["dWaa"], cell.weight_hh.grad.numpy())
""",
    ),
    (
        "md",
        r"""
Next, [04_gru_lstm.ipynb](04_gru_lstm.ipynb): the GRU and the LSTM, equation by equation.
""",
    ),
]
