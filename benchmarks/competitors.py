"""The competitors: a common interface, tinygrad_seq, numpy_ref, the matmul floor, the registry.

A competitor is built from (cell, params, x, y). `step()` is the timed call: one full training
step (forward, loss, backward) whose gradients land where `result()` reads them as numpy arrays
keyed by `common.PARAM_NAMES`. The matmul floor has no result: it only times the matmuls.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .common import GATES
from .numpy_ref import NumpyRef


class Competitor:
    """Base: step() runs one training step; result() -> (loss, grads) of the last step."""

    name = "?"

    def step(self) -> None:
        """One training step: forward over the sequence, loss, full BPTT backward."""
        raise NotImplementedError

    def result(self) -> tuple[float, dict] | None:
        """(loss, {param name: gradient ndarray}) of the last step; None if not a model."""
        raise NotImplementedError


class NumpyRefCompetitor(Competitor):
    """The hand-written numpy step with buffers preallocated once (benchmarks.numpy_ref)."""

    name = "numpy_ref"

    def __init__(self, cell: str, params: dict, x: np.ndarray, y: np.ndarray):
        self.ws = NumpyRef(cell, params, x, y)
        self.out: tuple | None = None

    def step(self) -> None:
        """Forward + BPTT into the preallocated workspace."""
        self.out = self.ws.step()

    def result(self) -> tuple[float, dict]:
        """(loss, grads); the grads are the workspace's buffers."""
        return self.out


class TinygradSeqCompetitor(Competitor):
    """tinygrad_seq: nn.Embedding -> nn.LSTM/GRU/RNN -> nn.Linear, F.cross_entropy, backward."""

    name = "tinygrad_seq"
    fused = False

    def __init__(self, cell: str, params: dict, x: np.ndarray, y: np.ndarray):
        import tinygrad_seq.functional as F
        from tinygrad_seq import nn, tensor

        self.F = F
        V, E = params["emb"].shape
        H = params["w_hh"].shape[1]
        layer = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[cell]
        self.emb, self.out = nn.Embedding(V, E), nn.Linear(H, V)
        self.rnn = layer(E, H, fused=self.fused)
        self.named = {
            "emb": self.emb.weight,
            "w_ih": self.rnn.weight_ih_l0,
            "w_hh": self.rnn.weight_hh_l0,
            "b_ih": self.rnn.bias_ih_l0,
            "b_hh": self.rnn.bias_hh_l0,
            "w_out": self.out.weight,
            "b_out": self.out.bias,
        }
        for name, p in self.named.items():
            p.data = tensor(params[name])  # a copy: same values and dtype as the reference
        self.x, self.y = x, y.reshape(-1)
        self.V = V
        self.loss = None

    def step(self) -> None:
        """zero_grad (set to None), forward, cross-entropy over all T*N positions, backward."""
        for p in self.named.values():
            p.grad = None
        hs, _ = self.rnn(self.emb(self.x))
        logits = self.out(hs)
        loss = self.F.cross_entropy(logits.reshape(-1, self.V), self.y)
        loss.backward()
        self.loss = loss.item()  # the graph is dropped here, inside the timed step

    def result(self) -> tuple[float, dict]:
        """(loss, grads) read from the Parameters' .grad."""
        return self.loss, {k: p.grad.numpy() for k, p in self.named.items()}


class TinygradSeqFusedCompetitor(TinygradSeqCompetitor):
    """tinygrad_seq with fused=True: one hand-derived op per time step."""

    name = "tinygrad_seq_fused"
    fused = True


class MatmulFloor(Competitor):
    """Only the matmuls of forward + backward, same shapes, preallocated: the BLAS floor."""

    name = "matmul_floor"

    def __init__(self, cell: str, params: dict, x: np.ndarray, y: np.ndarray):
        T, N = x.shape
        V, E = params["emb"].shape
        H = params["w_hh"].shape[1]
        G = GATES[cell] * H
        dt = params["emb"].dtype
        rng = np.random.default_rng(0)

        def rand(*shape: int) -> np.ndarray:
            """Standard-normal array of `shape` in the weights' dtype."""
            return rng.standard_normal(shape).astype(dt)

        self.T = T
        self.X, self.A, self.Hs = rand(T * N, E), rand(T * N, G), rand(T + 1, N, H)
        self.w_ih, self.w_hh, self.w_out = params["w_ih"], params["w_hh"], params["w_out"]
        self.whh_t = np.ascontiguousarray(self.w_hh.T)  # the fast layout for h @ W_hh^T
        self.P, self.dH, self.tmp, self.rec = rand(T * N, V), rand(T * N, H), rand(N, G), rand(N, H)
        self.g_ih, self.g_hh, self.g_out = rand(G, E), rand(G, H), rand(V, H)

    def step(self) -> None:
        """Input projection, T recurrent matmuls, output layer; and their backward matmuls."""
        T, A, X, Hs = self.T, self.A, self.X, self.Hs
        At = A.reshape(T, -1, A.shape[1])
        h2d = Hs[1:].reshape(-1, Hs.shape[2])
        np.matmul(X, self.w_ih.T, out=A)
        for t in range(T):
            np.matmul(Hs[t], self.whh_t, out=self.tmp)
        np.matmul(h2d, self.w_out.T, out=self.P)
        np.matmul(self.P.T, h2d, out=self.g_out)
        np.matmul(self.P, self.w_out, out=self.dH)
        for t in range(T - 1, 0, -1):
            np.matmul(At[t], self.w_hh, out=self.rec)
        np.matmul(A.T, Hs[:-1].reshape(-1, Hs.shape[2]), out=self.g_hh)
        np.matmul(A.T, X, out=self.g_ih)
        np.matmul(A, self.w_ih, out=X)

    def result(self) -> None:
        """The floor computes no model."""
        return None


def _external(attr: str) -> Callable:
    def build(cell: str, params: dict, x: np.ndarray, y: np.ndarray) -> Competitor:
        """Import benchmarks.external only now: torch and autograd load on demand."""
        from . import external

        return getattr(external, attr)(cell, params, x, y)

    return build


# name -> (builder, module that must be importable)
REGISTRY: dict = {
    "numpy_ref": (NumpyRefCompetitor, None),
    "tinygrad_seq": (TinygradSeqCompetitor, "tinygrad_seq"),
    "tinygrad_seq_fused": (TinygradSeqFusedCompetitor, "tinygrad_seq"),
    "hips_autograd": (_external("HipsAutograd"), "autograd"),
    "torch_nn": (_external("TorchLayer"), "torch"),
    "torch_cell_loop": (_external("TorchCellLoop"), "torch"),
    "matmul_floor": (MatmulFloor, None),
}
COMPETITORS = tuple(REGISTRY)


def available(name: str) -> bool:
    """True when the competitor's library can be imported."""
    import importlib.util

    module = REGISTRY[name][1]
    return module is None or importlib.util.find_spec(module) is not None


def build(name: str, cell: str, params: dict, x: np.ndarray, y: np.ndarray) -> Competitor:
    """The competitor `name` set up with these weights and this batch."""
    return REGISTRY[name][0](cell, params, x, y)
