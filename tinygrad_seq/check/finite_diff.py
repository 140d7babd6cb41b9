"""Central finite differences: the one numerical derivative the correctness tools share.

    df/dx_i ~ (f(x + eps e_i) - f(x - eps e_i)) / 2 eps

with an error of order eps^2 (and rounding of order ulp / eps), so in float64 eps=1e-6 leaves
errors near 1e-10. `partials` perturbs one entry of an array at a time, in place, and puts it
back; `directional` perturbs the whole array along a direction u at once, which gives J u from
two evaluations however large x is. numpy only: f is any function of the array's current
values (a forward pass reading a parameter, a loss of a state).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np


def partials(
    f: Callable[[], np.ndarray | float],
    x: np.ndarray,
    eps: float = 1e-6,
    entries: Iterable[int] | None = None,
) -> np.ndarray:
    """(x.size, *f's shape): row i is df/dx_i for the flat entries i (all, or `entries`).

    x is changed in place while f runs and restored afterwards; rows not in entries are NaN.
    """
    flat = x.reshape(-1)
    if not np.shares_memory(flat, x):
        raise ValueError("partials: x must be perturbable in place (a contiguous array)")
    out = None
    for i in range(flat.size) if entries is None else entries:
        orig = flat[i]
        flat[i] = orig + eps
        plus = np.asarray(f(), dtype=np.float64)
        flat[i] = orig - eps
        minus = np.asarray(f(), dtype=np.float64)
        flat[i] = orig
        if out is None:
            out = np.full((flat.size,) + plus.shape, np.nan)
        out[i] = (plus - minus) / (2 * eps)
    return np.full(flat.size, np.nan) if out is None else out


def directional(
    f: Callable[[], np.ndarray | float], x: np.ndarray, u: np.ndarray, eps: float = 1e-6
) -> np.ndarray:
    """(f(x + eps u) - f(x - eps u)) / 2 eps, f's derivative along u (shaped as x): -> f's shape.

    x is changed in place while f runs and restored afterwards.
    """
    orig = x.copy()
    try:
        x[...] = orig + eps * u.reshape(x.shape)
        plus = np.asarray(f(), dtype=np.float64)
        x[...] = orig - eps * u.reshape(x.shape)
        minus = np.asarray(f(), dtype=np.float64)
    finally:
        x[...] = orig
    return (plus - minus) / (2 * eps)
