"""Gradient checking: compare the engine's gradients with central finite differences.

For f: R^n -> R^m the analytical Jacobian comes from backward (one row per output element,
seeded with a one-hot dL/dout); the numerical one from (f(x + eps e_j) - f(x - eps e_j)) / 2eps
for each input element j. Everything runs in float64, so eps=1e-6 leaves errors near 1e-10.
`fast_mode` instead compares one number per random direction pair (u, v): v^T J u, from one
backward and two forwards, which scales to inputs too large for a full Jacobian.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import autograd
from ..tensor import Tensor
from .finite_diff import directional, partials


class GradcheckError(RuntimeError):
    """Analytical and numerical gradients disagree; the message names input, entry and values."""


def _promote(inputs: Sequence[Any]) -> list:
    out = []
    for x in inputs:
        if isinstance(x, Tensor) and x.dtype.kind == "f":
            leaf = Tensor._make(x._data.astype(np.float64), False, None)  # a float64 copy
            out.append(leaf.requires_grad_(x.requires_grad))
        else:
            out.append(x)
    return out


def _outputs(fn: Callable, xs: list) -> list[Tensor]:
    out = fn(*xs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    outs = [o for o in outs if isinstance(o, Tensor) and o.dtype.kind == "f"]
    if not outs:
        raise ValueError(
            f"gradcheck: fn returned {type(out).__name__}, with no floating-point Tensor to check"
        )
    return outs


def _flat_outputs(fn: Callable, xs: list) -> np.ndarray:
    with autograd.no_grad():
        outs = _outputs(fn, xs)
    return np.concatenate([o._data.astype(np.float64).ravel() for o in outs])


def _input_grads(outs: list[Tensor], seeds: list[np.ndarray], wrt: list[Tensor]) -> list:
    """Gradients of sum_k <outs[k], seeds[k]> with respect to each tensor in wrt."""
    for x in wrt:
        x.grad = None
    for o, s in zip(outs, seeds):
        if o.requires_grad:
            autograd.backward(o, s.reshape(o.shape).astype(o.dtype), retain_graph=True)
    return [np.zeros(x.shape) if x.grad is None else x.grad._data.ravel().copy() for x in wrt]


def _jacobians(fn: Callable, xs: list, wrt: list[Tensor], eps: float) -> tuple[list, list]:
    outs = _outputs(fn, xs)
    sizes = [o._data.size for o in outs]
    m = sum(sizes)
    analytic = [np.zeros((m, x._data.size)) for x in wrt]
    for j in range(m):
        onehot = np.zeros(m)
        onehot[j] = 1.0
        seeds = np.split(onehot, np.cumsum(sizes)[:-1])
        for a, g in zip(analytic, _input_grads(outs, seeds, wrt)):
            a[j] = g
    numeric = [_numerical_jacobian(fn, xs, x, m, eps) for x in wrt]
    return analytic, numeric


def _numerical_jacobian(fn: Callable, xs: list, x: Tensor, m: int, eps: float) -> np.ndarray:
    """(m, x.size): column e is (f(x + eps e_e) - f(x - eps e_e)) / 2eps."""
    return partials(lambda: _flat_outputs(fn, xs), x._data, eps).reshape(x._data.size, m).T


def _fail(msg: str, raise_exception: bool) -> bool:
    if raise_exception:
        raise GradcheckError(msg)
    return False


def gradcheck(
    fn: Callable,
    inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    fast_mode: bool = False,
    raise_exception: bool = True,
    n_directions: int = 4,
    seed: int = 0,
) -> bool:
    """Check fn's gradients w.r.t. inputs requiring grad against finite differences (float64)."""
    inputs = list(inputs) if isinstance(inputs, (tuple, list)) else [inputs]
    xs = _promote(inputs)
    positions = [i for i, x in enumerate(xs) if isinstance(x, Tensor) and x.requires_grad]
    if not positions:
        raise ValueError("gradcheck: no input has requires_grad=True, so there is nothing to check")
    wrt = [xs[i] for i in positions]
    if fast_mode:
        return _fast(fn, xs, wrt, positions, eps, atol, rtol, raise_exception, n_directions, seed)
    analytic, numeric = _jacobians(fn, xs, wrt, eps)
    for pos, x, a, n in zip(positions, wrt, analytic, numeric):
        excess = np.abs(a - n) - (atol + rtol * np.abs(n))
        if excess.size and excess.max() > 0:
            out_j, in_e = np.unravel_index(np.argmax(excess), excess.shape)
            elem = np.unravel_index(in_e, x.shape) if x.ndim else ()
            return _fail(
                f"gradcheck: Jacobian mismatch for input {pos} (shape {tuple(x.shape)}) at element "
                f"{tuple(int(i) for i in elem)}, output element {int(out_j)}: analytical "
                f"{a[out_j, in_e]:.10g}, numerical {n[out_j, in_e]:.10g}, abs error "
                f"{abs(a[out_j, in_e] - n[out_j, in_e]):.3g} (atol={atol}, rtol={rtol})",
                raise_exception,
            )
    return True


# fast mode localises a failure element by element only below this size (2 forwards each)
_LOCATE_MAX = 4096


def _fast(fn, xs, wrt, positions, eps, atol, rtol, raise_exception, n_directions, seed) -> bool:
    """Random directions: v^T J u from backward against (f(x+eps u) - f(x-eps u)) . v / 2eps."""
    rng = np.random.default_rng(seed)
    outs = _outputs(fn, xs)
    sizes = [o._data.size for o in outs]
    for _ in range(n_directions):
        v = rng.standard_normal(sum(sizes))
        grads = _input_grads(outs, np.split(v, np.cumsum(sizes)[:-1]), wrt)
        for pos, x, g in zip(positions, wrt, grads):
            u = rng.standard_normal(x._data.size)
            numerical = float(directional(lambda: _flat_outputs(fn, xs), x._data, u, eps) @ v)
            analytical = float(g @ u)
            if abs(analytical - numerical) > atol + rtol * abs(numerical):
                where = _locate(fn, xs, x, g, v, eps, atol, rtol) if raise_exception else ""
                return _fail(
                    f"gradcheck (fast mode): input {pos} (shape {tuple(x.shape)}) disagrees along "
                    f"a random direction: analytical v^T J u = {analytical:.10g}, numerical "
                    f"{numerical:.10g}, abs error {abs(analytical - numerical):.3g} "
                    f"(atol={atol}, rtol={rtol}).{where}",
                    raise_exception,
                )
    return True


def _locate(fn, xs, x, g, v, eps, atol, rtol) -> str:
    """The element of x where d(v.f)/dx disagrees most, for the fast-mode error message."""
    if x._data.size > _LOCATE_MAX:
        return " Run with fast_mode=False on a smaller input to find the element."
    numerical = v @ _numerical_jacobian(fn, xs, x, v.size, eps)
    excess = np.abs(g - numerical) - (atol + rtol * np.abs(numerical))
    e = int(np.argmax(excess))
    elem = tuple(int(i) for i in np.unravel_index(e, x.shape)) if x.ndim else ()
    return (
        f" Worst element {elem}: analytical d(v.f)/dx = {g[e]:.10g}, numerical "
        f"{numerical[e]:.10g}, abs error {abs(g[e] - numerical[e]):.3g}"
    )
