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
import gc
import heapq
import itertools
import traceback
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from . import buffers
from .grads import nonfinite

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
# The Tensor class, which wraps every op's output. The core's one loop: Function.apply makes
# Tensors, whose methods apply Functions. tensor.py imports this module, so instead of being
# imported here it registers its class once it is complete (register_tensor_class).
_Tensor: Any = None


class AnomalyError(RuntimeError):
    """Raised by detect_anomaly() when an op first produces NaN or Inf."""


class GraphFreedError(RuntimeError):
    """Raised when backward runs through a graph whose saved arrays were already freed."""


def register_tensor_class(cls: type) -> None:
    """Make ops wrap their output arrays in cls (Tensor), built by cls._make(array, grad?, ctx)."""
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


# ----------------------------------------------------------------------------- versions

# PyTorch's version counters. Every in-place change of a tensor's memory (an in-place op, an
# optimizer step, x[i] = v) bumps the version of that memory, which the tensor shares with its
# views and detach()ed copies. An op that saved an array for its backward needs that array
# unchanged: backward checks the saved arrays of every node created before the latest change
# and raises PyTorch's error instead of computing a silently wrong gradient. The versions are
# kept per block of memory (the array that owns it), so a Context needs no bookkeeping in the
# forward pass: nodes made after the last in-place change are skipped with one comparison.


class _Version:
    """The version of one block of memory: how often it was changed in place, and when."""

    __slots__ = ("ref", "version", "changes")

    def __init__(self, owner: np.ndarray):
        self.ref = weakref.ref(owner)
        self.version = 0
        self.changes: list = []  # (seq, version after the change), the latest _HISTORY ones


_HISTORY = 64
_versions: dict[int, _Version] = {}  # id(owner array) -> its version
_last_change = -1  # the seq of the latest in-place change (see _check_saved)


def _owner(arr: np.ndarray) -> np.ndarray:
    """The array that owns arr's memory (arr itself, or the base its view chain ends in)."""
    while True:
        base = arr.base
        if not isinstance(base, np.ndarray):  # as_strided (expand) leaves a holder in between
            base = getattr(base, "base", None)
            if not isinstance(base, np.ndarray):
                return arr
        arr = base


def _version_entry(arr: np.ndarray) -> _Version | None:
    owner = _owner(arr)
    entry = _versions.get(id(owner))
    return entry if entry is not None and entry.ref() is owner else None


def version(arr: np.ndarray) -> int:
    """How many in-place changes the memory of arr has had (PyTorch's tensor._version)."""
    entry = _version_entry(arr)
    return 0 if entry is None else entry.version


def reserve_change() -> int:
    """A point in creation order for an in-place change about to happen (see bump_version)."""
    return next(_sequence)


def bump_version(arr: np.ndarray, seq: int | None = None) -> int:
    """Record an in-place change of arr's memory at seq (now by default); -> the new version.

    Nodes created before seq that saved this memory can no longer run their backward.
    """
    global _last_change
    seq = next(_sequence) if seq is None else seq
    owner = _owner(arr)
    entry = _version_entry(owner)
    if entry is None:
        if len(_versions) > 1024 and len(_versions) % 1024 == 0:  # drop freed arrays' entries
            for key in [k for k, e in _versions.items() if e.ref() is None]:
                del _versions[key]
        entry = _versions[id(owner)] = _Version(owner)
    entry.version += 1
    entry.changes.append((seq, entry.version))
    del entry.changes[:-_HISTORY]
    _last_change = max(_last_change, seq)
    return entry.version


def _check_saved(ctx: Context) -> None:
    """PyTorch's error when an array ctx saved for backward was changed in place after ctx."""
    for arr in ctx.saved_tensors:
        entry = _version_entry(arr) if type(arr) is np.ndarray else None
        if entry is None or entry.changes[-1][0] < ctx.seq:
            continue
        before = [v for seq, v in entry.changes if seq < ctx.seq]
        expected = before[-1] if before else entry.changes[0][1] - 1
        where = f" It was created at {ctx.where}." if ctx.where else ""
        raise RuntimeError(
            "one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: an array of shape {tuple(arr.shape)} and dtype {arr.dtype} "
            f"saved by {ctx.describe()}, is at version {entry.version}; expected version "
            f"{expected} instead.{where} Hint: clone() the tensor before changing it in place, "
            "or run the forward under detect_anomaly() to see where the op was created."
        )


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
        # Per input: whether it needs a gradient, its edge (the node that made it, or the leaf
        # Tensor itself) and its array. Spelled out for one to three inputs because apply runs
        # once per op: three list comprehensions instead cost 3% of a small RNN's step.
        if len(tensors) == 1:
            (a,) = tensors
            needs, edges, arrays = (a.requires_grad,), (a._ctx or a,), (a._data,)
        elif len(tensors) == 2:
            a, b = tensors
            needs = (a.requires_grad, b.requires_grad)
            edges, arrays = (a._ctx or a, b._ctx or b), (a._data, b._data)
        elif len(tensors) == 3:
            a, b, c = tensors
            needs = (a.requires_grad, b.requires_grad, c.requires_grad)
            edges, arrays = (a._ctx or a, b._ctx or b, c._ctx or c), (a._data, b._data, c._data)
        else:
            needs = tuple([t.requires_grad for t in tensors])
            edges = tuple([t._ctx or t for t in tensors])
            arrays = tuple([t._data for t in tensors])
        build = _grad_enabled and True in needs
        ctx = Context(cls, edges if build else (), needs)
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
        if build:
            ctx.out_shape, ctx.out_dtype = out.shape, out.dtype
            if _keep_values:
                ctx._extras()["value"] = out
        t = object.__new__(_Tensor)  # Tensor._make(out, build, ctx), inlined: this is hot too
        t._data, t.grad, t.requires_grad, t._ctx = out, None, build, ctx if build else None
        t._hooks, t._view, t._views = (), None, None
        return t


def _check_forward(cls: type, ctx: Context, tensors: tuple, out: np.ndarray) -> None:
    ctx.where = _user_frame()
    ctx.nonfinite_inputs = [j for j, t in enumerate(tensors) if nonfinite(t._data)]
    if nonfinite(out) and not ctx.nonfinite_inputs:
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
        _backward(edge(root), np.asarray(grad), retain_graph)


def _backward(root: Any, grad: np.ndarray, retain_graph: bool) -> None:
    """The walk itself: nodes in reverse creation order, each gradient used once, then freed.

    A node's consumers were all created after it, so taking the pending node with the largest
    creation number (a heap) reaches every node only when all its consumers have added their
    share of its gradient: a reverse topological order without a separate sort. Leaves come
    last, in the order they were reached.
    """
    grads: dict[int, Any] = {id(root): grad}  # dL/dnode of the nodes reached, not yet processed
    owned: set[int] = set()  # gradient buffers created here, safe to add into in place
    leaves: list = [] if type(root) is Context else [root]
    heap = [(-root.seq, root)] if type(root) is Context else []  # seq is unique: no ties
    todo = (heap, leaves)  # where _add_grad schedules a node on its first gradient
    while heap:
        ctx = heapq.heappop(heap)[1]
        g = grads.pop(id(ctx))  # dL/dy, complete: every path from y to the loss has added in
        if type(g) is not np.ndarray:  # a lazy sum (grads.py): multiply or stack it out now
            g = g.dense(ctx.out_dtype)
            owned.add(id(ctx))
        if ctx.extra is not None:  # hooks, retain_grad(), record()
            g = _node_extras(ctx, g)
            owned.discard(id(ctx))
        if ctx.freed:
            raise GraphFreedError(
                f"backward through {ctx.describe()} a second time: its saved arrays were freed "
                "after the first backward. Pass retain_graph=True to the first backward() if you "
                "need to backpropagate twice, or detach() the tensor you reuse (for example the "
                "hidden state carried between batches in truncated BPTT)."
            )
        if ctx.seq < _last_change:  # changed in place since: is what it saved still intact?
            _check_saved(ctx)
        input_grads = ctx.fn.backward(ctx, g)  # dL/dx_i = dL/dy dy/dx_i, for each input x_i
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
    for leaf in leaves:  # dL/dleaf: hooks, then into .grad
        g = grads.pop(id(leaf))
        if type(g) is not np.ndarray:
            g = g.dense(leaf._data.dtype)
            owned.add(id(leaf))
        if leaf._hooks:
            g = _run_hooks(leaf._hooks, g)
            owned.discard(id(leaf))
        _accumulate_into_grad(leaf, g, id(leaf) in owned)


def _add_grad(grads: dict, owned: set, todo: tuple, parent: Any, pg: Any, ctx: Context) -> None:
    """grads[parent] += pg: the chain rule over a DAG sums the gradients of all paths.

    A parent's first gradient also schedules it: op nodes go on the heap, leaves on the list
    (todo = (heap, leaves)). A lazy gradient (grads.py) stays lazy as long as it can.
    """
    if type(parent) is Context:
        shape, dtype = parent.out_shape, parent.out_dtype
    else:
        shape, dtype = parent._data.shape, parent._data.dtype
    if pg.shape != shape:
        raise RuntimeError(
            f"internal error in {ctx.describe()}.backward: gradient of shape {pg.shape} for an "
            f"input of shape {shape}"
        )
    if isinstance(pg, np.generic):
        pg = np.asarray(pg)  # numpy returns scalars, not 0-d arrays, from 0-d math
    key = id(parent)
    prev = grads.get(key)
    if prev is None:  # the first path to reach parent
        if type(parent) is Context:
            heapq.heappush(todo[0], (-parent.seq, parent))
        else:
            todo[1].append(parent)
        if type(pg) is np.ndarray:
            grads[key] = pg if pg.dtype == dtype else pg.astype(dtype)
            return
        lazy = pg.start(shape, dtype)  # a running sum that later paths join, or None
        if lazy is not None:
            grads[key] = lazy
            return
    elif type(prev) is not np.ndarray:  # a lazy running sum: it takes pg in, or is written out
        if prev.absorb(pg):
            return
        grads[key] = prev = prev.dense(dtype)
        owned.add(key)
    if type(pg) is not np.ndarray:  # a lazy pg adds itself into a buffer of ours
        if prev is None or key not in owned:
            buf = buffers.zeros(shape, dtype)
            if prev is not None:
                buf += prev
            grads[key] = prev = buf
            owned.add(key)
        pg.add_into(prev)
    elif key in owned:
        prev += pg if pg.dtype == dtype else pg.astype(dtype)  # our own buffer: in place
    else:
        total = prev + (pg if pg.dtype == dtype else pg.astype(dtype))
        # 0-d sums come back as numpy scalars, which `+=` would rebind instead of updating
        grads[key] = total if type(total) is np.ndarray else np.asarray(total)
        owned.add(key)


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


def _accumulate_into_grad(node: Any, g: np.ndarray, is_owned: bool) -> None:
    """node.grad += g (leaves and retain_grad tensors), like PyTorch's accumulation."""
    if node.grad is None:
        data = g if is_owned and g.flags.writeable else np.array(g, dtype=node._data.dtype)
        node.grad = _Tensor._make(data, False, None)
    elif node.grad._data.flags.writeable and node.grad._data.dtype == g.dtype:
        node.grad._data += g  # in place, as PyTorch accumulates
    else:
        node.grad._data = node.grad._data + g


def _run_hooks(hooks: list, g: np.ndarray) -> np.ndarray:
    for hook in list(hooks):
        out = hook(_Tensor._make(g, False, None))
        if out is not None:
            new = out._data if isinstance(out, _Tensor) else np.asarray(out)
            if new.shape != g.shape:
                raise RuntimeError(
                    f"hook {hook!r} returned a gradient of shape {new.shape}, expected {g.shape}"
                )
            g = new
    return g


def _check_backward(ctx: Context, g: np.ndarray, input_grads: tuple) -> None:
    if nonfinite(g):
        return  # the culprit was downstream and already reported, or the seed itself
    for i, pg in enumerate(input_grads):
        if pg is not None and nonfinite(pg):
            dense = pg if isinstance(pg, np.ndarray) else pg.dense()
            bad = "nan" if np.isnan(dense).any() else "inf"
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
