"""The character Transformer LM: causal, padding-blind, checkpointed, sampled, PyTorch's numbers."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import require_torch

import tinygrad_seq as ts
from tinygrad_seq.data import Vocab
from tinygrad_seq.tasks import (
    CharLM,
    evaluate_lm,
    lm_batch,
    load_lm,
    log_likelihood,
    sample,
    save_lm,
)
from tinygrad_seq.tasks.charlm import IGNORE_INDEX, batch_loss

ROOT = str(Path(__file__).resolve().parents[1])  # this tree's package, not an installed one
TEXTS = ["anna", "bob", "carla", "dan", "eve", "mona", "lisa", "ada"]


def _model(max_len: int = 8, dtype=None, seed: int = 0) -> tuple[CharLM, Vocab]:
    ts.manual_seed(seed)
    vocab = Vocab.build(TEXTS)
    model = CharLM(len(vocab), 8, "transformer", num_layers=2, nhead=2, max_len=max_len)
    if dtype is not None:
        model.to(dtype)
    return model, vocab


@ts.no_grad()
def test_a_position_sees_only_the_past():
    model, vocab = _model()
    model.eval()
    ids = np.array(vocab.encode("carla", add_bos=True))[:, None]
    full, _ = model(ids)
    changed = ids.copy()
    changed[4] = vocab.encode("z")[0]  # change position 4: positions 0..3 must not notice
    other, _ = model(changed)
    np.testing.assert_array_equal(full.numpy()[:4], other.numpy()[:4])
    assert not np.allclose(full.numpy()[4:], other.numpy()[4:])


@ts.no_grad()
def test_continuing_with_the_context_equals_one_run():
    model, vocab = _model(max_len=8)
    model.eval()
    ids = np.array(vocab.encode("carla", add_bos=True))[:, None]
    full, _ = model(ids)
    logits, hx = model(ids[:2])
    steps = [logits.numpy()]
    for t in range(2, len(ids)):
        logits, hx = model(ids[t : t + 1], hx)
        steps.append(logits.numpy())
    np.testing.assert_allclose(np.concatenate(steps), full.numpy(), rtol=1e-5, atol=1e-6)
    assert hx.shape[0] == len(ids)


@ts.no_grad()
def test_the_context_slides_past_max_len():
    model, vocab = _model(max_len=4)
    model.eval()
    ids = np.array(vocab.encode("carlaa", add_bos=True))[:, None]  # 7 positions > max_len
    _, hx = model(ids[:4])
    for t in range(4, len(ids)):
        logits, hx = model(ids[t : t + 1], hx)
        assert hx.shape[0] == 4
    window, _ = model(ids[-4:])  # the last step saw exactly the last 4 inputs
    np.testing.assert_allclose(logits.numpy(), window.numpy()[-1:], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="max_len=4"):
        model(ids)
    text = sample(model, vocab, max_len=12, seed=0)  # sampling past max_len works
    assert isinstance(text, str)


@ts.no_grad()
def test_padding_does_not_change_a_sequence():
    model, vocab = _model()
    model.eval()
    x, lengths, _ = lm_batch(["ada", "carla"], vocab)  # "ada" is padded to carla's length
    batch, _ = model(ts.tensor(x), lengths=lengths)
    alone, _ = model(ts.tensor(x[: lengths[0], :1]))
    np.testing.assert_allclose(
        batch.numpy()[: lengths[0], 0], alone.numpy()[:, 0], rtol=1e-5, atol=1e-6
    )


def test_evaluate_equals_the_sum_of_log_likelihoods():
    model, vocab = _model()
    texts = ["anna", "bob", "carla"]
    symbols = sum(len(t) + 1 for t in texts)
    want = -sum(log_likelihood(model, vocab, t) for t in texts) / symbols
    assert evaluate_lm(model, vocab, texts, batch_size=2) == pytest.approx(want, rel=1e-5)


@ts.no_grad()
def test_checkpoint_round_trip(tmp_path):
    model, vocab = _model(max_len=9)
    path = tmp_path / "t.safetensors"
    save_lm((model, vocab), path)
    loaded, vocab2 = load_lm(path)
    assert loaded.config == model.config
    assert loaded.config["cell"] == "transformer" and loaded.config["max_len"] == 9
    assert vocab2.to_json() == vocab.to_json()
    ids = np.array(vocab.encode("mona", add_bos=True))[:, None]
    model.eval()
    np.testing.assert_array_equal(loaded(ids)[0].numpy(), model(ids)[0].numpy())
    assert sample(loaded, vocab2, seed=3) == sample(model, vocab, seed=3)


def test_bad_sizes_are_clear_errors():
    with pytest.raises(ValueError, match="divisible"):
        CharLM(10, 6, "transformer", nhead=4)
    with pytest.raises(ValueError, match="embedding_dim"):
        CharLM(10, 8, "transformer", embedding_dim=4)
    with pytest.raises(ValueError, match="transformer"):
        CharLM(10, 8, "attention")


def _torch_lm(torch, model: CharLM):
    """The same model written with torch.nn, PyTorch's own layers, and model's weights."""
    nn = torch.nn
    cfg = model.config
    d = cfg["hidden_size"]

    class Body(nn.Module):
        def __init__(self):
            super().__init__()
            self.pos = nn.Embedding(cfg["max_len"], d)
            layer = nn.TransformerEncoderLayer(
                d, cfg["nhead"], cfg["dim_feedforward"], 0.0, norm_first=True
            )
            self.encoder = nn.TransformerEncoder(
                layer, cfg["num_layers"], norm=nn.LayerNorm(d), enable_nested_tensor=False
            )

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(cfg["vocab_size"], d)
            self.transformer = Body()
            self.head = nn.Linear(d, cfg["vocab_size"])

        def forward(self, x, lengths):
            L = x.shape[0]
            z = self.embedding(x) + self.transformer.pos(torch.arange(L))[:, None, :]
            causal = nn.Transformer.generate_square_subsequent_mask(L, dtype=torch.float64)
            pad = torch.arange(L)[None, :] >= torch.as_tensor(lengths)[:, None]
            pad = torch.zeros(pad.shape, dtype=torch.float64).masked_fill(pad, float("-inf"))
            return self.head(self.transformer.encoder(z, mask=causal, src_key_padding_mask=pad))

    lm = LM().double()
    lm.load_state_dict({k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()})
    return lm


@pytest.mark.parity
def test_loss_and_gradients_equal_pytorch_in_float64():
    torch = require_torch()
    model, vocab = _model(dtype=ts.float64)
    texts = ["carla", "ada", "mona", "bob"]
    loss, _ = batch_loss(model, vocab, texts)
    loss.backward()
    theirs = _torch_lm(torch, model)
    x, lengths, y = lm_batch(texts, vocab)
    logits = theirs(torch.tensor(x), lengths)
    t_loss = torch.nn.functional.cross_entropy(
        logits.reshape(-1, len(vocab)), torch.tensor(y.reshape(-1)), ignore_index=IGNORE_INDEX
    )
    t_loss.backward()
    assert loss.item() == pytest.approx(t_loss.item(), rel=1e-12)
    grads = dict(theirs.named_parameters())
    for name, p in model.named_parameters():
        np.testing.assert_allclose(
            p.grad.numpy(), grads[name].grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name
        )


def _cli(*args: str, cwd) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "tinygrad_seq", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={"MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin:/usr/local/bin", "PYTHONPATH": ROOT},
    )
    assert proc.returncode == 0, proc.stderr
    return proc


def test_cli_trains_a_tiny_transformer_and_samples(tmp_path):
    small = ["--hidden", "16", "--heads", "2", "--layers", "1", "--ff", "32", "--dropout", "0.1"]
    small.append("--quiet")
    proc = _cli(
        "train", "--cell", "transformer", "--epochs", "1", *small, "-o", "t.st", cwd=tmp_path
    )
    assert "unigram baseline" in proc.stdout
    model, _ = load_lm(tmp_path / "t.st")
    assert model.config["nhead"] == 2 and model.config["dim_feedforward"] == 32
    assert model.config["num_layers"] == 1 and len(model.transformer.encoder.layers) == 1
    assert model.config["dropout"] == 0.1 and not model.training  # loaded for inference
    val, base = (float(v) for v in re.findall(r"\d+\.\d+", proc.stdout)[:2])
    assert val < base  # one epoch already beats the unigram model
    out = _cli("sample", "t.st", "-n", "5", "--seed", "2", cwd=tmp_path).stdout.splitlines()
    again = _cli("sample", "t.st", "-n", "5", "--seed", "2", cwd=tmp_path).stdout.splitlines()
    assert out == again and len(out) == 5 and len(set(out)) > 1
