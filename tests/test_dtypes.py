"""Tests of tinygrad_seq.dtypes: PyTorch's dtype names, aliases, the default float dtype."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_seq as ts


def test_set_default_dtype():
    assert ts.get_default_dtype() == ts.float32
    ts.set_default_dtype(ts.float64)
    assert ts.get_default_dtype() == np.float64
    assert ts.tensor([1.0]).dtype == np.float64
    assert ts.zeros(2).dtype == ts.ones(2).dtype == ts.randn(2).dtype == np.float64
    assert ts.tensor([1, 2]).dtype == np.int64  # integers are unaffected
    assert (ts.tensor([1, 2]) / 2).dtype == np.float64
    ts.set_default_dtype("float32")
    assert ts.tensor([1.0]).dtype == np.float32
    with pytest.raises(TypeError, match="floating"):
        ts.set_default_dtype(ts.int64)


def test_to_dtype_accepts_pytorch_names_aliases_and_numpy_dtypes():
    assert ts.dtypes.to_dtype("double") == ts.dtypes.to_dtype(np.float64) == ts.float64
    assert ts.dtypes.to_dtype("float") == ts.dtypes.to_dtype("float32") == ts.float32
    assert ts.dtypes.to_dtype("half") == np.float16 and ts.dtypes.to_dtype("long") == np.int64
    assert ts.dtypes.to_dtype("int") == np.int32 and ts.dtypes.to_dtype(bool) == np.bool_
    with pytest.raises(TypeError, match="unknown dtype 'nope'"):
        ts.dtypes.to_dtype("nope")
    with pytest.raises(TypeError, match="unsupported dtype complex64"):
        ts.dtypes.to_dtype("complex64")


def test_torch_name_is_the_scalar_type_pytorchs_messages_print():
    names = {"float16": "Half", "float32": "Float", "float64": "Double", "int32": "Int"}
    names.update({"int64": "Long", "bool": "Bool", "int16": "Short", "int8": "Char"})
    assert {d: ts.dtypes.torch_name(d) for d in names} == names
    assert ts.dtypes.torch_name(np.uint8) == "uint8"  # no PyTorch name listed: numpy's
