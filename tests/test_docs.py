"""The documentation runs: every ```python block of README.md and docs/*.md is executed.

Blocks of one file share one namespace and run top to bottom, as a reader would type them, with
the working directory a fresh temporary directory (files the docs write land there) and
matplotlib on the Agg backend. A block preceded by the line `<!-- skip-test: reason -->` is not
run; it is reported as a skipped test carrying the reason. ```bash, ```text and other fences are
never executed. Line numbers in tracebacks are the Markdown file's own.

docs/api.md is generated: `scripts/gen_api_docs.py --check` must find it up to date.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import traceback
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PYTHON_INFO = {"python", "py", "python3"}
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)")
SKIP = re.compile(r"^\s*<!--\s*skip-test\s*:\s*(.*?)\s*-->\s*$")


class Block(NamedTuple):
    """One fenced python block: its first code line's number (1-based), code, skip reason."""

    line: int
    code: str
    skip: str | None

    @property
    def first_line(self) -> str:
        lines = [ln.strip() for ln in self.code.splitlines() if ln.strip()]
        return lines[0] if lines else "<empty block>"


def python_blocks(text: str) -> list[Block]:
    """The ```python blocks of a Markdown text, in order, with their skip-test reasons."""
    blocks: list[Block] = []
    lines = text.splitlines()
    i, last_text = 0, ""  # last_text: the last non-blank line outside code blocks
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            if lines[i].strip():
                last_text = lines[i]
            i += 1
            continue
        fence, info = m.group(1), m.group(2).lower()
        end = i + 1  # the closing fence: same character, at least as long, nothing after it
        while end < len(lines) and not re.match(
            rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$", lines[end]
        ):
            end += 1
        if info in PYTHON_INFO:
            marker = SKIP.match(last_text)
            reason = (marker.group(1) or "no reason given") if marker else None
            blocks.append(Block(i + 2, "\n".join(lines[i + 1 : end]), reason))
        last_text = ""
        i = end + 1
    return blocks


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _doc_blocks(path: Path) -> list[Block]:
    return python_blocks(path.read_text(encoding="utf-8")) if path.exists() else []


SKIPPED = [
    pytest.param(path, block, id=f"{_rel(path)}:{block.line}: {block.skip}")
    for path in DOC_FILES
    for block in _doc_blocks(path)
    if block.skip is not None
] or [pytest.param(None, None, id="no skipped blocks")]


@pytest.fixture
def doc_env(tmp_path, monkeypatch):
    """cwd = a fresh tmp dir, matplotlib without a display; figures closed afterwards."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    try:
        import matplotlib

        matplotlib.use("Agg")
    except ImportError:  # pragma: no cover - matplotlib is a dev dependency
        pass
    yield tmp_path
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


@pytest.mark.parametrize("path", DOC_FILES, ids=_rel)
def test_doc_python_blocks_run(path, doc_env):
    """Run every non-skipped python block of one file, top to bottom, in one namespace."""
    namespace = {"__name__": "__main__"}
    for block in _doc_blocks(path):  # no file or no python block: nothing to run, a pass
        if block.skip is not None:
            continue
        # pad with newlines so tracebacks give the line numbers of the Markdown file
        source = "\n" * (block.line - 1) + block.code
        error = None
        try:
            exec(compile(source, str(path), "exec"), namespace)
        except Exception:
            error = traceback.format_exc()
        if error is not None:  # failing outside the except block keeps the report short
            pytest.fail(
                f"{_rel(path)}: the python block at line {block.line} "
                f"(`{block.first_line}`) failed:\n\n{error}",
                pytrace=False,
            )


@pytest.mark.parametrize("path,block", SKIPPED)
def test_doc_skipped_block(path, block):
    """Blocks marked <!-- skip-test: reason --> are listed as skipped, with their reason."""
    if block is None:
        return
    pytest.skip(f"{_rel(path)}:{block.line} (`{block.first_line}`) not run: {block.skip}")


def test_python_blocks_parser():
    text = "\n".join(
        [
            "# Title",
            "```python",
            "a = 1",
            "```",
            "```bash",
            "rm -rf /",
            "```",
            "<!-- skip-test: needs a GPU -->",
            "",
            "```python",
            "b = 2",
            "```",
            "````markdown",
            "```python",
            "c = 3",
            "```",
            "````",
            "```text",
            "<!-- skip-test: not a marker inside a block -->",
            "```",
            "```py",
            "d = 4",
            "```",
        ]
    )
    blocks = python_blocks(text)
    assert [(b.line, b.code, b.skip) for b in blocks] == [
        (3, "a = 1", None),
        (11, "b = 2", "needs a GPU"),
        (22, "d = 4", None),
    ]
    assert blocks[0].first_line == "a = 1"


def test_api_reference_is_up_to_date():
    """docs/api.md equals what scripts/gen_api_docs.py generates from the code."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_api_docs.py"), "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, (
        f"scripts/gen_api_docs.py --check exited with {proc.returncode}:\n"
        f"{proc.stdout}{proc.stderr}"
    )


def test_architecture_lists_every_module_of_the_package():
    """docs/architecture.md's "Files at a glance" names each module of the tree, and no other."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    table = text[text.index("## Files at a glance") :]
    listed = set(re.findall(r"^\| `([\w/]+\.py)` \|", table, flags=re.M))
    package = ROOT / "tinygrad_seq"
    actual = {p.relative_to(package).as_posix() for p in package.rglob("*.py")}
    assert listed == actual, (
        f"not in the table: {sorted(actual - listed)}; in the table but not in the tree: "
        f"{sorted(listed - actual)}"
    )


def test_layers_picture_places_every_module_in_a_layer():
    """scripts/draw_layers.py knows a layer for every box, and no arrow points up a layer."""
    spec = importlib.util.spec_from_file_location(
        "draw_layers", ROOT / "scripts" / "draw_layers.py"
    )
    layers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(layers)
    mods = layers.modules()
    rank = {b: i for i, (_, boxes) in enumerate(layers.LAYERS) for b in boxes}
    assert {layers.box(m) for m in mods} - {"__init__"} <= set(rank)
    upward = [(a, b) for a, b in layers.edges(mods) if rank[a] > rank[b]]
    assert not upward, f"imports pointing up a layer: {upward}"


def test_pytorch_page_names_exist():
    """Every name docs/pytorch.md lists as supported is there, under PyTorch's spelling."""
    import tinygrad_seq

    text = (ROOT / "docs" / "pytorch.md").read_text(encoding="utf-8")
    supported = text[text.index("## Supported") : text.index("## Known differences")]
    names = re.findall(r"`((?:torch|F)\.[\w.]+)`", supported)
    assert len(names) > 300
    missing = []
    for name in names:
        path = name.replace("F.", "torch.nn.functional.", 1).split(".")[1:]
        obj = tinygrad_seq
        for part in path:
            if not hasattr(obj, part):
                missing.append(name)
                break
            obj = getattr(obj, part)
    assert not missing, f"docs/pytorch.md lists names that do not exist: {missing}"


# ------------------------------------------------- PyTorch spellings (docs/pytorch.md)

FRAMEWORK_LINE = "import tinygrad_seq as torch"
TOOLS_MARK = "# tinygrad_seq's own tools"


def _tinygrad_seq_imports(code: str) -> list[tuple[int, str]]:
    """(line number in the block, line) of each import statement naming tinygrad_seq."""
    import ast

    lines, found = code.splitlines(), []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules = [node.module or ""]
        else:
            continue
        if any(m.split(".")[0] == "tinygrad_seq" for m in modules):
            found.append((node.lineno, lines[node.lineno - 1]))
    return found


@pytest.mark.parametrize("path", DOC_FILES, ids=_rel)
def test_doc_code_uses_the_pytorch_spelling(path):
    """tinygrad_seq is imported as `torch` on its own line, or on a line marked as its tools."""
    import ast

    bad = []
    for block in _doc_blocks(path):
        for lineno, line in _tinygrad_seq_imports(block.code):
            if line.strip() != FRAMEWORK_LINE and TOOLS_MARK not in line:
                bad.append(f"line {block.line + lineno - 1}: {line.strip()}")
        names = {n.id for n in ast.walk(ast.parse(block.code)) if isinstance(n, ast.Name)}
        if names & {"ts", "tinygrad_seq"}:
            bad.append(f"block at line {block.line} uses `ts`/`tinygrad_seq`: write `torch.`")
    assert not bad, f"{_rel(path)}: see docs/pytorch.md's conventions:\n" + "\n".join(bad)


PORTABLE_BLOCKS = [
    pytest.param(path, block, id=f"{_rel(path)}:{block.line}")
    for path in DOC_FILES
    for block in _doc_blocks(path)
    if block.skip is None
    and any(line.strip() == FRAMEWORK_LINE for line in block.code.splitlines())
    and len(_tinygrad_seq_imports(block.code)) == 1
]


def test_some_doc_blocks_are_portable():
    """The README's PyTorch-way example and docs/pytorch.md's are among the portable blocks."""
    files = {_rel(p.values[0]) for p in PORTABLE_BLOCKS}
    assert {"README.md", "docs/pytorch.md"} <= files, files


@pytest.mark.parity
@pytest.mark.parametrize("path,block", PORTABLE_BLOCKS)
def test_portable_doc_block_runs_on_pytorch(path, block, doc_env):
    """A block whose only tinygrad_seq line is the framework line runs under `import torch`."""
    from helpers import require_torch

    require_torch()
    lines = block.code.splitlines()
    code = "\n".join("import torch" if ln.strip() == FRAMEWORK_LINE else ln for ln in lines)
    namespace = {"__name__": "__main__"}
    exec(compile("\n" * (block.line - 1) + code, str(path), "exec"), namespace)
    assert type(namespace["torch"].zeros(1)).__module__.startswith("torch")
