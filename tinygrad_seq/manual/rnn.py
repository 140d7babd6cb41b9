"""The basic RNN, forward and backward by hand, in the sequence-models course's notation.

The idea: one cell maps the input x<t> and the previous activation a<t-1> to

    a<t> = g(Waa a<t-1> + Wax x<t> + ba),     g = tanh (the course) or relu (PyTorch allows it),

and, when the parameters carry an output layer, predicts y_hat<t> = softmax(Wya a<t> + by).
The same parameters are used at every time step. Backward through one cell is the chain rule
through g and two matrix products. Backward through the whole sequence (backpropagation through
time, BPTT) walks t = T_x, ..., 1; at each step the gradient reaching a<t> is the sum of the
part coming from outside the recurrence (the output layer: da[:, :, t]) and the part coming
back from step t+1 through a<t> (that step's da_prev). Because the parameters are shared, their
gradients are the sums over time of the per-step gradients.

Shapes (column-major batches, as in the course):
    x (n_x, m, T_x), a (n_a, m, T_x), a0 (n_a, m), y_pred (n_y, m, T_x)
Parameter dict keys:
    Wax (n_a, n_x), Waa (n_a, n_a), ba (n_a, 1)
    optional output layer Wya (n_y, n_a), by (n_y, 1)  (without it, yt_pred/y_pred are None)
    optional 'nonlinearity': 'tanh' (default) or 'relu' (a keyword argument overrides it)
Caches are tuples:
    cell cache      (a_next, a_prev, xt, parameters, nonlinearity)
    sequence caches (list of cell caches, x)

Only numpy (and this package's output.py) is imported, so the module stays an independent
reference for the autodiff engine. The derivation of every line: docs/backward.md.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .output import predict_step

Params = dict[str, Any]
Cache = tuple[Any, ...]

_NONLINEARITIES = ("tanh", "relu")


def _nonlinearity(parameters: Params, nonlinearity: str | None) -> str:
    """The keyword wins, then parameters['nonlinearity'], then the course's tanh."""
    name = nonlinearity if nonlinearity is not None else parameters.get("nonlinearity", "tanh")
    if name not in _NONLINEARITIES:
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {name!r}")
    return name


def _zeros_for(param: np.ndarray, da: np.ndarray) -> np.ndarray:
    """A zero accumulator shaped like a parameter, in the dtype the gradients will have."""
    return np.zeros(param.shape, dtype=np.result_type(param, da))


def rnn_cell_forward(
    xt: np.ndarray, a_prev: np.ndarray, parameters: Params, nonlinearity: str | None = None
) -> tuple[np.ndarray, np.ndarray | None, Cache]:
    """One RNN step: xt (n_x, m), a_prev (n_a, m) -> a_next (n_a, m), yt_pred (n_y, m), cache.

    z       = Waa a_prev + Wax xt + ba          (n_a, m)
    a_next  = g(z),  g = tanh or relu           (n_a, m)
    yt_pred = softmax(Wya a_next + by)          (n_y, m), softmax over axis 0; None without Wya

    Wax (n_a, n_x), Waa (n_a, n_a), ba (n_a, 1), Wya (n_y, n_a), by (n_y, 1).
    cache = (a_next, a_prev, xt, parameters, nonlinearity).
    """
    g = _nonlinearity(parameters, nonlinearity)
    z = parameters["Waa"] @ a_prev + parameters["Wax"] @ xt + parameters["ba"]
    a_next = np.tanh(z) if g == "tanh" else np.maximum(z, 0)  # eq. (R1)
    yt_pred = predict_step(a_next, parameters)  # eq. (R2)
    return a_next, yt_pred, (a_next, a_prev, xt, parameters, g)


def rnn_forward(
    x: np.ndarray, a0: np.ndarray, parameters: Params, nonlinearity: str | None = None
) -> tuple[np.ndarray, np.ndarray | None, tuple[list[Cache], np.ndarray]]:
    """RNN over T_x steps: x (n_x, m, T_x), a0 (n_a, m) -> a (n_a, m, T_x), y_pred, caches.

    a<0> = a0;  for t = 1..T_x:  a<t>, y_hat<t> = rnn_cell_forward(x<t>, a<t-1>)
    a (n_a, m, T_x) stacks a<1..T_x>; y_pred (n_y, m, T_x) stacks y_hat<t> (None without Wya).
    caches = (list of the T_x cell caches, x).
    """
    if x.ndim != 3 or x.shape[2] < 1:
        raise ValueError(f"x must have shape (n_x, m, T_x) with T_x >= 1, got {x.shape}")
    g = _nonlinearity(parameters, nonlinearity)
    a_next, a_list, y_list, caches = a0, [], [], []
    for t in range(x.shape[2]):
        a_next, yt_pred, cache = rnn_cell_forward(x[:, :, t], a_next, parameters, g)
        a_list.append(a_next)
        y_list.append(yt_pred)
        caches.append(cache)
    y_pred = None if y_list[0] is None else np.stack(y_list, axis=-1)
    return np.stack(a_list, axis=-1), y_pred, (caches, x)


def rnn_cell_backward(da_next: np.ndarray, cache: Cache) -> dict[str, np.ndarray]:
    """Backward of one RNN step: da_next (n_a, m), cache -> dict of dxt, da_prev, dWax, dWaa, dba.

    dz      = da_next * g'(z);  tanh: (1 - a_next^2),  relu: 1[a_next > 0]      (n_a, m)
    dxt     = Wax^T dz                                                           (n_x, m)
    da_prev = Waa^T dz                                                           (n_a, m)
    dWax    = dz xt^T                                                            (n_a, n_x)
    dWaa    = dz a_prev^T                                                        (n_a, n_a)
    dba     = sum over the batch of dz                                           (n_a, 1)

    da_next is the total gradient of the loss with respect to a_next (n_a, m).
    """
    a_next, a_prev, xt, parameters, g = cache
    if g == "tanh":
        dz = da_next * (1 - a_next**2)  # eq. (R3)
    else:
        dz = da_next * (a_next > 0)  # eq. (R3r)
    return {
        "dxt": parameters["Wax"].T @ dz,  # eq. (R4)
        "da_prev": parameters["Waa"].T @ dz,  # eq. (R5)
        "dWax": dz @ xt.T,  # eq. (R6)
        "dWaa": dz @ a_prev.T,  # eq. (R7)
        "dba": np.sum(dz, axis=1, keepdims=True),  # eq. (R8)
    }


def rnn_backward(da: np.ndarray, caches: tuple[list[Cache], np.ndarray]) -> dict[str, np.ndarray]:
    """BPTT for the RNN: da (n_a, m, T_x), caches -> dict of dx, da0, dWax, dWaa, dba.

    da[:, :, t] is dL/da<t> from outside the recurrence (e.g. output_backward's da).
    Walking t = T_x..1, the total gradient at a<t> is
        da_next<t> = da[:, :, t] + da_prev<t+1>          (da_prev<T_x+1> = 0)
    and the shared parameters collect the sum over time,
        dWax = sum_t dWax<t>,  dWaa = sum_t dWaa<t>,  dba = sum_t dba<t>.
    dx (n_x, m, T_x) stacks dxt<t>; da0 (n_a, m) is the da_prev of step 1.
    Shapes: dWax (n_a, n_x), dWaa (n_a, n_a), dba (n_a, 1).
    """
    cell_caches, _x = caches
    parameters = cell_caches[0][3]
    grads = {"d" + k: _zeros_for(parameters[k], da) for k in ("Wax", "Waa", "ba")}
    da_prev = np.zeros_like(da[:, :, 0])
    dx_list = []
    for t in reversed(range(da.shape[2])):
        step = rnn_cell_backward(da[:, :, t] + da_prev, cell_caches[t])  # eq. (R9)
        da_prev = step["da_prev"]
        dx_list.append(step["dxt"])
        for k in grads:
            grads[k] += step[k]  # eq. (R10)
    return {"dx": np.stack(dx_list[::-1], axis=-1), "da0": da_prev, **grads}
