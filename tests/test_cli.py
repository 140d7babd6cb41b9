"""The tinygrad-seq command, run as a user runs it: a subprocess per command, errors included."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygrad_seq as ts


def run(*args: str, cwd: Path, ok: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "tinygrad_seq", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={"MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin:/usr/local/bin"},
    )
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


def one_line_error(proc: subprocess.CompletedProcess, *words: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    for w in words:
        assert w in last, last


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("cli")
    run(
        "train",
        "--epochs",
        "1",
        "--hidden",
        "16",
        "--quiet",
        "--seed",
        "3",
        "-o",
        "lm.safetensors",
        cwd=d,
    )
    return d / "lm.safetensors"


def test_train_writes_a_checkpoint_and_reports_the_baseline(checkpoint):
    assert checkpoint.exists() and checkpoint.stat().st_size > 1000


def test_train_from_a_text_file(tmp_path):
    (tmp_path / "words.txt").write_text("abc\nabd\nbcd\ncab\n\n", encoding="utf-8")
    proc = run(
        "train",
        "--data",
        "words.txt",
        "--epochs",
        "2",
        "--hidden",
        "8",
        "--quiet",
        "-o",
        "w.safetensors",
        cwd=tmp_path,
    )
    assert "unigram baseline" in proc.stdout and (tmp_path / "w.safetensors").exists()


def test_sample_is_reproducible_with_a_seed(checkpoint):
    a = run("sample", str(checkpoint), "-n", "4", "--seed", "5", cwd=checkpoint.parent).stdout
    b = run("sample", str(checkpoint), "-n", "4", "--seed", "5", cwd=checkpoint.parent).stdout
    assert a == b and len(a.strip().splitlines()) == 4
    greedy = run(
        "sample", str(checkpoint), "-n", "2", "--temperature", "0", cwd=checkpoint.parent
    ).stdout.splitlines()
    assert greedy[0] == greedy[1]


def test_score_ranks_by_log_likelihood(checkpoint):
    out = run("score", str(checkpoint), "zqxj", "anna", cwd=checkpoint.parent).stdout
    rows = [line.split() for line in out.strip().splitlines()[1:]]
    assert [r[1] for r in rows] == ["anna", "zqxj"]
    assert float(rows[0][2]) > float(rows[1][2])


def test_graph_writes_a_picture(tmp_path):
    run("graph", "--cell", "gru", "--steps", "3", "--collapse", "cell", "-o", "g.dot", cwd=tmp_path)
    text = (tmp_path / "g.dot").read_text()
    assert "digraph" in text and "t=2" in text


def test_gradcheck_reports_agreement(tmp_path):
    out = run("gradcheck", "--cell", "lstm", "--steps", "3", cwd=tmp_path).stdout
    assert "all gradients agree" in out and "Wf" in out


def test_demo_writes_everything(tmp_path):
    proc = run("demo", "--seconds", "2", "--quiet", "--out", "out", cwd=tmp_path)
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"names_lm.safetensors", "samples.txt", "loss.png", "grad_flow.png"} <= names
    assert any(n.startswith("graph.") for n in names)
    assert "wrote" in proc.stdout and "unigram baseline" in proc.stdout
    model, vocab = __import__("tinygrad_seq.tasks", fromlist=["load_lm"]).load_lm(
        tmp_path / "out" / "names_lm.safetensors"
    )
    assert len(vocab) == model.head.out_features


def test_errors_are_one_line(tmp_path):
    one_line_error(run("sample", "missing.safetensors", cwd=tmp_path, ok=False), "does not exist")
    (tmp_path / "bad.safetensors").write_bytes(b"garbage!garbage!")
    one_line_error(run("score", "bad.safetensors", "x", cwd=tmp_path, ok=False), "bad.safetensors")
    ts.save({"weight": np.zeros((2, 2), dtype=np.float32)}, tmp_path / "other.safetensors")
    one_line_error(
        run("sample", "other.safetensors", cwd=tmp_path, ok=False),
        "not a character language model checkpoint",
    )
    one_line_error(run("train", "--data", "nope.txt", cwd=tmp_path, ok=False), "no such file")
    bad_value = run("graph", "--cell", "transformer", cwd=tmp_path, ok=False)
    assert bad_value.returncode == 2 and "invalid choice" in bad_value.stderr
    assert "Traceback" not in bad_value.stderr
    bad_number = run("sample", "x", "-n", "0", cwd=tmp_path, ok=False)
    assert bad_number.returncode == 2 and "positive integer" in bad_number.stderr
    assert not list(tmp_path.glob("*.tmp*"))  # nothing written half-way
