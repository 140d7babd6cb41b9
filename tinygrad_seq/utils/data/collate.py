"""Collation: a list of B samples -> one batch, with PyTorch's default_collate rules.

The batch keeps the structure of one sample and gives every leaf a new leading dimension of
size B: tensors are stacked, numpy arrays and numbers become tensors (a Python float becomes
float64 and an int int64, as PyTorch does), strings stay a sequence of strings, and tuples,
lists, dicts and namedtuples are collated field by field (so a batch of (x, y) pairs becomes
[xs, ys]: a list, as PyTorch's default_collate returns for tuples). `default_convert` is the
no-batching counterpart (DataLoader with batch_size=None): numpy arrays become tensors,
everything else is left as it is.
"""

from __future__ import annotations

import collections.abc
import copy
import re
from typing import Any

import numpy as np

from ...creation import from_numpy, tensor
from ...dtypes import float64
from ...tensor import Tensor, stack

# numpy dtypes that cannot become tensors: bytes, str and object arrays (PyTorch's pattern)
NP_STR_OBJ_ARRAY = re.compile(r"[SaUO]")
COLLATE_ERROR = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)


def _is_namedtuple(x: Any) -> bool:
    return isinstance(x, tuple) and hasattr(x, "_fields")


def _stack_tensors(batch: list[Tensor]) -> Tensor:
    """B tensors of one shape S -> (B, *S), PyTorch's RuntimeError when the shapes differ."""
    first = tuple(batch[0].shape)
    for i, t in enumerate(batch):
        if tuple(t.shape) != first:
            raise RuntimeError(
                "stack expects each tensor to be equal size, but got "
                f"{list(first)} at entry 0 and {list(t.shape)} at entry {i}"
            )
    return stack(batch, 0)


def _collate_mapping(batch: list[Any]) -> Any:
    """B dicts with the same keys -> one dict of collated values (the first one's type kept)."""
    elem = batch[0]
    values = {key: default_collate([d[key] for d in batch]) for key in elem}
    try:
        if isinstance(elem, collections.abc.MutableMapping):
            clone = copy.copy(elem)  # keeps a dict subclass's own attributes
            clone.update(values)
            return clone
        return type(elem)(values)
    except TypeError:  # a mapping type that cannot be copied or built from a dict
        return values


def _collate_sequence(batch: list[Any]) -> Any:
    """B sequences of length K -> K collated fields (a list for tuples, as PyTorch)."""
    elem = batch[0]
    size = len(elem)
    if any(len(e) != size for e in batch):
        raise RuntimeError("each element in list of batch should be of equal size")
    fields = [default_collate(samples) for samples in zip(*batch)]
    if isinstance(elem, tuple):
        return fields
    try:
        if isinstance(elem, collections.abc.MutableSequence):
            clone = copy.copy(elem)
            for i, field in enumerate(fields):
                clone[i] = field
            return clone
        return type(elem)(fields)
    except TypeError:  # e.g. range: cannot be built from a list
        return fields


def default_collate(batch: Any) -> Any:
    """A list of B samples -> one batch: leaves get a leading dim B (tensors (B, *S))."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack_tensors(list(batch))
    if isinstance(elem, np.ndarray):
        if NP_STR_OBJ_ARRAY.search(elem.dtype.str) is not None:
            raise TypeError(COLLATE_ERROR.format(elem.dtype))
        return _stack_tensors([from_numpy(np.asarray(b)) for b in batch])
    if isinstance(elem, (np.bool_, np.number, np.object_)):
        return from_numpy(np.asarray(batch))  # the scalars' own dtype, as torch.as_tensor
    if isinstance(elem, float):
        return tensor(batch, dtype=float64)
    if isinstance(elem, int):  # bool included: a bool batch gives a bool tensor
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return _collate_mapping(batch)
    if _is_namedtuple(elem):
        return type(elem)(*(default_collate(samples) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        return _collate_sequence(batch)
    raise TypeError(COLLATE_ERROR.format(type(elem)))


def _convert_mapping(data: Any) -> Any:
    values = {key: default_convert(data[key]) for key in data}
    try:
        if isinstance(data, collections.abc.MutableMapping):
            clone = copy.copy(data)
            clone.update(values)
            return clone
        return type(data)(values)
    except TypeError:
        return values


def _convert_sequence(data: Any) -> Any:
    items = [default_convert(d) for d in data]
    try:
        if isinstance(data, collections.abc.MutableSequence):
            clone = copy.copy(data)
            for i, item in enumerate(items):
                clone[i] = item
            return clone
        return type(data)(items)
    except TypeError:
        return items


def default_convert(data: Any) -> Any:
    """One sample -> the same structure with numpy arrays and scalars turned into tensors."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        if NP_STR_OBJ_ARRAY.search(data.dtype.str) is not None:
            return data
        return from_numpy(data)  # shares memory, as torch.as_tensor does
    if isinstance(data, np.generic) and not isinstance(data, (np.str_, np.bytes_)):
        return from_numpy(np.asarray(data))  # a 0-d tensor of the scalar's dtype
    if isinstance(data, collections.abc.Mapping):
        return _convert_mapping(data)
    if _is_namedtuple(data):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _convert_sequence(data)
    return data
