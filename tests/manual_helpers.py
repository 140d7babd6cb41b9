"""Shared by the tests of tinygrad_seq.manual: course-notation parameters, the check of a
hand-derived gradient against central finite differences, and the comparison with PyTorch.

Each check builds a scalar loss as a random linear functional of the outputs (sum(a * R) for a
fixed random R), so the upstream gradient is R itself, then compares the hand-derived gradient
of every parameter, of x and of the initial states with central differences in float64
(tinygrad_seq.check.finite_diff, the package's one finite-difference implementation).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from helpers import require_torch

from tinygrad_seq.check.finite_diff import partials

# (n_x, n_a, m, T_x): a single unit and step, a typical small case, and a wider/longer one
SHAPES = [(1, 1, 1, 1), (3, 4, 2, 3), (4, 3, 5, 5)]
EPS = 1e-6


# ---------------------------------------------------------------- finite differences


def numerical_gradient(f: Callable[[], float], arr: np.ndarray) -> np.ndarray:
    """Central differences of the scalar f() with respect to arr (perturbed in place)."""
    return partials(f, arr, eps=EPS).reshape(arr.shape)


def assert_grad_close(analytic: np.ndarray, numeric: np.ndarray, name: str) -> None:
    """Relative error below 1e-6, or absolute error below 1e-8 (for gradients near zero)."""
    assert analytic.shape == numeric.shape, f"{name}: shape {analytic.shape} != {numeric.shape}"
    abs_err = np.max(np.abs(analytic - numeric))
    rel_err = np.linalg.norm(analytic - numeric) / max(
        np.linalg.norm(analytic) + np.linalg.norm(numeric), 1e-300
    )
    assert abs_err < 1e-8 or rel_err < 1e-6, f"{name}: rel {rel_err:.2e}, abs {abs_err:.2e}"


def check_all(loss, arrays: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
    """For each name -> array (perturbed in place by the check), compare grads[name] with FD."""
    for name, arr in arrays.items():
        assert_grad_close(grads[name], numerical_gradient(loss, arr), name)


# ---------------------------------------------------------------- parameter builders


def rnn_params(rng, n_x, n_a, n_y=None):
    p = {
        "Wax": rng.standard_normal((n_a, n_x)) * 0.5,
        "Waa": rng.standard_normal((n_a, n_a)) * 0.5,
        "ba": rng.standard_normal((n_a, 1)) * 0.5,
    }
    if n_y is not None:
        p["Wya"] = rng.standard_normal((n_y, n_a)) * 0.5
        p["by"] = rng.standard_normal((n_y, 1)) * 0.5
    return p


def lstm_params(rng, n_x, n_a):
    p = {}
    for g in "fico":
        p["W" + g] = rng.standard_normal((n_a, n_a + n_x)) * 0.5
        p["b" + g] = rng.standard_normal((n_a, 1)) * 0.5
    return p


def gru_params(rng, n_x, n_a, variant):
    shapes = {
        "Wr": (n_a, n_a + n_x),
        "br": (n_a, 1),
        "Wu": (n_a, n_a + n_x),
        "bu": (n_a, 1),
        "bc": (n_a, 1),
    }
    if variant == "course":
        shapes["Wc"] = (n_a, n_a + n_x)
    else:
        shapes.update(Wcc=(n_a, n_a), Wcx=(n_a, n_x), bhc=(n_a, 1))
    return {k: rng.standard_normal(s) * 0.5 for k, s in shapes.items()}


def d(params):
    """Rename {'Wax': ...} to the gradient keys {'dWax': ...}."""
    return {"d" + k: v for k, v in params.items() if isinstance(v, np.ndarray)}


# ---------------------------------------------------------------- PyTorch


def check_against_torch(module, n_states, manual_forward_backward, torch_grads_from):
    """Same weights, same x and initial states: outputs and every gradient agree with torch.

    manual_forward_backward(x, states, R, Rc) -> (a, grads) runs manual/ with the loss
    sum(a * R) (+ sum(c<T_x> * Rc) for the LSTM); torch_grads_from(grads) maps the manual
    gradients to torch's parameter names.
    """
    torch = require_torch()
    rng = np.random.default_rng(20)
    n_a, n_x = module.hidden_size, module.input_size
    x, R = rng.standard_normal((n_x, 2, 5)), rng.standard_normal((n_a, 2, 5))
    states = [rng.standard_normal((n_a, 2)) for _ in range(n_states)]
    Rc = rng.standard_normal((n_a, 2))
    xt = torch.tensor(x.transpose(2, 1, 0), requires_grad=True)  # torch wants (T_x, m, n_x)
    hs = [torch.tensor(h.T[None].copy(), requires_grad=True) for h in states]  # (1, m, n_a)
    out, h_n = module(xt, tuple(hs) if n_states == 2 else hs[0])
    loss = (out * torch.tensor(R.transpose(2, 1, 0))).sum()
    if n_states == 2:
        loss = loss + (h_n[1][0] * torch.tensor(Rc.T)).sum()
    loss.backward()
    a, grads = manual_forward_backward(x, states, R, Rc)
    np.testing.assert_allclose(a, out.detach().numpy().transpose(2, 1, 0), rtol=1e-12, atol=1e-14)
    expected = {**torch_grads_from(grads), "x": grads["dx"], "h0": grads["da0"]}
    actual = {n: q.grad.numpy() for n, q in module.named_parameters()}
    actual.update(x=xt.grad.numpy().transpose(2, 1, 0), h0=hs[0].grad.numpy()[0].T)
    if n_states == 2:
        expected["c0"], actual["c0"] = grads["dc0"], hs[1].grad.numpy()[0].T
    assert set(expected) == set(actual)
    for name, value in expected.items():
        np.testing.assert_allclose(value, actual[name], rtol=1e-10, atol=1e-12, err_msg=name)


def torch_weights(module):
    """A torch recurrent layer's parameters as numpy: w_ih, w_hh, b_ih, b_hh."""
    return [q.detach().numpy() for q in module.parameters()]


def ih_hh(dW, n_a):
    """Split a course gradient acting on [h; x] into torch's (input part, hidden part)."""
    return dW[:, n_a:], dW[:, :n_a]
