"""Hand-written numpy forward and BPTT of the char-LM training step: the numpy limit.

What makes it fast, and what any numpy engine could at best match:

- every buffer is allocated once, in `NumpyRef.__init__`, and ufuncs write with `out=`;
- the input projection of all T steps is one matmul before the loop, the output projection and
  its gradients are one matmul each after it, and the weight gradients of the recurrence are
  one matmul each after the backward loop (the loop itself does one matmul per step each way);
- the gates of a step come from one fused matmul, `h @ W_hh^T` for all gates together, with
  W_hh^T copied into C order once per step (OpenBLAS multiplies a few rows by a transposed
  view up to 2x slower);
- sigmoid(x) = (1 + tanh(x/2)) / 2 with the 1/2 folded into the sigmoid gates' weight rows, so
  one tanh call covers all gates of a step; the LSTM's gates are kept in the order i, f, o, g
  internally so the sigmoid gates are contiguous (the gradients go back to PyTorch's i, f, g, o);
- backward overwrites saved activations with pre-activation gradients in place, and the
  embedding gradient is one matmul with a (V, T*N) one-hot matrix built once per batch.

Shapes: x, y (T, N) int; params as in common.param_shapes; the loss is the mean over T*N.
"""

from __future__ import annotations

import numpy as np

from .common import GATES, PARAM_NAMES

_N_SIGMOID = {"lstm": 3, "gru": 2, "rnn": 0}  # leading sigmoid gates, in the internal order


class NumpyRef:
    """Workspace for one cell's training step on fixed (T, N) x, y; step() reuses its buffers."""

    def __init__(self, cell: str, params: dict, x: np.ndarray, y: np.ndarray):
        self.cell, self.p = cell, params
        dt = params["emb"].dtype
        T, N = x.shape
        V, E = params["emb"].shape
        H = params["w_hh"].shape[1]
        G = GATES[cell] * H
        self.T, self.N, self.H, self.V, self.G = T, N, H, V, G
        TN = T * N
        self.x_flat, self.y_flat = x.reshape(-1), y.reshape(-1)
        self.rows = np.arange(TN)
        self.onehot = np.zeros((V, TN), dtype=dt)  # embedding gradient = onehot @ dX
        self.onehot[self.x_flat, self.rows] = 1
        # gate order: internal row k is PyTorch's row perm[k] (LSTM i,f,g,o -> i,f,o,g)
        self.perm = None
        if cell == "lstm":
            self.perm = np.r_[0 : 2 * H, 3 * H : 4 * H, 2 * H : 3 * H]
            self.inv_perm = np.argsort(self.perm)
        self.scale = None
        if cell != "rnn":  # 1/2 on sigmoid rows: tanh(x/2) needs only one tanh over all gates
            self.scale = np.ones((G, 1), dtype=dt)
            self.scale[: _N_SIGMOID[cell] * H] = 0.5
        z = np.zeros
        self.X = z((TN, E), dt)  # embedded inputs; reused for dX in backward
        self.Hs = z((T + 1, N, H), dt)  # Hs[0] = h_0 = 0, Hs[t + 1] = h_t
        self.A = None if cell == "rnn" else z((T, N, G), dt)  # activations, then d(pre)
        self.C = z((T + 1, N, H), dt) if cell == "lstm" else None  # cell states, C[0] = 0
        self.TC = z((T, N, H), dt) if cell == "lstm" else None  # tanh(c_t)
        self.HN = z((T, N, H), dt) if cell == "gru" else None  # W_hn h + b_hn, then its grad
        self.P = z((TN, V), dt)  # logits -> probabilities -> dL/dlogits
        self.dH = z((T, N, H), dt)  # dL/dh_t from the output layer (RNN: then d(pre))
        self.m, self.ssum = z((TN, 1), dt), z((TN, 1), dt)
        self.tmp, self.u, self.d = z((N, G), dt), z((N, G), dt), z((N, G), dt)
        self.s1, self.s2, self.dc, self.rec = (z((N, H), dt) for _ in range(4))
        self.W = {k: z(params[k].shape, dt) for k in ("w_ih", "w_hh")}  # internal order
        self.Ws = {k: z(params[k].shape, dt) for k in ("w_ih", "w_hh")}  # ... and scaled
        self.b_s, self.bhh_s = z(G, dt), z(G, dt)
        self.whh_t = z((H, G), dt)  # W_hh^T (scaled) in C order: h @ it is the fast layout
        self.gW = {k: z(params[k].shape, dt) for k in ("w_ih", "w_hh", "b_ih")}  # internal
        self.grads = {k: z(params[k].shape, dt) for k in PARAM_NAMES}

    # ------------------------------------------------------------------ the step
    def step(self) -> tuple[float, dict]:
        """Forward, loss, full BPTT: -> (mean cross-entropy, grads by PARAM_NAMES), reused."""
        self._prepare_weights()
        np.take(self.p["emb"], self.x_flat, axis=0, out=self.X)
        if self.cell == "rnn":
            h2d = self.Hs[1:].reshape(-1, self.H)  # the projection goes straight into Hs[1:]
            np.matmul(self.X, self.p["w_ih"].T, out=h2d)
            h2d += self.b_s
        else:
            a2d = self.A.reshape(-1, self.G)
            np.matmul(self.X, self.Ws["w_ih"].T, out=a2d)
            a2d += self.b_s
        forward, backward = {
            "lstm": (self._lstm_forward, self._lstm_backward),
            "gru": (self._gru_forward, self._gru_backward),
            "rnn": (self._rnn_forward, self._rnn_backward),
        }[self.cell]
        forward()
        loss = self._output_layer()
        backward()
        self._input_grads()
        return loss, self.grads

    def _prepare_weights(self) -> None:
        """Copy weights into the internal gate order and scale the sigmoid rows by 1/2."""
        p, W, Ws = self.p, self.W, self.Ws
        if self.cell == "rnn":
            np.add(p["b_ih"], p["b_hh"], out=self.b_s)
            np.copyto(self.whh_t, p["w_hh"].T)
            return
        for k in ("w_ih", "w_hh"):
            if self.perm is None:
                np.copyto(W[k], p[k])
            else:
                np.take(p[k], self.perm, axis=0, out=W[k])
            np.multiply(W[k], self.scale, out=Ws[k])
        np.copyto(self.whh_t, Ws["w_hh"].T)
        scale = self.scale[:, 0]
        if self.cell == "lstm":  # both biases go into the input projection
            np.add(p["b_ih"], p["b_hh"], out=self.bhh_s)
            np.take(self.bhh_s, self.perm, out=self.b_s)
            self.b_s *= scale
        else:  # GRU: b_hn sits inside r * (W_hn h + b_hn), so b_hh stays in the recurrence
            np.multiply(p["b_ih"], scale, out=self.b_s)
            np.multiply(p["b_hh"], scale, out=self.bhh_s)

    def _output_layer(self) -> float:
        """Logits of all steps in one matmul, softmax cross-entropy, dW_out, db_out and dH."""
        P, TN = self.P, self.T * self.N
        h2d = self.Hs[1:].reshape(TN, self.H)
        np.matmul(h2d, self.p["w_out"].T, out=P)
        P += self.p["b_out"]
        np.max(P, axis=1, keepdims=True, out=self.m)
        P -= self.m  # stable: the largest exponent is e^0
        picked = P[self.rows, self.y_flat]
        np.exp(P, out=P)
        np.sum(P, axis=1, keepdims=True, out=self.ssum)
        log_z = np.log(self.ssum)
        loss = (np.sum(log_z, dtype=np.float64) - np.sum(picked, dtype=np.float64)) / TN
        P /= self.ssum
        P[self.rows, self.y_flat] -= 1  # dL/dlogits = (softmax - onehot(y)) / TN
        P *= 1.0 / TN
        np.matmul(P.T, h2d, out=self.grads["w_out"])
        np.sum(P, axis=0, out=self.grads["b_out"])
        np.matmul(P, self.p["w_out"], out=self.dH.reshape(TN, self.H))
        return float(loss)

    def _input_grads(self) -> None:
        """Weight and bias gradients of the recurrence (one matmul each), dX, d(embedding)."""
        g, gW, H = self.grads, self.gW, self.H
        dpre = (self.dH if self.cell == "rnn" else self.A).reshape(-1, self.G)
        h_prev = self.Hs[:-1].reshape(-1, H)
        np.matmul(dpre.T, self.X, out=gW["w_ih"])
        np.sum(dpre, axis=0, out=gW["b_ih"])
        if self.cell == "gru":  # the n rows of the hidden matmul got r * d(pre_n), kept in HN
            hn2d = self.HN.reshape(-1, H)
            np.matmul(dpre[:, : 2 * H].T, h_prev, out=gW["w_hh"][: 2 * H])
            np.matmul(hn2d.T, h_prev, out=gW["w_hh"][2 * H :])
            g["b_hh"][: 2 * H] = gW["b_ih"][: 2 * H]
            np.sum(hn2d, axis=0, out=g["b_hh"][2 * H :])
        else:
            np.matmul(dpre.T, h_prev, out=gW["w_hh"])
        w_ih = self.p["w_ih"] if self.perm is None else self.W["w_ih"]
        np.matmul(dpre, w_ih, out=self.X)  # dX overwrites X, no longer needed
        np.matmul(self.onehot, self.X, out=g["emb"])
        for k in ("w_ih", "w_hh", "b_ih"):
            if self.perm is None:
                np.copyto(g[k], gW[k])
            else:
                np.take(gW[k], self.inv_perm, axis=0, out=g[k])
        if self.cell != "gru":
            np.copyto(g["b_hh"], g["b_ih"])  # b_ih and b_hh enter as a sum

    # ------------------------------------------------------------------ LSTM
    def _lstm_forward(self) -> None:
        """c_t = f c_{t-1} + i g, h_t = o tanh(c_t), gates (internal order i, f, o, g)."""
        H, S = self.H, 3 * self.H
        whh_t, tmp, s1 = self.whh_t, self.tmp, self.s1
        for t in range(self.T):
            a = self.A[t]
            np.matmul(self.Hs[t], whh_t, out=tmp)
            a += tmp
            np.tanh(a, out=a)
            sig = a[:, :S]  # sigmoid(x) = (1 + tanh(x/2)) / 2, the x/2 is in the weights
            sig *= 0.5
            sig += 0.5
            i, f, o, g = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : S], a[:, S:]
            np.multiply(f, self.C[t], out=self.C[t + 1])
            np.multiply(i, g, out=s1)
            self.C[t + 1] += s1
            np.tanh(self.C[t + 1], out=self.TC[t])
            np.multiply(o, self.TC[t], out=self.Hs[t + 1])

    def _lstm_backward(self) -> None:
        """BPTT: A[t] becomes d(pre-activation) of step t; rec carries dL/dh_{t-1} back."""
        H, S = self.H, 3 * self.H
        u, d, s1, dc, rec = self.u, self.d, self.s1, self.dc, self.rec
        w_hh = self.W["w_hh"]
        dc.fill(0)
        for t in range(self.T - 1, -1, -1):
            a, tc, dh = self.A[t], self.TC[t], self.dH[t]
            if t < self.T - 1:
                dh += rec
            i, f, o, g = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : S], a[:, S:]
            np.subtract(1, a[:, :S], out=d[:, :S])  # sigmoid' = s (1 - s)
            d[:, :S] *= a[:, :S]
            np.multiply(g, g, out=d[:, S:])  # tanh' = 1 - g^2
            np.subtract(1, d[:, S:], out=d[:, S:])
            np.multiply(tc, tc, out=s1)  # dc += dh o (1 - tanh(c)^2)
            np.subtract(1, s1, out=s1)
            s1 *= o
            s1 *= dh
            dc += s1
            np.multiply(dc, g, out=u[:, :H])  # dL/di
            np.multiply(dc, self.C[t], out=u[:, H : 2 * H])  # dL/df
            np.multiply(dh, tc, out=u[:, 2 * H : S])  # dL/do
            np.multiply(dc, i, out=u[:, S:])  # dL/dg
            dc *= f  # dL/dc_{t-1}
            np.multiply(u, d, out=a)
            if t > 0:
                np.matmul(a, w_hh, out=rec)

    # ------------------------------------------------------------------ GRU
    def _gru_forward(self) -> None:
        """r, z = sigmoid(.), n = tanh(xw_n + r (W_hn h + b_hn)), h' = n + z (h - n)."""
        H, R = self.H, 2 * self.H
        whh_t, tmp, s1 = self.whh_t, self.tmp, self.s1
        for t in range(self.T):
            a, h = self.A[t], self.Hs[t]
            np.matmul(h, whh_t, out=tmp)
            tmp += self.bhh_s
            rz = a[:, :R]
            rz += tmp[:, :R]
            np.tanh(rz, out=rz)
            rz *= 0.5
            rz += 0.5
            np.copyto(self.HN[t], tmp[:, R:])
            n = a[:, R:]
            np.multiply(a[:, :H], self.HN[t], out=s1)
            n += s1
            np.tanh(n, out=n)
            np.subtract(h, n, out=s1)
            s1 *= a[:, H:R]
            np.add(n, s1, out=self.Hs[t + 1])

    def _gru_backward(self) -> None:
        """BPTT: A[t] becomes d(input pre-activations), HN[t] d(W_hn h + b_hn)."""
        H, R = self.H, 2 * self.H
        u, d, s1, s2, rec, dhw = self.u, self.d, self.s1, self.s2, self.rec, self.tmp
        for t in range(self.T - 1, -1, -1):
            a, hn, h, dh = self.A[t], self.HN[t], self.Hs[t], self.dH[t]
            if t < self.T - 1:
                dh += rec
            r, z, n = a[:, :H], a[:, H:R], a[:, R:]
            np.subtract(h, n, out=u[:, H:R])  # dL/dz = dh (h - n)
            u[:, H:R] *= dh
            np.subtract(1, z, out=s1)  # dL/dn = dh (1 - z), then times tanh' = 1 - n^2
            s1 *= dh
            np.multiply(n, n, out=s2)
            np.subtract(1, s2, out=s2)
            s1 *= s2
            np.multiply(s1, hn, out=u[:, :H])  # dL/dr = d(pre_n) (W_hn h + b_hn)
            np.multiply(s1, r, out=hn)
            np.copyto(n, s1)
            np.multiply(dh, z, out=s2)  # the direct path h -> h'
            np.subtract(1, a[:, :R], out=d[:, :R])  # sigmoid' = s (1 - s)
            d[:, :R] *= a[:, :R]
            np.multiply(u[:, :R], d[:, :R], out=a[:, :R])
            if t > 0:
                np.copyto(dhw[:, :R], a[:, :R])
                np.copyto(dhw[:, R:], hn)
                np.matmul(dhw, self.p["w_hh"], out=rec)
                rec += s2

    # ------------------------------------------------------------------ RNN
    def _rnn_forward(self) -> None:
        """h_t = tanh(x_t W_ih^T + b + h_{t-1} W_hh^T); Hs[1:] already holds the projections."""
        whh_t, tmp = self.whh_t, self.tmp
        for t in range(self.T):
            np.matmul(self.Hs[t], whh_t, out=tmp)
            h = self.Hs[t + 1]
            h += tmp
            np.tanh(h, out=h)

    def _rnn_backward(self) -> None:
        """BPTT: dH[t] becomes d(pre-activation) of step t."""
        s1, rec, w_hh = self.s1, self.rec, self.p["w_hh"]
        for t in range(self.T - 1, -1, -1):
            dh, h = self.dH[t], self.Hs[t + 1]
            if t < self.T - 1:
                dh += rec
            np.multiply(h, h, out=s1)
            np.subtract(1, s1, out=s1)
            dh *= s1
            if t > 0:
                np.matmul(dh, w_hh, out=rec)


def train_step(cell: str, params: dict, x: np.ndarray, y: np.ndarray) -> tuple[float, dict]:
    """One training step with a fresh workspace: -> (loss, grads), grads owned by the caller."""
    return NumpyRef(cell, params, x, y).step()
