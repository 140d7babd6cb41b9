"""Sequence layers RNN, GRU, LSTM: multi-layer, bidirectional, padded batches, PyTorch's API.

A layer unrolls its cell over time, layer by layer and direction by direction. Every step is
recorded in the graph under the scope "l{k}[_reverse]" / "t={step}", so drawings and error
messages can say where in the unrolled network an op sits. With `lengths`, a sequence's state
stops changing after its last real step (`where(t < length, new, old)`) and its outputs there
are zero, which equals PyTorch's pack_padded_sequence route, gradients included.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import functional as F
from .. import fused, ops
from ..autograd import scope
from ..kernels import gc_paused
from ..tensor import Tensor, cat, stack, where
from .module import Module
from .recurrent import (
    GATES,
    check_recurrent_input,
    gru_step,
    gru_step_split,
    lstm_step,
    part,
    rnn_step,
    row,
    uniform_parameter,
)


def _weight_t(w: Tensor) -> Tensor:
    """W^T (in, out) of a weight (out, in) in C order, the fast layout for h @ W^T.

    The copy watches w: changing w in place before backward raises, as in PyTorch's layers.
    """
    wt = w.T
    return wt if wt.is_contiguous() else ops.Contiguous.apply(wt, watch=True)


class RNNBase(Module):
    """Shared machinery of RNN, GRU and LSTM: parameters, checks, the unrolled loop."""

    MODE = ""  # "RNN", "GRU" or "LSTM": set by each layer class

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        retain_states: bool = False,
        fused: bool = False,
    ):
        super().__init__()
        name = mode = self.MODE
        for arg, v in (
            ("input_size", input_size),
            ("hidden_size", hidden_size),
            ("num_layers", num_layers),
        ):
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise ValueError(f"{name}: {arg} must be a positive int, got {v!r}")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"{name}: dropout must be in [0, 1), got {dropout}")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional = float(dropout), bidirectional
        self.retain_states = retain_states
        self.fused = bool(fused)  # one hand-derived op per step (tinygrad_seq.fused)
        self.states: dict[str, dict[str, list[Tensor]]] = {}
        G, H, D = GATES[mode], hidden_size, 2 if bidirectional else 1
        k = 1.0 / math.sqrt(hidden_size)
        for layer in range(num_layers):
            in_size = input_size if layer == 0 else D * H
            for sfx in self._suffixes():
                self.register_parameter(
                    f"weight_ih_l{layer}{sfx}", uniform_parameter((G * H, in_size), k)
                )
                self.register_parameter(
                    f"weight_hh_l{layer}{sfx}", uniform_parameter((G * H, H), k)
                )
                b_ih = uniform_parameter((G * H,), k) if bias else None
                b_hh = uniform_parameter((G * H,), k) if bias else None
                self.register_parameter(f"bias_ih_l{layer}{sfx}", b_ih)
                self.register_parameter(f"bias_hh_l{layer}{sfx}", b_hh)

    def _suffixes(self) -> tuple[str, ...]:
        return ("", "_reverse") if self.bidirectional else ("",)

    @property
    def all_weights(self) -> list[list[Tensor]]:
        """[w_ih, w_hh, b_ih, b_hh] per layer and direction (biases left out when bias=False)."""
        out = []
        for layer in range(self.num_layers):
            for sfx in self._suffixes():
                names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if self.bias else [])
                out.append([getattr(self, f"{n}_l{layer}{sfx}") for n in names])
        return out

    def flatten_parameters(self) -> None:
        """No-op, for scripts written for PyTorch's cuDNN layers."""

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        for arg, default in (
            ("fused", False),
            ("bias", True),
            ("batch_first", False),
            ("dropout", 0.0),
            ("bidirectional", False),
        ):
            if getattr(self, arg) != default:
                s += f", {arg}={getattr(self, arg)}"
        return s

    # ------------------------------------------------------------------ checks
    def _check_input(self, x: Any) -> tuple[Tensor, bool]:
        name = type(self).__name__
        layout = "(N, L, H_in)" if self.batch_first else "(L, N, H_in)"
        check_recurrent_input(
            name, x, (2, 3), f"{layout} or (L, H_in) unbatched", self.weight_ih_l0
        )
        batched = x.ndim == 3
        if not batched:
            x = x.unsqueeze(1)
        elif self.batch_first:
            x = x.transpose(0, 1)
        return x, batched

    def _check_state(self, s: Any, label: str, N: int, batched: bool, dtype: Any) -> Tensor:
        D = 2 if self.bidirectional else 1
        want = (
            (D * self.num_layers, N, self.hidden_size)
            if batched
            else (D * self.num_layers, self.hidden_size)
        )
        if s is None:
            return Tensor._make(
                np.zeros((D * self.num_layers, N, self.hidden_size), dtype=dtype), False, None
            )
        if not isinstance(s, Tensor):
            raise TypeError(
                f"{type(self).__name__}: {label} must be a Tensor, got {type(s).__name__}"
            )
        if tuple(s.shape) != want:
            raise ValueError(f"{type(self).__name__}: {label} has shape {s.shape}, expected {want}")
        return s if batched else s.unsqueeze(1)

    def _check_lengths(self, lengths: Any, L: int, N: int) -> np.ndarray | None:
        if lengths is None:
            return None
        name = type(self).__name__
        arr = np.asarray(lengths._data if isinstance(lengths, Tensor) else lengths)
        if arr.ndim != 1 or arr.shape[0] != N:
            raise ValueError(
                f"{name}: lengths must have one entry per sequence ({N}), got shape {arr.shape}"
            )
        if arr.dtype.kind not in "iu":
            raise TypeError(f"{name}: lengths must be integers, got dtype {arr.dtype}")
        for i, n in enumerate(arr):
            if n > L:
                raise ValueError(
                    f"{name}: lengths[{i}] = {n} is longer than the sequence ({L} steps)"
                )
            if n < 1:
                raise ValueError(f"{name}: lengths[{i}] = {n}; every sequence needs a step")
        return None if (arr == L).all() else arr.astype(np.int64)

    # ------------------------------------------------------------------ forward
    def forward(self, input: Tensor, hx: Any = None, lengths: Any = None) -> tuple:
        """input (L, N, H_in) [batch_first: (N, L, H_in)] -> (output (L, N, D*H), h_n)."""
        x, batched = self._check_input(input)
        L, N = x.shape[0], x.shape[1]
        if self.mode == "LSTM":
            h0, c0 = (None, None) if hx is None else self._split_lstm_hx(hx)
            c0 = self._check_state(c0, "c_0", N, batched, x.dtype)
        else:
            h0, c0 = hx, None
        h0 = self._check_state(h0, "h_0", N, batched, x.dtype)
        lens = self._check_lengths(lengths, L, N)
        masks = (
            None
            if lens is None
            else [Tensor._make((t < lens)[:, None], False, None) for t in range(L)]
        )
        self.states = {}
        finals_h, finals_c = [], []
        D = 2 if self.bidirectional else 1
        for layer in range(self.num_layers):
            outs = []
            for d, sfx in enumerate(self._suffixes()):
                idx = layer * D + d
                c_init = None if c0 is None else c0[idx]
                with scope(f"l{layer}{sfx}"), gc_paused():
                    out, h_n, c_n = self._run_direction(x, h0[idx], c_init, layer, sfx, masks)
                outs.append(out)
                finals_h.append(h_n)
                finals_c.append(c_n)
            x = outs[0] if D == 1 else cat(outs, dim=2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, training=True)
        return self._pack_outputs(x, finals_h, finals_c, batched)

    def _split_lstm_hx(self, hx: Any) -> tuple:
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise TypeError("LSTM: hx must be a tuple (h_0, c_0)")
        return hx[0], hx[1]

    def _pack_outputs(self, x: Tensor, hs: list, cs: list, batched: bool) -> tuple:
        h_n = stack(hs, dim=0)
        if batched and self.batch_first:
            x = x.transpose(0, 1)
        if not batched:
            x, h_n = x.squeeze(1), h_n.squeeze(1)
        if self.mode != "LSTM":
            return x, h_n
        c_n = stack(cs, dim=0)
        return x, (h_n, c_n if batched else c_n.squeeze(1))

    def _run_direction(
        self, x: Tensor, h: Tensor, c: Tensor | None, layer: int, sfx: str, masks: list | None
    ) -> tuple:
        """Unroll one layer in one direction over x (L, N, in): -> (L, N, H), h_n, c_n."""
        L = x.shape[0]
        w_ih = getattr(self, f"weight_ih_l{layer}{sfx}")
        w_hh = getattr(self, f"weight_hh_l{layer}{sfx}")
        b_ih = getattr(self, f"bias_ih_l{layer}{sfx}")
        b_hh = getattr(self, f"bias_hh_l{layer}{sfx}")
        xs, weights = self._prepare_sequence(x, w_ih, w_hh, b_ih, b_hh)
        steps = range(L - 1, -1, -1) if sfx else range(L)
        outputs: list = [None] * L
        hs, cs = [], []
        for t in steps:
            with scope(f"t={t}"):
                h_new, c_new = self._cell_step(xs, t, h, c, weights)
                if masks is not None:
                    h_new = where(masks[t], h_new, h)
                    c_new = None if c is None else where(masks[t], c_new, c)
                    outputs[t] = where(masks[t], h_new, 0.0)
                else:
                    outputs[t] = h_new
            h, c = h_new, c_new
            if self.retain_states:
                hs.append(h)
                cs.append(c)
        if self.retain_states:
            self._keep_states(layer, sfx, hs, cs)
        return stack(outputs, dim=0), h, c

    def _prepare_sequence(
        self, x: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None, b_hh: Tensor | None
    ) -> tuple[list, tuple]:
        """-> ([xw (L, N, G*H)], (W_hh^T, b_hh)): all steps' input projections in one matmul."""
        bias = None if b_ih is None else b_ih + b_hh
        # W_hh^T copied once per sequence: h @ W_hh^T runs faster in C order
        return [F.linear(x, w_ih, bias)], (_weight_t(w_hh), b_hh)

    def _cell_step(self, xs: list, t: int, h: Tensor, c: Tensor | None, weights: tuple) -> tuple:
        """One time step t: xs are _prepare_sequence's projections (L, N, .) -> (h', c')."""
        raise NotImplementedError  # pragma: no cover - each layer class defines its step

    def _keep_states(self, layer: int, sfx: str, hs: list, cs: list) -> None:
        """Store per-step states in time order, each retaining its grad (total dL/dh_t)."""
        if sfx:
            hs, cs = hs[::-1], cs[::-1]
        entry = {"h": hs}
        if self.mode == "LSTM":
            entry["c"] = cs
        for seq in entry.values():
            for s in seq:
                if s.requires_grad:
                    s.retain_grad()
        self.states[f"l{layer}{sfx}"] = entry


class RNN(RNNBase):
    """Elman RNN over a sequence: (L, N, H_in) -> output (L, N, D*H), h_n (D*layers, N, H)."""

    MODE = "RNN"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        retain_states: bool = False,
        fused: bool = False,
    ):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            retain_states,
            fused,
        )
        self.nonlinearity = nonlinearity

    def extra_repr(self) -> str:
        return super().extra_repr() + (
            ", nonlinearity='relu'" if self.nonlinearity == "relu" else ""
        )

    def _cell_step(self, xs, t, h, c, weights):
        relu = self.nonlinearity == "relu"
        if self.fused:
            return fused.RNNStep.apply(row(xs[0], t), h, weights[0], relu=relu), None
        return rnn_step(xs[0], h, weights[0], relu, t), None


class LSTM(RNNBase):
    """LSTM over a sequence: -> output (L, N, D*H), (h_n, c_n) each (D*layers, N, H)."""

    MODE = "LSTM"

    def _cell_step(self, xs, t, h, c, weights):
        if self.fused:
            hc = fused.LSTMStep.apply(row(xs[0], t), h, c, weights[0])
            H = self.hidden_size
            return part(hc, 0, H), part(hc, H, 2 * H)
        return lstm_step(xs[0], h, c, weights[0], t)


class GRU(RNNBase):
    """GRU over a sequence: -> output (L, N, D*H), h_n (D*layers, N, H); reset_after as Keras."""

    MODE = "GRU"

    def __init__(self, *args: Any, reset_after: bool = True, **kwargs: Any):
        """Same arguments as LSTM; reset_after=False is the course's GRU (no fused form)."""
        super().__init__(*args, **kwargs)
        if self.fused and not reset_after:
            raise ValueError("GRU: fused=True implements PyTorch's GRU (reset_after=True) only")
        self.reset_after = reset_after

    def extra_repr(self) -> str:
        return super().extra_repr() + ("" if self.reset_after else ", reset_after=False")

    def _prepare_sequence(self, x, w_ih, w_hh, b_ih, b_hh):
        """-> the projections and weights of one direction (b_hn stays inside r * (...)).

        fused or reset_after=False: ([xw (L, N, 3H) with b_ih], (W_hh^T, b_hh)). Composed
        PyTorch GRU: ([xw_rz (L, N, 2H) with b_ih and b_h{r,z}, xw_n (L, N, H) with b_in],
        (W_h{r,z}^T (H, 2H), W_hn^T (H, H), b_hn)), for gru_step_split, each projection its
        own matmul.
        """
        if self.fused or not self.reset_after:
            whh_t = _weight_t(w_hh)
            return [F.linear(x, w_ih, b_ih)], (whh_t, b_hh)
        H = self.hidden_size
        # two projections rather than slices of one: their gradients need no (L, N, 3H) buffer
        xw_rz = F.linear(x, w_ih[: 2 * H], None if b_ih is None else b_ih[: 2 * H] + b_hh[: 2 * H])
        xw_n = F.linear(x, w_ih[2 * H :], None if b_ih is None else b_ih[2 * H :])
        weights = (
            _weight_t(w_hh[: 2 * H]),
            _weight_t(w_hh[2 * H :]),
            None if b_hh is None else b_hh[2 * H :],
        )
        return [xw_rz, xw_n], weights

    def _cell_step(self, xs, t, h, c, weights):
        if self.fused:
            whh_t, b_hh = weights
            if b_hh is None:
                b_hh = Tensor._make(np.zeros(3 * self.hidden_size, dtype=h.dtype), False, None)
            return fused.GRUStep.apply(row(xs[0], t), h, whh_t, b_hh), None
        if not self.reset_after:
            return gru_step(xs[0][t], h, weights[0], weights[1], False), None
        return gru_step_split(xs[0], xs[1], h, *weights, t), None
