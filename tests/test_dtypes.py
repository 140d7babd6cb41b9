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


# ---------------------------------------------------------------- aliases, Size, devices
def test_pytorch_aliases_name_the_dtypes_and_leave_pythons_builtins_alone():
    assert (ts.float, ts.double, ts.half) == (ts.float32, ts.float64, ts.float16)
    assert (ts.long, ts.int, ts.bool) == (ts.int64, ts.int32, ts.bool_)
    # the builtins are shadowed on the package only, never inside its modules
    assert not {"int", "float", "bool"} & set(vars(ts.dtypes))
    assert ts.tensor([1.0, 0.0]).bool().dtype == ts.bool and ts.nn.Linear(2, 2).train(True)
    assert ts.zeros(2, dtype=ts.long).dtype == np.int64


@pytest.mark.parity
def test_parity_dtype_aliases_and_type_names():
    from script_parity import check_script

    check_script(
        """
for name in ("long", "int", "float", "double", "half", "bool"):
    t = torch.zeros(2, dtype=getattr(torch, name))
    rec(name, t)
    rec(name + "_type", t.type())
rec("same", (torch.long == torch.int64, torch.float == torch.float32, torch.bool != torch.int))
"""
    )


def test_size_is_a_tuple_that_prints_as_pytorchs():
    s = ts.Size([2, 3, 4])
    assert s == (2, 3, 4) and isinstance(s, tuple)
    assert repr(s) == "torch.Size([2, 3, 4])" == str(s) == f"{s}"
    assert str(ts.Size([])) == "torch.Size([])" and str(ts.Size([5])) == "torch.Size([5])"
    assert isinstance(s[1:], ts.Size) and s[1:] == (3, 4) and s[-1] == 4
    assert isinstance(s + (5,), ts.Size) and (1,) + s == (1, 2, 3, 4)
    assert s.numel() == 24 and ts.Size([]).numel() == 1


@pytest.mark.parity
def test_parity_size_and_shape():
    from script_parity import check_script

    check_script(
        """
x = torch.zeros(2, 3, 4)
s = x.size()
rec("s", tuple(s))
rec("kinds", (isinstance(s, torch.Size), isinstance(x.shape, torch.Size), s == x.shape))
rec("slice", (tuple(s[1:]), isinstance(s[1:], torch.Size), s[-1], x.size(-2), x.size(0)))
rec("numel", (s.numel(), torch.Size([2, 5]).numel(), repr(torch.Size([2, 5]))))
rec("added", (isinstance(s + (1,), torch.Size), tuple(s + (1,))))
rec("zero_dim", tuple(torch.tensor(1.0).size()))
x.size(3)
""",
        error_contains="out of range",
    )


@pytest.mark.parity
def test_parity_shapes_print_as_torch_size():
    from script_parity import check_script

    check_script(
        """
x = torch.zeros(2, 3)
rec("str_shape", str(x.shape))
rec("repr_size", repr(x.size()))
rec("formatted", (f"{x.shape}", "%s" % (x.shape,), f"{x.shape!r}"))
rec("in_a_list", str([x.shape, torch.zeros(4).shape]))
rec("empty", (str(torch.tensor(1.0).shape), repr(torch.Size([]))))
rec("sliced", (str(x.shape[1:]), str(x.shape[:0])))
rec("equal_to_tuples", (x.shape == (2, 3), x.shape != (3, 2), (2, 3) == x.size()))
rec("not_equal_to_lists", x.shape == [2, 3])
rec("items", (x.shape[0], x.size(1), x.shape[-1], len(x.shape), list(x.shape)))
y = x.shape + (1,)
rec("added", (isinstance(y, torch.Size), type(y) is tuple, str(y), str((1,) + x.shape)))
rec("numel", (torch.Size([2, 3]).numel(), torch.Size([]).numel(), str(torch.Size([2, 3]))))
rec("hash", hash(x.shape) == hash((2, 3)))
rec("unpack", tuple(n * 2 for n in x.shape))
""",
    )


def test_device_parses_as_torch_device():
    assert repr(ts.device("cpu")) == "device(type='cpu')"
    d = ts.device("cpu", 0)
    assert (d.type, d.index, str(d), repr(d)) == ("cpu", 0, "cpu:0", "device(type='cpu', index=0)")
    assert ts.device("cpu:0") == d and ts.device(d) == d and ts.device("cpu") != d
    assert ts.device("cuda:1").index == 1 and ts.device("cuda").type == "cuda"
    assert ts.device(0) == ts.device("cuda", 0)  # an int names an accelerator, as in PyTorch
    assert ts.device("cpu") != "cpu" and len({ts.device("cpu"), ts.device("cpu")}) == 1
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda"):
        ts.device("gpu")
    with pytest.raises(RuntimeError, match="must not include an index"):
        ts.device("cuda:0", 1)


@pytest.mark.parity
def test_parity_devices():
    from script_parity import check_script

    check_script(
        """
for spec in (("cpu",), ("cpu", 0), ("cpu:0",), ("cuda",), ("cuda", 1), ("cuda:2",), ("mps",)):
    d = torch.device(*spec)
    rec(str(spec), (d.type, d.index, str(d), repr(d)))
cpu = torch.device("cpu")
rec("eq", (cpu == torch.device("cpu"), cpu == torch.device("cpu", 0)))
rec("str_eq", torch.device("cpu") == "cpu")
torch.device("tpu")
""",
        error_contains="Expected one of cpu, cuda",
    )


@pytest.mark.parity
def test_parity_default_device():
    from script_parity import check_script

    check_script(
        """
rec("start", repr(torch.get_default_device()))
torch.set_default_device("cpu:0")
rec("cpu0", (repr(torch.get_default_device()), str(torch.zeros(1).device)))
torch.set_default_device(torch.device("cpu"))
rec("cpu", (repr(torch.get_default_device()), str(torch.ones(2).device)))
torch.set_default_device(None)
rec("reset", repr(torch.get_default_device()))
"""
    )
    check_script('torch.set_default_device("gpu")', error_contains="Expected one of cpu, cuda")


def test_set_default_device_to_a_gpu_raises_and_keeps_the_cpu():
    try:
        for where in ("cuda", ts.device("mps"), 0):
            with pytest.raises(RuntimeError, match="tinygrad_seq runs on the CPU only"):
                ts.set_default_device(where)
            assert ts.get_default_device() == ts.device("cpu")
        device = ts.device("cuda" if ts.cuda.is_available() else "cpu")
        ts.set_default_device(device=device)  # the tutorials' habit
        assert ts.get_default_device() == device and ts.zeros(1).device == device
    finally:
        ts.set_default_device(None)


def test_check_device_accepts_the_cpu_only_with_a_clear_error():
    assert ts.dtypes.check_device(None) == ts.device("cpu")
    assert ts.dtypes.check_device("cpu:0") == ts.device("cpu", 0)
    for where in ("cuda", "cuda:0", ts.device("mps"), 0):
        with pytest.raises(RuntimeError, match="tinygrad_seq runs on the CPU only"):
            ts.dtypes.check_device(where)


def test_accelerator_namespaces_say_none_is_available():
    assert ts.cuda.is_available() is False and ts.cuda.device_count() == 0
    assert ts.backends.mps.is_available() is False and ts.backends.mps.is_built() is False
    assert ts.cuda.manual_seed_all(0) is None  # a no-op, as torch's without a GPU
    ts.backends.cudnn.deterministic = True  # a PyTorch habit: kept, without effect
    assert ts.backends.cudnn.is_available() is False
    device = ts.device("cuda" if ts.cuda.is_available() else "cpu")
    assert ts.zeros(2, device=device).device == ts.device("cpu")
