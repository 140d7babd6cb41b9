"""Tensor: a numpy array that remembers the op that made it, so gradients can flow back.

A Tensor holds an ndarray (`.numpy()` gives it; `.data` is, as in PyTorch, a Tensor sharing it
without history), `.requires_grad`, `.grad` (filled by backward) and, when an op made it in grad
mode, `.grad_fn` (the recorded node). Its methods are thin calls into the
primitive ops of `ops.py`, or short compositions of them (mean = sum / n, var, ...).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from . import autograd, dtypes, errors, ops
from .autograd import Context
from .random import numpy_generator, numpy_source


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
        data = data._data
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
        raise RuntimeError(
            f"only floating point tensors can require gradients, got dtype {arr.dtype} "
            "(integer tensors hold indices and targets; convert with .float() or .double())"
        )


def _is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer))


def _is_size_arg(x: Any) -> bool:
    """A size for torch.Tensor(*sizes): an int (not a bool), or a 0-d integer array."""
    if isinstance(x, np.ndarray):
        return x.ndim == 0 and x.dtype.kind in "iu"
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


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

    # _data: the ndarray. _view: for a view, (root tensor, steps from the root's array to this
    # one, made_at); None otherwise. made_at is None, or for a view made under no_grad of a root
    # that requires grad (or a view of one) the memory's version then (see _NoGradViewEdge).
    # _views: for a root, weak references to its live views (None if none).
    __slots__ = (
        "_data", "grad", "requires_grad", "_ctx", "_hooks", "_view", "_views", "__weakref__"
    )  # fmt: skip
    __array_priority__ = 1000  # ndarray (op) Tensor defers to Tensor's reflected operators

    def __new__(cls, *data: Any, device: Any = None, **unexpected: Any) -> Tensor:
        # torch.Tensor(t) is not a copy: it is t's alias (a view sharing t's memory and graph)
        if cls is Tensor and len(data) == 1 and isinstance(data[0], Tensor):
            if device is not None:
                raise RuntimeError(
                    "Legacy tensor constructor of the form torch.Tensor(tensor, device=device) is "
                    "not supported. Use torch.tensor(...) or torch.as_tensor(...) instead."
                )
            return data[0].view(data[0]._data.shape)
        return object.__new__(cls)

    def __init__(self, *data: Any, device: Any = None, **unexpected: Any):
        """torch.Tensor: Tensor(data) in the default float dtype, Tensor(*sizes) uninitialised.

        As in PyTorch, an ndarray of the default float dtype is shared (others are converted),
        and Tensor(t) gives t itself as an alias; torch.tensor(data) keeps data's dtype.
        """
        if unexpected:
            raise TypeError(
                f"Tensor() got unexpected keyword arguments {', '.join(unexpected)}: as in "
                "PyTorch, torch.Tensor(data) takes only device=; use torch.tensor(data, "
                "dtype=..., requires_grad=...)"
            )
        if len(data) == 1 and isinstance(data[0], Tensor):
            return  # __new__ made the alias
        dtypes.check_device(device)
        self._set_leaf(Tensor._legacy_array(data), False)

    def _set_leaf(self, data: np.ndarray, requires_grad: bool) -> None:
        """Fill a new Tensor's slots as a leaf holding data (Tensor() and Parameter())."""
        if requires_grad:
            _check_grad_dtype(data)
        self._data = data
        self.grad: Tensor | None = None
        self.requires_grad = bool(requires_grad)
        self._ctx: Context | None = None
        self._hooks: Any = ()  # a leaf's hooks, a list once one is registered (ops: on _ctx)
        self._view: tuple | None = None
        self._views: list | None = None

    @classmethod
    def _make(cls, data: np.ndarray, requires_grad: bool, ctx: Context | None) -> Tensor:
        """Fast constructor for op outputs: no checks, but .data is always an ndarray."""
        if type(data) is not np.ndarray:
            data = np.asarray(data)  # numpy returns scalars, not 0-d arrays, from 0-d math
        t = object.__new__(Tensor)
        t._data, t.grad, t.requires_grad, t._ctx = data, None, requires_grad, ctx
        t._hooks, t._view, t._views = (), None, None
        return t

    # ------------------------------------------------------------------ attributes
    @property
    def shape(self) -> dtypes.Size:
        """The shape as a Size (a tuple of ints)."""
        return dtypes.Size(self._data.shape)

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return self._data.ndim

    @property
    def dtype(self) -> np.dtype:
        """The numpy dtype (tinygrad_seq.float32 is np.dtype('float32'))."""
        return self._data.dtype

    @property
    def is_leaf(self) -> bool:
        """True for tensors not made by a recorded op (inputs, parameters)."""
        ctx = self._ctx
        if type(ctx) is _NoGradViewEdge:
            return ctx.check().node is None
        return ctx is None

    @property
    def grad_fn(self) -> Context | None:
        """The node that made this tensor (None for leaves)."""
        ctx = self._ctx
        return ctx.check().node if type(ctx) is _NoGradViewEdge else ctx

    @property
    def T(self) -> Tensor:
        """All dimensions reversed (the transpose for 2-D)."""
        return self.permute(*reversed(range(self.ndim)))

    def size(self, dim: int | None = None) -> Any:
        """The shape as a Size, or its size along `dim` (an int)."""
        if dim is None:
            return dtypes.Size(self._data.shape)
        n = self._data.ndim
        if not _is_int(dim) or not -n <= dim < n:
            raise IndexError(f"size(): dim {dim!r} is out of range for a tensor of {n} dimensions")
        return self._data.shape[dim]

    def dim(self) -> int:
        """Number of dimensions."""
        return self._data.ndim

    def numel(self) -> int:
        """Number of elements."""
        return self._data.size

    def numpy(self) -> np.ndarray:
        """The data as an ndarray (shared, not copied); refuses tensors that require grad."""
        if self.requires_grad:
            raise RuntimeError(
                "numpy() on a tensor that requires grad; use tensor.detach().numpy() "
                "(or .data) to read its values"
            )
        return self._data

    def item(self) -> Any:
        """The single value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(f"item() needs a one-element tensor, got shape {self._data.shape}")
        return self._data.item()

    def tolist(self) -> Any:
        """The values as nested Python lists."""
        return self._data.tolist()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if dtype is None:
            return self._data.copy() if copy else self._data
        return self._data.astype(dtype, copy=bool(copy))

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor with {self._data.size} elements is ambiguous"
            )
        return bool(self._data)

    def __float__(self) -> float:
        self._check_one_element("float")
        return float(self.item())

    def __int__(self) -> int:
        self._check_one_element("int")
        return int(self.item())

    def _check_one_element(self, to: str) -> None:
        if self._data.size != 1:  # PyTorch: ValueError here, RuntimeError from item()
            raise ValueError(
                f"only one element tensors can be converted to Python scalars ({to}() of a tensor "
                f"of shape {self._data.shape})"
            )

    def __index__(self) -> int:
        if self.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError("only one-element integer tensors can be used as an index")
        return int(self.item())

    def __format__(self, format_spec: str) -> str:
        # as PyTorch: a 0-d Tensor (not a subclass) formats as its number, f"{loss:.4f}" and f"{x}"
        if self._data.ndim == 0 and type(self) is Tensor:
            return format(self.item(), format_spec)
        return object.__format__(self, format_spec)

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        body = np.array2string(
            self._data,
            separator=", ",
            prefix="tensor(",
            precision=4,
            floatmode=_float_mode(self._data),
            max_line_width=80,
        )
        extra = []
        if self.dtype not in (dtypes.get_default_dtype(), dtypes.int64, dtypes.bool_):
            extra.append(f"dtype={self.dtype}")
        ctx = self._ctx
        if type(ctx) is _NoGradViewEdge:  # PyTorch's "<Invalid>" once the view is unusable
            ctx = "<Invalid>" if ctx.broken() else ctx.node
        if ctx is not None:
            extra.append(f"grad_fn={ctx}")
        elif self.requires_grad:
            extra.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extra) + ")"

    # ------------------------------------------------------------------ autograd
    def backward(self, gradient: Any = None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's .grad; gradient = dL/dself if non-scalar."""
        if not self.requires_grad:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn: no input "
                "of its computation had requires_grad=True, or it was computed under no_grad()"
            )
        if gradient is None:
            if self._data.size != 1:
                raise RuntimeError(
                    f"backward() without a gradient needs a one-element output, got shape "
                    f"{self._data.shape}; reduce it first (loss.sum(), loss.mean()) or pass "
                    "gradient= of the same shape"
                )
            seed = np.ones(self._data.shape, dtype=self.dtype)
        else:
            seed = _as_array(gradient).astype(self.dtype, copy=False)
            if seed.shape != self._data.shape:
                raise RuntimeError(
                    f"backward(): gradient has shape {seed.shape}, the tensor has "
                    f"{self._data.shape}"
                )
        if type(self._ctx) is _NoGradViewEdge and not self._ctx.leaf:
            if self._ctx.check().node is None:  # no grad_fn and no .grad: nothing to reach
                raise RuntimeError(
                    "element 0 of tensors does not require grad and does not have a grad_fn"
                )
            return  # a view of such a view: its node's only input is a dead end
        autograd.backward(self, seed, retain_graph=retain_graph)

    def detach(self) -> Tensor:
        """A new leaf sharing memory and version, cut from the graph (no gradient flows back)."""
        return Tensor._make(self._data, False, None)  # its memory's version is shared too

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set requires_grad in place on a leaf; returns self."""
        if requires_grad:
            _check_grad_dtype(self._data)
        ctx = self._ctx
        if type(ctx) is _NoGradViewEdge and ctx.node is None:  # a leaf that requires grad as
            ctx.leaf = bool(requires_grad)  # its base does; True: backward fills its own .grad
            return self
        if not requires_grad and ctx is not None:
            raise RuntimeError("requires_grad_(False) on a non-leaf tensor: use detach()")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep .grad on this non-leaf tensor after backward (leaves always keep it)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        ctx = _hook_node(self)
        if ctx is not None:  # the node keeps a weak reference: .grad lands here if alive
            ctx._extras()["retained"] = weakref.ref(self)

    @property
    def retains_grad(self) -> bool:
        """True when retain_grad() was called on this non-leaf."""
        extra = getattr(self._ctx, "extra", None)  # Context.extra (a no_grad view has none)
        ref = None if extra is None else extra.get("retained")
        return ref is not None and ref() is self

    def register_hook(self, fn: Any) -> _HookHandle:
        """fn(grad) runs when dL/dself is computed; a returned Tensor replaces the gradient."""
        if not self.requires_grad:
            raise RuntimeError("register_hook() on a tensor that does not require grad")
        ctx = _hook_node(self)
        if ctx is not None:  # on the node, so the hook runs even if self is dropped
            hooks = ctx._extras().setdefault("hooks", [])
        else:
            if not self._hooks:
                self._hooks = []
            hooks = self._hooks
        hooks.append(fn)
        return _HookHandle(hooks, fn)

    # ------------------------------------------------------------------ conversions
    def to(
        self, *args: Any, dtype: Any = None, device: Any = None, non_blocking: bool = False,
        copy: bool = False,
    ) -> Tensor:  # fmt: skip
        """to(dtype), to(device[, dtype]), to(other): cast (differentiable); self if unchanged."""
        d, _, copy = dtypes.to_args(args, dtype, device, copy)
        d = self.dtype if d is None else d
        if d == self.dtype and not copy:
            return self
        if d.kind != "f":  # integers and booleans carry no gradient: the result is a constant
            return Tensor._make(self._data.astype(d), False, None)
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
        if self._data.flags.c_contiguous:
            return self
        return ops.Contiguous.apply(self)

    def _floating(self) -> Tensor:
        return self if self._data.dtype.kind == "f" else self.to(dtypes.get_default_dtype())

    # ---- devices, dtypes and new_* constructors
    # One device, the CPU: `device` is a property, not a slot, so that making a tensor (the
    # hot path, _make) costs nothing more. Naming another device raises (dtypes.check_device).
    @staticmethod
    def _legacy_array(args: tuple) -> np.ndarray:
        """torch.Tensor's constructor: Tensor(2, 3) empty floats, Tensor(data) float data."""
        default = dtypes.get_default_dtype()
        if not args:
            return np.empty((0,), default)
        if all(_is_size_arg(a) for a in args):
            return np.empty(dtypes.as_size(tuple(int(a) for a in args), "Tensor"), default)
        if len(args) != 1:
            raise TypeError(
                f"Tensor(): expected sizes (ints) or one sequence of data, got {len(args)} "
                f"arguments of types {', '.join(type(a).__name__ for a in args)}"
            )
        data = args[0]
        if isinstance(data, dtypes.Size):
            return np.empty(data, default)
        if isinstance(data, np.ndarray):  # shared when it has the default dtype, as in PyTorch
            if data.dtype.kind not in "fiub":
                _as_array(data)  # raises the TypeError for object or string arrays
            arr = np.asarray(data)  # a plain ndarray (a memmap or matrix is viewed as one)
            return arr if arr.dtype == default else arr.astype(default)
        if isinstance(data, (bool, int, float, np.generic)):
            raise TypeError(f"Tensor(): data must be a sequence (got {type(data).__name__})")
        return _as_array(data, default)

    @property
    def device(self) -> dtypes.device:
        """Where the values live: always device(type='cpu')."""
        return dtypes.CPU

    @property
    def is_cuda(self) -> bool:
        """False: tinygrad_seq runs on the CPU only."""
        return False

    @property
    def is_cpu(self) -> bool:
        """True: tinygrad_seq runs on the CPU only."""
        return True

    def cpu(self) -> Tensor:
        """Self: every tensor is on the CPU already."""
        return self

    def cuda(self, device: Any = None, non_blocking: bool = False) -> Tensor:
        """Raises RuntimeError: tinygrad_seq runs on the CPU only."""
        dtypes.check_device("cuda")  # raises, whichever CUDA device was asked for
        return self

    def type(self, dtype: Any = None, non_blocking: bool = False) -> Any:
        """type() -> 'torch.FloatTensor'-style name; type(dtype or name) -> to(that dtype)."""
        if dtype is None:
            return dtypes.tensor_type_name(self.dtype)
        if isinstance(dtype, str):
            return self.to(dtypes.from_tensor_type_name(dtype))
        name = getattr(dtype, "__name__", "")
        if name.endswith("Tensor"):  # the legacy constructors: x.type(torch.LongTensor)
            return self.to(dtypes.from_tensor_type_name(f"torch.{name}"))
        return self.to(dtype)

    def int(self) -> Tensor:
        """Cast to int32."""
        return self.to(dtypes.int32)

    def half(self) -> Tensor:
        """Cast to float16."""
        return self.to(dtypes.float16)

    def _new_leaf(self, data: np.ndarray, device: Any, requires_grad: bool) -> Tensor:
        dtypes.check_device(device)
        t = Tensor._make(data, False, None)
        return t.requires_grad_() if requires_grad else t

    def _new_dtype(self, dtype: Any) -> np.dtype:
        return self.dtype if dtype is None else dtypes.to_dtype(dtype)

    def new_zeros(
        self, *sizes: Any, size: Any = None, dtype: Any = None, device: Any = None,
        requires_grad: bool = False,
    ) -> Tensor:  # fmt: skip
        """Zeros of `size` with self's dtype (unless dtype=)."""
        shape = dtypes.as_size(sizes, "new_zeros", size)
        return self._new_leaf(np.zeros(shape, self._new_dtype(dtype)), device, requires_grad)

    def new_ones(
        self, *sizes: Any, size: Any = None, dtype: Any = None, device: Any = None,
        requires_grad: bool = False,
    ) -> Tensor:  # fmt: skip
        """Ones of `size` with self's dtype (unless dtype=)."""
        shape = dtypes.as_size(sizes, "new_ones", size)
        return self._new_leaf(np.ones(shape, self._new_dtype(dtype)), device, requires_grad)

    def new_empty(
        self, *sizes: Any, size: Any = None, dtype: Any = None, device: Any = None,
        requires_grad: bool = False,
    ) -> Tensor:  # fmt: skip
        """Uninitialised values of `size` with self's dtype (unless dtype=)."""
        shape = dtypes.as_size(sizes, "new_empty", size)
        return self._new_leaf(np.empty(shape, self._new_dtype(dtype)), device, requires_grad)

    def new_full(
        self, size: Any, fill_value: Any, *, dtype: Any = None, device: Any = None,
        requires_grad: bool = False,
    ) -> Tensor:  # fmt: skip
        """fill_value in a tensor of `size` with self's dtype (unless dtype=)."""
        shape = dtypes.as_size((size,), "new_full")
        data = np.full(shape, fill_value, self._new_dtype(dtype))
        return self._new_leaf(data, device, requires_grad)

    def new_tensor(
        self, data: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False
    ) -> Tensor:
        """A copy of data (no history) with self's dtype (unless dtype=): data's shape."""
        arr = _as_array(data, self._new_dtype(dtype))
        return self._new_leaf(arr, device, requires_grad)

    # ------------------------------------------------------------------ views and in-place
    # PyTorch's rules. A view (basic indexing, view/reshape when it can view, transpose,
    # permute, expand, squeeze, unsqueeze, narrow, select) shares memory with
    # its root tensor, and through it with every other view of that root. An in-place op
    # writes into that memory, bumps the memory's version (autograd.bump_version) and, in grad
    # mode, moves the tensor's history to the op: the tensor's grad_fn becomes the op's node,
    # whose input is the tensor's old node. Written through a view, the root's history moves
    # too (CopySlices: the old root outside the view, the new values inside), and every view
    # of the root is re-attached to the root's new history. detach() and .data share memory
    # but no history: they are roots of their own (.data's changes bump no version). A view
    # made under no_grad of a root that requires grad is PyTorch's too (see _NoGradViewEdge).

    @property
    def data(self) -> Tensor:
        """The values as a Tensor that shares memory, with no history (changes are untracked)."""
        t = object.__new__(_Untracked)
        t._data, t.grad, t.requires_grad, t._ctx = self._data, None, False, None
        t._hooks, t._view, t._views = (), None, None
        return t

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"assigned data must be a Tensor, got {type(value).__name__}")
        self._data = value._data

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's memory has had (shared with its views)."""
        return autograd.version(self._data)

    @property
    def _base(self) -> Tensor | None:
        """The tensor whose memory this view shares (None for a tensor that is not a view)."""
        return None if self._view is None else self._view[0]

    def is_contiguous(self) -> bool:
        """True when the values lie in memory in C (row-major) order."""
        return bool(self._data.flags.c_contiguous)

    def _as_view(self, out: Tensor, kind: str, arg: Any) -> Tensor:
        """Mark out, made by a view op from self, as a view of self's root; -> out."""
        step = (kind, arg, self._data.shape)
        view = self._view
        if view is None:
            root, made_at = self, None
            out._view = (self, (step,), None)
        else:
            root, made_at = view[0], view[2]
            out._view = (root, view[1] + (step,), made_at)
        if made_at is not None or (root.requires_grad and not out.requires_grad):
            _NoGradViewEdge.mark(out)  # made under no_grad, or a view of a view that was
        views = root._views
        if views is None:
            root._views = [weakref.ref(out)]
            return out
        if len(views) >= 64 and len(views) & (len(views) - 1) == 0:  # at 64, 128, ...
            views = root._views = [r for r in views if r() is not None]  # drop dead views
        views.append(weakref.ref(out))
        return out

    def _write(self, fn: Any) -> Tensor:
        """self <- fn(self) in place, PyTorch's way (see above); fn returns a new Tensor."""
        view = self._view
        root, steps = (self, ()) if view is None else view[:2]
        grad_mode = autograd.is_grad_enabled()
        if grad_mode and view is not None and view[2] is not None:
            raise RuntimeError(
                errors.no_grad_view(self._ctx.node is None, errors.NO_GRAD_VIEW_WRITTEN)
            )
        if grad_mode and self.requires_grad and self._ctx is None and self._view is None:
            raise RuntimeError(
                "a leaf Variable that requires grad is being used in an in-place operation. "
                "Change parameters in place under `with no_grad():`"
            )
        if grad_mode and steps and root.requires_grad and root._ctx is None:
            raise RuntimeError(
                "a view of a leaf Variable that requires grad is being used in an in-place "
                "operation. Change it under `with no_grad():`"
            )
        overlap = any(s == 0 and n > 1 for s, n in zip(self._data.strides, self._data.shape))
        if not self._data.flags.writeable or overlap:
            raise RuntimeError(
                "unsupported operation: more than one element of the written-to tensor refers "
                "to a single memory location (an expand()ed tensor or a read-only array). "
                "Please clone() the tensor before performing the operation."
            )
        seq = autograd.reserve_change()
        if grad_mode:  # the op may save its input for backward: give it a copy, not our memory
            out = fn(Tensor._make(self._data.copy(), self.requires_grad, self._ctx))
        else:
            out = fn(self)
        out = _fit_inplace(out, self)
        np.copyto(self._data, out._data)
        if type(root) is not _Untracked:
            autograd.bump_version(self._data, seq)
        if out.requires_grad:
            ctx = out._ctx
            if ctx.saved_tensors:  # the op saved its output: it lives in our memory now
                ctx.saved_tensors = tuple(
                    self._data if a is out._data else a for a in ctx.saved_tensors
                )
            if steps:
                alias = Tensor._make(root._data, root.requires_grad, root._ctx)
                root._ctx = ops.CopySlices.apply(alias, out, steps=steps)._ctx
            else:
                root._ctx = ctx
            root.requires_grad = True
            _reattach_views(root)
        return self

    # in-place versions of the ops: each changes self and returns it, as PyTorch's x.op_()
    def add_(self, other: Any, *, alpha: Any = 1) -> Tensor:
        """self += alpha * other in place (broadcast to self's shape); -> self."""
        return self._write(lambda s: s.add(other, alpha=alpha))

    def sub_(self, other: Any, *, alpha: Any = 1) -> Tensor:
        """self -= alpha * other in place; -> self."""
        return self._write(lambda s: s.sub(other, alpha=alpha))

    def mul_(self, other: Any) -> Tensor:
        """self *= other in place; -> self."""
        return self._write(lambda s: s * other)

    def div_(self, other: Any) -> Tensor:
        """self /= other in place; -> self."""
        return self._write(lambda s: s / other)

    def pow_(self, exponent: Any) -> Tensor:
        """self **= exponent in place; -> self."""
        return self._write(lambda s: s**exponent)

    def neg_(self) -> Tensor:
        """self = -self in place; -> self."""
        return self._write(lambda s: -s)

    def abs_(self) -> Tensor:
        """self = |self| in place; -> self."""
        return self._write(lambda s: s.abs())

    def exp_(self) -> Tensor:
        """self = e^self in place; -> self."""
        return self._write(lambda s: s.exp())

    def log_(self) -> Tensor:
        """self = log(self) in place; -> self."""
        return self._write(lambda s: s.log())

    def sqrt_(self) -> Tensor:
        """self = sqrt(self) in place; -> self."""
        return self._write(lambda s: s.sqrt())

    def tanh_(self) -> Tensor:
        """self = tanh(self) in place; -> self."""
        return self._write(lambda s: s.tanh())

    def sigmoid_(self) -> Tensor:
        """self = sigmoid(self) in place; -> self."""
        return self._write(lambda s: s.sigmoid())

    def relu_(self) -> Tensor:
        """self = max(self, 0) in place; -> self."""
        return self._write(lambda s: s.relu())

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:
        """self clipped to [min, max] in place; -> self."""
        return self._write(lambda s: s.clamp(min, max))

    clip_ = clamp_

    def clamp_min_(self, min: Any) -> Tensor:
        """self = max(self, min) in place; -> self."""
        return self.clamp_(min=min)

    def clamp_max_(self, max: Any) -> Tensor:
        """self = min(self, max) in place; -> self."""
        return self.clamp_(max=max)

    def masked_fill_(self, mask: Any, value: Any) -> Tensor:
        """Where mask (bool, broadcastable to self) is True put value, in place; -> self."""
        return self._write(lambda s: s.masked_fill(mask, value))

    def index_fill_(self, dim: int, index: Any, value: Any) -> Tensor:
        """Fill the positions index (1-D int64) along dim with value, in place; -> self."""
        return self._write(lambda s: s.index_fill(dim, index, value))

    def addcmul_(self, tensor1: Any, tensor2: Any, *, value: Any = 1) -> Tensor:
        """self += value * tensor1 * tensor2 in place; -> self."""
        return self._write(lambda s: s.addcmul(tensor1, tensor2, value=value))

    def addcdiv_(self, tensor1: Any, tensor2: Any, *, value: Any = 1) -> Tensor:
        """self += value * tensor1 / tensor2 in place; -> self."""
        return self._write(lambda s: s.addcdiv(tensor1, tensor2, value=value))

    def lerp_(self, end: Any, weight: Any) -> Tensor:
        """self += weight * (end - self) in place; -> self."""
        return self._write(lambda s: s.lerp(end, weight))

    def fill_(self, value: Any) -> Tensor:
        """Every element set to value (a number or a one-element tensor) in place; -> self."""
        if isinstance(value, Tensor):
            if value.ndim != 0:
                raise RuntimeError(
                    f"fill_ only supports 0-dimension value tensor but got tensor with "
                    f"{value.ndim} dimensions"
                )
            return self.copy_(value)
        new = np.full(self._data.shape, value, dtype=self.dtype)
        new_t = Tensor._make(new, False, None)
        return self._write(lambda s: ops.Overwrite.apply(s, new_t))

    def zero_(self) -> Tensor:
        """Every element set to 0 in place; -> self."""
        return self.fill_(0)

    def copy_(self, src: Any) -> Tensor:
        """The values of src (broadcast to self's shape, cast to self's dtype) in place; -> self."""
        src = self._other(src) if not isinstance(src, Tensor) else src
        try:
            shape = np.broadcast_shapes(src.shape, self._data.shape)
        except ValueError:
            shape = None
        if shape != self._data.shape:  # the source may not add dimensions or grow self's
            raise RuntimeError(
                f"copy_: the source of shape {list(src.shape)} cannot be broadcast to the "
                f"destination of shape {list(self._data.shape)}"
            )
        value = src.to(self.dtype)
        if value.shape != self._data.shape:
            value = value.expand(*self._data.shape)
        return self._write(lambda s: ops.Overwrite.apply(s, value))

    def _fill_random(self, draw: Any, generator: Any = None) -> Tensor:
        new = np.asarray(draw(numpy_generator(generator)), dtype=self.dtype).reshape(
            self._data.shape
        )
        return self._write(lambda s: ops.Overwrite.apply(s, Tensor._make(new, False, None)))

    def uniform_(self, a: float = 0.0, b: float = 1.0, *, generator: Any = None) -> Tensor:
        """Every element drawn from U(a, b), in place; -> self."""
        return self._fill_random(lambda g: g.uniform(a, b, size=self._data.shape), generator)

    def normal_(self, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Tensor:
        """Every element drawn from N(mean, std^2), in place; -> self."""
        return self._fill_random(lambda g: g.normal(mean, std, size=self._data.shape), generator)

    def bernoulli_(self, p: float = 0.5, *, generator: Any = None) -> Tensor:
        """Every element 1 with probability p, else 0, in place; -> self."""
        return self._fill_random(lambda g: g.random(size=self._data.shape) < p, generator)

    def detach_(self) -> Tensor:
        """Cut self from the graph in place: a leaf that does not require grad; -> self."""
        if self._view is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._ctx, self.requires_grad = None, False
        return self

    def _reshape_(self, make: Any) -> Tensor:
        """Become make(self), a view of self's values in another shape (unsqueeze_, t_, ...)."""
        if self._view is not None and self._view[2] is not None and autograd.is_grad_enabled():
            raise RuntimeError(
                errors.no_grad_view(self._ctx.node is None, errors.NO_GRAD_VIEW_WRITTEN)
            )
        if self.requires_grad and self._ctx is None and autograd.is_grad_enabled():
            raise RuntimeError(
                "a leaf Variable that requires grad is being used in an in-place operation."
            )
        if self._views and any(r() is not None for r in self._views):
            raise RuntimeError(
                "changing the shape in place of a tensor that other views share is not "
                "supported by tinygrad_seq; use the out-of-place op (unsqueeze, t, ...)"
            )
        view = make(self)
        if type(self if self._view is None else self._view[0]) is not _Untracked:
            autograd.bump_version(view._data)  # a change in place, as PyTorch counts it
        self._data, self._ctx, self.requires_grad = view._data, view._ctx, view.requires_grad
        if self._view is not None:  # still a view of the same root, one step further
            self._view = view._view
            self._view[0]._views.append(weakref.ref(self))
        return self

    def unsqueeze_(self, dim: int) -> Tensor:
        """Insert a size-1 dimension at dim, in place; -> self."""
        return self._reshape_(lambda s: s.unsqueeze(dim))

    def squeeze_(self, dim: int | None = None) -> Tensor:
        """Remove size-1 dimensions (only dim when given), in place; -> self."""
        return self._reshape_(lambda s: s.squeeze(dim))

    def t_(self) -> Tensor:
        """Transpose a 2-D tensor in place; -> self."""
        return self._reshape_(lambda s: s.t())

    def transpose_(self, dim0: int, dim1: int) -> Tensor:
        """Swap two dimensions in place; -> self."""
        return self._reshape_(lambda s: s.transpose(dim0, dim1))

    def __iadd__(self, o: Any) -> Tensor:
        return self.add_(o)

    def __isub__(self, o: Any) -> Tensor:
        return self.sub_(o)

    def __imul__(self, o: Any) -> Tensor:
        return self.mul_(o)

    def __itruediv__(self, o: Any) -> Tensor:
        return self.div_(o)

    def __ipow__(self, o: Any) -> Tensor:
        return self.pow_(o)

    # no __imatmul__: PyTorch has no in-place matmul, so `x @= w` rebinds x to x @ w there too

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
        if not isinstance(x, (np.ndarray, np.generic)):  # PyTorch: a Tensor or a number only
            raise TypeError(
                f"unsupported operand: Tensor and {type(x).__name__} (expected a Tensor or a "
                f"number; a {type(x).__name__} is not converted, as in PyTorch)"
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

    def __abs__(self) -> Tensor:
        return self.abs()

    def __pos__(self) -> Tensor:
        return self

    def __pow__(self, exponent: Any) -> Tensor:
        if isinstance(exponent, Tensor):  # PyTorch's values and gradients at 0 and < 0
            return self._binary(ops.PowTensor, exponent)
        if not isinstance(exponent, (int, float, np.integer, np.floating)):
            raise TypeError(f"pow: expected a number or Tensor exponent, got {type(exponent)}")
        # a Python number, so that numpy never upcasts (np.float64 scalars are strongly typed)
        exponent = int(exponent) if _is_int(exponent) else float(exponent)
        return ops.Pow.apply(self._floating(), exponent=exponent)

    def __rpow__(self, base: Any) -> Tensor:
        return self._floating()._binary(ops.PowTensor, base, True)

    def add(self, o: Any, *, alpha: Any = 1) -> Tensor:
        """self + alpha * o (broadcasting)."""
        return self + (o if alpha == 1 else self._other(o) * alpha)

    def sub(self, o: Any, *, alpha: Any = 1) -> Tensor:
        """self - alpha * o (broadcasting)."""
        return self - (o if alpha == 1 else self._other(o) * alpha)

    def addcdiv(self, tensor1: Any, tensor2: Any, *, value: Any = 1) -> Tensor:
        """self + value * tensor1 / tensor2 (torch.addcdiv), broadcasting."""
        quotient = self._other(tensor1) / tensor2
        return self + (quotient if value == 1 else quotient * value)

    def index_fill(self, dim: int, index: Any, value: Any) -> Tensor:
        """A copy with the positions index (1-D ints) along dim set to value."""
        (d,) = _dims(dim, self.ndim)
        idx = np.asarray(index._data if isinstance(index, Tensor) else index).reshape(-1)
        if idx.dtype.kind not in "iu":
            raise IndexError(f"index_fill: index must be an integer tensor, got dtype {idx.dtype}")
        mask = np.zeros(self._data.shape[d] if self.ndim else 1, dtype=bool)
        mask[idx] = True
        return self.masked_fill(mask.reshape((-1,) + (1,) * (self.ndim - d - 1)), value)

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
        other = o._data if isinstance(o, Tensor) else o
        try:
            return Tensor._make(op(self._data, other), False, None)
        except ValueError:
            shape = getattr(other, "shape", ())
            raise RuntimeError(
                f"compare: shapes {self._data.shape} and {shape} cannot be broadcast"
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
        return Tensor._make(~self._data, False, None)

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
            raise RuntimeError("clamp: at least one of min and max must be given")
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
        if self._data.dtype.kind != "f":
            raise RuntimeError(
                f"mean(): input dtype must be floating point, got {self._data.dtype}; "
                "convert with .float() first"
            )
        axes = _dims(dim, self.ndim)
        n = self._data.size if axes is None else int(np.prod([self._data.shape[a] for a in axes]))
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
        n = self._data.size if axes is None else int(np.prod([self._data.shape[a] for a in axes]))
        d = self._floating() - self._floating().mean(dim, keepdim=True)
        return (d * d).sum(dim, keepdim) / max(n - correction, 0)

    def std(self, dim: Any = None, keepdim: bool = False, *, correction: int = 1) -> Tensor:
        """Standard deviation over dim (sqrt of var); gradient 0 at zero spread, as PyTorch."""
        return ops.SafeSqrt.apply(self.var(dim, keepdim, correction=correction))

    def _extreme(self, dim: Any, keepdim: bool, is_min: bool) -> Any:
        axes = _dims(dim, self.ndim)
        if axes is None or len(axes) != 1:  # all (or several) dims: ties share the gradient
            return ops.MaxReduce.apply(self, axis=axes, keepdim=keepdim, is_min=is_min)
        (d,) = axes
        if self._data.shape[d] == 0:
            raise IndexError(f"max/min over dim {dim} of size 0 (shape {self._data.shape})")
        pick = np.argmin if is_min else np.argmax
        idx = np.expand_dims(pick(self._data, axis=d), d).astype(np.int64, copy=False)
        values = ops.TakeAlong.apply(self, idx=idx, axis=d, keepdim=keepdim)
        indices = Tensor._make(idx if keepdim else np.squeeze(idx, d), False, None)
        return MaxResult(values, indices)

    def max(self, dim: Any = None, keepdim: bool = False) -> Any:
        """Largest value; with an int dim returns (values, indices) as PyTorch does."""
        if isinstance(dim, Tensor):  # x.max(other): element-wise, as PyTorch
            return maximum(self, dim)
        return self._extreme(dim, keepdim, False)

    def min(self, dim: Any = None, keepdim: bool = False) -> Any:
        """Smallest value; with an int dim returns (values, indices) as PyTorch does."""
        if isinstance(dim, Tensor):  # x.min(other): element-wise, as PyTorch
            return minimum(self, dim)
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
        if self._data.dtype.kind != "f":
            raise NotImplementedError(f"softmax: input must be floating point, got {self.dtype}")
        return ops.Softmax.apply(self, axis=_one_dim(dim, self.ndim, "softmax"))

    def log_softmax(self, dim: int) -> Tensor:
        """x - logsumexp(x) along dim, stable for large logits."""
        if self._data.dtype.kind != "f":
            raise NotImplementedError(
                f"log_softmax: input must be floating point, got {self.dtype}"
            )
        return ops.LogSoftmax.apply(self, axis=_one_dim(dim, self.ndim, "log_softmax"))

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
        out = ops.Reshape.apply(self, shape=tuple(int(s) for s in shape))
        if out._data.base is None or not np.shares_memory(out._data, self._data):
            return out  # numpy had to copy (as PyTorch's reshape then does): not a view
        return self._as_view(out, "reshape", out.shape)

    def view(self, *shape: Any) -> Tensor:
        """The same memory in a new shape (one dimension may be -1); raises where reshape copies."""
        out = self.reshape(*shape)
        if out._view is None and self._data.size > 0:
            raise RuntimeError(
                f"view size is not compatible with input tensor's size and stride (at least one "
                f"dimension spans across two contiguous subspaces): shape "
                f"{list(self._data.shape)} to {list(out._data.shape)}. Use .reshape(...) instead."
            )
        return out

    def permute(self, *dims: Any) -> Tensor:
        """Reorder dimensions: permute(2, 0, 1)."""
        dims = tuple(dims[0]) if len(dims) == 1 and not _is_int(dims[0]) else dims
        axes = _dims(dims, self.ndim) if self.ndim else tuple(dims)
        if sorted(axes) != list(range(self.ndim)):
            raise RuntimeError(f"permute: {dims} is not a permutation of {self.ndim} dimensions")
        return self._as_view(ops.Permute.apply(self, axes=axes), "permute", axes)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        """Swap two dimensions."""
        axes = list(range(self.ndim))
        d0, d1 = _dims((dim0, dim1), self.ndim)
        axes[d0], axes[d1] = axes[d1], axes[d0]
        return self._as_view(ops.Permute.apply(self, axes=tuple(axes)), "permute", tuple(axes))

    def t(self) -> Tensor:
        """The transpose of a tensor of at most 2 dimensions (a view)."""
        if self.ndim > 2:
            raise RuntimeError(
                f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D"
            )
        return self.transpose(0, 1) if self.ndim == 2 else self.permute(*range(self.ndim))

    def narrow(self, dim: int, start: int, length: int) -> Tensor:
        """The view of positions start .. start+length-1 along dim."""
        if self.ndim == 0:
            raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
        (d,) = _dims(dim, self.ndim)
        if start < 0:
            start += self._data.shape[d]
        if not 0 <= start <= start + length <= self._data.shape[d]:
            raise RuntimeError(
                f"narrow: start {start} + length {length} exceeds dimension {dim} of size "
                f"{self._data.shape[d]}"
            )
        return self[(slice(None),) * d + (slice(start, start + length),)]

    def select(self, dim: int, index: int) -> Tensor:
        """The view at position index along dim (that dimension removed)."""
        if self.ndim == 0:
            raise RuntimeError("select() cannot be applied to a 0-dim tensor.")
        (d,) = _dims(dim, self.ndim)
        return self[(slice(None),) * d + (int(index),)]

    def unsqueeze(self, dim: int) -> Tensor:
        """Insert a size-1 dimension at dim."""
        d = dim if dim >= 0 else dim + self.ndim + 1
        if not 0 <= d <= self.ndim:
            raise IndexError(f"unsqueeze: dim {dim} out of range for {self.ndim} dimensions")
        return self.reshape(self._data.shape[:d] + (1,) + self._data.shape[d:])

    def squeeze(self, dim: int | None = None) -> Tensor:
        """Remove size-1 dimensions (only dim when given and of size 1)."""
        if dim is None:
            return self.reshape(tuple(s for s in self._data.shape if s != 1))
        (d,) = _dims(dim, self.ndim)
        if self.ndim == 0 or self._data.shape[d] != 1:
            return self.reshape(self._data.shape)  # a view all the same, as in PyTorch
        return self.reshape(self._data.shape[:d] + self._data.shape[d + 1 :])

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge dimensions start_dim..end_dim into one."""
        if self.ndim == 0:
            return self.reshape(1)
        s, e = _dims((start_dim, end_dim), self.ndim)
        merged = int(np.prod(self._data.shape[s : e + 1]))
        return self.reshape(self._data.shape[:s] + (merged,) + self._data.shape[e + 1 :])

    def expand(self, *sizes: Any) -> Tensor:
        """Broadcast to a larger shape without copying; -1 keeps a dimension."""
        sizes = tuple(sizes[0]) if len(sizes) == 1 and not _is_int(sizes[0]) else sizes
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise RuntimeError(  # PyTorch's type for every expand size error
                f"expand: {sizes} has fewer dimensions than the tensor {self._data.shape}"
            )
        if -1 in sizes[:lead]:
            raise RuntimeError(f"expand: -1 is not allowed for the new leading dimensions {sizes}")
        shape = tuple(self._data.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
        return self._as_view(ops.Expand.apply(self, shape=shape), "expand", shape)

    def expand_as(self, other: Tensor) -> Tensor:
        """expand to other's shape."""
        return self.expand(*other.shape)

    def view_as(self, other: Tensor) -> Tensor:
        """view with other's shape: the same memory, other.shape."""
        return self.view(*other.shape)

    def __getitem__(self, key: Any) -> Tensor:
        if type(key) is int:  # x[t], the hot case of a loop over time steps
            key = (key,)
        else:
            key, advanced = _index_key(key)
            if advanced:  # integer arrays and masks copy, in PyTorch as in numpy
                return ops.Index.apply(self, key=key, advanced=True)
        return self._as_view(ops.Index.apply(self, key=key, advanced=False), "index", key)

    def __setitem__(self, key: Any, value: Any) -> None:
        """x[key] = value in place: a number, array or Tensor broadcast to x[key]'s shape."""
        key, advanced = _index_key(key)
        v = value if isinstance(value, Tensor) else self._other(value)
        if not advanced:  # a view of self takes the values, as PyTorch's x[key].copy_(v)
            target = self[key]
            while v.ndim > target.ndim and v.shape[0] == 1:  # PyTorch drops leading 1s of v
                v = v.squeeze(0)
            target.copy_(v)
            return
        v = v.to(self.dtype)
        self._write(lambda s: ops.IndexPut.apply(s, v, key=key))

    def split(self, split_size: Any, dim: int = 0) -> tuple:
        """Pieces of split_size along dim (the last may be smaller), or the sizes in a list."""
        (d,) = _dims(dim, self.ndim)
        n = self._data.shape[d]
        if isinstance(split_size, int):
            if split_size <= 0:
                raise RuntimeError(f"split: split_size must be positive, got {split_size}")
            sizes = [min(split_size, n - s) for s in range(0, n, split_size)]
        else:
            sizes = list(split_size)
            if sum(sizes) != n:
                raise RuntimeError(f"split: sizes {sizes} sum to {sum(sizes)}, dim {dim} has {n}")
        out, start = [], 0
        lead = (slice(None),) * d
        for s in sizes:
            out.append(self[lead + (slice(start, start + s),)])
            start += s
        return tuple(out)

    def chunk(self, chunks: int, dim: int = 0) -> tuple:
        """Split into `chunks` pieces of equal size along dim (the last may be smaller)."""
        if chunks <= 0:
            raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
        n = self._data.shape[_dims(dim, self.ndim)[0]]
        if n == 0:  # PyTorch: `chunks` empty pieces
            return tuple(self.narrow(dim, 0, 0) for _ in range(chunks))
        return self.split(-(-n // chunks), dim)

    # ---- more ops (PyTorch's names)
    def sin(self) -> Tensor:
        """(*) -> (*): sine element-wise."""
        return ops.Sin.apply(self._floating())

    def cos(self) -> Tensor:
        """(*) -> (*): cosine element-wise."""
        return ops.Cos.apply(self._floating())

    def tan(self) -> Tensor:
        """(*) -> (*): tangent element-wise."""
        return ops.Tan.apply(self._floating())

    def sinh(self) -> Tensor:
        """(*) -> (*): hyperbolic sine element-wise."""
        return ops.Sinh.apply(self._floating())

    def cosh(self) -> Tensor:
        """(*) -> (*): hyperbolic cosine element-wise."""
        return ops.Cosh.apply(self._floating())

    def log1p(self) -> Tensor:
        """(*) -> (*): log(1 + x), accurate for small x."""
        return ops.Log1p.apply(self._floating())

    def expm1(self) -> Tensor:
        """(*) -> (*): e^x - 1, accurate for small x."""
        return ops.Expm1.apply(self._floating())

    def log2(self) -> Tensor:
        """(*) -> (*): base-2 logarithm."""
        return self.log() * (1 / np.log(2.0))

    def log10(self) -> Tensor:
        """(*) -> (*): base-10 logarithm."""
        return self.log() * (1 / np.log(10.0))

    def erf(self) -> Tensor:
        """(*) -> (*): the error function."""
        return ops.Erf.apply(self._floating())

    def rsqrt(self) -> Tensor:
        """(*) -> (*): 1 / sqrt(x)."""
        return self._floating() ** -0.5

    def sign(self) -> Tensor:
        """(*) -> (*): -1, 0 or 1 by the sign of x (gradient 0)."""
        return ops.Step.apply(self, fn=np.sign)

    def floor(self) -> Tensor:
        """(*) -> (*): largest integer <= x (gradient 0)."""
        return self.clone() if self.dtype.kind != "f" else ops.Step.apply(self, fn=np.floor)

    def ceil(self) -> Tensor:
        """(*) -> (*): smallest integer >= x (gradient 0)."""
        return self.clone() if self.dtype.kind != "f" else ops.Step.apply(self, fn=np.ceil)

    def round(self, *, decimals: int = 0) -> Tensor:
        """(*) -> (*): x rounded half to even, to `decimals` places (gradient 0)."""
        if self.dtype.kind != "f":
            return self.clone()  # a new tensor, as PyTorch: writing to it leaves self alone
        return ops.Step.apply(self, fn=lambda a: np.round(a, decimals))

    def isnan(self) -> Tensor:
        """(*) -> (*) bool: where x is NaN."""
        return Tensor._make(np.isnan(self._data), False, None)

    def isinf(self) -> Tensor:
        """(*) -> (*) bool: where x is +-inf."""
        return Tensor._make(np.isinf(self._data), False, None)

    def isfinite(self) -> Tensor:
        """(*) -> (*) bool: where x is neither NaN nor +-inf."""
        return Tensor._make(np.isfinite(self._data), False, None)

    def isclose(
        self, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
    ) -> Tensor:
        """(*), (*) -> broadcast shape, bool: |x - other| <= atol + rtol |other|."""
        b = other._data if isinstance(other, Tensor) else np.asarray(other)
        return Tensor._make(np.isclose(self._data, b, rtol, atol, equal_nan), False, None)

    def allclose(
        self, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
    ) -> bool:
        """True when isclose holds everywhere."""
        return bool(self.isclose(other, rtol, atol, equal_nan)._data.all())

    def any(self, dim: Any = None, keepdim: bool = False, **numpy_args: Any) -> Tensor:
        """-> bool: whether any element over dim (None: all) is nonzero."""
        axes, keepdim = _numpy_reduction("any", self.ndim, dim, keepdim, numpy_args)
        return Tensor._make(np.any(self._data, axis=axes, keepdims=keepdim), False, None)

    def all(self, dim: Any = None, keepdim: bool = False, **numpy_args: Any) -> Tensor:
        """-> bool: whether every element over dim (None: all) is nonzero."""
        axes, keepdim = _numpy_reduction("all", self.ndim, dim, keepdim, numpy_args)
        return Tensor._make(np.all(self._data, axis=axes, keepdims=keepdim), False, None)

    def norm(self, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Tensor:
        """Vector p-norm over dim (None: all): p 2/'fro' (default), 1, inf, -inf, 0 or any."""
        x = self._floating()
        if p in ("fro", 2, 2.0):
            return ops.SafeSqrt.apply((x * x).sum(dim, keepdim))
        if p == float("inf"):
            return x.abs().amax(dim, keepdim)
        if p == float("-inf"):
            return x.abs().amin(dim, keepdim)
        if p == 0:
            return (x != 0).to(x.dtype).sum(dim, keepdim)
        if p == 1:
            return x.abs().sum(dim, keepdim)
        if isinstance(p, str):
            raise RuntimeError(f"norm: p must be a number or 'fro', got {p!r}")
        if p < 0:
            return (x.abs() ** float(p)).sum(dim, keepdim) ** (1 / p)
        return ops.PNorm.apply(x, p=float(p), axis=_dims(dim, self.ndim), keepdim=keepdim)

    def tril(self, diagonal: int = 0) -> Tensor:
        """(*, n, m) -> (*, n, m): the lower triangle (at and below diagonal), the rest 0."""
        if self.ndim < 2:
            raise RuntimeError("tril: input tensor must have at least 2 dimensions")
        return ops.Tri.apply(self, k=int(diagonal), upper=False)

    def triu(self, diagonal: int = 0) -> Tensor:
        """(*, n, m) -> (*, n, m): the upper triangle (at and above diagonal), the rest 0."""
        if self.ndim < 2:
            raise RuntimeError("triu: input tensor must have at least 2 dimensions")
        return ops.Tri.apply(self, k=int(diagonal), upper=True)

    def diag(self, diagonal: int = 0) -> Tensor:
        """(n,) -> (n+|k|, n+|k|) with x on diagonal k; (n, m) -> the diagonal k as a vector."""
        if self.ndim not in (1, 2):
            raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {self.ndim}D")
        return ops.Diag.apply(self, k=int(diagonal))

    def sort(self, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Any:
        """(*) -> (values, indices) sorted along dim; NaN counts as the largest value."""
        d = _one_dim(dim, self.ndim, "sort")  # a 0-d tensor takes dim 0 or -1
        if self.ndim == 0:
            return MaxResult(self.clone(), Tensor._make(np.zeros((), np.int64), False, None))
        idx = _sort_indices(self._data, d, descending)
        return MaxResult(ops.Sort.apply(self, idx=idx, axis=d), Tensor._make(idx, False, None))

    def argsort(self, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Tensor:
        """(*) -> (*) int64: the indices that sort x along dim."""
        return self.sort(dim, descending, stable=stable).indices

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:
        """(*) -> (values, indices) of the k largest (smallest) along dim, k in that dim."""
        d = _one_dim(dim, self.ndim, "topk") if self.ndim else 0
        n = self._data.shape[d] if self.ndim else 1
        if not 0 <= k <= n:
            raise RuntimeError(f"selected index k out of range (k={k}, dim size {n})")
        if self.ndim == 0:
            return self.sort()
        idx = _sort_indices(self._data, d, largest)
        idx = np.ascontiguousarray(idx[(slice(None),) * d + (slice(0, k),)])
        return MaxResult(ops.Sort.apply(self, idx=idx, axis=d), Tensor._make(idx, False, None))

    def gather(self, dim: int, index: Any) -> Tensor:
        """(*s), index (*i) int64 -> (*i): out[.., j, ..] = x[.., index[.., j, ..], ..] on dim."""
        d = _one_dim(dim, self.ndim, "gather") if self.ndim else 0
        idx = _index_array(index, "gather")
        _check_scatter_shapes("gather", self, idx, d, None)
        return ops.Gather.apply(self, idx=idx, axis=d)

    def _scatter(self, dim: int, index: Any, src: Any, add: bool, name: str) -> Tensor:
        d = _one_dim(dim, self.ndim, name) if self.ndim else 0
        idx = _index_array(index, name)
        if isinstance(src, Tensor):
            src = src.to(self.dtype) if src.dtype != self.dtype else src
        else:
            src = self._other(src).to(self.dtype).expand(*idx.shape)
        _check_scatter_shapes(name, self, idx, d, src)
        return ops.Scatter.apply(self, src, idx=idx, axis=d, add=add)

    def scatter(self, dim: int, index: Any, src: Any = None, *, value: Any = None) -> Tensor:
        """A copy with src (a tensor or a number) written at index along dim: -> (*s)."""
        if src is None:
            src = value
        return self._scatter(dim, index, src, False, "scatter")

    def scatter_add(self, dim: int, index: Any, src: Tensor) -> Tensor:
        """A copy with src added at index along dim (repeats accumulate): -> (*s)."""
        return self._scatter(dim, index, src, True, "scatter_add")

    def index_select(self, dim: int, index: Any) -> Tensor:
        """(*s) -> (*s) with dim of len(index): the entries at index (1-D ints) along dim."""
        idx = _index_array(index, "index_select")
        if idx.ndim > 1:
            raise IndexError("index_select(): Index is supposed to be a vector")
        if self.ndim == 0:
            return self[idx.reshape(())].reshape(idx.shape) if idx.size else self.reshape(0)
        (d,) = _dims(dim, self.ndim)
        return self[(slice(None),) * d + (idx.reshape(-1),)]

    def masked_select(self, mask: Any) -> Tensor:
        """(*s), bool mask broadcastable -> (k,): the entries where mask holds, in order."""
        m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
        if m.dtype != np.bool_:
            raise RuntimeError(f"masked_select: expected BoolTensor for mask, got {m.dtype}")
        try:
            shape = np.broadcast_shapes(self._data.shape, m.shape)
        except ValueError:
            raise RuntimeError(
                f"masked_select: mask of shape {m.shape} does not broadcast with {self._data.shape}"
            ) from None
        x = self.expand(*shape) if self._data.shape != shape else self
        return x[np.broadcast_to(m, shape)]

    def nonzero(self, *, as_tuple: bool = False) -> Any:
        """(*s) -> (k, ndim) int64: the indices of the nonzero entries (as_tuple: one per dim)."""
        if as_tuple:
            data = self._data if self.ndim else self._data.reshape(1)
            return tuple(Tensor._make(i.astype(np.int64), False, None) for i in np.nonzero(data))
        return Tensor._make(np.argwhere(self._data).astype(np.int64), False, None)

    def bmm(self, mat2: Tensor) -> Tensor:
        """(b, n, k) @ (b, k, m) -> (b, n, m), no broadcasting."""
        if self.ndim != 3 or mat2.ndim != 3:
            raise RuntimeError(
                f"batch1 must be a 3D tensor, got {self.ndim}D and {mat2.ndim}D operands"
            )
        if self._data.shape[0] != mat2.shape[0] or self._data.shape[2] != mat2.shape[1]:
            raise RuntimeError(
                f"bmm: shapes {list(self._data.shape)} and {list(mat2.shape)} do not match"
            )
        return self @ mat2

    def baddbmm(self, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
        """beta * self + alpha * (batch1 bmm batch2): (b, n, m) or broadcastable -> (b, n, m)."""
        prod = batch1.bmm(batch2)
        prod = prod if alpha == 1 else prod * alpha
        if beta == 0:  # PyTorch ignores self then, even its NaNs (its gradient is 0)
            return where(np.zeros((), dtype=bool), self, prod)
        return (self if beta == 1 else self * beta) + prod

    def outer(self, vec2: Tensor) -> Tensor:
        """(n,), (m,) -> (n, m): x_i y_j."""
        if self.ndim != 1 or vec2.ndim != 1:
            raise RuntimeError("outer: expected 1-D vectors")
        return self.reshape(-1, 1) * vec2.reshape(1, -1)

    def cumsum(self, dim: int, *, dtype: Any = None) -> Tensor:
        """(*) -> (*): running sums along dim (integers and bools sum as int64)."""
        x = _accumulator(self, dtype)
        if self.ndim == 0:
            return x.clone()
        return ops.Cumsum.apply(x, axis=_one_dim(dim, self.ndim, "cumsum"))

    def cumprod(self, dim: int, *, dtype: Any = None) -> Tensor:
        """(*) -> (*): running products along dim (integers and bools multiply as int64)."""
        x = _accumulator(self, dtype)
        if self.ndim == 0:
            return x.clone()
        return ops.Cumprod.apply(x, axis=_one_dim(dim, self.ndim, "cumprod"))

    def prod(self, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        """Product over dim (one int) or of all entries: -> reduced shape."""
        x = _accumulator(self, dtype)
        if dim is None:
            return ops.Prod.apply(x, axis=None, keepdim=False)
        d = _one_dim(dim, self.ndim, "prod") if self.ndim else None
        if d is None:
            return x.clone()
        return ops.Prod.apply(x, axis=d, keepdim=keepdim)

    def repeat(self, *sizes: Any) -> Tensor:
        """The tensor tiled sizes[i] times along dim i (more sizes than dims add leading dims)."""
        sizes = tuple(sizes[0]) if len(sizes) == 1 and not _is_int(sizes[0]) else sizes
        if len(sizes) < self.ndim:
            raise RuntimeError(
                "Number of dimensions of repeat dims can not be smaller than number of "
                "dimensions of tensor"
            )
        if any(r < 0 for r in sizes):
            raise RuntimeError(f"repeat: repeats must be non-negative, got {tuple(sizes)}")
        shape = (1,) * (len(sizes) - self.ndim) + self._data.shape
        split = tuple(n for s in shape for n in (1, s))
        tiled = tuple(n for r, s in zip(sizes, shape) for n in (r, s))
        out = self.reshape(split).expand(*tiled)
        return out.reshape(tuple(r * s for r, s in zip(sizes, shape)))

    def repeat_interleave(self, repeats: Any, dim: int | None = None) -> Tensor:
        """Each entry repeated `repeats` times (an int or one count per entry) along dim."""
        x = self.reshape(-1) if dim is None else self
        (d,) = _dims(0 if dim is None else dim, x.ndim)
        r = repeats._data if isinstance(repeats, Tensor) else np.asarray(repeats)
        n = x.shape[d] if x.ndim else 1
        if r.ndim > 0 and r.size != n:
            raise RuntimeError(f"repeats must have the same size as input along dim, got {r.size}")
        if np.any(r < 0):
            raise RuntimeError("repeats can not be negative")
        return x.index_select(d, np.repeat(np.arange(n), r.reshape(-1) if r.ndim else int(r)))

    def flip(self, *dims: Any) -> Tensor:
        """(*) -> (*): reversed along each of dims, a copy."""
        dims = tuple(dims[0]) if len(dims) == 1 and not _is_int(dims[0]) else dims
        if self.ndim == 0:
            return self.clone()
        return ops.Flip.apply(self, axes=_dims(dims, self.ndim))

    def roll(self, shifts: Any, dims: Any = None) -> Tensor:
        """(*) -> (*): entries shifted cyclically along dims (None: the flattened tensor)."""
        if dims is None:
            if not _is_int(shifts):
                raise RuntimeError("roll: with dims=None, shifts must be one int")
            return ops.Roll.apply(self, shifts=int(shifts), axes=None)
        s = (shifts,) if _is_int(shifts) else tuple(shifts)
        axes = _dims(dims, self.ndim)
        if len(s) != len(axes):
            raise RuntimeError(
                f"shifts and dimensions must align. shifts: {len(s)}, dims: {len(axes)}"
            )
        return ops.Roll.apply(self, shifts=tuple(int(v) for v in s), axes=axes)

    def unbind(self, dim: int = 0) -> tuple:
        """The slices along dim, that dim removed: a tuple of shape[dim] tensors."""
        (d,) = _dims(dim, self.ndim)
        return tuple(self.select(d, i) for i in range(self._data.shape[d]))

    def multinomial(
        self, num_samples: int, replacement: bool = False, *, generator: Any = None
    ) -> Tensor:
        """(k,) or (n, k) weights -> (num_samples,) or (n, num_samples) int64 category draws."""
        return multinomial(self, num_samples, replacement, generator=generator)

    def bernoulli(self, *, generator: Any = None) -> Tensor:
        """(*) probabilities -> (*): 1 with probability x, else 0 (same dtype)."""
        return bernoulli(self, generator=generator)


class _Untracked(Tensor):
    """What .data returns: a Tensor whose in-place changes bump no version (PyTorch's trap)."""

    __slots__ = ()


class _NoGradViewEdge(Tensor):
    """The _ctx of a view made under no_grad of a tensor that requires grad (or a view of one).

    As in PyTorch, such a view requires grad (its base does) and is a leaf, yet no gradient
    flows through it to the base or into its own .grad: Function.apply takes `t._ctx or t` as
    t's edge, and this edge is a constant the backward walk stops at. A view of it made in grad
    mode has a node (`node`) whose only input is this dead end. Once the memory is changed in
    place after the view was made, the view is unusable in grad mode (PyTorch's error, from
    grad_fn, is_leaf and any op that would record it). `leaf`: requires_grad_(True) was called
    on the view, which then collects its own .grad (the edge is the view itself).
    """

    __slots__ = ("made_at", "node", "leaf")

    @staticmethod
    def mark(view: Tensor) -> None:
        """Make view (just made by a view op) a no_grad view: requires grad, a dead edge."""
        made_at = autograd.version(view._data)
        view._view = view._view[:2] + (made_at,)
        edge = object.__new__(_NoGradViewEdge)
        edge._data, edge.grad, edge.requires_grad, edge._ctx = view._data, None, False, None
        edge._hooks, edge._view, edge._views = (), None, None
        edge.made_at, edge.node, edge.leaf = made_at, view._ctx, False
        if edge.node is not None and type(edge.node.parents[0]) is not _NoGradViewEdge:
            raise NotImplementedError(  # its input collects gradients: requires_grad_(True)
                "a view made in grad mode of a view made under no_grad on which "
                "requires_grad_(True) was called is not supported by tinygrad_seq; use "
                "v.detach().requires_grad_() for a leaf of its own"
            )
        view._ctx, view.requires_grad = edge, True

    def broken(self) -> bool:
        """True once the memory was changed in place after the view was made."""
        return autograd.version(self._data) != self.made_at

    def check(self) -> _NoGradViewEdge:
        """PyTorch's error if the view is unusable (see broken); -> self."""
        if self.broken():
            raise RuntimeError(errors.no_grad_view(self.node is None, errors.NO_GRAD_VIEW_CHANGED))
        return self

    def __bool__(self) -> bool:
        # Function.apply's `t._ctx or t`: a recorded use checks the view; False: the view itself
        if autograd.is_grad_enabled():
            self.check()
        return not self.leaf


def _hook_node(t: Tensor) -> Context | None:
    """The node that keeps t's hooks and retain_grad() (None: t's own, a leaf's)."""
    ctx = t._ctx
    if type(ctx) is not _NoGradViewEdge:
        return ctx
    if ctx.node is not None:
        raise NotImplementedError(
            "hooks and retain_grad() on a view of a view made under no_grad are not supported "
            "by tinygrad_seq (the gradient reaching it is dropped); make the views outside "
            "no_grad, or hook the tensors computed from it"
        )
    return None


def _fit_inplace(out: Tensor, self: Tensor) -> Tensor:
    """The result of an in-place op, checked against the tensor it is written into."""
    if out.shape != self._data.shape:
        raise RuntimeError(
            f"output with shape {list(self._data.shape)} doesn't match the broadcast shape "
            f"{list(out.shape)}"
        )
    if out.dtype != self.dtype:
        if not np.can_cast(out.dtype, self.dtype, "same_kind"):
            raise RuntimeError(
                f"result type {dtypes.torch_name(out.dtype)} can't be cast to the desired "
                f"output type {dtypes.torch_name(self.dtype)}"
            )
        out = out.to(self.dtype)
    return out


def _reattach_views(root: Tensor) -> None:
    """After root's history moved, point each live view of root at root's new history."""
    for ref in root._views or ():
        v = ref()
        if v is None or v._view[2] is not None:  # a no_grad view stays out of the graph
            continue
        v._ctx = ops.View.apply(root, steps=v._view[1])._ctx
        v.requires_grad = True


def _arg(t: Tensor, fn: Any, dim: int | None, keepdim: bool) -> Tensor:
    if dim is None:
        return Tensor._make(np.asarray(fn(t._data), dtype=np.int64), False, None)
    (d,) = _dims(dim, t.ndim)
    idx = fn(t._data, axis=d)
    return Tensor._make((np.expand_dims(idx, d) if keepdim else idx).astype(np.int64), False, None)


def _index_key(key: Any) -> tuple[tuple, bool]:
    """Tensors and lists in an index become arrays; boolean masks become their nonzero indices."""
    if not isinstance(key, tuple):
        key = (key,)
    out: list = []
    advanced = False
    for k in key:
        if isinstance(k, Tensor):
            k = k._data
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
    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise RuntimeError(f"where: condition must be a bool tensor, got dtype {cond.dtype}")
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
        raise RuntimeError("cat: zero-dimensional tensors cannot be concatenated; use stack()")
    (d,) = _dims(dim, first.ndim)
    rest = first._data.shape[:d] + first._data.shape[d + 1 :]
    for i, t in enumerate(tensors):
        if t.ndim != first.ndim or t._data.shape[:d] + t._data.shape[d + 1 :] != rest:
            raise RuntimeError(
                f"cat: tensor {i} has shape {t._data.shape}, expected {first._data.shape} except "
                f"along dim {dim}"
            )
    return ops.Cat.apply(*tensors, axis=d)


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Stack equal-shaped tensors along a new dimension."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack: expected a non-empty sequence of tensors")
    for i, t in enumerate(tensors):
        if t._data.shape != tensors[0]._data.shape:
            raise RuntimeError(
                f"stack: tensor {i} has shape {t._data.shape}, tensor 0 has "
                f"{tensors[0]._data.shape}"
            )
    ndim = tensors[0].ndim + 1
    return ops.Stack.apply(*tensors, axis=_dims(dim, ndim)[0])


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """a @ b: (.., n, k) @ (.., k, m) -> (.., n, m); 1-D operands as in numpy."""
    return a @ b


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor) -> Tensor:
    """input + mat1 @ mat2 in one op: (n, m) or broadcastable, (n, k), (k, m) -> (n, m)."""
    return ops.AddMM.apply(input._floating(), mat1._floating(), mat2._floating())


def exp(input: Tensor) -> Tensor:
    """(*) -> (*): e^x element-wise."""
    return input.exp()


def log(input: Tensor) -> Tensor:
    """(*) -> (*): natural log element-wise."""
    return input.log()


def tanh(input: Tensor) -> Tensor:
    """(*) -> (*): tanh element-wise."""
    return input.tanh()


def sigmoid(input: Tensor) -> Tensor:
    """(*) -> (*): 1 / (1 + e^-x) element-wise."""
    return input.sigmoid()


def relu(input: Tensor) -> Tensor:
    """(*) -> (*): max(x, 0) element-wise."""
    return input.relu()


def softmax(input: Tensor, dim: int) -> Tensor:
    """(*) -> (*): exp(x) / sum(exp(x)) along dim, stable for large values."""
    return input.softmax(dim)


def log_softmax(input: Tensor, dim: int) -> Tensor:
    """(*) -> (*): x - logsumexp(x) along dim, stable for large values."""
    return input.log_softmax(dim)


def logsumexp(input: Tensor, dim: int, keepdim: bool = False) -> Tensor:
    """(*) -> (*) less dim: log(sum(exp(x))) along dim, stable for large values."""
    return input.logsumexp(dim, keepdim)


def clamp(input: Tensor, min: float | None = None, max: float | None = None) -> Tensor:
    """(*) -> (*): values clipped to [min, max]."""
    return input.clamp(min, max)


# ----------------------------------------------------------------------------- more ops
# PyTorch's module-level functions for the methods of "more ops". max, min, any, all and round
# would hide Python's builtins inside this module, so they are defined as tensor_max, ... and
# exported under PyTorch's names by __init__.py.


def _sort_indices(a: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """The stable permutation sorting a along axis; NaN sorts as the largest value (PyTorch)."""
    if not descending:
        return np.argsort(a, axis=axis, kind="stable").astype(np.int64, copy=False)
    # descending and stable: sort the reversed array ascending, then reverse the permutation
    n = a.shape[axis]
    rev = np.argsort(np.flip(a, axis), axis=axis, kind="stable")
    return (n - 1 - np.flip(rev, axis)).astype(np.int64, copy=False)


def _index_array(index: Any, op: str) -> np.ndarray:
    idx = np.asarray(index._data if isinstance(index, Tensor) else index)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): Expected dtype int64 for index, got {idx.dtype}")
    return idx.astype(np.int64, copy=False)


def _check_scatter_shapes(op: str, x: Tensor, idx: np.ndarray, d: int, src: Any) -> None:
    """PyTorch's rules: index has x's ndim, fits x outside dim (and src everywhere), in range."""
    ndim = max(x.ndim, 1)
    if idx.ndim != ndim and not (idx.ndim == 0 and x.ndim == 0):
        raise RuntimeError(
            f"{op}(): Index tensor must have the same number of dimensions as "
            f"input tensor ({idx.ndim} vs {x.ndim})"
        )
    shape = x.shape if x.ndim else (1,)
    for i in range(idx.ndim):
        if i != d and idx.shape[i] > shape[i]:
            raise RuntimeError(
                f"{op}(): size of index {list(idx.shape)} exceeds the input's {list(x.shape)} "
                f"in dimension {i}"
            )
        if src is not None and src.ndim and idx.shape[i] > src.shape[i]:
            raise RuntimeError(
                f"{op}(): size of index {list(idx.shape)} exceeds the source's "
                f"{list(src.shape)} in dimension {i}"
            )
    n = shape[d]
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx.min() if idx.min() < -n else idx.max()
        raise RuntimeError(f"{op}(): index {bad} is out of bounds for dimension {d} with size {n}")


def _numpy_reduction(op: str, ndim: int, dim: Any, keepdim: bool, kw: dict) -> tuple:
    """(axes, keepdim) from PyTorch's arguments, or from numpy's (np.any(t) calls t.any with
    axis= and out=None; PyTorch refuses those, but code that ran on arrays keeps working)."""
    axis, out, keepdims = kw.pop("axis", None), kw.pop("out", None), kw.pop("keepdims", None)
    if kw or out is not None:
        raise TypeError(f"{op}() got unexpected arguments {sorted(kw) or ['out']}")
    if axis is not None:
        dim = axis
    return _dims(dim, ndim), bool(keepdim if keepdims is None else keepdims)


def _accumulator(x: Tensor, dtype: Any) -> Tensor:
    """x in the dtype a running sum or product takes: dtype if given, else int64 for ints."""
    if dtype is not None:
        return x.to(dtypes.to_dtype(dtype))
    return x if x.dtype.kind == "f" else x.to(np.int64)


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:
    """(*) -> (values, indices): the k largest (largest=False: smallest) entries along dim."""
    return input.topk(k, dim, largest, sorted)


def sort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Any:
    """(*) -> (values, indices) sorted along dim."""
    return input.sort(dim, descending, stable=stable)


def argsort(
    input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False
) -> Tensor:
    """(*) -> (*) int64: the indices that sort input along dim."""
    return input.argsort(dim, descending, stable=stable)


def _extreme(input: Tensor, args: tuple, keepdim: Any, is_min: bool) -> Any:
    name = "min" if is_min else "max"
    if not args:
        if keepdim is not None:
            raise TypeError(f"{name}(): keepdim needs dim")
        return input.amin() if is_min else input.amax()
    if len(args) > 2:
        raise TypeError(f"{name}() takes at most 3 positional arguments")
    first = args[0]
    if isinstance(first, Tensor):  # max(a, b): element-wise
        if len(args) > 1 or keepdim is not None:
            raise TypeError(f"{name}(input, other) takes no dim or keepdim")
        return minimum(input, first) if is_min else maximum(input, first)
    kd = bool(args[1]) if len(args) > 1 else bool(keepdim)
    return input.min(first, kd) if is_min else input.max(first, kd)


def tensor_max(input: Tensor, *args: Any, dim: Any = None, keepdim: Any = None) -> Any:
    """torch.max: max(x) -> 0-d; max(x, dim, keepdim=False) -> (values, indices); max(a, b)."""
    return _extreme(input, args if dim is None else (dim, *args), keepdim, False)


def tensor_min(input: Tensor, *args: Any, dim: Any = None, keepdim: Any = None) -> Any:
    """torch.min: min(x) -> 0-d; min(x, dim, keepdim=False) -> (values, indices); min(a, b)."""
    return _extreme(input, args if dim is None else (dim, *args), keepdim, True)


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index (int64) of the largest value along dim, of the flattened input when dim is None."""
    return input.argmax(dim, keepdim)


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index (int64) of the smallest value along dim, of the flattened input when dim is None."""
    return input.argmin(dim, keepdim)


def multinomial(
    input: Tensor, num_samples: int, replacement: bool = False, *, generator: Any = None
) -> Tensor:
    """(k,) or (n, k) non-negative weights -> (num_samples,) or (n, num_samples) int64 draws."""
    w = input._data
    if w.ndim not in (1, 2):
        raise RuntimeError(f"prob_dist must be 1 or 2 dim, got {w.ndim}")
    if w.dtype.kind != "f":
        raise RuntimeError(
            f"multinomial only supports floating-point dtypes for input, got "
            f"{dtypes.torch_name(w.dtype)}"
        )
    if num_samples <= 0:
        raise RuntimeError(f"cannot sample n_sample <= 0 samples, got {num_samples}")
    rows = w.reshape(-1, w.shape[-1]).astype(np.float64)
    if not np.all(np.isfinite(rows)) or np.any(rows < 0):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if np.any(rows.sum(axis=1) <= 0):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    if not replacement and num_samples > rows.shape[1]:
        raise RuntimeError(
            "cannot sample n_sample > prob_dist.size(-1) samples without replacement"
        )
    if not replacement and np.any((rows > 0).sum(axis=1) < num_samples):
        raise RuntimeError(
            "invalid multinomial distribution (with replacement=False, not "
            "enough non-negative category to sample)"
        )
    rng = numpy_source(generator)
    out = np.stack([
        rng.choice(rows.shape[1], num_samples, replace=replacement, p=r / r.sum()) for r in rows
    ])  # fmt: skip
    return Tensor._make(out.reshape(w.shape[:-1] + (num_samples,)).astype(np.int64), False, None)


def bernoulli(input: Tensor, p: float | None = None, *, generator: Any = None) -> Tensor:
    """(*) probabilities (or the number p) -> (*): 1 with that probability, else 0."""
    probs = input._data if p is None else np.full(input.shape, p)
    if np.any((probs < 0) | (probs > 1)):
        raise RuntimeError("bernoulli: all elements of input must be in [0, 1]")
    draws = numpy_source(generator).random(input.shape) < probs
    return Tensor._make(draws.astype(input.dtype), False, None)


def normal(mean: Any, std: Any = 1.0, size: Any = None, *, generator: Any = None) -> Tensor:
    """Draws from N(mean, std^2): tensor mean/std broadcast, or numbers with a size."""
    rng = numpy_source(generator)
    if not isinstance(mean, Tensor) and not isinstance(std, Tensor):
        if size is None:
            raise TypeError("normal(): with number mean and std, size is required")
        shape = tuple(size) if not _is_int(size) else (size,)
        out = rng.normal(float(mean), float(std), shape).astype(dtypes.get_default_dtype())
        return Tensor._make(out, False, None)
    m = mean._data if isinstance(mean, Tensor) else np.asarray(mean)
    s = std._data if isinstance(std, Tensor) else np.asarray(std)
    if np.any(s < 0):
        raise RuntimeError("normal expects all elements of std >= 0.0")
    dtype = (mean if isinstance(mean, Tensor) else std).dtype
    shape = np.broadcast_shapes(m.shape, s.shape)
    return Tensor._make((m + s * rng.standard_normal(shape)).astype(dtype), False, None)


def linspace(
    start: float, end: float, steps: int, *, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """(steps,): steps evenly spaced values from start to end, both included."""
    if steps < 0:
        raise RuntimeError("linspace: number of steps must be non-negative")
    dt = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    out = Tensor._make(np.linspace(start, end, steps).astype(dt), False, None)
    return out.requires_grad_() if requires_grad else out


def gather(input: Tensor, dim: int, index: Any) -> Tensor:
    """(*s), index (*i) -> (*i): input's entries at index along dim."""
    return input.gather(dim, index)


def scatter(input: Tensor, dim: int, index: Any, src: Any = None, *, value: Any = None) -> Tensor:
    """A copy of input with src (a tensor or number) written at index along dim."""
    return input.scatter(dim, index, src, value=value)


def scatter_add(input: Tensor, dim: int, index: Any, src: Tensor) -> Tensor:
    """A copy of input with src added at index along dim (repeats accumulate)."""
    return input.scatter_add(dim, index, src)


def index_select(input: Tensor, dim: int, index: Any) -> Tensor:
    """The entries at index (1-D ints) along dim."""
    return input.index_select(dim, index)


def masked_select(input: Tensor, mask: Any) -> Tensor:
    """(*s), bool mask -> (k,): the entries where mask holds."""
    return input.masked_select(mask)


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Any:
    """(*s) -> (k, ndim) int64 indices of nonzero entries (as_tuple: one tensor per dim)."""
    return input.nonzero(as_tuple=as_tuple)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """(b, n, k) @ (b, k, m) -> (b, n, m)."""
    return input.bmm(mat2)


def baddbmm(
    input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1
) -> Tensor:
    """beta * input + alpha * bmm(batch1, batch2) -> (b, n, m)."""
    return input.baddbmm(batch1, batch2, beta=beta, alpha=alpha)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """(n,), (m,) -> (n, m): the outer product."""
    return input.outer(vec2)


def cumsum(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """(*) -> (*): running sums along dim."""
    return input.cumsum(dim, dtype=dtype)


def cumprod(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """(*) -> (*): running products along dim."""
    return input.cumprod(dim, dtype=dtype)


def prod(
    input: Tensor, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None
) -> Tensor:
    """The product over dim, or of all entries."""
    return input.prod(dim, keepdim, dtype=dtype)


def repeat_interleave(input: Tensor, repeats: Any, dim: int | None = None) -> Tensor:
    """Each entry repeated along dim (None: of the flattened input)."""
    return input.repeat_interleave(repeats, dim)


def flip(input: Tensor, dims: Any) -> Tensor:
    """(*) -> (*): reversed along dims."""
    return input.flip(dims)


def roll(input: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    """(*) -> (*): shifted cyclically along dims."""
    return input.roll(shifts, dims)


def unbind(input: Tensor, dim: int = 0) -> tuple:
    """The slices along dim, that dim removed."""
    return input.unbind(dim)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """At most `chunks` equal pieces along dim (the last may be smaller)."""
    return input.chunk(chunks, dim)


def norm(input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Tensor:
    """The vector p-norm over dim (None: all entries)."""
    return input.norm(p, dim, keepdim)


def tensor_any(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """torch.any: whether any entry over dim is nonzero (bool)."""
    return input.any(dim, keepdim)


def tensor_all(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """torch.all: whether every entry over dim is nonzero (bool)."""
    return input.all(dim, keepdim)


def tensor_round(input: Tensor, *, decimals: int = 0) -> Tensor:
    """torch.round: (*) -> (*) rounded half to even."""
    return input.round(decimals=decimals)


def isnan(input: Tensor) -> Tensor:
    """(*) -> (*) bool: where input is NaN."""
    return input.isnan()


def isinf(input: Tensor) -> Tensor:
    """(*) -> (*) bool: where input is +-inf."""
    return input.isinf()


def isfinite(input: Tensor) -> Tensor:
    """(*) -> (*) bool: where input is finite."""
    return input.isfinite()


def isclose(
    input: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> Tensor:
    """-> broadcast shape, bool: |input - other| <= atol + rtol |other|."""
    return input.isclose(other, rtol, atol, equal_nan)


def allclose(
    input: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> bool:
    """True when isclose holds everywhere."""
    return input.allclose(other, rtol, atol, equal_nan)


def rsqrt(input: Tensor) -> Tensor:
    """(*) -> (*): 1 / sqrt(x)."""
    return input.rsqrt()


def sign(input: Tensor) -> Tensor:
    """(*) -> (*): the sign, -1, 0 or 1."""
    return input.sign()


def floor(input: Tensor) -> Tensor:
    """(*) -> (*): rounded down."""
    return input.floor()


def ceil(input: Tensor) -> Tensor:
    """(*) -> (*): rounded up."""
    return input.ceil()


def sin(input: Tensor) -> Tensor:
    """(*) -> (*): sine."""
    return input.sin()


def cos(input: Tensor) -> Tensor:
    """(*) -> (*): cosine."""
    return input.cos()


def tan(input: Tensor) -> Tensor:
    """(*) -> (*): tangent."""
    return input.tan()


def sinh(input: Tensor) -> Tensor:
    """(*) -> (*): hyperbolic sine."""
    return input.sinh()


def cosh(input: Tensor) -> Tensor:
    """(*) -> (*): hyperbolic cosine."""
    return input.cosh()


def log1p(input: Tensor) -> Tensor:
    """(*) -> (*): log(1 + x)."""
    return input.log1p()


def expm1(input: Tensor) -> Tensor:
    """(*) -> (*): e^x - 1."""
    return input.expm1()


def log2(input: Tensor) -> Tensor:
    """(*) -> (*): base-2 logarithm."""
    return input.log2()


def log10(input: Tensor) -> Tensor:
    """(*) -> (*): base-10 logarithm."""
    return input.log10()


def erf(input: Tensor) -> Tensor:
    """(*) -> (*): the error function."""
    return input.erf()


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """(*, n, m) -> (*, n, m): the lower triangle, the rest 0."""
    return input.tril(diagonal)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """(*, n, m) -> (*, n, m): the upper triangle, the rest 0."""
    return input.triu(diagonal)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """(n,) -> a square matrix with input on diagonal k; (n, m) -> its diagonal k."""
    return input.diag(diagonal)


def _einsum_subscripts(equation: str, ndims: list) -> tuple[list, str]:
    """equation -> (one letter string per operand, output letters), '...' spelled out."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != len(ndims):
        raise RuntimeError(f"einsum(): {len(inputs)} operands in the equation, {len(ndims)} given")
    used = set(eq)
    spare = [c for c in "ZYXWVUTSRQPONMLKJIHGFEDCBA" if c not in used]
    n_ell = max(
        [n - len(s.replace("...", "")) for s, n in zip(inputs, ndims) if "..." in s], default=0
    )
    ell = "".join(reversed(spare[:n_ell]))
    out = []
    for s, n in zip(inputs, ndims):
        if "..." in s:
            k = n - len(s.replace("...", ""))
            s = s.replace("...", ell[n_ell - k :] if k else "")
        if len(s) != n:
            raise RuntimeError(
                f"einsum(): the subscripts {s!r} do not match an operand of {n} dimensions"
            )
        out.append(s)
    if arrow:
        output = rhs.replace("...", ell)
    else:
        letters = "".join(out)
        singles = sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ell)
        output = ell + "".join(singles)
    return out, output


def einsum(equation: str, *operands: Any) -> Tensor:
    """Einstein summation (torch.einsum), differentiable; operands as arguments or one list."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    inputs, output = _einsum_subscripts(equation, [t.ndim for t in operands])
    xs = (
        [t._floating() for t in operands]
        if any(t.dtype.kind == "f" for t in operands)
        else list(operands)
    )
    return ops.Einsum.apply(*xs, inputs=tuple(inputs), output=output)


autograd.register_tensor_class(Tensor)  # ops can make Tensors from here on
