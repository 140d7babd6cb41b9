"""Draw the package's layers and the imports between them: docs/img/layers.svg and .png.

    python scripts/draw_layers.py [--out docs/img]

Each box is a module at the package top, or a whole subpackage; each arrow is an import
(imports inside functions included, a package's __init__ re-exporting its children left out),
drawn only where no longer chain of arrows already leads from the one box to the other.
Boxes sit in their layer, lowest at the bottom, so every arrow should point down or sideways:
an arrow pointing up would be a dependency in the wrong direction. Needs graphviz's `dot`.
"""

from __future__ import annotations

import argparse
import ast
import shutil
import sys
from pathlib import Path

import graphviz

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "tinygrad_seq"

# The layers, top to bottom, and the boxes in each (a top-level module or a subpackage).
# fmt: off
LAYERS = [
    ("entry points", ["__main__", "cli"]),
    ("applications", ["tasks"]),
    ("tools", ["check", "viz", "io", "data", "utils"]),
    ("modules", ["nn", "optim"]),
    ("core", ["functional", "creation", "user_function", "tensor", "ops", "autograd", "random",
              "dtypes"]),
    ("speed layer and messages", ["grads", "errors", "kernels"]),
    ("reference (numpy only)", ["manual"]),
]
# fmt: on


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name (tinygrad_seq.nn.rnn, ...) -> its file."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def box(module: str) -> str:
    """The box a module is drawn in: tinygrad_seq.nn.rnn -> 'nn', tinygrad_seq.ops -> 'ops'."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports(mods: dict[str, Path]) -> set[tuple[str, str]]:
    """(importer, imported) pairs of package modules, from every import statement in the files."""
    pairs = set()
    for name, path in mods.items():
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".")
                    base = base[: len(base) - node.level + (1 if is_pkg else 0)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                for alias in node.names:
                    full = f"{target}.{alias.name}"
                    pairs.add((name, full if full in mods else target))
            elif isinstance(node, ast.Import):
                pairs.update((name, a.name) for a in node.names)
    return {(a, b) for a, b in pairs if b in mods and a != b}


def edges(mods: dict[str, Path]) -> set[tuple[str, str]]:
    """Imports between different boxes, without a package's __init__ re-exporting its own."""
    out = set()
    for a, b in imports(mods):
        if mods[a].name == "__init__.py" and b.startswith(a + "."):
            continue
        if box(a) != box(b) and box(a) != "__init__":
            out.add((box(a), box(b)))
    return out


def reduce(pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The arrows not implied by others: a -> c goes when a -> b -> ... -> c already shows it."""
    succ: dict[str, set[str]] = {}
    for a, b in pairs:
        succ.setdefault(a, set()).add(b)

    def reaches(a: str, c: str, skip: tuple[str, str]) -> bool:
        stack, seen = [a], {a}
        while stack:
            n = stack.pop()
            for m in succ.get(n, ()):
                if (n, m) == skip or m in seen:
                    continue
                if m == c:
                    return True
                seen.add(m)
                stack.append(m)
        return False

    return {(a, b) for a, b in pairs if not reaches(a, b, (a, b))}


def draw(mods: dict[str, Path]) -> graphviz.Digraph:
    """The picture: one row per layer, top to bottom, arrows for the imports between boxes."""
    graph_attr = {"rankdir": "TB", "nodesep": "0.25", "ranksep": "0.45", "newrank": "true"}
    g = graphviz.Digraph("layers", graph_attr=graph_attr | {"fontname": "Helvetica"})
    g.attr("node", shape="box", style="rounded,filled", fillcolor="#eef3fb", fontname="Helvetica")
    g.attr("node", fontsize="11")
    g.attr("edge", color="#7a869a", arrowsize="0.6")
    for i, (title, boxes) in enumerate(LAYERS):
        with g.subgraph(name=f"cluster_{i}") as c:
            c.attr(label=title, labeljust="l", fontsize="10", color="#c8d0dc", style="rounded")
            with c.subgraph() as row:
                row.attr(rank="same")
                for b in boxes:
                    is_pkg = any(m.startswith(f"tinygrad_seq.{b}.") for m in mods)
                    row.node(b, f"{b}/" if is_pkg else f"{b}.py")
    for a, b in sorted(reduce(edges(mods))):
        g.edge(a, b)
    for (_, upper), (_, lower) in zip(LAYERS, LAYERS[1:]):  # stack the layers in their order
        g.edge(upper[0], lower[0], style="invis", weight="10")
    return g


def main(argv: list[str] | None = None) -> int:
    """Write layers.svg and layers.png into --out (docs/img by default)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "docs" / "img"))
    args = ap.parse_args(argv)
    mods = modules()
    drawn = {b for _, boxes in LAYERS for b in boxes}
    missing = {box(m) for m in mods} - drawn - {"__init__"}
    if missing:
        print(f"draw_layers: no layer for {sorted(missing)}; add them to LAYERS", file=sys.stderr)
        return 1
    if shutil.which("dot") is None:
        print("draw_layers: graphviz's `dot` is needed", file=sys.stderr)
        return 1
    out = Path(args.out)
    for fmt in ("svg", "png"):
        draw(mods).render(out / "layers", format=fmt, cleanup=True)
    print(f"wrote {out / 'layers.svg'} and {out / 'layers.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
