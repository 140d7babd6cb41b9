"""Tests of tinygrad_seq.tasks.demo: run_demo in-process, with a training budget of a fraction
of a second (test_cli.py runs the same tour as the `tinygrad-seq demo` command)."""

from __future__ import annotations

import re

import pytest

from tinygrad_seq.data import load_names
from tinygrad_seq.tasks import evaluate_lm, load_lm
from tinygrad_seq.tasks.demo import run_demo


def test_run_demo_writes_what_it_reports(tmp_path, capsys):
    out_dir = tmp_path / "out"
    written = run_demo(out_dir, seconds=0.3, progress=False)
    report = capsys.readouterr().out
    names = [path.name for path, _ in written]
    assert names[:3] == ["names_lm.safetensors", "samples.txt", "loss.png"]
    assert names[3].startswith("graph.") and names[4] == "grad_flow.png"
    assert names[5] == "graph.html" and b"window.__explorer" in written[5][0].read_bytes()
    assert all(path.parent == out_dir and path.stat().st_size > 0 for path, _ in written)
    for path, _ in written:
        if path.suffix == ".png":
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the checkpoint is the best epoch's model: its validation loss is the one reported
    model, vocab = load_lm(out_dir / "names_lm.safetensors")
    val = [r.name for r in load_names("val", seed=0)]
    reported = float(re.search(r"validation loss ([\d.]+) nats/symbol", report)[1])
    assert evaluate_lm(model, vocab, val) == pytest.approx(reported, abs=5e-4)  # 3 decimals
    # the samples file holds the printed names, and the novelty count is right
    samples = (out_dir / "samples.txt").read_text(encoding="utf-8").splitlines()
    assert len(samples) == 20 and "sampled names: " + ", ".join(samples) in report
    train = {r.name for r in load_names("train", seed=0)}
    novel = sum(s not in train for s in samples)
    assert f"{novel} of 20 are not in the training set" in report
    assert (out_dir / "samples.txt", f"20 sampled names, {novel} novel") in written
