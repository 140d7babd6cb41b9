"""The LSTM, forward and backward by hand, in the sequence-models course's notation.

The idea: besides the activation a<t>, an LSTM carries a memory cell c<t> that is updated by
addition, c<t> = Gf * c<t-1> + Gi * c_tilde<t>, so the gradient reaching c<t> flows back to
c<t-1> multiplied only by the forget gate, not squashed through a weight matrix and a tanh at
every step. All four gates read the same concatenation [a<t-1>; x<t>]:

    Gf = sigmoid(Wf [a<t-1>; x<t>] + bf)         forget gate              (ft in code)
    Gi = sigmoid(Wi [a<t-1>; x<t>] + bi)         update (input) gate      (it)
    c_tilde = tanh(Wc [a<t-1>; x<t>] + bc)       candidate                (cct)
    Go = sigmoid(Wo [a<t-1>; x<t>] + bo)         output gate              (ot)
    c<t> = Gf * c<t-1> + Gi * c_tilde
    a<t> = Go * tanh(c<t>)

Backward through one cell: the gradient at c<t> is the one arriving from step t+1 (dc_next)
plus the one through a<t> = Go * tanh(c<t>); each gate then gets its share, every gate's
pre-activation gradient goes through its own matrix back to [a<t-1>; x<t>], and c<t-1> gets
dc * Gf. BPTT carries both da_prev and dc_prev from step to step.

Shapes (column-major batches): x (n_x, m, T_x), a and c (n_a, m, T_x), a0 and c0 (n_a, m).
Parameter dict keys (as in the course):
    Wf, Wi, Wc, Wo (n_a, n_a + n_x), acting on [a_prev; xt] (a_prev's columns first)
    bf, bi, bc, bo (n_a, 1)
    optional output layer Wy (or Wya) (n_y, n_a), by (n_y, 1); without it y is None
Caches are tuples:
    cell cache      (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters)
    sequence caches (list of cell caches, x)

Only numpy (and this package's output.py) is imported. Derivations: docs/backward.md.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .output import predict_step, sigmoid

Params = dict[str, Any]
Cache = tuple[Any, ...]

_GATES = ("f", "i", "c", "o")


def lstm_cell_forward(
    xt: np.ndarray, a_prev: np.ndarray, c_prev: np.ndarray, parameters: Params
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, Cache]:
    """One LSTM step: xt (n_x, m), a_prev, c_prev (n_a, m) -> a_next, c_next, yt_pred, cache.

    concat  = [a_prev; xt]                          (n_a + n_x, m)
    ft      = sigmoid(Wf concat + bf)               (n_a, m)
    it      = sigmoid(Wi concat + bi)               (n_a, m)
    cct     = tanh(Wc concat + bc)                  (n_a, m)
    ot      = sigmoid(Wo concat + bo)               (n_a, m)
    c_next  = ft * c_prev + it * cct                (n_a, m)
    a_next  = ot * tanh(c_next)                     (n_a, m)
    yt_pred = softmax(Wy a_next + by)               (n_y, m), None without an output layer

    cache = (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters).
    """
    concat = np.concatenate([a_prev, xt], axis=0)
    ft = sigmoid(parameters["Wf"] @ concat + parameters["bf"])  # eq. (L1)
    it = sigmoid(parameters["Wi"] @ concat + parameters["bi"])  # eq. (L2)
    cct = np.tanh(parameters["Wc"] @ concat + parameters["bc"])  # eq. (L3)
    ot = sigmoid(parameters["Wo"] @ concat + parameters["bo"])  # eq. (L4)
    c_next = ft * c_prev + it * cct  # eq. (L5)
    a_next = ot * np.tanh(c_next)  # eq. (L6)
    yt_pred = predict_step(a_next, parameters)
    cache = (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters)
    return a_next, c_next, yt_pred, cache


def lstm_forward(
    x: np.ndarray, a0: np.ndarray, parameters: Params, c0: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, tuple[list[Cache], np.ndarray]]:
    """LSTM over T_x steps: x (n_x, m, T_x), a0 (n_a, m) -> a, y, c (n_a, m, T_x), caches.

    a<0> = a0, c<0> = c0 (zeros when not given, as in the course);
    for t = 1..T_x:  a<t>, c<t>, y_hat<t> = lstm_cell_forward(x<t>, a<t-1>, c<t-1>)
    a, c (n_a, m, T_x); y (n_y, m, T_x), None without an output layer.
    caches = (list of the T_x cell caches, x).
    """
    if x.ndim != 3 or x.shape[2] < 1:
        raise ValueError(f"x must have shape (n_x, m, T_x) with T_x >= 1, got {x.shape}")
    c_next = np.zeros_like(a0) if c0 is None else c0
    a_next, a_list, c_list, y_list, caches = a0, [], [], [], []
    for t in range(x.shape[2]):
        a_next, c_next, yt, cache = lstm_cell_forward(x[:, :, t], a_next, c_next, parameters)
        a_list.append(a_next)
        c_list.append(c_next)
        y_list.append(yt)
        caches.append(cache)
    y = None if y_list[0] is None else np.stack(y_list, axis=-1)
    return np.stack(a_list, axis=-1), y, np.stack(c_list, axis=-1), (caches, x)


def lstm_cell_backward(
    da_next: np.ndarray, dc_next: np.ndarray, cache: Cache
) -> dict[str, np.ndarray]:
    """Backward of one LSTM step: da_next, dc_next (n_a, m), cache -> dict of gradients.

    dc   = dc_next + da_next * ot * (1 - tanh(c_next)^2)     total gradient at c_next
    dzo  = da_next * tanh(c_next) * ot * (1 - ot)            pre-activation gradients (n_a, m)
    dzc  = dc * it * (1 - cct^2)
    dzi  = dc * cct * it * (1 - it)
    dzf  = dc * c_prev * ft * (1 - ft)
    dWg  = dzg [a_prev; xt]^T   (n_a, n_a + n_x),  dbg = sum over batch of dzg  (n_a, 1),
           for g in f, i, c, o
    [da_prev; dxt] = Wf^T dzf + Wi^T dzi + Wc^T dzc + Wo^T dzo    (n_a + n_x, m)
    dc_prev = dc * ft                                        (n_a, m)

    Keys: dxt (n_x, m), da_prev, dc_prev (n_a, m), dWf, dbf, dWi, dbi, dWc, dbc, dWo, dbo.
    """
    a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters = cache
    tanh_c = np.tanh(c_next)
    dc = dc_next + da_next * ot * (1 - tanh_c**2)  # eq. (L7)
    dz = {
        "o": da_next * tanh_c * ot * (1 - ot),  # eq. (L8)
        "c": dc * it * (1 - cct**2),  # eq. (L9)
        "i": dc * cct * it * (1 - it),  # eq. (L10)
        "f": dc * c_prev * ft * (1 - ft),  # eq. (L11)
    }
    concat = np.concatenate([a_prev, xt], axis=0)
    grads = {}
    dconcat = 0
    for g in _GATES:
        grads["dW" + g] = dz[g] @ concat.T  # eq. (L12)
        grads["db" + g] = np.sum(dz[g], axis=1, keepdims=True)  # eq. (L13)
        dconcat = dconcat + parameters["W" + g].T @ dz[g]  # eq. (L14)
    n_a = a_prev.shape[0]
    grads["da_prev"] = dconcat[:n_a]
    grads["dxt"] = dconcat[n_a:]
    grads["dc_prev"] = dc * ft  # eq. (L15)
    return grads


def lstm_backward(
    da: np.ndarray, caches: tuple[list[Cache], np.ndarray], dc_last: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """BPTT for the LSTM: da (n_a, m, T_x), caches -> dict of dx, da0, dc0 and parameter grads.

    da[:, :, t] is dL/da<t> from outside the recurrence; dc_last (n_a, m) is an optional
    dL/dc<T_x> from outside (e.g. a loss on the final cell state), zeros by default.
    Walking t = T_x..1:
        da_next<t> = da[:, :, t] + da_prev<t+1>,    dc_next<t> = dc_prev<t+1>
    with da_prev<T_x+1> = 0 and dc_prev<T_x+1> = dc_last; parameter gradients are sums over t.
    Keys: dx (n_x, m, T_x), da0 (n_a, m), dc0 (n_a, m), dWf, dWi, dWc, dWo (n_a, n_a + n_x),
    dbf, dbi, dbc, dbo (n_a, 1).
    """
    cell_caches, _x = caches
    parameters = cell_caches[0][-1]
    names = [p + g for g in _GATES for p in ("W", "b")]
    grads = {
        "d" + k: np.zeros(parameters[k].shape, dtype=np.result_type(parameters[k], da))
        for k in names
    }
    da_prev = np.zeros_like(da[:, :, 0])
    dc_prev = np.zeros_like(da_prev) if dc_last is None else dc_last
    dx_list = []
    for t in reversed(range(da.shape[2])):
        step = lstm_cell_backward(da[:, :, t] + da_prev, dc_prev, cell_caches[t])  # eq. (L16)
        da_prev, dc_prev = step["da_prev"], step["dc_prev"]
        dx_list.append(step["dxt"])
        for k in grads:
            grads[k] += step[k]  # eq. (L17)
    return {"dx": np.stack(dx_list[::-1], axis=-1), "da0": da_prev, "dc0": dc_prev, **grads}
