"""Factory functions: tensor, from_numpy, zeros, ones, full, eye, arange, rand, randn, *_like."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import dtypes
from .random import get_generator
from .tensor import Tensor


def _size(size: tuple) -> tuple:
    """Accept zeros(2, 3) and zeros((2, 3)) alike."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (int, np.integer)) or s < 0:
            raise ValueError(f"sizes must be non-negative ints, got {size}")
    return tuple(int(s) for s in size)


def _float_dtype(dtype: Any) -> np.dtype:
    return dtypes.get_default_dtype() if dtype is None else dtypes.to_dtype(dtype)


def _new(data: np.ndarray, requires_grad: bool) -> Tensor:
    t = Tensor._make(data, False, None)
    return t.requires_grad_() if requires_grad else t


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A new leaf Tensor copying data (numbers, nested lists, ndarray or Tensor)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A Tensor sharing memory with ndarray (any shape, its dtype kept): changes show in both."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    if ndarray.dtype.kind not in "fiub":
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{ndarray.dtype}. The only supported types "
            "are: float64, float32, float16, int64, int32, int16, int8, uint8, and bool."
        )
    return Tensor._make(ndarray, False, None)


def zeros(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Tensor of `size` filled with 0 (default float dtype)."""
    return _new(np.zeros(_size(size), dtype=_float_dtype(dtype)), requires_grad)


def ones(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Tensor of `size` filled with 1 (default float dtype)."""
    return _new(np.ones(_size(size), dtype=_float_dtype(dtype)), requires_grad)


def full(size: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Tensor of `size` filled with fill_value (int64 for an int value, as PyTorch)."""
    size = _size((size,) if isinstance(size, int) else tuple(size))
    if dtype is None:
        dtype = np.int64 if isinstance(fill_value, (int, np.integer)) else _float_dtype(None)
        dtype = np.bool_ if isinstance(fill_value, bool) else dtype
    return _new(np.full(size, fill_value, dtype=dtypes.to_dtype(dtype)), requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """(n, m) identity matrix (m defaults to n)."""
    return _new(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


def arange(
    start: Any, end: Any = None, step: Any = 1, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """Values start, start+step, ... below end: (ceil((end-start)/step),); int64 for ints."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if ints else _float_dtype(None)
    return _new(np.arange(start, end, step, dtype=dtypes.to_dtype(dtype)), requires_grad)


def rand(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform [0, 1) samples of `size` from the package generator (see manual_seed)."""
    d = _float_dtype(dtype)
    data = get_generator().random(_size(size), dtype=np.float64).astype(d)
    return _new(data, requires_grad)


def randn(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples of `size` from the package generator (see manual_seed)."""
    d = _float_dtype(dtype)
    data = get_generator().standard_normal(_size(size)).astype(d)
    return _new(data, requires_grad)


def zeros_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros with t's shape and dtype."""
    return _new(
        np.zeros(t.shape, dtype=t.dtype if dtype is None else dtypes.to_dtype(dtype)), requires_grad
    )


def ones_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones with t's shape and dtype."""
    return _new(
        np.ones(t.shape, dtype=t.dtype if dtype is None else dtypes.to_dtype(dtype)), requires_grad
    )


def full_like(t: Tensor, fill_value: Any, dtype: Any = None) -> Tensor:
    """fill_value with t's shape and dtype."""
    return full(t.shape, fill_value, dtype=t.dtype if dtype is None else dtype)


def rand_like(t: Tensor) -> Tensor:
    """Uniform [0, 1) samples with t's shape and float dtype."""
    return rand(*t.shape, dtype=t.dtype if t.dtype.kind == "f" else None)


def randn_like(t: Tensor) -> Tensor:
    """Standard normal samples with t's shape and float dtype."""
    return randn(*t.shape, dtype=t.dtype if t.dtype.kind == "f" else None)


def randint(low: int, high: int | None = None, size: Any = (), dtype: Any = None) -> Tensor:
    """Integers uniform in [low, high) of `size` (int64) from the package generator."""
    if high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError(f"randint: expected low < high, got low={low}, high={high}")
    size = _size((size,) if isinstance(size, int) else tuple(size))
    d = np.int64 if dtype is None else dtypes.to_dtype(dtype)
    return _new(get_generator().integers(low, high, size=size).astype(d), False)
