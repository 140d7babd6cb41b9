"""Figures of what happens over time: gradient flow, gate activations, attention, training curves.

Backpropagation through time multiplies the gradient by one Jacobian per step, so in a vanilla
RNN ||dL/dh_t|| usually shrinks geometrically as t moves away from the loss (the vanishing
gradient), while an LSTM's cell state, updated additively through the forget gate, can carry
it much further. `grad_flow` reads those norms from a layer run with `retain_states=True`;
`plot_grad_flow` puts several models in one log-scale figure so the difference is visible.

matplotlib comes from the `plot` extra and is imported only inside these functions. Figures
are built with matplotlib's object API on the Agg canvas: nothing is shown, no global pyplot
state is touched, and each function returns its Figure (and saves it when given a path).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..autograd import no_grad

_PLOT_HINT = (
    "tinygrad_seq.viz plots need matplotlib: pip install tinygrad_seq[plot] "
    "(or pip install matplotlib)"
)


def _figure(figsize: tuple[float, float]) -> Any:
    """A matplotlib Figure on the Agg canvas (no window, no pyplot state)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as e:
        raise ImportError(_PLOT_HINT) from e
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _finish(fig: Any, path: str | os.PathLike | None) -> Any:
    """Save fig to path (format from the suffix, written atomically) and return it."""
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        try:
            fig.savefig(tmp, format=path.suffix.lstrip(".").lower() or "png", dpi=120)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return fig


# ----------------------------------------------------------------------------- gradient flow


def grad_flow(layer: Any) -> dict[str, dict[str, np.ndarray]]:
    """Layer (or model) run with retain_states=True, after backward -> {'l0': {'h': (T,), ...}}.

    For every layer and direction ('l0', 'l0_reverse', ...) the norm of dL/dh_t (and dL/dc_t
    for an LSTM) at every time step t, over the whole batch. A model containing several
    recurrent layers gives keys prefixed with their names ('encoder.l0').
    """
    sources = _state_sources(layer)
    flows: dict[str, dict[str, np.ndarray]] = {}
    for prefix, states in sources:
        for key, entry in states.items():
            flows[prefix + key] = {kind: _norms(seq) for kind, seq in entry.items()}
    if all(np.isnan(a).all() for f in flows.values() for a in f.values()):
        raise ValueError(
            "grad_flow: the retained states have no gradients yet; call loss.backward() on a "
            "loss computed from this forward pass first"
        )
    return flows


def _state_sources(layer: Any) -> list[tuple[str, dict]]:
    """[(name prefix, layer.states)] for the layer itself or every recurrent layer inside."""
    if getattr(layer, "states", None):
        return [("", layer.states)]
    found = []
    if hasattr(layer, "named_modules"):
        for name, mod in layer.named_modules():
            if getattr(mod, "states", None):
                found.append((f"{name}." if name else "", mod.states))
    if not found:
        raise ValueError(
            f"grad_flow: {type(layer).__name__} has no retained states; create the layer with "
            "retain_states=True (e.g. nn.LSTM(..., retain_states=True)), run it forward, then "
            "call loss.backward()"
        )
    return found


def _norms(seq: Sequence) -> np.ndarray:
    """||grad|| of each Tensor in seq (NaN where no gradient arrived)."""
    out = np.full(len(seq), np.nan)
    for t, s in enumerate(seq):
        if s is not None and s.grad is not None:
            out[t] = float(np.linalg.norm(s.grad._data.astype(np.float64)))
    return out


def _as_flows(obj: Any, labels: Sequence[str] | None) -> dict[str, dict]:
    """A layer, a flow, a list of them, or a dict label -> either -> {label: flow}."""
    if _is_flow(obj) or not isinstance(obj, (Mapping, list, tuple)):
        obj = [obj]
    if isinstance(obj, Mapping):
        items = list(obj.items())
    else:
        names = list(labels) if labels is not None else [f"model {i}" for i in range(len(obj))]
        if len(names) != len(obj):
            raise ValueError(f"plot_grad_flow: {len(obj)} models but {len(names)} labels")
        items = list(zip(names, obj))
    return {str(k): (v if _is_flow(v) else grad_flow(v)) for k, v in items}


def _is_flow(obj: Any) -> bool:
    return (
        isinstance(obj, Mapping)
        and len(obj) > 0
        and all(isinstance(v, Mapping) and "h" in v for v in obj.values())
    )


def plot_grad_flow(
    flows_or_layers: Any,
    labels: Sequence[str] | None = None,
    path: str | os.PathLike | None = None,
    title: str = "Gradient flow through time",
) -> Any:
    """Layer(s)/flow(s) or dict label -> layer/flow -> Figure of ||dL/dh_t|| over t, log scale.

    One solid line per model and layer/direction for h; dashed in the same colour for an
    LSTM's c. Saved to path (png/svg/pdf by suffix) when given.
    """
    models = _as_flows(flows_or_layers, labels)
    fig = _figure((7.5, 4.2))
    ax = fig.add_subplot()
    colors = iter(_palette(sum(len(f) for f in models.values())))
    for label, flow in models.items():
        for key, norms in flow.items():
            color = next(colors)
            name = label if len(flow) == 1 else f"{label} {key}"
            ax.semilogy(norms["h"], color=color, lw=2, label=f"{name}: ||dL/dh_t||")
            if "c" in norms:
                ax.semilogy(norms["c"], color=color, lw=1.3, ls="--", label=f"{name}: ||dL/dc_t||")
    ax.set_xlabel("time step t")
    ax.set_ylabel("gradient norm (log scale)")
    ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, frameon=False)
    return _finish(fig, path)


def _palette(n: int) -> list:
    base = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf"]
    return [base[i % len(base)] for i in range(max(n, 1))]


# ----------------------------------------------------------------------------- gates


def lstm_gate_activations(cell_or_layer: Any, x: Any) -> dict[str, np.ndarray]:
    """LSTMCell or LSTM (layer 0) and one sequence x (T, H_in) -> {'i','f','g','o'}: (T, H).

    Runs the cell's equations in numpy under no_grad with the module's own weights, starting
    from zero states, and returns each gate's activation at every step (i, f, o in (0, 1),
    g in (-1, 1)).
    """
    w_ih, w_hh, b = _lstm_weights(cell_or_layer)
    x = np.asarray(getattr(x, "data", x), dtype=np.float64)
    if x.ndim == 3 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 2 or x.shape[1] != w_ih.shape[1]:
        raise ValueError(
            f"lstm_gate_activations: x must be one sequence of shape (T, {w_ih.shape[1]}), "
            f"got {x.shape}"
        )
    H = w_hh.shape[0] // 4
    w_hr = _projection(cell_or_layer)  # LSTM(proj_size=P): h = W_hr (o tanh c), (P,)
    h, c = np.zeros(w_hh.shape[1]), np.zeros(H)
    out: dict[str, list] = {k: [] for k in "ifgo"}
    for x_t in x:
        z = w_ih @ x_t + w_hh @ h + b
        i, f, o = (1 / (1 + np.exp(-z[k * H : (k + 1) * H])) for k in (0, 1, 3))
        g = np.tanh(z[2 * H : 3 * H])
        c = f * c + i * g
        h = o * np.tanh(c) if w_hr is None else w_hr @ (o * np.tanh(c))
        for k, v in zip("ifgo", (i, f, g, o)):
            out[k].append(v)
    return {k: np.array(v) for k, v in out.items()}


_GATE_NAMES = {"i": "input i", "f": "forget f", "g": "cell g", "o": "output o"}


@no_grad()
def _projection(m: Any) -> np.ndarray | None:
    """W_hr (P, H) of an LSTM layer 0 with proj_size, float64; None without a projection."""
    if not getattr(m, "proj_size", 0):
        return None
    return m.weight_hr_l0._data.astype(np.float64)


@no_grad()
def _lstm_weights(m: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(W_ih (4H, in), W_hh (4H, H), b (4H,)) of an LSTMCell or an LSTM's layer 0, float64."""
    if getattr(m, "mode", None) != "LSTM":
        raise TypeError(
            f"lstm_gate_activations: expected an nn.LSTMCell or nn.LSTM, got {type(m).__name__}"
        )
    sfx = "" if hasattr(m, "weight_ih") else "_l0"
    w_ih, w_hh = getattr(m, "weight_ih" + sfx), getattr(m, "weight_hh" + sfx)
    b_ih, b_hh = getattr(m, "bias_ih" + sfx), getattr(m, "bias_hh" + sfx)
    b = np.zeros(w_ih.shape[0]) if b_ih is None else b_ih._data + b_hh._data
    return w_ih._data.astype(np.float64), w_hh._data.astype(np.float64), b.astype(np.float64)


def plot_gates(
    gates: Mapping[str, Any], path: str | os.PathLike | None = None, title: str = "LSTM gates"
) -> Any:
    """Dict name -> (T, H) activations (e.g. lstm_gate_activations) -> Figure of heatmaps.

    One panel per gate, hidden unit on the y axis and time step on the x axis; gates in (0, 1)
    use a sequential colour map, gates with negative values a diverging one over (-1, 1).
    """
    if not gates:
        raise ValueError("plot_gates: no gates given")
    arrays = {k: np.asarray(getattr(v, "data", v), dtype=np.float64) for k, v in gates.items()}
    for k, a in arrays.items():
        if a.ndim != 2:
            raise ValueError(f"plot_gates: gate {k!r} must be (T, H), got shape {a.shape}")
    fig = _figure((7.5, 1.3 + 1.1 * len(arrays)))
    axes = fig.subplots(len(arrays), 1, sharex=True, squeeze=False)[:, 0]
    for ax, (name, a) in zip(axes, arrays.items()):
        signed = a.min() < 0
        im = ax.imshow(
            a.T,
            aspect="auto",
            interpolation="nearest",
            cmap="RdBu_r" if signed else "viridis",
            vmin=-1.0 if signed else 0.0,
            vmax=1.0,
        )
        ax.set_ylabel(f"{_GATE_NAMES.get(name, name)}\nunit", fontsize=9)
        fig.colorbar(im, ax=ax, pad=0.01, fraction=0.04)
    axes[-1].set_xlabel("time step t")
    axes[0].set_title(title)
    return _finish(fig, path)


# ----------------------------------------------------------------------------- training


def plot_losses(
    losses: Sequence[float],
    val: Sequence[float] | None = None,
    path: str | os.PathLike | None = None,
    title: str = "Training curve",
    xlabel: str = "step",
    ylabel: str = "loss",
) -> Any:
    """Training losses (per step or epoch) and optional validation losses -> Figure."""
    train = np.asarray([float(v) for v in losses])
    if train.size == 0:
        raise ValueError("plot_losses: no losses given")
    fig = _figure((6.5, 3.8))
    ax = fig.add_subplot()
    ax.plot(np.arange(train.size), train, color="#1f77b4", lw=1.6, label="train")
    if val is not None and len(val):
        v = np.asarray([float(x) for x in val])
        xs = np.linspace(0, train.size - 1, v.size) if v.size != train.size else np.arange(v.size)
        ax.plot(xs, v, color="#d62728", lw=1.6, marker="o", ms=3, label="validation")
    positive = train[np.isfinite(train)]
    if positive.size and positive.min() > 0 and positive.max() / positive.min() > 100:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(frameon=False)
    return _finish(fig, path)


# ----------------------------------------------------------------------------- attention


def _token_labels(tokens: Sequence[Any] | None, n: int, what: str) -> list[str]:
    if tokens is None:
        return [str(i) for i in range(n)]
    labels = [str(t) for t in tokens]
    if len(labels) != n:
        raise ValueError(
            f"plot_attention: {len(labels)} {what} tokens for {n} {what} positions of the weights"
        )
    return labels


def plot_attention(
    weights: Any,
    source_tokens: Sequence[Any] | None = None,
    target_tokens: Sequence[Any] | None = None,
    path: str | os.PathLike | None = None,
    title: str = "Attention",
) -> Any:
    """(T, S) attention weights (or (heads, T, S)) -> Figure: a heatmap, one panel per head.

    Row t shows how much output position t (target_tokens[t], y axis) attends each input
    position s (source_tokens[s], x axis), as MultiheadAttention's weights for one example.
    """
    with no_grad():
        a = np.asarray(getattr(weights, "_data", weights), dtype=np.float64)
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3 or 0 in a.shape:
        raise ValueError(
            f"plot_attention: weights must be (T, S) or (heads, T, S), got shape {a.shape}"
        )
    heads, T, S = a.shape
    xs = _token_labels(source_tokens, S, "source")
    ys = _token_labels(target_tokens, T, "target")
    width = min(3.0 + 0.35 * S, 14.0)
    fig = _figure((width * min(heads, 4), 1.6 + 0.35 * T * -(-heads // 4)))
    axes = fig.subplots(-(-heads // 4), min(heads, 4), squeeze=False).ravel()
    for h, ax in enumerate(axes):
        if h >= heads:
            ax.set_axis_off()
            continue
        im = ax.imshow(a[h], cmap="viridis", vmin=0.0, vmax=max(1e-12, float(np.nanmax(a))))
        ax.set_xticks(range(S), xs, rotation=90, fontsize=8)
        ax.set_yticks(range(T), ys, fontsize=8)
        ax.set_xlabel("source")
        ax.set_ylabel("target")
        ax.set_title(title if heads == 1 else f"{title}: head {h}", fontsize=10)
    fig.colorbar(im, ax=list(axes[:heads]), pad=0.01, fraction=0.04)
    return _finish(fig, path)
