"""Tests of tinygrad_seq.tasks.charlm: batches, evaluation, the unigram yardstick, checkpoints."""

import math

import numpy as np
import pytest

import tinygrad_seq as ts
from tinygrad_seq import io
from tinygrad_seq.data import Vocab
from tinygrad_seq.tasks import (
    IGNORE_INDEX,
    CharLM,
    evaluate_lm,
    lm_batch,
    load_lm,
    log_likelihood,
    save_lm,
    unigram_baseline,
)


def test_lm_batch_shifts_targets_and_pads_with_ignore_index():
    vocab = Vocab.build(["ab", "b"])
    x, lengths, y = lm_batch(["ab", "b"], vocab)
    a, b = vocab.index("a"), vocab.index("b")
    assert x.shape == y.shape == (3, 2) and lengths.tolist() == [3, 2]
    assert x[:, 0].tolist() == [vocab.bos_index, a, b]
    assert y[:, 0].tolist() == [a, b, vocab.eos_index]
    assert x[:, 1].tolist() == [vocab.bos_index, b, vocab.pad_index]
    assert y[:, 1].tolist() == [b, vocab.eos_index, IGNORE_INDEX]


def test_unigram_baseline_by_hand():
    vocab = Vocab.build(["aab"])
    # train symbols a, a, b, <eos>; add-one over the V - 2 = 4 predictable symbols (unk, eos, a, b)
    p = {"a": 3 / 8, "b": 2 / 8, "eos": 2 / 8}
    want = -(math.log(p["a"]) + math.log(p["b"]) + math.log(p["eos"])) / 3
    assert unigram_baseline(["aab"], ["ab"], vocab) == pytest.approx(want)
    with pytest.raises(ValueError, match="no symbols"):
        unigram_baseline(["aab"], [], vocab)


def test_evaluate_lm_matches_log_likelihood_of_each_text(tiny_lm):
    # padded batched evaluation == one sequence at a time: lengths= masks the padding exactly
    model, vocab = tiny_lm.model, tiny_lm.vocab
    texts = ["anna", "b", "abbab", "zz"]
    total = -sum(log_likelihood(model, vocab, t) for t in texts)
    n = sum(len(t) + 1 for t in texts)
    assert evaluate_lm(model, vocab, texts, batch_size=3) == pytest.approx(total / n, rel=1e-5)


def test_save_load_round_trip(tmp_path, tiny_lm):
    path = tmp_path / "lm.safetensors"
    save_lm(tiny_lm, path)
    model, vocab = load_lm(path)
    assert vocab == tiny_lm.vocab
    assert model.config == tiny_lm.model.config and not model.training
    x, lengths, _ = lm_batch(["anna", "ba"], vocab)
    want, _ = tiny_lm.model(ts.tensor(x), lengths=lengths)
    got, _ = model(ts.tensor(x), lengths=lengths)
    np.testing.assert_array_equal(got.data, want.data)
    assert io.load_metadata(path)["history"]["train_loss"] == tiny_lm.history["train_loss"]


def test_save_accepts_a_model_vocab_pair(tmp_path):
    vocab = Vocab.build(["xy"])
    save_lm((CharLM(len(vocab), 4, "gru", num_layers=2), vocab), tmp_path / "m")
    model, back = load_lm(tmp_path / "m")
    assert back == vocab and model.config["num_layers"] == 2
    with pytest.raises(TypeError, match="TrainResult or"):
        save_lm((vocab, vocab), tmp_path / "bad")


def test_load_lm_rejects_garbage_missing_and_foreign_files(tmp_path):
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"this is not a checkpoint at all")
    with pytest.raises(io.CheckpointError, match="not a safetensors file"):
        load_lm(garbage)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_lm(tmp_path / "missing.safetensors")
    other = tmp_path / "state.safetensors"
    io.save({"w": np.zeros(3)}, other)
    with pytest.raises(io.CheckpointError, match="not a character language model"):
        load_lm(other)
    io.save(
        {"w": np.zeros(3)},
        other,
        metadata={
            "kind": "tinygrad_seq.CharLM",
            "kind_version": 1,
            "vocab": "{",
            "model_config": {},
        },
    )
    with pytest.raises(io.CheckpointError, match="broken CharLM config or vocabulary"):
        load_lm(other)
