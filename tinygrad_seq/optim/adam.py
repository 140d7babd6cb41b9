"""Adam and AdamW: per-coordinate steps from bias-corrected moment estimates.

PyTorch's update, per parameter theta with gradient g_t at step t = 1, 2, ... (lr gamma,
betas (beta1, beta2), eps, weight decay lambda)::

    g_t <- -g_t                                       if maximize
    Adam:  g_t <- g_t + lambda * theta_{t-1}          (L2 penalty, enters the moments)
    AdamW: theta_{t-1} <- theta_{t-1} * (1 - gamma * lambda)   (decoupled: shrink the weights)
    m_t <- beta1 * m_{t-1} + (1 - beta1) * g_t        first moment  (a lerp towards g_t)
    v_t <- beta2 * v_{t-1} + (1 - beta2) * g_t^2      second moment
    v_max_t <- max(v_max_{t-1}, v_t)                  if amsgrad (never let the step grow)
    m_hat <- m_t / (1 - beta1^t)                      bias corrections: m_0 = v_0 = 0
    v_hat <- v_t / (1 - beta2^t)                      (v_max_t instead of v_t with amsgrad)
    theta_t <- theta_{t-1} - gamma * m_hat / (sqrt(v_hat) + eps)

Like PyTorch, eps is added *after* the square root, to sqrt(v_t) / sqrt(1 - beta2^t), and the
first correction is folded into the step size gamma / (1 - beta1^t).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, ParamsT, buffer, check_range, lerp_


class Adam(Optimizer):
    """Adam (Kingma & Ba) with optional L2 weight decay and AMSGrad."""

    _decoupled_weight_decay = False

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ):
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        """lr, eps, weight_decay >= 0 and both betas in [0, 1)."""
        check_range("lr", group["lr"])
        check_range("eps", group["eps"])
        check_range("weight_decay", group["weight_decay"])
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"Invalid betas: expected a pair (beta1, beta2), got {betas!r}")
        check_range("beta parameter at index 0", betas[0], 0.0, 1.0)
        check_range("beta parameter at index 1", betas[1], 0.0, 1.0)

    def _update(self, p: Tensor, grad: np.ndarray, state: dict, group: dict) -> None:
        """One Adam step on p._data (see the module docstring for the equations)."""
        lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        step = state["step"] = state.get("step", 0) + 1
        exp_avg, exp_avg_sq = buffer(state, "exp_avg", p), buffer(state, "exp_avg_sq", p)
        if group["maximize"]:
            grad = -grad
        if weight_decay != 0:
            if self._decoupled_weight_decay:
                p._data *= 1 - lr * weight_decay
            else:
                grad = grad + weight_decay * p._data
        lerp_(exp_avg, grad, 1 - beta1)
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * grad * grad
        step_size = lr / (1 - beta1**step)
        bias_correction2_sqrt = (1 - beta2**step) ** 0.5
        if group["amsgrad"]:
            max_exp_avg_sq = buffer(state, "max_exp_avg_sq", p)
            np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
            denom = np.sqrt(max_exp_avg_sq) / bias_correction2_sqrt + eps
        else:
            denom = np.sqrt(exp_avg_sq) / bias_correction2_sqrt + eps
        p._data += -step_size * exp_avg / denom


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter): Adam with decoupled weight decay, default 1e-2."""

    _decoupled_weight_decay = True

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)
