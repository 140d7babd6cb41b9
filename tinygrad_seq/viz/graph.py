"""Drawing the autodiff graph of an unrolled sequence model with graphviz.

Every Tensor made by an op has a node, its `grad_fn` (a Context), which remembers the op
(`grad_fn.fn`), the nodes of its inputs and the scope it was made in: the module path, the
layer and the time step, e.g. ('lstm', 'l0', 't=3').
`draw_graph` walks that graph back from the outputs (iteratively: a 500-step unroll is deep),
draws data flowing left to right, and nests the nodes in clusters by scope, so every time step
of a recurrent layer is one box ("lstm.l0 t=3"), as is every layer of a Transformer and, inside
`separate_heads()`, every attention head. For long sequences it can collapse each step
into one cell node whose edges carry h and c, or draw only a window of steps. After
`record_grads(loss)` and `loss.backward()` it colours nodes and edges by log10 of the gradient
norm, which shows vanishing and exploding gradients at a glance.

The Python package `graphviz` only writes DOT text; turning it into SVG/PNG/PDF needs the
`dot` program (`apt-get install graphviz`, `brew install graphviz`). Without it, `save` writes
the .dot file and says how to install it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import graphviz
import numpy as np

from ..autograd import edge, format_scope
from ..nn.module import Module
from ..tensor import Tensor
from ._colors import (
    NO_GRAD_FILL,
    add_legend,
    dark,
    norm_range,
    readable_on_white,
    scale_color,
)
from ._graph_model import (
    GraphModel,
    Node,
    flatten_roots,
    guess_cell,
    head_of,
    is_op,
    node_dtype,
    node_shape,
    step_of,
    walk,
)

_STYLE = {
    "op": {"shape": "box", "style": "rounded,filled", "fillcolor": "#e8eef7"},
    "param": {"shape": "box", "style": "filled", "fillcolor": "#fff2cc"},
    "input": {"shape": "box", "style": "filled", "fillcolor": "#e2f0d9"},
    "const": {"shape": "plaintext", "fontsize": "9"},
    "cell": {"shape": "box", "style": "rounded,filled", "fillcolor": "#dae8fc"},
    "summary": {"shape": "note", "style": "filled", "fillcolor": "#eeeeee"},
}
_FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": None, ".gv": None}
INSTALL_HINT = (
    "The Python package `graphviz` only writes DOT text; rendering needs graphviz's `dot` "
    "program: `apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS) or "
    "`conda install graphviz`. Then render with e.g. `dot -Tsvg graph.dot -o graph.svg`."
)


class GraphvizNotFoundWarning(UserWarning):
    """save() could not find the `dot` program and wrote DOT source instead of an image."""


class GraphDrawing(graphviz.Digraph):
    """What draw_graph returns: a graphviz.Digraph that a notebook shows as an SVG picture."""

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **kwargs: Any) -> dict:
        """Jupyter's picture: SVG from `dot`; without `dot`, the DOT source and how to install."""
        if shutil.which("dot") is not None:
            try:
                return super()._repr_mimebundle_(include, exclude, **kwargs)
            except graphviz.ExecutableNotFound:
                pass
            except graphviz.CalledProcessError as e:
                return {"text/plain": f"graphviz's dot failed on this graph: {e}"}
        return {"text/plain": f"{INSTALL_HINT}\n\n{self.source}"}


# ----------------------------------------------------------------------------- public API


def record_grads(root: Any) -> int:
    """Tensor(s) -> number of op nodes now keeping their gradient; call before backward."""
    total = 0
    for r in flatten_roots(root):
        if r.requires_grad:
            ops = [n for n in walk([r]) if is_op(n)]
            for n in ops:
                n.keep_grad()
            total += len(ops)
    return total


def draw_graph(
    root: Any,
    params: Any = None,
    *,
    collapse: str = "none",
    steps: tuple[int, int] | None = None,
    show_values: bool = False,
    show_grads: bool = False,
    max_nodes: int = 1500,
    max_fanout: int = 16,
    rankdir: str = "LR",
    title: str | None = None,
) -> GraphDrawing:
    """Tensor or tuple of Tensors -> graphviz.Digraph of the ops that made them, by scope/step.

    params: a Module or a name -> Tensor mapping, to show parameter names on the leaves.
    collapse='cell' draws one node per cell and time step; steps=(a, b) draws only steps
    a..b-1 and one summary node per side; show_values adds min/mean/max (of a forward run
    inside viz.keep_values(), which keeps every op's output); show_grads (after
    record_grads(loss) and loss.backward()) colours by log10 of the gradient norm. Graphs
    with more than max_nodes nodes are refused with a ValueError that says how to narrow them;
    a node with edges to more than max_fanout nodes (a weight shared by every step) keeps only
    the edges to the first and last, labelled with the count. In a notebook the graph shows
    itself as an SVG picture (the DOT source and an install hint when `dot` is missing).
    """
    roots = flatten_roots(root)
    _check_options(collapse, steps, max_nodes, max_fanout)
    pmap, modules = param_map(params)
    model = GraphModel(roots, pmap, collapse, steps)
    _check_size(model, max_nodes)
    model.name_states(retained_states(modules))
    model.thin_fans(max_fanout)
    if show_grads:
        model.compute_norms()
        _check_grads(model)
    live = {id(edge(r)): r._data for r in roots}  # the roots' own values are always known
    if show_values:
        _check_values(model, live)
    opts = {"values": show_values, "grads": show_grads, "roots": set(live), "live": live}
    return _to_dot(model, modules, opts, rankdir, title)


def save(graph: graphviz.Digraph, path: str | os.PathLike) -> Path:
    """Write graph to path (.svg/.png/.pdf rendered by `dot`; .dot/.gv source); -> path written.

    Without the `dot` program an image cannot be made: the DOT source is written next to it
    (same name, .dot) and a GraphvizNotFoundWarning says how to install graphviz.
    """
    path = Path(path)
    fmt = _FORMATS.get(path.suffix.lower(), "unknown")
    if fmt == "unknown":
        raise ValueError(
            f"save: cannot tell the format from {path.name!r}; use a name ending in "
            + ", ".join(_FORMATS)
        )
    if fmt is None:
        atomic_write(path, graph.source.encode("utf-8"))
        return path
    if shutil.which("dot") is None:
        return _save_source_instead(graph, path)
    try:
        data = graph.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        return _save_source_instead(graph, path)
    except graphviz.CalledProcessError as e:
        dot_path = path.with_suffix(".dot")
        atomic_write(dot_path, graph.source.encode("utf-8"))
        raise RuntimeError(
            f"save: graphviz's dot failed on this graph ({e}); its DOT source is in {dot_path}. "
            "Draw fewer nodes: collapse='cell', a window steps=(a, b), or fewer time steps."
        ) from None
    atomic_write(path, data)
    return path


# ----------------------------------------------------------------------------- checks


def _check_options(collapse: str, steps: Any, max_nodes: int, max_fanout: int) -> None:
    if collapse not in ("none", "cell"):
        raise ValueError(f"draw_graph: collapse must be 'none' or 'cell', got {collapse!r}")
    if steps is not None:
        ok = isinstance(steps, (tuple, list)) and len(steps) == 2
        if not ok or not all(isinstance(s, int) for s in steps) or not 0 <= steps[0] < steps[1]:
            raise ValueError(
                f"draw_graph: steps must be (a, b) with 0 <= a < b, drawing steps a..b-1; "
                f"got {steps!r}"
            )
    for name, v in (("max_nodes", max_nodes), ("max_fanout", max_fanout)):
        if not isinstance(v, int) or v < 2:
            raise ValueError(f"draw_graph: {name} must be an int >= 2, got {v!r}")


def _check_size(model: GraphModel, max_nodes: int) -> None:
    n = len(model.nodes)
    if n <= max_nodes:
        return
    unrolled = f" over {model.max_step + 1} time steps" if model.max_step >= 0 else ""
    raise ValueError(
        f"draw_graph: the graph has {n} nodes to draw{unrolled}, more than max_nodes="
        f"{max_nodes}. Narrow it: collapse='cell' draws one node per cell and time step; "
        "steps=(a, b) draws only steps a..b-1 and summarises the rest; or pass a larger "
        "max_nodes (graphviz layout gets slow beyond a few thousand nodes)."
    )


def _check_grads(model: GraphModel) -> None:
    if any(is_op(t) and t.grad is not None for t in model.order):
        return
    raise ValueError(
        "draw_graph(show_grads=True): no gradients recorded on the graph's intermediate "
        "tensors. Backward keeps gradients only on leaves and retain_grad() tensors: call "
        "viz.record_grads(loss) before loss.backward(), then draw."
    )


def _check_values(model: GraphModel, live: dict) -> None:
    missing = [t for t in model.order if is_op(t) and t.value is None and id(t) not in live]
    if missing:
        raise ValueError(
            f"draw_graph(show_values=True): {len(missing)} intermediate values were not kept "
            f"(the first: {missing[0].describe()}). The graph keeps only what backward needs; "
            "run the forward inside `with viz.keep_values():` to keep every op's output, then "
            "draw."
        )


# ----------------------------------------------------------------------------- parameters


def param_map(params: Any) -> tuple[dict, dict]:
    """-> ({id(param): (dotted name, module scope path)}, {scope path: Module})."""
    if params is None:
        return {}, {}
    if isinstance(params, Module):
        top = params._scope_name or type(params).__name__.lower()
        modules = {
            (top,) + (tuple(name.split(".")) if name else ()): mod
            for name, mod in params.named_modules()
        }
        pmap = {
            id(p): (name, (top,) + tuple(name.split(".")[:-1]))
            for name, p in params.named_parameters()
        }
        return pmap, modules
    items = params.items() if isinstance(params, Mapping) else params
    pmap = {}
    for name, t in items:
        if not isinstance(t, Tensor):
            raise TypeError(f"draw_graph: params[{name!r}] is a {type(t).__name__}, not a Tensor")
        pmap[id(t)] = (str(name), ())
    return pmap, {}


def retained_states(modules: dict) -> dict[int, str]:
    """{id(tensor): 'h' | 'c'} from recurrent layers run with retain_states=True."""
    names: dict[int, str] = {}
    for mod in modules.values():
        states = getattr(mod, "states", None)
        if not isinstance(states, dict):
            continue
        for entry in states.values():
            for kind, seq in entry.items():
                names.update((id(edge(t)), kind) for t in seq if t is not None)
    return names


# ----------------------------------------------------------------------------- DOT


def _to_dot(model: GraphModel, modules: dict, opts: dict, rankdir: str, title: Any) -> Any:
    g = GraphDrawing("tinygrad_seq")
    g.attr(rankdir=rankdir, fontname="Helvetica", nodesep="0.2", ranksep="0.3", newrank="true")
    if title:
        g.attr(label=title, labelloc="t", fontsize="14")
    g.attr("node", fontname="Helvetica", fontsize="10", height="0.3", margin="0.08,0.04")
    g.attr("edge", color="#555555", arrowsize="0.6", fontname="Helvetica", fontsize="9")
    opts["range"] = norm_range(model) if opts["grads"] else (0.0, 0.0)
    ids = {key: f"n{i}" for i, key in enumerate(model.nodes)}
    scopes = {
        n.cluster[:k] for n in model.nodes.values() if n.kind != "param"
        for k in range(len(n.cluster) + 1)
    }  # fmt: skip
    by_cluster: dict[tuple, list] = {}
    for key, node in model.nodes.items():
        cluster = _param_cluster(node.cluster, scopes) if node.kind == "param" else node.cluster
        by_cluster.setdefault(cluster, []).append((ids[key], _node_attrs(node, modules, opts)))
    _add_clusters(g, by_cluster, modules)
    for e in model.edges.values():
        attrs = {"label": e.label} if e.label else {}
        if e.thinned:
            attrs["style"] = "dashed"
        if opts["grads"]:
            color = scale_color(e.norm, opts["range"]) if e.norm is not None else "#bbbbbb"
            color = readable_on_white(color)
            attrs.update(color=color, penwidth="1.6")
        g.edge(ids[e.src], ids[e.dst], **attrs)
    for src, dst in model.ordering_edges():
        g.edge(ids[src], ids[dst], style="invis")
    if opts["grads"]:
        add_legend(g, *opts["range"])
    return g


def _param_cluster(path: tuple, scopes: set) -> tuple:
    """The drawn scope of a parameter's module: itself, the one scope ending like it, or the
    one scope that is it with a part inserted before its own name (a layer's 'ffn')."""
    if path in scopes:
        return path
    ends = [s for s in scopes if len(s) > len(path) and s[-len(path) :] == path]
    if len(ends) == 1:
        return ends[0]
    if len(path) > 1:
        inside = [s for s in scopes if len(s) == len(path) + 1 and s[:-2] == path[:-1]]
        inside = [s for s in inside if s[-1] == path[-1]]
        if len(inside) == 1:
            return inside[0]
    return ()


def _add_clusters(g: graphviz.Digraph, by_cluster: dict, modules: dict) -> None:
    """Nest one subgraph per scope path, deepest first, steps in time order."""
    paths = {c[:k] for c in by_cluster for k in range(1, len(c) + 1)}
    first = {c: i for i, c in enumerate(by_cluster)}
    children: dict[tuple, list] = {}
    for p in paths:
        children.setdefault(p[:-1], []).append(p)
    built: dict[tuple, graphviz.Digraph] = {}
    names = {p: f"cluster_{i}" for i, p in enumerate(sorted(paths))}
    for path in sorted(paths, key=len, reverse=True):
        sub = graphviz.Digraph(name=names[path])
        sub.attr(**_cluster_attrs(path, modules))
        for nid, attrs in by_cluster.get(path, []):
            sub.node(nid, **attrs)
        for child in sorted(children.get(path, []), key=lambda c: _order(c, first)):
            sub.subgraph(built.pop(child))
        built[path] = sub
    for nid, attrs in by_cluster.get((), []):
        g.node(nid, **attrs)
    for child in sorted(children.get((), []), key=lambda c: _order(c, first)):
        g.subgraph(built.pop(child))


def _order(path: tuple, first: dict) -> tuple:
    st = step_of(path[-1:])
    index = st[1] if st else head_of(path[-1])
    return (-1 if index is None else index, first.get(path, len(first)), path)


def _cluster_attrs(path: tuple, modules: dict) -> dict:
    if step_of(path[-1:]) is not None or head_of(path[-1]) is not None:
        return {"label": format_scope(path), "style": "rounded,filled", "fillcolor": "#f5f7fa",
                "color": "#b0b8c4", "fontsize": "10", "labeljust": "l"}  # fmt: skip
    label = ".".join(path)
    if path in modules:
        label += f" ({type(modules[path]).__name__})"
    return {"label": label, "style": "rounded,dashed", "color": "#8a8a8a", "fontsize": "11",
            "labeljust": "l"}  # fmt: skip


def _node_attrs(node: Node, modules: dict, opts: dict) -> dict:
    attrs = dict(_STYLE[node.kind])
    attrs["label"] = "\\n".join(_label_lines(node, modules, opts))
    if node.kind not in ("cell", "summary") and id(node.tensors[0]) in opts["roots"]:
        attrs["penwidth"] = "2.5"
    if opts["grads"] and node.kind not in ("const", "summary"):
        if node.norm is None:
            attrs.update(fillcolor=NO_GRAD_FILL, fontcolor="#777777")
        else:
            fill = scale_color(node.norm, opts["range"])
            attrs.update(fillcolor=fill, fontcolor="white" if dark(fill) else "black")
    return attrs


def _label_lines(node: Node, modules: dict, opts: dict) -> list[str]:
    t = node.tensors[0]
    if node.kind == "cell":
        lines = [_cell_title(node, modules), f"{len(node.tensors)} ops"]
    elif node.kind == "summary":
        lines = [f"t={min(node.steps)}..{max(node.steps)}: {len(node.tensors)} ops"]
    elif node.kind == "const":
        return [f"const {t._data.item():.4g}"]
    else:
        head = {"op": t.fn.__name__ if is_op(t) else "", "param": node.name, "input": "input"}
        lines = [head[node.kind], _shape(t)]
        value = opts["live"].get(id(t), t.value if is_op(t) else t._data)
        if opts["values"] and value is not None and value.size:
            d = value.astype(np.float64)
            lines.append(f"min {d.min():.3g} mean {d.mean():.3g} max {d.max():.3g}")
    if opts["grads"]:
        lines.append(_grad_text(node.norm) if node.kind != "summary" else "")
    return [s for s in lines if s]


def _cell_title(node: Node, modules: dict) -> str:
    """('lstm', 'l0', 't=3') -> 'LSTM cell l0 t=3' (cell type from the module or the ops)."""
    scope = node.key[1]
    layer = scope[-2] if len(scope) > 1 else ""
    mode = getattr(modules.get(scope[:-2]), "mode", None)
    kind = mode if isinstance(mode, str) else guess_cell(node.tensors)
    return " ".join(s for s in (kind, "cell", layer, scope[-1]) if s)


def _shape(t: Any) -> str:
    shape = node_shape(t)
    return f"{'scalar' if not shape else str(tuple(shape))} {node_dtype(t)}"


def _grad_text(norm: float | None) -> str:
    return "no grad" if norm is None else f"|grad| {norm:.2e}"


# ----------------------------------------------------------------------------- files


def atomic_write(path: Path, data: bytes) -> None:
    """Write to a temporary file beside path, then rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600 files; an image is for everyone to read
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _save_source_instead(graph: graphviz.Digraph, path: Path) -> Path:
    dot_path = path.with_suffix(".dot")
    atomic_write(dot_path, graph.source.encode("utf-8"))
    warnings.warn(
        GraphvizNotFoundWarning(
            f"graphviz's `dot` program was not found, so {path} was not rendered; wrote the "
            f"DOT source to {dot_path} instead. {INSTALL_HINT}"
        ),
        stacklevel=3,
    )
    return dot_path
