"""Tests of the tinygrad_seq.manual package as a whole: float32 in, float32 out for every cell;
numpy is its only dependency (it never imports the engine); docs/backward.md's line references.

Each module of manual/ has its own file: test_manual_rnn, _lstm, _gru, _output, _lm, _convert.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
from manual_helpers import gru_params, lstm_params, rnn_params

from tinygrad_seq.manual import (
    gru_backward,
    gru_forward,
    lstm_backward,
    lstm_forward,
    rnn_backward,
    rnn_forward,
)

ROOT = Path(__file__).resolve().parents[1]
MANUAL = ROOT / "tinygrad_seq" / "manual"


def test_float32_stays_float32():
    rng = np.random.default_rng(14)
    f32 = np.float32
    x, a0 = rng.standard_normal((2, 3, 4)).astype(f32), rng.standard_normal((3, 3)).astype(f32)
    R = np.ones((3, 3, 4), dtype=f32)
    p = {k: v.astype(f32) for k, v in rnn_params(rng, 2, 3).items()}
    a, _, caches = rnn_forward(x, a0, p)
    assert a.dtype == f32 and all(g.dtype == f32 for g in rnn_backward(R, caches).values())
    p = {k: v.astype(f32) for k, v in lstm_params(rng, 2, 3).items()}
    a, _, c, caches = lstm_forward(x, a0, p)
    assert a.dtype == c.dtype == f32
    assert all(g.dtype == f32 for g in lstm_backward(R, caches).values())
    for variant in ("course", "pytorch"):
        p = {k: v.astype(f32) for k, v in gru_params(rng, 2, 3, variant).items()}
        a, _, caches = gru_forward(x, a0, p, variant=variant)
        assert a.dtype == f32 and all(g.dtype == f32 for g in gru_backward(R, caches).values())


ALLOWED_TOP_LEVEL = {"numpy", "math", "__future__", "typing"}


def test_manual_imports_numpy_only():
    files = sorted(MANUAL.glob("*.py"))
    assert {f.name for f in files} >= {"__init__.py", "rnn.py", "lstm.py", "gru.py", "output.py"}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    top = alias.name.split(".")[0]
                    assert top in ALLOWED_TOP_LEVEL, f"{path.name} imports {alias.name}"
            elif isinstance(node, ast.ImportFrom):
                if node.level == 0:
                    module = node.module or ""
                    allowed = module.split(".")[0] in ALLOWED_TOP_LEVEL or (
                        module.startswith("tinygrad_seq.manual")
                    )
                    assert allowed, f"{path.name} imports from {module}"
                else:  # relative: only siblings inside manual/, never the parent package
                    assert node.level == 1, (
                        f"{path.name}: 'from {'.' * node.level}...' leaves manual/"
                    )


def test_manual_imports_no_engine_module_at_runtime():
    # A stand-in parent package, so tinygrad_seq/__init__.py (which may import the engine) does
    # not run and only what manual/ itself pulls in gets loaded.
    code = (
        "import sys, types\n"
        "pkg = types.ModuleType('tinygrad_seq')\n"
        f"pkg.__path__ = [{str(MANUAL.parent)!r}]\n"
        "sys.modules['tinygrad_seq'] = pkg\n"
        "import tinygrad_seq.manual\n"
        "print(sorted(m for m in sys.modules if m.startswith('tinygrad_seq')))\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    names_line, torch_line = out.stdout.strip().splitlines()
    names = ast.literal_eval(names_line)
    assert "tinygrad_seq.manual.rnn" in names
    for name in names:
        assert name == "tinygrad_seq" or name.startswith("tinygrad_seq.manual"), name
    assert torch_line == "False"


def test_docs_line_references_point_at_their_equations():
    doc = (ROOT / "docs" / "backward.md").read_text()
    refs = re.findall(r"`manual/(\w+\.py):(\d+)` \((\w+)\)", doc)
    assert len(refs) >= 40
    for filename, line, tag in refs:
        lines = (MANUAL / filename).read_text().splitlines()
        assert f"# eq. ({tag})" in lines[int(line) - 1], f"{filename}:{line} is not ({tag})"
    tags = {tag for _, _, tag in refs}
    for path in MANUAL.glob("*.py"):
        for tag in re.findall(r"# eq\. \((\w+)\)", path.read_text()):
            assert tag in tags, f"({tag}) in {path.name} is not referenced by docs/backward.md"
