"""Small ready-made sequence models built from nn: the character language model of the course.

`CharLM` reads a sequence of symbol ids and predicts, at every step, a distribution over the next
symbol: x<t> is the previous symbol (the sequence starts with <bos>, the course's x<1> = 0),
y<t> = softmax(W_ya a<t> + b_y). `sample` and `log_likelihood` in `generate.py` use any model
with this interface: `model(ids (L, N) int64, hx) -> (logits (L, N, V), hx)`.
"""

from __future__ import annotations

from typing import Any

from . import nn
from .tensor import Tensor

CELLS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


class CharLM(nn.Module):
    """Embedding -> RNN/GRU/LSTM -> Linear: ids (L, N) -> logits (L, N, V), final state."""

    def __init__(
        self,
        vocab_size: int,
        hidden_size: int = 128,
        cell: str = "lstm",
        num_layers: int = 1,
        embedding_dim: int | None = None,
        dropout: float = 0.0,
    ):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"CharLM: cell must be one of {sorted(CELLS)}, got {cell!r}")
        self.config = {
            "vocab_size": vocab_size,
            "hidden_size": hidden_size,
            "cell": cell,
            "num_layers": num_layers,
            "embedding_dim": embedding_dim or hidden_size,
            "dropout": dropout,
        }
        emb = embedding_dim or hidden_size
        self.embedding = nn.Embedding(vocab_size, emb)
        self.rnn = CELLS[cell](emb, hidden_size, num_layers=num_layers, dropout=dropout)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, ids: Tensor, hx: Any = None, lengths: Any = None) -> tuple[Tensor, Any]:
        """ids (L, N) int64 -> logits (L, N, V) and the recurrent state for the next call."""
        if not isinstance(ids, Tensor):
            ids = Tensor(ids)
        if ids.dtype.kind not in "iu":
            raise TypeError(f"CharLM: expected integer symbol ids, got dtype {ids.dtype}")
        if ids.ndim != 2:
            raise ValueError(f"CharLM: expected ids of shape (L, N), got {ids.shape}")
        out, hx = self.rnn(self.embedding(ids), hx, lengths=lengths)
        return self.head(out), hx
