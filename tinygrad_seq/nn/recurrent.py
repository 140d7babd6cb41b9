"""Recurrent cells and sequence layers (RNN, GRU, LSTM) built only from Tensor ops.

No backward is written here: each time step is a handful of ordinary ops (matmul, add,
sigmoid, tanh, slicing), so the unrolled loop *is* the graph and backpropagation through time
is the engine's usual walk back over it. Parameter names, shapes, gate order and equations are
PyTorch's, so weights move between the two unchanged:

    RNN   h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)                  (or relu)
    LSTM  i, f, g, o = split(x W_ih^T + b_ih + h W_hh^T + b_hh)          gates i, f, g, o
          c' = sigmoid(f) * c + sigmoid(i) * tanh(g);  h' = sigmoid(o) * tanh(c')
    GRU   r, z = sigmoid(x W_i{r,z}^T + b_i{r,z} + h W_h{r,z}^T + b_h{r,z})
          n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))             reset_after=True
          n = tanh(x W_in^T + b_in + (r * h) W_hn^T + b_hn)             reset_after=False
          h' = (1 - z) * n + z * h

For speed the sequence layers project the inputs of all time steps with one matmul before the
loop and do one hidden matmul per step for all gates together, then slice the gates (the GRU
layer does two input projections and two hidden matmuls: r and z together, then n, see
gru_step_split).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import functional as F
from .. import ops
from ..dtypes import get_default_dtype
from ..random import get_generator
from ..tensor import Tensor, addmm
from .module import Module, Parameter

GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}  # gate blocks per cell: W_ih is (GATES[mode] * H, in)


def uniform_parameter(shape: tuple, bound: float) -> Parameter:
    """A Parameter of shape from U(-bound, bound) in the default dtype (PyTorch's RNN init)."""
    data = get_generator().uniform(-bound, bound, size=shape).astype(get_default_dtype())
    return Parameter(data)


def check_recurrent_input(name: str, x: Any, ndims: tuple, layout: str, weight: Tensor) -> None:
    """Type, number of dimensions, feature count and dtype of a recurrent input, or a clear error.

    weight is W_ih (gates*H, H_in): it gives the expected feature count and dtype.
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {type(x).__name__}")
    if x.ndim not in ndims:
        raise ValueError(
            f"{name}: expected input of shape {layout}, got {x.ndim} dimensions with shape "
            f"{x.shape}"
        )
    if x.shape[-1] != weight.shape[1]:
        raise ValueError(f"{name}: input has {x.shape[-1]} features, expected {weight.shape[1]}")
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: input must be floating point, got dtype {x.dtype}")
    if x.dtype != weight.dtype:
        raise TypeError(
            f"{name}: input has dtype {x.dtype} but the parameters are {weight.dtype}; convert "
            f"the input (x.to(ts.{weight.dtype})) or the module (.double() / .float())"
        )


# ----------------------------------------------------------------------------- one time step


# The step functions take one step's projected input xw (N, G), or with t=... the whole
# sequence's projection (L, N, G) and the step t: the layers pass the latter, so that xw[t] + h
# W_hh^T is one op (AddMM with row=t) and x[t] needs no graph node of its own.


def _addmm_step(xw: Tensor, h: Tensor, whh_t: Tensor, t: int | None) -> Tensor:
    """xw + h W^T as one op: xw (N, G), or with t the row t of xw (L, N, G) -> (N, G)."""
    if t is None:
        return addmm(xw, h, whh_t)
    return ops.AddMM.apply(xw, h, whh_t, row=t)


def part(t: Tensor, start: int, stop: int) -> Tensor:
    """t[:, start:stop] of a step's own (N, G) tensor (its gates): (N, G) -> (N, stop - start).

    A plain slice, not tracked as a view of t (Tensor._as_view): t never leaves the step and
    is never changed in place, so the bookkeeping that keeps views right would only cost time.
    """
    return ops.Index.apply(t, key=(slice(None), slice(start, stop)), advanced=False)


def row(t: Tensor, i: int) -> Tensor:
    """t[i] of a layer's own sequence tensor (the input projection): (L, ...) -> (...).

    A plain slice, not tracked as a view of t, for the same reason as part().
    """
    return ops.Index.apply(t, key=(i,), advanced=False)


def rnn_step(xw: Tensor, h: Tensor, whh_t: Tensor, relu: bool, t: int | None = None) -> Tensor:
    """(N, H) projected input (or (L, N, H) and step t) + (N, H) state -> next state (N, H)."""
    pre = _addmm_step(xw, h, whh_t, t)  # xw + h W_hh^T as one op
    return pre.relu() if relu else pre.tanh()


def lstm_step(
    xw: Tensor, h: Tensor, c: Tensor, whh_t: Tensor, t: int | None = None
) -> tuple[Tensor, Tensor]:
    """(N, 4H) projected input (or (L, N, 4H) and step t), (N, H) h and c -> (h', c').

    Gate order i, f, g, o.
    """
    H = h.shape[-1]
    gates = _addmm_step(xw, h, whh_t, t)  # xw + h W_hh^T as one op
    act = gates.sigmoid()  # one op for i, f and o (g's quarter is computed and unused)
    i, f, o = part(act, 0, H), part(act, H, 2 * H), part(act, 3 * H, 4 * H)
    g = part(gates, 2 * H, 3 * H).tanh()
    c_next = (f * c).addcmul(i, g)  # f c + i g
    return o * c_next.tanh(), c_next


def gru_step(xw: Tensor, h: Tensor, whh_t: Tensor, bhh: Tensor | None, reset_after: bool) -> Tensor:
    """(N, 3H) projected input (with b_ih), (N, H) state -> next state; gate order r, z, n."""
    H = h.shape[-1]
    if reset_after:
        xw_rz = xw[:, : 2 * H] if bhh is None else xw[:, : 2 * H] + bhh[: 2 * H]
        bhh_n = None if bhh is None else bhh[2 * H :]
        return gru_step_split(xw_rz, xw[:, 2 * H :], h, whh_t[:, : 2 * H], whh_t[:, 2 * H :], bhh_n)
    # the course's GRU: the reset gate scales h before the hidden matmul
    hw = h @ whh_t[:, : 2 * H]
    rz = (xw[:, : 2 * H] + (hw if bhh is None else hw + bhh[: 2 * H])).sigmoid()
    hn = (rz[:, :H] * h) @ whh_t[:, 2 * H :]
    n = (xw[:, 2 * H :] + (hn if bhh is None else hn + bhh[2 * H :])).tanh()
    return n.lerp(h, rz[:, H:])  # n + z (h - n) = (1 - z) n + z h


def gru_step_split(
    xw_rz: Tensor,
    xw_n: Tensor,
    h: Tensor,
    whh_rz_t: Tensor,
    whh_n_t: Tensor,
    bhh_n: Tensor | None,
    t: int | None = None,
) -> Tensor:
    """PyTorch's GRU step with its gates apart: (N, 2H) r, z input projection (with b_ih and
    b_hh), (N, H) n projection (with b_in), h (N, H), W_h{r,z}^T (H, 2H), W_hn^T (H, H) -> h'.

    Two hidden matmuls, so that r and z come out of one op (xw + h W^T) and h W_hn^T + b_hn of
    another, with no slicing of a joint product: fewer graph nodes per step. With t, xw_rz
    and xw_n are the whole sequence's projections (L, N, 2H) and (L, N, H).
    """
    H = h.shape[-1]
    rz = _addmm_step(xw_rz, h, whh_rz_t, t).sigmoid()
    hn = h @ whh_n_t if bhh_n is None else addmm(bhh_n, h, whh_n_t)
    r = part(rz, 0, H)
    if t is None:
        n = xw_n.addcmul(r, hn).tanh()  # tanh(xw_n + r (h W_hn^T + b_hn))
    else:  # the same, with xw_n[t] inside the op
        n = ops.AddCMul.apply(xw_n, r, hn, row=t).tanh()
    return n.lerp(h, part(rz, H, 2 * H))  # n + z (h - n) = (1 - z) n + z h


# ----------------------------------------------------------------------------- cells


class _CellBase(Module):
    def __init__(self, mode: str, input_size: int, hidden_size: int, bias: bool):
        super().__init__()
        for name, v in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(v, int) or v <= 0:
                raise ValueError(f"{type(self).__name__}: {name} must be a positive int, got {v!r}")
        self.mode, self.input_size, self.hidden_size, self.bias = (
            mode,
            input_size,
            hidden_size,
            bias,
        )
        G, k = GATES[mode], 1.0 / math.sqrt(hidden_size)
        self.weight_ih = uniform_parameter((G * hidden_size, input_size), k)
        self.weight_hh = uniform_parameter((G * hidden_size, hidden_size), k)
        self.bias_ih = uniform_parameter((G * hidden_size,), k) if bias else None
        self.bias_hh = uniform_parameter((G * hidden_size,), k) if bias else None
        if not bias:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")

    def _check(self, x: Tensor, hx: Any, n_states: int) -> tuple[Tensor, list, bool]:
        """Validate (N, H_in) or (H_in) input and states; returns batched x, states, batched."""
        name = type(self).__name__
        layout = f"(N, {self.input_size}) or ({self.input_size},)"
        check_recurrent_input(name, x, (1, 2), layout, self.weight_ih)
        batched = x.ndim == 2
        x = x if batched else x.unsqueeze(0)
        N, H = x.shape[0], self.hidden_size
        states = [hx] if n_states == 1 or hx is None else list(hx)
        out = []
        for s in states if hx is not None else [None] * n_states:
            if s is None:
                out.append(Tensor._make(np.zeros((N, H), dtype=x.dtype), False, None))
                continue
            want = (N, H) if batched else (H,)
            if tuple(s.shape) != want:
                raise ValueError(f"{name}: hidden state has shape {s.shape}, expected {want}")
            out.append(s if batched else s.unsqueeze(0))
        return x, out, batched

    def _project(self, x: Tensor) -> Tensor:
        if self.bias_ih is None:
            return F.linear(x, self.weight_ih)
        bias = self.bias_ih if self.mode == "GRU" else self.bias_ih + self.bias_hh
        return F.linear(x, self.weight_ih, bias)


class RNNCell(_CellBase):
    """One Elman RNN step: input (N, H_in) or (H_in), h (N, H) -> h' (N, H)."""

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh"
    ):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}"
            )
        super().__init__("RNN", input_size, hidden_size, bias)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        """(N, H_in), (N, H) -> (N, H); unbatched (H_in), (H) -> (H)."""
        x, (h,), batched = self._check(input, hx, 1)
        h = rnn_step(self._project(x), h, self.weight_hh.T, self.nonlinearity == "relu")
        return h if batched else h.squeeze(0)


class LSTMCell(_CellBase):
    """One LSTM step: input (N, H_in), (h, c) each (N, H) -> (h', c')."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True):
        super().__init__("LSTM", input_size, hidden_size, bias)

    def forward(self, input: Tensor, hx: Any = None) -> tuple[Tensor, Tensor]:
        """(N, H_in), ((N, H), (N, H)) -> ((N, H), (N, H)); unbatched drops N."""
        x, (h, c), batched = self._check(input, hx, 2)
        h, c = lstm_step(self._project(x), h, c, self.weight_hh.T)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(_CellBase):
    """One GRU step: input (N, H_in), h (N, H) -> h' (N, H); reset_after=False: course GRU."""

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, reset_after: bool = True
    ):
        super().__init__("GRU", input_size, hidden_size, bias)
        self.reset_after = reset_after

    def extra_repr(self) -> str:
        return super().extra_repr() + ("" if self.reset_after else ", reset_after=False")

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        """(N, H_in), (N, H) -> (N, H); unbatched (H_in), (H) -> (H)."""
        x, (h,), batched = self._check(input, hx, 1)
        h = gru_step(self._project(x), h, self.weight_hh.T, self.bias_hh, self.reset_after)
        return h if batched else h.squeeze(0)
