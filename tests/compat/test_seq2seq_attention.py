"""seq2seq_attention.py under tinygrad_seq and under PyTorch: the same losses, gradients, decodings.

Both versions of the translation tutorial run from the same weights in float64 with dropout 0,
the same teacher-forcing choices (a fixed list with both values, instead of random.random()),
the same pairs (Python's random, seeded alike) and the same batches (a fixed order instead of
the RandomSampler, whose shuffling is checked on its own).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from harness import assert_agree, load_pair, same_start, to_numpy

pytestmark = [pytest.mark.parity, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
HIDDEN = 16
SENTENCES = ["i see two red cats .", "she wants five very old books .", "we like three big dogs ."]


@pytest.fixture
def pair():
    """(ours, theirs) with both frameworks' default dtype float64; PyTorch's restored after."""
    ours, theirs = load_pair("seq2seq_attention")
    ours.torch.set_default_dtype(ours.torch.float64)
    theirs.torch.set_default_dtype(theirs.torch.float64)
    threads = theirs.torch.get_num_threads()
    theirs.torch.set_num_threads(1)  # tiny ops: threads only wait for each other on 2 cores
    try:
        yield ours, theirs
    finally:
        theirs.torch.set_default_dtype(theirs.torch.float32)
        theirs.torch.set_num_threads(threads)


def _models(program, langs, which, seed=0):
    """The encoder and decoder of the older ("old") or newer ("new") version, dropout 0."""
    input_lang, output_lang = langs
    program.torch.manual_seed(seed)
    if which == "old":
        encoder = program.EncoderRNN(input_lang.n_words, HIDDEN)
        decoder = program.AttnDecoderRNN(HIDDEN, output_lang.n_words, dropout_p=0.0)
    else:
        encoder = program.BatchEncoderRNN(input_lang.n_words, HIDDEN, dropout_p=0.0)
        decoder = program.BahdanauDecoderRNN(HIDDEN, output_lang.n_words, dropout_p=0.0)
    return encoder.to(program.device), decoder.to(program.device)


def _setup(ours, theirs, which):
    """Each program's data and models, ours holding PyTorch's start weights."""
    built = {}
    for program in (theirs, ours):  # PyTorch's models first: ours copy their weights
        input_lang, output_lang, pairs = program.prepareData("eng", "toy", n_pairs=300)
        encoder, decoder = _models(program, (input_lang, output_lang), which)
        built[program] = (input_lang, output_lang, pairs, encoder, decoder)
    for index in (3, 4):
        same_start(built[ours][index], built[theirs][index], ours.torch)
    return built[ours], built[theirs]


def _assert_same_grads(ours_models, theirs_models):
    for ours_model, theirs_model in zip(ours_models, theirs_models):
        theirs_grads = dict(theirs_model.named_parameters())
        ours_grads = dict(ours_model.named_parameters())
        assert sorted(ours_grads) == sorted(theirs_grads)
        for name, p in theirs_grads.items():
            assert p.grad is not None and ours_grads[name].grad is not None, name
            np.testing.assert_allclose(
                to_numpy(ours_grads[name].grad),
                to_numpy(p.grad),
                rtol=1e-6,
                atol=1e-10,
                err_msg=name,
            )


def _assert_same_decodings(results_ours, results_theirs):
    for (words_o, attn_o), (words_t, attn_t) in zip(results_ours, results_theirs):
        assert words_o == words_t
        assert tuple(attn_o.shape) == tuple(attn_t.shape)
        np.testing.assert_allclose(to_numpy(attn_o), to_numpy(attn_t), rtol=1e-6, atol=1e-10)


def test_corpus_lang_and_tensors(pair):
    ours, _ = pair
    input_lang, output_lang, pairs = ours.prepareData("eng", "toy", n_pairs=300)
    assert ours.make_corpus(300) == ours.make_corpus(300)  # deterministic
    assert 200 < len(pairs) < 300  # filterPairs dropped the long ones and "they ..."
    assert all(len(s.split(" ")) < ours.MAX_LENGTH for p in pairs for s in p)
    assert input_lang.index2word[ours.SOS_token] == "SOS"
    assert output_lang.index2word[ours.EOS_token] == "EOS"
    words = pairs[0][0].split(" ")
    t = ours.tensorFromSentence(input_lang, pairs[0][0])
    assert tuple(t.shape) == (len(words) + 1, 1) and t.dtype == ours.torch.long
    assert [input_lang.index2word[i] for i in t.view(-1).tolist()] == words + ["EOS"]


def _record_free_running_steps(program, decoder):
    """A list that gets (decoder calls, target length) of every free-running train() step."""
    record, calls = [], []
    decoder_forward, train = decoder.forward, program.train

    def counting_forward(*args, **kwargs):
        calls.append(1)
        return decoder_forward(*args, **kwargs)

    def recording_train(input_tensor, target_tensor, *args, **kwargs):
        before = len(calls)
        loss = train(input_tensor, target_tensor, *args, **kwargs)
        if not kwargs["use_teacher_forcing"]:
            record.append((len(calls) - before, target_tensor.size(0)))
        return loss

    decoder.forward = counting_forward  # an instance attribute: Module.__call__ finds it
    program.train = recording_train  # trainIters looks train up in the program at each call
    return record


def test_older_version_losses_grads_and_decodings_match_pytorch(pair):
    ours, theirs = pair
    o, t = _setup(ours, theirs, "old")
    forcing = [step % 3 != 0 for step in range(30)]  # both modes, free-running every third
    losses, free_running = {}, {}
    for program, (input_lang, output_lang, pairs, encoder, decoder) in ((ours, o), (theirs, t)):
        random.seed(7)  # the same pairs from random.choice
        first = program.trainIters(
            encoder, decoder, pairs, input_lang, output_lang, 1, teacher_forcing=[False]
        )
        losses[program] = first
    _assert_same_grads(o[3:], t[3:])  # the first step: a free-running decode

    for program, (input_lang, output_lang, pairs, encoder, decoder) in ((ours, o), (theirs, t)):
        free_running[program] = _record_free_running_steps(program, decoder)
        random.seed(8)
        losses[program] += program.trainIters(
            encoder, decoder, pairs, input_lang, output_lang, 30, 0, 0.03, teacher_forcing=forcing
        )
    assert_agree(losses[ours], losses[theirs], rtol=1e-6)
    _assert_same_grads(o[3:], t[3:])
    # the same decodes, some stopped early at a predicted EOS, some ran the whole target
    assert free_running[ours] == free_running[theirs]
    assert any(steps < length for steps, length in free_running[ours])
    assert any(steps == length for steps, length in free_running[ours])

    decoded = {}
    for program, (input_lang, output_lang, _, encoder, decoder) in ((ours, o), (theirs, t)):
        encoder.eval()
        decoder.eval()
        decoded[program] = [
            program.evaluate(encoder, decoder, input_lang, output_lang, s) for s in SENTENCES
        ]
    _assert_same_decodings(decoded[ours], decoded[theirs])
    words, attentions = decoded[ours][0]
    assert tuple(attentions.shape) == (len(words), ours.MAX_LENGTH)
    np.testing.assert_allclose(to_numpy(attentions).sum(axis=1), 1.0)


def test_newer_version_losses_grads_and_decodings_match_pytorch(pair):
    ours, theirs = pair
    o, t = _setup(ours, theirs, "new")
    order = np.random.default_rng(0).permutation(len(o[2])).tolist()  # for both: a fixed order
    losses = {}
    for program, (input_lang, output_lang, pairs, encoder, decoder) in ((ours, o), (theirs, t)):
        first_batch = program.get_dataloader(input_lang, output_lang, pairs, 16, order[:16])
        losses[program] = program.train_batched(first_batch, encoder, decoder, 1)
    _assert_same_grads(o[3:], t[3:])

    for program, (input_lang, output_lang, pairs, encoder, decoder) in ((ours, o), (theirs, t)):
        loader = program.get_dataloader(input_lang, output_lang, pairs, 32, sampler=order)
        assert len(loader) == -(-len(pairs) // 32)
        losses[program] += program.train_batched(loader, encoder, decoder, 3, learning_rate=0.01)
    assert len(losses[ours]) > 20
    assert_agree(losses[ours], losses[theirs], rtol=1e-6)
    _assert_same_grads(o[3:], t[3:])

    decoded = {}
    for program, (input_lang, output_lang, _, encoder, decoder) in ((ours, o), (theirs, t)):
        encoder.eval()
        decoder.eval()
        decoded[program] = [
            program.evaluate_batched(encoder, decoder, s, input_lang, output_lang)
            for s in SENTENCES
        ]
    _assert_same_decodings(decoded[ours], decoded[theirs])
    words, attentions = decoded[ours][1]
    n_input = len(SENTENCES[1].split(" ")) + 1
    assert tuple(attentions.shape) == (1, ours.MAX_LENGTH, n_input)
    np.testing.assert_allclose(to_numpy(attentions).sum(axis=-1), 1.0)


def test_random_sampler_batches_are_a_fresh_permutation_each_epoch(pair):
    ours, _ = pair
    input_lang, output_lang, pairs = ours.prepareData("eng", "toy", n_pairs=300)
    generator = ours.torch.Generator().manual_seed(3)
    loader = ours.get_dataloader(input_lang, output_lang, pairs, 32, generator=generator)
    assert isinstance(loader.sampler, ours.RandomSampler)
    rows = loader.dataset.tensors[0].numpy()
    epochs = []
    for _ in range(2):
        batches = [inputs.numpy() for inputs, _ in loader]
        assert [len(b) for b in batches[:-1]] == [32] * (len(batches) - 1)
        seen = np.concatenate(batches)
        # each dataset row exactly once (the rows are distinct sentences)
        assert len({r.tobytes() for r in rows}) == len(rows)
        assert sorted(r.tobytes() for r in seen) == sorted(r.tobytes() for r in rows)
        epochs.append(seen)
    assert not np.array_equal(epochs[0], rows)  # shuffled
    assert not np.array_equal(epochs[0], epochs[1])  # a new order each epoch
    # a generator seeded alike gives the same order again
    again = ours.get_dataloader(
        input_lang, output_lang, pairs, 32, generator=ours.torch.Generator().manual_seed(3)
    )
    np.testing.assert_array_equal(np.concatenate([x.numpy() for x, _ in again]), epochs[0])


def test_runs_as_a_script():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    args = ["--iters", "20", "--epochs", "1", "--pairs", "120", "--print-every", "10"]
    script = Path(__file__).with_name("seq2seq_attention.py")
    result = subprocess.run(
        [sys.executable, str(script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("Read 120 sentence pairs") for line in lines)
    assert sum("(20 100%)" in line for line in lines) == 1  # the older version's last report
    assert sum("(epoch 1 100%)" in line for line in lines) == 1
    assert sum(line.startswith("<") for line in lines) == 2  # one decoding per version
