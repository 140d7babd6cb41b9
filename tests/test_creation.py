"""Tests of tinygrad_seq.creation: the factories (zeros, ones, full, eye, arange, rand, randn,
randint, the *_like forms): shapes, values, dtypes, requires_grad."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_seq as ts


def test_zeros_ones_full_eye():
    assert ts.zeros(2, 3).shape == (2, 3) and ts.zeros((2, 3)).shape == (2, 3)
    assert ts.zeros(2).dtype == np.float32 and not ts.zeros(2).numpy().any()
    assert ts.ones([4]).data.tolist() == [1.0] * 4
    assert ts.zeros().shape == ()
    assert ts.full((2, 2), 7).dtype == np.int64
    assert ts.full((2, 2), 0.5).dtype == np.float32
    assert ts.full((2,), True).dtype == np.bool_
    np.testing.assert_array_equal(ts.full((2, 3), 0.5).data, np.full((2, 3), 0.5))
    np.testing.assert_array_equal(ts.eye(3).data, np.eye(3))
    np.testing.assert_array_equal(ts.eye(2, 3).data, np.eye(2, 3))
    assert ts.eye(2, dtype=ts.float64).dtype == np.float64
    x = ts.zeros(2, requires_grad=True)
    assert x.requires_grad and x.is_leaf
    with pytest.raises(RuntimeError, match="non-negative"):
        ts.zeros(-1)


def test_arange():
    assert ts.arange(5).data.tolist() == [0, 1, 2, 3, 4] and ts.arange(5).dtype == np.int64
    assert ts.arange(2, 8, 3).data.tolist() == [2, 5]
    a = ts.arange(0, 1, 0.25)
    assert a.dtype == np.float32 and a.data.tolist() == [0.0, 0.25, 0.5, 0.75]
    assert ts.arange(3, dtype=ts.float64).dtype == np.float64
    assert ts.arange(5, 0, -2).data.tolist() == [5, 3, 1]


def test_like_factories():
    t = ts.tensor(np.ones((2, 3)))
    for z in (ts.zeros_like(t), ts.ones_like(t), ts.full_like(t, 2.0), ts.randn_like(t)):
        assert z.shape == (2, 3) and z.dtype == np.float64
    assert not ts.zeros_like(t).numpy().any() and ts.ones_like(t).numpy().all()
    assert ts.zeros_like(t, dtype=ts.float32).dtype == np.float32
    assert ts.ones_like(t, requires_grad=True).requires_grad
    assert ts.zeros_like(ts.tensor([1, 2])).dtype == np.int64


def test_rand_randn():
    u = ts.rand(1000)
    assert u.dtype == np.float32 and u.shape == (1000,)
    assert 0.0 <= u.numpy().min() and u.numpy().max() < 1.0 and 0.4 < u.numpy().mean() < 0.6
    n = ts.randn(100, 100, dtype=ts.float64)
    assert n.dtype == np.float64 and abs(n.numpy().mean()) < 0.05 and 0.95 < n.numpy().std() < 1.05
    assert ts.randn(2, 3, requires_grad=True).requires_grad
    assert ts.rand((2, 3)).shape == (2, 3)


def test_randint():
    ts.manual_seed(3)
    r = ts.randint(2, 5, (200,))
    assert r.dtype == np.int64 and r.shape == (200,) and set(r.numpy().tolist()) == {2, 3, 4}
    ts.manual_seed(3)
    np.testing.assert_array_equal(ts.randint(2, 5, (200,)).numpy(), r.numpy())
    assert ts.randint(3, size=(7,)).numpy().max() < 3 and ts.randint(3, size=(7,)).shape == (7,)
    assert ts.randint(0, 9, (2, 3), dtype=ts.int32).dtype == np.int32
    assert ts.randint(0, 9, ()).shape == ()
    with pytest.raises(TypeError, match="size"):  # as PyTorch: size is a tuple, and required
        ts.randint(0, 9)
    with pytest.raises(RuntimeError, match="from=5 >= to=5"):
        ts.randint(5, 5, (2,))


# ---------------------------------------------------------------- device=, size=, overloads
@pytest.mark.parity
def test_parity_every_factory_takes_device():
    from script_parity import check_script

    check_script(
        """
for dev in ("cpu", torch.device("cpu"), torch.device("cpu", 0), None):
    tag = str(dev)
    x = torch.ones(2, 3, device=dev)
    rec("fixed" + tag, (torch.tensor([1, 2], device=dev), torch.zeros(2, device=dev), x,
                        torch.full((2,), 7, device=dev), torch.arange(4, device=dev),
                        torch.eye(2, device=dev), torch.zeros_like(x, device=dev),
                        torch.ones_like(x, device=dev), torch.full_like(x, 2.5, device=dev)))
    rec("shapes" + tag, tuple(tuple(t.shape) for t in (
        torch.empty(2, 3, device=dev), torch.rand(2, device=dev), torch.randn(3, device=dev),
        torch.randint(5, (4,), device=dev), torch.empty_like(x, device=dev),
        torch.rand_like(x, device=dev), torch.randn_like(x, device=dev))))
    rec("device" + tag, str(torch.zeros(1, device=dev).device))
"""
    )


def test_a_factory_on_another_device_raises_naming_the_cpu():
    for make in (
        lambda: ts.zeros(2, device="cuda"),
        lambda: ts.tensor([1.0], device="cuda:0"),
        lambda: ts.randn(2, device=ts.device("mps")),
        lambda: ts.empty_like(ts.zeros(1), device="cuda"),
        lambda: ts.randint(3, (2,), device="cuda"),
    ):
        with pytest.raises(RuntimeError, match="tinygrad_seq runs on the CPU only"):
            make()


@pytest.mark.parity
def test_parity_size_keyword_empty_and_like_keywords():
    from script_parity import check_script

    check_script(
        """
rec("zeros", (torch.zeros(size=(2, 3)), torch.ones(size=(2,)), torch.ones(size=[1, 2])))
rec("shapes", (tuple(torch.empty(size=(2, 3)).shape), tuple(torch.rand(size=(4,)).shape),
               tuple(torch.randn(size=(1, 2)).shape), tuple(torch.empty((3, 1)).shape),
               tuple(torch.empty(0).shape)))
x = torch.ones(2, 2, dtype=torch.int64)
e = torch.empty_like(x)
rec("empty_like", (tuple(e.shape), e.dtype == torch.int64))
rec("like_dtype", (torch.zeros_like(x, dtype=torch.float32), torch.ones_like(x, dtype=torch.bool),
                   torch.full_like(x, 3.5, dtype=torch.float64)))
rec("like_grad", (torch.zeros_like(x, dtype=torch.float64, requires_grad=True).requires_grad,
                  torch.rand_like(torch.ones(2), requires_grad=True).requires_grad))
rec("empty_dtype", torch.empty(2, dtype=torch.int32).dtype == torch.int32)
torch.zeros(2, size=(3,))
"""
    )


@pytest.mark.parity
def test_parity_randint_overloads_and_errors():
    from script_parity import check_script

    cases = [
        "r = torch.randint(3, (50,))",
        "r = torch.randint(2, 5, (50,))",
        "r = torch.randint(2, 5, size=(5, 10))",
        "r = torch.randint(3, size=(50,))",
        "r = torch.randint(low=2, high=5, size=(50,))",
        "r = torch.randint(high=4, size=(50,))",
        "r = torch.randint(-3, 0, (50,), dtype=torch.float32)",
        "r = torch.randint(2, 9, (), dtype=torch.int32)",
        "r = torch.randint(5, (50,), generator=torch.Generator().manual_seed(0))",
    ]
    for case in cases:
        check_script(
            case
            + """
rec("shape", tuple(r.shape))
rec("in_range", (bool(r.min() >= -3), bool(r.max() < 9)))
rec("dtype", (r.dtype == torch.int64, r.dtype == torch.float32, r.dtype == torch.int32))
"""
        )
    for bad, error in [
        ("torch.randint(0, 9)", "size"),
        ("torch.randint(3, size=7)", "must be tuple of ints"),
        ("torch.randint(5, 5, (2,))", "from=5 >= to=5"),
        ("torch.randint(5, (2,), requires_grad=True)", "can require gradients"),
    ]:
        check_script(bad, error_contains=error)


def test_randint_draws_from_the_generator_given():
    g = ts.Generator().manual_seed(7)
    a = ts.randint(0, 100, (20,), generator=g)
    b = ts.randint(0, 100, (20,), generator=ts.Generator().manual_seed(7))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert ts.randint(3, 6, size=(2, 2)).shape == (2, 2)
    with pytest.raises(TypeError, match="generator must be a Generator"):
        ts.randint(3, (2,), generator=np.random.default_rng(0))


@pytest.mark.parity
def test_parity_randperm():
    from script_parity import check_script

    check_script(
        """
p = torch.randperm(10)
rec("is_permutation", (sorted(p.tolist()) == list(range(10)), p.dtype == torch.int64))
rec("empty", tuple(torch.randperm(0).shape))
f = torch.randperm(4, dtype=torch.float64, requires_grad=True, device="cpu")
rec("float", (f.dtype == torch.float64, f.requires_grad, sorted(f.tolist())))
a = torch.randperm(20, generator=torch.Generator().manual_seed(2))
b = torch.randperm(20, generator=torch.Generator().manual_seed(2))
rec("repeat", a.tolist() == b.tolist())
torch.randperm(2.0)
""",
        error_contains="must be int",
    )
    check_script("torch.randperm(-1)")  # both refuse a negative n with a RuntimeError
