"""The explorer's data: one record per graph node, one per cell (layer and time step), the walk.

Everything the page shows about a node is computed here, once, as plain JSON: what it is (op,
scope, time step, shape, dtype), its value and gradient as statistics and a small histogram,
the op's derivative rule (its docstring and the comment its backward opens with), its parents
and children. The walk recorded by `record_backward` becomes the list of node indices in the
order the engine visited them, and the arrivals at shared nodes with their running sums.
"""

from __future__ import annotations

import inspect
import math
from functools import cache
from typing import Any

import numpy as np

from ..autograd import edge
from ..errors import format_scope
from ._colors import grad_color, scale_color
from ._graph_model import GraphModel, guess_cell, is_op, node_dtype, node_shape, step_of, unit_of
from ._recorder import BackwardRecording
from .graph import retained_states

HIST_BINS = 16


def num(x: float, digits: int = 4) -> float | None:
    """A float for JSON with `digits` significant digits; None for NaN, +-1e308 for Inf."""
    x = float(x)
    if math.isnan(x):
        return None
    if math.isinf(x):
        return 1e308 if x > 0 else -1e308
    return float(f"{x:.{digits}g}")


def summary(a: np.ndarray | None) -> dict | None:
    """min / mean / max / std / norm of an array and a histogram of HIST_BINS equal bins."""
    if a is None:
        return None
    d = np.asarray(a, dtype=np.float64).ravel()
    if d.size == 0:
        return {"empty": True}
    finite = d if np.isfinite(d).all() else d[np.isfinite(d)]
    out: dict = {"norm": num(math.sqrt(float(np.dot(d, d))))}
    if finite.size < d.size:
        out["nonfinite"] = int(d.size - finite.size)
    if finite.size:
        lo, hi, mean = float(finite.min()), float(finite.max()), float(finite.mean())
        std = math.sqrt(max(float(np.dot(finite, finite)) / finite.size - mean * mean, 0.0))
        out.update(min=num(lo, 3), mean=num(mean, 3), max=num(hi, 3), std=num(std, 3))
        if hi > lo:  # np.histogram's bins, without its per-call overhead (5,000 small arrays)
            idx = np.minimum(
                ((finite - lo) * (HIST_BINS / (hi - lo))).astype(np.int64), HIST_BINS - 1
            )
            out["hist"] = np.bincount(idx, minlength=HIST_BINS).tolist()
    return out


@cache
def derivative_rule(fn: type) -> str:
    """The op's docstring's first line and the comment its backward starts with."""
    doc = (inspect.getdoc(fn) or "").split("\n")[0]
    rule = ""
    try:
        src = inspect.getsource(fn.backward)
    except (OSError, TypeError):
        src = ""
    for line in src.splitlines():
        s = line.strip()
        if s.startswith("#"):
            rule = s.lstrip("# ").strip()
            break
    return doc + ("\n" + rule if rule else "")


def node_label(n: Any, params: dict) -> str:
    """Short text naming a node: the op, the parameter's name, 'input' or the constant."""
    if is_op(n):
        return n.fn.__name__
    if id(n) in params:
        return params[id(n)][0]
    if not n.requires_grad and n.numel() == 1:
        return f"const {n.item():.4g}"
    return "input"


def leaf_kind(n: Any, params: dict) -> str:
    """param / const / input for a leaf Tensor, as the static drawings call them."""
    if id(n) in params:
        return "param"
    return "const" if not n.requires_grad and n.numel() == 1 else "input"


class ExplorerData:
    """Nodes, cells and the recorded walk of one graph, as lists and dicts for json.dumps.

    A cell is a collapsible unit (`unit_of`): a recurrent layer's time step (kind 'step') or a
    Transformer stack's layer (kind 'layer'); `index` is its t or its layer number.
    """

    def __init__(self, roots: list, params: dict, modules: dict, rec: BackwardRecording):
        self.rec = rec
        self.order = rec.order
        self.index = {id(n): i for i, n in enumerate(self.order)}
        self.model = GraphModel(roots, params, "cell", None, layers=True)
        self.model.name_states(retained_states(modules))
        self.params, self.modules = params, modules
        self.live = {id(edge(r)): r for r in roots}
        self._cells()
        self._nodes()
        self._colors()

    # ------------------------------------------------------------------ cells
    def _cells(self) -> None:
        self.cells: list[dict] = []
        self.cell_keys: dict[tuple, int] = {}  # the GraphModel's key of a cell -> its index
        self.cell_of: dict[int, int] = {}
        names = {}
        for e in self.model.edges.values():
            if e.label:
                names.update((id(t), e.label) for t in e.tensors)
        self.state_names = names
        for key, node in self.model.nodes.items():
            if node.kind != "cell":
                continue
            scope = key[1]
            _, k, kind = unit_of(scope)
            members = sorted(node.tensors, key=lambda c: c.seq)
            j = self.cell_keys[key] = len(self.cells)
            for m in members:
                self.cell_of[id(m)] = j
            self.cells.append({
                "id": j, "kind": kind, "index": k, "layer": format_scope(scope[:-1]),
                "step": k if kind == "step" else None,
                "title": self._cell_title(scope, members, kind), "scope": list(scope),
                "nodes": [self.index[id(m)] for m in members],
                "parts": _parts(members, len(scope)),
            })  # fmt: skip

        for t, key in self.model.folded_into.items():  # a layer's own weights: in its box
            self.cell_of[t] = self.cell_keys[key]

    def _cell_title(self, scope: tuple, members: list, kind: str) -> str:
        if kind == "layer":  # "TransformerEncoderLayer layers.0"
            module = self.modules.get(scope)  # unknown without params=model: 'layers.0'
            name = type(module).__name__ + " " if module is not None else ""
            return name + ".".join(scope[-2:])
        mode = getattr(self.modules.get(scope[:-2]), "mode", None)
        kind = mode if isinstance(mode, str) else guess_cell(members)
        layer = scope[-2] if len(scope) > 1 else ""
        return " ".join(s for s in (kind, "cell", layer, scope[-1]) if s)

    # ------------------------------------------------------------------ nodes
    def _nodes(self) -> None:
        children: dict[int, list] = {}
        for i, n in enumerate(self.order):
            if is_op(n):
                for p in n.parents:
                    if id(p) in self.index:
                        children.setdefault(id(p), []).append(i)
        self.nodes = []
        self.rules = dict(_LEAF_RULES)  # op name (or leaf kind) -> its derivative rule
        for n in self.order:
            self.nodes.append(self._node(n, children.get(id(n), [])))

    def _node(self, n: Any, children: list) -> dict:
        """The record of one graph node (an op's Context or a leaf Tensor)."""
        op = is_op(n)
        scope = n.scope if op else self.params.get(id(n), ("", ()))[1]
        st = step_of(scope) if op else None
        kind = "op" if op else leaf_kind(n, self.params)
        grad, value = self.rec.grad_of(n), self._value(n)
        if op and n.fn.__name__ not in self.rules:
            self.rules[n.fn.__name__] = derivative_rule(n.fn)
        out = {
            "kind": kind, "label": node_label(n, self.params),
            "scope": format_scope(scope), "step": None if st is None else st[1],
            "layer": None if st is None else format_scope(scope[: st[0]]),
            "cell": self.cell_of.get(id(n)), "shape": list(node_shape(n)),
            "dtype": str(node_dtype(n)), "value": summary(value), "grad": summary(grad),
            "parents": [self.index[id(p)] for p in n.parents if id(p) in self.index] if op else [],
            "children": children,
        }  # fmt: skip
        if id(n) in self.state_names:  # the h or c a step hands on
            out["state"] = self.state_names[id(n)]
        if id(n) in self.live:
            out["root"] = True
        return out

    def _value(self, n: Any) -> np.ndarray | None:
        if id(n) in self.live:
            return self.live[id(n)].detach().numpy()
        if is_op(n):
            return n.value
        return n.detach().numpy()

    # ------------------------------------------------------------------ colours
    def _colors(self) -> None:
        norms = [n["grad"]["norm"] for n in self.nodes if n["grad"] and n["grad"].get("norm")]
        for c in self.cells:
            c["norm"] = self._cell_norm(c)
            if c["norm"]:
                norms.append(c["norm"])
        logs = [math.log10(x) for x in norms if x and 0 < x < 1e308]
        self.range = (min(logs), max(logs)) if logs else (0.0, 0.0)
        for n in self.nodes:
            g = n["grad"]
            n["color"] = (
                scale_color(g["norm"], self.range) if g and g.get("norm") is not None else None
            )
        for c in self.cells:
            c["color"] = scale_color(c["norm"], self.range) if c["norm"] is not None else None

    def _cell_norm(self, cell: dict) -> float | None:
        """||gradient|| of what the cell hands on (its members used outside it)."""
        members = set(cell["nodes"])
        total, seen = 0.0, False
        for i in cell["nodes"]:
            n = self.nodes[i]
            leaves_cell = any(ch not in members for ch in n["children"])
            if leaves_cell and n["grad"] and n["grad"].get("norm") is not None:
                total += n["grad"]["norm"] ** 2
                seen = True
        return num(math.sqrt(total)) if seen else None

    # ------------------------------------------------------------------ the walk
    def walks(self) -> dict:
        """Backward order (engine's visits), arrivals at shared nodes, forward (creation) order."""
        backward = [self.index[id(v.node)] for v in self.rec.visits if id(v.node) in self.index]
        arrivals = [
            [a.at, self.index[id(a.node)], num(a.norm), num(a.total), a.count]
            for a in self.rec.arrivals
            if id(a.node) in self.index
        ]
        leaves = [i for i, n in enumerate(self.order) if not is_op(n)]
        ops = sorted((n.seq, i) for i, n in enumerate(self.order) if is_op(n))
        return {"backward": backward, "arrivals": arrivals,
                "forward": leaves + [i for _, i in ops]}  # fmt: skip

    def grad_flow(self) -> dict:
        """{row: [[k, norm, cell id]]}: ||dL/dh_t|| over the steps t of each recurrent layer
        (else what the cell hands on); without steps, ||dL/d(output)|| of each Transformer layer.
        """
        flow: dict[str, list] = {}
        kind = "step" if any(c["kind"] == "step" for c in self.cells) else "layer"
        for c in self.cells:
            if c["kind"] != kind:
                continue
            norm = None
            for i in c["nodes"]:
                if self.nodes[i].get("state") == "h" and self.nodes[i]["grad"]:
                    norm = self.nodes[i]["grad"].get("norm")
            norm = c["norm"] if norm is None else norm
            flow.setdefault(c["layer"], []).append([c["index"], norm, c["id"]])
        for v in flow.values():
            v.sort()
        if kind == "layer":  # stacks in the order they ran: the encoder before the decoder

            def started(item: tuple) -> int:  # creation number of the row's first op
                return self.order[self.cells[item[1][0][2]]["nodes"][0]].seq

            flow = dict(sorted(flow.items(), key=started))
        return flow

    def legend(self) -> list:
        """Seven colours of the scale with their log10 values."""
        lo, hi = self.range
        return [[grad_color(k / 6), num(lo + (hi - lo) * k / 6)] for k in range(7)]


def _parts(members: list, depth: int) -> list:
    """[[scope below the cell, ops inside it]] in first-use order: a layer's 'self_attn',
    'self_attn.head 0', 'ffn', ...; [] for a time step, whose ops share one scope."""
    counts: dict[tuple, int] = {}
    for m in members:
        inner = m.scope[depth:]
        for k in range(1, len(inner) + 1):
            counts[inner[:k]] = counts.get(inner[:k], 0) + 1
    return [[".".join(p), n] for p, n in counts.items()]


_LEAF_RULES = {
    "param": "a parameter (leaf): backward adds dL/dW into W.grad, summed over every use",
    "input": "an input (leaf): it gets a gradient only when it requires grad",
    "const": "a constant (leaf): no gradient",
}
