"""The drawable model of a recorded graph: which nodes to draw, in which cluster, joined how.

`graph.py` turns this into DOT. Here the recorded graph is walked once from the roots
(iteratively, so a 500-step unroll is no problem). Its nodes are the ops' Contexts (each
stands for the tensor its op made) and the leaf Tensors (parameters, inputs, constants); every
one is given the key of the node that will show it: itself, the "cell" node of its time step
(collapse='cell'), or the summary node of the steps left out by a window. Edges between
different keys are kept, one per carried tensor when they leave a cell, so the h and c that
flow from step t to t+1 show up as two labelled edges.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..autograd import Context, edge
from ..tensor import Tensor


def is_op(n: Any) -> bool:
    """True for an op node (a Context), False for a leaf Tensor."""
    return type(n) is Context


def node_shape(n: Any) -> tuple:
    """The shape of the tensor a graph node stands for."""
    return n.out_shape if type(n) is Context else n._data.shape


def node_dtype(n: Any) -> np.dtype:
    """The dtype of the tensor a graph node stands for."""
    return n.out_dtype if type(n) is Context else n._data.dtype


@dataclass
class Node:
    """One drawn node: kind op/param/input/const/cell/summary, its cluster and member Tensors."""

    key: tuple
    kind: str
    cluster: tuple
    tensors: list = field(default_factory=list)
    name: str = ""
    steps: list = field(default_factory=list)
    norm: float | None = None


@dataclass
class Edge:
    """One drawn edge from node key src to node key dst, carrying `tensors`."""

    src: tuple
    dst: tuple
    tensors: list = field(default_factory=list)
    label: str = ""
    norm: float | None = None
    thinned: bool = False


def walk(roots: list) -> list:
    """Every graph node (Context or leaf Tensor) reachable from root Tensors, parents first.

    The one topological sort of the package (the backward walk needs none: it takes nodes by
    decreasing creation number), with an explicit stack, so a long unroll needs no recursion.
    """
    order: list = []
    seen: set[int] = set()
    stack = [(edge(r), False) for r in reversed(roots)]
    while stack:
        t, expanded = stack.pop()
        if expanded:
            order.append(t)  # all its parents are already in `order`
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        stack.append((t, True))
        if type(t) is Context:
            stack.extend((p, False) for p in reversed(t.parents) if id(p) not in seen)
    return order


def step_of(scope: tuple) -> tuple[int, int] | None:
    """(index of the innermost 't=k' element, k), or None outside a time step."""
    for i in range(len(scope) - 1, -1, -1):
        s = scope[i]
        if s.startswith("t=") and s[2:].isdigit():
            return i, int(s[2:])
    return None


def layer_of(scope: tuple) -> tuple[int, int] | None:
    """(index of the outermost 'layers' element followed by 'i', i), or None outside a stack.

    A Transformer stack runs its layers in the scopes 'layers', 'i' (the parameters' names).
    """
    for i in range(len(scope) - 1):
        if scope[i] == "layers" and scope[i + 1].isdigit():
            return i, int(scope[i + 1])
    return None


def unit_of(scope: tuple) -> tuple[int, int, str] | None:
    """(n, k, kind): scope[:n] is the collapsible unit an op belongs to, the k-th of its row.

    A time step 't=k' of a recurrent layer (kind 'step'), else a layer 'layers.k' of a
    Transformer stack (kind 'layer'); None outside both. The unit's row is scope[:n - 1].
    """
    st = step_of(scope)
    if st is not None:
        return st[0] + 1, st[1], "step"
    lay = layer_of(scope)
    if lay is not None:
        return lay[0] + 2, lay[1], "layer"
    return None


def head_of(name: str) -> int | None:
    """k for a scope element 'head k' (separate_heads), else None."""
    if name.startswith("head ") and name[5:].isdigit():
        return int(name[5:])
    return None


def flatten_roots(root: Any, caller: str = "draw_graph") -> list:
    """A Tensor or (nested) tuples/lists of Tensors -> flat list of Tensors (errors name caller)."""
    out, stack = [], [root]
    while stack:
        r = stack.pop()
        if isinstance(r, Tensor):
            out.append(r)
        elif isinstance(r, (tuple, list)):
            stack.extend(reversed(r))
        else:
            raise TypeError(f"{caller}: roots must be Tensors, got {type(r).__name__}")
    if not out:
        raise ValueError(f"{caller}: no root Tensor given")
    return out


def grad_norm(n: Any) -> float | None:
    """||dL/dn|| (Frobenius) of a graph node, or None when no gradient was kept for it."""
    g = n.grad if type(n) is Context else (None if n.grad is None else n.grad._data)
    return None if g is None else float(np.linalg.norm(np.asarray(g, dtype=np.float64)))


class GraphModel:
    """Nodes and edges to draw for roots, after collapsing and windowing.

    collapse='cell' folds each time step into one node; with `layers=True` (the explorer) each
    layer of a Transformer stack too, with the weights only it uses folded into it
    (`folded_into`; see `unit_of`).
    """

    def __init__(
        self, roots: list, params: dict, collapse: str, window: tuple | None, layers: bool = False
    ):
        self.roots, self.params, self.collapse, self.window = roots, params, collapse, window
        self.layers = layers
        self.folded_into: dict[int, tuple] = {}  # id(weight) -> the layer box that holds it
        self.order = walk(roots)
        self.keys: dict[int, tuple] = {}
        self.nodes: dict[tuple, Node] = {}
        self.edges: dict[tuple, Edge] = {}
        self.max_step = -1
        self._place_ops()
        self._place_leaves()
        self._connect()

    def _op_key(self, t: Context) -> tuple[tuple, str, tuple, int | None]:
        """(key, kind, cluster, step) for an op node under the collapse/window options."""
        scope = t.scope
        st = step_of(scope)
        if st is None:
            lay = layer_of(scope) if self.layers and self.collapse == "cell" else None
            if lay is not None:  # one box per layer, in a row in the stack's cluster
                return ("cell", scope[: lay[0] + 2]), "cell", scope[: lay[0] + 1], None
            return ("op", id(t)), "op", scope, None
        i, step = st
        self.max_step = max(self.max_step, step)
        if self.window is not None and not self.window[0] <= step < self.window[1]:
            side = "before" if step < self.window[0] else "after"
            return ("summary", scope[:i], side), "summary", scope[:i], step
        if self.collapse == "cell":
            return ("cell", scope[: i + 1]), "cell", scope[:i], step
        return ("op", id(t)), "op", scope, step

    def _place_ops(self) -> None:
        for t in self.order:
            if not is_op(t):
                continue
            key, kind, cluster, step = self._op_key(t)
            self.keys[id(t)] = key
            node = self.nodes.get(key)
            if node is None:
                node = self.nodes[key] = Node(key, kind, cluster)
            node.tensors.append(t)
            if step is not None:
                node.steps.append(step)

    def _place_leaves(self) -> None:
        """Parameters are always drawn; constants and hidden steps' inputs fold away."""
        consumers: dict[int, set] = {}
        for t in self.order:
            if is_op(t):
                for p in t.parents:
                    consumers.setdefault(id(p), set()).add(self.keys[id(t)])
        for t in self.order:
            if is_op(t):
                continue
            used = consumers.get(id(t), set())
            kind = self._leaf_kind(t)
            if kind != "param" and self._folds(kind, used):
                continue
            if kind == "param" and self.layers and len(used) == 1:
                (key,) = used
                if key[0] == "cell" and step_of(key[1]) is None:  # one Transformer layer's own
                    self.folded_into[id(t)] = key
                    continue
            cluster = self._leaf_cluster(t, kind, used)
            key = ("leaf", id(t))
            self.keys[id(t)] = key
            self.nodes[key] = Node(key, kind, cluster, [t], self.params.get(id(t), ("", ()))[0])

    @staticmethod
    def _folds(kind: str, used: set) -> bool:
        """A constant used only by collapsed nodes, or any leaf used only by hidden steps."""
        if not used or not all(k[0] in ("cell", "summary") for k in used):
            return False
        return kind == "const" or all(k[0] == "summary" for k in used)

    def _leaf_kind(self, t: Tensor) -> str:
        if id(t) in self.params:
            return "param"
        return "const" if not t.requires_grad and t._data.size == 1 else "input"

    def _leaf_cluster(self, t: Tensor, kind: str, used: set) -> tuple:
        """Parameters sit in their module's cluster, constants beside their consumers."""
        if kind == "param":
            return self.params[id(t)][1]
        if kind == "const" and len(used) == 1:
            return self.nodes[next(iter(used))].cluster
        return ()

    def _connect(self) -> None:
        for t in self.order:
            if not is_op(t):
                continue
            dst = self.keys[id(t)]
            for p in t.parents:
                src = self.keys.get(id(p))
                if src is None or src == dst:
                    continue
                ek = (src, dst, id(p) if src[0] == "cell" else None)
                edge = self.edges.get(ek)
                if edge is None:
                    edge = self.edges[ek] = Edge(src, dst)
                if not any(x is p for x in edge.tensors):
                    edge.tensors.append(p)

    def thin_fans(self, limit: int) -> None:
        """Draw a node's edges to (or from) more than `limit` nodes only to the first and last.

        A weight shared by 500 steps would otherwise bring 500 long edges, which graphviz
        routes very slowly and nobody can read; the two kept edges say how many they stand for.
        """
        for end, verb in ((0, "to"), (1, "from")):  # fan-out by src, then fan-in by dst
            groups: dict[tuple, list] = {}
            for ek, e in self.edges.items():
                between_cells = e.src[0] == "cell" and e.dst[0] == "cell"
                if not between_cells and not e.thinned:  # h, c between steps always stay
                    groups.setdefault((e.src, e.dst)[end], []).append(ek)
            for eks in groups.values():
                if len(eks) <= limit:
                    continue
                for ek in eks[1:-1]:
                    del self.edges[ek]
                for ek in (eks[0], eks[-1]):
                    self.edges[ek].label = f"{verb} {len(eks)} nodes"
                    self.edges[ek].thinned = True

    def ordering_edges(self) -> list[tuple[tuple, tuple]]:
        """Invisible edges from the end of step t to the start of step t+1, in flow order.

        Without them an op that needs only the inputs (x_t's projection) floats to the left
        and the step boxes overlap; with them the steps line up like the unrolled picture.
        """
        layers: dict[tuple, dict[int, list]] = {}
        for key, node in self.nodes.items():
            st = step_of(node.cluster) if node.kind == "op" else None
            if st is not None:
                layers.setdefault(node.cluster[: st[0]], {}).setdefault(st[1], []).append(key)
        flow = {(e.src, e.dst) for e in self.edges.values()}
        out = []
        for by_t in layers.values():
            for a in sorted(by_t):
                if a + 1 not in by_t:
                    continue
                first, second = by_t[a], by_t[a + 1]
                if any((s, d) in flow for s in second for d in first):  # a reverse direction
                    first, second = second, first
                inside = set(second)
                for key in second:
                    parents = self.nodes[key].tensors[0].parents
                    if not any(self.keys.get(id(p)) in inside for p in parents):
                        out.append((first[-1], key))
        return out

    # ------------------------------------------------------------------ cells' states
    def _step_groups(self) -> dict[tuple, tuple]:
        """{node key: its time step} for cells and for ops drawn inside a time step's box."""
        groups = {}
        for key, node in self.nodes.items():
            st = step_of(node.cluster) if node.kind == "op" else None
            if node.kind == "cell" and step_of(key[1]) is not None:  # a layer hands on no h
                groups[key] = key
            elif st is not None:
                groups[key] = ("step", node.cluster[: st[0] + 1])
        return groups

    def _leaving(self, groups: dict) -> dict[tuple, dict[int, Tensor]]:
        """{step: {id: tensor}} of the tensors made in a step and used outside it (h, c)."""
        out: dict[tuple, dict[int, Tensor]] = {}
        for e in self.edges.values():
            g = groups.get(e.src)
            if g is not None and groups.get(e.dst) != g:
                for t in e.tensors:
                    out.setdefault(g, {}).setdefault(id(t), t)
        return out

    def name_states(self, retained: dict[int, str]) -> None:
        """Label edges leaving a time step 'h' / 'c': retained layer states, else the graph."""
        groups = self._step_groups()
        members: dict[tuple, set] = {}
        for key, g in groups.items():
            members.setdefault(g, set()).update(id(t) for t in self.nodes[key].tensors)
        names = dict(retained)
        for g, leaving in self._leaving(groups).items():
            out = [t for t in leaving.values() if id(t) not in names]
            if len(out) == 1:
                names[id(out[0])] = "h"
            elif len(out) == 2 and _is_ancestor(out[0], out[1], members[g]):
                names[id(out[0])], names[id(out[1])] = "c", "h"  # h = o * tanh(c)
            elif len(out) == 2 and _is_ancestor(out[1], out[0], members[g]):
                names[id(out[0])], names[id(out[1])] = "h", "c"
        for e in self.edges.values():
            g = groups.get(e.src)
            if g is not None and groups.get(e.dst) != g:
                e.label = names.get(id(e.tensors[0]), "")

    def compute_norms(self) -> None:
        """Gradient norms on nodes (a cell: of what it hands on) and edges (what they carry)."""
        leaving = self._leaving(self._step_groups())
        for key, node in self.nodes.items():
            if node.kind == "cell":
                norms = [grad_norm(t) for t in leaving.get(key, {}).values()]
                norms = [n for n in norms if n is not None]
                node.norm = float(np.sqrt(sum(n * n for n in norms))) if norms else None
            elif node.kind != "summary":
                node.norm = grad_norm(node.tensors[0])
        for e in self.edges.values():
            norms = [n for n in (grad_norm(t) for t in e.tensors) if n is not None]
            e.norm = max(norms) if norms else None


def _is_ancestor(a: Any, b: Any, members: set) -> bool:
    """True when b is computed from a inside one cell (so a is c and b is h = o * tanh(c))."""
    stack, seen = [b], set()
    while stack:
        t = stack.pop()
        if t is a:
            return True
        if not is_op(t) or id(t) in seen or id(t) not in members:
            continue
        seen.add(id(t))
        stack.extend(t.parents)
    return False


def guess_cell(tensors: list) -> str:
    """'LSTM' / 'GRU' / 'RNN' from the ops of one step, '' when unsure."""
    ops = Counter(t.fn.__name__ for t in tensors)
    if ops["Sigmoid"] == 1 and ops["Tanh"] == 2:  # one sigmoid over i, f, o; tanh of g and c
        return "LSTM"
    if ops["Sigmoid"] == 1 and ops["Tanh"] == 1:
        return "GRU"
    if ops["Sigmoid"] == 0 and ops["Tanh"] + ops["Relu"] == 1:
        return "RNN"
    return ""
