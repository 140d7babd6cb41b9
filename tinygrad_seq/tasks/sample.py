"""Sampling novel sequences and scoring whole sequences with a trained language model.

Sampling is the course's one-to-many loop: feed <bos>, draw y<1> from softmax(logits / T), feed
it back as the next input, and repeat until <eos> or max_len. Scoring is the chain rule of
probability: log P(y<1>..y<n>) = sum_t log P(y<t> | y<1>..y<t-1>), read off the model's
log-softmax at every step of one forward pass.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import no_grad
from ..random import get_generator
from ..tensor import Tensor


def _check_model(model: Any, vocab: Any) -> None:
    if not callable(model):
        raise TypeError(f"expected a language model (callable), got {type(model).__name__}")
    size = getattr(getattr(model, "head", None), "out_features", None)
    if size is not None and size != len(vocab):
        raise ValueError(f"the model predicts {size} symbols but the vocabulary has {len(vocab)}")


def _pick(
    logits: np.ndarray, temperature: float, top_k: int | None, rng: np.random.Generator
) -> int:
    """One symbol id from logits (V,): greedy at temperature 0, else softmax(logits / T)."""
    if temperature == 0:
        return int(np.argmax(logits))
    z = logits.astype(np.float64) / temperature
    if top_k is not None:
        cut = np.sort(z)[-min(top_k, z.size)]
        z = np.where(z >= cut, z, -np.inf)
    p = np.exp(z - z.max())
    p /= p.sum()
    return int(rng.choice(p.size, p=p))


@no_grad()
def sample(
    model: Any,
    vocab: Any,
    prefix: str = "",
    max_len: int = 50,
    temperature: float = 1.0,
    top_k: int | None = None,
    seed: int | None = None,
) -> str:
    """Generate one sequence (prefix + new symbols) from a model: ids (L, N) -> logits (L, N, V)."""
    _check_model(model, vocab)
    if temperature < 0:
        raise ValueError(f"sample: temperature must be >= 0, got {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"sample: top_k must be a positive int or None, got {top_k}")
    rng = np.random.default_rng(seed) if seed is not None else get_generator()
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    try:
        ids = vocab.encode(prefix, add_bos=True)
        logits, hx = model(Tensor._make(np.array(ids, dtype=np.int64)[:, None], False, None))
        out: list[int] = []
        for _ in range(max_len):
            nxt = _pick(logits._data[-1, 0], temperature, top_k, rng)
            if nxt == vocab.eos_index:
                break
            out.append(nxt)
            logits, hx = model(Tensor._make(np.array([[nxt]], dtype=np.int64), False, None), hx)
    finally:
        if was_training:
            model.train()
    sep = " " if getattr(vocab, "level", "char") == "word" and prefix and out else ""
    return prefix + sep + vocab.decode(out)


@no_grad()
def log_likelihood(model: Any, vocab: Any, text: str, include_eos: bool = True) -> float:
    """log P(text) = sum_t log P(y<t> | y<1>..y<t-1>) under the model, in nats."""
    _check_model(model, vocab)
    ids = vocab.encode(text)
    inputs = [vocab.bos_index] + ids
    targets = ids + ([vocab.eos_index] if include_eos else [])
    inputs = inputs[: len(targets)]
    if not targets:
        return 0.0
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    try:
        logits, _ = model(Tensor._make(np.array(inputs, dtype=np.int64)[:, None], False, None))
    finally:
        if was_training:
            model.train()
    logp = logits.log_softmax(-1)._data[:, 0, :].astype(np.float64)
    return float(logp[np.arange(len(targets)), targets].sum())
