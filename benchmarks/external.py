"""Competitors from other libraries: HIPS autograd and PyTorch (a layer, and a loop of cells).

Imported only when one of them is asked for, so the harness runs without either installed.
"""

from __future__ import annotations

import numpy as np

from .competitors import Competitor

_TORCH_NAMES = {  # our name -> attribute of the torch layer (cells drop the "_l0")
    "w_ih": "weight_ih_l0",
    "w_hh": "weight_hh_l0",
    "b_ih": "bias_ih_l0",
    "b_hh": "bias_hh_l0",
}


# ----------------------------------------------------------------------------- HIPS autograd


def _hips_step(anp, h, c, xt, p: dict, cell: str):
    """One step, written plainly: per-step input and hidden matmuls, then the gates."""
    H = h.shape[1]
    pre = anp.dot(xt, p["w_ih"].T) + p["b_ih"]
    hid = anp.dot(h, p["w_hh"].T) + p["b_hh"]

    def sigmoid(z):
        """1 / (1 + e^-z), the textbook form."""
        return 1 / (1 + anp.exp(-z))

    if cell == "rnn":
        return anp.tanh(pre + hid), None
    if cell == "gru":
        r = sigmoid(pre[:, :H] + hid[:, :H])
        z = sigmoid(pre[:, H : 2 * H] + hid[:, H : 2 * H])
        n = anp.tanh(pre[:, 2 * H :] + r * hid[:, 2 * H :])
        return (1 - z) * n + z * h, None
    gates = pre + hid
    i, f = sigmoid(gates[:, :H]), sigmoid(gates[:, H : 2 * H])
    g, o = anp.tanh(gates[:, 2 * H : 3 * H]), sigmoid(gates[:, 3 * H :])
    c = f * c + i * g
    return o * anp.tanh(c), c


class HipsAutograd(Competitor):
    """HIPS autograd: a straightforward autograd.numpy model, value_and_grad over a dict."""

    name = "hips_autograd"

    def __init__(self, cell: str, params: dict, x: np.ndarray, y: np.ndarray):
        import autograd
        import autograd.numpy as anp

        self.anp, self.cell = anp, cell
        self.params = {k: v.copy() for k, v in params.items()}
        self.x, self.y = x, y.reshape(-1)
        self.value_and_grad = autograd.value_and_grad(self._loss)
        self.out: tuple | None = None

    def _loss(self, p: dict):
        anp, (T, N) = self.anp, self.x.shape
        H = p["w_hh"].shape[1]
        X = p["emb"][self.x]
        h = anp.zeros((N, H), dtype=p["w_hh"].dtype)
        c = h
        hs = []
        for t in range(T):
            h, c = _hips_step(anp, h, c, X[t], p, self.cell)
            hs.append(h)
        logits = anp.dot(anp.stack(hs).reshape(T * N, H), p["w_out"].T) + p["b_out"]
        m = anp.max(logits, axis=1, keepdims=True)
        logp = logits - (anp.log(anp.sum(anp.exp(logits - m), axis=1, keepdims=True)) + m)
        return -anp.mean(logp[np.arange(T * N), self.y])

    def step(self) -> None:
        """value_and_grad of the mean cross-entropy with respect to the parameter dict."""
        self.out = self.value_and_grad(self.params)

    def result(self) -> tuple[float, dict]:
        """(loss, grads) as autograd returned them."""
        loss, grads = self.out
        return float(loss), {k: np.asarray(v) for k, v in grads.items()}


# ----------------------------------------------------------------------------- PyTorch


class _TorchBase(Competitor):
    """Shared: torch Embedding and Linear with our weights, the loss, reading the grads."""

    def __init__(self, cell: str, params: dict, x: np.ndarray, y: np.ndarray):
        import torch

        self.torch = torch
        self.dtype = torch.float64 if params["emb"].dtype == np.float64 else torch.float32
        V, E = params["emb"].shape
        H = params["w_hh"].shape[1]
        self.V, self.H, self.N = V, H, x.shape[1]
        self.emb = torch.nn.Embedding(V, E).to(self.dtype)
        self.out = torch.nn.Linear(H, V).to(self.dtype)
        self.x = torch.from_numpy(x)
        self.y = torch.from_numpy(y.reshape(-1).copy())
        self.named = {"emb": self.emb.weight, "w_out": self.out.weight, "b_out": self.out.bias}
        self.loss = None

    def _load(self, module, params: dict, suffix: str) -> None:
        for ours, theirs in _TORCH_NAMES.items():
            self.named[ours] = getattr(module, theirs.replace("_l0", suffix))
        with self.torch.no_grad():
            for name, p in self.named.items():
                p.copy_(self.torch.from_numpy(params[name]))

    def _hidden(self, xe):
        raise NotImplementedError

    def step(self) -> None:
        """zero_grad (set to None), forward, F.cross_entropy, backward."""
        for p in self.named.values():
            p.grad = None
        logits = self.out(self._hidden(self.emb(self.x)))
        loss = self.torch.nn.functional.cross_entropy(logits.reshape(-1, self.V), self.y)
        loss.backward()
        self.loss = loss.item()  # the graph is dropped here, inside the timed step

    def result(self) -> tuple[float, dict]:
        """(loss, grads) as numpy arrays."""
        grads = {k: p.grad.detach().numpy() for k, p in self.named.items()}
        return self.loss, grads


class TorchLayer(_TorchBase):
    """PyTorch's torch.nn.LSTM / GRU / RNN layer (its C++ loop over time)."""

    name = "torch_nn"

    def __init__(self, cell: str, params: dict, x: np.ndarray, y: np.ndarray):
        super().__init__(cell, params, x, y)
        layer = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}[cell]
        E = params["emb"].shape[1]
        self.rnn = getattr(self.torch.nn, layer)(E, self.H).to(self.dtype)
        self._load(self.rnn, params, "_l0")

    def _hidden(self, xe):
        return self.rnn(xe)[0]


class TorchCellLoop(_TorchBase):
    """A Python loop over torch.nn.LSTMCell / GRUCell / RNNCell, one call per time step."""

    name = "torch_cell_loop"

    def __init__(self, cell: str, params: dict, x: np.ndarray, y: np.ndarray):
        super().__init__(cell, params, x, y)
        layer = {"lstm": "LSTMCell", "gru": "GRUCell", "rnn": "RNNCell"}[cell]
        E = params["emb"].shape[1]
        self.cell = cell
        self.rnn = getattr(self.torch.nn, layer)(E, self.H).to(self.dtype)
        self._load(self.rnn, params, "")

    def _hidden(self, xe):
        h = self.torch.zeros(self.N, self.H, dtype=self.dtype)
        c = h
        hs = []
        for t in range(xe.shape[0]):
            if self.cell == "lstm":
                h, c = self.rnn(xe[t], (h, c))
            else:
                h = self.rnn(xe[t], h)
            hs.append(h)
        return self.torch.stack(hs)
