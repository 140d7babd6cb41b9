"""The benchmarked workload: configurations, shared weights and batch, the agreement check.

The workload is one training step of a character language model: embedding (V, E) -> one
recurrent layer (LSTM, GRU or RNN, hidden H, PyTorch's equations and gate order) -> linear
(H -> V), softmax cross-entropy at every step averaged over the T*N positions, and full BPTT.
Every competitor gets the same weights (PyTorch's names in `PARAM_NAMES`) and the same batch,
and must return the same loss and gradients before it is timed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GATES = {"lstm": 4, "gru": 3, "rnn": 1}
CELLS = tuple(GATES)
# weight names shared by all competitors; shapes in param_shapes()
PARAM_NAMES = ("emb", "w_ih", "w_hh", "b_ih", "b_hh", "w_out", "b_out")
LOSS_RTOL = 1e-4  # |loss - loss_ref| / |loss_ref|
GRAD_RTOL = 1e-3  # max|g - g_ref| / max|g_ref|, per parameter


@dataclass(frozen=True)
class Config:
    """One benchmark shape: vocab V, embedding E, hidden H, batch N, sequence length T."""

    name: str
    H: int
    N: int
    T: int
    V: int = 64
    E: int = 64

    def describe(self) -> str:
        """'B (H=256, N=32, T=64, V=64, E=64)'."""
        return f"{self.name} (H={self.H}, N={self.N}, T={self.T}, V={self.V}, E={self.E})"


# The configurations; the embedding dimension is E = 64 everywhere (= V, the width a
# one-hot input would have), so the input projection costs the same as with one-hot input.
CONFIGS = {
    "A": Config("A", H=64, N=1, T=100),
    "B": Config("B", H=256, N=32, T=64),
    "C": Config("C", H=512, N=64, T=64),
    "D": Config("D", H=128, N=8, T=1000),
}
QUICK = Config("Q", H=16, N=2, T=8, V=11, E=8)  # the CI smoke run


class AgreementError(AssertionError):
    """A competitor's loss or gradients differ from the numpy reference's."""


def param_shapes(cell: str, cfg: Config) -> dict:
    """Parameter name -> shape: emb (V, E), w_ih (G*H, E), w_hh (G*H, H), ..., b_out (V,)."""
    G = GATES[cell] * cfg.H
    return {
        "emb": (cfg.V, cfg.E),
        "w_ih": (G, cfg.E),
        "w_hh": (G, cfg.H),
        "b_ih": (G,),
        "b_hh": (G,),
        "w_out": (cfg.V, cfg.H),
        "b_out": (cfg.V,),
    }


def init_params(cell: str, cfg: Config, dtype=np.float32, seed: int = 0) -> dict:
    """PyTorch-like initial weights: emb N(0, 1), the rest U(-1/sqrt(H), 1/sqrt(H))."""
    rng = np.random.default_rng(seed)
    k = 1.0 / np.sqrt(cfg.H)
    out = {}
    for name, shape in param_shapes(cell, cfg).items():
        arr = rng.standard_normal(shape) if name == "emb" else rng.uniform(-k, k, shape)
        out[name] = np.ascontiguousarray(arr, dtype=dtype)
    return out


def make_batch(cfg: Config, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Random (T, N) int64 inputs and (T, N) int64 next-character targets in [0, V)."""
    rng = np.random.default_rng(seed)
    seq = rng.integers(0, cfg.V, size=(cfg.T + 1, cfg.N), dtype=np.int64)
    return np.ascontiguousarray(seq[:-1]), np.ascontiguousarray(seq[1:])


def max_rel_diff(a: np.ndarray, ref: np.ndarray) -> float:
    """max|a - ref| / max|ref|: the largest error relative to the tensor's scale."""
    a, ref = np.asarray(a, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    if a.shape != ref.shape:
        return float("inf")
    scale = np.abs(ref).max() if ref.size else 0.0
    err = np.abs(a - ref).max() if ref.size else 0.0
    return float(err / scale) if scale > 0 else float(err)


def check_agreement(
    name: str,
    result: tuple,
    reference: tuple,
    loss_rtol: float = LOSS_RTOL,
    grad_rtol: float = GRAD_RTOL,
    names: tuple = PARAM_NAMES,
) -> dict:
    """Compare (loss, grads) with the reference's; raise AgreementError naming what differs.

    names: the parameters to compare (the recurrent model's PARAM_NAMES by default).
    """
    loss, grads = result
    ref_loss, ref_grads = reference
    loss_diff = abs(float(loss) - float(ref_loss)) / max(abs(float(ref_loss)), 1e-30)
    diffs = {"loss": loss_diff}
    problems = []
    if not loss_diff < loss_rtol:  # `not <` also catches nan
        problems.append(f"loss {float(loss):.8g} vs {float(ref_loss):.8g} (rel {loss_diff:.2e})")
    for pname in names:
        if pname not in grads:
            problems.append(f"no gradient for {pname}")
            continue
        d = max_rel_diff(grads[pname], ref_grads[pname])
        diffs[pname] = d
        if not d < grad_rtol:
            problems.append(f"grad {pname} max rel diff {d:.2e}")
    if problems:
        raise AgreementError(
            f"{name} disagrees with numpy_ref (tolerances: loss {loss_rtol:g}, "
            f"grads {grad_rtol:g}): " + "; ".join(problems)
        )
    return diffs
