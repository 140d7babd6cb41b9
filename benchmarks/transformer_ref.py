"""The Transformer workload and its hand-written numpy forward and backward.

One training step of a small causal character Transformer language model, the model of
`tinygrad_seq.tasks.CharLM(cell="transformer")`: token embedding + learned position embedding,
`layers` pre-norm encoder layers (causal multi-head self-attention, ReLU feed-forward), a final
LayerNorm, a linear readout to V logits, softmax cross-entropy averaged over the T*N positions.
The parameters carry CharLM's state_dict names, so every competitor loads the same dict.

The backward pass is derived by hand, one block at a time (y = the block's output, dy = dL/dy):

- LayerNorm y = g * xh + b, xh = (x - mean) * r, r = 1 / sqrt(var + eps):
  dg = sum dy * xh, db = sum dy, dxh = dy * g,
  dx = r * (dxh - mean(dxh) - xh * mean(dxh * xh))            (means over the feature axis)
- Linear y = x W^T + b: dW = dy^T x, db = sum dy, dx = dy W
- ReLU: dx = dy * [x > 0]
- attention, per head, S = s q k^T + M (M = -inf above the diagonal), P = softmax(S), O = P v:
  dP = dO v^T, dv = P^T dO, dS = P * (dP - rowsum(dP * P)), dq = s dS k, dk = s dS^T q
- residuals x + f(x) pass dy to both branches; the embeddings' rows collect their dx.

Shapes inside: (N, T, d) activations, (N, H, T, dh) heads; x, y arrive as (T, N) int.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EPS = 1e-5  # LayerNorm's eps, PyTorch's default


@dataclass(frozen=True)
class TConfig:
    """A Transformer shape: layers, d_model d, heads, feed-forward ff, length T, batch N, V."""

    name: str
    layers: int
    d: int
    heads: int
    ff: int
    T: int
    N: int
    V: int = 64

    def describe(self) -> str:
        """'TF (layers=2, d=64, heads=4, ff=256, T=64, N=32, V=64)'."""
        return (
            f"{self.name} (layers={self.layers}, d={self.d}, heads={self.heads}, ff={self.ff}, "
            f"T={self.T}, N={self.N}, V={self.V})"
        )


TRANSFORMER = TConfig("TF", layers=2, d=64, heads=4, ff=256, T=64, N=32)
TRANSFORMER_QUICK = TConfig("TQ", layers=2, d=8, heads=2, ff=16, T=6, N=2, V=11)


def _layer_names(i: int) -> dict:
    """Short name -> CharLM state_dict name for encoder layer i."""
    p = f"transformer.encoder.layers.{i}."
    return {
        "in_w": p + "self_attn.in_proj_weight",
        "in_b": p + "self_attn.in_proj_bias",
        "out_w": p + "self_attn.out_proj.weight",
        "out_b": p + "self_attn.out_proj.bias",
        "ln1_g": p + "norm1.weight",
        "ln1_b": p + "norm1.bias",
        "ln2_g": p + "norm2.weight",
        "ln2_b": p + "norm2.bias",
        "w1": p + "linear1.weight",
        "b1": p + "linear1.bias",
        "w2": p + "linear2.weight",
        "b2": p + "linear2.bias",
    }


def param_shapes(cfg: TConfig) -> dict:
    """CharLM state_dict name -> shape for this configuration (positions up to T)."""
    d, ff = cfg.d, cfg.ff
    shapes = {"embedding.weight": (cfg.V, d), "transformer.pos.weight": (cfg.T, d)}
    for i in range(cfg.layers):
        n = _layer_names(i)
        shapes.update({n["in_w"]: (3 * d, d), n["in_b"]: (3 * d,)})
        shapes.update({n["out_w"]: (d, d), n["out_b"]: (d,)})
        for k in ("ln1_g", "ln1_b", "ln2_g", "ln2_b"):
            shapes[n[k]] = (d,)
        shapes.update({n["w1"]: (ff, d), n["b1"]: (ff,), n["w2"]: (d, ff), n["b2"]: (d,)})
    shapes.update({"transformer.encoder.norm.weight": (d,), "transformer.encoder.norm.bias": (d,)})
    shapes.update({"head.weight": (cfg.V, d), "head.bias": (cfg.V,)})
    return shapes


def init_params(cfg: TConfig, dtype=np.float32, seed: int = 0) -> dict:
    """Random weights: embeddings N(0, 1), matrices U(-1/sqrt(fan_in), ..), norms near 1 / 0."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in param_shapes(cfg).items():
        if name.endswith("embedding.weight") or name.endswith("pos.weight"):
            arr = rng.standard_normal(shape)
        elif "norm" in name:  # perturbed around PyTorch's 1 and 0, so the gradient check sees g
            base = 1.0 if name.endswith("weight") else 0.0
            arr = base + 0.1 * rng.standard_normal(shape)
        else:
            k = 1.0 / np.sqrt(shape[-1] if len(shape) == 2 else cfg.d)
            arr = rng.uniform(-k, k, shape)
        out[name] = np.ascontiguousarray(arr, dtype=dtype)
    return out


# ----------------------------------------------------------------------------- blocks


def _ln(x: np.ndarray, g: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, tuple]:
    """LayerNorm over the last axis -> (y, (xh, r)) for the backward."""
    mu = x.mean(-1, keepdims=True)
    xc = x - mu
    r = 1.0 / np.sqrt((xc * xc).mean(-1, keepdims=True) + EPS)
    xh = xc * r
    return xh * g + b, (xh, r)


def _ln_back(dy: np.ndarray, g: np.ndarray, cache: tuple) -> tuple[np.ndarray, ...]:
    """(dx, dg, db) of LayerNorm from dy and the forward's (xh, r)."""
    xh, r = cache
    dxh = dy * g
    dx = r * (dxh - dxh.mean(-1, keepdims=True) - xh * (dxh * xh).mean(-1, keepdims=True))
    rows = dy.reshape(-1, dy.shape[-1])
    return dx, (rows * xh.reshape(rows.shape)).sum(0), rows.sum(0)


def _linear(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """x (.., i) W^T + b as one 2-D matmul (a 3-D x @ W^T would be one small matmul per row)."""
    return (x.reshape(-1, x.shape[-1]) @ w.T + b).reshape(x.shape[:-1] + (w.shape[0],))


def _linear_back(dy: np.ndarray, x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, ...]:
    """(dx, dW, db) of y = x W^T + b."""
    d2, x2 = dy.reshape(-1, dy.shape[-1]), x.reshape(-1, x.shape[-1])
    return (d2 @ w).reshape(x.shape), d2.T @ x2, d2.sum(0)


def _split_heads(z: np.ndarray, H: int) -> np.ndarray:
    """(N, T, d) -> (N, H, T, d/H)."""
    N, T, d = z.shape
    return z.reshape(N, T, H, d // H).transpose(0, 2, 1, 3)


def _merge_heads(z: np.ndarray) -> np.ndarray:
    """(N, H, T, dh) -> (N, T, H*dh)."""
    N, H, T, dh = z.shape
    return z.transpose(0, 2, 1, 3).reshape(N, T, H * dh)


def _attention(h: np.ndarray, p: dict, n: dict, H: int, mask: np.ndarray) -> tuple:
    """Causal self-attention of h (N, T, d) -> (out (N, T, d), cache)."""
    d = h.shape[-1]
    qkv = _linear(h, p[n["in_w"]], p[n["in_b"]])
    q, k, v = (_split_heads(qkv[..., i * d : (i + 1) * d], H) for i in range(3))
    s = 1.0 / float(np.sqrt(d // H))  # a Python float: a numpy float64 would promote to float64
    S = (q @ k.transpose(0, 1, 3, 2)) * s + mask
    P = np.exp(S - S.max(-1, keepdims=True))
    P /= P.sum(-1, keepdims=True)
    O = _merge_heads(P @ v)
    return _linear(O, p[n["out_w"]], p[n["out_b"]]), (q, k, v, P, O, s)


def _attention_back(dy: np.ndarray, h: np.ndarray, p: dict, n: dict, cache: tuple, g: dict):
    """dh of the attention block from dy; its weight gradients go into g."""
    q, k, v, P, O, s = cache
    dO, g[n["out_w"]], g[n["out_b"]] = _linear_back(dy, O, p[n["out_w"]])
    dO = _split_heads(dO, q.shape[1])
    dP = dO @ v.transpose(0, 1, 3, 2)
    dv = P.transpose(0, 1, 3, 2) @ dO
    dS = P * (dP - (dP * P).sum(-1, keepdims=True))  # softmax's backward (0 where masked)
    dq = (dS @ k) * s
    dk = (dS.transpose(0, 1, 3, 2) @ q) * s
    dqkv = np.concatenate([_merge_heads(dq), _merge_heads(dk), _merge_heads(dv)], axis=-1)
    dh, g[n["in_w"]], g[n["in_b"]] = _linear_back(dqkv, h, p[n["in_w"]])
    return dh


# ----------------------------------------------------------------------------- the step


def _forward(p: dict, x: np.ndarray, cfg: TConfig) -> tuple[np.ndarray, list, tuple]:
    """Embeddings and the encoder layers: x (N, T) -> (residual stream (N, T, d), caches)."""
    T = x.shape[1]
    z = p["embedding.weight"][x] + p["transformer.pos.weight"][:T]
    mask = np.triu(np.full((T, T), -np.inf, dtype=z.dtype), 1)
    caches = []
    for i in range(cfg.layers):
        n = _layer_names(i)
        h1, ln1 = _ln(z, p[n["ln1_g"]], p[n["ln1_b"]])
        a, att = _attention(h1, p, n, cfg.heads, mask)
        z1 = z + a
        h2, ln2 = _ln(z1, p[n["ln2_g"]], p[n["ln2_b"]])
        u = _linear(h2, p[n["w1"]], p[n["b1"]])
        r = np.maximum(u, 0)
        z = z1 + _linear(r, p[n["w2"]], p[n["b2"]])
        caches.append((h1, ln1, att, h2, ln2, u, r))
    return z, caches


def _layer_back(dz: np.ndarray, p: dict, n: dict, cache: tuple, g: dict) -> np.ndarray:
    """dL/d(layer input) from dL/d(layer output); the layer's gradients go into g."""
    h1, ln1, att, h2, ln2, u, r = cache
    dr, g[n["w2"]], g[n["b2"]] = _linear_back(dz, r, p[n["w2"]])
    du = dr * (u > 0)
    dh2, g[n["w1"]], g[n["b1"]] = _linear_back(du, h2, p[n["w1"]])
    dx, g[n["ln2_g"]], g[n["ln2_b"]] = _ln_back(dh2, p[n["ln2_g"]], ln2)
    dz1 = dz + dx  # the residual: z1 feeds both the feed-forward branch and the sum
    dh1 = _attention_back(dz1, h1, p, n, att, g)
    dx, g[n["ln1_g"]], g[n["ln1_b"]] = _ln_back(dh1, p[n["ln1_g"]], ln1)
    return dz1 + dx


def train_step(params: dict, x: np.ndarray, y: np.ndarray, cfg: TConfig) -> tuple[float, dict]:
    """x, y (T, N) int -> (mean cross-entropy, {state_dict name: gradient}), all by hand."""
    p, xb, yb = params, x.T, y.T.reshape(-1)  # batch first inside
    z, caches = _forward(p, xb, cfg)
    hf, lnf = _ln(z, p["transformer.encoder.norm.weight"], p["transformer.encoder.norm.bias"])
    logits = _linear(hf, p["head.weight"], p["head.bias"]).reshape(-1, cfg.V)
    m = logits.max(-1, keepdims=True)
    logz = m + np.log(np.exp(logits - m).sum(-1, keepdims=True))
    rows = np.arange(len(yb))
    loss = float(np.mean(logz[:, 0] - logits[rows, yb]))
    g: dict = {}
    dlogits = np.exp(logits - logz)  # softmax - onehot, over the number of positions
    dlogits[rows, yb] -= 1
    dlogits /= len(yb)
    dlogits = dlogits.reshape(hf.shape[:2] + (cfg.V,))
    dhf, g["head.weight"], g["head.bias"] = _linear_back(dlogits, hf, p["head.weight"])
    dz, g["transformer.encoder.norm.weight"], g["transformer.encoder.norm.bias"] = _ln_back(
        dhf, p["transformer.encoder.norm.weight"], lnf
    )
    for i in reversed(range(cfg.layers)):
        dz = _layer_back(dz, p, _layer_names(i), caches[i], g)
    demb = np.zeros_like(p["embedding.weight"])
    np.add.at(demb, xb.reshape(-1), dz.reshape(-1, cfg.d))
    dpos = np.zeros_like(p["transformer.pos.weight"])
    dpos[: xb.shape[1]] = dz.sum(0)
    g["embedding.weight"], g["transformer.pos.weight"] = demb, dpos
    return loss, g
