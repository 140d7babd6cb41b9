"""tinygrad_seq: a small reverse-mode autodiff framework on numpy for sequence models."""

from .autograd import (
    AnomalyError,
    GraphFreedError,
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from .creation import (
    arange,
    eye,
    full,
    full_like,
    ones,
    ones_like,
    rand,
    rand_like,
    randn,
    randn_like,
    tensor,
    zeros,
    zeros_like,
)
from .dtypes import (
    bool_,
    float16,
    float32,
    float64,
    get_default_dtype,
    int32,
    int64,
    set_default_dtype,
)
from .gradcheck import GradcheckError, gradcheck
from .random import manual_seed
from .tensor import (
    Tensor,
    cat,
    clamp,
    exp,
    log,
    log_softmax,
    logsumexp,
    matmul,
    maximum,
    minimum,
    relu,
    sigmoid,
    softmax,
    stack,
    tanh,
    where,
)

__version__ = "0.1.0"
