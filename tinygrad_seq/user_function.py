"""Functions written on Tensors: PyTorch's `torch.autograd.Function`, as users write them.

A subclass of `autograd.Function` defined outside the package gets `apply` from here. Its
forward runs on Tensors (under no_grad) and may return one Tensor or a tuple holding Tensors
and other values; `apply` returns the same. The Function's node (a `Context`, which is also the
`ctx` that forward and backward receive) has the tensor inputs as parents. With one output the
node is that tensor's grad_fn. With a tuple, each differentiable output gets a small node of its
own (named after the Function, so `grad_fn.name()` reads the same) whose only parent is the
Function's node: the engine knows one output per node, so the outputs' gradients reach that node
as one `OutputGrads`, and backward runs once, with one gradient per output, as in PyTorch:

    out_0 <- output node 0 --\\
                              >-- MyFnBackward (ctx) --> the tensor inputs' nodes
    out_1 <- output node 1 --/

An output that got no gradient is given as zeros of its shape and dtype, or as None after
`ctx.set_materialize_grads(False)`; a non-Tensor output always gets None. Outputs marked with
`ctx.mark_non_differentiable` and outputs that are not floating point do not require grad.
An output that requires grad and shares memory with an input (an input returned as-is, or a
view of one) is read-only, so that changing it in place raises, as in PyTorch. tinygrad_seq's
own addition: a forward may return one ndarray, which becomes a Tensor (in a tuple, as in
PyTorch, an ndarray is a value like any other).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import autograd, errors
from .autograd import Context, Function, edge, no_grad
from .grads import LazyGrad, nonfinite
from .tensor import Tensor


def prepare(cls: type) -> None:
    """Make a Function subclass written on Tensors ready: its node class and its apply."""
    cls.node = type(cls.__name__, (UserFunctionNode,), {"user": cls})
    cls.output_node = type(cls.__name__, (OutputNode,), {})
    cls.apply = classmethod(apply)


def apply(cls: type, *args: Any, **kwargs: Any) -> Any:
    """A user Function's apply (PyTorch's): forward(ctx, *args) on Tensors, one node (its ctx)."""
    tensors = [a for a in args if isinstance(a, Tensor)]
    needs = tuple(t.requires_grad for t in tensors)
    build = autograd.is_grad_enabled() and True in needs
    ctx = Context(cls.node, tuple(edge(t) for t in tensors) if build else (), needs)
    ctx.is_tensor = tuple(isinstance(a, Tensor) for a in args)  # one entry per argument
    ctx.needs_input_grad = tuple(t and a.requires_grad for t, a in zip(ctx.is_tensor, args))
    with no_grad():
        out = cls.forward(ctx, *args, **kwargs)
    several = type(out) is tuple
    if isinstance(out, np.ndarray):  # tinygrad_seq's own: forward may return one ndarray
        out = Tensor._make(out, False, None)
    outs = list(out) if several else [out]
    marked = ctx.__dict__.pop("non_differentiable", ())
    arrays = tuple(t._data for t in tensors)
    last = {id(o): i for i, o in enumerate(outs) if isinstance(o, Tensor)}  # a repeat: its last
    ctx.outputs = [None] * len(outs)  # (shape, dtype) of each Tensor output: backward's zeros
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            continue
        data = o._data
        ctx.outputs[i] = (data.shape, data.dtype)
        if last[id(o)] != i:
            continue
        node = None
        if build and data.dtype.kind == "f" and not any(o is m for m in marked):
            if any(np.may_share_memory(data, a) for a in arrays):
                data = data.view()  # an input returned as-is, or a view of one: read-only
                data.flags.writeable = False
            node = ctx if not several else Context(cls.output_node, (ctx,), (True,))
            node.out_shape, node.out_dtype, node.index = data.shape, data.dtype, i
            node.outputs = ctx.outputs  # the list filled in here: every output's shape
        autograd.note_output(ctx, arrays, data, node)
        outs[i] = Tensor._make(data, node is not None, node)
    if several:  # a Tensor returned twice is one Tensor, made at its last place (PyTorch's too)
        ctx.out_shape, ctx.out_dtype = OutputGrads.shape, None
        return tuple(outs[last[id(o)]] if isinstance(o, Tensor) else o for o in out)
    return outs[0]


class OutputGrads(LazyGrad):
    """dL/d(each output) of a Function with several outputs, gathered for its one backward."""

    __slots__ = ("grads", "outputs")
    shape = ()  # the Function's node has no tensor of its own: this stands for its outputs

    def __init__(self, index: int, g: np.ndarray, outputs: list):
        self.grads = {index: g}
        self.outputs = outputs  # (shape, dtype) of each output, None for a non-Tensor

    def absorb(self, other: Any) -> bool:
        """Take in another output's gradient (the same output's twice: their sum)."""
        for i, g in other.grads.items():
            self.grads[i] = g if i not in self.grads else self.grads[i] + g
        return True

    def dense(self, dtype: Any = None) -> OutputGrads:
        """Itself: the Function's backward takes the gradients one per output."""
        return self

    def nonfinite(self) -> bool:
        """NaN or Inf in any output's gradient."""
        return any(nonfinite(g) for g in self.grads.values())

    def __add__(self, other: OutputGrads) -> OutputGrads:  # sums kept across calls (viz)
        out = OutputGrads(0, 0, self.outputs)
        out.grads = dict(self.grads)
        out.absorb(other)
        return out

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """All outputs' gradients, flattened one after another (zeros where none came): viz."""
        parts = [np.ravel(self.grads[i]) if i in self.grads else np.zeros(int(np.prod(s[0])))
                 for i, s in enumerate(self.outputs) if s is not None]  # fmt: skip
        return np.concatenate(parts).astype(dtype or np.float64)


class OutputNode(Function):
    """The node of one output of a Function with several: hands its gradient to the Function."""

    on_arrays = True

    @staticmethod
    def backward(ctx: Context, g: np.ndarray) -> tuple:
        return (OutputGrads(ctx.index, g, ctx.outputs),)


class UserFunctionNode(Function):
    """The op recorded for a Function written on Tensors: runs the user's backward."""

    on_arrays, user = True, None  # user: the user's Function class

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple:
        if type(g) is OutputGrads:  # several outputs: one gradient each (None: no Tensor)
            zeros = ctx.__dict__.get("materialize_grads", True)
            grads = [g.grads.get(i) for i in range(len(ctx.outputs))]
            grads = [
                np.zeros(*s) if x is None and s is not None and zeros else x
                for x, s in zip(grads, ctx.outputs)
            ]
        else:
            grads = [g]
        with no_grad():
            out = ctx.fn.user.backward(
                ctx, *(x if x is None else Tensor._make(x, False, None) for x in grads)
            )
        out = out if isinstance(out, tuple) else (out,)
        n = len(ctx.is_tensor)  # one per argument of forward; more only if they are None
        if len(out) < n or any(o is not None for o in out[n:]):
            raise RuntimeError(errors.wrong_gradient_count(ctx, n, len(out)))
        return tuple(getattr(o, "_data", o) for o, t in zip(out, ctx.is_tensor) if t)


autograd.register_user_functions(prepare)  # Function subclasses on Tensors are made ready here
