"""Data for sequence models: vocabularies, bundled and synthetic corpora, padded batches.

Pure numpy and the standard library; nothing here imports the autodiff engine, so a data
pipeline can be built, tested and reused without it. Arrays come out as numpy: turn them into
tensors with `torch.from_numpy(...)` or `torch.tensor(...)` at the model's door.
"""

from .batching import Batch, BatchIterator, pad_sequences
from .datasets import (
    DATE_FORMATS,
    NameRecord,
    format_date,
    load_names,
    make_dates,
    names_dataset,
    names_path,
)
from .vocab import Vocab, tokenize

__all__ = [
    "DATE_FORMATS",
    "Batch",
    "BatchIterator",
    "NameRecord",
    "Vocab",
    "format_date",
    "load_names",
    "make_dates",
    "names_dataset",
    "names_path",
    "pad_sequences",
    "tokenize",
]
