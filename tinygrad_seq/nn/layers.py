"""Layers and loss modules: thin Modules around the functions of tinygrad_seq.functional.

Each layer owns its Parameters (registered by attribute assignment), initialises them as
PyTorch does, and forwards to the functional form, so `nn.Linear(3, 4)(x)` and
`F.linear(x, W, b)` are the same computation. Parameter names and shapes are PyTorch's, so
state dicts move between the two unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import dtypes
from .. import functional as F
from ..tensor import Tensor
from . import init
from .module import Module, Parameter


def _empty(shape: tuple, dtype: Any) -> Parameter:
    d = dtypes.get_default_dtype() if dtype is None else dtypes.to_dtype(dtype)
    if any(s < 0 for s in shape):
        raise RuntimeError(f"cannot make a parameter of negative size {shape}")
    return Parameter(np.zeros(shape, dtype=d))


def _check_size(name: str, value: Any, cls: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{cls}: {name} must be a non-negative int, got {value!r}")
    if value < 0:
        raise RuntimeError(f"{cls}: {name} must be a non-negative int, got {value!r}")
    return int(value)


class Linear(Module):
    """(*, in_features) -> (*, out_features): y = x W^T + b, weight (out, in), bias (out,)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype: Any = None):
        super().__init__()
        self.in_features = _check_size("in_features", in_features, "Linear")
        self.out_features = _check_size("out_features", out_features, "Linear")
        self.weight = _empty((self.out_features, self.in_features), dtype)
        if bias:
            self.bias = _empty((self.out_features,), dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: kaiming_uniform_(a=sqrt(5)) weight, U(+-1/sqrt(fan_in)) bias."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        """(*, in_features) -> (*, out_features)."""
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        """'in_features=3, out_features=4, bias=True'."""
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Embedding(Module):
    """(*) int indices -> (*, embedding_dim): rows of weight (num_embeddings, embedding_dim)."""

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        dtype: Any = None,
    ):
        super().__init__()
        self.num_embeddings = _check_size("num_embeddings", num_embeddings, "Embedding")
        self.embedding_dim = _check_size("embedding_dim", embedding_dim, "Embedding")
        if padding_idx is not None:
            padding_idx = F.padding_index(padding_idx, self.num_embeddings)
        self.padding_idx = padding_idx
        self.weight = _empty((self.num_embeddings, self.embedding_dim), dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: N(0, 1), with the padding_idx row set to zero."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    @classmethod
    def from_pretrained(
        cls, embeddings: Any, freeze: bool = True, padding_idx: int | None = None
    ) -> Embedding:
        """(V, D) array or Tensor -> an Embedding holding a copy; frozen unless freeze=False."""
        data = embeddings._data if isinstance(embeddings, Tensor) else np.asarray(embeddings)
        if data.ndim != 2:
            raise AssertionError(
                f"Embedding.from_pretrained: expected a 2-D (V, D) array, got {tuple(data.shape)}"
            )
        emb = cls(data.shape[0], data.shape[1], padding_idx=padding_idx, dtype=data.dtype)
        emb.weight._data[...] = data
        emb.weight.requires_grad = not freeze
        return emb

    def forward(self, input: Any) -> Tensor:
        """(*) int indices -> (*, embedding_dim)."""
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        """'10, 3, padding_idx=0' as PyTorch prints it."""
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        return s + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")


class Dropout(Module):
    """(*) -> (*): inverted dropout in training mode (zero with prob p, scale 1/(1-p))."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: probability p must be in [0, 1], got {p}")
        self.p = float(p)
        self.inplace = inplace  # accepted for PyTorch scripts; the result is always a new Tensor

    def forward(self, input: Tensor) -> Tensor:
        """(*) -> (*); the identity in eval mode."""
        return F.dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        """'p=0.5, inplace=False'."""
        return f"p={self.p}, inplace={self.inplace}"


class Tanh(Module):
    """(*) -> (*): tanh element-wise."""

    def forward(self, input: Tensor) -> Tensor:
        """(*) -> (*)."""
        return input.tanh()


class Sigmoid(Module):
    """(*) -> (*): logistic sigmoid element-wise."""

    def forward(self, input: Tensor) -> Tensor:
        """(*) -> (*)."""
        return input.sigmoid()


class ReLU(Module):
    """(*) -> (*): max(x, 0) element-wise."""

    def forward(self, input: Tensor) -> Tensor:
        """(*) -> (*)."""
        return input.relu()


class LayerNorm(Module):
    """(*, *normalized_shape) -> same: normalise the trailing dims, then weight * x + bias."""

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        dtype: Any = None,
    ):
        super().__init__()
        if isinstance(normalized_shape, (int, np.integer)):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(s) for s in normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        self.register_parameter("weight", None)
        self.register_parameter("bias", None)
        if elementwise_affine:
            self.weight = _empty(self.normalized_shape, dtype)
            if bias:
                self.bias = _empty(self.normalized_shape, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """weight = 1, bias = 0."""
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        """(*, *normalized_shape) -> same shape."""
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        """'(4,), eps=1e-05, elementwise_affine=True, bias=True'."""
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )


# ----------------------------------------------------------------------------- losses


class _Loss(Module):
    def __init__(self, reduction: str = "mean"):
        super().__init__()
        F.check_reduction(reduction, type(self).__name__)
        self.reduction = reduction

    def _buffer(self, name: str, value: Any) -> None:
        """Class weights are buffers (saved in state_dict when given), as in PyTorch."""
        if value is not None and not isinstance(value, Tensor):
            value = Tensor._make(np.array(value), False, None)  # a copy, dtype kept
        self.register_buffer(name, value)


class CrossEntropyLoss(_Loss):
    """(N, C[, d...]) logits, (N[, d...]) int targets or (N, C[, d...]) probs -> loss."""

    def __init__(
        self,
        weight: Any = None,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ):
        super().__init__(reduction)
        self._buffer("weight", weight)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Any) -> Tensor:
        """(N, C[, d...]), (N[, d...]) -> scalar, or (N[, d...]) when reduction='none'."""
        return F.cross_entropy(
            input,
            target,
            self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class NLLLoss(_Loss):
    """(N, C[, d...]) log-probabilities, (N[, d...]) int targets -> loss."""

    def __init__(self, weight: Any = None, ignore_index: int = -100, reduction: str = "mean"):
        super().__init__(reduction)
        self._buffer("weight", weight)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Any) -> Tensor:
        """(N, C[, d...]), (N[, d...]) -> scalar, or (N[, d...]) when reduction='none'."""
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class MSELoss(_Loss):
    """(*) input, (*) target -> mean (or sum, or element-wise) squared error."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        """(*), (*) -> scalar, or (*) when reduction='none'."""
        return F.mse_loss(input, target, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """(*) logits, (*) targets in [0, 1] -> binary cross-entropy of sigmoid(logits)."""

    def __init__(self, weight: Any = None, reduction: str = "mean", pos_weight: Any = None):
        super().__init__(reduction)
        self._buffer("weight", weight)
        self._buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        """(*), (*) -> scalar, or (*) when reduction='none'."""
        return F.binary_cross_entropy_with_logits(
            input, target, self.weight, self.reduction, self.pos_weight
        )


# ----------------------------------------------------------------------------- activations


class LeakyReLU(Module):
    """(*) -> (*): x where x > 0, else negative_slope * x."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        """(*) -> (*)."""
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        """'negative_slope=0.01' (', inplace=True' when set)."""
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    """(*) -> (*): x Phi(x), exactly (approximate='none') or by PyTorch's tanh formula."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        """(*) -> (*)."""
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        """approximate='none'."""
        return f"approximate={self.approximate!r}"


class Softmax(Module):
    """(*) -> (*): softmax along dim (PyTorch's implicit dim, with its warning, when None)."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        """(*) -> (*)."""
        return F.softmax(input, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        """'dim=1'."""
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """(*) -> (*): log_softmax along dim (PyTorch's implicit dim, with its warning, when None)."""

    def forward(self, input: Tensor) -> Tensor:
        """(*) -> (*)."""
        return F.log_softmax(input, self.dim, _stacklevel=5)


class Flatten(Module):
    """(*, d_start, ..., d_end, *) -> (*, d_start * ... * d_end, *); batch dim kept by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:
        """(*, d_start..d_end, *) -> (*, prod, *)."""
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        """'start_dim=1, end_dim=-1'."""
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """(*, d_dim, *) -> (*, *unflattened_size, *): dimension dim split into unflattened_size."""

    def __init__(self, dim: int, unflattened_size: Sequence[int]):
        super().__init__()
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError(
                f"Unflatten: unflattened_size must be a tuple or list of ints, "
                f"got {type(unflattened_size).__name__}"
            )
        self.dim, self.unflattened_size = dim, unflattened_size

    def forward(self, input: Tensor) -> Tensor:
        """(*, d_dim, *) -> (*, *unflattened_size, *)."""
        d = self.dim + input.ndim if self.dim < 0 else self.dim
        if not 0 <= d < input.ndim:
            raise IndexError(
                f"Unflatten: dim {self.dim} is out of range for an input of {input.ndim} dims"
            )
        sizes = tuple(int(s) for s in self.unflattened_size)
        known = int(np.prod([s for s in sizes if s != -1]))
        if (-1 not in sizes and known != input.shape[d]) or (known and input.shape[d] % known):
            raise RuntimeError(
                f"unflatten: provided sizes {list(sizes)} don't multiply up to the size of dim "
                f"{self.dim} ({input.shape[d]}) in the input tensor"
            )
        return input.reshape(input.shape[:d] + sizes + input.shape[d + 1 :])

    def extra_repr(self) -> str:
        """'dim=1, unflattened_size=(2, 3)'."""
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
