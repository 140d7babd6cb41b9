"""RMSprop: divide each step by a running root-mean-square of recent gradients.

PyTorch's update, per parameter theta with gradient g_t (lr gamma, smoothing alpha, eps,
weight decay lambda, momentum mu)::

    g_t <- -g_t                                    if maximize
    g_t <- g_t + lambda * theta_{t-1}              if lambda != 0
    v_t <- alpha * v_{t-1} + (1 - alpha) * g_t^2   running mean of squares, v_0 = 0
    if centered:                                   (estimate the variance, not the 2nd moment)
        ga_t <- alpha * ga_{t-1} + (1 - alpha) * g_t
        r_t <- sqrt(v_t - ga_t^2) + eps
    else:
        r_t <- sqrt(v_t) + eps
    if mu > 0:
        b_t <- mu * b_{t-1} + g_t / r_t            b_0 = 0
        theta_t <- theta_{t-1} - gamma * b_t
    else:
        theta_t <- theta_{t-1} - gamma * g_t / r_t

As in PyTorch, eps is added after the square root (TensorFlow adds it inside).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, ParamsT, buffer, check_range, lerp_


class RMSprop(Optimizer):
    """RMSprop (Hinton) with optional centering, momentum and weight decay."""

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ):
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        """lr, eps, momentum, weight_decay, alpha all >= 0."""
        for name in ("lr", "eps", "momentum", "weight_decay", "alpha"):
            check_range(name, group[name])

    def _update(self, p: Tensor, grad: np.ndarray, state: dict, group: dict) -> None:
        """One RMSprop step on p._data (see the module docstring for the equations)."""
        alpha, momentum = group["alpha"], group["momentum"]
        state["step"] = state.get("step", 0) + 1
        square_avg = buffer(state, "square_avg", p)
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * p._data
        square_avg *= alpha
        square_avg += (1 - alpha) * grad * grad
        if group["centered"]:
            grad_avg = buffer(state, "grad_avg", p)
            lerp_(grad_avg, grad, 1 - alpha)
            avg = np.sqrt(square_avg - grad_avg * grad_avg)
        else:
            avg = np.sqrt(square_avg)
        avg += group["eps"]
        if momentum > 0:
            buf = buffer(state, "momentum_buffer", p)
            buf *= momentum
            buf += grad / avg
            p._data -= group["lr"] * buf
        else:
            p._data += -group["lr"] * grad / avg
