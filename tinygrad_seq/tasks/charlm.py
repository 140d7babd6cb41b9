"""The character language model of the course: the model, its batches, its yardstick, its file.

`CharLM` reads a sequence of symbol ids and predicts, at every step, a distribution over the next
symbol: x<t> is the previous symbol (the sequence starts with <bos>, the course's x<1> = 0),
y<t> = softmax(W_ya a<t> + b_y). So the input at step t is the previous symbol and the target
y<t> is the symbol itself, ending with <eos>:

    inputs   <bos>  e     m     m     a
    targets  e      m     m     a     <eos>

The loss is the cross-entropy summed over time steps and averaged over the real (non-padded)
symbols of the batch: nats per symbol. Padded steps carry the target `IGNORE_INDEX`, so they add
nothing, and the recurrent layer gets `lengths=` so its state stops at each name's end.

The yardstick is the unigram model, which ignores all context and predicts every symbol with its
training frequency: a language model that has learnt anything about order must beat its
cross-entropy on held-out texts. `save_lm` / `load_lm` keep model weights, model config and
vocabulary together in one safetensors checkpoint. `sample` and `log_likelihood` (sample.py)
use any model with CharLM's interface: `model(ids (L, N) int64, hx) -> (logits (L, N, V), hx)`.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .. import io, nn
from ..autograd import no_grad
from ..data import Vocab, pad_sequences
from ..functional import cross_entropy
from ..tensor import Tensor
from .transformer_lm import CausalTransformer

# the recurrent layers by the names the command line and CharLM use
CELLS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}
# every body CharLM can have: the recurrent layers and the causal Transformer
LM_CELLS = (*CELLS, "transformer")

IGNORE_INDEX = -100
CHECKPOINT_KIND = "tinygrad_seq.CharLM"
CHECKPOINT_VERSION = 1


class CharLM(nn.Module):
    """Embedding -> RNN/GRU/LSTM or causal Transformer -> Linear: ids (L, N) -> logits (L, N, V).

    cell="transformer" uses hidden_size as d_model, nhead heads, dim_feedforward (default
    4 * hidden_size) and learned positions up to max_len; its "state" is the context so far.
    """

    def __init__(
        self,
        vocab_size: int,
        hidden_size: int = 128,
        cell: str = "lstm",
        num_layers: int = 1,
        embedding_dim: int | None = None,
        dropout: float = 0.0,
        nhead: int = 4,
        dim_feedforward: int | None = None,
        max_len: int = 64,
    ):
        super().__init__()
        if cell not in LM_CELLS:
            raise ValueError(f"CharLM: cell must be one of {sorted(LM_CELLS)}, got {cell!r}")
        self.config = {
            "vocab_size": vocab_size,
            "hidden_size": hidden_size,
            "cell": cell,
            "num_layers": num_layers,
            "embedding_dim": embedding_dim or hidden_size,
            "dropout": dropout,
        }
        emb = embedding_dim or hidden_size
        self.embedding = nn.Embedding(vocab_size, emb)
        if cell == "transformer":
            if emb != hidden_size:
                raise ValueError(
                    f"CharLM: a transformer adds positions to the embeddings, so embedding_dim "
                    f"({emb}) must equal hidden_size, its d_model ({hidden_size})"
                )
            ff = dim_feedforward or 4 * hidden_size
            self.config.update(nhead=nhead, dim_feedforward=ff, max_len=max_len)
            self.transformer = CausalTransformer(
                hidden_size, nhead, num_layers, ff, max_len, dropout
            )
        else:
            self.rnn = CELLS[cell](emb, hidden_size, num_layers=num_layers, dropout=dropout)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, ids: Tensor, hx: Any = None, lengths: Any = None) -> tuple[Tensor, Any]:
        """ids (L, N) int64 -> logits (L, N, V) and the state (or context) for the next call."""
        if not isinstance(ids, Tensor):
            ids = Tensor._make(np.array(ids), False, None)  # a copy, dtype kept
        if ids.dtype.kind not in "iu":
            raise TypeError(f"CharLM: expected integer symbol ids, got dtype {ids.dtype}")
        if ids.ndim != 2:
            raise ValueError(f"CharLM: expected ids of shape (L, N), got {tuple(ids.shape)}")
        body = self.transformer if self.config["cell"] == "transformer" else self.rnn
        out, hx = body(self.embedding(ids), hx, lengths=lengths)
        return self.head(out), hx


# ------------------------------------------------------------------------------------ batches


def lm_batch(
    texts: Sequence[str], vocab: Vocab, ignore_index: int = IGNORE_INDEX
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """N texts -> inputs (L, N) int64 (<bos>+text), lengths (N,), targets (L, N) (text+<eos>)."""
    if not texts:
        raise ValueError("lm_batch: got no texts")
    inputs, lengths = pad_sequences(
        [vocab.encode(t, add_bos=True) for t in texts], vocab.pad_index, batch_first=False
    )
    targets, _ = pad_sequences(
        [vocab.encode(t, add_eos=True) for t in texts], ignore_index, batch_first=False
    )
    return inputs, lengths, targets


def batch_loss(model: CharLM, vocab: Vocab, texts: Sequence[str]) -> tuple[Tensor, int]:
    """Mean cross-entropy per real symbol of one batch (a 0-d Tensor) and that symbol count."""
    x, lengths, y = lm_batch(texts, vocab)
    logits, _ = model(Tensor._make(x, False, None), lengths=lengths)
    loss = cross_entropy(logits.reshape(-1, len(vocab)), y.reshape(-1), ignore_index=IGNORE_INDEX)
    return loss, int(lengths.sum())


@no_grad()
def evaluate_lm(model: CharLM, vocab: Vocab, texts: Sequence[str], batch_size: int = 256) -> float:
    """Mean cross-entropy (nats per symbol, <eos> included) of a model on texts: a float."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    try:
        for i in range(0, len(texts), batch_size):
            loss, n = batch_loss(model, vocab, texts[i : i + batch_size])
            total += float(loss.item()) * n
            count += n
    finally:
        model.train(was_training)
    return total / max(count, 1)


def unigram_baseline(train_texts: Iterable[str], val_texts: Iterable[str], vocab: Vocab) -> float:
    """Cross-entropy (nats/symbol) on val_texts of the train symbol frequencies, <eos> included.

    Add-one smoothing over the symbols a model can predict (all but <pad> and <bos>) keeps an
    unseen symbol's probability above zero.
    """
    counts = Counter()
    for t in train_texts:
        counts.update(vocab.encode(t, add_eos=True))
    outputs = [i for i in range(len(vocab)) if i not in (vocab.pad_index, vocab.bos_index)]
    total = sum(counts.values()) + len(outputs)
    logp = {i: math.log((counts[i] + 1) / total) for i in outputs}
    nll, n = 0.0, 0
    for t in val_texts:
        for i in vocab.encode(t, add_eos=True):
            nll -= logp[i]
            n += 1
    if n == 0:
        raise ValueError("unigram_baseline: val_texts hold no symbols")
    return nll / n


# ---------------------------------------------------------------------------------- checkpoints


def save_lm(result: Any, path: str | os.PathLike) -> None:
    """Write a TrainResult (or (model, vocab)) to one safetensors file: weights, config, vocab."""
    model, vocab = (result.model, result.vocab) if hasattr(result, "vocab") else result
    if not isinstance(model, CharLM) or not isinstance(vocab, Vocab):
        raise TypeError(
            f"save_lm: expected a TrainResult or (CharLM, Vocab), got "
            f"({type(model).__name__}, {type(vocab).__name__})"
        )
    metadata = {
        "kind": CHECKPOINT_KIND,
        "kind_version": CHECKPOINT_VERSION,
        "model_config": dict(model.config),
        "vocab": vocab.to_json(),
    }
    if getattr(result, "history", None):
        metadata["history"] = result.history
    io.save(model.state_dict(), path, metadata=metadata)


def load_lm(path: str | os.PathLike) -> tuple[CharLM, Vocab]:
    """Read a save_lm checkpoint -> (CharLM in eval mode, Vocab); CheckpointError if it is not."""
    who = f"checkpoint {os.fspath(path)!r}"
    meta = io.load_metadata(path)  # raises CheckpointError for missing/garbage files
    if meta.get("kind") != CHECKPOINT_KIND:
        found = f"kind {meta['kind']!r}" if "kind" in meta else "no 'kind' entry in its metadata"
        raise io.CheckpointError(
            f"{who}: is not a character language model checkpoint written by save_lm "
            f"(expected kind {CHECKPOINT_KIND!r}, found {found})"
        )
    if meta.get("kind_version") != CHECKPOINT_VERSION:
        raise io.CheckpointError(
            f"{who}: CharLM checkpoint version {meta.get('kind_version')!r} is not supported "
            f"(this code reads version {CHECKPOINT_VERSION})"
        )
    try:
        vocab = Vocab.from_json(meta["vocab"])
        model = CharLM(**meta["model_config"])
    except (KeyError, TypeError, ValueError) as e:
        raise io.CheckpointError(f"{who}: has a broken CharLM config or vocabulary ({e})") from e
    if model.head.out_features != len(vocab):
        raise io.CheckpointError(
            f"{who}: the model predicts {model.head.out_features} symbols but the vocabulary "
            f"has {len(vocab)}"
        )
    io.load_into(model, path)
    model.eval()
    return model, vocab
