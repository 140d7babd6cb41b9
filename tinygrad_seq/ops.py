"""Primitive ops: one Function per op, its backward directly under its forward.

Each backward receives g = dL/dout and returns dL/dinput for every input, with the derivative
it applies in a one-line comment. Binary ops broadcast like numpy in forward, so in backward
they sum the gradient back to each input's shape with `unbroadcast`.
"""

from __future__ import annotations

import math

import numpy as np

from . import kernels
from .autograd import Context, Function
from .grads import OuterGrad, SparseGrad
from .kernels import matmul, matmul_into_buffer


def unbroadcast(g: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum g over the axes that broadcasting added or stretched, giving an array of `shape`."""
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g


def _broadcast_error(name: str, a: np.ndarray, b: np.ndarray) -> ValueError:
    return ValueError(f"shapes {a.shape} and {b.shape} cannot be broadcast together")


# ----------------------------------------------------------------------------- binary


class Add(Function):
    """a + b, numpy broadcasting: (*a), (*b) -> broadcast shape."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.shapes = (a.shape, b.shape)
        try:
            return a + b
        except ValueError:
            raise _broadcast_error("Add", a, b) from None

    @staticmethod
    def backward(ctx, g):
        # d(a+b)/da = 1, d(a+b)/db = 1
        sa, sb = ctx.shapes
        return unbroadcast(g, sa), unbroadcast(g, sb)


class Sub(Function):
    """a - b, numpy broadcasting: (*a), (*b) -> broadcast shape."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a.shape, b.shape)
        try:
            return a - b
        except ValueError:
            raise _broadcast_error("Sub", a, b) from None

    @staticmethod
    def backward(ctx, g):
        # d(a-b)/da = 1, d(a-b)/db = -1
        sa, sb = ctx.shapes
        gb = unbroadcast(-g, sb) if ctx.needs_input_grad[1] else None
        return unbroadcast(g, sa), gb


class Mul(Function):
    """a * b element-wise, numpy broadcasting: (*a), (*b) -> broadcast shape."""

    @staticmethod
    def forward(ctx, a, b):
        need_a, need_b = ctx.needs_input_grad  # save only what the wanted gradients use
        ctx.save_for_backward(a if need_b else None, b if need_a else None, a.shape, b.shape)
        try:
            return a * b
        except ValueError:
            raise _broadcast_error("Mul", a, b) from None

    @staticmethod
    def backward(ctx, g):
        # d(ab)/da = b, d(ab)/db = a
        a, b, shape_a, shape_b = ctx.saved_tensors
        ga = unbroadcast(g * b, shape_a) if b is not None else None
        gb = unbroadcast(g * a, shape_b) if a is not None else None
        return ga, gb


class Div(Function):
    """a / b element-wise, numpy broadcasting: (*a), (*b) -> broadcast shape."""

    @staticmethod
    def forward(ctx, a, b):
        try:
            out = a / b
        except ValueError:
            raise _broadcast_error("Div", a, b) from None
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        # d(a/b)/da = 1/b, d(a/b)/db = -a/b^2 = -out/b
        a, b, out = ctx.saved_tensors
        ga = unbroadcast(g / b, a.shape) if ctx.needs_input_grad[0] else None
        gb = unbroadcast(-g * out / b, b.shape) if ctx.needs_input_grad[1] else None
        return ga, gb


class Maximum(Function):
    """max(a, b) element-wise, broadcasting; ties share the gradient: -> broadcast shape."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        try:
            return np.maximum(a, b)
        except ValueError:
            raise _broadcast_error("Maximum", a, b) from None

    @staticmethod
    def backward(ctx, g):
        # the larger input gets g; a tie splits it in half (PyTorch's rule)
        a, b = ctx.saved_tensors
        share = (a > b) + (a == b) * g.dtype.type(0.5)
        return unbroadcast(g * share, a.shape), unbroadcast(g * (1 - share), b.shape)


class Minimum(Function):
    """min(a, b) element-wise, broadcasting; ties share the gradient: -> broadcast shape."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        try:
            return np.minimum(a, b)
        except ValueError:
            raise _broadcast_error("Minimum", a, b) from None

    @staticmethod
    def backward(ctx, g):
        # the smaller input gets g; a tie splits it in half
        a, b = ctx.saved_tensors
        share = (a < b) + (a == b) * g.dtype.type(0.5)
        return unbroadcast(g * share, a.shape), unbroadcast(g * (1 - share), b.shape)


class Lerp(Function):
    """a + w (b - a), as torch.lerp(a, b, w), numpy broadcasting: -> broadcast shape."""

    @staticmethod
    def forward(ctx, a, b, w):
        need_a, need_b, need_w = ctx.needs_input_grad  # save only what the gradients use
        ctx.save_for_backward(
            a if need_w else None, b if need_w else None, w if need_a or need_b else None
        )
        ctx.shapes = (a.shape, b.shape, w.shape)
        try:
            out = np.subtract(b, a)
        except ValueError:
            raise _broadcast_error("Lerp", a, b) from None
        try:
            out = out * w
        except ValueError:
            raise ValueError(
                f"weight of shape {w.shape} cannot be broadcast to {out.shape}"
            ) from None
        out += a
        return out

    @staticmethod
    def backward(ctx, g):
        # d/da = 1 - w, d/db = w, d/dw = b - a
        a, b, w = ctx.saved_tensors
        sa, sb, sw = ctx.shapes
        need_a, need_b, need_w = ctx.needs_input_grad
        gw = g * w if need_a or need_b else None
        ga = unbroadcast(g - gw, sa) if need_a else None
        gb = unbroadcast(gw, sb) if need_b else None
        return ga, gb, (unbroadcast(g * (b - a), sw) if need_w else None)


def _input_grad(g: np.ndarray, shape: tuple, row: int | None) -> np.ndarray | SparseGrad:
    """The gradient of an added input c of shape: g summed to it, or with row=t (c[t] was
    added) g as the piece in row t, which is what x[t]'s backward would send."""
    if row is None:
        return unbroadcast(g, shape)
    return SparseGrad(shape, (row,), unbroadcast(g, shape[1:]), False)


class AddCMul(Function):
    """c + a * b, as torch.addcmul(c, a, b), numpy broadcasting: -> broadcast shape.

    With row=t, c[t] + a * b (the GRU layer's step t of its projection, as AddMM's row).
    """

    @staticmethod
    def forward(ctx, c, a, b, row=None):
        _, need_a, need_b = ctx.needs_input_grad  # save only what the gradients use
        ctx.save_for_backward(a if need_b else None, b if need_a else None)
        ctx.shapes = (c.shape, a.shape, b.shape, row)
        if row is not None:
            c = c[row]
        try:
            out = a * b
        except ValueError:
            raise _broadcast_error("AddCMul", a, b) from None
        try:
            if c.shape == out.shape and c.dtype == out.dtype:
                out += c  # the product is ours: add in place
            else:
                out = out + c
        except ValueError:
            raise ValueError(
                f"shape {c.shape} cannot be broadcast with the product's {out.shape}"
            ) from None
        return out

    @staticmethod
    def backward(ctx, g):
        # d/dc = 1, d/da = b, d/db = a
        a, b = ctx.saved_tensors
        sc, sa, sb, row = ctx.shapes
        need_c, need_a, need_b = ctx.needs_input_grad
        gc = _input_grad(g, sc, row) if need_c else None
        ga = unbroadcast(g * b, sa) if need_a else None
        gb = unbroadcast(g * a, sb) if need_b else None
        return gc, ga, gb


class Where(Function):
    """cond ? a : b element-wise (cond is not differentiated): -> broadcast shape."""

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.cond = cond
        ctx.shapes = (a.shape, b.shape)
        try:
            return np.where(cond, a, b)
        except ValueError:
            raise ValueError(
                f"condition {cond.shape}, x {a.shape} and y {b.shape} cannot be broadcast"
            ) from None

    @staticmethod
    def backward(ctx, g):
        # where(c, a, b): g flows to a where c holds, to b elsewhere
        zero = np.zeros((), dtype=g.dtype)
        ga = unbroadcast(np.where(ctx.cond, g, zero), ctx.shapes[0])
        gb = unbroadcast(np.where(ctx.cond, zero, g), ctx.shapes[1])
        return None, ga, gb


# ----------------------------------------------------------------------------- unary


class Neg(Function):
    """-a: (*s) -> (*s)."""

    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, g):
        # d(-a)/da = -1
        return (-g,)


class Pow(Function):
    """a ** p for a Python number p: (*s) -> (*s)."""

    @staticmethod
    def forward(ctx, a, exponent: float):
        ctx.save_for_backward(a)
        ctx.exponent = exponent
        return a**exponent

    @staticmethod
    def backward(ctx, g):
        # d(a^p)/da = p a^(p-1)
        (a,) = ctx.saved_tensors
        p = ctx.exponent
        if p == 0:
            return (np.zeros_like(g),)  # a^0 = 1 is constant, even at a = 0 (as PyTorch)
        return (g * (p * a ** (p - 1)),)


class Exp(Function):
    """e^a: (*s) -> (*s)."""

    @staticmethod
    def forward(ctx, a):
        with np.errstate(over="ignore", under="ignore"):
            out = np.exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        # d(e^a)/da = e^a, the output itself
        (out,) = ctx.saved_tensors
        return (g * out,)


class Log(Function):
    """natural log of a: (*s) -> (*s)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(a)

    @staticmethod
    def backward(ctx, g):
        # d(log a)/da = 1/a
        (a,) = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            return (g / a,)


class Sqrt(Function):
    """square root of a: (*s) -> (*s)."""

    @staticmethod
    def forward(ctx, a):
        with np.errstate(invalid="ignore"):
            out = np.sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        # d(sqrt a)/da = 1 / (2 sqrt a)
        (out,) = ctx.saved_tensors
        with np.errstate(divide="ignore"):
            return (g / (2 * out),)


class Abs(Function):
    """|a|: (*s) -> (*s)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.abs(a)

    @staticmethod
    def backward(ctx, g):
        # d|a|/da = sign(a) (0 at 0, as PyTorch)
        (a,) = ctx.saved_tensors
        return (g * np.sign(a),)


class Tanh(Function):
    """tanh(a): (*s) -> (*s)."""

    @staticmethod
    def forward(ctx, a):
        out = np.tanh(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        # d(tanh a)/da = 1 - tanh(a)^2, from the saved output
        (y,) = ctx.saved_tensors
        d = np.multiply(y, y, out=np.empty_like(y))
        np.subtract(1, d, out=d)
        d *= g
        return (d,)


class Sigmoid(Function):
    """1 / (1 + e^-a), exact limits for large |a|: (*s) -> (*s)."""

    @staticmethod
    def forward(ctx, a):
        out = kernels.sigmoid(a)  # exact 0 and 1 far out, without overflow warnings
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        # d(sigmoid a)/da = y (1 - y), from the saved output
        (y,) = ctx.saved_tensors
        d = np.subtract(1, y, out=np.empty_like(y))
        d *= y
        d *= g
        return (d,)


class Relu(Function):
    """max(a, 0): (*s) -> (*s)."""

    @staticmethod
    def forward(ctx, a):
        out = np.maximum(a, 0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        # d(relu a)/da = 1 where a > 0, else 0
        (y,) = ctx.saved_tensors
        return (g * (y > 0),)


class Clamp(Function):
    """a clipped to [lo, hi] (either may be None): (*s) -> (*s)."""

    @staticmethod
    def forward(ctx, a, lo: float | None, hi: float | None):
        ctx.save_for_backward(a)
        ctx.bounds = (lo, hi)
        return np.clip(a, lo, hi)

    @staticmethod
    def backward(ctx, g):
        # d clamp(a)/da = 1 inside [lo, hi] (bounds included, as PyTorch), 0 outside
        (a,) = ctx.saved_tensors
        lo, hi = ctx.bounds
        inside = np.ones(a.shape, dtype=bool)
        if lo is not None:
            inside &= a >= lo
        if hi is not None:
            inside &= a <= hi
        return (g * inside,)


class Cast(Function):
    """a converted to another dtype: (*s) -> (*s)."""

    @staticmethod
    def forward(ctx, a, dtype):
        ctx.src = a.dtype
        return a.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        # the identity, cast back to the input's dtype
        return (g.astype(ctx.src),)


# ----------------------------------------------------------------------------- matmul


class Contiguous(Function):
    """a copied into C (row-major) order; the identity on values: (*s) -> (*s).

    watch=True also keeps a (not needed by backward) so that changing it in place before
    backward raises, as it does for PyTorch's RNN layers, which save their weights.
    """

    @staticmethod
    def forward(ctx, a, watch=False):
        if watch:
            ctx.save_for_backward(a)
        return np.ascontiguousarray(a)

    @staticmethod
    def backward(ctx, g):
        # the identity
        return (g,)


class MatMul(Function):
    """a @ b as numpy's matmul: (.., n, k) @ (.., k, m) -> (.., n, m); 1-D operands too."""

    @staticmethod
    def forward(ctx, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError("both arguments must have at least one dimension")
        ka = a.shape[-1]
        kb = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if ka != kb:
            raise ValueError(
                f"shapes {a.shape} and {b.shape} are not aligned: the first's last dimension "
                f"({ka}) must equal the second's {'only' if b.ndim == 1 else 'second-to-last'} "
                f"dimension ({kb})"
            )
        ctx.save_for_backward(a, b)
        try:
            return matmul(a, b)
        except ValueError:
            raise ValueError(
                f"batch dimensions of {a.shape} and {b.shape} do not broadcast"
            ) from None

    @staticmethod
    def backward(ctx, g):
        # C = A B: dL/dA = G B^T, dL/dB = A^T G (summed over broadcast batch dimensions)
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        if a.ndim == 2 and b.ndim == 2:
            return (matmul(g, b.T) if need_a else None), (OuterGrad(a, g) if need_b else None)
        if a.ndim == 1 and b.ndim == 1:  # the dot product a.b: g is a scalar
            return (g * b if need_a else None), (g * a if need_b else None)
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = g
        if a.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        if b.ndim == 1:
            g2 = np.expand_dims(g2, -1)
        ga = gb = None
        if need_a:
            ga = g2 @ np.swapaxes(b2, -1, -2)
            ga = unbroadcast(ga[..., 0, :] if a.ndim == 1 else ga, a.shape)
        if need_b:
            gb = np.swapaxes(a2, -1, -2) @ g2
            gb = unbroadcast(gb[..., :, 0] if b.ndim == 1 else gb, b.shape)
        return ga, gb


class AddMM(Function):
    """c + a @ b for 2-D a, b (c broadcasts): one output array instead of two, as torch.addmm.

    With row=t, c[t] + a @ b: the step t of a sequence's input projection c (T, n, m) without
    an x[t] node of its own (its gradient is the row piece x[t] would have sent back).
    """

    @staticmethod
    def forward(ctx, c, a, b, row=None):
        if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
            raise ValueError(
                f"addmm needs 2-D (n, k) and (k, m) matrices, got {a.shape} and {b.shape}"
            )
        out = matmul(a, b)
        try:
            out += c if row is None else c[row]
        except ValueError:
            raise ValueError(
                f"shape {c.shape} cannot be added to the product {out.shape}"
            ) from None
        ctx.save_for_backward(a, b)
        ctx.c_shape_row = (c.shape, row)
        return out

    @staticmethod
    def backward(ctx, g):
        # y = c + A B: dL/dc = G (summed over broadcast axes), dL/dA = G B^T, dL/dB = A^T G
        a, b = ctx.saved_tensors
        need_c, need_a, need_b = ctx.needs_input_grad
        gc = _input_grad(g, *ctx.c_shape_row) if need_c else None
        return gc, (matmul(g, b.T) if need_a else None), (OuterGrad(a, g) if need_b else None)


class Linear(Function):
    """x W^T + b in one op: one output array instead of two (x W^T, then + b)."""

    @staticmethod
    def forward(ctx, x, w, b=None):
        x2 = x.reshape(int(np.prod(x.shape[:-1])), x.shape[-1])
        out = matmul_into_buffer(x2, w.T)
        if b is not None:
            out += b
        ctx.save_for_backward(x2, w)
        ctx.lead = x.shape[:-1]
        return out.reshape(ctx.lead + (w.shape[0],))

    @staticmethod
    def backward(ctx, g):
        # y = x W^T + b: dL/dx = G W, dL/dW = G^T x, dL/db = sum of G over rows
        x2, w = ctx.saved_tensors
        g2 = g.reshape(-1, w.shape[0])
        need_x, need_w = ctx.needs_input_grad[:2]
        gx = matmul_into_buffer(g2, w).reshape(ctx.lead + (w.shape[1],)) if need_x else None
        gw = OuterGrad(g2, x2) if need_w else None
        if len(ctx.needs_input_grad) == 2:
            return gx, gw
        return gx, gw, (g2.sum(axis=0) if ctx.needs_input_grad[2] else None)


# ----------------------------------------------------------------------------- reductions


def _restore_dims(g: np.ndarray, axis: tuple | None, keepdim: bool, ndim: int) -> np.ndarray:
    """Reinsert the reduced axes (size 1) into g so it broadcasts against the input."""
    if keepdim or axis is None and g.ndim == ndim:
        return g
    if axis is None:
        return g.reshape((1,) * ndim)
    return np.expand_dims(g, axis)


class Sum(Function):
    """sum over axes (None: all), keepdim or not: (*s) -> reduced shape."""

    @staticmethod
    def forward(ctx, a, axis, keepdim):
        ctx.args = (a.shape, axis, keepdim)
        return np.sum(a, axis=axis, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        # d(sum a)/da_i = 1: spread g over the summed axes
        shape, axis, keepdim = ctx.args
        return (np.broadcast_to(_restore_dims(g, axis, keepdim, len(shape)), shape),)


class MaxReduce(Function):
    """amax / amin over axes (None: all of them); tied maxima share the gradient evenly."""

    @staticmethod
    def forward(ctx, a, axis, keepdim, is_min):
        if a.size == 0:
            raise ValueError("max/min of an empty tensor")
        out = (np.min if is_min else np.max)(a, axis=axis, keepdims=True)
        ctx.save_for_backward(a, out)
        ctx.args = (axis, keepdim)
        if keepdim:
            return out
        return np.squeeze(out, axis) if axis is not None else out.reshape(())

    @staticmethod
    def backward(ctx, g):
        # d max/da_i = 1/k at each of the k tied maxima, 0 elsewhere (PyTorch's amax rule)
        a, out = ctx.saved_tensors
        axis, keepdim = ctx.args
        g = _restore_dims(g, axis, keepdim, a.ndim)
        ties = a == out
        return (ties * (g / ties.sum(axis=axis, keepdims=True, dtype=g.dtype)),)


class TakeAlong(Function):
    """The elements at idx (one index per slice along axis): the values of max(dim)/min(dim)."""

    @staticmethod
    def forward(ctx, a, idx, axis, keepdim):
        ctx.args = (a.shape, idx, axis, keepdim)
        out = np.take_along_axis(a, idx, axis)
        return out if keepdim else np.squeeze(out, axis)

    @staticmethod
    def backward(ctx, g):
        # each picked element receives its output's gradient, the others 0
        shape, idx, axis, keepdim = ctx.args
        out = np.zeros(shape, dtype=g.dtype)
        np.put_along_axis(out, idx, g if keepdim else np.expand_dims(g, axis), axis)
        return (out,)


class Softmax(Function):
    """exp(a) / sum(exp(a)) along one axis, stable: (*s) -> (*s)."""

    @staticmethod
    def forward(ctx, a, axis):
        if a.size == 0:  # an empty dim (or batch): an empty result, as PyTorch
            e = a.copy()
        else:
            e = a - a.max(axis=axis, keepdims=True)  # stable: the largest exponent is e^0
            with np.errstate(under="ignore"):  # tiny probabilities round to 0, by design
                np.exp(e, out=e)
            e /= e.sum(axis=axis, keepdims=True)
        ctx.save_for_backward(e)
        ctx.axis = axis
        return e

    @staticmethod
    def backward(ctx, g):
        # dy_i/da_j = y_i (delta_ij - y_j)  =>  dL/da = y * (g - sum(g * y))
        (y,) = ctx.saved_tensors
        gy = g * y
        return (gy - y * gy.sum(axis=ctx.axis, keepdims=True),)


def _finite_max(a: np.ndarray, axis: int) -> np.ndarray:
    if a.size == 0:  # an empty dim: no max, and the shift does not matter
        return np.zeros(np.sum(a, axis=axis, keepdims=True).shape, dtype=a.dtype)
    m = a.max(axis=axis, keepdims=True)
    return np.where(np.isfinite(m), m, 0)


class LogSoftmax(Function):
    """a - logsumexp(a) along one axis, stable: (*s) -> (*s)."""

    @staticmethod
    def forward(ctx, a, axis):
        out = a - _finite_max(a, axis)  # shifted: the largest exponent is e^0
        if a.size:  # else an empty dim (or batch): an empty result, as PyTorch
            with np.errstate(under="ignore"):
                e = np.exp(out)
            out -= np.log(e.sum(axis=axis, keepdims=True))  # in place: one array for both
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, g):
        # y = a - logsumexp(a): dL/da = g - softmax(a) * sum(g)
        (y,) = ctx.saved_tensors
        with np.errstate(under="ignore"):
            p = np.exp(y)
        p *= g.sum(axis=ctx.axis, keepdims=True)
        return (np.subtract(g, p, out=p),)


class LogSumExp(Function):
    """log(sum(exp(a))) along one axis, stable: (*s) -> reduced shape."""

    @staticmethod
    def forward(ctx, a, axis, keepdim):
        m = _finite_max(a, axis)
        with np.errstate(under="ignore", divide="ignore"):  # an empty dim: log 0 = -inf
            out = np.log(np.exp(a - m).sum(axis=axis, keepdims=True)) + m
        ctx.save_for_backward(a, out)
        ctx.args = (axis, keepdim)
        return out if keepdim else np.squeeze(out, axis)

    @staticmethod
    def backward(ctx, g):
        # d logsumexp(a)/da = softmax(a) = exp(a - out)
        a, out = ctx.saved_tensors
        axis, keepdim = ctx.args
        g = g if keepdim else np.expand_dims(g, axis)
        with np.errstate(under="ignore"):
            return (g * np.exp(a - out),)


# ----------------------------------------------------------------------------- shape


class Reshape(Function):
    """the same values in a new shape: (*s) -> shape."""

    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        try:
            return a.reshape(shape)
        except ValueError:
            raise ValueError(
                f"cannot reshape a tensor of shape {a.shape} ({a.size} elements) into {shape}"
            ) from None

    @staticmethod
    def backward(ctx, g):
        # a reshape moves no values: reshape g back
        return (g.reshape(ctx.shape),)


class Permute(Function):
    """dimensions reordered by axes: (*s) -> permuted shape."""

    @staticmethod
    def forward(ctx, a, axes):
        ctx.axes = axes
        return np.transpose(a, axes)

    @staticmethod
    def backward(ctx, g):
        # undo the permutation with its inverse
        return (np.transpose(g, np.argsort(ctx.axes)),)


class Expand(Function):
    """broadcast to a larger shape without copying: (*s) -> shape."""

    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        try:
            return expand(a, shape)
        except ValueError:
            raise RuntimeError(f"expand: cannot expand shape {a.shape} to {shape}") from None

    @staticmethod
    def backward(ctx, g):
        # each input element was copied to many outputs: sum their gradients
        return (unbroadcast(g, ctx.shape),)


class Index(Function):
    """a[key] for basic and advanced keys: (*s) -> indexed shape."""

    @staticmethod
    def forward(ctx, a, key, advanced):
        ctx.args = (a.shape, key, advanced)
        return a[key] if advanced else index_view(a, key)

    @staticmethod
    def backward(ctx, g):
        # scatter g back to the positions read; repeated indices accumulate (np.add.at).
        # Sparse: the engine adds it into one buffer shared by all slices of the input.
        shape, key, advanced = ctx.args
        return (SparseGrad(shape, key, g, advanced),)


# ----------------------------------------------------------------------------- views

# A view's steps from its root tensor's array, as (kind, argument, input shape) triples:
# ("index", key, s), ("reshape", shape, s), ("permute", axes, s), ("expand", shape, s), and
# ("detach", None, s) for detach(), which shares memory but no gradient.


def expand(a: np.ndarray, shape: tuple) -> np.ndarray:
    """a broadcast to shape without copying, writable like a (PyTorch's expand: a view)."""
    b = np.broadcast_to(a, shape)
    return np.lib.stride_tricks.as_strided(a, b.shape, b.strides, writeable=a.flags.writeable)


def index_view(a: np.ndarray, key: tuple) -> np.ndarray:
    """a[key] for a basic key, always an ndarray view (numpy gives a copied scalar for a[i, j])."""
    out = a[key]
    return out if type(out) is np.ndarray else a[key + (Ellipsis,)]


def replay(a: np.ndarray, steps: tuple) -> np.ndarray:
    """The view that steps make of a: the same memory when a is laid out as the root was."""
    for kind, arg, _ in steps:
        if kind == "index":
            a = index_view(a, arg)
        elif kind == "reshape":
            view = a.view()
            view.shape = arg  # raises rather than copy: a write through it must reach a
            a = view
        elif kind == "permute":
            a = np.transpose(a, arg)
        elif kind == "expand":
            a = expand(a, arg)
    return a


def unreplay(g: np.ndarray, steps: tuple, root: tuple) -> np.ndarray:
    """The gradient of the root (shape root) from g, the gradient of the view steps make."""
    for kind, arg, shape in reversed(steps):
        if kind == "index":
            full = np.zeros(shape, dtype=g.dtype)
            full[arg] = g  # a basic index reads each position once
            g = full
        elif kind == "reshape":
            g = g.reshape(shape)
        elif kind == "permute":
            g = np.transpose(g, np.argsort(arg))
        elif kind == "expand":
            g = unbroadcast(g, shape)
    return g.reshape(root)


class View(Function):
    """the view of a root tensor that steps make (a view re-attached after an in-place change)."""

    @staticmethod
    def forward(ctx, a, steps):
        ctx.args = (steps, a.shape)
        return replay(a, steps)

    @staticmethod
    def backward(ctx, g):
        # the view's positions of the root receive g, every other position 0
        steps, shape = ctx.args
        return (unreplay(g, steps, shape),)


class CopySlices(Function):
    """the root after its view (steps) was overwritten by value in place: (*s), view -> (*s).

    PyTorch's CopySlices: the root's memory already holds the new values, so forward returns
    it; backward splits g between the old root (outside the view) and the new values.
    """

    @staticmethod
    def forward(ctx, root, value, steps):
        ctx.args = steps
        return root

    @staticmethod
    def backward(ctx, g):
        # d/d(old root) = g outside the view, 0 inside; d/d(value) = g inside the view
        steps = ctx.args
        g_value = np.array(replay(g, steps)) if ctx.needs_input_grad[1] else None
        g_root = None
        if ctx.needs_input_grad[0]:
            g_root = np.empty_like(g)  # the root's layout, so that replay views it
            g_root[...] = g
            replay(g_root, steps)[...] = 0
        return g_root, g_value


class IndexPut(Function):
    """a with a[key] = value (x[key] = v): (*s), value broadcastable to a[key] -> (*s)."""

    @staticmethod
    def forward(ctx, a, value, key):
        ctx.args = (key, value.shape)
        out = a.copy()
        try:
            out[key] = value
        except ValueError:  # PyTorch's error and wording
            raise RuntimeError(
                f"shape mismatch: value tensor of shape {list(value.shape)} cannot be broadcast "
                f"to indexing result of shape {list(a[key].shape)}"
            ) from None
        return out

    @staticmethod
    def backward(ctx, g):
        # positions written lose their old value's gradient; the value gets g there
        key, shape = ctx.args
        ga = None
        if ctx.needs_input_grad[0]:
            ga = g.copy()
            ga[key] = 0
        gv = None
        if ctx.needs_input_grad[1]:
            gv = g[key]
            gv = unbroadcast(gv.reshape((1,) * (len(shape) - gv.ndim) + gv.shape), shape)
        return ga, gv


class Overwrite(Function):
    """old replaced by new (fill_, copy_, zero_, random fills): (*s), (*s) -> (*s)."""

    @staticmethod
    def forward(ctx, old, new):
        return new

    @staticmethod
    def backward(ctx, g):
        # the old values no longer matter (gradient 0); the new ones pass g through
        return np.zeros_like(g), g


class Cat(Function):
    """arrays joined along an existing axis: -> summed size on that axis."""

    @staticmethod
    def forward(ctx, *arrays, axis):
        ctx.args = (axis, [a.shape[axis] for a in arrays])
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, g):
        # each input receives its own slab of g
        axis, sizes = ctx.args
        return tuple(np.split(g, np.cumsum(sizes)[:-1], axis=axis))


class Stack(Function):
    """equal-shaped arrays stacked along a new axis: k x (*s) -> (.., k, ..)."""

    @staticmethod
    def forward(ctx, *arrays, axis):
        ctx.axis = axis
        shape = list(arrays[0].shape)
        shape.insert(axis if axis >= 0 else len(shape) + 1 + axis, len(arrays))
        dtype = np.result_type(*arrays)
        try:
            return np.stack(arrays, axis=axis, out=kernels.empty(tuple(shape), dtype))
        except ValueError:
            return np.stack(arrays, axis=axis)  # numpy's own message for unequal shapes

    @staticmethod
    def backward(ctx, g):
        # input i receives g's slice i along the new axis
        return tuple(np.moveaxis(g, ctx.axis, 0))


# ----------------------------------------------------------------------------- more ops
# PyTorch's decoding, indexing and element-wise ops (issue 16).


class PowTensor(Function):
    """a ** b with a tensor exponent, PyTorch's values at a = 0: (*a), (*b) -> broadcast shape."""

    @staticmethod
    def forward(ctx, a, b):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            try:
                out = np.power(a, b)
            except ValueError:
                raise _broadcast_error("PowTensor", a, b) from None
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        # d(a^b)/da = b a^(b-1) (0 where b = 0); d(a^b)/db = a^b log a (0 where a = 0, b >= 0)
        a, b, out = ctx.saved_tensors
        ga = gb = None
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if ctx.needs_input_grad[0]:
                ga = unbroadcast(np.where(b == 0, 0, g * b * np.power(a, b - 1)), a.shape)
            if ctx.needs_input_grad[1]:
                d = np.where((a == 0) & (b >= 0), 0, out * np.log(a))
                gb = unbroadcast(g * d, b.shape)
        return ga, gb


class Sin(Function):
    """sin(a): (*s) -> (*s)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.sin(a)

    @staticmethod
    def backward(ctx, g):
        # d(sin a)/da = cos a
        (a,) = ctx.saved_tensors
        return (g * np.cos(a),)


class Cos(Function):
    """cos(a): (*s) -> (*s)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.cos(a)

    @staticmethod
    def backward(ctx, g):
        # d(cos a)/da = -sin a
        (a,) = ctx.saved_tensors
        return (-g * np.sin(a),)


class Tan(Function):
    """tan(a): (*s) -> (*s)."""

    @staticmethod
    def forward(ctx, a):
        out = np.tan(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        # d(tan a)/da = 1 + tan(a)^2, from the saved output
        (y,) = ctx.saved_tensors
        return (g * (1 + y * y),)


class Sinh(Function):
    """sinh(a): (*s) -> (*s)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with np.errstate(over="ignore"):
            return np.sinh(a)

    @staticmethod
    def backward(ctx, g):
        # d(sinh a)/da = cosh a
        (a,) = ctx.saved_tensors
        with np.errstate(over="ignore"):
            return (g * np.cosh(a),)


class Cosh(Function):
    """cosh(a): (*s) -> (*s)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with np.errstate(over="ignore"):
            return np.cosh(a)

    @staticmethod
    def backward(ctx, g):
        # d(cosh a)/da = sinh a
        (a,) = ctx.saved_tensors
        with np.errstate(over="ignore"):
            return (g * np.sinh(a),)


class Log1p(Function):
    """log(1 + a), accurate for small a: (*s) -> (*s)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log1p(a)

    @staticmethod
    def backward(ctx, g):
        # d log(1 + a)/da = 1 / (1 + a)
        (a,) = ctx.saved_tensors
        with np.errstate(divide="ignore"):
            return (g / (1 + a),)


class Expm1(Function):
    """e^a - 1, accurate for small a: (*s) -> (*s)."""

    @staticmethod
    def forward(ctx, a):
        with np.errstate(over="ignore"):
            out = np.expm1(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        # d(e^a - 1)/da = e^a = out + 1
        (y,) = ctx.saved_tensors
        return (g * (y + 1),)


_erf = np.vectorize(math.erf, otypes=[np.float64])


class Erf(Function):
    """the error function 2/sqrt(pi) int_0^a e^(-t^2) dt: (*s) -> (*s)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _erf(a).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        # d erf(a)/da = 2/sqrt(pi) e^(-a^2)
        (a,) = ctx.saved_tensors
        with np.errstate(under="ignore"):
            return (g * (2 / math.sqrt(math.pi)) * np.exp(-a * a),)


class Step(Function):
    """a piecewise-constant function of a (sign, floor, ceil, round): (*s) -> (*s)."""

    @staticmethod
    def forward(ctx, a, fn):
        return fn(a)

    @staticmethod
    def backward(ctx, g):
        # constant between its jumps: the derivative is 0 (PyTorch's choice at the jumps too)
        return (np.zeros_like(g),)


class SafeSqrt(Function):
    """sqrt(a) whose gradient is 0 where a = 0 (the 2-norm of a zero vector): (*s) -> (*s)."""

    @staticmethod
    def forward(ctx, a):
        out = np.sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        # d(sqrt a)/da = 1 / (2 sqrt a), taken as 0 at a = 0 (PyTorch's norm at 0)
        (y,) = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            return (np.where(y == 0, 0, g / (2 * y)),)


class Sort(Function):
    """values of a sorted along axis by idx (the permutation, given): (*s) -> (*s) or k along axis.

    Also topk's values (idx: the first k of the permutation). Each input is read at most once.
    """

    @staticmethod
    def forward(ctx, a, idx, axis):
        ctx.args = (a.shape, idx, axis)
        return np.take_along_axis(a, idx, axis)

    @staticmethod
    def backward(ctx, g):
        # each picked element receives its output's gradient, the others 0
        shape, idx, axis = ctx.args
        out = np.zeros(shape, dtype=g.dtype)
        np.put_along_axis(out, idx, g, axis)
        return (out,)


def along(idx: np.ndarray, axis: int) -> tuple:
    """The index tuple that reads a[.., idx[i, j, ..], ..] at each position of idx (gather's)."""
    grid = list(np.indices(idx.shape, sparse=True))
    grid[axis] = idx
    return tuple(grid)


class Gather(Function):
    """a's values picked along axis at idx: (*s), idx (*i) -> (*i), as torch.gather."""

    @staticmethod
    def forward(ctx, a, idx, axis):
        ctx.args = (a.shape, idx, axis)
        return a[along(idx, axis)]

    @staticmethod
    def backward(ctx, g):
        # each read position receives g; repeated indices accumulate
        shape, idx, axis = ctx.args
        out = np.zeros(shape, dtype=g.dtype)
        np.add.at(out, along(idx, axis), g)
        return (out,)


class Scatter(Function):
    """a with src written (or added, add=True) at idx along axis: (*s), (*i) -> (*s)."""

    @staticmethod
    def forward(ctx, a, src, idx, axis, add):
        key = along(idx, axis)
        ctx.args = (key, idx.shape, src.shape, add)
        out = a.copy()
        part = src[tuple(slice(0, n) for n in idx.shape)] if src.shape != idx.shape else src
        if add:
            np.add.at(out, key, part)
        else:
            out[key] = part
        return out

    @staticmethod
    def backward(ctx, g):
        # scatter: overwritten positions lose a's gradient; src gets g where it was written.
        # scatter_add: a gets g everywhere and src gets g at its positions
        key, ishape, sshape, add = ctx.args
        ga = gs = None
        if ctx.needs_input_grad[0]:
            ga = g if add else g.copy()
            if not add:
                ga[key] = 0
        if ctx.needs_input_grad[1]:
            gs = np.zeros(sshape, dtype=g.dtype)
            gs[tuple(slice(0, n) for n in ishape)] = g[key]
        return ga, gs


class Flip(Function):
    """a reversed along axes, a copy: (*s) -> (*s)."""

    @staticmethod
    def forward(ctx, a, axes):
        ctx.axes = axes
        return np.flip(a, axes).copy()

    @staticmethod
    def backward(ctx, g):
        # a permutation: flip g back
        return (np.flip(g, ctx.axes),)


class Roll(Function):
    """a rolled by shifts along axes (None: flattened): (*s) -> (*s)."""

    @staticmethod
    def forward(ctx, a, shifts, axes):
        ctx.args = (shifts, axes)
        return np.roll(a, shifts, axes)

    @staticmethod
    def backward(ctx, g):
        # a permutation: roll g back
        shifts, axes = ctx.args
        return (np.roll(g, tuple(-s for s in shifts) if axes is not None else -shifts, axes),)


class Cumsum(Function):
    """running sums along axis: (*s) -> (*s)."""

    @staticmethod
    def forward(ctx, a, axis):
        ctx.axis = axis
        return np.cumsum(a, axis=axis, dtype=a.dtype)  # numpy would widen int32

    @staticmethod
    def backward(ctx, g):
        # d out_k/da_i = 1 for i <= k: dL/da_i = sum of g_k over k >= i (a reversed cumsum)
        axis = ctx.axis
        return (np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis),)


def _exclusive_cumprod(a: np.ndarray, axis: int) -> np.ndarray:
    """prod of a_j for j < i at each i along axis (1 at i = 0)."""
    out = np.ones_like(a)
    n = a.shape[axis]
    if n > 1:
        lead = (slice(None),) * axis
        out[lead + (slice(1, None),)] = np.cumprod(a[lead + (slice(0, n - 1),)], axis=axis)
    return out


class Cumprod(Function):
    """running products along axis: (*s) -> (*s)."""

    @staticmethod
    def forward(ctx, a, axis):
        out = np.cumprod(a, axis=axis, dtype=a.dtype)
        ctx.save_for_backward(a, out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, g):
        # d out_k/da_i = prod_{j<=k, j!=i} a_j: sum_{k>=i} g_k out_k / a_i without zeros;
        # with zeros in a, column by column without dividing
        a, out = ctx.saved_tensors
        axis = ctx.axis
        if np.all(a != 0):
            return (np.flip(np.cumsum(np.flip(g * out, axis), axis), axis) / a,)
        am, gm = np.moveaxis(a, axis, 0), np.moveaxis(g, axis, 0)
        grad = np.empty_like(am)
        for i in range(am.shape[0]):
            left = np.prod(am[:i], axis=0)  # a_j for j < i
            rest = np.cumprod(am[i + 1 :], axis=0)  # a_{i+1} .. a_k for k > i
            grad[i] = left * (gm[i] + (gm[i + 1 :] * rest).sum(axis=0))
        return (np.moveaxis(grad, 0, axis),)


class Prod(Function):
    """product over axis (None: all), keepdim or not: (*s) -> reduced shape."""

    @staticmethod
    def forward(ctx, a, axis, keepdim):
        ctx.save_for_backward(a)
        ctx.args = (axis, keepdim)
        return np.prod(a, axis=axis, keepdims=keepdim, dtype=a.dtype)

    @staticmethod
    def backward(ctx, g):
        # d prod/da_i = the product of the others: (prod before i) * (prod after i), no division
        (a,) = ctx.saved_tensors
        axis, keepdim = ctx.args
        flat = a.reshape(-1) if axis is None else a
        ax = 0 if axis is None else axis
        before = _exclusive_cumprod(flat, ax)
        after = np.flip(_exclusive_cumprod(np.flip(flat, ax), ax), ax)
        others = (before * after).reshape(a.shape)
        g = _restore_dims(g, None if axis is None else (axis,), keepdim, a.ndim)
        return (g * others,)


class Tri(Function):
    """the lower (tril) or upper (triu) triangle of the last two dims, the rest 0: (*s) -> (*s)."""

    @staticmethod
    def forward(ctx, a, k, upper):
        ctx.args = (k, upper)
        return np.triu(a, k) if upper else np.tril(a, k)

    @staticmethod
    def backward(ctx, g):
        # the kept triangle passes g, the zeroed one 0
        k, upper = ctx.args
        return (np.triu(g, k) if upper else np.tril(g, k),)


class Diag(Function):
    """a 1-D vector -> the square matrix with it on diagonal k; a matrix -> its diagonal k."""

    @staticmethod
    def forward(ctx, a, k):
        ctx.args = (a.shape, k)
        return np.diag(a, k).copy()

    @staticmethod
    def backward(ctx, g):
        # the diagonal's entries pass g to where they came from, other entries 0
        shape, k = ctx.args
        if len(shape) == 1:
            return (np.diag(g, k).copy(),)
        out = np.zeros(shape, dtype=g.dtype)
        n = g.shape[0]
        rows = np.arange(n) + max(-k, 0)
        out[rows, rows + k] = g
        return (out,)


def _einsum_grad(g, arrays, inputs, output, i):
    """dL/dX_i of einsum: g contracted with the other operands onto X_i's letters."""
    sub, a = inputs[i], arrays[i]
    others = [s for j, s in enumerate(inputs) if j != i]
    seen = set(output).union(*others)
    uniq = "".join(dict.fromkeys(sub))  # a repeated letter ('ii') is one axis: the diagonal
    kept = "".join(c for c in uniq if c in seen)  # letters summed in X_i alone: spread
    operands = [g] + [x for j, x in enumerate(arrays) if j != i]
    part = np.einsum(f"{','.join([output] + others)}->{kept}", *operands)
    size = dict(zip(sub, a.shape))
    stretched = tuple(k for k, c in enumerate(kept) if size[c] == 1 and part.shape[k] != 1)
    if stretched:  # X_i's size-1 axis was broadcast ('...' against a larger batch): sum it
        part = part.sum(axis=stretched, keepdims=True)
    part = np.broadcast_to(
        part.reshape(tuple(size[c] if c in seen else 1 for c in uniq)),
        tuple(size[c] for c in uniq),
    )
    if uniq == sub:
        return part.astype(a.dtype)
    out = np.zeros(a.shape, dtype=a.dtype)
    np.einsum(f"{sub}->{uniq}", out)[...] = part  # a writeable view of the diagonal
    return out


class Einsum(Function):
    """np.einsum(equation, *arrays) with explicit letters (tensor.einsum spells out '...')."""

    @staticmethod
    def forward(ctx, *arrays, inputs, output):
        ctx.save_for_backward(*arrays)
        ctx.args = (inputs, output)
        return np.asarray(np.einsum(f"{','.join(inputs)}->{output}", *arrays))

    @staticmethod
    def backward(ctx, g):
        # d/dX_i of a multilinear sum: einsum of g with the other operands, onto X_i's letters
        arrays = ctx.saved_tensors
        inputs, output = ctx.args
        return tuple(
            _einsum_grad(g, arrays, inputs, output, i) if need else None
            for i, need in enumerate(ctx.needs_input_grad)
        )


class PNorm(Function):
    """(sum |a|^p)^(1/p) over axes (None: all), any p > 0: (*s) -> reduced shape."""

    @staticmethod
    def forward(ctx, a, p, axis, keepdim):
        with np.errstate(divide="ignore", over="ignore"):
            out = np.sum(np.abs(a) ** p, axis=axis, keepdims=True) ** (1 / p)
        ctx.save_for_backward(a, out)
        ctx.args = (p, axis, keepdim)
        if keepdim:
            return out
        return np.squeeze(out, axis) if axis is not None else out.reshape(())

    @staticmethod
    def backward(ctx, g):
        # d||a||_p/da_i = sign(a_i) |a_i|^(p-1) / ||a||^(p-1), taken as 0 where a_i = 0 (PyTorch)
        a, out = ctx.saved_tensors
        p, axis, keepdim = ctx.args
        g = _restore_dims(g, axis, keepdim, a.ndim)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            d = np.sign(a) * (np.abs(a) / out) ** (p - 1)
        return (np.where(a == 0, 0, g * d),)
