"""Factory functions: tensor, from_numpy, zeros, ones, full, empty, eye, arange, rand, randn,
randint, randperm, *_like, and the legacy typed constructors (LongTensor, ...).

Every factory takes PyTorch's keywords dtype=, device= (the CPU only: see dtypes.check_device)
and requires_grad=; the random ones also generator= (a random.Generator)."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import dtypes
from .random import Generator, numpy_generator
from .tensor import Tensor


def _size(sizes: tuple, size: Any = None, fn: str = "size") -> tuple:
    """Accept zeros(2, 3), zeros((2, 3)) and zeros(size=(2, 3)) alike."""
    return tuple(dtypes.as_size(sizes, fn, size))


def _float_dtype(dtype: Any) -> np.dtype:
    return dtypes.get_default_dtype() if dtype is None else dtypes.to_dtype(dtype)


def _new(data: np.ndarray, requires_grad: bool, device: Any = None) -> Tensor:
    dtypes.check_device(device)
    t = Tensor._make(data, False, None)
    return t.requires_grad_() if requires_grad else t


def tensor(data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A new leaf Tensor copying data (numbers, nested lists, ndarray or Tensor): data's shape."""
    dtypes.check_device(device)
    if isinstance(data, Tensor):
        data = data._data
    if dtype is not None:
        return _new(np.array(data, dtype=dtypes.to_dtype(dtype)), requires_grad)
    arr = np.array(data)  # a copy; an array or numpy scalar keeps its dtype
    if arr.dtype.kind not in "fiub" or not isinstance(data, (np.ndarray, np.generic)):
        arr = arr.astype(_python_dtype(arr, data), copy=False)
    return _new(arr, requires_grad)


def _python_dtype(arr: np.ndarray, data: Any) -> np.dtype:
    """torch.tensor's dtype for Python data: int64 for ints, the default float for floats."""
    kind = arr.dtype.kind
    if kind not in "fiub":
        raise TypeError(
            f"tensor: cannot make a tensor from {type(data).__name__} with numpy dtype "
            f"{arr.dtype}; expected numbers, nested lists of numbers or a numeric ndarray"
        )
    return _float_dtype(None) if kind == "f" else dtypes.int64 if kind in "iu" else arr.dtype


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


def zeros(
    *sizes: Any,
    size: Any = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Tensor of `size` filled with 0 (default float dtype)."""
    shape = _size(sizes, size, "zeros")
    return _new(np.zeros(shape, dtype=_float_dtype(dtype)), requires_grad, device)


def ones(
    *sizes: Any,
    size: Any = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Tensor of `size` filled with 1 (default float dtype)."""
    shape = _size(sizes, size, "ones")
    return _new(np.ones(shape, dtype=_float_dtype(dtype)), requires_grad, device)


def empty(
    *sizes: Any,
    size: Any = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Tensor of `size` whose values are whatever the memory held (default float dtype)."""
    shape = _size(sizes, size, "empty")
    return _new(np.empty(shape, dtype=_float_dtype(dtype)), requires_grad, device)


def fill_dtype(fill_value: Any) -> np.dtype:
    """PyTorch's dtype for a tensor filled with a Python value: bool, int64 or the default float."""
    if isinstance(fill_value, (bool, np.bool_)):
        return dtypes.bool_
    if isinstance(fill_value, (int, np.integer)):
        return dtypes.int64
    return _float_dtype(None)


def full(
    size: Any,
    fill_value: Any,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Tensor of `size` filled with fill_value (int64 for an int value, as PyTorch)."""
    size = _size((size,) if isinstance(size, (int, np.integer)) else (tuple(size),), fn="full")
    d = fill_dtype(fill_value) if dtype is None else dtypes.to_dtype(dtype)
    return _new(np.full(size, fill_value, dtype=d), requires_grad, device)


def eye(
    n: int,
    m: int | None = None,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """(n, m) identity matrix (m defaults to n)."""
    if n < 0 or (m is not None and m < 0):
        raise RuntimeError(f"eye: n and m must be non-negative, got n={n}, m={m}")
    return _new(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad, device)


def arange(
    start: Any,
    end: Any = None,
    step: Any = 1,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Values start, start+step, ... below end: (ceil((end-start)/step),); int64 for ints."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if ints else _float_dtype(None)
    if step == 0 or (end - start) * step < 0:
        raise RuntimeError(
            f"arange: step must be non-zero and point from start {start} to end {end}, got {step}"
        )
    data = np.arange(start, end, step, dtype=dtypes.to_dtype(dtype))
    return _new(data, requires_grad, device)


def rand(
    *sizes: Any,
    size: Any = None,
    generator: Generator | None = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Uniform [0, 1) samples of `size` from generator (default: the package's, see manual_seed)."""
    d, shape = _float_dtype(dtype), _size(sizes, size, "rand")
    data = numpy_generator(generator).random(shape, dtype=np.float64).astype(d)
    return _new(data, requires_grad, device)


def randn(
    *sizes: Any,
    size: Any = None,
    generator: Generator | None = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Standard normal samples of `size` from generator (default: the package's)."""
    d, shape = _float_dtype(dtype), _size(sizes, size, "randn")
    data = numpy_generator(generator).standard_normal(shape).astype(d)
    return _new(data, requires_grad, device)


def _like_dtype(t: Tensor, dtype: Any) -> np.dtype:
    return t.dtype if dtype is None else dtypes.to_dtype(dtype)


def zeros_like(
    input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """Zeros with input's shape and dtype."""
    return _new(np.zeros(input.shape, _like_dtype(input, dtype)), requires_grad, device)


def ones_like(
    input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """Ones with input's shape and dtype."""
    return _new(np.ones(input.shape, _like_dtype(input, dtype)), requires_grad, device)


def empty_like(
    input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """Uninitialised values with input's shape and dtype."""
    return _new(np.empty(input.shape, _like_dtype(input, dtype)), requires_grad, device)


def full_like(
    input: Tensor,
    fill_value: Any,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """fill_value with input's shape and dtype."""
    d = _like_dtype(input, dtype)
    return full(input.shape, fill_value, dtype=d, device=device, requires_grad=requires_grad)


def rand_like(
    input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """Uniform [0, 1) samples with input's shape and float dtype."""
    d = dtype if dtype is not None else input.dtype if input.dtype.kind == "f" else None
    return rand(*input.shape, dtype=d, device=device, requires_grad=requires_grad)


def randn_like(
    input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """Standard normal samples with input's shape and float dtype."""
    d = dtype if dtype is not None else input.dtype if input.dtype.kind == "f" else None
    return randn(*input.shape, dtype=d, device=device, requires_grad=requires_grad)


def _randint_args(args: tuple, low: Any, high: Any, size: Any) -> tuple:
    """PyTorch's overloads randint(high, size) and randint(low, high, size) -> (low, high, size)."""
    args = list(args)
    if size is None and args and isinstance(args[-1], (tuple, list)):
        size = args.pop()
    named = [v for v in (low, high) if v is not None]
    if len(args) + len(named) == 1 and low is None:
        low, high = 0, (args or named)[0]
    elif len(args) == 2 and not named:
        low, high = args
    elif len(args) == 1 and high is not None:
        low = args[0]
    elif args or high is None:
        raise TypeError(
            f"randint() expects (high, size) or (low, high, size) with size a tuple of ints, "
            f"got {len(args)} positional arguments{'' if size is not None else ' and no size'}"
        )
    if size is None:
        raise TypeError("randint() missing the argument 'size' (a tuple of ints)")
    if not isinstance(size, (tuple, list)):
        kind = type(size).__name__
        raise TypeError(f"randint(): argument 'size' must be tuple of ints, not {kind}")
    return (0 if low is None else low), high, _size((tuple(size),), fn="randint")


def randint(
    *args: Any,
    low: Any = None,
    high: Any = None,
    size: Any = None,
    generator: Generator | None = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Integers uniform in [low, high) of `size` (int64): randint(high, size), (low, high, size)."""
    low, high, shape = _randint_args(args, low, high, size)
    if high <= low:
        raise RuntimeError(
            f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}"
        )
    d = dtypes.int64 if dtype is None else dtypes.to_dtype(dtype)
    if requires_grad and d.kind != "f":
        raise RuntimeError("Only Tensors of floating point dtype can require gradients")
    data = numpy_generator(generator).integers(low, high, size=shape).astype(d)
    return _new(data, requires_grad, device)


def randperm(
    n: int,
    *,
    generator: Generator | None = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """A random permutation of 0 .. n-1: (n,), int64 unless dtype=, from generator."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"randperm(): argument 'n' must be int, not {type(n).__name__}")
    if n < 0:
        raise RuntimeError(f"randperm: n must be non-negative, got {n}")
    d = dtypes.int64 if dtype is None else dtypes.to_dtype(dtype)
    data = numpy_generator(generator).permutation(int(n)).astype(d)
    return _new(data, requires_grad, device)


# ----------------------------------------------------------------------------- legacy types
class LegacyTensorType(type):
    """Type of torch.LongTensor and kin: calls make Tensors of its dtype; isinstance checks it."""

    dtype: np.dtype

    def __call__(cls, *args: Any, device: Any = None) -> Tensor:  # type: ignore[override]
        """LongTensor(*sizes): uninitialised values of that shape; LongTensor(data): a copy."""
        dtypes.check_device(device)
        name = cls.__name__
        if not args:
            return _new(np.empty((0,), dtype=cls.dtype), False)
        if all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args):
            return _new(np.empty(dtypes.as_size(args, name), dtype=cls.dtype), False)
        if len(args) == 1 and isinstance(args[0], dtypes.Size):
            return _new(np.empty(args[0], dtype=cls.dtype), False)
        if len(args) != 1:
            raise TypeError(f"{name}(): expected sizes (ints) or one sequence of data, got {args}")
        data = args[0]
        if isinstance(data, Tensor) and data.dtype != cls.dtype:
            raise TypeError(f"{name}(): expected a tensor of dtype {cls.dtype}, got {data.dtype}")
        return _new(np.array(data, dtype=cls.dtype), False)

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype


def _legacy(dtype: np.dtype, name: str) -> LegacyTensorType:
    doc = f"The legacy constructor of {dtype} tensors: {name}(*sizes) or {name}(data)."
    return LegacyTensorType(name, (), {"dtype": dtype, "__doc__": doc, "__module__": __name__})


FloatTensor = _legacy(dtypes.float32, "FloatTensor")
DoubleTensor = _legacy(dtypes.float64, "DoubleTensor")
HalfTensor = _legacy(dtypes.float16, "HalfTensor")
LongTensor = _legacy(dtypes.int64, "LongTensor")
IntTensor = _legacy(dtypes.int32, "IntTensor")
BoolTensor = _legacy(dtypes.bool_, "BoolTensor")
