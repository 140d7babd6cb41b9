"""Tests of tinygrad_seq.tasks.sample: sampling (seeded, greedy) and log-likelihood scoring."""

import numpy as np

import tinygrad_seq as ts
from tinygrad_seq.tasks import log_likelihood, sample


def _next_logits(model, ids: list[int]) -> np.ndarray:
    """The model's logits (V,) after reading the whole prefix ids in one forward pass."""
    with ts.no_grad():
        logits, _ = model(ts.tensor(np.array(ids, dtype=np.int64)[:, None]))
    return logits.numpy()[-1, 0].astype(np.float64)


def test_sampling_is_reproducible_with_a_seed(tiny_lm):
    model, vocab = tiny_lm.model, tiny_lm.vocab
    first = [sample(model, vocab, max_len=10, seed=s) for s in range(6)]
    assert first == [sample(model, vocab, max_len=10, seed=s) for s in range(6)]
    assert len(set(first)) > 1


def test_greedy_sampling_takes_the_most_likely_symbol_at_every_step(tiny_lm):
    """Temperature 0 == argmax, each step recomputed from the whole prefix (no carried state)."""
    model, vocab = tiny_lm.model, tiny_lm.vocab
    for prefix in ("", "a", "bo"):
        ids, out = vocab.encode(prefix, add_bos=True), []
        for _ in range(8):
            nxt = int(np.argmax(_next_logits(model, ids)))
            if nxt == vocab.eos_index:
                break
            ids.append(nxt)
            out.append(nxt)
        assert sample(model, vocab, prefix, max_len=8, temperature=0) == prefix + vocab.decode(out)


def test_log_likelihood_is_the_sum_of_next_symbol_log_probabilities(tiny_lm):
    """log P(text) == sum over t of log softmax(logits)[y<t>], one prefix at a time in float64."""
    model, vocab = tiny_lm.model, tiny_lm.vocab
    for text in ("anna", "b", "zab"):  # z is not in the vocabulary: scored as <unk>
        ids = [vocab.bos_index] + vocab.encode(text)
        targets = vocab.encode(text) + [vocab.eos_index]
        logp = []
        for t, y in enumerate(targets):
            z = _next_logits(model, ids[: t + 1])
            logp.append(z[y] - z.max() - np.log(np.exp(z - z.max()).sum()))
        np.testing.assert_allclose(log_likelihood(model, vocab, text), sum(logp), rtol=1e-5)
        np.testing.assert_allclose(
            log_likelihood(model, vocab, text, include_eos=False), sum(logp[:-1]), rtol=1e-5
        )
    assert log_likelihood(model, vocab, "", include_eos=False) == 0.0
