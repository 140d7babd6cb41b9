"""Weight initialisation, as torch.nn.init: fill a tensor in place and return it.

Every function draws from the package generator (`tinygrad_seq.random.get_generator()`), so
`tinygrad_seq.manual_seed(s)` makes initialisation repeatable. Samples are drawn in float64 and
written into the tensor's existing array (its dtype kept), so views of that array, such as a
state_dict taken earlier, see the new values. Nothing here is recorded in the autograd graph.

The scaled schemes keep the variance of activations (and of gradients) roughly constant from
layer to layer: Xavier/Glorot uses Var(W) = 2 / (fan_in + fan_out) times gain^2, Kaiming/He uses
Var(W) = gain^2 / fan (fan_in keeps the forward pass stable, fan_out the backward pass).
"""

from __future__ import annotations

import math

import numpy as np

from .. import autograd
from ..autograd import no_grad
from ..random import get_generator
from ..tensor import Tensor

_LINEAR_LIKE = ("linear", "identity", "conv1d", "conv2d", "conv3d", "sigmoid")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """Name -> the recommended gain: tanh 5/3, relu sqrt(2), leaky_relu sqrt(2/(1+a^2)), ..."""
    if nonlinearity in _LINEAR_LIKE:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _fill(tensor: Tensor, values: np.ndarray | float) -> Tensor:
    """Write values into tensor's array in place, without recording a graph."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"nn.init: expected a Tensor, got {type(tensor).__name__}")
    with no_grad():
        if tensor._data.flags.writeable:
            tensor._data[...] = values  # in place, as PyTorch's tensor.uniform_() etc.
            autograd.bump_version(tensor._data)
        else:  # e.g. a broadcast view: give the tensor its own array
            tensor._data = np.broadcast_to(values, tensor.shape).astype(tensor.dtype)
    return tensor


def _fans(tensor: Tensor) -> tuple[int, int]:
    """(out, in, *kernel) -> (fan_in, fan_out) = (in * k, out * k), k = prod(kernel)."""
    if tensor.ndim < 2:
        raise ValueError(
            f"nn.init: fan in and fan out need a tensor with at least 2 dimensions, "
            f"got shape {tuple(tensor.shape)}"
        )
    receptive = int(np.prod(tensor.shape[2:])) if tensor.ndim > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """(*) -> same tensor filled from U(a, b)."""
    return _fill(tensor, get_generator().uniform(a, b, size=tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """(*) -> same tensor filled from N(mean, std^2)."""
    return _fill(tensor, get_generator().normal(mean, std, size=tensor.shape))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """(*) -> same tensor filled with val."""
    return _fill(tensor, val)


def zeros_(tensor: Tensor) -> Tensor:
    """(*) -> same tensor filled with 0."""
    return _fill(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    """(*) -> same tensor filled with 1."""
    return _fill(tensor, 1.0)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """(out, in, ...) -> same, from U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    if tensor._data.size == 0:  # nothing to fill (PyTorch warns and returns)
        return tensor
    fan_in, fan_out = _fans(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """(out, in, ...) -> same, from N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    if tensor._data.size == 0:  # nothing to fill (PyTorch warns and returns)
        return tensor
    fan_in, fan_out = _fans(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"nn.init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(
    tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Tensor:
    """(out, in, ...) -> same, from U(-b, b) with b = gain * sqrt(3 / fan) (He et al.)."""
    if tensor._data.size == 0:  # nothing to fill (PyTorch warns and returns)
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(
    tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Tensor:
    """(out, in, ...) -> same, from N(0, std^2) with std = gain / sqrt(fan) (He et al.)."""
    if tensor._data.size == 0:  # nothing to fill (PyTorch warns and returns)
        return tensor
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity))


def orthogonal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """(rows, cols...) -> same, a (semi-)orthogonal matrix times gain (Saxe et al.), as PyTorch."""
    if tensor.ndim < 2:
        raise ValueError(
            f"orthogonal_: needs at least 2 dimensions, got shape {tuple(tensor.shape)}"
        )
    if tensor._data.size == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor._data.size // rows
    flat = get_generator().standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))  # makes the decomposition unique: Haar-distributed q
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(tensor.shape))
