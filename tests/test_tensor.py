"""Tests of tinygrad_seq.tensor: construction, dtype promotion, attributes, repr, errors.

In-place ops and views have their own file, test_tensor_inplace.py (tensor.py is large).
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import require_torch

import tinygrad_seq as ts

# ----------------------------------------------------------------------------- construction


def test_python_floats_default_to_float32_and_ints_to_int64():
    assert ts.Tensor([1.0, 2.5]).dtype == np.float32
    assert ts.tensor(3.0).dtype == np.float32
    assert ts.tensor([1, 2.0]).dtype == np.float32  # mixed: float
    assert ts.tensor([[1, 2], [3, 4]]).dtype == np.int64
    assert ts.tensor([True, False]).dtype == np.bool_
    assert ts.tensor([]).dtype == np.float32 and ts.tensor([]).shape == (0,)


def test_numpy_arrays_keep_their_dtype():
    assert ts.tensor(np.zeros(3)).dtype == np.float64  # float64 is kept, as torch.tensor does
    assert ts.tensor(np.zeros(3, np.float32)).dtype == np.float32
    assert ts.tensor(np.arange(3, dtype=np.int32)).dtype == np.int32
    assert ts.tensor(np.float64(2.0)).dtype == np.float64


def test_explicit_dtype_and_names():
    assert ts.tensor([1, 2], dtype=ts.float64).dtype == np.float64
    assert ts.tensor([1.7, 2.2], dtype="int64").data.tolist() == [1, 2]
    assert ts.tensor([1, 2], dtype="double").dtype == np.float64
    assert ts.tensor([1, 2], dtype=np.float32).dtype == np.float32
    with pytest.raises(TypeError, match="dtype"):
        ts.tensor([1.0], dtype="complex64")
    with pytest.raises(TypeError, match="cannot make a tensor"):
        ts.tensor(["a", "b"])


def test_tensor_copies_its_input():
    a = np.ones(3)
    t = ts.tensor(a)
    a[0] = 5.0
    assert t.data[0] == 1.0


def test_integer_tensor_cannot_require_grad():
    for make in (
        lambda: ts.tensor(np.array([1, 2]), requires_grad=True),
        lambda: ts.tensor([True], requires_grad=True),
        lambda: ts.tensor([1, 2]).requires_grad_(),
        lambda: ts.zeros(2, dtype=ts.int64, requires_grad=True),
        lambda: ts.arange(3, requires_grad=True),
    ):
        with pytest.raises(RuntimeError, match="only floating point tensors can require gradients"):
            make()


def test_casting_to_integers_detaches():
    x = ts.tensor([1.5, -2.5], requires_grad=True)
    idx = x.long()
    assert idx.dtype == np.int64 and not idx.requires_grad and idx.grad_fn is None
    assert not (x > 0).requires_grad and x.bool().dtype == np.bool_
    y = x.double()
    assert y.dtype == np.float64 and y.requires_grad
    (y * 2).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])
    assert x.float() is x and x.to("float32") is x
    c = x.clone()
    assert c is not x and c.grad_fn is not None and not np.shares_memory(c.data, x.data)


# ----------------------------------------------------------------------------- dtype promotion


def test_dtype_promotion_int_and_float():
    i = ts.tensor([1, 2, 3])
    f32 = ts.tensor([0.5, 0.5, 0.5])
    f64 = ts.tensor(np.array([0.5, 0.5, 0.5]))
    assert (i + 0.5).dtype == np.float32
    assert (0.5 * i).dtype == np.float32
    assert (i + f32).dtype == np.float32
    assert (f32 + i).dtype == np.float32
    assert (i + f64).dtype == np.float64
    assert (f32 + f64).dtype == np.float64
    assert (i + 1).dtype == np.int64 and (i * i).dtype == np.int64
    assert (i / 2).dtype == np.float32 and (i / i).dtype == np.float32
    assert (2 / i).dtype == np.float32
    assert (f32 * 2).dtype == np.float32  # Python scalars never upcast
    assert (f32 * np.float64(2.0)).dtype == np.float32
    assert ts.tensor(np.array([1, 2], np.int32)).exp().dtype == np.float32
    np.testing.assert_array_equal((i + 0.5).data, [1.5, 2.5, 3.5])
    np.testing.assert_allclose((i / 2).data, [0.5, 1.0, 1.5])


def test_mixed_precision_gradients_come_back_in_each_leafs_dtype():
    a = ts.tensor([1.0, 2.0], requires_grad=True)
    b = ts.tensor(np.array([3.0, 4.0]), requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_array_equal(a.grad.data, [3.0, 4.0])


def test_ndarray_on_the_left_gives_a_tensor():
    x = ts.tensor([1.0, 2.0], requires_grad=True)
    y = np.array([2.0, 3.0]) * x
    assert isinstance(y, ts.Tensor)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 3.0])


# ----------------------------------------------------------------------------- attributes


def test_attributes():
    x = ts.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    assert isinstance(x.detach().numpy(), np.ndarray)
    # .data, as PyTorch's: a Tensor sharing x's memory, with no grad and no history
    assert isinstance(x.data, ts.Tensor) and not x.data.requires_grad and x.data.grad_fn is None
    assert np.shares_memory(x.data, x)
    assert x.shape == (2, 3) and x.ndim == 2 and x.dtype == np.float32
    assert x.size() == (2, 3) and x.size(1) == 3 and x.dim() == 2 and x.numel() == 6
    assert len(x) == 2 and x.grad is None and x.requires_grad and x.is_leaf and x.grad_fn is None
    y = (x * 2).sum()
    assert not y.is_leaf and y.grad_fn.name() == "SumBackward"
    assert [f.name() if f else None for f in y.grad_fn.next_functions] == ["MulBackward"]
    assert y.item() == 42.0 and isinstance(y.item(), float)
    assert ts.tensor([7]).item() == 7 and isinstance(ts.tensor([7]).item(), int)
    assert float(y) == 42.0 and int(ts.tensor(3)) == 3
    assert x.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert [r.shape for r in x] == [(3,), (3,)]


def test_zero_dim_results_are_arrays():
    x = ts.tensor(2.0, requires_grad=True)
    for y in (
        x * 3,
        x + x,
        x.sigmoid(),
        x.sum(),
        (x > 1),
        ts.tensor([1.0, 3.0]).argmax(0),
        ts.tensor([1.0, 3.0]).max(0).indices,
    ):
        assert type(y._data) is np.ndarray and y.ndim == 0  # internal: a 0-d array, not a scalar


def test_numpy_item_detach():
    x = ts.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()
    d = x.detach()
    assert d.is_leaf and not d.requires_grad and d.grad_fn is None
    assert np.shares_memory(d.numpy(), x.data) and isinstance(d.numpy(), np.ndarray)
    with pytest.raises(RuntimeError, match="one-element"):
        x.item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(x)


def test_requires_grad_():
    x = ts.tensor([1.0])
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad_(False)
    assert not x.requires_grad
    y = ts.tensor([1.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="detach"):
        y.requires_grad_(False)


def test_setitem_is_refused_on_tensors_that_require_grad():
    t = ts.zeros(3)
    t[1] = 5.0
    t[ts.tensor([0, 2])] = ts.tensor([1.0, 2.0])
    assert t.data.tolist() == [1.0, 5.0, 2.0]
    with pytest.raises(RuntimeError, match="in-place"):
        ts.zeros(3, requires_grad=True)[0] = 1.0


# ----------------------------------------------------------------------------- repr


def test_repr_follows_pytorch():
    assert repr(ts.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(ts.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(ts.tensor(3.5)) == "tensor(3.5000)"
    assert repr(ts.tensor([[1.0, 2.0], [3.0, 4.0]])) == "tensor([[1., 2.],\n        [3., 4.]])"
    assert repr(ts.tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    x = ts.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x * 2) == "tensor([2., 4.], grad_fn=<MulBackward>)"
    assert repr(ts.tensor(np.array([1.0, 2.0]))) == "tensor([1., 2.], dtype=float64)"
    assert repr(ts.tensor([True, False])) == "tensor([ True, False])"


@pytest.mark.parity
def test_repr_matches_torch_layout():
    torch = require_torch()
    cases = (
        [1.0, 2.0],
        [[1.0, 2.5], [3.0, -4.0]],
        [1, 2, 3],
        3.25,
        [[[1.0]], [[2.0]]],
        [1e5, 1.0],
        [1e-5, 1.0],
        [0.1, float("nan")],
        [0.0, 0.0],
        [123456.5, 2.25],
        [float(i) for i in range(1, 1002, 100)],
    )
    for a in cases:
        ours = repr(ts.tensor(a))
        theirs = repr(torch.tensor(a))
        assert ours == theirs


@pytest.mark.parity
def test_parity_format():
    from script_parity import check_script

    check_script(
        """
loss = torch.tensor(1.23456)
rec("spec", (f"{loss:.4f}", "%.3f" % loss, "{:>9.2e}".format(loss)))
rec("plain", (f"{loss}", "{}".format(torch.tensor(3)), f"{torch.tensor(True)}"))
rec("int", (f"{torch.tensor(7):03d}", f"{torch.tensor(2.5, dtype=torch.float64)}"))
rec("grad", f"{torch.tensor(2.5, requires_grad=True) * 2:.2f}")
rec("1d", (f"{torch.tensor([1.5])}", f"{torch.tensor([[1, 2]])}"))
rec("param", f"{torch.nn.Parameter(torch.tensor(2.0))}")
"""
    )
    check_script(  # a format spec for a tensor with dimensions: the same TypeError
        'f"{torch.tensor([1.5]):.3f}"',
        error_contains="unsupported format string passed to Tensor.__format__",
    )


# ----------------------------------------------------------------------------- errors


def test_matmul_shape_error_names_op_and_both_shapes():
    with pytest.raises(RuntimeError) as info:
        ts.zeros(3, 4) @ ts.zeros(5, 6)
    msg = str(info.value)
    assert "MatMul" in msg and "(3, 4)" in msg and "(5, 6)" in msg
    with pytest.raises(RuntimeError, match=r"MatMul.*\(2, 3, 4\).*\(5, 4, 2\)"):
        ts.zeros(2, 3, 4) @ ts.zeros(5, 4, 2)  # batch dims 2 and 5 do not broadcast
    with pytest.raises(RuntimeError, match="MatMul.*at least one dimension"):
        ts.zeros(3) @ ts.tensor(2.0)


@pytest.mark.parametrize(
    "op, name",
    [
        (lambda a, b: a + b, "Add"),
        (lambda a, b: a - b, "Sub"),
        (lambda a, b: a * b, "Mul"),
        (lambda a, b: a / b, "Div"),
        (ts.maximum, "Maximum"),
        (ts.minimum, "Minimum"),
    ],
)
def test_broadcast_error_names_op_and_both_shapes(op, name):
    with pytest.raises(RuntimeError) as info:
        op(ts.ones(2, 3), ts.ones(4))
    msg = str(info.value)
    assert name in msg and "(2, 3)" in msg and "(4,)" in msg and "broadcast" in msg


def test_other_shape_errors_are_explained():
    with pytest.raises(RuntimeError, match=r"Reshape.*\(2, 3\).*\(4,\)"):
        ts.zeros(2, 3).reshape(4)
    with pytest.raises(RuntimeError, match=r"cat: tensor 1 has shape \(2, 4\)"):
        ts.cat([ts.zeros(2, 3), ts.zeros(2, 4)], 0)
    with pytest.raises(RuntimeError, match="stack: tensor 1"):
        ts.stack([ts.zeros(2), ts.zeros(3)])
    with pytest.raises(RuntimeError, match="expand: cannot expand"):
        ts.zeros(2, 3).expand(4, 3)
    with pytest.raises(RuntimeError, match="leading"):
        ts.zeros(3).expand(-1, 3)
    with pytest.raises(RuntimeError, match=r"Where: condition \(3,\), x \(2,\) and y \(2,\)"):
        ts.where(ts.tensor([True, False, True]), ts.zeros(2), ts.zeros(2))
    with pytest.raises(IndexError, match="out of range"):
        ts.zeros(2, 3).sum(2)
    with pytest.raises(RuntimeError, match="empty"):
        ts.zeros(0).max()


def test_cat_rejects_bad_inputs():
    with pytest.raises(RuntimeError, match="zero-dimensional"):
        ts.cat([ts.tensor(1.0), ts.tensor(2.0)])
    with pytest.raises(IndexError, match="out of range"):
        ts.cat([ts.zeros(2), ts.zeros(2)], 1)
    with pytest.raises(ValueError, match="non-empty"):
        ts.cat([])
    assert ts.cat([ts.zeros(2, 3), ts.zeros(2, 1)], -1).shape == (2, 4)


def test_numpy_scalars_are_accepted_as_sizes_and_numbers():
    x = ts.rand(2, 3, requires_grad=True)
    assert x.reshape(np.int64(6)).shape == (6,)
    assert x.permute(np.int64(1), 0).shape == (3, 2)
    assert x.expand(np.int64(4), 2, 3).shape == (4, 2, 3)
    assert (x ** np.float64(2.0)).dtype == np.float32  # no upcast by a numpy scalar
    assert x.clamp(np.float64(0.1), np.float64(0.5)).dtype == np.float32
    assert (x * np.float64(2.0)).dtype == np.float32
    assert ts.tensor([1, 5, -3]).clamp(0, 2).data.tolist() == [1, 2, 0]
    assert ts.tensor([1, 5, -3]).clamp(0.5, 2).dtype == np.float32


def test_permute_rejects_bad_dims():
    x = ts.zeros(2, 3)
    assert x.permute(1, 0).shape == (3, 2) and x.permute((-1, 0)).shape == (3, 2)
    with pytest.raises(IndexError):
        x.permute(0, 5)
    with pytest.raises(RuntimeError, match="permutation"):
        x.permute(0, 0)
    with pytest.raises(RuntimeError, match="permutation"):
        x.permute(0)


def test_backward_of_non_scalar_needs_gradient():
    x = ts.ones(2, 3, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"one-element output, got shape \(2, 3\)"):
        y.backward()
    with pytest.raises(RuntimeError, match="gradient has shape"):
        y.backward(ts.ones(3))
    y.backward(ts.full((2, 3), 0.5))
    np.testing.assert_array_equal(x.grad.data, np.ones((2, 3)))


def test_backward_on_tensor_without_graph():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (ts.ones(2) * 2).sum().backward()


# ---------------------------------------------------------------- devices, dtypes, new_*
@pytest.mark.parity
def test_parity_to_overloads():
    from script_parity import check_script

    check_script(
        """
x = torch.tensor([1.5, -2.0, 3.25])
other = torch.tensor([1, 2])
rec("same", (x.to("cpu") is x, x.to(torch.device("cpu")) is x, x.to(x.dtype) is x,
             x.to(x) is x, x.to(device="cpu") is x, x.to("cpu", x.dtype) is x, x.cpu() is x))
rec("copied", (x.to("cpu", copy=True) is x, x.to(x.dtype, False, True) is x))
rec("dtype", x.to(torch.int64))
rec("device_dtype", x.to("cpu", torch.float32))
rec("device_dtype_kw", x.to(torch.device("cpu", 0), dtype=torch.int32))
rec("keywords", x.to(dtype=torch.float16, device="cpu"))
rec("other", x.to(other))
rec("other_is_long", x.to(other).dtype == torch.int64)
rec("non_blocking", x.to(torch.float32, non_blocking=True))
rec("device", (str(x.device), x.device.type, x.device == torch.device("cpu"), x.is_cuda))
x.to("tpu")
""",
        error_contains="Expected one of cpu, cuda",
    )


@pytest.mark.parity
def test_parity_to_a_dtype_is_differentiable():
    from script_parity import check_script

    check_script(
        """
w = torch.tensor([0.5, -1.5, 2.0], requires_grad=True)
y = w.to(torch.float32)
rec("grad_fn", y.grad_fn is not None)
(y * y).sum().backward()
rec("grad", w.grad)
rec("to_long_needs_no_grad", w.to(torch.int64).requires_grad)
c = w.to("cpu", copy=True)
rec("copy_is_differentiable", (c is w, c.requires_grad, c.grad_fn is not None))
"""
    )


def test_cuda_and_another_device_raise_a_clear_error():
    x = ts.zeros(2)
    for make in (
        lambda: x.cuda(),
        lambda: x.to("cuda"),
        lambda: x.to(ts.device("cuda", 0), ts.float64),
        lambda: x.to(device="mps"),
        lambda: x.to(0),
    ):
        with pytest.raises(RuntimeError, match="runs on the CPU only"):
            make()
    with pytest.raises(TypeError, match="twice"):
        x.to("cpu", device="cpu")


@pytest.mark.parity
def test_parity_type_and_the_cast_methods():
    from script_parity import check_script

    check_script(
        """
x = torch.tensor([1.75, -2.5, 0.0])
for name in ("long", "int", "float", "double", "bool", "half"):
    y = getattr(x, name)()
    rec(name, (y, y.type()))
rec("type", x.type())
rec("type_dtype", x.type(torch.int64))
rec("type_name", x.type("torch.DoubleTensor"))
rec("type_class", x.type(torch.LongTensor).type())
rec("type_self", x.type(x.dtype) is x)
x.type("float")
""",
        error_contains="invalid type",
    )


@pytest.mark.parity
def test_parity_legacy_tensor_constructor():
    from script_parity import check_script

    check_script(
        """
t = torch.Tensor(2, 3)
rec("sizes", (tuple(t.shape), t.dtype == torch.get_default_dtype()))
rec("one_size", tuple(torch.Tensor(4).shape))
rec("size_object", tuple(torch.Tensor(torch.Size([2, 5])).shape))
rec("empty", torch.Tensor())
rec("ints_become_floats", torch.Tensor([1, 2]))
rec("bools_become_floats", torch.Tensor([True, False]))
rec("tuple_is_data", torch.Tensor((2, 3)))
rec("nested", torch.Tensor([[1, 2], [3, 4]]))
rec("typed", (torch.LongTensor([1.5, -2.7]), torch.FloatTensor([1, 2]), torch.DoubleTensor([1, 2]),
              torch.BoolTensor([1, 0]), tuple(torch.LongTensor(2, 3).shape)))
rec("typed_dtypes", (torch.FloatTensor([1]).dtype == torch.float32,
                     torch.LongTensor(2).dtype == torch.int64,
                     torch.DoubleTensor(1).dtype == torch.float64))
torch.Tensor(2.5, 3)
""",
    )


@pytest.mark.parity
def test_parity_legacy_constructor_of_arrays_numbers_and_lists():
    from script_parity import check_script

    check_script(
        """
torch.set_default_dtype(torch.float32)
i = torch.Tensor(np.array([1, 2]))
rec("int_array_becomes_float", (i, i.dtype == torch.float32))
d = torch.Tensor(np.array([1.5, -2.25]))
rec("float64_array_becomes_float", (d, d.dtype == torch.float32))
b = torch.Tensor(np.array([True, False]))
rec("bool_array_becomes_float", (b, b.dtype == torch.float32))
a32 = np.array([1.0, 2.0], dtype=np.float32)
t32 = torch.Tensor(a32)
a32[0] = 7.0
t32[1] = -1.0
rec("float32_array_is_shared", (t32, tuple(a32.tolist()), t32.dtype == torch.float32))
a64 = np.array([1.0, 2.0])
t64 = torch.Tensor(a64)
a64[1] = 5.0
rec("float64_array_is_copied", t64)
rec("zero_d_float_array", torch.Tensor(np.array(2.5)))
rec("zero_d_int_array_is_a_size", tuple(torch.Tensor(np.array(3)).shape))
rec("numpy_int_is_a_size", tuple(torch.Tensor(np.int64(2)).shape))
rec("ints", (torch.Tensor([1, 2]), torch.Tensor([1, 2]).dtype == torch.float32))
rec("nested", (torch.Tensor([[1, 2.5], [3, 4]]), torch.Tensor([[1], [2]]).dtype == torch.float32))
rec("sizes", (tuple(torch.Tensor(2, 3).shape), torch.Tensor(2, 3).dtype == torch.float32))
rec("size_object", tuple(torch.Tensor(torch.Size([4, 1])).shape))
r = torch.Tensor([1.0, 2.0]).requires_grad_()
rec("requires_grad_after", (r.requires_grad, r.is_leaf, r.dtype == torch.float32))
torch.set_default_dtype(torch.float64)
rec("default_double", (torch.Tensor([1, 2]).dtype == torch.float64,
                       torch.Tensor(2).dtype == torch.float64,
                       torch.Tensor(np.array([1.5], dtype=np.float32)).dtype == torch.float64,
                       torch.Tensor(np.array([1, 2])).dtype == torch.float64))
a = np.array([1.0, 2.0])
torch.Tensor(a)[0] = 9.0
rec("double_array_is_shared_under_a_double_default", tuple(a.tolist()))
torch.Tensor(np.float64(2.5))
""",
    )
    for bad in ("torch.Tensor(2.5)", "torch.Tensor(True)"):
        check_script(bad)


@pytest.mark.parity
def test_parity_legacy_constructor_of_a_tensor_is_its_alias():
    from script_parity import check_script

    check_script(
        """
x = torch.tensor([1, 2])
y = torch.Tensor(x)
rec("long_kept", (y.dtype == torch.int64, y is x))
y[0] = 5
rec("written_through_the_alias", x)
x[1] = 7
rec("seen_through_the_alias", y)
f = torch.tensor([1.0, 2.0], dtype=torch.float32)
rec("float32_kept_under_a_double_default", torch.Tensor(f).dtype == torch.float32)
w = torch.tensor([1.0, 2.0], requires_grad=True)
v = torch.Tensor(w)
rec("alias_of_a_leaf", (v.requires_grad, v.is_leaf))
(v * torch.tensor([3.0, 4.0])).sum().backward()
rec("gradient_through_the_alias", w.grad)
p = torch.nn.Parameter(f)
with torch.no_grad():
    p[0] = -3.0
rec("parameter_shares_its_tensor", (f, p.dtype == torch.float32, p.is_leaf, p.requires_grad))
q = torch.nn.Parameter(torch.tensor([1.0, 2.0]), requires_grad=False)
rec("parameter_without_grad", (q, q.requires_grad))
a = torch.Tensor(p)
rec("alias_of_a_parameter", (type(a) is torch.Tensor, a.requires_grad, a.is_leaf))
m = torch.arange(6.0).reshape(2, 3)
for name, t in [("transposed", m.t()), ("expanded", torch.zeros(3).expand(2, 3)),
                ("zero_d", torch.tensor(2.0)), ("empty", torch.zeros(0, 2)), ("row", m[1])]:
    y = torch.Tensor(t)
    rec(name, (y, tuple(y.shape), y.is_contiguous() == t.is_contiguous()))
torch.Tensor(m.t())[0, 1] = 100.0
rec("written_through_a_transposed_alias", m)
""",
    )
    check_script(
        """
rec("range", torch.Tensor(range(3)))
rec("zero_d_tensors", torch.Tensor([torch.tensor(1.0), torch.tensor(2.0)]))
rec("device", (torch.Tensor([1.0], device="cpu"), tuple(torch.Tensor(2, 3, device="cpu").shape)))
torch.Tensor(torch.zeros(2), device="cpu")
""",
        error_contains="torch.Tensor(tensor, device=device)",
    )


def test_legacy_constructor_takes_no_dtype_or_requires_grad():
    # PyTorch's torch.Tensor(data) takes neither keyword (TypeError); torch.tensor takes both
    for kwargs in ({"requires_grad": True}, {"dtype": ts.float64}):
        with pytest.raises(TypeError, match="torch.tensor"):
            ts.Tensor([1.0, 2.0], **kwargs)
        with pytest.raises(TypeError, match="torch.tensor"):
            ts.Tensor(ts.zeros(2), **kwargs)
    with pytest.raises(TypeError, match="expected sizes"):
        ts.Tensor([1], [2])
    with pytest.raises(RuntimeError, match="non-negative"):
        ts.Tensor(2, -1)
    with pytest.raises(TypeError, match="expected a tensor of dtype int64"):
        ts.LongTensor(ts.zeros(2))
    with pytest.raises(TypeError, match="must be a Tensor"):
        ts.nn.Parameter([1.0, 2.0])


@pytest.mark.parity
def test_parity_legacy_constructor_rejects_requires_grad():
    from script_parity import check_script

    check_script("torch.Tensor([1.0, 2.0], requires_grad=True)")
    check_script("torch.Tensor(np.zeros(2), dtype=torch.float64)")


@pytest.mark.parity
def test_parity_new_constructors():
    from script_parity import check_script

    check_script(
        """
for i, dtype in enumerate((torch.float32, torch.float64, torch.int64)):
    x = torch.ones(2, dtype=dtype)
    tag = str(i)
    rec("zeros" + tag, (x.new_zeros(2, 3), x.new_zeros((1, 2)), x.new_zeros(size=(3,))))
    rec("ones" + tag, (x.new_ones(3), x.new_ones((2, 1), dtype=torch.float64)))
    rec("full" + tag, (x.new_full((2,), 3), x.new_full((2, 2), 1.5), x.new_full([1], True)))
    rec("empty" + tag, tuple(x.new_empty(2, 3).shape))
    rec("tensor" + tag, (x.new_tensor([1, 2]), x.new_tensor([1.5, 2.5]),
                         x.new_tensor([1, 2], dtype=torch.bool)))
    rec("dtypes" + tag, (x.new_zeros(1).dtype == dtype, x.new_tensor([1.5]).dtype == dtype,
                         x.new_empty(1).dtype == dtype, x.new_full((1,), 2).dtype == dtype))
w = torch.zeros(2).new_zeros(3, requires_grad=True)
rec("leaf", (w.requires_grad, w.is_leaf))
t = torch.tensor([1.0, 2.0], requires_grad=True).new_tensor(torch.tensor([3.0]))
rec("no_history", (t.requires_grad, t.is_leaf))
"""
    )


def test_new_constructors_accept_the_cpu_only():
    x = ts.zeros(2)
    assert x.new_zeros(2, device="cpu").device == ts.device("cpu")
    with pytest.raises(RuntimeError, match="runs on the CPU only"):
        x.new_ones(2, device="cuda")


@pytest.mark.parity
def test_parity_in_place_random_fills_take_a_generator():
    from script_parity import check_script

    check_script(
        """
def fills(seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.empty(6)
    return (x.clone().uniform_(-1, 1, generator=g), x.clone().normal_(0, 2, generator=g),
            x.clone().bernoulli_(0.5, generator=g))

a, b = fills(5), fills(5)
rec("repeat", tuple(bool(np.array_equal(x.numpy(), y.numpy())) for x, y in zip(a, b)))
rec("uniform_in_range", (bool(a[0].min() >= -1), bool(a[0].max() < 1)))
rec("bernoulli_01", bool(((a[2] == 0) | (a[2] == 1)).all()))
"""
    )


@pytest.mark.parity
def test_parity_legacy_types_check_the_dtype_with_isinstance():
    from script_parity import check_script

    check_script(
        """
x, n = torch.zeros(2, dtype=torch.float32), torch.tensor([1, 2])
rec("float", (isinstance(x, torch.FloatTensor), isinstance(x, torch.DoubleTensor)))
rec("long", (isinstance(n, torch.LongTensor), isinstance(n, torch.IntTensor)))
rec("others", (isinstance(torch.tensor([True]), torch.BoolTensor), isinstance(3, torch.LongTensor),
               isinstance(x.half(), torch.HalfTensor), isinstance(x, torch.Tensor)))
rec("empty", (tuple(torch.LongTensor().shape), tuple(torch.BoolTensor(2, 1).shape)))
rec("names", (torch.LongTensor.__name__, x.type(torch.IntTensor).type()))
"""
    )


def test_tensor_cuda_raises_for_every_device_named():
    x = ts.zeros(2)
    for device in (None, 0, "cuda:1", ts.device("cuda"), "cpu"):
        with pytest.raises(RuntimeError, match="tinygrad_seq runs on the CPU only"):
            x.cuda(device)


@pytest.mark.parity
@pytest.mark.parametrize("expr", ["t + [1, 2]", "(t, t) - t", "t * (1, 2)", "t - 'a'", "t + None"])
def test_operands_that_are_not_tensors_or_numbers_raise_typeerror(expr):
    """A list, tuple, str or None beside a tensor raises TypeError, as in PyTorch."""
    from script_parity import check_script

    check_script(f"t = torch.tensor([1.0, 2.0])\nrec('x', {expr})")


@pytest.mark.parity
@pytest.mark.parametrize("sizes", ["4, 3", "2", "-1, -1, -1", "2, -2"])
def test_impossible_expand_raises_runtimeerror(sizes):
    """Every impossible expand raises PyTorch's exception type."""
    from script_parity import check_script

    check_script(f"rec('x', torch.zeros(2, 3).expand({sizes}))")


@pytest.mark.parity
def test_view_as_shares_memory_and_gradient():
    from script_parity import check_script

    check_script(
        "x = torch.arange(6.0, requires_grad=True)\n"
        "v = x.view_as(torch.zeros(2, 3))\n"
        "(v * torch.arange(6.0).view(2, 3)).sum().backward()\n"
        "rec('v', v); rec('g', x.grad)\n"
        "y = torch.zeros(6)\n"
        "w = y.view_as(torch.zeros(3, 2))\n"
        "w[0, 0] = 5\n"
        "rec('y', y)\n"
        "rec('err', torch.zeros(2, 3).t().view_as(torch.zeros(6)))\n"
    )
