"""The one random generator every random function in tinygrad_seq draws from.

`manual_seed(s)` makes runs repeatable, as `torch.manual_seed` does: initialisation, dropout,
`rand`/`randn`, data shuffling and sampling all call `get_generator()` at the moment they draw.
"""

from __future__ import annotations

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the package generator with an int; returns the new numpy Generator."""
    global _generator
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"manual_seed: expected an int seed, got {type(seed).__name__}")
    _generator = np.random.default_rng(int(seed))
    return _generator


def get_generator() -> np.random.Generator:
    """The package's current numpy Generator (replaced by every manual_seed call)."""
    return _generator
