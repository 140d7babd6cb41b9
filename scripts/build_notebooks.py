"""Write examples/notebooks/*.ipynb from the cell sources in scripts/notebooks/.

Each notebook is one Python module there (`01_rnn_cell_forward.py`, ...) with a list `CELLS` of
("md", text) and ("code", text) pairs, so a review reads plain Python and Markdown, not JSON.
This script turns them into notebooks with nbformat: no outputs, stable cell ids, the Python 3
kernel. `tests/test_notebooks.py` checks that the committed files equal what this builds and runs
every notebook in a real kernel.

    python scripts/build_notebooks.py            # rewrite examples/notebooks/*.ipynb
    python scripts/build_notebooks.py --check    # exit 1 if a committed notebook is stale
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import nbformat
from nbformat import v4

ROOT = Path(__file__).resolve().parent.parent
SOURCES = Path(__file__).resolve().parent / "notebooks"
OUT = ROOT / "examples" / "notebooks"
METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


def load_cells(path: Path) -> list[tuple[str, str]]:
    """The CELLS list of one source module: [("md" | "code", text), ...]."""
    spec = importlib.util.spec_from_file_location(f"notebook_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CELLS


def build(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    """Cells -> a notebook without outputs; cell ids c00, c01, ... so rebuilding is stable."""
    nb = v4.new_notebook(metadata=METADATA)
    for i, (kind, text) in enumerate(cells):
        if kind not in ("md", "code"):
            raise ValueError(f"cell {i}: kind must be 'md' or 'code', got {kind!r}")
        make = v4.new_markdown_cell if kind == "md" else v4.new_code_cell
        nb.cells.append(make(text.strip("\n"), id=f"c{i:02d}"))
    nbformat.validate(nb)
    return nb


def build_all() -> dict[str, str]:
    """{'01_rnn_cell_forward.ipynb': JSON text, ...} for every source module, in order."""
    built = {}
    for path in sorted(SOURCES.glob("[0-9][0-9]_*.py")):
        built[f"{path.stem}.ipynb"] = nbformat.writes(build(load_cells(path))) + "\n"
    return built


def main(argv: list[str] | None = None) -> int:
    """Write (or with --check compare) every notebook; -> exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a notebook is stale")
    parser.add_argument("--out", type=Path, default=OUT, help="folder of the .ipynb files")
    args = parser.parse_args(argv)
    built = build_all()
    if args.check:
        stale = [n for n, text in built.items() if not _same(args.out / n, text)]
        extra = sorted({p.name for p in args.out.glob("*.ipynb")} - set(built))
        for name in stale + extra:
            print(f"{name}: out of date or unknown; run python scripts/build_notebooks.py")
        return 1 if stale or extra else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in built.items():
        (args.out / name).write_text(text, encoding="utf-8")
        print(f"wrote {args.out / name}")
    return 0


def _same(path: Path, text: str) -> bool:
    return path.exists() and path.read_text(encoding="utf-8") == text


if __name__ == "__main__":
    sys.exit(main())
