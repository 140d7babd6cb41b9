"""DataLoader: a dataset read in batches, with torch.utils.data.DataLoader's options and checks.

A map-style dataset is read through samplers: a sampler gives the order of the indices
(SequentialSampler, or RandomSampler when shuffle=True), a BatchSampler groups them, and each
group's samples are collated into one batch (`default_collate` unless `collate_fn` is given).
An IterableDataset is read in its own order, batch_size samples at a time. batch_size=None
turns batching off: each sample is only converted (`default_convert`). Everything runs in the
calling process: `num_workers > 0` is accepted, with a warning, and loads in-process.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ...random import numpy_source
from .collate import default_collate, default_convert
from .dataset import Dataset, IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler


def get_worker_info() -> None:
    """Always None: every dataset runs in the calling process (PyTorch's answer outside workers)."""
    return None


class InfiniteConstantSampler(Sampler):
    """None forever: an IterableDataset's loader has no indices, only a number per batch."""

    def __iter__(self) -> Iterator[None]:
        return itertools.repeat(None)


# attributes that fix how the loader iterates; changing them later raises, as in PyTorch
_FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset")


def _check_options(num_workers: int, timeout: float, pin_memory: bool) -> None:
    """Worker options: checked as PyTorch does, then loading stays in this process."""
    if num_workers < 0:
        raise ValueError(
            "num_workers option should be non-negative; "
            "use num_workers=0 to disable multiprocessing."
        )
    if timeout < 0:
        raise ValueError("timeout option should be non-negative")
    if num_workers > 0:
        warnings.warn(
            f"DataLoader: num_workers={num_workers} is accepted but tinygrad_seq loads every "
            "batch in the calling process (no worker processes are started)",
            UserWarning,
            stacklevel=3,
        )
    if pin_memory:  # PyTorch's own warning on a machine without an accelerator
        warnings.warn(
            "'pin_memory' argument is set as true but no accelerator is found, "
            "then device pinned memory won't be used.",
            UserWarning,
            stacklevel=3,
        )


def _check_iterable_options(shuffle: Any, sampler: Any, batch_sampler: Any) -> None:
    """An IterableDataset has its own order: no shuffle, sampler or batch_sampler."""
    if shuffle not in {False, None}:
        raise ValueError(
            "DataLoader with IterableDataset: expected unspecified shuffle option, "
            f"but got shuffle={shuffle}"
        )
    if sampler is not None:
        raise ValueError(
            "DataLoader with IterableDataset: expected unspecified sampler option, "
            f"but got sampler={sampler}"
        )
    if batch_sampler is not None:
        raise ValueError(
            "DataLoader with IterableDataset: expected unspecified batch_sampler option, "
            f"but got batch_sampler={batch_sampler}"
        )


def _check_sampling(
    batch_size: Any, shuffle: bool, sampler: Any, batch_sampler: Any, drop_last: bool
) -> None:
    """The options that choose the order and the batches exclude one another, as in PyTorch."""
    if sampler is not None and shuffle:
        raise ValueError("sampler option is mutually exclusive with shuffle")
    if batch_sampler is not None:
        if batch_size != 1 or shuffle or sampler is not None or drop_last:
            raise ValueError(
                "batch_sampler option is mutually exclusive with batch_size, shuffle, "
                "sampler, and drop_last"
            )
    elif batch_size is None and drop_last:
        raise ValueError(
            "batch_size=None option disables auto-batching and is mutually exclusive with drop_last"
        )


class DataLoader:
    """Iterates a dataset in batches: each batch collates batch_size samples (leading dim B)."""

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler | Iterable | None = None,
        batch_sampler: Sampler | Iterable | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[list], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        generator: Any = None,
    ) -> None:
        _check_options(num_workers, timeout, pin_memory)
        iterable = isinstance(dataset, IterableDataset)
        if iterable:
            _check_iterable_options(shuffle, sampler, batch_sampler)
        else:
            shuffle = bool(shuffle)
        if generator is not None:
            numpy_source(generator, "DataLoader")
        _check_sampling(batch_size, shuffle, sampler, batch_sampler, drop_last)
        if batch_sampler is not None:
            batch_size, drop_last = None, False
        if iterable:
            sampler = InfiniteConstantSampler()
        elif sampler is None and shuffle:
            sampler = RandomSampler(dataset, generator=generator)
        elif sampler is None:
            sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.generator = generator
        self._iterable = iterable
        if collate_fn is None:
            collate_fn = default_convert if batch_sampler is None else default_collate
        self.collate_fn = collate_fn
        self._initialized = True

    def __setattr__(self, attr: str, value: Any) -> None:
        if getattr(self, "_initialized", False) and attr in _FROZEN:
            raise ValueError(
                f"{attr} attribute should not be set after {type(self).__name__} is initialized"
            )
        super().__setattr__(attr, value)

    def __iter__(self) -> Iterator[Any]:
        if self._iterable:
            return self._iterate_stream()
        if self.batch_sampler is not None:
            return self._iterate_batches()
        return (self.collate_fn(self.dataset[i]) for i in self.sampler)

    def _iterate_batches(self) -> Iterator[Any]:
        fetch_many = getattr(self.dataset, "__getitems__", None)
        for indices in self.batch_sampler:
            if callable(fetch_many):
                samples = fetch_many(indices)
            else:
                samples = [self.dataset[i] for i in indices]
            yield self.collate_fn(samples)

    def _iterate_stream(self) -> Iterator[Any]:
        """An IterableDataset's samples in its order, up to batch_size per batch."""
        stream = iter(self.dataset)
        if self.batch_sampler is None:
            yield from (self.collate_fn(sample) for sample in stream)
            return
        for slots in self.batch_sampler:  # each batch asks for len(slots) samples
            samples = list(itertools.islice(stream, len(slots)))
            if not samples or (self.drop_last and len(samples) < len(slots)):
                return
            yield self.collate_fn(samples)
            if len(samples) < len(slots):  # the stream has ended
                return

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)
