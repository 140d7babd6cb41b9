"""The recurrent family, RNN, GRU and LSTM: step functions, cells, sequence layers, fused steps.

The idea: a recurrent network is one step function applied again and again, h' = step(x, h).
Each step here is a handful of ordinary ops (matmul, add, sigmoid, tanh, slicing), so the
unrolled loop *is* the graph and backpropagation through time is the engine's usual walk back
over it: no recurrent backward is written for the default cells. Parameter names, shapes, gate
order and equations are PyTorch's, so weights move between the two unchanged:

    RNN   h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)                  (or relu)
    LSTM  i, f, g, o = split(x W_ih^T + b_ih + h W_hh^T + b_hh)          gates i, f, g, o
          c' = sigmoid(f) * c + sigmoid(i) * tanh(g);  h' = sigmoid(o) * tanh(c')
    GRU   r, z = sigmoid(x W_i{r,z}^T + b_i{r,z} + h W_h{r,z}^T + b_h{r,z})
          n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))             reset_after=True
          n = tanh(x W_in^T + b_in + (r * h) W_hn^T + b_hn)             reset_after=False
          h' = (1 - z) * n + z * h

The file reads top to bottom, from one time step to whole sequences:

- *Projections and weights*: x W_ih^T does not depend on h, so a layer computes it for all
  time steps with one matmul before the loop (a `Projection`, every bias that is simply added
  folded in), and copies W_hh^T once into the C order that h @ W_hh^T is fastest with (a
  `StepWeights`). A cell builds the same two structures for its single step.
- *Composed steps* (`rnn_step`, `lstm_step`, `gru_step`): one time step as primitive ops, the
  default. Given t, a step reads row t of the whole sequence's projection inside the op that
  adds it (`AddMM` / `AddCMul` with row=t), so x[t] needs no graph node of its own.
- *Fused steps* (`RNNStep`, `LSTMStep`, `GRUStep`): the same step as one op whose backward is
  the hand derivation of docs/backward.md in PyTorch's layout (rows are examples). One node per
  step instead of several means less Python and fewer saved arrays; the layers use them with
  fused=True, and the tests check that they give the composed steps' numbers.
- *Cells* (`RNNCell`, `LSTMCell`, `GRUCell`): one step on (N, H_in) inputs, as in PyTorch.
- *Layers* (`RNNBase`, `RNN`, `LSTM`, `GRU`): multi-layer, bidirectional, padded batches.
  Every step is recorded under the scope "l{k}[_reverse]" / "t={step}", so drawings and error
  messages can say where in the unrolled network an op sits. With `lengths`, a sequence's state
  stops changing after its last real step (`where(t < length, new, old)`) and its outputs there
  are zero, which equals PyTorch's pack_padded_sequence route, gradients included. A
  PackedSequence input (nn.utils.rnn) is padded, run with its lengths, and packed again.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, NamedTuple

import numpy as np

from .. import functional as F
from .. import ops
from ..autograd import Function, scope
from ..dtypes import get_default_dtype
from ..grads import OuterGrad, SparseGrad
from ..kernels import gc_paused, matmul, sigmoid
from ..random import get_generator
from ..tensor import Tensor, cat, stack, where
from .module import Module, Parameter
from .utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

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
            f"{tuple(x.shape)}"
        )
    if x.shape[-1] != weight.shape[1]:
        raise RuntimeError(  # PyTorch's type for a feature-count mismatch
            f"{name}: input has {x.shape[-1]} features, expected {weight.shape[1]}"
        )
    if x.dtype.kind != "f":
        raise ValueError(f"{name}: input must be floating point, got dtype {x.dtype}")
    if x.dtype != weight.dtype:
        raise ValueError(  # PyTorch raises ValueError for a dtype mismatch
            f"{name}: input has dtype {x.dtype} but the parameters are {weight.dtype}; convert "
            f"the input (x.to(ts.{weight.dtype})) or the module (.double() / .float())"
        )


# ----------------------------------------------------------------------------- projections


class Projection(NamedTuple):
    """x W_ih^T + biases of one direction: (L, N, .) for all steps of a layer, (N, .) in a cell.

    Every bias a step would only add is folded in: b_ih + b_hh for RNN and LSTM; for the GRU all
    but b_hn, which the reset gate scales (with reset_after=False, b_hn too). Each step kind
    reads its own fields; the others stay None.
    """

    xw: Tensor | None = None  # all gates (.., G*H): RNN, LSTM, the fused GRU
    xw_rz: Tensor | None = None  # the composed GRU's r and z gates (.., 2H)
    xw_n: Tensor | None = None  # the composed GRU's n gate (.., H)


class StepWeights(NamedTuple):
    """The hidden-side weights of one direction, as its step multiplies h by them.

    In a layer each W^T is copied once per sequence into C order (`_weight_t`); a cell uses the
    transposed view. Each step kind reads its own fields; the others stay None.
    """

    whh_t: Tensor | None = None  # W_hh^T (H, G*H), all gates: RNN, LSTM, the fused GRU
    whh_rz_t: Tensor | None = None  # the composed GRU's W_h{r,z}^T (H, 2H)
    whh_n_t: Tensor | None = None  # the composed GRU's W_hn^T (H, H)
    bhh_n: Tensor | None = None  # GRU, reset_after=True: b_hn (H,) inside r * (h W_hn^T + b_hn)
    whr_t: Tensor | None = None  # LSTM with proj_size: W_hr^T (H, P), h = (o tanh(c)) W_hr^T


def _weight_t(w: Tensor) -> Tensor:
    """W^T (in, out) of a weight (out, in) in C order, the fast layout for h @ W^T.

    The copy watches w: changing w in place before backward raises, as in PyTorch's layers.
    """
    wt = w.T
    return wt if wt.is_contiguous() else ops.Contiguous.apply(wt, watch=True)


def input_projection(
    x: Tensor, w_ih: Tensor, b_ih: Tensor | None, b_hh: Tensor | None
) -> Projection:
    """RNN and LSTM: x (.., in) -> Projection(xw = x W_ih^T + b_ih + b_hh (.., G*H))."""
    bias = None if b_ih is None else b_ih + b_hh
    return Projection(xw=F.linear(x, w_ih, bias))


def hidden_weights(w_hh: Tensor, copy: bool) -> StepWeights:
    """RNN and LSTM: W_hh (G*H, H) -> StepWeights(whh_t = W_hh^T), copied to C order if copy."""
    return StepWeights(whh_t=_weight_t(w_hh) if copy else w_hh.T)


def gru_input_projection(
    x: Tensor,
    w_ih: Tensor,
    b_ih: Tensor | None,
    b_hh: Tensor | None,
    reset_after: bool,
    joint: bool = False,
) -> Projection:
    """GRU: x (.., in) -> xw_rz (.., 2H) and xw_n (.., H); joint=True (fused): xw (.., 3H).

    r and z carry b_i{r,z} + b_h{r,z}, n carries b_in (reset_after=False: b_in + b_hn). Apart,
    the two projections are two matmuls whose gradients need no joint (L, N, 3H) buffer.
    """
    H = w_ih.shape[0] // 3
    b_rz = b_n = None
    if b_ih is not None:
        b_rz = b_ih[: 2 * H] + b_hh[: 2 * H]
        b_n = b_ih[2 * H :] if reset_after else b_ih[2 * H :] + b_hh[2 * H :]
    if joint:
        return Projection(xw=F.linear(x, w_ih, None if b_ih is None else cat([b_rz, b_n])))
    return Projection(xw_rz=F.linear(x, w_ih[: 2 * H], b_rz), xw_n=F.linear(x, w_ih[2 * H :], b_n))


def gru_hidden_weights(
    w_hh: Tensor, b_hh: Tensor | None, reset_after: bool, copy: bool, joint: bool = False
) -> StepWeights:
    """GRU: W_hh (3H, H) -> W_h{r,z}^T and W_hn^T apart (joint=True, fused: W_hh^T), and b_hn."""
    H = w_hh.shape[1]
    bhh_n = b_hh[2 * H :] if b_hh is not None and reset_after else None
    if joint:
        return StepWeights(whh_t=_weight_t(w_hh) if copy else w_hh.T, bhh_n=bhh_n)
    w_rz, w_n = w_hh[: 2 * H], w_hh[2 * H :]
    if copy:
        return StepWeights(whh_rz_t=_weight_t(w_rz), whh_n_t=_weight_t(w_n), bhh_n=bhh_n)
    return StepWeights(whh_rz_t=w_rz.T, whh_n_t=w_n.T, bhh_n=bhh_n)


# ----------------------------------------------------------------------------- composed steps


# A step takes one step's projection (N, G), or with t the whole sequence's (L, N, G) and reads
# its row t inside the op that adds it: xw[t] + h W_hh^T is one AddMM node, x[t] has none.


def part(t: Tensor, start: int, stop: int) -> Tensor:
    """t[:, start:stop] of a step's own (N, G) tensor (its gates): (N, G) -> (N, stop - start).

    A plain slice, not tracked as a view of t (Tensor._as_view): t never leaves the step and
    is never changed in place, so the bookkeeping that keeps views right would only cost time.
    """
    return ops.Index.apply(t, key=(slice(None), slice(start, stop)), advanced=False)


def rnn_step(xw: Tensor, h: Tensor, whh_t: Tensor, relu: bool, t: int | None = None) -> Tensor:
    """(N, H) projected input (or (L, N, H) and step t) + (N, H) state -> next state (N, H)."""
    pre = ops.AddMM.apply(xw, h, whh_t, row=t)  # xw + h W_hh^T as one op
    return pre.relu() if relu else pre.tanh()


def lstm_step(
    xw: Tensor, h: Tensor, c: Tensor, whh_t: Tensor, t: int | None = None
) -> tuple[Tensor, Tensor]:
    """(N, 4H) projected input (or (L, N, 4H) and step t), (N, H) h and c -> (h', c').

    Gate order i, f, g, o. With a projection (proj_size) h is (N, P) and W_hh^T (P, 4H).
    """
    H = whh_t._data.shape[-1] // 4
    gates = ops.AddMM.apply(xw, h, whh_t, row=t)  # xw + h W_hh^T as one op
    act = gates.sigmoid()  # one op for i, f and o (g's quarter is computed and unused)
    i, f, o = part(act, 0, H), part(act, H, 2 * H), part(act, 3 * H, 4 * H)
    g = part(gates, 2 * H, 3 * H).tanh()
    c_next = (f * c).addcmul(i, g)  # f c + i g
    return o * c_next.tanh(), c_next


def gru_step(
    xw_rz: Tensor,
    xw_n: Tensor,
    h: Tensor,
    whh_rz_t: Tensor,
    whh_n_t: Tensor,
    bhh_n: Tensor | None,
    reset_after: bool,
    t: int | None = None,
) -> Tensor:
    """One GRU step: xw_rz (N, 2H), xw_n (N, H) (or (L, N, .) and step t), h (N, H) -> h'.

    Two hidden matmuls, W_h{r,z}^T (H, 2H) and W_hn^T (H, H), so that r and z come out of one
    op (xw_rz + h W^T) with no slicing of a joint product: fewer graph nodes per step.
    reset_after=True (PyTorch): n = tanh(xw_n + r (h W_hn^T + b_hn)); reset_after=False (the
    course): n = tanh(xw_n + (r h) W_hn^T) with b_hn already in xw_n.
    """
    H = h._data.shape[-1]
    rz = ops.AddMM.apply(xw_rz, h, whh_rz_t, row=t).sigmoid()
    r = part(rz, 0, H)
    if reset_after:
        hn = h @ whh_n_t if bhh_n is None else ops.AddMM.apply(bhh_n, h, whh_n_t)
        pre_n = ops.AddCMul.apply(xw_n, r, hn, row=t)  # xw_n + r (h W_hn^T + b_hn)
    else:
        pre_n = ops.AddMM.apply(xw_n, r * h, whh_n_t, row=t)  # xw_n + (r h) W_hn^T
    return pre_n.tanh().lerp(h, part(rz, H, 2 * H))  # n + z (h - n) = (1 - z) n + z h


# ----------------------------------------------------------------------------- fused steps

# The same steps, each as one op with its backward derived by hand (docs/backward.md). xw is
# one step's projection (N, G*H), or with row=t the whole sequence's (L, N, G*H), as in AddMM.


def _row(xw: np.ndarray, row: int | None) -> np.ndarray:
    return xw if row is None else xw[row]


def _xw_grad(ctx: Any, g: np.ndarray) -> np.ndarray | SparseGrad:
    """The gradient of a fused step's xw: g itself, or with row=t g as the row piece of xw."""
    shape, row = ctx.xw_at
    return g if row is None else SparseGrad(shape, (row,), g, False)


class RNNStep(Function):
    """h' = tanh(xw + h W_hh^T) (or relu): (N, H), (N, H), (H, H) -> (N, H)."""

    @staticmethod
    def forward(ctx, xw, h, whh_t, relu: bool, row: int | None = None):
        pre = matmul(h, whh_t)
        pre += _row(xw, row)
        out = np.maximum(pre, 0, out=pre) if relu else np.tanh(pre, out=pre)
        ctx.save_for_backward(h, whh_t, out)
        ctx.relu, ctx.xw_at = relu, (xw.shape, row)
        return out

    @staticmethod
    def backward(ctx, g):
        # dpre = g * tanh'(pre) = g (1 - h'^2)  [relu: g where h' > 0]; then pre = xw + h W^T
        h, whh_t, out = ctx.saved_tensors
        dpre = g * (out > 0) if ctx.relu else g * (1 - out * out)
        return _xw_grad(ctx, dpre), matmul(dpre, whh_t.T), OuterGrad(h, dpre)


class LSTMStep(Function):
    """One LSTM step -> [h' | c'] (N, 2H): gates i, f, g, o from xw (N, 4H) + h W_hh^T."""

    @staticmethod
    def forward(ctx, xw, h, c, whh_t, row: int | None = None):
        H = c.shape[1]  # h is (N, P) with a projection
        gates = matmul(h, whh_t)
        gates += _row(xw, row)
        act = np.empty_like(gates)
        act[:, : 2 * H] = sigmoid(gates[:, : 2 * H])  # i, f
        act[:, 2 * H : 3 * H] = np.tanh(gates[:, 2 * H : 3 * H])  # g
        act[:, 3 * H :] = sigmoid(gates[:, 3 * H :])  # o
        i, f, gg, o = act[:, :H], act[:, H : 2 * H], act[:, 2 * H : 3 * H], act[:, 3 * H :]
        out = np.empty((c.shape[0], 2 * H), dtype=gates.dtype)
        c_next = out[:, H:]
        np.multiply(f, c, out=c_next)
        c_next += i * gg
        tc = np.tanh(c_next)
        np.multiply(o, tc, out=out[:, :H])
        ctx.save_for_backward(h, c, whh_t, act, tc)
        ctx.xw_at = (xw.shape, row)
        return out

    @staticmethod
    def backward(ctx, grad):
        # c' = f c + i g, h' = o tanh(c'): dc' += dh' o (1 - tanh^2 c'); each gate's
        # pre-activation gradient is its output gradient times sigma' = s(1-s) or tanh' = 1-t^2
        h, c, whh_t, act, tc = ctx.saved_tensors
        H = c.shape[1]
        i, f, gg, o = act[:, :H], act[:, H : 2 * H], act[:, 2 * H : 3 * H], act[:, 3 * H :]
        dh, dc = grad[:, :H], grad[:, H:]
        dc = dc + dh * o * (1 - tc * tc)
        dgates = np.empty_like(act)
        dgates[:, :H] = dc * gg * i * (1 - i)
        dgates[:, H : 2 * H] = dc * c * f * (1 - f)
        dgates[:, 2 * H : 3 * H] = dc * i * (1 - gg * gg)
        dgates[:, 3 * H :] = dh * tc * o * (1 - o)
        return _xw_grad(ctx, dgates), matmul(dgates, whh_t.T), dc * f, OuterGrad(h, dgates)


class GRUStep(Function):
    """One PyTorch GRU step: xw (N, 3H), h (N, H), W_hh^T (H, 3H)[, b_hn (H,)] -> h' (N, H).

    xw carries b_i{r,z} + b_h{r,z} and b_in, as gru_input_projection(joint=True) makes it.
    """

    @staticmethod
    def forward(ctx, xw, h, whh_t, bhh_n=None, row: int | None = None):
        H = h.shape[1]
        x = _row(xw, row)
        hw = matmul(h, whh_t)
        hn = hw[:, 2 * H :]
        if bhh_n is not None:
            hn += bhh_n  # h W_hn^T + b_hn
        rz = sigmoid(x[:, : 2 * H] + hw[:, : 2 * H])
        r, z = rz[:, :H], rz[:, H:]
        n = np.tanh(x[:, 2 * H :] + r * hn)
        out = h - n
        out *= z
        out += n  # h' = (1 - z) n + z h = n + z (h - n)
        ctx.save_for_backward(h, whh_t, hn, rz, n)
        ctx.xw_at = (xw.shape, row)
        return out

    @staticmethod
    def backward(ctx, g):
        # n = tanh(a_n + r hn): dpre_n = dn (1 - n^2), dr = dpre_n hn, dhn = dpre_n r;
        # h' = n + z (h - n): dz = g (h - n), dn = g (1 - z), dh (direct) = g z
        h, whh_t, hn, rz, n = ctx.saved_tensors
        H = h.shape[1]
        r, z = rz[:, :H], rz[:, H:]
        dpre_n = g * (1 - z) * (1 - n * n)
        dxw = np.empty((h.shape[0], 3 * H), dtype=g.dtype)
        dxw[:, :H] = dpre_n * hn * r * (1 - r)
        dxw[:, H : 2 * H] = g * (h - n) * z * (1 - z)
        dxw[:, 2 * H :] = dpre_n
        dhw = dxw.copy()
        dhn = dhw[:, 2 * H :]
        dhn *= r  # dhn = dpre_n r
        dh = matmul(dhw, whh_t.T)
        dh += g * z
        grads = (_xw_grad(ctx, dxw), dh, OuterGrad(h, dhw))
        return grads if len(ctx.needs_input_grad) == 3 else grads + (dhn.sum(axis=0),)


# ----------------------------------------------------------------------------- cells


class _CellBase(Module):
    def __init__(self, mode: str, input_size: int, hidden_size: int, bias: bool):
        super().__init__()
        for name, v in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(v, int) or v <= 0:
                raise ValueError(f"{type(self).__name__}: {name} must be a positive int, got {v!r}")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.bias = bias
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
                raise RuntimeError(
                    f"{name}: hidden state has shape {tuple(s.shape)}, expected {want}"
                )
            out.append(s if batched else s.unsqueeze(0))
        return x, out, batched

    def _prepare(self, x: Tensor) -> tuple[Projection, StepWeights]:
        """RNN and LSTM: x (N, in) -> its projection and W_hh^T (a view: one step only)."""
        p = input_projection(x, self.weight_ih, self.bias_ih, self.bias_hh)
        return p, hidden_weights(self.weight_hh, copy=False)


class RNNCell(_CellBase):
    """One Elman RNN step: input (N, H_in) or (H_in), h (N, H) -> h' (N, H)."""

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh"
    ):
        if nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(  # PyTorch: RuntimeError, though only at the first call
                f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}"
            )
        super().__init__("RNN", input_size, hidden_size, bias)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        """(N, H_in), (N, H) -> (N, H); unbatched (H_in), (H) -> (H)."""
        x, (h,), batched = self._check(input, hx, 1)
        p, w = self._prepare(x)
        h = rnn_step(p.xw, h, w.whh_t, self.nonlinearity == "relu")
        return h if batched else h.squeeze(0)


class LSTMCell(_CellBase):
    """One LSTM step: input (N, H_in), (h, c) each (N, H) -> (h', c')."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True):
        super().__init__("LSTM", input_size, hidden_size, bias)

    def forward(self, input: Tensor, hx: Any = None) -> tuple[Tensor, Tensor]:
        """(N, H_in), ((N, H), (N, H)) -> ((N, H), (N, H)); unbatched drops N."""
        x, (h, c), batched = self._check(input, hx, 2)
        p, w = self._prepare(x)
        h, c = lstm_step(p.xw, h, c, w.whh_t)
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

    def _prepare(self, x: Tensor) -> tuple[Projection, StepWeights]:
        """x (N, in) -> the r, z and n projections and W_h{r,z}^T, W_hn^T (views), b_hn."""
        ra = self.reset_after
        p = gru_input_projection(x, self.weight_ih, self.bias_ih, self.bias_hh, ra)
        return p, gru_hidden_weights(self.weight_hh, self.bias_hh, ra, copy=False)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        """(N, H_in), (N, H) -> (N, H); unbatched (H_in), (H) -> (H)."""
        x, (h,), batched = self._check(input, hx, 1)
        p, w = self._prepare(x)
        h = gru_step(p.xw_rz, p.xw_n, h, w.whh_rz_t, w.whh_n_t, w.bhh_n, self.reset_after)
        return h if batched else h.squeeze(0)


# ----------------------------------------------------------------------------- layers


class RNNBase(Module):
    """Shared machinery of RNN, GRU and LSTM: parameters, checks, the unrolled loop.

    The arguments are PyTorch's, in PyTorch's order; two of ours are keyword-only:
    retain_states=True keeps every step's state (with its gradient) in `states`, and
    fused=True runs each step as one hand-derived op. A layer class sets MODE and its step.
    """

    MODE = ""  # "RNN", "GRU" or "LSTM": set by each layer class

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        *,
        retain_states: bool = False,
        fused: bool = False,
    ):
        super().__init__()
        name = mode = self.MODE
        for arg, v in (
            ("input_size", input_size),
            ("hidden_size", hidden_size),
            ("num_layers", num_layers),
        ):
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise ValueError(f"{name}: {arg} must be a positive int, got {v!r}")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)):
            raise ValueError(f"{name}: dropout must be a number in [0, 1], got {dropout!r}")
        if not 0.0 <= float(dropout) <= 1.0:
            raise ValueError(
                f"{name}: dropout should be a number in range [0, 1] representing the "
                f"probability of an element being zeroed, got {dropout}"
            )
        if isinstance(proj_size, bool) or not isinstance(proj_size, int) or proj_size < 0:
            raise ValueError(
                f"{name}: proj_size should be a positive integer or zero to disable "
                f"projections, got {proj_size!r}"
            )
        if proj_size >= hidden_size:
            raise ValueError(
                f"{name}: proj_size has to be smaller than hidden_size, got proj_size="
                f"{proj_size} and hidden_size={hidden_size}"
            )
        if float(dropout) > 0 and num_layers == 1:
            warnings.warn(  # PyTorch's warning: the dropout would never be applied
                "dropout option adds dropout after all but last recurrent layer, so non-zero "
                f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                f"num_layers={num_layers}",
                UserWarning,
                stacklevel=2,
            )
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional = float(dropout), bidirectional
        self.proj_size = proj_size  # LSTM only: h = (o * tanh(c)) W_hr^T, of size proj_size
        self.retain_states = retain_states
        self.fused = bool(fused)  # one hand-derived op per step (RNNStep, LSTMStep, GRUStep)
        self.states: dict[str, dict[str, list[Tensor]]] = {}
        G, H, D = GATES[mode], hidden_size, 2 if bidirectional else 1
        R = self._state_size()  # the size of h: proj_size or hidden_size
        k = 1.0 / math.sqrt(hidden_size)
        for layer in range(num_layers):
            in_size = input_size if layer == 0 else D * R
            for sfx in self._suffixes():
                self.register_parameter(
                    f"weight_ih_l{layer}{sfx}", uniform_parameter((G * H, in_size), k)
                )
                self.register_parameter(
                    f"weight_hh_l{layer}{sfx}", uniform_parameter((G * H, R), k)
                )
                b_ih = uniform_parameter((G * H,), k) if bias else None
                b_hh = uniform_parameter((G * H,), k) if bias else None
                self.register_parameter(f"bias_ih_l{layer}{sfx}", b_ih)
                self.register_parameter(f"bias_hh_l{layer}{sfx}", b_hh)
                if proj_size:
                    w_hr = uniform_parameter((proj_size, H), k)
                    self.register_parameter(f"weight_hr_l{layer}{sfx}", w_hr)

    def _state_size(self) -> int:
        """The size of h: proj_size when the LSTM projects its states, else hidden_size."""
        return self.proj_size if self.proj_size else self.hidden_size

    def _suffixes(self) -> tuple[str, ...]:
        return ("", "_reverse") if self.bidirectional else ("",)

    @property
    def all_weights(self) -> list[list[Tensor]]:
        """[w_ih, w_hh, b_ih, b_hh] per layer and direction (biases left out when bias=False)."""
        out = []
        for layer in range(self.num_layers):
            for sfx in self._suffixes():
                names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if self.bias else [])
                names += ["weight_hr"] if self.proj_size else []
                out.append([getattr(self, f"{n}_l{layer}{sfx}") for n in names])
        return out

    def flatten_parameters(self) -> None:
        """No-op, for scripts written for PyTorch's cuDNN layers."""

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        for arg, default in (
            ("fused", False),
            ("bias", True),
            ("batch_first", False),
            ("dropout", 0.0),
            ("bidirectional", False),
            ("proj_size", 0),
        ):
            if getattr(self, arg) != default:
                s += f", {arg}={getattr(self, arg)}"
        return s

    # ------------------------------------------------------------------ checks
    def _check_input(self, x: Any) -> tuple[Tensor, bool]:
        name = type(self).__name__
        layout = "(N, L, H_in)" if self.batch_first else "(L, N, H_in)"
        check_recurrent_input(
            name, x, (2, 3), f"{layout} or (L, H_in) unbatched", self.weight_ih_l0
        )
        batched = x.ndim == 3
        if not batched:
            x = x.unsqueeze(1)
        elif self.batch_first:
            x = x.transpose(0, 1)
        return x, batched

    def _check_state(self, s: Any, label: str, N: int, batched: bool, dtype: Any) -> Tensor:
        D = 2 if self.bidirectional else 1
        size = self.hidden_size if label == "c_0" else self._state_size()
        want = (D * self.num_layers, N, size) if batched else (D * self.num_layers, size)
        if s is None:
            return Tensor._make(np.zeros((D * self.num_layers, N, size), dtype=dtype), False, None)
        if not isinstance(s, Tensor):
            raise TypeError(
                f"{type(self).__name__}: {label} must be a Tensor, got {type(s).__name__}"
            )
        if tuple(s.shape) != want:
            raise RuntimeError(
                f"{type(self).__name__}: {label} has shape {tuple(s.shape)}, expected {want}"
            )
        return s if batched else s.unsqueeze(1)

    def _check_lengths(self, lengths: Any, L: int, N: int) -> np.ndarray | None:
        if lengths is None:
            return None
        name = type(self).__name__
        arr = np.asarray(lengths._data if isinstance(lengths, Tensor) else lengths)
        if arr.ndim != 1 or arr.shape[0] != N:
            raise ValueError(
                f"{name}: lengths must have one entry per sequence ({N}), got shape {arr.shape}"
            )
        if arr.dtype.kind not in "iu":
            raise TypeError(f"{name}: lengths must be integers, got dtype {arr.dtype}")
        for i, n in enumerate(arr):
            if n > L:
                raise ValueError(
                    f"{name}: lengths[{i}] = {n} is longer than the sequence ({L} steps)"
                )
            if n < 1:
                raise ValueError(f"{name}: lengths[{i}] = {n}; every sequence needs a step")
        return None if (arr == L).all() else arr.astype(np.int64)

    # ------------------------------------------------------------------ forward
    def forward(self, input: Tensor | PackedSequence, hx: Any = None, lengths: Any = None) -> tuple:
        """input (L, N, H_in) [batch_first: (N, L, H_in)] -> (output (L, N, D*H), h_n).

        A PackedSequence input gives a PackedSequence output (batch_first does not apply).
        """
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx, lengths)
        x, batched = self._check_input(input)
        x, finals_h, finals_c = self._unroll(x, hx, batched, lengths)
        return self._pack_outputs(x, finals_h, finals_c, batched)

    def _forward_packed(self, packed: PackedSequence, hx: Any, lengths: Any) -> tuple:
        """PackedSequence in -> (PackedSequence out, h_n [, c_n] in the original batch order).

        The packed steps are padded (sequences longest first, as packed) and run through the
        `lengths` masking below, whose outputs and final states are PyTorch's packed ones.
        """
        name = type(self).__name__
        if lengths is not None:
            raise ValueError(f"{name}: lengths cannot be given with a PackedSequence input")
        check_recurrent_input(
            name, packed.data, (2,), "(sum of lengths, H_in) in a PackedSequence", self.weight_ih_l0
        )
        x, lens = pad_packed_sequence(PackedSequence(packed.data, packed.batch_sizes))
        x, finals_h, finals_c = self._unroll(x, hx, True, lens, packed.sorted_indices)
        data = pack_padded_sequence(x, lens).data
        output = PackedSequence(
            data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices
        )
        unsort = packed.unsorted_indices
        h_n = stack(finals_h, dim=0)
        h_n = h_n if unsort is None else h_n[:, unsort]
        if self.mode != "LSTM":
            return output, h_n
        c_n = stack(finals_c, dim=0)
        return output, (h_n, c_n if unsort is None else c_n[:, unsort])

    def _unroll(
        self, x: Tensor, hx: Any, batched: bool, lengths: Any, order: Tensor | None = None
    ) -> tuple:
        """x (L, N, H_in) -> (output (L, N, D*H), the final h of each layer and direction, c's).

        order: the batch order of x as positions in hx's (a packed input's sorted_indices).
        """
        L, N = x.shape[0], x.shape[1]
        if self.mode == "LSTM":
            h0, c0 = (None, None) if hx is None else self._split_lstm_hx(hx)
            c0 = self._check_state(c0, "c_0", N, batched, x.dtype)
        else:
            h0, c0 = hx, None
        h0 = self._check_state(h0, "h_0", N, batched, x.dtype)
        if order is not None and hx is not None:  # the states into the packed order
            h0 = h0[:, order]
            c0 = None if c0 is None else c0[:, order]
        lens = self._check_lengths(lengths, L, N)
        masks = (
            None
            if lens is None
            else [Tensor._make((t < lens)[:, None], False, None) for t in range(L)]
        )
        self.states = {}
        finals_h, finals_c = [], []
        D = 2 if self.bidirectional else 1
        for layer in range(self.num_layers):
            outs = []
            for d, sfx in enumerate(self._suffixes()):
                idx = layer * D + d
                c_init = None if c0 is None else c0[idx]
                with scope(f"l{layer}{sfx}"), gc_paused():
                    out, h_n, c_n = self._run_direction(x, h0[idx], c_init, layer, sfx, masks)
                outs.append(out)
                finals_h.append(h_n)
                finals_c.append(c_n)
            x = outs[0] if D == 1 else cat(outs, dim=2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, training=True)
        return x, finals_h, finals_c

    def _split_lstm_hx(self, hx: Any) -> tuple:
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise TypeError("LSTM: hx must be a tuple (h_0, c_0)")
        return hx[0], hx[1]

    def _pack_outputs(self, x: Tensor, hs: list, cs: list, batched: bool) -> tuple:
        h_n = stack(hs, dim=0)
        if batched and self.batch_first:
            x = x.transpose(0, 1)
        if not batched:
            x, h_n = x.squeeze(1), h_n.squeeze(1)
        if self.mode != "LSTM":
            return x, h_n
        c_n = stack(cs, dim=0)
        return x, (h_n, c_n if batched else c_n.squeeze(1))

    def _run_direction(
        self, x: Tensor, h: Tensor, c: Tensor | None, layer: int, sfx: str, masks: list | None
    ) -> tuple:
        """Unroll one layer in one direction over x (L, N, in): -> (L, N, H), h_n, c_n."""
        L = x.shape[0]
        p, w = self._prepare(
            x,
            getattr(self, f"weight_ih_l{layer}{sfx}"),
            getattr(self, f"weight_hh_l{layer}{sfx}"),
            getattr(self, f"bias_ih_l{layer}{sfx}"),
            getattr(self, f"bias_hh_l{layer}{sfx}"),
        )
        step = self._step
        if self.proj_size:  # chosen once: the layers without a projection pay nothing per step
            w = w._replace(whr_t=_weight_t(getattr(self, f"weight_hr_l{layer}{sfx}")))
            step = self._projected_step
        steps = range(L - 1, -1, -1) if sfx else range(L)
        outputs: list = [None] * L
        hs, cs = [], []
        for t in steps:
            with scope(f"t={t}"):
                h_new, c_new = step(p, t, h, c, w)
                if masks is not None:
                    h_new = where(masks[t], h_new, h)
                    c_new = None if c is None else where(masks[t], c_new, c)
                    outputs[t] = where(masks[t], h_new, 0.0)
                else:
                    outputs[t] = h_new
            h, c = h_new, c_new
            if self.retain_states:
                hs.append(h)
                cs.append(c)
        if self.retain_states:
            self._keep_states(layer, sfx, hs, cs)
        return stack(outputs, dim=0), h, c

    def _prepare(
        self, x: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None, b_hh: Tensor | None
    ) -> tuple[Projection, StepWeights]:
        """One direction's projection of all steps (one matmul) and W_hh^T copied to C order."""
        return input_projection(x, w_ih, b_ih, b_hh), hidden_weights(w_hh, copy=True)

    def _step(
        self, p: Projection, t: int, h: Tensor, c: Tensor | None, w: StepWeights
    ) -> tuple[Tensor, Tensor | None]:
        """One time step t: -> (h', c'), c' None but for the LSTM."""
        raise TypeError(  # pragma: no cover - each layer class defines its step
            f"{type(self).__name__} has no time step: use nn.RNN, nn.GRU or nn.LSTM"
        )

    def _projected_step(
        self, p: Projection, t: int, h: Tensor, c: Tensor | None, w: StepWeights
    ) -> tuple[Tensor, Tensor | None]:
        """One LSTM step with a projection: h' = (o * tanh(c')) W_hr^T (N, proj_size)."""
        h_new, c_new = self._step(p, t, h, c, w)
        return h_new @ w.whr_t, c_new

    def _keep_states(self, layer: int, sfx: str, hs: list, cs: list) -> None:
        """Store per-step states in time order, each retaining its grad (total dL/dh_t)."""
        if sfx:
            hs, cs = hs[::-1], cs[::-1]
        entry = {"h": hs}
        if self.mode == "LSTM":
            entry["c"] = cs
        for seq in entry.values():
            for s in seq:
                if s.requires_grad:
                    s.retain_grad()
        self.states[f"l{layer}{sfx}"] = entry


def _no_projection(kwargs: dict) -> None:
    if "proj_size" in kwargs:
        raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")


class RNN(RNNBase):
    """Elman RNN over a sequence: (L, N, H_in) -> output (L, N, D*H), h_n (D*layers, N, H)."""

    MODE = "RNN"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        *args: Any,
        **kwargs: Any,
    ):
        """RNNBase's arguments, with nonlinearity fourth ('tanh' or 'relu') as in PyTorch."""
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        _no_projection(kwargs)
        super().__init__(input_size, hidden_size, num_layers, *args, **kwargs)
        self.nonlinearity = nonlinearity

    def extra_repr(self) -> str:
        return super().extra_repr() + (
            ", nonlinearity='relu'" if self.nonlinearity == "relu" else ""
        )

    def _step(self, p, t, h, c, w):
        relu = self.nonlinearity == "relu"
        if self.fused:
            return RNNStep.apply(p.xw, h, w.whh_t, relu=relu, row=t), None
        return rnn_step(p.xw, h, w.whh_t, relu, t), None


class LSTM(RNNBase):
    """LSTM over a sequence: -> output (L, N, D*H), (h_n, c_n) each (D*layers, N, H).

    With proj_size = P > 0, h is projected, h = (o * tanh(c)) W_hr^T: output (L, N, D*P) and
    h_n (D*layers, N, P); c_n keeps H.
    """

    MODE = "LSTM"

    def _step(self, p, t, h, c, w):
        if self.fused:
            hc = LSTMStep.apply(p.xw, h, c, w.whh_t, row=t)
            H = self.hidden_size
            return part(hc, 0, H), part(hc, H, 2 * H)
        return lstm_step(p.xw, h, c, w.whh_t, t)


class GRU(RNNBase):
    """GRU over a sequence: -> output (L, N, D*H), h_n (D*layers, N, H); reset_after as Keras."""

    MODE = "GRU"

    def __init__(self, *args: Any, reset_after: bool = True, **kwargs: Any):
        """RNNBase's arguments; reset_after=False is the course's GRU (no fused form)."""
        _no_projection(kwargs)
        super().__init__(*args, **kwargs)
        if self.fused and not reset_after:
            raise ValueError("GRU: fused=True implements PyTorch's GRU (reset_after=True) only")
        self.reset_after = reset_after

    def extra_repr(self) -> str:
        return super().extra_repr() + ("" if self.reset_after else ", reset_after=False")

    def _prepare(self, x, w_ih, w_hh, b_ih, b_hh):
        """The r, z and n projections of all steps and W_h{r,z}^T, W_hn^T, b_hn (fused: joint)."""
        ra, joint = self.reset_after, self.fused
        p = gru_input_projection(x, w_ih, b_ih, b_hh, ra, joint)
        return p, gru_hidden_weights(w_hh, b_hh, ra, copy=True, joint=joint)

    def _step(self, p, t, h, c, w):
        if self.fused:
            if w.bhh_n is None:
                return GRUStep.apply(p.xw, h, w.whh_t, row=t), None
            return GRUStep.apply(p.xw, h, w.whh_t, w.bhh_n, row=t), None
        return gru_step(
            p.xw_rz, p.xw_n, h, w.whh_rz_t, w.whh_n_t, w.bhh_n, self.reset_after, t
        ), None
