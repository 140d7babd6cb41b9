"""Stochastic gradient descent with optional momentum, dampening, Nesterov and weight decay.

PyTorch's update, per parameter theta with gradient g_t at step t (lr gamma, momentum mu,
dampening tau, weight decay lambda)::

    g_t <- -g_t                               if maximize
    g_t <- g_t + lambda * theta_{t-1}         if lambda != 0   (L2 penalty folded into g)
    if mu != 0:
        b_t <- g_t                            at t = 1 (no dampening on the first step)
        b_t <- mu * b_{t-1} + (1 - tau) * g_t otherwise
        g_t <- g_t + mu * b_t                 if nesterov (look ahead along the velocity)
        g_t <- b_t                            otherwise
    theta_t <- theta_{t-1} - gamma * g_t

Note the momentum form: PyTorch accumulates the gradient into b and multiplies by the learning
rate afterwards (Sutskever et al. multiply first); the two agree for a constant learning rate.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, ParamsT, check_range


class SGD(Optimizer):
    """SGD: theta -= lr * g, with optional momentum / dampening / Nesterov / weight decay."""

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ):
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        """lr, momentum, weight_decay >= 0; Nesterov needs momentum > 0 and dampening 0."""
        check_range("lr", group["lr"])
        check_range("momentum", group["momentum"])
        check_range("weight_decay", group["weight_decay"])
        check_range("dampening", group["dampening"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                "Nesterov momentum requires a momentum > 0 and zero dampening, got "
                f"momentum={group['momentum']}, dampening={group['dampening']}"
            )

    def _update(self, p: Tensor, grad: np.ndarray, state: dict, group: dict) -> None:
        """One SGD step on p._data (see the module docstring for the equations)."""
        lr, momentum = group["lr"], group["momentum"]
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * p._data
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(grad, dtype=p._data.dtype, copy=True)
            else:
                buf *= momentum
                buf += (1 - group["dampening"]) * grad
            grad = grad + momentum * buf if group["nesterov"] else buf
        p._data -= lr * grad
