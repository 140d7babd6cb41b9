"""The Transformer configuration: its competitors and its run, beside the recurrent cells'.

Competitors: the hand-written numpy step (`transformer_ref.train_step`, the reference),
tinygrad_seq (`tasks.CharLM(cell="transformer")`: nn.TransformerEncoder and friends), PyTorch's
nn layers built the same way, and the matmul floor (only the matmuls of forward and backward,
same shapes, preallocated). Every one loads the same state dict and batch, and must agree with
the reference (common.check_agreement) before it is timed, as the recurrent competitors do.
"""

from __future__ import annotations

import numpy as np

from .common import check_agreement, make_batch
from .competitors import Competitor
from .transformer_ref import TConfig, init_params, train_step


class NumpyTransformer(Competitor):
    """The hand-derived numpy forward and backward of transformer_ref."""

    name = "numpy_ref"

    def __init__(self, cfg: TConfig, params: dict, x: np.ndarray, y: np.ndarray):
        self.cfg, self.params, self.x, self.y = cfg, params, x, y
        self.out: tuple | None = None

    def step(self) -> None:
        """Forward, loss and backward by hand."""
        self.out = train_step(self.params, self.x, self.y, self.cfg)

    def result(self) -> tuple[float, dict]:
        """(loss, grads by state_dict name)."""
        return self.out


class TinygradSeqTransformer(Competitor):
    """tinygrad_seq: CharLM(cell='transformer'), F.cross_entropy, backward."""

    name = "tinygrad_seq"

    def __init__(self, cfg: TConfig, params: dict, x: np.ndarray, y: np.ndarray):
        import tinygrad_seq as ts
        from tinygrad_seq.tasks import CharLM

        self.F = ts.nn.functional
        self.model = CharLM(
            cfg.V, cfg.d, "transformer", cfg.layers, nhead=cfg.heads,
            dim_feedforward=cfg.ff, max_len=cfg.T,
        )  # fmt: skip
        self.model.to(ts.float64 if params["head.bias"].dtype == np.float64 else ts.float32)
        self.model.load_state_dict({k: ts.tensor(v) for k, v in params.items()})
        self.x, self.y, self.V = ts.tensor(x), ts.tensor(y.reshape(-1)), cfg.V
        self.loss = None

    def step(self) -> None:
        """zero_grad (set to None), forward, cross-entropy over all T*N positions, backward."""
        self.model.zero_grad(set_to_none=True)
        logits, _ = self.model(self.x)
        loss = self.F.cross_entropy(logits.reshape(-1, self.V), self.y)
        loss.backward()
        self.loss = loss.item()

    def result(self) -> tuple[float, dict]:
        """(loss, grads) read from the parameters' .grad."""
        return self.loss, {k: p.grad.numpy() for k, p in self.model.named_parameters()}


def torch_model(torch, cfg: TConfig):
    """CharLM's transformer written with torch.nn (the same state_dict names)."""
    nn = torch.nn

    class Body(nn.Module):
        def __init__(self):
            super().__init__()
            self.pos = nn.Embedding(cfg.T, cfg.d)
            layer = nn.TransformerEncoderLayer(cfg.d, cfg.heads, cfg.ff, 0.0, norm_first=True)
            self.encoder = nn.TransformerEncoder(
                layer, cfg.layers, norm=nn.LayerNorm(cfg.d), enable_nested_tensor=False
            )

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(cfg.V, cfg.d)
            self.transformer = Body()
            self.head = nn.Linear(cfg.d, cfg.V)

        def forward(self, x):
            L = x.shape[0]
            z = self.embedding(x) + self.transformer.pos(torch.arange(L))[:, None, :]
            mask = nn.Transformer.generate_square_subsequent_mask(L, dtype=z.dtype)
            return self.head(self.transformer.encoder(z, mask=mask))

    return LM()


class TorchTransformer(Competitor):
    """PyTorch: the same model from torch.nn layers (TransformerEncoder, LayerNorm, ...)."""

    name = "torch_nn"

    def __init__(self, cfg: TConfig, params: dict, x: np.ndarray, y: np.ndarray):
        import torch

        self.torch = torch
        self.model = torch_model(torch, cfg)
        if params["head.bias"].dtype == np.float64:
            self.model.double()
        self.model.load_state_dict({k: torch.tensor(v) for k, v in params.items()})
        self.x, self.y, self.V = torch.tensor(x), torch.tensor(y.reshape(-1)), cfg.V
        self.loss = None

    def step(self) -> None:
        """zero_grad, forward, cross-entropy, backward."""
        self.model.zero_grad(set_to_none=True)
        logits = self.model(self.x)
        loss = self.torch.nn.functional.cross_entropy(logits.reshape(-1, self.V), self.y)
        loss.backward()
        self.loss = loss.item()

    def result(self) -> tuple[float, dict]:
        """(loss, grads) by state_dict name."""
        return self.loss, {k: p.grad.numpy() for k, p in self.model.named_parameters()}


class TransformerMatmulFloor(Competitor):
    """Only the matmuls of the forward and backward, same shapes, into preallocated buffers."""

    name = "matmul_floor"

    def __init__(self, cfg: TConfig, params: dict, x: np.ndarray, y: np.ndarray):
        dt = params["head.bias"].dtype
        rng = np.random.default_rng(0)

        def rand(*shape: int) -> np.ndarray:
            """A standard-normal array in the weights' dtype."""
            return rng.standard_normal(shape).astype(dt)

        M, d, ff, V = cfg.T * cfg.N, cfg.d, cfg.ff, cfg.V
        B, T, dh = cfg.N * cfg.heads, cfg.T, cfg.d // cfg.heads
        self.cfg = cfg
        # (x, W, y, dW, dx) of every linear of one encoder layer, then of the head: no buffer
        # is both read and written, so the values stay what they are from step to step
        shapes = [(d, 3 * d), (d, d), (d, ff), (ff, d), (d, V)]
        self.lin = [(rand(M, i), rand(o, i), rand(M, o), rand(o, i), rand(M, i)) for i, o in shapes]
        q, k, v, P = rand(B, T, dh), rand(B, T, dh), rand(B, T, dh), rand(B, T, T)
        self.attn = [  # (a, b, out) of each attention product, forward then backward
            (q, k.transpose(0, 2, 1), rand(B, T, T)),  # S = q k^T
            (P, v, rand(B, T, dh)),  # O = P v
            (q, v.transpose(0, 2, 1), rand(B, T, T)),  # dP = dO v^T
            (P.transpose(0, 2, 1), q, rand(B, T, dh)),  # dv = P^T dO
            (P, k, rand(B, T, dh)),  # dq = dS k
            (P.transpose(0, 2, 1), q, rand(B, T, dh)),  # dk = dS^T q
        ]

    def step(self) -> None:
        """Per layer: four linears (3 matmuls each) and six attention products; the head."""
        for _ in range(self.cfg.layers):
            for x, w, y, dw, dx in self.lin[:4]:
                self._linear(x, w, y, dw, dx)
            for a, b, out in self.attn:
                np.matmul(a, b, out=out)
        self._linear(*self.lin[4])

    @staticmethod
    def _linear(x, w, y, dw, dx) -> None:
        """y = x W^T, and the backward's dW = dy^T x, dx = dy W."""
        np.matmul(x, w.T, out=y)
        np.matmul(y.T, x, out=dw)
        np.matmul(y, w, out=dx)

    def result(self) -> None:
        """The floor computes no model."""
        return None


def _torch_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is not None


BUILDERS = {
    "numpy_ref": NumpyTransformer,
    "tinygrad_seq": TinygradSeqTransformer,
    "torch_nn": TorchTransformer,
    "matmul_floor": TransformerMatmulFloor,
}


def competitors(names: list) -> list:
    """Of the harness's competitor names, those the Transformer has (numpy_ref first)."""
    out = [n for n in names if n in BUILDERS]
    return [n for n in out if n != "torch_nn" or _torch_available()]


def build(name: str, cfg: TConfig, dtype=np.float32, seed: int = 0) -> Competitor:
    """Competitor `name` with the seeded weights and batch of cfg."""
    params = init_params(cfg, dtype, seed)
    x, y = make_batch(cfg, seed + 1)
    return BUILDERS[name](cfg, params, x, y)


def check(name: str, result: tuple, reference: tuple, cfg: TConfig, **tol: float) -> dict:
    """check_agreement over every parameter of the model."""
    names = tuple(reference[1])
    return check_agreement(f"{name} ({cfg.name})", result, reference, names=names, **tol)
