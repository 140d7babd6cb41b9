"""The one random generator every random function in tinygrad_seq draws from.

`manual_seed(s)` makes runs repeatable, as `torch.manual_seed` does: initialisation, dropout,
`rand`/`randn`, data shuffling and sampling all call `get_generator()` at the moment they draw.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .dtypes import check_device

_generator = np.random.default_rng()
_seed: int | None = None  # the last manual_seed (None: seeded from fresh entropy)


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the package generator with an int; returns the new numpy Generator."""
    global _generator, _seed
    try:
        seed = int(seed)  # as PyTorch: a float is truncated, a string raises ValueError
    except (TypeError, ValueError) as e:
        raise type(e)(f"manual_seed: expected an int seed, got {seed!r}") from None
    _seed = seed % 2**64  # torch keeps a negative seed as its 64-bit pattern
    _generator = np.random.default_rng(_seed)
    return _generator


def initial_seed() -> int:
    """The seed last given to manual_seed (the entropy numpy drew when never seeded)."""
    if _seed is None:
        return int(_generator.bit_generator.seed_seq.entropy)
    return _seed


def get_generator() -> np.random.Generator:
    """The package's current numpy Generator (replaced by every manual_seed call)."""
    return _generator


_DEFAULT_SEED = 67280421310721  # what a new torch.Generator() starts from


class Generator:
    """A random generator of its own, as torch.Generator: pass it as generator= to rand, randn..."""

    def __init__(self, device: Any = "cpu"):
        self.device = check_device(device)
        self.manual_seed(_DEFAULT_SEED)

    def manual_seed(self, seed: int) -> Generator:
        """Reseed with an int; -> self (so Generator().manual_seed(0) reads as in PyTorch)."""
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
        self._seed = int(seed) % 2**64  # torch keeps a negative seed as its 64-bit pattern
        self._rng = np.random.default_rng(self._seed)
        return self

    def initial_seed(self) -> int:
        """The seed this generator was last seeded with."""
        return self._seed

    def seed(self) -> int:
        """Reseed from fresh entropy; -> the new seed."""
        self.manual_seed(int(np.random.SeedSequence().entropy) % 2**63)
        return self._seed

    @property
    def numpy(self) -> np.random.Generator:
        """The numpy Generator this one draws from."""
        return self._rng


def numpy_generator(generator: Generator | None) -> np.random.Generator:
    """The numpy Generator to draw from: generator's own, or the package's when None."""
    if generator is None:
        return _generator
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be a Generator, got {type(generator).__name__}")
    return generator.numpy


def numpy_source(generator: Any, where: str = "generator") -> np.random.Generator:
    """None -> the package generator now; a numpy Generator -> itself; anything with a numpy
    Generator in its `.numpy` (a Generator) -> that one; else a TypeError naming `where`."""
    if generator is None:
        return _generator
    if isinstance(generator, np.random.Generator):
        return generator
    wrapped = getattr(generator, "numpy", None)
    if isinstance(wrapped, np.random.Generator):
        return wrapped
    raise TypeError(
        f"{where}: expected generator to be None, a numpy Generator "
        f"(np.random.default_rng(seed)) or a Generator, got {type(generator).__name__}"
    )
