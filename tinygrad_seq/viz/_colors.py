"""The gradient colour scale of graph drawings: blue for small norms, red for large ones.

Positions on the scale are log10 of the gradient norm between the smallest and the largest
drawn, so a gradient that shrank a millionfold over the unrolled steps shows as a walk from red
to blue. Pale middle colours are darkened for thin edges, and dark fills get white text.
"""

from __future__ import annotations

from typing import Any

import graphviz
import numpy as np

NO_GRAD_FILL = "#f7f7f7"
# Blue (small gradients) through pale yellow to red (large): RdYlBu reversed, 9 anchors.
_SCALE = ("#313695", "#4575b4", "#74add1", "#abd9e9", "#f2f2bd",
          "#fee090", "#fdae61", "#f46d43", "#d73027")  # fmt: skip


def grad_color(frac: float) -> str:
    """Position in [0, 1] on the gradient colour scale -> '#rrggbb' (0 blue: small, 1 red)."""
    x = min(max(float(frac), 0.0), 1.0) * (len(_SCALE) - 1)
    i = min(int(x), len(_SCALE) - 2)
    a, b = _rgb(_SCALE[i]), _rgb(_SCALE[i + 1])
    w = x - i
    return "#" + "".join(f"{round(ca + (cb - ca) * w):02x}" for ca, cb in zip(a, b))


def norm_range(model: Any) -> tuple[float, float]:
    """(min, max) of log10 of the positive gradient norms on drawn nodes and edges."""
    norms = [n.norm for n in model.nodes.values()] + [e.norm for e in model.edges.values()]
    logs = [np.log10(n) for n in norms if n is not None and 0 < n < np.inf]
    return (float(min(logs)), float(max(logs))) if logs else (0.0, 0.0)


def scale_color(norm: float, rng: tuple[float, float]) -> str:
    """Gradient norm -> its colour, placing log10(norm) between rng = (lo, hi)."""
    lo, hi = rng
    if not norm > 0:
        return grad_color(0.0)
    if not np.isfinite(norm):
        return grad_color(1.0)
    return grad_color((np.log10(norm) - lo) / (hi - lo) if hi > lo else 0.5)


def _rgb(hex_color: str) -> tuple[int, int, int]:
    h = hex_color.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def readable_on_white(hex_color: str) -> str:
    """Darken pale scale colours so thin edges stay visible on a white page."""
    rgb = _rgb(hex_color)
    lum = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
    if lum <= 170:
        return hex_color
    return "#" + "".join(f"{round(c * 170 / lum):02x}" for c in rgb)


def dark(hex_color: str) -> bool:
    """True when black text would be hard to read on this fill."""
    r, g, b = _rgb(hex_color)
    return 0.299 * r + 0.587 * g + 0.114 * b < 140


def add_legend(g: graphviz.Digraph, lo: float, hi: float, k: int = 7) -> None:
    """A small cluster with the colour scale and its log10 values."""
    cells = []
    for i in range(k):
        color = grad_color(i / (k - 1))
        font = "white" if dark(color) else "black"
        value = lo + (hi - lo) * i / (k - 1)
        cells.append(f'<TD BGCOLOR="{color}"><FONT COLOR="{font}">{value:.1f}</FONT></TD>')
    label = (
        '<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4">'
        f'<TR><TD COLSPAN="{k}">log<SUB>10</SUB> of gradient norm |dL/dx|</TD></TR>'
        f"<TR>{''.join(cells)}</TR>"
        f'<TR><TD COLSPAN="{k}" BGCOLOR="{NO_GRAD_FILL}">grey: no gradient</TD></TR>'
        "</TABLE>>"
    )
    with g.subgraph(name="cluster_legend") as c:
        c.attr(label="gradient colour scale", style="rounded", color="#999999", fontsize="10")
        c.node("legend", label=label, shape="plaintext")
