"""The Transformer body of the character language model: causal self-attention over positions.

A recurrent layer carries the past in its state h<t>; a Transformer has no state, so position t
looks back at the inputs of positions 0..t directly, through self-attention with a causal mask
(position t may not attend t+1, t+2, ...). It does not know where a symbol is unless told, so a
learned position embedding (one vector per position 0..max_len-1) is added to each input:

    z = x + pos[0..L-1]
    z = TransformerEncoder(z, causal mask, padding mask)   # pre-norm layers, a final LayerNorm

`CausalTransformer` has the recurrent layers' call, `(x (L, N, E), hx, lengths) -> (out, hx)`,
so `CharLM`, its training loop, evaluation and sampling use it unchanged. Its "state" is simply
the inputs seen so far: called again with the next symbol, it re-runs the whole context (at
most the last max_len positions: a sliding window) and returns the outputs of the new
positions only. That is the plain way to sample from a stateless model; caching each layer's
keys and values would save the re-computation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import nn
from ..tensor import Tensor, cat


class CausalTransformer(nn.Module):
    """x (L, N, d_model) -> (L, N, d_model): position embedding, causal pre-norm encoder layers."""

    def __init__(
        self,
        d_model: int,
        nhead: int = 4,
        num_layers: int = 2,
        dim_feedforward: int | None = None,
        max_len: int = 64,
        dropout: float = 0.0,
    ):
        super().__init__()
        if d_model % nhead:
            raise ValueError(
                f"CausalTransformer: d_model ({d_model}) must be divisible by nhead ({nhead})"
            )
        self.max_len = max_len
        self.pos = nn.Embedding(max_len, d_model)
        layer = nn.TransformerEncoderLayer(
            d_model, nhead, dim_feedforward or 4 * d_model, dropout, norm_first=True
        )
        # pre-norm layers leave the residual stream unnormalised: one LayerNorm at the end
        self.encoder = nn.TransformerEncoder(
            layer, num_layers, norm=nn.LayerNorm(d_model), enable_nested_tensor=False
        )

    def forward(self, x: Tensor, hx: Any = None, lengths: Any = None) -> tuple[Tensor, Tensor]:
        """x (L, N, E), hx (P, N, E) earlier inputs or None, lengths (N,) -> out (L, N, E), hx.

        The returned hx is the context the next call continues: the last max_len inputs.
        """
        if hx is not None and lengths is not None:
            raise ValueError("CausalTransformer: lengths= applies to a first call (hx=None) only")
        L = x.shape[0]
        if L > self.max_len:
            raise ValueError(
                f"CausalTransformer: a sequence of {L} positions is longer than the model's "
                f"context, max_len={self.max_len} (`tinygrad-seq train --context` sets it)"
            )
        context = x if hx is None else cat([hx, x])[-self.max_len :]
        W = context.shape[0]
        z = context + self.pos(Tensor._make(np.arange(W), False, None))[:, None, :]
        causal = nn.Transformer.generate_square_subsequent_mask(W, dtype=x.dtype)
        padding = None
        if lengths is not None:  # right padding: position t of sequence i is padded if t >= len_i
            pad = np.arange(W)[None, :] >= np.asarray(lengths)[:, None]
            padding = Tensor._make(np.where(pad, -np.inf, 0.0).astype(x.dtype), False, None)
        out = self.encoder(z, mask=causal, src_key_padding_mask=padding)
        return out[W - L :], context
