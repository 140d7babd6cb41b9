"""Numpy/BLAS helpers and the array cache: the engine's kernels, below everything else.

Everything here takes and returns plain ndarrays and knows nothing of tensors or graphs, so an
op that calls `matmul` instead of `@` still reads as the mathematics.

- `matmul` steers around OpenBLAS's slow layout for a few rows times a transposed matrix
  (W_hh^T in the backward of h W_hh^T) by computing the transposed product instead.
- The array cache (`empty`, `zeros`): a training step makes the same large temporaries every
  time (a sequence's input projection, its gradient, the stacked outputs). glibc hands blocks
  of `MIN_BYTES` and more back to the system when they are freed, so the next step would get
  fresh pages that the kernel zero-fills on first touch. `empty` returns a view of a cached
  block when one of the right size is free, and a block is free exactly when no array refers
  to it any more (CPython's reference count of the base tells). Only the engine's own large
  allocations come from here; `matmul_into_buffer` writes a large product into such a block.
  `empty_cache()` drops the free blocks (as torch.cuda.empty_cache), `cached_bytes()` says how
  much is held; at most `LIMIT` bytes are kept.
- `tune_malloc` (glibc only, once at import): smaller arrays stay on malloc's heap when freed,
  so a step's per-step arrays come back without page faults. TINYGRAD_SEQ_MALLOC_TUNING=0
  leaves malloc alone. benchmarks/RESULTS.md has the measurements behind each of these.
- `gc_paused` keeps Python's cycle collector from scanning the graph's many small objects.
"""

from __future__ import annotations

import ctypes
import gc
import os
import platform
import sys
import threading
from typing import Any

import numpy as np


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b as numpy's matmul, (.., n, k) @ (.., k, m) -> (.., n, m), avoiding a slow layout.

    With b the transpose of a C-order matrix (an F-order view, as W_hh^T in the backward
    of h W_hh^T), OpenBLAS multiplies a few rows a (N, k) by it more slowly than it computes
    the transposed product b^T a^T with b^T in C order; the result is then copied back to C
    order, which costs little for few rows.
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
    """a @ b for 2-D (n, k) @ (k, m) -> (n, m); a large result goes into an empty() block."""
    dtype = np.result_type(a.dtype, b.dtype)
    if a.shape[0] * b.shape[1] * dtype.itemsize < MIN_BYTES:
        return matmul(a, b)
    return np.matmul(a, b, out=empty((a.shape[0], b.shape[1]), dtype))


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


# ----------------------------------------------------------------------------- array cache

# Smaller blocks come from malloc's heap and stay there when freed (see tune_malloc), so
# they come back without page faults; larger ones are always mapped afresh. Caching only
# those keeps the peak memory of smaller models unchanged.
MIN_BYTES = 32 << 20
LIMIT = 1 << 30  # at most this many bytes held in cached blocks
_blocks: dict[int, list[np.ndarray]] = {}  # nbytes -> uint8 base arrays
_held = 0  # bytes in _blocks
# A free block is handed out once even when threads race for it: the loop variable of a
# thread looking at a block already raises its count, and the lock makes that plain.
_lock = threading.Lock()

# A block referred to only by its list and the loop variable reports this count (the extra
# one is getrefcount's own argument).
_FREE_REFS = 3


def empty(shape: tuple, dtype: np.dtype) -> np.ndarray:
    """An uninitialised C-order array of shape and dtype, from the cache when it is large."""
    dtype = np.dtype(dtype)
    nbytes = dtype.itemsize
    for d in shape:
        nbytes *= d
    if nbytes < MIN_BYTES:
        return np.empty(shape, dtype)
    with _lock:
        for base in _blocks.get(nbytes, ()):
            if sys.getrefcount(base) == _FREE_REFS:
                return base.view(dtype).reshape(shape)
        return _new_block(nbytes).view(dtype).reshape(shape)


def zeros(shape: tuple, dtype: np.dtype) -> np.ndarray:
    """A C-order array of zeros of shape and dtype, from the cache when it is large."""
    out = empty(shape, dtype)
    out.fill(0)
    return out


def _new_block(nbytes: int) -> np.ndarray:  # called with _lock held
    global _held
    base = np.empty(nbytes, np.uint8)
    if _held + nbytes > LIMIT:
        _drop_free()
        if _held + nbytes > LIMIT:
            return base  # not cached: plain memory, freed as usual
    _blocks.setdefault(nbytes, []).append(base)
    _held += nbytes
    return base


def empty_cache() -> int:
    """Drop the cached blocks nothing refers to; -> bytes released to malloc."""
    with _lock:
        return _drop_free()


def _drop_free() -> int:  # called with _lock held
    global _held
    released = 0
    for nbytes, blocks in list(_blocks.items()):
        keep = [b for b in blocks if sys.getrefcount(b) > _FREE_REFS]
        released += nbytes * (len(blocks) - len(keep))
        if keep:
            _blocks[nbytes] = keep
        else:
            del _blocks[nbytes]
    _held -= released
    return released


def cached_bytes() -> tuple[int, int]:
    """(bytes held in cached blocks, of which free for reuse)."""
    free = sum(
        nbytes
        for nbytes, blocks in _blocks.items()
        for b in blocks
        if sys.getrefcount(b) == _FREE_REFS
    )
    return _held, free


# ----------------------------------------------------------------------------- malloc

# glibc's own ceiling for its dynamic mmap threshold: blocks below it come from the heap
MMAP_THRESHOLD = 32 << 20
# free memory at the top of the heap kept for reuse instead of returned to the system
TRIM_THRESHOLD = 256 << 20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameters, from glibc's malloc.h
_malloc_settings: dict | None = None


def tune_malloc(
    mmap_threshold: int = MMAP_THRESHOLD, trim_threshold: int = TRIM_THRESHOLD
) -> dict | None:
    """glibc mallopt: heap below mmap_threshold, keep trim_threshold free -> settings or None.

    None where there is no glibc (macOS, Windows, musl) or mallopt refuses.
    """
    global _malloc_settings
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
        ok = libc.mallopt(_M_MMAP_THRESHOLD, int(mmap_threshold)) == 1
        ok = libc.mallopt(_M_TRIM_THRESHOLD, int(trim_threshold)) == 1 and ok
    except (OSError, AttributeError):
        return None
    if not ok:
        return None
    _malloc_settings = {
        "mmap_threshold": int(mmap_threshold),
        "trim_threshold": int(trim_threshold),
    }
    return dict(_malloc_settings)


def malloc_settings() -> dict | None:
    """The mallopt settings tune_malloc applied last ({'mmap_threshold', 'trim_threshold'})."""
    return None if _malloc_settings is None else dict(_malloc_settings)


if os.environ.get("TINYGRAD_SEQ_MALLOC_TUNING", "1") != "0":
    tune_malloc()


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x) elementwise into a new array, exactly 0 or 1 far out: (*s) -> (*s)."""
    # For x << 0, e^-x overflows to inf and gives exactly 0, the limit; for x >> 0 it underflows
    # to 0 and gives exactly 1. Neither is an error, so both are silenced. (The cheaper
    # (1 + tanh(x/2)) / 2 loses all relative precision in the tail, x << 0.)
    out = np.negative(x, out=np.empty_like(x))  # out= keeps 0-d results arrays
    with np.errstate(over="ignore", under="ignore"):
        np.exp(out, out=out)
    out += 1
    return np.reciprocal(out, out=out)
