"""Lazy gradients: the engine's speed layer, kept apart so that the walk reads as mathematics.

The backward walk (autograd.py) sums, for every node, the gradients that reach it along
different paths, and hands the sum to the node's op. Written plainly, every contribution is a
dense array of the node's shape and every sum a new array. Kept in another form until the sum
is needed, some are far cheaper:

    OuterGrad    sum_k A_k^T B_k: a weight's gradient from every time step, multiplied out
                 as one large matmul instead of T small ones and T full-size additions
    SparseGrad   zero except at a slice, what x[key] sends back: added into one buffer
                 instead of a full-size array of zeros per slice
    ScatterGrad  the rows x[0], ..., x[T-1] of a sequence, kept as pieces until they are all
                 in, then stacked: no full-size buffer while backward still frees the steps
    DenseSum     a sum in an array the engine made itself, so that later gradients are added
                 into it in place (an op's own array, perhaps saved for its backward, never is)

All are a `LazyGrad`, and the engine knows them only through that interface: a lazy gradient
reaching a node first becomes the node's running sum (`start`), a running sum takes later
gradients in while it can (`absorb`), and it is written out as an ndarray when the node is
reached (`dense`) or added into one (`add_into`); `nonfinite` is the anomaly check.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import kernels
from .kernels import matmul


class LazyGrad:
    """A gradient of `shape` kept in factored form until the engine needs it as an ndarray."""

    __slots__ = ()
    shape: tuple

    def start(self, shape: tuple, dtype: Any) -> LazyGrad:
        """The running sum that this first gradient to reach a node (shape, dtype) becomes."""
        return self

    def absorb(self, other: Any) -> bool:
        """Take one more gradient of the node into this running sum; False: left unchanged."""
        return False

    def add_into(self, buf: np.ndarray) -> None:
        """buf += self, for buf an ndarray of `shape` that the caller owns."""
        buf += self.dense(buf.dtype)

    def dense(self, dtype: Any = None) -> np.ndarray:
        """The gradient as a new ndarray of `shape` (in dtype if given), owned by the caller."""
        raise NotImplementedError

    def nonfinite(self) -> bool:
        """True when the gradient holds NaN or Inf (detect_anomaly)."""
        raise NotImplementedError


def nonfinite(g: Any) -> bool:
    """True when g, an ndarray or LazyGrad of any shape, holds NaN or Inf."""
    if isinstance(g, LazyGrad):
        return g.nonfinite()
    return isinstance(g, np.ndarray) and g.dtype.kind == "f" and not np.isfinite(g).all()


# ----------------------------------------------------------------------------- outer products


class OuterGrad(LazyGrad):
    """A gradient sum_k A_k^T B_k of shape (P, Q), kept as its factors A_k (n, P), B_k (n, Q).

    A weight used at every time step (W_hh) gets one product h_t^T dgates_t per step. Keeping
    the factors and multiplying once, [A_1; ...; A_T]^T [B_1; ...; B_T], turns T small matmuls
    and T full-size additions into one large matmul, which BLAS runs far more efficiently.
    """

    __slots__ = ("shape", "lefts", "rights", "rows", "total")

    def __init__(self, a: np.ndarray, b: np.ndarray):
        self.shape = (a.shape[1], b.shape[1])
        self.lefts, self.rights = [a], [b]
        self.rows = a.shape[0]  # rows of the stacked factors held so far
        self.total: np.ndarray | None = None  # products already multiplied out

    def absorb(self, other: Any) -> bool:
        """Join another OuterGrad's products to this sum (nothing else joins)."""
        if type(other) is not OuterGrad:
            return False
        self.extend(other)
        return True

    def extend(self, other: OuterGrad) -> None:
        """Add another sum of products to this one; multiply out once the factors outgrow it."""
        if other.total is not None:
            self._add_total(other.total)
        self.lefts += other.lefts
        self.rights += other.rights
        self.rows += other.rows
        # Held factors cost rows * (P + Q) numbers, the product P * Q: keep at most about four
        # times as many as the product (a batch of many steps per matmul, bounded memory; the
        # right factors are shared with the input projection's gradient pieces anyway).
        if self.rows * (self.shape[0] + self.shape[1]) > 4 * self.shape[0] * self.shape[1]:
            self._add_total(self.product())
            self.lefts, self.rights, self.rows = [], [], 0

    def _add_total(self, part: np.ndarray) -> None:
        if self.total is None:
            self.total = part
        else:
            self.total += part

    def product(self) -> np.ndarray:
        """The held factors multiplied out: [A_1; ...; A_k]^T [B_1; ...; B_k], (P, Q)."""
        if len(self.lefts) == 1:
            return matmul(self.lefts[0].T, self.rights[0])
        a, b = self.lefts[0], self.rights[0]
        left = kernels.empty((self.rows, a.shape[1]), a.dtype)
        right = kernels.empty((self.rows, b.shape[1]), b.dtype)
        np.concatenate(self.lefts, out=left)
        np.concatenate(self.rights, out=right)
        return matmul(left.T, right)

    def dense(self, dtype: Any = None) -> np.ndarray:
        """The sum as an ndarray of `shape`: one matmul over the stacked factors."""
        out = self.total
        if self.lefts:
            out = self.product() if out is None else out + self.product()
        return out if dtype is None or out.dtype == dtype else out.astype(dtype)

    def nonfinite(self) -> bool:
        """NaN or Inf in the multiplied-out part or in a held factor."""
        return nonfinite(self.total) or any(nonfinite(x) for x in self.lefts + self.rights)


# ----------------------------------------------------------------------------- slices


class SparseGrad(LazyGrad):
    """A gradient that is zero except at `key`, where it is `value`: what slicing sends back.

    Returning it instead of a dense array lets the engine scatter every slice of one tensor (the
    T per-step slices of a sequence's input projection, the gates of one step) into one buffer,
    so backpropagating through T slices costs O(T) instead of T full-size zero arrays.
    """

    __slots__ = ("shape", "key", "value", "advanced")

    def __init__(self, shape: tuple, key: Any, value: np.ndarray, advanced: bool):
        self.shape, self.key, self.value, self.advanced = shape, key, value, advanced

    def is_row(self) -> bool:
        """True for the gradient of x[t] (one integer index on the first axis)."""
        k = self.key
        return not self.advanced and type(k) is tuple and len(k) == 1 and type(k[0]) is int

    def start(self, shape: tuple, dtype: Any) -> LazyGrad:
        """A row x[t] waits as a ScatterGrad piece; other slices are scattered into zeros now."""
        if self.is_row():
            return ScatterGrad(shape, dtype, self)
        buf = kernels.zeros(shape, dtype)  # a slice: scattered into zeros of our own now
        self.add_into(buf)
        return DenseSum(buf)

    def add_into(self, buf: np.ndarray) -> None:
        """buf[key] += value; repeated integer indices accumulate (np.add.at)."""
        if not self.advanced:
            buf[self.key] += self.value
        elif not _add_rows(buf, self.key, self.value):
            np.add.at(buf, self.key, self.value)

    def dense(self, dtype: Any = None) -> np.ndarray:
        """The full gradient as an ndarray of `shape`."""
        out = np.zeros(self.shape, dtype=dtype or self.value.dtype)
        self.add_into(out)
        return out

    def nonfinite(self) -> bool:
        """NaN or Inf in the non-zero part."""
        return nonfinite(self.value)


_ONEHOT_MAX = 1 << 22  # entries of the one-hot matrix _add_rows may build (16 MB in float32)


def _add_rows(buf: np.ndarray, key: tuple, value: np.ndarray) -> bool:
    """buf[idx] += value for rows picked by one integer array (an embedding's gradient).

    Done as one matmul, onehot(idx)^T @ value, when the one-hot matrix is small: BLAS adds many
    rows into a small table several times faster than np.add.at's element-wise loop.
    -> False when the key is not of that form (the caller falls back to np.add.at).
    """
    if len(key) != 1 or type(key[0]) is not np.ndarray or buf.dtype.kind != "f":
        return False
    idx = key[0].reshape(-1)
    V, n = buf.shape[0], idx.size
    if not 0 < V * n <= _ONEHOT_MAX:
        return False
    onehot = np.zeros((V, n), dtype=buf.dtype)
    onehot[idx, np.arange(n)] = 1
    buf += (onehot @ value.reshape(n, -1)).reshape(buf.shape)
    return True


class ScatterGrad(LazyGrad):
    """Gradients of rows x[t] of one tensor, kept as pieces until the tensor's node is reached.

    Scattering at once needs a full-size buffer from the first row on. The T rows x[t] of a
    sequence's input projection send their gradients one by one, from the last step back,
    while the arrays saved for those steps are being freed; keeping the pieces defers the
    buffer to when the pieces are all in, which lowers the peak memory of a backward through
    time by the size of the projection. Pieces that are the rows x[0], ..., x[T-1] once each
    are stacked instead of added into zeros. (Other slices are scattered at once: their
    buffers are small, one time step's.)
    """

    __slots__ = ("shape", "dtype", "parts", "size")

    def __init__(self, shape: tuple, dtype: Any, first: SparseGrad):
        self.shape, self.dtype, self.parts, self.size = shape, dtype, [first], first.value.size

    def absorb(self, other: Any) -> bool:
        """Keep one more row piece, unless the pieces would hold more numbers than the array."""
        if type(other) is not SparseGrad or not other.is_row():
            return False
        if self.size + other.value.size > _numel(self.shape):
            return False
        self.parts.append(other)
        self.size += other.value.size
        return True

    def dense(self, dtype: Any = None) -> np.ndarray:
        """The sum of the pieces as an ndarray of `shape` (owned by the caller)."""
        dtype = self.dtype if dtype is None else dtype
        rows = self._rows()
        if rows is not None:
            out = kernels.empty(self.shape, dtype)
            return np.stack(rows, out=out, casting="same_kind")
        out = kernels.zeros(self.shape, dtype)
        for part in self.parts:
            part.add_into(out)
        return out

    def nonfinite(self) -> bool:
        """NaN or Inf in any piece."""
        return any(part.nonfinite() for part in self.parts)

    def _rows(self) -> list | None:
        """The values in row order when the pieces are the rows 0..n-1 once each, else None."""
        n = self.shape[0] if self.shape else 0
        if len(self.parts) != n:
            return None
        rows: list = [None] * n
        for part in self.parts:
            k = part.key
            if type(k) is tuple and len(k) == 1:
                k = k[0]  # x[t] arrives as the key (t,)
            if part.advanced or type(k) is not int or not -n <= k < n or rows[k] is not None:
                return None
            rows[k] = part.value
        return rows


def _numel(shape: tuple) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


# ----------------------------------------------------------------------------- dense sums


class DenseSum(LazyGrad):
    """A running sum in an ndarray `buf` of the engine's own, so later gradients add in place.

    The first gradient to reach a node is usually an op's own array, which may be saved for
    its backward or shared with another gradient: the engine must not change it. The second
    gradient therefore goes into a new array, and every later one is added into that.
    """

    __slots__ = ("buf",)

    def __init__(self, buf: np.ndarray):
        self.buf = buf

    @property
    def shape(self) -> tuple:
        """The shape of the sum (its buffer's)."""
        return self.buf.shape

    @staticmethod
    def of(prev: Any, pg: Any, shape: tuple, dtype: Any) -> DenseSum:
        """prev + pg (prev an op's ndarray, a LazyGrad, or None for zeros) in a new buffer."""
        if type(prev) is np.ndarray and type(pg) is np.ndarray:  # the common case: one addition
            # 0-d sums come back as numpy scalars, which `+=` would rebind instead of updating
            return DenseSum(np.asarray(prev + (pg if pg.dtype == dtype else pg.astype(dtype))))
        if prev is None or type(prev) is np.ndarray:
            buf = kernels.zeros(shape, dtype)
            if prev is not None:
                buf += prev
        else:
            buf = prev.dense(dtype)  # a lazy sum that cannot take pg: written out, it is ours
        total = DenseSum(buf)
        total.absorb(pg)
        return total

    def absorb(self, other: Any) -> bool:
        """buf += other, in place, for any gradient of the node."""
        if type(other) is np.ndarray:
            self.buf += other if other.dtype == self.buf.dtype else other.astype(self.buf.dtype)
        else:
            other.add_into(self.buf)
        return True

    def dense(self, dtype: Any = None) -> np.ndarray:
        """The buffer itself: the caller takes it over."""
        return self.buf

    def nonfinite(self) -> bool:
        """NaN or Inf in the buffer."""
        return nonfinite(self.buf)
