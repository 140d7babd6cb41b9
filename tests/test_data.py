"""Tests of the tinygrad_seq.data package as a whole: its place in the layers."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from tinygrad_seq.data import datasets as datasets_mod


def test_data_package_imports_no_engine():
    """Layering: data/ imports only the standard library, numpy and tinygrad_seq.random."""
    pkg = Path(datasets_mod.__file__).parent
    allowed = set(sys.stdlib_module_names) | {"numpy", "__future__"}
    for path in pkg.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                roots = [a.name.split(".")[0] for a in node.names]
                assert all(r in allowed for r in roots), (path.name, roots)
            elif isinstance(node, ast.ImportFrom):
                if node.level == 0:
                    assert node.module.split(".")[0] in allowed, (path.name, node.module)
                elif node.level == 2:  # from .. import: only the random module
                    assert node.module == "random", (path.name, node.module)
                else:
                    assert node.level == 1, (path.name, node.module)
