"""A cache of large arrays, reused once nothing refers to them any more.

A training step makes the same large temporaries every time: the input projection of a whole
sequence, its gradient, the stacked outputs. glibc's malloc hands blocks of 32 MiB and more
straight back to the operating system when they are freed, so the next step gets fresh
pages, and the kernel zero-fills every one on first touch: at config C of the benchmarks
(H=512, N=64, T=64, a 33.5 MB input projection) that is about a fifth of an LSTM step.

`empty(shape, dtype)` returns a view of a cached block when one of the right size is free,
and a cached block is free exactly when no array refers to it any more: every view holds a
reference to its base, so CPython's reference count of the base tells. Only the engine's
own large allocations go through here (the stacked outputs and gradients, the input
projection, the gradient buffers it scatters into); everything else is plain numpy.

`empty_cache()` drops the free blocks (as torch.cuda.empty_cache); `cached_bytes()` says how
much is held. At most `LIMIT` bytes are kept.

Smaller arrays are left to malloc, tuned once at import (`tune_malloc`, glibc only): by
default glibc maps blocks of 128 KiB and more afresh and gives the top of its heap back to
the system whenever more than twice that is free there. A step frees its per-step arrays at
the end of backward, so the next step fault-zeroes them all again: 6,600 page faults and a
quarter of an LSTM step at benchmark config B (H=256, N=32, T=64) when nothing else in the
process has moved glibc's thresholds. Set TINYGRAD_SEQ_MALLOC_TUNING=0 to leave malloc alone.
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys
import threading

import numpy as np

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
