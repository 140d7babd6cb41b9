"""Reverse-mode automatic differentiation: the graph, the grad mode and the backward engine.

Every differentiable operation is a `Function` with a `forward` on numpy arrays and a
`backward` that turns the gradient of the loss with respect to the output, dL/dy, into the
gradients with respect to the inputs, dL/dx_i = dL/dy * dy/dx_i (a vector-Jacobian product).
`Function.apply` runs the forward and, when gradients are wanted, records a `Context`: which
op ran, on which parent Tensors, and what it saved for its backward. The recorded contexts form
a directed acyclic graph from the inputs to the loss.

`backward(root)` walks that graph once in reverse topological order. When it reaches a node, all
gradient contributions from the node's consumers have been summed (the multivariate chain rule
adds the paths), so the node can hand dL/dnode to its op's backward and then forget it. A
recurrent network unrolled over T steps is just a longer graph: backpropagation through time
is this same walk.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import heapq
import itertools
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

from . import buffers as _buffers

# Grad mode: when False, Function.apply records no graph (like torch.no_grad()).
_grad_enabled = True
# The current scope: a tuple of names such as ("lstm", "l0", "t=3"), recorded on each node.
_scope: tuple[str, ...] = ()
# Anomaly mode: check every forward output and backward gradient for NaN/Inf.
_anomaly = False
# keep_values(): every op node keeps its output array (for drawing values); off by default.
_keep_values = False
# Creation order of op nodes: a node is always made after the nodes of its inputs, so walking
# nodes by decreasing number visits every consumer before what it consumes (see _backward).
_sequence = itertools.count()
# The Tensor class. The one cycle of the core: Function.apply makes Tensors and Tensor methods
# call Functions; tensor.py hands its class over here once, at import (see _bind_tensor_class).
_Tensor: Any = None


class AnomalyError(RuntimeError):
    """Raised by detect_anomaly() when an op first produces NaN or Inf."""


class GraphFreedError(RuntimeError):
    """Raised when backward runs through a graph whose saved arrays were already freed."""


def _bind_tensor_class(cls: type) -> None:
    global _Tensor
    _Tensor = cls


# ----------------------------------------------------------------------------- grad mode


def is_grad_enabled() -> bool:
    """True when ops record the graph for backward."""
    return _grad_enabled


class _GradMode(contextlib.ContextDecorator):
    """Context manager and decorator that sets grad mode and restores the previous one."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self._prev: list[bool] = []

    def __enter__(self):
        global _grad_enabled
        self._prev.append(_grad_enabled)
        _grad_enabled = self.enabled
        return self

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self._prev.pop()
        return False


class no_grad(_GradMode):
    """Context manager / decorator (`@no_grad` or `@no_grad()`): no graph is recorded inside."""

    def __new__(cls, func: Callable | None = None):
        if func is None:
            return super().__new__(cls)
        return cls()(func)  # used bare as @no_grad: decorate func at once

    def __init__(self, func: Callable | None = None):
        super().__init__(False)


class enable_grad(_GradMode):
    """Context manager / decorator (`@enable_grad` or `@enable_grad()`): record even in no_grad."""

    def __new__(cls, func: Callable | None = None):
        if func is None:
            return super().__new__(cls)
        return cls()(func)

    def __init__(self, func: Callable | None = None):
        super().__init__(True)


def set_grad_enabled(mode: bool) -> _GradMode:
    """Context manager / decorator setting grad mode to `mode`."""
    return _GradMode(bool(mode))


# ----------------------------------------------------------------------------- scopes


class scope:
    """Context manager: ops created inside are tagged with `name` appended to the current scope."""

    __slots__ = ("name", "prev")

    def __init__(self, name: str):
        self.name = str(name)

    def __enter__(self) -> scope:
        global _scope
        self.prev = _scope
        _scope = self.prev + (self.name,)
        return self

    def __exit__(self, *exc: Any) -> None:
        global _scope
        _scope = self.prev


class gc_paused:
    """Context manager: no cyclic garbage collection inside (long unrolled loops, backward).

    The graph makes many small objects; Python's collector would scan them again and again
    (about a quarter of the time at T=1000) although they hold no reference cycles to free.
    """

    __slots__ = ("was",)

    def __enter__(self) -> gc_paused:
        self.was = gc.isenabled()
        gc.disable()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.was:
            gc.enable()


def current_scope() -> tuple[str, ...]:
    """The current scope path, e.g. ('lstm', 'l0', 't=3')."""
    return _scope


def format_scope(path: tuple[str, ...]) -> str:
    """('lstm', 'l0', 't=3') -> 'lstm.l0 t=3': module path dotted, time step after a space."""
    names = [p for p in path if not p.startswith("t=")]
    steps = [p for p in path if p.startswith("t=")]
    return " ".join([".".join(names)] + steps[-1:]).strip()


# ----------------------------------------------------------------------------- anomaly mode


class detect_anomaly(contextlib.ContextDecorator):
    """Context manager / decorator: name the op (and user code line) that first makes NaN/Inf."""

    def __enter__(self):
        global _anomaly
        self._prev = _anomaly
        _anomaly = True
        return self

    def __exit__(self, *exc):
        global _anomaly
        _anomaly = self._prev
        return False


class keep_values(contextlib.ContextDecorator):
    """Context manager / decorator: ops recorded inside keep their output arrays (ctx.value).

    The graph normally keeps only what backward needs, so an intermediate value is gone once
    no variable refers to it. Drawing values (viz.draw_graph(show_values=True)) needs them all.
    """

    def __enter__(self):
        global _keep_values
        self._prev = _keep_values
        _keep_values = True
        return self

    def __exit__(self, *exc):
        global _keep_values
        _keep_values = self._prev
        return False


def record(root: Any) -> int:
    """Mark every op node reachable from root (a Tensor) to keep its gradient (ctx.grad)."""
    nodes = [n for n in toposort(edge(root)) if type(n) is Context]
    for n in nodes:
        n._extras()["record"] = True
    return len(nodes)


def _user_frame() -> str:
    """The innermost stack frame outside this package: where user code created an op."""
    import os

    pkg = os.path.dirname(os.path.abspath(__file__))
    for frame in reversed(traceback.extract_stack()[:-1]):
        if not os.path.abspath(frame.filename).startswith(pkg):
            return f'File "{frame.filename}", line {frame.lineno}, in {frame.name}: {frame.line}'
    return "<unknown>"


class OuterGrad:
    """A gradient sum_k A_k^T B_k kept as its factors until it is needed.

    A weight used at every time step (W_hh) gets one product h_t^T dgates_t per step. Keeping
    the factors and multiplying once, [A_1; ...; A_T]^T [B_1; ...; B_T], turns T small matmuls
    and T full-size additions into one large matmul, which BLAS runs far more efficiently.
    """

    __slots__ = ("shape", "dtype", "lefts", "rights", "rows", "total")

    def __init__(self, a: np.ndarray, b: np.ndarray):
        self.shape = (a.shape[1], b.shape[1])
        self.dtype = a.dtype if a.dtype == b.dtype else np.result_type(a.dtype, b.dtype)
        self.lefts, self.rights = [a], [b]
        self.rows = a.shape[0]  # rows of the stacked factors held so far
        self.total: np.ndarray | None = None  # products already multiplied out

    def extend(self, other: OuterGrad) -> None:
        """Add another sum of products to this one; multiply out once the factors outgrow it."""
        if other.total is not None:
            self._add_total(other.total)
        self.lefts += other.lefts
        self.rights += other.rights
        self.rows += other.rows
        # Held factors cost rows * (P + Q) numbers, the product P * Q: keep at most about four
        # times as many as the product (a batch of many steps per matmul, bounded memory; the
        # right factors are shared with the input projection's gradient pieces anyway).
        if self.rows * (self.shape[0] + self.shape[1]) > 4 * self.shape[0] * self.shape[1]:
            self._add_total(self._product())
            self.lefts, self.rights, self.rows = [], [], 0

    def _add_total(self, part: np.ndarray) -> None:
        if self.total is None:
            self.total = part
        else:
            self.total += part

    def _product(self) -> np.ndarray:
        from .ops import _mm

        if len(self.lefts) == 1:
            return _mm(self.lefts[0].T, self.rights[0])
        a, b = self.lefts[0], self.rights[0]
        left = _buffers.empty((self.rows, a.shape[1]), a.dtype)
        right = _buffers.empty((self.rows, b.shape[1]), b.dtype)
        np.concatenate(self.lefts, out=left)
        np.concatenate(self.rights, out=right)
        return _mm(left.T, right)

    def dense(self, dtype: Any = None) -> np.ndarray:
        """The sum as an ndarray of `shape`: one matmul over the stacked factors."""
        out = self.total
        if self.lefts:
            out = self._product() if out is None else out + self._product()
        return out if dtype is None or out.dtype == dtype else out.astype(dtype)


def _nonfinite(a: Any) -> bool:
    if type(a) is SparseGrad:
        a = a.value
    elif type(a) is ScatterGrad:
        return any(_nonfinite(p) for p in a.parts)
    elif type(a) is OuterGrad:
        return _nonfinite(a.total) or any(_nonfinite(x) for x in a.lefts + a.rights)
    return isinstance(a, np.ndarray) and a.dtype.kind == "f" and not np.isfinite(a).all()


class SparseGrad:
    """A gradient that is zero except at `key`, where it is `value`: what slicing sends back.

    Returning it instead of a dense array lets the engine scatter every slice of one tensor (the
    T per-step slices of a sequence's input projection, the gates of one step) into one buffer,
    so backpropagating through T slices costs O(T) instead of T full-size zero arrays.
    """

    __slots__ = ("shape", "key", "value", "advanced")

    def __init__(self, shape: tuple, key: Any, value: np.ndarray, advanced: bool):
        self.shape, self.key, self.value, self.advanced = shape, key, value, advanced

    @property
    def dtype(self) -> np.dtype:
        """The dtype of the non-zero part."""
        return self.value.dtype

    def add_into(self, buf: np.ndarray) -> None:
        """buf[key] += value; repeated integer indices accumulate (np.add.at)."""
        if not self.advanced:
            buf[self.key] += self.value
        elif not _add_rows(buf, self.key, self.value):
            np.add.at(buf, self.key, self.value)

    def dense(self, dtype: Any = None) -> np.ndarray:
        """The full gradient as an ndarray of `shape`."""
        out = np.zeros(self.shape, dtype=dtype or self.value.dtype)
        self.add_into(out)
        return out


_ONEHOT_MAX = 1 << 22  # entries of the one-hot matrix _add_rows may build (16 MB in float32)


def _add_rows(buf: np.ndarray, key: tuple, value: np.ndarray) -> bool:
    """buf[idx] += value for rows picked by one integer array (an embedding's gradient).

    Done as one matmul, onehot(idx)^T @ value, when the one-hot matrix is small: np.add.at
    takes 3.7 ms for 8,000 rows of 64 numbers into a (64, 64) table, the matmul 0.6 ms.
    -> False when the key is not of that form (the caller falls back to np.add.at).
    """
    if len(key) != 1 or type(key[0]) is not np.ndarray or buf.dtype.kind != "f":
        return False
    idx = key[0].reshape(-1)
    V, n = buf.shape[0], idx.size
    if not 0 < V * n <= _ONEHOT_MAX:
        return False
    onehot = np.zeros((V, n), dtype=buf.dtype)
    onehot[idx, np.arange(n)] = 1
    buf += (onehot @ value.reshape(n, -1)).reshape(buf.shape)
    return True


class ScatterGrad:
    """Gradients of rows x[t] of one tensor, kept as pieces until the tensor's node is reached.

    Scattering at once needs a full-size buffer from the first row on. The T rows x[t] of a
    sequence's input projection send their gradients one by one, from the last step back,
    while the arrays saved for those steps are being freed; keeping the pieces defers the
    buffer to when the pieces are all in, which lowers the peak memory of a backward through
    time by the size of the projection. Pieces that are the rows x[0], ..., x[T-1] once each
    are stacked instead of added into zeros. (Other slices are scattered at once: their
    buffers are small, one time step's.)
    """

    __slots__ = ("shape", "dtype", "parts", "size")

    def __init__(self, shape: tuple, dtype: Any, first: SparseGrad):
        self.shape, self.dtype, self.parts, self.size = shape, dtype, [first], first.value.size

    def add(self, part: SparseGrad) -> bool:
        """Keep one more piece; False once the pieces hold more numbers than the dense array."""
        self.parts.append(part)
        self.size += part.value.size
        return self.size <= _numel(self.shape)

    def dense(self) -> np.ndarray:
        """The sum of the pieces as an ndarray of `shape` (owned by the caller)."""
        rows = self._rows()
        if rows is not None:
            out = _buffers.empty(self.shape, self.dtype)
            return np.stack(rows, out=out, casting="same_kind")
        out = _buffers.zeros(self.shape, self.dtype)
        for part in self.parts:
            part.add_into(out)
        return out

    def _rows(self) -> list | None:
        """The values in row order when the pieces are the rows 0..n-1 once each, else None."""
        n = self.shape[0] if self.shape else 0
        if len(self.parts) != n:
            return None
        rows: list = [None] * n
        for part in self.parts:
            k = part.key
            if type(k) is tuple and len(k) == 1:
                k = k[0]  # x[t] arrives as the key (t,)
            if part.advanced or type(k) is not int or not -n <= k < n or rows[k] is not None:
                return None
            rows[k] = part.value
        return rows


def _is_row(part: SparseGrad) -> bool:
    """True for the gradient of x[t] (one integer index on the first axis)."""
    k = part.key
    return not part.advanced and type(k) is tuple and len(k) == 1 and type(k[0]) is int


def _numel(shape: tuple) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


# ----------------------------------------------------------------------------- graph nodes


class Context:
    """One recorded op, the node of the graph and the grad_fn of the tensor it made.

    It keeps what backward needs and no more: the Function, the edges to its inputs (the
    Context of each input made by an op, or the input Tensor itself for leaves), the arrays
    the op saved, and the output's shape and dtype. It does not keep its output Tensor, so an
    intermediate array nobody saved is freed as soon as the user's code drops it (as in
    PyTorch, where a grad_fn holds no reference to its output).
    """

    __slots__ = (
        "fn", "parents", "needs_input_grad", "saved_tensors", "scope", "out_shape", "out_dtype",
        "extra", "seq",
        "__dict__",
    )  # fmt: skip
    # rarely set, so class-level defaults (an instance that sets one keeps it in __dict__)
    where: str | None = None  # the user-code line that created the op (detect_anomaly only)
    freed = False  # True once backward has dropped the saved arrays
    requires_grad = True  # an op node always needs its gradient (as its output tensor does)

    def __init__(self, fn: type, parents: tuple, needs_input_grad: tuple):
        self.fn = fn
        self.parents = parents
        self.needs_input_grad = needs_input_grad
        self.saved_tensors: tuple = ()
        self.scope = _scope
        # per-node extras, None for almost every node: {"hooks": [...], "retained": weakref
        # to the output Tensor, "record": True, "grad": ndarray, "value": ndarray}
        self.extra: dict | None = None
        self.seq = next(_sequence)  # creation order: larger than every input node's

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep arrays that backward needs; they are freed after backward unless retain_graph."""
        self.saved_tensors = arrays

    def free(self) -> None:
        """Drop everything saved for backward; the graph's structure stays for inspection."""
        self.saved_tensors = ()
        self.__dict__.clear()
        self.freed = True

    def name(self) -> str:
        """The op's name with PyTorch's suffix, e.g. 'TanhBackward'."""
        return self.fn.__name__ + "Backward"

    @property
    def next_functions(self) -> tuple:
        """The grad_fn of each input (None for leaves), like PyTorch's."""
        return tuple(p if type(p) is Context else None for p in self.parents)

    @property
    def grad(self) -> np.ndarray | None:
        """dL/d(output) of the last backward, kept only for nodes marked by record() (viz)."""
        return None if self.extra is None else self.extra.get("grad")

    @property
    def value(self) -> np.ndarray | None:
        """The output array, kept only for ops recorded inside keep_values() (viz)."""
        return None if self.extra is None else self.extra.get("value")

    def _extras(self) -> dict:
        if self.extra is None:
            self.extra = {}
        return self.extra

    def describe(self) -> str:
        """'Tanh (scope lstm.l0 t=3)', used in error messages."""
        where = format_scope(self.scope)
        return self.fn.__name__ + (f" (scope {where})" if where else "")

    def __repr__(self) -> str:
        return f"<{self.name()}>"


def edge(t: Any) -> Any:
    """The graph node standing for Tensor t: its Context if an op made it, else t (a leaf)."""
    return t if t._ctx is None else t._ctx


class Function:
    """Base class of every primitive op: subclass with static forward(ctx, ...) and backward."""

    @staticmethod
    def forward(ctx: Context, *arrays: np.ndarray, **attrs: Any) -> np.ndarray:
        """Compute the output array from input arrays; save what backward needs on ctx."""
        raise NotImplementedError(f"{__class__.__name__}.forward must be defined by the op")

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        """dL/dout -> one dL/dinput per input (None where not needed)."""
        raise NotImplementedError(f"{__class__.__name__}.backward must be defined by the op")

    @classmethod
    def apply(cls, *tensors: Any, **attrs: Any) -> Any:
        """Run forward on the tensors' arrays and, in grad mode, record the node for backward."""
        if len(tensors) == 2:  # most ops take one or two inputs: spelled out, as this is hot
            a, b = tensors
            needs = (a.requires_grad, b.requires_grad)
            build = _grad_enabled and (needs[0] or needs[1])
            edges = (a._ctx or a, b._ctx or b) if build else ()
            arrays = (a.data, b.data)
        elif len(tensors) == 1:
            (a,) = tensors
            needs = (a.requires_grad,)
            build = _grad_enabled and needs[0]
            edges = (a._ctx or a,) if build else ()
            arrays = (a.data,)
        elif len(tensors) == 3:  # addmm, addcmul, lerp: one per time step of the cells
            a, b, c = tensors
            needs = (a.requires_grad, b.requires_grad, c.requires_grad)
            build = _grad_enabled and (needs[0] or needs[1] or needs[2])
            edges = (a._ctx or a, b._ctx or b, c._ctx or c) if build else ()
            arrays = (a.data, b.data, c.data)
        else:
            needs = tuple([t.requires_grad for t in tensors])
            build = _grad_enabled and True in needs
            edges = tuple([t._ctx or t for t in tensors]) if build else ()
            arrays = [t.data for t in tensors]
        ctx = Context(cls, edges, needs)  # an edge: the input's node, or the leaf Tensor itself
        try:
            out = cls.forward(ctx, *arrays, **attrs)
        except (ValueError, IndexError, TypeError) as e:
            msg = str(e)
            if "shape" not in msg:
                msg += " (input shapes: " + ", ".join(str(tuple(t.shape)) for t in tensors) + ")"
            raise type(e)(f"{cls.__name__}: {msg}") from None
        if _anomaly:
            _check_forward(cls, ctx, tensors, out)
        if type(out) is not np.ndarray:
            out = np.asarray(out)  # numpy returns scalars, not 0-d arrays, from 0-d math
        t = object.__new__(_Tensor)  # Tensor._make, inlined: this runs once per op
        t.data, t.grad, t._hooks = out, None, ()
        if not build:
            t.requires_grad, t._ctx = False, None
            return t
        ctx.out_shape, ctx.out_dtype = out.shape, out.dtype
        if _keep_values:
            ctx._extras()["value"] = out
        t.requires_grad, t._ctx = True, ctx
        return t


def _check_forward(cls: type, ctx: Context, tensors: tuple, out: np.ndarray) -> None:
    ctx.where = _user_frame()
    ctx.nonfinite_inputs = [j for j, t in enumerate(tensors) if _nonfinite(t.data)]
    if _nonfinite(out) and not ctx.nonfinite_inputs:
        bad = "nan" if np.isnan(out).any() else "inf"
        raise AnomalyError(
            f"detect_anomaly: {ctx.describe()} produced {bad} in its forward output from "
            f"finite inputs. It was created at {ctx.where}"
        )


# ----------------------------------------------------------------------------- backward


def toposort(root: Any) -> list:
    """Graph nodes reachable from root that need grad, inputs before outputs (iterative DFS).

    A node is a Context (an op) or a leaf Tensor; root is either.
    """
    order: list = []
    visited: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)  # all of node's parents are already in `order`
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        if type(node) is Context:
            for parent in node.parents:
                if parent.requires_grad and id(parent) not in visited:
                    stack.append((parent, False))
    return order


def backward(root: Any, grad: np.ndarray, retain_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf), seeded with `grad` = dL/droot, into every leaf's .grad."""
    with gc_paused():
        _backward(edge(root), grad, retain_graph)


def _backward(root: Any, grad: np.ndarray, retain_graph: bool) -> None:
    """The walk itself: nodes in reverse creation order, each gradient used once, then freed.

    A node's consumers were all created after it, so taking the pending node with the largest
    creation number (a heap) reaches every node only when all its consumers have added their
    share of its gradient: a reverse topological order without a separate sort. Leaves come
    last, in the order they were reached.
    """
    grads: dict[int, np.ndarray] = {id(root): grad}  # dL/dnode for nodes not yet processed
    owned: set[int] = set()  # gradient buffers created here, safe to add into in place
    leaves: list = [] if type(root) is Context else [root]
    heap = [(-root.seq, root)] if type(root) is Context else []  # seq is unique: no ties
    todo = (heap, leaves)  # where _add_grad schedules a node on its first gradient
    while heap:
        ctx = heapq.heappop(heap)[1]
        g = grads.pop(id(ctx))  # released as soon as it is consumed
        if type(g) is OuterGrad or type(g) is ScatterGrad:  # all contributions are in
            g = g.dense(ctx.out_dtype) if type(g) is OuterGrad else g.dense()
            owned.add(id(ctx))
        if ctx.extra is not None:
            g = _node_extras(ctx, g)
            owned.discard(id(ctx))
        if ctx.freed:
            raise GraphFreedError(
                f"backward through {ctx.describe()} a second time: its saved arrays were freed "
                "after the first backward. Pass retain_graph=True to the first backward() if you "
                "need to backpropagate twice, or detach() the tensor you reuse (for example the "
                "hidden state carried between batches in truncated BPTT)."
            )
        input_grads = ctx.fn.backward(ctx, g)
        if _anomaly:
            _check_backward(ctx, g, input_grads)
        for parent, pg in zip(ctx.parents, input_grads):
            if pg is None or not parent.requires_grad:
                continue
            if (  # the common case, inlined: an op node's first gradient, an ndarray as expected
                type(pg) is np.ndarray
                and type(parent) is Context
                and id(parent) not in grads
                and pg.shape == parent.out_shape
                and pg.dtype == parent.out_dtype
            ):
                grads[id(parent)] = pg
                heapq.heappush(heap, (-parent.seq, parent))
            else:
                _add_grad(grads, owned, todo, parent, pg, ctx)
        if not retain_graph:
            ctx.free()
    for leaf in leaves:  # hooks, then into .grad
        g = grads.pop(id(leaf))
        if type(g) is OuterGrad or type(g) is ScatterGrad:
            g = g.dense(leaf.data.dtype) if type(g) is OuterGrad else g.dense()
            owned.add(id(leaf))
        if leaf._hooks:
            g = _run_hooks(leaf._hooks, g)
            owned.discard(id(leaf))
        _accumulate_into_grad(leaf, g, id(leaf) in owned)


def _node_extras(ctx: Context, g: np.ndarray) -> np.ndarray:
    """Hooks, retain_grad and record() of an op node; -> the (possibly hooked) gradient."""
    extra = ctx.extra
    if "hooks" in extra:
        g = _run_hooks(extra["hooks"], g)
    ref = extra.get("retained")
    out = ref() if ref is not None else None
    if out is not None:  # the tensor asked to retain_grad() is still alive: give it a copy
        _accumulate_into_grad(out, g, False)
    if "record" in extra:
        extra["grad"] = g if extra.get("grad") is None else extra["grad"] + g
    return g


def _add_grad(grads: dict, owned: set, todo: tuple, parent: Any, pg: Any, ctx: Context) -> None:
    """grads[parent] += pg, checking the shape; sum paths (the chain rule over a DAG).

    A parent's first gradient also schedules it: op nodes go on the heap, leaves on the list
    (todo = (heap, leaves)).
    """
    if type(parent) is Context:
        shape, dtype = parent.out_shape, parent.out_dtype
    else:
        shape, dtype = parent.data.shape, parent.data.dtype
    if pg.shape != shape:
        raise RuntimeError(
            f"internal error in {ctx.describe()}.backward: gradient of shape {pg.shape} for an "
            f"input of shape {shape}"
        )
    key = id(parent)
    prev = grads.get(key)
    kind = type(pg)
    if prev is None:  # the first gradient to reach parent
        if type(parent) is Context:
            heapq.heappush(todo[0], (-parent.seq, parent))
        else:
            todo[1].append(parent)
        if kind is np.ndarray:  # the common case
            grads[key] = pg if pg.dtype == dtype else pg.astype(dtype)
            return
        if kind is OuterGrad:  # a lazy sum: later products join it, one matmul when consumed
            grads[key] = pg
            return
        if kind is SparseGrad and _is_row(pg):  # x[t]'s gradient: keep the piece for later
            grads[key] = ScatterGrad(shape, dtype, pg)
            return
    elif kind is SparseGrad and type(prev) is ScatterGrad and _is_row(pg):
        if not prev.add(pg):  # more numbers than the dense array: add them up now
            grads[key] = prev.dense()
            owned.add(key)
        return
    # the general case: bring prev and pg to ndarrays (or a sparse pg) and add
    if type(prev) is ScatterGrad:
        grads[key] = prev = prev.dense()
        owned.add(key)
    if kind is OuterGrad:
        if type(prev) is OuterGrad:
            prev.extend(pg)
            return
        pg = pg.dense(dtype)
    elif type(prev) is OuterGrad:
        grads[key] = prev = prev.dense(dtype)
        owned.add(key)
    if kind is SparseGrad:  # scatter a slice's gradient into one buffer we own
        if prev is None or key not in owned:
            buf = _buffers.zeros(shape, dtype)
            if prev is not None:
                buf += prev
            grads[key] = prev = buf
            owned.add(key)
        pg.add_into(prev)
        return
    if pg.dtype != dtype:
        pg = pg.astype(dtype)
    if prev is None:
        grads[key] = pg
    elif key in owned:
        prev += pg  # our own buffer (an ndarray, see below): add in place
    else:
        total = prev + pg
        # 0-d sums come back as numpy scalars, which `+=` would rebind instead of updating
        grads[key] = total if type(total) is np.ndarray else np.asarray(total)
        owned.add(key)


def _accumulate_into_grad(node: Any, g: np.ndarray, is_owned: bool) -> None:
    """node.grad += g (leaves and retain_grad tensors), like PyTorch's accumulation."""
    if node.grad is None:
        data = g if is_owned and g.flags.writeable else np.array(g, dtype=node.data.dtype)
        node.grad = _Tensor._make(data, False, None)
    elif node.grad.data.flags.writeable and node.grad.data.dtype == g.dtype:
        node.grad.data += g  # in place, as PyTorch accumulates
    else:
        node.grad.data = node.grad.data + g


def _run_hooks(hooks: list, g: np.ndarray) -> np.ndarray:
    for hook in list(hooks):
        out = hook(_Tensor._make(g, False, None))
        if out is not None:
            new = out.data if isinstance(out, _Tensor) else np.asarray(out)
            if new.shape != g.shape:
                raise RuntimeError(
                    f"hook {hook!r} returned a gradient of shape {new.shape}, expected {g.shape}"
                )
            g = new
    return g


def _check_backward(ctx: Context, g: np.ndarray, input_grads: tuple) -> None:
    if _nonfinite(g):
        return  # the culprit was downstream and already reported, or the seed itself
    for i, pg in enumerate(input_grads):
        if pg is not None and _nonfinite(pg):
            bad = "nan" if np.isnan(getattr(pg, "value", pg)).any() else "inf"
            fed = ctx.__dict__.get("nonfinite_inputs", [])
            cause = (
                f" Its forward input {fed[0]} already held nan/inf, so the cause lies upstream: a "
                "leaf (parameter or input) with non-finite values, or an op run outside "
                "detect_anomaly()."
                if fed
                else ""
            )
            raise AnomalyError(
                f"detect_anomaly: {ctx.describe()}.backward produced {bad} in the gradient of "
                f"input {i} from a finite incoming gradient.{cause} The op was created at "
                f"{ctx.where or '<unknown: created outside detect_anomaly()>'}"
            )


def functional_grad_mode(fn: Callable) -> Callable:
    """Decorator: run `fn` under no_grad (used by optimizers and init functions)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with no_grad():
            return fn(*args, **kwargs)

    return wrapper
