"""Recording the backward walk as the engine runs it: which node, in which order, what arrived.

`record_backward(loss)` is a context manager. While it is open, every op node of loss's graph
runs a recording copy of its op (`ctx.fn` swapped for a subclass whose `backward` calls the
real one and then reports), and every leaf that requires grad has a hook. So the engine's own
walk reports each node as it visits it, with dL/dnode and the gradient it sends to each parent;
nothing is recomputed, and the walk in autograd.py carries no recording code at all: outside
the context the graph runs the ops' own classes, at no cost. On exit the classes are restored
and the hooks removed, even when backward raised.

A finished recording stays attached to the loss's node (so `viz.explore(loss)` finds it) and
keeps every node's gradient until the loss is dropped.

For nodes that receive gradient from several consumers (a weight shared by every time step,
an h used by the next step and by the output), the recorder keeps the running sum of what has
arrived so far, so a player can show that gradient accumulate step by step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..autograd import Context
from ..grads import LazyGrad
from ._graph_model import flatten_roots, walk


def _dense(g: Any) -> np.ndarray:
    """A gradient as an ndarray (a lazy one written out; the engine's own object is untouched)."""
    return np.asarray(g.dense()) if isinstance(g, LazyGrad) else np.asarray(g)


def _norm(a: np.ndarray) -> float:
    return float(np.linalg.norm(np.asarray(a, dtype=np.float64)))


@dataclass
class Visit:
    """One node of the walk: the node, ||dL/dnode|| as it was handed to the op's backward."""

    node: Any
    norm: float
    grad: np.ndarray = field(repr=False)


@dataclass
class Arrival:
    """A consumer's gradient reaching a shared node: after visit `at`, sum so far `total`."""

    at: int
    node: Any
    norm: float
    total: float
    count: int


class BackwardRecording:
    """One recorded backward: `visits` in the walk's order, `arrivals` at shared nodes, grad_of.

    An arrival is one consumer's gradient reaching a node that several consumers feed, with the
    running sum so far; `grad_of(node)` is dL/dnode as the walk handed it to the node's op.
    """

    def __init__(self, roots: list):
        self.roots = roots
        self.order = walk(roots)
        consumers: dict[int, int] = {}
        for n in self.order:
            if type(n) is Context:
                for p in n.parents:
                    consumers[id(p)] = consumers.get(id(p), 0) + 1
        self.shared = {k for k, v in consumers.items() if v > 1}
        self.consumers = consumers
        self.visits: list[Visit] = []
        self.arrivals: list[Arrival] = []
        self._sums: dict[int, tuple[np.ndarray, int]] = {}
        self._by_node: dict[int, Visit] = {}
        self.done = False

    def grad_of(self, node: Any) -> np.ndarray | None:
        """dL/dnode as the walk handed it on (None when the walk did not reach node)."""
        visit = self._by_node.get(id(node))
        return None if visit is None else visit.grad

    def visit(self, node: Any, g: Any, input_grads: tuple) -> None:
        """Called by the recording op (or a leaf's hook) when the walk reaches node."""
        g = _dense(g)
        self.visits.append(Visit(node, _norm(g), g))
        self._by_node[id(node)] = self.visits[-1]
        if type(node) is not Context:
            return
        for parent, pg in zip(node.parents, input_grads):
            if pg is None or not parent.requires_grad or id(parent) not in self.shared:
                continue
            part = _dense(pg)
            prev = self._sums.get(id(parent))
            total = part.astype(np.float64) if prev is None else prev[0] + part
            count = 1 if prev is None else prev[1] + 1
            self._sums[id(parent)] = (total, count)
            at = len(self.visits) - 1
            self.arrivals.append(Arrival(at, parent, _norm(part), _norm(total), count))


def _recording_op(fn: type, recording: BackwardRecording) -> type:
    """A subclass of op fn whose backward runs fn's and reports to the recording."""

    def backward(ctx: Context, g: Any) -> tuple:
        out = fn.backward(ctx, g)
        recording.visit(ctx, g, out)
        return out

    attrs = {"backward": staticmethod(backward), "__module__": fn.__module__,
             "__qualname__": fn.__qualname__, "__doc__": fn.__doc__}  # fmt: skip
    return type(fn.__name__, (fn,), attrs)


class record_backward:  # a context manager, lower case like no_grad
    """Context manager: `with record_backward(loss) as rec: loss.backward()` records the walk."""

    def __init__(self, root: Any):
        self.recording = BackwardRecording(flatten_roots(root, "record_backward"))
        self._swapped: list[tuple[Context, type]] = []
        self._handles: list = []

    def __enter__(self) -> BackwardRecording:
        rec = self.recording
        classes: dict[type, type] = {}
        for n in rec.order:
            if type(n) is Context:
                if n.freed:
                    raise RuntimeError(
                        "record_backward: this graph was already walked by backward() and its "
                        "saved arrays are freed; record before calling loss.backward() (or "
                        "build the graph again)"
                    )
                if n.fn not in classes:
                    classes[n.fn] = _recording_op(n.fn, rec)
                self._swapped.append((n, n.fn))
                n.fn = classes[n.fn]
            elif n.requires_grad:
                self._handles.append(n.register_hook(_leaf_hook(rec, n)))
        return rec

    def __exit__(self, *exc: Any) -> None:
        for n, fn in self._swapped:
            n.fn = fn
        for h in self._handles:
            h.remove()
        self._swapped, self._handles = [], []
        rec = self.recording
        rec.done = any(type(v.node) is Context for v in rec.visits)
        if rec.done:  # found again by viz.explore(loss) through the graph's root node
            for r in rec.roots:
                if r.grad_fn is not None:
                    r.grad_fn.extra = r.grad_fn.extra or {}
                    r.grad_fn.extra["recording"] = rec


def recording_of(root: Any) -> BackwardRecording | None:
    """The recording a finished record_backward(root) left on root's node, else None."""
    ctx = root.grad_fn
    return None if ctx is None or not ctx.extra else ctx.extra.get("recording")


def _leaf_hook(rec: BackwardRecording, leaf: Any) -> Any:
    def hook(grad: Any) -> None:
        rec.visit(leaf, grad.numpy(), ())

    return hook
