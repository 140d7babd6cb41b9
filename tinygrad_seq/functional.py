"""Composite functions built from the primitive ops: layers' maths, dropout and the losses.

Nothing here writes a backward pass. Each function is a short composition of differentiable
Tensor ops (matmul, log_softmax, indexing, where, sums), so the engine differentiates it like
any other graph. Cross-entropy, for instance, is log_softmax followed by picking the target's
log-probability with integer indexing: the gradient of the pick scatters back to the target
column, and log_softmax's backward turns it into softmax(x) - onehot(y), the familiar result.

Losses follow PyTorch's semantics exactly (reductions, ignore_index, class weights, label
smoothing), and reject bad input with errors that say what was expected and what was given.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import ops
from .random import get_generator

# the activations are tensor.py's functions, here too so that F.relu, F.softmax, ... exist
from .tensor import Tensor, maximum, relu, sigmoid, tanh, where  # noqa: F401

_REDUCTIONS = ("mean", "sum", "none")


def _as_tensor(x: Any, fn: str, what: str = "input") -> Tensor:
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):  # tinygrad_seq's extension: a copy, dtype kept
        return Tensor._make(np.array(x), False, None)
    if isinstance(x, (list, tuple)):
        return Tensor(x)  # torch.Tensor(list): the default float dtype
    raise TypeError(f"{fn}: {what} must be a Tensor, got {type(x).__name__}")


def _int_array(x: Any, fn: str, what: str) -> np.ndarray:
    """The integer array behind an index tensor (Tensor, ndarray or list)."""
    arr = x._data if isinstance(x, Tensor) else np.asarray(x)
    if arr.dtype.kind not in "iu":
        raise RuntimeError(
            f"{fn}: {what} must be an integer tensor (int64), got dtype {arr.dtype}; "
            "convert it with .long()"
        )
    return arr.astype(np.int64, copy=False)


def check_reduction(reduction: str, fn: str) -> None:
    """Raise ValueError naming fn unless reduction is one of 'none', 'mean', 'sum'."""
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{fn}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def _divide(total: Tensor, count: float) -> Tensor:
    """total / count; a count of zero gives nan (as PyTorch's mean over no targets) quietly."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return total / float(count)


# ----------------------------------------------------------------------------- layers


def _same_float(*tensors: Tensor) -> tuple:
    """Integer tensors become the default float dtype (as `input @ weight` would make them)."""
    return tuple(t._floating() for t in tensors)


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """(*, in), weight (out, in), bias (out,) -> (*, out): x W^T + b."""
    if weight.ndim != 2:
        raise RuntimeError(f"linear: weight must be 2-D (out, in), got shape {tuple(weight.shape)}")
    if input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise RuntimeError(
            f"linear: input of shape {tuple(input.shape)} has "
            f"{input.shape[-1] if input.ndim else 0} features in its last dimension, but weight of "
            f"shape {tuple(weight.shape)} expects {weight.shape[1]}"
        )
    if bias is None:
        return ops.Linear.apply(*_same_float(input, weight))
    if bias.shape != (weight.shape[0],):
        raise RuntimeError(
            f"linear: bias must have shape ({weight.shape[0]},), got {tuple(bias.shape)}"
        )
    return ops.Linear.apply(*_same_float(input, weight, bias))


def embedding(input: Any, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """(*) int indices, weight (V, D) -> (*, D): rows of weight; row padding_idx gets no grad."""
    idx = _int_array(input, "embedding", "indices")
    if weight.ndim != 2:
        raise RuntimeError(f"embedding: weight must be 2-D (V, D), got shape {tuple(weight.shape)}")
    V = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= V):
        bad = idx.min() if idx.min() < 0 else idx.max()
        raise IndexError(
            f"embedding: index {bad} is out of range for {V} embeddings (valid 0..{V - 1})"
        )
    out = weight[idx]
    if padding_idx is not None and out.requires_grad:
        # where(pad, out.detach(), out) has out's values, but no gradient flows back through
        # the positions that looked up the padding row, so that row's gradient stays zero
        pad = (idx == padding_index(padding_idx, V))[..., None]
        out = where(pad, out.detach(), out)
    return out


def padding_index(padding_idx: int, V: int) -> int:
    """padding_idx checked against V rows -> an index in [0, V); negative counts from the end."""
    if not -V <= padding_idx < V:
        raise AssertionError(
            f"padding_idx must be within [{-V}, {V - 1}] for {V} embeddings, got {padding_idx}"
        )
    return padding_idx % V


def dropout(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """(*) -> (*): zero each element with probability p, scale the rest by 1/(1-p) (training)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    keep = get_generator().random(input.shape) >= p  # each element kept with probability 1-p
    scale = np.where(keep, 1.0 / (1.0 - p), 0.0).astype(input.dtype)
    return input * Tensor._make(scale, False, None)


def one_hot(tensor: Any, num_classes: int = -1) -> Tensor:
    """(*) int class indices -> (*, num_classes) int64 with a 1 at each index."""
    idx = _int_array(tensor, "one_hot", "the class-index tensor")
    if num_classes == -1:
        if idx.size == 0:
            raise RuntimeError("one_hot: cannot infer num_classes from an empty tensor; pass it")
        num_classes = int(idx.max()) + 1
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        bad = idx.min() if idx.min() < 0 else idx.max()
        raise RuntimeError(f"one_hot: class {bad} is out of range for num_classes={num_classes}")
    return Tensor._make((idx[..., None] == np.arange(num_classes)).astype(np.int64), False, None)


def layer_norm(
    input: Tensor,
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """(*, *normalized_shape) -> same: normalise over the trailing dims, then scale and shift."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k :]) != shape:
        raise RuntimeError(
            f"layer_norm: expected an input whose trailing dimensions are {shape}, "
            f"got input of shape {tuple(input.shape)}"
        )
    dims = tuple(range(input.ndim - k, input.ndim))
    centered = input - input.mean(dims, keepdim=True)
    var = (centered * centered).mean(dims, keepdim=True)  # biased variance, as PyTorch
    out = centered / (var + eps).sqrt()
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


# ----------------------------------------------------------------------------- loss helpers


def _class_dim(input: Tensor, fn: str) -> int:
    if input.ndim == 0:
        raise RuntimeError(f"{fn}: input must be (C,), (N, C) or (N, C, d1, ...), got a scalar")
    if input.dtype.kind != "f":
        raise NotImplementedError(f"{fn}: input must be floating point, got dtype {input.dtype}")
    return 0 if input.ndim == 1 else 1


def _class_targets(input: Tensor, target: Any, fn: str, ignore_index: int) -> np.ndarray:
    """Check class-index targets against (N, C, d...) input; returns them as int64."""
    cdim = _class_dim(input, fn)
    t = target._data if isinstance(target, Tensor) else np.asarray(target)
    want = input._data.shape[:cdim] + input._data.shape[cdim + 1 :]
    if t.dtype.kind not in "iu":
        raise RuntimeError(
            f"{fn}: target dtype {t.dtype} is not integer: class-index targets of shape {want} "
            f"must be integers (use target.long()); class-probability targets must have the "
            f"input's shape {tuple(input.shape)}"
        )
    if t.shape != want:
        batch_differs = t.ndim >= 1 and t.shape[0] != (want[0] if want else 1)
        raise (ValueError if batch_differs else RuntimeError)(  # PyTorch's two kinds
            f"{fn}: expected target of shape {want} for input of shape {tuple(input.shape)} "
            f"(the class dimension removed), got target of shape {tuple(t.shape)}"
        )
    C = input.shape[cdim]
    bad = (t != ignore_index) & ((t < 0) | (t >= C))
    if bad.any():
        raise IndexError(
            f"{fn}: target has class {t[bad].flat[0]} but input has {C} classes "
            f"(valid 0..{C - 1}, or ignore_index={ignore_index})"
        )
    return t.astype(np.int64, copy=False)


def _class_weight(weight: Any, input: Tensor, fn: str) -> np.ndarray | None:
    """The (C,) class-weight array in the input's dtype, or None."""
    if weight is None:
        return None
    w = weight._data if isinstance(weight, Tensor) else np.asarray(weight)
    if w.dtype.kind != "f":
        raise RuntimeError(f"{fn}: weight must be floating point, got dtype {w.dtype}")
    C = input.shape[_class_dim(input, fn)]
    if w.shape != (C,):
        raise RuntimeError(
            f"{fn}: weight must have shape ({C},), one per class, got {tuple(w.shape)}"
        )
    return w.astype(input.dtype)


def _pick(logp: Tensor, safe: np.ndarray) -> Tensor:
    """logp (N, C, d...) and class indices (N, d...) -> logp[n, safe[n, d...], d...]."""
    if logp.ndim == 1:  # unbatched (C,) with a scalar target
        return logp.reshape(1, -1)[np.zeros(1, dtype=np.int64), safe.reshape(1)].reshape(())
    grids = np.indices(safe.shape, sparse=True)
    return logp[(grids[0], safe, *grids[1:])]


def _nll_parts(logp: Tensor, t: np.ndarray, w: np.ndarray | None, ignore_index: int) -> tuple:
    """Per-target -w[y] logp[y] (0 where ignored), the ignore mask, and sum of w[y] kept."""
    keep = t != ignore_index
    safe = np.where(keep, t, 0)
    wt = np.where(keep, 1.0 if w is None else w[safe], 0.0).astype(logp.dtype)
    picked = _pick(logp, safe)
    loss = -picked if w is None else -picked * Tensor._make(wt, False, None)
    return where(keep, loss, 0.0), keep, float(wt.sum())


def _weighted_mean(losses: Tensor, reduction: str, denom: float) -> Tensor:
    if reduction == "mean":
        return _divide(losses.sum(), denom)
    return losses.sum() if reduction == "sum" else losses


# ----------------------------------------------------------------------------- losses


def nll_loss(
    input: Tensor,
    target: Any,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """(N, C[, d...]) log-probs, (N[, d...]) int targets -> loss; mean is over kept weights."""
    check_reduction(reduction, "nll_loss")
    t = _class_targets(input, target, "nll_loss", ignore_index)
    w = _class_weight(weight, input, "nll_loss")
    losses, _, denom = _nll_parts(input, t, w, ignore_index)
    return _weighted_mean(losses, reduction, denom)


def cross_entropy(
    input: Tensor,
    target: Any,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """(N, C[, d...]) logits, (N[, d...]) int targets or (N, C[, d...]) probs -> loss."""
    check_reduction(reduction, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(
            f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}"
        )
    cdim = _class_dim(input, "cross_entropy")
    w = _class_weight(weight, input, "cross_entropy")
    logp = input.log_softmax(cdim)
    if tuple(np.shape(target)) == input.shape:  # PyTorch's rule: same shape = probabilities
        return _soft_cross_entropy(logp, target, w, ignore_index, reduction, label_smoothing)
    t = _class_targets(input, target, "cross_entropy", ignore_index)
    losses, keep, denom = _nll_parts(logp, t, w, ignore_index)
    nll = _weighted_mean(losses, reduction, denom)
    if label_smoothing == 0.0:
        return nll
    # PyTorch's smoothing: (1 - eps) * nll + eps/C * sum_c -w_c logp_c, both reduced alike
    C = input.shape[cdim]
    smooth = -logp if w is None else -logp * Tensor._make(_along(w, input.ndim, cdim), False, None)
    smooth = where(keep, smooth.sum(cdim), 0.0)
    return nll * (1.0 - label_smoothing) + _weighted_mean(smooth, reduction, denom) * (
        label_smoothing / C
    )


def _along(w: np.ndarray, ndim: int, cdim: int) -> np.ndarray:
    """(C,) -> shape broadcasting along the class dimension of an ndim-dimensional input."""
    shape = [1] * ndim
    shape[cdim] = w.shape[0]
    return w.reshape(shape)


def _soft_cross_entropy(
    logp: Tensor, target: Any, w: Any, ignore_index: int, reduction: str, eps: float
) -> Tensor:
    """Cross-entropy against class probabilities of the input's shape, as PyTorch."""
    target = _as_tensor(target, "cross_entropy", "target")
    if target.dtype.kind != "f":
        raise RuntimeError(
            f"cross_entropy: a target of the input's shape {tuple(logp.shape)} holds class "
            f"probabilities and must be floating point, got dtype {target.dtype}"
        )
    if ignore_index >= 0:
        raise RuntimeError("cross_entropy: ignore_index is not supported for probability targets")
    cdim = 0 if logp.ndim == 1 else 1
    C = logp.shape[cdim]
    if eps > 0.0:
        target = target * (1.0 - eps) + eps / C
    prod = logp * target
    if w is not None:
        prod = prod * Tensor._make(_along(w, logp.ndim, cdim), False, None)
    if reduction == "none":
        return -prod.sum(cdim)
    if reduction == "sum":
        return -prod.sum()
    return _divide(-prod.sum(), logp._data.size / C)  # mean over the N * d... positions


def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """(*) input, (*) target of the same shape -> loss: mean/sum of (input - target)^2."""
    check_reduction(reduction, "mse_loss")
    target = _as_tensor(target, "mse_loss", "target")
    if target.shape != input.shape:
        raise RuntimeError(
            f"mse_loss: target shape {tuple(target.shape)} differs from input shape "
            f"{tuple(input.shape)}; "
            "reshape one of them (PyTorch would broadcast with a warning, usually a bug)"
        )
    diff = input - target
    return _reduce(diff * diff, reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Any,
    weight: Any = None,
    reduction: str = "mean",
    pos_weight: Any = None,
) -> Tensor:
    """(*) logits, (*) targets in [0, 1] -> loss of sigmoid(input) vs target, stable."""
    fn = "binary_cross_entropy_with_logits"
    check_reduction(reduction, fn)
    target = _as_tensor(target, fn, "target")
    if target.shape != input.shape:
        raise ValueError(
            f"{fn}: target shape {tuple(target.shape)} must equal input shape {tuple(input.shape)}"
        )
    if input.dtype.kind != "f":
        raise NotImplementedError(
            f"{fn}: input must be floating point logits, got dtype {input.dtype}"
        )
    if target.dtype != input.dtype:
        target = target.to(input.dtype)
    # -log sigmoid(x) = softplus(-x) = max(-x, 0) + log(1 + e^-|x|): no overflow for any x
    softplus_neg = maximum(-input, 0.0) + ((-input.abs()).exp() + 1.0).log()
    if pos_weight is not None:
        pw = _as_tensor(pos_weight, fn, "pos_weight").to(input.dtype)
        softplus_neg = softplus_neg * ((pw - 1.0) * target + 1.0)
    loss = (1.0 - target) * input + softplus_neg
    if weight is not None:
        loss = loss * _as_tensor(weight, fn, "weight").to(input.dtype)
    return _reduce(loss, reduction)


# ----------------------------------------------------------------------------- activations


def _softmax_dim(name: str, input: Tensor, dim: int | None, stacklevel: int) -> int:
    """PyTorch's implicit dim, with its deprecation warning: 0 for 0-, 1- and 3-d, else 1."""
    if dim is not None:
        return dim
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. "
        "Change the call to include dim=X as an argument.",
        stacklevel=stacklevel,
    )
    return 0 if input.ndim in (0, 1, 3) else 1


def softmax(
    input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None
) -> Tensor:
    """(*) -> (*): exp(x) / sum(exp(x)) along dim (PyTorch's implicit dim when None)."""
    dim = _softmax_dim("softmax", input, dim, _stacklevel)
    return (input if dtype is None else input.to(dtype)).softmax(dim)


def log_softmax(
    input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None
) -> Tensor:
    """(*) -> (*): x - logsumexp(x) along dim (PyTorch's implicit dim when None)."""
    dim = _softmax_dim("log_softmax", input, dim, _stacklevel)
    return (input if dtype is None else input.to(dtype)).log_softmax(dim)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """(*) -> (*): x where x > 0, else negative_slope * x (the slope's gradient at 0 too)."""
    out = where(input._data > 0, input, input * negative_slope)
    return input.copy_(out) if inplace else out


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """(*) -> (*): x Phi(x) (approximate='none') or PyTorch's tanh approximation ('tanh')."""
    x = input._floating()
    if approximate == "none":
        return x * 0.5 * ((x * (1.0 / math.sqrt(2.0))).erf() + 1.0)
    if approximate == "tanh":
        inner = (x + x * x * x * 0.044715) * math.sqrt(2.0 / math.pi)
        return x * 0.5 * (inner.tanh() + 1.0)
    raise RuntimeError(f"approximate argument must be either none or tanh, got {approximate!r}")


def normalize(
    input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: Any = None
) -> Tensor:
    """(*) -> (*): x / max(||x||_p along dim, eps), as PyTorch (a zero vector stays zero)."""
    if out is not None:
        raise TypeError("normalize: out= is not supported; use the returned tensor")
    if not p > 0:
        raise ValueError(f"normalize: p must be positive or inf, got {p}")
    x = input._floating()
    if math.isinf(p):
        norm = x.abs().amax(dim, keepdim=True)
    else:
        s = (x * x if p == 2 else x.abs() ** p).sum(dim, keepdim=True)
        nonzero = s._data > 0  # PyTorch's norm has gradient 0, not nan, at a zero vector
        norm = where(nonzero, where(nonzero, s, 1.0) ** (1.0 / p), 0.0)
    return x / norm.clamp(min=eps)


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None):
    """(*, d_k .. d_n) -> padded: pad = (left_n, right_n, left_n-1, ...), negative crops.

    mode 'constant' fills with value (0); 'reflect', 'replicate' and 'circular' pad the last 1-3
    dimensions of an input with one or two leading dimensions more, as PyTorch.
    """
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise RuntimeError(
            f"pad: padding length must be even and at most twice the number of dimensions "
            f"({input.ndim}), got {len(pad)}"
        )
    if mode != "constant":
        return _pad_by_index(input, pad, mode)
    lead = input.ndim - len(pad) // 2
    crop, shape, place = [slice(None)] * lead, list(input.shape[:lead]), [slice(None)] * lead
    for d in range(lead, input.ndim):
        k = 2 * (input.ndim - 1 - d)  # the last dim's pair comes first
        lo, hi, n = pad[k], pad[k + 1], input.shape[d]
        crop.append(slice(max(-lo, 0), n - max(-hi, 0)))
        size = n + lo + hi
        if size < 0:
            raise RuntimeError(
                f"pad: padding ({lo}, {hi}) of dimension {d} (size {n}) gives a negative size"
            )
        shape.append(size)
        place.append(slice(max(lo, 0), max(lo, 0) + max(n - max(-lo, 0) - max(-hi, 0), 0)))
    filled = np.full(shape, 0 if value is None else value, dtype=input.dtype)
    out = Tensor._make(filled, False, None)
    out[tuple(place)] = input[tuple(crop)]
    return out


_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}  # numpy's names


def _pad_by_index(input: Tensor, pad: tuple, mode: str) -> Tensor:
    """pad's reflect, replicate and circular modes: gather the positions np.pad would copy."""
    if mode not in _PAD_MODES:
        raise NotImplementedError(
            f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}"
        )
    k = len(pad) // 2  # the number of trailing dimensions padded: 1, 2 or 3
    if k not in (1, 2, 3) or input.ndim not in (k + 1, k + 2):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {input.ndim}D input tensor: mode "
            f"{mode!r} pads the last 1, 2 or 3 dimensions of an input with one or two more"
        )
    out = input
    for d in range(input.ndim - k, input.ndim):
        j = 2 * (input.ndim - 1 - d)  # the last dim's pair comes first
        lo, hi, n = pad[j], pad[j + 1], input.shape[d]
        limit = {"reflect": n - 1, "circular": n}.get(mode, max(lo, hi))
        if max(lo, hi) > limit:
            raise RuntimeError(
                f"pad: padding ({lo}, {hi}) of dimension {d} (size {n}) is too large for mode "
                f"{mode!r}: at most {limit} on each side"
            )
        # a negative pad crops: circular wraps around what is left (crop first), reflect and
        # replicate pad from the whole dimension and crop afterwards, as PyTorch does
        idx, crop = np.arange(n), (max(-lo, 0), max(-hi, 0))
        if mode == "circular":
            idx = idx[crop[0] : n - crop[1]]
        idx = np.pad(idx, (max(lo, 0), max(hi, 0)), mode=_PAD_MODES[mode])
        if mode != "circular":
            idx = idx[crop[0] : len(idx) - crop[1]]
        out = out[(slice(None),) * d + (idx,)]
    return out


# ----------------------------------------------------------------------------- attention


def _check_attention_inputs(query: Tensor, key: Tensor, value: Tensor, enable_gqa: bool) -> None:
    """PyTorch's checks of scaled_dot_product_attention's q, k, v (RuntimeError, as there)."""
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"scaled_dot_product_attention: {name} must be a Tensor, got {type(t).__name__}"
            )
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise RuntimeError(
            "Expected query, key, and value to all be at least 2 dimensional, but got "
            f"query.dim: {query.ndim} key.dim: {key.ndim} and value.dim: {value.ndim} instead."
        )
    if not query.dtype == key.dtype == value.dtype:
        raise RuntimeError(
            "Expected query, key, and value to have the same dtype, but got query.dtype: "
            f"{query.dtype} key.dtype: {key.dtype} and value.dtype: {value.dtype} instead."
        )
    if query.shape[-1] != key.shape[-1]:
        raise RuntimeError(
            f"scaled_dot_product_attention: query has {query.shape[-1]} features per position "
            f"but key has {key.shape[-1]}: shapes {tuple(query.shape)} and {tuple(key.shape)}"
        )
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(
            f"scaled_dot_product_attention: key has {key.shape[-2]} positions but value has "
            f"{value.shape[-2]}: shapes {tuple(key.shape)} and {tuple(value.shape)}"
        )
    if enable_gqa and query.ndim >= 3 and key.ndim >= 3:
        hq, hk, hv = query.shape[-3], key.shape[-3], value.shape[-3]
        if hk == 0 or hv == 0 or hq % hk or hq % hv:
            raise RuntimeError(
                "Number of heads in key and value must divide the number of heads in query: "
                f"query has {hq}, key {hk}, value {hv}"
            )


def _broadcastable(what: str, *shapes: tuple) -> None:
    """RuntimeError (PyTorch's type for shape mismatches here) unless the shapes broadcast."""
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        shown = ", ".join(str(tuple(s)) for s in shapes)
        raise RuntimeError(
            f"scaled_dot_product_attention: {what} shapes do not broadcast: {shown}"
        ) from None


def _attention_bias(attn_mask: Any, is_causal: bool, L: int, S: int, dtype: Any) -> Any:
    """The additive (-inf / 0 / float) mask, or None: bool True takes part, float is added."""
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError(
                "_scaled_dot_product_attention: Explicit attn_mask should not be set when "
                "is_causal=True"
            )
        causal = np.tril(np.ones((L, S), dtype=bool))  # top-left aligned, as PyTorch
        attn_mask = Tensor._make(causal, False, None)
    if attn_mask is None:
        return None
    mask = attn_mask if isinstance(attn_mask, Tensor) else Tensor(np.asarray(attn_mask))
    if mask.dtype == np.bool_:
        return Tensor._make(np.where(mask._data, 0.0, -np.inf).astype(dtype), False, None)
    if mask.dtype not in (np.dtype(np.float32), np.dtype(dtype)):  # PyTorch's rule
        raise RuntimeError(
            "Expected attn_mask dtype to be bool or float or to match query dtype, but got "
            f"attn_mask.dtype: {mask.dtype} and query.dtype: {np.dtype(dtype)} instead."
        )
    return mask if mask.dtype == dtype else mask.to(dtype)


def safe_softmax(scores: Tensor) -> Tensor:
    """(*, S) -> (*, S): softmax over the last dim, all-zero where every score is -inf.

    PyTorch's attention gives a row that may look at nothing an output (and gradient) of zero
    rather than the NaN of softmax(-inf, ..., -inf); the rows are found before the softmax so
    no NaN is ever made, not even in the backward pass.
    """
    dead = np.all(scores._data == -np.inf, axis=-1, keepdims=True)
    if not dead.any():
        return scores.softmax(-1)
    return where(dead, 0.0, where(dead, 0.0, scores).softmax(-1))


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Any = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """q (*, L, E), k (*, S, E), v (*, S, Ev) -> (*, L, Ev): softmax(q k^T scale + mask) v.

    attn_mask broadcasts to (*, L, S): bool (True = may attend) or float (added to the scores).
    is_causal masks key j > query i. enable_gqa shares each key/value head among query heads.
    """
    _check_attention_inputs(query, key, value, enable_gqa)
    if not 0.0 <= dropout_p <= 1.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    if enable_gqa and query.ndim >= 3:
        key = key.repeat_interleave(query.shape[-3] // key.shape[-3], dim=-3)
        value = value.repeat_interleave(query.shape[-3] // value.shape[-3], dim=-3)
    _broadcastable("query, key and value batch", query.shape[:-2], key.shape[:-2], value.shape[:-2])
    L, S = query.shape[-2], key.shape[-2]
    factor = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    scores = (query @ key.transpose(-2, -1)) * factor
    bias = _attention_bias(attn_mask, is_causal, L, S, scores.dtype)
    if bias is not None:
        _broadcastable("attn_mask and attention score", bias.shape, scores.shape)
        scores = scores + bias
    weights = safe_softmax(scores)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, training=True)
    return weights @ value
