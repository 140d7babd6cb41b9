"""Adagrad: per-coordinate learning rates that shrink with the sum of squared gradients.

PyTorch's update, per parameter theta with gradient g_t at step t = 1, 2, ... (lr gamma,
lr_decay eta, weight decay lambda, initial accumulator value s_0, eps)::

    g_t <- -g_t                                    if maximize
    g_t <- g_t + lambda * theta_{t-1}              if lambda != 0
    clr <- gamma / (1 + (t - 1) * eta)             the decayed learning rate
    s_t <- s_{t-1} + g_t^2                         accumulated squared gradients, s_0 given
    theta_t <- theta_{t-1} - clr * g_t / (sqrt(s_t) + eps)

Coordinates that have seen large gradients take small steps; rarely-updated ones keep large
steps, which suits sparse features such as the rows of an embedding table.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, ParamsT, buffer, check_range


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.) with PyTorch's lr_decay, weight decay and initial accumulator."""

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ):
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            eps=eps,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        """lr, lr_decay, weight_decay, initial_accumulator_value and eps all >= 0."""
        for name in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            check_range(name, group[name])

    def _update(self, p: Tensor, grad: np.ndarray, state: dict, group: dict) -> None:
        """One Adagrad step on p._data (see the module docstring for the equations)."""
        step = state["step"] = state.get("step", 0) + 1
        state_sum = buffer(state, "sum", p, group["initial_accumulator_value"])
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * p._data
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        state_sum += grad * grad
        std = np.sqrt(state_sum) + group["eps"]
        p._data += -clr * grad / std
