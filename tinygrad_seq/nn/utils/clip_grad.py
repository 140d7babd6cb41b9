"""Gradient clipping and hidden-state detaching, the everyday tools of training RNNs.

Backpropagation through time multiplies many Jacobians together, so gradients can explode.
`clip_grad_norm_` rescales all gradients together when their joint norm exceeds a threshold
(keeping their direction); `clip_grad_value_` clips each element to [-c, c], as the
sequence-models course's `clip(gradients, maxValue)` does. `detach_states` cuts the carried
hidden state from the previous batch's graph (truncated BPTT).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ... import dtypes
from ...tensor import Tensor


def _grads(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    """The .grad Tensors of a Tensor or an iterable of them, skipping grad None."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p.grad for p in params if p.grad is not None]


def _scale_(grad: Tensor, factor: float) -> None:
    """grad *= factor in place (on a fresh array when the current one is read-only)."""
    factor = grad._data.dtype.type(factor)
    with np.errstate(invalid="ignore"):  # inf * 0 -> nan, as PyTorch, without a warning
        if grad._data.flags.writeable:
            grad._data *= factor
        else:
            grad._data = grad._data * factor


def _total_norm(grads: list[Tensor], norm_type: float) -> float:
    """The norm of all gradients flattened into one vector (in float64)."""
    if math.isinf(norm_type):
        return max(float(np.abs(g._data).max(initial=0.0)) for g in grads)
    per = [np.linalg.norm(np.ravel(g._data).astype(np.float64), ord=norm_type) for g in grads]
    return float(np.linalg.norm(np.array(per), ord=norm_type))


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Parameters' grads -> their total norm as a 0-d Tensor; grads scaled in place to max_norm."""
    norm_type = float(norm_type)
    grads = _grads(parameters)
    if not grads:
        return Tensor._make(np.zeros((), dtypes.get_default_dtype()), False, None)
    dtype = np.result_type(*[g._data.dtype for g in grads])
    total = _total_norm(grads, norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {total}, "
            "so they cannot be clipped; pass error_if_nonfinite=False to clip anyway"
        )
    # PyTorch's rule: always multiply by min(1, max_norm / (total + 1e-6))
    coef = min(1.0, float(max_norm) / (total + 1e-6))
    for g in grads:
        _scale_(g, coef)
    return Tensor._make(np.asarray(total, dtype=dtype), False, None)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Parameters' grads -> None; each grad element clipped to [-clip_value, clip_value]."""
    c = float(clip_value)
    if c < 0:
        raise ValueError(f"clip_grad_value_: clip_value must be non-negative, got {clip_value}")
    for g in _grads(parameters):
        if g._data.flags.writeable:
            np.clip(g._data, -c, c, out=g._data)
        else:
            g._data = np.clip(g._data, -c, c)


def detach_states(hx: Any) -> Any:
    """Tensor or nested tuple/list of Tensors (or None) -> same structure, each detached."""
    if hx is None:
        return None
    if isinstance(hx, Tensor):
        return hx.detach()
    if isinstance(hx, (tuple, list)):
        items = [detach_states(h) for h in hx]
        if isinstance(hx, tuple) and hasattr(hx, "_fields"):  # a NamedTuple keeps its type
            return type(hx)(*items)
        return type(hx)(items)
    raise TypeError(
        f"detach_states: expected a Tensor or a tuple/list of Tensors, got {type(hx).__name__}"
    )
