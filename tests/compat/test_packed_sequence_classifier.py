"""packed_sequence_classifier.py under tinygrad_seq and PyTorch: the same losses, step by step.

Both frameworks run in float64 from PyTorch's weights over the same batches in the same order
(a shuffled DataLoader's order comes from each framework's own generator, which the two cannot
share, so the parity runs use shuffle=False and a separate test checks that our shuffled loader
yields every example once). Compared: the gradient of every parameter after the first step,
the losses of 30+ Adam steps, the padded outputs, lengths and final states of the packed
bidirectional LSTM and GRU, the test loss, accuracy and predictions.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from harness import assert_agree, load_pair, same_start, to_numpy
from helpers import require_torch

from tinygrad_seq.tasks.train import limit_blas_threads

pytestmark = pytest.mark.parity

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = Path(__file__).resolve().parent / "packed_sequence_classifier.py"
TRAIN_SIZE, BATCH, EPOCHS = 256, 16, 2  # 16 batches an epoch: 32 steps


@pytest.fixture
def pair():
    """(ours, theirs) program modules with float64 as both frameworks' default dtype."""
    torch = require_torch()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    ours, theirs = load_pair("packed_sequence_classifier")
    ours.torch.set_default_dtype(ours.torch.float64)
    torch.set_default_dtype(torch.float64)
    try:
        with limit_blas_threads(1):
            yield ours, theirs
    finally:
        torch.set_default_dtype(torch.float32)
        torch.set_num_threads(threads)


def models(pair, rnn):
    """(our model, PyTorch's model), PyTorch's built first from seed 0, ours given its weights."""
    ours, theirs = pair
    theirs.torch.manual_seed(0)
    their_model = theirs.build_model(rnn)
    our_model = ours.build_model(rnn)
    same_start(our_model, their_model, ours.torch)
    return our_model, their_model


def grads(model):
    """Every parameter's gradient by name, as numpy."""
    return {name: to_numpy(p.grad) for name, p in model.named_parameters()}


def encode_batch(program, model, batch):
    """A batch through the packed RNN -> (packed fields, padded outputs, lengths, final)."""
    text, lengths, _ = batch
    embedded = model.embedding(text)
    packed = program.pack_padded_sequence(embedded, lengths, batch_first=True, enforce_sorted=False)
    with program.torch.no_grad():
        output, output_lengths, final = model.encode(packed)
    fields = [packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices]
    return [to_numpy(f) for f in fields], to_numpy(output), to_numpy(output_lengths), final


def train_and_record(program, model, examples, test_examples):
    """Adam over the fixed batch order -> what the parity test compares."""
    batches = list(program.make_loader(examples, batch_size=BATCH))
    optimizer = program.optim.Adam(model.parameters(), lr=1e-2)
    losses = program.train(model, batches[:1], optimizer)
    first_grads = grads(model)  # train() leaves the first step's gradients in .grad
    losses += program.train(model, batches[1:], optimizer)
    losses += program.train(model, batches, optimizer, epochs=EPOCHS - 1)
    test_loss, accuracy = program.evaluate(model, program.make_loader(test_examples))
    packed_fields, output, lengths, final = encode_batch(program, model, batches[0])
    return dict(
        first_grads=first_grads,
        losses=losses,
        test_loss=test_loss,
        accuracy=accuracy,
        packed_fields=packed_fields,
        output=output,
        lengths=lengths,
        final=to_numpy(final),
    )


@pytest.mark.parametrize("rnn", ["lstm", "gru"])
def test_training_agrees_with_pytorch(pair, rnn):
    ours, theirs = pair
    examples = ours.make_examples(TRAIN_SIZE, seed=0)
    assert examples == theirs.make_examples(TRAIN_SIZE, seed=0)
    assert 0.2 < np.mean([label for _, label in examples]) < 0.8, "both classes occur"
    test_examples = ours.make_examples(64, seed=1)
    our_model, their_model = models(pair, rnn)
    a = train_and_record(ours, our_model, examples, test_examples)
    b = train_and_record(theirs, their_model, examples, test_examples)

    assert a["first_grads"].keys() == b["first_grads"].keys()
    for name, g in b["first_grads"].items():
        np.testing.assert_allclose(a["first_grads"][name], g, rtol=1e-6, atol=1e-12, err_msg=name)
    assert not a["first_grads"]["embedding.weight"][0].any(), "padding_idx row gets no gradient"
    assert len(b["losses"]) >= 30
    assert_agree(a["losses"], b["losses"], rtol=1e-6)
    assert b["losses"][-1] < b["losses"][0] / 2, "training did not reduce the loss"
    assert_agree([a["test_loss"]], [b["test_loss"]], rtol=1e-6, what="test loss")
    assert a["accuracy"] == b["accuracy"] > 0.6
    for mine, theirs_field in zip(a["packed_fields"], b["packed_fields"]):
        np.testing.assert_array_equal(mine, theirs_field)  # batch_sizes, sorted, unsorted
    np.testing.assert_allclose(a["output"], b["output"], rtol=1e-6, atol=1e-12)
    assert a["lengths"].dtype == b["lengths"].dtype == np.int64
    np.testing.assert_array_equal(a["lengths"], b["lengths"])
    np.testing.assert_allclose(a["final"], b["final"], rtol=1e-6, atol=1e-12)


def test_padded_outputs_are_zero_past_each_length(pair):
    ours, _ = pair
    our_model, _ = models(pair, "lstm")
    batch = next(iter(ours.make_loader(ours.make_examples(BATCH, seed=3), batch_size=BATCH)))
    _, output, lengths, _ = encode_batch(ours, our_model, batch)
    assert output.shape[:2] == (BATCH, lengths.max())
    for row, n in zip(output, lengths):
        assert not row[n:].any() and np.abs(row[:n]).min(axis=1).all()


@pytest.mark.parametrize("rnn", ["lstm", "gru"])
def test_pack_sequence_prediction_agrees(pair, rnn):
    sentences = ["good film and great music", "the plot was dull and sad", "bad", "fine awful"]
    results = []
    for program, model in zip(pair, models(pair, rnn)):
        seqs = [program.torch.tensor([program.STOI[w] for w in s.split()]) for s in sentences]
        packed = program.pack_sequence(seqs, enforce_sorted=False)
        text = program.pad_sequence(seqs, batch_first=True)
        lengths = program.torch.tensor([len(s) for s in seqs])
        with program.torch.no_grad():
            packed_logits = to_numpy(model.forward_packed(packed))
            padded_logits = to_numpy(model(text, lengths))
        np.testing.assert_allclose(packed_logits, padded_logits, rtol=1e-12, atol=1e-14)
        labels = program.predict(model, sentences)
        assert labels == packed_logits.argmax(axis=1).tolist()
        results.append((to_numpy(packed.batch_sizes), packed_logits, labels))
    lengths = [len(s.split()) for s in sentences]
    expected = [sum(n > t for n in lengths) for t in range(max(lengths))]
    np.testing.assert_array_equal(results[0][0], expected)  # sequences still running at t
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-10, atol=1e-12)
    assert results[0][2] == results[1][2]


def test_shuffled_loader_yields_each_example_once(pair):
    ours, _ = pair
    examples = ours.make_examples(50, seed=2)
    orders = []
    for seed in (0, 0, 1):
        generator = ours.torch.Generator().manual_seed(seed)
        loader = ours.make_loader(examples, batch_size=8, shuffle=True, generator=generator)
        seen = []
        for text, lengths, labels in loader:
            for row, n, label in zip(text.tolist(), lengths.tolist(), labels.tolist()):
                assert not any(row[n:]), "padding is 0"
                seen.append((tuple(row[:n]), label))
        assert sorted(seen) == sorted((tuple(ids), label) for ids, label in examples)
        orders.append(seen)
    assert orders[0] == orders[1], "the same generator seed gives the same order"
    assert orders[0] != orders[2] and orders[0] != [(tuple(i), y) for i, y in examples]


def test_runs_as_a_script():
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1")
    args = ["--rnn", "gru", "--epochs", "2", "--train-size", "96"]
    done = subprocess.run(
        [sys.executable, str(PROGRAM), *args], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("epoch")]
    assert len(lines) == 2
    losses = [float(line.split("train loss ")[1].split()[0]) for line in lines]
    assert np.all(np.isfinite(losses))
    predictions = [line for line in done.stdout.splitlines() if line[:2] in ("0 ", "1 ")]
    assert len(predictions) == 4 and all(
        "positive: " in p or "negative: " in p for p in predictions
    )
