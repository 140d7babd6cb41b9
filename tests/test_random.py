"""Tests of tinygrad_seq.random: manual_seed and the one generator every random function uses."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_seq as ts


def test_manual_seed_drives_every_random_function():
    ts.manual_seed(123)
    a = (
        ts.rand(5).numpy().copy(),
        ts.randn(5).numpy().copy(),
        ts.rand_like(ts.zeros(2)).numpy().copy(),
    )
    ts.manual_seed(123)
    b = (ts.rand(5).numpy(), ts.randn(5).numpy(), ts.rand_like(ts.zeros(2)).numpy())
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    ts.manual_seed(124)
    assert not np.array_equal(ts.rand(5).data, a[0])
    assert ts.manual_seed(5) is ts.random.get_generator()
    with pytest.raises(ValueError, match="int seed"):  # PyTorch: int(seed) raises
        ts.manual_seed("a")


def test_the_generator_is_numpys_default_rng_of_the_seed():
    ts.manual_seed(7)
    want = np.random.default_rng(7)
    np.testing.assert_array_equal(ts.rand(4, dtype=ts.float64).numpy(), want.random(4))
    np.testing.assert_array_equal(ts.randn(3, dtype=ts.float64).numpy(), want.standard_normal(3))
    ts.manual_seed(1.9)  # as PyTorch: int(seed), so 1.9 and True seed as 1
    x = ts.rand(3).numpy()
    ts.manual_seed(True)
    np.testing.assert_array_equal(ts.rand(3).numpy(), x)
    ts.manual_seed(1)
    np.testing.assert_array_equal(ts.rand(3).numpy(), x)


# ---------------------------------------------------------------- Generator
@pytest.mark.parity
def test_parity_generator_seeds():
    from script_parity import check_script

    check_script(
        """
g = torch.Generator()
rec("default_seed", g.initial_seed())
rec("returns_itself", g.manual_seed(5) is g)
rec("seed", g.initial_seed())
rec("device", str(torch.Generator(device="cpu").device))
torch.manual_seed(11)
rec("global", torch.initial_seed())
g.manual_seed("a")
"""
    )


@pytest.mark.parity
def test_parity_a_generator_repeats_its_draws_and_leaves_the_global_one_alone():
    from script_parity import check_script

    check_script(
        """
def draws(g):
    return (torch.rand(3, generator=g), torch.randn(2, 2, generator=g, dtype=torch.float32),
            torch.randint(10, (4,), generator=g))

a = draws(torch.Generator().manual_seed(3))
b = draws(torch.Generator().manual_seed(3))
c = draws(torch.Generator().manual_seed(4))
rec("repeat", tuple(bool(np.array_equal(x.numpy(), y.numpy())) for x, y in zip(a, b)))
rec("differ", bool(np.array_equal(a[0].numpy(), c[0].numpy())))
torch.manual_seed(0)
plain = torch.rand(4)
torch.manual_seed(0)
draws(torch.Generator().manual_seed(9))
rec("global_untouched", bool(np.array_equal(plain.numpy(), torch.rand(4).numpy())))
"""
    )


def test_generator_draws_from_numpy_seeded_as_given():
    g = ts.Generator().manual_seed(42)
    expected = np.random.default_rng(42).random(5)
    np.testing.assert_allclose(ts.rand(5, generator=g, dtype=ts.float64).numpy(), expected)
    assert ts.Generator().manual_seed(-1).initial_seed() == 2**64 - 1  # torch's 64-bit pattern
    s = g.seed()
    assert g.initial_seed() == s
    with pytest.raises(RuntimeError, match="runs on the CPU only"):
        ts.Generator(device="cuda")
    with pytest.raises(TypeError, match="generator must be a Generator"):
        ts.rand(2, generator=42)
