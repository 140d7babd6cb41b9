"""Multi-head attention, as torch.nn.MultiheadAttention: projections around scaled dot products.

The idea: each of num_heads heads projects the queries, keys and values into a head_dim =
embed_dim / num_heads space, lets every query position take a softmax-weighted average of the
value rows, weighted by how well its query matches each key (q k^T / sqrt(head_dim)), and the
heads' results, side by side, are projected back to embed_dim:

    head_i = softmax(Q W_qi^T (K W_ki^T)^T / sqrt(d) + mask) V W_vi^T
    out = [head_1 | ... | head_h] W_o^T + b_o

Everything is ordinary ops (linear, reshape, matmul, softmax, where), so the backward pass is
the engine's walk. The masks follow PyTorch's conventions here, which are the *opposite* of
scaled_dot_product_attention's: in `key_padding_mask` and `attn_mask` a bool True means "may
not attend" (it becomes -inf), a float is added to the scores. With need_weights=True the
weights are computed by an explicit softmax, so a query that may attend nothing gets NaN, as
in PyTorch; with need_weights=False they go through F.scaled_dot_product_attention, which gives
zeros there (PyTorch does the same).

The heads are one batched tensor, (N*num_heads, L, head_dim), so the graph has one softmax for
all of them. Inside `separate_heads()` (for drawings: `viz.separate_heads`) each head is
computed on its own slice under the scope "head <i>" and the results are stacked: the same
numbers, one subgraph per head. Dropout then draws its masks head by head.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from .. import dtypes
from .. import functional as F
from ..autograd import scope
from ..tensor import Tensor, cat, stack
from . import init
from .layers import Linear
from .module import Module, Parameter

_per_head = False  # set by separate_heads()


@contextlib.contextmanager
def separate_heads(enabled: bool = True) -> Iterator[None]:
    """Context manager: attention inside computes each head apart, in scope 'head <i>'."""
    global _per_head
    prev, _per_head = _per_head, enabled
    try:
        yield
    finally:
        _per_head = prev


def _empty(shape: tuple, dtype: Any) -> Parameter:
    """A zero Parameter of shape in dtype (the default dtype if None), to be initialised."""
    d = dtypes.get_default_dtype() if dtype is None else dtypes.to_dtype(dtype)
    return Parameter(np.zeros(shape, dtype=d))


def canonical_mask(mask: Any, mask_name: str, other: Any, other_name: str, dtype: Any) -> Any:
    """A bool mask (True = may not attend) -> float 0 / -inf of dtype; float masks unchanged.

    other: the other mask of the call (or None); PyTorch warns when the two types differ.
    """
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        mask = Tensor._make(np.array(mask), False, None)  # a copy, dtype kept
    if mask.dtype != np.bool_ and mask.dtype.kind != "f":
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if other is not None and mask.dtype != other.dtype:
        warnings.warn(
            f"Support for mismatched {mask_name} and {other_name} is deprecated. "
            "Use same type for both instead.",
            stacklevel=3,
        )
    if mask.dtype == np.bool_:
        return Tensor._make(np.where(mask._data, -np.inf, 0.0).astype(dtype), False, None)
    return mask


def _check_shapes(query: Tensor, key: Tensor, value: Tensor, kpm: Any, mask: Any, heads: int):
    """PyTorch's shape checks (AssertionError, as there) -> True when the input is batched."""
    if query.ndim == 3:
        if key.ndim != 3 or value.ndim != 3:
            raise AssertionError(
                "For batched (3-D) `query`, expected `key` and `value` to be 3-D"
                f" but found {key.ndim}-D and {value.ndim}-D tensors respectively"
            )
        if kpm is not None and kpm.ndim != 2:
            raise AssertionError(
                "For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D"
                f" but found {kpm.ndim}-D tensor instead"
            )
        if mask is not None and mask.ndim not in (2, 3):
            raise AssertionError(
                "For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D"
                f" but found {mask.ndim}-D tensor instead"
            )
        return True
    if query.ndim != 2:
        raise AssertionError(
            "query should be unbatched 2D or batched 3D tensor but received "
            f"{query.ndim}-D query tensor"
        )
    if key.ndim != 2 or value.ndim != 2:
        raise AssertionError(
            "For unbatched (2-D) `query`, expected `key` and `value` to be 2-D"
            f" but found {key.ndim}-D and {value.ndim}-D tensors respectively"
        )
    if kpm is not None and kpm.ndim != 1:
        raise AssertionError(
            "For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D"
            f" but found {kpm.ndim}-D tensor instead"
        )
    if mask is not None:
        if mask.ndim not in (2, 3):
            raise AssertionError(
                "For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D"
                f" but found {mask.ndim}-D tensor instead"
            )
        want = (heads, query.shape[0], key.shape[0])
        if mask.ndim == 3 and tuple(mask.shape) != want:
            raise AssertionError(
                f"Expected `attn_mask` shape to be {want} but got {tuple(mask.shape)}"
            )
    return False


def _project(x: Tensor, w: Tensor, b: Tensor | None, what: str) -> Tensor:
    """x (.., E_in) W^T + b; a feature mismatch is PyTorch's RuntimeError."""
    if x.shape[-1] != w.shape[1]:
        raise RuntimeError(
            f"multi_head_attention_forward: {what} has {x.shape[-1]} features, its projection "
            f"weight {tuple(w.shape)} expects {w.shape[1]}"
        )
    return F.linear(x, w, b)


def _in_projection(query, key, value, w: tuple, b: Tensor | None) -> tuple:
    """(q, k, v) projected by w = (W_q, W_k, W_v), each (E, E_in), and b (3E,) split in three."""
    E = w[0].shape[0]
    bq, bk, bv = (None, None, None) if b is None else (b[:E], b[E : 2 * E], b[2 * E :])
    return (
        _project(query, w[0], bq, "query"),
        _project(key, w[1], bk, "key"),
        _project(value, w[2], bv, "value"),
    )


def _check_separate_weights(query, key, value, w: tuple) -> None:
    Eq, Ek, Ev = query.shape[-1], key.shape[-1], value.shape[-1]
    for name, weight, want in (("query", w[0], (Eq, Eq)), ("key", w[1], (Eq, Ek))):
        if tuple(weight.shape) != want:
            raise AssertionError(
                f"expecting {name} weights shape of {want}, but got {tuple(weight.shape)}"
            )
    if tuple(w[2].shape) != (Eq, Ev):
        raise AssertionError(
            f"expecting value weights shape of {(Eq, Ev)}, but got {tuple(w[2].shape)}"
        )


def _check_attn_mask(mask: Tensor, L: int, S: int, NH: int) -> Tensor:
    """A 2-D (L, S) mask -> (1, L, S); a 3-D one must be (N*num_heads, L, S)."""
    if mask.ndim == 2:
        if tuple(mask.shape) != (L, S):
            raise RuntimeError(
                f"The shape of the 2D attn_mask is {tuple(mask.shape)}, but should be {(L, S)}."
            )
        return mask.unsqueeze(0)
    if mask.ndim == 3:
        if tuple(mask.shape) != (NH, L, S):
            raise RuntimeError(
                f"The shape of the 3D attn_mask is {tuple(mask.shape)}, but should be {(NH, L, S)}."
            )
        return mask
    raise RuntimeError(f"attn_mask's dimension {mask.ndim} is not supported")


def _pad_last(mask: Any) -> Any:
    """One more key position that every query may attend (a 0 column), for bias_k / zero_attn."""
    return None if mask is None else F.pad(mask, (0, 1))


def _heads(x: Tensor, NH: int, head_dim: int) -> Tensor:
    """(len, N, E) -> (N*num_heads, len, head_dim)."""
    return x.reshape(x.shape[0], NH, head_dim).transpose(0, 1)


def multi_head_attention_forward(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    embed_dim_to_check: int,
    num_heads: int,
    in_proj_weight: Tensor | None,
    in_proj_bias: Tensor | None,
    bias_k: Tensor | None,
    bias_v: Tensor | None,
    add_zero_attn: bool,
    dropout_p: float,
    out_proj_weight: Tensor,
    out_proj_bias: Tensor | None,
    training: bool = True,
    key_padding_mask: Any = None,
    need_weights: bool = True,
    attn_mask: Any = None,
    use_separate_proj_weight: bool = False,
    q_proj_weight: Tensor | None = None,
    k_proj_weight: Tensor | None = None,
    v_proj_weight: Tensor | None = None,
    static_k: Any = None,
    static_v: Any = None,
    average_attn_weights: bool = True,
    is_causal: bool = False,
) -> tuple[Tensor, Tensor | None]:
    """query (L, N, E), key (S, N, E_k), value (S, N, E_v) -> (output (L, N, E), weights).

    weights: (N, L, S) averaged over heads, (N, num_heads, L, S) if not average_attn_weights,
    None if not need_weights. Unbatched inputs drop N.
    """
    if static_k is not None or static_v is not None:
        raise NotImplementedError("multi_head_attention_forward: static_k / static_v")
    batched = _check_shapes(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    L, N, E = query.shape
    dtype = query.dtype
    key_padding_mask = canonical_mask(
        key_padding_mask, "key_padding_mask", attn_mask, "attn_mask", dtype
    )
    if is_causal and attn_mask is None:
        raise RuntimeError(
            "Need attn_mask if specifying the is_causal hint. You may use the Transformer "
            "module method `generate_square_subsequent_mask` to create this mask."
        )
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # scaled_dot_product_attention applies the causal mask itself
    else:
        attn_mask = canonical_mask(attn_mask, "attn_mask", None, "", dtype)
        if key_padding_mask is not None:
            is_causal = False
    if E != embed_dim_to_check:
        raise AssertionError(
            f"was expecting embedding dimension of {embed_dim_to_check}, but got {E}"
        )
    head_dim = E // num_heads
    if head_dim * num_heads != E:
        raise AssertionError(f"embed_dim {E} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if key.shape[:2] != value.shape[:2]:
            raise AssertionError(
                f"key's sequence and batch dims {key.shape[:2]} do not match value's "
                f"{value.shape[:2]}"
            )
        weights = (q_proj_weight, k_proj_weight, v_proj_weight)
        _check_separate_weights(query, key, value, weights)
    else:
        if key.shape != value.shape:
            raise AssertionError(
                f"key shape {tuple(key.shape)} does not match value shape {tuple(value.shape)}"
            )
        weights = (in_proj_weight[:E], in_proj_weight[E : 2 * E], in_proj_weight[2 * E :])
    q, k, v = _in_projection(query, key, value, weights, in_proj_bias)
    S = key.shape[0]
    if attn_mask is not None:
        attn_mask = _check_attn_mask(attn_mask, L, S, N * num_heads)
    if (bias_k is None) != (bias_v is None):
        raise AssertionError(
            f"bias_{'k' if bias_k is not None else 'v'} is set but the other is None"
        )
    if bias_k is not None:  # one more key and value, learnt, shared by the batch
        k = cat([k, bias_k.repeat(1, N, 1)])
        v = cat([v, bias_v.repeat(1, N, 1)])
        attn_mask, key_padding_mask = _pad_last(attn_mask), _pad_last(key_padding_mask)
    NH = N * num_heads
    q, k, v = _heads(q, NH, head_dim), _heads(k, NH, head_dim), _heads(v, NH, head_dim)
    if add_zero_attn:  # one more key and value of zeros
        zeros = Tensor._make(np.zeros((NH, 1, head_dim), dtype=k.dtype), False, None)
        k, v = cat([k, zeros], dim=1), cat([v, zeros], dim=1)
        attn_mask, key_padding_mask = _pad_last(attn_mask), _pad_last(key_padding_mask)
    S = k.shape[1]
    if key_padding_mask is not None:
        for i, want in enumerate((N, S)):
            if key_padding_mask.shape[i] != want:
                raise AssertionError(
                    f"Expected key_padded_mask.shape[{i}] to be {want}, but got "
                    f"{key_padding_mask.shape[i]}"
                )
        kpm = key_padding_mask.reshape(N, 1, 1, S).expand(N, num_heads, 1, S).reshape(NH, 1, S)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0
    if _per_head:
        return _attend_per_head(
            q, k, v, attn_mask, dropout_p, is_causal, need_weights,
            (out_proj_weight, out_proj_bias), (L, N, num_heads, average_attn_weights, batched),
        )  # fmt: skip
    if need_weights:
        return _attend_with_weights(
            q, k, v, attn_mask, dropout_p, (out_proj_weight, out_proj_bias),
            (L, N, num_heads, average_attn_weights, batched),
        )  # fmt: skip
    if attn_mask is not None:
        attn_mask = attn_mask.reshape(N, num_heads, -1, S) if attn_mask.shape[0] != 1 else attn_mask
    out = F.scaled_dot_product_attention(
        q.reshape(N, num_heads, L, head_dim),
        k.reshape(N, num_heads, S, head_dim),
        v.reshape(N, num_heads, S, head_dim),
        attn_mask,
        dropout_p,
        is_causal,
    )
    out = out.permute(2, 0, 1, 3).reshape(L * N, E)
    out = F.linear(out, out_proj_weight, out_proj_bias).reshape(L, N, E)
    return (out if batched else out.squeeze(1)), None


def _attend_with_weights(q, k, v, mask, dropout_p: float, out_proj: tuple, layout: tuple):
    """The need_weights path: an explicit softmax (NaN where a query may attend nothing)."""
    L, N, heads, average, batched = layout
    scores = (q * math.sqrt(1.0 / q.shape[-1])) @ k.transpose(-2, -1)
    if mask is not None:
        scores = scores + mask
    with np.errstate(invalid="ignore"):  # -inf - -inf: PyTorch's NaN, without numpy's warning
        weights = scores.softmax(-1)
    if dropout_p > 0.0:
        weights = F.dropout(weights, dropout_p)
    E = q.shape[-1] * heads
    out = (weights @ v).transpose(0, 1).reshape(L * N, E)
    out = F.linear(out, *out_proj).reshape(L, N, E)
    weights = weights.reshape(N, heads, L, k.shape[1])
    if average:
        weights = weights.mean(1)
    if not batched:
        return out.squeeze(1), weights.squeeze(0)
    return out, weights


def _attend_per_head(q, k, v, mask, dropout_p, is_causal, need_weights, out_proj, layout):
    """separate_heads(): attention of each head on its slice, in scope 'head <i>', stacked."""
    L, N, heads, average, batched = layout
    S, head_dim = k.shape[1], q.shape[-1]
    q4, k4, v4 = (x.reshape(N, heads, x.shape[1], head_dim) for x in (q, k, v))
    if mask is not None and mask.shape[0] != 1:  # (N*heads, L, S) -> (N, heads, L, S)
        mask = mask.reshape(N, heads, -1, S)
    outs, weights = [], []
    for h in range(heads):
        m = None if mask is None else (mask[:, h] if mask.ndim == 4 else mask)
        with scope(f"head {h}"):
            out, w = _one_head(q4[:, h], k4[:, h], v4[:, h], m, dropout_p, is_causal, need_weights)
        outs.append(out)
        weights.append(w)
    E = head_dim * heads
    out = stack(outs, dim=1).permute(2, 0, 1, 3).reshape(L * N, E)
    out = F.linear(out, *out_proj).reshape(L, N, E)
    w = None
    if need_weights:
        w = stack(weights, dim=1)
        w = w.mean(1) if average else w
        w = w if batched else w.squeeze(0)
    return (out if batched else out.squeeze(1)), w


def _one_head(q, k, v, mask, dropout_p: float, is_causal: bool, need_weights: bool) -> tuple:
    """q (N, L, d), k, v (N, S, d) of one head -> (out (N, L, d), weights (N, L, S) or None)."""
    if not need_weights:
        return F.scaled_dot_product_attention(q, k, v, mask, dropout_p, is_causal), None
    scores = (q * math.sqrt(1.0 / q.shape[-1])) @ k.transpose(-2, -1)  # as _attend_with_weights
    if mask is not None:
        scores = scores + mask
    with np.errstate(invalid="ignore"):
        w = scores.softmax(-1)
    if dropout_p > 0.0:
        w = F.dropout(w, dropout_p)
    return w @ v, w


class MultiheadAttention(Module):
    """(L, N, E) query, (S, N, kdim) key, (S, N, vdim) value -> (L, N, E), weights (N, L, S).

    PyTorch's parameters: in_proj_weight (3E, E) (or q/k/v_proj_weight when kdim or vdim
    differ from E), in_proj_bias (3E,), out_proj (Linear E -> E), bias_k and bias_v (1, 1, E).
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        device: Any = None,
        dtype: Any = None,
    ):
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(
                "embed_dim and num_heads must be greater than 0,"
                f" got embed_dim={embed_dim} and num_heads={num_heads} instead"
            )
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads, self.dropout, self.batch_first = num_heads, dropout, batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        E = embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = _empty((3 * E, E), dtype)
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = _empty((E, E), dtype)
            self.k_proj_weight = _empty((E, self.kdim), dtype)
            self.v_proj_weight = _empty((E, self.vdim), dtype)
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = _empty((3 * E,), dtype)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(E, E, bias=bias, dtype=dtype)
        if add_bias_kv:
            self.bias_k: Parameter | None = _empty((1, 1, E), dtype)
            self.bias_v: Parameter | None = _empty((1, 1, E), dtype)
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """PyTorch's: xavier_uniform_ input projections, zero biases, xavier_normal_ bias_k/v."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Any = None,
        need_weights: bool = True,
        attn_mask: Any = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        """(L, N, E), (S, N, kdim), (S, N, vdim) [batch_first: N first; unbatched: no N] ->
        (attn_output like query, weights (N, L, S) / (N, num_heads, L, S) or None)."""
        batched = query.ndim == 3
        key_padding_mask = canonical_mask(
            key_padding_mask, "key_padding_mask", attn_mask, "attn_mask", query.dtype
        )
        attn_mask = canonical_mask(attn_mask, "attn_mask", None, "", query.dtype)
        if self.batch_first and batched:
            query, key, value = (x.transpose(1, 0) for x in (query, key, value))
        separate = not self._qkv_same_embed_dim
        out, weights = multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads,
            self.in_proj_weight, self.in_proj_bias, self.bias_k, self.bias_v,
            self.add_zero_attn, self.dropout, self.out_proj.weight, self.out_proj.bias,
            training=self.training, key_padding_mask=key_padding_mask,
            need_weights=need_weights, attn_mask=attn_mask,
            use_separate_proj_weight=separate, q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights, is_causal=is_causal,
        )  # fmt: skip
        if self.batch_first and batched:
            out = out.transpose(1, 0)
        return out, weights
