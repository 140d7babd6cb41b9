"""Data types: numpy dtypes under PyTorch's names, and the default floating dtype (float32)."""

from __future__ import annotations

from typing import Any

import numpy as np

float16 = np.dtype("float16")
float32 = np.dtype("float32")
float64 = np.dtype("float64")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
bool_ = np.dtype("bool")

_default_float = float32
_ALIASES = {"float": float32, "double": float64, "half": float16, "long": int64, "int": int32}


def set_default_dtype(dtype: Any) -> None:
    """Set the dtype of floats created from Python numbers and lists (float32 or float64)."""
    global _default_float
    d = to_dtype(dtype)
    if d.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype (float32, float64), got {d}")
    _default_float = d


def get_default_dtype() -> np.dtype:
    """The default floating dtype (float32 unless changed with set_default_dtype)."""
    return _default_float


def to_dtype(dtype: Any) -> np.dtype:
    """Turn 'float32', np.float64, tinygrad_seq.float64 or an alias like 'double' into np.dtype."""
    if isinstance(dtype, str) and dtype in _ALIASES:
        return _ALIASES[dtype]
    try:
        d = np.dtype(dtype)
    except TypeError:
        raise TypeError(
            f"unknown dtype {dtype!r}; expected e.g. 'float32', 'float64', 'int64'"
        ) from None
    if d.kind not in "fiub":
        raise TypeError(f"unsupported dtype {d}: tensors hold floats, integers or booleans")
    return d


_TORCH_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "int32": "Int"}
_TORCH_NAMES.update({"int64": "Long", "bool": "Bool", "int16": "Short", "int8": "Char"})


def torch_name(dtype: Any) -> str:
    """PyTorch's scalar type name of a dtype, as its error messages print it: float32 -> 'Float'."""
    d = to_dtype(dtype)
    return _TORCH_NAMES.get(d.name, d.name)


# PyTorch's other names of the dtypes; `int`, `float` and `bool` are given their torch meaning
# only as attributes of the package (in __init__.py), so that Python's builtins stay intact here.
long = int64
double = float64
half = float16

_TENSOR_TYPES = {f"torch.{name}Tensor": np.dtype(d) for d, name in _TORCH_NAMES.items()}


def tensor_type_name(dtype: Any) -> str:
    """PyTorch's legacy tensor type name of a dtype, as Tensor.type() gives: 'torch.FloatTensor'."""
    return f"torch.{torch_name(dtype)}Tensor"


def from_tensor_type_name(name: str) -> np.dtype:
    """The dtype of a legacy tensor type name: 'torch.LongTensor' -> int64."""
    if name not in _TENSOR_TYPES:
        raise ValueError(f"invalid type: {name!r}; expected e.g. 'torch.FloatTensor'")
    return _TENSOR_TYPES[name]


# ----------------------------------------------------------------------------- shapes
class Size(tuple):
    """A tensor's shape (a tuple of ints), as torch.Size: x.size() and x.shape.

    Printed as PyTorch prints it, torch.Size([2, 3]), by str and repr alike; equal to tuples.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"torch.Size([{', '.join(str(s) for s in self)}])"

    def __getitem__(self, key: Any) -> Any:
        out = tuple.__getitem__(self, key)
        return Size(out) if isinstance(key, slice) else out

    def __add__(self, other: Any) -> Size:
        return Size(tuple.__add__(self, tuple(other)))

    def __radd__(self, other: Any) -> Size:
        return Size(tuple(other) + tuple(self))

    def numel(self) -> int:
        """The number of elements of a tensor of this shape (1 for ())."""
        n = 1
        for s in self:
            n *= s
        return n


def as_size(size: tuple, fn: str = "size", keyword: Any = None) -> Size:
    """Sizes as given to a factory, zeros(2, 3), zeros((2, 3)) or size=keyword, as a Size."""
    if keyword is not None:
        if size:
            raise TypeError(f"{fn}() got sizes both as arguments {size} and as size={keyword}")
        size = (keyword,) if isinstance(keyword, (int, np.integer)) else (tuple(keyword),)
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
            raise TypeError(f"{fn}: sizes must be ints, got {type(s).__name__} in {size}")
        if s < 0:
            raise RuntimeError(f"{fn}: sizes must be non-negative ints, got {size}")
    return Size(int(s) for s in size)


# ----------------------------------------------------------------------------- devices
# The device types PyTorch knows; tinygrad_seq computes on the CPU only, but the names of
# the others construct (as torch.device("cuda") does on a machine without a GPU), so a PyTorch
# program's `device = torch.device("cuda" if torch.cuda.is_available() else "cpu")` runs.
_DEVICE_TYPES = (
    "cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga",
    "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone",
)  # fmt: skip


class device:  # noqa: N801 - PyTorch's name
    """Where a tensor lives, as torch.device: device('cpu'), device('cpu', 0), device('cuda:1')."""

    __slots__ = ("type", "index")

    def __init__(self, type: Any, index: int | None = None):  # noqa: A002 - PyTorch's name
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        elif isinstance(type, (int, np.integer)) and not isinstance(type, bool):
            type, index = "cuda", int(type)  # torch.device(0) is the first accelerator
        if not isinstance(type, str):
            raise TypeError(f"device: expected a str, int or device, got {type.__class__.__name__}")
        name, _, idx = type.partition(":")
        if name not in _DEVICE_TYPES or (idx and not idx.isdigit()):
            raise RuntimeError(
                f"Expected one of {', '.join(_DEVICE_TYPES)} device type at start of device "
                f"string: {type}"
            )
        if idx and index is not None:
            raise RuntimeError(
                f"type (string) must not include an index because index was passed explicitly: "
                f"{type}"
            )
        if index is not None and (not isinstance(index, (int, np.integer)) or index < 0):
            raise RuntimeError(f"Device index must not be negative, got {index}")
        self.type = name
        self.index = int(idx) if idx else None if index is None else int(index)

    def __repr__(self) -> str:
        at = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{at})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))


CPU = device("cpu")


def is_device_like(x: Any) -> bool:
    """True for what names a device: a device, 'cpu', 'cuda:0', or an int (an accelerator)."""
    if isinstance(x, device):
        return True
    if isinstance(x, str):
        return x.partition(":")[0] in _DEVICE_TYPES
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def check_device(where: Any) -> device:
    """The CPU device for None or any CPU device; a RuntimeError for any other device."""
    if where is None:
        return CPU
    d = where if isinstance(where, device) else device(where)
    if d.type != "cpu":
        raise RuntimeError(
            f"device {str(d)!r} is not available: tinygrad_seq runs on the CPU only; "
            "use device='cpu' (or leave device out)"
        )
    return d


_default_device = CPU


def set_default_device(device: Any) -> None:  # PyTorch's argument name shadows the class here
    """Set the device factories use, as torch.set_default_device; only the CPU (None resets)."""
    global _default_device
    _default_device = check_device(device)


def get_default_device() -> device:
    """The device factories use, as torch.get_default_device: the CPU, device('cpu')."""
    return _default_device


def _is_dtype_name(name: str) -> bool:
    try:
        to_dtype(name)
    except TypeError:
        return False
    return True


def to_args(args: tuple, dtype: Any = None, where: Any = None, copy: bool = False) -> tuple:
    """to()'s overloads (dtype), (device[, dtype]), (tensor) -> (dtype or None, device, copy)."""
    args, flags = list(args), []
    while args and isinstance(args[-1], bool):  # to(..., non_blocking, copy) positionally
        flags.insert(0, args.pop())
    if len(flags) > 2 or len(args) > 2:
        raise TypeError(f"to() takes at most 2 positional arguments, got {len(args)}")
    for a in args:
        if isinstance(getattr(a, "device", None), device):  # a tensor: its dtype and device
            arg_dtype, arg_device = a.dtype, a.device
        elif is_device_like(a):
            arg_dtype, arg_device = None, a
        elif isinstance(a, str) and not _is_dtype_name(a):
            arg_dtype, arg_device = None, device(a)  # PyTorch's error for an unknown device
        else:
            arg_dtype, arg_device = a, None
        if (arg_dtype is not None and dtype is not None) or (
            arg_device is not None and where is not None
        ):
            raise TypeError("to() received the dtype or the device twice")
        dtype = arg_dtype if arg_dtype is not None else dtype
        where = arg_device if arg_device is not None else where
    copy = bool(copy or (len(flags) == 2 and flags[1]))
    return (None if dtype is None else to_dtype(dtype)), check_device(where), copy


def _false() -> bool:
    return False


class _Accelerator:
    """An accelerator namespace (torch.cuda, torch.backends.mps): never available here."""

    def __init__(self, name: str):
        self._name = name

    def is_available(self) -> bool:
        """False: tinygrad_seq runs on the CPU only."""
        return False

    def is_built(self) -> bool:
        """False: tinygrad_seq has no accelerator backend."""
        return False

    def device_count(self) -> int:
        """0: no accelerator devices."""
        return 0

    def manual_seed(self, seed: int) -> None:
        """Does nothing, as torch.cuda.manual_seed without a GPU (seed with torch.manual_seed)."""

    def manual_seed_all(self, seed: int) -> None:
        """Does nothing, as torch.cuda.manual_seed_all does without a GPU."""

    def __repr__(self) -> str:
        return f"<tinygrad_seq.{self._name}: not available, CPU only>"


class _Flags:
    """A settings namespace (torch.backends.cudnn): its flags are kept and have no effect."""

    def __init__(self, **flags: Any):
        self.__dict__.update(flags)

    def __repr__(self) -> str:
        return "<flags " + ", ".join(f"{k}={v}" for k, v in vars(self).items()) + ">"


class _Backends:
    """torch.backends: mps and cudnn report themselves unavailable (tinygrad_seq is CPU only)."""

    def __init__(self) -> None:
        self.mps = _Accelerator("backends.mps")
        self.cudnn = _Flags(enabled=False, deterministic=False, benchmark=False)
        self.cudnn.is_available = _false

    def __repr__(self) -> str:
        return "<tinygrad_seq.backends: mps and cudnn, not available, CPU only>"


cuda = _Accelerator("cuda")
backends = _Backends()
