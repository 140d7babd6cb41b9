"""Reverse-mode automatic differentiation: the graph, the grad mode and the backward engine.

Every differentiable operation is a `Function` whose `backward` turns dL/dy, the gradient of the
loss with respect to its output, into dL/dx_i = dL/dy * dy/dx_i for each input (a
vector-Jacobian product). `Function.apply` runs the forward and, when gradients are wanted,
records a `Context`: the op, its parents, what it saved. The contexts form a DAG from the
inputs to the loss. `backward(root)` walks it once in reverse topological order: when it reaches
a node, every consumer has added its share of dL/dnode (the chain rule adds the paths), so the
node hands it to its op's backward and forgets it. An RNN unrolled over T steps is just a longer
graph: backpropagation through time is this same walk.

Speed lives in grads.py and kernels.py, wording in errors.py: the walk reads as mathematics.
The last section holds the public API: `grad`, `Variable` (Functions on Tensors: user_function.py).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

from . import errors
from .errors import format_scope
from .grads import DenseSum
from .kernels import gc_paused

_grad_enabled = True  # grad mode: when False, Function.apply records no graph (torch.no_grad)
_scope: tuple[str, ...] = ()  # the current scope, e.g. ("lstm", "l0", "t=3"), put on each node
_anomaly = False  # anomaly mode: check forward outputs and backward gradients for NaN/Inf
_keep_values = False  # keep_values(): op nodes keep their output arrays (to draw values)
# Creation order: a node is made after its inputs' nodes (backward walks it in reverse).
_sequence = itertools.count()
_Tensor: Any = None  # tensor.py's Tensor, handed over by register_tensor_class (no import cycle)
_user_functions: Any = None  # user_function.prepare, handed over by register_user_functions


def register_tensor_class(cls: type) -> None:
    """Make ops wrap their outputs in cls, tensor.py's Tensor (apply inlines its cls._make)."""
    global _Tensor
    _Tensor = cls


def register_user_functions(prepare: Callable) -> None:
    """prepare(cls) makes each Function subclass written on Tensors ready (user_function.py)."""
    global _user_functions
    _user_functions = prepare


# ----------------------------------------------------------------------------- modes


class _Switch(contextlib.ContextDecorator):
    """Context manager / decorator: sets the module global `switch` to `value`, then restores it."""

    switch, value = "", True

    def __init__(self):
        self._prev: list = []  # a stack, so that one instance may be entered again inside

    def __enter__(self):
        self._prev.append(globals()[self.switch])
        globals()[self.switch] = self.value
        return self

    def __exit__(self, *exc):
        globals()[self.switch] = self._prev.pop()


def is_grad_enabled() -> bool:
    """True when ops record the graph for backward."""
    return _grad_enabled


class _GradMode(_Switch):
    """Context manager and decorator that sets grad mode and restores the previous one."""

    switch = "_grad_enabled"

    def __new__(cls, func: Callable | None = None):
        return super().__new__(cls) if func is None else cls()(func)  # bare @no_grad: wrap func


class no_grad(_GradMode):
    """Context manager / decorator (`@no_grad` or `@no_grad()`): no graph is recorded inside."""

    value = False


class enable_grad(_GradMode):
    """Context manager / decorator (`@enable_grad` or `@enable_grad()`): record even in no_grad."""

    value = True


def inference_mode(mode: Any = True) -> Any:
    """Context manager / decorator: no_grad; inference_mode(False) leaves grad mode as it is."""
    return no_grad(mode) if callable(mode) else set_grad_enabled(_grad_enabled and not mode)


def set_grad_enabled(mode: bool) -> _GradMode:
    """Context manager / decorator setting grad mode to `mode`."""
    return enable_grad() if mode else no_grad()


class detect_anomaly(_Switch):
    """Context manager / decorator: name the op (and user code line) that first makes NaN/Inf."""

    switch = "_anomaly"


class keep_values(_Switch):
    """Context manager / decorator: ops recorded inside keep their output arrays (for viz)."""

    switch = "_keep_values"


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


# ----------------------------------------------------------------------------- versions

# PyTorch's version counters. An in-place change (an in-place op, an optimizer step, x[i] = v)
# bumps the version of that memory, shared by views and detach()ed copies. Backward checks the
# arrays saved by nodes older than the latest change (errors.check_saved, which also keeps the
# registry) and raises PyTorch's error instead of computing a wrong gradient.
_last_change = -1  # the seq of the latest in-place change (see backward)


def version(arr: np.ndarray) -> int:
    """How many in-place changes the memory of arr has had (PyTorch's tensor._version)."""
    entry = errors.version_entry(arr)
    return 0 if entry is None else entry.version


def reserve_change() -> int:
    """A point in creation order for an in-place change about to happen (see bump_version)."""
    return next(_sequence)


def bump_version(arr: np.ndarray, seq: int | None = None) -> int:
    """Record an in-place change of arr's memory at seq (default: now); -> the new version."""
    global _last_change
    seq = next(_sequence) if seq is None else seq
    _last_change = max(_last_change, seq)  # nodes made before it may have saved arr: check them
    return errors.record_change(arr, seq)


# ----------------------------------------------------------------------------- graph nodes


class Context:
    """One recorded op: the node of the graph and the grad_fn of the tensor it made.

    It keeps what backward needs: the Function, an edge per input (the input's Context, or the
    Tensor itself for a leaf), the saved arrays, the output's shape and dtype. Not the output
    Tensor, so an array nobody saved is freed once user code drops it (as in PyTorch).
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
        self.extra: dict | None = None  # rarely used: hooks, retained, record, grad, value
        self.seq = next(_sequence)  # creation order: larger than every input node's

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep arrays that backward needs; they are freed after backward unless retain_graph."""
        self.saved_tensors = arrays

    def mark_non_differentiable(self, *outputs: Any) -> None:
        """(Functions on Tensors) These outputs of forward will not require grad."""
        self.non_differentiable = outputs

    def set_materialize_grads(self, value: bool) -> None:
        """(Functions on Tensors) False: backward gets None, not zeros, for an unused output."""
        self.materialize_grads = value

    def mark_dirty(self, *tensors: Any) -> None:
        """Not supported: a Function here may not change its inputs in place (raises)."""
        raise NotImplementedError(errors.MARK_DIRTY)

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
        """dL/d(output) of the last backward, kept only for nodes marked by keep_grad() (viz)."""
        return None if self.extra is None else self.extra.get("grad")

    @property
    def value(self) -> np.ndarray | None:
        """The output array, kept only for ops recorded inside keep_values() (viz)."""
        return None if self.extra is None else self.extra.get("value")

    def keep_grad(self) -> None:
        """Keep dL/d(output) of the coming backward passes in ctx.grad (viz.record_grads)."""
        self._extras()["record"] = True

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
    return t._ctx or t  # (a no_grad view: see tensor.py's _NoGradViewEdge)


class Function:
    """Base class of ops: static forward(ctx, ...) and backward(ctx, grad), then Op.apply(...).

    The package's ops (and classes with `on_arrays = True`) compute on ndarrays; a Function
    defined elsewhere works on Tensors, as PyTorch's (user_function.py).
    """

    on_arrays = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.on_arrays = cls.on_arrays or cls.__module__.startswith(__package__ + ".")
        if not cls.on_arrays:  # nodes named after it ("MyOpBackward") and apply on Tensors
            _user_functions(cls)

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
        # Per input: needs a gradient?, its edge, its array; spelled out up to three inputs, as
        # comprehensions cost a measurable share of a small RNN's step (benchmarks/RESULTS.md).
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
        except (ValueError, IndexError, TypeError) as e:  # name the op in numpy's message
            raise errors.op_failed(cls.__name__, e, [a.shape for a in arrays]) from None
        if _anomaly:
            errors.check_forward(ctx, arrays, out)
        if type(out) is not np.ndarray:  # numpy returns scalars, not 0-d arrays, from 0-d math
            scalar, out = out, np.asarray(out)  # an output saved for backward is this array too
            ctx.saved_tensors = tuple(out if a is scalar else a for a in ctx.saved_tensors)
        if build:
            ctx.out_shape, ctx.out_dtype = out.shape, out.dtype
            if _keep_values:
                ctx._extras()["value"] = out
        t = object.__new__(_Tensor)  # Tensor._make(out, build, ctx), inlined: this is hot too
        t._data, t.grad, t.requires_grad, t._ctx = out, None, build, ctx if build else None
        t._hooks, t._view, t._views = (), None, None
        return t


def note_output(ctx: Context, arrays: tuple, out: np.ndarray, node: Context | None) -> None:
    """apply's anomaly check of a forward output, and its keep_values (user_function.py)."""
    if _anomaly:
        errors.check_forward(ctx, arrays, out)
    if _keep_values and node is not None:
        node._extras()["value"] = out


# ----------------------------------------------------------------------------- backward


def backward(root: Any, grad: Any, retain_graph: bool = False, capture: dict | None = None) -> None:
    """Accumulate d(root)/d(leaf), seeded with `grad` = dL/droot, into every leaf's .grad.

    Nodes are visited in reverse creation order, each gradient used once, then freed. A node's
    consumers were all created after it, so the pending node with the largest creation number
    (a heap) has had all its consumers add their share of its gradient: a reverse topological
    order without a separate sort. Leaves come last, in the order they were reached. root and
    grad may be lists; `capture` {id(node): ...} takes those nodes' gradients instead of .grad.
    """
    grads: dict = {}  # dL/dnode of the nodes reached and not yet done
    heap: list = []  # (-seq, node) of the nodes reached (seq is unique: no ties), and leaves
    leaves: list = []
    for r, g in zip(*((root, grad) if type(root) is list else ([root], [grad]))):
        _add_grad(grads, heap, leaves, edge(r), np.asarray(g), None)
    last_change = _last_change  # the latest in-place change (see the versions section)
    with gc_paused():
        while heap:
            ctx = heapq.heappop(heap)[1]
            g = grads.pop(id(ctx))  # dL/dy, complete: every path from y to the loss added in
            if type(g) is not np.ndarray:  # a running sum (grads.py): the array it stands for
                g = g.dense(ctx.out_dtype)
            if ctx.extra is not None:  # hooks, retain_grad(), keep_grad()
                g = _node_extras(ctx, g, capture is None)
            if capture is not None and id(ctx) in capture:
                capture[id(ctx)] = g
            if ctx.freed:  # a second backward through a graph whose saved arrays are gone
                raise errors.graph_freed(ctx)
            if ctx.seq < last_change:  # changed in place since: is what it saved still intact?
                errors.check_saved(ctx)
            input_grads = ctx.fn.backward(ctx, g)  # dL/dx_i = dL/dy dy/dx_i for each input x_i
            if _anomaly:
                errors.check_backward(ctx, g, input_grads)
            for parent, pg in zip(ctx.parents, input_grads):
                if pg is None or not parent.requires_grad:
                    continue
                if (  # the common case, inlined: an op node's first gradient, as expected
                    type(pg) is np.ndarray
                    and type(parent) is Context
                    and id(parent) not in grads
                    and pg.shape == parent.out_shape
                    and pg.dtype == parent.out_dtype
                ):
                    grads[id(parent)] = pg
                    heapq.heappush(heap, (-parent.seq, parent))
                else:
                    _add_grad(grads, heap, leaves, parent, pg, ctx)
            if not retain_graph:
                ctx.free()
        for leaf in leaves:  # dL/dleaf: hooks, then into .grad
            g = grads.pop(id(leaf))
            if capture is not None and id(leaf) not in capture:
                continue
            ours = type(g) is not np.ndarray  # a sum made here, not an op's array: no copy
            if ours:
                g = g.dense(leaf._data.dtype)
            if leaf._hooks:
                g, ours = _run_hooks(leaf._hooks, g), False
            if capture is None:
                _accumulate_into_grad(leaf, g, ours)
            else:
                capture[id(leaf)] = g


def _add_grad(grads: dict, heap: list, leaves: list, parent: Any, pg: Any, ctx: Context) -> None:
    """grads[parent] += pg, as the chain rule adds up all paths; the first one schedules parent."""
    if type(parent) is Context:
        shape, dtype = parent.out_shape, parent.out_dtype
    else:
        shape, dtype = parent._data.shape, parent._data.dtype
    if pg.shape != shape:  # a bug in the op's backward, never to be summed away
        raise errors.wrong_gradient_shape(ctx, pg.shape, shape)
    if type(pg) is not np.ndarray and isinstance(pg, np.generic):
        pg = np.asarray(pg)  # numpy returns scalars, not 0-d arrays, from 0-d math
    key = id(parent)
    prev = grads.get(key)
    if prev is None:  # the first path to reach parent
        if type(parent) is Context:
            heapq.heappush(heap, (-parent.seq, parent))
        else:
            leaves.append(parent)
        if type(pg) is np.ndarray:
            grads[key] = pg if pg.dtype == dtype else pg.astype(dtype)
        else:
            grads[key] = pg.start(shape, dtype)  # a lazy running sum that later paths join
    elif type(prev) is np.ndarray and type(pg) is np.ndarray and pg.dtype == dtype:
        total = prev + pg  # the second path: a new array of ours, which later paths add into
        grads[key] = DenseSum(total if type(total) is np.ndarray else np.asarray(total))
    elif type(prev) is np.ndarray or not prev.absorb(pg):  # an op's array, or a full lazy sum
        grads[key] = DenseSum.of(prev, pg, shape, dtype)  # a buffer of ours, added into in place


def _node_extras(ctx: Context, g: np.ndarray, accumulate: bool) -> np.ndarray:
    """Hooks, retain_grad() and keep_grad() of an op node; -> the (possibly hooked) gradient."""
    extra = ctx.extra
    if "hooks" in extra:
        g = _run_hooks(extra["hooks"], g)
    out = extra["retained"]() if accumulate and "retained" in extra else None  # alive still?
    if out is not None:  # the tensor that asked to retain_grad() gets its own copy
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
    """Each hook sees dL/dx as a Tensor; one that returns a Tensor replaces the gradient."""
    for hook in list(hooks):
        out = hook(_Tensor._make(g, False, None))
        if out is not None:
            new = out._data if isinstance(out, _Tensor) else np.asarray(out)
            if new.shape != g.shape:
                raise errors.hook_wrong_shape(hook, new.shape, g.shape)
            g = new
    return g


# ----------------------------------------------------------------------------- the public API


def grad(
    outputs: Any, inputs: Any, grad_outputs: Any = None, retain_graph: bool | None = None,
    create_graph: bool = False, only_inputs: bool = True, allow_unused: bool | None = None,
    is_grads_batched: bool = False, materialize_grads: bool = False,
) -> tuple:  # fmt: skip
    """d(sum of outputs * grad_outputs)/d(input) per input, as Tensors; no .grad changes."""
    outputs, inputs, seeds = errors.check_grad_args(outputs, inputs, grad_outputs, create_graph
        or is_grads_batched, allow_unused, materialize_grads)  # fmt: skip
    unused = np.zeros if materialize_grads else lambda *_: None  # what an unused input gets
    capture = {id(edge(t)): unused(t.shape, t.dtype) for t in inputs}  # backward fills it in
    backward(outputs, seeds, bool(retain_graph), capture)
    out = [capture[id(edge(t))] for t in inputs]
    if not (materialize_grads or allow_unused) and any(g is None for g in out):
        raise RuntimeError(errors.UNUSED_INPUT)
    return tuple(g if g is None else _Tensor._make(np.array(g, t.dtype), False, None)
                 for g, t in zip(out, inputs))  # fmt: skip


def Variable(data: Any, requires_grad: bool = False, volatile: bool = False) -> Any:  # noqa: N802
    """Deprecated, as in PyTorch: -> a Tensor, a leaf (sharing data's memory when a Tensor)."""
    data = data.detach() if isinstance(data, _Tensor) else _Tensor(data)
    return data.requires_grad_(requires_grad)
