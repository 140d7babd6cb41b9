"""Tests of tinygrad_seq.manual.gru: both GRU variants' hand-derived backward against central
finite differences, and the PyTorch variant against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import require_torch
from manual_helpers import (
    SHAPES,
    check_against_torch,
    check_all,
    d,
    gru_params,
    ih_hh,
    torch_weights,
)

from tinygrad_seq.manual import gru_backward, gru_cell_backward, gru_cell_forward, gru_forward


@pytest.mark.parametrize("variant", ["course", "pytorch"])
@pytest.mark.parametrize("n_x,n_a,m,T_x", SHAPES)
def test_gru_cell_backward(n_x, n_a, m, T_x, variant):
    rng = np.random.default_rng(6)
    p = gru_params(rng, n_x, n_a, variant)
    xt, c_prev = rng.standard_normal((n_x, m)), rng.standard_normal((n_a, m))
    R = rng.standard_normal((n_a, m))

    def loss():
        return np.sum(gru_cell_forward(xt, c_prev, p, variant)[0] * R)

    grads = gru_cell_backward(R, gru_cell_forward(xt, c_prev, p, variant)[2])
    check_all(loss, {"dxt": xt, "da_prev": c_prev, **d(p)}, grads)


@pytest.mark.parametrize("variant", ["course", "pytorch"])
@pytest.mark.parametrize("n_x,n_a,m,T_x", SHAPES)
def test_gru_backward(n_x, n_a, m, T_x, variant):
    rng = np.random.default_rng(7)
    p = gru_params(rng, n_x, n_a, variant)
    x, a0 = rng.standard_normal((n_x, m, T_x)), rng.standard_normal((n_a, m))
    R = rng.standard_normal((n_a, m, T_x))

    def loss():
        return np.sum(gru_forward(x, a0, p, variant=variant)[0] * R)

    grads = gru_backward(R, gru_forward(x, a0, p, variant=variant)[2])
    assert set(grads) == {"dx", "da0", *d(p)}
    check_all(loss, {"dx": x, "da0": a0, **d(p)}, grads)


def test_gru_variants_differ_only_in_the_candidate():
    # with Gr = 1 everywhere (large br) and bhc = 0, reset before or after the matmul agree
    rng = np.random.default_rng(8)
    n_x, n_a = 3, 2
    course = gru_params(rng, n_x, n_a, "course")
    course["br"] = np.full((n_a, 1), 60.0)
    pytorch = {k: course[k] for k in ("Wr", "br", "Wu", "bu", "bc")}
    pytorch.update(Wcc=course["Wc"][:, :n_a], Wcx=course["Wc"][:, n_a:], bhc=np.zeros((n_a, 1)))
    x, a0 = rng.standard_normal((n_x, 4, 3)), rng.standard_normal((n_a, 4))
    a_course = gru_forward(x, a0, course, variant="course")[0]
    a_torch = gru_forward(x, a0, pytorch, variant="pytorch")[0]
    np.testing.assert_allclose(a_course, a_torch, rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="variant"):
        gru_forward(x, a0, course, variant="keras")


@pytest.mark.parity
def test_gru_pytorch_variant_matches_torch():
    torch = require_torch()
    torch.manual_seed(2)
    n_a = 4
    gru = torch.nn.GRU(3, n_a).double()
    w_ih, w_hh, b_ih, b_hh = torch_weights(gru)
    r, z, n = (slice(k * n_a, (k + 1) * n_a) for k in range(3))  # PyTorch's order r, z, n
    p = {  # the mapping documented in manual/gru.py: Gu = 1 - z, hence the minus signs
        "Wr": np.hstack([w_hh[r], w_ih[r]]),
        "br": (b_ih[r] + b_hh[r])[:, None],
        "Wu": -np.hstack([w_hh[z], w_ih[z]]),
        "bu": -(b_ih[z] + b_hh[z])[:, None],
        "Wcc": w_hh[n],
        "Wcx": w_ih[n],
        "bc": b_ih[n][:, None],
        "bhc": b_hh[n][:, None],
    }

    def run(x, states, R, Rc):
        a, _, caches = gru_forward(x, states[0], p, variant="pytorch")
        return a, gru_backward(R, caches)

    def to_torch(g):
        (r_ih, r_hh), (u_ih, u_hh) = ih_hh(g["dWr"], n_a), ih_hh(g["dWu"], n_a)
        return {
            "weight_ih_l0": np.vstack([r_ih, -u_ih, g["dWcx"]]),
            "weight_hh_l0": np.vstack([r_hh, -u_hh, g["dWcc"]]),
            "bias_ih_l0": np.concatenate([g["dbr"], -g["dbu"], g["dbc"]])[:, 0],
            "bias_hh_l0": np.concatenate([g["dbr"], -g["dbu"], g["dbhc"]])[:, 0],
        }

    check_against_torch(gru, 1, run, to_torch)
