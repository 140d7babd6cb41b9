"""The GRU, forward and backward by hand, in two variants, in the course's notation.

The idea: the GRU's memory cell c<t> is also its activation (a<t> = c<t>). Each step computes
a candidate c_tilde and moves c a fraction Gu of the way towards it,

    c<t> = Gu * c_tilde + (1 - Gu) * c<t-1>,

so when Gu is near 0 the state (and its gradient) passes through almost unchanged. Two gates
read [c<t-1>; x<t>] (c_prev's columns first):

    Gr = sigmoid(Wr [c<t-1>; x<t>] + br)          relevance (reset) gate
    Gu = sigmoid(Wu [c<t-1>; x<t>] + bu)          update gate

The two variants differ only in where Gr enters the candidate:

variant='course'  (the course, the original paper, Keras reset_after=False): Gr scales the
    previous state BEFORE the matrix product,
        c_tilde = tanh(Wc [Gr * c<t-1>; x<t>] + bc)
    keys: Wr, Wu, Wc (n_a, n_a + n_x); br, bu, bc (n_a, 1).

variant='pytorch' (torch.nn.GRU, cuDNN, Keras reset_after=True): Gr scales the hidden part
    AFTER the matrix product, bias included,
        c_tilde = tanh(Wcx x<t> + bc + Gr * (Wcc c<t-1> + bhc))
    keys: Wr, Wu (n_a, n_a + n_x); br, bu (n_a, 1); Wcc (n_a, n_a) on c<t-1>; Wcx (n_a, n_x)
    on x<t>; bc (n_a, 1) the input-side candidate bias; bhc (n_a, 1) the hidden-side candidate
    bias, which sits inside Gr * (...) and so cannot be folded into bc.

    Relation to PyTorch's GRU (h = c, gate order r, z, n; W_i* (n_a, n_x), W_h* (n_a, n_a)):
        Wr  = [W_hr, W_ir]           br  = b_ir + b_hr         (these two biases do fold)
        Wu  = -[W_hz, W_iz]          bu  = -(b_iz + b_hz)      (sign flipped, see below)
        Wcc = W_hn   bhc = b_hn      Wcx = W_in   bc = b_in
    PyTorch writes h' = (1 - z) * n + z * h. With Gu = 1 - z the course's update rule holds
    unchanged, and since 1 - sigmoid(s) = sigmoid(-s), Gu is a sigmoid of the NEGATED z
    pre-activation: hence the minus signs on Wu and bu. Going back to PyTorch, any split
    of br (or -bu) between b_i* and b_h* gives the same function.

Both variants share the function names; pass variant=... to the forward functions and the
backward functions read it from the cache. An optional output layer Wya (or Wy) (n_y, n_a),
by (n_y, 1) gives yt_pred; without it the predictions are None.

Shapes (column-major batches): x (n_x, m, T_x), a = c (n_a, m, T_x), a0 (n_a, m).
Caches are tuples:
    cell cache      (c_next, c_prev, xt, gr, gu, cct, hc, parameters, variant), where hc is
                    Wcc c_prev + bhc for the pytorch variant and None for the course's
    sequence caches (list of cell caches, x)

Only numpy (and this package's output.py) is imported. Derivations: docs/backward.md.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .output import predict_step, sigmoid

Params = dict[str, Any]
Cache = tuple[Any, ...]

VARIANT_KEYS = {
    "course": ("Wr", "br", "Wu", "bu", "Wc", "bc"),
    "pytorch": ("Wr", "br", "Wu", "bu", "Wcc", "Wcx", "bc", "bhc"),
}


def _check_variant(variant: str) -> None:
    if variant not in VARIANT_KEYS:
        raise ValueError(f"variant must be 'course' or 'pytorch', got {variant!r}")


def gru_cell_forward(
    xt: np.ndarray, c_prev: np.ndarray, parameters: Params, variant: str = "course"
) -> tuple[np.ndarray, np.ndarray | None, Cache]:
    """One GRU step: xt (n_x, m), c_prev (n_a, m) -> c_next (n_a, m), yt_pred (n_y, m), cache.

    concat  = [c_prev; xt]                                     (n_a + n_x, m)
    gr      = sigmoid(Wr concat + br),  gu = sigmoid(Wu concat + bu)          (n_a, m)
    course:   cct = tanh(Wc [gr * c_prev; xt] + bc)                           (n_a, m)
    pytorch:  hc = Wcc c_prev + bhc,  cct = tanh(Wcx xt + bc + gr * hc)       (n_a, m)
    c_next  = gu * cct + (1 - gu) * c_prev   (= a_next)                       (n_a, m)
    yt_pred = softmax(Wya c_next + by)       (n_y, m), None without an output layer

    cache = (c_next, c_prev, xt, gr, gu, cct, hc, parameters, variant).
    """
    _check_variant(variant)
    concat = np.concatenate([c_prev, xt], axis=0)
    gr = sigmoid(parameters["Wr"] @ concat + parameters["br"])  # eq. (G1)
    gu = sigmoid(parameters["Wu"] @ concat + parameters["bu"])  # eq. (G2)
    if variant == "course":
        hc = None
        gated = np.concatenate([gr * c_prev, xt], axis=0)
        cct = np.tanh(parameters["Wc"] @ gated + parameters["bc"])  # eq. (G3)
    else:
        hc = parameters["Wcc"] @ c_prev + parameters["bhc"]  # eq. (G3p)
        cct = np.tanh(parameters["Wcx"] @ xt + parameters["bc"] + gr * hc)  # eq. (G4p)
    c_next = gu * cct + (1 - gu) * c_prev  # eq. (G5)
    yt_pred = predict_step(c_next, parameters)
    return c_next, yt_pred, (c_next, c_prev, xt, gr, gu, cct, hc, parameters, variant)


def gru_forward(
    x: np.ndarray, a0: np.ndarray, parameters: Params, variant: str = "course"
) -> tuple[np.ndarray, np.ndarray | None, tuple[list[Cache], np.ndarray]]:
    """GRU over T_x steps: x (n_x, m, T_x), a0 (n_a, m) -> a (n_a, m, T_x), y_pred, caches.

    c<0> = a0;  for t = 1..T_x:  c<t>, y_hat<t> = gru_cell_forward(x<t>, c<t-1>, variant)
    a (n_a, m, T_x) stacks a<t> = c<t>; y_pred (n_y, m, T_x), None without an output layer.
    caches = (list of the T_x cell caches, x).
    """
    _check_variant(variant)
    if x.ndim != 3 or x.shape[2] < 1:
        raise ValueError(f"x must have shape (n_x, m, T_x) with T_x >= 1, got {x.shape}")
    c_next, a_list, y_list, caches = a0, [], [], []
    for t in range(x.shape[2]):
        c_next, yt_pred, cache = gru_cell_forward(x[:, :, t], c_next, parameters, variant)
        a_list.append(c_next)
        y_list.append(yt_pred)
        caches.append(cache)
    y_pred = None if y_list[0] is None else np.stack(y_list, axis=-1)
    return np.stack(a_list, axis=-1), y_pred, (caches, x)


def _course_candidate_backward(dzc, c_prev, xt, gr, parameters):
    """Course candidate cct = tanh(Wc [gr * c_prev; xt] + bc), given dzc = dL/d(pre-tanh).

    Returns (parameter grads, d gr, the part of dc_prev, the part of dxt).
    """
    n_a = c_prev.shape[0]
    gated = np.concatenate([gr * c_prev, xt], axis=0)
    grads = {
        "dWc": dzc @ gated.T,  # eq. (G8)
        "dbc": np.sum(dzc, axis=1, keepdims=True),  # eq. (G9)
    }
    dgated = parameters["Wc"].T @ dzc  # eq. (G10)
    d_gr_c = dgated[:n_a]  # gradient at the product gr * c_prev
    return grads, d_gr_c * c_prev, d_gr_c * gr, dgated[n_a:]  # eq. (G11)


def _pytorch_candidate_backward(dzc, c_prev, xt, gr, hc, parameters):
    """PyTorch candidate cct = tanh(Wcx xt + bc + gr * (Wcc c_prev + bhc)), given dzc.

    Returns (parameter grads, d gr, the part of dc_prev, the part of dxt).
    """
    dhc = dzc * gr  # eq. (G8p)
    grads = {
        "dWcx": dzc @ xt.T,  # eq. (G9p)
        "dbc": np.sum(dzc, axis=1, keepdims=True),
        "dWcc": dhc @ c_prev.T,  # eq. (G10p)
        "dbhc": np.sum(dhc, axis=1, keepdims=True),
    }
    dgr = dzc * hc  # eq. (G11p)
    return grads, dgr, parameters["Wcc"].T @ dhc, parameters["Wcx"].T @ dzc  # eq. (G12p)


def gru_cell_backward(dc_next: np.ndarray, cache: Cache) -> dict[str, np.ndarray]:
    """Backward of one GRU step: dc_next (n_a, m), cache -> dict of dxt, da_prev and d<param>.

    dzc  = dc_next * gu * (1 - cct^2)                    pre-tanh gradient of the candidate
    dzu  = dc_next * (cct - c_prev) * gu * (1 - gu)      pre-sigmoid gradient of Gu
    course:  [dg; dxt_c] = Wc^T dzc,  dgr = dg * c_prev,  dc_prev_c = dg * gr
             dWc = dzc [gr * c_prev; xt]^T,  dbc = sum dzc
    pytorch: dhc = dzc * gr,  dgr = dzc * hc,  dc_prev_c = Wcc^T dhc,  dxt_c = Wcx^T dzc
             dWcx = dzc xt^T, dbc = sum dzc, dWcc = dhc c_prev^T, dbhc = sum dhc
    dzr  = dgr * gr * (1 - gr)
    dWr  = dzr [c_prev; xt]^T,  dWu = dzu [c_prev; xt]^T,  dbr = sum dzr,  dbu = sum dzu
    [dc_g; dxt_g] = Wr^T dzr + Wu^T dzu
    da_prev = dc_next * (1 - gu) + dc_prev_c + dc_g,    dxt = dxt_c + dxt_g

    Sums are over the batch (axis 1). Keys: dxt (n_x, m), da_prev (n_a, m) and 'd' + every
    parameter key of the variant, each shaped like its parameter.
    """
    c_next, c_prev, xt, gr, gu, cct, hc, parameters, variant = cache
    dzc = dc_next * gu * (1 - cct**2)  # eq. (G6)
    dzu = dc_next * (cct - c_prev) * gu * (1 - gu)  # eq. (G7)
    if variant == "course":
        grads, dgr, dc_cand, dx_cand = _course_candidate_backward(dzc, c_prev, xt, gr, parameters)
    else:
        grads, dgr, dc_cand, dx_cand = _pytorch_candidate_backward(
            dzc, c_prev, xt, gr, hc, parameters
        )
    dzr = dgr * gr * (1 - gr)  # eq. (G13)
    concat = np.concatenate([c_prev, xt], axis=0)
    grads["dWr"] = dzr @ concat.T  # eq. (G14)
    grads["dbr"] = np.sum(dzr, axis=1, keepdims=True)
    grads["dWu"] = dzu @ concat.T  # eq. (G15)
    grads["dbu"] = np.sum(dzu, axis=1, keepdims=True)
    dconcat = parameters["Wr"].T @ dzr + parameters["Wu"].T @ dzu  # eq. (G16)
    n_a = c_prev.shape[0]
    grads["da_prev"] = dc_next * (1 - gu) + dc_cand + dconcat[:n_a]  # eq. (G17)
    grads["dxt"] = dx_cand + dconcat[n_a:]  # eq. (G18)
    return grads


def gru_backward(da: np.ndarray, caches: tuple[list[Cache], np.ndarray]) -> dict[str, np.ndarray]:
    """BPTT for the GRU: da (n_a, m, T_x), caches -> dict of dx, da0 and d<param>.

    da[:, :, t] is dL/da<t> (= dL/dc<t>) from outside the recurrence. Walking t = T_x..1:
        dc_next<t> = da[:, :, t] + da_prev<t+1>        (da_prev<T_x+1> = 0)
    and every parameter gradient is the sum over t of the per-step gradients.
    Keys: dx (n_x, m, T_x), da0 (n_a, m), and 'd' + each key of the variant used in the
    forward pass (course: Wr br Wu bu Wc bc; pytorch: Wr br Wu bu Wcc Wcx bc bhc).
    """
    cell_caches, _x = caches
    parameters, variant = cell_caches[0][-2], cell_caches[0][-1]
    grads = {
        "d" + k: np.zeros(parameters[k].shape, dtype=np.result_type(parameters[k], da))
        for k in VARIANT_KEYS[variant]
    }
    da_prev = np.zeros_like(da[:, :, 0])
    dx_list = []
    for t in reversed(range(da.shape[2])):
        step = gru_cell_backward(da[:, :, t] + da_prev, cell_caches[t])  # eq. (G19)
        da_prev = step["da_prev"]
        dx_list.append(step["dxt"])
        for k in grads:
            grads[k] += step[k]  # eq. (G20)
    return {"dx": np.stack(dx_list[::-1], axis=-1), "da0": da_prev, **grads}
