"""Turning lists of id sequences into padded mini-batches.

Sequences in one batch have different lengths T_i, but a batch must be one rectangular array.
`pad_sequences` fills the short ones with a padding id up to the longest (L = max T_i) and
returns the true lengths beside it, so a model can mask the padding out of its loss or stop its
recurrence at each sequence's end. `BatchIterator` cuts a dataset into such batches once per
epoch, shuffled reproducibly:

- no seed: the order is drawn from the package generator (`tinygrad_seq.random.get_generator()`,
  so `tinygrad_seq.manual_seed(s)` makes a whole run repeatable, as `torch.manual_seed` does);
- a seed: epoch e uses `np.random.default_rng(seed + e)`, so each epoch differs but any epoch
  can be reproduced on its own.

Layout follows PyTorch: `batch_first=True` gives (N, L), `False` gives (L, N). Everything is
numpy: a caller makes tensors of them (`torch.from_numpy`) at the model's door.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np

from ..random import get_generator


class Batch(NamedTuple):
    """inputs (B, L) int64 [or (L, B)], lengths (B,) int64, targets (B,) / (B, L') / None."""

    inputs: np.ndarray
    lengths: np.ndarray
    targets: np.ndarray | None


def _is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def _as_ids(seq: Any, where: str) -> np.ndarray:
    """One sequence of int ids -> 1-D int64 array, or a TypeError/ValueError saying why not."""
    if isinstance(seq, str):
        raise TypeError(f"{where} is a str; encode text to ids first (Vocab.encode)")
    arr = np.asarray(seq)
    if arr.ndim != 1:
        raise ValueError(f"{where} must be a 1-D sequence of ids, got shape {arr.shape}")
    if arr.size and arr.dtype.kind not in "iu":
        raise TypeError(f"{where} must hold integer ids, got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def pad_sequences(
    seqs: Iterable[Sequence[int]],
    padding_value: int = 0,
    batch_first: bool = True,
    max_len: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """N id sequences -> (int64 (N, L) or (L, N) padded, lengths int64 (N,)); L = longest."""
    arrays = [_as_ids(s, f"pad_sequences: sequence {i}") for i, s in enumerate(seqs)]
    if not arrays:
        raise ValueError("pad_sequences: got no sequences (need at least one)")
    if not _is_int(padding_value):
        raise TypeError(f"pad_sequences: padding_value must be an int, got {padding_value!r}")
    lengths = np.array([a.size for a in arrays], dtype=np.int64)
    if max_len is None:
        width = int(lengths.max())
    else:
        if not _is_int(max_len) or max_len < 0:
            raise ValueError(f"pad_sequences: max_len must be None or an int >= 0, got {max_len!r}")
        too_long = np.flatnonzero(lengths > max_len)
        if too_long.size:
            i = int(too_long[0])
            raise ValueError(
                f"pad_sequences: sequence {i} has length {lengths[i]} > max_len={max_len} "
                f"({too_long.size} sequence(s) too long)"
            )
        width = int(max_len)
    padded = np.full((len(arrays), width), padding_value, dtype=np.int64)
    for row, a in zip(padded, arrays):
        row[: a.size] = a
    return (padded if batch_first else np.ascontiguousarray(padded.T)), lengths


def _is_pair(item: Any) -> bool:
    """(input_ids, target) pairs are 2-tuples/lists whose first element is itself a sequence."""
    return (
        isinstance(item, (tuple, list))
        and len(item) == 2
        and not isinstance(item[0], str)
        and np.ndim(item[0]) == 1
    )


class BatchIterator:
    """Iterates a dataset in Batches of batch_size: sequences, (ids, label) or (src, tgt) pairs."""

    def __init__(
        self,
        data: Sequence[Any],
        batch_size: int,
        shuffle: bool = True,
        seed: int | None = None,
        drop_last: bool = False,
        padding_value: int = 0,
        batch_first: bool = True,
        sort_within_batch: bool = False,
        target_padding_value: int | None = None,
    ) -> None:
        if not _is_int(batch_size) or batch_size < 1:
            raise ValueError(f"BatchIterator: batch_size must be an int >= 1, got {batch_size!r}")
        if seed is not None and (not _is_int(seed) or seed < 0):
            raise ValueError(f"BatchIterator: seed must be None or an int >= 0, got {seed!r}")
        if not _is_int(padding_value):
            raise TypeError(f"BatchIterator: padding_value must be an int, got {padding_value!r}")
        if target_padding_value is not None and not _is_int(target_padding_value):
            raise TypeError(
                f"BatchIterator: target_padding_value must be an int, got {target_padding_value!r}"
            )
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.seed = seed
        self.drop_last = bool(drop_last)
        self.padding_value = int(padding_value)
        self.target_padding_value = (
            self.padding_value if target_padding_value is None else int(target_padding_value)
        )
        self.batch_first = bool(batch_first)
        self.sort_within_batch = bool(sort_within_batch)
        self.epoch = 0  # advanced by each __iter__; set_epoch() jumps to a given one
        self._inputs, self._targets, self.target_kind = self._prepare(list(data))
        self._lengths = np.array([a.size for a in self._inputs], dtype=np.int64)

    @staticmethod
    def _prepare(items: list[Any]) -> tuple[list[np.ndarray], Any, str]:
        """Check the items once -> (input arrays, targets, kind: 'none'|'label'|'sequence')."""
        if not items:
            raise ValueError("BatchIterator: data is empty")
        if not _is_pair(items[0]):
            return (
                [_as_ids(s, f"BatchIterator: data[{i}]") for i, s in enumerate(items)],
                None,
                "none",
            )
        for i, item in enumerate(items):
            if not _is_pair(item):
                raise ValueError(
                    f"BatchIterator: data[0] is an (input_ids, target) pair but data[{i}] is not"
                )
        inputs = [_as_ids(x, f"BatchIterator: data[{i}][0]") for i, (x, _) in enumerate(items)]
        if np.ndim(items[0][1]) == 0:
            labels = np.asarray([t for _, t in items])
            if labels.ndim != 1 or labels.dtype.kind not in "iuf":
                raise TypeError(
                    "BatchIterator: scalar targets must all be numbers (int class labels or "
                    f"floats), got dtype {labels.dtype} with shape {labels.shape}"
                )
            kind = np.int64 if labels.dtype.kind in "iu" else np.float64
            return inputs, labels.astype(kind), "label"
        targets = [_as_ids(t, f"BatchIterator: data[{i}][1]") for i, (_, t) in enumerate(items)]
        return inputs, targets, "sequence"

    def __len__(self) -> int:
        n = len(self._inputs)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def set_epoch(self, epoch: int) -> None:
        """Make the next __iter__ produce epoch `epoch`'s order (seeded iterators)."""
        if not _is_int(epoch) or epoch < 0:
            raise ValueError(f"BatchIterator.set_epoch: epoch must be an int >= 0, got {epoch!r}")
        self.epoch = int(epoch)

    def _order(self) -> np.ndarray:
        n = len(self._inputs)
        if not self.shuffle:
            return np.arange(n)
        if self.seed is None:
            return get_generator().permutation(n)
        return np.random.default_rng(self.seed + self.epoch).permutation(n)

    def __iter__(self) -> Iterator[Batch]:
        # draw the order now, not at the first next(), so iter() order is what one expects
        order = self._order()
        self.epoch += 1
        return self._batches(order)

    def _batches(self, order: np.ndarray) -> Iterator[Batch]:
        for b in range(len(self)):
            yield self.collate(order[b * self.batch_size : (b + 1) * self.batch_size])

    def collate(self, indices: Sequence[int]) -> Batch:
        """Item indices (B,) -> one padded Batch (optionally sorted by length, longest first)."""
        idx = np.asarray(indices, dtype=np.int64)
        if self.sort_within_batch:
            idx = idx[np.argsort(-self._lengths[idx], kind="stable")]
        inputs, lengths = pad_sequences(
            [self._inputs[i] for i in idx], self.padding_value, self.batch_first
        )
        if self.target_kind == "label":
            targets = self._targets[idx]
        elif self.target_kind == "sequence":
            seqs = [self._targets[i] for i in idx]
            targets, _ = pad_sequences(seqs, self.target_padding_value, self.batch_first)
        else:
            targets = None
        return Batch(inputs, lengths, targets)

    def __repr__(self) -> str:
        return (
            f"BatchIterator(n={len(self._inputs)}, batch_size={self.batch_size}, "
            f"batches={len(self)}, targets={self.target_kind!r}, shuffle={self.shuffle}, "
            f"seed={self.seed}, epoch={self.epoch})"
        )
