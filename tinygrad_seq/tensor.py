"""Tensor: a numpy array that remembers the op that made it, so gradients can flow back.

A Tensor holds `.data` (an ndarray), `.requires_grad`, `.grad` (filled by backward) and, when an
op made it in grad mode, `.grad_fn` (the recorded node). Its methods are thin calls into the
primitive ops of `ops.py`, or short compositions of them (mean = sum / n, var, ...).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from . import autograd, dtypes, ops
from .autograd import Context


class _HookHandle:
    """Returned by register_hook; .remove() takes the hook off again."""

    def __init__(self, hooks: list, fn: Any):
        self._hooks, self._fn = hooks, fn

    def remove(self) -> None:
        """Unregister the hook."""
        if self._fn in self._hooks:
            self._hooks.remove(self._fn)


class MaxResult(NamedTuple):
    """(values, indices) returned by max(dim) / min(dim), as PyTorch's return_types."""

    values: Tensor
    indices: Tensor


def _as_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Python numbers/lists/ndarrays -> ndarray with PyTorch's dtype rules (floats: default)."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return np.array(data, dtype=dtypes.to_dtype(dtype))
    arr = np.array(data)
    kind = arr.dtype.kind
    if kind == "f" and not isinstance(data, (np.ndarray, np.generic)):
        arr = arr.astype(dtypes.get_default_dtype())
    elif kind in "iu" and not isinstance(data, (np.ndarray, np.generic)):
        arr = arr.astype(np.int64)
    elif kind not in "fiub":
        raise TypeError(
            f"Tensor: cannot make a tensor from {type(data).__name__} with numpy dtype "
            f"{arr.dtype}; expected numbers, nested lists of numbers or a numeric ndarray"
        )
    return arr


def _float_mode(data: np.ndarray) -> str:
    """PyTorch's print style: '1., 2.' when all values are integers, else 4 fixed decimals."""
    if data.dtype.kind != "f":
        return "maxprec"
    finite = np.abs(data[np.isfinite(data)])
    nonzero = finite[finite != 0]
    if nonzero.size == 0:
        return "maxprec"
    lo, hi = nonzero.min(), nonzero.max()
    scientific = hi >= 1e8 or lo < 1e-4 or hi / lo > 1000  # numpy's rule, which is PyTorch's
    return "fixed" if scientific or (finite != np.round(finite)).any() else "maxprec"


def _check_grad_dtype(arr: np.ndarray) -> None:
    if arr.dtype.kind != "f":
        raise TypeError(
            f"only floating point tensors can require gradients, got dtype {arr.dtype} "
            "(integer tensors hold indices and targets; convert with .float() or .double())"
        )


def _is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer))


def _one_dim(dim: Any, ndim: int, op: str) -> int:
    """A single dim as a non-negative axis; ops like softmax take exactly one."""
    if not _is_int(dim):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    return _dims(dim, ndim)[0]


def _dims(dim: Any, ndim: int) -> tuple | None:
    """Normalise dim (int, tuple or None) into a tuple of non-negative axes."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = []
    for d in dims:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(f"dim {d} is out of range for a tensor with {ndim} dimensions")
        out.append(int(d) % max(ndim, 1))
    return tuple(out)


class Tensor:
    """An n-dimensional array (any shape) with reverse-mode autodiff; floats default to float32."""

    __slots__ = ("data", "grad", "requires_grad", "_ctx", "_hooks", "__weakref__")
    __array_priority__ = 1000  # ndarray (op) Tensor defers to Tensor's reflected operators

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None):
        self.data = _as_array(data, dtype)
        if requires_grad:
            _check_grad_dtype(self.data)
        self.grad: Tensor | None = None
        self.requires_grad = bool(requires_grad)
        self._ctx: Context | None = None
        self._hooks: Any = ()  # a leaf's hooks, a list once one is registered (ops: on _ctx)

    @classmethod
    def _make(cls, data: np.ndarray, requires_grad: bool, ctx: Context | None) -> Tensor:
        """Fast constructor for op outputs: no checks, but .data is always an ndarray."""
        if type(data) is not np.ndarray:
            data = np.asarray(data)  # numpy returns scalars, not 0-d arrays, from 0-d math
        t = object.__new__(Tensor)
        t.data, t.grad, t.requires_grad, t._ctx = data, None, requires_grad, ctx
        t._hooks = ()
        return t

    # ------------------------------------------------------------------ attributes
    @property
    def shape(self) -> tuple:
        """The shape as a tuple of ints."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        """The numpy dtype (tinygrad_seq.float32 is np.dtype('float32'))."""
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        """True for tensors not made by a recorded op (inputs, parameters)."""
        return self._ctx is None

    @property
    def grad_fn(self) -> Context | None:
        """The node that made this tensor (None for leaves)."""
        return self._ctx

    @property
    def T(self) -> Tensor:
        """All dimensions reversed (the transpose for 2-D)."""
        return self.permute(*reversed(range(self.ndim)))

    def size(self, dim: int | None = None) -> Any:
        """The shape, or its size along `dim`."""
        return self.shape if dim is None else self.shape[dim]

    def dim(self) -> int:
        """Number of dimensions."""
        return self.data.ndim

    def numel(self) -> int:
        """Number of elements."""
        return self.data.size

    def numpy(self) -> np.ndarray:
        """The data as an ndarray (shared, not copied); refuses tensors that require grad."""
        if self.requires_grad:
            raise RuntimeError(
                "numpy() on a tensor that requires grad; use tensor.detach().numpy() "
                "(or .data) to read its values"
            )
        return self.data

    def item(self) -> Any:
        """The single value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a one-element tensor, got shape {self.shape}")
        return self.data.item()

    def tolist(self) -> Any:
        """The values as nested Python lists."""
        return self.data.tolist()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor with {self.data.size} elements is ambiguous"
            )
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError("only one-element integer tensors can be used as an index")
        return int(self.item())

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        body = np.array2string(
            self.data,
            separator=", ",
            prefix="tensor(",
            precision=4,
            floatmode=_float_mode(self.data),
            max_line_width=80,
        )
        extra = []
        if self.dtype not in (dtypes.get_default_dtype(), dtypes.int64, dtypes.bool_):
            extra.append(f"dtype={self.dtype}")
        if self._ctx is not None:
            extra.append(f"grad_fn={self._ctx!r}")
        elif self.requires_grad:
            extra.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extra) + ")"

    # ------------------------------------------------------------------ autograd
    def backward(self, gradient: Any = None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's .grad; gradient = dL/dself if non-scalar."""
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad: no input of its computation "
                "had requires_grad=True, or it was computed under no_grad()"
            )
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward() without a gradient needs a one-element output, got shape "
                    f"{self.shape}; reduce it first (loss.sum(), loss.mean()) or pass "
                    "gradient= of the same shape"
                )
            seed = np.ones(self.shape, dtype=self.dtype)
        else:
            seed = _as_array(gradient).astype(self.dtype, copy=False)
            if seed.shape != self.shape:
                raise RuntimeError(
                    f"backward(): gradient has shape {seed.shape}, the tensor has {self.shape}"
                )
        autograd.backward(self, seed, retain_graph=retain_graph)

    def detach(self) -> Tensor:
        """A new leaf sharing the data, cut from the graph (no gradient flows through it)."""
        return Tensor._make(self.data, False, None)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set requires_grad in place on a leaf; returns self."""
        if requires_grad:
            _check_grad_dtype(self.data)
        elif self._ctx is not None:
            raise RuntimeError("requires_grad_(False) on a non-leaf tensor: use detach()")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep .grad on this non-leaf tensor after backward (leaves always keep it)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        if self._ctx is not None:  # the node keeps a weak reference: .grad lands here if alive
            self._ctx._extras()["retained"] = weakref.ref(self)

    @property
    def retains_grad(self) -> bool:
        """True when retain_grad() was called on this non-leaf."""
        extra = None if self._ctx is None else self._ctx.extra
        ref = None if extra is None else extra.get("retained")
        return ref is not None and ref() is self

    def register_hook(self, fn: Any) -> _HookHandle:
        """fn(grad) runs when dL/dself is computed; a returned Tensor replaces the gradient."""
        if not self.requires_grad:
            raise RuntimeError("register_hook() on a tensor that does not require grad")
        if self._ctx is not None:  # on the node, so the hook runs even if self is dropped
            hooks = self._ctx._extras().setdefault("hooks", [])
        else:
            if not self._hooks:
                self._hooks = []
            hooks = self._hooks
        hooks.append(fn)
        return _HookHandle(hooks, fn)

    # ------------------------------------------------------------------ conversions
    def to(self, dtype: Any) -> Tensor:
        """A copy cast to dtype (differentiable); self when the dtype already matches."""
        d = dtypes.to_dtype(dtype)
        if d == self.dtype:
            return self
        if d.kind != "f":  # integers and booleans carry no gradient: the result is a constant
            return Tensor._make(self.data.astype(d), False, None)
        return ops.Cast.apply(self, dtype=d)

    def float(self) -> Tensor:
        """Cast to float32."""
        return self.to(dtypes.float32)

    def double(self) -> Tensor:
        """Cast to float64."""
        return self.to(dtypes.float64)

    def long(self) -> Tensor:
        """Cast to int64."""
        return self.to(dtypes.int64)

    def bool(self) -> Tensor:
        """Cast to bool."""
        return self.to(dtypes.bool_)

    def clone(self) -> Tensor:
        """A differentiable copy."""
        return ops.Cast.apply(self, dtype=self.dtype)

    def contiguous(self) -> Tensor:
        """Self if its array is in C (row-major) order, else a differentiable C-order copy."""
        if self.data.flags.c_contiguous:
            return self
        return ops.Contiguous.apply(self)

    def _floating(self) -> Tensor:
        return self if self.data.dtype.kind == "f" else self.to(dtypes.get_default_dtype())

    # ------------------------------------------------------------------ arithmetic
    def _other(self, x: Any) -> Tensor:
        """Wrap a Python number or array as a constant Tensor matching self's float dtype."""
        if isinstance(x, Tensor):
            return x
        if isinstance(x, (int, float, bool)) and not isinstance(x, np.ndarray):
            kind = self.dtype.kind
            if kind == "f":
                return Tensor._make(np.asarray(x, dtype=self.dtype), False, None)
            if isinstance(x, float):
                return Tensor._make(np.asarray(x, dtype=dtypes.get_default_dtype()), False, None)
            return Tensor._make(
                np.asarray(x, dtype=self.dtype if kind != "b" else np.int64), False, None
            )
        return Tensor._make(_as_array(x), False, None)

    def _binary(self, fn: type, other: Any, reflected: bool = False) -> Tensor:
        other = self._other(other)
        a, b = (other, self) if reflected else (self, other)
        if a.dtype.kind != b.dtype.kind and "f" in (a.dtype.kind, b.dtype.kind):
            a, b = a._floating(), b._floating()  # int op float -> float, as PyTorch
        return fn.apply(a, b)

    def __add__(self, o: Any) -> Tensor:
        return self._binary(ops.Add, o)

    def __radd__(self, o: Any) -> Tensor:
        return self._binary(ops.Add, o, True)

    def __sub__(self, o: Any) -> Tensor:
        return self._binary(ops.Sub, o)

    def __rsub__(self, o: Any) -> Tensor:
        return self._binary(ops.Sub, o, True)

    def __mul__(self, o: Any) -> Tensor:
        return self._binary(ops.Mul, o)

    def __rmul__(self, o: Any) -> Tensor:
        return self._binary(ops.Mul, o, True)

    def __truediv__(self, o: Any) -> Tensor:
        return self._floating()._binary(ops.Div, o)

    def __rtruediv__(self, o: Any) -> Tensor:
        return self._floating()._binary(ops.Div, o, True)

    def __matmul__(self, o: Any) -> Tensor:
        return self._binary(ops.MatMul, o)

    def __rmatmul__(self, o: Any) -> Tensor:
        return self._binary(ops.MatMul, o, True)

    def __neg__(self) -> Tensor:
        return ops.Neg.apply(self)

    def __pos__(self) -> Tensor:
        return self

    def __pow__(self, exponent: Any) -> Tensor:
        if isinstance(exponent, Tensor):
            return (exponent * self.log()).exp()
        if not isinstance(exponent, (int, float, np.integer, np.floating)):
            raise TypeError(f"pow: expected a number or Tensor exponent, got {type(exponent)}")
        # a Python number, so that numpy never upcasts (np.float64 scalars are strongly typed)
        exponent = int(exponent) if _is_int(exponent) else float(exponent)
        return ops.Pow.apply(self._floating(), exponent=exponent)

    def __rpow__(self, base: Any) -> Tensor:
        return (self * float(np.log(base))).exp()

    def add(self, o: Any) -> Tensor:
        """self + o (broadcasting)."""
        return self + o

    def sub(self, o: Any) -> Tensor:
        """self - o (broadcasting)."""
        return self - o

    def mul(self, o: Any) -> Tensor:
        """self * o (broadcasting)."""
        return self * o

    def div(self, o: Any) -> Tensor:
        """self / o (broadcasting)."""
        return self / o

    def neg(self) -> Tensor:
        """-self."""
        return -self

    def pow(self, exponent: Any) -> Tensor:
        """self ** exponent."""
        return self**exponent

    def matmul(self, o: Any) -> Tensor:
        """self @ o: (n,) (.., n, k) @ (k,) (.., k, m); batch dims broadcast."""
        return self @ o

    # comparisons: not differentiable, bool results
    def _compare(self, o: Any, op: Any) -> Tensor:
        other = o.data if isinstance(o, Tensor) else o
        try:
            return Tensor._make(op(self.data, other), False, None)
        except ValueError:
            shape = getattr(other, "shape", ())
            raise ValueError(
                f"compare: shapes {self.shape} and {shape} cannot be broadcast"
            ) from None

    def __eq__(self, o: Any) -> Tensor:  # type: ignore[override]
        return self._compare(o, np.equal)

    def __ne__(self, o: Any) -> Tensor:  # type: ignore[override]
        return self._compare(o, np.not_equal)

    def __lt__(self, o: Any) -> Tensor:
        return self._compare(o, np.less)

    def __le__(self, o: Any) -> Tensor:
        return self._compare(o, np.less_equal)

    def __gt__(self, o: Any) -> Tensor:
        return self._compare(o, np.greater)

    def __ge__(self, o: Any) -> Tensor:
        return self._compare(o, np.greater_equal)

    def __invert__(self) -> Tensor:
        return Tensor._make(~self.data, False, None)

    def __and__(self, o: Any) -> Tensor:
        return self._compare(o, np.logical_and)

    def __or__(self, o: Any) -> Tensor:
        return self._compare(o, np.logical_or)

    def eq(self, o: Any) -> Tensor:
        """Element-wise self == o (bool)."""
        return self == o

    # ------------------------------------------------------------------ unary
    def exp(self) -> Tensor:
        """e^x element-wise."""
        return ops.Exp.apply(self._floating())

    def log(self) -> Tensor:
        """Natural log element-wise."""
        return ops.Log.apply(self._floating())

    def sqrt(self) -> Tensor:
        """Square root element-wise."""
        return ops.Sqrt.apply(self._floating())

    def abs(self) -> Tensor:
        """|x| element-wise."""
        return ops.Abs.apply(self)

    def lerp(self, end: Any, weight: Any) -> Tensor:
        """self + weight * (end - self) (torch.lerp), broadcasting: -> broadcast shape."""
        a = self._floating()
        return ops.Lerp.apply(a, a._other(end)._floating(), a._other(weight)._floating())

    def addcmul(self, tensor1: Any, tensor2: Any, *, value: float = 1.0) -> Tensor:
        """self + value * tensor1 * tensor2 (torch.addcmul), broadcasting: -> broadcast shape."""
        c = self._floating()
        t1 = c._other(tensor1)._floating()
        if value != 1:
            t1 = t1 * value
        return ops.AddCMul.apply(c, t1, c._other(tensor2)._floating())

    def tanh(self) -> Tensor:
        """tanh element-wise (exact limits for large |x|)."""
        return ops.Tanh.apply(self._floating())

    def sigmoid(self) -> Tensor:
        """1 / (1 + e^-x) element-wise, without overflow warnings."""
        return ops.Sigmoid.apply(self._floating())

    def relu(self) -> Tensor:
        """max(x, 0) element-wise."""
        return ops.Relu.apply(self)

    def clamp(self, min: float | None = None, max: float | None = None) -> Tensor:
        """Clip values to [min, max]; the gradient passes inside the bounds."""
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        # Python numbers never upcast float32; float bounds make an integer tensor float
        lo, hi = (None if v is None else int(v) if _is_int(v) else float(v) for v in (min, max))
        x = self._floating() if isinstance(lo, float) or isinstance(hi, float) else self
        return ops.Clamp.apply(x, lo=lo, hi=hi)

    clip = clamp

    def masked_fill(self, mask: Any, value: float) -> Tensor:
        """Where mask (bool, broadcastable) is True put value, elsewhere keep self."""
        return where(mask, self._other(value), self)

    # ------------------------------------------------------------------ reductions
    def sum(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        """Sum over dim (int, tuple or None for all)."""
        return ops.Sum.apply(self, axis=_dims(dim, self.ndim), keepdim=keepdim)

    def mean(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        """Mean over dim (int, tuple or None for all)."""
        axes = _dims(dim, self.ndim)
        n = self.data.size if axes is None else int(np.prod([self.shape[a] for a in axes]))
        return self._floating().sum(dim, keepdim) / max(n, 1)

    def var(
        self,
        dim: Any = None,
        keepdim: bool = False,
        *,
        correction: int = 1,
        unbiased: bool | None = None,
    ) -> Tensor:
        """Variance over dim; correction=1 (unbiased, PyTorch's default) divides by n - 1."""
        if unbiased is not None:
            correction = 1 if unbiased else 0
        axes = _dims(dim, self.ndim)
        n = self.data.size if axes is None else int(np.prod([self.shape[a] for a in axes]))
        d = self._floating() - self._floating().mean(dim, keepdim=True)
        return (d * d).sum(dim, keepdim) / max(n - correction, 0)

    def std(self, dim: Any = None, keepdim: bool = False, *, correction: int = 1) -> Tensor:
        """Standard deviation over dim (sqrt of var)."""
        return self.var(dim, keepdim, correction=correction).sqrt()

    def _extreme(self, dim: Any, keepdim: bool, is_min: bool) -> Any:
        axes = _dims(dim, self.ndim)
        if axes is None or len(axes) != 1:  # all (or several) dims: ties share the gradient
            return ops.MaxReduce.apply(self, axis=axes, keepdim=keepdim, is_min=is_min)
        (d,) = axes
        if self.shape[d] == 0:
            raise ValueError(f"max/min over dim {dim} of size 0 (shape {self.shape})")
        pick = np.argmin if is_min else np.argmax
        idx = np.expand_dims(pick(self.data, axis=d), d).astype(np.int64, copy=False)
        values = ops.TakeAlong.apply(self, idx=idx, axis=d, keepdim=keepdim)
        indices = Tensor._make(idx if keepdim else np.squeeze(idx, d), False, None)
        return MaxResult(values, indices)

    def max(self, dim: Any = None, keepdim: bool = False) -> Any:
        """Largest value; with an int dim returns (values, indices) as PyTorch does."""
        return self._extreme(dim, keepdim, False)

    def min(self, dim: Any = None, keepdim: bool = False) -> Any:
        """Smallest value; with an int dim returns (values, indices) as PyTorch does."""
        return self._extreme(dim, keepdim, True)

    def amax(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        """Largest values over dim (int or tuple), ties share the gradient."""
        return ops.MaxReduce.apply(self, axis=_dims(dim, self.ndim), keepdim=keepdim, is_min=False)

    def amin(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        """Smallest values over dim (int or tuple), ties share the gradient."""
        return ops.MaxReduce.apply(self, axis=_dims(dim, self.ndim), keepdim=keepdim, is_min=True)

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """Index of the largest value (over the flattened tensor when dim is None); int64."""
        return _arg(self, np.argmax, dim, keepdim)

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """Index of the smallest value (over the flattened tensor when dim is None); int64."""
        return _arg(self, np.argmin, dim, keepdim)

    def softmax(self, dim: int) -> Tensor:
        """exp(x) / sum(exp(x)) along dim, computed after subtracting the max."""
        return ops.Softmax.apply(self._floating(), axis=_one_dim(dim, self.ndim, "softmax"))

    def log_softmax(self, dim: int) -> Tensor:
        """x - logsumexp(x) along dim, stable for large logits."""
        return ops.LogSoftmax.apply(self._floating(), axis=_one_dim(dim, self.ndim, "log_softmax"))

    def logsumexp(self, dim: Any, keepdim: bool = False) -> Tensor:
        """log(sum(exp(x))) over dim (int or tuple), stable for large values."""
        if dim is None:
            raise TypeError("logsumexp: dim is required (an int or a tuple of ints)")
        axes = _dims(dim, self.ndim)
        return ops.LogSumExp.apply(self._floating(), axis=axes, keepdim=keepdim)

    # ------------------------------------------------------------------ shape
    def reshape(self, *shape: Any) -> Tensor:
        """Same values in a new shape (one dimension may be -1)."""
        shape = tuple(shape[0]) if len(shape) == 1 and not _is_int(shape[0]) else shape
        return ops.Reshape.apply(self, shape=tuple(int(s) for s in shape))

    view = reshape

    def permute(self, *dims: Any) -> Tensor:
        """Reorder dimensions: permute(2, 0, 1)."""
        dims = tuple(dims[0]) if len(dims) == 1 and not _is_int(dims[0]) else dims
        axes = _dims(dims, self.ndim) if self.ndim else tuple(dims)
        if sorted(axes) != list(range(self.ndim)):
            raise ValueError(f"permute: {dims} is not a permutation of {self.ndim} dimensions")
        return ops.Permute.apply(self, axes=axes)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        """Swap two dimensions."""
        axes = list(range(self.ndim))
        d0, d1 = _dims((dim0, dim1), self.ndim)
        axes[d0], axes[d1] = axes[d1], axes[d0]
        return ops.Permute.apply(self, axes=tuple(axes))

    def unsqueeze(self, dim: int) -> Tensor:
        """Insert a size-1 dimension at dim."""
        d = dim if dim >= 0 else dim + self.ndim + 1
        if not 0 <= d <= self.ndim:
            raise IndexError(f"unsqueeze: dim {dim} out of range for {self.ndim} dimensions")
        return self.reshape(self.shape[:d] + (1,) + self.shape[d:])

    def squeeze(self, dim: int | None = None) -> Tensor:
        """Remove size-1 dimensions (only dim when given and of size 1)."""
        if dim is None:
            return self.reshape(tuple(s for s in self.shape if s != 1))
        (d,) = _dims(dim, self.ndim)
        if self.ndim == 0 or self.shape[d] != 1:
            return self
        return self.reshape(self.shape[:d] + self.shape[d + 1 :])

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge dimensions start_dim..end_dim into one."""
        if self.ndim == 0:
            return self.reshape(1)
        s, e = _dims((start_dim, end_dim), self.ndim)
        merged = int(np.prod(self.shape[s : e + 1]))
        return self.reshape(self.shape[:s] + (merged,) + self.shape[e + 1 :])

    def expand(self, *sizes: Any) -> Tensor:
        """Broadcast to a larger shape without copying; -1 keeps a dimension."""
        sizes = tuple(sizes[0]) if len(sizes) == 1 and not _is_int(sizes[0]) else sizes
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise ValueError(f"expand: {sizes} has fewer dimensions than the tensor {self.shape}")
        if -1 in sizes[:lead]:
            raise ValueError(f"expand: -1 is not allowed for the new leading dimensions {sizes}")
        shape = tuple(self.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
        return ops.Expand.apply(self, shape=shape)

    def expand_as(self, other: Tensor) -> Tensor:
        """expand to other's shape."""
        return self.expand(*other.shape)

    def __getitem__(self, key: Any) -> Tensor:
        if type(key) is int:  # x[t], the hot case of a loop over time steps
            return ops.Index.apply(self, key=(key,), advanced=False)
        key, advanced = _index_key(key)
        return ops.Index.apply(self, key=key, advanced=advanced)

    def __setitem__(self, key: Any, value: Any) -> None:
        if self.requires_grad:
            raise RuntimeError(
                "in-place assignment into a tensor that requires grad would corrupt its graph; "
                "build a new tensor with where(), masked_fill() or cat()"
            )
        key, _ = _index_key(key)
        self.data[key] = value.data if isinstance(value, Tensor) else value

    def split(self, split_size: Any, dim: int = 0) -> tuple:
        """Pieces of split_size along dim (the last may be smaller), or the sizes in a list."""
        (d,) = _dims(dim, self.ndim)
        n = self.shape[d]
        if isinstance(split_size, int):
            if split_size <= 0:
                raise ValueError(f"split: split_size must be positive, got {split_size}")
            sizes = [min(split_size, n - s) for s in range(0, n, split_size)]
        else:
            sizes = list(split_size)
            if sum(sizes) != n:
                raise ValueError(f"split: sizes {sizes} sum to {sum(sizes)}, dim {dim} has {n}")
        out, start = [], 0
        lead = (slice(None),) * d
        for s in sizes:
            out.append(self[lead + (slice(start, start + s),)])
            start += s
        return tuple(out)

    def chunk(self, chunks: int, dim: int = 0) -> tuple:
        """Split into `chunks` pieces of equal size along dim (the last may be smaller)."""
        n = self.shape[_dims(dim, self.ndim)[0]]
        return self.split(max(1, -(-n // chunks)), dim)


def _arg(t: Tensor, fn: Any, dim: int | None, keepdim: bool) -> Tensor:
    if dim is None:
        return Tensor._make(np.asarray(fn(t.data), dtype=np.int64), False, None)
    (d,) = _dims(dim, t.ndim)
    idx = fn(t.data, axis=d)
    return Tensor._make((np.expand_dims(idx, d) if keepdim else idx).astype(np.int64), False, None)


def _index_key(key: Any) -> tuple[tuple, bool]:
    """Tensors and lists in an index become arrays; boolean masks become their nonzero indices."""
    if not isinstance(key, tuple):
        key = (key,)
    out: list = []
    advanced = False
    for k in key:
        if isinstance(k, Tensor):
            k = k.data
        elif isinstance(k, list):
            k = np.asarray(k)
        if isinstance(k, np.ndarray):
            if k.dtype == np.bool_:
                out.extend(np.nonzero(k))
                advanced = True
                continue
            if k.dtype.kind not in "iu":
                raise IndexError(f"index arrays must be integer or bool, got dtype {k.dtype}")
            advanced = True
        out.append(k)
    return tuple(out), advanced


# ----------------------------------------------------------------------------- functions


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """Element-wise condition ? x : y with broadcasting; gradients flow to x and y."""
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise TypeError(f"where: condition must be a bool tensor, got dtype {cond.dtype}")
    ref = x if isinstance(x, Tensor) else y if isinstance(y, Tensor) else Tensor(x)
    xt, yt = ref._other(x), ref._other(y)
    if xt.dtype != yt.dtype and "f" in (xt.dtype.kind, yt.dtype.kind):
        xt, yt = xt._floating(), yt._floating()
    return ops.Where.apply(Tensor._make(cond, False, None), xt, yt)


def lerp(input: Tensor, end: Any, weight: Any) -> Tensor:
    """input + weight * (end - input) (torch.lerp), broadcasting: -> broadcast shape."""
    return input.lerp(end, weight)


def addcmul(input: Tensor, tensor1: Any, tensor2: Any, *, value: float = 1.0) -> Tensor:
    """input + value * tensor1 * tensor2 (torch.addcmul), broadcasting: -> broadcast shape."""
    return input.addcmul(tensor1, tensor2, value=value)


def maximum(a: Tensor, b: Any) -> Tensor:
    """Element-wise larger of a and b (ties share the gradient)."""
    return a._binary(ops.Maximum, b)


def minimum(a: Tensor, b: Any) -> Tensor:
    """Element-wise smaller of a and b (ties share the gradient)."""
    return a._binary(ops.Minimum, b)


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Concatenate along an existing dimension: shapes must match except along dim."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    first = tensors[0]
    if first.ndim == 0:
        raise ValueError("cat: zero-dimensional tensors cannot be concatenated; use stack()")
    (d,) = _dims(dim, first.ndim)
    rest = first.shape[:d] + first.shape[d + 1 :]
    for i, t in enumerate(tensors):
        if t.ndim != first.ndim or t.shape[:d] + t.shape[d + 1 :] != rest:
            raise ValueError(
                f"cat: tensor {i} has shape {t.shape}, expected {first.shape} except along "
                f"dim {dim}"
            )
    return ops.Cat.apply(*tensors, axis=d)


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Stack equal-shaped tensors along a new dimension."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise ValueError(
                f"stack: tensor {i} has shape {t.shape}, tensor 0 has {tensors[0].shape}"
            )
    ndim = tensors[0].ndim + 1
    return ops.Stack.apply(*tensors, axis=_dims(dim, ndim)[0])


autograd._bind_tensor_class(Tensor)


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """a @ b: (.., n, k) @ (.., k, m) -> (.., n, m); 1-D operands as in numpy."""
    return a @ b


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor) -> Tensor:
    """input + mat1 @ mat2 in one op: (n, m) or broadcastable, (n, k), (k, m) -> (n, m)."""
    return ops.AddMM.apply(input._floating(), mat1._floating(), mat2._floating())


def exp(x: Tensor) -> Tensor:
    """e^x element-wise."""
    return x.exp()


def log(x: Tensor) -> Tensor:
    """Natural log element-wise."""
    return x.log()


def tanh(x: Tensor) -> Tensor:
    """tanh element-wise."""
    return x.tanh()


def sigmoid(x: Tensor) -> Tensor:
    """Logistic sigmoid element-wise."""
    return x.sigmoid()


def relu(x: Tensor) -> Tensor:
    """max(x, 0) element-wise."""
    return x.relu()


def softmax(x: Tensor, dim: int) -> Tensor:
    """Softmax along dim (stable)."""
    return x.softmax(dim)


def log_softmax(x: Tensor, dim: int) -> Tensor:
    """Log-softmax along dim (stable)."""
    return x.log_softmax(dim)


def logsumexp(x: Tensor, dim: int, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) along dim (stable)."""
    return x.logsumexp(dim, keepdim)


def clamp(x: Tensor, min: float | None = None, max: float | None = None) -> Tensor:
    """Clip values of x to [min, max]."""
    return x.clamp(min, max)
