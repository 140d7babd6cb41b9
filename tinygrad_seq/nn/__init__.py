"""tinygrad_seq.nn: modules, layers, recurrent layers, init and utilities in PyTorch's style."""

from . import functional, init, utils
from .layers import (
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    Dropout,
    Embedding,
    LayerNorm,
    Linear,
    MSELoss,
    NLLLoss,
    ReLU,
    Sigmoid,
    Tanh,
)
from .module import (
    Identity,
    IncompatibleKeys,
    Module,
    ModuleDict,
    ModuleList,
    Parameter,
    Sequential,
    StateDictError,
)
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell

__all__ = [
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "Dropout",
    "Embedding",
    "GRU",
    "GRUCell",
    "Identity",
    "IncompatibleKeys",
    "LSTM",
    "LSTMCell",
    "LayerNorm",
    "Linear",
    "MSELoss",
    "Module",
    "ModuleDict",
    "ModuleList",
    "NLLLoss",
    "Parameter",
    "RNN",
    "RNNBase",
    "RNNCell",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "StateDictError",
    "Tanh",
    "functional",
    "init",
    "utils",
]
