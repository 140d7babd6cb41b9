"""Numpy/BLAS helpers shared by the ops and the lazy gradients: the engine's kernels.

Everything here takes and returns plain ndarrays and knows nothing of tensors or graphs; an op
that calls `matmul` instead of `@` still reads as the mathematics. Two things make a matrix
product slower than it needs to be in a recurrent network's training step: OpenBLAS's slow
layout for a few rows times a transposed matrix (W_hh^T in the backward of h W_hh^T), and the
page faults of a large fresh result (a whole sequence's input projection). `matmul` steers
around the first, `matmul_into_buffer` around the second with a block from `buffers`.
`gc_paused` keeps Python's cycle collector from scanning the graph's many small objects.
"""

from __future__ import annotations

import gc
from typing import Any

import numpy as np

from . import buffers


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b as numpy's matmul, (.., n, k) @ (.., k, m) -> (.., n, m), avoiding a slow layout.

    With b the transpose of a C-order matrix (an F-order view, as W_hh^T in the backward
    of h W_hh^T), OpenBLAS multiplies a few rows a (N, k) by it up to 1.5x slower (N = 32,
    64) than it computes the transposed product b^T a^T with b^T in C order; the result is
    then copied back to C order, which costs little for few rows.
    """
    if (
        a.ndim == 2
        and b.ndim == 2
        and a.shape[0] >= 16  # fewer rows: no gain measured
        and b.flags.f_contiguous
        and not b.flags.c_contiguous
        and a.size <= b.size
    ):
        return np.ascontiguousarray((b.T @ a.T).T)
    return a @ b


def matmul_into_buffer(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b for 2-D (n, k) @ (k, m) -> (n, m); a large result goes into a buffers.empty block."""
    dtype = np.result_type(a.dtype, b.dtype)
    if a.shape[0] * b.shape[1] * dtype.itemsize < buffers.MIN_BYTES:
        return matmul(a, b)
    return np.matmul(a, b, out=buffers.empty((a.shape[0], b.shape[1]), dtype))


class gc_paused:
    """Context manager: no cyclic garbage collection inside (long unrolled loops, backward).

    The graph makes many small objects; Python's collector would scan them again and again
    (about a quarter of the time at T=1000) although they hold no reference cycles to free.
    """

    __slots__ = ("was",)

    def __enter__(self) -> gc_paused:
        self.was = gc.isenabled()
        gc.disable()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.was:
            gc.enable()
