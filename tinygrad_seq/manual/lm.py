"""One language-model training step, all by hand: the cells, the output layer, one SGD update.

`lm_training_step` strings the reference together the way the course's character-level
language model trains: a recurrent forward over the sequence (rnn.py, lstm.py or gru.py), the
softmax output layer and its cross-entropy loss (output.py), backpropagation through time
from the output layer's `da`, element-wise clipping of every gradient, and one step of plain
gradient descent. Shapes as in output.py: X (n_x, m, T_x), Y (m, T_x), a_prev (n_a, m).
Only numpy is imported, so the reference stays independent of the autodiff engine.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .gru import gru_backward, gru_forward
from .lstm import lstm_backward, lstm_forward
from .output import clip, cross_entropy_loss, output_backward, output_forward
from .rnn import rnn_backward, rnn_forward

Params = dict[str, Any]

# Keys of the output layer; everything else in a parameter dict belongs to the recurrent cell.
# The course calls the output weights Wya in its RNN and Wy in its LSTM; both are accepted.
_OUTPUT_KEYS = ("Wya", "Wy", "by")
_CELLS = ("rnn", "lstm", "gru", "gru_pytorch")


def _cell_functions(cell: str):
    """(forward, backward) for a cell name, each on (x, state, parameters) / (da, caches)."""

    def lstm_fwd(x, state, params):
        a0, c0 = state if isinstance(state, tuple) else (state, None)
        a, _, c, caches = lstm_forward(x, a0, params, c0=c0)
        return a, (a[:, :, -1], c[:, :, -1]), caches

    def rnn_fwd(x, a0, params):
        a, _, caches = rnn_forward(x, a0, params)
        return a, a[:, :, -1], caches

    def gru_fwd(variant):
        def fwd(x, a0, params):
            a, _, caches = gru_forward(x, a0, params, variant=variant)
            return a, a[:, :, -1], caches

        return fwd

    table = {
        "rnn": (rnn_fwd, rnn_backward),
        "lstm": (lstm_fwd, lstm_backward),
        "gru": (gru_fwd("course"), gru_backward),
        "gru_pytorch": (gru_fwd("pytorch"), gru_backward),
    }
    return table[cell]


def lm_training_step(
    X: np.ndarray,
    Y: np.ndarray,
    a_prev: np.ndarray | tuple[np.ndarray, np.ndarray],
    parameters: Params,
    learning_rate: float,
    max_value: float,
    cell: str = "rnn",
) -> tuple[float, dict[str, np.ndarray], Any, Params]:
    """One LM step: X (n_x, m, T_x), Y (m, T_x), a_prev (n_a, m) -> loss, grads, a_last, params.

    forward   a = cell_forward(X, a_prev),  y_hat<t> = softmax(Wya a<t> + by)
    loss      L = - sum_t sum_i log y_hat<t>[Y<t>_i, i]             (the value before the update)
    backward  output_backward gives da (n_a, m, T_x); the cell's BPTT gives the rest
    clip      every gradient element-wise to [-max_value, max_value]
    update    W <- W - learning_rate * dW for every array parameter

    cell: 'rnn' (keys Wax, Waa, ba, optional 'nonlinearity'), 'lstm', 'gru' (course) or
    'gru_pytorch'; the output layer is Wya (or Wy) (n_y, n_a) and by (n_y, 1) for every cell.
    For 'lstm', a_prev may be a tuple (a_prev, c_prev) and a_last is (a<T_x>, c<T_x>); for
    the others a_last is a<T_x> (n_a, m). gradients holds the clipped 'd' + name for every
    array parameter. Returns a new parameter dict; the input dict and its arrays are untouched.
    """
    if cell not in _CELLS:
        raise ValueError(f"cell must be one of {_CELLS}, got {cell!r}")
    forward, backward = _cell_functions(cell)
    w_key = "Wya" if "Wya" in parameters else "Wy"
    recurrent = {k: v for k, v in parameters.items() if k not in _OUTPUT_KEYS}
    a, a_last, caches = forward(X, a_prev, recurrent)
    y_hat = output_forward(a, parameters[w_key], parameters["by"])
    loss = cross_entropy_loss(y_hat, Y)
    out = output_backward(y_hat, Y, a, parameters[w_key])
    cell_grads = backward(out["da"], caches)
    gradients = {"d" + k: cell_grads["d" + k] for k, v in recurrent.items() if _is_array(v)}
    gradients["d" + w_key] = out["dWya"]
    gradients["dby"] = out["dby"]
    gradients = clip(gradients, max_value)
    new_parameters = {
        k: v - learning_rate * gradients["d" + k] if _is_array(v) else v
        for k, v in parameters.items()
    }
    return loss, gradients, a_last, new_parameters


def _is_array(v: Any) -> bool:
    return isinstance(v, np.ndarray)
