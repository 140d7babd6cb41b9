"""Tests of tinygrad_seq.tasks.graph: `tinygrad-seq graph`, a small unrolled network drawn."""

from __future__ import annotations

import shutil

import pytest

import tinygrad_seq as ts


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_graph_command(tmp_path, cell):
    path = ts.tasks.graph_command(
        cell, steps=3, collapse="cell", output=tmp_path / "g.svg", show_grads=True
    )
    assert path.exists()
    if shutil.which("dot"):
        assert path.suffix == ".svg" and b"cell l0 t=2" in path.read_bytes()
    with pytest.raises(ValueError, match="cell must be one of"):
        ts.tasks.graph_command("transformer")
