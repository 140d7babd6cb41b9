"""The explorer's pictures, laid out by graphviz's `dot` once, when the page is built.

Two kinds of SVG. The overview: the whole graph with one box per cell and time step (the ops
outside the steps and the parameters as they are), which stays small even for 500 steps. And
the expanded cells: the ops of one step with stubs for what comes in from outside (h and c of
the step before, the weights, the step's row of the input projection) and goes out. Steps of a
layer share their structure, so each distinct structure is laid out once and the page maps its
node positions to the nodes of whichever step is expanded. The page then opens a cell in place
by moving the rest of the overview aside, without another layout.
"""

from __future__ import annotations

import re
import shutil
from typing import Any

import graphviz

from ._explore_data import ExplorerData
from ._graph_model import head_of
from .graph import INSTALL_HINT

_KIND_FILL = {"op": "#e8eef7", "param": "#fff2cc", "input": "#e2f0d9", "const": "#ffffff",
              "cell": "#dae8fc", "stub": "#ffffff"}  # fmt: skip


def render(dot_source: str) -> str:
    """DOT text -> the <svg> element dot draws for it (no XML prolog)."""
    if shutil.which("dot") is None:
        raise RuntimeError(f"viz.explore lays out the graph with graphviz's `dot`. {INSTALL_HINT}")
    svg = graphviz.Source(dot_source).pipe(format="svg", encoding="utf-8")
    svg = svg[svg.index("<svg") :]
    return re.sub(r"<!--.*?-->\s*", "", svg, flags=re.S)  # dot's comments repeat the ids


def _q(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"')


def _node(nid: str, lines: list[str], kind: str, extra: str = "") -> str:
    """One DOT node statement; its label's lines are joined with DOT's line break."""
    label = "\\n".join(_q(s) for s in lines)
    style = {"op": "rounded,filled", "cell": "rounded,filled", "stub": "dashed,filled"}
    attrs = (f'id="{nid}" label="{label}" shape=box style="{style.get(kind, "filled")}" '
             f'fillcolor="{_KIND_FILL[kind]}" class="{kind}"{extra}')  # fmt: skip
    return f'  "{nid}" [{attrs}];'


def _shape_text(n: dict) -> str:
    return str(tuple(n["shape"])) if n["shape"] else "scalar"


def _header() -> list[str]:
    return [
        "digraph G {",
        '  rankdir=LR; newrank=true; nodesep=0.2; ranksep=0.3; fontname="Helvetica";',
        '  node [fontname="Helvetica" fontsize=10 height=0.3 margin="0.08,0.04"];',
        '  edge [color="#555555" arrowsize=0.6 fontname="Helvetica" fontsize=9];',
    ]


# ----------------------------------------------------------------------------- overview


def overview_dot(data: ExplorerData, max_fanout: int = 16) -> str:
    """The collapsed graph: cells as boxes c<j>, other nodes n<i>, nested by module scope."""
    model = data.model
    model.thin_fans(max_fanout)
    ids: dict[tuple, str] = {}
    by_cluster: dict[tuple, list[str]] = {}
    for key, node in model.nodes.items():
        if node.kind == "cell":
            cell = data.cells[data.cell_keys[key]]
            nid = f"c{cell['id']}"
            group = f' group="{_q(cell["layer"])}"'  # one straight row of steps per layer
            line = _node(nid, [cell["title"], f"{len(cell['nodes'])} ops"], "cell", group)
        else:
            i = data.index[id(node.tensors[0])]
            n = data.nodes[i]
            nid = f"n{i}"
            text = [n["label"]] if n["kind"] == "const" else [n["label"], _shape_text(n)]
            line = _node(nid, text, n["kind"], " penwidth=2.5" if n.get("root") else "")
        ids[key] = nid
        by_cluster.setdefault(node.cluster, []).append(line)
    lines = _header()
    lines += _clusters(by_cluster)
    for e in model.edges.values():
        # h and c from step to step: heavy, and labelled beside the edge (xlabel), which keeps
        # dot from putting the steps on a staircase
        step_to_step = e.src[0] == "cell" and e.dst[0] == "cell"
        attrs = ["weight=20"] if step_to_step else []
        if e.label:
            attrs.append(f'{"xlabel" if step_to_step else "label"}="{_q(e.label)}"')
        if e.thinned:
            attrs.append("style=dashed")
        lines.append(f'  "{ids[e.src]}" -> "{ids[e.dst]}" [{" ".join(attrs)}];')
    lines.append("}")
    return "\n".join(lines)


def _clusters(by_cluster: dict, short: bool = False) -> list[str]:
    """Nested `subgraph cluster_k` blocks, one per scope path (a node sits in its deepest).

    short: label each box by its last scope element (inside an opened layer), heads shaded.
    """
    paths = sorted({c[:k] for c in by_cluster for k in range(1, len(c) + 1)})
    children: dict[tuple, list] = {}
    for p in paths:
        children.setdefault(p[:-1], []).append(p)
    names = {p: f"cluster_{i}" for i, p in enumerate(paths)}

    def block(path: tuple, depth: int) -> list[str]:
        pad = "  " * depth
        out = []
        if path:
            label, style = (path[-1] if short else ".".join(path)), "rounded,dashed"
            if short and head_of(path[-1]) is not None:
                style = 'rounded,filled"; fillcolor="#f1f4fa'
            out.append(f"{pad}subgraph {names[path]} {{")
            out.append(f'{pad}  label="{_q(label)}"; style="{style}"; '
                       f'color="#8a8a8a"; fontsize=11; labeljust=l;')  # fmt: skip
        out += [pad + line for line in by_cluster.get(path, [])]
        for child in children.get(path, []):
            out += block(child, depth + 1)
        if path:
            out.append(pad + "}")
        return out

    return block((), 0)


# ----------------------------------------------------------------------------- cells


def cell_templates(data: ExplorerData) -> list[str]:
    """One SVG per distinct cell structure; sets cell['template'] and cell['stubs'] per cell."""
    templates: dict[tuple, int] = {}
    sources: list[str] = []
    for cell in data.cells:
        sig, dot, stubs = _cell_dot(data, cell)
        if sig not in templates:
            templates[sig] = len(sources)
            sources.append(dot)
        cell["template"] = templates[sig]
        cell["stubs"] = stubs
    return [render(s) for s in sources]


def _cell_dot(data: ExplorerData, cell: dict) -> tuple[tuple, str, list]:
    """(structure signature, DOT of the expanded cell, the node index behind each stub).

    The ops sit in boxes by their scope below the cell's (a layer's self_attn, head 0, ffn).
    """
    members = cell["nodes"]
    pos = {i: k for k, i in enumerate(members)}
    lines = _header()
    lines.append('  label=" "; labelloc=t; fontsize=14;')  # room for the page's own title
    depth = len(cell["scope"])
    inner = {k: tuple(data.order[i].scope[depth:]) for k, i in enumerate(members)}
    by_cluster: dict[tuple, list[str]] = {}
    sig: list = []
    stubs: list[int] = []
    stub_ids: dict[int, str] = {}
    edges: list[str] = []
    n_out = 0
    for k, i in enumerate(members):
        n = data.nodes[i]
        op = _node(f"k{k}", [n["label"], _shape_text(n)], "op")
        (by_cluster.setdefault(inner[k], []) if any(inner.values()) else lines).append(op)
        sig.append((n["label"], tuple(n["shape"]), inner[k]))
        for p in n["parents"]:
            if p in pos:
                edges.append(f'  "k{pos[p]}" -> "k{k}";')
                sig.append((k, pos[p]))
                continue
            if p not in stub_ids:
                label = _stub_label(data, cell, p)
                stub_ids[p] = f"s{len(stubs)}"
                stubs.append(p)
                own = data.nodes[p]["cell"] == cell["id"]  # a layer's own weight: drawn as one
                text = [label, _shape_text(data.nodes[p])] if own else [label]
                lines.append(_node(stub_ids[p], text, "param" if own else "stub"))
                sig.append(("in", label))
            edges.append(f'  "{stub_ids[p]}" -> "k{k}";')
        outside = [c for c in n["children"] if c not in pos]
        if outside:
            name = n.get("state") or "out"
            oid, n_out = f"o{n_out}", n_out + 1
            lines.append(_node(oid, [f"{name} \u2192"], "stub"))
            edges.append(f'  "k{k}" -> "{oid}";')
            sig.append(("out", k, name))
    lines += _clusters(by_cluster, short=True) if by_cluster else []
    lines += edges
    lines.append("}")
    return tuple(sig), "\n".join(lines), stubs


def _stub_label(data: ExplorerData, cell: dict, p: int) -> str:
    """What comes into a cell from outside, named the same for every step."""
    n = data.nodes[p]
    if n["kind"] == "param" and cell["kind"] == "layer":  # 'self_attn.in_proj_weight'
        prefix = ".".join(cell["scope"][-2:]) + "."
        return n["label"].split(prefix, 1)[-1]
    if n["cell"] is not None:
        other = data.cells[n["cell"]]
        name = n.get("state") or n["label"]
        if other["kind"] == "layer":  # a layer's output, as the next layer's input
            return f"{name} {_shape_text(n)} from {'.'.join(other['scope'][-2:])}"
        if other["layer"] == cell["layer"]:
            return f"{name} from t{other['step'] - cell['step']:+d}"
        return f"{name} from {other['layer'].split('.')[-1] or other['layer']}"
    return n["label"] if n["kind"] != "op" else f"{n['label']} {_shape_text(n)}"


def build_svgs(data: ExplorerData) -> dict[str, Any]:
    """{'overview': svg, 'templates': [svg]}: every layout the page needs."""
    return {"overview": render(overview_dot(data)), "templates": cell_templates(data)}
