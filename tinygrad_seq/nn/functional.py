"""`from tinygrad_seq.nn import functional as F`: the functions of tinygrad_seq.functional."""

from ..functional import (
    binary_cross_entropy_with_logits,
    cross_entropy,
    dropout,
    embedding,
    layer_norm,
    linear,
    log_softmax,
    mse_loss,
    nll_loss,
    one_hot,
    relu,
    sigmoid,
    softmax,
    tanh,
)

__all__ = [
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "dropout",
    "embedding",
    "layer_norm",
    "linear",
    "log_softmax",
    "mse_loss",
    "nll_loss",
    "one_hot",
    "relu",
    "sigmoid",
    "softmax",
    "tanh",
]
