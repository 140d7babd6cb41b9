"""The graph explorer: one self-contained HTML page to walk around an unrolled graph.

`explore(loss, params=model)` lays the graph out with graphviz's `dot` (one box per cell and
time step, each opening in place to its ops), records the engine's real backward walk, and
writes everything, scripts, styles, pictures and data, into one HTML file that opens offline by
double-click (`.save("graph.html")`) or inline in Jupyter. In the page: click a node for its op,
scope, step, shape, value and gradient (statistics and histograms), derivative rule, parents
and children; "play backward" lights the nodes up in the order the engine visited them, while
the gradient arriving at a shared weight adds up; "play forward" follows creation order; a
slider moves a window over the steps; the side plot shows ||dL/dh_t|| over t. A Transformer's
layers are such boxes too (one per `layers.<i>`, its attention, heads and feed-forward drawn
as nested boxes when opened), and the side plot shows ||dL/d(layer output)|| per layer.

The order is recorded, not recomputed: wrap your backward in `record_backward(loss)`, or let
`explore` run `loss.backward()` itself (it does when nothing was recorded and the graph has not
been walked yet).
"""

from __future__ import annotations

import base64
import gzip
import html
import json
import os
import time
from importlib import resources
from pathlib import Path
from typing import Any

from ..autograd import edge
from ._explore_data import ExplorerData
from ._explore_layout import build_svgs
from ._graph_model import flatten_roots, is_op, walk
from ._recorder import BackwardRecording, record_backward, recording_of
from .graph import atomic_write, param_map

COMPRESS_ABOVE = 1_000_000  # bytes of JSON beyond which the page carries it gzipped


class Explorer:
    """A built explorer page: `.html` (str), `.save(path)`, `.data` (the page's JSON payload)."""

    def __init__(self, data: dict, title: str, seconds: float):
        self.data = data
        self.title = title
        self.build_seconds = seconds
        self.html = _page(data, title)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the page to path (one self-contained .html file); -> the path written."""
        path = Path(path)
        if path.suffix.lower() not in (".html", ".htm"):
            raise ValueError(
                f"Explorer.save: the page is HTML; use a name ending in .html, got {path.name!r}"
            )
        atomic_write(path, self.html.encode("utf-8"))
        return path

    def _repr_html_(self) -> str:
        """Jupyter: the page in an iframe (srcdoc), so its script runs apart from the notebook."""
        page = html.escape(self.html, quote=True)
        style = "width:100%;height:720px;border:1px solid #ccc"
        return f'<iframe srcdoc="{page}" style="{style}" sandbox="allow-scripts"></iframe>'

    def __repr__(self) -> str:
        n, c = len(self.data["nodes"]), len(self.data["cells"])
        return f"<Explorer {self.title!r}: {n} nodes, {c} cells, {len(self.html) / 1e3:.0f} kB>"


def explore(
    root: Any,
    params: Any = None,
    *,
    recording: BackwardRecording | None = None,
    title: str | None = None,
    window: int = 8,
) -> Explorer:
    """Tensor (a loss) -> Explorer, the interactive page of the graph that made it.

    params: a Module or a name -> Tensor mapping (parameter names on the leaves). The backward
    order comes from `recording` (what `with record_backward(loss) as rec:` gave), else from a
    recording made around loss.backward() earlier, else explore runs loss.backward() itself,
    recorded (so .grad fills as after your own backward). window: steps shown at first.
    """
    started = time.perf_counter()
    roots = flatten_roots(root, "explore")
    if not isinstance(window, int) or isinstance(window, bool) or window < 1:
        raise ValueError(f"explore: window must be a positive int, got {window!r}")
    if not any(r.requires_grad for r in roots):
        raise ValueError("explore: the root does not require grad, so there is no graph to explore")
    pmap, modules = param_map(params)
    rec = recording if recording is not None else _recording_of(roots)
    data = ExplorerData(roots, pmap, modules, rec)
    svgs = build_svgs(data)
    steps = sorted({c["step"] for c in data.cells if c["kind"] == "step"})
    payload = {
        "nodes": data.nodes, "cells": data.cells, "overview": svgs["overview"],
        "templates": svgs["templates"], "walks": data.walks(), "flow": data.grad_flow(),
        "legend": data.legend(), "range": list(data.range), "steps": steps,
        "window": window, "rules": data.rules, "recorded": bool(rec.visits),
        "flow_axis": "t" if steps else "layer",
    }  # fmt: skip
    title = title or _default_title(data)
    return Explorer(payload, title, time.perf_counter() - started)


def _recording_of(roots: list) -> BackwardRecording:
    """The recording made around this graph's backward, or a new one of a backward run here."""
    found = recording_of(roots[0])
    if found is not None and {id(edge(r)) for r in found.roots} == {id(edge(r)) for r in roots}:
        return found
    ops = [n for n in walk(roots) if is_op(n)]
    if any(n.freed for n in ops):
        raise ValueError(
            "explore: backward already ran on this graph without recording its order. Either "
            "let explore run it (call viz.explore(loss, ...) before loss.backward()), or wrap "
            "it: `with viz.record_backward(loss): loss.backward()`, then viz.explore(loss, ...)."
        )
    if len(roots) != 1 or roots[0].numel() != 1:
        raise ValueError("explore: backward needs one scalar loss; pass the loss, not outputs")
    recorder = record_backward(roots)
    with recorder as rec:
        roots[0].backward()
    return rec


def _default_title(data: ExplorerData) -> str:
    steps = {c["step"] for c in data.cells if c["kind"] == "step"}
    layers = [c for c in data.cells if c["kind"] == "layer"]
    kinds = sorted({c["title"].split(" cell")[0] for c in data.cells if " cell" in c["title"]})
    if layers:  # the layers' classes, when params=model named them
        named = {c["title"].split()[0] for c in layers if " " in c["title"]}
        kinds += sorted(named or {"Transformer"})
    what = " / ".join(kinds) if kinds else "graph"
    return (f"{what}: {len(data.nodes)} nodes" + (f", {len(steps)} steps" if steps else "")
            + (f", {len(layers)} layers" if layers else ""))  # fmt: skip


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _page(data: dict, title: str) -> str:
    """The HTML page: template, CSS, JS and the JSON payload, all inline.

    Payloads above COMPRESS_ABOVE bytes (a long unroll) go in gzipped and base64-encoded, about
    a sixth of the size; the page unpacks them with the browser's DecompressionStream.
    """
    payload = json.dumps(data, separators=(",", ":"), allow_nan=False)
    kind = "application/json"
    if len(payload) > COMPRESS_ABOVE:
        packed = gzip.compress(payload.encode("utf-8"), compresslevel=6, mtime=0)
        payload, kind = base64.b64encode(packed).decode("ascii"), "application/gzip-base64"
    else:
        payload = payload.replace("</", "<\\/")  # never closes the <script> it sits in
    page = _asset("explorer.html").replace("TITLE", html.escape(title))
    for key, value in (("/*CSS*/", _asset("explorer.css")), ("/*JS*/", _asset("explorer.js")),
                       ("/*TYPE*/", kind), ("/*DATA*/", payload)):  # fmt: skip
        page = page.replace(key, value, 1)
    return page
