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
from .recurrent import GRUCell, LSTMCell, RNNCell
from .recurrent_layers import GRU, LSTM, RNN, RNNBase
