"""The Transformer of "Attention Is All You Need", as torch.nn.Transformer and its parts.

An encoder layer is self-attention and a two-layer feed-forward network, each wrapped in a
residual connection and a LayerNorm; a decoder layer puts attention over the encoder's output
("memory") between the two. norm_first=False (post-norm, the paper) normalises after each
residual sum, norm_first=True (pre-norm) normalises each block's input:

    post-norm: x = norm1(x + SA(x));        x = norm2(x + FF(x))
    pre-norm:  x = x + SA(norm1(x));        x = x + FF(norm2(x))

Stacks hold deep copies of one layer (as PyTorch's: the same initial weights in every layer
unless reset). Parameter names, masks and their conventions (bool True = may not attend, float
added) and the is_causal hints are PyTorch's. One inference shortcut of PyTorch changes numbers,
and is reproduced: its encoder, in eval mode without gradients and with batch_first, a
src_key_padding_mask and right-padded sequences, runs on nested tensors and returns zeros at the
padded positions (before the final norm).

Scopes: a stack runs its layers in the scope "layers", so each layer's ops are recorded under
"layers.<i>" (the prefix of its parameters' names), and a layer's feed-forward block under
"ffn", beside its "self_attn" (and "multihead_attn"): drawings show one box per layer and part.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import autograd, dtypes
from .. import functional as F
from ..tensor import Tensor, where
from . import init
from .attention import MultiheadAttention, canonical_mask
from .layers import GELU, Dropout, LayerNorm, Linear, ReLU
from .module import Module, ModuleList


def _activation(activation: str | Callable) -> Callable:
    if not isinstance(activation, str):
        return activation
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise RuntimeError(f"activation should be relu/gelu, not {activation}")


def _seq_len(x: Tensor, batch_first: bool) -> int:
    return x.shape[0] if x.ndim == 2 else x.shape[1 if batch_first else 0]


def _detect_is_causal_mask(mask: Any, is_causal: bool | None, size: int | None) -> bool:
    """PyTorch's hint: is_causal if given; if None, whether mask is the square causal mask."""
    if is_causal is not None or mask is None:
        return is_causal is True
    sz = size if size is not None else mask.shape[-2]
    if tuple(mask.shape) != (sz, sz):
        return False
    data = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    causal = np.triu(np.full((sz, sz), -np.inf), 1).astype(data.dtype)
    return bool((data == causal).all())


class _LayerBlocks(Module):
    """What the encoder and decoder layers share: their sublayers, built in PyTorch's order
    (so state_dict keys come in PyTorch's order), the self-attention and feed-forward blocks."""

    def _build(
        self, d_model: int, nhead: int, dim_feedforward: int, dropout: float, activation: Any,
        layer_norm_eps: float, batch_first: bool, norm_first: bool, bias: bool, dtype: Any,
        cross: bool,
    ) -> None:  # fmt: skip
        kw = {"dropout": dropout, "batch_first": batch_first, "bias": bias, "dtype": dtype}
        self.self_attn = MultiheadAttention(d_model, nhead, **kw)
        if cross:  # the decoder's attention over memory comes right after, as in PyTorch
            self.multihead_attn = MultiheadAttention(d_model, nhead, **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        for i in range(1, 4 if cross else 3):  # norm1, norm2 (, norm3)
            setattr(
                self, f"norm{i}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
            )
        for i in range(1, 4 if cross else 3):  # dropout1, dropout2 (, dropout3)
            setattr(self, f"dropout{i}", Dropout(dropout))
        self._ff_dropout = f"dropout{3 if cross else 2}"  # the dropout after the feed-forward
        self.activation = _activation(activation)

    def _sa_block(self, x: Tensor, mask: Any, padding: Any, is_causal: bool) -> Tensor:
        x = self.self_attn(
            x, x, x, attn_mask=mask, key_padding_mask=padding, need_weights=False,
            is_causal=is_causal,
        )[0]  # fmt: skip
        return self.dropout1(x)

    def _ff_block(self, x: Tensor) -> Tensor:
        with autograd.scope("ffn"):  # one box in drawings, as self_attn is
            out = self.linear2(self.dropout(self.activation(self.linear1(x))))
            return getattr(self, self._ff_dropout)(out)


class TransformerEncoderLayer(_LayerBlocks):
    """(S, N, d_model) [batch_first: (N, S, d_model); unbatched (S, d_model)] -> same shape.

    Self-attention then a feed-forward block (d_model -> dim_feedforward -> d_model), each
    with a residual connection, dropout and LayerNorm (norm_first: pre-norm).
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable = "relu",
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ):
        super().__init__()
        self._build(
            d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first,
            norm_first, bias, dtype, cross=False,
        )  # fmt: skip
        activation = self.activation
        if activation is F.relu or isinstance(activation, ReLU):
            self.activation_relu_or_gelu = 1
        elif activation is F.gelu or isinstance(activation, GELU):
            self.activation_relu_or_gelu = 2
        else:
            self.activation_relu_or_gelu = 0

    def forward(
        self,
        src: Tensor,
        src_mask: Any = None,
        src_key_padding_mask: Any = None,
        is_causal: bool = False,
    ) -> Tensor:
        """src (S, N, E) [or (N, S, E), (S, E)], masks (S, S) and (N, S) -> same as src."""
        src_key_padding_mask = canonical_mask(
            src_key_padding_mask, "src_key_padding_mask", src_mask, "src_mask", src.dtype
        )
        src_mask = canonical_mask(src_mask, "src_mask", None, "", src.dtype)
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x))


class TransformerDecoderLayer(_LayerBlocks):
    """tgt (T, N, d_model), memory (S, N, d_model) [batch_first: N first] -> (T, N, d_model).

    Self-attention over tgt, attention over memory, then a feed-forward block, each with a
    residual connection, dropout and LayerNorm (norm_first: pre-norm).
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable = "relu",
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ):
        super().__init__()
        self._build(
            d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first,
            norm_first, bias, dtype, cross=True,
        )  # fmt: skip

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: Any = None,
        memory_mask: Any = None,
        tgt_key_padding_mask: Any = None,
        memory_key_padding_mask: Any = None,
        tgt_is_causal: bool = False,
        memory_is_causal: bool = False,
    ) -> Tensor:
        """tgt (T, N, E), memory (S, N, E), masks (T, T), (T, S), (N, T), (N, S) -> (T, N, E)."""
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(
                self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal
            )
            return x + self._ff_block(self.norm3(x))
        x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(
            x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal)
        )
        return self.norm3(x + self._ff_block(x))

    def _mha_block(self, x: Tensor, mem: Tensor, mask: Any, padding: Any, is_causal: bool):
        x = self.multihead_attn(
            x, mem, mem, attn_mask=mask, key_padding_mask=padding, is_causal=is_causal,
            need_weights=False,
        )[0]  # fmt: skip
        return self.dropout2(x)


def _clones(module: Module, n: int) -> ModuleList:
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


def _why_no_nested_tensor(layer: Any) -> str:
    """Why PyTorch's encoder would not use nested tensors with this layer ('' if it would)."""
    name = "encoder_layer"
    if not isinstance(layer, TransformerEncoderLayer):
        return f"{name} was not TransformerEncoderLayer"
    if layer.norm_first:
        return f"{name}.norm_first was True"
    if not layer.self_attn.batch_first:
        return (
            f"{name}.self_attn.batch_first was not True"
            "(use batch_first for better inference performance)"
        )
    if not layer.self_attn._qkv_same_embed_dim:
        return f"{name}.self_attn._qkv_same_embed_dim was not True"
    if layer.self_attn.in_proj_bias is None:
        return f"{name}.self_attn was passed bias=False"
    if not layer.activation_relu_or_gelu:
        return f"{name}.activation_relu_or_gelu was not True"
    if layer.norm1.eps != layer.norm2.eps:
        return f"{name}.norm1.eps was not equal to {name}.norm2.eps"
    if layer.self_attn.num_heads % 2 == 1:
        return f"{name}.self_attn.num_heads is odd"
    return ""


class TransformerEncoder(Module):
    """A stack of num_layers deep copies of encoder_layer, then norm: src -> same shape."""

    def __init__(
        self,
        encoder_layer: Module,
        num_layers: int,
        norm: Module | None = None,
        enable_nested_tensor: bool = True,
        mask_check: bool = True,
    ):
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check
        why = _why_no_nested_tensor(encoder_layer)
        if enable_nested_tensor and why:
            warnings.warn(
                "enable_nested_tensor is True, but self.use_nested_tensor is False because " + why,
                stacklevel=2,
            )
            self.use_nested_tensor = False

    def forward(
        self,
        src: Tensor,
        mask: Any = None,
        src_key_padding_mask: Any = None,
        is_causal: bool | None = None,
    ) -> Tensor:
        """src (S, N, E) [or (N, S, E), (S, E)], mask (S, S), padding (N, S) -> as src."""
        src_key_padding_mask = canonical_mask(
            src_key_padding_mask, "src_key_padding_mask", mask, "mask", src.dtype
        )
        mask = canonical_mask(mask, "mask", None, "", src.dtype)
        first = self.layers[0]
        is_causal = _detect_is_causal_mask(
            mask, is_causal, _seq_len(src, first.self_attn.batch_first)
        )
        real = self._nested_positions(src, mask, src_key_padding_mask)
        if real is not None:  # the layers see the first length[i] positions of sequence i
            padding = np.where(real, 0.0, -np.inf).astype(src.dtype)
            src_key_padding_mask = Tensor._make(padding, False, None)
        output = src
        with autograd.scope("layers"):  # the layers' scopes match their parameters' names
            for layer in self.layers:
                output = layer(
                    output, src_mask=mask, is_causal=is_causal,
                    src_key_padding_mask=src_key_padding_mask,
                )  # fmt: skip
        if real is not None:  # PyTorch's nested-tensor route: zeros at the padded positions
            output = where(real[..., None], output, 0.0)
        if self.norm is not None:
            output = self.norm(output)
        return output

    def _nested_positions(self, src: Tensor, mask: Any, padding: Any) -> np.ndarray | None:
        """(N, S) bool, the positions PyTorch's encoder keeps when it goes nested, else None.

        That route is taken in inference (eval mode, and no gradient wanted) with batch_first,
        a padding mask, no attention mask, and (mask_check) every sequence's real positions
        first. It keeps the first length[i] positions of sequence i, length[i] its number of
        unpadded positions (so with mask_check=False and padding on the left it keeps the
        wrong ones, as PyTorch), and zeros the rest of the output.
        """
        first = self.layers[0]
        if not self.use_nested_tensor or first.training or src.ndim != 3:
            return None
        if padding is None or mask is not None:
            return None
        real = padding._data == 0  # PyTorch: src_key_padding_mask.logical_not()
        if self.mask_check and (np.diff(real.astype(np.int8), axis=1) > 0).any():
            return None  # not left-aligned
        tensors = [src] + [p for p in first.parameters()]
        if autograd.is_grad_enabled() and any(t.requires_grad for t in tensors):
            return None
        return np.arange(real.shape[1])[None, :] < real.sum(axis=1, keepdims=True)


class TransformerDecoder(Module):
    """A stack of num_layers deep copies of decoder_layer, then norm: (tgt, memory) -> tgt."""

    def __init__(self, decoder_layer: Module, num_layers: int, norm: Module | None = None):
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: Any = None,
        memory_mask: Any = None,
        tgt_key_padding_mask: Any = None,
        memory_key_padding_mask: Any = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        """tgt (T, N, E), memory (S, N, E) [batch_first: N first] and masks -> (T, N, E)."""
        seq_len = _seq_len(tgt, self.layers[0].self_attn.batch_first)
        tgt_is_causal = _detect_is_causal_mask(tgt_mask, tgt_is_causal, seq_len)
        output = tgt
        with autograd.scope("layers"):
            for layer in self.layers:
                output = layer(
                    output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                    tgt_key_padding_mask=tgt_key_padding_mask,
                    memory_key_padding_mask=memory_key_padding_mask,
                    tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal,
                )  # fmt: skip
        if self.norm is not None:
            output = self.norm(output)
        return output


class Transformer(Module):
    """(src (S, N, d_model), tgt (T, N, d_model)) -> (T, N, d_model) [batch_first: N first].

    An encoder and a decoder stack, each ending in a LayerNorm; every parameter with more than
    one dimension is reset with xavier_uniform_, as in PyTorch.
    """

    def __init__(
        self,
        d_model: int = 512,
        nhead: int = 8,
        num_encoder_layers: int = 6,
        num_decoder_layers: int = 6,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable = "relu",
        custom_encoder: Any = None,
        custom_decoder: Any = None,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ):
        super().__init__()
        layer_args = (d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps)
        layer_args += (batch_first, norm_first, bias)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            layer = TransformerEncoderLayer(*layer_args, dtype=dtype)
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
            self.encoder = TransformerEncoder(layer, num_encoder_layers, norm)
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            layer = TransformerDecoderLayer(*layer_args, dtype=dtype)
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
            self.decoder = TransformerDecoder(layer, num_decoder_layers, norm)
        self._reset_parameters()
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    def forward(
        self,
        src: Tensor,
        tgt: Tensor,
        src_mask: Any = None,
        tgt_mask: Any = None,
        memory_mask: Any = None,
        src_key_padding_mask: Any = None,
        tgt_key_padding_mask: Any = None,
        memory_key_padding_mask: Any = None,
        src_is_causal: bool | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        """src (S, N, E), tgt (T, N, E) and masks (S, S), (T, T), (T, S), (N, S), (N, T), (N, S)
        -> (T, N, E)."""
        batch_dim = 0 if self.batch_first else 1
        if src.ndim == 3 and src.shape[batch_dim] != tgt.shape[batch_dim]:
            raise RuntimeError("the batch number of src and tgt must be equal")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError("the feature number of src and tgt must be equal to d_model")
        memory = self.encoder(
            src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal
        )
        return self.decoder(
            tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
            tgt_key_padding_mask=tgt_key_padding_mask,
            memory_key_padding_mask=memory_key_padding_mask,
            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal,
        )  # fmt: skip

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device: Any = None, dtype: Any = None) -> Tensor:
        """sz -> (sz, sz) float mask: 0 on and below the diagonal, -inf above (the future)."""
        d = dtypes.get_default_dtype() if dtype is None else dtypes.to_dtype(dtype)
        return Tensor._make(np.triu(np.full((sz, sz), -np.inf), 1).astype(d), False, None)

    def _reset_parameters(self) -> None:
        """xavier_uniform_ on every parameter with more than one dimension."""
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)
