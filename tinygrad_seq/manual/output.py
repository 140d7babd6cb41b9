"""The softmax output layer, the course's loss and gradient clipping, by hand.

The idea: a recurrent layer produces a<t> for every step; an output layer turns each into a
distribution y_hat<t> = softmax(Wya a<t> + by) over the n_y classes, and the course's loss is
the cross-entropy summed over time steps and over the m examples of the batch,

    L = - sum_t sum_i log y_hat<t>[y<t>_i, i].

Backward through softmax followed by cross-entropy collapses to one subtraction,
dz<t> = y_hat<t> - y<t> (one-hot), and gives `da` (n_a, m, T_x): the gradient of L with respect
to each a<t> coming from outside the recurrence, which is exactly what `rnn_backward`,
`lstm_backward` and `gru_backward` expect (lm.py strings it all into one training step).

This module also holds the two squashing functions the cells share (`softmax`, `sigmoid`) and
`predict_step`, the per-step prediction the cell functions return as yt_pred.

Shapes: a (n_a, m, T_x), Wya (n_y, n_a), by (n_y, 1), y_hat (n_y, m, T_x), targets y either
integer class indices (m, T_x) or one-hot (n_y, m, T_x). Only numpy is imported, so the
reference stays independent of the autodiff engine. Derivations: docs/backward.md.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Params = dict[str, Any]


def softmax(z: np.ndarray) -> np.ndarray:
    """Softmax over axis 0 (the class axis): z (n_y, ...) -> probabilities (n_y, ...).

    softmax(z)_k = exp(z_k - max_j z_j) / sum_j exp(z_j - max_j z_j); subtracting the maximum
    changes nothing mathematically and keeps exp from overflowing for large logits.
    """
    e = np.exp(z - np.max(z, axis=0, keepdims=True))
    return e / np.sum(e, axis=0, keepdims=True)


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function, element-wise: z (any shape) -> sigma(z) = 1 / (1 + exp(-z)), same shape.

    Written as exp(-log(1 + exp(-z))) with logaddexp, which neither overflows nor loses the
    small values in either tail.
    """
    return np.exp(-np.logaddexp(0.0, -z))


def predict_step(at: np.ndarray, parameters: Params) -> np.ndarray | None:
    """One step's prediction: at (n_a, m) -> yt_pred (n_y, m), or None without an output layer.

    yt_pred = softmax(Wya a<t> + by), Wya (n_y, n_a) (key 'Wya', or 'Wy' as in the course's
    LSTM), by (n_y, 1). Cells built only for their hidden states (no output keys) return None.
    """
    W = parameters.get("Wya", parameters.get("Wy"))
    if W is None or "by" not in parameters:
        return None
    return softmax(W @ at + parameters["by"])


def output_forward(a: np.ndarray, Wya: np.ndarray, by: np.ndarray) -> np.ndarray:
    """Output layer at every step: a (n_a, m, T_x), Wya (n_y, n_a), by (n_y, 1) -> (n_y, m, T_x).

    z<t> = Wya a<t> + by                 (n_y, m) for each t
    y_hat<t> = softmax(z<t>)             over axis 0, the class axis
    """
    z = np.einsum("ya,amt->ymt", Wya, a) + by[:, :, None]
    return softmax(z)


def _as_one_hot(y: np.ndarray, n_y: int, dtype: Any) -> np.ndarray:
    """Targets as (n_y, m, T_x) columns: one-hot input passes through, indices (m, T_x) expand."""
    y = np.asarray(y)
    if y.ndim == 3:
        return y
    if y.ndim != 2 or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(
            "targets must be integer class indices of shape (m, T_x) or one-hot of shape "
            f"(n_y, m, T_x); got dtype {y.dtype} and shape {y.shape}"
        )
    return (np.arange(n_y)[:, None, None] == y[None, :, :]).astype(dtype)


def cross_entropy_loss(y_hat: np.ndarray, y: np.ndarray) -> float:
    """Course loss: y_hat (n_y, m, T_x), y indices (m, T_x) or one-hot (n_y, m, T_x) -> float.

    L = - sum_t sum_i sum_k y<t>_{k,i} log y_hat<t>_{k,i}   (summed, not averaged, over t and i)

    With indices this is - sum_t sum_i log y_hat<t>[y<t>_i, i]. A one-hot column of zeros
    contributes nothing, so all-zero columns can mask padded steps.
    """
    Y = _as_one_hot(y, y_hat.shape[0], y_hat.dtype)
    # log only where a target is non-zero, so an exact 0 probability elsewhere is harmless
    return float(-np.sum(Y * np.log(np.where(Y != 0, y_hat, 1.0))))


def output_backward(
    y_hat: np.ndarray, y: np.ndarray, a: np.ndarray, Wya: np.ndarray
) -> dict[str, np.ndarray]:
    """Backward of softmax + cross-entropy: y_hat (n_y, m, T_x), a (n_a, m, T_x) -> grads dict.

    dz<t>  = y_hat<t> * sum_k y<t>_k - y<t>  = y_hat<t> - y<t> for one-hot targets  (n_y, m, T_x)
    dWya   = sum_t dz<t> a<t>^T                                                       (n_y, n_a)
    dby    = sum_t sum_i dz<t>_i                                                      (n_y, 1)
    da<t>  = Wya^T dz<t>, the upstream gradient for the recurrent backward           (n_a, m, T_x)

    y is integer indices (m, T_x) or one-hot (n_y, m, T_x). Returns keys dz, dWya, dby, da.
    """
    Y = _as_one_hot(y, y_hat.shape[0], y_hat.dtype)
    dz = y_hat * np.sum(Y, axis=0, keepdims=True) - Y  # eq. (S1)
    return {
        "dz": dz,
        "dWya": np.einsum("ymt,amt->ya", dz, a),  # eq. (S2)
        "dby": np.sum(dz, axis=(1, 2))[:, None],  # eq. (S3)
        "da": np.einsum("ya,ymt->amt", Wya, dz),  # eq. (S4)
    }


def clip(gradients: dict[str, np.ndarray], max_value: float) -> dict[str, np.ndarray]:
    """Element-wise clipping: {name: array} -> new {name: array}, each in [-max_value, max_value].

    The input dict and its arrays are left untouched (np.clip returns new arrays).
    """
    return {k: np.clip(v, -max_value, max_value) for k, v in gradients.items()}
