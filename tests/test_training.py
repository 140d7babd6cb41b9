"""Tests of tinygrad_seq.tasks: batches, baseline, the training loop, sampling, checkpoints."""

import math

import numpy as np
import pytest

import tinygrad_seq as ts
from tinygrad_seq import io
from tinygrad_seq.data import Vocab, names_dataset
from tinygrad_seq.tasks import (
    IGNORE_INDEX,
    CharLM,
    TrainResult,
    evaluate_lm,
    lm_batch,
    load_lm,
    log_likelihood,
    sample,
    save_lm,
    train_char_lm,
    unigram_baseline,
)

TEXTS = ["anna", "bob", "abba", "ann", "nab", "ba"]


@pytest.fixture(scope="module")
def tiny_result():
    """A small LSTM LM trained for 2 epochs on a few words (well under a second)."""
    return train_char_lm(TEXTS * 4, hidden_size=8, epochs=2, batch_size=4, progress=False)


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


def test_evaluate_lm_matches_log_likelihood_of_each_text(tiny_result):
    # padded batched evaluation == one sequence at a time: lengths= masks the padding exactly
    model, vocab = tiny_result.model, tiny_result.vocab
    texts = ["anna", "b", "abbab", "zz"]
    total = -sum(log_likelihood(model, vocab, t) for t in texts)
    n = sum(len(t) + 1 for t in texts)
    assert evaluate_lm(model, vocab, texts, batch_size=3) == pytest.approx(total / n, rel=1e-5)


def test_history_and_determinism(tiny_result):
    h = tiny_result.history
    assert set(h) == {"train_loss", "val_loss", "grad_norm", "seconds"}
    assert len(h["train_loss"]) == len(h["grad_norm"]) == len(h["seconds"]) == 2
    assert h["val_loss"] == []
    again = train_char_lm(TEXTS * 4, hidden_size=8, epochs=2, batch_size=4, progress=False)
    assert again.history["train_loss"] == h["train_loss"]
    assert isinstance(tiny_result, TrainResult) and not tiny_result.model.training


def test_callback_stops_and_time_limit_stops():
    seen = []
    r = train_char_lm(
        TEXTS,
        cell="gru",
        hidden_size=4,
        epochs=5,
        progress=False,
        val_texts=["ab"],
        callback=lambda e, res: seen.append(e) or e == 1,
    )
    assert seen == [0, 1] and len(r.history["val_loss"]) == 2
    r = train_char_lm(
        TEXTS * 20,
        cell="rnn",
        hidden_size=4,
        epochs=50,
        batch_size=2,
        progress=False,
        time_limit=0.0,
    )
    assert len(r.history["train_loss"]) == 1


def test_clip_value_and_no_clipping_run():
    for kw in ({"clip": None, "clip_value": 0.01}, {"clip": None}):
        r = train_char_lm(TEXTS, cell="rnn", hidden_size=4, epochs=1, progress=False, **kw)
        assert np.isfinite(r.history["train_loss"][0])


def test_empty_texts_rejected():
    with pytest.raises(ValueError, match="no training texts"):
        train_char_lm([], progress=False)


def test_names_lm_beats_unigram_baseline():
    # about a second on 2 cores: full names, 2 epochs of a small LSTM
    train, val = names_dataset(seed=0)
    vocab = Vocab.build(train)
    baseline = unigram_baseline(train, val, vocab)
    r = train_char_lm(
        train,
        vocab,
        hidden_size=32,
        epochs=2,
        batch_size=64,
        lr=1e-2,
        val_texts=val,
        progress=False,
    )
    assert r.history["val_loss"][-1] < baseline - 0.4, (r.history, baseline)
    assert r.history["val_loss"][-1] < r.history["val_loss"][0] + 1e-9


def test_sampling_is_reproducible_with_a_seed(tiny_result):
    model, vocab = tiny_result.model, tiny_result.vocab
    first = [sample(model, vocab, max_len=10, seed=s) for s in range(6)]
    assert first == [sample(model, vocab, max_len=10, seed=s) for s in range(6)]
    assert len(set(first)) > 1


def test_save_load_round_trip(tmp_path, tiny_result):
    path = tmp_path / "lm.safetensors"
    save_lm(tiny_result, path)
    model, vocab = load_lm(path)
    assert vocab == tiny_result.vocab
    assert model.config == tiny_result.model.config and not model.training
    x, lengths, _ = lm_batch(["anna", "ba"], vocab)
    want, _ = tiny_result.model(ts.Tensor(x), lengths=lengths)
    got, _ = model(ts.Tensor(x), lengths=lengths)
    np.testing.assert_array_equal(got.data, want.data)
    assert io.load_metadata(path)["history"]["train_loss"] == tiny_result.history["train_loss"]


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
