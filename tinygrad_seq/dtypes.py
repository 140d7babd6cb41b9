"""Data types: numpy dtypes under PyTorch's names, and the default floating dtype (float32)."""

from __future__ import annotations

from typing import Any

import numpy as np

float16 = np.dtype("float16")
float32 = np.dtype("float32")
float64 = np.dtype("float64")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
bool_ = np.dtype("bool")

_default_float = float32
_ALIASES = {"float": float32, "double": float64, "half": float16, "long": int64, "int": int32}


def set_default_dtype(dtype: Any) -> None:
    """Set the dtype of floats created from Python numbers and lists (float32 or float64)."""
    global _default_float
    d = to_dtype(dtype)
    if d.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype (float32, float64), got {d}")
    _default_float = d


def get_default_dtype() -> np.dtype:
    """The default floating dtype (float32 unless changed with set_default_dtype)."""
    return _default_float


def to_dtype(dtype: Any) -> np.dtype:
    """Turn 'float32', np.float64, tinygrad_seq.float64 or an alias like 'double' into np.dtype."""
    if isinstance(dtype, str) and dtype in _ALIASES:
        return _ALIASES[dtype]
    try:
        d = np.dtype(dtype)
    except TypeError:
        raise TypeError(
            f"unknown dtype {dtype!r}; expected e.g. 'float32', 'float64', 'int64'"
        ) from None
    if d.kind not in "fiub":
        raise TypeError(f"unsupported dtype {d}: tensors hold floats, integers or booleans")
    return d


_TORCH_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "int32": "Int"}
_TORCH_NAMES.update({"int64": "Long", "bool": "Bool", "int16": "Short", "int8": "Char"})


def torch_name(dtype: Any) -> str:
    """PyTorch's scalar type name of a dtype, as its error messages print it: float32 -> 'Float'."""
    d = to_dtype(dtype)
    return _TORCH_NAMES.get(d.name, d.name)
