"""The training loop of the character language model: the course's "dinosaur names" loop.

Each step is: forward, backward through time, clip the gradients (the course's remedy for
exploding gradients: rescale the joint norm, or clip each element to [-c, c]), Adam update.
`train_char_lm` runs epochs of such steps over shuffled batches, with an optional validation
set, time limit and per-epoch callback (`EarlyStopping` is one); `progress_bar` and
`limit_blas_threads` serve the examples too.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from .. import nn, optim
from ..data import Vocab
from ..random import manual_seed
from .charlm import CharLM, batch_loss, evaluate_lm

__all__ = [
    "EarlyStopping",
    "TrainResult",
    "limit_blas_threads",
    "progress_bar",
    "train_char_lm",
]


@dataclass
class TrainResult:
    """A trained CharLM, its Vocab, and history {'train_loss', 'val_loss', ...: per-epoch lists}."""

    model: CharLM
    vocab: Vocab
    history: dict[str, list[float]] = field(default_factory=dict)


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
        loss, n = batch_loss(model, vocab, [texts[i] for i in order[start : start + o.batch_size]])
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
    nhead: int = 4,
    dim_feedforward: int | None = None,
    max_len: int | None = None,
) -> TrainResult:
    """Train a CharLM on texts (list of str) with Adam -> TrainResult(model, vocab, history).

    history: 'train_loss' and 'val_loss' (nats/symbol per epoch; val only with val_texts),
    'grad_norm' (mean gradient norm before clipping) and 'seconds' (cumulative wall time).
    clip: max joint grad norm (None: off); clip_value: element-wise clip as in the course.
    callback(epoch, result) runs after each epoch; returning True stops training, as does
    passing time_limit seconds (checked after every batch). blas_threads: see
    limit_blas_threads. Seeds the package generator (init) and the shuffling with `seed`.
    cell="transformer": hidden_size is d_model; nhead, dim_feedforward (default 4 * d_model)
    and max_len (default: the longest text, train or val, plus <bos>) size the Transformer.
    """
    texts = list(texts)
    if not texts:
        raise ValueError("train_char_lm: got no training texts")
    vocab = Vocab.build(texts) if vocab is None else vocab
    manual_seed(seed)
    if max_len is None:
        max_len = 1 + max(len(vocab.encode(t)) for t in [*texts, *(val_texts or [])])
    model = CharLM(
        len(vocab), hidden_size, cell, num_layers, embedding_dim, dropout,
        nhead, dim_feedforward, max_len,
    )  # fmt: skip
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


class EarlyStopping:
    """train_char_lm callback: stop once validation loss has not improved for `patience` epochs.

    It keeps a copy of the best epoch's weights; `restore(model)` puts them back.
    """

    def __init__(self, patience: int):
        self.patience, self.best, self.best_epoch, self.state = patience, float("inf"), -1, None

    def __call__(self, epoch: int, result: TrainResult) -> bool:
        """-> True to stop: no better validation loss for `patience` epochs."""
        val = result.history["val_loss"][-1]
        if val < self.best:
            self.best, self.best_epoch = val, epoch
            self.state = {k: v.clone() for k, v in result.model.state_dict().items()}
        return epoch - self.best_epoch >= self.patience

    def restore(self, model: nn.Module) -> None:
        """Put the best epoch's weights back into the model."""
        if self.state is not None:
            model.load_state_dict(self.state)
