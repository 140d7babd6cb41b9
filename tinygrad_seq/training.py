"""Training a character-level language model: the course's "dinosaur names" loop, reusable.

A language model predicts every next symbol: the input at step t is the previous symbol (x<1> is
<bos>, the course's x<1> = 0) and the target y<t> is the symbol itself, ending with <eos>, so

    inputs   <bos>  e     m     m     a
    targets  e      m     m     a     <eos>

The loss is the cross-entropy summed over time steps and averaged over the real (non-padded)
symbols of the batch: nats per symbol. Padded steps carry the target `ignore_index`, so they add
nothing to the loss, and the recurrent layer gets `lengths=` so its state stops at each name's
end. Each step is: forward, backward through time, clip the gradients (the course's remedy for
exploding gradients: rescale the joint norm, or clip each element to [-c, c]), Adam update.

The yardstick is the unigram model, which ignores all context and predicts every symbol with its
training frequency: a language model that has learnt anything about order must beat its
cross-entropy on held-out texts. `save_lm` / `load_lm` keep model weights, model config and
vocabulary together in one safetensors checkpoint.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from . import io, nn, optim
from .autograd import no_grad
from .data import Vocab, pad_sequences
from .functional import cross_entropy
from .models import CharLM
from .random import manual_seed
from .tensor import Tensor

__all__ = [
    "CHECKPOINT_KIND",
    "IGNORE_INDEX",
    "TrainResult",
    "evaluate_lm",
    "limit_blas_threads",
    "lm_batch",
    "load_lm",
    "progress_bar",
    "save_lm",
    "train_char_lm",
    "unigram_baseline",
]

IGNORE_INDEX = -100
CHECKPOINT_KIND = "tinygrad_seq.CharLM"
CHECKPOINT_VERSION = 1


@dataclass
class TrainResult:
    """A trained CharLM, its Vocab, and history {'train_loss', 'val_loss', ...: per-epoch lists}."""

    model: CharLM
    vocab: Vocab
    history: dict[str, list[float]] = field(default_factory=dict)


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


def _batch_loss(model: CharLM, vocab: Vocab, texts: Sequence[str]) -> tuple[Tensor, int]:
    """Mean cross-entropy per real symbol of one batch (a 0-d Tensor) and that symbol count."""
    x, lengths, y = lm_batch(texts, vocab)
    logits, _ = model(Tensor(x), lengths=lengths)
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
            loss, n = _batch_loss(model, vocab, texts[i : i + batch_size])
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


# ------------------------------------------------------------------------------------ training


def progress_bar(total: int | None, enabled: bool = True, desc: str = "") -> Any:
    """A tqdm bar over `total` steps (or a silent stand-in when disabled or tqdm is missing)."""
    if enabled:
        try:
            from tqdm.auto import tqdm

            return tqdm(total=total, desc=desc, dynamic_ncols=True, leave=True)
        except ImportError:  # pragma: no cover - tqdm is in the plot/dev extras
            pass
    return _NoBar()


@contextlib.contextmanager
def limit_blas_threads(n: int | None = 1) -> Iterator[None]:
    """Context manager: at most n BLAS threads inside (threadpoolctl if installed; None: off).

    Recurrent models multiply small matrices, one time step at a time; for those a BLAS thread
    pool costs more in hand-offs than it gains, and on a busy machine much more (10-100x).
    """
    if n is None:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional
        yield
        return
    with threadpool_limits(limits=n, user_api="blas"):
        yield


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def set_postfix(self, *args: Any, **kwargs: Any) -> None:
        pass

    def close(self) -> None:
        pass


def _clip(model: nn.Module, clip: float | None, clip_value: float | None) -> float:
    """Clip the gradients in place; returns their joint 2-norm before any clipping."""
    params = list(model.parameters())
    norm = float(nn.utils.clip_grad_norm_(params, math.inf if clip is None else clip).item())
    if clip_value is not None:
        nn.utils.clip_grad_value_(params, clip_value)
    return norm


class _Options(NamedTuple):
    """The loop settings of train_char_lm, passed around as one value."""

    epochs: int
    batch_size: int
    clip: float | None
    clip_value: float | None
    seed: int
    progress: bool
    time_limit: float | None


def _run_epoch(
    result: TrainResult,
    opt: Any,
    texts: list,
    order: np.ndarray,
    o: _Options,
    bar: Any,
    deadline: float | None,
) -> tuple[float, float, bool]:
    """One pass over texts in `order`; returns (mean loss/symbol, mean grad norm, out of time)."""
    model, vocab = result.model, result.vocab
    total, count, norms = 0.0, 0, []
    model.train()
    for start in range(0, len(order), o.batch_size):
        loss, n = _batch_loss(model, vocab, [texts[i] for i in order[start : start + o.batch_size]])
        opt.zero_grad()
        loss.backward()
        norms.append(_clip(model, o.clip, o.clip_value))
        opt.step()
        total += float(loss.item()) * n
        count += n
        bar.update(1)
        bar.set_postfix(loss=f"{total / count:.3f}")
        if deadline is not None and time.perf_counter() > deadline:
            return total / count, float(np.mean(norms)), True
    return total / count, float(np.mean(norms)), False


def train_char_lm(
    texts: Sequence[str],
    vocab: Vocab | None = None,
    cell: str = "lstm",
    hidden_size: int = 64,
    num_layers: int = 1,
    embedding_dim: int | None = None,
    epochs: int = 10,
    lr: float = 3e-3,
    clip: float | None = 5.0,
    clip_value: float | None = None,
    batch_size: int = 32,
    val_texts: Sequence[str] | None = None,
    seed: int = 0,
    progress: bool = True,
    callback: Callable[[int, TrainResult], Any] | None = None,
    time_limit: float | None = None,
    dropout: float = 0.0,
    blas_threads: int | None = 1,
) -> TrainResult:
    """Train a CharLM on texts (list of str) with Adam -> TrainResult(model, vocab, history).

    history: 'train_loss' and 'val_loss' (nats/symbol per epoch; val only with val_texts),
    'grad_norm' (mean gradient norm before clipping) and 'seconds' (cumulative wall time).
    clip: max joint grad norm (None: off); clip_value: element-wise clip as in the course.
    callback(epoch, result) runs after each epoch; returning True stops training, as does
    passing time_limit seconds (checked after every batch). blas_threads: see
    limit_blas_threads. Seeds the package generator (init) and the shuffling with `seed`.
    """
    texts = list(texts)
    if not texts:
        raise ValueError("train_char_lm: got no training texts")
    vocab = Vocab.build(texts) if vocab is None else vocab
    manual_seed(seed)
    model = CharLM(len(vocab), hidden_size, cell, num_layers, embedding_dim, dropout)
    history: dict[str, list[float]] = {
        k: [] for k in ("train_loss", "val_loss", "grad_norm", "seconds")
    }
    result = TrainResult(model, vocab, history)
    opts = _Options(epochs, batch_size, clip, clip_value, seed, progress, time_limit)
    with limit_blas_threads(blas_threads):
        _fit(
            result,
            optim.Adam(model.parameters(), lr=lr),
            texts,
            list(val_texts or []),
            opts,
            callback,
        )
    model.eval()
    return result


def _fit(
    result: TrainResult,
    opt: Any,
    texts: list,
    val_texts: list,
    o: _Options,
    callback: Callable | None,
) -> None:
    """The epoch loop of train_char_lm: shuffle, train, evaluate, record, maybe stop."""
    rng = np.random.default_rng(o.seed)
    total_steps = o.epochs * math.ceil(len(texts) / o.batch_size)
    if o.time_limit is not None:  # the clock, not the epoch count, ends training: no false ETA
        total_steps = None
    bar = progress_bar(total_steps, o.progress, desc=f"{result.model.config['cell']} LM")
    start = time.perf_counter()
    deadline = None if o.time_limit is None else start + o.time_limit
    try:
        for epoch in range(o.epochs):
            train_loss, norm, out_of_time = _run_epoch(
                result, opt, texts, rng.permutation(len(texts)), o, bar, deadline
            )
            _record(result, train_loss, norm, val_texts, time.perf_counter() - start, bar)
            stop = callback(epoch, result) if callback is not None else None
            if out_of_time or stop is True:
                break
    finally:
        bar.close()


def _record(
    result: TrainResult, train_loss: float, norm: float, val_texts: list, seconds: float, bar: Any
) -> None:
    """Append one epoch's figures to result.history (evaluating on val_texts if any)."""
    h = result.history
    h["train_loss"].append(train_loss)
    h["grad_norm"].append(norm)
    post = {"loss": f"{train_loss:.3f}"}
    if val_texts:
        h["val_loss"].append(evaluate_lm(result.model, result.vocab, val_texts))
        post["val"] = f"{h['val_loss'][-1]:.3f}"
    h["seconds"].append(seconds)
    bar.set_postfix(post)


# ---------------------------------------------------------------------------------- checkpoints


def save_lm(result: TrainResult | tuple[CharLM, Vocab], path: str | os.PathLike) -> None:
    """Write a TrainResult (or (model, vocab)) to one safetensors file: weights, config, vocab."""
    model, vocab = (result.model, result.vocab) if isinstance(result, TrainResult) else result
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
    if isinstance(result, TrainResult) and result.history:
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
