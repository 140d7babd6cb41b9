"""Shared test helpers: the PyTorch oracle and a one-call parity check."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

import tinygrad_seq as ts


def in_ci() -> bool:
    """True under CI (CI=true), where parity and rendering tests must run, never skip."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_torch() -> Any:
    """The torch module; skips with a reason when absent, but fails in CI (it must be there)."""
    try:
        import torch
    except ImportError:
        if in_ci():
            pytest.fail("torch is not installed in CI; .ci/run installs torch==2.13.0")
        pytest.skip("torch not installed: parity tests need `pip install torch==2.13.0`")
    return torch


def _as_tuple(x: Any) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def check_parity(
    ours: Callable,
    theirs: Callable,
    arrays: Sequence[np.ndarray],
    grad: bool = True,
    atol: float = 1e-10,
    rtol: float = 1e-7,
    seed: int = 0,
) -> None:
    """ours(*Tensors) and theirs(*torch tensors) agree in outputs and input gradients."""
    torch = require_torch()
    ours_in = [ts.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    theirs_in = [torch.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    out_o = _as_tuple(ours(*ours_in))
    out_t = _as_tuple(theirs(*theirs_in))
    assert len(out_o) == len(out_t), f"{len(out_o)} outputs, torch gives {len(out_t)}"
    rng = np.random.default_rng(seed)
    loss_o, loss_t = 0.0, 0.0
    for i, (o, t) in enumerate(zip(out_o, out_t)):
        t_np = t.detach().numpy()
        assert o.shape == tuple(t_np.shape), f"output {i}: shape {o.shape} vs torch {t_np.shape}"
        np.testing.assert_allclose(o.data, t_np, atol=atol, rtol=rtol, err_msg=f"output {i}")
        if grad and o.dtype.kind == "f" and o.requires_grad:
            r = rng.standard_normal(o.shape)
            loss_o = loss_o + (o * ts.tensor(r)).sum()
            loss_t = loss_t + (t * torch.tensor(r)).sum()
    if not grad or isinstance(loss_o, float):
        return
    loss_o.backward()
    loss_t.backward()
    for i, (a, b) in enumerate(zip(ours_in, theirs_in)):
        if b.grad is None:
            assert a.grad is None or not np.any(a.grad.data), f"input {i}: torch has no grad"
            continue
        assert a.grad is not None, f"input {i}: no gradient, torch has one"
        np.testing.assert_allclose(
            a.grad.data, b.grad.numpy(), atol=atol, rtol=rtol, err_msg=f"grad of input {i}"
        )


# (kind, constructor keyword arguments): every recurrent variant the course converters support
KINDS = [
    ("rnn", {}),
    ("rnn", {"nonlinearity": "relu"}),
    ("lstm", {}),
    ("gru", {}),
    ("gru", {"reset_after": False}),
]
KIND_IDS = ["rnn-tanh", "rnn-relu", "lstm", "gru-pytorch", "gru-course"]
LAYERS = {"rnn": ts.nn.RNN, "lstm": ts.nn.LSTM, "gru": ts.nn.GRU}
CELLS = {"rnn": ts.nn.RNNCell, "lstm": ts.nn.LSTMCell, "gru": ts.nn.GRUCell}

# a few words for the character LM of tinygrad_seq.tasks (conftest's tiny_lm is trained on them)
LM_TEXTS = ["anna", "bob", "abba", "ann", "nab", "ba"]
