"""Opt-in fused recurrent steps: one op per time step, with the backward derived by hand.

The default cells in `nn` are compositions of primitive ops, so their gradients come from the
engine alone. `nn.RNN/GRU/LSTM(..., fused=True)` instead run each time step as one of the ops
below, whose backward is the hand derivation of docs/backward.md written out in numpy (the same
algebra as `manual/`, in PyTorch's layout: rows are examples, gates in PyTorch's order). One
node per step instead of about thirteen means less Python overhead and far fewer arrays kept for
backward. tests/test_fused.py checks that every gradient equals the composed cell's.

Shapes: xw (N, G*H) is the step's input projection x W_ih^T + biases, h and c are (N, H),
whh_t is W_hh^T (H, G*H).
"""

from __future__ import annotations

import numpy as np

from .autograd import Function
from .grads import OuterGrad
from .kernels import matmul, sigmoid


class RNNStep(Function):
    """h' = tanh(xw + h W_hh^T) (or relu): (N, H), (N, H), (H, H) -> (N, H)."""

    @staticmethod
    def forward(ctx, xw, h, whh_t, relu: bool):
        pre = xw + matmul(h, whh_t)
        out = np.maximum(pre, 0, out=pre) if relu else np.tanh(pre, out=pre)
        ctx.save_for_backward(h, whh_t, out)
        ctx.relu = relu
        return out

    @staticmethod
    def backward(ctx, g):
        # dpre = g * tanh'(pre) = g (1 - h'^2)  [relu: g where h' > 0]; then pre = xw + h W^T
        h, whh_t, out = ctx.saved_tensors
        dpre = g * (out > 0) if ctx.relu else g * (1 - out * out)
        return dpre, matmul(dpre, whh_t.T), OuterGrad(h, dpre)


class LSTMStep(Function):
    """One LSTM step -> [h' | c'] (N, 2H): gates i, f, g, o from xw (N, 4H) + h W_hh^T."""

    @staticmethod
    def forward(ctx, xw, h, c, whh_t):
        H = h.shape[1]
        gates = xw + matmul(h, whh_t)
        act = np.empty_like(gates)
        act[:, : 2 * H] = sigmoid(gates[:, : 2 * H])  # i, f
        act[:, 2 * H : 3 * H] = np.tanh(gates[:, 2 * H : 3 * H])  # g
        act[:, 3 * H :] = sigmoid(gates[:, 3 * H :])  # o
        i, f, gg, o = act[:, :H], act[:, H : 2 * H], act[:, 2 * H : 3 * H], act[:, 3 * H :]
        out = np.empty((h.shape[0], 2 * H), dtype=gates.dtype)
        c_next = out[:, H:]
        np.multiply(f, c, out=c_next)
        c_next += i * gg
        tc = np.tanh(c_next)
        np.multiply(o, tc, out=out[:, :H])
        ctx.save_for_backward(h, c, whh_t, act, tc)
        return out

    @staticmethod
    def backward(ctx, grad):
        # c' = f c + i g, h' = o tanh(c'): dc' += dh' o (1 - tanh^2 c'); each gate's
        # pre-activation gradient is its output gradient times sigma' = s(1-s) or tanh' = 1-t^2
        h, c, whh_t, act, tc = ctx.saved_tensors
        H = h.shape[1]
        i, f, gg, o = act[:, :H], act[:, H : 2 * H], act[:, 2 * H : 3 * H], act[:, 3 * H :]
        dh, dc = grad[:, :H], grad[:, H:]
        dc = dc + dh * o * (1 - tc * tc)
        dgates = np.empty_like(act)
        dgates[:, :H] = dc * gg * i * (1 - i)
        dgates[:, H : 2 * H] = dc * c * f * (1 - f)
        dgates[:, 2 * H : 3 * H] = dc * i * (1 - gg * gg)
        dgates[:, 3 * H :] = dh * tc * o * (1 - o)
        return dgates, matmul(dgates, whh_t.T), dc * f, OuterGrad(h, dgates)


class GRUStep(Function):
    """One PyTorch GRU step: xw (N, 3H) with b_ih, h (N, H), W_hh^T, b_hh -> h' (N, H)."""

    @staticmethod
    def forward(ctx, xw, h, whh_t, bhh):
        H = h.shape[1]
        hw = matmul(h, whh_t)
        hw += bhh
        rz = sigmoid(xw[:, : 2 * H] + hw[:, : 2 * H])
        r, z = rz[:, :H], rz[:, H:]
        n = np.tanh(xw[:, 2 * H :] + r * hw[:, 2 * H :])
        out = h - n
        out *= z
        out += n  # h' = (1 - z) n + z h = n + z (h - n)
        ctx.save_for_backward(h, whh_t, hw[:, 2 * H :], rz, n)
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
        dhw[:, 2 * H :] = dpre_n * r
        dh = matmul(dhw, whh_t.T)
        dh += g * z
        return dxw, dh, OuterGrad(h, dhw), dhw.sum(axis=0)
